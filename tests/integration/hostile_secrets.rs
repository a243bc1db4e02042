//! Hostile consoles and networks, the secrets part (issue 10, cases 1-4 and
//! 17): small loopback servers that redirect, proxy, echo the request back
//! or refuse connections, and what they received: never the token or an
//! archive password anywhere but the console, no request sent twice, and
//! errors that say what happened without the secrets.

use std::time::Duration;

use sentinelone::files::FetchRequest;
use sentinelone::prelude::*;
use sentinelone::quota::Quotas;
use sentinelone::raw::types::{MitigateThreatsAction, ThreatFilter, ThreatsMitigateRequest};
use sentinelone::{Client, ClientBuilder, Error, LINK_REDIRECTS, RetryPolicy};

use crate::support::scripted::{self, Reply, Scripted, reply, scripted_server};

const TOKEN: &str = "hostile-T0KEN-5e1f0c2a9b";
const PASSWORD: &str = "Hostile!Passw0rd-77";
const SYSTEM_INFO: &str = r#"{"data":{"version":"Z SP1"}}"#;

fn builder(url: &str) -> ClientBuilder {
    scripted::builder(
        url,
        TOKEN,
        Quotas::none(),
        RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(5),
            max_retry_after: Duration::from_millis(5),
            throttle_base_delay: Duration::from_millis(1),
        },
    )
}

fn client(url: &str) -> Client {
    builder(url).build().expect("the client builds")
}

/// `host:port` of a scripted server's URL.
fn authority(server: &Scripted) -> &str {
    server.url.trim_start_matches("http://")
}

/// A redirect answer to `location`.
fn redirect(status: u16, location: &str) -> Reply {
    reply(status, &[("location", location)], "")
}

/// Neither secret, in any text shown to a person.
fn assert_no_secret(what: &str, text: &str) {
    for secret in [TOKEN, PASSWORD, "T0KEN-5e1f", "Passw0rd-77"] {
        assert!(!text.contains(secret), "{what} shows {secret:?}:\n{text}");
    }
}

/// Display, alternate Display and Debug of `err` carry no secret.
fn assert_error_clean(err: &Error) {
    assert_no_secret("Display", &err.to_string());
    assert_no_secret("Debug", &format!("{err:?}"));
    assert_no_secret("alternate Debug", &format!("{err:#?}"));
}

/// No request anywhere carries a secret (head or body).
fn assert_nothing_received(server: &Scripted) {
    let seen = server.seen();
    assert!(seen.is_empty(), "the foreign server received {seen:#?}");
}

fn posts(server: &Scripted) -> usize {
    server.seen().iter().filter(|s| s.method == "POST").count()
}

/// The refused redirect of `operation` to `foreign`.
fn assert_redirect_refused(err: &Error, status: u16, operation: &str, foreign: &str) {
    assert!(
        matches!(err, Error::Redirected { .. }),
        "expected a refused redirect, got {err:?}"
    );
    assert_eq!(err.status(), Some(status));
    assert_eq!(err.operation(), Some(operation));
    assert_eq!(
        err.to_string(),
        format!(
            "{operation}: the console answered {status} redirecting to {foreign}; redirects are not followed"
        )
    );
    assert_error_clean(err);
}

// ---------------------------------------------------------------------------
// 1. Redirects

#[tokio::test]
async fn a_redirected_token_details_call_sends_the_token_nowhere_else() {
    for status in [307, 308] {
        let foreign = scripted_server(vec![reply(200, &[], "{}")]).await;
        let target = format!("{}/web/api/v2.1/users/api-token-details", foreign.url);
        let console = scripted_server(vec![
            reply(200, &[], SYSTEM_INFO),
            redirect(status, &target),
        ])
        .await;
        let err = client(&console.url).connection().test().await.unwrap_err();
        assert_redirect_refused(&err, status, "get_api_token_details", authority(&foreign));
        assert_nothing_received(&foreign);
        assert_eq!(posts(&console), 1, "{status}");
    }
}

#[tokio::test]
async fn a_redirected_fetch_files_sends_the_password_nowhere_else() {
    let foreign = scripted_server(vec![reply(200, &[], "{}")]).await;
    let target = format!("{}/steal", foreign.url);
    let console = scripted_server(vec![redirect(307, &target)]).await;
    let request = FetchRequest::new(["/etc/hosts"], PASSWORD);
    let err = client(&console.url)
        .files()
        .collect("1234", &request)
        .await
        .unwrap_err();
    assert_redirect_refused(&err, 307, "fetch_agent_files", authority(&foreign));
    assert_nothing_received(&foreign);
    assert_eq!(posts(&console), 1);
    assert!(
        console.seen()[0].body.contains(PASSWORD),
        "sent to the console"
    );
}

/// A kill of threat 1234, sent through the generated operation.
async fn kill(client: &Client) -> Result<(), Error> {
    client
        .mitigate_threats()
        .action(MitigateThreatsAction::Kill)
        .body(ThreatsMitigateRequest {
            data: Default::default(),
            filter: ThreatFilter {
                ids: vec!["1234".into()],
                ..Default::default()
            },
        })
        .call()
        .await
        .map(|_| ())
}

#[tokio::test]
async fn a_redirected_kill_is_sent_once_and_not_followed() {
    let foreign = scripted_server(vec![reply(200, &[], "{}")]).await;
    let target = format!("{}/web/api/v2.1/threats/mitigate/kill", foreign.url);
    let console = scripted_server(vec![redirect(308, &target)]).await;
    let err = kill(&client(&console.url)).await.unwrap_err();
    assert_redirect_refused(&err, 308, "mitigate_threats", authority(&foreign));
    assert_nothing_received(&foreign);
    assert_eq!(posts(&console), 1);
}

#[tokio::test]
async fn a_redirect_loop_sends_one_kill() {
    let console = scripted_server(vec![redirect(307, "/web/api/v2.1/threats/mitigate/kill")]).await;
    let err = kill(&client(&console.url)).await.unwrap_err();
    assert_redirect_refused(&err, 307, "mitigate_threats", authority(&console));
    assert_eq!(console.seen().len(), 1);
    assert_eq!(posts(&console), 1);
}

#[tokio::test]
async fn a_302_on_test_connection_is_an_error_naming_the_foreign_host() {
    let foreign = scripted_server(vec![reply(200, &[], SYSTEM_INFO)]).await;
    let target = format!("{}/web/api/v2.1/system/info", foreign.url);
    let console = scripted_server(vec![redirect(302, &target)]).await;
    let err = client(&console.url).connection().test().await.unwrap_err();
    assert_redirect_refused(&err, 302, "get_system_info", authority(&foreign));
    assert_nothing_received(&foreign);
    assert_eq!(console.seen().len(), 1);
}

#[tokio::test]
async fn a_redirect_without_a_location_or_to_the_token_names_no_secret() {
    let console = scripted_server(vec![
        reply(302, &[], ""),
        redirect(301, &format!("http://{TOKEN}.evil.example:8081/x")),
    ])
    .await;
    let client = client(&console.url);
    let err = client.get_system_info().call().await.unwrap_err();
    assert_redirect_refused(&err, 302, "get_system_info", "no location");
    // The host comes back lowered by URL parsing; redacted all the same.
    let err = client.get_system_info().call().await.unwrap_err();
    assert_redirect_refused(&err, 301, "get_system_info", "[redacted].evil.example:8081");
    assert!(!err.to_string().contains(&TOKEN.to_lowercase()), "{err}");
    assert_eq!(console.seen().len(), 2);
}

#[tokio::test]
async fn a_hand_built_request_does_not_follow_a_redirect() {
    let foreign = scripted_server(vec![reply(200, &[], "{}")]).await;
    let console = scripted_server(vec![redirect(307, &format!("{}/x", foreign.url))]).await;
    let client = client(&console.url);
    let request = client
        .request(reqwest::Method::POST, "/web/api/v2.1/threats/mitigate/kill")
        .body(r#"{"filter":{"ids":["1"]}}"#)
        .build()
        .unwrap();
    let err = client.execute(request, "hand_built").await.unwrap_err();
    assert_redirect_refused(&err, 307, "hand_built", authority(&foreign));
    assert_nothing_received(&foreign);
    assert_eq!(posts(&console), 1);
}

/// A console that hands out a cloud link to `link`.
async fn cloud_console(link: &str, then: Vec<Reply>) -> Scripted {
    let body = format!(r#"{{"data":{{"downloadUrl":"{link}","fileName":"f.zip"}}}}"#);
    let mut script = vec![reply(200, &[], &body)];
    script.extend(then);
    scripted_server(script).await
}

#[tokio::test]
async fn a_download_link_follows_few_redirects_and_never_sends_the_token() {
    let storage = scripted_server(vec![redirect(302, "/again")]).await;
    let console = cloud_console(&format!("{}/file", storage.url), Vec::new()).await;
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("f.zip");
    let err = client(&console.url)
        .files()
        .download_threat_from_cloud("1234", &dest)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
    assert!(err.to_string().contains("redirect"), "{err}");
    assert_error_clean(&err);
    let seen = storage.seen();
    assert_eq!(seen.len(), LINK_REDIRECTS + 1, "{seen:#?}");
    for request in &seen {
        assert_eq!(request.header("authorization"), None, "{request:#?}");
        assert_no_secret("link request", &request.head);
    }
    assert!(!dest.exists());
}

#[tokio::test]
async fn a_download_link_redirected_back_to_the_console_gets_no_token() {
    let console = scripted_server(Vec::new()).await;
    let back = format!(
        "{}/web/api/v2.1/threats/1234/download-from-cloud",
        console.url
    );
    let storage = scripted_server(vec![redirect(307, &back)]).await;
    let link = format!(
        r#"{{"data":{{"downloadUrl":"{}/file","fileName":"f.zip"}}}}"#,
        storage.url
    );
    console.push(reply(200, &[], &link));
    console.push(reply(200, &[], "zip bytes"));
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("f.zip");
    let saved = client(&console.url)
        .files()
        .download_threat_from_cloud("1234", &dest)
        .await
        .unwrap();
    assert_eq!(saved.bytes, 9);
    let seen = console.seen();
    assert_eq!(seen.len(), 2, "{seen:#?}");
    assert!(
        seen[0].header("authorization").is_some(),
        "the API call has it"
    );
    assert_eq!(seen[1].header("authorization"), None, "{:#?}", seen[1]);
    assert_no_secret("redirected link request", &seen[1].head);
    assert_eq!(storage.seen()[0].header("authorization"), None);
}

// ---------------------------------------------------------------------------
// 2. Proxies

#[test]
fn a_proxy_for_an_http_console_is_refused() {
    let err = builder("http://127.0.0.1:9")
        .proxy("http://127.0.0.1:3128")
        .build()
        .unwrap_err();
    assert!(matches!(err, Error::InvalidInput { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains("proxy") && text.contains("http:// console"),
        "{text}"
    );
    assert_error_clean(&err);
}

/// What one run of `s1` did.
#[cfg(feature = "cli")]
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs `s1 args` with only `env` set among the variables it (and its HTTP
/// client) reads, off the runtime's threads so loopback servers keep
/// answering.
#[cfg(feature = "cli")]
async fn s1(env: &[(&str, &str)], args: &[&str]) -> Run {
    let mut cmd = assert_cmd::Command::new(env!("CARGO_BIN_EXE_s1"));
    for var in [
        "S1_CONSOLE_URL",
        "S1_API_TOKEN",
        "S1_ARCHIVE_PASSWORD",
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
        "NO_PROXY",
        "no_proxy",
    ] {
        cmd.env_remove(var);
    }
    cmd.envs(env.iter().copied())
        .args(args)
        .timeout(Duration::from_secs(60));
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .expect("s1 ran")
        .expect("s1 starts");
    Run {
        code: out.status.code().expect("s1 exits with a code"),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[cfg(feature = "cli")]
#[tokio::test]
async fn an_http_console_never_goes_through_an_environment_proxy() {
    let proxy = scripted_server(vec![reply(200, &[], SYSTEM_INFO)]).await;
    let console = scripted_server(vec![reply(200, &[], SYSTEM_INFO)]).await;
    let run = s1(
        &[
            ("S1_CONSOLE_URL", &console.url),
            ("S1_API_TOKEN", TOKEN),
            ("HTTP_PROXY", &proxy.url),
            ("http_proxy", &proxy.url),
            ("ALL_PROXY", &proxy.url),
            ("all_proxy", &proxy.url),
        ],
        &["api", "get_system_info"],
    )
    .await;
    assert_eq!(
        run.code, 0,
        "stdout: {}\nstderr: {}",
        run.stdout, run.stderr
    );
    assert_nothing_received(&proxy);
    let seen = console.seen();
    assert_eq!(seen.len(), 1, "{seen:#?}");
    assert_eq!(
        seen[0].header("authorization"),
        Some(format!("ApiToken {TOKEN}").as_str())
    );
}

#[cfg(feature = "cli")]
#[tokio::test]
async fn s1_test_connection_refuses_a_redirect() {
    let foreign = scripted_server(vec![reply(200, &[], SYSTEM_INFO)]).await;
    let target = format!("{}/web/api/v2.1/system/info", foreign.url);
    let console = scripted_server(vec![redirect(302, &target)]).await;
    let run = s1(
        &[("S1_CONSOLE_URL", &console.url), ("S1_API_TOKEN", TOKEN)],
        &["test-connection"],
    )
    .await;
    assert_eq!(
        run.code, 1,
        "stdout: {}\nstderr: {}",
        run.stdout, run.stderr
    );
    let expected = format!(
        "s1: get_system_info: the console answered 302 redirecting to {}; redirects are not followed",
        authority(&foreign)
    );
    assert_eq!(run.stderr.trim_end(), expected);
    assert_no_secret("stderr", &run.stderr);
    assert_nothing_received(&foreign);
    assert_eq!(console.seen().len(), 1);
}

// ---------------------------------------------------------------------------
// 3. Echoed secrets

#[tokio::test]
async fn an_error_body_echoing_the_token_and_password_is_redacted() {
    let echo = format!(
        r#"{{"errors":[{{"code":4000010,"title":"Bad request from {TOKEN}","detail":"password {PASSWORD} with Authorization: ApiToken {TOKEN}"}}]}}"#
    );
    let console = scripted_server(vec![reply(400, &[], &echo)]).await;
    let request = FetchRequest::new(["/etc/hosts"], PASSWORD);
    let err = client(&console.url)
        .files()
        .collect("1234", &request)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(400));
    assert_error_clean(&err);
    assert_eq!(
        err.to_string(),
        "fetch_agent_files: SentinelOne answered HTTP 400; [4000010] Bad request from [redacted]: \
         password [redacted] with Authorization: ApiToken [redacted]"
    );
}

#[tokio::test]
async fn a_non_json_error_body_echoing_the_token_is_redacted() {
    let page = format!("<html>GET /system/info\nAuthorization: ApiToken {TOKEN}</html>");
    let console = scripted_server(vec![reply(418, &[], &page)]).await;
    let err = client(&console.url)
        .get_system_info()
        .call()
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(418));
    assert_error_clean(&err);
    assert!(err.to_string().contains("ApiToken [redacted]"), "{err}");
}

#[tokio::test]
async fn a_decode_error_echoing_the_token_is_redacted() {
    // A string where an object belongs: serde quotes it in its message, and
    // the excerpt shows the body.
    let body = format!(r#"{{"data":"{TOKEN}"}}"#);
    let console = scripted_server(vec![reply(200, &[], &body)]).await;
    let err = client(&console.url)
        .get_system_info()
        .call()
        .await
        .unwrap_err();
    let Error::Decode {
        excerpt, message, ..
    } = &err
    else {
        panic!("expected a decode error, got {err:?}");
    };
    assert_eq!(excerpt, r#"{"data":"[redacted]"}"#);
    assert!(message.contains("[redacted]"), "{message}");
    assert_error_clean(&err);
}

#[cfg(feature = "cli")]
#[tokio::test]
async fn s1_never_prints_a_token_the_console_echoes() {
    let echo = format!(
        r#"{{"errors":[{{"title":"Validation Error","detail":"unknown token {{\"data\":{{\"apiToken\":\"{TOKEN}\"}}}}"}}]}}"#
    );
    let console = scripted_server(vec![reply(200, &[], SYSTEM_INFO), reply(400, &[], &echo)]).await;
    let run = s1(
        &[("S1_CONSOLE_URL", &console.url), ("S1_API_TOKEN", TOKEN)],
        &["test-connection"],
    )
    .await;
    assert_eq!(
        run.code, 1,
        "stdout: {}\nstderr: {}",
        run.stdout, run.stderr
    );
    assert_no_secret("stderr", &run.stderr);
    assert_no_secret("stdout", &run.stdout);
    assert!(run.stderr.contains("[redacted]"), "{}", run.stderr);
    assert_eq!(posts(&console), 1);
}

// ---------------------------------------------------------------------------
// 4. A token with surrounding spaces

#[tokio::test]
async fn a_token_with_spaces_is_sent_trimmed_in_the_header_and_the_body() {
    let console = scripted_server(vec![
        reply(200, &[], SYSTEM_INFO),
        reply(200, &[], r#"{"data":{"expiresAt":"2030-01-01T00:00:00Z"}}"#),
    ])
    .await;
    let client = builder(&console.url)
        .api_token(format!(" \t{TOKEN}  \n"))
        .build()
        .unwrap();
    let report = client.connection().test().await.unwrap();
    assert_eq!(
        report.token_expires_at.as_deref(),
        Some("2030-01-01T00:00:00Z")
    );
    let seen = console.seen();
    assert_eq!(seen.len(), 2);
    let header = format!("ApiToken {TOKEN}");
    for request in &seen {
        assert_eq!(request.header("authorization"), Some(header.as_str()));
    }
    let body: serde_json::Value = serde_json::from_str(&seen[1].body).unwrap();
    assert_eq!(body["data"]["apiToken"], TOKEN, "{}", seen[1].body);
}

// ---------------------------------------------------------------------------
// 17. Transport errors keep their cause

#[tokio::test]
async fn a_refused_connection_names_its_cause() {
    // A port nothing listens on: bind one, note it, let it go.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let err = client(&format!("http://127.0.0.1:{port}"))
        .get_system_info()
        .call()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.starts_with("get_system_info: error sending request"),
        "{text}"
    );
    assert!(
        text.to_ascii_lowercase().contains("connection refused"),
        "{text}"
    );
    assert_error_clean(&err);
}

// ---------------------------------------------------------------------------
// The Long Running Query paths (console root, `Authorization: Bearer`)

#[tokio::test]
async fn a_redirected_lrq_launch_sends_the_bearer_token_nowhere_else() {
    use sentinelone::lrq::{LrqOptions, LrqScope, TimeRange};
    let foreign = scripted_server(vec![reply(200, &[], "{}")]).await;
    let target = format!("{}/sdl/v2/api/queries", foreign.url);
    let console = scripted_server(vec![redirect(307, &target)]).await;
    let range = TimeRange::last(chrono::TimeDelta::hours(1));
    let err = client(&console.url)
        .lrq()
        .power_query("x", range, &LrqScope::tenant(), &LrqOptions::default())
        .await
        .unwrap_err();
    assert_redirect_refused(&err, 307, "launch_lrq_query", authority(&foreign));
    assert_nothing_received(&foreign);
    let seen = console.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].target, "/sdl/v2/api/queries");
    assert_eq!(
        seen[0].header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
}

#[tokio::test]
async fn an_lrq_error_echoing_the_bearer_token_is_redacted() {
    use sentinelone::lrq::{LrqOptions, LrqScope, TimeRange};
    let echo = format!(r#"{{"message":"Header must start with Bearer, got Bearer {TOKEN}"}}"#);
    let console = scripted_server(vec![reply(400, &[], &echo)]).await;
    let range = TimeRange::last(chrono::TimeDelta::hours(1));
    let err = client(&console.url)
        .lrq()
        .log_query("", range, &LrqScope::tenant(), 10, &LrqOptions::default())
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(400));
    assert_error_clean(&err);
}
