//! Speed of the main job, per operation: load the catalog, plan a shipped scenario end to end,
//! and run the fleet model alone. Run with `cargo bench -p engine`.
//!
//! Target (interactive exploration, a dashboard re-planning on every keystroke): planning the
//! largest shipped scenario end to end in well under 10 ms on one core.
//!
//! Target (issue 16): `gigawatt plan`'s default, the shipped default scenario with ranges from
//! 1,000 draws and capability, under 300 ms, cold (`plan_default_with_ranges_cold`: the first
//! plan of a process; `plan_default_with_ranges` reuses the layout searches of earlier samples).

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
    let text = scenario_text(scenario);
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
    let text = scenario_text(scenario);
    let options = engine::PlanOptions::with_ranges();
    bencher.bench(|| {
        engine::plan_text_with(&catalog, "bench.toml", divan::black_box(text), &options).unwrap()
    });
}

/// The same as a first plan in a process runs it (`gigawatt plan` with no arguments): the layout
/// searches' memory emptied before each sample, outside the timing; capability searches its
/// pruned layout space.
#[divan::bench(args = ["openai-nvidia-10gw", "openai-portfolio"], sample_count = 5, sample_size = 1)]
fn plan_default_with_ranges_cold(bencher: divan::Bencher, scenario: &str) {
    cold_plan(bencher, scenario, false);
}

/// [`plan_default_with_ranges_cold`] with capability searching every layout, as it did before
/// its space was pruned: the ratio of the two, in one run, is the pruning's speed-up.
#[divan::bench(args = ["openai-nvidia-10gw"], sample_count = 3, sample_size = 1)]
fn plan_default_with_ranges_cold_whole_space(bencher: divan::Bencher, scenario: &str) {
    cold_plan(bencher, scenario, true);
}

fn cold_plan(bencher: divan::Bencher, scenario: &str, whole_space: bool) {
    let catalog = Catalog::embedded().unwrap();
    let text = scenario_text(scenario);
    let options = engine::PlanOptions::with_ranges();
    engine::capability::training::search_whole_space_for_benchmarks(whole_space);
    bencher
        .with_inputs(engine::capability::training::forget_searches)
        .bench_values(|()| {
            engine::plan_text_with(&catalog, "bench.toml", divan::black_box(text), &options)
                .unwrap()
        });
    engine::capability::training::search_whole_space_for_benchmarks(false);
}

/// Issue 14: `infer fleet` for the shipped portfolio serving a three-model mix (ShareGPT
/// profile, 30% prefix hits, server targets): every system's layout search for each model, the
/// mix rate and the monthly timeline. Target: under 1 s.
#[divan::bench(sample_count = 3)]
fn infer_fleet_portfolio_three_model_mix(bencher: divan::Bencher) {
    let catalog = Catalog::embedded().unwrap();
    let plan = engine::plan_text(&catalog, "bench.toml", PORTFOLIO).unwrap();
    let p = perf::LengthProfile::named("sharegpt").unwrap();
    let traffic = perf::Traffic {
        profile: p.name.into(),
        bins: p.histogram(engine::infer::PROFILE_BINS),
        prefix_hit_rate: 0.3,
    };
    let workload = perf::ServingWorkload {
        input_tokens: p.mean_input_tokens,
        output_tokens: p.mean_output_tokens,
        ttft_slo_s: Some(2.0),
        tpot_slo_s: Some(0.05),
        mode: perf::ServingMode::Server,
        disaggregated: false,
        max_batch: None,
        speculation: None,
        slo_percentile: perf::DEFAULT_SLO_PERCENTILE,
    };
    let models = [
        ("llama3-70b", 0.5),
        ("deepseek-v3", 0.3),
        ("llama3-8b", 0.2),
    ];
    let archs: Vec<perf::Arch> = models
        .iter()
        .map(|(id, _)| engine::train::arch_from_catalog(&catalog.models[*id]))
        .collect();
    bencher.bench(|| {
        let requests: Vec<(engine::capacity::CapacityRequest, f64)> = models
            .iter()
            .zip(&archs)
            .map(|((id, share), arch)| {
                (
                    engine::capacity::CapacityRequest {
                        model: id,
                        arch,
                        workload,
                        precision: perf::Precision::Fp8,
                        kv_bytes: 1.0,
                        traffic: Some(&traffic),
                    },
                    *share,
                )
            })
            .collect();
        engine::infer::fleet_serving_mix(&catalog, &plan, &requests, 5.0, 0.6)
    });
}

/// The default plan with its result dropped inside the timing (divan drops returned values
/// outside it): the like-for-like baseline for `gigawatt.plan()` from Python, whose timing
/// includes freeing the previous result (issue 19: <= 2x this; crates/python/bench/targets.py).
#[divan::bench]
fn plan_default_including_drop(bencher: divan::Bencher) {
    let catalog = Catalog::embedded().unwrap();
    bencher.bench(|| {
        let result = engine::plan_text(&catalog, "bench.toml", divan::black_box(LOI)).unwrap();
        drop(divan::black_box(result));
    });
}

/// The shipped scenario a benchmark argument names: the portfolio, or the 10 GW letter of intent.
fn scenario_text(scenario: &str) -> &'static str {
    if scenario == "openai-portfolio" {
        PORTFOLIO
    } else {
        LOI
    }
}
