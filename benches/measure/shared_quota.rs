//! Processes sharing one token: `--procs` processes (this binary again,
//! `measure child shared-quota …`) each poll `dv/query-status` (1 call per
//! second per token) on one simulated console for the window, as a pool of
//! SOAR workers would.
//!
//! - redis: every process counts its quota in one Redis server
//!   (`RedisQuotaStore`), so the processes share one allowance;
//! - in-process: each process has only its own limiter (the default), so
//!   each thinks the whole allowance is its own.
//!
//! Each side gets a console of its own and the same window. "Allowed" is
//! what a perfect pool could get: `floor(window / 1 s) + 1`. The console's
//! own counters say how many calls it admitted and how many it answered 429.

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use sentinelone::prelude::*;
use sentinelone::quota_store::{QuotaStore, RedisQuotaStore};
use serde_json::{Value, json};
use tokio::time::{Instant, timeout_at};

use crate::ratelimit::{Outcome, console_with_query, counts, outcome};
use crate::report::{self, Args};

pub fn run(args: &Args) {
    let window = report::secs(args.get("secs", 60.0));
    let procs: usize = args.get("procs", 8);
    let redis: String = args.get("redis", std::env::var("S1_REDIS_URL").unwrap_or_default());
    assert!(
        !redis.is_empty(),
        "give --redis redis://127.0.0.1:6379/0 (or set S1_REDIS_URL)"
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let shared = rt.block_on(side(window, procs, Some(&redis)));
    let separate = rt.block_on(side(window, procs, None));
    let allowed = window.as_secs_f64().floor() as u64 + 1;
    let share = |s: &Outcome| s.admitted as f64 / allowed as f64;
    let line = format!(
        "shared-quota secs={} procs={procs} allowed={allowed} | redis store: {} calls ({:.0}% of allowed), \
         {} 429s, {} errors | in-process stores: {} calls ({:.0}%), {} 429s, {} errors",
        window.as_secs_f64(),
        shared.admitted,
        share(&shared) * 100.0,
        shared.throttled,
        shared.failed,
        separate.admitted,
        share(&separate) * 100.0,
        separate.throttled,
        separate.failed,
    );
    let value = |s: &Outcome| {
        json!({
            "admitted": s.admitted,
            "throttled_429": s.throttled,
            "succeeded": s.succeeded,
            "failed": s.failed,
            "share_of_allowed": share(s),
        })
    };
    report::print(
        args,
        line,
        json!({
            "bench": "shared-quota",
            "secs": window.as_secs_f64(),
            "procs": procs,
            "allowed": allowed,
            "redis": value(&shared),
            "in_process": value(&separate),
        }),
    );
}

/// Runs `procs` children against a fresh console; `redis` when they share.
async fn side(window: Duration, procs: usize, redis: Option<&str>) -> Outcome {
    let (console, id) = console_with_query().await;
    let before = counts(&console);
    let exe = std::env::current_exe().expect("this binary");
    let children: Vec<_> = (0..procs)
        .map(|_| {
            Command::new(&exe)
                .args([
                    "child",
                    "shared-quota",
                    &console.url(),
                    console.token(),
                    &id,
                ])
                .arg(window.as_secs_f64().to_string())
                .arg(redis.unwrap_or("-"))
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .spawn()
                .expect("a child")
        })
        .collect();
    let ends = children
        .into_iter()
        .map(|child| tokio::task::spawn_blocking(move || child.wait_with_output()));
    let (mut succeeded, mut failed) = (0, 0);
    for end in futures_util::future::join_all(ends).await {
        let out = end.expect("joined").expect("the child ran");
        let sample: Value = serde_json::from_slice(&out.stdout).expect("the child's sample");
        succeeded += sample["succeeded"].as_u64().unwrap_or(0);
        failed += sample["failed"].as_u64().unwrap_or(0);
    }
    outcome(&console, before, succeeded, failed)
}

/// One worker: polls until the window closes; prints what it saw.
pub fn child(args: &Args) {
    let (url, token, id) = (args.arg(1), args.arg(2), args.arg(3).to_string());
    let window = report::secs(args.arg(4).parse().expect("seconds"));
    let mut builder = sentinelone::Client::builder()
        .console_url(url)
        .api_token(token)
        .allow_http(true);
    if args.arg(5) != "-" {
        let store = RedisQuotaStore::new(args.arg(5)).expect("a Redis URL");
        builder = builder.quota_store(QuotaStore::Redis(Arc::new(store)));
    }
    let client = builder.build().expect("a client");
    let rt = crate::current_thread();
    let (succeeded, failed) = rt.block_on(async {
        let deadline = Instant::now() + window;
        let (mut succeeded, mut failed) = (0u64, 0u64);
        loop {
            let call = client.get_dv_query_status().query_id(id.clone()).call();
            match timeout_at(deadline, call).await {
                Err(_) => break,
                Ok(Ok(_)) => succeeded += 1,
                Ok(Err(e)) => {
                    eprintln!("shared-quota child: {e}");
                    failed += 1;
                }
            }
        }
        (succeeded, failed)
    });
    println!("{}", json!({"succeeded": succeeded, "failed": failed}));
}
