//! What evaluating one layout returns: the step time, where it goes, and why a layout cannot run.

use serde::Serialize;

use crate::train::memory::MemoryBreakdown;

/// Where a step's time goes, seconds per step.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Breakdown {
    /// Matmuls, attention and element-wise kernels on the critical path (all microbatches).
    pub compute_s: f64,
    /// Of which recomputation.
    pub recompute_s: f64,
    /// Exposed tensor-parallel collectives.
    pub tp_comm_s: f64,
    /// Exposed context-parallel exchange.
    pub cp_comm_s: f64,
    /// Expert-parallel all-to-all.
    pub ep_comm_s: f64,
    /// Exposed pipeline point-to-point.
    pub pp_comm_s: f64,
    /// Exposed data-parallel gradient (and ZeRO-3 weight) traffic.
    pub dp_comm_s: f64,
    /// Pipeline fill and drain.
    pub bubble_s: f64,
    /// Optimizer step.
    pub optimizer_s: f64,
    /// Compute lost to communication that overlaps it (SMs and HBM shared), included in
    /// `compute_s`.
    pub overlap_slowdown_s: f64,
    /// What hiding the TP collectives under Transformer Engine's userbuffers adds to the GEMMs
    /// beside them (split into chunks, on the SMs the communication leaves), included in
    /// `compute_s`; 0 where the overlap is off or not userbuffers.
    pub userbuffers_s: f64,
    /// Communication hidden under compute (not on the critical path), all kinds.
    pub hidden_comm_s: f64,
}

/// Why a strategy cannot be used; infeasible strategies are results, not errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Infeasible {
    /// The per-accelerator memory exceeds HBM.
    OutOfMemory,
    /// The accelerator has no matmul units for the chosen precision.
    PrecisionUnsupported,
}

impl Infeasible {
    /// In words.
    pub fn describe(self) -> &'static str {
        match self {
            Infeasible::OutOfMemory => "does not fit in accelerator memory",
            Infeasible::PrecisionUnsupported => {
                "the accelerator has no matmul units at this precision"
            }
        }
    }
}

/// The result of evaluating one strategy.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Evaluation {
    /// Seconds per step.
    pub step_time_s: f64,
    /// Tokens per second, whole job.
    pub tokens_per_s: f64,
    /// Model FLOPs per step (no recompute, causal attention counted as half the score
    /// matrix), whole job.
    pub model_flops_per_step: f64,
    /// Hardware FLOPs per step (with recompute), whole job.
    pub hardware_flops_per_step: f64,
    /// Model TFLOP/s per accelerator.
    pub tflops_per_gpu: f64,
    /// Model FLOPs utilisation against the dense peak of the precision used.
    pub mfu: f64,
    /// Hardware FLOPs utilisation.
    pub hfu: f64,
    /// Where the time goes.
    pub breakdown: Breakdown,
    /// Memory per accelerator.
    pub memory: MemoryBreakdown,
    /// Whether it fits.
    pub feasible: bool,
    /// Why not, when it does not.
    pub infeasible: Option<Infeasible>,
}

/// A layout that cannot run: no time, the memory it would need, and why.
pub(super) fn infeasible(memory: MemoryBreakdown, why: Infeasible) -> Evaluation {
    Evaluation {
        step_time_s: f64::INFINITY,
        tokens_per_s: 0.0,
        model_flops_per_step: 0.0,
        hardware_flops_per_step: 0.0,
        tflops_per_gpu: 0.0,
        mfu: 0.0,
        hfu: 0.0,
        breakdown: Breakdown::default(),
        memory,
        feasible: false,
        infeasible: Some(why),
    }
}
