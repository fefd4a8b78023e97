//! Serving for the capability view: the reference mix's output tokens per second per
//! accelerator on one system type, from the one capacity function.

use catalog::Catalog;
use serde::Serialize;

use super::CapabilityOptions;
use crate::capacity::{system_capacity, CapacityRequest};

/// The reference traffic: 2,000 prompt / 500 output tokens, TTFT 2 s and TPOT 50 ms at the
/// serving model's SLO percentile under random arrivals; fp8 weights where the chip has them.
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

/// The targets in words.
pub const REFERENCE_TARGETS: &str =
    "2,000 prompt / 500 output tokens, TTFT 2 s and TPOT 50 ms at p99, fp8 (or the nearest wider precision), best layout";

/// One model's rate on a system.
#[derive(Debug, Clone, Serialize)]
pub struct ModelRate {
    /// Catalog model.
    pub model: String,
    /// Share of the mix's output tokens.
    pub share: f64,
    /// Output tokens per second per accelerator, if the model can compute it.
    pub tokens_per_s_per_gpu: Option<f64>,
    /// Why not.
    pub reason: Option<String>,
}

/// The mix's rate on a system.
#[derive(Debug, Clone)]
pub struct MixRate {
    /// Output tokens per second per accelerator for the mix (harmonic: each model's share of
    /// the tokens served at its own rate).
    pub tokens_per_s_per_gpu: Option<f64>,
    /// By model.
    pub by_model: Vec<ModelRate>,
    /// Why unknown.
    pub reason: Option<String>,
}

/// The serving rate of `options.serving_mix` on `system`.
pub fn mix_rate(
    catalog: &Catalog,
    system: &str,
    overrides: &[(&str, f64)],
    options: &CapabilityOptions,
) -> MixRate {
    let mut by_model = Vec::new();
    for (model, share) in &options.serving_mix {
        let rate = match catalog.models.get(model) {
            None => ModelRate {
                model: model.clone(),
                share: *share,
                tokens_per_s_per_gpu: None,
                reason: Some(format!("unknown model `{model}`")),
            },
            Some(entry) => {
                let arch = crate::train::arch_from_catalog(entry);
                let request = CapacityRequest {
                    model,
                    arch: &arch,
                    workload: reference_workload(),
                    precision: perf::Precision::Fp8,
                    kv_bytes: 2.0,
                    traffic: None,
                };
                let hardware = crate::train::hardware_for_serving(catalog, system, overrides);
                let c = system_capacity(catalog, system, hardware, &request);
                ModelRate {
                    model: model.clone(),
                    share: *share,
                    tokens_per_s_per_gpu: c.output_tokens_per_s_per_gpu,
                    reason: c.reason,
                }
            }
        };
        by_model.push(rate);
    }
    let total_share: f64 = by_model.iter().map(|m| m.share).sum();
    let mut seconds_per_token = 0.0;
    let mut reason = None;
    for m in &by_model {
        match m.tokens_per_s_per_gpu {
            Some(r) if r > 0.0 => seconds_per_token += m.share / total_share / r,
            _ => {
                reason = Some(format!(
                    "`{}` on `{system}`: {}",
                    m.model,
                    m.reason.clone().unwrap_or_else(|| "no rate".into())
                ))
            }
        }
    }
    MixRate {
        tokens_per_s_per_gpu: (reason.is_none() && seconds_per_token > 0.0)
            .then(|| 1.0 / seconds_per_token),
        by_model,
        reason,
    }
}
