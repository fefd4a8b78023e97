//! Memory per accelerator: weights, gradients, optimizer states, activations, on the pipeline
//! stage that holds the most.
//!
//! Activations follow Korthikanti et al. 2022 ("Reducing Activation Recomputation in Large
//! Transformer Models", section 4), generalised from MHA with a 4h GELU MLP to GQA, MLA, gated
//! MLPs and MoE by counting each stored tensor: per layer `10 sbh` unsplit (norm inputs, dropout
//! masks, the QKV and MLP inputs), the TP-split Q, K, V, projection input and MLP
//! intermediates, the routed tokens and expert intermediates of an MoE layer, and `5 a s^2 b`
//! for the unfused attention core. Selective recompute drops the tensors of the modules it
//! names; FP8 recipes that keep their quantised GEMM inputs store those in one byte.
//!
//! Model states follow Megatron-Core's distributed-optimizer table (bytes per parameter,
//! d = data-parallel ranks): bf16 weights 2, gradients 4 in fp32 (2 in bf16), Adam's fp32
//! master weights and moments 12 (plus a 4-byte fp32 copy of 16-bit gradients), the last
//! sharded over d with ZeRO-1, gradients too with ZeRO-2 and weights with ZeRO-3.
//!
//! Pipeline stage `i` of `p` holds `p - i` microbatches in flight under 1F1B (interleaved:
//! `2 (p - i - 1) + (v - 1) p + 1` chunks, Megatron's warm-up count); the first stage holds the
//! embedding, the last the output layer and the fp32 logits.

use serde::Serialize;

use super::stages::Stages;
use super::step::{
    full_recompute_fraction, stages_of, Hardware, ModelConstants, ParamCounts, Precision,
    Recompute, RecomputeModules, Strategy, Workload,
};
use crate::arch::Arch;

/// Bytes per accelerator, on the stage that holds the most.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct MemoryBreakdown {
    /// 16-bit weights (with FSDP, plus the gathered layers in use).
    pub weights_bytes: f64,
    /// Gradient buffers (fp32 or bf16).
    pub gradients_bytes: f64,
    /// fp32 master weights and Adam moments (and fp32 gradient copies of bf16 gradients).
    pub optimizer_bytes: f64,
    /// Activations kept for the backward pass, all in-flight microbatches.
    pub activations_bytes: f64,
    /// Held by the framework.
    pub reserved_bytes: f64,
    /// Sum.
    pub total_bytes: f64,
}

/// Activation bytes one layer stores for one microbatch (Korthikanti et al. 2022, generalised):
/// the layer input alone when it is fully recomputed, else what its recompute modules keep.
pub fn activation_bytes_per_layer(arch: &Arch, s: &Strategy, w: &Workload) -> f64 {
    if s.recompute == Recompute::Full {
        return layer_input_bytes(arch, s, w);
    }
    kept_layer_bytes(arch, s, w, s.selective_modules())
}

/// The layer input (split across TP ranks with sequence parallelism).
fn layer_input_bytes(arch: &Arch, s: &Strategy, w: &Workload) -> f64 {
    let sb = w.seq_len / f64::from(s.cp) * f64::from(s.microbatch);
    let split = if s.sequence_parallel {
        f64::from(s.tp)
    } else {
        1.0
    };
    2.0 * sb * arch.hidden / split
}

/// What a layer that is not fully recomputed stores, with `modules` recomputed.
fn kept_layer_bytes(arch: &Arch, s: &Strategy, w: &Workload, modules: RecomputeModules) -> f64 {
    let tp = f64::from(s.tp);
    let seq = w.seq_len / f64::from(s.cp);
    let sb = seq * f64::from(s.microbatch);
    let h = arch.hidden;
    let has = |m: RecomputeModules| modules.contains(m);
    // Stored GEMM inputs: one byte where the FP8/FP4 recipe keeps its quantised copy.
    let gemm_in = if s.low_precision_activations && w.precision != Precision::Bf16 {
        1.0
    } else {
        2.0
    };
    let sp_split = if s.sequence_parallel { tp } else { 1.0 };
    // Two norm inputs (4 sbh) and two dropout masks (2 sbh), plus the norm outputs that feed
    // the QKV and MLP GEMMs (2 x 2 sbh in 16 bits) unless the norms are recomputed.
    let norm_outputs = if has(RecomputeModules::LAYERNORM) {
        0.0
    } else {
        2.0 * gemm_in * sb * h
    };
    let unsplit = (6.0 * sb * h + norm_outputs) / sp_split;

    let (dqk, dv) = (arch.qk_head_dim(), arch.v_head_dim());
    let qkv = match arch.mla {
        // MLA with its up-projections recomputed keeps the latents (not split across TP).
        Some(m) if has(RecomputeModules::MLA_UP_PROJ) => {
            let latents = 2.0 * sb * (m.q_lora_rank + m.kv_lora_rank + m.qk_rope_head_dim) * tp;
            latents.min(2.0 * sb * (arch.heads * dqk + arch.kv_heads * dqk + arch.kv_heads * dv))
        }
        _ => 2.0 * sb * (arch.heads * dqk + arch.kv_heads * dqk + arch.kv_heads * dv),
    };
    // The QK-norm keeps its input, the queries and keys before the norm (16-bit).
    let qk_norm_inputs = if arch.normalises_queries_and_keys() {
        2.0 * sb * (arch.heads + arch.kv_heads) * dqk
    } else {
        0.0
    };
    let qkv = qkv + qk_norm_inputs;
    let projection_input = gemm_in * sb * arch.heads * dv;
    let core = if s.flash_attention || has(RecomputeModules::CORE_ATTN) {
        0.0
    } else {
        5.0 * arch.heads * seq * seq * f64::from(s.microbatch)
    };
    let gate = if arch.gated_mlp { 2.0 } else { 1.0 };
    // FC1 output (16-bit, both halves when gated) and the activation output (FC2's input).
    let mlp_block = |width: f64| sb * width * (2.0 * gate + gemm_in);
    let dense_mlp = if has(RecomputeModules::MLP) {
        0.0
    } else {
        mlp_block(arch.ffn_hidden)
    };
    let moe = if !arch.is_moe() || has(RecomputeModules::MOE) {
        0.0
    } else {
        // The busiest expert-parallel rank's share of the routed tokens, as the step times it.
        let k = arch.top_k * w.moe.busiest_rank_load(s.ep);
        let e = arch.moe_ffn_hidden;
        // The routed tokens (the experts' FC1 inputs: each rank's share of its tokens' top-k
        // copies, scaled to the busiest rank), the experts' FC1 outputs and activation outputs.
        let dispatched = gemm_in * sb * k * h;
        let fc1 = 2.0 * gate * sb * k * e;
        // A clamped activation (`Arch::glu_clamp`) keeps the clamped copy of the FC1 output
        // for its fused backward beside the FC1 output its clamps' gradients read, unless the
        // activation is recomputed.
        let activation = if has(RecomputeModules::MOE_ACT) {
            0.0
        } else if arch.clamps_experts_glu() {
            gemm_in * sb * k * e + 2.0 * gate * sb * k * e
        } else {
            gemm_in * sb * k * e
        };
        let shared = if has(RecomputeModules::SHARED_EXPERTS) {
            0.0
        } else {
            mlp_block(arch.shared_experts * e)
        };
        dispatched + fc1 + activation + shared
    };
    let moe_share = arch.moe_layers() / arch.layers;
    let mlp = (1.0 - moe_share) * dense_mlp + moe_share * moe;
    unsplit + (qkv + projection_input + core + mlp) / tp
}

/// Memory per accelerator for `s`, with `microbatches` per step per pipeline: the largest of
/// the first, a middle and the last pipeline stage.
pub fn memory(
    arch: &Arch,
    hw: &Hardware,
    s: &Strategy,
    w: &Workload,
    microbatches: f64,
    c: &ModelConstants,
) -> MemoryBreakdown {
    let _ = hw;
    let stages = stages_of(arch, s);
    let pp = s.pp.max(1);
    // What every stage shares, counted once: the parameter counts and a kept layer's bytes.
    let shared = SharedCounts {
        params: ParamCounts::of(arch),
        kept_layer_bytes: kept_layer_bytes(arch, s, w, s.selective_modules()),
    };
    let mut worst = MemoryBreakdown::default();
    let mut consider = |index: u32, layers: u32| {
        let m = stage_memory(arch, s, w, microbatches, c, &stages, &shared, index, layers);
        if m.total_bytes > worst.total_bytes {
            worst = m;
        }
    };
    consider(0, stages.first);
    if pp > 2 {
        consider(1, stages.middle);
    }
    if pp > 1 {
        consider(pp - 1, stages.last);
    }
    worst
}

/// What every stage's memory shares, counted once per layout.
struct SharedCounts {
    params: ParamCounts,
    /// A layer's activations kept for the backward under the layout's recompute modules.
    kept_layer_bytes: f64,
}

#[allow(clippy::too_many_arguments)]
fn stage_memory(
    arch: &Arch,
    s: &Strategy,
    w: &Workload,
    microbatches: f64,
    c: &ModelConstants,
    stages: &Stages,
    shared: &SharedCounts,
    index: u32,
    layers: u32,
) -> MemoryBreakdown {
    let pp = s.pp.max(1);
    let (first, last) = (index == 0, index == pp - 1);
    let layers = f64::from(layers);
    let (dense, expert) = shared.params.stage(arch, s, layers, first, last);
    // ZeRO shards over the data- and context-parallel ranks together (Megatron); the experts'
    // states over that group divided by the expert-parallel ranks.
    let dp = f64::from(s.dp) * f64::from(s.cp);
    let expert_dp = (f64::from(s.tp) * dp / f64::from(s.expert_tp() * s.ep.max(1))).max(1.0);
    let sharded = |bytes: f64, stage: u8| {
        if s.zero >= stage {
            bytes * (dense / dp + expert / expert_dp)
        } else {
            bytes * (dense + expert)
        }
    };
    let mut weights_bytes = sharded(2.0, 3);
    if s.zero >= 3 && layers > 0.0 {
        // FSDP gathers a layer's weights to use them and prefetches the next: two layers,
        // less the local shard already counted.
        let gathered =
            (dense * (1.0 - 1.0 / dp) + expert * (1.0 - 1.0 / expert_dp)) * 2.0 * layers.min(2.0)
                / layers;
        weights_bytes += gathered;
    }
    // A 16-bit gradient shard cast back to fp32 in place (PyTorch FSDP) is kept in fp32 and
    // is itself what the optimizer steps from.
    let upcast_in_place = s.gradient_shards_upcast && !s.fp32_gradients;
    let gradients_bytes = if upcast_in_place {
        sharded(4.0, 2)
    } else {
        sharded(s.gradient_bytes(), 2)
    };
    // Adam's fp32 m and v, and the fp32 master weights (or only their 16 low bits beside the
    // 16-bit weights); a 16-bit gradient buffer gets an fp32 copy of the shard to step from,
    // except in an optimizer that steps from the reduced gradients directly.
    let (master_bytes, fp32_gradient_copy) = if s.master_weight_remainders {
        (2.0, 0.0)
    } else {
        (
            4.0,
            if s.fp32_gradients || upcast_in_place {
                0.0
            } else {
                4.0
            },
        )
    };
    let optimizer_bytes = sharded(8.0 + master_bytes + fp32_gradient_copy, 1);

    // Microbatches (or interleaved chunks) in flight on this stage.
    let v = s.virtual_pp.max(1);
    let in_flight_chunks = if v > 1 {
        f64::from(2 * (pp - index - 1) + (v - 1) * pp + 1).min(microbatches * f64::from(v))
    } else {
        f64::from(pp - index).min(microbatches)
    };
    let chunk_layers = layers / f64::from(v);
    let recomputed = full_recompute_fraction(s, stages) * chunk_layers;
    let kept = shared.kept_layer_bytes;
    let per_chunk = if s.recompute == Recompute::Full {
        let all = kept_layer_bytes(arch, s, w, RecomputeModules::NONE);
        recomputed.min(chunk_layers) * layer_input_bytes(arch, s, w)
            + (chunk_layers - recomputed).max(0.0) * all
    } else {
        chunk_layers * kept
    };
    let mut activations_bytes = per_chunk * in_flight_chunks;
    if s.activation_offload_layers > 0 && layers > 0.0 {
        // Offloaded layers' activations live on the host; one layer's worth stays resident as
        // the copy in flight.
        let offloaded = f64::from(s.activation_offload_layers)
            .min(layers - 1.0)
            .max(0.0);
        activations_bytes *= 1.0 - offloaded / layers;
    }
    if s.recompute == Recompute::Full && recomputed > 0.0 {
        // One layer's full activations live while it is recomputed (its input is among them).
        activations_bytes +=
            kept_layer_bytes(arch, s, w, RecomputeModules::NONE) - layer_input_bytes(arch, s, w);
    }
    if last {
        // fp32 logits for the loss.
        activations_bytes +=
            4.0 * w.seq_len / f64::from(s.cp) * f64::from(s.microbatch) * arch.vocab
                / f64::from(s.tp);
    }
    let reserved_bytes = c.reserved_memory_bytes;
    MemoryBreakdown {
        weights_bytes,
        gradients_bytes,
        optimizer_bytes,
        activations_bytes,
        reserved_bytes,
        total_bytes: weights_bytes
            + gradients_bytes
            + optimizer_bytes
            + activations_bytes
            + reserved_bytes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strategy(tp: u32, sp: bool, recompute: Recompute) -> Strategy {
        Strategy {
            tp,
            sequence_parallel: sp,
            recompute,
            flash_attention: false,
            ..Strategy::single()
        }
    }

    #[test]
    fn korthikanti_formulas_for_gpt() {
        // Korthikanti et al. 2022, Table 2, per layer: no parallelism sbh(34 + 5as/h);
        // TP: sbh(10 + 24/t + 5as/(ht)); TP + SP: sbh(34/t + 5as/(ht));
        // TP + SP + selective: 34 sbh / t; full recompute: 2 sbh.
        let arch = Arch::gpt(1, 12288, 96, 51200);
        let w = Workload {
            global_batch: 1.0,
            seq_len: 2048.0,
            precision: Precision::Bf16,
            components: None,
            moe: crate::train::MoeRouting::default(),
        };
        let (s, b, h, a, t) = (2048.0, 1.0, 12288.0, 96.0, 8.0);
        let sbh = s * b * h;
        let cases = [
            (
                strategy(1, false, Recompute::None),
                sbh * (34.0 + 5.0 * a * s / h),
            ),
            (
                strategy(8, false, Recompute::None),
                sbh * (10.0 + 24.0 / t + 5.0 * a * s / (h * t)),
            ),
            (
                strategy(8, true, Recompute::None),
                sbh * (34.0 / t + 5.0 * a * s / (h * t)),
            ),
            (strategy(8, true, Recompute::Selective), sbh * 34.0 / t),
            (strategy(8, false, Recompute::Full), 2.0 * sbh),
        ];
        for (strategy, expected) in cases {
            let got = activation_bytes_per_layer(&arch, &strategy, &w);
            assert!(
                (got / expected - 1.0).abs() < 1e-12,
                "{strategy:?}: {got} vs {expected}"
            );
        }
    }

    #[test]
    fn the_busiest_expert_rank_keeps_its_share_of_the_routed_tokens() {
        // DeepSeek-V3 (61 layers, 58 MoE; width h = 7168, top-k 8, expert width e = 2048,
        // gated), 4k tokens, microbatch 1, BF16, no recompute. A MoE layer keeps per token of
        // the busiest rank's routed copies: the dispatched input 2h, the FC1 output
        // 2 x 2 x e and the activation output 2e, that is 2(h + 3e) = 26,624 bytes; the
        // shared expert is not routed. At EP 8 with imbalance 1.25 the busiest rank keeps
        // 1.25x the mean: 0.25 x 8 x 26,624 x 4,096 bytes more per MoE layer, or per layer
        // averaged over the 61 (what `activation_bytes_per_layer` returns) 58/61 of that.
        let arch = crate::reference::deepseek_v3();
        let routing = |imbalance: f64| Workload {
            global_batch: 1.0,
            seq_len: 4096.0,
            precision: Precision::Bf16,
            components: None,
            moe: crate::train::MoeRouting {
                imbalance,
                ..crate::train::MoeRouting::default()
            },
        };
        let at = |ep: u32, imbalance: f64| {
            let s = Strategy {
                ep,
                dp: ep,
                flash_attention: true,
                ..Strategy::single()
            };
            activation_bytes_per_layer(&arch, &s, &routing(imbalance))
        };
        let extra = at(8, 1.25) - at(8, 1.0);
        let expected = 0.25 * 8.0 * 26_624.0 * 4096.0 * 58.0 / 61.0;
        assert!(
            (extra / expected - 1.0).abs() < 1e-12,
            "{extra} vs {expected}"
        );
        // One expert-parallel rank holds every expert: its load is the mean, whatever the skew.
        assert_eq!(at(1, 1.25), at(1, 1.0));
    }

    /// A one-layer model with a tiny vocabulary in bf16, whose states are almost all its layer's.
    fn one_layer_bf16() -> (Arch, Workload) {
        let w = Workload {
            global_batch: 8.0,
            seq_len: 16.0,
            precision: Precision::Bf16,
            components: None,
            moe: crate::train::MoeRouting::default(),
        };
        (Arch::gpt(1, 4096, 32, 8), w)
    }

    #[test]
    fn distributed_optimizer_bytes_per_parameter_follow_megatron_table() {
        // Megatron-Core's table: fp16/bf16 params with fp32 grads 6 + 12/d; with 16-bit grads
        // 4 + 16/d (d = data-parallel ranks). A one-layer model with a tiny vocabulary at
        // d = 8: states are (6 + 1.5) and (4 + 2) bytes per parameter.
        let (arch, w) = one_layer_bf16();
        let c = ModelConstants::default();
        let hw = crate::reference::h100_sxm();
        for (fp32, per_param) in [(true, 6.0 + 12.0 / 8.0), (false, 4.0 + 16.0 / 8.0)] {
            let s = Strategy {
                dp: 8,
                zero: 1,
                fp32_gradients: fp32,
                ..Strategy::single()
            };
            let m = memory(&arch, &hw, &s, &w, 1.0, &c);
            let states = m.weights_bytes + m.gradients_bytes + m.optimizer_bytes;
            let expected = per_param * arch.total_params();
            assert!(
                (states / expected - 1.0).abs() < 1e-12,
                "{states} vs {expected}"
            );
        }
    }

    #[test]
    fn fsdp_upcast_gradient_shards_keep_four_bytes_and_no_second_copy() {
        // Gradients and optimizer state per parameter under ZeRO-3 at d = 8 with bf16
        // reduction. PyTorch FSDP casts the reduced shard back to fp32 in place: (4 + 12) / 8
        // = 2 bytes (Adam's m, v and fp32 master weights are the 12), as with fp32 gradients.
        // A 16-bit buffer with an fp32 copy beside it (Megatron's way): (2 + 4 + 12) / 8 =
        // 2.25.
        let (arch, w) = one_layer_bf16();
        let hw = crate::reference::h100_sxm();
        let c = ModelConstants::default();
        let states = |fp32_gradients: bool, gradient_shards_upcast: bool| {
            let s = Strategy {
                dp: 8,
                zero: 3,
                fp32_gradients,
                gradient_shards_upcast,
                ..Strategy::single()
            };
            let m = memory(&arch, &hw, &s, &w, 1.0, &c);
            (m.gradients_bytes + m.optimizer_bytes) / arch.total_params()
        };
        assert!((states(false, true) - 16.0 / 8.0).abs() < 1e-12);
        assert!((states(false, false) - 18.0 / 8.0).abs() < 1e-12);
        assert_eq!(states(false, true), states(true, false));
        // The flag says nothing about fp32 gradients.
        assert_eq!(states(true, true), states(true, false));
    }

    #[test]
    fn master_weight_remainders_keep_ten_bytes_of_state_and_no_fp32_gradient_copy() {
        // Apex DistributedFusedAdam with store_param_remainders and bf16 gradient sync: 16-bit
        // weights and gradients (2 + 2) and a shard of m, v and the 16-bit remainder
        // (4 + 4 + 2 = 10 / d): at d = 8, 4 + 1.25 bytes per parameter, against 4 + 2 for
        // Megatron-Core's optimizer with 16-bit gradients.
        let (arch, w) = one_layer_bf16();
        let s = Strategy {
            dp: 8,
            zero: 1,
            fp32_gradients: false,
            master_weight_remainders: true,
            ..Strategy::single()
        };
        let hw = crate::reference::h100_sxm();
        let m = memory(&arch, &hw, &s, &w, 1.0, &ModelConstants::default());
        let states = m.weights_bytes + m.gradients_bytes + m.optimizer_bytes;
        let expected = (4.0 + 10.0 / 8.0) * arch.total_params();
        assert!(
            (states / expected - 1.0).abs() < 1e-12,
            "{states} vs {expected}"
        );
    }

    #[test]
    fn fp8_activations_halve_the_stored_gemm_inputs() {
        let arch = Arch::gpt(1, 8192, 64, 32000);
        let mut w = Workload {
            global_batch: 1.0,
            seq_len: 4096.0,
            precision: Precision::Fp8,
            components: None,
            moe: crate::train::MoeRouting::default(),
        };
        let s = Strategy {
            low_precision_activations: true,
            ..Strategy::single()
        };
        let kept_fp8 = activation_bytes_per_layer(&arch, &s, &w);
        w.precision = Precision::Bf16;
        let kept_bf16 = activation_bytes_per_layer(&arch, &s, &w);
        // The QKV and MLP inputs (2 sbh), the projection input (sbh) and FC2's input (4 sbh)
        // lose a byte per element: 7 sbh fewer bytes.
        let sbh = 4096.0 * 8192.0;
        assert!(((kept_bf16 - kept_fp8) / sbh - 7.0).abs() < 1e-9);
    }

    #[test]
    fn offloaded_layers_leave_hbm_but_one_stays_in_flight() {
        // Llama 3 70B under FSDP on 64 GPUs, micro-batch 2 of 8,192 tokens: offloading 40 of
        // its 80 layers halves the activations; offloading all of them keeps one layer's.
        let arch = crate::reference::llama3_70b();
        let hw = crate::reference::h100_sxm();
        let w = Workload::new(256.0, 8192.0, Precision::Bf16);
        let s = Strategy {
            dp: 64,
            zero: 3,
            microbatch: 2,
            ..Strategy::single()
        };
        let at = |layers: u32| {
            let s = Strategy {
                activation_offload_layers: layers,
                ..s
            };
            memory(&arch, &hw, &s, &w, 2.0, &ModelConstants::default()).activations_bytes
        };
        let (none, half, all) = (at(0), at(40), at(200));
        assert!(((none - half) / none - 0.5).abs() < 0.05, "{none} {half}");
        assert!(all > 0.0 && all < half);
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use crate::reference;
    use crate::train::step::Strategy;
    use proptest::prelude::*;

    fn total(arch: &Arch, s: &Strategy, w: &Workload) -> f64 {
        let hw = reference::h100_sxm();
        let microbatches = (w.global_batch / f64::from(s.dp * s.microbatch)).max(1.0);
        memory(arch, &hw, s, w, microbatches, &ModelConstants::default()).total_bytes
    }

    fn arch_for(which: u8) -> Arch {
        match which % 3 {
            0 => reference::llama3_70b(),
            1 => reference::deepseek_v3(),
            _ => Arch::gpt(24, 2048, 16, 50304),
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// Recomputing more, sharding more or keeping FP8 activations never raises memory.
        #[test]
        fn memory_saving_options_never_raise_memory(
            which in 0u8..3,
            tp_log in 0u32..4,
            pp_log in 0u32..4,
            dp_log in 0u32..5,
            vpp in 1u32..3,
            microbatch in 1u32..3,
            seq_log in 9u32..14,
            sp in any::<bool>(),
            flash in any::<bool>(),
            fp32 in any::<bool>(),
            fp8 in any::<bool>(),
        ) {
            let arch = arch_for(which);
            let (tp, pp, dp) = (1 << tp_log, 1 << pp_log, 1 << dp_log);
            let vpp = if pp > 1 { vpp } else { 1 };
            let w = Workload {
                global_batch: f64::from(dp * microbatch * 8),
                seq_len: f64::from(1u32 << seq_log),
                precision: if fp8 { Precision::Fp8 } else { Precision::Bf16 },
                components: None,
                moe: crate::train::MoeRouting::default(),
            };
            let base = Strategy {
                tp,
                pp,
                dp,
                virtual_pp: vpp,
                microbatch,
                sequence_parallel: sp && tp > 1,
                flash_attention: flash,
                fp32_gradients: fp32,
                ..Strategy::single()
            };
            // Selective: each module added on top of the ones before.
            let mut previous = total(&arch, &base, &w);
            let mut modules = RecomputeModules::NONE;
            for (_, module) in RecomputeModules::NAMED {
                modules = modules.union(module);
                let s = Strategy { recompute: Recompute::Selective, recompute_modules: modules, ..base };
                let m = total(&arch, &s, &w);
                prop_assert!(m <= previous * (1.0 + 1e-12), "{modules:?}: {m} > {previous}");
                previous = m;
            }
            // Full: more layers recomputed, then all.
            let mut previous = total(&arch, &base, &w);
            for layers in [1, 2, 4, 8, 0] {
                let s = Strategy { recompute: Recompute::Full, recompute_layers: layers, ..base };
                let m = total(&arch, &s, &w);
                prop_assert!(m <= previous * (1.0 + 1e-12), "full {layers}: {m} > {previous}");
                previous = m;
            }
            // More sharding.
            let mut previous = total(&arch, &base, &w);
            for zero in 1..=3u8 {
                let m = total(&arch, &Strategy { zero, ..base }, &w);
                prop_assert!(m <= previous * (1.0 + 1e-12), "zero {zero}: {m} > {previous}");
                previous = m;
            }
            // FP8 copies of the GEMM inputs.
            let low = Strategy { low_precision_activations: true, ..base };
            prop_assert!(total(&arch, &low, &w) <= total(&arch, &base, &w) * (1.0 + 1e-12));
            // Reduced gradient shards cast back to fp32 in place (PyTorch FSDP), at the
            // sharding stages FSDP runs (none, gradients and states, everything): one fp32
            // shard instead of a 16-bit one and an fp32 copy.
            for zero in [0u8, 2, 3] {
                let plain = Strategy { zero, ..base };
                let upcast = Strategy { gradient_shards_upcast: true, ..plain };
                let (a, b) = (total(&arch, &upcast, &w), total(&arch, &plain, &w));
                prop_assert!(a <= b * (1.0 + 1e-12), "upcast at zero {zero}: {a} > {b}");
            }
        }
    }
}
