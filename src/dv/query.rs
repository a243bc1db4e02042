//! What to ask: Deep Visibility queries, agent process queries and Power Queries, and what they answer.

use super::*;

/// What a query covers: the text, the time range, the limit and the scope.
/// Shared by [`DvQuery`] and [`PowerQuery`].
#[derive(Debug, Clone)]
pub(super) struct QuerySpec {
    pub(super) query: String,
    pub(super) from: DateTime<Utc>,
    pub(super) to: DateTime<Utc>,
    pub(super) limit: Option<u32>,
    pub(super) account_ids: Vec<String>,
    pub(super) site_ids: Vec<String>,
}

impl QuerySpec {
    pub(super) fn new(query: impl Into<String>, from: DateTime<Utc>, to: DateTime<Utc>) -> Self {
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
    pub(super) fn checked(&self) -> Result<QuerySpec, Error> {
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
    pub(super) fn api_limit(&self) -> Option<i32> {
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
    pub(super) scope: QuerySpec,
    pub(super) query_types: Vec<QueryType>,
    pub(super) verbose: Option<bool>,
    pub(super) watch: Watch,
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
    /// cancelled; [`Dv::query`] reads the events within it too. Default:
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
    pub(super) fn body(&self) -> Result<types::DeepVisibilityApiRequest, Error> {
        let scope = self.scope.checked()?;
        self.watch.polling.check()?;
        Ok(types::DeepVisibilityApiRequest {
            limit: scope.api_limit(),
            account_ids: scope.account_ids,
            site_ids: scope.site_ids,
            from_date: scope.from.into(),
            to_date: scope.to.into(),
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
    pub(super) start: Option<DateTime<Utc>>,
    pub(super) end: Option<DateTime<Utc>>,
    pub(super) query: Option<String>,
    pub(super) limit: Option<u32>,
    pub(super) watch: Watch,
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
    pub(super) fn dv_query(&self, now: DateTime<Utc>) -> Result<DvQuery, Error> {
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
    pub(super) scope: QuerySpec,
    pub(super) watch: Watch,
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
    pub(super) fn body(&self) -> Result<types::DeepVisibilityPqRequest, Error> {
        let scope = self.scope.checked()?;
        self.watch.polling.check()?;
        Ok(types::DeepVisibilityPqRequest {
            limit: scope.api_limit(),
            account_ids: scope.account_ids,
            site_ids: scope.site_ids,
            from_date: scope.from.into(),
            to_date: scope.to.into(),
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
