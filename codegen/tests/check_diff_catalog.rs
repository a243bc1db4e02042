//! `codegen check` (drift diffs), `codegen diff` (API update report) and the
//! catalog parser, on small inputs.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use codegen::catalog::{self, CatalogRow};
use codegen::check::{self, compare};
use codegen::diff::report;
use serde_json::{Value, json};

// ---------------------------------------------------------------- check

/// A fresh, empty directory below the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(label: &str) -> Self {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let dir =
            std::env::temp_dir().join(format!("codegen-test-{label}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        TempDir(dir)
    }

    fn write(&self, relative: &str, text: &str) {
        let path = self.0.join(relative);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("dirs");
        std::fs::write(path, text).expect("write");
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn compare_finds_no_drift_in_an_identical_file() {
    let root = TempDir::new("same");
    root.write("spec/notes.txt", "alpha\nbeta\n");
    assert!(compare(&root.0, Path::new("spec/notes.txt"), "alpha\nbeta\n").is_none());
}

#[test]
fn compare_shows_a_hand_edited_line_as_a_unified_diff_naming_the_file() {
    let root = TempDir::new("edited");
    root.write(
        "generated/src/client.rs",
        "one\ntwo\nthree\nfour\nfive\nsix\nseven\n",
    );
    let drift = compare(
        &root.0,
        Path::new("generated/src/client.rs"),
        "one\ntwo\nthree\nFOUR\nfive\nsix\nseven\n",
    )
    .expect("a hand edit is drift");
    assert_eq!(drift.path, "generated/src/client.rs");
    assert_eq!(
        drift.diff,
        "--- generated/src/client.rs (committed)\n\
         +++ generated/src/client.rs (from codegen)\n\
         @@ -2,5 +2,5 @@\n \
         two\n \
         three\n\
         -four\n\
         +FOUR\n \
         five\n \
         six\n"
    );
}

#[test]
fn compare_treats_a_missing_file_as_empty() {
    let root = TempDir::new("missing");
    let drift = compare(&root.0, Path::new("spec/openapi.json"), "{}\n").expect("drift");
    assert_eq!(drift.path, "spec/openapi.json");
    assert_eq!(
        drift.diff,
        "--- spec/openapi.json (committed)\n\
         +++ spec/openapi.json (from codegen)\n\
         @@ -0,0 +1 @@\n\
         +{}\n"
    );
}

#[test]
fn compare_cuts_long_diffs_and_says_how_much_is_left() {
    let root = TempDir::new("long");
    let committed: String = (0..300).map(|i| format!("old {i}\n")).collect();
    let expected: String = (0..300).map(|i| format!("new {i}\n")).collect();
    root.write("big.txt", &committed);
    let drift = compare(&root.0, Path::new("big.txt"), &expected).expect("drift");
    let lines: Vec<&str> = drift.diff.lines().collect();
    // Two file headers, one hunk header, 300 removed and 300 added lines.
    assert_eq!(lines.len(), 201);
    assert_eq!(
        lines[..3],
        [
            "--- big.txt (committed)",
            "+++ big.txt (from codegen)",
            "@@ -1,300 +1,300 @@"
        ]
    );
    assert_eq!(lines[3], "-old 0");
    assert_eq!(lines[199], "-old 196");
    assert_eq!(lines[200], "... 403 more diff lines");
}

/// A tiny curated spec that generates.
fn tiny_spec() -> String {
    let error = json!({"description": "Error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ApiError"}}}});
    json!({
        "openapi": "3.0.3",
        "info": {"title": "test", "version": "2.1"},
        "paths": {"/web/api/v2.1/system/status": {"get": {
            "operationId": "get_system_status",
            "tags": ["System"],
            "responses": {
                "200": {"description": "Success", "content": {"application/json": {"schema": {"type": "object"}}}},
                "4XX": error.clone(),
                "5XX": error
            }
        }}},
        "components": {"schemas": {"ApiError": {"type": "object", "properties": {"errors": {"type": "array", "items": {"type": "string"}}}}}}
    })
    .to_string()
}

#[test]
fn check_reports_exactly_the_hand_edited_generated_file() {
    let root = TempDir::new("check");
    let spec = tiny_spec();
    root.write(codegen::generate::SPEC_PATH, &spec);
    let generated = codegen::generate::generate(&spec).expect("generates");
    std::fs::create_dir_all(root.0.join("generated/src")).expect("dirs");
    codegen::generate::write(&root.0, &generated).expect("writes");
    let drifted: Vec<String> = check::check(&root.0, None)
        .expect("check runs")
        .into_iter()
        .map(|d| d.path)
        .collect();
    assert_eq!(drifted, Vec::<String>::new());

    let client = root.0.join(codegen::generate::CLIENT_PATH);
    let text = std::fs::read_to_string(&client).expect("client");
    let edited = text.replacen("pub mod types", "pub mod handmade_types", 1);
    assert_ne!(text, edited);
    std::fs::write(&client, edited).expect("edit");
    let drifts = check::check(&root.0, None).expect("check runs");
    assert_eq!(drifts.len(), 1);
    assert_eq!(drifts[0].path, "generated/src/client.rs");
    assert!(
        drifts[0]
            .diff
            .contains("\n-pub mod handmade_types {\n+pub mod types {\n"),
        "{}",
        drifts[0].diff
    );
}

// ---------------------------------------------------------------- diff

fn op(id: &str, params: &[&str], response: Value) -> Value {
    let parameters: Vec<Value> = params
        .iter()
        .map(|p| json!({"name": p, "in": "query", "required": false, "schema": {"type": "string"}}))
        .collect();
    json!({
        "operationId": id,
        "tags": ["T"],
        "parameters": parameters,
        "responses": {
            "200": {"description": "Success", "content": {"application/json": {"schema": response}}},
            "4XX": {"description": "Error"}
        }
    })
}

fn curated_spec(paths: Value, schemas: Value) -> Value {
    json!({"openapi": "3.0.3", "paths": paths, "components": {"schemas": schemas}})
}

fn schema_ref(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

#[test]
fn diff_reports_removed_changed_and_new_operations() {
    let curated = curated_spec(
        json!({
            "/api/agents": {"get": op("list_agents", &["limit", "skip"], schema_ref("AgentListResponse"))},
            "/api/groups": {"get": op("list_groups", &[], schema_ref("GroupListResponse"))},
            "/api/sites": {"get": op("list_sites", &[], json!({}))},
            "/api/users": {"get": op("list_users", &["role"], json!({}))}
        }),
        json!({
            "AgentListResponse": {"type": "object", "properties": {"data": {"type": "array"}}},
            "GroupListResponse": {"type": "object", "properties": {"name": {"type": "string"}}}
        }),
    );
    let newer = curated_spec(
        json!({
            "/api/agents": {"get": op("list_agents", &["skip", "cursor"], schema_ref("AgentListResponse"))},
            "/api/groups": {"get": op("list_groups", &[], schema_ref("GroupListResponse"))},
            "/api/threats": {"get": op("list_threats", &[], json!({}))},
            "/api/users": {"get": op("list_users", &["role"], json!({}))}
        }),
        json!({
            "AgentListResponse": {"type": "object", "properties": {"data": {"type": "array"}}},
            "GroupListResponse": {"type": "object", "properties": {"name": {"type": "integer"}}}
        }),
    );
    assert_eq!(
        report(&curated, &newer),
        "Removed from the API (1):\n\
         \x20 - GET /api/sites (list_sites)\n\
         Changed (2):\n\
         \x20 ~ GET /api/agents (list_agents)\n\
         \x20     parameter added: query cursor\n\
         \x20     parameter removed: query limit\n\
         \x20 ~ GET /api/groups (list_groups)\n\
         \x20     response schema changed\n\
         New, or not selected in the curated spec (1):\n\
         \x20 + GET /api/threats (list_threats)\n"
    );
}

#[test]
fn diff_reports_changed_parameters_request_bodies_and_names() {
    let mut before = op("connect_agents", &["mode"], json!({}));
    before["requestBody"] =
        json!({"content": {"application/json": {"schema": schema_ref("ConnectRequest")}}});
    let mut after = op("connect_all_agents", &["mode"], json!({}));
    after["parameters"][0]["schema"] = json!({"type": "integer"});
    after["requestBody"] =
        json!({"content": {"application/json": {"schema": schema_ref("ConnectRequest")}}});
    let curated = curated_spec(
        json!({"/api/agents/actions/connect": {"post": before}}),
        json!({"ConnectRequest": {"type": "object", "required": ["filter"]}}),
    );
    let newer = curated_spec(
        json!({"/api/agents/actions/connect": {"post": after}}),
        json!({"ConnectRequest": {"type": "object", "required": []}}),
    );
    assert_eq!(
        report(&curated, &newer),
        "Removed from the API (0):\n\
         Changed (1):\n\
         \x20 ~ POST /api/agents/actions/connect (connect_agents)\n\
         \x20     parameter changed: query mode\n\
         \x20     request body schema changed\n\
         \x20     operationId would become connect_all_agents\n\
         New, or not selected in the curated spec (0):\n"
    );
}

#[test]
fn diff_sees_through_renamed_components() {
    let shape = json!({"type": "object", "properties": {"id": {"type": "string"}}});
    let curated = curated_spec(
        json!({"/api/agents": {"get": op("list_agents", &[], schema_ref("AgentListResponse"))}}),
        json!({"AgentListResponse": shape.clone()}),
    );
    let newer = curated_spec(
        json!({"/api/agents": {"get": op("list_agents", &[], schema_ref("AgentsResponse"))}}),
        json!({"AgentsResponse": shape}),
    );
    assert_eq!(
        report(&curated, &newer),
        "Removed from the API (0):\nChanged (0):\nNew, or not selected in the curated spec (0):\n"
    );
}

// ---------------------------------------------------------------- catalog

fn row(source: &str, category: &str, action: &str, implemented_by: &[&str]) -> CatalogRow {
    CatalogRow {
        source: source.into(),
        category: category.into(),
        action: action.into(),
        implemented_by: implemented_by.iter().map(|s| s.to_string()).collect(),
    }
}

#[test]
fn catalog_parses_rows_and_splits_implementations() {
    let text = "source\tcategory\taction\timplemented_by\n\
                rewst\tAgents\tList Agents\tlist_agents\n\
                \n\
                d3\t\tGet Threat Timeline\tget_threat_timeline  client.threats().timeline\n";
    assert_eq!(
        catalog::parse(text).expect("parses"),
        [
            row("rewst", "Agents", "List Agents", &["list_agents"]),
            row(
                "d3",
                "",
                "Get Threat Timeline",
                &["get_threat_timeline", "client.threats().timeline"]
            ),
        ]
    );
    assert_eq!(catalog::HEADER, "source\tcategory\taction\timplemented_by");
}

#[test]
fn catalog_rejects_a_bad_header() {
    let error = catalog::parse("source\tcategory\taction\n").expect_err("bad header");
    assert_eq!(
        error.to_string(),
        "catalog header must be \"source\\tcategory\\taction\\timplemented_by\", \
         found Some(\"source\\tcategory\\taction\")"
    );
    let error = catalog::parse("").expect_err("no header");
    assert_eq!(
        error.to_string(),
        "catalog header must be \"source\\tcategory\\taction\\timplemented_by\", found None"
    );
}

#[test]
fn catalog_rejects_wrong_column_counts_naming_the_line() {
    let three = "source\tcategory\taction\timplemented_by\n\
                 rewst\tAgents\tList Agents\tlist_agents\n\
                 rewst\tAgents\tGet Agent\n";
    assert_eq!(
        catalog::parse(three).expect_err("3 columns").to_string(),
        "catalog line 3: expected 4 columns, found 3"
    );
    let five = "source\tcategory\taction\timplemented_by\n\
                \n\
                rewst\tAgents\tList Agents\tlist_agents\textra\n";
    assert_eq!(
        catalog::parse(five).expect_err("5 columns").to_string(),
        "catalog line 3: expected 4 columns, found 5"
    );
}

#[test]
fn operation_ids_skip_facade_entries() {
    let rows = [
        row("rewst", "Agents", "List Agents", &["list_agents"]),
        row("rewst", "Agents", "Count", &["count_agents", "list_agents"]),
        row(
            "d3",
            "",
            "Timeline",
            &["client.threats().timeline", "get_threat_timeline"],
        ),
        row("d3", "", "Composite", &["client.agents().isolate"]),
    ];
    let ids: Vec<String> = catalog::operation_ids(&rows).into_iter().collect();
    assert_eq!(ids, ["count_agents", "get_threat_timeline", "list_agents"]);
}
