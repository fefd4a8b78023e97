//! The capability view: what the capacity online in each month could train and serve, at the
//! sampled percentiles of H100-equivalents.
//!
//! Training: the largest dense model trainable compute-optimally in `training_days` on the
//! H100-equivalents online, at a stated MFU: compute C = H100e x 989 TFLOP/s x MFU x time, and
//! with Chinchilla's ~20 tokens per parameter (Hoffmann et al. 2022) C = 6 N D = 120 N^2, so
//! N = sqrt(C / 120). Serving: H100-equivalents times the output tokens per second one H100
//! serves for a reference model and latency target, from the serving model (an H100-equivalent
//! counts dense bf16 FLOP/s, so this is a yardstick, not a per-chip serving forecast).

use serde::Serialize;
use units::Month;

use crate::result::{Quantiles, RiskResult};

/// Stated inputs of the capability view.
#[derive(Debug, Clone, Serialize)]
pub struct CapabilityAssumptions {
    /// Model FLOPs utilisation of a large training run.
    pub mfu: f64,
    /// Where the MFU comes from.
    pub mfu_source: String,
    /// Days of training.
    pub training_days: f64,
    /// Training tokens per parameter (compute-optimal).
    pub tokens_per_parameter: f64,
    /// Dense bf16 FLOP/s of one H100-equivalent.
    pub h100_bf16_flops: f64,
    /// Reference model for serving.
    pub serving_model: String,
    /// Output tokens per second one H100 serves it at the stated targets.
    pub serving_tokens_per_s_per_h100: f64,
    /// The serving targets, in words.
    pub serving_targets: String,
}

/// One month's capability at the H100e percentiles.
#[derive(Debug, Clone, Serialize)]
pub struct CapabilityMonth {
    /// The month.
    pub month: Month,
    /// Parameters of the largest compute-optimal dense model trainable in the stated days.
    pub trainable_params: Quantiles,
    /// Output tokens per second servable for the reference model.
    pub servable_tokens_per_s: Quantiles,
}

/// The capability view.
#[derive(Debug, Clone, Serialize)]
pub struct Capability {
    /// What it assumes.
    pub assumptions: CapabilityAssumptions,
    /// One row per December (and the last month).
    pub months: Vec<CapabilityMonth>,
}

fn map(q: Quantiles, f: impl Fn(f64) -> f64) -> Quantiles {
    Quantiles {
        p5: f(q.p5),
        p10: f(q.p10),
        p50: f(q.p50),
        p90: f(q.p90),
        p95: f(q.p95),
    }
}

/// Builds the capability view from a result's H100e percentiles; `None` when H100e is unknown.
pub fn capability(result: &RiskResult, assumptions: CapabilityAssumptions) -> Option<Capability> {
    let seconds = assumptions.training_days * 86_400.0;
    let flops_per_h100e = assumptions.h100_bf16_flops * assumptions.mfu * seconds;
    let compute_per_param_squared = 6.0 * assumptions.tokens_per_parameter;
    let last = result.timeline.last()?.month;
    let months = result
        .timeline
        .iter()
        .filter(|r| r.month.month() == 12 || r.month == last)
        .map(|r| {
            let h = r.h100e?;
            Some(CapabilityMonth {
                month: r.month,
                trainable_params: map(h, |x| {
                    (x * flops_per_h100e / compute_per_param_squared).sqrt()
                }),
                servable_tokens_per_s: map(h, |x| x * assumptions.serving_tokens_per_s_per_h100),
            })
        })
        .collect::<Option<Vec<_>>>()?;
    Some(Capability {
        assumptions,
        months,
    })
}

/// The shipped capability assumptions: 90 days at 40% MFU (Llama 3 405B reports 38-43% on
/// 16k H100s), 20 tokens per parameter, and Llama 3 70B served at 2,000 prompt / 500 output
/// tokens within 2 s TTFT and 50 ms TPOT on DGX H100 (fp8, best layout from the serving model).
pub fn default_assumptions(catalog: &catalog::Catalog) -> Option<CapabilityAssumptions> {
    let workload = perf::ServingWorkload {
        input_tokens: 2000.0,
        output_tokens: 500.0,
        ttft_slo_s: Some(2.0),
        tpot_slo_s: Some(0.05),
        mode: perf::ServingMode::Server,
        disaggregated: false,
        max_batch: None,
        speculation: None,
        slo_percentile: perf::DEFAULT_SLO_PERCENTILE,
    };
    let inputs = engine::infer::resolve_serve_inputs(catalog, "llama3-70b", "dgx-h100").ok()?;
    let (mut best, _) =
        engine::infer::infer_search(catalog, &inputs, perf::Precision::Fp8, 2.0, workload, 1);
    let rate = best.pop()?.output_tokens_per_s_per_gpu;
    Some(CapabilityAssumptions {
        mfu: 0.40,
        mfu_source:
            "model-llama3-paper: Llama 3 405B reached 38-43% MFU in BF16 on 16,384 H100s; 0.40 used"
                .into(),
        training_days: 90.0,
        tokens_per_parameter: 20.0,
        h100_bf16_flops: catalog.reference_bf16_dense_flops(),
        serving_model: "llama3-70b".into(),
        serving_tokens_per_s_per_h100: rate,
        serving_targets:
            "2,000 prompt / 500 output tokens, TTFT 2 s, TPOT 50 ms, fp8, best layout on dgx-h100"
                .into(),
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn chinchilla_arithmetic() {
        // 100,000 H100e x 989e12 x 0.4 x 90 days (7,776,000 s) = 3.076e26 FLOPs;
        // N = sqrt(C / 120) = sqrt(2.563e24) = 1.601e12 parameters.
        let c: f64 = 100_000.0 * 989e12 * 0.4 * 90.0 * 86_400.0;
        let n = (c / 120.0).sqrt();
        assert!((c - 3.0765e26).abs() / c < 1e-3, "{c}");
        assert!((n - 1.601e12).abs() / n < 1e-3, "{n}");
    }
}
