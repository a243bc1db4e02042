//! The simulated console (`sentinelone::sim`, feature `sim`): seeded and
//! stateful, cursor pages, the documented rate limits with 429 and
//! Retry-After, SentinelOne's error format, faults, and counters — driven
//! through the library itself.
#![cfg(feature = "sim")]

use std::time::{Duration, Instant};

use futures_util::TryStreamExt;
use sentinelone::prelude::*;
use sentinelone::quota::Quotas;
use sentinelone::sim::{Fault, SimConsole};
use sentinelone::threats::ThreatTarget;
use sentinelone::{Error, RetryPolicy};

fn no_retries() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 1,
        ..RetryPolicy::default()
    }
}

#[tokio::test]
async fn the_same_seed_gives_the_same_tenant_and_lists_page_by_cursor() {
    let a = SimConsole::builder().agents(25).seed(7).start().await;
    let b = SimConsole::builder().agents(25).seed(7).start().await;
    let list = |console: &SimConsole| {
        let client = console.client().unwrap();
        async move {
            client
                .list_agents()
                .items()
                .map_ok(|agent| (agent.id.unwrap(), agent.computer_name.unwrap()))
                .try_collect::<Vec<_>>()
                .await
                .unwrap()
        }
    };
    let (first, second) = (list(&a).await, list(&b).await);
    assert_eq!(first.len(), 25);
    assert_eq!(first, second);
    assert_eq!(first[0].1, "win-lab-001");
    // One page of 1000 holds them all; a limit of 10 takes three pages.
    assert_eq!(a.counters().requests("GET", "/agents"), 1);
    let client = a.client().unwrap();
    let pages: Vec<_> = sentinelone::pagination::pages(client.list_agents(), 10)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(pages.len(), 3);
    assert_eq!(a.counters().requests("GET", "/agents"), 4);
}

#[tokio::test]
async fn a_route_delay_slows_that_route_only() {
    const DELAY: Duration = Duration::from_millis(300);
    let console = SimConsole::builder()
        .agents(25)
        .rate_limits(false)
        .route_delay("get", "/agents", DELAY)
        .start()
        .await;
    let client = console
        .client_builder()
        .quotas(Quotas::none())
        .build()
        .unwrap();

    let started = Instant::now();
    client.list_sites().call().await.unwrap();
    assert!(started.elapsed() < DELAY, "{:?}", started.elapsed());

    let started = Instant::now();
    let page = client.list_agents().limit(5).call().await.unwrap();
    assert!(started.elapsed() >= DELAY, "{:?}", started.elapsed());
    // Still the console's own answer, counted once.
    assert_eq!(page.data.unwrap().len(), 5);
    assert_eq!(console.counters().requests("GET", "/agents"), 1);

    // Requests wait side by side, not one after the other.
    let started = Instant::now();
    let (a, b) = tokio::join!(client.list_agents().call(), client.list_agents().call());
    a.unwrap();
    b.unwrap();
    let both = started.elapsed();
    assert!(both >= DELAY && both < 2 * DELAY, "{both:?}");
    assert_eq!(console.counters().requests("GET", "/agents"), 3);
}

#[tokio::test]
async fn a_wrong_token_gets_sentinelones_401() {
    let console = SimConsole::start().await;
    let client = console
        .client_builder()
        .api_token("not-the-token")
        .build()
        .unwrap();

    let err = client.get_system_info().call().await.unwrap_err();

    match err {
        Error::Api {
            status,
            errors,
            operation,
        } => {
            assert_eq!(status, 401);
            assert_eq!(operation, "get_system_info");
            assert_eq!(errors[0].code, Some(4010010));
            assert_eq!(errors[0].title.as_deref(), Some("Authentication Failed"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(console.counters().unauthorized, 1);
}

#[tokio::test]
async fn the_documented_limits_answer_429_with_retry_after() {
    let console = SimConsole::start().await;
    // A client that ignores the quotas, to see the console enforce them.
    let client = console
        .client_builder()
        .quotas(Quotas::none())
        .retry_policy(no_retries())
        .build()
        .unwrap();
    let body = sentinelone::raw::types::DeepVisibilityApiRequest {
        query: "EventType = \"Process Creation\"".into(),
        from_date: (chrono::Utc::now() - chrono::Duration::hours(1)).into(),
        to_date: chrono::Utc::now().into(),
        account_ids: vec![],
        site_ids: vec![],
        is_verbose: None,
        limit: Some(10),
        query_type: None,
        time_frame: None,
    };

    client
        .init_dv_query()
        .body(body.clone())
        .call()
        .await
        .unwrap();
    let err = client.init_dv_query().body(body).call().await.unwrap_err();

    match err {
        Error::RateLimited {
            operation,
            retry_after,
        } => {
            assert_eq!(operation, "init_dv_query");
            let wait = retry_after.expect("Retry-After sent");
            assert!(
                wait > Duration::from_secs(50) && wait <= Duration::from_secs(60),
                "{wait:?}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(console.counters().throttled, 1);
    assert_eq!(console.counters().requests("POST", "/dv/init-query"), 2);
}

#[tokio::test]
async fn the_library_quotas_keep_within_the_console_limits() {
    let console = SimConsole::start().await;
    let client = console.client().unwrap();
    for _ in 0..3 {
        client.get_system_status().call().await.unwrap();
    }
    let counters = console.counters();
    assert_eq!(counters.requests("GET", "/system/status"), 3);
    assert_eq!(counters.throttled, 0);
}

#[tokio::test]
async fn killing_threats_changes_their_state() {
    let console = SimConsole::builder().agents(4).threats(8).start().await;
    let client = console.client().unwrap();
    let target = ThreatTarget::computers(["win-lab-001"]);

    let before = client.threats().preview(&target).await.unwrap();
    let done = client.threats().kill(&target).await.unwrap();
    let after = client.threats().preview(&target).await.unwrap();

    assert_eq!(before.len(), 2, "threats 1 and 5 are on agent 1");
    assert_eq!(done.affected, 2);
    for threat in &after {
        let id = threat.id.as_deref().unwrap();
        assert_eq!(console.threat_status(id).as_deref(), Some("mitigated"));
        let info = threat.threat_info.as_ref().unwrap();
        assert_eq!(info.mitigation_status.as_deref(), Some("mitigated"));
    }
    let counters = console.counters();
    assert_eq!(counters.mitigations.len(), 1);
    assert_eq!(counters.mitigations[0].0, "kill");
    assert_eq!(counters.mitigations[0].1.len(), 2);
    assert_eq!(counters.requests("POST", "/threats/mitigate/kill"), 1);
}

#[tokio::test]
async fn an_empty_filter_is_refused_by_the_console_too() {
    let console = SimConsole::start().await;
    let client = console.client().unwrap();
    let body = sentinelone::raw::types::ThreatsMitigateRequest {
        data: Default::default(),
        filter: Default::default(),
    };

    let err = client
        .mitigate_threats()
        .action(sentinelone::raw::types::MitigateThreatsAction::Kill)
        .body(body)
        .call()
        .await
        .unwrap_err();

    assert_eq!(err.status(), Some(400));
    assert!(console.counters().mitigations.is_empty());
}

#[tokio::test]
async fn injected_faults_are_served_in_order_then_normal_answers() {
    let console = SimConsole::start().await;
    let client = console
        .client_builder()
        .retry_policy(no_retries())
        .build()
        .unwrap();
    console.inject([
        Fault::ServerError(503),
        Fault::InvalidJson,
        Fault::HtmlPage(502),
    ]);

    let first = client.get_system_info().call().await.unwrap_err();
    let second = client.get_system_info().call().await.unwrap_err();
    let third = client.get_system_info().call().await.unwrap_err();
    let fourth = client.get_system_info().call().await.unwrap();

    assert_eq!(first.status(), Some(503));
    assert!(matches!(second, Error::Decode { .. }), "{second:?}");
    assert_eq!(third.status(), Some(502));
    assert_eq!(fourth.data.unwrap().version.as_deref(), Some("S-23.4.2"));
    assert_eq!(console.counters().faults, 3);
}

#[tokio::test]
async fn deep_visibility_queries_progress_finish_and_can_be_cancelled() {
    let console = SimConsole::builder()
        .dv_duration(Duration::from_millis(300))
        .rate_limits(false)
        .start()
        .await;
    let client = console
        .client_builder()
        .quotas(Quotas::none())
        .build()
        .unwrap();
    let body = || sentinelone::raw::types::DeepVisibilityApiRequest {
        query: "EventType = \"Process Creation\"".into(),
        from_date: (chrono::Utc::now() - chrono::Duration::hours(1)).into(),
        to_date: chrono::Utc::now().into(),
        account_ids: vec![],
        site_ids: vec![],
        is_verbose: None,
        limit: Some(5),
        query_type: None,
        time_frame: None,
    };
    let started = client.init_dv_query().body(body()).call().await.unwrap();
    let id = started.data.unwrap().query_id.unwrap();
    let status = |id: String| {
        let client = client.clone();
        async move {
            let s = client
                .get_dv_query_status()
                .query_id(id)
                .call()
                .await
                .unwrap();
            s.data.unwrap().response_state.unwrap()
        }
    };
    assert!(["PLANNING", "RUNNING"].contains(&status(id.clone()).await.as_str()));
    let early = client
        .list_dv_events()
        .query_id(id.clone())
        .call()
        .await
        .unwrap_err();
    assert_eq!(early.status(), Some(409));
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert_eq!(status(id.clone()).await, "FINISHED");
    let events = client
        .list_dv_events()
        .query_id(id.clone())
        .limit(100)
        .call()
        .await
        .unwrap();
    assert_eq!(events.data.unwrap().len(), 5);

    let other = client.init_dv_query().body(body()).call().await.unwrap();
    let other = other.data.unwrap().query_id.unwrap();
    client
        .cancel_dv_query()
        .body(sentinelone::raw::types::DeepVisibilityQueryIdRequest {
            query_id: other.clone(),
        })
        .call()
        .await
        .unwrap();
    assert_eq!(status(other.clone()).await, "QUERY_CANCELLED");
    assert_eq!(console.counters().cancelled_queries, vec![other]);
}

#[tokio::test]
async fn unknown_routes_answer_404_in_sentinelones_format() {
    let console = SimConsole::start().await;
    let client = console.client().unwrap();
    let request = client
        .request(reqwest::Method::GET, "/web/api/v2.1/no-such-thing")
        .build()
        .unwrap();

    let err = client.execute(request, "no_such_thing").await.unwrap_err();

    match err {
        Error::Api { status, errors, .. } => {
            assert_eq!(status, 404);
            assert!(
                errors[0]
                    .detail
                    .as_deref()
                    .unwrap()
                    .contains("no-such-thing")
            );
        }
        other => panic!("{other:?}"),
    }
}
