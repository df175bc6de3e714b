//! What AWX sends back, decoded without trusting it: the launch answer (`job`, `ignored_fields`),
//! a job's status, and error bodies (`{"detail": …}` or field → messages).

use serde_json::{Map, Value};

/// The answer to `POST job_templates/{id}/launch/` (201).
#[derive(Debug, Clone, PartialEq)]
pub struct Launched {
    pub job: u64,
    /// Launch fields the template does not prompt for, dropped by AWX. Must be empty.
    pub ignored_fields: Map<String, Value>,
}

pub fn launched(body: &[u8]) -> Result<Launched, String> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| format!("launch answer is not JSON: {e}"))?;
    let job = value
        .get("job")
        .or_else(|| value.get("id"))
        .and_then(Value::as_u64)
        .ok_or("launch answer has no job id")?;
    let ignored_fields = match value.get("ignored_fields") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(map)) => map.clone(),
        Some(other) => {
            // Not the documented object: treat whatever it is as "something was ignored".
            let mut map = Map::new();
            map.insert("?".into(), other.clone());
            map
        }
    };
    Ok(Launched {
        job,
        ignored_fields,
    })
}

/// A job's lifecycle state (`GET jobs/{id}/` → `status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobStatus {
    New,
    Pending,
    Waiting,
    Running,
    Successful,
    Failed,
    Error,
    Canceled,
}

impl JobStatus {
    pub fn parse(text: &str) -> Result<Self, String> {
        Ok(match text {
            "new" => JobStatus::New,
            "pending" => JobStatus::Pending,
            "waiting" => JobStatus::Waiting,
            "running" => JobStatus::Running,
            "successful" => JobStatus::Successful,
            "failed" => JobStatus::Failed,
            "error" => JobStatus::Error,
            "canceled" => JobStatus::Canceled,
            other => return Err(format!("unknown job status {other:?}")),
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::New => "new",
            JobStatus::Pending => "pending",
            JobStatus::Waiting => "waiting",
            JobStatus::Running => "running",
            JobStatus::Successful => "successful",
            JobStatus::Failed => "failed",
            JobStatus::Error => "error",
            JobStatus::Canceled => "canceled",
        }
    }

    pub fn is_finished(self) -> bool {
        matches!(
            self,
            JobStatus::Successful | JobStatus::Failed | JobStatus::Error | JobStatus::Canceled
        )
    }
}

/// The parts of a job record ooda reads.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    pub id: u64,
    pub status: JobStatus,
    pub explanation: String,
}

pub fn job(body: &[u8]) -> Result<Job, String> {
    let value: Value = serde_json::from_slice(body).map_err(|e| format!("job is not JSON: {e}"))?;
    let id = value
        .get("id")
        .and_then(Value::as_u64)
        .ok_or("job has no id")?;
    let status = value
        .get("status")
        .and_then(Value::as_str)
        .ok_or("job has no status")?;
    Ok(Job {
        id,
        status: JobStatus::parse(status)?,
        explanation: value
            .get("job_explanation")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
    })
}

/// A readable message from an error body: `detail`, `error`, or `field: message` pairs.
pub fn error_message(body: &[u8]) -> String {
    let Ok(value) = serde_json::from_slice::<Value>(body) else {
        return crate::http::snippet(body, 300);
    };
    for key in ["detail", "error", "msg"] {
        if let Some(text) = value.get(key).and_then(Value::as_str) {
            return text.to_owned();
        }
    }
    if let Value::Object(map) = &value {
        let parts: Vec<String> = map
            .iter()
            .map(|(k, v)| match v {
                Value::Array(items) => format!(
                    "{k}: {}",
                    items
                        .iter()
                        .map(|i| i
                            .as_str()
                            .map(str::to_owned)
                            .unwrap_or_else(|| i.to_string()))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                other => format!("{k}: {other}"),
            })
            .collect();
        if !parts.is_empty() {
            return parts.join("; ");
        }
    }
    crate::http::snippet(body, 300)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn launch_answers() {
        let l = launched(
            br#"{"job": 42, "ignored_fields": {}, "id": 42, "type": "job", "status": "pending"}"#,
        )
        .unwrap();
        assert_eq!(l.job, 42);
        assert!(l.ignored_fields.is_empty());
        let l = launched(br#"{"job": 7, "ignored_fields": {"limit": "web-1", "extra_vars": {"package": "openssl"}}}"#).unwrap();
        assert_eq!(l.ignored_fields.len(), 2);
        assert!(launched(br#"{"ignored_fields": {}}"#).is_err());
        assert!(launched(b"<html>").is_err());
    }

    #[test]
    fn jobs_and_errors() {
        let j =
            job(br#"{"id": 3, "status": "failed", "job_explanation": "Job terminated"}"#).unwrap();
        assert_eq!(j.status, JobStatus::Failed);
        assert!(job(br#"{"id": 3, "status": "exploded"}"#).is_err());
        assert_eq!(error_message(br#"{"detail": "Not found."}"#), "Not found.");
        assert_eq!(
            error_message(br#"{"extra_vars": ["Must be valid JSON or YAML."]}"#),
            "extra_vars: Must be valid JSON or YAML."
        );
    }

    proptest! {
        #[test]
        fn decoders_never_panic(body in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = launched(&body);
            let _ = job(&body);
            let _ = error_message(&body);
        }
    }
}
