//! The generic request (`client.api_request(method, path)`) against
//! httpmock: the exact request on the wire (method, path below
//! /web/api/v2.1, comma-joined query, token, JSON body), typed and raw
//! answers, the cursor followed page by page, paths that could leave the
//! console refused with nothing sent, and the transport's rules applied as
//! to every operation: no POST sent twice, GETs retried, no redirect
//! followed, 429s waited out, the answer's size capped.

use std::time::Duration;

use futures_util::{StreamExt, TryStreamExt};
use httpmock::{HttpMockRequest, Method::GET, Method::POST, MockServer};
use reqwest::Method;
use sentinelone::Error;
use sentinelone::quota::{Limiter, Quotas};
use serde_json::{Value, json};

use crate::support::scripted::{reply, scripted_server};
use crate::support::{TOKEN, auth_header, exact_query, facade_client};

const API: &str = "/web/api/v2.1";

/// A mock that answers anything, to count what reached the server.
async fn catch_all(server: &MockServer) -> httpmock::Mock<'_> {
    server
        .mock_async(|_, then| {
            then.status(200).json_body(json!({"data": []}));
        })
        .await
}

#[derive(Debug, serde::Deserialize, PartialEq)]
struct Count {
    data: CountData,
}

#[derive(Debug, serde::Deserialize, PartialEq)]
struct CountData {
    total: u64,
}

// ---------------------------------------------------------------------------
// The request on the wire, the answer decoded

#[tokio::test]
async fn a_get_sends_the_exact_request_and_decodes_the_typed_answer() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            let when = when
                .method(GET)
                .path(format!("{API}/agents/count"))
                .header("authorization", auth_header())
                .is_true(|req: &HttpMockRequest| {
                    req.uri().query() == Some("osTypes=windows%2Clinux&ids=1%2C2%2C3&limit=2")
                        && req.body().is_empty()
                        && req.headers().get("content-type").is_none()
                });
            exact_query(
                when,
                &[
                    ("osTypes", "windows,linux"),
                    ("ids", "1,2,3"),
                    ("limit", "2"),
                ],
            );
            then.status(200)
                .json_body(json!({"data": {"total": 42}, "extra": true}));
        })
        .await;
    let client = facade_client(&server);

    let count: Count = client
        .api_request(Method::GET, "agents/count")
        .query("osTypes", ["windows", "linux"])
        .query("ids", "1")
        .query("limit", "2")
        .query("ids", ["2", "3"])
        .send()
        .await
        .expect("the answer decodes");

    assert_eq!(
        count,
        Count {
            data: CountData { total: 42 }
        }
    );
    mock.assert_calls_async(1).await;
}

#[tokio::test]
async fn paths_from_the_root_or_relative_reach_the_same_resource() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(GET)
                .path(format!("{API}/system/info"))
                .header("authorization", auth_header())
                .is_true(|req: &HttpMockRequest| req.uri().query().is_none());
            then.status(200)
                .json_body(json!({"data": {"version": "S-1"}}));
        })
        .await;
    let client = facade_client(&server);
    for path in ["system/info", "/system/info", "/web/api/v2.1/system/info"] {
        let answer = client
            .api_request(Method::GET, path)
            .send_value()
            .await
            .unwrap_or_else(|e| panic!("{path}: {e}"));
        assert_eq!(answer, json!({"data": {"version": "S-1"}}), "{path}");
    }
    mock.assert_calls_async(3).await;
}

#[tokio::test]
async fn a_post_sends_its_json_body_and_reads_the_raw_answer() {
    let server = MockServer::start_async().await;
    let body = json!({"filter": {"ids": ["225494730938493804"]}, "data": {"note": "é \"q\""}});
    let mock = server
        .mock_async(|when, then| {
            when.method(POST)
                .path(format!("{API}/agents/actions/fetch-logs"))
                .header("authorization", auth_header())
                .header("content-type", "application/json")
                .json_body(body.clone())
                .is_true(|req: &HttpMockRequest| req.uri().query().is_none());
            then.status(200).json_body(json!({"data": {"affected": 1}}));
        })
        .await;
    let client = facade_client(&server);

    let answer = client
        .api_request(Method::POST, "agents/actions/fetch-logs")
        .json(&body)
        .send_value()
        .await
        .expect("the answer");

    assert_eq!(answer, json!({"data": {"affected": 1}}));
    mock.assert_calls_async(1).await;
}

#[tokio::test]
async fn an_sdl_path_goes_from_the_root_with_the_bearer_scheme() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/sdl/v2/api/queries/q1")
                .header("authorization", format!("Bearer {TOKEN}"));
            then.status(200).json_body(json!({"id": "q1"}));
        })
        .await;
    let client = facade_client(&server);
    let answer = client
        .api_request(Method::GET, "/sdl/v2/api/queries/q1")
        .send_value()
        .await
        .expect("the answer");
    assert_eq!(answer, json!({"id": "q1"}));
    mock.assert_calls_async(1).await;
}

#[tokio::test]
async fn empty_and_undecodable_answers() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method("DELETE").path(format!("{API}/tags/7"));
            then.status(204);
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(GET).path(format!("{API}/html"));
            then.status(200).body("<html>login</html>");
        })
        .await;
    let client = facade_client(&server);

    let empty = client
        .api_request(Method::DELETE, "tags/7")
        .send_value()
        .await
        .expect("an empty answer");
    assert_eq!(empty, Value::Null);
    let response = client
        .api_request(Method::DELETE, "tags/7")
        .response()
        .await
        .expect("the response");
    assert_eq!(response.status(), 204);

    let err = client
        .api_request(Method::GET, "html")
        .send_value()
        .await
        .expect_err("not JSON");
    assert!(matches!(err, Error::Decode { .. }), "{err:?}");
    assert!(
        err.to_string()
            .starts_with("api_request: unexpected response body"),
        "{err}"
    );
    assert!(
        err.to_string().ends_with("body starts: <html>login</html>"),
        "{err}"
    );
    let typed = client
        .api_request(Method::GET, "tags/7")
        .send::<Count>()
        .await
        .expect_err("no mock for GET: 404");
    assert_eq!(typed.status(), Some(404), "{typed}");
}

#[tokio::test]
async fn an_error_answer_is_the_api_error_and_never_shows_the_token() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(GET).path(format!("{API}/agents"));
            then.status(400).json_body(json!({"errors": [{
                "code": 4000010,
                "title": "Validation Error",
                "detail": format!("bad token {TOKEN}")
            }]}));
        })
        .await;
    let client = facade_client(&server);
    let err = client
        .api_request(Method::GET, "agents")
        .send_value()
        .await
        .expect_err("400");
    assert_eq!(err.status(), Some(400));
    assert_eq!(err.operation(), Some("api_request"));
    let text = err.to_string();
    assert!(!text.contains(TOKEN), "{text}");
    assert_eq!(
        text,
        "api_request: SentinelOne answered HTTP 400; [4000010] Validation Error: bad token [redacted]"
    );
}

// ---------------------------------------------------------------------------
// Pages

/// A page of `GET /threats` served when asked with exactly `query`.
async fn serve_page<'a>(
    server: &'a MockServer,
    raw_query: &'static str,
    body: Value,
) -> httpmock::Mock<'a> {
    server
        .mock_async(move |when, then| {
            when.method(GET)
                .path(format!("{API}/threats"))
                .header("authorization", auth_header())
                .is_true(move |req: &HttpMockRequest| req.uri().query().unwrap_or("") == raw_query);
            then.status(200).json_body(body);
        })
        .await
}

fn page(ids: &[&str], next: Value) -> Value {
    let data: Vec<Value> = ids.iter().map(|id| json!({"id": id})).collect();
    json!({"data": data, "pagination": {"nextCursor": next, "totalItems": 5}})
}

#[tokio::test]
async fn items_follow_the_cursor_across_three_pages() {
    let server = MockServer::start_async().await;
    let p1 = serve_page(
        &server,
        "resolved=false&limit=2",
        page(&["1", "2"], json!("c1")),
    )
    .await;
    let p2 = serve_page(
        &server,
        "resolved=false&limit=2&cursor=c1",
        page(&["3", "4"], json!("c/2=")),
    )
    .await;
    let p3 = serve_page(
        &server,
        "resolved=false&limit=2&cursor=c%2F2%3D",
        page(&["5"], Value::Null),
    )
    .await;
    let client = facade_client(&server);
    let request = client
        .api_request(Method::GET, "threats")
        .query("resolved", "false")
        .query("limit", "2");

    let items: Vec<Value> = request
        .clone()
        .items()
        .try_collect()
        .await
        .expect("every page");
    let ids: Vec<&str> = items.iter().map(|i| i["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["1", "2", "3", "4", "5"]);
    p1.assert_calls_async(1).await;
    p2.assert_calls_async(1).await;
    p3.assert_calls_async(1).await;

    #[derive(serde::Deserialize)]
    struct Threat {
        id: String,
    }
    let typed: Vec<Threat> = request
        .clone()
        .items_as::<Threat>()
        .try_collect()
        .await
        .expect("typed items");
    assert_eq!(typed.len(), 5);
    assert_eq!(typed[4].id, "5");
    let pages: Vec<Value> = request.pages().try_collect().await.expect("pages");
    assert_eq!(pages.len(), 3);
    assert_eq!(pages[1]["pagination"]["nextCursor"], "c/2=");
    p1.assert_calls_async(3).await;
    p3.assert_calls_async(3).await;
}

#[tokio::test]
async fn a_cursor_given_starts_the_walk_and_is_replaced_after() {
    let server = MockServer::start_async().await;
    let p2 = serve_page(&server, "cursor=c1", page(&["3"], json!("c2"))).await;
    let p3 = serve_page(&server, "cursor=c2", page(&["4"], Value::Null)).await;
    let client = facade_client(&server);
    let items: Vec<Value> = client
        .api_request(Method::GET, "threats")
        .query("cursor", "c1")
        .items()
        .try_collect()
        .await
        .expect("both pages");
    assert_eq!(items, [json!({"id": "3"}), json!({"id": "4"})]);
    p2.assert_calls_async(1).await;
    p3.assert_calls_async(1).await;
}

#[tokio::test]
async fn a_repeated_cursor_or_a_page_without_a_list_ends_the_stream() {
    let server = MockServer::start_async().await;
    serve_page(&server, "", page(&["1"], json!("c1"))).await;
    let again = serve_page(&server, "cursor=c1", page(&["2"], json!("c1"))).await;
    let client = facade_client(&server);
    let mut items = std::pin::pin!(client.api_request(Method::GET, "threats").items());
    assert_eq!(items.next().await.unwrap().unwrap(), json!({"id": "1"}));
    // The page naming a cursor already followed is refused whole, as the
    // generated lists' pagination does.
    let err = items.next().await.unwrap().expect_err("a repeated cursor");
    assert!(
        err.to_string().contains("a cursor it had already returned"),
        "{err}"
    );
    assert!(items.next().await.is_none());
    again.assert_calls_async(1).await;

    let odd = MockServer::start_async().await;
    odd.mock_async(|when, then| {
        when.method(GET).path(format!("{API}/system/info"));
        then.status(200)
            .json_body(json!({"data": {"version": "S-1"}}));
    })
    .await;
    let client = facade_client(&odd);
    let err = client
        .api_request(Method::GET, "system/info")
        .items()
        .try_collect::<Vec<_>>()
        .await
        .expect_err("not a list");
    assert!(matches!(err, Error::Decode { .. }), "{err:?}");
    assert!(err.to_string().contains("data is not a list"), "{err}");
}

// ---------------------------------------------------------------------------
// Refused before sending

#[tokio::test]
async fn every_path_that_could_leave_the_console_is_refused_and_nothing_is_sent() {
    let server = MockServer::start_async().await;
    let anything = catch_all(&server).await;
    let client = facade_client(&server);
    let evil = format!("{}/x", server.base_url());
    let cases: Vec<(&str, &str)> = vec![
        ("", "the path is empty"),
        ("https://evil.example/x", "is an absolute URL"),
        (&evil, "is an absolute URL"),
        ("//evil.example/x", "scheme-relative"),
        ("../../x", ". or .. segment"),
        ("agents/../../../x", ". or .. segment"),
        ("/web/api/v2.1/../../x", ". or .. segment"),
        ("agents/%2e%2e/%2E%2E/x", "percent-encoded . or .."),
        ("agents/%252e%252e/x", "percent-encoded . or .."),
        ("agents/a%2F..%2Fb", "percent-encoded / or \\"),
        ("agents\\..\\x", "backslash"),
        ("agents/\r\nHost: evil.example", "control character"),
        ("agents/\u{0}", "control character"),
        ("evil.example@agents", "holds an @"),
        ("agents?limit=1", "holds a ?"),
        ("agents#frag", "holds a #"),
        ("agents x", "whitespace"),
        ("agents/{id}", "holds '{': percent-encode it"),
        ("/web/api/v2.1/", "names no resource"),
    ];
    for (path, why) in &cases {
        for method in [Method::GET, Method::POST] {
            let err = client
                .api_request(method.clone(), path)
                .query("limit", "1")
                .json(&json!({"a": 1}))
                .send_value()
                .await
                .expect_err(path);
            let Error::InvalidInput { message } = &err else {
                panic!("{path:?}: {err:?}");
            };
            assert!(
                message.starts_with("api_request: ") && message.contains(why),
                "{path:?}: {message}"
            );
            assert!(message.ends_with("nothing was sent"), "{path:?}: {message}");
        }
        let streamed = client
            .api_request(Method::GET, path)
            .items()
            .try_collect::<Vec<_>>()
            .await
            .expect_err(path);
        assert!(matches!(streamed, Error::InvalidInput { .. }), "{path:?}");
        assert!(client.api_request(Method::GET, path).path().is_err());
    }
    for method in ["TRACE", "CONNECT", "PROPFIND"] {
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let err = client
            .api_request(method.clone(), "agents")
            .send_value()
            .await
            .expect_err("refused method");
        assert!(
            err.to_string()
                .contains(&format!("method {:?} is not allowed", method.as_str())),
            "{err}"
        );
    }
    let nameless = client
        .api_request(Method::GET, "agents")
        .query("", "1")
        .send_value()
        .await
        .expect_err("no name");
    assert!(nameless.to_string().contains("empty name"), "{nameless}");
    let mut keys = std::collections::HashMap::new();
    keys.insert(vec![1u8], 1);
    let unwritable = client
        .api_request(Method::POST, "agents")
        .json(&keys)
        .send_value()
        .await
        .expect_err("no JSON body");
    assert!(
        unwritable
            .to_string()
            .contains("the body cannot be written as JSON"),
        "{unwritable}"
    );

    anything.assert_calls_async(0).await;
}

// ---------------------------------------------------------------------------
// The transport's rules

#[tokio::test]
async fn a_post_answered_503_is_sent_once_and_a_get_is_retried() {
    let server = MockServer::start_async().await;
    let post = server
        .mock_async(|when, then| {
            when.method(POST)
                .path(format!("{API}/threats/mitigate/kill"));
            then.status(503)
                .json_body(json!({"errors": [{"code": 5030000, "title": "Service Unavailable"}]}));
        })
        .await;
    let get = server
        .mock_async(|when, then| {
            when.method(GET).path(format!("{API}/agents"));
            then.status(503).body("");
        })
        .await;
    let client = facade_client(&server);

    let err = client
        .api_request(Method::POST, "threats/mitigate/kill")
        .json(&json!({"filter": {"ids": ["1"]}}))
        .send_value()
        .await
        .expect_err("503");
    assert_eq!(err.status(), Some(503));
    post.assert_calls_async(1).await;

    let err = client
        .api_request(Method::GET, "agents")
        .send_value()
        .await
        .expect_err("503");
    assert_eq!(err.status(), Some(503));
    // facade_client allows 2 attempts.
    get.assert_calls_async(2).await;
}

#[tokio::test]
async fn a_redirect_to_another_host_is_not_followed() {
    let elsewhere = MockServer::start_async().await;
    let stolen = catch_all(&elsewhere).await;
    let server = MockServer::start_async().await;
    let location = elsewhere.url("/collect");
    let redirect = server
        .mock_async(|when, then| {
            when.path_prefix(API);
            then.status(302).header("location", location.clone());
        })
        .await;
    let client = facade_client(&server);
    for method in [Method::GET, Method::POST] {
        let err = client
            .api_request(method.clone(), "agents")
            .json(&json!({"secret": "x"}))
            .send_value()
            .await
            .expect_err("a redirect");
        let Error::Redirected {
            status, location, ..
        } = &err
        else {
            panic!("{method}: {err:?}");
        };
        assert_eq!(*status, 302);
        assert_eq!(location, &format!("{}", elsewhere.address()));
    }
    redirect.assert_calls_async(2).await;
    stolen.assert_calls_async(0).await;
}

#[tokio::test]
async fn a_429_with_retry_after_is_waited_out_then_retried() {
    let server = scripted_server(vec![
        reply(
            429,
            &[("Retry-After", "1")],
            r#"{"errors":[{"code":4290010,"title":"Too Many Requests"}]}"#,
        ),
        reply(200, &[], r#"{"data":{"total":7}}"#),
    ])
    .await;
    let client = crate::support::scripted::builder(
        &server.url,
        TOKEN,
        Quotas::none(),
        crate::support::scripted::fast_retry(3),
    )
    .build()
    .unwrap();

    let count: Count = client
        .api_request(Method::POST, "agents/count")
        .json(&json!({}))
        .send()
        .await
        .expect("the retry succeeds");

    assert_eq!(count.data.total, 7);
    let seen = server.seen();
    assert_eq!(seen.len(), 2, "{seen:#?}");
    for s in &seen {
        assert_eq!(s.method, "POST");
        assert_eq!(s.target, "/web/api/v2.1/agents/count");
        assert_eq!(s.body, "{}");
        assert_eq!(s.header("authorization"), Some(auth_header().as_str()));
    }
    let gap = seen[1].at - seen[0].at;
    assert!(gap >= Duration::from_secs(1), "retried after {gap:?}");
    assert!(gap < Duration::from_secs(4), "retried after {gap:?}");
}

#[tokio::test]
async fn an_answer_over_the_size_cap_is_refused() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(GET).path(format!("{API}/agents"));
            then.status(200)
                .json_body(json!({"data": [{"name": "x".repeat(4096)}]}));
        })
        .await;
    let client = sentinelone::Client::builder()
        .console_url(server.base_url())
        .api_token(TOKEN)
        .allow_http(true)
        .limiter(Limiter::new())
        .quotas(Quotas::none())
        .max_response_bytes(1024)
        .build()
        .unwrap();
    let err = client
        .api_request(Method::GET, "agents")
        .send_value()
        .await
        .expect_err("too large");
    assert!(
        matches!(err, Error::ResponseTooLarge { limit: 1024, ref operation } if operation == "api_request"),
        "{err:?}"
    );
    let streamed = client
        .api_request(Method::GET, "agents")
        .items()
        .try_collect::<Vec<_>>()
        .await
        .expect_err("too large");
    assert!(
        matches!(streamed, Error::ResponseTooLarge { .. }),
        "{streamed:?}"
    );
}
