//! `s1 request METHOD PATH`: any method on any path of the API, through
//! the library's generic request ([`Client::api_request`]): same token,
//! quotas, 429 waits and retry rules as every other command.

use clap::Args;
use futures_util::TryStreamExt;
use reqwest::Method;
use sentinelone::request::{METHODS, OPERATION};
use sentinelone::{Client, Error};
use serde_json::Value;

use crate::confirm::Confirm;
use crate::exit::Failure;
use crate::output::{self, Choice, Format};

/// One generic request.
#[derive(Args, Debug)]
#[command(after_help = "\
PATH is relative to /web/api/v2.1 (agents/count), or from the console root
when it starts with /web/api/v2.1/ or /sdl/. A path that could leave the
console (a URL, //host, .. segments, backslashes, @, control characters) is
refused, and so is a ? or # in it: give the query with --query. POST and
PATCH are never sent twice; GET, HEAD, PUT, DELETE and OPTIONS are retried
after a 5xx or a timeout.

Output: the JSON answer (indented on a terminal, one line when piped;
nothing for an empty answer), or what --output asks for (a table or CSV
of the items in `data`). With --all, every item of `data` of every page,
following pagination.nextCursor, as JSON Lines.

At a terminal, a method other than GET, HEAD and OPTIONS asks before it is
sent (--yes does not ask).")]
pub struct RequestArgs {
    /// GET, HEAD, POST, PUT, PATCH, DELETE or OPTIONS
    #[arg(value_name = "METHOD")]
    method: String,
    /// The API path, e.g. agents/count or /web/api/v2.1/agents/count
    #[arg(value_name = "PATH")]
    path: String,
    /// A query parameter; repeat for more (a name given again adds its
    /// value, comma-joined)
    #[arg(long = "query", value_name = "NAME=VALUE")]
    query: Vec<String>,
    /// The JSON body, or @FILE to read it from a file (@- for stdin)
    #[arg(long, value_name = "JSON|@FILE")]
    body: Option<String>,
    /// Follow pagination.nextCursor; print every item as JSON Lines
    #[arg(long)]
    all: bool,
}

impl RequestArgs {
    /// Whether the method may change the console (anything but GET, HEAD
    /// and OPTIONS; a method that is none of those counts as a change).
    pub fn writes(&self) -> bool {
        method(&self.method).map_or(true, |m| writes(&m))
    }
}

/// Whether `method` may change the console: anything but GET, HEAD and
/// OPTIONS.
fn writes(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Checks the input, asks when the method changes something, sends the
/// request, prints the answer.
pub async fn run(
    client: &Client,
    args: &RequestArgs,
    choice: Choice,
    confirm: Confirm,
) -> Result<(), Failure> {
    let method = method(&args.method)?;
    let mut request = client.api_request(method.clone(), &args.path);
    for pair in &args.query {
        let (name, value) = query_pair(pair)?;
        request = request.query(name, value);
    }
    if let Some(text) = &args.body {
        request = request.json(&crate::api::read_body(text)?);
    }
    // A refused path is a usage error before anything is sent.
    let path = request.path()?.to_string();
    if writes(&method) {
        let mut summary = format!("{method} {path}");
        for pair in &args.query {
            summary.push_str(&format!("\n  {pair}"));
        }
        if args.body.is_some() {
            summary.push_str("\n  with the --body given");
        }
        confirm.proceed(&summary).await?;
    }
    let format = choice.json_unless_asked();
    if args.all {
        let mut items = std::pin::pin!(request.items());
        if !choice.explicit || format == Format::Jsonl {
            while let Some(item) = items.try_next().await? {
                output::json_line(&item)?;
            }
            return Ok(());
        }
        let items: Vec<Value> = items.try_collect().await?;
        return output::items(items).print(format);
    }
    let response = request.response().await?;
    let bytes = response
        .bytes()
        .await
        .map_err(|e| Error::transport(OPERATION, e))?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(());
    }
    let answer: Value =
        serde_json::from_slice(&bytes).map_err(|e| Error::decode(OPERATION, &bytes, e))?;
    output::answer(answer).print(format)
}

/// The method named on the command line (any case).
fn method(text: &str) -> Result<Method, Failure> {
    let upper = text.trim().to_ascii_uppercase();
    METHODS
        .iter()
        .find(|m| m.as_str() == upper)
        .cloned()
        .ok_or_else(|| {
            Failure::usage(format!(
                "METHOD {text:?} is not one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"
            ))
        })
}

/// `NAME=VALUE` split at its first `=`.
fn query_pair(pair: &str) -> Result<(&str, &str), Failure> {
    match pair.split_once('=') {
        Some(("", _)) => Err(Failure::usage(format!(
            "--query {pair:?} has no name: give NAME=VALUE"
        ))),
        Some(split) => Ok(split),
        None => Err(Failure::usage(format!(
            "--query {pair:?} is not NAME=VALUE (no =)"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_in_any_case() {
        assert_eq!(method("get").unwrap(), Method::GET);
        assert_eq!(method("Patch").unwrap(), Method::PATCH);
        for bad in ["TRACE", "CONNECT", "FETCH", ""] {
            let err = method(bad).unwrap_err();
            assert_eq!(err.code(), crate::exit::USAGE, "{bad}");
        }
    }

    #[test]
    fn query_pairs_need_a_name_and_an_equals_sign() {
        assert_eq!(query_pair("limit=2").unwrap(), ("limit", "2"));
        assert_eq!(query_pair("q=a=b").unwrap(), ("q", "a=b"));
        assert_eq!(query_pair("empty=").unwrap(), ("empty", ""));
        assert!(
            query_pair("limit")
                .unwrap_err()
                .to_string()
                .contains("no =")
        );
        assert!(
            query_pair("=2")
                .unwrap_err()
                .to_string()
                .contains("no name")
        );
    }
}
