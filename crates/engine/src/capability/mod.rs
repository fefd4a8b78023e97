//! Capability: what a planned fleet can do, month by month. For each December (and each month
//! asked): the largest compute-optimal training run on one site of one system type (dense and
//! MoE), the fleet's training compute per year, and its serving output for a reference model
//! mix, with retirement after a service life and a burn-in before new capacity trains at
//! stable goodput.
//!
//! The models are expensive (a layout search per scale), so each system type gets a lookup
//! table ([`tables::SystemTables`]) built once per run; `plan` reads it at the planned
//! fleet's accelerator counts and `risk` at each sample's, so at the central values both give
//! the same numbers. Serving reads the one capacity function
//! ([`crate::capacity::system_capacity`]), the same numbers `gigawatt infer fleet` prints.

pub mod fleet_state;
pub mod ledger;
pub mod model_error;
pub mod options;
pub mod ranges;
pub mod serving;
pub mod tables;
pub mod training;

pub use fleet_state::{
    capability_for_plan, capability_from_tables, evaluate_month, month_states, plan_sites,
    report_months, table_requests, CapabilityMonth, LargestRun, Measures, SiteTranche,
    SystemServingMonth, TrancheState,
};
pub use options::{options_from_spec, CapabilityFlags, CapabilityOptions, CapabilitySpec};
pub use tables::SystemTables;

use serde::Serialize;

/// The capability section of a plan.
#[derive(Debug, Clone, Serialize)]
pub struct Capability {
    /// What it assumes (echoed so a reader sees the inputs beside the answers).
    pub options: CapabilityOptions,
    /// Per system type: the serving rate of the reference mix and training efficiency figures.
    pub systems: Vec<tables::SystemSummary>,
    /// One row per December and per month asked.
    pub months: Vec<CapabilityMonth>,
    /// How it was computed, in sentences.
    pub notes: Vec<String>,
}

/// The notes every capability section carries.
pub fn notes(options: &CapabilityOptions) -> Vec<String> {
    vec![
        format!(
            "Largest run: the largest compute-optimal model ({} tokens per active parameter) trainable in {} days on the largest single site of one system type, after {:.0}% of it is reserved for serving and {:.0}% of the rest held as spares; capacity younger than {} months (burn-in) does not join it.",
            options.tokens_per_parameter,
            options.training_days,
            options.serving_share * 100.0,
            options.spare_fraction * 100.0,
            options.burn_in_months
        ),
        "Layout: the training search runs on a block-sized job (up to 16,384 accelerators) at the full job's batch per accelerator; its model-parallel block is replicated data-parallel as far as the accelerators and the batch cap allow (DeepSeek LLM's fitted optimal batch, B = 0.292 C^0.3271 tokens, fitted on budgets up to ~3e20 FLOPs and extrapolated here).".into(),
        "Goodput: the better of whole-job restart from checkpoint and replica-level fault tolerance (a failed data-parallel replica drops out and rejoins; the job stalls only while a failure is detected), from the reliability model's sourced failure rates; the replica count that maximises goodput x accelerators is used, so a run can leave some of a site idle.".into(),
        format!(
            "Computed at accelerator counts a factor of {} apart ({}, {}, ...) and interpolated (log-linear) between them; plan and risk read the same tables. Layouts come from a pruned search (the framework's default ZeRO stage and ZeRO-3, sequence parallelism with tensor parallelism, the least recomputation that fits, splits skipped whose least-memory layout does not fit; every ZeRO stage where nothing fits at those); at 48 table points it gives the whole space's answers. Systems retire {} years after they come online. These are central values: the models' errors out of sample widen the plan's capability ranges, not these figures.",
            tables::GRID_FACTOR,
            tables::SMALLEST_RUN,
            tables::SMALLEST_RUN * tables::GRID_FACTOR,
            options.service_life_years
        ),
    ]
}
