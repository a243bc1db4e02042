//! The `s1` command line end to end: the binary run against a simulated
//! console, its output read field by field, its exit codes, and what the
//! console received.
#![cfg(feature = "cli")]

use std::path::Path;
use std::time::Duration;

use assert_cmd::Command;
use sentinelone::prelude::*;
use sentinelone::sim::SimConsole;
use serde_json::Value;

/// What one run of `s1` did.
pub(crate) struct Run {
    pub(crate) code: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl Run {
    /// stdout as one JSON document.
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", self.stdout))
    }

    /// stdout as JSON Lines.
    pub(crate) fn json_lines(&self) -> Vec<Value> {
        self.stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect()
    }
}

/// `s1` with no console configured.
pub(crate) fn s1_bare() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_s1"));
    cmd.env_remove("S1_CONSOLE_URL")
        .env_remove("S1_API_TOKEN")
        .env_remove("S1_ARCHIVE_PASSWORD")
        .env_remove("S1_OUTPUT")
        .env_remove("S1_PROFILE")
        .env_remove("S1_CONFIG")
        .env_remove("RUST_LOG")
        .timeout(Duration::from_secs(120));
    cmd
}

/// `s1` pointed at `console` through the environment.
fn s1(console: &SimConsole) -> Command {
    let mut cmd = s1_bare();
    cmd.env("S1_CONSOLE_URL", console.url())
        .env("S1_API_TOKEN", console.token());
    cmd
}

pub(crate) fn run(cmd: &mut Command, args: &[&str]) -> Run {
    let output = cmd.args(args).output().expect("s1 runs");
    Run {
        code: output.status.code().expect("s1 exits with a code"),
        stdout: String::from_utf8(output.stdout).expect("utf-8 stdout"),
        stderr: String::from_utf8(output.stderr).expect("utf-8 stderr"),
    }
}

/// Asserts an exit code, showing the run when it differs.
pub(crate) fn assert_code(run: &Run, code: i32) {
    assert_eq!(
        run.code, code,
        "stdout: {}\nstderr: {}",
        run.stdout, run.stderr
    );
}

/// Asserts the one-line error report of a failed run.
fn assert_one_line_error(run: &Run) {
    assert_eq!(run.stderr.lines().count(), 1, "stderr: {}", run.stderr);
    assert!(run.stderr.starts_with("s1: "), "stderr: {}", run.stderr);
}

async fn console() -> SimConsole {
    SimConsole::builder()
        .upload_delay(Duration::from_millis(100))
        .script_duration(Duration::from_millis(300))
        .start()
        .await
}

// ---------------------------------------------------------------------------
// Help

#[test]
fn completions_need_no_console_and_cover_every_command() {
    let bash = run(&mut s1_bare(), &["completions", "bash"]);
    assert_code(&bash, 0);
    assert_eq!(bash.stderr, "");
    assert!(bash.stdout.contains("_s1()"), "{}", bash.stdout);
    for command in ["request", "threats", "query", "completions"] {
        assert!(bash.stdout.contains(command), "{command} missing");
    }
    let zsh = run(&mut s1_bare(), &["completions", "zsh"]);
    assert_code(&zsh, 0);
    assert!(zsh.stdout.starts_with("#compdef s1"), "{}", zsh.stdout);
    let fish = run(&mut s1_bare(), &["completions", "fish"]);
    assert_code(&fish, 0);
    assert!(fish.stdout.contains("complete -c s1"), "{}", fish.stdout);
    let unknown = run(&mut s1_bare(), &["completions", "cmd.exe"]);
    assert_code(&unknown, 2);
    assert_eq!(unknown.stdout, "");
}

#[test]
fn help_lists_every_command_and_the_exit_codes() {
    let help = run(&mut s1_bare(), &["--help"]);
    assert_code(&help, 0);
    for command in [
        "api",
        "request",
        "agents",
        "threats",
        "files",
        "query",
        "pq",
        "dv",
        "scripts",
        "test-connection",
        "tour",
        "completions",
    ] {
        assert!(
            help.stdout
                .lines()
                .any(|l| l.trim_start().starts_with(command)),
            "{command} missing from:\n{}",
            help.stdout
        );
    }
    for line in [
        "Exit codes:",
        "0  success",
        "1  the console answered an error",
        "2  usage error",
        "3  the console's answer could not be decoded",
        "4  timeout",
        "5  connection, transport or local file error",
        "6  a console job failed",
    ] {
        assert!(help.stdout.contains(line), "{line:?} missing");
    }
    assert!(help.stdout.contains("[env: S1_API_TOKEN]"));
}

#[test]
fn api_help_lists_tags_and_their_operations_and_parameters() {
    let help = run(&mut s1_bare(), &["api", "--help"]);
    assert_code(&help, 0);
    assert!(
        help.stdout
            .contains("Operations by tag (366 in all). `s1 api --tag TAG` lists a tag's\n"),
        "{}",
        help.stdout
    );
    for line in [
        "  Agent Actions                     36\n",
        "  Agents                             9\n",
        "  Threats                           25\n",
    ] {
        assert!(help.stdout.contains(line), "{line:?} in {}", help.stdout);
    }
    // The operations themselves are listed by tag, not here.
    assert!(!help.stdout.contains("list_agents"), "{}", help.stdout);
    assert!(!help.stdout.contains("mitigate_threats"));

    let tag = run(
        &mut s1_bare(),
        &["api", "--tag", "agent-actions", "-o", "json"],
    );
    assert_code(&tag, 0);
    let listed = tag.json();
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), 36);
    let disconnect = listed
        .iter()
        .find(|op| op["operation"] == "disconnect_agents")
        .unwrap();
    assert_eq!(disconnect["method"], "POST");
    assert_eq!(
        disconnect["path"],
        "/web/api/v2.1/agents/actions/disconnect"
    );
    assert_eq!(disconnect["tag"], "Agent Actions");
    assert!(listed.iter().all(|op| op["tag"] == "Agent Actions"));

    let table = run(
        &mut s1_bare(),
        &["api", "--tag", "THREATS", "--output", "table"],
    );
    assert_code(&table, 0);
    let lines: Vec<&str> = table.stdout.lines().collect();
    assert_eq!(lines.len(), 26, "a header and 25 operations");
    assert_eq!(
        lines[0].split_whitespace().collect::<Vec<_>>(),
        ["OPERATION", "METHOD", "PATH", "SUMMARY"]
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("mitigate_threats ") && l.contains(" POST ")),
        "{}",
        table.stdout
    );

    let all = run(&mut s1_bare(), &["api", "--tag", "all", "-o", "jsonl"]);
    assert_code(&all, 0);
    assert_eq!(all.json_lines().len(), 366);

    let unknown = run(&mut s1_bare(), &["api", "--tag", "nope"]);
    assert_code(&unknown, 2);
    assert_eq!(
        unknown.stderr,
        "s1: no tag \"nope\": s1 api --help lists the tags\n"
    );
    assert_eq!(unknown.stdout, "");
    let neither = run(&mut s1_bare(), &["api"]);
    assert_code(&neither, 2);
    let both = run(&mut s1_bare(), &["api", "--tag", "Agents", "list_agents"]);
    assert_code(&both, 2);

    let op = run(&mut s1_bare(), &["api", "list_agents", "--help"]);
    assert_code(&op, 0);
    assert!(op.stdout.contains("--computerName__contains <A,B>"));
    assert!(op.stdout.contains("--all"));
    assert!(op.stdout.contains("GET /web/api/v2.1/agents"));
}

#[test]
fn the_token_is_never_shown_in_help() {
    let mut cmd = s1_bare();
    cmd.env("S1_API_TOKEN", "secret-token-in-env-0001");
    let help = run(&mut cmd, &["--help"]);
    assert_code(&help, 0);
    assert!(!help.stdout.contains("secret-token-in-env-0001"));
}

// ---------------------------------------------------------------------------
// s1 api

#[tokio::test]
async fn api_list_agents_prints_the_typed_answer() {
    let console = console().await;
    let out = run(&mut s1(&console), &["api", "list_agents", "--limit", "3"]);
    assert_code(&out, 0);
    let body = out.json();
    let data = body["data"].as_array().expect("data is a list");
    assert_eq!(data.len(), 3);
    assert_eq!(body["pagination"]["totalItems"], 12);
    // The same agents the library reads.
    let expected = crate::support::typed(
        console
            .client()
            .unwrap()
            .list_agents()
            .limit(3)
            .call()
            .await
            .unwrap()
            .data
            .unwrap(),
    );
    for (printed, agent) in data.iter().zip(&expected) {
        assert_eq!(printed["id"].as_str(), agent.id.as_deref());
        assert_eq!(
            printed["computerName"].as_str(),
            agent.computer_name.as_deref()
        );
        assert_eq!(printed["osType"].as_str(), agent.os_type.as_deref());
        assert_eq!(printed["siteName"].as_str(), agent.site_name.as_deref());
        assert_eq!(printed["networkStatus"], "connected");
    }
    assert_eq!(data[0]["computerName"], "win-lab-001");
    assert_eq!(data[2]["computerName"], "mac-lab-003");
    assert_eq!(console.counters().requests("GET", "/agents"), 2);
}

#[tokio::test]
async fn api_all_follows_the_cursor_and_prints_json_lines() {
    let console = console().await;
    let out = run(
        &mut s1(&console),
        &["api", "list_agents", "--all", "--limit", "5"],
    );
    assert_code(&out, 0);
    let items = out.json_lines();
    let names: Vec<&str> = items
        .iter()
        .map(|a| a["computerName"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 12);
    assert_eq!(names[0], "win-lab-001");
    assert_eq!(names[11], "lnx-lab-012");
    let mut ids: Vec<&str> = items.iter().map(|a| a["id"].as_str().unwrap()).collect();
    ids.dedup();
    assert_eq!(ids.len(), 12);
    // Pages of 5, 5 and 2.
    assert_eq!(console.counters().requests("GET", "/agents"), 3);
}

#[tokio::test]
async fn api_list_parameters_go_comma_joined() {
    let console = console().await;
    let out = run(
        &mut s1(&console),
        &[
            "api",
            "list_agents",
            "--computerName__contains",
            "win-lab-001,mac-lab-003",
            "--computerName__contains",
            "lnx-lab-004",
        ],
    );
    assert_code(&out, 0);
    let names: Vec<String> = out.json()["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["computerName"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, ["win-lab-001", "mac-lab-003", "lnx-lab-004"]);
}

#[tokio::test]
async fn api_get_system_info() {
    let console = console().await;
    let out = run(&mut s1(&console), &["api", "get_system_info"]);
    assert_code(&out, 0);
    let data = &out.json()["data"];
    assert_eq!(data["version"], "S-23.4.2");
    assert_eq!(data["build"], "sim");
    assert_eq!(data["latestAgentVersion"], "23.4.2.14");
    assert_eq!(console.counters().requests("GET", "/system/info"), 1);
}

#[tokio::test]
async fn api_body_and_path_parameters_fetch_and_download_a_file() {
    let console = console().await;
    let agent = "win-lab-001";
    let listed = run(
        &mut s1(&console),
        &["api", "list_agents", "--computerName__contains", agent],
    );
    let agent_id = listed.json()["data"][0]["id"].as_str().unwrap().to_string();

    let body = r#"{"data": {"files": ["C:\\Temp\\a.txt"], "password": "Str0ng!Passw0rd"}}"#;
    let asked = run(
        &mut s1(&console),
        &[
            "api",
            "fetch_agent_files",
            "--agent_id",
            &agent_id,
            "--body",
            body,
        ],
    );
    assert_code(&asked, 0);
    assert_eq!(asked.json()["data"]["success"], true);

    // The upload appears as activity 80 after the simulated delay.
    let mut activity_id = None;
    for _ in 0..50 {
        let activities = run(
            &mut s1(&console),
            &[
                "api",
                "list_activities",
                "--agentIds",
                &agent_id,
                "--activityTypes",
                "80",
            ],
        );
        assert_code(&activities, 0);
        if let Some(id) = activities.json()["data"][0]["id"].as_str() {
            activity_id = Some(id.to_string());
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let activity_id = activity_id.expect("the upload appears");

    let dir = tempfile::tempdir().unwrap();
    let zip = dir.path().join("upload.zip");
    let saved = run(
        &mut s1(&console),
        &[
            "api",
            "download_agent_upload",
            "--agent_id",
            &agent_id,
            "--activity_id",
            &activity_id,
            "--out",
            zip.to_str().unwrap(),
        ],
    );
    assert_code(&saved, 0);
    assert_eq!(saved.stdout, "");
    let bytes = std::fs::read(&zip).unwrap();
    assert!(bytes.starts_with(b"PK"), "a zip archive");
    assert!(
        saved
            .stderr
            .contains(&format!("wrote {} bytes", bytes.len()))
    );
    assert_eq!(
        console
            .counters()
            .requests("GET", "/agents/{id}/uploads/{id}"),
        1
    );
}

#[tokio::test]
async fn an_api_error_exits_1_with_one_line() {
    let console = console().await;
    let out = run(
        &mut s1(&console),
        &["api", "list_threat_notes", "--threat_id", "1"],
    );
    assert_code(&out, 1);
    assert_one_line_error(&out);
    assert!(out.stderr.contains("list_threat_notes"), "{}", out.stderr);
    assert!(out.stderr.contains("HTTP 404"), "{}", out.stderr);
    assert_eq!(out.stdout, "");
}

#[tokio::test]
async fn usage_errors_exit_2_and_send_nothing() {
    let console = console().await;
    let cases: &[&[&str]] = &[
        &["api", "no_such_operation"],
        &["api", "list_agents", "--limit", "ten"],
        &["api", "list_agents", "--isActive", "maybe"],
        &["api", "list_agents", "--createdAt__gt", "yesterday"],
        &["api", "list_agents", "--sortOrder", "sideways"],
        &[
            "api",
            "mitigate_threats",
            "--action",
            "kill",
            "--body",
            "{not json",
        ],
        &["api", "mitigate_threats", "--action", "kill"],
        &["api", "get_threat_timeline"],
        &["threats", "kill"],
        &["agents", "list", "--limit", "0"],
        &["agents", "list", "--json", "--table"],
    ];
    for args in cases {
        let out = run(&mut s1(&console), args);
        assert_eq!(out.code, 2, "{args:?}: {}", out.stderr);
        assert!(!out.stderr.is_empty(), "{args:?}");
    }
    let bad_body = run(
        &mut s1(&console),
        &[
            "api",
            "mitigate_threats",
            "--action",
            "kill",
            "--body",
            "{not json",
        ],
    );
    assert_one_line_error(&bad_body);
    assert!(
        bad_body.stderr.contains("--body is not valid JSON"),
        "{}",
        bad_body.stderr
    );
    let missing_file = run(
        &mut s1(&console),
        &[
            "api",
            "mitigate_threats",
            "--action",
            "kill",
            "--body",
            "@/no/such/file.json",
        ],
    );
    assert_eq!(missing_file.code, 2);
    assert_eq!(console.counters().total(), 0, "nothing was sent");
}

#[tokio::test]
async fn a_value_breaking_its_declared_limits_exits_2_and_sends_nothing() {
    let console = console().await;
    let eleven: Vec<String> = (1..=11).map(|i| format!("pc{i:02}")).collect();
    let eleven = eleven.join(",");
    let cases: &[(&[&str], &str)] = &[
        (
            &["api", "list_threats", "--computerName__contains", "a"],
            "list_threats: computerName__contains item \"a\" is shorter than 2 characters",
        ),
        (
            &["api", "list_threats", "--computerName__contains", &eleven],
            "list_threats: computerName__contains has 11 items; at most 10 allowed",
        ),
        (
            &[
                "api",
                "mitigate_threats",
                "--action",
                "kill",
                "--body",
                r#"{"filter": {"computerName__contains": ["x"]}}"#,
            ],
            "mitigate_threats: filter.computerName__contains item \"x\" is shorter than 2 characters",
        ),
    ];
    for (args, message) in cases {
        let out = run(&mut s1(&console), args);
        assert_code(&out, 2);
        assert_one_line_error(&out);
        assert!(out.stderr.contains(message), "{args:?}: {}", out.stderr);
    }
    assert_eq!(console.counters().total(), 0, "nothing was sent");
}

#[test]
fn a_missing_console_is_a_usage_error() {
    let out = run(&mut s1_bare(), &["api", "get_system_info"]);
    assert_code(&out, 2);
    assert_one_line_error(&out);
    assert!(out.stderr.contains("S1_CONSOLE_URL"));
}

#[tokio::test]
async fn a_wrong_token_exits_1_and_is_never_printed() {
    let console = console().await;
    let token = "wrong-token-4c1d9e7a";
    let mut cmd = s1(&console);
    cmd.env("S1_API_TOKEN", token);
    let out = run(&mut cmd, &["api", "get_system_info"]);
    assert_code(&out, 1);
    assert_one_line_error(&out);
    assert!(out.stderr.contains("HTTP 401"), "{}", out.stderr);
    assert!(!out.stderr.contains(token) && !out.stdout.contains(token));
    // Given as a flag instead, the same.
    let out = run(
        &mut s1_bare(),
        &[
            "--console-url",
            &console.url(),
            "--api-token",
            token,
            "test-connection",
        ],
    );
    assert_code(&out, 1);
    assert!(!out.stderr.contains(token) && !out.stdout.contains(token));
    assert_eq!(console.counters().unauthorized, 2);
}

#[tokio::test]
async fn an_undecodable_answer_exits_3() {
    let console = console().await;
    console.inject([sentinelone::sim::Fault::InvalidJson]);
    let out = run(&mut s1(&console), &["api", "get_system_info"]);
    assert_code(&out, 3);
    assert_one_line_error(&out);
    assert!(out.stderr.contains("get_system_info"), "{}", out.stderr);
}

#[test]
fn an_unreachable_console_exits_5() {
    // A port nothing listens on: bind one, note it, let it go.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut cmd = s1_bare();
    cmd.env("S1_CONSOLE_URL", format!("http://127.0.0.1:{port}"))
        .env("S1_API_TOKEN", "any-token-value");
    let out = run(&mut cmd, &["api", "get_system_info"]);
    assert_code(&out, 5);
    assert_one_line_error(&out);
}

// ---------------------------------------------------------------------------
// Composite commands

#[tokio::test]
async fn test_connection_reports_version_and_expiry() {
    let console = console().await;
    let out = run(&mut s1(&console), &["test-connection", "--json"]);
    assert_code(&out, 0);
    let report = out.json();
    assert_eq!(report["consoleUrl"], console.url());
    assert_eq!(report["consoleVersion"], "S-23.4.2");
    assert_eq!(report["latestAgentVersion"], "23.4.2.14");
    assert!(
        report["tokenExpiresAt"]
            .as_str()
            .is_some_and(|t| !t.is_empty())
    );
    assert_eq!(report["tokenDetailsForbidden"], false);
    let table = run(&mut s1(&console), &["test-connection", "--table"]);
    assert_code(&table, 0);
    assert!(
        table.stdout.contains("version        S-23.4.2"),
        "{}",
        table.stdout
    );
}

#[tokio::test]
async fn agents_list_as_json_and_table() {
    let console = console().await;
    let out = run(
        &mut s1(&console),
        &["agents", "list", "--computer", "lab-00", "--json"],
    );
    assert_code(&out, 0);
    let agents = out.json();
    let agents = agents.as_array().unwrap();
    assert_eq!(agents.len(), 9, "lab-001 to lab-009");
    assert_eq!(agents[0]["computerName"], "win-lab-001");
    assert_eq!(agents[0]["osType"], "windows");
    assert_eq!(agents[0]["activeThreats"], 1);
    assert_eq!(agents[3]["computerName"], "lnx-lab-004");
    assert!(
        agents[3]["lastIpToMgmt"]
            .as_str()
            .unwrap()
            .starts_with("10.")
    );

    let all = run(
        &mut s1(&console),
        &["agents", "list", "--all", "--limit", "4", "--json"],
    );
    assert_code(&all, 0);
    assert_eq!(all.json().as_array().unwrap().len(), 12);

    let table = run(&mut s1(&console), &["agents", "list", "--table"]);
    assert_code(&table, 0);
    let lines: Vec<&str> = table.stdout.lines().collect();
    assert_eq!(lines.len(), 13, "a header and 12 agents");
    let header: Vec<&str> = lines[0].split_whitespace().collect();
    assert_eq!(
        header,
        ["ID", "COMPUTER", "OS", "NETWORK", "IP", "SITE", "THREATS"]
    );
    assert!(lines[1].contains("win-lab-001") && lines[1].contains("windows"));
}

/// The threat on `computer`, as the library lists it: (id, status).
async fn threat_on(console: &SimConsole, computer: &str) -> (String, String) {
    let threats = crate::support::typed(
        console
            .client()
            .unwrap()
            .list_threats()
            .computer_name_contains([computer])
            .call()
            .await
            .unwrap()
            .data
            .unwrap(),
    );
    assert_eq!(threats.len(), 1);
    let id = threats[0].id.clone().unwrap();
    let status = console.threat_status(&id).unwrap();
    (id, status)
}

#[tokio::test]
async fn threats_kill_mitigates_the_named_computer() {
    let console = console().await;
    let (id, status) = threat_on(&console, "win-lab-002").await;
    assert_eq!(status, "active");
    let out = run(
        &mut s1(&console),
        &["threats", "kill", "--computer", "win-lab-002", "--json"],
    );
    assert_code(&out, 0);
    let result = out.json();
    assert_eq!(result["action"], "kill");
    assert_eq!(result["dryRun"], false);
    assert_eq!(result["affected"], 1);
    assert_eq!(result["matched"].as_array().unwrap().len(), 1);
    assert_eq!(result["matched"][0]["id"], id.as_str());
    assert_eq!(
        result["matched"][0]["agentRealtimeInfo"]["agentComputerName"],
        "win-lab-002"
    );
    assert_eq!(console.threat_status(&id).unwrap(), "mitigated");
    assert_eq!(
        console.counters().mitigations,
        vec![("kill".to_string(), vec![id.clone()])]
    );
    // Only win-lab-002's threat changed.
    let (other, status) = threat_on(&console, "win-lab-001").await;
    assert_ne!(other, id);
    assert_eq!(status, "active");

    let table = run(
        &mut s1(&console),
        &[
            "threats",
            "quarantine",
            "--computer",
            "win-lab-002",
            "--table",
        ],
    );
    assert_code(&table, 0);
    assert!(
        table.stdout.contains("quarantine: 1 threat(s) affected"),
        "{}",
        table.stdout
    );
}

#[tokio::test]
async fn threats_dry_run_sends_no_action() {
    let console = console().await;
    let (id, _) = threat_on(&console, "mac-lab-003").await;
    let out = run(
        &mut s1(&console),
        &[
            "threats",
            "remediate",
            "--computer",
            "mac-lab-003",
            "--dry-run",
            "--json",
        ],
    );
    assert_code(&out, 0);
    let result = out.json();
    assert_eq!(result["dryRun"], true);
    assert_eq!(result["affected"], Value::Null);
    assert_eq!(result["matched"][0]["id"], id.as_str());
    assert_eq!(console.threat_status(&id).unwrap(), "active");
    let counters = console.counters();
    assert!(counters.mitigations.is_empty());
    assert_eq!(counters.requests("POST", "/threats/mitigate/remediate"), 0);
    assert_eq!(counters.requests("GET", "/threats"), 2);
}

#[tokio::test]
async fn threats_list_reads_a_time_window() {
    let console = console().await;
    let out = run(
        &mut s1(&console),
        &["threats", "list", "--last", "1h", "--json"],
    );
    assert_code(&out, 0);
    // Threats are seeded 17 minutes apart: three fall in the last hour.
    let threats = out.json();
    let threats = threats.as_array().unwrap();
    assert_eq!(threats.len(), 3);
    assert_eq!(
        threats[0]["agentRealtimeInfo"]["agentComputerName"],
        "win-lab-001"
    );
}

#[tokio::test]
async fn scripts_run_waits_for_tasks_and_downloads_results() {
    let console = console().await;
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        &mut s1(&console),
        &[
            "scripts",
            "run",
            "--script-id",
            "1800000000000000001",
            "--description",
            "collect processes",
            "--computer",
            "win-lab-001,lnx-lab-004",
            "--out",
            dir.path().to_str().unwrap(),
            "--poll-every",
            "0.1",
            "--json",
        ],
    );
    assert_code(&out, 0);
    let result = out.json();
    assert_eq!(result["affected"], 2);
    let tasks = result["tasks"].as_array().unwrap();
    assert_eq!(tasks.len(), 2);
    for task in tasks {
        assert_eq!(task["state"], "completed");
    }
    let mut computers: Vec<&str> = tasks
        .iter()
        .map(|t| t["computerName"].as_str().unwrap())
        .collect();
    computers.sort();
    assert_eq!(computers, ["lnx-lab-004", "win-lab-001"]);
    let files = result["files"].as_array().unwrap();
    assert_eq!(files.len(), 2);
    for file in files {
        let path = Path::new(file["path"].as_str().unwrap());
        let text = std::fs::read_to_string(path).unwrap();
        assert!(text.starts_with("simulated output of task"));
        assert_eq!(file["bytes"], text.len());
    }
    assert_eq!(
        console
            .counters()
            .requests("POST", "/remote-scripts/execute"),
        1
    );
}

#[tokio::test]
async fn scripts_run_with_a_tiny_timeout_exits_4() {
    let console = SimConsole::builder()
        .script_duration(Duration::from_secs(30))
        .start()
        .await;
    let out = run(
        &mut s1(&console),
        &[
            "scripts",
            "run",
            "--script-id",
            "1800000000000000001",
            "--description",
            "slow",
            "--computer",
            "win-lab-001",
            "--poll-every",
            "0.1",
            "--timeout",
            "0.3",
        ],
    );
    assert_code(&out, 4);
    assert_one_line_error(&out);
    assert!(out.stderr.contains("gave up waiting"), "{}", out.stderr);
}

#[tokio::test]
async fn files_collect_downloads_and_extracts() {
    let console = console().await;
    let agent_id = console
        .client()
        .unwrap()
        .list_agents()
        .limit(1)
        .call()
        .await
        .unwrap()
        .data
        .unwrap()[0]
        .typed()
        .unwrap()
        .id
        .clone()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let zip = dir.path().join("evidence.zip");
    let into = dir.path().join("evidence");
    let mut cmd = s1(&console);
    cmd.env("S1_ARCHIVE_PASSWORD", "Str0ng!Passw0rd");
    let out = run(
        &mut cmd,
        &[
            "files",
            "collect",
            "--agent-id",
            &agent_id,
            "--path",
            "C:\\Temp\\dropper.exe",
            "--path",
            "/tmp/payload.sh",
            "--out",
            zip.to_str().unwrap(),
            "--extract",
            into.to_str().unwrap(),
            "--poll-every",
            "0.1",
            "--json",
        ],
    );
    assert_code(&out, 0);
    let result = out.json();
    assert_eq!(result["agentId"], agent_id.as_str());
    assert!(
        result["uploadActivityId"]
            .as_str()
            .is_some_and(|id| !id.is_empty())
    );
    assert_eq!(result["archive"]["path"], zip.to_str().unwrap());
    assert_eq!(
        result["archive"]["bytes"],
        std::fs::metadata(&zip).unwrap().len()
    );
    let extracted = result["extracted"].as_array().unwrap();
    assert_eq!(extracted.len(), 2);
    let dropper = into.join("Temp").join("dropper.exe");
    let text = std::fs::read_to_string(&dropper).unwrap();
    assert_eq!(text, "simulated content of C:\\Temp\\dropper.exe\n");
    assert!(
        extracted
            .iter()
            .any(|f| f["path"] == dropper.to_str().unwrap() && f["bytes"] == text.len())
    );
    let counters = console.counters();
    assert_eq!(
        counters.requests("POST", "/agents/{id}/actions/fetch-files"),
        1
    );
    assert_eq!(counters.requests("GET", "/agents/{id}/uploads/{id}"), 1);
}

#[tokio::test]
async fn files_collect_without_a_password_is_refused() {
    let console = console().await;
    let dir = tempfile::tempdir().unwrap();
    let zip = dir.path().join("evidence.zip");
    let out = run(
        &mut s1(&console),
        &[
            "files",
            "collect",
            "--agent-id",
            "1",
            "--path",
            "/tmp/a",
            "--out",
            zip.to_str().unwrap(),
        ],
    );
    assert_code(&out, 2);
    assert_one_line_error(&out);
    assert!(out.stderr.contains("S1_ARCHIVE_PASSWORD"), "{}", out.stderr);
    // A weak password is refused by the library, before anything is sent.
    let mut cmd = s1(&console);
    cmd.env("WEAK_PASSWORD", "short");
    let out = run(
        &mut cmd,
        &[
            "files",
            "collect",
            "--agent-id",
            "1",
            "--path",
            "/tmp/a",
            "--out",
            zip.to_str().unwrap(),
            "--password-env",
            "WEAK_PASSWORD",
        ],
    );
    assert_code(&out, 2);
    assert!(!out.stderr.contains("short"), "{}", out.stderr);
    assert_eq!(console.counters().total(), 0);
    assert!(!zip.exists());
}

/// The one line every `s1 dv` run prints on stderr.
const DV_DEPRECATION: &str =
    "s1: warning: Deep Visibility queries end on 2027-02-15; use `s1 query`";

/// A console whose Deep Visibility queries take `duration` and end in
/// `state`.
async fn dv_console(duration: Duration, state: &str) -> SimConsole {
    SimConsole::builder()
        .dv_duration(duration)
        .dv_final_state(state)
        .start()
        .await
}

#[tokio::test]
async fn dv_query_prints_the_events() {
    let console = dv_console(Duration::from_millis(300), "FINISHED").await;
    let out = run(
        &mut s1(&console),
        &[
            "dv",
            "query",
            "--query",
            "EventType = \"Process Creation\"",
            "--last",
            "1h",
            "--limit",
            "20",
            "--json",
        ],
    );
    assert_code(&out, 0);
    assert_eq!(out.stderr, format!("{DV_DEPRECATION}\n"));
    let result = out.json();
    assert_eq!(result["state"], "FINISHED");
    assert_eq!(result["eventCount"], 20);
    let events = result["events"].as_array().unwrap();
    assert_eq!(events.len(), 20);
    let query_id = result["queryId"].as_str().unwrap();
    assert!(query_id.starts_with('q'));
    assert_eq!(events[0]["id"], format!("{query_id}-0"));
    assert_eq!(events[0]["agentName"], "win-lab-001");
    assert_eq!(events[0]["eventType"], "Process Creation");
    assert_eq!(events[1]["processName"], "powershell.exe");
    let counters = console.counters();
    assert_eq!(counters.requests("POST", "/dv/init-query"), 1);
    assert!(counters.cancelled_queries.is_empty());
}

#[tokio::test]
async fn dv_query_as_json_lines() {
    let console = dv_console(Duration::from_millis(300), "FINISHED").await;
    let out = run(
        &mut s1(&console),
        &[
            "dv",
            "query",
            "--query",
            "AgentName IS NOT EMPTY",
            "--limit",
            "7",
            "--jsonl",
        ],
    );
    assert_code(&out, 0);
    let events = out.json_lines();
    assert_eq!(events.len(), 7);
    assert_eq!(events[6]["agentName"], "mac-lab-007");
}

#[tokio::test]
async fn dv_query_timeout_exits_4_and_cancels_the_query() {
    let console = dv_console(Duration::from_secs(60), "FINISHED").await;
    let out = run(
        &mut s1(&console),
        &[
            "dv",
            "query",
            "--query",
            "AgentName IS NOT EMPTY",
            "--timeout",
            "1",
        ],
    );
    assert_code(&out, 4);
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(lines.len(), 2, "{}", out.stderr);
    assert_eq!(lines[0], DV_DEPRECATION);
    assert!(lines[1].contains("gave up waiting"), "{}", out.stderr);
    let counters = console.counters();
    assert_eq!(counters.cancelled_queries.len(), 1);
    assert_eq!(counters.requests("POST", "/dv/cancel-query"), 1);
    assert_eq!(counters.requests("GET", "/dv/events"), 0);
}

#[tokio::test]
async fn a_failed_dv_query_exits_6() {
    let console = dv_console(Duration::from_millis(200), "FAILED").await;
    let out = run(
        &mut s1(&console),
        &["dv", "query", "--query", "AgentName IS NOT EMPTY"],
    );
    assert_code(&out, 6);
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(lines.len(), 2, "{}", out.stderr);
    assert_eq!(lines[0], DV_DEPRECATION);
    assert!(lines[1].starts_with("s1: ") && lines[1].contains("FAILED"));
}

// ---------------------------------------------------------------------------
// Long Running Queries: s1 query and s1 pq

/// A console whose Long Running Queries take `duration`.
async fn lrq_console(duration: Duration) -> SimConsole {
    SimConsole::builder().lrq_duration(duration).start().await
}

/// Three hours of the simulated tenant: one event a minute, the three
/// event types in turn from Process Creation at 00:00.
const FROM: &str = "2026-04-21T00:00:00Z";
const TO: &str = "2026-04-21T03:00:00Z";
const PQ: &str = "dataSource.name='SentinelOne' | group count=count() by event.type";

/// Every query launched was polled and deleted through the LRQ routes.
fn assert_lrq_routes(console: &SimConsole, launches: u64) {
    let counters = console.counters();
    assert_eq!(counters.requests("POST", "/sdl/v2/api/queries"), launches);
    assert!(counters.requests("GET", "/sdl/v2/api/queries/{id}") >= 1);
    assert_eq!(
        counters.requests("DELETE", "/sdl/v2/api/queries/{id}"),
        launches
    );
    assert_eq!(counters.lrq_launched.len() as u64, launches);
    assert_eq!(counters.lrq_deleted.len() as u64, launches);
    assert!(counters.lrq_expired.is_empty());
    assert_eq!(counters.requests("POST", "/dv/events/pq"), 0);
    assert_eq!(counters.requests("POST", "/dv/init-query"), 0);
}

#[tokio::test]
async fn query_pq_prints_json_when_piped() {
    let console = lrq_console(Duration::from_millis(300)).await;
    let out = run(
        &mut s1(&console),
        &["query", "--pq", PQ, "--from", FROM, "--to", TO],
    );
    assert_code(&out, 0);
    assert_eq!(out.stderr, "");
    let result = out.json();
    assert_eq!(result["queryIds"].as_array().unwrap().len(), 1);
    let names: Vec<&str> = result["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["event.type", "count", "share", "first_seen", "last_seen"]
    );
    assert_eq!(result["columns"][1]["type"], "NUMBER");
    assert_eq!(result["columns"][2]["type"], "PERCENTAGE");
    assert_eq!(result["columns"][3]["type"], "TIMESTAMP");
    let rows = result["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0][0], "Process Creation");
    assert_eq!(rows[0][1], 60);
    assert!((rows[0][2].as_f64().unwrap() - 100.0 / 3.0).abs() < 1e-9);
    assert_eq!(rows[0][3], "2026-04-21T00:00:00.000Z");
    assert_eq!(rows[0][4], "2026-04-21T02:57:00.000Z");
    assert_eq!(rows[2][0], "DNS Resolved");
    assert_eq!(rows[2][3], "2026-04-21T00:02:00.000Z");
    assert_eq!(result["matchCount"], 180.0);
    assert_eq!(result["partial"], false);
    assert_lrq_routes(&console, 1);
    let launched = &console.counters().lrq_launched;
    assert_eq!(result["queryIds"][0], launched[0].as_str());
}

#[tokio::test]
async fn query_pq_as_a_table_names_columns_and_cuts_times_to_the_second() {
    let console = lrq_console(Duration::from_millis(300)).await;
    let out = run(
        &mut s1(&console),
        &[
            "query",
            "--pq",
            PQ,
            "--from",
            FROM,
            "--to",
            TO,
            "--account",
            "225494730938493804",
            "--table",
        ],
    );
    assert_code(&out, 0);
    let lines: Vec<Vec<&str>> = out
        .stdout
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(
        lines[0],
        ["event.type", "count", "share", "first_seen", "last_seen"]
    );
    assert_eq!(
        lines[1],
        [
            "Process",
            "Creation",
            "60",
            "33.3",
            "2026-04-21",
            "00:00:00Z",
            "2026-04-21",
            "02:57:00Z"
        ]
    );
    assert_eq!(lines[3][0..2], ["DNS", "Resolved"]);
    assert_eq!(lines.len(), 4);
    assert_lrq_routes(&console, 1);
}

#[tokio::test]
async fn query_pq_in_slices_merges_the_columns_asked() {
    let console = lrq_console(Duration::from_millis(300)).await;
    let out = run(
        &mut s1(&console),
        &[
            "query",
            "--pq",
            PQ,
            "--from",
            FROM,
            "--to",
            TO,
            "--slices",
            "3",
            "--merge",
            "count=sum",
            "--merge",
            "share=max",
            "--merge",
            "first_seen=min",
            "--merge",
            "last_seen=max",
            "--json",
        ],
    );
    assert_code(&out, 0);
    let result = out.json();
    assert_eq!(result["queryIds"].as_array().unwrap().len(), 3);
    let rows = result["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert_eq!(rows[0][1], 60);
    assert_eq!(rows[0][3], "2026-04-21T00:00:00.000Z");
    assert_eq!(rows[0][4], "2026-04-21T02:57:00.000Z");
    assert_eq!(result["matchCount"], 180.0);
    assert_lrq_routes(&console, 3);
}

#[tokio::test]
async fn query_log_prints_json_lines_when_piped() {
    let console = lrq_console(Duration::from_millis(300)).await;
    let out = run(
        &mut s1(&console),
        &[
            "query",
            "--log",
            "event.type = 'Process Creation'",
            "--from",
            FROM,
            "--to",
            "2026-04-21T00:10:00Z",
            "--limit",
            "100",
        ],
    );
    assert_code(&out, 0);
    assert_eq!(out.stderr, "");
    let events = out.json_lines();
    assert_eq!(events.len(), 10);
    assert_eq!(events[0]["timestamp"], "2026-04-21T00:00:00Z");
    assert_eq!(events[0]["timestampNs"], "1776729600000000000");
    assert_eq!(events[0]["severity"], 3);
    assert_eq!(events[0]["cursor"], "c1776729600000");
    assert_eq!(events[0]["values"]["event.type"], "Process Creation");
    assert_eq!(events[0]["values"]["endpoint.name"], "win-lab-001");
    assert_eq!(events[1]["values"]["event.type"], "File Creation");
    assert_eq!(events[9]["timestamp"], "2026-04-21T00:09:00Z");
    assert_lrq_routes(&console, 1);
}

#[tokio::test]
async fn query_log_as_a_table_or_one_json_document() {
    let console = lrq_console(Duration::from_millis(300)).await;
    let args = [
        "query",
        "--log",
        "",
        "--from",
        FROM,
        "--to",
        "2026-04-21T00:03:00Z",
    ];
    let table = run(&mut s1(&console), &[&args[..], &["--table"]].concat());
    assert_code(&table, 0);
    let lines: Vec<Vec<&str>> = table
        .stdout
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(lines[0], ["TIME", "endpoint.name", "event.type"]);
    assert_eq!(
        lines[1],
        [
            "2026-04-21",
            "00:00:00Z",
            "win-lab-001",
            "Process",
            "Creation"
        ]
    );
    assert_eq!(lines[3][3..], ["DNS", "Resolved"]);
    assert_eq!(lines[4], ["3", "event(s)"]);

    let json = run(&mut s1(&console), &[&args[..], &["--json"]].concat());
    assert_code(&json, 0);
    let result = json.json();
    assert_eq!(result["eventCount"], 3);
    assert_eq!(result["events"][2]["values"]["event.type"], "DNS Resolved");
    assert_eq!(result["queryIds"].as_array().unwrap().len(), 1);
    assert_lrq_routes(&console, 2);
}

#[tokio::test]
async fn pq_runs_on_long_running_queries() {
    let console = lrq_console(Duration::from_millis(300)).await;
    let out = run(
        &mut s1(&console),
        &[
            "pq", "--query", PQ, "--from", FROM, "--to", TO, "--limit", "2", "--json",
        ],
    );
    assert_code(&out, 0);
    let result = out.json();
    let rows = result["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1][0], "File Creation");
    assert_eq!(rows[1][1], 60);
    assert_eq!(rows[1][3], "2026-04-21T00:01:00.000Z");
    assert_lrq_routes(&console, 1);
}

#[tokio::test]
async fn an_expired_query_exits_6() {
    let console = SimConsole::builder()
        .lrq_duration(Duration::from_secs(20))
        .lrq_expiry(Duration::from_millis(200))
        .start()
        .await;
    let out = run(&mut s1(&console), &["query", "--pq", PQ, "--last", "1h"]);
    assert_code(&out, 6);
    assert_one_line_error(&out);
    assert!(out.stderr.contains("query expired"), "{}", out.stderr);
    let counters = console.counters();
    assert_eq!(counters.lrq_launched.len(), 1);
    assert_eq!(counters.lrq_expired, counters.lrq_launched);
}

#[test]
fn query_needs_pq_or_log_and_not_both() {
    for args in [
        &["query", "--last", "1h"][..],
        &["query", "--pq", "q", "--log", "f"],
        &["query", "--log", "f", "--slices", "0"],
        &["query", "--log", "f", "--limit", "5001"],
        &["query", "--pq", "q", "--merge", "count=avg"],
    ] {
        let out = run(&mut s1_bare(), args);
        assert_code(&out, 2);
    }
}

// ---------------------------------------------------------------------------
// The tour

#[test]
fn the_tour_runs_against_its_own_simulated_console() {
    let out = run(&mut s1_bare(), &["tour"]);
    assert_code(&out, 0);
    for step in [
        "[1/7] Test the connection",
        "[2/7] List the agents",
        "[3/7] Kill the threats on a named computer",
        "[4/7] Collect a file from an agent and download it",
        "[5/7] A log search (Long Running Query), with a timeout",
        "[6/7] A PowerQuery (Long Running Query)",
        "[7/7] What the console received",
        "Tour complete: all 7 steps succeeded.",
    ] {
        assert!(
            out.stdout.contains(step),
            "{step:?} missing:\n{}",
            out.stdout
        );
    }
    assert!(!out.stdout.contains("step failed"));
    assert!(out.stdout.contains("console version S-23.4.2"));
    assert!(out.stdout.contains("is now mitigated"));
    assert!(out.stdout.contains("Extracted files/"));
    assert!(out.stdout.contains("-> 10/10 and was deleted; 60 event(s)"));
    assert!(
        out.stdout
            .contains("event.type        count  share  first_seen")
    );
    assert!(out.stdout.contains("1440 event(s) matched"));
    assert!(out.stdout.contains("DELETE /sdl/v2/api/queries/{id}"));
    assert!(!out.stdout.contains("/dv/"));
    assert!(out.stdout.contains("POST /threats/mitigate/kill"));
}

#[tokio::test]
async fn the_tour_only_reads_from_a_configured_console() {
    let console = console().await;
    let out = run(&mut s1(&console), &["tour"]);
    assert_code(&out, 0);
    assert!(out.stdout.contains("read-only"), "{}", out.stdout);
    assert!(out.stdout.contains("win-lab-001"));
    let counters = console.counters();
    assert!(counters.mitigations.is_empty());
    let writes: Vec<&String> = counters
        .routes()
        .keys()
        .filter(|route| !route.starts_with("GET "))
        .collect();
    // The token check reads the token's details with a POST; nothing else.
    assert_eq!(writes, ["POST /users/api-token-details"]);
}

// ---------------------------------------------------------------------------
// Wire fidelity

#[tokio::test]
async fn api_prints_unknown_fields_and_undecodable_items_as_sent() {
    let server = httpmock::MockServer::start_async().await;
    let page = serde_json::json!({
        "data": [
            {"id": "1", "isUpToDate": "True", "addedIn2027": {"zone": "eu"}},
            {"id": "2", "networkInterfaces": "eth0"}
        ],
        "pagination": {"nextCursor": null, "totalItems": 2},
        "servedBy": "console-7"
    });
    let mock = server
        .mock_async(|when, then| {
            when.method(httpmock::Method::GET)
                .path("/web/api/v2.1/agents");
            then.status(200).json_body(page.clone());
        })
        .await;
    let mut cmd = s1_bare();
    cmd.env("S1_CONSOLE_URL", server.base_url())
        .env("S1_API_TOKEN", crate::support::TOKEN);

    let out = run(&mut cmd, &["api", "list_agents"]);

    assert_code(&out, 0);
    mock.assert_async().await;
    let printed = out.json();
    assert_eq!(printed["servedBy"], "console-7");
    assert_eq!(
        printed["data"][0]["addedIn2027"],
        page["data"][0]["addedIn2027"]
    );
    assert_eq!(printed["data"][0]["isUpToDate"], true);
    assert_eq!(printed["data"][1], page["data"][1], "the odd item, as sent");
    let warnings: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(warnings.len(), 1, "{}", out.stderr);
    assert!(
        warnings[0].starts_with(
            "s1: warning: AgentViewListResponseDataItem did not decode at data[1].networkInterfaces"
        ),
        "{}",
        out.stderr
    );
}

// ---------------------------------------------------------------------------
// s1 request (in a module of its own: `cli::request::` and `request::` both
// select these)

mod request {
    use httpmock::{HttpMockRequest, Method::GET, Method::POST, MockServer};
    use serde_json::{Value, json};

    use super::{Run, assert_code, assert_one_line_error, run, s1_bare};
    use crate::support::{TOKEN, auth_header};

    const API: &str = "/web/api/v2.1";

    /// `s1` pointed at `server` through the environment.
    fn s1_at(server: &MockServer) -> assert_cmd::Command {
        let mut cmd = s1_bare();
        cmd.env("S1_CONSOLE_URL", server.base_url())
            .env("S1_API_TOKEN", TOKEN);
        cmd
    }

    async fn catch_all(server: &MockServer) -> httpmock::Mock<'_> {
        server
            .mock_async(|_, then| {
                then.status(200).json_body(json!({"data": []}));
            })
            .await
    }

    #[tokio::test]
    async fn get_with_a_query_sends_exactly_that_and_prints_the_answer() {
        let server = MockServer::start_async().await;
        let answer = json!({
            "data": [{"id": "1", "computerName": "web-01"}, {"id": "2", "computerName": "db-01"}],
            "pagination": {"nextCursor": "c1", "totalItems": 5}
        });
        let mock = server
            .mock_async(|when, then| {
                when.method(GET)
                    .path(format!("{API}/agents"))
                    .header("authorization", auth_header())
                    .is_true(|req: &HttpMockRequest| {
                        req.uri().query() == Some("limit=2&osTypes=windows%2Clinux")
                            && req.body().is_empty()
                    });
                then.status(200).json_body(answer.clone());
            })
            .await;

        let out = run(
            &mut s1_at(&server),
            &[
                "request",
                "GET",
                "agents",
                "--query",
                "limit=2",
                "--query",
                "osTypes=windows",
                "--query",
                "osTypes=linux",
            ],
        );

        assert_code(&out, 0);
        mock.assert_calls_async(1).await;
        // Piped: one compact line, the answer as sent.
        assert_eq!(
            out.stdout,
            format!("{}\n", serde_json::to_string(&answer).unwrap())
        );
        assert_eq!(out.stderr, "");
    }

    #[tokio::test]
    async fn post_sends_the_body_from_a_file_and_a_lowercase_method_works() {
        let server = MockServer::start_async().await;
        let body = json!({"filter": {"ids": ["225494730938493804"]}, "data": {}});
        let mock = server
            .mock_async(|when, then| {
                when.method(POST)
                    .path(format!("{API}/agents/actions/fetch-logs"))
                    .header("authorization", auth_header())
                    .header("content-type", "application/json")
                    .json_body(body.clone());
                then.status(200).json_body(json!({"data": {"affected": 1}}));
            })
            .await;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("body.json");
        std::fs::write(&file, body.to_string()).unwrap();

        let out = run(
            &mut s1_at(&server),
            &[
                "request",
                "post",
                "/web/api/v2.1/agents/actions/fetch-logs",
                "--body",
                &format!("@{}", file.display()),
            ],
        );

        assert_code(&out, 0);
        mock.assert_calls_async(1).await;
        assert_eq!(out.stdout, "{\"data\":{\"affected\":1}}\n");
    }

    #[tokio::test]
    async fn all_follows_the_cursor_and_prints_json_lines() {
        let server = MockServer::start_async().await;
        let mut pages = Vec::new();
        for (query, ids, next) in [
            ("limit=2", vec!["1", "2"], json!("c1")),
            ("limit=2&cursor=c1", vec!["3", "4"], json!("c2")),
            ("limit=2&cursor=c2", vec!["5"], Value::Null),
        ] {
            let data: Vec<Value> = ids.iter().map(|id| json!({"id": id})).collect();
            let body = json!({"data": data, "pagination": {"nextCursor": next}});
            pages.push(
                server
                    .mock_async(move |when, then| {
                        when.method(GET)
                            .path(format!("{API}/threats"))
                            .header("authorization", auth_header())
                            .is_true(move |req: &HttpMockRequest| req.uri().query() == Some(query));
                        then.status(200).json_body(body);
                    })
                    .await,
            );
        }

        let out = run(
            &mut s1_at(&server),
            &["request", "GET", "threats", "--query", "limit=2", "--all"],
        );

        assert_code(&out, 0);
        assert_eq!(
            out.stdout,
            "{\"id\":\"1\"}\n{\"id\":\"2\"}\n{\"id\":\"3\"}\n{\"id\":\"4\"}\n{\"id\":\"5\"}\n"
        );
        for page in &pages {
            page.assert_calls_async(1).await;
        }
    }

    #[tokio::test]
    async fn refused_input_exits_2_naming_it_and_sends_nothing() {
        let server = MockServer::start_async().await;
        let anything = catch_all(&server).await;
        let cases: &[(&[&str], &str)] = &[
            (
                &["request", "GET", "https://evil.example/x"],
                "s1: invalid input: api_request: path \"https://evil.example/x\" is an absolute URL",
            ),
            (
                &["request", "GET", "//evil.example/x"],
                "is a scheme-relative URL",
            ),
            (
                &["request", "GET", "agents/%2e%2e/%2e%2e/x"],
                "holds a percent-encoded . or .. segment",
            ),
            (&["request", "GET", "agents?limit=1"], "holds a ?"),
            (&["request", "GET", ""], "the path is empty"),
            (
                &["request", "GET", "agents", "--query", "limit"],
                "s1: --query \"limit\" is not NAME=VALUE (no =)",
            ),
            (
                &["request", "GET", "agents", "--query", "=1"],
                "s1: --query \"=1\" has no name",
            ),
            (
                &["request", "POST", "agents", "--body", "{not json"],
                "s1: --body is not valid JSON",
            ),
            (
                &["request", "POST", "agents", "--body", "@/no/such/file.json"],
                "s1: --body @/no/such/file.json",
            ),
            (
                &["request", "TRACE", "agents"],
                "s1: METHOD \"TRACE\" is not one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS",
            ),
        ];
        for (args, message) in cases {
            let out: Run = run(&mut s1_at(&server), args);
            assert_eq!(out.code, 2, "{args:?}: {}", out.stderr);
            assert_one_line_error(&out);
            assert!(out.stderr.contains(message), "{args:?}: {}", out.stderr);
            assert_eq!(out.stdout, "", "{args:?}");
        }
        let refused = run(
            &mut s1_at(&server),
            &["request", "GET", "https://evil.example/x"],
        );
        assert!(
            refused.stderr.trim_end().ends_with("nothing was sent"),
            "{}",
            refused.stderr
        );
        anything.assert_calls_async(0).await;
    }

    #[tokio::test]
    async fn an_error_answer_exits_1_and_a_post_503_is_sent_once() {
        let server = MockServer::start_async().await;
        let mock = server
            .mock_async(|when, then| {
                when.method(POST)
                    .path(format!("{API}/threats/mitigate/kill"));
                then.status(503).body("");
            })
            .await;
        let out = run(
            &mut s1_at(&server),
            &["request", "POST", "threats/mitigate/kill", "--body", "{}"],
        );
        assert_code(&out, 1);
        assert_one_line_error(&out);
        assert!(
            out.stderr
                .starts_with("s1: api_request: SentinelOne answered HTTP 503"),
            "{}",
            out.stderr
        );
        mock.assert_calls_async(1).await;
    }
}

// ---------------------------------------------------------------------------
// At a terminal: s1 sim, --output, --version, the prompt (in a module of its
// own: `cli::terminal::` selects these)

mod terminal {
    use std::io::{BufRead, BufReader};
    use std::process::{Child, Stdio};
    use std::time::Duration;

    use httpmock::{Method::GET, MockServer};
    use sentinelone::prelude::*;
    use sentinelone::sim::SimConsole;
    use serde_json::json;

    use super::{Run, assert_code, console, run, s1, s1_bare, threat_on};
    use crate::support::TOKEN;

    /// A running `s1 sim` and the variables it printed.
    struct Sim {
        child: Child,
        url: String,
        token: String,
        comment: String,
    }

    impl Sim {
        /// Starts `s1 sim ARGS` and reads its three lines of stdout.
        fn start(args: &[&str]) -> Sim {
            let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_s1"))
                .arg("sim")
                .args(args)
                .env_remove("S1_CONSOLE_URL")
                .env_remove("S1_API_TOKEN")
                .env_remove("S1_OUTPUT")
                .env_remove("RUST_LOG")
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("s1 sim starts");
            let mut stdout = BufReader::new(child.stdout.take().unwrap());
            let mut line = || {
                let mut text = String::new();
                stdout.read_line(&mut text).unwrap();
                text.trim_end().to_string()
            };
            let comment = line();
            let url = line();
            let token = line();
            let value = |line: &str, name: &str| {
                line.strip_prefix(&format!("export {name}='"))
                    .and_then(|rest| rest.strip_suffix('\''))
                    .unwrap_or_else(|| panic!("{line:?} exports no {name}"))
                    .to_string()
            };
            Sim {
                url: value(&url, "S1_CONSOLE_URL"),
                token: value(&token, "S1_API_TOKEN"),
                comment,
                child,
            }
        }

        /// `s1` pointed at this console through the variables printed.
        fn s1(&self) -> assert_cmd::Command {
            let mut cmd = s1_bare();
            cmd.env("S1_CONSOLE_URL", &self.url)
                .env("S1_API_TOKEN", &self.token);
            cmd
        }

        /// Sends SIGTERM; the exit code and stderr.
        #[cfg(unix)]
        fn stop(mut self) -> (Option<i32>, String) {
            use std::io::Read;
            let pid = libc::pid_t::try_from(self.child.id()).unwrap();
            // SAFETY: kill(2) on the pid of a child this test started.
            assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
            let mut stderr = String::new();
            self.child
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut stderr)
                .unwrap();
            (self.child.wait().unwrap().code(), stderr)
        }
    }

    impl Drop for Sim {
        fn drop(&mut self) {
            let _ = self.child.kill();
        }
    }

    /// The agents' computer names of a default simulated console.
    async fn seeded_names() -> Vec<String> {
        let console = SimConsole::start().await;
        let agents = console
            .client()
            .unwrap()
            .list_agents()
            .limit(100)
            .call()
            .await
            .unwrap()
            .data
            .unwrap();
        crate::support::typed(agents)
            .into_iter()
            .map(|a| a.computer_name.unwrap())
            .collect()
    }

    /// A port of 127.0.0.1 nobody listens on (just now).
    fn free_port() -> u16 {
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn sim_serves_another_s1_until_sigterm() {
        let expected = seeded_names().await;
        for port in [None, Some(free_port())] {
            let port_text = port.map(|p| p.to_string());
            let args: Vec<&str> = match &port_text {
                Some(p) => vec!["--port", p],
                None => vec![],
            };
            let sim = Sim::start(&args);
            assert_eq!(
                sim.comment,
                "# The token only opens the simulated console s1 sim runs."
            );
            let url = url::Url::parse(&sim.url).unwrap();
            assert_eq!(url.host_str(), Some("127.0.0.1"), "loopback only");
            if let Some(port) = port {
                assert_eq!(url.port(), Some(port));
            }
            assert_eq!(sim.token, sentinelone::sim::DEFAULT_TOKEN);

            let out = run(&mut sim.s1(), &["agents", "list", "--output", "json"]);
            assert_code(&out, 0);
            let names: Vec<String> = out
                .json()
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a["computerName"].as_str().unwrap().to_string())
                .collect();
            assert_eq!(names, expected);
            let kill = run(
                &mut sim.s1(),
                &["threats", "kill", "--computer", "win-lab-001"],
            );
            assert_code(&kill, 0);
            assert_eq!(kill.json()["affected"], 1);

            let (code, stderr) = sim.stop();
            assert_eq!(code, Some(0), "{stderr}");
            assert_eq!(
                stderr,
                format!(
                    "s1 sim: a simulated console with 12 agents and 6 threats at {url}; Ctrl-C stops it\ns1 sim: stopped\n",
                    url = url.as_str().trim_end_matches('/')
                )
            );
        }
    }

    #[test]
    fn sim_print_env_names_the_port_and_a_taken_port_exits_5() {
        let env = run(&mut s1_bare(), &["sim", "--print-env", "--port", "8099"]);
        assert_code(&env, 0);
        assert_eq!(
            env.stdout,
            format!(
                "# The token only opens the simulated console s1 sim runs.\n\
                 export S1_CONSOLE_URL='http://127.0.0.1:8099'\n\
                 export S1_API_TOKEN='{}'\n",
                sentinelone::sim::DEFAULT_TOKEN
            )
        );
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = taken.local_addr().unwrap().port().to_string();
        let out = run(&mut s1_bare(), &["sim", "--port", &port]);
        assert_code(&out, 5);
        assert_eq!(out.stdout, "");
        assert!(
            out.stderr.contains(&format!("127.0.0.1:{port}")),
            "{}",
            out.stderr
        );
        let zero = run(&mut s1_bare(), &["sim", "--port", "0"]);
        assert_code(&zero, 2);
    }

    #[test]
    fn version_names_the_commit_and_the_spec() {
        let out = run(&mut s1_bare(), &["--version"]);
        assert_code(&out, 0);
        let rest = out
            .stdout
            .strip_prefix(concat!("s1 ", env!("CARGO_PKG_VERSION"), " (commit "))
            .unwrap_or_else(|| panic!("{}", out.stdout));
        let (commit, rest) = rest.split_once(", ").unwrap();
        let hash = commit.strip_suffix("-dirty").unwrap_or(commit);
        assert!(
            hash == "unknown" || (hash.len() >= 7 && hash.chars().all(|c| c.is_ascii_hexdigit())),
            "{commit}"
        );
        assert_eq!(rest, "spec 2024-03, endpoint index 2026-06)\n");
        assert_eq!(run(&mut s1_bare(), &["-V"]).stdout, out.stdout);
    }

    #[tokio::test]
    async fn every_format_from_the_flag_or_the_environment() {
        let console = console().await;
        let csv = run(&mut s1(&console), &["agents", "list", "--output", "csv"]);
        assert_code(&csv, 0);
        let lines: Vec<&str> = csv.stdout.lines().collect();
        assert_eq!(lines.len(), 13, "{}", csv.stdout);
        assert_eq!(lines[0], "ID,COMPUTER,OS,NETWORK,IP,SITE,THREATS");
        let first: Vec<&str> = lines[1].split(',').collect();
        assert_eq!(first[1..4], ["win-lab-001", "windows", "connected"]);
        assert_eq!(first[5..], ["Site 1", "1"]);

        let jsonl = run(&mut s1(&console), &["agents", "list", "-o", "jsonl"]);
        assert_code(&jsonl, 0);
        let items = jsonl.json_lines();
        assert_eq!(items.len(), 12);
        assert_eq!(items[0]["computerName"], "win-lab-001");

        let mut from_env = s1(&console);
        from_env.env("S1_OUTPUT", "CSV");
        let env_csv = run(&mut from_env, &["agents", "list"]);
        assert_code(&env_csv, 0);
        assert_eq!(env_csv.stdout, csv.stdout);
        // A flag beats the environment.
        let mut flag = s1(&console);
        flag.env("S1_OUTPUT", "csv");
        let json = run(&mut flag, &["agents", "list", "--json"]);
        assert_code(&json, 0);
        assert_eq!(json.json().as_array().unwrap().len(), 12);

        let sent = console.counters().total();
        let mut wrong = s1(&console);
        wrong.env("S1_OUTPUT", "yaml");
        let refused = run(&mut wrong, &["agents", "list"]);
        assert_code(&refused, 2);
        assert_eq!(
            refused.stderr,
            "s1: S1_OUTPUT=\"yaml\" is not one of table, json, jsonl, csv\n"
        );
        let both = run(
            &mut s1(&console),
            &["agents", "list", "-o", "csv", "--json"],
        );
        assert_code(&both, 2);
        assert_eq!(console.counters().total(), sent, "nothing sent");

        // Times to the second in tables, as sent in CSV.
        let table = run(
            &mut s1(&console),
            &["threats", "list", "--last", "1h", "-o", "table"],
        );
        assert_code(&table, 0);
        let row = table.stdout.lines().nth(1).unwrap();
        let created = &row[row.len() - 20..];
        assert!(
            chrono::NaiveDateTime::parse_from_str(created, "%Y-%m-%d %H:%M:%SZ").is_ok(),
            "{row}"
        );
        let csv = run(
            &mut s1(&console),
            &["threats", "list", "--last", "1h", "-o", "csv"],
        );
        let row = csv.stdout.lines().nth(1).unwrap();
        let created = row.rsplit(',').next().unwrap();
        assert!(
            chrono::DateTime::parse_from_rfc3339(created).is_ok(),
            "{row}"
        );
        assert!(created.contains('.'), "as sent, with its fraction: {row}");
    }

    #[tokio::test]
    async fn console_text_is_escaped_and_defused_in_csv_and_tables() {
        let server = MockServer::start_async().await;
        server
            .mock_async(|when, then| {
                when.method(GET).path("/web/api/v2.1/agents");
                then.status(200).json_body(json!({
                    "data": [
                        {"id": "1", "computerName": "=HYPERLINK(\"http://x\",\"y\")", "note": "a,b"},
                        {"id": "2", "computerName": "\u{1b}]52;c;aGk=\u{7}pc", "note": "-2"}
                    ],
                    "pagination": {"nextCursor": null}
                }));
            })
            .await;
        let mut cmd = s1_bare();
        cmd.env("S1_CONSOLE_URL", server.base_url())
            .env("S1_API_TOKEN", TOKEN);
        let csv = run(&mut cmd, &["request", "GET", "agents", "-o", "csv"]);
        assert_code(&csv, 0);
        assert_eq!(
            csv.stdout,
            "id,computerName,note\n\
             1,\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\",\"a,b\"\n\
             2,\\u{1b}]52;c;aGk=\\u{7}pc,-2\n"
        );
        let mut cmd = s1_bare();
        cmd.env("S1_CONSOLE_URL", server.base_url())
            .env("S1_API_TOKEN", TOKEN);
        let table = run(&mut cmd, &["api", "list_agents", "-o", "table"]);
        assert_code(&table, 0);
        assert!(!table.stdout.contains('\u{1b}'), "{}", table.stdout);
        assert!(
            table.stdout.contains("\\u{1b}]52;c;aGk=\\u{7}pc"),
            "{}",
            table.stdout
        );
    }

    /// Runs `s1 ARGS` on a terminal (a pseudo-terminal by `script`) with
    /// `input` typed; None when `script` is not there.
    fn on_a_terminal(console: &SimConsole, shell: &str, input: &str) -> Option<Run> {
        let script = ["/usr/bin/script", "/bin/script"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists())?;
        let mut cmd = assert_cmd::Command::new(script);
        cmd.args(["-qec", shell, "/dev/null"])
            .env("S1_CONSOLE_URL", console.url())
            .env("S1_API_TOKEN", console.token())
            .env("S1", env!("CARGO_BIN_EXE_s1"))
            .env_remove("S1_OUTPUT")
            .env_remove("RUST_LOG")
            .write_stdin(input)
            .timeout(Duration::from_secs(60));
        let output = cmd.output().unwrap();
        Some(Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).replace("\r\n", "\n"),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        })
    }

    #[tokio::test]
    async fn at_a_terminal_a_change_waits_for_yes() {
        let console = console().await;
        let (id, _) = threat_on(&console, "win-lab-002").await;
        let kill = "stty cols 200 rows 40; \"$S1\" threats kill --computer win-lab-002";
        let Some(declined) = on_a_terminal(&console, kill, "n\n") else {
            eprintln!("skipped: no `script` to give s1 a terminal");
            return;
        };
        assert_code(&declined, 7);
        assert!(
            declined.stdout.contains("kill will act on 1 threat(s):\n"),
            "{}",
            declined.stdout
        );
        assert!(declined.stdout.contains(&id), "{}", declined.stdout);
        assert!(
            declined.stdout.contains("Proceed? [y/N] "),
            "{}",
            declined.stdout
        );
        assert!(
            declined
                .stdout
                .ends_with("s1: not confirmed; nothing was sent\n"),
            "{}",
            declined.stdout
        );
        assert_eq!(console.threat_status(&id).unwrap(), "active");
        assert_eq!(
            console
                .counters()
                .requests("POST", "/threats/mitigate/kill"),
            0
        );

        let empty = on_a_terminal(&console, kill, "\n").unwrap();
        assert_code(&empty, 7);
        assert_eq!(
            console
                .counters()
                .requests("POST", "/threats/mitigate/kill"),
            0
        );

        let yes = on_a_terminal(&console, kill, "y\n").unwrap();
        assert_code(&yes, 0);
        assert!(
            yes.stdout.contains("kill: 1 threat(s) affected"),
            "{}",
            yes.stdout
        );
        assert_eq!(console.threat_status(&id).unwrap(), "mitigated");
        assert_eq!(
            console.counters().mitigations,
            vec![("kill".to_string(), vec![id.clone()])]
        );

        // --yes: no question.
        let skip = on_a_terminal(
            &console,
            "\"$S1\" threats quarantine --computer win-lab-002 --yes",
            "",
        )
        .unwrap();
        assert_code(&skip, 0);
        assert!(!skip.stdout.contains("Proceed?"), "{}", skip.stdout);

        // A read asks nothing; a table fits a narrow terminal.
        let list =
            on_a_terminal(&console, "stty cols 76 rows 40; \"$S1\" agents list", "").unwrap();
        assert_code(&list, 0);
        assert!(!list.stdout.contains("Proceed?"));
        assert!(list.stdout.contains("win-lab-001"), "{}", list.stdout);
        assert!(
            list.stdout.lines().all(|l| l.chars().count() <= 76),
            "{}",
            list.stdout
        );

        // s1 request with a method that changes something asks too.
        let before = console.counters().total();
        let post = on_a_terminal(
            &console,
            "\"$S1\" request POST threats/mitigate/kill --body '{\"filter\":{\"ids\":[\"1\"]}}'",
            "no\n",
        )
        .unwrap();
        assert_code(&post, 7);
        assert!(
            post.stdout.contains(
                "POST /web/api/v2.1/threats/mitigate/kill\n  with the --body given\nProceed? [y/N] "
            ),
            "{}",
            post.stdout
        );
        assert_eq!(console.counters().total(), before, "nothing sent");
    }

    #[tokio::test]
    async fn without_a_terminal_nothing_is_asked() {
        let console = console().await;
        let (id, _) = threat_on(&console, "win-lab-001").await;
        // stdin and stderr are pipes here: the command goes on as it
        // always has, --yes or not.
        let out = run(
            &mut s1(&console),
            &["threats", "kill", "--computer", "win-lab-001"],
        );
        assert_code(&out, 0);
        assert!(!out.stderr.contains("Proceed"), "{}", out.stderr);
        assert_eq!(out.json()["affected"], 1);
        assert_eq!(console.threat_status(&id).unwrap(), "mitigated");
    }
}

// ---------------------------------------------------------------------------
// Tracing

#[tokio::test]
async fn verbose_flags_trace_the_library_on_stderr_and_never_the_token() {
    let console = console().await;
    let quiet = run(&mut s1(&console), &["agents", "list", "--output", "json"]);
    assert_code(&quiet, 0);
    assert_eq!(quiet.stderr, "", "no trace without -v");

    let info = run(
        &mut s1(&console),
        &["-v", "agents", "list", "--output", "json"],
    );
    assert_code(&info, 0);
    assert!(!info.stderr.contains("DEBUG"), "{}", info.stderr);

    let debug = run(
        &mut s1(&console),
        &["-vv", "agents", "list", "--output", "json"],
    );
    assert_code(&debug, 0);
    assert_eq!(debug.stdout, quiet.stdout, "tracing goes to stderr only");
    let end = debug
        .stderr
        .lines()
        .find(|l| l.contains(": answered "))
        .unwrap_or_else(|| panic!("no end event: {}", debug.stderr));
    assert!(
        end.contains("DEBUG request{operation=\"list_agents\" method=GET path=/web/api/v2.1/agents attempts=1 status=200"),
        "{end}"
    );
    assert!(
        !debug.stderr.contains("hyper"),
        "only the library's own: {}",
        debug.stderr
    );
    assert!(!debug.stderr.contains(console.token()), "{}", debug.stderr);

    let from_env = run(
        s1(&console).env("RUST_LOG", "sentinelone=debug,hyper_util=debug"),
        &["agents", "list", "--output", "json"],
    );
    assert_code(&from_env, 0);
    assert!(
        from_env.stderr.contains("hyper_util"),
        "{}",
        from_env.stderr
    );
    assert!(
        from_env.stderr.contains(": answered "),
        "{}",
        from_env.stderr
    );
}
