//! Rejects, before progenitor runs, every construct it cannot take, naming
//! the operation (progenitor itself panics without saying which one).

use std::collections::BTreeSet;

use openapiv3::{OpenAPI, Operation, ReferenceOr, StatusCode};

/// Parameter names that progenitor's builders already use as method names.
const RESERVED_PARAMETER_NAMES: &[&str] = &["new", "send", "body", "body_map", "client"];

/// Every problem found, one line each: `operation <id>: <problem>`.
pub fn validate(spec: &OpenAPI) -> Vec<String> {
    let mut problems = Vec::new();
    if !spec.openapi.starts_with("3.0.") {
        problems.push(format!(
            "the spec is OpenAPI {}, progenitor reads 3.0.x only",
            spec.openapi
        ));
    }
    let mut ids = BTreeSet::new();
    for (path, item) in &spec.paths.paths {
        let ReferenceOr::Item(item) = item else {
            problems.push(format!(
                "path {path}: path item references are not supported"
            ));
            continue;
        };
        for (method, op) in item.iter() {
            let id = match &op.operation_id {
                Some(id) => id.clone(),
                None => {
                    problems.push(format!("{} {path}: no operationId", method.to_uppercase()));
                    continue;
                }
            };
            if !ids.insert(id.clone()) {
                problems.push(format!("operation {id}: operationId used twice"));
            }
            for problem in operation_problems(op) {
                problems.push(format!("operation {id}: {problem}"));
            }
        }
    }
    problems
}

fn operation_problems(op: &Operation) -> Vec<String> {
    let mut problems = Vec::new();
    let id = op.operation_id.as_deref().unwrap_or_default();
    if id.is_empty() {
        problems.push("operationId is empty".to_string());
    }
    if !id
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        problems.push("operationId is not snake_case".to_string());
    }
    if op.tags.len() != 1 {
        problems.push(format!(
            "has {} tags; exactly one is required",
            op.tags.len()
        ));
    }
    for param in &op.parameters {
        if let ReferenceOr::Item(param) = param {
            let name = &param.parameter_data_ref().name;
            if RESERVED_PARAMETER_NAMES.contains(&name.as_str()) {
                problems.push(format!(
                    "parameter `{name}` would clash with a method of the generated builder; drop it in curation [drop_parameters]"
                ));
            }
        }
    }
    if let Some(ReferenceOr::Item(body)) = &op.request_body {
        if body.content.len() > 1 {
            problems.push(format!(
                "request body has {} media types; progenitor takes one",
                body.content.len()
            ));
        }
        if body.content.keys().any(|k| k.starts_with("multipart/")) {
            problems.push(
                "multipart request bodies are not supported; hand-write it in the facade".into(),
            );
        }
    }

    let mut success_bodies = BTreeSet::new();
    let mut error_bodies = BTreeSet::new();
    let responses = op
        .responses
        .responses
        .iter()
        .map(|(code, r)| (Some(code), r))
        .chain(op.responses.default.iter().map(|r| (None, r)));
    for (code, response) in responses {
        let label = code
            .map(ToString::to_string)
            .unwrap_or_else(|| "default".into());
        let ReferenceOr::Item(response) = response else {
            problems.push(format!("response {label} is a reference; inline it"));
            continue;
        };
        if response.content.len() > 1 {
            problems.push(format!(
                "response {label} has {} media types; progenitor takes one",
                response.content.len()
            ));
        }
        let body = response
            .content
            .iter()
            .next()
            .map(|(media, content)| {
                if media.contains("json") && content.schema.is_none() {
                    problems.push(format!("response {label} is JSON without a schema"));
                }
                format!(
                    "{media} {}",
                    serde_json::to_string(&content.schema).unwrap_or_default()
                )
            })
            .unwrap_or_default();
        let is_success = matches!(
            code,
            Some(StatusCode::Code(200..=299)) | Some(StatusCode::Range(2))
        );
        if is_success {
            success_bodies.insert(body);
        } else {
            error_bodies.insert(body);
        }
    }
    if success_bodies.len() > 1 {
        problems.push(format!(
            "has {} different success bodies; progenitor takes one",
            success_bodies.len()
        ));
    }
    if error_bodies.len() > 1 {
        problems.push(format!(
            "has {} different error bodies; progenitor takes one",
            error_bodies.len()
        ));
    }
    problems
}
