//! Per-endpoint quotas and the limiter that keeps every request within them.
//!
//! SentinelOne limits its endpoints per API token, a few per client IP,
//! most by path prefix (every operation below `/web/api/v2.1/agents` shares
//! 25 a second). The table is data: `[[rate_limits]]` in
//! `spec/curation.toml`, carried in the spec as `x-rate-limits` (and on
//! each operation as `x-rate-limit`, which its rustdoc states), generated
//! into [`sentinelone_generated::RATE_LIMITS`] and read here
//! ([`Quota::published`]); this module keeps no list of its own. A request
//! falls under the most specific quota that covers it; one no quota covers
//! gets the default spacing ([`Quotas::with_default_period`]).
//!
//! The limiter ([`Limiter`]) lets a quota's burst go at once and spaces the
//! rest one period apart (a generic cell rate algorithm), plus a small
//! safety margin. It is shared by every clone of a client, every task, and
//! every client of the same console and token. It is hand-written rather
//! than `governor`'s keyed limiter: quotas differ per key, a request
//! reserves a future slot in order of asking (and may be told to wait past
//! the call deadline), and a 429 pushes a key's allowance out.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use sentinelone_generated::{Counted, RATE_LIMITS, RateLimit};
use tokio::time::Instant;

/// Who a quota is counted against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Each API token has its own allowance.
    Token,
    /// Every caller from one IP address shares the allowance: keyed by console.
    Console,
}

/// One limit: the requests it covers may go `burst` at once, then one per
/// `period`.
///
/// ```
/// use std::time::Duration;
/// use sentinelone::quota::{Quota, Scope};
///
/// // Every request below /web/api/v2.1/export: 1 a second, bursts of 30.
/// let export = Quota {
///     method: "*",
///     path: "/web/api/v2.1/export",
///     prefix: true,
///     scope: Scope::Token,
///     period: Duration::from_secs(1),
///     burst: 30,
///     label: "export",
/// };
/// assert!(Quota::published().contains(&export));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    /// HTTP method; `"*"` for every method (they then share one allowance).
    pub method: &'static str,
    /// Full path (`/web/api/v2.1/dv/init-query`, `/sdl/v2/api/queries`);
    /// `{param}` segments match any value.
    pub path: &'static str,
    /// Every request at or below `path` shares the allowance; otherwise
    /// only requests of exactly `path`.
    pub prefix: bool,
    /// Who the quota is counted against.
    pub scope: Scope,
    /// One request per this period, once the burst is spent.
    pub period: Duration,
    /// Requests that may go at once (at least 1).
    pub burst: u32,
    /// A short name for waits and logs (`dv/init-query`).
    pub label: &'static str,
}

impl Quota {
    /// The console's published limits, from the spec's `x-rate-limits`
    /// (generated as [`sentinelone_generated::RATE_LIMITS`]; the list is in
    /// `spec/curation.toml`). Every operation's rustdoc states the limit
    /// that covers it.
    pub fn published() -> Vec<Quota> {
        RATE_LIMITS.iter().map(Quota::from).collect()
    }

    /// How well this quota fits `method path`, when it covers it: a path
    /// rule before a prefix rule, then the longer path.
    fn fit(&self, method: &str, path: &str) -> Option<(bool, usize)> {
        if !(self.method == "*" || self.method.eq_ignore_ascii_case(method)) {
            return None;
        }
        let mut template = self.path.split('/');
        let mut actual = path.split('/');
        loop {
            match (template.next(), actual.next()) {
                (None, None) => return Some((!self.prefix, self.path.len())),
                (None, Some(_)) if self.prefix => return Some((false, self.path.len())),
                (Some(t), Some(a)) if (t.starts_with('{') && !a.is_empty()) || t == a => {}
                _ => return None,
            }
        }
    }
}

impl std::fmt::Display for Quota {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let per_second = 1.0 / self.period.as_secs_f64();
        let (rate, unit) = if per_second >= 1.0 {
            (per_second, "second")
        } else if per_second * 60.0 >= 1.0 {
            (per_second * 60.0, "minute")
        } else {
            (per_second * 3600.0, "hour")
        };
        // Three decimals at most, no trailing zeros.
        let rate = format!("{rate:.3}");
        let rate = rate.trim_end_matches('0').trim_end_matches('.');
        let who = match self.scope {
            Scope::Token => "per API token",
            Scope::Console => "per client address",
        };
        write!(f, "{rate} a {unit} {who}")?;
        if self.burst > 1 {
            write!(f, " (bursts of {})", self.burst)?;
        }
        match (self.prefix, self.method) {
            (true, _) => write!(f, ", shared by every request below {}", self.path),
            (false, "*") => write!(f, ", shared by every method of {}", self.path),
            (false, _) => Ok(()),
        }
    }
}

impl From<&RateLimit> for Quota {
    fn from(limit: &RateLimit) -> Self {
        Quota {
            method: limit.method,
            path: limit.path,
            prefix: limit.prefix,
            scope: match limit.counted {
                Counted::Token => Scope::Token,
                Counted::Client => Scope::Console,
            },
            period: Duration::from_secs_f64(1.0 / limit.per_second),
            burst: limit.burst.max(1),
            label: limit.label,
        }
    }
}

/// Most Long Running Queries the composites ([`crate::lrq`]) keep running
/// at once per console and token (others wait for a place before they
/// launch): with polls and deletes at two a second, each running query is
/// polled at least every 12 s or so, well within the 30 s after which the
/// console drops a query nobody polls.
pub const LRQ_MAX_RUNNING: usize = 20;

/// Spacing of requests to any endpoint without a documented limit: 10 per
/// second per endpoint and token, well under what consoles accept.
pub const DEFAULT_PERIOD: Duration = Duration::from_millis(100);

/// Extra spacing added to every period, so clock skew between us and the
/// console never lands a request just inside the previous window.
pub const SAFETY_MARGIN: f64 = 0.05;

/// The API path prefix quotas are written below.
pub use crate::API_PREFIX;

/// How a request path is named in waits and logs: below the API prefix,
/// without the leading slash (`agents`, `dv/init-query`).
pub(crate) fn endpoint_label(path: &str) -> String {
    path.strip_prefix(API_PREFIX)
        .unwrap_or(path)
        .trim_start_matches('/')
        .to_string()
}

/// The quotas a client applies: the documented table plus a default.
#[derive(Debug, Clone)]
pub struct Quotas {
    rules: Vec<Quota>,
    default_period: Option<Duration>,
}

impl Default for Quotas {
    fn default() -> Self {
        Quotas {
            rules: Quota::published(),
            default_period: Some(DEFAULT_PERIOD),
        }
    }
}

impl Quotas {
    /// No quotas at all: no documented limits, no default spacing (429
    /// handling still applies). For local stand-ins of the console, such
    /// as tests; a real console needs the documented limits.
    pub fn none() -> Self {
        Quotas {
            rules: Vec::new(),
            default_period: None,
        }
    }

    /// Sets the spacing for endpoints without a documented limit; `None`
    /// leaves them unlimited (429 handling still applies).
    pub fn with_default_period(mut self, period: Option<Duration>) -> Self {
        self.default_period = period;
        self
    }

    /// Adds or replaces the rule for one path (or prefix) and method.
    pub fn with_rule(mut self, rule: Quota) -> Self {
        self.rules.retain(|r| {
            !(r.method == rule.method && r.path == rule.path && r.prefix == rule.prefix)
        });
        self.rules.push(rule);
        self
    }

    /// The most specific quota that covers `method path` (a full path,
    /// `/web/api/v2.1/agents`), if any does; requests no quota covers get
    /// the default spacing.
    ///
    /// ```
    /// use sentinelone::quota::Quotas;
    ///
    /// let quotas = Quotas::default();
    /// let kill = quotas.quota_for("POST", "/web/api/v2.1/threats/mitigate/kill").unwrap();
    /// assert_eq!(kill.burst, 1000);
    /// assert_eq!(
    ///     kill.to_string(),
    ///     "100 a second per API token (bursts of 1000), shared by every request below /web/api/v2.1/threats"
    /// );
    /// ```
    pub fn quota_for(&self, method: &str, path: &str) -> Option<&Quota> {
        self.rules
            .iter()
            .filter_map(|q| q.fit(method, path).map(|fit| (fit, q)))
            .max_by_key(|(fit, _)| *fit)
            .map(|(_, q)| q)
    }

    /// The rule for a request: the most specific published quota that
    /// covers it, or the default one (labelled with the request path).
    ///
    /// `template` is the operation's path template when the request is a
    /// known operation: the default allowance is then one per operation
    /// (`/threats/111/notes` and `/threats/222/notes` share it), not one per
    /// concrete path.
    pub(crate) fn rule_for(
        &self,
        method: &str,
        path: &str,
        template: Option<&str>,
    ) -> Option<Rule> {
        if let Some(q) = self.quota_for(method, path) {
            let shared = if q.prefix { "prefix" } else { q.method };
            return Some(Rule {
                scope: q.scope,
                period: q.period,
                burst: q.burst,
                label: q.label.to_string(),
                bucket: format!("{shared} {}", q.path),
            });
        }
        let named = template.unwrap_or(path);
        let relative = named.strip_prefix(API_PREFIX).unwrap_or(named);
        self.default_period.map(|period| Rule {
            scope: Scope::Token,
            period,
            burst: 1,
            label: endpoint_label(named),
            bucket: format!("{} {}", method.to_ascii_uppercase(), relative),
        })
    }
}

/// The quota one request falls under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rule {
    /// Who it is counted against.
    pub(crate) scope: Scope,
    /// One request per this period, once the burst is spent.
    pub(crate) period: Duration,
    /// Requests that may go at once.
    pub(crate) burst: u32,
    /// Short name for waits and logs.
    pub(crate) label: String,
    /// What requests share the allowance (method and path template).
    pub(crate) bucket: String,
}

impl Rule {
    /// The spacing of requests once the burst is spent, margin included.
    pub(crate) fn interval(&self) -> Duration {
        self.period.mul_f64(1.0 + SAFETY_MARGIN)
    }

    /// How far ahead of the spacing a burst may run.
    pub(crate) fn tolerance(&self) -> Duration {
        self.interval() * self.burst.saturating_sub(1)
    }

    /// The generic cell rate algorithm, in one place: given when a key's
    /// allowance would be spent at the spacing (its theoretical arrival
    /// time, `None` for a fresh key), the earliest a request may go at or
    /// after `now`, and the key's time once it has gone. `margin` adds
    /// [`SAFETY_MARGIN`] to the spacing (the client's side; the simulated
    /// console counts the exact period).
    pub(crate) fn next_slot(
        &self,
        spent: Option<Instant>,
        now: Instant,
        margin: bool,
    ) -> (Instant, Instant) {
        let interval = if margin { self.interval() } else { self.period };
        let tolerance = interval * self.burst.saturating_sub(1);
        let spent = spent.unwrap_or(now).max(now);
        let slot = spent.checked_sub(tolerance).map_or(now, |s| s.max(now));
        (slot, spent + interval)
    }
}

/// What one allowance is keyed by.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Key {
    /// Console origin.
    pub(crate) console: String,
    /// Fingerprint of the token for [`Scope::Token`] rules; never the token.
    pub(crate) token: Option<u64>,
    /// Method and path template.
    pub(crate) bucket: String,
}

impl Key {
    /// The key of `rule` for a console and token fingerprint.
    pub(crate) fn new(rule: &Rule, console: &str, token_fingerprint: u64) -> Self {
        Key {
            console: console.to_string(),
            token: (rule.scope == Scope::Token).then_some(token_fingerprint),
            bucket: rule.bucket.clone(),
        }
    }
}

/// Hands out request slots: one per period per endpoint (per token, or per
/// console for the per-IP quotas), in order of asking. Share one between
/// clients with [`crate::ClientBuilder::limiter`]; by default every client
/// uses [`Limiter::global`].
#[derive(Debug, Default)]
pub struct Limiter {
    next_free: Mutex<HashMap<Key, Instant>>,
    /// Places for running Long Running Queries, per console and token.
    running: Mutex<HashMap<(String, u64), Arc<tokio::sync::Semaphore>>>,
}

impl Limiter {
    /// A limiter with no history.
    pub fn new() -> Arc<Self> {
        Arc::new(Limiter::default())
    }

    /// The limiter every client shares, so clients of the same console and
    /// token never exceed a quota together.
    pub fn global() -> Arc<Self> {
        static GLOBAL: OnceLock<Arc<Limiter>> = OnceLock::new();
        GLOBAL.get_or_init(Limiter::new).clone()
    }

    /// Reserves the next slot for `key` under `rule` and returns when it
    /// starts (now, if the allowance has room). The caller waits until
    /// then.
    ///
    /// A generic cell rate algorithm ([`Rule::next_slot`]): a request may
    /// go as soon as the key's allowance is at most one burst ahead of the
    /// spacing, and moves it one interval on.
    pub(crate) fn reserve(&self, key: &Key, rule: &Rule) -> Instant {
        let now = Instant::now();
        let mut map = self.next_free.lock().expect("limiter lock");
        let (slot, spent) = rule.next_slot(map.get(key).copied(), now, true);
        map.insert(key.clone(), spent);
        forget_spent(&mut map, now);
        slot
    }

    /// The places for running Long Running Queries of one console and
    /// token ([`LRQ_MAX_RUNNING`] of them), shared like the slots.
    pub(crate) fn running_queries(
        &self,
        console: &str,
        token_fingerprint: u64,
    ) -> Arc<tokio::sync::Semaphore> {
        let mut map = self.running.lock().expect("limiter lock");
        map.entry((console.to_string(), token_fingerprint))
            .or_insert_with(|| Arc::new(tokio::sync::Semaphore::new(LRQ_MAX_RUNNING)))
            .clone()
    }

    /// Keeps `key` closed until at least `until` (after a 429), so other
    /// tasks do not hit the endpoint while it is throttled. The allowance
    /// then starts empty and refills at its rate: no burst straight after
    /// a 429.
    pub(crate) fn block_until(&self, key: &Key, rule: &Rule, until: Instant) {
        let spent = until + rule.tolerance();
        let mut map = self.next_free.lock().expect("limiter lock");
        let entry = map.entry(key.clone()).or_insert(spent);
        if *entry < spent {
            *entry = spent;
        }
        forget_spent(&mut map, Instant::now());
    }
}

/// Most keys the limiter keeps before it forgets the ones whose allowance
/// is whole again (a key whose time has passed reads as a fresh one, so
/// forgetting it changes nothing).
pub const MAX_KEYS: usize = 1024;

/// Forgets the keys whose time is past `now`, once there are more than
/// [`MAX_KEYS`]: requests to ever new paths cannot grow the map without
/// bound.
fn forget_spent(map: &mut HashMap<Key, Instant>, now: Instant) {
    if map.len() > MAX_KEYS {
        map.retain(|_, spent| *spent > now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The published table and the limiter, on tokio's paused clock.

    const CONSOLE: &str = "https://usea1.sentinelone.net";
    const OTHER_CONSOLE: &str = "https://euce1.sentinelone.net";
    /// Two token fingerprints.
    const TOKEN_A: u64 = 0xA;
    const TOKEN_B: u64 = 0xB;

    /// Published limits, written out independently of the generated table:
    /// (method, a concrete path below the API prefix, requests a second,
    /// burst, scope, label).
    const PUBLISHED: &[(&str, &str, f64, u32, Scope, &str)] = &[
        (
            "POST",
            "/dv/init-query",
            1.0 / 60.0,
            1,
            Scope::Token,
            "dv/init-query",
        ),
        (
            "GET",
            "/dv/query-status",
            1.0,
            1,
            Scope::Token,
            "dv/query-status",
        ),
        (
            "GET",
            "/update/agent/download/7/9",
            2.0 / 60.0,
            1,
            Scope::Token,
            "update/agent/download",
        ),
        (
            "POST",
            "/users/login",
            1.0,
            1,
            Scope::Console,
            "users/login",
        ),
        (
            "POST",
            "/users/login/by-api-token",
            1.0,
            1,
            Scope::Console,
            "users/login",
        ),
        (
            "GET",
            "/system/status",
            2.0,
            1,
            Scope::Console,
            "system/status",
        ),
        (
            "GET",
            "/system/status/cache",
            2.0,
            1,
            Scope::Console,
            "system/status/cache",
        ),
        (
            "GET",
            "/system/status/db",
            2.0,
            1,
            Scope::Console,
            "system/status/db",
        ),
        (
            "POST",
            "/remote-scripts/execute",
            1.0,
            30,
            Scope::Token,
            "remote-scripts",
        ),
        ("GET", "/export/threats", 1.0, 30, Scope::Token, "export"),
        (
            "GET",
            "/threat-intelligence/iocs",
            0.5,
            1,
            Scope::Token,
            "threat-intelligence",
        ),
        (
            "GET",
            "/cloud-detection/rules",
            0.5,
            1,
            Scope::Token,
            "cloud-detection/rules",
        ),
        (
            "POST",
            "/application-management/scan",
            1.0 / 28_800.0,
            1,
            Scope::Token,
            "application-management/scan",
        ),
        (
            "GET",
            "/cloud-funnel/config",
            2.0,
            10,
            Scope::Token,
            "cloud-funnel",
        ),
        (
            "GET",
            "/service-users",
            5.0,
            10,
            Scope::Token,
            "service-users",
        ),
        (
            "GET",
            "/singularity-marketplace/applications",
            5.0,
            20,
            Scope::Token,
            "singularity-marketplace",
        ),
        ("GET", "/tag-manager", 1.0, 50, Scope::Token, "tag-manager"),
        (
            "PUT",
            "/upgrade-policy/policy/5",
            1.0,
            50,
            Scope::Token,
            "upgrade-policy",
        ),
        ("GET", "/agents", 25.0, 1, Scope::Token, "agents"),
        (
            "POST",
            "/agents/actions/disconnect",
            25.0,
            1,
            Scope::Token,
            "agents",
        ),
        ("GET", "/accounts", 100.0, 10, Scope::Token, "accounts"),
        ("GET", "/sites/3", 100.0, 10, Scope::Token, "sites"),
        ("GET", "/threats", 10.0, 50, Scope::Token, "threats"),
        (
            "POST",
            "/threats/mitigate/kill",
            100.0,
            1000,
            Scope::Token,
            "threats",
        ),
        ("GET", "/users", 40.0, 80, Scope::Token, "users"),
        ("GET", "/user", 2.0, 5, Scope::Token, "user"),
        ("GET", "/rbac/roles", 50.0, 100, Scope::Token, "rbac"),
    ];

    /// The rule of `method` on a path below the API prefix, or from the
    /// console root for an SDL path.
    fn rule(method: &str, relative: &str) -> Rule {
        let full = if crate::uses_bearer(relative) {
            relative.to_string()
        } else {
            format!("{API_PREFIX}{relative}")
        };
        Quotas::default()
            .rule_for(method, &full, None)
            .unwrap_or_else(|| panic!("a rule for {method} {relative}"))
    }

    fn interval(r: &Rule) -> Duration {
        r.period.mul_f64(1.0 + SAFETY_MARGIN)
    }

    #[test]
    fn the_published_limits_cover_their_paths() {
        for &(method, path, per_second, burst, scope, label) in PUBLISHED {
            let r = rule(method, path);
            let rate = 1.0 / r.period.as_secs_f64();
            assert!((rate - per_second).abs() < 1e-9, "{method} {path}: {rate}");
            assert_eq!((r.burst, r.scope), (burst, scope), "{method} {path}");
            assert_eq!(r.label, label, "{method} {path}");
        }
        assert_eq!(Quota::published().len(), RATE_LIMITS.len());
        const { assert!(SAFETY_MARGIN > 0.0 && SAFETY_MARGIN <= 0.1) };
    }

    #[test]
    fn prefixes_share_one_allowance_and_match_whole_segments() {
        // Every path below a prefix: one bucket, whatever the ids.
        let notes = |id: &str| rule("GET", &format!("/threats/{id}/notes")).bucket;
        assert_eq!(notes("111"), notes("222"));
        assert_eq!(notes("111"), rule("POST", "/threats/mitigate/kill").bucket);
        assert_eq!(notes("111"), "prefix /web/api/v2.1/threats");
        // `/threats` itself has its own rule.
        assert_eq!(rule("GET", "/threats").bucket, "* /web/api/v2.1/threats");
        // `/user` is not a prefix of `/users` or `/user-groups`.
        assert_eq!(rule("GET", "/users/5").label, "users");
        assert_eq!(rule("GET", "/user-groups").label, "user-groups");
        assert_eq!(rule("GET", "/user/5").label, "user");
        // The longer prefix wins; three separate status allowances.
        let status = rule("GET", "/system/status");
        let cache = rule("GET", "/system/status/cache");
        assert_ne!(status.bucket, cache.bucket);
        assert_eq!(rule("GET", "/dv/events/pq-ping").label, "dv/events/pq-ping");
        // A path rule covers its method only, exactly its path.
        let init = rule("GET", "/dv/init-query");
        assert_eq!(
            (init.period, init.label.as_str()),
            (DEFAULT_PERIOD, "dv/init-query")
        );
        assert_eq!(init.bucket, "GET /dv/init-query");
        assert_eq!(rule("GET", "/dv/query-status/x").period, DEFAULT_PERIOD);
        assert_eq!(
            rule("get", "/dv/query-status").period,
            Duration::from_secs(1)
        );
    }

    #[test]
    fn lrq_polls_and_deletes_share_an_allowance_apart_from_launches() {
        let launch = rule("POST", "/sdl/v2/api/queries");
        let poll = rule("GET", "/sdl/v2/api/queries/abc");
        let delete = rule("DELETE", "/sdl/v2/api/queries/def");
        assert_eq!(poll.bucket, delete.bucket);
        assert_ne!(poll.bucket, launch.bucket);
        assert_eq!(
            (launch.label.as_str(), poll.label.as_str()),
            ("lrq launch", "lrq poll/delete")
        );
        // Together at most 3 a second, safety margin included.
        let per_second = |r: &Rule| 1.0 / interval(r).as_secs_f64();
        assert!(per_second(&launch) + per_second(&poll) <= 3.0);
        // An empty id is not an id.
        assert_eq!(
            Quotas::default()
                .rule_for("GET", "/sdl/v2/api/queries/", None)
                .unwrap()
                .period,
            DEFAULT_PERIOD
        );
        // Only from the console root: below the API prefix it is another path.
        let nested = rule("POST", "/sdl/v2/api/queries-x");
        assert_eq!(nested.period, DEFAULT_PERIOD);
    }

    #[tokio::test(start_paused = true)]
    async fn a_burst_goes_at_once_then_one_per_period() {
        let limiter = Limiter::new();
        let r = rule("POST", "/remote-scripts/execute");
        let key = Key::new(&r, CONSOLE, TOKEN_A);
        let t0 = Instant::now();
        let slots: Vec<Instant> = (0..32).map(|_| limiter.reserve(&key, &r)).collect();
        assert!(
            slots[..30].iter().all(|s| *s == t0),
            "a burst of 30 at once"
        );
        assert_eq!(slots[30], t0 + interval(&r));
        assert_eq!(slots[31], t0 + interval(&r) * 2);
        // Idle time refills the burst at the rate: 10 s give back 9 requests
        // (each 1.05 s).
        tokio::time::advance(Duration::from_secs(12)).await;
        let now = Instant::now();
        let slots: Vec<Instant> = (0..11).map(|_| limiter.reserve(&key, &r)).collect();
        let at_once = slots.iter().filter(|s| **s == now).count();
        assert_eq!(
            at_once,
            9,
            "{:?}",
            slots.iter().map(|s| *s - now).collect::<Vec<_>>()
        );
        // A long pause refills it to the burst, never beyond.
        tokio::time::advance(Duration::from_secs(3600)).await;
        let now = Instant::now();
        let refilled = (0..31).filter(|_| limiter.reserve(&key, &r) == now).count();
        assert_eq!(refilled, 30);
    }

    #[tokio::test(start_paused = true)]
    async fn without_a_burst_slots_are_one_period_apart() {
        let limiter = Limiter::new();
        let t0 = Instant::now();
        for (method, path) in [
            ("POST", "/dv/init-query"),
            ("GET", "/agents"),
            ("GET", "/update/agent/download/1"),
        ] {
            let r = rule(method, path);
            let key = Key::new(&r, CONSOLE, TOKEN_A);
            let slots: Vec<Instant> = (0..4).map(|_| limiter.reserve(&key, &r)).collect();
            assert_eq!(slots[0], t0, "a fresh key is free now: {path}");
            for pair in slots.windows(2) {
                assert_eq!(pair[1] - pair[0], interval(&r), "{path}");
            }
        }
        assert!((interval(&rule("POST", "/dv/init-query")).as_secs_f64() - 63.0).abs() < 1e-9);
        assert!(
            (interval(&rule("GET", "/update/agent/download/1")).as_secs_f64() - 31.5).abs() < 1e-9
        );
    }

    #[tokio::test(start_paused = true)]
    async fn per_token_rules_are_not_shared_between_tokens() {
        let limiter = Limiter::new();
        let r = rule("GET", "/dv/query-status");
        let a = Key::new(&r, CONSOLE, TOKEN_A);
        let b = Key::new(&r, CONSOLE, TOKEN_B);
        assert_ne!(a, b);
        assert_eq!(a.token, Some(TOKEN_A));
        let now = Instant::now();
        assert_eq!(limiter.reserve(&a, &r), now);
        assert_eq!(limiter.reserve(&b, &r), now, "token B does not wait for A");
        assert_eq!(limiter.reserve(&a, &r), now + interval(&r));
    }

    #[tokio::test(start_paused = true)]
    async fn per_console_rules_are_shared_between_tokens_but_not_consoles() {
        let limiter = Limiter::new();
        for path in ["/users/login", "/system/status", "/system/status/db"] {
            let r = rule(
                if path == "/users/login" {
                    "POST"
                } else {
                    "GET"
                },
                path,
            );
            let a = Key::new(&r, CONSOLE, TOKEN_A);
            let b = Key::new(&r, CONSOLE, TOKEN_B);
            let elsewhere = Key::new(&r, OTHER_CONSOLE, TOKEN_A);
            assert_eq!(a, b, "{path}");
            assert_eq!(a.token, None, "a console key carries no token");
            let now = Instant::now();
            assert_eq!(limiter.reserve(&a, &r), now, "{path}");
            assert_eq!(limiter.reserve(&b, &r), now + interval(&r), "{path}");
            assert_eq!(limiter.reserve(&elsewhere, &r), now, "{path}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn queued_launches_never_delay_a_poll() {
        let limiter = Limiter::new();
        let launch = rule("POST", "/sdl/v2/api/queries");
        let poll = rule("GET", "/sdl/v2/api/queries/abc");
        let (lk, pk) = (
            Key::new(&launch, CONSOLE, TOKEN_A),
            Key::new(&poll, CONSOLE, TOKEN_A),
        );
        let now = Instant::now();
        for _ in 0..100 {
            limiter.reserve(&lk, &launch);
        }
        assert_eq!(limiter.reserve(&pk, &poll), now);
        assert_eq!(limiter.reserve(&pk, &poll), now + interval(&poll));
    }

    #[tokio::test(start_paused = true)]
    async fn two_tasks_sharing_a_key_are_spaced_by_one_period() {
        let limiter = Limiter::new();
        let r = rule("GET", "/dv/query-status");
        let key = Key::new(&r, CONSOLE, TOKEN_A);
        let start = Instant::now();
        let task = |limiter: Arc<Limiter>, key: Key, r: Rule| {
            tokio::spawn(async move {
                let slot = limiter.reserve(&key, &r);
                tokio::time::sleep_until(slot).await;
                Instant::now()
            })
        };
        let first = task(limiter.clone(), key.clone(), r.clone());
        let second = task(limiter.clone(), key.clone(), r.clone());
        let (a, b) = (first.await.unwrap(), second.await.unwrap());
        let (early, late) = if a <= b { (a, b) } else { (b, a) };
        assert_eq!(early, start, "the first task goes at once");
        let gap = late - early;
        assert!(
            gap >= interval(&r) && gap <= interval(&r) + Duration::from_millis(2),
            "gap {gap:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn block_until_pushes_the_next_slot_out_and_never_in() {
        let limiter = Limiter::new();
        let r = rule("GET", "/dv/query-status");
        let key = Key::new(&r, CONSOLE, TOKEN_A);
        let t0 = Instant::now();
        assert_eq!(limiter.reserve(&key, &r), t0);
        limiter.block_until(&key, &r, t0 + Duration::from_secs(10));
        // An earlier block does not pull the slot back in.
        limiter.block_until(&key, &r, t0 + Duration::from_secs(5));
        assert_eq!(limiter.reserve(&key, &r), t0 + Duration::from_secs(10));
        assert_eq!(
            limiter.reserve(&key, &r),
            t0 + Duration::from_secs(10) + interval(&r)
        );

        // A block on a key never used holds it closed too.
        let fresh = Key::new(&r, CONSOLE, TOKEN_B);
        limiter.block_until(&fresh, &r, t0 + Duration::from_secs(3));
        assert_eq!(limiter.reserve(&fresh, &r), t0 + Duration::from_secs(3));

        // With a burst: nothing goes before the block ends, and after it the
        // allowance starts empty, refilling at its rate (no burst straight
        // after a 429).
        let burst = rule("POST", "/remote-scripts/execute");
        let scripts = Key::new(&burst, CONSOLE, TOKEN_A);
        let until = t0 + Duration::from_secs(4);
        limiter.block_until(&scripts, &burst, until);
        for k in 0..5 {
            assert_eq!(
                limiter.reserve(&scripts, &burst),
                until + interval(&burst) * k
            );
        }

        // A block in the past changes nothing; a key whose time has passed is free.
        tokio::time::advance(Duration::from_secs(60)).await;
        let now = Instant::now();
        limiter.block_until(&fresh, &r, t0);
        assert_eq!(limiter.reserve(&fresh, &r), now);
    }

    #[test]
    fn default_rules_are_one_per_operation_when_its_template_is_known() {
        let q = Quotas::default();
        let template = "/web/api/v2.1/settings/{site_id}/notifications";
        let a = q
            .rule_for(
                "GET",
                "/web/api/v2.1/settings/111/notifications",
                Some(template),
            )
            .unwrap();
        let b = q
            .rule_for(
                "GET",
                "/web/api/v2.1/settings/222/notifications",
                Some(template),
            )
            .unwrap();
        assert_eq!(a, b);
        assert_eq!(a.bucket, "GET /settings/{site_id}/notifications");
        assert_eq!(a.label, "settings/{site_id}/notifications");
        // Without a template (a generic request), the concrete path.
        let c = q
            .rule_for("GET", "/web/api/v2.1/settings/111/notifications", None)
            .unwrap();
        assert_eq!(c.bucket, "GET /settings/111/notifications");
    }

    #[tokio::test(start_paused = true)]
    async fn the_limiter_forgets_keys_whose_allowance_is_whole_again() {
        let limiter = Limiter::new();
        let q = Quotas::default();
        for i in 0..(MAX_KEYS * 3) {
            let path = format!("/web/api/v2.1/settings/{i}/x");
            let r = q.rule_for("GET", &path, None).unwrap();
            limiter.reserve(&Key::new(&r, CONSOLE, TOKEN_A), &r);
            if i % 100 == 0 {
                tokio::time::advance(Duration::from_secs(1)).await;
            }
        }
        let kept = limiter.next_free.lock().unwrap().len();
        assert!(kept <= MAX_KEYS + 100, "{kept} keys kept");
        // A live key is never forgotten: its next slot still waits.
        let r = q
            .rule_for("POST", "/web/api/v2.1/dv/init-query", None)
            .unwrap();
        let key = Key::new(&r, CONSOLE, TOKEN_A);
        let first = limiter.reserve(&key, &r);
        for i in 0..(MAX_KEYS * 2) {
            let path = format!("/web/api/v2.1/other/{i}");
            let other = q.rule_for("GET", &path, None).unwrap();
            limiter.reserve(&Key::new(&other, CONSOLE, TOKEN_A), &other);
        }
        assert_eq!(limiter.reserve(&key, &r), first + interval(&r));
    }

    #[test]
    fn default_rules_are_labelled_with_the_path() {
        let q = Quotas::default();
        let unnamed = q
            .rule_for("GET", "/web/api/v2.1/settings/notifications", None)
            .unwrap();
        assert_eq!(
            unnamed,
            Rule {
                scope: Scope::Token,
                period: DEFAULT_PERIOD,
                burst: 1,
                label: "settings/notifications".into(),
                bucket: "GET /settings/notifications".into(),
            }
        );
        assert_eq!(DEFAULT_PERIOD, Duration::from_millis(100));
        let unlimited = Quotas::default().with_default_period(None);
        assert_eq!(
            unlimited.rule_for("GET", "/web/api/v2.1/settings/notifications", None),
            None
        );
        // The published rules stay.
        assert_eq!(
            unlimited
                .rule_for("POST", "/web/api/v2.1/dv/init-query", None)
                .unwrap()
                .period,
            Duration::from_secs(60)
        );
        assert!(
            Quotas::none()
                .rule_for("GET", "/web/api/v2.1/agents", None)
                .is_none()
        );
    }

    #[test]
    fn with_rule_replaces_a_rule_and_adds_new_ones() {
        let slow = Quota {
            method: "GET",
            path: "/web/api/v2.1/dv/query-status",
            prefix: false,
            scope: Scope::Console,
            period: Duration::from_secs(5),
            burst: 2,
            label: "dv/status-slow",
        };
        let replaced = Quotas::default().with_rule(slow);
        let r = replaced
            .rule_for("GET", "/web/api/v2.1/dv/query-status", None)
            .unwrap();
        assert_eq!(
            (r.period, r.burst, r.scope),
            (Duration::from_secs(5), 2, Scope::Console)
        );
        assert_eq!(r.label, "dv/status-slow");
        assert_eq!(
            replaced
                .rule_for("POST", "/web/api/v2.1/dv/init-query", None)
                .unwrap()
                .period,
            Duration::from_secs(60)
        );
        // A new prefix rule for a path no published rule covers.
        let added = Quotas::default().with_rule(Quota {
            method: "*",
            path: "/web/api/v2.1/settings",
            prefix: true,
            scope: Scope::Token,
            period: Duration::from_secs(7),
            burst: 1,
            label: "settings",
        });
        let r = added
            .rule_for("PUT", "/web/api/v2.1/settings/notifications", None)
            .unwrap();
        assert_eq!(
            (r.period, r.label.as_str()),
            (Duration::from_secs(7), "settings")
        );
        // Replacing twice keeps one rule: the last.
        let twice = replaced.with_rule(Quota {
            period: Duration::from_secs(2),
            label: "dv/status-2",
            ..slow
        });
        let r = twice
            .rule_for("GET", "/web/api/v2.1/dv/query-status", None)
            .unwrap();
        assert_eq!(
            (r.period, r.label.as_str()),
            (Duration::from_secs(2), "dv/status-2")
        );
    }
}
