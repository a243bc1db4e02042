//! Input checks shared by the composite commands. Each returns
//! [`Error::InvalidInput`] naming the input and what is wrong with it, so a
//! bad value is refused before anything is sent. Secrets are never echoed.

use std::fmt::Display;

use secrecy::{ExposeSecret, SecretString};

use crate::Error;

/// `values` has at least one entry, and none is blank. Returns the values
/// trimmed.
pub(crate) fn required_list(name: &str, values: &[String]) -> Result<Vec<String>, Error> {
    if values.is_empty() {
        return Err(Error::invalid(format!(
            "{name}: at least one value is required"
        )));
    }
    optional_list(name, values)
}

/// No entry of `values` is blank. Returns the values trimmed.
pub(crate) fn optional_list(name: &str, values: &[String]) -> Result<Vec<String>, Error> {
    values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let v = v.trim();
            if v.is_empty() {
                Err(Error::invalid(format!("{name}[{i}] is empty")))
            } else {
                Ok(v.to_string())
            }
        })
        .collect()
}

/// A non-blank single value, trimmed.
pub(crate) fn required(name: &str, value: &str) -> Result<String, Error> {
    let v = value.trim();
    if v.is_empty() {
        return Err(Error::invalid(format!("{name} is required")));
    }
    Ok(v.to_string())
}

/// A SentinelOne object id: decimal digits only (agent, threat, site,
/// group, activity ids).
pub(crate) fn id(name: &str, value: &str) -> Result<String, Error> {
    let v = required(name, value)?;
    if !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::invalid(format!(
            "{name} {v:?} is not a SentinelOne id (decimal digits)"
        )));
    }
    Ok(v)
}

/// Every entry is a SentinelOne id (see [`id`]).
pub(crate) fn ids(name: &str, values: &[String]) -> Result<Vec<String>, Error> {
    values
        .iter()
        .enumerate()
        .map(|(i, v)| id(&format!("{name}[{i}]"), v))
        .collect()
}

/// A SHA-1 digest: 40 hexadecimal characters. Returned in lower case.
pub(crate) fn sha1(name: &str, value: &str) -> Result<String, Error> {
    let v = value.trim();
    if v.len() != 40 || !v.bytes().all(|b| b.is_ascii_hexdigit()) {
        let hint = match v.len() {
            32 if v.bytes().all(|b| b.is_ascii_hexdigit()) => " (this looks like an MD5)",
            64 if v.bytes().all(|b| b.is_ascii_hexdigit()) => " (this looks like a SHA-256)",
            _ => "",
        };
        return Err(Error::invalid(format!(
            "{name} {v:?} is not a SHA-1 hash: 40 hexadecimal characters expected{hint}"
        )));
    }
    Ok(v.to_ascii_lowercase())
}

/// Every entry is a SHA-1 digest (see [`sha1`]).
pub(crate) fn sha1s(name: &str, values: &[String]) -> Result<Vec<String>, Error> {
    values
        .iter()
        .enumerate()
        .map(|(i, v)| sha1(&format!("{name}[{i}]"), v))
        .collect()
}

/// An absolute file path on an endpoint: `C:\…`, `\\server\share\…` or
/// `/…`.
pub(crate) fn absolute_path(name: &str, value: &str) -> Result<String, Error> {
    let v = required(name, value)?;
    let b = v.as_bytes();
    let windows_drive = b.len() >= 3
        && b[0].is_ascii_alphabetic()
        && b[1] == b':'
        && (b[2] == b'\\' || b[2] == b'/');
    let unc = v.starts_with("\\\\");
    let posix = v.starts_with('/');
    if !(windows_drive || unc || posix) {
        return Err(Error::invalid(format!(
            "{name} {v:?} is not an absolute path (C:\\…, \\\\server\\share\\… or /…)"
        )));
    }
    Ok(v)
}

/// An archive password as SentinelOne requires it: 10 or more characters
/// with upper and lower case letters, a digit and a symbol. The message
/// names what is missing, never the password.
pub(crate) fn archive_password(name: &str, password: &SecretString) -> Result<(), Error> {
    let p = password.expose_secret();
    let mut missing = Vec::new();
    if p.chars().count() < 10 {
        missing.push("at least 10 characters");
    }
    if !p.chars().any(|c| c.is_uppercase()) {
        missing.push("an upper case letter");
    }
    if !p.chars().any(|c| c.is_lowercase()) {
        missing.push("a lower case letter");
    }
    if !p.chars().any(|c| c.is_ascii_digit()) {
        missing.push("a digit");
    }
    if !p
        .chars()
        .any(|c| !c.is_alphanumeric() && !c.is_whitespace())
    {
        missing.push("a symbol");
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "{name} is too weak: it needs {}",
            missing.join(", ")
        )))
    }
}

/// `value` lies in `min..=max`.
pub(crate) fn in_range<T: PartialOrd + Display>(
    name: &str,
    value: T,
    min: T,
    max: T,
) -> Result<T, Error> {
    if value < min || value > max {
        return Err(Error::invalid(format!(
            "{name} {value} is out of range: {min} to {max}"
        )));
    }
    Ok(value)
}

/// `values` has at most `max` entries.
pub(crate) fn at_most<T>(name: &str, values: &[T], max: usize) -> Result<(), Error> {
    if values.len() > max {
        return Err(Error::invalid(format!(
            "{name}: {} given, at most {max} allowed",
            values.len()
        )));
    }
    Ok(())
}

/// `text` has at most `max` characters (not bytes).
pub(crate) fn max_chars(name: &str, text: &str, max: usize) -> Result<(), Error> {
    let n = text.chars().count();
    if n > max {
        return Err(Error::invalid(format!(
            "{name} is {n} characters long, at most {max} allowed"
        )));
    }
    Ok(())
}

/// `from` is strictly before `to`.
pub(crate) fn time_range<T: PartialOrd + Display>(from: &T, to: &T) -> Result<(), Error> {
    if from >= to {
        return Err(Error::invalid(format!(
            "the time range is empty: start {from} is not before end {to}"
        )));
    }
    Ok(())
}

/// The ids of items a console listing returned, checked before an action
/// is sent on them: each must be a SentinelOne id (decimal digits), and
/// each is kept once (the first item with it, in listing order). `what`
/// names the items in the error (`threat`, `agent`); a missing or
/// malformed id is an error naming the item's place in the listing, so a
/// destructive action is never sent for an id the console made up.
pub(crate) fn listed_ids<T>(
    what: &str,
    items: impl IntoIterator<Item = T>,
    id_of: impl Fn(&T) -> Option<&str>,
) -> Result<Vec<(String, T)>, Error> {
    let mut seen = std::collections::HashSet::new();
    let mut kept = Vec::new();
    for (i, item) in items.into_iter().enumerate() {
        let id = id_of(&item).unwrap_or_default();
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::invalid(format!(
                "the console listed {what} #{} with id {id:?}, not a SentinelOne id (decimal digits); nothing was sent",
                i + 1
            )));
        }
        if seen.insert(id.to_string()) {
            kept.push((id.to_string(), item));
        }
    }
    Ok(kept)
}

/// Refuses a request of `operation` whose path is not its path template
/// with each `{parameter}` filled by one ordinary segment: a value that is
/// empty, `.` or `..`, or holds `/` or `\` (even percent-encoded, even
/// twice) would send the request elsewhere. The URL is compared after
/// `url` normalised it, so a dot segment shows as a path that no longer
/// matches. Requests named after no operation of the spec, or after one
/// without path parameters (hand-built ones), are not checked: no
/// parameter can have moved them.
pub(crate) fn request_path(operation: &str, url: &url::Url) -> Result<(), Error> {
    let Some(spec) = sentinelone_generated::answer(operation) else {
        return Ok(());
    };
    if !spec.path.contains('{') {
        return Ok(());
    }
    let template: Vec<&str> = spec.path.split('/').collect();
    let actual: Vec<&str> = url.path().split('/').collect();
    if template.len() != actual.len() {
        return Err(path_changed(operation, spec.path, url.path()));
    }
    for (expected, segment) in template.iter().zip(&actual) {
        match path_param(expected) {
            Some(name) if !ordinary_segment(segment) => {
                return Err(Error::invalid(format!(
                    "{operation}: path parameter {name} {segment:?} is not allowed (empty, `.`, `..`, or holding / or \\, also percent-encoded); nothing was sent"
                )));
            }
            None if expected != segment => {
                return Err(path_changed(operation, spec.path, url.path()));
            }
            _ => {}
        }
    }
    Ok(())
}

/// The error for a request whose path no longer has its template's shape.
fn path_changed(operation: &str, template: &str, path: &str) -> Error {
    let params: Vec<&str> = template.split('/').filter_map(path_param).collect();
    Error::invalid(format!(
        "{operation}: path parameter {} would change the request path to {path} (expected {template}); nothing was sent",
        params.join(", ")
    ))
}

/// The name of a `{name}` template segment.
fn path_param(segment: &str) -> Option<&str> {
    segment.strip_prefix('{')?.strip_suffix('}')
}

/// A path segment that stays one segment however often it is
/// percent-decoded: not empty, not a dot segment, no `/` or `\`.
fn ordinary_segment(segment: &str) -> bool {
    let mut text = segment.to_string();
    // Each round peels one layer of percent-encoding; four is more than
    // any server decodes.
    for _ in 0..4 {
        if text.is_empty() || text == "." || text == ".." || text.contains(['/', '\\']) {
            return false;
        }
        let decoded = percent_encoding::percent_decode_str(&text)
            .decode_utf8_lossy()
            .into_owned();
        if decoded == text {
            return true;
        }
        text = decoded;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(e: Error) -> String {
        match e {
            Error::InvalidInput { message } => message,
            other => panic!("not InvalidInput: {other:?}"),
        }
    }

    #[test]
    fn lists() {
        assert_eq!(
            message(required_list("computer_names", &[]).unwrap_err()),
            "computer_names: at least one value is required"
        );
        assert_eq!(
            message(required_list("computer_names", &["a".into(), " ".into()]).unwrap_err()),
            "computer_names[1] is empty"
        );
        assert_eq!(
            required_list("x", &[" pc1 ".into()]).unwrap(),
            vec!["pc1".to_string()]
        );
    }

    #[test]
    fn ids_are_digits() {
        assert_eq!(id("agent_id", " 123 ").unwrap(), "123");
        assert_eq!(
            message(id("agent_id", "12a").unwrap_err()),
            "agent_id \"12a\" is not a SentinelOne id (decimal digits)"
        );
        assert_eq!(
            message(ids("threat_ids", &["1".into(), "x".into()]).unwrap_err()),
            "threat_ids[1] \"x\" is not a SentinelOne id (decimal digits)"
        );
        assert_eq!(
            message(id("agent_id", "").unwrap_err()),
            "agent_id is required"
        );
    }

    #[test]
    fn listed_ids_are_checked_and_kept_once() {
        let listed = [Some("7"), Some("8"), Some("7")];
        let kept = listed_ids("threat", listed, |id| *id).unwrap();
        let ids: Vec<&str> = kept.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(ids, ["7", "8"]);
        for bad in [None, Some(""), Some(" 7"), Some("7x")] {
            let error = listed_ids("agent", [Some("1"), bad], |id| *id).unwrap_err();
            assert!(
                message(error).starts_with("the console listed agent #2 with id "),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn path_parameters_stay_one_segment() {
        let url = |path: &str| url::Url::parse(&format!("https://c.example{path}")).unwrap();
        let op = "get_threat_timeline";
        assert!(request_path(op, &url("/web/api/v2.1/threats/15/timeline")).is_ok());
        assert_eq!(
            message(request_path(op, &url("/web/api/v2.1/threats/../timeline")).unwrap_err()),
            "get_threat_timeline: path parameter threat_id would change the request path to /web/api/v2.1/timeline (expected /web/api/v2.1/threats/{threat_id}/timeline); nothing was sent"
        );
        for bad in ["", "%2e%2E", "%252e", "a%2Fb", "a%5cb", "%25252f"] {
            let path = format!("/web/api/v2.1/threats/{bad}/timeline");
            assert!(request_path(op, &url(&path)).is_err(), "{bad}");
        }
        assert!(request_path(op, &url("/web/api/v2.1/threats/15/other")).is_err());
        assert!(request_path("not_in_the_spec", &url("/anything/../else")).is_ok());
        assert!(request_path("export_agents", &url("/web/api/v2.1/export/other")).is_ok());
    }

    #[test]
    fn sha1_hashes() {
        let h = "A94A8FE5CCB19BA61C4C0873D391E987982FBBD3";
        assert_eq!(sha1("hash", h).unwrap(), h.to_ascii_lowercase());
        assert_eq!(
            message(sha1("hash", "d41d8cd98f00b204e9800998ecf8427e").unwrap_err()),
            "hash \"d41d8cd98f00b204e9800998ecf8427e\" is not a SHA-1 hash: 40 hexadecimal characters expected (this looks like an MD5)"
        );
        assert!(message(sha1("hash", &"a".repeat(64)).unwrap_err()).ends_with("like a SHA-256)"));
        assert!(sha1("hash", &"g".repeat(40)).is_err());
    }

    #[test]
    fn paths() {
        for ok in [
            "C:\\Windows\\x.exe",
            "c:/temp/a",
            "\\\\srv\\share\\f",
            "/etc/hosts",
        ] {
            assert_eq!(absolute_path("files[0]", ok).unwrap(), ok);
        }
        assert_eq!(
            message(absolute_path("files[0]", "temp\\a.txt").unwrap_err()),
            "files[0] \"temp\\\\a.txt\" is not an absolute path (C:\\…, \\\\server\\share\\… or /…)"
        );
    }

    #[test]
    fn random_archive_passwords_meet_the_rules_and_differ() {
        let passwords: std::collections::HashSet<String> = (0..200)
            .map(|_| crate::files::random_password().unwrap())
            .inspect(|p| archive_password("password", p).unwrap())
            .map(|p| p.expose_secret().to_string())
            .collect();
        assert_eq!(passwords.len(), 200);
        // Every letter and digit turns up: no part of the alphabet is lost.
        let seen: std::collections::HashSet<char> =
            passwords.iter().flat_map(|p| p[3..23].chars()).collect();
        assert_eq!(seen.len(), 62);
    }

    #[test]
    fn passwords_never_echoed() {
        assert!(archive_password("password", &SecretString::from("Abcdefgh1!")).is_ok());
        let weak =
            message(archive_password("password", &SecretString::from("abcdefgh")).unwrap_err());
        assert_eq!(
            weak,
            "password is too weak: it needs at least 10 characters, an upper case letter, a digit, a symbol"
        );
        assert!(!weak.contains("abcdefgh"));
    }

    #[test]
    fn ranges_and_sizes() {
        assert_eq!(in_range("limit", 5, 1, 10).unwrap(), 5);
        assert_eq!(
            message(in_range("limit", 0, 1, 100_000).unwrap_err()),
            "limit 0 is out of range: 1 to 100000"
        );
        assert_eq!(
            message(at_most("files", &[1; 11], 10).unwrap_err()),
            "files: 11 given, at most 10 allowed"
        );
        assert!(max_chars("message", &"é".repeat(140), 140).is_ok());
        assert_eq!(
            message(max_chars("message", &"a".repeat(141), 140).unwrap_err()),
            "message is 141 characters long, at most 140 allowed"
        );
        assert_eq!(
            message(time_range(&2, &1).unwrap_err()),
            "the time range is empty: start 2 is not before end 1"
        );
    }
}
