//! The API token never leaks: not through `Debug` of the client or its
//! builder, not through any error (Display, Debug, or its source chain), and
//! not through trace-level logs (tracing and `log` records of reqwest and
//! hyper alike) — while the token does reach the server.

use std::error::Error as _;
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use sentinelone::RetryPolicy;
use sentinelone::prelude::*;
use sentinelone::quota::Quotas;
use sentinelone::{Client, ClientBuilder, Error, WaitReason};
use tokio::net::TcpListener;

#[path = "integration/support/mod.rs"]
mod support;

use support::scripted::{
    self, Events, Scripted, connect_body, recording_waits, reply, scripted_server,
};

const TOKEN: &str = "s3cr3t-TOKEN-value-xyz";
/// Parts of the token that should not show up either.
const FRAGMENTS: &[&str] = &["s3cr3t", "TOKEN-value", "value-xyz"];

fn assert_clean(what: &str, text: &str) {
    for fragment in FRAGMENTS {
        assert!(
            !text.contains(fragment),
            "{what} contains {fragment:?}:\n{text}"
        );
    }
}

/// Display and Debug of the error and of every error in its source chain.
fn assert_error_clean(err: &Error) {
    assert_clean("Display", &err.to_string());
    assert_clean("Debug", &format!("{err:?}"));
    assert_clean("alternate Debug", &format!("{err:#?}"));
    let mut source = err.source();
    while let Some(s) = source {
        assert_clean("source Display", &s.to_string());
        assert_clean("source Debug", &format!("{s:?}"));
        source = s.source();
    }
}

// ---------------------------------------------------------------------------
// Log capture: one global subscriber for this test binary, writing into a
// buffer, with `log` records (reqwest) forwarded to it.

#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Buffer {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).to_string()
    }
}

fn logs() -> Buffer {
    static LOGS: OnceLock<Buffer> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buffer = Buffer::default();
        let writer = buffer.clone();
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(move || writer.clone())
            .try_init()
            .expect("the only subscriber of this test binary");
        buffer
    })
    .clone()
}

// ---------------------------------------------------------------------------

/// The raw heads of the requests `server` received.
fn heads(server: &Scripted) -> Vec<String> {
    server.seen().into_iter().map(|s| s.head).collect()
}

/// Every request carried the token.
fn assert_token_sent(server: &Scripted) {
    let heads = heads(server);
    assert!(!heads.is_empty());
    for head in heads {
        assert!(
            head.to_ascii_lowercase().contains(&format!(
                "authorization: apitoken {}",
                TOKEN.to_ascii_lowercase()
            )),
            "{head}"
        );
    }
}

fn builder(url: &str) -> ClientBuilder {
    scripted::builder(
        url,
        TOKEN,
        Quotas::default().with_default_period(None),
        RetryPolicy {
            max_attempts: 2,
            base_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(20),
            max_retry_after: Duration::from_secs(5),
            throttle_base_delay: Duration::from_millis(5),
        },
    )
}

fn client(url: &str) -> (Client, Events) {
    recording_waits(builder(url))
}

#[test]
fn debug_of_the_client_and_its_builder_hides_the_token() {
    let _ = logs();
    let b = builder("http://127.0.0.1:9");
    let text = format!("{b:?} {b:#?}");
    assert_clean("ClientBuilder Debug", &text);
    assert!(text.contains("[redacted]"), "{text}");
    assert!(text.contains("127.0.0.1:9"), "{text}");
    let client = b.build().unwrap();
    let text = format!("{client:?} {client:#?} {:?}", client.clone());
    assert_clean("Client Debug", &text);
    assert!(text.contains("127.0.0.1:9"), "{text}");
    // The raw client and a request built from it.
    assert_clean("raw Client Debug", &format!("{:?}", client.raw()));
    let request = client
        .request(reqwest::Method::GET, "/web/api/v2.1/agents")
        .build()
        .unwrap();
    assert_clean("Request Debug", &format!("{request:?}"));
}

#[tokio::test]
async fn api_errors_do_not_carry_the_token() {
    let _ = logs();
    let server = scripted_server(vec![reply(
        400,
        &[],
        r#"{"errors":[{"code":4000010,"title":"Validation Error","detail":"bad"}]}"#,
    )])
    .await;
    let (client, _) = client(&server.url);
    let err = Error::from(client.list_agents().send().await.unwrap_err());
    assert!(matches!(err, Error::Api { status: 400, .. }), "{err:?}");
    assert_error_clean(&err);
    assert_token_sent(&server);
}

#[tokio::test]
async fn rate_limited_errors_do_not_carry_the_token() {
    let _ = logs();
    let server = scripted_server(vec![reply(
        429,
        &[("Retry-After", "0")],
        r#"{"errors":[]}"#,
    )])
    .await;
    let (client, _) = client(&server.url);
    let err = Error::from(client.list_agents().send().await.unwrap_err());
    assert!(matches!(err, Error::RateLimited { .. }), "{err:?}");
    assert_error_clean(&err);
    assert_eq!(heads(&server).len(), 2);
    assert_token_sent(&server);
}

#[tokio::test]
async fn transport_errors_do_not_carry_the_token() {
    let _ = logs();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let (client, _) = client(&url);
    let raw = client
        .connect_agents()
        .body(connect_body())
        .send()
        .await
        .unwrap_err();
    assert_clean("raw error Debug", &format!("{raw:?}"));
    let err = Error::from(raw);
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
    assert_error_clean(&err);
}

#[tokio::test]
async fn timeout_errors_do_not_carry_the_token() {
    let _ = logs();
    // Accepts connections and never answers.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let hold = tokio::spawn(async move {
        let mut sockets = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            sockets.push(socket);
        }
    });
    let client = builder(&url)
        .timeout(Duration::from_millis(150))
        .build()
        .unwrap();
    let err = Error::from(client.list_agents().send().await.unwrap_err());
    assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
    assert_error_clean(&err);
    hold.abort();
}

#[tokio::test]
async fn decode_errors_do_not_carry_the_token() {
    let _ = logs();
    let server = scripted_server(vec![reply(200, &[], "<html>not json</html>")]).await;
    let (client, _) = client(&server.url);
    let err = Error::from(client.list_agents().send().await.unwrap_err());
    assert!(matches!(err, Error::Decode { .. }), "{err:?}");
    assert_error_clean(&err);
    assert_token_sent(&server);
}

#[test]
fn invalid_input_errors_do_not_carry_the_token() {
    let _ = logs();
    let cases: Vec<ClientBuilder> = vec![
        // A token that cannot be a header value.
        Client::builder()
            .console_url("https://c.example")
            .api_token(format!("{TOKEN}\nmore")),
        Client::builder()
            .console_url("https://c.example")
            .api_token(format!("{TOKEN}\u{7f}")),
        // Bad URLs, with a good token.
        Client::builder()
            .console_url("http://c.example")
            .api_token(TOKEN),
        Client::builder()
            .console_url("https://c.example/web/api/v2.1")
            .api_token(TOKEN),
        Client::builder().api_token(TOKEN),
        Client::builder()
            .console_url("https://c.example")
            .api_token(TOKEN)
            .proxy("::not a proxy::"),
    ];
    for b in cases {
        let described = format!("{b:?}");
        assert_clean("ClientBuilder Debug", &described);
        let err = b.build().expect_err(&described);
        assert!(matches!(err, Error::InvalidInput { .. }), "{err:?}");
        assert_error_clean(&err);
    }
}

#[tokio::test]
async fn logs_of_a_throttled_call_do_not_carry_the_token() {
    let logs = logs();
    let server = scripted_server(vec![
        reply(429, &[("Retry-After", "1")], r#"{"errors":[]}"#),
        reply(200, &[], "{}"),
    ])
    .await;
    let (client, events) = client(&server.url);
    client
        .list_agents()
        .send()
        .await
        .expect("the retry succeeds");
    assert_token_sent(&server);
    assert_eq!(
        events
            .lock()
            .unwrap()
            .iter()
            .filter(|e| e.reason == WaitReason::Throttled)
            .count(),
        1
    );

    let text = logs.text();
    // The capture works: the transport's wait event is there, at its target
    // and with its fields.
    let wait_line = text
        .lines()
        .find(|l| l.contains("sentinelone::transport") && l.contains("Throttled"))
        .unwrap_or_else(|| panic!("no wait event captured:\n{text}"));
    assert!(wait_line.contains("INFO"), "{wait_line}");
    assert!(
        wait_line.contains("operation=\"list_agents\""),
        "{wait_line}"
    );
    assert!(wait_line.contains("wait_ms=1000"), "{wait_line}");
    // reqwest's `log` records come through too.
    assert!(
        text.contains("reqwest"),
        "no reqwest record captured:\n{text}"
    );
    assert_clean("captured logs", &text);
}
