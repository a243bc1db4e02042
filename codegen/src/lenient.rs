//! Makes the generated response types survive API drift (see the generated
//! crate's `lenient` module for what each mark does at run time):
//!
//! - every response struct gets `extra`, a flattened map that keeps the
//!   fields the spec does not name;
//! - optional scalar fields (`bool`, `i64`, `f64`, `String`) decode through
//!   `lenient::scalar`, optional lists through `lenient::list` or
//!   `lenient::scalar_list` (one value counts as a list of one);
//! - the `data` list of a response body becomes `Vec<Decoded<_>>`, decoded
//!   item by item through `lenient::items`.
//!
//! Request types are left alone: what the client sends stays strict.

use anyhow::{Result, bail};
use quote::quote;
use syn::{Field, Fields, GenericArgument, Item, ItemStruct, PathArguments, Type};

use crate::trim::{is_response_type, module_mut};

/// The name of the field that keeps unknown fields.
pub const EXTRA_FIELD: &str = "extra";

/// How a field decodes leniently.
enum Mark {
    Scalar,
    ScalarList,
    List,
    Items,
}

/// `Wrapper<Inner>` -> `Inner`, for the last path segment named `wrapper`.
fn unwrap<'a>(ty: &'a Type, wrapper: &str) -> Option<&'a Type> {
    let Type::Path(path) = ty else { return None };
    let last = path.path.segments.last()?;
    if last.ident != wrapper {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    match args.args.first()? {
        GenericArgument::Type(inner) => Some(inner),
        _ => None,
    }
}

fn is_scalar(ty: &Type) -> bool {
    let Type::Path(path) = ty else { return false };
    path.path.segments.last().is_some_and(|s| {
        s.arguments.is_empty()
            && ["bool", "i64", "f64", "String"].contains(&s.ident.to_string().as_str())
    })
}

/// The mark for a field of type `ty` (`data` of a body root gets `Items`).
fn mark_for(ty: &Type, is_data_of_root: bool) -> Option<Mark> {
    let inner = unwrap(ty, "Option")?;
    if is_scalar(inner) {
        return Some(Mark::Scalar);
    }
    let element = unwrap(inner, "Vec")?;
    Some(if is_data_of_root {
        Mark::Items
    } else if is_scalar(element) {
        Mark::ScalarList
    } else {
        Mark::List
    })
}

fn field_name(field: &Field) -> String {
    field
        .ident
        .as_ref()
        .map(ToString::to_string)
        .unwrap_or_default()
}

/// Marks one response struct; `is_root` for a response body schema.
fn mark_struct(strukt: &mut ItemStruct, is_root: bool) -> Result<()> {
    let Fields::Named(fields) = &mut strukt.fields else {
        return Ok(());
    };
    for field in fields.named.iter_mut() {
        let name = field_name(field);
        if name == EXTRA_FIELD {
            bail!(
                "{}: a spec field is named `{EXTRA_FIELD}`, the name that keeps unknown fields",
                strukt.ident
            );
        }
        let Some(mark) = mark_for(&field.ty, is_root && name == "data") else {
            continue;
        };
        let function = match mark {
            Mark::Scalar => "crate::lenient::scalar",
            Mark::ScalarList => "crate::lenient::scalar_list",
            Mark::List => "crate::lenient::list",
            Mark::Items => {
                let element = unwrap(&field.ty, "Option")
                    .and_then(|v| unwrap(v, "Vec"))
                    .cloned()
                    .expect("an Items field is Option<Vec<_>>");
                field.ty = syn::parse_quote!(
                    ::std::option::Option<::std::vec::Vec<crate::Decoded<#element>>>
                );
                "crate::lenient::items"
            }
        };
        field
            .attrs
            .push(syn::parse_quote!(#[serde(default, deserialize_with = #function)]));
    }
    let extra: syn::FieldsNamed = syn::parse2(quote!({
        /// Fields the console sent that the spec does not name, as sent.
        #[serde(flatten)]
        pub extra: ::serde_json::Map<::std::string::String, ::serde_json::Value>
    }))?;
    fields.named.extend(extra.named);
    Ok(())
}

/// Marks every response type in the client's `types` module.
pub fn tolerate_drift(file: &mut syn::File, response_roots: &[String]) -> Result<()> {
    let Some(types) = module_mut(&mut file.items, "types") else {
        bail!("the generated client has no `types` module");
    };
    for item in types.iter_mut() {
        if let Item::Struct(strukt) = item {
            let name = strukt.ident.to_string();
            if is_response_type(&name, response_roots) {
                let is_root = response_roots.contains(&name);
                mark_struct(strukt, is_root)?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marked(source: &str) -> String {
        let mut file: syn::File = syn::parse_str(source).unwrap();
        tolerate_drift(&mut file, &["PageResponse".to_string()]).unwrap();
        prettyplease::unparse(&file)
    }

    #[test]
    fn response_structs_are_marked_and_request_structs_left_alone() {
        let out = marked(
            "mod types {
                pub struct PageResponse {
                    pub data: ::std::option::Option<::std::vec::Vec<PageResponseDataItem>>,
                    pub total: ::std::option::Option<i64>,
                }
                pub struct PageResponseDataItem {
                    pub up: ::std::option::Option<bool>,
                    pub tags: ::std::option::Option<::std::vec::Vec<::std::string::String>>,
                    pub nics: ::std::option::Option<::std::vec::Vec<PageResponseDataItemNic>>,
                    pub nested: ::std::option::Option<PageResponseDataItemNested>,
                }
                pub struct Filter { pub up: ::std::option::Option<bool> }
            }",
        );
        let flat: String = out.split_whitespace().collect();
        for expected in [
            "deserialize_with=\"crate::lenient::items\")]pubdata:::std::option::Option<::std::vec::Vec<crate::Decoded<PageResponseDataItem>>",
            "deserialize_with=\"crate::lenient::scalar\")]pubtotal",
            "deserialize_with=\"crate::lenient::scalar\")]pubup",
            "deserialize_with=\"crate::lenient::scalar_list\")]pubtags",
            "deserialize_with=\"crate::lenient::list\")]pubnics",
            "pubnested:::std::option::Option<PageResponseDataItemNested>,///",
        ] {
            assert!(flat.contains(expected), "{expected} not in {out}");
        }
        assert_eq!(
            flat.matches("#[serde(flatten)]pubextra").count(),
            2,
            "{out}"
        );
        assert!(
            flat.contains("pubstructFilter{pubup:::std::option::Option<bool>,}"),
            "{out}"
        );
    }

    #[test]
    fn a_spec_field_named_extra_is_refused() {
        let mut file: syn::File = syn::parse_str(
            "mod types { pub struct PageResponse { pub extra: ::std::option::Option<i64> } }",
        )
        .unwrap();
        let err = tolerate_drift(&mut file, &["PageResponse".to_string()]).unwrap_err();
        assert!(err.to_string().contains("PageResponse"), "{err}");
    }
}
