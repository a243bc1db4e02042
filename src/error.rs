//! The one error type of the facade.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use reqwest::header::HeaderMap;
use sentinelone_generated::types::ApiError;

use crate::failure::{Failure, Kind, OperationName};
use crate::limits::LimitError;

/// Longest body excerpt a decode error carries.
const EXCERPT_LEN: usize = 300;

/// One entry of SentinelOne's error list.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ApiErrorDetail {
    /// SentinelOne's numeric error code (e.g. 4000010).
    pub code: Option<i64>,
    /// Short title ("Validation Error").
    pub title: Option<String>,
    /// Longer explanation.
    pub detail: Option<String>,
}

/// Everything that can go wrong. It never carries the API token.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The console answered with an error status.
    Api {
        /// HTTP status.
        status: u16,
        /// operationId of the call.
        operation: String,
        /// SentinelOne's error list (may be empty).
        errors: Vec<ApiErrorDetail>,
    },
    /// The console answered with a redirect (3xx). Requests carrying the
    /// token never follow redirects: the token, a request body or an action
    /// must not reach another host, nor be sent twice.
    Redirected {
        /// operationId of the call.
        operation: String,
        /// HTTP status (301, 302, 303, 307, 308, ...).
        status: u16,
        /// Where the redirect pointed: `host[:port]`, or a note when the
        /// answer named no usable location.
        location: String,
    },
    /// Still throttled (HTTP 429) after the retries allowed.
    RateLimited {
        /// operationId of the call.
        operation: String,
        /// What the console last asked us to wait, when it said.
        retry_after: Option<Duration>,
    },
    /// The request or a wait ran out of time.
    Timeout {
        /// operationId of the call.
        operation: String,
    },
    /// Connecting, sending or reading failed.
    Transport {
        /// operationId of the call.
        operation: String,
        /// The underlying failure.
        source: reqwest::Error,
    },
    /// A response body did not match its type.
    Decode {
        /// operationId of the call.
        operation: String,
        /// The start of the body.
        excerpt: String,
        /// What did not match.
        message: String,
    },
    /// One item of a list did not decode as its type, even leniently. The
    /// rest of the list decoded; a stream of items goes on after this
    /// error. The item, as the console sent it, and the path that failed
    /// are in `item`.
    Undecoded {
        /// operationId of the call.
        operation: String,
        /// The raw item, where and why decoding failed.
        item: Box<sentinelone_generated::Undecoded>,
    },
    /// An answer was larger than the client reads into memory
    /// ([`crate::ClientBuilder::max_response_bytes`]); reading stopped at
    /// the cap.
    ResponseTooLarge {
        /// operationId of the call.
        operation: String,
        /// The cap, in bytes.
        limit: u64,
    },
    /// Input was refused before anything was sent.
    InvalidInput {
        /// What was wrong, naming the input.
        message: String,
    },
    /// A job the console runs (a Deep Visibility or Power Query, a remote
    /// script task) ended in a state that gives no result.
    JobFailed {
        /// What the job is (`Deep Visibility query q-123`).
        job: String,
        /// The state the console reported (`FAILED`, `QUERY_EXPIRED`, ...).
        state: String,
        /// The console's explanation, when it gave one.
        detail: Option<String>,
    },
    /// A composite command gave up waiting (for a query to finish, a file
    /// to be uploaded). Whatever could be cancelled was cancelled first.
    WaitTimeout {
        /// What was awaited.
        waiting_for: String,
        /// How long it waited.
        after: Duration,
    },
    /// A Long Running Query is gone: the console answered 404 for it (it
    /// expires about 30 s after its last poll, and an unknown or deleted
    /// id reads the same). Other 404s are [`Error::Api`].
    QueryExpired {
        /// The query's id.
        query_id: String,
    },
    /// A LOG query's time slice held as many events as asked for even at
    /// the shortest slice, and the console's cursor could not continue it:
    /// the console may hold more events in `range` than were read. A
    /// stream of events goes on after this error.
    SliceCapped {
        /// The slice, as sent.
        range: crate::lrq::TimeRange,
    },
    /// Reading or writing a local file failed; nothing partial is left.
    Io {
        /// The file or directory concerned.
        path: PathBuf,
        /// The failure.
        source: std::io::Error,
    },
    /// A downloaded archive could not be opened or extracted safely.
    Archive {
        /// The archive.
        path: PathBuf,
        /// What was wrong (wrong password, an entry escaping the target).
        message: String,
    },
}

impl Error {
    /// An [`Error::InvalidInput`].
    pub fn invalid(message: impl Into<String>) -> Self {
        Error::InvalidInput {
            message: message.into(),
        }
    }

    /// An [`Error::Io`] about `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// The operationId the error concerns, when it concerns one.
    pub fn operation(&self) -> Option<&str> {
        match self {
            Error::Api { operation, .. }
            | Error::Redirected { operation, .. }
            | Error::RateLimited { operation, .. }
            | Error::Timeout { operation }
            | Error::Transport { operation, .. }
            | Error::Decode { operation, .. }
            | Error::Undecoded { operation, .. }
            | Error::ResponseTooLarge { operation, .. } => Some(operation),
            _ => None,
        }
    }

    /// The HTTP status, for errors the console answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api { status, .. } | Error::Redirected { status, .. } => Some(*status),
            Error::RateLimited { .. } => Some(429),
            _ => None,
        }
    }

    /// An [`Error::Decode`] for a `body` of `operation` that did not match
    /// (`message` says how). The excerpt and the message are console text:
    /// both have the API token and any archive password in flight redacted.
    ///
    /// ```
    /// let err = sentinelone::Error::decode("get_system_info", b"<html>", "expected JSON");
    /// assert_eq!(
    ///     err.to_string(),
    ///     "get_system_info: unexpected response body (expected JSON); body starts: <html>"
    /// );
    /// ```
    pub fn decode(operation: &str, body: &[u8], message: impl fmt::Display) -> Self {
        Error::Decode {
            operation: operation.to_string(),
            excerpt: excerpt(body),
            message: crate::redact::redact(&message.to_string()).into_owned(),
        }
    }

    /// The typed items of a list answer of `operation`, or
    /// [`Error::Undecoded`] for the first item that did not decode.
    ///
    /// ```
    /// use sentinelone::raw::{Decoded, types};
    ///
    /// let page: types::AgentViewListResponse =
    ///     serde_json::from_str(r#"{"data": [{"id": "1"}, {"id": {"x": 1}}]}"#).unwrap();
    /// let err = sentinelone::Error::typed_items("list_agents", page.data.unwrap()).unwrap_err();
    /// assert!(err.to_string().starts_with("list_agents: AgentViewListResponseDataItem did not decode at data[1].id"));
    /// ```
    pub fn typed_items<T>(
        operation: &str,
        items: impl IntoIterator<Item = sentinelone_generated::Decoded<T>>,
    ) -> Result<Vec<T>, Error> {
        items
            .into_iter()
            .map(|item| {
                item.into_typed()
                    .map_err(|raw| Error::undecoded(operation, raw))
            })
            .collect()
    }

    /// An [`Error::Undecoded`] of `operation` for `item`.
    pub fn undecoded(operation: &str, item: Box<sentinelone_generated::Undecoded>) -> Self {
        Error::Undecoded {
            operation: operation.to_string(),
            item,
        }
    }

    /// An [`Error::Timeout`] of `operation`.
    pub fn timeout(operation: &str) -> Self {
        Error::Timeout {
            operation: operation.to_string(),
        }
    }

    /// An [`Error::Api`]: `operation` answered `status` with `errors`
    /// (console text: redact it first, as [`Error::from_raw`] does).
    pub fn api(operation: &str, status: u16, errors: Vec<ApiErrorDetail>) -> Self {
        Error::Api {
            status,
            operation: operation.to_string(),
            errors,
        }
    }

    /// The error for a `reqwest` error of `operation`: connecting, sending,
    /// or reading an answer's body (of a response from
    /// [`crate::Client::execute`] or a generated operation) failed. What the
    /// client's transport decided travels inside it and comes back as
    /// itself (the request refused, the call deadline, the body cap, an
    /// error answer, a redirect); a timeout is an [`Error::Timeout`];
    /// anything else an [`Error::Transport`].
    pub fn transport(operation: &str, error: reqwest::Error) -> Self {
        if let Some(failure) = Failure::find(&error) {
            return Error::from_failure(operation, failure);
        }
        if error.is_timeout() {
            return Error::timeout(operation);
        }
        Error::Transport {
            operation: operation.to_string(),
            source: error.without_url(),
        }
    }

    /// The error a failure of the transport stands for.
    fn from_failure(operation: &str, failure: &Failure) -> Self {
        match &failure.kind {
            Kind::Refused { reason } => Error::invalid(reason.clone()),
            Kind::Deadline { .. } => Error::timeout(operation),
            Kind::Limit(LimitError::TooLarge { cap }) => Error::ResponseTooLarge {
                operation: operation.to_string(),
                limit: *cap,
            },
            Kind::Limit(limit @ LimitError::TooManyItems { .. }) => {
                Error::decode(operation, b"", limit)
            }
            Kind::Redirected { status, location } => Error::Redirected {
                operation: operation.to_string(),
                status: *status,
                location: location.clone(),
            },
            Kind::Answered {
                status: 429,
                retry_after,
                ..
            } => Error::RateLimited {
                operation: operation.to_string(),
                retry_after: *retry_after,
            },
            Kind::Answered { status, errors, .. } => Error::api(operation, *status, errors.clone()),
        }
    }

    /// Converts a raw client error of `operation`.
    pub fn from_raw(operation: &str, error: progenitor_client::Error<ApiError>) -> Self {
        use progenitor_client::Error as Raw;
        match error {
            // Through the client's transport, error answers and redirects
            // arrive as failures (below); these come from a raw client with
            // another transport.
            Raw::ErrorResponse(value) => {
                let status = value.status().as_u16();
                let headers = value.headers().clone();
                answered(
                    operation,
                    status,
                    &headers,
                    None,
                    details(value.into_inner()),
                )
            }
            Raw::UnexpectedResponse(response) => answered(
                operation,
                response.status().as_u16(),
                response.headers(),
                Some(response.url()),
                Vec::new(),
            ),
            Raw::InvalidResponsePayload(bytes, e) => Error::decode(operation, &bytes, e),
            Raw::CommunicationError(e) | Raw::ResponseBodyError(e) | Raw::InvalidUpgrade(e) => {
                Error::transport(operation, e)
            }
            Raw::InvalidRequest(message) | Raw::Custom(message) => Error::InvalidInput {
                message: format!("{operation}: {message}"),
            },
        }
    }
}

/// The HTTP status of a raw client error, without converting it: the
/// answer progenitor decoded, or the one the client's transport read (an
/// error answer or a redirect reaches progenitor as a failure, not as a
/// response).
pub(crate) fn raw_status(error: &progenitor_client::Error<ApiError>) -> Option<u16> {
    use progenitor_client::Error as Raw;
    let answered = match error {
        Raw::CommunicationError(e) | Raw::ResponseBodyError(e) | Raw::InvalidUpgrade(e) => {
            Failure::find(e).map(|f| &f.kind)
        }
        _ => None,
    };
    if let Some(Kind::Answered { status, .. } | Kind::Redirected { status, .. }) = answered {
        return Some(*status);
    }
    error.status().map(|s| s.as_u16())
}

/// The error for a console answer of `operation` that is not a success
/// and did not come through the client's transport (a raw client's, a
/// download link's): a redirect, still throttled, or the console's error
/// list. `url` is the answer's, to resolve a relative redirect.
pub(crate) fn answered(
    operation: &str,
    status: u16,
    headers: &HeaderMap,
    url: Option<&url::Url>,
    errors: Vec<ApiErrorDetail>,
) -> Error {
    match status {
        300..=399 => Error::Redirected {
            operation: operation.to_string(),
            status,
            location: match url {
                Some(url) => redirect_target(headers, url),
                None => "an unreadable location".to_string(),
            },
        },
        429 => Error::RateLimited {
            operation: operation.to_string(),
            retry_after: crate::transport::retry_after(headers),
        },
        _ => Error::api(operation, status, errors),
    }
}

/// `host[:port]` of a redirect's Location (resolved against `url`, the
/// answer's), secrets redacted; a note when there is none.
pub(crate) fn redirect_target(headers: &HeaderMap, url: &url::Url) -> String {
    let Some(location) = headers.get(reqwest::header::LOCATION) else {
        return "no location".to_string();
    };
    let target = location.to_str().ok().and_then(|l| url.join(l).ok());
    let Some(target) = target else {
        return "an unreadable location".to_string();
    };
    let host = target.host_str().unwrap_or("no host");
    let shown = match target.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    };
    crate::redact::redact(&shown).into_owned()
}

/// The details of an error answer with `status` and `body`, parsed once:
/// SentinelOne's error list when the body is one, else the status's reason
/// with the body's start (a gateway's HTML page, an empty 503). Secrets
/// redacted.
pub(crate) fn error_list(status: reqwest::StatusCode, body: &[u8]) -> Vec<ApiErrorDetail> {
    match serde_json::from_slice::<ApiError>(body) {
        Ok(list) => details(list),
        Err(_) => vec![ApiErrorDetail {
            code: None,
            title: Some(
                status
                    .canonical_reason()
                    .unwrap_or("HTTP error")
                    .to_string(),
            ),
            detail: Some(excerpt(body)),
        }],
    }
}

/// The console's error list, secrets redacted.
fn details(body: ApiError) -> Vec<ApiErrorDetail> {
    let clean = |text: Option<String>| text.map(|t| crate::redact::redact(&t).into_owned());
    body.errors
        .unwrap_or_default()
        .into_iter()
        .map(|e| ApiErrorDetail {
            code: e.code,
            title: clean(e.title),
            detail: clean(e.detail),
        })
        .collect()
}

/// The first characters of a body, for error messages, secrets redacted.
pub fn excerpt(bytes: &[u8]) -> String {
    let text = crate::redact::redact_lossy(bytes);
    let mut cut: String = text.chars().take(EXCERPT_LEN).collect();
    if text.chars().count() > EXCERPT_LEN {
        cut.push('…');
    }
    cut
}

impl From<progenitor_client::Error<ApiError>> for Error {
    /// Converts a raw client error, naming the operation when the client's
    /// transport handled it: a failure it carries knows it, and so does an
    /// answer it passed on (named in the response's extensions). `unknown` otherwise (a connection that failed, a body
    /// that did not decode: `.call()` names those).
    fn from(error: progenitor_client::Error<ApiError>) -> Self {
        use progenitor_client::Error as Raw;
        let operation = match &error {
            Raw::UnexpectedResponse(r) => r
                .extensions()
                .get::<OperationName>()
                .map(|name| name.0.to_string()),
            Raw::CommunicationError(e) | Raw::ResponseBodyError(e) | Raw::InvalidUpgrade(e) => {
                Failure::find(e).map(|f| f.operation.clone())
            }
            _ => None,
        };
        Error::from_raw(operation.as_deref().unwrap_or("unknown"), error)
    }
}

impl fmt::Display for Error {
    /// The message, with any secret still registered redacted (the console
    /// text in it was redacted when the error was made).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut text = String::new();
        self.render(&mut text)?;
        f.write_str(&crate::redact::redact(&text))
    }
}

impl Error {
    fn render(&self, f: &mut impl fmt::Write) -> fmt::Result {
        match self {
            Error::Api {
                status,
                operation,
                errors,
            } => {
                write!(f, "{operation}: SentinelOne answered HTTP {status}")?;
                for e in errors {
                    write!(f, "; ")?;
                    if let Some(code) = e.code {
                        write!(f, "[{code}] ")?;
                    }
                    write!(f, "{}", e.title.as_deref().unwrap_or("error"))?;
                    if let Some(detail) = &e.detail {
                        write!(f, ": {detail}")?;
                    }
                }
                Ok(())
            }
            Error::Redirected {
                operation,
                status,
                location,
            } => write!(
                f,
                "{operation}: the console answered {status} redirecting to {location}; redirects are not followed"
            ),
            Error::RateLimited {
                operation,
                retry_after,
            } => match retry_after {
                Some(d) => write!(
                    f,
                    "{operation}: still rate limited after retries (console asked to wait {} s)",
                    d.as_secs()
                ),
                None => write!(f, "{operation}: still rate limited after retries"),
            },
            Error::Timeout { operation } => write!(f, "{operation}: timed out"),
            Error::Transport { operation, source } => {
                write!(f, "{operation}: {}", with_causes(source))
            }
            Error::Decode {
                operation,
                excerpt,
                message,
            } if excerpt.is_empty() => {
                write!(f, "{operation}: unexpected response body ({message})")
            }
            Error::Decode {
                operation,
                excerpt,
                message,
            } => write!(
                f,
                "{operation}: unexpected response body ({message}); body starts: {excerpt}"
            ),
            Error::Undecoded { operation, item } => write!(
                f,
                "{operation}: {}",
                crate::redact::redact(&item.to_string())
            ),
            Error::ResponseTooLarge { operation, limit } => write!(
                f,
                "{operation}: the answer is larger than the {} cap; reading stopped there (raise it with max_response_bytes)",
                crate::limits::bytes_text(*limit)
            ),
            Error::InvalidInput { message } => write!(f, "invalid input: {message}"),
            Error::JobFailed { job, state, detail } => {
                write!(f, "{job} ended in state {state}")?;
                match detail {
                    Some(detail) => write!(f, ": {detail}"),
                    None => Ok(()),
                }
            }
            Error::WaitTimeout { waiting_for, after } => write!(
                f,
                "gave up waiting for {waiting_for} after {:.0} s",
                after.as_secs_f64()
            ),
            Error::SliceCapped { range } => write!(
                f,
                "the LOG slice {} .. {} came back full even at the shortest slice; the console may hold more events in it",
                range.start, range.end
            ),
            Error::QueryExpired { query_id } => write!(
                f,
                "query expired: the console no longer knows Long Running Query {query_id} (not polled for 30 s, deleted, or unknown)"
            ),
            Error::Io { path, source } => write!(f, "{}: {source}", path.display()),
            Error::Archive { path, message } => write!(f, "{}: {message}", path.display()),
        }
    }
}

/// `error` and the causes below it (`error sending request: client error
/// (Connect): tcp connect error: Connection refused (os error 111)`),
/// leaving out a cause whose text is already shown.
fn with_causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(current) = cause {
        let more = current.to_string();
        if !more.is_empty() && !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        cause = current.source();
    }
    text
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Transport { source, .. } => Some(source),
            Error::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_body_is_read_as_the_list_or_as_its_start() {
        let _token = crate::redact::register("unit-error-secret");
        let list = error_list(
            reqwest::StatusCode::BAD_REQUEST,
            br#"{"errors":[{"code":4000010,"title":"Bad","detail":"echo unit-error-secret"}]}"#,
        );
        assert_eq!(
            list,
            vec![ApiErrorDetail {
                code: Some(4000010),
                title: Some("Bad".into()),
                detail: Some("echo [redacted]".into()),
            }]
        );
        let html = error_list(
            reqwest::StatusCode::BAD_GATEWAY,
            b"<html>unit-error-secret</html>",
        );
        assert_eq!(
            html,
            vec![ApiErrorDetail {
                code: None,
                title: Some("Bad Gateway".into()),
                detail: Some("<html>[redacted]</html>".into()),
            }]
        );
    }

    #[tokio::test]
    async fn every_failure_becomes_its_error_and_keeps_its_status() {
        let answered = |status, retry_after| Kind::Answered {
            status,
            retry_after,
            errors: Vec::new(),
        };
        let cases = [
            (
                Kind::Refused {
                    reason: "op: no".into(),
                },
                "invalid input: op: no",
                None,
            ),
            (
                Kind::Deadline {
                    deadline: Duration::from_secs(1),
                },
                "op: timed out",
                None,
            ),
            (
                Kind::Redirected {
                    status: 307,
                    location: "elsewhere.example".into(),
                },
                "op: the console answered 307 redirecting to elsewhere.example; redirects are not followed",
                Some(307),
            ),
            (
                answered(429, Some(Duration::from_secs(9))),
                "op: still rate limited after retries (console asked to wait 9 s)",
                Some(429),
            ),
            (
                answered(503, None),
                "op: SentinelOne answered HTTP 503",
                Some(503),
            ),
        ];
        for (kind, text, status) in cases {
            let reqwest_error = Failure::new("op", kind).into_reqwest().await;
            let raw = progenitor_client::Error::<ApiError>::CommunicationError(reqwest_error);
            assert_eq!(raw_status(&raw), status, "{text}");
            let error = Error::from(raw);
            assert_eq!(error.to_string(), text);
            assert_eq!(error.status(), status, "{text}");
        }
    }
}
