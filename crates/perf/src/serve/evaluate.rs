//! Evaluating one layout: the batch that maximises throughput within the targets.

use super::unit::{kv_bytes_per_token, Unit, GIB};
use super::*;
use crate::arch::Arch;
use crate::step::{Hardware, ModelConstants, Precision};

/// The matmul ceiling weight GEMMs run at: FP4 at the chip's own FP4 ceiling from the catalog
/// (NVFP4, else MXFP4; measured or derived by the catalog's stated rule), not FP8's fraction of
/// the FP4 peak; FP8 and BF16 at the chip's ceilings.
pub fn serving_ceiling(hw: &Hardware, precision: Precision) -> Option<f64> {
    if precision == Precision::Fp4 {
        let rates = &hw.matmul_rates;
        if let Some(c) = [rates.nvfp4, rates.mxfp4]
            .into_iter()
            .flatten()
            .find_map(|r| r.ceiling_flops)
        {
            return Some(c);
        }
    }
    hw.matmul_ceiling(precision)
}

/// Evaluates a layout for a workload: picks the batch that maximises throughput within the
/// latency targets (server: judged on the queue of [`super::traffic`], the batch in flight
/// under Poisson arrivals and continuous batching) or the KV-cache limit (offline).
pub fn evaluate_serving(
    arch: &Arch,
    hw: &Hardware,
    layout: &ServingLayout,
    w: &ServingWorkload,
    c: &ModelConstants,
) -> ServingEvaluation {
    evaluate_serving_with(arch, hw, layout, w, c, &ServingEfficiency::default())
}

/// [`evaluate_serving`] with an engine's efficiencies (the fitted defaults otherwise).
pub fn evaluate_serving_with(
    arch: &Arch,
    hw: &Hardware,
    layout: &ServingLayout,
    w: &ServingWorkload,
    c: &ModelConstants,
    eff: &ServingEfficiency,
) -> ServingEvaluation {
    evaluate_serving_components(
        arch,
        hw,
        layout,
        w,
        c,
        eff,
        &ComponentPrecision::uniform(layout.precision),
    )
}

/// [`evaluate_serving_with`] with each component's weights at its own precision (the layout's
/// `precision` is then the experts' for an MoE and the dense layers' otherwise, as reported).
pub fn evaluate_serving_components(
    arch: &Arch,
    hw: &Hardware,
    layout: &ServingLayout,
    w: &ServingWorkload,
    c: &ModelConstants,
    eff: &ServingEfficiency,
    components: &ComponentPrecision,
) -> ServingEvaluation {
    let mut result = ServingEvaluation {
        batch: 0,
        max_batch: 0,
        output_tokens_per_s: 0.0,
        output_tokens_per_s_per_gpu: 0.0,
        ttft_s: f64::INFINITY,
        tpot_s: f64::INFINITY,
        ttft_at_percentile_s: f64::INFINITY,
        tpot_at_percentile_s: f64::INFINITY,
        kv_cache_gib: 0.0,
        weights_gib: 0.0,
        prefill_to_decode_ratio: 0.0,
        feasible: false,
        infeasible: None,
        best_tpot_s: f64::INFINITY,
        best_ttft_s: f64::INFINITY,
        best_tpot_judged_s: f64::INFINITY,
        best_ttft_judged_s: f64::INFINITY,
        decode_step: DecodeStep::default(),
    };
    // Server mode has one mechanism: the traffic path's queue (the batch in flight as a
    // negative binomial under continuous batching, `BatchQueue`), on requests all of `w`'s
    // lengths with no prefix-cache hits.
    if w.mode == ServingMode::Server {
        // The one bin of `Traffic::uniform`, on the stack.
        let bin = super::traffic::LengthBin {
            input_tokens: w.input_tokens,
            output_tokens: w.output_tokens,
            share: 1.0,
        };
        return super::traffic::evaluate_bins(arch, hw, layout, w, &[bin], 0.0, c, eff, components)
            .evaluation;
    }
    let Some(unit) = Unit::with_components(
        arch,
        hw,
        layout,
        c,
        w.input_tokens,
        w.speculation,
        eff,
        components,
    ) else {
        result.infeasible = Some(ServeInfeasible::PrecisionUnsupported);
        return result;
    };
    result.weights_gib = unit.weight_bytes_per_gpu() / GIB;
    let free = unit.free_bytes();
    if free <= 0.0 {
        result.infeasible = Some(ServeInfeasible::WeightsDoNotFit);
        return result;
    }
    let kv_per_token = kv_bytes_per_token(arch, layout);
    // With pipeline stages, `pp` microbatches of `batch` sequences are in flight at once, and
    // every stage keeps the KV cache of its layers for all of them.
    let pp = f64::from(layout.pp);
    let max_batch = (free
        / (pp * kv_per_token * arch.attended_context(w.input_tokens + w.output_tokens)))
    .floor()
    .min(f64::from(w.max_batch.unwrap_or(MAX_BATCH)))
    .min(f64::from(MAX_BATCH));
    result.max_batch = max_batch as u32;
    if max_batch < 1.0 {
        result.infeasible = Some(ServeInfeasible::NoRoomForKvCache);
        return result;
    }
    let context = w.input_tokens + w.output_tokens / 2.0;
    let ranks = f64::from(layout.ep);
    let prefill_latency = unit.prefill_latency_s(w.input_tokens);
    // Evaluate a batch: (tokens/s per unit, TPOT, TTFT, prefill GPUs per decode GPU).
    // Output tokens per sequence per step: one, or the accepted drafts plus one.
    let emitted = w.speculation.map_or(1.0, |s| s.tokens_per_step());
    let at = |batch: f64| -> (f64, f64, f64, f64) {
        if w.disaggregated {
            let stage = unit.decode_stage(batch, context, 0.0).step_s;
            let tpot = pp * stage / emitted;
            let throughput = ranks * batch * emitted / stage;
            // Prefill pool sized to the request rate the decode pool finishes.
            let requests_per_s = throughput / w.output_tokens;
            // The prefill pool at this layout: expert all-to-all, the busiest expert rank and
            // sending each request's KV cache to the decode pool included (perf::serve::moe).
            let prefill_gpu_s = unit
                .prefill_cost(w.input_tokens, 0.0, true)
                .gpu_s_per_request;
            let ratio = requests_per_s * prefill_gpu_s / f64::from(layout.gpus());
            (throughput, tpot, prefill_latency + tpot, ratio)
        } else {
            // Prompts are prefilled as fast as sequences finish.
            let prefill_tokens = batch * emitted * w.input_tokens / w.output_tokens;
            let stage = unit.decode_stage(batch, context, prefill_tokens).step_s;
            let tpot = pp * stage / emitted;
            (
                ranks * batch * emitted / stage,
                tpot,
                prefill_latency + pp * stage,
                0.0,
            )
        }
    };
    // Offline keeps the batch full (server mode returned above, through the queue).
    let (_, best_tpot, best_ttft, _) = at(1.0);
    result.best_tpot_s = best_tpot;
    result.best_ttft_s = best_ttft;
    result.best_tpot_judged_s = best_tpot;
    result.best_ttft_judged_s = best_ttft;
    let lo = max_batch as u32;
    let batch = f64::from(lo);
    let (throughput, tpot, ttft, ratio) = at(batch);
    result.batch = lo;
    result.output_tokens_per_s = throughput;
    result.output_tokens_per_s_per_gpu = throughput / (f64::from(layout.gpus()) * (1.0 + ratio));
    result.tpot_s = tpot;
    result.ttft_s = ttft;
    result.tpot_at_percentile_s = tpot;
    result.ttft_at_percentile_s = ttft;
    result.prefill_to_decode_ratio = ratio;
    result.kv_cache_gib = pp * batch * kv_per_token * arch.attended_context(context) / GIB;
    let prefill_tokens = if w.disaggregated {
        0.0
    } else {
        batch * emitted * w.input_tokens / w.output_tokens
    };
    result.decode_step = unit.decode_stage(batch, context, prefill_tokens);
    result.feasible = true;
    result
}
