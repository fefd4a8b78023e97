//! Inference: the spec of `gigawatt infer` (`spec`), its inputs and result, layout search, the
//! fleet view over a plan, and validation against published serving results.

use catalog::{Catalog, Diagnostic, Diagnostics};
use perf::{
    search_serving, Arch, Hardware, Precision, ServingEvaluation, ServingLayout, ServingMode,
    ServingWorkload,
};
use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::train::{arch_from_catalog, hardware_for_serving, parse_precision};
use crate::PlanResult;
use crate::{content_hash, EngineError, ENGINE_VERSION, SCHEMA_VERSION};

mod fleet;
mod published_tables;
mod shape;
mod spec;
mod traffic;
mod traffic_result;
mod validate;
mod validate_scale;

mod fit;
pub use fit::{engine_efficiency, engine_key, EngineFit, ServingFit, REFERENCE_ENGINE};
pub use fleet::{
    fleet_serving, fleet_serving_arch, fleet_serving_mix, FleetServing, FleetServingRow,
    MixServing, SystemServing,
};
pub use shape::{
    checked_mix, checked_peak_to_mean, checked_traffic, mix_rate, parse_mix, MixShare,
    ShapeRequest, PROFILE_BINS,
};
pub use spec::{infer_text, parse_mode};
use traffic::{checked_max_batch, checked_percentile, checked_speculation};
pub use traffic::{checked_workload, FieldNames, TrafficRequest};
pub use traffic_result::{apply_traffic, TrafficResult};
use traffic_result::{spec_traffic, TrafficSpec};
pub use validate::{
    hardware_family, validate_inference, validate_inference_tables, validate_shipped, FamilyStats,
    InferenceCase, InferenceSkipped, InferenceValidation, SHIPPED_CALIBRATION, SHIPPED_CASES,
    SHIPPED_MODELS, SHIPPED_TABLES,
};
pub use validate_scale::{scale_cases, SHIPPED_SCALE};

/// The serialized result of `gigawatt infer`.
#[derive(Debug, Clone, Serialize)]
pub struct InferResult {
    /// Schema version.
    pub schema_version: u32,
    /// Engine version.
    pub engine_version: String,
    /// Catalog version.
    pub catalog_version: String,
    /// Hash of the spec text.
    pub input_hash: String,
    /// Catalog model id.
    pub model: String,
    /// Catalog system id.
    pub system: String,
    /// The serving engine (catalog/engines.toml id), if the spec names one.
    pub engine: Option<String>,
    /// The layout of one deployment unit.
    pub layout: ServingLayout,
    /// Accelerators the throughput is for (the cluster, or one unit).
    pub gpus: u64,
    /// Traffic and targets.
    pub workload: ServingWorkload,
    /// Output tokens per second over `gpus`.
    pub output_tokens_per_s: f64,
    /// Output tokens per second per accelerator.
    pub output_tokens_per_s_per_gpu: f64,
    /// Time to first token, s.
    pub ttft_s: f64,
    /// Time per output token, s.
    pub tpot_s: f64,
    /// Concurrent sequences per attention rank.
    pub batch: u32,
    /// KV cache per accelerator, GiB.
    pub kv_cache_gib: f64,
    /// Weights per accelerator, GiB.
    pub weights_gib: f64,
    /// Whether it serves (and meets the targets).
    pub feasible: bool,
    /// Why not, with the best achievable latency when a target is unmeetable.
    pub reason: Option<String>,
    /// Everything the model computed.
    pub detail: ServingEvaluation,
    /// What the figures rest on: ceilings and their origin, stated efficiencies, how the batch
    /// is limited and how latency targets are judged.
    pub assumptions: Vec<String>,
    /// Each component's weight precision, where the spec sets them apart from `precision`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub components: Option<perf::ComponentPrecision>,
    /// The traffic's shape and what it did (bins, cache hits, server queue), when the spec or
    /// request gave one; the headline figures are then this evaluation's.
    pub traffic: Option<TrafficResult>,
}

/// A resolved model and system for serving questions.
pub struct ServeInputs {
    /// Model id.
    pub model: String,
    /// Architecture.
    pub arch: Arch,
    /// System id.
    pub system: String,
    /// Hardware.
    pub hardware: Hardware,
}

/// Resolves a model id and a system id.
pub fn resolve_serve_inputs(
    catalog: &Catalog,
    model: &str,
    system: &str,
) -> Result<ServeInputs, String> {
    let arch = catalog
        .models
        .get(model)
        .map(arch_from_catalog)
        .ok_or_else(|| {
            match catalog::nearest(model, catalog.models.keys().map(String::as_str)) {
                Some(near) => format!("unknown model `{model}`; did you mean `{near}`?"),
                None => format!(
                    "unknown model `{model}`; `gigawatt catalog list --kind models` shows them"
                ),
            }
        })?;
    serve_inputs_for_arch(catalog, model.to_string(), arch, system)
}

/// Resolves a system for an architecture given in full (a `[model]` table or a model file).
pub fn serve_inputs_for_arch(
    catalog: &Catalog,
    model: String,
    arch: Arch,
    system: &str,
) -> Result<ServeInputs, String> {
    if !catalog.systems.contains_key(system) {
        return Err(match catalog.nearest_system(system) {
            Some(near) => format!("unknown system `{system}`; did you mean `{near}`?"),
            None => format!("unknown system `{system}`"),
        });
    }
    let hardware = hardware_for_serving(catalog, system, &[])?;
    Ok(ServeInputs {
        model,
        arch,
        system: system.to_string(),
        hardware,
    })
}

/// Why a serving evaluation failed, in words with the best achievable latency.
pub fn describe_infeasible(e: &ServingEvaluation) -> Option<String> {
    e.infeasible.map(|why| match why {
        perf::ServeInfeasible::SloUnmeetable => format!(
            "{}: the best achievable is TPOT {:.1} ms and TTFT {:.0} ms (batch 1, at the percentile the targets are judged at)",
            why.describe(),
            1e3 * e.best_tpot_judged_s,
            1e3 * e.best_ttft_judged_s
        ),
        other => other.describe().to_string(),
    })
}

/// Packages an evaluation.
pub fn infer_result(
    catalog: &Catalog,
    inputs: &ServeInputs,
    layout: ServingLayout,
    workload: ServingWorkload,
    gpus: Option<u64>,
    input_hash: String,
) -> InferResult {
    infer_result_for_engine(catalog, inputs, layout, workload, gpus, input_hash, None)
}

/// [`infer_result`] for a named engine (catalog/engines.toml id): its own fitted step factor
/// and per-sequence cost where the calibration has its tables, the reference engine's
/// (TensorRT-LLM) otherwise.
pub fn infer_result_for_engine(
    catalog: &Catalog,
    inputs: &ServeInputs,
    layout: ServingLayout,
    workload: ServingWorkload,
    gpus: Option<u64>,
    input_hash: String,
    engine: Option<&str>,
) -> InferResult {
    infer_result_components(
        catalog, inputs, layout, workload, gpus, input_hash, engine, None,
    )
}

/// [`infer_result_for_engine`] with each component's weights at its own precision.
#[allow(clippy::too_many_arguments)]
pub fn infer_result_components(
    catalog: &Catalog,
    inputs: &ServeInputs,
    layout: ServingLayout,
    workload: ServingWorkload,
    gpus: Option<u64>,
    input_hash: String,
    engine: Option<&str>,
    components: Option<perf::ComponentPrecision>,
) -> InferResult {
    let fit = ServingFit::shipped();
    let e = perf::evaluate_serving_components(
        &inputs.arch,
        &inputs.hardware,
        &layout,
        &workload,
        &fit.constants(),
        &fit.efficiency_for(engine.map_or(REFERENCE_ENGINE, engine_key)),
        &components.unwrap_or(perf::ComponentPrecision::uniform(layout.precision)),
    );
    let gpus = gpus.unwrap_or(u64::from(layout.gpus()));
    InferResult {
        schema_version: SCHEMA_VERSION,
        engine_version: ENGINE_VERSION.to_string(),
        catalog_version: catalog.version.clone(),
        input_hash,
        model: inputs.model.clone(),
        system: inputs.system.clone(),
        engine: None,
        layout,
        gpus,
        workload,
        output_tokens_per_s: e.output_tokens_per_s_per_gpu * gpus as f64,
        output_tokens_per_s_per_gpu: e.output_tokens_per_s_per_gpu,
        ttft_s: e.ttft_s,
        tpot_s: e.tpot_s,
        batch: e.batch,
        kv_cache_gib: e.kv_cache_gib,
        weights_gib: e.weights_gib,
        feasible: e.feasible,
        reason: describe_infeasible(&e),
        detail: e,
        assumptions: serving_assumptions(catalog, inputs, &layout, &workload),
        components,
        traffic: None,
    }
}

/// The assumptions ledger of a serving result.
fn serving_assumptions(
    catalog: &Catalog,
    inputs: &ServeInputs,
    layout: &ServingLayout,
    workload: &ServingWorkload,
) -> Vec<String> {
    let fit = ServingFit::shipped();
    let c = fit.constants();
    let mut out = vec![crate::train::matmul_ceiling_assumption(
        catalog,
        &inputs.system,
        &inputs.hardware,
        layout.precision,
    )];
    out.push(format!(
        "fitted on whole published serving tables (gigawatt infer validate): HBM streaming at {:.0}% of nominal (Azure's published STREAM triad reaches 86-89% on H200 and H100), {:.0} µs per decode kernel, small tensor-parallel all-reduces at the one-shot kernel's measured 3.7-5.9 µs (2-8 ranks) and {:.0} µs more per larger collective, attention at {:.0}% of the BF16 ceiling, routed experts' grouped GEMMs at {:.0}% of a dense GEMM's rate, {:.0} µs per sequence per step outside the kernels; links at {:.0}%, {:.0} GiB reserved per accelerator (assumed)",
        100.0 * c.memory_efficiency,
        1e6 * c.kernel_overhead_s,
        1e6 * c.scale_up_latency_s,
        100.0 * fit.efficiency.attention_fraction,
        100.0 * fit.efficiency.expert_gemm_efficiency,
        1e6 * fit.efficiency.per_sequence_step_s,
        100.0 * c.link_efficiency,
        c.reserved_memory_bytes / (1024.0 * 1024.0 * 1024.0),
    ));
    out.push(format!(
        "the KV cache holds {} tokens per sequence (prompt and full answer: no eviction){}",
        workload.input_tokens + workload.output_tokens,
        workload.max_batch.map_or(String::new(), |b| format!(
            ", at most {b} sequences per attention rank"
        ))
    ));
    if workload.disaggregated {
        out.push(
            "disaggregated: a prefill pool sized to the decode pool's request rate; per-GPU figures count both pools (`detail.prefill_to_decode_ratio` prefill GPUs per decode GPU)".to_string(),
        );
    }
    out.push(match workload.mode {
        ServingMode::Offline if workload.ttft_slo_s.is_some() || workload.tpot_slo_s.is_some() => {
            "offline: the batch is kept full; the latency targets given are not applied (use mode = server)".to_string()
        }
        ServingMode::Offline => {
            "offline: the batch is kept full; no latency target applies".to_string()
        }
        ServingMode::Server => format!(
            "server: requests arrive at random (Poisson); the targets hold at p{} of the sequences in flight, the throughput is at their mean",
            workload.slo_percentile
        ),
    });
    if layout.overlap_ep {
        out.push(
            "expert all-to-all overlapped in two microbatches: dispatch behind attention, combine behind the experts".to_string(),
        );
    }
    if let Some(spec) = workload.speculation {
        out.push(format!(
            "speculative decoding: {} drafted token(s) per step accepted with probability {} each, {:.2} tokens per step; drafting a token costs {} of a decode step",
            spec.draft_tokens,
            spec.acceptance_rate,
            spec.tokens_per_step(),
            spec.draft_cost_fraction.map_or("one layer".to_string(), |f| format!("{f}"))
        ));
    }
    out.push(
        "not modelled: expert load imbalance, prefix caching, scheduler overheads, the spread of request lengths (means only)".to_string(),
    );
    out
}

/// Searches layouts for a model on a system.
pub fn infer_search(
    catalog: &Catalog,
    inputs: &ServeInputs,
    precision: Precision,
    kv_bytes: f64,
    workload: ServingWorkload,
    top: usize,
) -> (Vec<InferResult>, u64) {
    let (found, evaluated) = search_serving(
        &inputs.arch,
        &inputs.hardware,
        precision,
        kv_bytes,
        &workload,
        &ServingFit::shipped().constants(),
        top,
    );
    let results = found
        .into_iter()
        .map(|(layout, _)| infer_result(catalog, inputs, layout, workload, None, String::new()))
        .collect();
    (results, evaluated)
}

/// Why a search found no layout, with the best latency a dense layout (TP and pipeline
/// splits) reaches: the CLI and the API give the same message.
pub fn no_layout_message(
    catalog: &Catalog,
    inputs: &ServeInputs,
    precision: Precision,
    kv_bytes: f64,
    workload: ServingWorkload,
    evaluated: u64,
) -> String {
    // The most telling failure: among the dense layouts (TP within the scale-up domain,
    // pipeline stages), one that fits in memory with the best achievable TPOT; if none fits,
    // the largest TP's.
    let arch = &inputs.arch;
    let mut probe: Option<InferResult> = None;
    let mut tp = 1u32;
    while f64::from(tp) <= inputs.hardware.scale_up_domain.max(1.0) {
        for pp in [1u32, 2, 4, 8, 16] {
            if !(arch.heads as u32).is_multiple_of(tp) || !(arch.layers as u32).is_multiple_of(pp) {
                continue;
            }
            let layout = ServingLayout {
                tp,
                pp,
                ep: 1,
                precision,
                kv_bytes,
                overlap_ep: false,
            };
            let r = infer_result(catalog, inputs, layout, workload, None, String::new());
            let fits = |r: &InferResult| {
                !matches!(
                    r.detail.infeasible,
                    Some(
                        perf::ServeInfeasible::WeightsDoNotFit
                            | perf::ServeInfeasible::NoRoomForKvCache
                    )
                )
            };
            let better = match &probe {
                None => true,
                Some(p) => {
                    (fits(&r) && !fits(p))
                        || (fits(&r) == fits(p) && r.detail.best_tpot_s < p.detail.best_tpot_s)
                }
            };
            if better {
                probe = Some(r);
            }
        }
        tp *= 2;
    }
    let Some(probe) = probe else {
        return format!(
            "no layout of {} on {} can serve this ({evaluated} layouts tried)\n  fix: use a larger system",
            inputs.model, inputs.system
        );
    };
    let fix = match probe.detail.infeasible {
        Some(perf::ServeInfeasible::WeightsDoNotFit | perf::ServeInfeasible::NoRoomForKvCache) => {
            "use a system with more memory, a lower precision, or shorter requests"
        }
        Some(perf::ServeInfeasible::TooFewSlots) => {
            "raise the batch limit, lower the latency percentile, or use offline mode"
        }
        _ if workload.tpot_slo_s.is_some() || workload.ttft_slo_s.is_some() => {
            "relax the TPOT / TTFT targets, or use a larger system"
        }
        _ => "use a larger system",
    };
    format!(
        "no layout of {} on {} can serve this ({evaluated} layouts tried){}\n  fix: {fix}",
        inputs.model,
        inputs.system,
        probe.reason.map(|r| format!(": {r}")).unwrap_or_default()
    )
}

/// Bytes per KV-cache element for a KV precision as users write it.
pub fn parse_kv_precision(text: &str) -> Option<f64> {
    match text {
        "bf16" => Some(2.0),
        "fp8" => Some(1.0),
        _ => None,
    }
}

/// Refuses a precision the system's accelerator has no matmul units for.
pub fn check_precision(inputs: &ServeInputs, precision: Precision) -> Result<(), String> {
    if inputs.hardware.peak(precision).is_some() {
        return Ok(());
    }
    let name = crate::train::precision_name(precision);
    let has: Vec<&str> = [Precision::Bf16, Precision::Fp8, Precision::Fp4]
        .into_iter()
        .filter(|p| inputs.hardware.peak(*p).is_some())
        .map(crate::train::precision_name)
        .collect();
    Err(format!(
        "`{}` has no {name} matmul units (or no public {name} rate); it has {}\n  fix: use {}, or a system whose accelerator has {name}",
        inputs.system,
        has.join(", "),
        has.join(" or ")
    ))
}
