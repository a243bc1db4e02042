//! A fault-injecting HTTP/1.1 proxy in front of the simulated console, for
//! what the console itself cannot do: reset a connection before or after
//! the console saw the request, answer late, or cut a body short of its
//! Content-Length.
//!
//! Every connection carries one request; answers say `connection: close`,
//! so the client never reuses a connection the proxy is about to drop.
//! Requests no rule matches are forwarded untouched.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The API prefix the console's routes are below.
const PREFIX: &str = "/web/api/v2.1";

/// What the proxy does with a request a rule matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Reads the request, then resets the connection: the console never
    /// sees it.
    ResetBeforeForwarding,
    /// Forwards the request and waits for the console's answer, then resets
    /// the connection instead of answering: the console acted, the client
    /// hears nothing.
    ResetAfterForwarding,
    /// Forwards the request at once, answers after this delay.
    Delay(Duration),
    /// Forwards, then sends the answer's head with its real Content-Length
    /// but only half of its body, and closes.
    CutBody,
}

/// One request the proxy received, and what it did with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handled {
    pub method: String,
    /// Path below the API prefix, without the query.
    pub path: String,
    pub action: Option<Action>,
}

struct Rule {
    method: String,
    path: String,
    action: Action,
}

#[derive(Clone)]
pub struct FaultProxy {
    addr: SocketAddr,
    upstream: String,
    rules: Arc<Mutex<VecDeque<Rule>>>,
    handled: Arc<Mutex<Vec<Handled>>>,
}

impl FaultProxy {
    /// A proxy for `upstream`, listening at once.
    pub async fn start(upstream: &str) -> FaultProxy {
        let proxy = FaultProxy::reserve(upstream);
        proxy.listen();
        proxy
    }

    /// A proxy for `upstream` on a port nobody listens on yet: connections
    /// are refused until [`FaultProxy::listen`].
    pub fn reserve(upstream: &str) -> FaultProxy {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
        let addr = probe.local_addr().expect("its address");
        drop(probe);
        FaultProxy {
            addr,
            upstream: upstream.trim_end_matches('/').to_string(),
            rules: Arc::default(),
            handled: Arc::default(),
        }
    }

    /// Starts accepting connections (from inside the runtime).
    pub fn listen(&self) {
        let listener = std::net::TcpListener::bind(self.addr).expect("the reserved port");
        listener.set_nonblocking(true).expect("non-blocking");
        let listener = TcpListener::from_std(listener).expect("a tokio listener");
        let proxy = self.clone();
        sentinelone::raw::install_crypto_provider();
        let forwarder = reqwest::Client::builder()
            .no_proxy()
            .build()
            .expect("a forwarding client");
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let proxy = proxy.clone();
                let forwarder = forwarder.clone();
                tokio::spawn(async move { proxy.serve(socket, forwarder).await });
            }
        });
    }

    /// The URL to give the client.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Applies `action` to the next request for `method` and `path` (below
    /// the API prefix, e.g. `/threats/mitigate/kill`). Rules are used once,
    /// in the order given.
    pub fn on(&self, method: &str, path: &str, action: Action) {
        self.rules.lock().unwrap().push_back(Rule {
            method: method.to_ascii_uppercase(),
            path: path.to_string(),
            action,
        });
    }

    /// Every request received, in order.
    pub fn handled(&self) -> Vec<Handled> {
        self.handled.lock().unwrap().clone()
    }

    /// How many requests for `method` and `path` the proxy received.
    pub fn received(&self, method: &str, path: &str) -> usize {
        self.handled()
            .iter()
            .filter(|h| h.method == method && h.path == path)
            .count()
    }

    /// Rules not used yet.
    pub fn pending(&self) -> usize {
        self.rules.lock().unwrap().len()
    }

    fn take_rule(&self, method: &str, path: &str) -> Option<Action> {
        let mut rules = self.rules.lock().unwrap();
        let index = rules
            .iter()
            .position(|r| r.method == method && r.path == path)?;
        rules.remove(index).map(|r| r.action)
    }

    async fn serve(&self, mut socket: TcpStream, forwarder: reqwest::Client) {
        let Some(request) = read_request(&mut socket).await else {
            return;
        };
        let action = self.take_rule(&request.method, &request.path);
        self.handled.lock().unwrap().push(Handled {
            method: request.method.clone(),
            path: request.path.clone(),
            action,
        });
        if action == Some(Action::ResetBeforeForwarding) {
            return reset(socket);
        }
        let answer = self.forward(&forwarder, request).await;
        match action {
            Some(Action::ResetAfterForwarding) => reset(socket),
            Some(Action::Delay(delay)) => {
                tokio::time::sleep(delay).await;
                let _ = socket.write_all(&answer.head).await;
                let _ = socket.write_all(&answer.body).await;
                let _ = socket.shutdown().await;
            }
            Some(Action::CutBody) => {
                let _ = socket.write_all(&answer.head).await;
                let _ = socket
                    .write_all(&answer.body[..answer.body.len() / 2])
                    .await;
                let _ = socket.flush().await;
                let _ = socket.shutdown().await;
            }
            Some(Action::ResetBeforeForwarding) | None => {
                let _ = socket.write_all(&answer.head).await;
                let _ = socket.write_all(&answer.body).await;
                let _ = socket.shutdown().await;
            }
        }
    }

    /// Sends `request` to the console and returns its answer as raw
    /// HTTP/1.1 (head and body apart).
    async fn forward(&self, forwarder: &reqwest::Client, request: Request) -> Answer {
        let method = reqwest::Method::from_bytes(request.method.as_bytes()).expect("a method");
        let mut outgoing =
            forwarder.request(method, format!("{}{}", self.upstream, request.target));
        for (name, value) in &request.headers {
            if !matches!(
                name.as_str(),
                "host" | "content-length" | "connection" | "transfer-encoding"
            ) {
                outgoing = outgoing.header(name, value);
            }
        }
        let response = outgoing
            .body(request.body)
            .send()
            .await
            .expect("the console answers the proxy");
        let status = response.status();
        let mut head = format!(
            "HTTP/1.1 {} {}\r\n",
            status.as_u16(),
            status.canonical_reason().unwrap_or("Status")
        );
        for (name, value) in response.headers() {
            if !matches!(
                name.as_str(),
                "content-length" | "connection" | "transfer-encoding"
            ) {
                head.push_str(&format!(
                    "{name}: {}\r\n",
                    value.to_str().unwrap_or_default()
                ));
            }
        }
        let body = response.bytes().await.expect("the console's body").to_vec();
        head.push_str(&format!(
            "content-length: {}\r\nconnection: close\r\n\r\n",
            body.len()
        ));
        Answer {
            head: head.into_bytes(),
            body,
        }
    }
}

struct Request {
    method: String,
    /// Path and query, as received.
    target: String,
    /// Path below the API prefix, without the query.
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

struct Answer {
    head: Vec<u8>,
    body: Vec<u8>,
}

/// Closes `socket` with a TCP reset instead of an orderly shutdown.
fn reset(socket: TcpStream) {
    let _ = socket.set_zero_linger();
    drop(socket);
}

/// Reads one request (head, then a body of its Content-Length).
async fn read_request(socket: &mut TcpStream) -> Option<Request> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        match socket.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next()?.split(' ');
    let method = request_line.next()?.to_ascii_uppercase();
    let target = request_line.next()?.to_string();
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
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    let full_path = target.split('?').next().unwrap_or_default();
    let path = full_path
        .strip_prefix(PREFIX)
        .unwrap_or(full_path)
        .to_string();
    Some(Request {
        method,
        path,
        target,
        headers,
        body: buf[head_end..head_end + length].to_vec(),
    })
}
