//! Waits made visible: every pause the transport takes is reported to a
//! callback (for a progress bar) and as a tracing event.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// Why the transport is waiting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitReason {
    /// For the endpoint's quota slot.
    Quota,
    /// The console answered 429.
    Throttled,
    /// Backing off before a retry.
    Retry,
}

/// One wait, reported before it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitEvent {
    /// The operationId of the request.
    pub operation: &'static str,
    /// The endpoint or quota label (`dv/init-query`).
    pub endpoint: String,
    /// How long the wait will be.
    pub wait: Duration,
    /// Why.
    pub reason: WaitReason,
}

impl fmt::Display for WaitEvent {
    /// "waiting 43 s for the dv/init-query slot"
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.wait.as_secs_f64();
        match self.reason {
            WaitReason::Quota => write!(f, "waiting {secs:.0} s for the {} slot", self.endpoint),
            WaitReason::Throttled => write!(
                f,
                "rate limited on {}; waiting {secs:.0} s as asked",
                self.endpoint
            ),
            WaitReason::Retry => write!(f, "retrying {} in {secs:.1} s", self.endpoint),
        }
    }
}

/// A callback told about every wait.
pub type WaitListener = Arc<dyn Fn(&WaitEvent) + Send + Sync>;
