//! The training step-time model: one step's compute, communication, pipeline bubble and
//! memory for a model, a cluster and a parallel layout (`step`, `memory`), how a pipeline
//! splits the layers (`stages`), what a framework can run (`framework`), the least
//! recomputation that fits (`recompute`), the layout search (`search`), overlap that is earned
//! (`overlap`: what hides under which compute, what it costs, MoE routing), precision recipes
//! per component (`precision`), the fused attention kernel's speed by length (`attention`) and
//! what hiding TP communication costs the GEMMs under Transformer Engine (`userbuffers`).

pub mod attention;
pub mod collectives;
pub(crate) mod framework;
#[cfg(test)]
mod gemm_shape_tests;
pub(crate) mod inputs;
pub(crate) mod memory;
pub mod overlap;
pub mod precision;
pub(crate) mod recompute;
pub(crate) mod search;
pub(crate) mod stages;
pub(crate) mod step;
pub(crate) mod strategy;
pub mod userbuffers;

pub use framework::{Framework, ZeroStages};
pub use memory::{activation_bytes_per_layer, MemoryBreakdown};
pub use overlap::{CudaGraphs, Dispatcher, MoeRouting, DEFAULT_MOE_IMBALANCE};
pub use precision::{ComponentRecipes, Recipe};
pub use recompute::{least_recompute_that_fits, recompute_ladder, NothingFits};
pub use search::{
    search, search_pruned, search_with, validate_strategy, Pruning, Ranked, SearchOptions,
    SearchResult,
};
pub use stages::{split_layers, StageError, Stages};
pub use step::{
    evaluate, evaluate_with, Breakdown, Evaluation, Hardware, Infeasible, ModelConstants,
    Precision, Workload, FUSED_ELEMENTWISE_PASSES, HOST_S_PER_OP, UNFUSED_ELEMENTWISE_PASSES,
};
pub use strategy::{Recompute, RecomputeModules, Strategy};
