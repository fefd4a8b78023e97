//! The facility defaults (`[facility]`, possibly spread over several files and layers): each
//! required figure present and within its bound, the reference accelerator known and rated.
//! Split out of `load.rs`, which gathers and validates everything else.

use crate::checker::{Bound, Checker};
use crate::diagnostic::{nearest, Diagnostic};
use crate::load::{CatalogText, Gathered};
use crate::{Facility, Sourced};

pub(crate) fn validate_facility(
    gathered: &Gathered,
    check: &mut Checker<'_>,
    files: &[&CatalogText],
) -> Option<Facility> {
    let defaults = &gathered.facility;
    let last_file = files.len().saturating_sub(1);
    let file_of = |name: &str| {
        gathered
            .facility_file
            .get(name)
            .copied()
            .unwrap_or(last_file)
    };
    let mut complete = true;
    let mut required = |check: &mut Checker<'_>,
                        name: &'static str,
                        value: &Option<Sourced<f64>>,
                        bound: Bound|
     -> Sourced<f64> {
        match value {
            Some(value) => {
                check.number(file_of(name), format!("facility.{name}"), value, bound);
                value.clone()
            }
            None => {
                complete = false;
                let d = Diagnostic::new(
                    files.first().map_or("<catalog>", |f| f.name.as_str()),
                    format!("no catalog file sets the facility default `{name}`"),
                )
                .field(format!("facility.{name}"))
                .hint(format!(
                    "add `{name} = {{ value = .., source = \"..\" }}` to a [facility] table"
                ));
                check.problems.push(d);
                Sourced::Unknown(String::new())
            }
        }
    };
    let pue = required(check, "pue", &defaults.pue, Bound::Between(1.0, 3.0));
    let pue_air = required(
        check,
        "pue_air",
        &defaults.pue_air,
        Bound::Between(1.0, 3.0),
    );
    let non_accelerator_it_share = required(
        check,
        "non_accelerator_it_share",
        &defaults.non_accelerator_it_share,
        Bound::Between(0.0, 0.9),
    );
    let design_headroom = required(
        check,
        "design_headroom",
        &defaults.design_headroom,
        Bound::Between(0.0, 0.9),
    );
    let contracted_it_fraction = required(
        check,
        "contracted_it_fraction",
        &defaults.contracted_it_fraction,
        Bound::UpTo(1.0),
    );
    let capex_usd_per_mw = required(
        check,
        "capex_usd_per_mw",
        &defaults.capex_usd_per_mw,
        Bound::NonNegative,
    );
    let build_months = required(
        check,
        "build_months",
        &defaults.build_months,
        Bound::Between(0.0, 120.0),
    );
    // Optional: quick plans ramp at once without it.
    if let Some(ramp) = &defaults.ramp_months {
        check.number(
            file_of("ramp_months"),
            "facility.ramp_months".into(),
            ramp,
            Bound::Between(0.0, 240.0),
        );
    }
    let ramp_months = defaults.ramp_months.clone();
    let electricity_usd_per_kwh = required(
        check,
        "electricity_usd_per_kwh",
        &defaults.electricity_usd_per_kwh,
        Bound::Between(0.0, 2.0),
    );
    let utilization = required(
        check,
        "utilization",
        &defaults.utilization,
        Bound::UpTo(1.0),
    );
    let networking_capex_fraction = required(
        check,
        "networking_capex_fraction",
        &defaults.networking_capex_fraction,
        Bound::Between(0.0, 1.0),
    );
    let other_opex_fraction_per_year = required(
        check,
        "other_opex_fraction_per_year",
        &defaults.other_opex_fraction_per_year,
        Bound::Between(0.0, 1.0),
    );
    let reference_accelerator = match &defaults.reference_accelerator {
        Some(id) => {
            let file = file_of("reference_accelerator");
            match gathered.accelerators.get(id.get_ref()) {
                Some(a) if a.item.bf16_dense_tflops.number().is_some() => {
                    Some(id.get_ref().clone())
                }
                Some(_) => {
                    check.error(
                        file,
                        Some(id.span()),
                        "facility.reference_accelerator".into(),
                        format!("`{}` has no known dense bf16 figure", id.get_ref()),
                        "H100-equivalents need a reference accelerator with a known bf16_dense_tflops",
                    );
                    None
                }
                None => {
                    let mut d = check.diag(
                        file,
                        Some(id.span()),
                        "facility.reference_accelerator".into(),
                        format!("unknown accelerator `{}`", id.get_ref()),
                    );
                    if let Some(near) = nearest(
                        id.get_ref(),
                        gathered.accelerators.keys().map(String::as_str),
                    ) {
                        d = d.hint(format!("did you mean `{near}`?"));
                    }
                    check.problems.push(d);
                    None
                }
            }
        }
        None => {
            let d = Diagnostic::new(
                files.first().map_or("<catalog>", |f| f.name.as_str()),
                "no catalog file sets the facility default `reference_accelerator`",
            )
            .field("facility.reference_accelerator")
            .hint("add `reference_accelerator = \"h100-sxm\"` to a [facility] table");
            check.problems.push(d);
            None
        }
    };
    if !complete {
        return None;
    }
    Some(Facility {
        pue,
        pue_air,
        non_accelerator_it_share,
        design_headroom,
        contracted_it_fraction,
        capex_usd_per_mw,
        build_months,
        ramp_months,
        electricity_usd_per_kwh,
        utilization,
        networking_capex_fraction,
        other_opex_fraction_per_year,
        reference_accelerator: reference_accelerator?,
    })
}
