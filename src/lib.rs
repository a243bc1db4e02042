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

/// The generated client: every operation of the curated spec, its request
/// and response types (`raw::types`), and the transport seam.
pub use sentinelone_generated as raw;

pub use sentinelone_generated::CsvList;

/// Everything needed to call operations: the client and its per-tag traits.
pub mod prelude {
    pub use sentinelone_generated::prelude::*;
}
