//! The spec file of `gigawatt train`: parsing, the layout and its framework, checked; the
//! result it makes lives in `result`.

use catalog::{Catalog, Diagnostic, Diagnostics, Problems};
use perf::{ModelConstants, Precision, Recompute, RecomputeModules, Strategy, Workload};
use serde::Deserialize;
use toml::Spanned;

use super::inputs::{finish_inputs, resolve_train_inputs, TrainInputs, GIB};
use super::lookup_fix;
use super::result::{recompute_words, time_to_train, train_result, TrainResult};

use crate::{content_hash, EngineError};

pub use crate::model_table::ModelSpec;

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
    recompute: Option<Spanned<String>>,
    recompute_modules: Option<Spanned<Vec<String>>>,
    recompute_layers: Option<Spanned<i64>>,
    zero: Option<Spanned<i64>>,
    first_stage_layers: Option<Spanned<i64>>,
    last_stage_layers: Option<Spanned<i64>>,
    grad_buffer: Option<Spanned<String>>,
    flash_attention: Option<bool>,
    overlap_grad_reduce: Option<bool>,
    overlap_param_gather: Option<bool>,
    tp_comm_overlap: Option<bool>,
    /// The per-GEMM settings the TP overlap runs with: a named config
    /// (`perf::train::userbuffers`); default Transformer Engine's.
    userbuffers: Option<Spanned<String>>,
    ep_comm_overlap: Option<bool>,
    fused_elementwise: Option<bool>,
    /// Layers whose activations go to host memory (Megatron's `cpu_offloading_num_layers`).
    activation_offload_layers: Option<Spanned<i64>>,
    /// Per-tensor FP8 weights kept and all-gathered in 8 bits (Megatron's `fp8_param_gather`).
    fp8_param_gather: Option<Spanned<bool>>,
    /// NVFP4 weights kept and all-gathered packed in 4 bits (Megatron's `fp4_param_gather`).
    fp4_param_gather: Option<Spanned<bool>>,
}

fn one() -> Spanned<i64> {
    Spanned::new(0..0, 1)
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
    /// The recipe of the attention projections (`bf16`, `fp8-delayed`, `fp8-current`,
    /// `fp8-blockwise`, `mxfp8`, `nvfp4`, `mxfp4`); default: `precision`'s recipe.
    attention_precision: Option<Spanned<String>>,
    /// The recipe of the dense MLPs.
    dense_precision: Option<Spanned<String>>,
    /// The recipe of the routed and shared experts.
    expert_precision: Option<Spanned<String>>,
    /// The busiest expert-parallel rank's tokens over the mean (>= 1; default 1.25).
    moe_imbalance: Option<Spanned<f64>>,
    /// Token drop: each expert takes at most this many times the mean tokens and drops the
    /// rest (Megatron's `moe_expert_capacity_factor`, 1 to 64); default: dropless.
    moe_capacity_factor: Option<Spanned<f64>>,
    /// With `moe_capacity_factor`, every expert's input padded to the capacity (Megatron's
    /// `moe_pad_expert_input_to_capacity`; default false): every expert processes exactly the
    /// capacity and the dispatcher never syncs with the host; in place of `moe_imbalance`.
    moe_pad_to_capacity: Option<Spanned<bool>>,
    /// Nodes a token may be routed to (DeepSeek-V3: 4); default: no limit.
    moe_node_limit: Option<Spanned<i64>>,
    /// The token dispatcher: `alltoall` (default; a copy per routed expert crosses the
    /// network), `deepep` / `hybridep` (once per remote node, then NVLink), `deepep-fp8` (the
    /// same with tokens quantised to FP8 before the dispatch, as DeepSeek-V3 trained).
    moe_dispatcher: Option<Spanned<String>>,
    /// What the run captures in CUDA graphs (Megatron's `cuda_graph_impl` / `cuda_graph_scope`):
    /// `none` (default), `full_iteration`, or per-layer modules joined by `+`
    /// (`attn+moe_router+moe_preprocess`); captured kernels cost the host no launches.
    cuda_graphs: Option<Spanned<String>>,
}

/// The precision a spec gets when it names none (`gigawatt train` and `gigawatt infer` alike).
pub(crate) fn default_precision() -> Spanned<String> {
    Spanned::new(0..0, "bf16".into())
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct TrainSpecFile {
    model: Spanned<toml::Value>,
    framework: Option<Spanned<String>>,
    cluster: ClusterSpec,
    parallelism: ParallelismSpec,
    training: TrainingSpec,
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

/// The names `--precision` and the API's `precision` take, for error messages.
pub const TRAINING_PRECISION_NAMES: &str =
    "bf16, fp8 or fp4, or a recipe: fp8-delayed, fp8-current, fp8-blockwise, mxfp8, nvfp4, mxfp4";

/// Parses a training precision: a family (bf16, fp8, fp4), which leaves the recipe to the
/// framework, or a recipe name (mxfp8, fp8-current, ...), which fixes it. The CLI's search and
/// the server's search take the same names through this one function.
pub fn parse_training_precision(text: &str) -> Option<(Precision, Option<perf::Recipe>)> {
    let recipe = perf::Recipe::parse(text);
    parse_precision(text)
        .or(recipe.map(perf::Recipe::precision))
        .map(|precision| (precision, recipe))
}

/// Parses and evaluates a training spec (see the README's "Training a model").
pub fn train_text(catalog: &Catalog, origin: &str, text: &str) -> Result<TrainResult, EngineError> {
    let input = Problems::new(origin, text);
    let fail = |span: Option<std::ops::Range<usize>>, field: &str, message: String, hint: &str| {
        EngineError::Invalid(input.single(span, field, message, hint))
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
    // `precision` takes a family (bf16, fp8, fp4) or a recipe (mxfp8, fp8-current, ...).
    let headline_recipe = perf::Recipe::parse(precision_text);
    let precision = parse_precision(precision_text)
        .or(headline_recipe.map(perf::Recipe::precision))
        .ok_or_else(|| {
            fail(
                Some(spec.training.precision.span()),
                "training.precision",
                format!("unknown precision `{precision_text}`"),
                "use bf16, fp8 or fp4, or a recipe: fp8-delayed, fp8-current, fp8-blockwise, mxfp8, nvfp4, mxfp4",
            )
        })?;
    let components = component_precision(&spec.training, precision, headline_recipe, &fail)?;
    let workload = Workload {
        global_batch: f64::from(positive(
            &spec.training.global_batch,
            "training.global_batch",
        )?),
        seq_len: f64::from(positive(&spec.training.seq_len, "training.seq_len")?),
        precision,
        components,
        moe: moe_routing(&spec.training, &fail)?,
    };
    let gpus = u64::from(positive(&spec.cluster.gpus, "cluster.gpus")?);
    let system = spec.cluster.system.get_ref().clone();
    let model_span = spec.model.span();
    let inputs = match spec.model.get_ref() {
        toml::Value::String(id) => resolve_train_inputs(catalog, id, &system, gpus, workload),
        toml::Value::Table(table) => {
            let (name, arch) = crate::model_table::model_from_toml(toml::Value::Table(
                table.clone(),
            ))
            .map_err(|m| {
                fail(
                    Some(model_span.clone()),
                    "model",
                    m,
                    "fix the architecture (see \"Training a model\" in the README)",
                )
            })?;
            finish_inputs(catalog, name, arch, &system, gpus, workload)
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
    let inputs = inputs
        .with_framework(catalog, spec.framework.as_ref().map(|f| f.get_ref().as_str()))
        .map_err(|m| {
            fail(
                spec.framework.as_ref().map(Spanned::span),
                "framework",
                m,
                "the frameworks are in catalog/frameworks.toml (`framework = \"megatron-bridge-2026\"`)",
            )
        })?;
    let fw = inputs.framework;
    let recompute_text = p.recompute.as_ref().map(|r| r.get_ref().as_str());
    let recompute = match recompute_text.unwrap_or("auto") {
        "none" => Some(Recompute::None),
        "selective" => Some(Recompute::Selective),
        "full" => Some(Recompute::Full),
        "auto" => None,
        other => {
            return Err(fail(
                p.recompute.as_ref().map(Spanned::span),
                "parallelism.recompute",
                format!("unknown recompute `{other}`"),
                "use none, selective, full or auto (the least recompute that fits)",
            ))
        }
    };
    let mut recompute_modules = RecomputeModules::NONE;
    if let Some(modules) = &p.recompute_modules {
        if recompute != Some(Recompute::Selective) {
            return Err(fail(
                Some(modules.span()),
                "parallelism.recompute_modules",
                "`recompute_modules` names what selective recompute recomputes".into(),
                "set `recompute = \"selective\"` with it, or remove it",
            ));
        }
        for name in modules.get_ref() {
            let Some(module) = RecomputeModules::parse(name) else {
                let known: Vec<&str> = RecomputeModules::NAMED.iter().map(|(n, _)| *n).collect();
                let hint = match catalog::nearest(name, known.iter().copied()) {
                    Some(near) => format!("did you mean `{near}`? Modules: {}", known.join(", ")),
                    None => format!("modules: {}", known.join(", ")),
                };
                return Err(fail(
                    Some(modules.span()),
                    "parallelism.recompute_modules",
                    format!("unknown recompute module `{name}`"),
                    &hint,
                ));
            };
            recompute_modules = recompute_modules.union(module);
        }
    }
    let recompute_layers = match &p.recompute_layers {
        Some(n) => {
            if recompute != Some(Recompute::Full) {
                return Err(fail(
                    Some(n.span()),
                    "parallelism.recompute_layers",
                    "`recompute_layers` counts the layers per pipeline chunk that full recompute recomputes".into(),
                    "set `recompute = \"full\"` with it, or remove it",
                ));
            }
            positive(n, "parallelism.recompute_layers")?
        }
        None => 0,
    };
    let zero = p
        .zero
        .as_ref()
        .map_or(i64::from(fw.default_zero), |z| *z.get_ref());
    if !(0..=3).contains(&zero) {
        return Err(fail(
            p.zero.as_ref().map(Spanned::span),
            "parallelism.zero",
            format!("`zero` is {zero}"),
            "ZeRO stages are 0 to 3 (3 = FSDP)",
        ));
    }
    let stage_layers = |value: &Option<Spanned<i64>>, field: &str| -> Result<u32, EngineError> {
        match value {
            Some(v) => positive(v, field),
            None => Ok(0),
        }
    };
    let first_stage_layers = stage_layers(&p.first_stage_layers, "parallelism.first_stage_layers")?;
    let last_stage_layers = stage_layers(&p.last_stage_layers, "parallelism.last_stage_layers")?;
    let base = Strategy {
        tp,
        pp,
        dp,
        cp,
        ep: positive(&p.ep, "parallelism.ep")?,
        virtual_pp: positive(&p.virtual_pp, "parallelism.virtual_pp")?,
        microbatch: positive(&p.microbatch, "parallelism.microbatch")?,
        sequence_parallel: p.sequence_parallel,
        recompute: recompute.unwrap_or(Recompute::None),
        recompute_modules,
        recompute_layers,
        zero: zero as u8,
        first_stage_layers,
        last_stage_layers,
        ..Strategy::single()
    };
    // The framework's software, then what the spec says explicitly on top.
    let mut strategy = fw.apply(base);
    let given = |value: Option<bool>, default: bool| value.unwrap_or(default);
    strategy.flash_attention = given(p.flash_attention, strategy.flash_attention);
    strategy.fused_elementwise = given(p.fused_elementwise, strategy.fused_elementwise);
    strategy.overlap_grad_reduce = given(p.overlap_grad_reduce, strategy.overlap_grad_reduce);
    strategy.overlap_param_gather = given(p.overlap_param_gather, strategy.overlap_param_gather);
    strategy.tp_comm_overlap = given(p.tp_comm_overlap, strategy.tp_comm_overlap);
    strategy.ep_comm_overlap = given(p.ep_comm_overlap, strategy.ep_comm_overlap);
    if let Some(v) = &p.activation_offload_layers {
        let n = *v.get_ref();
        if !(0..=100_000).contains(&n) {
            return Err(fail(
                Some(v.span()),
                "parallelism.activation_offload_layers",
                format!("`activation_offload_layers` is {n}"),
                "it is how many layers' activations go to host memory: 0 or more",
            ));
        }
        strategy.activation_offload_layers = n as u32;
    }
    if let Some(name) = &p.userbuffers {
        use perf::train::userbuffers::UserbuffersConfig;
        strategy.userbuffers = UserbuffersConfig::named(name.get_ref()).ok_or_else(|| {
            fail(
                Some(name.span()),
                "parallelism.userbuffers",
                format!("unknown userbuffers config `{}`", name.get_ref()),
                &format!(
                    "use one of {}",
                    UserbuffersConfig::names().collect::<Vec<_>>().join(", ")
                ),
            )
        })?;
    }
    if let Some(buffer) = &p.grad_buffer {
        strategy.fp32_gradients = match buffer.get_ref().as_str() {
            "fp32" => true,
            "bf16" | "fp16" => false,
            other => {
                return Err(fail(
                    Some(buffer.span()),
                    "parallelism.grad_buffer",
                    format!("unknown gradient buffer precision `{other}`"),
                    "use fp32 or bf16",
                ))
            }
        };
    }
    if let Err(e) = perf::split_layers(
        inputs.arch.layers as u32,
        pp,
        strategy.virtual_pp,
        first_stage_layers,
        last_stage_layers,
    ) {
        let span = match e.field {
            "first_stage_layers" => p.first_stage_layers.as_ref().map(Spanned::span),
            "last_stage_layers" => p.last_stage_layers.as_ref().map(Spanned::span),
            _ => Some(p.pp.span()),
        };
        return Err(fail(
            span.or(Some(p.pp.span())),
            &format!("parallelism.{}", e.field),
            e.message,
            "stage layer counts must add up to the model's layers, each virtual chunk with at least one",
        ));
    }
    check_precision_and_routing(&spec.training, &inputs, &fw, &strategy, &fail)?;
    // Weights gathered in their matmul format: only a run whose recipe keeps them so.
    let recipes = inputs.workload.components();
    let mut recipe_names: Vec<&str> = recipes.all().iter().map(|(_, r)| r.name()).collect();
    recipe_names.dedup();
    for (value, field, wanted, kept) in [
        (
            &p.fp8_param_gather,
            "parallelism.fp8_param_gather",
            "fp8-delayed or fp8-current",
            &[perf::Recipe::Fp8Delayed, perf::Recipe::Fp8Current][..],
        ),
        (
            &p.fp4_param_gather,
            "parallelism.fp4_param_gather",
            "nvfp4",
            &[perf::Recipe::Nvfp4][..],
        ),
    ] {
        let Some(v) = value else { continue };
        if *v.get_ref() && !recipes.all().iter().any(|(_, r)| kept.contains(r)) {
            return Err(fail(
                Some(v.span()),
                field,
                format!(
                    "`{}` gathers weights kept in {wanted}, but this run trains in {}",
                    field.trim_start_matches("parallelism."),
                    recipe_names.join(", ")
                ),
                &format!("train in {wanted}, or remove it"),
            ));
        }
    }
    strategy.fp8_param_gather = p.fp8_param_gather.as_ref().is_some_and(|v| *v.get_ref());
    strategy.fp4_param_gather = p.fp4_param_gather.as_ref().is_some_and(|v| *v.get_ref());
    perf::validate_strategy(&inputs.arch, &strategy, &inputs.workload, gpus).map_err(|m| {
        fail(
            Some(p.tp.span()),
            "parallelism",
            m,
            "change the layout so that each split divides what it splits",
        )
    })?;
    let mut recompute_auto = None;
    if recompute.is_none() {
        match perf::least_recompute_that_fits(
            &inputs.arch,
            &inputs.hardware,
            &strategy,
            &inputs.workload,
            &ModelConstants::default(),
            &fw,
        ) {
            Ok((chosen, _)) => {
                recompute_auto = Some(format!(
                    "auto: the least recompute that fits is {}",
                    recompute_words(&chosen)
                ));
                strategy = chosen;
            }
            Err(nothing) => {
                let would = if nothing.would_fit.is_empty() {
                    "more GPUs, a shorter sequence or a larger-memory system".to_string()
                } else {
                    format!("this layout with {}", nothing.would_fit.join(", or "))
                };
                let message = format!(
                    "no recompute choice fits: even full recompute needs {:.1} GiB of {:.1} GiB per GPU; what would fit: {would}",
                    nothing.needs_bytes / GIB,
                    nothing.capacity_bytes / GIB
                );
                if p.recompute.is_some() {
                    return Err(fail(
                        p.recompute.as_ref().map(Spanned::span),
                        "parallelism.recompute",
                        format!("`recompute = \"auto\"`: {message}"),
                        "change the layout as suggested, or set a recompute choice to see the memory it needs",
                    ));
                }
                // Unsaid recompute on a layout nothing fits: report it infeasible at full
                // recompute (the least memory), as specs always could.
                strategy.recompute = Recompute::Full;
                recompute_auto = Some(format!("auto: {message}"));
            }
        }
    }
    let mut result = train_result(catalog, &inputs, strategy, content_hash(text));
    result.recompute_auto = recompute_auto;
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

/// How the spec parser reports a field: span, field, message, fix.
type Fail<'a> = dyn Fn(Option<std::ops::Range<usize>>, &str, String, &str) -> EngineError + 'a;

/// The per-component recipes a spec names (`None` when it names none: the default recipe of
/// `precision` everywhere).
fn component_precision(
    t: &TrainingSpec,
    precision: Precision,
    headline: Option<perf::Recipe>,
    fail: &Fail<'_>,
) -> Result<Option<perf::ComponentRecipes>, EngineError> {
    let named = [
        ("training.attention_precision", &t.attention_precision),
        ("training.dense_precision", &t.dense_precision),
        ("training.expert_precision", &t.expert_precision),
    ];
    if headline.is_none() && named.iter().all(|(_, v)| v.is_none()) {
        return Ok(None);
    }
    let base = headline.unwrap_or(perf::Recipe::default_for(precision));
    let mut out = [base; 3];
    for (slot, (field, value)) in out.iter_mut().zip(named) {
        if let Some(v) = value {
            *slot = perf::Recipe::parse(v.get_ref()).ok_or_else(|| {
                let known: Vec<&str> = perf::Recipe::NAMED.iter().map(|(n, _)| *n).collect();
                let hint = match catalog::nearest(v.get_ref(), known.iter().copied()) {
                    Some(near) => format!("did you mean `{near}`? Recipes: {}", known.join(", ")),
                    None => format!("recipes: {}", known.join(", ")),
                };
                fail(
                    Some(v.span()),
                    field,
                    format!("unknown recipe `{}`", v.get_ref()),
                    &hint,
                )
            })?;
        }
    }
    Ok(Some(perf::ComponentRecipes {
        attention: out[0],
        dense: out[1],
        experts: out[2],
    }))
}

/// MoE routing from the spec: the imbalance (>= 1) and the node limit (checked against the
/// layout in [`check_precision_and_routing`]).
fn moe_routing(t: &TrainingSpec, fail: &Fail<'_>) -> Result<perf::MoeRouting, EngineError> {
    let mut routing = perf::MoeRouting::default();
    if let Some(v) = &t.moe_imbalance {
        let x = *v.get_ref();
        if !(x.is_finite() && (1.0..=64.0).contains(&x)) {
            return Err(fail(
                Some(v.span()),
                "training.moe_imbalance",
                format!("`moe_imbalance` is {x}"),
                "it is the busiest expert-parallel rank's tokens over the mean: from 1 (balanced) to 64",
            ));
        }
        routing.imbalance = x;
    }
    if let Some(v) = &t.moe_capacity_factor {
        let x = *v.get_ref();
        if !(x.is_finite() && (1.0..=64.0).contains(&x)) {
            return Err(fail(
                Some(v.span()),
                "training.moe_capacity_factor",
                format!("`moe_capacity_factor` is {x}"),
                "it is each expert's capacity over the mean tokens: from 1 to 64 (below 1 every \
                 expert drops tokens); remove it for dropless routing",
            ));
        }
        routing.capacity_factor = Some(x);
    }
    if let Some(v) = &t.moe_pad_to_capacity {
        if *v.get_ref() {
            if t.moe_capacity_factor.is_none() {
                return Err(fail(
                    Some(v.span()),
                    "training.moe_pad_to_capacity",
                    "`moe_pad_to_capacity` without `moe_capacity_factor`".into(),
                    "padding fills each expert's input up to its capacity: give \
                     `moe_capacity_factor` too (1.0 pads to the mean)",
                ));
            }
            if t.moe_imbalance.is_some() {
                return Err(fail(
                    Some(v.span()),
                    "training.moe_pad_to_capacity",
                    "`moe_pad_to_capacity` and `moe_imbalance` are both given".into(),
                    "give one: padded to its capacity every expert processes exactly the \
                     capacity, whatever the routing's imbalance",
                ));
            }
            routing.pad_to_capacity = true;
        }
    }
    if let Some(v) = &t.moe_node_limit {
        let n = *v.get_ref();
        if !(0..=100_000).contains(&n) {
            return Err(fail(
                Some(v.span()),
                "training.moe_node_limit",
                format!("`moe_node_limit` is {n}"),
                "it is the number of nodes a token may reach (DeepSeek-V3: 4), 0 for no limit",
            ));
        }
        routing.node_limit = n as u32;
    }
    if let Some(v) = &t.moe_dispatcher {
        routing.dispatcher = perf::Dispatcher::parse(v.get_ref()).ok_or_else(|| {
            fail(
                Some(v.span()),
                "training.moe_dispatcher",
                format!("`moe_dispatcher` is `{}`", v.get_ref()),
                &format!("use one of {}", perf::Dispatcher::NAMES),
            )
        })?;
        // DeepEP's SMs at Megatron-Core's default; HybridEP's depend on the job, so its hidden
        // all-to-all keeps the fitted share.
        routing.dispatcher_sms = perf::Dispatcher::default_sms(v.get_ref());
    }
    if let Some(v) = &t.cuda_graphs {
        routing.cuda_graphs = perf::CudaGraphs::parse(v.get_ref()).map_err(|_| {
            fail(
                Some(v.span()),
                "training.cuda_graphs",
                format!("`cuda_graphs` is `{}`", v.get_ref()),
                &format!(
                    "use none, or {} (per-layer modules joined by `+`)",
                    perf::CudaGraphs::SCOPES
                ),
            )
        })?;
    }
    Ok(routing)
}

/// A recipe the chip or the framework lacks, and a node limit wider than the expert-parallel
/// group, are input errors naming the field.
fn check_precision_and_routing(
    t: &TrainingSpec,
    inputs: &TrainInputs,
    fw: &perf::Framework,
    strategy: &Strategy,
    fail: &Fail<'_>,
) -> Result<(), EngineError> {
    let w = &inputs.workload;
    if let Some(components) = w.components {
        let fields = [
            ("training.attention_precision", &t.attention_precision),
            ("training.dense_precision", &t.dense_precision),
            ("training.expert_precision", &t.expert_precision),
        ];
        for ((component, recipe), (field, value)) in components.all().into_iter().zip(fields) {
            let (field, span) = match value {
                Some(v) => (field, Some(v.span())),
                None => ("training.precision", Some(t.precision.span())),
            };
            if !recipe.supported_on(&inputs.hardware) {
                return Err(fail(
                    span,
                    field,
                    format!(
                        "`{}` has no {} matmuls (the {component} recipe)",
                        inputs.system,
                        recipe.name()
                    ),
                    "choose a recipe the chip runs (`gigawatt catalog show SYSTEM` lists its precisions), e.g. bf16 or fp8-current",
                ));
            }
            let framework_has = match recipe.precision() {
                Precision::Bf16 => true,
                Precision::Fp8 => fw.fp8,
                Precision::Fp4 => fw.fp4,
            };
            if !framework_has {
                return Err(fail(
                    span,
                    field,
                    format!(
                        "framework `{}` has no {} training recipe (the {component} recipe)",
                        inputs.framework_id,
                        recipe.name()
                    ),
                    "choose another recipe or a framework that has it (catalog/frameworks.toml, `precisions`)",
                ));
            }
        }
    }
    if inputs.arch.is_moe() {
        let ep_gpus = f64::from(strategy.ep.max(1)) * f64::from(strategy.tp.max(1));
        let ep_nodes = (ep_gpus / inputs.hardware.scale_up_domain.max(1.0)).ceil() as u32;
        if let Err(m) = w.moe.check(ep_nodes) {
            let (field, span) = if m.contains("moe_node_limit") {
                (
                    "training.moe_node_limit",
                    t.moe_node_limit.as_ref().map(Spanned::span),
                )
            } else if m.contains("moe_pad_to_capacity") {
                (
                    "training.moe_pad_to_capacity",
                    t.moe_pad_to_capacity.as_ref().map(Spanned::span),
                )
            } else if m.contains("moe_capacity_factor") {
                (
                    "training.moe_capacity_factor",
                    t.moe_capacity_factor.as_ref().map(Spanned::span),
                )
            } else {
                (
                    "training.moe_imbalance",
                    t.moe_imbalance.as_ref().map(Spanned::span),
                )
            };
            return Err(fail(span, field, m, "see the message"));
        }
    } else {
        if let Some(v) = &t.moe_node_limit {
            if *v.get_ref() > 0 {
                return Err(fail(
                    Some(v.span()),
                    "training.moe_node_limit",
                    "`moe_node_limit` applies to MoE models only".into(),
                    "remove it, or train an MoE model",
                ));
            }
        }
        if let Some(v) = &t.moe_capacity_factor {
            return Err(fail(
                Some(v.span()),
                "training.moe_capacity_factor",
                "`moe_capacity_factor` applies to MoE models only".into(),
                "remove it, or train an MoE model",
            ));
        }
    }
    Ok(())
}
