//! `s1 threats kill|quarantine|remediate|rollback|unquarantine|list`.

use clap::{Args, Subcommand};
use futures_util::TryStreamExt;
use sentinelone::Client;
use sentinelone::detections::{Detection, DetectionWindow};
use sentinelone::raw::types::ThreatListResponseDataItem;
use sentinelone::threats::{ThreatAction, ThreatTarget};
use serde_json::json;

use crate::args::TimeRange;
use crate::exit::Failure;
use crate::output::{self, Format, FormatArgs, Table};

/// Threat commands.
#[derive(Subcommand)]
pub enum ThreatsCommand {
    /// Kill the processes of the threats on the named computers
    Kill(TargetArgs),
    /// Quarantine the files of the threats on the named computers
    Quarantine(TargetArgs),
    /// Remediate the threats on the named computers
    Remediate(TargetArgs),
    /// Roll back what the threats on the named computers changed (Windows)
    Rollback(TargetArgs),
    /// Release the files of the threats on the named computers from
    /// quarantine
    Unquarantine(TargetArgs),
    /// List threats created in a time range, newest first
    List(ListArgs),
}

/// Which threats to act on. Every action first lists the threats the
/// target selects, then acts on exactly those.
#[derive(Args)]
pub struct TargetArgs {
    /// Computer name, matched exactly (ignoring case); repeat or
    /// comma-separate for several
    #[arg(
        long = "computer",
        value_name = "NAME",
        required = true,
        value_delimiter = ','
    )]
    computers: Vec<String>,
    /// Only threats whose originating process name contains NAME
    #[arg(long = "process", value_name = "NAME", value_delimiter = ',')]
    processes: Vec<String>,
    /// Only these threat ids
    #[arg(long = "threat-id", value_name = "ID", value_delimiter = ',')]
    threat_ids: Vec<String>,
    /// Only threats whose file path contains PATH (repeat for several)
    #[arg(long = "file-path", value_name = "PATH")]
    file_paths: Vec<String>,
    /// Only threats whose file has this SHA-1
    #[arg(long = "sha1", value_name = "HASH", value_delimiter = ',')]
    sha1s: Vec<String>,
    /// Also match computers whose name merely contains NAME
    #[arg(long)]
    partial_names: bool,
    /// Refuse to act when more threats match [default: 1000]
    #[arg(long, value_name = "N")]
    max_threats: Option<usize>,
    /// Show the threats that would be acted on; send no action
    #[arg(long)]
    dry_run: bool,
    #[command(flatten)]
    format: FormatArgs,
}

impl TargetArgs {
    /// The library's target for these arguments (checked when used).
    pub(crate) fn target(&self) -> ThreatTarget {
        let mut target = ThreatTarget::computers(self.computers.clone())
            .process_names(self.processes.clone())
            .threat_ids(self.threat_ids.clone())
            .file_paths(self.file_paths.clone())
            .content_hashes(self.sha1s.clone())
            .match_partial_names(self.partial_names);
        if let Some(max) = self.max_threats {
            target = target.max_threats(max);
        }
        target
    }
}

/// Which threats to list.
#[derive(Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub(crate) range: TimeRange,
    /// At most N threats (1-1000)
    #[arg(long, value_name = "N", default_value_t = 50,
          value_parser = clap::value_parser!(u32).range(1..=1000))]
    limit: u32,
    #[command(flatten)]
    format: FormatArgs,
}

/// Runs a threats command.
pub async fn run(client: &Client, command: ThreatsCommand) -> Result<(), Failure> {
    let (action, args) = match command {
        ThreatsCommand::Kill(args) => (ThreatAction::Kill, args),
        ThreatsCommand::Quarantine(args) => (ThreatAction::Quarantine, args),
        ThreatsCommand::Remediate(args) => (ThreatAction::Remediate, args),
        ThreatsCommand::Rollback(args) => (ThreatAction::Rollback, args),
        ThreatsCommand::Unquarantine(args) => (ThreatAction::Unquarantine, args),
        ThreatsCommand::List(args) => return list(client, &args).await,
    };
    respond(client, action, &args).await
}

/// Previews the target and, unless `--dry-run`, acts on what matched.
async fn respond(client: &Client, action: ThreatAction, args: &TargetArgs) -> Result<(), Failure> {
    let target = args.target();
    let (matched, affected) = if args.dry_run {
        (client.threats().preview(&target).await?, None)
    } else {
        let done = client.threats().respond(action, &target).await?;
        (done.matched, Some(done.affected))
    };
    match args.format.format() {
        Format::Json => output::json(&json!({
            "action": action.as_str(),
            "dryRun": args.dry_run,
            "matched": matched,
            "affected": affected,
        })),
        Format::Table => {
            table(&matched).print()?;
            match affected {
                Some(n) => output::line(&format!("{action}: {n} threat(s) affected")),
                None => output::line(&format!(
                    "{action} (dry run): {} threat(s) would be acted on; nothing sent",
                    matched.len()
                )),
            }
        }
    }
}

/// Lists the threats of a time range.
async fn list(client: &Client, args: &ListArgs) -> Result<(), Failure> {
    let (from, to) = args.range.resolve()?;
    let listed = recent(client, &DetectionWindow::new(from, to).limit(args.limit)).await?;
    match args.format.format() {
        Format::Json => output::json(&listed),
        Format::Table => table(&listed).print(),
    }
}

/// The threats of `window`, newest first.
pub async fn recent(
    client: &Client,
    window: &DetectionWindow,
) -> Result<Vec<ThreatListResponseDataItem>, sentinelone::Error> {
    client
        .detections()
        .fetch(window)?
        .try_filter_map(|event| async move {
            Ok(match event {
                Detection::Threat(threat) => Some(*threat),
                Detection::Alert(_) => None,
            })
        })
        .try_collect()
        .await
}

/// Threats as a table.
pub fn table(threats: &[ThreatListResponseDataItem]) -> Table {
    let mut table = Table::new(["ID", "COMPUTER", "THREAT", "FILE", "STATUS", "CREATED"]);
    for threat in threats {
        let value = output::to_value(threat);
        table.row([
            output::cell(&value, "/id"),
            output::cell(&value, "/agentRealtimeInfo/agentComputerName"),
            output::cell(&value, "/threatInfo/threatName"),
            output::cell(&value, "/threatInfo/filePath"),
            output::cell(&value, "/threatInfo/mitigationStatus"),
            output::cell(&value, "/threatInfo/createdAt"),
        ]);
    }
    table
}
