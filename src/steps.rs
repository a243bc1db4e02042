//! Spans for the composite commands: a `composite` span around the whole
//! command, a `step` span around each of its steps (preview, act, poll,
//! download), so the requests of a command read as its parts in a trace:
//!
//! ```text
//! composite{name="threats.kill"}:step{name="preview"}:request{operation=list_threats …}
//! ```

use std::future::Future;

use tracing::{Instrument, Span};

/// The span of a whole composite command.
pub(crate) fn composite(name: &str) -> Span {
    tracing::info_span!(target: "sentinelone::composite", "composite", name = %name)
}

/// Runs `work` inside a `step` span named `name`.
pub(crate) async fn step<T>(name: &'static str, work: impl Future<Output = T>) -> T {
    work.instrument(tracing::info_span!(target: "sentinelone::composite", "step", name))
        .await
}
