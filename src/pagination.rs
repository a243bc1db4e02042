//! Cursor pagination for every list operation, without per-operation code:
//! any builder that implements [`Pageable`] (codegen implements it for every
//! cursor-paged operation) becomes a lazy stream of pages or items.

use futures_util::stream::{self, Stream, TryStreamExt};
use sentinelone_generated::Pageable;

use crate::Error;

/// Items asked for per page unless told otherwise.
pub const DEFAULT_PAGE_SIZE: u32 = 1000;

enum State<P> {
    Next { request: P, cursor: Option<String> },
    Done,
}

/// Streams the pages of `request`, `page_size` items each, following
/// `nextCursor` until it is null or absent. The next page is only fetched
/// when the consumer asks for it. A cursor the console repeats is an error
/// (it would loop forever).
pub fn pages<P: Pageable>(
    request: P,
    page_size: u32,
) -> impl Stream<Item = Result<P::Output, Error>> + Send {
    let seen: Vec<String> = Vec::new();
    stream::try_unfold(
        (
            State::Next {
                request,
                cursor: None,
            },
            seen,
        ),
        move |(state, mut seen)| async move {
            let State::Next { request, cursor } = state else {
                return Ok(None);
            };
            let page = request
                .clone()
                .page_request(cursor.as_deref(), page_size)
                .send_operation()
                .await
                .map_err(|e| Error::from_raw(P::OPERATION_ID, e))?
                .into_inner();
            let next = match P::next_cursor(&page) {
                Some(c) if !c.is_empty() => {
                    if seen.iter().any(|s| s == c) {
                        return Err(Error::decode(
                            P::OPERATION_ID,
                            c.as_bytes(),
                            "the console returned a cursor it had already returned",
                        ));
                    }
                    seen.push(c.to_string());
                    State::Next {
                        request,
                        cursor: Some(c.to_string()),
                    }
                }
                _ => State::Done,
            };
            Ok(Some((page, (next, seen))))
        },
    )
}

/// Streams every item of every page of `request`.
pub fn items<P: Pageable>(
    request: P,
    page_size: u32,
) -> impl Stream<Item = Result<P::Item, Error>> + Send {
    pages(request, page_size)
        .map_ok(|page| stream::iter(P::into_items(page).into_iter().map(Ok)))
        .try_flatten()
}

/// `.pages()` and `.items()` on every cursor-paged list builder.
pub trait PaginateExt: Pageable + Sized {
    /// Lazy stream of pages of [`DEFAULT_PAGE_SIZE`] items.
    fn pages(self) -> impl Stream<Item = Result<Self::Output, Error>> + Send {
        pages(self, DEFAULT_PAGE_SIZE)
    }

    /// Lazy stream of items, fetched [`DEFAULT_PAGE_SIZE`] at a time.
    fn items(self) -> impl Stream<Item = Result<Self::Item, Error>> + Send {
        items(self, DEFAULT_PAGE_SIZE)
    }
}

impl<P: Pageable> PaginateExt for P {}
