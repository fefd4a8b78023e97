//! `gigawatt train`: evaluate a training spec, search for the best layout, or validate the
//! model against published runs.

use std::path::PathBuf;
use std::time::Instant;

use clap::{Args, Subcommand};
use serde_json::json;
use units::fmt_count;

use crate::cli::{Cli, ListFormat};
use crate::plan_cmd::load_catalog;
use crate::{output, Failure};

/// Arguments of `gigawatt train`.
#[derive(Debug, Args)]
#[command(
    args_conflicts_with_subcommands = true,
    long_about = TRAIN_ABOUT,
    after_help = crate::examples::TRAIN
)]
pub struct TrainArgs {
    /// A training spec file (TOML): [model] or model = "id", [cluster], [parallelism], [training].
    #[arg(long, value_name = "FILE")]
    pub spec: Option<PathBuf>,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = ListFormat::Table)]
    pub format: ListFormat,
    #[command(subcommand)]
    pub command: Option<TrainCommand>,
}

const TRAIN_ABOUT: &str = "\
How fast does a model train on a cluster, with which parallel layout, and does it fit?

The spec format is in the README (\"Training a model\").";

#[derive(Debug, Subcommand)]
pub enum TrainCommand {
    /// Search every valid layout (TP, PP, DP, CP, EP, interleaving, microbatch, recompute,
    /// ZeRO, sequence parallel) and print the fastest that fit.
    #[command(after_help = crate::examples::TRAIN_SEARCH)]
    Search(SearchArgs),
    /// Compare the model with published training runs: per source family, leave one source
    /// out, leave Blackwell out, coverage, and each accuracy target with its figure (the
    /// shipped calibration files by default).
    #[command(after_help = crate::examples::TRAIN_VALIDATE)]
    Validate {
        /// Calibration CSVs (default: calibration/training.csv and
        /// calibration/training-blackwell-moe.csv, shipped in the binary).
        files: Vec<PathBuf>,
        /// Output format: table, json, csv (one line per row) or html (a page with a chart of
        /// every row's error by source family) [default: table, or what --out's extension
        /// names].
        #[arg(long, short = 'f', value_enum)]
        format: Option<crate::train_validate_cmd::ValidateFormat>,
        /// Write the output to this file instead of standard output.
        #[arg(long, short = 'o', value_name = "FILE")]
        out: Option<PathBuf>,
        /// Show only the rows whose id contains TEXT (case-insensitive; repeat for more), each
        /// with its layout, what was filled, where its predicted step goes and what its compute
        /// runs by kind of kernel. Every figure (errors, leave one source out) is still computed
        /// over every row.
        #[arg(long = "row", value_name = "TEXT")]
        rows: Vec<String>,
        /// Your own source families, model facts, recipes and exclusions, for runs the shipped
        /// families do not describe (TOML in calibration/sources.toml's schema: [[family]],
        /// [[model]], [[recipe]], [[exclude]]; repeat for more). Read ahead of the shipped
        /// entries: your recipe and model facts win where both name a row or model.
        #[arg(long = "sources", value_name = "FILE")]
        sources: Vec<PathBuf>,
    },
}

#[derive(Debug, Args)]
pub struct SearchArgs {
    /// Catalog model id (`gigawatt catalog list --kind models`).
    #[arg(long)]
    pub model: String,
    /// Catalog system id.
    #[arg(long)]
    pub system: String,
    /// Accelerators in the job.
    #[arg(long, allow_negative_numbers = true)]
    pub gpus: i64,
    /// Sequences per step.
    #[arg(long, allow_negative_numbers = true)]
    pub global_batch: i64,
    /// Tokens per sequence.
    #[arg(long, allow_negative_numbers = true)]
    pub seq_len: i64,
    /// Matmul precision: bf16, fp8 or fp4, or a recipe (fp8-delayed, fp8-current,
    /// fp8-blockwise, mxfp8, nvfp4, mxfp4).
    #[arg(long, default_value = "bf16")]
    pub precision: String,
    /// Training framework (catalog/frameworks.toml; default: the newest Megatron): only
    /// layouts it runs are returned, with its software.
    #[arg(long)]
    pub framework: Option<String>,
    /// How many layouts to print.
    #[arg(long, default_value_t = 5)]
    pub top: usize,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = ListFormat::Table)]
    pub format: ListFormat,
}

pub fn run(cli: &Cli, args: &TrainArgs) -> Result<(), Failure> {
    let catalog = load_catalog(cli.catalog.as_deref())?;
    match &args.command {
        Some(TrainCommand::Search(search)) => run_search(&catalog, search),
        Some(TrainCommand::Validate {
            files,
            format,
            out,
            rows,
            sources,
        }) => crate::train_validate_cmd::run_validate(
            &catalog,
            files,
            sources,
            *format,
            out.as_deref(),
            rows,
        ),
        None => {
            let Some(path) = &args.spec else {
                return Err(Failure::Input(
                    "gigawatt train needs a spec\n  fix: gigawatt train --spec FILE, or gigawatt train search --help".into(),
                ));
            };
            let text = crate::input::read_input(path, "training spec")?;
            let result = engine::train::train_text(&catalog, &path.display().to_string(), &text)
                .map_err(|e| {
                    let engine::EngineError::Invalid(d) = e;
                    Failure::Input(d.to_string())
                })?;
            let text = match args.format {
                ListFormat::Json => json_text(&result),
                ListFormat::Table => train_table(&result),
            };
            output::emit(&text, None)
        }
    }
}

fn json_text(value: &impl serde::Serialize) -> String {
    let mut s = serde_json::to_string_pretty(value).expect("results serialize");
    s.push('\n');
    s
}

fn train_table(r: &engine::train::TrainResult) -> String {
    let s = &r.strategy;
    let b = &r.breakdown;
    let mut out = format!(
        "{} on {} x {} ({:.1}B parameters, {:.1}B active)\n",
        r.model.id,
        fmt_count(r.gpus as f64),
        r.system,
        r.model.params_total / 1e9,
        r.model.params_active / 1e9
    );
    out +=
        &format!(
        "layout: tp {} pp {} dp {} cp {} ep {} vpp {} microbatch {} sp {} recompute {} zero {}\n",
        s.tp, s.pp, s.dp, s.cp, s.ep, s.virtual_pp, s.microbatch, s.sequence_parallel,
        engine::train::recompute_words(s), s.zero
    );
    if r.stages.pp > 1 {
        out += &format!(
            "stages: {} layers first, {} per middle stage, {} last\n",
            r.stages.first,
            if r.stages.middle == r.stages.middle_min {
                r.stages.middle.to_string()
            } else {
                format!("{}-{}", r.stages.middle_min, r.stages.middle)
            },
            r.stages.last
        );
    }
    out += &format!(
        "framework: {} ({})\n",
        r.framework,
        match &r.framework_reason {
            None => "runs this layout".to_string(),
            Some(why) => format!("cannot run this layout: {why}"),
        }
    );
    if let Some(auto) = &r.recompute_auto {
        out += &format!("recompute: {auto}\n");
    }
    out += "\n";
    out += &format!(
        "  step time        {:.3} s (typically within ±{:.1}%, see assumptions)\n",
        r.step_time_s,
        100.0 * r.step_time_error.mean_absolute
    );
    out += &format!("  tokens/s         {}\n", fmt_count(r.tokens_per_s));
    out += &format!(
        "  TFLOP/s per GPU  {} (model FLOPs)\n",
        units::fmt_grouped(r.tflops_per_gpu, 1)
    );
    out += &format!(
        "  MFU / HFU        {:.1}% / {:.1}%\n",
        100.0 * r.mfu,
        100.0 * r.hfu
    );
    let m = &r.memory_gib;
    out += &format!(
        "  memory per GPU   {:.1} GiB of {:.1} (weights {:.1}, gradients {:.1}, optimizer {:.1}, activations {:.1}, reserved {:.1})\n",
        r.memory_gib_per_gpu, m.capacity, m.weights, m.gradients, m.optimizer, m.activations, m.reserved
    );
    out += &format!(
        "  feasible         {}\n",
        if r.feasible {
            "yes".to_string()
        } else {
            format!("no: {}", r.reason.clone().unwrap_or_default())
        }
    );
    if let Some(t) = &r.time_to_train {
        out += &format!(
            "  time to train    {} days for {} without failures; {} days with them (ETTR {:.1}%, checkpoint every {:.0} min)\n",
            units::fmt_grouped(t.days_without_failures, 1), units::fmt_short_scale(t.tokens, "tokens"), units::fmt_grouped(t.days_with_failures, 1), 100.0 * t.ettr, t.checkpoint_interval_min
        );
    }
    out += "\nwhere a step goes (s)\n";
    for (name, value) in b.step_parts() {
        out += &format!("  {name:<24}{value:>10.3}\n");
    }
    out += "\nwhat the compute runs (s, share of compute)\n";
    for (name, value) in b.compute_by_kind() {
        out += &format!(
            "  {name:<24}{value:>10.3} {:>6.1}%\n",
            100.0 * value / b.compute_s.max(f64::MIN_POSITIVE)
        );
    }
    out += "\nassumptions\n";
    for a in &r.assumptions {
        out += &format!("  - {a}\n");
    }
    out
}

fn run_search(catalog: &catalog::Catalog, a: &SearchArgs) -> Result<(), Failure> {
    for (flag, value) in [
        ("--gpus", a.gpus),
        ("--global-batch", a.global_batch),
        ("--seq-len", a.seq_len),
    ] {
        if !(1..=10_000_000).contains(&value) {
            return Err(Failure::Input(format!(
                "{flag} is {value}\n  fix: a whole number from 1 to 10,000,000"
            )));
        }
    }
    if a.top == 0 || a.top > 1000 {
        return Err(Failure::Input(format!(
            "--top is {}\n  fix: ask for 1 to 1000 layouts",
            a.top
        )));
    }
    // A family (bf16, fp8, fp4) or a recipe (mxfp8, fp8-current, nvfp4, ...).
    let (precision, recipe) =
        engine::train::parse_training_precision(&a.precision).ok_or_else(|| {
            Failure::Input(format!(
                "--precision `{}` is unknown\n  fix: use {}",
                a.precision,
                engine::train::TRAINING_PRECISION_NAMES
            ))
        })?;
    let workload = perf::Workload {
        global_batch: a.global_batch as f64,
        seq_len: a.seq_len as f64,
        precision,
        components: recipe.map(perf::ComponentRecipes::uniform),
        moe: perf::MoeRouting::default(),
    };
    let inputs =
        engine::train::resolve_train_inputs(catalog, &a.model, &a.system, a.gpus as u64, workload)
            .map_err(|m| Failure::Input(format!("{m}\n  fix: {}", engine::train::lookup_fix(&m))))?
            .with_framework(catalog, a.framework.as_deref())
            .map_err(|m| {
                Failure::Input(format!(
                    "--framework: {m}\n  fix: the frameworks are in catalog/frameworks.toml"
                ))
            })?;
    if let Some(r) = recipe.filter(|r| !r.supported_on(&inputs.hardware)) {
        return Err(Failure::Input(format!(
            "--precision: `{}` has no {} matmuls\n  fix: choose a recipe the chip runs (bf16, fp8-delayed or fp8-current on Hopper; mxfp8 and nvfp4 need Blackwell)",
            a.system,
            r.name()
        )));
    }
    let started = Instant::now();
    let options = perf::SearchOptions {
        gpus: a.gpus as u32,
        top: a.top,
        max_microbatch: 16,
    };
    let found = engine::train::search_layouts(&inputs, &options);
    let elapsed_s = started.elapsed().as_secs_f64();
    if found.evaluated == 0 {
        return Err(Failure::Input(format!(
            "no parallel layout splits {} GPUs and a batch of {} sequences for {} (tp must divide the heads within the scale-up domain, pp the layers, and dp the batch)\n  fix: use a GPU count that is a multiple of a power of two (e.g. 8, 64, 1024) and a batch divisible by the data-parallel size",
            a.gpus, a.global_batch, a.model
        )));
    }
    let top: Vec<_> = found
        .top
        .iter()
        .map(|r| engine::train::train_result(catalog, &inputs, r.strategy, String::new()))
        .collect();
    let text = match a.format {
        ListFormat::Json => json_text(&json!({
            "model": a.model,
            "system": a.system,
            "gpus": a.gpus,
            "framework": inputs.framework_id,
            "workload": workload,
            "evaluated": found.evaluated,
            "illegal": found.illegal,
            "feasible": found.feasible,
            "elapsed_s": elapsed_s,
            "top": top,
        })),
        ListFormat::Table => {
            let mut out = format!(
                "{} on {} x {} with {}: {} layouts evaluated, {} fit, in {:.2} s ({} the framework cannot run left out)\n\n",
                a.model,
                fmt_count(a.gpus as f64),
                a.system,
                inputs.framework_id,
                fmt_count(found.evaluated as f64),
                fmt_count(found.feasible as f64),
                elapsed_s,
                fmt_count(found.illegal as f64)
            );
            if top.is_empty() {
                out += "No layout fits in memory: add GPUs, shorten sequences, or pick a larger-memory system.\n";
            }
            out += &format!("  {:>3} {:>3} {:>5} {:>3} {:>3} {:>3} {:>3} {:>3} {:>10} {:>4} {:>9} {:>10} {:>6} {:>8}\n", "tp", "pp", "dp", "cp", "ep", "vpp", "mb", "sp", "recompute", "zero", "step s", "tokens/s", "MFU", "mem GiB");
            for r in &top {
                let s = &r.strategy;
                out += &format!(
                    "  {:>3} {:>3} {:>5} {:>3} {:>3} {:>3} {:>3} {:>3} {:>10} {:>4} {:>9.3} {:>10} {:>5.1}% {:>8.1}\n",
                    s.tp, s.pp, s.dp, s.cp, s.ep, s.virtual_pp, s.microbatch, if s.sequence_parallel { "y" } else { "n" },
                    format!("{:?}", s.recompute).to_lowercase(), s.zero, r.step_time_s, fmt_count(r.tokens_per_s), 100.0 * r.mfu, r.memory_gib_per_gpu
                );
            }
            // Rankings finer than the model's error are not findings.
            if let Some(first) = top.first() {
                out += &format!(
                    "\nStep times are typically within ±{:.1}% (the {}): layouts closer than that are a tie.\n",
                    100.0 * first.step_time_error.mean_absolute,
                    first.step_time_error.basis
                );
            }
            out
        }
    };
    output::emit(&text, None)
}
