//! [`Client`]: configuration, and the raw client wired to the transport.

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue};
use secrecy::{ExposeSecret, SecretString};
use sentinelone_generated::Inner;
use url::Url;

use crate::Error;
use crate::cleanup::Cleanup;
use crate::download::{DownloadListener, DownloadProgress};
use crate::limits::{
    Answer, CallLimits, DEFAULT_CALL_DEADLINE, DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_READ_IDLE_TIMEOUT,
};
use crate::metrics::{RequestListener, RequestRecord};
use crate::profile::Profiles;
use crate::quota::{Limiter, Quotas};
use crate::quota_store::QuotaStore;
use crate::transport::{FacadeTransport, Hook, RetryPolicy};
use crate::wait::{WaitEvent, WaitListener};

/// Environment variable holding the console URL.
pub const ENV_CONSOLE_URL: &str = "S1_CONSOLE_URL";
/// Environment variable holding the API token.
pub const ENV_API_TOKEN: &str = "S1_API_TOKEN";
/// The environment variable naming a Redis server to count quotas in
/// ([`Client::from_env`], the `s1` command line).
pub const ENV_REDIS_URL: &str = "S1_REDIS_URL";

/// A SentinelOne console client. Cheap to clone; clones share the
/// connection pool, the quotas and the transport.
///
/// Every generated operation is reachable through [`Client::raw`] or
/// directly, by deref:
///
/// ```no_run
/// use sentinelone::prelude::*;
///
/// # async fn demo() -> Result<(), sentinelone::Error> {
/// let client = sentinelone::Client::builder()
///     .console_url("https://usea1.sentinelone.net")
///     .api_token("…")
///     .build()?;
/// let page = client.list_agents().limit(10).send().await?.into_inner();
/// # Ok(())
/// # }
/// ```
///
/// `?` converts a generated call's error into [`Error`], naming the
/// operation (`.call()` does too, and also when no answer came). The
/// client's transport reads an error answer itself, once (secrets
/// redacted), and hands the raw client a failure carrying the result: the
/// raw `progenitor_client::Error` of an error answer is a
/// `CommunicationError`, not an `ErrorResponse`; convert it to read its
/// status and SentinelOne's error list.
#[derive(Clone)]
pub struct Client {
    raw: sentinelone_generated::Client,
    http: reqwest::Client,
    /// For links away from the console (pre-signed storage URLs): same
    /// proxy and certificates, never the API token; follows at most
    /// [`LINK_REDIRECTS`] redirects.
    links: reqwest::Client,
    download_listener: Option<DownloadListener>,
    /// Kept for the one call that takes the token in its body
    /// (`users/api-token-details`); never printed. Trimmed, as in the
    /// Authorization header.
    token: SecretString,
    /// Keeps the token redacted from error text while the client lives.
    _redacted: crate::redact::Registered,
    transport: Arc<FacadeTransport>,
    /// Background clean-up work (see [`Client::finish_cleanup`]).
    pub(crate) cleanup: Cleanup,
}

impl Client {
    /// Starts configuring a client.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// A client from `S1_CONSOLE_URL` and `S1_API_TOKEN`; with
    /// `S1_REDIS_URL` set, its quotas are counted in that Redis server
    /// (feature `redis`; without it, a set `S1_REDIS_URL` is an error).
    pub fn from_env() -> Result<Client, Error> {
        let url = std::env::var(ENV_CONSOLE_URL)
            .map_err(|_| Error::invalid(format!("{ENV_CONSOLE_URL} is not set")))?;
        let token = std::env::var(ENV_API_TOKEN)
            .map_err(|_| Error::invalid(format!("{ENV_API_TOKEN} is not set")))?;
        let mut builder = Client::builder().console_url(url).api_token(token);
        if let Ok(redis) = std::env::var(ENV_REDIS_URL) {
            builder = builder.quota_store(QuotaStore::from_redis_url(&redis)?);
        }
        builder.build()
    }

    /// A client of the console profile `name`, from the default profile
    /// file ([`Profiles::default_path`]): its console URL, token, proxy and
    /// extra root certificate. See [`crate::profile`] for the file's format.
    ///
    /// ```no_run
    /// # fn demo() -> Result<(), sentinelone::Error> {
    /// let client = sentinelone::Client::from_profile("acme")?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn from_profile(name: &str) -> Result<Client, Error> {
        Profiles::load_default()?
            .get(name)?
            .client_builder()?
            .build()
    }

    /// The generated client: every operation of the spec.
    pub fn raw(&self) -> &sentinelone_generated::Client {
        &self.raw
    }

    /// The console URL (`https://host[:port]`).
    pub fn console_url(&self) -> &str {
        &self.transport.console
    }

    /// Sends a hand-built request (a multipart upload, a download link)
    /// through the same transport as every generated operation: same
    /// authentication, quotas and retry rules; a redirect is not followed
    /// but is an [`Error::Redirected`]. `operation` names it in waits and
    /// errors.
    ///
    /// The answer's body is capped at
    /// [`ClientBuilder::max_response_bytes`] unless `operation` is one the
    /// spec says answers a file (see [`crate::raw::ResponseKind`]).
    pub async fn execute(
        &self,
        request: reqwest::Request,
        operation: &'static str,
    ) -> Result<reqwest::Response, Error> {
        self.execute_as(request, operation, Answer::of(operation))
            .await
    }

    /// [`Client::execute`] for a file streamed to disk: no byte cap.
    pub(crate) async fn execute_file(
        &self,
        request: reqwest::Request,
        operation: &'static str,
    ) -> Result<reqwest::Response, Error> {
        self.execute_as(request, operation, Answer::File).await
    }

    async fn execute_as(
        &self,
        request: reqwest::Request,
        operation: &'static str,
        answer: Answer,
    ) -> Result<reqwest::Response, Error> {
        // The transport answers a success, or fails with what went wrong:
        // an error answer is read there, once.
        self.transport
            .send(&self.http, request, operation, answer)
            .await
            .map_err(|e| Error::transport(operation, e))
    }

    /// A request builder for `method` on `path` below the console URL (for
    /// [`Client::execute`]); the token is added by the client itself.
    pub fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{}", self.transport.console, path))
    }

    /// The HTTP client for links that leave the console; it never sends
    /// the API token.
    pub(crate) fn link_client(&self) -> &reqwest::Client {
        &self.links
    }

    /// The API token, for the calls that send it in a body.
    pub(crate) fn api_token(&self) -> &SecretString {
        &self.token
    }

    /// The callback told about download progress, if any.
    pub(crate) fn download_listener(&self) -> Option<&DownloadListener> {
        self.download_listener.as_ref()
    }

    /// The places for running Long Running Queries of this console and
    /// token, shared through the limiter.
    pub(crate) fn lrq_places(&self) -> Arc<tokio::sync::Semaphore> {
        self.transport
            .store
            .local()
            .running_queries(&self.transport.console, self.transport.token_fingerprint)
    }

    /// The time allowed for one whole file download.
    pub(crate) fn download_timeout(&self) -> Duration {
        self.transport.limits.download_timeout
    }
}

impl Deref for Client {
    type Target = sentinelone_generated::Client;

    fn deref(&self) -> &Self::Target {
        &self.raw
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("console", &self.transport.console)
            .finish_non_exhaustive()
    }
}

/// Configures a [`Client`]. Everything is checked in [`ClientBuilder::build`],
/// before any request.
#[derive(Default)]
pub struct ClientBuilder {
    console_url: Option<String>,
    token: Option<SecretString>,
    connect_timeout: Option<Duration>,
    timeout: Option<Duration>,
    proxy: Option<String>,
    root_certificates: Vec<Vec<u8>>,
    user_agent: Option<String>,
    allow_http: bool,
    allow_http_on_loopback: bool,
    quotas: Option<Quotas>,
    store: Option<QuotaStore>,
    retry: Option<RetryPolicy>,
    listener: Option<WaitListener>,
    request_listener: Option<RequestListener>,
    download_timeout: Option<Duration>,
    download_listener: Option<DownloadListener>,
    max_response_bytes: Option<u64>,
    read_idle_timeout: Option<Duration>,
    call_deadline: Option<Duration>,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("console_url", &self.console_url)
            .field("api_token", &self.token.as_ref().map(|_| "[redacted]"))
            .field("allow_http", &self.allow_http)
            .field("allow_http_on_loopback", &self.allow_http_on_loopback)
            .finish_non_exhaustive()
    }
}

/// Default time to connect.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default time for a whole request.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
/// Default time for a whole file download (fetched files, script results).
pub const DEFAULT_DOWNLOAD_TIMEOUT: Duration = Duration::from_secs(3600);
/// Redirects a download link (away from the console, without the token)
/// may take before it is an error. Requests to the console follow none.
pub const LINK_REDIRECTS: usize = 3;

impl ClientBuilder {
    /// The console root, e.g. `https://usea1.sentinelone.net`.
    pub fn console_url(mut self, url: impl Into<String>) -> Self {
        self.console_url = Some(url.into());
        self
    }

    /// The API token (kept as a secret). Surrounding whitespace is removed
    /// here, once: the Authorization header and the one call that sends the
    /// token in its body (`users/api-token-details`) send the same value.
    pub fn api_token(mut self, token: impl Into<String>) -> Self {
        let mut given: String = token.into();
        self.token = Some(SecretString::from(given.trim().to_string()));
        secrecy::zeroize::Zeroize::zeroize(&mut given);
        self
    }

    /// Time allowed to connect (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// Time allowed for one request, body included (default 60 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// An HTTP(S) proxy for every request to an `https://` console (and
    /// for the download links it hands out).
    ///
    /// Without one, the usual environment variables (`HTTPS_PROXY`,
    /// `ALL_PROXY`, `NO_PROXY`, ...) apply to an `https://` console. A
    /// plain `http://` console ([`ClientBuilder::allow_http`]) never goes
    /// through a proxy, from the environment or given here: the proxy would
    /// read the token in clear text. Giving a proxy for an `http://` console
    /// makes [`ClientBuilder::build`] fail.
    ///
    /// ```
    /// let client = sentinelone::Client::builder()
    ///     .console_url("https://usea1.sentinelone.net")
    ///     .api_token("…")
    ///     .proxy("http://proxy.internal:3128")
    ///     .build();
    /// assert!(client.is_ok());
    /// ```
    pub fn proxy(mut self, url: impl Into<String>) -> Self {
        self.proxy = Some(url.into());
        self
    }

    /// Trusts an extra root certificate (PEM), e.g. for an on-premises console.
    pub fn add_root_certificate_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.root_certificates.push(pem.into());
        self
    }

    /// The User-Agent header (default `sentinelone-rs/<version>`).
    pub fn user_agent(mut self, agent: impl Into<String>) -> Self {
        self.user_agent = Some(agent.into());
        self
    }

    /// Allows an `http://` console URL. Only for local tests and stand-ins:
    /// the token would otherwise cross the network in clear text. Requests
    /// to an `http://` console never go through a proxy: environment
    /// proxies are ignored and a [`ClientBuilder::proxy`] is refused.
    pub fn allow_http(mut self, allow: bool) -> Self {
        self.allow_http = allow;
        self
    }

    /// Allows an `http://` console URL only when its host is a loopback
    /// address (127.0.0.0/8, `::1`, `localhost`): a stand-in console on
    /// this machine, such as the simulated one. The token never leaves the
    /// machine in clear text; any other `http://` console is still refused.
    /// Console profiles and the `s1` command line build their clients
    /// this way.
    ///
    /// ```
    /// let local = sentinelone::Client::builder()
    ///     .console_url("http://127.0.0.1:8080")
    ///     .api_token("…")
    ///     .allow_http_on_loopback(true)
    ///     .build();
    /// assert!(local.is_ok());
    /// let remote = sentinelone::Client::builder()
    ///     .console_url("http://usea1.sentinelone.net")
    ///     .api_token("…")
    ///     .allow_http_on_loopback(true)
    ///     .build();
    /// assert!(remote.is_err());
    /// ```
    pub fn allow_http_on_loopback(mut self, allow: bool) -> Self {
        self.allow_http_on_loopback = allow;
        self
    }

    /// Replaces the quota table (see [`crate::quota::Quota::published`]).
    pub fn quotas(mut self, quotas: Quotas) -> Self {
        self.quotas = Some(quotas);
        self
    }

    /// Uses this limiter instead of the process-wide one (the same as
    /// `quota_store(QuotaStore::InProcess(limiter))`).
    pub fn limiter(mut self, limiter: Arc<Limiter>) -> Self {
        self.store = Some(QuotaStore::InProcess(limiter));
        self
    }

    /// Where quotas are counted: this process's limiter (the default,
    /// [`Limiter::global`]) or Redis, shared by every process and host using
    /// it ([`crate::quota_store::RedisQuotaStore`], feature `redis`).
    ///
    /// ```
    /// use sentinelone::quota::Limiter;
    /// use sentinelone::quota_store::QuotaStore;
    ///
    /// let builder = sentinelone::Client::builder()
    ///     .quota_store(QuotaStore::InProcess(Limiter::new()));
    /// # drop(builder);
    /// ```
    pub fn quota_store(mut self, store: QuotaStore) -> Self {
        self.store = Some(store);
        self
    }

    /// Replaces the retry policy.
    pub fn retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = Some(retry);
        self
    }

    /// Calls `listener` before every wait (quota slot, 429, retry backoff).
    pub fn on_wait(mut self, listener: impl Fn(&WaitEvent) + Send + Sync + 'static) -> Self {
        self.listener = Some(Arc::new(listener));
        self
    }

    /// Calls `listener` once per call as it ends, with what it took
    /// (attempts, 429s, waits, outcome): the hook for a metrics system.
    /// See [`crate::metrics`]; [`crate::metrics::RequestStats`] keeps
    /// totals by operation.
    ///
    /// ```
    /// let stats = sentinelone::metrics::RequestStats::default();
    /// let builder = sentinelone::Client::builder().on_request(stats.recorder());
    /// ```
    pub fn on_request(mut self, listener: impl Fn(&RequestRecord) + Send + Sync + 'static) -> Self {
        self.request_listener = Some(Arc::new(listener));
        self
    }

    /// Time allowed for one whole file download (default one hour); the
    /// request timeout does not apply to downloads.
    pub fn download_timeout(mut self, timeout: Duration) -> Self {
        self.download_timeout = Some(timeout);
        self
    }

    /// The most bytes an answer read into memory may hold (default
    /// [`DEFAULT_MAX_RESPONSE_BYTES`], 64 MiB: the largest real pages are
    /// a few MiB). Reading stops as soon as a body passes it, and an
    /// announced `Content-Length` above it fails before reading; the error
    /// is [`Error::ResponseTooLarge`]. Files streamed to disk (downloads)
    /// are not subject to it.
    ///
    /// ```
    /// let builder = sentinelone::Client::builder().max_response_bytes(256 * 1024 * 1024);
    /// ```
    pub fn max_response_bytes(mut self, bytes: u64) -> Self {
        self.max_response_bytes = Some(bytes);
        self
    }

    /// How long an answer may send nothing before it fails as a timeout
    /// (default [`DEFAULT_READ_IDLE_TIMEOUT`], 30 s): the wait for its head
    /// and every read of its body, downloads included.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let builder = sentinelone::Client::builder().read_idle_timeout(Duration::from_secs(10));
    /// ```
    pub fn read_idle_timeout(mut self, timeout: Duration) -> Self {
        self.read_idle_timeout = Some(timeout);
        self
    }

    /// The most time one call may take across all its attempts, quota
    /// waits, 429 waits and backoffs (default [`DEFAULT_CALL_DEADLINE`],
    /// 5 minutes). A wait that would end past it fails the call at once
    /// with [`Error::Timeout`]; each attempt of an answer read into memory
    /// ends by it too. A download's body is bounded by
    /// [`ClientBuilder::download_timeout`] instead.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let builder = sentinelone::Client::builder().call_deadline(Duration::from_secs(60));
    /// ```
    pub fn call_deadline(mut self, deadline: Duration) -> Self {
        self.call_deadline = Some(deadline);
        self
    }

    /// Calls `listener` as file downloads progress (after every chunk
    /// written, and once more when the file is in place), e.g. to drive a
    /// progress bar.
    pub fn on_download(
        mut self,
        listener: impl Fn(&DownloadProgress) + Send + Sync + 'static,
    ) -> Self {
        self.download_listener = Some(Arc::new(listener));
        self
    }

    /// Checks the configuration and builds the client. Nothing is sent.
    pub fn build(self) -> Result<Client, Error> {
        let allow_http = self.allow_http
            || self.allow_http_on_loopback && self.console_url.as_deref().is_some_and(is_loopback);
        let console = parse_console_url(self.console_url.as_deref(), allow_http)?;
        let token = self
            .token
            .clone()
            .ok_or_else(|| Error::invalid("the API token is missing"))?;
        let mut auth = auth_header(&token, "ApiToken")?;
        auth.set_sensitive(true);
        let mut bearer = auth_header(&token, "Bearer")?;
        bearer.set_sensitive(true);
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, auth);
        let plain_http = console.starts_with("http://");
        if plain_http && self.proxy.is_some() {
            return Err(Error::invalid(
                "a proxy was given for an http:// console: the proxy would read the API token in clear text; use an https:// console, or no proxy",
            ));
        }
        let mut console_http = self
            .http_builder()?
            .default_headers(headers)
            // The token never follows a redirect: a 3xx is an error.
            .redirect(reqwest::redirect::Policy::none());
        if plain_http {
            console_http = console_http.no_proxy();
        }
        let http = console_http
            .build()
            .map_err(|e| Error::invalid(format!("HTTP client: {e}")))?;
        let links = self
            .http_builder()?
            .redirect(reqwest::redirect::Policy::limited(LINK_REDIRECTS))
            .build()
            .map_err(|e| Error::invalid(format!("HTTP client: {e}")))?;

        let limits = self.limits();
        let transport = Arc::new(FacadeTransport {
            console: console.clone(),
            token_fingerprint: fingerprint(&token),
            quotas: self.quotas.unwrap_or_default(),
            store: self.store.unwrap_or_default(),
            retry: self.retry.unwrap_or_default(),
            listener: self.listener,
            request_listener: self.request_listener,
            limits,
            bearer,
        });
        let raw = sentinelone_generated::Client::new_with_client(
            &console,
            http.clone(),
            Inner::new(Arc::new(Hook(transport.clone()))),
        );
        Ok(Client {
            raw,
            http,
            links,
            download_listener: self.download_listener.clone(),
            _redacted: crate::redact::register(token.expose_secret()),
            token,
            transport,
            cleanup: Cleanup::default(),
        })
    }

    /// The limits the transport enforces.
    fn limits(&self) -> CallLimits {
        CallLimits {
            max_response_bytes: self
                .max_response_bytes
                .unwrap_or(DEFAULT_MAX_RESPONSE_BYTES),
            call_deadline: self.call_deadline.unwrap_or(DEFAULT_CALL_DEADLINE),
            request_timeout: self.timeout.unwrap_or(DEFAULT_TIMEOUT),
            download_timeout: self.download_timeout.unwrap_or(DEFAULT_DOWNLOAD_TIMEOUT),
        }
    }

    /// A reqwest builder with the timeouts, user agent, proxy and root
    /// certificates configured (no credentials).
    fn http_builder(&self) -> Result<reqwest::ClientBuilder, Error> {
        sentinelone_generated::install_crypto_provider();
        let mut http = reqwest::Client::builder()
            .connect_timeout(self.connect_timeout.unwrap_or(DEFAULT_CONNECT_TIMEOUT))
            .timeout(self.timeout.unwrap_or(DEFAULT_TIMEOUT))
            .read_timeout(self.read_idle_timeout.unwrap_or(DEFAULT_READ_IDLE_TIMEOUT))
            .user_agent(
                self.user_agent
                    .clone()
                    .unwrap_or_else(|| format!("sentinelone-rs/{}", env!("CARGO_PKG_VERSION"))),
            );
        if let Some(proxy) = &self.proxy {
            let proxy = reqwest::Proxy::all(proxy)
                .map_err(|e| Error::invalid(format!("proxy URL {proxy:?}: {e}")))?;
            http = http.proxy(proxy);
        }
        for pem in &self.root_certificates {
            for cert in root_certificates(pem)? {
                http = http.add_root_certificate(cert);
            }
        }
        Ok(http)
    }
}

/// The certificates of a PEM bundle: at least one, or an error saying why
/// not.
pub(crate) fn root_certificates(pem: &[u8]) -> Result<Vec<reqwest::Certificate>, Error> {
    let certs = reqwest::Certificate::from_pem_bundle(pem)
        .map_err(|e| Error::invalid(format!("root certificate: {e}")))?;
    if certs.is_empty() {
        return Err(Error::invalid(
            "root certificate: no PEM certificate found in the given bytes",
        ));
    }
    Ok(certs)
}

/// Checks a console URL: https (or http when allowed), a host, nothing
/// beyond the root. Returns `scheme://host[:port]`.
pub(crate) fn parse_console_url(url: Option<&str>, allow_http: bool) -> Result<String, Error> {
    let text = url
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .ok_or_else(|| Error::invalid("the console URL is missing"))?;
    let parsed = Url::parse(text)
        .map_err(|e| Error::invalid(format!("the console URL is not a URL: {e}")))?;
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(Error::invalid(
            "the console URL must not carry credentials; give the API token to api_token()",
        ));
    }
    // Messages below show the URL; it carries no credentials by now.
    let text = parsed.as_str();
    match parsed.scheme() {
        "https" => {}
        "http" if allow_http => {}
        "http" => {
            return Err(Error::invalid(format!(
                "console URL {text:?} is http://: the token would travel unencrypted (allow_http(true) for local tests only)"
            )));
        }
        other => {
            return Err(Error::invalid(format!(
                "console URL {text:?} has scheme {other:?}; expected https"
            )));
        }
    }
    let host = parsed
        .host_str()
        .ok_or_else(|| Error::invalid(format!("console URL {text:?} has no host")))?;
    if parsed.path() != "/" && !parsed.path().is_empty()
        || parsed.query().is_some()
        || parsed.fragment().is_some()
    {
        return Err(Error::invalid(format!(
            "console URL {text:?} must be the console root (no path, query or fragment), e.g. https://{host}"
        )));
    }
    Ok(match parsed.port() {
        Some(port) => format!("{}://{host}:{port}", parsed.scheme()),
        None => format!("{}://{host}", parsed.scheme()),
    })
}

/// True when `url` names a loopback host (127.0.0.0/8, ::1, localhost).
fn is_loopback(url: &str) -> bool {
    let Ok(parsed) = Url::parse(url.trim()) else {
        return false;
    };
    match parsed.host() {
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// `<scheme> <token>`: `ApiToken` for the management API, `Bearer` for
/// the paths below [`crate::SDL_PREFIX`].
fn auth_header(token: &SecretString, scheme: &str) -> Result<HeaderValue, Error> {
    let token = token.expose_secret();
    if token.is_empty() {
        return Err(Error::invalid("the API token is empty"));
    }
    // The message never includes the token itself.
    HeaderValue::from_str(&format!("{scheme} {token}")).map_err(|_| {
        Error::invalid("the API token contains characters that cannot be sent in a header")
    })
}

/// A stable fingerprint of the token, to key per-token quotas without
/// keeping the token anywhere else.
/// A truncated SHA-256: the same in every process and build, so processes
/// sharing a quota store agree on it.
fn fingerprint(token: &SecretString) -> u64 {
    use sha2::Digest;
    // Trimmed by the builder: the same token, however given, shares quotas.
    let digest = sha2::Sha256::digest(token.expose_secret().as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_only_on_loopback() {
        assert!(is_loopback("http://127.0.0.1:8080"));
        assert!(is_loopback("http://[::1]:1"));
        assert!(is_loopback("http://localhost"));
        assert!(!is_loopback("http://usea1.sentinelone.net"));
        assert!(!is_loopback("http://10.0.0.1"));
    }

    #[test]
    fn console_urls() {
        assert_eq!(
            parse_console_url(Some("https://a.sentinelone.net/"), false).unwrap(),
            "https://a.sentinelone.net"
        );
        assert_eq!(
            parse_console_url(Some("http://127.0.0.1:8080"), true).unwrap(),
            "http://127.0.0.1:8080"
        );
        for bad in [
            "http://a.example",
            "https://a.example/web/api/v2.1",
            "https://a.example/?x=1",
            "ftp://a.example",
            "not a url",
            "",
        ] {
            assert!(parse_console_url(Some(bad), false).is_err(), "{bad}");
        }
    }
}
