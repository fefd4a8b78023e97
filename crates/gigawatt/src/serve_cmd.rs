//! `gigawatt serve` (being written).

use clap::Args;

use crate::cli::Cli;
use crate::Failure;

/// Arguments of `gigawatt serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {}

pub fn run(_cli: &Cli, _args: &ServeArgs) -> Result<(), Failure> {
    Err(Failure::Input("gigawatt serve is not built yet".into()))
}
