//! `s1 scripts run`.

use std::path::PathBuf;

use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Args, Subcommand};
use secrecy::SecretString;
use sentinelone::Client;
use sentinelone::Polling;
use sentinelone::scripts::{OutputDestination, ScriptRun, ScriptRunResult};
use serde_json::{Value, json};

use crate::args::WaitArgs;
use crate::confirm::Confirm;
use crate::exit::Failure;
use crate::output::{self, Format, Output, Table};

/// Remote script commands.
#[derive(Subcommand)]
pub enum ScriptsCommand {
    /// Run a script of the library on agents, wait for every task to end,
    /// and (with --out) download the results
    Run(RunArgs),
}

/// A script run.
#[derive(Args)]
pub struct RunArgs {
    /// The script's id in the console's library
    #[arg(long, value_name = "ID")]
    script_id: String,
    /// How the run is described in the console
    #[arg(long, value_name = "TEXT")]
    description: String,
    /// Where the output goes
    #[arg(long, value_name = "WHERE", default_value = "SentinelCloud",
          value_parser = PossibleValuesParser::new(["SentinelCloud", "Local", "None", "SingularityXDR"])
              .try_map(|s| s.parse::<OutputDestination>().map_err(|e| e.to_string())))]
    destination: OutputDestination,
    /// Run on the computer with this name or internal IP (exact match;
    /// repeat or comma-separate)
    #[arg(long = "computer", value_name = "NAME", value_delimiter = ',')]
    computers: Vec<String>,
    /// Run on these agent ids
    #[arg(long = "agent-id", value_name = "ID", value_delimiter = ',')]
    agent_ids: Vec<String>,
    /// Run on the agents of these groups
    #[arg(long = "group-id", value_name = "ID", value_delimiter = ',')]
    group_ids: Vec<String>,
    /// Run on the agents of these sites
    #[arg(long = "site-id", value_name = "ID", value_delimiter = ',')]
    site_ids: Vec<String>,
    /// The script's input parameters
    #[arg(long, value_name = "TEXT")]
    input_params: Option<String>,
    /// The directory on the endpoint results go to (with --destination Local)
    #[arg(long, value_name = "PATH")]
    output_directory: Option<String>,
    /// Read the result archive's password from environment variable VAR
    #[arg(long, value_name = "VAR")]
    password_env: Option<String>,
    /// Download the results of the completed tasks into DIR
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Replace files that already exist in the --out DIR (default: refuse)
    #[arg(long, requires = "out")]
    overwrite: bool,
    #[command(flatten)]
    pub(crate) wait: WaitArgs,
}

impl RunArgs {
    fn script(&self) -> Result<ScriptRun, Failure> {
        let mut run = ScriptRun::new(&self.script_id, &self.description, self.destination)
            .hosts(self.computers.clone())
            .agent_ids(self.agent_ids.clone())
            .group_ids(self.group_ids.clone())
            .site_ids(self.site_ids.clone())
            .polling(self.wait.polling(Polling::default()))
            .overwrite(self.overwrite);
        if let Some(params) = &self.input_params {
            run = run.input_params(params);
        }
        if let Some(dir) = &self.output_directory {
            run = run.output_directory(dir);
        }
        if let Some(var) = &self.password_env {
            run = run.password(secret_from_env(var)?);
        }
        Ok(run)
    }

    /// What the run will do, for the prompt.
    fn summary(&self) -> String {
        let mut lines = vec![format!(
            "Run script {} ({:?}, output to {}) on:",
            self.script_id, self.description, self.destination
        )];
        for (what, values) in [
            ("computers", &self.computers),
            ("agent ids", &self.agent_ids),
            ("group ids", &self.group_ids),
            ("site ids", &self.site_ids),
        ] {
            if !values.is_empty() {
                lines.push(format!("  {what}: {}", values.join(", ")));
            }
        }
        if lines.len() == 1 {
            lines.push("  (no target given)".to_string());
        }
        lines.join("\n")
    }
}

/// The secret held by environment variable `var`.
pub fn secret_from_env(var: &str) -> Result<SecretString, Failure> {
    std::env::var(var)
        .ok()
        .filter(|v| !v.is_empty())
        .map(SecretString::from)
        .ok_or_else(|| Failure::usage(format!("environment variable {var} is not set")))
}

/// Runs a scripts command.
pub async fn run(
    client: &Client,
    command: ScriptsCommand,
    format: Format,
    confirm: Confirm,
) -> Result<(), Failure> {
    match command {
        ScriptsCommand::Run(args) => run_script(client, &args, format, confirm).await,
    }
}

async fn run_script(
    client: &Client,
    args: &RunArgs,
    format: Format,
    confirm: Confirm,
) -> Result<(), Failure> {
    let script = args.script()?;
    confirm.proceed(&args.summary()).await?;
    let (result, files) = match &args.out {
        Some(dir) => {
            let collected = client.scripts().run_and_collect(&script, dir).await?;
            (collected.run, collected.files)
        }
        None => (client.scripts().run(&script).await?, Vec::new()),
    };
    let files: Vec<Value> = files
        .iter()
        .map(|f| json!({ "path": f.path, "bytes": f.bytes }))
        .collect();
    let mut notes = vec![format!(
        "parent task {}: sent to {} agent(s)",
        result.parent_task_id.as_deref().unwrap_or("-"),
        result.affected
    )];
    if let Some(id) = &result.pending_execution_id {
        notes.push(format!("waiting for approval in the console ({id})"));
    }
    if !result.unmatched_hosts.is_empty() {
        notes.push(format!(
            "no agent for: {}",
            result.unmatched_hosts.join(", ")
        ));
    }
    for file in &files {
        notes.push(format!(
            "wrote {} ({} bytes)",
            output::cell(file, "/path"),
            output::cell(file, "/bytes")
        ));
    }
    let document = json!({
        "parentTaskId": result.parent_task_id,
        "affected": result.affected,
        "pendingExecutionId": result.pending_execution_id,
        "unmatchedHosts": result.unmatched_hosts,
        "tasks": tasks_json(&result),
        "files": files,
    });
    notes
        .into_iter()
        .fold(
            Output::document(document, tasks_table(&result)).lines_at("/tasks"),
            Output::note,
        )
        .print(format)
}

fn tasks_json(result: &ScriptRunResult) -> Vec<Value> {
    result
        .tasks
        .iter()
        .map(|t| {
            json!({
                "id": t.id,
                "agentId": t.agent_id,
                "computerName": t.computer_name,
                "state": t.state.as_str(),
                "detailedStatus": t.detailed_status,
            })
        })
        .collect()
}

fn tasks_table(result: &ScriptRunResult) -> Table {
    let mut table = Table::new(["TASK", "COMPUTER", "STATE", "DETAIL"]);
    for t in &result.tasks {
        let text = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
        table.row([
            text(&t.id),
            text(&t.computer_name),
            t.state.to_string(),
            text(&t.detailed_status),
        ]);
    }
    table
}
