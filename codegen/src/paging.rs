//! Generates `Pageable` impls for every cursor-paged list operation, so the
//! facade paginates them all without per-operation code. Each impl is one
//! `impl_pageable!` line (the macro lives in the handwritten
//! `generated/src/operation.rs`).
//!
//! An operation is cursor-paged when it is a GET with `cursor` and `limit`
//! query parameters whose response schema has `pagination.nextCursor` and a
//! `data` array. The item type is read off the struct progenitor generated.

use heck::ToPascalCase;
use openapiv3::{OpenAPI, ReferenceOr, Schema, SchemaKind, Type};
use quote::{format_ident, quote};
use syn::{GenericArgument, Item, PathArguments};

fn component<'a>(spec: &'a OpenAPI, reference: &str) -> Option<(&'a str, &'a Schema)> {
    let name = reference.strip_prefix("#/components/schemas/")?;
    let (key, schema) = spec.components.as_ref()?.schemas.get_key_value(name)?;
    match schema {
        ReferenceOr::Item(s) => Some((key.as_str(), s)),
        ReferenceOr::Reference { .. } => None,
    }
}

fn resolve<'a>(spec: &'a OpenAPI, schema: &'a ReferenceOr<Box<Schema>>) -> Option<&'a Schema> {
    match schema {
        ReferenceOr::Item(s) => Some(s),
        ReferenceOr::Reference { reference } => component(spec, reference).map(|(_, s)| s),
    }
}

fn property<'a>(spec: &'a OpenAPI, schema: &'a Schema, name: &str) -> Option<&'a Schema> {
    match &schema.schema_kind {
        SchemaKind::Type(Type::Object(o)) => resolve(spec, o.properties.get(name)?),
        _ => None,
    }
}

/// True when `op` is cursor-paged (`cursor` and `limit` parameters, a
/// response with `pagination.nextCursor` and a `data` array).
pub fn is_paged(spec: &OpenAPI, op: &openapiv3::Operation) -> bool {
    paged_response(spec, op).is_some()
}

/// The response schema name of a cursor-paged operation.
fn paged_response<'a>(spec: &'a OpenAPI, op: &'a openapiv3::Operation) -> Option<&'a str> {
    let names: Vec<&str> = op
        .parameters
        .iter()
        .filter_map(|p| match p {
            ReferenceOr::Item(p) => Some(p.parameter_data_ref().name.as_str()),
            _ => None,
        })
        .collect();
    if !names.contains(&"cursor") || !names.contains(&"limit") {
        return None;
    }
    let success = op
        .responses
        .responses
        .iter()
        .find_map(|(code, r)| match (code, r) {
            (openapiv3::StatusCode::Code(200..=299), ReferenceOr::Item(r)) => Some(r),
            _ => None,
        })?;
    let content = success.content.get("application/json")?;
    let ReferenceOr::Reference { reference } = content.schema.as_ref()? else {
        return None;
    };
    let (name, schema) = component(spec, reference)?;
    let pagination = property(spec, schema, "pagination")?;
    property(spec, pagination, "nextCursor")?;
    match &property(spec, schema, "data")?.schema_kind {
        SchemaKind::Type(Type::Array(_)) => Some(name),
        _ => None,
    }
}

/// The `T` of a field typed `Option<Vec<T>>` or `Vec<T>`.
fn element_type(ty: &syn::Type) -> Option<syn::Type> {
    let syn::Type::Path(path) = ty else {
        return None;
    };
    let last = path.path.segments.last()?;
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    let GenericArgument::Type(inner) = args.args.first()? else {
        return None;
    };
    if last.ident == "Option" {
        element_type(inner)
    } else if last.ident == "Vec" {
        // `data` lists hold `Decoded<Item>` (see `lenient`): the item is `Item`.
        Some(decoded_item(inner).unwrap_or(inner).clone())
    } else {
        None
    }
}

/// `Decoded<Item>` -> `Item`.
fn decoded_item(ty: &syn::Type) -> Option<&syn::Type> {
    let syn::Type::Path(path) = ty else {
        return None;
    };
    let last = path.path.segments.last().filter(|s| s.ident == "Decoded")?;
    match &last.arguments {
        PathArguments::AngleBracketed(args) => match args.args.first()? {
            GenericArgument::Type(inner) => Some(inner),
            _ => None,
        },
        _ => None,
    }
}

fn data_item_type(client: &syn::File, struct_name: &str) -> Option<syn::Type> {
    let types = module_items(client, "types")?;
    let strukt = types.iter().find_map(|item| match item {
        Item::Struct(s) if s.ident == struct_name => Some(s),
        _ => None,
    })?;
    let field = strukt
        .fields
        .iter()
        .find(|f| f.ident.as_ref().is_some_and(|i| i == "data"))?;
    element_type(&field.ty)
}

/// `ty`, declared in `mod types`, as seen from a module that imports
/// `crate::*` (the files of `impl_operation!`/`impl_pageable!` lines): bare
/// names get `types::`; anything else (`::serde_json::Value`, `()`) is left
/// alone.
fn from_types(ty: &syn::Type) -> proc_macro2::TokenStream {
    match ty {
        syn::Type::Path(p)
            if p.qself.is_none()
                && p.path.leading_colon.is_none()
                && p.path.segments.len() == 1 =>
        {
            quote!(types::#ty)
        }
        _ => quote!(#ty),
    }
}

/// The items of `mod <name>` in the generated client.
pub fn module_items<'a>(client: &'a syn::File, name: &str) -> Option<&'a [Item]> {
    client.items.iter().find_map(|item| match item {
        Item::Mod(m) if m.ident == name => m.content.as_ref().map(|(_, items)| items.as_slice()),
        _ => None,
    })
}

/// The `Pageable` impls for `spec`, given the client progenitor generated.
pub fn pageable_impls(spec: &OpenAPI, client: &syn::File) -> proc_macro2::TokenStream {
    let mut impls = Vec::new();
    for (_, _, op) in spec.operations() {
        let Some(id) = op.operation_id.as_deref() else {
            continue;
        };
        let Some(response) = paged_response(spec, op) else {
            continue;
        };
        let Some(item) = data_item_type(client, &response.to_pascal_case()) else {
            continue;
        };
        // Types progenitor declared in `mod types` are named without a path.
        let item = from_types(&item);
        let builder = format_ident!("{}", id.to_pascal_case());
        impls.push(quote! {
            impl_pageable!(#builder, #item);
        });
    }
    quote! {
        use crate::*;
        #(#impls)*
    }
}
