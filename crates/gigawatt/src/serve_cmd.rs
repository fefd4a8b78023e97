//! `gigawatt serve`: the web dashboard and JSON API (the `server` crate), with saved runs in
//! an SQLite database under `--data`.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use clap::Args;

use crate::cli::Cli;
use crate::plan_cmd::load_catalog;
use crate::{scenarios, Failure};

/// Arguments of `gigawatt serve`.
#[derive(Debug, Args)]
#[command(long_about = SERVE_ABOUT, after_help = crate::examples::SERVE)]
pub struct ServeArgs {
    /// Port to listen on; 0 picks a free one (printed on standard error).
    #[arg(long, default_value_t = 8080, value_name = "P")]
    pub port: u16,
    /// Address to bind; the default serves this machine only. 0.0.0.0 exposes the dashboard
    /// (with no authentication) to the network.
    #[arg(long, default_value = "127.0.0.1", value_name = "ADDR")]
    pub bind: IpAddr,
    /// Folder for the saved-runs database (created if missing).
    #[arg(long, default_value = "gigawatt-data", value_name = "DIR")]
    pub data: PathBuf,
}

const SERVE_ABOUT: &str = "\
The web dashboard and JSON API on this machine: edit a scenario and see the plan's charts,
evaluate training and serving specs, simulate a job's reliability, sample a portfolio's deal
risk, browse the catalog and its sources, save runs, and compare two runs.
Everything is in the binary; no network is needed.

The API is described at /api/openapi.json; /healthz answers when the server is up.
Stop it with Ctrl-C (or SIGTERM); saved runs are committed before they are acknowledged.";

pub fn run(cli: &Cli, args: &ServeArgs) -> Result<(), Failure> {
    let catalog = load_catalog(cli.catalog.as_deref())?;
    let shipped = scenarios::SHIPPED
        .iter()
        .map(|(name, text)| server::ShippedScenario {
            name: (*name).to_string(),
            text: (*text).to_string(),
        })
        .collect();
    let (risk_name, risk_text) = crate::risk_cmd::SHIPPED;
    let risk_portfolio = Some(server::ShippedScenario {
        name: risk_name.to_string(),
        text: risk_text.to_string(),
    });
    let addr = SocketAddr::new(args.bind, args.port);
    server::serve_blocking(
        addr,
        &args.data,
        catalog,
        shipped,
        risk_portfolio,
        |bound| {
            eprintln!("listening on http://{bound}");
        },
    )
    .map_err(|e| Failure::Io(e.to_string()))
}
