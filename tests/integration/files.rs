//! `sentinelone::files` against httpmock and a raw socket server: the exact
//! requests of every step (bodies with the password sent only to the
//! console, activity queries), the end-to-end fetch with a real encrypted
//! zip, which upload activity is taken and which are ignored, timeouts and
//! cancellation, atomic downloads (a 50 MB body streamed to disk, failed
//! downloads leaving nothing), safe extraction (zip-slip, wrong password,
//! no overwriting), the threat-file flows and the cloud link downloaded
//! without the API token.

use crate::support;

use std::io::{Cursor, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use httpmock::prelude::*;
use httpmock::{HttpMockRequest, Mock};
use secrecy::SecretString;
use sentinelone::files::{
    self, AgentUpload, CLOCK_SKEW, Collection, FetchOptions, FetchRequest, MAX_FILES,
};
use sentinelone::{Client, Error, Polling};
use serde_json::{Value, json};
use support::{TOKEN, auth_header, facade_client};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const API: &str = "/web/api/v2.1";
const AGENT: &str = "1286438987267469377";
const OTHER_AGENT: &str = "1286438987267469999";
const THREAT: &str = "1503989642042428880";
const PASSWORD: &str = "Fetch-Files-2024!";
const WINDOWS_FILE: &str = "C:\\Users\\Public\\dropper.exe";
const LINUX_FILE: &str = "/tmp/payload.sh";

// ------------------------------------------------------------------ helpers

fn fixture(name: &str) -> Option<Value> {
    let path = support::shared_dir()?.join("s1-fixtures").join(name);
    let text = std::fs::read_to_string(&path).expect("fixture readable");
    Some(serde_json::from_str(&text).expect("fixture is JSON"))
}

fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn secs(n: i64) -> TimeDelta {
    TimeDelta::seconds(n)
}

fn activity(id: &str, kind: i64, agent: &str, created: DateTime<Utc>, data: Value) -> Value {
    json!({
        "id": id,
        "activityType": kind,
        "agentId": agent,
        "threatId": null,
        "createdAt": iso(created),
        "updatedAt": iso(created),
        "primaryDescription": format!("activity {id}"),
        "data": data,
    })
}

/// A zip of `entries`, ZipCrypto-encrypted with `password` when given.
fn zip_of(entries: &[(&str, &[u8])], password: Option<&str>) -> Vec<u8> {
    use zip::unstable::write::FileOptionsExt;
    use zip::write::SimpleFileOptions;
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, content) in entries {
        let mut options = SimpleFileOptions::default();
        if let Some(p) = password {
            options = options.with_deprecated_encryption(p.as_bytes()).unwrap();
        }
        writer.start_file(*name, options).unwrap();
        writer.write_all(content).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

/// A zip of `entries`, AES-256-encrypted with `password`.
fn aes_zip_of(entries: &[(&str, &[u8])], password: &str) -> Vec<u8> {
    use zip::write::SimpleFileOptions;
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, content) in entries {
        let options =
            SimpleFileOptions::default().with_aes_encryption(zip::AesMode::Aes256, password);
        writer.start_file(*name, options).unwrap();
        writer.write_all(content).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

/// Names in `dir`, sorted (empty when `dir` does not exist).
fn names_in(dir: &Path) -> Vec<String> {
    let Ok(read) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut names: Vec<String> = read
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn quick(timeout_ms: u64) -> Polling {
    Polling::every(Duration::from_millis(20), Duration::from_millis(timeout_ms))
}

fn invalid_message(result: Result<impl std::fmt::Debug, Error>) -> String {
    match result {
        Err(Error::InvalidInput { message }) => message,
        other => panic!("expected InvalidInput, got {other:?}"),
    }
}

fn archive_message(result: Result<impl std::fmt::Debug, Error>) -> String {
    match result {
        Err(Error::Archive { message, .. }) => message,
        other => panic!("expected Archive, got {other:?}"),
    }
}

/// The `createdAt__gt` of a request, when it is present and well formed
/// (whole seconds, UTC, in the console's form with three fractional digits).
fn created_after(req: &HttpMockRequest) -> Option<DateTime<Utc>> {
    let uri = req.uri();
    let query = uri.query()?;
    let (_, value) =
        url::form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == "createdAt__gt")?;
    let value = value.into_owned();
    let ok = value.len() == 24 && value.ends_with(".000Z");
    ok.then(|| DateTime::parse_from_rfc3339(&value).ok())
        .flatten()
        .map(|t| t.with_timezone(&Utc))
}

/// True when `createdAt__gt` is the request time less the clock-skew
/// margin: between `started` and now, both less the margin.
fn window_from(started: DateTime<Utc>) -> impl Fn(&HttpMockRequest) -> bool + Send + Sync {
    let skew = TimeDelta::from_std(CLOCK_SKEW).unwrap();
    move |req| {
        created_after(req).is_some_and(|t| t >= started - skew - secs(1) && t <= Utc::now() - skew)
    }
}

/// A facade client of any console URL (for the raw socket servers).
fn client_of(url: &str) -> Client {
    Client::builder()
        .console_url(url)
        .api_token(TOKEN)
        .allow_http(true)
        .limiter(sentinelone::quota::Limiter::new())
        .quotas(sentinelone::quota::Quotas::none())
        .retry_policy(sentinelone::RetryPolicy {
            max_attempts: 1,
            ..sentinelone::RetryPolicy::default()
        })
        .timeout(Duration::from_secs(5))
        .build()
        .expect("the client builds")
}

async fn fetch_files_mock<'a>(server: &'a MockServer, paths: &[&str], answer: Value) -> Mock<'a> {
    let body = json!({ "data": { "password": PASSWORD, "files": paths } });
    server
        .mock_async(move |when, then| {
            when.method(POST)
                .path(format!("{API}/agents/{AGENT}/actions/fetch-files"))
                .header("authorization", auth_header())
                .json_body(body);
            then.status(200)
                .header("content-type", "application/json")
                .json_body(answer);
        })
        .await
}

/// `GET /activities` for the fetches of `agent`, as the wait asks for them.
async fn agent_activities_mock<'a>(
    server: &'a MockServer,
    agent: &str,
    started: DateTime<Utc>,
    data: Vec<Value>,
) -> Mock<'a> {
    let agent = agent.to_string();
    server
        .mock_async(move |when, then| {
            when.method(GET)
                .path(format!("{API}/activities"))
                .header("authorization", auth_header())
                .query_param("agentIds", agent)
                .query_param("activityTypes", "80,81")
                .query_param("sortBy", "createdAt")
                .query_param("sortOrder", "asc")
                .query_param("limit", "100")
                .query_param_missing("threatIds")
                .is_true(window_from(started));
            then.status(200)
                .header("content-type", "application/json")
                .json_body(json!({ "data": data, "pagination": { "nextCursor": null } }));
        })
        .await
}

async fn zip_download_mock<'a>(server: &'a MockServer, path: &str, zip: Vec<u8>) -> Mock<'a> {
    let path = path.to_string();
    server
        .mock_async(move |when, then| {
            when.method(GET)
                .path(path)
                .header("authorization", auth_header());
            then.status(200)
                .header("content-type", "application/zip")
                .body(zip);
        })
        .await
}

/// Answers any request with 500: must never be hit.
async fn catch_all(server: &MockServer) -> Mock<'_> {
    server
        .mock_async(|when, then| {
            when.any_request();
            then.status(500);
        })
        .await
}

// --------------------------------------------------------- agent file fetch

#[tokio::test]
async fn fetch_collects_waits_downloads_and_extracts() {
    let Some(accepted) = fixture("agents-actions-fetch-files.json") else {
        return;
    };
    let server = MockServer::start_async().await;
    let dir = tempfile::tempdir().unwrap();
    let started = Utc::now();
    let zip = zip_of(
        &[
            ("C/Users/Public/dropper.exe", b"MZ dropper"),
            ("tmp/payload.sh", b"#!/bin/sh\necho hi\n"),
        ],
        Some(PASSWORD),
    );

    let fetch_files = fetch_files_mock(&server, &[WINDOWS_FILE, LINUX_FILE], accepted).await;
    let activities = agent_activities_mock(
        &server,
        AGENT,
        started,
        vec![
            activity(
                "1900000000000000081",
                81,
                AGENT,
                started + secs(1),
                json!({ "commandBatchUuid": "batch-ours" }),
            ),
            activity(
                "1900000000000000080",
                80,
                AGENT,
                started + secs(5),
                json!({
                    "commandBatchUuid": "batch-ours",
                    "downloadUrl": format!("/agents/{AGENT}/uploads/1900000000000000080"),
                    "uploadedFilename": "fetched-files.zip",
                }),
            ),
        ],
    )
    .await;
    let download = zip_download_mock(
        &server,
        &format!("{API}/agents/{AGENT}/uploads/1900000000000000080"),
        zip.clone(),
    )
    .await;

    let client = facade_client(&server);
    let request = FetchRequest::new([WINDOWS_FILE, LINUX_FILE], PASSWORD);
    let options = FetchOptions::new(dir.path().join("files.zip"))
        .extract_into(dir.path().join("files"))
        .polling(quick(2_000));
    let fetched = client
        .files()
        .fetch(AGENT, &request, &options)
        .await
        .expect("fetched");

    fetch_files.assert_calls_async(1).await;
    activities.assert_calls_async(1).await;
    download.assert_calls_async(1).await;

    let upload = &fetched.upload;
    assert_eq!(upload.activity_id, "1900000000000000080");
    assert_eq!(upload.agent_id.as_deref(), Some(AGENT));
    assert_eq!(
        upload.download_path,
        format!("{API}/agents/{AGENT}/uploads/1900000000000000080")
    );
    assert_eq!(upload.file_name.as_deref(), Some("fetched-files.zip"));
    assert_eq!(upload.command_batch_uuid.as_deref(), Some("batch-ours"));
    assert_eq!(
        upload.created_at.map(|t| t.timestamp_micros()),
        Some((started + secs(5)).timestamp_micros())
    );

    assert_eq!(fetched.archive.path, dir.path().join("files.zip"));
    assert_eq!(fetched.archive.bytes, zip.len() as u64);
    assert_eq!(std::fs::read(dir.path().join("files.zip")).unwrap(), zip);

    let root = dir.path().join("files");
    assert_eq!(
        fetched.extracted,
        vec![
            root.join("C/Users/Public/dropper.exe"),
            root.join("tmp/payload.sh")
        ]
    );
    assert_eq!(std::fs::read(&fetched.extracted[0]).unwrap(), b"MZ dropper");
    assert_eq!(
        std::fs::read(&fetched.extracted[1]).unwrap(),
        b"#!/bin/sh\necho hi\n"
    );
    // Nothing else: no temporary download or staging directory remains.
    assert_eq!(names_in(dir.path()), vec!["files", "files.zip"]);
    assert_eq!(names_in(&root), vec!["C", "tmp"]);
}

#[tokio::test]
async fn collect_sends_the_request_and_remembers_when() {
    let server = MockServer::start_async().await;
    let fetch_files =
        fetch_files_mock(&server, &[LINUX_FILE], json!({"data": {"success": true}})).await;
    let before = Utc::now();
    let collection = facade_client(&server)
        .files()
        .collect(
            AGENT,
            &FetchRequest::new([format!(" {LINUX_FILE} ")], PASSWORD),
        )
        .await
        .expect("collected");
    fetch_files.assert_calls_async(1).await;
    assert_eq!(collection.agent_id, AGENT);
    assert_eq!(collection.command_batch_uuid, None);
    assert!(collection.requested_at >= before && collection.requested_at <= Utc::now());
}

#[tokio::test]
async fn collect_refused_by_the_console_is_a_job_failure() {
    let server = MockServer::start_async().await;
    fetch_files_mock(&server, &[LINUX_FILE], json!({"data": {"success": false}})).await;
    let result = facade_client(&server)
        .files()
        .collect(AGENT, &FetchRequest::new([LINUX_FILE], PASSWORD))
        .await;
    match result {
        Err(Error::JobFailed { job, .. }) => assert!(job.contains(AGENT), "{job}"),
        other => panic!("expected JobFailed, got {other:?}"),
    }
}

#[tokio::test]
async fn fetch_files_api_error_keeps_the_status_and_waits_for_nothing() {
    let server = MockServer::start_async().await;
    let dir = tempfile::tempdir().unwrap();
    let fetch_files = server
        .mock_async(|when, then| {
            when.method(POST)
                .path(format!("{API}/agents/{AGENT}/actions/fetch-files"));
            then.status(404)
                .header("content-type", "application/json")
                .json_body(json!({"errors": [{
                    "code": 4040001,
                    "title": "Not Found",
                    "detail": format!("The agent with ID {AGENT} is not found."),
                }]}));
        })
        .await;
    let activities = server
        .mock_async(|when, then| {
            when.path(format!("{API}/activities"));
            then.status(200).json_body(json!({"data": []}));
        })
        .await;

    let options = FetchOptions::new(dir.path().join("f.zip")).polling(quick(500));
    let result = facade_client(&server)
        .files()
        .fetch(AGENT, &FetchRequest::new([LINUX_FILE], PASSWORD), &options)
        .await;
    match result {
        Err(Error::Api {
            status,
            operation,
            errors,
        }) => {
            assert_eq!(status, 404);
            assert_eq!(operation, "fetch_agent_files");
            assert_eq!(errors[0].code, Some(4040001));
        }
        other => panic!("expected Api, got {other:?}"),
    }
    fetch_files.assert_calls_async(1).await;
    activities.assert_calls_async(0).await;
    assert!(names_in(dir.path()).is_empty());
}

#[tokio::test]
async fn a_wait_without_upload_times_out_and_downloads_nothing() {
    let server = MockServer::start_async().await;
    let dir = tempfile::tempdir().unwrap();
    let started = Utc::now();
    fetch_files_mock(&server, &[LINUX_FILE], json!({"data": {"success": true}})).await;
    // Only the request is logged; the agent never uploads.
    let activities = agent_activities_mock(
        &server,
        AGENT,
        started,
        vec![activity(
            "1900000000000000081",
            81,
            AGENT,
            started,
            json!({ "commandBatchUuid": "batch-ours" }),
        )],
    )
    .await;
    let download = server
        .mock_async(|when, then| {
            when.path_prefix(format!("{API}/agents/{AGENT}/uploads"));
            then.status(200).body("zip");
        })
        .await;

    let options = FetchOptions::new(dir.path().join("f.zip")).polling(quick(150));
    let result = facade_client(&server)
        .files()
        .fetch(AGENT, &FetchRequest::new([LINUX_FILE], PASSWORD), &options)
        .await;
    match result {
        Err(Error::WaitTimeout { waiting_for, .. }) => {
            assert!(waiting_for.contains(AGENT), "{waiting_for}");
        }
        other => panic!("expected WaitTimeout, got {other:?}"),
    }
    assert!(activities.calls_async().await >= 2);
    download.assert_calls_async(0).await;
    assert!(names_in(dir.path()).is_empty());
}

#[tokio::test]
async fn uploads_of_other_requests_agents_and_times_are_ignored() {
    let server = MockServer::start_async().await;
    let asked = Utc::now();
    let upload_of = |id: &str, agent: &str, at: DateTime<Utc>, batch: Option<&str>| {
        let mut data = json!({ "uploadedFilename": format!("{id}.zip") });
        if let Some(b) = batch {
            data["commandBatchUuid"] = json!(b);
        }
        activity(id, 80, agent, at, data)
    };
    // Listed in an order where each wrong one comes first.
    let listed = vec![
        // Long before the request (no batch, so only its age excludes it).
        upload_of("1", AGENT, asked - TimeDelta::hours(1), None),
        // Another agent's upload (no batch, so only the agent excludes it).
        upload_of("2", OTHER_AGENT, asked + secs(1), None),
        // An earlier request within the skew margin, and ours.
        activity(
            "3",
            81,
            AGENT,
            asked - secs(25),
            json!({"commandBatchUuid": "batch-older"}),
        ),
        activity(
            "4",
            81,
            AGENT,
            asked + secs(1),
            json!({"commandBatchUuid": "batch-ours"}),
        ),
        // The earlier request's upload lands after ours was asked for.
        upload_of("5", AGENT, asked + secs(2), Some("batch-older")),
        upload_of("6", AGENT, asked + secs(3), Some("batch-ours")),
    ];
    agent_activities_mock(&server, AGENT, asked, listed).await;
    let client = facade_client(&server);

    let upload = client
        .files()
        .wait_for_upload(&Collection::new(AGENT, asked), quick(1_000))
        .await
        .expect("found");
    assert_eq!(upload.activity_id, "6");
    assert_eq!(upload.file_name.as_deref(), Some("6.zip"));
    // Without a downloadUrl the path is built from the ids.
    assert_eq!(
        upload.download_path,
        format!("{API}/agents/{AGENT}/uploads/6")
    );

    // A batch named by the caller wins over the one found (ids trimmed).
    let older = Collection::new(format!(" {AGENT} "), asked).command_batch_uuid(" batch-older");
    let upload = client
        .files()
        .wait_for_upload(&older, quick(1_000))
        .await
        .expect("found");
    assert_eq!(upload.activity_id, "5");
}

#[tokio::test]
async fn the_wait_keeps_checking_until_the_upload_appears() {
    let server = MockServer::start_async().await;
    let asked = Utc::now();
    let empty = agent_activities_mock(&server, AGENT, asked, vec![]).await;
    let client = facade_client(&server);
    let collection = Collection::new(AGENT, asked);
    let waiting = tokio::spawn(async move {
        client
            .files()
            .wait_for_upload(&collection, quick(5_000))
            .await
    });
    while empty.calls_async().await < 2 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(!waiting.is_finished());
    empty.delete_async().await;
    let uploaded = agent_activities_mock(
        &server,
        AGENT,
        asked,
        vec![activity(
            "77",
            80,
            AGENT,
            asked + secs(1),
            json!({"downloadUrl": format!("{API}/agents/{AGENT}/uploads/77")}),
        )],
    )
    .await;
    let upload = waiting.await.unwrap().expect("found");
    assert_eq!(upload.activity_id, "77");
    assert_eq!(
        upload.download_path,
        format!("{API}/agents/{AGENT}/uploads/77")
    );
    uploaded.assert_calls_async(1).await;
}

#[tokio::test]
async fn a_cancelled_fetch_stops_waiting_and_leaves_nothing() {
    let server = MockServer::start_async().await;
    let dir = tempfile::tempdir().unwrap();
    fetch_files_mock(&server, &[LINUX_FILE], json!({"data": {"success": true}})).await;
    let activities = agent_activities_mock(&server, AGENT, Utc::now(), vec![]).await;
    let client = facade_client(&server);
    let request = FetchRequest::new([LINUX_FILE], PASSWORD);
    let options = FetchOptions::new(dir.path().join("f.zip")).polling(quick(60_000));

    let fetch = client.files().fetch(AGENT, &request, &options);
    assert!(
        tokio::time::timeout(Duration::from_millis(200), fetch)
            .await
            .is_err()
    );
    let seen = activities.calls_async().await;
    assert!(seen >= 1);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        activities.calls_async().await,
        seen,
        "still polling after the drop"
    );
    assert!(names_in(dir.path()).is_empty());
}

#[tokio::test]
async fn bad_inputs_send_nothing() {
    let server = MockServer::start_async().await;
    let any = catch_all(&server).await;
    let client = facade_client(&server);
    let dir = tempfile::tempdir().unwrap();
    let options = FetchOptions::new(dir.path().join("f.zip"));
    let eleven: Vec<String> = (0..=MAX_FILES).map(|i| format!("/tmp/{i}")).collect();

    let cases: Vec<(FetchRequest, &str, &FetchOptions, &str)> = vec![
        (
            FetchRequest::new(eleven, PASSWORD),
            AGENT,
            &options,
            "paths: 11 given, at most 10",
        ),
        (
            FetchRequest::new(Vec::<String>::new(), PASSWORD),
            AGENT,
            &options,
            "paths: at least one",
        ),
        (
            FetchRequest::new(["temp\\a.txt"], PASSWORD),
            AGENT,
            &options,
            "paths[0]",
        ),
        (
            FetchRequest::new([LINUX_FILE, " "], PASSWORD),
            AGENT,
            &options,
            "paths[1] is empty",
        ),
        (
            FetchRequest::new([LINUX_FILE], "weakpassword"),
            AGENT,
            &options,
            "password is too weak",
        ),
        (
            FetchRequest::new([LINUX_FILE], PASSWORD),
            "agent-1",
            &options,
            "agent_id \"agent-1\"",
        ),
        (
            FetchRequest::new([LINUX_FILE], PASSWORD),
            "",
            &options,
            "agent_id is required",
        ),
    ];
    for (request, agent, options, expected) in &cases {
        let message = invalid_message(client.files().fetch(agent, request, options).await);
        assert!(message.contains(expected), "{message:?} lacks {expected:?}");
        assert!(!message.contains("weakpassword"));
        let message = invalid_message(client.files().collect(agent, request).await);
        assert!(message.contains(expected), "{message:?} lacks {expected:?}");
    }

    // Destinations: a directory, or extraction into a file.
    let request = FetchRequest::new([LINUX_FILE], PASSWORD);
    let message = invalid_message(
        client
            .files()
            .fetch(AGENT, &request, &FetchOptions::new(dir.path()))
            .await,
    );
    assert!(message.contains("is a directory"), "{message}");
    std::fs::write(dir.path().join("a-file"), b"x").unwrap();
    let into_file =
        FetchOptions::new(dir.path().join("f.zip")).extract_into(dir.path().join("a-file"));
    let message = invalid_message(client.files().fetch(AGENT, &request, &into_file).await);
    assert!(message.contains("extract_into"), "{message}");

    // The other entry points.
    let password = SecretString::from(PASSWORD);
    let message = invalid_message(
        client
            .files()
            .fetch_threat_file("x1", &password, &options)
            .await,
    );
    assert!(message.contains("threat_id \"x1\""), "{message}");
    let weak = SecretString::from("Short1!");
    let message = invalid_message(
        client
            .files()
            .fetch_threat_file(THREAT, &weak, &options)
            .await,
    );
    assert!(message.contains("password is too weak") && !message.contains("Short1!"));
    let message = invalid_message(client.files().threat_cloud_link("1 2").await);
    assert!(message.contains("threat_id"), "{message}");
    let message = invalid_message(
        client
            .files()
            .download_threat_from_cloud(THREAT, dir.path())
            .await,
    );
    assert!(message.contains("is a directory"), "{message}");
    assert!(invalid_message(AgentUpload::new("a", "1")).contains("agent_id"));
    assert!(invalid_message(AgentUpload::new("1", "../2")).contains("activity_id"));
    let bad_collection = Collection::new("12x", Utc::now());
    let message = invalid_message(
        client
            .files()
            .wait_for_upload(&bad_collection, quick(100))
            .await,
    );
    assert!(message.contains("agent_id"), "{message}");

    any.assert_calls_async(0).await;
    assert_eq!(names_in(dir.path()), vec!["a-file"]);
}

#[test]
fn the_password_stays_out_of_debug_output() {
    let request = FetchRequest::new([LINUX_FILE], PASSWORD);
    let shown = format!("{request:?}");
    assert!(shown.contains(LINUX_FILE));
    assert!(!shown.contains(PASSWORD), "{shown}");
}

// ---------------------------------------------------------------- downloads

#[tokio::test]
async fn a_failed_download_leaves_no_file_behind() {
    let server = MockServer::start_async().await;
    let dir = tempfile::tempdir().unwrap();
    let failing = server
        .mock_async(|when, then| {
            when.method(GET)
                .path(format!("{API}/agents/{AGENT}/uploads/5"));
            then.status(500)
                .header("content-type", "application/json")
                .json_body(json!({"errors": [{"title": "Internal"}]}));
        })
        .await;
    let upload = AgentUpload::new(AGENT, "5").unwrap();
    let result = facade_client(&server)
        .files()
        .download(&upload, &dir.path().join("f.zip"))
        .await;
    assert_eq!(result.unwrap_err().status(), Some(500));
    assert!(failing.calls_async().await >= 1);
    assert!(names_in(dir.path()).is_empty());
}

/// A client whose answers read into memory are capped at 1 KiB and whose
/// calls end after `timeout`; downloads get `download_timeout`.
fn tight_client(url: &str, timeout: Duration, download_timeout: Duration) -> Client {
    Client::builder()
        .console_url(url)
        .api_token(TOKEN)
        .allow_http(true)
        .limiter(sentinelone::quota::Limiter::new())
        .quotas(sentinelone::quota::Quotas::none())
        .retry_policy(sentinelone::RetryPolicy {
            max_attempts: 1,
            ..sentinelone::RetryPolicy::default()
        })
        .max_response_bytes(1024)
        .timeout(timeout)
        .download_timeout(download_timeout)
        .build()
        .expect("the client builds")
}

// The upload goes through the generated `download_agent_upload`: a file
// answer, so neither the in-memory cap nor the per-call timeout applies to
// it, only the download timeout.
#[tokio::test]
async fn an_agent_upload_is_uncapped_and_bound_by_the_download_timeout() {
    let server = MockServer::start_async().await;
    let zip = zip_of(&[("big.bin", &[7u8; 64 * 1024])], None);
    let path = format!("{API}/agents/{AGENT}/uploads/9");
    let slow = server
        .mock_async(|when, then| {
            when.method(GET)
                .path(&path)
                .header("authorization", auth_header());
            then.status(200)
                .header("content-type", "application/zip")
                .delay(Duration::from_millis(700))
                .body(&zip);
        })
        .await;
    let upload = AgentUpload::new(AGENT, "9").unwrap();
    let dir = tempfile::tempdir().unwrap();

    let patient = tight_client(
        &server.base_url(),
        Duration::from_millis(300),
        Duration::from_secs(10),
    );
    let saved = patient
        .files()
        .download(&upload, &dir.path().join("a.zip"))
        .await
        .expect("the download ignores the call timeout and the cap");
    assert_eq!(saved.bytes, zip.len() as u64);
    assert_eq!(std::fs::read(dir.path().join("a.zip")).unwrap(), zip);

    let hasty = tight_client(
        &server.base_url(),
        Duration::from_secs(10),
        Duration::from_millis(300),
    );
    let result = hasty
        .files()
        .download(&upload, &dir.path().join("b.zip"))
        .await;
    assert!(matches!(result, Err(Error::Timeout { .. })), "{result:?}");
    assert!(!dir.path().join("b.zip").exists());
    slow.assert_calls_async(2).await;
}

/// Serves one response: `head`, then `sent` bytes of a body announced as
/// `announced` bytes long, then closes the connection.
async fn truncating_server(announced: usize, sent: usize) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        read_head(&mut socket).await;
        let head = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/zip\r\ncontent-length: {announced}\r\n\r\n"
        );
        socket.write_all(head.as_bytes()).await.unwrap();
        socket.write_all(&vec![7u8; sent]).await.unwrap();
        socket.flush().await.unwrap();
    });
    url
}

/// Reads a request head; returns it.
async fn read_head(socket: &mut tokio::net::TcpStream) -> String {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if socket.read(&mut byte).await.unwrap() == 0 {
            break;
        }
        head.push(byte[0]);
    }
    String::from_utf8_lossy(&head).into_owned()
}

#[tokio::test]
async fn a_body_cut_short_leaves_no_file_behind() {
    let url = truncating_server(10_000, 1_000).await;
    let dir = tempfile::tempdir().unwrap();
    let upload = AgentUpload::new(AGENT, "5").unwrap();
    let result = client_of(&url)
        .files()
        .download(&upload, &dir.path().join("f.zip"))
        .await;
    assert!(
        matches!(result, Err(Error::Transport { .. } | Error::Timeout { .. })),
        "{result:?}"
    );
    assert!(names_in(dir.path()).is_empty());
}

/// Byte `i` of the generated body.
fn body_byte(i: u64) -> u8 {
    (i.wrapping_mul(2_654_435_761) >> 13) as u8
}

/// FNV-1a, fed byte by byte.
fn fnv(hash: u64, bytes: &[u8]) -> u64 {
    bytes.iter().fold(hash, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3)
    })
}
const FNV_START: u64 = 0xcbf2_9ce4_8422_2325;

/// The size of the `.part` file in `dir`, if there is one.
fn part_size(dir: &Path) -> Option<u64> {
    std::fs::read_dir(dir).ok()?.find_map(|e| {
        let e = e.ok()?;
        e.file_name()
            .to_string_lossy()
            .ends_with(".part")
            .then(|| e.metadata().ok().map(|m| m.len()))
            .flatten()
    })
}

/// Serves one download of `total` generated bytes, made chunk by chunk and
/// never held whole. After `pause_at` bytes it stops until a `.part` file in
/// `dir` holds at least `until_on_disk` bytes (or, with `hold`, forever).
/// The task returns the request head and the body's hash.
async fn streaming_server(
    total: u64,
    pause_at: u64,
    dir: PathBuf,
    until_on_disk: u64,
    hold: bool,
) -> (String, tokio::task::JoinHandle<(String, u64)>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let head = read_head(&mut socket).await;
        let answer = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/zip\r\ncontent-length: {total}\r\n\r\n"
        );
        socket.write_all(answer.as_bytes()).await.unwrap();
        let mut hash = FNV_START;
        let mut sent = 0u64;
        let mut chunk = vec![0u8; 64 * 1024];
        let mut paused = false;
        while sent < total {
            if !paused && sent >= pause_at {
                paused = true;
                let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
                loop {
                    if !hold && part_size(&dir).is_some_and(|n| n >= until_on_disk) {
                        break;
                    }
                    assert!(
                        tokio::time::Instant::now() < deadline,
                        "the .part file never reached {until_on_disk} bytes: {:?}",
                        part_size(&dir)
                    );
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
            let n = (total - sent).min(chunk.len() as u64) as usize;
            for (k, b) in chunk[..n].iter_mut().enumerate() {
                *b = body_byte(sent + k as u64);
            }
            hash = fnv(hash, &chunk[..n]);
            if socket.write_all(&chunk[..n]).await.is_err() {
                break;
            }
            sent += n as u64;
        }
        let _ = socket.flush().await;
        (head, hash)
    });
    (url, task)
}

#[tokio::test]
async fn fifty_megabytes_stream_to_disk_while_they_arrive() {
    const TOTAL: u64 = 50 * 1024 * 1024;
    let dir = tempfile::tempdir().unwrap();
    let (url, server) = streaming_server(
        TOTAL,
        TOTAL / 2,
        dir.path().to_path_buf(),
        20 * 1024 * 1024,
        false,
    )
    .await;
    let upload = AgentUpload::new(AGENT, "42").unwrap();
    let dest = dir.path().join("big.zip");

    let saved = client_of(&url)
        .files()
        .download(&upload, &dest)
        .await
        .expect("downloaded");
    let (head, sent_hash) = server.await.unwrap();

    assert!(
        head.starts_with(&format!("GET {API}/agents/{AGENT}/uploads/42 HTTP/1.1\r\n")),
        "{head}"
    );
    assert!(
        head.to_ascii_lowercase().contains(&format!(
            "authorization: apitoken {}",
            TOKEN.to_ascii_lowercase()
        )),
        "{head}"
    );
    assert_eq!(saved.bytes, TOTAL);
    assert_eq!(saved.path, dest);
    assert_eq!(std::fs::metadata(&dest).unwrap().len(), TOTAL);
    let mut file = std::io::BufReader::new(std::fs::File::open(&dest).unwrap());
    let mut hash = FNV_START;
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = file.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        hash = fnv(hash, &buf[..n]);
    }
    assert_eq!(hash, sent_hash);
    assert_eq!(names_in(dir.path()), vec!["big.zip"]);
}

#[tokio::test]
async fn a_cancelled_download_removes_its_temporary_file() {
    const TOTAL: u64 = 8 * 1024 * 1024;
    let dir = tempfile::tempdir().unwrap();
    let (url, server) = streaming_server(TOTAL, TOTAL / 2, dir.path().to_path_buf(), 0, true).await;
    let client = client_of(&url);
    let dest = dir.path().join("cancelled.zip");
    let downloading = tokio::spawn(async move {
        let upload = AgentUpload::new(AGENT, "42").unwrap();
        client.files().download(&upload, &dest).await
    });
    // Wait until part of the body is on disk, then cancel.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while part_size(dir.path()).is_none_or(|n| n < TOTAL / 4) {
        assert!(tokio::time::Instant::now() < deadline, "no .part file grew");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    downloading.abort();
    assert!(downloading.await.unwrap_err().is_cancelled());
    server.abort();
    assert!(
        names_in(dir.path()).is_empty(),
        "{:?}",
        names_in(dir.path())
    );
}

// --------------------------------------------------------------- extraction

async fn write_zip(dir: &Path, bytes: &[u8]) -> PathBuf {
    let path = dir.join("in.zip");
    tokio::fs::write(&path, bytes).await.unwrap();
    path
}

#[tokio::test]
async fn zip_slip_entries_are_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let password = SecretString::from(PASSWORD);
    let into = dir.path().join("out");
    for bad in [
        "../evil.txt",
        "/abs.txt",
        "sub/../../evil.txt",
        "C:\\evil.txt",
        "..\\evil.txt",
    ] {
        let zip = write_zip(
            dir.path(),
            &zip_of(&[("fine.txt", b"ok"), (bad, b"pwned")], Some(PASSWORD)),
        )
        .await;
        let message = archive_message(files::extract(&zip, &password, &into).await);
        assert!(message.contains("refused"), "{bad}: {message}");
        assert!(message.contains(&format!("{bad:?}")), "{bad}: {message}");
        assert!(!into.exists(), "{bad}: the target directory was created");
        assert_eq!(names_in(dir.path()), vec!["in.zip"], "{bad}");
        assert!(!dir.path().parent().unwrap().join("evil.txt").exists());
    }
}

#[tokio::test]
async fn symbolic_links_are_refused() {
    use zip::write::SimpleFileOptions;
    let dir = tempfile::tempdir().unwrap();
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    writer
        .add_symlink("link", "/etc/passwd", SimpleFileOptions::default())
        .unwrap();
    let zip = write_zip(dir.path(), &writer.finish().unwrap().into_inner()).await;
    let into = dir.path().join("out");
    let message = archive_message(files::extract(&zip, &SecretString::from(PASSWORD), &into).await);
    assert!(message.contains("symbolic link"), "{message}");
    assert!(!into.exists());
}

#[tokio::test]
async fn a_wrong_password_is_an_archive_error_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let wrong = "Not-The-Password-1";
    let archives = [
        (
            "zipcrypto",
            zip_of(&[("a.txt", b"aaa"), ("b.txt", b"bbb")], Some(PASSWORD)),
        ),
        (
            "aes",
            aes_zip_of(&[("a.txt", b"aaa"), ("b.txt", b"bbb")], PASSWORD),
        ),
    ];
    for (kind, bytes) in archives {
        let zip = write_zip(dir.path(), &bytes).await;
        let into = dir.path().join("out");
        let message =
            archive_message(files::extract(&zip, &SecretString::from(wrong), &into).await);
        assert!(message.contains("wrong password"), "{kind}: {message}");
        assert!(
            !message.contains(wrong) && !message.contains(PASSWORD),
            "{kind}: {message}"
        );
        assert!(!into.exists(), "{kind}: {:?}", names_in(&into));

        // The right password opens it.
        let written = files::extract(&zip, &SecretString::from(PASSWORD), &into)
            .await
            .expect(kind);
        assert_eq!(
            written,
            vec![into.join("a.txt"), into.join("b.txt")],
            "{kind}"
        );
        assert_eq!(std::fs::read(into.join("b.txt")).unwrap(), b"bbb", "{kind}");
        std::fs::remove_dir_all(&into).unwrap();
    }
}

#[tokio::test]
async fn extraction_never_overwrites_and_keeps_directories() {
    let dir = tempfile::tempdir().unwrap();
    let password = SecretString::from(PASSWORD);
    let into = dir.path().join("out");
    let zip = write_zip(
        dir.path(),
        &zip_of(
            &[("docs/", b""), ("docs/a.txt", b"new"), ("b.txt", b"new")],
            Some(PASSWORD),
        ),
    )
    .await;
    std::fs::create_dir_all(&into).unwrap();
    std::fs::write(into.join("b.txt"), b"evidence").unwrap();

    let message = archive_message(files::extract(&zip, &password, &into).await);
    assert!(message.contains("already exists"), "{message}");
    assert_eq!(names_in(&into), vec!["b.txt"]);
    assert_eq!(std::fs::read(into.join("b.txt")).unwrap(), b"evidence");

    std::fs::remove_file(into.join("b.txt")).unwrap();
    let written = files::extract(&zip, &password, &into)
        .await
        .expect("extracted");
    assert_eq!(written, vec![into.join("docs/a.txt"), into.join("b.txt")]);
    assert_eq!(names_in(&into), vec!["b.txt", "docs"]);
}

#[tokio::test]
async fn not_a_zip_is_an_archive_error() {
    let dir = tempfile::tempdir().unwrap();
    let zip = write_zip(dir.path(), b"<html>login page</html>").await;
    let message = archive_message(
        files::extract(&zip, &SecretString::from(PASSWORD), &dir.path().join("out")).await,
    );
    assert!(message.contains("not a readable zip archive"), "{message}");
}

// ------------------------------------------------------------- threat files

async fn threat_fetch_mock(server: &MockServer, affected: i64) -> Mock<'_> {
    server
        .mock_async(move |when, then| {
            when.method(POST)
                .path(format!("{API}/threats/fetch-file"))
                .header("authorization", auth_header())
                .json_body(json!({
                    "data": { "password": PASSWORD },
                    "filter": { "ids": [THREAT] },
                }));
            then.status(200)
                .header("content-type", "application/json")
                .json_body(json!({ "data": { "affected": affected } }));
        })
        .await
}

async fn threat_activities_mock(
    server: &MockServer,
    started: DateTime<Utc>,
    data: Vec<Value>,
) -> Mock<'_> {
    server
        .mock_async(move |when, then| {
            when.method(GET)
                .path(format!("{API}/activities"))
                .header("authorization", auth_header())
                .query_param("threatIds", THREAT)
                .query_param("activityTypes", "86")
                .query_param("sortBy", "createdAt")
                .query_param("sortOrder", "asc")
                .query_param("limit", "100")
                .query_param_missing("agentIds")
                .is_true(window_from(started));
            then.status(200)
                .header("content-type", "application/json")
                .json_body(json!({ "data": data }));
        })
        .await
}

async fn timeline_mock(server: &MockServer, data: Vec<Value>) -> Mock<'_> {
    server
        .mock_async(move |when, then| {
            when.method(GET)
                .path(format!("{API}/threats/{THREAT}/timeline"))
                .header("authorization", auth_header())
                .query_param("sortBy", "createdAt")
                .query_param("sortOrder", "desc")
                .query_param("limit", "100");
            then.status(200)
                .header("content-type", "application/json")
                .json_body(json!({ "data": data }));
        })
        .await
}

#[tokio::test]
async fn threat_file_via_the_upload_activity() {
    let server = MockServer::start_async().await;
    let dir = tempfile::tempdir().unwrap();
    let started = Utc::now();
    let zip = zip_of(&[("threat.bin", b"malware sample")], Some(PASSWORD));

    let fetch = threat_fetch_mock(&server, 1).await;
    let mut uploaded = activity(
        "1960000000000000086",
        86,
        AGENT,
        started + secs(4),
        json!({ "downloadUrl": format!("/agents/{AGENT}/uploads/1960000000000000086") }),
    );
    uploaded["threatId"] = json!(THREAT);
    let activities = threat_activities_mock(&server, started, vec![uploaded]).await;
    let timeline = timeline_mock(&server, vec![]).await;
    let download = zip_download_mock(
        &server,
        &format!("{API}/agents/{AGENT}/uploads/1960000000000000086"),
        zip.clone(),
    )
    .await;

    let options = FetchOptions::new(dir.path().join("threat.zip"))
        .extract_into(dir.path().join("threat"))
        .polling(quick(2_000));
    let fetched = facade_client(&server)
        .files()
        .fetch_threat_file(THREAT, &SecretString::from(PASSWORD), &options)
        .await
        .expect("fetched");

    fetch.assert_calls_async(1).await;
    activities.assert_calls_async(1).await;
    timeline.assert_calls_async(0).await;
    download.assert_calls_async(1).await;
    assert_eq!(fetched.upload.activity_id, "1960000000000000086");
    assert_eq!(fetched.archive.bytes, zip.len() as u64);
    assert_eq!(
        fetched.extracted,
        vec![dir.path().join("threat/threat.bin")]
    );
    assert_eq!(
        std::fs::read(&fetched.extracted[0]).unwrap(),
        b"malware sample"
    );
}

#[tokio::test]
async fn threat_file_via_the_timeline() {
    let Some(timeline_fixture) = fixture("threats-timeline.json") else {
        return;
    };
    let server = MockServer::start_async().await;
    let dir = tempfile::tempdir().unwrap();
    let started = Utc::now();
    let zip = zip_of(&[("threat.bin", b"from the timeline")], Some(PASSWORD));

    threat_fetch_mock(&server, 1).await;
    let activities = threat_activities_mock(&server, started, vec![]).await;
    // The real timeline (2022, no links), an old entry with a link, and
    // the new upload with its link under the full API path.
    let mut entries = timeline_fixture["data"].as_array().unwrap().clone();
    let mut old = activity(
        "1503989642143099999",
        86,
        AGENT,
        started - TimeDelta::days(30),
        json!({ "downloadUrl": format!("/agents/{AGENT}/uploads/1503989642143099999") }),
    );
    old["threatId"] = json!(THREAT);
    let mut new = activity(
        "1960000000000000087",
        86,
        AGENT,
        started + secs(2),
        json!({ "downloadUrl": format!("{API}/agents/{AGENT}/uploads/1960000000000000087") }),
    );
    new["threatId"] = json!(THREAT);
    entries.insert(0, old);
    entries.insert(0, new);
    let timeline = timeline_mock(&server, entries).await;
    let download = zip_download_mock(
        &server,
        &format!("{API}/agents/{AGENT}/uploads/1960000000000000087"),
        zip.clone(),
    )
    .await;

    let options = FetchOptions::new(dir.path().join("threat.zip")).polling(quick(2_000));
    let fetched = facade_client(&server)
        .files()
        .fetch_threat_file(THREAT, &SecretString::from(PASSWORD), &options)
        .await
        .expect("fetched");

    activities.assert_calls_async(1).await;
    timeline.assert_calls_async(1).await;
    download.assert_calls_async(1).await;
    assert_eq!(fetched.upload.activity_id, "1960000000000000087");
    assert!(fetched.extracted.is_empty());
    assert_eq!(std::fs::read(dir.path().join("threat.zip")).unwrap(), zip);
}

#[tokio::test]
async fn threat_file_wait_times_out() {
    let server = MockServer::start_async().await;
    let dir = tempfile::tempdir().unwrap();
    let started = Utc::now();
    threat_fetch_mock(&server, 1).await;
    let activities = threat_activities_mock(&server, started, vec![]).await;
    let timeline = timeline_mock(&server, vec![]).await;
    let options = FetchOptions::new(dir.path().join("threat.zip")).polling(quick(120));
    let result = facade_client(&server)
        .files()
        .fetch_threat_file(THREAT, &SecretString::from(PASSWORD), &options)
        .await;
    match result {
        Err(Error::WaitTimeout { waiting_for, .. }) => {
            assert!(waiting_for.contains(THREAT), "{waiting_for}")
        }
        other => panic!("expected WaitTimeout, got {other:?}"),
    }
    let (activity_checks, timeline_checks) =
        (activities.calls_async().await, timeline.calls_async().await);
    assert!(activity_checks >= 2);
    // Each check reads the activities, then the timeline; the timeout may
    // end the last check between the two (all of a wait's work is inside
    // its timeout).
    assert!(
        timeline_checks == activity_checks || timeline_checks + 1 == activity_checks,
        "activities {activity_checks}, timeline {timeline_checks}"
    );
    assert!(names_in(dir.path()).is_empty());
}

#[tokio::test]
async fn a_threat_the_console_does_not_match_fails_at_once() {
    let server = MockServer::start_async().await;
    let dir = tempfile::tempdir().unwrap();
    let fetch = threat_fetch_mock(&server, 0).await;
    let activities = server
        .mock_async(|when, then| {
            when.path(format!("{API}/activities"));
            then.status(200).json_body(json!({"data": []}));
        })
        .await;
    let options = FetchOptions::new(dir.path().join("threat.zip")).polling(quick(5_000));
    let result = facade_client(&server)
        .files()
        .fetch_threat_file(THREAT, &SecretString::from(PASSWORD), &options)
        .await;
    match result {
        Err(Error::JobFailed { job, state, detail }) => {
            assert!(job.contains(THREAT), "{job}");
            assert_eq!(state, "affected 0");
            assert!(detail.unwrap().contains(THREAT));
        }
        other => panic!("expected JobFailed, got {other:?}"),
    }
    fetch.assert_calls_async(1).await;
    activities.assert_calls_async(0).await;
}

// ------------------------------------------------------------ cloud copies

#[tokio::test]
async fn the_cloud_link_decodes_the_real_answer() {
    let Some(answer) = fixture("threats-download-from-cloud.json") else {
        return;
    };
    let server = MockServer::start_async().await;
    let expected_url = answer["data"]["downloadUrl"].as_str().unwrap().to_string();
    let expected_name = answer["data"]["fileName"].as_str().unwrap().to_string();
    let mock = server
        .mock_async(move |when, then| {
            when.method(GET)
                .path(format!("{API}/threats/{THREAT}/download-from-cloud"))
                .header("authorization", auth_header());
            then.status(200).json_body(answer);
        })
        .await;
    let link = facade_client(&server)
        .files()
        .threat_cloud_link(THREAT)
        .await
        .expect("link");
    mock.assert_calls_async(1).await;
    assert_eq!(link.url, expected_url);
    assert_eq!(link.file_name.as_deref(), Some(expected_name.as_str()));
    assert!(!format!("{link:?}").contains("X-Amz-Signature"));
}

#[tokio::test]
async fn the_cloud_copy_is_downloaded_without_the_token() {
    let console = MockServer::start_async().await;
    let storage = MockServer::start_async().await;
    let dir = tempfile::tempdir().unwrap();
    let object = "/proxy/bucket/pe/malicious/ee24d1d4";
    let url = format!(
        "{}{object}?X-Amz-Expires=3600&X-Amz-Signature=REDACTED",
        storage.base_url()
    );
    let link = console
        .mock_async(|when, then| {
            when.method(GET)
                .path(format!("{API}/threats/{THREAT}/download-from-cloud"))
                .header("authorization", auth_header());
            then.status(200)
                .json_body(json!({ "data": { "downloadUrl": url, "fileName": "ee24d1d4" } }));
        })
        .await;
    let plain = storage
        .mock_async(|when, then| {
            when.method(GET)
                .path(object)
                .query_param("X-Amz-Signature", "REDACTED")
                .header_missing("authorization");
            then.status(200).body(b"PK cloud copy");
        })
        .await;
    let with_token = storage
        .mock_async(|when, then| {
            when.header_exists("authorization");
            then.status(403);
        })
        .await;

    let dest = dir.path().join("cloud.zip");
    let saved = facade_client(&console)
        .files()
        .download_threat_from_cloud(THREAT, &dest)
        .await
        .expect("downloaded");
    link.assert_calls_async(1).await;
    plain.assert_calls_async(1).await;
    with_token.assert_calls_async(0).await;
    assert_eq!(saved.bytes, 13);
    assert_eq!(std::fs::read(&dest).unwrap(), b"PK cloud copy");
}

#[tokio::test]
async fn a_cloud_answer_without_link_is_a_decode_error() {
    let server = MockServer::start_async().await;
    let dir = tempfile::tempdir().unwrap();
    server
        .mock_async(|when, then| {
            when.path(format!("{API}/threats/{THREAT}/download-from-cloud"));
            then.status(200)
                .json_body(json!({ "data": { "downloadUrl": null } }));
        })
        .await;
    let result = facade_client(&server)
        .files()
        .download_threat_from_cloud(THREAT, &dir.path().join("cloud.zip"))
        .await;
    match result {
        Err(Error::Decode {
            operation, message, ..
        }) => {
            assert_eq!(operation, "download_threat_from_cloud");
            assert!(message.contains(THREAT), "{message}");
        }
        other => panic!("expected Decode, got {other:?}"),
    }
    assert!(names_in(dir.path()).is_empty());
}

// ---------------------------------------------------------------------------
// client.downloads().save: any file answer, saved the way the composites do.

/// The answer to a hand-built `GET /export/agents-report`.
async fn export_agents(client: &Client) -> reqwest::Response {
    let request = client
        .request(reqwest::Method::GET, "/web/api/v2.1/export/agents-report")
        .build()
        .unwrap();
    client.execute(request, "export_agents").await.unwrap()
}

#[tokio::test]
async fn save_response_writes_the_body_atomically_and_reports_its_size() {
    let server = MockServer::start_async().await;
    let body: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let served = body.clone();
    server
        .mock_async(move |when, then| {
            when.method(GET)
                .path("/web/api/v2.1/export/agents-report")
                .header("authorization", support::auth_header());
            then.status(200)
                .header("content-type", "text/csv")
                .body(served.clone());
        })
        .await;
    let client = facade_client(&server);
    let response = export_agents(&client).await;
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("reports/agents.csv");

    let saved = client
        .downloads()
        .save(response, "export_agents", &dest, false)
        .await
        .unwrap();

    assert_eq!(saved.path, dest);
    assert_eq!(saved.bytes, body.len() as u64);
    assert_eq!(std::fs::read(&dest).unwrap(), body);
    let left: Vec<_> = std::fs::read_dir(dest.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, vec![std::ffi::OsString::from("agents.csv")]);
}

#[tokio::test]
async fn save_response_refuses_a_destination_that_is_not_a_file_path() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/web/api/v2.1/export/agents-report");
            then.status(200).body("id\n1\n");
        })
        .await;
    let client = facade_client(&server);
    let response = export_agents(&client).await;
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("..");

    let err = client
        .downloads()
        .save(response, "export_agents", &dest, false)
        .await
        .unwrap_err();

    assert!(matches!(err, Error::InvalidInput { .. }), "{err:?}");
    assert!(
        err.to_string().contains(&format!(
            "export_agents: destination {} is not a file path",
            dest.display()
        )),
        "{err}"
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}
