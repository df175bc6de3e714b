//! `[[sources]] kind = "host"`: this host's /proc and /sys. Defaults live here, next to the knobs.

use std::path::PathBuf;
use std::time::Duration;

use ooda_core::value::Seconds;
use serde::Deserialize;

/// How often the host source reads /proc and /sys.
pub const HOST_INTERVAL: Duration = Duration::from_secs(10);

/// Filesystem types the host source ignores (virtual, pseudo or read-only image filesystems).
pub const IGNORED_FILESYSTEMS: &[&str] = &[
    "proc",
    "sysfs",
    "devtmpfs",
    "devpts",
    "tmpfs",
    "cgroup",
    "cgroup2",
    "pstore",
    "bpf",
    "tracefs",
    "debugfs",
    "securityfs",
    "configfs",
    "fusectl",
    "mqueue",
    "hugetlbfs",
    "autofs",
    "binfmt_misc",
    "nsfs",
    "overlay",
    "squashfs",
    "ramfs",
    "rpc_pipefs",
    "nfsd",
    "efivarfs",
    "selinuxfs",
];

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostSourceConfig {
    /// Unique source name (metrics and logs use it).
    #[serde(default = "default_host_source_name")]
    pub name: String,
    #[serde(default = "default_host_interval")]
    pub interval: Seconds,
    /// The `host` label on this host's series; defaults to the kernel's host name.
    #[serde(default)]
    pub host_label: Option<String>,
    /// Root of procfs (tests point it at a fixture).
    #[serde(default = "default_proc")]
    pub proc_path: PathBuf,
    /// Root of sysfs.
    #[serde(default = "default_sys")]
    pub sys_path: PathBuf,
    /// Filesystem types not reported (virtual filesystems by default).
    #[serde(default = "default_ignored_fs")]
    pub ignore_filesystems: Vec<String>,
    /// Block and network device name prefixes not reported (`loop`, `ram`, `lo` by default).
    #[serde(default = "default_ignored_devices")]
    pub ignore_devices: Vec<String>,
}

impl HostSourceConfig {
    /// The `host` label this host's series carry: the configured label, else the kernel's host
    /// name, else `localhost`.
    pub fn host_name(&self) -> String {
        self.host_label.clone().unwrap_or_else(|| {
            std::fs::read_to_string(self.proc_path.join("sys/kernel/hostname"))
                .map(|h| h.trim().to_owned())
                .ok()
                .filter(|h| !h.is_empty())
                .unwrap_or_else(|| "localhost".to_owned())
        })
    }
}

fn default_host_source_name() -> String {
    "host".to_owned()
}
fn default_host_interval() -> Seconds {
    Seconds(HOST_INTERVAL)
}
fn default_proc() -> PathBuf {
    PathBuf::from("/proc")
}
fn default_sys() -> PathBuf {
    PathBuf::from("/sys")
}
fn default_ignored_fs() -> Vec<String> {
    IGNORED_FILESYSTEMS
        .iter()
        .map(|s| (*s).to_owned())
        .collect()
}
fn default_ignored_devices() -> Vec<String> {
    ["loop", "ram", "zram", "lo"]
        .iter()
        .map(|s| (*s).to_owned())
        .collect()
}

impl Default for HostSourceConfig {
    fn default() -> Self {
        Self {
            name: default_host_source_name(),
            interval: default_host_interval(),
            host_label: None,
            proc_path: default_proc(),
            sys_path: default_sys(),
            ignore_filesystems: default_ignored_fs(),
            ignore_devices: default_ignored_devices(),
        }
    }
}
