//! Catalog training frameworks as the performance model's plain facts, and the layout search
//! restricted to what a framework runs.

use catalog::frameworks::fact;
use catalog::Catalog;
use perf::{RecomputeModules, SearchOptions, SearchResult, ZeroStages};

use super::TrainInputs;

/// The performance model's view of a catalog framework (facts that do not apply read false).
pub fn perf_framework(fw: &catalog::Framework) -> perf::Framework {
    let modules = fact(&fw.recompute_modules)
        .iter()
        .filter_map(|m| RecomputeModules::parse(m))
        .fold(RecomputeModules::NONE, RecomputeModules::union);
    perf::Framework {
        flash_attention: fact(&fw.flash_attention),
        fused_elementwise: fact(&fw.fused_elementwise),
        overlap_grad_reduce: fact(&fw.overlap_grad_reduce),
        overlap_param_gather: fact(&fw.overlap_param_gather),
        dp_collectives: fw
            .dp_collectives
            .as_ref()
            .and_then(|v| v.value())
            .and_then(|w| perf::train::collectives::Granularity::parse(w))
            .unwrap_or_default(),
        tp_comm_overlap: fact(&fw.tp_comm_overlap),
        ep_comm_overlap: fact(&fw.ep_comm_overlap),
        tensor_parallel: fact(&fw.tensor_parallel),
        sequence_parallel: fact(&fw.sequence_parallel),
        pipeline_parallel: fact(&fw.pipeline_parallel),
        virtual_pipeline: fact(&fw.virtual_pipeline),
        uneven_stages: fact(&fw.uneven_stages),
        context_parallel: fact(&fw.context_parallel),
        expert_parallel: fact(&fw.expert_parallel),
        zero_stages: ZeroStages::of(&fact(&fw.zero_stages)),
        zero_stages_with_pp: ZeroStages::of(&fact(&fw.zero_stages_with_pp)),
        fp8: fw.has_precision("fp8"),
        default_fp8_recipe: fw
            .default_fp8_recipe
            .as_ref()
            .and_then(|v| v.value())
            .and_then(|w| perf::Recipe::parse(w))
            .unwrap_or(perf::Recipe::Fp8Delayed),
        fp4: fw.has_precision("fp4"),
        low_precision_activations: fact(&fw.low_precision_activations),
        fp32_gradients: fact(&fw.gradient_precision) == "fp32",
        master_weight_remainders: fw
            .master_weight_remainders
            .as_ref()
            .and_then(|v| v.value())
            .copied()
            .unwrap_or(false),
        gradient_shards_upcast: fw
            .gradient_shards_upcast
            .as_ref()
            .and_then(|v| v.value())
            .copied()
            .unwrap_or(false),
        async_tp_all_reduce: fw
            .async_tp_all_reduce
            .as_ref()
            .and_then(|v| v.value())
            .copied()
            .unwrap_or(false),
        recompute_modules: modules,
        partial_recompute: fact(&fw.recompute_layers),
        default_zero: fact(&fw.default_zero),
        cudnn: fw
            .cudnn
            .as_ref()
            .and_then(|v| v.value())
            .and_then(|t| perf::train::attention::CudnnVersion::parse(t)),
    }
}

/// The id of the framework a spec uses when it names none: the newest Megatron.
pub fn default_framework_id(catalog: &Catalog) -> Option<String> {
    catalog.default_framework().map(|f| f.id.get_ref().clone())
}

/// The framework `id` names (or the default), or an error with a did-you-mean.
pub fn resolve_framework<'c>(
    catalog: &'c Catalog,
    id: Option<&str>,
) -> Result<&'c catalog::Framework, String> {
    match id {
        None => catalog.default_framework().ok_or_else(|| {
            "the catalog has no Megatron framework to default to; name one with `framework = \"id\"`"
                .to_string()
        }),
        Some(id) => catalog.frameworks.get(id).ok_or_else(|| {
            match catalog.nearest_framework(id) {
                Some(near) => format!("unknown framework `{id}`; did you mean `{near}`?"),
                None => format!(
                    "unknown framework `{id}`; the frameworks are {}",
                    catalog
                        .frameworks
                        .keys()
                        .map(String::as_str)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            }
        }),
    }
}

/// The fastest layouts the inputs' framework runs.
pub fn search_layouts(inputs: &TrainInputs, options: &SearchOptions) -> SearchResult {
    perf::search_with(
        &inputs.arch,
        &inputs.hardware,
        &inputs.workload,
        options,
        &perf::ModelConstants::default(),
        &inputs.framework,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_framework_converts_and_the_default_is_the_newest_megatron() {
        let catalog = Catalog::embedded().unwrap();
        assert!(catalog.frameworks.len() >= 8);
        assert_eq!(
            default_framework_id(&catalog).as_deref(),
            Some("megatron-bridge-2026")
        );
        let deepspeed = perf_framework(&catalog.frameworks["deepspeed-zero3"]);
        assert!(deepspeed.zero_stages.has(3));
        assert!(!deepspeed.zero_stages_with_pp.has(2));
        let megatron = perf_framework(&catalog.frameworks["megatron-core-2024"]);
        assert!(!megatron.zero_stages.has(2), "Megatron has no ZeRO-2");
    }

    #[test]
    fn mosaics_fsdp_reduces_bf16_and_keeps_the_reduced_shard_in_fp32() {
        // Composer 0.13.4 with PyTorch 1.13.1 FSDP, the software of MosaicML's MPT rows: both
        // modes reduce bf16, and FSDP casts the reduced shard back to fp32 in place; Megatron
        // keeps its own buffer (the flag absent, false).
        let catalog = Catalog::embedded().unwrap();
        let foundry = perf_framework(&catalog.frameworks["llm-foundry-2023"]);
        assert!(!foundry.fp32_gradients);
        assert!(foundry.gradient_shards_upcast);
        let applied = foundry.apply(perf::Strategy::single());
        assert!(!applied.fp32_gradients && applied.gradient_shards_upcast);
        let megatron = perf_framework(&catalog.frameworks["megatron-core-2024"]);
        assert!(!megatron.gradient_shards_upcast);
    }

    #[test]
    fn an_unknown_framework_gets_a_did_you_mean() {
        let catalog = Catalog::embedded().unwrap();
        let e = resolve_framework(&catalog, Some("megatron-core-2042")).unwrap_err();
        assert!(e.contains("did you mean `megatron-core-2024`"), "{e}");
    }
}
