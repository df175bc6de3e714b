//! Real servers for integration tests: each starts a Debian-packaged binary on a free loopback
//! port with a temporary data directory and kills it on drop. A missing binary fails the test
//! with the package to install (scripts/test installs them), never a silent skip.

#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A free loopback port. The listener is dropped before the server binds: a tiny race that a
/// retry in `start` absorbs.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("binding an ephemeral loopback port")
}

/// Finds a binary on PATH or fails the test saying which package provides it.
pub fn require_binary(name: &str, package: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        let candidate = dir.join(name);
        if candidate.is_file() {
            return candidate;
        }
    }
    panic!(
        "{name} is not installed: this integration test needs the Debian package {package} \
         (scripts/test installs it; by hand: apt-get install {package})"
    );
}

/// A running server; killed and reaped on drop.
pub struct Server {
    pub name: &'static str,
    pub port: u16,
    pub dir: tempfile::TempDir,
    child: Child,
}

impl Server {
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Starts `binary` with `args(port, dir)` and waits until `ready_path` answers 200. Tries
    /// three ports, since a probed port may be taken before the server binds it.
    pub fn start(
        name: &'static str,
        package: &str,
        args: impl Fn(u16, &Path) -> Vec<String>,
        ready_path: &str,
    ) -> Server {
        let binary = require_binary(name, package);
        let dir = tempfile::tempdir().expect("temp dir");
        let mut logs = String::new();
        for attempt in 0..3 {
            let port = free_port();
            let log_path = dir.path().join(format!("{name}.{attempt}.log"));
            let log = std::fs::File::create(&log_path).expect("log file");
            let log_err = log.try_clone().expect("log file");
            let mut child = Command::new(&binary)
                .args(args(port, dir.path()))
                .current_dir(dir.path())
                .stdin(Stdio::null())
                .stdout(log)
                .stderr(log_err)
                .spawn()
                .unwrap_or_else(|e| panic!("starting {name}: {e}"));
            if wait_ready(&mut child, port, ready_path) {
                return Server {
                    name,
                    port,
                    dir,
                    child,
                };
            }
            let _ = child.kill();
            let _ = child.wait();
            logs.push_str(&std::fs::read_to_string(&log_path).unwrap_or_default());
        }
        panic!("{name} did not become ready on three ports; its logs:\n{logs}");
    }

    /// The server's combined stdout and stderr so far (for assertion messages).
    pub fn log(&self) -> String {
        let mut out = String::new();
        if let Ok(entries) = std::fs::read_dir(self.dir.path()) {
            for entry in entries.flatten() {
                if entry.path().extension().is_some_and(|e| e == "log") {
                    out.push_str(&std::fs::read_to_string(entry.path()).unwrap_or_default());
                }
            }
        }
        out
    }
}

fn wait_ready(child: &mut Child, port: u16, path: &str) -> bool {
    // A generous deadline for readiness only; no test asserts how fast anything is.
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return false;
        }
        if http_status(port, path) == Some(200) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A minimal blocking GET returning the status code, so readiness needs no runtime.
pub fn http_status(port: u16, path: &str) -> Option<u16> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).ok()?;
    std::str::from_utf8(&head[9..12]).ok()?.parse().ok()
}

/// node-exporter with only cheap collectors, so a scrape is quick on a loaded CI machine.
pub fn node_exporter() -> Server {
    Server::start(
        "prometheus-node-exporter",
        "prometheus-node-exporter",
        |port, dir| {
            vec![
                format!("--web.listen-address=127.0.0.1:{port}"),
                "--collector.disable-defaults".into(),
                "--collector.cpu".into(),
                "--collector.meminfo".into(),
                "--collector.loadavg".into(),
                "--collector.filesystem".into(),
                "--collector.netdev".into(),
                "--collector.diskstats".into(),
                format!("--collector.textfile.directory={}", dir.display()),
            ]
        },
        "/metrics",
    )
}

/// Prometheus scraping `127.0.0.1:{target_port}` every second.
pub fn prometheus_scraping(target_port: u16) -> Server {
    Server::start(
        "prometheus",
        "prometheus",
        move |port, dir| {
            let config = dir.join("prometheus.yml");
            std::fs::write(
                &config,
                format!(
                    "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: node\n    static_configs:\n      - targets: ['127.0.0.1:{target_port}']\n"
                ),
            )
            .expect("prometheus config");
            vec![
                format!("--config.file={}", config.display()),
                format!("--web.listen-address=127.0.0.1:{port}"),
                format!("--storage.tsdb.path={}", dir.join("data").display()),
            ]
        },
        "/-/ready",
    )
}

/// Alertmanager (single node, no cluster) that sends every group to `webhook_url` within about a
/// second, resolved ones included; with no webhook, a receiver that sends nowhere.
pub fn alertmanager(webhook_url: Option<&str>) -> Server {
    let receiver = match webhook_url {
        Some(url) => format!(
            "  - name: hook\n    webhook_configs:\n      - url: '{url}'\n        send_resolved: true\n"
        ),
        None => "  - name: hook\n".to_owned(),
    };
    let config_text = format!(
        "route:\n  receiver: hook\n  group_by: ['alertname', 'host']\n  group_wait: 1s\n  group_interval: 1s\n  repeat_interval: 1h\nreceivers:\n{receiver}"
    );
    Server::start(
        "prometheus-alertmanager",
        "prometheus-alertmanager",
        move |port, dir| {
            let config = dir.join("alertmanager.yml");
            std::fs::write(&config, &config_text).expect("alertmanager config");
            vec![
                format!("--config.file={}", config.display()),
                format!("--web.listen-address=127.0.0.1:{port}"),
                format!("--storage.path={}", dir.join("data").display()),
                "--cluster.listen-address=".into(),
            ]
        },
        "/-/ready",
    )
}

/// Serves an axum router on a free loopback port for the life of the runtime; returns its base
/// URL. Vendor fakes replay documented response shapes through this.
pub async fn serve(router: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("binding a loopback port");
    let addr = listener.local_addr().expect("local addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    format!("http://{addr}")
}

/// Polls `probe` until it yields a value, for conditions that depend on a real server's own
/// schedule (a scrape interval, a group wait). The deadline is generous and only bounds a hang;
/// no test asserts how fast anything happens.
pub async fn eventually<T, F, Fut>(what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        if Instant::now() > deadline {
            panic!("gave up waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}
