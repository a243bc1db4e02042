//! The 2026 endpoint index on small inputs: detecting and reading it,
//! pairing its operations with the curated spec's (`codegen diff`), reading
//! the reference pages and the parameters file, and what `codegen import`
//! does with it (the absent mark, `include_2026_index`).

use std::collections::BTreeSet;

use codegen::curation::Curation;
use codegen::import::{import, to_text};
use codegen::index2026::{
    self, ABSENT_EXTENSION, IndexEntry, IndexInput, IndexParam, ONLY_EXTENSION, ParamTable,
};
use serde_json::{Value, json};

const PREFIX: &str = "/web/api/v2.1";

fn entry(method: &str, path: &str, tag: &str) -> Value {
    json!({"method": method, "path": path, "tag": tag, "summary": "Vendor words",
        "operationId": format!("_{}_{}", path.replace('/', "_"), method.to_lowercase())})
}

fn entries(doc: Value) -> Vec<IndexEntry> {
    index2026::parse_index(&doc, "test-index.json").expect("the index parses")
}

fn parse_error(doc: Value) -> String {
    match index2026::parse_index(&doc, "test-index.json") {
        Ok(e) => panic!("should fail, read {e:?}"),
        Err(e) => format!("{e:#}"),
    }
}

// ------------------------------------------------------------ the index

#[test]
fn an_index_is_a_top_level_list_of_objects_with_method_and_path() {
    assert!(index2026::is_index(&json!([entry("GET", "/a", "A")])));
    assert!(!index2026::is_index(
        &json!({"swagger": "2.0", "paths": {}})
    ));
    assert!(!index2026::is_index(&json!([])));
    assert!(!index2026::is_index(&json!([{"method": "GET"}])));
    assert!(!index2026::is_index(&json!([entry("GET", "/a", "A"), 3])));
}

#[test]
fn parse_index_reads_method_path_tag_and_operation_id() {
    let read = entries(json!([entry("get", "/web/api/v2.1/agents", "Agents")]));
    assert_eq!(
        read,
        [IndexEntry {
            method: "GET".into(),
            path: "/web/api/v2.1/agents".into(),
            tag: "Agents".into(),
            operation_id: "__web_api_v2.1_agents_get".into(),
        }]
    );
}

#[test]
fn a_bad_index_is_an_error_naming_the_file_and_the_problem() {
    assert_eq!(
        parse_error(json!({"paths": {}})),
        "test-index.json: not an endpoint index (the top level is not a JSON array)"
    );
    assert_eq!(
        parse_error(json!([{"method": "GET", "tag": "A"}])),
        "test-index.json: entry 0 has no string `path`"
    );
    assert_eq!(
        parse_error(json!([entry("GET", "/a", "A"), entry("FETCH", "/b", "B")])),
        "test-index.json: entry 1 has method \"FETCH\", not one of [\"GET\", \"PUT\", \"POST\", \"DELETE\", \"PATCH\"]"
    );
    assert_eq!(
        parse_error(json!([entry("GET", "a", "A")])),
        "test-index.json: entry 0 has path \"a\", which does not start with /"
    );
    assert_eq!(
        parse_error(json!([entry("GET", "/a", "A"), entry("GET", "/a", "B")])),
        "test-index.json: GET /a is listed twice"
    );
    assert_eq!(
        parse_error(json!([])),
        "test-index.json: the endpoint index lists no operation"
    );
}

#[test]
fn load_index_names_a_missing_or_malformed_file() {
    let dir = std::env::temp_dir().join(format!("codegen-index-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let missing = dir.join("none.json");
    let e = format!(
        "{:#}",
        index2026::load_index(&missing).expect_err("missing")
    );
    assert!(
        e.starts_with(&format!("reading the endpoint index {}", missing.display())),
        "{e}"
    );
    let bad = dir.join("bad.json");
    std::fs::write(&bad, "[{\"method\": ").expect("write");
    let e = format!("{:#}", index2026::load_index(&bad).expect_err("bad"));
    assert!(
        e.starts_with(&format!("{} is not JSON", bad.display())),
        "{e}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

// ------------------------------------------------------------ pairing, diff

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect()
}

#[test]
fn shape_erases_path_parameter_names_only() {
    assert_eq!(
        index2026::shape("get", "/sdl/v2/api/queries/{query_id}"),
        "GET /sdl/v2/api/queries/{}"
    );
    assert_eq!(
        index2026::shape("GET", "/sdl/v2/api/queries/{id}"),
        index2026::shape("GET", "/sdl/v2/api/queries/{query_id}")
    );
    assert_ne!(
        index2026::shape("GET", "/a/{id}/b"),
        index2026::shape("GET", "/a/{id}/c")
    );
}

#[test]
fn pairing_tells_same_renamed_removed_and_added() {
    let old = pairs(&[
        ("GET", "/a"),
        ("GET", "/q/{query_id}"),
        ("DELETE", "/q/{query_id}"),
        ("GET", "/gone"),
        ("POST", "/a"),
    ]);
    let new = pairs(&[
        ("GET", "/a"),
        ("GET", "/q/{id}"),
        ("DELETE", "/q/{id}"),
        ("GET", "/fresh"),
        ("PUT", "/a"),
    ]);
    let p = index2026::pair(&old, &new);
    assert_eq!(p.same, ["GET /a"]);
    assert_eq!(
        p.renamed,
        [
            (
                "DELETE /q/{query_id}".to_string(),
                "DELETE /q/{id}".to_string()
            ),
            ("GET /q/{query_id}".to_string(), "GET /q/{id}".to_string()),
        ]
    );
    assert_eq!(p.removed, ["GET /gone", "POST /a"]);
    assert_eq!(p.added, ["GET /fresh", "PUT /a"]);
}

#[test]
fn an_ambiguous_shape_is_no_rename() {
    // Two old operations of one shape against one new: which one was
    // renamed cannot be told, so both count as removed.
    let old = pairs(&[("GET", "/x/{a}"), ("GET", "/x/{b}")]);
    let new = pairs(&[("GET", "/x/{c}")]);
    let p = index2026::pair(&old, &new);
    assert!(p.renamed.is_empty());
    assert_eq!(p.removed, ["GET /x/{a}", "GET /x/{b}"]);
    assert_eq!(p.added, ["GET /x/{c}"]);
}

fn curated_op(id: &str) -> Value {
    json!({"operationId": id, "summary": id, "tags": ["T"], "responses": {}})
}

#[test]
fn the_index_report_lists_and_counts_removed_renamed_and_new() {
    let curated = json!({"paths": {
        "/web/api/v2.1/agents": {"get": curated_op("list_agents")},
        "/web/api/v2.1/hashes/{hash}/reputation": {"get": curated_op("get_hash_reputation")},
        "/sdl/v2/api/queries/{query_id}": {"get": curated_op("get_lrq_query")},
    }});
    let index = entries(json!([
        entry("GET", "/web/api/v2.1/agents", "Agents"),
        entry("GET", "/sdl/v2/api/queries/{id}", "LRQ"),
        entry("GET", "/web/api/v2.1/xdr/assets", "XDR Assets"),
        entry("DELETE", "/web/api/v2.1/xdr/assets/notes", "XDR Assets"),
    ]));
    assert_eq!(
        index2026::report(&curated, &index),
        "Removed: in the curated spec, not in the index (1):\n\
         \x20 - GET /web/api/v2.1/hashes/{hash}/reputation (get_hash_reputation)\n\
         Renamed: path parameters renamed (1):\n\
         \x20 ~ GET /sdl/v2/api/queries/{query_id} (get_lrq_query) -> GET /sdl/v2/api/queries/{id}\n\
         New, or not selected in the curated spec (2):\n\
         \x20 + DELETE /web/api/v2.1/xdr/assets/notes [XDR Assets]\n\
         \x20 + GET /web/api/v2.1/xdr/assets [XDR Assets]\n\
         Counts: 3 curated, 4 in the index; 1 unchanged, 1 renamed, 1 removed, 2 new\n"
    );
}

// ------------------------------------------------------------ reference pages

const PAGE: &str = "# Things

2 endpoints.

## `GET /web/api/v2.1/things/{thing_id}`

**Get a thing**

Prose with a list:
- `notAParameter` [query, string]: prose before Parameters is not read.

Parameters:

- `thing_id` [path, string] **required**: The id. Example: \"1\".
- `ids` [query, array]: Ids, comma-joined.
- `sortOrder` [query, string] (enum: asc, desc): Order.
- `limit` [query, integer] **required**: Limit.
- `filter` [query, object]:
- `body` [body, things.schemas_ThingSchema] **required**:

Responses: 200 Success.

## `POST /web/api/v2.1/things/upload`

Parameters:

- `file` [formData, file] **required**: The file.

## Notes

- `hideQuery=Shown` [query, string]: a note, not a parameter.
";

#[test]
fn a_reference_page_gives_each_operation_its_parameters() {
    let table = index2026::parse_reference_page(PAGE, "Things.md").expect("parses");
    let p = |name: &str, place: &str, kind: &str, required: bool| IndexParam {
        name: name.into(),
        place: place.into(),
        kind: kind.into(),
        required,
    };
    let mut expected = ParamTable::new();
    expected.insert(
        "GET /web/api/v2.1/things/{thing_id}".into(),
        vec![
            p("thing_id", "path", "string", true),
            p("ids", "query", "array", false),
            p("sortOrder", "query", "string", false),
            p("limit", "query", "integer", true),
            p("filter", "query", "object", false),
            p("body", "body", "object", true),
        ],
    );
    expected.insert(
        "POST /web/api/v2.1/things/upload".into(),
        vec![p("file", "formData", "file", true)],
    );
    assert_eq!(table, expected);
}

#[test]
fn a_malformed_parameter_line_names_the_page_and_line() {
    let page = "## `GET /a`\n\nParameters:\n\n- `x` [cookie, string]: no\n";
    let e = format!(
        "{:#}",
        index2026::parse_reference_page(page, "A.md").expect_err("cookie")
    );
    assert_eq!(
        e,
        "A.md:5: parameter x is in \"cookie\", not one of [\"path\", \"query\", \"header\", \"body\", \"formData\"]"
    );
    let page = "## `GET /a`\n\nParameters:\n\n- `x` [query, uuid]: no\n";
    let e = format!(
        "{:#}",
        index2026::parse_reference_page(page, "A.md").expect_err("uuid")
    );
    assert!(
        e.starts_with("A.md:5: parameter x has type \"uuid\""),
        "{e}"
    );
    let page = "## `GET /a`\n\nParameters:\n\n- `x` query\n";
    let e = format!(
        "{:#}",
        index2026::parse_reference_page(page, "A.md").expect_err("no brackets")
    );
    assert_eq!(e, "A.md:5: parameter x has no [place, type]");
    let page = "## `GET /a`\n\n## `GET /a`\n";
    let e = format!(
        "{:#}",
        index2026::parse_reference_page(page, "A.md").expect_err("twice")
    );
    assert_eq!(e, "A.md:3: GET /a is described twice");
}

#[test]
fn the_parameters_file_round_trips_with_operations_without_parameters() {
    let mut table = ParamTable::new();
    table.insert("GET /a".into(), vec![]);
    table.insert(
        "POST /b/{id}".into(),
        vec![
            IndexParam {
                name: "id".into(),
                place: "path".into(),
                kind: "string".into(),
                required: true,
            },
            IndexParam {
                name: "body".into(),
                place: "body".into(),
                kind: "object".into(),
                required: false,
            },
        ],
    );
    let text = index2026::params_text(&table, &["from a test".into()]);
    assert_eq!(
        text,
        "method\tpath\tname\tplace\ttype\trequired\n\
         # from a test\n\
         GET\t/a\t\t-\t-\t-\n\
         POST\t/b/{id}\tid\tpath\tstring\ttrue\n\
         POST\t/b/{id}\tbody\tbody\tobject\tfalse\n"
    );
    assert_eq!(
        index2026::parse_params(&text, "p.tsv").expect("parses"),
        table
    );
}

#[test]
fn a_bad_parameters_file_names_the_file_and_line() {
    let header = index2026::PARAMS_HEADER;
    let err = |text: &str| {
        format!(
            "{:#}",
            index2026::parse_params(text, "p.tsv").expect_err(text)
        )
    };
    assert_eq!(
        err("method\tpath\n"),
        format!("p.tsv: the first line is not the header {header:?}")
    );
    assert_eq!(
        err(&format!("{header}\nGET\t/a\tx\n")),
        "p.tsv:2: 3 columns, 6 expected"
    );
    assert_eq!(
        err(&format!("{header}\nGET\t/a\tx\tquery\tstring\tyes\n")),
        "p.tsv:2: required is \"yes\", not true or false"
    );
    assert_eq!(
        err(&format!(
            "{header}\nGET\t/a\tx\tquery\tstring\ttrue\nGET\t/a\tx\tquery\tstring\ttrue\n"
        )),
        "p.tsv:3: query parameter x of GET /a is listed twice"
    );
}

// ------------------------------------------------------------ import

fn vendor() -> Value {
    let ok = json!({"200": {"description": "ok", "schema": {"type": "object"}}});
    json!({
        "swagger": "2.0",
        "info": {"title": "t", "version": "2.1"},
        "paths": {
            format!("{PREFIX}/agents"): {"get": {"tags": ["Agents"], "responses": ok}},
            format!("{PREFIX}/hashes/{{hash}}/reputation"): {"get": {
                "tags": ["Hashes"],
                "parameters": [{"name": "hash", "in": "path", "required": true, "type": "string"}],
                "responses": ok}},
            format!("{PREFIX}/apps/{{app_id}}/config"): {"get": {
                "tags": ["Apps"],
                "parameters": [{"name": "app_id", "in": "path", "required": true, "type": "string"}],
                "responses": ok}},
        },
        "definitions": {},
    })
}

fn index_entries() -> Vec<IndexEntry> {
    entries(json!([
        entry("GET", "/web/api/v2.1/agents", "Agents"),
        entry("GET", "/web/api/v2.1/apps/{appId}/config", "Apps"),
        entry("GET", "/web/api/v2.1/xdr/assets", "XDR Assets"),
        entry(
            "POST",
            "/web/api/v2.1/xdr/assets/{asset_id}/notes",
            "XDR Assets"
        ),
        entry("GET", "/web/api/v2.1/private/agents", "Agents"),
        entry("GET", "/sdl/v2/api/saved-searches", "SDL"),
    ]))
}

fn params_table() -> ParamTable {
    let text = "method\tpath\tname\tplace\ttype\trequired\n\
        GET\t/web/api/v2.1/xdr/assets\tids\tquery\tarray\tfalse\n\
        GET\t/web/api/v2.1/xdr/assets\tlimit\tquery\tinteger\tfalse\n\
        GET\t/web/api/v2.1/xdr/assets\tscope\tquery\tobject\ttrue\n\
        POST\t/web/api/v2.1/xdr/assets/{asset_id}/notes\tbody\tbody\tobject\ttrue\n\
        POST\t/web/api/v2.1/xdr/assets/{asset_id}/notes\tasset_id\tpath\tstring\ttrue\n\
        GET\t/web/api/v2.1/private/agents\t\t-\t-\t-\n\
        GET\t/sdl/v2/api/saved-searches\t\t-\t-\t-\n";
    index2026::parse_params(text, "p.tsv").expect("parses")
}

fn curation(switch: bool, params: Option<ParamTable>) -> Curation {
    let mut c = Curation::parse(&format!(
        "path_prefix = \"{PREFIX}\"\nindex_2026 = \"index.json\"\ninclude_2026_index = {switch}\n"
    ))
    .expect("curation parses");
    c.index = Some(IndexInput {
        entries: index_entries(),
        params,
    });
    c
}

fn import_all(c: &Curation) -> Value {
    import(&vendor(), c, &BTreeSet::new(), true).expect("import succeeds")
}

#[test]
fn import_marks_the_operations_the_index_does_not_list() {
    let spec = import_all(&curation(false, None));
    let paths = &spec["paths"];
    assert_eq!(
        paths[format!("{PREFIX}/hashes/{{hash}}/reputation")]["get"][ABSENT_EXTENSION],
        true
    );
    // Listed, or listed with its path parameter renamed: no mark.
    assert!(
        paths[format!("{PREFIX}/agents")]["get"]
            .get(ABSENT_EXTENSION)
            .is_none()
    );
    assert!(
        paths[format!("{PREFIX}/apps/{{app_id}}/config")]["get"]
            .get(ABSENT_EXTENSION)
            .is_none()
    );
    // Switch off: nothing of the index's own is added.
    assert_eq!(paths.as_object().expect("paths").len(), 3);
}

#[test]
fn without_an_index_import_marks_nothing() {
    let mut c = curation(false, None);
    c.index = None;
    c.index_2026 = None;
    let text = to_text(&import_all(&c));
    assert!(!text.contains(ABSENT_EXTENSION));
}

#[test]
fn the_switch_adds_the_index_only_operations_with_their_parameters() {
    let off = import_all(&curation(false, None));
    let on = import_all(&curation(true, Some(params_table())));
    let count = |spec: &Value| index2026::spec_operations(spec).len();
    assert_eq!(count(&on), count(&off) + 4);
    let assets = &on["paths"][format!("{PREFIX}/xdr/assets")]["get"];
    assert_eq!(
        assets,
        &json!({
            "operationId": "list_xdr_assets",
            "summary": "List xdr assets",
            "tags": ["XDR Assets"],
            "parameters": [
                {"name": "ids", "in": "query", "required": false,
                    "schema": {"$ref": "#/components/schemas/CsvList"}},
                {"name": "limit", "in": "query", "required": false, "schema": {"type": "integer"}},
                {"name": "scope", "in": "query", "required": true, "schema": {"type": "string"}},
            ],
            "responses": {
                "200": {"description": "Success", "content": {"application/json": {"schema": {}}}},
                "4XX": {"description": "Error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ApiError"}}}},
                "5XX": {"description": "Error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ApiError"}}}},
            },
            ONLY_EXTENSION: true,
        })
    );
    let notes = &on["paths"][format!("{PREFIX}/xdr/assets/{{asset_id}}/notes")]["post"];
    assert_eq!(notes["operationId"], "create_xdr_asset_note");
    assert_eq!(notes["parameters"][0]["name"], "asset_id");
    assert_eq!(notes["requestBody"]["required"], true);
    // `/private/agents` is named like `/agents`: the index-only one takes
    // the disambiguator, the vendor's keeps its name.
    assert_eq!(
        on["paths"][format!("{PREFIX}/private/agents")]["get"]["operationId"],
        "list_agents_private"
    );
    assert_eq!(
        on["paths"][format!("{PREFIX}/agents")]["get"]["operationId"],
        "list_agents"
    );
    // At the console root: bearer authentication, the scheme declared.
    let saved = &on["paths"]["/sdl/v2/api/saved-searches"]["get"];
    assert_eq!(saved["security"], json!([{"SdlBearer": []}]));
    assert_eq!(
        on["components"]["securitySchemes"]["SdlBearer"]["scheme"],
        "bearer"
    );
    // The renamed operation is the vendor's, not added again.
    assert!(
        on["paths"]
            .get(format!("{PREFIX}/apps/{{appId}}/config"))
            .is_none()
    );
    // Deterministic.
    assert_eq!(
        to_text(&on),
        to_text(&import_all(&curation(true, Some(params_table()))))
    );
}

#[test]
fn the_switch_without_a_parameters_row_names_the_operation() {
    let mut params = params_table();
    params.remove("GET /web/api/v2.1/xdr/assets");
    let e = format!(
        "{:#}",
        import(
            &vendor(),
            &curation(true, Some(params)),
            &BTreeSet::new(),
            true
        )
        .expect_err("a row is missing")
    );
    assert_eq!(
        e,
        "spec/index-2026-params.tsv has no row for GET /web/api/v2.1/xdr/assets; refresh it with `codegen index-params`"
    );
}

#[test]
fn the_switch_without_an_index_is_an_error() {
    let mut c = curation(true, None);
    c.index = None;
    let e = format!(
        "{:#}",
        import(&vendor(), &c, &BTreeSet::new(), true).expect_err("no index")
    );
    assert_eq!(
        e,
        "curation include_2026_index = true needs index_2026, the endpoint index to read"
    );
}

#[test]
fn the_curation_names_an_index_only_operation() {
    let mut c = curation(true, Some(params_table()));
    c.operation_ids
        .insert("GET /xdr/assets".into(), "list_assets".into());
    let spec = import_all(&c);
    assert_eq!(
        spec["paths"][format!("{PREFIX}/xdr/assets")]["get"]["operationId"],
        "list_assets"
    );
}
