//! The facade transport against a scripted HTTP server on a real socket:
//! 429 handling (Retry-After in seconds and as a date, storms), which
//! failures are retried for which methods, how failures become
//! `sentinelone::Error`, the token header, quota spacing, and the key staying
//! closed while a 429 is waited out. Also `ClientBuilder` validation and
//! `Client::from_env`.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use sentinelone::ApiErrorDetail;
use sentinelone::RetryPolicy;
use sentinelone::prelude::*;
use sentinelone::quota::{Limiter, Quota, Quotas, Scope};
use sentinelone::{Client, Error};
use sentinelone::{WaitEvent, WaitReason};
use tokio::net::TcpListener;

use crate::support;

use support::scripted::{
    Events, Seen, builder, connect_body, delayed, fast_retry, recording_waits, reply,
    scripted_server,
};

const TOKEN: &str = "transport-test-token-7f3a";

// ---------------------------------------------------------------------------

/// A client of `url` with its own limiter, no default spacing, quick
/// retries, and its waits recorded.
fn client_with(url: &str, quotas: Quotas, retry: RetryPolicy) -> (Client, Events) {
    recording_waits(builder(url, TOKEN, quotas, retry))
}

fn client(url: &str) -> (Client, Events) {
    client_with(
        url,
        Quotas::default().with_default_period(None),
        fast_retry(3),
    )
}

fn events_of(events: &Events, reason: WaitReason) -> Vec<WaitEvent> {
    events
        .lock()
        .unwrap()
        .iter()
        .filter(|e| e.reason == reason)
        .cloned()
        .collect()
}

fn assert_token_header(seen: &[Seen]) {
    assert!(!seen.is_empty());
    for s in seen {
        assert_eq!(
            s.header("authorization"),
            Some(format!("ApiToken {TOKEN}").as_str()),
            "{s:?}"
        );
    }
}

const OK_EMPTY: &str = "{}";
const THROTTLED_BODY: &str = r#"{"errors":[{"code":4290010,"title":"Too Many Requests"}]}"#;
const UNAVAILABLE_BODY: &str =
    r#"{"errors":[{"code":5030000,"title":"Service Unavailable","detail":"try later"}]}"#;

// ---------------------------------------------------------------------------
// 429

#[tokio::test]
async fn a_429_with_retry_after_seconds_is_waited_out_then_succeeds() {
    let server = scripted_server(vec![
        reply(429, &[("Retry-After", "1")], THROTTLED_BODY),
        reply(200, &[], r#"{"data":[{"id":"1"}]}"#),
    ])
    .await;
    let (client, events) = client(&server.url);
    let page = client
        .list_agents()
        .limit(5)
        .send()
        .await
        .expect("the retry succeeds")
        .into_inner();
    assert_eq!(
        support::typed(page.data.unwrap())[0].id.as_deref(),
        Some("1")
    );

    let seen = server.seen();
    assert_eq!(seen.len(), 2, "{seen:#?}");
    assert_eq!(seen[0].target, seen[1].target);
    assert!(
        seen[0].target.starts_with("/web/api/v2.1/agents?"),
        "{seen:?}"
    );
    let gap = seen[1].at - seen[0].at;
    assert!(gap >= Duration::from_secs(1), "retried after {gap:?}");
    assert!(gap < Duration::from_secs(5), "retried after {gap:?}");
    assert_token_header(&seen);

    let throttled = events_of(&events, WaitReason::Throttled);
    assert_eq!(throttled.len(), 1, "{throttled:?}");
    assert_eq!(throttled[0].operation, "list_agents");
    assert_eq!(throttled[0].wait, Duration::from_secs(1));
    assert!(
        throttled[0]
            .to_string()
            .ends_with("agents; waiting 1.0 s as asked"),
        "{}",
        throttled[0]
    );
}

/// The endpoint a wait names should not depend on whether the default
/// spacing is on: `agents` both times (the quota label form).
#[tokio::test]
async fn wait_events_name_the_endpoint_alike_with_or_without_default_spacing() {
    let mut endpoints = Vec::new();
    for quotas in [
        Quotas::default(),
        Quotas::default().with_default_period(None),
    ] {
        let server = scripted_server(vec![
            reply(429, &[("Retry-After", "0")], THROTTLED_BODY),
            reply(503, &[], UNAVAILABLE_BODY),
            reply(200, &[], OK_EMPTY),
        ])
        .await;
        let (client, events) = client_with(&server.url, quotas, fast_retry(3));
        client.list_agents().send().await.expect("succeeds");
        let retries = events_of(&events, WaitReason::Retry);
        assert_eq!(retries.len(), 1, "{retries:?}");
        endpoints.push(retries[0].endpoint.clone());
    }
    assert_eq!(endpoints, ["agents", "agents"]);
}

#[tokio::test]
async fn a_429_with_retry_after_as_an_http_date_is_honoured() {
    let start = std::time::Instant::now();
    let date = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(2));
    let server = scripted_server(vec![
        reply(429, &[("Retry-After", &date)], THROTTLED_BODY),
        reply(200, &[], OK_EMPTY),
    ])
    .await;
    let (client, events) = client(&server.url);
    client
        .list_agents()
        .send()
        .await
        .expect("the retry succeeds");
    let seen = server.seen();
    assert_eq!(seen.len(), 2);
    // The date has whole seconds: 1 to 2 s after `start`, however long the
    // first request took to arrive. A fallback to the backoff (10 ms) would
    // retry at once; a wrong reading of the date would wait far longer.
    let retry_at = seen[1].at - start;
    assert!(
        retry_at >= Duration::from_millis(950) && retry_at < Duration::from_secs(10),
        "{retry_at:?}"
    );
    let throttled = events_of(&events, WaitReason::Throttled);
    assert_eq!(throttled.len(), 1);
    assert!(
        throttled[0].wait > Duration::ZERO && throttled[0].wait <= Duration::from_secs(2),
        "{:?}",
        throttled[0]
    );
}

#[tokio::test]
async fn a_retry_after_longer_than_allowed_is_capped() {
    let server = scripted_server(vec![
        reply(429, &[("Retry-After", "3600")], THROTTLED_BODY),
        reply(200, &[], OK_EMPTY),
    ])
    .await;
    let retry = RetryPolicy {
        max_retry_after: Duration::from_millis(200),
        ..fast_retry(3)
    };
    let (client, events) = client_with(
        &server.url,
        Quotas::default().with_default_period(None),
        retry,
    );
    client.list_agents().send().await.expect("succeeds");
    assert_eq!(server.seen().len(), 2);
    let throttled = events_of(&events, WaitReason::Throttled);
    assert_eq!(throttled.len(), 1);
    assert_eq!(throttled[0].wait, Duration::from_millis(200));
}

#[tokio::test]
async fn a_429_storm_ends_in_rate_limited_after_max_attempts() {
    let server = scripted_server(vec![reply(429, &[("Retry-After", "0")], THROTTLED_BODY)]).await;
    let (client, _) = client(&server.url);
    let raw = client.list_agents().send().await.expect_err("always 429");
    let err = Error::from(raw);
    match &err {
        Error::RateLimited {
            operation,
            retry_after,
        } => {
            assert_eq!(operation, "list_agents");
            assert_eq!(*retry_after, Some(Duration::ZERO));
        }
        other => panic!("expected RateLimited, got {other:?}"),
    }
    assert_eq!(err.status(), Some(429));
    assert_eq!(err.operation(), Some("list_agents"));
    assert_eq!(
        err.to_string(),
        "list_agents: still rate limited after retries (console asked to wait 0 s)"
    );
    let seen = server.seen();
    assert_eq!(seen.len(), 3, "max_attempts is 3: {seen:#?}");
    assert_token_header(&seen);
}

#[tokio::test]
async fn a_429_without_retry_after_waits_the_quota_period() {
    let server = scripted_server(vec![
        reply(429, &[], THROTTLED_BODY),
        reply(200, &[], OK_EMPTY),
    ])
    .await;
    // A documented 1 s quota: its period is the wait after a bare 429.
    let (client, events) = client(&server.url);
    client
        .get_dv_query_status()
        .query_id("q1")
        .send()
        .await
        .expect("succeeds");
    let throttled = events_of(&events, WaitReason::Throttled);
    assert_eq!(throttled.len(), 1);
    assert_eq!(throttled[0].wait, Duration::from_secs(1));
    assert_eq!(throttled[0].endpoint, "dv/query-status");
    let seen = server.seen();
    assert_eq!(seen.len(), 2);
    assert!(seen[1].at - seen[0].at >= Duration::from_secs(1));
}

#[tokio::test]
async fn a_429_on_a_post_is_retried() {
    // A 429 means the request was not processed: safe to send again.
    let server = scripted_server(vec![
        reply(429, &[("Retry-After", "0")], THROTTLED_BODY),
        reply(200, &[], r#"{"data":{"affected":1}}"#),
    ])
    .await;
    let (client, _) = client(&server.url);
    client
        .connect_agents()
        .body(connect_body())
        .send()
        .await
        .expect("succeeds");
    let seen = server.seen();
    assert_eq!(seen.len(), 2);
    assert!(seen.iter().all(|s| s.method == "POST"));
    assert_eq!(seen[0].body, seen[1].body, "the same body both times");
    assert!(seen[0].body.contains("filter"), "{:?}", seen[0].body);
}

// ---------------------------------------------------------------------------
// 5xx, timeouts, connection errors

#[tokio::test]
async fn a_503_on_a_get_is_retried_then_succeeds() {
    let server = scripted_server(vec![
        reply(503, &[], UNAVAILABLE_BODY),
        reply(200, &[], OK_EMPTY),
    ])
    .await;
    let (client, events) = client(&server.url);
    client
        .list_agents()
        .send()
        .await
        .expect("the retry succeeds");
    let seen = server.seen();
    assert_eq!(seen.len(), 2);
    assert_token_header(&seen);
    let retries = events_of(&events, WaitReason::Retry);
    assert_eq!(retries.len(), 1, "{retries:?}");
    assert_eq!(retries[0].operation, "list_agents");
    assert!(retries[0].wait <= Duration::from_millis(10), "{retries:?}");
}

#[tokio::test]
async fn a_503_on_a_get_that_persists_is_an_api_error_after_max_attempts() {
    let server = scripted_server(vec![reply(503, &[], UNAVAILABLE_BODY)]).await;
    let (client, _) = client(&server.url);
    let err = Error::from(client.list_agents().send().await.unwrap_err());
    assert!(
        matches!(&err, Error::Api { status: 503, operation, .. } if operation == "list_agents"),
        "{err:?}"
    );
    assert_eq!(server.seen().len(), 3);
}

#[tokio::test]
async fn a_503_on_a_post_is_never_sent_again() {
    let server = scripted_server(vec![
        reply(503, &[], UNAVAILABLE_BODY),
        reply(200, &[], r#"{"data":{"affected":1}}"#),
    ])
    .await;
    let (client, events) = client(&server.url);
    let raw = client
        .connect_agents()
        .body(connect_body())
        .send()
        .await
        .expect_err("the 503 is returned");
    let err = Error::from(raw);
    match &err {
        Error::Api {
            status,
            operation,
            errors,
        } => {
            assert_eq!(*status, 503);
            assert_eq!(operation, "connect_agents");
            assert_eq!(
                errors,
                &vec![ApiErrorDetail {
                    code: Some(5030000),
                    title: Some("Service Unavailable".into()),
                    detail: Some("try later".into()),
                }]
            );
        }
        other => panic!("expected Api, got {other:?}"),
    }
    assert_eq!(
        server.seen().len(),
        1,
        "a POST is never re-sent after a 5xx"
    );
    assert!(events_of(&events, WaitReason::Retry).is_empty());
}

#[tokio::test]
async fn a_timed_out_get_is_retried_but_a_timed_out_post_is_not() {
    let slow = |r| delayed(Duration::from_millis(600), r);
    let server = scripted_server(vec![
        slow(reply(200, &[], OK_EMPTY)),
        reply(200, &[], OK_EMPTY),
    ])
    .await;
    let events: Events = Arc::default();
    let record = events.clone();
    let build = |url: &str| {
        let record = record.clone();
        Client::builder()
            .console_url(url)
            .api_token(TOKEN)
            .allow_http(true)
            .limiter(Limiter::new())
            .quotas(Quotas::default().with_default_period(None))
            .retry_policy(fast_retry(3))
            .timeout(Duration::from_millis(250))
            .on_wait(move |e| record.lock().unwrap().push(e.clone()))
            .build()
            .unwrap()
    };
    let client = build(&server.url);
    client
        .list_agents()
        .send()
        .await
        .expect("the retry succeeds");
    assert_eq!(server.seen().len(), 2);
    assert_eq!(events_of(&events, WaitReason::Retry).len(), 1);

    let server = scripted_server(vec![
        slow(reply(200, &[], r#"{"data":{"affected":1}}"#)),
        reply(200, &[], r#"{"data":{"affected":1}}"#),
    ])
    .await;
    let client = build(&server.url);
    let raw = client
        .connect_agents()
        .body(connect_body())
        .send()
        .await
        .expect_err("times out");
    let err = Error::from(raw);
    assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
    // Give a (wrong) re-send time to show up.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        server.seen().len(),
        1,
        "a POST that may have arrived is not re-sent"
    );
}

/// A port nothing listens on.
async fn refused_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}")
}

#[tokio::test]
async fn a_refused_connection_is_retried_for_a_post_then_is_a_transport_error() {
    let url = refused_url().await;
    let (client, events) = client(&url);
    let raw = client
        .connect_agents()
        .body(connect_body())
        .send()
        .await
        .expect_err("nothing listens");
    // Nothing reached a server, so even a POST is retried: max_attempts is 3,
    // so two backoffs.
    let retries = events_of(&events, WaitReason::Retry);
    assert_eq!(retries.len(), 2, "{retries:?}");
    assert!(retries.iter().all(|e| e.operation == "connect_agents"));
    let err = Error::from_raw("connect_agents", raw);
    match &err {
        Error::Transport { operation, source } => {
            assert_eq!(operation, "connect_agents");
            assert!(source.is_connect(), "{source:?}");
        }
        other => panic!("expected Transport, got {other:?}"),
    }
    assert!(err.to_string().starts_with("connect_agents: "), "{err}");
    assert!(std::error::Error::source(&err).is_some());
}

/// `.call()` names the operation even when no response came back.
#[tokio::test]
async fn a_transport_error_from_call_names_the_operation() {
    let url = refused_url().await;
    let (client, _) = client_with(
        &url,
        Quotas::default().with_default_period(None),
        fast_retry(1),
    );
    let err = client
        .connect_agents()
        .body(connect_body())
        .call()
        .await
        .expect_err("nothing listens");
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
    assert_eq!(err.operation(), Some("connect_agents"), "{err}");
}

// ---------------------------------------------------------------------------
// Error bodies

#[tokio::test]
async fn an_api_error_body_becomes_error_api_with_its_details() {
    let server = scripted_server(vec![reply(
        400,
        &[],
        r#"{"errors":[{"code":4000010,"title":"Validation Error","detail":"bad"}]}"#,
    )])
    .await;
    let (client, _) = client(&server.url);
    let err = Error::from(client.list_agents().limit(5).send().await.unwrap_err());
    match &err {
        Error::Api {
            status,
            operation,
            errors,
        } => {
            assert_eq!(*status, 400);
            assert_eq!(operation, "list_agents");
            assert_eq!(
                errors,
                &vec![ApiErrorDetail {
                    code: Some(4000010),
                    title: Some("Validation Error".into()),
                    detail: Some("bad".into()),
                }]
            );
        }
        other => panic!("expected Api, got {other:?}"),
    }
    assert_eq!(err.status(), Some(400));
    assert_eq!(
        err.to_string(),
        "list_agents: SentinelOne answered HTTP 400; [4000010] Validation Error: bad"
    );
    assert_eq!(server.seen().len(), 1, "a 400 is not retried");
}

#[tokio::test]
async fn an_undecodable_body_becomes_error_decode_with_an_excerpt() {
    let body = format!(
        r#"{{"pagination": "not an object", "pad": "{}"}}"#,
        "x".repeat(500)
    );
    let server = scripted_server(vec![reply(200, &[], &body)]).await;
    let (client, _) = client(&server.url);
    let err = Error::from(client.list_agents().send().await.unwrap_err());
    match &err {
        Error::Decode {
            excerpt, message, ..
        } => {
            assert!(
                excerpt.starts_with(r#"{"pagination": "not an object""#),
                "{excerpt}"
            );
            assert_eq!(
                excerpt.chars().count(),
                301,
                "300 characters and an ellipsis"
            );
            assert!(excerpt.ends_with('…'));
            assert!(!message.is_empty());
        }
        other => panic!("expected Decode, got {other:?}"),
    }
    assert!(err.to_string().contains("not an object"), "{err}");
    assert_eq!(server.seen().len(), 1, "a decode failure is not retried");
}

/// Gateways in front of a console answer 502/503/429 with HTML or nothing:
/// the status must survive the missing JSON error body.
#[tokio::test]
async fn an_error_status_without_a_json_body_keeps_its_status() {
    for (status, body) in [
        (502, "<html><body>Bad Gateway</body></html>"),
        (503, ""),
        (429, "Too Many Requests"),
    ] {
        let server = scripted_server(vec![reply(status, &[("Retry-After", "0")], body)]).await;
        let (client, _) = client(&server.url);
        let err = Error::from(client.list_agents().send().await.unwrap_err());
        assert_eq!(err.status(), Some(status), "{status} {body:?}: {err:?}");
        assert_eq!(err.operation(), Some("list_agents"), "{err:?}");
        assert_eq!(server.seen().len(), 3, "retried up to max_attempts");
    }
}

/// Like the transport error: a decode failure from `.call()` says which
/// call it was.
#[tokio::test]
async fn a_decode_error_from_call_names_the_operation() {
    let server = scripted_server(vec![reply(200, &[], "<html>oops</html>")]).await;
    let (client, _) = client(&server.url);
    let err = client.list_agents().call().await.unwrap_err();
    assert!(matches!(err, Error::Decode { .. }), "{err:?}");
    assert_eq!(err.operation(), Some("list_agents"), "{err}");
}

/// `?` on a generated call (the `From` conversion) names the operation
/// for whatever the transport decided or passed on: a redirect, a status
/// the spec does not declare, a body over the cap, a refused path. The
/// transport adds no header to the answer.
#[tokio::test]
async fn question_mark_names_the_operation_of_every_answer_the_transport_handles() {
    let server = scripted_server(vec![
        reply(302, &[("Location", "https://elsewhere.example:8443/x")], ""),
        reply(201, &[("x-probe", "1")], r#"{"data":[]}"#),
        reply(
            200,
            &[],
            &format!(r#"{{"data":[], "pad":"{}"}}"#, "x".repeat(4096)),
        ),
    ])
    .await;
    let (client, _) = client_with(
        &server.url,
        Quotas::default().with_default_period(None),
        fast_retry(1),
    );
    let err = Error::from(client.list_agents().send().await.unwrap_err());
    match &err {
        Error::Redirected {
            operation,
            status,
            location,
        } => {
            assert_eq!(
                (operation.as_str(), *status, location.as_str()),
                ("list_agents", 302, "elsewhere.example:8443")
            );
        }
        other => panic!("expected Redirected, got {other:?}"),
    }

    let raw = client.list_agents().send().await.unwrap_err();
    let sentinelone::raw::Error::UnexpectedResponse(response) = &raw else {
        panic!("expected UnexpectedResponse, got {raw:?}");
    };
    assert_eq!(response.headers()["x-probe"], "1");
    assert!(
        response
            .headers()
            .keys()
            .all(|name| !name.as_str().starts_with("x-sentinelone")),
        "{:?}",
        response.headers()
    );
    let err = Error::from(raw);
    assert_eq!(err.operation(), Some("list_agents"), "{err:?}");
    assert_eq!(err.status(), Some(201), "{err:?}");

    let capped = builder(&server.url, TOKEN, Quotas::none(), fast_retry(1))
        .max_response_bytes(1024)
        .build()
        .unwrap();
    let err = Error::from(capped.list_agents().send().await.unwrap_err());
    assert!(
        matches!(&err, Error::ResponseTooLarge { operation, limit: 1024 } if operation == "list_agents"),
        "{err:?}"
    );

    let err = Error::from(
        client
            .get_threat_timeline()
            .threat_id("..")
            .send()
            .await
            .unwrap_err(),
    );
    assert!(
        matches!(&err, Error::InvalidInput { message } if message.starts_with("get_threat_timeline: path parameter threat_id")),
        "{err:?}"
    );
    assert_eq!(server.seen().len(), 3, "the refused path was not sent");
}

#[tokio::test]
async fn hand_built_requests_go_through_the_same_transport() {
    let server = scripted_server(vec![
        reply(429, &[("Retry-After", "0")], THROTTLED_BODY),
        reply(
            404,
            &[],
            r#"{"errors":[{"code":4040000,"title":"Not Found"}]}"#,
        ),
    ])
    .await;
    let (client, _) = client(&server.url);
    let request = client
        .request(reqwest::Method::GET, "/web/api/v2.1/custom/thing")
        .build()
        .unwrap();
    let err = client
        .execute(request, "custom_thing")
        .await
        .expect_err("404");
    assert!(
        matches!(&err, Error::Api { status: 404, operation, .. } if operation == "custom_thing"),
        "{err:?}"
    );
    let seen = server.seen();
    assert_eq!(seen.len(), 2, "the 429 was retried");
    assert_eq!(seen[0].target, "/web/api/v2.1/custom/thing");
    assert_token_header(&seen);
}

// ---------------------------------------------------------------------------
// Quotas over the wire

#[tokio::test]
async fn the_default_quota_spaces_two_quick_calls_of_one_endpoint() {
    let server = scripted_server(vec![reply(200, &[], OK_EMPTY)]).await;
    let (client, events) = client_with(&server.url, Quotas::default(), fast_retry(3));
    let start = std::time::Instant::now();
    let (a, b) = tokio::join!(
        client.get_system_info().send(),
        client.get_system_info().send()
    );
    a.unwrap();
    b.unwrap();
    let seen = server.seen();
    assert_eq!(seen.len(), 2);
    // The second call reserved the slot 100 ms (+5 % margin) after the
    // first (the unit tests of src/quota.rs check the margin exactly on a paused clock;
    // here the second reservation may come a little after the first)...
    let quota = events_of(&events, WaitReason::Quota);
    assert_eq!(quota.len(), 1, "{quota:?}");
    assert_eq!(quota[0].operation, "get_system_info");
    assert_eq!(quota[0].endpoint, "system/info");
    assert!(
        quota[0].wait > Duration::ZERO && quota[0].wait <= Duration::from_millis(105),
        "{quota:?}"
    );
    // ...so the second request cannot have arrived sooner than that after
    // the first was reserved (at `start` or later).
    let second = seen.iter().map(|s| s.at).max().unwrap() - start;
    assert!(second >= Duration::from_millis(105), "{second:?}");
}

#[tokio::test]
async fn different_endpoints_do_not_wait_for_each_other() {
    let server = scripted_server(vec![reply(200, &[], OK_EMPTY)]).await;
    let (client, events) = client_with(&server.url, Quotas::default(), fast_retry(3));
    let (a, b) = tokio::join!(client.list_agents().send(), client.get_system_info().send());
    a.unwrap();
    b.unwrap();
    let seen = server.seen();
    assert_eq!(seen.len(), 2);
    // Neither waited for a quota slot (timing on a busy machine proves
    // nothing; the limiter's own report does).
    assert!(events_of(&events, WaitReason::Quota).is_empty());
}

#[tokio::test]
async fn the_key_stays_closed_while_a_429_is_waited_out() {
    let server = scripted_server(vec![
        reply(429, &[("Retry-After", "1")], THROTTLED_BODY),
        reply(200, &[], OK_EMPTY),
    ])
    .await;
    // A short quota period, so only the 429 can explain a 1 s wait.
    let quotas = Quotas::default().with_rule(Quota {
        method: "GET",
        path: "/web/api/v2.1/dv/query-status",
        prefix: false,
        scope: Scope::Token,
        period: Duration::from_millis(50),
        burst: 1,
        label: "dv/query-status",
    });
    let (throttled_tx, throttled_rx) = tokio::sync::oneshot::channel::<()>();
    let throttled_tx = Mutex::new(Some(throttled_tx));
    let client = Client::builder()
        .console_url(&server.url)
        .api_token(TOKEN)
        .allow_http(true)
        .limiter(Limiter::new())
        .quotas(quotas)
        .retry_policy(fast_retry(3))
        .on_wait(move |e| {
            if e.reason == WaitReason::Throttled
                && let Some(tx) = throttled_tx.lock().unwrap().take()
            {
                let _ = tx.send(());
            }
        })
        .build()
        .unwrap();
    let a = {
        let client = client.clone();
        tokio::spawn(async move {
            client
                .get_dv_query_status()
                .query_id("a")
                .send()
                .await
                .map(|_| ())
        })
    };
    // B starts once A is waiting out its 429.
    throttled_rx.await.expect("A was throttled");
    client
        .get_dv_query_status()
        .query_id("b")
        .send()
        .await
        .expect("B succeeds");
    a.await.unwrap().expect("A succeeds after its wait");

    let seen = server.seen();
    assert_eq!(seen.len(), 3, "{seen:#?}");
    assert_eq!(seen[0].target, "/web/api/v2.1/dv/query-status?queryId=a");
    let b = seen
        .iter()
        .find(|s| s.target.ends_with("queryId=b"))
        .expect("B's request");
    let waited = b.at - seen[0].at;
    assert!(
        waited >= Duration::from_millis(995),
        "B was sent {waited:?} after A's 429, before A's 1 s wait ended"
    );
}

// ---------------------------------------------------------------------------
// ClientBuilder validation and from_env

fn invalid_message(result: Result<Client, Error>) -> String {
    match result {
        Err(Error::InvalidInput { message }) => message,
        Err(other) => panic!("expected InvalidInput, got {other:?}"),
        Ok(client) => panic!("expected InvalidInput, got {client:?}"),
    }
}

const SECRET: &str = "builder-secret-Q9z";

#[test]
fn an_http_url_is_refused_unless_allowed() {
    let msg = invalid_message(
        Client::builder()
            .console_url("http://console.example")
            .api_token(SECRET)
            .build(),
    );
    assert!(msg.contains("http://console.example"), "{msg}");
    assert!(msg.contains("unencrypted"), "{msg}");
    assert!(msg.contains("allow_http"), "{msg}");
    assert!(!msg.contains(SECRET));

    let client = Client::builder()
        .console_url("http://127.0.0.1:8080/")
        .api_token(SECRET)
        .allow_http(true)
        .limiter(Limiter::new())
        .build()
        .expect("allowed");
    assert_eq!(client.console_url(), "http://127.0.0.1:8080");
}

#[test]
fn a_url_beyond_the_console_root_is_refused() {
    for url in [
        "https://console.example/web/api/v2.1",
        "https://console.example/?token=1",
        "https://console.example/#top",
    ] {
        let msg = invalid_message(Client::builder().console_url(url).api_token(SECRET).build());
        assert!(msg.contains("must be the console root"), "{url}: {msg}");
        assert!(msg.contains("https://console.example"), "{url}: {msg}");
        assert!(!msg.contains(SECRET));
    }
    let client = Client::builder()
        .console_url("  https://console.example/  ")
        .api_token(SECRET)
        .limiter(Limiter::new())
        .build()
        .expect("the root, with a slash and spaces, is fine");
    assert_eq!(client.console_url(), "https://console.example");
}

#[test]
fn other_bad_urls_are_refused_with_the_reason() {
    let cases = [
        ("ftp://console.example", "expected https"),
        ("console.example", "is not a URL"),
        (
            "https://user:pw@console.example",
            "must not carry credentials",
        ),
    ];
    for (url, reason) in cases {
        let msg = invalid_message(Client::builder().console_url(url).api_token(SECRET).build());
        assert!(msg.contains(reason), "{url}: {msg}");
        assert!(!msg.contains(SECRET));
    }
}

#[test]
fn a_missing_url_or_token_is_refused() {
    let msg = invalid_message(Client::builder().api_token(SECRET).build());
    assert_eq!(msg, "the console URL is missing");
    let msg = invalid_message(
        Client::builder()
            .console_url("   ")
            .api_token(SECRET)
            .build(),
    );
    assert_eq!(msg, "the console URL is missing");
    let msg = invalid_message(Client::builder().console_url("https://c.example").build());
    assert_eq!(msg, "the API token is missing");
}

/// `build` promises to check everything before any request; a root
/// certificate that is not PEM at all should not be accepted silently.
#[test]
fn a_root_certificate_that_is_not_pem_is_refused() {
    let result = Client::builder()
        .console_url("https://c.example")
        .api_token(SECRET)
        .limiter(Limiter::new())
        .add_root_certificate_pem(b"not a certificate".to_vec())
        .build();
    let msg = invalid_message(result);
    assert!(msg.contains("root certificate"), "{msg}");
}

#[test]
fn an_empty_token_is_refused() {
    for token in ["", "   ", "\n"] {
        let msg = invalid_message(
            Client::builder()
                .console_url("https://c.example")
                .api_token(token)
                .build(),
        );
        assert_eq!(msg, "the API token is empty", "{token:?}");
    }
}

#[test]
fn a_token_that_cannot_be_a_header_is_refused_without_echoing_it() {
    for token in [
        "builder-secret\nQ9z",
        "builder-secret\rQ9z",
        "builder\u{0}secret",
    ] {
        let result = Client::builder()
            .console_url("https://c.example")
            .api_token(token)
            .build();
        let err = result.as_ref().expect_err("refused");
        let (display, debug) = (err.to_string(), format!("{err:?}"));
        for text in [&display, &debug] {
            assert!(text.contains("API token"), "{text}");
            assert!(text.contains("cannot be sent in a header"), "{text}");
            assert!(!text.contains("builder-secret"), "{text}");
            assert!(!text.contains("secret"), "{text}");
        }
        assert_eq!(
            invalid_message(result),
            "the API token contains characters that cannot be sent in a header"
        );
    }
}

/// Reports `Client::from_env()` for the environment this process got; the
/// test below runs it in a child process with a controlled environment (so
/// no test changes this process's environment).
#[test]
fn from_env_child() {
    if std::env::var_os("S1_FROM_ENV_CHILD").is_none() {
        return;
    }
    match Client::from_env() {
        Ok(client) => println!("FROM_ENV ok {}", client.console_url()),
        Err(e) => println!("FROM_ENV err {e}"),
    }
}

fn from_env_in_child(vars: &[(&str, &str)]) -> String {
    let mut command = std::process::Command::new(std::env::current_exe().unwrap());
    command
        .args([
            "transport::from_env_child",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env_remove("S1_CONSOLE_URL")
        .env_remove("S1_API_TOKEN")
        .env("S1_FROM_ENV_CHILD", "1");
    for (k, v) in vars {
        command.env(k, v);
    }
    let output = command.output().expect("the test binary runs");
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    stdout
        .lines()
        .find_map(|l| l.split_once("FROM_ENV ").map(|(_, result)| result))
        .unwrap_or_else(|| panic!("no result in {stdout}"))
        .to_string()
}

#[test]
fn from_env_reads_the_console_url_and_token() {
    assert_eq!(
        from_env_in_child(&[]),
        "err invalid input: S1_CONSOLE_URL is not set"
    );
    assert_eq!(
        from_env_in_child(&[("S1_CONSOLE_URL", "https://env.example")]),
        "err invalid input: S1_API_TOKEN is not set"
    );
    assert_eq!(
        from_env_in_child(&[
            ("S1_CONSOLE_URL", "https://env.example/"),
            ("S1_API_TOKEN", SECRET),
        ]),
        "ok https://env.example"
    );
    let refused = from_env_in_child(&[
        ("S1_CONSOLE_URL", "http://env.example"),
        ("S1_API_TOKEN", SECRET),
    ]);
    assert!(refused.starts_with("err invalid input: "), "{refused}");
    assert!(!refused.contains(SECRET), "{refused}");
}
