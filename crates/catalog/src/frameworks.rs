//! Training frameworks by version (`catalog/frameworks.toml`): what each can run and how it
//! runs it, every fact cited to the framework's documentation or code. Facts are booleans and
//! choices, never fitted numbers; the engine turns them into the performance model's plain
//! `perf::Framework`.

use std::ops::Range;

use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::diagnostic::{nearest, Diagnostic};
use crate::Sourced;

/// Module names selective recompute may list (Megatron-Core's `--recompute-modules`).
pub const RECOMPUTE_MODULES: [&str; 7] = [
    "core_attn",
    "layernorm",
    "mlp",
    "moe_act",
    "moe",
    "shared_experts",
    "mla_up_proj",
];

/// Matmul precisions a framework may have a training recipe for.
pub const PRECISIONS: [&str; 3] = ["bf16", "fp8", "fp4"];

/// One version of a training framework.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Framework {
    /// Unique id with the version (`megatron-core-2024`).
    pub id: Spanned<String>,
    /// Name and version in words.
    pub name: String,
    /// When this version was current: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.
    pub released: Spanned<String>,
    /// Anything a reader should know.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Fused (flash) attention kernels.
    pub flash_attention: Sourced<bool>,
    /// Fused element-wise kernels (norms, bias-dropout-add, activations).
    pub fused_elementwise: Sourced<bool>,
    /// Data-parallel gradient reduction overlapped with the backward pass.
    pub overlap_grad_reduce: Sourced<bool>,
    /// The sharded optimizer's or FSDP's parameter all-gather overlapped with compute.
    pub overlap_param_gather: Sourced<bool>,
    /// Tensor-parallel communication overlapped with GEMMs in its performance configuration.
    pub tp_comm_overlap: Sourced<bool>,
    /// Expert-parallel all-to-all overlapped with compute.
    pub ep_comm_overlap: Sourced<bool>,
    /// Tensor parallelism.
    pub tensor_parallel: Sourced<bool>,
    /// Megatron-style sequence parallelism.
    pub sequence_parallel: Sourced<bool>,
    /// Pipeline parallelism.
    pub pipeline_parallel: Sourced<bool>,
    /// Interleaved (virtual) pipeline stages.
    pub virtual_pipeline: Sourced<bool>,
    /// Pipeline stages with different layer counts.
    pub uneven_stages: Sourced<bool>,
    /// Context parallelism.
    pub context_parallel: Sourced<bool>,
    /// Expert parallelism.
    pub expert_parallel: Sourced<bool>,
    /// ZeRO stages it runs (3 = FSDP / fully sharded).
    pub zero_stages: Sourced<Vec<u8>>,
    /// Of those, the stages it runs together with pipeline parallelism.
    pub zero_stages_with_pp: Sourced<Vec<u8>>,
    /// Matmul precisions with a training recipe (`bf16`, `fp8`, `fp4`).
    pub precisions: Sourced<Vec<String>>,
    /// With FP8/FP4, the GEMM inputs saved for the backward pass are kept in 8 bits.
    pub low_precision_activations: Sourced<bool>,
    /// Gradient buffer precision by default: `fp32` or 16-bit (`bf16`, `fp16`).
    pub gradient_precision: Sourced<String>,
    /// Modules selective recompute may name (empty: full-layer recompute only).
    pub recompute_modules: Sourced<Vec<String>>,
    /// Full recompute of a chosen number of layers per pipeline chunk.
    pub recompute_layers: Sourced<bool>,
    /// ZeRO stage its recipes use by default (1 = Megatron's distributed optimizer).
    pub default_zero: Sourced<u8>,
    /// How data-parallel and sharded-parameter traffic is cut into collectives: `bucket`
    /// (the default when absent: Megatron-Core's buckets), `layer` (FSDP units) or
    /// `parameter` (one collective per parameter tensor).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dp_collectives: Option<Sourced<String>>,
    /// The FP8 scaling a plain `fp8` means: `fp8-delayed` (the default when absent:
    /// Transformer Engine's default recipe), `fp8-current`, `fp8-blockwise` or `mxfp8`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_fp8_recipe: Option<Sourced<String>>,
    /// The cuDNN version (`major.minor[.patch]`) the framework's container ships: the vintage
    /// of its fused-attention kernels. Absent or not applicable: attention that is not
    /// cuDNN's (FlashAttention, unfused), and the model takes the newest kernels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cudnn: Option<Sourced<String>>,
    /// Whether the optimizer keeps only the 16 low bits of each fp32 master weight beside the
    /// 16-bit weight and steps from the reduced gradients without an fp32 copy (Apex
    /// `DistributedFusedAdam` with `store_param_remainders`); absent: false (Megatron-Core's
    /// distributed optimizer keeps fp32 master weights).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub master_weight_remainders: Option<Sourced<bool>>,
    /// Whether each reduced 16-bit gradient shard is cast back to the fp32 parameter's dtype
    /// in place, so the shard is kept in fp32 with no 16-bit buffer beside it (PyTorch FSDP's
    /// mixed precision unless `keep_low_precision_grads`); absent: false (Megatron keeps a
    /// 16-bit gradient buffer and its optimizer an fp32 copy of the shard). Read only where
    /// `gradient_precision` is 16-bit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gradient_shards_upcast: Option<Sourced<bool>>,
    /// Whether, without sequence parallelism, a column-parallel layer's backward all-reduces
    /// its input gradient asynchronously, beside its weight-gradient GEMM (Megatron-LM's
    /// `ColumnParallelLinearWithAsyncAllreduce` since 2021-09, Transformer Engine's `Linear`);
    /// absent: false (the all-reduce runs in line).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub async_tp_all_reduce: Option<Sourced<bool>>,
}

/// Whether `text` is a version `cudnn` takes: `major.minor` or `major.minor.patch`.
pub fn is_cudnn_version(text: &str) -> bool {
    let parts: Vec<&str> = text.split('.').collect();
    (2..=3).contains(&parts.len())
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

/// Words `dp_collectives` takes.
pub const DP_COLLECTIVES: [&str; 3] = ["bucket", "layer", "parameter"];

/// Recipes `default_fp8_recipe` may name.
pub const FP8_RECIPES: [&str; 4] = ["fp8-delayed", "fp8-current", "fp8-blockwise", "mxfp8"];

impl Framework {
    /// Whether `precision` (`bf16`, `fp8`, `fp4`) has a recipe.
    pub fn has_precision(&self, precision: &str) -> bool {
        self.precisions
            .value()
            .is_some_and(|p| p.iter().any(|x| x == precision))
    }
}

/// A fact's value, `false` / empty when it does not apply (validation refuses unknown facts).
pub fn fact<T: Clone + Default>(value: &Sourced<T>) -> T {
    value.value().cloned().unwrap_or_default()
}

/// The message and hint for an optional fact whose `source` no `[[source]]` entry defines.
fn undefined_source(source: &str, source_ids: &[&str]) -> Option<(String, String)> {
    (!source_ids.contains(&source)).then(|| {
        (
            format!("source `{source}` is not defined"),
            format!("add a [[source]] entry with id = \"{source}\""),
        )
    })
}

/// Problems with one framework entry, each naming its field.
pub(crate) fn validate(
    fw: &Framework,
    file: &str,
    text: &str,
    source_ids: &[&str],
) -> Vec<Diagnostic> {
    let id = fw.id.get_ref();
    let mut problems = Vec::new();
    let mut report = |field: &str, span: Option<Range<usize>>, message: String, hint: String| {
        problems.push(
            Diagnostic::new(file, message)
                .at(text, span)
                .field(format!("framework[{id}].{field}"))
                .hint(hint),
        );
    };
    if !crate::checker::is_date(fw.released.get_ref()) {
        report(
            "released",
            Some(fw.released.span()),
            format!("`{}` is not a date", fw.released.get_ref()),
            "write dates as YYYY, YYYY-MM or YYYY-MM-DD".into(),
        );
    }
    // Every fact is cited (or does not apply); an unknown fact cannot decide legality.
    macro_rules! cited {
        ($($field:ident),*) => {$(
            match &fw.$field {
                Sourced::Known { source, source_span, .. } => {
                    if !source_ids.contains(&source.as_str()) {
                        let hint = match nearest(source, source_ids.iter().copied()) {
                            Some(near) => format!("did you mean `{near}`? Otherwise add a [[source]] entry with id = \"{source}\""),
                            None => format!("add a [[source]] entry with id = \"{source}\""),
                        };
                        report(stringify!($field), Some(source_span.clone()), format!("source `{source}` is not defined"), hint);
                    }
                }
                Sourced::Unknown(_) => report(
                    stringify!($field),
                    Some(fw.id.span()),
                    "a framework fact cannot be unknown: legality depends on it".into(),
                    "cite the documentation or code that says it, or write `{ not_applicable = \"why\" }` when the feature does not exist".into(),
                ),
                Sourced::NotApplicable(_) => {}
            }
        )*};
    }
    cited!(
        flash_attention,
        fused_elementwise,
        overlap_grad_reduce,
        overlap_param_gather,
        tp_comm_overlap,
        ep_comm_overlap,
        tensor_parallel,
        sequence_parallel,
        pipeline_parallel,
        virtual_pipeline,
        uneven_stages,
        context_parallel,
        expert_parallel,
        zero_stages,
        zero_stages_with_pp,
        precisions,
        low_precision_activations,
        gradient_precision,
        recompute_modules,
        recompute_layers,
        default_zero
    );
    // The optional flags: cited when given.
    for (field, flag) in [
        ("master_weight_remainders", &fw.master_weight_remainders),
        ("gradient_shards_upcast", &fw.gradient_shards_upcast),
        ("async_tp_all_reduce", &fw.async_tp_all_reduce),
    ] {
        if let Some(Sourced::Known {
            source,
            source_span,
            ..
        }) = flag
        {
            if let Some((message, hint)) = undefined_source(source, source_ids) {
                report(field, Some(source_span.clone()), message, hint);
            }
        }
    }
    // The optional choices: cited when given, and one of the words the model knows.
    for (field, value, words) in [
        ("dp_collectives", &fw.dp_collectives, &DP_COLLECTIVES[..]),
        (
            "default_fp8_recipe",
            &fw.default_fp8_recipe,
            &FP8_RECIPES[..],
        ),
        // No word list: a version number.
        ("cudnn", &fw.cudnn, &[][..]),
    ] {
        let Some(value) = value else { continue };
        match value {
            Sourced::Known {
                value,
                source,
                source_span,
                ..
            } => {
                if let Some((message, hint)) = undefined_source(source, source_ids) {
                    report(field, Some(source_span.clone()), message, hint);
                }
                if words.is_empty() {
                    if !is_cudnn_version(value) {
                        report(
                            field,
                            Some(source_span.clone()),
                            format!("`{value}` is not a version"),
                            "write the container's cuDNN as major.minor[.patch], e.g. \"9.13.0\""
                                .into(),
                        );
                    }
                } else if !words.contains(&value.as_str()) {
                    let hint = match nearest(value, words.iter().copied()) {
                        Some(near) => format!("did you mean `{near}`?"),
                        None => format!("use one of {}", words.join(", ")),
                    };
                    report(
                        field,
                        Some(source_span.clone()),
                        format!("unknown value `{value}`"),
                        hint,
                    );
                }
            }
            Sourced::Unknown(_) => report(
                field,
                Some(fw.id.span()),
                "a framework fact cannot be unknown".into(),
                "cite the documentation or code that says it, or leave the field out".into(),
            ),
            Sourced::NotApplicable(_) => {}
        }
    }
    let span = Some(fw.id.span());
    let stages = fact(&fw.zero_stages);
    if stages.iter().any(|s| *s > 3) {
        report(
            "zero_stages",
            span.clone(),
            format!("{stages:?} names a ZeRO stage above 3"),
            "ZeRO stages are 0 to 3 (3 = FSDP)".into(),
        );
    }
    let with_pp = fact(&fw.zero_stages_with_pp);
    if let Some(extra) = with_pp.iter().find(|s| !stages.contains(s)) {
        report(
            "zero_stages_with_pp",
            span.clone(),
            format!("ZeRO-{extra} with pipeline parallelism but not in `zero_stages`"),
            "list only stages the framework runs at all".into(),
        );
    }
    let default_zero = fact(&fw.default_zero);
    if !stages.contains(&default_zero) {
        report(
            "default_zero",
            span.clone(),
            format!("the default ZeRO-{default_zero} is not in `zero_stages` {stages:?}"),
            "the default must be a stage the framework runs".into(),
        );
    }
    for p in fact(&fw.precisions) {
        if !PRECISIONS.contains(&p.as_str()) {
            report(
                "precisions",
                span.clone(),
                format!("unknown precision `{p}`"),
                "use bf16, fp8 or fp4".into(),
            );
        }
    }
    if !fw.has_precision("bf16") {
        report(
            "precisions",
            span.clone(),
            "every framework trains in bf16 (or fp16): `bf16` is missing".into(),
            "add \"bf16\"".into(),
        );
    }
    let gradients = fact(&fw.gradient_precision);
    if !["fp32", "bf16", "fp16"].contains(&gradients.as_str()) {
        report(
            "gradient_precision",
            span.clone(),
            format!("unknown gradient precision `{gradients}`"),
            "use fp32, bf16 or fp16".into(),
        );
    }
    for m in fact(&fw.recompute_modules) {
        if !RECOMPUTE_MODULES.contains(&m.as_str()) {
            let hint = match nearest(&m, RECOMPUTE_MODULES) {
                Some(near) => format!("did you mean `{near}`?"),
                None => format!("modules are {}", RECOMPUTE_MODULES.join(", ")),
            };
            report(
                "recompute_modules",
                span.clone(),
                format!("unknown recompute module `{m}`"),
                hint,
            );
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn facts_that_do_not_apply_read_as_false() {
        let v: Sourced<bool> = Sourced::NotApplicable("no experts".into());
        assert!(!fact(&v));
        assert!(fact(&Sourced::known(true, "s")));
    }
}
