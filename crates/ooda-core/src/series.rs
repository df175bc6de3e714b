//! Series identity and samples. Labels are identity, as in Prometheus: two samples belong to the
//! same series exactly when their metric name and label sets are equal.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// A sorted label set. Sorted storage makes equality, hashing and printing canonical.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Labels(BTreeMap<String, String>);

impl Labels {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.0.insert(name.into(), value.into());
        self
    }

    pub fn insert(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.0.insert(name.into(), value.into());
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for Labels {
    fn from_iter<T: IntoIterator<Item = (K, V)>>(iter: T) -> Self {
        Self(
            iter.into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }
}

/// The identity of one series: metric name plus labels.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct SeriesKey {
    pub metric: String,
    pub labels: Labels,
}

impl SeriesKey {
    pub fn new(metric: impl Into<String>, labels: Labels) -> Self {
        Self {
            metric: metric.into(),
            labels,
        }
    }

    /// The host this series belongs to (the `host` label), if any.
    pub fn host(&self) -> Option<&str> {
        self.labels.get("host")
    }
}

/// Prints the Prometheus selector form: `metric{a="1",b="2"}`.
impl fmt::Display for SeriesKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.metric)?;
        if self.labels.is_empty() {
            return Ok(());
        }
        f.write_str("{")?;
        for (i, (k, v)) in self.labels.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{k}=\"")?;
            for c in v.chars() {
                match c {
                    '\\' => f.write_str("\\\\")?,
                    '"' => f.write_str("\\\"")?,
                    '\n' => f.write_str("\\n")?,
                    c => write!(f, "{c}")?,
                }
            }
            f.write_str("\"")?;
        }
        f.write_str("}")
    }
}

/// One observation of one series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    pub series: SeriesKey,
    /// Unix time in milliseconds.
    pub time_ms: i64,
    pub value: f64,
}

/// What kind of quantity a series measures. Detectors pick thresholds and direction by class
/// (free disk only alarms low, latency only high).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MetricClass {
    Cpu,
    Load,
    Memory,
    Swap,
    Disk,
    DiskIo,
    Inodes,
    Network,
    PacketLoss,
    Errors,
    Latency,
    Processes,
    FileDescriptors,
    Other,
}

impl MetricClass {
    pub const ALL: [MetricClass; 14] = [
        MetricClass::Cpu,
        MetricClass::Load,
        MetricClass::Memory,
        MetricClass::Swap,
        MetricClass::Disk,
        MetricClass::DiskIo,
        MetricClass::Inodes,
        MetricClass::Network,
        MetricClass::PacketLoss,
        MetricClass::Errors,
        MetricClass::Latency,
        MetricClass::Processes,
        MetricClass::FileDescriptors,
        MetricClass::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MetricClass::Cpu => "cpu",
            MetricClass::Load => "load",
            MetricClass::Memory => "memory",
            MetricClass::Swap => "swap",
            MetricClass::Disk => "disk",
            MetricClass::DiskIo => "disk_io",
            MetricClass::Inodes => "inodes",
            MetricClass::Network => "network",
            MetricClass::PacketLoss => "packet_loss",
            MetricClass::Errors => "errors",
            MetricClass::Latency => "latency",
            MetricClass::Processes => "processes",
            MetricClass::FileDescriptors => "file_descriptors",
            MetricClass::Other => "other",
        }
    }
}

impl fmt::Display for MetricClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_canonical() {
        let a = Labels::new().with("b", "2").with("a", "1");
        let b: Labels = [("a", "1"), ("b", "2")].into_iter().collect();
        assert_eq!(a, b);
        let key = SeriesKey::new("up", a);
        assert_eq!(key.to_string(), r#"up{a="1",b="2"}"#);
    }

    #[test]
    fn display_escapes_values() {
        let key = SeriesKey::new("m", Labels::new().with("path", "a\"b\\c"));
        assert_eq!(key.to_string(), r#"m{path="a\"b\\c"}"#);
    }
}
