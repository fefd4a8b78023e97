//! Reliability at scale: a discrete-event simulation of failures, checkpoints, restarts, hot
//! spares and repairs for one synchronous training job, and the goodput it leaves.
//!
//! A job of N accelerators runs on whole systems; any failure of its hardware or software
//! stops all of it (synchronous data/model parallelism). A failure costs the work since the
//! last durable checkpoint, the time to detect it, to get replacement systems (hot spares, or
//! wait for repairs), and to restart; restarts are themselves interrupted by failures, which is
//! what makes very large jobs stall. Failure rates come from published tables
//! (`catalog/reliability.toml`), scaled by how many units of each kind the job runs on.
//!
//! - [`simulate`]: many seeded runs of a [`Config`] in parallel -> [`Summary`] (means and
//!   percentiles of ETTR, interruptions by cause, lost time by reason, spares needed, time to
//!   finish). Pure: no I/O, no clock; the same config gives the same summary on any number of
//!   threads.
//! - [`search_interval`]: the checkpoint interval with the best simulated ETTR.
//! - [`budget`]: bounds on the work, so no input runs unbounded: the expected event count of a
//!   question (callers refuse one over their limit, [`request::check_work`]), and a [`Budget`]
//!   of events and a cancellation flag that [`simulate_within`] and [`search_interval_within`]
//!   stop at ([`SimError`]).
//! - [`closed_form`]: Young/Daly intervals and the expected ETTR, without simulating.
//! - [`ReliabilityData`]: the sourced defaults and [`JobSpec`] -> [`Config`].
//!
//! ```
//! use reliability::{JobSpec, ReliabilityData};
//! let data = ReliabilityData::embedded().unwrap();
//! let mut job = JobSpec::new(1024, 10.0);
//! job.runs = 4;
//! let (cfg, _ledger) = data.config(&job);
//! let summary = reliability::simulate(&cfg).unwrap();
//! assert!(summary.ettr.mean > 0.5 && summary.ettr.mean <= 1.0);
//! assert!(reliability::expected_ettr(&cfg) > 0.5);
//! ```

pub mod budget;
pub mod closed_form;
pub mod data;
pub mod model;
pub mod reference;
pub mod request;
pub mod sim;
pub mod summary;

pub use budget::{Budget, SimError};
pub use closed_form::{expected_ettr, mtti_hours, young_daly_interval_hours};
pub use data::{Assumption, DataError, JobSpec, ReliabilityData};
pub use model::{Blast, Checkpoint, Config, ConfigError, FailureClass, Lifetime, Stop};
pub use request::{job_spec, JobArgs, JobError, Report, SystemLookup};
pub use summary::{
    search_expected_events, search_interval, search_interval_runs, search_interval_within,
    simulate, simulate_with_progress, simulate_within, CauseSummary, IntervalSearch, LostHours,
    Stats, Summary,
};
