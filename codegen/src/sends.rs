//! Moves the part every operation's `send` shares into one function.
//!
//! progenitor writes each builder's `send` as an `async fn` that builds the
//! request, runs it through the client's hooks and matches the status. The
//! last two steps are the same for every operation but for what a success
//! carries (a JSON document, a byte stream, nothing), yet each copy is a
//! state machine of its own for rustc to type, borrow-check and prove
//! `Send`: a fifth of the generated crate's compile time. This pass splits
//! each `send` into
//!
//! - `into_request(self)`, the request-building statements as generated,
//!   ending in `Ok(request)`, and
//! - a plain `send(self)` that hands that request to
//!   `crate::respond::{json, stream, empty}` (handwritten, in
//!   `generated/src/respond.rs`) and returns its future, declared `Send`.
//!
//! `.send().await` behaves as before. A `send` whose ending is none of the
//! three known shapes stops generation, naming the builder, rather than
//! being rewritten on a guess.

use anyhow::{Result, bail};
use quote::ToTokens;
use syn::{Expr, ImplItem, ImplItemFn, Item, Lit, Pat, ReturnType, Stmt, parse_quote};

use crate::trim::module_mut;

/// The name of the request-building half.
const INTO_REQUEST: &str = "into_request";

/// How an operation's success answers, with the shared function that reads it.
#[derive(Clone, Copy)]
enum Answer {
    Json,
    Stream,
    Empty,
}

impl Answer {
    fn function(self) -> syn::Ident {
        let name = match self {
            Answer::Json => "json",
            Answer::Stream => "stream",
            Answer::Empty => "empty",
        };
        syn::Ident::new(name, proc_macro2::Span::call_site())
    }

    /// What progenitor writes after `let info = ...;` for this answer.
    fn generated_tail(self) -> Vec<Stmt> {
        let success: syn::Arm = match self {
            Answer::Json => {
                parse_quote!(200u16 => { ResponseValue::from_response(response).await })
            }
            Answer::Stream => parse_quote!(200u16 => { Ok(ResponseValue::stream(response)) }),
            Answer::Empty => parse_quote!(204u16 => { Ok(ResponseValue::empty(response)) }),
        };
        let block: syn::Block = parse_quote!({
            client.pre(&mut request, &info).await?;
            let result = client.exec(request, &info).await;
            client.post(&result, &info).await?;
            let response = result?;
            match response.status().as_u16() {
                #success
                400u16..=499u16 => {
                    Err(Error::ErrorResponse(ResponseValue::from_response(response).await?))
                }
                500u16..=599u16 => {
                    Err(Error::ErrorResponse(ResponseValue::from_response(response).await?))
                }
                _ => Err(Error::UnexpectedResponse(response)),
            }
        });
        block.stmts
    }

    /// Which answer `tail` is, compared token for token.
    fn of_tail(tail: &[Stmt]) -> Option<Answer> {
        let text = |stmts: &[Stmt]| {
            stmts
                .iter()
                .map(|s| s.to_token_stream().to_string())
                .collect::<Vec<_>>()
        };
        let tail = text(tail);
        [Answer::Json, Answer::Stream, Answer::Empty]
            .into_iter()
            .find(|answer| text(&answer.generated_tail()) == tail)
    }
}

/// The operationId in `let info = OperationInfo { operation_id: "..." };`.
fn operation_id(stmt: &Stmt) -> Option<syn::LitStr> {
    let Stmt::Local(local) = stmt else {
        return None;
    };
    let Pat::Ident(name) = &local.pat else {
        return None;
    };
    if name.ident != "info" {
        return None;
    }
    let Expr::Struct(init) = local.init.as_ref()?.expr.as_ref() else {
        return None;
    };
    init.fields.iter().find_map(|field| match &field.expr {
        Expr::Lit(lit) if field.member.to_token_stream().to_string() == "operation_id" => {
            match &lit.lit {
                Lit::Str(s) => Some(s.clone()),
                _ => None,
            }
        }
        _ => None,
    })
}

/// `send` split in two: the new `send` and `into_request`.
fn split(builder: &str, send: &ImplItemFn) -> Result<(ImplItemFn, ImplItemFn)> {
    let ReturnType::Type(_, output) = &send.sig.output else {
        bail!("builder {builder}: `send` returns nothing");
    };
    let stmts = &send.block.stmts;
    let Some((at, id)) = stmts
        .iter()
        .enumerate()
        .find_map(|(i, stmt)| operation_id(stmt).map(|id| (i, id)))
    else {
        bail!("builder {builder}: `send` names no operation (`let info = OperationInfo {{ .. }}`)");
    };
    let Some(answer) = Answer::of_tail(&stmts[at + 1..]) else {
        bail!(
            "builder {builder}: `send` ends in a way this pass does not know; \
             teach codegen/src/sends.rs the new shape"
        );
    };
    let building = &stmts[..at];
    let into_request = syn::Ident::new(INTO_REQUEST, proc_macro2::Span::call_site());
    let request_fn: ImplItemFn = parse_quote! {
        fn #into_request(self) -> Result<reqwest::Request, Error<types::ApiError>> {
            #(#building)*
            Ok(request)
        }
    };
    let attrs = &send.attrs;
    let function = answer.function();
    let send_fn: ImplItemFn = parse_quote! {
        #(#attrs)*
        pub fn send(self) -> impl ::std::future::Future<Output = #output> + Send + 'a {
            let client = self.client;
            crate::respond::#function(client, self.#into_request(), #id)
        }
    };
    Ok((send_fn, request_fn))
}

/// Rewrites every builder's `send` (see the module docs).
pub fn share_dispatch(client: &mut syn::File) -> Result<()> {
    let Some(builders) = module_mut(&mut client.items, "builder") else {
        bail!("the generated client has no `builder` module");
    };
    for item in builders.iter_mut() {
        let Item::Impl(block) = item else { continue };
        if block.trait_.is_some() {
            continue;
        }
        let builder = block.self_ty.to_token_stream().to_string();
        let is_named =
            |item: &ImplItem, name: &str| matches!(item, ImplItem::Fn(f) if f.sig.ident == name);
        if block.items.iter().any(|i| is_named(i, INTO_REQUEST)) {
            bail!("builder {builder} already has a method `{INTO_REQUEST}`");
        }
        let Some(at) = block.items.iter().position(|i| is_named(i, "send")) else {
            continue;
        };
        let ImplItem::Fn(send) = &block.items[at] else {
            continue;
        };
        let (send_fn, request_fn) = split(&builder, send)?;
        block.items[at] = ImplItem::Fn(send_fn);
        block.items.insert(at + 1, ImplItem::Fn(request_fn));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn builder_module(send_tail: proc_macro2::TokenStream) -> syn::File {
        parse_quote! {
            pub mod builder {
                pub struct GetThing<'a> { client: &'a super::Client, id: Result<String, String> }
                impl<'a> GetThing<'a> {
                    ///Sends a `GET` request to `/things/{id}`
                    pub async fn send(self) -> Result<ResponseValue<types::Thing>, Error<types::ApiError>> {
                        let Self { client, id } = self;
                        let id = id.map_err(Error::InvalidRequest)?;
                        let mut request = client.client.get(format!("{}/things/{}", client.baseurl, id)).build()?;
                        let info = OperationInfo { operation_id: "get_thing" };
                        #send_tail
                    }
                }
            }
        }
    }

    fn tail_of(answer: Answer) -> proc_macro2::TokenStream {
        let stmts = answer.generated_tail();
        quote!(#(#stmts)*)
    }

    #[test]
    fn a_json_send_hands_its_request_to_the_shared_json_reader() {
        let mut file = builder_module(tail_of(Answer::Json));
        share_dispatch(&mut file).unwrap();
        let text = file.to_token_stream().to_string();
        assert!(text.contains(
            "pub fn send (self) -> impl :: std :: future :: Future < Output = Result < ResponseValue < types :: Thing > , Error < types :: ApiError > > > + Send + 'a"
        ), "{text}");
        assert!(
            text.contains(
                "crate :: respond :: json (client , self . into_request () , \"get_thing\")"
            ),
            "{text}"
        );
        assert!(text.contains(
            "fn into_request (self) -> Result < reqwest :: Request , Error < types :: ApiError > >"
        ));
        assert!(text.contains("let id = id . map_err (Error :: InvalidRequest) ? ;"));
        assert!(text.contains("Ok (request)"));
        assert!(text.contains("Sends a `GET` request to `/things/{id}`"));
        assert!(!text.contains("async fn"), "{text}");
        assert!(!text.contains("client . pre"), "{text}");
    }

    #[test]
    fn streams_and_empty_answers_use_their_own_readers() {
        for (answer, call) in [
            (Answer::Stream, "respond :: stream"),
            (Answer::Empty, "respond :: empty"),
        ] {
            let mut file = builder_module(tail_of(answer));
            share_dispatch(&mut file).unwrap();
            assert!(file.to_token_stream().to_string().contains(call));
        }
    }

    #[test]
    fn an_unknown_ending_stops_generation_and_names_the_builder() {
        let mut file = builder_module(quote! {
            let response = client.exec(request, &info).await?;
            match response.status().as_u16() {
                201u16 => ResponseValue::from_response(response).await,
                _ => Err(Error::UnexpectedResponse(response)),
            }
        });
        let error = share_dispatch(&mut file).unwrap_err().to_string();
        assert!(error.contains("builder GetThing < 'a >"), "{error}");
        assert!(error.contains("sends.rs"), "{error}");
    }
}
