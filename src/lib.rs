//! A typed client for the SentinelOne Management API v2.1.
//!
//! The raw client is generated from the curated spec in `spec/` (see the
//! `codegen` tool) and re-exported here as [`raw`]. Every operation is a
//! builder on [`raw::Client`], grouped in one extension trait per tag; bring
//! them into scope with [`prelude`]:
//!
//! ```no_run
//! use sentinelone::prelude::*;
//!
//! # async fn demo(client: &sentinelone::raw::Client) -> Result<(), Box<dyn std::error::Error>> {
//! let agents = client
//!     .list_agents()
//!     .computer_name_contains(["web-01"])
//!     .limit(100)
//!     .send()
//!     .await?
//!     .into_inner();
//! for agent in agents.data.unwrap_or_default() {
//!     println!("{:?} {:?}", agent.id, agent.computer_name);
//! }
//! # Ok(())
//! # }
//! ```
//!
//! Array query parameters take a [`CsvList`], sent comma-joined as
//! SentinelOne expects (`ids=1,2`).

mod call;
mod cleanup;
mod client;
mod download;
mod error;
mod extract;
mod limits;
pub mod pagination;
mod poll;
pub mod quota;
mod transport;
pub mod uploads;
mod validate;
mod wait;

// Composite commands: one call each for what takes several API calls,
// waiting and judgement (the D3 SOAR behaviours).
pub mod agents;
pub mod blocking;
pub mod connection;
pub mod dv;
pub mod events;
pub mod exclusions;
pub mod files;
pub mod scripts;
pub mod threats;

#[cfg(feature = "sim")]
pub mod sim;

/// The path every Management API v2.1 operation sits below on a console
/// (`https://console/web/api/v2.1/agents`). The only place the facade spells
/// it; the generated client's paths carry it from `spec/curation.toml`.
pub const API_PREFIX: &str = "/web/api/v2.1";

/// The generated client: every operation of the curated spec, its request
/// and response types (`raw::types`), and the transport seam.
pub use sentinelone_generated as raw;

pub use client::{
    Client, ClientBuilder, DEFAULT_CONNECT_TIMEOUT, DEFAULT_DOWNLOAD_TIMEOUT, DEFAULT_TIMEOUT,
    ENV_API_TOKEN, ENV_CONSOLE_URL,
};
pub use download::{DownloadListener, DownloadProgress, Downloaded};
pub use error::{ApiErrorDetail, Error, OPERATION_HEADER};
pub use limits::{DEFAULT_CALL_DEADLINE, DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_READ_IDLE_TIMEOUT};
pub use poll::Polling;
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
