//! One transformer layer's compute for one microbatch on one accelerator, forward and
//! backward: the attention projections and core, the dense or expert MLP and router, the
//! element-wise passes and casts, kernel launches and the MoE layers' host stalls, and what
//! recomputation replays of it. The step (`super`) adds the layer's collectives, the
//! pipeline, data parallelism and the optimizer around it.

use super::{gemm_s, shape_factor, ACTIVATION_BYTES};
use super::{Hardware, ModelConstants, Strategy, Workload};
use crate::arch::Arch;
use crate::train::attention::{self, KernelSpeed};
use crate::train::precision::Resolved;
use crate::train::userbuffers;

use super::expert_bias;
use super::host;

mod recompute;

/// Kernels launched per layer, forward (norms, projections, attention, activation, residuals).
pub(super) const KERNELS_PER_LAYER_FORWARD: f64 = 14.0;
/// Of [`KERNELS_PER_LAYER_FORWARD`], the attention block's: input norm, QKV projection,
/// rotary embedding, core attention, output projection, bias-dropout-add and residual (the
/// other half is the MLP block's). These are what a per-layer `attn` CUDA graph captures.
pub(super) const ATTENTION_KERNELS_PER_LAYER_FORWARD: f64 = 7.0;
/// Extra kernels per MoE layer forward besides the expert GEMMs: router GEMM, softmax, top-k,
/// permute, dispatch, activation, combine, unpermute.
pub(super) const MOE_KERNELS_PER_LAYER_FORWARD: f64 = 8.0;
/// Of [`MOE_KERNELS_PER_LAYER_FORWARD`], the router's (GEMM, softmax, top-k): what a per-layer
/// `moe_router` CUDA graph captures.
pub(super) const ROUTER_KERNELS_PER_LAYER_FORWARD: f64 = 3.0;
/// Of [`MOE_KERNELS_PER_LAYER_FORWARD`], besides the router's, the ones before the dispatcher's
/// host sync: the first permutation.
pub(super) const PRE_SYNC_MOE_KERNELS: f64 = 1.0;
/// Kernels of an MoE layer that follow the expert activation's blocking copy besides the down
/// projections, the bias loop and the restore: the activation, the combine, the unpermute
/// (of [`MOE_KERNELS_PER_LAYER_FORWARD`]) and the MLP half's closing three (of its six in
/// [`KERNELS_PER_LAYER_FORWARD`]).
const SECOND_SYNC_CLOSING_KERNELS: f64 = 6.0;
/// Expert GEMM launches per local expert, forward (the up- or gate-up projection and the
/// down projection). Transformer Engine's `GroupedLinear` hands `general_grouped_gemm` one
/// tensor per expert and it runs one cuBLAS GEMM each (`num_gemms = len(A)`;
/// transformer_engine/pytorch/cpp_extensions/gemm.py), so launches grow with the experts a rank
/// holds; the backward's data and weight gradients double them (the 2x backward factor).
const EXPERT_GEMM_LAUNCHES_PER_LOCAL_EXPERT: f64 = 2.0;
/// Hidden-state passes per layer forward with fused kernels, counted: two fused layer norms
/// (read, write: 4) and two fused bias-dropout-adds (read input and residual, write output,
/// write a 1-byte mask: 3.5 each, 7).
pub const FUSED_ELEMENTWISE_PASSES: f64 = 11.0;
/// Hidden-state passes per layer, in forward-pass units (the step charges the backward twice
/// the forward), of a framework without fused element-wise kernels, counted on the one such
/// framework in the calibration files: MosaicML's MPT benchmarks (mosaicml/examples v0.0.4,
/// `examples/llm/src/models/layers/gpt_blocks.py`; PyTorch 1.13.1 eager, Composer 0.13.4, whose
/// `PURE` and `DEFAULT` FSDP modes both compute in bf16 parameters, so the residual stream is
/// bf16 and the LayerNorms' casts are no-ops). Forward, 10: two LayerNorms (read, write: 4) and
/// two residual adds (read both, write: 6); the linears' biases ride the cuBLASLt epilogue,
/// `resid_pdrop = 0` makes dropout an identity, and the attention's q, k, v are views. Backward,
/// 30: two LayerNorm backwards (the input gradient reads the output gradient and the input and
/// writes, then the weight gradients read both again: 10), the two residual branch points'
/// gradient sums (read two, write: 6), the QKV split's backward concatenating the three
/// gradients (read and write three widths: 6), and the bias gradients of the QKV and output
/// projections and the down projection (a read of 3 + 1 + 1 widths: 5), and, not here, the up
/// projection's 4h-wide bias gradient, which the activation's passes carry. (10 + 30) / 3.
/// Fitted on a grid until 2026-12-05, where only MosaicML's rows could choose it (14, the
/// grid's least point): counting it leaves no constant that a single family decides.
pub const UNFUSED_ELEMENTWISE_PASSES: f64 = 40.0 / 3.0;
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
/// Bytes per element of the experts' FC1 output (both halves of the gated activation's input)
/// charged once per layer forward for the clamp Megatron-Core applies before its fused
/// weighted GLU when the model clamps (`Arch::glu_clamp`; `weighted_bias_quick_geglu_impl`,
/// megatron/core/fusions/fused_bias_geglu.py, the same at the 25.11 pin 0d8e0714 and the
/// 26.04 pin 3097d81: `input.chunk(2, -1)`, `clamp` on each half, `torch.cat`), 16-bit.
/// Forward, per element: the clamps read and write it (4), the concatenation reads and
/// writes it again (4): 8. Backward, autograd's clamp gradient reads the incoming gradient and
/// the saved input and writes the masked gradient (6), and the chunk's gradient concatenates
/// the two halves (4): 10. Element-wise bytes count once forward and twice backward (the 2x
/// below), so 18 / 3 = 6 are charged here.
const CLAMPED_GLU_BYTES_PER_ELEMENT: f64 = 6.0;
/// The clamp's forward bytes per element alone (what `moe_act` recompute replays): 8.
const CLAMPED_GLU_FORWARD_BYTES_PER_ELEMENT: f64 = 8.0;
/// Kernels of the clamp, forward: the two clamps and the concatenation.
const CLAMPED_GLU_KERNELS: f64 = 3.0;
/// Bytes per query or key element charged once per layer forward for the QK-norm
/// (`Arch::qk_norm`: Transformer Engine's fused RMSNorm on the queries and on the keys,
/// Megatron-Core `q_layernorm` / `k_layernorm`), 16-bit: forward reads the element and writes
/// it (4), backward reads the gradient and the saved input and writes the input's gradient
/// (6): 10, charged as 10 / 3 under the once-forward, twice-backward element-wise convention.
const QK_NORM_BYTES_PER_ELEMENT: f64 = 10.0 / 3.0;
/// Kernels of the QK-norm, forward: one norm on the queries, one on the keys.
const QK_NORM_KERNELS: f64 = 2.0;
/// A copy's backward is a copy of the same bytes the other way, so forward and backward move
/// twice the forward's bytes; under the element-wise convention (once forward, twice backward)
/// that is 2 / 3 of the forward's bytes charged per forward.
const COPY_BACKWARD_SHARE: f64 = 2.0 / 3.0;
/// Bytes per routed element charged once per layer forward for the all-to-all dispatcher's
/// sort by local expert (Megatron-Core `MoEAlltoAllTokenDispatcher`: `dispatch_postprocess`
/// sorts the received tokens by local expert and `combine_preprocess` restores the order, each
/// a `sort_chunks_by_idxs` copy of every routed token whenever a rank holds more than one
/// expert, megatron/core/transformer/moe/token_dispatcher.py at the 26.04 pin 3097d81; with
/// `moe_permute_fusion` each is one fused copy). 16-bit: forward, two copies reading and
/// writing each element (8); backward, the two copies of the gradient (8): 16, charged as
/// 16 / 3 under the once-forward, twice-backward element-wise convention.
const SORT_BY_LOCAL_EXPERT_BYTES_PER_ELEMENT: f64 = 16.0 / 3.0;
/// Kernels of the sort by local expert, forward: the sort and the restore.
const SORT_BY_LOCAL_EXPERT_KERNELS: f64 = 2.0;

/// Whether an MoE layer's dispatcher re-sorts the received tokens by local expert: a plain
/// all-to-all delivers them grouped by source rank, so a rank with more than one local expert
/// reorders them into one contiguous batch per expert (and back); the hierarchical dispatchers
/// (DeepEP, HybridEP) deliver them grouped by expert already.
fn sorts_by_local_expert(arch: &Arch, w: &Workload, local_experts: f64) -> bool {
    arch.is_moe() && !w.moe.dispatcher.per_node() && local_experts > 1.0
}

/// Elements of the experts' FC1 output on one rank for `tokens` tokens of an MoE layer: every
/// routed copy's gated input, both halves (the rows `tokens x top_k x etp / tp`, each
/// `2 x moe_ffn_hidden / etp` wide).
fn clamped_glu_elements(arch: &Arch, tokens: f64, tp: f64) -> f64 {
    tokens * arch.top_k * 2.0 * arch.moe_ffn_hidden / tp
}

/// What a layer's cost depends on beyond the model and the layout: the microbatch's tokens on
/// this accelerator and the ceilings the step resolved for the chip and recipe.
#[derive(Clone, Copy)]
pub(super) struct LayerInputs<'a> {
    pub arch: &'a Arch,
    pub hw: &'a Hardware,
    pub s: &'a Strategy,
    pub w: &'a Workload,
    pub c: &'a ModelConstants,
    pub recipes: &'a Resolved,
    /// Samples per microbatch.
    pub b: f64,
    /// Tokens of one microbatch on this accelerator's context-parallel share.
    pub tokens: f64,
    /// The sequence's tokens on this context-parallel rank.
    pub seq_local: f64,
    pub tp: f64,
    pub cp: f64,
    pub ep: f64,
    /// The dense BF16 matmul ceiling, FLOP/s.
    pub bf16_ceiling: f64,
    /// The fused attention kernel's ceiling at the reference length, FLOP/s.
    pub attention_ceiling: f64,
    /// The framework's cuDNN kernels relative to the newest.
    pub attention_kernels: KernelSpeed,
    /// Achievable HBM bandwidth, bytes/s.
    pub hbm: f64,
    /// MoE layers' share of the layers.
    pub moe_share: f64,
    /// The busiest expert-parallel rank's load over the mean (1 without EP).
    pub imbalance: f64,
    /// An MoE layer's forward dispatch and combine where they run in line (0 without EP),
    /// seconds; `None` where the schedule runs them under another microbatch's compute
    /// (Megatron's combined 1F1B), whose kernels then follow the dispatcher's sync too.
    pub a2a_forward_s: Option<f64>,
}

/// One layer's times, seconds, averaged over dense and MoE layers by their shares.
#[derive(Clone, Copy)]
pub(super) struct Layer {
    pub attention_projection_s: f64,
    /// MLA's query and key/value up-projections (a part of `attention_projection_s`).
    pub mla_up_proj_s: f64,
    pub core_forward_s: f64,
    /// Unfused attention's passes over the score matrix, forward.
    pub core_memory_forward_s: f64,
    pub core_backward_s: f64,
    pub dense_mlp_s: f64,
    pub routed_mlp_s: f64,
    pub shared_mlp_s: f64,
    /// The MLP (dense, or routed and shared experts with the router), forward.
    pub mlp_s: f64,
    /// The hidden state's split between element-wise kernels (TP with sequence parallelism).
    pub hidden_split: f64,
    /// Element-wise passes of the MLP activation over its input (gated: 3).
    pub activation_passes: f64,
    /// What hiding the TP collectives under Transformer Engine's userbuffers adds to the GEMMs,
    /// forward and backward (`userbuffers`; not in `forward_s` and `backward_s`: the step
    /// adds it where the overlap pays).
    pub userbuffers_forward_s: f64,
    pub userbuffers_backward_s: f64,
    /// Element-wise (memory-bound) kernels, forward: norms, activations, casts, token
    /// permutations and the kernels' launch overhead (the backward runs them twice).
    pub elementwise_s: f64,
    /// MoE host stalls, forward and backward: where the CPU launching the layer's kernels is
    /// slower than the GPU running them (`host::moe_stalls`).
    pub host_stall_s: f64,
    /// An MoE layer's forward besides its expert GEMMs and all-to-all, per MoE layer: the
    /// router, the block's element-wise passes and its launches (what recomputing the whole
    /// MoE layer runs again).
    pub moe_elementwise_forward_s: f64,
    /// The whole layer, forward and backward, MoE host stalls included.
    pub forward_s: f64,
    pub backward_s: f64,
}

/// One layer's forward and backward times for one microbatch.
pub(super) fn layer(cx: LayerInputs<'_>) -> Layer {
    let LayerInputs {
        arch,
        hw,
        s,
        w,
        c,
        recipes,
        b,
        tokens,
        seq_local,
        tp,
        cp,
        ep,
        bf16_ceiling,
        attention_ceiling,
        attention_kernels,
        hbm,
        moe_share,
        imbalance,
        a2a_forward_s,
    } = cx;
    let h = arch.hidden;
    let (attention_projection_s, mla_up_proj_s) = match arch.mla {
        None => {
            let qkv = gemm_s(
                c,
                recipes.attention_ceiling,
                tokens,
                arch.qkv_width() / tp,
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
    let (core_forward_s, core_memory_forward_s, core_backward_s) = if s.flash_attention {
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
        let curve = attention::length_curve(hw.kernel_arch);
        let rate = attention_ceiling * width;
        let full_s = 0.5 * core_flops
            / (rate * attention_kernels.forward * attention::length_speedup(w.seq_len, cp, curve));
        // Backward: flash attention recomputes the scores (2.5x the forward's FLOPs), at the
        // backward kernel's own speed for its cuDNN.
        let backward = |forward_s: f64, kernels: KernelSpeed| {
            2.5 * forward_s * kernels.forward / kernels.backward
        };
        // Sliding-window layers (GPT-OSS: every other layer, a 128-token band) run the band's
        // FLOPs at the banded kernel's rate (its own on Blackwell Ultra), never slower than
        // full causal attention would.
        let banded = arch.banded_layer_share(w.seq_len);
        if banded > 0.0 {
            let band_flops = core_flops
                * crate::arch::banded_keys_per_query(arch.sliding_window, w.seq_len)
                / w.seq_len;
            let band_kernels = attention::band_kernel_speed(s.cudnn, hw.kernel_arch);
            let band_s = band_flops
                / (rate
                    * band_kernels.forward
                    * attention::sliding_window_speedup(arch.sliding_window, curve));
            let (band_forward_s, band_backward_s) = if band_s < full_s {
                (band_s, backward(band_s, band_kernels))
            } else {
                (full_s, backward(full_s, attention_kernels))
            };
            (
                (1.0 - banded) * full_s + banded * band_forward_s,
                0.0,
                (1.0 - banded) * backward(full_s, attention_kernels) + banded * band_backward_s,
            )
        } else {
            (full_s, 0.0, backward(full_s, attention_kernels))
        }
    } else {
        // Unfused: two batched GEMMs over the full score matrix, plus scale-mask-softmax and
        // dropout streaming the s x s scores (about five 16-bit passes).
        let gemms =
            core_flops / (bf16_ceiling * shape_factor(c, seq_local, w.seq_len, arch.head_dim));
        let scores = b * (arch.heads / tp) * seq_local * w.seq_len;
        let memory_s = 5.0 * ACTIVATION_BYTES * scores / hbm;
        // Backward: twice the matmul work and the passes again.
        (gemms, memory_s, 2.0 * gemms + 2.0 * memory_s)
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
    let (routed_mlp_s, routed_down_s, shared_mlp_s, router_s) = if arch.is_moe() {
        let ceiling = recipes.expert_ceiling;
        let routed_tokens_per_expert = tokens * arch.top_k * ep / arch.experts * etp / tp;
        let local_experts = arch.experts / ep;
        let width_up = arch.moe_ffn_hidden * gate / etp;
        let routed_up =
            imbalance * local_experts * gemm_s(c, ceiling, routed_tokens_per_expert, width_up, h);
        let routed_down = imbalance
            * local_experts
            * gemm_s(
                c,
                ceiling,
                routed_tokens_per_expert,
                h,
                arch.moe_ffn_hidden / etp,
            );
        let routed = routed_up + routed_down;
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
        (routed, routed_down, shared, router)
    } else {
        (0.0, 0.0, 0.0, 0.0)
    };
    let mlp_s =
        (1.0 - moe_share) * dense_mlp_s + moe_share * (routed_mlp_s + shared_mlp_s + router_s);
    // Hiding the TP collectives under these GEMMs splits them into chunks and takes SMs from
    // them (Transformer Engine's userbuffers): the attention's QKV and projection and the dense
    // MLP's two GEMMs, forward and backward. The MoE host stall below is left as it was
    // without the overlap.
    let (userbuffers_forward_s, userbuffers_backward_s) = if userbuffers::applies(s, arch) {
        let sms = hw.streaming_multiprocessors;
        let linear = |linear, ceiling, n, k| {
            userbuffers::linear_extra_s(linear, tokens, tp, sms, |rows| {
                gemm_s(c, ceiling, rows, n, k)
            })
        };
        let heads_width = arch.heads * arch.head_dim / tp;
        let overlaps = s.userbuffers.layer;
        let qkv = linear(
            overlaps.qkv,
            recipes.attention_ceiling,
            arch.qkv_width() / tp,
            h,
        );
        let projection = linear(
            overlaps.projection,
            recipes.attention_ceiling,
            h,
            heads_width,
        );
        let up = linear(
            overlaps.fc1,
            recipes.dense_ceiling,
            arch.ffn_hidden * gate / tp,
            h,
        );
        let down = linear(overlaps.fc2, recipes.dense_ceiling, h, arch.ffn_hidden / tp);
        let dense = 1.0 - moe_share;
        (
            qkv.0 + projection.0 + dense * (up.0 + down.0),
            qkv.1 + projection.1 + dense * (up.1 + down.1),
        )
    } else {
        (0.0, 0.0)
    };
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
    // state per copy and per token: 2 (top_k + 1) passes), on the busiest rank. The backward
    // moves the same bytes the other way (the gradient is gathered where the tokens were
    // copied and copied where they were gathered), so the pair costs twice the forward, charged
    // as 2 / 3 of it under the once-forward, twice-backward element-wise convention.
    let permute_bytes = if arch.is_moe() {
        moe_share
            * imbalance
            * ACTIVATION_BYTES
            * tokens
            * h
            * 2.0
            * (arch.top_k + 1.0)
            * COPY_BACKWARD_SHARE
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
    // Expert output biases (GPT-OSS): Megatron-Core's unfused loop over the local experts
    // (`expert_bias`), on every routed copy of the down projection's output on the busiest rank.
    let local_experts = if arch.is_moe() {
        (arch.experts / ep.max(1.0)).max(1.0)
    } else {
        0.0
    };
    let expert_bias = (arch.is_moe() && arch.expert_bias).then(|| {
        expert_bias::expert_bias_cost(
            expert_bias::probability_bytes(w.moe.dispatcher),
            local_experts,
        )
    });
    let expert_bias_bytes = expert_bias.map_or(0.0, |cost| {
        moe_share * imbalance * tokens * arch.top_k * etp / tp * h * cost.bytes_per_element
    });
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
    // The experts' clamped gated activation (GPT-OSS, `Arch::glu_clamp`): unfused passes over
    // every routed copy's FC1 output (both halves) on the busiest rank.
    let (clamp_bytes, clamp_kernels) = if arch.clamps_experts_glu() {
        (
            moe_share
                * imbalance
                * clamped_glu_elements(arch, tokens, tp)
                * CLAMPED_GLU_BYTES_PER_ELEMENT,
            moe_share * CLAMPED_GLU_KERNELS,
        )
    } else {
        (0.0, 0.0)
    };
    // Query and key norms (Qwen3, `Arch::qk_norm`) on every query head and key head of the
    // rank.
    let (qk_norm_bytes, qk_norm_kernels) = if arch.normalises_queries_and_keys() {
        (
            tokens
                * (arch.heads / tp + (arch.kv_heads / tp).max(1.0))
                * arch.head_dim
                * QK_NORM_BYTES_PER_ELEMENT,
            QK_NORM_KERNELS,
        )
    } else {
        (0.0, 0.0)
    };
    // A plain all-to-all hands each rank its tokens grouped by source rank; with more than one
    // local expert they are re-sorted by expert before the GEMMs and back before the combine
    // (`sorts_by_local_expert`), every routed copy on the busiest rank.
    let (sort_bytes, sort_kernels) = if sorts_by_local_expert(arch, w, local_experts) {
        (
            moe_share * imbalance * tokens * arch.top_k * etp / tp
                * h
                * SORT_BY_LOCAL_EXPERT_BYTES_PER_ELEMENT,
            moe_share * SORT_BY_LOCAL_EXPERT_KERNELS,
        )
    } else {
        (0.0, 0.0)
    };
    let elementwise_bytes = elementwise_bytes
        + cast_bytes
        + permute_bytes
        + sort_bytes
        + expert_bias_bytes
        + rope_bytes
        + clamp_bytes
        + qk_norm_bytes;
    // 8- and 4-bit experts quantise each expert's share of the permuted input before its GEMM
    // (the `GroupedLinear` split above): a quantise call per expert GEMM, or one fused cast for
    // all of them under FP8 delayed scaling (`Recipe::expert_gemm_ops`); FP8 current scaling's
    // calls each launch an amax and a scale kernel before the cast, from C++
    // (`Recipe::quantise_extra_kernels`): GPU kernels, and host launches at the driver's cost.
    let expert_recipe = w.components().experts;
    let expert_quantise_launches = expert_recipe.expert_gemm_ops(local_experts);
    let library_kernels_per_moe_layer = EXPERT_GEMM_LAUNCHES_PER_LOCAL_EXPERT
        * expert_recipe.quantise_extra_kernels()
        * local_experts;
    // The bias loop's products, sums, concatenation and casts (`expert_bias`).
    let expert_bias_launches = expert_bias.map_or(0.0, |cost| cost.launches);
    let attention_launches = ATTENTION_KERNELS_PER_LAYER_FORWARD + rope_kernels + qk_norm_kernels;
    let kernels = KERNELS_PER_LAYER_FORWARD
        + rope_kernels
        + clamp_kernels
        + qk_norm_kernels
        + sort_kernels
        + moe_share
            * (MOE_KERNELS_PER_LAYER_FORWARD
                + EXPERT_GEMM_LAUNCHES_PER_LOCAL_EXPERT * expert_quantise_launches * local_experts
                + expert_bias_launches);
    let elementwise_s = elementwise_bytes / hbm
        + (kernels + moe_share * library_kernels_per_moe_layer) * c.kernel_overhead_s;

    let layer_forward_s =
        attention_projection_s + core_forward_s + core_memory_forward_s + mlp_s + elementwise_s;
    // Backward: twice the matmul work; the core's backward is above.
    let layer_backward_s = 2.0 * (attention_projection_s + mlp_s + elementwise_s) + core_backward_s;

    // Host stalls on MoE layers (`host::moe_stalls`): the dispatcher's host sync keeps the CPU
    // from running ahead past an MoE layer, and after it the MoE block runs only as fast as the
    // host launches it.
    let (moe_host_stall_forward_s, moe_host_stall_backward_s, moe_elementwise_forward_s) = if arch
        .is_moe()
    {
        // Per MoE layer (the weighted terms above carry `moe_share`).
        let per_moe_layer = 1.0 / moe_share.max(f64::MIN_POSITIVE);
        // After the sync the host launches the dispatch, the sort by local expert, every
        // expert GEMM (with its quantise), the activation (and the clamp), the bias loop, the
        // combine, the unpermute and the MLP half's remaining kernels; a dispatcher that drops
        // tokens without padding syncs earlier, before the first permutation, which joins the
        // block (`cuda_sync_point = "before_permutation_1"`, token_dispatcher.py at 3097d81).
        let pre_sync_kernels = if w.moe.syncs_before_permutation() {
            0.0
        } else {
            PRE_SYNC_MOE_KERNELS
        };
        // The host wakes when the token counts reach it. The dispatcher issues their copy
        // before the first permutation (`cuda_dtoh_point = "before_permutation_1"`), so the
        // permutation, queued before the host waits, still has the GPU busy when it wakes; a
        // `moe_preprocess` CUDA graph moves the copy to the sync itself, after the
        // permutation, and then only the block's own kernels cover the host's launches.
        let permute_cover = if w.moe.cuda_graphs.moe_preprocess && !w.moe.syncs_before_permutation()
        {
            0.5
        } else {
            1.0
        };
        let block_kernels = (KERNELS_PER_LAYER_FORWARD - ATTENTION_KERNELS_PER_LAYER_FORWARD - 1.0)
            + (MOE_KERNELS_PER_LAYER_FORWARD - ROUTER_KERNELS_PER_LAYER_FORWARD - pre_sync_kernels)
            + EXPERT_GEMM_LAUNCHES_PER_LOCAL_EXPERT * expert_quantise_launches * local_experts
            + expert_bias_launches
            + (sort_kernels + clamp_kernels) * per_moe_layer;
        // What the GPU runs of it: the expert GEMMs, their element-wise passes (the
        // permutation where it is still running, the unpermute, the sort, the bias loop, the
        // clamp, the experts' casts and activation) and launches,
        // and the dispatch and combine where they run in line. Under combined 1F1B another
        // microbatch's backward runs in the same window and keeps the GPU busy: no block term.
        let block_elementwise_bytes =
            (permute_cover * permute_bytes + sort_bytes + expert_bias_bytes + clamp_bytes)
                * per_moe_layer
                + tokens
                    * (arch.top_k + arch.shared_experts)
                    * (recipes.expert_cast * arch.moe_ffn_hidden / tp
                        + ACTIVATION_BYTES * activation_passes * arch.moe_ffn_hidden / tp)
                + tokens * recipes.expert_cast * expert_input_casts * h;
        // What a recomputed MoE layer runs again besides its expert GEMMs: the router, every
        // element-wise pass of the block (the whole permutation this time) and the MoE
        // launches, per MoE layer.
        let moe_elementwise_forward_s = router_s
            + (block_elementwise_bytes + (1.0 - permute_cover) * permute_bytes * per_moe_layer)
                / hbm
            + (block_kernels + pre_sync_kernels + library_kernels_per_moe_layer)
                * c.kernel_overhead_s;
        // Padded to capacity, the dispatcher never syncs: the host runs ahead into the block as
        // it does elsewhere, and only the layer's host excess counts.
        let block_forward_s = a2a_forward_s
            .filter(|_| w.moe.syncs_with_host())
            .map(|a2a_s| {
                routed_mlp_s
                    + shared_mlp_s
                    + block_elementwise_bytes / hbm
                    + (block_kernels + library_kernels_per_moe_layer) * c.kernel_overhead_s
                    + a2a_s
            });
        // GPT-OSS's clamped GLU (`Arch::clamps_experts_glu`) runs Megatron-Core's fused
        // quick-GeGLU, which first copies its linear offset to the GPU with
        // `torch.tensor(linear_offset, device=...)`: a blocking copy, so the host waits for the
        // GPU a second time inside the block (`host::SecondSync`). What follows it forward: the
        // activation, the down projections, the bias loop, the restore, the combine, the
        // unpermute and the MLP half's closing kernels. A recomputed activation syncs again in
        // the backward, when the down projection's backward asks for it; what follows there is
        // the backward of the activation, the down and up projections and the dispatch.
        let second_sync = block_forward_s
            .zip(a2a_forward_s)
            .filter(|_| arch.clamps_experts_glu())
            .map(|(block_s, a2a_s)| {
                let down_launches = EXPERT_GEMM_LAUNCHES_PER_LOCAL_EXPERT / 2.0
                    * expert_quantise_launches
                    * local_experts;
                let activation_bytes = tokens
                    * (arch.top_k + arch.shared_experts)
                    * ACTIVATION_BYTES
                    * activation_passes
                    * arch.moe_ffn_hidden
                    / tp;
                let after_operations = SECOND_SYNC_CLOSING_KERNELS
                    + down_launches
                    + expert_bias_launches
                    + sort_kernels / 2.0 * per_moe_layer;
                let after_bytes =
                    (sort_bytes / 2.0 + expert_bias_bytes + permute_cover * permute_bytes / 2.0)
                        * per_moe_layer
                        + activation_bytes;
                let forward = host::Segment {
                    operations: after_operations,
                    // The down projections' half of the quantise calls' library kernels.
                    library_kernels: library_kernels_per_moe_layer / 2.0,
                    gpu_s: routed_down_s
                        + after_bytes / hbm
                        + (after_operations + library_kernels_per_moe_layer / 2.0)
                            * c.kernel_overhead_s
                        + a2a_s / 2.0,
                };
                let (before_operations, before_gpu_s) =
                    (block_kernels - after_operations, block_s - forward.gpu_s);
                let recomputed =
                    recompute::recomputes_expert_activation_alone(s).then(|| host::Segment {
                        operations: 2.0 * (before_operations + down_launches + 1.0),
                        library_kernels: 2.0 * library_kernels_per_moe_layer,
                        gpu_s: 2.0
                            * (before_gpu_s - a2a_s / 2.0
                                + routed_down_s
                                + activation_bytes / hbm
                                + (down_launches + 1.0 + library_kernels_per_moe_layer / 2.0)
                                    * c.kernel_overhead_s)
                            + a2a_s / 2.0,
                    });
                host::SecondSync {
                    forward,
                    recomputed,
                }
            });
        let (forward, backward) = host::moe_stalls(
            host::Launches {
                layer_kernels: kernels,
                attention_kernels: attention_launches,
                moe_share,
                block_kernels,
                library_kernels: moe_share * library_kernels_per_moe_layer,
                graphs: w.moe.cuda_graphs,
            },
            host::GpuTimes {
                layer_forward_s,
                layer_backward_s,
                block_forward_s,
                second_sync,
            },
        );
        (forward, backward, moe_elementwise_forward_s)
    } else {
        (0.0, 0.0, 0.0)
    };
    let layer_forward_s = layer_forward_s + moe_host_stall_forward_s;
    let layer_backward_s = layer_backward_s + moe_host_stall_backward_s;
    Layer {
        attention_projection_s,
        mla_up_proj_s,
        core_forward_s,
        core_memory_forward_s,
        core_backward_s,
        dense_mlp_s,
        routed_mlp_s,
        shared_mlp_s,
        mlp_s,
        hidden_split,
        activation_passes,
        userbuffers_forward_s,
        userbuffers_backward_s,
        elementwise_s,
        host_stall_s: moe_host_stall_forward_s + moe_host_stall_backward_s,
        moe_elementwise_forward_s,
        forward_s: layer_forward_s,
        backward_s: layer_backward_s,
    }
}
