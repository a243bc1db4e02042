//! `.call()`: send any operation and get its typed result, with errors that
//! always name the operation.

use std::future::Future;

use sentinelone_generated::Operation;

use crate::Error;

/// `.call()` on every operation builder.
///
/// ```no_run
/// use sentinelone::prelude::*;
///
/// # async fn demo(client: &sentinelone::Client) -> Result<(), sentinelone::Error> {
/// let page = client.list_agents().limit(10).call().await?;
/// println!("{} agents", page.data.unwrap_or_default().len());
/// # Ok(())
/// # }
/// ```
pub trait CallExt: Operation + Sized {
    /// Sends the request; returns the decoded body or an [`Error`] naming
    /// this operation.
    fn call(self) -> impl Future<Output = Result<Self::Output, Error>> + Send {
        async move {
            self.send_operation()
                .await
                .map(|response| response.into_inner())
                .map_err(|e| Error::from_raw(Self::OPERATION_ID, e))
        }
    }
}

impl<O: Operation> CallExt for O {}
