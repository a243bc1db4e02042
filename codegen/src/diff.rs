//! `codegen diff <newer vendor file>`: what a SentinelOne API update would
//! change in the curated spec, operation by operation. (Given SentinelOne's
//! endpoint index instead, `codegen diff` reports through
//! [`crate::index2026::report`].)

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use serde_json::{Map, Value};

/// Operations keyed by `"METHOD /path"`, each reduced to comparable facts.
type Facts = BTreeMap<String, OperationFacts>;

/// What the diff compares for one operation.
#[derive(Debug, PartialEq)]
struct OperationFacts {
    operation_id: String,
    parameters: BTreeMap<String, Value>,
    request: Value,
    response: Value,
}

/// Inlines `$ref`s; a reference back into a schema being inlined stays a
/// named reference, so recursive schemas terminate.
fn resolve(value: &Value, schemas: &Map<String, Value>, open: &mut Vec<String>) -> Value {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get("$ref") {
                let name = r.rsplit('/').next().unwrap_or(r).to_string();
                return match schemas.get(&name) {
                    Some(target) if !open.contains(&name) => {
                        open.push(name);
                        let inlined = resolve(target, schemas, open);
                        open.pop();
                        inlined
                    }
                    _ => Value::String(format!("ref {name}")),
                };
            }
            Value::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), resolve(v, schemas, open)))
                    .collect(),
            )
        }
        Value::Array(items) => {
            Value::Array(items.iter().map(|v| resolve(v, schemas, open)).collect())
        }
        other => other.clone(),
    }
}

fn facts(spec: &Value) -> Facts {
    let empty = Map::new();
    let schemas = spec["components"]["schemas"].as_object().unwrap_or(&empty);
    let mut out = Facts::new();
    for (path, item) in spec["paths"].as_object().unwrap_or(&empty) {
        for (method, op) in item.as_object().unwrap_or(&empty) {
            let parameters = op["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|p| {
                    let key = format!(
                        "{} {}",
                        p["in"].as_str().unwrap_or("?"),
                        p["name"].as_str().unwrap_or("?")
                    );
                    (key, resolve(p, schemas, &mut Vec::new()))
                })
                .collect();
            let response = op["responses"]
                .as_object()
                .and_then(|r| r.iter().find(|(code, _)| code.starts_with('2')))
                .map(|(_, r)| resolve(r, schemas, &mut Vec::new()))
                .unwrap_or(Value::Null);
            out.insert(
                format!("{} {path}", method.to_uppercase()),
                OperationFacts {
                    operation_id: op["operationId"].as_str().unwrap_or_default().to_string(),
                    parameters,
                    request: resolve(&op["requestBody"], schemas, &mut Vec::new()),
                    response,
                },
            );
        }
    }
    out
}

/// A readable report of the differences between the curated spec and the
/// import of a newer vendor file (with every operation selected).
pub fn report(curated: &Value, newer: &Value) -> String {
    let old = facts(curated);
    let new = facts(newer);
    let mut text = String::new();
    let removed: Vec<&String> = old.keys().filter(|k| !new.contains_key(*k)).collect();
    let added: Vec<&String> = new.keys().filter(|k| !old.contains_key(*k)).collect();
    let _ = writeln!(text, "Removed from the API ({}):", removed.len());
    for key in &removed {
        let _ = writeln!(text, "  - {key} ({})", old[*key].operation_id);
    }
    let mut changed = 0;
    let mut details = String::new();
    for (key, before) in &old {
        let Some(after) = new.get(key) else { continue };
        if before == after {
            continue;
        }
        changed += 1;
        let _ = writeln!(details, "  ~ {key} ({})", before.operation_id);
        let names: BTreeSet<&String> = before
            .parameters
            .keys()
            .chain(after.parameters.keys())
            .collect();
        for name in names {
            match (before.parameters.get(name), after.parameters.get(name)) {
                (None, Some(_)) => {
                    let _ = writeln!(details, "      parameter added: {name}");
                }
                (Some(_), None) => {
                    let _ = writeln!(details, "      parameter removed: {name}");
                }
                (Some(a), Some(b)) if a != b => {
                    let _ = writeln!(details, "      parameter changed: {name}");
                }
                _ => {}
            }
        }
        if before.request != after.request {
            let _ = writeln!(details, "      request body schema changed");
        }
        if before.response != after.response {
            let _ = writeln!(details, "      response schema changed");
        }
        if before.operation_id != after.operation_id {
            let _ = writeln!(
                details,
                "      operationId would become {}",
                after.operation_id
            );
        }
    }
    let _ = writeln!(text, "Changed ({changed}):");
    text.push_str(&details);
    let _ = writeln!(
        text,
        "New, or not selected in the curated spec ({}):",
        added.len()
    );
    for key in &added {
        let _ = writeln!(text, "  + {key} ({})", new[*key].operation_id);
    }
    text
}
