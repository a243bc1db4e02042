//! The command line: global options, the command tree, and the argument
//! groups several commands share (time ranges, waits).

use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use clap::parser::ValueSource;
use clap::{ArgMatches, Args, CommandFactory, FromArgMatches, Parser, Subcommand};
use sentinelone::profile::{ENV_CONFIG, Profiles};
use sentinelone::quota_store::QuotaStore;
use sentinelone::{Client, ClientBuilder, ENV_API_TOKEN, ENV_CONSOLE_URL, ENV_REDIS_URL, Polling};

use crate::api::ApiCall;
use crate::commands::{agents, dv, files, query, request, scripts, sim, threats};
use crate::exit::{EXIT_CODES_HELP, Failure};
use crate::output::{Choice, Format};
use crate::progress::Progress;

/// The SentinelOne Management API v2.1 from the command line.
///
/// Every operation of the API is under `s1 api`; the other commands do in
/// one step what takes several calls and some waiting. Results go to stdout
/// (tables on a terminal, JSON when piped, or what --output says); progress,
/// prompts and errors go to stderr. `s1 sim` runs a simulated console to
/// try every command on.
#[derive(Parser)]
#[command(name = "s1", version = crate::version::VERSION,
          after_help = format!("{PROFILES_HELP}\n\n{EXIT_CODES_HELP}"))]
pub struct Cli {
    /// Options every command takes.
    #[command(flatten)]
    pub global: Global,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The profile file, for `s1 --help`.
const PROFILES_HELP: &str = "\
Console profiles (--profile NAME, --all-profiles) are read from --config
FILE, else $S1_CONFIG, else $XDG_CONFIG_HOME/s1/profiles.toml, else
~/.config/s1/profiles.toml (TOML; relative paths from its directory):
  [profiles.acme]
  console_url = \"https://acme.sentinelone.net\"
  token_env = \"ACME_S1_TOKEN\"   # or token_file = \"acme.token\" (mode 0600),
                                # or token = \"...\" (this file mode 0600)
  proxy = \"https://proxy.corp.example:3128\"   # optional
  ca_file = \"corp-root.pem\"                   # optional extra root (PEM)";

impl Cli {
    /// Parses the command line as [`Parser::parse`] does (exiting on a
    /// usage error), noting which options were typed on it rather than
    /// taken from the environment.
    pub fn parse_args() -> Cli {
        let matches = Cli::command().get_matches();
        let mut cli = Cli::from_arg_matches(&matches)
            .unwrap_or_else(|e| e.format(&mut Cli::command()).exit());
        cli.global.typed = Typed::of(&matches);
        cli
    }
}

/// Where the console is and how to talk to it. No `Debug`: it holds the
/// token.
#[derive(Args)]
#[command(next_help_heading = "Global options")]
pub struct Global {
    /// The console URL, e.g. https://usea1.sentinelone.net (http:// only on
    /// loopback, for stand-in consoles). Ignored with a profile
    #[arg(long, env = ENV_CONSOLE_URL, global = true, value_name = "URL")]
    pub console_url: Option<String>,

    /// The API token (prefer the environment variable: a flag shows in
    /// process lists). Never printed. Ignored with a profile
    #[arg(
        long,
        env = ENV_API_TOKEN,
        hide_env_values = true,
        global = true,
        value_name = "TOKEN"
    )]
    pub api_token: Option<String>,

    /// Count the API's rate limits in this Redis server, shared with every
    /// other process using it on the same console and token
    /// (redis://[:password@]host[:port][/db]). Falls back to this process's
    /// own count, with a warning, while Redis cannot be reached
    #[arg(
        long,
        env = ENV_REDIS_URL,
        hide_env_values = true,
        global = true,
        value_name = "URL"
    )]
    pub redis_url: Option<String>,

    /// Talk to the console of profile NAME in the profile file (below):
    /// its URL, token, proxy and CA certificate. S1_CONSOLE_URL and
    /// S1_API_TOKEN are then ignored, and --console-url or --api-token
    /// cannot be given
    #[arg(long, env = "S1_PROFILE", global = true, value_name = "NAME")]
    pub profile: Option<String>,

    /// The profile file [default: see below]
    #[arg(long, env = ENV_CONFIG, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Run the command once for every profile of the profile file, all at
    /// once, printing JSON Lines: each line with its "profile", stderr lines
    /// prefixed [NAME]. A command that changes endpoints or the console
    /// needs --yes
    #[arg(long, global = true)]
    pub all_profiles: bool,

    /// Which of the options above were typed on the command line.
    #[arg(skip)]
    pub typed: Typed,

    /// No progress bars or spinners on stderr (they only show when stderr
    /// is a terminal)
    #[arg(long, short, global = true)]
    pub quiet: bool,

    /// Trace what the library does on stderr: -v the waits, retries, 429s,
    /// failed calls and composite steps; -vv every request too. RUST_LOG
    /// (e.g. `sentinelone=debug,hyper=info`), when set, decides instead
    #[arg(long, short, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// How results are printed: table (as wide as the terminal), json,
    /// jsonl (one item a line) or csv [default: table on a terminal, json
    /// when piped; `s1 api` and `s1 request` print json] [env: S1_OUTPUT]
    #[arg(
        long,
        short = 'o',
        global = true,
        value_enum,
        value_name = "FORMAT",
        hide_possible_values = true
    )]
    pub output: Option<Format>,

    /// --output json
    #[arg(long, global = true, hide = true, conflicts_with_all = ["output", "table", "jsonl"])]
    pub json: bool,

    /// --output table
    #[arg(long, global = true, hide = true, conflicts_with_all = ["output", "jsonl"])]
    pub table: bool,

    /// --output jsonl
    #[arg(long, global = true, hide = true, conflicts_with = "output")]
    pub jsonl: bool,

    /// Do not ask before a command that changes endpoints or the console
    /// (there is only a prompt when stdin and stderr are terminals)
    #[arg(long, short = 'y', global = true)]
    pub yes: bool,
}

impl Global {
    /// The output format: --output (or its aliases --json, --table,
    /// --jsonl), else S1_OUTPUT, else what suits stdout.
    pub fn choice(&self) -> Result<Choice, Failure> {
        Choice::resolve(self.asked_format())
    }

    /// The format asked for on the command line: --output or an alias.
    pub fn asked_format(&self) -> Option<Format> {
        let alias = if self.json {
            Some(Format::Json)
        } else if self.table {
            Some(Format::Table)
        } else if self.jsonl {
            Some(Format::Jsonl)
        } else {
            None
        };
        self.output.or(alias)
    }

    /// A console is given: a profile, or both the console URL and the
    /// token.
    pub fn has_console(&self) -> bool {
        self.profile.is_some() || self.console_url.is_some() && self.api_token.is_some()
    }

    /// The profile file: --config (or S1_CONFIG), else the default one.
    pub fn profiles(&self) -> Result<Profiles, Failure> {
        let profiles = match &self.config {
            Some(path) => Profiles::load(path)?,
            None => Profiles::load_default()?,
        };
        Ok(profiles)
    }

    /// A client of the console given, reporting waits and downloads to
    /// `progress`. Nothing is sent yet.
    pub fn client(&self, progress: &Progress) -> Result<Client, Failure> {
        let mut builder = match &self.profile {
            Some(name) => self.profile_builder(name)?,
            None => self.flags_builder()?,
        };
        // --redis-url (or S1_REDIS_URL) before a profile's redis_url.
        if let Some(redis) = &self.redis_url {
            builder = builder.quota_store(QuotaStore::from_redis_url(redis)?);
        }
        Ok(progress.attach(builder).build()?)
    }

    /// The console of profile `name`.
    fn profile_builder(&self, name: &str) -> Result<ClientBuilder, Failure> {
        if self.typed.console {
            return Err(Failure::usage(
                "a profile (--profile or S1_PROFILE) and --console-url or --api-token \
                 were both given: the profile names the console; give one or the other",
            ));
        }
        let profiles = self.profiles()?;
        Ok(profiles.get(name)?.client_builder()?)
    }

    /// The console of --console-url and --api-token (or their variables).
    fn flags_builder(&self) -> Result<ClientBuilder, Failure> {
        let url = self.console_url.as_deref().ok_or_else(|| {
            Failure::usage(format!(
                "no console URL: give --console-url or set {ENV_CONSOLE_URL} (or use --profile)"
            ))
        })?;
        let token = self.api_token.as_deref().ok_or_else(|| {
            Failure::usage(format!(
                "no API token: set {ENV_API_TOKEN} (or give --api-token)"
            ))
        })?;
        Ok(Client::builder()
            .console_url(url)
            .api_token(token)
            .allow_http_on_loopback(true))
    }
}

/// Which global options were typed on the command line (rather than taken
/// from the environment, or not given).
#[derive(Debug, Clone, Copy, Default)]
pub struct Typed {
    /// --console-url or --api-token.
    pub console: bool,
    /// --profile.
    pub profile: bool,
}

impl Typed {
    fn of(matches: &ArgMatches) -> Typed {
        let typed = |id| matches.value_source(id) == Some(ValueSource::CommandLine);
        Typed {
            console: typed("console_url") || typed("api_token"),
            profile: typed("profile"),
        }
    }
}

/// The commands.
#[derive(Subcommand)]
pub enum Command {
    /// Call any operation of the API by its operationId (s1 api --help
    /// lists their tags, s1 api --tag TAG the operations of one)
    Api(ApiCall),
    /// Send any method and path of the API (agents/count) with the token,
    /// quotas and retries of every command; print the JSON answer
    Request(request::RequestArgs),
    /// List agents
    #[command(subcommand)]
    Agents(agents::AgentsCommand),
    /// Threat response on named computers: kill, quarantine, remediate,
    /// roll back, un-quarantine; list recent threats
    #[command(subcommand)]
    Threats(threats::ThreatsCommand),
    /// Fetch files from an endpoint and download them
    #[command(subcommand)]
    Files(files::FilesCommand),
    /// Long Running Queries: a PowerQuery's table (--pq) or the events a
    /// log filter matches (--log)
    Query(query::QueryArgs),
    /// Run a PowerQuery (Long Running Query) and print its table
    Pq(query::PqArgs),
    /// Deep Visibility queries (deprecated: the console ends them on
    /// 2027-02-15; use `s1 query`)
    #[command(subcommand)]
    Dv(dv::DvCommand),
    /// Run a remote script on agents and collect its results
    #[command(subcommand)]
    Scripts(scripts::ScriptsCommand),
    /// Check the console URL and token: console version, token expiry
    TestConnection,
    /// Run a simulated console here, in the foreground, and print the two
    /// variables to export (in another terminal) to try every command on it
    Sim(sim::SimArgs),
    /// Walk through the main commands against a simulated console (or,
    /// with S1_CONSOLE_URL and S1_API_TOKEN set, read-only against yours)
    Tour,
    /// Print a shell completion script (bash, zsh, fish, elvish,
    /// powershell) to stdout, e.g. `s1 completions bash >
    /// ~/.local/share/bash-completion/completions/s1`
    Completions {
        /// The shell to complete in
        shell: clap_complete::Shell,
    },
}

impl Command {
    /// Whether the command changes endpoints or the console: what the
    /// prompt asks about before it acts (threat actions, script runs,
    /// `s1 api` and `s1 request` with another method than GET), and file
    /// collection, which has the agent upload files.
    pub fn writes(&self) -> bool {
        match self {
            Command::Api(call) => call.writes(),
            Command::Request(args) => args.writes(),
            Command::Threats(command) => command.writes(),
            Command::Scripts(_) | Command::Files(_) => true,
            Command::Agents(_)
            | Command::Query(_)
            | Command::Pq(_)
            | Command::Dv(_)
            | Command::TestConnection
            | Command::Sim(_)
            | Command::Tour
            | Command::Completions { .. } => false,
        }
    }
}

/// A time range: `--from`/`--to`, or `--last` back from now (or from
/// `--to`); the last 24 hours when none is given.
#[derive(Args, Debug, Clone)]
pub struct TimeRange {
    /// Start of the range (RFC 3339, e.g. 2024-05-01T00:00:00Z)
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub from: Option<DateTime<Utc>>,
    /// End of the range (RFC 3339; default: now)
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub to: Option<DateTime<Utc>>,
    /// The range as a span before --to: 30m, 6h, 7d (default: 24h)
    #[arg(long, value_name = "SPAN", value_parser = parse_span, conflicts_with = "from")]
    pub last: Option<TimeDelta>,
}

impl TimeRange {
    /// The range as `(from, to)`; a usage error naming `--last` when the
    /// span reaches back past the earliest time there is.
    pub fn resolve(&self) -> Result<(DateTime<Utc>, DateTime<Utc>), Failure> {
        let to = self.to.unwrap_or_else(Utc::now);
        let from = match self.from {
            Some(from) => from,
            None => {
                let last = self.last.unwrap_or(TimeDelta::hours(24));
                to.checked_sub_signed(last).ok_or_else(|| {
                    Failure::usage(format!(
                        "--last reaches back from {to} past the earliest time there is"
                    ))
                })?
            }
        };
        Ok((from, to))
    }
}

/// How long to wait for work the console does in the background.
#[derive(Args, Debug, Clone, Copy)]
pub struct WaitArgs {
    /// Give up waiting after this many seconds [default: 600]
    #[arg(long, value_name = "SECS", value_parser = parse_secs)]
    pub timeout: Option<Duration>,
    /// Seconds between status checks (default: growing pauses)
    #[arg(long, value_name = "SECS", value_parser = parse_secs)]
    pub poll_every: Option<Duration>,
}

impl WaitArgs {
    /// `base` with the pause and limit given on the command line.
    pub fn polling(&self, base: Polling) -> Polling {
        let timeout = self.timeout.unwrap_or(base.timeout);
        match self.poll_every {
            Some(pause) => Polling::every(pause, timeout),
            None => base.timeout(timeout),
        }
    }
}

/// An RFC 3339 time.
pub fn parse_time(text: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("not an RFC 3339 time such as 2024-05-01T00:00:00Z ({e})"))
}

/// The longest `--last` span: 100 years.
const MAX_SPAN_DAYS: i64 = 36_500;

/// The longest `--timeout` or `--poll-every`, in seconds (the library's
/// [`Polling::MAX_WAIT`]).
const MAX_SECS: f64 = Polling::MAX_WAIT.as_secs() as f64;

/// A span such as `90s`, `30m`, `6h` or `7d`, at most [`MAX_SPAN_DAYS`].
fn parse_span(text: &str) -> Result<TimeDelta, String> {
    let text = text.trim();
    let split = text.char_indices().last().map_or(0, |(i, _)| i);
    let (number, unit) = text.split_at(split);
    let n: i64 = number
        .parse()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("{text:?} is not a span such as 30m, 6h or 7d"))?;
    let unit_secs = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        _ => {
            return Err(format!(
                "{text:?} has no unit: use s, m, h or d (30m, 6h, 7d)"
            ));
        }
    };
    n.checked_mul(unit_secs)
        .filter(|secs| *secs <= MAX_SPAN_DAYS * 86_400)
        .and_then(TimeDelta::try_seconds)
        .ok_or_else(|| format!("{text:?} is too long: at most {MAX_SPAN_DAYS}d"))
}

/// A positive number of seconds (fractions allowed), at most
/// [`MAX_SECS`].
pub fn parse_secs(text: &str) -> Result<Duration, String> {
    let secs = text
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s > 0.0)
        .ok_or_else(|| format!("{text:?} is not a positive number of seconds"))?;
    Duration::try_from_secs_f64(secs)
        .ok()
        .filter(|d| !d.is_zero() && secs <= MAX_SECS)
        .ok_or_else(|| {
            format!("{text:?} is out of range: above 0 and at most {MAX_SECS} seconds (30 days)")
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_tree_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn spans_and_seconds() {
        assert_eq!(parse_span("30m"), Ok(TimeDelta::minutes(30)));
        assert_eq!(parse_span("7d"), Ok(TimeDelta::days(7)));
        assert!(parse_span("7").is_err());
        assert!(parse_span("-1h").is_err());
        assert_eq!(parse_secs("0.5"), Ok(Duration::from_millis(500)));
        assert!(parse_secs("0").is_err());
        assert!(parse_secs("soon").is_err());
        assert!(parse_secs("1e300").is_err());
        assert!(parse_secs("1e-300").is_err());
        assert!(parse_span("99999999999d").is_err());
        assert!(parse_span("9999999999999999d").is_err());
        assert!(parse_span("7é").is_err());
        assert_eq!(parse_span("36500d"), Ok(TimeDelta::days(36_500)));
    }

    /// The library inputs a parsed command line turns into, checked the
    /// way the commands check them before anything is sent.
    fn library_inputs(cli: &Cli) -> Result<(), String> {
        use crate::commands::dv::DvCommand;
        use crate::commands::files::FilesCommand;
        use crate::commands::scripts::ScriptsCommand;
        use crate::commands::threats::ThreatsCommand;
        let (range, wait) = match &cli.command {
            Command::Threats(ThreatsCommand::List(args)) => (Some(&args.range), None),
            Command::Threats(ThreatsCommand::Kill(args)) => {
                return args.target().check().map_err(|e| e.to_string());
            }
            Command::Dv(DvCommand::Query(args)) => {
                (Some(&args.scope.range), Some(&args.scope.wait))
            }
            Command::Pq(args) => (Some(&args.lrq.range), None),
            Command::Query(args) => (Some(&args.lrq.range), None),
            Command::Scripts(ScriptsCommand::Run(args)) => (None, Some(&args.wait)),
            Command::Files(FilesCommand::Collect(args)) => (None, Some(&args.wait)),
            _ => (None, None),
        };
        if let Some(range) = range {
            range.resolve().map_err(|f| f.to_string())?;
        }
        if let Some(wait) = wait {
            wait.polling(Polling::default())
                .check()
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    /// Every numeric flag: a command line it goes on, the flag, and the
    /// names an error about it may use.
    const NUMERIC_FLAGS: &[(&[&str], &str, &[&str])] = &[
        (&["threats", "list"], "--last", &["--last"]),
        (&["threats", "list"], "--limit", &["--limit"]),
        (&["threats", "list"], "--from", &["--from"]),
        (
            &["threats", "kill", "--computer", "pc"],
            "--max-threats",
            &["--max-threats", "max_threats"],
        ),
        (&["dv", "query", "--query", "q"], "--last", &["--last"]),
        (
            &["dv", "query", "--query", "q"],
            "--timeout",
            &["--timeout", "polling.timeout"],
        ),
        (
            &["dv", "query", "--query", "q"],
            "--poll-every",
            &["--poll-every", "polling.first"],
        ),
        (&["dv", "query", "--query", "q"], "--limit", &["--limit"]),
        (&["pq", "--query", "q"], "--timeout", &["--timeout"]),
        (&["pq", "--query", "q"], "--last", &["--last"]),
        (&["query", "--pq", "q"], "--slices", &["--slices"]),
        (&["query", "--log", "q"], "--limit", &["--limit"]),
        (&["query", "--log", "q"], "--timeout", &["--timeout"]),
        (
            &["scripts", "run", "--script-id", "1", "--description", "d"],
            "--poll-every",
            &["--poll-every", "polling.first"],
        ),
        (
            &[
                "files",
                "collect",
                "--agent-id",
                "1",
                "--path",
                "/a",
                "--out",
                "o.zip",
            ],
            "--timeout",
            &["--timeout", "polling.timeout"],
        ),
        (
            &[
                "files",
                "collect",
                "--agent-id",
                "1",
                "--path",
                "/a",
                "--out",
                "o.zip",
                "--extract",
                "d",
            ],
            "--max-extract-bytes",
            &["--max-extract-bytes"],
        ),
        (
            &[
                "files",
                "collect",
                "--agent-id",
                "1",
                "--path",
                "/a",
                "--out",
                "o.zip",
                "--extract",
                "d",
            ],
            "--max-extract-entries",
            &["--max-extract-entries"],
        ),
        (&["agents", "list"], "--limit", &["--limit"]),
        (&["api", "list_agents"], "--limit", &["--limit"]),
    ];

    /// Text that looks like a number, a span or a time, and some that
    /// does not.
    fn numeric_text() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        prop_oneof![
            any::<u64>().prop_map(|n| n.to_string()),
            any::<i64>().prop_map(|n| format!("{n}d")),
            any::<f64>().prop_map(|f| f.to_string()),
            any::<f64>().prop_map(|f| format!("{f:e}")),
            "[-+]?[0-9]{0,22}(\\.[0-9]{0,4})?([eE][-+]?[0-9]{1,4})?[smhdé]?",
            "[0-9]{4,6}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z",
            ".{0,6}",
        ]
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

        /// No value of any numeric flag panics, while parsing or while
        /// becoming library inputs; a refusal is a usage error (exit 2)
        /// naming the flag.
        #[test]
        fn numeric_flags_never_panic(value in numeric_text()) {
            for (line, flag, names) in NUMERIC_FLAGS {
                let args = std::iter::once("s1")
                    .chain(line.iter().copied())
                    .map(String::from)
                    .chain([format!("{flag}={value}")]);
                let refusal = match Cli::try_parse_from(args) {
                    Err(e) => {
                        proptest::prop_assert_eq!(e.exit_code(), 2, "{}", e);
                        e.to_string()
                    }
                    Ok(cli) => match library_inputs(&cli) {
                        Ok(()) => continue,
                        Err(message) => message,
                    },
                };
                proptest::prop_assert!(
                    names.iter().any(|name| refusal.contains(name)),
                    "{} {}={:?}: {}", line.join(" "), flag, value, refusal
                );
            }
        }
    }

    #[test]
    fn the_values_that_panicked_are_refused_naming_their_flag() {
        for (args, flag) in [
            (&["threats", "list", "--last", "99999999999d"][..], "--last"),
            (
                &["threats", "list", "--last", "9999999999999999d"],
                "--last",
            ),
            (
                &["dv", "query", "--query", "q", "--timeout", "1e300"],
                "--timeout",
            ),
            (
                &["dv", "query", "--query", "q", "--poll-every", "1e300"],
                "--poll-every",
            ),
        ] {
            let error = Cli::try_parse_from(std::iter::once(&"s1").chain(args))
                .err()
                .unwrap_or_else(|| panic!("{args:?} accepted"));
            assert_eq!(error.exit_code(), 2);
            assert!(error.to_string().contains(flag), "{error}");
        }
        let cli = Cli::try_parse_from([
            "s1",
            "threats",
            "kill",
            "--computer",
            "pc",
            "--max-threats",
            "18446744073709551615",
        ])
        .unwrap();
        assert_eq!(
            library_inputs(&cli).unwrap_err(),
            "invalid input: max_threats 18446744073709551615 is out of range: 1 to 1000000"
        );
    }
}
