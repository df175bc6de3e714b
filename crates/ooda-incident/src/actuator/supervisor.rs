//! A small built-in service supervisor for hosts whose PID 1 is not systemd (containers, these
//! build machines): ooda starts each configured command, starts it again when it exits (with a
//! back-off), and restarts it on request. `restart_service` reaches it through the Gate like any
//! other actuator; it never runs anything that is not in its configuration.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One supervised service: its name (what runbooks call `${service}`) and its argv.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceSpec {
    pub name: String,
    pub argv: Vec<String>,
}

#[derive(Debug)]
struct Running {
    spec: ServiceSpec,
    child: Option<Child>,
    restarts: u32,
    /// Not before this may a crashed service be started again.
    next_start: Instant,
}

/// The supervisor. Dropping the last handle stops every service.
#[derive(Debug)]
pub struct Supervisor {
    services: Mutex<BTreeMap<String, Running>>,
    stop: AtomicBool,
    proc_root: PathBuf,
}

fn spawn(spec: &ServiceSpec) -> Result<Child, String> {
    let (program, args) = spec
        .argv
        .split_first()
        .ok_or_else(|| format!("service {}: empty command", spec.name))?;
    Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("service {}: {program}: {e}", spec.name))
}

fn stop_child(child: &mut Child, grace: Duration) {
    if let Some(pid) = i32::try_from(child.id())
        .ok()
        .and_then(rustix::process::Pid::from_raw)
    {
        let _ = rustix::process::kill_process(pid, rustix::process::Signal::Term);
    }
    let deadline = Instant::now() + grace;
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
}

impl Supervisor {
    /// Starts every service and a watcher thread that starts crashed ones again.
    pub fn start(specs: Vec<ServiceSpec>) -> Arc<Self> {
        let mut services = BTreeMap::new();
        for spec in specs {
            let child = match spawn(&spec) {
                Ok(child) => Some(child),
                Err(error) => {
                    tracing::error!(service = %spec.name, %error, "supervised service did not start");
                    None
                }
            };
            services.insert(
                spec.name.clone(),
                Running {
                    spec,
                    child,
                    restarts: 0,
                    next_start: Instant::now(),
                },
            );
        }
        let supervisor = Arc::new(Self {
            services: Mutex::new(services),
            stop: AtomicBool::new(false),
            proc_root: PathBuf::from("/proc"),
        });
        let weak = Arc::downgrade(&supervisor);
        std::thread::spawn(move || loop {
            std::thread::sleep(Duration::from_millis(250));
            let Some(s) = weak.upgrade() else { return };
            if s.stop.load(Ordering::SeqCst) {
                return;
            }
            s.watch_once();
        });
        supervisor
    }

    fn watch_once(&self) {
        let Ok(mut services) = self.services.lock() else {
            return;
        };
        for running in services.values_mut() {
            let exited = match running.child.as_mut().map(Child::try_wait) {
                Some(Ok(None)) => false,
                Some(Ok(Some(status))) => {
                    tracing::warn!(service = %running.spec.name, %status, "supervised service exited; starting it again");
                    true
                }
                Some(Err(_)) | None => true,
            };
            if !exited || Instant::now() < running.next_start {
                continue;
            }
            running.restarts = running.restarts.saturating_add(1);
            // 1 s, 2 s, 4 s … up to a minute between starts of a crashing service.
            let backoff =
                Duration::from_secs(1 << running.restarts.min(6)).min(Duration::from_secs(60));
            running.next_start = Instant::now() + backoff;
            running.child = spawn(&running.spec)
                .map_err(|error| tracing::error!(service = %running.spec.name, %error, "supervised service did not start"))
                .ok();
        }
    }

    /// The names of the supervised services.
    pub fn names(&self) -> Vec<String> {
        self.services
            .lock()
            .map(|s| s.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// The current pid of `service`, if it runs.
    pub fn pid(&self, service: &str) -> Option<u32> {
        self.services
            .lock()
            .ok()?
            .get(service)?
            .child
            .as_ref()
            .map(Child::id)
    }

    /// The supervised service `pid` belongs to: its main process or one of its descendants.
    pub fn owner(&self, pid: u32) -> Option<String> {
        let mains: BTreeMap<u32, String> = self
            .services
            .lock()
            .ok()?
            .iter()
            .filter_map(|(name, r)| Some((r.child.as_ref()?.id(), name.clone())))
            .collect();
        let mut current = pid;
        for _ in 0..64 {
            if let Some(name) = mains.get(&current) {
                return Some(name.clone());
            }
            current = parent(&self.proc_root, current)?;
            if current <= 1 {
                return None;
            }
        }
        None
    }

    /// Stops `service` (SIGTERM, SIGKILL after 10 s) and starts it again.
    pub fn restart(&self, service: &str) -> Result<String, String> {
        let mut services = self
            .services
            .lock()
            .map_err(|_| "supervisor state poisoned".to_owned())?;
        let running = services
            .get_mut(service)
            .ok_or_else(|| format!("{service} is not a supervised service"))?;
        let old = running.child.as_ref().map(Child::id);
        if let Some(child) = running.child.as_mut() {
            stop_child(child, Duration::from_secs(10));
        }
        let child = spawn(&running.spec)?;
        let new = child.id();
        running.child = Some(child);
        running.next_start = Instant::now();
        Ok(format!(
            "restarted {service}: pid {} -> {new}",
            old.map_or("-".to_owned(), |p| p.to_string())
        ))
    }

    /// Stops every service (the agent is shutting down).
    pub fn stop_all(&self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Ok(mut services) = self.services.lock() {
            for running in services.values_mut() {
                if let Some(child) = running.child.as_mut() {
                    stop_child(child, Duration::from_secs(2));
                }
            }
        }
    }
}

impl Drop for Supervisor {
    fn drop(&mut self) {
        self.stop_all();
    }
}

fn parent(proc_root: &Path, pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(proc_root.join(pid.to_string()).join("stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_service_is_restarted_on_request_and_after_it_dies() {
        let s = Supervisor::start(vec![ServiceSpec {
            name: "sleeper".into(),
            argv: vec!["sleep".into(), "300".into()],
        }]);
        let first = s.pid("sleeper").unwrap();
        assert_eq!(s.owner(first).as_deref(), Some("sleeper"));
        let said = s.restart("sleeper").unwrap();
        let second = s.pid("sleeper").unwrap();
        assert_ne!(first, second, "{said}");
        assert!(s.restart("nope").is_err());
        // Killed from outside: the watcher starts it again.
        let pid = rustix::process::Pid::from_raw(second as i32).unwrap();
        rustix::process::kill_process(pid, rustix::process::Signal::Kill).unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while s.pid("sleeper") == Some(second) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        assert_ne!(s.pid("sleeper"), Some(second));
        s.stop_all();
    }
}
