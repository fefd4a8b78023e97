//! A reference job for tests and examples: one exponential failure class with a given job
//! MTTI, spares to spare, no planned stops. Real questions get their rates from
//! `catalog/reliability.toml` (`data.rs`); the checks against closed forms use this one copy.

use crate::model::{Blast, Checkpoint, Config, FailureClass, Lifetime, Stop};

/// 100 units failing independently so the job's mean time to interruption is `mtti_hours`;
/// restarts of `restart_hours`, checkpoints every `interval_hours` stalling `stall_hours`,
/// run for `wall_hours` of wall clock, `runs` times from `seed`.
pub fn exponential_job(
    mtti_hours: f64,
    restart_hours: f64,
    stall_hours: f64,
    interval_hours: f64,
    wall_hours: f64,
    runs: u32,
    seed: u64,
) -> Config {
    Config {
        systems: 100,
        spares: 100,
        systems_per_domain: 1,
        systems_per_switch: 1,
        classes: vec![FailureClass {
            id: "node".into(),
            name: "node".into(),
            units: 100.0,
            rate_per_unit_hour: 1.0 / (100.0 * mtti_hours),
            blast: Blast::Node,
            lifetime: Lifetime::Exponential,
        }],
        planned_per_hour: 0.0,
        detection_hours: 0.0,
        restart_hours,
        repair_hours: 1.0,
        checkpoint: Checkpoint {
            interval_hours,
            write_hours: stall_hours,
            stall_hours,
        },
        stop: Stop::Wall { hours: wall_hours },
        runs,
        seed,
    }
}
