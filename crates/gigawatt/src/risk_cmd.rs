//! `gigawatt risk`: read the portfolio (file or the shipped one) and the plan it names, sample
//! it, render it.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::{Args, ValueEnum};
use risk::RiskError;

use crate::cli::Cli;
use crate::{output, plan_cmd, scenarios, Failure};

/// The shipped portfolio, run when no file is given.
pub const SHIPPED: (&str, &str) = engine::shipped::RISK_PORTFOLIO;

/// Runs this long or longer show a progress bar (on a terminal).
const PROGRESS_FROM_SAMPLES: u64 = 200_000;

const ABOUT: &str = "\
Monte Carlo over a portfolio of compute deals: how much capacity will really be online, by
when, with what probability, and which deal matters most.

PORTFOLIO is a portfolio file (TOML) or `openai-portfolio-risk` (the shipped one, the default).
It names a plan (`scenario = \"openai-portfolio\"`: a shipped scenario or a path relative to the
file) and, per deal, the odds that it proceeds in full, is cut, is delayed or collapses, its ramp
uncertainty and the shared drivers (power, packaging, financing) that make bad outcomes cluster.
Deals it does not list get defaults from their reported status. See \"Deal risk\" in the README.";

/// Arguments of `gigawatt risk`.
#[derive(Debug, Args)]
#[command(long_about = ABOUT, after_help = crate::examples::RISK)]
pub struct RiskArgs {
    /// A portfolio file, or `openai-portfolio-risk` (default).
    #[arg(value_name = "PORTFOLIO")]
    pub portfolio: Option<String>,
    /// Samples of the whole portfolio (1 to 10,000,000); default: the file's, else 10,000.
    #[arg(long, short = 'n', value_name = "N", allow_negative_numbers = true)]
    pub samples: Option<i64>,
    /// Seed: the same seed and samples give the same numbers on any machine and thread count;
    /// default: the file's, else 1.
    #[arg(long, value_name = "S", allow_negative_numbers = true)]
    pub seed: Option<i64>,
    /// Ask the probability of at least this much facility power online (GW) ...
    #[arg(
        long,
        value_name = "GW",
        allow_negative_numbers = true,
        requires = "by"
    )]
    pub at_least_gw: Option<f64>,
    /// ... by the end of this month (YYYY-MM).
    #[arg(long, value_name = "YYYY-MM", requires = "at_least_gw")]
    pub by: Option<String>,
    /// Output format; default: from --out's extension, else a table.
    #[arg(long, short = 'f', value_enum)]
    pub format: Option<RiskFormat>,
    /// Write the output to this file instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Run with only what was public on this day (YYYY-MM-DD): deal events and statuses after
    /// it are ignored. Distinct from the portfolio's `as_of` (capacity counted as delivered).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub known_on: Option<String>,
    /// Leave out the run time (`elapsed_s`), so that the same portfolio, samples and seed give
    /// the same bytes in every format.
    #[arg(long)]
    pub no_timing: bool,
}

/// Output formats of `gigawatt risk`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RiskFormat {
    /// A readable summary for a terminal.
    Table,
    /// Everything, as JSON (samples, seed, elapsed_s unless --no-timing, timeline percentiles, tornado, deals, assumptions).
    Json,
    /// The monthly percentiles as CSV.
    Csv,
    /// A self-contained HTML report with a fan chart and a tornado chart.
    Html,
}

pub fn run(cli: &Cli, args: &RiskArgs) -> Result<(), Failure> {
    let catalog = plan_cmd::load_catalog(cli.catalog.as_deref())?;
    let catalog = crate::deals_cmd::cut_back(catalog, args.known_on.as_deref())?;
    let (origin, text, dir) = read_portfolio(args.portfolio.as_deref())?;
    let file = risk::parse(&origin, &text).map_err(render)?;
    let (scenario_origin, scenario_text) = read_plan(&file, &origin, &text, dir.as_deref())?;
    let portfolio = risk::build(
        &catalog,
        &file,
        &origin,
        &text,
        &scenario_origin,
        &scenario_text,
    )
    .map_err(render)?;

    let options = risk::checked_options(
        &portfolio,
        args.samples,
        portfolio.default_samples.unwrap_or(risk::DEFAULT_SAMPLES),
        args.seed,
        args.at_least_gw,
        args.by.as_deref(),
    )
    .map_err(|d| Failure::Input(d.to_string()))?;
    let samples = options.samples;

    let bar = (samples >= PROGRESS_FROM_SAMPLES && std::io::stderr().is_terminal())
        .then(|| indicatif::ProgressBar::new(0));
    let progress = |done: u64, total: u64| {
        if let Some(bar) = &bar {
            bar.set_length(total);
            bar.set_position(done);
        }
    };
    let started = Instant::now();
    let result = risk::run(&portfolio, &options, &progress);
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let mut result = result.map_err(render)?;
    result.elapsed_s =
        (!args.no_timing).then(|| (started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0);
    // Capability: per-system tables built once, read at each sample's fleet (as `plan` reads
    // them at the planned fleet).
    let tables = risk::build_tables(&catalog, &portfolio);
    result.capability = risk::capability(&portfolio, &options, &tables);
    result.knowledge = Some(engine::knowledge::knowledge(
        &catalog,
        result.deals.iter().map(|d| d.id.as_str()),
    ));
    result
        .warnings
        .extend(engine::knowledge::late_source_warnings(
            &catalog,
            result.sources.iter().map(|s| s.id.as_str()),
        ));

    let format = crate::output::format_for(
        args.format,
        args.out.as_deref(),
        RiskFormat::Table,
        &[
            ("json", RiskFormat::Json),
            ("csv", RiskFormat::Csv),
            ("html", RiskFormat::Html),
            ("htm", RiskFormat::Html),
        ],
    )?;
    let text = match format {
        RiskFormat::Table => report::risk::risk_text_summary(&result),
        RiskFormat::Json => report::risk::risk_json(&result),
        RiskFormat::Csv => report::risk::risk_csv(&result),
        RiskFormat::Html => report::risk::risk_html(&result),
    };
    output::emit(&text, args.out.as_deref())
}

/// (origin, text, folder the file is in) of the portfolio.
fn read_portfolio(given: Option<&str>) -> Result<(String, String, Option<PathBuf>), Failure> {
    let shipped = || {
        (
            format!("<shipped>/scenarios/{}.toml", SHIPPED.0),
            SHIPPED.1.to_string(),
            None,
        )
    };
    let Some(given) = given else {
        return Ok(shipped());
    };
    let path = Path::new(given);
    if std::fs::metadata(path).is_ok() {
        let text = crate::input::read_input(path, "portfolio file")?;
        let dir = path.parent().map(Path::to_path_buf);
        return Ok((given.to_string(), text, dir));
    }
    let name = given.strip_suffix(".toml").unwrap_or(given);
    if name == SHIPPED.0 || name.ends_with(&format!("/{}", SHIPPED.0)) {
        return Ok(shipped());
    }
    let hint = match catalog::nearest(name, [SHIPPED.0]) {
        Some(near) => format!("did you mean the shipped portfolio `{near}`?"),
        None => format!("give a path to a portfolio file, or `{}`", SHIPPED.0),
    };
    Err(Failure::Input(format!(
        "no portfolio file or shipped portfolio named `{given}`\n  fix: {hint}"
    )))
}

/// (origin, text) of the plan the portfolio names: a path relative to the portfolio's folder,
/// else a shipped scenario.
fn read_plan(
    file: &risk::file::PortfolioFile,
    origin: &str,
    text: &str,
    dir: Option<&Path>,
) -> Result<(String, String), Failure> {
    let (wanted, _) = risk::scenario_ref(file);
    if let Some(dir) = dir {
        let path = dir.join(wanted);
        if std::fs::metadata(&path).is_ok() {
            let plan = crate::input::read_input(&path, "scenario file").map_err(|e| {
                let (crate::Failure::Input(m) | crate::Failure::Io(m)) = e;
                render(risk::scenario_error(
                    file,
                    origin,
                    text,
                    format!("the plan: {m}"),
                    "a plan is a UTF-8 TOML scenario file".into(),
                ))
            })?;
            return Ok((path.display().to_string(), plan));
        }
    }
    if let Some((name, plan)) = scenarios::find(wanted) {
        return Ok((format!("<shipped>/scenarios/{name}.toml"), plan.to_string()));
    }
    let names = scenarios::SHIPPED.iter().map(|(n, _)| *n);
    let hint = match catalog::nearest(wanted, names) {
        Some(near) => format!("did you mean the shipped scenario `{near}`?"),
        None => "give a shipped scenario name (`gigawatt scenarios`) or a path relative to the portfolio file".into(),
    };
    Err(render(risk::scenario_error(
        file,
        origin,
        text,
        format!("no scenario file or shipped scenario named `{wanted}`"),
        hint,
    )))
}

fn render(e: RiskError) -> Failure {
    let RiskError::Invalid(diagnostics) = e;
    Failure::Input(diagnostics.to_string())
}
