//! `validate` names the operation for every construct progenitor cannot take,
//! and `generate` turns a bad spec into an error (never a panic) and a good
//! one into the two generated files.

use codegen::generate::{
    ANSWERS_PATH, CALLS_PATH, CLIENT_PATH, MOCK_PATH, OPERATIONS_PATH, PAGING_PATH, generate,
};
use codegen::validate::validate;
use serde_json::{Value, json};
use std::path::Path;

const AGENTS: &str = "/web/api/v2.1/agents";

fn component_ref(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn json_body(schema: Value) -> Value {
    json!({"application/json": {"schema": schema}})
}

fn error_response() -> Value {
    json!({"description": "Error", "content": json_body(component_ref("ApiError"))})
}

/// A valid operation, as the importer writes them.
fn list_agents() -> Value {
    json!({
        "operationId": "list_agents",
        "summary": "List agents",
        "tags": ["Agents"],
        "parameters": [
            {"name": "limit", "in": "query", "required": false, "schema": {"type": "integer", "format": "int64"}},
            {"name": "ids", "in": "query", "required": false, "schema": component_ref("CsvList")}
        ],
        "responses": {
            "200": {"description": "Success", "content": json_body(component_ref("AgentListResponse"))},
            "4XX": error_response(),
            "5XX": error_response()
        }
    })
}

/// A valid operation with a typed request body.
fn connect_agents() -> Value {
    json!({
        "operationId": "connect_agents",
        "summary": "Connect agents",
        "tags": ["Agent Actions"],
        "requestBody": {"required": true, "content": json_body(component_ref("AgentActionRequest"))},
        "responses": {
            "200": {"description": "Success", "content": json_body(json!({}))},
            "4XX": error_response(),
            "5XX": error_response()
        }
    })
}

/// A curated-looking spec holding `paths`.
fn spec_with(paths: Value) -> Value {
    json!({
        "openapi": "3.0.3",
        "info": {"title": "test", "version": "2.1"},
        "paths": paths,
        "components": {"schemas": {
            "AgentActionRequest": {
                "type": "object",
                "required": ["filter"],
                "properties": {
                    "filter": {"type": "object", "properties": {"ids": {"type": "array", "items": {"type": "string"}}}},
                    "mode": {"type": "string", "enum": ["fast", "slow"]}
                }
            },
            "AgentListResponse": {"type": "object", "properties": {
                "total": {"type": "integer", "format": "int64", "nullable": true}
            }},
            "ApiError": {"type": "object", "properties": {
                "errors": {"type": "array", "nullable": true, "items": {"type": "object", "properties": {
                    "code": {"type": "integer", "format": "int64", "nullable": true},
                    "title": {"type": "string", "nullable": true}
                }}}
            }},
            "CsvList": {"type": "array", "items": {"type": "string"}}
        }}
    })
}

/// The spec with one operation, `get` on /agents.
fn spec_with_op(op: Value) -> Value {
    spec_with(json!({AGENTS: {"get": op}}))
}

fn problems(spec: &Value) -> Vec<String> {
    let parsed: openapiv3::OpenAPI =
        serde_json::from_value(spec.clone()).expect("the test spec is OpenAPI 3.0 JSON");
    validate(&parsed)
}

/// `list_agents` with `change` applied to it.
fn list_agents_with(change: impl FnOnce(&mut Value)) -> Value {
    let mut op = list_agents();
    change(&mut op);
    spec_with_op(op)
}

// ---------------------------------------------------------------- validate

#[test]
fn a_curated_looking_spec_has_no_problems() {
    let spec = spec_with(json!({
        AGENTS: {"get": list_agents()},
        "/web/api/v2.1/agents/actions/connect": {"post": connect_agents()}
    }));
    assert_eq!(problems(&spec), Vec::<String>::new());
}

#[test]
fn two_different_success_bodies() {
    let spec = list_agents_with(|op| {
        op["responses"]["201"] =
            json!({"description": "Created", "content": json_body(json!({"type": "string"}))});
    });
    assert_eq!(
        problems(&spec),
        ["operation list_agents: has 2 different success bodies; progenitor takes one"]
    );
}

#[test]
fn two_identical_success_bodies_are_fine() {
    let spec = list_agents_with(|op| {
        op["responses"]["201"] = op["responses"]["200"].clone();
    });
    assert_eq!(problems(&spec), Vec::<String>::new());
}

#[test]
fn a_success_range_counts_as_a_success_body() {
    let spec = list_agents_with(|op| {
        op["responses"]["2XX"] =
            json!({"description": "Other", "content": json_body(json!({"type": "integer"}))});
    });
    assert_eq!(
        problems(&spec),
        ["operation list_agents: has 2 different success bodies; progenitor takes one"]
    );
}

#[test]
fn different_error_bodies() {
    let spec = list_agents_with(|op| {
        op["responses"]["5XX"] =
            json!({"description": "Error", "content": json_body(json!({"type": "string"}))});
    });
    assert_eq!(
        problems(&spec),
        ["operation list_agents: has 2 different error bodies; progenitor takes one"]
    );
}

#[test]
fn a_default_response_counts_as_an_error_body() {
    let spec = list_agents_with(|op| {
        op["responses"]["default"] = json!({"description": "Other"});
    });
    assert_eq!(
        problems(&spec),
        ["operation list_agents: has 2 different error bodies; progenitor takes one"]
    );
}

#[test]
fn a_json_response_without_a_schema() {
    let spec = list_agents_with(|op| {
        op["responses"]["200"] =
            json!({"description": "Success", "content": {"application/json": {}}});
    });
    assert_eq!(
        problems(&spec),
        ["operation list_agents: response 200 is JSON without a schema"]
    );
}

#[test]
fn a_response_with_two_media_types() {
    let spec = list_agents_with(|op| {
        op["responses"]["200"]["content"]["text/csv"] =
            json!({"schema": {"type": "string", "format": "binary"}});
    });
    assert_eq!(
        problems(&spec),
        ["operation list_agents: response 200 has 2 media types; progenitor takes one"]
    );
}

#[test]
fn a_response_reference() {
    let spec = list_agents_with(|op| {
        op["responses"]["200"] = json!({"$ref": "#/components/responses/Agents"});
    });
    assert_eq!(
        problems(&spec),
        ["operation list_agents: response 200 is a reference; inline it"]
    );
}

#[test]
fn a_request_body_with_two_media_types() {
    let mut op = connect_agents();
    op["requestBody"]["content"]["application/xml"] = json!({"schema": {"type": "string"}});
    let spec = spec_with(json!({"/web/api/v2.1/agents/actions/connect": {"post": op}}));
    assert_eq!(
        problems(&spec),
        ["operation connect_agents: request body has 2 media types; progenitor takes one"]
    );
}

#[test]
fn a_multipart_request_body() {
    let mut op = connect_agents();
    op["requestBody"]["content"] = json!({"multipart/form-data": {"schema": {"type": "object", "properties": {
        "file": {"type": "string", "format": "binary"}
    }}}});
    let spec = spec_with(json!({"/web/api/v2.1/agents/actions/connect": {"post": op}}));
    assert_eq!(
        problems(&spec),
        [
            "operation connect_agents: multipart request bodies are not supported; hand-write it in the facade"
        ]
    );
}

#[test]
fn a_missing_operation_id_names_the_method_and_path() {
    let spec = list_agents_with(|op| {
        op.as_object_mut().expect("object").remove("operationId");
    });
    assert_eq!(
        problems(&spec),
        ["GET /web/api/v2.1/agents: no operationId"]
    );
}

#[test]
fn a_duplicate_operation_id() {
    let spec = spec_with(json!({AGENTS: {"get": list_agents(), "delete": list_agents()}}));
    assert_eq!(
        problems(&spec),
        ["operation list_agents: operationId used twice"]
    );
}

#[test]
fn an_operation_id_that_is_not_snake_case() {
    let spec = list_agents_with(|op| op["operationId"] = json!("listAgents"));
    assert_eq!(
        problems(&spec),
        ["operation listAgents: operationId is not snake_case"]
    );
}

#[test]
fn not_exactly_one_tag() {
    let none = list_agents_with(|op| op["tags"] = json!([]));
    assert_eq!(
        problems(&none),
        ["operation list_agents: has 0 tags; exactly one is required"]
    );
    let two = list_agents_with(|op| op["tags"] = json!(["Agents", "Sites"]));
    assert_eq!(
        problems(&two),
        ["operation list_agents: has 2 tags; exactly one is required"]
    );
}

#[test]
fn reserved_parameter_names() {
    for name in ["new", "send", "body", "body_map", "client"] {
        let spec = list_agents_with(|op| {
            op["parameters"]
                .as_array_mut()
                .expect("parameters")
                .push(json!({"name": name, "in": "query", "required": false, "schema": {"type": "boolean"}}));
        });
        assert_eq!(
            problems(&spec),
            [format!(
                "operation list_agents: parameter `{name}` would clash with a method of the generated builder; \
                 drop it in curation [drop_parameters]"
            )]
        );
    }
}

#[test]
fn openapi_3_1_is_refused() {
    let mut spec = spec_with_op(list_agents());
    spec["openapi"] = json!("3.1.0");
    assert_eq!(
        problems(&spec),
        ["the spec is OpenAPI 3.1.0, progenitor reads 3.0.x only"]
    );
}

#[test]
fn every_problem_of_every_operation_is_listed() {
    let mut bad = connect_agents();
    bad["tags"] = json!([]);
    bad["requestBody"]["content"] = json!({
        "multipart/form-data": {"schema": {"type": "object"}},
        "application/json": {"schema": {"type": "object"}}
    });
    let spec = spec_with(json!({
        AGENTS: {"get": list_agents_with(|op| op["tags"] = json!(["A", "B"]))["paths"][AGENTS]["get"].clone()},
        "/web/api/v2.1/agents/actions/connect": {"post": bad}
    }));
    assert_eq!(
        problems(&spec),
        [
            "operation list_agents: has 2 tags; exactly one is required",
            "operation connect_agents: has 0 tags; exactly one is required",
            "operation connect_agents: request body has 2 media types; progenitor takes one",
            "operation connect_agents: multipart request bodies are not supported; hand-write it in the facade",
        ]
    );
}

// ---------------------------------------------------------------- generate

fn generate_error(spec: &Value) -> String {
    match generate(&spec.to_string()) {
        Ok(_) => panic!("generate should refuse {spec:#}"),
        Err(e) => format!("{e:#}"),
    }
}

#[test]
fn generate_refuses_an_invalid_spec_naming_the_operation() {
    let spec = list_agents_with(|op| op["tags"] = json!(["Agents", "Sites"]));
    assert_eq!(
        generate_error(&spec),
        "the spec has 1 problem(s) progenitor cannot take:\n  \
         operation list_agents: has 2 tags; exactly one is required"
    );
}

#[test]
fn generate_refuses_text_that_is_not_openapi() {
    let text = match generate("{\"swagger\": \"2.0\"}") {
        Ok(_) => panic!("generate should refuse Swagger 2.0"),
        Err(e) => e.to_string(),
    };
    assert_eq!(text, "the spec is not OpenAPI 3.0 JSON");
}

#[test]
fn generate_names_the_operation_progenitor_fails_on_instead_of_panicking() {
    // Valid to the validator, but progenitor panics: {agent_id} is not declared.
    let mut get_agent = list_agents();
    get_agent["operationId"] = json!("get_agent");
    get_agent["parameters"] = json!([]);
    let spec = spec_with(json!({
        AGENTS: {"get": list_agents()},
        "/web/api/v2.1/agents/{agent_id}": {"get": get_agent}
    }));
    let error = generate_error(&spec);
    assert!(
        error.starts_with("progenitor failed: "),
        "unexpected error: {error}"
    );
    assert!(
        error.ends_with("\n  operation get_agent: missing path name mapping agent_id"),
        "the failing operation is not named alone: {error}"
    );
}

#[test]
fn generate_writes_the_client_and_the_mocks() {
    let spec = spec_with(json!({
        AGENTS: {"get": list_agents()},
        "/web/api/v2.1/agents/actions/connect": {"post": connect_agents()}
    }));
    let generated = generate(&spec.to_string()).expect("a valid spec generates");
    let file = |path: &str| -> &str {
        let found = generated.files.iter().find(|(p, _)| p == Path::new(path));
        &found.unwrap_or_else(|| panic!("no {path} generated")).1
    };
    assert_eq!(CLIENT_PATH, "generated/src/client.rs");
    assert_eq!(MOCK_PATH, "generated/src/mock.rs");
    let (client, mock) = (file(CLIENT_PATH), file(MOCK_PATH));
    // The operation table names every operation with its parameters and a
    // typed decoder for JSON answers.
    let table = file(OPERATIONS_PATH);
    assert!(table.contains("id: \"list_agents\""), "{table}");
    assert!(table.contains("method: \"GET\""), "{table}");
    assert!(table.contains("kind: crate::ParamKind::List"), "{table}");
    assert!(
        table.contains("\"list_agents\" => {") || table.contains("\"list_agents\" => Some("),
        "{table}"
    );
    assert!(table.contains("id: \"connect_agents\""), "{table}");
    assert!(table.contains("body: crate::BodyUse::Required"), "{table}");
    // How each operation answers, one line each, for the facade's transport.
    // (Path templates included, for the transport's path check.)
    let answers = file(ANSWERS_PATH);
    let compact: String = answers.split_whitespace().collect();
    assert!(
        compact
            .contains("(\"list_agents\",\"/web/api/v2.1/agents\",crate::ResponseKind::Json,false"),
        "{answers}"
    );
    assert!(
        compact.contains(
            "(\"connect_agents\",\"/web/api/v2.1/agents/actions/connect\",crate::ResponseKind::Json,false"
        ),
        "{answers}"
    );
    // One macro line per `Operation` and `Pageable` impl, not a whole impl.
    let calls = file(CALLS_PATH);
    assert!(
        calls.contains("impl_operation!(ListAgents, \"list_agents\", types::AgentListResponse);"),
        "{calls}"
    );
    assert!(!calls.contains("impl<"), "{calls}");
    // This list_agents has no cursor: nothing pages.
    let paging = file(PAGING_PATH);
    assert!(!paging.contains("impl_pageable!"), "{paging}");
    // Every file codegen owns is marked as generated, below generated/src.
    let header = "// @generated by `cargo run -p codegen -- generate` from spec/openapi.json.\n";
    for (path, text) in &generated.files {
        assert!(path.starts_with("generated/src"), "{}", path.display());
        assert!(text.starts_with(header), "{}:\n{text}", path.display());
    }

    assert!(client.contains("pub mod types {"), "{client}");
    assert!(
        client.contains("pub struct AgentListResponse {"),
        "{client}"
    );
    // One extension trait per tag, one builder per operation.
    assert!(client.contains("pub trait ClientAgentsExt {"), "{client}");
    assert!(
        client.contains("pub trait ClientAgentActionsExt {"),
        "{client}"
    );
    assert!(
        client.contains("fn list_agents(&self) -> builder::ListAgents<'_>;"),
        "{client}"
    );
    assert!(client.contains("pub struct ListAgents<'a> {"), "{client}");
    assert!(
        client.contains("pub struct ConnectAgents<'a> {"),
        "{client}"
    );
    // The comma-list schema is replaced by the crate's own type.
    assert!(client.contains("crate::CsvList"), "{client}");
    assert!(!client.contains("pub struct CsvList"), "{client}");
    // typify's struct builders are gone: a body is the struct itself, and
    // an operation whose body has no default says so when none was given.
    assert!(
        client.contains("pub struct AgentActionRequest {"),
        "{client}"
    );
    assert!(!client.contains("types::builder"), "{client}");
    assert!(!client.contains("fn body_map"), "{client}");
    assert!(!client.contains("pub fn builder() ->"), "{client}");
    let connect = client
        .split("pub struct ConnectAgents<'a> {")
        .nth(1)
        .expect("the ConnectAgents builder");
    assert!(
        connect.contains("body: Result<types::AgentActionRequest, String>"),
        "{connect}"
    );
    // `filter` is required, so the body has no default to start from.
    assert!(
        connect.contains(
            "body: Err(\"no body was given: call .body(..) before .send()\".to_string())"
        ),
        "{connect}"
    );

    assert!(mock.contains("pub struct ListAgentsWhen("), "{mock}");
    assert!(mock.contains("pub struct ConnectAgentsThen("), "{mock}");
}

#[test]
fn generate_is_deterministic() {
    let spec = spec_with_op(list_agents()).to_string();
    let first = generate(&spec).expect("generates");
    let second = generate(&spec).expect("generates");
    assert_eq!(first.files, second.files);
}
