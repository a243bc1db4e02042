//! `--all-profiles`: the command run once for every profile of the profile
//! file, each by a child `s1` of its own, all at once. Their stdout is
//! merged as JSON Lines, every line tagged with its profile; their stderr
//! lines are passed on prefixed `[NAME] `.

use std::ffi::OsString;
use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::sync::Arc;

use clap::ValueEnum;
use serde_json::{Map, Value};
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::Command;
use tokio::sync::Semaphore;

use crate::args::{Cli, Command as S1Command};
use crate::exit::{self, Failure};
use crate::output::{self, Format, printable};

/// The flag itself, left out of what the children are given.
const FLAG: &str = "--all-profiles";

/// The most children running at once.
const AT_ONCE: usize = 16;

/// Runs the command line once per profile and waits for every run;
/// [`Failure::Profiles`] when any failed, after a line per failed profile.
pub async fn run(cli: &Cli) -> Result<(), Failure> {
    refuse_what_does_not_apply(cli)?;
    let profiles = cli.global.profiles()?;
    let names: Vec<String> = profiles.names().map(String::from).collect();
    if names.is_empty() {
        return Err(Failure::usage(format!(
            "{} has no profiles",
            profiles.path().display()
        )));
    }
    let program = std::env::current_exe()
        .map_err(|e| Failure::usage(format!("cannot find the s1 program to run: {e}")))?;
    let given = passed_on(std::env::args_os().skip(1));
    let add_output = cli.global.asked_format().is_none();
    // Ctrl-C reaches the children as well (they share the terminal's
    // process group): they clean up and exit, and this waits for them
    // rather than dying first.
    let _signals = crate::Signals::listen();
    let places = Arc::new(Semaphore::new(AT_ONCE));
    let runs: Vec<_> = names
        .iter()
        .map(|name| {
            let child = child(&program, name, add_output, &given);
            tokio::spawn(run_one(name.clone(), child, places.clone()))
        })
        .collect();
    let mut failed = Vec::new();
    for (name, run) in names.iter().zip(runs) {
        let code = run.await.unwrap_or(exit::API_ERROR);
        if code != exit::SUCCESS {
            failed.push((name, code));
        }
    }
    for (name, code) in &failed {
        eprintln!(
            "{}",
            printable(&format!("s1: profile {name} failed (exit {code})"))
        );
    }
    match failed.first() {
        None => Ok(()),
        Some((_, code)) => Err(Failure::Profiles {
            failed: failed.len(),
            of: names.len(),
            code: *code,
        }),
    }
}

/// Refuses, before anything is read or started, what cannot run once per
/// profile: a console or profile given as well, an output other than JSON
/// Lines, a command that needs no console, and a change without `--yes`.
fn refuse_what_does_not_apply(cli: &Cli) -> Result<(), Failure> {
    let global = &cli.global;
    let refusal = if global.typed.profile {
        "--all-profiles runs every profile: --profile cannot be given with it".to_string()
    } else if global.typed.console {
        "--all-profiles runs on the consoles of the profiles: --console-url and \
         --api-token cannot be given with it"
            .to_string()
    } else if let Some(format) = global.asked_format().filter(|f| *f != Format::Jsonl) {
        let name = format
            .to_possible_value()
            .map_or_else(String::new, |v| v.get_name().to_string());
        format!(
            "--all-profiles prints JSON Lines, each line with its \"profile\": \
             --output {name} is not available with it"
        )
    } else if let Some(command) = needs_no_console(&cli.command) {
        format!("--all-profiles does not apply to `s1 {command}`")
    } else if cli.command.writes() && !global.yes {
        "this command changes endpoints or the console: with --all-profiles it \
         would run on every console without a prompt; give --yes to run it. \
         Nothing was sent"
            .to_string()
    } else {
        return Ok(());
    };
    Err(Failure::Usage(refusal))
}

/// The name of a command that does not run against the console given.
fn needs_no_console(command: &S1Command) -> Option<&'static str> {
    match command {
        S1Command::Tour => Some("tour"),
        S1Command::Sim(_) => Some("sim"),
        S1Command::Completions { .. } => Some("completions"),
        S1Command::Api(call) if call.lists_operations() => Some("api --tag"),
        _ => None,
    }
}

/// The arguments given, without `--all-profiles` (up to a `--`, after
/// which everything is a value).
fn passed_on(given: impl Iterator<Item = OsString>) -> Vec<OsString> {
    let mut values_only = false;
    given
        .filter(|arg| {
            values_only |= arg == "--";
            values_only || arg != FLAG
        })
        .collect()
}

/// `s1 --profile=NAME [--output jsonl] <given>`, its output piped here and
/// nothing to read: it never prompts.
fn child(program: &Path, name: &str, add_output: bool, given: &[OsString]) -> Command {
    let mut command = Command::new(program);
    command.arg(format!("--profile={name}"));
    if add_output {
        command.args(["--output", "jsonl"]);
    }
    command
        .args(given)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// Runs one child (once a place is free), passing its lines on as they
/// come; its exit code.
async fn run_one(name: String, mut command: Command, places: Arc<Semaphore>) -> u8 {
    let _place = places.acquire_owned().await;
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(e) => {
            eprintln!("{}", printable(&format!("[{name}] s1: cannot start: {e}")));
            return exit::TRANSPORT;
        }
    };
    let (Some(stdout), Some(stderr)) = (child.stdout.take(), child.stderr.take()) else {
        return exit::TRANSPORT;
    };
    let (_, _, status) = tokio::join!(
        each_line(stdout, |line| {
            // A closed stdout ends this program inside json_line.
            let _ = output::json_line(&tagged(&name, line));
        }),
        each_line(stderr, |line| {
            eprintln!("{}", printable(&format!("[{name}] {line}")));
        }),
        child.wait(),
    );
    match status {
        Ok(status) => code(status),
        Err(e) => {
            eprintln!("{}", printable(&format!("[{name}] s1: lost: {e}")));
            exit::TRANSPORT
        }
    }
}

/// Calls `each` with every non-empty line read from `from`, line break
/// removed, until it ends.
async fn each_line(from: impl AsyncRead + Unpin, mut each: impl FnMut(&str)) {
    let mut lines = BufReader::new(from).split(b'\n');
    while let Ok(Some(line)) = lines.next_segment().await {
        let line = String::from_utf8_lossy(&line);
        let line = line.trim_end_matches('\r');
        if !line.is_empty() {
            each(line);
        }
    }
}

/// A child's stdout line, with its `"profile"` first: a JSON object's
/// fields follow it; another JSON value is its `"value"`; anything else is
/// its `"line"`.
fn tagged(profile: &str, line: &str) -> Value {
    let mut tagged = Map::new();
    tagged.insert("profile".to_string(), profile.into());
    match serde_json::from_str::<Value>(line) {
        Ok(Value::Object(fields)) => {
            tagged.extend(fields.into_iter().filter(|(key, _)| key != "profile"));
        }
        Ok(value) => {
            tagged.insert("value".to_string(), value);
        }
        Err(_) => {
            tagged.insert("line".to_string(), line.into());
        }
    }
    Value::Object(tagged)
}

/// A child's exit code; 128 + the signal when a signal ended it.
fn code(status: ExitStatus) -> u8 {
    if let Some(code) = status.code() {
        return u8::try_from(code).unwrap_or(exit::API_ERROR);
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return u8::try_from(128 + signal).unwrap_or(exit::API_ERROR);
        }
    }
    exit::API_ERROR
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lines_are_tagged_with_their_profile_first() {
        let line = tagged("acme", r#"{"id":"1","profile":"x"}"#);
        assert_eq!(line, json!({"profile": "acme", "id": "1"}));
        assert_eq!(
            serde_json::to_string(&line).unwrap(),
            r#"{"profile":"acme","id":"1"}"#
        );
        assert_eq!(
            tagged("acme", "[1,2]"),
            json!({"profile": "acme", "value": [1, 2]})
        );
        assert_eq!(
            tagged("acme", "not json"),
            json!({"profile": "acme", "line": "not json"})
        );
    }

    #[test]
    fn only_the_flag_is_left_out() {
        let given = ["agents", "--all-profiles", "list", "--", "--all-profiles"]
            .map(OsString::from)
            .into_iter();
        assert_eq!(
            passed_on(given),
            ["agents", "list", "--", "--all-profiles"].map(OsString::from)
        );
    }
}
