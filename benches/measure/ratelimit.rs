//! Rate-limit utilisation: tasks sharing one token poll `dv/query-status`
//! (1 call per second per token) on the simulated console, which answers
//! any call inside the second after the last admitted one with 429 and
//! Retry-After.
//!
//! - facade: the tasks share one `Client` (documented quotas, its own
//!   limiter) and call `get_dv_query_status` in a loop;
//! - baseline: the same number of tasks with raw reqwest, each polling once
//!   a second and sleeping for Retry-After after a 429 (the usual hand-written
//!   poller).
//!
//! Each side gets a console of its own and the same window. "Allowed" is
//! what a perfect client could get in the window: one call at its start and
//! one per second after, `floor(window / 1 s) + 1`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::{TimeDelta, Utc};
use sentinelone::dv::DvQuery;
use sentinelone::prelude::*;
use sentinelone::sim::SimConsole;
use serde_json::json;
use tokio::time::{Instant, sleep, timeout_at};

use crate::report::{self, Args};

/// The documented limit of `dv/query-status`.
const PERIOD: Duration = Duration::from_secs(1);
const STATUS: &str = "/dv/query-status";

/// What one side achieved in the window.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Outcome {
    /// Calls the console admitted (answered other than 429).
    pub(crate) admitted: u64,
    /// Calls the console answered 429.
    pub(crate) throttled: u64,
    /// Calls the tasks saw succeed.
    pub(crate) succeeded: u64,
    /// Calls the tasks saw fail (not counting 429s the baseline handles).
    pub(crate) failed: u64,
}

pub fn run(args: &Args) {
    let window = report::secs(args.get("secs", 60.0));
    let tasks: usize = args.get("tasks", 4);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let (facade, naive) = rt.block_on(async {
        let facade = facade_side(window, tasks).await;
        let naive = naive_side(window, tasks).await;
        (facade, naive)
    });
    let allowed = (window.as_secs_f64() / PERIOD.as_secs_f64()).floor() as u64 + 1;
    let utilisation = |o: &Outcome| o.admitted as f64 / allowed as f64;
    let line = format!(
        "ratelimit secs={} tasks={tasks} allowed={allowed} | facade (one client, shared limiter): \
         {} calls ({:.0}% of allowed), {} 429s, {} errors | raw reqwest (each task 1/s, sleeps Retry-After): \
         {} calls ({:.0}%), {} 429s | utilisation ratio {:.2}",
        window.as_secs_f64(),
        facade.admitted,
        utilisation(&facade) * 100.0,
        facade.throttled,
        facade.failed,
        naive.admitted,
        utilisation(&naive) * 100.0,
        naive.throttled,
        utilisation(&facade),
    );
    let side = |o: &Outcome| {
        json!({
            "admitted": o.admitted,
            "throttled_429": o.throttled,
            "succeeded": o.succeeded,
            "failed": o.failed,
            "utilisation": utilisation(o),
        })
    };
    let value = json!({
        "bench": "ratelimit",
        "secs": window.as_secs_f64(),
        "tasks": tasks,
        "allowed": allowed,
        "facade": side(&facade),
        "raw_reqwest_naive": side(&naive),
        "utilisation_ratio": utilisation(&facade),
    });
    report::print(args, line, value);
}

/// A console whose query runs for longer than any window, and a query id.
// `dv/query-status` is the measured route until Deep Visibility ends.
#[allow(deprecated)]
pub(crate) async fn console_with_query() -> (SimConsole, String) {
    let console = SimConsole::builder()
        .dv_duration(Duration::from_secs(24 * 3600))
        .start()
        .await;
    let client = console.client().expect("sim client");
    let now = Utc::now();
    let request = DvQuery::new(
        "EventType = \"Process Creation\"",
        now - TimeDelta::hours(1),
        now,
    );
    let query = client.dv().start(&request).await.expect("dv init-query");
    (console, query.detach())
}

/// The console's count of `dv/query-status` calls and 429s since `before`.
pub(crate) fn outcome(
    console: &SimConsole,
    before: (u64, u64),
    succeeded: u64,
    failed: u64,
) -> Outcome {
    let after = console.counters();
    let calls = after.requests("GET", STATUS) - before.0;
    let throttled = after.throttled - before.1;
    Outcome {
        admitted: calls - throttled,
        throttled,
        succeeded,
        failed,
    }
}

pub(crate) fn counts(console: &SimConsole) -> (u64, u64) {
    let c = console.counters();
    (c.requests("GET", STATUS), c.throttled)
}

async fn facade_side(window: Duration, tasks: usize) -> Outcome {
    let (console, id) = console_with_query().await;
    let client = console.client().expect("sim client");
    let succeeded = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let before = counts(&console);
    let deadline = Instant::now() + window;
    let handles: Vec<_> = (0..tasks)
        .map(|_| {
            let (client, id) = (client.clone(), id.clone());
            let (succeeded, failed) = (succeeded.clone(), failed.clone());
            tokio::spawn(async move {
                loop {
                    let call = client.get_dv_query_status().query_id(id.clone()).call();
                    match timeout_at(deadline, call).await {
                        Err(_) => break,
                        Ok(Ok(_)) => succeeded.fetch_add(1, Ordering::Relaxed),
                        Ok(Err(e)) => {
                            eprintln!("facade get_dv_query_status: {e}");
                            failed.fetch_add(1, Ordering::Relaxed)
                        }
                    };
                }
            })
        })
        .collect();
    for handle in handles {
        handle.await.expect("facade task");
    }
    let done = (
        succeeded.load(Ordering::Relaxed),
        failed.load(Ordering::Relaxed),
    );
    outcome(&console, before, done.0, done.1)
}

async fn naive_side(window: Duration, tasks: usize) -> Outcome {
    let (console, id) = console_with_query().await;
    let url = format!("{}/web/api/v2.1/dv/query-status", console.url());
    let auth = format!("ApiToken {}", console.token());
    sentinelone::raw::install_crypto_provider();
    let http = reqwest::Client::new();
    let succeeded = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let before = counts(&console);
    let deadline = Instant::now() + window;
    let handles: Vec<_> = (0..tasks)
        .map(|_| {
            let (http, url, auth, id) = (http.clone(), url.clone(), auth.clone(), id.clone());
            let (succeeded, failed) = (succeeded.clone(), failed.clone());
            tokio::spawn(async move {
                while Instant::now() < deadline {
                    let sent = http
                        .get(&url)
                        .query(&[("queryId", &id)])
                        .header("authorization", &auth)
                        .send();
                    let Ok(response) = timeout_at(deadline, sent).await else {
                        break;
                    };
                    let pause = match response {
                        Ok(r) if r.status() == reqwest::StatusCode::TOO_MANY_REQUESTS => {
                            sentinelone::retry_after(r.headers()).unwrap_or(PERIOD)
                        }
                        Ok(r) if r.status().is_success() => {
                            succeeded.fetch_add(1, Ordering::Relaxed);
                            PERIOD
                        }
                        Ok(r) => {
                            eprintln!("raw query-status: {}", r.status());
                            failed.fetch_add(1, Ordering::Relaxed);
                            PERIOD
                        }
                        Err(e) => {
                            eprintln!("raw query-status: {e}");
                            failed.fetch_add(1, Ordering::Relaxed);
                            PERIOD
                        }
                    };
                    if timeout_at(deadline, sleep(pause)).await.is_err() {
                        break;
                    }
                }
            })
        })
        .collect();
    for handle in handles {
        handle.await.expect("naive task");
    }
    let done = (
        succeeded.load(Ordering::Relaxed),
        failed.load(Ordering::Relaxed),
    );
    outcome(&console, before, done.0, done.1)
}
