//! `s1`: the SentinelOne Management API from the command line.
//!
//! `s1 api <operationId>` calls any operation of the spec; the other
//! commands are the library's composite commands (threat response, file
//! collection, Deep Visibility, Power Query, remote scripts, agents, the
//! connection test); `s1 tour` shows them all against a simulated console.

mod api;
mod args;
mod commands;
mod exit;
mod output;
mod progress;
mod tour;

use std::process::ExitCode;

use clap::Parser;

use crate::args::{Cli, Command};
use crate::exit::Failure;
use crate::progress::Progress;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let progress = Progress::new(cli.global.quiet);
    let outcome = run(cli, &progress).await;
    progress.clear();
    match outcome {
        Ok(()) => ExitCode::from(exit::SUCCESS),
        Err(failure) => {
            failure.report();
            failure.exit_code()
        }
    }
}

/// Runs the command the line asked for.
async fn run(cli: Cli, progress: &Progress) -> Result<(), Failure> {
    let global = &cli.global;
    match cli.command {
        Command::Api(call) => api::run(&global.client(progress)?, &call).await,
        Command::Agents(command) => commands::agents::run(&global.client(progress)?, command).await,
        Command::Threats(command) => {
            commands::threats::run(&global.client(progress)?, command).await
        }
        Command::Files(command) => commands::files::run(&global.client(progress)?, command).await,
        Command::Dv(command) => {
            commands::dv::run(&global.client(progress)?, command, progress).await
        }
        Command::Pq(args) => {
            commands::dv::power_query(&global.client(progress)?, &args, progress).await
        }
        Command::Scripts(command) => {
            commands::scripts::run(&global.client(progress)?, command).await
        }
        Command::TestConnection(format) => {
            commands::connection::run(&global.client(progress)?, &format).await
        }
        Command::Tour => tour::run(global, progress).await,
    }
}
