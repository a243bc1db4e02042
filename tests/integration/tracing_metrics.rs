//! What a call tells the outside: the `request` span and its end event
//! (through a tracing subscriber writing to memory), the composite and step
//! spans of a composite command, and the record the metrics hook receives
//! (`ClientBuilder::on_request`, `metrics::RequestStats`). The token and
//! query values never appear in a trace.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use sentinelone::Client;
use sentinelone::metrics::{RequestOutcome, RequestRecord, RequestStats};
use sentinelone::prelude::*;
use sentinelone::quota::Quotas;
use tracing::Level;

use crate::support::logs::capture;
use crate::support::scripted::{builder, fast_retry, reply, scripted_server};

const TOKEN: &str = "tracing-test-token-55e1";
const THROTTLED: &str = r#"{"errors":[{"code":4290010,"title":"Too many requests"}]}"#;

fn recorded() -> (
    Arc<Mutex<Vec<RequestRecord>>>,
    impl Fn(&RequestRecord) + Send + Sync,
) {
    let records = Arc::new(Mutex::new(Vec::new()));
    let sink = records.clone();
    (records, move |r: &RequestRecord| {
        sink.lock().unwrap().push(r.clone())
    })
}

#[tokio::test(flavor = "current_thread")]
async fn a_throttled_call_is_one_span_one_record_and_no_secret() {
    let server = scripted_server(vec![
        reply(429, &[("Retry-After", "0")], THROTTLED),
        reply(200, &[], r#"{"data":[{"id":"1"}]}"#),
    ])
    .await;
    let (records, listener) = recorded();
    let stats = RequestStats::default();
    let recorder = stats.recorder();
    let client = builder(
        &server.url,
        TOKEN,
        Quotas::default().with_default_period(None),
        fast_retry(3),
    )
    .on_request(move |r| {
        listener(r);
        recorder(r);
    })
    .build()
    .unwrap();
    let (trace, _guard) = capture(Level::DEBUG);

    client
        .list_agents()
        .computer_name_contains(["secret-host-name"])
        .call()
        .await
        .expect("the retry succeeds");

    assert_eq!(server.seen().len(), 2);
    let records = records.lock().unwrap().clone();
    assert_eq!(records.len(), 1, "{records:#?}");
    let record = &records[0];
    assert_eq!(record.operation, "list_agents");
    assert_eq!(record.method, reqwest::Method::GET);
    assert_eq!(record.path, "/web/api/v2.1/agents");
    assert_eq!(record.status, Some(200));
    assert_eq!(
        (record.attempts, record.throttled, record.retries()),
        (2, 1, 1)
    );
    assert_eq!(record.outcome, RequestOutcome::Success);

    let totals = stats.snapshot();
    let agents = totals["list_agents"];
    assert_eq!(
        (
            agents.calls,
            agents.requests,
            agents.throttled,
            agents.retries,
            agents.failures
        ),
        (1, 2, 1, 1, 0)
    );
    assert_eq!(stats.total(), agents);

    let text = trace.text();
    let answered = text
        .lines()
        .find(|l| l.ends_with("answered attempts=2 throttled=1") || l.contains(": answered "))
        .unwrap_or_else(|| panic!("no end event in:\n{text}"));
    assert!(
        answered.contains("request{operation=\"list_agents\" method=GET path=/web/api/v2.1/agents"),
        "{answered}"
    );
    assert!(answered.contains("attempts=2"), "{answered}");
    assert!(answered.contains("throttled=1"), "{answered}");
    assert!(
        text.contains("INFO request{operation=\"list_agents\" method=GET path=/web/api/v2.1/agents}: sentinelone::transport: the console answered 429 Too Many Requests; retrying attempt=1 status=429"),
        "the 429 is an event of its own:\n{text}"
    );
    assert_eq!(text.matches("sending").count(), 2, "{text}");
    assert!(!text.contains(TOKEN), "{text}");
    assert!(!text.contains("secret-host-name"), "{text}");
}

#[tokio::test(flavor = "current_thread")]
async fn a_failed_call_is_a_warning_and_a_failure_in_the_totals() {
    let server = scripted_server(vec![
        reply(503, &[], "{}"),
        reply(503, &[], "{}"),
        reply(503, &[], "{}"),
    ])
    .await;
    let stats = RequestStats::default();
    let client = builder(
        &server.url,
        TOKEN,
        Quotas::default().with_default_period(None),
        fast_retry(3),
    )
    .on_request(stats.recorder())
    .build()
    .unwrap();
    let (trace, _guard) = capture(Level::DEBUG);

    client
        .list_agents()
        .call()
        .await
        .expect_err("503 three times");

    assert_eq!(server.seen().len(), 3);
    let agents = stats.snapshot()["list_agents"];
    assert_eq!(
        (
            agents.calls,
            agents.requests,
            agents.retries,
            agents.failures
        ),
        (1, 3, 2, 1)
    );
    assert!(agents.waited > Duration::ZERO);
    let text = trace.text();
    assert_eq!(
        text.matches("the console answered 503 Service Unavailable; retrying")
            .count(),
        2,
        "{text}"
    );
    let failed = text
        .lines()
        .find(|l| l.contains("the call failed"))
        .unwrap_or_else(|| panic!("no failure event in:\n{text}"));
    assert!(failed.contains("WARN"), "{failed}");
    assert!(failed.contains("status=503"), "{failed}");
    assert!(failed.contains("ErrorAnswer"), "{failed}");
}

#[tokio::test(flavor = "current_thread")]
async fn a_refused_call_is_recorded_with_no_attempt() {
    let stats = RequestStats::default();
    let client = Client::builder()
        .console_url("http://127.0.0.1:9")
        .allow_http(true)
        .api_token(TOKEN)
        .on_request(stats.recorder())
        .build()
        .unwrap();
    client
        .list_threat_notes()
        .threat_id("..")
        .call()
        .await
        .expect_err("a path parameter of .. is refused");
    let notes = stats.snapshot()["list_threat_notes"];
    assert_eq!((notes.calls, notes.requests, notes.failures), (1, 0, 1));
}

#[tokio::test(flavor = "current_thread")]
async fn a_composite_names_its_steps() {
    let sim = sentinelone::sim::SimConsole::builder()
        .agents(4)
        .threats(8)
        .start()
        .await;
    let client = sim.client().unwrap();
    let (trace, _guard) = capture(Level::DEBUG);
    let target = sentinelone::threats::ThreatTarget::computers(["win-lab-001"]);
    client.threats().kill(&target).await.expect("the kill runs");
    let text = trace.text();
    assert!(
        text.lines().any(|l| l.contains(
            "composite{name=threats.kill}:step{name=\"preview\"}:request{operation=\"list_threats\""
        )),
        "{text}"
    );
    assert!(
        text.lines().any(|l| l.contains(
            "composite{name=threats.kill}:step{name=\"act\"}:request{operation=\"mitigate_threats\""
        )),
        "{text}"
    );
}
