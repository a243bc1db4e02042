//! `s1 tour`: the main commands, one after the other, told as they happen.
//!
//! Without a console configured it starts the simulated console and acts
//! on it (threats are killed, files fetched, queries run). With
//! `S1_CONSOLE_URL` and `S1_API_TOKEN` set it only reads from that console:
//! nothing there is changed. A step that fails is reported and the tour
//! goes on; the exit code is that of the first failure.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use sentinelone::detections::DetectionWindow;
use sentinelone::files::{FetchOptions, FetchRequest};
use sentinelone::lrq::{self, LogResults, LrqOptions, LrqScope};
use sentinelone::prelude::*;
use sentinelone::raw::types::AgentViewListResponseDataItem;
use sentinelone::sim::SimConsole;
use sentinelone::threats::{self, ThreatTarget};
use sentinelone::{Client, Error, Polling};

use crate::args::Global;
use crate::commands;
use crate::exit::Failure;
use crate::output::{self, Table};
use crate::progress::Progress;

/// Runs the tour against the console given, or a simulated one.
pub async fn run(global: &Global, progress: &Progress) -> Result<(), Failure> {
    if global.has_console() {
        read_only(&global.client(progress)?).await
    } else {
        simulated(progress).await
    }
}

/// Keeps count of the steps and of what failed.
struct Steps {
    done: usize,
    total: usize,
    failures: Vec<u8>,
}

impl Steps {
    fn new(total: usize) -> Self {
        Steps {
            done: 0,
            total,
            failures: Vec::new(),
        }
    }

    /// Announces the next step.
    fn next(&mut self, title: &str) {
        self.done += 1;
        say("");
        say(&format!("[{}/{}] {title}", self.done, self.total));
    }

    /// Notes how a step ended; its value when it succeeded.
    fn record<T>(&mut self, outcome: Result<T, Failure>) -> Option<T> {
        match outcome {
            Ok(value) => Some(value),
            Err(failure) => {
                say(&format!("  step failed: {failure}"));
                self.failures.push(failure.code());
                None
            }
        }
    }

    /// Ends the tour: success, or the first failure's exit code.
    fn finish(self) -> Result<(), Failure> {
        say("");
        match self.failures.first() {
            None => {
                say(&format!(
                    "Tour complete: all {} steps succeeded.",
                    self.total
                ));
                Ok(())
            }
            Some(&code) => Err(Failure::Steps {
                failed: self.failures.len(),
                code,
            }),
        }
    }
}

/// Prints a line of the story.
fn say(text: &str) {
    // A closed stdout ends the program inside `line`; nothing else can fail.
    let _ = output::line(text);
}

/// Prints a table indented under its step.
fn show(table: &Table) {
    let width = output::stdout_width().map(|w| w.saturating_sub(4).max(20));
    for line in table.render(width).lines() {
        say(&format!("    {line}"));
    }
}

// ---------------------------------------------------------------------------
// Against the simulated console

/// Agents of the simulated tenant.
const AGENTS: usize = 12;
/// Threats of the simulated tenant.
const THREATS: usize = 6;

/// The simulated console of the tour: a small tenant that answers quickly.
async fn start_console() -> SimConsole {
    SimConsole::builder()
        .agents(AGENTS)
        .threats(THREATS)
        .upload_delay(Duration::from_millis(400))
        .lrq_duration(Duration::from_millis(1500))
        .start()
        .await
}

async fn simulated(progress: &Progress) -> Result<(), Failure> {
    let console = start_console().await;
    let client = progress.attach(console.client_builder()).build()?;
    say("s1 tour: a simulated SentinelOne console is running on this machine");
    say(&format!(
        "at {} with {AGENTS} agents and {THREATS} threats. Every step below goes through the",
        console.url()
    ));
    say("same client, quotas and retries a real console gets.");
    say("(Set S1_CONSOLE_URL and S1_API_TOKEN to tour your own console, read-only.)");

    let mut steps = Steps::new(7);
    steps.next("Test the connection");
    let outcome = test_connection(&client).await;
    steps.record(outcome);

    steps.next("List the agents");
    let outcome = list_agents(&client, AGENTS as u32).await;
    let agents = steps.record(outcome).unwrap_or_default();

    steps.next("Kill the threats on a named computer");
    let outcome = kill_threats(&client, &console).await;
    let killed = steps.record(outcome).flatten();

    steps.next("Collect a file from an agent and download it");
    let source = killed.or_else(|| first_agent_file(&agents));
    let outcome = fetch_file(&client, source).await;
    steps.record(outcome);

    steps.next("A log search (Long Running Query), with a timeout");
    let outcome = log_query(&client, progress).await;
    steps.record(outcome);

    steps.next("A PowerQuery (Long Running Query)");
    let outcome = power_query(&client, progress).await;
    steps.record(outcome);

    steps.next("What the console received");
    steps.record(show_counters(&console));
    steps.finish()
}

async fn test_connection(client: &Client) -> Result<(), Failure> {
    let report = client.connection().test().await?;
    say(&format!(
        "  Reached {}: console version {}, token expires {}.",
        report.console_url,
        report.console_version.as_deref().unwrap_or("unknown"),
        report.token_expires_at.as_deref().unwrap_or("unknown")
    ));
    Ok(())
}

/// Lists up to `limit` agents; returns them.
async fn list_agents(
    client: &Client,
    limit: u32,
) -> Result<Vec<AgentViewListResponseDataItem>, Failure> {
    let page = client.list_agents().limit(limit).call().await?;
    let total = page.pagination.as_ref().and_then(|p| p.total_items);
    let agents = sentinelone::Error::typed_items("list_agents", page.data.unwrap_or_default())?;
    say(&format!(
        "  The console has {} agent(s); the first {}:",
        total.map_or_else(|| "some".to_string(), |n| n.to_string()),
        agents.len()
    ));
    show(&commands::agents::table(&agents));
    Ok(agents)
}

/// The computer of the newest threat, as the console names it.
async fn computer_with_threat(client: &Client) -> Result<Option<String>, Failure> {
    let page = client.list_threats().limit(1).call().await?;
    Ok(page
        .data
        .unwrap_or_default()
        .first()
        .and_then(|t| t.typed())
        .and_then(|t| threats::computer_name(t).map(str::to_string)))
}

/// A file on an endpoint: the agent holding it, and its path.
struct FileOnAgent {
    agent_id: String,
    computer: String,
    path: String,
}

async fn kill_threats(
    client: &Client,
    console: &SimConsole,
) -> Result<Option<FileOnAgent>, Failure> {
    let Some(computer) = computer_with_threat(client).await? else {
        say("  No threat to act on.");
        return Ok(None);
    };
    let target = ThreatTarget::computers([computer.clone()]);
    let matched = client.threats().preview(&target).await?;
    say(&format!(
        "  Preview: {} threat(s) on {computer} (exact name match):",
        matched.len()
    ));
    show(&commands::threats::table(&matched));
    let done = client.threats().kill(&target).await?;
    say(&format!(
        "  Killed: the console says {} threat(s) affected.",
        done.affected
    ));
    for threat in &done.matched {
        let id = threat.id.as_deref().unwrap_or_default();
        say(&format!(
            "  Threat {id} is now {} in the console.",
            console.threat_status(id).as_deref().unwrap_or("unknown")
        ));
    }
    Ok(done.matched.first().and_then(|threat| {
        let value = output::to_value(threat);
        Some(FileOnAgent {
            agent_id: value
                .pointer("/agentRealtimeInfo/agentId")?
                .as_str()?
                .to_string(),
            computer: computer.clone(),
            path: value.pointer("/threatInfo/filePath")?.as_str()?.to_string(),
        })
    }))
}

/// A file to fetch when no threat named one: a log on the first agent.
fn first_agent_file(agents: &[AgentViewListResponseDataItem]) -> Option<FileOnAgent> {
    let agent = agents.first()?;
    Some(FileOnAgent {
        agent_id: agent.id.clone()?,
        computer: agent.computer_name.clone().unwrap_or_default(),
        path: "C:\\Windows\\Temp\\setup.log".to_string(),
    })
}

async fn fetch_file(client: &Client, source: Option<FileOnAgent>) -> Result<(), Failure> {
    let Some(source) = source else {
        say("  No agent to fetch from.");
        return Ok(());
    };
    let dir = tempfile::tempdir().map_err(|e| Error::io(std::env::temp_dir(), e))?;
    let request = FetchRequest::new([source.path.clone()], commands::files::one_time_password()?);
    let options = FetchOptions::new(dir.path().join("files.zip"))
        .extract_into(dir.path().join("files"))
        .polling(Polling::every(
            Duration::from_millis(250),
            Duration::from_secs(60),
        ));
    say(&format!(
        "  Asking {} for {} (the archive password is generated for this run)...",
        source.computer, source.path
    ));
    let fetched = client
        .files()
        .fetch(&source.agent_id, &request, &options)
        .await?;
    say(&format!(
        "  The agent uploaded it (activity {}); downloaded the zip: {} bytes.",
        fetched.upload.activity_id, fetched.archive.bytes
    ));
    for path in &fetched.extracted {
        let name = path.strip_prefix(dir.path()).unwrap_or(path);
        say(&format!(
            "  Extracted {} ({} bytes).",
            name.display(),
            commands::files::file_size(path)
        ));
    }
    Ok(())
}

/// The steps of every query of a job, in the order they were reported:
/// the story of a Long Running Query, told after it ends.
fn step_log(bar: &crate::progress::JobBar) -> (Arc<Mutex<Vec<String>>>, LrqOptions) {
    let seen = Arc::new(Mutex::new(Vec::<String>::new()));
    let log = seen.clone();
    let show = bar.lrq_updater();
    let options = LrqOptions::default()
        .timeout(Duration::from_secs(30))
        .on_progress(move |p| {
            show(p);
            let mut log = log.lock().unwrap_or_else(|e| e.into_inner());
            let step = format!("{}/{}", p.steps_completed, p.steps_total);
            if log.last() != Some(&step) {
                log.push(step);
            }
        });
    (seen, options)
}

async fn log_query(client: &Client, progress: &Progress) -> Result<(), Failure> {
    let filter = "event.type = 'Process Creation'";
    let bar = progress.job("Log query");
    let (steps, options) = step_log(&bar);
    say(&format!(
        "  {filter} over the last hour, tenant-wide, at most 100 events, 30 s allowed:"
    ));
    let range = lrq::TimeRange::last(chrono::TimeDelta::hours(1));
    let results = client
        .lrq()
        .log_query(filter, range, &LrqScope::tenant(), 100, &options)
        .await?;
    drop(bar);
    let steps = steps.lock().unwrap_or_else(|e| e.into_inner()).join(" -> ");
    say(&format!(
        "  Query {} went through steps {steps} and was deleted; {} event(s). The first five:",
        results.query_ids.join(", "),
        results.events.len()
    ));
    let first = LogResults {
        events: results.events.iter().take(5).cloned().collect(),
        ..LogResults::default()
    };
    show(&commands::query::log_table(&first));
    Ok(())
}

async fn power_query(client: &Client, progress: &Progress) -> Result<(), Failure> {
    let query = "dataSource.name='SentinelOne' | group count=count(), first_seen=min(timestamp), last_seen=max(timestamp) by event.type";
    let bar = progress.job("Power Query");
    let (_, options) = step_log(&bar);
    say(&format!("  {query}"));
    say("  over the last day, tenant-wide:");
    let range = lrq::TimeRange::last(chrono::TimeDelta::days(1));
    let table = client
        .lrq()
        .power_query(query, range, &LrqScope::tenant(), &options)
        .await?;
    drop(bar);
    show(&commands::query::pq_table(&table));
    say(&format!(
        "  {} event(s) matched (query {}).",
        table.match_count.unwrap_or_default(),
        table.query_ids.join(", ")
    ));
    Ok(())
}

fn show_counters(console: &SimConsole) -> Result<(), Failure> {
    let counters = console.counters();
    let mut table = Table::new(["REQUESTS", "ROUTE"]);
    for (route, count) in counters.routes() {
        table.row([count.to_string(), route.clone()]);
    }
    say(&format!(
        "  {} request(s) in all; {} answered 429, {} refused for the token.",
        counters.total(),
        counters.throttled,
        counters.unauthorized
    ));
    show(&table);
    for (action, ids) in &counters.mitigations {
        say(&format!(
            "  Mitigation {action} on {} threat(s).",
            ids.len()
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Against a real console, read-only

async fn read_only(client: &Client) -> Result<(), Failure> {
    say(&format!(
        "s1 tour: read-only steps against {}; nothing is changed there.",
        client.console_url()
    ));
    let mut steps = Steps::new(4);
    steps.next("Test the connection");
    let outcome = test_connection(client).await;
    steps.record(outcome);

    steps.next("List a few agents");
    let outcome = list_agents(client, 5).await;
    let agents = steps.record(outcome).unwrap_or_default();

    steps.next("Preview the threats on the first agent's computer (no action)");
    let computer = agents.first().and_then(|a| a.computer_name.clone());
    let outcome = preview_threats(client, computer).await;
    steps.record(outcome);

    steps.next("Threats of the last 24 hours");
    let outcome = recent_threats(client).await;
    steps.record(outcome);
    steps.finish()
}

async fn preview_threats(client: &Client, computer: Option<String>) -> Result<(), Failure> {
    let Some(computer) = computer else {
        say("  No agent listed, so no computer to look at.");
        return Ok(());
    };
    let matched = client
        .threats()
        .preview(&ThreatTarget::computers([computer.clone()]))
        .await?;
    say(&format!(
        "  {} threat(s) on {computer} would be acted on:",
        matched.len()
    ));
    show(&commands::threats::table(&matched));
    Ok(())
}

async fn recent_threats(client: &Client) -> Result<(), Failure> {
    let now = chrono::Utc::now();
    let window = DetectionWindow::new(now - chrono::TimeDelta::hours(24), now).limit(10);
    let listed = commands::threats::recent(client, &window).await?;
    say(&format!(
        "  {} threat(s), newest first (at most 10):",
        listed.len()
    ));
    show(&commands::threats::table(&listed));
    Ok(())
}
