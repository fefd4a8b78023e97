//! Megatron-Core rotates queries and keys with unfused PyTorch ops when YaRN's concentration
//! factor is not 1 (GPT-OSS): the step charges those element-wise passes and launches, through
//! the public API.

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
