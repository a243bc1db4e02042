//! Any method on any path of the console, through the client's transport:
//! the generic request (Rewst's "SentinelOne API Request", FalconPy's
//! `override`), for the operations the spec does not describe.
//!
//! [`Client::api_request`] starts one; [`ApiRequest`] adds query
//! parameters and a JSON body, then sends it and reads the answer typed
//! ([`ApiRequest::send`]), as JSON ([`ApiRequest::send_value`]), as the
//! response itself ([`ApiRequest::response`]) or as a stream of the items
//! of every page, following `pagination.nextCursor`
//! ([`ApiRequest::items`]).
//!
//! The request goes through the one transport every generated operation
//! takes ([`Client::execute`]): quotas, 429 waits, the retry rules, the
//! refused redirects, the answer's size cap and the call deadline, the
//! token's redaction. Its path is checked before anything is sent: a path
//! that could reach another host or leave the API is refused with
//! [`Error::InvalidInput`].

use futures_util::stream::{self, Stream, StreamExt, TryStreamExt};
/// The HTTP method of a request (re-exported from `reqwest`).
pub use reqwest::Method;
use reqwest::header::{CONTENT_TYPE, HeaderValue};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::pagination::CursorWalk;
use crate::{API_PREFIX, Client, CsvList, Error, SDL_PREFIX};

/// The name a generic request goes by in errors, waits and logs.
pub const OPERATION: &str = "api_request";

/// The methods a generic request may use. `TRACE` (it echoes the request,
/// the Authorization header included, back in the answer) and `CONNECT`
/// are refused, and so is any method outside the standard ones.
pub const METHODS: [Method; 7] = [
    Method::GET,
    Method::HEAD,
    Method::POST,
    Method::PUT,
    Method::PATCH,
    Method::DELETE,
    Method::OPTIONS,
];

/// How many times a path segment is percent-decoded while looking for a
/// hidden `..` or separator (`%252e%252e` is `%2e%2e` decoded once).
const DECODE_ROUNDS: usize = 4;

impl Client {
    /// An authenticated request for `method` on `path` of the console, for
    /// what the spec's operations do not cover.
    ///
    /// `path` is relative to [`API_PREFIX`] (`agents/count`, or
    /// `/agents/count`), or from the console root when it starts with
    /// `/web/api/v2.1/` or with [`SDL_PREFIX`] (`/sdl/v2/api/queries`,
    /// which authenticates with `Bearer` as the Long Running Query
    /// operations do). It must stay a path on the console: an absolute or
    /// scheme-relative URL (`https://host/x`, `//host/x`), a `.` or `..`
    /// segment (also percent-encoded: `%2e%2e`), an empty segment (`a//b`),
    /// a backslash or an encoded `/` or `\`, an `@`, whitespace, a control
    /// or non-ASCII character or one of `"`, `<`, `>`, `` ` ``, `{`, `}`
    /// (percent-encode them), a `?` or `#` (query
    /// parameters go through [`ApiRequest::query`]) and an empty path are
    /// refused with [`Error::InvalidInput`] when the request is sent, and
    /// nothing is sent.
    ///
    /// `method` is one of [`METHODS`]. The transport's retry rules apply
    /// as to every operation: a 429 is waited out and retried for any
    /// method; a 5xx, a timeout or a connection lost after sending is
    /// retried only for the idempotent methods `GET`, `HEAD`, `PUT`,
    /// `DELETE` and `OPTIONS`; a `POST` or a `PATCH` is never sent again
    /// once the console may have seen it. A redirect is never followed
    /// ([`Error::Redirected`]), and the token never goes to another host.
    ///
    /// ```no_run
    /// use futures_util::TryStreamExt;
    /// use reqwest::Method;
    /// use serde_json::{Value, json};
    ///
    /// # async fn demo(client: &sentinelone::Client) -> Result<(), sentinelone::Error> {
    /// // Typed: any type that deserializes from the answer.
    /// #[derive(serde::Deserialize)]
    /// struct Count {
    ///     data: CountData,
    /// }
    /// #[derive(serde::Deserialize)]
    /// struct CountData {
    ///     total: u64,
    /// }
    /// let count: Count = client
    ///     .api_request(Method::GET, "agents/count")
    ///     .query("osTypes", ["windows", "linux"]) // osTypes=windows,linux
    ///     .send()
    ///     .await?;
    /// println!("{} agents", count.data.total);
    ///
    /// // As JSON, with a body.
    /// let answer: Value = client
    ///     .api_request(Method::POST, "/web/api/v2.1/agents/actions/fetch-logs")
    ///     .json(&json!({"filter": {"ids": ["225494730938493804"]}, "data": {}}))
    ///     .send_value()
    ///     .await?;
    ///
    /// // Every item of every page, following the cursor.
    /// let threats: Vec<Value> = client
    ///     .api_request(Method::GET, "threats")
    ///     .query("limit", "100")
    ///     .items()
    ///     .try_collect()
    ///     .await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn api_request(&self, method: Method, path: &str) -> ApiRequest<'_> {
        ApiRequest {
            client: self,
            method,
            path: console_path(path),
            query: Vec::new(),
            body: None,
        }
    }
}

/// A generic request being built: see [`Client::api_request`]. Cheap to
/// clone; nothing is sent until one of its answers is asked for.
#[derive(Clone)]
pub struct ApiRequest<'c> {
    client: &'c Client,
    method: Method,
    /// The path from the console root, or why it is refused.
    path: Result<String, String>,
    /// Query parameters in the order first given, each one value list.
    query: Vec<(String, CsvList)>,
    /// The JSON body, or why it could not be written.
    body: Option<Result<Vec<u8>, String>>,
}

impl std::fmt::Debug for ApiRequest<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiRequest")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("query", &self.query)
            .field(
                "body",
                &self.body.as_ref().map(|b| b.as_ref().map(Vec::len)),
            )
            .finish_non_exhaustive()
    }
}

impl<'c> ApiRequest<'c> {
    /// Adds query parameter `name` with `value`: one value (`"5"`), or a
    /// list sent comma-joined as SentinelOne expects (`["1", "2"]` goes as
    /// `ids=1,2`; see [`CsvList`]). A name given again adds its values to
    /// the list (`.query("ids", "1").query("ids", "2")` also sends
    /// `ids=1,2`). An empty name is refused when the request is sent.
    pub fn query(mut self, name: impl Into<String>, value: impl Into<CsvList>) -> Self {
        let name = name.into();
        let value = value.into();
        match self.query.iter_mut().find(|(known, _)| *known == name) {
            Some((_, values)) => {
                *values = values.values().iter().chain(value.values()).collect();
            }
            None => self.query.push((name, value)),
        }
        self
    }

    /// Sends `body` as the JSON body (`Content-Type: application/json`).
    /// A body that cannot be written as JSON (a map with non-string keys)
    /// is refused when the request is sent.
    pub fn json<B: Serialize + ?Sized>(mut self, body: &B) -> Self {
        self.body = Some(
            serde_json::to_vec(body)
                .map_err(|e| format!("{OPERATION}: the body cannot be written as JSON: {e}")),
        );
        self
    }

    /// The path the request goes to, from the console root
    /// (`/web/api/v2.1/agents/count`), or why it is refused.
    ///
    /// ```
    /// # let client = sentinelone::Client::builder()
    /// #     .console_url("https://usea1.sentinelone.net").api_token("t").build().unwrap();
    /// use reqwest::Method;
    ///
    /// let request = client.api_request(Method::GET, "agents/count");
    /// assert_eq!(request.path().unwrap(), "/web/api/v2.1/agents/count");
    /// assert!(client.api_request(Method::GET, "https://elsewhere/x").path().is_err());
    /// ```
    pub fn path(&self) -> Result<&str, Error> {
        self.path
            .as_deref()
            .map_err(|why| Error::invalid(why.clone()))
    }

    /// Sends the request and decodes the answer as `T`. An empty answer
    /// reads as JSON `null` (so `()`, `Option<_>` and [`Value`] take it).
    /// An answer that does not decode is [`Error::Decode`].
    pub async fn send<T: DeserializeOwned>(self) -> Result<T, Error> {
        let bytes = self.answer(None).await?;
        decode(&bytes)
    }

    /// Sends the request and reads the answer as JSON (`Value::Null` when
    /// it is empty).
    pub async fn send_value(self) -> Result<Value, Error> {
        self.send().await
    }

    /// Sends the request and returns the response for its status and
    /// headers, its body unread (a success: an error status is an
    /// [`Error`]). Reading the body stays under the client's answer size
    /// cap ([`crate::ClientBuilder::max_response_bytes`]); map a failure
    /// with [`Error::transport`] and [`OPERATION`].
    pub async fn response(self) -> Result<reqwest::Response, Error> {
        self.execute(None).await
    }

    /// Every page of a cursor-paged list, as JSON: the request is sent as
    /// given, then again with `cursor=` set to each page's
    /// `pagination.nextCursor` (replacing a `cursor` given with
    /// [`ApiRequest::query`]) until there is none. A page must be an object
    /// whose `data` is a list (or absent, or null: no items); anything else
    /// ends the stream with [`Error::Decode`], and so does a console that
    /// would page forever (a repeated cursor, empty pages that still carry
    /// one: see [`crate::pagination::CursorWalk`]). Page size is the
    /// `limit` given, if any: none is added. The next page is fetched only
    /// when the consumer asks for it.
    pub fn pages(self) -> impl Stream<Item = Result<Value, Error>> + Send + 'c {
        stream::try_unfold(
            (Some(None::<String>), CursorWalk::default(), self),
            |(state, mut walk, request)| async move {
                let Some(cursor) = state else {
                    return Ok(None);
                };
                let page: Value = decode(&request.answer(cursor.as_deref()).await?)?;
                let (items, next) = page_shape(&page)?;
                let next = walk.next(OPERATION, items, next)?;
                Ok(Some((page, (next.map(Some), walk, request))))
            },
        )
    }

    /// Every item (`data[]`) of every page, as JSON, in order: see
    /// [`ApiRequest::pages`].
    pub fn items(self) -> impl Stream<Item = Result<Value, Error>> + Send + 'c {
        self.pages()
            .map_ok(|page| stream::iter(into_items(page).into_iter().map(Ok)))
            .try_flatten()
    }

    /// Every item of every page decoded as `T`. An item that does not
    /// decode arrives as [`Error::Decode`] (its start in the excerpt) and
    /// the stream goes on with the next one; a failed request ends it.
    pub fn items_as<T: DeserializeOwned>(self) -> impl Stream<Item = Result<T, Error>> + Send + 'c {
        self.items().map(|item| {
            let item = item?;
            T::deserialize(&item)
                .map_err(|e| Error::decode(OPERATION, item.to_string().as_bytes(), e))
        })
    }

    /// Sends the request (with `cursor` in place of any given) and reads
    /// the whole answer, under the size cap.
    async fn answer(&self, cursor: Option<&str>) -> Result<bytes::Bytes, Error> {
        self.execute(cursor)
            .await?
            .bytes()
            .await
            .map_err(|e| Error::transport(OPERATION, e))
    }

    /// Sends the request through the client's transport.
    async fn execute(&self, cursor: Option<&str>) -> Result<reqwest::Response, Error> {
        let request = self.build(cursor)?;
        tracing::debug!(
            target: "sentinelone::request",
            method = %request.method(),
            path = request.url().path(),
            "generic request"
        );
        self.client.execute(request, OPERATION).await
    }

    /// The request to send, or why nothing may be sent.
    fn build(&self, cursor: Option<&str>) -> Result<reqwest::Request, Error> {
        let path = self.path()?;
        if !METHODS.contains(&self.method) {
            return Err(Error::invalid(format!(
                "{OPERATION}: method {:?} is not allowed (one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS); nothing was sent",
                self.method.as_str()
            )));
        }
        if self.query.iter().any(|(name, _)| name.is_empty()) {
            return Err(Error::invalid(format!(
                "{OPERATION}: a query parameter has an empty name; nothing was sent"
            )));
        }
        let mut pairs: Vec<(&str, String)> = self
            .query
            .iter()
            .filter(|(name, _)| cursor.is_none() || name != "cursor")
            .map(|(name, values)| (name.as_str(), values.to_string()))
            .collect();
        if let Some(cursor) = cursor {
            pairs.push(("cursor", cursor.to_string()));
        }
        let mut builder = self.client.request(self.method.clone(), path);
        if !pairs.is_empty() {
            builder = builder.query(&pairs);
        }
        if let Some(body) = &self.body {
            let body = body.clone().map_err(Error::invalid)?;
            builder = builder
                .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
                .body(body);
        }
        let request = builder
            .build()
            .map_err(|e| Error::invalid(format!("{OPERATION}: {e}; nothing was sent")))?;
        self.stays_on_console(&request, path)?;
        Ok(request)
    }

    /// The request built goes to the console's origin and to `path`
    /// exactly (the URL parser normalized nothing away).
    fn stays_on_console(&self, request: &reqwest::Request, path: &str) -> Result<(), Error> {
        let url = request.url();
        let console = url::Url::parse(self.client.console_url())
            .map_err(|e| Error::invalid(format!("{OPERATION}: the console URL: {e}")))?;
        if url.origin() != console.origin() || url.fragment().is_some() {
            return Err(Error::invalid(format!(
                "{OPERATION}: the path {:?} would not stay on the console; nothing was sent",
                shown(path)
            )));
        }
        if url.path() != path {
            return Err(Error::invalid(format!(
                "{OPERATION}: the path {:?} would be sent as {:?}: give it percent-encoded; nothing was sent",
                shown(path),
                shown(url.path())
            )));
        }
        Ok(())
    }
}

/// `bytes` decoded as `T`; an empty (or blank) answer reads as `null`.
fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Error> {
    let text: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
        b"null"
    } else {
        bytes
    };
    serde_json::from_slice(text).map_err(|e| Error::decode(OPERATION, bytes, e))
}

/// How many items a page holds and the next cursor it names.
fn page_shape(page: &Value) -> Result<(usize, Option<&str>), Error> {
    let not_a_page =
        |why: &str| Error::decode(OPERATION, page.to_string().as_bytes(), why.to_string());
    let Value::Object(fields) = page else {
        return Err(not_a_page("the answer is not a list page (not an object)"));
    };
    let items = match fields.get("data") {
        None | Some(Value::Null) => 0,
        Some(Value::Array(items)) => items.len(),
        Some(_) => {
            return Err(not_a_page(
                "the answer is not a list page: data is not a list",
            ));
        }
    };
    let next = match page.pointer("/pagination/nextCursor") {
        None | Some(Value::Null) => None,
        Some(Value::String(cursor)) => Some(cursor.as_str()),
        Some(_) => return Err(not_a_page("pagination.nextCursor is not a string")),
    };
    Ok((items, next))
}

/// The items of a page checked by [`page_shape`].
fn into_items(page: Value) -> Vec<Value> {
    match page {
        Value::Object(mut fields) => match fields.remove("data") {
            Some(Value::Array(items)) => items,
            _ => Vec::new(),
        },
        _ => Vec::new(),
    }
}

/// The path from the console root that `path` names, or why it is
/// refused: see [`Client::api_request`].
fn console_path(path: &str) -> Result<String, String> {
    let refuse = |why: &str| {
        Err(format!(
            "{OPERATION}: path {:?} {why}; nothing was sent",
            shown(path)
        ))
    };
    if path.is_empty() {
        return Err(format!(
            "{OPERATION}: the path is empty; give a path of the API such as agents/count; nothing was sent"
        ));
    }
    if let Some(c) = path.chars().find(|c| c.is_control()) {
        return refuse(&format!("holds the control character {c:?}"));
    }
    if path.chars().any(char::is_whitespace) {
        return refuse("holds whitespace (percent-encode it: %20)");
    }
    if !path.is_ascii() {
        return refuse("holds a non-ASCII character (percent-encode it)");
    }
    let first = path.split('/').next().unwrap_or_default();
    if first.contains(':') {
        return refuse(
            "is an absolute URL: give a path on the console (agents/count, /web/api/v2.1/agents/count)",
        );
    }
    if path.starts_with("//") {
        return refuse("is a scheme-relative URL (//host/...): give a path on the console");
    }
    if path.contains('\\') {
        return refuse("holds a backslash");
    }
    if path.contains('@') {
        return refuse("holds an @");
    }
    if path.contains('?') {
        return refuse(
            "holds a ?: give query parameters with .query() (--query on the command line)",
        );
    }
    if path.contains('#') {
        return refuse("holds a #: a fragment is never sent");
    }
    if let Some(c) = path
        .chars()
        .find(|c| matches!(c, '"' | '<' | '>' | '`' | '{' | '}'))
    {
        return refuse(&format!("holds {c:?}: percent-encode it"));
    }
    let api_root = format!("{API_PREFIX}/");
    let full = if path.starts_with(&api_root) || path.starts_with(SDL_PREFIX) {
        path.to_string()
    } else {
        format!("{api_root}{}", path.strip_prefix('/').unwrap_or(path))
    };
    let below = full
        .strip_prefix(&api_root)
        .or_else(|| full.strip_prefix(SDL_PREFIX))
        .unwrap_or_default();
    if below.is_empty() {
        return refuse("names no resource below its prefix");
    }
    let segments: Vec<&str> = below.split('/').collect();
    let last = segments.len() - 1;
    for (i, segment) in segments.iter().enumerate() {
        if segment.is_empty() {
            if i == last {
                // A trailing slash: some paths of the API are written so.
                continue;
            }
            return refuse("holds an empty segment (//)");
        }
        if let Some(why) = hidden_in(segment) {
            return refuse(why);
        }
    }
    Ok(full)
}

/// What makes `segment` unsafe, looking through up to [`DECODE_ROUNDS`]
/// rounds of percent-decoding: a `.` or `..` segment, a `/` or `\` that
/// a server decoding it would split on, a control character.
fn hidden_in(segment: &str) -> Option<&'static str> {
    let mut text = segment.to_string();
    for round in 0..=DECODE_ROUNDS {
        if text == "." || text == ".." {
            return Some(if round == 0 {
                "holds a . or .. segment"
            } else {
                "holds a percent-encoded . or .. segment (%2e%2e)"
            });
        }
        if round > 0 && (text.contains('/') || text.contains('\\')) {
            return Some("holds a percent-encoded / or \\ (%2f, %5c)");
        }
        if round > 0 && text.chars().any(char::is_control) {
            return Some("holds a percent-encoded control character");
        }
        let decoded = percent_encoding::percent_decode_str(&text)
            .decode_utf8_lossy()
            .into_owned();
        if decoded == text {
            return None;
        }
        text = decoded;
    }
    Some("is percent-encoded too many times over")
}

/// `path` as it is shown in an error: at most 200 characters.
fn shown(path: &str) -> String {
    const SHOWN: usize = 200;
    match path.char_indices().nth(SHOWN) {
        Some((end, _)) => format!("{}…", &path[..end]),
        None => path.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_relative_to_the_api_or_from_the_root() {
        for (given, full) in [
            ("agents/count", "/web/api/v2.1/agents/count"),
            ("/agents/count", "/web/api/v2.1/agents/count"),
            ("/web/api/v2.1/agents/count", "/web/api/v2.1/agents/count"),
            ("/sdl/v2/api/queries", "/sdl/v2/api/queries"),
            ("sdl/v2/api/queries", "/web/api/v2.1/sdl/v2/api/queries"),
            ("agents/", "/web/api/v2.1/agents/"),
            ("agents/a%20b", "/web/api/v2.1/agents/a%20b"),
            ("agents/a:b", "/web/api/v2.1/agents/a:b"),
            ("threats/1...2", "/web/api/v2.1/threats/1...2"),
        ] {
            assert_eq!(console_path(given).as_deref(), Ok(full), "{given}");
        }
    }

    #[test]
    fn paths_that_could_leave_the_console_are_refused() {
        for (given, why) in [
            ("", "the path is empty"),
            ("https://evil.example/x", "is an absolute URL"),
            ("HTTP://evil.example/x", "is an absolute URL"),
            ("javascript:x", "is an absolute URL"),
            ("//evil.example/x", "scheme-relative"),
            ("///evil.example/x", "scheme-relative"),
            ("../x", "holds a . or .. segment"),
            ("agents/../../x", "holds a . or .. segment"),
            ("agents/./x", "holds a . or .. segment"),
            ("agents/%2e%2e/x", "percent-encoded . or .."),
            ("agents/%2E%2e", "percent-encoded . or .."),
            ("agents/.%2e", "percent-encoded . or .."),
            ("agents/%252e%252e", "percent-encoded . or .."),
            ("agents/a%2fb", "percent-encoded / or \\"),
            ("agents/a%5Cb", "percent-encoded / or \\"),
            ("agents/a%0ab", "percent-encoded control"),
            ("agents\\..\\x", "backslash"),
            ("agents/x\n", "control character"),
            ("agents/\u{7f}", "control character"),
            ("agents x", "whitespace"),
            ("agents/é", "non-ASCII"),
            ("user@evil.example/x", "holds an @"),
            ("agents?limit=1", "holds a ?"),
            ("agents#x", "holds a #"),
            ("agents/{id}", "holds '{': percent-encode it"),
            ("agents/<a>", "holds '<'"),
            ("agents//x", "empty segment"),
            ("/web/api/v2.1/", "names no resource"),
            ("/sdl/", "names no resource"),
            ("/", "names no resource"),
        ] {
            let refused = console_path(given).expect_err(given);
            assert!(
                refused.contains(why) && refused.ends_with("nothing was sent"),
                "{given:?}: {refused}"
            );
        }
    }

    proptest::proptest! {
        /// Whatever the text, checking it does not panic, and a path let
        /// through stays below its prefix on the console, unchanged by the
        /// URL parser.
        #[test]
        fn accepted_paths_stay_on_the_console(
            path in "[a-z0-9./%@?#:\\\\ {}-]{0,24}|\\PC{0,12}"
        ) {
            if let Ok(full) = console_path(&path) {
                proptest::prop_assert!(
                    full.starts_with("/web/api/v2.1/") || full.starts_with(SDL_PREFIX),
                    "{full}"
                );
                proptest::prop_assert!(!full.contains("//") && !full.contains("/../"), "{full}");
                let url = url::Url::parse(&format!("https://console.example{full}")).unwrap();
                proptest::prop_assert_eq!(url.host_str(), Some("console.example"));
                proptest::prop_assert_eq!(url.path(), full.as_str());
                proptest::prop_assert!(url.query().is_none() && url.fragment().is_none());
            }
        }
    }

    #[test]
    fn long_paths_are_cut_in_messages() {
        let long = format!("{}?", "a".repeat(500));
        let refused = console_path(&long).unwrap_err();
        assert!(refused.len() < 400, "{refused}");
        assert!(refused.contains("…"), "{refused}");
    }

    #[test]
    fn pages_are_read_by_shape() {
        use serde_json::json;
        let page = json!({"data": [1, 2], "pagination": {"nextCursor": "c"}});
        assert_eq!(page_shape(&page).unwrap(), (2, Some("c")));
        assert_eq!(page_shape(&json!({"data": null})).unwrap(), (0, None));
        assert_eq!(page_shape(&json!({})).unwrap(), (0, None));
        for bad in [
            json!([1]),
            json!({"data": {"a": 1}}),
            json!({"data": [], "pagination": {"nextCursor": 3}}),
        ] {
            assert!(
                matches!(page_shape(&bad), Err(Error::Decode { .. })),
                "{bad}"
            );
        }
        assert_eq!(into_items(page), vec![json!(1), json!(2)]);
    }

    #[test]
    fn blank_answers_read_as_null() {
        assert_eq!(decode::<Value>(b"").unwrap(), Value::Null);
        assert_eq!(decode::<Option<u8>>(b" \n").unwrap(), None);
        assert!(matches!(decode::<u8>(b"<html>"), Err(Error::Decode { .. })));
    }
}
