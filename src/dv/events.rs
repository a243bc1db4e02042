//! A finished query's events, page by page, with the 409 (results not ready yet) retried.

use super::*;

/// The events stream of [`Dv::events`], `page_size` per page.
pub(super) fn event_stream<'a>(
    client: &'a Client,
    query_id: &str,
    event_type: Option<EventType>,
    page_size: u32,
) -> Result<BoxStream<'a, Result<Event, Error>>, Error> {
    let query_id = validate::required("query_id", query_id)?;
    Ok(match event_type {
        None => pagination::items(
            RetryConflict(client.list_dv_events().query_id(query_id)),
            page_size,
        )
        .boxed(),
        Some(kind) => {
            let kind = validate::required("event_type", kind.as_str())?;
            pagination::items(
                RetryConflict(
                    client
                        .list_dv_events_by_type()
                        .event_type(kind)
                        .query_id(query_id),
                ),
                page_size,
            )
            .boxed()
        }
    })
}

/// The events of a query that ended well, at most `limit`.
pub(super) async fn collect_events(
    client: &Client,
    status: &QueryStatus,
    event_type: Option<EventType>,
    limit: Option<u32>,
) -> Result<Vec<Event>, Error> {
    if status.state == QueryState::EmptyResults {
        return Ok(Vec::new());
    }
    let page_size = limit.map_or(EVENTS_PAGE, |n| n.min(EVENTS_PAGE));
    let stream = event_stream(client, &status.query_id, event_type, page_size)?;
    match limit {
        Some(n) => stream.take(n as usize).try_collect().await,
        None => stream.try_collect().await,
    }
}

/// A list operation whose 409 answers (Deep Visibility results not ready
/// yet) are retried a few times with growing pauses; pages like the
/// operation it wraps.
#[derive(Clone)]
pub(super) struct RetryConflict<P>(P);

impl<P: Operation + Clone> Operation for RetryConflict<P> {
    type Output = P::Output;
    const OPERATION_ID: &'static str = P::OPERATION_ID;

    async fn send_operation(
        self,
    ) -> Result<ResponseValue<Self::Output>, progenitor_client::Error<types::ApiError>> {
        let mut pause = CONFLICT_PAUSE;
        for _ in 0..CONFLICT_RETRIES {
            match self.0.clone().send_operation().await {
                Err(e) if crate::error::raw_status(&e) == Some(409) => {
                    debug!(
                        operation = P::OPERATION_ID,
                        pause_ms = pause.as_millis() as u64,
                        "results not ready (409); asking again"
                    );
                    tokio::time::sleep(pause).await;
                    pause *= 2;
                }
                answered => return answered,
            }
        }
        self.0.send_operation().await
    }
}

impl<P: Pageable> Pageable for RetryConflict<P> {
    type Item = P::Item;

    fn page_request(self, cursor: Option<&str>, limit: u32) -> Self {
        RetryConflict(self.0.page_request(cursor, limit))
    }

    fn next_cursor(page: &Self::Output) -> Option<&str> {
        P::next_cursor(page)
    }

    fn into_items(page: Self::Output) -> Vec<sentinelone_generated::Decoded<Self::Item>> {
        P::into_items(page)
    }

    fn item_count(page: &Self::Output) -> usize {
        P::item_count(page)
    }
}
