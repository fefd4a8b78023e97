//! The portfolio file's `as_of` month: capacity the plan has online by then is delivered,
//! so certain; only what comes after keeps its deal's uncertainty.

use fleet::{FinancingRule, FleetInput};
use toml::Spanned;
use units::Month;

use super::Ctx;

/// Capacity already delivered by `as_of` is certain: splits each tranche of `fleet` there.
/// Returns each tranche's deal after the split (unchanged without `as_of`), or `None`, the
/// problem recorded, when `as_of` is not a month.
pub(super) fn split(
    ctx: &mut Ctx,
    as_of: Option<&Spanned<String>>,
    fleet: &mut FleetInput,
    tranche_deal: Vec<Option<usize>>,
) -> Option<Vec<Option<usize>>> {
    let Some(as_of) = as_of else {
        return Some(tranche_deal);
    };
    match as_of.get_ref().parse::<Month>() {
        Ok(month) => {
            let (split, deals) = split_delivered(fleet.clone(), &tranche_deal, month);
            *fleet = split;
            Some(deals)
        }
        Err(e) => {
            ctx.problems.add(
                Some(as_of.span()),
                "as_of",
                e.to_string(),
                "write the month as YYYY-MM, e.g. \"2026-11\"",
            );
            None
        }
    }
}

/// Splits every tranche at `as_of`: the systems the plan has online by then become a certain
/// tranche (no deal) ramping from the original start to `as_of`; the rest keeps the deal and
/// ramps over the remaining months from the month after. Per-GW financing counts both parts.
fn split_delivered(
    fleet: FleetInput,
    tranche_deal: &[Option<usize>],
    as_of: Month,
) -> (FleetInput, Vec<Option<usize>>) {
    let mut tranches = Vec::with_capacity(fleet.tranches.len() * 2);
    let mut deals = Vec::with_capacity(fleet.tranches.len() * 2);
    let mut new_index: Vec<Vec<usize>> = Vec::with_capacity(fleet.tranches.len());
    for (t, tranche) in fleet.tranches.iter().enumerate() {
        let delivered = tranche.systems_online(as_of) as u64;
        let mut indices = Vec::new();
        if delivered == 0 || tranche_deal[t].is_none() {
            indices.push(tranches.len());
            tranches.push(tranche.clone());
            deals.push(tranche_deal[t]);
            new_index.push(indices);
            continue;
        }
        let share = delivered as f64 / tranche.systems.max(1) as f64;
        let months_to_as_of = (as_of.months_since(tranche.start) + 1).max(1) as u32;
        let mut done = tranche.clone();
        done.name = format!("{} (delivered by {as_of})", tranche.name);
        done.systems = delivered;
        done.ramp_months = months_to_as_of.min(tranche.ramp_months.max(1));
        done.nominal_facility_w = tranche.nominal_facility_w * share;
        indices.push(tranches.len());
        tranches.push(done);
        deals.push(None);
        if delivered < tranche.systems {
            let mut rest = tranche.clone();
            rest.systems = tranche.systems - delivered;
            rest.start = as_of.plus(1);
            rest.ramp_months = tranche.ramp_months.saturating_sub(months_to_as_of).max(1);
            rest.nominal_facility_w = tranche.nominal_facility_w * (1.0 - share);
            indices.push(tranches.len());
            tranches.push(rest);
            deals.push(tranche_deal[t]);
        }
        new_index.push(indices);
    }
    let financing = fleet
        .financing
        .into_iter()
        .map(|mut f| {
            if let FinancingRule::PerGwDeployed {
                tranches: members, ..
            } = &mut f.rule
            {
                *members = members
                    .iter()
                    .flat_map(|&t| new_index[t].iter().copied())
                    .collect();
            }
            f
        })
        .collect();
    (
        FleetInput {
            tranches,
            financing,
            ..fleet
        },
        deals,
    )
}

#[cfg(test)]
mod as_of_tests {
    use super::*;
    use fleet::{PeakFlops, TrancheInput};

    #[test]
    fn splitting_at_as_of_keeps_the_planned_ramp() {
        // 10 systems over 10 months from 2026-01; as of 2026-04 the plan has floor(10 x 4 / 10)
        // = 4 online. Delivered: 4 over 4 months (k per month, as planned); the rest: 6 from
        // 2026-05 over the remaining 6 months, so month 4 + j has 4 + j online, as planned.
        let start: Month = "2026-01".parse().unwrap();
        let tranche = TrancheInput {
            name: "t".into(),
            accelerator_id: "chip".into(),
            systems: 10,
            accelerators_per_system: 8.0,
            it_power_w_per_system: 1e4,
            pue: 1.2,
            start,
            ramp_months: 10,
            electricity_usd_per_kwh: 0.08,
            utilization: 0.7,
            price_usd_per_system: 1e5,
            networking_capex_fraction: 0.2,
            facility_capex_usd_per_mw: 1e7,
            build_months: 6,
            other_opex_fraction_per_year: 0.01,
            peak_flops_per_accelerator: PeakFlops::default(),
            nominal_facility_w: 1.2e5,
        };
        let fleet = FleetInput {
            tranches: vec![tranche.clone()],
            financing: vec![],
            end: "2027-06".parse().unwrap(),
            reference_bf16_flops: 1e15,
        };
        let (split, deals) = split_delivered(fleet, &[Some(0)], "2026-04".parse().unwrap());
        assert_eq!(deals, vec![None, Some(0)]);
        assert_eq!(
            (split.tranches[0].systems, split.tranches[1].systems),
            (4, 6)
        );
        for k in 0..14 {
            let month = start.plus(k);
            let total: f64 = split.tranches.iter().map(|t| t.systems_online(month)).sum();
            assert_eq!(total, tranche.systems_online(month), "month {month}");
        }
        assert!(
            (split.tranches[0].nominal_facility_w + split.tranches[1].nominal_facility_w - 1.2e5)
                .abs()
                < 1e-6
        );
    }
}
