//! `s1 test-connection`.

use sentinelone::Client;
use sentinelone::connection::ConnectionReport;
use serde_json::json;

use crate::exit::Failure;
use crate::output::{self, Format, FormatArgs, Table};

/// Tests the connection and prints what it found.
pub async fn run(client: &Client, format: &FormatArgs) -> Result<(), Failure> {
    let report = client.connection().test().await?;
    match format.format() {
        Format::Json => output::json(&json!({
            "consoleUrl": report.console_url,
            "consoleVersion": report.console_version,
            "consoleBuild": report.console_build,
            "consoleRelease": report.console_release,
            "consolePatch": report.console_patch,
            "latestAgentVersion": report.latest_agent_version,
            "tokenCreatedAt": report.token_created_at,
            "tokenExpiresAt": report.token_expires_at,
            "tokenDetailsForbidden": report.token_details_forbidden,
        })),
        Format::Table => lines(&report).print(),
    }
}

/// The report as two columns of names and values.
pub fn lines(report: &ConnectionReport) -> Table {
    let text = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    let expiry = if report.token_details_forbidden {
        "unknown (the token may not read its own details)".to_string()
    } else {
        text(&report.token_expires_at)
    };
    let mut table = Table::new(["CONSOLE", report.console_url.as_str()]);
    table.row(["version".to_string(), text(&report.console_version)]);
    table.row(["build".to_string(), text(&report.console_build)]);
    table.row([
        "latest agent".to_string(),
        text(&report.latest_agent_version),
    ]);
    table.row(["token created".to_string(), text(&report.token_created_at)]);
    table.row(["token expires".to_string(), expiry]);
    table
}
