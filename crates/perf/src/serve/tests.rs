//! Unit tests of the serving model.

use super::unit::GIB;
use crate::arch::Arch;
use crate::step::ModelConstants;

use super::*;

use crate::reference::{deepseek_v3, h100_sxm as h100, llama3_70b as llama70b};

/// Tensor parallel over `tp` H100s, FP8 weights and KV cache.
fn fp8_tp(tp: u32) -> ServingLayout {
    ServingLayout {
        tp,
        pp: 1,
        ep: 1,
        precision: Precision::Fp8,
        kv_bytes: 1.0,
        overlap_ep: false,
    }
}

/// Llama 3 70B on H100s at the default constants.
fn llama_on_h100(layout: &ServingLayout, w: &ServingWorkload) -> ServingEvaluation {
    evaluate_serving(&llama70b(), &h100(), layout, w, &ModelConstants::serving())
}

#[test]
fn gqa_kv_cache_per_token() {
    // Llama 2 70B: 80 layers x 2 (K, V) x 8 heads x 128 x 2 bytes = 327,680 bytes per token;
    // at TP 2 each rank holds 4 of the 8 heads: 163,840.
    let arch = llama70b();
    let layout = ServingLayout {
        tp: 2,
        pp: 1,
        ep: 1,
        precision: Precision::Fp8,
        kv_bytes: 2.0,
        overlap_ep: false,
    };
    assert_eq!(kv_bytes_per_token(&arch, &layout), 163_840.0);
}

#[test]
fn throughput_never_exceeds_the_compute_roofline() {
    let arch = llama70b();
    let layout = fp8_tp(2);
    let w = ServingWorkload {
        input_tokens: 300.0,
        output_tokens: 300.0,
        ttft_slo_s: None,
        tpot_slo_s: None,
        mode: ServingMode::Offline,
        disaggregated: false,
        max_batch: None,
        speculation: None,
        slo_percentile: DEFAULT_SLO_PERCENTILE,
    };
    let e = evaluate_serving(&arch, &h100(), &layout, &w, &ModelConstants::serving());
    assert!(e.feasible);
    // Each output token costs at least 2 x active params FLOPs (plus its share of prefill).
    let roofline = 2.0 * 1979e12 / (2.0 * arch.active_params());
    assert!(
        e.output_tokens_per_s < roofline,
        "{} vs {}",
        e.output_tokens_per_s,
        roofline
    );
}

#[test]
fn a_tighter_tpot_target_never_raises_throughput() {
    let arch = llama70b();
    let layout = fp8_tp(4);
    let mut last = f64::INFINITY;
    for slo in [0.2, 0.1, 0.05, 0.03, 0.02] {
        let w = ServingWorkload {
            input_tokens: 1000.0,
            output_tokens: 200.0,
            ttft_slo_s: None,
            tpot_slo_s: Some(slo),
            mode: ServingMode::Server,
            disaggregated: false,
            max_batch: None,
            speculation: None,
            slo_percentile: DEFAULT_SLO_PERCENTILE,
        };
        let e = evaluate_serving(&arch, &h100(), &layout, &w, &ModelConstants::serving());
        let t = if e.feasible {
            e.output_tokens_per_s
        } else {
            0.0
        };
        assert!(t <= last, "slo {slo}: {t} > {last}");
        if e.feasible {
            assert!(e.tpot_s <= slo);
        }
        last = t;
    }
}

#[test]
fn weights_that_do_not_fit_are_infeasible_not_an_error() {
    let arch = llama70b();
    let layout = ServingLayout {
        tp: 1,
        pp: 1,
        ep: 1,
        precision: Precision::Bf16,
        kv_bytes: 2.0,
        overlap_ep: false,
    };
    let w = ServingWorkload {
        input_tokens: 100.0,
        output_tokens: 100.0,
        ttft_slo_s: None,
        tpot_slo_s: None,
        mode: ServingMode::Offline,
        disaggregated: false,
        max_batch: None,
        speculation: None,
        slo_percentile: DEFAULT_SLO_PERCENTILE,
    };
    let e = evaluate_serving(&arch, &h100(), &layout, &w, &ModelConstants::serving());
    assert_eq!(e.infeasible, Some(ServeInfeasible::WeightsDoNotFit));
}

fn workload(mode: ServingMode, percentile: f64) -> ServingWorkload {
    ServingWorkload {
        input_tokens: 1000.0,
        output_tokens: 300.0,
        ttft_slo_s: Some(2.0),
        tpot_slo_s: Some(0.2),
        mode,
        disaggregated: false,
        max_batch: None,
        speculation: None,
        slo_percentile: percentile,
    }
}

#[test]
fn normal_quantiles_match_the_tables() {
    assert!(normal_quantile(0.5).abs() < 1e-9);
    assert!((normal_quantile(0.99) - 2.326_347_874).abs() < 1e-6);
    assert!((normal_quantile(0.9) - 1.281_551_566).abs() < 1e-6);
    assert!((normal_quantile(0.001) + 3.090_232_306).abs() < 1e-6);
}

#[test]
fn random_arrivals_never_serve_more_than_a_full_offline_batch() {
    let arch = llama70b();
    let layout = fp8_tp(2);
    let c = ModelConstants::serving();
    let offline = evaluate_serving(
        &arch,
        &h100(),
        &layout,
        &workload(ServingMode::Offline, 99.0),
        &c,
    );
    let mut last = f64::INFINITY;
    for percentile in [50.0, 90.0, 99.0, 99.9] {
        let server = evaluate_serving(
            &arch,
            &h100(),
            &layout,
            &workload(ServingMode::Server, percentile),
            &c,
        );
        assert!(server.feasible, "{percentile}");
        assert!(
            server.output_tokens_per_s <= offline.output_tokens_per_s,
            "p{percentile}: {} > {}",
            server.output_tokens_per_s,
            offline.output_tokens_per_s
        );
        // A stricter percentile never raises throughput, and the tail is judged at the
        // tail: its TPOT is no better than the mean's.
        assert!(server.output_tokens_per_s <= last, "p{percentile}");
        assert!(server.tpot_at_percentile_s >= server.tpot_s);
        assert!(server.tpot_at_percentile_s <= 0.2);
        last = server.output_tokens_per_s;
    }
}

#[test]
fn an_engine_batch_limit_caps_the_batch_and_never_raises_throughput() {
    let arch = llama70b();
    let layout = fp8_tp(2);
    let c = ModelConstants::serving();
    let free = evaluate_serving(
        &arch,
        &h100(),
        &layout,
        &workload(ServingMode::Offline, 99.0),
        &c,
    );
    let limited = llama_on_h100(
        &layout,
        &ServingWorkload {
            max_batch: Some(64),
            ..workload(ServingMode::Offline, 99.0)
        },
    );
    assert_eq!(limited.batch, 64);
    assert!(free.batch > 64);
    assert!(limited.output_tokens_per_s < free.output_tokens_per_s);
}

#[test]
fn overlapping_the_all_to_all_never_slows_a_step_and_hides_at_most_the_paired_compute() {
    let arch = deepseek_v3();
    let c = ModelConstants::serving();
    let w = ServingWorkload {
        input_tokens: 2000.0,
        output_tokens: 1.0,
        ttft_slo_s: None,
        tpot_slo_s: None,
        mode: ServingMode::Offline,
        disaggregated: true,
        max_batch: Some(128),
        speculation: None,
        slo_percentile: 99.0,
    };
    let layout = |overlap_ep| ServingLayout {
        tp: 1,
        pp: 1,
        ep: 64,
        precision: Precision::Fp8,
        kv_bytes: 2.0,
        overlap_ep,
    };
    let serial = evaluate_serving(&arch, &h100(), &layout(false), &w, &c);
    let overlapped = evaluate_serving(&arch, &h100(), &layout(true), &w, &c);
    let (s, o) = (serial.decode_step, overlapped.decode_step);
    assert!(s.ep_comm_s > 0.0);
    assert!(o.step_s <= s.step_s);
    // Perfect overlap would be max(compute, communication); pairing each all-to-all with
    // one compute phase can only be slower than that.
    let compute = s.step_s - s.ep_comm_s - s.launch_s - s.engine_s;
    assert!(o.step_s - o.launch_s - o.engine_s >= compute.max(s.ep_comm_s) - 1e-12);
    // Serial: the parts add up.
    let parts =
        s.gemm_s + s.kv_read_s + s.attention_compute_s + s.tp_comm_s + s.pp_comm_s + s.ep_comm_s;
    assert!((s.step_s - s.launch_s - s.engine_s - parts).abs() < 1e-12);
}

#[test]
fn fp8_runs_at_its_own_measured_ceiling() {
    let hw = h100();
    // H100: 794.5 of 989 TFLOP/s in BF16, 1,402.6 of 1,979 in FP8 (measured MAMF).
    let close = |a: Option<f64>, b: f64| (a.unwrap() - b).abs() < 1e3;
    assert!(close(hw.matmul_ceiling(Precision::Bf16), 794.5e12));
    assert!(close(hw.matmul_ceiling(Precision::Fp8), 1402.6e12));
    assert_eq!(hw.matmul_ceiling(Precision::Fp4), None);
}

#[test]
fn speculation_emits_the_accepted_prefix_plus_one() {
    let spec = |k, a| Speculation {
        draft_tokens: k,
        acceptance_rate: a,
        draft_cost_fraction: None,
    };
    assert!((spec(1, 0.85).tokens_per_step() - 1.85).abs() < 1e-12);
    // Two drafts: 1 + a + a^2.
    assert!((spec(2, 0.5).tokens_per_step() - 1.75).abs() < 1e-12);
    assert_eq!(spec(3, 1.0).tokens_per_step(), 4.0);
    assert_eq!(spec(3, 0.0).tokens_per_step(), 1.0);
}

#[test]
fn speculation_speeds_up_small_batches_and_never_beats_its_token_count() {
    let layout = fp8_tp(4);
    for max_batch in [1, 8, 64, 512] {
        let plain = ServingWorkload {
            max_batch: Some(max_batch),
            ..workload(ServingMode::Offline, 99.0)
        };
        let mtp = ServingWorkload {
            speculation: Some(Speculation {
                draft_tokens: 1,
                acceptance_rate: 0.85,
                draft_cost_fraction: None,
            }),
            ..plain
        };
        let base = llama_on_h100(&layout, &plain);
        let fast = llama_on_h100(&layout, &mtp);
        let gain = fast.output_tokens_per_s / base.output_tokens_per_s;
        assert!(gain <= 1.85, "batch {max_batch}: {gain}");
        if max_batch == 1 {
            // Memory-bound: verifying a second token costs almost nothing, so the gain
            // approaches the 1.85 tokens per step (DeepSeek reports 1.8x TPS from MTP).
            assert!(gain > 1.6, "{gain}");
            assert!(fast.tpot_s < base.tpot_s);
        }
        assert!(fast.decode_step.draft_s > 0.0);
    }
}

#[test]
fn pipeline_stages_never_hold_more_kv_cache_than_fits() {
    let w = ServingWorkload {
        input_tokens: 8000.0,
        output_tokens: 2000.0,
        ..workload(ServingMode::Offline, 99.0)
    };
    for pp in [1, 2, 4, 8, 16] {
        let layout = ServingLayout { pp, ..fp8_tp(1) };
        let e = llama_on_h100(&layout, &w);
        if !e.feasible {
            continue;
        }
        let used = (e.kv_cache_gib + e.weights_gib) * GIB;
        assert!(used <= h100().hbm_bytes, "pp {pp}: {} GiB", used / GIB);
    }
}

#[test]
fn an_unmeetable_target_quotes_the_figures_it_was_judged_at() {
    // Server mode judges the targets at the 99.9th percentile of sequences in flight; the
    // best figures quoted when no batch meets them are those, so at least one is over its
    // target (quoting batch-1 means could show both under: issue 17).
    let layout = fp8_tp(2);
    let mut unmeetable = 0;
    for step in 20..4000 {
        // 1 to 200 ms in 0.05 ms steps: finer than the gap between the mean and the tail.
        let tpot_ms = f64::from(step) * 0.05;
        let w = ServingWorkload {
            ttft_slo_s: Some(100.0),
            tpot_slo_s: Some(tpot_ms / 1000.0),
            ..workload(ServingMode::Server, 99.9)
        };
        let e = llama_on_h100(&layout, &w);
        if e.infeasible == Some(ServeInfeasible::SloUnmeetable) {
            unmeetable += 1;
            assert!(
                e.best_tpot_judged_s > tpot_ms / 1000.0,
                "target {tpot_ms} ms missed, yet the quoted best TPOT is {:.2} ms",
                1e3 * e.best_tpot_judged_s
            );
        }
    }
    assert!(unmeetable > 0, "some targets are unmeetable");
}

#[test]
fn quantised_experts_with_16_bit_attention_sit_between_the_uniform_precisions() {
    // Quantised experts with BF16 attention (as gpt-oss ships MXFP4 experts): weights and step
    // lie between the uniform precisions, and uniform through the component path is the plain
    // result. FP8 experts on H100 here (the reference H100 has no FP4).
    let arch = Arch {
        experts: 32.0,
        top_k: 4.0,
        moe_ffn_hidden: 2880.0,
        ..Arch::gpt(36, 2880, 64, 201_088)
    };
    let hw = h100();
    let c = ModelConstants::serving();
    let eff = ServingEfficiency::default();
    let w = ServingWorkload {
        input_tokens: 1024.0,
        output_tokens: 1024.0,
        ttft_slo_s: None,
        tpot_slo_s: None,
        mode: ServingMode::Offline,
        disaggregated: false,
        max_batch: Some(4),
        speculation: None,
        slo_percentile: DEFAULT_SLO_PERCENTILE,
    };
    let layout = ServingLayout {
        tp: 1,
        pp: 1,
        ep: 1,
        precision: Precision::Fp8,
        kv_bytes: 1.0,
        overlap_ep: false,
    };
    let run = |cp: ComponentPrecision| {
        evaluate_serving_components(&arch, &hw, &layout, &w, &c, &eff, &cp)
    };
    let fp8 = run(ComponentPrecision::uniform(Precision::Fp8));
    let bf16 = run(ComponentPrecision::uniform(Precision::Bf16));
    let mixed = run(ComponentPrecision {
        attention: Precision::Bf16,
        dense: Precision::Bf16,
        experts: Precision::Fp8,
    });
    assert_eq!(
        fp8,
        evaluate_serving_with(&arch, &hw, &layout, &w, &c, &eff)
    );
    assert!(fp8.weights_gib < mixed.weights_gib && mixed.weights_gib < bf16.weights_gib);
    // At the same batch (the engine's limit binds every precision here).
    assert_eq!((fp8.batch, mixed.batch, bf16.batch), (4, 4, 4));
    assert!(fp8.decode_step.step_s < mixed.decode_step.step_s);
    assert!(mixed.decode_step.step_s < bf16.decode_step.step_s);
}
