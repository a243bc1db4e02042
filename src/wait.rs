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
    /// "waiting 43 s for the dv/init-query slot"; a wait under a second in
    /// milliseconds ("waiting 420 ms for the agents slot").
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let wait = wait_text(self.wait);
        match self.reason {
            WaitReason::Quota => write!(f, "waiting {wait} for the {} slot", self.endpoint),
            WaitReason::Throttled => write!(
                f,
                "rate limited on {}; waiting {wait} as asked",
                self.endpoint
            ),
            WaitReason::Retry => write!(f, "retrying {} in {wait}", self.endpoint),
        }
    }
}

/// `420 ms` under a second, `1.5 s` under ten, `43 s` beyond.
fn wait_text(wait: std::time::Duration) -> String {
    let secs = wait.as_secs_f64();
    if secs < 1.0 {
        format!("{} ms", wait.as_millis())
    } else if secs < 10.0 {
        format!("{secs:.1} s")
    } else {
        format!("{secs:.0} s")
    }
}

/// A callback told about every wait.
pub type WaitListener = Arc<dyn Fn(&WaitEvent) + Send + Sync>;

#[cfg(test)]
mod wait_text_tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn short_waits_read_in_milliseconds() {
        let event = |ms: u64, reason| WaitEvent {
            operation: "list_agents",
            endpoint: "agents".into(),
            wait: Duration::from_millis(ms),
            reason,
        };
        assert_eq!(
            event(420, WaitReason::Quota).to_string(),
            "waiting 420 ms for the agents slot"
        );
        assert_eq!(
            event(0, WaitReason::Quota).to_string(),
            "waiting 0 ms for the agents slot"
        );
        assert_eq!(
            event(1500, WaitReason::Retry).to_string(),
            "retrying agents in 1.5 s"
        );
        assert_eq!(
            event(43_000, WaitReason::Throttled).to_string(),
            "rate limited on agents; waiting 43 s as asked"
        );
    }
}
