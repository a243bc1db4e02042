//! LOG queries: events, with capped slices split until complete.

use futures_util::future::{BoxFuture, try_join_all};

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

/// What one slice gave.
#[derive(Default)]
struct Slice {
    events: Vec<LogEvent>,
    estimated: Option<f64>,
    capped: Vec<TimeRange>,
    ids: Vec<String>,
}

impl Slice {
    fn join(mut self, other: Slice) -> Slice {
        self.events.extend(other.events);
        self.estimated = match (self.estimated, other.estimated) {
            (Some(a), Some(b)) => Some(a + b),
            (a, b) => a.or(b),
        };
        self.capped.extend(other.capped);
        self.ids.extend(other.ids);
        self
    }
}

/// The checked inputs every slice of one LOG query shares.
struct LogPlan<'a> {
    client: &'a Client,
    filter: String,
    scope: LrqScope,
    limit: u32,
    options: &'a LrqOptions,
    clock: run::Clock,
}

impl LogPlan<'_> {
    /// Reads `range`; a slice that comes back full (as many events as the
    /// limit) is read again as two halves, down to the floor.
    fn fetch(&self, range: TimeRange) -> BoxFuture<'_, Result<Slice, Error>> {
        Box::pin(async move {
            let answer = self.query(range, None).await?;
            let data = answer.data.as_ref();
            let matches = data.and_then(|d| d.matches.as_deref()).unwrap_or_default();
            let full = matches.len() >= self.limit as usize;
            if full && let Some((early, late)) = range.halves(self.options.min_slice) {
                info!(
                    start = %range.start,
                    end = %range.end,
                    limit = self.limit,
                    "a LOG slice came back full; reading it as two halves"
                );
                let (a, b) =
                    futures_util::future::try_join(self.fetch(early), self.fetch(late)).await?;
                let mut both = a.join(b);
                both.ids.splice(0..0, answer.id.clone());
                return Ok(both);
            }
            let mut slice = Slice {
                events: matches.iter().map(LogEvent::from_match).collect(),
                estimated: data.and_then(|d| d.estimated_match_count),
                capped: Vec::new(),
                ids: answer.id.clone().into_iter().collect(),
            };
            if full {
                self.follow_cursor(range, &mut slice).await?;
            }
            Ok(slice)
        })
    }

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
        run::run_query(self.client, body, range, self.options, &self.clock).await
    }

    /// A full slice at the shortest slice: continues from its last event's
    /// cursor (inclusive: that event comes again and is skipped) until a
    /// page comes back short, at most [`MAX_CURSOR_PAGES`] pages. Without
    /// a cursor, or when the console gives nothing new, the slice is named
    /// capped.
    async fn follow_cursor(&self, range: TimeRange, slice: &mut Slice) -> Result<(), Error> {
        let mut pages = 1;
        loop {
            let cursor = slice.events.last().and_then(|e| e.cursor.clone());
            let Some(cursor) = cursor.filter(|_| pages < MAX_CURSOR_PAGES) else {
                warn!(
                    start = %range.start,
                    end = %range.end,
                    "a full LOG slice at the shortest slice cannot be continued; events may be missing"
                );
                slice.capped.push(range);
                return Ok(());
            };
            debug!(start = %range.start, end = %range.end, pages, "continuing a full LOG slice by cursor");
            let answer = self.query(range, Some(cursor.clone())).await?;
            pages += 1;
            slice.ids.extend(answer.id.clone());
            let matches = answer
                .data
                .as_ref()
                .and_then(|d| d.matches.as_deref())
                .unwrap_or_default();
            let full = matches.len() >= self.limit as usize;
            let fresh: Vec<LogEvent> = matches
                .iter()
                .map(LogEvent::from_match)
                .skip_while(|e| e.cursor.as_deref() == Some(cursor.as_str()))
                .collect();
            if fresh.is_empty() {
                slice.capped.push(range);
                return Ok(());
            }
            slice.events.extend(fresh);
            if !full {
                return Ok(());
            }
        }
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
        let filter = text("filter", filter, false)?;
        validate::in_range("limit", limit, 1, MAX_LOG_LIMIT)?;
        range.check()?;
        let scope = scope.check()?;
        options.check()?;
        let plan = LogPlan {
            client: self.client,
            filter,
            scope,
            limit,
            options,
            clock: run::Clock::start(options.timeout),
        };
        let slices = try_join_all(
            range
                .slices(options.slices)
                .into_iter()
                .map(|s| plan.fetch(s)),
        )
        .await?;
        let all = slices.into_iter().fold(Slice::default(), Slice::join);
        let mut events = all.events;
        events.sort_by_key(|e| e.timestamp_ns);
        let mut capped = all.capped;
        capped.sort();
        Ok(LogResults {
            events,
            estimated_match_count: all.estimated,
            capped,
            query_ids: all.ids,
        })
    }
}
