//! The one way into a data directory: the store (at `[store] path` when set), the audit log and
//! the governance home with the config's `[governance]` settings. `ooda up`, its HTTP API and
//! every CLI noun open their state here, so a kill switch flipped by one is the switch the
//! others read, and `ooda incidents list` lists the agent's incidents.

use ooda_config::Config;
use ooda_govern::Home;

use super::GlobalArgs;

/// Opens `--data-dir` as the loaded `config` says ([`ooda_agent::open_home`]).
pub fn open(global: &GlobalArgs, config: &Config) -> anyhow::Result<Home> {
    ooda_agent::open_home(&global.data_dir, config)
}

/// Loads `--config` (or the defaults) and opens the data directory with it.
pub fn load(global: &GlobalArgs) -> anyhow::Result<(Config, Home)> {
    let config = super::config::load(global)?;
    let home = open(global, &config)?;
    Ok((config, home))
}
