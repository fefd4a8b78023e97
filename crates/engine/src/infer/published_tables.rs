//! Whole published serving tables (the `serving-blackwell.csv` columns): each row's GPU type
//! and model mapped to a catalog system and architecture, and the row made a validation case
//! at the checkpoint's precision per component.

use super::validate::{hardware_family, Prepared};
use super::*;

/// The catalog system a published table's GPU type names.
fn system_for_table_gpu(gpu: &str) -> Option<&'static str> {
    match gpu.to_uppercase().as_str() {
        "B200" => Some("dgx-b200"),
        "GB200" => Some("gb200-nvl72"),
        "B300" => Some("dgx-b300"),
        "GB300" => Some("gb300-nvl72"),
        "H100" => Some("dgx-h100"),
        "H200" => Some("dgx-h200"),
        "A100" => Some("dgx-a100-80gb"),
        "MI300X" => Some("mi300x-8"),
        "MI355X" => Some("mi355x-8"),
        _ => None,
    }
}

/// The architecture a published table's model names: a catalog model, or a `[model]` table in
/// `models_toml` (models not in the catalog, such as gpt-oss-120b).
fn arch_for_table_model(
    catalog: &Catalog,
    models_toml: &toml::Table,
    model: &str,
) -> Option<(String, Arch)> {
    let m = model.to_lowercase();
    // A model written out in `models_toml` wins: its key names it (`llama-2-70b` is not
    // Llama 3 70B: its vocabulary is 32,000).
    if let Some((_, table)) = models_toml.iter().find(|(key, _)| m.contains(key.as_str())) {
        return crate::model_table::model_from_toml(table.clone()).ok();
    }
    let id = if m.contains("deepseek-r1") || m.contains("deepseek-v3") {
        // R1 is V3's architecture (DeepSeek's config).
        "deepseek-v3"
    } else if m.contains("qwen3-235b") {
        "qwen3-235b-a22b"
    } else if m.contains("405b") {
        "llama3-405b"
    } else if m.contains("llama") && m.contains("70b") {
        // Llama 3.1 and 3.3 70B share Llama 3 70B's architecture.
        "llama3-70b"
    } else if m.contains("llama") && m.contains("8b") {
        // Llama 3.1 8B shares Llama 3 8B's architecture.
        "llama3-8b"
    } else {
        return None;
    };
    catalog
        .models
        .get(id)
        .map(|c| (id.to_string(), arch_from_catalog(c)))
}

/// The rows of one whole published table (serving-blackwell.csv columns).
pub(super) fn table_cases(
    catalog: &Catalog,
    models: &toml::Table,
    text: &str,
    prepared: &mut Vec<Prepared>,
    skipped: &mut Vec<InferenceSkipped>,
) -> Result<(), String> {
    let records = perf::validate::parse_csv(text);
    let header = records.first().ok_or("a serving table is empty")?;
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .ok_or(format!("serving table: no column `{name}`"))
    };
    let c = |name: &str| col(name);
    let (id, source, engine_c, model_c, gpu_c, n_c) = (
        c("id")?,
        c("source")?,
        c("engine")?,
        c("model")?,
        c("gpu_type")?,
        c("num_gpus")?,
    );
    let (tp_c, ep_c, dp_c, prec_c, kv_c) = (
        c("tp")?,
        c("ep")?,
        c("dp_attention")?,
        c("precision_weights")?,
        c("kv_cache_dtype")?,
    );
    let (in_c, out_c, conc_c, metric_c, value_c) = (
        c("input_tokens")?,
        c("output_tokens")?,
        c("concurrency_or_qps")?,
        c("metric")?,
        c("measured_value")?,
    );
    for r in records.iter().skip(1).filter(|r| r.len() > value_c) {
        let number = |i: usize| r[i].trim().parse::<f64>().ok();
        let row_id = r[id].clone();
        let skip = |reason: String| InferenceSkipped {
            id: row_id.clone(),
            reason,
        };
        let Some(system) = system_for_table_gpu(&r[gpu_c]) else {
            skipped.push(skip(format!("no catalog system for GPU `{}`", r[gpu_c])));
            continue;
        };
        let Some((model_id, arch)) = arch_for_table_model(catalog, models, &r[model_c]) else {
            skipped.push(skip(format!(
                "model `{}` has no architecture here",
                r[model_c]
            )));
            continue;
        };
        let inputs = serve_inputs_for_arch(catalog, model_id.clone(), arch, system)?;
        let precision = parse_precision(r[prec_c].trim())
            .ok_or(format!("{row_id}: unknown precision `{}`", r[prec_c]))?;
        // The KV cache where the source states it; unstated on NVIDIA's FP4/FP8 ModelOpt
        // checkpoints, which carry an FP8 KV-cache setting (see serving-cases.toml), and
        // bf16 otherwise.
        let kv_stated = r[kv_c].trim();
        let (kv_bytes, kv_note) = match kv_stated {
            "fp8" => (1.0, "fp8 KV (stated)"),
            "bf16" | "fp16" => (2.0, "16-bit KV (stated)"),
            _ if r[engine_c].contains("TensorRT") => {
                (1.0, "fp8 KV (unstated; ModelOpt checkpoints set it)")
            }
            _ => (2.0, "bf16 KV (unstated)"),
        };
        let gpus = number(n_c).unwrap_or(1.0);
        let tp = number(tp_c).unwrap_or(1.0) as u32;
        let ep = number(ep_c).unwrap_or(1.0) as u32;
        // Attention data parallel (TensorRT-LLM's DEP: --tp N --ep N --enable_attention_dp):
        // each of the N ranks runs attention on its own sequences and holds 1/N of the
        // experts, which is the model's `ep` with tp = 1.
        let dp_attention = r[dp_c].trim() == "true";
        let (tp, ep) = if dp_attention {
            (1, ep.max(tp))
        } else {
            (tp, ep)
        };
        // A fixed batch ("batch 8") or the engine's batch limit ("max_num_seqs 3200").
        let conc = r[conc_c].trim();
        let max_batch = conc
            .strip_prefix("batch ")
            .or_else(|| conc.strip_prefix("max_num_seqs "))
            .and_then(|b| b.trim().parse::<u32>().ok());
        let metric = r[metric_c].clone();
        let scale = if metric.ends_with("per_gpu") {
            1.0
        } else {
            gpus
        };
        let (Some(input_tokens), Some(output_tokens), Some(measured)) =
            (number(in_c), number(out_c), number(value_c))
        else {
            skipped.push(skip("request lengths or value missing".into()));
            continue;
        };
        if u64::from(tp * ep) != gpus as u64 && !metric.ends_with("per_gpu") {
            skipped.push(skip(format!(
                "tp x ep = {} is not the {gpus} GPUs measured",
                tp * ep
            )));
            continue;
        }
        prepared.push(Prepared {
            id: row_id.clone(),
            metric: metric.clone(),
            measured,
            arch: inputs.arch,
            hardware: inputs.hardware,
            layout: ServingLayout {
                tp,
                pp: 1,
                ep,
                precision,
                kv_bytes,
                overlap_ep: false,
            },
            workload: ServingWorkload {
                input_tokens,
                output_tokens,
                ttft_slo_s: None,
                tpot_slo_s: None,
                mode: ServingMode::Offline,
                disaggregated: false,
                max_batch: max_batch.map(|b| b.div_ceil(ep.max(1))),
                speculation: None,
                slo_percentile: perf::DEFAULT_SLO_PERCENTILE,
            },
            gpus: scale,
            decode_pool: false,
            note: format!(
                "{}; {model_id} on {system}, tp {tp} ep {ep}{}, {} weights, {kv_note}, {input_tokens}/{output_tokens} tokens, offline{}",
                r[source],
                if dp_attention { " (attention data parallel)" } else { "" },
                r[prec_c].trim(),
                max_batch.map_or(String::new(), |b| format!(", batch {b}")),
            ),
            family: hardware_family(system).into(),
            engine: r[engine_c].clone(),
            components: checkpoint_components(&model_id, precision),
            traffic: None,
        });
    }
    Ok(())
}

/// Each component's precision in a published checkpoint: gpt-oss ships only its MoE weights
/// in MXFP4 and the rest in BF16 (OpenAI's gpt-oss model card: "MXFP4 quantization of the MoE
/// weights"); other checkpoints here are taken as uniform at the row's precision.
fn checkpoint_components(model_id: &str, precision: Precision) -> perf::ComponentPrecision {
    if model_id.contains("gpt-oss") && precision == Precision::Fp4 {
        perf::ComponentPrecision {
            attention: Precision::Bf16,
            dense: Precision::Bf16,
            experts: Precision::Fp4,
        }
    } else {
        perf::ComponentPrecision::uniform(precision)
    }
}
