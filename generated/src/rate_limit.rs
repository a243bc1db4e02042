//! The shape of the quota table codegen writes into `rate_limits.rs` from
//! the spec's `x-rate-limit` extensions.

/// Who a rate limit is counted against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Counted {
    /// Each API token has its own allowance.
    Token,
    /// Every caller from one client address shares the allowance.
    Client,
}

/// One published rate limit: a path or a path prefix, its rate and burst.
///
/// ```
/// use sentinelone_generated::{Counted, RATE_LIMITS};
///
/// let login = RATE_LIMITS
///     .iter()
///     .find(|r| r.path == "/web/api/v2.1/users/login")
///     .unwrap();
/// assert_eq!((login.per_second, login.burst, login.counted), (1.0, 1, Counted::Client));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    /// The HTTP method it covers; `*` for every method (they then share
    /// one allowance).
    pub method: &'static str,
    /// The full path it covers (`/web/api/v2.1/threats`); `{name}` segments
    /// match any value.
    pub path: &'static str,
    /// Every request at or below `path` shares one allowance; otherwise
    /// only requests of exactly `path` are covered.
    pub prefix: bool,
    /// Requests a second, on average.
    pub per_second: f64,
    /// Requests that may go at once before the rate applies.
    pub burst: u32,
    /// Who it is counted against.
    pub counted: Counted,
    /// A short name for waits and logs (`threats`, `dv/init-query`).
    pub label: &'static str,
}
