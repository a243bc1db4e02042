//! One query from launch to delete: the poll loop, the delete guard, and
//! [`Lrq::run`] for any query type.

use futures_util::future::BoxFuture;
use tokio::time::Instant;
use tracing::Instrument;

use super::*;

/// One answer of a query (launch or poll), read the same way: the poll
/// answer's type (the launch answer has the same fields).
pub type QueryResult = types::GetLrqQueryResponse;

/// `(stepsCompleted, stepsTotal)` of an answer; `stepsTotal` is read from
/// `totalSteps` when the console names it so; 0 when absent.
///
/// ```
/// let answer: sentinelone::lrq::QueryResult =
///     serde_json::from_str(r#"{"id": "q1", "stepsCompleted": 3, "totalSteps": 10}"#).unwrap();
/// assert_eq!(sentinelone::lrq::steps(&answer), (3, 10));
/// ```
pub fn steps(answer: &QueryResult) -> (i64, i64) {
    let total = answer.steps_total.or(answer.total_steps).unwrap_or(0);
    (answer.steps_completed.unwrap_or(0), total)
}

/// Whether an answer is final: every step done (`stepsTotal > 0`).
pub fn is_done(answer: &QueryResult) -> bool {
    let (completed, total) = steps(answer);
    total > 0 && completed >= total
}

impl<'c> Lrq<'c> {
    /// Runs one query of any type to its end and returns its last answer
    /// (its `data` as the console sent it), deleting it afterwards. The
    /// body's scope is checked first ([`LrqScope::check`]) and its times
    /// must be ISO 8601 (the console's relative spans, `24h`, are for the
    /// raw builder); `options`' slices, merge and floor do not apply here.
    ///
    /// ```no_run
    /// use sentinelone::lrq::{LrqOptions, QueryResult};
    /// use sentinelone::raw::types::{LaunchLrqQueryBody, LaunchLrqQueryBodyQueryType};
    ///
    /// # async fn demo(client: &sentinelone::Client) -> Result<(), sentinelone::Error> {
    /// let body = LaunchLrqQueryBody {
    ///     account_ids: vec![],
    ///     end_time: "2026-04-22T00:00:00Z".into(),
    ///     log: None,
    ///     pq: None,
    ///     query_priority: None,
    ///     query_type: LaunchLrqQueryBodyQueryType::TopFacets,
    ///     start_time: "2026-04-21T00:00:00Z".into(),
    ///     tenant: Some(true),
    /// };
    /// let answer: QueryResult = client.lrq().run(body, &LrqOptions::default()).await?;
    /// println!("{:?}", answer.data);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn run(
        self,
        body: types::LaunchLrqQueryBody,
        options: &LrqOptions,
    ) -> Result<QueryResult, Error> {
        options.check()?;
        let scope = LrqScope {
            tenant: body.tenant.unwrap_or(false),
            account_ids: body.account_ids.clone(),
        }
        .check()?;
        let mut body = body;
        body.account_ids = scope.account_ids;
        let parse = |name: &str, text: &str| {
            DateTime::parse_from_rfc3339(text)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|e| {
                    Error::invalid(format!("{name} {text:?} is not an ISO 8601 time: {e}"))
                })
        };
        let range = TimeRange::new(
            parse("start_time", &body.start_time)?,
            parse("end_time", &body.end_time)?,
        );
        range.check()?;
        let clock = Clock::start(options.timeout);
        run_query(self.client, body, range, options, &clock).await
    }
}

/// The composite's overall time limit.
#[derive(Debug, Clone, Copy)]
pub(super) struct Clock {
    pub(super) started: Instant,
    pub(super) deadline: Instant,
}

impl Clock {
    pub(super) fn start(timeout: Duration) -> Self {
        let started = Instant::now();
        Clock {
            started,
            deadline: crate::limits::later(started, timeout),
        }
    }

    fn timed_out(&self, what: String) -> Error {
        Error::WaitTimeout {
            waiting_for: what,
            after: self.started.elapsed(),
        }
    }
}

/// Launches `body`, polls it to its end within `clock`, deletes it.
pub(super) fn run_query<'a>(
    client: &'a Client,
    body: types::LaunchLrqQueryBody,
    range: TimeRange,
    options: &'a LrqOptions,
    clock: &'a Clock,
) -> BoxFuture<'a, Result<QueryResult, Error>> {
    Box::pin(async move {
        // A place among the queries this token keeps running.
        let places = client.lrq_places();
        let _place = tokio::time::timeout_at(clock.deadline, places.acquire_owned())
            .await
            .map_err(|_| clock.timed_out("a place to launch a Long Running Query".into()))?
            .map_err(|_| Error::invalid("the limiter's query places are closed"))?;
        let launch = client.launch_lrq_query().body(body).send();
        let response = crate::steps::step("act", tokio::time::timeout_at(clock.deadline, launch))
                .await
                .map_err(|_| clock.timed_out("the launch of a Long Running Query".into()))?
                .map_err(|e| Error::from_raw("launch_lrq_query", e))?;
        let tag = response
            .headers()
            .get(FORWARD_TAG_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let launched = response.into_inner();
        let first: QueryResult = serde_json::to_value(&launched)
            .and_then(serde_json::from_value)
            .map_err(|e| Error::decode("launch_lrq_query", b"", e))?;
        let Some(id) = first.id.clone().filter(|id| !id.trim().is_empty()) else {
            return Err(missing(&launched, "query id"));
        };
        let Some(tag) = tag else {
            warn!(query_id = %id, "the launch answer has no {FORWARD_TAG_HEADER}; the query cannot be polled nor deleted");
            return Err(Error::decode(
                "launch_lrq_query",
                b"",
                format!("the answer has no {FORWARD_TAG_HEADER} header"),
            ));
        };
        info!(query_id = %id, start = %range.start, end = %range.end, "long running query launched");
        let mut guard = DeleteGuard::new(client, id.clone(), tag.clone());
        let polled = poll(client, &id, &tag, first, range, options, clock);
        let result = crate::steps::step("poll", polled).await;
        match &result {
            // The console no longer has it: nothing to delete.
            Err(Error::QueryExpired { .. }) => guard.disarm(),
            _ => crate::steps::step("delete", guard.delete()).await,
        }
        result
    }
    .instrument(crate::steps::composite("lrq.query")))
}

/// A decode error for a launch answer that lacks `what`.
fn missing(body: &impl serde::Serialize, what: &str) -> Error {
    let body = serde_json::to_vec(body).unwrap_or_default();
    Error::decode(
        "launch_lrq_query",
        &body,
        format!("the answer has no {what}"),
    )
}

/// Polls until every step is done, the console reports an error, or the
/// clock runs out.
async fn poll(
    client: &Client,
    id: &str,
    tag: &str,
    first: QueryResult,
    range: TimeRange,
    options: &LrqOptions,
    clock: &Clock,
) -> Result<QueryResult, Error> {
    let mut answer = first;
    let what = || format!("Long Running Query {id}");
    loop {
        let (completed, total) = steps(&answer);
        if let Some(progress) = &options.progress {
            progress(&Progress {
                query_id: id.to_string(),
                range,
                steps_completed: completed,
                steps_total: total,
            });
        }
        if let Some(error) = &answer.error {
            let detail = [error.message.as_deref(), error.details.as_deref()]
                .into_iter()
                .flatten()
                .filter(|s| !s.trim().is_empty())
                .collect::<Vec<_>>()
                .join(": ");
            if !detail.is_empty() || !error.extra.is_empty() {
                return Err(Error::JobFailed {
                    job: what(),
                    state: "error".into(),
                    detail: Some(if detail.is_empty() {
                        Value::Object(error.extra.clone()).to_string()
                    } else {
                        crate::redact::redact(&detail).into_owned()
                    }),
                });
            }
        }
        if is_done(&answer) {
            debug!(query_id = id, steps = total, "long running query done");
            return Ok(answer);
        }
        let next = (Instant::now() + options.poll_interval).min(clock.deadline);
        tokio::time::sleep_until(next).await;
        if Instant::now() >= clock.deadline {
            return Err(clock.timed_out(what()));
        }
        let sent = client
            .get_lrq_query()
            .query_id(id)
            .last_step_seen(completed)
            .x_dataset_query_forward_tag(tag)
            .send();
        answer = match tokio::time::timeout_at(clock.deadline, sent).await {
            Err(_) => return Err(clock.timed_out(what())),
            Ok(Ok(answer)) => answer.into_inner(),
            Ok(Err(e)) => match Error::from_raw("get_lrq_query", e) {
                e if e.status() == Some(404) => {
                    return Err(Error::QueryExpired {
                        query_id: id.to_string(),
                    });
                }
                e => return Err(e),
            },
        };
    }
}

/// Holds a launched query; deletes it unless disarmed. Dropped while armed
/// (the caller dropped the future), it deletes from a task on the current
/// tokio runtime, tracked by the client ([`Client::finish_cleanup`]).
struct DeleteGuard {
    client: Client,
    id: String,
    tag: String,
    armed: bool,
}

impl DeleteGuard {
    fn new(client: &Client, id: String, tag: String) -> Self {
        DeleteGuard {
            client: client.clone(),
            id,
            tag,
            armed: true,
        }
    }

    fn disarm(&mut self) {
        self.armed = false;
    }

    async fn delete(&mut self) {
        if std::mem::replace(&mut self.armed, false) {
            delete_query(&self.client, &self.id, &self.tag).await;
        }
    }
}

impl Drop for DeleteGuard {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let (client, id, tag) = (self.client.clone(), self.id.clone(), self.tag.clone());
        info!(query_id = %id, "long running query abandoned; deleting it");
        if !self
            .client
            .spawn_cleanup(async move { delete_query(&client, &id, &tag).await })
        {
            warn!(query_id = %self.id, "long running query abandoned outside a tokio runtime; it could not be deleted");
        }
    }
}

/// `DELETE /sdl/v2/api/queries/{id}`; a failure is logged, not returned
/// (the query expires on its own 30 s later).
async fn delete_query(client: &Client, id: &str, tag: &str) {
    let sent = client
        .delete_lrq_query()
        .query_id(id)
        .x_dataset_query_forward_tag(tag)
        .send()
        .await;
    match sent.map_err(|e| Error::from_raw("delete_lrq_query", e)) {
        Ok(_) => debug!(query_id = id, "long running query deleted"),
        Err(e) if e.status() == Some(404) => {
            debug!(query_id = id, "long running query already gone")
        }
        Err(e) => warn!(query_id = id, error = %e, "could not delete the long running query"),
    }
}
