//! The portfolio file's `[[driver]]` entries: the shared drivers (power and grid, packaging
//! and HBM, the buyer's financing) that correlate the deals listing them.

use engine::ScenarioNumber;

use super::Ctx;
use crate::file::DriverSpec;
use crate::model::Driver;

/// Checks each driver (unique id, weight in [0, 1], a known source) and records its weight as
/// an assumption; returns them in file order, the order deals' `drivers` index into.
pub(super) fn resolve(ctx: &mut Ctx, specs: &[DriverSpec]) -> Vec<Driver> {
    let mut drivers: Vec<Driver> = Vec::new();
    for (i, spec) in specs.iter().enumerate() {
        let field = format!("driver[{}]", i + 1);
        let id = spec.id.get_ref().clone();
        if drivers.iter().any(|d| d.id == id) {
            ctx.problems.add(
                Some(spec.id.span()),
                format!("{field}.id"),
                format!("driver `{id}` is defined twice"),
                "give each [[driver]] its own id",
            );
        }
        let weight: &ScenarioNumber = spec.weight.get_ref();
        let weight_field = format!("{field}.weight");
        if !(0.0..=1.0).contains(&weight.value) {
            ctx.problems.add(
                Some(spec.weight.span()),
                &weight_field,
                format!("weight {} is outside [0, 1]", weight.value),
                "a driver's weight is the share of a deal's uncertainty it explains: 0 (none) to 1 (all)",
            );
        }
        let source = ctx.source(weight.source.as_deref(), spec.weight.span(), &weight_field);
        ctx.record(
            format!("driver[{id}].weight"),
            weight.value,
            "share of variance",
            source,
            weight.note.clone().or_else(|| spec.note.clone()),
        );
        drivers.push(Driver {
            id,
            weight: weight.value,
            note: spec.note.clone(),
        });
    }
    drivers
}
