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
    /// Compute by kind of kernel: `matmul_s + attention_s + elementwise_s + host_stall_s +
    /// output_layer_s + recompute_s + overlap_slowdown_s = compute_s`.
    /// The layers' GEMMs, forward and backward (attention projections, MLP or experts, and
    /// the MoE router), with what userbuffers adds to them outside recomputation.
    pub matmul_s: f64,
    /// The attention core (fused kernel, or the unfused score GEMMs and their passes), forward
    /// and backward.
    pub attention_s: f64,
    /// Element-wise kernels, forward and backward: norms, activations, residual adds, casts to
    /// 8 or 4 bits, MoE token permutations and each kernel's launch overhead.
    pub elementwise_s: f64,
    /// MoE layers waiting on the host to launch their kernels (Megatron's dispatchers block the
    /// CPU at each MoE layer).
    pub host_stall_s: f64,
    /// The output layer and loss (and multi-token-prediction modules) on the last pipeline
    /// stage, when that stage sets the pace.
    pub output_layer_s: f64,
}

impl Breakdown {
    /// The serialized names of [`Breakdown::compute_by_kind`]'s parts, in its order (for readers
    /// of the JSON, such as the tests that hold the parts to the compute).
    pub const COMPUTE_KIND_FIELDS: [&'static str; 7] = [
        "matmul_s",
        "attention_s",
        "elementwise_s",
        "host_stall_s",
        "output_layer_s",
        "recompute_s",
        "overlap_slowdown_s",
    ];

    /// Where a step goes, in the order the CLI and the dashboard print it: compute with what it
    /// includes indented under it, then each exposed communication, the bubble and the
    /// optimizer (the unindented parts add up to the step time).
    pub fn step_parts(&self) -> [(&'static str, f64); 11] {
        [
            ("compute", self.compute_s),
            ("  of which recompute", self.recompute_s),
            ("  of which TP overlap", self.userbuffers_s),
            ("  of which hidden comm", self.overlap_slowdown_s),
            ("tensor-parallel comm", self.tp_comm_s),
            ("context-parallel comm", self.cp_comm_s),
            ("expert all-to-all", self.ep_comm_s),
            ("pipeline p2p", self.pp_comm_s),
            ("data-parallel comm", self.dp_comm_s),
            ("pipeline bubble", self.bubble_s),
            ("optimizer", self.optimizer_s),
        ]
    }

    /// What the compute runs, by kind of kernel, with a label each (the CLI's and the
    /// dashboard's words); the seven parts add up to `compute_s`.
    pub fn compute_by_kind(&self) -> [(&'static str, f64); 7] {
        [
            ("matmuls", self.matmul_s),
            ("attention core", self.attention_s),
            ("element-wise", self.elementwise_s),
            ("MoE host stalls", self.host_stall_s),
            ("output layer and loss", self.output_layer_s),
            ("recompute", self.recompute_s),
            ("slowed by hidden comm", self.overlap_slowdown_s),
        ]
    }
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
