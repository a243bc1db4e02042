//! Cursor pagination of list operations (`.pages()` / `.items()` from the
//! prelude) against httpmock: every page is asked for with `limit` and the
//! previous `cursor` (never `skip`), nothing is sent before the stream is
//! polled (and with `Prefetch::Off`, no page before it is wanted), a
//! repeated cursor is an error instead of a loop, empty pages are followed,
//! and a null, empty or absent `nextCursor` ends the stream. Reading ahead
//! is in `read_ahead`.

use std::time::Duration;

use futures_util::{StreamExt, TryStreamExt};
use httpmock::{Mock, MockServer};
use sentinelone::RetryPolicy;
use sentinelone::pagination::{self, DEFAULT_PAGE_SIZE, Prefetch};
use sentinelone::prelude::*;
use sentinelone::quota::{Limiter, Quotas};
use sentinelone::{Client, Error};
use serde_json::{Value, json};

const TOKEN: &str = "pagination-test-token";
const AGENTS: &str = "/web/api/v2.1/agents";

fn client(server: &MockServer) -> Client {
    Client::builder()
        .console_url(server.base_url())
        .api_token(TOKEN)
        .allow_http(true)
        .limiter(Limiter::new())
        .quotas(Quotas::default().with_default_period(None))
        .retry_policy(RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        })
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

fn page(ids: &[&str], pagination: Value) -> Value {
    let data: Vec<Value> = ids.iter().map(|id| json!({ "id": id })).collect();
    json!({ "data": data, "pagination": pagination })
}

/// A page of `GET /agents` served for `cursor` (`None`: the first page),
/// only when asked with `limit=1000`, no `skip`, and the token.
async fn serve_page<'a>(server: &'a MockServer, cursor: Option<&str>, body: Value) -> Mock<'a> {
    let cursor = cursor.map(str::to_string);
    server
        .mock_async(move |when, then| {
            let when = when
                .method("GET")
                .path(AGENTS)
                .query_param("limit", DEFAULT_PAGE_SIZE.to_string())
                .query_param_missing("skip");
            let when = match cursor {
                Some(c) => when.query_param("cursor", c),
                None => when.query_param_missing("cursor"),
            };
            when.header("authorization", format!("ApiToken {TOKEN}"));
            then.status(200)
                .header("content-type", "application/json")
                .json_body(body);
        })
        .await
}

fn ids(items: &[sentinelone::raw::types::AgentViewListResponseDataItem]) -> Vec<&str> {
    items.iter().map(|a| a.id.as_deref().unwrap()).collect()
}

#[tokio::test]
async fn items_follow_every_cursor_in_order() {
    let server = MockServer::start_async().await;
    let p1 = serve_page(
        &server,
        None,
        page(&["1", "2"], json!({ "nextCursor": "c1", "totalItems": 5 })),
    )
    .await;
    let p2 = serve_page(
        &server,
        Some("c1"),
        page(&["3", "4"], json!({ "nextCursor": "c2", "totalItems": 5 })),
    )
    .await;
    let p3 = serve_page(
        &server,
        Some("c2"),
        page(&["5"], json!({ "nextCursor": null, "totalItems": 5 })),
    )
    .await;
    let client = client(&server);
    let items: Vec<_> = client
        .list_agents()
        .items()
        .try_collect()
        .await
        .expect("all pages");
    assert_eq!(ids(&items), ["1", "2", "3", "4", "5"]);
    p1.assert_calls_async(1).await;
    p2.assert_calls_async(1).await;
    p3.assert_calls_async(1).await;
}

#[tokio::test]
async fn pages_keep_the_filters_and_override_the_limit() {
    let server = MockServer::start_async().await;
    let p1 = server
        .mock_async(|when, then| {
            when.method("GET")
                .path(AGENTS)
                .query_param("limit", "2")
                .query_param("computerName__contains", "web-01,web-02")
                .query_param_missing("cursor");
            then.status(200)
                .json_body(page(&["1", "2"], json!({ "nextCursor": "c1" })));
        })
        .await;
    let p2 = server
        .mock_async(|when, then| {
            when.method("GET")
                .path(AGENTS)
                .query_param("limit", "2")
                .query_param("computerName__contains", "web-01,web-02")
                .query_param("cursor", "c1");
            then.status(200)
                .json_body(page(&["3"], json!({ "nextCursor": null })));
        })
        .await;
    let client = client(&server);
    let request = client
        .list_agents()
        .computer_name_contains(["web-01", "web-02"])
        .limit(7);
    let pages: Vec<_> = pagination::pages(request, 2)
        .try_collect()
        .await
        .expect("both pages");
    assert_eq!(pages.len(), 2);
    assert_eq!(pages[1].data.as_ref().unwrap().len(), 1);
    p1.assert_calls_async(1).await;
    p2.assert_calls_async(1).await;
}

#[tokio::test]
async fn with_prefetch_off_pages_are_fetched_only_when_asked_for() {
    let server = MockServer::start_async().await;
    let p1 = serve_page(&server, None, page(&["1"], json!({ "nextCursor": "c1" }))).await;
    let p2 = serve_page(
        &server,
        Some("c1"),
        page(&["2"], json!({ "nextCursor": "c2" })),
    )
    .await;
    let p3 = serve_page(
        &server,
        Some("c2"),
        page(&["3"], json!({ "nextCursor": null })),
    )
    .await;
    let client = client(&server);
    let one_at_a_time =
        || pagination::pages_with(client.list_agents(), DEFAULT_PAGE_SIZE, Prefetch::Off);

    // Building the stream sends nothing, reading ahead or not.
    let ahead = client.list_agents().pages();
    let stream = one_at_a_time();
    tokio::time::sleep(Duration::from_millis(50)).await;
    p1.assert_calls_async(0).await;
    drop(ahead);

    let first: Vec<_> = stream.take(1).try_collect().await.unwrap();
    assert_eq!(first.len(), 1);
    p1.assert_calls_async(1).await;
    p2.assert_calls_async(0).await;
    p3.assert_calls_async(0).await;

    // One page per poll.
    let mut stream = Box::pin(one_at_a_time());
    stream.next().await.unwrap().unwrap();
    stream.next().await.unwrap().unwrap();
    p1.assert_calls_async(2).await;
    p2.assert_calls_async(1).await;
    p3.assert_calls_async(0).await;
    stream.next().await.unwrap().unwrap();
    assert!(stream.next().await.is_none());
    p3.assert_calls_async(1).await;
}

fn expect_repeated_cursor(err: &Error, cursor: &str) {
    match err {
        Error::Decode {
            operation,
            excerpt,
            message,
        } => {
            assert_eq!(operation, "list_agents");
            assert_eq!(excerpt, cursor);
            assert!(message.contains("cursor"), "{message}");
        }
        other => panic!("expected Decode, got {other:?}"),
    }
}

#[tokio::test]
async fn a_repeated_cursor_is_an_error_not_a_loop() {
    let server = MockServer::start_async().await;
    let p1 = serve_page(&server, None, page(&["1"], json!({ "nextCursor": "c1" }))).await;
    let again = serve_page(
        &server,
        Some("c1"),
        page(&["2"], json!({ "nextCursor": "c1" })),
    )
    .await;
    let client = client(&server);
    let mut stream = Box::pin(client.list_agents().pages());
    let first = stream.next().await.unwrap().expect("the first page");
    assert_eq!(
        crate::support::typed(first.data.unwrap())[0].id.as_deref(),
        Some("1")
    );
    let err = tokio::time::timeout(Duration::from_secs(5), stream.next())
        .await
        .expect("no endless loop")
        .expect("an item")
        .expect_err("the repeated cursor is an error");
    expect_repeated_cursor(&err, "c1");
    assert!(err.to_string().starts_with("list_agents: "), "{err}");
    assert!(
        stream.next().await.is_none(),
        "the stream ends after the error"
    );
    p1.assert_calls_async(1).await;
    again.assert_calls_async(1).await;

    // items() stops the same way.
    let err = client
        .list_agents()
        .items()
        .try_collect::<Vec<_>>()
        .await
        .expect_err("the repeated cursor is an error");
    expect_repeated_cursor(&err, "c1");
}

#[tokio::test]
async fn a_cursor_cycle_is_an_error_too() {
    let server = MockServer::start_async().await;
    serve_page(&server, None, page(&["1"], json!({ "nextCursor": "c1" }))).await;
    serve_page(
        &server,
        Some("c1"),
        page(&["2"], json!({ "nextCursor": "c2" })),
    )
    .await;
    let back = serve_page(
        &server,
        Some("c2"),
        page(&["3"], json!({ "nextCursor": "c1" })),
    )
    .await;
    let client = client(&server);
    let result = tokio::time::timeout(
        Duration::from_secs(5),
        client.list_agents().pages().try_collect::<Vec<_>>(),
    )
    .await
    .expect("no endless loop");
    expect_repeated_cursor(&result.expect_err("a cycle"), "c1");
    back.assert_calls_async(1).await;
}

#[tokio::test]
async fn an_empty_page_with_a_cursor_is_followed() {
    let server = MockServer::start_async().await;
    let p1 = serve_page(&server, None, page(&[], json!({ "nextCursor": "c1" }))).await;
    let p2 = serve_page(
        &server,
        Some("c1"),
        page(&["x"], json!({ "nextCursor": null })),
    )
    .await;
    let client = client(&server);
    let items: Vec<_> = client.list_agents().items().try_collect().await.unwrap();
    assert_eq!(ids(&items), ["x"]);
    p1.assert_calls_async(1).await;
    p2.assert_calls_async(1).await;
}

#[tokio::test]
async fn an_absent_or_empty_cursor_ends_the_stream() {
    for last in [
        json!({ "data": [{ "id": "1" }], "pagination": { "totalItems": 1 } }),
        json!({ "data": [{ "id": "1" }] }),
        json!({ "data": [{ "id": "1" }], "pagination": { "nextCursor": "" } }),
    ] {
        let server = MockServer::start_async().await;
        let p1 = serve_page(&server, None, last.clone()).await;
        let any_cursor = server
            .mock_async(|when, then| {
                when.method("GET").path(AGENTS).query_param_exists("cursor");
                then.status(500);
            })
            .await;
        let client = client(&server);
        let pages: Vec<_> = client
            .list_agents()
            .pages()
            .try_collect()
            .await
            .unwrap_or_else(|e| panic!("{last}: {e}"));
        assert_eq!(pages.len(), 1, "{last}");
        p1.assert_calls_async(1).await;
        any_cursor.assert_calls_async(0).await;
    }
}

#[tokio::test]
async fn an_error_page_ends_the_stream_with_the_api_error() {
    let server = MockServer::start_async().await;
    serve_page(&server, None, page(&["1"], json!({ "nextCursor": "c1" }))).await;
    let failing = server
        .mock_async(|when, then| {
            when.method("GET").path(AGENTS).query_param("cursor", "c1");
            then.status(400).json_body(json!({
                "errors": [{ "code": 4000010, "title": "Validation Error", "detail": "cursor expired" }]
            }));
        })
        .await;
    let client = client(&server);
    let mut stream = Box::pin(client.list_agents().items());
    let first = stream.next().await.unwrap().unwrap();
    assert_eq!(first.id.as_deref(), Some("1"));
    let err = stream.next().await.unwrap().expect_err("the 400");
    match &err {
        Error::Api {
            status,
            operation,
            errors,
        } => {
            assert_eq!((*status, operation.as_str()), (400, "list_agents"));
            assert_eq!(errors[0].detail.as_deref(), Some("cursor expired"));
        }
        other => panic!("expected Api, got {other:?}"),
    }
    assert!(stream.next().await.is_none());
    failing.assert_calls_async(1).await;
}

/// Issue 12 item 8: the cursor goes back as the console wrote it. A
/// percent-encoded cursor is not encoded a second time (`%3D` stayed
/// `%3D`, not `%253D`); the raw request target is what the console reads.
#[tokio::test]
async fn cursors_go_back_exactly_as_the_console_sent_them() {
    use crate::support::scripted::{builder, reply, scripted_server};

    // (cursor in the answer, raw query value on the wire)
    let cases = [
        ("YWJj%3D%3D", "YWJj%3D%3D"),
        ("YWJjZGVm", "YWJjZGVm"),
        // Not percent-encoded: the builder's encoding, which the console
        // decodes back to exactly `a+b/c=`.
        ("a+b/c=", "a%2Bb%2Fc%3D"),
    ];
    for (cursor, wire) in cases {
        let first = json!({ "data": [{ "id": "1" }], "pagination": { "nextCursor": cursor } });
        let last = json!({ "data": [{ "id": "2" }], "pagination": { "nextCursor": null } });
        let server = scripted_server(vec![
            reply(200, &[], &first.to_string()),
            reply(200, &[], &last.to_string()),
        ])
        .await;
        let once = RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        };
        let client = builder(&server.url, TOKEN, Quotas::none(), once)
            .build()
            .unwrap();
        let pages: Vec<_> = client.list_agents().pages().try_collect().await.unwrap();
        assert_eq!(pages.len(), 2, "{cursor}");
        let seen = server.seen();
        assert_eq!(
            seen[0].target,
            format!("{AGENTS}?limit={DEFAULT_PAGE_SIZE}"),
            "{cursor}"
        );
        assert_eq!(
            seen[1].target,
            format!("{AGENTS}?cursor={wire}&limit={DEFAULT_PAGE_SIZE}"),
            "{cursor}"
        );
    }
}
