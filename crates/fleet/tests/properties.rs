//! Invariants of the buildout model over random plans.

use fleet::{plan, FleetInput, PeakFlops, TrancheInput};
use proptest::prelude::*;
use units::Month;

fn tranche_strategy() -> impl Strategy<Value = TrancheInput> {
    (
        1u64..5000,
        1u32..73,
        1e3f64..300e3,
        1.0f64..2.0,
        0u32..30,
        0u32..36,
        0u32..40,
        0.1f64..1.0,
    )
        .prop_map(
            |(systems, per_system, power, pue, start, ramp, build, utilization)| TrancheInput {
                name: "t".into(),
                accelerator_id: "chip".into(),
                systems,
                accelerators_per_system: per_system as f64,
                it_power_w_per_system: power,
                pue,
                start: Month::new(2026, 1).unwrap().plus(start as i32),
                ramp_months: ramp,
                electricity_usd_per_kwh: 0.08,
                utilization,
                price_usd_per_system: 1e6,
                networking_capex_fraction: 0.15,
                facility_capex_usd_per_mw: 10e6,
                build_months: build,
                other_opex_fraction_per_year: 0.02,
                peak_flops_per_accelerator: PeakFlops {
                    bf16: Some(1e15),
                    fp8: Some(2e15),
                    fp4: None,
                },
                nominal_facility_w: systems as f64 * power * pue,
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn stocks_never_fall_and_never_exceed_the_build(tranches in prop::collection::vec(tranche_strategy(), 1..5)) {
        let total_systems: f64 = tranches.iter().map(|t| t.systems as f64).sum();
        let input = FleetInput {
            tranches,
            financing: vec![],
            end: Month::new(2031, 12).unwrap(),
            reference_bf16_flops: 1e15,
        };
        let timeline = plan(&input);
        let mut previous = None::<&fleet::MonthRow>;
        for row in &timeline.rows {
            prop_assert!(row.systems <= total_systems);
            if let Some(p) = previous {
                prop_assert!(row.systems >= p.systems);
                prop_assert!(row.capex_usd >= p.capex_usd);
                prop_assert!(row.energy_twh >= p.energy_twh);
                prop_assert!(row.month > p.month);
            }
            previous = Some(row);
        }
        // Every plan here is fully built by 2031-12, so all systems are online at the end.
        prop_assert_eq!(timeline.rows.last().unwrap().systems, total_systems);
    }

    #[test]
    fn cumulative_fields_are_the_sum_of_monthly_flows(tranches in prop::collection::vec(tranche_strategy(), 1..4)) {
        let input = FleetInput {
            tranches,
            financing: vec![],
            end: Month::new(2031, 12).unwrap(),
            reference_bf16_flops: 1e15,
        };
        let timeline = plan(&input);
        let capex: f64 = timeline.rows.iter().map(|r| r.capex_usd_in_month).sum();
        let opex: f64 = timeline.rows.iter().map(|r| r.opex_usd_in_month).sum();
        let last = timeline.rows.last().unwrap();
        prop_assert!((capex - last.capex_usd).abs() <= 1e-6 * last.capex_usd.max(1.0));
        prop_assert!((opex - last.opex_usd).abs() <= 1e-6 * last.opex_usd.max(1.0));
        // Fully built and fully paid: capex equals the tranches' totals.
        let expected: f64 = timeline.tranches.iter().map(|t| t.capex_usd).sum();
        prop_assert!((last.capex_usd - expected).abs() <= 1e-6 * expected);
    }

    #[test]
    fn facility_power_is_it_power_times_pue(tranche in tranche_strategy()) {
        let pue = tranche.pue;
        let input = FleetInput {
            tranches: vec![tranche],
            financing: vec![],
            end: Month::new(2031, 12).unwrap(),
            reference_bf16_flops: 1e15,
        };
        for row in plan(&input).rows {
            prop_assert!((row.facility_gw - row.it_gw * pue).abs() <= 1e-12 + 1e-9 * row.facility_gw);
        }
    }
}
