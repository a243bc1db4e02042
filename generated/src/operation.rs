//! The seams that let facade code treat every operation alike. codegen
//! implements [`Operation`] for every builder (in `calls.rs`) and
//! [`Pageable`] for every cursor-paged list builder (in `paging.rs`).

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

    /// The page's items.
    fn into_items(page: Self::Output) -> Vec<Self::Item>;

    /// How many items the page holds.
    fn item_count(page: &Self::Output) -> usize;
}
