//! One training step: compute, communication, pipeline bubble and optimizer, per accelerator.

mod data_parallel;
mod evaluation;
mod expert_parallel;
mod pipeline;

use evaluation::infeasible;
pub use evaluation::{Breakdown, Evaluation, Infeasible};

use super::attention;
pub use super::inputs::{Hardware, ModelConstants, Precision, Workload, DEFAULT_EXPERT_IMBALANCE};
use super::memory::memory;
use super::overlap::{overlap, Overlapped};
use super::precision;
use super::stages::{split_layers, Stages};
pub use super::strategy::{Recompute, RecomputeModules, Strategy};
use crate::arch::Arch;

/// Kernels launched per layer, forward (norms, projections, attention, activation, residuals).
const KERNELS_PER_LAYER_FORWARD: f64 = 14.0;
/// Of [`KERNELS_PER_LAYER_FORWARD`], the attention block's: input norm, QKV projection,
/// rotary embedding, core attention, output projection, bias-dropout-add and residual (the
/// other half is the MLP block's). These are what a per-layer `attn` CUDA graph captures.
const ATTENTION_KERNELS_PER_LAYER_FORWARD: f64 = 7.0;
/// Extra kernels per MoE layer forward besides the expert GEMMs: router GEMM, softmax, top-k,
/// permute, dispatch, activation, combine, unpermute.
const MOE_KERNELS_PER_LAYER_FORWARD: f64 = 8.0;
/// Of [`MOE_KERNELS_PER_LAYER_FORWARD`], the router's (GEMM, softmax, top-k): what a per-layer
/// `moe_router` CUDA graph captures.
const ROUTER_KERNELS_PER_LAYER_FORWARD: f64 = 3.0;
/// Expert GEMM launches per local expert, forward (the up- or gate-up projection and the
/// down projection). Transformer Engine's `GroupedLinear` hands `general_grouped_gemm` one
/// tensor per expert and it runs one cuBLAS GEMM each (`num_gemms = len(A)`;
/// transformer_engine/pytorch/cpp_extensions/gemm.py), so launches grow with the experts a rank
/// holds; the backward's data and weight gradients double them (the 2x backward factor).
const EXPERT_GEMM_LAUNCHES_PER_LOCAL_EXPERT: f64 = 2.0;
/// Host (CPU) time per launched operation in an eager PyTorch framework: Python, the
/// pybind11 boundary, autograd recording, the ATen dispatcher, the library's algorithm pick and
/// `cudaLaunchKernel` together. Measured (Transformer Engine issue #2053, "High CPU overhead on
/// Grace systems", 2025-08-11, read 2026-12-02; CPU time per Linear forward, BF16, hidden 2048,
/// 8192 tokens): a plain PyTorch `Linear` 13.48 us on a DGX H100's Xeon 8480C and 37.08 us on
/// GB200's Grace; Transformer Engine's `Linear` 99.66 us on GB200 and 90.53 us on GH200. A
/// launch here stands for one framework-level op of Megatron's MoE path (Transformer Engine
/// module calls, with their quantiser and workspace set-up per expert GEMM, and plain torch ops
/// of the router and dispatcher), so it lies inside that 13-100 us bracket; 37 us (the GB200
/// PyTorch op) is the value the calibration read supports best once CUDA graphs are charged
/// per recipe (`gigawatt train validate`, MoE rows in sample / leave-one-source-out, on the
/// tree this shipped with: 25 us 17.1 / 16.6%, 30 us 16.1 / 15.7%, 37 us 14.5 / 14.2%, 45 us
/// 15.0 / 14.8%; before the recipes' recompute modules and 16-bit gradients, 50 us read 17.6 /
/// 17.2% and 60 us 22.0 / 21.7%). One figure for every host: the rows do not show the Grace
/// penalty the microbenchmark does (Grace 37 us with x86 25-30 us read 15.2-16.1%). Chosen
/// once on all rows, not refitted per fold. The GPU hides host time while the CPU runs ahead of the kernels
/// it has queued; the MoE host stall in `evaluate_with` is where it cannot.
pub const HOST_S_PER_OP: f64 = 37e-6;
/// Hidden-state passes per layer forward with fused kernels, counted: two fused layer norms
/// (read, write: 4) and two fused bias-dropout-adds (read input and residual, write output,
/// write a 1-byte mask: 3.5 each, 7).
pub const FUSED_ELEMENTWISE_PASSES: f64 = 11.0;
/// Bytes per routed element charged once per layer forward for Megatron-Core's unfused fp32
/// expert-bias loop (48 bytes over forward and backward, see `evaluate_with`; the backward's
/// 2x factor makes 3 x 16).
const EXPERT_BIAS_BYTES_PER_ELEMENT: f64 = 16.0;
/// Bytes per rotated query or key element charged once per layer forward for Megatron-Core's
/// unfused RoPE (`_apply_rotary_pos_emb_bshd`, rope_utils.py at the 26.04 pin 3097d81; see
/// `Arch::unfused_rope`), 16-bit throughout (`cos_` and `sin_` are cast to the input's dtype).
/// Forward, counted per element: `t * cos_` (read, write: 4), the negated half of
/// `_rotate_half` (2), its concatenation (4), `* sin_` (4), the sum (6) and the final
/// `torch.cat((t, t_pass))` (4): 24; backward, the two products' gradients (4 + 4), the
/// negation's (2), reassembling the chunks' gradients (4), summing the two paths (6) and the
/// full-width slice's gradient copy (4): 24. Element-wise bytes count once forward and twice
/// backward (the 2x below), so 48 / 3 = 16 are charged here.
const UNFUSED_ROPE_BYTES_PER_ELEMENT: f64 = 16.0;
/// Kernels of the unfused RoPE per rotated tensor (queries, keys), forward: the two products,
/// the negation, the two concatenations and the sum.
const UNFUSED_ROPE_KERNELS_PER_TENSOR: f64 = 6.0;
/// Bytes per element of activations and gradients in flight (16-bit).
const ACTIVATION_BYTES: f64 = 2.0;
/// Bytes read and written per parameter by a mixed-precision Adam step: fp32 master, m, v and
/// gradient read (16), fp32 master, m, v and the 16-bit weight written (14).
const OPTIMIZER_BYTES_PER_PARAM: f64 = 30.0;

/// Kernels the host launches one by one per layer forward (of `kernels`, a layer's average
/// with MoE layers a `moe_share` of the layers), once CUDA graphs replay what they capture:
/// each captured module costs one graph launch instead of its kernels; a full-iteration graph
/// leaves nothing to launch. The backward's launches scale with these (TE's graphed callables
/// capture the backward of what they capture in the forward).
fn host_launched_kernels(
    kernels: f64,
    attention_launches: f64,
    moe_share: f64,
    graphs: super::CudaGraphs,
) -> f64 {
    if graphs.full_iteration {
        return 0.0;
    }
    let mut launched = kernels;
    if graphs.attention {
        launched -= attention_launches - 1.0;
    }
    if graphs.moe_router {
        launched -= moe_share * (ROUTER_KERNELS_PER_LAYER_FORWARD - 1.0);
    }
    launched.max(0.0)
}

pub(crate) fn shape_factor(c: &ModelConstants, m: f64, n: f64, k: f64) -> f64 {
    1.0 / (1.0 + c.gemm_half_dim / m + c.gemm_half_dim / n + c.gemm_half_dim / k)
}

/// Time of a GEMM of `m x k` by `k x n` at `ceiling` FLOP/s.
fn gemm_s(c: &ModelConstants, ceiling: f64, m: f64, n: f64, k: f64) -> f64 {
    if m <= 0.0 || n <= 0.0 || k <= 0.0 {
        return 0.0;
    }
    2.0 * m * n * k / (ceiling * shape_factor(c, m, n, k))
}

/// Ring all-reduce (or all-gather + reduce-scatter) time for `bytes` over `ranks`.
fn all_reduce_s(bytes: f64, ranks: f64, bandwidth: f64, latency: f64) -> f64 {
    if ranks <= 1.0 {
        return 0.0;
    }
    2.0 * (ranks - 1.0) / ranks * bytes / bandwidth + latency
}

/// Evaluates `strategy` for `arch` on `hardware`. The caller has checked that the strategy is
/// valid (see `crate::search::validate_strategy`).
pub fn evaluate(
    arch: &Arch,
    hardware: &Hardware,
    strategy: &Strategy,
    workload: &Workload,
) -> Evaluation {
    evaluate_with(
        arch,
        hardware,
        strategy,
        workload,
        &ModelConstants::default(),
    )
}

/// The stage split of `s` (an impossible split, which `validate_strategy` refuses, falls back to
/// `ceil(layers / pp)` on every stage so that evaluation never fails).
pub(crate) fn stages_of(arch: &Arch, s: &Strategy) -> Stages {
    let layers = arch.layers as u32;
    split_layers(
        layers,
        s.pp,
        s.virtual_pp,
        s.first_stage_layers,
        s.last_stage_layers,
    )
    .unwrap_or_else(|_| {
        let per = layers.div_ceil(s.pp.max(1));
        Stages {
            pp: s.pp.max(1),
            first: per,
            middle: per,
            middle_min: per,
            last: per,
        }
    })
}

/// The architecture's parameter counts a stage's share is cut from, counted once per
/// evaluation (the memory and data-parallel terms ask for every stage's share).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ParamCounts {
    /// Parameters in the routed experts of all layers.
    routed_expert: f64,
    /// Non-expert parameters per layer (attention, dense MLPs, shared experts, routers).
    per_layer_dense: f64,
}

impl ParamCounts {
    pub(crate) fn of(arch: &Arch) -> ParamCounts {
        let routed_expert = arch.routed_expert_params();
        ParamCounts {
            routed_expert,
            per_layer_dense: (arch.total_params() - routed_expert - arch.embedding_params())
                / arch.layers,
        }
    }

    /// Parameters one accelerator holds on a stage of `layers` layers, split into those
    /// replicated across expert-parallel ranks and the routed experts: (dense, expert), per GPU.
    pub(crate) fn stage(
        &self,
        arch: &Arch,
        s: &Strategy,
        layers: f64,
        first: bool,
        last: bool,
    ) -> (f64, f64) {
        let embeddings = stage_embedding_params(arch, s, first, last) * f64::from(s.tp);
        let dense = (layers * self.per_layer_dense + embeddings) / f64::from(s.tp);
        let expert = layers * self.routed_expert
            / arch.layers
            / f64::from(s.expert_tp())
            / f64::from(s.ep.max(1));
        (dense, expert)
    }
}

/// Embedding and output-layer parameters one accelerator holds on a stage (of its
/// [`ParamCounts::stage`] dense share).
pub(crate) fn stage_embedding_params(arch: &Arch, s: &Strategy, first: bool, last: bool) -> f64 {
    let embeddings = if s.pp <= 1 {
        arch.embedding_params()
    } else {
        // Megatron keeps the input embedding on the first stage and the output layer (a copy
        // of the embedding when tied) on the last.
        f64::from(u8::from(first) + u8::from(last)) * arch.vocab * arch.hidden
    };
    embeddings / f64::from(s.tp)
}

/// Whether layout `s` fits in accelerator memory: the memory half of [`evaluate_with`] (the
/// same `feasible`, absent an unsupported precision), without timing the step. The search asks
/// it first: most layouts of a large model do not fit, and timing them is most of the work.
pub fn fits_in_memory(
    arch: &Arch,
    hw: &Hardware,
    s: &Strategy,
    w: &Workload,
    c: &ModelConstants,
) -> bool {
    let microbatches = (w.global_batch / (f64::from(s.dp) * f64::from(s.microbatch))).max(1.0);
    memory(arch, hw, s, w, microbatches, c).total_bytes <= hw.hbm_bytes
}

/// [`evaluate`] with explicit model constants (for calibration).
pub fn evaluate_with(
    arch: &Arch,
    hw: &Hardware,
    s: &Strategy,
    w: &Workload,
    c: &ModelConstants,
) -> Evaluation {
    let (tp, pp, dp, cp, ep, v) = (
        f64::from(s.tp),
        f64::from(s.pp),
        f64::from(s.dp),
        f64::from(s.cp),
        f64::from(s.ep),
        f64::from(s.virtual_pp.max(1)),
    );
    let b = f64::from(s.microbatch);
    let gpus = tp * pp * dp * cp;
    let microbatches = (w.global_batch / (dp * b)).max(1.0);
    let seq_local = w.seq_len / cp;
    let tokens = b * seq_local;
    let h = arch.hidden;
    let stages = stages_of(arch, s);

    let peak = hw.peak(w.precision);
    let memory = memory(arch, hw, s, w, microbatches, c);
    let Some(peak) = peak.filter(|p| *p > 0.0) else {
        return infeasible(memory, Infeasible::PrecisionUnsupported);
    };
    // Each component at its own recipe's ceiling (the catalog's precision schema: FP8 per
    // tensor, blockwise, MXFP8, NVFP4), with its own cast cost.
    let Some(recipes) = precision::resolve(hw, &w.components()) else {
        return infeasible(memory, Infeasible::PrecisionUnsupported);
    };
    let bf16_ceiling = hw.peak_bf16_flops * hw.matmul_efficiency;
    let attention_ceiling = bf16_ceiling * c.attention_fraction;
    // The fused kernels of the framework's cuDNN on this chip, relative to the newest
    // (where the fitted fraction stands); unfused attention is GEMMs and does not use them.
    let attention_kernels = if s.flash_attention {
        attention::kernel_speed(s.cudnn, hw.kernel_arch)
    } else {
        attention::KernelSpeed::NEWEST
    };
    let hbm = hw.hbm_bytes_per_s * c.memory_efficiency;
    let moe_share = arch.moe_layers() / arch.layers;
    // The busiest expert-parallel rank sets the pace of the expert GEMMs and the all-to-all.
    let imbalance = if ep > 1.0 && arch.is_moe() {
        w.moe.imbalance.max(1.0)
    } else {
        1.0
    };

    // --- One layer, forward, one microbatch, one accelerator ---
    let (attention_projection_s, mla_up_proj_s) = match arch.mla {
        None => {
            let qkv = gemm_s(
                c,
                recipes.attention_ceiling,
                tokens,
                (arch.heads + 2.0 * arch.kv_heads) * arch.head_dim / tp,
                h,
            );
            let out = gemm_s(
                c,
                recipes.attention_ceiling,
                tokens,
                h,
                arch.heads * arch.head_dim / tp,
            );
            (qkv + out, 0.0)
        }
        Some(m) => {
            let width = arch.attention_params() / (h * tp);
            let all = gemm_s(c, recipes.attention_ceiling, tokens, width, h);
            // The query and key/value up-projections' share of the attention matmuls.
            let up = m.q_lora_rank * arch.heads * (m.qk_nope_head_dim + m.qk_rope_head_dim)
                + m.kv_lora_rank * arch.heads * (m.qk_nope_head_dim + m.v_head_dim);
            (all, all * up / arch.attention_params())
        }
    };
    // Causal attention does half the score matrix; context parallelism balances it.
    let core_flops =
        2.0 * tokens * w.seq_len * (arch.heads / tp) * (arch.qk_head_dim() + arch.v_head_dim());
    let (core_forward_s, core_memory_forward_s) = if s.flash_attention {
        // The fused kernel's speed for the lengths it is handed (`attention`: longer kernels
        // and ring CP's unmasked blocks run nearer the ceiling) and, for cuDNN's kernels, for
        // its head width (narrow heads spend more of their time in the softmax). The published
        // width figures are cuDNN's; a framework without a cuDNN version runs another kernel
        // (FlashAttention-2 or Triton), whose width ratios on the same figure are milder
        // (width 64 over 128 at 4k causal: 284 / 319 = 0.89 and 363 / 353 = 1.03) and whose
        // choice the framework catalog does not record: unchanged there.
        let width = if s.cudnn.is_some() {
            attention::head_width_speed(
                0.5 * (arch.qk_head_dim() + arch.v_head_dim()),
                hw.kernel_arch,
            )
        } else {
            1.0
        };
        let ceiling = attention_ceiling
            * attention::length_speedup(w.seq_len, cp, attention::length_curve(hw.kernel_arch))
            * width
            * attention_kernels.forward;
        (0.5 * core_flops / ceiling, 0.0)
    } else {
        // Unfused: two batched GEMMs over the full score matrix, plus scale-mask-softmax and
        // dropout streaming the s x s scores (about five 16-bit passes).
        let gemms =
            core_flops / (bf16_ceiling * shape_factor(c, seq_local, w.seq_len, arch.head_dim));
        let scores = b * (arch.heads / tp) * seq_local * w.seq_len;
        (gemms, 5.0 * ACTIVATION_BYTES * scores / hbm)
    };

    let gate = if arch.gated_mlp { 2.0 } else { 1.0 };
    let dense_mlp_s = {
        let ceiling = recipes.dense_ceiling;
        let up = gemm_s(c, ceiling, tokens, arch.ffn_hidden * gate / tp, h);
        let down = gemm_s(c, ceiling, tokens, h, arch.ffn_hidden / tp);
        up + down
    };
    // Expert tensor parallelism (folded below TP when the EP group needs it): each rank sends
    // its 1/TP share of the tokens and an expert's GEMMs are split ETP ways, so an expert sees
    // ETP / TP of the tokens routed to it from each TP group, at width / ETP.
    let etp = f64::from(s.expert_tp());
    let (routed_mlp_s, shared_mlp_s, router_s) = if arch.is_moe() {
        let ceiling = recipes.expert_ceiling;
        let routed_tokens_per_expert = tokens * arch.top_k * ep / arch.experts * etp / tp;
        let local_experts = arch.experts / ep;
        let width_up = arch.moe_ffn_hidden * gate / etp;
        let routed = imbalance
            * local_experts
            * (gemm_s(c, ceiling, routed_tokens_per_expert, width_up, h)
                + gemm_s(
                    c,
                    ceiling,
                    routed_tokens_per_expert,
                    h,
                    arch.moe_ffn_hidden / etp,
                ));
        let shared = if arch.shared_experts > 0.0 {
            gemm_s(
                c,
                ceiling,
                tokens,
                arch.moe_ffn_hidden * gate / tp * arch.shared_experts,
                h,
            ) + gemm_s(
                c,
                ceiling,
                tokens,
                h,
                arch.moe_ffn_hidden * arch.shared_experts / tp,
            )
        } else {
            0.0
        };
        // The router's logits GEMM (16-bit) and its softmax / top-k over fp32 scores (write,
        // read and write, read: four 4-byte passes).
        let router =
            gemm_s(c, bf16_ceiling, tokens, arch.experts, h) + 16.0 * tokens * arch.experts / hbm;
        (routed, shared, router)
    } else {
        (0.0, 0.0, 0.0)
    };
    let mlp_s =
        (1.0 - moe_share) * dense_mlp_s + moe_share * (routed_mlp_s + shared_mlp_s + router_s);
    let active_ffn = (1.0 - moe_share) * arch.ffn_hidden
        + moe_share * (arch.top_k + arch.shared_experts) * arch.moe_ffn_hidden;

    let hidden_split = if s.sequence_parallel { tp } else { 1.0 };
    let activation_passes = if arch.gated_mlp { 3.0 } else { 2.0 };
    let elementwise_bytes = ACTIVATION_BYTES
        * tokens
        * (if s.fused_elementwise {
            FUSED_ELEMENTWISE_PASSES
        } else {
            c.elementwise_passes
        } * h
            / hidden_split
            + activation_passes * active_ffn / tp);
    // MoE token permutation: each token is copied once per routed expert before the dispatch
    // and the copies are gathered and summed after the combine (read and write of the hidden
    // state per copy and per token: 2 (top_k + 1) passes), on the busiest rank.
    let permute_bytes = if arch.is_moe() {
        moe_share * imbalance * ACTIVATION_BYTES * tokens * h * 2.0 * (arch.top_k + 1.0)
    } else {
        0.0
    };
    // 8- and 4-bit matmuls quantise each GEMM input first, at the recipe's bytes per element
    // (`Recipe::cast_bytes_per_element`): the QKV and MLP inputs (full width after the
    // sequence-parallel gather) and the projection and down-projection inputs (split across
    // TP); the experts quantise every routed copy of a token after the permutation (Transformer
    // Engine's `GroupedLinear` splits and quantises the permuted input per expert), so their
    // inputs count once per copy. The backward pass casts the output gradients the same way,
    // which the 2x backward factor below covers.
    // A dispatcher that quantises before sending casts each token once (and the shared
    // expert's input with it).
    let expert_input_casts = if w.moe.dispatcher.quantises_before_dispatch() {
        1.0
    } else {
        arch.top_k + arch.shared_experts
    };
    let cast_bytes = tokens
        * (recipes.attention_cast * (h + arch.heads * arch.v_head_dim() / tp)
            + recipes.dense_cast * (1.0 - moe_share) * (h + arch.ffn_hidden / tp)
            + recipes.expert_cast
                * moe_share
                * (expert_input_casts * h
                    + (arch.top_k + arch.shared_experts) * arch.moe_ffn_hidden / tp));
    // Expert output biases (GPT-OSS): Megatron-Core's grouped MLP adds each expert's down-
    // projection bias, weighted by the token's routing probability, after the GEMM and in fp32,
    // one expert at a time (`TEGroupedMLP._apply_bias`, megatron/core/transformer/moe/
    // experts.py @core_v0.17.0: split, `t + b * p`, `torch.cat`, cast back). Bytes per routed
    // element: forward, the product written in fp32 (4), the sum reading the 16-bit output and
    // the product and writing fp32 (2 + 4 + 4), the concatenation (4 + 4), the cast (4 + 2):
    // 28; backward, the gradient cast up and down (6 + 6) and reduced against the
    // probabilities and the biases (4 + 4): 20. These element-wise bytes count once forward
    // and twice backward (the 2x below), so 48 / 3 = 16 bytes per element are charged here.
    let expert_bias_bytes = if arch.is_moe() && arch.expert_bias {
        moe_share * imbalance * tokens * arch.top_k * etp / tp * h * EXPERT_BIAS_BYTES_PER_ELEMENT
    } else {
        0.0
    };
    // Megatron-Core's unfused RoPE (YaRN models, `Arch::unfused_rope`) on every query head and
    // every key head of the rank (MLA rotates its queries and one shared rope key).
    let (rope_bytes, rope_kernels) = if arch.unfused_rope() {
        let (rotated_heads, width) = match arch.mla {
            Some(m) => (arch.heads / tp + 1.0, m.qk_rope_head_dim),
            None => (
                arch.heads / tp + (arch.kv_heads / tp).max(1.0),
                arch.head_dim,
            ),
        };
        (
            tokens * rotated_heads * width * UNFUSED_ROPE_BYTES_PER_ELEMENT,
            2.0 * UNFUSED_ROPE_KERNELS_PER_TENSOR,
        )
    } else {
        (0.0, 0.0)
    };
    let elementwise_bytes =
        elementwise_bytes + cast_bytes + permute_bytes + expert_bias_bytes + rope_bytes;
    let local_experts = if arch.is_moe() {
        (arch.experts / ep.max(1.0)).max(1.0)
    } else {
        0.0
    };
    // 8- and 4-bit experts quantise each expert's share of the permuted input before its GEMM
    // (the `GroupedLinear` split above): a quantise launch per expert GEMM.
    let expert_quantise_launches = if recipes.expert_cast > 0.0 { 2.0 } else { 1.0 };
    // The bias loop launches a product and a sum per local expert, then the concatenation and
    // the cast.
    let expert_bias_launches = if arch.is_moe() && arch.expert_bias {
        2.0 * local_experts + 2.0
    } else {
        0.0
    };
    let attention_launches = ATTENTION_KERNELS_PER_LAYER_FORWARD + rope_kernels;
    let kernels = KERNELS_PER_LAYER_FORWARD
        + rope_kernels
        + moe_share
            * (MOE_KERNELS_PER_LAYER_FORWARD
                + EXPERT_GEMM_LAUNCHES_PER_LOCAL_EXPERT * expert_quantise_launches * local_experts
                + expert_bias_launches);
    let elementwise_s = elementwise_bytes / hbm + kernels * c.kernel_overhead_s;

    let layer_forward_s =
        attention_projection_s + core_forward_s + core_memory_forward_s + mlp_s + elementwise_s;
    // Backward: twice the matmul work; flash attention's backward recomputes the scores (2.5x
    // the forward's FLOPs, at the backward kernel's own speed for its cuDNN).
    let core_backward_s = if s.flash_attention {
        2.5 * core_forward_s * attention_kernels.forward / attention_kernels.backward
    } else {
        2.0 * core_forward_s + 2.0 * core_memory_forward_s
    };
    let layer_backward_s = 2.0 * (attention_projection_s + mlp_s + elementwise_s) + core_backward_s;

    // Host stalls on MoE layers: Megatron's token dispatchers copy the tokens-per-expert
    // counts to the host (a device-to-host copy and stream synchronisation) before the
    // all-to-all and the grouped GEMM can be sized, so the CPU cannot run ahead of the GPU past
    // an MoE layer: each MoE layer takes the longer of its GPU time and the host time to launch
    // its kernels (the backward launches twice as many: data and weight gradients).
    let (moe_host_stall_forward_s, moe_host_stall_backward_s) = if arch.is_moe() {
        let host_forward_s =
            host_launched_kernels(kernels, attention_launches, moe_share, w.moe.cuda_graphs)
                * HOST_S_PER_OP;
        (
            moe_share * (host_forward_s - layer_forward_s).max(0.0),
            moe_share * (2.0 * host_forward_s - layer_backward_s).max(0.0),
        )
    } else {
        (0.0, 0.0)
    };
    let layer_forward_s = layer_forward_s + moe_host_stall_forward_s;
    let layer_backward_s = layer_backward_s + moe_host_stall_backward_s;

    // Recomputation: the named modules' forward again, or whole layers.
    let modules = s.selective_modules();
    let has = |m: RecomputeModules| modules.contains(m);
    let full_fraction = full_recompute_fraction(s, &stages);
    let layer_recompute_s = match s.recompute {
        Recompute::None => 0.0,
        Recompute::Selective => {
            let mut t = 0.0;
            if has(RecomputeModules::CORE_ATTN) {
                t += core_forward_s + core_memory_forward_s;
            }
            if has(RecomputeModules::LAYERNORM) {
                // Two norms, each reading and writing the hidden state.
                t += 4.0 * ACTIVATION_BYTES * tokens * h / hidden_split / hbm;
            }
            if has(RecomputeModules::MLP) {
                t += (1.0 - moe_share)
                    * (dense_mlp_s
                        + ACTIVATION_BYTES * tokens * activation_passes * arch.ffn_hidden
                            / tp
                            / hbm);
            }
            if has(RecomputeModules::MOE) {
                t += moe_share * (routed_mlp_s + shared_mlp_s);
            } else {
                if has(RecomputeModules::MOE_ACT) {
                    t += moe_share
                        * ACTIVATION_BYTES
                        * tokens
                        * arch.top_k
                        * arch.moe_ffn_hidden
                        * activation_passes
                        / tp
                        / hbm;
                }
                if has(RecomputeModules::SHARED_EXPERTS) {
                    t += moe_share * shared_mlp_s;
                }
            }
            if has(RecomputeModules::MLA_UP_PROJ) {
                t += mla_up_proj_s;
            }
            t
        }
        Recompute::Full => full_fraction * layer_forward_s,
    };

    // Collectives inside a layer.
    let link = |group: f64| -> (f64, f64) {
        if group <= hw.scale_up_domain {
            (
                hw.scale_up_bytes_per_s * c.link_efficiency,
                c.scale_up_latency_s,
            )
        } else {
            (
                hw.scale_out_bytes_per_s * c.link_efficiency,
                c.scale_out_latency_s,
            )
        }
    };
    let (tp_bw, tp_lat) = link(tp);
    let tp_collective_s = all_reduce_s(ACTIVATION_BYTES * tokens * h, tp, tp_bw, tp_lat);
    // Two collectives forward, two backward; recomputed layers and MLPs gather again.
    let tp_collectives = 4.0
        + match s.recompute {
            Recompute::Full => 2.0 * full_fraction,
            Recompute::Selective => {
                f64::from(u8::from(has(RecomputeModules::MLP))) * (1.0 - moe_share)
                    + f64::from(u8::from(has(RecomputeModules::MOE))) * moe_share
            }
            Recompute::None => 0.0,
        };
    let tp_all = tp_collectives * tp_collective_s;
    let layer_tp = if s.tp_comm_overlap {
        // Userbuffers / async TP run each collective in chunks under the GEMM it feeds.
        overlap(tp_all, 3.0 * (attention_projection_s + mlp_s), 0.0)
    } else {
        Overlapped::exposed(tp_all)
    };

    let layer_cp = if cp > 1.0 {
        let (bw, lat) = link(tp * cp);
        let kv_bytes =
            ACTIVATION_BYTES * tokens * 2.0 * (arch.kv_heads / tp).max(1.0) * arch.qk_head_dim();
        let exchange = (cp - 1.0) * (kv_bytes / bw + lat);
        // Ring attention overlaps each exchange with the attention block it feeds, forward and
        // backward; a short local sequence leaves it exposed.
        overlap(exchange, core_forward_s, 0.0).and(overlap(2.0 * exchange, core_backward_s, 0.0))
    } else {
        Overlapped::default()
    };
    let layer_ep = if ep > 1.0 && arch.is_moe() {
        expert_parallel::all_to_all(
            hw,
            s,
            w,
            c,
            &expert_parallel::MoeLayer {
                top_k: arch.top_k,
                hidden: h,
                tokens,
                tp,
                ep,
                etp,
                moe_share,
                imbalance,
                microbatches,
                forward_s: layer_forward_s,
                backward_s: layer_backward_s,
            },
        )
    } else {
        Overlapped::default()
    };
    let layer_tp_s = layer_tp.exposed_s;
    let layer_cp_s = layer_cp.exposed_s;
    let layer_ep_s = layer_ep.exposed_s;
    let layer_hidden_s = layer_tp.hidden_s + layer_cp.hidden_s + layer_ep.hidden_s;
    // Collectives (TP, EP) reduce and copy through HBM at link speed beside the kernels they
    // hide under (the fitted share); the CP ring is a point-to-point copy under compute-bound
    // attention and costs only the SMs it occupies (DeepSeek-V3's share, at most the fitted).
    let layer_slowdown_s = c.overlap_compute_share * (layer_tp.hidden_s + layer_ep.hidden_s)
        + super::overlap::OVERLAP_COMPUTE_SHARE.min(c.overlap_compute_share) * layer_cp.hidden_s;

    // Output layer and loss on the last stage: the output layer stays 16-bit in every recipe
    // (Megatron's output layer is not a Transformer Engine linear).
    let logits_forward_s = gemm_s(c, bf16_ceiling, tokens, arch.vocab / tp, h)
        + 3.0 * 4.0 * tokens * arch.vocab / tp / hbm;
    let logits_s = 3.0 * logits_forward_s;

    // The heaviest stage sets the pace: the last carries the output layer and loss.
    let layer_s = layer_forward_s + layer_backward_s + layer_recompute_s + layer_slowdown_s;
    let layer_comm_s = layer_tp_s + layer_cp_s + layer_ep_s;
    let stage_s = |layers: f64, extra: f64| layers * (layer_s + layer_comm_s) + extra;
    let (first, middle, last) = (
        f64::from(stages.first),
        f64::from(stages.middle),
        f64::from(stages.last),
    );
    // Multi-token-prediction modules ride on the last stage: a layer each, a 2h -> h projection
    // and another pass of the output head (forward and backward).
    let mtp_s =
        arch.mtp_layers * (logits_s + 3.0 * gemm_s(c, recipes.dense_ceiling, tokens, h, 2.0 * h));
    let mut heaviest = (last + arch.mtp_layers, logits_s + mtp_s);
    if s.pp > 1 {
        for candidate in [(first, 0.0), (middle, 0.0)] {
            if stage_s(candidate.0, candidate.1) > stage_s(heaviest.0, heaviest.1) {
                heaviest = candidate;
            }
        }
    }
    let (layers_per_stage, stage_extra_s) = heaviest;
    let stage_compute_s = layers_per_stage * layer_s + stage_extra_s;
    let stage_recompute_s = layers_per_stage * layer_recompute_s;
    let stage_comm_s = layers_per_stage * layer_comm_s;
    let microbatch_s = stage_compute_s + stage_comm_s;

    let bubble_s = (pp - 1.0) / v * microbatch_s;
    // Megatron orders ranks TP, CP, DP, PP from the fastest-varying: pipeline neighbours are
    // TP x CP x DP ranks apart, so the hops stay inside the scale-up domain only when the
    // whole job does.
    let pp_comm_s =
        pipeline::exchange_s(s, link(gpus), ACTIVATION_BYTES * tokens * h, microbatches);

    let data_parallel = data_parallel::traffic(
        arch,
        hw,
        s,
        w,
        c,
        &data_parallel::StageWork {
            first,
            middle,
            last,
            layers: layers_per_stage,
            forward_s: layers_per_stage * layer_forward_s,
            backward_s: layers_per_stage * layer_backward_s,
            compute_s: stage_compute_s,
            microbatches,
        },
        hbm,
    );
    let dp_comm = data_parallel.comm;
    let optimizer_s = data_parallel.optimizer_s;
    let dp_comm_s = dp_comm.exposed_s;
    let dp_slowdown_s = c.overlap_compute_share * dp_comm.hidden_s;

    let breakdown = Breakdown {
        compute_s: microbatches * stage_compute_s + dp_slowdown_s,
        recompute_s: microbatches * stage_recompute_s,
        tp_comm_s: microbatches * layers_per_stage * layer_tp_s,
        cp_comm_s: microbatches * layers_per_stage * layer_cp_s,
        ep_comm_s: microbatches * layers_per_stage * layer_ep_s,
        pp_comm_s,
        dp_comm_s,
        bubble_s,
        optimizer_s,
        overlap_slowdown_s: microbatches * layers_per_stage * layer_slowdown_s + dp_slowdown_s,
        hidden_comm_s: microbatches * layers_per_stage * layer_hidden_s + dp_comm.hidden_s,
    };
    let step_time_s = breakdown.compute_s
        + breakdown.tp_comm_s
        + breakdown.cp_comm_s
        + breakdown.ep_comm_s
        + pp_comm_s
        + dp_comm_s
        + bubble_s
        + optimizer_s;
    let tokens_per_step = w.global_batch * w.seq_len;
    // Causal attention: the half of the score matrix the kernels compute (as timed above).
    let model_flops_per_step = arch.model_flops_per_token_causal(w.seq_len) * tokens_per_step;
    let hardware_flops_per_step =
        model_flops_per_step + recompute_flops_per_token(arch, s, w, &stages) * tokens_per_step;
    let feasible = memory.total_bytes <= hw.hbm_bytes;
    Evaluation {
        step_time_s,
        tokens_per_s: tokens_per_step / step_time_s,
        model_flops_per_step,
        hardware_flops_per_step,
        tflops_per_gpu: model_flops_per_step / step_time_s / gpus / 1e12,
        mfu: model_flops_per_step / step_time_s / gpus / peak,
        hfu: hardware_flops_per_step / step_time_s / gpus / peak,
        breakdown,
        memory,
        feasible,
        infeasible: (!feasible).then_some(Infeasible::OutOfMemory),
    }
}

/// With full recompute, the fraction of each pipeline chunk's layers recomputed
/// (`recompute_layers` of them, Megatron's block method; all when 0).
pub(crate) fn full_recompute_fraction(s: &Strategy, stages: &Stages) -> f64 {
    if s.recompute != Recompute::Full {
        return 0.0;
    }
    if s.recompute_layers == 0 {
        return 1.0;
    }
    let chunk_layers = f64::from(stages.max_layers()) / f64::from(s.virtual_pp.max(1));
    (f64::from(s.recompute_layers) / chunk_layers).min(1.0)
}

/// Matmul FLOPs recomputed per token, whole model.
fn recompute_flops_per_token(arch: &Arch, s: &Strategy, w: &Workload, stages: &Stages) -> f64 {
    match s.recompute {
        Recompute::None => 0.0,
        Recompute::Full => {
            full_recompute_fraction(s, stages) * arch.model_flops_per_token_causal(w.seq_len) / 3.0
        }
        Recompute::Selective => {
            let m = s.selective_modules();
            let mut flops = 0.0;
            if m.contains(RecomputeModules::CORE_ATTN) {
                flops += 0.5 * arch.layers * arch.attention_core_flops_per_token(w.seq_len);
            }
            let dense_layers = arch.layers - arch.moe_layers();
            if m.contains(RecomputeModules::MLP) {
                flops += 2.0 * dense_layers * arch.dense_mlp_params();
            }
            if m.contains(RecomputeModules::MOE) {
                flops += 2.0
                    * arch.moe_layers()
                    * (arch.top_k + arch.shared_experts)
                    * arch.expert_params();
            } else if m.contains(RecomputeModules::SHARED_EXPERTS) {
                flops += 2.0 * arch.moe_layers() * arch.shared_experts * arch.expert_params();
            }
            if let (Some(mla), true) = (arch.mla, m.contains(RecomputeModules::MLA_UP_PROJ)) {
                let up =
                    mla.q_lora_rank * arch.heads * (mla.qk_nope_head_dim + mla.qk_rope_head_dim)
                        + mla.kv_lora_rank * arch.heads * (mla.qk_nope_head_dim + mla.v_head_dim);
                flops += 2.0 * arch.layers * up;
            }
            flops
        }
    }
}
