//! Generates an `Operation` impl for every builder: its operationId and the
//! type its `send` returns, read off the code progenitor generated. Each impl
//! is one `impl_operation!` line (the macro lives in the handwritten
//! `generated/src/operation.rs`). The facade builds `.call()` (errors that
//! always name the operation) on it.

use heck::ToPascalCase;
use openapiv3::OpenAPI;
use quote::{format_ident, quote};
use syn::{GenericArgument, ImplItem, Item, PathArguments, ReturnType};

use crate::paging::module_items;

/// The `T` of `Result<ResponseValue<T>, _>`.
fn response_value_type(output: &ReturnType) -> Option<syn::Type> {
    let ReturnType::Type(_, ty) = output else {
        return None;
    };
    let mut current: &syn::Type = ty;
    for wrapper in ["Result", "ResponseValue"] {
        let syn::Type::Path(p) = current else {
            return None;
        };
        let last = p.path.segments.last()?;
        if last.ident != wrapper {
            return None;
        }
        let PathArguments::AngleBracketed(args) = &last.arguments else {
            return None;
        };
        let GenericArgument::Type(inner) = args.args.first()? else {
            return None;
        };
        current = inner;
    }
    Some(current.clone())
}

/// The output type of builder `name`'s `send`.
fn send_output(builders: &[Item], name: &str) -> Option<syn::Type> {
    builders.iter().find_map(|item| {
        let Item::Impl(block) = item else { return None };
        let syn::Type::Path(p) = block.self_ty.as_ref() else {
            return None;
        };
        if p.path.segments.last()?.ident != name || block.trait_.is_some() {
            return None;
        }
        block.items.iter().find_map(|i| match i {
            ImplItem::Fn(f) if f.sig.ident == "send" => response_value_type(&f.sig.output),
            _ => None,
        })
    })
}

/// The `Operation` impls for every operation of `spec`, one macro call each.
pub fn operation_impls(spec: &OpenAPI, client: &syn::File) -> proc_macro2::TokenStream {
    let Some(builders) = module_items(client, "builder") else {
        return quote! {};
    };
    let mut impls = Vec::new();
    for (_, _, op) in spec.operations() {
        let Some(id) = op.operation_id.as_deref() else {
            continue;
        };
        let name = id.to_pascal_case();
        let Some(output) = send_output(builders, &name) else {
            continue;
        };
        // Named as in the `builder` module (`types::X`, `ByteStream`),
        // which the file's `use crate::*` makes valid.
        let builder = format_ident!("{name}");
        impls.push(quote! {
            impl_operation!(#builder, #id, #output);
        });
    }
    quote! {
        use crate::*;
        #(#impls)*
    }
}
