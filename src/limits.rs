//! Limits on what one call may cost: how many bytes an answer decoded in
//! memory may hold, how many items a page may hold, how long a body may
//! stall, and how long a call may take across its retries.
//!
//! The transport applies them to every request (see
//! [`crate::ClientBuilder::max_response_bytes`],
//! [`crate::ClientBuilder::read_idle_timeout`] and
//! [`crate::ClientBuilder::call_deadline`]):
//!
//! - an answer decoded in memory (every JSON answer) is read through a
//!   counting stream that fails as soon as it passes the byte cap; an
//!   announced `Content-Length` above the cap fails before anything is
//!   read. File answers (downloads streamed to disk, the `Binary`
//!   operations of the spec) are not capped: they are bounded by the
//!   download timeout, the idle timeout and the limits of whoever consumes
//!   them.
//! - a page of a cursor-paged list holds at most the `limit` it was asked
//!   for: the same stream counts the items of the page's arrays as they
//!   arrive and fails at the first one too many, before it is decoded.
//! - a call's attempts, quota waits, 429 waits and backoffs all end before
//!   its deadline; what would pass it fails as a timeout.

use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use futures_util::stream::{self, StreamExt};
use reqwest::{Request, Response};
use sentinelone_generated::ResponseKind;
use tokio::time::Instant;

use crate::failure::{Failure, Kind};

/// Default cap on an answer decoded in memory: 64 MiB. The largest real
/// pages are a few MiB (1000 agents at ~3.3 KB each, 1000 threats at
/// ~8 KB); 64 MiB leaves room for verbose Deep Visibility pages.
pub const DEFAULT_MAX_RESPONSE_BYTES: u64 = 64 * 1024 * 1024;

/// Default idle-read timeout: a body (or an answer's head) that sends no
/// byte for 30 s fails.
pub const DEFAULT_READ_IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// Default deadline of one call, across its attempts and waits: 5 minutes.
pub const DEFAULT_CALL_DEADLINE: Duration = Duration::from_secs(300);

/// `from + after`, or about thirty years on when that does not fit.
pub(crate) fn later(from: Instant, after: Duration) -> Instant {
    const FAR: Duration = Duration::from_secs(30 * 365 * 86_400);
    from.checked_add(after.min(FAR))
        .or_else(|| from.checked_add(FAR))
        .unwrap_or(from)
}

/// What the caller does with an answer's body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Answer {
    /// Reads it whole into memory and decodes it: capped.
    Decoded,
    /// Streams it to a file: not capped, and only the wait for its head
    /// counts against the call deadline.
    File,
}

impl Answer {
    /// How the answer of `operation` is used: a file for the operations
    /// the spec says answer bytes, decoded for every other one.
    pub(crate) fn of(operation: &str) -> Answer {
        match sentinelone_generated::answer(operation).map(|op| op.response) {
            Some(ResponseKind::Binary(_)) => Answer::File,
            _ => Answer::Decoded,
        }
    }
}

/// The limits the transport enforces, as configured on the client.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CallLimits {
    /// Cap on an answer decoded in memory.
    pub(crate) max_response_bytes: u64,
    /// Time allowed to one call, across attempts and waits.
    pub(crate) call_deadline: Duration,
    /// The client's time allowed to one attempt (its `timeout`).
    pub(crate) request_timeout: Duration,
    /// Time allowed to one whole file download.
    pub(crate) download_timeout: Duration,
}

impl CallLimits {
    /// Bounds one attempt of a call ending at `deadline`: a decoded answer
    /// must arrive whole before the deadline, a file answer gets the
    /// download timeout unless the request set its own.
    pub(crate) fn bound_attempt(&self, request: &mut Request, deadline: Instant, answer: Answer) {
        if answer == Answer::File {
            request.timeout_mut().get_or_insert(self.download_timeout);
            return;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        let own = request.timeout().copied().unwrap_or(self.request_timeout);
        *request.timeout_mut() = Some(own.min(left));
    }

    /// `response` with its body read through the byte cap (for a decoded
    /// answer) and the page's item limit (when `max_items` is known).
    pub(crate) fn bound_body(
        &self,
        response: Response,
        answer: Answer,
        max_items: Option<u64>,
        operation: &str,
    ) -> Response {
        match answer {
            Answer::File => response,
            Answer::Decoded => limit_body(response, self.max_response_bytes, max_items, operation),
        }
    }
}

/// The item limit a request sets for its page: the `limit` query
/// parameter of a cursor-paged operation.
pub(crate) fn page_limit(request: &Request, operation: &str) -> Option<u64> {
    let paged = sentinelone_generated::answer(operation).is_some_and(|op| op.paged);
    if !paged {
        return None;
    }
    request
        .url()
        .query_pairs()
        .find(|(name, _)| name == "limit")
        .and_then(|(_, value)| value.trim().parse().ok())
}

/// Why reading an answer stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LimitError {
    /// The body is larger than the cap.
    TooLarge {
        /// The cap, in bytes.
        cap: u64,
    },
    /// A page holds more items than the limit it was asked for.
    TooManyItems {
        /// The limit asked for.
        limit: u64,
    },
}

impl fmt::Display for LimitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LimitError::TooLarge { cap } => {
                write!(f, "the answer is larger than the {} cap", bytes_text(*cap))
            }
            LimitError::TooManyItems { limit } => write!(
                f,
                "the page holds more than the {limit} items asked for (limit={limit})"
            ),
        }
    }
}

impl std::error::Error for LimitError {}

/// `bytes` for people: `64 MiB`, `1.5 KiB`, `300 bytes`.
pub(crate) fn bytes_text(bytes: u64) -> String {
    const KIB: u64 = 1024;
    const MIB: u64 = 1024 * KIB;
    match bytes {
        b if b >= MIB && b % MIB == 0 => format!("{} MiB", b / MIB),
        b if b >= MIB => format!("{:.1} MiB", b as f64 / MIB as f64),
        b if b >= KIB && b % KIB == 0 => format!("{} KiB", b / KIB),
        b => format!("{b} bytes"),
    }
}

/// `response` whose body fails once more than `cap` bytes (or, when
/// `max_items` is set, more items in one of the page's arrays) have been
/// read. A `Content-Length` above the cap fails before reading anything.
/// The body fails with a [`Failure`] of `operation`.
fn limit_body(response: Response, cap: u64, max_items: Option<u64>, operation: &str) -> Response {
    let head = head_of(&response);
    let body = if response.content_length().is_some_and(|n| n > cap) {
        // Dropping the response closes the connection unread.
        drop(response);
        let failure = Failure::new(operation, Kind::Limit(LimitError::TooLarge { cap }));
        let refused = stream::iter([Err::<Bytes, Failure>(failure)]);
        reqwest::Body::wrap_stream(refused)
    } else {
        let mut budget = Budget::new(cap, max_items, operation);
        let counted = response
            .bytes_stream()
            .map(move |chunk| budget.check(chunk?))
            .scan(false, |failed, item| {
                // Nothing more once the limit failed the body.
                let ended = *failed;
                *failed |= item.is_err();
                std::future::ready((!ended).then_some(item))
            });
        reqwest::Body::wrap_stream(counted)
    };
    let (parts, ()) = head.into_parts();
    Response::from(http::Response::from_parts(parts, body))
}

/// The head of `response` (status, version, headers, extensions and the
/// URL it came from), to give it another body.
pub(crate) fn head_of(response: &Response) -> http::Response<()> {
    use reqwest::ResponseBuilderExt;
    let mut head = http::Response::builder()
        .status(response.status())
        .version(response.version())
        .url(response.url().clone())
        .body(())
        .unwrap_or_default();
    *head.headers_mut() = response.headers().clone();
    head.extensions_mut().extend(response.extensions().clone());
    head
}

pub(crate) type BodyError = Box<dyn std::error::Error + Send + Sync>;

/// What is left of a body's allowance.
struct Budget {
    read: u64,
    cap: u64,
    items: Option<ItemCounter>,
    operation: String,
}

impl Budget {
    fn new(cap: u64, max_items: Option<u64>, operation: &str) -> Self {
        Budget {
            read: 0,
            cap,
            items: max_items.map(ItemCounter::new),
            operation: operation.to_string(),
        }
    }

    /// Counts `chunk`; fails once it takes the body past a limit.
    fn check(&mut self, chunk: Bytes) -> Result<Bytes, BodyError> {
        self.read = self.read.saturating_add(chunk.len() as u64);
        let mut passed = None;
        if self.read > self.cap {
            passed = Some(LimitError::TooLarge { cap: self.cap });
        } else if let Some(items) = &mut self.items {
            passed = items.feed(&chunk).err();
        }
        match passed {
            None => Ok(chunk),
            Some(limit) => Err(Box::new(Failure::new(&self.operation, Kind::Limit(limit)))),
        }
    }
}

/// Counts, as the bytes of a JSON document arrive, the items of every
/// array that is the document itself or a member of the top-level object
/// (`{"data": [..], "pagination": {..}}`), and fails at the first array
/// holding more than `limit`. No key is read: a page's lists are its
/// top-level arrays, however their names are escaped.
#[derive(Debug)]
struct ItemCounter {
    limit: u64,
    /// Open containers; `true` for an array. Only the first two levels
    /// are kept; deeper ones are counted in `deeper`.
    open: Vec<bool>,
    deeper: u64,
    in_string: bool,
    escaped: bool,
    /// Items in the array being counted.
    items: u64,
    /// The next value in the counted array starts an item.
    expecting: bool,
}

impl ItemCounter {
    fn new(limit: u64) -> Self {
        ItemCounter {
            limit,
            open: Vec::with_capacity(2),
            deeper: 0,
            in_string: false,
            escaped: false,
            items: 0,
            expecting: false,
        }
    }

    /// Directly inside an array of the first two levels.
    fn counting(&self) -> bool {
        self.deeper == 0 && self.open.last() == Some(&true)
    }

    fn feed(&mut self, bytes: &[u8]) -> Result<(), LimitError> {
        for &byte in bytes {
            self.byte(byte)?;
        }
        Ok(())
    }

    fn byte(&mut self, byte: u8) -> Result<(), LimitError> {
        if self.in_string {
            match (self.escaped, byte) {
                (true, _) => self.escaped = false,
                (false, b'\\') => self.escaped = true,
                (false, b'"') => self.in_string = false,
                _ => {}
            }
            return Ok(());
        }
        if byte.is_ascii_whitespace() {
            return Ok(());
        }
        if self.counting() {
            match byte {
                b',' => self.expecting = true,
                b']' => {}
                _ if self.expecting => {
                    self.expecting = false;
                    self.items += 1;
                    if self.items > self.limit {
                        return Err(LimitError::TooManyItems { limit: self.limit });
                    }
                }
                _ => {}
            }
        }
        match byte {
            b'"' => self.in_string = true,
            b'{' | b'[' => self.open_container(byte == b'['),
            b'}' | b']' => self.close_container(),
            _ => {}
        }
        Ok(())
    }

    fn open_container(&mut self, array: bool) {
        if self.deeper > 0 || self.open.len() == 2 {
            self.deeper += 1;
            return;
        }
        self.open.push(array);
        if self.counting() {
            self.items = 0;
            self.expecting = true;
        }
    }

    fn close_container(&mut self) {
        if self.deeper > 0 {
            self.deeper -= 1;
        } else {
            self.open.pop();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(limit: u64, chunks: &[&str]) -> Result<(), LimitError> {
        let mut counter = ItemCounter::new(limit);
        chunks.iter().try_for_each(|c| counter.feed(c.as_bytes()))
    }

    #[test]
    fn counts_the_items_of_top_level_arrays() {
        let page =
            r#"{"data": [{"a": [1, 2, 3, 4]}, "x,]", [5, 6]], "pagination": {"nextCursor": "c"}}"#;
        assert_eq!(count(3, &[page]), Ok(()));
        assert_eq!(
            count(2, &[page]),
            Err(LimitError::TooManyItems { limit: 2 })
        );
        // Split anywhere, escaped quotes inside strings.
        let page = r#"{"da\"ta": ["a\"]", {}, {}], "n": []}"#;
        let (a, b) = page.split_at(9);
        assert_eq!(count(3, &[a, b]), Ok(()));
        assert!(count(2, &[a, b]).is_err());
        assert_eq!(count(0, &[r#"{"data": [ ]}"#]), Ok(()));
        assert!(count(1, &["[1,2]"]).is_err());
        // Items nested deeper are not the page's.
        assert_eq!(count(1, &[r#"{"data": [{"x": [1, 2, 3]}]}"#]), Ok(()));
    }

    #[tokio::test]
    async fn caps_the_body_while_reading() {
        let chunks = (0..10).map(|_| Ok::<_, std::io::Error>(Bytes::from(vec![b' '; 100])));
        let body = reqwest::Body::wrap_stream(stream::iter(chunks));
        let response = Response::from(http::Response::new(body));
        let error = limit_body(response, 450, None, "op")
            .bytes()
            .await
            .unwrap_err();
        assert_eq!(
            Failure::find(&error).map(|f| &f.kind),
            Some(&Kind::Limit(LimitError::TooLarge { cap: 450 }))
        );
    }

    #[test]
    fn sizes_read_well() {
        assert_eq!(bytes_text(DEFAULT_MAX_RESPONSE_BYTES), "64 MiB");
        assert_eq!(bytes_text(2048), "2 KiB");
        assert_eq!(bytes_text(450), "450 bytes");
    }
}
