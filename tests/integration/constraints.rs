//! The limits the API declares on request values (`x-constraints`, issue 12
//! item 6), enforced by the facade's transport before sending: raw builders
//! and composites alike are refused with nothing sent, and the composites
//! that take lists of computer names split them into batches the console
//! takes (10 names per filter).

use crate::support;

use httpmock::{Mock, MockServer};
use sentinelone::Error;
use sentinelone::prelude::*;
use sentinelone::raw::types::{MitigateThreatsAction, ThreatsMitigateRequest};
use sentinelone::threats::ThreatTarget;
use serde_json::{Value, json};
use support::{exact_query, facade_client};

const THREATS: &str = "/web/api/v2.1/threats";

fn invalid(e: Error) -> String {
    match e {
        Error::InvalidInput { message } => message,
        other => panic!("expected InvalidInput, got {other:?}"),
    }
}

/// A mock that answers anything: a refused request must never reach it.
async fn anything(server: &MockServer) -> Mock<'_> {
    server
        .mock_async(|_, then| {
            then.status(200).json_body(json!({"data": []}));
        })
        .await
}

fn names(n: usize) -> Vec<String> {
    (1..=n).map(|i| format!("pc{i:02}")).collect()
}

#[tokio::test]
async fn eleven_names_on_a_raw_list_threats_builder_are_refused_unsent() {
    let server = MockServer::start_async().await;
    let any = anything(&server).await;
    let client = facade_client(&server);

    let error = client
        .list_threats()
        .computer_name_contains(names(11))
        .call()
        .await
        .unwrap_err();

    assert!(
        invalid(error)
            .starts_with("list_threats: computerName__contains has 11 items; at most 10 allowed"),
    );
    any.assert_calls_async(0).await;

    // Ten go out.
    client
        .list_threats()
        .computer_name_contains(names(10))
        .call()
        .await
        .unwrap();
    any.assert_calls_async(1).await;
}

#[tokio::test]
async fn a_one_character_name_is_refused_unsent() {
    let server = MockServer::start_async().await;
    let any = anything(&server).await;
    let client = facade_client(&server);

    let error = client
        .list_threats()
        .computer_name_contains(vec!["lab1".to_string(), "a".to_string()])
        .call()
        .await
        .unwrap_err();

    assert!(invalid(error).starts_with(
        "list_threats: computerName__contains item \"a\" is shorter than 2 characters"
    ));
    any.assert_calls_async(0).await;
}

#[tokio::test]
async fn a_scalar_query_value_out_of_range_is_refused_unsent() {
    let server = MockServer::start_async().await;
    let any = anything(&server).await;
    let client = facade_client(&server);

    let error = client.list_threats().limit(5000).call().await.unwrap_err();

    assert!(invalid(error).starts_with("list_threats: limit 5000 is above the maximum 1000"),);
    any.assert_calls_async(0).await;
}

#[tokio::test]
async fn a_mitigation_filter_breaking_its_limits_is_refused_unsent() {
    let server = MockServer::start_async().await;
    let any = anything(&server).await;
    let client = facade_client(&server);
    let body = |names: Value| -> ThreatsMitigateRequest {
        serde_json::from_value(json!({"filter": {"computerName__contains": names, "ids": ["7"]}}))
            .unwrap()
    };

    let many = client
        .mitigate_threats()
        .action(MitigateThreatsAction::Kill)
        .body(body(json!(names(12))))
        .call()
        .await
        .unwrap_err();
    let short = client
        .mitigate_threats()
        .action(MitigateThreatsAction::Kill)
        .body(body(json!(["lab1", "x"])))
        .call()
        .await
        .unwrap_err();

    assert!(invalid(many).starts_with(
        "mitigate_threats: filter.computerName__contains has 12 items; at most 10 allowed"
    ));
    assert!(invalid(short).starts_with(
        "mitigate_threats: filter.computerName__contains item \"x\" is shorter than 2 characters"
    ));
    any.assert_calls_async(0).await;
}

fn threat(id: &str, computer: &str) -> Value {
    json!({"id": id, "agentRealtimeInfo": {"agentComputerName": computer}})
}

/// `GET /threats` for exactly the computers `batch` (the first page),
/// answering `threats`.
async fn lookup<'a>(server: &'a MockServer, batch: &[String], threats: Vec<Value>) -> Mock<'a> {
    let joined = batch.join(",");
    server
        .mock_async(|when, then| {
            let when = when.method("GET").path(THREATS);
            exact_query(
                when,
                &[
                    ("computerName__contains", joined.as_str()),
                    ("limit", "1000"),
                ],
            );
            then.status(200).json_body(json!({
                "data": threats,
                "pagination": {"nextCursor": null}
            }));
        })
        .await
}

/// `POST /threats/mitigate/kill` for exactly `batch` and `ids`.
async fn kill<'a>(server: &'a MockServer, batch: &[String], ids: &[&str]) -> Mock<'a> {
    let body = json!({"filter": {"computerName__contains": batch, "ids": ids}});
    server
        .mock_async(|when, then| {
            when.method("POST")
                .path(format!("{THREATS}/mitigate/kill"))
                .json_body(body);
            then.status(200)
                .json_body(json!({"data": {"affected": ids.len()}}));
        })
        .await
}

#[tokio::test]
async fn killing_threats_on_25_named_computers_looks_up_10_10_5_and_acts_on_every_match() {
    let server = MockServer::start_async().await;
    let all = names(25);
    let (first, second, third) = (&all[..10], &all[10..20], &all[20..]);
    // Batch 2 lists a threat of batch 1 again (pc01 is a named computer
    // too): it is kept, and acted on, once. Batch 3 finds nothing.
    let lookups = [
        lookup(
            &server,
            first,
            vec![threat("101", "pc01"), threat("102", "PC07")],
        )
        .await,
        lookup(
            &server,
            second,
            vec![
                threat("101", "pc01"),
                threat("111", "pc11"),
                threat("999", "pc1"),
            ],
        )
        .await,
        lookup(&server, third, vec![threat("121", "pc21")]).await,
    ];
    let kills = [
        kill(&server, first, &["101", "102"]).await,
        kill(&server, second, &["111"]).await,
        kill(&server, third, &["121"]).await,
    ];
    let client = facade_client(&server);

    let done = client
        .threats()
        .kill(&ThreatTarget::computers(all.clone()))
        .await
        .unwrap();

    for mock in lookups.iter().chain(&kills) {
        mock.assert_async().await;
    }
    let matched: Vec<&str> = done
        .matched
        .iter()
        .map(|t| t.id.as_deref().unwrap())
        .collect();
    assert_eq!(matched, ["101", "102", "111", "121"]);
    assert_eq!(done.affected, 4);
}

#[tokio::test]
async fn a_composite_refuses_a_too_short_name_before_any_lookup() {
    let server = MockServer::start_async().await;
    let any = anything(&server).await;
    let client = facade_client(&server);
    let mut computers = names(15);
    computers.push("x".into());

    let error = client
        .threats()
        .kill(&ThreatTarget::computers(computers))
        .await
        .unwrap_err();

    assert_eq!(
        invalid(error),
        "computer_names: list_threats: computerName__contains item \"x\" is shorter than 2 characters; nothing was sent"
    );
    // Eleven process names cannot be split: they go whole into every filter.
    let procs: Vec<String> = (0..11).map(|i| format!("proc{i}.exe")).collect();
    let error = client
        .threats()
        .preview(&ThreatTarget::computers(["lab1"]).process_names(procs))
        .await
        .unwrap_err();
    assert_eq!(
        invalid(error),
        "process_names: list_threats: originatedProcess__contains has 11 items; at most 10 allowed; nothing was sent"
    );
    any.assert_calls_async(0).await;
}

#[tokio::test]
async fn agent_lookup_by_12_names_goes_out_in_two_batches() {
    let server = MockServer::start_async().await;
    let all = names(12);
    let agent = |id: &str, name: &str| json!({"id": id, "computerName": name});
    let mut lookups = Vec::new();
    for (batch, agents) in [
        (&all[..10], vec![agent("1", "pc01")]),
        (&all[10..], vec![agent("12", "pc12")]),
    ] {
        let joined = batch.join(",");
        lookups.push(
            server
                .mock_async(|when, then| {
                    let when = when.method("GET").path("/web/api/v2.1/agents");
                    exact_query(
                        when,
                        &[
                            ("computerName__contains", joined.as_str()),
                            ("limit", "1000"),
                        ],
                    );
                    then.status(200).json_body(json!({
                        "data": agents,
                        "pagination": {"nextCursor": null}
                    }));
                })
                .await,
        );
    }
    let moved = server
        .mock_async(|when, then| {
            when.method("POST")
                .path("/web/api/v2.1/agents/actions/move-to-site")
                .json_body(json!({
                    "data": {"targetSiteId": "55"},
                    "filter": {"ids": ["1", "12"]}
                }));
            then.status(200).json_body(json!({"data": {"affected": 2}}));
        })
        .await;
    let client = facade_client(&server);

    let done = client.agents().move_to_site(&all, "55").await.unwrap();

    for mock in &lookups {
        mock.assert_async().await;
    }
    moved.assert_async().await;
    assert_eq!(done.affected, Some(2));
    assert_eq!(done.unmatched.len(), 10);
}
