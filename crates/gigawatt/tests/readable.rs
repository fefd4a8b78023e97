//! What the CLI prints for people (issue 18): listings that fit a screen, separators in
//! numbers, quick plans that ramp like the catalog says and count H100-equivalents like the
//! default scenario, and "not supported" for a precision no chip has.

mod common;

use common::ok;
use serde_json::Value;

#[test]
fn catalog_list_shows_the_entries_and_all_adds_the_sources() {
    let list = ok(&["catalog", "list"]);
    for heading in ["Systems", "Accelerators", "Deals", "Models"] {
        assert!(list.lines().any(|l| l.starts_with(heading)), "{heading}");
    }
    assert!(!list.lines().any(|l| l == "Sources"), "{list}");
    assert!(list.contains("`gigawatt catalog list --all`"));
    let all = ok(&["catalog", "list", "--all"]);
    assert!(all.lines().any(|l| l == "Sources"));
    assert!(all.contains("https://"));
    assert!(all.lines().count() > list.lines().count() + 100);
    // Figures carry separators: H100's dense FP8 is 1,979 TFLOP/s (1978.9 in the catalog).
    let show = ok(&["catalog", "show", "h100-sxm"]);
    assert!(show.contains("1,978.9"), "{show}");
    let json: Value = serde_json::from_str(&ok(&["catalog", "list", "-f", "json"])).unwrap();
    assert!(json.get("sources").is_none());
    let json: Value =
        serde_json::from_str(&ok(&["catalog", "list", "--all", "-f", "json"])).unwrap();
    assert!(json["sources"].as_array().unwrap().len() > 100);
}

#[test]
fn quick_plans_ramp_over_the_catalogs_months_and_say_so() {
    let text = ok(&["plan", "--system", "gb200-nvl72", "--facility-gw", "1.2"]);
    assert!(
        text.contains("ramps over 12 months (the catalog's default"),
        "{text}"
    );
    let v: Value = serde_json::from_str(&ok(&[
        "plan",
        "--system",
        "gb200-nvl72",
        "--facility-gw",
        "1.2",
        "-f",
        "json",
    ]))
    .unwrap();
    let tranche = &v["tranches"][0];
    // Start 2024-12 (first availability) + 12 months of ramp: fully online 2025-11 (the 12th
    // month), and the timeline runs to December, so opex covers 13 online months, not one.
    assert_eq!(tranche["start"], "2024-12", "{tranche}");
    assert_eq!(tranche["full"], "2025-11", "{tranche}");
    let online = v["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|row| row["accelerators"].as_f64().unwrap() > 0.0)
        .count();
    assert_eq!(online, 13);
    let ledger = v["assumptions"].to_string();
    assert!(ledger.contains("the catalog's default ramp"), "{ledger}");
    // A flag still wins.
    let v: Value = serde_json::from_str(&ok(&[
        "plan",
        "--system",
        "gb200-nvl72",
        "--facility-gw",
        "1.2",
        "--ramp-months",
        "0",
        "-f",
        "json",
    ]))
    .unwrap();
    assert_eq!(v["tranches"][0]["full"], "2024-12");
}

#[test]
fn a_vera_rubin_quick_plan_counts_h100_equivalents_like_the_default_scenario() {
    let quick: Value = serde_json::from_str(&ok(&[
        "plan",
        "--system",
        "vera-rubin-nvl144",
        "--facility-gw",
        "1",
        "-f",
        "json",
    ]))
    .unwrap();
    let default: Value = serde_json::from_str(&ok(&["plan", "-f", "json"])).unwrap();
    let per_accelerator = |v: &Value| {
        v["totals"]["h100e"].as_f64().expect("h100e known")
            / v["totals"]["accelerators"].as_f64().unwrap()
    };
    // Both are all Rubin: the same H100-equivalents per accelerator (8,333 / 989.4 = 8.43).
    let (q, d) = (per_accelerator(&quick), per_accelerator(&default));
    assert!((q - d).abs() < 1e-9, "{q} vs {d}");
    let text = ok(&[
        "plan",
        "--system",
        "vera-rubin-nvl144",
        "--facility-gw",
        "1",
    ]);
    assert!(text.contains("default scenario's derived BF16"), "{text}");
}

#[test]
fn a_precision_no_chip_has_reads_not_supported() {
    let text = ok(&["plan", "--system", "dgx-h100", "--systems", "100"]);
    assert!(text.contains("fp4 not supported"), "{text}");
    assert!(!text.contains("0 FLOP/s"), "{text}");
    let html = ok(&[
        "plan",
        "--system",
        "dgx-h100",
        "--systems",
        "100",
        "-f",
        "html",
    ]);
    assert!(html.contains("not supported"));
}

#[test]
fn reliability_prints_thousands_separators() {
    let text = ok(&[
        "reliability",
        "--gpus",
        "1000000",
        "--days",
        "100",
        "--runs",
        "2",
        "--no-search",
    ]);
    let line = text
        .lines()
        .find(|l| l.contains("Unexpected interruptions") && l.contains("per run"))
        .unwrap();
    // About 25,000 interruptions per run at a million accelerators: separators, one decimal.
    let figure = line.split_whitespace().nth(2).unwrap();
    assert!(figure.contains(','), "{line}");
}
