//! A typed client for the SentinelOne Management API v2.1.
//!
//! Two layers, one client:
//!
//! - **Every operation** of the curated spec is a builder on [`Client`],
//!   named by its operationId, grouped in one extension trait per tag (bring
//!   them into scope with [`prelude`]); `.call()` sends it and returns the
//!   typed body, `.items()` streams a paged list.
//! - **Composite commands** (what takes several calls, waiting and
//!   judgement) are reached through a handler per domain:
//!   `client.threats()`, `client.files()`, `client.dv()`,
//!   `client.scripts()`, `client.agents()`, `client.blocking()`,
//!   `client.exclusions()`, `client.connection()`, `client.detections()`,
//!   `client.imports()`, `client.downloads()`.
//! - **Any other path** of the console: [`Client::api_request`] sends any
//!   method and path with query parameters and a JSON body through the same
//!   transport, and reads the answer typed, as JSON or page by page.
//!
//! ```no_run
//! use sentinelone::prelude::*;
//! use sentinelone::threats::ThreatTarget;
//!
//! # async fn demo() -> Result<(), sentinelone::Error> {
//! let client = sentinelone::Client::from_env()?;
//! let agents = client
//!     .list_agents()
//!     .computer_name_contains(["web-01"])
//!     .limit(100)
//!     .call()
//!     .await?;
//! for agent in agents.data.unwrap_or_default() {
//!     // Each item is typed, or kept as sent when it did not decode.
//!     match agent.into_typed() {
//!         Ok(agent) => println!("{:?} {:?}", agent.id, agent.computer_name),
//!         Err(raw) => eprintln!("{raw}: {}", raw.value),
//!     }
//! }
//! let killed = client.threats().kill(&ThreatTarget::computers(["web-01"])).await?;
//! println!("{} threats killed", killed.affected);
//! # Ok(())
//! # }
//! ```
//!
//! Array query parameters take a [`CsvList`], sent comma-joined as
//! SentinelOne expects (`ids=1,2`). ARCHITECTURE.md in the repository maps
//! the modules and the path of one request.

#[cfg(feature = "operations")]
mod by_name;
mod call;
mod cleanup;
mod client;
mod constraints;
mod download;
mod error;
mod extract;
mod failure;
mod limits;
pub mod metrics;
pub mod pagination;
mod poll;
pub mod quota;
mod redact;
pub mod request;
mod retry;
mod steps;
mod transport;
mod validate;
mod wait;

// Composite commands: one call each for what takes several API calls,
// waiting and judgement (the D3 SOAR behaviours).
pub mod agents;
pub mod blocking;
pub mod connection;
pub mod detections;
pub mod dv;
pub mod exclusions;
pub mod files;
pub mod imports;
pub mod lrq;
pub mod scripts;
pub mod threats;

pub mod vocab;

#[cfg(feature = "sim")]
pub mod sim;

/// The path every Management API v2.1 operation sits below on a console
/// (`https://console/web/api/v2.1/agents`). The only place the facade spells
/// it; the generated client's paths carry it from `spec/curation.toml`.
pub const API_PREFIX: &str = "/web/api/v2.1";

/// The path the Long Running Query API sits below, at the console root
/// (`https://console/sdl/v2/api/queries`), not below [`API_PREFIX`]. Requests
/// below it authenticate with `Authorization: Bearer <token>` (the same
/// token); every other request with `ApiToken <token>`. The transport
/// decides per request, from the path, in one place ([`uses_bearer`]).
pub const SDL_PREFIX: &str = "/sdl/";

/// Whether a request to `path` (from the console root) authenticates with
/// `Bearer` rather than `ApiToken`: the paths below [`SDL_PREFIX`].
///
/// ```
/// assert!(sentinelone::uses_bearer("/sdl/v2/api/queries"));
/// assert!(!sentinelone::uses_bearer("/web/api/v2.1/agents"));
/// assert!(!sentinelone::uses_bearer("/web/api/v2.1/sdl/v2/api/queries"));
/// ```
pub fn uses_bearer(path: &str) -> bool {
    path.starts_with(SDL_PREFIX)
}

/// The generated client: every operation of the curated spec, its request
/// and response types (`raw::types`), and the transport seam.
pub use sentinelone_generated as raw;

pub use client::{
    Client, ClientBuilder, DEFAULT_CONNECT_TIMEOUT, DEFAULT_DOWNLOAD_TIMEOUT, DEFAULT_TIMEOUT,
    ENV_API_TOKEN, ENV_CONSOLE_URL, LINK_REDIRECTS,
};
pub use download::{DownloadListener, DownloadProgress, Downloaded, Downloads};
pub use error::{ApiErrorDetail, Error};
pub use limits::{DEFAULT_CALL_DEADLINE, DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_READ_IDLE_TIMEOUT};
pub use poll::Polling;
pub use request::ApiRequest;
pub use sentinelone_generated::CsvList;
pub use transport::{RetryPolicy, retry_after};
pub use wait::{WaitEvent, WaitListener, WaitReason};

/// Everything needed to call operations: the per-tag traits of the raw
/// client and the pagination extension.
pub mod prelude {
    pub use crate::call::CallExt;
    pub use crate::pagination::PaginateExt;
    pub use sentinelone_generated::prelude::*;
}

/// The README's code, compiled as doc tests so it stays true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
