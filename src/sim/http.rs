//! Requests as the simulated console reads them, and its replies: JSON
//! bodies, SentinelOne's error format, cursor pages.

use std::collections::HashMap;

use httpmock::{HttpMockRequest, HttpMockResponse};
use serde_json::{Value, json};

/// The API prefix every route is below.
pub(crate) use crate::API_PREFIX as PREFIX;

/// One request, parsed.
#[derive(Debug)]
pub(crate) struct Req {
    pub method: String,
    /// Path below [`PREFIX`] (`/agents`), or the full path when outside it.
    pub path: String,
    pub query: HashMap<String, String>,
    pub body: Value,
    pub token: Option<String>,
    /// The Authorization header as sent.
    pub authorization: Option<String>,
    /// `X-Dataset-Query-Forward-Tag`, when sent.
    pub forward_tag: Option<String>,
}

impl Req {
    pub fn parse(request: &HttpMockRequest) -> Req {
        let uri = request.uri();
        let full = uri.path().to_string();
        let path = full.strip_prefix(PREFIX).unwrap_or(&full).to_string();
        let query = uri
            .query()
            .map(|q| {
                url::form_urlencoded::parse(q.as_bytes())
                    .into_owned()
                    .collect()
            })
            .unwrap_or_default();
        let body = serde_json::from_slice(request.body().as_ref()).unwrap_or(Value::Null);
        let header = |name: &str| {
            request
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let authorization = header("authorization");
        let token = authorization
            .as_deref()
            .and_then(|v| v.strip_prefix("ApiToken "))
            .map(str::to_string);
        let forward_tag = header("x-dataset-query-forward-tag");
        Req {
            method: request.method_str().to_ascii_uppercase(),
            path,
            query,
            body,
            token,
            authorization,
            forward_tag,
        }
    }

    /// The path split into segments (`["agents", "123", "uploads"]`).
    pub fn segments(&self) -> Vec<&str> {
        self.path.split('/').filter(|s| !s.is_empty()).collect()
    }

    /// The route counters use: ids (all-digit segments) as `{id}`.
    pub fn route(&self) -> String {
        let lrq = self.path.starts_with("/sdl/v2/api/queries/");
        let path: Vec<&str> = self
            .segments()
            .into_iter()
            .enumerate()
            .map(|(i, s)| {
                // LRQ ids are not numeric: the segment after `queries`.
                if lrq && i == 4 || !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
                    "{id}"
                } else {
                    s
                }
            })
            .collect();
        format!("{} /{}", self.method, path.join("/"))
    }

    /// A query value.
    pub fn q(&self, key: &str) -> Option<&str> {
        self.query
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// A comma-joined query list (empty when absent).
    pub fn list(&self, key: &str) -> Vec<String> {
        self.q(key)
            .map(|v| v.split(',').map(|s| s.trim().to_string()).collect())
            .unwrap_or_default()
    }

    /// A list from the JSON body at `pointer` (`/filter/ids`); a single
    /// string counts as a list of one.
    pub fn body_list(&self, pointer: &str) -> Vec<String> {
        match self.body.pointer(pointer) {
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(|v| match v {
                    Value::String(s) => Some(s.clone()),
                    Value::Number(n) => Some(n.to_string()),
                    _ => None,
                })
                .collect(),
            Some(Value::String(s)) => vec![s.clone()],
            _ => Vec::new(),
        }
    }

    /// A string from the JSON body.
    pub fn body_str(&self, pointer: &str) -> Option<String> {
        match self.body.pointer(pointer) {
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        }
    }
}

/// A reply before it becomes an httpmock response.
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(status: u16, body: Value) -> Reply {
        Reply {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: serde_json::to_vec(&body).unwrap_or_default(),
        }
    }

    /// `{"data": data}` with 200.
    pub fn data(data: Value) -> Reply {
        Reply::json(200, json!({ "data": data }))
    }

    /// `{"data": {"affected": n}}`.
    pub fn affected(n: usize) -> Reply {
        Reply::data(json!({ "affected": n }))
    }

    /// An error in SentinelOne's format.
    pub fn error(status: u16, code: u32, title: &str, detail: &str) -> Reply {
        Reply::json(
            status,
            json!({ "errors": [{ "code": code, "title": title, "detail": detail }] }),
        )
    }

    /// 400 Validation Error naming what is wrong.
    pub fn invalid(detail: &str) -> Reply {
        Reply::error(400, 4000010, "Validation Error", detail)
    }

    /// 404 for an unknown object.
    pub fn not_found(detail: &str) -> Reply {
        Reply::error(404, 4040010, "Resource not found", detail)
    }

    /// Binary content.
    pub fn bytes(content_type: &str, body: Vec<u8>) -> Reply {
        Reply {
            status: 200,
            headers: vec![("content-type".into(), content_type.into())],
            body,
        }
    }

    pub fn header(mut self, name: &str, value: String) -> Reply {
        self.headers.push((name.to_string(), value));
        self
    }

    pub fn into_response(self) -> HttpMockResponse {
        let mut builder = HttpMockResponse::builder().status(self.status);
        for (k, v) in self.headers {
            builder = builder.header(k, v);
        }
        builder.body(self.body).build()
    }
}

/// The method of `route` (`GET /agents/{id}`) and a pattern matching
/// the full paths of its requests: each `{id}` any one segment, the path
/// below [`PREFIX`] unless it is one of the console root's (`/sdl/`).
pub(crate) fn route_pattern(route: &str) -> (String, String) {
    let (method, path) = route.split_once(' ').unwrap_or(("GET", route));
    let full = if crate::uses_bearer(path) {
        path.to_string()
    } else {
        format!("{PREFIX}{path}")
    };
    let segments: Vec<String> = full
        .split('/')
        .map(|s| match s {
            "{id}" => "[^/]+".to_string(),
            s => regex::escape(s),
        })
        .collect();
    (method.to_string(), format!("^{}$", segments.join("/")))
}

/// The page of `items` a request asks for: `limit` (default 10, at most
/// 1000) from the `cursor` (an offset this console hands out), with
/// `pagination.nextCursor` and `totalItems`.
pub(crate) fn page(req: &Req, items: Vec<Value>) -> Reply {
    page_of(req, &items, Value::clone)
}

/// [`page`] of `items` that become JSON by `json`, only those of the page.
pub(crate) fn page_of<T>(req: &Req, items: &[T], json: impl Fn(&T) -> Value) -> Reply {
    let limit = match req.q("limit").map(str::parse::<usize>) {
        None => 10,
        Some(Ok(n)) if (1..=1000).contains(&n) => n,
        Some(_) => return Reply::invalid("limit must be an integer from 1 to 1000"),
    };
    let start = match req.q("cursor") {
        None => 0,
        Some(c) => match decode_cursor(c) {
            Some(n) => n,
            None => return Reply::invalid("cursor is not valid"),
        },
    };
    let total = items.len();
    let end = (start + limit).min(total);
    let next = (end < total).then(|| encode_cursor(end));
    let data: Vec<Value> = items.iter().skip(start).take(limit).map(json).collect();
    Reply::json(
        200,
        json!({ "data": data, "pagination": { "nextCursor": next, "totalItems": total } }),
    )
}

fn encode_cursor(offset: usize) -> String {
    format!("sim-{offset:x}")
}

fn decode_cursor(cursor: &str) -> Option<usize> {
    usize::from_str_radix(cursor.strip_prefix("sim-")?, 16).ok()
}

/// Case-insensitive "any of `needles` is contained in `hay`"; true when
/// there are no needles.
pub(crate) fn contains_any(hay: &str, needles: &[String]) -> bool {
    let hay = hay.to_lowercase();
    needles.is_empty() || needles.iter().any(|n| hay.contains(&n.to_lowercase()))
}

/// "`value` is one of `allowed`"; true when nothing is required.
pub(crate) fn one_of(value: &str, allowed: &[String]) -> bool {
    allowed.is_empty() || allowed.iter().any(|a| a.eq_ignore_ascii_case(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_route_pattern_matches_its_paths_only() {
        let (method, pattern) = route_pattern("GET /agents/{id}/uploads/{id}");
        let pattern = regex::Regex::new(&pattern).unwrap();
        assert_eq!(method, "GET");
        assert!(pattern.is_match(&format!("{PREFIX}/agents/12/uploads/34")));
        assert!(!pattern.is_match(&format!("{PREFIX}/agents/12/uploads")));
        assert!(!pattern.is_match(&format!("{PREFIX}/agents/12/uploads/34/x")));
        let (_, pattern) = route_pattern("GET /sdl/v2/api/queries/{id}");
        assert_eq!(pattern, "^/sdl/v2/api/queries/[^/]+$");
    }
}
