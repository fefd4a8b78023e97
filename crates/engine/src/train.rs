//! Training: catalog systems and models turned into the performance model's inputs, the spec
//! file format of `gigawatt train`, and validation against published runs.

use catalog::{Catalog, ModelArch, Sourced};
use perf::validate::{CaseResult, Skipped, ValidationSummary};
use perf::{Arch, Hardware, Mla, ModelConstants};
use serde::Serialize;

/// The performance model's view of a catalog system, or what is missing for it.
pub fn hardware_for_system(catalog: &Catalog, system_id: &str) -> Result<Hardware, String> {
    hardware_with_overrides(catalog, system_id, &[])
}

/// [`hardware_for_system`] with accelerator figures a scenario supplied, as
/// (`bf16_dense_tflops` | `fp8_dense_tflops` | `fp4_dense_tflops`, TFLOP/s) pairs.
pub fn hardware_with_overrides(
    catalog: &Catalog,
    system_id: &str,
    overrides: &[(&str, f64)],
) -> Result<Hardware, String> {
    let system = catalog
        .systems
        .get(system_id)
        .ok_or_else(|| format!("unknown system `{system_id}`"))?;
    let accelerator = catalog.accelerator_of(system);
    let need = |value: &Sourced<f64>, what: &str| -> Result<f64, String> {
        value.number().ok_or_else(|| {
            format!(
                "the catalog has no {what} for `{system_id}` ({})",
                value.missing_reason().unwrap_or("not given")
            )
        })
    };
    let given = |key: &str| overrides.iter().find(|(k, _)| *k == key).map(|(_, v)| *v);
    let peak_bf16 = match given("bf16_dense_tflops") {
        Some(t) => t,
        None => need(&accelerator.bf16_dense_tflops, "dense bf16 peak")?,
    } * 1e12;
    let matmul_efficiency = match accelerator
        .bf16_mamf_tflops
        .as_ref()
        .and_then(Sourced::number)
    {
        Some(mamf) => mamf * 1e12 / peak_bf16,
        None => mean_measured_matmul_efficiency(catalog),
    };
    let peak_fp8 = given("fp8_dense_tflops")
        .or(accelerator.fp8_dense_tflops.number())
        .map(|t| t * 1e12);
    let low_precision_matmul_efficiency = match (
        accelerator
            .fp8_mamf_tflops
            .as_ref()
            .and_then(Sourced::number),
        peak_fp8,
    ) {
        (Some(mamf), Some(peak)) => mamf * 1e12 / peak,
        _ => mean_measured_fp8_matmul_efficiency(catalog).unwrap_or(matmul_efficiency),
    };
    Ok(Hardware {
        peak_bf16_flops: peak_bf16,
        peak_fp8_flops: peak_fp8,
        peak_fp4_flops: given("fp4_dense_tflops")
            .or(accelerator.fp4_dense_tflops.number())
            .map(|t| t * 1e12),
        matmul_efficiency,
        low_precision_matmul_efficiency,
        hbm_bytes: need(&accelerator.hbm_gib, "HBM capacity")? * 1024f64.powi(3),
        hbm_bytes_per_s: need(&accelerator.hbm_tb_per_s, "HBM bandwidth")? * 1e12,
        scale_up_domain: need(&system.scale_up_domain, "scale-up domain size")?,
        // Vendors quote scale-up bandwidth in both directions together.
        scale_up_bytes_per_s: need(&system.scale_up_gb_per_s, "scale-up bandwidth")? * 1e9 / 2.0,
        scale_out_bytes_per_s: need(&system.scale_out_gbit_per_s, "scale-out bandwidth")? * 1e9
            / 8.0,
        matmul_rates: crate::hardware::matmul_rates(accelerator, overrides),
    })
}

/// For serving: like [`hardware_with_overrides`], but a system whose scale-out bandwidth is not
/// public still serves inside its scale-up domain (the bandwidth is 0 and the layout search
/// stays inside the domain).
pub fn hardware_for_serving(
    catalog: &Catalog,
    system_id: &str,
    overrides: &[(&str, f64)],
) -> Result<Hardware, String> {
    match hardware_with_overrides(catalog, system_id, overrides) {
        Err(message) if message.contains("scale-out") => {
            let mut patched = catalog.clone();
            if let Some(system) = patched.systems.get_mut(system_id) {
                system.scale_out_gbit_per_s = Sourced::known(0.0, "none");
            }
            hardware_with_overrides(&patched, system_id, overrides)
        }
        other => other,
    }
}

/// The fix to suggest for a failed model/system lookup: a missing catalog figure is supplied in
/// a catalog file of the user's; an unknown id is looked up in the list.
pub fn lookup_fix(message: &str) -> &'static str {
    if message.contains("the catalog has no") {
        "copy the entry from catalog/hardware.toml into a file of yours with the figure filled in and its source, and pass --catalog DIR (the entry replaces the shipped one)"
    } else {
        "`gigawatt catalog list` shows the ids"
    }
}

/// The mean MAMF / peak over accelerators with a published measurement: the matmul ceiling
/// assumed for chips nobody has measured (stated in the result's assumptions).
pub fn mean_measured_matmul_efficiency(catalog: &Catalog) -> f64 {
    let ratios: Vec<f64> = catalog
        .accelerators
        .values()
        .filter_map(|a| {
            let mamf = a.bf16_mamf_tflops.as_ref()?.number()?;
            Some(mamf / a.bf16_dense_tflops.number()?)
        })
        .collect();
    if ratios.is_empty() {
        0.8
    } else {
        ratios.iter().sum::<f64>() / ratios.len() as f64
    }
}

/// The mean FP8 MAMF / FP8 peak over accelerators with a published FP8 measurement: the FP8
/// (and FP4) ceiling assumed for chips nobody has measured at FP8; `None` when no chip has one.
pub fn mean_measured_fp8_matmul_efficiency(catalog: &Catalog) -> Option<f64> {
    let ratios: Vec<f64> = catalog
        .accelerators
        .values()
        .filter_map(|a| {
            let mamf = a.fp8_mamf_tflops.as_ref()?.number()?;
            Some(mamf / a.fp8_dense_tflops.number()?)
        })
        .collect();
    (!ratios.is_empty()).then(|| ratios.iter().sum::<f64>() / ratios.len() as f64)
}

/// A catalog architecture as the performance model's numbers.
pub fn arch_from_catalog(model: &ModelArch) -> Arch {
    let f = f64::from;
    Arch {
        layers: f(model.layers),
        hidden: f(model.hidden),
        ffn_hidden: f(model.ffn_hidden),
        heads: f(model.heads),
        kv_heads: f(model.kv_heads),
        head_dim: model.head_dim.map_or(f(model.hidden) / f(model.heads), f),
        vocab: f(model.vocab),
        gated_mlp: model.gated_mlp,
        tied_embeddings: model.tied_embeddings,
        experts: f(model.experts),
        top_k: f(model.top_k),
        moe_ffn_hidden: f(model.moe_ffn_hidden),
        shared_experts: f(model.shared_experts),
        dense_layers: f(model.dense_layers),
        mla: (model.kv_lora_rank > 0).then(|| Mla {
            q_lora_rank: f(model.q_lora_rank),
            kv_lora_rank: f(model.kv_lora_rank),
            qk_nope_head_dim: f(model.qk_nope_head_dim),
            qk_rope_head_dim: f(model.qk_rope_head_dim),
            v_head_dim: f(model.v_head_dim),
        }),
    }
}

/// The catalog system a calibration row's GPU type ran on.
pub fn system_for_gpu_type(gpu_type: &str) -> Option<&'static str> {
    let g = gpu_type.to_uppercase();
    if g.contains("H100") {
        Some("dgx-h100")
    } else if g.contains("A100") && g.contains("40") {
        Some("dgx-a100-40gb")
    } else if g.contains("A100") {
        Some("dgx-a100-80gb")
    } else {
        None
    }
}

/// Predicted against published, per case and summarised.
#[derive(Debug, Clone, Serialize)]
pub struct TrainingValidation {
    /// Per compared case.
    pub cases: Vec<CaseResult>,
    /// Summary.
    pub summary: ValidationSummary,
    /// Rows not compared, and why.
    pub skipped: Vec<Skipped>,
    /// The model constants used.
    pub constants: ModelConstants,
}

/// Validates the training model on a calibration CSV text.
pub fn validate_training(
    catalog: &Catalog,
    csv_text: &str,
    constants: &ModelConstants,
) -> Result<TrainingValidation, String> {
    let (cases, mut skipped) = perf::validate::read_training_csv(csv_text)?;
    let hardware_for = |gpu_type: &str| {
        system_for_gpu_type(gpu_type).and_then(|id| hardware_for_system(catalog, id).ok())
    };
    let (results, more_skipped) = perf::validate::run(&cases, &hardware_for, constants);
    skipped.extend(more_skipped);
    let summary = perf::validate::summarize(&results);
    Ok(TrainingValidation {
        cases: results,
        summary,
        skipped,
        constants: *constants,
    })
}

// ---------------------------------------------------------------------------------------------
// The spec file of `gigawatt train`.
// ---------------------------------------------------------------------------------------------

use catalog::{Diagnostic, Diagnostics};
use perf::{Evaluation, Precision, Recompute, Strategy, Workload};
use serde::Deserialize;
use toml::Spanned;

use crate::{content_hash, EngineError, ENGINE_VERSION, SCHEMA_VERSION};

/// An architecture written in a spec instead of a catalog id.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSpec {
    layers: u32,
    hidden: u32,
    ffn_hidden: u32,
    heads: u32,
    kv_heads: Option<u32>,
    head_dim: Option<u32>,
    vocab: u32,
    #[serde(default)]
    gated_mlp: bool,
    #[serde(default)]
    tied_embeddings: bool,
    #[serde(default)]
    experts: u32,
    #[serde(default)]
    top_k: u32,
    #[serde(default)]
    moe_ffn_hidden: u32,
    #[serde(default)]
    shared_experts: u32,
    #[serde(default)]
    dense_layers: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClusterSpec {
    system: Spanned<String>,
    gpus: Spanned<i64>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ParallelismSpec {
    #[serde(default = "one")]
    tp: Spanned<i64>,
    #[serde(default = "one")]
    pp: Spanned<i64>,
    dp: Option<Spanned<i64>>,
    #[serde(default = "one")]
    cp: Spanned<i64>,
    #[serde(default = "one")]
    ep: Spanned<i64>,
    #[serde(default = "one")]
    virtual_pp: Spanned<i64>,
    #[serde(default = "one")]
    microbatch: Spanned<i64>,
    #[serde(default)]
    sequence_parallel: bool,
    #[serde(default = "default_recompute")]
    recompute: Spanned<String>,
    #[serde(default = "zero_stage")]
    zero: Spanned<i64>,
    #[serde(default = "yes")]
    flash_attention: bool,
    #[serde(default = "yes")]
    overlap_grad_reduce: bool,
    #[serde(default = "yes")]
    fused_elementwise: bool,
}

fn one() -> Spanned<i64> {
    Spanned::new(0..0, 1)
}
fn zero_stage() -> Spanned<i64> {
    Spanned::new(0..0, 0)
}
fn yes() -> bool {
    true
}
fn default_recompute() -> Spanned<String> {
    Spanned::new(0..0, "none".into())
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct TrainingSpec {
    global_batch: Spanned<i64>,
    seq_len: Spanned<i64>,
    #[serde(default = "default_precision")]
    precision: Spanned<String>,
    /// Tokens the run trains on, for time-to-train.
    tokens: Option<Spanned<f64>>,
}

fn default_precision() -> Spanned<String> {
    Spanned::new(0..0, "bf16".into())
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct TrainSpecFile {
    model: Spanned<toml::Value>,
    cluster: ClusterSpec,
    parallelism: ParallelismSpec,
    training: TrainingSpec,
}

/// The serialized result of `gigawatt train`.
#[derive(Debug, Clone, Serialize)]
pub struct TrainResult {
    /// Schema version.
    pub schema_version: u32,
    /// Engine version.
    pub engine_version: String,
    /// Catalog version.
    pub catalog_version: String,
    /// Hash of the spec text.
    pub input_hash: String,
    /// The model.
    pub model: ModelSummary,
    /// The cluster.
    pub system: String,
    /// Accelerators.
    pub gpus: u64,
    /// The layout (with `dp` derived).
    pub strategy: Strategy,
    /// Batch, sequence, precision.
    pub workload: Workload,
    /// Seconds per step.
    pub step_time_s: f64,
    /// Tokens per second, whole job.
    pub tokens_per_s: f64,
    /// Model TFLOP/s per accelerator.
    pub tflops_per_gpu: f64,
    /// Model FLOPs utilisation.
    pub mfu: f64,
    /// Hardware FLOPs utilisation (recompute counted).
    pub hfu: f64,
    /// Memory per accelerator, GiB.
    pub memory_gib_per_gpu: f64,
    /// Memory by part, GiB.
    pub memory_gib: MemoryGib,
    /// Whether it fits.
    pub feasible: bool,
    /// Why not.
    pub reason: Option<String>,
    /// Where the time goes, s per step.
    pub breakdown: perf::Breakdown,
    /// Time to train on `[training] tokens`, without and with failures.
    pub time_to_train: Option<TimeToTrain>,
    /// The numbers the model assumed beyond the catalog.
    pub assumptions: Vec<String>,
}

/// How long a run of a given number of tokens takes, without and with failures.
#[derive(Debug, Clone, Serialize)]
pub struct TimeToTrain {
    /// Tokens trained on.
    pub tokens: f64,
    /// Days at the modelled throughput with no failures.
    pub days_without_failures: f64,
    /// Effective training time ratio at the best checkpoint interval (reliability model's
    /// closed form with its sourced default failure rates).
    pub ettr: f64,
    /// The checkpoint interval that maximises it, minutes.
    pub checkpoint_interval_min: f64,
    /// Days with failures, checkpoints and restarts.
    pub days_with_failures: f64,
}

/// Time to train `tokens` at `tokens_per_s` on `gpus` of `system`, with the reliability
/// model's default failure rates.
pub fn time_to_train(
    catalog: &Catalog,
    system: &str,
    gpus: u64,
    tokens: f64,
    tokens_per_s: f64,
) -> Option<TimeToTrain> {
    let days_without_failures = tokens / tokens_per_s / 86_400.0;
    let system = catalog.systems.get(system)?;
    let mut job = reliability::JobSpec::new(gpus, days_without_failures.max(1.0));
    job.accelerators_per_system = system.accelerators_per_system.number()? as u32;
    job.scale_up_domain = system.scale_up_domain.number()? as u32;
    let data = reliability::ReliabilityData::embedded().ok()?;
    let (mut config, _) = data.config(&job);
    if let Some(best) = reliability::closed_form::optimal_interval_hours(&config) {
        config.checkpoint.interval_hours = best;
    }
    let ettr = reliability::expected_ettr(&config);
    Some(TimeToTrain {
        tokens,
        days_without_failures,
        ettr,
        checkpoint_interval_min: 60.0 * config.checkpoint.interval_hours,
        days_with_failures: if ettr > 0.0 {
            days_without_failures / ettr
        } else {
            f64::INFINITY
        },
    })
}

/// A model's identity and size.
#[derive(Debug, Clone, Serialize)]
pub struct ModelSummary {
    /// Catalog id, or `custom`.
    pub id: String,
    /// All parameters.
    pub params_total: f64,
    /// Parameters a token passes through.
    pub params_active: f64,
}

/// Memory per accelerator by part, GiB.
#[derive(Debug, Clone, Serialize)]
pub struct MemoryGib {
    /// Weights.
    pub weights: f64,
    /// Gradients.
    pub gradients: f64,
    /// Optimizer states.
    pub optimizer: f64,
    /// Activations.
    pub activations: f64,
    /// Framework reserve.
    pub reserved: f64,
    /// HBM capacity.
    pub capacity: f64,
}

const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

/// A resolved training question: what `evaluate` and `search` need.
pub struct TrainInputs {
    /// Catalog id or `custom`.
    pub model_id: String,
    /// Architecture.
    pub arch: Arch,
    /// System id.
    pub system: String,
    /// Hardware.
    pub hardware: Hardware,
    /// Accelerators.
    pub gpus: u64,
    /// Batch, sequence, precision.
    pub workload: Workload,
    /// Stated assumptions.
    pub assumptions: Vec<String>,
}

/// Resolves a model id, system id, GPU count and workload (shared by the spec and `search`).
pub fn resolve_train_inputs(
    catalog: &Catalog,
    model_id: &str,
    system: &str,
    gpus: u64,
    workload: Workload,
) -> Result<TrainInputs, String> {
    let model = catalog.models.get(model_id).ok_or_else(|| {
        match catalog::nearest(model_id, catalog.models.keys().map(String::as_str)) {
            Some(near) => format!("unknown model `{model_id}`; did you mean `{near}`?"),
            None => format!(
                "unknown model `{model_id}`; `gigawatt catalog list --kind models` shows them"
            ),
        }
    })?;
    let arch = arch_from_catalog(model);
    finish_inputs(catalog, model_id.to_string(), arch, system, gpus, workload)
}

fn finish_inputs(
    catalog: &Catalog,
    model_id: String,
    arch: Arch,
    system: &str,
    gpus: u64,
    workload: Workload,
) -> Result<TrainInputs, String> {
    if !catalog.systems.contains_key(system) {
        return Err(match catalog.nearest_system(system) {
            Some(near) => format!("unknown system `{system}`; did you mean `{near}`?"),
            None => format!(
                "unknown system `{system}`; `gigawatt catalog list --kind systems` shows them"
            ),
        });
    }
    let hardware = hardware_for_system(catalog, system)?;
    if hardware.peak(workload.precision).is_none() {
        return Err(format!(
            "`{system}` has no dense {:?} rate in the catalog; choose another precision",
            workload.precision
        )
        .to_lowercase());
    }
    let mut assumptions = vec![matmul_ceiling_assumption(
        catalog,
        system,
        &hardware,
        workload.precision,
    )];
    let c = ModelConstants::default();
    assumptions.push(format!(
        "fitted on the calibration set: GEMM half-efficiency dimension {}, attention at {:.0}% of the matmul ceiling, {} element-wise passes per layer",
        c.gemm_half_dim,
        100.0 * c.attention_fraction,
        c.elementwise_passes
    ));
    assumptions.push(format!(
        "assumed: HBM streaming at {:.0}%, links at {:.0}% of nominal, {:.0} GiB reserved per accelerator",
        100.0 * c.memory_efficiency,
        100.0 * c.link_efficiency,
        c.reserved_memory_bytes / GIB
    ));
    Ok(TrainInputs {
        model_id,
        arch,
        system: system.to_string(),
        hardware,
        gpus,
        workload,
        assumptions,
    })
}

/// Evaluates one strategy and packages the result.
pub fn train_result(
    catalog: &Catalog,
    inputs: &TrainInputs,
    strategy: Strategy,
    input_hash: String,
) -> TrainResult {
    let e: Evaluation = perf::evaluate(&inputs.arch, &inputs.hardware, &strategy, &inputs.workload);
    let m = e.memory;
    TrainResult {
        schema_version: SCHEMA_VERSION,
        engine_version: ENGINE_VERSION.to_string(),
        catalog_version: catalog.version.clone(),
        input_hash,
        model: ModelSummary {
            id: inputs.model_id.clone(),
            params_total: inputs.arch.total_params(),
            params_active: inputs.arch.active_params(),
        },
        system: inputs.system.clone(),
        gpus: inputs.gpus,
        strategy,
        workload: inputs.workload,
        step_time_s: e.step_time_s,
        tokens_per_s: e.tokens_per_s,
        tflops_per_gpu: e.tflops_per_gpu,
        mfu: e.mfu,
        hfu: e.hfu,
        memory_gib_per_gpu: m.total_bytes / GIB,
        memory_gib: MemoryGib {
            weights: m.weights_bytes / GIB,
            gradients: m.gradients_bytes / GIB,
            optimizer: m.optimizer_bytes / GIB,
            activations: m.activations_bytes / GIB,
            reserved: m.reserved_bytes / GIB,
            capacity: inputs.hardware.hbm_bytes / GIB,
        },
        feasible: e.feasible,
        reason: e.infeasible.map(|i| {
            format!(
                "{}: needs {:.1} GiB of {:.1} GiB",
                i.describe(),
                m.total_bytes / GIB,
                inputs.hardware.hbm_bytes / GIB
            )
        }),
        breakdown: e.breakdown,
        time_to_train: None,
        assumptions: inputs.assumptions.clone(),
    }
}

/// Parses a precision name.
pub fn parse_precision(text: &str) -> Option<Precision> {
    match text {
        "bf16" => Some(Precision::Bf16),
        "fp8" => Some(Precision::Fp8),
        "fp4" => Some(Precision::Fp4),
        _ => None,
    }
}

/// Parses and evaluates a training spec (see the README's "Training a model").
pub fn train_text(catalog: &Catalog, origin: &str, text: &str) -> Result<TrainResult, EngineError> {
    let fail = |span: Option<std::ops::Range<usize>>, field: &str, message: String, hint: &str| {
        EngineError::Invalid(Diagnostics(vec![Diagnostic::new(origin, message)
            .at(text, span.filter(|s| s.end > 0))
            .field(field)
            .hint(hint)]))
    };
    let spec: TrainSpecFile = toml::from_str(text).map_err(|err| {
        EngineError::Invalid(Diagnostics(vec![Diagnostic::from_toml(origin, text, &err)
            .hint("see \"Training a model\" in the README for the spec format")]))
    })?;
    let positive = |value: &Spanned<i64>, field: &str| -> Result<u32, EngineError> {
        let v = *value.get_ref();
        if !(1..=10_000_000).contains(&v) {
            return Err(fail(
                Some(value.span()),
                field,
                format!("`{field}` is {v}"),
                "it must be a whole number from 1 to 10,000,000",
            ));
        }
        Ok(v as u32)
    };
    let precision_text = spec.training.precision.get_ref();
    let precision = parse_precision(precision_text).ok_or_else(|| {
        fail(
            Some(spec.training.precision.span()),
            "training.precision",
            format!("unknown precision `{precision_text}`"),
            "use bf16, fp8 or fp4",
        )
    })?;
    let workload = Workload {
        global_batch: f64::from(positive(
            &spec.training.global_batch,
            "training.global_batch",
        )?),
        seq_len: f64::from(positive(&spec.training.seq_len, "training.seq_len")?),
        precision,
    };
    let gpus = u64::from(positive(&spec.cluster.gpus, "cluster.gpus")?);
    let system = spec.cluster.system.get_ref().clone();
    let model_span = spec.model.span();
    let inputs = match spec.model.get_ref() {
        toml::Value::String(id) => resolve_train_inputs(catalog, id, &system, gpus, workload),
        toml::Value::Table(table) => {
            let model: ModelSpec =
                toml::Value::Table(table.clone())
                    .try_into()
                    .map_err(|e: toml::de::Error| {
                        fail(
                            Some(model_span.clone()),
                            "model",
                            e.message().to_string(),
                            "see \"Training a model\" in the README",
                        )
                    })?;
            let arch = arch_from_spec(&model)
                .map_err(|m| fail(Some(model_span.clone()), "model", m, "fix the architecture"))?;
            finish_inputs(catalog, "custom".into(), arch, &system, gpus, workload)
        }
        _ => {
            return Err(fail(
                Some(model_span),
                "model",
                "`model` is neither a catalog id nor a table".into(),
                "write `model = \"llama3-70b\"` or a [model] table",
            ))
        }
    }
    .map_err(|m| {
        let (span, field) = if m.contains("system") {
            (Some(spec.cluster.system.span()), "cluster.system")
        } else {
            (Some(model_span.clone()), "model")
        };
        let fix = lookup_fix(&m);
        fail(span, field, m, fix)
    })?;

    let p = &spec.parallelism;
    let tp = positive(&p.tp, "parallelism.tp")?;
    let pp = positive(&p.pp, "parallelism.pp")?;
    let cp = positive(&p.cp, "parallelism.cp")?;
    let model_parallel = u64::from(tp) * u64::from(pp) * u64::from(cp);
    let dp = match &p.dp {
        Some(dp) => positive(dp, "parallelism.dp")?,
        None => {
            if gpus % model_parallel != 0 {
                return Err(fail(
                    Some(p.tp.span()),
                    "parallelism",
                    format!("tp x pp x cp = {model_parallel} does not divide the {gpus} GPUs"),
                    "choose tp, pp and cp whose product divides cluster.gpus",
                ));
            }
            (gpus / model_parallel) as u32
        }
    };
    let recompute = match p.recompute.get_ref().as_str() {
        "none" => Recompute::None,
        "selective" => Recompute::Selective,
        "full" => Recompute::Full,
        other => {
            return Err(fail(
                Some(p.recompute.span()),
                "parallelism.recompute",
                format!("unknown recompute `{other}`"),
                "use none, selective or full",
            ))
        }
    };
    let zero = *p.zero.get_ref();
    if !(0..=3).contains(&zero) {
        return Err(fail(
            Some(p.zero.span()),
            "parallelism.zero",
            format!("`zero` is {zero}"),
            "ZeRO stages are 0 to 3 (3 = FSDP)",
        ));
    }
    let strategy = Strategy {
        tp,
        pp,
        dp,
        cp,
        ep: positive(&p.ep, "parallelism.ep")?,
        virtual_pp: positive(&p.virtual_pp, "parallelism.virtual_pp")?,
        microbatch: positive(&p.microbatch, "parallelism.microbatch")?,
        sequence_parallel: p.sequence_parallel,
        recompute,
        zero: zero as u8,
        flash_attention: p.flash_attention,
        overlap_grad_reduce: p.overlap_grad_reduce,
        fused_elementwise: p.fused_elementwise,
    };
    perf::validate_strategy(&inputs.arch, &strategy, &inputs.workload, gpus).map_err(|m| {
        fail(
            Some(p.tp.span()),
            "parallelism",
            m,
            "change the layout so that each split divides what it splits",
        )
    })?;
    let mut result = train_result(catalog, &inputs, strategy, content_hash(text));
    if let Some(tokens) = &spec.training.tokens {
        let t = *tokens.get_ref();
        if !(t > 0.0 && t <= 1e16) {
            return Err(fail(
                Some(tokens.span()),
                "training.tokens",
                format!("`training.tokens` is {t}"),
                "give the tokens the run trains on, more than 0 and at most 1e16",
            ));
        }
        if result.feasible {
            result.time_to_train =
                time_to_train(catalog, &result.system, gpus, t, result.tokens_per_s);
        }
    }
    Ok(result)
}

fn arch_from_spec(m: &ModelSpec) -> Result<Arch, String> {
    // Bounds far above any model built, low enough that the arithmetic stays meaningful.
    for (name, value, max) in [
        ("layers", m.layers, 10_000),
        ("hidden", m.hidden, 1_000_000),
        ("ffn_hidden", m.ffn_hidden, 10_000_000),
        ("heads", m.heads, 100_000),
        ("vocab", m.vocab, 100_000_000),
        ("experts", m.experts, 100_000),
    ] {
        if value > max {
            return Err(format!(
                "`model.{name}` is {value}, above the {max} this model accepts"
            ));
        }
    }
    for (name, value) in [
        ("layers", m.layers),
        ("hidden", m.hidden),
        ("ffn_hidden", m.ffn_hidden),
        ("heads", m.heads),
        ("vocab", m.vocab),
    ] {
        if value == 0 {
            return Err(format!("`model.{name}` is 0"));
        }
    }
    let kv_heads = m.kv_heads.unwrap_or(m.heads);
    if kv_heads == 0 || !m.heads.is_multiple_of(kv_heads) {
        return Err(format!(
            "`model.kv_heads` = {kv_heads} does not divide the {} heads",
            m.heads
        ));
    }
    if m.experts > 0 && (m.top_k == 0 || m.top_k > m.experts || m.moe_ffn_hidden == 0) {
        return Err("an MoE needs 1 <= top_k <= experts and moe_ffn_hidden > 0".into());
    }
    if m.dense_layers > m.layers {
        return Err("`model.dense_layers` exceeds `model.layers`".into());
    }
    let f = f64::from;
    Ok(Arch {
        layers: f(m.layers),
        hidden: f(m.hidden),
        ffn_hidden: f(m.ffn_hidden),
        heads: f(m.heads),
        kv_heads: f(kv_heads),
        head_dim: m.head_dim.map_or(f(m.hidden) / f(m.heads), f),
        vocab: f(m.vocab),
        gated_mlp: m.gated_mlp,
        tied_embeddings: m.tied_embeddings,
        experts: f(m.experts),
        top_k: f(m.top_k),
        moe_ffn_hidden: f(m.moe_ffn_hidden),
        shared_experts: f(m.shared_experts),
        dense_layers: f(m.dense_layers),
        mla: None,
    })
}

/// The matmul ceiling a result uses at `precision`, and where it comes from, for the
/// assumptions ledger of training and serving results.
pub fn matmul_ceiling_assumption(
    catalog: &Catalog,
    system: &str,
    hardware: &Hardware,
    precision: Precision,
) -> String {
    let accelerator = catalog.accelerator_of(&catalog.systems[system]);
    let (efficiency, measured) = match precision {
        Precision::Bf16 => (
            hardware.matmul_efficiency,
            accelerator.bf16_mamf_tflops.is_some(),
        ),
        Precision::Fp8 | Precision::Fp4 => (
            hardware.low_precision_matmul_efficiency,
            accelerator.fp8_mamf_tflops.is_some(),
        ),
    };
    let origin = match (precision, measured) {
        (Precision::Fp4, true) => {
            "no FP4 measurement is published: the chip's measured FP8 fraction"
        }
        (Precision::Fp4, false) => {
            "no FP4 measurement is published: the mean measured FP8 fraction"
        }
        (_, true) => "measured MAMF in the catalog",
        (_, false) => {
            "no published MAMF for this accelerator at this precision: the mean of the measured ones"
        }
    };
    format!(
        "{} matmul ceiling {:.1}% of the dense peak ({origin})",
        precision_name(precision),
        100.0 * efficiency,
    )
}

/// The precision as users write it.
pub fn precision_name(precision: Precision) -> &'static str {
    match precision {
        Precision::Bf16 => "bf16",
        Precision::Fp8 => "fp8",
        Precision::Fp4 => "fp4",
    }
}
