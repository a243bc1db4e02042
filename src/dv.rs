//! Deep Visibility in single calls: run a query to its end and read its
//! events ([`query`]), read the events of a query, optionally of one type
//! ([`events`], [`events_by_type`]), list the processes agents started
//! ([`agent_processes`]), and run a Power Query into a table
//! ([`power_query`]).
//!
//! A Deep Visibility query runs inside the console: `dv/init-query` starts
//! it, `dv/query-status` reports its state until it ends, then `dv/events`
//! (or `dv/events/{type}`) hands out its events, page by page, following a
//! cursor. [`query`] does all of this; [`start`], [`wait`] and [`events`]
//! are its steps, for callers who want them apart.
//!
//! **No query is left running.** While a query runs, the value that waits
//! for it holds its id:
//! - a wait that runs out of time cancels the query (`dv/cancel-query`,
//!   awaited) and then fails with [`Error::WaitTimeout`];
//! - a wait the caller abandons (the future dropped by
//!   `tokio::time::timeout`, `select!`, an aborted task) cancels the query
//!   from a task spawned on the current tokio runtime (a program about to
//!   exit gives it time with [`Client::finish_cleanup`]);
//! - a query that finished or failed is not cancelled.
//!
//! Query states are read leniently ([`QueryState`] keeps unknown ones), but
//! only the documented running states keep the wait going: any state that
//! is neither running nor finished ends it with [`Error::JobFailed`] naming
//! the state.
//!
//! The transport already spaces `dv/init-query` (one a minute per token)
//! and `dv/query-status` (one a second); nothing here adds its own rate
//! limiting.

use std::fmt;
use std::future::Future;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::stream::{BoxStream, StreamExt, TryStreamExt};
use progenitor_client::ResponseValue;
use sentinelone_generated::{Operation, Pageable};
use serde::Serialize;
use serde_json::Value;
use tracing::{debug, info, warn};

use crate::poll::{Poll, Polling};
use crate::prelude::*;
use crate::raw::types;
use crate::{Client, Error, pagination, validate};

/// One Deep Visibility event, as the console describes it.
pub type Event = types::DeepVisibilityEventEntityListResponseDataItem;

/// What a Deep Visibility query looks for (`queryType`): `events` or
/// `processState`.
pub use types::DeepVisibilityApiRequestQueryTypeItem as QueryType;

/// A callback told about every status check of a query.
pub type ProgressFn = Arc<dyn Fn(&QueryStatus) + Send + Sync>;

/// How queries are awaited unless told otherwise: a first check after 1 s,
/// pauses growing by half up to 5 s, for at most 10 minutes. (The
/// transport never sends more than one `dv/query-status` a second.)
pub const DEFAULT_POLLING: Polling = Polling {
    first: Duration::from_secs(1),
    growth: 1.5,
    max: Duration::from_secs(5),
    timeout: Duration::from_secs(600),
};

/// The S1QL query [`agent_processes`] runs when given none: every process
/// creation in the time range.
pub const DEFAULT_PROCESS_QUERY: &str = r#"EventType = "Process Creation""#;

/// Most results a Deep Visibility query or Power Query can be asked for.
pub const MAX_LIMIT: u32 = 100_000;

/// Most processes [`agent_processes`] can be asked for.
pub const MAX_PROCESS_LIMIT: u32 = 1000;

/// Events asked for per page (the console's maximum).
const EVENTS_PAGE: u32 = 1000;

/// Retries of an events page answered 409 (results not ready yet, right
/// after the query finished), and the first pause; pauses double.
const CONFLICT_RETRIES: u32 = 4;
const CONFLICT_PAUSE: Duration = Duration::from_millis(250);

// ---------------------------------------------------------------------------
// States and statuses

/// The state of a Deep Visibility query or Power Query, as the console
/// reports it (`responseState`, `status`). Unknown states are kept in
/// [`QueryState::Other`].
///
/// ```
/// use sentinelone::dv::QueryState;
///
/// let state: QueryState = "EVENTS_RUNNING".parse().unwrap();
/// assert!(state.is_running());
/// assert_eq!(QueryState::from("FINISHED"), QueryState::Finished);
/// assert_eq!(QueryState::from("SOMETHING_NEW").as_str(), "SOMETHING_NEW");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum QueryState {
    /// `RUNNING`: still running.
    Running,
    /// `PROCESS_RUNNING`: still running (collecting processes).
    ProcessRunning,
    /// `EVENTS_RUNNING`: still running (collecting events).
    EventsRunning,
    /// `QUERY_RUNNING`: still running.
    QueryRunning,
    /// `PLANNING`: accepted, not started yet.
    Planning,
    /// `FINISHED`: done; the results can be read.
    Finished,
    /// `EMPTY_RESULTS`: done, nothing matched.
    EmptyResults,
    /// `FAILED`: the console could not run the query.
    Failed,
    /// `FAILED_CLIENT`: the query was refused (often its syntax).
    FailedClient,
    /// `QUERY_CANCELLED` (also read from `QUERY_CANCEL`): cancelled.
    Cancelled,
    /// `QUERY_EXPIRED`: its results are gone.
    Expired,
    /// `TIMED_OUT`: the console gave up on it.
    TimedOut,
    /// `QUERY_NOT_FOUND`: the console does not know this query id.
    NotFound,
    /// `ERROR`: the console failed.
    Error,
    /// A state this library does not know, as the console wrote it. It
    /// ends a wait as a failure.
    Other(String),
}

impl QueryState {
    /// Reads a console state (surrounding spaces and case ignored).
    pub fn parse(text: &str) -> Self {
        let text = text.trim();
        match text.to_ascii_uppercase().as_str() {
            "RUNNING" => QueryState::Running,
            "PROCESS_RUNNING" => QueryState::ProcessRunning,
            "EVENTS_RUNNING" => QueryState::EventsRunning,
            "QUERY_RUNNING" => QueryState::QueryRunning,
            "PLANNING" => QueryState::Planning,
            "FINISHED" => QueryState::Finished,
            "EMPTY_RESULTS" => QueryState::EmptyResults,
            "FAILED" => QueryState::Failed,
            "FAILED_CLIENT" => QueryState::FailedClient,
            "QUERY_CANCELLED" | "QUERY_CANCEL" => QueryState::Cancelled,
            "QUERY_EXPIRED" => QueryState::Expired,
            "TIMED_OUT" => QueryState::TimedOut,
            "QUERY_NOT_FOUND" => QueryState::NotFound,
            "ERROR" => QueryState::Error,
            _ => QueryState::Other(text.to_string()),
        }
    }

    /// The console's name of the state.
    pub fn as_str(&self) -> &str {
        match self {
            QueryState::Running => "RUNNING",
            QueryState::ProcessRunning => "PROCESS_RUNNING",
            QueryState::EventsRunning => "EVENTS_RUNNING",
            QueryState::QueryRunning => "QUERY_RUNNING",
            QueryState::Planning => "PLANNING",
            QueryState::Finished => "FINISHED",
            QueryState::EmptyResults => "EMPTY_RESULTS",
            QueryState::Failed => "FAILED",
            QueryState::FailedClient => "FAILED_CLIENT",
            QueryState::Cancelled => "QUERY_CANCELLED",
            QueryState::Expired => "QUERY_EXPIRED",
            QueryState::TimedOut => "TIMED_OUT",
            QueryState::NotFound => "QUERY_NOT_FOUND",
            QueryState::Error => "ERROR",
            QueryState::Other(text) => text,
        }
    }

    /// The query is still on its way: keep waiting.
    pub fn is_running(&self) -> bool {
        matches!(
            self,
            QueryState::Running
                | QueryState::ProcessRunning
                | QueryState::EventsRunning
                | QueryState::QueryRunning
                | QueryState::Planning
        )
    }

    /// The query ended well: its results can be read (there are none for
    /// [`QueryState::EmptyResults`]).
    pub fn has_results(&self) -> bool {
        matches!(self, QueryState::Finished | QueryState::EmptyResults)
    }
}

impl From<&str> for QueryState {
    fn from(text: &str) -> Self {
        QueryState::parse(text)
    }
}

impl FromStr for QueryState {
    type Err = std::convert::Infallible;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Ok(QueryState::parse(text))
    }
}

impl fmt::Display for QueryState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One status check of a query.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct QueryStatus {
    /// The query's id (`q…` for Deep Visibility, `pq…` for Power Query).
    pub query_id: String,
    /// Its state.
    pub state: QueryState,
    /// How far along it is, in percent, when the console said.
    pub progress: Option<i64>,
    /// The console's explanation of a failure, when it gave one.
    pub error: Option<String>,
    /// Warnings about the query, when the console gave some.
    pub warnings: Option<String>,
}

/// Waiting for a query: the polling and the progress callback.
#[derive(Clone)]
struct Watch {
    polling: Polling,
    on_progress: Option<ProgressFn>,
}

impl Default for Watch {
    fn default() -> Self {
        Watch {
            polling: DEFAULT_POLLING,
            on_progress: None,
        }
    }
}

impl Watch {
    /// Tells the tracing subscriber and the callback about a check.
    fn report(&self, status: &QueryStatus) {
        debug!(
            query_id = %status.query_id,
            state = status.state.as_str(),
            progress = ?status.progress,
            "query status"
        );
        if let Some(callback) = &self.on_progress {
            callback(status);
        }
    }
}

impl fmt::Debug for Watch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Watch")
            .field("polling", &self.polling)
            .field("on_progress", &self.on_progress.as_ref().map(|_| ".."))
            .finish()
    }
}

// ---------------------------------------------------------------------------
// Requests

/// What a query covers: the text, the time range, the limit and the scope.
/// Shared by [`DvQuery`] and [`PowerQuery`].
#[derive(Debug, Clone)]
struct QuerySpec {
    query: String,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    limit: Option<u32>,
    account_ids: Vec<String>,
    site_ids: Vec<String>,
}

impl QuerySpec {
    fn new(query: impl Into<String>, from: DateTime<Utc>, to: DateTime<Utc>) -> Self {
        QuerySpec {
            query: query.into(),
            from,
            to,
            limit: None,
            account_ids: Vec::new(),
            site_ids: Vec::new(),
        }
    }

    /// The scope checked and trimmed, or the first thing wrong with it.
    fn checked(&self) -> Result<QuerySpec, Error> {
        let query = validate::required("query", &self.query)?;
        validate::time_range(&self.from, &self.to)?;
        if let Some(limit) = self.limit {
            validate::in_range("limit", limit, 1, MAX_LIMIT)?;
        }
        Ok(QuerySpec {
            query,
            from: self.from,
            to: self.to,
            limit: self.limit,
            account_ids: validate::ids("account_ids", &self.account_ids)?,
            site_ids: validate::ids("site_ids", &self.site_ids)?,
        })
    }

    /// The limit as the API types it (checked: at most [`MAX_LIMIT`]).
    fn api_limit(&self) -> Option<i32> {
        self.limit.map(|n| i32::try_from(n).unwrap_or(i32::MAX))
    }
}

/// A Deep Visibility query (D3 "Query"): S1QL text, a time range, and how
/// to wait for it. Checked when sent: the query must not be blank, `from`
/// must be before `to`, the limit within 1..=100000, ids decimal.
///
/// ```
/// use std::time::Duration;
/// use chrono::{TimeZone, Utc};
/// use sentinelone::Polling;
/// use sentinelone::dv::DvQuery;
///
/// let request = DvQuery::new(
///     r#"ProcessImagePath CONTAINS "svchost.exe""#,
///     Utc.with_ymd_and_hms(2024, 5, 1, 0, 0, 0).unwrap(),
///     Utc.with_ymd_and_hms(2024, 5, 2, 0, 0, 0).unwrap(),
/// )
/// .limit(500)
/// .site_ids(["225494730938493804"])
/// .polling(Polling::default().timeout(Duration::from_secs(300)))
/// .on_progress(|status| println!("{} {:?}%", status.state, status.progress));
/// ```
#[derive(Debug, Clone)]
pub struct DvQuery {
    scope: QuerySpec,
    query_types: Vec<QueryType>,
    verbose: Option<bool>,
    watch: Watch,
}

impl DvQuery {
    /// A query for `query` (S1QL 1.0) over events from `from` to `to`.
    pub fn new(query: impl Into<String>, from: DateTime<Utc>, to: DateTime<Utc>) -> Self {
        DvQuery {
            scope: QuerySpec::new(query, from, to),
            query_types: Vec::new(),
            verbose: None,
            watch: Watch::default(),
        }
    }

    /// At most `limit` events (1..=100000); the console's default when
    /// unset.
    pub fn limit(mut self, limit: u32) -> Self {
        self.scope.limit = Some(limit);
        self
    }

    /// Only these accounts.
    pub fn account_ids<I: IntoIterator<Item = S>, S: Into<String>>(mut self, ids: I) -> Self {
        self.scope.account_ids = ids.into_iter().map(Into::into).collect();
        self
    }

    /// Only these sites.
    pub fn site_ids<I: IntoIterator<Item = S>, S: Into<String>>(mut self, ids: I) -> Self {
        self.scope.site_ids = ids.into_iter().map(Into::into).collect();
        self
    }

    /// What to look for (`queryType`): events, process states, or both.
    pub fn query_types(mut self, types: impl IntoIterator<Item = QueryType>) -> Self {
        self.query_types = types.into_iter().collect();
        self
    }

    /// Ask for verbose results (`isVerbose`; the console's default is
    /// false).
    pub fn verbose(mut self, verbose: bool) -> Self {
        self.verbose = Some(verbose);
        self
    }

    /// How to wait; its `timeout` (D3's "Timeout", counted from the first
    /// status check) is the longest the query may run before it is
    /// cancelled; [`query`] reads the events within it too. Default:
    /// [`DEFAULT_POLLING`].
    pub fn polling(mut self, polling: Polling) -> Self {
        self.watch.polling = polling;
        self
    }

    /// Calls `callback` with every status check (state and progress).
    pub fn on_progress(mut self, callback: impl Fn(&QueryStatus) + Send + Sync + 'static) -> Self {
        self.watch.on_progress = Some(Arc::new(callback));
        self
    }

    /// The `dv/init-query` body, or what is wrong with the request.
    fn body(&self) -> Result<types::DeepVisibilityApiRequest, Error> {
        let scope = self.scope.checked()?;
        self.watch.polling.check()?;
        Ok(types::DeepVisibilityApiRequest {
            limit: scope.api_limit(),
            account_ids: scope.account_ids,
            site_ids: scope.site_ids,
            from_date: scope.from,
            to_date: scope.to,
            query: scope.query,
            query_type: (!self.query_types.is_empty()).then(|| self.query_types.clone()),
            is_verbose: self.verbose,
            time_frame: None,
        })
    }
}

/// What Deep Visibility's events by type (`dv/events/{type}`) can select.
/// The console's names are in lower case (`scheduled_task`); others can be
/// given with [`EventType::Other`].
///
/// ```
/// use sentinelone::dv::EventType;
///
/// assert_eq!(EventType::ScheduledTask.as_str(), "scheduled_task");
/// assert_eq!("Process".parse::<EventType>().unwrap(), EventType::Process);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EventType {
    /// `dns`: DNS requests.
    Dns,
    /// `events`: all events.
    Events,
    /// `file`: file operations.
    File,
    /// `ip`: network connections.
    Ip,
    /// `logins`: logins and logouts.
    Logins,
    /// `process`: processes.
    Process,
    /// `registry`: registry changes.
    Registry,
    /// `scheduled_task`: scheduled tasks.
    ScheduledTask,
    /// `url`: URLs visited.
    Url,
    /// Another type, sent as given.
    Other(String),
}

impl EventType {
    /// The path value.
    pub fn as_str(&self) -> &str {
        match self {
            EventType::Dns => "dns",
            EventType::Events => "events",
            EventType::File => "file",
            EventType::Ip => "ip",
            EventType::Logins => "logins",
            EventType::Process => "process",
            EventType::Registry => "registry",
            EventType::ScheduledTask => "scheduled_task",
            EventType::Url => "url",
            EventType::Other(text) => text,
        }
    }
}

impl FromStr for EventType {
    type Err = std::convert::Infallible;

    /// Reads a type name, ignoring case, spaces around it, and `-`/space
    /// for `_` ("Scheduled Task" is [`EventType::ScheduledTask`]).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        let name = text.to_ascii_lowercase().replace([' ', '-'], "_");
        Ok(match name.as_str() {
            "dns" => EventType::Dns,
            "events" => EventType::Events,
            "file" => EventType::File,
            "ip" => EventType::Ip,
            "logins" => EventType::Logins,
            "process" => EventType::Process,
            "registry" => EventType::Registry,
            "scheduled_task" => EventType::ScheduledTask,
            "url" => EventType::Url,
            _ => EventType::Other(text.to_string()),
        })
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The processes agents started (D3 "Get Agent Process"): a Deep
/// Visibility query whose `process` events are returned.
///
/// Everything is optional: the time range defaults to the 24 hours before
/// the call (an end alone: the 24 hours before it; a start alone: up to
/// now), the query to [`DEFAULT_PROCESS_QUERY`], the limit to 1000
/// (1..=1000).
///
/// ```
/// use sentinelone::dv::AgentProcessQuery;
///
/// let request = AgentProcessQuery::new()
///     .query(r#"ProcessImagePath CONTAINS "windows""#)
///     .limit(10);
/// ```
#[derive(Debug, Clone, Default)]
pub struct AgentProcessQuery {
    start: Option<DateTime<Utc>>,
    end: Option<DateTime<Utc>>,
    query: Option<String>,
    limit: Option<u32>,
    watch: Watch,
}

impl AgentProcessQuery {
    /// Process creations of the last 24 hours, at most 1000.
    pub fn new() -> Self {
        AgentProcessQuery::default()
    }

    /// Only processes from `start` on.
    pub fn start(mut self, start: DateTime<Utc>) -> Self {
        self.start = Some(start);
        self
    }

    /// Only processes before `end`.
    pub fn end(mut self, end: DateTime<Utc>) -> Self {
        self.end = Some(end);
        self
    }

    /// The S1QL query to run instead of [`DEFAULT_PROCESS_QUERY`].
    pub fn query(mut self, query: impl Into<String>) -> Self {
        self.query = Some(query.into());
        self
    }

    /// At most `limit` processes (1..=1000).
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = Some(limit);
        self
    }

    /// How to wait for the query (default: [`DEFAULT_POLLING`]).
    pub fn polling(mut self, polling: Polling) -> Self {
        self.watch.polling = polling;
        self
    }

    /// Calls `callback` with every status check of the query.
    pub fn on_progress(mut self, callback: impl Fn(&QueryStatus) + Send + Sync + 'static) -> Self {
        self.watch.on_progress = Some(Arc::new(callback));
        self
    }

    /// The Deep Visibility query this stands for, with `now` as the
    /// default end.
    fn dv_query(&self, now: DateTime<Utc>) -> Result<DvQuery, Error> {
        let limit = validate::in_range(
            "limit",
            self.limit.unwrap_or(MAX_PROCESS_LIMIT),
            1,
            MAX_PROCESS_LIMIT,
        )?;
        let query = match &self.query {
            Some(query) => validate::required("query", query)?,
            None => DEFAULT_PROCESS_QUERY.to_string(),
        };
        let end = self.end.unwrap_or(now);
        let start = match self.start {
            Some(start) => start,
            None => end
                .checked_sub_signed(chrono::TimeDelta::hours(24))
                .ok_or_else(|| Error::invalid(format!("end {end} has no day before it")))?,
        };
        let mut request = DvQuery::new(query, start, end).limit(limit);
        request.watch = self.watch.clone();
        Ok(request)
    }
}

/// A Power Query (D3 "Create Power Query" and "Ping Power Query"): a
/// PowerQuery pipeline over a time range, answered with a table. Checked
/// when sent like [`DvQuery`] (limit 1..=100000).
///
/// ```
/// use chrono::{TimeDelta, Utc};
/// use sentinelone::dv::PowerQuery;
///
/// let now = Utc::now();
/// let request = PowerQuery::new(
///     "event.time = * | columns eventTime = event.time, agentUuid = agent.uuid",
///     now - TimeDelta::days(1),
///     now,
/// )
/// .limit(1000);
/// ```
#[derive(Debug, Clone)]
pub struct PowerQuery {
    scope: QuerySpec,
    watch: Watch,
}

impl PowerQuery {
    /// A Power Query for `query` over events from `from` to `to`.
    pub fn new(query: impl Into<String>, from: DateTime<Utc>, to: DateTime<Utc>) -> Self {
        PowerQuery {
            scope: QuerySpec::new(query, from, to),
            watch: Watch::default(),
        }
    }

    /// At most `limit` rows (1..=100000); the console's default when unset.
    pub fn limit(mut self, limit: u32) -> Self {
        self.scope.limit = Some(limit);
        self
    }

    /// Only these accounts.
    pub fn account_ids<I: IntoIterator<Item = S>, S: Into<String>>(mut self, ids: I) -> Self {
        self.scope.account_ids = ids.into_iter().map(Into::into).collect();
        self
    }

    /// Only these sites.
    pub fn site_ids<I: IntoIterator<Item = S>, S: Into<String>>(mut self, ids: I) -> Self {
        self.scope.site_ids = ids.into_iter().map(Into::into).collect();
        self
    }

    /// How to ping; its `timeout` (counted from the creation's answer) is
    /// the longest the query may run before it is cancelled. Default:
    /// [`DEFAULT_POLLING`].
    pub fn polling(mut self, polling: Polling) -> Self {
        self.watch.polling = polling;
        self
    }

    /// Calls `callback` with the creation's answer and every ping.
    pub fn on_progress(mut self, callback: impl Fn(&QueryStatus) + Send + Sync + 'static) -> Self {
        self.watch.on_progress = Some(Arc::new(callback));
        self
    }

    /// The `dv/events/pq` body, or what is wrong with the request.
    fn body(&self) -> Result<types::DeepVisibilityPqRequest, Error> {
        let scope = self.scope.checked()?;
        self.watch.polling.check()?;
        Ok(types::DeepVisibilityPqRequest {
            limit: scope.api_limit(),
            account_ids: scope.account_ids,
            site_ids: scope.site_ids,
            from_date: scope.from,
            to_date: scope.to,
            query: scope.query,
        })
    }
}

// ---------------------------------------------------------------------------
// Results

/// A Deep Visibility query that ended well, and its events.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct DvResults {
    /// The last status: [`QueryState::Finished`] or
    /// [`QueryState::EmptyResults`], with the query id and any warnings.
    pub status: QueryStatus,
    /// The events, in the console's order, at most the limit asked for.
    pub events: Vec<Event>,
}

/// One column of a [`PowerQueryTable`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// Its name (`eventTime`).
    pub name: String,
    /// Its type as the console names it (`STRING`, `NUMBER`, `UNKNOWN`…).
    pub kind: String,
}

/// The result of a Power Query: columns, and rows of values in column
/// order.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct PowerQueryTable {
    /// The Power Query's id.
    pub query_id: String,
    /// The columns.
    pub columns: Vec<Column>,
    /// The rows; each has a value per column.
    pub rows: Vec<Vec<Value>>,
    /// The console's advice about the query (a row limit reached…).
    pub recommendations: Vec<String>,
}

impl PowerQueryTable {
    /// The position of the column called `name`.
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }

    /// The value of column `name` in row `row`.
    pub fn value(&self, row: usize, name: &str) -> Option<&Value> {
        let column = self.column_index(name)?;
        self.rows.get(row)?.get(column)
    }
}

// ---------------------------------------------------------------------------
// No orphan queries

/// Holds the id of a running query; cancels it unless disarmed. Dropped
/// while armed, it cancels from a task on the current tokio runtime, tracked
/// by the client ([`Client::finish_cleanup`]).
struct CancelGuard {
    client: Client,
    id: String,
    armed: bool,
}

impl CancelGuard {
    fn new(client: &Client, id: String) -> Self {
        CancelGuard {
            client: client.clone(),
            id,
            armed: true,
        }
    }

    /// The query ended by itself: nothing to cancel.
    fn disarm(&mut self) {
        self.armed = false;
    }

    /// Cancels the query now (once).
    async fn cancel(&mut self) {
        if std::mem::replace(&mut self.armed, false) {
            cancel_query(&self.client, &self.id).await;
        }
    }
}

impl Drop for CancelGuard {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let client = self.client.clone();
        let id = self.id.clone();
        info!(query_id = %id, "query abandoned while running; cancelling it");
        if !self
            .client
            .spawn_cleanup(async move { cancel_query(&client, &id).await })
        {
            warn!(
                query_id = %self.id,
                "query abandoned outside a tokio runtime; it could not be cancelled"
            );
        }
    }
}

/// `dv/cancel-query`; a failure is logged, not returned (the caller is
/// already failing or gone).
async fn cancel_query(client: &Client, id: &str) {
    let body = types::DeepVisibilityQueryIdRequest {
        query_id: id.to_string(),
    };
    match client.cancel_dv_query().body(body).call().await {
        Ok(_) => info!(query_id = id, "query cancelled"),
        Err(e) => warn!(query_id = id, error = %e, "could not cancel the query"),
    }
}

// ---------------------------------------------------------------------------
// Deep Visibility queries

/// A started Deep Visibility query (from [`start`]). Dropping it cancels
/// the query; [`wait`] for it, or [`RunningQuery::detach`] to keep it
/// running.
pub struct RunningQuery {
    guard: CancelGuard,
    watch: Watch,
}

impl RunningQuery {
    /// The query id.
    pub fn id(&self) -> &str {
        &self.guard.id
    }

    /// Lets the query run on its own and returns its id; it will not be
    /// cancelled.
    pub fn detach(mut self) -> String {
        self.guard.disarm();
        std::mem::take(&mut self.guard.id)
    }
}

impl fmt::Debug for RunningQuery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunningQuery")
            .field("id", &self.guard.id)
            .field("watch", &self.watch)
            .finish()
    }
}

/// Starts a Deep Visibility query (`dv/init-query`), after checking it.
///
/// ```no_run
/// use chrono::{TimeDelta, Utc};
/// use sentinelone::dv::{self, DvQuery};
///
/// # async fn demo(client: &sentinelone::Client) -> Result<(), sentinelone::Error> {
/// let now = Utc::now();
/// let running = dv::start(client, &DvQuery::new("AgentName IS NOT EMPTY", now - TimeDelta::hours(1), now)).await?;
/// let finished = dv::wait(client, running).await?;
/// println!("{} ended {}", finished.query_id, finished.state);
/// # Ok(())
/// # }
/// ```
pub async fn start(client: &Client, request: &DvQuery) -> Result<RunningQuery, Error> {
    let body = request.body()?;
    let response = client.init_dv_query().body(body).call().await?;
    let id = response
        .data
        .as_ref()
        .and_then(|d| d.query_id.as_deref())
        .filter(|id| !id.trim().is_empty())
        .map(str::to_string)
        .ok_or_else(|| missing("init_dv_query", &response, "data.queryId"))?;
    info!(query_id = %id, "Deep Visibility query started");
    Ok(RunningQuery {
        guard: CancelGuard::new(client, id),
        watch: request.watch.clone(),
    })
}

/// Waits for a started query to end (`dv/query-status`, spaced by the
/// request's polling), reporting every check to its progress callback.
///
/// Returns the last status when the query finished (`FINISHED`,
/// `EMPTY_RESULTS`). A failure state, or a state this library does not
/// know, gives [`Error::JobFailed`] naming it, with the console's
/// `responseError`. When the polling's timeout passes, the query is
/// cancelled and [`Error::WaitTimeout`] returned; when the status cannot be
/// read, the query is cancelled and that error returned.
///
/// See [`start`] for an example.
pub async fn wait(client: &Client, query: RunningQuery) -> Result<QueryStatus, Error> {
    let RunningQuery { mut guard, watch } = query;
    let id = guard.id.clone();
    let job = format!("Deep Visibility query {id}");
    let id = id.as_str();
    let (status, ()) = settle(&mut guard, &watch, &job, None, move || async move {
        Ok((dv_status(client, id).await?, ()))
    })
    .await?;
    Ok(status)
}

/// Runs a Deep Visibility query to its end and reads its events (D3
/// "Query"): starts it, waits for it, then follows the events' cursor up
/// to the limit. A query with `EMPTY_RESULTS` gives no events without
/// asking for them; an events page answered 409 right after the query
/// finished is asked for again a few times.
///
/// ```no_run
/// use std::time::Duration;
/// use chrono::{TimeDelta, Utc};
/// use sentinelone::Polling;
/// use sentinelone::dv::{self, DvQuery};
///
/// # async fn demo(client: &sentinelone::Client) -> Result<(), sentinelone::Error> {
/// let now = Utc::now();
/// let request = DvQuery::new(r#"ProcessImagePath CONTAINS "svchost.exe""#, now - TimeDelta::days(1), now)
///     .limit(100)
///     .polling(Polling::default().timeout(Duration::from_secs(300)));
/// let results = dv::query(client, &request).await?;
/// for event in &results.events {
///     println!("{:?} {:?}", event.agent_name, event.process_name);
/// }
/// # Ok(())
/// # }
/// ```
pub async fn query(client: &Client, request: &DvQuery) -> Result<DvResults, Error> {
    run_and_collect(client, request, None).await
}

/// Runs `request` to its end and collects its events (of `event_type`),
/// all within the polling's timeout: the wait and the reading of the
/// events share one clock. When it runs out while events are read, the
/// query is cancelled and [`Error::WaitTimeout`] returned.
async fn run_and_collect(
    client: &Client,
    request: &DvQuery,
    event_type: Option<EventType>,
) -> Result<DvResults, Error> {
    let running = start(client, request).await?;
    let clock = Poll::start(request.watch.polling)?;
    let id = running.id().to_string();
    let status = wait(client, running).await?;
    let mut guard = CancelGuard::new(client, id.clone());
    let collect = collect_events(client, &status, event_type, request.scope.limit);
    let waiting_for = || format!("the events of Deep Visibility query {id}");
    match clock.within(waiting_for, collect).await {
        Ok(events) => {
            guard.disarm();
            Ok(DvResults { status, events })
        }
        Err(e) => {
            info!(query_id = %id, error = %e, "could not read the events; cancelling");
            guard.cancel().await;
            Err(e)
        }
    }
}

/// The events of a query, all of them or those of one type
/// (`dv/events` or `dv/events/{type}`), as a lazy (boxed, `Unpin`) stream
/// that follows the cursor 1000 events at a time. Pages answered 409 (results not ready
/// yet) are asked for again a few times.
///
/// ```no_run
/// use futures_util::TryStreamExt;
/// use sentinelone::dv::{self, EventType};
///
/// # async fn demo(client: &sentinelone::Client) -> Result<(), sentinelone::Error> {
/// let mut files = dv::events(client, "q1a2b3c4", Some(EventType::File))?;
/// while let Some(event) = files.try_next().await? {
///     println!("{:?}", event.file_full_name);
/// }
/// # Ok(())
/// # }
/// ```
pub fn events<'a>(
    client: &'a Client,
    query_id: &str,
    event_type: Option<EventType>,
) -> Result<BoxStream<'a, Result<Event, Error>>, Error> {
    event_stream(client, query_id, event_type, EVENTS_PAGE)
}

/// Every event of one type of a query (D3 "Get Events by Query ID and
/// Type"), collected from `dv/events/{type}`.
///
/// ```no_run
/// use sentinelone::dv::{self, EventType};
///
/// # async fn demo(client: &sentinelone::Client) -> Result<(), sentinelone::Error> {
/// let dns = dv::events_by_type(client, "q1a2b3c4", EventType::Dns).await?;
/// println!("{} DNS requests", dns.len());
/// # Ok(())
/// # }
/// ```
pub async fn events_by_type(
    client: &Client,
    query_id: &str,
    event_type: EventType,
) -> Result<Vec<Event>, Error> {
    event_stream(client, query_id, Some(event_type), EVENTS_PAGE)?
        .try_collect()
        .await
}

/// The processes agents started (D3 "Get Agent Process"): runs the Deep
/// Visibility query of `request` like [`query`] and returns its `process`
/// events (`dv/events/process`), at most the limit.
///
/// ```no_run
/// use sentinelone::dv::{self, AgentProcessQuery};
///
/// # async fn demo(client: &sentinelone::Client) -> Result<(), sentinelone::Error> {
/// let processes = dv::agent_processes(client, &AgentProcessQuery::new().limit(50)).await?;
/// for p in &processes.events {
///     println!("{:?} {:?} {:?}", p.agent_name, p.pid, p.process_name);
/// }
/// # Ok(())
/// # }
/// ```
pub async fn agent_processes(
    client: &Client,
    request: &AgentProcessQuery,
) -> Result<DvResults, Error> {
    let request = request.dv_query(Utc::now())?;
    run_and_collect(client, &request, Some(EventType::Process)).await
}

/// One `dv/query-status` check.
async fn dv_status(client: &Client, id: &str) -> Result<QueryStatus, Error> {
    let response = client.get_dv_query_status().query_id(id).call().await?;
    let Some(data) = response.data.as_ref() else {
        return Err(missing("get_dv_query_status", &response, "data"));
    };
    let Some(state) = data.response_state.as_deref() else {
        return Err(missing(
            "get_dv_query_status",
            &response,
            "data.responseState",
        ));
    };
    Ok(QueryStatus {
        query_id: id.to_string(),
        state: QueryState::parse(state),
        progress: data.progress_status,
        error: data.response_error.clone(),
        warnings: data.warnings.clone(),
    })
}

/// Checks a query until it ends: `first` is a status already known (the
/// answer that created it), `check` asks again. Running states wait per
/// the polling; the end disarms `guard`; a timeout or an error cancels the
/// query. `T` is what a check carries besides the status (a Power Query's
/// table).
async fn settle<T, F, Fut>(
    guard: &mut CancelGuard,
    watch: &Watch,
    job: &str,
    first: Option<(QueryStatus, T)>,
    mut check: F,
) -> Result<(QueryStatus, T), Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(QueryStatus, T), Error>>,
{
    let mut poll = Poll::start(watch.polling)?;
    let mut known = first;
    loop {
        let checked = match known.take() {
            Some(checked) => Ok(checked),
            None => poll.within(|| job.to_string(), check()).await,
        };
        let (status, carried) = match checked {
            Ok(checked) => checked,
            Err(e) => {
                guard.cancel().await;
                return Err(e);
            }
        };
        watch.report(&status);
        if status.state.is_running() {
            if let Err(timed_out) = poll.pause(|| job.to_string()).await {
                info!(job, "gave up waiting; cancelling");
                guard.cancel().await;
                return Err(timed_out);
            }
            continue;
        }
        guard.disarm();
        if status.state.has_results() {
            info!(job, state = status.state.as_str(), "query ended");
            return Ok((status, carried));
        }
        return Err(Error::JobFailed {
            job: job.to_string(),
            state: status.state.as_str().to_string(),
            // Console text: an echoed secret must not reach the message.
            detail: status.error.map(|d| crate::redact::redact(&d).into_owned()),
        });
    }
}

// ---------------------------------------------------------------------------
// Events

/// The events stream of [`events`], `page_size` per page.
fn event_stream<'a>(
    client: &'a Client,
    query_id: &str,
    event_type: Option<EventType>,
    page_size: u32,
) -> Result<BoxStream<'a, Result<Event, Error>>, Error> {
    let query_id = validate::required("query_id", query_id)?;
    Ok(match event_type {
        None => pagination::items(
            RetryConflict(client.list_dv_events().query_id(query_id)),
            page_size,
        )
        .boxed(),
        Some(kind) => {
            let kind = validate::required("event_type", kind.as_str())?;
            pagination::items(
                RetryConflict(
                    client
                        .list_dv_events_by_type()
                        .event_type(kind)
                        .query_id(query_id),
                ),
                page_size,
            )
            .boxed()
        }
    })
}

/// The events of a query that ended well, at most `limit`.
async fn collect_events(
    client: &Client,
    status: &QueryStatus,
    event_type: Option<EventType>,
    limit: Option<u32>,
) -> Result<Vec<Event>, Error> {
    if status.state == QueryState::EmptyResults {
        return Ok(Vec::new());
    }
    let page_size = limit.map_or(EVENTS_PAGE, |n| n.min(EVENTS_PAGE));
    let stream = event_stream(client, &status.query_id, event_type, page_size)?;
    match limit {
        Some(n) => stream.take(n as usize).try_collect().await,
        None => stream.try_collect().await,
    }
}

/// A list operation whose 409 answers (Deep Visibility results not ready
/// yet) are retried a few times with growing pauses; pages like the
/// operation it wraps.
#[derive(Clone)]
struct RetryConflict<P>(P);

impl<P: Operation + Clone> Operation for RetryConflict<P> {
    type Output = P::Output;
    const OPERATION_ID: &'static str = P::OPERATION_ID;

    async fn send_operation(
        self,
    ) -> Result<ResponseValue<Self::Output>, progenitor_client::Error<types::ApiError>> {
        let mut pause = CONFLICT_PAUSE;
        for _ in 0..CONFLICT_RETRIES {
            match self.0.clone().send_operation().await {
                Err(e) if e.status() == Some(reqwest::StatusCode::CONFLICT) => {
                    debug!(
                        operation = P::OPERATION_ID,
                        pause_ms = pause.as_millis() as u64,
                        "results not ready (409); asking again"
                    );
                    tokio::time::sleep(pause).await;
                    pause *= 2;
                }
                answered => return answered,
            }
        }
        self.0.send_operation().await
    }
}

impl<P: Pageable> Pageable for RetryConflict<P> {
    type Item = P::Item;

    fn page_request(self, cursor: Option<&str>, limit: u32) -> Self {
        RetryConflict(self.0.page_request(cursor, limit))
    }

    fn next_cursor(page: &Self::Output) -> Option<&str> {
        P::next_cursor(page)
    }

    fn into_items(page: Self::Output) -> Vec<Self::Item> {
        P::into_items(page)
    }

    fn item_count(page: &Self::Output) -> usize {
        P::item_count(page)
    }
}

// ---------------------------------------------------------------------------
// Power Query

/// Runs a Power Query to its end (D3 "Create Power Query" then "Ping Power
/// Query"): creates it (`dv/events/pq`) and, unless that answer is already
/// final, pings it (`dv/events/pq-ping`) per the polling until it
/// finishes. Any state but running or finished gives
/// [`Error::JobFailed`]; when the polling's timeout passes, the query is
/// cancelled (`dv/cancel-query`) and [`Error::WaitTimeout`] returned.
///
/// ```no_run
/// use chrono::{TimeDelta, Utc};
/// use sentinelone::dv::{self, PowerQuery};
///
/// # async fn demo(client: &sentinelone::Client) -> Result<(), sentinelone::Error> {
/// let now = Utc::now();
/// let request = PowerQuery::new(
///     "event.type = 'Process Creation' | group count() by agent.uuid",
///     now - TimeDelta::days(1),
///     now,
/// );
/// let table = dv::power_query(client, &request).await?;
/// let names: Vec<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
/// println!("{names:?}: {} rows", table.rows.len());
/// # Ok(())
/// # }
/// ```
pub async fn power_query(client: &Client, request: &PowerQuery) -> Result<PowerQueryTable, Error> {
    let body = request.body()?;
    let created = client.create_power_query().body(body).call().await?;
    let first = pq_answer("create_power_query", created, None)?;
    let id = first.0.query_id.clone();
    info!(query_id = %id, "Power Query started");
    let mut guard = CancelGuard::new(client, id.clone());
    let job = format!("Power Query {id}");
    let id = id.as_str();
    let (_, table) = settle(
        &mut guard,
        &request.watch,
        &job,
        Some(first),
        move || async move {
            let answer = client.ping_power_query().query_id(id).call().await?;
            pq_answer("ping_power_query", answer, Some(id))
        },
    )
    .await?;
    Ok(table)
}

/// Reads a Power Query answer: its status, and the table it carries.
/// `known_id` is the id that was pinged (the answer's own is used when
/// there is none).
fn pq_answer(
    operation: &str,
    response: types::DeepVisibilityPowerQueriesResponse,
    known_id: Option<&str>,
) -> Result<(QueryStatus, PowerQueryTable), Error> {
    let Some(data) = response.data.as_ref() else {
        return Err(missing(operation, &response, "data"));
    };
    let Some(state) = data.status.as_deref() else {
        return Err(missing(operation, &response, "data.status"));
    };
    let query_id = known_id
        .map(str::to_string)
        .or_else(|| data.query_id.clone().filter(|id| !id.trim().is_empty()))
        .ok_or_else(|| missing(operation, &response, "data.queryId"))?;
    let status = QueryStatus {
        query_id: query_id.clone(),
        state: QueryState::parse(state),
        progress: data.progress,
        error: error_text(response.errors.as_deref()),
        warnings: None,
    };
    let data = response.data.unwrap_or_default();
    let table = PowerQueryTable {
        query_id,
        columns: data
            .columns
            .unwrap_or_default()
            .iter()
            .map(column)
            .collect(),
        rows: data.data.unwrap_or_default(),
        recommendations: data.recommendations.unwrap_or_default(),
    };
    Ok((status, table))
}

/// A column as the console describes it: `{"name": …, "type": …}`.
fn column(map: &serde_json::Map<String, Value>) -> Column {
    let text = |key: &str| {
        map.get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    Column {
        name: text("name"),
        kind: text("type"),
    }
}

// ---------------------------------------------------------------------------
// Small helpers

/// The console's error list in one line (`title: detail; …`), if any.
fn error_text(errors: Option<&[serde_json::Map<String, Value>]>) -> Option<String> {
    let parts: Vec<String> = errors
        .unwrap_or_default()
        .iter()
        .filter_map(|e| {
            let field = |k: &str| e.get(k).and_then(Value::as_str).filter(|s| !s.is_empty());
            match (field("title"), field("detail")) {
                (Some(t), Some(d)) => Some(format!("{t}: {d}")),
                (Some(s), None) | (None, Some(s)) => Some(s.to_string()),
                (None, None) => None,
            }
        })
        .collect();
    (!parts.is_empty()).then(|| parts.join("; "))
}

/// A decode error for an answer of `operation` that lacks `what`.
fn missing(operation: &str, body: &impl Serialize, what: &str) -> Error {
    let body = serde_json::to_vec(body).unwrap_or_default();
    Error::decode(operation, &body, format!("the answer has no {what}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2024, 5, 1, hour, 0, 0).unwrap()
    }

    fn invalid(e: Error) -> String {
        match e {
            Error::InvalidInput { message } => message,
            other => panic!("not InvalidInput: {other:?}"),
        }
    }

    #[test]
    fn states_round_trip_and_classify() {
        let running = [
            "RUNNING",
            "PROCESS_RUNNING",
            "EVENTS_RUNNING",
            "QUERY_RUNNING",
            "PLANNING",
        ];
        for s in running {
            let state = QueryState::parse(s);
            assert!(state.is_running(), "{s}");
            assert!(!state.has_results(), "{s}");
            assert_eq!(state.as_str(), s);
        }
        for s in ["FINISHED", "EMPTY_RESULTS"] {
            let state = QueryState::parse(s);
            assert!(state.has_results() && !state.is_running(), "{s}");
            assert_eq!(state.as_str(), s);
        }
        let failed = [
            "FAILED",
            "FAILED_CLIENT",
            "QUERY_CANCELLED",
            "QUERY_EXPIRED",
            "TIMED_OUT",
            "QUERY_NOT_FOUND",
            "ERROR",
            "SOMETHING_NEW",
        ];
        for s in failed {
            let state = QueryState::parse(s);
            assert!(!state.is_running() && !state.has_results(), "{s}");
            assert_eq!(state.as_str(), s);
        }
        assert_eq!(QueryState::parse(" finished "), QueryState::Finished);
        assert_eq!(QueryState::parse("QUERY_CANCEL"), QueryState::Cancelled);
        assert_eq!(
            QueryState::parse("Brand_New"),
            QueryState::Other("Brand_New".into())
        );
    }

    #[test]
    fn event_types_read_d3_names() {
        assert_eq!(
            "Scheduled Task".parse::<EventType>().unwrap(),
            EventType::ScheduledTask
        );
        assert_eq!("IP".parse::<EventType>().unwrap(), EventType::Ip);
        assert_eq!(
            "cross_process".parse::<EventType>().unwrap().as_str(),
            "cross_process"
        );
    }

    #[test]
    fn dv_body_is_checked_and_trimmed() {
        let body = DvQuery::new("  AgentName IS NOT EMPTY ", at(0), at(1))
            .limit(100_000)
            .site_ids([" 12 "])
            .body()
            .unwrap();
        assert_eq!(body.query, "AgentName IS NOT EMPTY");
        assert_eq!(body.limit, Some(100_000));
        assert_eq!(body.site_ids, vec!["12".to_string()]);
        assert_eq!(
            invalid(DvQuery::new("x", at(0), at(1)).limit(0).body().unwrap_err()),
            "limit 0 is out of range: 1 to 100000"
        );
        assert_eq!(
            invalid(DvQuery::new(" \t", at(0), at(1)).body().unwrap_err()),
            "query is required"
        );
        assert!(
            invalid(DvQuery::new("x", at(1), at(1)).body().unwrap_err())
                .starts_with("the time range is empty")
        );
        assert_eq!(
            invalid(
                PowerQuery::new("x", at(0), at(1))
                    .account_ids(["a1"])
                    .body()
                    .unwrap_err()
            ),
            "account_ids[0] \"a1\" is not a SentinelOne id (decimal digits)"
        );
    }

    #[test]
    fn agent_processes_default_to_the_last_day() {
        let q = AgentProcessQuery::new().dv_query(at(12)).unwrap();
        assert_eq!(q.scope.query, DEFAULT_PROCESS_QUERY);
        assert_eq!(
            (q.scope.from, q.scope.to),
            (at(12) - chrono::TimeDelta::hours(24), at(12))
        );
        assert_eq!(q.scope.limit, Some(1000));
        let q = AgentProcessQuery::new()
            .end(at(5))
            .dv_query(at(12))
            .unwrap();
        assert_eq!(q.scope.from, at(5) - chrono::TimeDelta::hours(24));
        let q = AgentProcessQuery::new()
            .start(at(3))
            .dv_query(at(12))
            .unwrap();
        assert_eq!((q.scope.from, q.scope.to), (at(3), at(12)));
        assert_eq!(
            invalid(
                AgentProcessQuery::new()
                    .limit(1001)
                    .dv_query(at(12))
                    .unwrap_err()
            ),
            "limit 1001 is out of range: 1 to 1000"
        );
        assert_eq!(
            invalid(
                AgentProcessQuery::new()
                    .query("  ")
                    .dv_query(at(12))
                    .unwrap_err()
            ),
            "query is required"
        );
    }

    #[test]
    fn error_lists_read_as_one_line() {
        let errors: Vec<serde_json::Map<String, Value>> =
            serde_json::from_value(serde_json::json!([
                {"title": "Bad Request", "detail": "could not parse query"},
                {"detail": "second"}
            ]))
            .unwrap();
        assert_eq!(
            error_text(Some(errors.as_slice())).as_deref(),
            Some("Bad Request: could not parse query; second")
        );
        assert_eq!(error_text(None), None);
    }
}
