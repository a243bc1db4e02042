//! Hand-written multipart uploads go through the client's transport.

use httpmock::Method::POST;
use httpmock::MockServer;
use sentinelone::imports::ImportFile;
use sentinelone::vocab::Scope;
use sentinelone::{Client, Error};
use serde_json::json;

const TOKEN: &str = "upload-test-token";

fn client(server: &MockServer) -> Client {
    Client::builder()
        .console_url(server.base_url())
        .api_token(TOKEN)
        .allow_http(true)
        .limiter(sentinelone::quota::Limiter::new())
        .build()
        .expect("valid configuration")
}

#[tokio::test]
async fn csv_filter_upload_sends_every_field_with_the_token() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/web/api/v2.1/filters/csv-filter")
                .header("authorization", format!("ApiToken {TOKEN}"))
                .header_includes("content-type", "multipart/form-data; boundary=")
                .body_includes("name=\"agentFilterField\"\r\n\r\ncomputerName")
                .body_includes("name=\"excludeHeader\"\r\n\r\ntrue")
                .body_includes("filename=\"hosts.csv\"")
                .body_includes("name\nweb-01\n");
            then.status(200)
                .json_body(json!({"data": {"filterId": "225494730938493804"}}));
        })
        .await;
    let file = ImportFile::new("hosts.csv", "name\nweb-01\n");
    let answer = client(&server)
        .imports()
        .csv_filter("computerName", true, &file)
        .await
        .expect("upload succeeds");
    mock.assert_async().await;
    assert_eq!(answer["data"]["filterId"], "225494730938493804");
}

#[tokio::test]
async fn firewall_import_joins_scope_ids() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/web/api/v2.1/firewall-control/firewall/import")
                .body_includes("name=\"siteIds\"\r\n\r\n11,12")
                .body_includes("filename=\"rules.json\"");
            then.status(200).json_body(json!({"data": {"affected": 3}}));
        })
        .await;
    let scope = Scope {
        site_ids: vec!["11".into(), "12".into()],
        ..Scope::default()
    };
    let answer = client(&server)
        .imports()
        .firewall_rules("firewall", &ImportFile::new("rules.json", "[]"), &scope)
        .await
        .expect("import succeeds");
    mock.assert_async().await;
    assert_eq!(answer["data"]["affected"], 3);
}

#[tokio::test]
async fn bad_uploads_are_refused_before_sending() {
    let server = MockServer::start_async().await;
    let any = server
        .mock_async(|when, then| {
            when.method(POST);
            then.status(200).json_body(json!({}));
        })
        .await;
    let c = client(&server);
    let empty = ImportFile::new("empty.csv", Vec::new());
    let err = c.imports().exclusions(&empty, None).await.unwrap_err();
    assert!(matches!(err, Error::InvalidInput { .. }));
    assert!(err.to_string().contains("empty.csv"), "{err}");
    let err = c
        .imports()
        .firewall_rules(
            "firewall",
            &ImportFile::new("r.json", "[]"),
            &Scope::default(),
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("scope is empty"), "{err}");
    let err = c
        .imports()
        .firewall_rules(
            "../x",
            &ImportFile::new("r.json", "[]"),
            &Scope {
                tenant: true,
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("not a plain name"), "{err}");
    assert_eq!(any.calls_async().await, 0);
}

#[tokio::test]
async fn upload_errors_name_the_operation() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(POST).path("/web/api/v2.1/restrictions/import");
            then.status(400).json_body(json!({"errors": [{"code": 4000010, "title": "Validation Error", "detail": "bad csv"}]}));
        })
        .await;
    let err = client(&server)
        .imports()
        .restrictions(
            &ImportFile::new("b.csv", "x"),
            Some(&json!({"siteIds": ["1"]})),
        )
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(400));
    assert_eq!(err.operation(), Some("import_restrictions"));
    assert!(!format!("{err:?}").contains(TOKEN));
}

/// A multipart body is a stream, sent once: a console that never answers
/// is a timeout of the upload, as for any other call.
#[tokio::test]
async fn an_upload_the_console_never_answers_is_a_timeout_naming_it() {
    use crate::support::scripted::{delayed, reply, scripted_server};
    use std::time::{Duration, Instant};

    let server = scripted_server(vec![delayed(
        Duration::from_secs(3600),
        reply(200, &[], "{}"),
    )])
    .await;
    let client = Client::builder()
        .console_url(&server.url)
        .api_token(TOKEN)
        .allow_http(true)
        .limiter(sentinelone::quota::Limiter::new())
        .quotas(sentinelone::quota::Quotas::none())
        .timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let started = Instant::now();
    let err = tokio::time::timeout(
        Duration::from_secs(5),
        client
            .imports()
            .csv_filter("computerName", false, &ImportFile::new("h.csv", "web-01\n")),
    )
    .await
    .expect("finished in time")
    .unwrap_err();
    assert!(
        matches!(&err, Error::Timeout { operation } if operation == "upload_csv_filter"),
        "{err:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(server.seen().len(), 1, "a stream is sent once");
}

/// The answer's head came, then its body stalled: a timeout too, not a
/// transport error.
#[tokio::test]
async fn an_upload_answer_that_stalls_is_a_timeout_naming_it() {
    use crate::support::streaming::{Hostile, hostile_server};
    use std::time::Duration;

    let server = hostile_server(Hostile::stalling("application/json", 1024, br#"{"data": "#));
    let client = Client::builder()
        .console_url(&server.url)
        .api_token(TOKEN)
        .allow_http(true)
        .limiter(sentinelone::quota::Limiter::new())
        .quotas(sentinelone::quota::Quotas::none())
        .read_idle_timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let err = tokio::time::timeout(
        Duration::from_secs(5),
        client
            .imports()
            .exclusions(&ImportFile::new("e.csv", "x\n"), None),
    )
    .await
    .expect("finished in time")
    .unwrap_err();
    assert!(
        matches!(&err, Error::Timeout { operation } if operation == "import_exclusions"),
        "{err:?}"
    );
    assert_eq!(server.requests(), 1);
}
