//! `s1 api <operationId>`: every operation of the spec, built at run time
//! from the generated operation table. One subcommand per operation, one
//! `--<name>` option per parameter as the API spells it, `--body` when the
//! operation takes one, `--all` on cursor-paged lists, `--out` for files.
//! Requests go through the client's transport (quotas, 429 waits,
//! retries); JSON answers are decoded into their typed response before
//! they are printed. `s1 api --help` lists the operations' tags, `s1 api
//! --tag TAG` the operations of one.

use std::path::PathBuf;

use clap::builder::{BoolishValueParser, PossibleValuesParser, TypedValueParser};
use clap::{Arg, ArgAction, ArgMatches, Command};
use sentinelone::pagination::CursorWalk;
use sentinelone::quota::Quotas;
use sentinelone::raw::{
    self, BodyUse, OPERATIONS, OperationSpec, ParamKind, ParamLocation, ParamSpec, ResponseKind,
};
use sentinelone::{Client, Error};
use serde_json::Value;

use crate::confirm::Confirm;
use crate::exit::Failure;
use crate::output::{self, Choice, Format, Output, Table};

/// Argument ids of the options every operation may have; no parameter of
/// the spec is spelled like them (the command tree's self-check fails
/// otherwise).
const BODY: &str = "body";
const ALL: &str = "all";
const OUTPUT: &str = "out";
/// The argument id of `s1 api --tag`.
const TAG: &str = "tag";
/// The `--tag` value that lists every operation.
const ALL_TAGS: &str = "all";
const OVERWRITE: &str = "overwrite";

/// How `s1 api --help` ends.
const API_HELP: &str = "\
Options are the operation's parameters as the API spells them
(--computerName__contains a,b); list parameters take comma-separated values
or the option repeated. --body takes JSON, or @FILE to read it from a file
(@- for stdin).

Output: the answer decoded into its typed response, as JSON (indented on a
terminal, one line when piped). With --all (paged lists), every item of
every page as JSON Lines: one compact item per line, pages followed by
their cursor. --output table or csv prints the items of `data` as rows.
With --out FILE, a file answer is written to FILE (an existing FILE is
replaced only with --overwrite). At a terminal, an operation other than a
GET asks before it is sent (--yes does not ask).

Operations marked [not in the 2026 index] are missing from SentinelOne's
2026 endpoint index: newer consoles may no longer serve them. They stay
callable.";

/// The note of an operation SentinelOne's 2026 endpoint index does not
/// list (`s1 api <operation> --help`); the list marks it
/// `[not in the 2026 index]`.
const ABSENT_2026_NOTE: &str =
    "Not in SentinelOne's 2026 endpoint index; may be gone from newer consoles. It stays callable.";

/// One parsed `s1 api` invocation: an operation and its arguments, or
/// the operations of a tag to list.
pub enum ApiCall {
    /// Call an operation.
    Operation {
        /// The operation.
        spec: &'static OperationSpec,
        /// Its arguments.
        matches: ArgMatches,
    },
    /// List the operations of a tag (`s1 api --tag TAG`).
    Tag(String),
}

impl ApiCall {
    /// Whether it only lists operations (no console needed).
    pub fn lists_operations(&self) -> bool {
        matches!(self, ApiCall::Tag(_))
    }

    /// Whether it calls an operation whose method is not GET: one that
    /// may change the console, asked about before it is sent.
    pub fn writes(&self) -> bool {
        matches!(self, ApiCall::Operation { spec, .. } if !spec.method.eq_ignore_ascii_case("GET"))
    }
}

impl clap::FromArgMatches for ApiCall {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        if let Some(tag) = matches.get_one::<String>(TAG) {
            return Ok(ApiCall::Tag(tag.clone()));
        }
        let (name, sub) = matches.subcommand().ok_or_else(|| {
            clap::Error::raw(
                clap::error::ErrorKind::MissingSubcommand,
                "name an operation, or give --tag TAG to list a tag's (s1 api --help lists the tags)\n",
            )
        })?;
        let spec = raw::operation(name).ok_or_else(|| {
            clap::Error::raw(
                clap::error::ErrorKind::InvalidSubcommand,
                format!("no operation {name:?} in the spec\n"),
            )
        })?;
        Ok(ApiCall::Operation {
            spec,
            matches: sub.clone(),
        })
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(matches)?;
        Ok(())
    }
}

impl clap::Args for ApiCall {
    fn augment_args(cmd: Command) -> Command {
        cmd.subcommand_value_name("OPERATION")
            .args_conflicts_with_subcommands(true)
            .arg(Arg::new(TAG).long(TAG).value_name("TAG").help(
                "List the operations of TAG (as below, any case, - or _ for \
                         spaces; `all` for every operation); needs no console",
            ))
            // The 366 operations are not listed here, only their tags.
            .help_template(API_HELP_TEMPLATE)
            .after_help(format!("{}\n\n{API_HELP}", tags_help()))
            .subcommands(OPERATIONS.iter().map(operation_command))
    }

    fn augment_args_for_update(cmd: Command) -> Command {
        Self::augment_args(cmd)
    }
}

/// `s1 api --help`: the usage and options, without the list of every
/// operation (the tags are listed after it).
const API_HELP_TEMPLATE: &str = "\
{about-with-newline}
{usage-heading} {usage}

Options:
{options}
{after-help}";

/// The tags and how many operations each has, in the spec's order of
/// first appearance sorted by name.
fn tags() -> Vec<(&'static str, usize)> {
    let mut tags: Vec<(&'static str, usize)> = Vec::new();
    for spec in OPERATIONS {
        match tags.iter_mut().find(|(tag, _)| *tag == spec.tag) {
            Some((_, count)) => *count += 1,
            None => tags.push((spec.tag, 1)),
        }
    }
    tags.sort_by_key(|(tag, _)| tag.to_ascii_lowercase());
    tags
}

/// The tags section of `s1 api --help`.
fn tags_help() -> String {
    let tags = tags();
    let width = tags.iter().map(|(tag, _)| tag.len()).max().unwrap_or(0);
    let mut text = format!(
        "Operations by tag ({} in all). `s1 api --tag TAG` lists a tag's\n\
         operations, `s1 api OPERATION --help` shows one:\n",
        OPERATIONS.len()
    );
    for (tag, count) in tags {
        text.push_str(&format!("  {tag:<width$}  {count:>3}\n"));
    }
    text.trim_end().to_string()
}

/// Whether `tag` names `wanted` (any case; spaces, `-` and `_` alike).
fn same_tag(tag: &str, wanted: &str) -> bool {
    let key = |text: &str| -> String {
        text.chars()
            .filter(|c| !matches!(c, ' ' | '-' | '_'))
            .flat_map(char::to_lowercase)
            .collect()
    };
    key(tag) == key(wanted)
}

/// `s1 api --tag TAG`: the operations of the tag (every one for `all`),
/// printed as `choice` says.
pub fn list_operations(call: &ApiCall, choice: Choice) -> Result<(), Failure> {
    let ApiCall::Tag(wanted) = call else {
        return Ok(());
    };
    let all = same_tag(ALL_TAGS, wanted);
    let specs: Vec<&OperationSpec> = OPERATIONS
        .iter()
        .filter(|spec| all || same_tag(spec.tag, wanted))
        .collect();
    if specs.is_empty() {
        return Err(Failure::usage(format!(
            "no tag {:?}: s1 api --help lists the tags",
            output::printable(wanted)
        )));
    }
    let mut table = Table::new(["OPERATION", "METHOD", "PATH", "SUMMARY"]);
    let mut items = Vec::new();
    for spec in &specs {
        let summary = if spec.absent_2026 {
            format!("{} [not in the 2026 index]", spec.summary)
        } else {
            spec.summary.to_string()
        };
        table.row([spec.id, spec.method, spec.path, summary.as_str()]);
        items.push(serde_json::json!({
            "operation": spec.id,
            "method": spec.method,
            "path": spec.path,
            "tag": spec.tag,
            "summary": spec.summary,
            "absent2026": spec.absent_2026,
        }));
    }
    Output::list(items, table).print(choice.format)
}

/// The published rate limit of an operation, in words.
fn rate_limit(spec: &OperationSpec) -> String {
    match Quotas::default().quota_for(spec.method, spec.path) {
        Some(quota) => quota.to_string(),
        None => format!(
            "none published; the client sends at most {} a second to it",
            1.0 / sentinelone::quota::DEFAULT_PERIOD.as_secs_f64()
        ),
    }
}

/// The subcommand of one operation.
fn operation_command(spec: &'static OperationSpec) -> Command {
    let mut long_about = format!(
        "{}\n\n{} {} (tag: {})\n\nRate limit: {}",
        spec.summary,
        spec.method,
        spec.path,
        spec.tag,
        rate_limit(spec)
    );
    let about = if spec.absent_2026 {
        long_about.push_str(&format!("\n\n{ABSENT_2026_NOTE}"));
        format!("{} [not in the 2026 index]", spec.summary)
    } else {
        spec.summary.to_string()
    };
    let mut cmd = Command::new(spec.id)
        .about(about)
        .long_about(long_about)
        .next_help_heading("Parameters")
        .args(spec.params.iter().map(parameter_arg));
    if spec.body != BodyUse::None {
        cmd = cmd.arg(
            Arg::new(BODY)
                .long(BODY)
                .value_name("JSON|@FILE")
                .required(spec.body == BodyUse::Required)
                .help("The JSON body, or @FILE to read it from a file (@- for stdin)"),
        );
    }
    if spec.paged {
        cmd = cmd.arg(
            Arg::new(ALL)
                .long(ALL)
                .action(ArgAction::SetTrue)
                .help("Follow pagination.nextCursor; print every item as JSON Lines"),
        );
    }
    if let ResponseKind::Binary(kind) = spec.response {
        cmd = cmd
            .arg(
                Arg::new(OUTPUT)
                    .long(OUTPUT)
                    .value_name("FILE")
                    .value_parser(clap::value_parser!(PathBuf))
                    .help(format!("Write the answer ({kind}) to FILE")),
            )
            .arg(
                Arg::new(OVERWRITE)
                    .long(OVERWRITE)
                    .action(ArgAction::SetTrue)
                    .requires(OUTPUT)
                    .help("Replace FILE when it exists (default: refuse)"),
            );
    }
    cmd
}

/// The option of one parameter, with a value parser for its kind. Every
/// value is kept as the text to send.
fn parameter_arg(param: &'static ParamSpec) -> Arg {
    let place = match param.location {
        ParamLocation::Path => "path",
        ParamLocation::Query => "query",
        ParamLocation::Header => "header",
    };
    let arg = Arg::new(param.name)
        .long(param.name)
        .required(param.required);
    match param.kind {
        ParamKind::Text => arg.value_name("TEXT").help(format!("{place} parameter")),
        ParamKind::OneOf(values) => arg
            .value_name("VALUE")
            .value_parser(PossibleValuesParser::new(values.iter().copied()))
            .help(format!("{place} parameter")),
        ParamKind::Integer => arg
            .value_name("INTEGER")
            .value_parser(|text: &str| number::<i64>(text, "an integer"))
            .help(format!("{place} parameter, an integer")),
        ParamKind::Number => arg
            .value_name("NUMBER")
            .value_parser(|text: &str| number::<f64>(text, "a number"))
            .help(format!("{place} parameter, a number")),
        ParamKind::Boolean => arg
            .value_name("BOOL")
            .value_parser(BoolishValueParser::new().map(|b| b.to_string()))
            .help(format!("{place} parameter, true or false")),
        ParamKind::DateTime => arg
            .value_name("TIME")
            .value_parser(|text: &str| {
                crate::args::parse_time(text)
                    .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
            })
            .help(format!("{place} parameter, an RFC 3339 time")),
        ParamKind::List => arg
            .value_name("A,B")
            .action(ArgAction::Append)
            .help(format!("{place} parameter, a comma-separated list")),
    }
}

/// `text` when it reads as a `T`, trimmed.
fn number<T: std::str::FromStr>(text: &str, what: &str) -> Result<String, String> {
    let text = text.trim();
    text.parse::<T>()
        .map(|_| text.to_string())
        .map_err(|_| format!("{text:?} is not {what}"))
}

/// Runs the operation: checks the input, sends the request, prints the
/// answer.
pub async fn run(
    client: &Client,
    call: &ApiCall,
    choice: Choice,
    confirm: Confirm,
) -> Result<(), Failure> {
    let ApiCall::Operation { spec, matches } = call else {
        return list_operations(call, choice);
    };
    let spec = *spec;
    let request = Request::from_call(spec, matches)?;
    let output = matches.try_get_one::<PathBuf>(OUTPUT).ok().flatten();
    if let ResponseKind::Binary(kind) = spec.response
        && output.is_none()
        && std::io::IsTerminal::is_terminal(&std::io::stdout())
        && !kind.starts_with("text/")
    {
        return Err(Failure::usage(format!(
            "{} answers {kind}; give --out FILE (or pipe stdout)",
            spec.id
        )));
    }
    if call.writes() {
        confirm.proceed(&request.summary()).await?;
    }
    let format = choice.json_unless_asked();
    if matches.get_flag_or_false(ALL) {
        if !choice.explicit || format == Format::Jsonl {
            return print_all_pages(client, &request, &mut |item| output::json_line(item)).await;
        }
        let mut items = Vec::new();
        print_all_pages(client, &request, &mut |item| {
            items.push(item.clone());
            Ok(())
        })
        .await?;
        return output::items(items).print(format);
    }
    let response = request.send(client, None).await?;
    match (spec.response, output) {
        (ResponseKind::Json, _) => {
            let bytes = body_bytes(spec, response).await?;
            output::answer(decode(spec, &bytes)?).print(format)
        }
        (ResponseKind::Binary(_), Some(path)) => {
            let overwrite = matches.get_flag_or_false(OVERWRITE);
            let saved = client
                .downloads()
                .save(response, spec.id, path, overwrite)
                .await?;
            let path = saved.path.display().to_string();
            eprintln!(
                "wrote {} bytes to {}",
                saved.bytes,
                output::printable(&path)
            );
            Ok(())
        }
        (ResponseKind::Binary(_), None) => output::bytes(&body_bytes(spec, response).await?),
        (ResponseKind::Empty, _) => Ok(()),
    }
}

/// A request ready to send: the operation's parameters by name, JSON body.
struct Request {
    spec: &'static OperationSpec,
    params: Vec<(&'static str, String)>,
    body: Option<Value>,
}

impl Request {
    /// The request of `spec` called with `matches`, or a usage error
    /// naming what is wrong.
    fn from_call(spec: &'static OperationSpec, matches: &ArgMatches) -> Result<Request, Failure> {
        let params: Vec<(&'static str, String)> = spec
            .params
            .iter()
            .filter_map(|param| Some((param.name, value_of(matches, param.name)?)))
            .collect();
        if let Some(missing) = spec.params.iter().find(|param| {
            param.location == ParamLocation::Path
                && !params.iter().any(|(name, _)| *name == param.name)
        }) {
            return Err(Failure::usage(format!(
                "{}: the path parameter {} is missing in {}",
                spec.id, missing.name, spec.path
            )));
        }
        let body = match matches.try_get_one::<String>(BODY).ok().flatten() {
            Some(text) => Some(read_body(text)?),
            None => None,
        };
        Ok(Request { spec, params, body })
    }

    /// What the prompt before sending shows: the operation, its
    /// parameters and (the start of) its body.
    fn summary(&self) -> String {
        let spec = self.spec;
        let mut text = format!(
            "{} {} ({}): {}",
            spec.method, spec.path, spec.id, spec.summary
        );
        for (name, value) in &self.params {
            text.push_str(&format!("\n  --{name} {value}"));
        }
        if let Some(body) = &self.body {
            let json = body.to_string();
            let shown: String = json.chars().take(BODY_SHOWN).collect();
            let more = if shown.len() < json.len() { " …" } else { "" };
            text.push_str(&format!("\n  body: {shown}{more}"));
        }
        text
    }

    /// Sends the request (from `cursor` on, for a paged list) through the
    /// client's transport.
    async fn send(
        &self,
        client: &Client,
        cursor: Option<&str>,
    ) -> Result<reqwest::Response, Error> {
        let pairs: Vec<(&str, &str)> = self
            .params
            .iter()
            .filter(|(name, _)| cursor.is_none() || *name != "cursor")
            .map(|(name, value)| (*name, value.as_str()))
            .chain(cursor.map(|c| ("cursor", c)))
            .collect();
        let request = client.operation_request(self.spec, &pairs, self.body.as_ref())?;
        client.execute(request, self.spec.id).await
    }
}

/// Small conveniences on the matches of an operation.
trait MatchesExt {
    /// A flag that may not exist on this operation.
    fn get_flag_or_false(&self, id: &str) -> bool;
}

impl MatchesExt for ArgMatches {
    fn get_flag_or_false(&self, id: &str) -> bool {
        self.try_get_one::<bool>(id)
            .ok()
            .flatten()
            .copied()
            .unwrap_or(false)
    }
}

/// The text to send for a parameter: its value, or its values
/// comma-joined.
fn value_of(matches: &ArgMatches, name: &str) -> Option<String> {
    let values: Vec<&String> = matches.get_many::<String>(name)?.collect();
    Some(
        values
            .iter()
            .map(|v| v.as_str())
            .collect::<Vec<_>>()
            .join(","),
    )
}

/// The `--body` value: JSON text, or `@FILE` (`@-` for stdin) holding it.
pub(crate) fn read_body(text: &str) -> Result<Value, Failure> {
    let (source, json) = match text.strip_prefix('@') {
        Some("-") => {
            let mut json = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut json)
                .map_err(|e| Failure::usage(format!("--body @-: cannot read stdin: {e}")))?;
            ("stdin".to_string(), json)
        }
        Some(file) => {
            let json = std::fs::read_to_string(file)
                .map_err(|e| Failure::usage(format!("--body @{file}: {e}")))?;
            (file.to_string(), json)
        }
        None => ("--body".to_string(), text.to_string()),
    };
    serde_json::from_str(&json)
        .map_err(|e| Failure::usage(format!("{source} is not valid JSON: {e}")))
}

/// The whole body of a response.
async fn body_bytes(spec: &OperationSpec, response: reqwest::Response) -> Result<Vec<u8>, Error> {
    response
        .bytes()
        .await
        .map(|b| b.to_vec())
        .map_err(|e| Error::transport(spec.id, e))
}

/// The answer decoded into the operation's typed response, as JSON.
fn decode(spec: &OperationSpec, bytes: &[u8]) -> Result<Value, Error> {
    let decoded =
        raw::decode_typed(spec.id, bytes).unwrap_or_else(|| serde_json::from_slice(bytes));
    decoded.map_err(|e| Error::decode(spec.id, bytes, e))
}

/// How much of a body the prompt shows, in characters.
const BODY_SHOWN: usize = 400;

/// `--all`: every page, following `pagination.nextCursor`, each item
/// handed to `each` as soon as its page is read.
async fn print_all_pages(
    client: &Client,
    request: &Request,
    each: &mut dyn FnMut(&Value) -> Result<(), Failure>,
) -> Result<(), Failure> {
    let spec = request.spec;
    let mut cursor = request
        .params
        .iter()
        .find(|(name, _)| *name == "cursor")
        .map(|(_, value)| value.clone());
    let mut walk = CursorWalk::default();
    loop {
        let response = request.send(client, cursor.as_deref()).await?;
        let page = decode(spec, &body_bytes(spec, response).await?)?;
        let items = page_items(&page);
        for item in items {
            each(item)?;
        }
        let next = page
            .pointer("/pagination/nextCursor")
            .and_then(Value::as_str);
        cursor = walk.next(spec.id, items.len(), next)?;
        if cursor.is_none() {
            return Ok(());
        }
    }
}

/// The items of a page: `data` when it is a list, or the list inside
/// `data` for lists that nest theirs (`data.sites`).
fn page_items(page: &Value) -> &[Value] {
    match page.get("data") {
        Some(Value::Array(items)) => items,
        Some(Value::Object(fields)) => fields
            .values()
            .find_map(|v| v.as_array())
            .map(Vec::as_slice)
            .unwrap_or(&[]),
        _ => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn page_items_are_found() {
        let flat = json!({"data": [1, 2]});
        assert_eq!(page_items(&flat).len(), 2);
        let nested = json!({"data": {"allSites": {}, "sites": [1, 2, 3]}});
        assert_eq!(page_items(&nested).len(), 3);
        assert!(page_items(&json!({"data": null})).is_empty());
    }

    #[test]
    fn bodies_must_be_json() {
        assert_eq!(read_body(r#"{"a":1}"#).unwrap(), json!({"a": 1}));
        let err = read_body("{oops").unwrap_err().to_string();
        assert!(err.starts_with("--body is not valid JSON"), "{err}");
    }
}
