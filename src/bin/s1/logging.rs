//! What `s1` logs on its own: the library's decode warnings (a list item
//! that did not decode, delivered as sent), one escaped line each on
//! stderr. Everything else the library traces stays silent.

use std::io::{self, Write};

use tracing::Level;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{Layer, fmt};

use crate::output::printable;

/// The target of the library's decode warnings.
const DECODE_TARGET: &str = "sentinelone::decode";

/// Installs the subscriber; once per process.
pub fn init() {
    let layer = fmt::layer()
        .with_writer(|| EscapedStderr)
        .without_time()
        .with_level(false)
        .with_target(false)
        .with_ansi(false)
        .with_filter(Targets::new().with_target(DECODE_TARGET, Level::WARN));
    // A second call (never made) would find a subscriber and change nothing.
    let _ = tracing_subscriber::registry().with(layer).try_init();
}

/// stderr, each event one line starting `s1: warning: `, console text
/// escaped as everything `s1` prints for a person.
struct EscapedStderr;

impl Write for EscapedStderr {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        let line = text.strip_suffix('\n').unwrap_or(&text);
        writeln!(io::stderr().lock(), "s1: warning: {}", printable(line))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        io::stderr().flush()
    }
}
