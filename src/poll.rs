//! Bounded waiting for work the console does in the background (a query
//! running, a file being uploaded, a script task finishing): checks spaced
//! with exponential backoff, and an overall time limit.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

use crate::Error;

/// How a composite command waits for the console: the pause before the
/// second check, how fast pauses grow, their cap, and the overall limit.
///
/// ```
/// use std::time::Duration;
/// use sentinelone::Polling;
///
/// let polling = Polling::default().timeout(Duration::from_secs(300));
/// assert_eq!(polling.timeout, Duration::from_secs(300));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Polling {
    /// Pause after the first check.
    pub first: Duration,
    /// Each pause is the previous one times this (at least 1).
    pub growth: f64,
    /// Longest pause between two checks.
    pub max: Duration,
    /// Give up once this much time has passed since the start.
    pub timeout: Duration,
}

impl Default for Polling {
    /// 2 s, doubling up to 30 s, for at most 10 minutes.
    fn default() -> Self {
        Polling {
            first: Duration::from_secs(2),
            growth: 2.0,
            max: Duration::from_secs(30),
            timeout: Duration::from_secs(600),
        }
    }
}

impl Polling {
    /// Polling with a fixed pause between checks.
    pub fn every(pause: Duration, timeout: Duration) -> Self {
        Polling {
            first: pause,
            growth: 1.0,
            max: pause,
            timeout,
        }
    }

    /// The same polling with another overall limit.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
}

/// One wait in progress.
#[derive(Debug)]
pub(crate) struct Poll {
    polling: Polling,
    started: Instant,
    next: Duration,
}

impl Poll {
    /// Starts the clock.
    pub(crate) fn start(polling: Polling) -> Self {
        Poll {
            polling,
            started: Instant::now(),
            next: polling.first,
        }
    }

    /// Time since the start.
    pub(crate) fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// When the limit passes.
    pub(crate) fn deadline(&self) -> Instant {
        crate::limits::later(self.started, self.polling.timeout)
    }

    /// The error for giving up on `waiting_for`.
    pub(crate) fn timed_out(&self, waiting_for: impl Into<String>) -> Error {
        Error::WaitTimeout {
            waiting_for: waiting_for.into(),
            after: self.elapsed(),
        }
    }

    /// Runs one check (`work`) within the limit: when the limit passes
    /// first, the check is dropped and [`Error::WaitTimeout`] returned.
    pub(crate) async fn within<T>(
        &self,
        waiting_for: impl FnOnce() -> String,
        work: impl Future<Output = Result<T, Error>>,
    ) -> Result<T, Error> {
        match tokio::time::timeout_at(self.deadline(), work).await {
            Ok(done) => done,
            Err(_) => Err(self.timed_out(waiting_for())),
        }
    }

    /// Sleeps until the next check (never past the limit). Fails with
    /// [`Error::WaitTimeout`] once the limit has passed.
    pub(crate) async fn pause(
        &mut self,
        waiting_for: impl FnOnce() -> String,
    ) -> Result<(), Error> {
        let elapsed = self.elapsed();
        if elapsed >= self.polling.timeout {
            return Err(self.timed_out(waiting_for()));
        }
        let pause = self.next.min(self.polling.timeout - elapsed);
        tokio::time::sleep(pause).await;
        let grown = self.next.mul_f64(self.polling.growth.max(1.0));
        self.next = grown.min(self.polling.max.max(self.polling.first));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn pauses_grow_to_the_cap_and_stop_at_the_limit() {
        let polling = Polling {
            first: Duration::from_secs(1),
            growth: 2.0,
            max: Duration::from_secs(5),
            timeout: Duration::from_secs(20),
        };
        let mut poll = Poll::start(polling);
        let mut at = Vec::new();
        loop {
            match poll.pause(|| "the thing".to_string()).await {
                Ok(()) => at.push(poll.elapsed().as_secs()),
                Err(Error::WaitTimeout { waiting_for, after }) => {
                    assert_eq!(waiting_for, "the thing");
                    assert_eq!(after, Duration::from_secs(20));
                    break;
                }
                Err(other) => panic!("{other:?}"),
            }
        }
        // 1, 2, 4, 5, 5, then the remainder up to the limit.
        assert_eq!(at, vec![1, 3, 7, 12, 17, 20]);
    }

    #[tokio::test(start_paused = true)]
    async fn fixed_pauses() {
        let mut poll = Poll::start(Polling::every(
            Duration::from_millis(10),
            Duration::from_millis(25),
        ));
        poll.pause(String::new).await.unwrap();
        poll.pause(String::new).await.unwrap();
        assert_eq!(poll.elapsed(), Duration::from_millis(20));
        poll.pause(String::new).await.unwrap();
        assert_eq!(poll.elapsed(), Duration::from_millis(25));
        assert!(poll.pause(String::new).await.is_err());
    }
}
