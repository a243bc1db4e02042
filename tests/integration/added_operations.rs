//! The operations the curation added (session elevation, API tokens, RBAC
//! roles, unified exclusions, firewall rules, hash verdicts, the threat
//! summary), called through the facade client against httpmock: the exact
//! request each sends (method, path, whole query with lists comma-joined,
//! the `ApiToken` header, the JSON body), and that the typed answer decodes,
//! fields read back and unknown fields kept in `extra`. A catch-all mock
//! that must see no call fails a test on any stray request. Last, `s1 api
//! <operation> --help` states each operation's published rate limit.

use crate::support;

use httpmock::Method::{self, DELETE, GET, POST};
use httpmock::{HttpMockRequest, Mock, MockServer, Then, When};
use sentinelone::prelude::*;
use sentinelone::raw::types;
use serde_json::{Value, json};

/// Every path of the Management API v2.1 starts with this.
const API: &str = "/web/api/v2.1";

/// `method` on exactly `/web/api/v2.1{path}`, with the test token.
fn request(when: When, method: Method, path: &str) -> When {
    when.method(method)
        .path(format!("{API}{path}"))
        .header("authorization", support::auth_header())
}

/// The request's query, decoded, is exactly `expected`: every pair once,
/// no other pair (a list sent as repeated keys does not match).
fn query(when: When, expected: &[(&str, &str)]) -> When {
    let when = expected
        .iter()
        .fold(when, |when, (k, v)| when.query_param(*k, *v));
    support::exact_query(when, expected)
}

/// No query at all.
fn no_query(when: When) -> When {
    support::exact_query(when, &[])
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

/// A typed value from JSON.
fn from_json<T: serde::de::DeserializeOwned>(value: Value) -> T {
    serde_json::from_value(value).expect("the JSON matches its schema")
}

/// Every request no other mock took; defined after the others, it must
/// see no call.
async fn anything_else(server: &MockServer) -> Mock<'_> {
    server
        .mock_async(|when, then| {
            when.is_true(|_: &HttpMockRequest| true);
            then.status(599);
        })
        .await
}

/// `extra` holds exactly the one unknown field `key`, with `value`.
fn kept(extra: &serde_json::Map<String, Value>, key: &str, value: Value) {
    assert_eq!(extra.len(), 1, "extra: {extra:?}");
    assert_eq!(extra.get(key), Some(&value), "extra: {extra:?}");
}

// ------------------------------------------------------------------ Users

#[tokio::test]
async fn elevate_auth_sends_the_code_and_decodes_the_duration() {
    let server = MockServer::start_async().await;
    let body = json!({"data": {"code": "123456"}});
    let mock = server
        .mock_async(|when, then| {
            let when = no_query(request(when, POST, "/users/auth/elevate"));
            json_body(when, &body);
            ok(
                then,
                json!({"data": {"duration": 900, "elevatedBy": "2fa"}, "traceId": "t-1"}),
            );
        })
        .await;
    let stray = anything_else(&server).await;

    let answer = support::facade_client(&server)
        .elevate_auth()
        .body(from_json::<types::ElevateSessionRequest>(body.clone()))
        .send()
        .await
        .expect("elevate_auth")
        .into_inner();

    mock.assert_async().await;
    stray.assert_calls_async(0).await;
    let data = answer.data.expect("data");
    assert_eq!(data.duration, Some(900));
    kept(&data.extra, "elevatedBy", json!("2fa"));
    kept(&answer.extra, "traceId", json!("t-1"));
}

#[tokio::test]
async fn login_by_api_token_sends_the_token_and_decodes_the_session() {
    let server = MockServer::start_async().await;
    let body = json!({"data": {"apiToken": "other-token-42", "reason": "audit"}});
    let mock = server
        .mock_async(|when, then| {
            let when = no_query(request(when, POST, "/users/login/by-api-token"));
            json_body(when, &body);
            ok(
                then,
                json!({"data": {
                    "token": "session-abc",
                    "realUser": "u-7",
                    "redirectTo": "/dashboard",
                    "sessionKind": "api"
                }}),
            );
        })
        .await;
    let stray = anything_else(&server).await;

    let answer = support::facade_client(&server)
        .login_by_api_token()
        .body(from_json::<types::LoginByApiTokenRequest>(body.clone()))
        .send()
        .await
        .expect("login_by_api_token")
        .into_inner();

    mock.assert_async().await;
    stray.assert_calls_async(0).await;
    let data = answer.data.expect("data");
    assert_eq!(data.token.as_deref(), Some("session-abc"));
    assert_eq!(data.real_user.as_deref(), Some("u-7"));
    assert_eq!(data.redirect_to.as_deref(), Some("/dashboard"));
    assert_eq!(data.redirect_to_params, None);
    kept(&data.extra, "sessionKind", json!("api"));
}

#[tokio::test]
async fn get_user_api_token_details_puts_the_user_in_the_path() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            no_query(request(
                when,
                GET,
                "/users/225494730938493804/api-token-details",
            ));
            ok(
                then,
                json!({"data": {
                    "createdAt": "2026-01-02T03:04:05.000000Z",
                    "expiresAt": "2026-07-01T03:04:05.000000Z",
                    "tokenName": "ci"
                }}),
            );
        })
        .await;
    let stray = anything_else(&server).await;

    let answer = support::facade_client(&server)
        .get_user_api_token_details()
        .user_id("225494730938493804")
        .send()
        .await
        .expect("get_user_api_token_details")
        .into_inner();

    mock.assert_async().await;
    stray.assert_calls_async(0).await;
    let data = answer.data.expect("data");
    assert_eq!(
        data.created_at.as_deref(),
        Some("2026-01-02T03:04:05.000000Z")
    );
    assert_eq!(
        data.expires_at.as_deref(),
        Some("2026-07-01T03:04:05.000000Z")
    );
    kept(&data.extra, "tokenName", json!("ci"));
}

// ------------------------------------------------------------------- RBAC

#[tokio::test]
async fn list_rbac_roles_sends_its_filters_comma_joined() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            let when = request(when, GET, "/rbac/roles");
            query(
                when,
                &[("siteIds", "11,12"), ("name", "Analyst"), ("limit", "10")],
            );
            ok(
                then,
                json!({
                    "data": [{
                        "id": "r-1",
                        "name": "Analyst",
                        "predefinedRole": false,
                        "scope": "site",
                        "scopeId": "11",
                        "usersInRoles": 3,
                        "pageIds": ["p-1"]
                    }],
                    "pagination": {"nextCursor": null, "totalItems": 1}
                }),
            );
        })
        .await;
    let stray = anything_else(&server).await;

    let answer = support::facade_client(&server)
        .list_rbac_roles()
        .site_ids(["11", "12"])
        .name("Analyst")
        .limit(10)
        .send()
        .await
        .expect("list_rbac_roles")
        .into_inner();

    mock.assert_async().await;
    stray.assert_calls_async(0).await;
    let roles = support::typed(answer.data.expect("data"));
    assert_eq!(roles.len(), 1);
    assert_eq!(roles[0].id.as_deref(), Some("r-1"));
    assert_eq!(roles[0].name.as_deref(), Some("Analyst"));
    assert_eq!(roles[0].predefined_role, Some(false));
    assert_eq!(roles[0].scope.as_deref(), Some("site"));
    assert_eq!(roles[0].scope_id.as_deref(), Some("11"));
    assert_eq!(roles[0].users_in_roles, Some(3));
    kept(&roles[0].extra, "pageIds", json!(["p-1"]));
    let pagination = answer.pagination.expect("pagination");
    assert_eq!(pagination.total_items, Some(1));
    assert_eq!(pagination.next_cursor, None);
}

#[tokio::test]
async fn delete_rbac_role_puts_the_role_in_the_path_and_sends_the_target() {
    let server = MockServer::start_async().await;
    let body = json!({"data": {"targetId": "r-2"}});
    let mock = server
        .mock_async(|when, then| {
            let when = no_query(request(when, DELETE, "/rbac/role/r-1"));
            json_body(when, &body);
            ok(then, json!({"data": {"success": true, "movedUsers": 3}}));
        })
        .await;
    let stray = anything_else(&server).await;

    let answer = support::facade_client(&server)
        .delete_rbac_role()
        .role_id("r-1")
        .body(from_json::<types::RbacDeleteRoleRequest>(body.clone()))
        .send()
        .await
        .expect("delete_rbac_role")
        .into_inner();

    mock.assert_async().await;
    stray.assert_calls_async(0).await;
    let data = answer.data.expect("data");
    assert_eq!(data.success, Some(true));
    kept(&data.extra, "movedUsers", json!(3));
}

// ----------------------------------------------------- Unified exclusions

#[tokio::test]
async fn list_unified_exclusions_sends_the_mode_and_filters() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            let when = request(when, GET, "/unified-exclusions");
            query(
                when,
                &[
                    ("modeType", "suppression"),
                    ("osTypes", "windows,linux"),
                    ("siteIds", "11,12"),
                    ("limit", "25"),
                ],
            );
            ok(
                then,
                json!({
                    "data": [{
                        "id": "ux-1",
                        "exclusionType": "path",
                        "osType": "windows",
                        "value": "C:\\Tools\\*"
                    }],
                    "pagination": {"nextCursor": "dXg6Mg==", "totalItems": 2},
                    "traceId": "t-2"
                }),
            );
        })
        .await;
    let stray = anything_else(&server).await;

    let answer = support::facade_client(&server)
        .list_unified_exclusions()
        .mode_type(types::ListUnifiedExclusionsModeType::Suppression)
        .os_types(["windows", "linux"])
        .site_ids(vec!["11", "12"])
        .limit(25)
        .send()
        .await
        .expect("list_unified_exclusions")
        .into_inner();

    mock.assert_async().await;
    stray.assert_calls_async(0).await;
    let items = support::typed(answer.data.expect("data"));
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].get("id"), Some(&json!("ux-1")));
    assert_eq!(items[0].get("value"), Some(&json!("C:\\Tools\\*")));
    let pagination = answer.pagination.expect("pagination");
    assert_eq!(pagination.next_cursor.as_deref(), Some("dXg6Mg=="));
    assert_eq!(pagination.total_items, Some(2));
    kept(&answer.extra, "traceId", json!("t-2"));
}

#[tokio::test]
async fn delete_unified_exclusions_sends_the_exclusions_in_the_body() {
    let server = MockServer::start_async().await;
    let body = json!({"data": {"exclusions": [
        {"id": "ux-1", "exclusionType": "path"},
        {"id": "ux-2", "exclusionType": "hash"}
    ]}});
    let mock = server
        .mock_async(|when, then| {
            let when = no_query(request(when, DELETE, "/unified-exclusions"));
            json_body(when, &body);
            ok(then, json!({"data": {"affected": 2, "skipped": 0}}));
        })
        .await;
    let stray = anything_else(&server).await;

    let answer = support::facade_client(&server)
        .delete_unified_exclusions()
        .body(from_json::<types::UnifiedExclusionSchemaDeleteRequest>(
            body.clone(),
        ))
        .send()
        .await
        .expect("delete_unified_exclusions")
        .into_inner();

    mock.assert_async().await;
    stray.assert_calls_async(0).await;
    let data = answer.data.expect("data");
    assert_eq!(data.affected, Some(2));
    kept(&data.extra, "skipped", json!(0));
}

// --------------------------------------------------------- Firewall rules

#[tokio::test]
async fn list_firewall_rules_sends_its_filters_comma_joined() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            let when = request(when, GET, "/firewall-control");
            query(
                when,
                &[
                    ("osTypes", "windows,macos"),
                    ("statuses", "Enabled"),
                    ("siteIds", "11"),
                    ("limit", "50"),
                ],
            );
            ok(
                then,
                json!({
                    "data": [{
                        "id": "fw-1",
                        "name": "Block SMB",
                        "action": "Block",
                        "direction": "inbound",
                        "status": "Enabled",
                        "order": 1,
                        "osTypes": ["windows", "macos"],
                        "editable": true,
                        "ruleHits": 17
                    }],
                    "pagination": {"nextCursor": null, "totalItems": 1}
                }),
            );
        })
        .await;
    let stray = anything_else(&server).await;

    let answer = support::facade_client(&server)
        .list_firewall_rules()
        .os_types(["windows", "macos"])
        .statuses(["Enabled"])
        .site_ids(["11"])
        .limit(50)
        .send()
        .await
        .expect("list_firewall_rules")
        .into_inner();

    mock.assert_async().await;
    stray.assert_calls_async(0).await;
    let rules = support::typed(answer.data.expect("data"));
    assert_eq!(rules.len(), 1);
    let rule = &rules[0];
    assert_eq!(rule.id.as_deref(), Some("fw-1"));
    assert_eq!(rule.name.as_deref(), Some("Block SMB"));
    assert_eq!(rule.action.as_deref(), Some("Block"));
    assert_eq!(rule.direction.as_deref(), Some("inbound"));
    assert_eq!(rule.status.as_deref(), Some("Enabled"));
    assert_eq!(rule.order, Some(1));
    assert_eq!(
        rule.os_types.as_deref(),
        Some(&["windows".to_string(), "macos".to_string()][..])
    );
    assert_eq!(rule.editable, Some(true));
    kept(&rule.extra, "ruleHits", json!(17));
}

// ----------------------------------------------------------------- Hashes

#[tokio::test]
async fn get_hash_verdict_puts_the_hash_in_the_path() {
    const SHA1: &str = "b691598c45658e76b2c328275db988baed3b8689";
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            no_query(request(when, GET, &format!("/hashes/{SHA1}/verdict")));
            ok(
                then,
                json!({"data": {"verdict": "malicious", "source": "cloud"}}),
            );
        })
        .await;
    let stray = anything_else(&server).await;

    let answer = support::facade_client(&server)
        .get_hash_verdict()
        .hash(SHA1)
        .send()
        .await
        .expect("get_hash_verdict")
        .into_inner();

    mock.assert_async().await;
    stray.assert_calls_async(0).await;
    let data = answer.data.expect("data");
    assert_eq!(data.verdict.as_deref(), Some("malicious"));
    kept(&data.extra, "source", json!("cloud"));
}

// ---------------------------------------------------------- Threat summary

#[tokio::test]
async fn get_threat_summary_sends_site_ids_comma_joined_and_decodes_every_count() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            let when = request(when, GET, "/private/threats/summary");
            query(when, &[("siteIds", "1,2")]);
            ok(
                then,
                json!({"data": {
                    "total": 100,
                    "notResolved": 40,
                    "inProgress": 5,
                    "resolved": 55,
                    "mitigated": 60,
                    "notMitigated": 30,
                    "blocked": 10,
                    "suspicious": 25,
                    "maliciousNotResolved": 15,
                    "suspiciousNotResolved": 20,
                    "falsePositives": 7
                }}),
            );
        })
        .await;
    let stray = anything_else(&server).await;

    let answer = support::facade_client(&server)
        .get_threat_summary()
        .site_ids(["1", "2"])
        .send()
        .await
        .expect("get_threat_summary")
        .into_inner();

    mock.assert_async().await;
    stray.assert_calls_async(0).await;
    let data = answer.data.expect("data");
    assert_eq!(data.total, Some(100));
    assert_eq!(data.not_resolved, Some(40));
    assert_eq!(data.in_progress, Some(5));
    assert_eq!(data.resolved, Some(55));
    assert_eq!(data.mitigated, Some(60));
    assert_eq!(data.not_mitigated, Some(30));
    assert_eq!(data.blocked, Some(10));
    assert_eq!(data.suspicious, Some(25));
    assert_eq!(data.malicious_not_resolved, Some(15));
    assert_eq!(data.suspicious_not_resolved, Some(20));
    kept(&data.extra, "falsePositives", json!(7));
    assert!(answer.extra.is_empty(), "extra: {:?}", answer.extra);
}

#[tokio::test]
async fn get_threat_summary_sends_group_ids_comma_joined() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            let when = request(when, GET, "/private/threats/summary");
            query(when, &[("groupIds", "7,8,9")]);
            ok(then, json!({"data": {"total": 0}}));
        })
        .await;
    let stray = anything_else(&server).await;

    let answer = support::facade_client(&server)
        .get_threat_summary()
        .group_ids(["7", "8", "9"])
        .send()
        .await
        .expect("get_threat_summary")
        .into_inner();

    mock.assert_async().await;
    stray.assert_calls_async(0).await;
    let data = answer.data.expect("data");
    assert_eq!(data.total, Some(0));
    assert_eq!(data.resolved, None);
}

// ---------------------------------------------------------- s1 api --help

/// The paragraph of `s1 api <operation> --help` that starts `Rate limit:`,
/// its lines joined (clap wraps help to the terminal width).
#[cfg(feature = "cli")]
fn rate_limit_help(operation: &str) -> String {
    let output = assert_cmd::Command::new(env!("CARGO_BIN_EXE_s1"))
        .env_remove("S1_CONSOLE_URL")
        .env_remove("S1_API_TOKEN")
        .env_remove("S1_ARCHIVE_PASSWORD")
        .args(["api", operation, "--help"])
        .timeout(std::time::Duration::from_secs(120))
        .output()
        .expect("s1 runs");
    let stdout = String::from_utf8(output.stdout).expect("utf-8 stdout");
    assert_eq!(output.status.code(), Some(0), "stdout: {stdout}");
    let mut lines = stdout.lines().skip_while(|l| !l.starts_with("Rate limit:"));
    let first = lines
        .next()
        .unwrap_or_else(|| panic!("no line starts `Rate limit:`: {stdout}"));
    lines
        .take_while(|l| !l.trim().is_empty())
        .fold(first.to_string(), |text, l| format!("{text} {}", l.trim()))
}

#[cfg(feature = "cli")]
#[test]
fn s1_api_help_states_the_rate_limit_of_the_added_operations() {
    use sentinelone::quota::Quotas;

    // /users/auth/elevate is below the /users prefix (40 a second, bursts
    // of 80), not below /users/login.
    let elevate = "Rate limit: 40 a second per API token (bursts of 80), \
                   shared by every request below /web/api/v2.1/users";
    assert_eq!(rate_limit_help("elevate_auth"), elevate);
    let quota = Quotas::default()
        .quota_for("POST", "/web/api/v2.1/users/auth/elevate")
        .expect("a published quota")
        .to_string();
    assert_eq!(format!("Rate limit: {quota}"), elevate);

    // No published row covers /private/threats/summary: the default spacing.
    assert!(
        Quotas::default()
            .quota_for("GET", "/web/api/v2.1/private/threats/summary")
            .is_none()
    );
    assert_eq!(
        rate_limit_help("get_threat_summary"),
        "Rate limit: none published; the client sends at most 10 a second to it"
    );
}
