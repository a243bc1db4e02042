//! LOG queries: events, with capped slices split until complete.

use futures_util::stream::{self, BoxStream, StreamExt, TryStreamExt};

use super::*;

/// Most queries one full slice at the shortest slice is read in, following
/// its cursor ([`Lrq::log_query`]).
pub const MAX_CURSOR_PAGES: u32 = 100;

/// One event a LOG query matched.
#[derive(Debug, Clone, PartialEq)]
pub struct LogEvent {
    /// When it happened (from `timestamp`, nanoseconds on the wire).
    pub timestamp: Option<DateTime<Utc>>,
    /// `timestamp` as sent (nanoseconds since the epoch).
    pub timestamp_ns: Option<i64>,
    /// `severity`.
    pub severity: Option<i64>,
    /// `sessionId`.
    pub session_id: Option<String>,
    /// `threadId`.
    pub thread_id: Option<String>,
    /// `cursor`: where a query continues from this event.
    pub cursor: Option<String>,
    /// `serverInfo`.
    pub server_info: Map<String, Value>,
    /// The event's attributes (`values`).
    pub values: Map<String, Value>,
}

impl LogEvent {
    fn from_match(m: &types::GetLrqQueryResponseDataMatchesItem) -> LogEvent {
        LogEvent {
            timestamp: m.timestamp.and_then(|t| epoch_to_utc(&Value::from(t))),
            timestamp_ns: m.timestamp,
            severity: m.severity,
            session_id: m.session_id.clone(),
            thread_id: m.thread_id.clone(),
            cursor: m.cursor.clone(),
            server_info: m.server_info.clone().unwrap_or_default(),
            values: m.values.clone().unwrap_or_default(),
        }
    }
}

/// The events of a LOG query.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LogResults {
    /// Every event matched, oldest first.
    pub events: Vec<LogEvent>,
    /// The console's `estimatedMatchCount`s, added over the slices read.
    pub estimated_match_count: Option<f64>,
    /// Slices that still came back full at [`LrqOptions::min_slice`] and
    /// could not be continued by cursor: the console may hold more events
    /// in them than `events` has. Empty when nothing was cut.
    pub capped: Vec<TimeRange>,
    /// The ids of the queries run (a slice read again in halves counts
    /// once more).
    pub query_ids: Vec<String>,
}

/// What reading a LOG window gives, piece by piece, earliest slice first.
enum Piece {
    /// One page of events, in the console's order.
    Events(Vec<LogEvent>),
    /// A query was run: its id, and its `estimatedMatchCount` when its page
    /// was kept (not read again in halves or continued).
    Query {
        id: Option<String>,
        estimated: Option<f64>,
    },
    /// A slice that may hold more events than were read.
    Capped(TimeRange),
}

/// What is left to read, the next task on top of the stack.
enum Task {
    /// A slice not read yet.
    Slice(TimeRange),
    /// A full slice at the shortest slice, continued from `cursor`;
    /// `pages` have been read.
    Continue {
        range: TimeRange,
        cursor: Option<String>,
        pages: u32,
    },
}

/// The checked inputs every query of one LOG search shares.
struct LogPlan<'c> {
    client: &'c Client,
    filter: String,
    scope: LrqScope,
    limit: u32,
    options: LrqOptions,
    clock: run::Clock,
}

impl<'c> LogPlan<'c> {
    /// One LOG query of `range`, continuing from `cursor` when given.
    async fn query(&self, range: TimeRange, cursor: Option<String>) -> Result<QueryResult, Error> {
        let mut body = launch_body(
            types::LaunchLrqQueryBodyQueryType::Log,
            range,
            &self.scope,
            self.options.priority,
        );
        body.log = Some(types::LaunchLrqQueryBodyLog {
            ascending: None,
            cursor,
            filter: Some(self.filter.clone()),
            limit: Some(i64::from(self.limit)),
        });
        run::run_query(self.client, body, range, &self.options, &self.clock).await
    }

    /// Runs `task`, pushing on `stack` what it leaves to read.
    ///
    /// A slice that comes back full (as many events as the limit) is read
    /// again as two halves, the earlier one first, down to the shortest
    /// slice; a full slice there is continued from its last event's cursor
    /// (inclusive: that event comes again and is skipped) until a page
    /// comes back short, at most [`MAX_CURSOR_PAGES`] pages. Without a
    /// cursor, or when the console gives nothing new, the slice is capped.
    async fn step(&self, task: Task, stack: &mut Vec<Task>) -> Result<Vec<Piece>, Error> {
        let (range, cursor, pages) = match task {
            Task::Slice(range) => (range, None, 0),
            Task::Continue {
                range,
                cursor,
                pages,
            } => match cursor.filter(|_| pages < MAX_CURSOR_PAGES) {
                Some(cursor) => (range, Some(cursor), pages),
                None => {
                    warn!(
                        start = %range.start,
                        end = %range.end,
                        "a full LOG slice at the shortest slice cannot be continued; events may be missing"
                    );
                    return Ok(vec![Piece::Capped(range)]);
                }
            },
        };
        if cursor.is_some() {
            debug!(start = %range.start, end = %range.end, pages, "continuing a full LOG slice by cursor");
        }
        let answer = self.query(range, cursor.clone()).await?;
        let data = answer.data.as_ref();
        let matches = data.and_then(|d| d.matches.as_deref()).unwrap_or_default();
        let full = matches.len() >= self.limit as usize;
        if cursor.is_none()
            && full
            && let Some((early, late)) = range.halves(self.options.min_slice)
        {
            info!(
                start = %range.start,
                end = %range.end,
                limit = self.limit,
                "a LOG slice came back full; reading it as two halves"
            );
            stack.push(Task::Slice(late));
            stack.push(Task::Slice(early));
            return Ok(vec![Piece::Query {
                id: answer.id.clone(),
                estimated: None,
            }]);
        }
        let events: Vec<LogEvent> = matches
            .iter()
            .map(LogEvent::from_match)
            .skip_while(|e| cursor.is_some() && e.cursor == cursor)
            .collect();
        let query = Piece::Query {
            id: answer.id.clone(),
            estimated: data
                .and_then(|d| d.estimated_match_count)
                .filter(|_| cursor.is_none()),
        };
        if cursor.is_some() && events.is_empty() {
            return Ok(vec![query, Piece::Capped(range)]);
        }
        if full {
            stack.push(Task::Continue {
                range,
                cursor: events.last().and_then(|e| e.cursor.clone()),
                pages: pages + 1,
            });
        }
        Ok(vec![query, Piece::Events(events)])
    }

    /// Every piece of `range`, one query at a time, depth first.
    fn pieces(self: Arc<Self>, range: TimeRange) -> BoxStream<'c, Result<Piece, Error>> {
        stream::try_unfold(vec![Task::Slice(range)], move |mut stack| {
            let plan = Arc::clone(&self);
            async move {
                let Some(task) = stack.pop() else {
                    return Ok::<_, Error>(None);
                };
                let pieces = plan.step(task, &mut stack).await?;
                let pieces = stream::iter(pieces.into_iter().map(Ok::<_, Error>));
                Ok(Some((pieces, stack)))
            }
        })
        .try_flatten()
        .boxed()
    }

    /// Every piece of `range`, earliest slice first. With
    /// [`LrqOptions::slices`] above 1 the slices run at once (each held
    /// until the ones before it are given); the stream ends after the first
    /// error.
    fn all_pieces(self: Arc<Self>, range: TimeRange) -> BoxStream<'c, Result<Piece, Error>> {
        let slices = range.slices(self.options.slices);
        let together = slices.len();
        if together <= 1 {
            return self.pieces(range);
        }
        stream::iter(slices)
            .map(move |slice| Arc::clone(&self).pieces(slice).collect::<Vec<_>>())
            .buffered(together)
            .flat_map(stream::iter)
            .scan(false, |failed, piece| {
                let go_on = !*failed;
                *failed |= piece.is_err();
                std::future::ready(go_on.then_some(piece))
            })
            .boxed()
    }
}

impl<'c> Lrq<'c> {
    /// Runs a LOG query (a filter expression, no pipes; empty matches every
    /// event) over `range` and returns its events, oldest first, deleting
    /// every query afterwards.
    ///
    /// Each query asks for at most `limit` events (1 to [`MAX_LOG_LIMIT`]).
    /// A slice that comes back with `limit` events may hold more: it is
    /// read again as two halves, and so on down to
    /// [`LrqOptions::min_slice`]; a slice still full there is continued
    /// from its last event's cursor (the console's own pagination), and
    /// one that cannot be (no cursor, nothing new, [`MAX_CURSOR_PAGES`]
    /// reached) is named in [`LogResults::capped`] rather than cut
    /// silently. With
    /// [`LrqOptions::slices`] the window is cut up front and the slices run
    /// at once, within the token's quota.
    ///
    /// Nothing is sent when the range is empty, the scope wrong
    /// ([`LrqScope::check`]), the limit or an option out of range.
    ///
    /// ```no_run
    /// use chrono::TimeDelta;
    /// use sentinelone::lrq::{LrqOptions, LrqScope, TimeRange};
    ///
    /// # async fn demo(client: &sentinelone::Client) -> Result<(), sentinelone::Error> {
    /// let results = client
    ///     .lrq()
    ///     .log_query(
    ///         "dataSource.name='SentinelOne' event.type='Process Creation'",
    ///         TimeRange::last(TimeDelta::hours(6)),
    ///         &LrqScope::tenant(),
    ///         1000,
    ///         &LrqOptions::default().slices(3),
    ///     )
    ///     .await?;
    /// for event in &results.events {
    ///     println!("{:?} {:?}", event.timestamp, event.values.get("src.process.name"));
    /// }
    /// assert!(results.capped.is_empty(), "some slices hold more events");
    /// # Ok(())
    /// # }
    /// ```
    pub async fn log_query(
        self,
        filter: &str,
        range: TimeRange,
        scope: &LrqScope,
        limit: u32,
        options: &LrqOptions,
    ) -> Result<LogResults, Error> {
        let mut pieces = self
            .plan(filter, scope, limit, options, range)?
            .all_pieces(range);
        let mut results = LogResults::default();
        while let Some(piece) = pieces.try_next().await? {
            match piece {
                Piece::Events(events) => results.events.extend(events),
                Piece::Query { id, estimated } => {
                    results.query_ids.extend(id);
                    if let Some(n) = estimated {
                        *results.estimated_match_count.get_or_insert(0.0) += n;
                    }
                }
                Piece::Capped(range) => results.capped.push(range),
            }
        }
        results.events.sort_by_key(|e| e.timestamp_ns);
        results.capped.sort();
        Ok(results)
    }

    /// The events of a LOG query as a stream, read as
    /// [`Lrq::log_query`] reads them (full slices halved, then continued by
    /// cursor) but given page by page: one query at a time and one page in
    /// memory (with [`LrqOptions::slices`] above 1, the slices run at once
    /// and each is held until the ones before it are given). Earlier slices
    /// come first; within a page, events keep the console's order.
    ///
    /// A slice that may hold more events than were read comes as an
    /// [`Error::SliceCapped`] item and the stream goes on; any other error
    /// ends it. [`LrqOptions::timeout`] counts from this call. Every query
    /// is deleted when it ends, and a query running when the stream is
    /// dropped is deleted then.
    ///
    /// Nothing is sent, and an error is returned, when the range is empty,
    /// the scope wrong ([`LrqScope::check`]), the limit or an option out of
    /// range.
    ///
    /// ```no_run
    /// use chrono::TimeDelta;
    /// use futures_util::TryStreamExt;
    /// use sentinelone::lrq::{LrqOptions, LrqScope, TimeRange};
    ///
    /// # async fn demo(client: &sentinelone::Client) -> Result<(), sentinelone::Error> {
    /// let mut events = client.lrq().log_events(
    ///     "event.type='Process Creation'",
    ///     TimeRange::last(TimeDelta::days(7)),
    ///     &LrqScope::tenant(),
    ///     1000,
    ///     &LrqOptions::default(),
    /// )?;
    /// while let Some(event) = events.try_next().await? {
    ///     println!("{:?} {:?}", event.timestamp, event.values.get("src.process.name"));
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn log_events(
        self,
        filter: &str,
        range: TimeRange,
        scope: &LrqScope,
        limit: u32,
        options: &LrqOptions,
    ) -> Result<BoxStream<'c, Result<LogEvent, Error>>, Error> {
        let pieces = self
            .plan(filter, scope, limit, options, range)?
            .all_pieces(range);
        Ok(pieces
            .flat_map(|piece| {
                stream::iter(match piece {
                    Ok(Piece::Events(events)) => events.into_iter().map(Ok).collect(),
                    Ok(Piece::Query { .. }) => Vec::new(),
                    Ok(Piece::Capped(range)) => vec![Err(Error::SliceCapped { range })],
                    Err(error) => vec![Err(error)],
                })
            })
            .boxed())
    }

    /// The checked plan of a LOG search; nothing is sent.
    fn plan(
        self,
        filter: &str,
        scope: &LrqScope,
        limit: u32,
        options: &LrqOptions,
        range: TimeRange,
    ) -> Result<Arc<LogPlan<'c>>, Error> {
        let filter = text("filter", filter, false)?;
        validate::in_range("limit", limit, 1, MAX_LOG_LIMIT)?;
        range.check()?;
        let scope = scope.check()?;
        options.check()?;
        Ok(Arc::new(LogPlan {
            client: self.client,
            filter,
            scope,
            limit,
            options: options.clone(),
            clock: run::Clock::start(options.timeout),
        }))
    }
}
