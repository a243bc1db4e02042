//! Per-call overhead of the facade (the generated builder, the facade
//! transport's quota lookup and retry bookkeeping, typed decoding) against
//! raw reqwest sending the same request to the same loopback server.
//!
//! Run with `cargo bench --bench overhead`; after criterion's report it
//! prints the ratios of this run's medians (facade against raw reqwest with
//! the same typed decode, and against raw reqwest reading bytes). The server is a tiny HTTP/1.1
//! responder on 127.0.0.1 that answers `GET /web/api/v2.1/agents` with
//! `../shared/s1-fixtures/agents-list.json` when it is beside the project,
//! else with a small inline page. It runs as a task on the same
//! single-threaded tokio runtime as the clients, so a round trip crosses no
//! thread: on a small virtual machine, waking a thread on another vCPU costs
//! more, and varies more, than everything the facade does. Every client
//! reuses one pooled keep-alive connection, so each timing is the CPU cost of
//! one request and response on both sides of the loopback socket, plus what
//! the client under test does around it.

use std::io;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, criterion_group};
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue};
use sentinelone::prelude::*;
use sentinelone::quota::{Limiter, Quotas};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::Runtime;

const TOKEN: &str = "bench";
const PATH: &str = "/web/api/v2.1/agents";
const INLINE_BODY: &str =
    r#"{"data":[{"id":"1","computerName":"a"}],"pagination":{"nextCursor":null,"totalItems":1}}"#;

/// The response body: the shared fixture when present, else a small page.
fn body() -> (Vec<u8>, &'static str) {
    let fixture =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/s1-fixtures/agents-list.json");
    match std::fs::read(&fixture) {
        Ok(bytes) => (bytes, "../shared/s1-fixtures/agents-list.json"),
        Err(_) => (INLINE_BODY.as_bytes().to_vec(), "inline body"),
    }
}

/// Starts the loopback server on `rt`; returns its origin
/// (`http://127.0.0.1:port`). It serves while `rt` runs a `block_on`, which
/// is whenever criterion measures.
fn start_server(rt: &Runtime, body: &[u8]) -> String {
    let listener = rt
        .block_on(TcpListener::bind("127.0.0.1:0"))
        .expect("bind 127.0.0.1");
    let origin = format!("http://{}", listener.local_addr().expect("local addr"));
    let mut ok = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    ok.extend_from_slice(body);
    let ok: Arc<[u8]> = ok.into();
    rt.spawn(async move {
        loop {
            // On an accept error the clients' requests fail, and say so.
            let Ok((stream, _)) = listener.accept().await else {
                break;
            };
            let ok = ok.clone();
            tokio::spawn(async move {
                // A closed connection ends its task; nothing to report.
                let _ = serve(stream, &ok).await;
            });
        }
    });
    origin
}

/// Answers the requests of one keep-alive connection (GETs, no bodies).
async fn serve(mut stream: TcpStream, ok: &[u8]) -> io::Result<()> {
    const UNAUTHORIZED: &[u8] = b"HTTP/1.1 401 Unauthorized\r\ncontent-length: 0\r\n\r\n";
    const NOT_FOUND: &[u8] = b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n";
    stream.set_nodelay(true)?;
    let mut buf = Vec::with_capacity(4096);
    let mut chunk = [0u8; 4096];
    loop {
        let end = loop {
            if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break at + 4;
            }
            let n = stream.read(&mut chunk).await?;
            if n == 0 {
                return Ok(());
            }
            buf.extend_from_slice(&chunk[..n]);
        };
        let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
        let target = head.split(' ').nth(1).unwrap_or_default();
        let path = target.split('?').next().unwrap_or_default();
        let response = if !head.starts_with("get ") || path != PATH.to_ascii_lowercase() {
            NOT_FOUND
        } else if !head.contains(&format!("\r\nauthorization: apitoken {TOKEN}\r\n")) {
            UNAUTHORIZED
        } else {
            ok
        };
        stream.write_all(response).await?;
        buf.drain(..end);
    }
}

/// A reqwest client configured as the facade configures its own (default
/// Authorization header, timeouts, user agent), so the comparison isolates
/// what the facade adds around reqwest.
fn raw_client() -> reqwest::Client {
    let mut auth = HeaderValue::from_str(&format!("ApiToken {TOKEN}")).expect("header value");
    auth.set_sensitive(true);
    let mut headers = HeaderMap::new();
    headers.insert(AUTHORIZATION, auth);
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

fn overhead(c: &mut Criterion) {
    let (body, source) = body();
    // One thread for the clients and the server alike (see the module doc).
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let origin = start_server(&rt, &body);
    let url = format!("{origin}{PATH}");
    eprintln!("overhead: serving {} bytes ({source}) at {url}", body.len());

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
    let (body, _) = body();
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
