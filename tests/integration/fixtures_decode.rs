//! Every real response in ../shared/s1-fixtures decodes through the generated
//! response type of its endpoint, and serialised back, the typed value holds
//! every non-null value of the body, unchanged (the fidelity test).

use crate::support;

use httpmock::Method::{DELETE, GET, POST, PUT};
use httpmock::MockServer;
use sentinelone_generated::lenient::lost_values;
use sentinelone_generated::prelude::*;
use sentinelone_generated::types;
use serde_json::{Value, json};

fn fixture(name: &str) -> Option<String> {
    let dir = support::shared_dir()?;
    let path = dir.join("s1-fixtures").join(name);
    Some(std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
}

/// Every value the typed decoding kept equals the raw one; returns how many
/// leaves were kept.
fn assert_subset(at: &str, typed: &Value, raw: &Value) -> usize {
    match (typed, raw) {
        (Value::Object(t), Value::Object(r)) => t
            .iter()
            .map(|(k, v)| {
                let raw_v = r
                    .get(k)
                    .unwrap_or_else(|| panic!("{at}.{k}: not in the raw body"));
                assert_subset(&format!("{at}.{k}"), v, raw_v)
            })
            .sum(),
        (Value::Array(t), Value::Array(r)) => {
            assert_eq!(t.len(), r.len(), "{at}: array length");
            t.iter()
                .zip(r)
                .enumerate()
                .map(|(i, (a, b))| assert_subset(&format!("{at}[{i}]"), a, b))
                .sum()
        }
        (Value::Number(a), Value::Number(b)) => {
            assert_eq!(a.as_f64(), b.as_f64(), "{at}");
            1
        }
        (a, b) => {
            assert_eq!(a, b, "{at}");
            1
        }
    }
}

/// Mocks `method path` with the fixture, sends `call`, checks the decoding.
macro_rules! decodes {
    ($test:ident, $file:literal, $method:expr, $path:literal, |$client:ident| $call:expr) => {
        #[tokio::test]
        async fn $test() {
            let Some(body) = fixture($file) else { return };
            let server = MockServer::start_async().await;
            let mock = server
                .mock_async(|when, then| {
                    when.method($method).path(concat!("/web/api/v2.1", $path));
                    then.status(200)
                        .header("content-type", "application/json")
                        .body(&body);
                })
                .await;
            let $client = support::raw_client(&server);
            let response = $call
                .send()
                .await
                .unwrap_or_else(|e| panic!("{}: {e}", $file));
            mock.assert_async().await;
            let raw: Value = serde_json::from_str(&body).unwrap();
            let typed = serde_json::to_value(response.into_inner()).unwrap();
            assert_subset($file, &typed, &raw);
            assert!(
                typed.get("data").is_some(),
                "{}: typed value lost `data`",
                $file
            );
            // Every non-null value the console sent is in the typed value,
            // with the same value: known fields in their typed place,
            // unknown ones in `extra`.
            let lost = lost_values(&raw, &typed);
            assert!(lost.is_empty(), "{}: typed decoding lost {lost:?}", $file);
        }
    };
}

decodes!(agents_list, "agents-list.json", GET, "/agents", |c| c
    .list_agents());
decodes!(
    agents_applications,
    "agents-applications.json",
    GET,
    "/agents/applications",
    |c| c.list_agent_applications().ids(["1"])
);
decodes!(
    agents_connect,
    "agents-actions-connect.json",
    POST,
    "/agents/actions/connect",
    |c| c.connect_agents().body(types::AgentsActionRequest {
        data: None,
        filter: json_filter(),
    })
);
decodes!(
    agents_disconnect,
    "agents-actions-disconnect.json",
    POST,
    "/agents/actions/disconnect",
    |c| c
        .disconnect_agents()
        .body(types::AgentsDangerousActionRequest {
            data: Default::default(),
            filter: json_filter(),
        })
);
decodes!(
    agents_initiate_scan,
    "agents-actions-initiate-scan.json",
    POST,
    "/agents/actions/initiate-scan",
    |c| c.initiate_agent_scan().body(types::AgentsActionRequest {
        data: None,
        filter: json_filter(),
    })
);
decodes!(
    agents_fetch_files,
    "agents-actions-fetch-files.json",
    POST,
    "/agents/1/actions/fetch-files",
    |c| c
        .fetch_agent_files()
        .agent_id("1")
        .body(from_json::<types::AgentFetchFilesActionRequest>(
            json!({"data": {"files": ["/etc/hosts"], "password": "Passw0rd!Long"}})
        ))
);
decodes!(groups_list, "groups-list.json", GET, "/groups", |c| c
    .list_groups());
decodes!(sites_list, "sites-list.json", GET, "/sites", |c| c
    .list_sites());
decodes!(
    threat_notes_list,
    "threats-notes-list.json",
    GET,
    "/threats/7/notes",
    |c| c.list_threat_notes().threat_id("7")
);
decodes!(
    threat_notes_add,
    "threats-notes-add.json",
    POST,
    "/threats/notes",
    |c| c
        .add_threat_notes()
        .body(from_json::<types::ThreatsNoteCreateRequest>(
            json!({"data": {"text": "note"}, "filter": {"ids": ["7"]}})
        ))
);
decodes!(
    threat_notes_update,
    "threats-notes-update.json",
    PUT,
    "/threats/7/notes/8",
    |c| c
        .update_threat_note()
        .threat_id("7")
        .note_id("8")
        .body(from_json::<types::PostThreatNoteDataRequest>(
            json!({"data": {"text": "note"}})
        ))
);
decodes!(
    threat_notes_delete,
    "threats-notes-delete.json",
    DELETE,
    "/threats/7/notes/8",
    |c| c.delete_threat_note().threat_id("7").note_id("8")
);
decodes!(
    threat_timeline,
    "threats-timeline.json",
    GET,
    "/threats/7/timeline",
    |c| c.get_threat_timeline().threat_id("7")
);
decodes!(
    threat_explore_events,
    "threats-explore-events.json",
    GET,
    "/threats/7/explore/events",
    |c| c.list_threat_explore_events().threat_id("7")
);
decodes!(
    threat_analysis,
    "private-threats-analysis.json",
    GET,
    "/private/threats/7/analysis",
    |c| c.get_threat_analysis().threat_id("7")
);
decodes!(
    threat_appearances,
    "private-threats-appearances.json",
    GET,
    "/private/threats/7/appearances",
    |c| c.list_threat_appearances().threat_id("7")
);
decodes!(
    threat_download_from_cloud,
    "threats-download-from-cloud.json",
    GET,
    "/threats/7/download-from-cloud",
    |c| c.download_threat_from_cloud().threat_id("7")
);
decodes!(
    threats_mitigate,
    "threats-mitigate.json",
    POST,
    "/threats/mitigate/kill",
    |c| c
        .mitigate_threats()
        .action("kill")
        .body(from_json::<types::ThreatsMitigateRequest>(
            json!({"filter": {"ids": ["7"]}})
        ))
);
decodes!(
    threats_analyst_verdict,
    "threats-analyst-verdict.json",
    POST,
    "/threats/analyst-verdict",
    |c| c
        .set_threat_analyst_verdict()
        .body(from_json::<types::ThreatsAnalystVerdictRequest>(
            json!({"data": {"analystVerdict": "true_positive"}, "filter": {"ids": ["7"]}})
        ))
);
decodes!(
    threats_external_ticket_id,
    "threats-external-ticket-id.json",
    POST,
    "/threats/external-ticket-id",
    |c| c
        .set_threat_external_ticket_id()
        .body(from_json::<types::ThreatExternalTicketRequest>(
            json!({"data": {"externalTicketId": "T-1"}, "filter": {"ids": ["7"]}})
        ))
);
decodes!(
    hash_reputation,
    "hashes-reputation.json",
    GET,
    "/hashes/abc/reputation",
    |c| c.get_hash_reputation().hash("abc")
);
decodes!(
    restrictions_delete,
    "restrictions-delete.json",
    DELETE,
    "/restrictions",
    |c| c
        .delete_restrictions()
        .body(from_json::<types::DeleteRestrictionRequest>(
            json!({"data": {"type": "black_hash", "ids": ["1"]}})
        ))
);
decodes!(
    alerts_incident,
    "cloud-detection-alerts-incident.json",
    POST,
    "/cloud-detection/alerts/incident",
    |c| c
        .set_alert_incident_status()
        .body(from_json::<types::AlertsIncidentRequest>(
            json!({"data": {"incidentStatus": "resolved"}, "filter": {"ids": ["1"]}})
        ))
);
decodes!(
    dv_init_query,
    "dv-init-query-with-querymodeinfo.json",
    POST,
    "/dv/init-query",
    |c| {
        c
    .init_dv_query()
    .body(from_json::<types::DeepVisibilityApiRequest>(json!({"query": "EventType = \"Process Creation\"", "fromDate": "2024-01-01T00:00:00Z", "toDate": "2024-01-02T00:00:00Z"})))
    }
);
decodes!(
    pq_running,
    "dv-events-pq-running.json",
    POST,
    "/dv/events/pq",
    |c| {
        c
    .create_power_query()
    .body(from_json::<types::DeepVisibilityPqRequest>(json!({"query": "| group count()", "fromDate": "2024-01-01T00:00:00Z", "toDate": "2024-01-02T00:00:00Z"})))
    }
);
decodes!(
    pq_ping,
    "dv-events-pq-ping.json",
    GET,
    "/dv/events/pq-ping",
    |c| c.ping_power_query().query_id("pq1")
);

/// A typed value from JSON (request bodies are easier to read that way).
fn from_json<T: serde::de::DeserializeOwned>(value: Value) -> T {
    serde_json::from_value(value).expect("request body matches its schema")
}

fn json_filter() -> types::AgentFilter {
    from_json(json!({"ids": ["1"]}))
}
