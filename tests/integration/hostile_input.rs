//! Input from a hostile console or a careless hand, against misbehaving
//! loopback servers: ids the console makes up (empty, duplicated), path
//! parameters that would move a request elsewhere, console text that
//! would drive the terminal, and numbers that used to panic. Each test
//! checks what the server received as well as the error.

use std::time::Duration;

use chrono::{DateTime, Utc};
use proptest::prelude::*;
use sentinelone::agents::Broadcast;
use sentinelone::detections::DetectionWindow;
use sentinelone::exclusions::ExclusionSelection;
use sentinelone::prelude::*;
use sentinelone::quota::Quotas;
use sentinelone::threats::{self, ThreatTarget};
use sentinelone::{Client, Error, Polling, RetryPolicy};
use serde_json::{Value, json};

use crate::support::scripted::{Scripted, builder, reply, scripted_server};

const TOKEN: &str = "hostile-input-token";

/// A client of `server` that sends each request once.
fn client(server: &Scripted) -> Client {
    let once = RetryPolicy {
        max_attempts: 1,
        ..RetryPolicy::default()
    };
    builder(&server.url, TOKEN, Quotas::none(), once)
        .build()
        .expect("the client builds")
}

/// A one-page list answer holding `items`.
fn page(items: Value) -> String {
    json!({ "data": items, "pagination": { "nextCursor": null, "totalItems": 2 } }).to_string()
}

/// A threat on `computer` with `id`.
fn threat(id: &str, computer: &str) -> Value {
    json!({
        "id": id,
        "agentRealtimeInfo": { "agentComputerName": computer },
        "threatInfo": { "threatName": "eicar.com" },
    })
}

fn message(error: Error) -> String {
    match error {
        Error::InvalidInput { message } => message,
        other => panic!("not InvalidInput: {other:?}"),
    }
}

// -- 14: ids taken from the console -------------------------------------

#[tokio::test]
async fn an_empty_threat_id_from_the_console_stops_the_action() {
    let listing = page(json!([
        threat("1503989642042428880", "pc1"),
        threat("", "pc1")
    ]));
    let server = scripted_server(vec![
        reply(200, &[], &listing),
        reply(200, &[], r#"{"data":{"affected":2}}"#),
    ])
    .await;
    let error = client(&server)
        .threats()
        .kill(&ThreatTarget::computers(["pc1"]))
        .await
        .unwrap_err();
    assert_eq!(
        message(error),
        "the console listed threat #2 with id \"\", not a SentinelOne id (decimal digits); nothing was sent"
    );
    let seen = server.seen();
    assert_eq!(seen.len(), 1, "only the listing: {seen:?}");
    assert_eq!(seen[0].method, "GET");
}

#[tokio::test]
async fn a_threat_listed_twice_is_mitigated_once() {
    let listing = page(json!([
        threat("17", "pc1"),
        threat("17", "pc1"),
        threat("18", "pc1")
    ]));
    let server = scripted_server(vec![
        reply(200, &[], &listing),
        reply(200, &[], r#"{"data":{"affected":2}}"#),
    ])
    .await;
    let done = client(&server)
        .threats()
        .kill(&ThreatTarget::computers(["pc1"]))
        .await
        .unwrap();
    assert_eq!(done.affected, 2);
    let seen = server.seen();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[1].method, "POST");
    assert!(
        seen[1]
            .target
            .starts_with("/web/api/v2.1/threats/mitigate/kill")
    );
    let body: Value = serde_json::from_str(&seen[1].body).unwrap();
    assert_eq!(body["filter"]["ids"], json!(["17", "18"]), "{body}");
}

#[tokio::test]
async fn an_agent_with_a_made_up_id_gets_no_broadcast() {
    let agents = json!([{ "id": "12; DROP", "computerName": "pc1" }]);
    let server = scripted_server(vec![
        reply(200, &[], &page(agents)),
        reply(200, &[], r#"{"data":{"affected":1}}"#),
    ])
    .await;
    let error = client(&server)
        .agents()
        .broadcast(&Broadcast::new("hello").hosts(["pc1"]))
        .await
        .unwrap_err();
    assert_eq!(
        message(error),
        "the console listed agent #1 with id \"12; DROP\", not a SentinelOne id (decimal digits); nothing was sent"
    );
    assert!(server.seen().iter().all(|r| r.method == "GET"));
}

#[tokio::test]
async fn an_exclusion_with_an_empty_id_is_not_deleted() {
    let listed = json!([{ "id": "5", "type": "path" }, { "id": "", "type": "path" }]);
    let server = scripted_server(vec![
        reply(200, &[], &page(listed)),
        reply(200, &[], r#"{"data":{"affected":1}}"#),
    ])
    .await;
    let error = client(&server)
        .exclusions()
        .delete(&ExclusionSelection::all())
        .await
        .unwrap_err();
    assert!(message(error).starts_with("the console listed exclusion #2 with id \"\""));
    assert!(server.seen().iter().all(|r| r.method == "GET"));
}

#[cfg(feature = "cli")]
#[tokio::test]
async fn s1_refuses_to_kill_a_threat_with_an_empty_id() {
    let listing = page(json!([threat("", "pc1")]));
    let server = scripted_server(vec![
        reply(200, &[], &listing),
        reply(200, &[], r#"{"data":{"affected":1}}"#),
    ])
    .await;
    let out = s1(&server, &["threats", "kill", "--computer", "pc1"]).await;
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "s1: invalid input: the console listed threat #1 with id \"\", not a SentinelOne id (decimal digits); nothing was sent\n"
    );
    assert!(out.stdout.is_empty());
    let seen = server.seen();
    assert!(seen.iter().all(|r| r.method == "GET"), "{seen:?}");
}

// -- 15: path parameters -------------------------------------------------

#[tokio::test]
async fn path_parameters_that_move_the_request_are_refused_before_sending() {
    let server = scripted_server(vec![reply(200, &[], r#"{"data":[]}"#)]).await;
    let client = client(&server);
    for bad in [
        "..",
        ".",
        "",
        "%2e%2e",
        "%2E",
        "a/b",
        "a\\b",
        "%2f",
        "%5c",
        "%252e%252e",
    ] {
        let error = client
            .get_threat_timeline()
            .threat_id(bad)
            .call()
            .await
            .expect_err(bad);
        let message = message(error);
        assert!(
            message.starts_with("get_threat_timeline: path parameter threat_id")
                && message.ends_with("nothing was sent"),
            "{bad:?}: {message}"
        );
    }
    assert!(server.seen().is_empty(), "{:?}", server.seen());
    client
        .get_threat_timeline()
        .threat_id("1503989642042428880")
        .call()
        .await
        .unwrap();
    let seen = server.seen();
    assert_eq!(seen.len(), 1);
    assert!(
        seen[0]
            .target
            .starts_with("/web/api/v2.1/threats/1503989642042428880/timeline"),
        "{}",
        seen[0].target
    );
}

#[tokio::test]
async fn hand_built_requests_are_not_held_to_a_template() {
    let server = scripted_server(vec![reply(200, &[], r#"{"data":{}}"#)]).await;
    let client = client(&server);
    let request = client
        .request(reqwest::Method::GET, "/web/api/v2.1/private/thing")
        .build()
        .unwrap();
    client.execute(request, "my_private_call").await.unwrap();
    assert_eq!(server.seen()[0].target, "/web/api/v2.1/private/thing");
}

#[cfg(feature = "cli")]
#[tokio::test]
async fn s1_api_refuses_a_dot_dot_path_parameter() {
    let server = scripted_server(vec![reply(200, &[], r#"{"data":[]}"#)]).await;
    let out = s1(
        &server,
        &["api", "get_threat_timeline", "--threat_id", ".."],
    )
    .await;
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "s1: invalid input: get_threat_timeline: path parameter threat_id would change the request path to /web/api/v2.1/timeline (expected /web/api/v2.1/threats/{threat_id}/timeline); nothing was sent\n"
    );
    assert!(server.seen().is_empty(), "{:?}", server.seen());
}

// -- 16: console text on the terminal ------------------------------------

/// An OSC 52 clipboard write and a screen clear, as a console could send
/// them in any name.
#[cfg(feature = "cli")]
const HOSTILE: &str = "pc\u{1b}]52;c;cm0gLXJmIH4=\u{7}\u{1b}[2J\u{9b}\u{202e}";

#[cfg(feature = "cli")]
fn assert_escaped(bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    assert!(!bytes.contains(&0x1b), "raw ESC: {text:?}");
    assert!(!text.contains('\u{7}') && !text.contains('\u{9b}') && !text.contains('\u{202e}'));
    assert!(
        text.contains("pc\\u{1b}]52;c;cm0gLXJmIH4=\\u{7}\\u{1b}[2J\\u{9b}\\u{202e}"),
        "{text}"
    );
}

#[cfg(feature = "cli")]
#[tokio::test]
async fn console_text_in_tables_is_escaped() {
    let agent = json!({ "id": "1", "computerName": HOSTILE, "osType": "linux" });
    let server = scripted_server(vec![reply(200, &[], &page(json!([agent])))]).await;
    let out = s1(&server, &["agents", "list", "--table"]).await;
    assert_eq!(out.status.code(), Some(0), "{:?}", out);
    assert_escaped(&out.stdout);
}

#[cfg(feature = "cli")]
#[tokio::test]
async fn console_text_in_error_lines_is_escaped() {
    let body =
        json!({ "errors": [{ "code": 4000010, "title": "Validation Error", "detail": HOSTILE }] });
    let server = scripted_server(vec![reply(400, &[], &body.to_string())]).await;
    let out = s1(&server, &["api", "get_system_info"]).await;
    assert_eq!(out.status.code(), Some(1));
    assert_escaped(&out.stderr);
    assert!(out.stdout.is_empty());
}

/// Runs the `s1` binary against `server`, off the test's runtime.
#[cfg(feature = "cli")]
async fn s1(server: &Scripted, args: &[&str]) -> std::process::Output {
    let mut cmd = assert_cmd::Command::new(env!("CARGO_BIN_EXE_s1"));
    cmd.env("S1_CONSOLE_URL", &server.url)
        .env("S1_API_TOKEN", TOKEN)
        .env_remove("S1_ARCHIVE_PASSWORD")
        .timeout(Duration::from_secs(60))
        .args(args);
    tokio::task::spawn_blocking(move || cmd.output().expect("s1 runs"))
        .await
        .unwrap()
}

// -- 13: composite inputs never panic ------------------------------------

/// A duration anywhere from zero to `Duration::MAX`.
fn any_duration() -> impl Strategy<Value = Duration> {
    prop_oneof![
        (any::<u64>(), 0u32..1_000_000_000).prop_map(|(s, n)| Duration::new(s, n)),
        (0u64..100_000).prop_map(Duration::from_millis),
        Just(Duration::ZERO),
        Just(Duration::MAX),
    ]
}

/// A time anywhere chrono can hold one.
fn any_time() -> impl Strategy<Value = DateTime<Utc>> {
    let min = DateTime::<Utc>::MIN_UTC.timestamp();
    let max = DateTime::<Utc>::MAX_UTC.timestamp();
    prop_oneof![
        (min..=max).prop_map(|s| DateTime::from_timestamp(s, 0).unwrap()),
        Just(DateTime::<Utc>::MIN_UTC),
        Just(DateTime::<Utc>::MAX_UTC),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// A polling is in range or refused naming its field.
    #[test]
    fn polling_is_checked_not_trusted(
        first in any_duration(),
        max in any_duration(),
        timeout in any_duration(),
        growth in any::<f64>(),
    ) {
        let polling = Polling { first, growth, max, timeout };
        if let Err(error) = polling.check() {
            let text = message(error);
            prop_assert!(text.starts_with("polling."), "{}", text);
        }
    }

    /// Any max_threats is accepted or refused naming it; none wraps.
    #[test]
    fn max_threats_is_checked_not_trusted(max in any::<usize>()) {
        let target = ThreatTarget::computers(["pc1"]).max_threats(max);
        match target.check() {
            Ok(()) => prop_assert!((1..=threats::MAX_THREATS_LIMIT).contains(&max)),
            Err(error) => {
                let expected = format!("max_threats {} ", max);
                prop_assert!(message(error).starts_with(&expected));
            }
        }
    }

    /// Any time range and limit is accepted or refused with an input
    /// error; none panics.
    #[test]
    fn event_windows_are_checked_not_trusted(
        from in any_time(),
        to in any_time(),
        limit in any::<u32>(),
    ) {
        let client = Client::builder()
            .console_url("http://127.0.0.1:9")
            .api_token(TOKEN)
            .allow_http(true)
            .build()
            .unwrap();
        if let Err(error) = client.detections().fetch(&DetectionWindow::new(from, to).limit(limit)) {
            let text = message(error);
            prop_assert!(text.contains("limit") || text.contains("time range"), "{}", text);
        }
    }
}
