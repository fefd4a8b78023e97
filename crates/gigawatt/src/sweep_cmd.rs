//! `gigawatt sweep`: read a sweep file and its base, run the points (or one shard of them) in
//! parallel with a progress bar, write one table.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::{Args, ValueEnum};
use sweep::{Shard, Sweep, SweepFile};

use crate::cli::Cli;
use crate::{output, plan_cmd, Failure};

const ABOUT: &str = "\
Sweeps: one base input (a scenario, a `train` spec or an `infer` spec) and axes over its fields,
addressed by the paths diagnostics print (`defaults.pue`, `tranche[2].facility_gw`,
`parallelism.tp`, `overrides.accelerator.rubin.bf16_dense_tflops`). Each axis is a list of
values, a range (step or count) or a seeded random sample; the points are every combination
(the last axis varies fastest), run in parallel. One row per point: `point` (its id), each
axis's value, the kind's key outputs (see \"Sweeps\" in the README) and `error` (empty unless
the engine refused that point's input).

--shard K/N runs points K-1, K-1+N, K-1+2N, ...: deterministic, so a shard can be retried, and
the shards' tables concatenated and sorted by `point` are the whole sweep's table.";

const EXAMPLES: &str = "\
Examples:
  gigawatt sweep sweeps/plan-pue-power-price.toml --out results.parquet
  gigawatt sweep my-sweep.toml --dry-run                # how many points, which columns
  gigawatt sweep my-sweep.toml --shard 3/16 --out part-3.parquet   # one of 16 array tasks
  gigawatt sweep big.toml --force --out big.parquet     # past the file's max_points";

/// Arguments of `gigawatt sweep`.
#[derive(Debug, Args)]
#[command(long_about = ABOUT, after_help = EXAMPLES)]
pub struct SweepArgs {
    /// The sweep file (TOML; see "Sweeps" in the README).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Write the table to this file; the format follows the extension (.parquet, .csv, .json).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Output format; default: from --out's extension, else CSV.
    #[arg(long, short = 'f', value_enum)]
    pub format: Option<SweepFormat>,
    /// Run only shard K of N (K from 1 to N): points K-1, K-1+N, ...
    #[arg(long, value_name = "K/N")]
    pub shard: Option<String>,
    /// Run a sweep larger than its max_points (default 100,000).
    #[arg(long)]
    pub force: bool,
    /// Check the file and print the number of points and the columns, without running.
    #[arg(long)]
    pub dry_run: bool,
}

/// Formats for a sweep's table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SweepFormat {
    /// Apache Parquet (typed columns; pandas, Arrow, DuckDB, Spark read it).
    Parquet,
    /// CSV with a header row; missing values empty.
    Csv,
    /// JSON: {"columns": [{name, type}], "rows": [{...}]}.
    Json,
}

fn input(d: catalog::Diagnostics) -> Failure {
    Failure::Input(d.to_string())
}

pub fn run(cli: &Cli, args: &SweepArgs) -> Result<(), Failure> {
    let shard = match &args.shard {
        Some(text) => text
            .parse::<Shard>()
            .map_err(|m| Failure::Input(format!("--shard {m}")))?,
        None => Shard::ALL,
    };
    let format = output::format_for(
        args.format,
        args.out.as_deref(),
        SweepFormat::Csv,
        &[
            ("parquet", SweepFormat::Parquet),
            ("pq", SweepFormat::Parquet),
            ("csv", SweepFormat::Csv),
            ("json", SweepFormat::Json),
        ],
    )?;
    if format == SweepFormat::Parquet && args.out.is_none() && std::io::stdout().is_terminal() {
        return Err(Failure::Input(
            "Parquet is binary and standard output is a terminal\n  fix: add --out results.parquet, or --format csv".into(),
        ));
    }
    let catalog = plan_cmd::load_catalog(cli.catalog.as_deref())?;
    let origin = args.file.display().to_string();
    let text = crate::input::read_input(&args.file, "sweep file")?;
    let file = SweepFile::parse(&origin, &text).map_err(input)?;
    let dir = args.file.parent().map(Path::to_path_buf);
    let base = sweep::resolve_base(&file, dir.as_deref(), |path| {
        if std::fs::metadata(path).is_err() {
            return Ok(None);
        }
        crate::input::read_input(path, "base input")
            .map(Some)
            .map_err(|f| {
                let (Failure::Input(m) | Failure::Io(m)) = f;
                m
            })
    })
    .map_err(input)?;
    let sweep = Sweep::new(&catalog, file, base).map_err(input)?;
    let total = sweep.points();
    let in_shard = shard.len(total);
    if args.dry_run {
        let columns = sweep::column_names(&sweep);
        let text = format!(
            "{total} points ({} axes){}; {in_shard} in shard {shard}\ncolumns: {}\n",
            sweep.file().axes.len(),
            if sweep.check_size(false).is_ok() {
                ""
            } else {
                ", over max_points: needs --force"
            },
            columns.join(", ")
        );
        return output::emit(&text, None);
    }
    sweep.check_size(args.force).map_err(input)?;

    let bar = (in_shard >= 200 && std::io::stderr().is_terminal()).then(|| {
        let bar = indicatif::ProgressBar::new(in_shard);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:40} {pos}/{len} points, {per_sec}, eta {eta}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });
    let started = Instant::now();
    let table = sweep.run(&catalog, shard, &|| {
        if let Some(bar) = &bar {
            bar.inc(1);
        }
    });
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let elapsed = started.elapsed().as_secs_f64();
    let errors: Vec<&str> = match &table.column("error").map(|c| &c.values) {
        Some(sweep::Values::Text(v)) => v.iter().flatten().map(String::as_str).collect(),
        _ => Vec::new(),
    };
    if in_shard > 0 && errors.len() as u64 == in_shard {
        return Err(Failure::Input(format!(
            "every point of the sweep failed; the first: {}\n  fix: check the base input with `gigawatt {}` and the axes' values",
            errors[0],
            sweep.file().kind.name()
        )));
    }
    eprintln!(
        "swept {in_shard} point{} of {total}{} in {elapsed:.1} s",
        if in_shard == 1 { "" } else { "s" },
        if shard == Shard::ALL {
            String::new()
        } else {
            format!(" (shard {shard})")
        }
    );
    if let Some(first) = errors.first() {
        eprintln!(
            "warning: {} point{} refused by the engine (their message is in the `error` column); the first: {first}",
            errors.len(),
            if errors.len() == 1 { " was" } else { "s were" }
        );
    }
    let bytes = match format {
        SweepFormat::Parquet => {
            sweep::parquet::write(&table, &format!("gigawatt {}", engine::ENGINE_VERSION))
        }
        SweepFormat::Csv => table.to_csv().into_bytes(),
        SweepFormat::Json => {
            let mut text = serde_json::to_string_pretty(&table.to_json())
                .map_err(|e| Failure::Io(e.to_string()))?;
            text.push('\n');
            text.into_bytes()
        }
    };
    output::emit_bytes(&bytes, args.out.as_deref())
}
