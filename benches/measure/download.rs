//! Downloading a large upload: `sentinelone::files::download` (through the
//! transport, to a temporary file renamed into place, fsynced) against raw
//! reqwest `bytes_stream()` written to a file with tokio (also fsynced, so
//! both do the same durable work). Each runs in its own child process
//! against the same loopback server, which writes the body in 1 MiB chunks.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use futures_util::StreamExt;
use sentinelone::files::AgentUpload;
use serde_json::json;
use tokio::io::AsyncWriteExt;

use crate::report::{self, Args, Sample, Spread, mib, times};
use crate::server::{self, API, Config};

const AGENT_ID: &str = "1900000000000000001";
const ACTIVITY_ID: &str = "1900000000000000002";

pub fn run(args: &Args) {
    let gib: f64 = args.get("gib", 1.0);
    let runs: usize = args.get("runs", 3);
    let dir: String = args.get("dir", std::env::temp_dir().display().to_string());
    let bytes = (gib * (1u64 << 30) as f64) as u64;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("server runtime");
    let server = rt.block_on(server::start(Config {
        token: crate::TOKEN.to_string(),
        agents: 0,
        download_bytes: bytes,
    }));
    let temp = tempfile::Builder::new()
        .prefix("s1-bench-download-")
        .tempdir_in(&dir)
        .expect("temporary directory");
    let dest = temp.path().join("upload.zip");
    let dest = dest.to_str().expect("a UTF-8 temporary path");
    let mut facade = Vec::new();
    let mut raw = Vec::new();
    for run in 0..runs {
        let ours = || {
            measure(
                "facade download",
                "download-facade",
                &server.origin,
                dest,
                bytes,
            )
        };
        let theirs = || {
            measure(
                "raw reqwest download",
                "download-raw",
                &server.origin,
                dest,
                bytes,
            )
        };
        if run % 2 == 0 {
            facade.push(ours());
            raw.push(theirs());
        } else {
            raw.push(theirs());
            facade.push(ours());
        }
    }
    show(args, bytes, &dir, &facade, &raw);
}

fn measure(what: &str, side: &str, origin: &str, dest: &str, bytes: u64) -> Sample {
    let mut command: Command = report::child(&[side, origin, dest]);
    let sample = report::run_child(what, &mut command);
    let written = std::fs::metadata(dest).map(|m| m.len()).unwrap_or(0);
    assert_eq!(
        sample.count as u64, bytes,
        "{what} reported {}",
        sample.count
    );
    assert_eq!(written, bytes, "{what} left {written} bytes in {dest}");
    std::fs::remove_file(dest).expect("remove the downloaded file");
    sample
}

fn show(args: &Args, bytes: u64, dir: &str, facade: &[Sample], raw: &[Sample]) {
    const MB: f64 = 1_000_000.0;
    let rate = |s: &[Sample]| Spread::of(s.iter().map(|x| x.rate() / MB));
    let peak = |s: &[Sample]| Spread::of(s.iter().map(|x| x.peak_kib));
    let ratio = Spread::of(facade.iter().zip(raw).map(|(f, r)| f.rate() / r.rate()));
    let mbs = |x: f64| format!("{x:.0} MB/s");
    let line = format!(
        "download bytes={bytes} runs={} dir={dir} | facade files::download: {}, peak RSS {} \
         | raw reqwest bytes_stream: {}, peak RSS {} | throughput ratio {}",
        facade.len(),
        rate(facade).show(mbs),
        peak(facade).show(mib),
        rate(raw).show(mbs),
        peak(raw).show(mib),
        ratio.show(times),
    );
    let side = |s: &[Sample]| {
        json!({
            "mb_per_s": rate(s).json(),
            "peak_rss_kib": peak(s).json(),
            "start_rss_kib": Spread::of(s.iter().map(|x| x.start_kib)).json(),
        })
    };
    let value = json!({
        "bench": "download",
        "bytes": bytes,
        "dir": dir,
        "runs": facade.len(),
        "facade": side(facade),
        "raw_reqwest": side(raw),
        "throughput_ratio": ratio.json(),
    });
    report::print(args, line, value);
}

/// The facade side, in a child process.
pub fn facade_child(origin: &str, dest: &Path) -> Sample {
    crate::current_thread().block_on(async {
        let client = crate::facade_client(origin);
        let upload = AgentUpload::new(AGENT_ID, ACTIVITY_ID).expect("upload ids");
        let start_kib = report::status_kib("VmRSS");
        let started = Instant::now();
        let saved = client
            .files()
            .download(&upload, dest)
            .await
            .expect("files::download");
        Sample {
            count: saved.bytes as f64,
            secs: started.elapsed().as_secs_f64(),
            peak_kib: report::status_kib("VmHWM"),
            start_kib,
        }
    })
}

/// The raw reqwest side, in a child process.
pub fn raw_child(origin: &str, dest: &Path) -> Sample {
    crate::current_thread().block_on(async {
        let client = crate::raw_client();
        let url = format!("{origin}{API}/agents/{AGENT_ID}/uploads/{ACTIVITY_ID}");
        let start_kib = report::status_kib("VmRSS");
        let started = Instant::now();
        let response = client
            .get(url)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .expect("raw GET");
        let mut file = tokio::fs::File::create(dest).await.expect("create file");
        let mut body = response.bytes_stream();
        let mut count = 0u64;
        while let Some(chunk) = body.next().await {
            let chunk = chunk.expect("body chunk");
            file.write_all(&chunk).await.expect("write");
            count += chunk.len() as u64;
        }
        file.flush().await.expect("flush");
        file.sync_all().await.expect("fsync");
        Sample {
            count: count as f64,
            secs: started.elapsed().as_secs_f64(),
            peak_kib: report::status_kib("VmHWM"),
            start_kib,
        }
    })
}
