//! Every default in one place, so the example config, the docs and the code cannot drift.

use std::time::Duration;

/// Where the HTTP API listens when neither the config nor `--listen` says otherwise.
pub const LISTEN: &str = "127.0.0.1:9677";

/// How often the host source reads /proc and /sys.
pub const HOST_INTERVAL: Duration = Duration::from_secs(10);

/// Longest a graceful shutdown may take before the process exits anyway.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

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
