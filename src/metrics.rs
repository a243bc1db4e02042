//! A record of every call the transport ends, for a metrics system.
//!
//! [`crate::ClientBuilder::on_request`] is told, once per call, what the
//! call took: its operation, method and path template, how many times it
//! was sent, the 429s it met, the time it spent waiting (quota slots,
//! Retry-After, backoffs) and its outcome. Nothing in a record carries the
//! token or query values. [`RequestStats`] keeps totals by operation for a
//! program that has no metrics system of its own.
//!
//! ```
//! use sentinelone::metrics::RequestStats;
//!
//! let stats = RequestStats::default();
//! let client = sentinelone::Client::builder()
//!     .console_url("https://usea1.sentinelone.net")
//!     .api_token("token")
//!     .on_request(stats.recorder())
//!     .build()?;
//! // ... calls ...
//! for (operation, totals) in stats.snapshot() {
//!     println!("{operation}: {} calls, {} answered 429", totals.calls, totals.throttled);
//! }
//! # Ok::<(), sentinelone::Error>(())
//! ```
//!
//! Feeding another system takes a closure; with the `metrics` crate, say:
//!
//! ```ignore
//! builder.on_request(|record| {
//!     let op = record.operation;
//!     metrics::counter!("s1_requests", "operation" => op).increment(record.attempts.into());
//!     metrics::counter!("s1_throttled", "operation" => op).increment(record.throttled.into());
//!     metrics::histogram!("s1_wait_seconds", "operation" => op).record(record.waited.as_secs_f64());
//! })
//! ```

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// How a call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestOutcome {
    /// A 2xx answer.
    Success,
    /// The console answered with an error status (see
    /// [`RequestRecord::status`]), after any retries.
    ErrorAnswer,
    /// Refused before anything was sent: a value outside its limits, a
    /// path parameter that would move the path.
    Refused,
    /// The console answered a redirect, which is never followed.
    Redirected,
    /// The call deadline would have passed during a wait.
    Deadline,
    /// No answer: connection failure, timeout, a body over its limit.
    NoAnswer,
}

/// What one call took, told to [`crate::ClientBuilder::on_request`] when
/// it ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRecord {
    /// The operationId (`list_agents`), or `api_request` for
    /// [`crate::Client::api_request`].
    pub operation: &'static str,
    /// The HTTP method.
    pub method: reqwest::Method,
    /// The path template (`/web/api/v2.1/threats/{threat_id}/notes`); for
    /// a request outside the spec, its path without the query.
    pub path: String,
    /// The last answer's status, if there was one.
    pub status: Option<u16>,
    /// How many times the request was sent (0 when refused before).
    pub attempts: u32,
    /// How many answers were 429.
    pub throttled: u32,
    /// Time spent waiting: quota slots, Retry-After, backoffs.
    pub waited: Duration,
    /// Time from the first quota check to the end of the last attempt's
    /// head (bodies are read after).
    pub elapsed: Duration,
    /// How it ended.
    pub outcome: RequestOutcome,
}

impl RequestRecord {
    /// Sends after the first.
    pub fn retries(&self) -> u32 {
        self.attempts.saturating_sub(1)
    }
}

/// A callback told about every call as it ends.
pub type RequestListener = Arc<dyn Fn(&RequestRecord) + Send + Sync>;

/// Totals of one operation's calls.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OperationStats {
    /// Calls ended.
    pub calls: u64,
    /// Requests sent (attempts).
    pub requests: u64,
    /// 429 answers.
    pub throttled: u64,
    /// Sends after the first of a call.
    pub retries: u64,
    /// Calls that did not end in success.
    pub failures: u64,
    /// Time spent waiting.
    pub waited: Duration,
}

impl OperationStats {
    fn add(&mut self, record: &RequestRecord) {
        self.calls += 1;
        self.requests += u64::from(record.attempts);
        self.throttled += u64::from(record.throttled);
        self.retries += u64::from(record.retries());
        if record.outcome != RequestOutcome::Success {
            self.failures += 1;
        }
        self.waited = self.waited.saturating_add(record.waited);
    }
}

/// Totals by operation, shared by its clones: hand
/// [`RequestStats::recorder`] to [`crate::ClientBuilder::on_request`],
/// read [`RequestStats::snapshot`] whenever.
#[derive(Debug, Clone, Default)]
pub struct RequestStats {
    by_operation: Arc<Mutex<BTreeMap<&'static str, OperationStats>>>,
}

impl RequestStats {
    /// Adds one call.
    pub fn record(&self, record: &RequestRecord) {
        let mut totals = self
            .by_operation
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        totals.entry(record.operation).or_default().add(record);
    }

    /// A listener adding every call to these totals.
    pub fn recorder(&self) -> impl Fn(&RequestRecord) + Send + Sync + 'static {
        let stats = self.clone();
        move |record| stats.record(record)
    }

    /// The totals so far, by operation.
    pub fn snapshot(&self) -> BTreeMap<&'static str, OperationStats> {
        self.by_operation
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The totals of every operation together.
    pub fn total(&self) -> OperationStats {
        let totals = self
            .by_operation
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        totals
            .values()
            .fold(OperationStats::default(), |mut sum, s| {
                sum.calls += s.calls;
                sum.requests += s.requests;
                sum.throttled += s.throttled;
                sum.retries += s.retries;
                sum.failures += s.failures;
                sum.waited = sum.waited.saturating_add(s.waited);
                sum
            })
    }
}
