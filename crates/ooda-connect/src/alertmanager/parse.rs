//! Alertmanager's shapes: the webhook payload (version 4) it posts to receivers, the v2 API's
//! postable and gettable alerts, and silences with their matchers.
//!
//! Never trusts a payload: unknown fields are ignored, missing ones defaulted, bad dates and
//! versions refused with what was expected.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use ooda_core::{Alert, AlertId, AlertKind, AlertState, Severity, Timestamp};
use serde::{Deserialize, Serialize};

use super::AlertmanagerError;

/// The label that marks alerts ooda took in from Alertmanager, so it never pushes them back.
pub const SOURCE_LABEL: &str = "ooda_source";
/// The label carrying ooda's fingerprint on pushed alerts.
pub const FINGERPRINT_LABEL: &str = "ooda_fingerprint";

/// `POST` body Alertmanager sends to a webhook receiver.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookPayload {
    pub version: String,
    #[serde(default)]
    pub group_key: String,
    #[serde(default)]
    pub truncated_alerts: u64,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub receiver: String,
    #[serde(default)]
    pub group_labels: BTreeMap<String, String>,
    #[serde(default)]
    pub common_labels: BTreeMap<String, String>,
    #[serde(default)]
    pub common_annotations: BTreeMap<String, String>,
    #[serde(rename = "externalURL", default)]
    pub external_url: String,
    #[serde(default)]
    pub alerts: Vec<WebhookAlert>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookAlert {
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    pub starts_at: String,
    #[serde(default)]
    pub ends_at: String,
    #[serde(rename = "generatorURL", default)]
    pub generator_url: String,
    #[serde(default)]
    pub fingerprint: String,
}

fn time(text: &str, field: &str) -> Result<Timestamp, AlertmanagerError> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| {
            AlertmanagerError::Payload(format!(
                "expected an RFC 3339 time in {field}, found {text:?}"
            ))
        })
}

/// A stable id from a fingerprint (FNV-1a, two seeds): the same Alertmanager alert becomes the
/// same ooda alert id in every process, so redelivered webhooks stay idempotent.
fn stable_id(key: &str) -> AlertId {
    let fnv = |seed: u64| {
        key.bytes().fold(seed, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
        })
    };
    let hi = fnv(0xcbf2_9ce4_8422_2325);
    let lo = fnv(0x8422_2325_cbf2_9ce4);
    AlertId::from_u128((u128::from(hi) << 64) | u128::from(lo))
}

/// `severity` label conventions to ooda's three levels; unknown or missing is a warning, so an
/// external alert is never silently downgraded to info.
pub fn severity_of(labels: &BTreeMap<String, String>) -> Severity {
    match labels
        .get("severity")
        .map(|s| s.to_ascii_lowercase())
        .as_deref()
    {
        Some("critical" | "page" | "error" | "high" | "emergency" | "p1" | "fatal") => {
            Severity::Critical
        }
        Some("info" | "informational" | "none" | "low" | "debug") => Severity::Info,
        _ => Severity::Warning,
    }
}

fn host_of(labels: &BTreeMap<String, String>) -> Option<String> {
    if let Some(host) = labels.get("host").filter(|h| !h.is_empty()) {
        return Some(host.clone());
    }
    let instance = labels.get("instance").filter(|i| !i.is_empty())?;
    if let Some(rest) = instance.strip_prefix('[') {
        return rest.split(']').next().map(str::to_owned);
    }
    Some(match instance.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') && port.bytes().all(|b| b.is_ascii_digit()) => {
            host.to_owned()
        }
        _ => instance.clone(),
    })
}

/// Reads a webhook body into ooda alerts (kind External). `now` stamps `updated_at` of firing
/// alerts (Alertmanager sends no update time).
pub fn webhook(body: &[u8], now: Timestamp) -> Result<Vec<Alert>, AlertmanagerError> {
    let payload: WebhookPayload = serde_json::from_slice(body).map_err(|e| {
        AlertmanagerError::Payload(format!("expected an Alertmanager webhook JSON body: {e}"))
    })?;
    if payload.version != "4" {
        return Err(AlertmanagerError::Payload(format!(
            "expected webhook payload version \"4\", found {:?}",
            payload.version
        )));
    }
    let mut out = Vec::with_capacity(payload.alerts.len());
    for item in payload.alerts {
        // ooda's own pushed alerts come back through a webhook route that matches them: they
        // are already ooda's alerts, never new ones (an echo would open a duplicate incident).
        if item.labels.contains_key(FINGERPRINT_LABEL) {
            continue;
        }
        let opened_at = time(&item.starts_at, "startsAt")?;
        let resolved = item.status == "resolved";
        let ends_at = if item.ends_at.is_empty() {
            None
        } else {
            time(&item.ends_at, "endsAt").ok()
        };
        let key = if item.fingerprint.is_empty() {
            // Older senders: the label set is the identity.
            item.labels
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(",")
        } else {
            item.fingerprint.clone()
        };
        let fingerprint = format!("alertmanager:{key}");
        let alertname = item.labels.get("alertname").cloned().unwrap_or_default();
        let summary = item
            .annotations
            .get("summary")
            .or_else(|| item.annotations.get("description"))
            .or_else(|| item.annotations.get("message"))
            .cloned()
            .unwrap_or_else(|| {
                if alertname.is_empty() {
                    "Alertmanager alert".into()
                } else {
                    alertname.clone()
                }
            });
        let mut labels = item.labels.clone();
        labels.insert(SOURCE_LABEL.into(), "alertmanager".into());
        labels.insert("alertmanager_receiver".into(), payload.receiver.clone());
        if !item.generator_url.is_empty() {
            labels.insert("generator_url".into(), item.generator_url.clone());
        }
        out.push(Alert {
            id: stable_id(&fingerprint),
            fingerprint,
            host: host_of(&item.labels),
            kind: AlertKind::External,
            severity: severity_of(&item.labels),
            state: if resolved {
                AlertState::Resolved
            } else {
                AlertState::Firing
            },
            summary,
            probable_cause: item
                .annotations
                .get("description")
                .filter(|d| Some(*d) != item.annotations.get("summary"))
                .cloned(),
            members: Vec::new(),
            labels,
            opened_at,
            updated_at: match (resolved, ends_at) {
                (true, Some(end)) => end,
                _ => now,
            },
            enrichment: Vec::new(),
        });
    }
    Ok(out)
}

/// One alert as `POST /api/v2/alerts` takes it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PostableAlert {
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub starts_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ends_at: Option<String>,
    #[serde(rename = "generatorURL", skip_serializing_if = "String::is_empty")]
    pub generator_url: String,
}

/// Alertmanager label names are `[a-zA-Z_][a-zA-Z0-9_]*`; anything else becomes `_`.
fn label_name(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.is_empty() || out.as_bytes()[0].is_ascii_digit() {
        out.insert(0, '_');
    }
    out
}

/// The labels ooda puts on an alert it pushes, and matches silences against: the same function
/// for both, so a silence written for a pushed alert holds it back in ooda too.
pub fn labels_of(alert: &Alert) -> BTreeMap<String, String> {
    let mut labels: BTreeMap<String, String> = alert
        .labels
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| (label_name(k), v.clone()))
        .collect();
    labels
        .entry("alertname".into())
        .or_insert_with(|| format!("ooda_{}", alert.kind.as_str()));
    if let Some(host) = &alert.host {
        labels.insert("host".into(), host.clone());
    }
    labels.insert("severity".into(), alert.severity.as_str().into());
    labels.insert(FINGERPRINT_LABEL.into(), alert.fingerprint.clone());
    labels
}

fn rfc3339(t: Timestamp) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// An ooda alert in Alertmanager's terms. Firing alerts carry no `endsAt` (Alertmanager applies
/// its `resolve_timeout`, so the caller re-pushes open alerts more often than that); resolved
/// ones end at their update time.
pub fn postable(alert: &Alert, generator_url: Option<&str>) -> PostableAlert {
    let mut annotations = BTreeMap::from([
        ("summary".to_string(), alert.summary.clone()),
        ("ooda_alert_id".to_string(), alert.id.to_string()),
    ]);
    if let Some(cause) = &alert.probable_cause {
        annotations.insert("probable_cause".into(), cause.clone());
    }
    let details: Vec<&str> = alert
        .members
        .iter()
        .take(5)
        .map(|m| m.explanation.as_str())
        .collect();
    if !details.is_empty() {
        annotations.insert("description".into(), details.join("\n"));
    }
    // What the on-call reads first in Alertmanager's receivers: the log lines behind the alert
    // and where ooda's incident for it is (the agent answers that link once one exists).
    let logs: Vec<String> = alert
        .enrichment
        .iter()
        .take(5)
        .map(|l| format!("{}× {} ({})", l.count, l.template, l.source))
        .collect();
    if !logs.is_empty() {
        annotations.insert("log_templates".into(), logs.join("\n"));
    }
    if let Some(base) = generator_url {
        annotations.insert(
            "incident_url".into(),
            format!(
                "{}/api/v1/alerts/{}/incident",
                base.trim_end_matches('/'),
                alert.id
            ),
        );
    }
    PostableAlert {
        labels: labels_of(alert),
        annotations,
        starts_at: rfc3339(alert.opened_at),
        ends_at: (alert.state == AlertState::Resolved).then(|| rfc3339(alert.updated_at)),
        generator_url: generator_url.unwrap_or_default().to_owned(),
    }
}

/// One matcher of a silence.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Matcher {
    pub name: String,
    pub value: String,
    #[serde(default)]
    pub is_regex: bool,
    /// Absent in Alertmanager < 0.22, where every matcher was an equality.
    #[serde(default = "yes")]
    pub is_equal: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct SilenceStatus {
    pub state: String,
}

/// A silence as `GET /api/v2/silences` lists it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Silence {
    pub id: String,
    pub matchers: Vec<Matcher>,
    pub starts_at: String,
    pub ends_at: String,
    #[serde(default)]
    pub created_by: String,
    #[serde(default)]
    pub comment: String,
    pub status: SilenceStatus,
}

/// Matchers compiled once: regex matchers are anchored, as Alertmanager anchors them.
#[derive(Debug, Clone)]
struct Compiled {
    name: String,
    equal: bool,
    test: Test,
}

#[derive(Debug, Clone)]
enum Test {
    Exact(String),
    Regex(regex::Regex),
}

/// The active silences, ready to test alerts against.
#[derive(Debug, Clone, Default)]
pub struct SilenceSet {
    silences: Vec<(Silence, Timestamp, Timestamp, Vec<Compiled>)>,
    /// Silences that could not be used (bad regex, bad times), by id with the reason.
    pub skipped: Vec<(String, String)>,
}

impl SilenceSet {
    pub fn new(list: Vec<Silence>) -> Self {
        let mut set = SilenceSet::default();
        for silence in list {
            if silence.status.state == "expired" {
                continue;
            }
            let times = (
                time(&silence.starts_at, "startsAt"),
                time(&silence.ends_at, "endsAt"),
            );
            let (Ok(start), Ok(end)) = times else {
                set.skipped
                    .push((silence.id.clone(), "unreadable startsAt/endsAt".into()));
                continue;
            };
            let mut compiled = Vec::with_capacity(silence.matchers.len());
            let mut bad = None;
            for m in &silence.matchers {
                let test = if m.is_regex {
                    match regex::Regex::new(&format!("^(?:{})$", m.value)) {
                        Ok(re) => Test::Regex(re),
                        Err(e) => {
                            bad = Some(format!("matcher {}: {e}", m.name));
                            break;
                        }
                    }
                } else {
                    Test::Exact(m.value.clone())
                };
                compiled.push(Compiled {
                    name: m.name.clone(),
                    equal: m.is_equal,
                    test,
                });
            }
            match bad {
                Some(reason) => set.skipped.push((silence.id.clone(), reason)),
                None => set.silences.push((silence, start, end, compiled)),
            }
        }
        set
    }

    pub fn len(&self) -> usize {
        self.silences.len()
    }

    pub fn is_empty(&self) -> bool {
        self.silences.is_empty()
    }

    /// The silence holding back an alert with these labels at `now`, if any. A missing label
    /// matches as the empty string, as in Alertmanager.
    pub fn silencing(&self, labels: &BTreeMap<String, String>, now: Timestamp) -> Option<&Silence> {
        self.silences
            .iter()
            .find(|(_, start, end, matchers)| {
                *start <= now
                    && now < *end
                    && !matchers.is_empty()
                    && matchers.iter().all(|m| {
                        let value = labels.get(&m.name).map(String::as_str).unwrap_or("");
                        let hit = match &m.test {
                            Test::Exact(v) => v == value,
                            Test::Regex(re) => re.is_match(value),
                        };
                        hit == m.equal
                    })
            })
            .map(|(s, ..)| s)
    }

    /// Whether an ooda alert is silenced (matched on the labels it would be pushed with).
    pub fn silences(&self, alert: &Alert, now: Timestamp) -> Option<&Silence> {
        self.silencing(&labels_of(alert), now)
    }
}

/// An alert as `GET /api/v2/alerts` returns it (the fields ooda reads).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GettableAlert {
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    #[serde(default)]
    pub fingerprint: String,
    #[serde(default)]
    pub starts_at: String,
    #[serde(default)]
    pub ends_at: String,
    pub status: GettableStatus,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GettableStatus {
    pub state: String,
    #[serde(default)]
    pub silenced_by: Vec<String>,
    #[serde(default)]
    pub inhibited_by: Vec<String>,
}
