//! Side-by-side measurements of the facade against a baseline doing the
//! same work, each printed as one line (or JSON with `--json`) with the
//! ratio measured in the same run. See BENCHMARKS.md for the results.
//!
//! ```text
//! cargo bench --bench measure --features sim -- overhead  [--rounds 31 --calls 200]
//! cargo bench --bench measure --features sim -- stream    [--agents 10000,100000 --runs 3]
//! cargo bench --bench measure --features sim -- pages     [--agents 10000 --runs 3 --latency-ms 100 --work-us 100]
//! cargo bench --bench measure --features sim -- download  [--gib 1 --runs 3 --dir /tmp]
//! cargo bench --bench measure --features sim -- ratelimit [--secs 60 --tasks 4]
//! cargo bench --bench measure --features sim -- lrq       [--days 30 --slices 6 --runs 1]
//! cargo bench --bench measure --features sim,redis -- shared-quota [--secs 60 --procs 8 --redis URL]
//! ```
//!
//! `stream`, `download` and `overhead` run against a loopback server in this
//! process ([`server`]); `stream` and `download` run each client in a child
//! process (this binary again, `measure child …`, or `python3`) so that each
//! peak RSS is the client's alone. `ratelimit`, `lrq` and `pages` run
//! against the simulated console (`sentinelone::sim`), which enforces the
//! documented limits; `pages` runs each side in a child process too.

mod download;
mod lrq;
mod overhead;
mod pages;
mod ratelimit;
mod report;
mod server;
#[cfg(feature = "redis")]
mod shared_quota;
mod stream;

use sentinelone::quota::{Limiter, Quotas};

use report::Args;

/// The token the loopback server expects.
pub const TOKEN: &str = "bench-token-0123456789abcdef";

const USAGE: &str = "\
usage: cargo bench --bench measure --features sim -- <command> [flags] [--json]

  overhead   per-call time of client.list_agents().send() vs raw reqwest
             and vs the generated client alone
             [--rounds 31] [--calls 200]
  stream     every agent through client.list_agents().items() vs Python requests,
             and the same pages decoded from memory (the ceiling)
             [--agents 10000,100000] [--runs 3] [--python python3]
  pages      every agent of the simulated console, pages read ahead vs one page at
             a time, each answer late by the latency, busy work per item
             [--agents 10000] [--runs 3] [--latency-ms 100] [--work-us 100]
  download   a large upload through sentinelone::files::download vs raw reqwest
             [--gib 1] [--runs 3] [--dir DIR]
  ratelimit  tasks sharing one client polling dv/query-status on the simulated console
             [--secs 60] [--tasks 4]
  lrq        a long PowerQuery cut into slices run at once vs one query, one token,
             on the simulated console (run time grows with the range)
             [--days 30] [--slices 6] [--runs 1] [--base-ms 1000] [--per-day-ms 1000]
  shared-quota  processes on one token polling dv/query-status, counting in one
             Redis vs each in its own process (needs --features sim,redis)
             [--secs 60] [--procs 8] [--redis URL, or S1_REDIS_URL]";

/// A facade client of the loopback server: plain HTTP, no quotas, a
/// limiter of its own.
pub fn facade_client(origin: &str) -> sentinelone::Client {
    sentinelone::Client::builder()
        .console_url(origin)
        .api_token(TOKEN)
        .allow_http(true)
        .quotas(Quotas::none())
        .limiter(Limiter::new())
        .build()
        .expect("facade client")
}

/// A plain reqwest client sending the same Authorization header.
pub fn raw_client() -> reqwest::Client {
    let mut auth =
        reqwest::header::HeaderValue::from_str(&format!("ApiToken {TOKEN}")).expect("header value");
    auth.set_sensitive(true);
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(reqwest::header::AUTHORIZATION, auth);
    sentinelone::raw::install_crypto_provider();
    reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .expect("reqwest client")
}

/// A runtime on this thread, for a child or an in-process measurement.
pub fn current_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

fn main() {
    let args = Args::parse(std::env::args().skip(1));
    match args.command.as_deref() {
        Some("overhead") => overhead::run(&args),
        Some("stream") => stream::run(&args),
        Some("pages") => pages::run(&args),
        Some("download") => download::run(&args),
        Some("ratelimit") => ratelimit::run(&args),
        Some("lrq") => lrq::run(&args),
        #[cfg(feature = "redis")]
        Some("shared-quota") => shared_quota::run(&args),
        Some("child") => child(&args),
        // `cargo bench` with no arguments runs every bench: nothing to do here.
        None => eprintln!("{USAGE}"),
        Some(other) => {
            eprintln!("unknown command {other:?}\n{USAGE}");
            std::process::exit(2);
        }
    }
}

/// One side of a measurement in its own process; prints its sample.
fn child(args: &Args) {
    #[cfg(feature = "redis")]
    if args.arg(0) == "shared-quota" {
        return shared_quota::child(args);
    }
    let sample = match args.arg(0) {
        "stream" => stream::facade_child(args.arg(1)),
        "decode" => stream::decode_child(args.arg(1)),
        "pages" => pages::child(args.arg(1), args.arg(2), args.arg(3), args.arg(4)),
        "download-facade" => download::facade_child(args.arg(1), args.arg(2).as_ref()),
        "download-raw" => download::raw_child(args.arg(1), args.arg(2).as_ref()),
        other => panic!("unknown child {other:?}"),
    };
    println!("{}", sample.to_line());
}
