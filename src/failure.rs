//! The transport's own failures, typed.
//!
//! Progenitor's hook (`ClientHooks::exec`) and `reqwest` speak only
//! `reqwest::Result<Response>`, so what the transport decides itself (a
//! path it will not send, a deadline that would pass, a body over its cap,
//! an error answer it has read) travels as the source of a `reqwest::Error`:
//! a [`Failure`], found again in one place, [`crate::Error::transport`]
//! (which [`crate::Error::from_raw`] and the `From` conversion use).
//!
//! A failure knows its operation, so `?` on a generated call names it.

use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use futures_util::stream;

use crate::error::ApiErrorDetail;
use crate::limits::LimitError;

/// The operationId of a call, in the extensions of the success response
/// the transport hands back, so that an answer progenitor did not expect
/// (`Error::UnexpectedResponse`) converts into an error naming it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OperationName(pub(crate) &'static str);

/// A failure the transport decided, for `operation`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Failure {
    /// The operationId of the call.
    pub(crate) operation: String,
    /// What went wrong.
    pub(crate) kind: Kind,
}

/// What went wrong.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Kind {
    /// Nothing was sent: the request's path is not its operation's path
    /// template (see `crate::validate::request_path`).
    Refused {
        /// Why, naming the input.
        reason: String,
    },
    /// The next attempt or wait would end past the call deadline.
    Deadline {
        /// The deadline configured.
        deadline: Duration,
    },
    /// Reading the answer stopped at a limit.
    Limit(LimitError),
    /// The console answered a redirect; not followed.
    Redirected {
        /// The status.
        status: u16,
        /// `host[:port]` it pointed to (redacted), or a note.
        location: String,
    },
    /// The console answered an error status (after the retries allowed).
    Answered {
        /// The status.
        status: u16,
        /// Its Retry-After, when it sent one.
        retry_after: Option<Duration>,
        /// SentinelOne's error list, secrets redacted; for a body that is
        /// not one, the status's reason and the body's start.
        errors: Vec<ApiErrorDetail>,
    },
}

impl Failure {
    pub(crate) fn new(operation: &str, kind: Kind) -> Self {
        Failure {
            operation: operation.to_string(),
            kind,
        }
    }

    /// The failure carried somewhere in `error`'s source chain.
    pub(crate) fn find<'a>(error: &'a (dyn std::error::Error + 'static)) -> Option<&'a Failure> {
        let mut source = Some(error);
        while let Some(cause) = source {
            if let Some(failure) = cause.downcast_ref::<Failure>() {
                return Some(failure);
            }
            source = cause.source();
        }
        None
    }

    /// This failure as the `reqwest::Error` the hook must return. reqwest
    /// has no public constructor, so the error is the one reading a body
    /// whose only chunk is this failure gives.
    pub(crate) async fn into_reqwest(self) -> reqwest::Error {
        let chunks = stream::iter([Err::<Bytes, Failure>(self)]);
        let body = reqwest::Body::wrap_stream(chunks);
        reqwest::Response::from(http::Response::new(body))
            .bytes()
            .await
            .expect_err("a body whose only chunk is an error cannot be read whole")
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let op = &self.operation;
        match &self.kind {
            Kind::Refused { reason } => write!(f, "{op}: refused before sending: {reason}"),
            Kind::Deadline { deadline } => write!(
                f,
                "{op}: the call deadline ({:.1} s) would pass before the next attempt",
                deadline.as_secs_f64()
            ),
            Kind::Limit(limit) => write!(f, "{op}: {limit}"),
            Kind::Redirected { status, location } => {
                write!(f, "{op}: answered {status} redirecting to {location}")
            }
            Kind::Answered { status, .. } => write!(f, "{op}: answered HTTP {status}"),
        }
    }
}

impl std::error::Error for Failure {}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_failure_survives_the_trip_through_reqwest() {
        let failure = Failure::new(
            "op",
            Kind::Refused {
                reason: "path parameter id \"..\" is not allowed".into(),
            },
        );
        let error = failure.clone().into_reqwest().await;
        assert_eq!(Failure::find(&error), Some(&failure));
        let plain = std::io::Error::other("plain");
        assert_eq!(Failure::find(&plain), None);
    }
}
