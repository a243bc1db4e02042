//! Long Running Queries (`sentinelone::lrq`): the exact requests against
//! httpmock (path at the console root, Bearer token, forward tag echoed,
//! launch bodies for PQ and LOG and both scopes), every state and failure,
//! the delete on every way out (done, failed, timed out, dropped), expiry as
//! its own error, scope refusals that send nothing; then behaviour against
//! the simulated console: tables with every column kind, capped LOG slices
//! split until complete, five queries sharing one token's quota without
//! one expiring, and the console's own rules (Bearer, forward tag, delete).

use crate::support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use futures_util::{StreamExt, TryStreamExt};
use httpmock::{HttpMockRequest, Mock, MockServer};
use sentinelone::Error;
use sentinelone::lrq::{
    Cell, ColumnKind, LogEvent, LrqOptions, LrqScope, Merge, Progress, QueryResult, TimeRange,
};
use sentinelone::sim::SimConsole;
use serde_json::{Value, json};
use support::{TOKEN, facade_client};

const QUERIES: &str = "/sdl/v2/api/queries";
const TAG_HEADER: &str = "x-dataset-query-forward-tag";
const ACCOUNT: &str = "225494730938493804";

fn bearer() -> String {
    format!("Bearer {TOKEN}")
}

fn at(hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 4, 21, hour, 0, 0).unwrap()
}

fn day() -> TimeRange {
    TimeRange::new(at(0), at(0) + TimeDelta::days(1))
}

/// Polls every 20 ms.
fn quick() -> LrqOptions {
    LrqOptions::default()
        .poll_interval(Duration::from_millis(20))
        .timeout(Duration::from_secs(5))
}

fn query_path(id: &str) -> String {
    format!("{QUERIES}/{id}")
}

/// The launch, answering `answer` with forward tag `tag`, expecting `body`.
async fn serve_launch<'a>(server: &'a MockServer, body: Value, answer: Value) -> Mock<'a> {
    server
        .mock_async(|when, then| {
            when.method("POST")
                .path(QUERIES)
                .header("authorization", bearer())
                .json_body(body);
            then.status(200)
                .header("X-Dataset-Query-Forward-Tag", "tag-7")
                .json_body(answer);
        })
        .await
}

async fn serve_poll<'a>(
    server: &'a MockServer,
    id: &str,
    seen: &str,
    status: u16,
    answer: Value,
) -> Mock<'a> {
    server
        .mock_async(|when, then| {
            when.method("GET")
                .path(query_path(id))
                .query_param("lastStepSeen", seen)
                .header("authorization", bearer())
                .header(TAG_HEADER, "tag-7");
            then.status(status).json_body(answer);
        })
        .await
}

async fn serve_delete<'a>(server: &'a MockServer, id: &str) -> Mock<'a> {
    server
        .mock_async(|when, then| {
            when.method("DELETE")
                .path(query_path(id))
                .header("authorization", bearer())
                .header(TAG_HEADER, "tag-7");
            then.status(204);
        })
        .await
}

/// Every request no other mock took (defined last).
async fn anything_else(server: &MockServer) -> Mock<'_> {
    server
        .mock_async(|when, then| {
            when.is_true(|_: &HttpMockRequest| true);
            then.status(599);
        })
        .await
}

async fn wait_for_calls(mock: &Mock<'_>, n: usize) {
    for _ in 0..300 {
        if mock.calls_async().await >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("called {} times, {n} expected", mock.calls_async().await);
}

fn pq_body(query: &str, range: TimeRange, scope: Value, priority: &str) -> Value {
    let mut body = json!({
        "queryType": "PQ",
        "startTime": range.start.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
        "endTime": range.end.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
        "queryPriority": priority,
        "pq": {"query": query, "resultType": "TABLE"},
    });
    body.as_object_mut()
        .unwrap()
        .extend(scope.as_object().unwrap().clone());
    body
}

fn running(id: &str, done: i64, total: i64) -> Value {
    json!({"id": id, "stepsCompleted": done, "stepsTotal": total, "cpuUsage": 10, "error": null, "data": null})
}

fn table_answer(id: &str) -> Value {
    // `totalSteps` only: accepted like `stepsTotal`.
    json!({
        "id": id, "stepsCompleted": 4, "totalSteps": 4, "error": null,
        "data": {
            "columns": [
                {"name": "host", "type": "STRING"},
                {"name": "n", "type": "NUMBER"},
                {"name": "pct", "type": "PERCENTAGE", "decimalPlaces": 1},
                {"name": "s", "type": "TIMESTAMP"},
                {"name": "ms", "cellType": "TIMESTAMP"},
                {"name": "us", "type": "TIMESTAMP"},
                {"name": "ns", "type": "TIMESTAMP"},
            ],
            "values": [
                ["win-1", 12, 40.5, 1776729600, 1776729600000_i64, 1776729600000000_i64, "1776729600000000000"],
                ["mac-2", "3", null, null, 1776729601000_i64, 1776729600000001_i64, 1776729600000000001_i64],
            ],
            "matchCount": 15,
            "warnings": ["slow query"],
            "partialResultsDueToTimeLimit": true,
            "omittedEvents": 2,
        }
    })
}

type Seen = Arc<Mutex<Vec<(i64, i64)>>>;

fn recording(options: LrqOptions) -> (Seen, LrqOptions) {
    let seen: Seen = Arc::default();
    let record = seen.clone();
    let options = options.on_progress(move |p: &Progress| {
        record
            .lock()
            .unwrap()
            .push((p.steps_completed, p.steps_total))
    });
    (seen, options)
}

#[tokio::test]
async fn power_query_sends_exact_requests_and_reads_the_table() {
    let server = MockServer::start_async().await;
    let query = "dataSource.name='SentinelOne' | group n=count() by host";
    let launch = serve_launch(
        &server,
        pq_body(query, day(), json!({"tenant": true}), "LOW"),
        running("q1", 0, 0),
    )
    .await;
    let first = serve_poll(&server, "q1", "0", 200, running("q1", 2, 4)).await;
    let second = serve_poll(&server, "q1", "2", 200, table_answer("q1")).await;
    let delete = serve_delete(&server, "q1").await;
    let other = anything_else(&server).await;
    let (seen, options) = recording(quick());
    let table = facade_client(&server)
        .lrq()
        .power_query(&format!("  {query} "), day(), &LrqScope::tenant(), &options)
        .await
        .unwrap();
    launch.assert_calls_async(1).await;
    first.assert_calls_async(1).await;
    second.assert_calls_async(1).await;
    delete.assert_calls_async(1).await;
    other.assert_calls_async(0).await;
    assert_eq!(*seen.lock().unwrap(), vec![(0, 0), (2, 4), (4, 4)]);

    let kinds: Vec<&ColumnKind> = table.columns.iter().map(|c| &c.kind).collect();
    assert_eq!(
        kinds,
        [
            &ColumnKind::String,
            &ColumnKind::Number,
            &ColumnKind::Percentage,
            &ColumnKind::Timestamp,
            &ColumnKind::Timestamp,
            &ColumnKind::Timestamp,
            &ColumnKind::Timestamp
        ]
    );
    assert_eq!(table.columns[2].decimal_places, Some(1));
    let t = DateTime::from_timestamp(1_776_729_600, 0).unwrap();
    assert_eq!(
        table.rows[0],
        vec![
            Cell::String("win-1".into()),
            Cell::Number(12.0),
            Cell::Number(40.5),
            Cell::Timestamp(t),
            Cell::Timestamp(t),
            Cell::Timestamp(t),
            Cell::Timestamp(t),
        ]
    );
    assert_eq!(table.rows[1][1], Cell::Number(3.0));
    assert_eq!(table.rows[1][2], Cell::Null);
    assert_eq!(table.rows[1][4], Cell::Timestamp(t + TimeDelta::seconds(1)));
    assert_eq!(
        table.rows[1][5],
        Cell::Timestamp(t + TimeDelta::microseconds(1))
    );
    assert_eq!(
        table.rows[1][6],
        Cell::Timestamp(t + TimeDelta::nanoseconds(1))
    );
    assert_eq!(table.match_count, Some(15.0));
    assert_eq!(table.warnings, vec!["slow query".to_string()]);
    assert!(table.partial.time_limit && table.partial.any());
    assert_eq!(table.partial.omitted_events, Some(2.0));
    assert_eq!(table.query_ids, vec!["q1".to_string()]);
}

#[tokio::test]
async fn log_query_with_accounts_sends_its_body_and_reads_events_from_the_launch() {
    let server = MockServer::start_async().await;
    let range = TimeRange::new(at(1), at(2));
    let body = json!({
        "queryType": "LOG",
        "tenant": false,
        "accountIds": [ACCOUNT],
        "startTime": "2026-04-21T01:00:00Z",
        "endTime": "2026-04-21T02:00:00Z",
        "queryPriority": "HIGH",
        "log": {"filter": "event.type='DNS Resolved'", "limit": 10},
    });
    // Done at once: the data is in the launch answer, nothing is polled.
    let answer = json!({
        "id": "q2", "stepsCompleted": 1, "stepsTotal": 1,
        "data": {"estimatedMatchCount": 2, "matches": [
            {"timestamp": "1776733300000000000", "cursor": "c2", "severity": 3, "values": {"k": 2}},
            {"timestamp": 1776733200000000000_i64, "cursor": "c1", "sessionId": "s", "threadId": "t",
             "serverInfo": {"host": "x"}, "values": {"k": 1}},
        ]}
    });
    let launch = serve_launch(&server, body, answer).await;
    let delete = serve_delete(&server, "q2").await;
    let other = anything_else(&server).await;
    let options = quick().priority(sentinelone::lrq::Priority::High);
    let results = facade_client(&server)
        .lrq()
        .log_query(
            "event.type='DNS Resolved'",
            range,
            &LrqScope::accounts([ACCOUNT]),
            10,
            &options,
        )
        .await
        .unwrap();
    launch.assert_calls_async(1).await;
    delete.assert_calls_async(1).await;
    other.assert_calls_async(0).await;
    let cursors: Vec<_> = results
        .events
        .iter()
        .map(|e| e.cursor.as_deref().unwrap())
        .collect();
    assert_eq!(cursors, ["c1", "c2"], "oldest first");
    assert_eq!(
        results.events[0].timestamp,
        DateTime::from_timestamp(1_776_733_200, 0)
    );
    assert_eq!(results.events[0].values["k"], 1);
    assert_eq!(results.events[0].server_info["host"], "x");
    assert_eq!(results.estimated_match_count, Some(2.0));
    assert!(results.capped.is_empty());
}

#[tokio::test]
async fn an_error_in_the_answer_fails_and_deletes_the_query() {
    let server = MockServer::start_async().await;
    serve_launch(
        &server,
        pq_body("bad |", day(), json!({"tenant": true}), "LOW"),
        running("q3", 0, 0),
    )
    .await;
    let mut failed = running("q3", 1, 4);
    failed["error"] = json!({"message": "could not parse", "details": "at |"});
    serve_poll(&server, "q3", "0", 200, failed).await;
    let delete = serve_delete(&server, "q3").await;
    let err = facade_client(&server)
        .lrq()
        .power_query("bad |", day(), &LrqScope::tenant(), &quick())
        .await
        .unwrap_err();
    match err {
        Error::JobFailed { job, detail, .. } => {
            assert_eq!(job, "Long Running Query q3");
            assert_eq!(detail.as_deref(), Some("could not parse: at |"));
        }
        other => panic!("{other:?}"),
    }
    delete.assert_calls_async(1).await;
}

#[tokio::test]
async fn a_timeout_deletes_the_query_then_returns_wait_timeout() {
    let server = MockServer::start_async().await;
    serve_launch(
        &server,
        pq_body("x", day(), json!({"tenant": true}), "LOW"),
        running("q4", 0, 0),
    )
    .await;
    let poll = serve_poll(&server, "q4", "0", 200, running("q4", 0, 9)).await;
    let delete = serve_delete(&server, "q4").await;
    let options = quick().timeout(Duration::from_millis(200));
    match facade_client(&server)
        .lrq()
        .power_query("x", day(), &LrqScope::tenant(), &options)
        .await
    {
        Err(Error::WaitTimeout { waiting_for, after }) => {
            assert_eq!(waiting_for, "Long Running Query q4");
            assert!(after >= Duration::from_millis(200));
        }
        other => panic!("{other:?}"),
    }
    assert!(poll.calls_async().await >= 2);
    // Deleted before the error came back.
    delete.assert_calls_async(1).await;
}

#[tokio::test]
async fn a_dropped_query_future_deletes_the_query() {
    let server = MockServer::start_async().await;
    serve_launch(
        &server,
        pq_body("x", day(), json!({"tenant": true}), "LOW"),
        running("q5", 0, 0),
    )
    .await;
    let poll = serve_poll(&server, "q5", "0", 200, running("q5", 0, 9)).await;
    let delete = serve_delete(&server, "q5").await;
    let client = facade_client(&server);
    let options = quick().timeout(Duration::from_secs(30));
    let scope = LrqScope::tenant();
    tokio::select! {
        outcome = client.lrq().power_query("x", day(), &scope, &options) => {
            panic!("the query should still run: {outcome:?}")
        }
        () = wait_for_calls(&poll, 1) => {}
    }
    assert!(client.finish_cleanup(Duration::from_secs(3)).await);
    delete.assert_calls_async(1).await;
}

#[tokio::test]
async fn an_expired_query_is_its_own_error_and_other_404s_are_not() {
    let server = MockServer::start_async().await;
    serve_launch(
        &server,
        pq_body("x", day(), json!({"tenant": true}), "LOW"),
        running("q6", 0, 0),
    )
    .await;
    serve_poll(&server, "q6", "0", 404, json!({"code": "not_found"})).await;
    let delete = serve_delete(&server, "q6").await;
    let client = facade_client(&server);
    match client
        .lrq()
        .power_query("x", day(), &LrqScope::tenant(), &quick())
        .await
    {
        Err(Error::QueryExpired { query_id }) => assert_eq!(query_id, "q6"),
        other => panic!("{other:?}"),
    }
    // Gone already: no delete.
    delete.assert_calls_async(0).await;
    assert!(
        Error::QueryExpired {
            query_id: "q6".into()
        }
        .to_string()
        .starts_with("query expired")
    );

    // A 404 for the launch itself is an ordinary API error.
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method("POST").path(QUERIES);
            then.status(404).json_body(json!({"code": "not_found"}));
        })
        .await;
    match facade_client(&server)
        .lrq()
        .power_query("x", day(), &LrqScope::tenant(), &quick())
        .await
    {
        Err(e @ Error::Api { status: 404, .. }) => {
            assert_eq!(e.operation(), Some("launch_lrq_query"))
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_launch_answer_without_forward_tag_is_an_error() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method("POST").path(QUERIES);
            then.status(200).json_body(running("q8", 0, 0));
        })
        .await;
    let other = server
        .mock_async(|when, then| {
            when.path(query_path("q8"));
            then.status(204);
        })
        .await;
    let err = facade_client(&server)
        .lrq()
        .power_query("x", day(), &LrqScope::tenant(), &quick())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Decode { .. }), "{err:?}");
    assert!(err.to_string().contains("X-Dataset-Query-Forward-Tag"));
    other.assert_calls_async(0).await;
}

#[tokio::test]
async fn bad_scopes_and_inputs_are_refused_with_nothing_sent() {
    let server = MockServer::start_async().await;
    let any = anything_else(&server).await;
    let client = facade_client(&server);
    let lrq = client.lrq();
    let neither = LrqScope {
        tenant: false,
        account_ids: vec![],
    };
    let both = LrqScope {
        tenant: true,
        account_ids: vec![ACCOUNT.into()],
    };
    let empty = TimeRange::new(at(2), at(1));
    let refusals = [
        lrq.power_query("x", day(), &neither, &quick())
            .await
            .unwrap_err(),
        lrq.power_query("x", day(), &both, &quick())
            .await
            .unwrap_err(),
        lrq.log_query("", day(), &neither, 10, &quick())
            .await
            .unwrap_err(),
        lrq.log_query("", day(), &both, 10, &quick())
            .await
            .unwrap_err(),
        lrq.log_query("", day(), &LrqScope::tenant(), 0, &quick())
            .await
            .unwrap_err(),
        lrq.log_query("", day(), &LrqScope::tenant(), 5001, &quick())
            .await
            .unwrap_err(),
        lrq.power_query(" ", day(), &LrqScope::tenant(), &quick())
            .await
            .unwrap_err(),
        lrq.power_query("x", empty, &LrqScope::tenant(), &quick())
            .await
            .unwrap_err(),
        lrq.power_query("x", day(), &LrqScope::tenant(), &quick().slices(0))
            .await
            .unwrap_err(),
    ];
    for (i, e) in refusals.iter().enumerate() {
        assert!(matches!(e, Error::InvalidInput { .. }), "{i}: {e:?}");
    }
    let Error::InvalidInput { message } = &refusals[0] else {
        unreachable!()
    };
    assert!(
        message.contains("neither tenant nor account ids"),
        "{message}"
    );
    let Error::InvalidInput { message } = &refusals[1] else {
        unreachable!()
    };
    assert!(message.contains("tenant: true"), "{message}");

    // The raw-body entry point checks the same.
    let body: sentinelone::raw::types::LaunchLrqQueryBody = serde_json::from_value(json!({
        "queryType": "TOP_FACETS", "startTime": "2026-04-21T00:00:00Z", "endTime": "2026-04-22T00:00:00Z"
    }))
    .unwrap();
    assert!(matches!(
        lrq.run(body, &quick()).await,
        Err(Error::InvalidInput { .. })
    ));
    any.assert_calls_async(0).await;
}

#[tokio::test]
async fn the_raw_client_sends_the_lrq_operations_at_the_root_with_bearer() {
    use sentinelone::prelude::*;
    let server = MockServer::start_async().await;
    let poll = serve_poll(&server, "q9", "3", 200, running("q9", 3, 10)).await;
    let delete = serve_delete(&server, "q9").await;
    let client = facade_client(&server);
    let answer: QueryResult = client
        .get_lrq_query()
        .query_id("q9")
        .last_step_seen(3)
        .x_dataset_query_forward_tag("tag-7")
        .call()
        .await
        .unwrap();
    assert_eq!(sentinelone::lrq::steps(&answer), (3, 10));
    assert!(!sentinelone::lrq::is_done(&answer));
    client
        .delete_lrq_query()
        .query_id("q9")
        .x_dataset_query_forward_tag("tag-7")
        .call()
        .await
        .unwrap();
    poll.assert_calls_async(1).await;
    delete.assert_calls_async(1).await;
    // A path parameter that would move the path is refused before sending.
    let moved = client
        .get_lrq_query()
        .query_id("..")
        .last_step_seen(0)
        .x_dataset_query_forward_tag("tag-7")
        .call()
        .await;
    assert!(
        matches!(moved, Err(Error::InvalidInput { .. })),
        "{moved:?}"
    );
    // The declared limits apply to the launch body: log.limit is 1 to 5000.
    let launch = server
        .mock_async(|when, then| {
            when.method("POST").path(QUERIES);
            then.status(200);
        })
        .await;
    let body: sentinelone::raw::types::LaunchLrqQueryBody = serde_json::from_value(json!({
        "queryType": "LOG", "tenant": true, "startTime": "24h", "endTime": "0h",
        "log": {"limit": 6000}
    }))
    .unwrap();
    let refused = client.launch_lrq_query().body(body).call().await;
    match refused {
        Err(Error::InvalidInput { message }) => assert!(message.contains("log.limit"), "{message}"),
        other => panic!("{other:?}"),
    }
    launch.assert_calls_async(0).await;
}

#[test]
fn query_results_decode_leniently_and_keep_unknown_fields() {
    let answer: QueryResult = serde_json::from_value(json!({
        "id": "q11", "stepsCompleted": "7", "stepsTotal": 7, "totalSteps": 7,
        "cpuUsage": 400000, "resolvedTimeRange": {"start": 0, "end": 0},
        "newField": {"x": 1},
        "data": {"columns": [{"name": "n", "type": "NUMBER"}], "values": [[1]],
                 "matchCount": "1", "keyColumns": [0], "extraData": true}
    }))
    .unwrap();
    assert_eq!(sentinelone::lrq::steps(&answer), (7, 7));
    assert!(sentinelone::lrq::is_done(&answer));
    assert_eq!(answer.extra["newField"], json!({"x": 1}));
    let data = answer.data.as_ref().unwrap();
    assert_eq!(data.match_count, Some(1.0));
    assert_eq!(data.extra["extraData"], json!(true));
    let table = sentinelone::lrq::PqTable::from_answer(&answer);
    assert_eq!(table.rows, vec![vec![Cell::Number(1.0)]]);
    // 0/0 (a fresh launch) is not done.
    let fresh: QueryResult =
        serde_json::from_value(json!({"id": "q", "stepsCompleted": 0, "stepsTotal": 0})).unwrap();
    assert!(!sentinelone::lrq::is_done(&fresh));
}

// --- the simulated console --------------------------------------------------

async fn sim(duration: Duration, rate_limits: bool) -> SimConsole {
    SimConsole::builder()
        .lrq_duration(duration)
        .rate_limits(rate_limits)
        .start()
        .await
}

#[tokio::test]
async fn sim_power_query_reads_every_column_kind_and_deletes() {
    let sim = sim(Duration::from_millis(300), true).await;
    let client = sim.client().unwrap();
    let range = TimeRange::new(at(0), at(3));
    let table = client
        .lrq()
        .power_query(
            "| group count() by event.type",
            range,
            &LrqScope::tenant(),
            &LrqOptions::default().poll_interval(Duration::from_millis(100)),
        )
        .await
        .unwrap();
    let kinds: Vec<ColumnKind> = table.columns.iter().map(|c| c.kind.clone()).collect();
    assert_eq!(
        kinds,
        [
            ColumnKind::String,
            ColumnKind::Number,
            ColumnKind::Percentage,
            ColumnKind::Timestamp,
            ColumnKind::Timestamp
        ]
    );
    assert_eq!(table.rows.len(), 3);
    assert_eq!(table.match_count, Some(180.0));
    let count: f64 = table.rows.iter().map(|r| r[1].as_f64().unwrap()).sum();
    assert_eq!(count, 180.0);
    assert!(matches!(table.rows[0][3], Cell::Timestamp(t) if t >= at(0) && t < at(3)));
    assert!(matches!(table.rows[0][4], Cell::Timestamp(t) if t >= at(0) && t < at(3)));
    let counters = sim.counters();
    assert_eq!(counters.lrq_launched.len(), 1);
    assert_eq!(counters.lrq_deleted, counters.lrq_launched);
    assert!(counters.lrq_expired.is_empty());
    assert!(counters.requests("GET", "/sdl/v2/api/queries/{id}") >= 1);

    // Sliced: three queries at once, merged per column into the same table.
    let options = LrqOptions::default()
        .poll_interval(Duration::from_millis(100))
        .slices(3)
        .merge("count", Merge::Sum)
        .merge("share", Merge::Max)
        .merge("first_seen", Merge::Min)
        .merge("last_seen", Merge::Max);
    let sliced = client
        .lrq()
        .power_query(
            "| group count() by event.type",
            range,
            &LrqScope::tenant(),
            &options,
        )
        .await
        .unwrap();
    assert_eq!(sliced.rows.len(), 3);
    assert_eq!(sliced.match_count, Some(180.0));
    assert_eq!(sliced.query_ids.len(), 3);
    for (a, b) in table.rows.iter().zip(&sliced.rows) {
        assert_eq!((&a[0], &a[1], &a[3], &a[4]), (&b[0], &b[1], &b[3], &b[4]));
    }
}

#[tokio::test]
async fn sim_capped_log_slices_are_split_until_complete() {
    let sim = sim(Duration::from_millis(50), false).await;
    let client = sim
        .client_builder()
        .quotas(sentinelone::quota::Quotas::none())
        .build()
        .unwrap();
    let range = TimeRange::new(at(0), at(1));
    let options = LrqOptions::default().poll_interval(Duration::from_millis(20));
    // 60 events (one a minute); 16 per query: 60 → 30 + 30 → four of 15.
    let results = client
        .lrq()
        .log_query("", range, &LrqScope::tenant(), 16, &options)
        .await
        .unwrap();
    assert_eq!(results.events.len(), 60);
    assert!(results.capped.is_empty());
    assert_eq!(results.query_ids.len(), 7);
    let times: Vec<DateTime<Utc>> = results
        .events
        .iter()
        .map(|e| e.timestamp.unwrap())
        .collect();
    let expected: Vec<DateTime<Utc>> = (0..60).map(|m| at(0) + TimeDelta::minutes(m)).collect();
    assert_eq!(times, expected, "every event once, oldest first");
    let counters = sim.counters();
    assert_eq!(counters.lrq_launched.len(), 7);
    assert_eq!(counters.lrq_deleted.len(), 7);

    // A floor above the split: the full slice is continued by cursor
    // (inclusive: 16, then 15 new per page) until a page comes back short.
    let floor = options.clone().min_slice(Duration::from_secs(3600));
    let results = client
        .lrq()
        .log_query("", range, &LrqScope::tenant(), 16, &floor)
        .await
        .unwrap();
    let times: Vec<DateTime<Utc>> = results
        .events
        .iter()
        .map(|e| e.timestamp.unwrap())
        .collect();
    assert_eq!(times, expected);
    assert!(results.capped.is_empty());
    assert_eq!(results.query_ids.len(), 4);
    assert!(sim.counters().lrq_expired.is_empty());
}

#[tokio::test]
async fn a_full_slice_without_a_cursor_at_the_floor_is_named_capped() {
    let server = MockServer::start_async().await;
    let range = TimeRange::new(at(1), at(1) + TimeDelta::seconds(1));
    let full = json!({"id": "q10", "stepsCompleted": 1, "stepsTotal": 1,
        "data": {"matches": [{"timestamp": 1776733200000000000_i64}, {"timestamp": 1776733200500000000_i64}]}});
    server
        .mock_async(|when, then| {
            when.method("POST").path(QUERIES);
            then.status(200)
                .header("X-Dataset-Query-Forward-Tag", "tag-7")
                .json_body(full);
        })
        .await;
    let delete = serve_delete(&server, "q10").await;
    let results = facade_client(&server)
        .lrq()
        .log_query("", range, &LrqScope::tenant(), 2, &quick())
        .await
        .unwrap();
    assert_eq!(results.events.len(), 2);
    assert_eq!(results.capped, vec![range]);
    delete.assert_calls_async(1).await;
}

#[tokio::test]
async fn a_capped_slice_is_a_stream_item_and_the_stream_goes_on_to_its_end() {
    let server = MockServer::start_async().await;
    let range = TimeRange::new(at(1), at(1) + TimeDelta::seconds(1));
    let full = json!({"id": "q11", "stepsCompleted": 1, "stepsTotal": 1,
        "data": {"matches": [{"timestamp": 1776733200000000000_i64}, {"timestamp": 1776733200500000000_i64}]}});
    let launch = server
        .mock_async(|when, then| {
            when.method("POST").path(QUERIES);
            then.status(200)
                .header("X-Dataset-Query-Forward-Tag", "tag-7")
                .json_body(full);
        })
        .await;
    let delete = serve_delete(&server, "q11").await;
    let client = facade_client(&server);
    let items: Vec<Result<LogEvent, Error>> = client
        .lrq()
        .log_events("", range, &LrqScope::tenant(), 2, &quick())
        .unwrap()
        .collect()
        .await;
    assert_eq!(items.len(), 3, "{items:?}");
    assert_eq!(
        items[0].as_ref().unwrap().timestamp_ns,
        Some(1_776_733_200_000_000_000)
    );
    assert_eq!(
        items[1].as_ref().unwrap().timestamp_ns,
        Some(1_776_733_200_500_000_000)
    );
    assert!(matches!(&items[2], Err(Error::SliceCapped { range: r }) if *r == range));
    launch.assert_calls_async(1).await;
    delete.assert_calls_async(1).await;
}

#[tokio::test]
async fn a_dropped_event_stream_deletes_its_running_query() {
    let server = MockServer::start_async().await;
    let body = json!({
        "queryType": "LOG",
        "tenant": true,
        "startTime": "2026-04-21T00:00:00Z",
        "endTime": "2026-04-22T00:00:00Z",
        "queryPriority": "LOW",
        "log": {"filter": "", "limit": 50},
    });
    serve_launch(&server, body, running("q12", 0, 0)).await;
    let poll = serve_poll(&server, "q12", "0", 200, running("q12", 0, 9)).await;
    let delete = serve_delete(&server, "q12").await;
    let client = facade_client(&server);
    let options = quick().timeout(Duration::from_secs(30));
    let mut events = client
        .lrq()
        .log_events("", day(), &LrqScope::tenant(), 50, &options)
        .unwrap();
    tokio::select! {
        item = events.next() => panic!("the query should still run: {item:?}"),
        () = wait_for_calls(&poll, 1) => {}
    }
    delete.assert_calls_async(0).await;
    drop(events);
    assert!(client.finish_cleanup(Duration::from_secs(3)).await);
    delete.assert_calls_async(1).await;
}

#[tokio::test]
async fn bad_event_stream_inputs_are_refused_before_the_stream_exists() {
    let server = MockServer::start_async().await;
    let other = anything_else(&server).await;
    let client = facade_client(&server);
    let empty = TimeRange::new(at(2), at(1));
    let refused = [
        client
            .lrq()
            .log_events("", empty, &LrqScope::tenant(), 10, &quick())
            .err(),
        client
            .lrq()
            .log_events("", day(), &LrqScope::tenant(), 0, &quick())
            .err(),
        client
            .lrq()
            .log_events(
                "",
                day(),
                &LrqScope::accounts(Vec::<String>::new()),
                10,
                &quick(),
            )
            .err(),
    ];
    for error in refused {
        assert!(
            matches!(error, Some(Error::InvalidInput { .. })),
            "{error:?}"
        );
    }
    other.assert_calls_async(0).await;
}

#[tokio::test]
async fn sim_log_events_stream_page_by_page_and_stop_launching_when_dropped() {
    let sim = sim(Duration::from_millis(50), false).await;
    let client = sim
        .client_builder()
        .quotas(sentinelone::quota::Quotas::none())
        .build()
        .unwrap();
    let range = TimeRange::new(at(0), at(1));
    let options = LrqOptions::default().poll_interval(Duration::from_millis(20));
    let minutes = |events: &[LogEvent]| -> Vec<i64> {
        events
            .iter()
            .map(|e| (e.timestamp.unwrap() - at(0)).num_minutes())
            .collect()
    };
    // 60 events, 16 a query: the first 20 need the whole range (full,
    // halved), its first half (full, halved) and that half's two quarters.
    let first: Vec<LogEvent> = client
        .lrq()
        .log_events("", range, &LrqScope::tenant(), 16, &options)
        .unwrap()
        .take(20)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(minutes(&first), (0..20).collect::<Vec<_>>());
    assert!(client.finish_cleanup(Duration::from_secs(3)).await);
    let counters = sim.counters();
    assert_eq!(
        counters.lrq_launched.len(),
        4,
        "nothing launched beyond what was read"
    );
    assert_eq!(counters.lrq_deleted.len(), 4);

    // Two slices at once: still every event once, earliest first.
    let all: Vec<LogEvent> = client
        .lrq()
        .log_events(
            "",
            range,
            &LrqScope::tenant(),
            16,
            &options.clone().slices(2),
        )
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(minutes(&all), (0..60).collect::<Vec<_>>());
    // Every query launched is deleted; two slices finish in either order.
    let counters = sim.counters();
    let (mut deleted, mut launched) = (counters.lrq_deleted, counters.lrq_launched);
    deleted.sort();
    launched.sort();
    assert_eq!(deleted, launched);
    assert!(counters.lrq_expired.is_empty());
}

#[tokio::test]
async fn sim_five_queries_on_one_token_are_polled_before_they_expire() {
    let sim = SimConsole::builder()
        .lrq_duration(Duration::from_secs(3))
        // Scaled down from 30 s: five queries share two polls a second, so
        // each is polled about every 2.6 s.
        .lrq_expiry(Duration::from_secs(5))
        .rate_limits(true)
        .start()
        .await;
    let client = sim.client().unwrap();
    let range = TimeRange::new(at(0), at(1));
    let (scope, options) = (LrqScope::tenant(), LrqOptions::default());
    let runs = (0..5).map(|_| {
        client
            .lrq()
            .power_query("| group count() by event.type", range, &scope, &options)
    });
    let tables = futures_util::future::join_all(runs).await;
    for table in tables {
        assert_eq!(table.unwrap().match_count, Some(60.0));
    }
    let counters = sim.counters();
    assert_eq!(counters.lrq_launched.len(), 5);
    assert!(
        counters.lrq_expired.is_empty(),
        "{:?}",
        counters.lrq_expired
    );
    assert_eq!(counters.lrq_deleted.len(), 5);
    // The quota keeps within 3 a second; a request sent late (a loaded
    // machine) may still meet a 429, which is waited out.
    assert!(counters.throttled <= 2, "{} × 429", counters.throttled);
    assert!(counters.lrq_most_alive >= 2);
}

#[tokio::test]
async fn sim_console_rules_bearer_forward_tag_and_delete() {
    let sim = sim(Duration::from_secs(5), false).await;
    let http = support::http_client();
    let url = format!("{}{QUERIES}", sim.url());
    let body = json!({"queryType": "LOG", "tenant": true, "startTime": "2026-04-21T00:00:00Z",
        "endTime": "2026-04-21T01:00:00Z", "log": {"filter": "", "limit": 5}});
    let with_api_token = http
        .post(&url)
        .header("authorization", format!("ApiToken {}", sim.token()))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(with_api_token.status(), 500);
    let bearer = format!("Bearer {}", sim.token());
    let launched = http
        .post(&url)
        .header("authorization", &bearer)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(launched.status(), 200);
    let tag = launched.headers()[TAG_HEADER].to_str().unwrap().to_string();
    let answer: Value = launched.json().await.unwrap();
    assert_eq!(
        (
            answer["stepsCompleted"].as_i64(),
            answer["stepsTotal"].as_i64()
        ),
        (Some(0), Some(0))
    );
    let id = answer["id"].as_str().unwrap();
    let one = format!("{url}/{id}");
    let untagged = http
        .get(format!("{one}?lastStepSeen=0"))
        .header("authorization", &bearer)
        .send()
        .await
        .unwrap();
    assert_eq!(untagged.status(), 404);
    assert_eq!(
        untagged.json::<Value>().await.unwrap(),
        json!({"code": "not_found"})
    );
    let polled: Value = http
        .get(format!("{one}?lastStepSeen=0"))
        .header("authorization", &bearer)
        .header(TAG_HEADER, &tag)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(polled["stepsTotal"], 10);
    assert_eq!(polled["totalSteps"], 10);
    assert!(polled["data"].is_null());
    let no_step = http
        .get(&one)
        .header("authorization", &bearer)
        .header(TAG_HEADER, &tag)
        .send()
        .await
        .unwrap();
    assert_eq!(no_step.status(), 400);
    let delete = |tag: Option<&str>| {
        let mut request = http.delete(&one).header("authorization", &bearer);
        if let Some(tag) = tag {
            request = request.header(TAG_HEADER, tag);
        }
        request.send()
    };
    assert_eq!(delete(None).await.unwrap().status(), 404);
    assert_eq!(delete(Some(&tag)).await.unwrap().status(), 204);
    assert_eq!(delete(Some(&tag)).await.unwrap().status(), 404);
    assert_eq!(sim.counters().lrq_deleted, vec![id.to_string()]);
}

#[tokio::test]
async fn sim_query_expires_when_not_polled_and_the_client_says_so() {
    let sim = SimConsole::builder()
        .lrq_duration(Duration::from_secs(10))
        .lrq_expiry(Duration::from_millis(200))
        .rate_limits(false)
        .start()
        .await;
    let client = sim.client().unwrap();
    // Polls slower than the console's expiry.
    let options = LrqOptions::default().poll_interval(Duration::from_millis(500));
    let err = client
        .lrq()
        .power_query("x", day(), &LrqScope::tenant(), &options)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::QueryExpired { .. }), "{err:?}");
    let counters = sim.counters();
    assert_eq!(counters.lrq_expired.len(), 1);
    assert!(counters.lrq_deleted.is_empty());
}

#[tokio::test]
async fn sim_throttles_above_three_a_second() {
    let sim = sim(Duration::from_secs(5), true).await;
    let http = support::http_client();
    let bearer = format!("Bearer {}", sim.token());
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let answer = http
            .get(format!("{}{QUERIES}/unknown?lastStepSeen=0", sim.url()))
            .header("authorization", &bearer)
            .send()
            .await
            .unwrap();
        statuses.push((
            answer.status().as_u16(),
            answer.headers().get("retry-after").is_some(),
        ));
    }
    assert_eq!(
        statuses,
        [(404, false), (404, false), (404, false), (429, true)]
    );
}
