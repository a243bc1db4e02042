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
//!   `client.imports()`, `client.downloads()`, `client.lrq()`.
//! - **Any other path** of the console: [`Client::api_request`] sends any
//!   method and path with query parameters and a JSON body through the same
//!   transport, and reads the answer typed, as JSON or page by page.
//!
//! The example below is the README's (both are compiled). It needs only
//! `sentinelone` and `tokio` (features `macros` and `rt-multi-thread`, for
//! `#[tokio::main]`): the stream combinators come with [`prelude`], and the
//! crates whose types appear in the API are re-exported ([`chrono`],
//! [`serde_json`], [`request::Method`]).
//!
//! ```no_run
//! use sentinelone::prelude::*;
//! use sentinelone::threats::ThreatTarget;
//!
//! #[tokio::main]
//! async fn main() -> Result<(), sentinelone::Error> {
//!     // S1_CONSOLE_URL and S1_API_TOKEN from the environment.
//!     let client = sentinelone::Client::from_env()?;
//!
//!     // Any operation: a builder named by its operationId, then .call().
//!     let page = client
//!         .list_agents()
//!         .computer_name_contains(["web-01"])
//!         .limit(100)
//!         .call()
//!         .await?;
//!     for agent in page.data.unwrap_or_default() {
//!         // Each item is typed, or kept as sent when it did not decode.
//!         match agent.into_typed() {
//!             Ok(agent) => println!("{:?} {:?}", agent.id, agent.computer_name),
//!             Err(raw) => eprintln!("{raw}: {}", raw.value),
//!         }
//!     }
//!
//!     // Any cursor-paged list, as a stream (1000 items a page; the next page
//!     // is fetched while this one is consumed).
//!     let threats: Vec<_> = client
//!         .list_threats()
//!         .computer_name_contains(["web-01"])
//!         .items()
//!         .try_collect()
//!         .await?;
//!     println!("{} threats on web-01", threats.len());
//!
//!     // A composite command: several calls, waiting and judgement.
//!     let killed = client
//!         .threats()
//!         .kill(&ThreatTarget::computers(["web-01"]))
//!         .await?;
//!     println!("{} threats killed", killed.affected);
//!     Ok(())
//! }
//! ```
//!
//! # Where the operations are documented
//!
//! The operations are generated into the `sentinelone-generated` crate,
//! re-exported here as [`raw`]:
//!
//! - one extension trait per tag of the spec, `raw::Client<Tag>Ext`
//!   ([`raw::ClientAgentsExt`], [`raw::ClientThreatsExt`], ...), whose
//!   methods start an operation (`list_agents`); each method's
//!   documentation gives the HTTP method and path and the operation's rate
//!   limit. [`prelude`] brings every one of them into scope (its page lists
//!   them, method by method), and [`Client`] dereferences to the raw client
//!   they are implemented for;
//! - one builder per operation in [`raw::builder`]
//!   ([`raw::builder::ListAgents`]): a method per parameter, named in snake
//!   case (`computerName__contains` is `computer_name_contains`), then
//!   [`.call()`](prelude::CallExt::call), or
//!   [`.items()`](prelude::PaginateExt::items) and
//!   [`.pages()`](prelude::PaginateExt::pages) for a cursor-paged list;
//! - the request and response types in [`raw::types`].
//!
//! Array query parameters take a [`CsvList`], sent comma-joined as
//! SentinelOne expects (`ids=1,2`). ARCHITECTURE.md in the repository maps
//! the modules and the path of one request.
//!
//! # Feature flags
//!
//! None is on by default; the library alone needs none of them.
//!
//! - `sim`: the simulated console, `sim::SimConsole`: a seeded, stateful
//!   stand-in for a SentinelOne console on a loopback port, for trying the
//!   library without a tenant and for your own tests. Pulls in `httpmock`.
//! - `httpmock`: typed [httpmock](https://docs.rs/httpmock) helpers for
//!   every operation, `raw::mock` (the `httpmock` feature of
//!   `sentinelone-generated`), for tests that check the exact requests sent.
//! - `operations`: the table of every operation and its parameters
//!   (`raw::OPERATIONS`, `raw::operation`), a typed decoder per operation
//!   (`raw::decode_typed`) and `Client::operation_request`, which builds an
//!   operation's request from its parameters by name. Left out, a build
//!   skips that ~25k-line table.
//! - `cli`: the `s1` command line (`cargo install sentinelone --features
//!   cli`); turns on `sim` (for `s1 tour`) and `operations` (for `s1 api`),
//!   and pulls in `clap`, `clap_complete`, `indicatif`, `tracing-subscriber`
//!   and more of `tokio`. A library user does not need it. Turns on
//!   `redis` too (`s1 --redis-url`).
//! - `redis`: [`quota_store::RedisQuotaStore`], quotas counted in Redis so
//!   that every process on one token shares one allowance. Pulls in the
//!   `redis` crate (async, tokio).
//! - `aws-lc-rs`: TLS through aws-lc-rs instead of ring (post-quantum
//!   hybrid key exchange, a FIPS-capable module; builds the aws-lc C
//!   library). See [`raw::install_crypto_provider`].

#![cfg_attr(docsrs, feature(doc_cfg))]

mod ahead;
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
pub mod profile;
pub mod quota;
pub mod quota_store;
mod redact;
#[cfg(feature = "redis")]
mod redis_store;
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
    ENV_API_TOKEN, ENV_CONSOLE_URL, ENV_REDIS_URL, LINK_REDIRECTS,
};
pub use download::{DownloadListener, DownloadProgress, Downloaded, Downloads};
pub use error::{ApiErrorDetail, Error};
pub use limits::{DEFAULT_CALL_DEADLINE, DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_READ_IDLE_TIMEOUT};
pub use poll::Polling;
pub use request::ApiRequest;
pub use sentinelone_generated::CsvList;
pub use transport::{RetryPolicy, retry_after};
pub use wait::{WaitEvent, WaitListener, WaitReason};

/// The date and time crate of the API's times ([`lrq::TimeRange`], typed
/// answers), re-exported so that callers use the same version.
pub use chrono;
/// The JSON crate of the untyped answers ([`ApiRequest::send_value`],
/// kept unknown fields), re-exported so that callers use the same version.
pub use serde_json;

/// Everything needed to call operations: the per-tag traits of the raw
/// client, `.call()`, the pagination extension, and the stream combinators
/// of `futures-util` that the streams of this crate are consumed with
/// ([`StreamExt`](futures_util::StreamExt),
/// [`TryStreamExt`](futures_util::TryStreamExt)).
pub mod prelude {
    pub use crate::call::CallExt;
    pub use crate::pagination::PaginateExt;
    pub use futures_util::{StreamExt, TryStreamExt};
    pub use sentinelone_generated::prelude::*;
}

/// The README's code, compiled as doc tests so it stays true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
