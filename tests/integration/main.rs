//! The integration tests, as one test binary: linking the generated client
//! once instead of once per file keeps the build small and quick. Each module
//! is one area; `cargo test --test integration <module>::` runs one of them.
//! (`tests/secrets.rs` stays a binary of its own: it installs a process-wide
//! log subscriber.)

mod support;

mod added_operations;
mod agent_actions;
mod bad_input;
mod blocking;
mod cli;
mod connection;
mod constraints;
mod detections;
mod dv;
mod exclusions;
mod files;
mod fixtures_decode;
mod generated_client;
mod hostile_files;
mod hostile_input;
mod hostile_limits;
mod hostile_secrets;
mod imports;
mod lrq;
#[cfg(feature = "operations")]
mod operation_table;
mod pagination;
mod profiles;
mod read_ahead;
mod redis_quota;
mod reliability;
mod request;
mod scripts;
mod sim;
mod threats;
mod tls;
mod tracing_metrics;
mod transport;
mod wire_fidelity;
