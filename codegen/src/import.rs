//! `codegen import`: SentinelOne's Swagger 2.0 file -> the curated OpenAPI 3.0.3 spec.
//!
//! Only facts carry over (paths, methods, parameters, schemas); every piece
//! of vendor prose is dropped. See `spec/CURATION.md` for the rules.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{Context, Result, bail};
use serde_json::{Map, Value, json};

use crate::curation::{Curation, ExtraOperation, ResponseOverride};
use crate::index2026::{self, IndexEntry, IndexInput, IndexParam};
use crate::naming;
use crate::schema::{self, Role};

/// Name of the shared error schema.
pub const ERROR_SCHEMA: &str = "ApiError";
/// Name of the comma-joined list schema that the generator replaces with `CsvList`.
pub const CSV_LIST_SCHEMA: &str = "CsvList";
/// The security scheme of operations at the console root (`Authorization:
/// Bearer <token>`); every other operation uses `ApiToken`.
pub const BEARER_SCHEME: &str = "SdlBearer";
/// Top-level extension listing the multipart uploads left to the facade.
pub const MULTIPART_EXTENSION: &str = "x-multipart-operations";

const METHODS: &[&str] = &["get", "put", "post", "delete", "patch"];
const SUCCESS_CODES: &[&str] = &["200", "201", "202", "204"];

/// One vendor operation, located and named.
pub struct VendorOperation<'a> {
    pub method: String,
    /// Path below the API prefix, with `{param}` syntax.
    pub relative_path: String,
    /// Parameters that the vendor declares elsewhere but the path carries.
    pub colon_params: BTreeSet<String>,
    pub operation_id: String,
    pub body: &'a Map<String, Value>,
    /// Parameters declared on the path item, shared by its operations.
    pub inherited: &'a [Value],
}

impl VendorOperation<'_> {
    /// `"METHOD /relative/path"`, the key the curation file uses.
    pub fn key(&self) -> String {
        format!("{} {}", self.method, self.relative_path)
    }

    fn is_multipart(&self) -> bool {
        let consumes_multipart = self
            .body
            .get("consumes")
            .and_then(Value::as_array)
            .is_some_and(|c| c.iter().any(|t| t == "multipart/form-data"));
        consumes_multipart || self.params().any(|p| p["in"] == "formData")
    }

    /// The operation's parameters, then the path item's ones it does not
    /// redeclare.
    fn params(&self) -> impl Iterator<Item = &Value> {
        let own: Vec<&Value> = self
            .body
            .get("parameters")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .collect();
        let redeclared = |p: &Value| {
            own.iter()
                .any(|o| o["name"] == p["name"] && o["in"] == p["in"])
        };
        let inherited: Vec<&Value> = self.inherited.iter().filter(|p| !redeclared(p)).collect();
        own.into_iter().chain(inherited)
    }

    fn first_tag(&self) -> Option<&str> {
        self.body.get("tags")?.as_array()?.first()?.as_str()
    }
}

/// Replaces `:name` segments with `{name}` and reports the names.
fn fix_colon_path(path: &str) -> (String, BTreeSet<String>) {
    let mut names = BTreeSet::new();
    let fixed = path
        .split('/')
        .map(|seg| match seg.strip_prefix(':') {
            Some(name) => {
                names.insert(name.to_string());
                format!("{{{name}}}")
            }
            None => seg.to_string(),
        })
        .collect::<Vec<_>>()
        .join("/");
    (fixed, names)
}

/// Every operation of the vendor file, with its operationId.
pub fn vendor_operations<'a>(
    vendor: &'a Value,
    curation: &Curation,
) -> Result<Vec<VendorOperation<'a>>> {
    if vendor.get("swagger").and_then(Value::as_str) != Some("2.0") {
        bail!("the vendor file is not a Swagger 2.0 document (no \"swagger\": \"2.0\")");
    }
    let paths = vendor
        .get("paths")
        .and_then(Value::as_object)
        .context("the vendor file has no paths")?;
    let mut ops = Vec::new();
    for (path, item) in paths {
        let relative = path
            .strip_prefix(&curation.path_prefix)
            .with_context(|| format!("path {path} does not start with {}", curation.path_prefix))?;
        let (relative_path, colon_params) = fix_colon_path(relative);
        let inherited = item
            .get("parameters")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        for method in METHODS {
            let Some(body) = item.get(*method).and_then(Value::as_object) else {
                continue;
            };
            ops.push(VendorOperation {
                method: method.to_uppercase(),
                relative_path: relative_path.clone(),
                colon_params: colon_params.clone(),
                operation_id: String::new(),
                body,
                inherited,
            });
        }
    }
    assign_operation_ids(&mut ops, curation)?;
    Ok(ops)
}

fn assign_operation_ids(ops: &mut [VendorOperation<'_>], curation: &Curation) -> Result<()> {
    let keys: BTreeSet<String> = ops.iter().map(VendorOperation::key).collect();
    let index_keys: BTreeSet<String> = curation
        .index
        .iter()
        .flat_map(|i| &i.entries)
        .map(|e| index_key(e, curation))
        .collect();
    for key in curation.operation_ids.keys() {
        if !keys.contains(key) && !index_keys.contains(key) {
            bail!("curation names operation {key:?}, which the vendor file lacks");
        }
    }
    let mut derived: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, op) in ops.iter_mut().enumerate() {
        match curation.operation_ids.get(&op.key()) {
            Some(id) => op.operation_id = id.clone(),
            None => {
                op.operation_id = naming::derive(&op.method, &op.relative_path);
                derived.entry(op.operation_id.clone()).or_default().push(i);
            }
        }
    }
    for indexes in derived.values().filter(|v| v.len() > 1) {
        for &i in indexes {
            let suffix = naming::disambiguator(&ops[i].relative_path);
            ops[i].operation_id.push_str(&suffix);
        }
    }
    let mut seen: BTreeMap<&str, String> = BTreeMap::new();
    for op in ops.iter() {
        if let Some(other) = seen.insert(&op.operation_id, op.key()) {
            bail!(
                "operationId {} names both {other} and {}; give one of them a name in curation [operation_ids]",
                op.operation_id,
                op.key()
            );
        }
    }
    Ok(())
}

/// Imports `vendor` as the curated spec.
///
/// `wanted` is the selection (the catalog's and the facade's operationIds);
/// `all` brings in every operation regardless.
pub fn import(
    vendor: &Value,
    curation: &Curation,
    wanted: &BTreeSet<String>,
    all: bool,
) -> Result<Value> {
    import_with_figures(vendor, curation, wanted, all).map(|(spec, _)| spec)
}

/// [`import`], also telling what became of the vendor's validation
/// keywords on the request side.
pub fn import_with_figures(
    vendor: &Value,
    curation: &Curation,
    wanted: &BTreeSet<String>,
    all: bool,
) -> Result<(Value, schema::ConstraintFigures)> {
    let patched = crate::added_fields::add_response_fields(vendor, &curation.response_fields)?;
    let vendor = &patched;
    let ops = vendor_operations(vendor, curation)?;
    let definitions = vendor
        .get("definitions")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();

    let mut known: BTreeSet<&str> = ops.iter().map(|o| o.operation_id.as_str()).collect();
    for extra in &curation.extra_operations {
        if !known.insert(extra.operation_id.as_str()) {
            bail!(
                "extra operation {} reuses an operationId the vendor file already has",
                extra.operation_id
            );
        }
    }
    for (id, names) in &curation.drop_parameters {
        let Some(op) = ops.iter().find(|o| &o.operation_id == id) else {
            bail!("curation [drop_parameters] names operation {id}, which the vendor file lacks");
        };
        for name in names {
            if !op.params().any(|p| p["name"] == name.as_str()) {
                bail!(
                    "curation [drop_parameters] names parameter {name} of {id}, which has none by that name"
                );
            }
        }
    }
    check_response_overrides(curation, &known)?;
    let unknown: Vec<&String> = wanted
        .iter()
        .filter(|w| !known.contains(w.as_str()))
        .collect();
    if !unknown.is_empty() {
        bail!(
            "the selection names operations that neither the vendor file nor the curation has: {unknown:?}"
        );
    }
    let include_all = all || curation.include_all;

    let mut refs = schema::RefCollector::new(vendor);
    let mut paths: BTreeMap<String, BTreeMap<usize, (String, Value)>> = BTreeMap::new();
    let mut multipart = Vec::new();
    for op in &ops {
        if !include_all && !wanted.contains(&op.operation_id) {
            continue;
        }
        if op.is_multipart() {
            multipart.push(multipart_entry(op));
            continue;
        }
        let converted = convert_operation(op, curation, &mut refs)
            .with_context(|| format!("operation {} ({})", op.operation_id, op.key()))?;
        let full = format!("{}{}", curation.path_prefix, op.relative_path);
        insert_operation(&mut paths, &full, &op.method, converted)?;
    }
    let mut bearer = false;
    for extra in &curation.extra_operations {
        if !include_all && !wanted.contains(&extra.operation_id) {
            continue;
        }
        let converted = extra_operation(extra, &mut refs)
            .with_context(|| format!("extra operation {}", extra.operation_id))?;
        insert_operation(
            &mut paths,
            &extra_path(extra, curation),
            &extra.method,
            converted,
        )?;
        bearer |= extra.root;
    }

    if let Some(index) = &curation.index {
        mark_absent(&mut paths, &mut multipart, index, curation);
        if curation.include_2026_index {
            let mut taken: BTreeSet<String> = known.iter().map(|k| k.to_string()).collect();
            let mut described: BTreeSet<String> = ops
                .iter()
                .map(|o| {
                    index2026::shape(
                        &o.method,
                        &format!("{}{}", curation.path_prefix, o.relative_path),
                    )
                })
                .collect();
            described.extend(
                curation
                    .extra_operations
                    .iter()
                    .map(|e| index2026::shape(&e.method, &extra_path(e, curation))),
            );
            bearer |= add_index_only(
                &mut paths,
                &mut multipart,
                index,
                &described,
                &mut taken,
                curation,
                &mut refs,
            )?;
        }
    } else if curation.include_2026_index {
        bail!("curation include_2026_index = true needs index_2026, the endpoint index to read");
    }

    crate::rate_limits::apply(&mut paths, &curation.rate_limits, &curation.path_prefix)?;

    let schemas = schema::build_components(&definitions, &mut refs)?;
    let mut components = Map::new();
    components.insert("schemas".into(), Value::Object(schemas));
    let mut schemes =
        json!({"ApiToken": {"type": "apiKey", "in": "header", "name": "Authorization"}});
    if bearer {
        schemes[BEARER_SCHEME] = json!({"type": "http", "scheme": "bearer"});
    }
    components.insert("securitySchemes".into(), schemes);

    let mut out_paths = Map::new();
    for (path, methods) in paths {
        let mut item = Map::new();
        for (_, (method, op)) in methods {
            item.insert(method, op);
        }
        out_paths.insert(path, Value::Object(item));
    }

    let mut doc = Map::new();
    doc.insert("openapi".into(), json!("3.0.3"));
    doc.insert(
        "info".into(),
        json!({
            "title": "SentinelOne Management API v2.1 (curated)",
            "description": "Curated by `codegen import` from SentinelOne's own API description. Regenerate, do not edit by hand.",
            "version": "2.1"
        }),
    );
    doc.insert("security".into(), json!([{"ApiToken": []}]));
    doc.insert("paths".into(), Value::Object(out_paths));
    doc.insert("components".into(), Value::Object(components));
    multipart
        .sort_by(|a: &Value, b: &Value| a["operationId"].as_str().cmp(&b["operationId"].as_str()));
    doc.insert(MULTIPART_EXTENSION.into(), Value::Array(multipart));
    doc.insert(
        crate::rate_limits::DOCUMENT_EXTENSION.into(),
        crate::rate_limits::document(&curation.rate_limits, &curation.path_prefix)?,
    );
    Ok((Value::Object(doc), refs.figures))
}

/// Every response override names a known operation once, with a success
/// status and a schema that is JSON.
fn check_response_overrides(curation: &Curation, known: &BTreeSet<&str>) -> Result<()> {
    let mut seen = BTreeSet::new();
    for o in &curation.response_overrides {
        let id = o.operation_id.as_str();
        if !known.contains(id) {
            bail!(
                "curation [[response_overrides]] names operation {id}, which the vendor file lacks"
            );
        }
        if !seen.insert(id) {
            bail!("curation [[response_overrides]] names operation {id} twice");
        }
        // A 204 has no body to declare.
        if !["200", "201", "202"].contains(&o.status.as_str()) {
            bail!(
                "curation [[response_overrides]] of {id}: status {} is not one of 200, 201, 202",
                o.status
            );
        }
        override_schema(o)?;
    }
    Ok(())
}

/// The Swagger schema of a response override.
fn override_schema(o: &ResponseOverride) -> Result<Value> {
    serde_json::from_str(&o.schema).with_context(|| {
        format!(
            "curation [[response_overrides]] of {}: schema is not JSON",
            o.operation_id
        )
    })
}

/// The path an extra operation is served at: below `path_prefix`, or from
/// the console root when it says `root` (the one place that decides).
pub fn extra_path(extra: &ExtraOperation, curation: &Curation) -> String {
    if extra.root {
        extra.path.clone()
    } else {
        format!("{}{}", curation.path_prefix, extra.path)
    }
}

fn insert_operation(
    paths: &mut BTreeMap<String, BTreeMap<usize, (String, Value)>>,
    full: &str,
    method: &str,
    op: Value,
) -> Result<()> {
    let method = method.to_lowercase();
    let order = METHODS
        .iter()
        .position(|m| *m == method)
        .with_context(|| format!("unsupported method {method}"))?;
    let full = full.to_string();
    if paths
        .entry(full.clone())
        .or_default()
        .insert(order, (method.clone(), op))
        .is_some()
    {
        bail!("{method} {full} is defined twice");
    }
    Ok(())
}

/// Renders the spec as it is written to disk.
pub fn to_text(spec: &Value) -> String {
    let mut text = serde_json::to_string_pretty(spec).expect("JSON values always serialize");
    text.push('\n');
    text
}

fn convert_operation(
    op: &VendorOperation<'_>,
    curation: &Curation,
    refs: &mut schema::RefCollector,
) -> Result<Value> {
    let mut path_params = Vec::new();
    let mut query_params = Vec::new();
    let mut request_body = None;
    for param in op.params() {
        let name = param["name"].as_str().context("parameter without a name")?;
        let place = param["in"].as_str().context("parameter without `in`")?;
        let place = if op.colon_params.contains(name) {
            "path"
        } else {
            place
        };
        if curation.drops_parameter(&op.operation_id, name) {
            continue;
        }
        match place {
            "body" if request_body.is_some() => {
                bail!("operation declares more than one body parameter");
            }
            "body" => {
                let schema = schema::convert(&param["schema"], Role::Request, refs);
                request_body = Some(json!({
                    "required": true,
                    "content": {"application/json": {"schema": schema}}
                }));
            }
            "path" | "query" | "header" => {
                let (schema, limits) = parameter_schema(param, refs);
                let mut converted = json!({
                    "name": name,
                    "in": place,
                    "required": place == "path" || param["required"] == true,
                    "schema": schema,
                });
                if let Some(limits) = limits {
                    converted[schema::CONSTRAINTS_EXTENSION] = limits;
                }
                if place == "path" {
                    path_params.push(converted);
                } else {
                    query_params.push(converted);
                }
            }
            other => bail!("parameter {name} is in {other}, which the importer does not take"),
        }
    }
    // Path parameters in template order; every template name declared.
    let template: Vec<String> = op
        .relative_path
        .split('/')
        .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}').map(str::to_string))
        .collect();
    let mut ordered = Vec::new();
    for name in &template {
        let found = path_params.iter().position(|p| p["name"] == name.as_str());
        ordered.push(match found {
            Some(i) => path_params.remove(i),
            None => {
                json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}})
            }
        });
    }
    if let Some(stray) = path_params.first() {
        bail!(
            "path parameter {} is not in the path template",
            stray["name"]
        );
    }
    query_params.sort_by(|a, b| {
        (a["in"].as_str(), a["name"].as_str()).cmp(&(b["in"].as_str(), b["name"].as_str()))
    });
    ordered.extend(query_params);

    let mut out = Map::new();
    out.insert("operationId".into(), json!(op.operation_id));
    out.insert("summary".into(), json!(naming::humanize(&op.operation_id)));
    let tag = curation.tag(op.first_tag().unwrap_or("Misc"));
    out.insert("tags".into(), json!([tag]));
    if !ordered.is_empty() {
        out.insert("parameters".into(), Value::Array(ordered));
    }
    if let Some(body) = request_body {
        out.insert("requestBody".into(), body);
    }
    let responses = match curation.response_override(&op.operation_id) {
        Some(o) => overridden_responses(o, refs)?,
        None => responses(op.body.get("responses"), &op.relative_path, curation, refs),
    };
    out.insert("responses".into(), responses);
    Ok(Value::Object(out))
}

/// The schema of a vendor parameter, and its limits (for the parameter
/// object's `x-constraints`, next to the schema: a comma-joined list's
/// schema is a bare `$ref`).
fn parameter_schema(param: &Value, refs: &mut schema::RefCollector) -> (Value, Option<Value>) {
    if param["type"] == "array" {
        let format = param["collectionFormat"].as_str().unwrap_or("csv");
        if format == "csv" {
            let limits = param.as_object().and_then(|p| {
                let mut figures = schema::ConstraintFigures::default();
                let limits = schema::constraints(p, &mut figures);
                figures.constrained += usize::from(limits.is_some());
                refs.figures.add(&figures);
                limits
            });
            return (
                json!({"$ref": format!("#/components/schemas/{CSV_LIST_SCHEMA}")}),
                limits,
            );
        }
    }
    let mut fields = Map::new();
    for key in ["type", "format", "enum", "items"]
        .into_iter()
        .chain(schema::CONSTRAINT_KEYWORDS.iter().copied())
    {
        if let Some(v) = param.get(key) {
            fields.insert(key.into(), v.clone());
        }
    }
    // A parameter is either sent or not: the vendor's `null` enum values
    // carry no meaning here.
    let mut converted = schema::convert(&Value::Object(fields), Role::Request, refs);
    let mut limits = None;
    if let Some(obj) = converted.as_object_mut() {
        obj.remove("nullable");
        limits = obj.remove(schema::CONSTRAINTS_EXTENSION);
    }
    (converted, limits)
}

fn responses(
    vendor: Option<&Value>,
    relative_path: &str,
    curation: &Curation,
    refs: &mut schema::RefCollector,
) -> Value {
    let empty = Map::new();
    let vendor = vendor.and_then(Value::as_object).unwrap_or(&empty);
    let mut out = Map::new();
    let success = SUCCESS_CODES.iter().find(|c| vendor.contains_key(**c));
    let (code, body) = match success {
        Some(code) => {
            let declared = &vendor[*code];
            let body = match declared.get("schema") {
                // 204 means no content, whatever schema the vendor declares.
                _ if *code == "204" => None,
                Some(s) => Some(json_content(schema::convert(s, Role::Response, refs))),
                None => match curation.binary_content_type(relative_path) {
                    Some(ct) => {
                        Some(json!({ct: {"schema": {"type": "string", "format": "binary"}}}))
                    }
                    None => Some(json_content(json!({}))),
                },
            };
            (code.to_string(), body)
        }
        None => ("200".to_string(), Some(json_content(json!({})))),
    };
    let mut success = Map::new();
    success.insert("description".into(), json!("Success"));
    if let Some(content) = body {
        success.insert("content".into(), content);
    }
    out.insert(code, Value::Object(success));
    insert_error_responses(&mut out);
    Value::Object(out)
}

/// The responses of an operation whose success body the curation declares.
fn overridden_responses(o: &ResponseOverride, refs: &mut schema::RefCollector) -> Result<Value> {
    let schema = schema::convert(&override_schema(o)?, Role::Response, refs);
    let mut out = Map::new();
    out.insert(
        o.status.clone(),
        json!({"description": "Success", "content": json_content(schema)}),
    );
    insert_error_responses(&mut out);
    Ok(Value::Object(out))
}

/// Every error status shares one body: SentinelOne's error list.
fn insert_error_responses(responses: &mut Map<String, Value>) {
    let schema = json!({"$ref": format!("#/components/schemas/{ERROR_SCHEMA}")});
    for range in ["4XX", "5XX"] {
        responses.insert(
            range.into(),
            json!({"description": "Error", "content": json_content(schema.clone())}),
        );
    }
}

fn json_content(schema: Value) -> Value {
    json!({"application/json": {"schema": schema}})
}

fn extra_operation(extra: &ExtraOperation, refs: &mut schema::RefCollector) -> Result<Value> {
    let mut params: Vec<Value> = extra
        .path
        .split('/')
        .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
        .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
        .collect();
    let mut query: Vec<(String, Value)> = extra
        .query
        .iter()
        .map(|q| {
            (
                format!("query {q}"),
                json!({"name": q, "in": "query", "required": false, "schema": {"type": "string"}}),
            )
        })
        .chain(extra.csv_query.iter().map(|q| {
            (
                format!("query {q}"),
                json!({"name": q, "in": "query", "required": false,
                    "schema": {"$ref": format!("#/components/schemas/{CSV_LIST_SCHEMA}")}}),
            )
        }))
        .collect();
    if let Some(text) = &extra.parameters {
        let declared: Vec<Value> =
            serde_json::from_str(text).context("parameters is not a JSON array")?;
        for param in &declared {
            let name = param["name"]
                .as_str()
                .context("a parameter without a name")?;
            let place = param["in"].as_str().context("a parameter without `in`")?;
            if !["query", "header"].contains(&place) {
                bail!("parameter {name} is in {place}; extra parameters are query or header");
            }
            let (schema, limits) = parameter_schema(param, refs);
            let mut converted = json!({
                "name": name,
                "in": place,
                "required": param["required"] == true,
                "schema": schema,
            });
            if let Some(limits) = limits {
                converted[schema::CONSTRAINTS_EXTENSION] = limits;
            }
            query.push((format!("{place} {name}"), converted));
        }
    }
    // Sorted like the vendor's: by place, then name.
    query.sort_by(|a, b| a.0.cmp(&b.0));
    params.extend(query.into_iter().map(|(_, p)| p));
    let mut out = Map::new();
    out.insert("operationId".into(), json!(extra.operation_id));
    out.insert(
        "summary".into(),
        json!(naming::humanize(&extra.operation_id)),
    );
    out.insert("tags".into(), json!([extra.tag]));
    if extra.root {
        out.insert("security".into(), json!([{BEARER_SCHEME: []}]));
    }
    if !params.is_empty() {
        out.insert("parameters".into(), Value::Array(params));
    }
    if let Some(text) = &extra.body {
        let vendor: Value = serde_json::from_str(text).context("body is not JSON")?;
        let schema = schema::convert(&vendor, Role::Request, refs);
        out.insert(
            "requestBody".into(),
            json!({"required": true, "content": json_content(schema)}),
        );
    } else if extra.json_body {
        out.insert(
            "requestBody".into(),
            json!({"required": true, "content": {"application/json": {"schema": {"type": "object"}}}}),
        );
    }
    let status = extra.status.as_deref().unwrap_or("200");
    if !SUCCESS_CODES.contains(&status) {
        bail!("status {status} is not one of {SUCCESS_CODES:?}");
    }
    let mut success = Map::new();
    success.insert("description".into(), json!("Success"));
    match (&extra.response, status) {
        (Some(_), "204") => bail!("a 204 has no body: leave out response"),
        (_, "204") => {}
        (Some(text), _) => {
            let vendor: Value = serde_json::from_str(text).context("response is not JSON")?;
            let schema = schema::convert(&vendor, Role::Response, refs);
            success.insert("content".into(), json_content(schema));
        }
        (None, _) => {
            success.insert("content".into(), json_content(json!({})));
        }
    }
    let mut responses = Map::new();
    responses.insert(status.into(), Value::Object(success));
    insert_error_responses(&mut responses);
    out.insert("responses".into(), Value::Object(responses));
    Ok(Value::Object(out))
}

fn multipart_entry(op: &VendorOperation<'_>) -> Value {
    let mut fields: Vec<Value> = op
        .params()
        .map(|p| {
            let kind = match (p["type"].as_str(), p["in"].as_str()) {
                (Some("file"), _) => "file".to_string(),
                (Some("array"), _) => format!("array of {}", p["items"]["type"].as_str().unwrap_or("string")),
                (Some(t), _) => t.to_string(),
                (None, Some("body")) => "json".to_string(),
                _ => "string".to_string(),
            };
            json!({"name": p["name"], "in": p["in"], "type": kind, "required": p["required"] == true})
        })
        .collect();
    fields.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
    json!({
        "operationId": op.operation_id,
        "method": op.method,
        "path": op.relative_path,
        "fields": fields,
    })
}

/// The curation file, relative to the workspace root.
pub const CURATION_PATH: &str = "spec/curation.toml";
/// The catalog mapping, relative to the workspace root.
pub const CATALOG_PATH: &str = "spec/catalog.tsv";

/// Imports `vendor_path` with the curation and catalog found below `root`,
/// returning the spec text.
pub fn import_at(
    root: &std::path::Path,
    vendor_path: &std::path::Path,
    all: bool,
) -> Result<String> {
    import_at_with_figures(root, vendor_path, all).map(|(text, _)| text)
}

/// [`import_at`], with the figures of [`import_with_figures`].
pub fn import_at_with_figures(
    root: &std::path::Path,
    vendor_path: &std::path::Path,
    all: bool,
) -> Result<(String, schema::ConstraintFigures)> {
    let mut curation = Curation::load(&root.join(CURATION_PATH))?;
    curation.index = read_index(root, &curation)?;
    let rows = crate::catalog::load(&root.join(CATALOG_PATH))?;
    let mut wanted = crate::catalog::operation_ids(&rows);
    wanted.extend(curation.facade_operations.iter().cloned());
    let vendor = read_vendor(vendor_path)?;
    let (spec, figures) = import_with_figures(&vendor, &curation, &wanted, all)?;
    Ok((to_text(&spec), figures))
}

/// The keys (`"METHOD /full/path"`) of the index operations that neither
/// the vendor file nor the curation's extras describe (path parameter names
/// erased): those `include_2026_index` adds.
pub fn index_only_keys(
    vendor: &Value,
    curation: &Curation,
    index: &[IndexEntry],
) -> Result<Vec<String>> {
    let ops = vendor_operations(vendor, curation)?;
    let mut described: BTreeSet<String> = ops
        .iter()
        .map(|o| {
            index2026::shape(
                &o.method,
                &format!("{}{}", curation.path_prefix, o.relative_path),
            )
        })
        .collect();
    described.extend(
        curation
            .extra_operations
            .iter()
            .map(|e| index2026::shape(&e.method, &extra_path(e, curation))),
    );
    Ok(index
        .iter()
        .filter(|e| !described.contains(&index2026::shape(&e.method, &e.path)))
        .map(IndexEntry::key)
        .collect())
}

/// The 2026 index the curation names (`index_2026`, relative to `root`),
/// with its parameters file when `include_2026_index` is on. A named file
/// that is missing or malformed is an error: the spec would otherwise lose
/// its marks without a word.
pub fn read_index(root: &std::path::Path, curation: &Curation) -> Result<Option<IndexInput>> {
    let Some(file) = &curation.index_2026 else {
        return Ok(None);
    };
    let entries = index2026::load_index(&root.join(file)).with_context(|| {
        format!("curation index_2026 = {file:?} (relative to the workspace root)")
    })?;
    let params = if curation.include_2026_index {
        let file = curation
            .index_2026_params
            .as_deref()
            .unwrap_or(crate::curation::DEFAULT_INDEX_2026_PARAMS);
        Some(index2026::load_params(&root.join(file))?)
    } else {
        None
    };
    Ok(Some(IndexInput { entries, params }))
}

/// Reads a vendor Swagger file.
pub fn read_vendor(path: &std::path::Path) -> Result<Value> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))
}

// ------------------------------------------------------- the 2026 index

/// The curation key (`"METHOD /relative/path"`) of an index operation: its
/// path below `path_prefix`, or from the console root.
fn index_key(entry: &IndexEntry, curation: &Curation) -> String {
    format!("{} {}", entry.method, index_relative(entry, curation).0)
}

/// The path of an index operation below `path_prefix`, and whether it is
/// at the console root instead.
fn index_relative<'a>(entry: &'a IndexEntry, curation: &Curation) -> (&'a str, bool) {
    match entry.path.strip_prefix(&curation.path_prefix) {
        Some(rest) if rest.starts_with('/') => (rest, false),
        _ => (entry.path.as_str(), true),
    }
}

/// Marks every imported operation (and multipart upload) the index does
/// not list, by method and path with parameter names erased.
fn mark_absent(
    paths: &mut BTreeMap<String, BTreeMap<usize, (String, Value)>>,
    multipart: &mut [Value],
    index: &IndexInput,
    curation: &Curation,
) {
    let listed: BTreeSet<String> = index
        .entries
        .iter()
        .map(|e| index2026::shape(&e.method, &e.path))
        .collect();
    for (path, methods) in paths.iter_mut() {
        for (method, op) in methods.values_mut() {
            if !listed.contains(&index2026::shape(method, path)) {
                op[index2026::ABSENT_EXTENSION] = json!(true);
            }
        }
    }
    for entry in multipart.iter_mut() {
        let method = entry["method"].as_str().unwrap_or_default().to_string();
        let path = format!(
            "{}{}",
            curation.path_prefix,
            entry["path"].as_str().unwrap_or_default()
        );
        if !listed.contains(&index2026::shape(&method, &path)) {
            entry[index2026::ABSENT_EXTENSION] = json!(true);
        }
    }
}

/// Adds the operations only the index has (no operation of the vendor file
/// or the curation's extras has their method and path, parameter names
/// erased), with the parameters of the parameters file and a free-form JSON
/// answer. Their operationIds follow the naming rule; one that another
/// operation already has takes the path's disambiguator. Returns whether
/// one of them is at the console root (bearer authentication).
fn add_index_only(
    paths: &mut BTreeMap<String, BTreeMap<usize, (String, Value)>>,
    multipart: &mut Vec<Value>,
    index: &IndexInput,
    described: &BTreeSet<String>,
    taken: &mut BTreeSet<String>,
    curation: &Curation,
    refs: &mut schema::RefCollector,
) -> Result<bool> {
    let params_file = curation
        .index_2026_params
        .as_deref()
        .unwrap_or(crate::curation::DEFAULT_INDEX_2026_PARAMS);
    let table = index.params.as_ref().with_context(|| {
        format!(
            "include_2026_index needs the index's parameters ({params_file}), which were not read"
        )
    })?;
    let mut only: Vec<&IndexEntry> = index
        .entries
        .iter()
        .filter(|e| !described.contains(&index2026::shape(&e.method, &e.path)))
        .collect();
    only.sort_by(|a, b| (&a.path, &a.method).cmp(&(&b.path, &b.method)));

    // Names: the curation's, else the rule's; a derived name shared with
    // another operation takes the disambiguator.
    let mut named: Vec<(String, bool)> = Vec::new();
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for entry in &only {
        let key = index_key(entry, curation);
        match curation.operation_ids.get(&key) {
            Some(id) => named.push((id.clone(), false)),
            None => {
                let id = naming::derive(&entry.method, index_relative(entry, curation).0);
                *counts.entry(id.clone()).or_default() += 1;
                named.push((id, true));
            }
        }
    }
    let mut bearer = false;
    for (entry, (mut id, derived)) in only.into_iter().zip(named) {
        let (relative, root) = index_relative(entry, curation);
        if derived && (counts[&id] > 1 || taken.contains(&id)) {
            id.push_str(&naming::disambiguator(relative));
        }
        if !taken.insert(id.clone()) {
            bail!(
                "operationId {id} of {} (2026 index) is already taken; give it a name in curation [operation_ids] under {:?}",
                entry.key(),
                index_key(entry, curation)
            );
        }
        let params = table.get(&entry.key()).with_context(|| {
            format!(
                "{params_file} has no row for {}; refresh it with `codegen index-params`",
                entry.key()
            )
        })?;
        if params.iter().any(|p| p.place == "formData") {
            multipart.push(index_multipart_entry(entry, relative, &id, params));
            continue;
        }
        let op = index_operation(entry, relative, root, &id, params, curation, refs)
            .with_context(|| format!("2026 index operation {} ({})", id, entry.key()))?;
        insert_operation(paths, &entry.path, &entry.method, op)?;
        bearer |= root;
    }
    Ok(bearer)
}

/// One index-only operation in the spec's form.
fn index_operation(
    entry: &IndexEntry,
    relative: &str,
    root: bool,
    id: &str,
    params: &[IndexParam],
    curation: &Curation,
    refs: &mut schema::RefCollector,
) -> Result<Value> {
    let template: Vec<&str> = relative
        .split('/')
        .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
        .collect();
    let mut path_params = Vec::new();
    let mut other = Vec::new();
    let mut body = None;
    for p in params {
        if curation.drops_parameter(id, &p.name) {
            continue;
        }
        if p.place == "body" {
            if body.is_some() {
                bail!("more than one body parameter");
            }
            body = Some(p.required);
            continue;
        }
        let mut vendor = match p.kind.as_str() {
            "array" => json!({"type": "array", "items": {"type": "string"}}),
            "integer" | "number" | "boolean" | "string" => json!({"type": p.kind}),
            // The pages give a query or header `object` no shape.
            "object" => json!({"type": "string"}),
            other => bail!("{} parameter {} has type {other}", p.place, p.name),
        };
        vendor["name"] = json!(p.name);
        vendor["in"] = json!(p.place);
        let (schema, _) = parameter_schema(&vendor, refs);
        let converted = json!({
            "name": p.name,
            "in": p.place,
            "required": p.place == "path" || p.required,
            "schema": schema,
        });
        if p.place == "path" {
            if !template.contains(&p.name.as_str()) {
                bail!("path parameter {} is not in the path template", p.name);
            }
            path_params.push(converted);
        } else {
            other.push(converted);
        }
    }
    let mut ordered: Vec<Value> = template
        .iter()
        .map(|name| {
            match path_params.iter().position(|p| p["name"] == *name) {
                Some(i) => path_params.remove(i),
                None => json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}),
            }
        })
        .collect();
    other.sort_by(|a, b| {
        (a["in"].as_str(), a["name"].as_str()).cmp(&(b["in"].as_str(), b["name"].as_str()))
    });
    ordered.extend(other);

    let mut out = Map::new();
    out.insert("operationId".into(), json!(id));
    out.insert("summary".into(), json!(naming::humanize(id)));
    out.insert("tags".into(), json!([curation.tag(&entry.tag)]));
    if root {
        out.insert("security".into(), json!([{BEARER_SCHEME: []}]));
    }
    if !ordered.is_empty() {
        out.insert("parameters".into(), Value::Array(ordered));
    }
    if let Some(required) = body {
        out.insert(
            "requestBody".into(),
            json!({"required": required, "content": {"application/json": {"schema": {"type": "object"}}}}),
        );
    }
    let mut responses = Map::new();
    responses.insert(
        "200".into(),
        json!({"description": "Success", "content": json_content(json!({}))}),
    );
    insert_error_responses(&mut responses);
    out.insert("responses".into(), Value::Object(responses));
    out.insert(index2026::ONLY_EXTENSION.into(), json!(true));
    Ok(Value::Object(out))
}

/// An index-only multipart upload, listed like the vendor's.
fn index_multipart_entry(
    entry: &IndexEntry,
    relative: &str,
    id: &str,
    params: &[IndexParam],
) -> Value {
    let mut fields: Vec<Value> = params
        .iter()
        .map(|p| {
            let kind = match (p.kind.as_str(), p.place.as_str()) {
                ("array", _) => "array of string".to_string(),
                (_, "body") => "json".to_string(),
                (k, _) => k.to_string(),
            };
            json!({"name": p.name, "in": p.place, "type": kind, "required": p.required || p.place == "path"})
        })
        .collect();
    fields.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
    json!({
        "operationId": id,
        "method": entry.method,
        "path": relative,
        "fields": fields,
        index2026::ONLY_EXTENSION: true,
    })
}
