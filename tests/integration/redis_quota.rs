//! The Redis quota store against a real Redis: clients (and `s1`
//! processes) that share it keep to one allowance and one 429 block; keys
//! expire and never hold the token; a Redis that goes away is a fallback
//! or a failure, as configured, and never a hang.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use sentinelone::Client;
use sentinelone::prelude::*;
use sentinelone::quota::{Limiter, Quota, Quotas, Scope};
use sentinelone::quota_store::{QuotaStore, RedisQuotaStore, WhenUnreachable};
use tracing::Level;

use crate::support::logs;
use crate::support::redis::{RedisProcess, keys, redis_url, unique_prefix};
use crate::support::scripted::{Scripted, builder, fast_retry, reply, scripted_server};

const TOKEN: &str = "redis-quota-test-token-5f0c9a";
const AGENTS_PAGE: &str = r#"{"data":[],"pagination":{"nextCursor":null,"totalItems":0}}"#;

/// One request per `period` below `/web/api/v2.1/agents`, per token.
fn agents_every(period: Duration) -> Quotas {
    Quotas::none().with_rule(Quota {
        method: "*",
        path: "/web/api/v2.1/agents",
        prefix: true,
        scope: Scope::Token,
        period,
        burst: 1,
        label: "agents",
    })
}

/// A store on `url` under `prefix`, with a fallback limiter of its own.
fn redis_store(url: &str, prefix: &str, when: WhenUnreachable) -> QuotaStore {
    let store = RedisQuotaStore::new(url)
        .expect("a Redis URL")
        .key_prefix(prefix)
        .fallback_limiter(Limiter::new())
        .when_unreachable(when);
    QuotaStore::Redis(Arc::new(store))
}

/// A client of `server` counting in `store` under `quotas`.
fn client(server: &Scripted, quotas: Quotas, store: QuotaStore) -> Client {
    builder(&server.url, TOKEN, quotas, fast_retry(1))
        .quota_store(store)
        .build()
        .expect("the client builds")
}

/// The gaps between the arrivals of the requests `server` saw.
fn gaps(server: &Scripted) -> Vec<Duration> {
    let mut times: Vec<Instant> = server.seen().iter().map(|s| s.at).collect();
    times.sort();
    times.windows(2).map(|w| w[1] - w[0]).collect()
}

/// Asserts the requests `server` saw were spaced by the quota: every gap
/// at least `min_gap` (loose, as arrivals jitter with the scheduler) and
/// the whole run at least `min_span` (without sharing, requests arrive
/// together).
fn assert_spaced(server: &Scripted, requests: usize, min_gap: Duration, min_span: Duration) {
    let gaps = gaps(server);
    assert_eq!(gaps.len(), requests - 1, "{requests} requests: {gaps:?}");
    assert!(gaps.iter().all(|g| *g >= min_gap), "{gaps:?}");
    let span: Duration = gaps.iter().sum();
    assert!(span >= min_span, "{gaps:?}");
}

/// Three calls from each client at once.
async fn three_calls_each(clients: &[Client]) {
    let calls = clients
        .iter()
        .flat_map(|c| (0..3).map(move |_| c.list_agents().limit(1).call()));
    for outcome in join_all(calls).await {
        outcome.expect("every call is answered");
    }
}

#[tokio::test]
async fn two_clients_sharing_redis_keep_to_one_allowance() {
    let Some(url) = redis_url() else { return };
    let period = Duration::from_millis(200);
    let prefix = unique_prefix("one-allowance");
    let server = scripted_server(vec![reply(200, &[], AGENTS_PAGE)]).await;
    // Two stores on one Redis: as two processes would have.
    let clients = [
        client(
            &server,
            agents_every(period),
            redis_store(&url, &prefix, WhenUnreachable::Fail),
        ),
        client(
            &server,
            agents_every(period),
            redis_store(&url, &prefix, WhenUnreachable::Fail),
        ),
    ];

    three_calls_each(&clients).await;

    // One request per 200 ms (plus the 5 % margin), whichever client sent it.
    assert_spaced(
        &server,
        6,
        Duration::from_millis(120),
        Duration::from_millis(950),
    );
}

#[tokio::test]
async fn two_clients_with_limiters_of_their_own_do_not_share() {
    // The control for the test above: without a shared store the two
    // clients send side by side.
    let period = Duration::from_millis(200);
    let server = scripted_server(vec![reply(200, &[], AGENTS_PAGE)]).await;
    let clients = [
        client(
            &server,
            agents_every(period),
            QuotaStore::InProcess(Limiter::new()),
        ),
        client(
            &server,
            agents_every(period),
            QuotaStore::InProcess(Limiter::new()),
        ),
    ];

    three_calls_each(&clients).await;

    let gaps = gaps(&server);
    assert!(
        gaps.iter().any(|g| *g < Duration::from_millis(100)),
        "{gaps:?}"
    );
}

#[tokio::test]
async fn a_429_seen_by_one_client_holds_back_the_other_until_its_retry_after() {
    let Some(url) = redis_url() else { return };
    let prefix = unique_prefix("blocked");
    let server = scripted_server(vec![
        reply(
            429,
            &[("Retry-After", "1")],
            r#"{"errors":[{"code":4290010}]}"#,
        ),
        reply(200, &[], AGENTS_PAGE),
    ])
    .await;
    let quotas = agents_every(Duration::from_millis(10));
    let first = client(
        &server,
        quotas.clone(),
        redis_store(&url, &prefix, WhenUnreachable::Fail),
    );
    let second = client(
        &server,
        quotas,
        redis_store(&url, &prefix, WhenUnreachable::Fail),
    );

    // One attempt only: the first client gives up on its 429 at once.
    let throttled = first.list_agents().limit(1).call().await;
    assert!(throttled.is_err(), "{throttled:?}");
    second
        .list_agents()
        .limit(1)
        .call()
        .await
        .expect("answered after the block");

    let seen = server.seen();
    assert_eq!(seen.len(), 2);
    let held = seen[1].at - seen[0].at;
    assert!(held >= Duration::from_millis(950), "{held:?}");
    assert!(held < Duration::from_secs(3), "{held:?}");
}

#[tokio::test]
async fn keys_name_the_console_and_a_fingerprint_never_the_token_and_expire() {
    let Some(url) = redis_url() else { return };
    let prefix = unique_prefix("expiry");
    let server = scripted_server(vec![reply(200, &[], AGENTS_PAGE)]).await;
    let period = Duration::from_millis(300);
    let client = client(
        &server,
        agents_every(period),
        redis_store(&url, &prefix, WhenUnreachable::Fail),
    );

    client
        .list_agents()
        .limit(1)
        .call()
        .await
        .expect("answered");

    let found = keys(&url, &prefix).await;
    assert_eq!(found.len(), 1, "{found:?}");
    let (name, value, ttl) = &found[0];
    assert!(
        name.starts_with(&format!("{prefix}:{}:t=", server.url)),
        "{name}"
    );
    assert!(name.ends_with(":prefix /web/api/v2.1/agents"), "{name}");
    assert!(
        !name.contains(TOKEN) && !value.contains(TOKEN),
        "{name} {value}"
    );
    assert!(value.parse::<u64>().is_ok(), "a time in µs: {value}");
    // Spent up to one interval ahead, kept a second longer than that.
    assert!(*ttl > 0 && *ttl <= 1400, "{ttl}");

    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(keys(&url, &prefix).await.is_empty(), "the key expired");
}

#[tokio::test]
async fn redis_going_away_falls_back_with_one_warning_and_comes_back() {
    let Some(redis) = RedisProcess::start() else {
        return;
    };
    let (port, url) = (redis.port, redis.url());
    let prefix = unique_prefix("fallback");
    let server = scripted_server(vec![reply(200, &[], AGENTS_PAGE)]).await;
    let quotas = agents_every(Duration::from_millis(50));
    let client = client(
        &server,
        quotas,
        redis_store(&url, &prefix, WhenUnreachable::FallBack),
    );
    let (captured, _guard) = logs::capture(Level::INFO);

    client
        .list_agents()
        .limit(1)
        .call()
        .await
        .expect("via Redis");
    assert_eq!(keys(&url, &prefix).await.len(), 1);

    redis.stop();
    let started = Instant::now();
    for _ in 0..3 {
        client
            .list_agents()
            .limit(1)
            .call()
            .await
            .expect("via the fallback");
    }
    // Three calls, 50 ms apart, and at most one Redis timeout (250 ms).
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(server.seen().len(), 4);
    let text = captured.text();
    assert_eq!(
        text.matches("the Redis quota store cannot be reached")
            .count(),
        1,
        "{text}"
    );
    assert!(text.contains("counting quotas in this process"), "{text}");

    // Back on the same port: after a second, the store uses it again.
    let redis = RedisProcess::start_on(port).expect("restarted");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    client
        .list_agents()
        .limit(1)
        .call()
        .await
        .expect("via Redis again");
    assert_eq!(keys(&url, &prefix).await.len(), 1);
    assert!(
        captured.text().contains("answers again"),
        "{}",
        captured.text()
    );
    drop(redis);
}

#[tokio::test]
async fn redis_going_away_fails_the_call_when_so_configured_and_sends_nothing() {
    let Some(redis) = RedisProcess::start() else {
        return;
    };
    let url = redis.url();
    let server = scripted_server(vec![reply(200, &[], AGENTS_PAGE)]).await;
    let quotas = agents_every(Duration::from_millis(50));
    let client = client(
        &server,
        quotas,
        redis_store(&url, &unique_prefix("fail"), WhenUnreachable::Fail),
    );
    client
        .list_agents()
        .limit(1)
        .call()
        .await
        .expect("via Redis");

    redis.stop();
    let started = Instant::now();
    let err = client
        .list_agents()
        .limit(1)
        .call()
        .await
        .expect_err("no Redis, no call");

    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    let message = err.to_string();
    assert!(message.contains("Redis quota store"), "{message}");
    assert!(
        message.contains(&format!("127.0.0.1:{}", url_port(&url))),
        "{message}"
    );
    assert_eq!(server.seen().len(), 1, "nothing sent after Redis went away");
}

fn url_port(url: &str) -> u16 {
    url.rsplit(':')
        .next()
        .and_then(|tail| tail.split('/').next())
        .and_then(|p| p.parse().ok())
        .expect("a port")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s1_processes_sharing_redis_keep_to_one_allowance() {
    let Some(url) = redis_url() else { return };
    // A key prefix of our own is not available to `s1`: flush what this
    // console's allowance left from earlier runs by using a fresh console
    // (the scripted server's port) and a token of this run.
    let token = format!("s1-processes-{:016x}", fastrand::u64(..));
    let server = scripted_server(vec![reply(
        200,
        &[],
        r#"{"data":{"responseState":"RUNNING"}}"#,
    )])
    .await;

    // dv/query-status: one a second per token, documented.
    let children: Vec<_> = (0..4)
        .map(|_| {
            std::process::Command::new(env!("CARGO_BIN_EXE_s1"))
                .args(["request", "GET", "dv/query-status", "--query", "queryId=q1"])
                .env("S1_CONSOLE_URL", &server.url)
                .env("S1_API_TOKEN", &token)
                .env("S1_REDIS_URL", &url)
                .env("S1_OUTPUT", "json")
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("s1 starts")
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().expect("s1 ends");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    // One a second, never together.
    assert_spaced(
        &server,
        4,
        Duration::from_millis(700),
        Duration::from_millis(2900),
    );
    let found = keys(&url, &format!("s1:quota:{}:", server.url)).await;
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(!found[0].0.contains(&token), "{found:?}");
}
