//! `gigawatt reliability`: simulate failures, checkpoints and restarts of one training job and
//! report its goodput. The model is in the `reliability` crate; this file reads flags, looks up
//! the system, checks inputs (naming the flag), shows a progress bar and renders.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::IsTerminal;
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use reliability::{IntervalSearch, JobSpec, ReliabilityData, Stop, Summary};
use serde::Serialize;
use units::fmt_count;

use crate::cli::Cli;
use crate::{output, Failure};

const ABOUT: &str = "\
Simulate failures, checkpoints and restarts of one synchronous training job: what fraction of
wall-clock time is useful work (ETTR), how often the job is interrupted and why, the best
checkpoint interval, how many spares it needs, and how long a run really takes.

Failure rates default to the Llama 3 pre-training breakdown (419 unexpected interruptions on
16,384 H100 in 54 days), scaled per accelerator and per host; every default is sourced in
catalog/reliability.toml and listed under `assumptions` in --format json.

Examples:
  gigawatt reliability --gpus 16384 --days 54
  gigawatt reliability --gpus 1000000 --days 100 --restart-min 2 --async-checkpoint
  gigawatt reliability --gpus 1024 --days 30 --node-failures-per-1000-days 6.5 -f json
  gigawatt reliability --gpus 100000 --work-hours 2000 --system gb200-nvl72";

/// Output formats of `gigawatt reliability`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReliabilityFormat {
    /// A readable summary with a by-cause table.
    Table,
    /// Everything, as JSON (inputs, seed, runs, outputs, assumptions, sources).
    Json,
}

/// Arguments of `gigawatt reliability`.
#[derive(Debug, Args)]
#[command(long_about = ABOUT)]
pub struct ReliabilityArgs {
    /// Accelerators in the job.
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub gpus: f64,
    /// Wall-clock days to simulate (with --work-hours: the most to wait for it to finish).
    #[arg(
        long,
        value_name = "D",
        allow_negative_numbers = true,
        required_unless_present = "work_hours"
    )]
    pub days: Option<f64>,
    /// Run until this much useful work is done instead, and report the time to finish.
    #[arg(long, value_name = "W", allow_negative_numbers = true)]
    pub work_hours: Option<f64>,
    /// The system the job runs on (accelerators per node and per scale-up domain).
    #[arg(long, value_name = "ID", default_value = "dgx-h100")]
    pub system: String,
    /// Minutes of work between checkpoints; default: hourly (sourced).
    #[arg(long, value_name = "M", allow_negative_numbers = true)]
    pub checkpoint_interval_min: Option<f64>,
    /// Seconds to write a checkpoint; default 148.8 (PyTorch DCP, 7B model).
    #[arg(long, value_name = "S", allow_negative_numbers = true)]
    pub checkpoint_write_s: Option<f64>,
    /// Asynchronous checkpoints: training stalls for 4.2% of the write (PyTorch async DCP),
    /// the rest runs in the background.
    #[arg(long)]
    pub async_checkpoint: bool,
    /// Minutes to restart the job once it has its systems; default 10 (an assumption).
    #[arg(long, value_name = "R", allow_negative_numbers = true)]
    pub restart_min: Option<f64>,
    /// Minutes from a failure to its detection; default 2.5 (5-minute health checks).
    #[arg(long, value_name = "M", allow_negative_numbers = true)]
    pub detection_min: Option<f64>,
    /// Hours to repair or replace a failed system; default 48 (an assumption).
    #[arg(long, value_name = "H", allow_negative_numbers = true)]
    pub repair_hours: Option<f64>,
    /// Hot spare systems; default 5% of the job's systems.
    #[arg(long, value_name = "K", allow_negative_numbers = true)]
    pub spares: Option<f64>,
    /// One node failure rate (per 1,000 node-days) replacing the per-cause defaults, the way
    /// cluster studies report it (Meta RSC-1: 6.50).
    #[arg(long, value_name = "F", allow_negative_numbers = true)]
    pub node_failures_per_1000_days: Option<f64>,
    /// Planned maintenance interruptions per day; default 0.87 (Llama 3: 47 in 54 days).
    #[arg(long, value_name = "P", allow_negative_numbers = true)]
    pub planned_per_day: Option<f64>,
    /// Weibull shape for every failure process instead of exponential (< 1 infant mortality,
    /// > 1 wear-out; the mean stays the sourced rate).
    #[arg(long, value_name = "K", allow_negative_numbers = true)]
    pub weibull_shape: Option<f64>,
    /// Independent runs (different random streams).
    #[arg(
        long,
        value_name = "K",
        default_value_t = 20.0,
        allow_negative_numbers = true
    )]
    pub runs: f64,
    /// Random seed; the same seed gives the same output.
    #[arg(long, value_name = "S", default_value_t = 1)]
    pub seed: u64,
    /// Skip the simulated search for the best checkpoint interval (report the closed form).
    #[arg(long)]
    pub no_search: bool,

    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = ReliabilityFormat::Table)]
    pub format: ReliabilityFormat,
    /// Write the output to this file instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// Largest job accepted (state does not grow with it, but counts must stay exact in f64).
const MAX_GPUS: f64 = 1e9;
/// Longest simulated time, days.
const MAX_DAYS: f64 = 36_500.0;

fn input(message: String) -> Failure {
    Failure::Input(message)
}

fn positive(flag: &str, value: Option<f64>, fix: &str) -> Result<Option<f64>, Failure> {
    match value {
        Some(v) if !(v.is_finite() && v > 0.0) => Err(input(format!(
            "{flag} must be a positive number, got {v}\n  fix: {fix}"
        ))),
        other => Ok(other),
    }
}

fn non_negative(flag: &str, value: Option<f64>, fix: &str) -> Result<Option<f64>, Failure> {
    match value {
        Some(v) if !(v.is_finite() && v >= 0.0) => Err(input(format!(
            "{flag} must be zero or positive, got {v}\n  fix: {fix}"
        ))),
        other => Ok(other),
    }
}

fn whole(flag: &str, value: f64, min: f64, max: f64, fix: &str) -> Result<u64, Failure> {
    if !(value.is_finite() && value >= min && value <= max && value.fract() == 0.0) {
        return Err(input(format!(
            "{flag} must be a whole number from {min} to {max}, got {value}\n  fix: {fix}"
        )));
    }
    Ok(value as u64)
}

/// The system's shape: (accelerators per system, per scale-up domain).
fn system_shape(cli: &Cli, id: &str) -> Result<(u32, u32), Failure> {
    let catalog = crate::plan_cmd::load_catalog(cli.catalog.as_deref())?;
    let Some(system) = catalog.systems.get(id) else {
        let hint = catalog
            .nearest_system(id)
            .map(|near| format!("did you mean `{near}`? "))
            .unwrap_or_default();
        return Err(input(format!(
            "--system: unknown system `{id}`\n  fix: {hint}`gigawatt catalog list --kind systems` shows every system"
        )));
    };
    let per_system = system.accelerators_per_system.number().ok_or_else(|| {
        input(format!(
            "--system {id}: accelerators per system is not public ({})\n  fix: pick a system whose size is known (`gigawatt catalog show {id}`)",
            system.accelerators_per_system.missing_reason().unwrap_or("unknown")
        ))
    })?;
    let domain = system.scale_up_domain.number().unwrap_or(per_system);
    Ok((per_system.max(1.0) as u32, domain.max(1.0) as u32))
}

fn job_spec(cli: &Cli, args: &ReliabilityArgs) -> Result<JobSpec, Failure> {
    let gpus = whole(
        "--gpus",
        args.gpus,
        1.0,
        MAX_GPUS,
        "give the job's accelerator count, e.g. --gpus 16384",
    )?;
    let days = positive(
        "--days",
        args.days,
        "give the days to simulate, e.g. --days 54",
    )?;
    if days.is_some_and(|d| d > MAX_DAYS) {
        return Err(input(format!(
            "--days must be at most {MAX_DAYS}\n  fix: simulate a shorter window"
        )));
    }
    let work_hours = positive(
        "--work-hours",
        args.work_hours,
        "give the failure-free compute hours the run needs, e.g. --work-hours 1000",
    )?;
    let interval = positive(
        "--checkpoint-interval-min",
        args.checkpoint_interval_min,
        "minutes of work between checkpoints, e.g. --checkpoint-interval-min 30",
    )?;
    let write = positive(
        "--checkpoint-write-s",
        args.checkpoint_write_s,
        "seconds to write one checkpoint, e.g. --checkpoint-write-s 60",
    )?;
    let restart = positive(
        "--restart-min",
        args.restart_min,
        "minutes to restart the job, e.g. --restart-min 5",
    )?;
    let detection = non_negative(
        "--detection-min",
        args.detection_min,
        "minutes from a failure to its detection, e.g. --detection-min 1",
    )?;
    let repair = positive(
        "--repair-hours",
        args.repair_hours,
        "hours to repair or replace a system, e.g. --repair-hours 24",
    )?;
    let node_rate = positive(
        "--node-failures-per-1000-days",
        args.node_failures_per_1000_days,
        "failures per 1,000 node-days, e.g. 6.5 (Meta RSC-1)",
    )?;
    let planned = non_negative(
        "--planned-per-day",
        args.planned_per_day,
        "planned interruptions per day, 0 for none",
    )?;
    let shape = positive(
        "--weibull-shape",
        args.weibull_shape,
        "a Weibull shape such as 0.7 (infant mortality) or 1.5 (wear-out)",
    )?;
    let runs = whole(
        "--runs",
        args.runs,
        1.0,
        100_000.0,
        "give how many runs to average, e.g. --runs 20",
    )?;
    let (per_system, domain) = system_shape(cli, &args.system)?;
    let systems = gpus.div_ceil(u64::from(per_system));
    let spares = match args.spares {
        Some(k) => Some(whole(
            "--spares",
            k,
            0.0,
            systems as f64,
            &format!(
                "spares are whole systems ({per_system} accelerators each), at most the job's {systems}"
            ),
        )?),
        None => None,
    };
    let stop = match (work_hours, days) {
        (Some(w), d) => Stop::Work {
            work_hours: w,
            // Without --days, give up once the job would need an ETTR below 2%.
            max_wall_hours: d.map_or(w * 50.0, |d| d * 24.0),
        },
        (None, Some(d)) => Stop::Wall { hours: d * 24.0 },
        (None, None) => unreachable!("clap requires --days or --work-hours"),
    };
    Ok(JobSpec {
        accelerators: gpus,
        accelerators_per_system: per_system,
        scale_up_domain: domain,
        systems_per_switch: None,
        spares,
        checkpoint_interval_min: interval,
        checkpoint_write_s: write,
        async_checkpoint: args.async_checkpoint,
        detection_min: detection,
        restart_min: restart,
        repair_hours: repair,
        node_failures_per_1000_days: node_rate,
        weibull_shape: shape,
        planned_per_day: planned,
        stop,
        runs: runs as u32,
        seed: args.seed,
    })
}

/// Runs per interval in the checkpoint-interval search.
fn search_runs(runs: u32) -> u32 {
    runs.min(8)
}

pub fn run(cli: &Cli, args: &ReliabilityArgs) -> Result<(), Failure> {
    let data = ReliabilityData::embedded()
        .map_err(|e| Failure::Io(format!("the embedded reliability data is broken: {e}")))?;
    let spec = job_spec(cli, args)?;
    let (cfg, assumptions) = data.config(&spec);
    cfg.validate()
        .map_err(|e| input(format!("invalid reliability inputs: {e}")))?;

    // A progress bar for long runs, on a terminal only.
    let horizon_days = cfg.stop.max_wall_hours() / 24.0;
    let load = spec.accelerators as f64 * horizon_days * f64::from(cfg.runs);
    let total = u64::from(cfg.runs)
        + if args.no_search {
            0
        } else {
            reliability::search_interval_runs(search_runs(cfg.runs))
        };
    let bar = (std::io::stderr().is_terminal() && load > 2e8).then(|| {
        let bar = indicatif::ProgressBar::with_draw_target(
            Some(total),
            indicatif::ProgressDrawTarget::stderr(),
        );
        bar.set_message("simulating");
        bar
    });
    let tick = || {
        if let Some(bar) = &bar {
            bar.inc(1);
        }
    };
    let summary = reliability::simulate_with_progress(&cfg, &tick)
        .map_err(|e| input(format!("invalid reliability inputs: {e}")))?;
    let search = if args.no_search {
        None
    } else {
        reliability::search_interval(&cfg, search_runs(cfg.runs), &tick)
            .map_err(|e| input(format!("invalid reliability inputs: {e}")))?
    };
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let report = Report::new(args, &spec, &cfg, &data, summary, search, assumptions);
    let text = match args.format {
        ReliabilityFormat::Json => {
            let mut s = serde_json::to_string_pretty(&report)
                .map_err(|e| Failure::Io(format!("failed to render JSON: {e}")))?;
            s.push('\n');
            s
        }
        ReliabilityFormat::Table => report.table(),
    };
    output::emit(&text, args.out.as_deref())
}

#[derive(Serialize)]
struct Inputs {
    gpus: u64,
    system: String,
    accelerators_per_system: u32,
    scale_up_domain: u32,
    systems: u64,
    spares: u64,
    days: Option<f64>,
    work_hours: Option<f64>,
    checkpoint_interval_min: f64,
    checkpoint_write_s: f64,
    checkpoint_stall_s: f64,
    checkpoint_mode: &'static str,
    detection_min: f64,
    restart_min: f64,
    repair_hours: f64,
    planned_per_day: f64,
    node_failures_per_1000_days: Option<f64>,
    failure_distribution: String,
    failures_per_day: f64,
}

#[derive(Serialize)]
struct SourceRef {
    id: String,
    title: String,
    url: Option<String>,
    kind: String,
    date: String,
}

#[derive(Serialize)]
struct Report {
    schema_version: u32,
    seed: u64,
    runs: u32,
    inputs: Inputs,
    unexpected_interruptions: f64,
    planned_interruptions: f64,
    ettr: f64,
    mtti_hours: Option<f64>,
    optimal_checkpoint_interval_min: Option<f64>,
    young_daly_interval_min: Option<f64>,
    expected_ettr: f64,
    time_to_finish_hours: Option<f64>,
    spares_needed: f64,
    by_cause: BTreeMap<String, reliability::CauseSummary>,
    lost_hours: reliability::LostHours,
    summary: Summary,
    interval_search: Option<IntervalSearch>,
    assumptions: Vec<reliability::Assumption>,
    sources: Vec<SourceRef>,
}

impl Report {
    fn new(
        args: &ReliabilityArgs,
        spec: &JobSpec,
        cfg: &reliability::Config,
        data: &ReliabilityData,
        summary: Summary,
        search: Option<IntervalSearch>,
        assumptions: Vec<reliability::Assumption>,
    ) -> Report {
        let ckpt = cfg.checkpoint;
        let mut cited: Vec<&str> = assumptions.iter().map(|a| a.source.as_str()).collect();
        cited.sort_unstable();
        cited.dedup();
        let sources = cited
            .iter()
            .filter_map(|id| data.source(id))
            .map(|s| SourceRef {
                id: s.id.clone(),
                title: s.title.clone(),
                url: s.url.clone(),
                kind: s.kind.clone(),
                date: s.date.clone(),
            })
            .collect();
        let optimal = search
            .as_ref()
            .map(|s| s.best_interval_min)
            .or(summary.expected.optimal_interval_min);
        Report {
            schema_version: 1,
            seed: cfg.seed,
            runs: cfg.runs,
            inputs: Inputs {
                gpus: spec.accelerators,
                system: args.system.clone(),
                accelerators_per_system: spec.accelerators_per_system,
                scale_up_domain: spec.scale_up_domain,
                systems: cfg.systems,
                spares: cfg.spares,
                days: args.days,
                work_hours: args.work_hours,
                checkpoint_interval_min: ckpt.interval_hours * 60.0,
                checkpoint_write_s: ckpt.write_hours * 3600.0,
                checkpoint_stall_s: ckpt.stall_hours * 3600.0,
                checkpoint_mode: if ckpt.is_async() { "async" } else { "blocking" },
                detection_min: cfg.detection_hours * 60.0,
                restart_min: cfg.restart_hours * 60.0,
                repair_hours: cfg.repair_hours,
                planned_per_day: assumptions
                    .iter()
                    .find(|a| a.name == "planned_interruptions")
                    .map_or(cfg.planned_per_hour * 24.0, |a| a.value),
                node_failures_per_1000_days: spec.node_failures_per_1000_days,
                failure_distribution: match spec.weibull_shape {
                    Some(k) => format!("weibull(shape {k})"),
                    None => "exponential".into(),
                },
                failures_per_day: cfg.failure_rate_per_hour() * 24.0,
            },
            unexpected_interruptions: summary.unexpected_interruptions.mean,
            planned_interruptions: summary.planned_interruptions.mean,
            ettr: summary.ettr.mean,
            mtti_hours: summary.mtti_hours,
            optimal_checkpoint_interval_min: optimal,
            young_daly_interval_min: summary.expected.young_daly_interval_min,
            expected_ettr: summary.expected.ettr,
            time_to_finish_hours: summary.time_to_finish_hours.map(|s| s.mean),
            spares_needed: summary.peak_systems_in_repair.p95,
            by_cause: summary.by_cause.clone(),
            lost_hours: summary.lost_hours,
            summary,
            interval_search: search,
            assumptions,
            sources,
        }
    }

    fn table(&self) -> String {
        let i = &self.inputs;
        let s = &self.summary;
        let mut out = String::new();
        let w = &mut out;
        let _ = writeln!(
            w,
            "Reliability of one training job: {} accelerators on {} ({} systems of {}, {} hot spares)",
            fmt_count(i.gpus as f64),
            i.system,
            fmt_count(i.systems as f64),
            i.accelerators_per_system,
            fmt_count(i.spares as f64)
        );
        let horizon = match (i.work_hours, i.days) {
            (Some(wh), _) => format!("until {} work-hours are done", fmt_count(wh)),
            (None, Some(d)) => format!("{d} days"),
            (None, None) => String::new(),
        };
        let _ = writeln!(
            w,
            "{horizon}, {} runs, seed {} | failures {} ({:.1} per day) | checkpoint every {:.1} min, {} {:.1} s | detect {:.1} min, restart {:.1} min, repair {:.0} h",
            self.runs,
            self.seed,
            i.failure_distribution,
            i.failures_per_day,
            i.checkpoint_interval_min,
            i.checkpoint_mode,
            i.checkpoint_write_s,
            i.detection_min,
            i.restart_min,
            i.repair_hours
        );
        let _ = writeln!(w);
        let _ = writeln!(
            w,
            "  Effective training time   {}  (p5 {}, p95 {}; closed form {})",
            pct(s.ettr.mean),
            pct(s.ettr.p5),
            pct(s.ettr.p95),
            pct(self.expected_ettr)
        );
        let _ = writeln!(
            w,
            "  Unexpected interruptions  {:.1} per run  (p5 {:.0}, p95 {:.0})",
            s.unexpected_interruptions.mean,
            s.unexpected_interruptions.p5,
            s.unexpected_interruptions.p95
        );
        let _ = writeln!(
            w,
            "  Planned interruptions     {:.1} per run",
            s.planned_interruptions.mean
        );
        let _ = writeln!(
            w,
            "  Mean time to interruption {}",
            self.mtti_hours.map_or("no interruptions".into(), fmt_hours)
        );
        let _ = writeln!(
            w,
            "  Checkpoint interval       best {} simulated | Young-Daly {} | now {:.1} min",
            self.optimal_checkpoint_interval_min
                .map_or("-".into(), |m| format!("{m:.1} min")),
            self.young_daly_interval_min
                .map_or("-".into(), |m| format!("{m:.1} min")),
            i.checkpoint_interval_min
        );
        if let Some(search) = &self.interval_search {
            let _ = writeln!(
                w,
                "                            (ETTR {} at the best interval, {} runs each)",
                pct(search.best_ettr),
                search.runs_per_point
            );
        }
        let _ = writeln!(
            w,
            "  Spares needed             {:.0} systems in repair at once (p95 of runs; max {:.0}); {} of {} runs waited for spares",
            s.peak_systems_in_repair.p95,
            s.peak_systems_in_repair.max,
            s.runs_that_waited_for_spares,
            self.runs
        );
        if let (Some(t), Some(done)) = (s.time_to_finish_hours, s.runs_finished) {
            if done > 0 {
                let _ = writeln!(
                    w,
                    "  Time to finish            {} (p5 {}, p95 {}); {done} of {} runs finished",
                    fmt_hours(t.mean),
                    fmt_hours(t.p5),
                    fmt_hours(t.p95),
                    self.runs
                );
            } else {
                let _ = writeln!(
                    w,
                    "  Time to finish            did not finish in {} in any run",
                    fmt_hours(s.wall_hours.max)
                );
            }
        }
        let l = &self.lost_hours;
        let wall = s.wall_hours.mean.max(f64::MIN_POSITIVE);
        let _ = writeln!(w);
        let _ = writeln!(w, "Where the wall clock went (mean per run)");
        for (name, hours) in [
            ("useful work", s.useful_hours.mean),
            ("rolled-back work", l.rollback),
            ("detection", l.detection),
            ("waiting for spares", l.waiting_for_spares),
            ("restart", l.restart),
            ("checkpoint stalls", l.checkpoint),
            ("planned maintenance", l.planned),
        ] {
            let _ = writeln!(
                w,
                "  {name:<20} {:>12}  {:>6}",
                fmt_hours(hours),
                pct(hours / wall)
            );
        }
        let _ = writeln!(w);
        let _ = writeln!(w, "Unexpected interruptions by cause (mean per run)");
        let _ = writeln!(
            w,
            "  {:<18} {:>10} {:>7} {:>13} {:>13}",
            "cause", "count", "share", "lost work", "downtime"
        );
        let mut causes: Vec<_> = self.by_cause.iter().collect();
        causes.sort_by(|a, b| b.1.interruptions.total_cmp(&a.1.interruptions));
        for (id, c) in causes {
            let _ = writeln!(
                w,
                "  {id:<18} {:>10.1} {:>7} {:>13} {:>13}",
                c.interruptions,
                pct(c.share),
                fmt_hours(c.lost_work_hours),
                fmt_hours(c.downtime_hours)
            );
        }
        let _ = writeln!(w);
        let _ = writeln!(
            w,
            "{} assumptions, each with a source ({} sources); see them with --format json.",
            self.assumptions.len(),
            self.sources.len()
        );
        out
    }
}

fn pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

fn fmt_hours(h: f64) -> String {
    if h >= 48.0 {
        format!("{:.1} days", h / 24.0)
    } else if h >= 1.0 {
        format!("{h:.2} h")
    } else {
        format!("{:.1} min", h * 60.0)
    }
}
