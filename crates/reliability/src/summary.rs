//! Many runs: statistics across seeds, and the search for the best checkpoint interval.

use std::collections::BTreeMap;

use rayon::prelude::*;
use serde::Serialize;

use crate::budget::{Budget, SimError};
use crate::closed_form;
use crate::model::{Config, ConfigError, Stop};
use crate::sim::{self, RunResult};

/// Mean and percentiles of one output across runs (percentiles interpolate linearly between
/// order statistics).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Stats {
    /// Arithmetic mean.
    pub mean: f64,
    /// 5th percentile.
    pub p5: f64,
    /// Median.
    pub p50: f64,
    /// 95th percentile.
    pub p95: f64,
    /// Smallest.
    pub min: f64,
    /// Largest.
    pub max: f64,
}

impl Stats {
    /// Statistics of `values` (all zero when empty).
    pub fn of(values: &[f64]) -> Stats {
        if values.is_empty() {
            return Stats {
                mean: 0.0,
                p5: 0.0,
                p50: 0.0,
                p95: 0.0,
                min: 0.0,
                max: 0.0,
            };
        }
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        let q = |p: f64| {
            let x = p * (sorted.len() - 1) as f64;
            let (lo, hi) = (x.floor() as usize, x.ceil() as usize);
            sorted[lo] + (sorted[hi] - sorted[lo]) * (x - lo as f64)
        };
        Stats {
            mean: values.iter().sum::<f64>() / values.len() as f64,
            p5: q(0.05),
            p50: q(0.5),
            p95: q(0.95),
            min: sorted[0],
            max: sorted[sorted.len() - 1],
        }
    }
}

/// One cause's share of the trouble (means per run).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CauseSummary {
    /// Readable name.
    pub name: String,
    /// Unexpected interruptions per run.
    pub interruptions: f64,
    /// Share of all unexpected interruptions.
    pub share: f64,
    /// Work rolled back per run, hours.
    pub lost_work_hours: f64,
    /// Detection, waiting for spares and restart per run, hours.
    pub downtime_hours: f64,
}

/// Wall-clock hours that were not useful work, by reason (means per run).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LostHours {
    /// Work computed, then rolled back to the last durable checkpoint.
    pub rollback: f64,
    /// From failure to detection.
    pub detection: f64,
    /// Waiting for spare or repaired systems.
    pub waiting_for_spares: f64,
    /// Restarting.
    pub restart: f64,
    /// Paused by periodic checkpoints.
    pub checkpoint: f64,
    /// Planned maintenance (its checkpoint and restart).
    pub planned: f64,
}

/// What the closed forms say for the same configuration (exponential failures, enough
/// spares).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Expected {
    /// 1 / fleet failure rate, hours (`null`: nothing fails).
    pub mtti_hours: Option<f64>,
    /// Expected ETTR at the configured interval.
    pub ettr: f64,
    /// Young's sqrt(2 C M), minutes (C = the checkpoint stall).
    pub young_daly_interval_min: Option<f64>,
    /// Daly's higher-order optimum, minutes.
    pub daly_interval_min: Option<f64>,
    /// The interval maximising the closed-form ETTR, minutes.
    pub optimal_interval_min: Option<f64>,
    /// Expected wall-clock hours to finish the work target (`Stop::Work` only).
    pub time_to_finish_hours: Option<f64>,
}

/// The outcome of many runs of one configuration.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// Runs simulated.
    pub runs: u32,
    /// Seed.
    pub seed: u64,
    /// Wall-clock hours per run.
    pub wall_hours: Stats,
    /// Useful work per run, hours.
    pub useful_hours: Stats,
    /// Effective training time ratio (useful work / wall clock).
    pub ettr: Stats,
    /// Unexpected interruptions per run.
    pub unexpected_interruptions: Stats,
    /// Planned interruptions per run.
    pub planned_interruptions: Stats,
    /// Mean time to unexpected interruption, hours: all wall-clock time / all unexpected
    /// interruptions, pooled over runs (`null` when none happened).
    pub mtti_hours: Option<f64>,
    /// Lost time by reason.
    pub lost_hours: LostHours,
    /// By cause (failure class id).
    pub by_cause: BTreeMap<String, CauseSummary>,
    /// Most systems in repair at once, per run: hot spares needed never to wait.
    pub peak_systems_in_repair: Stats,
    /// Runs that spent any time waiting for spares.
    pub runs_that_waited_for_spares: u32,
    /// Wall-clock hours to finish the work target, over the runs that finished
    /// (`Stop::Work` only).
    pub time_to_finish_hours: Option<Stats>,
    /// Runs that reached the work target (`Stop::Work` only).
    pub runs_finished: Option<u32>,
    /// Durable checkpoints per run.
    pub checkpoints: Stats,
    /// Events processed, all runs.
    pub events: u64,
    /// Closed forms for comparison.
    pub expected: Expected,
}

/// The checkpoint-interval search: simulated ETTR on a grid of intervals (same seeds at each
/// interval, so differences are not noise between seeds).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IntervalSearch {
    /// Runs per interval.
    pub runs_per_point: u32,
    /// (interval in minutes, mean ETTR), ascending interval.
    pub points: Vec<(f64, f64)>,
    /// The interval with the highest mean simulated ETTR, minutes.
    pub best_interval_min: f64,
    /// Its mean ETTR.
    pub best_ettr: f64,
}

/// Runs `cfg.runs` replicas in parallel and summarises them. Results do not depend on the
/// number of threads: run `i` draws from stream (seed, i), and runs are combined in index
/// order. Unbounded: [`simulate_within`] stops at an event budget.
pub fn simulate(cfg: &Config) -> Result<Summary, ConfigError> {
    simulate_with_progress(cfg, &|| {})
}

/// [`simulate`], calling `progress` after each run (for a progress bar; called from worker
/// threads).
pub fn simulate_with_progress(
    cfg: &Config,
    progress: &(dyn Fn() + Sync),
) -> Result<Summary, ConfigError> {
    cfg.validate()?;
    let results: Vec<RunResult> = (0..u64::from(cfg.runs))
        .into_par_iter()
        .map(|i| {
            let r = sim::run(cfg, i);
            progress();
            r
        })
        .collect();
    Ok(summarise(cfg, &results))
}

/// [`simulate_with_progress`] within `budget`: every event of every run is charged to it, and
/// the runs stop once it is spent or cancelled ([`SimError::OverBudget`],
/// [`SimError::Cancelled`]). Within the budget the summary is [`simulate`]'s, byte for byte.
pub fn simulate_within(
    cfg: &Config,
    budget: &Budget,
    progress: &(dyn Fn() + Sync),
) -> Result<Summary, SimError> {
    cfg.validate()?;
    let results = run_all(cfg, budget, progress)?;
    Ok(summarise(cfg, &results))
}

fn run_all(
    cfg: &Config,
    budget: &Budget,
    progress: &(dyn Fn() + Sync),
) -> Result<Vec<RunResult>, SimError> {
    let results: Option<Vec<RunResult>> = (0..u64::from(cfg.runs))
        .into_par_iter()
        .map(|i| {
            let r = sim::run_within(cfg, i, budget);
            progress();
            r
        })
        .collect();
    // A run that finished may still have spent the last of the budget: the outcome is
    // decided by the total, whatever order the runs charged it in.
    match results {
        Some(results) if !budget.exhausted() => Ok(results),
        _ => Err(budget.error()),
    }
}

fn summarise(cfg: &Config, results: &[RunResult]) -> Summary {
    let n = results.len() as f64;
    let stats =
        |f: &dyn Fn(&RunResult) -> f64| Stats::of(&results.iter().map(f).collect::<Vec<_>>());
    let mean = |f: &dyn Fn(&RunResult) -> f64| results.iter().map(f).sum::<f64>() / n;
    let total_interruptions: u64 = results
        .iter()
        .map(RunResult::unexpected_interruptions)
        .sum();
    let total_wall: f64 = results.iter().map(|r| r.wall_hours).sum();
    let mut by_cause = BTreeMap::new();
    for (c, class) in cfg.classes.iter().enumerate() {
        let count: u64 = results.iter().map(|r| r.interruptions[c]).sum();
        by_cause.insert(
            class.id.clone(),
            CauseSummary {
                name: class.name.clone(),
                interruptions: count as f64 / n,
                share: if total_interruptions > 0 {
                    count as f64 / total_interruptions as f64
                } else {
                    0.0
                },
                lost_work_hours: mean(&|r| r.rollback_hours[c]),
                downtime_hours: mean(&|r| {
                    r.detection_hours[c] + r.waiting_hours[c] + r.restart_hours[c]
                }),
            },
        );
    }
    let finished: Vec<f64> = results.iter().filter_map(|r| r.finished_at_hours).collect();
    let is_work = matches!(cfg.stop, Stop::Work { .. });
    let expected_ettr = closed_form::expected_ettr(cfg);
    let mtti = closed_form::mtti_hours(cfg);
    let finite = |x: f64| x.is_finite().then_some(x);
    let stall = cfg.checkpoint.stall_hours;
    Summary {
        runs: cfg.runs,
        seed: cfg.seed,
        wall_hours: stats(&|r| r.wall_hours),
        useful_hours: stats(&|r| r.useful_hours),
        ettr: stats(&RunResult::ettr),
        unexpected_interruptions: stats(&|r| r.unexpected_interruptions() as f64),
        planned_interruptions: stats(&|r| r.planned_interruptions as f64),
        mtti_hours: (total_interruptions > 0).then(|| total_wall / total_interruptions as f64),
        lost_hours: LostHours {
            rollback: mean(&|r| r.rollback_hours.iter().sum()),
            detection: mean(&|r| r.detection_hours.iter().sum()),
            waiting_for_spares: mean(&|r| r.waiting_hours.iter().sum()),
            restart: mean(&|r| r.restart_hours.iter().sum()),
            checkpoint: mean(&|r| r.checkpoint_hours),
            planned: mean(&|r| r.planned_hours),
        },
        by_cause,
        peak_systems_in_repair: stats(&|r| r.peak_systems_in_repair as f64),
        runs_that_waited_for_spares: results
            .iter()
            .filter(|r| r.waiting_hours.iter().sum::<f64>() > 0.0)
            .count() as u32,
        time_to_finish_hours: is_work.then(|| Stats::of(&finished)),
        runs_finished: is_work.then_some(finished.len() as u32),
        checkpoints: stats(&|r| r.checkpoints as f64),
        events: results.iter().map(|r| r.events).sum(),
        expected: Expected {
            mtti_hours: finite(mtti),
            ettr: expected_ettr,
            young_daly_interval_min: finite(mtti)
                .map(|m| closed_form::young_daly_interval_hours(stall, m) * 60.0),
            daly_interval_min: finite(mtti)
                .map(|m| closed_form::daly_interval_hours(stall, m) * 60.0),
            optimal_interval_min: closed_form::optimal_interval_hours(cfg).map(|h| h * 60.0),
            time_to_finish_hours: match cfg.stop {
                Stop::Work { work_hours, .. } if expected_ettr > 0.0 => {
                    Some(work_hours / expected_ettr)
                }
                _ => None,
            },
        },
    }
}

/// How many simulations [`search_interval`] runs (for sizing a progress bar).
pub fn search_interval_runs(runs_per_point: u32) -> u64 {
    u64::from(runs_per_point) * (COARSE_POINTS + FINE_POINTS) as u64
}

const COARSE_POINTS: usize = 13;
const FINE_POINTS: usize = 6;

/// Finds the checkpoint interval with the best mean simulated ETTR: 13 log-spaced intervals
/// from 1/8 to 8 times the closed-form optimum (Young's interval if that is undefined), then 6
/// more between the best one's neighbours. `runs_per_point` runs at each, seeds shared. With
/// no failures there is nothing to trade off: `None`.
pub fn search_interval(
    cfg: &Config,
    runs_per_point: u32,
    progress: &(dyn Fn() + Sync),
) -> Result<Option<IntervalSearch>, ConfigError> {
    search_interval_within(cfg, runs_per_point, &Budget::unlimited(), progress).map_err(|e| {
        match e {
            SimError::Config(e) => e,
            // An unlimited budget without a cancellation flag never stops a run.
            other => ConfigError {
                field: "runs".into(),
                message: other.to_string(),
            },
        }
    })
}

/// The intervals [`search_interval`] tries first (hours), around `centre`.
fn coarse_grid(centre: f64) -> Vec<f64> {
    let step = 8f64.powf(1.0 / 6.0);
    (0..COARSE_POINTS)
        .map(|i| centre * step.powi(i as i32 - 6))
        .collect()
}

/// Queue events [`search_interval`] is expected to process with `runs_per_point` runs per
/// interval (0 when there is nothing to search): the coarse grid exactly, the refinement as
/// its most expensive point.
pub fn search_expected_events(cfg: &Config, runs_per_point: u32) -> f64 {
    let Some(centre) = closed_form::optimal_interval_hours(cfg) else {
        return 0.0;
    };
    let per_point: Vec<f64> = coarse_grid(centre)
        .iter()
        .map(|&x| crate::budget::expected_events_at(cfg, x))
        .collect();
    let worst = per_point.iter().copied().fold(0.0, f64::max);
    f64::from(runs_per_point.max(1)) * (per_point.iter().sum::<f64>() + FINE_POINTS as f64 * worst)
}

/// [`search_interval`] within `budget` (see [`simulate_within`]).
pub fn search_interval_within(
    cfg: &Config,
    runs_per_point: u32,
    budget: &Budget,
    progress: &(dyn Fn() + Sync),
) -> Result<Option<IntervalSearch>, SimError> {
    cfg.validate()?;
    let Some(centre) = closed_form::optimal_interval_hours(cfg) else {
        return Ok(None);
    };
    let mut trial = cfg.clone();
    trial.runs = runs_per_point.max(1);
    let evaluate = |interval_hours: f64| -> Result<(f64, f64), SimError> {
        let mut c = trial.clone();
        c.checkpoint.interval_hours = interval_hours;
        let results = run_all(&c, budget, progress)?;
        let ettr = results.iter().map(RunResult::ettr).sum::<f64>() / results.len() as f64;
        Ok((interval_hours, ettr))
    };
    let coarse = coarse_grid(centre);
    let mut points = coarse
        .iter()
        .map(|&x| evaluate(x))
        .collect::<Result<Vec<_>, _>>()?;
    let best = best_index(&points);
    let lo = coarse[best.saturating_sub(1)];
    let hi = coarse[(best + 1).min(COARSE_POINTS - 1)];
    for i in 1..=FINE_POINTS {
        let x = lo * (hi / lo).powf(i as f64 / (FINE_POINTS + 1) as f64);
        points.push(evaluate(x)?);
    }
    points.sort_by(|a, b| a.0.total_cmp(&b.0));
    let best = points[best_index(&points)];
    Ok(Some(IntervalSearch {
        runs_per_point: trial.runs,
        points: points.iter().map(|&(x, e)| (x * 60.0, e)).collect(),
        best_interval_min: best.0 * 60.0,
        best_ettr: best.1,
    }))
}

fn best_index(points: &[(f64, f64)]) -> usize {
    // The first of equal maxima, so the result does not depend on float noise in ordering.
    let mut best = 0;
    for (i, p) in points.iter().enumerate() {
        if p.1 > points[best].1 {
            best = i;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_interpolate() {
        // 0..=10: mean 5, median 5, p5 at index 0.5 = 0.5, p95 at 9.5.
        let values: Vec<f64> = (0..=10).map(f64::from).collect();
        let s = Stats::of(&values);
        assert_eq!((s.mean, s.p50, s.p5, s.p95), (5.0, 5.0, 0.5, 9.5));
        assert_eq!((s.min, s.max), (0.0, 10.0));
    }
}
