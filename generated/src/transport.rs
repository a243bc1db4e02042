//! The seam between the generated client and whoever executes its requests.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use progenitor_client::{ClientHooks, ClientInfo, OperationInfo};

/// The future a [`Transport`] returns.
pub type TransportFuture<'a> =
    Pin<Box<dyn Future<Output = reqwest::Result<reqwest::Response>> + Send + 'a>>;

/// Executes the generated client's requests. The facade implements it to add
/// rate limiting and retries; [`DirectTransport`] sends requests as they are.
pub trait Transport: Send + Sync + 'static {
    /// Sends `request` with `client`. `info.operation_id` names the operation.
    fn execute<'a>(
        &'a self,
        client: &'a reqwest::Client,
        request: reqwest::Request,
        info: &'a OperationInfo,
    ) -> TransportFuture<'a>;
}

/// Sends each request once, with nothing added.
#[derive(Debug, Default, Clone, Copy)]
pub struct DirectTransport;

impl Transport for DirectTransport {
    fn execute<'a>(
        &'a self,
        client: &'a reqwest::Client,
        request: reqwest::Request,
        _info: &'a OperationInfo,
    ) -> TransportFuture<'a> {
        Box::pin(client.execute(request))
    }
}

/// The generated client's inner value: the transport its requests go through.
#[derive(Clone)]
pub struct Inner {
    transport: Arc<dyn Transport>,
}

impl Inner {
    /// Wraps a transport.
    pub fn new(transport: Arc<dyn Transport>) -> Self {
        Inner { transport }
    }
}

impl Default for Inner {
    fn default() -> Self {
        Inner::new(Arc::new(DirectTransport))
    }
}

impl fmt::Debug for Inner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Inner").finish_non_exhaustive()
    }
}

impl ClientHooks<Inner> for crate::Client {
    async fn exec(
        &self,
        request: reqwest::Request,
        info: &OperationInfo,
    ) -> reqwest::Result<reqwest::Response> {
        self.inner()
            .transport
            .execute(self.client(), request, info)
            .await
    }
}
