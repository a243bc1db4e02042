//! `s1 dv query`: Deep Visibility until its sunset (2027-02-15). Every run
//! says so once on stderr; `s1 query` is the replacement.

use clap::{Args, Subcommand};
use sentinelone::Client;
use sentinelone::dv::{self, DvQuery, DvResults};
use serde_json::json;

use crate::args::{TimeRange, WaitArgs};
use crate::exit::Failure;
use crate::output::{self, Format, Output, Table};
use crate::progress::Progress;

/// The one line every `s1 dv` run prints on stderr.
pub const DEPRECATION: &str =
    "s1: warning: Deep Visibility queries end on 2027-02-15; use `s1 query`";

/// Deep Visibility commands.
#[derive(Subcommand)]
pub enum DvCommand {
    /// Run a Deep Visibility query (S1QL) to its end and print its events;
    /// a query still running at --timeout is cancelled (deprecated: use
    /// `s1 query --log`)
    Query(QueryArgs),
}

/// The text, range and scope of a query.
#[derive(Args)]
pub struct Scope {
    /// The query text
    #[arg(long, value_name = "QUERY")]
    query: String,
    #[command(flatten)]
    pub(crate) range: TimeRange,
    /// At most N results (1-100000; the console's default when not given)
    #[arg(long, value_name = "N")]
    limit: Option<u32>,
    /// Only these sites
    #[arg(long = "site-id", value_name = "ID", value_delimiter = ',')]
    site_ids: Vec<String>,
    #[command(flatten)]
    pub(crate) wait: WaitArgs,
}

/// A Deep Visibility query.
#[derive(Args)]
pub struct QueryArgs {
    #[command(flatten)]
    pub(crate) scope: Scope,
}

/// Runs a Deep Visibility command.
pub async fn run(
    client: &Client,
    command: DvCommand,
    format: Format,
    progress: &Progress,
) -> Result<(), Failure> {
    eprintln!("{DEPRECATION}");
    match command {
        DvCommand::Query(args) => query(client, &args, format, progress).await,
    }
}

// The command stays until the endpoints end; it says so on every run.
#[allow(deprecated)]
async fn query(
    client: &Client,
    args: &QueryArgs,
    format: Format,
    progress: &Progress,
) -> Result<(), Failure> {
    let scope = &args.scope;
    let (from, to) = scope.range.resolve()?;
    let bar = progress.job("Deep Visibility query");
    let mut request = DvQuery::new(&scope.query, from, to)
        .site_ids(scope.site_ids.clone())
        .polling(scope.wait.polling(dv::DEFAULT_POLLING))
        .on_progress(bar.updater());
    if let Some(limit) = scope.limit {
        request = request.limit(limit);
    }
    let results = client.dv().query(&request).await?;
    drop(bar);
    let document = json!({
        "queryId": results.status.query_id,
        "state": results.status.state.as_str(),
        "warnings": results.status.warnings,
        "eventCount": results.events.len(),
        "events": results.events,
    });
    let summary = format!(
        "query {} {}: {} event(s)",
        results.status.query_id,
        results.status.state,
        results.events.len()
    );
    Output::document(document, events_table(&results))
        .lines_at("/events")
        .note(summary)
        .print(format)
}

/// The events of a query as a table.
pub fn events_table(results: &DvResults) -> Table {
    let mut table = Table::new(["TIME", "AGENT", "EVENT", "PROCESS", "PID"]);
    for event in &results.events {
        let value = output::to_value(event);
        table.row([
            output::time_cell(&value, "/createdAt"),
            output::cell(&value, "/agentName").into(),
            output::cell(&value, "/eventType").into(),
            output::cell(&value, "/processName").into(),
            output::cell(&value, "/pid").into(),
        ]);
    }
    table
}
