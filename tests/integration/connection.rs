//! `connection::test`: the system information and the token's details are
//! read with the token; the token goes in the details request's body; a
//! refused token is an HTTP 401 error; a role that may not read the token's
//! details still gets a working report.

use crate::support;

use httpmock::Method::{GET, POST};
use httpmock::{Mock, MockServer};
use sentinelone::Error;
use serde_json::json;

const INFO: &str = "/web/api/v2.1/system/info";
const TOKEN_DETAILS: &str = "/web/api/v2.1/users/api-token-details";

async fn system_info(server: &MockServer, status: u16) -> Mock<'_> {
    server
        .mock_async(|when, then| {
            when.method(GET)
                .path(INFO)
                .header("authorization", support::auth_header());
            if status == 200 {
                then.status(200).json_body(json!({ "data": {
                    "version": "Z SP1",
                    "build": "51",
                    "release": "23.4.1",
                    "patch": "2",
                    "latestAgentVersion": "23.4.2.14"
                } }));
            } else {
                then.status(status).json_body(json!({ "errors": [
                    { "code": 4010010, "title": "Authentication Failed", "detail": null }
                ] }));
            }
        })
        .await
}

async fn token_details(server: &MockServer, status: u16) -> Mock<'_> {
    server
        .mock_async(|when, then| {
            when.method(POST)
                .path(TOKEN_DETAILS)
                .header("authorization", support::auth_header())
                .header("content-type", "application/json")
                .json_body(json!({ "data": { "apiToken": support::TOKEN } }));
            if status == 200 {
                then.status(200).json_body(json!({ "data": {
                    "createdAt": "2024-01-02T03:04:05.000000Z",
                    "expiresAt": "2024-07-02T03:04:05.000000Z"
                } }));
            } else {
                then.status(status).json_body(json!({ "errors": [
                    { "code": 4030010, "title": "Unauthorized access", "detail": null }
                ] }));
            }
        })
        .await
}

#[tokio::test]
async fn reports_the_console_and_the_token_expiry() {
    let server = MockServer::start_async().await;
    let info = system_info(&server, 200).await;
    let details = token_details(&server, 200).await;
    let report = support::facade_client(&server)
        .connection()
        .test()
        .await
        .expect("the connection works");
    info.assert_async().await;
    details.assert_async().await;
    assert_eq!(report.console_url, server.base_url());
    assert_eq!(report.console_version.as_deref(), Some("Z SP1"));
    assert_eq!(report.console_build.as_deref(), Some("51"));
    assert_eq!(report.console_release.as_deref(), Some("23.4.1"));
    assert_eq!(report.console_patch.as_deref(), Some("2"));
    assert_eq!(report.latest_agent_version.as_deref(), Some("23.4.2.14"));
    assert_eq!(
        report.token_created_at.as_deref(),
        Some("2024-01-02T03:04:05.000000Z")
    );
    assert_eq!(
        report.token_expires_at.as_deref(),
        Some("2024-07-02T03:04:05.000000Z")
    );
    assert!(!report.token_details_forbidden);
}

#[tokio::test]
async fn a_refused_token_is_an_http_401_and_nothing_else_is_asked() {
    let server = MockServer::start_async().await;
    let info = system_info(&server, 401).await;
    let details = token_details(&server, 200).await;
    let err = support::facade_client(&server)
        .connection()
        .test()
        .await
        .expect_err("the token is refused");
    match &err {
        Error::Api {
            status,
            operation,
            errors,
        } => {
            assert_eq!(*status, 401);
            assert_eq!(operation, "get_system_info");
            assert_eq!(errors[0].title.as_deref(), Some("Authentication Failed"));
        }
        other => panic!("expected an API error, got {other:?}"),
    }
    assert!(!err.to_string().contains(support::TOKEN));
    info.assert_async().await;
    details.assert_calls_async(0).await;
}

#[tokio::test]
async fn forbidden_token_details_leave_the_expiry_unknown() {
    let server = MockServer::start_async().await;
    let info = system_info(&server, 200).await;
    let details = token_details(&server, 403).await;
    let report = support::facade_client(&server)
        .connection()
        .test()
        .await
        .expect("the connection works without the token details");
    info.assert_async().await;
    details.assert_async().await;
    assert_eq!(report.console_version.as_deref(), Some("Z SP1"));
    assert!(report.token_details_forbidden);
    assert_eq!(report.token_expires_at, None);
    assert_eq!(report.token_created_at, None);
}

#[tokio::test]
async fn other_token_detail_failures_are_errors() {
    let server = MockServer::start_async().await;
    system_info(&server, 200).await;
    token_details(&server, 400).await;
    let err = support::facade_client(&server)
        .connection()
        .test()
        .await
        .expect_err("a 400 is not hidden");
    assert_eq!(err.status(), Some(400));
    assert_eq!(err.operation(), Some("get_api_token_details"));
}
