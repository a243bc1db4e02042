//! Generates the two tables of operations:
//!
//! - `generated/src/operations.rs` (feature `operations`): every operation
//!   (method, path, parameters with their kinds, body, response) and a typed
//!   decoder per JSON operation. The `s1 api` command line is built on it, so
//!   every operation of the spec can be called from a shell without code per
//!   operation.
//! - `generated/src/answers.rs` (always built): how each operation answers
//!   (JSON, a file, nothing; cursor-paged or not), one line per operation,
//!   which is all the facade's transport needs to pick its limits.

use heck::ToPascalCase;
use openapiv3::{OpenAPI, Parameter, ReferenceOr, SchemaKind, StatusCode, Type};
use quote::{format_ident, quote};

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
/// `(operationId, path template, kind, paged)`, sorted by operationId.
pub fn answer_table(spec: &OpenAPI) -> proc_macro2::TokenStream {
    let rows = sorted_operations(spec)
        .into_iter()
        .map(|(id, path, _, op)| {
            let response = response_kind(op);
            let paged = crate::paging::is_paged(spec, op);
            quote!((#id, #path, #response, #paged))
        });
    quote! {
        /// Where every operation goes and how it answers, `(operationId,
        /// path template, answer, cursor-paged)`, sorted by operationId.
        pub(crate) static ANSWERS: &[(&str, &str, crate::ResponseKind, bool)] = &[#(#rows),*];
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
