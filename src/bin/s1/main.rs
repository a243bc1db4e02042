//! `s1`: the SentinelOne Management API from the command line.
//!
//! `s1 api <operationId>` calls any operation of the spec, `s1 request
//! METHOD PATH` any path of the API; the other
//! commands are the library's composite commands (threat response, file
//! collection, Long Running Queries (PowerQuery and log search), Deep
//! Visibility until its sunset, remote scripts, agents, the connection
//! test); `s1 tour` shows them all against a simulated console, and `s1
//! sim` runs that console in the foreground to try every command on.
//! `--profile` picks a console of the profile file, `--all-profiles` runs
//! a command on every one.

mod all_profiles;
mod api;
mod args;
mod commands;
mod confirm;
mod exit;
mod logging;
mod output;
mod progress;
mod tour;
mod version;

use std::future::Future;
use std::process::ExitCode;
use std::time::Duration;

use sentinelone::Client;

use crate::args::{Cli, Command};
use crate::confirm::Confirm;
use crate::exit::Failure;
use crate::output::Choice;
use crate::progress::Progress;

/// How long an interrupted command's clean-up (a query to cancel on the
/// console) may take before `s1` exits anyway.
const CLEANUP_GRACE: Duration = Duration::from_secs(3);

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse_args();
    if let Command::Completions { shell } = cli.command {
        // Nothing to connect to: the script only describes the command line.
        let mut command = <Cli as clap::CommandFactory>::command();
        clap_complete::generate(shell, &mut command, "s1", &mut std::io::stdout());
        return ExitCode::from(exit::SUCCESS);
    }
    logging::init(cli.global.verbose);
    let progress = Progress::new(cli.global.quiet);
    let outcome = match (cli.global.choice(), &cli.command) {
        (Err(failure), _) => Err(failure),
        (Ok(_), _) if cli.global.all_profiles => all_profiles::run(&cli).await,
        (Ok(_), Command::Sim(args)) => serve_sim(args).await,
        (Ok(choice), Command::Api(call)) if call.lists_operations() => {
            api::list_operations(call, choice)
        }
        (Ok(choice), _) => match connect(&cli, &progress) {
            Ok(client) => {
                until_signal(
                    run(cli, choice, client.as_ref(), &progress),
                    client.as_ref(),
                )
                .await
            }
            Err(failure) => Err(failure),
        },
    };
    progress.clear();
    match outcome {
        Ok(()) => ExitCode::from(exit::SUCCESS),
        Err(failure) => {
            failure.report();
            failure.exit_code()
        }
    }
}

/// `s1 sim`: serves until SIGINT or SIGTERM, which end it normally.
async fn serve_sim(args: &commands::sim::SimArgs) -> Result<(), Failure> {
    let signals =
        Signals::listen().map_err(|e| Failure::usage(format!("cannot listen for signals: {e}")))?;
    commands::sim::run(args, async move {
        signals.next().await;
    })
    .await
}

/// The client of the console the command talks to; none for the tour,
/// which runs its own.
fn connect(cli: &Cli, progress: &Progress) -> Result<Option<Client>, Failure> {
    match cli.command {
        Command::Tour | Command::Sim(_) => Ok(None),
        _ => cli.global.client(progress).map(Some),
    }
}

/// Runs `command` until it ends or SIGINT / SIGTERM arrives. On a signal
/// the command is dropped, so that the library's guards undo what it
/// started (a running query is cancelled, a partial download removed), and
/// that clean-up gets [`CLEANUP_GRACE`] to finish.
async fn until_signal(
    command: impl Future<Output = Result<(), Failure>>,
    client: Option<&Client>,
) -> Result<(), Failure> {
    let signals =
        Signals::listen().map_err(|e| Failure::usage(format!("cannot listen for signals: {e}")))?;
    let signal = tokio::select! {
        outcome = command => return outcome,
        signal = signals.next() => signal,
    };
    if let Some(client) = client
        && !client.finish_cleanup(CLEANUP_GRACE).await
    {
        eprintln!("s1: clean-up did not finish within {CLEANUP_GRACE:?}");
    }
    Err(Failure::Interrupted(signal))
}

/// SIGINT and SIGTERM, listened for from before the command starts.
#[cfg(unix)]
struct Signals {
    interrupt: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
}

#[cfg(unix)]
impl Signals {
    fn listen() -> std::io::Result<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Signals {
            interrupt: signal(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
        })
    }

    async fn next(mut self) -> exit::Signal {
        tokio::select! {
            _ = self.interrupt.recv() => exit::Signal::Interrupt,
            _ = self.terminate.recv() => exit::Signal::Terminate,
        }
    }
}

/// Ctrl-C, where there are no Unix signals.
#[cfg(not(unix))]
struct Signals;

#[cfg(not(unix))]
impl Signals {
    fn listen() -> std::io::Result<Self> {
        Ok(Signals)
    }

    async fn next(self) -> exit::Signal {
        match tokio::signal::ctrl_c().await {
            Ok(()) => exit::Signal::Interrupt,
            Err(_) => std::future::pending().await,
        }
    }
}

/// Runs the command the line asked for, printing as `choice` says, with
/// `client` (none for the tour).
async fn run(
    cli: Cli,
    choice: Choice,
    client: Option<&Client>,
    progress: &Progress,
) -> Result<(), Failure> {
    let global = &cli.global;
    let Some(client) = client else {
        return tour::run(global, progress).await;
    };
    let confirm = Confirm::new(global.yes);
    let format = choice.format;
    match cli.command {
        Command::Api(call) => api::run(client, &call, choice, confirm).await,
        Command::Request(args) => commands::request::run(client, &args, choice, confirm).await,
        Command::Agents(command) => commands::agents::run(client, command, format).await,
        Command::Threats(command) => commands::threats::run(client, command, format, confirm).await,
        Command::Files(command) => commands::files::run(client, command, format).await,
        Command::Query(args) => commands::query::run(client, &args, choice, progress).await,
        Command::Pq(args) => commands::query::power_query(client, &args, choice, progress).await,
        Command::Dv(command) => commands::dv::run(client, command, format, progress).await,
        Command::Scripts(command) => commands::scripts::run(client, command, format, confirm).await,
        Command::TestConnection => commands::connection::run(client, format).await,
        Command::Tour => tour::run(global, progress).await,
        Command::Sim(_) | Command::Completions { .. } => Ok(()),
    }
}
