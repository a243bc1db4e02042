//! A scripted HTTP/1.1 server on a real socket, and the client helpers the
//! transport and secrets tests share.
//!
//! The server answers the n-th request with the n-th scripted response (the
//! last one again once the script runs out) and records every request with
//! the time it arrived.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sentinelone::quota::{Limiter, Quotas};
use sentinelone::raw::types;
use sentinelone::{Client, ClientBuilder, RetryPolicy, WaitEvent};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// One request the server received.
#[derive(Debug, Clone)]
pub struct Seen {
    pub at: Instant,
    pub method: String,
    /// Path and query.
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// The raw request head: request line and headers, as received.
    pub head: String,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// One scripted answer: raw HTTP, sent after `delay`.
#[derive(Debug, Clone)]
pub struct Reply {
    pub delay: Duration,
    pub raw: String,
}

pub fn reply(status: u16, headers: &[(&str, &str)], body: &str) -> Reply {
    let mut raw = format!(
        "HTTP/1.1 {status} Scripted\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        raw.push_str(&format!("{k}: {v}\r\n"));
    }
    raw.push_str("\r\n");
    raw.push_str(body);
    Reply {
        delay: Duration::ZERO,
        raw,
    }
}

pub fn delayed(delay: Duration, r: Reply) -> Reply {
    Reply { delay, ..r }
}

pub struct Scripted {
    pub url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    script: Arc<Mutex<VecDeque<Reply>>>,
}

impl Scripted {
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// Adds `answer` at the end of the script, e.g. once another server's
    /// URL it names is known.
    pub fn push(&self, answer: Reply) {
        self.script.lock().unwrap().push_back(answer);
    }
}

pub async fn scripted_server(script: Vec<Reply>) -> Scripted {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let script = Arc::new(Mutex::new(VecDeque::from(script)));
    let (record, answers) = (seen.clone(), script.clone());
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let record = record.clone();
            let script = script.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                let head_end = loop {
                    if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        break i + 4;
                    }
                    match socket.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                };
                let at = Instant::now();
                let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
                let mut lines = head.split("\r\n");
                let mut request_line = lines.next().unwrap_or_default().split(' ');
                let method = request_line.next().unwrap_or_default().to_string();
                let target = request_line.next().unwrap_or_default().to_string();
                let headers: Vec<(String, String)> = lines
                    .filter_map(|l| l.split_once(':'))
                    .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
                    .collect();
                let length: usize = headers
                    .iter()
                    .find(|(k, _)| k == "content-length")
                    .and_then(|(_, v)| v.parse().ok())
                    .unwrap_or(0);
                while buf.len() < head_end + length {
                    match socket.read(&mut chunk).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                let body = String::from_utf8_lossy(&buf[head_end..]).to_string();
                let answer = {
                    // Recording and picking under one lock: the n-th
                    // recorded request gets the n-th reply.
                    let mut seen = record.lock().unwrap();
                    let mut script = script.lock().unwrap();
                    seen.push(Seen {
                        at,
                        method,
                        target,
                        headers,
                        body,
                        head,
                    });
                    if script.len() > 1 {
                        script.pop_front()
                    } else {
                        script.front().cloned()
                    }
                };
                let answer = answer.unwrap_or_else(|| reply(500, &[], "{}"));
                tokio::time::sleep(answer.delay).await;
                let _ = socket.write_all(answer.raw.as_bytes()).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    Scripted {
        url,
        seen,
        script: answers,
    }
}

// ---------------------------------------------------------------------------
// Clients of a scripted server.

/// The wait events a client reported, in order.
pub type Events = Arc<Mutex<Vec<WaitEvent>>>;

/// A builder for a client of `url` over plain HTTP, with its own limiter,
/// the given quotas and retry policy, and a 5 s timeout.
/// Quick retries for tests: `max_attempts`, backoffs from 10 ms up to
/// 40 ms, Retry-After honoured up to 5 s.
pub fn fast_retry(max_attempts: u32) -> RetryPolicy {
    RetryPolicy {
        max_attempts,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(40),
        max_retry_after: Duration::from_secs(5),
        throttle_base_delay: Duration::from_millis(10),
    }
}

pub fn builder(url: &str, token: &str, quotas: Quotas, retry: RetryPolicy) -> ClientBuilder {
    Client::builder()
        .console_url(url)
        .api_token(token)
        .allow_http(true)
        .limiter(Limiter::new())
        .quotas(quotas)
        .retry_policy(retry)
        .timeout(Duration::from_secs(5))
}

/// Builds `builder` with its waits recorded.
pub fn recording_waits(builder: ClientBuilder) -> (Client, Events) {
    let events: Events = Arc::default();
    let record = events.clone();
    let client = builder
        .on_wait(move |e| record.lock().unwrap().push(e.clone()))
        .build()
        .expect("the client builds");
    (client, events)
}

/// A `connect_agents` body that matches every agent.
pub fn connect_body() -> types::AgentsActionRequest {
    types::AgentsActionRequest {
        data: None,
        filter: types::AgentFilter::default(),
    }
}
