//! The exact requests the generated client sends, one test (at least) per
//! tag of the spec: method, full path, the whole decoded query (nothing
//! missing, nothing extra, nothing repeated), the JSON body and the token
//! header, and that the typed response decodes what the console returned.
//!
//! Also covered: array query parameters go out as one comma-joined value
//! (`ids=1,2`, never `ids=1&ids=2`), a SentinelOne 400 decodes into
//! `Error::ErrorResponse` with a typed `ApiError`, a binary download comes
//! back byte for byte, and the typed httpmock helpers of
//! `sentinelone_generated::mock`.

use crate::support;

use std::sync::{Arc, Mutex};

use httpmock::Method::{self, DELETE, GET, POST, PUT};
use httpmock::{HttpMockRequest, MockServer, Then, When};
use sentinelone_generated::mock::MockServerExt;
use sentinelone_generated::prelude::*;
use sentinelone_generated::{ByteStream, Error, types};
use serde_json::{Value, json};

/// Every path of the Management API v2.1 starts with this.
const API: &str = "/web/api/v2.1";

/// A typed value from JSON (request bodies and responses read better so).
fn from_json<T: serde::de::DeserializeOwned>(value: Value) -> T {
    serde_json::from_value(value).expect("the JSON matches its schema")
}

/// What a typed value holds, as JSON: for parts whose Rust shape is an
/// implementation detail (nullable wrappers, shared pagination structs).
fn typed_json<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).expect("typed values serialize")
}

/// A `chrono::DateTime<Utc>`. chrono is no dependency of the tests, so the
/// value comes out of a generated type that holds one.
macro_rules! utc {
    ($rfc3339:literal) => {
        from_json::<types::AlertFilter>(json!({ "createdAt__gt": $rfc3339 }))
            .created_at_gt
            .expect("a date-time")
    };
}

/// `method` on exactly `/web/api/v2.1{path}`, with the test token.
fn request(when: When, method: Method, path: &str) -> When {
    when.method(method)
        .path(format!("{API}{path}"))
        .header("authorization", support::auth_header())
}

/// The request's query, decoded, is exactly `expected`: every pair once and
/// no other pair (so a list sent as repeated keys, or an unset optional
/// parameter sent anyway, does not match).
fn query(when: When, expected: &[(&str, &str)]) -> When {
    let mut expected: Vec<(String, String)> = expected
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    expected.sort();
    let when = expected
        .iter()
        .fold(when, |when, (k, v)| when.query_param(k, v));
    when.is_true(move |req: &HttpMockRequest| {
        let mut sent = req.query_params();
        sent.sort();
        sent == expected
    })
}

/// The request carries exactly this JSON body, declared as JSON.
fn json_body(when: When, body: &Value) -> When {
    when.header("content-type", "application/json")
        .json_body(body.clone())
}

/// A 200 with a JSON body.
fn ok(then: Then, body: Value) {
    then.status(200)
        .header("content-type", "application/json")
        .json_body(body);
}

/// Reads a `ByteStream` to its end. The tests have no `futures` crate to
/// poll it with, so reqwest streams it as the body of a request to a sink
/// on `server`, which records the bytes that arrive.
async fn collect(server: &MockServer, stream: ByteStream) -> Vec<u8> {
    let received = Arc::new(Mutex::new(None::<Vec<u8>>));
    let sink = {
        let received = Arc::clone(&received);
        server
            .mock_async(move |when, then| {
                when.method(POST).path("/__byte-stream-sink").is_true(
                    move |req: &HttpMockRequest| {
                        *received.lock().unwrap() = Some(req.body_ref().to_vec());
                        true
                    },
                );
                then.status(204);
            })
            .await
    };
    let response = support::http_client()
        .post(server.url("/__byte-stream-sink"))
        .body(reqwest::Body::wrap_stream(stream.into_inner()))
        .send()
        .await
        .expect("the stream reaches the sink");
    assert_eq!(response.status(), 204);
    sink.assert_calls_async(1).await;
    received
        .lock()
        .unwrap()
        .take()
        .expect("the sink saw the body")
}

// ---------------------------------------------------------------- Accounts

#[tokio::test]
async fn accounts_list_accounts() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            let when = request(when, GET, "/accounts");
            query(
                when,
                &[
                    ("accountIds", "1001,1002"),
                    ("states", "active,expired"),
                    ("accountType", "Paid"),
                    ("countOnly", "false"),
                    ("limit", "50"),
                    ("query", "acme corp"),
                    ("sortBy", "name"),
                    ("sortOrder", "desc"),
                ],
            );
            ok(
                then,
                json!({
                    "data": [{
                        "id": "1001",
                        "name": "Acme Corp",
                        "accountType": "Paid",
                        "state": "active",
                        "activeAgents": 42,
                        "isDefault": false,
                        "createdAt": "2023-01-05T10:00:00.000000Z"
                    }],
                    "pagination": {"nextCursor": "YWNjb3VudDoxMDAy", "totalItems": 2}
                }),
            );
        })
        .await;

    let response = support::raw_client(&server)
        .list_accounts()
        .account_ids(["1001", "1002"])
        .states(vec!["active", "expired"])
        .account_type(types::ListAccountsAccountType::Paid)
        .count_only(false)
        .limit(50)
        .query("acme corp")
        .sort_by(types::ListAccountsSortBy::Name)
        .sort_order(types::ListAccountsSortOrder::Desc)
        .send()
        .await
        .expect("list_accounts");

    mock.assert_async().await;
    assert_eq!(response.status(), 200);
    let body = response.into_inner();
    let accounts = support::typed(body.data.expect("data"));
    assert_eq!(accounts.len(), 1);
    assert_eq!(accounts[0].id.as_deref(), Some("1001"));
    assert_eq!(accounts[0].name.as_deref(), Some("Acme Corp"));
    assert_eq!(accounts[0].account_type.as_deref(), Some("Paid"));
    assert_eq!(accounts[0].active_agents, Some(42));
    assert_eq!(accounts[0].is_default, Some(false));
    assert_eq!(
        typed_json(&body.pagination),
        json!({"nextCursor": "YWNjb3VudDoxMDAy", "totalItems": 2})
    );
}

// -------------------------------------------------------------- Activities

#[tokio::test]
async fn activities_list_activities() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            let when = request(when, GET, "/activities");
            query(
                when,
                &[
                    ("activityTypes", "27,80"),
                    ("agentIds", "225494730938493804"),
                    ("createdAt__gt", "2024-05-01T00:00:00.000Z"),
                    ("includeHidden", "false"),
                    ("limit", "100"),
                    ("sortOrder", "desc"),
                ],
            );
            ok(
                then,
                json!({
                    "data": [{
                        "id": "1960000000000000001",
                        "activityType": 27,
                        "agentId": "225494730938493804",
                        "primaryDescription": "User jane@example.com logged in to the management console.",
                        "createdAt": "2024-05-02T08:15:00.000000Z"
                    }],
                    "pagination": {"nextCursor": null, "totalItems": 1}
                }),
            );
        })
        .await;

    let response = support::raw_client(&server)
        .list_activities()
        .activity_types([27, 80])
        .agent_ids(["225494730938493804"])
        .created_at_gt(utc!("2024-05-01T00:00:00Z"))
        .include_hidden(false)
        .limit(100)
        .sort_order(types::ListActivitiesSortOrder::Desc)
        .send()
        .await
        .expect("list_activities");

    mock.assert_async().await;
    let activities = support::typed(response.into_inner().data.expect("data"));
    assert_eq!(activities.len(), 1);
    assert_eq!(activities[0].activity_type, Some(27));
    assert_eq!(
        activities[0].agent_id.as_deref(),
        Some("225494730938493804")
    );
    assert_eq!(
        activities[0].primary_description.as_deref(),
        Some("User jane@example.com logged in to the management console.")
    );
}

// ----------------------------------------------------------- Agent Actions

#[tokio::test]
async fn agent_actions_fetch_agent_files() {
    let server = MockServer::start_async().await;
    let body = json!({
        "data": {
            "files": ["C:\\Windows\\System32\\drivers\\etc\\hosts", "/var/log/syslog"],
            "password": "Passw0rd!Long"
        }
    });
    let mock = server
        .mock_async(|when, then| {
            let when = request(when, POST, "/agents/225494730938493804/actions/fetch-files");
            json_body(query(when, &[]), &body);
            ok(then, json!({"data": {"success": true}}));
        })
        .await;

    let response = support::raw_client(&server)
        .fetch_agent_files()
        .agent_id("225494730938493804")
        .body(types::AgentFetchFilesActionRequest {
            data: types::AgentFetchFilesActionRequestData {
                files: vec![
                    "C:\\Windows\\System32\\drivers\\etc\\hosts".to_string(),
                    "/var/log/syslog".to_string(),
                ],
                password: "Passw0rd!Long".to_string(),
            },
        })
        .send()
        .await
        .expect("fetch_agent_files");

    mock.assert_async().await;
    assert_eq!(
        response.into_inner().data.expect("data").success,
        Some(true)
    );
}

/// A body with required fields has no default: leaving it out is an
/// error before anything is sent, never an empty or half-filled body.
#[tokio::test]
async fn a_required_body_left_out_fails_before_sending() {
    let server = MockServer::start_async().await;
    let any = server
        .mock_async(|_, then| {
            then.status(200);
        })
        .await;

    let outcome = support::raw_client(&server)
        .fetch_agent_files()
        .agent_id("225494730938493804")
        .send()
        .await;

    let Err(Error::InvalidRequest(message)) = outcome else {
        panic!("expected InvalidRequest, got {outcome:?}");
    };
    assert_eq!(message, "no body was given: call .body(..) before .send()");
    assert_eq!(any.calls_async().await, 0);
}

// ------------------------------------------------------------------ Agents

#[tokio::test]
async fn agents_list_agents() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            let when = request(when, GET, "/agents");
            query(
                when,
                &[
                    ("ids", "225494730938493804,225494730938493915"),
                    ("siteIds", "11"),
                    ("computerName__contains", "web,db"),
                    ("osTypes", "windows,linux"),
                    ("isActive", "true"),
                    ("limit", "2"),
                ],
            );
            ok(
                then,
                json!({
                    "data": [
                        {"id": "225494730938493804", "computerName": "web-01", "osType": "linux",
                         "isActive": true, "networkStatus": "connected", "siteId": "11"},
                        {"id": "225494730938493915", "computerName": "db-01", "osType": "windows",
                         "isActive": true, "networkStatus": "disconnected", "siteId": "11"}
                    ],
                    "pagination": {"nextCursor": null, "totalItems": 2}
                }),
            );
        })
        .await;

    let response = support::raw_client(&server)
        .list_agents()
        .ids(["225494730938493804", "225494730938493915"])
        .site_ids(["11"])
        .computer_name_contains(["web", "db"])
        .os_types(["windows", "linux"])
        .is_active(true)
        .limit(2)
        .send()
        .await
        .expect("list_agents");

    mock.assert_async().await;
    let agents = support::typed(response.into_inner().data.expect("data"));
    let names: Vec<_> = agents
        .iter()
        .map(|a| a.computer_name.as_deref().unwrap())
        .collect();
    assert_eq!(names, ["web-01", "db-01"]);
    assert_eq!(agents[1].network_status.as_deref(), Some("disconnected"));
    assert_eq!(agents[1].os_type.as_deref(), Some("windows"));
}

/// A `CsvList` goes on the wire as ONE comma-joined value (`ids=1%2C2`),
/// not as the repeated keys (`ids=1&ids=2`) progenitor uses for arrays.
#[tokio::test]
async fn csv_list_is_one_comma_joined_value_not_repeated_keys() {
    let server = MockServer::start_async().await;
    let joined = server
        .mock_async(|when, then| {
            request(when, GET, "/agents/applications")
                .query_param("ids", "1,2")
                .query_param_count("^ids$", ".*", 1)
                .is_true(|req: &HttpMockRequest| {
                    // Raw, before decoding: the comma is escaped or plain.
                    matches!(req.uri().query(), Some("ids=1%2C2" | "ids=1,2"))
                });
            ok(then, json!({"data": []}));
        })
        .await;
    // Would answer if each value were sent under its own `ids` key.
    let repeated = server
        .mock_async(|when, then| {
            when.path(format!("{API}/agents/applications"))
                .query_param("ids", "1");
            then.status(500);
        })
        .await;

    let response = support::raw_client(&server)
        .list_agent_applications()
        .ids(["1", "2"])
        .send()
        .await
        .expect("list_agent_applications");

    joined.assert_calls_async(1).await;
    repeated.assert_calls_async(0).await;
    assert!(response.into_inner().data.expect("data").is_empty());
}

#[tokio::test]
async fn agents_download_agent_upload_streams_the_zip() {
    // A zip signature, then every byte value: nothing may be re-encoded.
    let mut zip = b"PK\x03\x04".to_vec();
    zip.extend(0..=255u8);
    zip.extend(b"PK\x05\x06\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0");

    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            let when = request(
                when,
                GET,
                "/agents/225494730938493804/uploads/1800000000000000001",
            );
            query(when, &[]);
            then.status(200)
                .header("content-type", "application/zip")
                .header("content-disposition", "attachment; filename=upload.zip")
                .body(&zip);
        })
        .await;

    let response = support::raw_client(&server)
        .download_agent_upload()
        .agent_id("225494730938493804")
        .activity_id("1800000000000000001")
        .send()
        .await
        .expect("download_agent_upload");

    mock.assert_async().await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/zip");
    assert_eq!(response.content_length(), Some(zip.len() as u64));
    let bytes = collect(&server, response.into_inner()).await;
    assert_eq!(bytes, zip);
}

#[tokio::test]
async fn agents_list_agents_400_decodes_the_api_error() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            let when = request(when, GET, "/agents");
            query(when, &[("limit", "5000")]);
            then.status(400)
                .header("content-type", "application/json")
                .json_body(json!({
                    "errors": [{
                        "code": 4000010,
                        "title": "Validation Error",
                        "detail": "limit: Must be between 1 and 1000."
                    }]
                }));
        })
        .await;

    let error = support::raw_client(&server)
        .list_agents()
        .limit(5000)
        .send()
        .await
        .expect_err("a 400 is an error");

    mock.assert_async().await;
    assert_eq!(error.status().map(|s| s.as_u16()), Some(400));
    let Error::ErrorResponse(response) = error else {
        panic!("expected Error::ErrorResponse, got {error:?}");
    };
    assert_eq!(response.status(), 400);
    let api_error: types::ApiError = response.into_inner();
    let errors = api_error.errors.expect("errors");
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].code, Some(4000010));
    assert_eq!(errors[0].title.as_deref(), Some("Validation Error"));
    assert_eq!(
        errors[0].detail.as_deref(),
        Some("limit: Must be between 1 and 1000.")
    );
}

// ------------------------------------------------------------------ Alerts

#[tokio::test]
async fn alerts_set_alert_analyst_verdict() {
    let server = MockServer::start_async().await;
    let body = json!({
        "data": {"analystVerdict": "TRUE_POSITIVE"},
        "filter": {"ids": ["1791114563291399600"], "analystVerdict": ["UNDEFINED"]}
    });
    let mock = server
        .mock_async(|when, then| {
            let when = request(when, POST, "/cloud-detection/alerts/analyst-verdict");
            json_body(query(when, &[]), &body);
            ok(then, json!({"data": {"affected": 1}}));
        })
        .await;

    let response = support::raw_client(&server)
        .set_alert_analyst_verdict()
        .body(from_json::<types::AlertsAnalystVerdictRequest>(
            body.clone(),
        ))
        .send()
        .await
        .expect("set_alert_analyst_verdict");

    mock.assert_async().await;
    assert_eq!(response.into_inner().data.expect("data").affected, Some(1));
}

// -------------------------------------------------- Application Management

#[tokio::test]
async fn application_management_get_application_management_risk() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            let when = request(
                when,
                GET,
                "/private/application-management/risks/1829938001234567890",
            );
            query(when, &[("siteIds", "11,12")]);
            ok(
                then,
                json!({
                    "data": {
                        "vulnerabilityDetails": {
                            "cveId": "CVE-2024-3094",
                            "applicationName": "xz-utils",
                            "severity": "CRITICAL",
                            "baseScore": "10.0"
                        },
                        "riskScore": {"riskScore": "9.8", "isExploitedInTheWild": true}
                    }
                }),
            );
        })
        .await;

    let response = support::raw_client(&server)
        .get_application_management_risk()
        .id("1829938001234567890")
        .site_ids(["11", "12"])
        .send()
        .await
        .expect("get_application_management_risk");

    mock.assert_async().await;
    let data = response.into_inner().data.expect("data");
    let details = data.vulnerability_details.expect("vulnerabilityDetails");
    assert_eq!(details.cve_id.as_deref(), Some("CVE-2024-3094"));
    assert_eq!(details.severity.as_deref(), Some("CRITICAL"));
    let score = data.risk_score.expect("riskScore");
    assert_eq!(score.risk_score.as_deref(), Some("9.8"));
    assert_eq!(score.is_exploited_in_the_wild, Some(true));
}

// ----------------------------------------- Application Management Settings

#[tokio::test]
async fn application_management_settings_create_application_management_setting() {
    let server = MockServer::start_async().await;
    let body = json!({
        "data": {"vulnerabilitiesScanEnabled": true, "extensiveScanEnabled": false},
        "filter": {"siteIds": ["11"]}
    });
    let mock = server
        .mock_async(|when, then| {
            let when = request(when, POST, "/application-management/settings");
            json_body(query(when, &[]), &body);
            ok(
                then,
                json!({"data": {
                    "vulnerabilitiesScanEnabled": true,
                    "extensiveScanEnabled": false,
                    "inheritedFrom": "account"
                }}),
            );
        })
        .await;

    let response = support::raw_client(&server)
        .create_application_management_setting()
        .body(from_json::<types::ApplicationManagementSettingsRequest>(
            body.clone(),
        ))
        .send()
        .await
        .expect("create_application_management_setting");

    mock.assert_async().await;
    let data = response.into_inner().data.expect("data");
    assert_eq!(data.vulnerabilities_scan_enabled, Some(true));
    assert_eq!(data.extensive_scan_enabled, Some(false));
    assert_eq!(data.inherited_from.as_deref(), Some("account"));
}

// -------------------------------------------------------- Application Risk

#[tokio::test]
async fn application_risk_list_installed_applications() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            let when = request(when, GET, "/installed-applications");
            query(
                when,
                &[
                    ("riskLevels", "high,critical"),
                    ("name__contains", "chrome,firefox"),
                    ("osTypes", "windows"),
                    ("sortBy", "riskLevel"),
                    ("limit", "25"),
                ],
            );
            ok(
                then,
                json!({
                    "data": [{
                        "id": "1500000000000000001",
                        "name": "Google Chrome",
                        "publisher": "Google LLC",
                        "version": "124.0.6367.91",
                        "riskLevel": "high",
                        "size": 345000000,
                        "agentComputerName": "WS-001"
                    }],
                    "pagination": {"nextCursor": null, "totalItems": 1}
                }),
            );
        })
        .await;

    let response = support::raw_client(&server)
        .list_installed_applications()
        .risk_levels(["high", "critical"])
        .name_contains(["chrome", "firefox"])
        .os_types(["windows"])
        .sort_by(types::ListInstalledApplicationsSortBy::RiskLevel)
        .limit(25)
        .send()
        .await
        .expect("list_installed_applications");

    mock.assert_async().await;
    let apps = support::typed(response.into_inner().data.expect("data"));
    assert_eq!(apps[0].name.as_deref(), Some("Google Chrome"));
    assert_eq!(apps[0].risk_level.as_deref(), Some("high"));
    assert_eq!(apps[0].size, Some(345000000));
}

// ----------------------------------------------------- Auto Upgrade Policy

#[tokio::test]
async fn auto_upgrade_policy_list_upgrade_policies() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            let when = request(when, GET, "/upgrade-policy/policies");
            query(
                when,
                &[
                    ("limit", "20"),
                    ("osType", "windows"),
                    ("scopeId", "11"),
                    ("scopeLevel", "site"),
                    ("skip", "0"),
                    ("sortBy", "name"),
                    ("sortOrder", "asc"),
                ],
            );
            ok(
                then,
                json!({
                    "data": {
                        "isInherited": false,
                        "policiesInChildScope": true,
                        "policies": [{"id": "77", "name": "Windows GA", "osType": "windows"}]
                    },
                    "pagination": {"totalItems": 1}
                }),
            );
        })
        .await;

    let response = support::raw_client(&server)
        .list_upgrade_policies()
        .limit(20)
        .os_type("windows")
        .scope_id("11")
        .scope_level("site")
        .skip(0)
        .sort_by("name")
        .sort_order("asc")
        .send()
        .await
        .expect("list_upgrade_policies");

    mock.assert_async().await;
    let body = response.into_inner();
    let data = body.data.expect("data");
    assert_eq!(data.is_inherited, Some(false));
    let policies = data.policies.expect("policies");
    assert_eq!(policies[0].name.as_deref(), Some("Windows GA"));
    assert_eq!(body.pagination.expect("pagination").total_items, Some(1));
}

// ------------------------------------------------------------ Cloud Funnel

#[tokio::test]
async fn cloud_funnel_get_cloud_funnel_onboarding() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            let when = request(when, GET, "/cloud-funnel/onboarding");
            query(when, &[("accountId", "1001")]);
            ok(
                then,
                json!({"data": {
                    "id": "cf-1",
                    "cloudProvider": "aws",
                    "bucketUrl": "s3://acme-telemetry/s1",
                    "useAssumeRole": true,
                    "desiredFields": ["agentId", "eventType"]
                }}),
            );
        })
        .await;

    let response = support::raw_client(&server)
        .get_cloud_funnel_onboarding()
        .account_id("1001")
        .send()
        .await
        .expect("get_cloud_funnel_onboarding");

    mock.assert_async().await;
    let data = response.into_inner().data.expect("data");
    assert_eq!(data.cloud_provider.as_deref(), Some("aws"));
    assert_eq!(data.bucket_url.as_deref(), Some("s3://acme-telemetry/s1"));
    assert_eq!(data.use_assume_role, Some(true));
    assert_eq!(
        data.desired_fields.expect("desiredFields"),
        ["agentId", "eventType"]
    );
}

// -------------------------------------------------- Cloud Provider Account

#[tokio::test]
async fn cloud_provider_account_get_active_health_events() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            let when = request(
                when,
                GET,
                "/cloudnative/account-management/active-health-events/cpa-42",
            );
            query(when, &[("accountIds", "1001,1002"), ("tenant", "true")]);
            ok(
                then,
                json!({"data": [{
                    "cloudProviderAccountId": "cpa-42",
                    "healthStatus": "Degraded",
                    "title": "Missing permissions",
                    "detectedAt": "2024-05-02T08:15:00Z"
                }]}),
            );
        })
        .await;

    let response = support::raw_client(&server)
        .get_cloudnative_account_management_active_health_event()
        .cloud_provider_account_id("cpa-42")
        .account_ids(["1001", "1002"])
        .tenant(true)
        .send()
        .await
        .expect("get_cloudnative_account_management_active_health_event");

    mock.assert_async().await;
    let events = support::typed(response.into_inner().data.expect("data"));
    assert_eq!(
        events[0].cloud_provider_account_id.as_deref(),
        Some("cpa-42")
    );
    assert_eq!(events[0].health_status.as_deref(), Some("Degraded"));
    assert_eq!(events[0].title.as_deref(), Some("Missing permissions"));
}

// --------------------------------------------------------- Cloud Resources

#[tokio::test]
async fn cloud_resources_list_cloudnative_cloud_rogues() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            let when = request(when, GET, "/cloudnative/cloud-rogues");
            query(
                when,
                &[
                    ("cloudProviderName", "aws,azure"),
                    ("region", "us-east-1,eu-west-1"),
                    ("limit", "10"),
                    ("sortBy", "createdTime"),
                ],
            );
            ok(
                then,
                json!({
                    "data": {"resources": [{
                        "id": "i-0abc123def4567890",
                        "name": "orphan-vm",
                        "cloudProviderName": "aws",
                        "region": "us-east-1",
                        "resourceType": "EC2 Instance"
                    }]},
                    "pagination": {"nextCursor": null, "totalItems": 1}
                }),
            );
        })
        .await;

    let response = support::raw_client(&server)
        .list_cloudnative_cloud_rogues()
        .cloud_provider_name(["aws", "azure"])
        .region(["us-east-1", "eu-west-1"])
        .limit(10)
        .sort_by(types::ListCloudnativeCloudRoguesSortBy::CreatedTime)
        .send()
        .await
        .expect("list_cloudnative_cloud_rogues");

    mock.assert_async().await;
    let resources = response
        .into_inner()
        .data
        .and_then(|d| d.resources)
        .expect("data.resources");
    assert_eq!(resources[0].id.as_deref(), Some("i-0abc123def4567890"));
    assert_eq!(resources[0].region.as_deref(), Some("us-east-1"));
    assert_eq!(resources[0].resource_type.as_deref(), Some("EC2 Instance"));
}

// -------------------------------------------------------- Config Overrides

#[tokio::test]
async fn config_overrides_update_config_override() {
    let server = MockServer::start_async().await;
    let body = json!({
        "data": {
            "name": "Verbose logging",
            "description": "Temporary, for case 4711",
            "osType": "linux",
            "versionOption": "ALL",
            "config": {"logging": {"level": "debug"}}
        }
    });
    let mock = server
        .mock_async(|when, then| {
            let when = request(when, PUT, "/config-override/901");
            json_body(query(when, &[]), &body);
            ok(
                then,
                json!({"data": {
                    "id": "901",
                    "name": "Verbose logging",
                    "osType": "linux",
                    "versionOption": "ALL",
                    "scope": "site",
                    "config": {"logging": {"level": "debug"}}
                }}),
            );
        })
        .await;

    let response = support::raw_client(&server)
        .update_config_override()
        .override_id("901")
        .body(from_json::<types::PutConfigOverrideRequest>(body.clone()))
        .send()
        .await
        .expect("update_config_override");

    mock.assert_async().await;
    let data = response.into_inner().data.expect("data");
    assert_eq!(data.id.as_deref(), Some("901"));
    assert_eq!(data.version_option.as_deref(), Some("ALL"));
    assert_eq!(
        Value::Object(data.config.expect("config")),
        json!({"logging": {"level": "debug"}})
    );
}

// --------------------------------------------------- Custom Detection Rule

#[tokio::test]
async fn custom_detection_rule_enable_cloud_detection_rules() {
    let server = MockServer::start_async().await;
    let body = json!({"filter": {"ids": ["1234", "5678"]}});
    let mock = server
        .mock_async(|when, then| {
            let when = request(when, PUT, "/cloud-detection/rules/enable");
            json_body(query(when, &[]), &body);
            ok(then, json!({"data": {"affected": 2}}));
        })
        .await;

    let response = support::raw_client(&server)
        .enable_cloud_detection_rules()
        .body(from_json::<types::FilterRuleRequest>(body.clone()))
        .send()
        .await
        .expect("enable_cloud_detection_rules");

    mock.assert_async().await;
    assert_eq!(response.into_inner().data.expect("data").affected, Some(2));
}

// --------------------------------------------------------- Deep Visibility

#[tokio::test]
async fn deep_visibility_list_dv_events_by_type() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            let when = request(when, GET, "/dv/events/process");
            query(
                when,
                &[
                    ("queryId", "q1a2b3c4d5"),
                    ("cursor", "eyJpZCI6IDQyfQ=="),
                    ("limit", "10"),
                    ("sortOrder", "desc"),
                ],
            );
            ok(
                then,
                json!({
                    "data": [{
                        "id": "e-1",
                        "eventType": "Process Creation",
                        "processName": "powershell.exe",
                        "pid": "4242",
                        "agentName": "WS-001",
                        "srcPort": null
                    }],
                    "pagination": {"nextCursor": null, "totalItems": 1}
                }),
            );
        })
        .await;

    let response = support::raw_client(&server)
        .list_dv_events_by_type()
        .event_type("process")
        .query_id("q1a2b3c4d5")
        .cursor("eyJpZCI6IDQyfQ==")
        .limit(10)
        .sort_order(types::ListDvEventsByTypeSortOrder::Desc)
        .send()
        .await
        .expect("list_dv_events_by_type");

    mock.assert_async().await;
    let events = support::typed(response.into_inner().data.expect("data"));
    assert_eq!(events[0].event_type.as_deref(), Some("Process Creation"));
    assert_eq!(events[0].process_name.as_deref(), Some("powershell.exe"));
    assert_eq!(events[0].pid.as_deref(), Some("4242"));
    assert_eq!(events[0].src_port, None);
}

// ---------------------------------------------------------- Device Control

#[tokio::test]
async fn device_control_update_device_control_rule() {
    let server = MockServer::start_async().await;
    let body = json!({
        "data": {
            "ruleName": "Block USB mass storage",
            "action": "Block",
            "status": "Enabled",
            "interface": "USB",
            "ruleType": "class",
            "deviceClass": "08",
            "accessPermission": "Not-Applicable"
        }
    });
    let mock = server
        .mock_async(|when, then| {
            let when = request(when, PUT, "/device-control/31");
            json_body(query(when, &[]), &body);
            ok(
                then,
                json!({"data": {
                    "id": "31",
                    "ruleName": "Block USB mass storage",
                    "ruleType": "class",
                    "action": "Block",
                    "status": "Enabled"
                }}),
            );
        })
        .await;

    let response = support::raw_client(&server)
        .update_device_control_rule()
        .rule_id("31")
        .body(from_json::<types::PutDeviceRequest>(body.clone()))
        .send()
        .await
        .expect("update_device_control_rule");

    mock.assert_async().await;
    let data = response.into_inner().data.expect("data");
    assert_eq!(data.rule_name.as_deref(), Some("Block USB mass storage"));
    assert_eq!(data.action.as_deref(), Some("Block"));
    assert_eq!(data.status.as_deref(), Some("Enabled"));
}

// ------------------------------------------------ Exclusions And Blocklist

#[tokio::test]
async fn exclusions_and_blocklist_create_restriction() {
    let server = MockServer::start_async().await;
    let body = json!({
        "data": {
            "type": "black_hash",
            "osType": "windows",
            "value": "3395856ce81f2b7382dee72602f798b642f14140",
            "description": "EICAR test file"
        },
        "filter": {"siteIds": ["11"]}
    });
    let mock = server
        .mock_async(|when, then| {
            let when = request(when, POST, "/restrictions");
            json_body(query(when, &[]), &body);
            ok(
                then,
                json!({"data": [{
                    "id": "1650000000000000001",
                    "type": "black_hash",
                    "osType": "windows",
                    "value": "3395856ce81f2b7382dee72602f798b642f14140",
                    "description": "EICAR test file",
                    "scopeName": "Default site"
                }]}),
            );
        })
        .await;

    let response = support::raw_client(&server)
        .create_restriction()
        .body(from_json::<types::PostRestrictionRequest>(body.clone()))
        .send()
        .await
        .expect("create_restriction");

    mock.assert_async().await;
    let created = support::typed(response.into_inner().data.expect("data"));
    assert_eq!(created[0].type_.as_deref(), Some("black_hash"));
    assert_eq!(
        created[0].value.as_deref(),
        Some("3395856ce81f2b7382dee72602f798b642f14140")
    );
    assert_eq!(created[0].scope_name.as_deref(), Some("Default site"));
}

// ----------------------------------------------------------------- Filters

#[tokio::test]
async fn filters_update_filter() {
    let server = MockServer::start_async().await;
    let body = json!({
        "data": {
            "name": "Offline Windows",
            "filterFields": {"osTypes": ["windows"], "networkStatuses": ["disconnected"]}
        }
    });
    let mock = server
        .mock_async(|when, then| {
            let when = request(when, PUT, "/filters/555");
            json_body(query(when, &[]), &body);
            ok(
                then,
                json!({"data": {"id": "555", "name": "Offline Windows", "scopeLevel": "site"}}),
            );
        })
        .await;

    let response = support::raw_client(&server)
        .update_filter()
        .filter_id("555")
        .body(from_json::<types::UpdateFilterRequest>(body.clone()))
        .send()
        .await
        .expect("update_filter");

    mock.assert_async().await;
    let data = response.into_inner().data.expect("data");
    assert_eq!(data.id.as_deref(), Some("555"));
    assert_eq!(data.name.as_deref(), Some("Offline Windows"));
    assert_eq!(data.scope_level.as_deref(), Some("site"));
}

// -------------------------------------------------------- Firewall Control

#[tokio::test]
async fn firewall_control_create_firewall_rule() {
    let server = MockServer::start_async().await;
    let body = json!({
        "data": {
            "name": "Block inbound SMB",
            "action": "Block",
            "status": "Enabled",
            "direction": "inbound",
            "osTypes": ["windows"],
            "protocol": "TCP",
            "localPort": {"type": "ports", "values": [445]}
        },
        "filter": {"siteIds": ["11"]}
    });
    let mock = server
        .mock_async(|when, then| {
            let when = request(when, POST, "/firewall-control");
            json_body(query(when, &[]), &body);
            ok(
                then,
                json!({"data": {
                    "id": "1700000000000000001",
                    "name": "Block inbound SMB",
                    "action": "Block",
                    "direction": "inbound",
                    "status": "Enabled"
                }}),
            );
        })
        .await;

    let response = support::raw_client(&server)
        .create_firewall_rule()
        .body(from_json::<types::PostFirewallRequest>(body.clone()))
        .send()
        .await
        .expect("create_firewall_rule");

    mock.assert_async().await;
    let data = response.into_inner().data.expect("data");
    assert_eq!(data.name.as_deref(), Some("Block inbound SMB"));
    assert_eq!(data.action.as_deref(), Some("Block"));
    assert_eq!(data.direction.as_deref(), Some("inbound"));
}

// ---------------------------------------------------------------- Gateways

#[tokio::test]
async fn gateways_update_ranger_gateway() {
    let server = MockServer::start_async().await;
    let body = json!({
        "data": {
            "allowScan": true,
            "networkName": "HQ LAN",
            "tcpPorts": [22, 443],
            "inheritSettings": false
        }
    });
    let mock = server
        .mock_async(|when, then| {
            let when = request(when, PUT, "/ranger/gateways/1000000000000000077");
            json_body(query(when, &[]), &body);
            ok(
                then,
                json!({"data": {
                    "id": "1000000000000000077",
                    "networkName": "HQ LAN",
                    "allowScan": true,
                    "externalIp": "203.0.113.7",
                    "agentPercentage": 87.5
                }}),
            );
        })
        .await;

    let response = support::raw_client(&server)
        .update_ranger_gateway()
        .gateway_id("1000000000000000077")
        .body(from_json::<types::PutGatewayDataRequest>(body.clone()))
        .send()
        .await
        .expect("update_ranger_gateway");

    mock.assert_async().await;
    let data = response.into_inner().data.expect("data");
    assert_eq!(data.network_name.as_deref(), Some("HQ LAN"));
    assert_eq!(data.allow_scan, Some(true));
    assert_eq!(data.external_ip.as_deref(), Some("203.0.113.7"));
    assert_eq!(data.agent_percentage, Some(87.5));
}

// ------------------------------------------------------------------ Groups

#[tokio::test]
async fn groups_list_groups() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            let when = request(when, GET, "/groups");
            query(
                when,
                &[
                    ("siteIds", "11,12"),
                    ("type", "static"),
                    ("isDefault", "false"),
                    ("name", "Servers"),
                    ("limit", "10"),
                ],
            );
            ok(
                then,
                json!({
                    "data": [{
                        "id": "1100000000000000001",
                        "name": "Servers",
                        "type": "static",
                        "rank": 1,
                        "siteId": "11",
                        "totalAgents": 12
                    }],
                    "pagination": {"nextCursor": null, "totalItems": 1}
                }),
            );
        })
        .await;

    let response = support::raw_client(&server)
        .list_groups()
        .site_ids(["11", "12"])
        .type_(types::ListGroupsType::Static)
        .is_default(false)
        .name("Servers")
        .limit(10)
        .send()
        .await
        .expect("list_groups");

    mock.assert_async().await;
    let groups = support::typed(response.into_inner().data.expect("data"));
    assert_eq!(groups[0].name.as_deref(), Some("Servers"));
    assert_eq!(groups[0].type_.as_deref(), Some("static"));
    assert_eq!(groups[0].total_agents, Some(12));
}

// Declared 204 by the vendor; consoles answer 200 with the count, which the
// curation declares (spec/curation.toml `[[response_overrides]]`).
#[tokio::test]
async fn groups_move_group_agents_decodes_the_moved_count() {
    let server = MockServer::start_async().await;
    let body = json!({"filter": {"agentIds": ["301", "302"]}});
    let mock = server
        .mock_async(|when, then| {
            let when = request(when, PUT, "/groups/1511111111111111111/move-agents");
            json_body(query(when, &[]), &body);
            ok(then, json!({"data": {"agentsMoved": 2}}));
        })
        .await;

    let response = support::raw_client(&server)
        .move_group_agents()
        .group_id("1511111111111111111")
        .body(from_json::<types::PutAddAgentsRequest>(body.clone()))
        .send()
        .await
        .expect("move_group_agents");

    mock.assert_async().await;
    assert_eq!(response.status(), 200);
    let data = response.into_inner().data.expect("data");
    assert_eq!(data.agents_moved, Some(2));
}

// ------------------------------------------------------------------ Hashes

#[tokio::test]
async fn hashes_get_hash_verdict() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            let when = request(
                when,
                GET,
                "/hashes/3395856ce81f2b7382dee72602f798b642f14140/verdict",
            );
            query(when, &[]);
            ok(then, json!({"data": {"verdict": "malicious"}}));
        })
        .await;

    let response = support::raw_client(&server)
        .get_hash_verdict()
        .hash("3395856ce81f2b7382dee72602f798b642f14140")
        .send()
        .await
        .expect("get_hash_verdict");

    mock.assert_async().await;
    let data = response.into_inner().data.expect("data");
    assert_eq!(data.verdict.as_deref(), Some("malicious"));
}

// ---------------------------------------------------------------- Licenses

#[tokio::test]
async fn licenses_update_licenses_update_sites_modules() {
    let server = MockServer::start_async().await;
    let body = json!({
        "data": {"operation": "add", "modules": [{"name": "rso"}]},
        "filter": {"siteIds": ["11", "12"]}
    });
    let mock = server
        .mock_async(|when, then| {
            let when = request(when, PUT, "/licenses/update-sites-modules");
            json_body(query(when, &[]), &body);
            ok(then, json!({"data": {"affected": 2}}));
        })
        .await;

    let response = support::raw_client(&server)
        .update_licenses_update_sites_modules()
        .body(from_json::<types::SiteBulkModulesRequest>(body.clone()))
        .send()
        .await
        .expect("update_licenses_update_sites_modules");

    mock.assert_async().await;
    assert_eq!(response.into_inner().data.expect("data").affected, Some(2));
}

// ------------------------------------------------------------ Live Updates

#[tokio::test]
async fn live_updates_get_content_updates_inventory() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            let when = request(when, GET, "/content-updates-inventory");
            query(
                when,
                &[
                    ("agentId", "225494730938493804"),
                    ("limit", "5"),
                    ("sortBy", "appliedAt"),
                ],
            );
            ok(
                then,
                json!({
                    "data": [{
                        "displayName": "Behavioral AI model",
                        "assetFamilyType": "static_ai",
                        "liveUpdateId": "lu-2024-05-01",
                        "appliedAt": "2024-05-01T12:00:00Z"
                    }],
                    "pagination": {"nextCursor": null, "totalItems": 1}
                }),
            );
        })
        .await;

    let response = support::raw_client(&server)
        .get_content_updates_inventory()
        .agent_id("225494730938493804")
        .limit(5)
        .sort_by(types::GetContentUpdatesInventorySortBy::AppliedAt)
        .send()
        .await
        .expect("get_content_updates_inventory");

    mock.assert_async().await;
    let items = support::typed(response.into_inner().data.expect("data"));
    assert_eq!(
        items[0].display_name.as_deref(),
        Some("Behavioral AI model")
    );
    assert_eq!(items[0].live_update_id.as_deref(), Some("lu-2024-05-01"));
}

// --------------------------------------------------------------- Locations

#[tokio::test]
async fn locations_list_locations() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            let when = request(when, GET, "/locations");
            query(
                when,
                &[
                    ("ids", "1200000000000000001,1200000000000000002"),
                    ("name__contains", "Office"),
                    ("hasFirewallRules", "true"),
                ],
            );
            ok(
                then,
                json!({
                    "data": [{
                        "id": "1200000000000000001",
                        "name": "Office",
                        "scopeName": "Default site",
                        "activeFirewallRules": 3,
                        "isFallback": false
                    }],
                    "pagination": {"nextCursor": null, "totalItems": 1}
                }),
            );
        })
        .await;

    let response = support::raw_client(&server)
        .list_locations()
        .ids(["1200000000000000001", "1200000000000000002"])
        .name_contains(["Office"])
        .has_firewall_rules(true)
        .send()
        .await
        .expect("list_locations");

    mock.assert_async().await;
    let locations = support::typed(response.into_inner().data.expect("data"));
    assert_eq!(locations[0].name.as_deref(), Some("Office"));
    assert_eq!(locations[0].active_firewall_rules, Some(3));
    assert_eq!(locations[0].is_fallback, Some(false));
}

// ------------------------------------------------------------- Marketplace

#[tokio::test]
async fn marketplace_post_singularity_marketplace_application() {
    let server = MockServer::start_async().await;
    let body = json!({"filter": {"applicationId": "1300000000000000007", "siteIds": ["11"]}});
    let mock = server
        .mock_async(|when, then| {
            let when = request(when, POST, "/singularity-marketplace/applications/enable");
            json_body(query(when, &[]), &body);
            ok(then, json!({"data": {"affected": 1}}));
        })
        .await;

    let response = support::raw_client(&server)
        .post_singularity_marketplace_application()
        .mode("enable")
        .body(from_json::<types::EnableDisableApplicationRequest>(
            body.clone(),
        ))
        .send()
        .await
        .expect("post_singularity_marketplace_application");

    mock.assert_async().await;
    assert_eq!(response.into_inner().data.expect("data").affected, Some(1));
}

// ---------------------------------------------- Network Quarantine Control

#[tokio::test]
async fn network_quarantine_control_get_firewall_control_configuration() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            let when = request(
                when,
                GET,
                "/firewall-control/network-quarantine/configuration",
            );
            query(when, &[("siteIds", "11,12")]);
            ok(
                then,
                json!({"data": {
                    "enabled": true,
                    "inheritSettings": false,
                    "locationAware": true,
                    "reportBlocked": true,
                    "selectedTags": ["1400000000000000001"]
                }}),
            );
        })
        .await;

    let response = support::raw_client(&server)
        .get_firewall_control_configuration_by_firewall_rule_category()
        .firewall_rule_category("network-quarantine")
        .site_ids(["11", "12"])
        .send()
        .await
        .expect("get_firewall_control_configuration_by_firewall_rule_category");

    mock.assert_async().await;
    let data = response.into_inner().data.expect("data");
    assert_eq!(data.enabled, Some(true));
    assert_eq!(data.location_aware, Some(true));
    assert_eq!(
        data.selected_tags.expect("selectedTags"),
        ["1400000000000000001"]
    );
}

// ---------------------------------------------------------------- Policies

#[tokio::test]
async fn policies_update_site_policy() {
    let server = MockServer::start_async().await;
    let body = json!({
        "data": {
            "mitigationMode": "protect",
            "mitigationModeSuspicious": "detect",
            "autoMitigationAction": "mitigation.quarantineThreat",
            "agentUiOn": true
        }
    });
    let mock = server
        .mock_async(|when, then| {
            let when = request(when, PUT, "/sites/11/policy");
            json_body(query(when, &[]), &body);
            ok(
                then,
                json!({"data": {
                    "mitigationMode": "protect",
                    "mitigationModeSuspicious": "detect",
                    "autoMitigationAction": "mitigation.quarantineThreat",
                    "agentUiOn": true
                }}),
            );
        })
        .await;

    let response = support::raw_client(&server)
        .update_site_policy()
        .site_id("11")
        .body(from_json::<types::TenantPolicyRequest>(body.clone()))
        .send()
        .await
        .expect("update_site_policy");

    mock.assert_async().await;
    let data = response.into_inner().data.expect("data");
    assert_eq!(data.mitigation_mode.as_deref(), Some("protect"));
    assert_eq!(data.mitigation_mode_suspicious.as_deref(), Some("detect"));
    assert_eq!(data.agent_ui_on, Some(true));
}

// ------------------------------------------------------- RemoteOps Scripts

#[tokio::test]
async fn remoteops_scripts_run_remote_script() {
    let server = MockServer::start_async().await;
    let body = json!({
        "data": {
            "scriptId": "1500000000000000042",
            "taskDescription": "Collect system logs",
            "outputDestination": "SentinelCloud",
            "inputParams": "-days 2",
            "scriptRuntimeTimeoutSeconds": 3600
        },
        "filter": {"ids": ["225494730938493804"], "siteIds": ["11"]}
    });
    let mock = server
        .mock_async(|when, then| {
            let when = request(when, POST, "/remote-scripts/execute");
            json_body(query(when, &[]), &body);
            ok(
                then,
                json!({"data": {"affected": 1, "parentTaskId": "1600000000000000001", "pending": false}}),
            );
        })
        .await;

    let response = support::raw_client(&server)
        .run_remote_script()
        .body(from_json::<types::ExecuteScriptRequest>(body.clone()))
        .send()
        .await
        .expect("run_remote_script");

    mock.assert_async().await;
    let data = response.into_inner().data.expect("data");
    assert_eq!(data.affected, Some(1));
    assert_eq!(data.parent_task_id.as_deref(), Some("1600000000000000001"));
    assert_eq!(data.pending, Some(false));
}

// Documented as `data.data.downloadLinks`; consoles answer
// `data.download_links`, which the curation declares.
#[tokio::test]
async fn remoteops_scripts_get_remote_script_result_links_reads_download_links() {
    let server = MockServer::start_async().await;
    let body = json!({"data": {"taskIds": ["1819000000000000001", "1819000000000000002"]}});
    let mock = server
        .mock_async(|when, then| {
            let when = request(when, POST, "/remote-scripts/fetch-files");
            json_body(query(when, &[]), &body);
            ok(
                then,
                json!({"data": {
                    "download_links": [{
                        "taskId": "1819000000000000001",
                        "fileName": "pc1-output.zip",
                        "downloadUrl": "https://storage.example/r1.zip?X-Amz-Signature=sig"
                    }],
                    "errors": [{"taskId": "1819000000000000002", "errorString": "no output"}]
                }}),
            );
        })
        .await;

    let response = support::raw_client(&server)
        .get_remote_script_result_links()
        .body(from_json::<types::FetchScriptsResultsRequest>(body.clone()))
        .send()
        .await
        .expect("get_remote_script_result_links");

    mock.assert_async().await;
    let data = response.into_inner().data.expect("data");
    let links = data.download_links.expect("download_links");
    assert_eq!(links[0].task_id.as_deref(), Some("1819000000000000001"));
    assert_eq!(links[0].file_name.as_deref(), Some("pc1-output.zip"));
    assert_eq!(
        links[0].download_url.as_deref(),
        Some("https://storage.example/r1.zip?X-Amz-Signature=sig")
    );
    let errors = data.errors.expect("errors");
    assert_eq!(errors[0].error_string.as_deref(), Some("no output"));
}

// ----------------------------------------------------------------- Reports

#[tokio::test]
async fn reports_list_reports() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            let when = request(when, GET, "/reports");
            query(
                when,
                &[
                    ("siteIds", "11"),
                    ("fromDate", "2024-04-01T00:00:00.000Z"),
                    ("toDate", "2024-04-30T23:59:59.000Z"),
                    ("scope", "site"),
                    ("sortBy", "createdAt"),
                    ("limit", "5"),
                ],
            );
            ok(
                then,
                json!({
                    "data": [{
                        "id": "1700000000000000009",
                        "name": "April executive summary",
                        "scope": "site",
                        "status": "completed",
                        "frequency": "monthly",
                        "attachmentTypes": ["pdf"]
                    }],
                    "pagination": {"nextCursor": null, "totalItems": 1}
                }),
            );
        })
        .await;

    let response = support::raw_client(&server)
        .list_reports()
        .site_ids(["11"])
        .from_date(utc!("2024-04-01T00:00:00Z"))
        .to_date(utc!("2024-04-30T23:59:59Z"))
        .scope(types::ListReportsScope::Site)
        .sort_by(types::ListReportsSortBy::CreatedAt)
        .limit(5)
        .send()
        .await
        .expect("list_reports");

    mock.assert_async().await;
    let reports = support::typed(response.into_inner().data.expect("data"));
    assert_eq!(reports[0].name.as_deref(), Some("April executive summary"));
    assert_eq!(reports[0].status.as_deref(), Some("completed"));
    assert_eq!(
        reports[0].attachment_types.as_deref(),
        Some(&["pdf".to_string()][..])
    );
}

// ------------------------------------------------------------------ Rogues

#[tokio::test]
async fn rogues_update_rogues_settings() {
    let server = MockServer::start_async().await;
    let body = json!({
        "data": {"enabled": true, "minAgentsInNetworkToScan": 2, "useSpecificPorts": false},
        "filter": {"accountIds": ["1001"]}
    });
    let mock = server
        .mock_async(|when, then| {
            let when = request(when, PUT, "/rogues/settings");
            json_body(query(when, &[]), &body);
            ok(
                then,
                json!({"data": {
                    "accountId": "1001",
                    "enabled": true,
                    "minAgentsInNetworkToScan": 2,
                    "useSpecificPorts": false
                }}),
            );
        })
        .await;

    let response = support::raw_client(&server)
        .update_rogues_settings()
        .body(from_json::<types::PutRoguesRequest>(body.clone()))
        .send()
        .await
        .expect("update_rogues_settings");

    mock.assert_async().await;
    let data = response.into_inner().data.expect("data");
    assert_eq!(data.enabled, Some(true));
    assert_eq!(data.min_agents_in_network_to_scan, Some(2));
    assert_eq!(data.account_id.as_deref(), Some("1001"));
}

// -------------------------------------------------------------- STAR Rules

/// A DELETE that carries a JSON body.
#[tokio::test]
async fn star_rules_delete_star_manage_hit_window() {
    let server = MockServer::start_async().await;
    let body = json!({"data": {"scopeLevel": "site", "scopeId": 11, "mgmtId": 1}});
    let mock = server
        .mock_async(|when, then| {
            let when = request(when, DELETE, "/private/star/manage/hit-window");
            json_body(query(when, &[]), &body);
            ok(then, json!({"data": {"affected": 1}}));
        })
        .await;

    let response = support::raw_client(&server)
        .delete_star_manage_hit_window()
        .body(types::DeleteHitAggWindowRequest {
            data: types::DeleteHitAggWindowRequestData {
                scope_level: types::AlertScopeLevel::Site,
                scope_id: 11,
                mgmt_id: 1,
            },
        })
        .send()
        .await
        .expect("delete_star_manage_hit_window");

    mock.assert_async().await;
    assert_eq!(response.into_inner().data.expect("data").affected, Some(1));
}

// ----------------------------------------------------------- Service Users

#[tokio::test]
async fn service_users_list_service_users() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            let when = request(when, GET, "/service-users");
            query(
                when,
                &[
                    ("ids", "1800000000000000001,1800000000000000002"),
                    ("roleIds", "1900000000000000001"),
                    ("sortBy", "name"),
                    ("limit", "10"),
                ],
            );
            ok(
                then,
                json!({
                    "data": [{
                        "id": "1800000000000000001",
                        "name": "SIEM integration",
                        "scope": "site",
                        "apiToken": {
                            "createdAt": "2024-01-01T00:00:00Z",
                            "expiresAt": "2025-01-01T00:00:00Z"
                        }
                    }],
                    "pagination": {"nextCursor": null, "totalItems": 1}
                }),
            );
        })
        .await;

    let response = support::raw_client(&server)
        .list_service_users()
        .ids(["1800000000000000001", "1800000000000000002"])
        .role_ids(["1900000000000000001"])
        .sort_by(types::ListServiceUsersSortBy::Name)
        .limit(10)
        .send()
        .await
        .expect("list_service_users");

    mock.assert_async().await;
    let users = support::typed(response.into_inner().data.expect("data"));
    assert_eq!(users[0].name.as_deref(), Some("SIEM integration"));
    assert_eq!(
        typed_json(&users[0].api_token),
        json!({"createdAt": "2024-01-01T00:00:00Z", "expiresAt": "2025-01-01T00:00:00Z"})
    );
}

// ------------------------------------------------------------------- Sites

#[tokio::test]
async fn sites_update_site() {
    let server = MockServer::start_async().await;
    let body = json!({
        "data": {
            "name": "Berlin",
            "description": "EU office",
            "totalLicenses": 250,
            "siteType": "Paid"
        }
    });
    let mock = server
        .mock_async(|when, then| {
            let when = request(when, PUT, "/sites/11");
            json_body(query(when, &[]), &body);
            ok(
                then,
                json!({"data": {
                    "id": "11",
                    "name": "Berlin",
                    "accountName": "Acme Corp",
                    "siteType": "Paid",
                    "activeLicenses": 120,
                    "healthStatus": true
                }}),
            );
        })
        .await;

    let response = support::raw_client(&server)
        .update_site()
        .site_id("11")
        .body(from_json::<types::SitePutRequest>(body.clone()))
        .send()
        .await
        .expect("update_site");

    mock.assert_async().await;
    let data = response.into_inner().data.expect("data");
    assert_eq!(data.name.as_deref(), Some("Berlin"));
    assert_eq!(data.site_type.as_deref(), Some("Paid"));
    assert_eq!(data.active_licenses, Some(120));
    assert_eq!(data.health_status, Some(true));
}

// ------------------------------------------------------------------ System

#[tokio::test]
async fn system_get_system_configuration() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            let when = request(when, GET, "/system/configuration");
            query(when, &[("accountIds", "1001"), ("siteIds", "11,12")]);
            ok(
                then,
                json!({"data": {"region": "eu", "advancedMode": false, "globalTwoFaEnabled": true}}),
            );
        })
        .await;

    let response = support::raw_client(&server)
        .get_system_configuration()
        .account_ids(["1001"])
        .site_ids(["11", "12"])
        .send()
        .await
        .expect("get_system_configuration");

    mock.assert_async().await;
    let data = response.into_inner().data.expect("data");
    assert_eq!(data.region.as_deref(), Some("eu"));
    assert_eq!(data.advanced_mode, Some(false));
    assert_eq!(data.global_two_fa_enabled, Some(true));
}

// ------------------------------------------------------------- Tag Manager

#[tokio::test]
async fn tag_manager_update_tag_manager() {
    let server = MockServer::start_async().await;
    let body = json!({"data": {"key": "env", "value": "prod", "description": "Production"}});
    let mock = server
        .mock_async(|when, then| {
            let when = request(when, PUT, "/tag-manager/2000000000000000001");
            json_body(query(when, &[]), &body);
            ok(
                then,
                json!({"data": {
                    "id": "2000000000000000001",
                    "key": "env",
                    "value": "prod",
                    "type": "endpoints",
                    "scopeLevel": "site"
                }}),
            );
        })
        .await;

    let response = support::raw_client(&server)
        .update_tag_manager()
        .tag_id("2000000000000000001")
        .body(types::V21MgmtTagManagerPutTagRequest {
            data: types::V21MgmtTagManagerPutTagRequestData {
                key: Some("env".to_string()),
                value: Some("prod".to_string()),
                description: Some("Production".to_string()),
            },
        })
        .send()
        .await
        .expect("update_tag_manager");

    mock.assert_async().await;
    let data = response.into_inner().data.expect("data");
    assert_eq!(data.key.as_deref(), Some("env"));
    assert_eq!(data.value.as_deref(), Some("prod"));
    assert_eq!(data.type_.as_deref(), Some("endpoints"));
}

// -------------------------------------------------------------------- Tags

#[tokio::test]
async fn tags_delete_tag() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            let when = request(when, DELETE, "/tags/2000000000000000001");
            query(when, &[]).body("");
            ok(then, json!({"data": {"affected": 1}}));
        })
        .await;

    let response = support::raw_client(&server)
        .delete_tag()
        .tag_id("2000000000000000001")
        .send()
        .await
        .expect("delete_tag");

    mock.assert_async().await;
    assert_eq!(response.into_inner().data.expect("data").affected, Some(1));
}

// ------------------------------------------------------------------- Tasks

#[tokio::test]
async fn tasks_get_tasks_configuration() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            let when = request(when, GET, "/tasks-configuration");
            query(when, &[("taskType", "agents_upgrade"), ("siteIds", "11")]);
            ok(
                then,
                json!({"data": {
                    "taskType": "agents_upgrade",
                    "maxConcurrent": 50,
                    "inheritParentConcurrencyConfig": false,
                    "timezoneGmt": "GMT+01:00"
                }}),
            );
        })
        .await;

    let response = support::raw_client(&server)
        .get_tasks_configuration()
        .task_type(types::GetTasksConfigurationTaskType::AgentsUpgrade)
        .site_ids(["11"])
        .send()
        .await
        .expect("get_tasks_configuration");

    mock.assert_async().await;
    let data = response.into_inner().data.expect("data");
    assert_eq!(data.task_type.as_deref(), Some("agents_upgrade"));
    assert_eq!(data.max_concurrent, Some(50));
    assert_eq!(data.timezone_gmt.as_deref(), Some("GMT+01:00"));
}

// ----------------------------------------------------- Threat Intelligence

#[tokio::test]
async fn threat_intelligence_list_threat_intelligence_iocs() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            let when = request(when, GET, "/threat-intelligence/iocs");
            query(
                when,
                &[
                    ("type", "SHA1"),
                    ("source", "AlienVault,Mandiant"),
                    ("accountIds", "1001"),
                    ("limit", "2"),
                ],
            );
            ok(
                then,
                json!({
                    "data": [{
                        "uuid": "5b7a2c1e-9d3f-4b6a-8e2d-1f0c3a4b5d6e",
                        "type": "SHA1",
                        "value": "3395856ce81f2b7382dee72602f798b642f14140",
                        "name": "EICAR",
                        "source": "AlienVault"
                    }],
                    "pagination": {"nextCursor": null, "totalItems": 1}
                }),
            );
        })
        .await;

    let response = support::raw_client(&server)
        .list_threat_intelligence_iocs()
        .type_(types::ListThreatIntelligenceIocsType::Sha1)
        .source(["AlienVault", "Mandiant"])
        .account_ids(["1001"])
        .limit(2)
        .send()
        .await
        .expect("list_threat_intelligence_iocs");

    mock.assert_async().await;
    let iocs = support::typed(response.into_inner().data.expect("data"));
    assert_eq!(iocs[0].type_.as_deref(), Some("SHA1"));
    assert_eq!(iocs[0].source.as_deref(), Some("AlienVault"));
    assert_eq!(
        iocs[0].value.as_deref(),
        Some("3395856ce81f2b7382dee72602f798b642f14140")
    );
}

// ------------------------------------------------------------ Threat Notes

#[tokio::test]
async fn threat_notes_update_threat_note() {
    let server = MockServer::start_async().await;
    let body = json!({"data": {"text": "Escalated to IR, ticket INC-4711"}});
    let mock = server
        .mock_async(|when, then| {
            let when = request(when, PUT, "/threats/1791114563291399600/notes/88");
            json_body(query(when, &[]), &body);
            ok(
                then,
                json!({"data": {
                    "id": "88",
                    "text": "Escalated to IR, ticket INC-4711",
                    "edited": true,
                    "creator": "Jane Doe"
                }}),
            );
        })
        .await;

    let response = support::raw_client(&server)
        .update_threat_note()
        .threat_id("1791114563291399600")
        .note_id("88")
        .body(types::PostThreatNoteDataRequest {
            data: types::PostThreatNoteDataRequestData {
                text: "Escalated to IR, ticket INC-4711".to_string(),
            },
        })
        .send()
        .await
        .expect("update_threat_note");

    mock.assert_async().await;
    let data = response.into_inner().data.expect("data");
    assert_eq!(
        data.text.as_deref(),
        Some("Escalated to IR, ticket INC-4711")
    );
    assert_eq!(data.edited, Some(true));
}

// ----------------------------------------------------------------- Threats

#[tokio::test]
async fn threats_mitigate_threats() {
    let server = MockServer::start_async().await;
    let body = json!({"filter": {"ids": ["1791114563291399600", "1791114563291399601"]}});
    let mock = server
        .mock_async(|when, then| {
            let when = request(when, POST, "/threats/mitigate/rollback-remediation");
            json_body(query(when, &[]), &body);
            ok(then, json!({"data": {"affected": 2}}));
        })
        .await;

    let response = support::raw_client(&server)
        .mitigate_threats()
        .action(types::MitigateThreatsAction::RollbackRemediation)
        .body(from_json::<types::ThreatsMitigateRequest>(body.clone()))
        .send()
        .await
        .expect("mitigate_threats");

    mock.assert_async().await;
    assert_eq!(response.into_inner().data.expect("data").affected, Some(2));
}

#[tokio::test]
async fn threats_list_threats() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            let when = request(when, GET, "/threats");
            query(
                when,
                &[
                    ("ids", "1791114563291399600,1791114563291399601"),
                    ("resolved", "false"),
                    ("createdAt__gte", "2024-05-01T06:30:00.000Z"),
                    ("limit", "2"),
                ],
            );
            ok(
                then,
                json!({
                    "data": [{
                        "id": "1791114563291399600",
                        "threatInfo": {"threatName": "eicar.com", "classification": "Malware"},
                        "whiteningOptions": ["hash", "path"]
                    }],
                    "pagination": {"nextCursor": "dGhyZWF0OjE3OTE=", "totalItems": 2}
                }),
            );
        })
        .await;

    let response = support::raw_client(&server)
        .list_threats()
        .ids(["1791114563291399600", "1791114563291399601"])
        .resolved(false)
        .created_at_gte(utc!("2024-05-01T06:30:00Z"))
        .limit(2)
        .send()
        .await
        .expect("list_threats");

    mock.assert_async().await;
    let body = response.into_inner();
    let threats = support::typed(body.data.expect("data"));
    assert_eq!(threats[0].id.as_deref(), Some("1791114563291399600"));
    assert_eq!(
        threats[0].whitening_options.as_deref(),
        Some(&["hash".to_string(), "path".to_string()][..])
    );
    let info = typed_json(&threats[0].threat_info);
    assert_eq!(info["threatName"], "eicar.com");
    assert_eq!(info["classification"], "Malware");
    assert_eq!(
        typed_json(&body.pagination),
        json!({"nextCursor": "dGhyZWF0OjE3OTE=", "totalItems": 2})
    );
}

// ---------------------------------------------------- Unified Exclusions

#[tokio::test]
async fn unified_exclusions_create_unified_exclusion() {
    let server = MockServer::start_async().await;
    let body = json!({
        "data": {"type": "path", "osType": "linux", "value": "/opt/backup/bin", "mode": "suppress"},
        "filter": {"siteIds": ["11"]}
    });
    let mock = server
        .mock_async(|when, then| {
            let when = request(when, POST, "/unified-exclusions");
            json_body(query(when, &[]), &body);
            ok(
                then,
                json!({
                    "data": [{"id": "2100000000000000001", "type": "path", "value": "/opt/backup/bin"}],
                    "pagination": {"nextCursor": null, "totalItems": 1}
                }),
            );
        })
        .await;

    let response = support::raw_client(&server)
        .create_unified_exclusion()
        .body(from_json::<types::PostUnifiedExclusionRequest>(
            body.clone(),
        ))
        .send()
        .await
        .expect("create_unified_exclusion");

    mock.assert_async().await;
    let created = support::typed(response.into_inner().data.expect("data"));
    assert_eq!(created[0]["id"], "2100000000000000001");
    assert_eq!(created[0]["value"], "/opt/backup/bin");
}

// ----------------------------------------------------------------- Updates

#[tokio::test]
async fn updates_list_update_agent_packages() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            let when = request(when, GET, "/update/agent/packages");
            query(
                when,
                &[
                    ("osTypes", "windows"),
                    ("fileExtension", ".msi"),
                    ("packageType", "Agent"),
                    ("ids", "2200000000000000001,2200000000000000002"),
                ],
            );
            ok(
                then,
                json!({
                    "data": [{
                        "id": "2200000000000000001",
                        "fileName": "SentinelInstaller_windows_64bit_v24_1_2_6.msi",
                        "fileExtension": ".msi",
                        "osType": "windows",
                        "majorVersion": "24.1",
                        "fileSize": 187654321
                    }],
                    "pagination": {"nextCursor": null, "totalItems": 1}
                }),
            );
        })
        .await;

    let response = support::raw_client(&server)
        .list_update_agent_packages()
        .os_types(["windows"])
        .file_extension(types::ListUpdateAgentPackagesFileExtension::Msi)
        .package_type(types::ListUpdateAgentPackagesPackageType::Agent)
        .ids(["2200000000000000001", "2200000000000000002"])
        .send()
        .await
        .expect("list_update_agent_packages");

    mock.assert_async().await;
    let packages = support::typed(response.into_inner().data.expect("data"));
    assert_eq!(
        packages[0].file_name.as_deref(),
        Some("SentinelInstaller_windows_64bit_v24_1_2_6.msi")
    );
    assert_eq!(packages[0].file_extension.as_deref(), Some(".msi"));
    assert_eq!(packages[0].file_size, Some(187654321));
}

// ------------------------------------------------------------------- Users

#[tokio::test]
async fn users_get_api_token_details() {
    let server = MockServer::start_async().await;
    let body = json!({"data": {"apiToken": "eyJraWQiOiJ0ZXN0In0.payload.signature"}});
    let mock = server
        .mock_async(|when, then| {
            let when = request(when, POST, "/users/api-token-details");
            json_body(query(when, &[]), &body);
            ok(
                then,
                json!({"data": {"createdAt": "2024-01-01T00:00:00Z", "expiresAt": "2024-07-01T00:00:00Z"}}),
            );
        })
        .await;

    let response = support::raw_client(&server)
        .get_api_token_details()
        .body(from_json::<types::ApiTokenRequest>(body.clone()))
        .send()
        .await
        .expect("get_api_token_details");

    mock.assert_async().await;
    assert_eq!(
        typed_json(&response.into_inner().data),
        json!({"createdAt": "2024-01-01T00:00:00Z", "expiresAt": "2024-07-01T00:00:00Z"})
    );
}

// ------------------------------------- Typed helpers of generated mock.rs

/// `MockServerExt` pins method and path per operation; its `When` takes the
/// typed parameters and its `Then` the typed response.
#[tokio::test]
async fn mock_helpers_list_agent_applications() {
    let server = MockServer::start_async().await;
    let ids: sentinelone_generated::CsvList = ["225494730938493804", "225494730938493915"].into();
    let answer: types::AgentApplicationsListResponse = from_json(json!({
        "data": [
            {"name": "7-Zip", "publisher": "Igor Pavlov", "version": "23.01", "size": 5242880,
             "installedDate": "2024-02-10T09:00:00Z"},
            {"name": "OpenSSL", "publisher": "OpenSSL Project", "version": "3.0.13"}
        ]
    }));
    let mock = server.list_agent_applications(|when, then| {
        when.ids(&ids)
            .into_inner()
            .header("authorization", support::auth_header());
        then.ok(&answer);
    });

    let response = support::raw_client(&server)
        .list_agent_applications()
        .ids(ids.clone())
        .send()
        .await
        .expect("list_agent_applications");

    mock.assert_calls_async(1).await;
    let apps = support::typed(response.into_inner().data.expect("data"));
    assert_eq!(apps.len(), 2);
    assert_eq!(apps[0].name.as_deref(), Some("7-Zip"));
    assert_eq!(apps[0].size, Some(5242880));
    assert_eq!(apps[1].version.as_deref(), Some("3.0.13"));
}

#[tokio::test]
async fn mock_helpers_fetch_agent_files_body_and_path() {
    let server = MockServer::start_async().await;
    let body: types::AgentFetchFilesActionRequest = from_json(json!({
        "data": {"files": ["/etc/hosts"], "password": "Passw0rd!Long"}
    }));
    let success: types::SuccessResponse = from_json(json!({"data": {"success": true}}));
    let mock = server.fetch_agent_files(|when, then| {
        when.agent_id("225494730938493804").body(&body);
        then.ok(&success);
    });

    let response = support::raw_client(&server)
        .fetch_agent_files()
        .agent_id("225494730938493804")
        .body(body.clone())
        .send()
        .await
        .expect("fetch_agent_files");

    mock.assert_calls_async(1).await;
    assert_eq!(
        response.into_inner().data.expect("data").success,
        Some(true)
    );
}

#[tokio::test]
async fn mock_helpers_server_error_decodes_the_api_error() {
    let server = MockServer::start_async().await;
    let api_error: types::ApiError = from_json(json!({
        "errors": [{"code": 5000000, "title": "Server Error", "detail": "Please try again later."}]
    }));
    let mock = server.get_system_info(|_when, then| {
        then.server_error(503, &api_error);
    });

    let error = support::raw_client(&server)
        .get_system_info()
        .send()
        .await
        .expect_err("a 503 is an error");

    mock.assert_calls_async(1).await;
    let Error::ErrorResponse(response) = error else {
        panic!("expected Error::ErrorResponse, got {error:?}");
    };
    assert_eq!(response.status(), 503);
    let errors = response.into_inner().errors.expect("errors");
    assert_eq!(errors[0].code, Some(5000000));
    assert_eq!(errors[0].title.as_deref(), Some("Server Error"));
}
