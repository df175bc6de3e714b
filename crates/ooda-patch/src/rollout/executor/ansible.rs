//! The local executor: `ansible-playbook` run by ooda itself, with the shipped apt/dnf patch and
//! rollback playbooks (embedded in the binary, written out at start) or allowlisted playbooks of
//! the operator's. Never a shell: argv only, variables as one JSON argument.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The shipped playbooks: template name → text.
pub const SHIPPED: [(&str, &str); 4] = [
    (
        "ooda-patch-apt",
        include_str!("../../../playbooks/patch-apt.yml"),
    ),
    (
        "ooda-rollback-apt",
        include_str!("../../../playbooks/rollback-apt.yml"),
    ),
    (
        "ooda-patch-dnf",
        include_str!("../../../playbooks/patch-dnf.yml"),
    ),
    (
        "ooda-rollback-dnf",
        include_str!("../../../playbooks/rollback-dnf.yml"),
    ),
];

/// How much output an error or result carries.
const TAIL: usize = 3000;

#[derive(Debug, thiserror::Error)]
pub enum AnsibleError {
    #[error("playbook template {template:?} is not on the allowlist (known: {known})")]
    UnknownTemplate { template: String, known: String },
    #[error("cannot run {program}: {source}")]
    Spawn {
        program: String,
        #[source]
        source: std::io::Error,
    },
    #[error("writing the shipped playbooks to {path}: {source}")]
    Write {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{template} on {host} still running after {secs} s: killed")]
    Timeout {
        template: String,
        host: String,
        secs: u64,
    },
    #[error("{template} on {host} failed (exit {code}):\n{tail}")]
    Failed {
        template: String,
        host: String,
        code: String,
        tail: String,
    },
}

/// `[executors.ansible]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AnsibleConfig {
    pub program: PathBuf,
    /// An inventory file; without one the host name itself is the inventory (`host,`).
    pub inventory: Option<PathBuf>,
    /// `-c`: `ssh` by default; `local` for the lab and tests.
    pub connection: Option<String>,
    /// `--check`: every playbook as a dry run (the shipped ones simulate the package change).
    pub check: bool,
    pub timeout_secs: u64,
    /// `ooda_state_dir` on the hosts, where the versions to roll back to are kept.
    pub state_dir: Option<String>,
    /// Operator playbooks allowed as templates: name → path.
    pub playbooks: BTreeMap<String, PathBuf>,
    /// Where the shipped playbooks are written (default: a directory under the system temp dir).
    pub work_dir: Option<PathBuf>,
}

impl Default for AnsibleConfig {
    fn default() -> Self {
        Self {
            program: PathBuf::from("ansible-playbook"),
            inventory: None,
            connection: None,
            check: false,
            timeout_secs: 1800,
            state_dir: None,
            playbooks: BTreeMap::new(),
            work_dir: None,
        }
    }
}

/// What a successful run printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlaybookRun {
    pub output_tail: String,
    pub reboot_required: bool,
}

#[derive(Debug)]
pub struct AnsibleExecutor {
    config: AnsibleConfig,
    playbooks: BTreeMap<String, PathBuf>,
}

impl AnsibleExecutor {
    /// Writes the shipped playbooks out and checks the operator's exist.
    pub fn new(config: AnsibleConfig) -> Result<Self, AnsibleError> {
        let dir = config.work_dir.clone().unwrap_or_else(|| {
            std::env::temp_dir().join(format!("ooda-playbooks-{}", std::process::id()))
        });
        let write_error = |path: &Path, source| AnsibleError::Write {
            path: path.display().to_string(),
            source,
        };
        std::fs::create_dir_all(&dir).map_err(|e| write_error(&dir, e))?;
        let mut playbooks = BTreeMap::new();
        for (name, text) in SHIPPED {
            let path = dir.join(format!("{name}.yml"));
            std::fs::write(&path, text).map_err(|e| write_error(&path, e))?;
            playbooks.insert(name.to_owned(), path);
        }
        for (name, path) in &config.playbooks {
            if !path.is_file() {
                return Err(write_error(
                    path,
                    std::io::Error::new(
                        std::io::ErrorKind::NotFound,
                        format!("playbook {name} not found"),
                    ),
                ));
            }
            playbooks.insert(name.clone(), path.clone());
        }
        Ok(Self { config, playbooks })
    }

    pub fn knows(&self, template: &str) -> bool {
        self.playbooks.contains_key(template)
    }

    /// Runs allowlisted playbook `template` against `host` with `vars`.
    pub fn run(
        &self,
        template: &str,
        host: &str,
        vars: &Value,
    ) -> Result<PlaybookRun, AnsibleError> {
        let playbook =
            self.playbooks
                .get(template)
                .ok_or_else(|| AnsibleError::UnknownTemplate {
                    template: template.to_owned(),
                    known: self
                        .playbooks
                        .keys()
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", "),
                })?;
        let mut vars = vars.clone();
        if let (Some(dir), Value::Object(map)) = (&self.config.state_dir, &mut vars) {
            map.insert("ooda_state_dir".into(), Value::String(dir.clone()));
        }
        let mut command = Command::new(&self.config.program);
        match &self.config.inventory {
            Some(inventory) => {
                command.arg("-i").arg(inventory).arg("--limit").arg(host);
            }
            None => {
                command.arg("-i").arg(format!("{host},"));
            }
        }
        if let Some(connection) = &self.config.connection {
            command.arg("-c").arg(connection);
        }
        if self.config.check {
            command.arg("--check");
        }
        command
            .arg("-e")
            .arg(vars.to_string())
            .arg(playbook)
            .env("ANSIBLE_NOCOLOR", "1")
            .env("ANSIBLE_RETRY_FILES_ENABLED", "0")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().map_err(|source| AnsibleError::Spawn {
            program: self.config.program.display().to_string(),
            source,
        })?;
        let drain = |pipe: Option<Box<dyn Read + Send>>| {
            std::thread::spawn(move || {
                let mut text = String::new();
                if let Some(mut pipe) = pipe {
                    let _ = pipe.read_to_string(&mut text);
                }
                text
            })
        };
        let stdout = drain(
            child
                .stdout
                .take()
                .map(|p| Box::new(p) as Box<dyn Read + Send>),
        );
        let stderr = drain(
            child
                .stderr
                .take()
                .map(|p| Box::new(p) as Box<dyn Read + Send>),
        );
        let deadline = Instant::now() + Duration::from_secs(self.config.timeout_secs);
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break Some(status),
                Ok(None) if Instant::now() >= deadline => {
                    let _ = child.kill();
                    let _ = child.wait();
                    break None;
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(50)),
                Err(_) => break None,
            }
        };
        let mut output = stdout.join().unwrap_or_default();
        output.push_str(&stderr.join().unwrap_or_default());
        let Some(status) = status else {
            return Err(AnsibleError::Timeout {
                template: template.to_owned(),
                host: host.to_owned(),
                secs: self.config.timeout_secs,
            });
        };
        let tail = tail(&output);
        if !status.success() {
            return Err(AnsibleError::Failed {
                template: template.to_owned(),
                host: host.to_owned(),
                code: status
                    .code()
                    .map_or("by signal".to_owned(), |c| c.to_string()),
                tail,
            });
        }
        Ok(PlaybookRun {
            reboot_required: output.contains("ooda_reboot_required=true"),
            output_tail: tail,
        })
    }
}

fn tail(text: &str) -> String {
    let start = text.char_indices().rev().nth(TAIL).map_or(0, |(i, _)| i);
    text[start..].trim().to_owned()
}
