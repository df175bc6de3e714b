//! Which metric class a series name belongs to, for node-exporter's names and the common
//! application conventions. The monitor picks detector direction and thresholds by class, so a
//! wrong guess costs precision, not safety: unknown names are [`MetricClass::Other`].

use ooda_core::MetricClass;

/// node-exporter metrics worth watching by default: one or two per class, not the ~1000 series
/// a host exposes, so a default install watches what pages people and little else.
pub const NODE_EXPORTER_DEFAULT_METRICS: &[&str] = &[
    "node_cpu_seconds_total",
    "node_load1",
    "node_load5",
    "node_memory_MemAvailable_bytes",
    "node_memory_MemTotal_bytes",
    "node_memory_SwapFree_bytes",
    "node_filesystem_avail_bytes",
    "node_filesystem_files_free",
    "node_disk_io_time_seconds_total",
    "node_disk_read_bytes_total",
    "node_disk_written_bytes_total",
    "node_network_receive_bytes_total",
    "node_network_transmit_bytes_total",
    "node_network_receive_errs_total",
    "node_network_transmit_errs_total",
    "node_network_receive_drop_total",
    "node_procs_running",
    "node_procs_blocked",
    "node_filefd_allocated",
    "node_vmstat_oom_kill",
];

/// The class of a metric by name. Order matters: more specific patterns first.
pub fn class_of(name: &str) -> MetricClass {
    let n = name;
    let has = |needle: &str| n.contains(needle);
    if n.starts_with("node_cpu") || has("cpu_seconds") || has("cpu_usage") {
        return MetricClass::Cpu;
    }
    if n.starts_with("node_load") || has("load_average") {
        return MetricClass::Load;
    }
    if n.starts_with("node_memory_Swap") || has("swap") {
        return MetricClass::Swap;
    }
    if n.starts_with("node_memory") || has("memory_bytes") || has("resident_memory") {
        return MetricClass::Memory;
    }
    if n.starts_with("node_filesystem_files") || has("inodes") {
        return MetricClass::Inodes;
    }
    if n.starts_with("node_filesystem") {
        return MetricClass::Disk;
    }
    if n.starts_with("node_disk") {
        return MetricClass::DiskIo;
    }
    if n.starts_with("node_network") && (has("_drop") || has("_errs")) {
        return MetricClass::PacketLoss;
    }
    if n.starts_with("node_network") || n.starts_with("node_netstat") {
        return MetricClass::Network;
    }
    if n.starts_with("node_procs") || has("processes") || has("threads") {
        return MetricClass::Processes;
    }
    if n.starts_with("node_filefd") || has("open_fds") || has("file_descriptors") {
        return MetricClass::FileDescriptors;
    }
    if has("duration_seconds") || has("latency") || has("response_time") {
        return MetricClass::Latency;
    }
    if has("error") || has("fail") || n.ends_with("_errs_total") || has("oom_kill") {
        return MetricClass::Errors;
    }
    MetricClass::Other
}
