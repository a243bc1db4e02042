//! `s1 agents list`.

use clap::{Args, Subcommand};
use futures_util::TryStreamExt;
use sentinelone::Client;
use sentinelone::pagination;
use sentinelone::prelude::*;
use sentinelone::raw::Decoded;
use sentinelone::raw::types::AgentViewListResponseDataItem;

use crate::exit::Failure;
use crate::output::{self, Format, Output, Table};

/// Agent commands.
#[derive(Subcommand)]
pub enum AgentsCommand {
    /// List agents
    List(ListArgs),
}

/// Which agents to list.
#[derive(Args)]
pub struct ListArgs {
    /// Only computers whose name contains NAME (repeat or comma-separate)
    #[arg(long = "computer", value_name = "NAME", value_delimiter = ',')]
    computers: Vec<String>,
    /// At most N agents (1-1000); with --all, the page size
    #[arg(long, value_name = "N", default_value_t = 50,
          value_parser = clap::value_parser!(u32).range(1..=1000))]
    limit: u32,
    /// Every matching agent, following the cursor page by page
    #[arg(long)]
    all: bool,
}

/// Runs an agents command.
pub async fn run(client: &Client, command: AgentsCommand, format: Format) -> Result<(), Failure> {
    match command {
        AgentsCommand::List(args) => list(client, &args, format).await,
    }
}

async fn list(client: &Client, args: &ListArgs, format: Format) -> Result<(), Failure> {
    let mut request = client.list_agents();
    if !args.computers.is_empty() {
        request = request.computer_name_contains(args.computers.clone());
    }
    // Items that did not decode stay in the list, as sent: JSON prints
    // them in place, the table and CSV name them on stderr.
    let agents: Vec<Decoded<AgentViewListResponseDataItem>> = if args.all {
        pagination::pages(request, args.limit)
            .map_ok(|page| page.data.unwrap_or_default())
            .try_concat()
            .await?
    } else {
        request
            .limit(args.limit)
            .call()
            .await?
            .data
            .unwrap_or_default()
    };
    let typed: Vec<_> = agents.iter().filter_map(Decoded::typed).cloned().collect();
    let items = agents.iter().map(output::to_value).collect();
    Output::list(items, table(&typed)).print(format)?;
    if matches!(format, Format::Table | Format::Csv) {
        for raw in agents.iter().filter_map(Decoded::raw) {
            eprintln!(
                "{}",
                output::printable(&format!(
                    "not shown: {raw} (--output json prints it as sent)"
                ))
            );
        }
    }
    Ok(())
}

/// The agents as a table.
pub fn table(agents: &[AgentViewListResponseDataItem]) -> Table {
    let mut table = Table::new(["ID", "COMPUTER", "OS", "NETWORK", "IP", "SITE", "THREATS"]);
    for agent in agents {
        let text = |field: &Option<String>| field.clone().unwrap_or_else(|| "-".into());
        table.row([
            text(&agent.id),
            text(&agent.computer_name),
            text(&agent.os_type),
            text(&agent.network_status),
            text(&agent.last_ip_to_mgmt),
            text(&agent.site_name),
            agent
                .active_threats
                .map_or_else(|| "-".into(), |n| n.to_string()),
        ]);
    }
    table
}
