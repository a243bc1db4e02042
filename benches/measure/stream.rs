//! Streaming every agent page by page: `client.list_agents().items()`
//! (1000 per page, typed) against `benches/stream_agents.py`, a Python
//! `requests` session following `pagination.nextCursor` with `limit=1000`.
//! Both run as child processes against the same loopback server, one after
//! the other (the order alternating from run to run), and report items per
//! second and their own peak RSS.
//!
//! Beside them, the ceiling: the same pages decoded from memory, no HTTP
//! (`serde_json` into `list_agents`' typed page, then each item typed, as
//! the facade does), timing the decoding only, in a child process of its
//! own each run. The facade's rate reads as a fraction of it.

use std::pin::pin;
use std::process::Command;
use std::time::Instant;

use futures_util::TryStreamExt;
use sentinelone::prelude::*;
use serde_json::json;

use crate::report::{self, Args, Sample, Spread, mib, percent, times, whole};
use crate::server::{self, Config};

/// The Python side, beside this file.
const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/stream_agents.py");

pub fn run(args: &Args) {
    let counts: Vec<usize> = args.list("agents", "10000,100000");
    let runs: usize = args.get("runs", 3);
    let python: String = args.get("python", "python3".to_string());
    check_python(&python);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("server runtime");
    for agents in counts {
        let server = rt.block_on(server::start(Config {
            token: crate::TOKEN.to_string(),
            agents,
            download_bytes: 0,
        }));
        let mut facade = Vec::new();
        let mut baseline = Vec::new();
        let mut ceiling = Vec::new();
        for run in 0..runs {
            let rust = || measure("facade", report::child(&["stream", &server.origin]), agents);
            let py = || {
                let mut command = Command::new(&python);
                command.arg(SCRIPT).arg(&server.origin).arg(crate::TOKEN);
                measure("python requests", command, agents)
            };
            if run % 2 == 0 {
                facade.push(rust());
                baseline.push(py());
            } else {
                baseline.push(py());
                facade.push(rust());
            }
            let decode = report::child(&["decode", &agents.to_string()]);
            ceiling.push(measure("decode only", decode, agents));
        }
        show(args, agents, &server, [&facade, &baseline, &ceiling]);
    }
}

/// Fails early, with what to do, when Python or `requests` is missing.
fn check_python(python: &str) {
    let ok = Command::new(python)
        .args(["-c", "import requests"])
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok,
        "`{python} -c 'import requests'` failed: install Python 3 and requests \
         (`python3 -m pip install requests`), or name another interpreter with --python"
    );
}

fn measure(what: &str, mut command: Command, agents: usize) -> Sample {
    let sample = report::run_child(what, &mut command);
    assert_eq!(
        sample.count as usize, agents,
        "{what} streamed {} agents, expected {agents}",
        sample.count
    );
    sample
}

fn show(args: &Args, agents: usize, server: &server::Server, sides: [&[Sample]; 3]) {
    let [facade, py, decode] = sides;
    let rate = |s: &[Sample]| Spread::of(s.iter().map(Sample::rate));
    let peak = |s: &[Sample]| Spread::of(s.iter().map(|x| x.peak_kib));
    let start = |s: &[Sample]| Spread::of(s.iter().map(|x| x.start_kib));
    let ratio = Spread::of(facade.iter().zip(py).map(|(f, p)| f.rate() / p.rate()));
    let rss_ratio = Spread::of(facade.iter().zip(py).map(|(f, p)| f.peak_kib / p.peak_kib));
    let of_ceiling = Spread::of(facade.iter().zip(decode).map(|(f, d)| f.rate() / d.rate()));
    let line = format!(
        "stream agents={} page=1000 agent={} B runs={} | facade items(): {} items/s, peak RSS {} (at start {}) \
         | python requests: {} items/s, peak RSS {} (at start {}) | speed ratio {} | RSS ratio {} \
         | decode only, no HTTP: {} items/s, facade at {} of it",
        whole(agents as f64),
        server.agent_bytes,
        facade.len(),
        rate(facade).show(whole),
        peak(facade).show(mib),
        start(facade).show(mib),
        rate(py).show(whole),
        peak(py).show(mib),
        start(py).show(mib),
        ratio.show(times),
        rss_ratio.show(times),
        rate(decode).show(whole),
        of_ceiling.show(percent),
    );
    let side = |s: &[Sample]| {
        json!({
            "items_per_s": rate(s).json(),
            "peak_rss_kib": peak(s).json(),
            "start_rss_kib": start(s).json(),
        })
    };
    let value = json!({
        "bench": "stream",
        "agents": agents,
        "page": 1000,
        "agent_bytes": server.agent_bytes,
        "agent_template": server.template_source,
        "runs": facade.len(),
        "facade": side(facade),
        "python_requests": side(py),
        "speed_ratio": ratio.json(),
        "rss_ratio": rss_ratio.json(),
        "decode_only": side(decode),
        "facade_of_decode_only": of_ceiling.json(),
    });
    report::print(args, line, value);
}

/// The facade side, in a child process.
pub fn facade_child(origin: &str) -> Sample {
    crate::current_thread().block_on(async {
        let client = crate::facade_client(origin);
        let start_kib = report::status_kib("VmRSS");
        let started = Instant::now();
        let mut items = pin!(client.list_agents().items());
        let mut count = 0u64;
        while let Some(agent) = items.try_next().await.expect("list_agents items") {
            std::hint::black_box(&agent);
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

/// The ceiling, in a child process: every page of `agents` agents built in
/// memory as the server sends it, then decoded through the typed path the
/// facade takes (`serde_json` into the operation's page type, each item
/// into its typed agent). Only the decoding is timed.
pub fn decode_child(agents: &str) -> Sample {
    use sentinelone::raw::builder::ListAgents;
    use sentinelone::raw::{Operation, Pageable};
    type Page = <ListAgents<'static> as Operation>::Output;

    let agents: usize = agents.parse().expect("a count of agents");
    let template = server::Template::load();
    let start_kib = report::status_kib("VmRSS");
    let mut decoding = std::time::Duration::ZERO;
    let mut count = 0u64;
    for start in (0..agents).step_by(1000) {
        let body = template.page(start, (start + 1000).min(agents), agents);
        let started = Instant::now();
        let page: Page = serde_json::from_slice(&body).expect("a page decodes");
        for item in <ListAgents<'static> as Pageable>::into_items(page) {
            let agent = item.into_typed().expect("an agent decodes");
            std::hint::black_box(&agent);
            count += 1;
        }
        decoding += started.elapsed();
    }
    Sample {
        count: count as f64,
        secs: decoding.as_secs_f64(),
        peak_kib: report::status_kib("VmHWM"),
        start_kib,
    }
}
