//! `s1 threats kill|quarantine|remediate|rollback|unquarantine|list`.

use clap::{Args, Subcommand};
use futures_util::TryStreamExt;
use sentinelone::Client;
use sentinelone::detections::{Detection, DetectionWindow};
use sentinelone::raw::types::ThreatListResponseDataItem;
use sentinelone::threats::{ThreatAction, ThreatTarget};
use serde_json::json;

use crate::args::TimeRange;
use crate::confirm::Confirm;
use crate::exit::Failure;
use crate::output::{self, Cell, Format, Output, Table};

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

impl ThreatsCommand {
    /// Whether it acts on threats: every command but `list`, unless
    /// `--dry-run` (which only previews).
    pub fn writes(&self) -> bool {
        match self {
            ThreatsCommand::Kill(args)
            | ThreatsCommand::Quarantine(args)
            | ThreatsCommand::Remediate(args)
            | ThreatsCommand::Rollback(args)
            | ThreatsCommand::Unquarantine(args) => !args.dry_run,
            ThreatsCommand::List(_) => false,
        }
    }
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
}

/// Runs a threats command.
pub async fn run(
    client: &Client,
    command: ThreatsCommand,
    format: Format,
    confirm: Confirm,
) -> Result<(), Failure> {
    let (action, args) = match command {
        ThreatsCommand::Kill(args) => (ThreatAction::Kill, args),
        ThreatsCommand::Quarantine(args) => (ThreatAction::Quarantine, args),
        ThreatsCommand::Remediate(args) => (ThreatAction::Remediate, args),
        ThreatsCommand::Rollback(args) => (ThreatAction::Rollback, args),
        ThreatsCommand::Unquarantine(args) => (ThreatAction::Unquarantine, args),
        ThreatsCommand::List(args) => return list(client, &args, format).await,
    };
    respond(client, action, &args, format, confirm).await
}

/// Previews the target and, unless `--dry-run`, acts on what matched. At
/// a terminal (without `--yes`) the threats matched are shown first and
/// the action waits for a yes; it then acts on exactly those.
async fn respond(
    client: &Client,
    action: ThreatAction,
    args: &TargetArgs,
    format: Format,
    confirm: Confirm,
) -> Result<(), Failure> {
    let target = args.target();
    let (matched, affected) = if args.dry_run {
        (client.threats().preview(&target).await?, None)
    } else if confirm.asks() {
        target.check()?;
        let previewed = client.threats().preview(&target).await?;
        if previewed.is_empty() {
            (previewed, Some(0))
        } else {
            confirm.proceed(&summary(action, &previewed)).await?;
            let done = client
                .threats()
                .respond(action, &as_previewed(target, &previewed))
                .await?;
            (done.matched, Some(done.affected))
        }
    } else {
        let done = client.threats().respond(action, &target).await?;
        (done.matched, Some(done.affected))
    };
    let note = match affected {
        Some(n) => format!("{action}: {n} threat(s) affected"),
        None => format!(
            "{action} (dry run): {} threat(s) would be acted on; nothing sent",
            matched.len()
        ),
    };
    let document = json!({
        "action": action.as_str(),
        "dryRun": args.dry_run,
        "matched": matched,
        "affected": affected,
    });
    Output::document(document, table(&matched))
        .note(note)
        .print(format)
}

/// How many previewed threats the action names by id; more would make the
/// listing's query string too long for some consoles.
const IDS_NAMED: usize = 100;

/// `target`, held to the threats the prompt showed: never more of them
/// (`max_threats`) and, up to [`IDS_NAMED`], exactly those ids.
fn as_previewed(target: ThreatTarget, previewed: &[ThreatListResponseDataItem]) -> ThreatTarget {
    let target = target.max_threats(previewed.len().max(1));
    if previewed.len() <= IDS_NAMED {
        target.threat_ids(previewed.iter().filter_map(|t| t.id.clone()))
    } else {
        target
    }
}

/// What the prompt before `action` shows: the threats it will act on.
fn summary(action: ThreatAction, threats: &[ThreatListResponseDataItem]) -> String {
    format!(
        "{action} will act on {} threat(s):\n{}",
        threats.len(),
        table(threats).render(output::stderr_width())
    )
}

/// Lists the threats of a time range.
async fn list(client: &Client, args: &ListArgs, format: Format) -> Result<(), Failure> {
    let (from, to) = args.range.resolve()?;
    let listed = recent(client, &DetectionWindow::new(from, to).limit(args.limit)).await?;
    let items = listed.iter().map(output::to_value).collect();
    Output::list(items, table(&listed)).print(format)
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
            Cell::from(output::cell(&value, "/id")),
            output::cell(&value, "/agentRealtimeInfo/agentComputerName").into(),
            output::cell(&value, "/threatInfo/threatName").into(),
            output::cell(&value, "/threatInfo/filePath").into(),
            output::cell(&value, "/threatInfo/mitigationStatus").into(),
            output::time_cell(&value, "/threatInfo/createdAt"),
        ]);
    }
    table
}
