//! The risk model against the planner and against statistics: the lean path agrees with
//! `fleet::plan`; sampled frequencies converge; percentiles are ordered; results do not depend
//! on the number of threads.

use catalog::Catalog;
use risk::{Portfolio, RiskResult, RunOptions};

const PORTFOLIO_PLAN: &str = include_str!("../../../scenarios/openai-portfolio.toml");
const LOI_PLAN: &str = include_str!("../../../scenarios/openai-nvidia-10gw.toml");
const UNFOLDED_PLAN: &str = include_str!("../../../scenarios/openai-nvidia-2026.toml");
const SHIPPED_RISK: &str = include_str!("../../../scenarios/openai-portfolio-risk.toml");

fn portfolio(text: &str, plan: &str) -> Portfolio {
    let catalog = Catalog::embedded().unwrap();
    let file = risk::parse("test.toml", text).unwrap();
    risk::build(&catalog, &file, "test.toml", text, "plan.toml", plan).unwrap()
}

fn run(p: &Portfolio, samples: u64, seed: u64) -> RiskResult {
    risk::run(
        p,
        &RunOptions {
            samples,
            seed,
            at_least: None,
        },
        &|_, _| {},
    )
    .unwrap()
}

fn close(a: f64, b: f64, relative: f64) -> bool {
    (a - b).abs() <= relative * a.abs().max(b.abs()).max(1e-300)
}

#[test]
fn the_lean_path_agrees_with_the_planner_on_an_unperturbed_sample() {
    for plan in [PORTFOLIO_PLAN, LOI_PLAN, UNFOLDED_PLAN] {
        let p = portfolio("scenario = \"x\"\n", plan);
        let timeline = fleet::plan(&p.fleet);
        let (first, series) = risk::planned_series(&p).unwrap();
        assert_eq!(first, timeline.rows[0].month);
        assert_eq!(series.facility_gw.len(), timeline.rows.len());
        for (i, row) in timeline.rows.iter().enumerate() {
            // Counts are whole numbers: exactly equal. Sums of reals: equal to rounding.
            assert_eq!(series.accelerators[i], row.accelerators, "{}", row.month);
            assert_eq!(series.financing_usd[i], row.financing_usd, "{}", row.month);
            assert!(
                close(series.facility_gw[i], row.facility_gw, 1e-12),
                "{}",
                row.month
            );
            assert!(
                close(series.capex_usd[i], row.capex_usd, 1e-9),
                "{}: {} vs {}",
                row.month,
                series.capex_usd[i],
                row.capex_usd
            );
            if let Some(h) = row.h100e {
                assert!(close(series.h100e[i], h, 1e-12), "{}", row.month);
            }
        }
    }
}

#[test]
fn sampled_frequencies_converge_to_the_stated_probabilities() {
    let text = r#"
scenario = "x"
[[deal]]
id = "openai-nvidia-loi"
proceed = 0.3
cut = { value = 0.2, kept = [0.5, 0.5] }
collapse = 0.5
delay = { value = 0.25, months = [1, 2, 3] }
ramp_factor = [1, 1, 1]
"#;
    let p = portfolio(text, LOI_PLAN);
    let n = 20_000;
    let result = run(&p, n, 7);
    let deal = &result.deals[0];
    let tolerance = |q: f64| 4.0 * (q * (1.0 - q) / n as f64).sqrt();
    assert!(
        (deal.sampled.proceed - 0.3).abs() < tolerance(0.3),
        "{:?}",
        deal.sampled
    );
    assert!(
        (deal.sampled.cut - 0.2).abs() < tolerance(0.2),
        "{:?}",
        deal.sampled
    );
    assert!(
        (deal.sampled.collapse - 0.5).abs() < tolerance(0.5),
        "{:?}",
        deal.sampled
    );
    // Delay applies to the half that does not collapse.
    assert!(
        (deal.sampled.delayed - 0.125).abs() < tolerance(0.125),
        "{:?}",
        deal.sampled
    );
    // With half the samples collapsing, the final median is the boundary: p10 is zero and p90
    // is the full build.
    let last = result.timeline.last().unwrap();
    assert_eq!(last.facility_gw.p10, 0.0);
    assert!(close(last.facility_gw.p95, last.planned_facility_gw, 1e-6));
    // And the probability question agrees with the frequencies.
    let asked = risk::run(
        &p,
        &RunOptions {
            samples: n,
            seed: 7,
            // 10 GW asked, 9.0 GW drawn after the power stack's 10% design headroom.
            at_least: Some((8.9, "2031-12".parse().unwrap())),
        },
        &|_, _| {},
    )
    .unwrap();
    let answer = asked.at_least.unwrap();
    assert!(
        (answer.probability - 0.3).abs() < tolerance(0.3),
        "{answer:?}"
    );
}

#[test]
fn percentiles_are_ordered_every_month() {
    let p = portfolio(SHIPPED_RISK, PORTFOLIO_PLAN);
    let result = run(&p, 2_000, 3);
    for row in &result.timeline {
        for q in [
            row.facility_gw,
            row.accelerators,
            row.capex_usd,
            row.financing_usd,
            row.h100e.unwrap(),
        ] {
            assert!(
                q.p5 <= q.p10 && q.p10 <= q.p50 && q.p50 <= q.p90 && q.p90 <= q.p95,
                "{} {q:?}",
                row.month
            );
            assert!(q.p5 >= 0.0);
        }
        // No sample builds more than the plan.
        assert!(
            row.facility_gw.p95 <= row.planned_facility_gw * (1.0 + 1e-6) + 1e-9,
            "{}",
            row.month
        );
    }
    for bar in &result.tornado.bars {
        assert!(bar.worst_p50 <= bar.best_p50, "{bar:?}");
    }
    let swings: Vec<f64> = result.tornado.bars.iter().map(|b| b.swing).collect();
    assert!(swings.windows(2).all(|w| w[0] >= w[1]), "{swings:?}");
}

#[test]
fn the_same_seed_gives_the_same_numbers_on_one_and_two_threads() {
    let p = portfolio(SHIPPED_RISK, PORTFOLIO_PLAN);
    // More than one chunk of samples, so the threads really split the work.
    let on = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| serde_json::to_string(&run(&p, 3_000, 11)).unwrap())
    };
    let one = on(1);
    assert_eq!(one, on(2));
    let other_seed = serde_json::to_string(&run(&p, 3_000, 12)).unwrap();
    assert_ne!(one, other_seed);
}

#[test]
fn shared_drivers_make_bad_outcomes_cluster() {
    let text = |weight: f64| {
        format!(
            r#"
scenario = "x"
[[driver]]
id = "financing"
weight = {weight}
[[deal]]
id = "openai-nvidia-loi"
proceed = 0.5
cut = {{ value = 0.0, kept = [0.5, 0.5] }}
collapse = 0.5
delay = {{ value = 0.0, months = [0, 0, 0] }}
ramp_factor = [1, 1, 1]
drivers = ["financing"]
[[deal]]
id = "openai-oracle"
proceed = 0.5
cut = {{ value = 0.0, kept = [0.5, 0.5] }}
collapse = 0.5
delay = {{ value = 0.0, months = [0, 0, 0] }}
ramp_factor = [1, 1, 1]
drivers = ["financing"]
"#
        )
    };
    // Both deals proceeding (about 16 GW asked, 14.4 GW drawn after the power stack's 10% design
    // headroom) is far likelier when they move together.
    let both = |weight: f64| {
        let p = portfolio(&text(weight), PORTFOLIO_PLAN);
        let options = RunOptions {
            samples: 4_000,
            seed: 5,
            at_least: Some((13.5, "2031-12".parse().unwrap())),
        };
        risk::run(&p, &options, &|_, _| {})
            .unwrap()
            .at_least
            .unwrap()
            .probability
    };
    let independent = both(0.0);
    let correlated = both(0.95);
    assert!(
        correlated > independent + 0.1,
        "{correlated} vs {independent}"
    );
}

#[test]
fn deals_with_drivers_are_delayed_at_the_stated_rate_when_they_survive() {
    // The shipped portfolio: deals share drivers, and the summary states P(delayed | not
    // collapsed). Among the samples where a deal survives, it is delayed that often.
    let p = portfolio(SHIPPED_RISK, PORTFOLIO_PLAN);
    assert!(p.deals.iter().any(|d| !d.drivers.is_empty()));
    let n = 50_000;
    let result = run(&p, n, 9);
    for deal in &result.deals {
        let survived = (1.0 - deal.sampled.collapse) * n as f64;
        if deal.odds.delay == 0.0 || deal.odds.delay == 1.0 || survived < 1_000.0 {
            continue;
        }
        let sampled = deal.sampled.delayed * n as f64 / survived;
        let sigma = (deal.odds.delay * (1.0 - deal.odds.delay) / survived).sqrt();
        assert!(
            (sampled - deal.odds.delay).abs() < 4.0 * sigma,
            "{} (drivers {:?}): P(delayed | not collapsed) sampled {sampled:.4}, stated {} (sigma {sigma:.4})",
            deal.id,
            deal.drivers,
            deal.odds.delay
        );
    }
}

#[test]
fn histogram_percentiles_agree_with_exact_ones_within_the_stated_bound() {
    // Budget 0 forces the streaming path (per-month histograms) on a small run; everything
    // but the percentiles is the same, and each percentile is within the stated bound.
    let p = portfolio(SHIPPED_RISK, PORTFOLIO_PLAN);
    let options = RunOptions {
        samples: 3000,
        seed: 5,
        at_least: Some((2.0, units::Month::new(2028, 12).unwrap())),
    };
    let exact = risk::run(&p, &options, &|_, _| {}).unwrap();
    let streamed = risk::run_with_column_budget(&p, &options, &|_, _| {}, 0).unwrap();
    assert_eq!(exact.timeline.len(), streamed.timeline.len());
    // f32 rounding of the printed values adds at most 2^-24 to the bound.
    let bound = risk::RELATIVE_ERROR_BOUND + 1e-7;
    for (a, b) in exact.timeline.iter().zip(&streamed.timeline) {
        let mut pairs = vec![
            (a.facility_gw, b.facility_gw),
            (a.accelerators, b.accelerators),
            (a.capex_usd, b.capex_usd),
            (a.financing_usd, b.financing_usd),
        ];
        if let (Some(x), Some(y)) = (a.h100e, b.h100e) {
            pairs.push((x, y));
        }
        for (x, y) in pairs {
            for (e, s) in [
                (x.p5, y.p5),
                (x.p10, y.p10),
                (x.p50, y.p50),
                (x.p90, y.p90),
                (x.p95, y.p95),
            ] {
                assert!(
                    (e - s).abs() <= bound * e.abs(),
                    "{}: exact {e} vs histogram {s}",
                    a.month
                );
            }
        }
    }
    assert_eq!(
        serde_json::to_string(&exact.deals).unwrap(),
        serde_json::to_string(&streamed.deals).unwrap()
    );
    // The tornado's bars come from the first samples, kept exactly; its base is the final
    // month's median (within the bound).
    assert_eq!(
        serde_json::to_string(&exact.tornado.bars).unwrap(),
        serde_json::to_string(&streamed.tornado.bars).unwrap()
    );
    let (e, s) = (exact.tornado.base_p50, streamed.tornado.base_p50);
    assert!((e - s).abs() <= bound * e, "{e} vs {s}");
    assert_eq!(
        serde_json::to_string(&exact.at_least).unwrap(),
        serde_json::to_string(&streamed.at_least).unwrap()
    );
    assert!(streamed.notes.iter().any(|n| n.contains("histograms")));
}
