//! One deployment unit's costs: a decode step by component, a prompt's prefill, the KV cache.

use super::{ComponentPrecision, DecodeStep, ServingEfficiency, ServingLayout, Speculation};
use crate::arch::Arch;
use crate::step::{Hardware, ModelConstants, Precision};

pub(super) const GIB: f64 = 1024.0 * 1024.0 * 1024.0;
/// Kernels per dense (GQA attention, gated MLP) layer in a decode step, each paying a fixed
/// cost (`kernel_overhead_s`) whatever its size: fused all-reduce + RMSNorm, QKV GEMM, RoPE and
/// KV-cache write, attention, output GEMM, fused all-reduce + RMSNorm, gate-up GEMM with its
/// activation, down GEMM. CUDA graphs remove the host's launch calls, not this cost.
const DENSE_KERNELS_PER_LAYER: f64 = 8.0;
/// Kernels MLA attention adds to a layer: TensorRT-LLM's DeepSeek decode layer (tech blog 1,
/// "Pushing Latency Boundaries", modules 1-8) runs Fuse_A GEMM, grouped Q/K RMSNorm, UQ_QR
/// GEMM, UK batched GEMM, KV-cache concat + RoPE, attention, UV batched GEMM and WO GEMM: eight
/// kernels where GQA runs four (QKV GEMM, RoPE + cache write, attention, output GEMM).
const MLA_EXTRA_KERNELS_PER_LAYER: f64 = 4.0;
/// Kernels a routed-expert FFN adds over a dense MLP's two GEMMs: the same diagram's router
/// GEMM + top-k, shared expert and sparse experts (modules 10-12) are three (the grouped
/// GEMMs' gate and activation fused).
const MOE_EXTRA_KERNELS_PER_LAYER: f64 = 1.0;

/// Decode kernels per layer of `arch` (MoE layers and dense layers weighted by their counts).
pub(super) fn decode_kernels_per_layer(arch: &Arch) -> f64 {
    let mla = if arch.mla.is_some() {
        MLA_EXTRA_KERNELS_PER_LAYER
    } else {
        0.0
    };
    let moe = if arch.is_moe() {
        MOE_EXTRA_KERNELS_PER_LAYER * arch.moe_layers() / arch.layers.max(1.0)
    } else {
        0.0
    };
    DENSE_KERNELS_PER_LAYER + mla + moe
}

/// Latency of one small-message all-reduce over `ranks` accelerators of one scale-up domain
/// with the one-shot kernels serving engines run at decode sizes (TensorRT-LLM's custom
/// one-shot all-reduce, which SGLang also ships), s: a line through SGLang's H100 measurements
/// of that kernel (sgl-project/sglang#2904, 2025-01-15: 3.7, 4.8 and 5.9 us at 2, 4 and 8
/// ranks), 2.6 us plus 1.1 us per doubling of the ranks. Without NVSwitch multicast the
/// one-shot kernel still writes to each peer once, so the same line is used on xGMI meshes.
pub fn one_shot_allreduce_latency_s(ranks: f64) -> f64 {
    if ranks <= 1.0 {
        return 0.0;
    }
    ONE_SHOT_BASE_S + ONE_SHOT_PER_DOUBLING_S * ranks.log2()
}
const ONE_SHOT_BASE_S: f64 = 2.6e-6;
const ONE_SHOT_PER_DOUBLING_S: f64 = 1.1e-6;

/// The GEMM shape factor of a decode step's weight GEMM with `m` token rows: the training
/// model's `1 / (1 + h/m + h/n + h/k)`, except that the rows term never exceeds 1. That term
/// stands for the tile rows a kernel computes beyond `m`; GEMM libraries pick the tile height
/// from powers of two (cuBLAS and hipBLASLt keep skinny-M kernels for decode), so a batch of
/// `m < h` rows runs in a tile of fewer than `2m` rows, not `m + h`. Without the cap a batch of
/// one was costed as ~190 rows of matmul work, which made small-batch decode compute-bound on
/// chips whose matmul ceiling is low against their HBM bandwidth (MI300X FP8, H200, B200 FP4).
pub(super) fn decode_shape_factor(c: &ModelConstants, m: f64, n: f64, k: f64) -> f64 {
    let m = m.max(1.0);
    let rows = c.gemm_half_dim.min(m) / m;
    1.0 / (1.0 + rows + c.gemm_half_dim / n + c.gemm_half_dim / k)
}

pub(super) fn weight_bytes(precision: Precision) -> f64 {
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

/// Matmul ceilings of each component's GEMMs, FLOP/s.
#[derive(Debug, Clone, Copy)]
pub(super) struct Ceilings {
    pub(super) attention: f64,
    pub(super) dense: f64,
    pub(super) experts: f64,
}

pub(super) struct Unit<'a> {
    pub(super) arch: &'a Arch,
    pub(super) hw: &'a Hardware,
    pub(super) layout: ServingLayout,
    pub(super) c: &'a ModelConstants,
    /// Each component's weight precision.
    pub(super) components: ComponentPrecision,
    /// Each component's matmul ceiling.
    pub(super) ceilings: Ceilings,
    pub(super) hbm: f64,
    /// Prompt length of the workload, tokens (for the attention of chunked prefill).
    pub(super) prompt_tokens: f64,
    /// Speculative decoding, if any.
    pub(super) speculation: Option<Speculation>,
    /// The engine's efficiencies.
    pub(super) eff: ServingEfficiency,
    /// What every decode step and prefill of the unit shares, computed once.
    fixed: Fixed,
}

/// The unit's figures that do not depend on the batch: an evaluation asks for a few dozen
/// decode steps, and these are the same in each (computed by the same expressions, so the
/// results are bit for bit those of computing them every time).
#[derive(Debug, Clone, Copy, Default)]
struct Fixed {
    /// Dense and routed-expert parameters per accelerator.
    params_per_gpu: (f64, f64),
    /// Attention projection parameters per accelerator.
    attention_params_per_gpu: f64,
    /// Weight bytes per accelerator.
    weight_bytes_per_gpu: f64,
    /// The prefill matmul rate.
    prefill_ceiling: f64,
    /// KV-cache bytes per token per accelerator.
    kv_bytes_per_token: f64,
    /// Decode kernels per layer.
    kernels_per_layer: f64,
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
    /// The busiest EP rank's routed-expert load over the mean (1 without expert parallelism:
    /// every rank then holds every expert).
    pub(super) fn imbalance(&self) -> f64 {
        if self.layout.ep > 1 && self.arch.is_moe() {
            self.c.expert_imbalance.max(1.0)
        } else {
            1.0
        }
    }

    /// Parameters held per accelerator.
    pub(super) fn params_per_gpu(&self) -> (f64, f64) {
        self.fixed.params_per_gpu
    }

    fn compute_params_per_gpu(&self) -> (f64, f64) {
        let experts = self.arch.routed_expert_params();
        let dense = (self.arch.total_params() - experts) / (self.tp() * self.pp());
        let routed = experts / (self.ep() * self.pp() * self.tp());
        (dense, routed)
    }

    /// Attention projection parameters held per accelerator (split over TP and PP).
    fn attention_params_per_gpu(&self) -> f64 {
        self.fixed.attention_params_per_gpu
    }

    fn compute_attention_params_per_gpu(&self) -> f64 {
        self.arch.layers * self.arch.attention_params() / (self.tp() * self.pp())
    }

    /// Weight bytes per accelerator, each component at its precision.
    pub(super) fn weight_bytes_per_gpu(&self) -> f64 {
        self.fixed.weight_bytes_per_gpu
    }

    fn compute_weight_bytes_per_gpu(&self) -> f64 {
        let (dense, routed) = self.params_per_gpu();
        let attention = self.attention_params_per_gpu();
        weight_bytes(self.components.attention) * attention
            + weight_bytes(self.components.dense) * (dense - attention)
            + weight_bytes(self.components.experts) * routed
    }

    /// The matmul rate a whole prompt's GEMMs run at: each component's FLOPs at its ceiling.
    pub(super) fn prefill_ceiling(&self) -> f64 {
        self.fixed.prefill_ceiling
    }

    fn compute_prefill_ceiling(&self) -> f64 {
        let a = self.arch;
        let attention = a.layers * a.attention_params();
        let experts = a.moe_layers() * a.top_k * a.expert_params();
        let dense = (a.active_params() - a.embedding_params() - attention - experts).max(0.0);
        let total = attention + dense + experts;
        let time = attention / self.ceilings.attention
            + dense / self.ceilings.dense
            + experts / self.ceilings.experts;
        if time > 0.0 {
            total / time
        } else {
            self.ceilings.dense
        }
    }

    /// A collective's bandwidth and fixed latency on the link a group of `group` accelerators
    /// spans (in one scale-up domain the latency is the fitted `scale_up_latency_s`: what EP
    /// all-to-alls, pipeline hops and two-shot or NCCL all-reduces pay per call).
    pub(super) fn link(&self, group: f64) -> (f64, f64) {
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

    /// One tensor-parallel all-reduce of `bytes` over the attention rank's accelerators, s.
    ///
    /// Within one scale-up domain engines pick the kernel by message size. Up to a limit they
    /// run a one-shot kernel (every rank reads its peers' buffers and reduces locally), which
    /// pays only its measured latency (`one_shot_allreduce_latency_s`): vLLM's custom
    /// all-reduce (`csrc/custom_all_reduce.cuh`) runs it below 512 KiB on up to 4 ranks, below
    /// 256 KiB on up to 8, up to its 8 MiB buffer on 2; TensorRT-LLM's AUTO strategy and SGLang's custom
    /// all-reduce switch likewise. A batch-1 decode step's all-reduces (a few KiB to tens of
    /// KiB) are all one-shot. Larger messages go to two-shot or NCCL kernels, which pay the
    /// fitted residual `scale_up_latency_s` on top (their extra synchronisation rounds and the
    /// wait for the slowest rank; the fit on the published tables sets it, never the
    /// latency-bound cases). Beyond the domain: the link's bandwidth and latency.
    fn allreduce_s(&self, bytes: f64) -> f64 {
        let tp = self.tp();
        if tp <= 1.0 {
            return 0.0;
        }
        let ring_bytes = 2.0 * (tp - 1.0) / tp * bytes;
        let (bw, latency) = self.link(tp);
        if tp > self.hw.scale_up_domain {
            return ring_bytes / bw + latency;
        }
        let one_shot_limit_bytes = if tp <= 2.0 {
            // vLLM's custom all-reduce buffer (`CustomAllreduce(max_size=8192 * 1024)`):
            // past it, NCCL.
            8.0 * 1024.0 * 1024.0
        } else if tp <= 4.0 {
            512.0 * 1024.0
        } else {
            256.0 * 1024.0
        };
        let residual = if bytes <= one_shot_limit_bytes {
            0.0
        } else {
            latency
        };
        ring_bytes / bw + one_shot_allreduce_latency_s(tp) + residual
    }

    /// One decode step of one pipeline stage with `batch` sequences per attention rank at mean
    /// context `context`, plus `prefill_tokens` of chunked prefill per rank.
    /// One decode step, drafting included when the workload speculates.
    pub(super) fn decode_stage(&self, batch: f64, context: f64, prefill_tokens: f64) -> DecodeStep {
        match self.speculation {
            None => self.verify_stage(batch, context, prefill_tokens, 1.0),
            Some(spec) => {
                let drafts = f64::from(spec.draft_tokens);
                // The model checks its own next token and every draft in one pass.
                let mut step = self.verify_stage(batch, context, prefill_tokens, 1.0 + drafts);
                // Drafting runs token after token before that pass.
                let one = self.verify_stage(batch, context, 0.0, 1.0).step_s;
                let fraction = spec
                    .draft_cost_fraction
                    .unwrap_or(1.0 / self.arch.layers.max(1.0));
                step.draft_s = drafts * fraction * one;
                step.step_s += step.draft_s;
                step
            }
        }
    }

    /// One pass of the model over `batch` sequences, each with `per_sequence` new tokens (1, or
    /// 1 + drafts when verifying speculation) attending to `context`, plus `prefill_tokens`.
    fn verify_stage(
        &self,
        batch: f64,
        context: f64,
        prefill_tokens: f64,
        per_sequence: f64,
    ) -> DecodeStep {
        let a = self.arch;
        let (dense, routed) = self.params_per_gpu();
        let attention_params = self.attention_params_per_gpu();
        let layers = a.layers / self.pp();
        let moe_share = a.moe_layers() / a.layers;
        // Experts touched this step: each of the batch x ep tokens picks top_k of the experts.
        let touched = if a.is_moe() {
            let tokens = (batch * per_sequence + prefill_tokens) * self.ep();
            1.0 - (1.0 - a.top_k / a.experts).powf(tokens)
        } else {
            1.0
        };
        // The input embedding is a gather of `tokens` rows, not a stream of the table.
        let embedding_per_gpu = a.vocab * a.hidden / self.tp() / self.pp();
        let dense_weights_read = weight_bytes(self.components.attention) * attention_params
            + weight_bytes(self.components.dense) * (dense - attention_params - embedding_per_gpu);
        let expert_weights_read = weight_bytes(self.components.experts) * routed * touched;
        // Sliding layers keep (and read) only their window of the context.
        let kv_read = batch * a.attended_context(context) * self.fixed.kv_bytes_per_token;

        // Matmul FLOPs per token on this accelerator: its share of the dense GEMMs (the output
        // projection only for decode tokens: a prompt's logits are not computed) and the top-k
        // experts the token uses.
        let lm_head = a.vocab * a.hidden / self.tp() / self.pp();
        let body_flops_per_token = 2.0 * (dense - embedding_per_gpu - lm_head);
        let expert_flops_per_token =
            2.0 * moe_share * layers * a.top_k * a.expert_params() / self.tp();
        // Attention scores and values: a decode token attends to the whole context; a prompt
        // token in a prefill chunk to the prompt before it (causal: half the prompt on average).
        let attention_flops_at = |ctx: f64| {
            2.0 * a.attended_context(ctx)
                * layers
                * (a.heads / self.tp())
                * (a.qk_head_dim() + a.v_head_dim())
        };
        let prompt_context = if batch > 0.0 && prefill_tokens > 0.0 {
            self.prompt_tokens / 2.0
        } else {
            0.0
        };
        let decode_tokens = batch * per_sequence;
        let tokens = decode_tokens + prefill_tokens;
        // Roofline per kernel, then kernels in sequence: each weight GEMM takes the longer of
        // streaming its weights and its matmul work (with the training model's GEMM shape
        // factor); attention streams the KV cache and does its score work; one kernel's memory
        // time does not hide another's.
        let dense_shape = decode_shape_factor(self.c, tokens, a.hidden / self.tp(), a.hidden);
        // The attention projections at their precision's ceiling, the rest of the dense
        // GEMMs (MLPs, shared experts, output projection) at theirs.
        let attention_flops_per_token = 2.0 * attention_params;
        let dense_compute_s = (tokens * attention_flops_per_token / self.ceilings.attention
            + (tokens * (body_flops_per_token - attention_flops_per_token)
                + batch * 2.0 * lm_head)
                / self.ceilings.dense)
            / dense_shape;
        let dense_gemm_s = (dense_weights_read / self.hbm).max(dense_compute_s);
        let (expert_gemm_s, expert_compute_s) = if a.is_moe() {
            // Each local expert multiplies the tokens routed to it from all `ep` ranks.
            let rows = (tokens * self.ep() * a.top_k / a.experts).max(1.0);
            let shape = decode_shape_factor(self.c, rows, a.moe_ffn_hidden / self.tp(), a.hidden);
            // The busiest rank's experts set the pace: their matmul work scales with its load;
            // the weights it streams do not (every local expert is read once). Grouped GEMMs
            // reach `expert_gemm_efficiency` of a dense GEMM's rate (fitted).
            let compute = self.imbalance() * tokens * expert_flops_per_token
                / (self.ceilings.experts * shape);
            let efficiency = self.eff.expert_gemm_efficiency;
            (
                (expert_weights_read / self.hbm).max(compute) / efficiency,
                compute / efficiency,
            )
        } else {
            (0.0, 0.0)
        };
        let gemm_s = dense_gemm_s + expert_gemm_s;
        let weights_s = (dense_weights_read + expert_weights_read) / self.hbm;
        let kv_read_s = kv_read / self.hbm;
        let attention_compute_s = (decode_tokens * attention_flops_at(context)
            + prefill_tokens * attention_flops_at(prompt_context))
            / (self.hw.peak_bf16_flops * self.hw.matmul_efficiency * self.eff.attention_fraction);

        // Two all-reduces per layer (after attention, after the MLP) of the tokens' 16-bit
        // hidden states.
        let tp_s = 2.0 * layers * self.allreduce_s(2.0 * tokens * a.hidden);
        // The stage hands its tokens' hidden states (16-bit) to the next stage, on the scale-up
        // link if the whole pipeline fits in one domain.
        let pp_s = if self.layout.pp > 1 {
            let (bw, lat) = self.link(self.tp() * self.pp());
            2.0 * tokens * a.hidden / self.tp() / bw + lat
        } else {
            0.0
        };
        let (ep_bw, ep_lat) = self.link(self.tp() * self.ep());
        // Dispatch in fp8 (1 byte per element) and combine in bf16 (2 bytes), per MoE layer.
        let (dispatch_s, combine_s) = if self.layout.ep > 1 && a.is_moe() {
            // The busiest rank receives `imbalance` times the mean.
            let per_byte = self.imbalance() * tokens * a.top_k * a.hidden * (self.ep() - 1.0)
                / self.ep()
                / ep_bw;
            let moe_layers = moe_share * layers;
            (
                moe_layers * (per_byte + ep_lat),
                moe_layers * (2.0 * per_byte + ep_lat),
            )
        } else {
            (0.0, 0.0)
        };
        let launch_s = layers * self.fixed.kernels_per_layer * self.c.kernel_overhead_s;
        // Everything but the routed experts runs on the attention side of the layer.
        let attention_side_s = dense_gemm_s + kv_read_s + attention_compute_s + tp_s + pp_s;
        let body_s = if self.layout.overlap_ep {
            // Two microbatches, as DeepSeek's and SGLang's decode overlap them: one
            // microbatch's dispatch runs while the other computes attention, its combine while
            // the other runs its experts. Each all-to-all hides only behind the compute it is
            // paired with; what is left over shows.
            attention_side_s.max(dispatch_s) + expert_gemm_s.max(combine_s)
        } else if self.eff.combine_overlaps_down_gemm {
            // The combine runs beside the down GEMM, one of a gated expert's three matrices
            // (a third of its time); only what is longer shows.
            let down_gemm_s = expert_gemm_s / 3.0;
            attention_side_s + dispatch_s + expert_gemm_s + (combine_s - down_gemm_s).max(0.0)
        } else {
            attention_side_s + dispatch_s + expert_gemm_s + combine_s
        };
        // The engine's own cost per sequence, and its step factor's share.
        let engine_s = (body_s + launch_s) * (self.eff.engine_step_factor - 1.0)
            + batch * self.eff.per_sequence_step_s;
        DecodeStep {
            gemm_s,
            dense_gemm_s,
            expert_gemm_s,
            gemm_memory_bound: weights_s >= dense_compute_s + expert_compute_s,
            kv_read_s,
            attention_compute_s,
            tp_comm_s: tp_s,
            pp_comm_s: pp_s,
            ep_comm_s: dispatch_s + combine_s,
            launch_s,
            draft_s: 0.0,
            engine_s,
            step_s: body_s + launch_s + engine_s,
        }
    }

    /// Prefill FLOPs of one request of `input` tokens: every prompt token through the
    /// layers (embedding lookups are gathers, not matmuls), causal attention, and the output
    /// projection for the last token only (the first generated token).
    pub(super) fn prefill_flops(&self, input: f64) -> f64 {
        let a = self.arch;
        let one_table = a.vocab * a.hidden;
        2.0 * input * (a.active_params() - a.embedding_params())
            + 2.0 * one_table
            + input * a.layers * a.attention_core_flops_per_token(a.attended_context(input / 2.0))
    }

    /// Latency of one request's prefill on its attention rank's accelerators.
    pub(super) fn prefill_latency_s(&self, input: f64) -> f64 {
        // A prompt passes the pipeline stages one after another: only tensor parallelism
        // shortens one request's prefill.
        let gpus = self.tp();
        let shape = crate::step::shape_factor(
            self.c,
            input,
            self.arch.hidden / self.tp(),
            self.arch.hidden,
        );
        let compute = self.prefill_flops(input) / (gpus * self.prefill_ceiling() * shape);
        let memory = self.weight_bytes_per_gpu() * self.pp() / self.hbm;
        let tp = 2.0 * self.arch.layers * self.allreduce_s(2.0 * input * self.arch.hidden);
        compute.max(memory) + tp
    }
}

impl<'a> Unit<'a> {
    /// A unit at the layout's precision throughout, with the fitted default efficiencies;
    /// `None` when the chip has no matmul units at that precision.
    pub(super) fn new(
        arch: &'a Arch,
        hw: &'a Hardware,
        layout: &ServingLayout,
        c: &'a ModelConstants,
        prompt_tokens: f64,
        speculation: Option<Speculation>,
    ) -> Option<Unit<'a>> {
        Unit::with_components(
            arch,
            hw,
            layout,
            c,
            prompt_tokens,
            speculation,
            &ServingEfficiency::default(),
            &ComponentPrecision::uniform(layout.precision),
        )
    }

    /// The unit every serving path builds (plain, traffic, disaggregated): each component's
    /// weights at its own precision and matmul ceiling, and the engine's efficiencies; `None`
    /// when the chip has no matmul units at one of the components' precisions.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn with_components(
        arch: &'a Arch,
        hw: &'a Hardware,
        layout: &ServingLayout,
        c: &'a ModelConstants,
        prompt_tokens: f64,
        speculation: Option<Speculation>,
        eff: &ServingEfficiency,
        components: &ComponentPrecision,
    ) -> Option<Unit<'a>> {
        let ceiling_of = |p: Precision| {
            hw.peak(p).map(|peak| {
                super::evaluate::serving_ceiling(hw, p).unwrap_or(peak * hw.matmul_efficiency)
            })
        };
        let mut unit = Unit {
            arch,
            hw,
            layout: *layout,
            c,
            components: *components,
            ceilings: Ceilings {
                attention: ceiling_of(components.attention)?,
                dense: ceiling_of(components.dense)?,
                experts: ceiling_of(components.experts)?,
            },
            hbm: hw.serving_hbm_bytes_per_s(c.memory_efficiency),
            prompt_tokens,
            speculation,
            eff: *eff,
            fixed: Fixed::default(),
        };
        // In dependency order: the weight bytes use the parameters.
        unit.fixed.params_per_gpu = unit.compute_params_per_gpu();
        unit.fixed.attention_params_per_gpu = unit.compute_attention_params_per_gpu();
        unit.fixed.weight_bytes_per_gpu = unit.compute_weight_bytes_per_gpu();
        unit.fixed.prefill_ceiling = unit.compute_prefill_ceiling();
        unit.fixed.kv_bytes_per_token = kv_bytes_per_token(arch, layout);
        unit.fixed.kernels_per_layer = decode_kernels_per_layer(arch);
        Some(unit)
    }

    /// KV-cache bytes per token per accelerator of the unit.
    pub(super) fn kv_bytes_per_token_per_gpu(&self) -> f64 {
        self.fixed.kv_bytes_per_token
    }

    /// HBM per accelerator left for the KV cache (and any cached prefixes) once the engine's
    /// memory share, the weights and the reserved memory are taken, bytes (negative: the
    /// weights do not fit).
    pub(super) fn free_bytes(&self) -> f64 {
        self.hw.hbm_bytes * self.eff.memory_fraction
            - self.weight_bytes_per_gpu()
            - self.c.reserved_memory_bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_skinny_decode_gemm_pays_at_most_twice_its_rows() {
        let c = ModelConstants::serving();
        let (n, k) = (8192.0, 8192.0);
        let wide = crate::step::shape_factor(&c, 1e12, n, k);
        // One row: padded to two rows, not to 1 + 192 (the uncapped factor at serving's half
        // dimension).
        let one = decode_shape_factor(&c, 1.0, n, k);
        assert!((1.0 / one - (1.0 / wide + 1.0)).abs() < 1e-9);
        assert!(one > 20.0 * crate::step::shape_factor(&c, 1.0, n, k));
        // From the half dimension on, the two agree.
        for m in [192.0, 1000.0, 8192.0] {
            let a = decode_shape_factor(&c, m, n, k);
            let b = crate::step::shape_factor(&c, m, n, k);
            assert!((a - b).abs() < 1e-12, "{m}: {a} vs {b}");
        }
        // Continuous and rising in m: more rows never make a row dearer.
        let mut last = 0.0;
        for m in 1..400 {
            let f = decode_shape_factor(&c, f64::from(m), n, k);
            assert!(f >= last - 1e-12, "{m}");
            last = f;
        }
    }

    fn unit_layout(tp: u32, ep: u32) -> ServingLayout {
        ServingLayout {
            tp,
            pp: 1,
            ep,
            precision: Precision::Fp8,
            kv_bytes: 1.0,
            overlap_ep: false,
        }
    }

    #[test]
    fn the_one_shot_all_reduce_follows_sglangs_h100_measurements() {
        // sgl-project/sglang#2904: 3.7, 4.8, 5.9 us at 2, 4, 8 ranks; 2.6 + 1.1 log2(n) us.
        for (ranks, us) in [(2.0, 3.7), (4.0, 4.8), (8.0, 5.9)] {
            let got = 1e6 * one_shot_allreduce_latency_s(ranks);
            assert!((got - us).abs() < 1e-9, "{ranks}: {got}");
        }
        assert_eq!(one_shot_allreduce_latency_s(1.0), 0.0);
    }

    #[test]
    fn a_batch_one_all_reduce_pays_the_one_shot_latency_not_the_residual() {
        let (arch, hw) = (crate::reference::llama3_70b(), crate::reference::h100_sxm());
        let small = ModelConstants {
            scale_up_latency_s: 0.0,
            ..ModelConstants::serving()
        };
        let large = ModelConstants {
            scale_up_latency_s: 64e-6,
            ..small
        };
        let step = |c: &ModelConstants, tp: u32, batch: f64| {
            Unit::new(&arch, &hw, &unit_layout(tp, 1), c, 1000.0, None)
                .unwrap()
                .decode_stage(batch, 1000.0, 0.0)
                .tp_comm_s
        };
        for tp in [2, 4, 8] {
            // One token: 16 KiB per all-reduce, one-shot on any TP size; the residual is unpaid.
            assert_eq!(step(&small, tp, 1.0), step(&large, tp, 1.0), "tp {tp}");
            // 80 layers x 2 all-reduces x (one-shot latency + 16 KiB of ring traffic).
            let ranks = f64::from(tp);
            let bytes = 2.0 * 8192.0;
            let ring = 2.0 * (ranks - 1.0) / ranks * bytes / (hw.scale_up_bytes_per_s * 0.8);
            let expected = 160.0 * (one_shot_allreduce_latency_s(ranks) + ring);
            assert!((step(&small, tp, 1.0) - expected).abs() < 1e-12, "tp {tp}");
        }
        // 512 tokens (8 MiB) on 8 ranks is past the one-shot limit: each of the 160 all-reduces
        // pays the residual too.
        let extra = step(&large, 8, 512.0) - step(&small, 8, 512.0);
        assert!((extra - 160.0 * 64e-6).abs() < 1e-9, "{extra}");
        // On 2 ranks the one-shot kernel serves up to its 8 MiB buffer (512 tokens = 8 MiB).
        assert_eq!(step(&small, 2, 512.0), step(&large, 2, 512.0));
        assert!(step(&large, 2, 600.0) > step(&small, 2, 600.0));
    }

    #[test]
    fn mla_and_moe_layers_run_more_kernels() {
        let dense = decode_kernels_per_layer(&crate::reference::llama3_70b());
        assert_eq!(dense, 8.0);
        // DeepSeek-V3: MLA's four extra kernels in every layer, the router's one in its 58 MoE
        // layers of 61: 8 + 4 + 58/61 (TensorRT-LLM tech blog 1 counts 13 in an MoE layer).
        let ds = crate::reference::deepseek_v3();
        let k = decode_kernels_per_layer(&ds);
        assert!(
            (k - (12.0 + ds.moe_layers() / ds.layers)).abs() < 1e-12,
            "{k}"
        );
        assert!(k > 12.9 && k < 13.0);
    }

    #[test]
    fn overlapping_the_combine_with_the_down_gemm_only_hides_the_combine() {
        let (arch, hw, c) = (
            crate::reference::deepseek_v3(),
            crate::reference::h100_sxm(),
            ModelConstants::serving(),
        );
        let l = unit_layout(1, 32);
        let step = |overlap: bool| {
            let eff = ServingEfficiency {
                combine_overlaps_down_gemm: overlap,
                ..ServingEfficiency::default()
            };
            Unit::with_components(
                &arch,
                &hw,
                &l,
                &c,
                2000.0,
                None,
                &eff,
                &ComponentPrecision::uniform(Precision::Fp8),
            )
            .unwrap()
            .decode_stage(256.0, 2000.0, 0.0)
        };
        let (plain, overlapped) = (step(false), step(true));
        assert!(overlapped.step_s < plain.step_s);
        // What it saves is at most the combine (two thirds of the all-to-all's bytes) and at
        // most the down GEMM (a third of the experts' time).
        let saved = plain.step_s - overlapped.step_s;
        assert!(saved <= plain.expert_gemm_s / 3.0 + 1e-12);
        assert!(saved <= plain.ep_comm_s);
    }

    #[test]
    fn a_measured_hbm_bandwidth_caps_what_serving_streams() {
        let mut hw = crate::reference::h100_sxm();
        // No measurement: the fitted share of nominal.
        assert_eq!(hw.serving_hbm_bytes_per_s(0.9), 3.35e12 * 0.9);
        // MI300X-like: measured 81% of nominal, below the fitted 90%.
        hw.hbm_measured_bytes_per_s = Some(0.81 * 3.35e12);
        assert_eq!(hw.serving_hbm_bytes_per_s(0.9), 0.81 * 3.35e12);
        // A measurement above the fitted share does not raise it.
        hw.hbm_measured_bytes_per_s = Some(0.95 * 3.35e12);
        assert_eq!(hw.serving_hbm_bytes_per_s(0.9), 3.35e12 * 0.9);
    }
}
