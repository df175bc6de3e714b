//! Governance state in a data directory: the store, the audit log, its key and the governance
//! settings (the `[governance]` section of the config file), opened the same way by the agent and by every CLI command, so they share one kill
//! switch, one approval queue and one audit chain.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use ooda_core::{SharedClock, SystemClock};
use ooda_store::{DataDir, SqliteStore, Store};

use crate::approval::Approvals;
use crate::audit::{AuditLog, VerifyOptions, HEAD_KEY};
use crate::autonomy::Levels;
use crate::config::GovernConfig;
use crate::kill_switch::KillSwitch;
use crate::{GovernError, Result};

pub struct Home {
    pub dir: PathBuf,
    pub store: Arc<dyn Store>,
    pub audit: Arc<AuditLog>,
    pub config: GovernConfig,
    pub clock: SharedClock,
}

impl Home {
    /// Opens `data_dir` (creating it if needed) with the database at `database` (default
    /// `data_dir/ooda.sqlite`, the `[store] path` of the config otherwise) and the governance
    /// settings of the config file. The agent and every CLI command open their state through
    /// this one constructor, so they cannot end up on two databases.
    pub fn open_with(
        data_dir: &Path,
        database: Option<&Path>,
        config: GovernConfig,
    ) -> Result<Self> {
        config.validate()?;
        let data = DataDir::open(data_dir)?;
        let database = match database {
            Some(path) => {
                // A configured database may live elsewhere; its directory is created like the
                // data directory is.
                if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                    DataDir::open(parent)?;
                }
                path.to_path_buf()
            }
            None => data.database(),
        };
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&database)?);
        let clock: SharedClock = Arc::new(SystemClock);
        let audit = Arc::new(AuditLog::open(
            data.path(),
            clock.clone(),
            Some(store.clone()),
        )?);
        Ok(Self {
            dir: data.path().to_path_buf(),
            store,
            audit,
            config,
            clock,
        })
    }

    /// `data_dir` with its default database and the default governance settings.
    pub fn open(data_dir: &Path) -> Result<Self> {
        Self::open_with(data_dir, None, GovernConfig::default())
    }

    pub fn kill_switch(&self) -> KillSwitch {
        KillSwitch::new(self.store.clone(), self.audit.clone(), self.clock.clone())
    }

    /// The autonomy levels (`ooda autonomy show|set`), the same ones the agent's gate reads.
    pub fn autonomy(&self) -> Levels {
        Levels::new(
            self.store.clone(),
            self.audit.clone(),
            self.clock.clone(),
            self.config.autonomy.clone(),
        )
    }

    pub fn approvals(&self) -> Approvals {
        Approvals::new(
            self.store.clone(),
            self.audit.clone(),
            self.clock.clone(),
            self.config.approvals.clone(),
        )
    }

    /// The policies in force here: the config's policy directory (on top of the shipped
    /// defaults), else the defaults alone. Every problem is named in the error.
    pub fn policy(&self) -> Result<crate::PolicyEngine> {
        match &self.config.policy_dir {
            Some(dir) => crate::PolicyEngine::load_dir(dir),
            None => crate::PolicyEngine::with_defaults(),
        }
        .map_err(|problems| GovernError::Invalid {
            field: "policy".into(),
            reason: problems
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; "),
        })
    }

    /// What `ooda audit verify` checks against: this directory's key and the stored head.
    pub fn verify_options(&self) -> Result<VerifyOptions> {
        Ok(VerifyOptions {
            public_key: Some(self.audit.public_key()),
            head: stored_head(self.store.as_ref())?,
            checkpoint_every: self.audit.checkpoint_every(),
        })
    }
}

/// The `SEQ HASH` the store recorded after the last append.
pub fn stored_head(store: &dyn Store) -> Result<Option<(u64, String)>> {
    let Some(text) = store.kv_get(HEAD_KEY)? else {
        return Ok(None);
    };
    let parsed = text
        .split_once(' ')
        .and_then(|(seq, hash)| seq.parse::<u64>().ok().map(|seq| (seq, hash.to_owned())));
    parsed.map(Some).ok_or_else(|| GovernError::Invalid {
        field: HEAD_KEY.into(),
        reason: format!("expected `SEQ HASH`, found {text:?}"),
    })
}
