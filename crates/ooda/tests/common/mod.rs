//! Shared helpers for tests that start the real binary.
#![allow(dead_code)] // each test file uses a different subset

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_ooda");

pub struct Agent {
    pub child: Child,
    pub base: String,
}

impl Agent {
    pub fn start(data_dir: &Path) -> Agent {
        Self::start_with(data_dir, &[])
    }

    pub fn start_with(data_dir: &Path, extra: &[&str]) -> Agent {
        Self::start_listening(data_dir, "127.0.0.1:0", extra)
    }

    /// On a chosen address (when another server must know it before the agent starts).
    pub fn start_listening(data_dir: &Path, listen: &str, extra: &[&str]) -> Agent {
        let mut child = Command::new(BIN)
            .args(["up", "--listen", listen, "--log-format", "json"])
            .args(extra)
            .arg("--data-dir")
            .arg(data_dir)
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("ooda starts");
        let stdout = child.stdout.take().expect("stdout is piped");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("ooda prints its URL");
        let base = line
            .trim()
            .strip_prefix("ooda listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_owned();
        Agent { child, base }
    }

    pub fn get(&self, path: &str) -> (u16, String) {
        let resp = reqwest::blocking::get(format!("{}{path}", self.base)).expect("request");
        let code = resp.status().as_u16();
        (code, resp.text().expect("body"))
    }

    pub fn status(&self) -> serde_json::Value {
        let (code, body) = self.get("/api/v1/status");
        assert_eq!(code, 200, "{body}");
        serde_json::from_str(&body).expect("status is JSON")
    }

    /// Polls until `check` holds (the agent works in real time; no fixed sleeps).
    pub fn wait_for(
        &self,
        what: &str,
        check: impl Fn(&serde_json::Value) -> bool,
    ) -> serde_json::Value {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let status = self.status();
            if check(&status) {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}: {status}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn signal(&self, signal: &str) {
        let ok = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("kill runs")
            .success();
        assert!(ok, "kill -{signal} failed");
    }

    pub fn wait_exit(&mut self, limit: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls `check` until it answers, failing after `limit`. The limit bounds a hang only; nothing
/// asserts how fast it happens.
pub fn wait_until<T>(what: &str, limit: Duration, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// POSTs `body` as JSON; the status and the response text.
pub fn post_json(url: &str, body: &serde_json::Value) -> (u16, String) {
    let resp = reqwest::blocking::Client::new()
        .post(url)
        .json(body)
        .send()
        .expect("request");
    (resp.status().as_u16(), resp.text().unwrap_or_default())
}
