//! The inference serving model: prefill and decode on a deployment unit, continuous batching,
//! latency targets, optionally disaggregated prefill and decode pools.
//!
//! A deployment unit is `tp x pp x ep` accelerators. Attention runs tensor-parallel over `tp`
//! and data-parallel over `ep` (each of the `ep` attention ranks serves its own sequences, as in
//! DeepSeek's and SGLang's DP-attention); routed experts are split over `ep`; layers over `pp`.
//! Dense models use `ep = 1`.
//!
//! Decode: each step's weight GEMMs take the longer of streaming the local weights (only the
//! experts some token was routed to) and their matmul work; attention then streams the KV cache
//! of every sequence in the batch (kernels run in sequence, so one's memory time does not hide
//! another's); plus TP all-reduces and EP all-to-alls on the links their group spans, plus
//! kernel launches. Prefill: the forward FLOPs of the prompt (causal
//! attention included) at the matmul ceiling. Aggregated serving interleaves each sequence's
//! prefill into the decode steps (chunked prefill), so a step also carries `batch / output`
//! prompts' worth of prefill compute.

mod arrivals;
mod disagg;
mod evaluate;
mod moe;
mod queue;
mod search;
mod traffic;
mod unit;

pub use arrivals::normal_quantile;
pub use disagg::{evaluate_disaggregated, evaluate_disaggregated_with, DisaggEvaluation};
pub use evaluate::{
    evaluate_serving, evaluate_serving_components, evaluate_serving_with, serving_ceiling,
};
pub use moe::{kv_bytes_per_token_whole, prefill_pool, remote_domains, PrefillCost};
pub use queue::{erlang_c, BatchQueue, SlotQueue};
pub use search::search_serving;
pub use traffic::{
    evaluate_traffic, evaluate_traffic_components, evaluate_traffic_with, search_traffic,
    search_traffic_with, LengthBin, LengthProfile, QueueReport, Traffic, TrafficEvaluation,
    PROFILES,
};
pub use unit::{kv_bytes_per_token, one_shot_allreduce_latency_s};

use serde::Serialize;

use crate::step::Precision;

/// What a serving engine achieves beyond the roofline: the efficiencies the hardware figures do
/// not give, fitted on whole published serving tables (`gigawatt infer validate` prints the fit,
/// in sample and leave one hardware family out). One set holds for every engine and chip, except
/// `engine_step_factor`, which is the engine's own.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ServingEfficiency {
    /// Attention (scores and values) throughput as a fraction of the BF16 matmul ceiling:
    /// serving's fused attention kernels (FlashAttention, FlashInfer, TensorRT-LLM's FMHA),
    /// fitted separately from training's value.
    pub attention_fraction: f64,
    /// Routed experts' grouped GEMMs as a fraction of a dense GEMM of the same shape, for
    /// both their weight streaming and their matmul work: the router, token permutation and
    /// per-expert tiles of uneven size a dense GEMM does not pay.
    pub expert_gemm_efficiency: f64,
    /// Work per sequence per decode step outside the kernels (the engine's scheduler,
    /// sampling, detokenisation, per-request bookkeeping), s: a step of `b` sequences pays
    /// `b` times this on top of its kernels.
    pub per_sequence_step_s: f64,
    /// The engine's own step-time multiplier (1 for the reference engine); fitted per engine
    /// family on the published tables it ran.
    pub engine_step_factor: f64,
    /// The share of each accelerator's memory the engine lets weights, activations and the KV
    /// cache take (a catalog fact: vLLM's `--gpu-memory-utilization` defaults to 0.9); 1 for
    /// engines that fill what the weights leave.
    pub memory_fraction: f64,
    /// The engine overlaps each MoE layer's expert combine with the experts' down GEMM (and
    /// the shared experts), as SGLang's Blackwell decode does instead of two-batch overlap
    /// ("we overlap the combine communication with both the down GEMM and the shared experts",
    /// LMSYS, GB200 NVL72 part II, 2025-09-25). A deployment fact, not fitted; off by default.
    pub combine_overlaps_down_gemm: bool,
}

impl Default for ServingEfficiency {
    /// The fit on every shipped calibration case (`cargo run -p engine --example infer_check`
    /// prints it; the fitted engine factors are `engine::infer::engine_step_factor`).
    fn default() -> ServingEfficiency {
        ServingEfficiency {
            attention_fraction: 0.85,
            expert_gemm_efficiency: 0.3,
            per_sequence_step_s: 6e-6,
            engine_step_factor: 1.0,
            memory_fraction: 1.0,
            combine_overlaps_down_gemm: false,
        }
    }
}

/// Weight precision per component, as checkpoints ship them (gpt-oss: MXFP4 experts, BF16
/// attention and the rest; NVIDIA's NVFP4 checkpoints: FP4 experts). The names are the
/// training spec's (`attention`, `dense`, `experts`); the KV cache's is the layout's
/// `kv_bytes`. Each component's weights are stored and multiplied at its precision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ComponentPrecision {
    /// Attention projections (Q, K, V, output; MLA's down and up projections).
    pub attention: Precision,
    /// Dense MLPs, shared experts, router, embeddings and the output projection.
    pub dense: Precision,
    /// Routed experts.
    pub experts: Precision,
}

impl ComponentPrecision {
    /// Every component at one precision.
    pub fn uniform(precision: Precision) -> ComponentPrecision {
        ComponentPrecision {
            attention: precision,
            dense: precision,
            experts: precision,
        }
    }
}

/// How the model is laid out on a deployment unit.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ServingLayout {
    /// Tensor parallel (attention and dense layers).
    pub tp: u32,
    /// Pipeline stages.
    pub pp: u32,
    /// Expert parallel = attention data parallel (1 for dense models).
    pub ep: u32,
    /// Weight and matmul precision.
    pub precision: Precision,
    /// Bytes per KV-cache element (2 for bf16, 1 for fp8).
    pub kv_bytes: f64,
    /// Expert all-to-all overlapped with compute by splitting each step into two microbatches
    /// (DeepSeek's dual-batch overlap, SGLang's two-batch overlap): the step then takes the
    /// longer of the two rather than their sum.
    pub overlap_ep: bool,
}

impl ServingLayout {
    /// Accelerators in one unit.
    pub fn gpus(&self) -> u32 {
        self.tp * self.pp * self.ep
    }
}

/// Offline (throughput only) or server (latency targets).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ServingMode {
    /// Maximise throughput; latency is not constrained.
    Offline,
    /// Maximise throughput subject to TTFT and TPOT targets.
    Server,
}

/// The traffic and its targets.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ServingWorkload {
    /// Prompt tokens per request.
    pub input_tokens: f64,
    /// Generated tokens per request.
    pub output_tokens: f64,
    /// Time-to-first-token target, s.
    pub ttft_slo_s: Option<f64>,
    /// Time-per-output-token target, s.
    pub tpot_slo_s: Option<f64>,
    /// Offline or server.
    pub mode: ServingMode,
    /// Separate prefill and decode pools.
    pub disaggregated: bool,
    /// The serving engine's batch limit per attention rank (its `max_batch_size`), if set;
    /// otherwise the KV cache alone limits the batch.
    pub max_batch: Option<u32>,
    /// Speculative decoding (a draft model or multi-token-prediction heads), if used.
    pub speculation: Option<Speculation>,
    /// Server mode: the percentile of requests the latency targets hold for (MLPerf's Server
    /// scenario uses 99). Requests arrive at random (Poisson), so the number in flight varies
    /// around its mean; the targets and the KV cache must hold at this percentile of it.
    pub slo_percentile: f64,
}

/// Speculative decoding: each step drafts `draft_tokens` per sequence, and the model verifies
/// them and its own next token in one pass.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Speculation {
    /// Tokens drafted per sequence per step.
    pub draft_tokens: u32,
    /// Probability that a drafted token is accepted, given the ones before it were (DeepSeek
    /// reports 0.85-0.9 for its one MTP token).
    pub acceptance_rate: f64,
    /// Cost of drafting one token as a fraction of one decode step of the model; `None`: one
    /// extra layer, as a multi-token-prediction module (DeepSeek's MTP) costs. A separate small
    /// draft model costs about its size over the model's.
    pub draft_cost_fraction: Option<f64>,
}

impl Speculation {
    /// Tokens emitted per sequence per step: the accepted prefix of the drafts plus the
    /// model's own token, `(1 - a^(k+1)) / (1 - a)` for independent acceptance.
    pub fn tokens_per_step(&self) -> f64 {
        let (a, k) = (self.acceptance_rate, f64::from(self.draft_tokens));
        if a >= 1.0 {
            k + 1.0
        } else {
            (1.0 - a.powf(k + 1.0)) / (1.0 - a)
        }
    }
}

/// The largest batch the model considers per attention rank (and the largest `max_batch`).
pub const MAX_BATCH: u32 = 65_536;

/// The default latency-target percentile: MLPerf Inference's Server constraint (p99 TTFT and
/// p99 TPOT).
pub const DEFAULT_SLO_PERCENTILE: f64 = 99.0;

/// Why a layout cannot serve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ServeInfeasible {
    /// The weights alone do not fit.
    WeightsDoNotFit,
    /// Not even one sequence's KV cache fits beside the weights.
    NoRoomForKvCache,
    /// No batch meets the latency targets.
    SloUnmeetable,
    /// With random arrivals, the KV cache or the batch limit cannot hold the sequences in
    /// flight at the target percentile, even at a mean of one.
    TooFewSlots,
    /// The accelerator has no matmul units at this precision.
    PrecisionUnsupported,
}

impl ServeInfeasible {
    /// In words.
    pub fn describe(self) -> &'static str {
        match self {
            ServeInfeasible::WeightsDoNotFit => {
                "the weights do not fit in the unit's memory at this layout"
            }
            ServeInfeasible::NoRoomForKvCache => "no room is left for even one sequence's KV cache",
            ServeInfeasible::SloUnmeetable => "no batch meets the latency targets",
            ServeInfeasible::TooFewSlots => {
                "the KV cache or batch limit cannot hold the sequences in flight at the target percentile (requests arrive at random), even at a mean of one: raise max_batch, lower slo_percentile, or use offline mode"
            }
            ServeInfeasible::PrecisionUnsupported => {
                "the accelerator has no matmul units at this precision"
            }
        }
    }
}

/// A serving configuration evaluated.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ServingEvaluation {
    /// Sequences per pipeline microbatch on each attention rank (with `pp` stages, `pp`
    /// microbatches are in flight, so `pp x batch` sequences per rank).
    pub batch: u32,
    /// Largest batch the KV cache (and any engine limit) allows, in the same unit.
    pub max_batch: u32,
    /// Output tokens per second for one unit.
    pub output_tokens_per_s: f64,
    /// Output tokens per second per accelerator (prefill pool included when disaggregated).
    pub output_tokens_per_s_per_gpu: f64,
    /// Time to first token at the mean batch, s.
    pub ttft_s: f64,
    /// Time per output token at the mean batch, s.
    pub tpot_s: f64,
    /// Server mode: TTFT when the sequences in flight are at the target percentile (what the
    /// TTFT target is checked against); offline: as `ttft_s`.
    pub ttft_at_percentile_s: f64,
    /// Server mode: TPOT at the target percentile of sequences in flight; offline: `tpot_s`.
    pub tpot_at_percentile_s: f64,
    /// KV cache in use per accelerator at this batch (all microbatches in flight), GiB.
    pub kv_cache_gib: f64,
    /// Weights per accelerator, GiB.
    pub weights_gib: f64,
    /// Prefill accelerators per decode accelerator (disaggregated only).
    pub prefill_to_decode_ratio: f64,
    /// Whether the layout can serve at all (and meet the targets in server mode).
    pub feasible: bool,
    /// Why not.
    pub infeasible: Option<ServeInfeasible>,
    /// The best TPOT any batch reaches (batch 1), for an unmeetable target.
    pub best_tpot_s: f64,
    /// The TTFT at batch 1.
    pub best_ttft_s: f64,
    /// The best TPOT as the targets are judged: batch 1 on average, in server mode at the
    /// target percentile of sequences in flight (what an unmeetable target's message quotes).
    pub best_tpot_judged_s: f64,
    /// The TTFT at the same point.
    pub best_ttft_judged_s: f64,
    /// Where one decode step's time goes at the chosen batch (one pipeline stage).
    pub decode_step: DecodeStep,
}

/// One decode step of one pipeline stage, by component, s. Kernels run in sequence, so
/// `step_s` is the sum of the parts, except that an overlapped all-to-all counts only where it
/// outlasts the compute it is paired with (dispatch with attention, combine with the experts).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct DecodeStep {
    /// Weight GEMMs: the longer of streaming the weights and their matmul work.
    pub gemm_s: f64,
    /// Of which the dense GEMMs (attention projections, dense and shared MLPs, output).
    pub dense_gemm_s: f64,
    /// Of which the routed experts' GEMMs.
    pub expert_gemm_s: f64,
    /// Whether the weight GEMMs were limited by memory (true) or by matmul throughput.
    pub gemm_memory_bound: bool,
    /// Streaming the KV cache.
    pub kv_read_s: f64,
    /// Attention score and value matmuls.
    pub attention_compute_s: f64,
    /// Tensor-parallel all-reduces.
    pub tp_comm_s: f64,
    /// Passing the activations to the next pipeline stage (0 without pipeline stages).
    pub pp_comm_s: f64,
    /// Expert all-to-all (dispatch and combine), before any overlap.
    pub ep_comm_s: f64,
    /// Kernel launch overhead.
    pub launch_s: f64,
    /// Drafting the speculative tokens (0 without speculation).
    pub draft_s: f64,
    /// The engine's own time: its per-sequence work outside the kernels and its step factor's
    /// share (fitted, `ServingEfficiency`).
    pub engine_s: f64,
    /// The step.
    pub step_s: f64,
}

#[cfg(test)]
mod tests;
