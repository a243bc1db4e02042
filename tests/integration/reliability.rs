//! Reliability against the simulated console with faults injected: 429
//! storms, 5xx, invalid and truncated JSON and HTML error pages from the
//! console itself (`SimConsole::inject_on`), and connection resets, slow
//! answers and bodies cut short of their Content-Length from a proxy in
//! front of it (`proxy.rs`).
//!
//! Every scenario checks the console's counters: lists come back whole
//! (every item once), idempotent reads are retried, and a non-idempotent
//! action (a threat mitigation, a fetch-files request) is never sent twice
//! once the console may have seen it; the error says what happened instead.
#![cfg(feature = "sim")]

mod proxy;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{StreamExt, TryStreamExt};
use proxy::{Action, FaultProxy};
use sentinelone::prelude::*;
use sentinelone::quota::Quotas;
use sentinelone::raw::types::{MitigateThreatsAction, ThreatFilter, ThreatsMitigateRequest};
use sentinelone::sim::{Fault, SimConsole};
use sentinelone::threats::ThreatTarget;
use sentinelone::{Client, Error, Polling, RetryPolicy, WaitEvent, WaitReason};

/// The computer the first threats of the seeded tenant are on.
const COMPUTER: &str = "win-lab-001";
const KILL: &str = "/threats/mitigate/kill";

/// A console with 25 agents (three pages of ten) and threats on the first
/// agents; its own rate limits off (faults are injected on purpose) and
/// quick uploads and queries.
async fn console() -> SimConsole {
    SimConsole::builder()
        .agents(25)
        .threats(8)
        .rate_limits(false)
        .upload_delay(Duration::from_millis(150))
        .dv_duration(Duration::from_millis(150))
        .start()
        .await
}

/// Quick retries: `attempts` per request, millisecond backoffs, Retry-After
/// honoured up to 50 ms.
fn retries(attempts: u32) -> RetryPolicy {
    RetryPolicy {
        max_attempts: attempts,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(20),
        max_retry_after: Duration::from_millis(50),
        throttle_base_delay: Duration::from_millis(5),
    }
}

type Waits = Arc<Mutex<Vec<WaitEvent>>>;

/// A client of `url` (the console or a proxy in front of it) with no
/// quotas, `attempts` per request, a request timeout, and its waits
/// recorded.
fn client_at(console: &SimConsole, url: &str, attempts: u32, timeout: Duration) -> (Client, Waits) {
    let waits: Waits = Arc::default();
    let record = waits.clone();
    let client = console
        .client_builder()
        .console_url(url)
        .quotas(Quotas::none())
        .retry_policy(retries(attempts))
        .timeout(timeout)
        .on_wait(move |e| record.lock().unwrap().push(e.clone()))
        .build()
        .expect("the client builds");
    (client, waits)
}

fn client(console: &SimConsole, attempts: u32) -> (Client, Waits) {
    client_at(console, &console.url(), attempts, Duration::from_secs(5))
}

fn waits_of(waits: &Waits, reason: WaitReason) -> usize {
    waits
        .lock()
        .unwrap()
        .iter()
        .filter(|w| w.reason == reason)
        .count()
}

/// The ids of every agent, read page by page (`page_size` each).
async fn all_agent_ids(client: &Client, page_size: u32) -> Result<Vec<String>, Error> {
    sentinelone::pagination::items(client.list_agents(), page_size)
        .map_ok(|agent| agent.id.expect("agents have ids"))
        .try_collect()
        .await
}

fn assert_whole_list(got: &[String], console: &SimConsole) {
    let unique: HashSet<&String> = got.iter().collect();
    assert_eq!(unique.len(), got.len(), "no agent twice: {got:?}");
    assert_eq!(got, console.agent_ids(), "every agent, in order");
}

/// The ids of the threats on [`COMPUTER`].
async fn threat_ids(console: &SimConsole) -> Vec<String> {
    let (client, _) = client(console, 1);
    client
        .threats()
        .preview(&ThreatTarget::computers([COMPUTER]))
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.id.unwrap())
        .collect()
}

/// A kill request for `ids` (one POST, no preview).
fn kill_body(ids: &[String]) -> ThreatsMitigateRequest {
    ThreatsMitigateRequest {
        data: Default::default(),
        filter: ThreatFilter {
            ids: ids.to_vec(),
            ..Default::default()
        },
    }
}

fn assert_transport_error(err: &Error, operation: &str) {
    match err {
        Error::Transport { operation: op, .. } => assert_eq!(op, operation, "{err:?}"),
        other => panic!("expected Error::Transport for {operation}, got {other:?}"),
    }
}

fn assert_decode_error(err: &Error, operation: &str, body_start: &str) {
    match err {
        Error::Decode {
            operation: op,
            excerpt,
            ..
        } => {
            assert_eq!(op, operation, "{err:?}");
            assert!(excerpt.starts_with(body_start), "{excerpt}");
        }
        other => panic!("expected Error::Decode for {operation}, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------
// 429

#[tokio::test]
async fn a_429_storm_in_the_middle_of_a_list_is_ridden_out_and_nothing_is_lost() {
    let console = console().await;
    let (client, waits) = client(&console, 8);
    let mut pages = Box::pin(sentinelone::pagination::pages(client.list_agents(), 10));

    let first = pages.next().await.unwrap().unwrap();
    // The second page meets six 429s in a row (one asking for 1 s, capped
    // at 50 ms by the policy) before it is served.
    console.inject_on(
        "GET",
        "/agents",
        [
            Fault::Throttle(1),
            Fault::Throttle(0),
            Fault::Throttle(0),
            Fault::Throttle(0),
            Fault::Throttle(0),
            Fault::Throttle(0),
        ],
    );
    let rest: Vec<_> = pages.try_collect().await.unwrap();

    let ids: Vec<String> = std::iter::once(first)
        .chain(rest)
        .flat_map(|page| crate::support::typed(page.data.unwrap_or_default()))
        .map(|agent| agent.id.unwrap())
        .collect();
    assert_whole_list(&ids, &console);
    let counters = console.counters();
    assert_eq!(counters.faults, 6);
    assert_eq!(
        counters.requests("GET", "/agents"),
        3 + 6,
        "three pages, each served once, plus the six throttled attempts"
    );
    // Retry-After 0 needs no wait; the 1 s one was waited, capped.
    assert_eq!(waits_of(&waits, WaitReason::Throttled), 1);
    let longest = waits.lock().unwrap().iter().map(|w| w.wait).max().unwrap();
    assert_eq!(
        longest,
        Duration::from_millis(50),
        "Retry-After 1 s, capped"
    );
}

#[tokio::test]
async fn a_429_storm_longer_than_the_retry_budget_is_rate_limited_after_the_first_page() {
    let console = console().await;
    let (client, _) = client(&console, 3);
    let mut items = Box::pin(sentinelone::pagination::items(client.list_agents(), 10));

    let mut got = Vec::new();
    for _ in 0..10 {
        got.push(items.next().await.unwrap().unwrap().id.unwrap());
    }
    console.inject_on("GET", "/agents", vec![Fault::Throttle(0); 3]);
    let err = items.next().await.unwrap().unwrap_err();

    assert!(
        matches!(&err, Error::RateLimited { operation, retry_after: Some(d) }
            if operation == "list_agents" && d.is_zero()),
        "{err:?}"
    );
    assert_eq!(got, console.agent_ids()[..10], "the first page, whole");
    assert_eq!(console.counters().requests("GET", "/agents"), 1 + 3);
}

#[tokio::test]
async fn a_429_on_a_mitigation_is_sent_again_and_applied_once() {
    let console = console().await;
    let ids = threat_ids(&console).await;
    let (client, waits) = client(&console, 3);
    console.inject_on("POST", KILL, [Fault::Throttle(1)]);

    let done = client
        .threats()
        .kill(&ThreatTarget::computers([COMPUTER]))
        .await
        .unwrap();

    assert_eq!(done.affected, ids.len() as i64);
    let counters = console.counters();
    assert_eq!(
        counters.requests("POST", KILL),
        2,
        "a 429 was not processed: sent again"
    );
    assert_eq!(counters.mitigations, vec![("kill".to_string(), ids)]);
    assert_eq!(waits_of(&waits, WaitReason::Throttled), 1);
}

// ---------------------------------------------------------------------------
// 5xx and error pages

#[tokio::test]
async fn a_5xx_on_a_read_is_retried_and_the_answer_is_whole() {
    let console = console().await;
    let expected = threat_ids(&console).await;
    let (client, waits) = client(&console, 3);
    console.inject_on(
        "GET",
        "/threats",
        [Fault::ServerError(500), Fault::ServerError(503)],
    );

    let got: Vec<String> = client
        .threats()
        .preview(&ThreatTarget::computers([COMPUTER]))
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.id.unwrap())
        .collect();

    assert_eq!(got, expected);
    assert!(!got.is_empty());
    let counters = console.counters();
    assert_eq!(counters.faults, 2);
    // One preview before, then two failures and the answer.
    assert_eq!(counters.requests("GET", "/threats"), 1 + 3);
    assert_eq!(waits_of(&waits, WaitReason::Retry), 2);
}

#[tokio::test]
async fn a_5xx_on_a_mitigation_is_not_sent_again_and_the_error_surfaces() {
    let console = console().await;
    let ids = threat_ids(&console).await;
    let (client, waits) = client(&console, 4);
    console.inject_on("POST", KILL, [Fault::ServerError(503)]);

    let err = client
        .threats()
        .kill(&ThreatTarget::computers([COMPUTER]))
        .await
        .unwrap_err();

    match &err {
        Error::Api {
            status,
            operation,
            errors,
        } => {
            assert_eq!(*status, 503);
            assert_eq!(operation, "mitigate_threats");
            assert_eq!(errors[0].detail.as_deref(), Some("simulated failure"));
        }
        other => panic!("expected Error::Api, got {other:?}"),
    }
    let counters = console.counters();
    assert_eq!(counters.requests("POST", KILL), 1, "never re-sent");
    assert!(counters.mitigations.is_empty());
    assert_eq!(waits_of(&waits, WaitReason::Retry), 0);
    for id in &ids {
        assert_eq!(console.threat_status(id).as_deref(), Some("active"));
    }

    // Sending it again is the caller's call; the console then acts once.
    client
        .threats()
        .kill(&ThreatTarget::computers([COMPUTER]))
        .await
        .unwrap();
    assert_eq!(console.counters().mitigations.len(), 1);
}

#[tokio::test]
async fn an_html_error_page_keeps_its_status_retried_only_for_reads() {
    let console = console().await;
    let ids = threat_ids(&console).await;
    let (client, _) = client(&console, 3);

    // A gateway's 502 page on a read: retried, then the real answer.
    console.inject_on("GET", "/agents", [Fault::HtmlPage(502)]);
    assert_whole_list(&all_agent_ids(&client, 1000).await.unwrap(), &console);
    assert_eq!(console.counters().requests("GET", "/agents"), 2);

    // A 403 page is final, even for a read.
    console.inject_on("GET", "/agents", [Fault::HtmlPage(403)]);
    let err = all_agent_ids(&client, 1000).await.unwrap_err();
    assert_eq!(err.status(), Some(403), "{err:?}");
    assert_eq!(console.counters().requests("GET", "/agents"), 3);

    // On a mitigation: the status and the page's text, sent once.
    console.inject_on("POST", KILL, [Fault::HtmlPage(502)]);
    let err = client
        .mitigate_threats()
        .action(MitigateThreatsAction::Kill)
        .body(kill_body(&ids))
        .call()
        .await
        .unwrap_err();
    match &err {
        Error::Api {
            status,
            operation,
            errors,
        } => {
            assert_eq!(*status, 502);
            assert_eq!(operation, "mitigate_threats");
            let detail = errors[0].detail.as_deref().unwrap_or_default();
            assert!(detail.contains("502 Bad Gateway"), "{detail}");
        }
        other => panic!("expected Error::Api, got {other:?}"),
    }
    assert_eq!(console.counters().requests("POST", KILL), 1);
    assert!(console.counters().mitigations.is_empty());
}

// ---------------------------------------------------------------------------
// Bodies that do not decode

#[tokio::test]
async fn invalid_json_is_a_decode_error_naming_the_operation_and_not_retried() {
    let console = console().await;
    let (client, _) = client(&console, 3);
    console.inject_on("GET", "/agents", [Fault::InvalidJson]);

    let err = all_agent_ids(&client, 1000).await.unwrap_err();

    assert_decode_error(&err, "list_agents", "{\"data\": [oops");
    assert!(
        err.to_string()
            .starts_with("list_agents: unexpected response body")
    );
    assert_eq!(console.counters().requests("GET", "/agents"), 1);
}

#[tokio::test]
async fn truncated_json_is_a_decode_error_and_a_post_is_not_sent_again() {
    let console = console().await;
    let ids = threat_ids(&console).await;
    let (client, _) = client(&console, 3);

    console.inject_on("GET", "/agents", [Fault::Truncated]);
    let err = all_agent_ids(&client, 1000).await.unwrap_err();
    assert_decode_error(&err, "list_agents", "{\"data\": [{\"id\": \"1\"}");

    console.inject_on("POST", KILL, [Fault::Truncated]);
    let err = client
        .threats()
        .kill(&ThreatTarget::computers([COMPUTER]))
        .await
        .unwrap_err();
    assert_decode_error(&err, "mitigate_threats", "{\"data\"");
    let counters = console.counters();
    assert_eq!(counters.requests("POST", KILL), 1);
    assert!(counters.mitigations.is_empty());
    assert!(!ids.is_empty());
}

#[tokio::test]
async fn a_body_cut_short_of_its_content_length_is_an_error_never_a_short_list() {
    let console = console().await;
    let proxy = FaultProxy::start(&console.url()).await;
    let (client, _) = client_at(&console, &proxy.url(), 3, Duration::from_secs(5));

    proxy.on("GET", "/agents", Action::CutBody);
    let err = all_agent_ids(&client, 1000).await.unwrap_err();
    assert_transport_error(&err, "list_agents");

    // On a mitigation the console acted once; the client is told the
    // answer was lost, and nothing is sent again.
    let ids = threat_ids(&console).await;
    proxy.on("POST", KILL, Action::CutBody);
    let err = client
        .threats()
        .kill(&ThreatTarget::computers([COMPUTER]))
        .await
        .unwrap_err();
    assert_transport_error(&err, "mitigate_threats");
    assert_eq!(proxy.received("POST", KILL), 1);
    assert_eq!(
        console.counters().mitigations,
        vec![("kill".to_string(), ids)]
    );
}

// ---------------------------------------------------------------------------
// Connection failures

#[tokio::test]
async fn a_refused_connection_on_a_mitigation_is_retried_exactly_once() {
    let console = console().await;
    let ids = threat_ids(&console).await;
    // Nothing listens at first; the proxy starts when the client backs off
    // after the refused connection.
    let proxy = FaultProxy::reserve(&console.url());
    let waits: Waits = Arc::default();
    let record = waits.clone();
    let starter = proxy.clone();
    let client = console
        .client_builder()
        .console_url(proxy.url())
        .quotas(Quotas::none())
        .retry_policy(retries(4))
        .on_wait(move |e| {
            if e.reason == WaitReason::Retry && record.lock().unwrap().is_empty() {
                starter.listen();
            }
            record.lock().unwrap().push(e.clone());
        })
        .build()
        .unwrap();

    let answer = client
        .mitigate_threats()
        .action(MitigateThreatsAction::Kill)
        .body(kill_body(&ids))
        .call()
        .await
        .unwrap();

    assert_eq!(answer.data.unwrap().affected, Some(ids.len() as i64));
    assert_eq!(waits_of(&waits, WaitReason::Retry), 1, "one retry");
    assert_eq!(proxy.received("POST", KILL), 1);
    let counters = console.counters();
    assert_eq!(counters.requests("POST", KILL), 1);
    assert_eq!(counters.mitigations, vec![("kill".to_string(), ids)]);
}

#[tokio::test]
async fn a_reset_on_a_mitigation_is_never_sent_again_whether_or_not_the_console_saw_it() {
    let console = console().await;
    let proxy = FaultProxy::start(&console.url()).await;
    let (client, waits) = client_at(&console, &proxy.url(), 4, Duration::from_secs(5));
    let target = ThreatTarget::computers([COMPUTER]);

    // Reset before the console saw it: the client cannot tell, so it does
    // not guess; nothing was applied.
    proxy.on("POST", KILL, Action::ResetBeforeForwarding);
    let err = client.threats().kill(&target).await.unwrap_err();
    assert_transport_error(&err, "mitigate_threats");
    assert_eq!(proxy.received("POST", KILL), 1);
    assert_eq!(console.counters().requests("POST", KILL), 0);
    assert!(console.counters().mitigations.is_empty());

    // Reset after the console acted: applied once, not sent again.
    proxy.on("POST", KILL, Action::ResetAfterForwarding);
    let err = client.threats().kill(&target).await.unwrap_err();
    assert_transport_error(&err, "mitigate_threats");
    assert_eq!(proxy.received("POST", KILL), 2);
    let counters = console.counters();
    assert_eq!(counters.requests("POST", KILL), 1);
    assert_eq!(counters.mitigations.len(), 1);
    assert_eq!(waits_of(&waits, WaitReason::Retry), 0);
}

#[tokio::test]
async fn a_reset_on_a_read_is_retried() {
    let console = console().await;
    let proxy = FaultProxy::start(&console.url()).await;
    let (client, waits) = client_at(&console, &proxy.url(), 3, Duration::from_secs(5));

    proxy.on("GET", "/agents", Action::ResetBeforeForwarding);
    proxy.on("GET", "/agents", Action::ResetAfterForwarding);
    let ids = all_agent_ids(&client, 1000).await.unwrap();

    assert_whole_list(&ids, &console);
    assert_eq!(proxy.pending(), 0);
    assert_eq!(proxy.received("GET", "/agents"), 3);
    assert_eq!(console.counters().requests("GET", "/agents"), 2);
    assert_eq!(waits_of(&waits, WaitReason::Retry), 2);
}

// ---------------------------------------------------------------------------
// Slow answers

#[tokio::test]
async fn a_slow_read_times_out_and_is_retried_a_slow_mitigation_is_not() {
    let console = console().await;
    let ids = threat_ids(&console).await;
    let proxy = FaultProxy::start(&console.url()).await;
    let timeout = Duration::from_millis(750);
    let (client, waits) = client_at(&console, &proxy.url(), 3, timeout);
    let slow = Action::Delay(Duration::from_secs(3));

    proxy.on("GET", "/agents", slow);
    assert_whole_list(&all_agent_ids(&client, 1000).await.unwrap(), &console);
    assert_eq!(console.counters().requests("GET", "/agents"), 2);
    assert_eq!(waits_of(&waits, WaitReason::Retry), 1);

    proxy.on("POST", KILL, slow);
    let err = client
        .mitigate_threats()
        .action(MitigateThreatsAction::Kill)
        .body(kill_body(&ids))
        .call()
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Timeout { operation } if operation == "mitigate_threats"),
        "{err:?}"
    );
    // Give a (wrong) second attempt time to arrive.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(proxy.received("POST", KILL), 1);
    let counters = console.counters();
    assert_eq!(counters.requests("POST", KILL), 1);
    assert_eq!(counters.mitigations, vec![("kill".to_string(), ids)]);
    assert_eq!(waits_of(&waits, WaitReason::Retry), 1, "none for the POST");
}

// ---------------------------------------------------------------------------
// Composite commands across faults

#[tokio::test]
async fn pagination_across_every_kind_of_fault_loses_nothing() {
    let console = console().await;
    let proxy = FaultProxy::start(&console.url()).await;
    let (client, _) = client_at(&console, &proxy.url(), 4, Duration::from_millis(750));
    let mut pages = Box::pin(sentinelone::pagination::pages(client.list_agents(), 10));
    let mut ids = Vec::new();
    let mut take = |page: sentinelone::raw::types::AgentViewListResponse| {
        ids.extend(
            crate::support::typed(page.data.unwrap_or_default())
                .into_iter()
                .map(|a| a.id.unwrap()),
        );
    };

    // Page 1: a 503, then a 429.
    console.inject_on(
        "GET",
        "/agents",
        [Fault::ServerError(503), Fault::Throttle(0)],
    );
    take(pages.next().await.unwrap().unwrap());
    // Page 2: a reset, then an answer too slow for the timeout.
    proxy.on("GET", "/agents", Action::ResetAfterForwarding);
    proxy.on("GET", "/agents", Action::Delay(Duration::from_secs(3)));
    take(pages.next().await.unwrap().unwrap());
    // Page 3: a gateway's HTML page.
    console.inject_on("GET", "/agents", [Fault::HtmlPage(502)]);
    take(pages.next().await.unwrap().unwrap());
    assert!(pages.next().await.is_none());

    assert_whole_list(&ids, &console);
    assert_eq!(console.counters().faults, 3);
    assert_eq!(proxy.pending(), 0);
    assert_eq!(console.counters().requests("GET", "/agents"), 3 + 3 + 2);
}

#[allow(deprecated)] // exercises the Deep Visibility composites until their sunset
#[tokio::test]
async fn a_deep_visibility_query_rides_out_429s_and_5xx_on_its_status_checks() {
    use sentinelone::dv::DvQuery;
    let console = console().await;
    let (client, waits) = client(&console, 4);
    let now = chrono::Utc::now();
    let request = DvQuery::new(
        "EventType = \"Process Creation\"",
        now - chrono::Duration::hours(1),
        now,
    )
    .limit(7)
    .polling(Polling::every(
        Duration::from_millis(20),
        Duration::from_secs(10),
    ));
    console.inject_on(
        "GET",
        "/dv/query-status",
        [
            Fault::Throttle(1),
            Fault::Throttle(0),
            Fault::ServerError(503),
        ],
    );

    let results = client.dv().query(&request).await.unwrap();

    assert_eq!(results.events.len(), 7);
    assert_eq!(results.status.state.as_str(), "FINISHED");
    let counters = console.counters();
    assert_eq!(counters.faults, 3);
    assert_eq!(counters.requests("POST", "/dv/init-query"), 1);
    assert!(counters.requests("GET", "/dv/query-status") >= 4);
    assert!(counters.cancelled_queries.is_empty());
    // The 1 s wait (capped); Retry-After 0 needs none.
    assert_eq!(waits_of(&waits, WaitReason::Throttled), 1);
}

#[allow(deprecated)] // exercises the Deep Visibility composites until their sunset
#[tokio::test]
async fn a_status_storm_beyond_the_retry_budget_cancels_the_query_it_started() {
    use sentinelone::dv::DvQuery;
    let console = console().await;
    let (client, _) = client(&console, 2);
    let now = chrono::Utc::now();
    let request = DvQuery::new(
        "AgentName IS NOT EMPTY",
        now - chrono::Duration::hours(1),
        now,
    )
    .polling(Polling::every(
        Duration::from_millis(20),
        Duration::from_secs(10),
    ));
    console.inject_on("GET", "/dv/query-status", vec![Fault::Throttle(0); 2]);

    let err = client.dv().query(&request).await.unwrap_err();

    assert!(
        matches!(&err, Error::RateLimited { operation, .. } if operation == "get_dv_query_status"),
        "{err:?}"
    );
    // The query is not left running on the console, and was started once.
    let counters = console.counters();
    assert_eq!(counters.requests("POST", "/dv/init-query"), 1);
    assert_eq!(counters.requests("POST", "/dv/cancel-query"), 1);
    assert_eq!(counters.cancelled_queries.len(), 1);
}

#[tokio::test]
async fn fetching_files_keeps_polling_through_503s_and_asks_the_agent_once() {
    use sentinelone::files::{FetchOptions, FetchRequest};
    let console = console().await;
    let (client, _) = client(&console, 3);
    let agent = console.agent_ids()[0].clone();
    let dir = tempfile::tempdir().unwrap();
    let request = FetchRequest::new(["C:\\Temp\\evidence.txt"], "Str0ng!Passw0rd");
    let options = FetchOptions::new(dir.path().join("files.zip"))
        .extract_into(dir.path().join("files"))
        .polling(Polling::every(
            Duration::from_millis(20),
            Duration::from_secs(10),
        ));
    console.inject_on(
        "GET",
        "/activities",
        [Fault::ServerError(503), Fault::ServerError(502)],
    );
    console.inject_on(
        "GET",
        "/agents/{id}/uploads/{id}",
        [Fault::ServerError(503)],
    );

    let fetched = client
        .files()
        .fetch(&agent, &request, &options)
        .await
        .unwrap();

    assert!(fetched.archive.bytes > 0);
    assert_eq!(fetched.extracted.len(), 1, "{:?}", fetched.extracted);
    let counters = console.counters();
    assert_eq!(counters.faults, 3);
    assert_eq!(
        counters.requests("POST", "/agents/{id}/actions/fetch-files"),
        1,
        "the agent is asked once"
    );
    assert!(counters.requests("GET", "/activities") >= 3);
    assert_eq!(counters.requests("GET", "/agents/{id}/uploads/{id}"), 2);
}
