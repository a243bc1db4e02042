//! `exclusions::delete`: an empty selection is refused unless "all" is
//! asked for explicitly; the matching exclusions are listed (every page)
//! and their ids deleted, one request per type; listed items that
//! contradict the selection are kept; nothing matched means no delete
//! request at all.

use crate::support;

use support::exact_query;

use httpmock::Method::{DELETE, GET};
use httpmock::{Mock, MockServer};
use sentinelone::Error;
use sentinelone::exclusions::{ExclusionKind, ExclusionSelection};
use sentinelone::vocab::OsType;
use serde_json::{Value, json};

const EXCLUSIONS: &str = "/web/api/v2.1/exclusions";

fn exclusion(id: &str, kind: &str, os: &str) -> Value {
    json!({ "id": id, "type": kind, "osType": os, "value": format!("/opt/{id}") })
}

/// One page of `GET /exclusions` for exactly `query`.
async fn page<'a>(
    server: &'a MockServer,
    query: Vec<(&'static str, &'static str)>,
    items: Value,
    next: Option<&str>,
) -> Mock<'a> {
    server
        .mock_async(|when, then| {
            let when = when
                .method(GET)
                .path(EXCLUSIONS)
                .header("authorization", support::auth_header());
            exact_query(when, &query);
            then.status(200).json_body(json!({
                "data": items,
                "pagination": { "nextCursor": next, "totalItems": 3 }
            }));
        })
        .await
}

async fn delete<'a>(server: &'a MockServer, body: Value, affected: u64) -> Mock<'a> {
    server
        .mock_async(|when, then| {
            when.method(DELETE)
                .path(EXCLUSIONS)
                .header("authorization", support::auth_header())
                .header("content-type", "application/json")
                .json_body(body);
            then.status(200)
                .json_body(json!({ "data": { "affected": affected } }));
        })
        .await
}

async fn any_delete(server: &MockServer) -> Mock<'_> {
    server
        .mock_async(|when, then| {
            when.method(DELETE);
            then.status(200)
                .json_body(json!({ "data": { "affected": 1 } }));
        })
        .await
}

#[tokio::test]
async fn deletes_what_the_selection_lists_across_pages() {
    let server = MockServer::start_async().await;
    let first = page(
        &server,
        vec![
            ("type", "path"),
            ("osTypes", "linux"),
            ("siteIds", "1741111111111111111"),
            ("limit", "1000"),
        ],
        json!([
            exclusion("11", "path", "linux"),
            exclusion("12", "path", "linux")
        ]),
        Some("c1"),
    )
    .await;
    let second = page(
        &server,
        vec![
            ("type", "path"),
            ("osTypes", "linux"),
            ("siteIds", "1741111111111111111"),
            ("limit", "1000"),
            ("cursor", "c1"),
        ],
        // The console ignoring a filter must not widen the deletion.
        json!([
            exclusion("13", "path", "linux"),
            exclusion("14", "white_hash", "linux"),
            exclusion("15", "path", "windows")
        ]),
        None,
    )
    .await;
    let remove = delete(
        &server,
        json!({ "data": { "type": "path", "ids": ["11", "12", "13"] } }),
        3,
    )
    .await;
    let selection = ExclusionSelection::new()
        .kind(ExclusionKind::Path)
        .os_types([OsType::Linux])
        .site_ids(["1741111111111111111"]);
    let deleted = support::facade_client(&server)
        .exclusions()
        .delete(&selection)
        .await
        .expect("the exclusions are deleted");
    first.assert_async().await;
    second.assert_async().await;
    remove.assert_async().await;
    assert_eq!(deleted.affected, 3);
    assert_eq!(deleted.ids, ["11", "12", "13"]);
    assert_eq!(deleted.exclusions.len(), 3);
    assert_eq!(deleted.exclusions[2].value.as_deref(), Some("/opt/13"));
}

#[tokio::test]
async fn all_deletes_every_type_separately() {
    let server = MockServer::start_async().await;
    page(
        &server,
        vec![("limit", "1000")],
        json!([
            exclusion("21", "path", "windows"),
            exclusion("22", "white_hash", "windows"),
            exclusion("23", "path", "macos"),
            exclusion("24", "dv_exclusions", "windows")
        ]),
        None,
    )
    .await;
    let paths = delete(
        &server,
        json!({ "data": { "type": "path", "ids": ["21", "23"] } }),
        2,
    )
    .await;
    let hashes = delete(
        &server,
        json!({ "data": { "type": "white_hash", "ids": ["22"] } }),
        1,
    )
    .await;
    // A type the delete request cannot name goes without one.
    let untyped = delete(&server, json!({ "data": { "ids": ["24"] } }), 1).await;
    let deleted = support::facade_client(&server)
        .exclusions()
        .delete(&ExclusionSelection::all())
        .await
        .expect("everything is deleted");
    paths.assert_async().await;
    hashes.assert_async().await;
    untyped.assert_async().await;
    assert_eq!(deleted.affected, 4);
    let mut ids = deleted.ids.clone();
    ids.sort();
    assert_eq!(ids, ["21", "22", "23", "24"]);
}

#[tokio::test]
async fn by_ids_and_scope() {
    let server = MockServer::start_async().await;
    page(
        &server,
        vec![
            ("ids", "31,32"),
            ("accountIds", "1311111111111111111"),
            ("groupIds", "1511111111111111111"),
            ("limit", "1000"),
        ],
        json!([exclusion("31", "certificate", "windows")]),
        None,
    )
    .await;
    let remove = delete(
        &server,
        json!({ "data": { "type": "certificate", "ids": ["31"] } }),
        1,
    )
    .await;
    let selection = ExclusionSelection::new()
        .ids(["31", "32"])
        .account_ids(["1311111111111111111"])
        .group_ids(["1511111111111111111"]);
    let deleted = support::facade_client(&server)
        .exclusions()
        .delete(&selection)
        .await
        .expect("deleted");
    remove.assert_async().await;
    assert_eq!(deleted.ids, ["31"]);
    assert_eq!(deleted.affected, 1);
}

#[tokio::test]
async fn nothing_matched_sends_no_delete() {
    let server = MockServer::start_async().await;
    let listed = page(
        &server,
        vec![("type", "browser"), ("limit", "1000")],
        json!([]),
        None,
    )
    .await;
    let remove = any_delete(&server).await;
    let selection = ExclusionSelection::new().kind(ExclusionKind::Browser);
    let deleted = support::facade_client(&server)
        .exclusions()
        .delete(&selection)
        .await
        .expect("nothing to do");
    listed.assert_async().await;
    remove.assert_calls_async(0).await;
    assert_eq!(deleted.affected, 0);
    assert!(deleted.ids.is_empty());
}

#[tokio::test]
async fn an_empty_or_malformed_selection_sends_nothing() {
    let server = MockServer::start_async().await;
    let any = server
        .mock_async(|when, then| {
            when.any_request();
            then.status(200).json_body(json!({ "data": [] }));
        })
        .await;
    let client = support::facade_client(&server);
    match client.exclusions().delete(&ExclusionSelection::new()).await {
        Err(Error::InvalidInput { message }) => {
            assert!(message.contains("ExclusionSelection::all()"), "{message}")
        }
        other => panic!("expected InvalidInput, got {other:?}"),
    }
    match client
        .exclusions()
        .delete(&ExclusionSelection::new().ids(["12x"]))
        .await
    {
        Err(Error::InvalidInput { message }) => assert!(message.starts_with("ids[0]")),
        other => panic!("expected InvalidInput, got {other:?}"),
    }
    any.assert_calls_async(0).await;
}

#[tokio::test]
async fn a_refused_delete_is_an_api_error() {
    let server = MockServer::start_async().await;
    page(
        &server,
        vec![("ids", "41"), ("limit", "1000")],
        json!([exclusion("41", "path", "windows")]),
        None,
    )
    .await;
    server
        .mock_async(|when, then| {
            when.method(DELETE).path(EXCLUSIONS);
            then.status(400).json_body(json!({ "errors": [
                { "code": 4000010, "title": "Validation Error", "detail": "Not a valid Identifier." }
            ] }));
        })
        .await;
    let err = support::facade_client(&server)
        .exclusions()
        .delete(&ExclusionSelection::new().ids(["41"]))
        .await
        .expect_err("refused");
    assert_eq!(err.status(), Some(400));
    assert_eq!(err.operation(), Some("delete_exclusions"));
}

#[tokio::test]
async fn a_failed_listing_deletes_nothing() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(GET).path(EXCLUSIONS);
            then.status(403)
                .json_body(json!({ "errors": [{ "title": "Unauthorized access" }] }));
        })
        .await;
    let remove = any_delete(&server).await;
    let err = support::facade_client(&server)
        .exclusions()
        .delete(&ExclusionSelection::all())
        .await
        .expect_err("listing refused");
    assert_eq!(err.status(), Some(403));
    assert_eq!(err.operation(), Some("list_exclusions"));
    remove.assert_calls_async(0).await;
}
