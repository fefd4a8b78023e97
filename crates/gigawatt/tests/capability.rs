//! The capability view as a user runs it: the same numbers in `plan` and `risk` at the central
//! values, sections in every format, and bad capability inputs refused with the field named.

mod common;

use common::{bad_scenario, gigawatt, refuses, GOOD};

fn json(args: &[&str]) -> serde_json::Value {
    let output = gigawatt().args(args).output().expect("runs");
    assert!(
        output.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("json")
}

#[test]
fn plan_and_risk_give_the_same_capability_at_the_central_values() {
    // The shipped risk portfolio plans `openai-portfolio` (split at its as_of date).
    let plan = json(&["plan", "openai-portfolio", "-f", "json"]);
    let risk = json(&["risk", "-n", "200", "-f", "json"]);
    let plan_months = plan["capability"]["months"].as_array().unwrap();
    let risk_months = risk["capability"]["months"].as_array().unwrap();
    let mut compared = 0;
    for r in risk_months {
        let Some(p) = plan_months.iter().find(|p| p["month"] == r["month"]) else {
            continue;
        };
        let planned = &r["planned"];
        let run = &p["largest_run"];
        let or_zero = |v: &serde_json::Value| v.as_f64().unwrap_or(0.0);
        let pairs = [
            (
                "dense",
                or_zero(&run["dense"]["run"]["params"]),
                &planned["dense_params"],
            ),
            (
                "moe",
                or_zero(&run["moe"]["run"]["params"]),
                &planned["moe_params"],
            ),
            (
                "flop",
                or_zero(&p["training_flop_per_year"]),
                &planned["training_flop_per_year"],
            ),
            (
                "tokens",
                or_zero(&p["serving_tokens_per_day"]),
                &planned["serving_tokens_per_day"],
            ),
        ];
        for (what, plan_value, risk_value) in pairs {
            let risk_value = risk_value.as_f64().unwrap();
            assert!(
                (plan_value - risk_value).abs() <= 1e-9 * plan_value.abs().max(1.0),
                "{} {what}: plan {plan_value} risk {risk_value}",
                r["month"]
            );
        }
        if or_zero(&run["dense"]["run"]["params"]) > 0.0 {
            compared += 1;
        }
    }
    assert!(compared >= 4, "only {compared} months with a run compared");
}

#[test]
fn every_plan_format_has_a_capability_section() {
    let table = common::ok(&["plan"]);
    assert!(
        table.contains("Capability (largest run in 90 days"),
        "{table}"
    );
    let md = common::ok(&["plan", "-f", "md"]);
    assert!(md.contains("## Capability"));
    let html = common::ok(&["plan", "-f", "html"]);
    assert!(html.contains("<section id=\"capability\">"));
    let v = json(&["plan", "-f", "json"]);
    let names: Vec<&str> = v["assumptions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    for name in [
        "capability.training_days",
        "capability.serving_share",
        "capability.tokens_per_parameter",
        "capability.batch_law_coefficient",
        "capability.service_life_years",
        "capability.burn_in_months",
    ] {
        assert!(names.contains(&name), "{name} not in the ledger");
    }
}

#[test]
fn a_month_asked_for_is_reported_beside_the_decembers() {
    let v = json(&[
        "plan",
        "--capability-month",
        "2028-06",
        "--training-days",
        "30",
        "-f",
        "json",
    ]);
    let months: Vec<&str> = v["capability"]["months"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["month"].as_str().unwrap())
        .collect();
    assert!(months.contains(&"2028-06"), "{months:?}");
    assert!(months.contains(&"2028-12"), "{months:?}");
    assert_eq!(v["capability"]["options"]["training_days"], 30.0);
}

#[test]
fn a_longer_run_trains_a_larger_model() {
    let params = |days: &str| {
        let v = json(&["plan", "--training-days", days, "-f", "json"]);
        let last = v["capability"]["months"]
            .as_array()
            .unwrap()
            .last()
            .unwrap()
            .clone();
        last["largest_run"]["dense"]["run"]["params"]
            .as_f64()
            .unwrap()
    };
    let (short, long) = (params("45"), params("180"));
    // Compute grows 4x; a compute-optimal model grows about 2x (sqrt), less what the batch cap
    // and goodput take at the larger size.
    assert!(
        long > 1.5 * short && long < 2.2 * short,
        "{short:e} {long:e}"
    );
}

#[test]
fn a_serving_share_outside_zero_to_one_is_refused() {
    refuses(
        &["plan", "--serving-share", "1.5"],
        &["--serving-share", "from 0 to 1"],
    );
    let err = bad_scenario(
        "share.toml",
        &format!("{GOOD}\n[capability]\nserving_share = -0.1\n"),
    );
    assert!(err.contains("capability.serving_share"), "{err}");
    assert!(err.contains("share.toml:12:"), "{err}");
}

#[test]
fn a_training_duration_of_zero_or_over_ten_years_is_refused() {
    for days in ["0", "3700"] {
        refuses(
            &["plan", "--training-days", days],
            &["--training-days", "ten years"],
        );
    }
}

#[test]
fn inter_site_bandwidth_without_sites_is_refused() {
    let err = bad_scenario(
        "link.toml",
        &format!("{GOOD}\n[capability]\ninter_site_gbit_per_s = 400000\n"),
    );
    assert!(err.contains("capability.inter_site_gbit_per_s"), "{err}");
    assert!(err.contains("no tranche names a site"), "{err}");
}

#[test]
fn a_month_after_the_timeline_and_an_unknown_serving_model_are_refused() {
    refuses(
        &["plan", "--capability-month", "2099-01"],
        &["--capability-month"],
    );
    let err = bad_scenario(
        "mix.toml",
        &format!("{GOOD}\n[capability]\nserving_mix = {{ \"llama3-70c\" = 1 }}\n"),
    );
    assert!(err.contains("capability.serving_mix"), "{err}");
    assert!(err.contains("did you mean `llama3-70b`?"), "{err}");
}
