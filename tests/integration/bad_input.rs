//! Bad input, table-driven: each case gives the facade one malformed input
//! (console URLs, tokens, ids, hashes, passwords, time ranges, filters,
//! limits, sizes), expects `Error::InvalidInput` with its exact message
//! (and its `Display` text), and proves nothing was sent: the table runs
//! against one simulated console whose request counter must still be zero
//! after every row.
//!
//! With feature `cli`, a second table does the same through the `s1`
//! binary: exit code 2, the exact first line on stderr, nothing sent.
//!
//! Cases that build a client go on to call the console with it, so a
//! builder that wrongly accepted its input would show up in the counters
//! as well as in the message.
#![cfg(feature = "sim")]

use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use futures_util::future::BoxFuture;
use secrecy::SecretString;
use sentinelone::agents::Broadcast;
use sentinelone::blocking::{BlockHashes, BlockRemoteHosts, RemoteHostType};
use sentinelone::detections::{DetectionSource, DetectionWindow, SortField};
use sentinelone::dv::{AgentProcessQuery, DvQuery, PowerQuery};
use sentinelone::exclusions::ExclusionSelection;
use sentinelone::files::{FetchOptions, FetchRequest};
use sentinelone::prelude::*;
use sentinelone::scripts::{OutputDestination, ScriptRun};
use sentinelone::sim::SimConsole;
use sentinelone::threats::ThreatTarget;
use sentinelone::vocab::OsType;
use sentinelone::{Client, ClientBuilder, Error};

/// A password every rule accepts.
const STRONG: &str = "Str0ng!Passw0rd";
const MD5: &str = "d41d8cd98f00b204e9800998ecf8427e";
const WEAK_FOR_EVERYTHING: &str = "password is too weak: it needs at least 10 characters, an upper case letter, a digit, a symbol";

type Run = for<'a> fn(&'a Ctx) -> BoxFuture<'a, Result<(), Error>>;

/// What a row runs against: one simulated console for the whole table
/// (its counters are checked after every row) and a client of it.
struct Ctx {
    console: SimConsole,
    client: Client,
}

impl Ctx {
    fn client_builder(&self) -> ClientBuilder {
        self.console.client_builder()
    }

    fn url(&self) -> String {
        self.console.url()
    }

    fn token(&self) -> &str {
        self.console.token()
    }
}

/// One row: a name, what it runs against the console, and the
/// `InvalidInput` message expected (`{url}` stands for the console's URL,
/// `{port}` for its port).
struct Case {
    name: &'static str,
    run: Run,
    expected: &'static str,
}

/// A row whose body is an async block over the console `$c`; its value
/// (any `Result<_, Error>`) is what the row checks.
macro_rules! case {
    ($name:literal, $expected:expr, |$c:ident| $body:expr) => {
        Case {
            name: $name,
            expected: $expected,
            run: {
                fn run<'a>($c: &'a Ctx) -> BoxFuture<'a, Result<(), Error>> {
                    Box::pin(async move { $body.map(|_| ()) })
                }
                run
            },
        }
    };
}

fn at(day: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 5, day, 0, 0, 0).unwrap()
}

/// Builds `builder` and, if it builds, sends a request with it.
async fn build_and_call(builder: ClientBuilder) -> Result<(), Error> {
    let client = builder.build()?;
    client.list_agents().call().await.map(|_| ())
}

/// The console's client.
fn client(ctx: &Ctx) -> &Client {
    &ctx.client
}

fn dest() -> FetchOptions {
    FetchOptions::new(std::env::temp_dir().join("sentinelone-bad-input-never-written.zip"))
}

fn host_with_port(ctx: &Ctx) -> String {
    ctx.url().trim_start_matches("http://").to_string()
}

#[allow(deprecated)] // exercises the Deep Visibility composites until their sunset
fn cases() -> Vec<Case> {
    vec![
        // -- console URLs --------------------------------------------------
        case!(
            "http console URL without allow_http",
            "console URL \"{url}/\" is http://: the token would travel unencrypted (allow_http(true) for local tests only)",
            |c| build_and_call(c.client_builder().allow_http(false)).await
        ),
        case!(
            "console URL with the API path",
            "console URL \"{url}/web/api/v2.1\" must be the console root (no path, query or fragment), e.g. https://127.0.0.1",
            |c| build_and_call(
                c.client_builder()
                    .console_url(format!("{}/web/api/v2.1", c.url()))
            )
            .await
        ),
        case!(
            "console URL with a query",
            "console URL \"{url}/?token=x\" must be the console root (no path, query or fragment), e.g. https://127.0.0.1",
            |c| build_and_call(
                c.client_builder()
                    .console_url(format!("{}/?token=x", c.url()))
            )
            .await
        ),
        case!(
            "console URL with credentials",
            "the console URL must not carry credentials; give the API token to api_token()",
            |c| build_and_call(
                c.client_builder()
                    .console_url(format!("http://admin:pw@{}", host_with_port(c)))
            )
            .await
        ),
        case!(
            "console URL with another scheme",
            "console URL \"ftp://127.0.0.1:{port}/\" has scheme \"ftp\"; expected https",
            |c| build_and_call(
                c.client_builder()
                    .console_url(format!("ftp://{}", host_with_port(c)))
            )
            .await
        ),
        case!(
            "console URL without a scheme",
            "the console URL is not a URL: relative URL without a base",
            |c| build_and_call(c.client_builder().console_url(host_with_port(c))).await
        ),
        case!("empty console URL", "the console URL is missing", |c| {
            build_and_call(c.client_builder().console_url("  ")).await
        }),
        // -- tokens --------------------------------------------------------
        case!("empty token", "the API token is empty", |c| build_and_call(
            c.client_builder().api_token("")
        )
        .await),
        case!("blank token", "the API token is empty", |c| build_and_call(
            c.client_builder().api_token(" \t ")
        )
        .await),
        case!(
            "token with a newline",
            "the API token contains characters that cannot be sent in a header",
            |c| build_and_call(
                c.client_builder()
                    .api_token(format!("{}\nX-Injected: 1", c.token()))
            )
            .await
        ),
        case!("no token at all", "the API token is missing", |c| {
            build_and_call(Client::builder().console_url(c.url()).allow_http(true)).await
        }),
        // -- ids -----------------------------------------------------------
        case!(
            "agent id that is a host name (files::fetch)",
            "agent_id \"win-lab-001\" is not a SentinelOne id (decimal digits)",
            |c| client(c)
                .files()
                .fetch(
                    "win-lab-001",
                    &FetchRequest::new(["C:\\a.txt"], STRONG),
                    &dest()
                )
                .await
        ),
        case!(
            "threat id with letters (threat target)",
            "threat_ids[0] \"12ab\" is not a SentinelOne id (decimal digits)",
            |c| client(c)
                .threats()
                .kill(&ThreatTarget::computers(["win-lab-001"]).threat_ids(["12ab"]))
                .await
        ),
        case!(
            "no threat ids to resolve",
            "threat_ids: at least one value is required",
            |c| client(c).threats().resolve(&[], "1234").await
        ),
        case!("blank agent id to resolve", "agent_id is required", |c| {
            client(c)
                .threats()
                .resolve(&["1234".to_string()], " ")
                .await
        }),
        case!(
            "group name instead of a group id",
            "group_id \"Servers\" is not a SentinelOne id (decimal digits)",
            |c| client(c)
                .agents()
                .move_to_group(&["win-lab-001".to_string()], "Servers")
                .await
        ),
        case!(
            "threat id that is a hash (fetch threat file)",
            "threat_id \"b691598c45658e76\" is not a SentinelOne id (decimal digits)",
            |c| client(c)
                .files()
                .fetch_threat_file("b691598c45658e76", &SecretString::from(STRONG), &dest())
                .await
        ),
        case!(
            "script id with a name",
            "script_id \"collect-logs\" is not a SentinelOne id (decimal digits)",
            |c| client(c)
                .scripts()
                .run(
                    &ScriptRun::new("collect-logs", "d", OutputDestination::SentinelCloud)
                        .agent_ids(["1"])
                )
                .await
        ),
        // -- hashes --------------------------------------------------------
        case!(
            "MD5 to block",
            "hashes[0] \"d41d8cd98f00b204e9800998ecf8427e\" is not a SHA-1 hash: 40 hexadecimal characters expected (this looks like an MD5)",
            |c| client(c)
                .blocking()
                .block_hashes(&BlockHashes::new([MD5], OsType::Windows, "1"))
                .await
        ),
        case!(
            "no hash to block",
            "hashes: at least one value is required",
            |c| client(c)
                .blocking()
                .block_hashes(&BlockHashes::new(
                    Vec::<String>::new(),
                    OsType::Windows,
                    "1"
                ))
                .await
        ),
        case!(
            "bad SHA-1 in a threat target",
            "content_hashes[0] \"xyz\" is not a SHA-1 hash: 40 hexadecimal characters expected",
            |c| client(c)
                .threats()
                .quarantine(&ThreatTarget::computers(["win-lab-001"]).content_hashes(["xyz"]))
                .await
        ),
        // -- passwords -----------------------------------------------------
        case!(
            "weak archive password (files::fetch)",
            WEAK_FOR_EVERYTHING,
            |c| client(c)
                .files()
                .fetch(
                    "1234",
                    &FetchRequest::new(["C:\\a.txt"], "password"),
                    &dest()
                )
                .await
        ),
        case!(
            "weak archive password (threat file)",
            "password is too weak: it needs a symbol",
            |c| client(c)
                .files()
                .fetch_threat_file("1234", &SecretString::from("Abcdefghi1"), &dest())
                .await
        ),
        case!(
            "weak result password (scripts)",
            "password is too weak: it needs a digit, a symbol",
            |c| client(c)
                .scripts()
                .run(
                    &ScriptRun::new("1", "d", OutputDestination::SentinelCloud)
                        .agent_ids(["1"])
                        .password(SecretString::from("Abcdefghij"))
                )
                .await
        ),
        // -- time ranges ---------------------------------------------------
        case!(
            "event window ending before it starts",
            "the time range is empty: start 2024-05-02 00:00:00 UTC is not before end 2024-05-01 00:00:00 UTC",
            |c| client(c)
                .detections()
                .fetch(&DetectionWindow::new(at(2), at(1)))
                .map(drop)
        ),
        case!(
            "event window of no time",
            "the time range is empty: start 2024-05-01 00:00:00 UTC is not before end 2024-05-01 00:00:00 UTC",
            |c| client(c)
                .detections()
                .fetch(&DetectionWindow::new(at(1), at(1)))
                .map(drop)
        ),
        case!(
            "Deep Visibility query ending before it starts",
            "the time range is empty: start 2024-05-03 00:00:00 UTC is not before end 2024-05-01 00:00:00 UTC",
            |c| client(c)
                .dv()
                .query(&DvQuery::new("AgentName IS NOT EMPTY", at(3), at(1)))
                .await
        ),
        case!(
            "agent processes over a reversed range",
            "the time range is empty: start 2024-05-04 00:00:00 UTC is not before end 2024-05-02 00:00:00 UTC",
            |c| client(c)
                .dv()
                .agent_processes(&AgentProcessQuery::new().start(at(4)).end(at(2)))
                .await
        ),
        // -- filters -------------------------------------------------------
        case!(
            "threat target without computers",
            "computer_names: at least one value is required",
            |c| client(c)
                .threats()
                .kill(&ThreatTarget::computers(Vec::<String>::new()))
                .await
        ),
        case!(
            "threat target with a blank computer name",
            "computer_names[1] is empty",
            |c| client(c)
                .threats()
                .remediate(&ThreatTarget::computers(["win-lab-001", " "]))
                .await
        ),
        case!(
            "threat target allowing no threat",
            "max_threats 0 is out of range: 1 to 1000000",
            |c| client(c)
                .threats()
                .kill(&ThreatTarget::computers(["win-lab-001"]).max_threats(0))
                .await
        ),
        case!(
            "threat target whose preview size would wrap",
            "max_threats 18446744073709551615 is out of range: 1 to 1000000",
            |c| client(c)
                .threats()
                .kill(&ThreatTarget::computers(["win-lab-001"]).max_threats(usize::MAX))
                .await
        ),
        case!(
            "polling limit past 30 days",
            "polling.timeout 18446744073709551615.999999999s is out of range: above 0 and at most 30 days",
            |c| client(c)
                .dv()
                .query(
                    &DvQuery::new("AgentName IS NOT EMPTY", at(1), at(2))
                        .polling(sentinelone::Polling::default().timeout(Duration::MAX))
                )
                .await
        ),
        case!(
            "polling growth that is not a number",
            "polling.growth NaN is out of range: 1 to 100",
            |c| client(c)
                .scripts()
                .run(
                    &ScriptRun::new("1", "d", OutputDestination::None)
                        .agent_ids(["1"])
                        .polling(sentinelone::Polling {
                            growth: f64::NAN,
                            ..Default::default()
                        })
                )
                .await
        ),
        case!(
            "empty exclusion selection",
            "exclusion selection is empty; use ExclusionSelection::all() to delete every exclusion",
            |c| client(c)
                .exclusions()
                .delete(&ExclusionSelection::new())
                .await
        ),
        case!(
            "exclusion selection with a site name",
            "site_ids[0] \"Site 1\" is not a SentinelOne id (decimal digits)",
            |c| client(c)
                .exclusions()
                .delete(&ExclusionSelection::new().site_ids(["Site 1"]))
                .await
        ),
        case!(
            "broadcast to nobody",
            "broadcast: give host names or IPs, group ids, or both",
            |c| client(c)
                .agents()
                .broadcast(&Broadcast::new("Reboot at noon"))
                .await
        ),
        case!(
            "firewall rule without a scope",
            "scope: give the tenant, or at least one account, site or group id",
            |c| client(c)
                .blocking()
                .block_remote_hosts(&BlockRemoteHosts::new(
                    "c2",
                    RemoteHostType::Addresses,
                    ["203.0.113.7"]
                ))
                .await
        ),
        case!(
            "firewall rule for any host",
            "host_type any would block every remote host; name the hosts",
            |c| client(c)
                .blocking()
                .block_remote_hosts(
                    &BlockRemoteHosts::new("all", RemoteHostType::Any, ["*"]).tenant(true)
                )
                .await
        ),
        case!(
            "firewall rule with a bad CIDR",
            "values[0] \"203.0.113.0/33\" is not a CIDR block (address/prefix)",
            |c| client(c)
                .blocking()
                .block_remote_hosts(
                    &BlockRemoteHosts::new("c2", RemoteHostType::Cidr, ["203.0.113.0/33"])
                        .tenant(true)
                )
                .await
        ),
        case!(
            "script without targets",
            "script targets: give hosts, agent ids, group ids or site ids",
            |c| client(c)
                .scripts()
                .run(&ScriptRun::new("1", "d", OutputDestination::SentinelCloud))
                .await
        ),
        case!("blank Deep Visibility query", "query is required", |c| {
            client(c)
                .dv()
                .query(&DvQuery::new("  ", at(1), at(2)))
                .await
        }),
        case!(
            "alerts ordered by update time",
            "sort_by: alerts cannot be ordered by update time (use CreatedAt or Id)",
            |c| client(c)
                .detections()
                .fetch(
                    &DetectionWindow::new(at(1), at(2))
                        .source(DetectionSource::Alerts)
                        .sort_by(SortField::UpdatedAt)
                )
                .map(drop)
        ),
        // -- limits and sizes ----------------------------------------------
        case!(
            "Deep Visibility limit 0",
            "limit 0 is out of range: 1 to 100000",
            |c| client(c)
                .dv()
                .query(&DvQuery::new("AgentName IS NOT EMPTY", at(1), at(2)).limit(0))
                .await
        ),
        case!(
            "Deep Visibility limit 100001",
            "limit 100001 is out of range: 1 to 100000",
            |c| client(c)
                .dv()
                .start(&DvQuery::new("AgentName IS NOT EMPTY", at(1), at(2)).limit(100_001))
                .await
        ),
        case!(
            "Power Query limit 0",
            "limit 0 is out of range: 1 to 100000",
            |c| client(c)
                .dv()
                .power_query(&PowerQuery::new("| group count()", at(1), at(2)).limit(0))
                .await
        ),
        case!(
            "event limit 1001",
            "limit 1001 is out of range: 1 to 1000",
            |c| client(c)
                .detections()
                .fetch(&DetectionWindow::new(at(1), at(2)).limit(1001))
                .map(drop)
        ),
        case!(
            "agent processes limit 1001",
            "limit 1001 is out of range: 1 to 1000",
            |c| client(c)
                .dv()
                .agent_processes(&AgentProcessQuery::new().limit(1001))
                .await
        ),
        case!(
            "eleven files to fetch",
            "paths: 11 given, at most 10 allowed",
            |c| client(c)
                .files()
                .fetch(
                    "1234",
                    &FetchRequest::new((0..11).map(|i| format!("C:\\f{i}.txt")), STRONG),
                    &dest()
                )
                .await
        ),
        case!(
            "relative path to fetch",
            "paths[0] \"Temp\\\\a.txt\" is not an absolute path (C:\\…, \\\\server\\share\\… or /…)",
            |c| client(c)
                .files()
                .fetch("1234", &FetchRequest::new(["Temp\\a.txt"], STRONG), &dest())
                .await
        ),
        case!(
            "broadcast message of 141 characters",
            "message is 141 characters long, at most 140 allowed",
            |c| client(c)
                .agents()
                .broadcast(&Broadcast::new("é".repeat(141)).hosts(["win-lab-001"]))
                .await
        ),
        case!(
            "script runtime of zero seconds",
            "runtime_timeout (seconds) 0 is out of range: 1 to 2147483647",
            |c| client(c)
                .scripts()
                .run(
                    &ScriptRun::new("1", "d", OutputDestination::SentinelCloud)
                        .agent_ids(["1"])
                        .runtime_timeout(Duration::from_millis(500))
                )
                .await
        ),
        case!(
            "local script output without a directory",
            "output_directory is required when the destination is Local",
            |c| client(c)
                .scripts()
                .run(&ScriptRun::new("1", "d", OutputDestination::Local).agent_ids(["1"]))
                .await
        ),
    ]
}

#[tokio::test]
async fn every_malformed_input_is_refused_by_name_and_nothing_is_sent() {
    let cases = cases();
    assert!(cases.len() >= 30, "{} cases", cases.len());
    let mut failures = Vec::new();
    let console = SimConsole::start().await;
    let client = console.client().expect("the sim client builds");
    let ctx = Ctx { console, client };
    let port = ctx.url().rsplit(':').next().unwrap().to_string();
    for case in &cases {
        let expected = case
            .expected
            .replace("{url}", &ctx.url())
            .replace("{port}", &port);
        let outcome = (case.run)(&ctx).await;
        // Nothing reached the console, in this row or any before it.
        let sent = ctx.console.counters().total();
        match outcome {
            Err(e @ Error::InvalidInput { .. })
                if e.to_string() == format!("invalid input: {expected}") && sent == 0 => {}
            other => failures.push(format!(
                "{}:\n  expected InvalidInput {expected:?} with nothing sent\n  got {other:?} with {sent} request(s) sent",
                case.name
            )),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The table's names are distinct, so a failure points at one row.
#[test]
fn the_cases_have_distinct_names() {
    let cases = cases();
    let mut names: Vec<_> = cases.iter().map(|c| c.name).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), cases.len());
}

// ---------------------------------------------------------------------------
// The `s1` command line

/// One command-line row: a name, the arguments, extra environment, and the
/// first line `s1` writes to stderr (`{url}` and `{port}` as above).
#[cfg(feature = "cli")]
struct CliCase {
    name: &'static str,
    args: &'static [&'static str],
    env: &'static [(&'static str, &'static str)],
    expected: &'static str,
}

#[cfg(feature = "cli")]
fn cli_cases() -> Vec<CliCase> {
    const STRONG_ENV: &[(&str, &str)] = &[("S1_ARCHIVE_PASSWORD", STRONG)];
    vec![
        CliCase {
            name: "console URL with the API path",
            args: &[
                "--console-url",
                "{url}/web/api/v2.1",
                "api",
                "get_system_info",
            ],
            env: &[],
            expected: "s1: invalid input: console URL \"{url}/web/api/v2.1\" must be the console root (no path, query or fragment), e.g. https://127.0.0.1",
        },
        CliCase {
            name: "console URL with another scheme",
            args: &["--console-url", "ftp://127.0.0.1:{port}", "agents", "list"],
            env: &[],
            expected: "s1: invalid input: console URL \"ftp://127.0.0.1:{port}/\" has scheme \"ftp\"; expected https",
        },
        CliCase {
            name: "token with a newline",
            args: &["api", "get_system_info"],
            env: &[("S1_API_TOKEN", "sim-token\nX-Injected: 1")],
            expected: "s1: invalid input: the API token contains characters that cannot be sent in a header",
        },
        CliCase {
            name: "limit that is not an integer",
            args: &["api", "list_agents", "--limit", "ten"],
            env: &[],
            expected: "error: invalid value 'ten' for '--limit <INTEGER>': \"ten\" is not an integer",
        },
        CliCase {
            name: "body that is not JSON",
            args: &[
                "api",
                "mitigate_threats",
                "--action",
                "kill",
                "--body",
                "{not json",
            ],
            env: &[],
            expected: "s1: --body is not valid JSON: key must be a string at line 1 column 2",
        },
        CliCase {
            name: "unknown operation",
            args: &["api", "no_such_operation"],
            env: &[],
            expected: "error: unrecognized subcommand 'no_such_operation'",
        },
        CliCase {
            name: "unknown sort order",
            args: &["api", "list_agents", "--sortOrder", "sideways"],
            env: &[],
            expected: "error: invalid value 'sideways' for '--sortOrder <VALUE>'",
        },
        CliCase {
            name: "time that is not RFC 3339",
            args: &["api", "list_agents", "--createdAt__gt", "yesterday"],
            env: &[],
            expected: "error: invalid value 'yesterday' for '--createdAt__gt <TIME>': not an RFC 3339 time such as 2024-05-01T00:00:00Z (premature end of input)",
        },
        CliCase {
            name: "weak archive password",
            args: &[
                "files",
                "collect",
                "--agent-id",
                "1",
                "--path",
                "/tmp/a",
                "--out",
                "never.zip",
                "--password-env",
                "WEAK",
            ],
            env: &[("WEAK", "short")],
            expected: "s1: invalid input: password is too weak: it needs at least 10 characters, an upper case letter, a digit, a symbol",
        },
        CliCase {
            name: "agent id that is a host name",
            args: &[
                "files",
                "collect",
                "--agent-id",
                "win-lab-001",
                "--path",
                "/tmp/a",
                "--out",
                "never.zip",
            ],
            env: STRONG_ENV,
            expected: "s1: invalid input: agent_id \"win-lab-001\" is not a SentinelOne id (decimal digits)",
        },
        CliCase {
            name: "relative path to fetch",
            args: &[
                "files",
                "collect",
                "--agent-id",
                "1",
                "--path",
                "relative/a",
                "--out",
                "never.zip",
            ],
            env: STRONG_ENV,
            expected: "s1: invalid input: paths[0] \"relative/a\" is not an absolute path (C:\\…, \\\\server\\share\\… or /…)",
        },
        CliCase {
            name: "blank computer name",
            args: &["threats", "kill", "--computer", " "],
            env: &[],
            expected: "s1: invalid input: computer_names[0] is empty",
        },
        CliCase {
            name: "agent list limit 0",
            args: &["agents", "list", "--limit", "0"],
            env: &[],
            expected: "error: invalid value '0' for '--limit <N>': 0 is not in 1..=1000",
        },
        CliCase {
            name: "Deep Visibility range ending before it starts",
            args: &[
                "dv",
                "query",
                "--query",
                "AgentName IS NOT EMPTY",
                "--from",
                "2024-05-02T00:00:00Z",
                "--to",
                "2024-05-01T00:00:00Z",
            ],
            env: &[],
            expected: "s1: invalid input: the time range is empty: start 2024-05-02 00:00:00 UTC is not before end 2024-05-01 00:00:00 UTC",
        },
        CliCase {
            name: "Deep Visibility limit 100001",
            args: &[
                "dv",
                "query",
                "--query",
                "AgentName IS NOT EMPTY",
                "--limit",
                "100001",
            ],
            env: &[],
            expected: "s1: invalid input: limit 100001 is out of range: 1 to 100000",
        },
        CliCase {
            name: "span without a unit",
            args: &[
                "dv",
                "query",
                "--query",
                "AgentName IS NOT EMPTY",
                "--last",
                "3w",
            ],
            env: &[],
            expected: "error: invalid value '3w' for '--last <SPAN>': \"3w\" has no unit: use s, m, h or d (30m, 6h, 7d)",
        },
        // The five that panicked (exit 101) before.
        CliCase {
            name: "span past the earliest time",
            args: &["threats", "list", "--last", "99999999999d"],
            env: &[],
            expected: "error: invalid value '99999999999d' for '--last <SPAN>': \"99999999999d\" is too long: at most 36500d",
        },
        CliCase {
            name: "span past what a time delta holds",
            args: &["threats", "list", "--last", "9999999999999999d"],
            env: &[],
            expected: "error: invalid value '9999999999999999d' for '--last <SPAN>': \"9999999999999999d\" is too long: at most 36500d",
        },
        CliCase {
            name: "timeout past what a duration holds",
            args: &[
                "dv",
                "query",
                "--query",
                "AgentName IS NOT EMPTY",
                "--timeout",
                "1e300",
            ],
            env: &[],
            expected: "error: invalid value '1e300' for '--timeout <SECS>': \"1e300\" is out of range: above 0 and at most 2592000 seconds (30 days)",
        },
        CliCase {
            name: "pause past what a duration holds",
            args: &[
                "dv",
                "query",
                "--query",
                "AgentName IS NOT EMPTY",
                "--poll-every",
                "1e300",
            ],
            env: &[],
            expected: "error: invalid value '1e300' for '--poll-every <SECS>': \"1e300\" is out of range: above 0 and at most 2592000 seconds (30 days)",
        },
        CliCase {
            name: "max threats that would wrap",
            args: &[
                "threats",
                "kill",
                "--computer",
                "pc1",
                "--max-threats",
                "18446744073709551615",
            ],
            env: &[],
            expected: "s1: invalid input: max_threats 18446744073709551615 is out of range: 1 to 1000000",
        },
    ]
}

#[cfg(feature = "cli")]
#[tokio::test]
async fn every_malformed_command_line_exits_2_and_sends_nothing() {
    let cases = cli_cases();
    assert!(cases.len() >= 5, "{} cases", cases.len());
    let console = SimConsole::start().await;
    let url = console.url();
    let port = url.rsplit(':').next().unwrap().to_string();
    let fill = |text: &str| text.replace("{url}", &url).replace("{port}", &port);
    let dir = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    for case in &cases {
        let mut cmd = assert_cmd::Command::new(env!("CARGO_BIN_EXE_s1"));
        cmd.current_dir(dir.path())
            .env_remove("S1_ARCHIVE_PASSWORD")
            .env("S1_CONSOLE_URL", &url)
            .env("S1_API_TOKEN", console.token())
            .timeout(Duration::from_secs(60))
            .args(case.args.iter().map(|a| fill(a)));
        for (key, value) in case.env {
            cmd.env(key, value);
        }
        let output = cmd.output().expect("s1 runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        // `s1 dv` says once that Deep Visibility ends; the error follows.
        let first = stderr
            .lines()
            .find(|l| !l.starts_with("s1: warning: Deep Visibility queries end on"))
            .unwrap_or_default();
        let expected = fill(case.expected);
        let sent = console.counters().total();
        if output.status.code() != Some(2) || first != expected || sent != 0 {
            failures.push(format!(
                "{}:\n  expected exit 2, {expected:?}, nothing sent\n  got exit {:?}, {first:?}, {sent} request(s) sent",
                case.name,
                output.status.code()
            ));
        }
        assert!(
            output.stdout.is_empty(),
            "{}: stdout {:?}",
            case.name,
            output.stdout
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "no file written"
    );
}
