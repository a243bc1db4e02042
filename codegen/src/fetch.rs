//! `codegen fetch-spec`: download a console's own API description
//! (`<console>/web/api/v2.1/apidoc/swagger.json`) with an API token, under
//! the rules the facade keeps when it talks to a console:
//!
//! - https only; plain http only with `allow_http_loopback` and only to a
//!   loopback host (`127.0.0.0/8`, `::1`, `localhost`, the last pinned to
//!   the loopback addresses), for tests against a local server. Such a
//!   request never goes through a proxy;
//! - the console URL is the console root: no credentials, path, query or
//!   fragment;
//! - no redirect is followed (a 3xx is an error): the token goes to the
//!   console's host and nowhere else;
//! - the answer is read up to a size cap, within a timeout, and must be a
//!   JSON API description (`"swagger": "2.0"` or an `openapi` key);
//! - the token is never printed: not in errors, not in `Debug` output.
//!
//! The file is written atomically (a temporary file beside it, renamed).

use std::fmt;
use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use reqwest::header::{AUTHORIZATION, HeaderValue, LOCATION};
use reqwest::redirect::Policy;
use serde_json::Value;
use url::{Host, Url};

/// Where a console serves its API description, below its root.
pub const APIDOC_PATH: &str = "/web/api/v2.1/apidoc/swagger.json";
/// The environment variable holding the API token.
pub const TOKEN_ENV: &str = "S1_API_TOKEN";
/// The largest answer read (64 MiB; SentinelOne's 2024 file is 3.5 MiB).
pub const DEFAULT_MAX_BYTES: u64 = 64 * 1024 * 1024;
/// The time the whole exchange may take, connecting to the last byte.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);
/// The longest wait for a connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// The file written when no `--out` is given, relative to the workspace
/// root (ignored by git: a console's description is not committed).
pub const DEFAULT_OUT: &str = "spec/console-swagger.json";
/// How many bytes of an unexpected answer an error shows.
const EXCERPT_BYTES: usize = 160;

/// An API token. Its `Debug` shows no part of it.
#[derive(Clone)]
pub struct ApiToken(String);

impl ApiToken {
    /// A token given as text (surrounding whitespace removed). Empty text,
    /// or text that cannot go in a header, is refused; the message never
    /// contains the text.
    pub fn new(text: &str) -> Result<Self> {
        let text = text.trim();
        if text.is_empty() {
            bail!("the API token is empty; set {TOKEN_ENV} to a console API token");
        }
        let token = ApiToken(text.to_string());
        token.header()?;
        Ok(token)
    }

    /// The token in [`TOKEN_ENV`]; missing or empty is an error.
    pub fn from_env() -> Result<Self> {
        match std::env::var(TOKEN_ENV) {
            Ok(text) => Self::new(&text),
            Err(std::env::VarError::NotPresent) => {
                bail!("{TOKEN_ENV} is not set; set it to a console API token")
            }
            Err(std::env::VarError::NotUnicode(_)) => {
                bail!("{TOKEN_ENV} is not valid UTF-8; set it to a console API token")
            }
        }
    }

    /// `Authorization: ApiToken <token>`, marked sensitive.
    fn header(&self) -> Result<HeaderValue> {
        let mut value = HeaderValue::from_str(&format!("ApiToken {}", self.0)).map_err(|_| {
            anyhow!("the API token contains characters that cannot be sent in a header")
        })?;
        value.set_sensitive(true);
        Ok(value)
    }
}

impl fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiToken(<redacted>)")
    }
}

/// What to fetch and within which limits.
#[derive(Debug, Clone)]
pub struct FetchOptions {
    /// The console root, e.g. `https://usea1.sentinelone.net`.
    pub console: String,
    /// Allow `http://` to a loopback host (local test servers).
    pub allow_http_loopback: bool,
    /// The time the whole exchange may take.
    pub timeout: Duration,
    /// The largest answer accepted, in bytes.
    pub max_bytes: u64,
}

impl FetchOptions {
    /// The defaults for `console`: https only, [`DEFAULT_TIMEOUT`],
    /// [`DEFAULT_MAX_BYTES`].
    pub fn new(console: impl Into<String>) -> Self {
        FetchOptions {
            console: console.into(),
            allow_http_loopback: false,
            timeout: DEFAULT_TIMEOUT,
            max_bytes: DEFAULT_MAX_BYTES,
        }
    }
}

/// Which kind of API description came back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DescriptionKind {
    /// `"swagger": "2.0"`, what `codegen import` reads.
    Swagger2,
    /// `"openapi": <version>`.
    OpenApi(String),
}

impl fmt::Display for DescriptionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DescriptionKind::Swagger2 => f.write_str("Swagger 2.0"),
            DescriptionKind::OpenApi(v) => write!(f, "OpenAPI {v}"),
        }
    }
}

/// A fetched description: the bytes exactly as the console sent them.
pub struct Fetched {
    /// The URL it came from.
    pub url: Url,
    /// The answer's body.
    pub bytes: Vec<u8>,
    /// Swagger 2.0 or OpenAPI.
    pub kind: DescriptionKind,
    /// How many paths it describes.
    pub paths: usize,
}

impl fmt::Debug for Fetched {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Fetched")
            .field("url", &self.url.as_str())
            .field("bytes", &self.bytes.len())
            .field("kind", &self.kind)
            .field("paths", &self.paths)
            .finish()
    }
}

/// The description's URL for a console root, after the URL rules (scheme,
/// loopback for http, no credentials, path, query or fragment).
pub fn apidoc_url(console: &str, allow_http_loopback: bool) -> Result<Url> {
    let text = console.trim();
    if text.is_empty() {
        bail!(
            "the console URL is empty; give the console root, e.g. https://usea1.sentinelone.net"
        );
    }
    let parsed = Url::parse(text).map_err(|e| anyhow!("the console URL is not a URL: {e}"))?;
    if !parsed.username().is_empty() || parsed.password().is_some() {
        // The URL is not shown: it holds credentials.
        bail!(
            "the console URL must not carry credentials (user:password@); the token comes from {TOKEN_ENV}"
        );
    }
    let shown = parsed.as_str();
    let host = parsed
        .host()
        .ok_or_else(|| anyhow!("console URL {shown:?} has no host"))?;
    match parsed.scheme() {
        "https" => {}
        "http" if !allow_http_loopback => bail!(
            "console URL {shown:?} is http://: the token would travel unencrypted; use https (plain http is allowed only to a loopback host, with --allow-http-loopback, for tests)"
        ),
        "http" if !is_loopback(&host) => bail!(
            "console URL {shown:?} is http:// to a host that is not loopback: the token would travel unencrypted; plain http is allowed only to 127.0.0.0/8, ::1 or localhost"
        ),
        "http" => {}
        other => bail!("console URL {shown:?} has scheme {other:?}; expected https"),
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        bail!("console URL {shown:?} must not have a query or fragment; give the console root");
    }
    if !matches!(parsed.path(), "" | "/") {
        bail!(
            "console URL {shown:?} must be the console root (no path), e.g. {}://{}",
            parsed.scheme(),
            host
        );
    }
    let mut url = parsed.clone();
    url.set_path(APIDOC_PATH);
    Ok(url)
}

fn is_loopback(host: &Host<&str>) -> bool {
    match host {
        Host::Ipv4(ip) => ip.is_loopback(),
        Host::Ipv6(ip) => ip.is_loopback(),
        Host::Domain(name) => name.eq_ignore_ascii_case("localhost"),
    }
}

/// Downloads and checks the description. Nothing is written.
pub fn fetch(options: &FetchOptions, token: &ApiToken) -> Result<Fetched> {
    let url = apidoc_url(&options.console, options.allow_http_loopback)?;
    let auth = token.header()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the HTTP runtime")?;
    runtime.block_on(fetch_async(options, url, auth))
}

async fn fetch_async(options: &FetchOptions, url: Url, auth: HeaderValue) -> Result<Fetched> {
    // reqwest's rustls comes without a crypto provider (the workspace uses
    // ring; see generated/src/tls.rs).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut http = reqwest::Client::builder()
        // The token never follows a redirect: a 3xx comes back as it is.
        .redirect(Policy::none())
        .connect_timeout(CONNECT_TIMEOUT.min(options.timeout))
        .timeout(options.timeout)
        .user_agent(concat!(
            "sentinelone-rs-codegen/",
            env!("CARGO_PKG_VERSION")
        ));
    if url.scheme() == "http" {
        // A proxy would read the token in clear text.
        http = http.no_proxy();
        if let Some(Host::Domain(name)) = url.host() {
            // `localhost` is the loopback addresses, whatever a resolver says.
            let port = url.port_or_known_default().unwrap_or(80);
            let pinned = [
                SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port),
                SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), port),
            ];
            http = http.resolve_to_addrs(name, &pinned);
        }
    }
    let http = http.build().context("building the HTTP client")?;
    let mut response = http
        .get(url.clone())
        .header(AUTHORIZATION, auth)
        .send()
        .await
        .with_context(|| format!("GET {url}"))?;
    let status = response.status();
    if status.is_redirection() {
        let location = response
            .headers()
            .get(LOCATION)
            .map(|v| excerpt(v.as_bytes()))
            .unwrap_or_else(|| "none".to_string());
        bail!(
            "GET {url} answered {status} (Location: {location}); redirects are not followed, so that the API token goes to this host only: give the console's own URL"
        );
    }
    if !status.is_success() {
        let body = read_prefix(&mut response, EXCERPT_BYTES + 1).await;
        let hint = match status.as_u16() {
            401 | 403 => format!(" (is {TOKEN_ENV} a valid token for this console?)"),
            _ => String::new(),
        };
        bail!(
            "GET {url} answered {status}{hint}; the answer begins: {}",
            excerpt(&body)
        );
    }
    if let Some(length) = response.content_length()
        && length > options.max_bytes
    {
        bail!(
            "GET {url}: the answer declares {length} bytes, over the cap of {} bytes",
            options.max_bytes
        );
    }
    let Some(bytes) = read_capped(&mut response, options.max_bytes)
        .await
        .with_context(|| format!("reading the answer to GET {url}"))?
    else {
        bail!(
            "GET {url}: the answer is larger than the cap of {} bytes",
            options.max_bytes
        );
    };
    let (kind, paths) = check_description(&bytes).with_context(|| format!("GET {url}"))?;
    Ok(Fetched {
        url,
        bytes,
        kind,
        paths,
    })
}

/// The body, or `None` once it passes `cap` bytes (reading stops there).
async fn read_capped(response: &mut reqwest::Response, cap: u64) -> Result<Option<Vec<u8>>> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if body.len() as u64 + chunk.len() as u64 > cap {
            return Ok(None);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Some(body))
}

/// The first `n` bytes of the body at most (fewer when reading fails).
async fn read_prefix(response: &mut reqwest::Response, n: usize) -> Vec<u8> {
    let mut body = Vec::new();
    while body.len() < n {
        match response.chunk().await {
            Ok(Some(chunk)) => body.extend_from_slice(&chunk),
            Ok(None) | Err(_) => break,
        }
    }
    body.truncate(n);
    body
}

/// The answer must be a JSON object with `"swagger": "2.0"` or an
/// `openapi` version; returns which, and how many paths it has.
pub fn check_description(bytes: &[u8]) -> Result<(DescriptionKind, usize)> {
    let doc: Value = serde_json::from_slice(bytes).map_err(|e| {
        anyhow!(
            "the answer is not JSON ({e}); it begins: {}",
            excerpt(bytes)
        )
    })?;
    let kind = match (doc.get("swagger"), doc.get("openapi")) {
        (Some(Value::String(v)), _) if v == "2.0" => DescriptionKind::Swagger2,
        (_, Some(Value::String(v))) => DescriptionKind::OpenApi(v.clone()),
        _ => bail!(
            "the answer is JSON but not an API description (no \"swagger\": \"2.0\" or \"openapi\" key); it begins: {}",
            excerpt(bytes)
        ),
    };
    let paths = doc
        .get("paths")
        .and_then(Value::as_object)
        .map_or(0, |p| p.len());
    Ok((kind, paths))
}

/// The first bytes of `bytes` as printable ASCII: a quote, a backslash
/// and every byte outside `' '..='~'` escaped (`\n`, `\x1b`), `...` after
/// a cut.
pub fn excerpt(bytes: &[u8]) -> String {
    let mut out = String::from("\"");
    for &b in bytes.iter().take(EXCERPT_BYTES) {
        match b {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            b' '..=b'~' => out.push(b as char),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out.push('"');
    if bytes.len() > EXCERPT_BYTES {
        out.push_str("...");
    }
    if bytes.is_empty() {
        out = "(nothing)".to_string();
    }
    out
}

/// Writes `bytes` to `path` atomically: a new temporary file in the same
/// directory, synced, then renamed over `path`. On failure the temporary
/// file is removed and `path` is left as it was.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let name = path
        .file_name()
        .ok_or_else(|| anyhow!("{} names no file", path.display()))?;
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !dir.is_dir() {
        bail!(
            "cannot write {}: {} is not a directory",
            path.display(),
            dir.display()
        );
    }
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let mut temp_name = std::ffi::OsString::from(".");
    temp_name.push(name);
    temp_name.push(format!(".{}-{nanos}.tmp", std::process::id()));
    let temp = dir.join(temp_name);
    let written = (|| -> Result<()> {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)
            .with_context(|| format!("creating {}", temp.display()))?;
        file.write_all(bytes)
            .with_context(|| format!("writing {}", temp.display()))?;
        file.sync_all()
            .with_context(|| format!("syncing {}", temp.display()))?;
        std::fs::rename(&temp, path)
            .with_context(|| format!("renaming {} to {}", temp.display(), path.display()))
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    written
}

/// [`fetch`], then [`write_atomically`] to `out`. Nothing is written when
/// the fetch fails.
pub fn fetch_to(options: &FetchOptions, token: &ApiToken, out: &Path) -> Result<Fetched> {
    let fetched = fetch(options, token)?;
    write_atomically(out, &fetched.bytes)?;
    Ok(fetched)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_description_url_is_below_the_console_root() {
        assert_eq!(
            apidoc_url("https://usea1.sentinelone.net", false)
                .unwrap()
                .as_str(),
            "https://usea1.sentinelone.net/web/api/v2.1/apidoc/swagger.json"
        );
        assert_eq!(
            apidoc_url(" https://a.example:8443/ ", false)
                .unwrap()
                .as_str(),
            "https://a.example:8443/web/api/v2.1/apidoc/swagger.json"
        );
        assert_eq!(
            apidoc_url("http://[::1]:9000", true).unwrap().as_str(),
            "http://[::1]:9000/web/api/v2.1/apidoc/swagger.json"
        );
        assert!(apidoc_url("http://localhost:9000", true).is_ok());
        assert!(apidoc_url("http://127.0.0.2:9000", true).is_ok());
    }

    #[test]
    fn console_urls_breaking_the_rules_are_refused() {
        let refused = |url: &str, allow: bool| apidoc_url(url, allow).expect_err(url).to_string();
        assert!(refused("http://a.example", false).contains("http://"));
        assert!(refused("http://127.0.0.1:1", false).contains("--allow-http-loopback"));
        assert!(refused("http://a.example", true).contains("not loopback"));
        assert!(refused("http://10.0.0.1", true).contains("not loopback"));
        assert!(refused("http://localhost.example", true).contains("not loopback"));
        assert!(refused("ftp://a.example", false).contains("expected https"));
        assert!(refused("https://a.example/?x=1", false).contains("query"));
        assert!(refused("https://a.example/#f", false).contains("fragment"));
        assert!(refused("https://a.example/web/api/v2.1", false).contains("console root"));
        assert!(refused("", false).contains("empty"));
        assert!(refused("a.example", false).contains("not a URL"));
        let with_credentials = refused("https://user:hunter2@a.example", false);
        assert!(with_credentials.contains("credentials"));
        assert!(!with_credentials.contains("hunter2"));
    }

    #[test]
    fn tokens_are_checked_and_never_shown() {
        assert!(ApiToken::new("  ").is_err());
        let bad = ApiToken::new("abc\ndef").expect_err("newline").to_string();
        assert!(!bad.contains("abc"));
        let token = ApiToken::new(" s3cret ").unwrap();
        assert_eq!(format!("{token:?}"), "ApiToken(<redacted>)");
        assert_eq!(token.header().unwrap().as_bytes(), b"ApiToken s3cret");
        assert!(token.header().unwrap().is_sensitive());
    }

    #[test]
    fn excerpts_escape_control_and_non_ascii_bytes() {
        assert_eq!(
            excerpt(b"<a>\x1b[31m\"\\\n\xe2\x80\xae"),
            r#""<a>\x1b[31m\"\\\n\xe2\x80\xae""#
        );
        assert_eq!(excerpt(b""), "(nothing)");
        let long = vec![b'a'; 500];
        assert!(excerpt(&long).ends_with("\"..."));
        assert_eq!(excerpt(&long).len(), EXCERPT_BYTES + 5);
    }

    #[test]
    fn descriptions_are_recognised() {
        assert_eq!(
            check_description(br#"{"swagger":"2.0","paths":{"/a":{},"/b":{}}}"#).unwrap(),
            (DescriptionKind::Swagger2, 2)
        );
        assert_eq!(
            check_description(br#"{"openapi":"3.0.3"}"#).unwrap(),
            (DescriptionKind::OpenApi("3.0.3".into()), 0)
        );
        assert!(check_description(br#"{"swagger":"1.2"}"#).is_err());
        assert!(check_description(br#"[1,2]"#).is_err());
        let err = check_description(b"<html>").unwrap_err().to_string();
        assert!(
            err.contains("not JSON") && err.contains("\"<html>\""),
            "{err}"
        );
    }
}
