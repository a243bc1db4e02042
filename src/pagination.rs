//! Cursor pagination for every list operation, without per-operation code:
//! any builder that implements [`Pageable`] (codegen implements it for every
//! cursor-paged operation) becomes a stream of pages or items.
//!
//! Nothing is sent before the stream is first polled. Then the next page
//! is asked for as soon as a page arrives, while the consumer works on it
//! ([`Prefetch::NextPage`], the default): one page ahead, never more, its
//! request running in a task of its own through the client's transport
//! (same quotas, retries and limits). [`pages_with`] and [`items_with`]
//! take [`Prefetch::Off`] for one request at a time.
//!
//! ```no_run
//! use sentinelone::prelude::*;
//!
//! # async fn demo(client: &sentinelone::Client) -> Result<(), sentinelone::Error> {
//! let mut agents = std::pin::pin!(client.list_agents().items());
//! while let Some(agent) = agents.try_next().await? {
//!     // Page 2 is being fetched while page 1's agents are handled here.
//!     println!("{:?}", agent.computer_name);
//! }
//! # Ok(())
//! # }
//! ```
//!
//! A console that pages forever is stopped: a cursor it already returned,
//! or [`MAX_EMPTY_PAGES`] empty pages in a row that still carry a cursor,
//! end the stream with [`Error::Decode`]. A page holding more items than
//! the `limit` it was asked for is refused by the transport while it is
//! read, before it is decoded.

use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::task::Poll;

use futures_util::future::{self, MaybeDone};
use futures_util::stream::{self, Stream, TryStreamExt};
use progenitor_client::ResponseValue;
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

/// Whether a page stream asks for the next page before it is wanted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Prefetch {
    /// As soon as a page arrives, the next one is asked for, while the
    /// consumer works on this one: at most one page ahead, so at most two
    /// pages are held (the one being consumed and the next). The default.
    #[default]
    NextPage,
    /// A page is asked for only when the consumer wants it: one request
    /// at a time, nothing sent that is not used.
    Off,
}

/// What comes after the page last handed out; `F` is a page's request.
enum Next<F: Future> {
    /// The page after this cursor, not asked for yet (`None`: the first).
    Wanted(Option<String>),
    /// The next page, asked for and on its way (or already here).
    Coming(MaybeDone<F>),
    /// Nothing: the last page was handed out, or an error was.
    Done,
}

/// A list being walked: the request, its page size, and the cursors seen.
struct Walk<P> {
    request: P,
    page_size: u32,
    prefetch: Prefetch,
    cursors: CursorWalk,
}

impl<P: Pageable> Walk<P> {
    /// The page after `cursor` (the first when `None`), sent when first
    /// polled.
    fn fetch(
        &self,
        cursor: Option<&str>,
    ) -> impl Future<Output = Result<P::Output, Error>> + Send + use<P> {
        let send = self
            .request
            .clone()
            .page_request(cursor, self.page_size)
            .send_operation();
        async move {
            send.await
                .map(ResponseValue::into_inner)
                .map_err(|e| Error::from_raw(P::OPERATION_ID, e))
        }
    }

    /// The page after `cursor`, asked for ahead: every request it makes
    /// runs in a task of its own ([`crate::ahead`]).
    fn ahead(
        &self,
        cursor: &str,
    ) -> Pin<Box<impl Future<Output = Result<P::Output, Error>> + Send + use<P>>> {
        Box::pin(crate::ahead::ahead(self.fetch(Some(cursor))))
    }

    /// The cursor to follow after `page`, if any.
    fn follow(&mut self, page: &P::Output) -> Result<Option<String>, Error> {
        self.cursors
            .next(P::OPERATION_ID, P::item_count(page), P::next_cursor(page))
    }
}

/// Hands out the page `next` stands for, and says what follows it: done
/// (after the last page or an error), the next page wanted, or, with
/// [`Prefetch::NextPage`], the next page asked for by `ask_ahead` and
/// started before this one is handed out.
async fn step<P, F>(
    mut walk: Walk<P>,
    next: Next<F>,
    ask_ahead: impl Fn(&Walk<P>, &str) -> F,
) -> Option<(Result<P::Output, Error>, (Walk<P>, Next<F>))>
where
    P: Pageable,
    F: Future<Output = Result<P::Output, Error>> + Unpin,
{
    let page = match next {
        Next::Done => return None,
        // Boxed, as the pages asked for ahead: a request's future is
        // large (its builder and progenitor's state), and kept inline it
        // would swell every future that holds the stream.
        Next::Wanted(cursor) => Box::pin(walk.fetch(cursor.as_deref())).await,
        Next::Coming(mut page) => {
            (&mut page).await;
            Pin::new(&mut page)
                .take_output()
                .expect("a page that is done has its output")
        }
    };
    let cursor = match &page {
        Ok(page) => walk.follow(page),
        Err(_) => Ok(None),
    };
    let next = match cursor {
        Err(refused) => return Some((Err(refused), (walk, Next::Done))),
        Ok(None) => Next::Done,
        Ok(Some(cursor)) => match walk.prefetch {
            Prefetch::Off => Next::Wanted(Some(cursor)),
            Prefetch::NextPage => Next::Coming(started(ask_ahead(&walk, &cursor)).await),
        },
    };
    Some((page, (walk, next)))
}

/// `future`, polled once now (with the caller's waker) and kept with its
/// output if that poll finished it.
async fn started<F: Future + Unpin>(future: F) -> MaybeDone<F> {
    let mut future = future::maybe_done(future);
    future::poll_fn(|cx| {
        let _ = Pin::new(&mut future).poll(cx);
        Poll::Ready(())
    })
    .await;
    future
}

/// Streams the pages of `request`, `page_size` items each, following
/// `nextCursor` until it is null or absent, the next page asked for while
/// the current one is consumed ([`Prefetch::NextPage`]; see
/// [`pages_with`]). A cursor the console repeats, or [`MAX_EMPTY_PAGES`]
/// empty pages in a row that still carry a cursor, are an error (it would
/// loop forever).
pub fn pages<P: Pageable>(
    request: P,
    page_size: u32,
) -> impl Stream<Item = Result<P::Output, Error>> + Send {
    pages_with(request, page_size, Prefetch::default())
}

/// [`pages`], asking for the next page as `prefetch` says.
///
/// With [`Prefetch::NextPage`], the request for page n+1 starts as soon as
/// page n arrives, and runs in a task of its own (quota wait, retries,
/// reading the body) while the consumer works on page n, even when the
/// consumer computes without polling the stream. It needs a runtime with
/// a thread to spare for that (tokio's multi-thread runtime, two workers
/// or more), or a consumer that awaits between items; otherwise it runs
/// when the consumer next awaits the stream. Page n+1 is decoded when the
/// consumer reaches it. A failure of page n+1 arrives after every item of
/// page n. Dropping the stream aborts the request running ahead, whatever
/// it was doing (waiting for its quota slot, a retry, its body).
///
/// ```no_run
/// use sentinelone::pagination::{self, Prefetch};
/// use sentinelone::prelude::*;
///
/// # async fn demo(client: &sentinelone::Client) -> Result<(), sentinelone::Error> {
/// // Pipelined: page 2 is on its way while page 1 is handled.
/// let mut pages = std::pin::pin!(client.list_agents().pages());
/// while let Some(page) = pages.try_next().await? {
///     for agent in page.data.unwrap_or_default() {
///         // ... work on the agent ...
///         # let _ = agent;
///     }
/// }
/// // One request at a time, 200 threats a page.
/// let threats: Vec<_> = pagination::items_with(client.list_threats(), 200, Prefetch::Off)
///     .try_collect()
///     .await?;
/// # let _ = threats;
/// # Ok(())
/// # }
/// ```
pub fn pages_with<P: Pageable>(
    request: P,
    page_size: u32,
    prefetch: Prefetch,
) -> impl Stream<Item = Result<P::Output, Error>> + Send {
    let walk = Walk {
        request,
        page_size,
        prefetch,
        cursors: CursorWalk::default(),
    };
    stream::unfold((walk, Next::Wanted(None)), |(walk, next)| {
        step(walk, next, Walk::ahead)
    })
}

/// Streams every item of every page of `request`, the next page asked for
/// while the current one is consumed (see [`pages_with`]).
///
/// An item that does not decode as `P::Item` (even leniently, see
/// [`sentinelone_generated::lenient`]) arrives as [`Error::Undecoded`],
/// holding the item as sent and the path that failed; the stream goes on
/// with the next item. A failed request ends the stream.
pub fn items<P: Pageable>(
    request: P,
    page_size: u32,
) -> impl Stream<Item = Result<P::Item, Error>> + Send {
    items_with(request, page_size, Prefetch::default())
}

/// [`items`], asking for the next page as `prefetch` says.
pub fn items_with<P: Pageable>(
    request: P,
    page_size: u32,
    prefetch: Prefetch,
) -> impl Stream<Item = Result<P::Item, Error>> + Send {
    pages_with(request, page_size, prefetch)
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
    /// Stream of pages of [`DEFAULT_PAGE_SIZE`] items, the next page
    /// asked for while the current one is consumed ([`pages`]).
    fn pages(self) -> impl Stream<Item = Result<Self::Output, Error>> + Send {
        pages(self, DEFAULT_PAGE_SIZE)
    }

    /// Stream of items, fetched [`DEFAULT_PAGE_SIZE`] at a time, the next
    /// page asked for while the current one is consumed ([`items`]).
    fn items(self) -> impl Stream<Item = Result<Self::Item, Error>> + Send {
        items(self, DEFAULT_PAGE_SIZE)
    }
}

impl<P: Pageable> PaginateExt for P {}
