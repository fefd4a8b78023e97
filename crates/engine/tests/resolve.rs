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
