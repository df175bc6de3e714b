//! Shared helpers for tests that start the real binary.
#![allow(dead_code)] // each test file uses a different subset

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
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

/// A small ext4 filesystem on a loop device, unmounted on drop.
pub struct LoopFs {
    pub mount: PathBuf,
}

impl LoopFs {
    pub fn new(dir: &Path, megabytes: u64) -> LoopFs {
        let image = dir.join("fs.img");
        let mount = dir.join("mnt");
        std::fs::create_dir_all(&mount).unwrap();
        let file = std::fs::File::create(&image).unwrap();
        file.set_len(megabytes * 1024 * 1024).unwrap();
        run("mkfs.ext4", &["-q", "-F", image.to_str().unwrap()]);
        run(
            "mount",
            &[
                "-o",
                "loop",
                image.to_str().unwrap(),
                mount.to_str().unwrap(),
            ],
        );
        LoopFs { mount }
    }

    /// Fills the filesystem to about `percent` % used (of what df reports as the total).
    pub fn fill_to(&self, percent: f64) {
        let stat = rustix::fs::statvfs(&self.mount).unwrap();
        let total = stat.f_blocks * stat.f_frsize;
        let avail = stat.f_bavail * stat.f_frsize;
        let used = total - avail;
        let want = (total as f64 * percent / 100.0) as u64;
        let extra = want.saturating_sub(used);
        std::fs::write(self.mount.join("ballast"), vec![0u8; extra as usize]).unwrap();
        // Only this filesystem: a global sync can take seconds on a busy machine.
        run("sync", &["-f", self.mount.to_str().unwrap()]);
    }

    pub fn free(&self) {
        let _ = std::fs::remove_file(self.mount.join("ballast"));
        run("sync", &["-f", self.mount.to_str().unwrap()]);
    }
}

impl Drop for LoopFs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.mount).status();
    }
}

pub fn run(program: &str, args: &[&str]) {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?} failed (this test needs root for a loop mount): {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs an `ooda` command on `data` and returns its standard output; fails the test, with both
/// outputs, when the command fails.
pub fn ooda_out(args: &[&str], data: &Path) -> String {
    let out = Command::new(BIN)
        .args(args)
        .arg("--data-dir")
        .arg(data)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "ooda {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn json_lines(args: &[&str], data: &Path) -> Vec<serde_json::Value> {
    let text = ooda_out(args, data);
    let text = text.trim();
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(serde_json::Value::Array(items)) => items,
        Ok(one) => vec![one],
        // JSON lines.
        Err(_) => text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect(),
    }
}
