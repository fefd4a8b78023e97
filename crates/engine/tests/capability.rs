//! The capability view against the other surfaces and its own rules: serving equals
//! `infer fleet` over the same plan and traffic; a capability the models cannot compute is
//! unknown with the reason; retirement and burn-in move capacity as stated.

use engine::capability::serving::reference_workload;
use engine::capability::tables::{SystemTables, TableRequest};
use engine::capability::training::ModelKind;
use engine::capability::CapabilityOptions;

const ONE_SITE: &str = r#"
name = "one GB200 site"
[[tranche]]
name = "site"
system = "gb200-nvl72"
facility_gw = 0.5
start = "2026-01"
ramp_months = 6
[capability]
serving_share = 1
service_life_years = 100
serving_mix = { "llama3-70b" = 1 }
"#;

#[test]
fn serving_is_the_same_number_as_infer_fleet() {
    let catalog = catalog::Catalog::embedded().unwrap();
    let plan = engine::plan_text(&catalog, "one.toml", ONE_SITE).unwrap();
    let fleet = engine::infer::fleet_serving(
        &catalog,
        &plan,
        "llama3-70b",
        reference_workload(),
        perf::Precision::Fp8,
        2.0,
        5.0,
    )
    .unwrap();
    let capability = plan.capability.as_ref().unwrap();
    let mut compared = 0;
    for month in &capability.months {
        let row = fleet
            .timeline
            .iter()
            .find(|r| r.month == month.month.to_string())
            .unwrap();
        let ours = month.serving_tokens_per_day.unwrap();
        let theirs = row.output_tokens_per_day.unwrap();
        assert!(
            (ours - theirs).abs() <= 1e-9 * theirs.max(1.0),
            "{}: capability {ours} infer fleet {theirs}",
            month.month
        );
        compared += usize::from(theirs > 0.0);
    }
    assert!(compared >= 1);
}

#[test]
fn a_run_the_models_cannot_compute_is_unknown_with_the_reason() {
    let catalog = catalog::Catalog::embedded().unwrap();
    let options = CapabilityOptions::default();
    let tables = SystemTables::build(
        &catalog,
        &[TableRequest {
            system: "gb200-nvl72".into(),
            overrides: Vec::new(),
            max_gpus: 1000.0,
        }],
        &options,
    );
    // Fewer accelerators than the smallest tabulated run: unknown, saying so.
    let answer = tables.run("gb200-nvl72", 10.0, ModelKind::Dense);
    assert!(answer.run.is_none());
    assert!(
        answer
            .unknown_reason
            .unwrap()
            .contains("fewer than the smallest run"),
        "a guess was made"
    );
    // A system without a table: unknown, naming it.
    let answer = tables.run("no-such-system", 1e4, ModelKind::Dense);
    assert!(answer.unknown_reason.unwrap().contains("no-such-system"));
    // Inside the table: a run whose compute is 6 x N x 20 N.
    let run = tables
        .run("gb200-nvl72", 900.0, ModelKind::Dense)
        .run
        .unwrap();
    let n = run.active_params;
    assert!((run.compute_flop - 120.0 * n * n).abs() / run.compute_flop < 1e-9);
    assert!(run.gpus_used <= 900.0 && run.goodput > 0.5 && run.mfu > 0.1 && run.mfu < 0.9);
    assert!(run.global_batch_tokens <= run.batch_cap_tokens * 1.000_001);
}

#[test]
fn systems_retire_after_their_service_life_and_burn_in_first() {
    let options = CapabilityOptions {
        service_life_years: 1.0,
        burn_in_months: 3,
        ..CapabilityOptions::default()
    };
    // One tranche: 100 accelerators a month from month 0.
    let cumulative = |_t: usize, j: i64| 100.0 * (j + 1) as f64;
    let at = |i: i64| engine::capability::month_states(1, i, &options, cumulative)[0];
    // Month 5: 600 built, none retired, 300 past burn-in (built by month 2).
    assert_eq!(at(5).online, 600.0);
    assert_eq!(at(5).stable, 300.0);
    // Month 20: 2,100 built, those of months 0-8 retired (900): 1,200 online; stable = built
    // by month 17 (1,800) - 900 = 900.
    assert_eq!(at(20).online, 1200.0);
    assert_eq!(at(20).stable, 900.0);
}

#[test]
fn a_run_spans_sites_only_over_the_scenarios_inter_site_link() {
    let catalog = catalog::Catalog::embedded().unwrap();
    let two_sites = |link: &str| {
        format!(
            r#"
name = "two sites"
[[tranche]]
name = "a"
system = "gb200-nvl72"
site = "abilene"
facility_gw = 0.5
start = "2026-01"
ramp_months = 1
[[tranche]]
name = "b"
system = "gb200-nvl72"
site = "stargate-michigan"
facility_gw = 0.5
start = "2026-01"
ramp_months = 1
{link}
"#
        )
    };
    let last = |text: &str| {
        let plan = engine::plan_text(&catalog, "two.toml", text).unwrap();
        let c = plan.capability.unwrap();
        c.months.last().unwrap().largest_run.clone().unwrap()
    };
    let alone = last(&two_sites(""));
    assert!(
        !alone.cross_site && !alone.site.contains('+'),
        "{}",
        alone.site
    );
    let joined = last(&two_sites("[capability]\ninter_site_gbit_per_s = 1000000"));
    assert!(joined.cross_site, "flagged");
    assert_eq!(joined.site, "abilene+stargate-michigan");
    let (a, j) = (alone.dense.run.unwrap(), joined.dense.run.unwrap());
    // Twice the accelerators, less the exchange over the link: larger, and by well under 2x
    // (compute-optimal size grows with the square root of compute).
    assert!(
        j.params > a.params && j.params < 2.0 * a.params,
        "{} {}",
        a.params,
        j.params
    );
    assert!(
        j.goodput_model.contains("across 2 sites"),
        "{}",
        j.goodput_model
    );
}
