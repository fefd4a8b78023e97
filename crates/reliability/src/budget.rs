//! Bounds on a simulation's work, so that no input runs unbounded.
//!
//! - [`expected_events`] estimates, before simulating, how many events one run pops from its
//!   queue (failures, checkpoints, planned maintenance, and the events each one causes) from
//!   the rates and the window. Callers refuse a question whose estimate is over their limit
//!   ([`crate::request::check_work`]), so a question too large fails at once with a message.
//! - [`Budget`] is the hard stop the estimate cannot promise: an event count shared by every
//!   run of one question (the simulation and its interval search), and an optional
//!   cancellation flag (the server sets it when a request times out). Runs charge it every
//!   [`CHARGE_EVERY`] events and stop once it is spent or cancelled; the whole simulation then
//!   returns [`SimError`] instead of a partial answer. Whether the budget is exceeded does not
//!   depend on the thread count (it is the total over all runs), so a question either always
//!   fits or never does.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crate::closed_form::{self, gamma};
use crate::model::{Config, ConfigError, Lifetime, Stop};

/// Events a run processes between two charges to its [`Budget`] (and checks of the
/// cancellation flag): small enough to stop within microseconds.
pub const CHARGE_EVERY: u64 = 1024;

/// Why a simulation did not produce a summary.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SimError {
    /// The configuration cannot be simulated.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The runs together processed more than `max_events` events and were stopped.
    #[error("the simulation processed more than {max_events} events (its budget) and was stopped")]
    OverBudget {
        /// The budget.
        max_events: u64,
    },
    /// The caller cancelled the work.
    #[error("the simulation was cancelled")]
    Cancelled,
}

/// An event budget shared by all the runs of one question, and an optional cancellation flag.
#[derive(Debug)]
pub struct Budget<'a> {
    max_events: u64,
    used: AtomicU64,
    cancel: Option<&'a AtomicBool>,
}

impl<'a> Budget<'a> {
    /// At most `max_events` events over every run charged to it.
    pub fn new(max_events: u64) -> Budget<'a> {
        Budget {
            max_events,
            used: AtomicU64::new(0),
            cancel: None,
        }
    }

    /// No limit (the plain [`crate::simulate`] and [`crate::search_interval`]).
    pub fn unlimited() -> Budget<'a> {
        Budget::new(u64::MAX)
    }

    /// Also stop once `cancel` is set.
    pub fn with_cancel(mut self, cancel: &'a AtomicBool) -> Budget<'a> {
        self.cancel = Some(cancel);
        self
    }

    /// The budget.
    pub fn max_events(&self) -> u64 {
        self.max_events
    }

    /// Events charged so far.
    pub fn used(&self) -> u64 {
        self.used.load(Ordering::Relaxed)
    }

    /// Whether the cancellation flag is set.
    pub fn cancelled(&self) -> bool {
        self.cancel.is_some_and(|c| c.load(Ordering::Relaxed))
    }

    /// Whether the work must stop (budget spent or cancelled).
    pub fn exhausted(&self) -> bool {
        self.used() > self.max_events || self.cancelled()
    }

    /// Adds `events`; `false` once the budget is spent or the work is cancelled.
    pub(crate) fn charge(&self, events: u64) -> bool {
        let total = self
            .used
            .fetch_add(events, Ordering::Relaxed)
            .saturating_add(events);
        total <= self.max_events && !self.cancelled()
    }

    /// Why the work stopped.
    pub(crate) fn error(&self) -> SimError {
        if self.cancelled() {
            SimError::Cancelled
        } else {
            SimError::OverBudget {
                max_events: self.max_events,
            }
        }
    }
}

/// Queue events per unexpected failure while the job is up: the failure, detection, restart,
/// the repair, the next checkpoint (and work target) and the stale events of the phase it cut
/// short. Failures while the job is down cost fewer.
const EVENTS_PER_FAILURE: f64 = 8.0;
/// Per periodic checkpoint: due, stall end, write end, and the re-armed work target.
const EVENTS_PER_CHECKPOINT: f64 = 4.0;
/// Per planned interruption: the interruption, its checkpoint, restart and re-armed events.
const EVENTS_PER_PLANNED: f64 = 6.0;

/// The wall-clock hours one run is expected to cover: the window for `Stop::Wall`; for
/// `Stop::Work`, twice the closed-form time to finish, at most the window.
pub fn expected_wall_hours(cfg: &Config) -> f64 {
    match cfg.stop {
        Stop::Wall { hours } => hours,
        Stop::Work {
            work_hours,
            max_wall_hours,
        } => {
            let ettr = closed_form::expected_ettr(cfg);
            if ettr > 0.0 {
                (2.0 * work_hours / ettr).min(max_wall_hours)
            } else {
                max_wall_hours
            }
        }
    }
}

/// Expected unexpected failures in `hours` of wall clock. Exponential classes: units x rate x
/// hours. Weibull classes (all units new at time 0, each failed unit replaced by a new one):
/// per unit, the renewal function's upper bounds min(F/(1-F), t/mu + cv^2) (the first since
/// the n-fold convolution is at most F^n, the second Lorden's), which grow without bound as
/// the shape falls: a shape of 0.05 expects thousands of failures per unit in a day.
pub fn expected_failures(cfg: &Config, hours: f64) -> f64 {
    cfg.classes
        .iter()
        .map(|c| match c.lifetime {
            Lifetime::Exponential => c.fleet_rate_per_hour() * hours,
            Lifetime::Weibull { shape: k } => {
                if c.rate_per_unit_hour <= 0.0 {
                    return 0.0;
                }
                let mean = 1.0 / c.rate_per_unit_hour;
                let g1 = gamma(1.0 + 1.0 / k);
                let eta = mean / g1;
                let first = ((hours / eta).powf(k)).exp_m1();
                let cv2 = gamma(1.0 + 2.0 / k) / (g1 * g1) - 1.0;
                let lorden = hours / mean + cv2.max(0.0);
                let per_unit = first.min(lorden);
                c.units.round().max(1.0)
                    * if per_unit.is_nan() {
                        f64::INFINITY
                    } else {
                        per_unit
                    }
            }
        })
        .sum()
}

/// Queue events one run of `cfg` at checkpoint interval `interval_hours` is expected to
/// process (an estimate, meant to be on the high side).
pub fn expected_events_at(cfg: &Config, interval_hours: f64) -> f64 {
    let hours = expected_wall_hours(cfg);
    let checkpoints = hours / (interval_hours + cfg.checkpoint.stall_hours).max(1e-12);
    EVENTS_PER_FAILURE * expected_failures(cfg, hours)
        + EVENTS_PER_CHECKPOINT * checkpoints
        + EVENTS_PER_PLANNED * cfg.planned_per_hour * hours
        + 2.0
}

/// Queue events one run of `cfg` is expected to process.
pub fn expected_events(cfg: &Config) -> f64 {
    expected_events_at(cfg, cfg.checkpoint.interval_hours)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{JobSpec, ReliabilityData};

    fn llama3() -> Config {
        let data = ReliabilityData::embedded().unwrap();
        let mut job = JobSpec::new(16_384, 54.0);
        job.runs = 4;
        data.config(&job).0
    }

    #[test]
    fn the_estimate_is_on_the_high_side_of_what_runs_process() {
        let cfg = llama3();
        let budget = Budget::unlimited();
        let summary = crate::summary::simulate_within(&cfg, &budget, &|| {}).unwrap();
        let estimate = expected_events(&cfg) * f64::from(cfg.runs);
        let popped = budget.used() as f64;
        assert!(popped >= summary.events as f64);
        assert!(
            estimate > popped && estimate < 4.0 * popped,
            "{estimate} vs {popped}"
        );
    }

    #[test]
    fn within_the_budget_the_answer_is_the_unbounded_one() {
        let cfg = llama3();
        let unbounded = crate::summary::simulate(&cfg).unwrap();
        // Exactly the events the runs pop: enough, and nothing to spare.
        let probe = Budget::unlimited();
        crate::summary::simulate_within(&cfg, &probe, &|| {}).unwrap();
        let exact = Budget::new(probe.used());
        assert_eq!(
            crate::summary::simulate_within(&cfg, &exact, &|| {}),
            Ok(unbounded)
        );
        let short = Budget::new(probe.used() - 1);
        assert!(crate::summary::simulate_within(&cfg, &short, &|| {}).is_err());
    }

    #[test]
    fn small_weibull_shapes_expect_a_flood_of_failures() {
        let mut cfg = llama3();
        let exponential = expected_failures(&cfg, 24.0);
        for class in &mut cfg.classes {
            class.lifetime = Lifetime::Weibull { shape: 0.05 };
        }
        assert!(expected_failures(&cfg, 24.0) > 1000.0 * exponential);
        for class in &mut cfg.classes {
            class.lifetime = Lifetime::Weibull { shape: 1.0 };
        }
        // Shape 1 is exponential, but the units start new: the bound is a little above.
        let one = expected_failures(&cfg, 24.0);
        assert!(one >= exponential && one < 1.1 * exponential, "{one}");
    }

    #[test]
    fn a_spent_budget_stops_every_run() {
        let cfg = llama3();
        let budget = Budget::new(10_000);
        let err = crate::summary::simulate_within(&cfg, &budget, &|| {}).unwrap_err();
        assert_eq!(err, SimError::OverBudget { max_events: 10_000 });
        // Runs stop within a charge of the budget, each (two threads at most here).
        assert!(
            budget.used() < 10_000 + 8 * CHARGE_EVERY,
            "{}",
            budget.used()
        );
    }

    #[test]
    fn a_cancelled_simulation_stops() {
        let cfg = llama3();
        let cancel = AtomicBool::new(true);
        let budget = Budget::unlimited().with_cancel(&cancel);
        assert_eq!(
            crate::summary::simulate_within(&cfg, &budget, &|| {}),
            Err(SimError::Cancelled)
        );
        assert_eq!(
            crate::summary::search_interval_within(&cfg, 2, &budget, &|| {}),
            Err(SimError::Cancelled)
        );
    }
}
