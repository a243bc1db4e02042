//! Per-endpoint quotas and the limiter that keeps every request within them.
//!
//! SentinelOne limits some endpoints per API token and some per client IP.
//! [`QUOTAS`] is the one table of them; every other request falls under
//! the default spacing ([`Quotas::with_default_period`]). Each key admits one request per period (burst 1)
//! plus a small safety margin, and the limiter is shared by every clone of a
//! client, every task, and every client of the same console and token.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use tokio::time::Instant;

/// Who a quota is counted against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Each API token has its own allowance.
    Token,
    /// Every caller from one IP address shares the allowance: keyed by console.
    Console,
}

/// One documented limit: `method path` may be called once per `period`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    /// HTTP method; `"*"` for every method (they then share one allowance).
    pub method: &'static str,
    /// Path below `/web/api/v2.1`, with `{param}` segments matching anything;
    /// a path below [`crate::SDL_PREFIX`] is from the console root.
    pub path: &'static str,
    /// Who the quota is counted against.
    pub scope: Scope,
    /// One request per this period.
    pub period: Duration,
    /// A short name for waits and logs (`dv/init-query`).
    pub label: &'static str,
}

const fn quota(
    method: &'static str,
    path: &'static str,
    scope: Scope,
    period_ms: u64,
    label: &'static str,
) -> Quota {
    Quota {
        method,
        path,
        scope,
        period: Duration::from_millis(period_ms),
        label,
    }
}

/// The documented SentinelOne limits.
///
/// | endpoint | limit | counted per |
/// | --- | --- | --- |
/// | `POST dv/init-query` | 1 / minute | token |
/// | `GET dv/query-status` | 1 / second | token |
/// | `GET update/agent/download/{package_id}` | 2 / minute | token |
/// | `GET update/agent/download/{site_id}/{package_id}` | 2 / minute | token |
/// | `POST users/login` | 1 / second | console (client IP) |
/// | `GET system/status` | 1 / second | console (client IP) |
/// | `GET system/status/cache` | 1 / second | console (client IP) |
/// | `GET system/status/db` | 1 / second | console (client IP) |
/// | `POST /sdl/v2/api/queries` (LRQ launch) | 1 / second | token |
/// | `* /sdl/v2/api/queries/{id}` (LRQ poll and delete) | 2 / second | token |
/// | anything else | [`DEFAULT_PERIOD`] per endpoint | token |
///
/// The Long Running Query API allows about 3 requests a second per token,
/// launches, polls and deletes together. Its allowance is split: one
/// launch a second, and two a second for the requests on running queries
/// (polls and deletes, one shared allowance). A query dies about 30 s after
/// its last poll; however many launches wait, they never take a poll's
/// slot, and [`LRQ_MAX_RUNNING`] bounds how many queries share the polls.
pub const QUOTAS: &[Quota] = &[
    quota(
        "POST",
        "/dv/init-query",
        Scope::Token,
        60_000,
        "dv/init-query",
    ),
    quota(
        "GET",
        "/dv/query-status",
        Scope::Token,
        1_000,
        "dv/query-status",
    ),
    quota(
        "GET",
        "/update/agent/download/{package_id}",
        Scope::Token,
        30_000,
        "update/agent/download",
    ),
    quota(
        "GET",
        "/update/agent/download/{site_id}/{package_id}",
        Scope::Token,
        30_000,
        "update/agent/download",
    ),
    quota("POST", "/users/login", Scope::Console, 1_000, "users/login"),
    quota(
        "GET",
        "/system/status",
        Scope::Console,
        1_000,
        "system/status",
    ),
    quota(
        "GET",
        "/system/status/cache",
        Scope::Console,
        1_000,
        "system/status/cache",
    ),
    quota(
        "GET",
        "/system/status/db",
        Scope::Console,
        1_000,
        "system/status/db",
    ),
    quota(
        "POST",
        "/sdl/v2/api/queries",
        Scope::Token,
        1_000,
        "lrq launch",
    ),
    quota(
        "*",
        "/sdl/v2/api/queries/{query_id}",
        Scope::Token,
        500,
        "lrq poll/delete",
    ),
];

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

fn path_matches(template: &str, path: &str) -> bool {
    let mut t = template.split('/');
    let mut p = path.split('/');
    loop {
        match (t.next(), p.next()) {
            (None, None) => return true,
            (Some(ts), Some(ps)) if ts.starts_with('{') || ts == ps => {}
            _ => return false,
        }
    }
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
            rules: QUOTAS.to_vec(),
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

    /// Adds or replaces the rule for one endpoint.
    pub fn with_rule(mut self, rule: Quota) -> Self {
        self.rules
            .retain(|r| !(r.method == rule.method && r.path == rule.path));
        self.rules.push(rule);
        self
    }

    /// The rule for a request: its documented quota, or the default one
    /// (labelled with the request path).
    pub(crate) fn rule_for(&self, method: &str, path: &str) -> Option<Rule> {
        let relative = path.strip_prefix(API_PREFIX).unwrap_or(path);
        // A rule below the SDL prefix is written from the console root and
        // matches only a path from the root.
        let matches = |q: &Quota| {
            let target = if crate::uses_bearer(q.path) {
                path
            } else {
                relative
            };
            path_matches(q.path, target)
        };
        if let Some(q) = self
            .rules
            .iter()
            .find(|q| (q.method == "*" || q.method.eq_ignore_ascii_case(method)) && matches(q))
        {
            return Some(Rule {
                scope: q.scope,
                period: q.period,
                label: q.label.to_string(),
                bucket: format!("{} {}", q.method, q.path),
            });
        }
        self.default_period.map(|period| Rule {
            scope: Scope::Token,
            period,
            label: endpoint_label(path),
            bucket: format!("{} {}", method.to_ascii_uppercase(), relative),
        })
    }
}

/// The quota one request falls under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rule {
    /// Who it is counted against.
    pub(crate) scope: Scope,
    /// One request per this period.
    pub(crate) period: Duration,
    /// Short name for waits and logs.
    pub(crate) label: String,
    /// What requests share the allowance (method and path template).
    pub(crate) bucket: String,
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

    /// Reserves the next slot for `key` and returns when it starts (now, if
    /// the key is free). The caller waits until then.
    pub(crate) fn reserve(&self, key: &Key, period: Duration) -> Instant {
        let now = Instant::now();
        let spacing = period.mul_f64(1.0 + SAFETY_MARGIN);
        let mut map = self.next_free.lock().expect("limiter lock");
        let slot = map.get(key).copied().unwrap_or(now).max(now);
        map.insert(key.clone(), slot + spacing);
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
    /// tasks do not hit the endpoint while it is throttled.
    pub(crate) fn block_until(&self, key: &Key, until: Instant) {
        let mut map = self.next_free.lock().expect("limiter lock");
        let entry = map.entry(key.clone()).or_insert(until);
        if *entry < until {
            *entry = until;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_rules_match_their_paths() {
        let q = Quotas::default();
        let init = q.rule_for("POST", "/web/api/v2.1/dv/init-query").unwrap();
        assert_eq!(init.period, Duration::from_secs(60));
        assert_eq!(init.scope, Scope::Token);
        let dl = q
            .rule_for("GET", "/web/api/v2.1/update/agent/download/7/9")
            .unwrap();
        assert_eq!(dl.period, Duration::from_secs(30));
        let login = q.rule_for("POST", "/web/api/v2.1/users/login").unwrap();
        assert_eq!(login.scope, Scope::Console);
        let other = q.rule_for("GET", "/web/api/v2.1/agents").unwrap();
        assert_eq!(other.period, DEFAULT_PERIOD);
        assert_eq!(other.label, "agents");
        assert!(
            Quotas::default()
                .with_default_period(None)
                .rule_for("GET", "/web/api/v2.1/agents")
                .is_none()
        );
    }

    // The table and the limiter, on tokio's paused clock (moved from the
    // integration tests when `Key`, `Rule` and the limiter's slots stopped
    // being public): every documented quota (its period, scope and label,
    // and that successive slots of one key are `period * (1 +
    // SAFETY_MARGIN)` apart); per-token rules are not shared between tokens
    // while per-console rules are; two tasks sharing a key are spaced by
    // one period; `block_until` pushes the next slot out (and never pulls
    // it in); templated paths and default rules; `with_rule` and
    // `with_default_period`.

    const CONSOLE: &str = "https://usea1.sentinelone.net";
    const OTHER_CONSOLE: &str = "https://euce1.sentinelone.net";
    /// Two token fingerprints.
    const TOKEN_A: u64 = 0xA;
    const TOKEN_B: u64 = 0xB;

    /// The documented limits, written out independently of `QUOTAS`:
    /// (method, a concrete path below the API prefix, period, scope, label).
    const DOCUMENTED: &[(&str, &str, u64, Scope, &str)] = &[
        (
            "POST",
            "/dv/init-query",
            60_000,
            Scope::Token,
            "dv/init-query",
        ),
        (
            "GET",
            "/dv/query-status",
            1_000,
            Scope::Token,
            "dv/query-status",
        ),
        (
            "GET",
            "/update/agent/download/225494730938493804",
            30_000,
            Scope::Token,
            "update/agent/download",
        ),
        (
            "GET",
            "/update/agent/download/225494730938493804/9",
            30_000,
            Scope::Token,
            "update/agent/download",
        ),
        ("POST", "/users/login", 1_000, Scope::Console, "users/login"),
        (
            "GET",
            "/system/status",
            1_000,
            Scope::Console,
            "system/status",
        ),
        (
            "GET",
            "/system/status/cache",
            1_000,
            Scope::Console,
            "system/status/cache",
        ),
        (
            "GET",
            "/system/status/db",
            1_000,
            Scope::Console,
            "system/status/db",
        ),
        (
            "POST",
            "/sdl/v2/api/queries",
            1_000,
            Scope::Token,
            "lrq launch",
        ),
        (
            "GET",
            "/sdl/v2/api/queries/q1",
            500,
            Scope::Token,
            "lrq poll/delete",
        ),
        (
            "DELETE",
            "/sdl/v2/api/queries/q1",
            500,
            Scope::Token,
            "lrq poll/delete",
        ),
    ];

    fn spacing(period: Duration) -> Duration {
        period.mul_f64(1.0 + SAFETY_MARGIN)
    }

    fn rule(method: &str, relative: &str) -> Rule {
        let full = if crate::uses_bearer(relative) {
            relative.to_string()
        } else {
            format!("{API_PREFIX}{relative}")
        };
        Quotas::default()
            .rule_for(method, &full)
            .unwrap_or_else(|| panic!("a rule for {method} {relative}"))
    }

    /// Replaces every `{param}` segment of a quota path with a value.
    fn concrete(template: &str) -> String {
        template
            .split('/')
            .map(|s| if s.starts_with('{') { "42" } else { s })
            .collect::<Vec<_>>()
            .join("/")
    }

    #[test]
    fn the_table_holds_exactly_the_documented_limits() {
        let buckets: std::collections::HashSet<String> = DOCUMENTED
            .iter()
            .map(|&(method, path, ..)| rule(method, path).bucket)
            .collect();
        assert_eq!(QUOTAS.len(), buckets.len(), "{QUOTAS:#?}");
        for &(method, path, period_ms, scope, label) in DOCUMENTED {
            let r = rule(method, path);
            assert_eq!(
                r.period,
                Duration::from_millis(period_ms),
                "{method} {path}"
            );
            assert_eq!(r.scope, scope, "{method} {path}");
            assert_eq!(r.label, label, "{method} {path}");
        }
        // update/agent/download is documented as 2 per minute.
        assert_eq!(
            rule("GET", "/update/agent/download/1/2").period * 2,
            Duration::from_secs(60)
        );
        // The safety margin is small and positive.
        const { assert!(SAFETY_MARGIN > 0.0 && SAFETY_MARGIN <= 0.1) };
    }

    #[tokio::test(start_paused = true)]
    async fn every_quota_spaces_successive_slots_of_one_key() {
        let limiter = Limiter::new();
        let t0 = Instant::now();
        for q in QUOTAS {
            let r = rule(q.method, &concrete(q.path));
            assert_eq!(r.period, q.period, "{q:?}");
            assert_eq!(r.scope, q.scope, "{q:?}");
            assert_eq!(r.label, q.label, "{q:?}");
            let key = Key::new(&r, CONSOLE, TOKEN_A);
            let slots: Vec<Instant> = (0..4).map(|_| limiter.reserve(&key, r.period)).collect();
            assert_eq!(slots[0], t0, "a fresh key is free now: {q:?}");
            for pair in slots.windows(2) {
                assert_eq!(pair[1] - pair[0], spacing(q.period), "{q:?}");
            }
        }
        // The spacings in seconds, as documented plus 5 %.
        let secs = |m: &str, p: &str| spacing(rule(m, p).period).as_secs_f64();
        assert!((secs("POST", "/dv/init-query") - 63.0).abs() < 1e-9);
        assert!((secs("GET", "/dv/query-status") - 1.05).abs() < 1e-9);
        assert!((secs("GET", "/update/agent/download/1") - 31.5).abs() < 1e-9);
        assert!((secs("POST", "/users/login") - 1.05).abs() < 1e-9);
    }

    #[tokio::test(start_paused = true)]
    async fn per_token_rules_are_not_shared_between_tokens() {
        let limiter = Limiter::new();
        for q in QUOTAS.iter().filter(|q| q.scope == Scope::Token) {
            let r = rule(q.method, &concrete(q.path));
            let a = Key::new(&r, CONSOLE, TOKEN_A);
            let b = Key::new(&r, CONSOLE, TOKEN_B);
            assert_ne!(a, b, "{q:?}");
            assert_eq!(a.token, Some(TOKEN_A));
            let now = Instant::now();
            assert_eq!(limiter.reserve(&a, r.period), now, "{q:?}");
            assert_eq!(
                limiter.reserve(&b, r.period),
                now,
                "token B waits for A: {q:?}"
            );
            assert_eq!(limiter.reserve(&a, r.period), now + spacing(r.period));
            assert_eq!(limiter.reserve(&b, r.period), now + spacing(r.period));
        }
    }

    #[tokio::test(start_paused = true)]
    async fn per_console_rules_are_shared_between_tokens_but_not_consoles() {
        let limiter = Limiter::new();
        let console_rules: Vec<&Quota> = QUOTAS
            .iter()
            .filter(|q| q.scope == Scope::Console)
            .collect();
        assert_eq!(
            console_rules.len(),
            4,
            "users/login and system/status(/cache,/db)"
        );
        for q in console_rules {
            let r = rule(q.method, &concrete(q.path));
            let a = Key::new(&r, CONSOLE, TOKEN_A);
            let b = Key::new(&r, CONSOLE, TOKEN_B);
            let elsewhere = Key::new(&r, OTHER_CONSOLE, TOKEN_A);
            assert_eq!(a, b, "{q:?}");
            assert_eq!(a.token, None, "a console key carries no token");
            let now = Instant::now();
            assert_eq!(limiter.reserve(&a, r.period), now, "{q:?}");
            assert_eq!(
                limiter.reserve(&b, r.period),
                now + spacing(r.period),
                "token B shares the console's allowance: {q:?}"
            );
            assert_eq!(limiter.reserve(&elsewhere, r.period), now, "{q:?}");
        }
    }

    #[test]
    fn lrq_polls_and_deletes_share_an_allowance_apart_from_launches() {
        let q = Quotas::default();
        let launch = q.rule_for("POST", "/sdl/v2/api/queries").unwrap();
        let poll = q.rule_for("GET", "/sdl/v2/api/queries/abc").unwrap();
        let delete = q.rule_for("DELETE", "/sdl/v2/api/queries/def").unwrap();
        assert_eq!(poll.bucket, delete.bucket);
        assert_ne!(poll.bucket, launch.bucket);
        // Together at most 3 a second, safety margin included.
        let per_second = |r: &Rule| 1.0 / r.period.mul_f64(1.0 + SAFETY_MARGIN).as_secs_f64();
        assert!(per_second(&launch) + per_second(&poll) <= 3.0);
        // Only from the console root: below the API prefix it is another path.
        let nested = q
            .rule_for("POST", &format!("{API_PREFIX}/sdl/v2/api/queries"))
            .unwrap();
        assert_eq!(nested.period, DEFAULT_PERIOD);
        assert_eq!(nested.label, "sdl/v2/api/queries");
    }

    #[tokio::test(start_paused = true)]
    async fn queued_launches_never_delay_a_poll() {
        let limiter = Limiter::new();
        let q = Quotas::default();
        let launch = q.rule_for("POST", "/sdl/v2/api/queries").unwrap();
        let poll = q.rule_for("GET", "/sdl/v2/api/queries/abc").unwrap();
        let (lk, pk) = (
            Key::new(&launch, CONSOLE, TOKEN_A),
            Key::new(&poll, CONSOLE, TOKEN_A),
        );
        let now = Instant::now();
        for _ in 0..100 {
            limiter.reserve(&lk, launch.period);
        }
        assert_eq!(limiter.reserve(&pk, poll.period), now);
        assert_eq!(
            limiter.reserve(&pk, poll.period),
            now + spacing(poll.period)
        );
    }

    #[test]
    fn distinct_endpoints_and_path_values_map_to_the_right_buckets() {
        let q = Quotas::default();
        let dl = |p: &str| {
            q.rule_for("GET", &format!("{API_PREFIX}/update/agent/download/{p}"))
                .unwrap()
        };
        // Different ids of one template share the bucket.
        assert_eq!(dl("1/2").bucket, dl("3/4").bucket);
        assert_eq!(dl("1").bucket, dl("5").bucket);
        // The status endpoints are three separate allowances.
        let status = rule("GET", "/system/status");
        let cache = rule("GET", "/system/status/cache");
        let db = rule("GET", "/system/status/db");
        assert_ne!(status.bucket, cache.bucket);
        assert_ne!(cache.bucket, db.bucket);
        // Default rules are per endpoint.
        assert_ne!(
            rule("GET", "/agents").bucket,
            rule("GET", "/threats").bucket
        );
        assert_ne!(
            rule("GET", "/agents").bucket,
            rule("POST", "/agents").bucket
        );
    }

    #[tokio::test(start_paused = true)]
    async fn two_tasks_sharing_a_key_are_spaced_by_one_period() {
        let limiter = Limiter::new();
        let r = rule("GET", "/dv/query-status");
        let key = Key::new(&r, CONSOLE, TOKEN_A);
        let start = Instant::now();
        let task = |limiter: Arc<Limiter>, key: Key, period: Duration| {
            tokio::spawn(async move {
                let slot = limiter.reserve(&key, period);
                tokio::time::sleep_until(slot).await;
                Instant::now()
            })
        };
        let first = task(limiter.clone(), key.clone(), r.period);
        let second = task(limiter.clone(), key.clone(), r.period);
        let (a, b) = (first.await.unwrap(), second.await.unwrap());
        let (early, late) = if a <= b { (a, b) } else { (b, a) };
        assert_eq!(early, start, "the first task goes at once");
        let gap = late - early;
        assert!(
            gap >= spacing(r.period) && gap <= spacing(r.period) + Duration::from_millis(2),
            "gap {gap:?}, expected {:?}",
            spacing(r.period)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn block_until_pushes_the_next_slot_out_and_never_in() {
        let limiter = Limiter::new();
        let r = rule("GET", "/dv/query-status");
        let key = Key::new(&r, CONSOLE, TOKEN_A);
        let t0 = Instant::now();
        assert_eq!(limiter.reserve(&key, r.period), t0);
        limiter.block_until(&key, t0 + Duration::from_secs(10));
        // An earlier block does not pull the slot back in.
        limiter.block_until(&key, t0 + Duration::from_secs(5));
        let after_block = limiter.reserve(&key, r.period);
        assert_eq!(after_block, t0 + Duration::from_secs(10));
        assert_eq!(
            limiter.reserve(&key, r.period),
            t0 + Duration::from_secs(10) + spacing(r.period)
        );

        // A block on a key never used holds it closed too.
        let fresh = Key::new(&r, CONSOLE, TOKEN_B);
        limiter.block_until(&fresh, t0 + Duration::from_secs(3));
        assert_eq!(
            limiter.reserve(&fresh, r.period),
            t0 + Duration::from_secs(3)
        );

        // A block in the past changes nothing; a key whose time has passed is free.
        tokio::time::advance(Duration::from_secs(60)).await;
        let now = Instant::now();
        limiter.block_until(&fresh, t0);
        assert_eq!(limiter.reserve(&fresh, r.period), now);
    }

    #[tokio::test(start_paused = true)]
    async fn a_free_key_is_free_now_not_at_its_old_slot() {
        let limiter = Limiter::new();
        let r = rule("POST", "/dv/init-query");
        let key = Key::new(&r, CONSOLE, TOKEN_A);
        let t0 = Instant::now();
        assert_eq!(limiter.reserve(&key, r.period), t0);
        tokio::time::advance(Duration::from_secs(30)).await;
        assert_eq!(limiter.reserve(&key, r.period), t0 + spacing(r.period));
        tokio::time::advance(Duration::from_secs(300)).await;
        let now = Instant::now();
        assert_eq!(limiter.reserve(&key, r.period), now);
        assert_eq!(limiter.reserve(&key, r.period), now + spacing(r.period));
    }

    #[test]
    fn templated_paths_match_by_segment() {
        let q = Quotas::default();
        let get = |p: &str| q.rule_for("GET", p);
        let dl = get("/web/api/v2.1/update/agent/download/1/2").unwrap();
        assert_eq!(dl.period, Duration::from_secs(30));
        assert_eq!(dl.label, "update/agent/download");
        assert_eq!(
            dl.bucket,
            "GET /update/agent/download/{site_id}/{package_id}"
        );
        let dl1 = get("/web/api/v2.1/update/agent/download/1").unwrap();
        assert_eq!(dl1.bucket, "GET /update/agent/download/{package_id}");
        // One segment too many: no documented rule, the default one.
        let deeper = get("/web/api/v2.1/update/agent/download/1/2/3").unwrap();
        assert_eq!(deeper.period, DEFAULT_PERIOD);
        assert_eq!(deeper.label, "update/agent/download/1/2/3");
        // A literal segment must match exactly.
        assert_eq!(
            get("/web/api/v2.1/dv/query-statuses").unwrap().period,
            DEFAULT_PERIOD
        );
        assert_eq!(
            get("/web/api/v2.1/dv/query-status/").unwrap().period,
            DEFAULT_PERIOD
        );
        // Methods count, case-insensitively.
        assert_eq!(
            q.rule_for("get", "/web/api/v2.1/dv/query-status")
                .unwrap()
                .period,
            Duration::from_secs(1)
        );
        let wrong_method = q.rule_for("GET", "/web/api/v2.1/dv/init-query").unwrap();
        assert_eq!(wrong_method.period, DEFAULT_PERIOD);
        assert_eq!(wrong_method.bucket, "GET /dv/init-query");
        assert_eq!(
            q.rule_for("POST", "/web/api/v2.1/dv/init-query")
                .map(|r| r.period),
            Some(Duration::from_secs(60))
        );
    }

    #[test]
    fn default_rules_are_labelled_with_the_path() {
        let q = Quotas::default();
        let agents = q.rule_for("GET", "/web/api/v2.1/agents").unwrap();
        assert_eq!(
            agents,
            Rule {
                scope: Scope::Token,
                period: DEFAULT_PERIOD,
                label: "agents".into(),
                bucket: "GET /agents".into(),
            }
        );
        assert_eq!(DEFAULT_PERIOD, Duration::from_millis(100));
        let post = q
            .rule_for("post", "/web/api/v2.1/agents/actions/connect")
            .unwrap();
        assert_eq!(post.label, "agents/actions/connect");
        assert_eq!(post.bucket, "POST /agents/actions/connect");

        let unlimited = Quotas::default().with_default_period(None);
        assert_eq!(unlimited.rule_for("GET", "/web/api/v2.1/agents"), None);
        assert_eq!(
            unlimited
                .rule_for("GET", "/web/api/v2.1/agents")
                .map(|r| r.period),
            None
        );
        // The documented rules stay.
        assert_eq!(
            unlimited
                .rule_for("POST", "/web/api/v2.1/dv/init-query")
                .unwrap()
                .period,
            Duration::from_secs(60)
        );
        let slower = Quotas::default().with_default_period(Some(Duration::from_secs(2)));
        assert_eq!(
            slower
                .rule_for("GET", "/web/api/v2.1/agents")
                .map(|r| r.period),
            Some(Duration::from_secs(2))
        );
    }

    #[test]
    fn with_rule_replaces_a_rule_and_adds_new_ones() {
        let replaced = Quotas::default().with_rule(Quota {
            method: "GET",
            path: "/dv/query-status",
            scope: Scope::Console,
            period: Duration::from_secs(5),
            label: "dv/status-slow",
        });
        let r = replaced
            .rule_for("GET", "/web/api/v2.1/dv/query-status")
            .unwrap();
        assert_eq!(r.period, Duration::from_secs(5));
        assert_eq!(r.scope, Scope::Console);
        assert_eq!(r.label, "dv/status-slow");
        // Other rules are untouched.
        assert_eq!(
            replaced
                .rule_for("POST", "/web/api/v2.1/dv/init-query")
                .unwrap()
                .period,
            Duration::from_secs(60)
        );

        let added = Quotas::default().with_rule(Quota {
            method: "GET",
            path: "/agents",
            scope: Scope::Token,
            period: Duration::from_secs(7),
            label: "agents-custom",
        });
        let r = added.rule_for("GET", "/web/api/v2.1/agents").unwrap();
        assert_eq!(r.period, Duration::from_secs(7));
        assert_eq!(r.label, "agents-custom");

        // Replacing twice keeps one rule: the last.
        let twice = replaced.with_rule(Quota {
            method: "GET",
            path: "/dv/query-status",
            scope: Scope::Token,
            period: Duration::from_secs(2),
            label: "dv/status-2",
        });
        let r = twice
            .rule_for("GET", "/web/api/v2.1/dv/query-status")
            .unwrap();
        assert_eq!(
            (r.period, r.label.as_str()),
            (Duration::from_secs(2), "dv/status-2")
        );
    }
}
