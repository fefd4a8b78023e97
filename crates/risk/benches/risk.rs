//! Speed of deal risk. Run with `cargo bench -p risk`.
//!
//! Target: 100,000 samples of a 15-deal portfolio, monthly from 2025 to 2032, in under one
//! second on the 2-core development machine (all cores, rayon's global pool).

use catalog::Catalog;
use risk::{Portfolio, RunOptions};

fn main() {
    divan::main();
}

const PLAN: &str = include_str!("../../../scenarios/openai-portfolio.toml");
const RISK: &str = include_str!("../../../scenarios/openai-portfolio-risk.toml");

/// The embedded catalog and the shipped portfolio's risk file, built.
fn shipped_portfolio() -> (Catalog, Portfolio) {
    let catalog = Catalog::embedded().unwrap();
    let file = risk::parse("bench.toml", RISK).unwrap();
    let p = risk::build(&catalog, &file, "bench.toml", RISK, "plan.toml", PLAN).unwrap();
    (catalog, p)
}

/// The shipped portfolio widened to 15 deals of two tranches each (30 tranches), starting
/// through 2025-2030 and ending 2032-12, with three shared drivers and per-GW financing.
fn fifteen_deals() -> Portfolio {
    let (_, mut p) = shipped_portfolio();
    let template_tranche = p.fleet.tranches[3].clone(); // 1 GW of Vera Rubin
    let template_deal = p.deals[0].clone();
    p.fleet.tranches.clear();
    p.tranche_deal.clear();
    p.deals.clear();
    for d in 0..15 {
        let mut deal = template_deal.clone();
        deal.id = format!("deal-{d}");
        deal.drivers = vec![d % 3];
        p.deals.push(deal);
        for k in 0..2 {
            let mut t = template_tranche.clone();
            t.name = format!("deal {d} tranche {k}");
            t.start = units::Month::new(
                2025 + ((d + k * 3) % 6) as i32,
                1 + (d as u32 * 5 + k as u32) % 12,
            )
            .unwrap();
            t.ramp_months = 6 + (d as u32 % 4) * 3;
            p.fleet.tranches.push(t);
            p.tranche_deal.push(Some(d));
        }
    }
    p.fleet.end = units::Month::new(2032, 12).unwrap();
    if let fleet::FinancingRule::PerGwDeployed { tranches, .. } = &mut p.fleet.financing[0].rule {
        *tranches = (0..6).collect();
    }
    p.financing_deal = vec![Some(0)];
    p
}

#[divan::bench(args = [10_000, 100_000], sample_count = 5, sample_size = 1)]
fn fifteen_deal_portfolio(bencher: divan::Bencher, samples: u64) {
    let p = fifteen_deals();
    let options = RunOptions {
        samples,
        seed: 1,
        at_least: Some((5.0, units::Month::new(2028, 12).unwrap())),
    };
    bencher.bench(|| risk::run(divan::black_box(&p), &options, &|_, _| {}).unwrap());
}

/// Issue 16's target: risk with capability, 100,000 samples, under 2 s: the run and the
/// capability percentiles read from the per-system lookup tables. The tables are built once
/// per run, before the timing here (`capability_tables` times the build).
#[divan::bench(sample_count = 3, sample_size = 1)]
fn shipped_portfolio_with_capability_100k(bencher: divan::Bencher) {
    let (catalog, p) = shipped_portfolio();
    let tables = risk::build_tables(&catalog, &p);
    tables.fill();
    let options = RunOptions {
        samples: 100_000,
        seed: 1,
        at_least: None,
    };
    bencher.bench(|| {
        let result = risk::run(divan::black_box(&p), &options, &|_, _| {}).unwrap();
        (result, risk::capability(&p, &options, &tables).unwrap())
    });
}

/// Building the shipped portfolio's capability tables: every grid point's layout searches
/// (dense and MoE) and the serving searches, once per run, cold (the searches' memory emptied
/// before each sample). `whole-space` searches every layout, as before the capability space was
/// pruned; the ratio of the two in one run is the pruning's speed-up.
#[divan::bench(args = ["pruned", "whole-space"], sample_count = 1, sample_size = 1)]
fn capability_tables(bencher: divan::Bencher, space: &str) {
    let (catalog, p) = shipped_portfolio();
    engine::capability::training::search_whole_space_for_benchmarks(space == "whole-space");
    bencher
        .with_inputs(engine::capability::training::forget_searches)
        .bench_values(|()| risk::build_tables(&catalog, &p).fill());
    engine::capability::training::search_whole_space_for_benchmarks(false);
}

/// Issue 16's target as a user meets it: `gigawatt risk` with capability at 100,000 samples,
/// the whole run: the tables built cold, the samples and the capability percentiles.
#[divan::bench(sample_count = 2, sample_size = 1)]
fn shipped_portfolio_with_capability_100k_whole_run(bencher: divan::Bencher) {
    let (catalog, p) = shipped_portfolio();
    let options = RunOptions {
        samples: 100_000,
        seed: 1,
        at_least: None,
    };
    bencher
        .with_inputs(engine::capability::training::forget_searches)
        .bench_values(|()| {
            let tables = risk::build_tables(&catalog, &p);
            let result = risk::run(divan::black_box(&p), &options, &|_, _| {}).unwrap();
            (result, risk::capability(&p, &options, &tables).unwrap())
        });
}

#[divan::bench(sample_count = 5, sample_size = 1)]
fn shipped_portfolio_100k(bencher: divan::Bencher) {
    let (_, p) = shipped_portfolio();
    let options = RunOptions {
        samples: 100_000,
        seed: 1,
        at_least: None,
    };
    bencher.bench(|| risk::run(divan::black_box(&p), &options, &|_, _| {}).unwrap());
}

/// Time per sample does not grow with the samples (issue 17): the shipped portfolio at 100,000
/// samples (exact percentiles) and at the documented maximum of 10,000,000 (per-month
/// histograms). Target: the time per sample at 10M within 1.5x of that at 100k, and peak
/// memory at 10M at most 1 GiB, measured on this benchmark alone:
///
///   cargo bench -p risk --bench risk -- per_sample
///   /usr/bin/time -v target/release/deps/risk-* --bench per_sample   # "Maximum resident set size"
#[divan::bench(args = [100_000, 10_000_000], sample_count = 1, sample_size = 1)]
fn shipped_portfolio_per_sample(bencher: divan::Bencher, samples: u64) {
    let (_, p) = shipped_portfolio();
    let options = RunOptions {
        samples,
        seed: 1,
        at_least: Some((5.0, units::Month::new(2028, 12).unwrap())),
    };
    bencher
        .counter(divan::counter::ItemsCount::new(samples))
        .bench(|| risk::run(divan::black_box(&p), &options, &|_, _| {}).unwrap());
}
