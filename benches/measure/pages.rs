//! Pages read ahead against one page at a time: every agent of the
//! simulated console through `pagination::items_with(.., 1000, prefetch)`,
//! `Prefetch::NextPage` (what `.items()` does) against `Prefetch::Off`.
//!
//! The console (`sentinelone::sim`, rate limits on, the client's quotas
//! too) answers each `GET /agents` `--latency-ms` late (100); the consumer
//! works `--work-us` (100) on each item as a busy loop on its own thread,
//! never polling the stream meanwhile. Each side runs in a child process
//! (a multi-thread runtime, two workers; the consumer on the main thread),
//! one after the other, the order alternating from run to run, and reports
//! items per second and its peak RSS.

use std::pin::pin;
use std::process::Command;
use std::time::{Duration, Instant};

use futures_util::TryStreamExt;
use sentinelone::pagination::{self, Prefetch};
use sentinelone::prelude::*;
use sentinelone::quota::{Limiter, Quotas};
use sentinelone::sim::SimConsole;
use serde_json::json;

use crate::report::{self, Args, Sample, Spread, mib, times, whole};

pub fn run(args: &Args) {
    let agents: usize = args.get("agents", 10_000);
    let runs: usize = args.get("runs", 3);
    let latency = Duration::from_millis(args.get("latency-ms", 100));
    let work_us: u64 = args.get("work-us", 100);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("console runtime");
    let console = rt.block_on(
        SimConsole::builder()
            .agents(agents)
            .route_delay("GET", "/agents", latency)
            .start(),
    );
    let side = |mode: &str| {
        let mut command = report::child(&[
            "pages",
            &console.url(),
            console.token(),
            mode,
            &work_us.to_string(),
        ]);
        measure(mode, &mut command, agents)
    };
    let mut ahead = Vec::new();
    let mut single = Vec::new();
    for run in 0..runs {
        if run % 2 == 0 {
            ahead.push(side("ahead"));
            single.push(side("off"));
        } else {
            single.push(side("off"));
            ahead.push(side("ahead"));
        }
    }
    let requests = console.counters().requests("GET", "/agents");
    let throttled = console.counters().throttled;
    show(
        args,
        agents,
        latency,
        work_us,
        [&ahead, &single],
        (requests, throttled),
    );
}

fn measure(what: &str, command: &mut Command, agents: usize) -> Sample {
    let sample = report::run_child(what, command);
    assert_eq!(
        sample.count as usize, agents,
        "{what} read {} agents, expected {agents}",
        sample.count
    );
    sample
}

fn show(
    args: &Args,
    agents: usize,
    latency: Duration,
    work_us: u64,
    [ahead, single]: [&[Sample]; 2],
    (requests, throttled): (u64, u64),
) {
    let rate = |s: &[Sample]| Spread::of(s.iter().map(Sample::rate));
    let peak = |s: &[Sample]| Spread::of(s.iter().map(|x| x.peak_kib));
    let ratio = Spread::of(ahead.iter().zip(single).map(|(a, s)| a.rate() / s.rate()));
    let rss_ratio = Spread::of(
        ahead
            .iter()
            .zip(single)
            .map(|(a, s)| a.peak_kib / s.peak_kib),
    );
    let line = format!(
        "pages agents={} page=1000 latency={} ms work={} µs/item (busy) runs={} \
         | read ahead: {} items/s, peak RSS {} | one page at a time: {} items/s, peak RSS {} \
         | speed ratio {} | RSS ratio {} | console: {} requests, {} × 429",
        whole(agents as f64),
        latency.as_millis(),
        work_us,
        ahead.len(),
        rate(ahead).show(whole),
        peak(ahead).show(mib),
        rate(single).show(whole),
        peak(single).show(mib),
        ratio.show(times),
        rss_ratio.show(times),
        requests,
        throttled,
    );
    let side =
        |s: &[Sample]| json!({ "items_per_s": rate(s).json(), "peak_rss_kib": peak(s).json() });
    let value = json!({
        "bench": "pages",
        "agents": agents,
        "page": 1000,
        "latency_ms": latency.as_millis() as u64,
        "work_us_per_item": work_us,
        "runs": ahead.len(),
        "read_ahead": side(ahead),
        "one_at_a_time": side(single),
        "speed_ratio": ratio.json(),
        "rss_ratio": rss_ratio.json(),
        "console_requests": requests,
        "console_throttled": throttled,
    });
    report::print(args, line, value);
}

/// One side, in a child process: every agent, `work_us` of busy work each.
pub fn child(origin: &str, token: &str, mode: &str, work_us: &str) -> Sample {
    let prefetch = match mode {
        "ahead" => Prefetch::NextPage,
        "off" => Prefetch::Off,
        other => panic!("unknown mode {other:?}"),
    };
    let work = Duration::from_micros(work_us.parse().expect("microseconds"));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    rt.block_on(async {
        let client = sentinelone::Client::builder()
            .console_url(origin)
            .api_token(token)
            .allow_http(true)
            .limiter(Limiter::new())
            .quotas(Quotas::default())
            .build()
            .expect("client");
        let start_kib = report::status_kib("VmRSS");
        let started = Instant::now();
        let mut items = pin!(pagination::items_with(client.list_agents(), 1000, prefetch));
        let mut count = 0u64;
        while let Some(agent) = items.try_next().await.expect("list_agents items") {
            std::hint::black_box(&agent);
            busy(work);
            count += 1;
        }
        Sample {
            count: count as f64,
            secs: started.elapsed().as_secs_f64(),
            peak_kib: report::status_kib("VmHWM"),
            start_kib,
        }
    })
}

/// Spins for `work`: a consumer computing, not sleeping.
fn busy(work: Duration) {
    let until = Instant::now() + work;
    while Instant::now() < until {
        std::hint::spin_loop();
    }
}
