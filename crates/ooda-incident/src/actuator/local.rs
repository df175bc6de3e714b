use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::process::{self, CpuControl};
use super::supervisor::Supervisor;

use ooda_core::{Action, ActionKind};
use ooda_govern::{Actuator, ActuatorError, ActuatorStatus, ExecutionToken};

/// One allowlisted command: the argv template for an action kind. `{service}`, `{process}`,
/// `{template}` and `{playbook_dir}` are replaced inside single argv elements, never joined into a
/// shell line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandSpec {
    pub kind: ActionKind,
    pub argv: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct LocalConfig {
    /// Directories whose *contents* `clean_path` may delete (the directory itself stays).
    pub clean_allowlist: Vec<PathBuf>,
    pub commands: Vec<CommandSpec>,
    /// Where approved playbooks live; `run_template` runs `<dir>/<template>.yml` only if it exists.
    pub playbook_dir: Option<PathBuf>,
    pub timeout: Duration,
    /// Captured stdout+stderr kept per action, in bytes.
    pub max_output: usize,
    /// The one host this actuator acts on (this agent's own). A request naming any other host
    /// is refused: other hosts are reached through ansible or AWX with the inventory's name.
    pub host: Option<String>,
    /// Where processes are looked up (`/proc`).
    pub proc_root: PathBuf,
    /// How CPU caps are applied here.
    pub cpu_control: CpuControl,
    /// Services ooda itself supervises; `restart_service` goes to it first.
    pub supervisor: Option<Arc<Supervisor>>,
    /// Command names `throttle_process` and `kill_process` may touch (`name*` = prefix);
    /// empty, none.
    pub process_allowlist: Vec<String>,
}

impl Default for LocalConfig {
    fn default() -> Self {
        Self {
            clean_allowlist: Vec::new(),
            commands: Vec::new(),
            playbook_dir: None,
            timeout: Duration::from_secs(120),
            max_output: 16 * 1024,
            host: None,
            proc_root: PathBuf::from("/proc"),
            cpu_control: CpuControl::Nice,
            supervisor: None,
            process_allowlist: Vec::new(),
        }
    }
}

impl LocalConfig {
    /// `restart_service` → `systemctl restart <unit>`.
    pub fn with_systemd(mut self) -> Self {
        self.commands.push(CommandSpec {
            kind: ActionKind::RestartService,
            argv: vec!["systemctl".into(), "restart".into(), "{service}".into()],
        });
        self
    }

    /// `run_template` → `ansible-playbook -i localhost, -c local <dir>/<template>.yml`.
    pub fn with_ansible(mut self, playbook_dir: PathBuf) -> Self {
        self.playbook_dir = Some(playbook_dir);
        self.commands.push(CommandSpec {
            kind: ActionKind::RunTemplate,
            argv: [
                "ansible-playbook",
                "-i",
                "localhost,",
                "-c",
                "local",
                "{playbook_dir}/{template}.yml",
            ]
            .map(String::from)
            .to_vec(),
        });
        self
    }
}

/// Runs allowlisted local commands and path clean-ups.
#[derive(Debug)]
pub struct LocalActuator {
    config: LocalConfig,
    /// Idempotency key → (succeeded, captured output).
    done: Mutex<BTreeMap<String, (bool, String)>>,
}

impl LocalActuator {
    pub fn new(config: LocalConfig) -> Self {
        Self {
            config,
            done: Mutex::new(BTreeMap::new()),
        }
    }

    /// Runs `action` (already authorised). Public inside the crate for tests of the mechanics;
    /// the only public entry is [`Actuator::execute`], which needs the Gate's token.
    pub(crate) fn run(&self, action: &Action) -> Result<String, String> {
        match action {
            Action::CleanPath { path } => self.clean(Path::new(path)),
            Action::KillProcess { process } => {
                let target = process::target(&self.config.proc_root, process)?;
                self.process_allowed(&target)?;
                process::kill(&self.config.proc_root, &target, Duration::from_secs(10))
            }
            Action::ThrottleProcess {
                process,
                cpu_percent,
            } => {
                let target = process::target(&self.config.proc_root, process)?;
                self.process_allowed(&target)?;
                self.config.cpu_control.throttle(&target, *cpu_percent)
            }
            Action::RestartService { service }
                if self
                    .config
                    .supervisor
                    .as_ref()
                    .is_some_and(|s| s.names().contains(service)) =>
            {
                match &self.config.supervisor {
                    Some(supervisor) => supervisor.restart(service),
                    None => Err(format!("{service} is not supervised")),
                }
            }
            other => self.command(other),
        }
    }

    /// Least privilege for processes: only names the operator listed.
    fn process_allowed(&self, target: &process::Target) -> Result<(), String> {
        let allowed =
            self.config
                .process_allowlist
                .iter()
                .any(|pattern| match pattern.strip_suffix('*') {
                    Some(prefix) => target.name.starts_with(prefix),
                    None => *pattern == target.name,
                });
        if allowed {
            Ok(())
        } else {
            Err(format!(
                "{} (pid {}) is not on incident.actuator.process_allowlist; nothing done",
                target.name, target.pid
            ))
        }
    }

    /// Refuses a request for another host than this agent's own.
    fn check_host(&self, request: &ooda_core::ActionRequest) -> Result<(), String> {
        match &self.config.host {
            Some(own) if *own != request.host.name => Err(format!(
                "the local actuator acts only on this agent's host {own:?}, not on {:?}: other hosts need ansible or AWX",
                request.host.name
            )),
            _ => Ok(()),
        }
    }

    fn clean(&self, path: &Path) -> Result<String, String> {
        let target = path
            .canonicalize()
            .map_err(|e| format!("{}: {e}", path.display()))?;
        let allowed = self.config.clean_allowlist.iter().any(|root| {
            root.canonicalize()
                .is_ok_and(|root| target.starts_with(&root) && root.parent().is_some())
        });
        if !allowed {
            return Err(format!(
                "{} is not under an allowlisted clean-up path",
                target.display()
            ));
        }
        let mut removed = 0u64;
        let mut bytes = 0u64;
        let entries =
            std::fs::read_dir(&target).map_err(|e| format!("{}: {e}", target.display()))?;
        for entry in entries {
            let entry = entry.map_err(|e| format!("{}: {e}", target.display()))?;
            let entry_path = entry.path();
            // symlink_metadata: a link is removed as a link, never followed out of the root.
            let meta = std::fs::symlink_metadata(&entry_path)
                .map_err(|e| format!("{}: {e}", entry_path.display()))?;
            let result = if meta.is_dir() {
                bytes += dir_size(&entry_path);
                std::fs::remove_dir_all(&entry_path)
            } else {
                bytes += meta.len();
                std::fs::remove_file(&entry_path)
            };
            result.map_err(|e| format!("{}: {e}", entry_path.display()))?;
            removed += 1;
        }
        Ok(format!(
            "removed {removed} entries ({bytes} bytes) from {}",
            target.display()
        ))
    }

    fn argv(&self, action: &Action) -> Result<Vec<String>, String> {
        let kind = action.kind();
        let spec = self
            .config
            .commands
            .iter()
            .find(|c| c.kind == kind)
            .ok_or_else(|| format!("no allowlisted local command for {kind}"))?;
        let mut values: BTreeMap<&str, String> = BTreeMap::new();
        match action {
            Action::RestartService { service } | Action::RotateLogs { service } => {
                values.insert("service", safe_word(service)?);
            }
            Action::KillProcess { process } => {
                values.insert("process", safe_word(process)?);
            }
            Action::RunTemplate { template } => {
                let dir = self
                    .config
                    .playbook_dir
                    .as_ref()
                    .ok_or("no playbook directory configured")?;
                let template = safe_word(template)?;
                let playbook = dir.join(format!("{template}.yml"));
                if !playbook.is_file() {
                    return Err(format!(
                        "{} is not an approved playbook",
                        playbook.display()
                    ));
                }
                values.insert("template", template);
                values.insert("playbook_dir", dir.display().to_string());
            }
            _ => {}
        }
        let mut argv = Vec::with_capacity(spec.argv.len());
        for part in &spec.argv {
            let mut out = part.clone();
            for (name, value) in &values {
                out = out.replace(&format!("{{{name}}}"), value);
            }
            if out.contains('{') {
                return Err(format!("{kind}: argv element {part:?} has no value"));
            }
            argv.push(out);
        }
        Ok(argv)
    }

    fn command(&self, action: &Action) -> Result<String, String> {
        let argv = self.argv(action)?;
        let (program, args) = argv.split_first().ok_or("empty argv")?;
        let mut child = Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("{program}: {e}"))?;
        let limit = self.config.max_output;
        let readers: Vec<_> = [
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
        ]
        .into_iter()
        .flatten()
        .map(|stream| std::thread::spawn(move || read_bounded(stream, limit)))
        .collect();
        let deadline = Instant::now() + self.config.timeout;
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break Ok(status),
                Ok(None) if Instant::now() >= deadline => {
                    let _ = child.kill();
                    let _ = child.wait();
                    break Err(format!(
                        "{program}: killed after the {} s timeout",
                        self.config.timeout.as_secs()
                    ));
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(20)),
                Err(e) => break Err(format!("{program}: {e}")),
            }
        };
        let mut output = String::new();
        for reader in readers {
            output.push_str(&reader.join().unwrap_or_default());
        }
        truncate(&mut output, limit);
        let status = status?;
        if status.success() {
            Ok(format!("{}: ok\n{output}", argv.join(" ")))
        } else {
            Err(format!("{}: {status}\n{output}", argv.join(" ")))
        }
    }
}

/// A parameter that goes into one argv element: no option injection, no path tricks.
fn safe_word(value: &str) -> Result<String, String> {
    let ok = !value.is_empty()
        && !value.starts_with('-')
        && !value.contains("..")
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "@._:-".contains(c));
    if ok {
        Ok(value.to_owned())
    } else {
        Err(format!(
            "expected a unit, process or template name ([A-Za-z0-9@._:-], not starting with '-'), found {value:?}"
        ))
    }
}

fn read_bounded(mut stream: Box<dyn Read + Send>, limit: usize) -> String {
    let mut kept = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            // Keep reading past the limit so the child never blocks on a full pipe.
            Ok(n) => {
                let room = limit.saturating_sub(kept.len());
                kept.extend_from_slice(&buf[..n.min(room)]);
            }
        }
    }
    String::from_utf8_lossy(&kept).into_owned()
}

fn truncate(text: &mut String, limit: usize) {
    if text.len() > limit {
        let mut cut = limit;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push_str("\n[output truncated]");
    }
}

/// Bytes under `path`, links not followed (what a clean-up of it would free).
pub fn dir_size(path: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(path) else {
        return 0;
    };
    entries
        .filter_map(|e| e.ok())
        .map(|e| match std::fs::symlink_metadata(e.path()) {
            Ok(m) if m.is_dir() => dir_size(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

impl Actuator for LocalActuator {
    fn execute(&self, token: ExecutionToken) -> Result<String, ActuatorError> {
        let key = token.idempotency_key().to_owned();
        if let Some((ok, output)) = self.done.lock().ok().and_then(|d| d.get(&key).cloned()) {
            // Already ran: report the recorded result, never run twice.
            return if ok {
                Ok(output)
            } else {
                Err(ActuatorError(output))
            };
        }
        let request = token.request();
        let result = self
            .check_host(request)
            .and_then(|()| self.run(&request.action));
        let (ok, output) = match &result {
            Ok(out) => (true, out.clone()),
            Err(err) => (false, err.clone()),
        };
        if let Ok(mut done) = self.done.lock() {
            done.insert(key, (ok, output));
        }
        result.map_err(ActuatorError)
    }

    fn status(&self, key: &str) -> ActuatorStatus {
        match self.done.lock().ok().and_then(|d| d.get(key).cloned()) {
            Some((succeeded, detail)) => ActuatorStatus::Done { succeeded, detail },
            // Not in this process' record: it may have run before a restart.
            None => ActuatorStatus::Unknown,
        }
    }
}
