//! Trims what progenitor generates but nobody needs: builder types for
//! response bodies. typify emits a builder for every struct; the client's
//! builders only use the request ones, and nobody builds a response. This
//! removes about half of the generated code.

use syn::{Item, Type};

/// The last path segment of a type (`super::Foo` -> `Foo`).
fn type_name(ty: &Type) -> Option<String> {
    match ty {
        Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
        _ => None,
    }
}

/// The type an item in a builder module is about.
fn subject(item: &Item) -> Option<String> {
    match item {
        Item::Struct(s) => Some(s.ident.to_string()),
        Item::Impl(i) => type_name(&i.self_ty),
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

/// Removes the builders of response types from `mod types`.
pub fn strip_response_builders(file: &mut syn::File, response_roots: &[String]) {
    let Some(types) = module_mut(&mut file.items, "types") else {
        return;
    };
    if let Some(builders) = module_mut(types, "builder") {
        builders.retain(|item| {
            !subject(item).is_some_and(|name| is_response_type(&name, response_roots))
        });
    }
    // `impl Foo { pub fn builder() -> builder::Foo }` for the removed builders.
    types.retain(|item| match item {
        Item::Impl(i) if i.trait_.is_none() => {
            let only_builder_fn = i.items.len() == 1
                && matches!(&i.items[0], syn::ImplItem::Fn(f) if f.sig.ident == "builder");
            !(only_builder_fn
                && type_name(&i.self_ty).is_some_and(|n| is_response_type(&n, response_roots)))
        }
        _ => true,
    });
}
