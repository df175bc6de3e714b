//! What every HTTP integration shares: a client with a timeout and TLS settings, auth applied
//! per request (secrets revealed at the moment of use, never stored), and bodies read with a
//! size cap so a runaway target cannot exhaust memory.
//!
//! Never logs a header or a secret value.

mod config;

pub use config::{Auth, TlsConfig};

use std::time::Duration;

use ooda_core::value::SecretError;

/// Failures shared by the HTTP integrations before the vendor's own errors begin.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("building the HTTP client: {0}")]
    Build(String),
    #[error("reading TLS file {path}: {source}")]
    TlsFile {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("TLS file {path}: {reason}")]
    TlsPem { path: String, reason: String },
    #[error("auth secret: {0}")]
    Secret(#[from] SecretError),
    #[error("timed out after {0:?}")]
    Timeout(Duration),
    #[error("connecting or sending: {0}")]
    Transport(String),
    #[error("response body larger than the limit of {limit} bytes")]
    TooLarge { limit: u64 },
}

impl HttpError {
    /// Sorts a reqwest error into a timeout or a transport failure; the URL is dropped from the
    /// message only where it could carry credentials (it never does: `HttpUrl` refuses them).
    pub fn from_reqwest(error: reqwest::Error, timeout: Duration) -> HttpError {
        if error.is_timeout() {
            HttpError::Timeout(timeout)
        } else {
            let mut text = error.to_string();
            let mut source = std::error::Error::source(&error);
            while let Some(inner) = source {
                text.push_str(": ");
                text.push_str(&inner.to_string());
                source = inner.source();
            }
            HttpError::Transport(text)
        }
    }
}

/// Builds a client: overall request timeout, TLS roots and client identity from files.
pub fn client(timeout: Duration, tls: &TlsConfig) -> Result<reqwest::Client, HttpError> {
    let mut builder = reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .user_agent(concat!("ooda/", env!("CARGO_PKG_VERSION")));
    if let Some(path) = &tls.ca_file {
        let pem = read_file(path)?;
        let cert = reqwest::Certificate::from_pem(&pem).map_err(|e| HttpError::TlsPem {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        builder = builder.add_root_certificate(cert);
    }
    match (&tls.cert_file, &tls.key_file) {
        (Some(cert), Some(key)) => {
            let mut pem = read_file(cert)?;
            pem.push(b'\n');
            pem.extend(read_file(key)?);
            let identity = reqwest::Identity::from_pem(&pem).map_err(|e| HttpError::TlsPem {
                path: cert.display().to_string(),
                reason: e.to_string(),
            })?;
            builder = builder.identity(identity);
        }
        (None, None) => {}
        _ => {
            return Err(HttpError::Build(
                "tls.cert_file and tls.key_file go together: set both or neither".into(),
            ))
        }
    }
    if tls.insecure_skip_verify {
        builder = builder.danger_accept_invalid_certs(true);
    }
    builder.build().map_err(|e| HttpError::Build(e.to_string()))
}

fn read_file(path: &std::path::Path) -> Result<Vec<u8>, HttpError> {
    std::fs::read(path).map_err(|source| HttpError::TlsFile {
        path: path.display().to_string(),
        source,
    })
}

/// Adds the configured credentials to one request.
pub fn authorize(
    request: reqwest::RequestBuilder,
    auth: &Auth,
) -> Result<reqwest::RequestBuilder, HttpError> {
    Ok(match auth {
        Auth::None => request,
        Auth::Basic { username, password } => {
            request.basic_auth(username, Some(password.reveal()?))
        }
        Auth::Bearer { token } => request.bearer_auth(token.reveal()?),
    })
}

/// Reads a body, stopping with [`HttpError::TooLarge`] as soon as it passes `limit` bytes
/// (announced by Content-Length or not), so a huge or endless body costs at most `limit`.
pub async fn read_limited(
    mut response: reqwest::Response,
    limit: u64,
    timeout: Duration,
) -> Result<Vec<u8>, HttpError> {
    if response.content_length().is_some_and(|len| len > limit) {
        return Err(HttpError::TooLarge { limit });
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| HttpError::from_reqwest(e, timeout))?
    {
        if body.len() as u64 + chunk.len() as u64 > limit {
            return Err(HttpError::TooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// At most `max` characters of a body for an error message (bodies come from outside).
pub fn snippet(body: &[u8], max: usize) -> String {
    let text = String::from_utf8_lossy(body);
    let trimmed = text.trim();
    match trimmed.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &trimmed[..cut]),
        None => trimmed.to_owned(),
    }
}

/// The wait before retry number `attempt` (1-based): `base · 2^(attempt-1)`, or the server's
/// `retry-after` when that is longer (waiting less than asked only earns another 429), never more
/// than `max`.
pub fn backoff(
    base: Duration,
    attempt: u32,
    retry_after: Option<Duration>,
    max: Duration,
) -> Duration {
    let exponential = base.saturating_mul(1u32 << attempt.saturating_sub(1).min(16));
    let wait = match retry_after {
        Some(asked) => asked.max(exponential),
        None => exponential,
    };
    wait.min(max)
}
