//! `codegen`: curates SentinelOne's API description into `spec/` and generates
//! the raw client crate (`generated/`) from it with progenitor.
//!
//! Subcommands (see `main.rs`): `import`, `generate`, `check`, `diff`,
//! `index-params`, `fetch-spec`.

pub mod added_fields;
pub mod calls;
pub mod catalog;
pub mod check;
pub mod curation;
pub mod diff;
pub mod fetch;
pub mod generate;
pub mod hoist;
pub mod import;
pub mod index2026;
pub mod lenient;
pub mod naming;
pub mod paging;
pub mod rate_limits;
pub mod schema;
pub mod sends;
pub mod table;
pub mod trim;
pub mod validate;
