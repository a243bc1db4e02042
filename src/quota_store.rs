//! Where the limiter's state lives: this process ([`Limiter`], the
//! default) or Redis ([`RedisQuotaStore`], feature `redis`), so that every
//! worker, cron job and host on one API token shares one allowance and one
//! 429 block.
//!
//! The state is small: per allowance (console, token fingerprint, quota),
//! the time its spacing has reached, and how long a 429's `Retry-After`
//! keeps it closed. The transport asks the store for a slot before every
//! attempt ([`QuotaStore::reserve`]) and tells it about a 429
//! ([`QuotaStore::block`]).

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use crate::Error;
use crate::quota::{Key, Limiter, Rule};

#[cfg(feature = "redis")]
pub use crate::redis_store::{RedisQuotaStore, WhenUnreachable};

/// Where request slots are counted. Give one to
/// [`crate::ClientBuilder::quota_store`].
///
/// ```
/// use sentinelone::quota::Limiter;
/// use sentinelone::quota_store::QuotaStore;
///
/// // Two clients that share this limiter (and only it) count together.
/// let store = QuotaStore::InProcess(Limiter::new());
/// let builder = sentinelone::Client::builder().quota_store(store);
/// # drop(builder);
/// ```
#[derive(Debug, Clone)]
pub enum QuotaStore {
    /// In this process: every client given the same [`Limiter`] shares its
    /// allowances ([`Limiter::global`] by default).
    InProcess(Arc<Limiter>),
    /// In Redis: every process and host using the same Redis server, console
    /// and token shares one allowance (feature `redis`).
    #[cfg(feature = "redis")]
    #[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
    Redis(Arc<RedisQuotaStore>),
}

impl Default for QuotaStore {
    fn default() -> Self {
        QuotaStore::InProcess(Limiter::global())
    }
}

impl QuotaStore {
    /// A Redis store at `url` (falling back to this process's limiter when
    /// Redis cannot be reached). Without the `redis` feature this is an
    /// error saying so.
    ///
    /// ```
    /// use sentinelone::quota_store::QuotaStore;
    ///
    /// let store = QuotaStore::from_redis_url("redis://127.0.0.1:6379/0");
    /// assert_eq!(store.is_ok(), cfg!(feature = "redis"));
    /// ```
    pub fn from_redis_url(url: &str) -> Result<QuotaStore, Error> {
        #[cfg(feature = "redis")]
        return Ok(QuotaStore::Redis(Arc::new(RedisQuotaStore::new(url)?)));
        #[cfg(not(feature = "redis"))]
        {
            let _ = url;
            Err(Error::invalid(
                "a Redis URL was given, but this build has no `redis` feature",
            ))
        }
    }

    /// Reserves the next slot of `key` under `rule`: when the request may go.
    pub(crate) async fn reserve(&self, key: &Key, rule: &Rule) -> Result<Instant, Error> {
        match self {
            QuotaStore::InProcess(limiter) => Ok(limiter.reserve(key, rule)),
            #[cfg(feature = "redis")]
            QuotaStore::Redis(store) => store.reserve(key, rule).await,
        }
    }

    /// Keeps `key` closed for `wait` from now (a 429's Retry-After).
    pub(crate) async fn block(&self, key: &Key, rule: &Rule, wait: Duration) -> Result<(), Error> {
        match self {
            QuotaStore::InProcess(limiter) => {
                limiter.block_until(key, rule, crate::limits::later(Instant::now(), wait));
                Ok(())
            }
            #[cfg(feature = "redis")]
            QuotaStore::Redis(store) => store.block(key, rule, wait).await,
        }
    }

    /// The in-process limiter of this store: the store itself, or the one a
    /// Redis store falls back to. It also keeps the places of running Long
    /// Running Queries, which stay per process.
    pub(crate) fn local(&self) -> &Arc<Limiter> {
        match self {
            QuotaStore::InProcess(limiter) => limiter,
            #[cfg(feature = "redis")]
            QuotaStore::Redis(store) => store.fallback(),
        }
    }
}
