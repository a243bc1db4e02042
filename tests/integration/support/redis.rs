//! A real Redis for the quota store tests: the server `.ci/run` starts on
//! loopback (`S1_TEST_REDIS_URL`), and private `redis-server` processes for
//! the tests that stop one. With `S1_REQUIRE_REDIS` set (as `.ci/run` does)
//! a missing server is a failure; otherwise the tests say why they skip.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Fails or skips (with the reason on stderr) when Redis is not there.
fn missing(what: &str) -> Option<String> {
    if std::env::var_os("S1_REQUIRE_REDIS").is_some() {
        panic!("{what}, but S1_REQUIRE_REDIS is set");
    }
    eprintln!("skipped: {what} (set S1_TEST_REDIS_URL, as .ci/run does)");
    None
}

/// The shared test server's URL, if there is one.
pub fn redis_url() -> Option<String> {
    match std::env::var("S1_TEST_REDIS_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => missing("S1_TEST_REDIS_URL is not set"),
    }
}

/// A key prefix no other test (or earlier run) uses.
pub fn unique_prefix(test: &str) -> String {
    format!("s1test:{test}:{:016x}", fastrand::u64(..))
}

/// Every key below `prefix`, with its value and time to live (ms).
pub async fn keys(url: &str, prefix: &str) -> Vec<(String, String, i64)> {
    let client = redis::Client::open(url).expect("a Redis URL");
    let mut connection = client
        .get_multiplexed_async_connection()
        .await
        .expect("Redis answers");
    let names: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}*"))
        .query_async(&mut connection)
        .await
        .expect("KEYS");
    let mut found = Vec::new();
    for name in names {
        let value: String = redis::cmd("GET")
            .arg(&name)
            .query_async(&mut connection)
            .await
            .expect("GET");
        let ttl: i64 = redis::cmd("PTTL")
            .arg(&name)
            .query_async(&mut connection)
            .await
            .expect("PTTL");
        found.push((name, value, ttl));
    }
    found
}

/// A `redis-server` of this test's own on a free loopback port, stopped
/// when dropped.
pub struct RedisProcess {
    pub port: u16,
    child: Child,
}

impl RedisProcess {
    /// Starts one, or says why not (no `redis-server` on the PATH).
    pub fn start() -> Option<RedisProcess> {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        RedisProcess::start_on(port)
    }

    /// Starts one on `port` (again, after [`RedisProcess::stop`]).
    pub fn start_on(port: u16) -> Option<RedisProcess> {
        let binary = std::env::var_os("PATH")
            .into_iter()
            .flat_map(|path| std::env::split_paths(&path).collect::<Vec<PathBuf>>())
            .map(|dir| dir.join("redis-server"))
            .find(|candidate| candidate.is_file());
        let Some(binary) = binary else {
            return missing("there is no redis-server on the PATH").and(None);
        };
        let child = Command::new(binary)
            .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server starts");
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "redis-server did not listen on {port}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(RedisProcess { port, child })
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    /// Kills the server (as a crash would) and waits for it to be gone.
    pub fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for RedisProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
