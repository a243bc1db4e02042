//! The limits the API declares on request values (how many items a list
//! may hold, how long a string must be, the range of a number, a pattern),
//! checked by the transport before anything is sent.
//!
//! codegen carries the vendor's `maxItems`, `minItems`, `minLength`,
//! `maxLength`, `pattern`, `minimum` and `maximum` of every query and path
//! parameter and every request-body value into the generated answer table
//! ([`sentinelone_generated::constraints`]). Every request that goes
//! through the client's transport (generated builders, requests built by
//! operation name, composites) is checked against its operation's list:
//! query values (a comma-joined list counts its items by splitting on `,`),
//! path segments, and the JSON body at each constraint's path. A violation
//! is [`Error::InvalidInput`] naming the operation, the value and the
//! limit; the request is not sent.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use sentinelone_generated::{Constraint, Limits, Place};
use serde_json::Value;

use crate::Error;

/// The most characters of a refused value quoted in an error.
const QUOTED_CHARS: usize = 64;

/// Checks `request` of `operation` against the limits its operation
/// declares. Requests of operations the spec does not have (hand-built
/// ones) have no limits and pass.
pub(crate) fn check_request(operation: &str, request: &reqwest::Request) -> Result<(), Error> {
    let constraints = sentinelone_generated::constraints(operation);
    if constraints.is_empty() {
        return Ok(());
    }
    let body = if constraints.iter().any(|c| c.place == Place::Body) {
        request
            .body()
            .and_then(reqwest::Body::as_bytes)
            .and_then(|bytes| serde_json::from_slice::<Value>(bytes).ok())
    } else {
        None
    };
    check(operation, constraints, request.url(), body.as_ref())
}

/// Checks the query, path and (parsed) body of a request of `operation`
/// against `constraints`.
pub(crate) fn check(
    operation: &str,
    constraints: &[Constraint],
    url: &url::Url,
    body: Option<&Value>,
) -> Result<(), Error> {
    let mut query: HashMap<String, Vec<String>> = HashMap::new();
    if constraints.iter().any(|c| c.place == Place::Query) {
        for (name, value) in url.query_pairs() {
            query
                .entry(name.into_owned())
                .or_default()
                .push(value.into_owned());
        }
    }
    let path_values = if constraints.iter().any(|c| c.place == Place::Path) {
        path_values(operation, url)
    } else {
        HashMap::new()
    };
    let refuse = |message: String| Err(Error::invalid(format!("{operation}: {message}")));
    for constraint in constraints {
        let outcome = match constraint.place {
            Place::Query => match query.get(constraint.name) {
                Some(values) => query_value(constraint, values),
                None => Ok(()),
            },
            Place::Path => match path_values.get(constraint.name) {
                Some(value) => text_value(constraint.name, value, &constraint.limits),
                None => Ok(()),
            },
            Place::Body => match body {
                Some(body) => body_values(constraint, body),
                None => Ok(()),
            },
        };
        if let Err(message) = outcome {
            return refuse(message);
        }
    }
    Ok(())
}

/// The limits `operation` declares on `name` at `place`, if any.
pub(crate) fn declared(operation: &str, place: Place, name: &str) -> Option<&'static Constraint> {
    sentinelone_generated::constraints(operation)
        .iter()
        .find(|c| c.place == place && c.name == name)
}

/// How many items of list `name` at `place` one request of `operation`
/// may carry: its `maxItems`, at least 1; unlimited when none is declared.
/// Composites split longer lists into batches of this size.
pub(crate) fn batch_size(operation: &str, place: Place, name: &str) -> usize {
    declared(operation, place, name)
        .and_then(|c| c.limits.max_items)
        .map_or(usize::MAX, |max| {
            usize::try_from(max).unwrap_or(usize::MAX).max(1)
        })
}

/// Checks a composite's input list `values` (called `input` in the error)
/// before anything is sent, against what `operation` declares for `name`
/// at `place`: every item's limits, and with `counted` also the number of
/// items (leave it out for a list the composite splits into batches).
pub(crate) fn check_list(
    input: &str,
    operation: &str,
    place: Place,
    name: &str,
    values: &[String],
    counted: bool,
) -> Result<(), Error> {
    let Some(constraint) = declared(operation, place, name) else {
        return Ok(());
    };
    let checked = if counted {
        count(name, values.len(), &constraint.limits)
    } else {
        Ok(())
    }
    .and_then(|()| {
        values
            .iter()
            .try_for_each(|v| text_item(name, v, &constraint.items))
    });
    checked.map_err(|message| {
        Error::invalid(format!("{input}: {operation}: {message}; nothing was sent"))
    })
}

/// The decoded values of `operation`'s path parameters in `url`, by name.
fn path_values(operation: &str, url: &url::Url) -> HashMap<&'static str, String> {
    let Some(answer) = sentinelone_generated::answer(operation) else {
        return HashMap::new();
    };
    answer
        .path
        .split('/')
        .zip(url.path().split('/'))
        .filter_map(|(template, segment)| {
            let name = template.strip_prefix('{')?.strip_suffix('}')?;
            let value = percent_encoding::percent_decode_str(segment)
                .decode_utf8_lossy()
                .into_owned();
            Some((name, value))
        })
        .collect()
}

/// A query parameter as sent (every occurrence). A parameter limited in
/// its items is a list: each occurrence is comma-joined, an empty one
/// holds no item.
fn query_value(constraint: &Constraint, values: &[String]) -> Result<(), String> {
    let name = constraint.name;
    let list = constraint.limits.max_items.is_some()
        || constraint.limits.min_items.is_some()
        || !constraint.items.is_none();
    if !list {
        return values
            .iter()
            .try_for_each(|v| text_value(name, v, &constraint.limits));
    }
    let items: Vec<&str> = values
        .iter()
        .filter(|v| !v.is_empty())
        .flat_map(|v| v.split(','))
        .collect();
    count(name, items.len(), &constraint.limits)?;
    items
        .iter()
        .try_for_each(|item| text_item(name, item, &constraint.items))
}

/// The body values at `constraint.name` (every one, below lists), each
/// checked; values absent or `null` are not.
fn body_values(constraint: &Constraint, body: &Value) -> Result<(), String> {
    let mut found = Vec::new();
    collect(body, constraint.name, &mut found);
    found
        .into_iter()
        .try_for_each(|value| json_value(constraint, value))
}

/// The values at `path` below `value`: `.`-separated property names, a
/// name ending in `[]` standing for every item of that list.
fn collect<'v>(value: &'v Value, path: &str, found: &mut Vec<&'v Value>) {
    if path.is_empty() {
        if !value.is_null() {
            found.push(value);
        }
        return;
    }
    let (head, rest) = path.split_once('.').unwrap_or((path, ""));
    let (name, mut lists) = (head.trim_end_matches("[]"), 0);
    let mut suffix = &head[name.len()..];
    while let Some(shorter) = suffix.strip_prefix("[]") {
        lists += 1;
        suffix = shorter;
    }
    let start = if name.is_empty() {
        Some(value)
    } else {
        value.get(name)
    };
    let mut current: Vec<&Value> = start.into_iter().collect();
    for _ in 0..lists {
        current = current
            .into_iter()
            .filter_map(Value::as_array)
            .flatten()
            .collect();
    }
    for value in current {
        collect(value, rest, found);
    }
}

/// One body value: a list (its count and items), a string or a number.
fn json_value(constraint: &Constraint, value: &Value) -> Result<(), String> {
    let name = constraint.name;
    match value {
        Value::Array(items) => {
            count(name, items.len(), &constraint.limits)?;
            items.iter().try_for_each(|item| match item {
                Value::String(text) => text_item(name, text, &constraint.items),
                Value::Number(n) => number(&format!("{name} item"), n, &constraint.items),
                _ => Ok(()),
            })
        }
        Value::String(text) => text_value(name, text, &constraint.limits),
        Value::Number(n) => number(name, n, &constraint.limits),
        _ => Ok(()),
    }
}

/// How many items a list holds, against its limits.
fn count(name: &str, n: usize, limits: &Limits) -> Result<(), String> {
    let n = n as u64;
    let plural = |n: u64| if n == 1 { "item" } else { "items" };
    if let Some(max) = limits.max_items
        && n > max
    {
        return Err(format!(
            "{name} has {n} {}; at most {max} allowed",
            plural(n)
        ));
    }
    if let Some(min) = limits.min_items
        && n < min
    {
        return Err(format!(
            "{name} has {n} {}; at least {min} required",
            plural(n)
        ));
    }
    Ok(())
}

/// One item of a list, as text.
fn text_item(name: &str, item: &str, limits: &Limits) -> Result<(), String> {
    text(&format!("{name} item"), name, item, limits)
}

/// A single value sent as text: a string's limits, or a number's when it
/// reads as one.
fn text_value(name: &str, value: &str, limits: &Limits) -> Result<(), String> {
    text(name, name, value, limits)
}

/// `value`, called `what` in the message, against `limits`; `name` says
/// whether it may be quoted.
fn text(what: &str, name: &str, value: &str, limits: &Limits) -> Result<(), String> {
    let chars = value.chars().count() as u64;
    let quoted = || quote(name, value);
    if let Some(min) = limits.min_length
        && chars < min
    {
        return Err(format!(
            "{what} {} is shorter than {min} characters",
            quoted()
        ));
    }
    if let Some(max) = limits.max_length
        && chars > max
    {
        return Err(format!(
            "{what} {} is longer than {max} characters",
            quoted()
        ));
    }
    if let Some(pattern) = limits.pattern
        && let Some(regex) = compiled(pattern)
        && regex.find(value).is_none()
    {
        return Err(format!(
            "{what} {} does not match the pattern {pattern}",
            quoted()
        ));
    }
    if limits.minimum.is_some() || limits.maximum.is_some() {
        // A value that is no number is the server's to refuse.
        if let Ok(n) = value.trim().parse::<f64>() {
            return bounds(what, n, value, limits);
        }
    }
    Ok(())
}

/// A JSON number against its range.
fn number(what: &str, n: &serde_json::Number, limits: &Limits) -> Result<(), String> {
    match n.as_f64() {
        Some(value) => bounds(what, value, &n.to_string(), limits),
        None => Ok(()),
    }
}

fn bounds(what: &str, n: f64, shown: &str, limits: &Limits) -> Result<(), String> {
    if let Some(min) = limits.minimum
        && n < min
    {
        return Err(format!("{what} {shown} is below the minimum {min}"));
    }
    if let Some(max) = limits.maximum
        && n > max
    {
        return Err(format!("{what} {shown} is above the maximum {max}"));
    }
    Ok(())
}

/// `value` quoted for an error, cut to [`QUOTED_CHARS`] and redacted; the
/// value of something that sounds secret is not quoted at all.
fn quote(name: &str, value: &str) -> String {
    let lower = name.to_ascii_lowercase();
    if ["password", "secret", "token", "passphrase"]
        .iter()
        .any(|w| lower.contains(w))
    {
        return "(not shown)".to_string();
    }
    let mut shown: String = value.chars().take(QUOTED_CHARS).collect();
    if shown.len() < value.len() {
        shown.push('…');
    }
    format!("{:?}", crate::redact::redact(&shown))
}

/// The compiled `pattern`, compiled once per process, with the ECMAScript
/// syntax OpenAPI patterns are written in. `None` when it does not compile
/// (codegen keeps only patterns that do): not enforced.
fn compiled(pattern: &'static str) -> Option<regress::Regex> {
    static CACHE: OnceLock<Mutex<HashMap<&'static str, Option<regress::Regex>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let mut cache = cache
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    cache
        .entry(pattern)
        .or_insert_with(|| regress::Regex::new(pattern).ok())
        .clone()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const N: Limits = Limits::NONE;

    fn url(query: &str) -> url::Url {
        url::Url::parse(&format!("https://c.example/web/api/v2.1/threats?{query}")).unwrap()
    }

    fn message(result: Result<(), Error>) -> String {
        match result {
            Err(Error::InvalidInput { message }) => message,
            other => panic!("not refused: {other:?}"),
        }
    }

    const NAMES: Constraint = Constraint::new(
        Place::Query,
        "computerName__contains",
        N.max_items(10),
        N.min_length(2),
    );

    #[test]
    fn query_lists_are_counted_by_their_commas() {
        let names: Vec<String> = (0..11).map(|i| format!("pc{i}")).collect();
        let eleven = url(&format!("computerName__contains={}", names.join(",")));
        assert_eq!(
            message(check("list_threats", &[NAMES], &eleven, None)),
            "list_threats: computerName__contains has 11 items; at most 10 allowed"
        );
        let ten = url(&format!("computerName__contains={}", names[..10].join(",")));
        assert!(check("list_threats", &[NAMES], &ten, None).is_ok());
        // Percent-encoded commas still separate (the query is decoded first).
        let encoded = url(&format!("computerName__contains={}", names.join("%2C")));
        assert!(check("list_threats", &[NAMES], &encoded, None).is_err());
        assert!(check("list_threats", &[NAMES], &url("other=a"), None).is_ok());
        assert!(
            check(
                "list_threats",
                &[NAMES],
                &url("computerName__contains="),
                None
            )
            .is_ok()
        );
    }

    #[test]
    fn short_items_are_named() {
        assert_eq!(
            message(check(
                "list_threats",
                &[NAMES],
                &url("computerName__contains=lab1,a"),
                None
            )),
            "list_threats: computerName__contains item \"a\" is shorter than 2 characters"
        );
    }

    #[test]
    fn scalar_query_values_keep_their_ranges_lengths_and_patterns() {
        let limit = Constraint::new(Place::Query, "limit", N.minimum(1.0).maximum(1000.0), N);
        assert_eq!(
            message(check("list_threats", &[limit], &url("limit=1001"), None)),
            "list_threats: limit 1001 is above the maximum 1000"
        );
        assert_eq!(
            message(check("list_threats", &[limit], &url("limit=0"), None)),
            "list_threats: limit 0 is below the minimum 1"
        );
        assert!(check("list_threats", &[limit], &url("limit=1000"), None).is_ok());
        assert!(check("list_threats", &[limit], &url("limit=many"), None).is_ok());
        let hex = Constraint::new(
            Place::Query,
            "hash",
            N.pattern("^[0-9a-f]+$").max_length(4),
            N,
        );
        assert_eq!(
            message(check("op", &[hex], &url("hash=xyz"), None)),
            "op: hash \"xyz\" does not match the pattern ^[0-9a-f]+$"
        );
        assert_eq!(
            message(check("op", &[hex], &url("hash=abcde"), None)),
            "op: hash \"abcde\" is longer than 4 characters"
        );
        assert!(check("op", &[hex], &url("hash=ab12"), None).is_ok());
    }

    #[test]
    fn body_values_are_found_at_their_path() {
        let names = Constraint::new(
            Place::Body,
            "filter.computerName__contains",
            N.max_items(10),
            N.min_length(2),
        );
        let body = json!({"filter": {"computerName__contains": ["lab1", "x"]}, "data": {}});
        assert_eq!(
            message(check("mitigate_threats", &[names], &url(""), Some(&body))),
            "mitigate_threats: filter.computerName__contains item \"x\" is shorter than 2 characters"
        );
        let many = json!({"filter": {"computerName__contains": vec!["pc"; 12]}});
        assert_eq!(
            message(check("mitigate_threats", &[names], &url(""), Some(&many))),
            "mitigate_threats: filter.computerName__contains has 12 items; at most 10 allowed"
        );
        for fine in [
            json!({"filter": {"computerName__contains": ["lab1"]}}),
            json!({"filter": {"computerName__contains": null}}),
            json!({"filter": {}}),
            json!({}),
        ] {
            assert!(check("mitigate_threats", &[names], &url(""), Some(&fine)).is_ok());
        }
    }

    #[test]
    fn body_paths_go_into_lists_of_objects() {
        let name = Constraint::new(Place::Body, "data[].name", N.max_length(3), N);
        let body = json!({"data": [{"name": "abc"}, {"name": "abcd"}, {}]});
        assert_eq!(
            message(check("op", &[name], &url(""), Some(&body))),
            "op: data[].name \"abcd\" is longer than 3 characters"
        );
        let numbers = Constraint::new(Place::Body, "data.cores", N.max_items(2), N.minimum(1.0));
        let body = json!({"data": {"cores": [1, 0]}});
        assert_eq!(
            message(check("op", &[numbers], &url(""), Some(&body))),
            "op: data.cores item 0 is below the minimum 1"
        );
    }

    #[test]
    fn path_segments_are_checked_decoded() {
        let id = Constraint::new(Place::Path, "threat_id", N.min_length(3), N);
        let ok = url::Url::parse("https://c.example/web/api/v2.1/threats/123/timeline").unwrap();
        assert!(check("get_threat_timeline", &[id], &ok, None).is_ok());
        let short =
            url::Url::parse("https://c.example/web/api/v2.1/threats/1%32/timeline").unwrap();
        assert_eq!(
            message(check("get_threat_timeline", &[id], &short, None)),
            "get_threat_timeline: threat_id \"12\" is shorter than 3 characters"
        );
    }

    #[test]
    fn secrets_are_not_quoted() {
        let password = Constraint::new(Place::Body, "data.password", N.min_length(10), N);
        let body = json!({"data": {"password": "hunter2"}});
        let text = message(check("op", &[password], &url(""), Some(&body)));
        assert_eq!(
            text,
            "op: data.password (not shown) is shorter than 10 characters"
        );
    }

    #[test]
    fn the_generated_table_limits_list_threats_names() {
        let table = sentinelone_generated::constraints("list_threats");
        let names = table
            .iter()
            .find(|c| c.place == Place::Query && c.name == "computerName__contains")
            .expect("list_threats limits computerName__contains");
        assert_eq!(names.limits.max_items, Some(10));
        assert_eq!(names.items.min_length, Some(2));
        let body = sentinelone_generated::constraints("mitigate_threats");
        assert!(
            body.iter()
                .any(|c| c.place == Place::Body && c.name == "filter.computerName__contains")
        );
        assert!(sentinelone_generated::constraints("no_such_operation").is_empty());
    }

    #[test]
    fn composites_read_their_batch_size_and_item_limits_from_the_table() {
        assert_eq!(
            batch_size("list_threats", Place::Query, "computerName__contains"),
            10
        );
        assert_eq!(
            batch_size("list_threats", Place::Query, "no_such"),
            usize::MAX
        );
        let names = ["lab1".to_string(), "a".to_string()];
        let error = check_list(
            "computer_names",
            "list_threats",
            Place::Query,
            "computerName__contains",
            &names,
            false,
        );
        assert_eq!(
            message(error),
            "computer_names: list_threats: computerName__contains item \"a\" is shorter than 2 characters; nothing was sent"
        );
        let many: Vec<String> = (0..11).map(|i| format!("proc{i}")).collect();
        let uncounted = check_list(
            "p",
            "list_threats",
            Place::Query,
            "originatedProcess__contains",
            &many,
            false,
        );
        assert!(uncounted.is_ok());
        let counted = check_list(
            "p",
            "list_threats",
            Place::Query,
            "originatedProcess__contains",
            &many,
            true,
        );
        assert!(message(counted).contains("has 11 items; at most 10 allowed"));
    }

    #[test]
    fn patterns_compile_once() {
        assert!(compiled("^a+$").is_some_and(|r| r.find("aa").is_some()));
        assert!(compiled("(").is_none());
    }
}
