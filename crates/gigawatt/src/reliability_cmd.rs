//! `gigawatt reliability`: simulate failures, checkpoints and restarts of one training job and
//! report its goodput. The model is in the `reliability` crate; this file reads flags, looks up
//! the system, checks inputs (naming the flag), shows a progress bar and renders.

use std::fmt::Write as _;
use std::io::IsTerminal;
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use reliability::request::{self, JobArgs, JobError, Report, SystemLookup};
use reliability::{Budget, JobSpec, ReliabilityData, SimError};
use units::{fmt_count, fmt_grouped, fmt_number};

use crate::cli::Cli;
use crate::{output, Failure};

const ABOUT: &str = "\
Simulate failures, checkpoints and restarts of one synchronous training job: what fraction of
wall-clock time is useful work (ETTR), how often the job is interrupted and why, the best
checkpoint interval, how many spares it needs, and how long a run really takes.

Failure rates default to the Llama 3 pre-training breakdown (419 unexpected interruptions on
16,384 H100 in 54 days), scaled per accelerator and per host; every default is sourced in
catalog/reliability.toml and listed under `assumptions` in --format json.";

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
#[command(long_about = ABOUT, after_help = crate::examples::RELIABILITY)]
#[command(group(clap::ArgGroup::new("horizon").args(["days", "work_hours"]).required(true).multiple(true)))]
pub struct ReliabilityArgs {
    /// Accelerators in the job.
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub gpus: f64,
    /// Wall-clock days to simulate (with --work-hours: the most to wait for it to finish).
    #[arg(long, value_name = "D", allow_negative_numbers = true)]
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

impl ReliabilityArgs {
    /// The flags as the model's inputs.
    fn job_args(&self) -> JobArgs {
        JobArgs {
            gpus: self.gpus,
            days: self.days,
            work_hours: self.work_hours,
            system: self.system.clone(),
            checkpoint_interval_min: self.checkpoint_interval_min,
            checkpoint_write_s: self.checkpoint_write_s,
            async_checkpoint: self.async_checkpoint,
            restart_min: self.restart_min,
            detection_min: self.detection_min,
            repair_hours: self.repair_hours,
            spares: self.spares,
            node_failures_per_1000_days: self.node_failures_per_1000_days,
            planned_per_day: self.planned_per_day,
            weibull_shape: self.weibull_shape,
            runs: self.runs,
            seed: self.seed,
            no_search: self.no_search,
        }
    }
}

fn input(message: String) -> Failure {
    Failure::Input(message)
}

/// What the catalog (loaded only once the numeric flags are good) says about system `id`.
fn lookup_system(cli: &Cli, id: &str) -> Result<SystemLookup, Failure> {
    let catalog = crate::plan_cmd::load_catalog(cli.catalog.as_deref())?;
    Ok(match catalog.systems.get(id) {
        None => SystemLookup::Unknown {
            nearest: catalog.nearest_system(id).map(str::to_string),
        },
        Some(system) => SystemLookup::Found {
            accelerators_per_system: system.accelerators_per_system.number().ok_or_else(|| {
                system
                    .accelerators_per_system
                    .missing_reason()
                    .unwrap_or("unknown")
                    .to_string()
            }),
            scale_up_domain: system.scale_up_domain.number(),
        },
    })
}

fn job_spec(cli: &Cli, args: &JobArgs) -> Result<JobSpec, Failure> {
    reliability::job_spec(args, |id| lookup_system(cli, id)).map_err(|e| match e {
        JobError::Input(message) => input(message),
        JobError::Lookup(failure) => failure,
    })
}

pub fn run(cli: &Cli, args: &ReliabilityArgs) -> Result<(), Failure> {
    let data = ReliabilityData::embedded()
        .map_err(|e| Failure::Io(format!("the embedded reliability data is broken: {e}")))?;
    let job = args.job_args();
    let spec = job_spec(cli, &job)?;
    let (cfg, assumptions) = data.config(&spec);
    cfg.validate()
        .map_err(|e| input(format!("invalid reliability inputs: {e}")))?;
    // Refuse what would run for hours before starting; the budget stops the rest.
    let estimate = request::check_work(&cfg, args.no_search, request::MAX_EVENTS).map_err(input)?;
    let budget = Budget::new(request::event_budget(request::MAX_EVENTS));
    let stopped = |e: SimError| match e {
        SimError::Config(e) => input(format!("invalid reliability inputs: {e}")),
        other => input(request::stopped_message(&other, estimate)),
    };

    // A progress bar for long runs, on a terminal only.
    let horizon_days = cfg.stop.max_wall_hours() / 24.0;
    let load = spec.accelerators as f64 * horizon_days * f64::from(cfg.runs);
    let total = u64::from(cfg.runs)
        + if args.no_search {
            0
        } else {
            reliability::search_interval_runs(request::search_runs(cfg.runs))
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
    let simulated = reliability::simulate_within(&cfg, &budget, &tick).and_then(|summary| {
        let search = if args.no_search {
            None
        } else {
            reliability::search_interval_within(
                &cfg,
                request::search_runs(cfg.runs),
                &budget,
                &tick,
            )?
        };
        Ok((summary, search))
    });
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let (summary, search) = simulated.map_err(stopped)?;
    let report = Report::new(&job, &spec, &cfg, &data, summary, search, assumptions);
    let text = match args.format {
        ReliabilityFormat::Json => {
            let mut s = serde_json::to_string_pretty(&report)
                .map_err(|e| Failure::Io(format!("failed to render JSON: {e}")))?;
            s.push('\n');
            s
        }
        ReliabilityFormat::Table => table(&report),
    };
    output::emit(&text, args.out.as_deref())
}

/// The readable summary with a by-cause table.
fn table(report: &Report) -> String {
    let i = &report.inputs;
    let s = &report.summary;
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
        (None, Some(d)) => format!("{} days", fmt_number(d)),
        (None, None) => String::new(),
    };
    let _ = writeln!(
            w,
            "{horizon}, {} runs, seed {} | failures {} ({} per day) | checkpoint every {} min, {} {} s | detect {} min, restart {} min, repair {} h",
            report.runs,
            report.seed,
            i.failure_distribution,
            fmt_grouped(i.failures_per_day, 1),
            fmt_grouped(i.checkpoint_interval_min, 1),
            i.checkpoint_mode,
            fmt_grouped(i.checkpoint_write_s, 1),
            fmt_grouped(i.detection_min, 1),
            fmt_grouped(i.restart_min, 1),
            fmt_grouped(i.repair_hours, 0)
        );
    let _ = writeln!(w);
    let _ = writeln!(
        w,
        "  Effective training time   {}  (p5 {}, p95 {}; closed form {})",
        pct(s.ettr.mean),
        pct(s.ettr.p5),
        pct(s.ettr.p95),
        pct(report.expected_ettr)
    );
    let _ = writeln!(
        w,
        "  Unexpected interruptions  {} per run  (p5 {}, p95 {})",
        fmt_grouped(s.unexpected_interruptions.mean, 1),
        fmt_grouped(s.unexpected_interruptions.p5, 0),
        fmt_grouped(s.unexpected_interruptions.p95, 0)
    );
    let _ = writeln!(
        w,
        "  Planned interruptions     {} per run",
        fmt_grouped(s.planned_interruptions.mean, 1)
    );
    let _ = writeln!(
        w,
        "  Mean time to interruption {}",
        report
            .mtti_hours
            .map_or("no interruptions".into(), fmt_hours)
    );
    let minutes = |m: Option<f64>| m.map_or("-".into(), |m| format!("{} min", fmt_grouped(m, 1)));
    match report.optimal_checkpoint_interval_min {
        Some(best) => {
            let _ = writeln!(
                w,
                "  Checkpoint interval       best {} simulated | Young-Daly {} | now {}",
                minutes(Some(best)),
                minutes(report.young_daly_interval_min),
                minutes(Some(i.checkpoint_interval_min))
            );
        }
        // Not searched (--no-search, or nothing fails): the closed forms only.
        None => {
            let _ = writeln!(
                w,
                "  Checkpoint interval       Young-Daly {} | closed-form optimum {} | now {}",
                minutes(report.young_daly_interval_min),
                minutes(s.expected.optimal_interval_min),
                minutes(Some(i.checkpoint_interval_min))
            );
        }
    }
    if let Some(search) = &report.interval_search {
        let _ = writeln!(
            w,
            "                            (ETTR {} at the best interval, {} runs each)",
            pct(search.best_ettr),
            search.runs_per_point
        );
    }
    let _ = writeln!(
            w,
            "  Spares needed             {} systems in repair at once (p95 of runs; max {}); {} of {} runs waited for spares",
            fmt_grouped(s.peak_systems_in_repair.p95, 0),
            fmt_grouped(s.peak_systems_in_repair.max, 0),
            s.runs_that_waited_for_spares,
            report.runs
        );
    if let (Some(t), Some(done)) = (s.time_to_finish_hours, s.runs_finished) {
        if done > 0 {
            let _ = writeln!(
                w,
                "  Time to finish            {} (p5 {}, p95 {}); {done} of {} runs finished",
                fmt_hours(t.mean),
                fmt_hours(t.p5),
                fmt_hours(t.p95),
                report.runs
            );
        } else {
            let _ = writeln!(
                w,
                "  Time to finish            did not finish in {} in any run",
                fmt_hours(s.wall_hours.max)
            );
        }
    }
    let l = &report.lost_hours;
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
    let mut causes: Vec<_> = report.by_cause.iter().collect();
    causes.sort_by(|a, b| b.1.interruptions.total_cmp(&a.1.interruptions));
    for (id, c) in causes {
        let _ = writeln!(
            w,
            "  {id:<18} {:>10} {:>7} {:>13} {:>13}",
            fmt_grouped(c.interruptions, 1),
            pct(c.share),
            fmt_hours(c.lost_work_hours),
            fmt_hours(c.downtime_hours)
        );
    }
    let _ = writeln!(w);
    let _ = writeln!(
        w,
        "{} assumptions, each with a source ({} sources); see them with --format json.",
        report.assumptions.len(),
        report.sources.len()
    );
    out
}

fn pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

fn fmt_hours(h: f64) -> String {
    if h >= 48.0 {
        format!("{} days", fmt_grouped(h / 24.0, 1))
    } else if h >= 1.0 {
        format!("{} h", fmt_grouped(h, 2))
    } else {
        format!("{:.1} min", h * 60.0)
    }
}
