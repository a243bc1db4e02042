//! The real project files: spec/catalog.tsv covers both catalogs of
//! ../shared row for row, every implementation it names exists, and the
//! committed spec carries no vendor prose.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use codegen::catalog::{self, FACADE_PREFIX};
use serde_json::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `../shared` beside the project; `None` (after saying so) when it is
/// absent, unless `S1_REQUIRE_SHARED` is set.
fn shared() -> Option<PathBuf> {
    let dir = root().join("../shared");
    if dir.is_dir() {
        return Some(dir);
    }
    if std::env::var_os("S1_REQUIRE_SHARED").is_some() {
        panic!("../shared is absent but S1_REQUIRE_SHARED is set");
    }
    println!("skipped: ../shared absent");
    None
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn catalog_rows() -> Vec<catalog::CatalogRow> {
    catalog::load(&root().join("spec/catalog.tsv")).expect("spec/catalog.tsv parses")
}

fn spec() -> Value {
    serde_json::from_str(&read(&root().join("spec/openapi.json")))
        .expect("spec/openapi.json is JSON")
}

/// The data rows of a shared TSV (header checked, blank lines skipped).
fn tsv_rows(path: &Path, header: &str) -> Vec<Vec<String>> {
    let text = read(path);
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some(header), "{}: header", path.display());
    lines
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split('\t').map(str::to_string).collect())
        .collect()
}

/// Every operationId of the spec: its paths and its multipart list.
fn spec_operation_ids(spec: &Value) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    for item in spec["paths"].as_object().expect("paths").values() {
        for op in item.as_object().expect("path item").values() {
            ids.insert(op["operationId"].as_str().expect("operationId").to_string());
        }
    }
    for entry in spec[codegen::import::MULTIPART_EXTENSION]
        .as_array()
        .expect("x-multipart-operations")
    {
        ids.insert(
            entry["operationId"]
                .as_str()
                .expect("operationId")
                .to_string(),
        );
    }
    ids
}

#[test]
fn the_catalog_has_one_row_per_rewst_action_and_d3_command_in_order() {
    let Some(shared) = shared() else { return };
    let rewst = tsv_rows(
        &shared.join("catalog/rewst-actions.tsv"),
        "category\taction\tdescription",
    );
    let d3 = tsv_rows(
        &shared.join("catalog/d3-commands.tsv"),
        "command\tdescription\tinputs",
    );
    assert!(
        rewst.len() > 100 && d3.len() > 20,
        "catalogs look truncated"
    );
    let expected: Vec<(String, String, String)> = rewst
        .iter()
        .map(|r| ("rewst".to_string(), r[0].clone(), r[1].clone()))
        .chain(
            d3.iter()
                .map(|r| ("d3".to_string(), String::new(), r[0].clone())),
        )
        .collect();
    let actual: Vec<(String, String, String)> = catalog_rows()
        .into_iter()
        .map(|r| (r.source, r.category, r.action))
        .collect();
    for (i, (want, got)) in expected.iter().zip(&actual).enumerate() {
        assert_eq!(got, want, "spec/catalog.tsv data row {}", i + 1);
    }
    assert_eq!(actual.len(), expected.len(), "spec/catalog.tsv row count");
}

#[test]
fn every_catalog_row_is_implemented_by_a_spec_operation_or_a_facade_function() {
    let ids = spec_operation_ids(&spec());
    let mut problems = Vec::new();
    for row in catalog_rows() {
        let what = format!("{} {:?} {:?}", row.source, row.category, row.action);
        if row.implemented_by.is_empty() {
            problems.push(format!("{what}: implemented_by is empty"));
        }
        for entry in &row.implemented_by {
            if let Some(call) = entry.strip_prefix(FACADE_PREFIX) {
                let is_ident = |s: &str| {
                    !s.is_empty()
                        && s.chars()
                            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
                };
                match call.split_once("().") {
                    Some((handler, method)) if is_ident(handler) && is_ident(method) => {
                        if let Err(problem) = facade_call_exists(handler, method) {
                            problems.push(format!("{what}: {entry}: {problem}"));
                        }
                    }
                    None if is_ident(call) => {
                        if let Err(problem) = client_method_exists(call) {
                            problems.push(format!("{what}: {entry}: {problem}"));
                        }
                    }
                    _ => problems.push(format!(
                        "{what}: {entry} is not client.<handler>().<method> nor client.<method>"
                    )),
                }
            } else if !ids.contains(entry) {
                problems.push(format!(
                    "{what}: {entry} is not an operationId of spec/openapi.json"
                ));
            }
        }
    }
    assert_eq!(problems, Vec::<String>::new());
}

/// Every facade source file (src/**/*.rs, the CLI and the simulator left
/// out), as one text.
fn facade_sources() -> String {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                if !path.ends_with("bin") && !path.ends_with("sim") {
                    walk(&path, out);
                }
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let mut paths = Vec::new();
    walk(&root().join("src"), &mut paths);
    paths.sort();
    paths
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .collect::<Vec<_>>()
        .join("\n")
}

/// `Ok` when the client hands out handler `handler`
/// (`pub fn <handler>(&self) -> <Type><'_>`) and an `impl<'c> <Type><'c>`
/// block declares the public method `method`.
fn facade_call_exists(handler: &str, method: &str) -> Result<(), String> {
    let text = facade_sources();
    let accessor = format!("    pub fn {handler}(&self) -> ");
    let Some(ty) = text.lines().find_map(|line| {
        line.strip_prefix(&accessor)?
            .strip_suffix("<'_> {")
            .map(str::to_string)
    }) else {
        return Err(format!("no handler `Client::{handler}`"));
    };
    if declares(&text, &format!("impl<'c> {ty}<'c> {{"), method) {
        Ok(())
    } else {
        Err(format!("no method `{ty}::{method}`"))
    }
}

/// `Ok` when an `impl Client` block of the facade declares the public
/// method `method` (`client.api_request`).
fn client_method_exists(method: &str) -> Result<(), String> {
    if declares(&facade_sources(), "impl Client {", method) {
        Ok(())
    } else {
        Err(format!("no method `Client::{method}`"))
    }
}

/// Whether a block opening with the line `header` (and closing with a
/// line `}`) of `text` declares the public method `method`.
fn declares(text: &str, header: &str, method: &str) -> bool {
    let mut inside = false;
    for line in text.lines() {
        if line == header {
            inside = true;
        } else if line == "}" {
            inside = false;
        } else if inside
            && ["    pub fn ", "    pub async fn "].iter().any(|prefix| {
                line.strip_prefix(prefix).is_some_and(|rest| {
                    rest.strip_prefix(method)
                        .is_some_and(|after| after.starts_with('(') || after.starts_with('<'))
                })
            })
        {
            return true;
        }
    }
    false
}

#[test]
fn facade_entries_name_methods_that_exist() {
    assert_eq!(client_method_exists("api_request"), Ok(()));
    assert_eq!(facade_call_exists("threats", "kill"), Ok(()));
    assert!(client_method_exists("no_such_method").is_err());
    assert!(facade_call_exists("threats", "no_such_method").is_err());
}

#[test]
fn the_committed_spec_validates() {
    let text = read(&root().join("spec/openapi.json"));
    let spec: openapiv3::OpenAPI = serde_json::from_str(&text).expect("OpenAPI 3.0");
    assert_eq!(codegen::validate::validate(&spec), Vec::<String>::new());
    assert_eq!(spec.openapi, "3.0.3");
}

/// Every `description` / `summary` string of `value` longer than 40 characters.
fn prose(value: &Value, found: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                if let (true, Value::String(s)) = (key == "description" || key == "summary", v)
                    && s.chars().count() > 40
                {
                    found.insert(s.clone());
                }
                prose(v, found);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| prose(v, found)),
        _ => {}
    }
}

/// Every string (keys and values) of `value`, NUL-separated, unescaped.
fn strings(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                out.push_str(key);
                out.push('\0');
                strings(v, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| strings(v, out)),
        Value::String(s) => {
            out.push_str(s);
            out.push('\0');
        }
        _ => {}
    }
}

#[test]
fn the_committed_spec_holds_no_vendor_prose() {
    let Some(shared) = shared() else { return };
    let vendor: Value = serde_json::from_str(&read(
        &shared.join("specs/s1-mgmt-api-v2.1.swagger.celerium-2024-03.json"),
    ))
    .expect("vendor file is JSON");
    let mut vendor_prose = BTreeSet::new();
    prose(&vendor, &mut vendor_prose);
    assert!(
        vendor_prose.len() > 500,
        "only {} prose strings found in the vendor file",
        vendor_prose.len()
    );
    assert!(
        vendor_prose
            .iter()
            .any(|s| s.contains("This command gives the Agent ID")),
        "the agents list description is not among the vendor prose"
    );

    // The spec's strings, unescaped: a vendor text with quotes or line
    // breaks is found even though the file escapes them.
    let mut spec_strings = String::new();
    strings(&spec(), &mut spec_strings);
    let leaked: Vec<&String> = vendor_prose
        .iter()
        .filter(|s| spec_strings.contains(s.as_str()))
        .collect();
    assert_eq!(leaked, Vec::<&String>::new());
}
