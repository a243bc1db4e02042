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
    /// HTTP method.
    pub method: &'static str,
    /// Path below `/web/api/v2.1`, with `{param}` segments matching anything.
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
/// | anything else | [`DEFAULT_PERIOD`] per endpoint | token |
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
];

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
pub fn endpoint_label(path: &str) -> String {
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
    pub fn rule_for(&self, method: &str, path: &str) -> Option<Rule> {
        let relative = path.strip_prefix(API_PREFIX).unwrap_or(path);
        if let Some(q) = self
            .rules
            .iter()
            .find(|q| q.method.eq_ignore_ascii_case(method) && path_matches(q.path, relative))
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

    /// The period to wait after a 429 without Retry-After, if a quota applies.
    pub fn period_for(&self, method: &str, path: &str) -> Option<Duration> {
        self.rule_for(method, path).map(|r| r.period)
    }
}

/// The quota one request falls under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// Who it is counted against.
    pub scope: Scope,
    /// One request per this period.
    pub period: Duration,
    /// Short name for waits and logs.
    pub label: String,
    /// What requests share the allowance (method and path template).
    pub bucket: String,
}

/// What one allowance is keyed by.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key {
    /// Console origin.
    pub console: String,
    /// Fingerprint of the token for [`Scope::Token`] rules; never the token.
    pub token: Option<u64>,
    /// Method and path template.
    pub bucket: String,
}

impl Key {
    /// The key of `rule` for a console and token fingerprint.
    pub fn new(rule: &Rule, console: &str, token_fingerprint: u64) -> Self {
        Key {
            console: console.to_string(),
            token: (rule.scope == Scope::Token).then_some(token_fingerprint),
            bucket: rule.bucket.clone(),
        }
    }
}

/// Hands out request slots: one per period per key, in order of asking.
#[derive(Debug, Default)]
pub struct Limiter {
    next_free: Mutex<HashMap<Key, Instant>>,
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
    pub fn reserve(&self, key: &Key, period: Duration) -> Instant {
        let now = Instant::now();
        let spacing = period.mul_f64(1.0 + SAFETY_MARGIN);
        let mut map = self.next_free.lock().expect("limiter lock");
        let slot = map.get(key).copied().unwrap_or(now).max(now);
        map.insert(key.clone(), slot + spacing);
        slot
    }

    /// Keeps `key` closed until at least `until` (after a 429), so other
    /// tasks do not hit the endpoint while it is throttled.
    pub fn block_until(&self, key: &Key, until: Instant) {
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
}
