//! Threat response on named computers (`sentinelone::threats`) against
//! httpmock: the preview's query, exact-name matching, the mitigation body
//! pinned to the previewed ids, every action's path, the no-match, too-many
//! and error paths, and refusals of bad targets before anything is sent.

use crate::support;

use httpmock::{Mock, MockServer};
use sentinelone::Error;
use sentinelone::threats::{self, ThreatAction, ThreatTarget};
use serde_json::{Value, json};
use support::{auth_header, facade_client};

const THREATS: &str = "/web/api/v2.1/threats";
const SHA1: &str = "b691598c45658e76b2c328275db988baed3b8689";

fn threat(id: &str, computer: &str) -> Value {
    json!({
        "id": id,
        "agentRealtimeInfo": { "agentComputerName": computer, "agentId": "900" },
        "threatInfo": { "threatName": "eicar.com", "mitigationStatus": "active" },
        "unknownNewField": { "kept": "ignored" }
    })
}

fn page(threats: Vec<Value>, next: Option<&str>) -> Value {
    json!({ "data": threats, "pagination": { "nextCursor": next, "totalItems": 3 } })
}

/// `GET /threats` for computer `lab1` (first page), answering `body`.
async fn list<'a>(server: &'a MockServer, body: Value) -> Mock<'a> {
    server
        .mock_async(|when, then| {
            when.method("GET")
                .path(THREATS)
                .query_param("computerName__contains", "lab1")
                .query_param("limit", "1000")
                .query_param_missing("cursor")
                .header("authorization", auth_header());
            then.status(200).json_body(body);
        })
        .await
}

/// `POST /threats/mitigate/{action}` with exactly `body`.
async fn mitigate<'a>(server: &'a MockServer, action: &str, body: Value) -> Mock<'a> {
    let path = format!("{THREATS}/mitigate/{action}");
    server
        .mock_async(|when, then| {
            when.method("POST")
                .path(path)
                .header("authorization", auth_header())
                .json_body(body);
            then.status(200)
                .json_body(json!({ "data": { "affected": 1 } }));
        })
        .await
}

/// A mock that answers anything with 500: it must never be hit.
async fn anything(server: &MockServer) -> Mock<'_> {
    server
        .mock_async(|_, then| {
            then.status(500);
        })
        .await
}

fn ids(threats: &[sentinelone::raw::types::ThreatListResponseDataItem]) -> Vec<&str> {
    threats.iter().map(|t| t.id.as_deref().unwrap()).collect()
}

fn invalid(e: Error) -> String {
    match e {
        Error::InvalidInput { message } => message,
        other => panic!("expected InvalidInput, got {other:?}"),
    }
}

#[tokio::test]
async fn kill_acts_on_exactly_the_previewed_threats_of_the_named_computer() {
    let server = MockServer::start_async().await;
    let preview = server
        .mock_async(|when, then| {
            when.method("GET")
                .path(THREATS)
                .query_param("computerName__contains", "lab1")
                .query_param("originatedProcess__contains", "svchost.exe")
                .query_param("limit", "1000");
            then.status(200).json_body(page(
                vec![threat("111", "LAB1"), threat("222", "lab10")],
                None,
            ));
        })
        .await;
    let act = mitigate(
        &server,
        "kill",
        json!({ "filter": {
            "computerName__contains": ["lab1"],
            "originatedProcess__contains": ["svchost.exe"],
            "ids": ["111"]
        }}),
    )
    .await;
    let client = facade_client(&server);
    let target = ThreatTarget::computers([" lab1 "]).process_names(["svchost.exe"]);

    let done = client.threats().kill(&target).await.unwrap();

    assert_eq!(done.action, ThreatAction::Kill);
    assert_eq!(done.affected, 1);
    assert_eq!(ids(&done.matched), vec!["111"]);
    assert_eq!(threats::computer_name(&done.matched[0]), Some("LAB1"));
    preview.assert_async().await;
    act.assert_async().await;
}

#[tokio::test]
async fn every_action_uses_its_own_path() {
    let cases: [(ThreatAction, &str); 5] = [
        (ThreatAction::Kill, "kill"),
        (ThreatAction::Quarantine, "quarantine"),
        (ThreatAction::Remediate, "remediate"),
        (ThreatAction::Rollback, "rollback-remediation"),
        (ThreatAction::Unquarantine, "un-quarantine"),
    ];
    for (action, path) in cases {
        let server = MockServer::start_async().await;
        list(&server, page(vec![threat("111", "lab1")], None)).await;
        let body = json!({ "filter": { "computerName__contains": ["lab1"], "ids": ["111"] } });
        let act = mitigate(&server, path, body).await;
        let client = facade_client(&server);
        let target = ThreatTarget::computers(["lab1"]);
        let done = match action {
            ThreatAction::Kill => client.threats().kill(&target).await,
            ThreatAction::Quarantine => client.threats().quarantine(&target).await,
            ThreatAction::Remediate => client.threats().remediate(&target).await,
            ThreatAction::Rollback => client.threats().rollback(&target).await,
            ThreatAction::Unquarantine => client.threats().unquarantine(&target).await,
        }
        .unwrap();
        assert_eq!(done.action, action);
        assert_eq!(action.as_str(), path);
        act.assert_async().await;
    }
}

#[tokio::test]
async fn every_filter_field_goes_into_the_preview_and_the_action() {
    let server = MockServer::start_async().await;
    let preview = server
        .mock_async(|when, then| {
            when.method("GET")
                .path(THREATS)
                .query_param("computerName__contains", "lab1,lab2")
                .query_param("originatedProcess__contains", "a.exe")
                .query_param("ids", "111,333")
                .query_param("filePath__contains", "C:\\Temp\\a.exe")
                .query_param("contentHashes", SHA1);
            then.status(200).json_body(page(
                vec![threat("111", "lab1"), threat("333", "lab2")],
                None,
            ));
        })
        .await;
    let act = mitigate(
        &server,
        "quarantine",
        json!({ "filter": {
            "computerName__contains": ["lab1", "lab2"],
            "originatedProcess__contains": ["a.exe"],
            "filePath__contains": ["C:\\Temp\\a.exe"],
            "contentHashes": [SHA1],
            "ids": ["111", "333"]
        }}),
    )
    .await;
    let target = ThreatTarget::computers(["lab1", "lab2"])
        .process_names(["a.exe"])
        .threat_ids(["111", "333"])
        .file_paths(["C:\\Temp\\a.exe"])
        .content_hashes([SHA1.to_ascii_uppercase()]);

    let done = facade_client(&server)
        .threats()
        .quarantine(&target)
        .await
        .unwrap();

    assert_eq!(ids(&done.matched), vec!["111", "333"]);
    preview.assert_async().await;
    act.assert_async().await;
}

#[tokio::test]
async fn the_preview_follows_cursors_and_the_action_covers_every_page() {
    let server = MockServer::start_async().await;
    list(&server, page(vec![threat("1", "lab1")], Some("c1"))).await;
    let second = server
        .mock_async(|when, then| {
            when.method("GET")
                .path(THREATS)
                .query_param("cursor", "c1")
                .query_param("computerName__contains", "lab1");
            then.status(200)
                .json_body(page(vec![threat("2", "lab1")], None));
        })
        .await;
    let act = mitigate(
        &server,
        "remediate",
        json!({ "filter": { "computerName__contains": ["lab1"], "ids": ["1", "2"] } }),
    )
    .await;

    let done = facade_client(&server)
        .threats()
        .remediate(&ThreatTarget::computers(["lab1"]))
        .await
        .unwrap();

    assert_eq!(ids(&done.matched), vec!["1", "2"]);
    second.assert_async().await;
    act.assert_async().await;
}

#[tokio::test]
async fn nothing_matching_sends_no_action() {
    let server = MockServer::start_async().await;
    let preview = list(&server, page(vec![threat("222", "lab10")], None)).await;
    let act = server
        .mock_async(|when, then| {
            when.method("POST");
            then.status(200)
                .json_body(json!({ "data": { "affected": 5 } }));
        })
        .await;

    let done = facade_client(&server)
        .threats()
        .kill(&ThreatTarget::computers(["lab1"]))
        .await
        .unwrap();

    assert_eq!(done.affected, 0);
    assert!(done.matched.is_empty());
    preview.assert_async().await;
    act.assert_calls_async(0).await;
}

#[tokio::test]
async fn partial_names_when_asked_for() {
    let server = MockServer::start_async().await;
    list(
        &server,
        page(vec![threat("111", "lab1"), threat("222", "LAB10")], None),
    )
    .await;
    let act = mitigate(
        &server,
        "kill",
        json!({ "filter": { "computerName__contains": ["lab1"], "ids": ["111", "222"] } }),
    )
    .await;
    let target = ThreatTarget::computers(["lab1"]).match_partial_names(true);

    let done = facade_client(&server)
        .threats()
        .kill(&target)
        .await
        .unwrap();

    assert_eq!(ids(&done.matched), vec!["111", "222"]);
    act.assert_async().await;
}

#[tokio::test]
async fn more_threats_than_allowed_is_refused_before_acting() {
    let server = MockServer::start_async().await;
    list(
        &server,
        page(
            vec![
                threat("1", "lab1"),
                threat("2", "lab1"),
                threat("3", "lab1"),
            ],
            None,
        ),
    )
    .await;
    let act = server
        .mock_async(|when, then| {
            when.method("POST");
            then.status(200);
        })
        .await;
    let target = ThreatTarget::computers(["lab1"]).max_threats(2);

    let err = facade_client(&server)
        .threats()
        .quarantine(&target)
        .await
        .unwrap_err();

    assert_eq!(
        invalid(err),
        "more than 2 threats match the target; narrow it or raise max_threats"
    );
    act.assert_calls_async(0).await;
}

#[tokio::test]
async fn a_console_error_on_the_action_names_the_operation_and_status() {
    let server = MockServer::start_async().await;
    list(&server, page(vec![threat("111", "lab1")], None)).await;
    server
        .mock_async(|when, then| {
            when.method("POST")
                .path(format!("{THREATS}/mitigate/rollback-remediation"));
            then.status(400).json_body(json!({ "errors": [
                { "code": 4000010, "title": "Validation Error", "detail": "rollback is Windows only" }
            ]}));
        })
        .await;

    let err = facade_client(&server)
        .threats()
        .rollback(&ThreatTarget::computers(["lab1"]))
        .await
        .unwrap_err();

    match err {
        Error::Api {
            status,
            operation,
            errors,
        } => {
            assert_eq!(status, 400);
            assert_eq!(operation, "mitigate_threats");
            assert_eq!(
                errors[0].detail.as_deref(),
                Some("rollback is Windows only")
            );
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_console_error_on_the_preview_stops_before_acting() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method("GET").path(THREATS);
            then.status(401).json_body(
                json!({ "errors": [{ "code": 4010010, "title": "Authentication Failed" }] }),
            );
        })
        .await;
    let act = server
        .mock_async(|when, then| {
            when.method("POST");
            then.status(200);
        })
        .await;

    let err = facade_client(&server)
        .threats()
        .kill(&ThreatTarget::computers(["lab1"]))
        .await
        .unwrap_err();

    assert_eq!(err.status(), Some(401));
    assert_eq!(err.operation(), Some("list_threats"));
    act.assert_calls_async(0).await;
}

#[tokio::test]
async fn bad_targets_are_refused_before_anything_is_sent() {
    let server = MockServer::start_async().await;
    let any = anything(&server).await;
    let client = facade_client(&server);
    let none: [&str; 0] = [];
    let cases = [
        (
            ThreatTarget::computers(none),
            "computer_names: at least one value is required",
        ),
        (
            ThreatTarget::computers(["lab1", "  "]),
            "computer_names[1] is empty",
        ),
        (
            ThreatTarget::computers(["lab1"]).threat_ids(["12x"]),
            "threat_ids[0] \"12x\" is not a SentinelOne id (decimal digits)",
        ),
        (
            ThreatTarget::computers(["lab1"]).content_hashes(["d41d8cd98f00b204e9800998ecf8427e"]),
            "content_hashes[0] \"d41d8cd98f00b204e9800998ecf8427e\" is not a SHA-1 hash: 40 hexadecimal characters expected (this looks like an MD5)",
        ),
        (
            ThreatTarget::computers(["lab1"]).process_names([""]),
            "process_names[0] is empty",
        ),
        (
            ThreatTarget::computers(["lab1"]).max_threats(0),
            "max_threats 0 is out of range: 1 to 1000000",
        ),
    ];
    for (target, expected) in cases {
        let err = client.threats().kill(&target).await.unwrap_err();
        assert_eq!(invalid(err), expected);
        let err = client.threats().preview(&target).await.unwrap_err();
        assert_eq!(invalid(err), expected);
    }
    any.assert_calls_async(0).await;
}

#[tokio::test]
async fn preview_lists_without_acting() {
    let server = MockServer::start_async().await;
    let preview = list(
        &server,
        page(vec![threat("111", "lab1"), threat("222", "lab1")], None),
    )
    .await;
    let act = server
        .mock_async(|when, then| {
            when.method("POST");
            then.status(200);
        })
        .await;

    let found = facade_client(&server)
        .threats()
        .preview(&ThreatTarget::computers(["lab1"]))
        .await
        .unwrap();

    assert_eq!(ids(&found), vec!["111", "222"]);
    assert_eq!(
        found[0]
            .threat_info
            .as_ref()
            .unwrap()
            .threat_name
            .as_deref(),
        Some("eicar.com")
    );
    preview.assert_async().await;
    act.assert_calls_async(0).await;
}

#[tokio::test]
async fn resolve_sets_the_incident_status_of_the_threat_ids_and_the_agent() {
    let server = MockServer::start_async().await;
    let mark = server
        .mock_async(|when, then| {
            when.method("POST")
                .path(format!("{THREATS}/incident"))
                .header("authorization", auth_header())
                .header("content-type", "application/json")
                .json_body(json!({
                    "filter": { "ids": ["111", "222"], "agentIds": ["900"] },
                    "data": { "incidentStatus": "resolved" }
                }));
            then.status(200)
                .json_body(json!({ "data": { "affected": 2 } }));
        })
        .await;

    let done = facade_client(&server)
        .threats()
        .resolve(&["111".to_string(), " 222".to_string()], "900")
        .await
        .unwrap();

    assert_eq!(done.affected, Some(2));
    assert_eq!(done.response["data"]["affected"], 2);
    mark.assert_async().await;
}

#[tokio::test]
async fn resolve_refuses_missing_or_bad_ids() {
    let server = MockServer::start_async().await;
    let any = anything(&server).await;
    let client = facade_client(&server);

    let err = client.threats().resolve(&[], "900").await.unwrap_err();
    assert_eq!(invalid(err), "threat_ids: at least one value is required");
    let err = client
        .threats()
        .resolve(&["111".into()], "")
        .await
        .unwrap_err();
    assert_eq!(invalid(err), "agent_id is required");
    let err = client
        .threats()
        .resolve(&["abc".into()], "900")
        .await
        .unwrap_err();
    assert_eq!(
        invalid(err),
        "threat_ids[0] \"abc\" is not a SentinelOne id (decimal digits)"
    );
    any.assert_calls_async(0).await;
}
