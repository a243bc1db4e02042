//! The seam that lets one pagination loop serve every cursor-paged list
//! operation. codegen implements [`Pageable`] for each such operation's
//! builder (in `paging.rs`); the facade turns any of them into a stream.

use std::future::Future;

use progenitor_client::{Error, ResponseValue};

/// A list operation's builder that pages with `cursor` and `limit`.
pub trait Pageable: Clone + Send {
    /// One page of results.
    type Page: Send;
    /// One listed item.
    type Item: Send;
    /// The operationId, for errors.
    const OPERATION_ID: &'static str;

    /// The same request for the page after `cursor` (the first page when
    /// `None`), asking for `limit` items.
    fn page_request(self, cursor: Option<&str>, limit: u32) -> Self;

    /// Sends the request.
    fn send_page(
        self,
    ) -> impl Future<Output = Result<ResponseValue<Self::Page>, Error<crate::types::ApiError>>> + Send;

    /// The cursor of the next page; `None` when this is the last.
    fn next_cursor(page: &Self::Page) -> Option<&str>;

    /// The page's items.
    fn into_items(page: Self::Page) -> Vec<Self::Item>;
}
