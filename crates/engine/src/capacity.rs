//! The one capacity function: output tokens per second a system serves for a model, engine and
//! traffic at the traffic's targets. `gigawatt infer fleet`, the risk capability view and the
//! dashboard all read serving capacity from [`system_capacity`], so the same fleet and traffic
//! give the same tokens per second everywhere.

use catalog::Catalog;
use perf::{Arch, Hardware, Precision, ServingWorkload};
use serde::Serialize;

use crate::infer::{infer_search, no_layout_message, InferResult, ServeInputs};
use crate::train::precision_name;

/// What is served: the model, its traffic and the requested precisions.
#[derive(Debug, Clone)]
pub struct CapacityRequest<'a> {
    /// Model name, for results.
    pub model: &'a str,
    /// Its architecture.
    pub arch: &'a Arch,
    /// Traffic and latency targets (capacity is judged with the targets met at peak load).
    pub workload: ServingWorkload,
    /// Requested weight and matmul precision.
    pub precision: Precision,
    /// Bytes per KV-cache element.
    pub kv_bytes: f64,
    /// The traffic's shape (length histogram or profile, prefix-cache hits); `None`: every
    /// request at the workload's lengths.
    pub traffic: Option<&'a perf::Traffic>,
}

/// The capacity of one system type.
#[derive(Debug, Clone, Serialize)]
pub struct SystemCapacity {
    /// System id.
    pub system: String,
    /// The precision asked for.
    pub precision_requested: String,
    /// The precision served at: the requested one where the chip has it, else the nearest with
    /// more bits it has (FP4 asked on H100 serves FP8); `null` when nothing could be computed.
    pub precision_served: Option<String>,
    /// Output tokens per second per accelerator at the best layout, if any.
    pub output_tokens_per_s_per_gpu: Option<f64>,
    /// The best layout's result, if any.
    pub best: Option<InferResult>,
    /// Why there is none.
    pub reason: Option<String>,
    /// The best layout evaluated on the traffic's shape (bins, cache hits, server queue),
    /// when a shape was given.
    pub traffic: Option<perf::TrafficEvaluation>,
}

/// The precisions a request may be served at, requested first, then each with more bits.
pub fn precision_fallbacks(requested: Precision) -> &'static [Precision] {
    match requested {
        Precision::Fp4 => &[Precision::Fp4, Precision::Fp8, Precision::Bf16],
        Precision::Fp8 => &[Precision::Fp8, Precision::Bf16],
        Precision::Bf16 => &[Precision::Bf16],
    }
}

/// Output tokens per second per accelerator one system type serves for `request`: the best
/// layout (TP, PP, EP) found by the serving model's search, at the requested precision where the
/// chip has it, else the nearest precision with more bits it has. `hardware` is the system's
/// hardware, or why it cannot be built (a missing catalog figure).
pub fn system_capacity(
    catalog: &Catalog,
    system: &str,
    hardware: Result<Hardware, String>,
    request: &CapacityRequest,
) -> SystemCapacity {
    let mut out = SystemCapacity {
        system: system.to_string(),
        precision_requested: precision_name(request.precision).to_string(),
        precision_served: None,
        output_tokens_per_s_per_gpu: None,
        best: None,
        reason: None,
        traffic: None,
    };
    let hardware = match hardware {
        Ok(h) => h,
        Err(reason) => {
            out.reason = Some(reason);
            return out;
        }
    };
    let Some(precision) = precision_fallbacks(request.precision)
        .iter()
        .copied()
        .find(|p| hardware.peak(*p).is_some())
    else {
        out.reason = Some(format!(
            "`{system}` has no {} or wider matmul rate in the catalog",
            precision_name(request.precision)
        ));
        return out;
    };
    out.precision_served = Some(precision_name(precision).to_string());
    let inputs = ServeInputs {
        model: request.model.to_string(),
        arch: request.arch.clone(),
        system: system.to_string(),
        hardware,
    };
    if let Some(traffic) = request.traffic {
        // The reference engine's fitted efficiencies, as the plain path's result uses them.
        let fit = crate::infer::ServingFit::shipped();
        let (found, evaluated) = perf::search_traffic_with(
            &inputs.arch,
            &inputs.hardware,
            precision,
            request.kv_bytes,
            &request.workload,
            traffic,
            &fit.constants(),
            &fit.efficiency_for(crate::infer::REFERENCE_ENGINE),
            1,
        );
        match found.into_iter().next() {
            Some((layout, t)) => {
                let mut best = crate::infer::infer_result(
                    catalog,
                    &inputs,
                    layout,
                    request.workload,
                    None,
                    String::new(),
                );
                crate::infer::apply_traffic(&mut best, traffic, &t);
                out.output_tokens_per_s_per_gpu = Some(best.output_tokens_per_s_per_gpu);
                out.best = Some(best);
                out.traffic = Some(t);
            }
            None => {
                out.reason = Some(format!(
                    "no layout of {} on {system} serves this traffic ({evaluated} layouts tried)",
                    request.model
                ));
            }
        }
        return out;
    }
    let (mut found, evaluated) = infer_search(
        catalog,
        &inputs,
        precision,
        request.kv_bytes,
        request.workload,
        1,
    );
    match found.pop() {
        Some(best) => {
            out.output_tokens_per_s_per_gpu = Some(best.output_tokens_per_s_per_gpu);
            out.best = Some(best);
        }
        None => {
            // Why not, with what the best plain layout reaches (the search's message without
            // its fix line).
            let message = no_layout_message(
                catalog,
                &inputs,
                precision,
                request.kv_bytes,
                request.workload,
                evaluated,
            );
            out.reason = Some(
                message
                    .split("\n  fix:")
                    .next()
                    .unwrap_or_default()
                    .to_string(),
            );
        }
    }
    out
}

/// Hours in a day, for tokens per day.
pub const SECONDS_PER_DAY: f64 = 86_400.0;

/// The default ratio of mean to peak load: serving capacity is sized for the peak, and a day
/// serves at the mean. Assumed, not measured: user-facing traffic follows the day, and a fleet
/// sized for its busiest hour runs at about half to two-thirds of that on average; 0.6 is used
/// unless given (`--mean-to-peak`).
pub const DEFAULT_MEAN_TO_PEAK: f64 = 0.6;

/// Tokens served in a day by `capacity_tokens_per_s` of peak capacity at a `mean_to_peak` load.
pub fn tokens_per_day(capacity_tokens_per_s: f64, mean_to_peak: f64) -> f64 {
    capacity_tokens_per_s * SECONDS_PER_DAY * mean_to_peak
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fallbacks_only_widen() {
        assert_eq!(
            precision_fallbacks(Precision::Fp4),
            &[Precision::Fp4, Precision::Fp8, Precision::Bf16]
        );
        assert_eq!(precision_fallbacks(Precision::Bf16), &[Precision::Bf16]);
        // 1,000 tokens/s for a day at 60% mean load: 1,000 x 86,400 x 0.6 = 51.84 M.
        assert_eq!(tokens_per_day(1000.0, 0.6), 51_840_000.0);
    }

    #[test]
    fn fp4_on_h100_serves_fp8_and_says_so() {
        let catalog = catalog::Catalog::embedded().unwrap();
        let arch = crate::train::arch_from_catalog(&catalog.models["llama3-70b"]);
        let request = CapacityRequest {
            model: "llama3-70b",
            arch: &arch,
            workload: perf::ServingWorkload {
                input_tokens: 2000.0,
                output_tokens: 500.0,
                ttft_slo_s: Some(2.0),
                tpot_slo_s: Some(0.05),
                mode: perf::ServingMode::Server,
                disaggregated: false,
                max_batch: None,
                speculation: None,
                slo_percentile: perf::DEFAULT_SLO_PERCENTILE,
            },
            precision: Precision::Fp4,
            kv_bytes: 2.0,
            traffic: None,
        };
        let hw = crate::train::hardware_for_serving(&catalog, "dgx-h100", &[]);
        let fp4 = system_capacity(&catalog, "dgx-h100", hw.clone(), &request);
        assert_eq!(fp4.precision_served.as_deref(), Some("fp8"));
        let fp8 = system_capacity(
            &catalog,
            "dgx-h100",
            hw,
            &CapacityRequest {
                precision: Precision::Fp8,
                ..request
            },
        );
        assert_eq!(
            fp4.output_tokens_per_s_per_gpu,
            fp8.output_tokens_per_s_per_gpu
        );
        assert!(fp8.output_tokens_per_s_per_gpu.unwrap() > 0.0);
    }
}
