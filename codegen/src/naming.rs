//! Readable, stable operationIds derived from method + path.
//!
//! The rule: a verb, then the resource words. The verb is the first path word
//! that names an action (`/dv/init-query` -> `init_dv_query`,
//! `/agents/actions/connect` -> `connect_agents`); otherwise it follows from
//! the method and the path's shape (`GET /agents` -> `list_agents`,
//! `GET /groups/{group_id}` -> `get_group`). The curation file overrides any
//! name that reads badly, and collisions are resolved by naming the path
//! parameters that tell two operations apart.

use heck::ToSnakeCase;

/// Path words that are verbs: when one appears, it leads the operationId.
const VERBS: &[&str] = &[
    "abort",
    "activate",
    "add",
    "approve",
    "assign",
    "cancel",
    "check",
    "clear",
    "connect",
    "copy",
    "count",
    "deactivate",
    "decommission",
    "disable",
    "disconnect",
    "download",
    "enable",
    "execute",
    "expire",
    "export",
    "fetch",
    "generate",
    "import",
    "init",
    "initiate",
    "mark",
    "mitigate",
    "move",
    "ping",
    "randomize",
    "reactivate",
    "regenerate",
    "reject",
    "remove",
    "reorder",
    "resend",
    "reset",
    "restart",
    "restore",
    "revert",
    "revoke",
    "run",
    "set",
    "shutdown",
    "start",
    "stop",
    "sync",
    "terminate",
    "test",
    "uninstall",
    "validate",
    "verify",
];

/// One path segment, classified.
enum Segment {
    Word(Vec<String>),
    /// The segment after `/actions/`: its first word is the verb.
    Action(Vec<String>),
    Param(String),
}

fn words(segment: &str) -> Vec<String> {
    segment
        .to_snake_case()
        .split('_')
        .map(str::to_string)
        .collect()
}

fn segments(relative_path: &str) -> Vec<Segment> {
    let mut after_actions = false;
    let mut out = Vec::new();
    for s in relative_path
        .split('/')
        .filter(|s| !s.is_empty() && *s != "private")
    {
        if s == "actions" {
            after_actions = true;
            continue;
        }
        out.push(
            if let Some(p) = s.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                Segment::Param(p.to_string())
            } else if after_actions {
                Segment::Action(words(s))
            } else {
                Segment::Word(words(s))
            },
        );
        after_actions = false;
    }
    out
}

/// Singular form of an English plural, good enough for API nouns.
pub fn singular(word: &str) -> String {
    if let Some(stem) = word.strip_suffix("ies") {
        return format!("{stem}y");
    }
    for keep in ["ss", "us", "is", "status"] {
        if word.ends_with(keep) {
            return word.to_string();
        }
    }
    for suffix in ["sses", "xes", "ches", "shes"] {
        if word.ends_with(suffix) {
            return word[..word.len() - 2].to_string();
        }
    }
    word.strip_suffix('s').unwrap_or(word).to_string()
}

fn is_plural(word: &str) -> bool {
    singular(word) != word
}

/// The operationId the rule gives for `method` on `relative_path` (the path
/// below the API prefix, e.g. `/agents/{agent_id}/uploads/{activity_id}`).
pub fn derive(method: &str, relative_path: &str) -> String {
    let segs = segments(relative_path);
    let ends_with_param = matches!(segs.last(), Some(Segment::Param(_)));

    // Resource words; a noun followed by a parameter names one item.
    let mut resource: Vec<String> = Vec::new();
    let mut verb: Option<String> = None;
    let mut object: Vec<String> = Vec::new();
    for (i, seg) in segs.iter().enumerate() {
        match seg {
            Segment::Param(_) => {
                if verb.is_none()
                    && let Some(last) = resource.last_mut()
                {
                    *last = singular(last);
                }
            }
            Segment::Action(words) if verb.is_none() => {
                verb = Some(words[0].clone());
                object.extend(words[1..].iter().cloned());
            }
            Segment::Word(words) | Segment::Action(words) => {
                if verb.is_none() && VERBS.contains(&words[0].as_str()) {
                    verb = Some(words[0].clone());
                    object.extend(words[1..].iter().cloned());
                } else if verb.is_some() && i == segs.len() - 1 && object.is_empty() {
                    object.extend(words.iter().cloned());
                } else {
                    resource.extend(words.iter().cloned());
                }
            }
        }
    }

    let name = match verb {
        Some(verb) => {
            // "fetch-logs" on agents reads as fetch_agent_logs.
            if !object.is_empty()
                && let Some(last) = resource.last_mut()
            {
                *last = singular(last);
            }
            let mut words = vec![verb];
            words.extend(resource);
            words.extend(object);
            words.join("_")
        }
        None => {
            let last_plural = resource.last().is_some_and(|w| is_plural(w));
            let verb = match method {
                "GET" if ends_with_param || !last_plural => "get",
                "GET" => "list",
                "POST" if ends_with_param => "post",
                "POST" => {
                    if let Some(last) = resource.last_mut() {
                        *last = singular(last);
                    }
                    "create"
                }
                "PUT" => "update",
                "DELETE" => "delete",
                other => return format!("{}_{}", other.to_lowercase(), resource.join("_")),
            };
            format!("{verb}_{}", resource.join("_"))
        }
    };
    name.trim_matches('_').replace("__", "_")
}

/// A suffix that tells apart operations the rule names alike:
/// `_by_<param>` for each path parameter, or `_private` for `/private/` paths.
pub fn disambiguator(relative_path: &str) -> String {
    let params: Vec<String> = segments(relative_path)
        .into_iter()
        .filter_map(|s| match s {
            Segment::Param(p) => Some(p.trim_end_matches("_id").to_string()),
            Segment::Word(_) | Segment::Action(_) => None,
        })
        .collect();
    let mut suffix = String::new();
    if relative_path.starts_with("/private/") {
        suffix.push_str("_private");
    }
    if !params.is_empty() {
        suffix.push_str("_by_");
        suffix.push_str(&params.join("_and_"));
    }
    suffix
}

/// "list_agents" -> "List agents": our own one-line summary of an operation.
pub fn humanize(operation_id: &str) -> String {
    let text = operation_id.replace('_', " ");
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derives_readable_names() {
        assert_eq!(derive("GET", "/agents"), "list_agents");
        assert_eq!(derive("GET", "/groups/{group_id}"), "get_group");
        assert_eq!(derive("POST", "/groups"), "create_group");
        assert_eq!(derive("DELETE", "/exclusions"), "delete_exclusions");
        assert_eq!(derive("PUT", "/groups/{group_id}"), "update_group");
        assert_eq!(derive("POST", "/agents/actions/connect"), "connect_agents");
        assert_eq!(
            derive("POST", "/agents/actions/broadcast"),
            "broadcast_agents"
        );
        assert_eq!(
            derive("POST", "/agents/actions/fetch-logs"),
            "fetch_agent_logs"
        );
        assert_eq!(derive("POST", "/dv/init-query"), "init_dv_query");
        assert_eq!(derive("POST", "/dv/cancel-query"), "cancel_dv_query");
        assert_eq!(derive("GET", "/dv/query-status"), "get_dv_query_status");
        assert_eq!(
            derive("POST", "/threats/mitigate/{action}"),
            "mitigate_threats"
        );
        assert_eq!(derive("GET", "/export/agents"), "export_agents");
        assert_eq!(derive("GET", "/agents/count"), "count_agents");
        assert_eq!(
            derive("GET", "/threats/{threat_id}/notes"),
            "list_threat_notes"
        );
    }

    #[test]
    fn singulars() {
        assert_eq!(singular("policies"), "policy");
        assert_eq!(singular("status"), "status");
        assert_eq!(singular("agents"), "agent");
        assert_eq!(singular("hashes"), "hash");
        assert_eq!(singular("analysis"), "analysis");
    }

    #[test]
    fn disambiguates_by_params() {
        assert_eq!(
            disambiguator("/firewall-control/{firewall_rule_category}/reorder"),
            "_by_firewall_rule_category"
        );
        assert_eq!(disambiguator("/private/a/b"), "_private");
    }
}
