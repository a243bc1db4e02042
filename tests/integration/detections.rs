//! Fetch Detection (`sentinelone::detections::fetch`) against httpmock: the time
//! window, order and page size sent for threats and alerts, the limit
//! across pages, laziness, and refusals of bad windows before any request.

use crate::support;

use chrono::{DateTime, TimeZone, Utc};
use futures_util::{StreamExt, TryStreamExt};
use httpmock::MockServer;
use sentinelone::Error;
use sentinelone::detections::{Detection, DetectionSource, DetectionWindow, SortField};
use serde_json::{Value, json};
use support::{auth_header, facade_client};

const THREATS: &str = "/web/api/v2.1/threats";
const ALERTS: &str = "/web/api/v2.1/cloud-detection/alerts";
const FROM: &str = "2024-04-01T00:00:00.000Z";
const TO: &str = "2024-04-02T12:30:00.000Z";

fn from() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 4, 1, 0, 0, 0).unwrap()
}

fn to() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 4, 2, 12, 30, 0).unwrap()
}

fn page(ids: &[&str], next: Option<&str>) -> Value {
    let data: Vec<Value> = ids.iter().map(|id| json!({ "id": id })).collect();
    json!({ "data": data, "pagination": { "nextCursor": next } })
}

fn threat_id(event: &Detection) -> &str {
    match event {
        Detection::Threat(t) => t.id.as_deref().unwrap(),
        Detection::Alert(a) => panic!("expected a threat, got {a:?}"),
    }
}

#[tokio::test]
async fn threats_in_the_window_newest_first() {
    let server = MockServer::start_async().await;
    let list = server
        .mock_async(|when, then| {
            when.method("GET")
                .path(THREATS)
                .query_param("createdAt__gte", FROM)
                .query_param("createdAt__lt", TO)
                .query_param("sortBy", "createdAt")
                .query_param("sortOrder", "desc")
                .query_param("limit", "1000")
                .header("authorization", auth_header());
            then.status(200).json_body(page(&["3", "2", "1"], None));
        })
        .await;
    let client = facade_client(&server);

    let events: Vec<Detection> = client
        .detections()
        .fetch(&DetectionWindow::new(from(), to()))
        .unwrap()
        .try_collect()
        .await
        .unwrap();

    assert_eq!(
        events.iter().map(threat_id).collect::<Vec<_>>(),
        vec!["3", "2", "1"]
    );
    list.assert_async().await;
}

#[tokio::test]
async fn the_limit_sets_the_page_size_and_stops_across_pages() {
    let server = MockServer::start_async().await;
    let first = server
        .mock_async(|when, then| {
            when.method("GET")
                .path(THREATS)
                .query_param("limit", "3")
                .query_param("sortBy", "updatedAt")
                .query_param("sortOrder", "asc")
                .query_param_missing("cursor");
            then.status(200).json_body(page(&["1", "2"], Some("c1")));
        })
        .await;
    let second = server
        .mock_async(|when, then| {
            when.method("GET").path(THREATS).query_param("cursor", "c1");
            then.status(200).json_body(page(&["3", "4"], Some("c2")));
        })
        .await;
    let third = server
        .mock_async(|when, then| {
            when.method("GET").path(THREATS).query_param("cursor", "c2");
            then.status(200).json_body(page(&["5"], None));
        })
        .await;
    let client = facade_client(&server);
    let window = DetectionWindow::new(from(), to())
        .limit(3)
        .sort_by(SortField::UpdatedAt)
        .ascending(true);

    let events: Vec<Detection> = client
        .detections()
        .fetch(&window)
        .unwrap()
        .try_collect()
        .await
        .unwrap();

    assert_eq!(
        events.iter().map(threat_id).collect::<Vec<_>>(),
        vec!["1", "2", "3"]
    );
    first.assert_async().await;
    second.assert_async().await;
    third.assert_calls_async(0).await;
}

#[tokio::test]
async fn pages_are_read_only_as_the_stream_is_consumed() {
    let server = MockServer::start_async().await;
    let first = server
        .mock_async(|when, then| {
            when.method("GET")
                .path(THREATS)
                .query_param_missing("cursor");
            then.status(200).json_body(page(&["1"], Some("c1")));
        })
        .await;
    let second = server
        .mock_async(|when, then| {
            when.method("GET").path(THREATS).query_param("cursor", "c1");
            then.status(200).json_body(page(&["2"], None));
        })
        .await;
    let client = facade_client(&server);

    let mut stream = client
        .detections()
        .fetch(&DetectionWindow::new(from(), to()))
        .unwrap();
    second.assert_calls_async(0).await;
    let one = stream.next().await.unwrap().unwrap();
    assert_eq!(threat_id(&one), "1");
    first.assert_async().await;
    second.assert_calls_async(0).await;
    drop(stream);
}

#[tokio::test]
async fn alerts_use_their_own_endpoint_and_creation_field() {
    let server = MockServer::start_async().await;
    let list = server
        .mock_async(|when, then| {
            when.method("GET")
                .path(ALERTS)
                .query_param("createdAt__gte", FROM)
                .query_param("createdAt__lt", TO)
                .query_param("sortBy", "alertInfoCreatedAt")
                .query_param("sortOrder", "desc")
                .query_param("limit", "50")
                .header("authorization", auth_header());
            then.status(200).json_body(json!({
                "data": [{
                    "alertInfo": { "alertId": "a-1", "createdAt": "2024-04-01T10:00:00Z" },
                    "ruleInfo": { "name": "Suspicious PowerShell", "severity": "High" }
                }],
                "pagination": { "nextCursor": null }
            }));
        })
        .await;
    let client = facade_client(&server);
    let window = DetectionWindow::new(from(), to())
        .source(DetectionSource::Alerts)
        .limit(50);

    let events: Vec<Detection> = client
        .detections()
        .fetch(&window)
        .unwrap()
        .try_collect()
        .await
        .unwrap();

    assert_eq!(events.len(), 1);
    match &events[0] {
        Detection::Alert(alert) => {
            let info = alert.alert_info.as_ref().unwrap();
            assert_eq!(info.alert_id.as_deref(), Some("a-1"));
            let rule = alert.rule_info.as_ref().unwrap();
            assert_eq!(rule.name.as_deref(), Some("Suspicious PowerShell"));
        }
        other => panic!("expected an alert, got {other:?}"),
    }
    list.assert_async().await;
}

#[tokio::test]
async fn a_console_error_ends_the_stream_with_it() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method("GET").path(THREATS);
            then.status(400).json_body(json!({ "errors": [
                { "code": 4000010, "title": "Validation Error", "detail": "Unknown field" }
            ]}));
        })
        .await;
    let client = facade_client(&server);

    let err = client
        .detections()
        .fetch(&DetectionWindow::new(from(), to()))
        .unwrap()
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();

    assert_eq!(err.status(), Some(400));
    assert_eq!(err.operation(), Some("list_threats"));
}

#[tokio::test]
async fn bad_windows_are_refused_before_any_request() {
    let server = MockServer::start_async().await;
    let any = server
        .mock_async(|_, then| {
            then.status(500);
        })
        .await;
    let client = facade_client(&server);
    let cases = [
        (
            DetectionWindow::new(to(), from()),
            format!(
                "the time range is empty: start {} is not before end {}",
                to(),
                from()
            ),
        ),
        (
            DetectionWindow::new(from(), from()),
            format!(
                "the time range is empty: start {} is not before end {}",
                from(),
                from()
            ),
        ),
        (
            DetectionWindow::new(from(), to()).limit(0),
            "limit 0 is out of range: 1 to 1000".to_string(),
        ),
        (
            DetectionWindow::new(from(), to()).limit(1001),
            "limit 1001 is out of range: 1 to 1000".to_string(),
        ),
        (
            DetectionWindow::new(from(), to())
                .source(DetectionSource::Alerts)
                .sort_by(SortField::UpdatedAt),
            "sort_by: alerts cannot be ordered by update time (use CreatedAt or Id)".to_string(),
        ),
    ];
    for (window, expected) in cases {
        match client.detections().fetch(&window) {
            Err(Error::InvalidInput { message }) => assert_eq!(message, expected),
            Err(other) => panic!("expected InvalidInput, got {other:?}"),
            Ok(_) => panic!("{window:?} was accepted"),
        }
    }
    any.assert_calls_async(0).await;
}

/// Issue 12 item 7: a clock reading (nanoseconds) goes out in whole
/// milliseconds with `Z` (three digits, even for a whole second), never
/// nine fractional digits.
#[tokio::test]
async fn window_times_go_out_in_milliseconds() {
    let server = MockServer::start_async().await;
    let list = server
        .mock_async(|when, then| {
            when.method("GET")
                .path(THREATS)
                .query_param("createdAt__gte", "2026-12-01T10:00:00.123Z")
                .query_param("createdAt__lt", "2026-12-01T11:00:00.000Z");
            then.status(200).json_body(page(&[], None));
        })
        .await;
    let at = |h, nanos| {
        Utc.with_ymd_and_hms(2026, 12, 1, h, 0, 0).unwrap() + chrono::TimeDelta::nanoseconds(nanos)
    };
    let window = DetectionWindow::new(at(10, 123_456_789), at(11, 0));

    let events: Vec<Detection> = facade_client(&server)
        .detections()
        .fetch(&window)
        .unwrap()
        .try_collect()
        .await
        .unwrap();

    assert!(events.is_empty());
    list.assert_async().await;
}
