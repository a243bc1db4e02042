//! Console profiles: the profile file read and checked (every error naming
//! the file, the line and the key, and never a token), a client built from
//! a profile, and `s1 --profile` / `s1 --all-profiles` against simulated
//! consoles.

#![cfg(unix)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use sentinelone::profile::{Profiles, TokenSource};

/// A token no error may ever show.
const SECRET: &str = "inline-secret-token-7f3a9c";

/// A variable no test sets.
const UNSET_VAR: &str = "S1_PROFILES_TEST_TOKEN_NEVER_SET_4c1d";

/// A directory holding `profiles.toml` (and whatever else a test writes).
struct Dir(tempfile::TempDir);

impl Dir {
    fn new() -> Dir {
        Dir(tempfile::tempdir().expect("a temporary directory"))
    }

    /// Writes `name` with `text` and permissions `mode`; its path.
    fn write(&self, name: &str, text: &str, mode: u32) -> PathBuf {
        let path = self.0.path().join(name);
        std::fs::write(&path, text).expect("written");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).expect("chmod");
        path
    }

    /// Writes `profiles.toml`, private to its owner.
    fn profiles(&self, text: &str) -> PathBuf {
        self.write("profiles.toml", text, 0o600)
    }
}

/// The error loading `text` gives, as the caller sees it.
fn load_error(path: &Path) -> String {
    let error = Profiles::load(path).expect_err("the file is refused");
    let text = error.to_string();
    assert!(
        matches!(error, sentinelone::Error::InvalidInput { .. }),
        "{error:?}"
    );
    assert!(!text.contains(SECRET), "{text}");
    assert!(!format!("{error:?}").contains(SECRET), "{error:?}");
    text
}

/// The error a profile's client builder gives.
fn builder_error(path: &Path, name: &str) -> String {
    let profiles = Profiles::load(path).expect("the file loads");
    let error = profiles
        .get(name)
        .expect("the profile exists")
        .client_builder()
        .expect_err("the builder is refused");
    let text = error.to_string();
    assert!(!text.contains(SECRET), "{text}");
    text
}

#[test]
fn a_good_file_loads_with_every_setting() {
    let dir = Dir::new();
    let path = dir.profiles(&format!(
        r#"# two consoles
[profiles.acme]
console_url = "https://acme.sentinelone.net"
token_env = "ACME_S1_TOKEN"
proxy = "https://proxy.corp.example:3128"
ca_file = "corp-root.pem"
redis_url = "redis://user:pw@127.0.0.1:6379/0"

[profiles.globex]
console_url = "https://globex.sentinelone.net"
token = "{SECRET}"

[profiles.initech]
console_url = "https://initech.sentinelone.net"
token_file = "initech.token"
"#
    ));
    let profiles = Profiles::load(&path).unwrap();
    assert_eq!(profiles.path(), path);
    assert_eq!(
        profiles.names().collect::<Vec<_>>(),
        ["acme", "globex", "initech"]
    );

    let acme = profiles.get("acme").unwrap();
    assert_eq!(acme.name(), "acme");
    assert_eq!(acme.console_url(), "https://acme.sentinelone.net");
    assert!(matches!(acme.token_source(), TokenSource::Env(var) if var == "ACME_S1_TOKEN"));
    assert_eq!(acme.proxy(), Some("https://proxy.corp.example:3128"));
    // Relative paths are relative to the profile file's directory.
    assert_eq!(
        acme.ca_file(),
        Some(dir.0.path().join("corp-root.pem").as_path())
    );
    assert_eq!(acme.redis_url(), Some("redis://user:pw@127.0.0.1:6379/0"));

    let globex = profiles.get("globex").unwrap();
    assert!(matches!(globex.token_source(), TokenSource::Inline(_)));
    assert_eq!(globex.proxy(), None);
    assert_eq!(globex.ca_file(), None);
    assert_eq!(globex.redis_url(), None);
    let initech = profiles.get("initech").unwrap();
    assert!(matches!(
        initech.token_source(),
        TokenSource::File(file) if *file == dir.0.path().join("initech.token")
    ));

    // Debug shows where tokens come from, never a token or a password.
    let debug = format!("{profiles:?}");
    assert!(!debug.contains(SECRET), "{debug}");
    assert!(!debug.contains(":pw@"), "{debug}");
    assert!(debug.contains("ACME_S1_TOKEN"), "{debug}");
    assert!(debug.contains("initech.token"), "{debug}");
}

#[test]
fn each_bad_file_is_refused_naming_the_file_line_and_key() {
    let good = "console_url = \"https://a.sentinelone.net\"\ntoken_env = \"A_TOKEN\"\n";
    // (file text, line, key, what the message says)
    let cases: &[(String, usize, &str, &str)] = &[
        (
            "[profiles.a]\ntoken_env = \"A\"\nconsole_url = 443\n".into(),
            3,
            "profiles.a.console_url",
            "invalid type: integer `443`, expected a string",
        ),
        (
            format!("[profiles.a]\n{good}\ncolour = \"blue\"\n"),
            5,
            "profiles.a.colour",
            "unknown field `colour`",
        ),
        (
            format!("# top\n\n[profiles.a]\n{good}[profiles.b]\ntoken_env = \"B\"\n"),
            6,
            "profiles.b",
            "missing field `console_url`",
        ),
        (
            "[profiles.a]\nconsole_url = \"https://a.sentinelone.net\"\n".into(),
            1,
            "profiles.a",
            "no token source: give one of token_env, token_file or token",
        ),
        (
            format!("[profiles.a]\n{good}token_file = \"a.token\"\n"),
            4,
            "profiles.a.token_file",
            "token_env and token_file given: a profile takes exactly one token source",
        ),
        (
            "[profiles.a]\ntoken_file = \"a.token\"\ntoken_env = \"A\"\nconsole_url = \"https://a.example\"\n".into(),
            3,
            "profiles.a.token_env",
            "token_file and token_env given",
        ),
        (
            "[profiles.a]\ntoken_env = \"A\"\nconsole_url = \"ftp://a.sentinelone.net\"\n".into(),
            3,
            "profiles.a.console_url",
            "has scheme \"ftp\"; expected https",
        ),
        (
            "[profiles.a]\ntoken_env = \"A\"\nconsole_url = \"https://a.sentinelone.net/web/api/v2.1\"\n".into(),
            3,
            "profiles.a.console_url",
            "must be the console root",
        ),
        (
            format!("[profiles.a]\n{good}proxy = \"socks5://user:{SECRET}@p:1080\"\n"),
            4,
            "profiles.a.proxy",
            "expected an http:// or https:// URL with a host",
        ),
        (
            "[profiles.a]\ntoken_env = \"  \"\nconsole_url = \"https://a.example\"\n".into(),
            2,
            "profiles.a.token_env",
            "is empty",
        ),
        (
            "[profiles]\na = 1\n".into(),
            2,
            "profiles.a",
            "invalid type: integer `1`, expected a profile table",
        ),
        (
            format!("[profiles]\na = \"{SECRET}\"\n"),
            2,
            "profiles.a",
            "invalid type: a string, expected a profile table",
        ),
        (
            format!("[profiles.a]\n{good}\n[other]\nx = 1\n"),
            5,
            "other",
            "unknown field `other`, expected `profiles`",
        ),
    ];
    for (text, line, key, message) in cases {
        let dir = Dir::new();
        let path = dir.profiles(text);
        let error = load_error(&path);
        let expected = format!("{} line {line}: {key}: ", path.display());
        assert!(error.contains(&expected), "{expected:?} in {error:?}");
        assert!(error.contains(message), "{message:?} in {error:?}");
    }

    // A TOML syntax error names the file and the line (there is no key),
    // and never shows the text it could not read.
    let dir = Dir::new();
    let path = dir.profiles(&format!(
        "[profiles.a]\nconsole_url = \"https://a.example\"\ntoken = {SECRET}\n"
    ));
    let error = load_error(&path);
    assert!(
        error.contains(&format!("{} line 3: ", path.display())),
        "{error}"
    );
}

#[test]
fn a_missing_file_and_a_missing_profile_say_what_there_is() {
    let dir = Dir::new();
    let missing = dir.0.path().join("nowhere.toml");
    let error = load_error(&missing);
    assert!(
        error.contains(&format!("{}: cannot read", missing.display())),
        "{error}"
    );

    let path = dir.profiles(
        "[profiles.beta]\nconsole_url = \"https://b.example\"\ntoken_env = \"B\"\n\
         [profiles.alpha]\nconsole_url = \"https://a.example\"\ntoken_env = \"A\"\n",
    );
    let profiles = Profiles::load(&path).unwrap();
    let error = profiles.get("gamma").unwrap_err().to_string();
    assert!(
        error.contains(&format!(
            "no profile \"gamma\" in {}; its profiles are: alpha, beta",
            path.display()
        )),
        "{error}"
    );

    let empty = dir.write("empty.toml", "# nothing yet\n", 0o600);
    let error = Profiles::load(&empty)
        .unwrap()
        .get("alpha")
        .unwrap_err()
        .to_string();
    assert!(error.contains("has no profiles"), "{error}");
}

#[test]
fn token_files_must_be_private_to_their_owner() {
    let dir = Dir::new();
    let token = dir.write("acme.token", &format!("{SECRET}\n"), 0o644);
    let path = dir.profiles(
        "[profiles.acme]\nconsole_url = \"https://acme.sentinelone.net\"\n\n\
         token_file = \"acme.token\"\n",
    );
    let error = builder_error(&path, "acme");
    assert!(
        error.contains(&format!(
            "{} line 4: profiles.acme.token_file: {} has mode 0644: its group or others can read it; run chmod 600 {}",
            path.display(),
            token.display(),
            token.display()
        )),
        "{error}"
    );

    for mode in [0o600, 0o400] {
        std::fs::set_permissions(&token, std::fs::Permissions::from_mode(mode)).unwrap();
        let profiles = Profiles::load(&path).unwrap();
        let builder = profiles.get("acme").unwrap().client_builder();
        let client = builder.expect("a private token file").build().unwrap();
        assert_eq!(client.console_url(), "https://acme.sentinelone.net");
        assert!(!format!("{client:?}").contains(SECRET));
    }

    // A missing token file is named, at its line.
    std::fs::remove_file(&token).unwrap();
    let error = builder_error(&path, "acme");
    assert!(
        error.contains("line 4: profiles.acme.token_file: cannot read")
            && error.contains("acme.token"),
        "{error}"
    );
}

#[test]
fn an_inline_token_needs_a_private_profile_file() {
    let dir = Dir::new();
    let text = format!(
        "[profiles.acme]\nconsole_url = \"https://acme.sentinelone.net\"\ntoken = \"{SECRET}\"\n"
    );
    let path = dir.write("profiles.toml", &text, 0o644);
    let error = load_error(&path);
    assert!(
        error.contains(&format!(
            "{} line 3: profiles.acme.token: an inline token needs a private file: {} has mode 0644: its group or others can read it; run chmod 600 {}",
            path.display(),
            path.display(),
            path.display()
        )),
        "{error}"
    );
    let group = dir.write("profiles.toml", &text, 0o640);
    assert!(load_error(&group).contains("has mode 0640"));

    let private = dir.write("profiles.toml", &text, 0o600);
    let profiles = Profiles::load(&private).expect("a private file may hold a token");
    let acme = profiles.get("acme").unwrap();
    assert!(!format!("{acme:?}").contains(SECRET), "{acme:?}");
    assert!(acme.client_builder().unwrap().build().is_ok());

    // A file anyone may read is fine when it holds no token.
    let shared = dir.write(
        "shared.toml",
        "[profiles.acme]\nconsole_url = \"https://acme.sentinelone.net\"\ntoken_env = \"X\"\n",
        0o644,
    );
    assert!(Profiles::load(&shared).is_ok());
}

#[test]
fn a_missing_token_variable_is_named_and_no_token_is_shown() {
    let dir = Dir::new();
    let path = dir.profiles(&format!(
        "[profiles.acme]\nconsole_url = \"https://acme.sentinelone.net\"\nredis_url = \"redis://:{SECRET}@r:6379\"\ntoken_env = \"{UNSET_VAR}\"\n"
    ));
    let error = builder_error(&path, "acme");
    assert_eq!(
        error,
        format!(
            "invalid input: {} line 4: profiles.acme.token_env: environment variable {UNSET_VAR} is not set",
            path.display()
        )
    );
}

#[test]
fn a_ca_file_is_read_and_checked_when_the_client_is_built() {
    let dir = Dir::new();
    dir.write("not.pem", "this is no certificate\n", 0o644);
    let path = dir.profiles(&format!(
        "[profiles.acme]\nconsole_url = \"https://acme.sentinelone.net\"\ntoken = \"{SECRET}\"\nca_file = \"not.pem\"\n\
         [profiles.gone]\nconsole_url = \"https://acme.sentinelone.net\"\ntoken = \"{SECRET}\"\nca_file = \"gone.pem\"\n"
    ));
    let error = builder_error(&path, "acme");
    assert!(
        error.contains("line 4: profiles.acme.ca_file: ")
            && error.contains("not.pem: root certificate: no PEM certificate found"),
        "{error}"
    );
    let error = builder_error(&path, "gone");
    assert!(
        error.contains("line 8: profiles.gone.ca_file: cannot read ") && error.contains("gone.pem"),
        "{error}"
    );
}

#[tokio::test]
async fn a_profile_with_a_ca_file_reaches_a_tls_console_that_trusts_nothing_else() {
    use sentinelone::prelude::*;

    let (port, cert_pem, seen) = crate::tls::tls_console().await;
    let dir = Dir::new();
    dir.write("console.pem", &cert_pem, 0o644);
    dir.write("tls.token", &format!("{SECRET}\n"), 0o600);
    let path = dir.profiles(&format!(
        "[profiles.tls]\nconsole_url = \"https://localhost:{port}\"\ntoken_file = \"tls.token\"\nca_file = \"console.pem\"\n"
    ));
    let profiles = Profiles::load(&path).unwrap();
    let client = profiles
        .get("tls")
        .unwrap()
        .client_builder()
        .unwrap()
        .quotas(sentinelone::quota::Quotas::none())
        .build()
        .unwrap();
    let page = client
        .list_agents()
        .limit(1)
        .call()
        .await
        .expect("the call over TLS, trusting the profile's CA file");
    assert_eq!(page.data.unwrap_or_default().len(), 0);
    let seen = seen.lock().unwrap().clone();
    let request = seen[0].request.as_deref().unwrap_or_default();
    assert!(
        request
            .to_ascii_lowercase()
            .contains(&format!("authorization: apitoken {SECRET}")),
        "the token from the profile's file: {request}"
    );
}

#[cfg(feature = "sim")]
#[tokio::test]
async fn a_client_from_a_profile_calls_the_console() {
    use sentinelone::prelude::*;
    use sentinelone::sim::SimConsole;

    let console = SimConsole::builder()
        .agents(4)
        .token("sim-profile-token-0123456789")
        .start()
        .await;
    let dir = Dir::new();
    dir.write("lab.token", "sim-profile-token-0123456789\n", 0o600);
    let path = dir.profiles(&format!(
        "[profiles.lab]\nconsole_url = \"{}\"\ntoken_file = \"lab.token\"\n",
        console.url()
    ));
    let profiles = Profiles::load(&path).unwrap();
    let client = profiles
        .get("lab")
        .unwrap()
        .client_builder()
        .unwrap()
        .limiter(sentinelone::quota::Limiter::new())
        .build()
        .expect("plain http on loopback is allowed");
    let agents: Vec<_> = client.list_agents().items().try_collect().await.unwrap();
    assert_eq!(agents.len(), 4);
    assert_eq!(console.counters().requests("GET", "/agents"), 1);
    assert_eq!(console.counters().unauthorized, 0);

    // Plain http anywhere else is refused.
    let remote = dir.profiles(
        "[profiles.lab]\nconsole_url = \"http://lab.example\"\ntoken_file = \"lab.token\"\n",
    );
    let builder = Profiles::load(&remote)
        .unwrap()
        .get("lab")
        .unwrap()
        .client_builder();
    let error = builder.unwrap().build().unwrap_err().to_string();
    assert!(error.contains("is http://"), "{error}");
}

/// The variable that tells [`from_profile_in_a_child`] how many agents to
/// expect; unset, it does nothing.
#[cfg(feature = "sim")]
const CHILD_EXPECTS: &str = "S1_PROFILES_TEST_EXPECTED_AGENTS";

/// `Client::from_profile`, run by [`client_from_profile_reads_s1_config`]
/// in a process of its own, where `S1_CONFIG` is set (setting it here
/// would race the other tests' threads).
#[cfg(feature = "sim")]
#[tokio::test]
#[ignore = "run by client_from_profile_reads_s1_config in a child process"]
async fn from_profile_in_a_child() {
    use sentinelone::prelude::*;

    let Ok(expected) = std::env::var(CHILD_EXPECTS) else {
        return;
    };
    let client = sentinelone::Client::from_profile("lab").expect("the profile's client");
    let agents: Vec<_> = client.list_agents().items().try_collect().await.unwrap();
    assert_eq!(agents.len().to_string(), expected);
}

#[cfg(feature = "sim")]
#[tokio::test]
async fn client_from_profile_reads_s1_config() {
    use sentinelone::sim::SimConsole;

    let console = SimConsole::builder()
        .agents(7)
        .token("sim-profile-token-0123456789")
        .start()
        .await;
    let dir = Dir::new();
    dir.write("lab.token", "sim-profile-token-0123456789\n", 0o600);
    let path = dir.profiles(&format!(
        "[profiles.lab]\nconsole_url = \"{}\"\ntoken_file = \"lab.token\"\n",
        console.url()
    ));
    let child = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "profiles::from_profile_in_a_child", "--ignored"])
        .env("S1_CONFIG", &path)
        .env(CHILD_EXPECTS, "7")
        .output()
        .expect("the test binary runs");
    let stdout = String::from_utf8_lossy(&child.stdout);
    assert!(
        child.status.success() && stdout.contains("1 passed"),
        "{stdout}\n{}",
        String::from_utf8_lossy(&child.stderr)
    );
    assert_eq!(console.counters().requests("GET", "/agents"), 1);
}

/// `s1 --profile` and `s1 --all-profiles` against simulated consoles.
#[cfg(feature = "cli")]
mod cli {
    use std::collections::BTreeMap;

    use assert_cmd::Command;
    use sentinelone::sim::SimConsole;
    use serde_json::Value;

    use super::{Dir, UNSET_VAR};
    use crate::cli::{assert_code, run, s1_bare};

    const TOKEN_A: &str = "alpha-token-00000000000000000000";
    const TOKEN_B: &str = "bravo-token-00000000000000000000";

    /// Two consoles of different sizes, each with a token of its own.
    async fn consoles() -> (SimConsole, SimConsole) {
        let a = SimConsole::builder().agents(3).token(TOKEN_A).start().await;
        let b = SimConsole::builder().agents(5).token(TOKEN_B).start().await;
        (a, b)
    }

    /// A profile file naming `a` and `b` (tokens from ALPHA_TOKEN and
    /// BRAVO_TOKEN), and more profiles as given.
    fn profile_file(dir: &Dir, a: &SimConsole, b: &SimConsole, more: &str) -> String {
        let path = dir.profiles(&format!(
            "[profiles.a]\nconsole_url = \"{}\"\ntoken_env = \"ALPHA_TOKEN\"\n\n\
             [profiles.b]\nconsole_url = \"{}\"\ntoken_env = \"BRAVO_TOKEN\"\n{more}",
            a.url(),
            b.url()
        ));
        path.display().to_string()
    }

    /// `s1` with the profile file at `config` (through S1_CONFIG) and both
    /// tokens in the environment.
    fn s1_with(config: &str) -> Command {
        let mut cmd = s1_bare();
        cmd.env("S1_CONFIG", config)
            .env("ALPHA_TOKEN", TOKEN_A)
            .env("BRAVO_TOKEN", TOKEN_B);
        cmd
    }

    /// The `id`s of a console's agents, in its order.
    fn ids_of(lines: &[&Value]) -> Vec<String> {
        lines
            .iter()
            .map(|l| l["id"].as_str().expect("an id").to_string())
            .collect()
    }

    #[tokio::test]
    async fn profile_picks_the_console_and_ignores_the_environments_console() {
        let (a, b) = consoles().await;
        let dir = Dir::new();
        let config = profile_file(&dir, &a, &b, "");
        let mut cmd = s1_with(&config);
        // The environment names console b: the profile wins.
        cmd.env("S1_CONSOLE_URL", b.url())
            .env("S1_API_TOKEN", TOKEN_B);
        let out = run(
            &mut cmd,
            &["--profile", "a", "agents", "list", "-o", "jsonl"],
        );
        assert_code(&out, 0);
        let lines = out.json_lines();
        assert_eq!(ids_of(&lines.iter().collect::<Vec<_>>()), a.agent_ids());
        assert_eq!(b.counters().total(), 0);

        // S1_PROFILE and --config do the same.
        let mut cmd = s1_bare();
        cmd.env("S1_PROFILE", "b").env("BRAVO_TOKEN", TOKEN_B);
        let out = run(
            &mut cmd,
            &["--config", &config, "agents", "list", "--jsonl"],
        );
        assert_code(&out, 0);
        assert_eq!(out.json_lines().len(), 5);
        assert_eq!(b.counters().requests("GET", "/agents"), 1);
    }

    #[tokio::test]
    async fn a_profile_and_a_console_on_the_command_line_are_a_usage_error() {
        let (a, b) = consoles().await;
        let dir = Dir::new();
        let config = profile_file(&dir, &a, &b, "");
        for extra in [["--console-url", &b.url()], ["--api-token", TOKEN_B]] {
            let mut args = vec!["--profile", "a", "agents", "list"];
            args.extend(extra);
            let out = run(&mut s1_with(&config), &args);
            assert_code(&out, 2);
            assert!(
                out.stderr.contains("--console-url or --api-token"),
                "{}",
                out.stderr
            );
        }
        let out = run(&mut s1_with(&config), &["--profile", "c", "agents", "list"]);
        assert_code(&out, 2);
        assert!(
            out.stderr.contains("no profile \"c\"") && out.stderr.contains("are: a, b"),
            "{}",
            out.stderr
        );
        assert_eq!(a.counters().total() + b.counters().total(), 0);
    }

    #[tokio::test]
    async fn all_profiles_tags_each_line_with_the_console_it_came_from() {
        let (a, b) = consoles().await;
        let dir = Dir::new();
        let config = profile_file(&dir, &a, &b, "");
        let out = run(&mut s1_with(&config), &["--all-profiles", "agents", "list"]);
        assert_code(&out, 0);
        assert_eq!(out.stderr, "");
        for line in out.stdout.lines() {
            assert!(
                line.starts_with(r#"{"profile":"a","#) || line.starts_with(r#"{"profile":"b","#),
                "the profile comes first: {line}"
            );
        }
        let lines = out.json_lines();
        let mut by_profile: BTreeMap<&str, Vec<&Value>> = BTreeMap::new();
        for line in &lines {
            by_profile
                .entry(line["profile"].as_str().unwrap())
                .or_default()
                .push(line);
        }
        assert_eq!(by_profile.len(), 2, "{}", out.stdout);
        assert_eq!(ids_of(&by_profile["a"]), a.agent_ids());
        assert_eq!(ids_of(&by_profile["b"]), b.agent_ids());
        assert_eq!(a.counters().requests("GET", "/agents"), 1);
        assert_eq!(b.counters().requests("GET", "/agents"), 1);
        assert_eq!(a.counters().unauthorized + b.counters().unauthorized, 0);

        // One document per console (test-connection) is one line each.
        let out = run(
            &mut s1_with(&config),
            &["--all-profiles", "test-connection"],
        );
        assert_code(&out, 0);
        let profiles: Vec<_> = out
            .json_lines()
            .iter()
            .map(|l| l["profile"].as_str().unwrap().to_string())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        assert_eq!(profiles, ["a", "b"]);
    }

    #[tokio::test]
    async fn all_profiles_refuses_a_change_without_yes_and_sends_nothing() {
        let (a, b) = consoles().await;
        let dir = Dir::new();
        let config = profile_file(&dir, &a, &b, "");
        let writes: &[&[&str]] = &[
            &["threats", "kill", "--computer", "win-lab-001"],
            &["threats", "quarantine", "--computer", "win-lab-001"],
            &[
                "scripts",
                "run",
                "--script-id",
                "1",
                "--description",
                "d",
                "--computer",
                "x",
            ],
            &["request", "POST", "threats/mitigate/kill", "--body", "{}"],
            &["request", "delete", "exclusions"],
            &["api", "disconnect_agents", "--body", "{}"],
            &[
                "files",
                "collect",
                "--agent-id",
                "1",
                "--path",
                "/etc/hosts",
                "--out",
                "x.zip",
            ],
        ];
        for command in writes {
            let args: Vec<&str> = ["--all-profiles"].iter().chain(*command).copied().collect();
            let out = run(&mut s1_with(&config), &args);
            assert_code(&out, 2);
            assert_eq!(out.stdout, "");
            assert!(
                out.stderr.contains(
                    "with --all-profiles it would run on every console without a prompt; give --yes"
                ),
                "{command:?}: {}",
                out.stderr
            );
        }
        // Other refusals: an output that is not JSON Lines, --profile, a
        // command without a console.
        for args in [
            &["--all-profiles", "-o", "table", "agents", "list"][..],
            &["--all-profiles", "--output", "csv", "agents", "list"],
            &["--all-profiles", "--profile", "a", "agents", "list"],
            &["--all-profiles", "tour"],
        ] {
            let out = run(&mut s1_with(&config), args);
            assert_code(&out, 2);
            assert!(out.stderr.starts_with("s1: "), "{}", out.stderr);
        }
        assert_eq!(a.counters().total(), 0, "{:?}", a.counters());
        assert_eq!(b.counters().total(), 0, "{:?}", b.counters());

        // Read-only commands run: a dry run, a GET request.
        let out = run(
            &mut s1_with(&config),
            &[
                "--all-profiles",
                "threats",
                "kill",
                "--computer",
                "win-lab-001",
                "--dry-run",
            ],
        );
        assert_code(&out, 0);
        let out = run(
            &mut s1_with(&config),
            &[
                "--all-profiles",
                "request",
                "GET",
                "agents",
                "--query",
                "limit=1",
            ],
        );
        assert_code(&out, 0);
        assert_eq!(out.json_lines().len(), 2, "{}", out.stdout);
        assert!(a.counters().mitigations.is_empty() && b.counters().mitigations.is_empty());

        // With --yes the change is made on every console.
        let out = run(
            &mut s1_with(&config),
            &[
                "--all-profiles",
                "--yes",
                "threats",
                "kill",
                "--computer",
                "win-lab-001",
            ],
        );
        assert_code(&out, 0);
        assert_eq!(a.counters().mitigations.len(), 1, "{:?}", a.counters());
        assert_eq!(b.counters().mitigations.len(), 1, "{:?}", b.counters());
    }

    #[tokio::test]
    async fn a_broken_profile_fails_alone_and_sets_the_exit_code() {
        let (a, b) = consoles().await;
        let dir = Dir::new();
        let broken = format!(
            "\n[profiles.broken]\nconsole_url = \"{}\"\ntoken_env = \"{UNSET_VAR}\"\n",
            a.url()
        );
        let config = profile_file(&dir, &a, &b, &broken);
        let out = run(&mut s1_with(&config), &["--all-profiles", "agents", "list"]);
        assert_code(&out, 2);
        let lines = out.json_lines();
        let count = |name: &str| lines.iter().filter(|l| l["profile"] == name).count();
        assert_eq!((count("a"), count("b"), count("broken")), (3, 5, 0));
        let stderr: Vec<&str> = out.stderr.lines().collect();
        assert!(
            stderr.contains(
                &format!(
                    "[broken] s1: invalid input: {config} line 11: profiles.broken.token_env: \
                 environment variable {UNSET_VAR} is not set"
                )
                .as_str()
            ),
            "{}",
            out.stderr
        );
        assert!(
            stderr.contains(&"s1: profile broken failed (exit 2)"),
            "{}",
            out.stderr
        );
        assert_eq!(stderr.last(), Some(&"s1: 1 of 3 profile(s) failed"));
    }

    #[test]
    fn help_describes_the_profile_file() {
        let help = run(&mut s1_bare(), &["--help"]);
        assert_code(&help, 0);
        for text in [
            "--profile <NAME>",
            "--all-profiles",
            "--config <FILE>",
            "[env: S1_PROFILE",
            "$XDG_CONFIG_HOME/s1/profiles.toml",
            "~/.config/s1/profiles.toml",
            "[profiles.acme]",
            "token_env = ",
        ] {
            assert!(help.stdout.contains(text), "{text:?} in {}", help.stdout);
        }
    }
}
