use super::*;
use crate::reference::{deepseek_v3, h100_sxm, llama3_70b};
use crate::step::Precision;
use proptest::prelude::*;

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

fn workload(mode: ServingMode) -> ServingWorkload {
    ServingWorkload {
        input_tokens: 2000.0,
        output_tokens: 500.0,
        ttft_slo_s: Some(2.0),
        tpot_slo_s: Some(0.05),
        mode,
        disaggregated: false,
        max_batch: None,
        speculation: None,
        slo_percentile: DEFAULT_SLO_PERCENTILE,
    }
}

#[test]
fn one_bin_offline_is_the_plain_model() {
    let (arch, hw, c) = (llama3_70b(), h100_sxm(), ModelConstants::serving());
    let w = workload(ServingMode::Offline);
    let plain = evaluate_serving(&arch, &hw, &layout(4, 1), &w, &c);
    let t = evaluate_traffic(
        &arch,
        &hw,
        &layout(4, 1),
        &w,
        &Traffic::uniform(2000.0, 500.0),
        &c,
    );
    assert_eq!(t.evaluation.batch, plain.batch);
    let ratio = t.evaluation.output_tokens_per_s / plain.output_tokens_per_s;
    assert!((ratio - 1.0).abs() < 1e-9, "{ratio}");
    assert!((t.evaluation.ttft_s / plain.ttft_s - 1.0).abs() < 1e-9);
}

#[test]
fn one_bin_server_is_the_plain_model() {
    // Server mode has one mechanism: the plain evaluation's server figures are the queue's.
    let (arch, hw, c) = (llama3_70b(), h100_sxm(), ModelConstants::serving());
    let w = workload(ServingMode::Server);
    let plain = evaluate_serving(&arch, &hw, &layout(4, 1), &w, &c);
    let t = evaluate_traffic(
        &arch,
        &hw,
        &layout(4, 1),
        &w,
        &Traffic::uniform(2000.0, 500.0),
        &c,
    );
    assert!(plain.feasible && t.queue.is_some());
    assert_eq!(t.evaluation, plain);
}

#[test]
fn the_engine_and_component_precisions_count_on_the_traffic_path() {
    let (arch, hw, c) = (deepseek_v3(), h100_sxm(), ModelConstants::serving());
    let l = layout(1, 32);
    let t = Traffic::uniform(2000.0, 500.0);
    let w = workload(ServingMode::Offline);
    let base = ServingEfficiency::default();
    let reference = evaluate_traffic_with(&arch, &hw, &l, &w, &t, &c, &base);
    // The engine's memory share: less KV cache, a smaller full batch.
    let vllm_memory = ServingEfficiency {
        memory_fraction: 0.9,
        ..base
    };
    let smaller = evaluate_traffic_with(&arch, &hw, &l, &w, &t, &c, &vllm_memory);
    assert!(smaller.evaluation.max_batch < reference.evaluation.max_batch);
    // The engine's step factor: a slower step.
    let slower = ServingEfficiency {
        engine_step_factor: 1.2,
        ..base
    };
    let slow = evaluate_traffic_with(&arch, &hw, &l, &w, &t, &c, &slower);
    assert!(slow.evaluation.decode_step.step_s > reference.evaluation.decode_step.step_s);
    // BF16 attention and dense layers beside FP8 experts: more weight bytes than uniform FP8,
    // as the plain path counts them.
    let mixed = ComponentPrecision {
        attention: Precision::Bf16,
        dense: Precision::Bf16,
        experts: Precision::Fp8,
    };
    let m = evaluate_traffic_components(&arch, &hw, &l, &w, &t, &c, &base, &mixed);
    let plain = evaluate_serving_components(&arch, &hw, &l, &w, &c, &base, &mixed);
    assert!(m.evaluation.weights_gib > reference.evaluation.weights_gib);
    assert!((m.evaluation.weights_gib / plain.weights_gib - 1.0).abs() < 1e-12);
    assert_eq!(m.evaluation.max_batch, plain.max_batch);
}

#[test]
fn a_profile_keeps_its_published_means() {
    for p in PROFILES {
        let bins = p.histogram(16);
        let t = Traffic {
            profile: p.name.into(),
            bins,
            prefix_hit_rate: 0.0,
        };
        assert!(
            (t.mean_input() / p.mean_input_tokens - 1.0).abs() < 1e-9,
            "{}",
            p.name
        );
        assert!((t.mean_output() / p.mean_output_tokens - 1.0).abs() < 1e-9);
        let shares: f64 = t.bins.iter().map(|b| b.share).sum();
        assert!((shares - 1.0).abs() < 1e-12);
    }
    assert_eq!(
        LengthProfile::named("sharegpt")
            .unwrap()
            .histogram(16)
            .len(),
        16
    );
}

#[test]
fn prefix_hits_save_prefill_and_hold_memory() {
    let (arch, hw, c) = (llama3_70b(), h100_sxm(), ModelConstants::serving());
    let w = workload(ServingMode::Offline);
    let cold = evaluate_traffic(
        &arch,
        &hw,
        &layout(4, 1),
        &w,
        &Traffic::uniform(8000.0, 200.0),
        &c,
    );
    let mut warm_traffic = Traffic::uniform(8000.0, 200.0);
    warm_traffic.prefix_hit_rate = 0.5;
    let warm = evaluate_traffic(&arch, &hw, &layout(4, 1), &w, &warm_traffic, &c);
    assert!(warm.prefill_saved_fraction > 0.4 && warm.prefill_saved_fraction < 0.6);
    assert!(warm.prefix_cache_gib > 0.0 && cold.prefix_cache_gib == 0.0);
    // Less prefill per step, fewer slots: per-step work falls more than the batch.
    assert!(warm.evaluation.max_batch < cold.evaluation.max_batch);
    assert!(warm.evaluation.ttft_s < cold.evaluation.ttft_s);
}

#[test]
fn server_mode_reports_the_queue_and_its_percentiles() {
    let (arch, hw, c) = (llama3_70b(), h100_sxm(), ModelConstants::serving());
    let w = workload(ServingMode::Server);
    let p = LengthProfile::named("sharegpt").unwrap();
    let t = Traffic {
        profile: p.name.into(),
        bins: p.histogram(16),
        prefix_hit_rate: 0.0,
    };
    let e = evaluate_traffic(&arch, &hw, &layout(4, 1), &w, &t, &c);
    assert!(e.evaluation.feasible);
    let q = e.queue.unwrap();
    assert!(q.utilisation < 1.0 && q.service_cv2 > 0.0);
    assert!(e.evaluation.ttft_at_percentile_s <= 2.0 + 1e-9);
    assert!(e.evaluation.tpot_at_percentile_s <= 0.05 + 1e-12);
    assert!(e.evaluation.ttft_at_percentile_s >= e.evaluation.best_ttft_s);
}

#[test]
fn wide_ep_disaggregated_traffic_pays_for_the_prefill_pool() {
    let (arch, hw, c) = (deepseek_v3(), h100_sxm(), ModelConstants::serving());
    let mut w = workload(ServingMode::Offline);
    w.disaggregated = true;
    w.max_batch = Some(256);
    let e = evaluate_traffic(
        &arch,
        &hw,
        &layout(1, 64),
        &w,
        &Traffic::uniform(2000.0, 500.0),
        &c,
    );
    assert!(e.evaluation.feasible);
    assert!(e.evaluation.prefill_to_decode_ratio > 0.0);
    assert!(e.evaluation.decode_step.ep_comm_s > 0.0);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    /// Server never exceeds Offline for the same system and traffic.
    #[test]
    fn server_never_exceeds_offline(
        input in 50.0f64..20_000.0,
        output in 10.0f64..4_000.0,
        ttft in 0.05f64..20.0,
        tpot in 0.005f64..0.5,
        hit in 0.0f64..0.9,
        sigma in 0.0f64..1.5,
        percentile in 50.0f64..99.9,
        moe in proptest::bool::ANY,
        disaggregated in proptest::bool::ANY,
    ) {
        let (arch, l) = if moe { (deepseek_v3(), layout(1, 32)) } else { (llama3_70b(), layout(4, 1)) };
        let (hw, c) = (h100_sxm(), ModelConstants::serving());
        let profile = LengthProfile {
            name: "p",
            mean_input_tokens: input,
            mean_output_tokens: output,
            sigma,
            source: "",
        };
        let t = Traffic { profile: "p".into(), bins: profile.histogram(16), prefix_hit_rate: hit };
        let mut w = workload(ServingMode::Server);
        w.ttft_slo_s = Some(ttft);
        w.tpot_slo_s = Some(tpot);
        w.slo_percentile = percentile;
        w.disaggregated = disaggregated;
        let server = evaluate_traffic(&arch, &hw, &l, &w, &t, &c);
        w.mode = ServingMode::Offline;
        let offline = evaluate_traffic(&arch, &hw, &l, &w, &t, &c);
        prop_assert!(
            server.evaluation.output_tokens_per_s_per_gpu
                <= offline.evaluation.output_tokens_per_s_per_gpu * (1.0 + 1e-12)
        );
        // And with uniform traffic through the plain model too.
        let plain_server = evaluate_serving(&arch, &hw, &l, &ServingWorkload { mode: ServingMode::Server, input_tokens: input, output_tokens: output, ..w }, &c);
        let plain_offline = evaluate_serving(&arch, &hw, &l, &ServingWorkload { input_tokens: input, output_tokens: output, ..w }, &c);
        prop_assert!(plain_server.output_tokens_per_s_per_gpu <= plain_offline.output_tokens_per_s_per_gpu * (1.0 + 1e-12));
    }
}
