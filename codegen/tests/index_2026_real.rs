//! The 2026 endpoint index with the real project files: the committed spec
//! marks what the index no longer lists, and `include_2026_index` adds the
//! index-only operations so that progenitor still generates. Reads
//! ../shared (skipped when absent, unless `S1_REQUIRE_SHARED` is set).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use codegen::curation::Curation;
use codegen::import;
use codegen::index2026::{self, ABSENT_EXTENSION, ONLY_EXTENSION};
use serde_json::Value;

const VENDOR: &str = "../shared/specs/s1-mgmt-api-v2.1.swagger.celerium-2024-03.json";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn shared_present() -> bool {
    if root().join("../shared").is_dir() {
        return true;
    }
    if std::env::var_os("S1_REQUIRE_SHARED").is_some() {
        panic!("../shared is absent but S1_REQUIRE_SHARED is set");
    }
    println!("skipped: ../shared absent");
    false
}

/// Operations of a spec, paths and multipart uploads: `METHOD path id`.
fn operation_ids(spec: &Value) -> BTreeSet<String> {
    let mut out: BTreeSet<String> = index2026::spec_operations(spec)
        .into_iter()
        .map(|(m, p)| {
            let id = spec["paths"][&p][m.to_lowercase()]["operationId"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            format!("{m} {p} {id}")
        })
        .collect();
    for entry in spec[import::MULTIPART_EXTENSION]
        .as_array()
        .into_iter()
        .flatten()
    {
        out.insert(format!(
            "{} {} {}",
            entry["method"].as_str().unwrap_or_default(),
            entry["path"].as_str().unwrap_or_default(),
            entry["operationId"].as_str().unwrap_or_default()
        ));
    }
    out
}

/// Imports the vendor file with the project's curation and selection,
/// `include_2026_index` set as asked.
fn import_with_switch(on: bool) -> Value {
    let root = root();
    let mut curation = Curation::load(&root.join(import::CURATION_PATH)).expect("curation");
    curation.include_2026_index = on;
    curation.index = import::read_index(&root, &curation).expect("the index reads");
    let rows = codegen::catalog::load(&root.join(import::CATALOG_PATH)).expect("catalog");
    let mut wanted = codegen::catalog::operation_ids(&rows);
    wanted.extend(curation.facade_operations.iter().cloned());
    let vendor = import::read_vendor(&root.join(VENDOR)).expect("vendor file");
    import::import(&vendor, &curation, &wanted, false).expect("import succeeds")
}

fn marked(spec: &Value, extension: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (path, item) in spec["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("item") {
            if op.get(extension) == Some(&Value::Bool(true)) {
                out.insert(format!("{} {path}", method.to_uppercase()));
            }
        }
    }
    out
}

#[test]
fn the_committed_spec_marks_what_the_2026_index_no_longer_lists() {
    if !shared_present() {
        return;
    }
    let text = std::fs::read_to_string(root().join("spec/openapi.json")).expect("spec");
    let spec: Value = serde_json::from_str(&text).expect("spec JSON");
    let absent = marked(&spec, ABSENT_EXTENSION);
    assert!(absent.contains("GET /web/api/v2.1/hashes/{hash}/reputation"));
    assert!(absent.contains("GET /web/api/v2.1/private/threats/{threat_id}/analysis"));
    // Renamed path parameters are the same operation: not absent.
    assert!(!absent.contains("GET /sdl/v2/api/queries/{query_id}"));
    assert!(!absent.contains("GET /web/api/v2.1/agents"));
    assert_eq!(absent.len(), 32, "{absent:#?}");
    assert!(marked(&spec, ONLY_EXTENSION).is_empty());
}

#[test]
fn the_2026_switch_adds_the_index_only_operations_and_progenitor_takes_them() {
    if !shared_present() {
        return;
    }
    let off = import_with_switch(false);
    let on = import_with_switch(true);
    let before = operation_ids(&off);
    let after = operation_ids(&on);
    assert!(before.is_subset(&after), "the switch renames or drops none");
    let params = index2026::load_params(&root().join("spec/index-2026-params.tsv"))
        .expect("the parameters file reads");
    assert_eq!(after.len() - before.len(), params.len());
    assert_eq!(params.len(), 311);
    assert_eq!(before.len(), 370);
    // Every added operation is marked and none is marked absent.
    let only_uploads = on[import::MULTIPART_EXTENSION]
        .as_array()
        .expect("uploads")
        .iter()
        .filter(|e| e.get(ONLY_EXTENSION) == Some(&Value::Bool(true)))
        .count();
    assert_eq!(only_uploads, 2);
    assert_eq!(
        marked(&on, ONLY_EXTENSION).len() + only_uploads,
        params.len()
    );
    assert_eq!(
        marked(&on, ABSENT_EXTENSION),
        marked(&off, ABSENT_EXTENSION)
    );
    // An index-only operation with its parameters from the pages.
    let vcs = &on["paths"]["/web/api/v2.1/cnapp/vcs/integration/{vcsIntegrationId}"]["delete"];
    assert_eq!(vcs["operationId"], "delete_cnapp_vcs_integration");
    let names: Vec<&str> = vcs["parameters"]
        .as_array()
        .expect("parameters")
        .iter()
        .map(|p| p["name"].as_str().expect("name"))
        .collect();
    assert_eq!(names, ["vcsIntegrationId", "scopeIds", "scopeType"]);
    // Deterministic, and progenitor generates the whole client.
    assert_eq!(
        import::to_text(&on),
        import::to_text(&import_with_switch(true))
    );
    let generated = codegen::generate::generate(&import::to_text(&on)).expect("generates");
    let client = &generated.files[0].1;
    assert!(client.contains("fn delete_cnapp_vcs_integration(&self)"));
}
