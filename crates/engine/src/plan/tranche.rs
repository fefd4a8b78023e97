//! One tranche: its system's figures (or the scenario's overrides), the facility settings, its
//! timing and its size, resolved into the fleet model's `TrancheInput`.

use catalog::{HeadlinePrecision as Precision, Sourced, System};
use fleet::{PeakFlops, TrancheInput};
use toml::Spanned;
use units::{Month, FLOPS_PER_TFLOPS, W_PER_GW, W_PER_KW};

use super::not_yet_public;
use super::resolver::{Resolver, TrancheIds};
use super::size::Size;
use crate::power_stack::{self, StackFigures};
use crate::scenario::TrancheSpec;

impl Resolver<'_> {
    pub(super) fn resolve_tranche(
        &mut self,
        index: usize,
        name: &str,
        spec: &TrancheSpec,
    ) -> Option<(TrancheInput, TrancheIds)> {
        let label = format!("tranche[{}]", index + 1);
        let catalog = self.catalog;
        let scenario = self.scenario;
        let defaults = &scenario.defaults;
        let facility = &catalog.facility;

        let deal = match &spec.deal {
            Some(deal) if !catalog.deals.contains_key(deal.get_ref()) => {
                let hint = match catalog.nearest_deal(deal.get_ref()) {
                    Some(near) => {
                        format!("did you mean `{near}`? `gigawatt catalog list` shows every deal")
                    }
                    None => "`gigawatt catalog list` shows every deal".to_string(),
                };
                let (message, hint) = not_yet_public(catalog, deal.get_ref())
                    .unwrap_or_else(|| (format!("unknown deal `{}`", deal.get_ref()), hint));
                self.problems
                    .add(Some(deal.span()), format!("{label}.deal"), message, hint);
                None
            }
            Some(deal) => {
                self.deals_used.insert(deal.get_ref().clone());
                Some(deal.get_ref().clone())
            }
            None => None,
        };
        if let Some(site) = &spec.site {
            if !catalog.sites.contains_key(site.get_ref()) {
                let hint = match catalog::nearest(
                    site.get_ref(),
                    catalog.sites.keys().map(String::as_str),
                ) {
                    Some(near) => format!("did you mean `{near}`? `gigawatt catalog list --kind sites` shows every site"),
                    None => "`gigawatt catalog list --kind sites` shows every site".to_string(),
                };
                self.problems.add(
                    Some(site.span()),
                    format!("{label}.site"),
                    format!("unknown site `{}`", site.get_ref()),
                    hint,
                );
            }
        }

        let Some(system_id) = &spec.system else {
            self.problems.add(
                None,
                format!("{label}.system"),
                format!("tranche `{name}` names no system"),
                "add `system = \"<id>\"`; `gigawatt catalog list` shows every system",
            );
            return None;
        };
        let Some(system) = catalog.systems.get(system_id.get_ref()) else {
            let hint = self.system_hint(system_id.get_ref());
            self.problems.add(
                Some(system_id.span()),
                format!("{label}.system"),
                format!("unknown system `{}`", system_id.get_ref()),
                hint,
            );
            return None;
        };
        let sid = system_id.get_ref().clone();
        let system_override = scenario.overrides.system.get(&sid);

        let power_kw = match system_override.and_then(|o| o.it_power_kw.as_ref()) {
            Some(v) => {
                let field = format!("overrides.system.{sid}.it_power_kw");
                let x = v.get_ref().value;
                if !self.check(
                    v,
                    &field,
                    x > 0.0 && x <= 10_000.0,
                    "greater than 0 and at most 10,000 kW (10 MW) per system",
                ) {
                    return None;
                }
                Some(self.record_scenario(&field, "kW per system", v))
            }
            None => self.record_catalog(
                &format!("system[{sid}].it_power_kw"),
                "kW per system",
                &system.it_power_kw,
            ),
        };
        let Some(power_kw) = power_kw else {
            self.missing_system_figure(
                system_id,
                &label,
                system,
                "it_power_kw",
                &system.it_power_kw,
                &format!(
                    "[overrides.system.{sid}]\nit_power_kw = {{ value = .., source = \"..\" }}"
                ),
            );
            return None;
        };
        let per_system = match system_override.and_then(|o| o.accelerators_per_system.as_ref()) {
            Some(v) => {
                let field = format!("overrides.system.{sid}.accelerators_per_system");
                let x = v.get_ref().value;
                if !self.check(
                    v,
                    &field,
                    x >= 1.0 && x.fract() == 0.0 && x <= 1_000_000.0,
                    "a whole number from 1 to 1,000,000",
                ) {
                    return None;
                }
                Some(self.record_scenario(&field, "accelerators per system", v))
            }
            None => self.record_catalog(
                &format!("system[{sid}].accelerators_per_system"),
                "accelerators per system",
                &system.accelerators_per_system,
            ),
        };
        let Some(per_system) = per_system else {
            self.missing_system_figure(system_id, &label, system, "accelerators_per_system", &system.accelerators_per_system, &format!("[overrides.system.{sid}]\naccelerators_per_system = {{ value = .., source = \"..\" }}"));
            return None;
        };
        let price = match scenario.prices.get(&sid) {
            Some(v) => {
                let field = format!("prices.{sid}");
                let x = v.get_ref().value;
                if !self.check(
                    v,
                    &field,
                    x > 0.0 && x <= 1e11,
                    "greater than 0 and at most $100B per system",
                ) {
                    return None;
                }
                Some(self.record_scenario(&field, "USD per system", v))
            }
            None => self.record_catalog(
                &format!("system[{sid}].price_usd"),
                "USD per system",
                &system.price_usd,
            ),
        };
        let Some(price) = price else {
            self.missing_system_figure(
                system_id,
                &label,
                system,
                "price_usd",
                &system.price_usd,
                &format!("[prices]\n\"{sid}\" = {{ value = .., source = \"..\" }}"),
            );
            return None;
        };

        let accelerator = catalog.accelerator_of(system);
        let aid = accelerator.id.get_ref().clone();
        let accelerator_override = scenario.overrides.accelerator.get(&aid);
        let mut peaks = [None; 3];
        for (k, precision) in Precision::ALL.into_iter().enumerate() {
            let key = format!("{}_dense_tflops", precision.as_str());
            let own = accelerator_override.and_then(|o| match precision {
                Precision::Bf16 => o.bf16_dense_tflops.as_ref(),
                Precision::Fp8 => o.fp8_dense_tflops.as_ref(),
                Precision::Fp4 => o.fp4_dense_tflops.as_ref(),
            });
            peaks[k] = match own {
                Some(v) => {
                    let field = format!("overrides.accelerator.{aid}.{key}");
                    self.check(v, &field, v.get_ref().value > 0.0, "greater than zero")
                        .then(|| self.record_scenario(&field, "TFLOP/s", v) * FLOPS_PER_TFLOPS)
                }
                None => match accelerator.dense_tflops(precision) {
                    Sourced::NotApplicable(_) => Some(0.0),
                    Sourced::Unknown(reason) => {
                        let warning = format!(
                            "{} dense {} peak is unknown ({reason}): {} totals exclude nothing and are reported as unknown{}; to supply it, add [overrides.accelerator.{aid}] {key} = {{ value = .., source = \"..\" }}",
                            accelerator.name,
                            precision.as_str(),
                            precision.as_str(),
                            if precision == Precision::Bf16 { ", and so are H100-equivalents" } else { "" },
                        );
                        if !self.warnings.contains(&warning) {
                            self.warnings.push(warning);
                        }
                        None
                    }
                    known => self
                        .record_catalog(&format!("accelerator[{aid}].{key}"), "TFLOP/s", known)
                        .map(|t| t * FLOPS_PER_TFLOPS),
                },
            };
        }

        // PUE by cooling: the tranche's or the scenario's own, else the catalog's figure for
        // the system's cooling (liquid unless the system says air).
        let air_cooled = system
            .cooling
            .as_ref()
            .is_some_and(|c| *c.get_ref() == catalog::Cooling::Air);
        let pue = if spec.pue.is_some() || defaults.pue.is_some() {
            self.setting(
                &label,
                "pue",
                "facility W per IT W",
                spec.pue.as_ref(),
                defaults.pue.as_ref(),
                None,
                |x| (1.0..=3.0).contains(&x),
                "between 1 and 3 (facility power / IT power)",
            )
        } else if air_cooled {
            self.record_catalog(
                "facility.pue_air",
                "facility W per IT W (air-cooled)",
                &facility.pue_air,
            )
        } else {
            self.record_catalog(
                "facility.pue",
                "facility W per IT W (liquid-cooled)",
                &facility.pue,
            )
        };
        let non_accelerator_share = self.record_catalog(
            "facility.non_accelerator_it_share",
            "fraction of critical IT (network, storage, CPU, management)",
            &facility.non_accelerator_it_share,
        );
        let electricity = self.setting(
            &label,
            "electricity_usd_per_kwh",
            "USD/kWh",
            spec.electricity_usd_per_kwh.as_ref(),
            defaults.electricity_usd_per_kwh.as_ref(),
            Some(&facility.electricity_usd_per_kwh),
            |x| (0.0..=2.0).contains(&x),
            "between 0 and 2 USD per kWh",
        );
        let utilization = self.setting(
            &label,
            "utilization",
            "fraction of nameplate IT power",
            spec.utilization.as_ref(),
            defaults.utilization.as_ref(),
            Some(&facility.utilization),
            |x| x > 0.0 && x <= 1.0,
            "greater than 0 and at most 1",
        );
        let build_months = self.setting(
            &label,
            "build_months",
            "months",
            spec.build_months.as_ref(),
            defaults.build_months.as_ref(),
            Some(&facility.build_months),
            |x| (0.0..=120.0).contains(&x) && x.fract() == 0.0,
            "a whole number of months from 0 to 120",
        );
        let capex_per_mw = self.setting(
            &label,
            "facility_capex_usd_per_mw",
            "USD per MW of facility power",
            None,
            defaults.facility_capex_usd_per_mw.as_ref(),
            Some(&facility.capex_usd_per_mw),
            |x| x >= 0.0,
            "zero or more",
        );
        let networking = self.setting(
            &label,
            "networking_capex_fraction",
            "fraction of systems capex",
            None,
            defaults.networking_capex_fraction.as_ref(),
            Some(&facility.networking_capex_fraction),
            |x| (0.0..=1.0).contains(&x),
            "between 0 and 1",
        );
        let other_opex = self.setting(
            &label,
            "other_opex_fraction_per_year",
            "fraction of capex per year",
            None,
            defaults.other_opex_fraction_per_year.as_ref(),
            Some(&facility.other_opex_fraction_per_year),
            |x| (0.0..=1.0).contains(&x),
            "between 0 and 1",
        );

        let start = match &spec.start {
            Some(start) => self.month(start, &format!("{label}.start")),
            None => {
                self.problems.add(
                    None,
                    format!("{label}.start"),
                    format!("tranche `{name}` has no start month"),
                    "add `start = \"YYYY-MM\"`, the first month any of it is online",
                );
                None
            }
        };
        let ramp = match (&spec.ramp_months, &spec.full_by) {
            (Some(_), Some(full_by)) => {
                self.problems.add(
                    Some(full_by.span()),
                    format!("{label}.full_by"),
                    "both `ramp_months` and `full_by` are set",
                    "keep one: `ramp_months` (a count) or `full_by` (the month it is fully online)",
                );
                None
            }
            (Some(ramp), None) => {
                let field = format!("{label}.ramp_months");
                let x = ramp.get_ref().value;
                self.check(
                    ramp,
                    &field,
                    (0.0..=240.0).contains(&x) && x.fract() == 0.0,
                    "a whole number of months from 0 to 240 (a ramp cannot end before it starts)",
                )
                .then(|| self.record_scenario(&field, "months", ramp) as u32)
            }
            (None, Some(full_by)) => {
                let field = format!("{label}.full_by");
                match (self.month(full_by, &field), start) {
                    (Some(full), Some(start)) if full < start => {
                        self.problems.add(
                            Some(full_by.span()),
                            field,
                            format!("the ramp ends ({full}) before it starts ({start})"),
                            "set `full_by` to the start month or later",
                        );
                        None
                    }
                    (Some(full), Some(start)) => Some(full.months_since(start) as u32 + 1),
                    _ => None,
                }
            }
            (None, None) => match &defaults.ramp_months {
                Some(ramp) => {
                    let x = ramp.get_ref().value;
                    self.check(
                        ramp,
                        "defaults.ramp_months",
                        (0.0..=240.0).contains(&x) && x.fract() == 0.0,
                        "a whole number of months from 0 to 240",
                    )
                    .then(|| self.record_scenario("defaults.ramp_months", "months", ramp) as u32)
                }
                None => Some(0),
            },
        };

        let size = self.resolve_size(&label, name, spec)?;

        let (pue, start, ramp) = (pue?, start?, ramp?);
        if let Some(available) = system
            .first_available
            .value()
            .and_then(|d| Month::parse_lenient(d).ok())
        {
            if start < available {
                self.warnings.push(format!(
                    "tranche `{name}` starts at {start}, before `{sid}` was first available ({available})"
                ));
            }
        }
        let rack_w = power_kw * W_PER_KW;
        let share = non_accelerator_share?;
        let (systems, asked_facility_w) = match size {
            Size::Systems(n) => {
                self.stacks.push(None);
                (n as u64, None)
            }
            Size::Gw {
                basis,
                gw,
                span,
                field,
            } => {
                let headroom = self.record_catalog(
                    "facility.design_headroom",
                    "fraction of critical IT capacity",
                    &facility.design_headroom,
                )?;
                let contracted = if basis == catalog::GwBasis::Contracted {
                    self.record_catalog(
                        "facility.contracted_it_fraction",
                        "critical IT GW per contracted GW",
                        &facility.contracted_it_fraction,
                    )?
                } else {
                    1.0
                };
                let figures = StackFigures {
                    pue,
                    non_accelerator_it_share: share,
                    design_headroom: headroom,
                    contracted_it_fraction: contracted,
                };
                let stacked = power_stack::stack(basis, gw, &figures, rack_w);
                if self.draws.is_none() {
                    for (step, value, unit, how) in stacked.steps(&figures) {
                        self.record_step(&format!("{label}.power_stack.{step}"), unit, value, how);
                    }
                }
                if stacked.systems == 0 {
                    self.problems.add(
                        span,
                        field,
                        format!(
                            "{gw} GW ({}) does not power one `{sid}` ({power_kw} kW per rack after the power stack: {:.4} GW for accelerator racks)",
                            basis.as_str(),
                            stacked.accelerator_racks_gw
                        ),
                        "ask for more power, or give `systems = N` instead",
                    );
                    return None;
                }
                let systems = stacked.systems;
                self.stacks.push(Some(stacked.clone()));
                (systems, Some(stacked.critical_it_gw * W_PER_GW * pue))
            }
        };
        // Each system draws its rack and its share of the network, storage and CPU nodes.
        let power_w = rack_w / (1.0 - share);
        let built_facility_w = systems as f64 * power_w * pue;
        let nominal_facility_w = asked_facility_w.unwrap_or(built_facility_w);
        let unused_facility_gw =
            asked_facility_w.map_or(0.0, |asked| (asked - built_facility_w).max(0.0) / W_PER_GW);

        Some((
            TrancheInput {
                name: name.to_string(),
                accelerator_id: aid,
                systems,
                accelerators_per_system: per_system,
                it_power_w_per_system: power_w,
                pue,
                start,
                ramp_months: ramp,
                electricity_usd_per_kwh: electricity?,
                utilization: utilization?,
                price_usd_per_system: price,
                networking_capex_fraction: networking?,
                facility_capex_usd_per_mw: capex_per_mw?,
                build_months: build_months? as u32,
                other_opex_fraction_per_year: other_opex?,
                peak_flops_per_accelerator: PeakFlops {
                    bf16: peaks[0],
                    fp8: peaks[1],
                    fp4: peaks[2],
                },
                nominal_facility_w,
            },
            TrancheIds {
                site: spec.site.as_ref().map(|s| s.get_ref().clone()),
                deal,
                system: sid,
                unused_facility_gw,
            },
        ))
    }

    pub(super) fn missing_system_figure(
        &mut self,
        system_id: &Spanned<String>,
        label: &str,
        system: &System,
        key: &str,
        value: &Sourced<f64>,
        fix: &str,
    ) {
        let reason = value.missing_reason().unwrap_or("not given");
        self.problems.add(
            Some(system_id.span()),
            format!("{label}.system"),
            format!(
                "the catalog has no {key} for `{}` ({reason})",
                system.id.get_ref()
            ),
            format!(
                "supply it with a source in the scenario:\n       {}",
                fix.replace('\n', "\n       ")
            ),
        );
    }
}
