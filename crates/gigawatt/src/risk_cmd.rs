//! `gigawatt risk` (being written).

use clap::Args;

use crate::cli::Cli;
use crate::Failure;

/// Arguments of `gigawatt risk`.
#[derive(Debug, Args)]
pub struct RiskArgs {}

pub fn run(_cli: &Cli, _args: &RiskArgs) -> Result<(), Failure> {
    Err(Failure::Input("gigawatt risk is not built yet".into()))
}
