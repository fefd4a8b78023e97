//! Oracle tests: the timeline of small plans checked against hand arithmetic in the comments.

use fleet::{plan, FinancingInput, FinancingRule, FleetInput, PeakFlops, TrancheInput};
use units::Month;

fn month(text: &str) -> Month {
    text.parse().unwrap()
}

fn close(actual: f64, expected: f64) {
    let tolerance = 1e-9 * expected.abs().max(1.0);
    assert!(
        (actual - expected).abs() <= tolerance,
        "got {actual}, expected {expected}"
    );
}

/// 100 systems of 8 chips at 10 kW each, PUE 1.25, ramping over 4 months from 2026-01.
fn small_tranche() -> TrancheInput {
    TrancheInput {
        name: "t".into(),
        accelerator_id: "chip".into(),
        systems: 100,
        accelerators_per_system: 8.0,
        it_power_w_per_system: 10_000.0,
        pue: 1.25,
        start: month("2026-01"),
        ramp_months: 4,
        electricity_usd_per_kwh: 0.10,
        utilization: 0.8,
        price_usd_per_system: 300_000.0,
        networking_capex_fraction: 0.2,
        facility_capex_usd_per_mw: 10e6,
        build_months: 2,
        other_opex_fraction_per_year: 0.03,
        peak_flops_per_accelerator: PeakFlops {
            bf16: Some(1000e12),
            fp8: Some(2000e12),
            fp4: Some(0.0),
        },
        nominal_facility_w: 1.25e6,
    }
}

fn small_plan() -> fleet::Timeline {
    plan(&FleetInput {
        tranches: vec![small_tranche()],
        financing: vec![],
        end: month("2026-06"),
        reference_bf16_flops: 1000e12,
    })
}

#[test]
fn the_timeline_starts_when_construction_does() {
    let timeline = small_plan();
    // Construction of the first online month's MW starts build_months - 1 = 1 month earlier:
    // 2025-12 .. 2026-06 is 7 rows.
    assert_eq!(timeline.rows.len(), 7);
    assert_eq!(timeline.rows[0].month.to_string(), "2025-12");
}

#[test]
fn systems_ramp_linearly_in_whole_systems() {
    let timeline = small_plan();
    let systems: Vec<f64> = timeline.rows.iter().map(|r| r.systems).collect();
    // floor(100 * k / 4) for k = 1..4, then flat: 25, 50, 75, 100, 100, 100.
    assert_eq!(systems, vec![0.0, 25.0, 50.0, 75.0, 100.0, 100.0, 100.0]);
    assert_eq!(timeline.rows[4].accelerators, 800.0);
}

#[test]
fn power_at_full_build() {
    let last = small_plan().rows.pop().unwrap();
    // IT: 100 x 10 kW = 1 MW = 0.001 GW; facility: x 1.25 = 0.00125 GW.
    close(last.it_gw, 0.001);
    close(last.facility_gw, 0.00125);
}

#[test]
fn capex_adds_systems_networking_and_facility() {
    let rows = small_plan().rows;
    let last = rows.last().unwrap();
    // Systems: 100 x $300k = $30M; networking: 20% = $6M;
    // facility: 1.25 MW x $10M/MW = $12.5M; total $48.5M.
    close(last.capex_systems_usd, 30e6);
    close(last.capex_networking_usd, 6e6);
    close(last.capex_facility_usd, 12.5e6);
    close(last.capex_usd, 48.5e6);
    // The first month's 0.3125 MW (25 systems) costs $3.125M of facility, spread over the two
    // build months 2025-12 and 2026-01: $1.5625M in 2025-12, before anything is online.
    close(rows[0].capex_usd_in_month, 1.5625e6);
}

#[test]
fn energy_and_opex_at_full_build() {
    let rows = small_plan().rows;
    let last = rows.last().unwrap();
    // Drawn: 1.25 MW facility x 0.8 utilisation = 1.0 MW; x 8766 h = 8,766 MWh = 0.008766 TWh/yr.
    close(last.energy_twh_per_year, 0.008766);
    // Month: 1.0 MW x 730.5 h = 730,500 kWh x $0.10 = $73,050 of energy;
    // other opex: $48.5M in service x 3% / 12 = $121,250. Sum $194,300.
    close(last.opex_usd_in_month, 73_050.0 + 121_250.0);
}

#[test]
fn h100_equivalents_and_peaks() {
    let last = small_plan().rows.pop().unwrap();
    // 800 chips x 1000 TFLOP/s / 1000 TFLOP/s reference = 800 H100e;
    // fp8: 800 x 2000e12 = 1.6e18 FLOP/s.
    close(last.h100e.unwrap(), 800.0);
    close(last.fp8_dense_flops.unwrap(), 1.6e18);
}

#[test]
fn an_unknown_peak_stays_unknown() {
    let mut tranche = small_tranche();
    tranche.peak_flops_per_accelerator.bf16 = None;
    let timeline = plan(&FleetInput {
        tranches: vec![tranche],
        financing: vec![],
        end: month("2026-06"),
        reference_bf16_flops: 1000e12,
    });
    let last = timeline.rows.last().unwrap();
    assert_eq!(last.h100e, None);
    assert_eq!(last.bf16_dense_flops, None);
    // Before anything is online, nothing is unknown: zero FLOP/s is exact.
    assert_eq!(timeline.rows[0].bf16_dense_flops, Some(0.0));
}

#[test]
fn per_gw_financing_pays_at_each_whole_gw_up_to_the_cap() {
    let tranche = TrancheInput {
        systems: 5,
        it_power_w_per_system: 0.5e9,
        pue: 1.0,
        ramp_months: 5,
        build_months: 1,
        nominal_facility_w: 2.5e9,
        ..small_tranche()
    };
    let timeline = plan(&FleetInput {
        tranches: vec![tranche],
        financing: vec![FinancingInput {
            name: "investor".into(),
            rule: FinancingRule::PerGwDeployed {
                usd_per_gw: 10e9,
                max_usd: 15e9,
                tranches: vec![0],
            },
        }],
        end: month("2026-06"),
        reference_bf16_flops: 1000e12,
    });
    let paid: Vec<f64> = timeline
        .rows
        .iter()
        .map(|r| r.financing_usd_in_month)
        .collect();
    // Deployed GW by month: 0.5, 1.0, 1.5, 2.0, 2.5, 2.5. Whole GW crossed in Feb (1st) and
    // Apr (2nd); the 2nd payment is capped at $15B - $10B = $5B.
    assert_eq!(paid, vec![0.0, 10e9, 0.0, 5e9, 0.0, 0.0]);
    close(timeline.rows.last().unwrap().financing_usd, 15e9);
}

#[test]
fn a_lump_sum_lands_in_its_month() {
    let timeline = plan(&FleetInput {
        tranches: vec![small_tranche()],
        financing: vec![FinancingInput {
            name: "equity".into(),
            rule: FinancingRule::Lump {
                month: month("2026-02"),
                usd: 30e9,
            },
        }],
        end: month("2026-06"),
        reference_bf16_flops: 1000e12,
    });
    let feb = timeline
        .rows
        .iter()
        .find(|r| r.month.to_string() == "2026-02")
        .unwrap();
    close(feb.financing_usd_in_month, 30e9);
}

#[test]
fn tranche_totals_match_the_full_build() {
    let timeline = small_plan();
    let totals = &timeline.tranches[0];
    assert_eq!(totals.full.to_string(), "2026-04");
    close(totals.capex_usd, 48.5e6);
    close(totals.h100e.unwrap(), 800.0);
}
