//! The resolved-scenario API that models running the buildout many times (deal risk) use.

use catalog::Catalog;

#[test]
fn resolving_a_shipped_scenario_keeps_ids_beside_the_fleet_input() {
    let catalog = Catalog::embedded().unwrap();
    let text = include_str!("../../../scenarios/openai-portfolio.toml");
    let resolved = engine::resolve_text(&catalog, "portfolio.toml", text).unwrap();
    assert_eq!(resolved.tranche_deals.len(), resolved.fleet.tranches.len());
    assert_eq!(
        resolved.tranche_systems.len(),
        resolved.fleet.tranches.len()
    );
    assert_eq!(
        resolved.financing_deals.len(),
        resolved.fleet.financing.len()
    );
    assert_eq!(
        resolved.financing_deals[0].as_deref(),
        Some("openai-nvidia-loi")
    );
    assert_eq!(resolved.excluded.len(), 4);
    // Running the resolved input gives the same timeline as planning the text.
    let planned = engine::plan_text(&catalog, "portfolio.toml", text).unwrap();
    assert_eq!(fleet::plan(&resolved.fleet).rows, planned.timeline);
}

/// A plain `fp8` runs at the framework version's default FP8 scaling (catalog/frameworks.toml
/// `default_fp8_recipe`: Megatron-Core delayed, Megatron-Bridge current), and follows the
/// framework when it changes; a recipe the user names is kept whatever the framework.
#[test]
fn plain_fp8_follows_the_frameworks_default_scaling() {
    let catalog = catalog::Catalog::embedded().unwrap();
    let workload = |precision: perf::Precision, components| perf::Workload {
        global_batch: 64.0,
        seq_len: 4096.0,
        precision,
        components,
        moe: perf::MoeRouting::default(),
    };
    let resolve = |w: perf::Workload, framework: &str| {
        engine::train::resolve_train_inputs(&catalog, "llama3-8b", "dgx-h100", 64, w)
            .unwrap()
            .with_framework(&catalog, Some(framework))
            .unwrap()
    };
    let recipe_of =
        |inputs: &engine::train::TrainInputs| inputs.workload.components.map(|c| c.dense);

    let bridge = resolve(workload(perf::Precision::Fp8, None), "megatron-bridge-2026");
    assert_eq!(recipe_of(&bridge), Some(perf::Recipe::Fp8Current));
    assert!(bridge
        .assumptions
        .iter()
        .any(|a| a.contains("fp8-current") && a.contains("megatron-bridge-2026")));
    let core = resolve(workload(perf::Precision::Fp8, None), "megatron-core-2024");
    assert_eq!(recipe_of(&core), Some(perf::Recipe::Fp8Delayed));
    // Named by the user: kept.
    let named = resolve(
        workload(
            perf::Precision::Fp8,
            Some(perf::ComponentRecipes::uniform(perf::Recipe::Fp8Delayed)),
        ),
        "megatron-bridge-2026",
    );
    assert_eq!(recipe_of(&named), Some(perf::Recipe::Fp8Delayed));
    // BF16 is untouched.
    let bf16 = resolve(
        workload(perf::Precision::Bf16, None),
        "megatron-bridge-2026",
    );
    assert_eq!(recipe_of(&bf16), None);
}
