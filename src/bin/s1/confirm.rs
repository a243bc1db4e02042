//! The question asked before a command that changes endpoints or the
//! console: shown only when a person can answer it (stdin and stderr are
//! terminals), skipped with `--yes`. When nobody can answer, the command
//! goes on exactly as it would without the prompt.

use std::io::{self, BufRead, IsTerminal, Write};

use crate::exit::Failure;
use crate::output::printable;

/// Whether to ask before acting.
#[derive(Debug, Clone, Copy)]
pub struct Confirm {
    /// Ask: `--yes` was not given and a person is at a terminal.
    ask: bool,
}

impl Confirm {
    /// Asks unless `yes`, and only when [`interactive`].
    pub fn new(yes: bool) -> Confirm {
        Confirm {
            ask: !yes && interactive(),
        }
    }

    /// Whether [`Confirm::proceed`] will ask.
    pub fn asks(self) -> bool {
        self.ask
    }

    /// Shows `summary` (what is about to happen) on stderr and asks
    /// `Proceed? [y/N]`; [`Failure::Declined`] unless the answer is y or
    /// yes. Does nothing when it does not ask. The answer is read on a
    /// thread of its own, so that Ctrl-C still stops `s1` while it waits.
    pub async fn proceed(self, summary: &str) -> Result<(), Failure> {
        if !self.ask {
            return Ok(());
        }
        let summary = summary.to_string();
        let (tx, rx) = tokio::sync::oneshot::channel();
        std::thread::spawn(move || {
            let answer = ask(&summary, &mut io::stdin().lock(), &mut io::stderr());
            let _ = tx.send(answer);
        });
        match rx.await {
            Ok(Ok(true)) => Ok(()),
            Ok(Ok(false)) => Err(Failure::Declined),
            Ok(Err(e)) => Err(Failure::usage(format!("cannot read the answer: {e}"))),
            Err(_) => Err(Failure::Declined),
        }
    }
}

/// Whether a person can answer a prompt: stdin and stderr are terminals.
pub fn interactive() -> bool {
    io::stdin().is_terminal() && io::stderr().is_terminal()
}

/// Writes `summary` (escaped line by line) and `Proceed? [y/N] ` to
/// `out`, reads one line from `input`: true for `y` or `yes` in any case,
/// false for anything else, an empty line and the end of input included.
pub fn ask(summary: &str, input: &mut impl BufRead, out: &mut impl Write) -> io::Result<bool> {
    for line in summary.lines() {
        writeln!(out, "{}", printable(line))?;
    }
    write!(out, "Proceed? [y/N] ")?;
    out.flush()?;
    let mut answer = String::new();
    let read = input.read_line(&mut answer)?;
    if read == 0 {
        // End of input: the line the prompt left open is closed.
        writeln!(out)?;
    }
    Ok(matches!(
        answer.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(typed: &str) -> (bool, String) {
        let mut out = Vec::new();
        let yes = ask(
            "kill 2 threat(s)\non pc\u{1b}[1m",
            &mut typed.as_bytes(),
            &mut out,
        )
        .unwrap();
        (yes, String::from_utf8(out).unwrap())
    }

    #[test]
    fn only_y_or_yes_proceeds() {
        for typed in ["y\n", "Y\n", "yes\n", " YES \n", "y"] {
            assert!(answer(typed).0, "{typed:?}");
        }
        for typed in ["n\n", "\n", "no\n", "yep\n", "ja\n", "", "y es\n"] {
            assert!(!answer(typed).0, "{typed:?}");
        }
    }

    #[test]
    fn the_prompt_shows_the_summary_escaped() {
        assert_eq!(
            answer("n\n").1,
            "kill 2 threat(s)\non pc\\u{1b}[1m\nProceed? [y/N] "
        );
        assert_eq!(
            answer("").1,
            "kill 2 threat(s)\non pc\\u{1b}[1m\nProceed? [y/N] \n"
        );
    }

    #[tokio::test]
    async fn without_a_person_nothing_is_asked() {
        let yes = Confirm::new(true);
        assert!(!yes.asks());
        assert!(yes.proceed("anything").await.is_ok());
    }
}
