//! The one error type of the facade.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use sentinelone_generated::types::ApiError;

/// Header the transport adds to every response, naming its operation, so
/// errors converted from the raw client can say which call failed.
pub const OPERATION_HEADER: &str = "x-sentinelone-operation";

/// Header the transport adds to a redirect (3xx) answer, naming where it
/// pointed (`host[:port]`, secrets redacted); the redirect is not followed.
pub(crate) const REDIRECT_HEADER: &str = "x-sentinelone-redirect";

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

    /// Converts a raw client error of `operation`.
    pub fn from_raw(operation: &str, error: progenitor_client::Error<ApiError>) -> Self {
        use progenitor_client::Error as Raw;
        let operation = operation.to_string();
        match error {
            Raw::ErrorResponse(value) => {
                let status = value.status().as_u16();
                let headers = value.headers().clone();
                answered(operation, status, &headers, details(value.into_inner()))
            }
            Raw::UnexpectedResponse(response) => answered(
                operation,
                response.status().as_u16(),
                response.headers(),
                Vec::new(),
            ),
            Raw::InvalidResponsePayload(bytes, e) => Error::decode(&operation, &bytes, e),
            Raw::CommunicationError(e) | Raw::ResponseBodyError(e) | Raw::InvalidUpgrade(e) => {
                if let Some(limit) = crate::limits::limit_error(&e) {
                    from_limit(operation, limit)
                } else if e.is_timeout() {
                    Error::Timeout { operation }
                } else {
                    Error::Transport {
                        operation,
                        source: e.without_url(),
                    }
                }
            }
            Raw::InvalidRequest(message) | Raw::Custom(message) => Error::InvalidInput {
                message: format!("{operation}: {message}"),
            },
        }
    }
}

/// The error for an answer of `operation` that ran into `limit`.
fn from_limit(operation: String, limit: &crate::limits::LimitError) -> Error {
    match limit {
        crate::limits::LimitError::TooLarge { cap } => Error::ResponseTooLarge {
            operation,
            limit: *cap,
        },
        crate::limits::LimitError::TooManyItems { .. } => Error::decode(&operation, b"", limit),
    }
}

/// The error for a non-success `response` of `operation` sent by hand
/// (through `Client::execute`): its status and SentinelOne's error list
/// when the body carries one.
pub(crate) async fn from_error_response(operation: &str, response: reqwest::Response) -> Error {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let errors = match response.bytes().await {
        Ok(bytes) => serde_json::from_slice::<ApiError>(&bytes)
            .map(details)
            .unwrap_or_default(),
        Err(_) => Vec::new(),
    };
    answered(operation.to_string(), status, &headers, errors)
}

/// The error for a console answer that is not a success: a refused
/// redirect, still throttled, or the console's error list; or the request
/// the transport refused to send (see `crate::refusal`).
fn answered(
    operation: String,
    status: u16,
    headers: &reqwest::header::HeaderMap,
    errors: Vec<ApiErrorDetail>,
) -> Error {
    if let Some(refused) = crate::refusal::error(headers) {
        return refused;
    }
    match status {
        300..=399 => Error::Redirected {
            operation,
            status,
            location: headers
                .get(REDIRECT_HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("no location")
                .to_string(),
        },
        429 => Error::RateLimited {
            operation,
            retry_after: crate::transport::retry_after(headers),
        },
        _ => Error::Api {
            status,
            operation,
            errors,
        },
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
    /// Converts a raw client error; the operation comes from the header the
    /// transport sets on responses (`unknown` when there was no response).
    fn from(error: progenitor_client::Error<ApiError>) -> Self {
        let operation = match &error {
            progenitor_client::Error::ErrorResponse(v) => operation_of(v.headers()),
            progenitor_client::Error::UnexpectedResponse(r) => operation_of(r.headers()),
            _ => None,
        };
        Error::from_raw(operation.as_deref().unwrap_or("unknown"), error)
    }
}

fn operation_of(headers: &reqwest::header::HeaderMap) -> Option<String> {
    headers
        .get(OPERATION_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
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
