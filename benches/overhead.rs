//! Per-call overhead of the facade (limiter, the `ClientHooks` exec transport
//! and typed decoding) against raw reqwest sending the same request to the
//! same loopback server.
//!
//! Run with `cargo bench --bench overhead`. The server is a tiny blocking
//! HTTP/1.1 responder on 127.0.0.1 (one thread per keep-alive connection)
//! that answers `GET /web/api/v2.1/agents` with
//! `../shared/s1-fixtures/agents-list.json` when it is beside the project,
//! else with a small inline page. Every client reuses one pooled connection,
//! so what is measured is one request/response round trip plus what each
//! side does around it.

use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue};
use sentinelone::prelude::*;
use sentinelone::quota::{Limiter, Quotas};

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

/// Starts the loopback server; returns its origin (`http://127.0.0.1:port`).
fn start_server(body: &[u8]) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
    let origin = format!("http://{}", listener.local_addr().expect("local addr"));
    let mut ok = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    ok.extend_from_slice(body);
    let ok: Arc<[u8]> = ok.into();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let ok = ok.clone();
            std::thread::spawn(move || {
                // A closed connection ends its thread; nothing to report.
                let _ = serve(stream, &ok);
            });
        }
    });
    origin
}

/// Answers the requests of one keep-alive connection (GETs, no bodies).
fn serve(mut stream: TcpStream, ok: &[u8]) -> io::Result<()> {
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
            let n = stream.read(&mut chunk)?;
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
        stream.write_all(response)?;
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

async fn facade_list(
    client: &sentinelone::Client,
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
    let origin = start_server(&body);
    let url = format!("{origin}{PATH}");
    eprintln!("overhead: serving {} bytes ({source}) at {url}", body.len());

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let raw = raw_client();
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
        for client in [&facade, &facade_quota] {
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
criterion_main!(benches);
