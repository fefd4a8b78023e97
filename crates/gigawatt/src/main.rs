//! The `gigawatt` command: the edge where files, flags and terminals meet the engine.
//!
//! Exit codes: 0 success; 1 a failure that is not the input's fault (I/O); 2 bad input or
//! usage. A closed pipe (`gigawatt plan | head`) counts as success.

mod catalog_cmd;
mod claims_cmd;
mod cli;
mod deals_cmd;
mod examples;
mod infer_cmd;
mod input;
mod output;
mod plan_cmd;
mod reliability_cmd;
mod risk_cmd;
mod scenarios;
mod serve_cmd;
mod sources_cmd;
mod sweep_cmd;
mod train_cmd;
mod train_validate_cmd;

use std::process::ExitCode;

use clap::Parser;

/// Why a command failed, and so which exit code it returns.
#[derive(Debug)]
pub enum Failure {
    /// The input (file, flag, id) is wrong: exit 2.
    Input(String),
    /// Something outside the input failed (disk full, permission): exit 1.
    Io(String),
}

impl Failure {
    fn exit_code(&self) -> u8 {
        match self {
            Failure::Input(_) => 2,
            Failure::Io(_) => 1,
        }
    }
}

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    let outcome = match &args.command {
        cli::Command::Plan(plan) => plan_cmd::run(&args, plan),
        cli::Command::Catalog(catalog) => catalog_cmd::run(&args, catalog),
        cli::Command::Scenarios => scenarios::list(),
        cli::Command::Train(train) => train_cmd::run(&args, train),
        cli::Command::Infer(infer) => infer_cmd::run(&args, infer),
        cli::Command::Serve(serve) => serve_cmd::run(&args, serve),
        cli::Command::Reliability(reliability) => reliability_cmd::run(&args, reliability),
        cli::Command::Risk(risk) => risk_cmd::run(&args, risk),
        cli::Command::Deals(deals) => deals_cmd::run(&args, deals),
        cli::Command::Sweep(sweep) => sweep_cmd::run(&args, sweep),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            let (Failure::Input(message) | Failure::Io(message)) = &failure;
            eprintln!("error: {message}");
            ExitCode::from(failure.exit_code())
        }
    }
}
