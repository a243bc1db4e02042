//! Query states and statuses as the console reports them, and the watch that logs their changes.

use super::*;

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
pub(super) struct Watch {
    pub(super) polling: Polling,
    pub(super) on_progress: Option<ProgressFn>,
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
    pub(super) fn report(&self, status: &QueryStatus) {
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
