//! Long Running Queries (LRQ): PowerQuery tables and log events, the
//! replacement of Deep Visibility's query endpoints (sunset on 2027-02-15).
//!
//! A query runs inside the console: `POST /sdl/v2/api/queries` launches it,
//! `GET /sdl/v2/api/queries/{id}?lastStepSeen=N` reports its steps (and,
//! once every step is done, its data), `DELETE /sdl/v2/api/queries/{id}`
//! removes it. Those paths are at the console root and take
//! `Authorization: Bearer <token>`; the transport picks the scheme from the
//! path ([`crate::uses_bearer`]). The launch answer's
//! `X-Dataset-Query-Forward-Tag` header goes back on every poll and on the
//! delete.
//!
//! [`Lrq::power_query`] returns a typed table ([`PqTable`]),
//! [`Lrq::log_query`] the matching events ([`LogResults`]) and
//! [`Lrq::log_events`] the same events as a stream, page by page; all
//! through
//! [`LrqOptions`]: progress callback, timeout, priority, and a long window
//! cut into slices run at once ([`LrqOptions::slices`]).
//!
//! **No query is left on the console.** The delete is sent after every
//! query: when it succeeded, failed, or ran out of time (the delete is
//! awaited, then [`Error::WaitTimeout`] is returned), and when the caller
//! drops the future (the delete is spawned on the current tokio runtime;
//! [`Client::finish_cleanup`] waits for it). A query the console reports
//! gone (404: [`Error::QueryExpired`]) needs no delete.
//!
//! **Quota.** The console allows about 3 requests a second per token,
//! launches, polls and deletes together, and drops a query about 30 s after
//! its last poll. The quota table ([`crate::quota::Quota::published`]) gives launches
//! one slot a second and polls and deletes two a second of their own, so
//! waiting launches never delay a poll; at most
//! [`crate::quota::LRQ_MAX_RUNNING`] queries per console and token run at
//! once (the others wait before they launch), so every running query is
//! polled well within its 30 s.
//!
//! **Scope** is checked before anything is sent: [`LrqScope::tenant`]
//! (`tenant: true`) or [`LrqScope::accounts`] (`accountIds` with
//! `tenant: false`). Neither, or account ids with `tenant: true`, is
//! refused with [`Error::InvalidInput`] (the console would answer 0 rows
//! for the first, 400 for the second).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use serde_json::{Map, Value};
use tracing::{debug, info, warn};

use crate::prelude::*;
use crate::raw::types;
use crate::{Client, Error, validate};

mod log;
mod run;
mod table;

pub use log::*;
pub use run::*;
pub use table::*;

/// The header the launch answer carries and every poll and delete sends back.
pub const FORWARD_TAG_HEADER: &str = "X-Dataset-Query-Forward-Tag";

/// Most events one LOG query may ask for (the console's cap is about 5000).
pub const MAX_LOG_LIMIT: u32 = 5000;

/// Most slices a long window may be cut into ([`LrqOptions::slices`]).
pub const MAX_SLICES: u32 = 64;

/// The shortest time slice a capped LOG query is split down to, unless
/// told otherwise ([`LrqOptions::min_slice`]).
pub const DEFAULT_MIN_SLICE: Duration = Duration::from_secs(1);

/// How long one composite waits for its queries unless told otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);

/// The pause between two polls of a query unless told otherwise (the
/// console drops a query about 30 s after its last poll).
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(1);

/// The longest pause between two polls [`LrqOptions::poll_interval`] takes.
pub const MAX_POLL_INTERVAL: Duration = Duration::from_secs(10);

/// Which data a query reads (`tenant` and `accountIds` of the launch body).
///
/// Build it with [`LrqScope::tenant`] or [`LrqScope::accounts`]; the fields
/// are public so a scope read from elsewhere can be checked
/// ([`LrqScope::check`]) before anything is sent.
///
/// ```
/// use sentinelone::lrq::LrqScope;
///
/// assert!(LrqScope::tenant().check().is_ok());
/// assert!(LrqScope::accounts(["225494730938493804"]).check().is_ok());
/// let neither = LrqScope { tenant: false, account_ids: vec![] };
/// assert!(neither.check().is_err());
/// let both = LrqScope { tenant: true, account_ids: vec!["225494730938493804".into()] };
/// assert!(both.check().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LrqScope {
    /// Everything the token reaches.
    pub tenant: bool,
    /// These accounts only (with `tenant: false`).
    pub account_ids: Vec<String>,
}

impl LrqScope {
    /// Everything the token reaches (`tenant: true`).
    pub fn tenant() -> Self {
        LrqScope {
            tenant: true,
            account_ids: Vec::new(),
        }
    }

    /// These accounts only (`accountIds`, `tenant: false`).
    pub fn accounts<I, S>(ids: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        LrqScope {
            tenant: false,
            account_ids: ids.into_iter().map(Into::into).collect(),
        }
    }

    /// The scope, when the console would read it as meant: `tenant` alone,
    /// or account ids (SentinelOne ids, trimmed) without `tenant`.
    pub fn check(&self) -> Result<LrqScope, Error> {
        match (self.tenant, self.account_ids.is_empty()) {
            (true, true) => Ok(LrqScope::tenant()),
            (false, false) => Ok(LrqScope {
                tenant: false,
                account_ids: validate::ids("scope.account_ids", &self.account_ids)?,
            }),
            (true, false) => Err(Error::invalid(
                "scope: account ids with tenant: true is refused by the console; use LrqScope::accounts (tenant: false) or LrqScope::tenant()",
            )),
            (false, true) => Err(Error::invalid(
                "scope: neither tenant nor account ids; the console would answer nothing (0 rows) — use LrqScope::tenant() or LrqScope::accounts(ids)",
            )),
        }
    }
}

/// A time window, start inclusive, end exclusive.
///
/// ```
/// use chrono::{TimeDelta, Utc};
/// use sentinelone::lrq::TimeRange;
///
/// let end = Utc::now();
/// let range = TimeRange::new(end - TimeDelta::hours(24), end);
/// assert_eq!(range.slices(4).len(), 4);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimeRange {
    /// First instant of the window.
    pub start: DateTime<Utc>,
    /// First instant after the window.
    pub end: DateTime<Utc>,
}

impl TimeRange {
    /// The window from `start` to `end`.
    pub fn new(start: DateTime<Utc>, end: DateTime<Utc>) -> Self {
        TimeRange { start, end }
    }

    /// The last `span` up to now.
    pub fn last(span: TimeDelta) -> Self {
        let end = Utc::now();
        TimeRange::new(end - span, end)
    }

    /// How long the window is.
    pub fn duration(&self) -> TimeDelta {
        self.end - self.start
    }

    /// `n` (at least 1) consecutive windows covering this one, of equal
    /// length but for the last one; cut on whole milliseconds.
    pub fn slices(&self, n: u32) -> Vec<TimeRange> {
        let n = i64::from(n.max(1));
        let total = self.duration().num_milliseconds();
        let mut out = Vec::new();
        let mut start = self.start;
        for i in 1..=n {
            let end = if i == n {
                self.end
            } else {
                self.start + TimeDelta::milliseconds(total * i / n)
            };
            if end > start {
                out.push(TimeRange::new(start, end));
                start = end;
            }
        }
        out
    }

    /// The two halves, when each is at least `floor` long.
    pub fn halves(&self, floor: Duration) -> Option<(TimeRange, TimeRange)> {
        let floor = TimeDelta::from_std(floor).unwrap_or(TimeDelta::MAX);
        let half = TimeDelta::milliseconds(self.duration().num_milliseconds() / 2);
        if half < floor || half <= TimeDelta::zero() {
            return None;
        }
        let mid = self.start + half;
        Some((
            TimeRange::new(self.start, mid),
            TimeRange::new(mid, self.end),
        ))
    }

    fn check(&self) -> Result<(), Error> {
        if self.start >= self.end {
            return Err(Error::invalid(format!(
                "the time range is empty: start {} is not before end {}",
                self.start, self.end
            )));
        }
        Ok(())
    }

    fn wire(at: DateTime<Utc>) -> String {
        at.to_rfc3339_opts(SecondsFormat::AutoSi, true)
    }
}

/// `queryPriority` of a launch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Priority {
    /// The console's default.
    #[default]
    Low,
    /// Ahead of low-priority queries.
    High,
}

/// What a query has done so far, as told to [`LrqOptions::on_progress`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    /// The query's id.
    pub query_id: String,
    /// The time slice it reads.
    pub range: TimeRange,
    /// Steps done.
    pub steps_completed: i64,
    /// Steps in all (0 until the console knows).
    pub steps_total: i64,
}

/// A callback told about every answer of every query (launch and polls).
pub type ProgressFn = Arc<dyn Fn(&Progress) + Send + Sync>;

/// How a column of per-slice PowerQuery tables is merged
/// ([`LrqOptions::merge`]): numbers by any of the three, TIMESTAMP instants
/// by [`Merge::Min`] and [`Merge::Max`]; other cells keep the first
/// slice's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Merge {
    /// Add the values (counts, sums).
    Sum,
    /// Keep the smallest.
    Min,
    /// Keep the largest.
    Max,
}

/// How the composites run their queries.
///
/// ```
/// use std::time::Duration;
/// use sentinelone::lrq::{LrqOptions, Merge, Priority};
///
/// let options = LrqOptions::default()
///     .timeout(Duration::from_secs(120))
///     .priority(Priority::High)
///     .slices(4)
///     .merge("count", Merge::Sum)
///     .on_progress(|p| println!("{}: {}/{}", p.query_id, p.steps_completed, p.steps_total));
/// assert_eq!(options.slices, 4);
/// ```
#[derive(Clone)]
pub struct LrqOptions {
    /// The most time the whole composite may take (default
    /// [`DEFAULT_TIMEOUT`]); then its queries are deleted and
    /// [`Error::WaitTimeout`] returned.
    pub timeout: Duration,
    /// The pause between two polls of one query (default
    /// [`DEFAULT_POLL_INTERVAL`], at most [`MAX_POLL_INTERVAL`]).
    pub poll_interval: Duration,
    /// `queryPriority`.
    pub priority: Priority,
    /// Cut the window into this many slices, run at once within the token's
    /// quota (default 1). LOG events are merged in timestamp order;
    /// PowerQuery tables as [`LrqOptions::merge`] says.
    pub slices: u32,
    /// For sliced PowerQueries: how to merge each named column; rows that
    /// agree on every other column become one. Without any, the slices'
    /// rows are concatenated.
    pub merge: BTreeMap<String, Merge>,
    /// For LOG queries: the shortest slice a capped slice is split down to
    /// (default [`DEFAULT_MIN_SLICE`]).
    pub min_slice: Duration,
    /// Told about every answer of every query.
    pub progress: Option<ProgressFn>,
}

impl Default for LrqOptions {
    fn default() -> Self {
        LrqOptions {
            timeout: DEFAULT_TIMEOUT,
            poll_interval: DEFAULT_POLL_INTERVAL,
            priority: Priority::Low,
            slices: 1,
            merge: BTreeMap::new(),
            min_slice: DEFAULT_MIN_SLICE,
            progress: None,
        }
    }
}

impl std::fmt::Debug for LrqOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LrqOptions")
            .field("timeout", &self.timeout)
            .field("poll_interval", &self.poll_interval)
            .field("priority", &self.priority)
            .field("slices", &self.slices)
            .field("merge", &self.merge)
            .field("min_slice", &self.min_slice)
            .field("progress", &self.progress.is_some())
            .finish()
    }
}

impl LrqOptions {
    /// Another overall time limit.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Another pause between polls.
    pub fn poll_interval(mut self, pause: Duration) -> Self {
        self.poll_interval = pause;
        self
    }

    /// Another `queryPriority`.
    pub fn priority(mut self, priority: Priority) -> Self {
        self.priority = priority;
        self
    }

    /// Cut the window into `n` slices run at once.
    pub fn slices(mut self, n: u32) -> Self {
        self.slices = n;
        self
    }

    /// Merge column `column` of sliced PowerQuery tables this way.
    pub fn merge(mut self, column: impl Into<String>, how: Merge) -> Self {
        self.merge.insert(column.into(), how);
        self
    }

    /// Another floor for splitting capped LOG slices.
    pub fn min_slice(mut self, floor: Duration) -> Self {
        self.min_slice = floor;
        self
    }

    /// Calls `progress` with every answer of every query.
    pub fn on_progress(mut self, progress: impl Fn(&Progress) + Send + Sync + 'static) -> Self {
        self.progress = Some(Arc::new(progress));
        self
    }

    fn check(&self) -> Result<(), Error> {
        if self.timeout.is_zero() || self.timeout > crate::Polling::MAX_WAIT {
            return Err(Error::invalid(format!(
                "timeout {:?} is out of range: above 0 and at most 30 days",
                self.timeout
            )));
        }
        if self.poll_interval.is_zero() || self.poll_interval > MAX_POLL_INTERVAL {
            return Err(Error::invalid(format!(
                "poll_interval {:?} is out of range: above 0 and at most {MAX_POLL_INTERVAL:?} (the console drops a query 30 s after its last poll)",
                self.poll_interval
            )));
        }
        validate::in_range("slices", self.slices, 1, MAX_SLICES)?;
        if self.min_slice.is_zero() {
            return Err(Error::invalid("min_slice must be above 0"));
        }
        Ok(())
    }
}

/// Long Running Queries, reached from the client with [`Client::lrq`].
///
/// ```no_run
/// use chrono::TimeDelta;
/// use sentinelone::lrq::{LrqOptions, LrqScope, TimeRange};
///
/// # async fn demo(client: &sentinelone::Client) -> Result<(), sentinelone::Error> {
/// let table = client
///     .lrq()
///     .power_query(
///         "dataSource.name='SentinelOne' | group count=count() by event.type",
///         TimeRange::last(TimeDelta::hours(1)),
///         &LrqScope::tenant(),
///         &LrqOptions::default(),
///     )
///     .await?;
/// for row in &table.rows {
///     println!("{row:?}");
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Lrq<'c> {
    client: &'c Client,
}

impl Client {
    /// Long Running Queries: PowerQuery tables and log events (the
    /// replacement of [`Client::dv`]'s queries).
    ///
    /// ```no_run
    /// # fn demo(client: &sentinelone::Client) {
    /// let lrq = client.lrq();
    /// # let _ = lrq;
    /// # }
    /// ```
    pub fn lrq(&self) -> Lrq<'_> {
        Lrq { client: self }
    }
}

/// The launch body of one query (`tenant` and `accountIds` from a checked
/// scope).
fn launch_body(
    query_type: types::LaunchLrqQueryBodyQueryType,
    range: TimeRange,
    scope: &LrqScope,
    priority: Priority,
) -> types::LaunchLrqQueryBody {
    types::LaunchLrqQueryBody {
        account_ids: scope.account_ids.clone(),
        end_time: TimeRange::wire(range.end),
        log: None,
        pq: None,
        query_priority: Some(match priority {
            Priority::Low => types::LaunchLrqQueryBodyQueryPriority::Low,
            Priority::High => types::LaunchLrqQueryBodyQueryPriority::High,
        }),
        query_type,
        start_time: TimeRange::wire(range.start),
        tenant: Some(scope.tenant),
    }
}

/// Rejects an empty or oversized text input.
fn text(name: &str, value: &str, required: bool) -> Result<String, Error> {
    let value = value.trim();
    if required && value.is_empty() {
        return Err(Error::invalid(format!("{name} is required")));
    }
    validate::max_chars(name, value, 100_000)?;
    Ok(value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 4, 21, hour, 0, 0).unwrap()
    }

    #[test]
    fn scopes_are_checked() {
        assert_eq!(LrqScope::tenant().check().unwrap(), LrqScope::tenant());
        let accounts = LrqScope::accounts([" 225494730938493804 "])
            .check()
            .unwrap();
        assert_eq!(accounts.account_ids, vec!["225494730938493804".to_string()]);
        assert!(!accounts.tenant);
        for bad in [
            LrqScope {
                tenant: false,
                account_ids: vec![],
            },
            LrqScope {
                tenant: true,
                account_ids: vec!["1".into()],
            },
            LrqScope::accounts(["not-an-id"]),
        ] {
            assert!(
                matches!(bad.check(), Err(Error::InvalidInput { .. })),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn ranges_slice_and_halve() {
        let range = TimeRange::new(at(0), at(4));
        let slices = range.slices(4);
        assert_eq!(slices.len(), 4);
        assert_eq!(slices[0], TimeRange::new(at(0), at(1)));
        assert_eq!(slices[3].end, at(4));
        let (a, b) = range.halves(Duration::from_secs(1)).unwrap();
        assert_eq!((a.end, b.start), (at(2), at(2)));
        let short = TimeRange::new(at(0), at(0) + TimeDelta::milliseconds(1500));
        assert!(short.halves(Duration::from_secs(1)).is_none());
        assert_eq!(TimeRange::wire(at(0)), "2026-04-21T00:00:00Z");
        assert_eq!(
            TimeRange::wire(at(0) + TimeDelta::milliseconds(500)),
            "2026-04-21T00:00:00.500Z"
        );
    }

    #[test]
    fn options_are_checked() {
        assert!(LrqOptions::default().check().is_ok());
        assert!(LrqOptions::default().slices(0).check().is_err());
        assert!(LrqOptions::default().slices(65).check().is_err());
        assert!(
            LrqOptions::default()
                .poll_interval(Duration::from_secs(40))
                .check()
                .is_err()
        );
        assert!(
            LrqOptions::default()
                .timeout(Duration::ZERO)
                .check()
                .is_err()
        );
    }
}
