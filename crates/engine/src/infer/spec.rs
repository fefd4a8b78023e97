//! The spec file of `gigawatt infer`: its tables, parsed and checked field by field with
//! errors that name the field and the fix, then evaluated into an [`InferResult`].

use super::*;

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
    #[serde(default = "crate::train::default_precision")]
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

fn server() -> Spanned<String> {
    Spanned::new(0..0, "server".into())
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
    let input = catalog::Problems::new(origin, text);
    let fail = |span: Option<std::ops::Range<usize>>, field: &str, message: String, hint: &str| {
        EngineError::Invalid(input.single(span, field, message, hint))
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
