//! What may be sent again, and why: the classification of one attempt's
//! outcome, apart from the loop that acts on it (`FacadeTransport::send`)
//! and the strategy that says how long to wait ([`crate::RetryPolicy`]).
//!
//! The rules:
//!
//! - a 429 is retried for any method, after the wait the console asked
//!   for (or the throttle backoff): it was refused, not acted on;
//! - a 5xx is retried for idempotent methods only: the console may have
//!   acted before failing;
//! - a connection that could not be made is retried for any method:
//!   nothing reached the server;
//! - a timeout, or a connection reset or closed before the answer's head,
//!   is retried for idempotent methods only: the server may have seen it;
//! - anything else (a success, a 4xx, a redirect, a failure of the
//!   transport's own making) is final.

use std::time::Duration;

use reqwest::{Method, StatusCode};

use crate::failure::Failure;

/// What the transport saw of one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// An answer with this status, and its Retry-After if any.
    Answered {
        status: StatusCode,
        retry_after: Option<Duration>,
    },
    /// No answer: how sending failed.
    Failed(Fault),
}

/// How sending failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fault {
    /// No connection was made: nothing reached the server.
    Connect,
    /// The request may have reached the server: a timeout, or the
    /// connection reset or closed before the answer's head.
    AfterSending,
    /// Anything else: a request that could not be built, a redirect
    /// refused, a failure of the transport's own making.
    Other,
}

impl Fault {
    /// The fault of a `reqwest` error.
    pub(crate) fn of(error: &reqwest::Error) -> Fault {
        if Failure::find(error).is_some() {
            Fault::Other
        } else if error.is_connect() {
            Fault::Connect
        } else if error.is_timeout() || error.is_request() {
            Fault::AfterSending
        } else {
            Fault::Other
        }
    }
}

/// Whether to send again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Retry {
    /// Final: the outcome is the call's.
    No(Final),
    /// Again, after the policy's backoff.
    AfterBackoff,
    /// Again, after the console's throttling: its Retry-After when it
    /// sent one, else the policy's throttle backoff.
    AfterThrottle(Option<Duration>),
}

/// Why an outcome is final.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Final {
    /// An answer that is not worth asking again (success, 4xx, 3xx).
    Answer,
    /// The console or the network failed, but the request may have been
    /// acted on and its method is not idempotent.
    NotIdempotent,
    /// A failure that sending again would not mend.
    Failure,
}

/// Whether a request may be sent again after the server may have seen it.
pub(crate) fn idempotent(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS
    )
}

/// Classifies the outcome of one attempt of a `method` request.
pub(crate) fn classify(method: &Method, outcome: Outcome) -> Retry {
    match outcome {
        Outcome::Answered {
            status: StatusCode::TOO_MANY_REQUESTS,
            retry_after,
        } => Retry::AfterThrottle(retry_after),
        Outcome::Answered { status, .. } if status.is_server_error() => {
            if idempotent(method) {
                Retry::AfterBackoff
            } else {
                Retry::No(Final::NotIdempotent)
            }
        }
        Outcome::Answered { .. } => Retry::No(Final::Answer),
        Outcome::Failed(Fault::Connect) => Retry::AfterBackoff,
        Outcome::Failed(Fault::AfterSending) if idempotent(method) => Retry::AfterBackoff,
        Outcome::Failed(Fault::AfterSending) => Retry::No(Final::NotIdempotent),
        Outcome::Failed(Fault::Other) => Retry::No(Final::Failure),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answered(status: u16, retry_after: Option<u64>) -> Outcome {
        Outcome::Answered {
            status: StatusCode::from_u16(status).unwrap(),
            retry_after: retry_after.map(Duration::from_secs),
        }
    }

    #[test]
    fn a_429_is_retried_for_every_method_with_its_retry_after() {
        for method in [Method::GET, Method::POST, Method::PATCH] {
            assert_eq!(
                classify(&method, answered(429, Some(7))),
                Retry::AfterThrottle(Some(Duration::from_secs(7)))
            );
            assert_eq!(
                classify(&method, answered(429, None)),
                Retry::AfterThrottle(None)
            );
        }
    }

    #[test]
    fn a_5xx_is_retried_for_idempotent_methods_only() {
        for method in [Method::GET, Method::HEAD, Method::PUT, Method::DELETE] {
            for status in [500, 502, 503, 504] {
                assert_eq!(
                    classify(&method, answered(status, None)),
                    Retry::AfterBackoff
                );
            }
        }
        for method in [Method::POST, Method::PATCH] {
            assert_eq!(
                classify(&method, answered(503, Some(1))),
                Retry::No(Final::NotIdempotent)
            );
        }
    }

    #[test]
    fn other_answers_are_final() {
        for status in [200, 204, 301, 302, 400, 401, 404, 409] {
            assert_eq!(
                classify(&Method::GET, answered(status, None)),
                Retry::No(Final::Answer),
                "{status}"
            );
        }
    }

    #[test]
    fn failures_are_retried_when_nothing_or_nothing_harmful_was_sent() {
        let failed = Outcome::Failed;
        assert_eq!(
            classify(&Method::POST, failed(Fault::Connect)),
            Retry::AfterBackoff
        );
        assert_eq!(
            classify(&Method::GET, failed(Fault::AfterSending)),
            Retry::AfterBackoff
        );
        assert_eq!(
            classify(&Method::POST, failed(Fault::AfterSending)),
            Retry::No(Final::NotIdempotent)
        );
        assert_eq!(
            classify(&Method::GET, failed(Fault::Other)),
            Retry::No(Final::Failure)
        );
    }

    #[tokio::test]
    async fn a_failure_of_the_transport_is_never_retried() {
        let failure = Failure::new(
            "op",
            crate::failure::Kind::Deadline {
                deadline: Duration::from_secs(1),
            },
        );
        assert_eq!(Fault::of(&failure.into_reqwest().await), Fault::Other);
    }
}
