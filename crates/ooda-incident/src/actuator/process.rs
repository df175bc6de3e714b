//! Acting on one process of this host, named `name:pid` by the host's own process table: a pid
//! alone could have been reused by another program since the diagnosis, so the name is checked
//! against `/proc/<pid>/comm` before anything is sent.
//!
//! Throttling caps the process's CPU with a cgroup quota (v2 `cpu.max`, or v1 `cpu.cfs_quota_us`)
//! and remembers where it came from, so the cap can be lifted; where no cgroup CPU controller is
//! writable it renices the process (which only helps when something else wants the CPU, and
//! verification then says so).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The `name:pid` target, checked against the kernel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub name: String,
    pub pid: i32,
}

/// Parses `name:pid` and checks that the pid still runs a program of that name.
pub fn target(proc_root: &Path, process: &str) -> Result<Target, String> {
    let (name, pid) = process
        .rsplit_once(':')
        .ok_or_else(|| format!("expected a process as name:pid, found {process:?}"))?;
    let pid: i32 = pid
        .parse()
        .ok()
        .filter(|p| *p > 1)
        .ok_or_else(|| format!("expected a process id above 1 after ':', found {pid:?}"))?;
    let comm = std::fs::read_to_string(proc_root.join(pid.to_string()).join("comm"))
        .map_err(|_| format!("process {pid} ({name}) is no longer running"))?;
    if comm.trim_end() != name {
        return Err(format!(
            "process {pid} is now {:?}, not {name:?}: the pid was reused; nothing done",
            comm.trim_end()
        ));
    }
    Ok(Target {
        name: name.to_owned(),
        pid,
    })
}

fn pid_of(target: &Target) -> Result<rustix::process::Pid, String> {
    rustix::process::Pid::from_raw(target.pid).ok_or_else(|| format!("invalid pid {}", target.pid))
}

/// SIGTERM, then SIGKILL if it is still there after `grace`.
pub fn kill(proc_root: &Path, target: &Target, grace: Duration) -> Result<String, String> {
    use rustix::process::{kill_process, Signal};
    let pid = pid_of(target)?;
    kill_process(pid, Signal::Term).map_err(|e| format!("SIGTERM {}: {e}", target.pid))?;
    let deadline = Instant::now() + grace;
    let alive =
        || proc_root.join(target.pid.to_string()).exists() && !zombie(proc_root, target.pid);
    while alive() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    if alive() {
        kill_process(pid, Signal::Kill).map_err(|e| format!("SIGKILL {}: {e}", target.pid))?;
        return Ok(format!(
            "killed {} (pid {}) with SIGKILL after SIGTERM was ignored for {} s",
            target.name,
            target.pid,
            grace.as_secs()
        ));
    }
    Ok(format!(
        "stopped {} (pid {}) with SIGTERM",
        target.name, target.pid
    ))
}

fn zombie(proc_root: &Path, pid: i32) -> bool {
    std::fs::read_to_string(proc_root.join(pid.to_string()).join("stat"))
        .ok()
        .and_then(|s| {
            s.rfind(')')
                .map(|i| s[i + 1..].trim_start().starts_with('Z'))
        })
        .unwrap_or(true)
}

/// Where CPU caps are made: a cgroup v2 root with the cpu controller, or the v1 cpu hierarchy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CpuControl {
    V2(PathBuf),
    V1(PathBuf),
    /// No writable cgroup CPU controller: renice.
    Nice,
}

impl CpuControl {
    /// What this host offers under `cgroup_root` (normally `/sys/fs/cgroup`).
    pub fn detect(cgroup_root: &Path) -> Self {
        let v2_candidates = [cgroup_root.to_path_buf(), cgroup_root.join("unified")];
        for root in v2_candidates {
            let controllers = std::fs::read_to_string(root.join("cgroup.controllers"));
            if controllers.is_ok_and(|c| c.split_whitespace().any(|w| w == "cpu")) {
                return CpuControl::V2(root);
            }
        }
        let v1 = cgroup_root.join("cpu");
        if v1.join("cpu.cfs_quota_us").exists() {
            return CpuControl::V1(v1);
        }
        CpuControl::Nice
    }

    fn group(&self, pid: i32) -> Option<PathBuf> {
        match self {
            CpuControl::V2(root) => Some(root.join("ooda.throttle").join(pid.to_string())),
            CpuControl::V1(root) => Some(root.join("ooda.throttle").join(pid.to_string())),
            CpuControl::Nice => None,
        }
    }

    /// Caps `target` to `percent` of one core; 0 lifts an earlier cap.
    pub fn throttle(&self, target: &Target, percent: u32) -> Result<String, String> {
        if percent == 0 {
            return self.lift(target);
        }
        let period: u64 = 100_000;
        let quota = period * u64::from(percent) / 100;
        let write = |path: PathBuf, value: &str| {
            std::fs::write(&path, value).map_err(|e| format!("{}: {e}", path.display()))
        };
        match (self, self.group(target.pid)) {
            (CpuControl::V2(root), Some(group)) => {
                // The controller must be handed down to the groups ooda makes.
                let parent = root.join("ooda.throttle");
                std::fs::create_dir_all(&group).map_err(|e| format!("{}: {e}", group.display()))?;
                let _ = write(root.join("cgroup.subtree_control"), "+cpu");
                let _ = write(parent.join("cgroup.subtree_control"), "+cpu");
                write(group.join("cpu.max"), &format!("{quota} {period}"))?;
                write(group.join("cgroup.procs"), &target.pid.to_string())?;
            }
            (CpuControl::V1(_), Some(group)) => {
                std::fs::create_dir_all(&group).map_err(|e| format!("{}: {e}", group.display()))?;
                write(group.join("cpu.cfs_period_us"), &period.to_string())?;
                write(group.join("cpu.cfs_quota_us"), &quota.to_string())?;
                write(group.join("cgroup.procs"), &target.pid.to_string())?;
            }
            _ => {
                let pid = pid_of(target)?;
                rustix::process::setpriority_process(Some(pid), 19)
                    .map_err(|e| format!("renice {}: {e}", target.pid))?;
                return Ok(format!(
                    "capped {} (pid {}) by renice to 19 (no writable cgroup CPU controller: it yields to other work but may still use an idle core)",
                    target.name, target.pid
                ));
            }
        }
        Ok(format!(
            "capped {} (pid {}) to {percent} % of a core",
            target.name, target.pid
        ))
    }

    /// Moves the process back to the top of the hierarchy and removes ooda's group.
    fn lift(&self, target: &Target) -> Result<String, String> {
        let (root, group) = match (self, self.group(target.pid)) {
            (CpuControl::V2(root) | CpuControl::V1(root), Some(group)) => (root.clone(), group),
            _ => {
                let pid = pid_of(target)?;
                rustix::process::setpriority_process(Some(pid), 0)
                    .map_err(|e| format!("renice {}: {e}", target.pid))?;
                return Ok(format!(
                    "lifted the cap on {} (pid {}): nice 0",
                    target.name, target.pid
                ));
            }
        };
        if group.exists() {
            std::fs::write(root.join("cgroup.procs"), target.pid.to_string())
                .map_err(|e| format!("{}: {e}", root.join("cgroup.procs").display()))?;
            std::fs::remove_dir(&group).map_err(|e| format!("{}: {e}", group.display()))?;
        }
        Ok(format!(
            "lifted the cap on {} (pid {})",
            target.name, target.pid
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_target_must_still_run_the_named_program() {
        let me = std::process::id();
        let comm = std::fs::read_to_string(format!("/proc/{me}/comm")).unwrap();
        let name = comm.trim_end();
        let ok = target(Path::new("/proc"), &format!("{name}:{me}")).unwrap();
        assert_eq!(ok.pid as u32, me);
        let reused = target(Path::new("/proc"), &format!("not-{name}:{me}")).unwrap_err();
        assert!(reused.contains("reused"), "{reused}");
        assert!(target(Path::new("/proc"), "sshd").is_err());
        assert!(target(Path::new("/proc"), "init:1").is_err());
        assert!(target(Path::new("/proc"), "x:-5").is_err());
    }

    #[test]
    fn a_spinning_child_is_capped_and_released() {
        let mut child = std::process::Command::new("sh")
            .args(["-c", "while :; do :; done"])
            .spawn()
            .unwrap();
        let pid = child.id();
        let t = target(Path::new("/proc"), &format!("sh:{pid}")).unwrap();
        let control = CpuControl::detect(Path::new("/sys/fs/cgroup"));
        let capped = control.throttle(&t, 10);
        let lifted = control.throttle(&t, 0);
        let stopped = kill(Path::new("/proc"), &t, Duration::from_secs(2));
        let _ = child.wait();
        let capped = capped.unwrap();
        assert!(capped.contains("capped"), "{capped}");
        assert!(lifted.unwrap().contains("lifted"));
        assert!(stopped.unwrap().contains("pid"));
    }
}
