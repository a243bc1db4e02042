//! `s1 sim`: the simulated console in the foreground, on loopback, until
//! Ctrl-C or SIGTERM. It prints the two variables that point `s1` (in
//! another terminal) at it.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use clap::Args;
use sentinelone::sim::SimConsole;
use tokio::net::{TcpListener, TcpStream};

use crate::exit::Failure;

/// How the simulated console is started.
#[derive(Args, Debug)]
#[command(after_help = "\
In another terminal, export the two lines it prints, e.g.

  s1 sim --port 8099              # here, until Ctrl-C
  eval \"$(s1 sim --print-env --port 8099)\"   # there (or paste the lines)
  s1 agents list

The token it prints only opens this simulated console. It listens on
127.0.0.1 only; its tenant is the same on every start.")]
pub struct SimArgs {
    /// Listen on this port of 127.0.0.1 (default: a free one)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    port: Option<u16>,
    /// Answer 429 like a real console when the published rate limits are
    /// exceeded (default: no limits, for quick trying)
    #[arg(long)]
    rate_limits: bool,
    /// Agents in the simulated tenant (1-10000)
    #[arg(long, value_name = "N", default_value_t = 12,
          value_parser = clap::value_parser!(u32).range(1..=10_000))]
    agents: u32,
    /// Threats in the simulated tenant (0-10000)
    #[arg(long, value_name = "N", default_value_t = 6,
          value_parser = clap::value_parser!(u32).range(0..=10_000))]
    threats: u32,
    /// Only print the export lines for a console at --port and exit (for
    /// `eval` in another terminal while `s1 sim --port N` runs)
    #[arg(long, requires = "port")]
    print_env: bool,
}

/// Starts the console, prints where it is, serves until `stop` resolves.
pub async fn run(args: &SimArgs, stop: impl Future<Output = ()>) -> Result<(), Failure> {
    if args.print_env {
        let url = format!("http://127.0.0.1:{}", args.port.unwrap_or_default());
        return print_env(&url, sentinelone::sim::DEFAULT_TOKEN);
    }
    // Bind the port asked for before anything else: a port in use is the
    // likeliest failure.
    let listener = match args.port {
        Some(port) => Some(
            TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port)))
                .await
                .map_err(|e| {
                    Failure::Library(sentinelone::Error::io(format!("127.0.0.1:{port}"), e))
                })?,
        ),
        None => None,
    };
    let console = SimConsole::builder()
        .agents(args.agents as usize)
        .threats(args.threats as usize)
        .rate_limits(args.rate_limits)
        .start()
        .await;
    let url = match listener {
        Some(listener) => {
            let port = listener.local_addr().map(|a| a.port()).unwrap_or_default();
            let target = sim_address(&console)?;
            tokio::spawn(forward(listener, target));
            format!("http://127.0.0.1:{port}")
        }
        None => console.url(),
    };
    print_env(&url, console.token())?;
    eprintln!(
        "s1 sim: a simulated console with {} agents and {} threats at {url}{}; Ctrl-C stops it",
        args.agents,
        args.threats,
        if args.rate_limits {
            ", rate limits on"
        } else {
            ""
        }
    );
    stop.await;
    eprintln!("s1 sim: stopped");
    Ok(())
}

/// The lines to `eval` or paste in the terminal the commands run in.
fn print_env(url: &str, token: &str) -> Result<(), Failure> {
    crate::output::line("# The token only opens the simulated console s1 sim runs.")?;
    crate::output::line(&format!("export {}='{url}'", sentinelone::ENV_CONSOLE_URL))?;
    crate::output::line(&format!("export {}='{token}'", sentinelone::ENV_API_TOKEN))
}

/// The loopback address the simulated console's server listens on.
fn sim_address(console: &SimConsole) -> Result<SocketAddr, Failure> {
    let url = console.url();
    url::Url::parse(&url)
        .ok()
        .and_then(|u| u.socket_addrs(|| None).ok())
        .and_then(|addrs| addrs.into_iter().next())
        .ok_or_else(|| Failure::usage(format!("the simulated console has no address: {url}")))
}

/// Passes every connection made to `listener` on to `target`.
async fn forward(listener: TcpListener, target: SocketAddr) {
    loop {
        match listener.accept().await {
            Ok((mut inbound, _)) => {
                tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
            // Out of file descriptors or the like: wait, then go on.
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}
