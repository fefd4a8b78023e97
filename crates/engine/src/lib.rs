//! The engine: scenario files (and command-line questions) resolved against the catalog, run
//! through the models, and returned as one serializable result.
//!
//! This is the only place that knows both the file formats and the models. Input is text and
//! a [`catalog::Catalog`]; output is a [`PlanResult`] that every surface renders. No I/O.

pub mod capability;
pub mod capacity;
mod finite;
pub mod hardware;
pub mod infer;
pub mod knowledge;
pub mod model_table;
mod number;
pub mod opening;
mod plan;
pub mod power_stack;
pub mod ranges;
mod result;
mod scenario;
pub mod shipped;
pub mod train;
pub mod train_validate;

pub use knowledge::{DealTimeline, Knowledge, TimelineEvent};
pub use number::ScenarioNumber;
pub use plan::{
    add_ranges, not_yet_public, plan, plan_text, plan_text_with, plan_text_with_capability,
    plan_text_without_capability, plan_with, resolve_text, set_ranges, PlanOptions, QuickPlan,
    ResolvedScenario,
};
pub use ranges::RangeOptions;
pub use result::{
    Assumption, DealSummary, Excluded, PlanResult, ScenarioInfo, SourceRef, TrancheSummary,
};
pub use scenario::Scenario;

/// Version of the engine, stated in every output.
pub const ENGINE_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Version of the serialized result schema; bumped when a field changes meaning or goes away.
pub const SCHEMA_VERSION: u32 = 1;

/// Why a run could not be made: the input is wrong (each problem located and with a fix).
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The scenario or flags are invalid.
    #[error("{0}")]
    Invalid(catalog::Diagnostics),
}

/// FNV-1a 64-bit hash, hex: stable across platforms, for input hashes.
pub fn content_hash(text: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in text.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{hash:016x}")
}
