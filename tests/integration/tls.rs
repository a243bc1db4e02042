//! A real TLS handshake: a console on loopback with a self-signed
//! certificate, the library's rustls with the crate's crypto provider
//! (ring, or aws-lc-rs with that feature). The client trusts the certificate
//! only when given it, speaks TLS 1.3, and sends the token only inside the
//! encrypted connection.

use std::sync::{Arc, Mutex};

use sentinelone::Client;
use sentinelone::prelude::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::{self, ProtocolVersion, ServerConfig};

const TOKEN: &str = "tls-test-token-0123456789";

/// What the TLS console saw of one connection.
#[derive(Debug, Default, Clone)]
pub(crate) struct Seen {
    version: Option<ProtocolVersion>,
    suite: Option<String>,
    pub(crate) request: Option<String>,
    handshake_error: Option<String>,
}

/// A console that serves HTTPS for `localhost` on loopback, one answer per
/// connection, and records each connection.
pub(crate) async fn tls_console() -> (u16, String, Arc<Mutex<Vec<Seen>>>) {
    sentinelone::raw::install_crypto_provider();
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()])
        .expect("a self-signed certificate");
    let cert_pem = cert.cert.pem();
    let config = ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(
            vec![cert.cert.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(cert.signing_key.serialize_der().into()),
        )
        .expect("a server config");
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let mut this = Seen::default();
            match acceptor.accept(tcp).await {
                Err(e) => this.handshake_error = Some(e.to_string()),
                Ok(mut tls) => {
                    let (_, session) = tls.get_ref();
                    this.version = session.protocol_version();
                    this.suite = session
                        .negotiated_cipher_suite()
                        .map(|s| format!("{:?}", s.suite()));
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 4096];
                    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                        match tls.read(&mut chunk).await {
                            Ok(0) | Err(_) => break,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    }
                    this.request = Some(String::from_utf8_lossy(&buf).into_owned());
                    let body = r#"{"data":[],"pagination":{"nextCursor":null,"totalItems":0}}"#;
                    let answer = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = tls.write_all(answer.as_bytes()).await;
                    let _ = tls.shutdown().await;
                }
            }
            record.lock().unwrap().push(this);
        }
    });
    (port, cert_pem, seen)
}

fn client(port: u16, root: Option<&str>) -> Client {
    let mut builder = Client::builder()
        .console_url(format!("https://localhost:{port}"))
        .api_token(TOKEN)
        .quotas(sentinelone::quota::Quotas::none())
        .retry_policy(sentinelone::RetryPolicy {
            max_attempts: 1,
            ..Default::default()
        });
    if let Some(pem) = root {
        builder = builder.add_root_certificate_pem(pem.as_bytes().to_vec());
    }
    builder.build().expect("a client")
}

#[tokio::test]
async fn the_client_speaks_tls_1_3_and_sends_the_token_only_inside_it() {
    let (port, cert_pem, seen) = tls_console().await;

    let page = client(port, Some(&cert_pem))
        .list_agents()
        .limit(1)
        .call()
        .await
        .expect("the call over TLS");
    assert_eq!(page.data.unwrap_or_default().len(), 0);

    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0].version, Some(ProtocolVersion::TLSv1_3), "{seen:?}");
    let suite = seen[0].suite.as_deref().unwrap_or_default();
    assert!(
        suite.contains("AES_256_GCM")
            || suite.contains("AES_128_GCM")
            || suite.contains("CHACHA20_POLY1305"),
        "{suite}"
    );
    let request = seen[0].request.as_deref().unwrap_or_default();
    assert!(
        request.starts_with("GET /web/api/v2.1/agents?limit=1 HTTP/1.1\r\n"),
        "{request}"
    );
    assert!(
        request
            .to_ascii_lowercase()
            .contains(&format!("authorization: apitoken {TOKEN}").to_ascii_lowercase()),
        "{request}"
    );
}

#[tokio::test]
async fn an_untrusted_certificate_fails_the_handshake_before_the_token_is_sent() {
    let (port, _, seen) = tls_console().await;

    let outcome = client(port, None).list_agents().limit(1).call().await;

    let err = outcome.expect_err("an unknown certificate authority is refused");
    let message = format!("{err:?}");
    assert!(!message.contains(TOKEN), "{message}");
    // The console saw a handshake that failed, and no request. (It records
    // the failure when its side of the handshake ends: wait for that.)
    for _ in 0..200 {
        if !seen.lock().unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let seen = seen.lock().unwrap().clone();
    assert!(!seen.is_empty(), "the client did connect");
    assert!(
        seen.iter()
            .all(|s| s.request.is_none() && s.handshake_error.is_some()),
        "{seen:?}"
    );
}
