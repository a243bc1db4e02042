//! Generates the two tables of operations:
//!
//! - `generated/src/operations.rs` (feature `operations`): every operation
//!   (method, path, parameters with their kinds, body, response) and a typed
//!   decoder per JSON operation. The `s1 api` command line is built on it, so
//!   every operation of the spec can be called from a shell without code per
//!   operation.
//! - `generated/src/answers.rs` (always built): how each operation answers
//!   (JSON, a file, nothing; cursor-paged or not) and the limits the API
//!   declares on its request values (`x-constraints`), which is all the
//!   facade's transport needs to pick its limits and refuse a request
//!   before sending it.

use heck::ToPascalCase;
use openapiv3::{OpenAPI, Parameter, ReferenceOr, SchemaKind, StatusCode, Type};
use quote::{format_ident, quote};
use serde_json::Value;

/// The kind token of a parameter schema.
fn kind(schema: &ReferenceOr<openapiv3::Schema>) -> proc_macro2::TokenStream {
    let schema = match schema {
        ReferenceOr::Reference { reference } if reference.ends_with("/CsvList") => {
            return quote!(crate::ParamKind::List);
        }
        ReferenceOr::Reference { .. } => return quote!(crate::ParamKind::Text),
        ReferenceOr::Item(s) => s,
    };
    match &schema.schema_kind {
        SchemaKind::Type(Type::String(s)) if !s.enumeration.is_empty() => {
            let values: Vec<&str> = s.enumeration.iter().flatten().map(String::as_str).collect();
            quote!(crate::ParamKind::OneOf(&[#(#values),*]))
        }
        SchemaKind::Type(Type::String(s))
            if matches!(
                &s.format,
                openapiv3::VariantOrUnknownOrEmpty::Item(openapiv3::StringFormat::DateTime)
            ) =>
        {
            quote!(crate::ParamKind::DateTime)
        }
        SchemaKind::Type(Type::Integer(_)) => quote!(crate::ParamKind::Integer),
        SchemaKind::Type(Type::Number(_)) => quote!(crate::ParamKind::Number),
        SchemaKind::Type(Type::Boolean(_)) => quote!(crate::ParamKind::Boolean),
        _ => quote!(crate::ParamKind::Text),
    }
}

fn param(p: &Parameter) -> Option<proc_macro2::TokenStream> {
    let (data, location) = match p {
        Parameter::Query { parameter_data, .. } => {
            (parameter_data, quote!(crate::ParamLocation::Query))
        }
        Parameter::Path { parameter_data, .. } => {
            (parameter_data, quote!(crate::ParamLocation::Path))
        }
        Parameter::Header { parameter_data, .. } => {
            (parameter_data, quote!(crate::ParamLocation::Header))
        }
        _ => return None,
    };
    let openapiv3::ParameterSchemaOrContent::Schema(schema) = &data.format else {
        return None;
    };
    let name = data.name.as_str();
    let required = data.required;
    let kind = kind(schema);
    Some(quote! {
        crate::ParamSpec { name: #name, location: #location, kind: #kind, required: #required }
    })
}

/// The content type of the success response, when it has a body.
fn success_content(op: &openapiv3::Operation) -> Option<String> {
    op.responses
        .responses
        .iter()
        .find_map(|(code, r)| match (code, r) {
            (StatusCode::Code(200..=299), ReferenceOr::Item(r)) => r.content.keys().next().cloned(),
            _ => None,
        })
}

/// The operations of `spec` with an operationId, sorted by it.
fn sorted_operations(spec: &OpenAPI) -> Vec<(&str, &str, &str, &openapiv3::Operation)> {
    let mut ops: Vec<_> = spec
        .operations()
        .filter_map(|(path, method, op)| Some((op.operation_id.as_deref()?, path, method, op)))
        .collect();
    ops.sort_by_key(|(id, ..)| *id);
    ops
}

/// The `ResponseKind` token of `op`'s success response.
fn response_kind(op: &openapiv3::Operation) -> proc_macro2::TokenStream {
    match success_content(op).as_deref() {
        Some("application/json") => quote!(crate::ResponseKind::Json),
        Some(other) => quote!(crate::ResponseKind::Binary(#other)),
        None => quote!(crate::ResponseKind::Empty),
    }
}

/// Where every operation of `spec` goes and how it answers:
/// `(operationId, path template, kind, paged, request limits)`, sorted by
/// operationId.
pub fn answer_table(spec: &OpenAPI) -> proc_macro2::TokenStream {
    let json = serde_json::to_value(spec).expect("an OpenAPI document serializes");
    let rows = sorted_operations(spec)
        .into_iter()
        .map(|(id, path, method, op)| {
            let response = response_kind(op);
            let paged = crate::paging::is_paged(spec, op);
            let limits = request_constraints(&json, &json["paths"][path][method])
                .into_iter()
                .flat_map(|c| c.tokens());
            quote!((#id, #path, #response, #paged, &[#(#limits),*]))
        });
    quote! {
        use crate::Constraint as C;
        use crate::Place::{Body, Path, Query};

        /// No limit: the base every row's limits are set on.
        const N: crate::Limits = crate::Limits::NONE;

        /// Where every operation goes and how it answers, `(operationId,
        /// path template, answer, cursor-paged, limits on its request
        /// values)`, sorted by operationId.
        pub(crate) static ANSWERS: &[(&str, &str, crate::ResponseKind, bool, &[crate::Constraint])] = &[#(#rows),*];
    }
}

/// One limited request value of an operation, read from `x-constraints`.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestConstraint {
    /// `query`, `path` or `body`.
    pub place: &'static str,
    /// The parameter's name, or the value's path in the body
    /// (`filter.computerName__contains`, `data[].name`).
    pub name: String,
    /// The `x-constraints` object.
    pub limits: Value,
}

impl RequestConstraint {
    /// `Constraint::new(..)` rows: this value's own and item limits, then,
    /// for a list of lists, a row named `name[]` for its items' own and
    /// item limits, and so on.
    fn tokens(&self) -> Vec<proc_macro2::TokenStream> {
        let place = match self.place {
            "query" => quote!(Query),
            "path" => quote!(Path),
            _ => quote!(Body),
        };
        let mut rows = Vec::new();
        let mut name = self.name.clone();
        let mut limits = &self.limits;
        loop {
            let own = limits_tokens(limits);
            let items = limits.get("items");
            let item_limits = items.map_or(quote!(N), limits_tokens);
            let text = name.as_str();
            rows.push(quote!(C::new(#place, #text, #own, #item_limits)));
            match items {
                Some(items) if items.get("items").is_some() => {
                    name.push_str("[]");
                    limits = items;
                }
                _ => return rows,
            }
        }
    }
}

/// A `Limits` expression setting only the limits `limits` sets (not its
/// items').
fn limits_tokens(limits: &Value) -> proc_macro2::TokenStream {
    let mut setters = Vec::new();
    for (key, setter) in [
        ("maxItems", "max_items"),
        ("minItems", "min_items"),
        ("minLength", "min_length"),
        ("maxLength", "max_length"),
    ] {
        if let Some(n) = limits.get(key).and_then(Value::as_u64) {
            let setter = format_ident!("{setter}");
            let n = proc_macro2::Literal::u64_unsuffixed(n);
            setters.push(quote!(.#setter(#n)));
        }
    }
    if let Some(pattern) = limits.get("pattern").and_then(Value::as_str) {
        setters.push(quote!(.pattern(#pattern)));
    }
    for key in ["minimum", "maximum"] {
        if let Some(n) = limits.get(key).and_then(Value::as_f64) {
            let setter = format_ident!("{key}");
            let n = proc_macro2::Literal::f64_unsuffixed(n);
            setters.push(quote!(.#setter(#n)));
        }
    }
    quote!(N #(#setters)*)
}

/// The limits on `op`'s request values: its query and path parameters'
/// `x-constraints` in declaration order, then every `x-constraints` of its
/// JSON body's schema, walked through `$ref`s into the components (each
/// component once per path, so recursive schemas end).
pub fn request_constraints(spec: &Value, op: &Value) -> Vec<RequestConstraint> {
    let mut out = Vec::new();
    for param in op["parameters"].as_array().into_iter().flatten() {
        let place = match param["in"].as_str() {
            Some("query") => "query",
            Some("path") => "path",
            _ => continue,
        };
        if let (Some(name), Some(limits)) = (
            param["name"].as_str(),
            param.get(crate::schema::CONSTRAINTS_EXTENSION),
        ) {
            out.push(RequestConstraint {
                place,
                name: name.to_string(),
                limits: limits.clone(),
            });
        }
    }
    let body = &op["requestBody"]["content"]["application/json"]["schema"];
    body_constraints(spec, body, "", &mut Vec::new(), &mut out);
    out
}

fn body_constraints(
    spec: &Value,
    schema: &Value,
    at: &str,
    seen: &mut Vec<String>,
    out: &mut Vec<RequestConstraint>,
) {
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference
            .rsplit('/')
            .next()
            .unwrap_or(reference)
            .to_string();
        if seen.contains(&name) {
            return;
        }
        seen.push(name.clone());
        let target = &spec["components"]["schemas"][name.as_str()];
        body_constraints(spec, target, at, seen, out);
        seen.pop();
        return;
    }
    if !at.is_empty()
        && let Some(limits) = schema.get(crate::schema::CONSTRAINTS_EXTENSION)
    {
        out.push(RequestConstraint {
            place: "body",
            name: at.to_string(),
            limits: limits.clone(),
        });
    }
    for (name, property) in schema["properties"].as_object().into_iter().flatten() {
        let below = if at.is_empty() {
            name.clone()
        } else {
            format!("{at}.{name}")
        };
        body_constraints(spec, property, &below, seen, out);
    }
    if schema.get("items").is_some() {
        body_constraints(spec, &schema["items"], &format!("{at}[]"), seen, out);
    }
    for key in ["allOf", "anyOf", "oneOf"] {
        for part in schema[key].as_array().into_iter().flatten() {
            body_constraints(spec, part, at, seen, out);
        }
    }
}

/// The table and the typed decoder for every operation of `spec`.
pub fn operation_table(spec: &OpenAPI) -> proc_macro2::TokenStream {
    let mut rows = Vec::new();
    let mut decoders = Vec::new();
    for (id, path, method, op) in sorted_operations(spec) {
        let method_upper = method.to_ascii_uppercase();
        let tag = op.tags.first().map(String::as_str).unwrap_or("");
        let summary = op.summary.as_deref().unwrap_or("");
        let params: Vec<_> = op
            .parameters
            .iter()
            .filter_map(|p| match p {
                ReferenceOr::Item(p) => param(p),
                ReferenceOr::Reference { .. } => None,
            })
            .collect();
        let body = match &op.request_body {
            Some(ReferenceOr::Item(b)) if b.required => quote!(crate::BodyUse::Required),
            Some(_) => quote!(crate::BodyUse::Optional),
            None => quote!(crate::BodyUse::None),
        };
        let response = response_kind(op);
        let paged = crate::paging::is_paged(spec, op);
        let absent_2026 = crate::generate::has_mark(op, crate::index2026::ABSENT_EXTENSION);
        rows.push(quote! {
            crate::OperationSpec {
                id: #id,
                method: #method_upper,
                path: #path,
                tag: #tag,
                summary: #summary,
                params: &[#(#params),*],
                body: #body,
                response: #response,
                paged: #paged,
                absent_2026: #absent_2026,
            }
        });
        if success_content(op).as_deref() == Some("application/json") {
            let builder = format_ident!("{}", id.to_pascal_case());
            decoders.push(quote! {
                #id => Some(typed::<<crate::builder::#builder<'static> as crate::Operation>::Output>(bytes)),
            });
        }
    }
    quote! {
        /// Every operation of the spec, sorted by operationId.
        pub static OPERATIONS: &[crate::OperationSpec] = &[#(#rows),*];

        /// Decodes a success body of `operation_id` through its typed
        /// response and back to JSON: what the typed client would keep.
        /// `None` for operations without a JSON body.
        pub fn decode_typed(
            operation_id: &str,
            bytes: &[u8],
        ) -> Option<Result<serde_json::Value, serde_json::Error>> {
            fn typed<T: serde::de::DeserializeOwned + serde::Serialize>(
                bytes: &[u8],
            ) -> Result<serde_json::Value, serde_json::Error> {
                serde_json::to_value(serde_json::from_slice::<T>(bytes)?)
            }
            match operation_id {
                #(#decoders)*
                _ => None,
            }
        }
    }
}
