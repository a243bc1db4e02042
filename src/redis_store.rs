//! The Redis quota store (feature `redis`): one atomic Lua script per
//! reservation keeps every process's requests within one allowance.
//!
//! The script is a generic cell rate algorithm on Redis' own clock (`TIME`,
//! in microseconds), so hosts with skewed clocks still agree. Each key holds
//! one number, the time the allowance's spacing has reached, and expires
//! once that time has passed (plus a second): idle allowances leave nothing
//! behind. A key names the console, the token's fingerprint (a truncated
//! SHA-256; never the token) and the quota, e.g.
//! `s1:quota:https://usea1.sentinelone.net:t=3f2a…:prefix /web/api/v2.1/agents`.
//!
//! Redis is never allowed to stall a call: every command has a short
//! timeout (250 ms by default). When Redis cannot be reached the store says
//! so once (a `tracing` warning) and, as configured, counts in this
//! process's limiter until Redis answers again, or fails the call.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio::time::Instant;

use crate::Error;
use crate::quota::{Key, Limiter, Rule};

/// What a call does when Redis cannot be reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WhenUnreachable {
    /// Count in this process's limiter until Redis is back (the default):
    /// the process keeps within the quota on its own, not with the others.
    #[default]
    FallBack,
    /// Fail the call with [`Error::InvalidInput`] naming the store; nothing
    /// is sent.
    Fail,
}

/// Default time allowed for one Redis command.
pub const DEFAULT_REDIS_TIMEOUT: Duration = Duration::from_millis(250);

/// How long after a failure the store uses the fallback without trying
/// Redis again.
pub const RETRY_REDIS_AFTER: Duration = Duration::from_secs(1);

/// Default prefix of every key the store writes.
pub const DEFAULT_KEY_PREFIX: &str = "s1:quota";

/// The generic cell rate algorithm, atomically, on Redis' clock.
///
/// KEYS[1]: the allowance. ARGV: the spacing (µs), how far a burst may run
/// ahead of it (µs), and a 429's block (µs from now; 0 to reserve a slot).
/// Reserving returns the wait (µs) before the slot; blocking returns 0.
const GCRA: &str = r"
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local block = tonumber(ARGV[3])
local spent = tonumber(redis.call('GET', KEYS[1]) or '0')
if spent < now then spent = now end
local wait = 0
if block > 0 then
  local closed = now + block + tolerance
  if closed > spent then spent = closed end
else
  local slot = spent - tolerance
  if slot > now then wait = slot - now end
  spent = spent + interval
end
local ttl = math.ceil((spent - now) / 1000) + 1000
redis.call('SET', KEYS[1], string.format('%.0f', spent), 'PX', ttl)
return wait
";

/// A quota store in Redis, shared by every process that uses the same
/// server. Build it with [`RedisQuotaStore::new`], hand it to
/// [`crate::ClientBuilder::quota_store`].
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use sentinelone::quota_store::{QuotaStore, RedisQuotaStore, WhenUnreachable};
///
/// let redis = RedisQuotaStore::new("redis://127.0.0.1:6379/0")?
///     .when_unreachable(WhenUnreachable::FallBack)
///     .timeout(Duration::from_millis(200));
/// let builder = sentinelone::Client::builder()
///     .quota_store(QuotaStore::Redis(Arc::new(redis)));
/// # drop(builder);
/// # Ok::<(), sentinelone::Error>(())
/// ```
pub struct RedisQuotaStore {
    /// The server, without credentials, for messages.
    shown: String,
    client: redis::Client,
    /// Made on first use (it needs the runtime); dropped when a command
    /// fails, so the next attempt connects afresh.
    connection: Mutex<Option<ConnectionManager>>,
    script: redis::Script,
    prefix: String,
    timeout: Duration,
    when_unreachable: WhenUnreachable,
    fallback: Arc<Limiter>,
    /// Since when Redis has failed (the outage already reported), if it has.
    down_since: Mutex<Option<std::time::Instant>>,
}

impl std::fmt::Debug for RedisQuotaStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisQuotaStore")
            .field("server", &self.shown)
            .field("prefix", &self.prefix)
            .field("when_unreachable", &self.when_unreachable)
            .finish_non_exhaustive()
    }
}

/// `redis://user:secret@host:6379/0` -> `redis://host:6379/0`.
fn without_credentials(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) => {
            let _ = parsed.set_username("");
            let _ = parsed.set_password(None);
            parsed.to_string()
        }
        Err(_) => "the Redis URL".to_string(),
    }
}

impl RedisQuotaStore {
    /// A store on the Redis server at `url` (`redis://[:password@]host[:port][/db]`,
    /// or `redis+unix:///path`). Nothing is connected yet: the first call
    /// connects, and a server that is down only matters then.
    pub fn new(url: &str) -> Result<Self, Error> {
        let shown = without_credentials(url.trim());
        let client = redis::Client::open(url.trim())
            .map_err(|e| Error::invalid(format!("Redis URL {shown}: {}", e.category())))?;
        Ok(RedisQuotaStore {
            shown,
            client,
            connection: Mutex::new(None),
            script: redis::Script::new(GCRA),
            prefix: DEFAULT_KEY_PREFIX.to_string(),
            timeout: DEFAULT_REDIS_TIMEOUT,
            when_unreachable: WhenUnreachable::default(),
            fallback: Limiter::global(),
            down_since: Mutex::new(None),
        })
    }

    /// What a call does when Redis cannot be reached (fall back by default).
    pub fn when_unreachable(mut self, what: WhenUnreachable) -> Self {
        self.when_unreachable = what;
        self
    }

    /// The most one Redis command may take (250 ms by default) before the
    /// store treats Redis as unreachable.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The limiter used while Redis is unreachable ([`Limiter::global`] by
    /// default).
    pub fn fallback_limiter(mut self, limiter: Arc<Limiter>) -> Self {
        self.fallback = limiter;
        self
    }

    /// The prefix of every key (`s1:quota` by default), to keep apart
    /// several groups of processes on one Redis server.
    pub fn key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// The limiter used while Redis is unreachable.
    pub(crate) fn fallback(&self) -> &Arc<Limiter> {
        &self.fallback
    }

    /// The Redis key of an allowance.
    pub(crate) fn key_name(&self, key: &Key) -> String {
        let who = match key.token {
            Some(fingerprint) => format!("t={fingerprint:016x}"),
            None => "ip".to_string(),
        };
        format!("{}:{}:{who}:{}", self.prefix, key.console, key.bucket)
    }

    /// Reserves the next slot of `key`: when the request may go.
    pub(crate) async fn reserve(&self, key: &Key, rule: &Rule) -> Result<Instant, Error> {
        match self.run(key, rule, Duration::ZERO).await {
            Some(Ok(wait)) => Ok(Instant::now() + wait),
            Some(Err(e)) => self
                .unreachable(e)
                .map(|()| self.fallback.reserve(key, rule)),
            None => Ok(self.fallback.reserve(key, rule)),
        }
    }

    /// Keeps `key` closed for `wait` from now, for every process.
    pub(crate) async fn block(&self, key: &Key, rule: &Rule, wait: Duration) -> Result<(), Error> {
        // The fallback learns of it too: it may be needed before Redis
        // answers again.
        let until = crate::limits::later(Instant::now(), wait);
        self.fallback.block_until(key, rule, until);
        match self
            .run(key, rule, wait.max(Duration::from_micros(1)))
            .await
        {
            Some(Ok(_)) | None => Ok(()),
            Some(Err(e)) => self.unreachable(e),
        }
    }

    /// Runs the script unless Redis failed within [`RETRY_REDIS_AFTER`]
    /// (`None`: use the fallback without trying).
    async fn run(
        &self,
        key: &Key,
        rule: &Rule,
        block: Duration,
    ) -> Option<Result<Duration, String>> {
        if let Some(since) = *self.down_since.lock().expect("redis store lock")
            && since.elapsed() < RETRY_REDIS_AFTER
        {
            return (self.when_unreachable == WhenUnreachable::Fail)
                .then(|| Err("it failed less than a second ago".to_string()));
        }
        let mut connection = match self.connection() {
            Ok(connection) => connection,
            Err(reason) => {
                self.note(false, Some(&reason));
                return Some(Err(reason));
            }
        };
        let mut invocation = self.script.key(self.key_name(key));
        invocation
            .arg(micros(rule.interval()))
            .arg(micros(rule.tolerance()))
            .arg(micros(block));
        let outcome = tokio::time::timeout(
            self.timeout,
            invocation.invoke_async::<u64>(&mut connection),
        )
        .await;
        let result = match outcome {
            Ok(Ok(wait)) => Ok(Duration::from_micros(wait)),
            Ok(Err(e)) => Err(e.category().to_string()),
            Err(_) => Err(format!("no answer within {} ms", self.timeout.as_millis())),
        };
        self.note(result.is_ok(), result.as_ref().err());
        Some(result)
    }

    /// The connection manager, made when there is none (it connects on its
    /// first command).
    fn connection(&self) -> Result<ConnectionManager, String> {
        let mut slot = self.connection.lock().expect("redis store lock");
        if let Some(connection) = slot.as_ref() {
            return Ok(connection.clone());
        }
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(self.timeout))
            .set_response_timeout(Some(self.timeout))
            .set_number_of_retries(0);
        let connection = ConnectionManager::new_lazy_with_config(self.client.clone(), config)
            .map_err(|e| e.category().to_string())?;
        *slot = Some(connection.clone());
        Ok(connection)
    }

    /// Records whether Redis answered; reports an outage once, and its end.
    fn note(&self, answered: bool, failure: Option<&String>) {
        let mut down = self.down_since.lock().expect("redis store lock");
        match (answered, down.is_some()) {
            (true, true) => {
                *down = None;
                tracing::info!(
                    target: "sentinelone::quota",
                    server = %self.shown,
                    "the Redis quota store answers again; quotas are shared again"
                );
            }
            (false, false) => {
                *down = Some(std::time::Instant::now());
                let what = match self.when_unreachable {
                    WhenUnreachable::FallBack => {
                        "counting quotas in this process until it answers again"
                    }
                    WhenUnreachable::Fail => "calls fail until it answers again",
                };
                tracing::warn!(
                    target: "sentinelone::quota",
                    server = %self.shown,
                    reason = failure.map(String::as_str).unwrap_or("unknown"),
                    "the Redis quota store cannot be reached; {what}"
                );
            }
            (false, true) => *down = Some(std::time::Instant::now()),
            (true, false) => {}
        }
        if !answered {
            *self.connection.lock().expect("redis store lock") = None;
        }
    }

    /// The outcome of a failed Redis command, as configured.
    fn unreachable(&self, reason: String) -> Result<(), Error> {
        match self.when_unreachable {
            WhenUnreachable::FallBack => Ok(()),
            WhenUnreachable::Fail => Err(Error::invalid(format!(
                "the Redis quota store at {} cannot be reached ({reason}); nothing was sent",
                self.shown
            ))),
        }
    }
}

/// A duration in whole microseconds (at least 0), for the script.
fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_never_show() {
        assert_eq!(
            without_credentials("redis://user:hunter2@cache.internal:6380/2"),
            "redis://cache.internal:6380/2"
        );
        assert_eq!(without_credentials("not a url"), "the Redis URL");
        let err =
            RedisQuotaStore::new("http://:hunter2@cache.internal").expect_err("not a Redis scheme");
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }
}
