//! Deep Visibility in single calls: run a query to its end and read its
//! events ([`Dv::query`]), read the events of a query, optionally of one type
//! ([`Dv::events`], [`Dv::events_by_type`]), list the processes agents started
//! ([`Dv::agent_processes`]), and run a Power Query into a table
//! ([`Dv::power_query`]).
//!
//! **Deprecated.** SentinelOne ends these query endpoints on 2027-02-15;
//! their functions are marked `#[deprecated]` and name their replacement in
//! [`Client::lrq`]: [`crate::lrq::Lrq::log_query`] for events,
//! [`crate::lrq::Lrq::power_query`] for tables. They keep working until then.
//!
//! A Deep Visibility query runs inside the console: `dv/init-query` starts
//! it, `dv/query-status` reports its state until it ends, then `dv/events`
//! (or `dv/events/{type}`) hands out its events, page by page, following a
//! cursor. [`Dv::query`] does all of this; [`Dv::start`], [`Dv::wait`] and [`Dv::events`]
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

/// The S1QL query [`Dv::agent_processes`] runs when given none: every process
/// creation in the time range.
pub const DEFAULT_PROCESS_QUERY: &str = r#"EventType = "Process Creation""#;

/// Most results a Deep Visibility query or Power Query can be asked for.
pub const MAX_LIMIT: u32 = 100_000;

/// Most processes [`Dv::agent_processes`] can be asked for.
pub const MAX_PROCESS_LIMIT: u32 = 1000;

/// Events asked for per page (the console's maximum).
const EVENTS_PAGE: u32 = 1000;

/// Retries of an events page answered 409 (results not ready yet, right
/// after the query finished), and the first pause; pauses double.
const CONFLICT_RETRIES: u32 = 4;
const CONFLICT_PAUSE: Duration = Duration::from_millis(250);

mod cancel;
mod events;
mod power_query;
mod query;
mod run;
mod state;

use cancel::*;
use events::*;
pub use query::*;
pub use run::*;
pub use state::*;

/// Deep Visibility, reached from the client with [`Client::dv`].
///
/// ```no_run
/// # fn demo(client: &sentinelone::Client) {
/// let dv = client.dv();
/// # let _ = dv;
/// # }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Dv<'c> {
    client: &'c Client,
}

impl Client {
    /// Deep Visibility: queries, their events, agent processes and Power Queries.
    ///
    /// ```no_run
    /// # async fn demo(client: &sentinelone::Client) -> Result<(), sentinelone::Error> {
    /// let status = client.dv().wait(client.dv().start(&sentinelone::dv::DvQuery::new("AgentName IS NOT EMPTY", chrono::Utc::now() - chrono::Duration::hours(1), chrono::Utc::now())).await?).await?;
    /// println!("{}", status.state);
    /// # Ok(())
    /// # }
    /// ```
    pub fn dv(&self) -> Dv<'_> {
        Dv { client: self }
    }
}

/// The console's error list in one line (`title: detail; …`), if any.
pub(super) fn error_text(errors: Option<&[serde_json::Map<String, Value>]>) -> Option<String> {
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
pub(super) fn missing(operation: &str, body: &impl Serialize, what: &str) -> Error {
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
