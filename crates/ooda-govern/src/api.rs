//! The bodies the HTTP API accepts for governance (the server wires the routes): flipping the
//! kill switch and voting on an approval. Parsing is strict (`deny_unknown_fields`) and every
//! rejection names the field; nothing is applied until the whole body is valid.

use serde::Deserialize;

use crate::{GovernError, Result};

/// `POST /api/v1/kill-switch`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KillSwitchRequest {
    pub on: bool,
    /// Who flips it; the server fills it from the authenticated user when absent.
    #[serde(default)]
    pub by: Option<String>,
    #[serde(default)]
    pub reason: String,
}

/// `POST /api/v1/approvals/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VoteRequest {
    pub approve: bool,
    #[serde(default)]
    pub comment: String,
}

const MAX_TEXT: usize = 2000;

fn decode<'a, T: Deserialize<'a>>(body: &'a [u8]) -> Result<T> {
    serde_json::from_slice(body).map_err(|e| {
        // serde_json names the unknown or missing field in its message ("unknown field `x`").
        let field = e
            .to_string()
            .split('`')
            .nth(1)
            .map_or_else(|| "body".to_owned(), str::to_owned);
        GovernError::Invalid {
            field,
            reason: e.to_string(),
        }
    })
}

fn check_text(field: &str, text: &str) -> Result<()> {
    if text.len() > MAX_TEXT {
        return Err(GovernError::Invalid {
            field: field.into(),
            reason: format!("expected at most {MAX_TEXT} bytes, found {}", text.len()),
        });
    }
    if text.chars().any(|c| c.is_control() && c != '\n') {
        return Err(GovernError::Invalid {
            field: field.into(),
            reason: "control characters are not allowed".into(),
        });
    }
    Ok(())
}

pub fn parse_kill_switch(body: &[u8]) -> Result<KillSwitchRequest> {
    let request: KillSwitchRequest = decode(body)?;
    check_text("reason", &request.reason)?;
    if let Some(by) = &request.by {
        check_text("by", by)?;
        if by.trim().is_empty() {
            return Err(GovernError::Invalid {
                field: "by".into(),
                reason: "expected a name, found an empty string".into(),
            });
        }
    }
    Ok(request)
}

pub fn parse_vote(body: &[u8]) -> Result<VoteRequest> {
    let request: VoteRequest = decode(body)?;
    check_text("comment", &request.comment)?;
    Ok(request)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(error: GovernError) -> String {
        match error {
            GovernError::Invalid { field, .. } => field,
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    #[test]
    fn valid_bodies_parse_and_bad_ones_name_the_field() {
        let ok = parse_kill_switch(br#"{"on":true,"reason":"incident 42"}"#).unwrap();
        assert!(ok.on && ok.by.is_none());
        assert_eq!(
            field_of(parse_kill_switch(br#"{"on":true,"resaon":"x"}"#).unwrap_err()),
            "resaon"
        );
        assert_eq!(
            field_of(parse_kill_switch(br#"{"reason":"x"}"#).unwrap_err()),
            "on"
        );
        assert_eq!(
            field_of(parse_kill_switch(br#"{"on":true,"by":" "}"#).unwrap_err()),
            "by"
        );
        assert_eq!(
            field_of(parse_kill_switch(b"{\"on\":true,\"reason\":\"a\\u0000b\"}").unwrap_err()),
            "reason"
        );
        assert!(parse_vote(br#"{"approve":false,"comment":"not now"}"#).is_ok());
        assert_eq!(
            field_of(parse_vote(br#"{"approve":"yes"}"#).unwrap_err()),
            "body"
        );
        assert_eq!(
            field_of(parse_vote(br#"{"approve":true,"by":"mallory"}"#).unwrap_err()),
            "by"
        );
    }

    proptest::proptest! {
        #[test]
        fn parsing_never_panics(body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200)) {
            let _ = parse_kill_switch(&body);
            let _ = parse_vote(&body);
        }
    }
}
