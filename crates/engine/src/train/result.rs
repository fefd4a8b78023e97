//! The result of `gigawatt train`: the evaluation of the spec's layout with the model it
//! ran, its memory, time to train and the assumptions ledger, and the words results use for
//! precisions, recomputation and matmul ceilings.

use catalog::{Catalog, CeilingBasis};
use perf::{Evaluation, Hardware, Precision, Recompute, Stages, Strategy, Workload};
use serde::Serialize;

use super::inputs::{TrainInputs, GIB};
use crate::{ENGINE_VERSION, SCHEMA_VERSION};

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
    /// The training framework (catalog id).
    pub framework: String,
    /// Whether the framework runs this layout (the layout is evaluated either way).
    pub framework_legal: bool,
    /// Why not, when it does not.
    pub framework_reason: Option<String>,
    /// The layout (with `dp` derived and the framework's software applied).
    pub strategy: Strategy,
    /// Layers per pipeline stage.
    pub stages: Stages,
    /// What `recompute = "auto"` chose and why, when it chose.
    pub recompute_auto: Option<String>,
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
    /// How far off the step time typically is: the model's mean absolute error on published
    /// runs it was not fitted on, for this accelerator's generation.
    pub step_time_error: StepTimeError,
    /// Time to train on `[training] tokens`, without and with failures.
    pub time_to_train: Option<TimeToTrain>,
    /// The numbers the model assumed beyond the catalog.
    pub assumptions: Vec<String>,
}

/// The training model's out-of-sample error where a result's accelerator stands
/// (`capability::model_error`, the figures `gigawatt train validate` publishes).
#[derive(Debug, Clone, Serialize)]
pub struct StepTimeError {
    /// Mean absolute relative error of the step time.
    pub mean_absolute: f64,
    /// Which validation figure it is, in words.
    pub basis: String,
}

impl StepTimeError {
    /// The figure for `accelerator` (a catalog id) running an MoE model (`moe`) or a dense
    /// one: leave one source out on the A100/H100 generations the fit rests on, leave
    /// Blackwell out on every other accelerator, or the MoE rows' (leave one source out) where
    /// the model is MoE and that is the larger.
    pub fn for_workload(accelerator: &str, moe: bool) -> StepTimeError {
        use crate::capability::model_error;
        let mean_absolute = model_error::training_error_for(accelerator, moe);
        let basis = if moe && mean_absolute > model_error::training_error(accelerator) {
            "mean absolute error on the published MoE runs, each source left out of the fit (gigawatt train validate): MoE models are predicted less well than dense ones on every generation"
        } else if model_error::FITTED_TRAINING_ACCELERATORS.contains(&accelerator) {
            "mean absolute error on published A100/H100-era runs, each source left out of the fit (gigawatt train validate)"
        } else {
            "mean absolute error on published Blackwell runs from a fit on A100/H100 alone, the figure for every accelerator the fit has no rows of (gigawatt train validate)"
        };
        StepTimeError {
            mean_absolute,
            basis: basis.to_string(),
        }
    }
    /// The ledger's line: "step time typically within ±6.0%: the mean absolute error ...".
    pub fn sentence(&self) -> String {
        format!(
            "step time typically within ±{:.1}%: the {}",
            100.0 * self.mean_absolute,
            self.basis
        )
    }
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

/// Evaluates one strategy and packages the result.
pub fn train_result(
    catalog: &Catalog,
    inputs: &TrainInputs,
    strategy: Strategy,
    input_hash: String,
) -> TrainResult {
    let e: Evaluation = perf::evaluate(&inputs.arch, &inputs.hardware, &strategy, &inputs.workload);
    let accelerator = catalog
        .systems
        .get(&inputs.system)
        .map_or("", |system| system.accelerator.get_ref().as_str());
    let step_time_error = StepTimeError::for_workload(accelerator, inputs.arch.is_moe());
    let m = e.memory;
    let legality = inputs
        .framework
        .check(&inputs.arch, &strategy, &inputs.workload);
    let stages = perf::split_layers(
        inputs.arch.layers as u32,
        strategy.pp,
        strategy.virtual_pp,
        strategy.first_stage_layers,
        strategy.last_stage_layers,
    )
    .unwrap_or(Stages {
        pp: strategy.pp,
        first: 0,
        middle: 0,
        middle_min: 0,
        last: 0,
    });
    // A named userbuffers config is read only where the TP overlap runs: say so when it does not.
    let unread_userbuffers =
        (!strategy.userbuffers.is_te_defaults() && e.breakdown.userbuffers_s == 0.0).then(|| {
            format!(
                "userbuffers config `{}` not read: the TP overlap does not run on this layout \
                 (it needs TP > 1, sequence parallelism, the overlap on and attention other \
                 than MLA, and runs only where it costs less than the collectives in line)",
                strategy.userbuffers.name
            )
        });
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
        framework: inputs.framework_id.clone(),
        framework_legal: legality.is_ok(),
        framework_reason: legality
            .err()
            .map(|why| format!("{} {why}", inputs.framework_id)),
        strategy,
        stages,
        recompute_auto: None,
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
        step_time_error: step_time_error.clone(),
        time_to_train: None,
        assumptions: {
            // How far to trust the step time leads the ledger.
            let mut ledger = vec![step_time_error.sentence()];
            ledger.extend(inputs.assumptions.iter().cloned());
            ledger.extend(unread_userbuffers);
            ledger
        },
    }
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
    let (efficiency, basis) = match precision {
        Precision::Bf16 => (
            hardware.matmul_efficiency,
            accelerator.ceiling_basis(catalog::Precision::Bf16),
        ),
        Precision::Fp8 | Precision::Fp4 => (
            hardware.low_precision_matmul_efficiency,
            accelerator.ceiling_basis(catalog::Precision::Fp8),
        ),
    };
    let origin = match (precision, basis) {
        (Precision::Fp4, CeilingBasis::Measured) => {
            "no FP4 measurement is used here: the chip's measured FP8 fraction"
        }
        (Precision::Fp4, CeilingBasis::Derived) => {
            "no FP4 measurement is used here: the chip's FP8 fraction, derived in the catalog"
        }
        (Precision::Fp4, CeilingBasis::Missing) => {
            "no FP4 measurement is used here: the mean measured FP8 fraction"
        }
        (_, CeilingBasis::Measured) => "measured MAMF in the catalog",
        (_, CeilingBasis::Derived) => {
            "no measurement for this accelerator: derived in the catalog from a measured chip (its rule in catalog/hardware.toml)"
        }
        (_, CeilingBasis::Missing) => {
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

/// A recompute choice in words (`selective (core_attn, layernorm)`, `full (2 layers per chunk)`).
pub fn recompute_words(s: &Strategy) -> String {
    match s.recompute {
        Recompute::None => "none".into(),
        Recompute::Selective => format!("selective ({})", s.selective_modules().names().join(", ")),
        Recompute::Full if s.recompute_layers == 0 => "full".into(),
        Recompute::Full => format!("full ({} layers per pipeline chunk)", s.recompute_layers),
    }
}
