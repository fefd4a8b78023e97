//! Prefill/decode disaggregation: a prefill pool and a decode pool, each with its own layout,
//! the KV cache of every request moved from the first to the second on the scale-out network,
//! and the prefill pool sized to the request rate the decode pool finishes.

use serde::Serialize;

use super::moe::PrefillCost;
use super::unit::Unit;
use super::{
    evaluate_serving_components, ComponentPrecision, ServingEfficiency, ServingEvaluation,
    ServingLayout, ServingWorkload,
};
use crate::arch::Arch;
use crate::step::{Hardware, ModelConstants};

/// A disaggregated deployment evaluated.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct DisaggEvaluation {
    /// The decode pool alone (its batch, latencies and step), at its own layout.
    pub decode: ServingEvaluation,
    /// The prefill pool's layout.
    pub prefill_layout: ServingLayout,
    /// What one request costs the prefill pool (all-to-all and KV transfer included).
    pub prefill: PrefillCost,
    /// Output tokens per second per decode accelerator.
    pub decode_tokens_per_s_per_gpu: f64,
    /// Prefill accelerators per decode accelerator: the decode pool's request rate times the
    /// prefill accelerator-seconds each request takes.
    pub prefill_gpus_per_decode_gpu: f64,
    /// Output tokens per second per accelerator of both pools together.
    pub output_tokens_per_s_per_gpu: f64,
    /// The share of a decode accelerator's scale-out bandwidth that receiving KV caches takes
    /// (above 1 the decode pool is slowed to what its network can receive).
    pub decode_kv_receive_utilisation: f64,
    /// Time to first token: the prefill alone, the KV transfer, and the first decode step, s.
    pub ttft_s: f64,
    /// Whether both pools can serve.
    pub feasible: bool,
}

/// Evaluates a disaggregated deployment: `decode_layout` serves `w` (its targets judged on the
/// decode pool; TTFT adds the prefill pool's latency and the KV transfer), `prefill_layout`
/// prefills at `hit_rate` prefix-cache hits.
pub fn evaluate_disaggregated(
    arch: &Arch,
    hw: &Hardware,
    prefill_layout: &ServingLayout,
    decode_layout: &ServingLayout,
    w: &ServingWorkload,
    hit_rate: f64,
    c: &ModelConstants,
) -> DisaggEvaluation {
    evaluate_disaggregated_with(
        arch,
        hw,
        prefill_layout,
        decode_layout,
        w,
        hit_rate,
        c,
        &ServingEfficiency::default(),
        &ComponentPrecision::uniform(decode_layout.precision),
    )
}

/// [`evaluate_disaggregated`] with an engine's efficiencies and each component's precision,
/// the same in both pools (the pools' layouts choose only their parallelism).
#[allow(clippy::too_many_arguments)]
pub fn evaluate_disaggregated_with(
    arch: &Arch,
    hw: &Hardware,
    prefill_layout: &ServingLayout,
    decode_layout: &ServingLayout,
    w: &ServingWorkload,
    hit_rate: f64,
    c: &ModelConstants,
    eff: &ServingEfficiency,
    components: &ComponentPrecision,
) -> DisaggEvaluation {
    let mut decode_w = *w;
    decode_w.disaggregated = true;
    // The decode pool's TTFT target is judged below with the prefill side added.
    decode_w.ttft_slo_s = None;
    let decode =
        evaluate_serving_components(arch, hw, decode_layout, &decode_w, c, eff, components);
    let prefill_unit = || {
        Unit::with_components(
            arch,
            hw,
            prefill_layout,
            c,
            w.input_tokens,
            None,
            eff,
            components,
        )
    };
    let prefill = prefill_unit().map(|u| u.prefill_cost(w.input_tokens, hit_rate, true));
    let mut out = DisaggEvaluation {
        decode,
        prefill_layout: *prefill_layout,
        prefill: prefill.unwrap_or_default(),
        decode_tokens_per_s_per_gpu: 0.0,
        prefill_gpus_per_decode_gpu: 0.0,
        output_tokens_per_s_per_gpu: 0.0,
        decode_kv_receive_utilisation: 0.0,
        ttft_s: f64::INFINITY,
        feasible: false,
    };
    let Some(prefill) = prefill else {
        return out;
    };
    if !decode.feasible {
        return out;
    }
    let decode_gpus = f64::from(decode_layout.gpus());
    let mut per_decode_gpu = decode.output_tokens_per_s / decode_gpus;
    // Each decode accelerator receives its requests' KV caches on its own NIC.
    let requests = per_decode_gpu / w.output_tokens;
    let receive_bw = hw.scale_out_bytes_per_s * c.link_efficiency;
    let utilisation = if receive_bw > 0.0 {
        requests * prefill.kv_bytes_per_request / receive_bw
    } else {
        0.0
    };
    if utilisation > 1.0 {
        per_decode_gpu /= utilisation;
    }
    let ratio = per_decode_gpu / w.output_tokens * prefill.gpu_s_per_request;
    let prefill_alone = prefill_unit().map_or(0.0, |u| {
        u.prefill_latency_s(w.input_tokens * (1.0 - hit_rate))
            + (w.input_tokens * (1.0 - hit_rate)) * u.prefill_all_to_all_s_per_token()
    });
    out.decode_tokens_per_s_per_gpu = per_decode_gpu;
    out.prefill_gpus_per_decode_gpu = ratio;
    out.output_tokens_per_s_per_gpu = per_decode_gpu / (1.0 + ratio);
    out.decode_kv_receive_utilisation = utilisation;
    out.ttft_s = prefill_alone + prefill.kv_send_s + decode.tpot_s;
    out.feasible = w.ttft_slo_s.is_none_or(|slo| out.ttft_s <= slo);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reference::{deepseek_v3, h100_sxm};
    use crate::serve::{ServingMode, DEFAULT_SLO_PERCENTILE};
    use crate::step::Precision;

    fn layout(ep: u32) -> ServingLayout {
        ServingLayout {
            tp: 1,
            pp: 1,
            ep,
            precision: Precision::Fp8,
            kv_bytes: 2.0,
            overlap_ep: true,
        }
    }

    fn workload(input: f64) -> ServingWorkload {
        ServingWorkload {
            input_tokens: input,
            output_tokens: 1000.0,
            ttft_slo_s: None,
            tpot_slo_s: Some(0.05),
            mode: ServingMode::Offline,
            disaggregated: true,
            max_batch: Some(256),
            speculation: None,
            slo_percentile: DEFAULT_SLO_PERCENTILE,
        }
    }

    #[test]
    fn pools_are_sized_to_each_other() {
        let (arch, hw, c) = (deepseek_v3(), h100_sxm(), ModelConstants::serving());
        let short = evaluate_disaggregated(
            &arch,
            &hw,
            &layout(32),
            &layout(64),
            &workload(1000.0),
            0.0,
            &c,
        );
        let long = evaluate_disaggregated(
            &arch,
            &hw,
            &layout(32),
            &layout(64),
            &workload(8000.0),
            0.0,
            &c,
        );
        assert!(short.feasible && long.feasible);
        // Longer prompts need more prefill accelerators per decode accelerator.
        assert!(long.prefill_gpus_per_decode_gpu > 2.0 * short.prefill_gpus_per_decode_gpu);
        // Both pools counted: below the decode pool's own rate.
        assert!(short.output_tokens_per_s_per_gpu < short.decode_tokens_per_s_per_gpu);
        // The ratio is the decode pool's request rate times the prefill seconds per request.
        let expected = short.decode_tokens_per_s_per_gpu / 1000.0 * short.prefill.gpu_s_per_request;
        assert!((short.prefill_gpus_per_decode_gpu - expected).abs() < 1e-12);
        assert!(short.ttft_s > short.prefill.kv_send_s);
    }

    #[test]
    fn both_pools_take_the_engine_and_the_component_precisions() {
        let (arch, hw, c) = (deepseek_v3(), h100_sxm(), ModelConstants::serving());
        let w = workload(2000.0);
        let args = (&layout(32), &layout(64));
        let base = evaluate_disaggregated(&arch, &hw, args.0, args.1, &w, 0.0, &c);
        // A slower engine: both the decode pool's rate and the prefill per request move.
        let slow = ServingEfficiency {
            engine_step_factor: 1.3,
            ..ServingEfficiency::default()
        };
        let uniform = ComponentPrecision::uniform(Precision::Fp8);
        let e =
            evaluate_disaggregated_with(&arch, &hw, args.0, args.1, &w, 0.0, &c, &slow, &uniform);
        assert!(e.decode_tokens_per_s_per_gpu < base.decode_tokens_per_s_per_gpu);
        // BF16 attention and dense layers: more weight bytes in the decode pool.
        let mixed = ComponentPrecision {
            attention: Precision::Bf16,
            dense: Precision::Bf16,
            experts: Precision::Fp8,
        };
        let d = ServingEfficiency::default();
        let m = evaluate_disaggregated_with(&arch, &hw, args.0, args.1, &w, 0.0, &c, &d, &mixed);
        assert!(m.decode.weights_gib > base.decode.weights_gib);
        // The defaults are the uniform precision and the default efficiencies.
        let same =
            evaluate_disaggregated_with(&arch, &hw, args.0, args.1, &w, 0.0, &c, &d, &uniform);
        assert_eq!(same, base);
    }

    #[test]
    fn a_ttft_target_counts_the_kv_transfer() {
        let (arch, hw, c) = (deepseek_v3(), h100_sxm(), ModelConstants::serving());
        let mut w = workload(8000.0);
        let free = evaluate_disaggregated(&arch, &hw, &layout(32), &layout(64), &w, 0.0, &c);
        w.ttft_slo_s = Some(free.ttft_s - free.prefill.kv_send_s / 2.0);
        let tight = evaluate_disaggregated(&arch, &hw, &layout(32), &layout(64), &w, 0.0, &c);
        assert!(!tight.feasible);
    }
}
