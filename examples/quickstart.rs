//! Runs without a tenant: starts a local stand-in console on loopback, then
//! drives it through the generated client, showing the requests that went out.
//!
//! ```text
//! cargo run --example quickstart
//! ```

use httpmock::Method::{GET, POST};
use httpmock::MockServer;
use sentinelone::Client;
use sentinelone::prelude::*;
use sentinelone::raw::types;
use serde_json::json;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let console = MockServer::start_async().await;
    let agents = console
        .mock_async(|when, then| {
            when.method(GET)
                .path("/web/api/v2.1/agents")
                .query_param("computerName__contains", "web-01,db-02");
            then.status(200).json_body(json!({
                "data": [
                    {"id": "1001", "computerName": "web-01", "networkStatus": "connected", "osType": "linux"},
                    {"id": "1002", "computerName": "db-02", "networkStatus": "connected", "osType": "windows"}
                ],
                "pagination": {"nextCursor": null, "totalItems": 2}
            }));
        })
        .await;
    let kill = console
        .mock_async(|when, then| {
            when.method(POST)
                .path("/web/api/v2.1/threats/mitigate/kill")
                .json_body(json!({"filter": {"computerName__contains": ["web-01"]}}));
            then.status(200).json_body(json!({"data": {"affected": 1}}));
        })
        .await;

    // The stand-in console speaks plain http on loopback; a real console
    // needs https, which is what the client insists on by default.
    let client = Client::builder()
        .console_url(console.base_url())
        .api_token("quickstart-token")
        .allow_http(true)
        .on_wait(|wait| eprintln!("{wait}"))
        .build()?;
    println!("stand-in console at {}", console.base_url());

    let listed = client
        .list_agents()
        .computer_name_contains(["web-01", "db-02"])
        .send()
        .await?
        .into_inner();
    for agent in listed.data.unwrap_or_default() {
        // An agent that did not decode (even leniently) is kept as sent.
        let agent = match agent.into_typed() {
            Ok(agent) => agent,
            Err(raw) => {
                eprintln!("{raw}: {}", raw.value);
                continue;
            }
        };
        println!(
            "agent {} {} ({})",
            agent.id.unwrap_or_default(),
            agent.computer_name.unwrap_or_default(),
            agent.network_status.unwrap_or_default()
        );
    }

    let filter: types::ThreatFilter =
        serde_json::from_value(json!({"computerName__contains": ["web-01"]}))?;
    let killed = client
        .mitigate_threats()
        .action("kill")
        .body(types::ThreatsMitigateRequest {
            filter,
            data: Default::default(),
        })
        .send()
        .await?
        .into_inner();
    println!(
        "kill on web-01: {} threat(s) affected",
        killed.data.and_then(|d| d.affected).unwrap_or_default()
    );

    println!(
        "requests seen by the console: list agents {}, mitigate {}",
        agents.calls_async().await,
        kill.calls_async().await
    );
    Ok(())
}
