//! Performance models: how long one training step takes for a model, a cluster and a parallel
//! strategy, how much memory it needs, and which strategy is fastest.
//!
//! Inputs are plain numbers ([`Arch`], [`Hardware`], [`Strategy`], [`Workload`]); the engine
//! builds them from the catalog. Nothing here does I/O, and [`evaluate`] allocates nothing, so
//! the strategy search can evaluate millions of configurations per second.
//!
//! The model (see `step.rs` for each term):
//! - compute: every GEMM at the accelerator's measured matmul ceiling times a shape factor for
//!   small dimensions; attention kernels at a fraction of that ceiling; element-wise work
//!   (norms, activations, residuals, dropout) at HBM bandwidth; optimizer at HBM bandwidth;
//! - communication: ring collectives on the scale-up or scale-out link by group placement
//!   (TP, DP/ZeRO/FSDP, CP, EP all-to-all, PP point-to-point), exposed unless overlapped;
//! - the pipeline bubble with interleaving, on the heaviest of uneven pipeline stages; memory
//!   per Korthikanti et al. 2022 generalised to GQA, MLA, gated MLPs and MoE, with recompute
//!   by named module or number of layers and Megatron's distributed-optimizer sharding;
//! - what a training framework can run ([`Framework`], facts the engine reads from the
//!   catalog): legality of a layout, and the software it brings.
//!
//! The training side lives in [`train`] (step, memory, stages, framework, recompute, search);
//! its items are re-exported here under their old paths.

mod arch;
mod matmul_rates;
pub mod reference;
mod serve;
pub mod train;
pub mod validate;

// The training model's modules under their old paths, for code written before the split.
pub(crate) use train::step;

pub use arch::{banded_keys_per_query, Arch, Mla};
pub use matmul_rates::{MatmulRate, MatmulRates};
pub use serve::{
    erlang_c, evaluate_disaggregated, evaluate_disaggregated_with, evaluate_traffic,
    evaluate_traffic_components, evaluate_traffic_with, kv_bytes_per_token_whole,
    one_shot_allreduce_latency_s, prefill_pool, remote_domains, search_traffic,
    search_traffic_with, BatchQueue, DisaggEvaluation, LengthBin, LengthProfile, PrefillCost,
    QueueReport, SlotQueue, Traffic, TrafficEvaluation, PROFILES,
};
pub use serve::{
    evaluate_serving, evaluate_serving_components, evaluate_serving_with, kv_bytes_per_token,
    normal_quantile, search_serving, serving_ceiling, ComponentPrecision, DecodeStep,
    ServeInfeasible, ServingEfficiency, ServingEvaluation, ServingLayout, ServingMode,
    ServingWorkload, Speculation, DEFAULT_SLO_PERCENTILE, MAX_BATCH,
};
pub use train::step::DEFAULT_EXPERT_IMBALANCE;
pub use train::{
    activation_bytes_per_layer, least_recompute_that_fits, recompute_ladder, search_with,
    split_layers, ComponentRecipes, CudaGraphs, Dispatcher, Framework, MemoryBreakdown, MoeRouting,
    NothingFits, Recipe, RecomputeModules, StageError, Stages, ZeroStages,
};
pub use train::{
    evaluate, evaluate_with, Breakdown, Evaluation, Hardware, Infeasible, ModelConstants,
    Precision, Recompute, Strategy, Workload, HOST_S_PER_OP,
};
pub use train::{
    search, search_pruned, validate_strategy, Pruning, Ranked, SearchOptions, SearchResult,
};
