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
//! - the pipeline bubble with interleaving; memory per Korthikanti et al. 2022 generalised to
//!   GQA and gated MLPs.

mod arch;
mod matmul_rates;
mod memory;
pub mod reference;
mod search;
mod serve;
mod step;
pub mod validate;

pub use arch::{Arch, Mla};
pub use matmul_rates::{MatmulRate, MatmulRates};
pub use memory::MemoryBreakdown;
pub use search::{search, validate_strategy, Ranked, SearchOptions, SearchResult};
pub use serve::{
    concurrency_at_percentile, evaluate_serving, kv_bytes_per_token, normal_quantile,
    search_serving, DecodeStep, ServeInfeasible, ServingEvaluation, ServingLayout, ServingMode,
    ServingWorkload, Speculation, DEFAULT_SLO_PERCENTILE, MAX_BATCH,
};
pub use step::{
    evaluate, evaluate_with, Breakdown, Evaluation, Hardware, Infeasible, ModelConstants,
    Precision, Recompute, Strategy, Workload,
};
