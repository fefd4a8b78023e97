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
    /// Address to bind; the default serves this machine only. Any other address (0.0.0.0
    /// exposes the dashboard to the network) prints a warning and requires an access token.
    #[arg(long, default_value = "127.0.0.1", value_name = "ADDR")]
    pub bind: IpAddr,
    /// Folder for the saved-runs database (created if missing).
    #[arg(long, default_value = "gigawatt-data", value_name = "DIR")]
    pub data: PathBuf,
    /// A further host name the server answers to (behind a reverse proxy, or a DNS name for
    /// this machine); repeatable. Requests with any other Host are refused (DNS rebinding).
    #[arg(long = "allowed-host", value_name = "NAME")]
    pub allowed_hosts: Vec<String>,
    /// The access token clients must present (`Authorization: Bearer`, or once in the browser
    /// as `?token=`); default: GIGAWATT_TOKEN, else one generated and printed when serving
    /// beyond loopback. Prefer GIGAWATT_TOKEN: a flag is visible to other users in `ps`.
    #[arg(long, value_name = "TOKEN")]
    pub token: Option<String>,
    /// Seconds a client may take to send a request's headers, and an idle keep-alive
    /// connection may wait for its next request, before it is dropped.
    #[arg(long, default_value_t = 10.0, value_name = "S")]
    pub header_timeout_s: f64,
    /// Seconds a client may take to send a request's body before it gets 408 and is dropped.
    #[arg(long, default_value_t = 30.0, value_name = "S")]
    pub body_timeout_s: f64,
    /// Connections served at once; more wait in the listen queue.
    #[arg(long, default_value_t = server::guard::MAX_CONNECTIONS, value_name = "N")]
    pub max_connections: usize,
    /// Largest run the store accepts, input plus result, in MiB (larger saves get 413).
    #[arg(long, default_value_t = 8.0, value_name = "MIB")]
    pub max_run_mib: f64,
    /// Most runs the store keeps (a save beyond it gets 409 until runs are deleted).
    #[arg(long, default_value_t = server::guard::MAX_RUNS, value_name = "N")]
    pub max_runs: u64,
}

const SERVE_ABOUT: &str = "\
The web dashboard and JSON API on this machine: edit a scenario and see the plan's charts,
evaluate training and serving specs, simulate a job's reliability, sample a portfolio's deal
risk, browse the catalog and its sources, save runs, and compare two runs.
Everything is in the binary; no network is needed.

The API is described at /api/openapi.json; /healthz answers when the server is up.
Stop it with Ctrl-C (or SIGTERM); saved runs are committed before they are acknowledged.

Security: requests must name this server as their Host (127.0.0.1, localhost, [::1], the bound
address, or an --allowed-host); POSTs must be application/json (or application/toml) and come
from no other origin. Beyond loopback (--bind 0.0.0.0) the server needs an access token:

  GIGAWATT_TOKEN=$(openssl rand -hex 16) gigawatt serve --bind 0.0.0.0
  curl -H \"Authorization: Bearer $GIGAWATT_TOKEN\" http://HOST:8080/api/runs

The token crosses the network in clear text: put a TLS reverse proxy in front (README,
\"Serving beyond this machine\").";

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
    let config = server_config(args, std::env::var("GIGAWATT_TOKEN").ok())?;
    let loopback = args.bind.is_loopback();
    if !loopback {
        eprintln!(
            "warning: serving on {} reaches beyond this machine; every request needs the access token, which crosses the network in clear text without TLS (put a reverse proxy with TLS in front: README, \"Serving beyond this machine\")",
            args.bind
        );
    }
    let generated = args.token.is_none() && std::env::var("GIGAWATT_TOKEN").is_err();
    let token = config.token.clone();
    server::serve_blocking(
        addr,
        &args.data,
        catalog,
        shipped,
        risk_portfolio,
        config,
        |bound| {
            eprintln!("listening on http://{bound}");
            if let Some(token) = &token {
                let host = if bound.ip().is_unspecified() {
                    format!("THIS-MACHINE:{}", bound.port())
                } else {
                    bound.to_string()
                };
                if generated {
                    eprintln!("access token (generated, shown once): {token}");
                }
                eprintln!("open http://{host}/?token={token} in a browser (it keeps the token in a cookie); API clients send `Authorization: Bearer TOKEN`");
            }
        },
    )
    .map_err(|e| Failure::Io(e.to_string()))
}

/// The server's configuration from the flags and GIGAWATT_TOKEN (`env_token`).
fn server_config(
    args: &ServeArgs,
    env_token: Option<String>,
) -> Result<server::ServerConfig, Failure> {
    let seconds = |flag: &str, value: f64| {
        if value.is_finite() && value > 0.0 && value <= 86_400.0 {
            Ok(std::time::Duration::from_secs_f64(value))
        } else {
            Err(Failure::Input(format!(
                "{flag} is {value}\n  fix: give seconds, more than 0 and at most 86400"
            )))
        }
    };
    let header_timeout = seconds("--header-timeout-s", args.header_timeout_s)?;
    let body_timeout = seconds("--body-timeout-s", args.body_timeout_s)?;
    if !(args.max_run_mib.is_finite() && args.max_run_mib > 0.0 && args.max_run_mib <= 1024.0) {
        return Err(Failure::Input(format!(
            "--max-run-mib is {}\n  fix: give MiB, more than 0 and at most 1024",
            args.max_run_mib
        )));
    }
    if args.max_runs == 0 || args.max_connections == 0 {
        return Err(Failure::Input(
            "--max-runs and --max-connections must be at least 1\n  fix: give a whole number, 1 or more".into(),
        ));
    }
    let mut token = args.token.clone().or(env_token);
    if let Some(t) = &token {
        if t.len() < 16
            || !t
                .bytes()
                .all(|b| b.is_ascii_graphic() && b != b';' && b != b',')
        {
            return Err(Failure::Input(
                "the access token must be at least 16 printable characters, without spaces, `;` or `,`\n  fix: generate one with `openssl rand -hex 16`".into(),
            ));
        }
    }
    if token.is_none() && !args.bind.is_loopback() {
        token = Some(server::guard::generate_token().map_err(Failure::Io)?);
    }
    let mut allowed_hosts = Vec::new();
    for host in &args.allowed_hosts {
        let name = server::ServerConfig::normalize_host(host);
        if name.is_empty() || name.contains(['/', ' ', '@']) {
            return Err(Failure::Input(format!(
                "--allowed-host `{host}` is not a host name\n  fix: give a name such as dashboard.example.org (no scheme or path)"
            )));
        }
        allowed_hosts.push(name);
    }
    Ok(server::ServerConfig {
        bound: SocketAddr::new(args.bind, args.port),
        allowed_hosts,
        token,
        header_timeout,
        body_timeout,
        max_connections: args.max_connections,
        max_run_bytes: (args.max_run_mib * 1024.0 * 1024.0) as usize,
        max_runs: args.max_runs,
    })
}
