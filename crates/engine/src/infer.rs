//! Inference: the spec of `gigawatt infer`, layout search, the fleet view over a plan, and
//! validation against published serving results.

use catalog::{Catalog, Diagnostic, Diagnostics};
use perf::{
    evaluate_serving, search_serving, Arch, Hardware, ModelConstants, Precision, ServingEvaluation,
    ServingLayout, ServingMode, ServingWorkload,
};
use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::train::{arch_from_catalog, hardware_for_serving, parse_precision};
use crate::PlanResult;
use crate::{content_hash, EngineError, ENGINE_VERSION, SCHEMA_VERSION};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct InferSpecFile {
    model: Spanned<String>,
    cluster: InferCluster,
    serving: ServingSpec,
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
    if !catalog.systems.contains_key(system) {
        return Err(match catalog.nearest_system(system) {
            Some(near) => format!("unknown system `{system}`; did you mean `{near}`?"),
            None => format!("unknown system `{system}`"),
        });
    }
    let hardware = hardware_for_serving(catalog, system, &[])?;
    Ok(ServeInputs {
        model: model.to_string(),
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
            1e3 * e.best_tpot_s,
            1e3 * e.best_ttft_s
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
    let e = evaluate_serving(
        &inputs.arch,
        &inputs.hardware,
        &layout,
        &workload,
        &ModelConstants::default(),
    );
    let gpus = gpus.unwrap_or(u64::from(layout.gpus()));
    InferResult {
        schema_version: SCHEMA_VERSION,
        engine_version: ENGINE_VERSION.to_string(),
        catalog_version: catalog.version.clone(),
        input_hash,
        model: inputs.model.clone(),
        system: inputs.system.clone(),
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
    }
}

/// The assumptions ledger of a serving result.
fn serving_assumptions(
    catalog: &Catalog,
    inputs: &ServeInputs,
    layout: &ServingLayout,
    workload: &ServingWorkload,
) -> Vec<String> {
    let c = ModelConstants::default();
    let mut out = vec![crate::train::matmul_ceiling_assumption(
        catalog,
        &inputs.system,
        &inputs.hardware,
        layout.precision,
    )];
    out.push(format!(
        "assumed: HBM streaming at {:.0}% of nominal (Azure's published STREAM triad reaches 86-89% on H200 and H100) and links at {:.0}%, {:.0} GiB reserved per accelerator; attention at {:.0}% of the BF16 ceiling (fitted on training runs)",
        100.0 * c.memory_efficiency,
        100.0 * c.link_efficiency,
        c.reserved_memory_bytes / (1024.0 * 1024.0 * 1024.0),
        100.0 * c.attention_fraction
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
    let inputs = resolve_serve_inputs(catalog, spec.model.get_ref(), spec.cluster.system.get_ref())
        .map_err(|m| {
            // Only an unknown model is the model's fault; a missing figure is the system's.
            let (span, field) = if m.starts_with("unknown model") {
                (spec.model.span(), "model")
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
    if let Err(m) = check_precision(&inputs, precision) {
        let (message, fix) = m.split_once("\n  fix: ").unwrap_or((m.as_str(), ""));
        return Err(fail(
            Some(s.precision.span()),
            "serving.precision",
            message.to_string(),
            fix,
        ));
    }
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
    Ok(infer_result(
        catalog,
        &inputs,
        layout,
        workload,
        gpus,
        content_hash(text),
    ))
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
        &ModelConstants::default(),
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

/// One published serving result against the model.
#[derive(Debug, Clone, Serialize)]
pub struct InferenceCase {
    /// Row id.
    pub id: String,
    /// What was measured.
    pub metric: String,
    /// The published figure.
    pub measured: f64,
    /// The model's figure.
    pub predicted: f64,
    /// predicted / measured - 1.
    pub error: f64,
    /// How the row was mapped to the model.
    pub note: String,
    /// The model's evaluation behind the prediction (batch, latencies, step breakdown).
    pub evaluation: ServingEvaluation,
}

/// Rows that cannot be compared, and why.
#[derive(Debug, Clone, Serialize)]
pub struct InferenceSkipped {
    /// Row id.
    pub id: String,
    /// Why.
    pub reason: String,
}

/// Validation of the serving model on `calibration/inference.csv`.
#[derive(Debug, Clone, Serialize)]
pub struct InferenceValidation {
    /// Compared.
    pub cases: Vec<InferenceCase>,
    /// Not compared.
    pub skipped: Vec<InferenceSkipped>,
    /// Mean |error|.
    pub mean_abs_error: f64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ServingCases {
    #[serde(default)]
    lengths: Vec<RowLengths>,
    #[serde(default)]
    case: Vec<ServingCase>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RowLengths {
    id: String,
    input_tokens: f64,
    input_source: String,
    output_tokens: f64,
    output_source: String,
    /// KV-cache precision of the submission, where published.
    #[serde(default)]
    kv_precision: Option<String>,
    /// The submission's batch limit per replica, where published.
    #[serde(default)]
    max_batch: Option<u32>,
    /// Where the KV precision and batch limit come from.
    #[serde(default)]
    settings_source: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ServingCase {
    id: String,
    model: String,
    system: String,
    gpus: u32,
    tp: u32,
    precision: String,
    kv_precision: String,
    input_tokens: f64,
    output_tokens: f64,
    measured_output_tokens_per_s: f64,
    source: String,
    /// Expert parallel (attention data parallel) ranks; 1 for dense models.
    #[serde(default = "one")]
    ep: u32,
    /// The serving engine's batch limit per attention rank, where published.
    #[serde(default)]
    max_batch: Option<u32>,
    /// A decode pool measured alone (prefill on other nodes): compared with the decode pool's
    /// own rate, at a context of `input_tokens + output_tokens / 2`.
    #[serde(default)]
    decode_pool: bool,
    /// Expert all-to-all overlapped with compute (two microbatches).
    #[serde(default)]
    overlap_ep: bool,
    /// The measurement's GPUs are `gpus`; the metric, if not whole-system output tokens/s.
    #[serde(default)]
    metric: Option<String>,
}

fn one() -> u32 {
    1
}

/// Compares the serving model with published serving results: the rows of the inference
/// calibration CSV it can map (with request lengths from `cases_toml` where the CSV lacks them)
/// and the fully configured cases in `cases_toml`.
///
/// Throughput-mode measurements (MLPerf Offline, TensorRT-LLM's infinite-rate runs) are compared
/// with the model in offline mode; latency-bound ones with the published targets.
pub fn validate_inference(
    catalog: &Catalog,
    csv_text: &str,
    cases_toml: &str,
) -> Result<InferenceValidation, String> {
    let extra: ServingCases =
        toml::from_str(cases_toml).map_err(|e| format!("serving cases: {}", e.message()))?;
    let records = perf::validate::parse_csv(csv_text);
    let header = records.first().ok_or("the file is empty")?;
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .ok_or(format!("no column `{name}`"))
    };
    let (id_c, metric_c, value_c) = (col("id")?, col("measured_metric")?, col("measured_value")?);
    let mut cases = Vec::new();
    let mut skipped = Vec::new();
    let constants = ModelConstants::default();
    for r in records.iter().skip(1).filter(|r| r.len() > value_c) {
        let id = r[id_c].clone();
        let metric = r[metric_c].clone();
        let value: f64 = r[value_c].parse().unwrap_or(f64::NAN);
        let lengths = extra.lengths.iter().find(|l| l.id == id);
        if id == "deepseek_v3r1_decode_node" {
            // Published: 14.8k output tokens/s per 8-GPU node at 20-22 tokens/s per user (TPOT
            // 1/21 s), mean KV length 4,989 per output token, EP144 over 18 nodes, FP8 matmuls,
            // prefill on separate nodes. Mapped as a decode pool at that TPOT and context.
            let inputs = resolve_serve_inputs(catalog, "deepseek-v3", "hgx-h800")?;
            // EP must divide the 256 experts: DeepSeek's 144 ranks hold 256 + 32 redundant
            // experts; EP128 is the nearest layout the model accepts, and per-GPU figures are
            // compared (times 8 GPUs per node).
            let layout = ServingLayout {
                tp: 1,
                pp: 1,
                ep: 128,
                precision: Precision::Fp8,
                kv_bytes: 2.0,
                overlap_ep: true,
            };
            let workload = ServingWorkload {
                input_tokens: 4989.0,
                output_tokens: 1.0,
                ttft_slo_s: None,
                tpot_slo_s: Some(1.0 / 21.0),
                mode: ServingMode::Server,
                disaggregated: true,
                max_batch: None,
                speculation: None,
                // The published 20-22 tokens/s is the average speed: judge TPOT at the mean.
                slo_percentile: 50.0,
            };
            let e = evaluate_serving(
                &inputs.arch,
                &inputs.hardware,
                &layout,
                &workload,
                &constants,
            );
            // The published figure is for decode nodes alone: the decode pool's own rate.
            let per_node = 8.0 * e.output_tokens_per_s / f64::from(layout.gpus());
            cases.push(InferenceCase {
                id,
                metric,
                measured: value,
                predicted: per_node,
                error: per_node / value - 1.0,
                note: "decode pool at a mean TPOT of 1/21 s, context 4,989, EP128 (2 routed experts per GPU, as DeepSeek's EP144 with 32 redundant experts), FP8 weights, bf16 KV, all-to-all overlapped (DeepSeek's published dual-batch overlap); a 24-hour production average over real load, not a capacity test".into(),
                evaluation: e,
            });
        } else if let (true, Some(l)) = (id.starts_with("mlperf41_llama2_70b_h100x8"), lengths) {
            // MLPerf v4.1 Llama 2 70B on 8 H100: four TP2 replicas, FP8 (calibration row);
            // Offline has no latency limit, Server meets TTFT 2 s and TPOT 200 ms.
            let mut arch = arch_from_catalog(
                catalog
                    .models
                    .get("llama3-70b")
                    .ok_or("llama3-70b is not in the catalog")?,
            );
            // Llama 2 70B is Llama 3 70B's shape with a 32,000-token vocabulary (calibration row).
            arch.vocab = 32000.0;
            let inputs = resolve_serve_inputs(catalog, "llama3-70b", "dgx-h100")?;
            let layout = ServingLayout {
                tp: 2,
                pp: 1,
                ep: 1,
                precision: Precision::Fp8,
                kv_bytes: match l.kv_precision.as_deref() {
                    Some("fp8") => 1.0,
                    _ => 2.0,
                },
                overlap_ep: false,
            };
            let server = id.contains("server");
            let workload = ServingWorkload {
                input_tokens: l.input_tokens,
                output_tokens: l.output_tokens,
                ttft_slo_s: server.then_some(2.0),
                tpot_slo_s: server.then_some(0.2),
                mode: if server {
                    ServingMode::Server
                } else {
                    ServingMode::Offline
                },
                disaggregated: false,
                max_batch: l.max_batch,
                speculation: None,
                // MLPerf Server: p99 TTFT and p99 TPOT under Poisson arrivals.
                slo_percentile: perf::DEFAULT_SLO_PERCENTILE,
            };
            let e = evaluate_serving(&arch, &inputs.hardware, &layout, &workload, &constants);
            let system = 8.0 * e.output_tokens_per_s_per_gpu;
            cases.push(InferenceCase {
                id,
                metric,
                measured: value,
                predicted: system,
                error: system / value - 1.0,
                note: format!(
                    "4 x TP2, FP8 weights, {} KV, batch limit {}, {} mode, mean prompt {} tokens ({}), mean output {} tokens ({}); settings: {}",
                    l.kv_precision.as_deref().unwrap_or("bf16"),
                    l.max_batch.map_or("none".to_string(), |b| b.to_string()),
                    if server {
                        "server (Poisson arrivals, p99 TTFT 2 s and p99 TPOT 200 ms)"
                    } else {
                        "offline"
                    },
                    l.input_tokens,
                    l.input_source,
                    l.output_tokens,
                    l.output_source,
                    l.settings_source.as_deref().unwrap_or("not published")
                ),
                evaluation: e,
            });
        } else {
            skipped.push(InferenceSkipped {
                id,
                reason: "the mean prompt (and, for prefill, per-request) lengths are not published"
                    .into(),
            });
        }
    }
    for c in &extra.case {
        let inputs = resolve_serve_inputs(catalog, &c.model, &c.system)?;
        let precision =
            parse_precision(&c.precision).ok_or(format!("case {}: unknown precision", c.id))?;
        let kv_bytes = match c.kv_precision.as_str() {
            "fp8" => 1.0,
            "bf16" => 2.0,
            other => return Err(format!("case {}: unknown kv_precision `{other}`", c.id)),
        };
        let layout = ServingLayout {
            tp: c.tp,
            pp: 1,
            ep: c.ep,
            precision,
            kv_bytes,
            overlap_ep: c.overlap_ep,
        };
        let workload = ServingWorkload {
            input_tokens: c.input_tokens,
            output_tokens: c.output_tokens,
            ttft_slo_s: None,
            tpot_slo_s: None,
            mode: ServingMode::Offline,
            disaggregated: c.decode_pool,
            max_batch: c.max_batch,
            speculation: None,
            slo_percentile: perf::DEFAULT_SLO_PERCENTILE,
        };
        let e = evaluate_serving(
            &inputs.arch,
            &inputs.hardware,
            &layout,
            &workload,
            &constants,
        );
        // A decode pool measured alone is compared with its own rate, not with the rate per
        // GPU of prefill and decode pools together.
        let per_gpu = if c.decode_pool {
            e.output_tokens_per_s / f64::from(layout.gpus())
        } else {
            e.output_tokens_per_s_per_gpu
        };
        let predicted = per_gpu * f64::from(c.gpus);
        cases.push(InferenceCase {
            id: c.id.clone(),
            metric: c
                .metric
                .clone()
                .unwrap_or_else(|| "output_tokens_per_s_system".into()),
            measured: c.measured_output_tokens_per_s,
            predicted,
            error: predicted / c.measured_output_tokens_per_s - 1.0,
            note: format!(
                "{}; {} weights, {} KV, {}/{} tokens, {}{}{}",
                c.source,
                c.precision,
                c.kv_precision,
                c.input_tokens,
                c.output_tokens,
                if c.decode_pool {
                    "decode pool alone"
                } else {
                    "offline"
                },
                if c.ep > 1 {
                    format!(", EP{}", c.ep)
                } else {
                    String::new()
                },
                c.max_batch
                    .map_or(String::new(), |b| format!(", batch limit {b} per rank")),
            ),
            evaluation: e,
        });
    }
    let mean_abs_error =
        cases.iter().map(|c| c.error.abs()).sum::<f64>() / cases.len().max(1) as f64;
    Ok(InferenceValidation {
        cases,
        skipped,
        mean_abs_error,
    })
}

/// The best serving rate one system type reaches for a model, or why it cannot be computed.
#[derive(Debug, Clone, Serialize)]
pub struct SystemServing {
    /// System id.
    pub system: String,
    /// The best layout's result, if any.
    pub best: Option<InferResult>,
    /// Why there is none.
    pub reason: Option<String>,
}

/// A month of the fleet serving a model.
#[derive(Debug, Clone, Serialize)]
pub struct FleetServingRow {
    /// `YYYY-MM`.
    pub month: String,
    /// Facility power online, GW.
    pub facility_gw: f64,
    /// Accelerators online.
    pub accelerators: f64,
    /// Output tokens per second the fleet could serve (null if any online system is unknown).
    pub output_tokens_per_s: Option<f64>,
    /// Per MW of facility power.
    pub output_tokens_per_s_per_mw: Option<f64>,
    /// Cost per million output tokens at full use: capex to date over the stated life plus
    /// this month's opex, divided by the month's tokens.
    pub usd_per_million_output_tokens: Option<f64>,
}

/// What a planned fleet could serve, month by month.
#[derive(Debug, Clone, Serialize)]
pub struct FleetServing {
    /// Schema version.
    pub schema_version: u32,
    /// The plan's scenario name.
    pub scenario: String,
    /// Model served.
    pub model: String,
    /// Traffic and targets.
    pub workload: ServingWorkload,
    /// Years capex is amortised over.
    pub life_years: f64,
    /// Best layout per system type.
    pub systems: Vec<SystemServing>,
    /// Monthly rows.
    pub timeline: Vec<FleetServingRow>,
}

/// Serving capacity of a plan: each tranche's accelerators at the best per-accelerator rate of
/// its system for `model` and `workload` (at `precision` where the chip has it, else bf16).
pub fn fleet_serving(
    catalog: &Catalog,
    plan: &PlanResult,
    model: &str,
    workload: ServingWorkload,
    precision: Precision,
    kv_bytes: f64,
    life_years: f64,
) -> Result<FleetServing, String> {
    let arch = catalog
        .models
        .get(model)
        .map(arch_from_catalog)
        .ok_or_else(|| {
            match catalog::nearest(model, catalog.models.keys().map(String::as_str)) {
                Some(near) => format!("unknown model `{model}`; did you mean `{near}`?"),
                None => format!("unknown model `{model}`"),
            }
        })?;
    // Accelerator figures the scenario supplied (for example Rubin's bf16 rate).
    let overrides: Vec<(String, String, f64)> = plan
        .assumptions
        .iter()
        .filter_map(|a| {
            let rest = a.name.strip_prefix("overrides.accelerator.")?;
            let (id, key) = rest.split_once('.')?;
            Some((id.to_string(), key.to_string(), a.value))
        })
        .collect();
    let mut systems: Vec<SystemServing> = Vec::new();
    for tranche in &plan.tranches {
        if systems.iter().any(|s| s.system == tranche.system) {
            continue;
        }
        let accelerator = tranche.totals.accelerator.clone();
        let mine: Vec<(&str, f64)> = overrides
            .iter()
            .filter(|(id, _, _)| *id == accelerator)
            .map(|(_, k, v)| (k.as_str(), *v))
            .collect();
        let entry = match hardware_for_serving(catalog, &tranche.system, &mine) {
            Err(reason) => SystemServing {
                system: tranche.system.clone(),
                best: None,
                reason: Some(reason),
            },
            Ok(hardware) => {
                // The asked precision where the chip has it, else bf16 (every chip has it).
                let precision = if hardware.peak(precision).is_some() {
                    precision
                } else {
                    Precision::Bf16
                };
                let inputs = ServeInputs {
                    model: model.to_string(),
                    arch: arch.clone(),
                    system: tranche.system.clone(),
                    hardware,
                };
                let (mut found, evaluated) =
                    infer_search(catalog, &inputs, precision, kv_bytes, workload, 1);
                // Why not, with what the best plain layout reaches (the search's message,
                // without its fix line).
                let why = || {
                    let message = no_layout_message(
                        catalog, &inputs, precision, kv_bytes, workload, evaluated,
                    );
                    message
                        .split("\n  fix:")
                        .next()
                        .unwrap_or_default()
                        .to_string()
                };
                match found.pop() {
                    Some(best) => SystemServing {
                        system: tranche.system.clone(),
                        best: Some(best),
                        reason: None,
                    },
                    None => SystemServing {
                        system: tranche.system.clone(),
                        best: None,
                        reason: Some(why()),
                    },
                }
            }
        };
        systems.push(entry);
    }
    let rate = |system: &str| {
        systems
            .iter()
            .find(|s| s.system == system)
            .and_then(|s| s.best.as_ref())
            .map(|b| b.output_tokens_per_s_per_gpu)
    };
    let seconds_per_month = units::HOURS_PER_MONTH * 3600.0;
    let timeline = plan
        .timeline
        .iter()
        .map(|row| {
            let mut tokens = Some(0.0);
            for (i, t) in row.by_tranche.iter().enumerate() {
                if t.accelerators > 0.0 {
                    tokens = match (tokens, rate(&plan.tranches[i].system)) {
                        (Some(sum), Some(r)) => Some(sum + r * t.accelerators),
                        _ => None,
                    };
                }
            }
            let mw = row.facility_gw * 1e3;
            let cost = tokens.filter(|t| *t > 0.0).map(|t| {
                let monthly = row.capex_usd / (life_years * 12.0) + row.opex_usd_in_month;
                monthly / (t * seconds_per_month) * 1e6
            });
            FleetServingRow {
                month: row.month.to_string(),
                facility_gw: row.facility_gw,
                accelerators: row.accelerators,
                output_tokens_per_s: tokens,
                output_tokens_per_s_per_mw: tokens.filter(|_| mw > 0.0).map(|t| t / mw),
                usd_per_million_output_tokens: cost,
            }
        })
        .collect();
    Ok(FleetServing {
        schema_version: SCHEMA_VERSION,
        scenario: plan.scenario.name.clone(),
        model: model.to_string(),
        workload,
        life_years,
        systems,
        timeline,
    })
}

/// How a traffic error names what was given: as a command-line flag or as a JSON field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldNames {
    /// `--max-batch`.
    Flags,
    /// `max_batch`.
    Json,
}

impl FieldNames {
    /// `field` (snake_case) as the user wrote it.
    pub fn name(self, field: &str) -> String {
        match self {
            FieldNames::Flags => format!("--{}", field.replace('_', "-")),
            FieldNames::Json => format!("`{field}`"),
        }
    }
}

/// The traffic of a serving question as the CLI flags and the API body give it.
#[derive(Debug, Clone, Copy)]
pub struct TrafficRequest<'a> {
    /// How errors name the inputs.
    pub names: FieldNames,
    /// Prompt tokens per request.
    pub input_tokens: f64,
    /// Generated tokens per request.
    pub output_tokens: f64,
    /// TTFT target, s.
    pub ttft_slo_s: Option<f64>,
    /// TPOT target, s.
    pub tpot_slo_s: Option<f64>,
    /// `offline` or `server`.
    pub mode: &'a str,
    /// Separate prefill and decode pools.
    pub disaggregated: bool,
    /// The serving engine's batch limit per attention rank.
    pub max_batch: Option<f64>,
    /// The percentile the latency targets hold for (server mode).
    pub slo_percentile: Option<f64>,
    /// Speculative decoding: tokens drafted per step (0 or absent: none).
    pub draft_tokens: Option<f64>,
    /// Speculative decoding: acceptance rate of a drafted token.
    pub acceptance_rate: Option<f64>,
    /// Speculative decoding: cost of one drafted token as a fraction of a decode step.
    pub draft_cost_fraction: Option<f64>,
}

/// The traffic of a serving question, checked the way `gigawatt infer search` checks its flags
/// (the CLI and the API share this, so their messages stay the same).
pub fn checked_workload(t: &TrafficRequest) -> Result<ServingWorkload, String> {
    let name = |field: &str| t.names.name(field);
    for (field, value) in [
        ("input_tokens", t.input_tokens),
        ("output_tokens", t.output_tokens),
    ] {
        if !(1.0..=10_000_000.0).contains(&value) {
            return Err(format!(
                "{} is {value}\n  fix: tokens per request, from 1 to 10,000,000",
                name(field)
            ));
        }
    }
    for (field, value) in [("ttft_slo_s", t.ttft_slo_s), ("tpot_slo_s", t.tpot_slo_s)] {
        if let Some(v) = value {
            if !(v > 0.0 && v.is_finite()) {
                return Err(format!(
                    "{} is {v}\n  fix: a latency target in seconds, greater than 0",
                    name(field)
                ));
            }
        }
    }
    let mode = parse_mode(t.mode).ok_or_else(|| {
        format!(
            "{} `{}` is unknown\n  fix: offline or server",
            name("mode"),
            t.mode
        )
    })?;
    let max_batch = match t.max_batch {
        None => None,
        Some(b) => Some(
            checked_max_batch(b)
                .map_err(|fix| format!("{} is {b}\n  fix: {fix}", name("max_batch")))?,
        ),
    };
    let slo_percentile = match t.slo_percentile {
        None => perf::DEFAULT_SLO_PERCENTILE,
        Some(p) => checked_percentile(p)
            .map_err(|fix| format!("{} is {p}\n  fix: {fix}", name("slo_percentile")))?,
    };
    let speculation = checked_speculation(t.draft_tokens, t.acceptance_rate, t.draft_cost_fraction)
        .map_err(|(field, value, fix)| match value {
            None => format!("{} is missing\n  fix: {fix}", name(field)),
            Some(v) => format!("{} is {v}\n  fix: {fix}", name(field)),
        })?;
    Ok(ServingWorkload {
        input_tokens: t.input_tokens,
        output_tokens: t.output_tokens,
        ttft_slo_s: t.ttft_slo_s,
        tpot_slo_s: t.tpot_slo_s,
        mode,
        disaggregated: t.disaggregated,
        max_batch,
        speculation,
        slo_percentile,
    })
}

/// What was wrong with a speculative decoding setting: the field, its value (`None`: missing)
/// and the fix.
type SpeculationError = (&'static str, Option<f64>, &'static str);

/// Speculative decoding settings, checked.
fn checked_speculation(
    draft_tokens: Option<f64>,
    acceptance_rate: Option<f64>,
    draft_cost_fraction: Option<f64>,
) -> Result<Option<perf::Speculation>, SpeculationError> {
    let drafts = match draft_tokens {
        None => 0.0,
        Some(k) if k.fract() == 0.0 && (0.0..=16.0).contains(&k) => k,
        Some(k) => {
            return Err((
                "draft_tokens",
                Some(k),
                "tokens drafted per step: a whole number from 0 to 16",
            ))
        }
    };
    if drafts == 0.0 {
        for (field, value) in [
            ("acceptance_rate", acceptance_rate),
            ("draft_cost_fraction", draft_cost_fraction),
        ] {
            if let Some(v) = value {
                return Err((field, Some(v), "it applies to speculative decoding only: give the number of drafted tokens too, or leave it out"));
            }
        }
        return Ok(None);
    }
    let acceptance_rate = match acceptance_rate {
        Some(a) if (0.0..=1.0).contains(&a) => a,
        Some(a) => return Err(("acceptance_rate", Some(a), "a probability from 0 to 1 (DeepSeek reports 0.85-0.9 for its MTP token)")),
        None => return Err(("acceptance_rate", None, "speculative decoding needs the acceptance rate of a drafted token, from 0 to 1 (DeepSeek reports 0.85-0.9 for its MTP token)")),
    };
    let draft_cost_fraction = match draft_cost_fraction {
        None => None,
        Some(f) if f > 0.0 && f <= 1.0 => Some(f),
        Some(f) => return Err(("draft_cost_fraction", Some(f), "the cost of drafting one token relative to one decode step of the model, above 0 and at most 1 (leave it out for an MTP module: one extra layer)")),
    };
    Ok(Some(perf::Speculation {
        draft_tokens: drafts as u32,
        acceptance_rate,
        draft_cost_fraction,
    }))
}

/// A serving engine batch limit: a whole number of sequences, at least 1.
fn checked_max_batch(b: f64) -> Result<u32, &'static str> {
    if b.fract() == 0.0 && (1.0..=f64::from(perf::MAX_BATCH)).contains(&b) {
        Ok(b as u32)
    } else {
        Err("sequences per attention rank: a whole number from 1 to 65,536")
    }
}

/// A latency percentile: from 50 (the targets judged at the median) to below 100 (99 is
/// MLPerf's Server constraint). Below the median a target would be judged at fewer sequences
/// than the mean the throughput is counted at.
fn checked_percentile(p: f64) -> Result<f64, &'static str> {
    if (50.0..100.0).contains(&p) {
        Ok(p)
    } else {
        Err("a percentile from 50 (the median) to below 100, e.g. 99 (MLPerf Server)")
    }
}

/// Refuses a precision the system's accelerator has no matmul units for.
pub fn check_precision(inputs: &ServeInputs, precision: Precision) -> Result<(), String> {
    if inputs.hardware.peak(precision).is_some() {
        return Ok(());
    }
    let name = format!("{precision:?}").to_lowercase();
    Err(format!(
        "`{}` has no {name} matmul units (or no public {name} rate)\n  fix: use bf16, or a system whose accelerator has {name}",
        inputs.system
    ))
}
