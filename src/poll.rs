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
    /// The longest pause or overall limit a polling may have: 30 days.
    pub const MAX_WAIT: Duration = Duration::from_secs(30 * 86_400);

    /// The largest growth factor of a polling's pauses.
    pub const MAX_GROWTH: f64 = 100.0;

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

    /// The polling, when every field is in range: pauses and limit above
    /// zero and at most [`Polling::MAX_WAIT`], growth a number from 1 to
    /// [`Polling::MAX_GROWTH`]. Every composite that waits checks its polling this
    /// way before it sends anything; the error names the field.
    ///
    /// ```
    /// use std::time::Duration;
    /// use sentinelone::{Error, Polling};
    ///
    /// assert!(Polling::default().check().is_ok());
    /// let too_long = Polling::default().timeout(Duration::MAX);
    /// assert!(matches!(too_long.check(), Err(Error::InvalidInput { .. })));
    /// ```
    pub fn check(self) -> Result<Polling, Error> {
        for (name, value) in [
            ("polling.first", self.first),
            ("polling.max", self.max),
            ("polling.timeout", self.timeout),
        ] {
            if value.is_zero() || value > Self::MAX_WAIT {
                return Err(Error::invalid(format!(
                    "{name} {value:?} is out of range: above 0 and at most {} days",
                    Self::MAX_WAIT.as_secs() / 86_400
                )));
            }
        }
        if !(1.0..=Self::MAX_GROWTH).contains(&self.growth) {
            return Err(Error::invalid(format!(
                "polling.growth {} is out of range: 1 to {}",
                self.growth,
                Self::MAX_GROWTH
            )));
        }
        Ok(self)
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
    /// Starts the clock, once `polling` is checked (see [`Polling::check`]).
    pub(crate) fn start(polling: Polling) -> Result<Self, Error> {
        let polling = polling.check()?;
        Ok(Poll {
            polling,
            started: Instant::now(),
            next: polling.first,
        })
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
        let grown = self.next.mul_f64(self.polling.growth);
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
        let mut poll = Poll::start(polling).unwrap();
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
        ))
        .unwrap();
        poll.pause(String::new).await.unwrap();
        poll.pause(String::new).await.unwrap();
        assert_eq!(poll.elapsed(), Duration::from_millis(20));
        poll.pause(String::new).await.unwrap();
        assert_eq!(poll.elapsed(), Duration::from_millis(25));
        assert!(poll.pause(String::new).await.is_err());
    }
}
