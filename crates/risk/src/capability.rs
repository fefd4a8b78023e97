//! The capability view: what the capacity online in each month could train and serve, at the
//! sampled percentiles of H100-equivalents.
//!
//! Training: the largest dense model trainable compute-optimally in `training_days` on the
//! H100-equivalents online, at a stated MFU: compute C = H100e x 989 TFLOP/s x MFU x time, and
//! with Chinchilla's ~20 tokens per parameter (Hoffmann et al. 2022) C = 6 N D = 120 N^2, so
//! N = sqrt(C / 120). Serving: the planned fleet's output tokens per second for a reference
//! model and latency target, from the one capacity function (`engine::capacity`, the same
//! numbers `gigawatt infer fleet` prints), per H100-equivalent of that month's planned fleet, so
//! a sample with fewer H100e serves proportionally less of the same mix. Without a plan (or
//! where a system's rate is unknown) one H100's rate is the yardstick.

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
    /// Output tokens per second one H100 serves it at the stated targets (the yardstick for
    /// months without a fleet rate).
    pub serving_tokens_per_s_per_h100: f64,
    /// The planned fleet's output tokens per second per planned H100e, month by month, from
    /// the capacity function (`gigawatt infer fleet` over the same plan and traffic); empty
    /// without a plan.
    pub serving_rate_by_month: Vec<ServingRate>,
    /// The serving targets, in words.
    pub serving_targets: String,
}

/// The planned fleet's serving rate in one month.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct ServingRate {
    /// The month.
    pub month: Month,
    /// Output tokens per second of the planned fleet over its H100-equivalents.
    pub tokens_per_s_per_h100e: f64,
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
                servable_tokens_per_s: map(h, |x| servable_tokens_per_s(&assumptions, r.month, x)),
            })
        })
        .collect::<Option<Vec<_>>>()?;
    Some(Capability {
        assumptions,
        months,
    })
}

/// Output tokens per second `h100e` H100-equivalents serve in `month`: the planned fleet's rate
/// per H100e that month (the capacity function's), else one H100's rate.
pub fn servable_tokens_per_s(assumptions: &CapabilityAssumptions, month: Month, h100e: f64) -> f64 {
    let rate = assumptions
        .serving_rate_by_month
        .iter()
        .find(|r| r.month == month)
        .map_or(assumptions.serving_tokens_per_s_per_h100, |r| {
            r.tokens_per_s_per_h100e
        });
    h100e * rate
}

/// The reference traffic of the serving view: 2,000 prompt / 500 output tokens, TTFT 2 s and
/// TPOT 50 ms at p99 under random arrivals.
pub fn reference_workload() -> perf::ServingWorkload {
    perf::ServingWorkload {
        input_tokens: 2000.0,
        output_tokens: 500.0,
        ttft_slo_s: Some(2.0),
        tpot_slo_s: Some(0.05),
        mode: perf::ServingMode::Server,
        disaggregated: false,
        max_batch: None,
        speculation: None,
        slo_percentile: perf::DEFAULT_SLO_PERCENTILE,
    }
}

/// The reference model of the serving view.
pub const REFERENCE_MODEL: &str = "llama3-70b";

/// [`default_assumptions`] with the serving rate of a planned fleet: each month, the fleet's
/// output tokens per second from the capacity function (fp8 where a chip has it, the nearest
/// wider precision where not), over its planned H100e.
pub fn fleet_assumptions(
    catalog: &catalog::Catalog,
    plan: &engine::PlanResult,
) -> Option<CapabilityAssumptions> {
    let mut assumptions = default_assumptions(catalog)?;
    let arch = engine::train::arch_from_catalog(catalog.models.get(REFERENCE_MODEL)?);
    let request = engine::capacity::CapacityRequest {
        model: REFERENCE_MODEL,
        arch: &arch,
        workload: reference_workload(),
        precision: perf::Precision::Fp8,
        kv_bytes: 2.0,
        traffic: None,
    };
    let fleet = engine::infer::fleet_serving_arch(
        catalog,
        plan,
        &request,
        5.0,
        engine::capacity::DEFAULT_MEAN_TO_PEAK,
    );
    assumptions.serving_rate_by_month = plan
        .timeline
        .iter()
        .zip(&fleet.timeline)
        .filter_map(|(row, served)| {
            let h100e = row.h100e.filter(|h| *h > 0.0)?;
            Some(ServingRate {
                month: row.month,
                tokens_per_s_per_h100e: served.output_tokens_per_s? / h100e,
            })
        })
        .collect();
    assumptions.serving_targets = format!(
        "{}; the planned fleet's mix by month (`gigawatt infer fleet` over the same plan)",
        assumptions.serving_targets
    );
    Some(assumptions)
}

/// The shipped capability assumptions: 90 days at 40% MFU (Llama 3 405B reports 38-43% on
/// 16k H100s), 20 tokens per parameter, and Llama 3 70B served at 2,000 prompt / 500 output
/// tokens within 2 s TTFT and 50 ms TPOT on DGX H100 (fp8, best layout from the serving model).
pub fn default_assumptions(catalog: &catalog::Catalog) -> Option<CapabilityAssumptions> {
    let arch = engine::train::arch_from_catalog(catalog.models.get(REFERENCE_MODEL)?);
    let request = engine::capacity::CapacityRequest {
        model: REFERENCE_MODEL,
        arch: &arch,
        workload: reference_workload(),
        precision: perf::Precision::Fp8,
        kv_bytes: 2.0,
        traffic: None,
    };
    let hardware = engine::train::hardware_for_serving(catalog, "dgx-h100", &[]);
    let rate = engine::capacity::system_capacity(catalog, "dgx-h100", hardware, &request)
        .output_tokens_per_s_per_gpu?;
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
        serving_rate_by_month: Vec::new(),
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
