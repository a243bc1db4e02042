//! Hostile consoles and networks, the limits (issue 10, cases 9–12):
//! endless empty pages, event collection past its timeout, huge bodies
//! (bytes and items), stalled and unanswered requests, and bare 429s.
//! Every server here misbehaves on purpose; every test bounds its own run
//! with sub-second limits, so a regression fails instead of hanging.

use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use futures_util::TryStreamExt;
use sentinelone::dv::DvQuery;
use sentinelone::pagination;
use sentinelone::prelude::*;
use sentinelone::quota::Quotas;
use sentinelone::{ClientBuilder, Error, Polling, RetryPolicy, WaitReason};

use crate::support::TOKEN;
use crate::support::scripted::{builder, delayed, recording_waits, reply, scripted_server};
use crate::support::streaming::{Hostile, hostile_server};

/// Quick retries; bare 429s back off from 20 ms.
fn quick_retry(max_attempts: u32) -> RetryPolicy {
    RetryPolicy {
        max_attempts,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_secs(1),
        max_retry_after: Duration::from_secs(60),
        throttle_base_delay: Duration::from_millis(20),
    }
}

fn client_of(url: &str, retry: RetryPolicy) -> ClientBuilder {
    builder(url, TOKEN, Quotas::none(), retry)
}

/// Fails the test instead of hanging when `work` outlives `limit`.
async fn bounded<T>(limit: Duration, work: impl Future<Output = T>) -> T {
    tokio::time::timeout(limit, work)
        .await
        .expect("finished in time (it hung on main)")
}

fn page(items: &str, cursor: Option<&str>) -> String {
    let cursor = cursor.map_or("null".to_string(), |c| format!("\"{c}\""));
    format!(r#"{{"data":[{items}],"pagination":{{"nextCursor":{cursor},"totalItems":null}}}}"#)
}

// ---------------------------------------------------------------------------
// 9. Endless pages

#[tokio::test]
async fn empty_pages_with_fresh_cursors_stop_after_three() {
    // On main: 11 requests (then the repeated last cursor stopped it).
    let script = (1..=10)
        .map(|n| reply(200, &[], &page("", Some(&format!("c{n}")))))
        .collect();
    let server = scripted_server(script).await;
    let client = client_of(&server.url, quick_retry(1)).build().unwrap();
    let result: Result<Vec<_>, Error> = bounded(
        Duration::from_secs(5),
        client.list_agents().items().try_collect(),
    )
    .await;
    let error = result.expect_err("endless pages are refused");
    assert!(
        matches!(&error, Error::Decode { operation, message, .. }
            if operation == "list_agents" && message.contains("3 empty pages in a row")),
        "{error}"
    );
    assert_eq!(server.seen().len(), pagination::MAX_EMPTY_PAGES as usize);
}

#[tokio::test]
async fn a_non_empty_page_resets_the_empty_run() {
    let server = scripted_server(vec![
        reply(200, &[], &page("", Some("c1"))),
        reply(200, &[], &page("", Some("c2"))),
        reply(200, &[], &page("{}", Some("c3"))),
        reply(200, &[], &page("", Some("c4"))),
        reply(200, &[], &page("{}", None)),
    ])
    .await;
    let client = client_of(&server.url, quick_retry(1)).build().unwrap();
    let items: Vec<_> = client.list_agents().items().try_collect().await.unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(server.seen().len(), 5);
}

#[allow(deprecated)] // exercises the Deep Visibility composites until their sunset
#[tokio::test]
async fn dv_query_reads_its_events_within_its_timeout() {
    // On main the events were read outside the timeout: all 30 slow pages
    // (4.5 s) and success.
    let mut script = vec![
        reply(200, &[], r#"{"data":{"queryId":"q1"}}"#),
        reply(
            200,
            &[],
            r#"{"data":{"responseState":"FINISHED","progressStatus":100}}"#,
        ),
    ];
    for n in 1..=30 {
        let body = page("{}", Some(&format!("e{n}")));
        script.push(delayed(Duration::from_millis(150), reply(200, &[], &body)));
    }
    script.push(reply(200, &[], r#"{"data":{"success":true}}"#));
    let server = scripted_server(script).await;
    let client = client_of(&server.url, quick_retry(1)).build().unwrap();
    let from = Utc.with_ymd_and_hms(2024, 5, 1, 0, 0, 0).unwrap();
    let request = DvQuery::new(
        "AgentName IS NOT EMPTY",
        from,
        from + chrono::TimeDelta::hours(1),
    )
    .limit(1000)
    .polling(Polling::every(
        Duration::from_millis(20),
        Duration::from_millis(400),
    ));
    let started = Instant::now();
    let error = bounded(Duration::from_secs(3), client.dv().query(&request))
        .await
        .expect_err("the events take longer than the timeout");
    assert!(
        matches!(&error, Error::WaitTimeout { waiting_for, .. }
            if waiting_for == "the events of Deep Visibility query q1"),
        "{error}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    let seen = server.seen();
    let last = seen.last().unwrap();
    assert_eq!(
        (last.method.as_str(), last.target.as_str()),
        ("POST", "/web/api/v2.1/dv/cancel-query"),
        "the query is cancelled"
    );
    assert!(seen.len() < 10, "{} requests", seen.len());
}

#[tokio::test]
async fn a_slow_check_of_a_wait_ends_at_the_wait_timeout() {
    // On main the check ran to its end (2 s) before the limit was looked at.
    let server = scripted_server(vec![delayed(
        Duration::from_secs(2),
        reply(200, &[], &page("", None)),
    )])
    .await;
    let client = client_of(&server.url, quick_retry(1)).build().unwrap();
    let collection = sentinelone::files::Collection::new("1234567890", Utc::now());
    let polling = Polling::every(Duration::from_millis(20), Duration::from_millis(200));
    let started = Instant::now();
    let error = bounded(
        Duration::from_secs(5),
        client.files().wait_for_upload(&collection, polling),
    )
    .await
    .expect_err("the check outlives the wait");
    assert!(
        matches!(&error, Error::WaitTimeout { waiting_for, .. }
            if waiting_for == "the upload of the files fetched from agent 1234567890"),
        "{error:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(server.seen().len(), 1);
}

// ---------------------------------------------------------------------------
// 10. Memory

#[tokio::test]
async fn a_body_past_the_cap_fails_while_it_is_read() {
    // 10 MiB of whitespace, no Content-Length; the cap is 64 KiB.
    let server = hostile_server(Hostile::stream("", &" ".repeat(1024), 10 * 1024, "{}"));
    let client = client_of(&server.url, quick_retry(1))
        .max_response_bytes(64 * 1024)
        .build()
        .unwrap();
    let error = bounded(Duration::from_secs(5), client.get_system_info().call())
        .await
        .expect_err("too large");
    assert!(
        matches!(&error, Error::ResponseTooLarge { operation, limit: 65_536 } if operation == "get_system_info"),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        "get_system_info: the answer is larger than the 64 KiB cap; reading stopped there (raise it with max_response_bytes)"
    );
    assert_eq!(server.requests(), 1);
    assert!(
        server.sent() < 4 * 1024 * 1024,
        "sent {} bytes",
        server.sent()
    );
}

#[tokio::test]
async fn an_announced_length_past_the_cap_fails_before_reading() {
    let answer =
        Hostile::stream("", &" ".repeat(1024), 8 * 1024, "{}").with_length(8 * 1024 * 1024 + 2);
    let server = hostile_server(answer);
    let client = client_of(&server.url, quick_retry(1))
        .max_response_bytes(1024 * 1024)
        .build()
        .unwrap();
    let error = client
        .get_system_info()
        .call()
        .await
        .expect_err("too large");
    assert!(
        matches!(
            error,
            Error::ResponseTooLarge {
                limit: 1_048_576,
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(server.requests(), 1);
}

#[tokio::test]
async fn a_page_with_more_items_than_its_limit_is_refused_unread() {
    // On main: 10 million items (30 MB) decoded for limit=2.
    let answer = Hostile::stream(r#"{"data":["#, "{},", 10_000_000, "{}]}");
    let total = answer.body_len();
    let server = hostile_server(answer);
    let client = client_of(&server.url, quick_retry(1)).build().unwrap();
    let error = client
        .list_agents()
        .limit(2)
        .call()
        .await
        .expect_err("more than 2 items");
    assert!(
        matches!(&error, Error::Decode { operation, message, .. }
            if operation == "list_agents" && message == "the page holds more than the 2 items asked for (limit=2)"),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        "list_agents: unexpected response body (the page holds more than the 2 items asked for (limit=2))"
    );
    // Stopped at the third item: what was sent sat in socket buffers.
    assert!(
        server.sent() < total / 4,
        "sent {} of {total}",
        server.sent()
    );
}

#[tokio::test]
async fn downloads_are_not_held_to_the_page_cap() {
    let content = vec![b'z'; 256 * 1024];
    let body = String::from_utf8(content.clone()).unwrap();
    let mut answer = reply(200, &[], &body);
    answer.raw = answer.raw.replace("application/json", "application/zip");
    let server = scripted_server(vec![answer]).await;
    let client = client_of(&server.url, quick_retry(1))
        .max_response_bytes(1024)
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("files.zip");
    let upload = sentinelone::files::AgentUpload::new("1234567890", "9876543210").unwrap();
    let saved = client.files().download(&upload, &dest).await.unwrap();
    assert_eq!(saved.bytes, content.len() as u64);
    assert_eq!(std::fs::read(&dest).unwrap(), content);
}

/// A file answer is not capped, but an error answer of a file operation is
/// read into memory (once, for its error list): it is held to the cap.
#[tokio::test]
async fn the_error_answer_of_a_download_is_held_to_the_cap() {
    let mut answer = reply(404, &[], &"e".repeat(256 * 1024));
    answer.raw = answer.raw.replace("application/json", "text/html");
    let server = scripted_server(vec![answer]).await;
    let client = client_of(&server.url, quick_retry(1))
        .max_response_bytes(1024)
        .build()
        .unwrap();
    let error = client
        .download_agent_upload()
        .agent_id("1234567890")
        .activity_id("9876543210")
        .call()
        .await
        .map(|_| ())
        .expect_err("404");
    assert!(
        matches!(&error, Error::ResponseTooLarge { operation, limit: 1024 } if operation == "download_agent_upload"),
        "{error:?}"
    );
}

// ---------------------------------------------------------------------------
// 11. Stalls

#[tokio::test]
async fn a_download_that_stalls_mid_body_fails_after_the_idle_timeout() {
    // On main: hung until the 1 h download timeout.
    let server = hostile_server(Hostile::stalling(
        "application/zip",
        1024 * 1024,
        &[b'z'; 1024],
    ));
    let client = client_of(&server.url, quick_retry(1))
        .read_idle_timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("files.zip");
    let upload = sentinelone::files::AgentUpload::new("1234567890", "9876543210").unwrap();
    let started = Instant::now();
    let error = bounded(
        Duration::from_secs(5),
        client.files().download(&upload, &dest),
    )
    .await
    .expect_err("stalled");
    assert!(
        matches!(&error, Error::Timeout { operation } if operation == "download_agent_upload"),
        "{error:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(server.requests(), 1);
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(left.is_empty(), "nothing left behind: {left:?}");
}

#[tokio::test]
async fn an_unanswered_get_stops_at_the_call_deadline() {
    // On main: 10 attempts of 5 s each.
    let server = scripted_server(vec![delayed(
        Duration::from_secs(3600),
        reply(200, &[], "{}"),
    )])
    .await;
    let client = client_of(&server.url, quick_retry(10))
        .read_idle_timeout(Duration::from_millis(150))
        .call_deadline(Duration::from_millis(500))
        .build()
        .unwrap();
    let started = Instant::now();
    let error = bounded(Duration::from_secs(5), client.get_system_info().call())
        .await
        .expect_err("never answered");
    assert!(
        matches!(&error, Error::Timeout { operation } if operation == "get_system_info"),
        "{error:?}"
    );
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_secs(1),
        "{took:?}"
    );
    let sent = server.seen().len();
    assert!((2..=4).contains(&sent), "{sent} attempts");
}

#[tokio::test]
async fn a_retry_after_past_the_deadline_fails_at_once() {
    // On main: waited the 10 s asked for, then retried.
    let server = scripted_server(vec![reply(429, &[("Retry-After", "10")], "{}")]).await;
    let (client, events) = recording_waits(
        client_of(&server.url, quick_retry(4)).call_deadline(Duration::from_millis(300)),
    );
    let started = Instant::now();
    let error = bounded(Duration::from_secs(5), client.get_system_info().call())
        .await
        .expect_err("throttled past the deadline");
    assert!(matches!(error, Error::Timeout { .. }), "{error:?}");
    assert!(started.elapsed() < Duration::from_millis(200));
    assert_eq!(server.seen().len(), 1);
    assert!(events.lock().unwrap().is_empty(), "no wait started");
}

// ---------------------------------------------------------------------------
// 12. 429 without Retry-After

#[tokio::test]
async fn a_bare_429_backs_off_doubling_with_jitter() {
    // On main: the retry backoff (base 10 ms), not a throttle schedule.
    let server = scripted_server(vec![
        reply(429, &[], "{}"),
        reply(429, &[], "{}"),
        reply(429, &[], "{}"),
        reply(200, &[], "{}"),
    ])
    .await;
    let (client, events) = recording_waits(client_of(&server.url, quick_retry(5)));
    client
        .get_system_info()
        .call()
        .await
        .expect("the 4th attempt succeeds");
    let waits: Vec<Duration> = events
        .lock()
        .unwrap()
        .iter()
        .filter(|e| e.reason == WaitReason::Throttled)
        .map(|e| e.wait)
        .collect();
    assert_eq!(waits.len(), 3, "{waits:?}");
    // throttle_base_delay 20 ms, doubling, equal jitter: [d/2, d].
    for (wait, full) in waits.iter().zip([20u64, 40, 80]) {
        let full = Duration::from_millis(full);
        assert!(*wait >= full / 2 && *wait <= full, "{waits:?}");
    }
    assert_eq!(server.seen().len(), 4);
}

#[test]
fn the_default_throttle_backoff_is_in_seconds() {
    let policy = RetryPolicy::default();
    assert_eq!(policy.throttle_base_delay, Duration::from_secs(1));
    for (n, full) in [(1, 1), (2, 2), (3, 4), (4, 8), (10, 30)] {
        let wait = policy.throttle_backoff(n);
        let full = Duration::from_secs(full);
        assert!(wait >= full / 2 && wait <= full, "{n}: {wait:?}");
    }
}

// ---------------------------------------------------------------------------
// 10. Memory, measured: the `s1` binary against a hostile console, its
// peak RSS read from wait4's rusage (ru_maxrss, KiB on Linux).

#[cfg(all(feature = "cli", target_os = "linux"))]
mod cli_memory {
    use super::*;
    use std::io::Read;
    use std::process::{Command, Stdio};

    /// Peak RSS any of these runs may reach.
    const PEAK_LIMIT: u64 = 256 * 1024 * 1024;

    struct Run {
        code: i32,
        stderr: String,
        peak_rss: u64,
    }

    /// Runs `s1 args` against `url` and reaps it with wait4.
    #[expect(
        clippy::zombie_processes,
        reason = "reaped by wait4, which reads its rusage"
    )]
    fn run_s1(url: &str, args: &[&str]) -> Run {
        let mut child = Command::new(env!("CARGO_BIN_EXE_s1"))
            .args(args)
            .env("S1_CONSOLE_URL", url)
            .env("S1_API_TOKEN", TOKEN)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("s1 starts");
        let mut stderr = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        let mut status = 0;
        // SAFETY: wait4 on our own child's pid with valid out-pointers;
        // the child is reaped here, `child` is not waited on again.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        let pid = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
        assert_eq!(pid, child.id() as i32, "wait4");
        assert!(libc::WIFEXITED(status), "s1 exited normally ({status})");
        let run = Run {
            code: libc::WEXITSTATUS(status),
            stderr,
            peak_rss: usage.ru_maxrss as u64 * 1024,
        };
        eprintln!("s1 {args:?}: peak RSS {} KiB", run.peak_rss / 1024);
        run
    }

    #[test]
    fn s1_stops_a_huge_body_of_tiny_items_early_and_small() {
        // 60 MB of `{},` (20 million items); main reached GBs before it
        // aborted.
        let items = 20_000_000;
        let server = hostile_server(Hostile::stream(r#"{"data":["#, "{},", items, "{}]}"));
        let run = run_s1(&server.url, &["agents", "list", "--limit", "1000"]);
        assert_eq!(run.code, 3, "{}", run.stderr);
        assert!(
            run.stderr.contains("list_agents") && run.stderr.contains("more than the 1000 items"),
            "{}",
            run.stderr
        );
        assert!(run.peak_rss < PEAK_LIMIT, "peak RSS {} bytes", run.peak_rss);
        assert_eq!(server.requests(), 1);
        assert!(
            server.sent() < 8 * 1024 * 1024,
            "sent {} of 60 MB",
            server.sent()
        );
    }

    #[test]
    fn s1_stops_a_2_gb_whitespace_body_at_the_cap() {
        // 2 GiB of spaces, no Content-Length; main buffered all of it.
        let total: u64 = 2 * 1024 * 1024 * 1024;
        let unit = " ".repeat(64 * 1024);
        let server = hostile_server(Hostile::stream("", &unit, total / unit.len() as u64, ""));
        let run = run_s1(&server.url, &["agents", "list"]);
        assert_eq!(run.code, 3, "{}", run.stderr);
        assert!(
            run.stderr.contains("larger than the 64 MiB cap"),
            "{}",
            run.stderr
        );
        assert!(run.peak_rss < PEAK_LIMIT, "peak RSS {} bytes", run.peak_rss);
        // Stopped in bytes: the cap plus what sat in socket buffers.
        assert!(
            server.sent() < 80 * 1024 * 1024,
            "sent {} of 2 GiB",
            server.sent()
        );
    }
}
