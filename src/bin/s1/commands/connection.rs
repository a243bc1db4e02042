//! `s1 test-connection`.

use sentinelone::Client;
use sentinelone::connection::ConnectionReport;
use serde_json::json;

use crate::exit::Failure;
use crate::output::{Cell, Format, Output, Table};

/// Tests the connection and prints what it found.
pub async fn run(client: &Client, format: Format) -> Result<(), Failure> {
    let report = client.connection().test().await?;
    let document = json!({
            "consoleUrl": report.console_url,
            "consoleVersion": report.console_version,
            "consoleBuild": report.console_build,
            "consoleRelease": report.console_release,
            "consolePatch": report.console_patch,
            "latestAgentVersion": report.latest_agent_version,
            "tokenCreatedAt": report.token_created_at,
            "tokenExpiresAt": report.token_expires_at,
            "tokenDetailsForbidden": report.token_details_forbidden,
    });
    Output::document(document, lines(&report)).print(format)
}

/// The report as two columns of names and values.
pub fn lines(report: &ConnectionReport) -> Table {
    let text = |v: &Option<String>| Cell::from(v.clone().unwrap_or_else(|| "-".into()));
    let expiry = if report.token_details_forbidden {
        Cell::from("unknown (the token may not read its own details)")
    } else {
        Cell::time(report.token_expires_at.as_deref())
    };
    let mut table = Table::new(["CONSOLE", report.console_url.as_str()]);
    table.row([Cell::from("version"), text(&report.console_version)]);
    table.row([Cell::from("build"), text(&report.console_build)]);
    table.row([
        Cell::from("latest agent"),
        text(&report.latest_agent_version),
    ]);
    table.row([
        Cell::from("token created"),
        Cell::time(report.token_created_at.as_deref()),
    ]);
    table.row([Cell::from("token expires"), expiry]);
    table
}
