//! A tranche's size: a count of systems, or GW on a basis (`facility_gw`, `it_gw`, `gw` with
//! `basis`, or, with none of these, the live GW of the tranche's catalog `site`).

use std::ops::Range;

use catalog::{GwBasis, PhaseState};
use toml::Spanned;

use super::resolver::Resolver;
use super::MAX_TRANCHE_GW;
use crate::scenario::TrancheSpec;

/// What a tranche asks for.
pub(super) enum Size {
    /// A count of systems.
    Systems(f64),
    /// GW on a basis, taken down the power stack.
    Gw {
        basis: GwBasis,
        gw: f64,
        /// Where the size was written (for "does not power one system"), and its field.
        span: Option<Range<usize>>,
        field: String,
    },
}

const SIZE_HINT: &str = "give exactly one of `facility_gw`, `it_gw`, `gw` (with `basis`) or `systems`, or name a catalog `site` to take its GW";

/// Parses a basis name, as the catalog writes it.
pub(crate) fn parse_basis(text: &str) -> Option<GwBasis> {
    match text {
        "facility" => Some(GwBasis::Facility),
        "it" => Some(GwBasis::It),
        "contracted" => Some(GwBasis::Contracted),
        _ => None,
    }
}

impl Resolver<'_> {
    pub(super) fn resolve_size(
        &mut self,
        label: &str,
        name: &str,
        spec: &TrancheSpec,
    ) -> Option<Size> {
        if let (Some(basis), None) = (&spec.basis, &spec.gw) {
            self.problems.add(
                Some(basis.span()),
                format!("{label}.basis"),
                "`basis` is set without `gw`",
                "`basis` says what `gw` measures: add `gw = N`, or drop `basis`",
            );
            return None;
        }
        let sizes = [
            ("facility_gw", &spec.facility_gw),
            ("it_gw", &spec.it_gw),
            ("gw", &spec.gw),
            ("systems", &spec.systems),
        ];
        let given: Vec<_> = sizes.iter().filter(|(_, v)| v.is_some()).collect();
        if given.is_empty() {
            if let Some(site) = &spec.site {
                return self.site_size(label, site);
            }
        }
        if given.len() != 1 {
            let (message, span) = if given.is_empty() {
                (
                    format!("tranche `{name}` has no size"),
                    spec.system.as_ref().map(Spanned::span),
                )
            } else {
                (
                    format!("tranche `{name}` sets {} sizes", given.len()),
                    given[1].1.as_ref().map(Spanned::span),
                )
            };
            self.problems
                .add(span, format!("{label}.facility_gw"), message, SIZE_HINT);
            return None;
        }
        let (size_key, size) = (
            given[0].0,
            given[0].1.as_ref().expect("filtered to present"),
        );
        let field = format!("{label}.{size_key}");
        let value = size.get_ref().value;
        if size_key == "systems" {
            let ok = self.check(
                size,
                &field,
                value >= 1.0 && value.fract() == 0.0 && value <= 1e9,
                "a whole number of systems from 1 to 1e9",
            );
            return ok.then(|| Size::Systems(self.record_scenario(&field, "systems", size)));
        }
        let basis = match size_key {
            "facility_gw" => GwBasis::Facility,
            "it_gw" => GwBasis::It,
            _ => {
                let Some(basis) = &spec.basis else {
                    self.problems.add(
                        Some(size.span()),
                        format!("{label}.basis"),
                        "`gw` is given without its `basis`",
                        "add `basis = \"facility\"` (grid power), `\"it\"` (what the racks draw) or `\"contracted\"` (a contract's GW, basis unstated)",
                    );
                    return None;
                };
                match parse_basis(basis.get_ref()) {
                    Some(b) => b,
                    None => {
                        self.problems.add(
                            Some(basis.span()),
                            format!("{label}.basis"),
                            format!("`{}` is not a basis", basis.get_ref()),
                            "write `basis = \"facility\"`, `\"it\"` or `\"contracted\"`",
                        );
                        return None;
                    }
                }
            }
        };
        let ok = self.check(
            size,
            &field,
            value > 0.0 && value <= MAX_TRANCHE_GW,
            &format!("greater than 0 and at most {MAX_TRANCHE_GW} GW"),
        );
        let unit = format!("GW ({})", basis.as_str());
        let gw = ok.then(|| self.record_scenario(&field, &unit, size))?;
        Some(Size::Gw {
            basis,
            gw,
            span: Some(size.span()),
            field,
        })
    }

    /// The live (not cancelled) GW of a catalog site, when all its phases share one basis.
    fn site_size(&mut self, label: &str, site_id: &Spanned<String>) -> Option<Size> {
        let catalog = self.catalog;
        // An unknown site was already reported where the site is checked.
        let site = catalog.sites.get(site_id.get_ref())?;
        let field = format!("{label}.site");
        let mut basis = None;
        let mut gw = 0.0;
        for (k, phase) in site.phase.iter().enumerate() {
            if phase.state == PhaseState::Cancelled {
                continue;
            }
            let Some(phase_basis) = phase.basis.as_ref().map(|b| *b.get_ref()) else {
                continue;
            };
            if basis.is_some_and(|b| b != phase_basis) {
                self.problems.add(
                    Some(site_id.span()),
                    field,
                    format!(
                        "site `{}` mixes GW bases across its phases, so its size is ambiguous",
                        site_id.get_ref()
                    ),
                    format!("give the tranche a size: {SIZE_HINT}"),
                );
                return None;
            }
            basis = Some(phase_basis);
            let name = format!("site[{}].phase[{}].gw", site_id.get_ref(), k + 1);
            let unit = format!("GW ({})", phase_basis.as_str());
            gw += self.record_catalog(&name, &unit, &phase.gw).unwrap_or(0.0);
        }
        match basis {
            Some(basis) if gw > 0.0 => Some(Size::Gw {
                basis,
                gw,
                span: Some(site_id.span()),
                field,
            }),
            _ => {
                self.problems.add(
                    Some(site_id.span()),
                    field,
                    format!(
                        "site `{}` has no live GW figure to size the tranche by",
                        site_id.get_ref()
                    ),
                    format!("give the tranche a size: {SIZE_HINT}"),
                );
                None
            }
        }
    }
}
