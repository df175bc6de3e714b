//! Value types whose parsing is the validation: a config that deserializes holds only valid
//! URLs, addresses, durations and secret references, and each rejection says what was expected.
//!
//! They live in core because every integration's config uses them and `ooda-config` (the file
//! model) depends on the integrations, not the other way round.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::de::{self, Deserializer};
use serde::Deserialize;

/// An `http://` or `https://` URL.
#[derive(Clone, PartialEq, Eq)]
pub struct HttpUrl(url::Url);

impl HttpUrl {
    pub fn parse(text: &str) -> Result<Self, String> {
        let parsed = url::Url::parse(text)
            .map_err(|_| format!("expected an http(s) URL, found {text:?}"))?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
            return Err(format!("expected an http(s) URL, found {text:?}"));
        }
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(format!(
                "credentials in a URL would be printed and logged; use the auth settings instead, found {:?}",
                redact_userinfo(&parsed)
            ));
        }
        Ok(Self(parsed))
    }

    pub fn as_url(&self) -> &url::Url {
        &self.0
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

fn redact_userinfo(url: &url::Url) -> String {
    let mut copy = url.clone();
    let _ = copy.set_username("***");
    let _ = copy.set_password(None);
    copy.to_string()
}

impl fmt::Debug for HttpUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0.as_str())
    }
}

impl fmt::Display for HttpUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.as_str())
    }
}

impl<'de> Deserialize<'de> for HttpUrl {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        HttpUrl::parse(&text).map_err(de::Error::custom)
    }
}

/// A `host:port` socket address to listen on.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct ListenAddr(pub SocketAddr);

impl fmt::Debug for ListenAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl ListenAddr {
    pub fn parse(text: &str) -> Result<Self, String> {
        text.parse()
            .map(ListenAddr)
            .map_err(|_| format!("expected an address like \"127.0.0.1:9677\", found {text:?}"))
    }
}

impl<'de> Deserialize<'de> for ListenAddr {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        ListenAddr::parse(&text).map_err(de::Error::custom)
    }
}

/// A positive duration written as `"10s"`, `"5m"`, `"1h 30m"`, `"250ms"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Seconds(pub Duration);

impl Seconds {
    pub fn parse(text: &str) -> Result<Self, String> {
        let duration = humantime::parse_duration(text).map_err(|_| {
            format!("expected a duration like \"10s\", \"5m\" or \"1h\", found {text:?}")
        })?;
        if duration.is_zero() {
            return Err(format!("expected a duration above zero, found {text:?}"));
        }
        Ok(Self(duration))
    }

    pub fn get(self) -> Duration {
        self.0
    }
}

impl<'de> Deserialize<'de> for Seconds {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Seconds::parse(&text).map_err(de::Error::custom)
    }
}

/// A secret, held only as a reference: `${env:NAME}` or `${file:/path/to/secret}`.
///
/// Literal secrets are refused, because a config file is copied, diffed and pasted into tickets.
/// Neither `Debug` nor `Display` ever shows the value; only [`Secret::reveal`] reads it, at the
/// moment of use.
#[derive(Clone, PartialEq, Eq)]
pub enum Secret {
    Env(String),
    File(PathBuf),
}

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("environment variable {0} (referenced by a secret) is not set")]
    EnvMissing(String),
    #[error("secret file {path}: {source}")]
    File {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("secret from {0} is empty")]
    Empty(String),
}

impl Secret {
    pub fn parse(text: &str) -> Result<Self, String> {
        let reference = text
            .strip_prefix("${")
            .and_then(|rest| rest.strip_suffix('}'));
        let Some(reference) = reference else {
            // Never echo what may be a literal secret.
            return Err(
                "expected a secret reference \"${env:NAME}\" or \"${file:/path}\", found a literal value (not shown)"
                    .to_owned(),
            );
        };
        if let Some(name) = reference.strip_prefix("env:") {
            let valid =
                !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !valid {
                return Err(format!(
                    "expected an environment variable name (letters, digits, '_'), found {name:?}"
                ));
            }
            return Ok(Secret::Env(name.to_owned()));
        }
        if let Some(path) = reference.strip_prefix("file:") {
            if path.is_empty() {
                return Err("expected a file path after \"${file:\"".to_owned());
            }
            return Ok(Secret::File(PathBuf::from(path)));
        }
        Err(format!(
            "expected a secret reference \"${{env:NAME}}\" or \"${{file:/path}}\", found \"${{{}:…}}\"",
            reference.split(':').next().unwrap_or_default()
        ))
    }

    /// Where the secret comes from, safe to print.
    pub fn describe(&self) -> String {
        match self {
            Secret::Env(name) => format!("env:{name}"),
            Secret::File(path) => format!("file:{}", path.display()),
        }
    }

    /// Reads the value. Trailing newlines of secret files are dropped.
    pub fn reveal(&self) -> Result<String, SecretError> {
        let value = match self {
            Secret::Env(name) => {
                std::env::var(name).map_err(|_| SecretError::EnvMissing(name.clone()))?
            }
            Secret::File(path) => std::fs::read_to_string(path)
                .map_err(|source| SecretError::File {
                    path: path.display().to_string(),
                    source,
                })?
                .trim_end_matches(['\n', '\r'])
                .to_owned(),
        };
        if value.is_empty() {
            return Err(SecretError::Empty(self.describe()));
        }
        Ok(value)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({})", self.describe())
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Secret::parse(&text).map_err(de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert!(HttpUrl::parse("http://127.0.0.1:9090").is_ok());
        assert!(HttpUrl::parse("https://prom.example/api").is_ok());
        assert_eq!(
            HttpUrl::parse("ftp://x").unwrap_err(),
            r#"expected an http(s) URL, found "ftp://x""#
        );
        let err = HttpUrl::parse("http://user:hunter2@h/").unwrap_err();
        assert!(!err.contains("hunter2"), "{err}");
    }

    #[test]
    fn durations() {
        assert_eq!(
            Seconds::parse("10s").unwrap().get(),
            Duration::from_secs(10)
        );
        assert_eq!(
            Seconds::parse("1h 30m").unwrap().get(),
            Duration::from_secs(5400)
        );
        assert!(Seconds::parse("0s").unwrap_err().contains("above zero"));
        assert!(Seconds::parse("ten").unwrap_err().contains("found \"ten\""));
    }

    #[test]
    fn secrets_are_references_and_never_printed() {
        assert_eq!(
            Secret::parse("${env:TOKEN}").unwrap(),
            Secret::Env("TOKEN".into())
        );
        assert_eq!(
            Secret::parse("${file:/run/secret}").unwrap(),
            Secret::File("/run/secret".into())
        );
        let err = Secret::parse("hunter2").unwrap_err();
        assert!(!err.contains("hunter2"), "{err}");
        assert!(Secret::parse("${vault:x}").is_err());
        assert!(Secret::parse("${env:A-B}").is_err());

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s");
        std::fs::write(&path, "s3cret\n").unwrap();
        let secret = Secret::File(path);
        assert_eq!(secret.reveal().unwrap(), "s3cret");
        assert!(!format!("{secret:?}").contains("s3cret"));
        assert!(matches!(
            Secret::Env("OODA_SURELY_UNSET_VAR".into()).reveal(),
            Err(SecretError::EnvMissing(_))
        ));
    }
}
