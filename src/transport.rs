//! The one transport every request goes through: quotas, 429 handling and
//! retries, for generated operations and hand-written requests alike.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use progenitor_client::OperationInfo;
use reqwest::header::{CONTENT_LENGTH, CONTENT_TYPE, HeaderMap, HeaderValue, RETRY_AFTER};
use reqwest::{Method, Request, Response, StatusCode};
use sentinelone_generated::types::ApiError;
use sentinelone_generated::{Transport, TransportFuture};
use tokio::time::Instant;

use crate::error::{OPERATION_HEADER, REDIRECT_HEADER};
use crate::limits::{self, Answer, CallLimits};
use crate::quota::{Key, Limiter, Quotas};
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

/// Whether a request may be sent again after the server may have seen it.
fn idempotent(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS
    )
}

/// A failure while sending or awaiting the answer, after which the server
/// may or may not have seen the request: a timeout, or the connection reset
/// or closed before the answer's head arrived. (Not a request that could
/// not be built, nor a redirect refused.)
fn retryable_after_sending(error: &reqwest::Error) -> bool {
    error.is_timeout() || error.is_request()
}

/// What the transport shares between clones of a client.
pub(crate) struct FacadeTransport {
    pub(crate) console: String,
    pub(crate) token_fingerprint: u64,
    pub(crate) quotas: Quotas,
    pub(crate) limiter: Arc<Limiter>,
    pub(crate) retry: RetryPolicy,
    pub(crate) listener: Option<WaitListener>,
    pub(crate) limits: CallLimits,
}

impl FacadeTransport {
    async fn wait(&self, until: Instant, event: WaitEvent) {
        let now = Instant::now();
        if until <= now {
            return;
        }
        tracing::info!(
            target: "sentinelone::transport",
            operation = event.operation,
            endpoint = %event.endpoint,
            wait_ms = event.wait.as_millis() as u64,
            reason = ?event.reason,
            "waiting {:.1} s for the {} slot",
            event.wait.as_secs_f64(),
            event.endpoint
        );
        if let Some(listener) = &self.listener {
            listener(&event);
        }
        tokio::time::sleep_until(until).await;
    }

    /// Sends `request` for `operation`, within quota, retrying what is
    /// safe, all before the call deadline; the answer's body is read
    /// through the limits `answer` calls for.
    pub(crate) async fn send(
        &self,
        client: &reqwest::Client,
        request: Request,
        operation: &'static str,
        answer: Answer,
    ) -> reqwest::Result<Response> {
        if let Some(refused) = crate::refusal::check(operation, &request) {
            return Ok(refused);
        }
        let deadline = limits::later(Instant::now(), self.limits.call_deadline);
        let method = request.method().clone();
        let path = request.url().path().to_string();
        let max_items = limits::page_limit(&request, operation);
        let rule = self.quotas.rule_for(method.as_str(), &path);
        let key = rule
            .as_ref()
            .map(|r| Key::new(r, &self.console, self.token_fingerprint));
        let endpoint = rule
            .as_ref()
            .map(|r| r.label.clone())
            .unwrap_or_else(|| crate::quota::endpoint_label(&path));
        let mut pending = Some(request);
        let mut attempt = 0;
        let mut throttled = 0;
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
                let slot = self.limiter.reserve(key, rule.period);
                let event = WaitEvent {
                    operation,
                    endpoint: endpoint.clone(),
                    wait: slot.saturating_duration_since(Instant::now()),
                    reason: WaitReason::Quota,
                };
                self.wait_within(deadline, slot, event).await?;
            }
            self.limits.bound_attempt(&mut current, deadline, answer);
            let outcome = client
                .execute(current)
                .await
                .map(|r| self.limits.bound_body(r, answer, max_items));
            let Some(spare) = spare else {
                return finish(outcome, operation).await;
            };
            match outcome {
                Ok(response) if response.status() == StatusCode::TOO_MANY_REQUESTS => {
                    throttled += 1;
                    let wait = self.throttle_wait(response.headers(), rule.as_ref(), throttled);
                    let until = limits::later(Instant::now(), wait);
                    if let Some(key) = &key {
                        self.limiter.block_until(key, until);
                    }
                    let event = WaitEvent {
                        operation,
                        endpoint: endpoint.clone(),
                        wait,
                        reason: WaitReason::Throttled,
                    };
                    self.wait_within(deadline, until, event).await?;
                }
                Ok(response) if response.status().is_server_error() && idempotent(&method) => {
                    self.backoff(deadline, operation, &endpoint, attempt)
                        .await?;
                }
                Ok(response) => return finish(Ok(response), operation).await,
                // Nothing reached the server: safe for any method.
                Err(e) if e.is_connect() => {
                    self.backoff(deadline, operation, &endpoint, attempt)
                        .await?
                }
                // The request may have reached the server (a timeout, a
                // connection reset or closed before the answer): only an
                // idempotent request may be sent again.
                Err(e) if retryable_after_sending(&e) && idempotent(&method) => {
                    self.backoff(deadline, operation, &endpoint, attempt)
                        .await?
                }
                Err(e) => return Err(e),
            }
            pending = Some(spare);
        }
    }

    /// The wait after the `throttled`-th 429 of a call: the Retry-After
    /// asked for, else the policy's throttle backoff (never shorter than
    /// the endpoint's quota period); at most `max_retry_after`.
    fn throttle_wait(
        &self,
        headers: &HeaderMap,
        rule: Option<&crate::quota::Rule>,
        throttled: u32,
    ) -> Duration {
        let wait = retry_after(headers).unwrap_or_else(|| {
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
    ) -> reqwest::Result<()> {
        if until > deadline {
            tracing::info!(
                target: "sentinelone::transport",
                operation = event.operation,
                wait_ms = event.wait.as_millis() as u64,
                "not waiting: the call deadline would pass"
            );
            return Err(limits::deadline_error(event.operation, self.limits.call_deadline).await);
        }
        self.wait(until, event).await;
        Ok(())
    }

    async fn backoff(
        &self,
        deadline: Instant,
        operation: &'static str,
        endpoint: &str,
        attempt: u32,
    ) -> reqwest::Result<()> {
        let wait = self.retry.backoff(attempt);
        let event = WaitEvent {
            operation,
            endpoint: endpoint.to_string(),
            wait,
            reason: WaitReason::Retry,
        };
        self.wait_within(deadline, limits::later(Instant::now(), wait), event)
            .await
    }
}

/// Names the operation on the response, for error reporting; marks a
/// redirect (never followed) with where it pointed; and makes an error
/// status readable as SentinelOne's error list even when the body is not
/// one (a proxy's HTML page, an empty 503): its status then survives
/// decoding, with the body's start as the detail. Secrets the console echoes
/// in an error body are redacted before anything reads it.
async fn finish(
    outcome: reqwest::Result<Response>,
    operation: &'static str,
) -> reqwest::Result<Response> {
    let mut response = outcome?;
    response
        .headers_mut()
        .insert(OPERATION_HEADER, HeaderValue::from_static(operation));
    let status = response.status();
    if status.is_redirection() {
        mark_redirect(&mut response, operation);
        return Ok(response);
    }
    if !(status.is_client_error() || status.is_server_error()) {
        return Ok(response);
    }
    let mut head = limits::head_of(&response);
    let body = response.bytes().await?;
    let body = bytes::Bytes::from(crate::redact::redact_lossy(&body));
    let readable = serde_json::from_slice::<ApiError>(&body).is_ok();
    let body = if readable {
        body
    } else {
        let title = status.canonical_reason().unwrap_or("HTTP error");
        let detail = crate::error::excerpt(&body);
        let list = serde_json::json!({"errors": [{"title": title, "detail": detail}]});
        let headers = head.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.remove(CONTENT_LENGTH);
        bytes::Bytes::from(list.to_string())
    };
    let (parts, ()) = head.into_parts();
    Ok(Response::from(http::Response::from_parts(parts, body)))
}

/// Records on a redirect answer where it pointed ([`REDIRECT_HEADER`]), for
/// the error that reports it. The client that carries the token follows no
/// redirect, so nothing was sent there.
fn mark_redirect(response: &mut Response, operation: &str) {
    let target = redirect_target(response);
    tracing::warn!(
        target: "sentinelone::transport",
        operation,
        status = response.status().as_u16(),
        location = %target,
        "the console answered a redirect; not followed"
    );
    let value = HeaderValue::from_str(&target)
        .unwrap_or_else(|_| HeaderValue::from_static("an unreadable location"));
    response.headers_mut().insert(REDIRECT_HEADER, value);
}

/// `host[:port]` of a redirect's Location (resolved against the request
/// URL), secrets redacted.
fn redirect_target(response: &Response) -> String {
    let Some(location) = response.headers().get(reqwest::header::LOCATION) else {
        return "no location".to_string();
    };
    let target = location
        .to_str()
        .ok()
        .and_then(|l| response.url().join(l).ok());
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

impl Transport for FacadeTransport {
    fn execute<'a>(
        &'a self,
        client: &'a reqwest::Client,
        request: Request,
        info: &'a OperationInfo,
    ) -> TransportFuture<'a> {
        let answer = Answer::of(info.operation_id);
        Box::pin(self.send(client, request, info.operation_id, answer))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
