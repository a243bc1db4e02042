//! Running a Deep Visibility query: start it, wait for its end, read its results.

use super::*;

impl<'c> Dv<'c> {
    /// Starts a Deep Visibility query (`dv/init-query`), after checking it.
    ///
    /// ```no_run
    /// use chrono::{TimeDelta, Utc};
    /// use sentinelone::dv::DvQuery;
    ///
    /// # async fn demo(client: &sentinelone::Client) -> Result<(), sentinelone::Error> {
    /// let now = Utc::now();
    /// let running = client.dv().start(&DvQuery::new("AgentName IS NOT EMPTY", now - TimeDelta::hours(1), now)).await?;
    /// let finished = client.dv().wait(running).await?;
    /// println!("{} ended {}", finished.query_id, finished.state);
    /// # Ok(())
    /// # }
    /// ```
    #[deprecated(
        since = "0.1.0",
        note = "Deep Visibility query endpoints are sunset on 2027-02-15; use client.lrq().log_query (Long Running Query LOG search)"
    )]
    pub async fn start(self, request: &DvQuery) -> Result<RunningQuery, Error> {
        start(self.client, request).await
    }

    /// Waits for a started query to end (`dv/query-status`, spaced by the
    /// request's polling), reporting every check to its progress callback.
    ///
    /// Returns the last status when the query finished (`FINISHED`,
    /// `EMPTY_RESULTS`). A failure state, or a state this library does not
    /// know, gives [`Error::JobFailed`] naming it, with the console's
    /// `responseError`. When the polling's timeout passes, the query is
    /// cancelled and [`Error::WaitTimeout`] returned; when the status cannot be
    /// read, the query is cancelled and that error returned.
    ///
    /// See [`Dv::start`] for an example.
    #[deprecated(
        since = "0.1.0",
        note = "Deep Visibility query endpoints are sunset on 2027-02-15; use client.lrq().log_query (Long Running Query LOG search)"
    )]
    pub async fn wait(self, query: RunningQuery) -> Result<QueryStatus, Error> {
        wait(self.client, query).await
    }

    /// Runs a Deep Visibility query to its end and reads its events (D3
    /// "Query"): starts it, waits for it, then follows the events' cursor up
    /// to the limit. A query with `EMPTY_RESULTS` gives no events without
    /// asking for them; an events page answered 409 right after the query
    /// finished is asked for again a few times.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use chrono::{TimeDelta, Utc};
    /// use sentinelone::Polling;
    /// use sentinelone::dv::DvQuery;
    ///
    /// # async fn demo(client: &sentinelone::Client) -> Result<(), sentinelone::Error> {
    /// let now = Utc::now();
    /// let request = DvQuery::new(r#"ProcessImagePath CONTAINS "svchost.exe""#, now - TimeDelta::days(1), now)
    ///     .limit(100)
    ///     .polling(Polling::default().timeout(Duration::from_secs(300)));
    /// let results = client.dv().query(&request).await?;
    /// for event in &results.events {
    ///     println!("{:?} {:?}", event.agent_name, event.process_name);
    /// }
    /// # Ok(())
    /// # }
    /// ```
    #[deprecated(
        since = "0.1.0",
        note = "Deep Visibility query endpoints are sunset on 2027-02-15; use client.lrq().log_query (Long Running Query LOG search)"
    )]
    pub async fn query(self, request: &DvQuery) -> Result<DvResults, Error> {
        query(self.client, request).await
    }

    /// The events of a query, all of them or those of one type
    /// (`dv/events` or `dv/events/{type}`), as a lazy (boxed, `Unpin`) stream
    /// that follows the cursor 1000 events at a time. Pages answered 409 (results not ready
    /// yet) are asked for again a few times.
    ///
    /// ```no_run
    /// use futures_util::TryStreamExt;
    /// use sentinelone::dv::EventType;
    ///
    /// # async fn demo(client: &sentinelone::Client) -> Result<(), sentinelone::Error> {
    /// let mut files = client.dv().events("q1a2b3c4", Some(EventType::File))?;
    /// while let Some(event) = files.try_next().await? {
    ///     println!("{:?}", event.file_full_name);
    /// }
    /// # Ok(())
    /// # }
    /// ```
    #[deprecated(
        since = "0.1.0",
        note = "Deep Visibility query endpoints are sunset on 2027-02-15; use client.lrq().log_query (Long Running Query LOG search)"
    )]
    pub fn events(
        self,
        query_id: &str,
        event_type: Option<EventType>,
    ) -> Result<BoxStream<'c, Result<Event, Error>>, Error> {
        events(self.client, query_id, event_type)
    }

    /// Every event of one type of a query (D3 "Get Events by Query ID and
    /// Type"), collected from `dv/events/{type}`.
    ///
    /// ```no_run
    /// use sentinelone::dv::EventType;
    ///
    /// # async fn demo(client: &sentinelone::Client) -> Result<(), sentinelone::Error> {
    /// let dns = client.dv().events_by_type("q1a2b3c4", EventType::Dns).await?;
    /// println!("{} DNS requests", dns.len());
    /// # Ok(())
    /// # }
    /// ```
    #[deprecated(
        since = "0.1.0",
        note = "Deep Visibility query endpoints are sunset on 2027-02-15; use client.lrq().log_query (Long Running Query LOG search)"
    )]
    pub async fn events_by_type(
        self,
        query_id: &str,
        event_type: EventType,
    ) -> Result<Vec<Event>, Error> {
        events_by_type(self.client, query_id, event_type).await
    }

    /// The processes agents started (D3 "Get Agent Process"): runs the Deep
    /// Visibility query of `request` like [`Dv::query`] and returns its `process`
    /// events (`dv/events/process`), at most the limit.
    ///
    /// ```no_run
    /// use sentinelone::dv::AgentProcessQuery;
    ///
    /// # async fn demo(client: &sentinelone::Client) -> Result<(), sentinelone::Error> {
    /// let processes = client.dv().agent_processes(&AgentProcessQuery::new().limit(50)).await?;
    /// for p in &processes.events {
    ///     println!("{:?} {:?} {:?}", p.agent_name, p.pid, p.process_name);
    /// }
    /// # Ok(())
    /// # }
    /// ```
    #[deprecated(
        since = "0.1.0",
        note = "Deep Visibility query endpoints are sunset on 2027-02-15; use client.lrq().log_query (Long Running Query LOG search)"
    )]
    pub async fn agent_processes(self, request: &AgentProcessQuery) -> Result<DvResults, Error> {
        agent_processes(self.client, request).await
    }
}

/// A started Deep Visibility query (from [`Dv::start`]). Dropping it cancels
/// the query; [`Dv::wait`] for it, or [`RunningQuery::detach`] to keep it
/// running.
pub struct RunningQuery {
    pub(super) guard: CancelGuard,
    pub(super) watch: Watch,
}

impl RunningQuery {
    /// The query id.
    pub fn id(&self) -> &str {
        &self.guard.id
    }

    /// Lets the query run on its own and returns its id; it will not be
    /// cancelled.
    pub fn detach(mut self) -> String {
        self.guard.disarm();
        std::mem::take(&mut self.guard.id)
    }
}

impl fmt::Debug for RunningQuery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunningQuery")
            .field("id", &self.guard.id)
            .field("watch", &self.watch)
            .finish()
    }
}

/// The body of [`Dv::start`].
pub(super) async fn start(client: &Client, request: &DvQuery) -> Result<RunningQuery, Error> {
    let body = request.body()?;
    let response = client.init_dv_query().body(body).call().await?;
    let id = response
        .data
        .as_ref()
        .and_then(|d| d.query_id.as_deref())
        .filter(|id| !id.trim().is_empty())
        .map(str::to_string)
        .ok_or_else(|| missing("init_dv_query", &response, "data.queryId"))?;
    info!(query_id = %id, "Deep Visibility query started");
    Ok(RunningQuery {
        guard: CancelGuard::new(client, id),
        watch: request.watch.clone(),
    })
}

/// The body of [`Dv::wait`].
pub(super) async fn wait(client: &Client, query: RunningQuery) -> Result<QueryStatus, Error> {
    let RunningQuery { mut guard, watch } = query;
    let id = guard.id.clone();
    let job = format!("Deep Visibility query {id}");
    let id = id.as_str();
    let (status, ()) = settle(&mut guard, &watch, &job, None, move || async move {
        Ok((dv_status(client, id).await?, ()))
    })
    .await?;
    Ok(status)
}

/// The body of [`Dv::query`].
pub(super) async fn query(client: &Client, request: &DvQuery) -> Result<DvResults, Error> {
    run_and_collect(client, request, None).await
}

/// Runs `request` to its end and collects its events (of `event_type`),
/// all within the polling's timeout: the wait and the reading of the
/// events share one clock. When it runs out while events are read, the
/// query is cancelled and [`Error::WaitTimeout`] returned.
pub(super) async fn run_and_collect(
    client: &Client,
    request: &DvQuery,
    event_type: Option<EventType>,
) -> Result<DvResults, Error> {
    let running = start(client, request).await?;
    let clock = Poll::start(request.watch.polling)?;
    let id = running.id().to_string();
    let status = wait(client, running).await?;
    let mut guard = CancelGuard::new(client, id.clone());
    let collect = collect_events(client, &status, event_type, request.scope.limit);
    let waiting_for = || format!("the events of Deep Visibility query {id}");
    match clock.within(waiting_for, collect).await {
        Ok(events) => {
            guard.disarm();
            Ok(DvResults { status, events })
        }
        Err(e) => {
            info!(query_id = %id, error = %e, "could not read the events; cancelling");
            guard.cancel().await;
            Err(e)
        }
    }
}

/// The body of [`Dv::events`].
pub(super) fn events<'a>(
    client: &'a Client,
    query_id: &str,
    event_type: Option<EventType>,
) -> Result<BoxStream<'a, Result<Event, Error>>, Error> {
    event_stream(client, query_id, event_type, EVENTS_PAGE)
}

/// The body of [`Dv::events_by_type`].
pub(super) async fn events_by_type(
    client: &Client,
    query_id: &str,
    event_type: EventType,
) -> Result<Vec<Event>, Error> {
    event_stream(client, query_id, Some(event_type), EVENTS_PAGE)?
        .try_collect()
        .await
}

/// The body of [`Dv::agent_processes`].
pub(super) async fn agent_processes(
    client: &Client,
    request: &AgentProcessQuery,
) -> Result<DvResults, Error> {
    let request = request.dv_query(Utc::now())?;
    run_and_collect(client, &request, Some(EventType::Process)).await
}

/// One `dv/query-status` check.
pub(super) async fn dv_status(client: &Client, id: &str) -> Result<QueryStatus, Error> {
    let response = client.get_dv_query_status().query_id(id).call().await?;
    let Some(data) = response.data.as_ref() else {
        return Err(missing("get_dv_query_status", &response, "data"));
    };
    let Some(state) = data.response_state.as_deref() else {
        return Err(missing(
            "get_dv_query_status",
            &response,
            "data.responseState",
        ));
    };
    Ok(QueryStatus {
        query_id: id.to_string(),
        state: QueryState::parse(state),
        progress: data.progress_status,
        error: data.response_error.clone(),
        warnings: data.warnings.clone(),
    })
}

/// Checks a query until it ends: `first` is a status already known (the
/// answer that created it), `check` asks again. Running states wait per
/// the polling; the end disarms `guard`; a timeout or an error cancels the
/// query. `T` is what a check carries besides the status (a Power Query's
/// table).
pub(super) async fn settle<T, F, Fut>(
    guard: &mut CancelGuard,
    watch: &Watch,
    job: &str,
    first: Option<(QueryStatus, T)>,
    mut check: F,
) -> Result<(QueryStatus, T), Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(QueryStatus, T), Error>>,
{
    let mut poll = Poll::start(watch.polling)?;
    let mut known = first;
    loop {
        let checked = match known.take() {
            Some(checked) => Ok(checked),
            None => poll.within(|| job.to_string(), check()).await,
        };
        let (status, carried) = match checked {
            Ok(checked) => checked,
            Err(e) => {
                guard.cancel().await;
                return Err(e);
            }
        };
        watch.report(&status);
        if status.state.is_running() {
            if let Err(timed_out) = poll.pause(|| job.to_string()).await {
                info!(job, "gave up waiting; cancelling");
                guard.cancel().await;
                return Err(timed_out);
            }
            continue;
        }
        guard.disarm();
        if status.state.has_results() {
            info!(job, state = status.state.as_str(), "query ended");
            return Ok((status, carried));
        }
        return Err(Error::JobFailed {
            job: job.to_string(),
            state: status.state.as_str().to_string(),
            // Console text: an echoed secret must not reach the message.
            detail: status.error.map(|d| crate::redact::redact(&d).into_owned()),
        });
    }
}
