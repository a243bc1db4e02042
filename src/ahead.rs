//! Requests that run ahead of their caller: the next page of a list, asked
//! for while the consumer is still busy with the current one
//! ([`crate::pagination::Prefetch`]).
//!
//! The builders borrow the client, so a page's future is not `'static` and
//! cannot be spawned. What it waits for can be: inside [`ahead`], the
//! transport hook hands each request it is given to a task of its own
//! ([`spawn`]): quota wait, attempts, retries, and the whole body read
//! through its limits ([`buffered`]). The page's future, polled once when
//! the previous page arrives, then only waits for that task and decodes
//! the body it read. The task is aborted when the future is dropped; its
//! `request` span and [`crate::metrics::RequestRecord`] are those of any
//! call, under the span that was current when it was asked for.
//!
//! Only answers decoded in memory run ahead; a file answer is streamed by
//! its caller and never read here.

use std::future::Future;

use bytes::Bytes;
use futures_util::stream::{self, StreamExt};
use reqwest::Response;
use tokio::runtime::{Handle, RuntimeFlavor};
use tokio_util::task::AbortOnDropHandle;
use tracing::Instrument;
use tracing::instrument::WithSubscriber;

use crate::failure::Failure;
use crate::limits::BodyError;

tokio::task_local! {
    /// Set while a future runs ahead of its caller.
    static AHEAD: ();
}

/// `future`, with every request it makes through the client's transport
/// run in a task of its own, so that it progresses while `future` is not
/// polled.
pub(crate) fn ahead<F: Future>(future: F) -> impl Future<Output = F::Output> {
    AHEAD.scope((), future)
}

/// The runtime to run a request on when the current future runs
/// [`ahead`]; `None` when it does not (or there is no runtime): the request
/// is then sent by the caller's future itself.
pub(crate) fn runtime() -> Option<Handle> {
    AHEAD.try_with(|_| ()).ok()?;
    Handle::try_current().ok()
}

/// Runs `work` on `runtime` in a task of its own, under the caller's span
/// and subscriber; the future returned waits for it and aborts it when
/// dropped.
pub(crate) fn spawn<T, F>(runtime: &Handle, work: F) -> impl Future<Output = T> + Send + 'static
where
    T: Send + 'static,
    F: Future<Output = T> + Send + 'static,
{
    let work = work
        .instrument(tracing::Span::current())
        .with_current_subscriber();
    let task = AbortOnDropHandle::new(runtime.spawn(work));
    if runtime.runtime_flavor() == RuntimeFlavor::MultiThread {
        // A task spawned from a worker thread waits in that worker's LIFO
        // slot, which other workers never steal, until the spawning task
        // yields: a consumer computing between items would hold it there.
        // Spawning again moves it to the worker's queue and wakes an idle
        // worker to steal it; the empty task takes the slot.
        runtime.spawn(async {});
    }
    async move {
        match task.await {
            Ok(output) => output,
            Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
            // Aborted only when this future is dropped; cancelled otherwise
            // only by a runtime shutting down, which drops this future too.
            Err(error) => panic!("a request running ahead was cancelled: {error}"),
        }
    }
}

/// `response` with its body read now, whole, and replayed as it came: the
/// same chunks, then the same failure if reading stopped at one (a limit
/// of [`crate::limits`], a timeout, a reset), so that whoever decodes it
/// sees what reading it directly would have shown.
pub(crate) async fn buffered(response: Response) -> Response {
    let head = crate::limits::head_of(&response);
    let mut chunks: Vec<Result<Bytes, BodyError>> = Vec::new();
    let mut body = response.bytes_stream();
    while let Some(chunk) = body.next().await {
        match chunk {
            Ok(bytes) => chunks.push(Ok(bytes)),
            Err(error) => {
                chunks.push(Err(replayable(error)));
                break;
            }
        }
    }
    let (parts, ()) = head.into_parts();
    let body = reqwest::Body::wrap_stream(stream::iter(chunks));
    Response::from(http::Response::from_parts(parts, body))
}

/// A body error to hand on: the transport's [`Failure`] itself when it
/// carries one (so the error reads as it would have), else the error.
fn replayable(error: reqwest::Error) -> BodyError {
    match Failure::find(&error) {
        Some(failure) => Box::new(failure.clone()),
        None => Box::new(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::failure::{Kind, OperationName};
    use crate::limits::LimitError;

    fn response(chunks: Vec<Result<Bytes, BodyError>>) -> Response {
        let body = reqwest::Body::wrap_stream(stream::iter(chunks));
        let mut response = Response::from(
            http::Response::builder()
                .status(201)
                .header("x-page", "2")
                .body(body)
                .unwrap(),
        );
        response
            .extensions_mut()
            .insert(OperationName("list_agents"));
        response
    }

    #[tokio::test]
    async fn a_buffered_body_replays_its_bytes_and_head() {
        let chunks = vec![
            Ok(Bytes::from_static(b"{\"a\":")),
            Ok(Bytes::from_static(b"1}")),
        ];
        let replayed = buffered(response(chunks)).await;
        assert_eq!(replayed.status(), 201);
        assert_eq!(replayed.headers()["x-page"], "2");
        assert_eq!(
            replayed.extensions().get::<OperationName>(),
            Some(&OperationName("list_agents"))
        );
        assert_eq!(replayed.bytes().await.unwrap(), "{\"a\":1}");
    }

    #[tokio::test]
    async fn a_buffered_body_replays_the_failure_it_stopped_at() {
        let limit = Failure::new(
            "list_agents",
            Kind::Limit(LimitError::TooManyItems { limit: 2 }),
        );
        let chunks = vec![
            Ok(Bytes::from_static(b"[1,2,")),
            Err(Box::new(limit.clone()) as BodyError),
            Ok(Bytes::from_static(b"never read")),
        ];
        let error = buffered(response(chunks)).await.bytes().await.unwrap_err();
        assert_eq!(Failure::find(&error), Some(&limit));
    }

    #[tokio::test]
    async fn outside_ahead_nothing_runs_ahead() {
        assert!(runtime().is_none());
        assert!(ahead(async { runtime() }).await.is_some());
    }

    #[tokio::test]
    async fn dropping_the_wait_aborts_the_task() {
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let waiting = spawn(&Handle::current(), async move {
            // Holds `tx` until aborted.
            std::future::pending::<()>().await;
            drop(tx);
        });
        drop(waiting);
        // The task dropped `tx` when it was aborted.
        assert!(rx.await.is_err());
    }
}
