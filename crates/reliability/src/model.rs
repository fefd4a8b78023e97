//! The simulation's inputs: a resolved, validated description of one training job, its
//! hardware, its failure processes and its checkpoint and restart policy. Times are hours.

use serde::Serialize;

/// How many systems (nodes; racks for rack-scale systems) one failure takes out of the job
/// until it is repaired.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Blast {
    /// Nothing leaves the job: a restart is enough (software, transient faults).
    None,
    /// The failed unit's system (a DGX node; a whole NVL72 rack, which is one system).
    Node,
    /// The failed unit's scale-up domain (`systems_per_domain` systems).
    Domain,
    /// Everything behind one leaf switch (`systems_per_switch` systems).
    Switch,
}

/// Time between failures of one unit.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Lifetime {
    /// Constant hazard; the fleet of `units` is one Poisson process of rate `units / mttf`.
    Exponential,
    /// Weibull with this shape and the scale that keeps the mean at the unit's MTTF
    /// (shape < 1: infant mortality; > 1: wear-out). All units start new at time 0.
    Weibull {
        /// Shape parameter k > 0 (1 is exponential).
        shape: f64,
    },
}

/// One failure class (a cause, as failure tables report it).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FailureClass {
    /// Stable id (`gpu`, `hbm`, `network`, ...), the key of `by_cause`.
    pub id: String,
    /// Readable name.
    pub name: String,
    /// How many units of this class the job runs on (accelerators, hosts, the job itself).
    /// Fractional counts are allowed for exponential classes.
    pub units: f64,
    /// Failures per unit per hour.
    pub rate_per_unit_hour: f64,
    /// What a failure takes out of service.
    pub blast: Blast,
    /// Unit lifetime distribution.
    pub lifetime: Lifetime,
}

impl FailureClass {
    /// The class's fleet-wide failure rate, per hour (superposition: units x per-unit rate).
    pub fn fleet_rate_per_hour(&self) -> f64 {
        self.units * self.rate_per_unit_hour
    }
}

/// Checkpointing policy.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Checkpoint {
    /// Work between the starts of two checkpoints, hours (measured in compute time).
    pub interval_hours: f64,
    /// Time from the start of a checkpoint until it is durable, hours.
    pub write_hours: f64,
    /// Time the job is paused by a checkpoint, hours: `write_hours` when blocking; the
    /// snapshot-to-memory stall when asynchronous (the write then runs in the background).
    pub stall_hours: f64,
}

impl Checkpoint {
    /// Whether the write runs in the background after the stall.
    pub fn is_async(&self) -> bool {
        self.stall_hours < self.write_hours
    }
}

/// When a run stops.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Stop {
    /// After this much wall-clock time.
    Wall {
        /// Hours.
        hours: f64,
    },
    /// When this much useful work is done, or at `max_wall_hours` (the run did not finish).
    Work {
        /// Work-hours the job needs (hours of failure-free, checkpoint-free compute).
        work_hours: f64,
        /// Give up after this much wall-clock time.
        max_wall_hours: f64,
    },
}

impl Stop {
    /// The largest wall-clock time a run may take.
    pub fn max_wall_hours(&self) -> f64 {
        match *self {
            Stop::Wall { hours } => hours,
            Stop::Work { max_wall_hours, .. } => max_wall_hours,
        }
    }
}

/// Everything one simulation needs. Build it by hand, or from the sourced defaults with
/// [`crate::data::ReliabilityData::config`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Config {
    /// Systems (nodes, racks) the job needs to run.
    pub systems: u64,
    /// Hot spare systems, ready to swap in.
    pub spares: u64,
    /// Systems one `Blast::Domain` failure takes out.
    pub systems_per_domain: u64,
    /// Systems one `Blast::Switch` failure takes out.
    pub systems_per_switch: u64,
    /// Unexpected failure processes.
    pub classes: Vec<FailureClass>,
    /// Planned maintenance interruptions per hour (Poisson); each costs a blocking
    /// checkpoint and a restart, and loses no work.
    pub planned_per_hour: f64,
    /// From failure to detection, hours (health checks, watchdog timeouts).
    pub detection_hours: f64,
    /// From having all systems to computing again, hours (reschedule, init, load checkpoint).
    /// A failure during a restart starts recovery again.
    pub restart_hours: f64,
    /// From a system leaving the job to it being back in the spare pool, hours (fixed).
    pub repair_hours: f64,
    /// Checkpointing.
    pub checkpoint: Checkpoint,
    /// When each run stops.
    pub stop: Stop,
    /// Independent runs (Monte Carlo replicas).
    pub runs: u32,
    /// Seed; run `i` draws from ChaCha8 stream `i` of this seed.
    pub seed: u64,
}

/// A configuration that cannot be simulated; `field` names the offending input.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("`{field}`: {message}")]
pub struct ConfigError {
    /// The field of [`Config`] (or of a failure class) at fault.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

fn err(field: impl Into<String>, message: impl Into<String>) -> ConfigError {
    ConfigError {
        field: field.into(),
        message: message.into(),
    }
}

fn positive(field: &str, value: f64) -> Result<(), ConfigError> {
    if value.is_finite() && value > 0.0 {
        Ok(())
    } else {
        Err(err(field, format!("must be positive, got {value}")))
    }
}

fn non_negative(field: &str, value: f64) -> Result<(), ConfigError> {
    if value.is_finite() && value >= 0.0 {
        Ok(())
    } else {
        Err(err(field, format!("must be zero or positive, got {value}")))
    }
}

impl Config {
    /// Checks every field; the simulator assumes a validated config.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.systems == 0 {
            return Err(err("systems", "the job needs at least one system"));
        }
        if self.spares > self.systems {
            return Err(err(
                "spares",
                format!(
                    "{} spares is more than the job's {} systems",
                    self.spares, self.systems
                ),
            ));
        }
        if self.systems_per_domain == 0 || self.systems_per_switch == 0 {
            return Err(err("systems_per_domain", "must be at least 1"));
        }
        if self.runs == 0 {
            return Err(err("runs", "must be at least 1"));
        }
        non_negative("planned_per_hour", self.planned_per_hour)?;
        non_negative("detection_hours", self.detection_hours)?;
        non_negative("restart_hours", self.restart_hours)?;
        non_negative("repair_hours", self.repair_hours)?;
        positive("checkpoint.interval_hours", self.checkpoint.interval_hours)?;
        non_negative("checkpoint.write_hours", self.checkpoint.write_hours)?;
        non_negative("checkpoint.stall_hours", self.checkpoint.stall_hours)?;
        if self.checkpoint.stall_hours > self.checkpoint.write_hours {
            return Err(err(
                "checkpoint.stall_hours",
                "the stall cannot be longer than the write",
            ));
        }
        match self.stop {
            Stop::Wall { hours } => positive("stop.hours", hours)?,
            Stop::Work {
                work_hours,
                max_wall_hours,
            } => {
                positive("stop.work_hours", work_hours)?;
                positive("stop.max_wall_hours", max_wall_hours)?;
            }
        }
        for (i, class) in self.classes.iter().enumerate() {
            let field = |f: &str| format!("classes[{i}].{f}");
            positive(&field("units"), class.units)?;
            non_negative(&field("rate_per_unit_hour"), class.rate_per_unit_hour)?;
            if let Lifetime::Weibull { shape } = class.lifetime {
                positive(&field("lifetime.shape"), shape)?;
                if class.rate_per_unit_hour <= 0.0 {
                    return Err(err(
                        field("rate_per_unit_hour"),
                        "a Weibull class needs a rate",
                    ));
                }
            }
        }
        if self.classes.len() > u16::MAX as usize {
            return Err(err("classes", "too many failure classes"));
        }
        Ok(())
    }

    /// Fleet-wide unexpected failure rate, per hour.
    pub fn failure_rate_per_hour(&self) -> f64 {
        self.classes
            .iter()
            .map(FailureClass::fleet_rate_per_hour)
            .sum()
    }

    /// Systems a failure with this blast radius takes out.
    pub fn blast_systems(&self, blast: Blast) -> u64 {
        match blast {
            Blast::None => 0,
            Blast::Node => 1,
            Blast::Domain => self.systems_per_domain,
            Blast::Switch => self.systems_per_switch,
        }
    }
}
