//! The discrete-event simulator: one run of one job.
//!
//! State is a handful of numbers, not one record per accelerator, so a million-accelerator
//! job costs the same memory as an eight-accelerator one:
//!
//! - Exponential classes are superposed: the fleet is one Poisson process of rate
//!   `sum(units x rate)`; when it fires, the cause is drawn with probability proportional to
//!   each class's rate. Which unit failed is never needed (all units of a class are alike).
//! - A Weibull class is a cohort of `units` units, all new at time 0, plus the units that
//!   replaced failed ones. The cohort's next failure after time t (all survivors have age t)
//!   is exact by inversion of the cumulative hazard: with H(t) = (t/eta)^k per unit and n
//!   survivors, P(no failure in (t, s]) = exp(-n (H(s) - H(t))), so
//!   s = eta ((t/eta)^k + E/n)^(1/k) with E ~ Exp(1). A failed unit leaves the cohort and its
//!   replacement gets its own event (new, so its lifetime is a fresh Weibull draw); only
//!   replacements are stored, so memory grows with failures, not with the fleet. The other
//!   units of a swapped system are treated as staying in the cohort (a spare of the same age).
//! - Failure clocks run in wall-clock time (hardware ages while the job is down), so a
//!   failure can hit a restart in progress, which then starts again: at scale this restart
//!   storm is what stops progress.
//! - Repairs take a fixed time, so they finish in the order they started: a FIFO queue, with
//!   only its head in the event queue.
//!
//! Events are ordered by (time, sequence number), so ties resolve in the order they were
//! scheduled and a run is a pure function of (config, seed, run index).

use std::cmp::Ordering;
use std::collections::{BinaryHeap, VecDeque};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::Exp1;

use crate::budget::{Budget, CHARGE_EVERY};
use crate::model::{Config, Lifetime, Stop};

/// What one run produced. Hours unless named otherwise; per-cause vectors follow
/// `Config::classes`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RunResult {
    /// Wall-clock hours simulated.
    pub wall_hours: f64,
    /// Work kept at the end (committed, plus uncommitted work at the stop).
    pub useful_hours: f64,
    /// Unexpected failures that hit the job, by cause.
    pub interruptions: Vec<u64>,
    /// Planned maintenance interruptions taken.
    pub planned_interruptions: u64,
    /// Work rolled back to the last durable checkpoint, by cause.
    pub rollback_hours: Vec<f64>,
    /// Time from failure to detection, by cause of the outage.
    pub detection_hours: Vec<f64>,
    /// Time waiting for spare or repaired systems, by cause of the outage.
    pub waiting_hours: Vec<f64>,
    /// Time restarting (including restarts cut short by a failure), by cause of the outage.
    pub restart_hours: Vec<f64>,
    /// Time paused by periodic checkpoints.
    pub checkpoint_hours: f64,
    /// Time lost to planned maintenance (its checkpoint and restart).
    pub planned_hours: f64,
    /// Checkpoints made durable.
    pub checkpoints: u64,
    /// The most systems in repair at once (spares needed never to wait).
    pub peak_systems_in_repair: u64,
    /// Hours at which `Stop::Work` was reached, if it was.
    pub finished_at_hours: Option<f64>,
    /// Events processed.
    pub events: u64,
}

impl RunResult {
    /// Effective training time ratio: useful work / wall clock.
    pub fn ettr(&self) -> f64 {
        if self.wall_hours > 0.0 {
            self.useful_hours / self.wall_hours
        } else {
            0.0
        }
    }

    /// All unexpected interruptions.
    pub fn unexpected_interruptions(&self) -> u64 {
        self.interruptions.iter().sum()
    }

    /// The sum of every time bucket; equals `wall_hours` (a tested invariant).
    pub fn accounted_hours(&self) -> f64 {
        self.useful_hours
            + self.rollback_hours.iter().sum::<f64>()
            + self.detection_hours.iter().sum::<f64>()
            + self.waiting_hours.iter().sum::<f64>()
            + self.restart_hours.iter().sum::<f64>()
            + self.checkpoint_hours
            + self.planned_hours
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Event {
    /// The superposed exponential classes fire.
    Failure,
    /// The cohort of Weibull class `c` loses a unit.
    CohortFailure(u16),
    /// A replacement unit of Weibull class `c` fails.
    UnitFailure(u16),
    /// Planned maintenance is due.
    Planned,
    /// A periodic checkpoint is due (valid in phase generation `g`).
    CheckpointDue(u32),
    /// The checkpoint stall ends.
    StallDone(u32),
    /// An asynchronous write becomes durable (valid in failure lineage `g`), at this position.
    WriteDone(u32, f64),
    /// Detection ends.
    DetectDone(u32),
    /// The restart ends.
    RestartDone(u32),
    /// The job reaches its work target.
    WorkDone(u32),
    /// The head of the repair queue is back.
    RepairDone,
    /// The run's wall-clock limit.
    End,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    time: f64,
    seq: u64,
    event: Event,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Entry {
    /// Reversed, so the max-heap pops the earliest (time, seq) first.
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .time
            .total_cmp(&self.time)
            .then_with(|| other.seq.cmp(&self.seq))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Computing,
    /// Paused for a checkpoint (planned: the checkpoint before maintenance).
    Stall {
        planned: bool,
    },
    Detecting,
    Waiting,
    Restarting {
        planned: bool,
    },
    Done,
}

struct Sim<'a> {
    cfg: &'a Config,
    rng: ChaCha8Rng,
    heap: BinaryHeap<Entry>,
    seq: u64,
    now: f64,
    phase: Phase,
    phase_start: f64,
    /// Bumped on every phase change: events of an older phase are stale.
    phase_gen: u32,
    /// Bumped on every rollback: writes started before it are stale.
    lineage: u32,
    /// Work position (hours of compute kept so far, if nothing else fails).
    position: f64,
    /// Position of the last durable checkpoint.
    durable: f64,
    /// Position at the last checkpoint start or restart; the next is due `interval` later.
    anchor: f64,
    /// Snapshot position of the checkpoint in progress.
    snapshot: f64,
    write_pending: bool,
    /// Cause (class index) of the current outage.
    outage_cause: usize,
    // Exponential superposition.
    exp_rate: f64,
    exp_cumulative: Vec<(f64, usize)>,
    // Weibull cohorts: survivors per class (unused for exponential classes).
    cohort: Vec<u64>,
    /// (shape, scale) per class (unused for exponential classes).
    weibull_params: Vec<(f64, f64)>,
    // Spares and repairs.
    pool: u64,
    deficit: u64,
    repairs: VecDeque<f64>,
    out: RunResult,
}

/// Runs one replica: run `index` of `cfg` (its random stream is (cfg.seed, index)).
/// `cfg` must be valid ([`Config::validate`]). Unbounded: see [`run_within`].
pub fn run(cfg: &Config, index: u64) -> RunResult {
    let budget = Budget::unlimited();
    let mut sim = Sim::new(cfg, index);
    sim.main_loop(&budget);
    sim.out
}

/// [`run`], charging every event popped from the queue (stale ones included) to `budget`:
/// `None` once the budget is spent or cancelled, before or during the run.
pub fn run_within(cfg: &Config, index: u64, budget: &Budget) -> Option<RunResult> {
    if budget.exhausted() {
        return None;
    }
    let mut sim = Sim::new(cfg, index);
    sim.main_loop(budget).then_some(sim.out)
}

impl<'a> Sim<'a> {
    fn new(cfg: &'a Config, index: u64) -> Sim<'a> {
        let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
        rng.set_stream(index);
        let n = cfg.classes.len();
        let mut exp_cumulative = Vec::new();
        let mut exp_rate = 0.0;
        for (i, class) in cfg.classes.iter().enumerate() {
            if class.lifetime == Lifetime::Exponential && class.fleet_rate_per_hour() > 0.0 {
                exp_rate += class.fleet_rate_per_hour();
                exp_cumulative.push((exp_rate, i));
            }
        }
        let mut sim = Sim {
            cfg,
            rng,
            heap: BinaryHeap::with_capacity(64),
            seq: 0,
            now: 0.0,
            phase: Phase::Computing,
            phase_start: 0.0,
            phase_gen: 0,
            lineage: 0,
            position: 0.0,
            durable: 0.0,
            anchor: 0.0,
            snapshot: 0.0,
            write_pending: false,
            outage_cause: 0,
            exp_rate,
            exp_cumulative,
            cohort: cfg
                .classes
                .iter()
                .map(|c| c.units.round().max(1.0) as u64)
                .collect(),
            weibull_params: cfg
                .classes
                .iter()
                .map(|c| match c.lifetime {
                    Lifetime::Weibull { shape } => (
                        shape,
                        1.0 / c.rate_per_unit_hour / crate::closed_form::gamma(1.0 + 1.0 / shape),
                    ),
                    Lifetime::Exponential => (1.0, 0.0),
                })
                .collect(),
            pool: cfg.spares,
            deficit: 0,
            repairs: VecDeque::new(),
            out: RunResult {
                interruptions: vec![0; n],
                rollback_hours: vec![0.0; n],
                detection_hours: vec![0.0; n],
                waiting_hours: vec![0.0; n],
                restart_hours: vec![0.0; n],
                ..RunResult::default()
            },
        };
        sim.start();
        sim
    }
}

impl Sim<'_> {
    fn push(&mut self, time: f64, event: Event) {
        self.seq += 1;
        self.heap.push(Entry {
            time,
            seq: self.seq,
            event,
        });
    }

    fn exp1(&mut self) -> f64 {
        self.rng.sample(Exp1)
    }

    fn start(&mut self) {
        self.push(self.cfg.stop.max_wall_hours(), Event::End);
        if self.exp_rate > 0.0 {
            let t = self.exp1() / self.exp_rate;
            self.push(t, Event::Failure);
        }
        for c in 0..self.cfg.classes.len() {
            if let Lifetime::Weibull { .. } = self.cfg.classes[c].lifetime {
                self.schedule_cohort(c);
            }
        }
        if self.cfg.planned_per_hour > 0.0 {
            let t = self.exp1() / self.cfg.planned_per_hour;
            self.push(t, Event::Planned);
        }
        self.enter_computing();
    }

    /// Weibull (shape k, scale eta) of class `c`; eta keeps the mean at 1 / rate.
    fn weibull(&self, c: usize) -> (f64, f64) {
        self.weibull_params[c]
    }

    fn schedule_cohort(&mut self, c: usize) {
        let n = self.cohort[c];
        if n == 0 {
            return;
        }
        let (k, eta) = self.weibull(c);
        let e = self.exp1();
        // s = eta ((t/eta)^k + E/n)^(1/k): exact next failure among n survivors of age t.
        let s = eta * ((self.now / eta).powf(k) + e / n as f64).powf(1.0 / k);
        self.push(s, Event::CohortFailure(c as u16));
    }

    fn schedule_replacement(&mut self, c: usize) {
        let (k, eta) = self.weibull(c);
        let life = eta * self.exp1().powf(1.0 / k);
        // A replacement that outlives the run never fires: keep it out of the queue, which
        // then holds only the replacements that will fail (memory and speed).
        if self.now + life <= self.cfg.stop.max_wall_hours() {
            self.push(self.now + life, Event::UnitFailure(c as u16));
        }
    }

    /// Processes events until the run ends (`true`) or `budget` says stop (`false`).
    fn main_loop(&mut self, budget: &Budget) -> bool {
        let mut uncharged = 0;
        while let Some(entry) = self.heap.pop() {
            uncharged += 1;
            if uncharged == CHARGE_EVERY {
                uncharged = 0;
                if !budget.charge(CHARGE_EVERY) {
                    return false;
                }
            }
            self.now = entry.time;
            self.out.events += 1;
            match entry.event {
                Event::Failure => {
                    let u = self.rng.random::<f64>() * self.exp_rate;
                    let cause = self
                        .exp_cumulative
                        .iter()
                        .find(|(cum, _)| u < *cum)
                        .map_or_else(
                            || self.exp_cumulative[self.exp_cumulative.len() - 1].1,
                            |x| x.1,
                        );
                    let t = self.now + self.exp1() / self.exp_rate;
                    self.push(t, Event::Failure);
                    self.failure(cause);
                }
                Event::CohortFailure(c) => {
                    let c = c as usize;
                    self.cohort[c] -= 1;
                    self.schedule_cohort(c);
                    self.schedule_replacement(c);
                    self.failure(c);
                }
                Event::UnitFailure(c) => {
                    let c = c as usize;
                    self.schedule_replacement(c);
                    self.failure(c);
                }
                Event::Planned => {
                    let t = self.now + self.exp1() / self.cfg.planned_per_hour;
                    self.push(t, Event::Planned);
                    if self.phase == Phase::Computing {
                        self.out.planned_interruptions += 1;
                        self.advance_position();
                        self.snapshot = self.position;
                        self.set_phase(Phase::Stall { planned: true });
                        let t = self.now + self.cfg.checkpoint.write_hours;
                        self.push(t, Event::StallDone(self.phase_gen));
                    }
                }
                Event::CheckpointDue(g) if g == self.phase_gen => self.checkpoint_due(),
                Event::StallDone(g) if g == self.phase_gen => self.stall_done(),
                Event::WriteDone(g, position) if g == self.lineage => {
                    self.durable = self.durable.max(position);
                    self.write_pending = false;
                    self.out.checkpoints += 1;
                }
                Event::DetectDone(g) if g == self.phase_gen => {
                    self.close_phase();
                    if self.deficit > 0 {
                        self.set_phase(Phase::Waiting);
                    } else {
                        self.enter_restart(false);
                    }
                }
                Event::RestartDone(g) if g == self.phase_gen => {
                    self.close_phase();
                    self.enter_computing();
                }
                Event::WorkDone(g) if g == self.phase_gen => {
                    self.advance_position();
                    self.out.finished_at_hours = Some(self.now);
                    self.finish();
                    return budget.charge(uncharged);
                }
                Event::RepairDone => self.repair_done(),
                Event::End => {
                    if self.phase == Phase::Computing {
                        self.advance_position();
                    } else {
                        self.close_phase();
                    }
                    self.finish();
                    return budget.charge(uncharged);
                }
                // A stale event of a phase that has ended.
                _ => self.out.events -= 1,
            }
        }
        budget.charge(uncharged)
    }

    fn finish(&mut self) {
        self.phase = Phase::Done;
        self.out.wall_hours = self.now;
        self.out.useful_hours = self.position;
    }

    fn set_phase(&mut self, phase: Phase) {
        self.phase = phase;
        self.phase_start = self.now;
        self.phase_gen = self.phase_gen.wrapping_add(1);
    }

    /// Adds the time spent in the current (non-computing) phase to its bucket.
    fn close_phase(&mut self) {
        let spent = self.now - self.phase_start;
        let cause = self.outage_cause;
        match self.phase {
            Phase::Computing | Phase::Done => {}
            Phase::Stall { planned: false } => self.out.checkpoint_hours += spent,
            Phase::Stall { planned: true } | Phase::Restarting { planned: true } => {
                self.out.planned_hours += spent
            }
            Phase::Detecting => self.out.detection_hours[cause] += spent,
            Phase::Waiting => self.out.waiting_hours[cause] += spent,
            Phase::Restarting { planned: false } => self.out.restart_hours[cause] += spent,
        }
    }

    fn advance_position(&mut self) {
        self.position += self.now - self.phase_start;
        self.phase_start = self.now;
    }

    fn enter_computing(&mut self) {
        self.set_phase(Phase::Computing);
        let g = self.phase_gen;
        let due = self.anchor + self.cfg.checkpoint.interval_hours - self.position;
        self.push(self.now + due.max(0.0), Event::CheckpointDue(g));
        if let Stop::Work { work_hours, .. } = self.cfg.stop {
            self.push(
                self.now + (work_hours - self.position).max(0.0),
                Event::WorkDone(g),
            );
        }
    }

    fn enter_restart(&mut self, planned: bool) {
        self.set_phase(Phase::Restarting { planned });
        let t = self.now + self.cfg.restart_hours;
        self.push(t, Event::RestartDone(self.phase_gen));
    }

    fn checkpoint_due(&mut self) {
        self.advance_position();
        if self.write_pending {
            // The previous asynchronous write is still going: skip this one.
            self.anchor = self.position;
            self.enter_computing();
            return;
        }
        self.snapshot = self.position;
        self.set_phase(Phase::Stall { planned: false });
        let t = self.now + self.cfg.checkpoint.stall_hours;
        self.push(t, Event::StallDone(self.phase_gen));
    }

    fn stall_done(&mut self) {
        let Phase::Stall { planned } = self.phase else {
            return;
        };
        self.close_phase();
        if planned {
            self.durable = self.snapshot;
            self.anchor = self.snapshot;
            self.out.checkpoints += 1;
            self.enter_restart(true);
            return;
        }
        self.anchor = self.snapshot;
        let ckpt = self.cfg.checkpoint;
        if ckpt.is_async() {
            self.write_pending = true;
            let t = self.now + (ckpt.write_hours - ckpt.stall_hours);
            self.push(t, Event::WriteDone(self.lineage, self.snapshot));
        } else {
            self.durable = self.snapshot;
            self.out.checkpoints += 1;
        }
        self.enter_computing();
    }

    fn failure(&mut self, cause: usize) {
        self.out.interruptions[cause] += 1;
        let lost_systems = self.cfg.blast_systems(self.cfg.classes[cause].blast);
        if lost_systems > 0 {
            let from_pool = lost_systems.min(self.pool);
            self.pool -= from_pool;
            self.deficit += lost_systems - from_pool;
            let back = self.now + self.cfg.repair_hours;
            if self.repairs.is_empty() {
                self.push(back, Event::RepairDone);
            }
            for _ in 0..lost_systems {
                self.repairs.push_back(back);
            }
            self.out.peak_systems_in_repair = self
                .out
                .peak_systems_in_repair
                .max(self.repairs.len() as u64);
        }
        match self.phase {
            Phase::Computing | Phase::Stall { .. } => {
                if self.phase == Phase::Computing {
                    self.advance_position();
                } else {
                    self.close_phase();
                }
                self.out.rollback_hours[cause] += self.position - self.durable;
                self.position = self.durable;
                self.anchor = self.durable;
                self.write_pending = false;
                self.lineage = self.lineage.wrapping_add(1);
                self.enter_detection(cause);
            }
            Phase::Restarting { .. } => {
                self.close_phase();
                self.enter_detection(cause);
            }
            // Already down: the failure takes hardware but does not add downtime of its own.
            Phase::Detecting | Phase::Waiting | Phase::Done => {}
        }
    }

    fn enter_detection(&mut self, cause: usize) {
        self.outage_cause = cause;
        self.set_phase(Phase::Detecting);
        let t = self.now + self.cfg.detection_hours;
        self.push(t, Event::DetectDone(self.phase_gen));
    }

    fn repair_done(&mut self) {
        // Every system whose repair ends now returns; the next head gets its own event.
        let now = self.now;
        while self.repairs.front().is_some_and(|&t| t <= now) {
            self.repairs.pop_front();
            if self.deficit > 0 {
                self.deficit -= 1;
            } else {
                self.pool += 1;
            }
        }
        if let Some(&next) = self.repairs.front() {
            self.push(next, Event::RepairDone);
        }
        if self.phase == Phase::Waiting && self.deficit == 0 {
            self.close_phase();
            self.enter_restart(false);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Blast, Checkpoint, FailureClass};

    fn config(rate_per_hour: f64) -> Config {
        Config {
            systems: 10,
            spares: 10,
            systems_per_domain: 1,
            systems_per_switch: 4,
            classes: vec![FailureClass {
                id: "x".into(),
                name: "x".into(),
                units: 10.0,
                rate_per_unit_hour: rate_per_hour / 10.0,
                blast: Blast::Node,
                lifetime: Lifetime::Exponential,
            }],
            planned_per_hour: 0.0,
            detection_hours: 0.0,
            restart_hours: 0.0,
            repair_hours: 1.0,
            checkpoint: Checkpoint {
                interval_hours: 1.0,
                write_hours: 0.0,
                stall_hours: 0.0,
            },
            stop: Stop::Wall { hours: 100.0 },
            runs: 1,
            seed: 7,
        }
    }

    #[test]
    fn without_failures_every_hour_is_useful() {
        // No failures, free checkpoints: 100 h wall = 100 h work; 100 checkpoints.
        let r = run(&config(0.0), 0);
        assert_eq!(r.wall_hours, 100.0);
        assert!((r.useful_hours - 100.0).abs() < 1e-9);
        assert_eq!(r.unexpected_interruptions(), 0);
    }

    #[test]
    fn blocking_checkpoints_cost_their_stall() {
        // Interval 1 h of work + 0.25 h stall: 100 h wall holds 80 cycles of 1.25 h,
        // so 80 h useful and 20 h of checkpoints.
        let mut c = config(0.0);
        c.checkpoint.write_hours = 0.25;
        c.checkpoint.stall_hours = 0.25;
        let r = run(&c, 0);
        assert!((r.useful_hours - 80.0).abs() < 1e-9, "{}", r.useful_hours);
        assert!((r.checkpoint_hours - 20.0).abs() < 1e-9);
        // The 80th stall ends at 100 h exactly, tied with the end of the run, which was
        // scheduled first and so comes first: 79 checkpoints are durable.
        assert_eq!(r.checkpoints, 79);
    }

    #[test]
    fn time_buckets_add_up_to_the_wall_clock() {
        let mut c = config(0.5);
        c.detection_hours = 0.1;
        c.restart_hours = 0.2;
        c.spares = 0;
        c.repair_hours = 0.5;
        c.planned_per_hour = 0.05;
        c.checkpoint = Checkpoint {
            interval_hours: 0.7,
            write_hours: 0.3,
            stall_hours: 0.02,
        };
        for i in 0..5 {
            let r = run(&c, i);
            assert!(
                (r.accounted_hours() - r.wall_hours).abs() < 1e-6,
                "{} vs {}",
                r.accounted_hours(),
                r.wall_hours
            );
            assert!(
                r.waiting_hours[0] > 0.0,
                "no spares: the job waits for repairs"
            );
        }
    }

    #[test]
    fn the_queue_breaks_ties_in_scheduling_order() {
        let mut heap = BinaryHeap::new();
        for (seq, time) in [(1, 2.0), (2, 1.0), (3, 1.0), (4, 0.5)] {
            heap.push(Entry {
                time,
                seq,
                event: Event::End,
            });
        }
        let order: Vec<u64> = std::iter::from_fn(|| heap.pop().map(|e| e.seq)).collect();
        assert_eq!(order, [4, 2, 3, 1]);
    }
}
