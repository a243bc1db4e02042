//! What the console sends is kept (issue 12, items 1-2): fields the spec
//! does not name, values in other JSON shapes, and list items that do not
//! decode at all, which arrive raw with their path while the rest goes on.

use futures_util::StreamExt;
use httpmock::Method::{GET, POST};
use httpmock::MockServer;
use sentinelone::Error;
use sentinelone::prelude::*;
use sentinelone::raw::types;
use serde_json::{Value, json};

use crate::support;

/// An agents page whose second item reports booleans and a number as
/// strings, as older agents do, and whose third item has a list of objects
/// as a plain string, which no shape rule reads.
fn odd_page() -> Value {
    json!({
        "data": [
            {"id": "1", "computerName": "web-01", "firewallEnabled": true,
             "addedIn2027": {"zone": "eu", "tags": [1, 2]}},
            {"id": "2", "computerName": "web-02", "firewallEnabled": "True",
             "isUpToDate": "True", "activeThreats": "3", "totalMemory": "2048"},
            {"id": "3", "computerName": "web-03", "networkInterfaces": "eth0"},
        ],
        "pagination": {"nextCursor": "c2", "totalItems": 4},
        "servedBy": "console-7"
    })
}

fn last_page() -> Value {
    json!({"data": [{"id": "4", "computerName": "web-04"}], "pagination": {"nextCursor": null}})
}

async fn agents_console(server: &MockServer) {
    server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/web/api/v2.1/agents")
                .query_param_missing("cursor");
            then.status(200).json_body(odd_page());
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/web/api/v2.1/agents")
                .query_param("cursor", "c2");
            then.status(200).json_body(last_page());
        })
        .await;
}

#[tokio::test]
async fn a_stream_delivers_every_item_and_the_odd_one_raw_with_its_path() {
    let server = MockServer::start_async().await;
    agents_console(&server).await;
    let client = support::facade_client(&server);
    let (logs, _guard) = support::logs::capture(tracing::Level::INFO);

    let items: Vec<Result<types::AgentViewListResponseDataItem, Error>> =
        client.list_agents().items().collect().await;

    assert_eq!(items.len(), 4, "every item of both pages is delivered");
    let first = items[0].as_ref().unwrap();
    assert_eq!(first.id.as_deref(), Some("1"));
    assert_eq!(first.firewall_enabled, Some(true));
    // A field added after the spec was written reaches the user as sent.
    assert_eq!(
        first.extra["addedIn2027"],
        json!({"zone": "eu", "tags": [1, 2]})
    );
    let second = items[1].as_ref().unwrap();
    assert_eq!(second.firewall_enabled, Some(true));
    assert_eq!(second.is_up_to_date, Some(true));
    assert_eq!(second.active_threats, Some(3));
    match &items[2] {
        Err(Error::Undecoded { operation, item }) => {
            assert_eq!(operation, "list_agents");
            assert_eq!(item.path, "data[2].networkInterfaces");
            assert_eq!(item.value, odd_page()["data"][2]);
            assert!(item.type_name.ends_with("AgentViewListResponseDataItem"));
        }
        other => panic!("the odd item: {other:?}"),
    }
    assert_eq!(items[3].as_ref().unwrap().id.as_deref(), Some("4"));

    let logs = logs.text();
    let warnings: Vec<&str> = logs.lines().filter(|l| l.contains("WARN")).collect();
    assert_eq!(warnings.len(), 1, "{logs}");
    assert!(
        warnings[0].contains("data[2].networkInterfaces") && warnings[0].contains("delivered raw"),
        "{logs}"
    );
}

#[tokio::test]
async fn a_page_keeps_its_unknown_fields_and_serialises_back_whole() {
    let server = MockServer::start_async().await;
    agents_console(&server).await;
    let client = support::facade_client(&server);

    let page = client.list_agents().call().await.unwrap();

    assert_eq!(page.extra["servedBy"], "console-7");
    let data = page.data.as_ref().unwrap();
    assert!(data[0].typed().is_some() && data[1].typed().is_some());
    assert_eq!(data[2].raw().unwrap().path, "data[2].networkInterfaces");
    let back = serde_json::to_value(&page).unwrap();
    assert_eq!(
        sentinelone::raw::lenient::lost_values(&odd_page(), &back),
        Vec::<String>::new()
    );
    // The raw item goes back in its place, exactly as sent.
    assert_eq!(back["data"][2], odd_page()["data"][2]);
}

#[tokio::test]
async fn one_value_where_a_list_is_declared_decodes_as_a_list() {
    let server = MockServer::start_async().await;
    let answer = json!({"data": {"id": "77", "name": "rule", "scopeId": "123", "s1ql": "x"}});
    server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/web/api/v2.1/cloud-detection/rules");
            then.status(200).json_body(answer.clone());
        })
        .await;
    let client = support::facade_client(&server);
    let body: types::PostRuleRequest = serde_json::from_value(json!({
        "data": {"name": "rule", "queryType": "events", "s1ql": "x", "severity": "Low",
                 "status": "Active", "description": "d", "expirationMode": "Permanent"},
        "filter": {"siteIds": ["1"]}
    }))
    .expect("a rule request");

    let rule = client
        .create_cloud_detection_rule()
        .body(body)
        .call()
        .await
        .unwrap();

    let data = rule.data.unwrap();
    assert_eq!(data.scope_id, Some(vec!["123".to_string()]));
    assert_eq!(data.id.as_deref(), Some("77"));
}

#[tokio::test]
async fn known_fields_added_by_curation_are_typed() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/web/api/v2.1/cloud-detection/alerts");
            then.status(200).json_body(json!({"data": [{
                "agentRealtimeInfo": {"id": "5", "infected": "true", "isActive": true,
                    "isDecommissioned": false, "machineType": "server", "name": "db-01",
                    "os": "linux", "uuid": "u-5"}
            }]}));
        })
        .await;
    let client = support::facade_client(&server);

    let page = client.list_alerts().call().await.unwrap();

    let alerts = support::typed(page.data.unwrap());
    let info = alerts[0].agent_realtime_info.as_ref().expect("typed");
    assert_eq!(info.name.as_deref(), Some("db-01"));
    assert_eq!(info.infected, Some(true));
    assert_eq!(info.is_decommissioned, Some(false));
    assert!(alerts[0].extra.is_empty());
}
