//! Speed of the serving model: one evaluation (the batch bisection included) for a dense and
//! an MoE model, and the full layout search. Run with `cargo bench -p perf --bench serve`.
//!
//! Targets (issue 4): one configuration in microseconds; a layout search in well under a second.

use perf::reference::{deepseek_v3, h100_sxm as h100, llama3_70b};
use perf::{
    evaluate_serving, search_serving, ModelConstants, Precision, ServingLayout, ServingMode,
    ServingWorkload, DEFAULT_SLO_PERCENTILE,
};

fn main() {
    divan::main();
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
    let (arch, hw, w, c) = (llama3_70b(), h100(), server(), ModelConstants::serving());
    let l = layout(4, 1);
    bencher.bench(|| evaluate_serving(divan::black_box(&arch), divan::black_box(&hw), &l, &w, &c));
}

#[divan::bench]
fn evaluate_moe_deepseek_ep64(bencher: divan::Bencher) {
    let (arch, hw, w, c) = (deepseek_v3(), h100(), server(), ModelConstants::serving());
    let l = layout(1, 64);
    bencher.bench(|| evaluate_serving(divan::black_box(&arch), divan::black_box(&hw), &l, &w, &c));
}

#[divan::bench]
fn search_moe_deepseek(bencher: divan::Bencher) {
    let (arch, hw, w, c) = (deepseek_v3(), h100(), server(), ModelConstants::serving());
    bencher.bench(|| search_serving(divan::black_box(&arch), &hw, Precision::Fp8, 1.0, &w, &c, 5));
}

/// Issue 14: one evaluation of a 16-bin length profile (ShareGPT) in server mode, the batch-in-flight
/// queue and the TTFT percentile over the bins included. Target: at most 20 µs.
#[divan::bench]
fn evaluate_traffic_sharegpt_16_bins(bencher: divan::Bencher) {
    let (arch, hw, w, c) = (llama3_70b(), h100(), server(), ModelConstants::serving());
    let p = perf::LengthProfile::named("sharegpt").unwrap();
    let traffic = perf::Traffic {
        profile: p.name.into(),
        bins: p.histogram(16),
        prefix_hit_rate: 0.3,
    };
    let l = layout(4, 1);
    bencher.bench(|| {
        perf::evaluate_traffic(
            divan::black_box(&arch),
            divan::black_box(&hw),
            &l,
            &w,
            &traffic,
            &c,
        )
    });
}

/// The same for wide expert parallelism, disaggregated (the prefill pool and KV transfer per bin).
#[divan::bench]
fn evaluate_traffic_moe_disaggregated_16_bins(bencher: divan::Bencher) {
    let (arch, hw, c) = (deepseek_v3(), h100(), ModelConstants::serving());
    let w = ServingWorkload {
        disaggregated: true,
        ..server()
    };
    let p = perf::LengthProfile::named("sharegpt").unwrap();
    let traffic = perf::Traffic {
        profile: p.name.into(),
        bins: p.histogram(16),
        prefix_hit_rate: 0.5,
    };
    let l = layout(1, 64);
    bencher.bench(|| {
        perf::evaluate_traffic(
            divan::black_box(&arch),
            divan::black_box(&hw),
            &l,
            &w,
            &traffic,
            &c,
        )
    });
}
