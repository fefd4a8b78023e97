//! Megatron-Core rotates queries and keys with unfused PyTorch ops when YaRN's concentration
//! factor is not 1 (GPT-OSS): the step charges those element-wise passes and launches, through
//! the public API; and the query and key norms of models that normalise each head (Qwen3).

use perf::reference::h100_sxm;
use perf::{evaluate, Arch, ModelConstants, Precision, Strategy, Workload};

/// GPT-OSS-120B's attention shape (36 layers, hidden 2880, 64 query heads and 8 KV heads of
/// width 64), dense here: RoPE does not depend on the MLP.
fn gpt_oss_like(yarn_scaling_factor: f64) -> Arch {
    Arch {
        kv_heads: 8.0,
        head_dim: 64.0,
        yarn_scaling_factor,
        ..Arch::gpt(36, 2880, 64, 201_088)
    }
}

#[test]
fn yarn_models_pay_for_megatrons_unfused_rope() {
    // One H100, one 4,096-token sequence, BF16. Rotated elements per token: (64 + 8) heads x
    // 64 = 4,608; bytes per layer forward: 16 x 4,096 x 4,608 = 302.0 MB at 3.35 TB/s x the
    // memory efficiency, plus 12 launches (six per rotated tensor) x the kernel overhead;
    // forward and backward 3x that, 36 layers.
    let hw = h100_sxm();
    let s = Strategy::single();
    let w = Workload::new(1.0, 4096.0, Precision::Bf16);
    let plain = evaluate(&gpt_oss_like(0.0), &hw, &s, &w)
        .breakdown
        .compute_s;
    let yarn = evaluate(&gpt_oss_like(32.0), &hw, &s, &w)
        .breakdown
        .compute_s;
    let c = ModelConstants::default();
    let per_layer = 16.0 * 4096.0 * 4608.0 / (hw.hbm_bytes_per_s * c.memory_efficiency)
        + 12.0 * c.kernel_overhead_s;
    let expected = 36.0 * 3.0 * per_layer;
    let added = yarn - plain;
    assert!(
        (added - expected).abs() < 1e-3 * expected,
        "added {added} s, expected {expected} s"
    );
    // A factor of 1 is no scaling: TE's fused RoPE, nothing added.
    let one = evaluate(&gpt_oss_like(1.0), &hw, &s, &w)
        .breakdown
        .compute_s;
    assert_eq!(one, plain);
}

#[test]
fn query_and_key_norms_cost_their_passes_and_keep_their_inputs() {
    // Qwen3 normalises each query and key head (QK-norm): Transformer Engine's fused RMSNorm on
    // the queries and on the keys, 10 bytes an element over forward and backward (charged
    // 10 / 3 forward, doubled for the backward) and 2 launches. GPT-OSS's attention shape on
    // one H100, one 4,096-token sequence: (64 + 8) heads x 64 = 4,608 elements a token;
    //   bytes per layer, forward-equivalent: 10 / 3 x 4,096 x 4,608 = 62.9 MB at 3.35 TB/s x
    //   0.85 = 22.1 us; 2 launches x 4 us; forward and backward 3 x 30.1 us; 36 layers: 3.25 ms.
    let hw = h100_sxm();
    let s = Strategy::single();
    let w = Workload::new(1.0, 4096.0, Precision::Bf16);
    let plain_arch = gpt_oss_like(0.0);
    let normed_arch = Arch {
        qk_norm: true,
        ..gpt_oss_like(0.0)
    };
    let plain = evaluate(&plain_arch, &hw, &s, &w);
    let normed = evaluate(&normed_arch, &hw, &s, &w);
    let c = ModelConstants::default();
    let per_layer = 10.0 / 3.0 * 4096.0 * 4608.0 / (hw.hbm_bytes_per_s * c.memory_efficiency)
        + 2.0 * c.kernel_overhead_s;
    let expected = 36.0 * 3.0 * per_layer;
    let added = normed.breakdown.compute_s - plain.breakdown.compute_s;
    assert!(
        (added - expected).abs() < 1e-3 * expected,
        "added {added} s, expected {expected} s"
    );
    // The norm keeps its input: the pre-norm queries and keys, 2 bytes x 4,608 x 4,096 a layer.
    let kept = perf::activation_bytes_per_layer(&normed_arch, &s, &w)
        - perf::activation_bytes_per_layer(&plain_arch, &s, &w);
    assert!((kept - 2.0 * 4608.0 * 4096.0).abs() < 1.0, "{kept}");
    assert!(normed.memory.activations_bytes > plain.memory.activations_bytes);
}
