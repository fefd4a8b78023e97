//! `gigawatt deals`, `--known-on`, `catalog sources` and `catalog validate` warnings, run as a
//! user would.

mod common;

use common::{bad_input, bad_scenario, gigawatt, ok, refuses};
use serde_json::Value;

fn json(args: &[&str]) -> Value {
    serde_json::from_str(&ok(args)).expect("valid JSON")
}

#[test]
fn one_deal_timeline_reads_like_a_history() {
    let out = ok(&["deals", "openai-nvidia-loi"]);
    assert!(out.contains("openai-nvidia-loi  [replaced]"), "{out}");
    assert!(out.contains("announced -> announced"), "{out}");
    assert!(out.contains("stalled   -> stalled"), "{out}");
    assert!(out.contains("10 GW contracted"), "{out}");
    assert!(out.contains("catalog knowledge cut-off"), "{out}");
}

#[test]
fn the_loi_timeline_json_is_pinned() {
    let mut v = json(&["deals", "openai-nvidia-loi", "-f", "json"]);
    v["catalog_version"] = Value::from("[catalog]");
    v["knowledge_cutoff"] = Value::from("[cutoff]");
    insta::assert_json_snapshot!(v);
}

#[test]
fn on_a_date_later_events_and_deals_are_left_out() {
    let v = json(&["deals", "--on", "2025-12-31", "-f", "json"]);
    assert_eq!(v["on"], "2025-12-31");
    let loi = v["deals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["deal"] == "openai-nvidia-loi")
        .unwrap();
    assert_eq!(loi["status"], "announced");
    assert_eq!(loi["events"].as_array().unwrap().len(), 1);
    assert_eq!(v["withheld"]["openai-cerebras"], "2026-01-14");
    refuses(
        &["deals", "openai-cerebras", "--on", "2025-12-31"],
        &["was not public on 2025-12-31", "--on 2026-01-14"],
    );
}

#[test]
fn csv_has_one_row_per_event() {
    let out = ok(&["deals", "-f", "csv"]);
    let mut lines = out.lines();
    assert_eq!(
        lines.next().unwrap(),
        "deal,date,kind,status_after,gw,basis,contract_usd,investment_usd,counterparty,source,note"
    );
    assert!(lines.count() >= 30);
}

#[test]
fn bad_deal_ids_and_dates_exit_2_with_a_fix() {
    refuses(
        &["deals", "openai-nvidia-lio"],
        &["did you mean `openai-nvidia-loi`"],
    );
    refuses(&["deals", "--on", "last week"], &["not a date"]);
    refuses(&["plan", "--known-on", "2025-13-01"], &["YYYY-MM-DD"]);
}

#[test]
fn plan_known_on_uses_the_status_of_that_day() {
    let v = json(&["plan", "--known-on", "2025-12-31", "-f", "json"]);
    assert_eq!(v["knowledge"]["known_on"], "2025-12-31");
    assert_eq!(v["deals"][0]["id"], "openai-nvidia-loi");
    assert_eq!(v["deals"][0]["status"], "announced");
    let now = json(&["plan", "-f", "json"]);
    assert_eq!(now["deals"][0]["status"], "replaced");
    assert!(now["knowledge"]["known_on"].is_null());
    assert_eq!(
        now["knowledge"]["timelines"][0]["events"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    // A plan that needs a deal announced after the day is refused, saying when it became public.
    refuses(
        &["plan", "openai-nvidia-2026", "--known-on", "2025-12-31"],
        &["`openai-nvidia-equity-2026` was not public on 2025-12-31"],
    );
}

#[test]
fn reports_show_timelines_and_the_cut_off() {
    let md = ok(&["plan", "-f", "md"]);
    assert!(md.contains("## Deal timelines"), "{md}");
    assert!(md.contains("Catalog knowledge cut-off"), "{md}");
    let html = ok(&["plan", "-f", "html", "--known-on", "2026-01-31"]);
    assert!(html.contains("<section id=\"timelines\">"));
    assert!(html.contains("public on 2026-01-31"));
    let risk = ok(&[
        "risk",
        "-n",
        "2000",
        "-f",
        "html",
        "--known-on",
        "2026-03-31",
    ]);
    assert!(risk.contains("<section id=\"timelines\">"));
    let v = json(&[
        "risk",
        "-n",
        "2000",
        "-f",
        "json",
        "--known-on",
        "2026-03-31",
    ]);
    assert_eq!(v["knowledge"]["known_on"], "2026-03-31");
    // Stargate stalled in April 2026: on 2026-03-31 it was still in force.
    let stargate = v["deals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == "stargate");
    if let Some(stargate) = stargate {
        assert_eq!(stargate["status"], "in-force", "{stargate}");
    }
}

#[test]
fn catalog_sources_counts_by_kind_and_standing() {
    let out = ok(&["catalog", "sources"]);
    assert!(out.contains("Sources in the catalog"), "{out}");
    assert!(out.contains("Figures in the default plan"), "{out}");
    assert!(out.contains("by standing:"), "{out}");
    let v = json(&["catalog", "sources", "-f", "json"]);
    let figures = &v["default_plan"]["figures"];
    let aggregators = figures["by_standing"]["aggregator"].as_u64().unwrap_or(0);
    assert!(
        aggregators * 2 < figures["total"].as_u64().unwrap(),
        "aggregators are a minority of the default plan's figures: {figures}"
    );
}

#[test]
fn validate_warns_on_old_format_sources_and_strict_refuses() {
    let output = gigawatt().args(["catalog", "validate"]).output().unwrap();
    assert!(output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("warning:"), "{stderr}");
    assert!(stderr.contains("has no `read`"), "{stderr}");
    refuses(
        &["catalog", "validate", "--strict"],
        &["--strict treats warnings as errors"],
    );
}

#[test]
fn a_tranche_may_name_a_site_and_an_unknown_one_is_refused() {
    let v = json(&["plan", "openai-nvidia-2026", "-f", "json"]);
    assert!(v["tranches"].as_array().unwrap().len() >= 2);
    let err = bad_scenario(
        "site.toml",
        "[[tranche]]\nsystem = \"gb200-nvl72\"\nsite = \"abilen\"\nfacility_gw = { value = 1, source = \"x\" }\nstart = \"2026-01\"\n\n[[source]]\nid = \"x\"\ntitle = \"x\"\nurl = \"https://example.com\"\ndate = \"2026\"\nkind = \"derived\"\n",
    );
    assert!(err.contains("unknown site `abilen`"), "{err}");
    assert!(err.contains("did you mean `abilene`"), "{err}");
}

#[test]
fn risk_defaults_come_from_the_record_with_intervals_and_judgements_are_labelled() {
    let out = ok(&["catalog", "record"]);
    assert!(out.contains("status at announcement: binding"), "{out}");
    assert!(out.contains("censored"), "{out}");
    let v = json(&["catalog", "record", "-f", "json"]);
    assert!(v["records"].as_array().unwrap().len() >= 20);
    let v = json(&["risk", "-n", "2000", "-f", "json"]);
    let notes: Vec<&str> = v["assumptions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["name"].as_str().unwrap().starts_with("deal["))
        .filter_map(|a| a["note"].as_str())
        .collect();
    assert!(
        notes
            .iter()
            .any(|n| n.contains("from the record") && n.contains("90% interval")),
        "{notes:?}"
    );
    assert!(notes
        .iter()
        .all(|n| !n.starts_with("derived: gigawatt's default")));
}

#[test]
fn bad_world_data_in_a_catalog_folder_exits_2_naming_file_field_and_fix() {
    let dir = std::env::temp_dir().join(format!("gigawatt-world-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let dir_arg = dir.to_string_lossy().to_string();
    let cases: [(&str, &str, &[&str]); 3] = [
        (
            "[[event]]\ndeal = \"openai-nvidia-lio\"\ndate = \"2026-01-01\"\nkind = \"revised\"\nsource = \"deal-economist-nvidia-10b-per-gw\"\n",
            "unknown deal",
            &["openai-nvidia-loi"],
        ),
        (
            "[[source]]\nid = \"wire\"\ntitle = \"A wire story\"\nurl = \"https://example.com/w\"\ndate = \"2026-03-06\"\nread = \"2026-12-02\"\nkind = \"primary-press\"\nexcerpt = \"on track\"\n",
            "source[wire].publisher",
            &["add publisher = "],
        ),
        (
            "[[claim]]\nquantity = \"system.vera-rubin-nvl144.it_power_kw\"\nvalue = 300\nlow = 100\nhigh = 200\nunit = \"kW\"\nsource = \"src-techstories-vr-power\"\n",
            "claim[1].low",
            &["low <= value <= high"],
        ),
    ];
    for (text, field, fixes) in cases {
        std::fs::write(dir.join("extra.toml"), text).unwrap();
        let err = bad_input(&["catalog", "validate", "--catalog", &dir_arg]);
        assert!(err.contains("extra.toml:"), "{err}");
        assert!(err.contains(field), "{err}");
        for fix in fixes {
            assert!(err.contains(fix), "{err}");
        }
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn the_default_plan_rests_mostly_on_primary_sources() {
    let v = json(&["catalog", "sources", "-f", "json"]);
    let figures = &v["default_plan"]["figures"];
    let count = |standing: &str| figures["by_standing"][standing].as_u64().unwrap_or(0);
    // Derived figures are arithmetic on other sources; of the rest, primaries are the majority.
    let sourced = figures["total"].as_u64().unwrap() - count("derived");
    assert!(count("primary") * 2 > sourced, "{figures}");
    let catalog = &v["catalog"];
    let aggregators = catalog["by_standing"]["aggregator"].as_u64().unwrap();
    assert!(
        aggregators * 2 < catalog["total"].as_u64().unwrap(),
        "{catalog}"
    );
}

#[test]
fn catalog_claims_lists_disputed_figures_with_their_range() {
    let out = ok(&["catalog", "claims"]);
    assert!(
        out.contains("system.vera-rubin-nvl144.price_usd: 7,803,148 to 9,100,000 USD"),
        "{out}"
    );
    assert!(out.contains("src-morganstanley-vr-bom"), "{out}");
    let v = json(&[
        "catalog",
        "claims",
        "system.vera-rubin-nvl144.it_power_kw",
        "-f",
        "json",
    ]);
    let q = &v["quantities"][0];
    assert_eq!(q["quantity"], "system.vera-rubin-nvl144.it_power_kw");
    // 120 (low end of 120-130 kW) to 230 (high end of 190-230 kW).
    assert_eq!(q["low"], 120.0);
    assert_eq!(q["high"], 230.0);
    assert!(q["claims"].as_array().unwrap().len() >= 3);
    refuses(
        &["catalog", "claims", "system.vera-rubin-nvl144.price_us"],
        &[
            "no claims for",
            "did you mean `system.vera-rubin-nvl144.price_usd`",
        ],
    );
}
