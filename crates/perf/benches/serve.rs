//! Speed of the serving model: one evaluation (the batch bisection included) for a dense and
//! an MoE model, and the full layout search. Run with `cargo bench -p perf --bench serve`.
//!
//! Targets (issue 4): one configuration in microseconds; a layout search in well under a second.

use perf::{
    evaluate_serving, search_serving, Arch, Hardware, Mla, ModelConstants, Precision,
    ServingLayout, ServingMode, ServingWorkload, DEFAULT_SLO_PERCENTILE,
};

fn main() {
    divan::main();
}

fn h100() -> Hardware {
    Hardware {
        peak_bf16_flops: 989e12,
        peak_fp8_flops: Some(1979e12),
        peak_fp4_flops: None,
        matmul_efficiency: 794.5 / 989.0,
        low_precision_matmul_efficiency: 1402.6 / 1979.0,
        hbm_bytes: 80.0 * 1024f64.powi(3),
        hbm_bytes_per_s: 3.35e12,
        scale_up_domain: 8.0,
        scale_up_bytes_per_s: 450e9,
        scale_out_bytes_per_s: 50e9,
    }
}

fn llama3_70b() -> Arch {
    Arch {
        layers: 80.0,
        hidden: 8192.0,
        ffn_hidden: 28672.0,
        heads: 64.0,
        kv_heads: 8.0,
        head_dim: 128.0,
        vocab: 128256.0,
        gated_mlp: true,
        tied_embeddings: false,
        ..Arch::gpt(1, 1, 1, 1)
    }
}

fn deepseek_v3() -> Arch {
    Arch {
        layers: 61.0,
        hidden: 7168.0,
        ffn_hidden: 18432.0,
        heads: 128.0,
        kv_heads: 128.0,
        head_dim: 128.0,
        vocab: 129280.0,
        gated_mlp: true,
        tied_embeddings: false,
        experts: 256.0,
        top_k: 8.0,
        moe_ffn_hidden: 2048.0,
        shared_experts: 1.0,
        dense_layers: 3.0,
        mla: Some(Mla {
            q_lora_rank: 1536.0,
            kv_lora_rank: 512.0,
            qk_nope_head_dim: 128.0,
            qk_rope_head_dim: 64.0,
            v_head_dim: 128.0,
        }),
    }
}

fn server() -> ServingWorkload {
    ServingWorkload {
        input_tokens: 2000.0,
        output_tokens: 500.0,
        ttft_slo_s: Some(2.0),
        tpot_slo_s: Some(0.05),
        mode: ServingMode::Server,
        disaggregated: false,
        max_batch: None,
        speculation: None,
        slo_percentile: DEFAULT_SLO_PERCENTILE,
    }
}

fn layout(tp: u32, ep: u32) -> ServingLayout {
    ServingLayout {
        tp,
        pp: 1,
        ep,
        precision: Precision::Fp8,
        kv_bytes: 1.0,
        overlap_ep: ep > 1,
    }
}

#[divan::bench]
fn evaluate_dense_70b_tp4(bencher: divan::Bencher) {
    let (arch, hw, w, c) = (llama3_70b(), h100(), server(), ModelConstants::default());
    let l = layout(4, 1);
    bencher.bench(|| evaluate_serving(divan::black_box(&arch), divan::black_box(&hw), &l, &w, &c));
}

#[divan::bench]
fn evaluate_moe_deepseek_ep64(bencher: divan::Bencher) {
    let (arch, hw, w, c) = (deepseek_v3(), h100(), server(), ModelConstants::default());
    let l = layout(1, 64);
    bencher.bench(|| evaluate_serving(divan::black_box(&arch), divan::black_box(&hw), &l, &w, &c));
}

#[divan::bench]
fn search_moe_deepseek(bencher: divan::Bencher) {
    let (arch, hw, w, c) = (deepseek_v3(), h100(), server(), ModelConstants::default());
    bencher.bench(|| search_serving(divan::black_box(&arch), &hw, Precision::Fp8, 1.0, &w, &c, 5));
}
