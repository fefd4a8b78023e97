//! Command-line arguments: what each command and flag means, written for `--help`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// What does a multi-gigawatt compute commitment deliver?
///
/// gigawatt turns a deal ("10 GW of Nvidia systems", "6 GW of AMD MI450") into what it buys:
/// accelerators, racks, FLOP/s, H100-equivalents, capex, opex, energy and financing, month by
/// month, with every number traced to a source.
///
/// Start with `gigawatt plan` (the OpenAI-Nvidia 10 GW letter of intent, as announced), or ask
/// a quick question: `gigawatt plan --system gb200-nvl72 --facility-gw 1.2`.
#[derive(Debug, Parser)]
#[command(
    name = "gigawatt",
    version,
    propagate_version = true,
    after_help = crate::examples::ROOT
)]
pub struct Cli {
    /// A folder of extra catalog files (*.toml, same format as catalog/ in the repository);
    /// they add entries or replace shipped ones with the same id.
    #[arg(long, global = true, value_name = "DIR")]
    pub catalog: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Plan a buildout: a monthly timeline of power, systems, accelerators, FLOP/s, money and
    /// energy.
    #[command(long_about = PLAN_ABOUT, after_help = crate::examples::PLAN)]
    Plan(Box<PlanArgs>),
    /// Browse the catalog: accelerators, systems, deals and the sources behind every number.
    #[command(subcommand, after_help = crate::examples::CATALOG)]
    Catalog(CatalogCommand),
    /// List the scenarios shipped in the binary (usable by name: `gigawatt plan openai-portfolio`).
    #[command(after_help = crate::examples::SCENARIOS)]
    Scenarios,
    /// Serving: tokens per second at a latency target, best layout, fleet capacity, validation.
    Infer(Box<crate::infer_cmd::InferArgs>),
    /// The web dashboard and JSON API on this machine, with saved runs.
    Serve(Box<crate::serve_cmd::ServeArgs>),
    /// Training performance: step time, MFU and memory of a layout; layout search; validation.
    Train(Box<crate::train_cmd::TrainArgs>),
    /// Simulate failures, checkpoints and restarts of a training job: goodput at scale.
    Reliability(Box<crate::reliability_cmd::ReliabilityArgs>),
    /// Monte Carlo over a portfolio of compute deals: capacity and its odds over time.
    Risk(Box<crate::risk_cmd::RiskArgs>),
    /// Deals as dated histories: each deal's events and its status on any date.
    Deals(Box<crate::deals_cmd::DealsArgs>),
    /// Sweeps: vary fields of a scenario or spec over lists, ranges or random samples; one row
    /// per point (Parquet, CSV, JSON); shardable across a cluster.
    Sweep(Box<crate::sweep_cmd::SweepArgs>),
}

const PLAN_ABOUT: &str = "\
Plan a buildout: a monthly timeline of what is online (facility and IT power, systems,
accelerators by type, H100-equivalents by dense bf16 FLOP/s, peak FLOP/s per precision), what
it costs (capex for systems, networking and facility; opex for energy and the rest), the
energy it draws, and financing flowing in.

SCENARIO is a scenario file (TOML) or the name of a shipped scenario (`gigawatt scenarios`).
With neither a file nor --system, it plans the shipped `openai-nvidia-10gw`.

A scenario file lists [[tranche]] entries (system, facility_gw | it_gw | systems, start,
ramp_months, pue, electricity_usd_per_kwh, utilization), optional [defaults], [prices],
[overrides], [[financing]] and [[source]]; see \"Writing a scenario\" in the README.";

/// Output formats for results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A readable summary for a terminal.
    Table,
    /// Everything, as JSON (stable schema: totals, timeline, assumptions, sources).
    Json,
    /// The monthly timeline as CSV.
    Csv,
    /// A Markdown summary with the assumptions ledger.
    Md,
    /// A self-contained HTML report with charts.
    Html,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// A scenario file, or the name of a shipped scenario.
    #[arg(value_name = "SCENARIO", conflicts_with = "system")]
    pub scenario: Option<String>,

    /// Quick question: plan one tranche of this system (see `gigawatt catalog list`).
    #[arg(long, value_name = "ID", help_heading = "Quick question (one tranche)")]
    pub system: Option<String>,
    /// Facility power of the tranche, in GW (IT power is this divided by the PUE).
    #[arg(
        long,
        value_name = "GW",
        allow_negative_numbers = true,
        help_heading = "Quick question (one tranche)"
    )]
    pub facility_gw: Option<f64>,
    /// Size the tranche as a count of systems instead of power.
    #[arg(
        long,
        value_name = "N",
        conflicts_with = "facility_gw",
        allow_negative_numbers = true,
        help_heading = "Quick question (one tranche)"
    )]
    pub systems: Option<f64>,
    /// Power usage effectiveness (facility power / IT power); default from the catalog.
    #[arg(
        long,
        value_name = "RATIO",
        allow_negative_numbers = true,
        help_heading = "Quick question (one tranche)"
    )]
    pub pue: Option<f64>,
    /// First month online, YYYY-MM; default: the system's first availability.
    #[arg(
        long,
        value_name = "YYYY-MM",
        help_heading = "Quick question (one tranche)"
    )]
    pub start: Option<String>,
    /// Months over which systems come online (0: all at once).
    #[arg(
        long,
        value_name = "MONTHS",
        allow_negative_numbers = true,
        help_heading = "Quick question (one tranche)"
    )]
    pub ramp_months: Option<f64>,
    /// Price per system in USD, where the catalog has none or you know better.
    #[arg(
        long,
        value_name = "USD",
        allow_negative_numbers = true,
        help_heading = "Quick question (one tranche)"
    )]
    pub price_usd: Option<f64>,
    /// IT power per system in kW, where the catalog has none or you know better.
    #[arg(
        long,
        value_name = "KW",
        allow_negative_numbers = true,
        help_heading = "Quick question (one tranche)"
    )]
    pub it_power_kw: Option<f64>,
    /// Electricity price in USD per kWh; default from the catalog.
    #[arg(
        long,
        value_name = "USD",
        allow_negative_numbers = true,
        help_heading = "Quick question (one tranche)"
    )]
    pub electricity_usd_per_kwh: Option<f64>,
    /// Average IT power drawn as a fraction of nameplate; default from the catalog.
    #[arg(
        long,
        value_name = "FRACTION",
        allow_negative_numbers = true,
        help_heading = "Quick question (one tranche)"
    )]
    pub utilization: Option<f64>,
    /// Last month of the timeline, YYYY-MM; default: December of the year the build completes.
    #[arg(
        long,
        value_name = "YYYY-MM",
        help_heading = "Quick question (one tranche)"
    )]
    pub end: Option<String>,

    /// Output format; default: from --out's extension, else a table.
    #[arg(long, short = 'f', value_enum)]
    pub format: Option<Format>,
    /// Write the output to this file instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Plan with only what was public on this day (YYYY-MM-DD): deal events, statuses and deal
    /// figures after it are ignored; deals not yet public are refused.
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub known_on: Option<String>,
    /// Skip the ranges: no sampling of the catalog's low/high figures, central values only.
    #[arg(long, help_heading = "Ranges")]
    pub no_ranges: bool,
    /// Seed of the ranges' draws (the same seed gives the same ranges).
    #[arg(long, value_name = "N", default_value_t = 0, help_heading = "Ranges")]
    pub seed: u64,
    /// Draws for the ranges (1 to 100,000).
    #[arg(
        long,
        value_name = "N",
        default_value_t = engine::ranges::DEFAULT_DRAWS as u32,
        value_parser = clap::value_parser!(u32).range(1..=100_000),
        help_heading = "Ranges"
    )]
    pub draws: u32,

    /// Days the largest training run trains (capability view); default 90, at most ten years.
    #[arg(long, value_name = "DAYS", help_heading = "Capability")]
    pub training_days: Option<f64>,
    /// Share of the fleet reserved for serving, 0 to 1; default 0.5.
    #[arg(long, value_name = "SHARE", help_heading = "Capability")]
    pub serving_share: Option<f64>,
    /// Training tokens per parameter; default Chinchilla's 20.
    #[arg(long, value_name = "N", help_heading = "Capability")]
    pub tokens_per_parameter: Option<f64>,
    /// A month to report capability for besides each December (repeatable).
    #[arg(long, value_name = "YYYY-MM", help_heading = "Capability")]
    pub capability_month: Vec<String>,
}

#[derive(Debug, Subcommand)]
pub enum CatalogCommand {
    /// List catalog entries.
    #[command(after_help = crate::examples::CATALOG_LIST)]
    List {
        /// Which entries; default: systems, accelerators, deals and models.
        #[arg(long, value_enum)]
        kind: Option<CatalogKind>,
        /// Everything, with every source (the same as --kind all).
        #[arg(long, conflicts_with = "kind")]
        all: bool,
        /// Output format.
        #[arg(long, short = 'f', value_enum, default_value_t = ListFormat::Table)]
        format: ListFormat,
    },
    /// Show one entry (system, accelerator, deal or source) with the source of every number.
    #[command(after_help = crate::examples::CATALOG_SHOW)]
    Show {
        /// The id, e.g. gb200-nvl72, h100-sxm, openai-nvidia-loi; `facility` for the planning
        /// defaults (PUE, facility capex per MW, electricity price, ...).
        id: String,
        /// Output format.
        #[arg(long, short = 'f', value_enum, default_value_t = ListFormat::Table)]
        format: ListFormat,
    },
    /// Sources: counts by kind and standing (whole catalog and the default plan's figures),
    /// then every source with its kind, date and URL.
    #[command(after_help = crate::examples::CATALOG_SOURCES)]
    Sources {
        /// Output format.
        #[arg(long, short = 'f', value_enum, default_value_t = ListFormat::Table)]
        format: ListFormat,
    },
    /// The record of past announcements and the odds risk derives from it (Beta intervals).
    #[command(after_help = crate::sources_cmd::RECORD_EXAMPLES)]
    Record {
        /// Output format.
        #[arg(long, short = 'f', value_enum, default_value_t = ListFormat::Table)]
        format: ListFormat,
    },
    /// Figures sources disagree on: each source's figure for a quantity, and the range they span.
    #[command(after_help = crate::claims_cmd::CLAIMS_EXAMPLES)]
    Claims {
        /// Only this quantity, `<table>.<id>.<field>` (e.g. system.vera-rubin-nvl144.price_usd).
        quantity: Option<String>,
        /// Output format.
        #[arg(long, short = 'f', value_enum, default_value_t = ListFormat::Table)]
        format: ListFormat,
    },
    /// Load and validate the catalog (with --catalog DIR, your files too); exit 2 on problems.
    #[command(after_help = crate::examples::CATALOG_VALIDATE)]
    /// Warnings (sources without publisher, date read or excerpt) are printed; --strict makes
    /// them errors.
    Validate {
        /// Treat warnings as errors (exit 2).
        #[arg(long)]
        strict: bool,
    },
}

/// Kinds of catalog entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CatalogKind {
    /// Everything, sources and facility defaults included.
    All,
    /// Accelerator packages.
    Accelerators,
    /// Systems (nodes and racks).
    Systems,
    /// Compute deals.
    Deals,
    /// Sources.
    Sources,
    /// Model architectures.
    Models,
    /// Sites (campuses) and their power by phase.
    Sites,
}

/// Formats for catalog listings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    /// Aligned columns.
    Table,
    /// JSON.
    Json,
}
