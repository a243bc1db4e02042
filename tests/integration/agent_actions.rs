//! Agent actions by host name or internal IP (`sentinelone::agents`): the
//! hosts are resolved with `GET /agents` (names through
//! `computerName__contains`, addresses through
//! `networkInterfaceInet__contains`), only exact matches are kept (`lab1`
//! never reaches `lab10`), and the action goes out with those ids only. No
//! match, or a bad input, sends no action at all.

use crate::support;

use support::exact_query;

use httpmock::Method::{GET, POST, PUT};
use httpmock::{Mock, MockServer};
use sentinelone::Error;
use sentinelone::agents::{Broadcast, MatchedAgent};
use serde_json::{Value, json};

const AGENTS: &str = "/web/api/v2.1/agents";
const BROADCAST: &str = "/web/api/v2.1/agents/actions/broadcast";
const MOVE_TO_SITE: &str = "/web/api/v2.1/agents/actions/move-to-site";

fn agent(id: &str, name: &str, inet: &str) -> Value {
    json!({
        "id": id,
        "computerName": name,
        "networkInterfaces": [{ "name": "eth0", "inet": [inet], "inet6": [] }]
    })
}

/// `GET /agents` with exactly `filter` (plus the page size), answering
/// `agents` on one page.
async fn agents_page<'a>(
    server: &'a MockServer,
    filter: (&'static str, &'static str),
    agents: Value,
) -> Mock<'a> {
    server
        .mock_async(|when, then| {
            let when = when
                .method(GET)
                .path(AGENTS)
                .header("authorization", support::auth_header());
            exact_query(when, &[filter, ("limit", "1000")]);
            then.status(200).json_body(json!({
                "data": agents,
                "pagination": { "nextCursor": null, "totalItems": 2 }
            }));
        })
        .await
}

/// Any request at all: must stay unused when input is refused.
async fn anything(server: &MockServer) -> Mock<'_> {
    server
        .mock_async(|when, then| {
            when.any_request();
            then.status(200)
                .json_body(json!({ "data": { "affected": 1 } }));
        })
        .await
}

fn matched(id: &str, name: &str) -> MatchedAgent {
    MatchedAgent {
        id: id.into(),
        computer_name: Some(name.into()),
    }
}

fn invalid_message(err: Error) -> String {
    match err {
        Error::InvalidInput { message } => message,
        other => panic!("expected InvalidInput, got {other:?}"),
    }
}

#[tokio::test]
async fn broadcast_reaches_only_exact_host_matches() {
    let server = MockServer::start_async().await;
    let by_name = agents_page(
        &server,
        ("computerName__contains", "LAB1,lab7"),
        json!([
            agent("101", "lab1", "10.0.0.1"),
            agent("110", "lab10", "10.0.0.10")
        ]),
    )
    .await;
    let by_ip = agents_page(
        &server,
        ("networkInterfaceInet__contains", "10.0.0.20"),
        json!([
            agent("120", "lab20", "10.0.0.20"),
            agent("121", "lab21", "10.0.0.201")
        ]),
    )
    .await;
    let send = server
        .mock_async(|when, then| {
            when.method(POST)
                .path(BROADCAST)
                .header("authorization", support::auth_header())
                .json_body(json!({
                    "data": { "message": "Maintenance in one hour." },
                    "filter": { "ids": ["101", "120"] }
                }));
            then.status(200)
                .json_body(json!({ "data": { "affected": 2 } }));
        })
        .await;
    let request = Broadcast::new("Maintenance in one hour.").hosts(["LAB1", "10.0.0.20", "lab7"]);
    let result = support::facade_client(&server)
        .agents()
        .broadcast(&request)
        .await
        .expect("the broadcast is sent");
    by_name.assert_async().await;
    by_ip.assert_async().await;
    send.assert_async().await;
    assert_eq!(result.affected, Some(2));
    assert_eq!(
        result.agents,
        [matched("101", "lab1"), matched("120", "lab20")]
    );
    assert_eq!(result.unmatched, ["lab7"]);
}

#[tokio::test]
async fn broadcast_to_groups_needs_no_lookup() {
    let server = MockServer::start_async().await;
    let lookup = server
        .mock_async(|when, then| {
            when.method(GET).path(AGENTS);
            then.status(200).json_body(json!({ "data": [] }));
        })
        .await;
    let send = server
        .mock_async(|when, then| {
            when.method(POST).path(BROADCAST).json_body(json!({
                "data": { "message": "Reboot tonight" },
                "filter": { "groupIds": ["1381111111111111111"] }
            }));
            then.status(200)
                .json_body(json!({ "data": { "affected": 14 } }));
        })
        .await;
    let request = Broadcast::new("Reboot tonight").group_ids(["1381111111111111111"]);
    let result = support::facade_client(&server)
        .agents()
        .broadcast(&request)
        .await
        .expect("the broadcast is sent");
    send.assert_async().await;
    lookup.assert_calls_async(0).await;
    assert_eq!(result.affected, Some(14));
    assert!(result.agents.is_empty());
}

#[tokio::test]
async fn bad_broadcasts_send_nothing() {
    let server = MockServer::start_async().await;
    let any = anything(&server).await;
    let client = support::facade_client(&server);
    let too_long = Broadcast::new("x".repeat(141)).hosts(["lab1"]);
    assert_eq!(
        invalid_message(client.agents().broadcast(&too_long).await.unwrap_err()),
        "message is 141 characters long, at most 140 allowed"
    );
    let no_target = Broadcast::new("hello");
    assert!(
        invalid_message(client.agents().broadcast(&no_target).await.unwrap_err())
            .contains("host names or IPs, group ids")
    );
    let blank = Broadcast::new("  ").hosts(["lab1"]);
    assert_eq!(
        invalid_message(client.agents().broadcast(&blank).await.unwrap_err()),
        "message is required"
    );
    let bad_group = Broadcast::new("hello").group_ids(["abc"]);
    assert!(
        invalid_message(client.agents().broadcast(&bad_group).await.unwrap_err())
            .starts_with("group_ids[0]")
    );
    any.assert_calls_async(0).await;
}

#[tokio::test]
async fn no_matching_host_sends_no_action() {
    let server = MockServer::start_async().await;
    let lookup = agents_page(
        &server,
        ("computerName__contains", "lab1"),
        json!([agent("110", "lab10", "10.0.0.10")]),
    )
    .await;
    let action = server
        .mock_async(|when, then| {
            when.method(POST);
            then.status(200)
                .json_body(json!({ "data": { "affected": 1 } }));
        })
        .await;
    let client = support::facade_client(&server);
    let request = Broadcast::new("hello").hosts(["lab1"]);
    let message = invalid_message(client.agents().broadcast(&request).await.unwrap_err());
    assert!(message.contains("\"lab1\""), "{message}");
    let hosts = vec!["lab1".to_string()];
    assert!(
        client
            .agents()
            .move_to_site(&hosts, "947111111111111111")
            .await
            .is_err()
    );
    lookup.assert_calls_async(2).await;
    action.assert_calls_async(0).await;
}

#[tokio::test]
async fn move_to_group_filters_by_ids_and_reads_the_count() {
    let server = MockServer::start_async().await;
    agents_page(
        &server,
        ("computerName__contains", "lab3-pc1,lab3-pc2"),
        json!([
            agent("301", "LAB3-PC1", "10.0.3.1"),
            agent("302", "lab3-pc2", "10.0.3.2")
        ]),
    )
    .await;
    let send = server
        .mock_async(|when, then| {
            when.method(PUT)
                .path("/web/api/v2.1/groups/1511111111111111111/move-agents")
                .header("authorization", support::auth_header())
                .header("content-type", "application/json")
                .json_body(json!({ "filter": { "ids": ["301", "302"] } }));
            then.status(200)
                .json_body(json!({ "data": { "agentsMoved": 2 } }));
        })
        .await;
    let hosts = vec!["lab3-pc1".to_string(), "lab3-pc2".into()];
    let result = support::facade_client(&server)
        .agents()
        .move_to_group(&hosts, "1511111111111111111")
        .await
        .expect("the agents move");
    send.assert_async().await;
    assert_eq!(result.affected, Some(2));
    assert_eq!(
        result.agents,
        [matched("301", "LAB3-PC1"), matched("302", "lab3-pc2")]
    );
}

#[tokio::test]
async fn move_to_group_accepts_an_empty_204() {
    let server = MockServer::start_async().await;
    agents_page(
        &server,
        ("networkInterfaceInet__contains", "10.0.3.1"),
        json!([agent("301", "lab3-pc1", "10.0.3.1")]),
    )
    .await;
    let send = server
        .mock_async(|when, then| {
            when.method(PUT)
                .path("/web/api/v2.1/groups/1511111111111111111/move-agents")
                .json_body(json!({ "filter": { "ids": ["301"] } }));
            then.status(204);
        })
        .await;
    let hosts = vec!["10.0.3.1".to_string()];
    let result = support::facade_client(&server)
        .agents()
        .move_to_group(&hosts, "1511111111111111111")
        .await
        .expect("the agents move");
    send.assert_async().await;
    assert_eq!(result.affected, None);
    assert_eq!(result.agents, [matched("301", "lab3-pc1")]);
}

#[tokio::test]
async fn move_to_a_missing_group_is_an_api_error() {
    let server = MockServer::start_async().await;
    agents_page(
        &server,
        ("computerName__contains", "lab3-pc1"),
        json!([agent("301", "lab3-pc1", "10.0.3.1")]),
    )
    .await;
    server
        .mock_async(|when, then| {
            when.method(PUT)
                .path("/web/api/v2.1/groups/1511111111111111111/move-agents");
            then.status(404).json_body(json!({ "errors": [
                { "code": 4040010, "title": "Not Found", "detail": "The group is not found" }
            ] }));
        })
        .await;
    let hosts = vec!["lab3-pc1".to_string()];
    let err = support::facade_client(&server)
        .agents()
        .move_to_group(&hosts, "1511111111111111111")
        .await
        .expect_err("the group is missing");
    assert_eq!(err.status(), Some(404));
    assert_eq!(err.operation(), Some("move_group_agents"));
}

#[tokio::test]
async fn move_to_site_sends_the_target_site_and_ids() {
    let server = MockServer::start_async().await;
    agents_page(
        &server,
        ("computerName__contains", "lab3-pc1"),
        json!([agent("301", "lab3-pc1", "10.0.3.1")]),
    )
    .await;
    let send = server
        .mock_async(|when, then| {
            when.method(POST)
                .path(MOVE_TO_SITE)
                .header("authorization", support::auth_header())
                .json_body(json!({
                    "data": { "targetSiteId": "947111111111111111" },
                    "filter": { "ids": ["301"] }
                }));
            then.status(200)
                .json_body(json!({ "data": { "affected": 1 } }));
        })
        .await;
    let hosts = vec!["lab3-pc1".to_string()];
    let result = support::facade_client(&server)
        .agents()
        .move_to_site(&hosts, "947111111111111111")
        .await
        .expect("the agents move");
    send.assert_async().await;
    assert_eq!(result.affected, Some(1));
}

#[tokio::test]
async fn move_to_site_failure_is_an_api_error() {
    let server = MockServer::start_async().await;
    agents_page(
        &server,
        ("computerName__contains", "lab3-pc1"),
        json!([agent("301", "lab3-pc1", "10.0.3.1")]),
    )
    .await;
    server
        .mock_async(|when, then| {
            when.method(POST).path(MOVE_TO_SITE);
            then.status(401).json_body(json!({ "errors": [
                { "code": 4010010, "title": "Authentication Failed" }
            ] }));
        })
        .await;
    let hosts = vec!["lab3-pc1".to_string()];
    let err = support::facade_client(&server)
        .agents()
        .move_to_site(&hosts, "947111111111111111")
        .await
        .expect_err("refused");
    assert_eq!(err.status(), Some(401));
    assert_eq!(err.operation(), Some("move_agent_to_site"));
}

#[tokio::test]
async fn bad_moves_send_nothing() {
    let server = MockServer::start_async().await;
    let any = anything(&server).await;
    let client = support::facade_client(&server);
    let hosts = vec!["lab3-pc1".to_string()];
    assert!(
        invalid_message(
            client
                .agents()
                .move_to_group(&hosts, "group-1")
                .await
                .unwrap_err()
        )
        .starts_with("group_id")
    );
    assert!(
        invalid_message(client.agents().move_to_site(&hosts, "").await.unwrap_err())
            .starts_with("site_id")
    );
    assert_eq!(
        invalid_message(
            client
                .agents()
                .move_to_site(&[], "947111111111111111")
                .await
                .unwrap_err()
        ),
        "hosts: at least one value is required"
    );
    any.assert_calls_async(0).await;
}
