//! One training step: compute, communication, pipeline bubble and optimizer, per accelerator.

mod data_parallel;
mod evaluation;
mod expert_bias;
mod expert_parallel;
mod host;
mod layer;
mod pipeline;

use evaluation::infeasible;
pub use evaluation::{Breakdown, Evaluation, Infeasible};
pub use host::HOST_S_PER_OP;
pub use layer::{FUSED_ELEMENTWISE_PASSES, UNFUSED_ELEMENTWISE_PASSES};

use super::attention;
pub use super::inputs::{Hardware, ModelConstants, Precision, Workload, DEFAULT_EXPERT_IMBALANCE};
use super::memory::memory;
use super::overlap::{overlap, Overlapped};
use super::precision::{self, Recipe};
use super::stages::{split_layers, Stages};
pub use super::strategy::{Recompute, RecomputeModules, Strategy};
use crate::arch::Arch;

/// Bytes per element of activations and gradients in flight (16-bit).
const ACTIVATION_BYTES: f64 = 2.0;
/// Bytes read and written per parameter by a mixed-precision Adam step: fp32 master, m, v and
/// gradient read (16), fp32 master, m, v and the 16-bit weight written (14).
const OPTIMIZER_BYTES_PER_PARAM: f64 = 30.0;

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
    let imbalance = if arch.is_moe() {
        w.moe.busiest_rank_load(s.ep)
    } else {
        1.0
    };

    let etp = f64::from(s.expert_tp());
    let dispatch = expert_parallel::Dispatch {
        top_k: arch.top_k,
        hidden: h,
        tokens,
        tp,
        ep,
        etp,
        imbalance,
    };
    let routes = ep > 1.0 && arch.is_moe();
    // One dispatch (or combine), computed once for the all-to-all and the host stall.
    let one_way_s = if routes {
        dispatch.one_way_s(hw, w, c)
    } else {
        0.0
    };
    // An MoE layer's forward dispatch and combine, when they run in line: the GPU is busy
    // with them while the host launches what follows (`layer`'s host stall).
    let a2a_forward_s = if routes && expert_parallel::overlapped(s) {
        None
    } else {
        Some(2.0 * one_way_s)
    };
    let layer_inputs = layer::LayerInputs {
        arch,
        hw,
        s,
        w,
        c,
        recipes: &recipes,
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
    };
    let one_layer = layer::layer(layer_inputs);
    let layer::Layer {
        attention_projection_s,
        core_forward_s,
        core_memory_forward_s,
        core_backward_s,
        mlp_s,
        elementwise_s: layer_elementwise_forward_s,
        host_stall_s: layer_host_stall_s,
        forward_s: layer_forward_s,
        backward_s: layer_backward_s,
        userbuffers_forward_s,
        userbuffers_backward_s,
        ..
    } = one_layer;

    // Recomputation: the named modules' forward again, or whole layers.
    let modules = s.selective_modules();
    let has = |m: RecomputeModules| modules.contains(m);
    let full_fraction = full_recompute_fraction(s, &stages);
    let layer_recompute_s = one_layer.recompute_s(layer_inputs, full_fraction);

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
    // Without sequence parallelism each TP collective is an all-reduce, which the scale-up
    // switches' in-network reduction speeds inside one domain (NVLink SHARP); with it the
    // layer moves the same bytes as a reduce-scatter and an all-gather, which it does not.
    let tp_collective_s = if !s.sequence_parallel && tp > 1.0 && tp <= hw.scale_up_domain {
        super::collectives::in_domain_all_reduce_transfer_s(
            ACTIVATION_BYTES * tokens * h,
            tp,
            tp_bw,
            hw.nvls_all_reduce_bytes_per_s,
        ) + tp_lat
    } else {
        all_reduce_s(ACTIVATION_BYTES * tokens * h, tp, tp_bw, tp_lat)
    };
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
    // Userbuffers / async TP run each collective in chunks under the GEMM it feeds.
    let tp_hidden = overlap(tp_all, 3.0 * (attention_projection_s + mlp_s), 0.0);
    // In line (no userbuffers), sequence parallelism still runs the column-parallel layers'
    // backward collectives beside their GEMMs (`overlap::sequence_parallel_in_line`): QKV's and
    // FC1's share of the layer's linear GEMMs, whose backward is twice the forward.
    let in_line = if s.sequence_parallel && tp > 1.0 {
        let qkv = arch.qkv_width();
        let projection = arch.heads * arch.head_dim;
        let gate = if arch.gated_mlp { 2.0 } else { 1.0 };
        let column_s = attention_projection_s * qkv / (qkv + projection)
            + (1.0 - moe_share) * one_layer.dense_mlp_s * gate / (gate + 1.0);
        // The gathers move the QKV and FC1 inputs and the projection's and FC2's output
        // gradients in their recipes' formats (the MLP's at the dense recipe's).
        let components = w.components();
        let share = |bytes: fn(Recipe) -> f64| {
            0.5 * (bytes(components.attention) + bytes(components.dense)) / ACTIVATION_BYTES
        };
        super::overlap::sequence_parallel_in_line(
            tp_all,
            tp_collective_s,
            2.0 * column_s,
            super::overlap::GatherShares {
                input: share(Recipe::gathered_input_bytes),
                gradient: share(Recipe::gathered_gradient_bytes),
            },
        )
    } else if s.async_tp_all_reduce && tp > 1.0 {
        // Without sequence parallelism the column-parallel layers' backward all-reduces run
        // beside their weight-gradient GEMMs (`overlap::column_all_reduces_async`), each as
        // long as the layer's forward GEMM.
        let qkv = arch.qkv_width();
        let projection = arch.heads * arch.head_dim;
        let gate = if arch.gated_mlp { 2.0 } else { 1.0 };
        super::overlap::column_all_reduces_async(
            tp_all,
            tp_collective_s,
            attention_projection_s * qkv / (qkv + projection),
            (1.0 - moe_share) * one_layer.dense_mlp_s * gate / (gate + 1.0),
        )
    } else {
        Overlapped::exposed(tp_all)
    };
    // Under Transformer Engine's userbuffers hiding costs the GEMMs (`userbuffers`); a layout
    // whose chunks are so small that this costs more than running in line runs with the
    // overlap off (`--tp-comm-overlap` is a switch, and sequence parallelism without it moves
    // what tensor parallelism alone would), unless the run is known to have kept it on
    // (`Strategy::tp_comm_overlap_as_run`).
    let via_userbuffers = super::userbuffers::applies(s, arch);
    let userbuffers = via_userbuffers
        && (s.tp_comm_overlap_as_run
            || userbuffers_forward_s + userbuffers_backward_s + tp_hidden.exposed_s
                < in_line.exposed_s + in_line.compute_penalty_s(c.overlap_compute_share));
    let layer_tp = if userbuffers || (s.tp_comm_overlap && !via_userbuffers) {
        tp_hidden
    } else {
        in_line
    };
    // What the split GEMMs add per layer and microbatch where the overlap runs: forward,
    // backward and, for whole layers recomputed, their forward again.
    let (userbuffers_forward_s, userbuffers_backward_s, userbuffers_recompute_s) = if userbuffers {
        (
            userbuffers_forward_s,
            userbuffers_backward_s,
            if s.recompute == Recompute::Full {
                full_fraction * userbuffers_forward_s
            } else {
                0.0
            },
        )
    } else {
        (0.0, 0.0, 0.0)
    };
    let layer_forward_s = layer_forward_s + userbuffers_forward_s;
    let layer_backward_s = layer_backward_s + userbuffers_backward_s;
    // The layer's forward and backward by kind of kernel (they add up to the two): the GEMMs
    // (backward twice the forward; with what userbuffers adds to them), the attention core,
    // the element-wise kernels (backward twice the forward) and the MoE host stalls.
    let layer_matmul_s =
        3.0 * (attention_projection_s + mlp_s) + userbuffers_forward_s + userbuffers_backward_s;
    let layer_attention_s = core_forward_s + core_memory_forward_s + core_backward_s;
    let layer_elementwise_s = 3.0 * layer_elementwise_forward_s;
    let layer_recompute_s = layer_recompute_s + userbuffers_recompute_s;
    let layer_userbuffers_s =
        userbuffers_forward_s + userbuffers_backward_s + userbuffers_recompute_s;

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
    let layer_ep = if routes {
        expert_parallel::all_to_all(
            s,
            &expert_parallel::MoeLayer {
                one_way_s,
                moe_share,
                microbatches,
                forward_s: layer_forward_s,
                backward_s: layer_backward_s,
                recomputed_share: match s.recompute {
                    Recompute::Full => full_fraction,
                    Recompute::Selective
                        if s.selective_modules().contains(RecomputeModules::MOE) =>
                    {
                        1.0
                    }
                    _ => 0.0,
                },
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
    // attention and costs only the SMs it occupies (DeepSeek-V3's share, at most the fitted),
    // and so does a per-node dispatcher's all-to-all on the SMs it is given
    // (`MoeRouting::dispatcher_sms`).
    // Under Transformer Engine's userbuffers the TP collectives' cost is already in the GEMMs
    // they run beside (split and on fewer SMs: `layer`), so they take no share.
    let tp_share = if userbuffers {
        0.0
    } else {
        c.overlap_compute_share
    };
    let layer_slowdown_s = tp_share * layer_tp.hidden_s
        + super::overlap::ep_overlap_compute_share(
            &w.moe,
            hw.streaming_multiprocessors,
            c.overlap_compute_share,
        ) * layer_ep.hidden_s
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
    let pp_comm = pipeline::exchange(
        s,
        link(gpus),
        ACTIVATION_BYTES * tokens * h,
        microbatches,
        (
            layers_per_stage * layer_forward_s / v,
            layers_per_stage * layer_backward_s / v,
        ),
    );
    let pp_comm_s = pp_comm.exposed_s;
    // The exchange is a point-to-point copy like the CP ring: it costs the SMs it occupies.
    let pp_slowdown_s =
        super::overlap::OVERLAP_COMPUTE_SHARE.min(c.overlap_compute_share) * pp_comm.hidden_s;

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
        compute_s: microbatches * stage_compute_s + dp_slowdown_s + pp_slowdown_s,
        recompute_s: microbatches * stage_recompute_s,
        tp_comm_s: microbatches * layers_per_stage * layer_tp_s,
        cp_comm_s: microbatches * layers_per_stage * layer_cp_s,
        ep_comm_s: microbatches * layers_per_stage * layer_ep_s,
        pp_comm_s,
        dp_comm_s,
        bubble_s,
        optimizer_s,
        userbuffers_s: microbatches * layers_per_stage * layer_userbuffers_s,
        matmul_s: microbatches * layers_per_stage * layer_matmul_s,
        attention_s: microbatches * layers_per_stage * layer_attention_s,
        elementwise_s: microbatches * layers_per_stage * layer_elementwise_s,
        host_stall_s: microbatches * layers_per_stage * layer_host_stall_s,
        output_layer_s: microbatches * stage_extra_s,
        overlap_slowdown_s: microbatches * layers_per_stage * layer_slowdown_s
            + dp_slowdown_s
            + pp_slowdown_s,
        hidden_comm_s: microbatches * layers_per_stage * layer_hidden_s
            + dp_comm.hidden_s
            + pp_comm.hidden_s,
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
                // The causal half, or the band on sliding-window layers.
                flops += arch.layers
                    * arch.attention_core_flops_per_token(w.seq_len)
                    * (arch.causal_keys_per_query(w.seq_len) / w.seq_len);
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
