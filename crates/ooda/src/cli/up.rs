//! `ooda up`: the running agent ([`ooda_agent::Agent`]) until SIGINT or SIGTERM.

use std::net::SocketAddr;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;

use super::GlobalArgs;

#[derive(Debug, Args)]
pub struct UpArgs {
    /// Address for the HTTP API (overrides `server.listen`); port 0 picks a free port.
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
}

pub fn run(args: UpArgs, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    super::init_logging(global.log_format);
    let mut config = super::config::load(global)?;
    if let Some(listen) = args.listen {
        config.server.listen.0 = listen;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        let agent = ooda_agent::Agent::build(config, &global.data_dir)?;
        let running = agent.start().await?;
        println!("ooda listening on http://{}", running.address());
        let reason = shutdown_signal().await;
        running.stop(reason).await?;
        Ok(ExitCode::SUCCESS)
    })
}

/// Resolves on SIGINT or SIGTERM, naming which.
async fn shutdown_signal() -> &'static str {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
        "SIGINT"
    };
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(_) => return ctrl_c.await,
            };
        tokio::select! {
            reason = ctrl_c => reason,
            _ = term.recv() => "SIGTERM",
        }
    }
    #[cfg(not(unix))]
    ctrl_c.await
}
