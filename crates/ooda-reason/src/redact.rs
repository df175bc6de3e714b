//! Secret redaction: the one choke point every byte sent to a model passes through. Tokens,
//! passwords, private keys and credentials in connection strings are always replaced; e-mail and
//! IP addresses by option; known secret values (the reasoner's own keys, values from the secret
//! store) are replaced wherever they appear.
//!
//! It errs on the side of cutting too much: a log line with a redacted word is still evidence, a
//! leaked key is an incident of its own. It must never panic, whatever the text.

use regex::Regex;
use serde::Deserialize;

/// What to redact beyond the always-on secret patterns.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedactOptions {
    #[serde(default)]
    pub emails: bool,
    #[serde(default)]
    pub ips: bool,
}

/// A compiled redactor.
#[derive(Debug, Clone)]
pub struct Redactor {
    rules: Vec<(Regex, &'static str)>,
    literals: Vec<String>,
}

/// The always-on rules, in order: multi-line blocks first, then shapes that contain `=` or `:`
/// (so the key=value rule does not cut them in half), then key=value pairs, then bare tokens.
const ALWAYS: &[(&str, &str)] = &[
    // PEM private keys, whole block; then a BEGIN with no END (a truncated log line).
    (
        r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----[\s\S]*?-----END[A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----",
        "[REDACTED:private_key]",
    ),
    (
        r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----[\s\S]*",
        "[REDACTED:private_key]",
    ),
    // Credentials inside URLs / connection strings: scheme://user:password@host.
    (
        r"(?i)\b([a-z][a-z0-9+.\-]*://)[^\s:/@]*:[^\s@/]*@",
        "${1}[REDACTED:credentials]@",
    ),
    // Authorization headers and bearer/basic credentials.
    (
        r"(?i)\b(bearer|basic)\s+[A-Za-z0-9\-._~+/]{8,}=*",
        "${1} [REDACTED:token]",
    ),
    // key = value, key: value (any key containing a secret word: PGPASSWORD, db_password_file), "key": "value", Password=…; (ADO.NET, JDBC, env files, YAML, JSON).
    (
        r#"(?i)(\b[\w.\-]*?(?:pass(?:word|wd|phrase)?|pwd|secret|token|api[_\-]?key|apikey|access[_\-]?key|auth(?:orization)?|credentials?|session[_\-]?id|cookie)[\w.\-]*["']?\s*[:=]\s*)("[^"]*"|'[^']*'|[^\s,;&"'}]+)"#,
        "${1}[REDACTED:secret]",
    ),
    // Well-known token shapes.
    (r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b", "[REDACTED:aws_key]"),
    (r"\bgh[pousr]_[A-Za-z0-9]{20,}\b", "[REDACTED:github_token]"),
    (
        r"\bgithub_pat_[A-Za-z0-9_]{20,}\b",
        "[REDACTED:github_token]",
    ),
    (
        r"\bxox[abprse]-[A-Za-z0-9\-]{10,}",
        "[REDACTED:slack_token]",
    ),
    (r"\bsk-[A-Za-z0-9_\-]{16,}", "[REDACTED:api_key]"),
    (
        r"\b[rsp]k_(?:live|test)_[0-9A-Za-z]{16,}\b",
        "[REDACTED:api_key]",
    ),
    (r"\bAIza[0-9A-Za-z_\-]{35}\b", "[REDACTED:api_key]"),
    (
        r"\beyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}",
        "[REDACTED:jwt]",
    ),
];

const EMAIL: &str = r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}";
const IPV4: &str = r"\b(?:25[0-5]|2[0-4]\d|1?\d?\d)(?:\.(?:25[0-5]|2[0-4]\d|1?\d?\d)){3}\b";
const IPV6: &str = r"(?i)\b(?:[0-9a-f]{1,4}:){7}[0-9a-f]{1,4}\b|(?i)\b(?:[0-9a-f]{1,4}:){1,6}:(?:[0-9a-f]{1,4}:?){0,6}[0-9a-f]{1,4}\b";

impl Redactor {
    pub fn new(options: &RedactOptions) -> Self {
        let mut rules: Vec<(Regex, &'static str)> = ALWAYS
            .iter()
            .filter_map(|(pattern, replacement)| compile(pattern).map(|r| (r, *replacement)))
            .collect();
        if options.emails {
            rules.extend(compile(EMAIL).map(|r| (r, "[REDACTED:email]")));
        }
        if options.ips {
            rules.extend(compile(IPV6).map(|r| (r, "[REDACTED:ip]")));
            rules.extend(compile(IPV4).map(|r| (r, "[REDACTED:ip]")));
        }
        Self {
            rules,
            literals: Vec::new(),
        }
    }

    /// Adds exact values to cut wherever they appear (the model API key, secrets ooda holds).
    /// Values shorter than 6 characters are ignored: redacting "a" would shred every text.
    pub fn with_literals(mut self, values: impl IntoIterator<Item = String>) -> Self {
        self.literals
            .extend(values.into_iter().filter(|v| v.chars().count() >= 6));
        // Longest first, so a secret that contains another is cut whole.
        self.literals.sort_by_key(|v| std::cmp::Reverse(v.len()));
        self.literals.dedup();
        self
    }

    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for literal in &self.literals {
            if out.contains(literal.as_str()) {
                out = out.replace(literal.as_str(), "[REDACTED:known_secret]");
            }
        }
        for (rule, replacement) in &self.rules {
            if rule.is_match(&out) {
                out = rule.replace_all(&out, *replacement).into_owned();
            }
        }
        out
    }

    /// Redacts every string inside a JSON value (keys are left: they are ours or the schema's).
    pub fn redact_json(&self, value: &mut serde_json::Value) {
        match value {
            serde_json::Value::String(text) => *text = self.redact(text),
            serde_json::Value::Array(items) => items.iter_mut().for_each(|v| self.redact_json(v)),
            serde_json::Value::Object(map) => map.values_mut().for_each(|v| self.redact_json(v)),
            _ => {}
        }
    }

    /// Redacts a whole chat request in place: system prompt, every text, tool result and echoed
    /// tool input. The agent calls this on every request right before it goes to the adapter.
    pub fn redact_request(&self, request: &mut crate::model::ChatRequest) {
        use crate::model::Part;
        request.system = self.redact(&request.system);
        for tool in &mut request.tools {
            tool.description = self.redact(&tool.description);
        }
        for turn in &mut request.turns {
            for part in &mut turn.parts {
                match part {
                    Part::Text(text) => *text = self.redact(text),
                    Part::Result(result) => result.content = self.redact(&result.content),
                    Part::Call(call) => {
                        self.redact_json(&mut call.input);
                        if let Some(raw) = &mut call.malformed {
                            *raw = self.redact(raw);
                        }
                    }
                }
            }
        }
    }
}

fn compile(pattern: &str) -> Option<Regex> {
    match Regex::new(pattern) {
        Ok(regex) => Some(regex),
        Err(error) => {
            // A constant pattern; a failure is a build defect caught by the tests below.
            tracing::error!(%error, pattern, "redaction pattern does not compile");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn all() -> Redactor {
        Redactor::new(&RedactOptions {
            emails: true,
            ips: true,
        })
    }

    #[test]
    fn every_pattern_compiles() {
        let r = all();
        assert_eq!(r.rules.len(), ALWAYS.len() + 3);
    }

    /// (input, the secret that must be gone).
    const CASES: &[(&str, &str)] = &[
        ("db error: password=hunter2xyz for user app", "hunter2xyz"),
        ("PGPASSWORD: 'S3cr3t!pass'", "S3cr3t!pass"),
        (r#"{"api_key": "abcd1234efgh5678"}"#, "abcd1234efgh5678"),
        ("Server=db;User Id=sa;Password=Tr0ub4dor&3;Database=x", "Tr0ub4dor"),
        ("connecting to postgres://app:pg-s3cret@db.internal:5432/app", "pg-s3cret"),
        ("redis://:r3dis-pass@cache:6379/0", "r3dis-pass"),
        ("mongodb+srv://admin:m0ng0pw@cluster0.example.net/test", "m0ng0pw"),
        ("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.abcdefghijkl", "eyJhbGciOiJIUzI1NiJ9"),
        ("curl -H 'Authorization: Basic YWRtaW46cGFzc3dvcmQ=' http://x", "YWRtaW46cGFzc3dvcmQ"),
        ("aws_access_key_id = AKIAIOSFODNN7EXAMPLE", "AKIAIOSFODNN7EXAMPLE"),
        ("found AKIAIOSFODNN7EXAMPLE in env", "AKIAIOSFODNN7EXAMPLE"),
        ("token ghp_0123456789abcdefghijABCDEFGHIJ0123456789 leaked", "ghp_0123456789abcdefghij"),
        ("slack xoxb-123456789012-abcdefghijkl", "xoxb-123456789012"),
        ("ANTHROPIC_API_KEY=sk-ant-api03-abcdefghijklmnopqrstuvwxyz", "sk-ant-api03"),
        ("using key sk-proj-abcdefghijklmnop1234 for requests", "sk-proj-abcdefghijklmnop1234"),
        ("-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7x\nabc\n-----END RSA PRIVATE KEY-----", "MIIEowIBAAKCAQEA7x"),
        ("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA (cut", "b3BlbnNzaC1rZXktdjEAAAAA"),
        ("client_secret: 9f8e7d6c5b4a", "9f8e7d6c5b4a"),
        ("secret_key=wJalrXUtnFEMI/K7MDENG", "wJalrXUtnFEMI"),
        ("Cookie: session_id=abcdef0123456789", "abcdef0123456789"),
        ("mail ops-lead@example.com about it", "ops-lead@example.com"),
        ("from 10.20.30.40 port 22", "10.20.30.40"),
        ("peer 2001:db8:85a3:0:0:8a2e:370:7334 reset", "2001:db8:85a3:0:0:8a2e:370:7334"),
    ];

    #[test]
    fn known_secret_shapes_are_cut() {
        let r = all();
        for (input, secret) in CASES {
            let out = r.redact(input);
            assert!(
                !out.contains(secret),
                "{input:?} → {out:?} still holds {secret:?}"
            );
            assert!(out.contains("[REDACTED"), "{out}");
        }
    }

    #[test]
    fn ordinary_operations_text_survives() {
        let r = Redactor::new(&RedactOptions::default());
        for text in [
            "ERROR write <n> bytes: No space left on device",
            "token expired for session, retrying",
            "disk_used_pct 97 (band 0..85) on web-1",
            "Out of memory: Killed process <n> (java)",
            "connect to 10.0.0.5:5432 refused",
        ] {
            assert_eq!(r.redact(text), text);
        }
    }

    #[test]
    fn emails_and_ips_only_by_option() {
        let off = Redactor::new(&RedactOptions::default());
        assert_eq!(
            off.redact("a@b.example from 10.1.2.3"),
            "a@b.example from 10.1.2.3"
        );
        let on = Redactor::new(&RedactOptions {
            emails: true,
            ips: false,
        });
        assert_eq!(
            on.redact("a@b.example from 10.1.2.3"),
            "[REDACTED:email] from 10.1.2.3"
        );
    }

    #[test]
    fn literal_secrets_are_cut_anywhere() {
        let r = Redactor::new(&RedactOptions::default())
            .with_literals(["vault-7Qx!zz".to_owned(), "ab".to_owned()]);
        assert_eq!(
            r.redact("x vault-7Qx!zzy ab"),
            "x [REDACTED:known_secret]y ab"
        );
    }

    proptest! {
        /// A password planted in any surrounding text is never sent.
        #[test]
        fn planted_passwords_never_survive(
            before in "[a-zA-Z0-9 .:,_/-]{0,40}",
            after in "[a-zA-Z0-9 .:,_/-]{0,40}",
            secret in "[A-Za-z0-9!@#$%^*()_+]{8,24}",
            key in "(password|passwd|api_key|token|secret|client_secret)",
            sep in "(=|: |=\"|: ')",
        ) {
            let close = match sep.as_str() { "=\"" => "\"", ": '" => "'", _ => "" };
            let text = format!("{before} {key}{sep}{secret}{close} {after}");
            let out = Redactor::new(&RedactOptions::default()).redact(&text);
            prop_assert!(!out.contains(&secret), "{} → {}", text, out);
        }

        #[test]
        fn connection_string_passwords_never_survive(
            user in "[a-z]{1,8}", password in "[A-Za-z0-9!$*+-]{6,20}", host in "[a-z]{1,10}",
            scheme in "(postgres|postgresql|mysql|mongodb|redis|amqp|https)",
        ) {
            let text = format!("dial {scheme}://{user}:{password}@{host}:5432/db failed");
            let out = Redactor::new(&RedactOptions::default()).redact(&text);
            prop_assert!(!out.contains(&format!(":{password}@")), "{} → {}", text, out);
        }

        #[test]
        fn never_panics(text in "\\PC{0,200}") {
            let _ = all().redact(&text);
        }
    }
}
