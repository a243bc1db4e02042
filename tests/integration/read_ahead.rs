//! Pages read ahead (`Prefetch::NextPage`, what `.pages()` and `.items()`
//! do): the request for page n+1 reaches the console while the consumer
//! is still working on page n, even when it computes without polling the
//! stream; never two pages ahead; dropping the stream stops the page
//! running ahead; a failing page n+1 comes after page n's items; the
//! request keeps its span and record. `Prefetch::Off` asks one page at a
//! time.
//!
//! Real time and real sockets: the server runs on a thread of its own, the
//! consumer blocks its thread (`std::thread::sleep`) to stand for work, on
//! a multi-thread runtime with two workers.

use std::pin::pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::{Stream, StreamExt};
use sentinelone::metrics::{RequestOutcome, RequestRecord};
use sentinelone::pagination::{self, Prefetch};
use sentinelone::prelude::*;
use sentinelone::quota::Quotas;
use sentinelone::raw::types::AgentViewListResponseDataItem as Agent;
use sentinelone::{Client, Error};
use serde_json::json;
use tracing::{Instrument, Level};

use crate::support::logs::capture;
use crate::support::scripted::{
    Reply, Scripted, builder, delayed, fast_retry, reply, scripted_server,
};

const TOKEN: &str = "read-ahead-test-token";
/// How long the console takes to answer a page.
const LATENCY: Duration = Duration::from_millis(100);
/// How long the consumer works on one item.
const WORK: Duration = Duration::from_millis(50);
const PAGE_SIZE: u32 = 4;

/// The scripted server, on a thread and runtime of its own, so that a
/// consumer blocking the test's threads does not hold it up.
fn server(script: Vec<Reply>) -> Scripted {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            tx.send(scripted_server(script).await).unwrap();
            std::future::pending::<()>().await
        })
    });
    rx.recv().unwrap()
}

/// Page `n` of `pages`, `PAGE_SIZE` agents `n.1`, `n.2`, ..., answered
/// after [`LATENCY`].
fn page(n: usize, pages: usize) -> Reply {
    let data: Vec<_> = (1..=PAGE_SIZE)
        .map(|i| json!({ "id": format!("{n}.{i}") }))
        .collect();
    let next = (n < pages).then(|| format!("c{n}"));
    let body = json!({ "data": data, "pagination": { "nextCursor": next } });
    delayed(LATENCY, reply(200, &[], &body.to_string()))
}

fn pages(count: usize) -> Vec<Reply> {
    (1..=count).map(|n| page(n, count)).collect()
}

fn client(server: &Scripted) -> Client {
    builder(&server.url, TOKEN, Quotas::none(), fast_retry(1))
        .build()
        .unwrap()
}

/// One item as the consumer handled it.
#[derive(Debug, Clone)]
struct Handled {
    id: String,
    done: Instant,
}

/// Takes every item of `items`, working [`WORK`] on each without polling
/// the stream; what it got, in order.
async fn consume(items: impl Stream<Item = Result<Agent, Error>>) -> Vec<Result<Handled, Error>> {
    let mut items = pin!(items);
    let mut handled = Vec::new();
    while let Some(item) = items.next().await {
        handled.push(item.map(|agent| {
            std::thread::sleep(WORK);
            Handled {
                id: agent.id.unwrap(),
                done: Instant::now(),
            }
        }));
    }
    handled
}

/// When the consumer was done with the last item of page `n`.
fn page_done(handled: &[Handled], n: usize) -> Instant {
    let last = format!("{n}.{PAGE_SIZE}");
    handled.iter().find(|h| h.id == last).unwrap().done
}

/// When the request for page `n` reached the server.
fn asked(server: &Scripted, n: usize) -> Instant {
    let seen = server.seen();
    let request = &seen[n - 1];
    match n {
        1 => assert!(!request.target.contains("cursor="), "{}", request.target),
        n => assert!(
            request.target.contains(&format!("cursor=c{}", n - 1)),
            "{}",
            request.target
        ),
    }
    request.at
}

fn all_ok(handled: Vec<Result<Handled, Error>>) -> Vec<Handled> {
    handled.into_iter().map(|h| h.unwrap()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_next_page_is_asked_for_while_the_consumer_works() {
    // The consumer on the test's own thread, then in a task on a worker.
    for in_task in [false, true] {
        let server = server(pages(3));
        let client = client(&server);
        let handled = if in_task {
            tokio::spawn(async move {
                consume(pagination::items(client.list_agents(), PAGE_SIZE)).await
            })
            .await
            .unwrap()
        } else {
            consume(pagination::items(client.list_agents(), PAGE_SIZE)).await
        };
        let handled = all_ok(handled);
        let ids: Vec<_> = handled.iter().map(|h| h.id.as_str()).collect();
        assert_eq!(ids.len(), 12);
        assert_eq!((ids[0], ids[11]), ("1.1", "3.4"));
        assert_eq!(server.seen().len(), 3);
        for n in [1, 2] {
            // Page n+1 was asked for while page n was worked on ...
            assert!(
                asked(&server, n + 1) < page_done(&handled, n),
                "in a task: {in_task}; page {} asked for after page {n} was done",
                n + 1
            );
        }
        // ... and page 3 not before page 1 was done with: one page ahead.
        assert!(
            asked(&server, 3) > page_done(&handled, 1),
            "in a task: {in_task}; page 3 asked for two pages ahead"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_prefetch_off_one_page_is_asked_for_at_a_time() {
    let server = server(pages(3));
    let client = client(&server);
    let items = pagination::items_with(client.list_agents(), PAGE_SIZE, Prefetch::Off);
    let handled = all_ok(consume(items).await);
    assert_eq!(handled.len(), 12);
    assert_eq!(server.seen().len(), 3);
    for n in [1, 2] {
        assert!(
            asked(&server, n + 1) > page_done(&handled, n),
            "page {} asked for before page {n} was done",
            n + 1
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_stream_stops_the_page_running_ahead() {
    // Page 2 fails slowly with a 503, which the transport would retry.
    let unavailable = delayed(Duration::from_millis(400), reply(503, &[], "{}"));
    let server = server(vec![
        reply(200, &[], &page_body(&["1.1", "1.2"], Some("c1"))),
        unavailable.clone(),
        unavailable,
        reply(200, &[], &page_body(&["3.1"], None)),
    ]);
    let client = builder(&server.url, TOKEN, Quotas::none(), fast_retry(4))
        .build()
        .unwrap();
    let dropped_at = {
        let mut items = pin!(pagination::items(client.list_agents(), PAGE_SIZE));
        let first = items.next().await.unwrap().unwrap();
        assert_eq!(first.id.as_deref(), Some("1.1"));
        std::thread::sleep(Duration::from_millis(100));
        Instant::now()
    };
    // Long enough for the 503 and a retry, had the request gone on.
    tokio::time::sleep(Duration::from_millis(800)).await;
    let seen = server.seen();
    assert_eq!(seen.len(), 2, "{seen:#?}");
    assert!(seen[1].target.contains("cursor=c1"), "{}", seen[1].target);
    assert!(seen.iter().all(|s| s.at < dropped_at), "{seen:#?}");
}

fn page_body(ids: &[&str], next: Option<&str>) -> String {
    let data: Vec<_> = ids.iter().map(|id| json!({ "id": id })).collect();
    json!({ "data": data, "pagination": { "nextCursor": next } }).to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_next_page_comes_after_the_current_items() {
    let invalid = json!({
        "errors": [{ "code": 4000010, "title": "Validation Error", "detail": "cursor expired" }]
    });
    let server = server(vec![
        reply(200, &[], &page_body(&["1.1", "1.2", "1.3"], Some("c1"))),
        reply(400, &[], &invalid.to_string()),
    ]);
    let client = client(&server);
    let handled = consume(pagination::items(client.list_agents(), PAGE_SIZE)).await;
    assert_eq!(handled.len(), 4, "{handled:?}");
    let ids: Vec<_> = handled[..3]
        .iter()
        .map(|h| h.as_ref().unwrap().id.as_str())
        .collect();
    assert_eq!(ids, ["1.1", "1.2", "1.3"]);
    match &handled[3] {
        Err(Error::Api { status: 400, .. }) => {}
        other => panic!("expected the 400 last, got {other:?}"),
    }
    // The 400 was in before the consumer was done with page 1.
    let last = handled[2].as_ref().unwrap().done;
    assert!(server.seen()[1].at < last);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_run_ahead_keeps_its_span_and_record() {
    let server = server(pages(3));
    let records: Arc<Mutex<Vec<RequestRecord>>> = Arc::default();
    let sink = records.clone();
    let client = builder(&server.url, TOKEN, Quotas::none(), fast_retry(1))
        .on_request(move |r| sink.lock().unwrap().push(r.clone()))
        .build()
        .unwrap();
    let (trace, _guard) = capture(Level::DEBUG);
    let handled = consume(pagination::items(client.list_agents(), PAGE_SIZE))
        .instrument(tracing::info_span!("consumer"))
        .await;
    assert_eq!(all_ok(handled).len(), 12);

    let records = records.lock().unwrap().clone();
    assert_eq!(records.len(), 3, "{records:#?}");
    for record in &records {
        assert_eq!(record.operation, "list_agents");
        assert_eq!((record.attempts, record.status), (1, Some(200)));
        assert_eq!(record.outcome, RequestOutcome::Success);
    }
    // Each request's span is the consumer's child, pages 2 and 3 too,
    // though they ran in tasks of their own, on other threads.
    let text = trace.text();
    let ended = text
        .lines()
        .filter(|l| {
            l.contains("consumer:request{operation=\"list_agents\"") && l.contains(": answered")
        })
        .count();
    assert_eq!(ended, 3, "{text}");
}
