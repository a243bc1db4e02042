//! Cursor pagination for every list operation, without per-operation code:
//! any builder that implements [`Pageable`] (codegen implements it for every
//! cursor-paged operation) becomes a lazy stream of pages or items.
//!
//! A console that pages forever is stopped: a cursor it already returned,
//! or [`MAX_EMPTY_PAGES`] empty pages in a row that still carry a cursor,
//! end the stream with [`Error::Decode`]. A page holding more items than
//! the `limit` it was asked for is refused by the transport while it is
//! read, before it is decoded.

use std::collections::HashSet;

use futures_util::stream::{self, Stream, TryStreamExt};
use sentinelone_generated::Pageable;

use crate::Error;

/// Items asked for per page unless told otherwise.
pub const DEFAULT_PAGE_SIZE: u32 = 1000;

/// Empty pages in a row, each still carrying a next cursor, after which a
/// walk stops with an error.
pub const MAX_EMPTY_PAGES: u32 = 3;

/// A walk along a list's cursor: refuses a cursor the console already
/// returned, and a run of [`MAX_EMPTY_PAGES`] empty pages that still carry
/// a cursor (a console that would page forever).
///
/// ```
/// use sentinelone::pagination::CursorWalk;
///
/// let mut walk = CursorWalk::default();
/// assert_eq!(walk.next("list_agents", 2, Some("c1")).unwrap().as_deref(), Some("c1"));
/// assert!(walk.next("list_agents", 2, Some("c1")).is_err()); // repeated
/// assert_eq!(walk.next("list_agents", 0, None).unwrap(), None); // the end
/// ```
#[derive(Debug, Default)]
pub struct CursorWalk {
    seen: HashSet<String>,
    empty_in_a_row: u32,
}

impl CursorWalk {
    /// The cursor to follow after a page of `operation` that held `items`
    /// items and named `next` as the next cursor, in the form to hand the
    /// request builder ([`cursor_to_send`]); `None` at the end (no cursor,
    /// or an empty one).
    pub fn next(
        &mut self,
        operation: &str,
        items: usize,
        next: Option<&str>,
    ) -> Result<Option<String>, Error> {
        let Some(next) = next.filter(|c| !c.is_empty()) else {
            return Ok(None);
        };
        let refused = |message: String| Error::decode(operation, next.as_bytes(), message);
        if items == 0 {
            self.empty_in_a_row += 1;
            if self.empty_in_a_row >= MAX_EMPTY_PAGES {
                return Err(refused(format!(
                    "the console returned {MAX_EMPTY_PAGES} empty pages in a row, each with a next cursor; stopped paging"
                )));
            }
        } else {
            self.empty_in_a_row = 0;
        }
        if !self.seen.insert(next.to_string()) {
            return Err(refused(
                "the console returned a cursor it had already returned".into(),
            ));
        }
        Ok(Some(cursor_to_send(next)))
    }
}

/// The value to hand a request builder so that `cursor` goes back on the
/// wire exactly as the console wrote it.
///
/// Builders form-encode query values. A cursor the console already
/// percent-encoded (`YWJj%3D%3D`) would be encoded a second time
/// (`YWJj%253D%253D`); it is decoded here when encoding the decoded value
/// restores the console's exact bytes, so the raw query reads
/// `cursor=YWJj%3D%3D`. Any other cursor is handed over unchanged, and the
/// builder's encoding carries its exact value (`a+b/c=` goes out as
/// `a%2Bb%2Fc%3D`, which the console decodes to `a+b/c=`).
///
/// ```
/// use sentinelone::pagination::cursor_to_send;
///
/// assert_eq!(cursor_to_send("YWJj%3D%3D"), "YWJj==");
/// assert_eq!(cursor_to_send("a+b/c="), "a+b/c=");
/// assert_eq!(cursor_to_send("YWJjZA"), "YWJjZA");
/// ```
pub fn cursor_to_send(cursor: &str) -> String {
    if cursor.contains('%')
        && let Ok(decoded) = percent_encoding::percent_decode_str(cursor).decode_utf8()
        && url::form_urlencoded::byte_serialize(decoded.as_bytes()).collect::<String>() == cursor
    {
        return decoded.into_owned();
    }
    cursor.to_string()
}

enum State<P> {
    Next { request: P, cursor: Option<String> },
    Done,
}

/// Streams the pages of `request`, `page_size` items each, following
/// `nextCursor` until it is null or absent. The next page is only fetched
/// when the consumer asks for it. A cursor the console repeats, or
/// [`MAX_EMPTY_PAGES`] empty pages in a row that still carry a cursor, are
/// an error (it would loop forever).
pub fn pages<P: Pageable>(
    request: P,
    page_size: u32,
) -> impl Stream<Item = Result<P::Output, Error>> + Send {
    stream::try_unfold(
        (
            State::Next {
                request,
                cursor: None,
            },
            CursorWalk::default(),
        ),
        move |(state, mut walk)| async move {
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
            let next = walk.next(P::OPERATION_ID, P::item_count(&page), P::next_cursor(&page))?;
            let next = match next {
                Some(cursor) => State::Next {
                    request,
                    cursor: Some(cursor),
                },
                None => State::Done,
            };
            Ok(Some((page, (next, walk))))
        },
    )
}

/// Streams every item of every page of `request`.
///
/// An item that does not decode as `P::Item` (even leniently, see
/// [`sentinelone_generated::lenient`]) arrives as [`Error::Undecoded`],
/// holding the item as sent and the path that failed; the stream goes on
/// with the next item. A failed request ends the stream.
pub fn items<P: Pageable>(
    request: P,
    page_size: u32,
) -> impl Stream<Item = Result<P::Item, Error>> + Send {
    pages(request, page_size)
        .map_ok(|page| {
            stream::iter(P::into_items(page).into_iter().map(|item| {
                item.into_typed()
                    .map_err(|raw| Error::undecoded(P::OPERATION_ID, raw))
            }))
        })
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
