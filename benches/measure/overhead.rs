//! Per-call overhead, as a ratio measured in one run: `client.list_agents()
//! .send()` through the facade against raw reqwest sending the same GET to
//! the same loopback server and decoding the same body into the same type.
//! A fourth side sends the same call through the generated client alone
//! (`DirectTransport`: no quotas, retries or error shaping), which splits
//! the difference into what the generated builder costs and what the
//! facade's transport adds.
//!
//! Server and clients share one single-threaded runtime, so a round trip
//! crosses no thread (waking a thread on another vCPU costs more, and varies
//! more, than anything the facade does). Each round times a batch of calls
//! of every side, in rotating order; the result is the median per-call time
//! of each side and the median of the per-round ratios. `cargo bench --bench
//! overhead` measures the same with criterion.

use std::future::Future;
use std::time::Instant;

use sentinelone::prelude::*;
use sentinelone::raw::types::AgentViewListResponse;
use serde_json::json;

use crate::report::{self, Args, Spread, times};
use crate::server::{self, API, Config};

pub fn run(args: &Args) {
    let rounds: usize = args.get("rounds", 31);
    let calls: usize = args.get("calls", 200);
    let rt = crate::current_thread();
    let server = rt.block_on(server::start(Config {
        token: crate::TOKEN.to_string(),
        agents: 1,
        download_bytes: 0,
    }));
    let url = format!("{}{API}/agents", server.origin);
    let raw = crate::raw_client();
    let facade = crate::facade_client(&server.origin);
    let generated = sentinelone::raw::Client::new_with_client(
        &server.origin,
        crate::raw_client(),
        sentinelone::raw::Inner::default(),
    );

    let raw_bytes = || async {
        let response = raw.get(&url).send().await.expect("raw GET");
        response.bytes().await.expect("raw body").len()
    };
    let raw_typed = || async {
        let response = raw.get(&url).send().await.expect("raw GET");
        let response = response.error_for_status().expect("raw status");
        let bytes = response.bytes().await.expect("raw body");
        let page: AgentViewListResponse = serde_json::from_slice(&bytes).expect("raw decode");
        page.data.map_or(0, |d| d.len())
    };
    let facade_call = || async {
        let page = facade
            .list_agents()
            .send()
            .await
            .expect("facade list_agents");
        page.into_inner().data.map_or(0, |d| d.len())
    };
    let generated_call = || async {
        let page = generated
            .list_agents()
            .send()
            .await
            .expect("generated list_agents");
        page.into_inner().data.map_or(0, |d| d.len())
    };

    let mut times_us: [Vec<f64>; 4] = Default::default();
    rt.block_on(async {
        // Same answer on every side before anything is timed.
        assert_eq!(raw_typed().await, 1);
        assert_eq!(facade_call().await, 1);
        assert_eq!(generated_call().await, 1);
        assert!(raw_bytes().await > 1000);
        for round in 0..=rounds {
            let mut this = [0.0; 4];
            for k in 0..4 {
                let side = (round + k) % 4;
                this[side] = match side {
                    0 => batch(calls, raw_bytes).await,
                    1 => batch(calls, raw_typed).await,
                    2 => batch(calls, generated_call).await,
                    _ => batch(calls, facade_call).await,
                };
            }
            // Round 0 warms the connection and caches up.
            if round > 0 {
                for (side, time) in this.into_iter().enumerate() {
                    times_us[side].push(time);
                }
            }
        }
    });
    let [bytes_us, typed_us, generated_us, facade_us] = &times_us;
    let vs_generated = Spread::of(facade_us.iter().zip(generated_us).map(|(f, g)| f / g));
    let vs_typed = Spread::of(facade_us.iter().zip(typed_us).map(|(f, t)| f / t));
    let vs_bytes = Spread::of(facade_us.iter().zip(bytes_us).map(|(f, b)| f / b));
    let us = |x: f64| format!("{x:.1} µs");
    let line = format!(
        "overhead body={} B rounds={rounds} calls/round={calls} | facade list_agents().send(): {} \
         | generated client alone: {} | raw reqwest + typed decode: {} | raw reqwest bytes only: {} \
         | ratio vs generated {} | ratio vs typed {} | ratio vs bytes {}",
        server.agent_bytes,
        Spread::of(facade_us.iter().copied()).show(us),
        Spread::of(generated_us.iter().copied()).show(us),
        Spread::of(typed_us.iter().copied()).show(us),
        Spread::of(bytes_us.iter().copied()).show(us),
        vs_generated.show(times),
        vs_typed.show(times),
        vs_bytes.show(times),
    );
    let value = json!({
        "bench": "overhead",
        "agent_bytes": server.agent_bytes,
        "rounds": rounds,
        "calls_per_round": calls,
        "facade_us": Spread::of(facade_us.iter().copied()).json(),
        "generated_us": Spread::of(generated_us.iter().copied()).json(),
        "raw_typed_us": Spread::of(typed_us.iter().copied()).json(),
        "raw_bytes_us": Spread::of(bytes_us.iter().copied()).json(),
        "ratio_vs_generated": vs_generated.json(),
        "ratio_vs_typed": vs_typed.json(),
        "ratio_vs_bytes": vs_bytes.json(),
    });
    report::print(args, line, value);
}

/// Microseconds per call over `calls` sequential calls.
async fn batch<F, Fut>(calls: usize, call: F) -> f64
where
    F: Fn() -> Fut,
    Fut: Future<Output = usize>,
{
    let started = Instant::now();
    for _ in 0..calls {
        std::hint::black_box(call().await);
    }
    started.elapsed().as_secs_f64() * 1e6 / calls as f64
}
