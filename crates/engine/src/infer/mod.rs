//! Inference: the spec of `gigawatt infer`, layout search, the fleet view over a plan, and
//! validation against published serving results.

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

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct InferSpecFile {
    /// A catalog id or a `[model]` table (the keys `train` accepts).
    model: Spanned<toml::Value>,
    /// The serving engine (catalog/engines.toml id), if named.
    engine: Option<Spanned<String>>,
    cluster: InferCluster,
    serving: ServingSpec,
    /// The traffic's shape: a profile or histogram, prefix-cache hits, the daily peak.
    traffic: Option<TrafficSpec>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct InferCluster {
    system: Spanned<String>,
    gpus: Option<Spanned<i64>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ServingSpec {
    tp: Option<Spanned<i64>>,
    pp: Option<Spanned<i64>>,
    ep: Option<Spanned<i64>>,
    #[serde(default = "bf16")]
    precision: Spanned<String>,
    kv_precision: Option<Spanned<String>>,
    /// Attention projections' weight precision (default `precision`), as the training spec's
    /// `attention_precision`.
    attention_precision: Option<Spanned<String>>,
    /// Dense MLPs', shared experts' and embeddings' weight precision (default `precision`).
    dense_precision: Option<Spanned<String>>,
    /// Routed experts' weight precision (default `precision`): quantised experts with 16-bit
    /// attention, as gpt-oss and NVFP4 checkpoints ship.
    expert_precision: Option<Spanned<String>>,
    input_tokens: Spanned<f64>,
    output_tokens: Spanned<f64>,
    ttft_slo_s: Option<Spanned<f64>>,
    tpot_slo_s: Option<Spanned<f64>>,
    #[serde(default = "server")]
    mode: Spanned<String>,
    #[serde(default)]
    disaggregated: bool,
    /// Expert all-to-all overlapped with compute (two microbatches per step).
    #[serde(default)]
    overlap_ep: bool,
    /// The serving engine's batch limit per attention rank.
    max_batch: Option<Spanned<f64>>,
    /// The percentile the latency targets hold for in server mode.
    slo_percentile: Option<Spanned<f64>>,
    /// Speculative decoding: tokens drafted per step.
    draft_tokens: Option<Spanned<f64>>,
    /// Speculative decoding: acceptance rate of a drafted token.
    acceptance_rate: Option<Spanned<f64>>,
    /// Speculative decoding: cost of one drafted token relative to a decode step.
    draft_cost_fraction: Option<Spanned<f64>>,
}

fn bf16() -> Spanned<String> {
    Spanned::new(0..0, "bf16".into())
}
fn server() -> Spanned<String> {
    Spanned::new(0..0, "server".into())
}

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

/// Parses `offline` / `server`.
pub fn parse_mode(text: &str) -> Option<ServingMode> {
    match text {
        "offline" => Some(ServingMode::Offline),
        "server" => Some(ServingMode::Server),
        _ => None,
    }
}

/// Parses and evaluates an inference spec.
pub fn infer_text(catalog: &Catalog, origin: &str, text: &str) -> Result<InferResult, EngineError> {
    let fail = |span: Option<std::ops::Range<usize>>, field: &str, message: String, hint: &str| {
        EngineError::Invalid(Diagnostics(vec![Diagnostic::new(origin, message)
            .at(text, span.filter(|s| s.end > 0))
            .field(field)
            .hint(hint)]))
    };
    let spec: InferSpecFile = toml::from_str(text).map_err(|err| {
        EngineError::Invalid(Diagnostics(vec![Diagnostic::from_toml(origin, text, &err)
            .hint("see \"Serving a model\" in the README for the spec format")]))
    })?;
    let model_span = spec.model.span();
    let resolved = match spec.model.get_ref() {
        toml::Value::String(id) => resolve_serve_inputs(catalog, id, spec.cluster.system.get_ref()),
        toml::Value::Table(table) => {
            let (name, arch) = crate::model_table::model_from_toml(toml::Value::Table(
                table.clone(),
            ))
            .map_err(|m| {
                fail(
                    Some(model_span.clone()),
                    "model",
                    m,
                    "fix the architecture (see \"Serving a model\" in the README)",
                )
            })?;
            serve_inputs_for_arch(catalog, name, arch, spec.cluster.system.get_ref())
        }
        _ => {
            return Err(fail(
                Some(model_span),
                "model",
                "`model` is neither a catalog id nor a table".into(),
                "write `model = \"llama3-70b\"` or a [model] table",
            ))
        }
    };
    let inputs = resolved.map_err(|m| {
        // Only an unknown model is the model's fault; a missing figure is the system's.
        let (span, field) = if m.starts_with("unknown model") {
            (model_span.clone(), "model")
        } else {
            (spec.cluster.system.span(), "cluster.system")
        };
        let fix = crate::train::lookup_fix(&m);
        fail(Some(span), field, m, fix)
    })?;
    let s = &spec.serving;
    let count = |value: &Option<Spanned<i64>>, field: &str| -> Result<u32, EngineError> {
        match value {
            None => Ok(1),
            Some(v) if (1..=4096).contains(v.get_ref()) => Ok(*v.get_ref() as u32),
            Some(v) => Err(fail(
                Some(v.span()),
                field,
                format!("`{field}` is {}", v.get_ref()),
                "a whole number from 1 to 4096",
            )),
        }
    };
    let (tp, pp, ep) = (
        count(&s.tp, "serving.tp")?,
        count(&s.pp, "serving.pp")?,
        count(&s.ep, "serving.ep")?,
    );
    let arch = &inputs.arch;
    if !(arch.heads as u32).is_multiple_of(tp) {
        return Err(fail(
            s.tp.as_ref().map(Spanned::span),
            "serving.tp",
            format!(
                "tp = {tp} does not divide the {} attention heads",
                arch.heads
            ),
            "choose a tp that divides the heads",
        ));
    }
    if !(arch.layers as u32).is_multiple_of(pp) {
        return Err(fail(
            s.pp.as_ref().map(Spanned::span),
            "serving.pp",
            format!("pp = {pp} does not divide the {} layers", arch.layers),
            "choose a pp that divides the layers",
        ));
    }
    if ep > 1 && !arch.is_moe() {
        return Err(fail(
            s.ep.as_ref().map(Spanned::span),
            "serving.ep",
            format!("ep = {ep} needs an MoE model; `{}` is dense", inputs.model),
            "use ep = 1 for dense models",
        ));
    }
    if ep > 1 && !(arch.experts as u32).is_multiple_of(ep) {
        return Err(fail(
            s.ep.as_ref().map(Spanned::span),
            "serving.ep",
            format!("ep = {ep} does not divide the {} experts", arch.experts),
            "choose an ep that divides the experts (a power of two for 256)",
        ));
    }
    if s.overlap_ep && !(ep > 1 && arch.is_moe()) {
        return Err(fail(
            None,
            "serving.overlap_ep",
            "overlap_ep hides the expert all-to-all, which only an MoE model with ep > 1 has"
                .to_string(),
            "set ep > 1 on an MoE model, or leave overlap_ep out",
        ));
    }
    let precision = parse_precision(s.precision.get_ref()).ok_or_else(|| {
        fail(
            Some(s.precision.span()),
            "serving.precision",
            format!("unknown precision `{}`", s.precision.get_ref()),
            "use bf16, fp8 or fp4",
        )
    })?;
    let kv_bytes = match &s.kv_precision {
        None => 2.0,
        Some(k) => match k.get_ref().as_str() {
            "bf16" => 2.0,
            "fp8" => 1.0,
            other => {
                return Err(fail(
                    Some(k.span()),
                    "serving.kv_precision",
                    format!("unknown KV precision `{other}`"),
                    "use bf16 or fp8",
                ))
            }
        },
    };
    let tokens = |v: &Spanned<f64>, field: &str| -> Result<f64, EngineError> {
        let x = *v.get_ref();
        if !(1.0..=10_000_000.0).contains(&x) {
            return Err(fail(
                Some(v.span()),
                field,
                format!("`{field}` is {x}"),
                "tokens per request: from 1 to 10,000,000",
            ));
        }
        Ok(x)
    };
    let slo = |v: &Option<Spanned<f64>>, field: &str| -> Result<Option<f64>, EngineError> {
        match v {
            None => Ok(None),
            Some(v) if *v.get_ref() > 0.0 && v.get_ref().is_finite() => Ok(Some(*v.get_ref())),
            Some(v) => Err(fail(
                Some(v.span()),
                field,
                format!("`{field}` is {}", v.get_ref()),
                "a latency target in seconds, greater than 0",
            )),
        }
    };
    let mode = parse_mode(s.mode.get_ref()).ok_or_else(|| {
        fail(
            Some(s.mode.span()),
            "serving.mode",
            format!("unknown mode `{}`", s.mode.get_ref()),
            "use offline or server",
        )
    })?;
    let workload = ServingWorkload {
        input_tokens: tokens(&s.input_tokens, "serving.input_tokens")?,
        output_tokens: tokens(&s.output_tokens, "serving.output_tokens")?,
        ttft_slo_s: slo(&s.ttft_slo_s, "serving.ttft_slo_s")?,
        tpot_slo_s: slo(&s.tpot_slo_s, "serving.tpot_slo_s")?,
        mode,
        disaggregated: s.disaggregated,
        max_batch: match &s.max_batch {
            None => None,
            Some(b) => Some(checked_max_batch(*b.get_ref()).map_err(|fix| {
                fail(
                    Some(b.span()),
                    "serving.max_batch",
                    format!("`serving.max_batch` is {}", b.get_ref()),
                    fix,
                )
            })?),
        },
        speculation: checked_speculation(
            s.draft_tokens.as_ref().map(|v| *v.get_ref()),
            s.acceptance_rate.as_ref().map(|v| *v.get_ref()),
            s.draft_cost_fraction.as_ref().map(|v| *v.get_ref()),
        )
        .map_err(|(field, value, fix)| {
            let span = match field {
                "draft_tokens" => s.draft_tokens.as_ref(),
                "acceptance_rate" => s.acceptance_rate.as_ref().or(s.draft_tokens.as_ref()),
                _ => s.draft_cost_fraction.as_ref(),
            }
            .map(Spanned::span);
            let message = match value {
                None => format!("`serving.{field}` is missing"),
                Some(v) => format!("`serving.{field}` is {v}"),
            };
            fail(span, &format!("serving.{field}"), message, fix)
        })?,
        slo_percentile: match &s.slo_percentile {
            None => perf::DEFAULT_SLO_PERCENTILE,
            Some(p) => checked_percentile(*p.get_ref()).map_err(|fix| {
                fail(
                    Some(p.span()),
                    "serving.slo_percentile",
                    format!("`serving.slo_percentile` is {}", p.get_ref()),
                    fix,
                )
            })?,
        },
    };
    let engine = match &spec.engine {
        None => None,
        Some(e) => {
            let engines = catalog::engines::Engines::embedded();
            let found = engines.get(e.get_ref()).map_err(|m| {
                fail(
                    Some(e.span()),
                    "engine",
                    m,
                    "one of the ids in catalog/engines.toml (vllm, sglang, tensorrt-llm, vllm-rocm, sglang-rocm)",
                )
            })?;
            let name = crate::train::precision_name(precision);
            if let Some(list) = found.precisions.value() {
                if !list.iter().any(|p| p == name) {
                    return Err(fail(
                        Some(s.precision.span()),
                        "serving.precision",
                        format!(
                            "{} {} does not serve {name} (it serves {})",
                            found.name,
                            found.version,
                            list.join(", ")
                        ),
                        "choose a precision the engine serves, or another engine",
                    ));
                }
            }
            if ep > 1 && found.attention_data_parallel.value() == Some(&false) {
                return Err(fail(
                    s.ep.as_ref().map(Spanned::span),
                    "serving.ep",
                    format!("{} has no attention data parallel", found.name),
                    "use ep = 1 or another engine",
                ));
            }
            Some(found.id.clone())
        }
    };
    if let Err(m) = check_precision(&inputs, precision) {
        let (message, fix) = m.split_once("\n  fix: ").unwrap_or((m.as_str(), ""));
        return Err(fail(
            Some(s.precision.span()),
            "serving.precision",
            message.to_string(),
            fix,
        ));
    }
    // Per-component weight precisions: each a precision the chip has, named by its field.
    let component = |v: &Option<Spanned<String>>, field: &str| -> Result<Precision, EngineError> {
        let Some(v) = v else {
            return Ok(precision);
        };
        let p = parse_precision(v.get_ref()).ok_or_else(|| {
            fail(
                Some(v.span()),
                field,
                format!("unknown precision `{}`", v.get_ref()),
                "use bf16, fp8 or fp4",
            )
        })?;
        check_precision(&inputs, p).map_err(|m| {
            let (message, fix) = m.split_once("\n  fix: ").unwrap_or((m.as_str(), ""));
            fail(Some(v.span()), field, message.to_string(), fix)
        })?;
        Ok(p)
    };
    let components = perf::ComponentPrecision {
        attention: component(&s.attention_precision, "serving.attention_precision")?,
        dense: component(&s.dense_precision, "serving.dense_precision")?,
        experts: component(&s.expert_precision, "serving.expert_precision")?,
    };
    let components =
        (components != perf::ComponentPrecision::uniform(precision)).then_some(components);
    let layout = ServingLayout {
        tp,
        pp,
        ep,
        precision,
        kv_bytes,
        overlap_ep: s.overlap_ep,
    };
    let gpus = match &spec.cluster.gpus {
        None => None,
        Some(g) => {
            let n = *g.get_ref();
            if !(1..=100_000_000).contains(&n)
                || !(n as u64).is_multiple_of(u64::from(layout.gpus()))
            {
                return Err(fail(
                    Some(g.span()),
                    "cluster.gpus",
                    format!(
                        "{n} GPUs are not a whole number of {}-GPU units",
                        layout.gpus()
                    ),
                    "give a multiple of tp x pp x ep, from 1 to 100,000,000",
                ));
            }
            Some(n as u64)
        }
    };
    let mut result = infer_result_components(
        catalog,
        &inputs,
        layout,
        workload,
        gpus,
        content_hash(text),
        engine.as_deref(),
        components,
    );
    if let Some(t) = &spec.traffic {
        spec_traffic(
            &mut result,
            t,
            &inputs,
            &layout,
            &workload,
            engine.as_deref(),
            components,
            &fail,
        )?;
    }
    if let Some(c) = components {
        result.assumptions.push(format!(
            "weights per component: attention {}, dense layers and embeddings {}, routed experts {}",
            crate::train::precision_name(c.attention),
            crate::train::precision_name(c.dense),
            crate::train::precision_name(c.experts)
        ));
    }
    if let Some(id) = engine {
        let key = engine_key(&id);
        let fitted = ServingFit::shipped().engine_step_factors.get(key).copied();
        result.assumptions.push(match fitted {
            Some(f) => format!(
                "engine `{id}`: its supported precisions and attention data parallel are checked (catalog/engines.toml); its kernels take {:.3}x the reference engine's (TensorRT-LLM) time and it spends {:.0} µs per sequence per step, fitted on its published tables",
                f.step_factor,
                1e6 * f.per_sequence_step_s
            ),
            None => format!(
                "engine `{id}`: its supported precisions and attention data parallel are checked (catalog/engines.toml); no published table of it is in the calibration, so it is costed as the reference engine (TensorRT-LLM)"
            ),
        });
        result.engine = Some(id);
    }
    Ok(result)
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
