//! Auth and TLS settings, shared by every HTTP integration's config block.

use std::path::PathBuf;

use ooda_core::value::Secret;
use serde::Deserialize;

/// How requests authenticate. Secrets are references (`${env:X}`, `${file:P}`), read per request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Auth {
    #[default]
    None,
    Basic {
        username: String,
        password: Secret,
    },
    Bearer {
        token: Secret,
    },
}

/// TLS beyond the system roots: a private CA, a client certificate, or (for labs only) no
/// verification at all.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// Extra CA certificate (PEM) to trust.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// Client certificate (PEM) for mutual TLS; needs `key_file`.
    #[serde(default)]
    pub cert_file: Option<PathBuf>,
    /// Client key (PEM) for mutual TLS; needs `cert_file`.
    #[serde(default)]
    pub key_file: Option<PathBuf>,
    /// Accepts any certificate. Only for throwaway labs: it makes TLS pointless.
    #[serde(default)]
    pub insecure_skip_verify: bool,
}
