//! Speed of the main job, per operation: load the catalog, plan a shipped scenario end to end,
//! and run the fleet model alone. Run with `cargo bench -p engine`.
//!
//! Target (interactive exploration, a dashboard re-planning on every keystroke): planning the
//! largest shipped scenario end to end in well under 10 ms on one core.
//!
//! Target (issue 16): `gigawatt plan`'s default, the shipped default scenario with ranges from
//! 1,000 draws (and capability, once the plan carries it), under 300 ms
//! (`plan_default_with_ranges`).

use catalog::Catalog;

fn main() {
    divan::main();
}

const PORTFOLIO: &str = include_str!("../../../scenarios/openai-portfolio.toml");
const LOI: &str = include_str!("../../../scenarios/openai-nvidia-10gw.toml");

#[divan::bench]
fn load_and_validate_catalog() -> Catalog {
    Catalog::embedded().unwrap()
}

#[divan::bench(args = ["openai-nvidia-10gw", "openai-portfolio"])]
fn plan_scenario_end_to_end(bencher: divan::Bencher, scenario: &str) {
    let catalog = Catalog::embedded().unwrap();
    let text = if scenario == "openai-portfolio" {
        PORTFOLIO
    } else {
        LOI
    };
    bencher.bench(|| engine::plan_text(&catalog, "bench.toml", divan::black_box(text)).unwrap());
}

#[divan::bench]
fn serialize_portfolio_json(bencher: divan::Bencher) {
    let catalog = Catalog::embedded().unwrap();
    let result = engine::plan_text(&catalog, "bench.toml", PORTFOLIO).unwrap();
    bencher.bench(|| serde_json::to_string(divan::black_box(&result)).unwrap());
}

/// `gigawatt plan` with no arguments: the default scenario, ranges from 1,000 draws, seed 0.
#[divan::bench(args = ["openai-nvidia-10gw", "openai-portfolio"], sample_count = 10)]
fn plan_default_with_ranges(bencher: divan::Bencher, scenario: &str) {
    let catalog = Catalog::embedded().unwrap();
    let text = if scenario == "openai-portfolio" {
        PORTFOLIO
    } else {
        LOI
    };
    let options = engine::PlanOptions::with_ranges();
    bencher.bench(|| {
        engine::plan_text_with(&catalog, "bench.toml", divan::black_box(text), &options).unwrap()
    });
}
