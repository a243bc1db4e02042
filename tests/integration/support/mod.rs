//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

use httpmock::{HttpMockRequest, MockServer, When};
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue};
use sentinelone_generated::{Client, Inner};

/// The API token every test client sends.
pub const TOKEN: &str = "test-token-0123456789abcdef";

/// The header value SentinelOne expects for [`TOKEN`].
pub fn auth_header() -> String {
    format!("ApiToken {TOKEN}")
}

/// `../shared` beside the project, when it is there. With
/// `S1_REQUIRE_SHARED` set (as `.ci/run` does) its absence is a failure.
pub fn shared_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared");
    if dir.is_dir() {
        return Some(dir);
    }
    if std::env::var_os("S1_REQUIRE_SHARED").is_some() {
        panic!("../shared is missing but S1_REQUIRE_SHARED is set");
    }
    eprintln!("skipped: ../shared is not beside the project");
    None
}

/// A plain reqwest client (no token), after the crate's TLS provider is
/// installed as every client of the library does.
pub fn http_client() -> reqwest::Client {
    sentinelone::raw::install_crypto_provider();
    reqwest::Client::new()
}

/// A raw generated client pointed at `server`, sending the test token.
pub fn raw_client(server: &MockServer) -> Client {
    let mut headers = HeaderMap::new();
    let mut value = HeaderValue::from_str(&auth_header()).expect("valid header");
    value.set_sensitive(true);
    headers.insert(AUTHORIZATION, value);
    sentinelone::raw::install_crypto_provider();
    let http = reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .expect("client builds");
    Client::new_with_client(&server.base_url(), http, Inner::default())
}

pub mod logs;
pub mod redis;
pub mod scripted;
pub mod streaming;

/// A facade client of `server` for composite-command tests: plain HTTP,
/// its own limiter, no quotas (the stand-in does not enforce them), one
/// quick retry, a 5 s request timeout.
pub fn facade_client(server: &MockServer) -> sentinelone::Client {
    sentinelone::Client::builder()
        .console_url(server.base_url())
        .api_token(TOKEN)
        .allow_http(true)
        .limiter(sentinelone::quota::Limiter::new())
        .quotas(sentinelone::quota::Quotas::none())
        .retry_policy(sentinelone::RetryPolicy {
            max_attempts: 2,
            base_delay: std::time::Duration::from_millis(10),
            max_delay: std::time::Duration::from_millis(20),
            max_retry_after: std::time::Duration::from_secs(1),
            throttle_base_delay: std::time::Duration::from_millis(10),
        })
        .timeout(std::time::Duration::from_secs(5))
        .build()
        .expect("the client builds")
}

/// `when`, narrowed to requests whose query is exactly `expected` (no
/// other parameter, any order).
pub fn exact_query(when: When, expected: &[(&str, &str)]) -> When {
    let mut expected: Vec<(String, String)> = expected
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    expected.sort();
    when.is_true(move |req: &HttpMockRequest| {
        let mut sent = req.query_params();
        sent.sort();
        sent == expected
    })
}

/// The typed items of a list answer; panics, naming the path, on an item
/// that did not decode.
pub fn typed<T>(items: Vec<sentinelone_generated::Decoded<T>>) -> Vec<T> {
    items
        .into_iter()
        .map(|item| item.into_typed().unwrap_or_else(|raw| panic!("{raw}")))
        .collect()
}
