//! A loopback server that misbehaves with bodies: streams a huge one
//! generated on the fly (never held in memory), or stalls mid-body. It
//! counts the requests it received and the body bytes it managed to send.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// What the server answers every request with.
#[derive(Debug, Clone)]
pub struct Hostile {
    /// Status line and headers, without the blank line ending them.
    pub head: String,
    /// The body's first bytes.
    pub prefix: Vec<u8>,
    /// The bytes repeated after the prefix ...
    pub unit: Vec<u8>,
    /// ... this many times.
    pub repeat: u64,
    /// The body's last bytes.
    pub suffix: Vec<u8>,
    /// After the prefix, send nothing more and keep the connection open.
    pub stall: bool,
}

impl Hostile {
    /// A 200 JSON answer of `prefix`, `unit` × `repeat`, `suffix`, sent
    /// until the connection closes (no Content-Length).
    pub fn stream(prefix: &str, unit: &str, repeat: u64, suffix: &str) -> Self {
        Hostile {
            head: "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close"
                .to_string(),
            prefix: prefix.as_bytes().to_vec(),
            unit: unit.as_bytes().to_vec(),
            repeat,
            suffix: suffix.as_bytes().to_vec(),
            stall: false,
        }
    }

    /// The same answer announcing `length` bytes.
    pub fn with_length(mut self, length: u64) -> Self {
        self.head.push_str(&format!("\r\ncontent-length: {length}"));
        self
    }

    /// A 200 answer of `content_type` announcing `length` bytes that sends
    /// `prefix` and then nothing.
    pub fn stalling(content_type: &str, length: u64, prefix: &[u8]) -> Self {
        Hostile {
            head: format!(
                "HTTP/1.1 200 OK\r\ncontent-type: {content_type}\r\ncontent-length: {length}"
            ),
            prefix: prefix.to_vec(),
            unit: Vec::new(),
            repeat: 0,
            suffix: Vec::new(),
            stall: true,
        }
    }

    /// Total body bytes when sent whole.
    pub fn body_len(&self) -> u64 {
        (self.prefix.len() + self.suffix.len()) as u64 + self.unit.len() as u64 * self.repeat
    }
}

pub struct HostileServer {
    pub url: String,
    requests: Arc<AtomicUsize>,
    sent: Arc<AtomicU64>,
}

impl HostileServer {
    /// Requests received so far.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }

    /// Body bytes written to sockets so far.
    pub fn sent(&self) -> u64 {
        self.sent.load(Ordering::SeqCst)
    }
}

/// Serves `answer` to every request, on its own thread and runtime (so a
/// test may block on a child process meanwhile).
pub fn hostile_server(answer: Hostile) -> HostileServer {
    let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    std_listener.set_nonblocking(true).unwrap();
    let url = format!("http://{}", std_listener.local_addr().unwrap());
    let requests = Arc::new(AtomicUsize::new(0));
    let sent = Arc::new(AtomicU64::new(0));
    let (counted, written) = (requests.clone(), sent.clone());
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let listener = TcpListener::from_std(std_listener).unwrap();
            loop {
                let Ok((socket, _)) = listener.accept().await else {
                    return;
                };
                let (answer, counted, written) = (answer.clone(), counted.clone(), written.clone());
                tokio::spawn(async move { serve(socket, answer, counted, written).await });
            }
        });
    });
    HostileServer {
        url,
        requests,
        sent,
    }
}

async fn serve(
    mut socket: tokio::net::TcpStream,
    answer: Hostile,
    requests: Arc<AtomicUsize>,
    sent: Arc<AtomicU64>,
) {
    let mut head = Vec::new();
    let mut chunk = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match socket.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&chunk[..n]),
        }
    }
    requests.fetch_add(1, Ordering::SeqCst);
    let head = format!("{}\r\n\r\n", answer.head);
    if socket.write_all(head.as_bytes()).await.is_err() {
        return;
    }
    if write(&mut socket, &sent, &answer.prefix).await.is_err() {
        return;
    }
    if answer.stall {
        tokio::time::sleep(Duration::from_secs(3600)).await;
        return;
    }
    // Units batched into ~64 KiB writes.
    let per_write = (65_536 / answer.unit.len().max(1)).max(1) as u64;
    let batch = answer.unit.repeat(per_write as usize);
    let mut left = answer.repeat;
    while left > 0 {
        let n = left.min(per_write);
        let bytes = &batch[..n as usize * answer.unit.len()];
        if write(&mut socket, &sent, bytes).await.is_err() {
            return;
        }
        left -= n;
    }
    let _ = write(&mut socket, &sent, &answer.suffix).await;
}

async fn write(
    socket: &mut tokio::net::TcpStream,
    sent: &AtomicU64,
    bytes: &[u8],
) -> std::io::Result<()> {
    socket.write_all(bytes).await?;
    sent.fetch_add(bytes.len() as u64, Ordering::SeqCst);
    Ok(())
}
