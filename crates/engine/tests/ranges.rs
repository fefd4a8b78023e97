//! Ranges (issue 16): beside the central totals, deterministic with the seed on any thread
//! count, ordered percentiles, and every sampled figure a ranged ledger line.

use catalog::Catalog;
use engine::{PlanOptions, RangeOptions};

const LOI: &str = include_str!("../../../scenarios/openai-nvidia-10gw.toml");

fn plan(options: &PlanOptions) -> engine::PlanResult {
    let catalog = Catalog::embedded().unwrap();
    engine::plan_text_with(&catalog, "loi.toml", LOI, options).unwrap()
}

fn with(draws: usize, seed: u64) -> PlanOptions {
    PlanOptions {
        ranges: Some(RangeOptions { draws, seed }),
    }
}

#[test]
fn totals_keep_their_central_values() {
    let central = plan(&PlanOptions::default());
    let ranged = plan(&with(200, 1));
    assert!(central.ranges.is_none());
    assert_eq!(
        serde_json::to_value(&central.totals).unwrap(),
        serde_json::to_value(&ranged.totals).unwrap()
    );
}

#[test]
fn the_same_seed_gives_the_same_ranges_on_one_or_two_threads() {
    let run = |threads: usize, seed: u64| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| serde_json::to_string(&plan(&with(200, seed)).ranges).unwrap())
    };
    let one = run(1, 7);
    assert_eq!(one, run(2, 7));
    assert_ne!(one, run(1, 8), "another seed draws other values");
}

#[test]
fn percentiles_are_ordered_and_sampled_figures_are_ranged_ledger_lines() {
    let result = plan(&with(300, 0));
    let ranges = result.ranges.as_ref().unwrap();
    assert_eq!(ranges.draws, 300);
    assert!(!ranges.sampled.is_empty());
    for name in &ranges.sampled {
        let a = result
            .assumptions
            .iter()
            .find(|a| &a.name == name)
            .unwrap_or_else(|| panic!("{name} is not in the ledger"));
        let (low, high) = (a.low.unwrap(), a.high.unwrap());
        assert!(low <= a.value && a.value <= high, "{name}");
    }
    for (name, s) in ranges.headlines.iter().chain(&ranges.final_row) {
        assert!(s.p10 <= s.p50 && s.p50 <= s.p90, "{name}: {s:?}");
    }
    // The rack power's 120-230 kW is the widest input: it leads the tornado.
    assert_eq!(
        ranges.tornado[0].name,
        "system[vera-rubin-nvl144].it_power_kw"
    );
    // Accelerators spread both ways around the central value.
    let acc = ranges.headlines["accelerators"];
    assert!(acc.p10 < result.totals.accelerators && result.totals.accelerators < acc.p90);
}

#[test]
fn the_opening_quotes_the_range_and_the_deal_status() {
    let result = plan(&with(200, 0));
    let text = &result.opening.text;
    assert!((2..=3).contains(&result.opening.sentences.len()), "{text}");
    assert!(text.contains("p10-p90"), "{text}");
    assert!(text.contains("replaced by another arrangement"), "{text}");
    assert!(text.contains("if the deal proceeds as written"), "{text}");
    assert!(text.contains("source:"), "{text}");
}

#[test]
fn the_opening_names_the_largest_model_and_the_tokens_per_day() {
    let result = plan(&with(50, 0));
    let text = &result.opening.text;
    let capability = result
        .capability
        .as_ref()
        .expect("a default plan has capability");
    let last = capability.months.last().unwrap();
    let dense = last
        .largest_run
        .as_ref()
        .unwrap()
        .dense
        .run
        .as_ref()
        .unwrap();
    assert!(text.contains("compute-optimal dense model of"), "{text}");
    assert!(text.contains("output tokens a day"), "{text}");
    assert!(text.contains(&last.month.to_string()), "{text}");
    // The parameter count is the capability section's, in words (e.g. "5.5 trillion").
    let words = format!("{:.1} trillion", dense.params / 1e12);
    let words = words.replace(".0 trillion", " trillion");
    assert!(text.contains(&words), "{words} not in {text}");
    assert_eq!(result.opening.sentences.len(), 3, "{text}");
}

#[test]
fn capability_ranges_come_from_the_same_draws_widened_by_model_error() {
    let result = plan(&with(200, 3));
    let ranges = result.ranges.as_ref().unwrap();
    let c = ranges.capability.as_ref().expect("capability ranges");
    let capability = result.capability.as_ref().unwrap();
    let last = capability.months.last().unwrap();
    assert_eq!(c.month, last.month);
    let central = last.measures();
    for (name, spread, value) in [
        ("dense_params", c.dense_params, central.dense_params),
        ("moe_params", c.moe_params, central.moe_params),
        (
            "training_flop_per_year",
            c.training_flop_per_year,
            central.flop_per_year,
        ),
        (
            "serving_tokens_per_day",
            c.serving_tokens_per_day,
            central.tokens_per_day,
        ),
    ] {
        let s = spread.unwrap_or_else(|| panic!("{name} has no range"));
        let value = value.unwrap();
        assert!(s.p10 < s.p50 && s.p50 < s.p90, "{name}: {s:?}");
        // The central plan lies inside its range.
        assert!(s.p10 < value && value < s.p90, "{name}: {value} {s:?}");
        assert_eq!(c.known_share[name], 1.0, "{name}");
    }
    // Vera Rubin has no published training row: the leave-Blackwell-out error; serving's
    // leave-family-out; both from the one place they are kept.
    use engine::capability::model_error;
    assert_eq!(c.training_error, model_error::TRAINING_LEAVE_BLACKWELL_OUT);
    // The MoE model is widened by the MoE rows' error, which is wider still: its p90/p10 spans
    // more than the dense model's over the same fleet draws.
    assert_eq!(
        c.moe_training_error,
        model_error::TRAINING_MOE_LEAVE_ONE_SOURCE_OUT
    );
    let (dense, moe) = (c.dense_params.unwrap(), c.moe_params.unwrap());
    assert!(
        moe.p90 / moe.p10 > dense.p90 / dense.p10,
        "{dense:?} {moe:?}"
    );
    assert_eq!(c.serving_error, model_error::SERVING_LEAVE_FAMILY_OUT);
    // Tokens a day move with the fleet and a 17.2% error: a p10-p90 wider than the
    // accelerators' alone.
    let acc = ranges.headlines["accelerators"];
    let tokens = c.serving_tokens_per_day.unwrap();
    assert!(tokens.p90 / tokens.p10 > acc.p90 / acc.p10);
    // The opening gives the capability figures with their ranges.
    let text = &result.opening.text;
    assert!(
        text.contains("parameters (p10-p90") && text.contains("a day (p10-p90"),
        "{text}"
    );
}

#[test]
fn capability_ranges_are_deterministic_with_the_seed() {
    let a = plan(&with(100, 5)).ranges.unwrap().capability;
    let b = plan(&with(100, 5)).ranges.unwrap().capability;
    let c = plan(&with(100, 6)).ranges.unwrap().capability;
    assert_eq!(a, b);
    assert_ne!(a, c);
}

#[test]
fn figures_without_their_own_range_take_it_from_the_claims_and_show_in_the_tornado() {
    let result = plan(&with(300, 0));
    let line = |name: &str| {
        result
            .assumptions
            .iter()
            .find(|a| a.name == name)
            .unwrap_or_else(|| panic!("{name} is not in the ledger"))
    };
    // The Vera Rubin rack price has no low/high in hardware.toml; claims.toml records $7.80M
    // (Morgan Stanley's bill of materials), $8.8M and $9.1M (Foxconn, the catalog's value).
    let price = line("system[vera-rubin-nvl144].price_usd");
    assert_eq!(price.range_from.as_deref(), Some("claims"));
    assert_eq!(
        (price.low, price.high),
        (Some(7_803_148.0), Some(9_100_000.0))
    );
    // The rack power has its own range in hardware.toml (120-230 kW, the same as its claims):
    // it stays the catalog's.
    let power = line("system[vera-rubin-nvl144].it_power_kw");
    assert_eq!(power.range_from, None);
    assert_eq!((power.low, power.high), (Some(120.0), Some(230.0)));
    let ranges = result.ranges.as_ref().unwrap();
    assert!(ranges.sampled.contains(&price.name), "{:?}", ranges.sampled);
    // The price moves capex by (9.1 - 7.8) / 9.1 of the systems' share: it is a driver, and
    // the tornado says where its range comes from.
    let driver = ranges
        .tornado
        .iter()
        .find(|d| d.name == price.name)
        .unwrap_or_else(|| panic!("not in the tornado: {:?}", ranges.tornado));
    assert_eq!(driver.range_from.as_deref(), Some("claims"));
    let [at_low, at_high] = driver.headlines["capex_usd"];
    assert!(at_low < at_high, "{at_low} {at_high}");
}

#[test]
fn the_gb300_rack_power_is_ranged_by_its_claims() {
    // NVIDIA's 142 kW maximum is the value; the claims give 120 (Introl), 132-140 (Supermicro's
    // typical) and 150 kW (TrendForce), so the range is 120-150 kW with 142 the mode.
    let text = "name = \"gb300\"\n[[tranche]]\nname = \"one\"\nsystem = \"gb300-nvl72\"\nfacility_gw = 0.24\nstart = \"2026-09\"\n[prices]\n\"gb300-nvl72\" = 3500000\n";
    let catalog = Catalog::embedded().unwrap();
    let result = engine::plan_text_with(&catalog, "gb300.toml", text, &with(200, 0)).unwrap();
    let power = result
        .assumptions
        .iter()
        .find(|a| a.name == "system[gb300-nvl72].it_power_kw")
        .expect("rack power in the ledger");
    assert_eq!(power.value, 142.0);
    assert_eq!((power.low, power.high), (Some(120.0), Some(150.0)));
    assert_eq!(power.range_from.as_deref(), Some("claims"));
    let ranges = result.ranges.as_ref().unwrap();
    let accelerators = ranges.headlines["accelerators"];
    // Fewer racks fit at 150 kW, more at 120 kW: the central count lies inside p10-p90.
    assert!(
        accelerators.p10 <= result.totals.accelerators
            && result.totals.accelerators <= accelerators.p90
    );
}
