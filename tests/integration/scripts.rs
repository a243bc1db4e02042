//! `sentinelone::scripts`: the exact execute request, waiting for every
//! agent's task to end (and giving up at the polling limit), no wait when
//! nothing runs, hosts resolved to agent ids, bad input refused before
//! anything is sent, result links read in the shapes consoles use, and
//! result files downloaded from a storage host that never sees the token.

use crate::support;

use support::exact_query;

use std::time::Duration;

use httpmock::Method::{GET, POST};
use httpmock::{Mock, MockServer};
use sentinelone::scripts::{OutputDestination, ResultLink, ScriptRun, TaskState};
use sentinelone::{Error, Polling};
use serde_json::{Value, json};

const EXECUTE: &str = "/web/api/v2.1/remote-scripts/execute";
const STATUS: &str = "/web/api/v2.1/remote-scripts/status";
const FETCH: &str = "/web/api/v2.1/remote-scripts/fetch-files";
const AGENTS: &str = "/web/api/v2.1/agents";

const SCRIPT: &str = "1234567890123456789";
const PARENT: &str = "1818000000000000001";
const TASK_1: &str = "1819000000000000001";
const TASK_2: &str = "1819000000000000002";
const PASSWORD: &str = "Collect-2024!x";

fn quick() -> Polling {
    Polling::every(Duration::from_millis(20), Duration::from_secs(5))
}

fn script() -> ScriptRun {
    ScriptRun::new(SCRIPT, "collect autoruns", OutputDestination::SentinelCloud).polling(quick())
}

fn task(id: &str, agent: &str, name: &str, status: &str) -> Value {
    json!({
        "id": id,
        "agentId": agent,
        "agentComputerName": name,
        "parentTaskId": PARENT,
        "status": status,
        "detailedStatus": format!("{status} on {name}"),
        "type": "script_execution"
    })
}

async fn execute<'a>(server: &'a MockServer, body: Value, answer: Value) -> Mock<'a> {
    server
        .mock_async(|when, then| {
            when.method(POST)
                .path(EXECUTE)
                .header("authorization", support::auth_header())
                .header("content-type", "application/json")
                .json_body(body);
            then.status(200).json_body(answer);
        })
        .await
}

fn started(affected: u64) -> Value {
    json!({ "data": { "parentTaskId": PARENT, "affected": affected, "pending": false } })
}

/// `GET /remote-scripts/status` for the parent task, answering `tasks`; at
/// most `times` times when given (later requests fall through to mocks
/// registered after this one).
async fn statuses<'a>(server: &'a MockServer, tasks: Value, times: Option<usize>) -> Mock<'a> {
    server
        .mock_async(|when, then| {
            let when = when
                .method(GET)
                .path(STATUS)
                .header("authorization", support::auth_header());
            exact_query(when, &[("parentTaskId", PARENT), ("limit", "1000")]);
            let then = then.status(200).json_body(json!({
                "data": tasks,
                "pagination": { "nextCursor": null, "totalItems": 2 }
            }));
            if let Some(n) = times {
                then.up_to_n_times(n);
            }
        })
        .await
}

async fn anything(server: &MockServer) -> Mock<'_> {
    server
        .mock_async(|when, then| {
            when.any_request();
            then.status(200).json_body(json!({ "data": {} }));
        })
        .await
}

fn invalid_message(err: Error) -> String {
    match err {
        Error::InvalidInput { message } => message,
        other => panic!("expected InvalidInput, got {other:?}"),
    }
}

#[tokio::test]
async fn run_sends_the_script_and_waits_for_every_task() {
    let server = MockServer::start_async().await;
    let sent = execute(
        &server,
        json!({
            "data": {
                "scriptId": SCRIPT,
                "taskDescription": "collect autoruns",
                "outputDestination": "SentinelCloud",
                "password": PASSWORD,
                "inputParams": "-Verbose",
                "scriptRuntimeTimeoutSeconds": 600
            },
            "filter": { "ids": ["501", "502"] }
        }),
        started(2),
    )
    .await;
    let running = statuses(
        &server,
        json!([task(TASK_1, "501", "pc1", "in_progress")]),
        Some(1),
    )
    .await;
    let one_done = statuses(
        &server,
        json!([
            task(TASK_1, "501", "pc1", "completed"),
            task(TASK_2, "502", "pc2", "pending")
        ]),
        Some(1),
    )
    .await;
    let all_done = statuses(
        &server,
        json!([
            task(TASK_1, "501", "pc1", "completed"),
            task(TASK_2, "502", "pc2", "failed")
        ]),
        None,
    )
    .await;
    let run = script()
        .agent_ids(["501", "502"])
        .password(PASSWORD.to_string().into())
        .input_params("-Verbose")
        .runtime_timeout(Duration::from_secs(600));
    let result = support::facade_client(&server)
        .scripts()
        .run(&run)
        .await
        .expect("the run ends");
    sent.assert_async().await;
    running.assert_calls_async(1).await;
    one_done.assert_calls_async(1).await;
    all_done.assert_calls_async(1).await;
    assert_eq!(result.parent_task_id.as_deref(), Some(PARENT));
    assert_eq!(result.affected, 2);
    assert_eq!(result.pending_execution_id, None);
    let states: Vec<_> = result.tasks.iter().map(|t| t.state.clone()).collect();
    assert_eq!(states, [TaskState::Completed, TaskState::Failed]);
    assert_eq!(result.tasks[1].id.as_deref(), Some(TASK_2));
    assert_eq!(result.tasks[1].computer_name.as_deref(), Some("pc2"));
    assert_eq!(
        result.tasks[1].detailed_status.as_deref(),
        Some("failed on pc2")
    );
    // The password stays out of Debug output.
    assert!(!format!("{run:?}").contains(PASSWORD));
    assert!(!format!("{run:?}").contains("-Verbose"));
}

#[tokio::test]
async fn tasks_that_never_end_give_a_wait_timeout() {
    let server = MockServer::start_async().await;
    execute(
        &server,
        json!({
            "data": {
                "scriptId": SCRIPT,
                "taskDescription": "collect autoruns",
                "outputDestination": "SentinelCloud"
            },
            "filter": { "ids": ["501"] }
        }),
        started(1),
    )
    .await;
    // Unknown states are never taken as final.
    let polled = statuses(
        &server,
        json!([task(TASK_1, "501", "pc1", "waiting_for_reboot")]),
        None,
    )
    .await;
    let run = script().agent_ids(["501"]).polling(Polling::every(
        Duration::from_millis(20),
        Duration::from_millis(150),
    ));
    let err = support::facade_client(&server)
        .scripts()
        .run(&run)
        .await
        .expect_err("the tasks never end");
    match err {
        Error::WaitTimeout { waiting_for, .. } => {
            assert!(waiting_for.contains(PARENT), "{waiting_for}");
            assert!(waiting_for.contains("0 of 1 finished"), "{waiting_for}");
        }
        other => panic!("expected WaitTimeout, got {other:?}"),
    }
    assert!(polled.calls_async().await >= 2);
}

#[tokio::test]
async fn nothing_started_means_no_wait() {
    let server = MockServer::start_async().await;
    let sent = execute(
        &server,
        json!({
            "data": {
                "scriptId": SCRIPT,
                "taskDescription": "collect autoruns",
                "outputDestination": "SentinelCloud"
            },
            "filter": { "groupIds": ["1511111111111111111"] }
        }),
        json!({ "data": { "parentTaskId": null, "affected": 0 } }),
    )
    .await;
    let polled = statuses(&server, json!([]), None).await;
    let run = script().group_ids(["1511111111111111111"]);
    let result = support::facade_client(&server)
        .scripts()
        .run(&run)
        .await
        .expect("nothing to wait for");
    sent.assert_async().await;
    polled.assert_calls_async(0).await;
    assert_eq!(result.affected, 0);
    assert!(result.tasks.is_empty());
}

#[tokio::test]
async fn a_run_awaiting_approval_is_not_waited_for() {
    let server = MockServer::start_async().await;
    execute(
        &server,
        json!({
            "data": {
                "scriptId": SCRIPT,
                "taskDescription": "collect autoruns",
                "outputDestination": "SentinelCloud"
            },
            "filter": { "siteIds": ["947111111111111111"] }
        }),
        json!({ "data": { "affected": 4, "pending": true, "pendingExecutionId": "77" } }),
    )
    .await;
    let polled = statuses(&server, json!([]), None).await;
    let run = script().site_ids(["947111111111111111"]);
    let result = support::facade_client(&server)
        .scripts()
        .run(&run)
        .await
        .expect("held for approval");
    polled.assert_calls_async(0).await;
    assert_eq!(result.pending_execution_id.as_deref(), Some("77"));
    assert_eq!(result.affected, 4);
    assert!(result.tasks.is_empty());
}

#[tokio::test]
async fn hosts_are_resolved_to_agent_ids_and_local_output_is_sent() {
    let server = MockServer::start_async().await;
    let lookup = server
        .mock_async(|when, then| {
            let when = when.method(GET).path(AGENTS);
            exact_query(
                when,
                &[
                    ("computerName__contains", "DESKTOP-1,NOPE"),
                    ("limit", "1000"),
                ],
            );
            then.status(200).json_body(json!({ "data": [
                { "id": "601", "computerName": "desktop-1" },
                { "id": "610", "computerName": "DESKTOP-10" }
            ] }));
        })
        .await;
    let sent = execute(
        &server,
        json!({
            "data": {
                "scriptId": SCRIPT,
                "taskDescription": "collect autoruns",
                "outputDestination": "Local",
                "outputDirectory": "C:\\Results"
            },
            "filter": { "ids": ["501", "601"] }
        }),
        started(2),
    )
    .await;
    statuses(
        &server,
        json!([
            task(TASK_1, "501", "pc1", "completed"),
            task(TASK_2, "601", "desktop-1", "expired")
        ]),
        None,
    )
    .await;
    let run = ScriptRun::new(SCRIPT, "collect autoruns", OutputDestination::Local)
        .output_directory("C:\\Results")
        .hosts(["DESKTOP-1", "NOPE"])
        .agent_ids(["501"])
        .polling(quick());
    let result = support::facade_client(&server)
        .scripts()
        .run(&run)
        .await
        .expect("the run ends");
    lookup.assert_async().await;
    sent.assert_async().await;
    assert_eq!(result.unmatched_hosts, ["NOPE"]);
    assert_eq!(result.tasks[1].state, TaskState::Expired);
}

#[tokio::test]
async fn bad_runs_send_nothing() {
    let server = MockServer::start_async().await;
    let any = anything(&server).await;
    let client = support::facade_client(&server);
    let refused = |run: ScriptRun| {
        let client = client.clone();
        async move { invalid_message(client.scripts().run(&run).await.unwrap_err()) }
    };
    assert_eq!(
        refused(script()).await,
        "script targets: give hosts, agent ids, group ids or site ids"
    );
    let weak = refused(
        script()
            .agent_ids(["501"])
            .password("password1".to_string().into()),
    )
    .await;
    assert!(weak.starts_with("password is too weak"), "{weak}");
    assert!(!weak.contains("password1"));
    assert_eq!(
        refused(
            ScriptRun::new(SCRIPT, "d", OutputDestination::Local)
                .agent_ids(["501"])
                .polling(quick())
        )
        .await,
        "output_directory is required when the destination is Local"
    );
    assert!(
        refused(
            ScriptRun::new(SCRIPT, "d", OutputDestination::Local)
                .agent_ids(["501"])
                .output_directory("results")
        )
        .await
        .contains("is not an absolute path")
    );
    assert!(
        refused(ScriptRun::new("script-1", "d", OutputDestination::None).agent_ids(["501"]))
            .await
            .starts_with("script_id")
    );
    assert_eq!(
        refused(ScriptRun::new(SCRIPT, " ", OutputDestination::None).agent_ids(["501"])).await,
        "description is required"
    );
    assert!(
        refused(
            script()
                .agent_ids(["501"])
                .runtime_timeout(Duration::from_millis(500))
        )
        .await
        .starts_with("runtime_timeout (seconds) 0 is out of range")
    );
    assert!(
        refused(script().agent_ids(["abc"]))
            .await
            .starts_with("agent_ids[0]")
    );
    assert!(refused(script().hosts([""])).await.starts_with("hosts[0]"));
    any.assert_calls_async(0).await;
}

#[tokio::test]
async fn a_refused_run_is_an_api_error_and_nothing_is_polled() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(POST).path(EXECUTE);
            then.status(401).json_body(json!({ "errors": [
                { "code": 4010010, "title": "Authentication Failed" }
            ] }));
        })
        .await;
    let polled = statuses(&server, json!([]), None).await;
    let err = support::facade_client(&server)
        .scripts()
        .run(&script().agent_ids(["501"]))
        .await
        .expect_err("refused");
    assert_eq!(err.status(), Some(401));
    assert_eq!(err.operation(), Some("run_remote_script"));
    polled.assert_calls_async(0).await;
}

#[tokio::test]
async fn a_failing_status_check_stops_the_wait() {
    let server = MockServer::start_async().await;
    execute(
        &server,
        json!({
            "data": {
                "scriptId": SCRIPT,
                "taskDescription": "collect autoruns",
                "outputDestination": "SentinelCloud"
            },
            "filter": { "ids": ["501"] }
        }),
        started(1),
    )
    .await;
    server
        .mock_async(|when, then| {
            when.method(GET).path(STATUS);
            then.status(403)
                .json_body(json!({ "errors": [{ "title": "Unauthorized access" }] }));
        })
        .await;
    let err = support::facade_client(&server)
        .scripts()
        .run(&script().agent_ids(["501"]))
        .await
        .expect_err("status refused");
    assert_eq!(err.status(), Some(403));
    assert_eq!(err.operation(), Some("list_remote_script_statuses"));
}

/// The storage host: serves `path` only to requests without a token; a
/// request carrying one would hit the guard.
async fn storage<'a>(storage: &'a MockServer, path: &str, body: &str) -> (Mock<'a>, Mock<'a>) {
    let file = storage
        .mock_async(|when, then| {
            when.method(GET)
                .path(path)
                .query_param("X-Amz-Signature", "sig")
                .header_missing("authorization");
            then.status(200).body(body);
        })
        .await;
    let guard = storage
        .mock_async(|when, then| {
            when.header_exists("authorization");
            then.status(200).body("token leaked");
        })
        .await;
    (file, guard)
}

#[tokio::test]
async fn links_are_fetched_and_downloaded_without_leaking_the_token() {
    let server = MockServer::start_async().await;
    let bucket = MockServer::start_async().await;
    let (file, guard) = storage(&bucket, "/bucket/r1.zip", "zip-bytes-1").await;
    let on_console = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/web/api/v2.1/remote-scripts/results/2")
                .header("authorization", support::auth_header());
            then.status(200).body("zip-bytes-2");
        })
        .await;
    let fetch = server
        .mock_async(|when, then| {
            when.method(POST)
                .path(FETCH)
                .header("authorization", support::auth_header())
                .header("content-type", "application/json")
                .json_body(json!({ "data": { "taskIds": [TASK_1, TASK_2, "1819000000000000003"] } }));
            then.status(200).json_body(json!({ "data": {
                "download_links": [
                    { "taskId": TASK_1, "fileName": "../r1.zip", "downloadUrl": bucket.url("/bucket/r1.zip?X-Amz-Signature=sig") },
                    { "taskId": TASK_2, "fileName": "r1.zip", "downloadUrl": server.url("/web/api/v2.1/remote-scripts/results/2") },
                    { "taskId": "1819000000000000004", "fileName": "no-url.zip" }
                ],
                "errors": [{ "taskId": "1819000000000000003", "errorString": "no output" }]
            } }));
        })
        .await;
    let client = support::facade_client(&server);
    let ids = vec![
        TASK_1.to_string(),
        TASK_2.into(),
        "1819000000000000003".into(),
    ];
    let links = client.scripts().result_links(&ids).await.expect("links");
    fetch.assert_async().await;
    assert_eq!(links.links.len(), 2);
    assert_eq!(links.errors[0].message.as_deref(), Some("no output"));
    let dir = tempfile::tempdir().unwrap();
    let files = client
        .scripts()
        .download_results(&links.links, dir.path(), false)
        .await
        .expect("downloads");
    file.assert_async().await;
    guard.assert_calls_async(0).await;
    on_console.assert_async().await;
    assert_eq!(files[0].path, dir.path().join("r1.zip"));
    assert_eq!(files[1].path, dir.path().join(format!("{TASK_2}_r1.zip")));
    assert_eq!(
        std::fs::read_to_string(&files[0].path).unwrap(),
        "zip-bytes-1"
    );
    assert_eq!(
        std::fs::read_to_string(&files[1].path).unwrap(),
        "zip-bytes-2"
    );
    assert_eq!(files[1].bytes, 11);
}

#[tokio::test]
async fn run_and_collect_downloads_the_completed_tasks_results() {
    let server = MockServer::start_async().await;
    let bucket = MockServer::start_async().await;
    let (file, guard) = storage(&bucket, "/bucket/pc1.zip", "pc1-results").await;
    execute(
        &server,
        json!({
            "data": {
                "scriptId": SCRIPT,
                "taskDescription": "collect autoruns",
                "outputDestination": "SentinelCloud"
            },
            "filter": { "ids": ["501", "502"] }
        }),
        started(2),
    )
    .await;
    statuses(
        &server,
        json!([
            task(TASK_1, "501", "pc1", "completed"),
            task(TASK_2, "502", "pc2", "failed")
        ]),
        None,
    )
    .await;
    // Consoles answer `data.download_links`, not the documented
    // `data.data.downloadLinks`.
    let fetch = server
        .mock_async(|when, then| {
            when.method(POST)
                .path(FETCH)
                .json_body(json!({ "data": { "taskIds": [TASK_1] } }));
            then.status(200).json_body(json!({ "data": {
                "download_links": [
                    { "taskId": TASK_1, "fileName": "pc1.zip", "downloadUrl": bucket.url("/bucket/pc1.zip?X-Amz-Signature=sig") }
                ],
                "errors": []
            } }));
        })
        .await;
    let dir = tempfile::tempdir().unwrap();
    let run = script().agent_ids(["501", "502"]);
    let collected = support::facade_client(&server)
        .scripts()
        .run_and_collect(&run, dir.path())
        .await
        .expect("collected");
    fetch.assert_async().await;
    file.assert_async().await;
    guard.assert_calls_async(0).await;
    assert_eq!(collected.run.tasks.len(), 2);
    assert_eq!(
        collected.links.links,
        [ResultLink {
            task_id: Some(TASK_1.into()),
            file_name: Some("pc1.zip".into()),
            download_url: bucket.url("/bucket/pc1.zip?X-Amz-Signature=sig"),
        }]
    );
    assert_eq!(collected.files.len(), 1);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("pc1.zip")).unwrap(),
        "pc1-results"
    );
}

#[tokio::test]
async fn without_cloud_output_nothing_is_fetched() {
    let server = MockServer::start_async().await;
    execute(
        &server,
        json!({
            "data": {
                "scriptId": SCRIPT,
                "taskDescription": "collect autoruns",
                "outputDestination": "None"
            },
            "filter": { "ids": ["501"] }
        }),
        started(1),
    )
    .await;
    statuses(
        &server,
        json!([task(TASK_1, "501", "pc1", "completed")]),
        None,
    )
    .await;
    let fetch = server
        .mock_async(|when, then| {
            when.method(POST).path(FETCH);
            then.status(200).json_body(json!({ "data": {} }));
        })
        .await;
    let dir = tempfile::tempdir().unwrap();
    let run = ScriptRun::new(SCRIPT, "collect autoruns", OutputDestination::None)
        .agent_ids(["501"])
        .polling(quick());
    let collected = support::facade_client(&server)
        .scripts()
        .run_and_collect(&run, dir.path())
        .await
        .expect("done");
    fetch.assert_calls_async(0).await;
    assert!(collected.files.is_empty());
    assert_eq!(collected.run.tasks[0].state, TaskState::Completed);
}

#[tokio::test]
async fn link_and_download_failures() {
    let server = MockServer::start_async().await;
    let bucket = MockServer::start_async().await;
    let client = support::facade_client(&server);

    // No task id: refused before sending.
    assert_eq!(
        invalid_message(client.scripts().result_links(&[]).await.unwrap_err()),
        "task_ids: at least one value is required"
    );

    // A console error.
    let refused = server
        .mock_async(|when, then| {
            when.method(POST).path(FETCH);
            then.status(400).json_body(json!({ "errors": [
                { "code": 4000010, "title": "Validation Error", "detail": "taskIds is invalid" }
            ] }));
        })
        .await;
    let err = client
        .scripts()
        .result_links(&[TASK_1.to_string()])
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(400));
    assert_eq!(err.operation(), Some("get_remote_script_result_links"));
    refused.assert_async().await;
    refused.delete_async().await;

    // A body that is not JSON.
    server
        .mock_async(|when, then| {
            when.method(POST).path(FETCH);
            then.status(200).body("<html>maintenance</html>");
        })
        .await;
    match client.scripts().result_links(&[TASK_1.to_string()]).await {
        Err(Error::Decode {
            operation, excerpt, ..
        }) => {
            assert_eq!(operation, "get_remote_script_result_links");
            assert!(excerpt.contains("maintenance"));
        }
        other => panic!("expected Decode, got {other:?}"),
    }

    // The storage host refuses: an error, and no file is left behind.
    bucket
        .mock_async(|when, then| {
            when.method(GET).path("/bucket/gone.zip");
            then.status(403).body("expired");
        })
        .await;
    let dir = tempfile::tempdir().unwrap();
    let link = ResultLink {
        task_id: Some(TASK_1.into()),
        file_name: Some("gone.zip".into()),
        download_url: bucket.url("/bucket/gone.zip"),
    };
    let err = client
        .scripts()
        .download_results(&[link], dir.path(), false)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(403));
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

// --- protected actions: elevating the session when the console asks --------

const ELEVATE: &str = "/web/api/v2.1/users/auth/elevate";
const CODE: &str = "492039";

fn elevation_refusal() -> support::scripted::Reply {
    support::scripted::reply(
        403,
        &[("Content-Type", "application/json")],
        r#"{"errors": [{"code": 4030040, "title": "Forbidden", "detail": "This action requires an elevated session"}]}"#,
    )
}

fn json_reply(body: &str) -> support::scripted::Reply {
    support::scripted::reply(200, &[("Content-Type", "application/json")], body)
}

fn scripted_client(url: &str) -> sentinelone::Client {
    support::scripted::builder(
        url,
        support::TOKEN,
        sentinelone::quota::Quotas::none(),
        sentinelone::RetryPolicy::default(),
    )
    .build()
    .unwrap()
}

fn run_body() -> Value {
    json!({
        "data": {
            "scriptId": SCRIPT,
            "taskDescription": "collect autoruns",
            "outputDestination": "SentinelCloud"
        },
        "filter": { "ids": ["501"] }
    })
}

#[tokio::test]
async fn a_run_refused_for_elevation_elevates_with_the_code_and_is_sent_again() {
    let server = support::scripted::scripted_server(vec![
        elevation_refusal(),
        json_reply(r#"{"data": {"duration": 900}}"#),
        json_reply(r#"{"data": {"parentTaskId": null, "affected": 0}}"#),
    ])
    .await;
    let run = script()
        .agent_ids(["501"])
        .elevation_code(CODE.to_string().into());
    let result = scripted_client(&server.url)
        .scripts()
        .run(&run)
        .await
        .expect("elevated, then sent");
    assert_eq!(result.affected, 0);
    let seen = server.seen();
    let sent: Vec<(&str, &str)> = seen
        .iter()
        .map(|s| (s.method.as_str(), s.target.as_str()))
        .collect();
    assert_eq!(
        sent,
        [("POST", EXECUTE), ("POST", ELEVATE), ("POST", EXECUTE)]
    );
    let body = |i: usize| serde_json::from_str::<Value>(&seen[i].body).unwrap();
    assert_eq!(body(0), run_body());
    assert_eq!(body(1), json!({"data": {"code": CODE}}));
    assert_eq!(body(2), run_body());
    for s in &seen {
        assert_eq!(
            s.header("authorization"),
            Some(support::auth_header().as_str())
        );
    }
}

#[tokio::test]
async fn without_a_code_or_an_elevation_refusal_nothing_is_elevated() {
    // The console asks, but no code was given: its refusal comes back.
    let server = support::scripted::scripted_server(vec![elevation_refusal()]).await;
    let err = scripted_client(&server.url)
        .scripts()
        .run(&script().agent_ids(["501"]))
        .await
        .expect_err("refused");
    assert_eq!(err.status(), Some(403));
    assert_eq!(server.seen().len(), 1);

    // A code, but a refusal that is not about elevation: no elevate, and
    // the code never shows in the error.
    let server = support::scripted::scripted_server(vec![support::scripted::reply(
        403,
        &[("Content-Type", "application/json")],
        r#"{"errors": [{"code": 4030010, "title": "Forbidden", "detail": "insufficient permissions"}]}"#,
    )])
    .await;
    let run = script()
        .agent_ids(["501"])
        .elevation_code(CODE.to_string().into());
    let err = scripted_client(&server.url)
        .scripts()
        .run(&run)
        .await
        .expect_err("refused");
    assert_eq!(err.status(), Some(403));
    assert!(!err.to_string().contains(CODE));
    let seen = server.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].target, EXECUTE);

    // The elevation itself refused (a wrong code): its error, no second run.
    let server = support::scripted::scripted_server(vec![
        elevation_refusal(),
        support::scripted::reply(
            400,
            &[("Content-Type", "application/json")],
            r#"{"errors": [{"code": 4000010, "title": "Validation Error", "detail": "invalid code"}]}"#,
        ),
    ])
    .await;
    let err = scripted_client(&server.url)
        .scripts()
        .run(&run)
        .await
        .expect_err("bad code");
    assert_eq!(
        (err.status(), err.operation()),
        (Some(400), Some("elevate_auth"))
    );
    assert_eq!(server.seen().len(), 2);
}
