//! A long PowerQuery on the simulated console: the window cut into slices
//! run at once vs one query over the whole window, same token.
//!
//! The simulated console enforces the LRQ limit (3 requests a second per
//! token: launches, polls and deletes together) and makes a query's run
//! time grow with its window: `--base-ms` plus `--per-day-ms` for every day
//! of the range, its ten steps advancing evenly. A 30-day query at 1 s a
//! day runs about 31 s; each of six 5-day slices about 6 s, all six at
//! once. Both sides use one `Client` with the library's quotas (launches one
//! a second, polls and deletes two a second) and the default poll pause
//! (1 s); each side gets a console of its own.
//!
//! Reported per side: wall-clock time of `client.lrq().power_query`, and
//! the requests the console received (all of them, and the 429s among them).

use std::time::{Duration, Instant};

use chrono::{TimeDelta, TimeZone, Utc};
use sentinelone::lrq::{LrqOptions, LrqScope, Merge, TimeRange};
use sentinelone::sim::SimConsole;
use serde_json::json;

use crate::report::{self, Args, Spread};

const QUERY: &str = "dataSource.name='SentinelOne' | group count=count(), first_seen=min(timestamp), last_seen=max(timestamp) by event.type";

/// What one run of one side did.
#[derive(Debug, Clone, Copy)]
struct Outcome {
    secs: f64,
    requests: u64,
    throttled: u64,
    launches: u64,
    rows: usize,
    matches: f64,
}

pub fn run(args: &Args) {
    let days: i64 = args.get("days", 30);
    let slices: u32 = args.get("slices", 6);
    let runs: usize = args.get("runs", 1);
    let base = Duration::from_millis(args.get("base-ms", 1000));
    let per_day = Duration::from_millis(args.get("per-day-ms", 1000));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut sliced = Vec::new();
    let mut serial = Vec::new();
    rt.block_on(async {
        for _ in 0..runs {
            sliced.push(side(days, slices, base, per_day).await);
            serial.push(side(days, 1, base, per_day).await);
        }
    });
    for (a, b) in sliced.iter().zip(&serial) {
        assert_eq!(
            (a.rows, a.matches),
            (b.rows, b.matches),
            "the sliced and the serial query disagree"
        );
    }
    let secs = |o: &[Outcome]| Spread::of(o.iter().map(|o| o.secs));
    let (s, w) = (secs(&sliced), secs(&serial));
    let ratio = Spread::of(sliced.iter().zip(&serial).map(|(a, b)| b.secs / a.secs));
    let last = |o: &[Outcome]| *o.last().expect("a run");
    let (ls, lw) = (last(&sliced), last(&serial));
    let line = format!(
        "lrq days={days} slices={slices} base={}ms per-day={}ms runs={runs} | sliced: {} s, {} requests ({} launches, {} × 429) | \
         serial: {} s, {} requests ({} × 429) | {} faster; {} rows, {} matches either way",
        base.as_millis(),
        per_day.as_millis(),
        s.show(|x| format!("{x:.1}")),
        ls.requests,
        ls.launches,
        ls.throttled,
        w.show(|x| format!("{x:.1}")),
        lw.requests,
        lw.throttled,
        ratio.show(report::times),
        ls.rows,
        ls.matches,
    );
    let side_json = |o: &[Outcome]| {
        json!({
            "secs": secs(o).json(),
            "requests": o.iter().map(|o| o.requests).collect::<Vec<_>>(),
            "throttled_429": o.iter().map(|o| o.throttled).collect::<Vec<_>>(),
            "launches": o.iter().map(|o| o.launches).collect::<Vec<_>>(),
        })
    };
    let value = json!({
        "bench": "lrq",
        "days": days,
        "slices": slices,
        "base_ms": base.as_millis() as u64,
        "per_day_ms": per_day.as_millis() as u64,
        "runs": runs,
        "sliced": side_json(&sliced),
        "serial": side_json(&serial),
        "speedup": ratio.json(),
    });
    report::print(args, line, value);
}

/// One PowerQuery over `days` days in `slices` slices on a fresh console.
async fn side(days: i64, slices: u32, base: Duration, per_day: Duration) -> Outcome {
    let console = SimConsole::builder()
        .rate_limits(true)
        .lrq_duration(base)
        .lrq_duration_per_day(per_day)
        .start()
        .await;
    let client = console.client().expect("sim client");
    let end = Utc
        .with_ymd_and_hms(2026, 4, 21, 0, 0, 0)
        .single()
        .expect("a time");
    let range = TimeRange::new(end - TimeDelta::days(days), end);
    let options = LrqOptions::default()
        .timeout(Duration::from_secs(600))
        .slices(slices)
        .merge("count", Merge::Sum)
        .merge("share", Merge::Max)
        .merge("first_seen", Merge::Min)
        .merge("last_seen", Merge::Max);
    let started = Instant::now();
    let table = client
        .lrq()
        .power_query(QUERY, range, &LrqScope::tenant(), &options)
        .await
        .expect("power query");
    let secs = started.elapsed().as_secs_f64();
    let counters = console.counters();
    Outcome {
        secs,
        requests: counters.total(),
        throttled: counters.throttled,
        launches: counters.lrq_launched.len() as u64,
        rows: table.rows.len(),
        matches: table.match_count.unwrap_or_default(),
    }
}
