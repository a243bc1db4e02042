//! The one transport every request goes through: quotas, 429 handling and
//! retries, for generated operations and hand-written requests alike.
//!
//! Progenitor's hook hands it each request with the operation's
//! `OperationInfo`. It refuses a request whose path moved or whose values
//! break the limits its operation declares ([`crate::constraints`]), then
//! loops: wait for the quota slot, send, classify the outcome
//! ([`crate::retry`]), wait (throttle or backoff, within the call deadline)
//! or stop. A success goes
//! back untouched but for its operation's name in the response's
//! extensions; anything else goes back as a `reqwest::Error` carrying a
//! typed [`Failure`] (an error answer's body is read and parsed here, once,
//! and not passed on), turned into [`crate::Error`] in one place.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use progenitor_client::OperationInfo;
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue, RETRY_AFTER};
use reqwest::{Request, Response};
use sentinelone_generated::{Transport, TransportFuture};
use tokio::time::Instant;
use tracing::Instrument;
use tracing::field::Empty;

use crate::failure::{Failure, Kind, OperationName};
use crate::limits::{self, Answer, CallLimits};
use crate::metrics::{RequestListener, RequestOutcome, RequestRecord};
use crate::quota::{Key, Quotas};
use crate::quota_store::QuotaStore;
use crate::retry::{self, Fault, Outcome, Retry};
use crate::wait::{WaitEvent, WaitListener, WaitReason};

/// How persistent the transport is.
///
/// A request is sent at most `max_attempts` times, and never past the
/// client's call deadline ([`crate::ClientBuilder::call_deadline`]): a
/// wait that would end after it fails the call as a timeout instead.
///
/// - After a connection failure, a timeout or a 5xx (idempotent requests
///   only, but for connection failures), the wait is [`RetryPolicy::backoff`]:
///   `base_delay` doubling per retry, capped at `max_delay`.
/// - After a 429, the wait is the Retry-After the console sent (at most
///   `max_retry_after`). Without one, it is [`RetryPolicy::throttle_backoff`]:
///   `throttle_base_delay` (1 s) doubling per 429 (1 s, 2 s, 4 s ...),
///   capped at `max_delay`, and never shorter than the endpoint's quota
///   period.
///
/// Both backoffs use "equal jitter": a wait of `d` is drawn between `d/2`
/// and `d`, so clients throttled together spread out without retrying
/// early.
///
/// ```
/// use std::time::Duration;
/// use sentinelone::RetryPolicy;
///
/// let policy = RetryPolicy::default();
/// assert_eq!(policy.throttle_base_delay, Duration::from_secs(1));
/// let third = policy.throttle_backoff(3);
/// assert!(third >= Duration::from_secs(2) && third <= Duration::from_secs(4));
/// ```
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts per request, the first included.
    pub max_attempts: u32,
    /// First backoff delay after a failure; doubles each retry.
    pub base_delay: Duration,
    /// Longest backoff delay (after a failure or a 429).
    pub max_delay: Duration,
    /// Longest wait honoured from a Retry-After header.
    pub max_retry_after: Duration,
    /// First wait after a 429 that says nothing of when to come back;
    /// doubles with each 429 of the call.
    pub throttle_base_delay: Duration,
}

impl Default for RetryPolicy {
    /// 4 attempts; failures back off from 500 ms, 429s from 1 s, both up
    /// to 30 s; a Retry-After is honoured up to 5 minutes.
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(300),
            throttle_base_delay: Duration::from_secs(1),
        }
    }
}

impl RetryPolicy {
    /// The wait before retry number `retry` (1-based) after a failure:
    /// `base_delay` doubling, capped at `max_delay`, with equal jitter.
    pub fn backoff(&self, retry: u32) -> Duration {
        jittered(self.base_delay, retry, self.max_delay)
    }

    /// The wait after the `throttled`-th 429 (1-based) of a call that came
    /// without Retry-After: `throttle_base_delay` doubling, capped at
    /// `max_delay`, with equal jitter.
    pub fn throttle_backoff(&self, throttled: u32) -> Duration {
        jittered(self.throttle_base_delay, throttled, self.max_delay)
    }
}

/// `base` doubled `retry - 1` times, capped at `max`, then drawn between
/// half of it and all of it.
fn jittered(base: Duration, retry: u32, max: Duration) -> Duration {
    let exp = base.saturating_mul(1u32 << retry.saturating_sub(1).min(16));
    let cap = exp.min(max);
    cap.mul_f64(0.5 + fastrand::f64() * 0.5)
}

/// The wait a 429 asks for: its Retry-After (seconds or HTTP date).
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(
        date.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// What the transport shares between clones of a client.
pub(crate) struct FacadeTransport {
    pub(crate) console: String,
    pub(crate) token_fingerprint: u64,
    pub(crate) quotas: Quotas,
    pub(crate) store: QuotaStore,
    pub(crate) retry: RetryPolicy,
    pub(crate) listener: Option<WaitListener>,
    pub(crate) request_listener: Option<RequestListener>,
    pub(crate) limits: CallLimits,
    /// `Bearer <token>` (marked sensitive), for the paths that take it
    /// ([`crate::uses_bearer`]); every other request carries the client's
    /// default `ApiToken <token>`.
    pub(crate) bearer: HeaderValue,
}

/// What one call has taken so far: for its span and its
/// [`RequestRecord`].
#[derive(Default)]
struct Tally {
    attempts: u32,
    throttled: u32,
    waited: Duration,
    status: Option<u16>,
}

impl FacadeTransport {
    async fn wait(&self, until: Instant, event: WaitEvent, tally: &mut Tally) {
        let now = Instant::now();
        if until <= now {
            return;
        }
        tracing::info!(
            target: "sentinelone::transport",
            endpoint = %event.endpoint,
            wait_ms = event.wait.as_millis() as u64,
            reason = ?event.reason,
            "{event}"
        );
        if let Some(listener) = &self.listener {
            listener(&event);
        }
        tally.waited = tally.waited.saturating_add(until - now);
        tokio::time::sleep_until(until).await;
    }

    /// Sends `request` for `operation`, within quota, retrying what is
    /// safe (see [`crate::retry`]), all before the call deadline; the
    /// answer's body is read through the limits `answer` calls for.
    ///
    /// A success comes back as it came, its operation in its extensions
    /// ([`OperationName`]). Anything else is an error: `reqwest`'s own, or
    /// one carrying a [`Failure`] (the request refused, the deadline, a
    /// redirect, an error answer read once into SentinelOne's error list).
    ///
    /// The call runs in a `request` span (operation, method, path
    /// template; then attempts, status, elapsed and waited times) and ends
    /// with one event and one [`RequestRecord`] for the request listener.
    pub(crate) async fn send(
        &self,
        client: &reqwest::Client,
        request: Request,
        operation: &'static str,
        answer: Answer,
    ) -> reqwest::Result<Response> {
        let method = request.method().clone();
        let template = sentinelone_generated::answer(operation).map(|op| op.path);
        let path = template.map_or_else(|| request.url().path().to_string(), str::to_string);
        let span = tracing::info_span!(
            target: "sentinelone::transport",
            "request",
            operation,
            method = %method,
            path = %path,
            attempts = Empty,
            status = Empty,
            elapsed_ms = Empty,
            waited_ms = Empty,
        );
        let started = Instant::now();
        let mut tally = Tally::default();
        let result = self
            .attempts(client, request, operation, template, answer, &mut tally)
            .instrument(span.clone())
            .await;
        let record = RequestRecord {
            operation,
            method,
            path,
            status: tally.status,
            attempts: tally.attempts,
            throttled: tally.throttled,
            waited: tally.waited,
            elapsed: started.elapsed(),
            outcome: outcome_of(&result),
        };
        span.in_scope(|| trace_end(&span, &record));
        if let Some(listener) = &self.request_listener {
            listener(&record);
        }
        match result {
            Ok(response) => Ok(response),
            Err(Stop::Sent(error)) => Err(error),
            Err(Stop::Failed(kind)) => Err(Failure::new(operation, kind).into_reqwest().await),
        }
    }

    /// The retry loop: quota wait, send, classify, wait or return.
    async fn attempts(
        &self,
        client: &reqwest::Client,
        request: Request,
        operation: &'static str,
        template: Option<&'static str>,
        answer: Answer,
        tally: &mut Tally,
    ) -> Result<Response, Stop> {
        let checked = crate::validate::request_path(operation, request.url())
            .and_then(|()| crate::constraints::check_request(operation, &request));
        if let Err(refusal) = checked {
            tracing::warn!(operation, "request refused before sending: {refusal}");
            let reason = match refusal {
                crate::Error::InvalidInput { message } => message,
                other => other.to_string(),
            };
            return Err(Stop::Failed(Kind::Refused { reason }));
        }
        let mut request = request;
        // The one place that picks the Authorization scheme: by path.
        if crate::uses_bearer(request.url().path()) {
            request
                .headers_mut()
                .insert(AUTHORIZATION, self.bearer.clone());
        }
        let deadline = limits::later(Instant::now(), self.limits.call_deadline);
        let method = request.method().clone();
        let path = request.url().path().to_string();
        let max_items = limits::page_limit(&request, operation);
        let rule = self.quotas.rule_for(method.as_str(), &path, template);
        let key = rule
            .as_ref()
            .map(|r| Key::new(r, &self.console, self.token_fingerprint));
        let endpoint = rule
            .as_ref()
            .map(|r| r.label.clone())
            .unwrap_or_else(|| crate::quota::endpoint_label(&path));
        let mut pending = Some(request);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut current = pending.take().expect("a request for every attempt");
            // Keep a copy for a retry; streamed bodies cannot be copied and
            // are sent once.
            let spare = if attempt < self.retry.max_attempts {
                current.try_clone()
            } else {
                None
            };
            if let (Some(rule), Some(key)) = (&rule, &key) {
                let slot = self.store.reserve(key, rule).await.map_err(|e| {
                    Stop::Failed(Kind::Refused {
                        reason: e.to_string(),
                    })
                })?;
                let event = WaitEvent {
                    operation,
                    endpoint: endpoint.clone(),
                    wait: slot.saturating_duration_since(Instant::now()),
                    reason: WaitReason::Quota,
                };
                self.wait_within(deadline, slot, event, tally).await?;
            }
            self.limits.bound_attempt(&mut current, deadline, answer);
            tally.attempts = attempt;
            tracing::debug!(target: "sentinelone::transport", attempt, "sending");
            let outcome = client
                .execute(current)
                .await
                .map(|r| self.limits.bound_body(r, answer, max_items, operation));
            let seen = match &outcome {
                Ok(response) => Outcome::Answered {
                    status: response.status(),
                    retry_after: retry_after(response.headers()),
                },
                Err(error) => Outcome::Failed(Fault::of(error)),
            };
            tally.status = outcome.as_ref().ok().map(|r| r.status().as_u16());
            // A 429 closes the allowance for every task and process sharing
            // the store, whether or not this call tries again.
            let mut throttle = None;
            if let Outcome::Answered {
                status,
                retry_after,
            } = &seen
                && *status == reqwest::StatusCode::TOO_MANY_REQUESTS
            {
                tally.throttled += 1;
                let wait = self.throttle_wait(*retry_after, rule.as_ref(), tally.throttled);
                if let (Some(key), Some(rule)) = (&key, &rule) {
                    self.store.block(key, rule, wait).await.map_err(|e| {
                        Stop::Failed(Kind::Refused {
                            reason: e.to_string(),
                        })
                    })?;
                }
                throttle = Some(wait);
            }
            let verdict = retry::classify(&method, seen);
            match (verdict, spare) {
                (Retry::AfterThrottle(_), Some(spare)) => {
                    let wait = throttle.unwrap_or_default();
                    tracing::info!(
                        target: "sentinelone::transport",
                        attempt,
                        status = 429,
                        wait_ms = wait.as_millis() as u64,
                        "the console answered 429 Too Many Requests; retrying"
                    );
                    let until = limits::later(Instant::now(), wait);
                    let event = WaitEvent {
                        operation,
                        endpoint: endpoint.clone(),
                        wait,
                        reason: WaitReason::Throttled,
                    };
                    self.wait_within(deadline, until, event, tally).await?;
                    pending = Some(spare);
                }
                (Retry::AfterBackoff, Some(spare)) => {
                    match &outcome {
                        Ok(response) => tracing::info!(
                            target: "sentinelone::transport",
                            attempt,
                            status = response.status().as_u16(),
                            "the console answered {}; retrying",
                            response.status()
                        ),
                        Err(error) => tracing::info!(
                            target: "sentinelone::transport",
                            attempt,
                            fault = ?Fault::of(error),
                            "no answer; retrying"
                        ),
                    }
                    self.backoff(deadline, operation, &endpoint, attempt, tally)
                        .await?;
                    pending = Some(spare);
                }
                (_, _) => return self.finish(outcome, operation, answer).await,
            }
        }
    }

    /// The wait after the `throttled`-th 429 of a call: the Retry-After
    /// `asked` for, else the policy's throttle backoff (never shorter than
    /// the endpoint's quota period); at most `max_retry_after`.
    fn throttle_wait(
        &self,
        asked: Option<Duration>,
        rule: Option<&crate::quota::Rule>,
        throttled: u32,
    ) -> Duration {
        let wait = asked.unwrap_or_else(|| {
            let backoff = self.retry.throttle_backoff(throttled);
            rule.map_or(backoff, |r| backoff.max(r.period))
        });
        wait.min(self.retry.max_retry_after)
    }

    /// Waits until `until` unless that passes `deadline`: then the call
    /// fails at once with a timeout.
    async fn wait_within(
        &self,
        deadline: Instant,
        until: Instant,
        event: WaitEvent,
        tally: &mut Tally,
    ) -> Result<(), Stop> {
        if until > deadline {
            tracing::info!(
                target: "sentinelone::transport",
                operation = event.operation,
                wait_ms = event.wait.as_millis() as u64,
                "not waiting: the call deadline would pass"
            );
            return Err(Stop::Failed(Kind::Deadline {
                deadline: self.limits.call_deadline,
            }));
        }
        self.wait(until, event, tally).await;
        Ok(())
    }

    async fn backoff(
        &self,
        deadline: Instant,
        operation: &'static str,
        endpoint: &str,
        attempt: u32,
        tally: &mut Tally,
    ) -> Result<(), Stop> {
        let wait = self.retry.backoff(attempt);
        let event = WaitEvent {
            operation,
            endpoint: endpoint.to_string(),
            wait,
            reason: WaitReason::Retry,
        };
        self.wait_within(deadline, limits::later(Instant::now(), wait), event, tally)
            .await
    }
}

/// How a call ended, for its record.
fn outcome_of(result: &Result<Response, Stop>) -> RequestOutcome {
    match result {
        Ok(_) => RequestOutcome::Success,
        Err(Stop::Sent(_)) => RequestOutcome::NoAnswer,
        Err(Stop::Failed(kind)) => match kind {
            Kind::Refused { .. } => RequestOutcome::Refused,
            Kind::Deadline { .. } => RequestOutcome::Deadline,
            Kind::Redirected { .. } => RequestOutcome::Redirected,
            Kind::Answered { .. } => RequestOutcome::ErrorAnswer,
            Kind::Limit(_) => RequestOutcome::NoAnswer,
        },
    }
}

/// Fills the call's span and says how it ended: a success at debug
/// level, an error answer from the console (4xx) at info, anything else
/// (5xx, no answer, redirect, deadline, refusal) as a warning.
fn trace_end(span: &tracing::Span, record: &RequestRecord) {
    span.record("attempts", record.attempts);
    if let Some(status) = record.status {
        span.record("status", status);
    }
    span.record("elapsed_ms", record.elapsed.as_millis() as u64);
    span.record("waited_ms", record.waited.as_millis() as u64);
    let attempts = record.attempts;
    let throttled = record.throttled;
    let elapsed_ms = record.elapsed.as_millis() as u64;
    match (record.outcome, record.status) {
        (RequestOutcome::Success, _) => tracing::debug!(
            target: "sentinelone::transport",
            attempts,
            throttled,
            elapsed_ms,
            "answered"
        ),
        (RequestOutcome::ErrorAnswer, Some(status @ 400..=499)) if status != 429 => {
            tracing::info!(
                target: "sentinelone::transport",
                attempts,
                status,
                elapsed_ms,
                "the call failed: the console answered {status}"
            )
        }
        (outcome, status) => tracing::warn!(
            target: "sentinelone::transport",
            attempts,
            throttled,
            status,
            elapsed_ms,
            ?outcome,
            "the call failed"
        ),
    }
}

/// Why the retry loop stopped without a success.
enum Stop {
    /// `reqwest` failed (or reading an error answer did).
    Sent(reqwest::Error),
    /// The transport decided.
    Failed(Kind),
}

impl From<reqwest::Error> for Stop {
    fn from(error: reqwest::Error) -> Self {
        Stop::Sent(error)
    }
}

impl FacadeTransport {
    /// The last attempt's outcome as the call's: a success, named
    /// ([`OperationName`]); a redirect (never followed) as where it pointed;
    /// an error status as SentinelOne's error list, its body read and parsed
    /// here, once (secrets redacted), whatever it holds: a proxy's HTML page,
    /// an empty 503. An error body is held to the byte cap even when a file
    /// was asked for.
    async fn finish(
        &self,
        outcome: reqwest::Result<Response>,
        operation: &'static str,
        answer: Answer,
    ) -> Result<Response, Stop> {
        let mut response = outcome?;
        let status = response.status();
        if status.is_redirection() {
            let location = crate::error::redirect_target(response.headers(), response.url());
            tracing::warn!(
                target: "sentinelone::transport",
                operation,
                status = status.as_u16(),
                location = %location,
                "the console answered a redirect; not followed"
            );
            return Err(Stop::Failed(Kind::Redirected {
                status: status.as_u16(),
                location,
            }));
        }
        if status.is_client_error() || status.is_server_error() {
            let retry_after = retry_after(response.headers());
            if answer == Answer::File {
                response = self
                    .limits
                    .bound_body(response, Answer::Decoded, None, operation);
            }
            let body = response.bytes().await?;
            return Err(Stop::Failed(Kind::Answered {
                status: status.as_u16(),
                retry_after,
                errors: crate::error::error_list(status, &body),
            }));
        }
        response.extensions_mut().insert(OperationName(operation));
        Ok(response)
    }
}

/// The generated client's hook into the transport: every generated
/// operation is sent through [`FacadeTransport::send`]; one that runs
/// ahead of its caller ([`crate::ahead`]) is sent in a task of its own,
/// its body read there.
pub(crate) struct Hook(pub(crate) Arc<FacadeTransport>);

impl Transport for Hook {
    fn execute<'a>(
        &'a self,
        client: &'a reqwest::Client,
        request: Request,
        info: &'a OperationInfo,
    ) -> TransportFuture<'a> {
        let operation = info.operation_id;
        let answer = Answer::of(operation);
        let ahead = crate::ahead::runtime().filter(|_| answer == Answer::Decoded);
        let Some(runtime) = ahead else {
            return Box::pin(self.0.send(client, request, operation, answer));
        };
        let (transport, client) = (self.0.clone(), client.clone());
        Box::pin(crate::ahead::spawn(&runtime, async move {
            let response = transport.send(&client, request, operation, answer).await?;
            Ok::<_, reqwest::Error>(crate::ahead::buffered(response).await)
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, HeaderValue::from_static("43"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(43)));
        let later = SystemTime::now() + Duration::from_secs(120);
        h.insert(
            RETRY_AFTER,
            HeaderValue::from_str(&httpdate::fmt_http_date(later)).unwrap(),
        );
        let got = retry_after(&h).unwrap();
        assert!(got > Duration::from_secs(110) && got <= Duration::from_secs(120));
        h.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&h), None);
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let p = RetryPolicy::default();
        assert!(p.backoff(1) <= Duration::from_millis(500));
        assert!(p.backoff(1) >= Duration::from_millis(250));
        assert!(p.backoff(3) >= Duration::from_millis(1000));
        assert!(p.backoff(30) <= p.max_delay);
    }
}
