//! Per-call overhead of the facade (the generated builder, the facade
//! transport's quota lookup and retry bookkeeping, typed decoding) against
//! raw reqwest sending the same request to the same loopback server.
//!
//! Run with `cargo bench --bench overhead`; after criterion's report it
//! prints the ratios of this run's medians (facade against raw reqwest with
//! the same typed decode, and against raw reqwest reading bytes). The server
//! is the measure bench's loopback console (`measure/server.rs`) holding one
//! agent, so `GET /web/api/v2.1/agents` answers a one-agent page. It runs as
//! a task on the same single-threaded tokio runtime as the clients, so a
//! round trip crosses no thread: on a small virtual machine, waking a thread
//! on another vCPU costs more, and varies more, than everything the facade
//! does. Every client reuses one pooled keep-alive connection, so each timing
//! is the CPU cost of one request and response on both sides of the loopback
//! socket, plus what the client under test does around it.

#[path = "measure/server.rs"]
#[allow(dead_code)] // the download route and report fields serve `measure` only
mod server;

use std::path::PathBuf;
use std::time::Duration;

use criterion::{Criterion, criterion_group};
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue};
use sentinelone::prelude::*;
use sentinelone::quota::{Limiter, Quotas};
use tokio::runtime::Runtime;

const TOKEN: &str = "bench";

/// Starts the loopback server on `rt` with one agent; returns its origin
/// (`http://127.0.0.1:port`) and its answer to the agents list. The server
/// serves while `rt` runs a `block_on`, which is whenever criterion measures.
fn start_server(rt: &Runtime) -> (String, Vec<u8>) {
    let server = rt.block_on(server::start(server::Config {
        token: TOKEN.to_string(),
        agents: 1,
        download_bytes: 0,
    }));
    let url = agents_url(&server.origin);
    let body = rt
        .block_on(async { raw_get(&raw_client(), &url).await.bytes().await })
        .expect("the agents page");
    eprintln!(
        "overhead: serving {} bytes (one agent from {}) at {url}",
        body.len(),
        server.template_source
    );
    (server.origin, body.to_vec())
}

/// The agents list of the server at `origin`.
fn agents_url(origin: &str) -> String {
    format!("{origin}{}/agents", server::API)
}

/// A reqwest client configured as the facade configures its own (default
/// Authorization header, timeouts, user agent), so the comparison isolates
/// what the facade adds around reqwest.
fn raw_client() -> reqwest::Client {
    let mut auth = HeaderValue::from_str(&format!("ApiToken {TOKEN}")).expect("header value");
    auth.set_sensitive(true);
    let mut headers = HeaderMap::new();
    headers.insert(AUTHORIZATION, auth);
    sentinelone::raw::install_crypto_provider();
    reqwest::Client::builder()
        .default_headers(headers)
        .connect_timeout(sentinelone::DEFAULT_CONNECT_TIMEOUT)
        .timeout(sentinelone::DEFAULT_TIMEOUT)
        .user_agent("sentinelone-bench")
        .build()
        .expect("reqwest client")
}

fn facade_client(origin: &str, default_period: Option<Duration>) -> sentinelone::Client {
    sentinelone::Client::builder()
        .console_url(origin)
        .api_token(TOKEN)
        .allow_http(true)
        .quotas(Quotas::default().with_default_period(default_period))
        .limiter(Limiter::new())
        .build()
        .expect("facade client")
}

/// Sends the GET; the caller reads the body.
async fn raw_get(client: &reqwest::Client, url: &str) -> reqwest::Response {
    client
        .get(url)
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .expect("raw GET")
}

/// `list_agents` through a generated client: the facade's (by deref) or a
/// bare one.
async fn facade_list(
    client: &sentinelone::raw::Client,
) -> sentinelone::raw::types::AgentViewListResponse {
    client
        .list_agents()
        .send()
        .await
        .expect("facade list_agents")
        .into_inner()
}

/// One thread for the clients and the server alike (see the module doc).
fn current_thread() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

fn overhead(c: &mut Criterion) {
    let rt = current_thread();
    let (origin, body) = start_server(&rt);
    let url = agents_url(&origin);

    let raw = raw_client();
    // The generated client alone, sending through `DirectTransport` with the
    // same reqwest configuration: splits the generated code (builder, query
    // parameters, typed decode) from the facade transport (quota rules,
    // limiter, retry bookkeeping).
    let direct = sentinelone::raw::Client::new_with_client(
        &origin,
        raw_client(),
        sentinelone::raw::Inner::default(),
    );
    let facade = facade_client(&origin, None);
    // A 1 ns default period: every call reserves a limiter slot (rule match,
    // key, mutex) but never has to wait for it.
    let facade_quota = facade_client(&origin, Some(Duration::from_nanos(1)));

    // Every side gets the same answer before anything is timed.
    rt.block_on(async {
        let expected: serde_json::Value = serde_json::from_slice(&body).expect("body is JSON");
        let bytes = raw_get(&raw, &url).await.bytes().await.expect("raw body");
        assert_eq!(bytes.as_ref(), body.as_slice());
        let rows = expected["data"].as_array().map_or(0, Vec::len);
        for client in [&direct, &*facade, &*facade_quota] {
            let page = facade_list(client).await;
            assert_eq!(page.data.map_or(0, |d| d.len()), rows);
        }
    });

    c.bench_function("raw_reqwest", |b| {
        b.to_async(&rt)
            .iter(|| async { raw_get(&raw, &url).await.bytes().await.expect("raw body") });
    });
    c.bench_function("raw_reqwest_decode", |b| {
        b.to_async(&rt).iter(|| async {
            let bytes = raw_get(&raw, &url).await.bytes().await.expect("raw body");
            serde_json::from_slice::<serde_json::Value>(&bytes).expect("raw decode")
        });
    });
    // The same typed decode as the facade's, without the facade: the
    // baseline the overhead ratio is taken against.
    c.bench_function("raw_reqwest_decode_typed", |b| {
        b.to_async(&rt).iter(|| async {
            let bytes = raw_get(&raw, &url).await.bytes().await.expect("raw body");
            serde_json::from_slice::<sentinelone::raw::types::AgentViewListResponse>(&bytes)
                .expect("raw typed decode")
        });
    });
    c.bench_function("generated_direct_list_agents", |b| {
        b.to_async(&rt).iter(|| facade_list(&direct));
    });
    c.bench_function("facade_list_agents", |b| {
        b.to_async(&rt).iter(|| facade_list(&facade));
    });
    c.bench_function("facade_list_agents_quota_key", |b| {
        b.to_async(&rt).iter(|| facade_list(&facade_quota));
    });
}

/// The decoding alone, without the round trip: the part of the difference
/// that does not depend on scheduling noise.
fn decode(c: &mut Criterion) {
    let rt = current_thread();
    let (_, body) = start_server(&rt);
    c.bench_function("decode_only_value", |b| {
        b.iter(|| serde_json::from_slice::<serde_json::Value>(&body).expect("value decode"));
    });
    c.bench_function("decode_only_typed", |b| {
        b.iter(|| {
            serde_json::from_slice::<sentinelone::raw::types::AgentViewListResponse>(&body)
                .expect("typed decode")
        });
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(30)
        .measurement_time(Duration::from_secs(5))
        .warm_up_time(Duration::from_secs(1));
    targets = overhead, decode
}

/// What `criterion_main!` does, then the ratios of this run's estimates.
fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    ratios();
}

/// (numerator, denominator, what the ratio says)
const RATIOS: &[(&str, &str, &str)] = &[
    (
        "facade_list_agents",
        "raw_reqwest_decode_typed",
        "facade vs raw reqwest + the same typed decode",
    ),
    (
        "facade_list_agents",
        "raw_reqwest",
        "facade vs raw reqwest reading the bytes only",
    ),
    (
        "generated_direct_list_agents",
        "raw_reqwest_decode_typed",
        "generated client without the facade transport vs raw reqwest + typed decode",
    ),
    (
        "facade_list_agents_quota_key",
        "facade_list_agents",
        "facade with a limiter slot per call vs without",
    ),
];

/// Prints the ratios of the median estimates criterion just wrote (in
/// `$CRITERION_HOME`, else `criterion/` in the target directory).
fn ratios() {
    let dir = std::env::var_os("CRITERION_HOME")
        .map(PathBuf::from)
        .or_else(|| {
            // target/<profile>/deps/overhead-<hash>
            let exe = std::env::current_exe().ok()?;
            Some(exe.parent()?.parent()?.parent()?.join("criterion"))
        });
    let Some(dir) = dir else { return };
    let median_ns = |name: &str| -> Option<f64> {
        let path = dir.join(name).join("new/estimates.json");
        let text = std::fs::read_to_string(path).ok()?;
        let v: serde_json::Value = serde_json::from_str(&text).ok()?;
        v["median"]["point_estimate"].as_f64()
    };
    for (top, bottom, what) in RATIOS {
        if let (Some(t), Some(b)) = (median_ns(top), median_ns(bottom)) {
            println!(
                "ratio {top} / {bottom}: {:.2}x ({:.1} µs / {:.1} µs; {what})",
                t / b,
                t / 1e3,
                b / 1e3
            );
        }
    }
}
