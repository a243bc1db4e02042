//! Exit codes, and the one-line error report on stderr.

use std::process::ExitCode;

use sentinelone::Error;

use crate::output::printable;

/// The command did what it was asked.
pub const SUCCESS: u8 = 0;
/// The console answered with an error (HTTP 4xx/5xx, or still 429 after
/// the retries allowed).
pub const API_ERROR: u8 = 1;
/// The command line or an input was wrong; nothing was sent.
pub const USAGE: u8 = 2;
/// The console's answer could not be decoded, or was larger than the
/// client reads.
pub const DECODE: u8 = 3;
/// A request or a wait ran out of time.
pub const TIMEOUT: u8 = 4;
/// The console could not be reached, or a local file could not be read or
/// written (an archive that would not open included).
pub const TRANSPORT: u8 = 5;
/// A job the console ran ended without a result (a Deep Visibility query
/// FAILED, a fetch the console refused, a Long Running Query the console
/// no longer knows).
pub const JOB_FAILED: u8 = 6;
/// The person at the terminal did not confirm a command that changes
/// endpoints or the console; nothing was sent.
pub const DECLINED: u8 = 7;

/// Interrupted by SIGINT (Ctrl-C): 128 + 2, as shells report it.
pub const INTERRUPTED: u8 = 130;
/// Stopped by SIGTERM: 128 + 15.
pub const TERMINATED: u8 = 143;

/// A signal that stopped a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// SIGINT (Ctrl-C).
    Interrupt,
    /// SIGTERM.
    Terminate,
}

/// The exit codes, for `s1 --help`.
pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0  success
  1  the console answered an error (HTTP error status, still rate limited)
  2  usage error: bad arguments or input, nothing sent
  3  the console's answer could not be decoded (or was too large)
  4  timeout: a request or a wait ran out of time
  5  connection, transport or local file error
  6  a console job failed (e.g. a Deep Visibility query ended FAILED, a
     Long Running Query expired or was dropped by the console)
  7  not confirmed at the prompt: nothing was sent (--yes skips the
     prompt; there is none when stdin or stderr is not a terminal)
  130  interrupted by SIGINT (Ctrl-C); 143: stopped by SIGTERM. What the
       command started on the console is cancelled, its partial files removed
With --all-profiles: 0 when every profile succeeded, else the code of the
first profile (by name) that failed";

/// Why a command failed.
#[derive(Debug)]
pub enum Failure {
    /// An error of the library.
    Library(Error),
    /// Input `s1` itself refused before sending anything.
    Usage(String),
    /// Some steps of a walk-through failed; each was reported already.
    Steps {
        /// How many failed.
        failed: usize,
        /// The exit code of the first failure.
        code: u8,
    },
    /// Some profiles of `--all-profiles` failed; each was reported already.
    Profiles {
        /// How many failed.
        failed: usize,
        /// How many ran.
        of: usize,
        /// The exit code of the first profile that failed, in name order.
        code: u8,
    },
    /// A signal stopped the command; its clean-up has run.
    Interrupted(Signal),
    /// The prompt before a change was not answered yes; nothing was sent.
    Declined,
}

impl Failure {
    /// A usage error.
    pub fn usage(message: impl Into<String>) -> Self {
        Failure::Usage(message.into())
    }

    /// The exit code.
    pub fn code(&self) -> u8 {
        match self {
            Failure::Library(error) => code_of(error),
            Failure::Usage(_) => USAGE,
            Failure::Steps { code, .. } | Failure::Profiles { code, .. } => *code,
            Failure::Interrupted(Signal::Interrupt) => INTERRUPTED,
            Failure::Interrupted(Signal::Terminate) => TERMINATED,
            Failure::Declined => DECLINED,
        }
    }

    /// The exit code, for `main`.
    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(self.code())
    }

    /// Prints the failure as one line on stderr, control characters
    /// escaped (console text reaches error messages).
    pub fn report(&self) {
        eprintln!("s1: {}", printable(&one_line(&self.to_string())));
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Library(error) => error.fmt(f),
            Failure::Usage(message) => f.write_str(message),
            Failure::Steps { failed, .. } => write!(f, "{failed} step(s) failed"),
            Failure::Profiles { failed, of, .. } => {
                write!(f, "{failed} of {of} profile(s) failed")
            }
            Failure::Interrupted(Signal::Interrupt) => f.write_str("interrupted (SIGINT)"),
            Failure::Interrupted(Signal::Terminate) => f.write_str("stopped (SIGTERM)"),
            Failure::Declined => f.write_str("not confirmed; nothing was sent"),
        }
    }
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        Failure::Library(error)
    }
}

/// The exit code of a library error.
pub fn code_of(error: &Error) -> u8 {
    match error {
        Error::Api { .. } | Error::RateLimited { .. } => API_ERROR,
        Error::InvalidInput { .. } => USAGE,
        Error::Decode { .. }
        | Error::Undecoded { .. }
        | Error::ResponseTooLarge { .. }
        | Error::SliceCapped { .. } => DECODE,
        Error::Timeout { .. } | Error::WaitTimeout { .. } => TIMEOUT,
        Error::Transport { .. } | Error::Io { .. } | Error::Archive { .. } => TRANSPORT,
        Error::JobFailed { .. } | Error::QueryExpired { .. } => JOB_FAILED,
        // A kind added later: the console said no, in the widest sense.
        _ => API_ERROR,
    }
}

/// `text` with line breaks folded, so an error stays on one line.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn codes_by_kind() {
        let api = Error::Api {
            status: 404,
            operation: "x".into(),
            errors: Vec::new(),
        };
        assert_eq!(code_of(&api), API_ERROR);
        assert_eq!(code_of(&Error::invalid("bad")), USAGE);
        let wait = Error::WaitTimeout {
            waiting_for: "q".into(),
            after: Duration::from_secs(1),
        };
        assert_eq!(code_of(&wait), TIMEOUT);
        let job = Error::JobFailed {
            job: "q".into(),
            state: "FAILED".into(),
            detail: None,
        };
        assert_eq!(code_of(&job), JOB_FAILED);
        let expired = Error::QueryExpired {
            query_id: "q".into(),
        };
        assert_eq!(code_of(&expired), JOB_FAILED);
        let large = Error::ResponseTooLarge {
            operation: "x".into(),
            limit: 1,
        };
        assert_eq!(code_of(&large), DECODE);
        assert_eq!(Failure::usage("x").code(), USAGE);
        assert_eq!(Failure::Declined.code(), DECLINED);
        assert_eq!(SUCCESS, 0);
    }

    #[test]
    fn reports_fit_on_one_line() {
        assert_eq!(one_line("a\n  b\tc "), "a b c");
        assert_eq!(
            printable(&one_line("name \u{1b}]52;c;eA==\u{7}")),
            "name \\u{1b}]52;c;eA==\\u{7}"
        );
    }
}
