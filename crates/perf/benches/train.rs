//! Speed of the training model: one evaluation, and the full layout search, for a 1T-parameter
//! model on 16,384 H100s. Run with `cargo bench -p perf`.
//!
//! Targets: at least 1,000,000 evaluations per second per core; the full search in under 2 s
//! on the 2-core development machine.

use perf::{
    Arch, Hardware, ModelConstants, Precision, Recompute, SearchOptions, Strategy, Workload,
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

fn workload() -> Workload {
    Workload {
        global_batch: 2048.0,
        seq_len: 2048.0,
        precision: Precision::Bf16,
    }
}

#[divan::bench]
fn evaluate_one_layout(bencher: divan::Bencher) {
    let arch = Arch::gpt(128, 25600, 160, 51200);
    let hw = h100();
    let s = Strategy {
        tp: 8,
        pp: 16,
        dp: 128,
        cp: 1,
        ep: 1,
        virtual_pp: 8,
        microbatch: 1,
        sequence_parallel: true,
        recompute: Recompute::Selective,
        zero: 1,
        flash_attention: true,
        overlap_grad_reduce: true,
        fused_elementwise: true,
    };
    let w = workload();
    bencher.bench(|| perf::evaluate(divan::black_box(&arch), &hw, divan::black_box(&s), &w));
}

#[divan::bench(sample_count = 10)]
fn search_1t_on_16384_gpus(bencher: divan::Bencher) {
    let arch = Arch::gpt(128, 25600, 160, 51200);
    let hw = h100();
    let options = SearchOptions {
        gpus: 16384,
        top: 5,
        max_microbatch: 16,
    };
    bencher.bench(|| {
        perf::search(
            &arch,
            &hw,
            &workload(),
            &options,
            &ModelConstants::default(),
        )
    });
}
