//! Every curation rule of `codegen import`, each on a small inline Swagger 2.0
//! document (never the big vendor file), asserting the exact JSON it makes.

use std::collections::BTreeSet;

use codegen::curation::Curation;
use codegen::import::{import, to_text};
use serde_json::{Map, Value, json};

const PREFIX: &str = "/web/api/v2.1";

// ---------------------------------------------------------------- helpers

/// A Swagger 2.0 document with `paths` (relative to [`PREFIX`]) and `definitions`.
fn vendor_with(paths: Value, definitions: Value) -> Value {
    let paths: Map<String, Value> = paths
        .as_object()
        .expect("paths is an object")
        .iter()
        .map(|(path, item)| (format!("{PREFIX}{path}"), item.clone()))
        .collect();
    json!({
        "swagger": "2.0",
        "info": {"title": "Vendor title", "description": "Vendor prose about the whole API", "version": "2.1"},
        "paths": paths,
        "definitions": definitions,
    })
}

fn vendor(paths: Value) -> Value {
    vendor_with(paths, json!({}))
}

/// A curation file: the path prefix, then `rest` (top-level keys before tables).
fn curation(rest: &str) -> Curation {
    Curation::parse(&format!("path_prefix = \"{PREFIX}\"\n{rest}")).expect("curation parses")
}

/// Imports with every operation selected.
fn import_all(vendor: &Value, curation: &Curation) -> Value {
    import(vendor, curation, &BTreeSet::new(), true).expect("import succeeds")
}

/// Imports only `wanted` (and what the curation's `include_all` adds).
fn import_wanted(vendor: &Value, curation: &Curation, wanted: &[&str]) -> Value {
    let wanted: BTreeSet<String> = wanted.iter().map(|w| w.to_string()).collect();
    import(vendor, curation, &wanted, false).expect("import succeeds")
}

/// The error text (with its context chain) of an import expected to fail.
fn import_error(vendor: &Value, curation: &Curation, wanted: &[&str], all: bool) -> String {
    let wanted: BTreeSet<String> = wanted.iter().map(|w| w.to_string()).collect();
    match import(vendor, curation, &wanted, all) {
        Ok(spec) => panic!("import should fail, made:\n{}", to_text(&spec)),
        Err(e) => format!("{e:#}"),
    }
}

/// The imported operation at `method` on `path` (relative to [`PREFIX`]).
fn op<'a>(spec: &'a Value, method: &str, path: &str) -> &'a Value {
    let found = &spec["paths"][format!("{PREFIX}{path}")][method];
    assert!(
        found.is_object(),
        "no {method} {path} in\n{}",
        to_text(&spec["paths"])
    );
    found
}

/// `"METHOD /relative/path operationId"` for every imported operation, in document order.
fn operations(spec: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for (path, item) in spec["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            out.push(format!(
                "{} {} {}",
                method.to_uppercase(),
                path.strip_prefix(PREFIX).expect("prefixed"),
                op["operationId"].as_str().expect("operationId")
            ));
        }
    }
    out
}

fn schema(spec: &Value, name: &str) -> Value {
    let found = spec["components"]["schemas"][name].clone();
    assert!(
        found.is_object(),
        "no component {name} in {:?}",
        schema_names(spec)
    );
    found
}

fn schema_names(spec: &Value) -> Vec<String> {
    spec["components"]["schemas"]
        .as_object()
        .expect("components.schemas")
        .keys()
        .cloned()
        .collect()
}

/// A vendor operation answering 200 with `schema`.
fn returns(schema: Value) -> Value {
    json!({"tags": ["Agents"], "responses": {"200": {"description": "Success", "schema": schema}}})
}

/// A vendor operation answering 200 with free-form JSON.
fn plain() -> Value {
    returns(json!({"type": "object"}))
}

fn component_ref(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

/// The 4XX and 5XX responses every imported operation carries.
fn error_responses() -> Value {
    let error = json!({"description": "Error", "content": {"application/json": {"schema": component_ref("ApiError")}}});
    json!({"4XX": error.clone(), "5XX": error})
}

/// `responses` of an operation: `success` under `code`, then the error ranges.
fn responses_with(code: &str, success: Value) -> Value {
    let mut out = Map::new();
    out.insert(code.into(), success);
    out.extend(error_responses().as_object().expect("object").clone());
    Value::Object(out)
}

fn json_success(schema: Value) -> Value {
    json!({"description": "Success", "content": {"application/json": {"schema": schema}}})
}

// ---------------------------------------------------------------- prose and names

#[test]
fn vendor_prose_is_dropped_and_the_summary_is_the_humanized_operation_id() {
    let vendor = vendor_with(
        json!({
            "/agents": {"get": {
                "tags": ["Agents"],
                "summary": "VENDOR-SUMMARY Get Agents",
                "description": "VENDOR-DESCRIPTION This command gives the Agent ID",
                "operationId": "_web_api_agents_get",
                "produces": ["application/json"],
                "parameters": [
                    {"in": "query", "name": "limit", "type": "integer", "format": "int32", "required": false,
                     "description": "VENDOR-PARAM limit prose", "minimum": 1, "maximum": 1000, "example": 10},
                    {"in": "query", "name": "computerName__like", "type": "string",
                     "description": "VENDOR-PARAM name prose. Example: \"Lab1\".", "pattern": "^.*$", "x-example": "VENDOR-EXAMPLE"}
                ],
                "responses": {
                    "200": {"description": "VENDOR-RESPONSE Success", "schema": {"$ref": "#/definitions/agents.schemas_AgentViewSchema_many_200"}},
                    "400": {"description": "VENDOR-RESPONSE Invalid user input received", "schema": {"$ref": "#/definitions/_NoDataSchema_400"}}
                }
            }}
        }),
        json!({
            "agents.schemas_AgentViewSchema_many_200": {
                "type": "object",
                "title": "VENDOR-TITLE",
                "description": "VENDOR-DEFINITION prose",
                "example": {"data": ["VENDOR-EXAMPLE-VALUE"]},
                "properties": {
                    "computerName": {"type": "string", "description": "VENDOR-PROPERTY prose", "example": "VENDOR-PROPERTY-EXAMPLE", "maxLength": 64}
                }
            },
            "_NoDataSchema_400": {"type": "object", "description": "VENDOR-ERROR-DEFINITION prose", "properties": {}}
        }),
    );
    let spec = import_all(&vendor, &curation(""));
    let text = to_text(&spec);
    assert!(!text.contains("VENDOR"), "vendor prose leaked:\n{text}");
    assert!(!text.contains("Vendor"), "vendor info leaked:\n{text}");
    assert!(!text.contains("Get Agents"), "{text}");
    assert!(!text.contains("example"), "{text}");
    assert!(!text.contains("title\": \"VENDOR"), "{text}");

    assert_eq!(
        op(&spec, "get", "/agents"),
        &json!({
            "operationId": "list_agents",
            "summary": "List agents",
            "tags": ["Agents"],
            "parameters": [
                {"name": "computerName__like", "in": "query", "required": false, "schema": {"type": "string"},
                 "x-constraints": {"pattern": "^.*$"}},
                {"name": "limit", "in": "query", "required": false, "schema": {"type": "integer", "format": "int32"},
                 "x-constraints": {"minimum": 1, "maximum": 1000}}
            ],
            "responses": responses_with("200", json_success(component_ref("AgentViewListResponse")))
        })
    );
    assert_eq!(
        schema(&spec, "AgentViewListResponse"),
        json!({"type": "object", "properties": {"computerName": {"type": "string", "nullable": true}}})
    );
    // The vendor's error definitions are not carried over: ApiError replaces them.
    assert_eq!(
        schema_names(&spec),
        ["AgentViewListResponse", "ApiError", "CsvList"]
    );
    // The document's own prose is ours.
    assert_eq!(
        spec["info"],
        json!({
            "title": "SentinelOne Management API v2.1 (curated)",
            "description": "Curated by `codegen import` from SentinelOne's own API description. Regenerate, do not edit by hand.",
            "version": "2.1"
        })
    );
    assert_eq!(spec["openapi"], "3.0.3");
}

#[test]
fn operation_ids_are_derived_from_method_and_path() {
    let vendor = vendor(json!({
        "/agents": {"get": plain()},
        "/dv/init-query": {"post": plain()},
        "/groups/{group_id}": {"get": plain(), "put": plain(), "delete": plain()},
        "/groups": {"post": plain()},
        "/agents/actions/connect": {"post": plain()},
        "/agents/actions/fetch-logs": {"post": plain()},
        "/threats/{threat_id}/notes": {"get": plain()},
        "/private/threats/summary": {"get": plain()}
    }));
    let spec = import_all(&vendor, &curation(""));
    assert_eq!(
        operations(&spec),
        [
            "GET /agents list_agents",
            "POST /agents/actions/connect connect_agents",
            "POST /agents/actions/fetch-logs fetch_agent_logs",
            "POST /dv/init-query init_dv_query",
            "POST /groups create_group",
            "GET /groups/{group_id} get_group",
            "PUT /groups/{group_id} update_group",
            "DELETE /groups/{group_id} delete_group",
            "GET /private/threats/summary get_threats_summary",
            "GET /threats/{threat_id}/notes list_threat_notes",
        ]
    );
    assert_eq!(
        op(&spec, "post", "/dv/init-query")["summary"],
        "Init dv query"
    );
}

#[test]
fn operation_ids_are_overridden_by_the_curation() {
    let vendor = vendor(json!({
        "/agents": {"get": plain()},
        "/users/login": {"post": plain()}
    }));
    let spec = import_all(
        &vendor,
        &curation(
            r#"
[operation_ids]
"POST /users/login" = "login"
"#,
        ),
    );
    assert_eq!(
        operations(&spec),
        ["GET /agents list_agents", "POST /users/login login"]
    );
    assert_eq!(op(&spec, "post", "/users/login")["summary"], "Login");
}

#[test]
fn colliding_derived_names_are_told_apart_by_their_path_parameters() {
    // Both derive `list_policy_rules`; only one has a path parameter.
    let vendor = vendor(json!({
        "/policy/rules": {"get": plain()},
        "/policy/{scope_id}/rules": {"get": plain()},
        "/private/settings": {"get": plain()},
        "/settings": {"get": plain()}
    }));
    let spec = import_all(&vendor, &curation(""));
    assert_eq!(
        operations(&spec),
        [
            "GET /policy/rules list_policy_rules",
            "GET /policy/{scope_id}/rules list_policy_rules_by_scope",
            "GET /private/settings list_settings_private",
            "GET /settings list_settings",
        ]
    );
}

#[test]
fn names_do_not_depend_on_the_selection() {
    let vendor = vendor(json!({
        "/policy/rules": {"get": plain()},
        "/policy/{scope_id}/rules": {"get": plain()}
    }));
    let spec = import_wanted(&vendor, &curation(""), &["list_policy_rules_by_scope"]);
    assert_eq!(
        operations(&spec),
        ["GET /policy/{scope_id}/rules list_policy_rules_by_scope"]
    );
}

#[test]
fn names_still_colliding_after_disambiguation_are_an_error_naming_both() {
    let vendor = vendor(json!({
        "/policy/{scope}/rules": {"get": plain()},
        "/{scope}/policy/rules": {"get": plain()}
    }));
    assert_eq!(
        import_error(&vendor, &curation(""), &[], true),
        "operationId list_policy_rules_by_scope names both GET /policy/{scope}/rules and \
         GET /{scope}/policy/rules; give one of them a name in curation [operation_ids]"
    );
}

#[test]
fn an_override_colliding_with_a_derived_name_is_an_error_naming_both() {
    let vendor = vendor(json!({
        "/agents": {"get": plain()},
        "/agents/all": {"get": plain()}
    }));
    let curation = curation(
        r#"
[operation_ids]
"GET /agents/all" = "list_agents"
"#,
    );
    assert_eq!(
        import_error(&vendor, &curation, &[], true),
        "operationId list_agents names both GET /agents and GET /agents/all; \
         give one of them a name in curation [operation_ids]"
    );
}

#[test]
fn stale_operation_id_keys_are_an_error() {
    let vendor = vendor(json!({"/agents": {"get": plain()}}));
    let curation = curation(
        r#"
[operation_ids]
"GET /agents/gone" = "list_gone_agents"
"#,
    );
    assert_eq!(
        import_error(&vendor, &curation, &[], true),
        "curation names operation \"GET /agents/gone\", which the vendor file lacks"
    );
}

// ---------------------------------------------------------------- tags

#[test]
fn every_operation_has_exactly_one_tag_mapped_through_the_curation() {
    let vendor = vendor(json!({
        "/alerts": {"get": {"tags": ["alerts", "Threats"], "responses": {}}},
        "/agents": {"get": {"tags": ["Agents"], "responses": {}}},
        "/misc": {"get": {"responses": {}}}
    }));
    let spec = import_all(
        &vendor,
        &curation(
            r#"
[tags]
"alerts" = "Alerts"
"#,
        ),
    );
    assert_eq!(op(&spec, "get", "/alerts")["tags"], json!(["Alerts"]));
    assert_eq!(op(&spec, "get", "/agents")["tags"], json!(["Agents"]));
    assert_eq!(op(&spec, "get", "/misc")["tags"], json!(["Misc"]));
}

// ---------------------------------------------------------------- parameters

#[test]
fn csv_array_query_parameters_refer_to_csv_list() {
    let vendor = vendor(json!({"/agents": {"get": {
        "tags": ["Agents"],
        "parameters": [
            {"in": "query", "name": "ids", "type": "array", "collectionFormat": "csv", "maxItems": 5000,
             "items": {"type": "string", "enum": ["N/A", "Pending"]}},
            {"in": "query", "name": "siteIds", "type": "array", "items": {"type": "string"}},
            {"in": "query", "name": "tags", "type": "array", "collectionFormat": "multi", "items": {"type": "integer", "format": "int32"}}
        ],
        "responses": {}
    }}}));
    let spec = import_all(&vendor, &curation(""));
    assert_eq!(
        op(&spec, "get", "/agents")["parameters"],
        json!([
            {"name": "ids", "in": "query", "required": false, "schema": component_ref("CsvList"),
             "x-constraints": {"maxItems": 5000}},
            {"name": "siteIds", "in": "query", "required": false, "schema": component_ref("CsvList")},
            {"name": "tags", "in": "query", "required": false,
             "schema": {"type": "array", "items": {"type": "integer", "format": "int32"}}}
        ])
    );
    assert_eq!(
        schema(&spec, "CsvList"),
        json!({"type": "array", "items": {"type": "string"}})
    );
}

#[test]
fn parameters_come_in_path_template_order_then_by_place_and_name() {
    let vendor = vendor(json!({"/sites/{site_id}/groups/{group_id}": {"get": {
        "tags": ["Groups"],
        "parameters": [
            {"in": "query", "name": "zeta", "type": "string", "required": true},
            {"in": "path", "name": "group_id", "type": "string", "required": true},
            {"in": "query", "name": "alpha", "type": "boolean"},
            {"in": "header", "name": "X-Trace", "type": "string"}
        ],
        "responses": {}
    }}}));
    let spec = import_all(&vendor, &curation(""));
    // site_id is not declared by the vendor: it becomes a string path parameter.
    assert_eq!(
        op(&spec, "get", "/sites/{site_id}/groups/{group_id}")["parameters"],
        json!([
            {"name": "site_id", "in": "path", "required": true, "schema": {"type": "string"}},
            {"name": "group_id", "in": "path", "required": true, "schema": {"type": "string"}},
            {"name": "X-Trace", "in": "header", "required": false, "schema": {"type": "string"}},
            {"name": "alpha", "in": "query", "required": false, "schema": {"type": "boolean"}},
            {"name": "zeta", "in": "query", "required": true, "schema": {"type": "string"}}
        ])
    );
}

#[test]
fn a_path_parameter_missing_from_the_template_is_an_error() {
    let vendor = vendor(json!({"/agents": {"get": {
        "parameters": [{"in": "path", "name": "agent_id", "type": "string", "required": true}],
        "responses": {}
    }}}));
    assert_eq!(
        import_error(&vendor, &curation(""), &[], true),
        "operation list_agents (GET /agents): path parameter \"agent_id\" is not in the path template"
    );
}

#[test]
fn query_parameter_enums_keep_their_values_without_null() {
    let vendor = vendor(json!({"/agents": {"get": {
        "parameters": [
            {"in": "query", "name": "mode", "type": "string", "enum": ["detect", "protect", null]},
            {"in": "query", "name": "since", "type": "string", "format": "date-time"},
            {"in": "query", "name": "id", "type": "string", "format": "uuid"}
        ],
        "responses": {}
    }}}));
    let spec = import_all(&vendor, &curation(""));
    assert_eq!(
        op(&spec, "get", "/agents")["parameters"],
        json!([
            {"name": "id", "in": "query", "required": false, "schema": {"type": "string"}},
            {"name": "mode", "in": "query", "required": false, "schema": {"type": "string", "enum": ["detect", "protect"]}},
            {"name": "since", "in": "query", "required": false, "schema": {"type": "string", "format": "date-time"}}
        ])
    );
}

#[test]
fn drop_parameters_removes_a_parameter() {
    let vendor = vendor(json!({"/ranger/gateways": {"get": {
        "parameters": [
            {"in": "query", "name": "new", "type": "boolean"},
            {"in": "query", "name": "limit", "type": "integer"}
        ],
        "responses": {}
    }}}));
    let curation = curation(
        r#"
[drop_parameters]
"list_ranger_gateways" = ["new"]
"#,
    );
    let spec = import_all(&vendor, &curation);
    assert_eq!(
        op(&spec, "get", "/ranger/gateways")["parameters"],
        json!([{"name": "limit", "in": "query", "required": false, "schema": {"type": "integer"}}])
    );
}

#[test]
fn colon_path_syntax_becomes_a_path_template_and_the_query_parameter_moves_to_the_path() {
    let vendor = vendor_with(
        json!({"/upgrade-policy/policy/:policyid": {"put": {
            "tags": ["Upgrade Policy"],
            "parameters": [
                {"in": "body", "name": "payload", "required": true, "schema": {"$ref": "#/definitions/PolicyUpdateSchema"}},
                {"in": "query", "name": "policyid", "type": "string", "required": false}
            ],
            "responses": {"200": {"description": "ok"}}
        }}}),
        json!({"PolicyUpdateSchema": {"type": "object", "properties": {"name": {"type": "string"}}}}),
    );
    // The curation already names it by its fixed path.
    let curation = curation(
        r#"
[operation_ids]
"PUT /upgrade-policy/policy/{policyid}" = "update_upgrade_policy"
"#,
    );
    let spec = import_all(&vendor, &curation);
    assert_eq!(
        operations(&spec),
        ["PUT /upgrade-policy/policy/{policyid} update_upgrade_policy"]
    );
    let update = op(&spec, "put", "/upgrade-policy/policy/{policyid}");
    assert_eq!(
        update["parameters"],
        json!([{"name": "policyid", "in": "path", "required": true, "schema": {"type": "string"}}])
    );
    assert_eq!(
        update["requestBody"],
        json!({"required": true, "content": {"application/json": {"schema": component_ref("PolicyUpdateRequest")}}})
    );
}

// ---------------------------------------------------------------- responses

#[test]
fn only_the_first_success_response_is_kept() {
    let vendor = vendor(json!({
        "/groups": {"post": {"responses": {
            "201": {"description": "Created", "schema": {"type": "object", "properties": {"b": {"type": "string"}}}},
            "200": {"description": "OK", "schema": {"type": "object", "properties": {"a": {"type": "string"}}}},
            "202": {"description": "Accepted", "schema": {"type": "string"}}
        }}},
        "/jobs": {"post": {"responses": {
            "202": {"description": "Accepted", "schema": {"type": "object", "properties": {"c": {"type": "integer"}}}}
        }}}
    }));
    let spec = import_all(&vendor, &curation(""));
    assert_eq!(
        op(&spec, "post", "/groups")["responses"],
        responses_with(
            "200",
            json_success(
                json!({"type": "object", "properties": {"a": {"type": "string", "nullable": true}}})
            )
        )
    );
    assert_eq!(
        op(&spec, "post", "/jobs")["responses"],
        responses_with(
            "202",
            json_success(
                json!({"type": "object", "properties": {"c": {"type": "integer", "nullable": true}}})
            )
        )
    );
}

#[test]
fn response_overrides_replace_the_declared_success_response() {
    let vendor = vendor_with(
        json!({
            "/groups/{group_id}/move-agents": {"put": {"tags": ["Groups"], "responses": {
                "204": {"description": "Success", "schema": {"$ref": "#/definitions/groups_AddAgentsDataSchema_204"}}
            }}},
            "/remote-scripts/fetch-files": {"post": {"tags": ["Scripts"], "responses": {
                "200": {"description": "Success", "schema": {"type": "object", "properties": {"data": {"type": "object"}}}}
            }}}
        }),
        json!({"groups_AddAgentsDataSchema_204": {"type": "object", "properties": {
            "data": {"type": "object", "properties": {"agentsMoved": {"type": "integer", "format": "int32"}}}
        }}}),
    );
    let curation = curation(
        r##"
[operation_ids]
"POST /remote-scripts/fetch-files" = "get_remote_script_result_links"

[[response_overrides]]
operation_id = "move_group_agents"
status = "200"
schema = '{ "$ref": "#/definitions/groups_AddAgentsDataSchema_204" }'

[[response_overrides]]
operation_id = "get_remote_script_result_links"
status = "200"
schema = '{ "type": "object", "properties": { "download_links": { "type": "array", "items": { "type": "string" } } } }'
"##,
    );
    let spec = import_all(&vendor, &curation);
    // The 204 becomes a 200 with the vendor's own (otherwise dropped) body.
    assert_eq!(
        op(&spec, "put", "/groups/{group_id}/move-agents")["responses"],
        responses_with("200", json_success(component_ref("AddAgentsDataResponse")))
    );
    assert_eq!(
        schema(&spec, "AddAgentsDataResponse"),
        json!({"type": "object", "properties": {"data": {"type": "object", "properties": {
            "agentsMoved": {"type": "integer", "format": "int64", "nullable": true}
        }, "nullable": true}}})
    );
    // An inline schema is converted like any vendor response schema.
    assert_eq!(
        op(&spec, "post", "/remote-scripts/fetch-files")["responses"],
        responses_with(
            "200",
            json_success(json!({"type": "object", "properties": {"download_links": {
                "type": "array", "items": {"type": "string"}, "nullable": true
            }}}))
        )
    );
}

#[test]
fn response_overrides_are_checked() {
    let vendor = vendor(json!({"/groups": {"get": plain()}}));
    let cases = [
        (
            r#"operation_id = "list_sites"
status = "200"
schema = "{}""#,
            "names operation list_sites, which the vendor file lacks",
        ),
        (
            r#"operation_id = "list_groups"
status = "204"
schema = "{}""#,
            "status 204 is not one of 200, 201, 202",
        ),
        (
            r#"operation_id = "list_groups"
status = "200"
schema = "{ not json""#,
            "schema is not JSON",
        ),
    ];
    for (entry, expected) in cases {
        let curation = curation(&format!("[[response_overrides]]\n{entry}\n"));
        let error = import_error(&vendor, &curation, &[], true);
        assert!(error.contains(expected), "{error}");
    }
}

#[test]
fn every_error_status_becomes_4xx_and_5xx_with_api_error() {
    let vendor = vendor(json!({"/agents": {"get": {"responses": {
        "200": {"description": "Success", "schema": {"type": "object"}},
        "400": {"description": "Bad", "schema": {"type": "object", "properties": {"x": {"type": "string"}}}},
        "401": {"description": "Unauthorized"},
        "404": {"description": "Gone", "schema": {"type": "string"}},
        "500": {"description": "Oops"},
        "default": {"description": "Anything", "schema": {"type": "integer"}}
    }}}}));
    let spec = import_all(&vendor, &curation(""));
    let responses = &op(&spec, "get", "/agents")["responses"];
    assert_eq!(
        responses,
        &responses_with("200", json_success(json!({"type": "object"})))
    );
    let codes: Vec<&String> = responses.as_object().expect("object").keys().collect();
    assert_eq!(codes, ["200", "4XX", "5XX"]);
    assert_eq!(
        schema(&spec, "ApiError"),
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
        })
    );
}

#[test]
fn a_schemaless_success_on_a_binary_path_is_a_byte_stream_of_the_first_matching_type() {
    let vendor = vendor(json!({
        "/agents/{agent_id}/uploads/{activity_id}": {"get": {"responses": {"200": {"description": "File"}}}},
        "/agents/export/csv": {"get": {"responses": {"200": {"description": "CSV"}}}}
    }));
    let curation = curation(
        r#"
[operation_ids]
"GET /agents/{agent_id}/uploads/{activity_id}" = "download_agent_upload"

[[binary_responses]]
path_contains = "/uploads/{activity_id}"
content_type = "application/zip"

[[binary_responses]]
path_contains = "csv"
content_type = "text/csv"

[[binary_responses]]
path_contains = "export"
content_type = "application/octet-stream"
"#,
    );
    let spec = import_all(&vendor, &curation);
    let binary = |ct: &str| json!({"description": "Success", "content": {ct: {"schema": {"type": "string", "format": "binary"}}}});
    assert_eq!(
        op(&spec, "get", "/agents/{agent_id}/uploads/{activity_id}")["responses"],
        responses_with("200", binary("application/zip"))
    );
    assert_eq!(
        op(&spec, "get", "/agents/export/csv")["responses"],
        responses_with("200", binary("text/csv"))
    );
}

#[test]
fn a_success_with_a_schema_stays_json_on_a_binary_path() {
    let vendor = vendor(json!({"/agents/export/json": {"get": {"responses": {
        "200": {"description": "ok", "schema": {"type": "object"}}
    }}}}));
    let curation = curation(
        r#"
[[binary_responses]]
path_contains = "export"
content_type = "text/csv"
"#,
    );
    let spec = import_all(&vendor, &curation);
    assert_eq!(
        op(&spec, "get", "/agents/export/json")["responses"],
        responses_with("200", json_success(json!({"type": "object"})))
    );
}

#[test]
fn a_204_has_no_content_even_with_a_declared_schema() {
    let vendor = vendor(json!({"/groups/move": {"put": {"responses": {
        "204": {"description": "Moved", "schema": {"type": "object", "properties": {"x": {"type": "string"}}}}
    }}}}));
    let spec = import_all(&vendor, &curation(""));
    assert_eq!(
        op(&spec, "put", "/groups/move")["responses"],
        responses_with("204", json!({"description": "Success"}))
    );
}

#[test]
fn a_schemaless_204_has_no_content() {
    let vendor = vendor(json!({"/groups/{group_id}": {"delete": {"responses": {
        "204": {"description": "Deleted"},
        "404": {"description": "Missing"}
    }}}}));
    let spec = import_all(&vendor, &curation(""));
    assert_eq!(
        op(&spec, "delete", "/groups/{group_id}")["responses"],
        responses_with("204", json!({"description": "Success"}))
    );
}

#[test]
fn a_schemaless_200_off_binary_paths_is_free_form_json() {
    let vendor =
        vendor(json!({"/agents/count": {"get": {"responses": {"200": {"description": "ok"}}}}}));
    let spec = import_all(&vendor, &curation(""));
    assert_eq!(
        op(&spec, "get", "/agents/count")["responses"],
        responses_with("200", json_success(json!({})))
    );
}

#[test]
fn an_operation_without_any_success_response_gets_a_free_form_json_200() {
    let vendor = vendor(json!({"/agents/actions/connect": {"post": {"responses": {
        "400": {"description": "Bad", "schema": {"type": "object"}}
    }}}}));
    let spec = import_all(&vendor, &curation(""));
    assert_eq!(
        op(&spec, "post", "/agents/actions/connect")["responses"],
        responses_with("200", json_success(json!({})))
    );
}

// ---------------------------------------------------------------- schemas

#[test]
fn response_schemas_are_loose_enum_free_nullable_and_wide() {
    let vendor = vendor_with(
        json!({"/agents": {"get": returns(json!({"$ref": "#/definitions/agents.schemas_AgentViewSchema_many_200"}))}}),
        json!({
            "agents.schemas_AgentViewSchema_many_200": {
                "type": "object",
                "required": ["data"],
                "additionalProperties": false,
                "properties": {
                    "data": {"type": "array", "items": {"$ref": "#/definitions/agents.schemas_AgentSchema"}},
                    "total": {"type": "integer", "format": "int32"}
                }
            },
            "agents.schemas_AgentSchema": {
                "type": "object",
                "required": ["id", "status"],
                "additionalProperties": false,
                "properties": {
                    "id": {"type": "string", "format": "uuid", "minLength": 1},
                    "status": {"type": "string", "enum": ["online", "offline"]},
                    "createdAt": {"type": "string", "format": "date-time"},
                    "birthday": {"type": "string", "format": "date"},
                    "cores": {"type": "integer", "format": "int32", "minimum": 1},
                    "memory": {"type": "integer", "format": "int64"},
                    "score": {"type": "number", "format": "float"},
                    "tags": {"type": "array", "items": {"type": "string", "enum": ["a", "b"]}},
                    "labels": {"type": "object", "additionalProperties": {"type": "integer", "format": "int32"}},
                    "os": {"type": "object", "required": ["name"], "additionalProperties": false, "properties": {"name": {"type": "string"}}},
                    "parent": {"$ref": "#/definitions/agents.schemas_AgentSchema"}
                }
            }
        }),
    );
    let spec = import_all(&vendor, &curation(""));
    assert_eq!(
        op(&spec, "get", "/agents")["responses"]["200"],
        json_success(component_ref("AgentViewListResponse"))
    );
    assert_eq!(
        schema(&spec, "AgentViewListResponse"),
        json!({
            "type": "object",
            "properties": {
                "data": {"type": "array", "items": component_ref("AgentResponse"), "nullable": true},
                "total": {"type": "integer", "format": "int64", "nullable": true}
            }
        })
    );
    assert_eq!(
        schema(&spec, "AgentResponse"),
        json!({
            "type": "object",
            "properties": {
                "id": {"type": "string", "nullable": true},
                "status": {"type": "string", "nullable": true},
                "createdAt": {"type": "string", "nullable": true},
                "birthday": {"type": "string", "nullable": true},
                "cores": {"type": "integer", "format": "int64", "nullable": true},
                "memory": {"type": "integer", "format": "int64", "nullable": true},
                "score": {"type": "number", "format": "float", "nullable": true},
                "tags": {"type": "array", "items": {"type": "string"}, "nullable": true},
                "labels": {"type": "object", "additionalProperties": {"type": "integer", "format": "int64"}, "nullable": true},
                "os": {"type": "object", "properties": {"name": {"type": "string", "nullable": true}}, "nullable": true},
                "parent": component_ref("AgentResponse")
            }
        })
    );
}

#[test]
fn request_schemas_keep_enums_without_null_and_required() {
    let vendor = vendor_with(
        json!({"/agents/actions/connect": {"post": {
            "tags": ["Agent Actions"],
            "parameters": [{"in": "body", "name": "body", "required": true,
                            "schema": {"$ref": "#/definitions/agents.schemas_AgentActionSchema"}}],
            "responses": {"200": {"description": "ok", "schema": {"type": "object"}}}
        }}}),
        json!({
            "agents.schemas_AgentActionSchema": {
                "type": "object",
                "required": ["filter", "data", "notAProperty"],
                "additionalProperties": false,
                "properties": {
                    "filter": {"$ref": "#/definitions/agents.schemas_FilterSchema"},
                    "data": {
                        "type": "object",
                        "required": ["mode"],
                        "properties": {
                            "mode": {"type": "string", "enum": ["fast", "slow", null]},
                            "count": {"type": "integer", "format": "int32", "maximum": 10},
                            "since": {"type": "string", "format": "date-time"},
                            "day": {"type": "string", "format": "date"},
                            "id": {"type": "string", "format": "uuid"},
                            "note": {"type": "string", "x-nullable": true}
                        }
                    }
                }
            },
            "agents.schemas_FilterSchema": {
                "type": "object",
                "properties": {"ids": {"type": "array", "items": {"type": "string"}}}
            }
        }),
    );
    let spec = import_all(&vendor, &curation(""));
    assert_eq!(
        op(&spec, "post", "/agents/actions/connect")["requestBody"],
        json!({"required": true, "content": {"application/json": {"schema": component_ref("AgentActionRequest")}}})
    );
    assert_eq!(
        schema(&spec, "AgentActionRequest"),
        json!({
            "type": "object",
            "required": ["filter", "data"],
            "properties": {
                "filter": component_ref("FilterRequest"),
                "data": {
                    "type": "object",
                    "required": ["mode"],
                    "properties": {
                        "mode": {"type": "string", "enum": ["fast", "slow"], "nullable": true},
                        "count": {"type": "integer", "format": "int32", "x-constraints": {"maximum": 10}},
                        "since": {"type": "string", "format": "date-time"},
                        "day": {"type": "string", "format": "date"},
                        "id": {"type": "string"},
                        "note": {"type": "string", "nullable": true}
                    }
                }
            }
        })
    );
    assert_eq!(
        schema(&spec, "FilterRequest"),
        json!({"type": "object", "properties": {"ids": {"type": "array", "items": {"type": "string"}}}})
    );
}

#[test]
fn request_limits_travel_as_x_constraints_and_responses_keep_none() {
    let filter = |names_max: u64| {
        json!({
            "type": "object",
            "properties": {
                "computerName__contains": {"type": "array", "maxItems": names_max,
                    "items": {"type": "string", "minLength": 2}},
                "ids": {"type": "array", "maxItems": 5000,
                    "items": {"type": "string", "minimum": 100000000000000000u64}},
                "email": {"type": "string", "pattern": "^[\\001-\\010]+@x$"},
                "hash": {"type": "string", "pattern": "^[0-9a-f]+$", "maxLength": 40, "minimum": 1}
            }
        })
    };
    let body = |name: &str| {
        json!([{"in": "body", "name": "body", "required": true,
                "schema": {"$ref": format!("#/definitions/{name}")}}])
    };
    let vendor = vendor_with(
        json!({
            "/threats": {"get": {
                "tags": ["Threats"],
                "parameters": [
                    {"in": "query", "name": "computerName__contains", "type": "array", "collectionFormat": "csv",
                     "maxItems": 10, "items": {"type": "string", "minLength": 2}},
                    {"in": "query", "name": "limit", "type": "integer", "minimum": 1, "maximum": 1000},
                    {"in": "query", "name": "siteId", "type": "string", "minimum": 100000000000000000u64}
                ],
                "responses": {"200": {"description": "ok", "schema": {"$ref": "#/definitions/ThreatListSchema"}}}
            }},
            "/threats/mitigate/kill": {"post": {"tags": ["Threats"], "parameters": body("KillSchema"), "responses": {}}},
            "/threats/mitigate/quarantine": {"post": {"tags": ["Threats"], "parameters": body("QuarantineSchema"), "responses": {}}}
        }),
        json!({
            "KillSchema": {"type": "object", "properties": {"filter": filter(10),
                "data": {"type": "array", "items": {"type": "object", "properties": {
                    "name": {"type": "string", "maxLength": 3}, "cores": {"type": "integer", "minimum": 1}}}}}},
            "QuarantineSchema": {"type": "object", "properties": {"filter": filter(20)}},
            "ThreatListSchema": {"type": "object", "properties": {
                "name": {"type": "string", "minLength": 2, "maxLength": 5}}}
        }),
    );
    let spec = import_all(&vendor, &curation(""));
    // Parameters: on the parameter object, next to the schema; `minimum` on
    // a string is dropped.
    assert_eq!(
        op(&spec, "get", "/threats")["parameters"],
        json!([
            {"name": "computerName__contains", "in": "query", "required": false, "schema": component_ref("CsvList"),
             "x-constraints": {"maxItems": 10, "items": {"minLength": 2}}},
            {"name": "limit", "in": "query", "required": false, "schema": {"type": "integer"},
             "x-constraints": {"minimum": 1, "maximum": 1000}},
            {"name": "siteId", "in": "query", "required": false, "schema": {"type": "string"}}
        ])
    );
    // The filter both mitigations share is one component whatever its
    // limits; it keeps those both copies agree on (not names' maxItems).
    // The e-mail pattern does not compile with the regex crate: dropped.
    assert_eq!(
        schema(&spec, "KillFilter"),
        json!({
            "type": "object",
            "properties": {
                "computerName__contains": {"type": "array", "items": {"type": "string"},
                    "x-constraints": {"items": {"minLength": 2}}},
                "ids": {"type": "array", "items": {"type": "string"}, "x-constraints": {"maxItems": 5000}},
                "email": {"type": "string"},
                "hash": {"type": "string", "x-constraints": {"maxLength": 40, "pattern": "^[0-9a-f]+$"}}
            }
        })
    );
    assert_eq!(
        schema(&spec, "KillRequest")["properties"]["data"],
        json!({"type": "array", "items": {"type": "object", "properties": {
            "name": {"type": "string", "x-constraints": {"maxLength": 3}},
            "cores": {"type": "integer", "x-constraints": {"minimum": 1}}}}})
    );
    assert_eq!(
        schema(&spec, "QuarantineRequest")["properties"]["filter"],
        component_ref("KillFilter")
    );
    // Responses keep no validation keywords.
    assert_eq!(
        schema(&spec, "ThreatListResponse"),
        json!({"type": "object", "properties": {"name": {"type": "string", "nullable": true}}})
    );
    assert!(!to_text(&spec).contains("minLength\": 2, \"maxLength"));
}

#[test]
fn enums_that_cannot_become_rust_enums_stay_plain_values() {
    let vendor = vendor_with(
        json!({"/agents/actions/tag": {"post": {
            "parameters": [{"in": "body", "name": "body", "schema": {"$ref": "#/definitions/TagSchema"}}],
            "responses": {}
        }}}),
        json!({"TagSchema": {"type": "object", "properties": {
            "case": {"type": "string", "enum": ["a", "A"]},
            "undefined": {"type": "string", "enum": ["undefined", "UNDEFINED", null]},
            "punctuation": {"type": "string", "enum": ["in-progress", "in_progress"]},
            "numbers": {"type": "integer", "enum": [1, 2]},
            "mixed": {"type": "string", "enum": ["x", 1]},
            "untyped": {"enum": ["p", "q"]},
            "fine": {"type": "string", "enum": ["low", "high"]}
        }}}),
    );
    let spec = import_all(&vendor, &curation(""));
    assert_eq!(
        schema(&spec, "TagRequest"),
        json!({"type": "object", "properties": {
            "case": {"type": "string"},
            "undefined": {"type": "string", "nullable": true},
            "punctuation": {"type": "string"},
            "numbers": {"type": "integer"},
            "mixed": {"type": "string"},
            "untyped": {},
            "fine": {"type": "string", "enum": ["low", "high"]}
        }})
    );
}

#[test]
fn definition_names_are_cleaned_and_collisions_prefixed_by_module() {
    let vendor = vendor_with(
        json!({
            "/agents/actions/scan": {"post": {
                "parameters": [{"in": "body", "name": "body", "schema": {"$ref": "#/definitions/agents.schemas_FilterSchema"}}],
                "responses": {}
            }},
            "/threats/actions/scan": {"post": {
                "parameters": [{"in": "body", "name": "body", "schema": {"$ref": "#/definitions/threats.schemas_FilterSchema"}}],
                "responses": {}
            }}
        }),
        json!({
            "agents.schemas_FilterSchema": {"type": "object", "properties": {"a": {"type": "string"}}},
            "threats.schemas_FilterSchema": {"type": "object", "properties": {"t": {"type": "string"}}}
        }),
    );
    let spec = import_all(&vendor, &curation(""));
    assert_eq!(
        op(&spec, "post", "/agents/actions/scan")["requestBody"]["content"]["application/json"]["schema"],
        component_ref("FilterRequest")
    );
    assert_eq!(
        op(&spec, "post", "/threats/actions/scan")["requestBody"]["content"]["application/json"]["schema"],
        component_ref("ThreatsFilterRequest")
    );
    assert_eq!(
        schema_names(&spec),
        [
            "ApiError",
            "CsvList",
            "FilterRequest",
            "ThreatsFilterRequest"
        ]
    );
    // Names come from the whole vendor file, not the selection.
    let only_threats = import_wanted(&vendor, &curation(""), &["scan_threats"]);
    assert_eq!(
        schema_names(&only_threats),
        ["ApiError", "CsvList", "ThreatsFilterRequest"]
    );
}

#[test]
fn a_reference_to_a_missing_definition_is_an_error() {
    let vendor =
        vendor(json!({"/agents": {"get": returns(json!({"$ref": "#/definitions/Nowhere"}))}}));
    assert_eq!(
        import_error(&vendor, &curation(""), &[], true),
        "schema reference Nowhere names no vendor definition"
    );
}

#[test]
fn identical_inline_objects_are_shared_in_one_component() {
    let filter = json!({
        "type": "object",
        "properties": {
            "ids": {"type": "array", "items": {"type": "string"}},
            "computerName__like": {"type": "string"}
        }
    });
    let action = |extra: &str| {
        json!({"type": "object", "required": ["filter"], "properties": {
            "filter": filter.clone(),
            extra: {"type": "string"}
        }})
    };
    let body = |definition: &str| {
        json!({"post": {
            "parameters": [{"in": "body", "name": "body", "schema": {"$ref": format!("#/definitions/{definition}")}}],
            "responses": {}
        }})
    };
    let vendor = vendor_with(
        json!({
            "/agents/actions/connect": body("agents.schemas_AgentConnectSchema"),
            "/agents/actions/disconnect": body("agents.schemas_AgentDisconnectSchema")
        }),
        json!({
            "agents.schemas_AgentConnectSchema": action("connectNote"),
            "agents.schemas_AgentDisconnectSchema": action("disconnectNote")
        }),
    );
    let spec = import_all(&vendor, &curation(""));
    assert_eq!(
        schema_names(&spec),
        [
            "AgentConnectRequest",
            "AgentDisconnectRequest",
            "AgentFilter",
            "ApiError",
            "CsvList"
        ]
    );
    assert_eq!(schema(&spec, "AgentFilter"), filter);
    assert_eq!(
        schema(&spec, "AgentConnectRequest"),
        json!({"type": "object", "required": ["filter"], "properties": {
            "filter": component_ref("AgentFilter"),
            "connectNote": {"type": "string"}
        }})
    );
    assert_eq!(
        schema(&spec, "AgentDisconnectRequest")["properties"]["filter"],
        component_ref("AgentFilter")
    );
}

#[test]
fn identical_inline_response_objects_are_shared_as_a_response_component() {
    let page = json!({"type": "object", "properties": {
        "nextCursor": {"type": "string"},
        "totalItems": {"type": "integer"}
    }});
    let vendor = vendor_with(
        json!({
            "/agents": {"get": returns(json!({"$ref": "#/definitions/agents.schemas_AgentListSchema_200"}))},
            "/agents/count": {"get": returns(json!({"$ref": "#/definitions/agents.schemas_AgentCountSchema_200"}))}
        }),
        json!({
            "agents.schemas_AgentListSchema_200": {"type": "object", "properties": {"pagination": page.clone(), "data": {"type": "array", "items": {"type": "string"}}}},
            "agents.schemas_AgentCountSchema_200": {"type": "object", "properties": {"pagination": page, "total": {"type": "integer"}}}
        }),
    );
    let spec = import_all(&vendor, &curation(""));
    assert_eq!(
        schema(&spec, "AgentPaginationResponse"),
        json!({"type": "object", "properties": {
            "nextCursor": {"type": "string", "nullable": true},
            "totalItems": {"type": "integer", "nullable": true}
        }})
    );
    assert_eq!(
        schema(&spec, "AgentListResponse")["properties"]["pagination"],
        component_ref("AgentPaginationResponse")
    );
    assert_eq!(
        schema(&spec, "AgentCountResponse")["properties"]["pagination"],
        component_ref("AgentPaginationResponse")
    );
}

#[test]
fn identical_inline_string_enums_are_shared() {
    let status = json!({"type": "string", "enum": ["open", "closed"]});
    let vendor = vendor_with(
        json!({
            "/threats/actions/close": {"post": {"parameters": [{"in": "body", "name": "body", "schema": {"$ref": "#/definitions/ThreatCloseSchema"}}], "responses": {}}},
            "/threats/actions/open": {"post": {"parameters": [{"in": "body", "name": "body", "schema": {"$ref": "#/definitions/ThreatOpenSchema"}}], "responses": {}}}
        }),
        json!({
            "ThreatCloseSchema": {"type": "object", "properties": {"status": status.clone()}},
            "ThreatOpenSchema": {"type": "object", "properties": {"status": status.clone()}}
        }),
    );
    let spec = import_all(&vendor, &curation(""));
    assert_eq!(schema(&spec, "ThreatStatus"), status);
    assert_eq!(
        schema(&spec, "ThreatCloseRequest"),
        json!({"type": "object", "properties": {"status": component_ref("ThreatStatus")}})
    );
    assert_eq!(
        schema(&spec, "ThreatOpenRequest"),
        json!({"type": "object", "properties": {"status": component_ref("ThreatStatus")}})
    );
}

#[test]
fn copies_differing_only_in_nullable_are_shared_without_nullable() {
    let filter = |nullable: bool| {
        json!({"type": "object", "x-nullable": nullable, "properties": {
            "ids": {"type": "array", "items": {"type": "string"}},
            "name": {"type": "string"}
        }})
    };
    let body = |definition: &str| {
        json!({"post": {
            "parameters": [{"in": "body", "name": "body", "schema": {"$ref": format!("#/definitions/{definition}")}}],
            "responses": {}
        }})
    };
    let vendor = vendor_with(
        json!({
            "/agents/actions/connect": body("AgentConnectSchema"),
            "/agents/actions/disconnect": body("AgentDisconnectSchema")
        }),
        json!({
            "AgentConnectSchema": {"type": "object", "properties": {"filter": filter(true)}},
            "AgentDisconnectSchema": {"type": "object", "properties": {"filter": filter(false)}}
        }),
    );
    let spec = import_all(&vendor, &curation(""));
    assert_eq!(
        schema(&spec, "AgentFilter"),
        json!({"type": "object", "properties": {
            "ids": {"type": "array", "items": {"type": "string"}},
            "name": {"type": "string"}
        }})
    );
    for owner in ["AgentConnectRequest", "AgentDisconnectRequest"] {
        assert_eq!(
            schema(&spec, owner),
            json!({"type": "object", "properties": {"filter": component_ref("AgentFilter")}})
        );
    }
}

// ---------------------------------------------------------------- multipart and extras

#[test]
fn multipart_operations_are_listed_with_their_fields_not_imported() {
    let vendor = vendor(json!({
        "/upload/software": {"post": {
            "consumes": ["multipart/form-data"],
            "parameters": [
                {"in": "formData", "name": "file", "type": "file", "required": true, "description": "VENDOR file prose"},
                {"in": "formData", "name": "siteIds", "type": "array", "items": {"type": "integer"}},
                {"in": "formData", "name": "osType", "type": "string", "required": true},
                {"in": "body", "name": "meta", "schema": {"type": "object"}}
            ],
            "responses": {"200": {"description": "ok"}}
        }},
        "/filters/csv-filter": {"post": {
            "parameters": [{"in": "formData", "name": "data", "type": "file"}],
            "responses": {}
        }},
        "/agents": {"get": plain()}
    }));
    let curation = curation(
        r#"
[operation_ids]
"POST /filters/csv-filter" = "upload_csv_filter"
"POST /upload/software" = "upload_software_package"
"#,
    );
    let spec = import_all(&vendor, &curation);
    assert_eq!(operations(&spec), ["GET /agents list_agents"]);
    assert_eq!(
        spec["x-multipart-operations"],
        json!([
            {"operationId": "upload_csv_filter", "method": "POST", "path": "/filters/csv-filter", "fields": [
                {"name": "data", "in": "formData", "type": "file", "required": false}
            ]},
            {"operationId": "upload_software_package", "method": "POST", "path": "/upload/software", "fields": [
                {"name": "file", "in": "formData", "type": "file", "required": true},
                {"name": "meta", "in": "body", "type": "json", "required": false},
                {"name": "osType", "in": "formData", "type": "string", "required": true},
                {"name": "siteIds", "in": "formData", "type": "array of integer", "required": false}
            ]}
        ])
    );
    assert!(!to_text(&spec).contains("VENDOR"));
}

#[test]
fn multipart_operations_follow_the_selection() {
    let vendor = vendor(json!({
        "/upload/software": {"post": {"consumes": ["multipart/form-data"], "parameters": [], "responses": {}}},
        "/agents": {"get": plain()}
    }));
    let spec = import_wanted(&vendor, &curation(""), &["list_agents"]);
    assert_eq!(spec["x-multipart-operations"], json!([]));
}

#[test]
fn extra_operations_add_what_the_vendor_lacks() {
    let vendor = vendor(json!({"/agents": {"get": plain()}}));
    let curation = curation(
        r#"
[[extra_operations]]
operation_id = "list_threat_appearances"
method = "GET"
path = "/private/threats/{threat_id}/appearances"
tag = "Threats"
query = ["skip", "cursor"]
csv_query = ["ids"]

[[extra_operations]]
operation_id = "mark_threats_as_threat"
method = "POST"
path = "/threats/mark-as-threat"
tag = "Threats"
json_body = true
"#,
    );
    let spec = import_all(&vendor, &curation);
    assert_eq!(
        operations(&spec),
        [
            "GET /agents list_agents",
            "GET /private/threats/{threat_id}/appearances list_threat_appearances",
            "POST /threats/mark-as-threat mark_threats_as_threat",
        ]
    );
    assert_eq!(
        op(&spec, "get", "/private/threats/{threat_id}/appearances"),
        &json!({
            "operationId": "list_threat_appearances",
            "summary": "List threat appearances",
            "tags": ["Threats"],
            "parameters": [
                {"name": "threat_id", "in": "path", "required": true, "schema": {"type": "string"}},
                {"name": "cursor", "in": "query", "required": false, "schema": {"type": "string"}},
                {"name": "ids", "in": "query", "required": false, "schema": component_ref("CsvList")},
                {"name": "skip", "in": "query", "required": false, "schema": {"type": "string"}}
            ],
            "responses": responses_with("200", json_success(json!({})))
        })
    );
    assert_eq!(
        op(&spec, "post", "/threats/mark-as-threat"),
        &json!({
            "operationId": "mark_threats_as_threat",
            "summary": "Mark threats as threat",
            "tags": ["Threats"],
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object"}}}},
            "responses": responses_with("200", json_success(json!({})))
        })
    );
}

#[test]
fn root_extra_operations_skip_the_prefix_and_take_typed_parameters_and_bodies() {
    let vendor = vendor(json!({"/agents": {"get": plain()}}));
    let curation = curation(
        r#"
[[extra_operations]]
operation_id = "launch_lrq_query"
method = "POST"
path = "/sdl/v2/api/queries"
tag = "Long Running Query"
root = true
body = '{"type": "object", "required": ["queryType"], "properties": {"queryType": {"type": "string", "enum": ["PQ", "LOG"]}, "log": {"type": "object", "properties": {"limit": {"type": "integer", "maximum": 5000}}}}}'
response = '{"type": "object", "properties": {"id": {"type": "string"}, "stepsTotal": {"type": "integer", "format": "int32"}}}'

[[extra_operations]]
operation_id = "delete_lrq_query"
method = "DELETE"
path = "/sdl/v2/api/queries/{query_id}"
tag = "Long Running Query"
root = true
status = "204"
parameters = '[{"name": "X-Dataset-Query-Forward-Tag", "in": "header", "required": true, "type": "string"}, {"name": "lastStepSeen", "in": "query", "required": true, "type": "integer", "minimum": 0}]'
"#,
    );
    let spec = import_all(&vendor, &curation);
    let paths: Vec<&String> = spec["paths"].as_object().unwrap().keys().collect();
    assert_eq!(
        paths,
        [
            "/sdl/v2/api/queries",
            "/sdl/v2/api/queries/{query_id}",
            "/web/api/v2.1/agents"
        ]
    );
    assert_eq!(
        spec["paths"]["/sdl/v2/api/queries"]["post"],
        json!({
            "operationId": "launch_lrq_query",
            "summary": "Launch lrq query",
            "tags": ["Long Running Query"],
            "security": [{"SdlBearer": []}],
            "requestBody": {"required": true, "content": {"application/json": {"schema": {
                "type": "object",
                "required": ["queryType"],
                "properties": {
                    "queryType": {"type": "string", "enum": ["PQ", "LOG"]},
                    "log": {"type": "object", "properties": {
                        "limit": {"type": "integer", "x-constraints": {"maximum": 5000}}
                    }}
                }
            }}}},
            "responses": responses_with("200", json_success(json!({
                "type": "object",
                "properties": {
                    "id": {"type": "string", "nullable": true},
                    "stepsTotal": {"type": "integer", "format": "int64", "nullable": true}
                }
            })))
        })
    );
    assert_eq!(
        spec["paths"]["/sdl/v2/api/queries/{query_id}"]["delete"],
        json!({
            "operationId": "delete_lrq_query",
            "summary": "Delete lrq query",
            "tags": ["Long Running Query"],
            "security": [{"SdlBearer": []}],
            "parameters": [
                {"name": "query_id", "in": "path", "required": true, "schema": {"type": "string"}},
                {"name": "X-Dataset-Query-Forward-Tag", "in": "header", "required": true, "schema": {"type": "string"}},
                {"name": "lastStepSeen", "in": "query", "required": true, "schema": {"type": "integer"}, "x-constraints": {"minimum": 0}}
            ],
            "responses": responses_with("204", json!({"description": "Success"}))
        })
    );
    assert_eq!(
        spec["components"]["securitySchemes"]["SdlBearer"],
        json!({"type": "http", "scheme": "bearer"})
    );
    // Without a root operation the spec has no bearer scheme.
    let plain_spec = import_all(&vendor, &self::curation(""));
    assert!(plain_spec["components"]["securitySchemes"]["SdlBearer"].is_null());
}

#[test]
fn extra_operation_mistakes_are_named() {
    let vendor = vendor(json!({"/agents": {"get": plain()}}));
    let cases = [
        (
            "status = \"204\"\nresponse = '{\"type\": \"object\"}'",
            "a 204 has no body",
        ),
        ("status = \"418\"", "status 418 is not one of"),
        (
            "parameters = '[{\"name\": \"b\", \"in\": \"body\"}]'",
            "extra parameters are query or header",
        ),
        ("body = 'not json'", "body is not JSON"),
    ];
    for (extra, expected) in cases {
        let curation = curation(&format!(
            "[[extra_operations]]\noperation_id = \"x_op\"\nmethod = \"GET\"\npath = \"/x\"\ntag = \"X\"\n{extra}\n"
        ));
        let error = import_error(&vendor, &curation, &[], true);
        assert!(error.contains(expected), "{extra}: {error}");
        assert!(error.contains("extra operation x_op"), "{error}");
    }
}

#[test]
fn an_extra_operation_on_a_vendor_path_and_method_is_an_error() {
    let vendor = vendor(json!({"/agents": {"get": plain()}}));
    let curation = curation(
        r#"
[[extra_operations]]
operation_id = "list_agents_again"
method = "GET"
path = "/agents"
tag = "Agents"
"#,
    );
    assert_eq!(
        import_error(&vendor, &curation, &[], true),
        "get /web/api/v2.1/agents is defined twice"
    );
}

// ---------------------------------------------------------------- selection

fn selection_vendor() -> Value {
    vendor(json!({
        "/agents": {"get": plain()},
        "/groups": {"get": plain()},
        "/sites": {"get": plain()}
    }))
}

const EXTRA: &str = r#"
[[extra_operations]]
operation_id = "get_threat_analysis"
method = "GET"
path = "/private/threats/{threat_id}/analysis"
tag = "Threats"
"#;

#[test]
fn only_wanted_operations_are_imported() {
    let spec = import_wanted(
        &selection_vendor(),
        &curation(EXTRA),
        &["list_sites", "list_agents"],
    );
    assert_eq!(
        operations(&spec),
        ["GET /agents list_agents", "GET /sites list_sites"]
    );
    let spec = import_wanted(
        &selection_vendor(),
        &curation(EXTRA),
        &["get_threat_analysis"],
    );
    assert_eq!(
        operations(&spec),
        ["GET /private/threats/{threat_id}/analysis get_threat_analysis"]
    );
}

#[test]
fn all_or_include_all_imports_every_operation() {
    let every = [
        "GET /agents list_agents",
        "GET /groups list_groups",
        "GET /private/threats/{threat_id}/analysis get_threat_analysis",
        "GET /sites list_sites",
    ];
    let wanted: BTreeSet<String> = ["list_agents".to_string()].into();
    let spec = import(&selection_vendor(), &curation(EXTRA), &wanted, true).expect("imports");
    assert_eq!(operations(&spec), every);
    let spec = import_wanted(
        &selection_vendor(),
        &curation(&format!("include_all = true\n{EXTRA}")),
        &["list_agents"],
    );
    assert_eq!(operations(&spec), every);
}

#[test]
fn wanted_names_unknown_to_the_vendor_file_are_an_error_naming_them() {
    assert_eq!(
        import_error(
            &selection_vendor(),
            &curation(EXTRA),
            &[
                "list_agents",
                "list_robots",
                "get_threat_analysis",
                "zap_everything"
            ],
            false
        ),
        "the selection names operations that neither the vendor file nor the curation has: \
         [\"list_robots\", \"zap_everything\"]"
    );
}

#[test]
fn a_document_that_is_not_swagger_2_is_refused() {
    let mut doc = selection_vendor();
    doc["swagger"] = json!("3.0");
    assert_eq!(
        import_error(&doc, &curation(""), &[], true),
        "the vendor file is not a Swagger 2.0 document (no \"swagger\": \"2.0\")"
    );
}

#[test]
fn a_path_outside_the_prefix_is_refused() {
    let mut doc = selection_vendor();
    doc["paths"]["/web/api/v2.0/agents"] = json!({"get": plain()});
    assert_eq!(
        import_error(&doc, &curation(""), &[], true),
        "path /web/api/v2.0/agents does not start with /web/api/v2.1"
    );
}

// ---------------------------------------------------------------- output

#[test]
fn importing_twice_gives_byte_identical_text() {
    let vendor = vendor_with(
        json!({
            "/sites": {"get": returns(json!({"$ref": "#/definitions/SiteSchema_200"}))},
            "/agents/actions/connect": {"post": {
                "parameters": [{"in": "body", "name": "body", "schema": {"$ref": "#/definitions/ConnectSchema"}}],
                "responses": {}
            }},
            "/agents": {"get": plain(), "delete": plain()}
        }),
        json!({
            "SiteSchema_200": {"type": "object", "properties": {"z": {"type": "string"}, "a": {"type": "integer"}}},
            "ConnectSchema": {"type": "object", "properties": {"filter": {"type": "object", "properties": {"x": {"type": "string"}, "y": {"type": "string"}}}}}
        }),
    );
    let first = to_text(&import_all(&vendor, &curation("")));
    let second = to_text(&import_all(&vendor, &curation("")));
    assert_eq!(first, second);
    assert!(first.ends_with("}\n"));
    assert!(first.starts_with("{\n  \"openapi\": \"3.0.3\",\n"));
    // Paths and schema names are sorted; methods keep get, put, post, delete order.
    assert_eq!(
        operations(&serde_json::from_str(&first).expect("JSON")),
        [
            "GET /agents list_agents",
            "DELETE /agents delete_agents",
            "POST /agents/actions/connect connect_agents",
            "GET /sites list_sites",
        ]
    );
}

#[test]
fn the_document_carries_the_api_token_security_scheme() {
    let spec = import_all(&selection_vendor(), &curation(""));
    assert_eq!(spec["security"], json!([{"ApiToken": []}]));
    assert_eq!(
        spec["components"]["securitySchemes"],
        json!({"ApiToken": {"type": "apiKey", "in": "header", "name": "Authorization"}})
    );
}
