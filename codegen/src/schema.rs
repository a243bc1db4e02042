//! Schema curation: vendor definitions become our component schemas.
//!
//! - Prose (descriptions, examples, titles) is dropped. Validation keywords
//!   are dropped from responses; on the request side the limits the facade
//!   enforces before sending (`maxItems`, `minItems`, `minLength`,
//!   `maxLength`, `pattern`, `minimum`, `maximum`) move into the extension
//!   `x-constraints`, which the generator ignores (see [`constraints`]).
//! - Request schemas keep `required` and enums (without the vendor's `null`s).
//! - Response schemas are built to survive API drift: no enums, no `required`,
//!   no closed objects, every property nullable, date and uuid formats read as
//!   plain strings, 32-bit integers widened to 64 bits.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{Result, bail};
use heck::ToPascalCase;
use serde_json::{Map, Value, json};

use crate::import::{CSV_LIST_SCHEMA, ERROR_SCHEMA};

/// Which side of the wire a schema describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Request,
    Response,
}

const DEFINITIONS: &str = "#/definitions/";
const COMPONENTS: &str = "#/components/schemas/";

/// The extension that carries a request schema's (or parameter's) limits.
pub const CONSTRAINTS_EXTENSION: &str = "x-constraints";

/// The validation keywords carried into `x-constraints`.
pub const CONSTRAINT_KEYWORDS: &[&str] = &[
    "maxItems",
    "minItems",
    "minLength",
    "maxLength",
    "pattern",
    "minimum",
    "maximum",
];

/// What became of the vendor's validation keywords on the request side.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ConstraintFigures {
    /// Schemas and parameters that carry an `x-constraints` extension.
    pub constrained: usize,
    /// `minimum`/`maximum` dropped because the schema is not a number
    /// (the vendor puts `minimum` on string ids).
    pub non_numeric_bounds: usize,
    /// Patterns kept ([`compiles`]).
    pub patterns_kept: usize,
    /// Patterns dropped because they do not compile ([`compiles`]).
    pub patterns_dropped: usize,
}

impl ConstraintFigures {
    /// Adds `other`'s counts to these.
    pub fn add(&mut self, other: &ConstraintFigures) {
        self.constrained += other.constrained;
        self.non_numeric_bounds += other.non_numeric_bounds;
        self.patterns_kept += other.patterns_kept;
        self.patterns_dropped += other.patterns_dropped;
    }
}

/// Clean names and roles of the vendor definitions, and which ones are used.
#[derive(Debug, Default)]
pub struct RefCollector {
    names: BTreeMap<String, (String, Role)>,
    used: BTreeSet<String>,
    /// What the request-side conversions did with validation keywords.
    pub figures: ConstraintFigures,
}

impl RefCollector {
    /// Names every definition the vendor's operations reach, from the whole
    /// vendor file, so names do not change with the selection.
    pub fn new(vendor: &Value) -> Self {
        let definitions = vendor
            .get("definitions")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let mut roles: BTreeMap<String, Role> = BTreeMap::new();
        let ops = vendor
            .get("paths")
            .and_then(Value::as_object)
            .into_iter()
            .flat_map(|p| p.values())
            .filter_map(Value::as_object)
            .flat_map(|item| item.values());
        for op in ops {
            for param in op
                .get("parameters")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if param["in"] == "body" {
                    collect_refs(&param["schema"], &mut |r| {
                        note_role(&mut roles, r, Role::Request)
                    });
                }
            }
            let responses = op.get("responses").and_then(Value::as_object);
            for (code, response) in responses.into_iter().flatten() {
                if code.starts_with('2') {
                    collect_refs(&response["schema"], &mut |r| {
                        note_role(&mut roles, r, Role::Response)
                    });
                }
            }
        }
        // Definitions referenced from definitions inherit their referrer's role.
        loop {
            let mut added = Vec::new();
            for (name, role) in &roles {
                if let Some(def) = definitions.get(name) {
                    collect_refs(def, &mut |r| {
                        let r = r.strip_prefix(DEFINITIONS).unwrap_or(r);
                        let current = roles.get(r);
                        if current != Some(&Role::Response) && current != Some(role) {
                            added.push((r.to_string(), *role));
                        }
                    });
                }
            }
            if added.is_empty() {
                break;
            }
            for (name, role) in added {
                note_role(&mut roles, &name, role);
            }
        }
        let mut names = BTreeMap::new();
        let mut taken: BTreeSet<String> = [ERROR_SCHEMA, CSV_LIST_SCHEMA].map(String::from).into();
        for (vendor_name, role) in roles {
            let mut clean = clean_name(&vendor_name, role);
            if taken.contains(&clean) {
                clean = format!("{}{}", module_prefix(&vendor_name), clean);
            }
            let mut n = 2;
            let base = clean.clone();
            while taken.contains(&clean) {
                clean = format!("{base}{n}");
                n += 1;
            }
            taken.insert(clean.clone());
            names.insert(vendor_name, (clean, role));
        }
        RefCollector {
            names,
            used: BTreeSet::new(),
            figures: ConstraintFigures::default(),
        }
    }

    fn use_ref(&mut self, reference: &str) -> String {
        let vendor = reference.strip_prefix(DEFINITIONS).unwrap_or(reference);
        self.used.insert(vendor.to_string());
        match self.names.get(vendor) {
            Some((clean, _)) => clean.clone(),
            None => format!("Unresolved{}", vendor.to_pascal_case()),
        }
    }
}

fn note_role(roles: &mut BTreeMap<String, Role>, reference: &str, role: Role) {
    let name = reference
        .strip_prefix(DEFINITIONS)
        .unwrap_or(reference)
        .to_string();
    let entry = roles.entry(name).or_insert(role);
    if role == Role::Response {
        *entry = Role::Response;
    }
}

fn collect_refs(value: &Value, found: &mut impl FnMut(&str)) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get("$ref") {
                found(r);
            }
            map.values().for_each(|v| collect_refs(v, found));
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, found)),
        _ => {}
    }
}

/// `agents.schemas_AgentViewSchema_many_200` -> `AgentViewListResponse`.
pub fn clean_name(vendor: &str, role: Role) -> String {
    let last = vendor.rsplit('.').next().unwrap_or(vendor);
    let start = last
        .char_indices()
        .find(|(i, c)| c.is_ascii_uppercase() && (*i == 0 || last.as_bytes()[i - 1] == b'_'))
        .map(|(i, _)| i)
        .unwrap_or(0);
    let mut name = String::new();
    let mut list = false;
    for token in last[start..].split('_').filter(|t| !t.is_empty()) {
        if token.chars().all(|c| c.is_ascii_digit()) {
            continue;
        }
        if token == "many" {
            list = true;
            continue;
        }
        let token = token.trim_end_matches("Schema").trim_end_matches("Scheme");
        name.push_str(&token.to_pascal_case());
    }
    if list {
        name.push_str("List");
    }
    let suffix = match role {
        Role::Request => "Request",
        Role::Response => "Response",
    };
    if !name.ends_with(suffix) {
        name.push_str(suffix);
    }
    name
}

fn module_prefix(vendor: &str) -> String {
    let head: String = vendor
        .split('.')
        .next_back()
        .map(|last| {
            let cut = last.find(|c: char| c.is_ascii_uppercase()).unwrap_or(0);
            last[..cut].to_string()
        })
        .unwrap_or_default();
    let modules: Vec<&str> = vendor.split('.').collect();
    let mut words = modules[..modules.len() - 1].join("_");
    words.push('_');
    words.push_str(&head);
    words
        .replace("schemas", "")
        .replace("schema", "")
        .to_pascal_case()
}

/// The limits of a vendor schema (or parameter object) as the facade
/// enforces them: `maxItems`/`minItems` of arrays, `minLength`/`maxLength`
/// and `pattern` of strings, `minimum`/`maximum` of integers and numbers,
/// with the limits of an array's items under `items` (nested for arrays of
/// arrays). Keywords that do not fit the schema's type are left out
/// (`minimum` on a string id), and so are patterns that do not compile
/// ([`compiles`]); `figures` counts both. `None` when nothing is left.
/// Whether the facade can enforce `pattern`: it compiles with `regress`
/// (ECMAScript syntax, what the facade checks with) and with the `regex`
/// crate. The second keeps out patterns only a lenient reading accepts,
/// such as the spec's e-mail pattern with octal escapes and upper-case
/// letters only, written for a case-insensitive matcher: enforcing it would
/// refuse every lower-case address.
fn compiles(pattern: &str) -> bool {
    regex::Regex::new(pattern).is_ok() && regress::Regex::new(pattern).is_ok()
}

pub fn constraints(src: &Map<String, Value>, figures: &mut ConstraintFigures) -> Option<Value> {
    let ty = src.get("type").and_then(Value::as_str);
    let mut out = Map::new();
    let mut keep = |key: &str, fits: bool, figures: &mut ConstraintFigures| {
        let Some(value) = src.get(key) else { return };
        if !fits {
            if key == "minimum" || key == "maximum" {
                figures.non_numeric_bounds += 1;
            }
            return;
        }
        match (key, value) {
            ("pattern", Value::String(pattern)) => {
                if compiles(pattern) {
                    figures.patterns_kept += 1;
                    out.insert(key.into(), value.clone());
                } else {
                    figures.patterns_dropped += 1;
                }
            }
            ("minimum" | "maximum", Value::Number(_)) => {
                out.insert(key.into(), value.clone());
            }
            (_, Value::Number(n)) if n.is_u64() => {
                out.insert(key.into(), value.clone());
            }
            _ => {}
        }
    };
    let array = ty == Some("array");
    let string = ty == Some("string");
    let numeric = matches!(ty, Some("integer" | "number"));
    keep("maxItems", array, figures);
    keep("minItems", array, figures);
    keep("minLength", string, figures);
    keep("maxLength", string, figures);
    keep("pattern", string, figures);
    keep("minimum", numeric, figures);
    keep("maximum", numeric, figures);
    if array
        && let Some(items) = src.get("items").and_then(Value::as_object)
        && !items.contains_key("$ref")
        && let Some(inner) = constraints(items, figures)
    {
        out.insert("items".into(), inner);
    }
    (!out.is_empty()).then_some(Value::Object(out))
}

/// Converts one vendor schema for `role`.
pub fn convert(schema: &Value, role: Role, refs: &mut RefCollector) -> Value {
    convert_schema(schema, role, refs, false)
}

/// [`convert`]; an array's `items` (`as_items`) carry no limits of their
/// own: the array's `x-constraints` holds them under `items`.
fn convert_schema(schema: &Value, role: Role, refs: &mut RefCollector, as_items: bool) -> Value {
    let Some(src) = schema.as_object() else {
        return json!({});
    };
    if let Some(Value::String(r)) = src.get("$ref") {
        return json!({"$ref": format!("{COMPONENTS}{}", refs.use_ref(r))});
    }
    let mut out = Map::new();
    let mut nullable = src.get("x-nullable") == Some(&Value::Bool(true));
    let ty = src.get("type").and_then(Value::as_str);
    match ty {
        Some("file") => {
            out.insert("type".into(), json!("string"));
            out.insert("format".into(), json!("binary"));
        }
        Some(t) => {
            out.insert("type".into(), json!(t));
        }
        None if src.contains_key("properties") => {
            out.insert("type".into(), json!("object"));
        }
        None => {}
    }
    if let Some(format) = src.get("format").and_then(Value::as_str)
        && ty != Some("file")
        && let Some(kept) = keep_format(format, role)
    {
        out.insert("format".into(), json!(kept));
    }
    if role == Role::Request
        && let Some(values) = src.get("enum").and_then(Value::as_array)
    {
        if values.iter().any(Value::is_null) {
            nullable = true;
        }
        let kept: Vec<Value> = values.iter().filter(|v| !v.is_null()).cloned().collect();
        // Only string enums become Rust enums. Values that differ only in
        // case or punctuation cannot become distinct variants, and non-string
        // values do not fit a string enum: those stay plain values.
        let all_strings = ty == Some("string") && kept.iter().all(Value::is_string);
        if !kept.is_empty() && all_strings && !enum_names_collide(&kept) {
            out.insert("enum".into(), Value::Array(kept));
        }
    }
    if ty == Some("array") {
        let items = src
            .get("items")
            .map(|i| convert_schema(i, role, refs, true))
            .unwrap_or(json!({}));
        out.insert("items".into(), items);
    }
    if let Some(props) = src.get("properties").and_then(Value::as_object) {
        let mut converted = Map::new();
        for (name, prop) in props {
            let mut p = convert(prop, role, refs);
            if role == Role::Response
                && let Some(obj) = p.as_object_mut()
                && !obj.contains_key("$ref")
            {
                obj.insert("nullable".into(), json!(true));
            }
            converted.insert(name.clone(), p);
        }
        if role == Role::Request
            && let Some(required) = src.get("required").and_then(Value::as_array)
        {
            let present: Vec<Value> = required
                .iter()
                .filter(|r| r.as_str().is_some_and(|r| props.contains_key(r)))
                .cloned()
                .collect();
            if !present.is_empty() {
                out.insert("required".into(), Value::Array(present));
            }
        }
        out.insert("properties".into(), Value::Object(converted));
    }
    if let Some(extra) = src.get("additionalProperties")
        && extra.is_object()
    {
        out.insert("additionalProperties".into(), convert(extra, role, refs));
    }
    for key in ["allOf", "anyOf", "oneOf"] {
        if let Some(list) = src.get(key).and_then(Value::as_array) {
            let converted = list.iter().map(|s| convert(s, role, refs)).collect();
            out.insert(key.into(), Value::Array(converted));
        }
    }
    if nullable && !out.is_empty() {
        out.insert("nullable".into(), json!(true));
    }
    if role == Role::Request && !as_items {
        let mut figures = ConstraintFigures::default();
        if let Some(limits) = constraints(src, &mut figures) {
            figures.constrained += 1;
            out.insert(CONSTRAINTS_EXTENSION.into(), limits);
        }
        refs.figures.add(&figures);
    }
    Value::Object(out)
}

/// Whether two enum values would map to the same Rust variant name.
pub fn enum_names_collide(values: &[Value]) -> bool {
    let mut seen = BTreeSet::new();
    values.iter().any(|v| {
        let text = match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let key: String = text
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect::<String>()
            .to_ascii_lowercase();
        !seen.insert(key)
    })
}

fn keep_format(format: &str, role: Role) -> Option<&'static str> {
    match (format, role) {
        ("int32" | "int64", Role::Response) => Some("int64"),
        ("int32", Role::Request) => Some("int32"),
        ("int64", Role::Request) => Some("int64"),
        ("float", _) => Some("float"),
        ("double", _) => Some("double"),
        ("date-time", Role::Request) => Some("date-time"),
        ("date", Role::Request) => Some("date"),
        ("binary", _) => Some("binary"),
        _ => None,
    }
}

/// The component schemas: every used definition (closed over nested
/// references), plus the shared error and comma-list schemas.
pub fn build_components(
    definitions: &Map<String, Value>,
    refs: &mut RefCollector,
) -> Result<Map<String, Value>> {
    // Work on a private collector so nested references are followed to a fixpoint.
    let mut collector = RefCollector {
        names: refs.names.clone(),
        used: refs.used.clone(),
        figures: ConstraintFigures::default(),
    };
    let mut done: BTreeMap<String, Value> = BTreeMap::new();
    let mut converted: BTreeSet<String> = BTreeSet::new();
    loop {
        let pending: Vec<String> = collector.used.difference(&converted).cloned().collect();
        if pending.is_empty() {
            break;
        }
        for vendor in pending {
            let (Some((clean, role)), Some(def)) = (
                collector.names.get(&vendor).cloned(),
                definitions.get(&vendor),
            ) else {
                bail!("schema reference {vendor} names no vendor definition");
            };
            done.insert(clean, convert(def, role, &mut collector));
            converted.insert(vendor);
        }
    }
    done.insert(
        ERROR_SCHEMA.into(),
        json!({
            "type": "object",
            "properties": {
                "errors": {
                    "type": "array",
                    "nullable": true,
                    "items": {
                        "type": "object",
                        "properties": {
                            "code": {"type": "integer", "format": "int64", "nullable": true},
                            "title": {"type": "string", "nullable": true},
                            "detail": {"type": "string", "nullable": true}
                        }
                    }
                }
            }
        }),
    );
    done.insert(
        CSV_LIST_SCHEMA.into(),
        json!({"type": "array", "items": {"type": "string"}}),
    );
    refs.figures.add(&collector.figures);
    let mut schemas: Map<String, Value> = done.into_iter().collect();
    crate::hoist::share_identical(&mut schemas, is_response_schema);
    schemas.sort_keys();
    Ok(schemas)
}

/// Whether a component schema describes a response body (by our naming).
pub fn is_response_schema(name: &str) -> bool {
    name.ends_with("Response") || name == ERROR_SCHEMA
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_names() {
        assert_eq!(
            clean_name("agents.schemas_AgentViewSchema_many_200", Role::Response),
            "AgentViewListResponse"
        );
        assert_eq!(
            clean_name("_AffectedResultsSchema_200", Role::Response),
            "AffectedResultsResponse"
        );
        assert_eq!(
            clean_name(
                "threats.schemas_ThreatsMitigateRequestSchema",
                Role::Request
            ),
            "ThreatsMitigateRequest"
        );
        assert_eq!(
            clean_name("v2_1.models.EmptyResponse", Role::Response),
            "EmptyResponse"
        );
    }
}
