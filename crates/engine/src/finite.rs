//! The last guard on a plan: every number it reports is finite. Inputs are bounded where they
//! are read (a scenario number over [`MAX_SCENARIO_NUMBER`] is refused), but a product of
//! several large inputs can still overflow to infinity, or a difference of infinities give NaN;
//! a plan never prints `$inf` or `null` for them. It is an input error instead, naming the
//! first output that is not finite and the largest inputs, which are what to check.

use catalog::{Diagnostic, Diagnostics};

use crate::{EngineError, PlanResult};

/// Largest magnitude a scenario number may have: far above any real figure (a trillion-dollar
/// deal is 1e12 USD) and far enough below f64's range (1.8e308) that sums and products of a
/// plan's inputs stay finite.
pub const MAX_SCENARIO_NUMBER: f64 = 1e15;

/// An input error if any reported number of `result` is NaN or infinite.
pub(crate) fn check_plan(result: &PlanResult, origin: &str) -> Result<(), EngineError> {
    let Some(field) = first_non_finite(result) else {
        return Ok(());
    };
    let mut inputs: Vec<_> = result.assumptions.iter().collect();
    inputs.sort_by(|a, b| b.value.abs().total_cmp(&a.value.abs()));
    let named = if inputs.is_empty() {
        "the plan's inputs".to_string()
    } else {
        inputs
            .iter()
            .take(3)
            .map(|a| format!("{} = {:e} {}", a.name, a.value, a.unit))
            .collect::<Vec<_>>()
            .join(", ")
    };
    Err(EngineError::Invalid(Diagnostics(vec![Diagnostic::new(
        origin,
        format!("the plan's `{field}` is not a finite number: the arithmetic overflowed"),
    )
    .field(field.clone())
    .hint(format!(
        "an input is far too large; the largest are {named}: give realistic values"
    ))])))
}

/// Sampled ranges are finite too: a draw that overflowed names its output.
pub(crate) fn check_ranges(
    ranges: &crate::ranges::Ranges,
    origin: &str,
) -> Result<(), EngineError> {
    let bad = ranges
        .headlines
        .iter()
        .chain(&ranges.final_row)
        .find(|(_, s)| !(s.p10.is_finite() && s.p50.is_finite() && s.p90.is_finite()));
    match bad {
        None => Ok(()),
        Some((name, _)) => Err(EngineError::Invalid(Diagnostics(vec![Diagnostic::new(
            origin,
            format!("the range of `{name}` is not a finite number: the arithmetic overflowed"),
        )
        .field(format!("ranges.{name}"))
        .hint("a catalog range is far too wide: give realistic `low`/`high` values")]))),
    }
}

/// The first reported number that is not finite, as `timeline[2027-03].capex_usd`.
fn first_non_finite(result: &PlanResult) -> Option<String> {
    for row in &result.timeline {
        let fields = [
            ("facility_gw", row.facility_gw),
            ("it_gw", row.it_gw),
            ("systems", row.systems),
            ("accelerators", row.accelerators),
            ("capex_usd", row.capex_usd),
            ("capex_usd_in_month", row.capex_usd_in_month),
            ("capex_systems_usd", row.capex_systems_usd),
            ("capex_networking_usd", row.capex_networking_usd),
            ("capex_facility_usd", row.capex_facility_usd),
            ("opex_usd", row.opex_usd),
            ("opex_usd_in_month", row.opex_usd_in_month),
            ("opex_energy_usd", row.opex_energy_usd),
            ("opex_other_usd", row.opex_other_usd),
            ("spend_usd", row.spend_usd),
            ("energy_twh_per_year", row.energy_twh_per_year),
            ("energy_twh", row.energy_twh),
            ("financing_usd", row.financing_usd),
            ("financing_usd_in_month", row.financing_usd_in_month),
        ];
        let by_type = row
            .accelerators_by_type
            .iter()
            .map(|(k, v)| (k.as_str(), *v));
        let h100e = row.h100e.map(|v| ("h100e", v));
        for (name, value) in fields.into_iter().chain(by_type).chain(h100e) {
            if !value.is_finite() {
                return Some(format!("timeline[{}].{name}", row.month));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use catalog::Catalog;

    fn plan(facility_gw: &str, extra: &str) -> Result<crate::PlanResult, String> {
        let text = format!(
            "name = \"x\"\n{extra}[[tranche]]\nsystem = \"gb200-nvl72\"\nfacility_gw = {facility_gw}\nstart = \"2026-01\"\n"
        );
        let catalog = Catalog::embedded().unwrap();
        crate::plan_text(&catalog, "big.toml", &text).map_err(|e| e.to_string())
    }

    #[test]
    fn numbers_too_large_to_compute_with_are_refused_where_they_are_read() {
        let err = plan(
            "1.0",
            "[overrides.accelerator.gb200]\nbf16_dense_tflops = 1e308\n",
        )
        .unwrap_err();
        assert!(
            err.contains("bf16_dense_tflops") && err.contains("too large"),
            "{err}"
        );
        assert!(!err.contains("inf"), "{err}");
    }

    #[test]
    fn every_reported_number_of_a_plan_is_finite() {
        // Large but accepted inputs give finite results.
        let result = plan("1000", "").unwrap();
        assert!(super::first_non_finite(&result).is_none());
        // The guard itself: a non-finite output is an error naming it and the largest inputs.
        let mut broken = result.clone();
        broken.timeline[3].capex_usd = f64::INFINITY;
        let err = super::check_plan(&broken, "big.toml")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("timeline[") && err.contains("capex_usd"),
            "{err}"
        );
        assert!(
            err.contains("the largest are") && err.contains(" = "),
            "the largest inputs are named: {err}"
        );
    }
}
