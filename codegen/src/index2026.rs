//! SentinelOne's 2026 endpoint index (a JSON list of `{method, path, tag,
//! summary, operationId}`, no schemas) and the parameters of its operations
//! taken from SentinelOne's per-tag reference pages.
//!
//! Three uses: `codegen diff <index>` (new, removed and renamed operations),
//! the `x-absent-2026` mark `codegen import` puts on curated operations the
//! index no longer lists, and, behind `include_2026_index`, the operations
//! only the index has.
//!
//! **Matching.** An operation of the index and one of the curated spec are
//! the same operation when their methods are equal and their full paths are
//! equal once every path parameter's name is erased (`/queries/{query_id}`
//! and `/queries/{id}` both read `/queries/{}`). When only the parameter
//! names differ, the operation is *renamed*. The index's operationIds are
//! the vendor's names spelled out from the path (`_web_api_accounts_get`),
//! so they tell nothing the path does not and play no part; tags and
//! summaries are the vendor's wording and play none either.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, Result, bail};
use serde_json::Value;

/// The extension on a curated operation the 2026 index does not list.
pub const ABSENT_EXTENSION: &str = "x-absent-2026";
/// The extension on an operation that only the 2026 index describes.
pub const ONLY_EXTENSION: &str = "x-only-2026";

/// One operation of the index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexEntry {
    /// Upper case (`GET`).
    pub method: String,
    /// The full path (`/web/api/v2.1/accounts`, `/sdl/v2/api/queries/{id}`).
    pub path: String,
    pub tag: String,
    pub operation_id: String,
}

impl IndexEntry {
    /// `"METHOD /full/path"`.
    pub fn key(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

/// Whether a JSON document has the index's shape: a top-level array whose
/// items are objects with a `method` and a `path`.
pub fn is_index(doc: &Value) -> bool {
    doc.as_array().is_some_and(|items| {
        !items.is_empty()
            && items
                .iter()
                .all(|i| i.get("method").is_some() && i.get("path").is_some())
    })
}

const METHODS: &[&str] = &["GET", "PUT", "POST", "DELETE", "PATCH"];

/// The entries of an index document. `source` names the file in errors.
pub fn parse_index(doc: &Value, source: &str) -> Result<Vec<IndexEntry>> {
    let items = doc.as_array().with_context(|| {
        format!("{source}: not an endpoint index (the top level is not a JSON array)")
    })?;
    if items.is_empty() {
        bail!("{source}: the endpoint index lists no operation");
    }
    let mut seen = BTreeSet::new();
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let field = |name: &str| -> Result<String> {
            item.get(name)
                .and_then(Value::as_str)
                .map(str::to_string)
                .with_context(|| format!("{source}: entry {i} has no string `{name}`"))
        };
        let method = field("method")?.to_ascii_uppercase();
        if !METHODS.contains(&method.as_str()) {
            bail!("{source}: entry {i} has method {method:?}, not one of {METHODS:?}");
        }
        let path = field("path")?;
        if !path.starts_with('/') {
            bail!("{source}: entry {i} has path {path:?}, which does not start with /");
        }
        let entry = IndexEntry {
            method,
            path,
            tag: field("tag")?,
            operation_id: item
                .get("operationId")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
        };
        if !seen.insert(entry.key()) {
            bail!("{source}: {} is listed twice", entry.key());
        }
        out.push(entry);
    }
    Ok(out)
}

/// Reads and parses an index file; every error names the file.
pub fn load_index(path: &Path) -> Result<Vec<IndexEntry>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the endpoint index {}", path.display()))?;
    let doc: Value =
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))?;
    parse_index(&doc, &path.display().to_string())
}

/// `"METHOD /path"` with every path parameter's name erased: the identity
/// of an operation across descriptions.
pub fn shape(method: &str, path: &str) -> String {
    let erased: Vec<&str> = path
        .split('/')
        .map(|s| {
            if s.starts_with('{') && s.ends_with('}') {
                "{}"
            } else {
                s
            }
        })
        .collect();
    format!("{} {}", method.to_ascii_uppercase(), erased.join("/"))
}

/// How the operations of two descriptions pair up (keys `"METHOD /path"`).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Pairing {
    /// In both, with the same path.
    pub same: Vec<String>,
    /// `(old key, new key)`: the same operation, its path parameters renamed.
    pub renamed: Vec<(String, String)>,
    /// Only in the old description.
    pub removed: Vec<String>,
    /// Only in the new description.
    pub added: Vec<String>,
}

/// Pairs `old` with `new` (both `(method, full path)`). A rename pairs one
/// old operation with one new one; where several share a shape on either
/// side, none of them is taken for a rename.
pub fn pair(old: &[(String, String)], new: &[(String, String)]) -> Pairing {
    let key = |(m, p): &(String, String)| format!("{} {p}", m.to_ascii_uppercase());
    let old_keys: BTreeSet<String> = old.iter().map(key).collect();
    let new_keys: BTreeSet<String> = new.iter().map(key).collect();
    let mut out = Pairing {
        same: old_keys.intersection(&new_keys).cloned().collect(),
        ..Pairing::default()
    };
    let by_shape = |items: &[(String, String)], other: &BTreeSet<String>| {
        let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for item in items {
            let k = key(item);
            if !other.contains(&k) {
                map.entry(shape(&item.0, &item.1)).or_default().push(k);
            }
        }
        map
    };
    let old_left = by_shape(old, &new_keys);
    let new_left = by_shape(new, &old_keys);
    let mut renamed_old = BTreeSet::new();
    let mut renamed_new = BTreeSet::new();
    for (shape, olds) in &old_left {
        if let (1, Some(news)) = (olds.len(), new_left.get(shape))
            && news.len() == 1
        {
            out.renamed.push((olds[0].clone(), news[0].clone()));
            renamed_old.insert(olds[0].clone());
            renamed_new.insert(news[0].clone());
        }
    }
    out.removed = old_keys
        .iter()
        .filter(|k| !new_keys.contains(*k) && !renamed_old.contains(*k))
        .cloned()
        .collect();
    out.added = new_keys
        .iter()
        .filter(|k| !old_keys.contains(*k) && !renamed_new.contains(*k))
        .cloned()
        .collect();
    out
}

/// `(METHOD, path)` of every operation in an OpenAPI document's `paths`.
pub fn spec_operations(spec: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (path, item) in spec["paths"].as_object().into_iter().flatten() {
        for method in item.as_object().into_iter().flatten().map(|(m, _)| m) {
            out.push((method.to_ascii_uppercase(), path.clone()));
        }
    }
    out
}

/// `codegen diff <index>`: the curated spec's operations against the index.
pub fn report(curated: &Value, index: &[IndexEntry]) -> String {
    let ops = spec_operations(curated);
    let ids: BTreeMap<String, String> = curated["paths"]
        .as_object()
        .into_iter()
        .flatten()
        .flat_map(|(path, item)| {
            item.as_object().into_iter().flatten().map(move |(m, op)| {
                (
                    format!("{} {path}", m.to_ascii_uppercase()),
                    op["operationId"].as_str().unwrap_or_default().to_string(),
                )
            })
        })
        .collect();
    let tags: BTreeMap<String, &str> = index.iter().map(|e| (e.key(), e.tag.as_str())).collect();
    let listed: Vec<(String, String)> = index
        .iter()
        .map(|e| (e.method.clone(), e.path.clone()))
        .collect();
    let pairing = pair(&ops, &listed);
    let id = |k: &String| ids.get(k).cloned().unwrap_or_default();
    let mut text = String::new();
    let _ = writeln!(
        text,
        "Removed: in the curated spec, not in the index ({}):",
        pairing.removed.len()
    );
    for k in &pairing.removed {
        let _ = writeln!(text, "  - {k} ({})", id(k));
    }
    let _ = writeln!(
        text,
        "Renamed: path parameters renamed ({}):",
        pairing.renamed.len()
    );
    for (old, new) in &pairing.renamed {
        let _ = writeln!(text, "  ~ {old} ({}) -> {new}", id(old));
    }
    let _ = writeln!(
        text,
        "New, or not selected in the curated spec ({}):",
        pairing.added.len()
    );
    for k in &pairing.added {
        let _ = writeln!(text, "  + {k} [{}]", tags.get(k).copied().unwrap_or(""));
    }
    let _ = writeln!(
        text,
        "Counts: {} curated, {} in the index; {} unchanged, {} renamed, {} removed, {} new",
        ops.len(),
        index.len(),
        pairing.same.len(),
        pairing.renamed.len(),
        pairing.removed.len(),
        pairing.added.len()
    );
    text
}

// ------------------------------------------------------------ parameters

/// The header of the parameters file.
pub const PARAMS_HEADER: &str = "method\tpath\tname\tplace\ttype\trequired";

/// Where a parameter of an index operation goes.
pub const PLACES: &[&str] = &["path", "query", "header", "body", "formData"];
/// Parameter types the file holds (`object` is a body, or a query or
/// header value the pages give no shape for).
pub const TYPES: &[&str] = &[
    "string", "integer", "number", "boolean", "array", "object", "file",
];

/// One parameter of an index operation.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct IndexParam {
    pub name: String,
    /// One of [`PLACES`].
    pub place: String,
    /// One of [`TYPES`].
    pub kind: String,
    pub required: bool,
}

/// Parameters by `"METHOD /full/path"`; an operation without parameters
/// maps to an empty list (the file gives it one row with an empty name and
/// place `-`).
pub type ParamTable = BTreeMap<String, Vec<IndexParam>>;

/// Parses the parameters file. `source` names it in errors.
pub fn parse_params(text: &str, source: &str) -> Result<ParamTable> {
    let mut lines = text.lines().enumerate();
    match lines.next() {
        Some((_, h)) if h == PARAMS_HEADER => {}
        _ => bail!("{source}: the first line is not the header {PARAMS_HEADER:?}"),
    }
    let mut out = ParamTable::new();
    for (i, line) in lines {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let n = i + 1;
        let cols: Vec<&str> = line.split('\t').collect();
        let [method, path, name, place, kind, required] = cols[..] else {
            bail!("{source}:{n}: {} columns, 6 expected", cols.len());
        };
        if !METHODS.contains(&method) {
            bail!("{source}:{n}: method {method:?} is not one of {METHODS:?}");
        }
        if !path.starts_with('/') {
            bail!("{source}:{n}: path {path:?} does not start with /");
        }
        let params = out.entry(format!("{method} {path}")).or_default();
        if place == "-" && name.is_empty() {
            continue;
        }
        if !PLACES.contains(&place) {
            bail!("{source}:{n}: place {place:?} is not one of {PLACES:?}");
        }
        if !TYPES.contains(&kind) {
            bail!("{source}:{n}: type {kind:?} is not one of {TYPES:?}");
        }
        if name.is_empty() {
            bail!("{source}:{n}: a parameter without a name");
        }
        let required = match required {
            "true" => true,
            "false" => false,
            other => bail!("{source}:{n}: required is {other:?}, not true or false"),
        };
        if params.iter().any(|p| p.name == name && p.place == place) {
            bail!("{source}:{n}: {place} parameter {name} of {method} {path} is listed twice");
        }
        params.push(IndexParam {
            name: name.to_string(),
            place: place.to_string(),
            kind: kind.to_string(),
            required,
        });
    }
    Ok(out)
}

/// Reads the parameters file; every error names it.
pub fn load_params(path: &Path) -> Result<ParamTable> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the 2026 parameters {}", path.display()))?;
    parse_params(&text, &path.display().to_string())
}

/// The parameters file's text for `table`, operations in key order and
/// parameters as the pages list them.
pub fn params_text(table: &ParamTable, comment: &[String]) -> String {
    let mut text = format!("{PARAMS_HEADER}\n");
    for line in comment {
        let _ = writeln!(text, "# {line}");
    }
    for (key, params) in table {
        let (method, path) = key.split_once(' ').unwrap_or((key, ""));
        if params.is_empty() {
            let _ = writeln!(text, "{method}\t{path}\t\t-\t-\t-");
        }
        for p in params {
            let _ = writeln!(
                text,
                "{method}\t{path}\t{}\t{}\t{}\t{}",
                p.name, p.place, p.kind, p.required
            );
        }
    }
    text
}

/// The type column for a page's `[place, type]`: body parameters name a
/// vendor schema the pages do not give, so they read `object`.
fn param_kind(place: &str, kind: &str) -> Option<&'static str> {
    if place == "body" {
        return Some("object");
    }
    TYPES.iter().copied().find(|t| *t == kind)
}

/// Parameters of every operation a reference page describes. A page holds
/// sections headed ``## `METHOD /path` ``; a section's parameters are the
/// lines ``- `name` [place, type]`` (then `**required**` when required)
/// between its `Parameters:` line and its `Responses:` line. Nothing else
/// of a page (descriptions, examples, notes) is read.
pub fn parse_reference_page(text: &str, source: &str) -> Result<ParamTable> {
    let mut out = ParamTable::new();
    let mut current: Option<String> = None;
    let mut in_params = false;
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        if let Some(head) = line.strip_prefix("## ") {
            in_params = false;
            current = None;
            let Some(inner) = head.strip_prefix('`').and_then(|h| h.strip_suffix('`')) else {
                continue;
            };
            let Some((method, path)) = inner.split_once(' ') else {
                continue;
            };
            if !METHODS.contains(&method) || !path.starts_with('/') {
                continue;
            }
            let key = format!("{method} {path}");
            if out.insert(key.clone(), Vec::new()).is_some() {
                bail!("{source}:{n}: {key} is described twice");
            }
            current = Some(key);
            continue;
        }
        let Some(key) = &current else { continue };
        if line == "Parameters:" {
            in_params = true;
            continue;
        }
        if line.starts_with("Responses:") {
            in_params = false;
            continue;
        }
        if !in_params {
            continue;
        }
        let Some(rest) = line.strip_prefix("- `") else {
            continue;
        };
        let (name, rest) = rest
            .split_once('`')
            .with_context(|| format!("{source}:{n}: a parameter name without its closing `"))?;
        let (inside, after) = rest
            .trim_start()
            .strip_prefix('[')
            .and_then(|r| r.split_once(']'))
            .with_context(|| format!("{source}:{n}: parameter {name} has no [place, type]"))?;
        let (place, kind) = inside
            .split_once(',')
            .map(|(p, k)| (p.trim(), k.trim()))
            .with_context(|| {
                format!("{source}:{n}: parameter {name}: [{inside}] is not [place, type]")
            })?;
        if !PLACES.contains(&place) {
            bail!("{source}:{n}: parameter {name} is in {place:?}, not one of {PLACES:?}");
        }
        let kind = param_kind(place, kind).with_context(|| {
            format!("{source}:{n}: parameter {name} has type {kind:?}, not one of {TYPES:?}")
        })?;
        let required = after.trim_start().starts_with("**required**");
        let params = out.get_mut(key).context("the current section")?;
        if params.iter().any(|p| p.name == name && p.place == place) {
            bail!("{source}:{n}: {place} parameter {name} of {key} is listed twice");
        }
        params.push(IndexParam {
            name: name.to_string(),
            place: place.to_string(),
            kind: kind.to_string(),
            required,
        });
    }
    Ok(out)
}

/// Parameters from every `*.md` page of `dir`, in file-name order.
pub fn read_reference_pages(dir: &Path) -> Result<ParamTable> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("reading the reference pages in {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    files.sort();
    if files.is_empty() {
        bail!("{} holds no .md reference page", dir.display());
    }
    let mut out = ParamTable::new();
    for file in files {
        let text = std::fs::read_to_string(&file)
            .with_context(|| format!("reading {}", file.display()))?;
        for (key, params) in parse_reference_page(&text, &file.display().to_string())? {
            if out.insert(key.clone(), params).is_some() {
                bail!(
                    "{}: {key} is also described on another page",
                    file.display()
                );
            }
        }
    }
    Ok(out)
}

/// What `codegen import` takes from the 2026 index.
#[derive(Debug, Clone, Default)]
pub struct IndexInput {
    /// Its operations.
    pub entries: Vec<IndexEntry>,
    /// Their parameters; needed with `include_2026_index` only.
    pub params: Option<ParamTable>,
}
