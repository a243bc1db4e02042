//! The loopback console the measurements run against: a small HTTP/1.1
//! server on 127.0.0.1 that makes its answers on the fly, so that serving
//! 100,000 agents or a 1 GiB file costs it no more memory than one page or
//! one chunk.
//!
//! - `GET /web/api/v2.1/agents?limit=N[&cursor=C]`: a page of `N` agents
//!   (1000 when no limit is given) with `pagination.nextCursor` pointing at
//!   the next page, until the configured number of agents is reached. Each
//!   agent is the first item of `../shared/s1-fixtures/agents-list.json`
//!   with its own `id`, `uuid` and `computerName`.
//! - `GET /web/api/v2.1/agents/{id}/uploads/{id}`: a body of the
//!   configured size, written in 1 MiB chunks.
//!
//! Every request must carry `Authorization: ApiToken <token>`; anything
//! else is answered 401 or 404, so a client that sends something different
//! from the other fails rather than being measured.

use std::io;
use std::path::PathBuf;
use std::sync::Arc;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::Handle;

/// The API path below the origin.
pub const API: &str = "/web/api/v2.1";
/// Agents per page when the request gives no limit.
const DEFAULT_LIMIT: usize = 1000;
/// Largest page the server hands out, as the console.
const MAX_LIMIT: usize = 1000;
/// Size of one chunk of a download body.
const CHUNK: usize = 1 << 20;

/// What the server serves.
#[derive(Debug, Clone)]
pub struct Config {
    /// The token every request must carry.
    pub token: String,
    /// How many agents the paged list holds.
    pub agents: usize,
    /// The size of every upload download, in bytes.
    pub download_bytes: u64,
}

/// One agent object cut around the fields that differ from agent to agent.
#[derive(Debug)]
pub struct Template {
    /// Literal JSON and, between consecutive pieces, the slot filled in.
    pieces: Vec<Vec<u8>>,
    slots: Vec<Slot>,
    /// Where the template came from, for the report.
    pub source: &'static str,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Slot {
    Id,
    Uuid,
    Name,
}

impl Slot {
    const ALL: [Slot; 3] = [Slot::Id, Slot::Uuid, Slot::Name];

    fn field(self) -> &'static str {
        match self {
            Slot::Id => "id",
            Slot::Uuid => "uuid",
            Slot::Name => "computerName",
        }
    }

    fn marker(self) -> &'static str {
        match self {
            Slot::Id => "@@ID@@",
            Slot::Uuid => "@@UUID@@",
            Slot::Name => "@@NAME@@",
        }
    }

    fn write(self, index: usize, out: &mut Vec<u8>) {
        use std::io::Write;
        // Writing to a Vec cannot fail.
        let _ = match self {
            Slot::Id => write!(out, "{}", 1_900_000_000_000_000_000u64 + index as u64),
            Slot::Uuid => write!(out, "{:032x}", (0x05e1_71e1_u128 << 96) | index as u128),
            Slot::Name => write!(out, "bench-host-{index:06}"),
        };
    }
}

/// A small agent for when the shared fixture is not beside the project.
const INLINE_AGENT: &str = r#"{"accountId":"433241117337583618","accountName":"Bench","agentVersion":"23.4.2.14","computerName":"x","id":"1","uuid":"u","isActive":true,"osName":"Windows 10 Pro","osType":"windows","networkStatus":"connected","siteId":"433241117337583619","siteName":"Default site","groupId":"433241117337583620","groupName":"Default Group","lastActiveDate":"2024-03-01T10:00:00.000000Z"}"#;

impl Template {
    /// The first agent of the shared fixture, or a small inline one.
    pub fn load() -> Template {
        let fixture = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../shared/s1-fixtures/agents-list.json");
        let from_fixture = std::fs::read(&fixture)
            .ok()
            .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
            .and_then(|v| v.pointer("/data/0").cloned());
        match from_fixture {
            Some(agent) => Template::cut(agent, "../shared/s1-fixtures/agents-list.json"),
            None => Template::cut(
                serde_json::from_str(INLINE_AGENT).expect("inline agent is JSON"),
                "an inline agent (the shared fixture is missing)",
            ),
        }
    }

    fn cut(mut agent: Value, source: &'static str) -> Template {
        for slot in Slot::ALL {
            agent[slot.field()] = Value::String(slot.marker().to_string());
        }
        let mut rest = serde_json::to_string(&agent).expect("agent serializes");
        let mut pieces = Vec::new();
        let mut slots = Vec::new();
        while let Some((at, slot)) = Slot::ALL
            .iter()
            .filter_map(|&s| rest.find(s.marker()).map(|at| (at, s)))
            .min_by_key(|(at, _)| *at)
        {
            pieces.push(rest.as_bytes()[..at].to_vec());
            slots.push(slot);
            rest = rest[at + slot.marker().len()..].to_string();
        }
        pieces.push(rest.into_bytes());
        Template {
            pieces,
            slots,
            source,
        }
    }

    fn write(&self, index: usize, out: &mut Vec<u8>) {
        for (i, piece) in self.pieces.iter().enumerate() {
            out.extend_from_slice(piece);
            if let Some(slot) = self.slots.get(i) {
                slot.write(index, out);
            }
        }
    }

    /// The size of one agent as served (bytes of JSON).
    fn size(&self) -> usize {
        let mut out = Vec::new();
        self.write(0, &mut out);
        out.len()
    }

    /// Room for one agent, for sizing a page's buffer.
    fn size_hint(&self) -> usize {
        self.pieces.iter().map(Vec::len).sum::<usize>() + 64
    }

    /// The JSON body of the page holding agents `start..end` of `total`,
    /// with the cursor of the next page unless it is the last.
    pub fn page(&self, start: usize, end: usize, total: usize) -> Vec<u8> {
        let mut body = Vec::with_capacity((end - start) * self.size_hint() + 128);
        body.extend_from_slice(b"{\"data\":[");
        for index in start..end {
            if index > start {
                body.push(b',');
            }
            self.write(index, &mut body);
        }
        let next = if end < total {
            format!("\"{}\"", cursor(end))
        } else {
            "null".to_string()
        };
        body.extend_from_slice(
            format!("],\"pagination\":{{\"nextCursor\":{next},\"totalItems\":{total}}}}}")
                .as_bytes(),
        );
        body
    }
}

/// A running server.
#[derive(Debug, Clone)]
pub struct Server {
    /// `http://127.0.0.1:port`.
    pub origin: String,
    /// Bytes of JSON per agent.
    pub agent_bytes: usize,
    /// Where the agent template came from.
    pub template_source: &'static str,
}

struct Shared {
    config: Config,
    template: Template,
    auth: String,
    chunk: Vec<u8>,
}

/// Starts the server on the current tokio runtime.
pub async fn start(config: Config) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1");
    let origin = format!("http://{}", listener.local_addr().expect("local addr"));
    let template = Template::load();
    let server = Server {
        origin,
        agent_bytes: template.size(),
        template_source: template.source,
    };
    let shared = Arc::new(Shared {
        auth: format!("apitoken {}", config.token.to_ascii_lowercase()),
        chunk: (0..CHUNK).map(|i| (i % 251) as u8).collect(),
        config,
        template,
    });
    Handle::current().spawn(async move {
        // On an accept error the clients' requests fail, and say so.
        while let Ok((stream, _)) = listener.accept().await {
            let shared = shared.clone();
            tokio::spawn(async move {
                // A connection closed by the client ends here.
                let _ = serve(stream, &shared).await;
            });
        }
    });
    server
}

/// The request line and headers of one request, parsed as far as needed.
struct Head {
    get: bool,
    path: String,
    query: Vec<(String, String)>,
    authorized: bool,
}

fn parse(head: &[u8], auth: &str) -> Head {
    let text = String::from_utf8_lossy(head);
    let mut lines = text.split("\r\n");
    let request_line = lines.next().unwrap_or_default();
    let mut parts = request_line.split(' ');
    let get = parts.next() == Some("GET");
    let target = parts.next().unwrap_or_default();
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let authorized = lines.any(|line| {
        line.split_once(':').is_some_and(|(name, value)| {
            name.eq_ignore_ascii_case("authorization") && value.trim().eq_ignore_ascii_case(auth)
        })
    });
    Head {
        get,
        path: path.to_string(),
        query: url::form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect(),
        authorized,
    }
}

/// Answers the requests of one keep-alive connection (GETs, no bodies).
async fn serve(mut stream: TcpStream, shared: &Shared) -> io::Result<()> {
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
        let head = parse(&buf[..end], &shared.auth);
        buf.drain(..end);
        answer(&mut stream, shared, &head).await?;
    }
}

async fn answer(stream: &mut TcpStream, shared: &Shared, head: &Head) -> io::Result<()> {
    const UNAUTHORIZED: &[u8] = b"HTTP/1.1 401 Unauthorized\r\ncontent-length: 0\r\n\r\n";
    const NOT_FOUND: &[u8] = b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n";
    if !head.authorized {
        return stream.write_all(UNAUTHORIZED).await;
    }
    let segments: Vec<&str> = head
        .path
        .strip_prefix(API)
        .unwrap_or("")
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    match (head.get, segments.as_slice()) {
        (true, ["agents"]) => stream.write_all(&agents_page(shared, head)).await,
        (true, ["agents", _, "uploads", _]) => download(stream, shared).await,
        _ => stream.write_all(NOT_FOUND).await,
    }
}

fn query<'a>(head: &'a Head, key: &str) -> Option<&'a str> {
    head.query
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// The cursor of the page starting at agent `offset`.
fn cursor(offset: usize) -> String {
    format!("YmVuY2g6{offset:x}")
}

fn offset(cursor: &str) -> Option<usize> {
    usize::from_str_radix(cursor.strip_prefix("YmVuY2g6")?, 16).ok()
}

/// A whole response: one page of agents after the request's cursor.
fn agents_page(shared: &Shared, head: &Head) -> Vec<u8> {
    let total = shared.config.agents;
    let limit = query(head, "limit")
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(DEFAULT_LIMIT)
        .clamp(1, MAX_LIMIT);
    let start = match query(head, "cursor") {
        None => 0,
        Some(c) => match offset(c) {
            Some(o) => o.min(total),
            None => return b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n".to_vec(),
        },
    };
    let end = (start + limit).min(total);
    let body = shared.template.page(start, end, total);
    let mut response = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    response.extend_from_slice(&body);
    response
}

/// Streams a body of the configured size, chunk by chunk.
async fn download(stream: &mut TcpStream, shared: &Shared) -> io::Result<()> {
    let total = shared.config.download_bytes;
    let head = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/zip\r\ncontent-length: {total}\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await?;
    let mut left = total;
    while left > 0 {
        let n = left.min(shared.chunk.len() as u64) as usize;
        stream.write_all(&shared.chunk[..n]).await?;
        left -= n as u64;
    }
    Ok(())
}
