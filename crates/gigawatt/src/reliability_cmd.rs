//! `gigawatt reliability` (being written).

use clap::Args;

use crate::cli::Cli;
use crate::Failure;

/// Arguments of `gigawatt reliability`.
#[derive(Debug, Args)]
pub struct ReliabilityArgs {}

pub fn run(_cli: &Cli, _args: &ReliabilityArgs) -> Result<(), Failure> {
    Err(Failure::Input("gigawatt reliability is not built yet".into()))
}
