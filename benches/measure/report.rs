//! What every measurement shares: the samples a child process reports,
//! peak RSS, medians with their spread, the flags, and the result line.

use std::collections::HashMap;
use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};

/// One measured run of one side, as its process reports it (a JSON line
/// on stdout).
#[derive(Debug, Clone, Copy, Default)]
pub struct Sample {
    /// Items or bytes handled.
    pub count: f64,
    /// Seconds the work took (process start-up excluded).
    pub secs: f64,
    /// Peak resident set size of the process (VmHWM), KiB.
    pub peak_kib: f64,
    /// Resident set size just before the work started (VmRSS), KiB.
    pub start_kib: f64,
}

impl Sample {
    /// Count per second.
    pub fn rate(&self) -> f64 {
        self.count / self.secs
    }

    /// The JSON line a child prints.
    pub fn to_line(self) -> String {
        json!({
            "count": self.count,
            "secs": self.secs,
            "peak_kib": self.peak_kib,
            "start_kib": self.start_kib,
        })
        .to_string()
    }

    /// Reads the last JSON line a child printed.
    pub fn from_output(what: &str, stdout: &[u8]) -> Sample {
        let text = String::from_utf8_lossy(stdout);
        let line = text
            .lines()
            .rev()
            .find(|l| l.trim_start().starts_with('{'))
            .unwrap_or_else(|| panic!("{what} printed no result line: {text}"));
        let v: Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("{what} printed {line:?}, not JSON: {e}"));
        let field = |k: &str| {
            v[k].as_f64()
                .unwrap_or_else(|| panic!("{what}: no {k} in {line}"))
        };
        Sample {
            count: field("count"),
            secs: field("secs"),
            peak_kib: field("peak_kib"),
            start_kib: field("start_kib"),
        }
    }
}

/// A field of `/proc/self/status`, in KiB (`VmHWM`, `VmRSS`).
pub fn status_kib(field: &str) -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(f64::NAN)
}

/// Runs a child process to completion and reads its sample; a failing
/// child stops the measurement with its output.
pub fn run_child(what: &str, command: &mut Command) -> Sample {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("cannot start {what} ({command:?}): {e}"));
    if !output.status.success() {
        panic!(
            "{what} failed ({}):\n{}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Sample::from_output(what, &output.stdout)
}

/// This bench binary again, running one side of a measurement on its own
/// (`measure child <what> …`), so that its memory is its own.
pub fn child(args: &[&str]) -> Command {
    let exe = std::env::current_exe().expect("path of the bench binary");
    let mut command = Command::new(exe);
    command.arg("child").args(args);
    command
}

/// Median, smallest and largest of some values.
#[derive(Debug, Clone, Copy)]
pub struct Spread {
    pub median: f64,
    pub min: f64,
    pub max: f64,
}

impl Spread {
    pub fn of(values: impl IntoIterator<Item = f64>) -> Spread {
        let mut v: Vec<f64> = values.into_iter().collect();
        assert!(!v.is_empty(), "no values");
        v.sort_by(f64::total_cmp);
        let mid = v.len() / 2;
        let median = if v.len().is_multiple_of(2) {
            (v[mid - 1] + v[mid]) / 2.0
        } else {
            v[mid]
        };
        Spread {
            median,
            min: v[0],
            max: v[v.len() - 1],
        }
    }

    /// `median [min–max]`, each value shown by `show`, the range left out
    /// for a single run.
    pub fn show(&self, show: impl Fn(f64) -> String) -> String {
        let (median, min, max) = (show(self.median), show(self.min), show(self.max));
        if min == max {
            median
        } else {
            format!("{median} [{min}–{max}]")
        }
    }

    pub fn json(&self) -> Value {
        json!({"median": self.median, "min": self.min, "max": self.max})
    }
}

/// A number with thousands separators and no decimals.
pub fn whole(x: f64) -> String {
    let digits = format!("{:.0}", x.abs());
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if x < 0.0 { format!("-{out}") } else { out }
}

/// KiB as MiB with one decimal.
pub fn mib(kib: f64) -> String {
    format!("{:.1} MiB", kib / 1024.0)
}

/// A fraction as `42%`.
pub fn percent(x: f64) -> String {
    format!("{:.0}%", x * 100.0)
}

/// A ratio as `1.23x`.
pub fn times(x: f64) -> String {
    format!("{x:.2}x")
}

/// The command line: a subcommand, `--flag value` pairs and `--json`.
/// `cargo bench` adds `--bench`, which is ignored.
#[derive(Debug, Default)]
pub struct Args {
    pub command: Option<String>,
    pub positional: Vec<String>,
    flags: HashMap<String, String>,
    pub json: bool,
}

impl Args {
    pub fn parse(args: impl IntoIterator<Item = String>) -> Args {
        let mut parsed = Args::default();
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--bench" => {}
                "--json" => parsed.json = true,
                flag if flag.starts_with("--") => {
                    let value = args
                        .next()
                        .unwrap_or_else(|| panic!("{flag} needs a value"));
                    parsed.flags.insert(flag[2..].to_string(), value);
                }
                _ if parsed.command.is_none() => parsed.command = Some(arg),
                _ => parsed.positional.push(arg),
            }
        }
        parsed
    }

    /// A flag's value parsed as `T`, or `default`.
    pub fn get<T: std::str::FromStr>(&self, flag: &str, default: T) -> T {
        match self.flags.get(flag) {
            None => default,
            Some(v) => v
                .parse()
                .unwrap_or_else(|_| panic!("--{flag} {v}: not a valid value")),
        }
    }

    /// A comma-separated list flag.
    pub fn list<T: std::str::FromStr>(&self, flag: &str, default: &str) -> Vec<T> {
        let text = self.flags.get(flag).map_or(default, String::as_str);
        text.split(',')
            .map(|v| {
                v.trim()
                    .parse()
                    .unwrap_or_else(|_| panic!("--{flag} {text}: not a valid list"))
            })
            .collect()
    }

    /// The `n`-th positional argument after the subcommand.
    pub fn arg(&self, n: usize) -> &str {
        self.positional
            .get(n)
            .unwrap_or_else(|| panic!("missing argument {}", n + 1))
    }
}

/// Prints a result: the line, or its JSON with `--json`.
pub fn print(args: &Args, line: String, value: Value) {
    if args.json {
        println!("{value}");
    } else {
        println!("{line}");
    }
}

/// Seconds as a `Duration`, for flags.
pub fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}
