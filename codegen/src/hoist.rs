//! Shares identical inline schemas.
//!
//! SentinelOne repeats the same inline schema in many definitions (the
//! 170-field agent filter sits in every agent action; the policy object in
//! every scope). Left inline, each copy becomes its own Rust type. This pass
//! moves every inline object or string enum that occurs more than once into
//! one named component and points the copies at it, largest first.

use std::collections::{BTreeMap, BTreeSet};

use heck::ToPascalCase;
use serde_json::{Map, Value, json};

use crate::schema::CONSTRAINTS_EXTENSION;

/// Where an inline schema sits: component name, JSON path below it, and the
/// property it describes (for naming).
#[derive(Debug, Clone)]
struct Site {
    component: String,
    path: Vec<String>,
    hint: String,
}

fn is_candidate(schema: &Map<String, Value>) -> bool {
    let object = schema.get("type") == Some(&json!("object"))
        && schema
            .get("properties")
            .and_then(Value::as_object)
            .is_some_and(|p| p.len() >= 2);
    let string_enum = schema.get("type") == Some(&json!("string")) && schema.contains_key("enum");
    object || string_enum
}

/// Canonical text of a schema: keys sorted, so copies compare equal.
fn canonical(value: &Value) -> String {
    fn sorted(value: &Value) -> Value {
        match value {
            Value::Object(map) => {
                let ordered: BTreeMap<&String, Value> =
                    map.iter().map(|(k, v)| (k, sorted(v))).collect();
                Value::Object(ordered.into_iter().map(|(k, v)| (k.clone(), v)).collect())
            }
            Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
            other => other.clone(),
        }
    }
    sorted(value).to_string()
}

/// A shared schema is referenced from optional properties, which read
/// `null` as absent anyway; a nullable component would only wrap its Rust
/// type in another `Option`. Copies that differ in `nullable` alone are one.
fn without_nullable(value: &Value) -> Value {
    let mut copy = value.clone();
    if let Some(map) = copy.as_object_mut() {
        map.remove("nullable");
    }
    copy
}

/// A copy without its limits (`x-constraints`, at every depth): copies
/// that differ in limits alone are one shape, so limits never change which
/// Rust types are generated. The shared schema keeps the limits all its
/// copies agree on ([`agreed_limits`]).
fn without_constraints(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(k, _)| k.as_str() != CONSTRAINTS_EXTENSION)
                .map(|(k, v)| (k.clone(), without_constraints(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_constraints).collect()),
        other => other.clone(),
    }
}

/// The identity of a schema for sharing.
fn shape(value: &Value) -> String {
    canonical(&without_constraints(&without_nullable(value)))
}

/// `shared` keeps only the limits `copy` (of the same shape) has too, with
/// the same value: a limit some operation does not declare is not enforced
/// on it.
fn agreed_limits(shared: &mut Value, copy: &Value) {
    match (shared, copy) {
        (Value::Object(mine), Value::Object(theirs)) => {
            let keys: Vec<String> = mine.keys().cloned().collect();
            for key in keys {
                if key == CONSTRAINTS_EXTENSION {
                    let keep = match (mine.get_mut(&key), theirs.get(&key)) {
                        (Some(limits), Some(other)) => {
                            agree(limits, other);
                            limits.as_object().is_some_and(|l| !l.is_empty())
                        }
                        _ => false,
                    };
                    if !keep {
                        mine.remove(&key);
                    }
                } else if let (Some(a), Some(b)) = (mine.get_mut(&key), theirs.get(&key)) {
                    agreed_limits(a, b);
                }
            }
        }
        (Value::Array(mine), Value::Array(theirs)) => {
            for (a, b) in mine.iter_mut().zip(theirs) {
                agreed_limits(a, b);
            }
        }
        _ => {}
    }
}

/// The keywords of the limits `mine` that `theirs` has with the same value
/// (recursing into `items`).
fn agree(mine: &mut Value, theirs: &Value) {
    let (Some(mine), Some(theirs)) = (mine.as_object_mut(), theirs.as_object()) else {
        return;
    };
    mine.retain(|key, value| match theirs.get(key) {
        Some(other) if key == "items" => {
            agree(value, other);
            value.as_object().is_some_and(|v| !v.is_empty())
        }
        Some(other) => other == value,
        None => false,
    });
}

fn visit(value: &Value, site: Site, top: bool, found: &mut BTreeMap<String, Vec<Site>>) {
    let Some(map) = value.as_object() else { return };
    if !top && is_candidate(map) {
        found.entry(shape(value)).or_default().push(site.clone());
    }
    let child = |key: &[&str], hint: String| Site {
        component: site.component.clone(),
        path: site
            .path
            .iter()
            .cloned()
            .chain(key.iter().map(|k| k.to_string()))
            .collect(),
        hint,
    };
    if let Some(props) = map.get("properties").and_then(Value::as_object) {
        for (name, prop) in props {
            visit(
                prop,
                child(&["properties", name], name.clone()),
                false,
                found,
            );
        }
    }
    if let Some(items) = map.get("items") {
        visit(
            items,
            child(&["items"], format!("{}Item", site.hint)),
            false,
            found,
        );
    }
    if let Some(extra) = map.get("additionalProperties") {
        visit(
            extra,
            child(&["additionalProperties"], format!("{}Value", site.hint)),
            false,
            found,
        );
    }
    for key in ["allOf", "anyOf", "oneOf"] {
        if let Some(list) = map.get(key).and_then(Value::as_array) {
            for (i, s) in list.iter().enumerate() {
                let index = i.to_string();
                visit(s, child(&[key, &index], site.hint.clone()), false, found);
            }
        }
    }
}

fn at_path<'a>(root: &'a mut Value, path: &[String]) -> Option<&'a mut Value> {
    path.iter().try_fold(root, |node, key| match node {
        Value::Object(map) => map.get_mut(key),
        Value::Array(items) => key.parse::<usize>().ok().and_then(|i| items.get_mut(i)),
        _ => None,
    })
}

/// The PascalCase words of a name (`AgentDisableActionRequest` -> Agent, Disable, ...).
fn words(name: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for c in name.chars() {
        if c.is_ascii_uppercase() || out.is_empty() {
            out.push(String::new());
        }
        out.last_mut().expect("pushed above").push(c);
    }
    out
}

/// Names a shared schema: the words its owners' names begin with (or, when
/// they share none, the commonest first word), then the property it describes.
fn shared_name(sites: &[Site], is_response: bool, taken: &BTreeSet<String>) -> String {
    let owners: Vec<Vec<String>> = sites
        .iter()
        .map(|s| {
            words(&s.component)
                .iter()
                .map(|w| crate::naming::singular(&w.to_lowercase()).to_pascal_case())
                .filter(|w| !["Request", "Response", "Post", "Put", "Get"].contains(&w.as_str()))
                .collect()
        })
        .collect();
    let mut prefix: Vec<String> = owners[0].clone();
    for other in &owners[1..] {
        let common = prefix.iter().zip(other).take_while(|(a, b)| a == b).count();
        prefix.truncate(common);
    }
    if prefix.is_empty() {
        let mut counts: BTreeMap<&String, usize> = BTreeMap::new();
        for first in owners.iter().filter_map(|o| o.first()) {
            *counts.entry(first).or_default() += 1;
        }
        if let Some((word, _)) = counts
            .into_iter()
            .max_by_key(|(w, n)| (*n, std::cmp::Reverse(*w)))
        {
            prefix.push(word.clone());
        }
    }
    let mut base = format!("{}{}", prefix.concat(), sites[0].hint.to_pascal_case());
    if is_response && !base.ends_with("Response") {
        base.push_str("Response");
    }
    let mut name = base.clone();
    let mut n = 2;
    while taken.contains(&name) {
        name = format!("{base}{n}");
        n += 1;
    }
    name
}

/// Shares every inline schema that occurs more than once. `is_response`
/// tells a component's role; copies are only shared within one role.
pub fn share_identical(schemas: &mut Map<String, Value>, is_response: impl Fn(&str) -> bool) {
    loop {
        let mut found: BTreeMap<String, Vec<Site>> = BTreeMap::new();
        for (name, schema) in schemas.iter() {
            let site = Site {
                component: name.clone(),
                path: Vec::new(),
                hint: String::new(),
            };
            visit(schema, site, true, &mut found);
        }
        // Group each text's sites by role; keep groups of two or more.
        let mut groups: Vec<(String, bool, Vec<Site>)> = Vec::new();
        for (text, sites) in found {
            for role in [false, true] {
                let same: Vec<Site> = sites
                    .iter()
                    .filter(|s| is_response(&s.component) == role)
                    .cloned()
                    .collect();
                if same.len() >= 2 {
                    groups.push((text.clone(), role, same));
                }
            }
        }
        if groups.is_empty() {
            return;
        }
        groups.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.0.cmp(&b.0)));
        let mut changed = false;
        for (text, role, sites) in groups {
            // Sites inside a schema shared earlier in this round have moved.
            let still_there = sites.iter().all(|s| {
                schemas
                    .get_mut(&s.component)
                    .and_then(|root| at_path(root, &s.path))
                    .is_some_and(|v| shape(v) == text)
            });
            if !still_there {
                continue;
            }
            let taken: BTreeSet<String> = schemas.keys().cloned().collect();
            let name = shared_name(&sites, role, &taken);
            let mut shared: Option<Value> = None;
            for site in &sites {
                let root = schemas.get_mut(&site.component).expect("checked above");
                let slot = at_path(root, &site.path).expect("checked above");
                let original = std::mem::replace(
                    slot,
                    json!({"$ref": format!("#/components/schemas/{name}")}),
                );
                match &mut shared {
                    Some(shared) => agreed_limits(shared, &original),
                    None => shared = Some(without_nullable(&original)),
                }
            }
            schemas.insert(name, shared.expect("two or more sites"));
            changed = true;
        }
        if !changed {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_copies_within_a_role() {
        let filter = json!({"type": "object", "properties": {"ids": {"type": "string"}, "name": {"type": "string"}}});
        let mut schemas: Map<String, Value> = serde_json::from_value(json!({
            "AgentConnectRequest": {"type": "object", "properties": {"filter": filter.clone()}},
            "AgentDisconnectRequest": {"type": "object", "properties": {"filter": filter.clone()}},
            "AgentListResponse": {"type": "object", "properties": {"filter": filter}}
        }))
        .unwrap();
        share_identical(&mut schemas, |n| n.ends_with("Response"));
        assert_eq!(
            schemas["AgentConnectRequest"]["properties"]["filter"],
            json!({"$ref": "#/components/schemas/AgentFilter"})
        );
        assert_eq!(
            schemas["AgentDisconnectRequest"]["properties"]["filter"],
            json!({"$ref": "#/components/schemas/AgentFilter"})
        );
        assert_eq!(
            schemas["AgentListResponse"]["properties"]["filter"]["type"],
            "object"
        );
        assert!(schemas.contains_key("AgentFilter"));
    }
}
