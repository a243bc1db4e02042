//! Deep Visibility composites (`sentinelone::dv`) against httpmock: the
//! exact requests (bodies, query parameters, paths, token), every query
//! state, the 409 retry, timeouts and abandoned waits that cancel the query
//! (and failures that do not), Power Query tables from the real fixtures'
//! shapes, and bad inputs that send nothing.
// These tests exercise the deprecated Deep Visibility composites, which
// stay until the endpoints end (2027-02-15).
#![allow(deprecated)]

use crate::support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use futures_util::TryStreamExt;
use httpmock::{HttpMockRequest, Mock, MockServer};
use sentinelone::dv::{
    self, AgentProcessQuery, DEFAULT_PROCESS_QUERY, DvQuery, EventType, PowerQuery, QueryState,
    QueryStatus, QueryType,
};
use sentinelone::{Error, Polling};
use serde_json::{Value, json};
use support::{auth_header, facade_client, shared_dir};

const INIT: &str = "/web/api/v2.1/dv/init-query";
const STATUS: &str = "/web/api/v2.1/dv/query-status";
const EVENTS: &str = "/web/api/v2.1/dv/events";
const CANCEL: &str = "/web/api/v2.1/dv/cancel-query";
const PQ: &str = "/web/api/v2.1/dv/events/pq";
const PQ_PING: &str = "/web/api/v2.1/dv/events/pq-ping";

/// The query id of the real init-query fixture.
const FIXTURE_QUERY_ID: &str = "qf8d47a87b5c9320f27e5f53f1735ceef";
/// The Power Query id of the real "running" fixture.
const PQ_RUNNING_ID: &str = "pqb57dd8d151c08304b0e56ec8b7d30b24";

fn at(day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 5, day, hour, 0, 0).unwrap()
}

/// Checks every 20 ms, for up to `timeout`.
fn quick(timeout: Duration) -> Polling {
    Polling::every(Duration::from_millis(20), timeout)
}

fn request(query: &str) -> DvQuery {
    DvQuery::new(query, at(1, 0), at(2, 0)).polling(quick(Duration::from_secs(3)))
}

/// A real fixture from `../shared/s1-fixtures`, or `None` (test skipped)
/// when `../shared` is not there.
fn fixture(name: &str) -> Option<Value> {
    let path = shared_dir()?.join("s1-fixtures").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    Some(serde_json::from_str(&text).unwrap())
}

/// Every status check reported to `on_progress`.
type Seen = Arc<Mutex<Vec<(QueryState, Option<i64>)>>>;

fn recorder() -> (Seen, impl Fn(&QueryStatus) + Send + Sync + 'static) {
    let seen: Seen = Arc::default();
    let record = seen.clone();
    (seen, move |s: &QueryStatus| {
        record.lock().unwrap().push((s.state.clone(), s.progress))
    })
}

async fn serve_init<'a>(server: &'a MockServer, answer: Value) -> Mock<'a> {
    server
        .mock_async(|when, then| {
            when.method("POST")
                .path(INIT)
                .header("authorization", auth_header());
            then.status(200).json_body(answer);
        })
        .await
}

fn status_body(state: &str, progress: i64, error: Option<&str>) -> Value {
    json!({ "data": {
        "responseState": state,
        "progressStatus": progress,
        "responseError": error,
        "warnings": null
    }})
}

async fn serve_status<'a>(server: &'a MockServer, id: &str, answer: Value) -> Mock<'a> {
    server
        .mock_async(|when, then| {
            when.method("GET")
                .path(STATUS)
                .query_param("queryId", id)
                .header("authorization", auth_header());
            then.status(200).json_body(answer);
        })
        .await
}

/// `dv/cancel-query` for exactly `{"queryId": id}`.
async fn serve_cancel<'a>(server: &'a MockServer, id: &str) -> Mock<'a> {
    server
        .mock_async(|when, then| {
            when.method("POST")
                .path(CANCEL)
                .header("authorization", auth_header())
                .json_body(json!({ "queryId": id }));
            then.status(200)
                .json_body(json!({ "data": { "success": "true" } }));
        })
        .await
}

/// Any request to `path` (to prove it was never made).
async fn any_at<'a>(server: &'a MockServer, path: &str) -> Mock<'a> {
    server
        .mock_async(|when, then| {
            when.path(path);
            then.status(200).json_body(json!({ "data": [] }));
        })
        .await
}

fn events_page(ids: &[&str], next: Option<&str>) -> Value {
    let data: Vec<Value> = ids
        .iter()
        .map(|id| json!({ "id": id, "agentName": "lab-pc1", "processName": "svchost.exe" }))
        .collect();
    json!({ "data": data, "pagination": { "nextCursor": next, "totalItems": 3 } })
}

/// One page of events at `path` for `id`, asked with `limit` and `cursor`
/// (`None`: the first page, no cursor), never with `skip`.
async fn serve_events<'a>(
    server: &'a MockServer,
    path: &str,
    id: &str,
    limit: u32,
    cursor: Option<&str>,
    answer: Value,
) -> Mock<'a> {
    let cursor = cursor.map(str::to_string);
    server
        .mock_async(move |when, then| {
            let when = when
                .method("GET")
                .path(path)
                .query_param("queryId", id)
                .query_param("limit", limit.to_string())
                .query_param_missing("skip")
                .header("authorization", auth_header());
            match cursor {
                Some(c) => when.query_param("cursor", c),
                None => when.query_param_missing("cursor"),
            };
            then.status(200).json_body(answer);
        })
        .await
}

/// Waits (boundedly) until `mock` was called `n` times: for requests sent
/// from a spawned task.
async fn wait_for_calls(mock: &Mock<'_>, n: usize) {
    for _ in 0..200 {
        if mock.calls_async().await >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!(
        "the mock was called {} times, {n} expected",
        mock.calls_async().await
    );
}

fn ids(events: &[dv::Event]) -> Vec<&str> {
    events.iter().map(|e| e.id.as_deref().unwrap()).collect()
}

fn invalid(result: Result<impl std::fmt::Debug, Error>) -> String {
    match result {
        Err(Error::InvalidInput { message }) => message,
        other => panic!("not InvalidInput: {other:?}"),
    }
}

// ---------------------------------------------------------------------------
// dv::query

#[tokio::test]
async fn query_sends_the_exact_body_waits_and_reads_every_page() {
    let Some(init_answer) = fixture("dv-init-query-with-querymodeinfo.json") else {
        return;
    };
    let server = MockServer::start_async().await;
    let id = FIXTURE_QUERY_ID;
    let init = server
        .mock_async(|when, then| {
            when.method("POST")
                .path(INIT)
                .header("authorization", auth_header())
                .json_body(json!({
                    "query": "ProcessImagePath CONTAINS \"svchost.exe\"",
                    "fromDate": "2024-05-01T00:00:00.000Z",
                    "toDate": "2024-05-02T00:00:00.000Z",
                    "limit": 5,
                    "accountIds": ["111"],
                    "siteIds": ["222"],
                    "queryType": ["events"]
                }));
            then.status(200).json_body(init_answer);
        })
        .await;
    let running = serve_status(&server, id, status_body("RUNNING", 30, None)).await;
    running.up_to_n_times_async(1).await;
    let finished = serve_status(&server, id, status_body("FINISHED", 100, None)).await;
    let page1 = serve_events(
        &server,
        EVENTS,
        id,
        5,
        None,
        events_page(&["e1", "e2"], Some("c1")),
    )
    .await;
    let page2 = serve_events(
        &server,
        EVENTS,
        id,
        5,
        Some("c1"),
        events_page(&["e3"], None),
    )
    .await;
    let cancel = any_at(&server, CANCEL).await;

    let (seen, on_progress) = recorder();
    let request = request(" ProcessImagePath CONTAINS \"svchost.exe\" ")
        .limit(5)
        .account_ids(["111"])
        .site_ids(["222"])
        .query_types([QueryType::Events])
        .on_progress(on_progress);
    let results = facade_client(&server).dv().query(&request).await.unwrap();

    assert_eq!(results.status.query_id, id);
    assert_eq!(results.status.state, QueryState::Finished);
    assert_eq!(ids(&results.events), ["e1", "e2", "e3"]);
    assert_eq!(
        results.events[0].process_name.as_deref(),
        Some("svchost.exe")
    );
    assert_eq!(
        *seen.lock().unwrap(),
        [
            (QueryState::Running, Some(30)),
            (QueryState::Finished, Some(100))
        ]
    );
    init.assert_calls_async(1).await;
    running.assert_calls_async(1).await;
    finished.assert_calls_async(1).await;
    page1.assert_calls_async(1).await;
    page2.assert_calls_async(1).await;
    cancel.assert_calls_async(0).await;
}

#[tokio::test]
async fn every_running_state_keeps_waiting() {
    let server = MockServer::start_async().await;
    serve_init(&server, json!({ "data": { "queryId": "q-run" } })).await;
    for state in [
        "PLANNING",
        "QUERY_RUNNING",
        "PROCESS_RUNNING",
        "EVENTS_RUNNING",
        "RUNNING",
    ] {
        serve_status(&server, "q-run", status_body(state, 10, None))
            .await
            .up_to_n_times_async(1)
            .await;
    }
    serve_status(&server, "q-run", status_body("EMPTY_RESULTS", 100, None)).await;
    let cancel = any_at(&server, CANCEL).await;
    let (seen, on_progress) = recorder();
    let results = facade_client(&server)
        .dv()
        .query(&request("x").on_progress(on_progress))
        .await
        .unwrap();
    assert!(results.events.is_empty());
    let states: Vec<String> = seen
        .lock()
        .unwrap()
        .iter()
        .map(|(s, _)| s.to_string())
        .collect();
    assert_eq!(
        states,
        [
            "PLANNING",
            "QUERY_RUNNING",
            "PROCESS_RUNNING",
            "EVENTS_RUNNING",
            "RUNNING",
            "EMPTY_RESULTS"
        ]
    );
    cancel.assert_calls_async(0).await;
}

#[tokio::test]
async fn the_limit_sets_the_page_size_and_stops_reading() {
    let server = MockServer::start_async().await;
    serve_init(&server, json!({ "data": { "queryId": "q-lim" } })).await;
    serve_status(&server, "q-lim", status_body("FINISHED", 100, None)).await;
    let page1 = serve_events(
        &server,
        EVENTS,
        "q-lim",
        3,
        None,
        events_page(&["e1", "e2", "e3"], Some("c1")),
    )
    .await;
    let page2 = serve_events(
        &server,
        EVENTS,
        "q-lim",
        3,
        Some("c1"),
        events_page(&["e4"], None),
    )
    .await;
    let results = facade_client(&server)
        .dv()
        .query(&request("x").limit(3))
        .await
        .unwrap();
    assert_eq!(ids(&results.events), ["e1", "e2", "e3"]);
    page1.assert_calls_async(1).await;
    page2.assert_calls_async(0).await;
}

#[tokio::test]
async fn empty_results_ask_for_no_events() {
    let server = MockServer::start_async().await;
    serve_init(&server, json!({ "data": { "queryId": "q-empty" } })).await;
    serve_status(&server, "q-empty", status_body("EMPTY_RESULTS", 100, None)).await;
    let events = any_at(&server, EVENTS).await;
    let cancel = any_at(&server, CANCEL).await;
    let results = facade_client(&server)
        .dv()
        .query(&request("x"))
        .await
        .unwrap();
    assert_eq!(results.status.state, QueryState::EmptyResults);
    assert!(results.events.is_empty());
    events.assert_calls_async(0).await;
    cancel.assert_calls_async(0).await;
}

#[tokio::test]
async fn failure_states_are_job_failures_naming_the_state_and_not_cancelled() {
    for state in [
        "FAILED",
        "FAILED_CLIENT",
        "QUERY_CANCELLED",
        "QUERY_EXPIRED",
        "TIMED_OUT",
        "QUERY_NOT_FOUND",
        "ERROR",
        "SOMETHING_NEW",
    ] {
        let server = MockServer::start_async().await;
        let id = format!("q-{state}");
        serve_init(&server, json!({ "data": { "queryId": id } })).await;
        let status = serve_status(
            &server,
            &id,
            status_body(state, 0, Some("could not parse query")),
        )
        .await;
        let events = any_at(&server, EVENTS).await;
        let cancel = any_at(&server, CANCEL).await;
        match facade_client(&server).dv().query(&request("x")).await {
            Err(Error::JobFailed {
                job,
                state: got,
                detail,
            }) => {
                assert_eq!(job, format!("Deep Visibility query {id}"));
                assert_eq!(got, state);
                assert_eq!(detail.as_deref(), Some("could not parse query"));
            }
            other => panic!("{state}: {other:?}"),
        }
        status.assert_calls_async(1).await;
        events.assert_calls_async(0).await;
        cancel.assert_calls_async(0).await;
    }
}

#[tokio::test]
async fn a_409_right_after_finished_is_asked_again() {
    let server = MockServer::start_async().await;
    serve_init(&server, json!({ "data": { "queryId": "q-409" } })).await;
    serve_status(&server, "q-409", status_body("FINISHED", 100, None)).await;
    let conflict = server
        .mock_async(|when, then| {
            when.method("GET")
                .path(EVENTS)
                .query_param("queryId", "q-409");
            then.status(409)
                .json_body(json!({ "errors": [{ "code": 4090000, "title": "Conflict" }] }));
        })
        .await;
    conflict.up_to_n_times_async(1).await;
    let page = serve_events(
        &server,
        EVENTS,
        "q-409",
        1000,
        None,
        events_page(&["e1"], None),
    )
    .await;
    let results = facade_client(&server)
        .dv()
        .query(&request("x"))
        .await
        .unwrap();
    assert_eq!(ids(&results.events), ["e1"]);
    conflict.assert_calls_async(1).await;
    page.assert_calls_async(1).await;
}

#[tokio::test]
async fn a_timeout_while_running_cancels_the_query() {
    let server = MockServer::start_async().await;
    serve_init(&server, json!({ "data": { "queryId": "q-slow" } })).await;
    let status = serve_status(&server, "q-slow", status_body("RUNNING", 40, None)).await;
    let cancel = serve_cancel(&server, "q-slow").await;
    let events = any_at(&server, EVENTS).await;
    let request = request("x").polling(quick(Duration::from_millis(120)));
    match facade_client(&server).dv().query(&request).await {
        Err(Error::WaitTimeout { waiting_for, .. }) => {
            assert_eq!(waiting_for, "Deep Visibility query q-slow");
        }
        other => panic!("{other:?}"),
    }
    // Cancelled before the error was returned.
    cancel.assert_calls_async(1).await;
    assert!(status.calls_async().await >= 1);
    events.assert_calls_async(0).await;
}

#[tokio::test]
async fn an_abandoned_wait_cancels_the_query() {
    let server = MockServer::start_async().await;
    serve_init(&server, json!({ "data": { "queryId": "q-gone" } })).await;
    let status = serve_status(&server, "q-gone", status_body("RUNNING", 40, None)).await;
    let cancel = serve_cancel(&server, "q-gone").await;
    let client = facade_client(&server);
    let request = request("x").polling(quick(Duration::from_secs(30)));
    // The caller stops waiting (here: `select!` drops the query future)
    // once the query is known to be running.
    tokio::select! {
        outcome = client.dv().query(&request) => panic!("the query should still run: {outcome:?}"),
        () = wait_for_calls(&status, 1) => {}
    }
    wait_for_calls(&cancel, 1).await;
}

#[tokio::test]
async fn a_dropped_started_query_is_cancelled_and_a_detached_one_is_not() {
    let server = MockServer::start_async().await;
    let client = facade_client(&server);
    let init = serve_init(&server, json!({ "data": { "queryId": "q-kept" } })).await;
    init.up_to_n_times_async(1).await;
    serve_init(&server, json!({ "data": { "queryId": "q-dropped" } })).await;
    let kept_cancel = serve_cancel(&server, "q-kept").await;
    let dropped_cancel = serve_cancel(&server, "q-dropped").await;

    let kept = client.dv().start(&request("x")).await.unwrap();
    assert_eq!(kept.id(), "q-kept");
    assert_eq!(kept.detach(), "q-kept");
    let dropped = client.dv().start(&request("x")).await.unwrap();
    assert_eq!(dropped.id(), "q-dropped");
    drop(dropped);

    wait_for_calls(&dropped_cancel, 1).await;
    kept_cancel.assert_calls_async(0).await;
}

#[tokio::test]
async fn an_init_error_is_an_api_error_and_nothing_follows() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method("POST").path(INIT);
            then.status(400).json_body(json!({ "errors": [{
                "code": 4000010,
                "title": "Validation Error",
                "detail": "Bad Request - could not parse query"
            }]}));
        })
        .await;
    let status = any_at(&server, STATUS).await;
    let cancel = any_at(&server, CANCEL).await;
    match facade_client(&server).dv().query(&request("x")).await {
        Err(Error::Api {
            status,
            operation,
            errors,
        }) => {
            assert_eq!((status, operation.as_str()), (400, "init_dv_query"));
            assert_eq!(
                errors[0].detail.as_deref(),
                Some("Bad Request - could not parse query")
            );
        }
        other => panic!("{other:?}"),
    }
    status.assert_calls_async(0).await;
    cancel.assert_calls_async(0).await;
}

#[tokio::test]
async fn a_status_error_cancels_the_query() {
    let server = MockServer::start_async().await;
    serve_init(&server, json!({ "data": { "queryId": "q-err" } })).await;
    server
        .mock_async(|when, then| {
            when.method("GET")
                .path(STATUS)
                .query_param("queryId", "q-err");
            then.status(400)
                .json_body(json!({ "errors": [{ "title": "Invalid query ID" }] }));
        })
        .await;
    let cancel = serve_cancel(&server, "q-err").await;
    match facade_client(&server).dv().query(&request("x")).await {
        Err(Error::Api {
            status: 400,
            operation,
            ..
        }) => {
            assert_eq!(operation, "get_dv_query_status")
        }
        other => panic!("{other:?}"),
    }
    cancel.assert_calls_async(1).await;
}

#[tokio::test]
async fn an_answer_without_a_state_is_a_decode_error() {
    let server = MockServer::start_async().await;
    serve_init(&server, json!({ "data": { "queryId": "q-odd" } })).await;
    serve_status(&server, "q-odd", json!({ "data": { "progressStatus": 5 } })).await;
    serve_cancel(&server, "q-odd").await;
    match facade_client(&server).dv().query(&request("x")).await {
        Err(Error::Decode {
            operation, message, ..
        }) => {
            assert_eq!(operation, "get_dv_query_status");
            assert!(message.contains("responseState"), "{message}");
        }
        other => panic!("{other:?}"),
    }
}

// ---------------------------------------------------------------------------
// Bad input

#[tokio::test]
async fn bad_inputs_are_refused_before_anything_is_sent() {
    let server = MockServer::start_async().await;
    let anything = server
        .mock_async(|when, then| {
            when.any_request();
            then.status(200).json_body(json!({}));
        })
        .await;
    let client = facade_client(&server);
    let (from, to) = (at(1, 0), at(2, 0));

    let dv_cases = [
        (
            DvQuery::new("x", from, to).limit(0),
            "limit 0 is out of range: 1 to 100000",
        ),
        (
            DvQuery::new("x", from, to).limit(100_001),
            "limit 100001 is out of range: 1 to 100000",
        ),
        (DvQuery::new("x", from, from), "the time range is empty"),
        (DvQuery::new("x", to, from), "the time range is empty"),
        (DvQuery::new(" \n\t ", from, to), "query is required"),
        (DvQuery::new("x", from, to).site_ids(["abc"]), "site_ids[0]"),
    ];
    for (request, expected) in dv_cases {
        let message = invalid(client.dv().query(&request).await);
        assert!(message.starts_with(expected), "{message}");
        let message = invalid(client.dv().start(&request).await);
        assert!(message.starts_with(expected), "{message}");
    }

    let pq_cases = [
        (PowerQuery::new("x", from, to).limit(0), "limit 0"),
        (
            PowerQuery::new("x", from, to).limit(100_001),
            "limit 100001",
        ),
        (PowerQuery::new("x", to, from), "the time range is empty"),
        (PowerQuery::new("  ", from, to), "query is required"),
    ];
    for (request, expected) in pq_cases {
        let message = invalid(client.dv().power_query(&request).await);
        assert!(message.starts_with(expected), "{message}");
    }

    let process_cases = [
        (
            AgentProcessQuery::new().limit(0),
            "limit 0 is out of range: 1 to 1000",
        ),
        (
            AgentProcessQuery::new().limit(1001),
            "limit 1001 is out of range: 1 to 1000",
        ),
        (AgentProcessQuery::new().query(" "), "query is required"),
        (
            AgentProcessQuery::new().start(to).end(from),
            "the time range is empty",
        ),
    ];
    for (request, expected) in process_cases {
        let message = invalid(client.dv().agent_processes(&request).await);
        assert!(message.starts_with(expected), "{message}");
    }

    assert_eq!(
        invalid(client.dv().events(" ", None).map(|_| ())),
        "query_id is required"
    );
    assert_eq!(
        invalid(
            client
                .dv()
                .events("q1", Some(EventType::Other(" ".into())))
                .map(|_| ())
        ),
        "event_type is required"
    );
    assert_eq!(
        invalid(client.dv().events_by_type("", EventType::Dns).await),
        "query_id is required"
    );

    anything.assert_calls_async(0).await;
}

// ---------------------------------------------------------------------------
// Events by type

#[tokio::test]
async fn events_by_type_follow_the_cursor_on_the_type_path() {
    let server = MockServer::start_async().await;
    let path = "/web/api/v2.1/dv/events/scheduled_task";
    let page1 = serve_events(
        &server,
        path,
        "q1",
        1000,
        None,
        events_page(&["t1", "t2"], Some("c1")),
    )
    .await;
    let page2 = serve_events(
        &server,
        path,
        "q1",
        1000,
        Some("c1"),
        events_page(&["t3"], None),
    )
    .await;
    let all = any_at(&server, EVENTS).await;
    let events = facade_client(&server)
        .dv()
        .events_by_type("q1", EventType::ScheduledTask)
        .await
        .unwrap();
    assert_eq!(ids(&events), ["t1", "t2", "t3"]);
    page1.assert_calls_async(1).await;
    page2.assert_calls_async(1).await;
    all.assert_calls_async(0).await;
}

#[tokio::test]
async fn the_events_stream_is_lazy() {
    let server = MockServer::start_async().await;
    let page1 = serve_events(
        &server,
        EVENTS,
        "q2",
        1000,
        None,
        events_page(&["e1", "e2"], Some("c1")),
    )
    .await;
    let page2 = serve_events(
        &server,
        EVENTS,
        "q2",
        1000,
        Some("c1"),
        events_page(&["e3"], None),
    )
    .await;
    let client = facade_client(&server);
    let mut stream = client.dv().events("q2", None).unwrap();
    let first = stream.try_next().await.unwrap().unwrap();
    assert_eq!(first.id.as_deref(), Some("e1"));
    page1.assert_calls_async(1).await;
    page2.assert_calls_async(0).await;
}

#[tokio::test]
async fn an_events_error_names_the_operation() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method("GET").path("/web/api/v2.1/dv/events/dns");
            then.status(400)
                .json_body(json!({ "errors": [{ "title": "Bad Request: ['Invalid query ID']" }] }));
        })
        .await;
    match facade_client(&server)
        .dv()
        .events_by_type("nope", EventType::Dns)
        .await
    {
        Err(Error::Api {
            status: 400,
            operation,
            ..
        }) => {
            assert_eq!(operation, "list_dv_events_by_type")
        }
        other => panic!("{other:?}"),
    }
}

// ---------------------------------------------------------------------------
// Agent processes

#[tokio::test]
async fn agent_processes_run_the_query_and_read_process_events() {
    let server = MockServer::start_async().await;
    let init = server
        .mock_async(|when, then| {
            when.method("POST")
                .path(INIT)
                .header("authorization", auth_header())
                .json_body(json!({
                    "query": "ProcessImagePath CONTAINS \"windows\"",
                    "fromDate": "2024-05-01T00:00:00.000Z",
                    "toDate": "2024-05-02T00:00:00.000Z",
                    "limit": 10
                }));
            then.status(200)
                .json_body(json!({ "data": { "queryId": "q-proc" } }));
        })
        .await;
    serve_status(&server, "q-proc", status_body("FINISHED", 100, None)).await;
    let processes = serve_events(
        &server,
        "/web/api/v2.1/dv/events/process",
        "q-proc",
        10,
        None,
        events_page(&["p1", "p2"], None),
    )
    .await;
    let all = any_at(&server, EVENTS).await;
    let request = AgentProcessQuery::new()
        .start(at(1, 0))
        .end(at(2, 0))
        .query("ProcessImagePath CONTAINS \"windows\"")
        .limit(10)
        .polling(quick(Duration::from_secs(3)));
    let results = facade_client(&server)
        .dv()
        .agent_processes(&request)
        .await
        .unwrap();
    assert_eq!(ids(&results.events), ["p1", "p2"]);
    init.assert_calls_async(1).await;
    processes.assert_calls_async(1).await;
    all.assert_calls_async(0).await;
}

#[tokio::test]
async fn agent_processes_default_to_process_creations_of_the_last_day() {
    let server = MockServer::start_async().await;
    let init = server
        .mock_async(|when, then| {
            when.method("POST")
                .path(INIT)
                .is_true(|req: &HttpMockRequest| {
                    let body: Value = serde_json::from_slice(req.body_ref()).unwrap_or_default();
                    let date = |k: &str| {
                        body[k]
                            .as_str()
                            .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
                    };
                    let day = match (date("fromDate"), date("toDate")) {
                        (Some(from), Some(to)) => to - from == chrono::TimeDelta::hours(24),
                        _ => false,
                    };
                    day && body["query"] == DEFAULT_PROCESS_QUERY
                        && body["limit"] == 1000
                        && body.as_object().map(|o| o.len()) == Some(4)
                });
            then.status(200)
                .json_body(json!({ "data": { "queryId": "q-default" } }));
        })
        .await;
    serve_status(
        &server,
        "q-default",
        status_body("EMPTY_RESULTS", 100, None),
    )
    .await;
    let results = facade_client(&server)
        .dv()
        .agent_processes(&AgentProcessQuery::new().polling(quick(Duration::from_secs(3))))
        .await
        .unwrap();
    assert!(results.events.is_empty());
    init.assert_calls_async(1).await;
}

// ---------------------------------------------------------------------------
// Power Query

fn pq_request() -> PowerQuery {
    PowerQuery::new(
        "event.time = * | columns eventTime = event.time, agentUuid = agent.uuid, siteId = site.id",
        at(1, 0),
        at(2, 0),
    )
    .polling(quick(Duration::from_secs(3)))
}

async fn serve_pq_create<'a>(server: &'a MockServer, answer: Value) -> Mock<'a> {
    server
        .mock_async(|when, then| {
            when.method("POST")
                .path(PQ)
                .header("authorization", auth_header());
            then.status(200).json_body(answer);
        })
        .await
}

async fn serve_pq_ping<'a>(server: &'a MockServer, id: &str, answer: Value) -> Mock<'a> {
    server
        .mock_async(|when, then| {
            when.method("GET")
                .path(PQ_PING)
                .query_param("queryId", id)
                .header("authorization", auth_header());
            then.status(200).json_body(answer);
        })
        .await
}

#[tokio::test]
async fn a_power_query_is_pinged_until_finished_into_a_table() {
    let (Some(running), Some(mut finished)) = (
        fixture("dv-events-pq-running.json"),
        fixture("dv-events-pq-ping.json"),
    ) else {
        return;
    };
    finished["data"]["data"] = json!([
        ["2024-05-01T10:00:00Z", "uuid-1", "225494730938493804"],
        ["2024-05-01T11:00:00Z", "uuid-2", 42]
    ]);
    let server = MockServer::start_async().await;
    let create = server
        .mock_async(|when, then| {
            when.method("POST")
                .path(PQ)
                .header("authorization", auth_header())
                .json_body(json!({
                    "query": "event.time = * | columns eventTime = event.time, agentUuid = agent.uuid, siteId = site.id",
                    "fromDate": "2024-05-01T00:00:00.000Z",
                    "toDate": "2024-05-02T00:00:00.000Z",
                    "limit": 10,
                    "siteIds": ["225494730938493804"]
                }));
            then.status(200).json_body(running.clone());
        })
        .await;
    let still = serve_pq_ping(&server, PQ_RUNNING_ID, running).await;
    still.up_to_n_times_async(1).await;
    let done = serve_pq_ping(&server, PQ_RUNNING_ID, finished).await;
    let cancel = any_at(&server, CANCEL).await;

    let (seen, on_progress) = recorder();
    let request = pq_request()
        .limit(10)
        .site_ids(["225494730938493804"])
        .on_progress(on_progress);
    let table = facade_client(&server)
        .dv()
        .power_query(&request)
        .await
        .unwrap();

    assert_eq!(table.query_id, PQ_RUNNING_ID);
    let columns: Vec<(&str, &str)> = table
        .columns
        .iter()
        .map(|c| (c.name.as_str(), c.kind.as_str()))
        .collect();
    assert_eq!(
        columns,
        [
            ("eventTime", "UNKNOWN"),
            ("agentUuid", "UNKNOWN"),
            ("siteId", "UNKNOWN")
        ]
    );
    assert_eq!(table.rows.len(), 2);
    assert_eq!(table.value(1, "agentUuid"), Some(&json!("uuid-2")));
    assert_eq!(table.value(1, "siteId"), Some(&json!(42)));
    assert_eq!(table.recommendations.len(), 1);
    assert!(table.recommendations[0].starts_with("Result set limited to 1000 rows"));
    assert_eq!(
        *seen.lock().unwrap(),
        [
            (QueryState::Running, Some(78)),
            (QueryState::Running, Some(78)),
            (QueryState::Finished, Some(100))
        ]
    );
    create.assert_calls_async(1).await;
    still.assert_calls_async(1).await;
    done.assert_calls_async(1).await;
    cancel.assert_calls_async(0).await;
}

#[tokio::test]
async fn a_power_query_finished_at_creation_is_not_pinged() {
    let Some(finished) = fixture("dv-events-pq-ping.json") else {
        return;
    };
    let server = MockServer::start_async().await;
    serve_pq_create(&server, finished).await;
    let ping = any_at(&server, PQ_PING).await;
    let table = facade_client(&server)
        .dv()
        .power_query(&pq_request())
        .await
        .unwrap();
    assert_eq!(table.query_id, "pq782813055dddb600360cf99d47d0c16f");
    assert_eq!(table.columns.len(), 3);
    assert!(table.rows.is_empty());
    ping.assert_calls_async(0).await;
}

#[tokio::test]
async fn a_failed_power_query_is_a_job_failure() {
    let Some(running) = fixture("dv-events-pq-running.json") else {
        return;
    };
    let server = MockServer::start_async().await;
    serve_pq_create(&server, running).await;
    serve_pq_ping(
        &server,
        PQ_RUNNING_ID,
        json!({
            "data": { "queryId": PQ_RUNNING_ID, "status": "FAILED", "progress": 78,
                      "columns": [], "data": [], "recommendations": [] },
            "errors": [{ "title": "Query failed", "detail": "unknown field agent.nope" }]
        }),
    )
    .await;
    let cancel = any_at(&server, CANCEL).await;
    match facade_client(&server).dv().power_query(&pq_request()).await {
        Err(Error::JobFailed { job, state, detail }) => {
            assert_eq!(job, format!("Power Query {PQ_RUNNING_ID}"));
            assert_eq!(state, "FAILED");
            assert_eq!(
                detail.as_deref(),
                Some("Query failed: unknown field agent.nope")
            );
        }
        other => panic!("{other:?}"),
    }
    cancel.assert_calls_async(0).await;
}

#[tokio::test]
async fn a_power_query_timeout_cancels_it() {
    let Some(running) = fixture("dv-events-pq-running.json") else {
        return;
    };
    let server = MockServer::start_async().await;
    serve_pq_create(&server, running.clone()).await;
    let ping = serve_pq_ping(&server, PQ_RUNNING_ID, running).await;
    let cancel = serve_cancel(&server, PQ_RUNNING_ID).await;
    let request = pq_request().polling(quick(Duration::from_millis(120)));
    match facade_client(&server).dv().power_query(&request).await {
        Err(Error::WaitTimeout { waiting_for, .. }) => {
            assert_eq!(waiting_for, format!("Power Query {PQ_RUNNING_ID}"));
        }
        other => panic!("{other:?}"),
    }
    assert!(ping.calls_async().await >= 1);
    cancel.assert_calls_async(1).await;
}

/// Issue 12 item 7: the query's window goes out in whole milliseconds with
/// `Z`, three digits always, never nine.
#[tokio::test]
async fn query_times_go_out_in_milliseconds() {
    let server = MockServer::start_async().await;
    let init = server
        .mock_async(|when, then| {
            when.method("POST").path(INIT).json_body(json!({
                "query": "AgentName IS NOT EMPTY",
                "fromDate": "2024-05-01T00:00:00.123Z",
                "toDate": "2024-05-02T00:00:00.000Z",
            }));
            then.status(200)
                .json_body(json!({ "data": { "queryId": "q1" } }));
        })
        .await;
    let from = at(1, 0) + chrono::TimeDelta::nanoseconds(123_456_789);
    // A whole second still carries its three digits.
    let to = at(2, 0);

    facade_client(&server)
        .dv()
        .start(&DvQuery::new("AgentName IS NOT EMPTY", from, to))
        .await
        .unwrap();

    init.assert_async().await;
}
