//! Memory per accelerator: weights, gradients, optimizer states, activations.
//!
//! Activations follow Korthikanti et al. 2022 ("Reducing Activation Recomputation in Large
//! Transformer Models", section 4), generalised from MHA with a 4h GELU MLP to GQA, gated MLPs
//! and MoE by counting each stored tensor: per layer `10 sbh` unsplit (norm inputs, dropout
//! masks, the QKV and MLP inputs), the TP-split Q, K, V, projection input and MLP
//! intermediates, and `5 a s^2 b` for the unfused attention core.

use serde::Serialize;

use crate::arch::Arch;
use crate::step::{ModelConstants, Recompute, Strategy, Workload};

/// Bytes per accelerator, on the stage that holds the most.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct MemoryBreakdown {
    /// 16-bit weights.
    pub weights_bytes: f64,
    /// fp32 gradient accumulators.
    pub gradients_bytes: f64,
    /// fp32 master weights and Adam moments.
    pub optimizer_bytes: f64,
    /// Activations kept for the backward pass, all in-flight microbatches.
    pub activations_bytes: f64,
    /// Held by the framework.
    pub reserved_bytes: f64,
    /// Sum.
    pub total_bytes: f64,
}

/// Activation bytes one layer stores for one microbatch (Korthikanti et al. 2022, generalised).
pub fn activation_bytes_per_layer(arch: &Arch, s: &Strategy, w: &Workload) -> f64 {
    let tp = f64::from(s.tp);
    let seq = w.seq_len / f64::from(s.cp);
    let sb = seq * f64::from(s.microbatch);
    let h = arch.hidden;
    let input_bytes = 2.0 * sb * h;
    if s.recompute == Recompute::Full {
        // Only the layer input is kept (split across TP ranks with sequence parallelism).
        return if s.sequence_parallel {
            input_bytes / tp
        } else {
            input_bytes
        };
    }
    // 10 sbh: two norm inputs (4), QKV input (2), MLP input (2), two dropout masks (1 + 1).
    let unsplit = 10.0 * sb * h;
    let unsplit = if s.sequence_parallel {
        unsplit / tp
    } else {
        unsplit
    };
    let (dqk, dv) = (arch.qk_head_dim(), arch.v_head_dim());
    let moe_share = arch.moe_layers() / arch.layers;
    let active_ffn = (1.0 - moe_share) * arch.ffn_hidden
        + moe_share * (arch.top_k + arch.shared_experts) * arch.moe_ffn_hidden;
    let gate = if arch.gated_mlp { 2.0 } else { 1.0 };
    let split =
        2.0 * sb * (arch.heads * dqk + arch.kv_heads * dqk + arch.kv_heads * dv + arch.heads * dv)
            + 2.0 * sb * active_ffn * (gate + 1.0)
            + moe_share * 2.0 * sb * h * arch.top_k;
    let core = if s.flash_attention || s.recompute == Recompute::Selective {
        0.0
    } else {
        5.0 * arch.heads * seq * seq * f64::from(s.microbatch)
    };
    unsplit + (split + core) / tp
}

/// Memory per accelerator for `s`, with `microbatches` per step per pipeline.
pub fn memory(
    arch: &Arch,
    hw: &crate::step::Hardware,
    s: &Strategy,
    w: &Workload,
    microbatches: f64,
    c: &ModelConstants,
) -> MemoryBreakdown {
    let (tp, pp, ep) = (f64::from(s.tp), f64::from(s.pp), f64::from(s.ep));
    // ZeRO shards over the data- and context-parallel ranks together (Megatron).
    let dp = f64::from(s.dp) * f64::from(s.cp);
    let v = f64::from(s.virtual_pp.max(1));
    let expert_params = arch.routed_expert_params();
    let non_expert_per_stage = (arch.total_params() - expert_params - arch.embedding_params()) / pp
        + arch.vocab * arch.hidden;
    let params = non_expert_per_stage / tp + expert_params / pp / tp / ep;
    let shard = |stage_at_least: u8| if s.zero >= stage_at_least { dp } else { 1.0 };
    let weights_bytes = 2.0 * params / shard(3);
    let gradients_bytes = 4.0 * params / shard(2);
    let optimizer_bytes = 12.0 * params / shard(1);

    let layers_per_stage = arch.layers / pp;
    let in_flight = microbatches.min(pp);
    let interleave = if v > 1.0 {
        1.0 + (pp - 1.0) / (pp * v)
    } else {
        1.0
    };
    let mut activations_bytes =
        activation_bytes_per_layer(arch, s, w) * layers_per_stage * in_flight * interleave;
    if s.recompute == Recompute::Full {
        // One layer's full activations live while it is recomputed.
        let working = Strategy {
            recompute: Recompute::None,
            ..*s
        };
        activations_bytes += activation_bytes_per_layer(arch, &working, w);
    }
    // fp32 logits for the loss on the last stage.
    activations_bytes +=
        4.0 * w.seq_len / f64::from(s.cp) * f64::from(s.microbatch) * arch.vocab / tp;
    let _ = hw;
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
    use crate::step::{Precision, Strategy};

    fn strategy(tp: u32, sp: bool, recompute: Recompute) -> Strategy {
        Strategy {
            tp,
            pp: 1,
            dp: 1,
            cp: 1,
            ep: 1,
            virtual_pp: 1,
            microbatch: 1,
            sequence_parallel: sp,
            recompute,
            zero: 0,
            flash_attention: false,
            overlap_grad_reduce: false,
            fused_elementwise: true,
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
}
