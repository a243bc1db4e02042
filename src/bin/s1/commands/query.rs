//! `s1 query` and `s1 pq`: Long Running Queries (PowerQuery tables and log
//! events), the replacement of Deep Visibility's queries.

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::SecondsFormat;
use clap::{ArgGroup, Args};
use futures_util::StreamExt;
use sentinelone::lrq::{
    self, ColumnKind, LogEvent, LogResults, LrqOptions, LrqScope, Merge, PqTable,
};
use sentinelone::{Client, Error};
use serde_json::{Map, Value, json};

use crate::args::{TimeRange, parse_secs};
use crate::exit::Failure;
use crate::output::{self, Cell, Choice, Format, Output, Table};
use crate::progress::Progress;

/// Range, scope and pace shared by `s1 query` and `s1 pq`.
#[derive(Args)]
pub struct LrqArgs {
    #[command(flatten)]
    pub(crate) range: TimeRange,
    /// Only these accounts (ids, repeat or comma-separate); every account
    /// the token reaches when not given
    #[arg(long = "account", value_name = "ID", value_delimiter = ',')]
    accounts: Vec<String>,
    /// Cut the range into N slices run at once within the token's quota
    /// (1-64)
    #[arg(long, value_name = "N", default_value_t = 1,
          value_parser = clap::value_parser!(u32).range(1..=i64::from(lrq::MAX_SLICES)))]
    slices: u32,
    /// Give up after this many seconds; the console's queries are deleted
    /// [default: 600]
    #[arg(long, value_name = "SECS", value_parser = parse_secs)]
    timeout: Option<Duration>,
}

impl LrqArgs {
    /// The scope asked for: the accounts given, or the tenant.
    fn scope(&self) -> LrqScope {
        if self.accounts.is_empty() {
            LrqScope::tenant()
        } else {
            LrqScope::accounts(self.accounts.iter().cloned())
        }
    }

    /// The window, resolved.
    fn window(&self) -> Result<lrq::TimeRange, Failure> {
        let (from, to) = self.range.resolve()?;
        Ok(lrq::TimeRange::new(from, to))
    }

    /// The options, reporting progress to `bar`.
    fn options(&self, bar: &crate::progress::JobBar) -> LrqOptions {
        LrqOptions::default()
            .timeout(self.timeout.unwrap_or(lrq::DEFAULT_TIMEOUT))
            .slices(self.slices)
            .on_progress(bar.lrq_updater())
    }
}

/// `s1 query`: a PowerQuery (`--pq`) or a log search (`--log`).
#[derive(Args)]
#[command(group(ArgGroup::new("kind").required(true).args(["pq", "log"])))]
pub struct QueryArgs {
    /// Run this PowerQuery and print its table
    #[arg(long, value_name = "QUERY")]
    pq: Option<String>,
    /// Print the events matching this filter (no pipes; "" matches all)
    #[arg(long, value_name = "FILTER")]
    log: Option<String>,
    #[command(flatten)]
    pub(crate) lrq: LrqArgs,
    /// --log: at most N events per query (1-5000) [default: 1000]; --pq:
    /// print at most N rows
    #[arg(long, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..=i64::from(lrq::MAX_LOG_LIMIT)))]
    limit: Option<u32>,
    /// --pq with --slices: merge the slices' COLUMN by sum, min or max
    /// (e.g. count=sum); rows agreeing on the other columns become one
    #[arg(long, value_name = "COLUMN=HOW", value_parser = parse_merge)]
    merge: Vec<(String, Merge)>,
}

/// `s1 pq`: a PowerQuery.
#[derive(Args)]
pub struct PqArgs {
    /// The PowerQuery
    #[arg(long, value_name = "QUERY")]
    query: String,
    #[command(flatten)]
    pub(crate) lrq: LrqArgs,
    /// Print at most N rows
    #[arg(long, value_name = "N")]
    limit: Option<u32>,
    /// With --slices: merge the slices' COLUMN by sum, min or max (e.g.
    /// count=sum)
    #[arg(long, value_name = "COLUMN=HOW", value_parser = parse_merge)]
    merge: Vec<(String, Merge)>,
}

/// `COLUMN=sum|min|max`.
fn parse_merge(text: &str) -> Result<(String, Merge), String> {
    let (column, how) = text
        .rsplit_once('=')
        .filter(|(c, _)| !c.trim().is_empty())
        .ok_or_else(|| format!("{text:?} is not COLUMN=sum, COLUMN=min or COLUMN=max"))?;
    let how = match how.trim().to_ascii_lowercase().as_str() {
        "sum" => Merge::Sum,
        "min" => Merge::Min,
        "max" => Merge::Max,
        other => return Err(format!("{other:?} is not sum, min or max")),
    };
    Ok((column.trim().to_string(), how))
}

/// Runs `s1 query`.
pub async fn run(
    client: &Client,
    args: &QueryArgs,
    choice: Choice,
    progress: &Progress,
) -> Result<(), Failure> {
    match (&args.pq, &args.log) {
        (Some(query), _) => {
            pq(
                client,
                query,
                &args.lrq,
                args.limit,
                &args.merge,
                choice.format,
                progress,
            )
            .await
        }
        (None, Some(filter)) => log(client, filter, args, choice, progress).await,
        (None, None) => Err(Failure::usage("give --pq QUERY or --log FILTER")),
    }
}

/// Runs `s1 pq`.
pub async fn power_query(
    client: &Client,
    args: &PqArgs,
    choice: Choice,
    progress: &Progress,
) -> Result<(), Failure> {
    pq(
        client,
        &args.query,
        &args.lrq,
        args.limit,
        &args.merge,
        choice.format,
        progress,
    )
    .await
}

async fn pq(
    client: &Client,
    query: &str,
    lrq: &LrqArgs,
    limit: Option<u32>,
    merge: &[(String, Merge)],
    format: Format,
    progress: &Progress,
) -> Result<(), Failure> {
    let range = lrq.window()?;
    let bar = progress.job("Power Query");
    let options = merge
        .iter()
        .fold(lrq.options(&bar), |o, (column, how)| o.merge(column, *how));
    let mut table = client
        .lrq()
        .power_query(query, range, &lrq.scope(), &options)
        .await?;
    drop(bar);
    if let Some(limit) = limit {
        table.rows.truncate(limit as usize);
    }
    let rows = pq_rows(&table);
    let mut output = Output::document(pq_json(&table), pq_table(&table)).lines_of(rows);
    if table.partial.any() {
        output = output.note("(the console left some results out)");
    }
    output.print(format)
}

/// The name the console gives a column kind.
fn kind_name(kind: &ColumnKind) -> &str {
    match kind {
        ColumnKind::Number => "NUMBER",
        ColumnKind::Percentage => "PERCENTAGE",
        ColumnKind::String => "STRING",
        ColumnKind::Timestamp => "TIMESTAMP",
        ColumnKind::Other(name) => name,
    }
}

/// A cell as JSON: numbers as numbers (whole ones without a fraction),
/// instants as RFC 3339 text to the millisecond.
fn cell_json(cell: &lrq::Cell) -> Value {
    match cell {
        lrq::Cell::Null => Value::Null,
        lrq::Cell::Number(n) if n.fract() == 0.0 && n.abs() < 9.0e15 => json!(*n as i64),
        lrq::Cell::Number(n) => json!(n),
        lrq::Cell::String(s) => json!(s),
        lrq::Cell::Timestamp(t) => json!(t.to_rfc3339_opts(SecondsFormat::Millis, true)),
        lrq::Cell::Other(v) => v.clone(),
    }
}

/// A PowerQuery table as one JSON document.
pub fn pq_json(table: &PqTable) -> Value {
    json!({
        "queryIds": table.query_ids,
        "columns": table
            .columns
            .iter()
            .map(|c| json!({"name": c.name, "type": kind_name(&c.kind)}))
            .collect::<Vec<_>>(),
        "rows": table
            .rows
            .iter()
            .map(|row| row.iter().map(cell_json).collect::<Vec<_>>())
            .collect::<Vec<_>>(),
        "matchCount": table.match_count,
        "warnings": table.warnings,
        "partial": table.partial.any(),
    })
}

/// The rows of a PowerQuery table as objects keyed by column name (JSON
/// Lines).
pub fn pq_rows(table: &PqTable) -> Vec<Value> {
    table
        .rows
        .iter()
        .map(|row| {
            let fields: Map<String, Value> = table
                .columns
                .iter()
                .zip(row)
                .map(|(column, cell)| (column.name.clone(), cell_json(cell)))
                .collect();
            Value::Object(fields)
        })
        .collect()
}

/// A PowerQuery table for people: its columns named, numbers with the
/// decimals the console asks for, instants to the second.
pub fn pq_table(result: &PqTable) -> Table {
    let mut table = Table::new(result.columns.iter().map(|c| c.name.clone()));
    for row in &result.rows {
        table.row(row.iter().enumerate().map(|(i, cell)| {
            let places = result.columns.get(i).and_then(|c| c.decimal_places);
            match cell {
                lrq::Cell::Null => Cell::from("-"),
                lrq::Cell::Number(n) => Cell::Text(match places {
                    Some(p) => format!("{n:.*}", p.clamp(0, 12) as usize),
                    None => n.to_string(),
                }),
                lrq::Cell::String(s) => Cell::Text(s.clone()),
                lrq::Cell::Timestamp(t) => Cell::Instant(*t),
                lrq::Cell::Other(Value::String(s)) => Cell::Text(s.clone()),
                lrq::Cell::Other(v) => Cell::Text(v.to_string()),
            }
        }));
    }
    table
}

async fn log(
    client: &Client,
    filter: &str,
    args: &QueryArgs,
    choice: Choice,
    progress: &Progress,
) -> Result<(), Failure> {
    let lrq = &args.lrq;
    let range = lrq.window()?;
    let bar = progress.job("Log query");
    let options = lrq.options(&bar);
    let limit = args.limit.unwrap_or(1000);
    // JSON Lines, or piped with no format asked for: one event per line,
    // each written as soon as its page arrives.
    let streamed = match choice.format {
        Format::Jsonl => true,
        Format::Json => !choice.explicit,
        Format::Table | Format::Csv => false,
    };
    if streamed {
        let mut events = client
            .lrq()
            .log_events(filter, range, &lrq.scope(), limit, &options)?;
        let mut capped = 0;
        while let Some(item) = events.next().await {
            match item {
                Ok(event) => output::json_line(&event_json(&event))?,
                Err(Error::SliceCapped { .. }) => capped += 1,
                Err(error) => return Err(error.into()),
            }
        }
        drop(bar);
        warn_capped(capped);
        return Ok(());
    }
    let results = client
        .lrq()
        .log_query(filter, range, &lrq.scope(), limit, &options)
        .await?;
    drop(bar);
    warn_capped(results.capped.len());
    let document = json!({
        "queryIds": results.query_ids,
        "estimatedMatchCount": results.estimated_match_count,
        "eventCount": results.events.len(),
        "events": results.events.iter().map(event_json).collect::<Vec<_>>(),
    });
    Output::document(document, log_table(&results))
        .lines_at("/events")
        .note(format!("{} event(s)", results.events.len()))
        .print(choice.format)
}

/// Says on stderr that `capped` slices may hold more events.
fn warn_capped(capped: usize) {
    if capped > 0 {
        eprintln!(
            "s1: warning: {capped} slice(s) came back full; the console may hold more events (narrow the range or raise --limit)"
        );
    }
}

/// One event as JSON: its time (RFC 3339, nanoseconds kept in
/// `timestampNs`), severity, and attributes.
pub fn event_json(event: &LogEvent) -> Value {
    json!({
        "timestamp": event.timestamp.map(|t| t.to_rfc3339_opts(SecondsFormat::AutoSi, true)),
        "timestampNs": event.timestamp_ns.map(|n| n.to_string()),
        "severity": event.severity,
        "sessionId": event.session_id,
        "threadId": event.thread_id,
        "cursor": event.cursor,
        "serverInfo": event.server_info,
        "values": event.values,
    })
}

/// The events as a table: time to the second, then every attribute any
/// event has.
pub fn log_table(results: &LogResults) -> Table {
    let keys: BTreeSet<&String> = results
        .events
        .iter()
        .flat_map(|e| e.values.keys())
        .collect();
    let mut table = Table::new(
        ["TIME".to_string()]
            .into_iter()
            .chain(keys.iter().map(|k| k.to_string())),
    );
    let text = |values: &Map<String, Value>, key: &str| match values.get(key) {
        None | Some(Value::Null) => Cell::from("-"),
        Some(Value::String(s)) => Cell::Text(s.clone()),
        Some(other) => Cell::Text(other.to_string()),
    };
    for event in &results.events {
        table.row(
            [event.timestamp.map_or(Cell::from("-"), Cell::Instant)]
                .into_iter()
                .chain(keys.iter().map(|k| text(&event.values, k))),
        );
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merges_parse() {
        assert!(matches!(parse_merge("count=sum"), Ok((c, Merge::Sum)) if c == "count"));
        assert!(matches!(parse_merge("a=b=MAX"), Ok((c, Merge::Max)) if c == "a=b"));
        assert!(parse_merge("count").is_err());
        assert!(parse_merge("=sum").is_err());
        assert!(parse_merge("count=avg").is_err());
    }
}
