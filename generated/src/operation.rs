//! The seams that let facade code treat every operation alike. codegen
//! implements [`Operation`] for every builder (one [`impl_operation!`] line
//! each, in `calls.rs`), [`Pageable`] for every cursor-paged list builder
//! (one [`impl_pageable!`] line each, in `paging.rs`), and writes how every
//! operation answers into `answers.rs`, read through [`answer`].

use std::future::Future;

use progenitor_client::{Error, ResponseValue};

/// A ready-to-send operation builder.
pub trait Operation: Send {
    /// What a successful call returns.
    type Output: Send;
    /// The operationId, for errors.
    const OPERATION_ID: &'static str;

    /// Sends the request (the builder's own `send`).
    fn send_operation(
        self,
    ) -> impl Future<Output = Result<ResponseValue<Self::Output>, Error<crate::types::ApiError>>> + Send;
}

/// A list operation's builder that pages with `cursor` and `limit`.
pub trait Pageable: Operation + Clone {
    /// One listed item.
    type Item: Send;

    /// The same request for the page after `cursor` (the first page when
    /// `None`), asking for `limit` items.
    fn page_request(self, cursor: Option<&str>, limit: u32) -> Self;

    /// The cursor of the next page; `None` when this is the last.
    fn next_cursor(page: &Self::Output) -> Option<&str>;

    /// The page's items, each typed or, when it did not decode, raw
    /// (see [`crate::lenient`]).
    fn into_items(page: Self::Output) -> Vec<crate::Decoded<Self::Item>>;

    /// How many items the page holds.
    fn item_count(page: &Self::Output) -> usize;
}

/// What a successful answer carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseKind {
    /// A JSON document (decoded through its typed response).
    Json,
    /// Bytes of this content type (a file).
    Binary(&'static str),
    /// Nothing (204).
    Empty,
}

/// Where an operation goes and how it answers: enough for a transport to
/// check its path and choose its limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OperationAnswer {
    /// The path template, `{name}` for each path parameter.
    pub path: &'static str,
    /// What a successful answer carries.
    pub response: ResponseKind,
    /// Whether the operation pages by cursor.
    pub paged: bool,
}

/// How the operation `id` answers, if the spec has it.
pub fn answer(id: &str) -> Option<OperationAnswer> {
    let answers = crate::answers::ANSWERS;
    let index = answers.binary_search_by(|(op, ..)| (*op).cmp(id)).ok()?;
    let (_, path, response, paged, _) = answers[index];
    Some(OperationAnswer {
        path,
        response,
        paged,
    })
}

/// Implements [`Operation`] for the builder `$builder`, whose `send` returns
/// `$output`, under the operationId `$id`.
macro_rules! impl_operation {
    ($builder:ident, $id:literal, $output:ty) => {
        impl<'a> crate::Operation for crate::builder::$builder<'a> {
            type Output = $output;
            const OPERATION_ID: &'static str = $id;

            fn send_operation(
                self,
            ) -> impl ::std::future::Future<
                Output = ::std::result::Result<
                    ::progenitor_client::ResponseValue<Self::Output>,
                    ::progenitor_client::Error<crate::types::ApiError>,
                >,
            > + Send {
                self.send()
            }
        }
    };
}

/// Implements [`Pageable`] for the builder `$builder` of a list whose pages
/// hold `$item`s in `data` and the next cursor in `pagination.nextCursor`.
macro_rules! impl_pageable {
    ($builder:ident, $item:ty) => {
        impl<'a> crate::Pageable for crate::builder::$builder<'a> {
            type Item = $item;

            fn page_request(self, cursor: ::std::option::Option<&str>, limit: u32) -> Self {
                let request = self.limit(limit);
                match cursor {
                    Some(cursor) => request.cursor(cursor.to_string()),
                    None => request,
                }
            }

            fn next_cursor(page: &Self::Output) -> ::std::option::Option<&str> {
                page.pagination
                    .as_ref()
                    .and_then(|p| p.next_cursor.as_deref())
            }

            fn into_items(page: Self::Output) -> ::std::vec::Vec<crate::Decoded<Self::Item>> {
                page.data.unwrap_or_default()
            }

            fn item_count(page: &Self::Output) -> usize {
                page.data.as_ref().map_or(0, ::std::vec::Vec::len)
            }
        }
    };
}
