//! A reliability question as it arrives from an edge (the flags of `gigawatt reliability`, or
//! the JSON body of the server's `POST /api/reliability`): checking each input with a message
//! that names its flag and says how to fix it, turning the inputs into a [`JobSpec`], and the
//! [`Report`] both edges print. Pure: the caller looks the system up in its catalog and hands
//! the answer in as a [`SystemLookup`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::budget;
use crate::data::{Assumption, JobSpec, ReliabilityData};
use crate::model::{Config, Stop};
use crate::summary::{self, CauseSummary, IntervalSearch, LostHours, Summary};

/// Largest job accepted (state does not grow with it, but counts must stay exact in f64).
pub const MAX_GPUS: f64 = 1e9;
/// Longest simulated time, days.
pub const MAX_DAYS: f64 = 36_500.0;
/// Most independent runs.
pub const MAX_RUNS: f64 = 100_000.0;
/// Most failure-free compute hours a job may need (`--work-hours`): 100 years, the longest
/// window (`--days` at most [`MAX_DAYS`]).
pub const MAX_WORK_HOURS: f64 = MAX_DAYS * 24.0;
/// Smallest Weibull shape (`--weibull-shape`). Fits of HPC failures give 0.7-0.8 (Schroeder
/// and Gibson 2006); below 0.2 almost every unit of a new fleet fails within hours, over and
/// over, and the event count explodes (0.05 expects hundreds of failures per GPU in a day).
pub const MIN_WEIBULL_SHAPE: f64 = 0.2;
/// Largest Weibull shape (`--weibull-shape`): 10 is already a near-fixed lifetime.
pub const MAX_WEIBULL_SHAPE: f64 = 10.0;
/// Largest node failure rate (`--node-failures-per-1000-days`): 1,000 is a failure per node
/// per day, 150 times Meta's RSC-1.
pub const MAX_NODE_FAILURES_PER_1000_DAYS: f64 = 1000.0;
/// Most planned interruptions per day (`--planned-per-day`): one an hour (Llama 3: 0.87).
pub const MAX_PLANNED_PER_DAY: f64 = 24.0;
/// Most queue events one question may be expected to need, all runs and the interval search
/// together ([`check_work`]); the simulation itself stops at twice this ([`event_budget`]).
pub const MAX_EVENTS: f64 = 1e9;

/// The inputs of one reliability question, one field per flag of `gigawatt reliability`
/// (`--checkpoint-interval-min` is `checkpoint_interval_min`). Numbers are `f64` so that a
/// fractional or negative count gets a message rather than a parse error.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobArgs {
    /// Accelerators in the job.
    pub gpus: f64,
    /// Wall-clock days to simulate (with `work_hours`: the most to wait for it to finish).
    #[serde(default)]
    pub days: Option<f64>,
    /// Run until this much useful work is done instead.
    #[serde(default)]
    pub work_hours: Option<f64>,
    /// The catalog system the job runs on.
    #[serde(default = "default_system")]
    pub system: String,
    /// Minutes of work between checkpoints.
    #[serde(default)]
    pub checkpoint_interval_min: Option<f64>,
    /// Seconds to write a checkpoint.
    #[serde(default)]
    pub checkpoint_write_s: Option<f64>,
    /// Asynchronous checkpoints.
    #[serde(default)]
    pub async_checkpoint: bool,
    /// Minutes to restart the job once it has its systems.
    #[serde(default)]
    pub restart_min: Option<f64>,
    /// Minutes from a failure to its detection.
    #[serde(default)]
    pub detection_min: Option<f64>,
    /// Hours to repair or replace a failed system.
    #[serde(default)]
    pub repair_hours: Option<f64>,
    /// Hot spare systems.
    #[serde(default)]
    pub spares: Option<f64>,
    /// One node failure rate (per 1,000 node-days) replacing the per-cause defaults.
    #[serde(default)]
    pub node_failures_per_1000_days: Option<f64>,
    /// Planned maintenance interruptions per day.
    #[serde(default)]
    pub planned_per_day: Option<f64>,
    /// Weibull shape for every failure process instead of exponential.
    #[serde(default)]
    pub weibull_shape: Option<f64>,
    /// Independent runs.
    #[serde(default = "default_runs")]
    pub runs: f64,
    /// Random seed.
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// Skip the simulated search for the best checkpoint interval.
    #[serde(default)]
    pub no_search: bool,
}

/// The default system (`--system`).
pub const DEFAULT_SYSTEM: &str = "dgx-h100";
/// The default number of runs (`--runs`).
pub const DEFAULT_RUNS: f64 = 20.0;

fn default_system() -> String {
    DEFAULT_SYSTEM.into()
}
fn default_runs() -> f64 {
    DEFAULT_RUNS
}
fn default_seed() -> u64 {
    1
}

/// What the caller's catalog says about the job's system.
#[derive(Debug, Clone, PartialEq)]
pub enum SystemLookup {
    /// The system exists.
    Found {
        /// Accelerators per system, or why it is not known.
        accelerators_per_system: Result<f64, String>,
        /// Accelerators per scale-up domain, if known (default: per system).
        scale_up_domain: Option<f64>,
    },
    /// No such system; the nearest id, if one is close.
    Unknown {
        /// A close id, for "did you mean".
        nearest: Option<String>,
    },
}

/// Why a job could not be built: an input error (the message names the flag and has a fix),
/// or the caller's system lookup failed.
#[derive(Debug, Clone, PartialEq)]
pub enum JobError<E> {
    /// Bad input; the message is what `gigawatt reliability` prints after `error: `.
    Input(String),
    /// The lookup closure's own error.
    Lookup(E),
}

fn positive<E>(flag: &str, value: Option<f64>, fix: &str) -> Result<Option<f64>, JobError<E>> {
    match value {
        Some(v) if !(v.is_finite() && v > 0.0) => Err(JobError::Input(format!(
            "{flag} must be a positive number, got {v}\n  fix: {fix}"
        ))),
        other => Ok(other),
    }
}

fn non_negative<E>(flag: &str, value: Option<f64>, fix: &str) -> Result<Option<f64>, JobError<E>> {
    match value {
        Some(v) if !(v.is_finite() && v >= 0.0) => Err(JobError::Input(format!(
            "{flag} must be zero or positive, got {v}\n  fix: {fix}"
        ))),
        other => Ok(other),
    }
}

fn at_most<E>(
    flag: &str,
    value: Option<f64>,
    max: f64,
    fix: &str,
) -> Result<Option<f64>, JobError<E>> {
    match value {
        Some(v) if v > max => Err(JobError::Input(format!(
            "{flag} must be at most {max}, got {v}\n  fix: {fix}"
        ))),
        other => Ok(other),
    }
}

fn whole<E>(flag: &str, value: f64, min: f64, max: f64, fix: &str) -> Result<u64, JobError<E>> {
    if !(value.is_finite() && value >= min && value <= max && value.fract() == 0.0) {
        return Err(JobError::Input(format!(
            "{flag} must be a whole number from {min} to {max}, got {value}\n  fix: {fix}"
        )));
    }
    Ok(value as u64)
}

/// (accelerators per system, per scale-up domain) from a lookup, or the message for `id`.
fn system_shape(id: &str, lookup: SystemLookup) -> Result<(u32, u32), String> {
    match lookup {
        SystemLookup::Unknown { nearest } => {
            let hint = nearest
                .map(|near| format!("did you mean `{near}`? "))
                .unwrap_or_default();
            Err(format!(
                "--system: unknown system `{id}`\n  fix: {hint}`gigawatt catalog list --kind systems` shows every system"
            ))
        }
        SystemLookup::Found {
            accelerators_per_system,
            scale_up_domain,
        } => {
            let per_system = accelerators_per_system.map_err(|why| {
                format!(
                    "--system {id}: accelerators per system is not public ({why})\n  fix: pick a system whose size is known (`gigawatt catalog show {id}`)"
                )
            })?;
            let domain = scale_up_domain.unwrap_or(per_system);
            Ok((per_system.max(1.0) as u32, domain.max(1.0) as u32))
        }
    }
}

/// Checks every input (in flag order, the first bad one wins) and builds the job. `lookup` is
/// called with the system id once the numeric inputs are known to be good.
pub fn job_spec<E>(
    args: &JobArgs,
    lookup: impl FnOnce(&str) -> Result<SystemLookup, E>,
) -> Result<JobSpec, JobError<E>> {
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
        return Err(JobError::Input(format!(
            "--days must be at most {MAX_DAYS}\n  fix: simulate a shorter window"
        )));
    }
    let work_hours = positive(
        "--work-hours",
        args.work_hours,
        "give the failure-free compute hours the run needs, e.g. --work-hours 1000",
    )?;
    let work_hours = at_most(
        "--work-hours",
        work_hours,
        MAX_WORK_HOURS,
        "a job needs at most 100 years of failure-free compute; give less, e.g. --work-hours 1000",
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
    let node_rate = at_most(
        "--node-failures-per-1000-days",
        node_rate,
        MAX_NODE_FAILURES_PER_1000_DAYS,
        "failures per 1,000 node-days, at most 1000 (a failure per node per day), e.g. 6.5 (Meta RSC-1)",
    )?;
    let planned = non_negative(
        "--planned-per-day",
        args.planned_per_day,
        "planned interruptions per day, 0 for none",
    )?;
    let planned = at_most(
        "--planned-per-day",
        planned,
        MAX_PLANNED_PER_DAY,
        "planned interruptions per day, at most 24 (one an hour), e.g. 0.87 (Llama 3)",
    )?;
    let shape_fix =
        "a Weibull shape from 0.2 to 10, such as 0.7 (infant mortality) or 1.5 (wear-out)";
    let shape = positive("--weibull-shape", args.weibull_shape, shape_fix)?;
    if let Some(k) = shape.filter(|k| !(MIN_WEIBULL_SHAPE..=MAX_WEIBULL_SHAPE).contains(k)) {
        return Err(JobError::Input(format!(
            "--weibull-shape must be from {MIN_WEIBULL_SHAPE} to {MAX_WEIBULL_SHAPE}, got {k}\n  fix: {shape_fix}"
        )));
    }
    let runs = whole(
        "--runs",
        args.runs,
        1.0,
        MAX_RUNS,
        "give how many runs to average, e.g. --runs 20",
    )?;
    let found = lookup(&args.system).map_err(JobError::Lookup)?;
    let (per_system, domain) = system_shape(&args.system, found).map_err(JobError::Input)?;
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
            // Without --days, give up once the job would need an ETTR below 2%, or after the
            // longest window.
            max_wall_hours: d.map_or((w * 50.0).min(MAX_DAYS * 24.0), |d| d * 24.0),
        },
        (None, Some(d)) => Stop::Wall { hours: d * 24.0 },
        (None, None) => {
            return Err(JobError::Input(
                "--days or --work-hours is needed\n  fix: give the days to simulate, e.g. --days 54, or the work to finish, e.g. --work-hours 1000".into(),
            ))
        }
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
pub fn search_runs(runs: u32) -> u32 {
    runs.min(8)
}

/// Queue events the whole question is expected to need: `cfg.runs` runs, plus the
/// checkpoint-interval search unless `no_search` (an estimate on the high side; see
/// [`budget::expected_events`]).
pub fn expected_work(cfg: &Config, no_search: bool) -> f64 {
    let runs = f64::from(cfg.runs) * budget::expected_events(cfg);
    if no_search {
        runs
    } else {
        runs + summary::search_expected_events(cfg, search_runs(cfg.runs))
    }
}

/// The hard stop for a question allowed `max_events` expected events: twice that, since the
/// estimate is only an estimate.
pub fn event_budget(max_events: f64) -> u64 {
    (2.0 * max_events) as u64
}

fn fmt_events(events: f64) -> String {
    if !events.is_finite() {
        "an unbounded number of".into()
    } else if events < 1e12 {
        units::fmt_count(events)
    } else {
        format!("{events:.1e}")
    }
}

/// What makes a question large, for a message: "about N simulation events (M per run: F
/// failures over D days, with their checkpoints and restarts, x R runs, plus the
/// checkpoint-interval search)".
pub fn describe_work(cfg: &Config, no_search: bool) -> String {
    let hours = budget::expected_wall_hours(cfg);
    format!(
        "about {} simulation events ({} per run: {} failures over {:.1} days, with their checkpoints and restarts, x {} runs{})",
        fmt_events(expected_work(cfg, no_search)),
        fmt_events(budget::expected_events(cfg)),
        fmt_events(budget::expected_failures(cfg, hours)),
        hours / 24.0,
        cfg.runs,
        if no_search {
            ""
        } else {
            ", plus the checkpoint-interval search"
        }
    )
}

/// Refuses a question expected to need more than `max_events` queue events (what
/// `gigawatt reliability` allows: [`MAX_EVENTS`]); the message says what makes it large.
/// Returns the estimate.
pub fn check_work(cfg: &Config, no_search: bool, max_events: f64) -> Result<f64, String> {
    let events = expected_work(cfg, no_search);
    if events.is_finite() && events <= max_events {
        return Ok(events);
    }
    Err(format!(
        "this question needs {}; the most one question may take is {}\n  fix: fewer --runs, --no-search, a shorter --days or --work-hours, fewer --gpus, or a lower failure rate (a Weibull shape nearer 1)",
        describe_work(cfg, no_search),
        fmt_events(max_events),
    ))
}

/// The message for a simulation stopped by its budget or cancelled.
pub fn stopped_message(error: &budget::SimError, estimate: f64) -> String {
    match error {
        budget::SimError::OverBudget { max_events } => format!(
            "the simulation was stopped after {} events, its limit (about {} were expected); the failures came faster than their rates say (a small --weibull-shape makes new hardware fail over and over)\n  fix: a Weibull shape nearer 1, fewer --gpus, a shorter --days or --work-hours, fewer --runs, or --no-search",
            fmt_events(*max_events as f64),
            fmt_events(estimate),
        ),
        other => other.to_string(),
    }
}

/// The inputs as the report states them (defaults filled in).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReportInputs {
    pub gpus: u64,
    pub system: String,
    pub accelerators_per_system: u32,
    pub scale_up_domain: u32,
    pub systems: u64,
    pub spares: u64,
    pub days: Option<f64>,
    pub work_hours: Option<f64>,
    pub checkpoint_interval_min: f64,
    pub checkpoint_write_s: f64,
    pub checkpoint_stall_s: f64,
    pub checkpoint_mode: &'static str,
    pub detection_min: f64,
    pub restart_min: f64,
    pub repair_hours: f64,
    pub planned_per_day: f64,
    pub node_failures_per_1000_days: Option<f64>,
    pub failure_distribution: String,
    pub failures_per_day: f64,
}

/// A cited source, as the report lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SourceRef {
    pub id: String,
    pub title: String,
    pub url: Option<String>,
    pub kind: String,
    pub date: String,
}

/// The answer to a reliability question: what `gigawatt reliability --format json` prints and
/// `POST /api/reliability` returns.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub schema_version: u32,
    pub seed: u64,
    pub runs: u32,
    pub inputs: ReportInputs,
    pub unexpected_interruptions: f64,
    pub planned_interruptions: f64,
    pub ettr: f64,
    pub mtti_hours: Option<f64>,
    pub optimal_checkpoint_interval_min: Option<f64>,
    pub young_daly_interval_min: Option<f64>,
    pub expected_ettr: f64,
    pub time_to_finish_hours: Option<f64>,
    pub spares_needed: f64,
    pub by_cause: BTreeMap<String, CauseSummary>,
    pub lost_hours: LostHours,
    pub summary: Summary,
    pub interval_search: Option<IntervalSearch>,
    pub assumptions: Vec<Assumption>,
    pub sources: Vec<SourceRef>,
}

impl Report {
    /// The report of a simulated job.
    pub fn new(
        args: &JobArgs,
        spec: &JobSpec,
        cfg: &Config,
        data: &ReliabilityData,
        summary: Summary,
        search: Option<IntervalSearch>,
        assumptions: Vec<Assumption>,
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
        // Simulated only: without the search this is null (the closed form's optimum is
        // `summary.expected.optimal_interval_min`).
        let optimal = search.as_ref().map(|s| s.best_interval_min);
        Report {
            schema_version: 1,
            seed: cfg.seed,
            runs: cfg.runs,
            inputs: ReportInputs {
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
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(gpus: f64, days: f64) -> JobArgs {
        toml::from_str::<JobArgs>(&format!("gpus = {gpus:?}\ndays = {days:?}\n")).unwrap()
    }

    fn h100(_: &str) -> Result<SystemLookup, ()> {
        Ok(SystemLookup::Found {
            accelerators_per_system: Ok(8.0),
            scale_up_domain: Some(8.0),
        })
    }

    #[test]
    fn defaults_match_the_flags() {
        let a = args(1024.0, 10.0);
        assert_eq!(a.system, DEFAULT_SYSTEM);
        assert_eq!(a.runs, DEFAULT_RUNS);
        assert_eq!(a.seed, 1);
        let spec = job_spec(&a, h100).unwrap();
        assert_eq!(spec.accelerators, 1024);
        assert_eq!(spec.stop, Stop::Wall { hours: 240.0 });
    }

    #[test]
    fn the_first_bad_input_names_its_flag() {
        let mut a = args(1.5, -1.0);
        let Err(JobError::Input(m)) = job_spec(&a, h100) else {
            panic!()
        };
        assert!(m.starts_with("--gpus must be a whole number"), "{m}");
        a.gpus = 8.0;
        let Err(JobError::Input(m)) = job_spec(&a, h100) else {
            panic!()
        };
        assert!(m.starts_with("--days must be a positive number"), "{m}");
        a.days = None;
        let Err(JobError::Input(m)) = job_spec(&a, h100) else {
            panic!()
        };
        assert!(m.starts_with("--days or --work-hours"), "{m}");
        let unknown = |_: &str| {
            Ok::<_, ()>(SystemLookup::Unknown {
                nearest: Some("dgx-h100".into()),
            })
        };
        let Err(JobError::Input(m)) = job_spec(&args(8.0, 1.0), unknown) else {
            panic!()
        };
        assert!(m.contains("did you mean `dgx-h100`?"), "{m}");
    }

    fn message(a: &JobArgs) -> String {
        match job_spec(a, h100) {
            Err(JobError::Input(m)) => m,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn rates_and_shapes_have_sane_bounds() {
        let base = args(16384.0, 1.0);
        for (edit, expected) in [
            (
                (|a: &mut JobArgs| a.weibull_shape = Some(0.01)) as fn(&mut JobArgs),
                "--weibull-shape must be from 0.2 to 10, got 0.01\n  fix: ",
            ),
            (
                |a: &mut JobArgs| a.weibull_shape = Some(10.5),
                "--weibull-shape must be from 0.2 to 10, got 10.5\n  fix: ",
            ),
            (
                |a: &mut JobArgs| a.node_failures_per_1000_days = Some(1e9),
                "--node-failures-per-1000-days must be at most 1000, got 1000000000\n  fix: ",
            ),
            (
                |a: &mut JobArgs| a.planned_per_day = Some(1e9),
                "--planned-per-day must be at most 24, got 1000000000\n  fix: ",
            ),
            (
                |a: &mut JobArgs| {
                    a.days = None;
                    a.work_hours = Some(1e9);
                },
                "--work-hours must be at most 876000, got 1000000000\n  fix: ",
            ),
        ] {
            let mut a = base.clone();
            edit(&mut a);
            let m = message(&a);
            assert!(m.starts_with(expected), "{m}");
        }
        // The bounds themselves are fine.
        let mut a = base.clone();
        a.weibull_shape = Some(MIN_WEIBULL_SHAPE);
        a.planned_per_day = Some(MAX_PLANNED_PER_DAY);
        a.node_failures_per_1000_days = Some(MAX_NODE_FAILURES_PER_1000_DAYS);
        assert!(job_spec(&a, h100).is_ok());
    }

    #[test]
    fn work_alone_waits_at_most_the_longest_window() {
        let mut a = args(8.0, 1.0);
        a.days = None;
        a.work_hours = Some(MAX_WORK_HOURS);
        let spec = job_spec(&a, h100).unwrap();
        assert_eq!(spec.stop.max_wall_hours(), MAX_DAYS * 24.0);
    }

    #[test]
    fn too_much_work_is_refused_with_what_makes_it_large() {
        let data = ReliabilityData::embedded().unwrap();
        let spec = job_spec(&args(16384.0, 54.0), h100).unwrap();
        let (cfg, _) = data.config(&spec);
        let with_search = check_work(&cfg, false, MAX_EVENTS).unwrap();
        let without = check_work(&cfg, true, MAX_EVENTS).unwrap();
        assert!(with_search > 5.0 * without, "{with_search} vs {without}");
        let m = check_work(&cfg, false, 1000.0).unwrap_err();
        assert!(
            m.starts_with("this question needs about ")
                && m.contains("x 20 runs, plus the checkpoint-interval search")
                && m.contains("the most one question may take is 1,000\n  fix: "),
            "{m}"
        );
        // Every accepted flag, at its largest, is still refused here rather than run.
        let mut a = args(MAX_GPUS, MAX_DAYS);
        a.runs = MAX_RUNS;
        let (cfg, _) = data.config(&job_spec(&a, h100).unwrap());
        assert!(check_work(&cfg, false, MAX_EVENTS).is_err());
    }
}
