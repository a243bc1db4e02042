//! Rate limits as data: `[[rate_limits]]` rules of the curation become an
//! `x-rate-limit` extension on every operation they cover, and that
//! extension becomes the generated quota table (`generated/src/rate_limits.rs`)
//! the facade's limiter reads.
//!
//! A rule names either a `prefix` (every operation at or below it shares
//! one allowance) or a `path` (the operations of exactly that path; one
//! allowance per operation when `method` is given, one for all of the
//! path's methods otherwise). A path rule beats a prefix rule, and a longer
//! prefix beats a shorter one. Prefixes and paths match whole segments:
//! `/user` covers `/user` and `/user/x`, not `/users`.

use std::collections::BTreeMap;

use anyhow::{Result, bail};
use openapiv3::OpenAPI;
use quote::quote;
use serde::Deserialize;
use serde_json::{Value, json};

/// The extension an operation's limit is carried in.
pub const EXTENSION: &str = "x-rate-limit";
/// The spec's top-level extension that lists every rule.
pub const DOCUMENT_EXTENSION: &str = "x-rate-limits";

/// One `[[rate_limits]]` entry of the curation.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitRule {
    /// Every operation at or below this path shares the allowance.
    #[serde(default)]
    pub prefix: Option<String>,
    /// The operations of exactly this path template.
    #[serde(default)]
    pub path: Option<String>,
    /// With `path`: only this method (then the operation has its own
    /// allowance).
    #[serde(default)]
    pub method: Option<String>,
    /// The path is from the console root, not below `path_prefix`.
    #[serde(default)]
    pub root: bool,
    /// Requests a second (`0.5`: one every two seconds).
    #[serde(default)]
    pub per_second: Option<f64>,
    /// Requests a minute.
    #[serde(default)]
    pub per_minute: Option<f64>,
    /// Requests an hour.
    #[serde(default)]
    pub per_hour: Option<f64>,
    /// Requests that may go at once before the rate applies (default 1).
    #[serde(default = "one")]
    pub burst: u32,
    /// `token` (each API token has its own allowance, the default) or
    /// `client` (every caller from one address shares it).
    #[serde(default = "token")]
    pub counted: String,
    /// The name waits and logs use (default: the path or prefix without its
    /// leading slash).
    #[serde(default)]
    pub label: Option<String>,
}

fn one() -> u32 {
    1
}

fn token() -> String {
    "token".into()
}

impl RateLimitRule {
    /// The rule's rate in requests a second, checked.
    fn rate(&self) -> Result<f64> {
        let given: Vec<f64> = [
            self.per_second,
            self.per_minute.map(|m| m / 60.0),
            self.per_hour.map(|h| h / 3600.0),
        ]
        .into_iter()
        .flatten()
        .collect();
        match given[..] {
            [rate] if rate.is_finite() && rate > 0.0 => Ok(rate),
            [_] => bail!("{}: the rate must be a positive number", self.name()),
            _ => bail!(
                "{}: give exactly one of per_second, per_minute, per_hour",
                self.name()
            ),
        }
    }

    /// The path or prefix as written.
    fn name(&self) -> String {
        self.path
            .clone()
            .or_else(|| self.prefix.clone())
            .unwrap_or_default()
    }

    fn check(&self) -> Result<()> {
        let name = self.name();
        match (&self.prefix, &self.path) {
            (Some(_), None) | (None, Some(_)) => {}
            _ => bail!("rate limit {name:?}: give exactly one of prefix and path"),
        }
        if !name.starts_with('/') || name.len() < 2 || name.ends_with('/') {
            bail!("rate limit {name:?}: a path starts with / and does not end with one");
        }
        if self.prefix.is_some() && self.method.is_some() {
            bail!("rate limit {name:?}: a prefix rule covers every method");
        }
        if self.burst == 0 {
            bail!("rate limit {name:?}: burst is at least 1");
        }
        if !matches!(self.counted.as_str(), "token" | "client") {
            bail!(
                "rate limit {name:?}: counted is `token` or `client`, not {:?}",
                self.counted
            );
        }
        self.rate().map(|_| ())
    }

    /// The name waits and logs use.
    fn label(&self) -> String {
        self.label
            .clone()
            .unwrap_or_else(|| self.name().trim_start_matches('/').to_string())
    }

    /// The full path the rule is written for.
    fn full(&self, path_prefix: &str) -> String {
        if self.root {
            self.name()
        } else {
            format!("{path_prefix}{}", self.name())
        }
    }

    /// How well the rule fits `method path` (higher wins), if it does.
    fn fit(&self, path_prefix: &str, method: &str, path: &str) -> Option<(bool, usize)> {
        let full = self.full(path_prefix);
        if self.path.is_some() {
            let method_ok = self
                .method
                .as_deref()
                .is_none_or(|m| m.eq_ignore_ascii_case(method));
            return (method_ok && full == path).then_some((true, full.len()));
        }
        let below = path == full
            || path
                .strip_prefix(&full)
                .is_some_and(|rest| rest.starts_with('/'));
        below.then_some((false, full.len()))
    }

    /// The extension's value for an operation `method path` the rule covers.
    fn extension(&self, path_prefix: &str, method: &str) -> Result<Value> {
        let full = self.full(path_prefix);
        let label = self.label();
        // What requests share the allowance: the prefix, the path, or the
        // one operation.
        let shared = match (&self.prefix, &self.method) {
            (Some(_), _) => format!("prefix {full}"),
            (None, None) => format!("path {full}"),
            (None, Some(_)) => format!("{} {full}", method.to_ascii_uppercase()),
        };
        Ok(json!({
            "perSecond": self.rate()?,
            "burst": self.burst,
            "counted": self.counted,
            "shared": shared,
            "label": label,
        }))
    }
}

/// Sets `x-rate-limit` on every operation of `paths` (full path -> method -> operation) a rule covers.
/// Fails on a malformed rule or two rules written for the same place. A
/// rule may cover no selected operation: it still limits the paths below
/// it that hand-written requests reach ([`document`]).
pub fn apply(
    paths: &mut BTreeMap<String, BTreeMap<usize, (String, Value)>>,
    rules: &[RateLimitRule],
    path_prefix: &str,
) -> Result<()> {
    let mut places = std::collections::BTreeSet::new();
    for rule in rules {
        rule.check()?;
        let place = (
            rule.full(path_prefix),
            rule.prefix.is_some(),
            rule.method.clone(),
        );
        if !places.insert(place) {
            bail!("rate limit {:?} is written twice", rule.name());
        }
    }
    for (path, methods) in paths.iter_mut() {
        for (method, op) in methods.values_mut() {
            let best = rules
                .iter()
                .enumerate()
                .filter_map(|(i, r)| r.fit(path_prefix, method, path).map(|f| (f, i)))
                .max();
            let Some((_, i)) = best else { continue };
            let limit = rules[i].extension(path_prefix, method)?;
            let Value::Object(op) = op else { continue };
            op.insert(EXTENSION.into(), limit);
        }
    }
    Ok(())
}

/// `25 requests a second per API token (bursts of 10)`, for rustdoc and
/// `s1 api`.
pub fn describe(limit: &Value) -> String {
    let rate = limit["perSecond"].as_f64().unwrap_or(0.0);
    let rate = if rate >= 1.0 {
        format!("{} a second", trim(rate))
    } else if rate * 60.0 >= 1.0 {
        format!("{} a minute", trim(rate * 60.0))
    } else {
        format!("{} an hour", trim(rate * 3600.0))
    };
    let who = match limit["counted"].as_str() {
        Some("client") => "per client address",
        _ => "per API token",
    };
    let burst = match limit["burst"].as_u64() {
        Some(b) if b > 1 => format!(" (bursts of {b})"),
        _ => String::new(),
    };
    let shared = match limit["shared"].as_str() {
        Some(s) if s.starts_with("prefix ") => {
            format!(", shared by every operation below `{}`", &s[7..])
        }
        Some(s) if s.starts_with("path ") => {
            format!(", shared by every method of `{}`", &s[5..])
        }
        _ => String::new(),
    };
    format!("Rate limit: {rate} {who}{burst}{shared}.")
}

/// A rate without a trailing `.0`.
fn trim(rate: f64) -> String {
    let text = format!("{rate:.3}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// The spec's top-level `x-rate-limits`: every rule, checked, with its full
/// path, in the curation's order.
pub fn document(rules: &[RateLimitRule], path_prefix: &str) -> Result<Value> {
    rules
        .iter()
        .map(|rule| {
            rule.check()?;
            Ok(json!({
                "method": rule.method.as_deref().map_or("*".to_string(), str::to_ascii_uppercase),
                "path": rule.full(path_prefix),
                "prefix": rule.prefix.is_some(),
                "perSecond": rule.rate()?,
                "burst": rule.burst,
                "counted": rule.counted,
                "label": rule.label(),
            }))
        })
        .collect::<Result<Vec<_>>>()
        .map(Value::Array)
}

/// The generated quota table: the spec's `x-rate-limits`, a row per rule.
pub fn table(spec: &OpenAPI) -> proc_macro2::TokenStream {
    let rules = spec
        .extensions
        .get(DOCUMENT_EXTENSION)
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let rows = rules.iter().map(row);
    quote! {
        /// The console's published rate limits (`x-rate-limits` of
        /// spec/openapi.json), in the curation's order. The most specific
        /// row covering a request applies: a path row before a prefix
        /// row, a longer prefix before a shorter one.
        pub static RATE_LIMITS: &[crate::RateLimit] = &[#(#rows),*];
    }
}

fn row(rule: &Value) -> proc_macro2::TokenStream {
    let method = rule["method"].as_str().unwrap_or("*");
    let path = rule["path"].as_str().unwrap_or_default();
    let prefix = rule["prefix"].as_bool().unwrap_or(false);
    let per_second = rule["perSecond"].as_f64().unwrap_or(1.0);
    let burst = rule["burst"].as_u64().unwrap_or(1) as u32;
    let counted = match rule["counted"].as_str() {
        Some("client") => quote!(crate::Counted::Client),
        _ => quote!(crate::Counted::Token),
    };
    let label = rule["label"].as_str().unwrap_or_default();
    quote! {
        crate::RateLimit {
            method: #method,
            path: #path,
            prefix: #prefix,
            per_second: #per_second,
            burst: #burst,
            counted: #counted,
            label: #label,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(text: &str) -> RateLimitRule {
        toml::from_str(text).unwrap()
    }

    fn paths(list: &[(&str, &str)]) -> BTreeMap<String, BTreeMap<usize, (String, Value)>> {
        let mut out: BTreeMap<String, BTreeMap<usize, (String, Value)>> = BTreeMap::new();
        for (i, (method, path)) in list.iter().enumerate() {
            out.entry(format!("/api{path}"))
                .or_default()
                .insert(i, (method.to_string(), json!({"operationId": path})));
        }
        out
    }

    fn limit_of<'a>(
        paths: &'a BTreeMap<String, BTreeMap<usize, (String, Value)>>,
        path: &str,
        method: &str,
    ) -> Option<&'a Value> {
        paths[&format!("/api{path}")]
            .values()
            .find(|(m, _)| m == method)
            .and_then(|(_, op)| op.get(EXTENSION))
    }

    #[test]
    fn the_most_specific_rule_wins_and_segments_match_whole() {
        let mut ops = paths(&[
            ("get", "/threats"),
            ("get", "/threats/{id}/notes"),
            ("get", "/users"),
            ("post", "/users/login"),
            ("get", "/user"),
            ("get", "/agents"),
        ]);
        let rules = [
            rule("path = '/threats'\nper_second = 10\nburst = 50"),
            rule("prefix = '/threats'\nper_second = 100\nburst = 1000"),
            rule("prefix = '/users'\nper_second = 40\nburst = 80"),
            rule("prefix = '/users/login'\nper_second = 1\ncounted = 'client'"),
            rule("prefix = '/user'\nper_second = 2\nburst = 5"),
        ];
        apply(&mut ops, &rules, "/api").unwrap();
        assert_eq!(limit_of(&ops, "/threats", "get").unwrap()["burst"], 50);
        let notes = limit_of(&ops, "/threats/{id}/notes", "get").unwrap();
        assert_eq!(notes["burst"], 1000);
        assert_eq!(notes["shared"], "prefix /api/threats");
        assert_eq!(notes["label"], "threats");
        assert_eq!(limit_of(&ops, "/users", "get").unwrap()["perSecond"], 40.0);
        let login = limit_of(&ops, "/users/login", "post").unwrap();
        assert_eq!(login["counted"], "client");
        assert_eq!(login["perSecond"], 1.0);
        assert_eq!(limit_of(&ops, "/user", "get").unwrap()["perSecond"], 2.0);
        assert!(limit_of(&ops, "/agents", "get").is_none());
        assert_eq!(
            describe(notes),
            "Rate limit: 100 a second per API token (bursts of 1000), shared by every operation below `/api/threats`."
        );
    }

    #[test]
    fn rates_read_per_minute_and_hour_and_describe_themselves() {
        let mut ops = paths(&[("post", "/scan"), ("post", "/init"), ("get", "/q/{id}")]);
        let rules = [
            rule("path = '/scan'\nmethod = 'POST'\nper_hour = 0.125"),
            rule("path = '/init'\nper_minute = 1"),
            rule("path = '/q/{id}'\nper_second = 2\nlabel = 'poll'"),
        ];
        apply(&mut ops, &rules, "/api").unwrap();
        let scan = limit_of(&ops, "/scan", "post").unwrap();
        assert_eq!(scan["shared"], "POST /api/scan");
        assert_eq!(describe(scan), "Rate limit: 0.125 an hour per API token.");
        let init = limit_of(&ops, "/init", "post").unwrap();
        assert_eq!(
            describe(init),
            "Rate limit: 1 a minute per API token, shared by every method of `/api/init`."
        );
        assert_eq!(limit_of(&ops, "/q/{id}", "get").unwrap()["label"], "poll");
    }

    #[test]
    fn bad_rules_are_refused_by_name() {
        let cases = [
            (
                "prefix = '/a'\npath = '/a'\nper_second = 1",
                "exactly one of prefix and path",
            ),
            (
                "prefix = '/a'\nper_second = 1\nper_minute = 1",
                "exactly one of per_second",
            ),
            ("prefix = '/a'", "exactly one of per_second"),
            ("prefix = '/a'\nper_second = 0", "positive"),
            ("prefix = '/a'\nper_second = 1\nburst = 0", "burst"),
            ("prefix = '/a'\nper_second = 1\ncounted = 'ip'", "counted"),
            ("prefix = 'a'\nper_second = 1", "starts with /"),
            (
                "prefix = '/a'\nmethod = 'GET'\nper_second = 1",
                "every method",
            ),
        ];
        for (text, expected) in cases {
            let mut ops = paths(&[("get", "/a")]);
            let error = apply(&mut ops, &[rule(text)], "/api")
                .unwrap_err()
                .to_string();
            assert!(error.contains(expected), "{text}: {error}");
        }
        let mut ops = paths(&[("get", "/a")]);
        let twice = [
            rule("prefix = '/a'\nper_second = 1"),
            rule("prefix = '/a'\nper_second = 2"),
        ];
        let error = apply(&mut ops, &twice, "/api").unwrap_err().to_string();
        assert!(error.contains("written twice"), "{error}");
    }
}
