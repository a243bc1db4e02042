//! Trims what progenitor generates but nobody needs: typify's struct
//! builders (`types::builder`).
//!
//! progenitor's builder interface always asks typify for a builder per
//! struct, and then types each operation's body as that builder
//! (`body: Result<types::builder::Foo, String>`) so `body_map` can edit it
//! field by field. Those builders are a quarter of the generated lines and a
//! quarter of the crate's compile time, and the facade uses none of them: a
//! body is a plain struct, built with a literal or `Default`. This pass drops
//! the `types::builder` module, the `Foo::builder()` functions and
//! `body_map`, and types the body as the struct itself.

use std::collections::{BTreeMap, BTreeSet};

use syn::{Expr, Fields, ImplItem, Item, Type, parse_quote};

/// The error an operation reports when its body type has no default and the
/// caller never gave one.
pub const MISSING_BODY: &str = "no body was given: call .body(..) before .send()";

/// The last path segment of a type (`super::Foo` -> `Foo`).
fn type_name(ty: &Type) -> Option<String> {
    match ty {
        Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
        _ => None,
    }
}

/// Whether `name` is a response body type (a response schema or one of the
/// inline types typify names after it).
pub fn is_response_type(name: &str, response_roots: &[String]) -> bool {
    response_roots
        .iter()
        .any(|root| name.starts_with(root.as_str()))
}

pub fn module_mut<'a>(items: &'a mut [Item], name: &str) -> Option<&'a mut Vec<Item>> {
    items.iter_mut().find_map(|item| match item {
        Item::Mod(m) if m.ident == name => m.content.as_mut().map(|(_, items)| items),
        _ => None,
    })
}

/// Whether `item` is `impl Foo { pub fn builder() -> builder::Foo }`.
fn is_builder_fn_impl(item: &Item) -> bool {
    let Item::Impl(i) = item else { return false };
    i.trait_.is_none()
        && i.items.len() == 1
        && matches!(&i.items[0], ImplItem::Fn(f) if f.sig.ident == "builder")
}

/// The types in `types` that implement `Default` (derived or by hand).
fn default_types(types: &[Item]) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for item in types {
        match item {
            Item::Struct(s)
                if s.attrs.iter().any(|a| {
                    a.path().is_ident("derive")
                        && a.meta.require_list().is_ok_and(|list| {
                            list.tokens
                                .to_string()
                                .split(',')
                                .any(|d| d.trim() == "Default")
                        })
                }) =>
            {
                names.insert(s.ident.to_string());
            }
            Item::Impl(i) => {
                let is_default = i.trait_.as_ref().is_some_and(|(path, _)| {
                    path.segments.last().is_some_and(|s| s.ident == "Default")
                });
                if let (true, Some(name)) = (is_default, type_name(&i.self_ty)) {
                    names.insert(name);
                }
            }
            _ => {}
        }
    }
    names
}

/// `Result<types::builder::Foo, String>` -> `Foo`.
fn builder_body_type(ty: &Type) -> Option<syn::Ident> {
    let Type::Path(p) = ty else { return None };
    let last = p.path.segments.last()?;
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    let Some(syn::GenericArgument::Type(Type::Path(inner))) = args.args.first() else {
        return None;
    };
    let segments: Vec<String> = inner
        .path
        .segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect();
    match segments.as_slice() {
        [types, builder, _] if types == "types" && builder == "builder" => {
            inner.path.segments.last().map(|s| s.ident.clone())
        }
        _ => None,
    }
}

/// Removes typify's struct builders; operation builders take their body as
/// the struct itself.
pub fn drop_struct_builders(file: &mut syn::File) {
    let mut defaults = BTreeSet::new();
    if let Some(types) = module_mut(&mut file.items, "types") {
        types.retain(|item| !matches!(item, Item::Mod(m) if m.ident == "builder"));
        types.retain(|item| !is_builder_fn_impl(item));
        defaults = default_types(types);
    }
    let Some(operations) = module_mut(&mut file.items, "builder") else {
        return;
    };
    // Operation builder -> its body type, retyped in place.
    let mut bodies = BTreeMap::new();
    for item in operations.iter_mut() {
        let Item::Struct(s) = item else { continue };
        let Fields::Named(fields) = &mut s.fields else {
            continue;
        };
        for field in fields.named.iter_mut() {
            if field.ident.as_ref().is_some_and(|i| i == "body")
                && let Some(body) = builder_body_type(&field.ty)
            {
                field.ty = parse_quote!(Result<types::#body, String>);
                bodies.insert(s.ident.to_string(), body.to_string());
            }
        }
    }
    for item in operations.iter_mut() {
        let Item::Impl(i) = item else { continue };
        let Some(body) = type_name(&i.self_ty).and_then(|name| bodies.get(&name)) else {
            continue;
        };
        i.items
            .retain(|item| !matches!(item, ImplItem::Fn(f) if f.sig.ident == "body_map"));
        if defaults.contains(body) {
            continue;
        }
        // `new()` starts from the body's default, which this type lacks.
        for item in i.items.iter_mut() {
            let ImplItem::Fn(f) = item else { continue };
            if f.sig.ident != "new" {
                continue;
            }
            let Some(syn::Stmt::Expr(Expr::Struct(init), None)) = f.block.stmts.last_mut() else {
                continue;
            };
            for field in init.fields.iter_mut() {
                if matches!(&field.member, syn::Member::Named(n) if n == "body") {
                    field.expr = parse_quote!(Err(#MISSING_BODY.to_string()));
                }
            }
        }
    }
}
