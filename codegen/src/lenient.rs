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
//! Response structs do not derive `Deserialize`: this pass writes a small
//! `object::Object` impl for each (one `match` on the JSON field names) and
//! a `Deserialize` that hands it to `object::object`. serde's `Serialize`
//! derive stays, `extra` flattened back in place.
//!
//! Request types are left alone: what the client sends stays strict.

use anyhow::{Result, bail};
use proc_macro2::TokenStream;
use quote::quote;
use syn::punctuated::Punctuated;
use syn::{Field, Fields, GenericArgument, Item, ItemStruct, LitStr, PathArguments, Token, Type};

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

/// The name `field` has in JSON (its `#[serde(rename = "..")]`, else its
/// Rust name), or `None` when it carries a serde attribute, other than
/// `rename` and `skip_serializing_if`, that the object decoder does not
/// honour.
fn json_name(field: &Field) -> Option<String> {
    let mut renamed = None;
    for attr in field.attrs.iter().filter(|a| a.path().is_ident("serde")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("rename") {
                renamed = Some(meta.value()?.parse::<LitStr>()?.value());
            } else if meta.path.is_ident("skip_serializing_if") {
                meta.value()?.parse::<LitStr>()?;
            } else {
                return Err(meta.error("not honoured by the object decoder"));
            }
            Ok(())
        })
        .ok()?;
    }
    Some(renamed.unwrap_or_else(|| field_name(field).trim_start_matches("r#").to_string()))
}

fn derives(attr: &syn::Attribute) -> Option<Punctuated<syn::Path, Token![,]>> {
    if !attr.path().is_ident("derive") {
        return None;
    }
    attr.parse_args_with(Punctuated::parse_terminated).ok()
}

fn is_named(path: &syn::Path, name: &str) -> bool {
    path.segments.last().is_some_and(|s| s.ident == name)
}

/// Whether the struct derives `Default` (the object decoder starts from it).
fn derives_default(strukt: &ItemStruct) -> bool {
    strukt
        .attrs
        .iter()
        .filter_map(derives)
        .any(|list| list.iter().any(|d| is_named(d, "Default")))
}

/// Removes `Deserialize` from the struct's derives.
fn drop_derived_deserialize(strukt: &mut ItemStruct) {
    for attr in strukt.attrs.iter_mut() {
        if let Some(list) = derives(attr) {
            let kept = list.iter().filter(|d| !is_named(d, "Deserialize"));
            *attr = syn::parse_quote!(#[derive(#(#kept),*)]);
        }
    }
}

/// One `match` arm per field of the struct, reading the field's value the
/// way its mark says; `None` when some field does not suit the object
/// decoder (required, or with a serde attribute it does not honour).
fn object_arms(strukt: &ItemStruct, marks: &[Option<Mark>]) -> Option<Vec<TokenStream>> {
    let Fields::Named(fields) = &strukt.fields else {
        return None;
    };
    let mut arms = Vec::new();
    for (field, mark) in fields.named.iter().zip(marks) {
        unwrap(&field.ty, "Option")?;
        let key = json_name(field)?;
        let ident = field.ident.as_ref()?;
        let read = match mark {
            None => quote!(map.next_value()?),
            Some(Mark::Scalar) => quote!(map.next_value_seed(crate::object::ScalarField::new())?),
            Some(Mark::ScalarList) => {
                quote!(map.next_value_seed(crate::object::ScalarListField::new())?)
            }
            Some(Mark::List) => quote!(map.next_value_seed(crate::object::ListField::new())?),
            Some(Mark::Items) => quote!(map.next_value_seed(crate::object::ItemsField::new())?),
        };
        arms.push(quote!(#key => { self.#ident = #read; }));
    }
    Some(arms)
}

/// The `Deserialize` and `object::Object` impls of the struct `ty`.
fn object_impls(ty: &syn::Ident, arms: &[TokenStream]) -> Vec<Item> {
    let type_name = ty.to_string();
    vec![
        syn::parse_quote! {
            impl<'de> ::serde::Deserialize<'de> for #ty {
                fn deserialize<D: ::serde::Deserializer<'de>>(
                    deserializer: D,
                ) -> ::std::result::Result<Self, D::Error> {
                    crate::object::object(deserializer)
                }
            }
        },
        syn::parse_quote! {
            impl crate::object::Object for #ty {
                const NAME: &'static str = #type_name;
                fn field<'de, A: ::serde::de::MapAccess<'de>>(
                    &mut self,
                    key: &str,
                    map: &mut A,
                ) -> ::std::result::Result<bool, A::Error> {
                    match key {
                        #(#arms)*
                        _ => return Ok(false),
                    }
                    Ok(true)
                }
                fn extra(&mut self) -> &mut ::serde_json::Map<::std::string::String, ::serde_json::Value> {
                    &mut self.extra
                }
            }
        },
    ]
}

/// The lenient reader serde's derive calls for a field with this mark.
fn derive_attr(mark: &Mark) -> syn::Attribute {
    let function = match mark {
        Mark::Scalar => "crate::lenient::scalar",
        Mark::ScalarList => "crate::lenient::scalar_list",
        Mark::List => "crate::lenient::list",
        Mark::Items => "crate::lenient::items",
    };
    syn::parse_quote!(#[serde(default, deserialize_with = #function)])
}

/// Marks one response struct (`is_root` for a response body schema) and
/// returns the impls that decode it.
///
/// Every response struct codegen produces (all fields optional, `Default`
/// derived) gets a written decoder: an `object::Object` impl, one `match`
/// on the JSON field names, and a `Deserialize` that calls
/// `object::object`. serde's derive would write a visitor, a field enum and
/// a wrapper type per lenient field for each of the ~430 response structs,
/// a third of the generated crate's compile time. A struct that does not
/// suit the written decoder (a required field, an unusual serde attribute)
/// keeps serde's derive, its fields marked with `deserialize_with`.
fn mark_struct(strukt: &mut ItemStruct, is_root: bool) -> Result<Vec<Item>> {
    let Fields::Named(fields) = &mut strukt.fields else {
        return Ok(Vec::new());
    };
    let mut marks = Vec::new();
    for field in fields.named.iter_mut() {
        let name = field_name(field);
        if name == EXTRA_FIELD {
            bail!(
                "{}: a spec field is named `{EXTRA_FIELD}`, the name that keeps unknown fields",
                strukt.ident
            );
        }
        let mark = mark_for(&field.ty, is_root && name == "data");
        if let Some(Mark::Items) = mark {
            let element = unwrap(&field.ty, "Option")
                .and_then(|v| unwrap(v, "Vec"))
                .cloned()
                .expect("an Items field is Option<Vec<_>>");
            field.ty = syn::parse_quote!(
                ::std::option::Option<::std::vec::Vec<crate::Decoded<#element>>>
            );
        }
        marks.push(mark);
    }
    let arms = object_arms(strukt, &marks).filter(|_| derives_default(strukt));
    let Fields::Named(fields) = &mut strukt.fields else {
        unreachable!("named fields, matched above");
    };
    if arms.is_none() {
        for (field, mark) in fields.named.iter_mut().zip(&marks) {
            if let Some(mark) = mark {
                field.attrs.push(derive_attr(mark));
            }
        }
    }
    let extra: syn::FieldsNamed = syn::parse2(quote!({
        /// Fields the console sent that the spec does not name, as sent.
        #[serde(flatten)]
        pub extra: ::serde_json::Map<::std::string::String, ::serde_json::Value>
    }))?;
    fields.named.extend(extra.named);
    let Some(arms) = arms else {
        return Ok(Vec::new());
    };
    drop_derived_deserialize(strukt);
    Ok(object_impls(&strukt.ident, &arms))
}

/// Marks every response type in the client's `types` module and writes
/// its decoder.
pub fn tolerate_drift(file: &mut syn::File, response_roots: &[String]) -> Result<()> {
    let Some(types) = module_mut(&mut file.items, "types") else {
        bail!("the generated client has no `types` module");
    };
    let mut marked = Vec::with_capacity(types.len());
    for mut item in std::mem::take(types) {
        let mut impls = Vec::new();
        if let Item::Struct(strukt) = &mut item {
            let name = strukt.ident.to_string();
            if is_response_type(&name, response_roots) {
                let is_root = response_roots.contains(&name);
                impls = mark_struct(strukt, is_root)?;
            }
        }
        marked.push(item);
        marked.extend(impls);
    }
    *types = marked;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const DERIVES: &str =
        "#[derive(::serde::Deserialize, ::serde::Serialize, Clone, Debug, Default)]";

    fn marked(source: &str) -> Result<String> {
        let mut file: syn::File = syn::parse_str(&source.replace("DERIVES", DERIVES)).unwrap();
        tolerate_drift(&mut file, &["PageResponse".to_string()])?;
        Ok(prettyplease::unparse(&file))
    }

    fn flat(text: &str) -> String {
        text.split_whitespace().collect()
    }

    #[test]
    fn response_structs_get_written_decoders_and_request_structs_are_left_alone() {
        let out = marked(
            "mod types {
                DERIVES
                pub struct PageResponse {
                    pub data: ::std::option::Option<::std::vec::Vec<PageResponseDataItem>>,
                    pub total: ::std::option::Option<i64>,
                }
                DERIVES
                pub struct PageResponseDataItem {
                    pub up: ::std::option::Option<bool>,
                    pub tags: ::std::option::Option<::std::vec::Vec<::std::string::String>>,
                    pub nics: ::std::option::Option<::std::vec::Vec<PageResponseDataItemNic>>,
                    #[serde(rename = \"nestedThing\", skip_serializing_if = \"::std::option::Option::is_none\")]
                    pub nested: ::std::option::Option<PageResponseDataItemNested>,
                }
                DERIVES
                pub struct Filter { pub up: ::std::option::Option<bool> }
            }",
        )
        .unwrap();
        let flat = flat(&out);
        for expected in [
            "pubdata:::std::option::Option<::std::vec::Vec<crate::Decoded<PageResponseDataItem>>,>",
            "\"data\"=>{self.data=map.next_value_seed(crate::object::ItemsField::new())?;}",
            "\"total\"=>{self.total=map.next_value_seed(crate::object::ScalarField::new())?;}",
            "\"up\"=>{self.up=map.next_value_seed(crate::object::ScalarField::new())?;}",
            "\"tags\"=>{self.tags=map.next_value_seed(crate::object::ScalarListField::new())?;}",
            "\"nics\"=>{self.nics=map.next_value_seed(crate::object::ListField::new())?;}",
            "\"nestedThing\"=>{self.nested=map.next_value()?;}",
            "#[derive(::serde::Serialize,Clone,Debug,Default)]pubstructPageResponse{",
            "impl<'de>::serde::Deserialize<'de>forPageResponse{",
            "implcrate::object::ObjectforPageResponseDataItem{constNAME:&'staticstr=\"PageResponseDataItem\";",
            "#[derive(::serde::Deserialize,::serde::Serialize,Clone,Debug,Default)]pubstructFilter{pubup:::std::option::Option<bool>,}",
        ] {
            assert!(flat.contains(expected), "{expected} not in {out}");
        }
        assert_eq!(
            flat.matches("#[serde(flatten)]pubextra").count(),
            2,
            "{out}"
        );
        assert_eq!(
            flat.matches("crate::object::ObjectforFilter").count(),
            0,
            "{out}"
        );
        assert!(!flat.contains("deserialize_with"), "{out}");
    }

    #[test]
    fn a_spec_field_named_extra_is_refused() {
        let err = marked(
            "mod types { DERIVES pub struct PageResponse { pub extra: ::std::option::Option<i64> } }",
        )
        .unwrap_err();
        assert!(err.to_string().contains("PageResponse"), "{err}");
    }

    #[test]
    fn a_struct_the_written_decoder_cannot_honour_keeps_serdes_derive_with_marks() {
        for source in [
            "mod types { DERIVES pub struct PageResponse {
                #[serde(alias = \"t\")] pub total: ::std::option::Option<i64>,
                pub up: ::std::option::Option<bool> } }",
            "mod types { DERIVES pub struct PageResponse {
                pub total: i64, pub up: ::std::option::Option<bool> } }",
            "mod types { #[derive(::serde::Deserialize, ::serde::Serialize)] pub struct PageResponse {
                pub up: ::std::option::Option<bool> } }",
        ] {
            let out = marked(source).unwrap();
            let flat = flat(&out);
            assert!(flat.contains("::serde::Deserialize,::serde::Serialize"), "{out}");
            assert!(
                flat.contains("#[serde(default,deserialize_with=\"crate::lenient::scalar\")]pubup"),
                "{out}"
            );
            assert!(flat.contains("#[serde(flatten)]pubextra"), "{out}");
            assert!(!flat.contains("crate::object::Object"), "{out}");
        }
    }
}
