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

use serde::Serialize;

use crate::arch::Arch;
use crate::step::{Hardware, ModelConstants, Precision};

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
}

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
            ServeInfeasible::PrecisionUnsupported => {
                "the accelerator has no matmul units at this precision"
            }
        }
    }
}

/// A serving configuration evaluated.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ServingEvaluation {
    /// Sequences decoding concurrently per attention rank.
    pub batch: u32,
    /// Largest batch the KV cache allows per attention rank.
    pub max_batch: u32,
    /// Output tokens per second for one unit.
    pub output_tokens_per_s: f64,
    /// Output tokens per second per accelerator (prefill pool included when disaggregated).
    pub output_tokens_per_s_per_gpu: f64,
    /// Time to first token, s.
    pub ttft_s: f64,
    /// Time per output token, s.
    pub tpot_s: f64,
    /// KV cache in use per accelerator at this batch, GiB.
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
}

const GIB: f64 = 1024.0 * 1024.0 * 1024.0;
/// Kernel launches per layer in a decode step (with CUDA graphs most launch cost is hidden;
/// this counts the kernels whose fixed cost remains).
const DECODE_KERNELS_PER_LAYER: f64 = 8.0;

fn weight_bytes(precision: Precision) -> f64 {
    match precision {
        Precision::Bf16 => 2.0,
        Precision::Fp8 => 1.0,
        Precision::Fp4 => 0.5,
    }
}

/// KV-cache bytes per token per accelerator of the unit.
pub fn kv_bytes_per_token(arch: &Arch, layout: &ServingLayout) -> f64 {
    let layers = arch.layers / f64::from(layout.pp);
    match arch.mla {
        // MLA caches the compressed latent and the rotary key, the same on every TP rank.
        Some(m) => layers * (m.kv_lora_rank + m.qk_rope_head_dim) * layout.kv_bytes,
        None => {
            let heads_per_rank = (arch.kv_heads / f64::from(layout.tp)).max(1.0);
            layers * 2.0 * heads_per_rank * arch.head_dim * layout.kv_bytes
        }
    }
}

struct Unit<'a> {
    arch: &'a Arch,
    hw: &'a Hardware,
    layout: ServingLayout,
    c: &'a ModelConstants,
    ceiling: f64,
    hbm: f64,
}

impl Unit<'_> {
    fn tp(&self) -> f64 {
        f64::from(self.layout.tp)
    }
    fn pp(&self) -> f64 {
        f64::from(self.layout.pp)
    }
    fn ep(&self) -> f64 {
        f64::from(self.layout.ep)
    }

    /// Parameters held per accelerator.
    fn params_per_gpu(&self) -> (f64, f64) {
        let experts = self.arch.routed_expert_params();
        let dense = (self.arch.total_params() - experts) / (self.tp() * self.pp());
        let routed = experts / (self.ep() * self.pp() * self.tp());
        (dense, routed)
    }

    fn link(&self, group: f64) -> (f64, f64) {
        if group <= self.hw.scale_up_domain {
            (
                self.hw.scale_up_bytes_per_s * self.c.link_efficiency,
                self.c.scale_up_latency_s,
            )
        } else {
            (
                self.hw.scale_out_bytes_per_s * self.c.link_efficiency,
                self.c.scale_out_latency_s,
            )
        }
    }

    /// One decode step of one pipeline stage with `batch` sequences per attention rank at mean
    /// context `context`, plus `prefill_tokens` of chunked prefill per rank.
    fn decode_stage_s(&self, batch: f64, context: f64, prefill_tokens: f64) -> f64 {
        let a = self.arch;
        let bytes_w = weight_bytes(self.layout.precision);
        let (dense, routed) = self.params_per_gpu();
        let layers = a.layers / self.pp();
        let moe_share = a.moe_layers() / a.layers;
        // Experts touched this step: each of the batch x ep tokens picks top_k of the experts.
        let touched = if a.is_moe() {
            let tokens = batch * self.ep();
            1.0 - (1.0 - a.top_k / a.experts).powf(tokens)
        } else {
            1.0
        };
        let weights_read = bytes_w * (dense + routed * touched);
        let kv_read = batch * context * kv_bytes_per_token(a, &self.layout);

        // Matmul FLOPs per token on this accelerator: its share of the dense part and the
        // top-k experts the token uses, plus attention over the context.
        let dense_flops_per_token = 2.0 * dense;
        let expert_flops_per_token =
            2.0 * moe_share * layers * a.top_k * a.expert_params() / self.tp();
        let attention_flops_per_token =
            2.0 * context * layers * (a.heads / self.tp()) * (a.qk_head_dim() + a.v_head_dim());
        let tokens = batch + prefill_tokens;
        // The same GEMM shape factor as training: a step's matmuls have `tokens` rows and the
        // model's width (split across TP) as their other dimensions.
        let shape = crate::step::shape_factor(self.c, tokens, a.hidden / self.tp(), a.hidden);
        // Roofline per kernel, then kernels in sequence: the weight GEMMs take the longer of
        // streaming their weights and their matmul work; attention streams the KV cache and
        // does its (small) score work; one kernel's memory time does not hide another's.
        let gemm_s = (weights_read / self.hbm).max(
            tokens * (dense_flops_per_token + expert_flops_per_token) / (self.ceiling * shape),
        );
        let attention_s = kv_read / self.hbm
            + batch * attention_flops_per_token
                / (self.hw.peak_bf16_flops * self.hw.matmul_efficiency * self.c.attention_fraction);

        let (tp_bw, tp_lat) = self.link(self.tp());
        let tp_s = if self.layout.tp > 1 {
            let bytes = 2.0 * tokens * a.hidden;
            2.0 * layers * (2.0 * (self.tp() - 1.0) / self.tp() * bytes / tp_bw + tp_lat)
        } else {
            0.0
        };
        let (ep_bw, ep_lat) = self.link(self.tp() * self.ep());
        let ep_s = if self.layout.ep > 1 && a.is_moe() {
            // Dispatch in fp8 (1 byte) and combine in bf16 (2 bytes), per MoE layer.
            let bytes = tokens * a.top_k * a.hidden * 3.0 * (self.ep() - 1.0) / self.ep();
            moe_share * layers * (bytes / ep_bw + 2.0 * ep_lat)
        } else {
            0.0
        };
        let launch_s = layers * DECODE_KERNELS_PER_LAYER * self.c.kernel_overhead_s;
        let compute_s = gemm_s + attention_s + tp_s;
        let with_ep = if self.layout.overlap_ep {
            compute_s.max(ep_s)
        } else {
            compute_s + ep_s
        };
        with_ep + launch_s
    }

    /// Prefill FLOPs of one request of `input` tokens (causal attention).
    fn prefill_flops(&self, input: f64) -> f64 {
        let a = self.arch;
        2.0 * input * a.active_params()
            + 0.5 * input * a.layers * a.attention_core_flops_per_token(input)
    }

    /// Latency of one request's prefill on its attention rank's accelerators.
    fn prefill_latency_s(&self, input: f64) -> f64 {
        // A prompt passes the pipeline stages one after another: only tensor parallelism
        // shortens one request's prefill.
        let gpus = self.tp();
        let shape = crate::step::shape_factor(
            self.c,
            input,
            self.arch.hidden / self.tp(),
            self.arch.hidden,
        );
        let compute = self.prefill_flops(input) / (gpus * self.ceiling * shape);
        let (dense, routed) = self.params_per_gpu();
        let memory = weight_bytes(self.layout.precision) * (dense + routed) * self.pp() / self.hbm;
        let (bw, lat) = self.link(self.tp());
        let tp = if self.layout.tp > 1 {
            2.0 * self.arch.layers
                * (2.0 * (self.tp() - 1.0) / self.tp() * 2.0 * input * self.arch.hidden / bw + lat)
        } else {
            0.0
        };
        compute.max(memory) + tp
    }
}

/// Evaluates a layout for a workload: picks the batch that maximises throughput within the
/// latency targets (server) or the KV-cache limit (offline).
pub fn evaluate_serving(
    arch: &Arch,
    hw: &Hardware,
    layout: &ServingLayout,
    w: &ServingWorkload,
    c: &ModelConstants,
) -> ServingEvaluation {
    let mut result = ServingEvaluation {
        batch: 0,
        max_batch: 0,
        output_tokens_per_s: 0.0,
        output_tokens_per_s_per_gpu: 0.0,
        ttft_s: f64::INFINITY,
        tpot_s: f64::INFINITY,
        kv_cache_gib: 0.0,
        weights_gib: 0.0,
        prefill_to_decode_ratio: 0.0,
        feasible: false,
        infeasible: None,
        best_tpot_s: f64::INFINITY,
        best_ttft_s: f64::INFINITY,
    };
    let Some(peak) = hw.peak(layout.precision) else {
        result.infeasible = Some(ServeInfeasible::PrecisionUnsupported);
        return result;
    };
    let unit = Unit {
        arch,
        hw,
        layout: *layout,
        c,
        ceiling: peak * hw.matmul_efficiency,
        hbm: hw.hbm_bytes_per_s * c.memory_efficiency,
    };
    let (dense, routed) = unit.params_per_gpu();
    let weights = weight_bytes(layout.precision) * (dense + routed);
    result.weights_gib = weights / GIB;
    let free = hw.hbm_bytes - weights - c.reserved_memory_bytes;
    if free <= 0.0 {
        result.infeasible = Some(ServeInfeasible::WeightsDoNotFit);
        return result;
    }
    let kv_per_token = kv_bytes_per_token(arch, layout);
    let max_batch = (free / (kv_per_token * (w.input_tokens + w.output_tokens)))
        .floor()
        .min(4096.0);
    result.max_batch = max_batch as u32;
    if max_batch < 1.0 {
        result.infeasible = Some(ServeInfeasible::NoRoomForKvCache);
        return result;
    }
    let context = w.input_tokens + w.output_tokens / 2.0;
    let pp = f64::from(layout.pp);
    let ranks = f64::from(layout.ep);
    let prefill_latency = unit.prefill_latency_s(w.input_tokens);
    // Evaluate a batch: (tokens/s per unit, TPOT, TTFT, prefill GPUs per decode GPU).
    let at = |batch: f64| -> (f64, f64, f64, f64) {
        if w.disaggregated {
            let stage = unit.decode_stage_s(batch, context, 0.0);
            let tpot = pp * stage;
            let throughput = ranks * batch / stage;
            // Prefill pool sized to the request rate the decode pool finishes.
            let requests_per_s = throughput / w.output_tokens;
            let prefill_gpu_s = unit.prefill_flops(w.input_tokens) / unit.ceiling;
            let ratio = requests_per_s * prefill_gpu_s / f64::from(layout.gpus());
            (throughput, tpot, prefill_latency + tpot, ratio)
        } else {
            let prefill_tokens = batch * w.input_tokens / w.output_tokens;
            let stage = unit.decode_stage_s(batch, context, prefill_tokens);
            let tpot = pp * stage;
            (ranks * batch / stage, tpot, prefill_latency + tpot, 0.0)
        }
    };
    let (_, best_tpot, best_ttft, _) = at(1.0);
    result.best_tpot_s = best_tpot;
    result.best_ttft_s = best_ttft;
    let meets = |tpot: f64, ttft: f64| {
        w.mode == ServingMode::Offline
            || (w.tpot_slo_s.is_none_or(|slo| tpot <= slo)
                && w.ttft_slo_s.is_none_or(|slo| ttft <= slo))
    };
    // Throughput rises with batch and TPOT rises with it, so the best batch within the
    // targets is the largest that meets them: bisect.
    let (mut lo, mut hi) = (0u32, max_batch as u32);
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        let (_, tpot, ttft, _) = at(f64::from(mid));
        if meets(tpot, ttft) {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    if lo == 0 {
        result.infeasible = Some(ServeInfeasible::SloUnmeetable);
        return result;
    }
    let batch = f64::from(lo);
    let (throughput, tpot, ttft, ratio) = at(batch);
    result.batch = lo;
    result.output_tokens_per_s = throughput;
    result.output_tokens_per_s_per_gpu = throughput / (f64::from(layout.gpus()) * (1.0 + ratio));
    result.tpot_s = tpot;
    result.ttft_s = ttft;
    result.prefill_to_decode_ratio = ratio;
    result.kv_cache_gib = batch * kv_per_token * context / GIB;
    result.feasible = true;
    result
}

/// The best layout: every TP (powers of two within the scale-up domain), PP and EP that divide
/// the model, fastest per accelerator first.
pub fn search_serving(
    arch: &Arch,
    hw: &Hardware,
    precision: Precision,
    kv_bytes: f64,
    w: &ServingWorkload,
    c: &ModelConstants,
    top: usize,
) -> (Vec<(ServingLayout, ServingEvaluation)>, u64) {
    let mut found = Vec::new();
    let mut evaluated = 0u64;
    let mut tp = 1u32;
    while f64::from(tp) <= hw.scale_up_domain.max(1.0) && f64::from(tp) <= arch.heads {
        if (arch.heads as u32).is_multiple_of(tp) {
            for pp in [1u32, 2, 4, 8, 16] {
                if !(arch.layers as u32).is_multiple_of(pp) {
                    continue;
                }
                let eps: Vec<u32> = if arch.is_moe() {
                    (0..=9)
                        .map(|k| 1u32 << k)
                        .filter(|e| (arch.experts as u32).is_multiple_of(*e))
                        .collect()
                } else {
                    vec![1]
                };
                for ep in eps {
                    if hw.scale_out_bytes_per_s <= 0.0 && f64::from(tp * ep) > hw.scale_up_domain {
                        continue;
                    }
                    let layout = ServingLayout {
                        tp,
                        pp,
                        ep,
                        precision,
                        kv_bytes,
                        overlap_ep: false,
                    };
                    evaluated += 1;
                    let e = evaluate_serving(arch, hw, &layout, w, c);
                    if e.feasible {
                        found.push((layout, e));
                    }
                }
            }
        }
        tp *= 2;
    }
    found.sort_by(|a, b| {
        b.1.output_tokens_per_s_per_gpu
            .total_cmp(&a.1.output_tokens_per_s_per_gpu)
            .then((a.0.tp, a.0.pp, a.0.ep).cmp(&(b.0.tp, b.0.pp, b.0.ep)))
    });
    found.truncate(top);
    (found, evaluated)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h100() -> Hardware {
        Hardware {
            peak_bf16_flops: 989e12,
            peak_fp8_flops: Some(1979e12),
            peak_fp4_flops: None,
            matmul_efficiency: 0.8,
            hbm_bytes: 80.0 * GIB,
            hbm_bytes_per_s: 3.35e12,
            scale_up_domain: 8.0,
            scale_up_bytes_per_s: 450e9,
            scale_out_bytes_per_s: 50e9,
        }
    }

    fn llama70b() -> Arch {
        Arch {
            layers: 80.0,
            hidden: 8192.0,
            ffn_hidden: 28672.0,
            heads: 64.0,
            kv_heads: 8.0,
            head_dim: 128.0,
            vocab: 32000.0,
            gated_mlp: true,
            tied_embeddings: false,
            ..Arch::gpt(1, 1, 1, 1)
        }
    }

    #[test]
    fn gqa_kv_cache_per_token() {
        // Llama 2 70B: 80 layers x 2 (K, V) x 8 heads x 128 x 2 bytes = 327,680 bytes per token;
        // at TP 2 each rank holds 4 of the 8 heads: 163,840.
        let arch = llama70b();
        let layout = ServingLayout {
            tp: 2,
            pp: 1,
            ep: 1,
            precision: Precision::Fp8,
            kv_bytes: 2.0,
            overlap_ep: false,
        };
        assert_eq!(kv_bytes_per_token(&arch, &layout), 163_840.0);
    }

    #[test]
    fn throughput_never_exceeds_the_compute_roofline() {
        let arch = llama70b();
        let layout = ServingLayout {
            tp: 2,
            pp: 1,
            ep: 1,
            precision: Precision::Fp8,
            kv_bytes: 1.0,
            overlap_ep: false,
        };
        let w = ServingWorkload {
            input_tokens: 300.0,
            output_tokens: 300.0,
            ttft_slo_s: None,
            tpot_slo_s: None,
            mode: ServingMode::Offline,
            disaggregated: false,
        };
        let e = evaluate_serving(&arch, &h100(), &layout, &w, &ModelConstants::default());
        assert!(e.feasible);
        // Each output token costs at least 2 x active params FLOPs (plus its share of prefill).
        let roofline = 2.0 * 1979e12 / (2.0 * arch.active_params());
        assert!(
            e.output_tokens_per_s < roofline,
            "{} vs {}",
            e.output_tokens_per_s,
            roofline
        );
    }

    #[test]
    fn a_tighter_tpot_target_never_raises_throughput() {
        let arch = llama70b();
        let layout = ServingLayout {
            tp: 4,
            pp: 1,
            ep: 1,
            precision: Precision::Fp8,
            kv_bytes: 1.0,
            overlap_ep: false,
        };
        let mut last = f64::INFINITY;
        for slo in [0.2, 0.1, 0.05, 0.03, 0.02] {
            let w = ServingWorkload {
                input_tokens: 1000.0,
                output_tokens: 200.0,
                ttft_slo_s: None,
                tpot_slo_s: Some(slo),
                mode: ServingMode::Server,
                disaggregated: false,
            };
            let e = evaluate_serving(&arch, &h100(), &layout, &w, &ModelConstants::default());
            let t = if e.feasible {
                e.output_tokens_per_s
            } else {
                0.0
            };
            assert!(t <= last, "slo {slo}: {t} > {last}");
            if e.feasible {
                assert!(e.tpot_s <= slo);
            }
            last = t;
        }
    }

    #[test]
    fn weights_that_do_not_fit_are_infeasible_not_an_error() {
        let arch = llama70b();
        let layout = ServingLayout {
            tp: 1,
            pp: 1,
            ep: 1,
            precision: Precision::Bf16,
            kv_bytes: 2.0,
            overlap_ep: false,
        };
        let w = ServingWorkload {
            input_tokens: 100.0,
            output_tokens: 100.0,
            ttft_slo_s: None,
            tpot_slo_s: None,
            mode: ServingMode::Offline,
            disaggregated: false,
        };
        let e = evaluate_serving(&arch, &h100(), &layout, &w, &ModelConstants::default());
        assert_eq!(e.infeasible, Some(ServeInfeasible::WeightsDoNotFit));
    }
}
