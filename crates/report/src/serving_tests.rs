//! Tests of the serving fleet renderings (serving.rs).

use super::*;
use engine::infer::SystemServing;

const SCENARIO: &str = "name = \"seed\"\nend = \"2027-06\"\n\
    [[tranche]]\nname = \"one\"\nsystem = \"dgx-h100\"\nsystems = 100\nstart = \"2027-01\"\nbuild_months = 2\nramp_months = 2\n";

fn fleet(model: &str) -> (FleetServing, PlanResult) {
    fleet_with(model, "")
}

/// The fleet view of the seed plan, with `serving` lines added to the traffic.
fn fleet_with(model: &str, serving: &str) -> (FleetServing, PlanResult) {
    let catalog = catalog::Catalog::embedded().expect("embedded catalog loads");
    let plan = engine::plan_text(&catalog, "seed.toml", SCENARIO).expect("plan runs");
    // The traffic as a spec file gives it (a stable, documented format).
    let spec = "model = \"llama3-70b\"\n[cluster]\nsystem = \"dgx-h100\"\n\
        [serving]\ntp = 4\ninput_tokens = 2000\noutput_tokens = 500\nttft_slo_s = 2.0\ntpot_slo_s = 0.05\n";
    let spec = format!("{spec}{serving}");
    let workload = engine::infer::infer_text(&catalog, "serve.toml", &spec)
        .expect("spec runs")
        .workload;
    let precision = engine::train::parse_precision("fp8").unwrap();
    let fleet = engine::infer::fleet_serving(&catalog, &plan, model, workload, precision, 2.0, 5.0)
        .expect("fleet view runs");
    (fleet, plan)
}

/// A fleet whose names carry markup, with a system type that has no layout.
fn hostile() -> (FleetServing, PlanResult) {
    let (mut f, mut plan) = fleet("llama3-70b");
    f.scenario = "Plan <b>& \"co\"".into();
    f.model = "m<script>alert(1)</script>".into();
    f.systems.push(SystemServing {
        system: "rack<x>".into(),
        precision_requested: "fp8".into(),
        precision_served: None,
        output_tokens_per_s_per_gpu: None,
        best: None,
        reason: Some("no 'fp8' & <no> rate".into()),
        traffic: None,
    });
    plan.scenario.description = "Line <one>".into();
    plan.scenario.origin = "o&o.toml".into();
    (f, plan)
}

#[test]
fn csv_has_the_header_and_a_row_per_month() {
    let (f, _) = fleet("llama3-70b");
    let csv = fleet_csv(&f);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], CSV_HEADER);
    assert_eq!(lines.len(), f.timeline.len() + 1);
    for line in &lines[1..] {
        assert_eq!(line.split(',').count(), 6, "{line}");
    }
    // Months before anything is online have no rate per MW and no cost: empty cells.
    let first = lines[1];
    assert!(first.ends_with(",,"), "{first}");
    assert!(lines.last().unwrap().split(',').all(|c| !c.is_empty()));
    assert_eq!(csv_field("a,b"), "\"a,b\"");
}

#[test]
fn html_has_every_part_and_escapes_text() {
    let (f, plan) = hostile();
    let html = fleet_html(&f, &plan, "fp8");
    assert!(html.starts_with("<!doctype html>"));
    assert!(html.ends_with("</html>\n"));
    assert_eq!(
        html.matches("<svg class=\"chart\"").count(),
        3,
        "tokens, cost, decode step"
    );
    assert!(!html.contains("<script"));
    assert!(!html.contains("<b>"));
    assert!(html.contains("m&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(html.contains("Plan &lt;b&gt;&amp; &quot;co&quot;"));
    assert!(html.contains("not computed: no &#39;fp8&#39; &amp; &lt;no&gt; rate"));
    assert!(html.contains("rack&lt;x&gt;"));
    assert!(html.contains("Line &lt;one&gt;"));
    assert!(html.contains("o&amp;o.toml"));
    for section in [
        "traffic", "headline", "charts", "systems", "timeline", "method",
    ] {
        assert!(
            html.contains(&format!("<section id=\"{section}\">")),
            "{section}"
        );
    }
    for text in [
        "Dense GEMM",
        "KV read",
        "TP comm",
        "Launch",
        "Speculative decoding",
        "prefix caching",
        "p99",
        "2 s",
        "50 ms",
    ] {
        assert!(html.contains(text), "{text}");
    }
}

#[test]
fn html_loads_nothing_from_outside_and_is_deterministic() {
    let (f, plan) = hostile();
    let html = fleet_html(&f, &plan, "fp8");
    for forbidden in [
        "<script", "<link", "@import", "url(", "<img", "<iframe", "src=", "http",
    ] {
        assert!(!html.contains(forbidden), "{forbidden}");
    }
    assert_eq!(html, fleet_html(&f, &plan, "fp8"));
    assert!(!html.contains("NaN") && !html.contains("inf<"));
}

#[test]
fn a_moe_model_shows_its_expert_parts() {
    let (f, plan) = fleet("deepseek-v3");
    let best = f.systems[0]
        .best
        .as_ref()
        .expect("DeepSeek V3 serves on DGX H100");
    assert!(best.layout.ep > 1 && best.detail.decode_step.expert_gemm_s > 0.0);
    let html = fleet_html(&f, &plan, "fp8");
    assert!(html.contains("Expert GEMM&nbsp;"), "in the legend");
    assert!(html.contains("EP comm&nbsp;"), "in the legend");
}

#[test]
fn speculation_shows_in_the_traffic_and_the_step() {
    let (f, plan) = fleet_with("llama3-70b", "draft_tokens = 1\nacceptance_rate = 0.85\n");
    let html = fleet_html(&f, &plan, "fp8");
    assert!(
        html.contains("1 drafted token per sequence per step, each accepted with probability 0.85"),
        "traffic"
    );
    assert!(
        html.contains("<th class=\"num\">Drafting</th>"),
        "step table"
    );
    assert!(
        !html.contains("<th class=\"num\">Other</th>"),
        "every part is named"
    );
    let (f, plan) = fleet("llama3-70b");
    let html = fleet_html(&f, &plan, "fp8");
    assert!(html.contains("<dt>Speculative decoding</dt><dd>none</dd>"));
    assert!(!html.contains("<th class=\"num\">Drafting</th>"));
}

#[test]
fn edge_cases_do_not_panic() {
    let (mut f, plan) = hostile();
    for s in &mut f.systems {
        s.best = None;
        s.reason = Some("none".into());
    }
    for r in &mut f.timeline {
        r.output_tokens_per_s = None;
        r.output_tokens_per_s_per_mw = None;
        r.usd_per_million_output_tokens = None;
    }
    let html = fleet_html(&f, &plan, "bf16");
    assert!(html.contains(">unknown<"));
    // Nothing servable: a note instead of two empty charts.
    assert_eq!(html.matches("<svg").count(), 0);
    assert!(html.contains("id=\"no-charts\""));
    f.timeline.truncate(1);
    assert!(fleet_html(&f, &plan, "bf16").ends_with("</html>\n"));
    f.timeline.clear();
    f.systems.clear();
    let html = fleet_html(&f, &plan, "bf16");
    assert!(html.contains("The plan has no months."));
    assert!(html.ends_with("</html>\n"));
    assert_eq!(fleet_csv(&f), format!("{CSV_HEADER}\n"));
}

#[test]
fn numbers_read_like_prose() {
    assert_eq!(count_words(453_507_098.0), "454 million");
    assert_eq!(count_words(453_407_098.0), "453 million");
    assert_eq!(count_words(1_031_930_651.0), "1.03 billion");
    assert_eq!(count_words(33.8e9), "33.8 billion");
    assert_eq!(count_words(644_963.1), "644,963");
    assert_eq!(usd_per_million(0.41458), "$0.415");
    assert_eq!(usd_per_million(2.0153), "$2.02");
    assert_eq!(usd_per_million(12.34), "$12.3");
    assert_eq!(ms(0.042638), "42.6 ms");
    assert_eq!(ms(0.00035), "0.35 ms");
    assert_eq!(target(Some(0.05)), "50 ms");
    assert_eq!(target(Some(2.0)), "2 s");
    assert_eq!(target(None), "none");
    assert_eq!(percentile(99.0), "99");
    assert_eq!(percentile(99.9), "99.9");
    assert_eq!(share(0.029, 0.0426), "68%");
    assert_eq!(share(0.0001, 0.0426), "<1%");
}
