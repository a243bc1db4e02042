//! Hostile archives, result names and interrupts (issue 10, cases 5 to 8):
//! what lands on disk when a console hands out archives that climb through
//! symbolic links, zip bombs, duplicate names, result files named like the
//! user's own files, and what `s1` leaves behind when it is interrupted.
//! Each case is checked through the library and end to end through `s1`
//! against a loopback console.
#![cfg(unix)]

use crate::support;

use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};

use chrono::{SecondsFormat, TimeDelta, Utc};
use httpmock::prelude::*;
use secrecy::SecretString;
use sentinelone::files::{self, ExtractLimits, FetchOptions, FetchRequest};
use sentinelone::scripts::{OutputDestination, ResultLink, ScriptRun};
use sentinelone::{Error, Polling};
use serde_json::json;
use zip::write::SimpleFileOptions;

const API: &str = "/web/api/v2.1";
const AGENT: &str = "1286438987267469377";
const UPLOAD: &str = "1900000000000000080";
const PASSWORD: &str = "Fetch-Files-2024!";
const MIB: u64 = 1024 * 1024;

// ------------------------------------------------------------------ helpers

/// One entry of a test archive.
enum Entry<'a> {
    File(&'a str, &'a [u8]),
    /// `len` zero bytes, deflated (a bomb when large).
    Zeros(&'a str, u64),
    Dir(&'a str),
    Symlink(&'a str, &'a str),
}

/// A zip of `entries`, files ZipCrypto-encrypted with [`PASSWORD`].
fn zip_of(entries: &[Entry]) -> Vec<u8> {
    use zip::unstable::write::FileOptionsExt;
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let plain = SimpleFileOptions::default();
    let sealed = || {
        SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .with_deprecated_encryption(PASSWORD.as_bytes())
            .unwrap()
    };
    for entry in entries {
        match entry {
            Entry::File(name, content) => {
                writer.start_file(*name, sealed()).unwrap();
                writer.write_all(content).unwrap();
            }
            Entry::Zeros(name, len) => {
                writer.start_file(*name, sealed()).unwrap();
                let chunk = vec![0u8; MIB as usize];
                let mut left = *len;
                while left > 0 {
                    let n = left.min(MIB);
                    writer.write_all(&chunk[..n as usize]).unwrap();
                    left -= n;
                }
            }
            Entry::Dir(name) => writer.add_directory(*name, plain).unwrap(),
            Entry::Symlink(name, target) => writer.add_symlink(*name, *target, plain).unwrap(),
        }
    }
    writer.finish().unwrap().into_inner()
}

/// A work area: `dir/archive.zip` holding `entries`, the target
/// `dir/target`, and `dir/outside` holding `keep.txt`.
struct Area {
    dir: tempfile::TempDir,
}

impl Area {
    fn new(entries: &[Entry]) -> Area {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("archive.zip"), zip_of(entries)).unwrap();
        std::fs::create_dir(dir.path().join("outside")).unwrap();
        std::fs::write(dir.path().join("outside/keep.txt"), b"keep").unwrap();
        Area { dir }
    }

    fn zip(&self) -> PathBuf {
        self.dir.path().join("archive.zip")
    }

    fn target(&self) -> PathBuf {
        self.dir.path().join("target")
    }

    fn outside(&self) -> PathBuf {
        self.dir.path().join("outside")
    }

    /// `target/sub -> ../outside`.
    fn link_sub_to_outside(&self) {
        std::fs::create_dir(self.target()).unwrap();
        std::os::unix::fs::symlink("../outside", self.target().join("sub")).unwrap();
    }

    async fn extract(&self, limits: ExtractLimits) -> Result<Vec<PathBuf>, Error> {
        let password = SecretString::from(PASSWORD);
        files::extract_with(&self.zip(), &password, &self.target(), limits).await
    }

    /// `outside` holds only `keep.txt`, as it was.
    fn assert_outside_untouched(&self) {
        assert_eq!(names_in(&self.outside()), ["keep.txt"]);
        assert_eq!(
            std::fs::read(self.outside().join("keep.txt")).unwrap(),
            b"keep"
        );
    }
}

/// Names in `dir`, sorted (empty when `dir` does not exist).
fn names_in(dir: &Path) -> Vec<String> {
    let Ok(read) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut names: Vec<String> = read
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn archive_message(result: Result<impl std::fmt::Debug, Error>) -> String {
    match result {
        Err(Error::Archive { message, .. }) => message,
        other => panic!("expected Error::Archive, got {other:?}"),
    }
}

fn iso_in_a_minute() -> String {
    (Utc::now() + TimeDelta::minutes(1)).to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// A console whose agent [`AGENT`] uploads `zip` for any fetch-files
/// request.
async fn console_uploading(zip: Vec<u8>) -> MockServer {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(POST)
                .path(format!("{API}/agents/{AGENT}/actions/fetch-files"));
            then.status(200)
                .json_body(json!({ "data": { "success": true } }));
        })
        .await;
    let upload = json!({
        "id": UPLOAD,
        "activityType": 80,
        "agentId": AGENT,
        "threatId": null,
        "createdAt": iso_in_a_minute(),
        "primaryDescription": "files uploaded",
        "data": { "downloadUrl": format!("/agents/{AGENT}/uploads/{UPLOAD}") },
    });
    server
        .mock_async(|when, then| {
            when.method(GET).path(format!("{API}/activities"));
            then.status(200)
                .json_body(json!({ "data": [upload], "pagination": { "nextCursor": null } }));
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(GET)
                .path(format!("{API}/agents/{AGENT}/uploads/{UPLOAD}"));
            then.status(200)
                .header("content-type", "application/zip")
                .body(zip);
        })
        .await;
    server
}

// ------------------------------------------------- 5. symlinks on the way

#[tokio::test]
async fn an_existing_symlink_in_the_target_is_never_written_through() {
    let area = Area::new(&[Entry::File("sub/pwn.txt", b"pwned")]);
    area.link_sub_to_outside();

    let message = archive_message(area.extract(ExtractLimits::default()).await);

    assert!(message.contains("\"sub/pwn.txt\""), "{message}");
    assert!(message.contains("is a symbolic link"), "{message}");
    area.assert_outside_untouched();
    // Only the user's link: no staging directory, no file.
    assert_eq!(names_in(&area.target()), ["sub"]);
}

#[tokio::test]
async fn a_deeper_symlink_and_one_at_the_last_component_are_refused_too() {
    let area = Area::new(&[
        Entry::File("a/b/pwn.txt", b"pwned"),
        Entry::File("keep.txt", b"pwned"),
    ]);
    std::fs::create_dir_all(area.target().join("a")).unwrap();
    std::os::unix::fs::symlink("../../outside", area.target().join("a/b")).unwrap();

    let message = archive_message(area.extract(ExtractLimits::default()).await);
    assert!(message.contains("\"a/b/pwn.txt\""), "{message}");
    assert!(message.contains("symbolic link"), "{message}");

    // A link where the file itself goes (even a dangling one) is not
    // followed either.
    std::fs::remove_file(area.target().join("a/b")).unwrap();
    std::os::unix::fs::symlink("../outside/new.txt", area.target().join("keep.txt")).unwrap();
    let message = archive_message(area.extract(ExtractLimits::default()).await);
    assert!(message.contains("\"keep.txt\""), "{message}");
    assert!(message.contains("already exists"), "{message}");
    area.assert_outside_untouched();
    assert_eq!(names_in(&area.target()), ["a", "keep.txt"]);
    assert!(names_in(&area.target().join("a")).is_empty());
}

#[tokio::test]
async fn a_symlink_the_archive_brings_is_refused_before_anything_is_written() {
    let area = Area::new(&[
        Entry::Symlink("sub", "../outside"),
        Entry::File("sub/pwn.txt", b"pwned"),
    ]);

    let message = archive_message(area.extract(ExtractLimits::default()).await);

    assert!(
        message.contains("symbolic links are not extracted"),
        "{message}"
    );
    area.assert_outside_untouched();
    assert!(!area.target().exists());
}

#[tokio::test]
async fn fetch_refuses_to_extract_through_a_symlink() {
    let zip = zip_of(&[
        Entry::File("ok.txt", b"fine"),
        Entry::File("sub/pwn.txt", b"pwned"),
    ]);
    let console = console_uploading(zip).await;
    let area = Area::new(&[]);
    area.link_sub_to_outside();
    let options = FetchOptions::new(area.dir.path().join("fetched.zip"))
        .extract_into(area.target())
        .polling(Polling::every(
            std::time::Duration::from_millis(20),
            std::time::Duration::from_secs(5),
        ));
    let request = FetchRequest::new(["/tmp/pwn.txt"], PASSWORD);

    let result = support::facade_client(&console)
        .files()
        .fetch(AGENT, &request, &options)
        .await;

    let message = archive_message(result);
    assert!(message.contains("\"sub/pwn.txt\""), "{message}");
    area.assert_outside_untouched();
    // Nothing of the archive either, not even the harmless entry.
    assert_eq!(names_in(&area.target()), ["sub"]);
}

// ------------------------------------------------------------- 6. zip bombs

#[test]
fn the_default_limits_fit_fetched_files() {
    let limits = ExtractLimits::default();
    assert_eq!(limits.max_total_bytes, 256 * MIB);
    assert_eq!(limits.max_entry_bytes, 256 * MIB);
    assert_eq!(limits.max_entries, 10_000);
    assert_eq!(FetchOptions::new("f.zip").extract_limits, limits);
}

#[tokio::test]
async fn a_bomb_stops_at_the_entry_limit_and_leaves_nothing() {
    let area = Area::new(&[
        Entry::File("a.txt", b"fine"),
        Entry::Zeros("bomb.bin", 8 * MIB),
    ]);
    assert!(std::fs::metadata(area.zip()).unwrap().len() < 64 * 1024);

    let limits = ExtractLimits::default().max_entry_bytes(MIB);
    let message = archive_message(area.extract(limits).await);

    assert!(message.contains("\"bomb.bin\""), "{message}");
    assert!(
        message.contains(&format!("limit of {MIB} bytes per entry")),
        "{message}"
    );
    assert!(message.contains("max_entry_bytes"), "{message}");
    assert!(!area.target().exists(), "{:?}", names_in(&area.target()));
}

#[tokio::test]
async fn many_entries_stop_at_the_total_limit_and_leave_nothing() {
    let area = Area::new(&[
        Entry::Zeros("one.bin", 600 * 1024),
        Entry::Zeros("two.bin", 600 * 1024),
    ]);
    std::fs::create_dir(area.target()).unwrap();

    let limits = ExtractLimits::default().max_total_bytes(MIB);
    let message = archive_message(area.extract(limits).await);

    assert!(
        message.contains(&format!("limit of {MIB} bytes in all")),
        "{message}"
    );
    assert!(message.contains("max_total_bytes"), "{message}");
    assert!(message.contains("\"two.bin\""), "{message}");
    assert!(
        names_in(&area.target()).is_empty(),
        "{:?}",
        names_in(&area.target())
    );
}

#[tokio::test]
async fn too_many_entries_are_refused_before_anything_is_written() {
    let area = Area::new(&[
        Entry::File("1.txt", b"1"),
        Entry::File("2.txt", b"2"),
        Entry::File("3.txt", b"3"),
    ]);

    let message = archive_message(area.extract(ExtractLimits::default().max_entries(2)).await);

    assert!(message.contains("3 entries"), "{message}");
    assert!(message.contains("limit of 2"), "{message}");
    assert!(message.contains("max_entries"), "{message}");
    assert!(!area.target().exists());
    // Within the limits the same archive unpacks.
    let written = area
        .extract(ExtractLimits::default().max_entries(3))
        .await
        .unwrap();
    assert_eq!(written.len(), 3);
}

#[tokio::test]
async fn two_entries_of_one_name_are_reported() {
    let area = Area::new(&[
        Entry::File("a.txt", b"first"),
        Entry::File("./a.txt", b"second"),
    ]);

    let message = archive_message(area.extract(ExtractLimits::default()).await);

    assert!(message.contains("\"./a.txt\""), "{message}");
    assert!(message.contains("more than once"), "{message}");
    assert!(!area.target().exists());
}

#[tokio::test]
async fn harmless_current_directory_entries_are_extracted() {
    let area = Area::new(&[
        Entry::Dir("./"),
        Entry::File("./b.txt", b"bee"),
        Entry::Dir("d/"),
        Entry::File("d/./c.txt", b"sea"),
    ]);

    let written = area.extract(ExtractLimits::default()).await.unwrap();

    assert_eq!(
        written,
        [area.target().join("b.txt"), area.target().join("d/c.txt")]
    );
    assert_eq!(std::fs::read(area.target().join("b.txt")).unwrap(), b"bee");
    assert_eq!(
        std::fs::read(area.target().join("d/c.txt")).unwrap(),
        b"sea"
    );
    assert_eq!(names_in(&area.target()), ["b.txt", "d"]);
}

// ------------------------------------------------------------ 7. overwrites

/// A console handing out one script result named `name`, served from
/// `/results/1` with `content`.
async fn console_with_result(name: &str, content: &'static str) -> MockServer {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(POST)
                .path(format!("{API}/remote-scripts/execute"));
            then.status(200).json_body(json!({
                "data": { "parentTaskId": "1818000000000000001", "affected": 1, "pending": false }
            }));
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(GET)
                .path(format!("{API}/remote-scripts/status"));
            then.status(200).json_body(json!({
                "data": [{
                    "id": "1819000000000000001",
                    "agentId": "501",
                    "agentComputerName": "pc1",
                    "parentTaskId": "1818000000000000001",
                    "status": "completed",
                    "type": "script_execution"
                }],
                "pagination": { "nextCursor": null, "totalItems": 1 }
            }));
        })
        .await;
    let link = json!({ "data": { "download_links": [{
        "taskId": "1819000000000000001",
        "fileName": name,
        "downloadUrl": server.url("/results/1"),
    }] } });
    server
        .mock_async(|when, then| {
            when.method(POST)
                .path(format!("{API}/remote-scripts/fetch-files"));
            then.status(200).json_body(link);
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/results/1");
            then.status(200).body(content);
        })
        .await;
    server
}

/// `root/out/report.txt` holds the user's report; `root` is the out
/// directory's parent.
fn users_report() -> (tempfile::TempDir, PathBuf) {
    let root = tempfile::tempdir().unwrap();
    let out = root.path().join("out");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("report.txt"), b"the user's own report").unwrap();
    (root, out)
}

fn assert_report_kept(root: &Path, out: &Path) {
    assert_eq!(
        std::fs::read(out.join("report.txt")).unwrap(),
        b"the user's own report"
    );
    assert_eq!(names_in(out), ["report.txt"], "no temporary file left");
    assert_eq!(names_in(root), ["out"], "nothing outside the out directory");
}

fn already_exists(result: Result<impl std::fmt::Debug, Error>, path: &Path) {
    match result {
        Err(Error::Io {
            path: named,
            source,
        }) => {
            assert_eq!(named, path);
            assert_eq!(source.kind(), std::io::ErrorKind::AlreadyExists);
            let shown = Error::Io {
                path: named,
                source,
            }
            .to_string();
            assert!(shown.contains("already exists"), "{shown}");
        }
        other => panic!(
            "expected Error::Io naming {}, got {other:?}",
            path.display()
        ),
    }
}

fn script_run() -> ScriptRun {
    ScriptRun::new(
        "1234567890123456789",
        "collect",
        OutputDestination::SentinelCloud,
    )
    .agent_ids(["501"])
    .polling(Polling::every(
        std::time::Duration::from_millis(20),
        std::time::Duration::from_secs(5),
    ))
}

#[tokio::test]
async fn a_script_result_never_replaces_the_users_file() {
    let console = console_with_result("../../report.txt", "hostile").await;
    let (root, out) = users_report();
    let client = support::facade_client(&console);

    let result = client.scripts().run_and_collect(&script_run(), &out).await;

    already_exists(result, &out.join("report.txt"));
    assert_report_kept(root.path(), &out);

    // Asked for, it is replaced.
    let collected = client
        .scripts()
        .run_and_collect(&script_run().overwrite(true), &out)
        .await
        .unwrap();
    assert_eq!(collected.files[0].path, out.join("report.txt"));
    assert_eq!(std::fs::read(out.join("report.txt")).unwrap(), b"hostile");
}

#[tokio::test]
async fn downloads_and_saved_answers_never_replace_a_file_unless_asked() {
    let console = console_with_result("report.txt", "hostile").await;
    let (root, out) = users_report();
    let client = support::facade_client(&console);
    let link = ResultLink {
        task_id: None,
        file_name: Some("report.txt".into()),
        download_url: console.url("/results/1"),
    };

    let result = client
        .scripts()
        .download_results(&[link], &out, false)
        .await;
    already_exists(result, &out.join("report.txt"));

    let request = client
        .request(reqwest::Method::GET, "/results/1")
        .build()
        .unwrap();
    let response = client.execute(request, "results").await.unwrap();
    let result = client
        .downloads()
        .save(response, "results", &out.join("report.txt"), false)
        .await;
    already_exists(result, &out.join("report.txt"));
    assert_report_kept(root.path(), &out);
}

#[tokio::test]
async fn fetch_keeps_an_existing_archive_unless_asked() {
    let zip = zip_of(&[Entry::File("a.txt", b"fetched")]);
    let console = console_uploading(zip.clone()).await;
    let (root, out) = users_report();
    let dest = out.join("report.txt");
    let request = FetchRequest::new(["/tmp/a.txt"], PASSWORD);
    let options = FetchOptions::new(&dest);
    let client = support::facade_client(&console);

    already_exists(client.files().fetch(AGENT, &request, &options).await, &dest);
    assert_report_kept(root.path(), &out);

    client
        .files()
        .fetch(AGENT, &request, &options.overwrite(true))
        .await
        .unwrap();
    assert_eq!(std::fs::read(&dest).unwrap(), zip);
}

// ----------------------------------------------- end to end through `s1`

#[cfg(feature = "cli")]
mod s1 {
    use super::*;

    use std::process::{Child, Command, Stdio};
    use std::time::{Duration, Instant};

    use sentinelone::sim::SimConsole;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    /// What one run of `s1` did.
    struct Run {
        code: Option<i32>,
        stderr: String,
    }

    /// `s1` pointed at `console` (a loopback URL) with the test token.
    fn s1(console: &str) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_s1"));
        cmd.env("S1_CONSOLE_URL", console)
            .env("S1_API_TOKEN", support::TOKEN)
            .env("S1_ARCHIVE_PASSWORD", PASSWORD)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd
    }

    /// Waits for `child` (at most 30 s) without blocking the runtime the
    /// loopback console runs on.
    async fn finish(mut child: Child) -> Run {
        let deadline = Instant::now() + Duration::from_secs(30);
        while child.try_wait().unwrap().is_none() {
            if Instant::now() > deadline {
                child.kill().unwrap();
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let output = child.wait_with_output().unwrap();
        Run {
            code: output.status.code(),
            stderr: String::from_utf8(output.stderr).unwrap(),
        }
    }

    async fn run(console: &str, args: &[&str]) -> Run {
        finish(s1(console).args(args).spawn().unwrap()).await
    }

    fn path(p: &Path) -> &str {
        p.to_str().unwrap()
    }

    fn collect_args<'a>(zip: &'a str, into: &'a str) -> Vec<&'a str> {
        vec![
            "files",
            "collect",
            "--agent-id",
            AGENT,
            "--path",
            "/tmp/pwn.txt",
            "--out",
            zip,
            "--extract",
            into,
            "--poll-every",
            "0.05",
        ]
    }

    #[tokio::test]
    async fn files_collect_refuses_a_symlink_in_the_extract_dir() {
        let zip = zip_of(&[Entry::File("sub/pwn.txt", b"pwned")]);
        let console = console_uploading(zip).await;
        let area = Area::new(&[]);
        area.link_sub_to_outside();
        let dest = area.dir.path().join("fetched.zip");

        let out = run(
            &console.base_url(),
            &collect_args(path(&dest), path(&area.target())),
        )
        .await;

        assert_eq!(out.code, Some(5), "{}", out.stderr);
        assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
        assert!(
            out.stderr.contains("\"sub/pwn.txt\" refused"),
            "{}",
            out.stderr
        );
        assert!(out.stderr.contains("is a symbolic link"), "{}", out.stderr);
        area.assert_outside_untouched();
        assert_eq!(names_in(&area.target()), ["sub"]);
    }

    #[tokio::test]
    async fn files_collect_stops_a_bomb_at_the_given_limit() {
        let zip = zip_of(&[Entry::Zeros("bomb.bin", 8 * MIB)]);
        let console = console_uploading(zip).await;
        let area = Area::new(&[]);
        let dest = area.dir.path().join("fetched.zip");
        let target = area.target();
        let mut args = collect_args(path(&dest), path(&target));
        args.extend(["--max-extract-bytes", "1048576"]);

        let out = run(&console.base_url(), &args).await;

        assert_eq!(out.code, Some(5), "{}", out.stderr);
        assert!(out.stderr.contains("\"bomb.bin\""), "{}", out.stderr);
        assert!(
            out.stderr.contains("limit of 1048576 bytes"),
            "{}",
            out.stderr
        );
        assert!(!area.target().exists());
    }

    #[tokio::test]
    async fn scripts_run_keeps_the_users_file_unless_told_to_overwrite() {
        let console = console_with_result("../../report.txt", "hostile").await;
        let (root, out) = users_report();
        let args = [
            "scripts",
            "run",
            "--script-id",
            "1234567890123456789",
            "--description",
            "collect",
            "--agent-id",
            "501",
            "--poll-every",
            "0.05",
            "--out",
            path(&out),
        ];

        let refused = run(&console.base_url(), &args).await;

        assert_eq!(refused.code, Some(5), "{}", refused.stderr);
        let report = out.join("report.txt");
        assert!(refused.stderr.contains(path(&report)), "{}", refused.stderr);
        assert!(
            refused.stderr.contains("already exists"),
            "{}",
            refused.stderr
        );
        assert_report_kept(root.path(), &out);

        let mut overwrite = args.to_vec();
        overwrite.push("--overwrite");
        let replaced = run(&console.base_url(), &overwrite).await;
        assert_eq!(replaced.code, Some(0), "{}", replaced.stderr);
        assert_eq!(std::fs::read(&report).unwrap(), b"hostile");
    }

    #[tokio::test]
    async fn api_output_keeps_an_existing_file_unless_told_to_overwrite() {
        let zip = zip_of(&[Entry::File("a.txt", b"fetched")]);
        let console = console_uploading(zip.clone()).await;
        let (root, out) = users_report();
        let report = out.join("report.txt");
        let args = [
            "api",
            "download_agent_upload",
            "--agent_id",
            AGENT,
            "--activity_id",
            UPLOAD,
            "--out",
            path(&report),
        ];

        let refused = run(&console.base_url(), &args).await;

        assert_eq!(refused.code, Some(5), "{}", refused.stderr);
        assert!(refused.stderr.contains(path(&report)), "{}", refused.stderr);
        assert_report_kept(root.path(), &out);

        let mut overwrite = args.to_vec();
        overwrite.push("--overwrite");
        let replaced = run(&console.base_url(), &overwrite).await;
        assert_eq!(replaced.code, Some(0), "{}", replaced.stderr);
        assert_eq!(std::fs::read(&report).unwrap(), zip);
    }

    // ------------------------------------------------------ 8. interrupts

    fn signal(child: &Child, name: &str) {
        let status = Command::new("kill")
            .args([format!("-{name}"), child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Whether a `.s1-download-*.part` file is in `dir`.
    fn has_part_file(dir: &Path) -> bool {
        names_in(dir)
            .iter()
            .any(|n| n.starts_with(".s1-download-") && n.ends_with(".part"))
    }

    /// A console that answers every request with the head of a 10 MB file,
    /// 64 KiB of it, then stalls (until the test ends).
    async fn stalling_download() -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            loop {
                let Ok((mut socket, _)) = listener.accept().await else {
                    return;
                };
                tokio::spawn(async move {
                    let mut head = [0u8; 4096];
                    let _ = socket.read(&mut head).await;
                    let reply = "HTTP/1.1 200 OK\r\ncontent-type: application/zip\r\ncontent-length: 10000000\r\n\r\n";
                    let _ = socket.write_all(reply.as_bytes()).await;
                    let _ = socket.write_all(&[7u8; 64 * 1024]).await;
                    tokio::time::sleep(Duration::from_secs(60)).await;
                });
            }
        });
        url
    }

    async fn interrupted_download_leaves_nothing(signal_name: &str, code: i32) {
        let console = stalling_download().await;
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("upload.zip");
        let child = s1(&console)
            .args([
                "api",
                "download_agent_upload",
                "--agent_id",
                AGENT,
                "--activity_id",
                UPLOAD,
                "--out",
                path(&dest),
            ])
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        while !has_part_file(dir.path()) {
            assert!(Instant::now() < deadline, "the download never started");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }

        signal(&child, signal_name);
        let out = finish(child).await;

        assert_eq!(out.code, Some(code), "{}", out.stderr);
        assert!(
            out.stderr.contains(&format!("SIG{signal_name}")),
            "{}",
            out.stderr
        );
        assert!(
            names_in(dir.path()).is_empty(),
            "{:?}",
            names_in(dir.path())
        );
    }

    #[tokio::test]
    async fn sigint_during_a_download_removes_the_part_file_and_exits_130() {
        interrupted_download_leaves_nothing("INT", 130).await;
    }

    #[tokio::test]
    async fn sigterm_during_a_download_removes_the_part_file_and_exits_143() {
        interrupted_download_leaves_nothing("TERM", 143).await;
    }

    #[tokio::test]
    async fn sigint_during_a_dv_query_cancels_it_on_the_console() {
        let console = SimConsole::builder()
            .dv_duration(Duration::from_secs(60))
            .start()
            .await;
        let child = s1(&console.url())
            .env("S1_API_TOKEN", console.token())
            .args([
                "dv",
                "query",
                "--query",
                "AgentName IS NOT EMPTY",
                "--poll-every",
                "0.1",
            ])
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        while console.counters().requests("GET", "/dv/query-status") == 0 {
            assert!(Instant::now() < deadline, "the query never started");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }

        signal(&child, "INT");
        let out = finish(child).await;

        assert_eq!(out.code, Some(130), "{}", out.stderr);
        assert!(out.stderr.contains("SIGINT"), "{}", out.stderr);
        let counters = console.counters();
        assert_eq!(counters.requests("POST", "/dv/init-query"), 1);
        assert_eq!(counters.requests("POST", "/dv/cancel-query"), 1);
        // The console knew the id: the query it started is the one cancelled.
        assert_eq!(counters.cancelled_queries.len(), 1, "{counters:?}");
    }
}
