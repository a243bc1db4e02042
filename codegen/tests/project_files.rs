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
            if let Some(path) = entry.strip_prefix(FACADE_PREFIX) {
                let parts: Vec<&str> = path.split("::").collect();
                let is_ident = |s: &&str| {
                    !s.is_empty()
                        && s.chars()
                            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
                };
                if parts.len() != 2 || !parts.iter().all(is_ident) {
                    problems.push(format!("{what}: {entry} is not facade::<module>::<fn>"));
                } else if !facade_fn_exists(parts[0], parts[1]) {
                    problems.push(format!(
                        "{what}: {entry}: no `pub fn {}` / `pub async fn {}` in src/{}(.rs|/)",
                        parts[1], parts[1], parts[0]
                    ));
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

/// The source of facade module `module`: src/<module>.rs, or every file of
/// src/<module>/ when it is split into submodules.
fn facade_module_text(module: &str) -> String {
    let src = root().join("src");
    if let Ok(text) = std::fs::read_to_string(src.join(format!("{module}.rs"))) {
        return text;
    }
    let Ok(dir) = std::fs::read_dir(src.join(module)) else {
        return String::new();
    };
    let mut paths: Vec<_> = dir.filter_map(|e| Some(e.ok()?.path())).collect();
    paths.sort();
    paths
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .collect::<Vec<_>>()
        .join("\n")
}

/// True when the facade module `module` declares a public function `name`
/// at the start of a line.
fn facade_fn_exists(module: &str, name: &str) -> bool {
    let text = facade_module_text(module);
    text.lines().any(|line| {
        ["pub fn ", "pub async fn "].iter().any(|prefix| {
            line.strip_prefix(prefix).is_some_and(|rest| {
                rest.strip_prefix(name)
                    .is_some_and(|after| after.starts_with('(') || after.starts_with('<'))
            })
        })
    })
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
