//! `codegen fetch-spec` against loopback HTTP servers: the exact request a
//! console receives, the fetched 2024 file imported, generated and checked
//! into a copy of the workspace (equal to the committed spec), and the
//! refusals: redirects (whose target receives nothing), answers that are
//! not descriptions or too large, a missing token or a plain-http URL to a
//! host that is not loopback (no connection made). The tests using the
//! vendor file read ../shared (skipped when absent, unless
//! `S1_REQUIRE_SHARED` is set).

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use codegen::fetch::{self, ApiToken, DescriptionKind, FetchOptions};

const VENDOR: &str = "../shared/specs/s1-mgmt-api-v2.1.swagger.celerium-2024-03.json";
const TOKEN: &str = "test-token-5f0c9e2a";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn shared_present() -> bool {
    if root().join("../shared").is_dir() {
        return true;
    }
    if std::env::var_os("S1_REQUIRE_SHARED").is_some() {
        panic!("../shared is absent but S1_REQUIRE_SHARED is set");
    }
    eprintln!("skipped: ../shared absent");
    false
}

/// A fresh, empty directory below the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(label: &str) -> Self {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let dir =
            std::env::temp_dir().join(format!("codegen-fetch-{label}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        TempDir(dir)
    }

    fn entries(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.0)
            .expect("read temp dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

// ------------------------------------------------------------ the server

/// An HTTP/1.1 answer: status line and headers (no Content-Length unless
/// given), then the body; the connection is closed after it.
fn answer(status: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status}\r\nConnection: close\r\n");
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str("\r\n");
    let mut out = out.into_bytes();
    out.extend_from_slice(body);
    out
}

/// `answer` with `Content-Type: application/json` and the body's length.
fn json_answer(body: &[u8]) -> Vec<u8> {
    let length = body.len().to_string();
    answer(
        "200 OK",
        &[
            ("Content-Type", "application/json"),
            ("Content-Length", &length),
        ],
        body,
    )
}

/// Accepts one connection on `listener` (within 30 s), reads the request
/// head, sends `response` and closes. Returns the request head.
fn serve_once(listener: TcpListener, response: Vec<u8>) -> JoinHandle<String> {
    std::thread::spawn(move || {
        listener.set_nonblocking(true).expect("nonblocking");
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut stream = loop {
            match listener.accept() {
                Ok((stream, _)) => break stream,
                Err(e) if e.kind() == ErrorKind::WouldBlock && Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err(e) => panic!("no connection: {e}"),
            }
        };
        stream.set_nonblocking(false).expect("blocking");
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .expect("timeout");
        let head = read_head(&mut stream);
        // The client may close early (a cap reached): that is fine.
        let _ = stream.write_all(&response);
        let _ = stream.flush();
        let _ = stream.shutdown(std::net::Shutdown::Write);
        head
    })
}

fn read_head(stream: &mut TcpStream) -> String {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buf).expect("read the request");
        assert!(n > 0, "the request ended before its head did");
        head.extend_from_slice(&buf[..n]);
        assert!(head.len() < 64 * 1024, "request head too long");
    }
    String::from_utf8(head).expect("request head is UTF-8")
}

fn loopback_listener() -> (TcpListener, SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    (listener, addr)
}

/// How many connections wait on `listener` (all accepted and dropped).
fn connections(listener: &TcpListener) -> usize {
    listener.set_nonblocking(true).expect("nonblocking");
    let mut n = 0;
    loop {
        match listener.accept() {
            Ok(_) => n += 1,
            Err(e) if e.kind() == ErrorKind::WouldBlock => return n,
            Err(e) => panic!("accept: {e}"),
        }
    }
}

/// The request line and headers of a request head, names lower-cased.
fn parse_head(head: &str) -> (String, Vec<(String, String)>) {
    let mut lines = head.trim_end_matches("\r\n").split("\r\n");
    let request_line = lines.next().expect("request line").to_string();
    let headers = lines
        .map(|l| {
            let (name, value) = l.split_once(':').expect("header line");
            (name.trim().to_ascii_lowercase(), value.trim().to_string())
        })
        .collect();
    (request_line, headers)
}

/// Asserts the request is exactly one GET of the description from `addr`
/// with the token, and no body.
fn assert_description_request(head: &str, addr: SocketAddr) {
    let (line, headers) = parse_head(head);
    assert_eq!(line, "GET /web/api/v2.1/apidoc/swagger.json HTTP/1.1");
    let values = |name: &str| -> Vec<&str> {
        headers
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    };
    assert_eq!(values("authorization"), [format!("ApiToken {TOKEN}")]);
    assert_eq!(values("host"), [addr.to_string()]);
    assert!(values("content-length").is_empty(), "{head}");
    assert!(values("transfer-encoding").is_empty(), "{head}");
    assert!(values("cookie").is_empty(), "{head}");
    let names: Vec<&str> = headers.iter().map(|(n, _)| n.as_str()).collect();
    for name in &names {
        assert!(
            ["host", "authorization", "user-agent", "accept"].contains(name),
            "unexpected header {name}: {head}"
        );
    }
}

fn options(addr: SocketAddr) -> FetchOptions {
    FetchOptions {
        allow_http_loopback: true,
        timeout: Duration::from_secs(60),
        ..FetchOptions::new(format!("http://{addr}"))
    }
}

fn token() -> ApiToken {
    ApiToken::new(TOKEN).expect("token")
}

fn codegen(args: &[&str], token: Option<&str>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_codegen"));
    command.args(args);
    // A proxy in the environment must not matter to a loopback console.
    command
        .env("HTTP_PROXY", "http://192.0.2.1:9")
        .env("ALL_PROXY", "http://192.0.2.1:9");
    match token {
        Some(t) => command.env(fetch::TOKEN_ENV, t),
        None => command.env_remove(fetch::TOKEN_ENV),
    };
    command.output().expect("run codegen")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

// ------------------------------------------------------- the happy paths

#[test]
fn the_library_fetches_the_description_with_one_get_and_the_token() {
    if !shared_present() {
        return;
    }
    let vendor = std::fs::read(root().join(VENDOR)).expect("vendor file");
    let (listener, addr) = loopback_listener();
    let server = serve_once(listener, json_answer(&vendor));
    let dir = TempDir::new("lib");
    let out = dir.0.join("console.json");
    let fetched = fetch::fetch_to(&options(addr), &token(), &out).expect("fetch succeeds");
    assert_description_request(&server.join().expect("server"), addr);
    assert_eq!(fetched.kind, DescriptionKind::Swagger2);
    assert_eq!(
        fetched.url.as_str(),
        format!("http://{addr}/web/api/v2.1/apidoc/swagger.json")
    );
    assert!(fetched.paths > 300, "{} paths", fetched.paths);
    assert!(!format!("{fetched:?}").contains(TOKEN));
    // Written as received, atomically: no temporary file left beside it.
    assert!(std::fs::read(&out).expect("written") == vendor);
    assert_eq!(dir.entries(), ["console.json"]);

    // The fetched file imports to the committed spec, byte for byte.
    let spec = codegen::import::import_at(&root(), &out, false).expect("import");
    let committed =
        std::fs::read_to_string(root().join("spec/openapi.json")).expect("committed spec");
    assert!(
        spec == committed,
        "the import differs from spec/openapi.json"
    );
}

/// A copy of the workspace's inputs below `dir/ws` (spec/ and the
/// generated files), with `dir/shared` standing for ../shared so that the
/// curation's `index_2026` path resolves.
fn workspace_copy(dir: &Path) -> PathBuf {
    let ws = dir.join("ws");
    for sub in ["spec", "generated/src"] {
        std::fs::create_dir_all(ws.join(sub)).expect("dirs");
    }
    for file in std::fs::read_dir(root().join("spec")).expect("spec/") {
        let file = file.expect("entry").path();
        if file.is_file() {
            std::fs::copy(&file, ws.join("spec").join(file.file_name().expect("name")))
                .expect("copy spec file");
        }
    }
    std::os::unix::fs::symlink(
        root().join("../shared").canonicalize().expect("shared"),
        dir.join("shared"),
    )
    .expect("symlink shared");
    ws
}

#[test]
fn the_binary_fetches_and_the_file_imports_generates_and_checks_to_the_committed_files() {
    if !shared_present() {
        return;
    }
    let vendor = std::fs::read(root().join(VENDOR)).expect("vendor file");
    let dir = TempDir::new("bin");
    let ws = workspace_copy(&dir.0);
    // The imported spec must come from the fetched file, not the copy.
    std::fs::remove_file(ws.join("spec/openapi.json")).expect("remove spec copy");
    let (listener, addr) = loopback_listener();
    let server = serve_once(listener, json_answer(&vendor));
    let ws_arg = ws.to_str().expect("utf-8 path");
    let output = codegen(
        &[
            "--root",
            ws_arg,
            "fetch-spec",
            "--console",
            &format!("http://{addr}"),
            "--allow-http-loopback",
        ],
        Some(TOKEN),
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert_description_request(&server.join().expect("server"), addr);
    // The default file, its path printed.
    let fetched = ws.join("spec/console-swagger.json");
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        fetched.display().to_string()
    );
    assert!(std::fs::read(&fetched).expect("fetched") == vendor);
    assert!(!stderr(&output).contains(TOKEN));
    assert!(!String::from_utf8_lossy(&output.stdout).contains(TOKEN));

    let fetched_arg = fetched.to_str().expect("utf-8 path");
    for args in [
        vec!["--root", ws_arg, "import", fetched_arg],
        vec!["--root", ws_arg, "generate"],
        vec!["--root", ws_arg, "check", "--import", fetched_arg],
    ] {
        let output = codegen(&args, None);
        assert!(output.status.success(), "{args:?}: {}", stderr(&output));
    }
    for file in [
        "spec/openapi.json",
        "generated/src/client.rs",
        "generated/src/calls.rs",
        "generated/src/paging.rs",
        "generated/src/mock.rs",
        "generated/src/operations.rs",
        "generated/src/answers.rs",
        "generated/src/rate_limits.rs",
    ] {
        let made = std::fs::read(ws.join(file)).expect("made");
        let committed = std::fs::read(root().join(file)).expect("committed");
        assert!(made == committed, "{file} differs from the committed one");
    }
}

// ------------------------------------------------------------ refusals

#[test]
fn a_redirect_is_an_error_and_its_target_receives_nothing() {
    let (elsewhere, elsewhere_addr) = loopback_listener();
    let location = format!("http://{elsewhere_addr}/web/api/v2.1/apidoc/swagger.json");
    let (listener, addr) = loopback_listener();
    let server = serve_once(
        listener,
        answer(
            "302 Found",
            &[("Location", &location), ("Content-Length", "0")],
            b"",
        ),
    );
    let dir = TempDir::new("redirect");
    let out = dir.0.join("console.json");
    let err = fetch::fetch_to(&options(addr), &token(), &out)
        .expect_err("a redirect is an error")
        .to_string();
    assert_description_request(&server.join().expect("server"), addr);
    assert!(err.contains("302 Found"), "{err}");
    assert!(err.contains("redirects are not followed"), "{err}");
    assert!(err.contains(&location), "{err}");
    assert!(!err.contains(TOKEN), "{err}");
    assert_eq!(
        connections(&elsewhere),
        0,
        "the Location host was contacted"
    );
    assert!(dir.entries().is_empty(), "{:?}", dir.entries());
}

#[test]
fn a_non_json_answer_is_an_error_showing_its_first_bytes_escaped() {
    let (listener, addr) = loopback_listener();
    let body = b"<html>\x1b[31mSign in\xe2\x80\xae</html>";
    let _server = serve_once(
        listener,
        answer(
            "200 OK",
            &[
                ("Content-Type", "text/html"),
                ("Content-Length", &body.len().to_string()),
            ],
            body,
        ),
    );
    let dir = TempDir::new("html");
    let err = format!(
        "{:#}",
        fetch::fetch_to(&options(addr), &token(), &dir.0.join("c.json"))
            .expect_err("HTML is not a description")
    );
    assert!(err.contains("is not JSON"), "{err}");
    assert!(
        err.contains(r#""<html>\x1b[31mSign in\xe2\x80\xae</html>""#),
        "{err}"
    );
    assert!(!err.contains('\x1b'));
    assert!(dir.entries().is_empty());
}

#[test]
fn json_that_is_not_an_api_description_is_refused() {
    let (listener, addr) = loopback_listener();
    let _server = serve_once(listener, json_answer(br#"{"data":[],"swagger":"1.2"}"#));
    let dir = TempDir::new("notdesc");
    let err = format!(
        "{:#}",
        fetch::fetch_to(&options(addr), &token(), &dir.0.join("c.json")).expect_err("refused")
    );
    assert!(err.contains("not an API description"), "{err}");
    assert!(
        err.contains(r#""{\"data\":[],\"swagger\":\"1.2\"}""#),
        "{err}"
    );
    assert!(dir.entries().is_empty());
}

#[test]
fn an_answer_over_the_size_cap_is_refused_declared_or_not() {
    let body = format!(
        r#"{{"swagger":"2.0","paths":{{}},"x":"{}"}}"#,
        "a".repeat(5000)
    );
    let capped = |addr| FetchOptions {
        max_bytes: 4096,
        ..options(addr)
    };
    // Declared in Content-Length: refused before reading.
    let (listener, addr) = loopback_listener();
    let _server = serve_once(listener, json_answer(body.as_bytes()));
    let err = fetch::fetch(&capped(addr), &token())
        .expect_err("over the cap")
        .to_string();
    assert!(
        err.contains(&format!(
            "declares {} bytes, over the cap of 4096 bytes",
            body.len()
        )),
        "{err}"
    );
    // Not declared (the body runs to the connection's end).
    let (listener, addr) = loopback_listener();
    let _server = serve_once(
        listener,
        answer(
            "200 OK",
            &[("Content-Type", "application/json")],
            body.as_bytes(),
        ),
    );
    let err = fetch::fetch(&capped(addr), &token())
        .expect_err("over the cap")
        .to_string();
    assert!(err.contains("larger than the cap of 4096 bytes"), "{err}");
    // Under the cap, the same body without a length is taken.
    let (listener, addr) = loopback_listener();
    let _server = serve_once(
        listener,
        answer(
            "200 OK",
            &[("Content-Type", "application/json")],
            body.as_bytes(),
        ),
    );
    let fetched = fetch::fetch(&options(addr), &token()).expect("under the default cap");
    assert_eq!(fetched.bytes, body.as_bytes());
}

#[test]
fn an_error_status_is_named_without_the_token() {
    let (listener, addr) = loopback_listener();
    let body = format!(r#"{{"errors":[{{"title":"Unauthorized","token":"{TOKEN}"}}]}}"#);
    let _server = serve_once(
        listener,
        answer(
            "401 Unauthorized",
            &[("Content-Length", &body.len().to_string())],
            body.as_bytes(),
        ),
    );
    let err = fetch::fetch(
        &options(addr),
        &ApiToken::new("other-token").expect("token"),
    )
    .expect_err("401")
    .to_string();
    assert!(err.contains("401 Unauthorized"), "{err}");
    assert!(err.contains("S1_API_TOKEN"), "{err}");
    assert!(!err.contains("other-token"), "{err}");
}

#[test]
fn a_missing_or_empty_token_is_refused_before_connecting() {
    let (listener, addr) = loopback_listener();
    let console = format!("http://{addr}");
    let dir = TempDir::new("notoken");
    let out = dir.0.join("c.json");
    let args = [
        "fetch-spec",
        "--console",
        &console,
        "--allow-http-loopback",
        "--out",
        out.to_str().expect("utf-8"),
    ];
    for (token, says) in [
        (None, "S1_API_TOKEN is not set"),
        (Some(""), "the API token is empty"),
        (Some("  \t"), "the API token is empty"),
    ] {
        let output = codegen(&args, token);
        assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
        assert!(stderr(&output).contains(says), "{}", stderr(&output));
    }
    assert_eq!(connections(&listener), 0);
    assert!(dir.entries().is_empty());
}

/// This machine's address on its default route, if it has one.
fn non_loopback_address() -> Option<std::net::IpAddr> {
    let socket = UdpSocket::bind("0.0.0.0:0").ok()?;
    // A UDP connect sends nothing; it picks the outgoing interface.
    socket.connect("192.0.2.1:9").ok()?;
    let ip = socket.local_addr().ok()?.ip();
    (!ip.is_loopback() && !ip.is_unspecified()).then_some(ip)
}

#[test]
fn plain_http_to_a_host_that_is_not_loopback_is_refused_without_connecting() {
    // A server every address of this machine reaches.
    let listener = TcpListener::bind("0.0.0.0:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let host = non_loopback_address().map_or_else(|| "192.0.2.1".to_string(), |ip| ip.to_string());
    let console = format!("http://{host}:{port}");
    let err = fetch::fetch(
        &FetchOptions {
            allow_http_loopback: true,
            ..FetchOptions::new(console.clone())
        },
        &token(),
    )
    .expect_err("refused")
    .to_string();
    assert!(err.contains("not loopback"), "{err}");
    // Through the binary, with and without the flag.
    for flag in [true, false] {
        let mut args = vec![
            "fetch-spec",
            "--console",
            &console,
            "--out",
            "/nonexistent/x",
        ];
        if flag {
            args.push("--allow-http-loopback");
        }
        let output = codegen(&args, Some(TOKEN));
        assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
        assert!(
            stderr(&output).contains("unencrypted"),
            "{}",
            stderr(&output)
        );
        assert!(!stderr(&output).contains(TOKEN));
    }
    // Loopback without the flag is refused too.
    let loopback = format!("http://127.0.0.1:{port}");
    let err = fetch::fetch(&FetchOptions::new(loopback), &token())
        .expect_err("refused")
        .to_string();
    assert!(err.contains("--allow-http-loopback"), "{err}");
    assert_eq!(connections(&listener), 0);
}

#[test]
fn a_failed_fetch_leaves_an_existing_file_as_it_was() {
    let (listener, addr) = loopback_listener();
    let _server = serve_once(listener, json_answer(b"not json"));
    let dir = TempDir::new("keep");
    let out = dir.0.join("c.json");
    std::fs::write(&out, b"previous").expect("write");
    assert!(fetch::fetch_to(&options(addr), &token(), &out).is_err());
    assert_eq!(std::fs::read(&out).expect("read"), b"previous");
    assert_eq!(dir.entries(), ["c.json"]);
}
