//! What `s1` logs on stderr, each line escaped as everything `s1` prints
//! for a person.
//!
//! By default only the library's decode warnings (a list item that did not
//! decode, delivered as sent), one `s1: warning:` line each. With `-v` the
//! library's own events at INFO (waits, retries, 429s, failed calls, the
//! steps of composite commands) and with `-vv` at DEBUG (every request's
//! span and end), each inside its spans:
//! `composite{name=threats.kill}:step{name="act"}:request{operation="mitigate_threats" …}`.
//! `RUST_LOG`, when set, is the filter instead (`sentinelone=debug,hyper=info`).

use std::io::{self, Write};

use tracing::Level;
use tracing_subscriber::filter::{EnvFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{Layer, fmt};

use crate::output::printable;

/// The target of the library's decode warnings.
const DECODE_TARGET: &str = "sentinelone::decode";

/// The library's crates, as tracing targets.
const LIBRARY_TARGETS: [&str; 2] = ["sentinelone", "sentinelone_generated"];

/// Installs the subscriber for `verbose` (the count of `-v`); once per
/// process.
pub fn init(verbose: u8) {
    let from_env = std::env::var("RUST_LOG")
        .ok()
        .filter(|v| !v.trim().is_empty());
    // A second call (never made) would find a subscriber and change nothing.
    let _ = match (from_env, verbose) {
        (None, 0) => tracing_subscriber::registry()
            .with(
                fmt::layer()
                    .with_writer(|| EscapedStderr {
                        prefix: "s1: warning: ",
                    })
                    .without_time()
                    .with_level(false)
                    .with_target(false)
                    .with_ansi(false)
                    .with_filter(Targets::new().with_target(DECODE_TARGET, Level::WARN)),
            )
            .try_init(),
        (Some(directives), _) => traced(EnvFilter::new(directives)),
        (None, verbose) => {
            let level = if verbose == 1 {
                Level::INFO
            } else {
                Level::DEBUG
            };
            let targets = LIBRARY_TARGETS
                .iter()
                .fold(Targets::new().with_default(Level::WARN), |t, name| {
                    t.with_target(*name, level)
                });
            traced(targets)
        }
    };
}

/// A subscriber writing every event `filter` lets through: time since
/// start, level, target, spans.
fn traced<F>(filter: F) -> Result<(), tracing_subscriber::util::TryInitError>
where
    F: tracing_subscriber::layer::Filter<tracing_subscriber::Registry> + Send + Sync + 'static,
{
    tracing_subscriber::registry()
        .with(
            fmt::layer()
                .with_writer(|| EscapedStderr { prefix: "" })
                .with_timer(fmt::time::uptime())
                .with_ansi(false)
                .with_filter(filter),
        )
        .try_init()
}

/// stderr, each event one line starting with `prefix`, console text
/// escaped.
struct EscapedStderr {
    prefix: &'static str,
}

impl Write for EscapedStderr {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        let line = text.strip_suffix('\n').unwrap_or(&text);
        writeln!(io::stderr().lock(), "{}{}", self.prefix, printable(line))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        io::stderr().flush()
    }
}
