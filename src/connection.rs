//! Checking a console connection (D3 "Test Connection"): is the console
//! reachable, is the token accepted, and when does the token expire.

use secrecy::ExposeSecret;

use crate::prelude::*;
use crate::raw::types::{ApiTokenRequest, ApiTokenRequestData};
use crate::{Client, Error};

/// The connection check, reached from the client with [`Client::connection`].
///
/// ```no_run
/// # fn demo(client: &sentinelone::Client) {
/// let connection = client.connection();
/// # let _ = connection;
/// # }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Connection<'c> {
    client: &'c Client,
}

impl Client {
    /// The connection check: is the console reachable and the token accepted.
    ///
    /// ```no_run
    /// # async fn demo(client: &sentinelone::Client) -> Result<(), sentinelone::Error> {
    /// let report = client.connection().test().await?;
    /// println!("{:?}", report.console_version);
    /// # Ok(())
    /// # }
    /// ```
    pub fn connection(&self) -> Connection<'_> {
        Connection { client: self }
    }
}

impl<'c> Connection<'c> {
    /// Tests the connection: reads the console's system information
    /// (`GET /system/info`), then the token's own details
    /// (`POST /users/api-token-details`, which takes the token in its body).
    ///
    /// Errors:
    /// - a token the console refuses gives [`Error::Api`] with status 401
    ///   (operation `get_system_info`);
    /// - a role that may not read the system information gives status 403;
    /// - a console that cannot be reached gives [`Error::Transport`] or
    ///   [`Error::Timeout`].
    ///
    /// A 403 on the token details alone is not a failure: the report says so in
    /// [`ConnectionReport::token_details_forbidden`] and leaves the expiry
    /// unknown.
    ///
    /// ```no_run
    /// # async fn demo(client: &sentinelone::Client) -> Result<(), sentinelone::Error> {
    /// let report = client.connection().test().await?;
    /// println!(
    ///     "console {:?}, token expires {:?}",
    ///     report.console_version, report.token_expires_at
    /// );
    /// # Ok(())
    /// # }
    /// ```
    pub async fn test(self) -> Result<ConnectionReport, Error> {
        test(self.client).await
    }
}

/// What [`Connection::test`] found out about the console and the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionReport {
    /// The console URL the client talks to.
    pub console_url: String,
    /// The console version (`Z SP1`, ...).
    pub console_version: Option<String>,
    /// The console build.
    pub console_build: Option<String>,
    /// The console release.
    pub console_release: Option<String>,
    /// The console patch level.
    pub console_patch: Option<String>,
    /// The newest agent version the console offers.
    pub latest_agent_version: Option<String>,
    /// When the token was created, as the console wrote it; `None` when
    /// the token details could not be read.
    pub token_created_at: Option<String>,
    /// When the token expires, as the console wrote it; `None` when the
    /// token details could not be read (see [`token_details_forbidden`]).
    ///
    /// [`token_details_forbidden`]: ConnectionReport::token_details_forbidden
    pub token_expires_at: Option<String>,
    /// The token's role may not read its own details (the console answered
    /// 403); the connection itself works.
    pub token_details_forbidden: bool,
}

/// The body of [`Connection::test`].
async fn test(client: &Client) -> Result<ConnectionReport, Error> {
    let info = client
        .get_system_info()
        .call()
        .await?
        .data
        .unwrap_or_default();
    let mut report = ConnectionReport {
        console_url: client.console_url().to_string(),
        console_version: info.version,
        console_build: info.build,
        console_release: info.release,
        console_patch: info.patch,
        latest_agent_version: info.latest_agent_version,
        token_created_at: None,
        token_expires_at: None,
        token_details_forbidden: false,
    };
    let body = ApiTokenRequest {
        data: Some(ApiTokenRequestData {
            api_token: Some(client.api_token().expose_secret().to_string()),
        }),
    };
    match client.get_api_token_details().body(body).call().await {
        Ok(details) => {
            let details = details.data.unwrap_or_default();
            report.token_created_at = details.created_at;
            report.token_expires_at = details.expires_at;
        }
        Err(e) if e.status() == Some(403) => {
            tracing::info!("the token may not read its own details; expiry unknown");
            report.token_details_forbidden = true;
        }
        Err(e) => return Err(e),
    }
    Ok(report)
}
