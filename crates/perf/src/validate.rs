//! Validation against published training runs (`shared/calibration/training.csv`).
//!
//! Sources count FLOPs differently, so each published figure is first turned into what was
//! measured, a step time, using that source's own convention, and only then compared with the
//! model's predicted step time:
//! - Narayanan et al. 2021 TFLOP/s use their Eq. 3, which includes the recompute forward pass:
//!   `96 B s l h^2 (1 + s/6h + V/16lh)` per step;
//! - MosaicML llm-foundry TFLOP/s use `3 (2 N s + 4 l h s^2)` per sequence, N counting every
//!   parameter (embeddings and the learned position embedding included);
//! - NeMo tokens/s per GPU give the step time directly from batch x sequence;
//! - Korthikanti et al. 2022 publish step times.
//!
//! Rows that lack a field the model needs (microbatch, vocabulary, FFN width, layout) are
//! skipped with the reason, never filled in by guesswork.
//!
//! Each source's software is described by facts about it, not fitted knobs: Megatron-LM as of
//! 2021-2022 ran unfused attention and did not overlap the gradient all-reduce; MosaicML ran
//! FSDP with flash attention; NeMo 24.07 runs fused attention, the distributed optimizer and
//! overlapped gradient reduction.

use serde::Serialize;

use crate::arch::Arch;
use crate::step::{
    evaluate_with, Hardware, ModelConstants, Precision, Recompute, Strategy, Workload,
};

/// One published run, ready to evaluate.
#[derive(Debug, Clone)]
pub struct Case {
    /// Row id.
    pub id: String,
    /// Which publication (short).
    pub source: SourceFamily,
    /// GPU type as written in the file.
    pub gpu_type: String,
    /// The model.
    pub arch: Arch,
    /// The layout.
    pub strategy: Strategy,
    /// Batch, sequence, precision.
    pub workload: Workload,
    /// The measured step time derived from the published figure, s.
    pub measured_step_time_s: f64,
}

/// The publications in the calibration set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SourceFamily {
    /// Narayanan et al. 2021 (Megatron-LM at scale).
    Narayanan2021,
    /// Korthikanti et al. 2022 (sequence parallelism, selective recompute).
    Korthikanti2022,
    /// MosaicML llm-foundry MPT benchmarks.
    Mosaic,
    /// NeMo 24.07 performance summary.
    Nemo2024,
    /// Megatron-LM README (2024).
    MegatronReadme,
}

impl SourceFamily {
    /// Short name.
    pub fn name(self) -> &'static str {
        match self {
            SourceFamily::Narayanan2021 => "Narayanan et al. 2021",
            SourceFamily::Korthikanti2022 => "Korthikanti et al. 2022",
            SourceFamily::Mosaic => "MosaicML llm-foundry",
            SourceFamily::Nemo2024 => "NeMo 24.07",
            SourceFamily::MegatronReadme => "Megatron-LM README",
        }
    }

    fn of(source: &str) -> Option<SourceFamily> {
        if source.starts_with("Narayanan") {
            Some(SourceFamily::Narayanan2021)
        } else if source.starts_with("Korthikanti") {
            Some(SourceFamily::Korthikanti2022)
        } else if source.starts_with("MosaicML") {
            Some(SourceFamily::Mosaic)
        } else if source.starts_with("NeMo") {
            Some(SourceFamily::Nemo2024)
        } else if source.starts_with("Megatron-LM") {
            Some(SourceFamily::MegatronReadme)
        } else {
            None
        }
    }
}

/// A row that could not be used, and why.
#[derive(Debug, Clone, Serialize)]
pub struct Skipped {
    /// Row id.
    pub id: String,
    /// Why.
    pub reason: String,
}

/// Splits CSV text (RFC 4180 quoting) into records.
pub fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(ch) = chars.next() {
        match (quoted, ch) {
            (true, '"') if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => record.push(std::mem::take(&mut field)),
            (false, '\n') => {
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
            }
            (false, '\r') => {}
            (false, c) => field.push(c),
        }
    }
    if !field.is_empty() || !record.is_empty() {
        record.push(field);
        records.push(record);
    }
    records
}

/// Reads the calibration file into cases, and the rows it had to skip.
pub fn read_training_csv(text: &str) -> Result<(Vec<Case>, Vec<Skipped>), String> {
    let records = parse_csv(text);
    let header = records.first().ok_or("the file is empty")?;
    let column = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .ok_or(format!("no column `{name}`"))
    };
    let names = [
        "id",
        "source",
        "model_name",
        "layers",
        "hidden",
        "ffn_hidden",
        "heads",
        "kv_heads",
        "seq_len",
        "vocab",
        "num_experts",
        "gpu_type",
        "num_gpus",
        "tp",
        "pp",
        "dp",
        "cp",
        "virtual_pp",
        "microbatch",
        "global_batch",
        "recompute",
        "sequence_parallel",
        "precision",
        "zero_stage_fsdp",
        "measured_metric",
        "measured_value",
    ];
    let mut index = std::collections::HashMap::new();
    for name in names {
        index.insert(name, column(name)?);
    }
    let mut cases = Vec::new();
    let mut skipped = Vec::new();
    for record in records.iter().skip(1).filter(|r| r.len() > 1) {
        let row = Row {
            record,
            index: &index,
        };
        let id = row.get("id").to_string();
        match case_from(&row) {
            Ok(case) => cases.push(Case { id, ..case }),
            Err(reason) => skipped.push(Skipped { id, reason }),
        }
    }
    Ok((cases, skipped))
}

/// One CSV record with its columns by name.
struct Row<'a> {
    record: &'a [String],
    index: &'a std::collections::HashMap<&'static str, usize>,
}

impl Row<'_> {
    fn get(&self, name: &str) -> &str {
        self.index
            .get(name)
            .and_then(|&i| self.record.get(i))
            .map_or("", |s| s.trim())
    }
}

fn case_from(row: &Row<'_>) -> Result<Case, String> {
    let get = |name: &str| row.get(name);
    let source = SourceFamily::of(get("source")).ok_or("an unknown source")?;
    let number = |name: &str| -> Result<f64, String> {
        let text = get(name);
        if text.is_empty() {
            return Err(format!("`{name}` is not published"));
        }
        text.parse::<f64>()
            .map_err(|_| format!("`{name}` is `{text}`, not a number"))
    };
    let optional = |name: &str| -> Option<f64> { get(name).parse::<f64>().ok() };
    if !get("num_experts").is_empty() {
        return Err("MoE rows are not in the file yet".into());
    }
    let (layers, hidden, heads) = (number("layers")?, number("hidden")?, number("heads")?);
    let ffn = number("ffn_hidden")?;
    let vocab = number("vocab")?;
    let seq = number("seq_len")?;
    let gpus = number("num_gpus")?;
    let tp = number("tp")?;
    let pp = number("pp")?;
    let cp = optional("cp").unwrap_or(1.0);
    let dp = optional("dp").unwrap_or(gpus / (tp * pp * cp));
    let microbatch = number("microbatch")?;
    let global_batch = number("global_batch")?;
    let name = get("model_name").to_lowercase();
    let gated = name.contains("llama");
    let kv_heads = optional("kv_heads").unwrap_or(heads);
    let arch = Arch {
        layers,
        hidden,
        ffn_hidden: ffn,
        heads,
        kv_heads,
        head_dim: hidden / heads,
        vocab,
        gated_mlp: gated,
        tied_embeddings: !gated,
        ..Arch::gpt(1, 1, 1, 1)
    };
    let recompute = match get("recompute") {
        "full" => Recompute::Full,
        "selective" => Recompute::Selective,
        _ => Recompute::None,
    };
    let precision = if get("precision").to_lowercase().contains("fp8") {
        Precision::Fp8
    } else {
        Precision::Bf16
    };
    let zero_text = get("zero_stage_fsdp").to_lowercase();
    let fsdp = zero_text.contains("zero-3") || zero_text.contains("fsdp");
    // Facts about each source's software (see the module documentation).
    // Megatron-LM and NeMo fuse their layer norms and bias-dropout-adds; MosaicML's MPT runs
    // them as separate PyTorch kernels; DeepSpeed's ZeRO-3 rows (Narayanan Table 2) ran the
    // Megatron model code.
    let (flash_attention, overlap_grad_reduce, default_zero, fused_elementwise) = match source {
        SourceFamily::Narayanan2021 | SourceFamily::Korthikanti2022 => (false, false, 0, true),
        SourceFamily::Mosaic => (true, true, 3, false),
        SourceFamily::Nemo2024 | SourceFamily::MegatronReadme => (true, true, 1, true),
    };
    let sequence_parallel = match get("sequence_parallel") {
        "y" => true,
        "n" => false,
        _ => tp > 1.0 && source == SourceFamily::Nemo2024,
    };
    let strategy = Strategy {
        tp: tp as u32,
        pp: pp as u32,
        dp: dp as u32,
        cp: cp as u32,
        ep: 1,
        virtual_pp: optional("virtual_pp").unwrap_or(1.0) as u32,
        microbatch: microbatch as u32,
        sequence_parallel,
        recompute,
        zero: if fsdp { 3 } else { default_zero },
        flash_attention,
        overlap_grad_reduce,
        // Megatron-Core's distributed optimizer overlaps its parameter all-gather (NeMo and
        // the Megatron README runs); FSDP prefetches.
        overlap_param_gather: default_zero >= 1 || fsdp,
        fused_elementwise,
        // 16-bit gradient reduction: Megatron-LM 2021-2022 in fp16 (fp32 accumulation was
        // opt-in), MosaicML's `PURE` bf16 rows; fp32 otherwise (Megatron forces it with bf16).
        fp32_gradients: match source {
            SourceFamily::Narayanan2021 | SourceFamily::Korthikanti2022 => false,
            SourceFamily::Mosaic => !get("precision").to_lowercase().contains("pure"),
            SourceFamily::Nemo2024 | SourceFamily::MegatronReadme => true,
        },
        ..Strategy::single()
    };
    let workload = Workload {
        global_batch,
        seq_len: seq,
        precision,
    };
    let value = number("measured_value")?;
    let measured_step_time_s = match (get("measured_metric"), source) {
        ("step_time_s", _) => value,
        ("tokens_per_s_per_gpu", _) => global_batch * seq / (value * gpus),
        ("tflops_per_gpu", SourceFamily::Narayanan2021) => {
            let (b, s, l, h, v) = (global_batch, seq, layers, hidden, vocab);
            let flops = 96.0 * b * s * l * h * h * (1.0 + s / (6.0 * h) + v / (16.0 * l * h));
            flops / (value * 1e12 * gpus)
        }
        ("tflops_per_gpu", SourceFamily::Mosaic) => {
            // MPT's own count: every parameter (wte, learned wpe, 12 h^2 per layer).
            let params = 12.0 * layers * hidden * hidden + vocab * hidden + seq * hidden;
            let flops =
                global_batch * 3.0 * (2.0 * params * seq + 4.0 * layers * hidden * seq * seq);
            flops / (value * 1e12 * gpus)
        }
        (metric, _) => {
            return Err(format!(
                "`{metric}` in this source's convention is not converted"
            ))
        }
    };
    if (tp * pp * dp * cp - gpus).abs() > 0.5 {
        return Err(format!(
            "tp x pp x dp x cp = {} is not the {gpus} GPUs",
            tp * pp * dp * cp
        ));
    }
    Ok(Case {
        id: String::new(),
        source,
        gpu_type: get("gpu_type").to_string(),
        arch,
        strategy,
        workload,
        measured_step_time_s,
    })
}

/// Predicted against measured for one case.
#[derive(Debug, Clone, Serialize)]
pub struct CaseResult {
    /// Row id.
    pub id: String,
    /// Publication.
    pub source: SourceFamily,
    /// GPU type.
    pub gpu_type: String,
    /// Measured step time, s.
    pub measured_step_time_s: f64,
    /// Predicted step time, s.
    pub predicted_step_time_s: f64,
    /// predicted / measured - 1 (positive: the model is slower than reality).
    pub error: f64,
    /// Whether the model thinks the published layout fits in memory.
    pub predicted_fits: bool,
}

/// Mean absolute error overall and per source.
#[derive(Debug, Clone, Serialize)]
pub struct ValidationSummary {
    /// Cases compared.
    pub cases: usize,
    /// Mean |error| over all cases.
    pub mean_abs_error: f64,
    /// Mean signed error (bias).
    pub mean_error: f64,
    /// Per source: (source, cases, mean |error|).
    pub by_source: Vec<(SourceFamily, usize, f64)>,
}

/// Evaluates every case whose GPU type `hardware_for` knows.
pub fn run(
    cases: &[Case],
    hardware_for: &dyn Fn(&str) -> Option<Hardware>,
    constants: &ModelConstants,
) -> (Vec<CaseResult>, Vec<Skipped>) {
    let mut results = Vec::new();
    let mut skipped = Vec::new();
    for case in cases {
        let Some(hardware) = hardware_for(&case.gpu_type) else {
            skipped.push(Skipped {
                id: case.id.clone(),
                reason: format!("no catalog system for `{}`", case.gpu_type),
            });
            continue;
        };
        let evaluation = evaluate_with(
            &case.arch,
            &hardware,
            &case.strategy,
            &case.workload,
            constants,
        );
        results.push(CaseResult {
            id: case.id.clone(),
            source: case.source,
            gpu_type: case.gpu_type.clone(),
            measured_step_time_s: case.measured_step_time_s,
            predicted_step_time_s: evaluation.step_time_s,
            error: evaluation.step_time_s / case.measured_step_time_s - 1.0,
            predicted_fits: evaluation.feasible,
        });
    }
    (results, skipped)
}

/// Summarises results.
pub fn summarize(results: &[CaseResult]) -> ValidationSummary {
    let n = results.len().max(1) as f64;
    let mut by_source: Vec<(SourceFamily, usize, f64)> = Vec::new();
    for r in results {
        match by_source.iter_mut().find(|(s, _, _)| *s == r.source) {
            Some(entry) => {
                entry.1 += 1;
                entry.2 += r.error.abs();
            }
            None => by_source.push((r.source, 1, r.error.abs())),
        }
    }
    for entry in &mut by_source {
        entry.2 /= entry.1 as f64;
    }
    by_source.sort_by_key(|e| e.0);
    ValidationSummary {
        cases: results.len(),
        mean_abs_error: results.iter().map(|r| r.error.abs()).sum::<f64>() / n,
        mean_error: results.iter().map(|r| r.error).sum::<f64>() / n,
        by_source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_commas_and_doubled_quotes() {
        let rows = parse_csv("a,b\n\"x, y\",\"say \"\"hi\"\"\"\n");
        assert_eq!(rows, vec![vec!["a", "b"], vec!["x, y", "say \"hi\""]]);
    }
}
