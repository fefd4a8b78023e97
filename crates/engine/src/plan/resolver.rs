//! The resolver: walks a scenario against the catalog, recording every number it uses in the
//! ledger with its source, and every problem with its location and fix.

use std::collections::{BTreeMap, BTreeSet};

use catalog::{nearest, Catalog, Problems, Source, Sourced};
use fleet::FleetInput;
use toml::Spanned;
use units::{Month, FLOPS_PER_TFLOPS};

use super::{not_yet_public, MAX_TRANCHE_GW};
use crate::result::{Assumption, DealSummary, Excluded, SourceRef};
use crate::scenario::Scenario;
use crate::ScenarioNumber;

pub(super) struct TrancheIds {
    pub(super) site: Option<String>,
    pub(super) deal: Option<String>,
    pub(super) system: String,
    pub(super) unused_facility_gw: f64,
}

pub(super) struct Resolved {
    pub(super) fleet: FleetInput,
    pub(super) tranche_ids: Vec<TrancheIds>,
    pub(super) financing_deals: Vec<Option<String>>,
    pub(super) excluded: Vec<Excluded>,
}

/// The pseudo-source for plain numbers written in the scenario.
const SCENARIO_SOURCE: &str = "scenario";
/// The pseudo-source for the power stack's steps, computed in the plan from sourced figures.
pub(super) const POWER_STACK_SOURCE: &str = "power-stack";

pub(super) struct Resolver<'a> {
    pub(super) catalog: &'a Catalog,
    pub(super) scenario: &'a Scenario,
    pub(super) scenario_sources: BTreeMap<String, &'a Source>,
    /// The scenario file and every problem found in it.
    pub(super) problems: Problems<'a>,
    pub(super) warnings: Vec<String>,
    pub(super) assumptions: Vec<Assumption>,
    pub(super) recorded: BTreeSet<String>,
    pub(super) cited: BTreeSet<String>,
    pub(super) deals_used: BTreeSet<String>,
    /// Sampled values that replace catalog figures by ledger name (`plan`'s ranges): one draw
    /// of a figure is used wherever the figure is.
    pub(super) draws: Option<&'a BTreeMap<String, f64>>,
    /// Each tranche's power stack, in tranche order (`None` for a tranche sized in systems).
    pub(super) stacks: Vec<Option<crate::power_stack::PowerStack>>,
}

impl<'a> Resolver<'a> {
    pub(super) fn new(
        catalog: &'a Catalog,
        scenario: &'a Scenario,
        origin: &'a str,
        text: &'a str,
    ) -> Resolver<'a> {
        Resolver {
            catalog,
            scenario,
            scenario_sources: scenario
                .source
                .iter()
                .map(|s| (s.id.get_ref().clone(), s))
                .collect(),
            problems: Problems::new(origin, text),
            warnings: Vec::new(),
            assumptions: Vec::new(),
            recorded: BTreeSet::new(),
            cited: BTreeSet::new(),
            deals_used: BTreeSet::new(),
            draws: None,
            stacks: Vec::new(),
        }
    }

    /// Records a catalog number in the ledger (once per name) and returns it.
    pub(super) fn record_catalog(
        &mut self,
        name: &str,
        unit: &str,
        value: &Sourced<f64>,
    ) -> Option<f64> {
        let Sourced::Known {
            value,
            source,
            note,
            range,
            ..
        } = value
        else {
            return None;
        };
        if self.draws.is_none() && self.recorded.insert(name.to_string()) {
            self.cited.insert(source.clone());
            // A figure without its own range takes the claims' (issue 16: ranges drawing on the
            // world data's disagreeing sources).
            let (range, range_from) = match range {
                Some(r) => (Some(*r), None),
                None => match crate::ranges::claims_range(self.catalog, name, *value) {
                    Some(r) => (Some(r), Some("claims".to_string())),
                    None => (None, None),
                },
            };
            self.assumptions.push(Assumption {
                name: name.to_string(),
                value: *value,
                unit: unit.to_string(),
                source: source.clone(),
                note: note.clone(),
                low: range.map(|r| r.0),
                high: range.map(|r| r.1),
                range_from,
            });
        }
        let drawn = self.draws.and_then(|d| d.get(name)).copied();
        Some(drawn.unwrap_or(*value))
    }

    /// Records a step the plan computed (the power stack), citing the pseudo-source.
    pub(super) fn record_step(&mut self, name: &str, unit: &str, value: f64, how: String) {
        if self.draws.is_none() && self.recorded.insert(name.to_string()) {
            self.cited.insert(POWER_STACK_SOURCE.to_string());
            self.assumptions.push(Assumption {
                name: name.to_string(),
                value,
                unit: unit.to_string(),
                source: POWER_STACK_SOURCE.to_string(),
                note: Some(how),
                low: None,
                high: None,
                range_from: None,
            });
        }
    }

    /// Records a scenario number in the ledger; its source must exist.
    pub(super) fn record_scenario(
        &mut self,
        name: &str,
        unit: &str,
        number: &Spanned<ScenarioNumber>,
    ) -> f64 {
        let n = number.get_ref();
        let source = match &n.source {
            None => SCENARIO_SOURCE.to_string(),
            Some(id) => {
                if !self.scenario_sources.contains_key(id) && !self.catalog.sources.contains_key(id)
                {
                    let known = self
                        .scenario_sources
                        .keys()
                        .map(String::as_str)
                        .chain(self.catalog.sources.keys().map(String::as_str));
                    let hint = match nearest(id, known) {
                        Some(near) => format!("did you mean `{near}`? Otherwise add a [[source]] entry with id = \"{id}\" to the scenario"),
                        None => format!("add a [[source]] entry with id = \"{id}\" (title, url, date, kind) to the scenario"),
                    };
                    self.problems.add(
                        Some(number.span()),
                        name,
                        format!("source `{id}` is not defined"),
                        hint,
                    );
                }
                id.clone()
            }
        };
        if self.draws.is_none() && self.recorded.insert(name.to_string()) {
            self.cited.insert(source.clone());
            self.assumptions.push(Assumption {
                name: name.to_string(),
                value: n.value,
                unit: unit.to_string(),
                source,
                note: n.note.clone(),
                low: None,
                high: None,
                range_from: None,
            });
        }
        n.value
    }

    /// Checks a scenario number against a bound; records a problem if it fails.
    pub(super) fn check(
        &mut self,
        number: &Spanned<ScenarioNumber>,
        field: &str,
        ok: bool,
        requirement: &str,
    ) -> bool {
        let value = number.get_ref().value;
        if !ok || !value.is_finite() {
            self.problems.add(
                Some(number.span()),
                field,
                format!("impossible value {value}"),
                format!("`{field}` must be {requirement}"),
            );
            return false;
        }
        if value.abs() > crate::finite::MAX_SCENARIO_NUMBER {
            // Products of such numbers overflow to infinity (issue 17).
            self.problems.add(
                Some(number.span()),
                field,
                format!("{value:e} is too large to compute with"),
                format!(
                    "`{field}` must be {requirement}, and at most {:e}",
                    crate::finite::MAX_SCENARIO_NUMBER
                ),
            );
            return false;
        }
        true
    }

    /// A per-tranche setting: the tranche's own, else the scenario default, else the catalog's.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn setting(
        &mut self,
        tranche_label: &str,
        key: &str,
        unit: &str,
        own: Option<&Spanned<ScenarioNumber>>,
        default: Option<&Spanned<ScenarioNumber>>,
        catalog_value: Option<&Sourced<f64>>,
        valid: fn(f64) -> bool,
        requirement: &str,
    ) -> Option<f64> {
        if let Some(own) = own {
            let field = format!("{tranche_label}.{key}");
            let ok = valid(own.get_ref().value);
            return self
                .check(own, &field, ok, requirement)
                .then(|| self.record_scenario(&field, unit, own));
        }
        if let Some(default) = default {
            let field = format!("defaults.{key}");
            let ok = valid(default.get_ref().value);
            return self
                .check(default, &field, ok, requirement)
                .then(|| self.record_scenario(&field, unit, default));
        }
        catalog_value.and_then(|v| self.record_catalog(&format!("facility.{key}"), unit, v))
    }

    pub(super) fn month(&mut self, value: &Spanned<String>, field: &str) -> Option<Month> {
        match value.get_ref().parse::<Month>() {
            Ok(m) => Some(m),
            Err(e) => {
                self.problems.add(
                    Some(value.span()),
                    field,
                    e.to_string(),
                    "months are written YYYY-MM, for example \"2026-07\"",
                );
                None
            }
        }
    }

    pub(super) fn resolve(&mut self) -> Option<Resolved> {
        if let Some(version) = &self.scenario.schema_version {
            if *version.get_ref() != 1 {
                self.problems.add(
                    Some(version.span()),
                    "schema_version",
                    format!(
                        "schema_version {} is not supported by this gigawatt",
                        version.get_ref()
                    ),
                    "this version reads schema_version = 1",
                );
            }
        }
        for source in &self.scenario.source {
            if self.catalog.sources.contains_key(source.id.get_ref()) {
                self.problems.add(
                    Some(source.id.span()),
                    "source.id",
                    format!(
                        "source `{}` is already defined in the catalog",
                        source.id.get_ref()
                    ),
                    "cite the catalog's source directly, or give yours another id",
                );
            }
        }
        if self.scenario.tranche.is_empty() {
            self.problems.add(
                None,
                "tranche",
                "the scenario has no [[tranche]]",
                "add at least one [[tranche]] with system, facility_gw (or systems) and start",
            );
            return None;
        }
        for (system_id, price) in &self.scenario.prices {
            if !self.catalog.systems.contains_key(system_id) {
                let hint = self.system_hint(system_id);
                self.problems.add(
                    Some(price.span()),
                    format!("prices.{system_id}"),
                    format!("unknown system `{system_id}`"),
                    hint,
                );
            }
        }
        let reference = self.catalog.facility.reference_accelerator.clone();
        let reference_tflops = self.catalog.accelerators[&reference]
            .bf16_dense_tflops
            .clone();
        let reference_tflops = self
            .record_catalog(
                &format!("accelerator[{reference}].bf16_dense_tflops"),
                "TFLOP/s (H100e unit)",
                &reference_tflops,
            )
            .unwrap_or(1.0);

        let mut tranches = Vec::new();
        let mut ids = Vec::new();
        let mut names = BTreeSet::new();
        let scenario = self.scenario;
        for (index, spec) in scenario.tranche.iter().enumerate() {
            let name = spec
                .name
                .as_ref()
                .map(|n| n.get_ref().clone())
                .unwrap_or_else(|| format!("tranche {}", index + 1));
            if !names.insert(name.clone()) {
                let span = spec.name.as_ref().map(Spanned::span);
                self.problems.add(
                    span,
                    format!("tranche[{}].name", index + 1),
                    format!("two tranches are named `{name}`"),
                    "give each tranche its own name",
                );
            }
            if let Some((tranche, tranche_ids)) = self.resolve_tranche(index, &name, spec) {
                tranches.push(tranche);
                ids.push(tranche_ids);
            }
        }
        let (financing, financing_deals) = self.resolve_financing(&ids);
        let excluded = self.resolve_excluded();
        let end = self.resolve_end(&tranches);
        if !self.problems.is_empty() {
            return None;
        }
        Some(Resolved {
            fleet: FleetInput {
                tranches,
                financing,
                end: end?,
                reference_bf16_flops: reference_tflops * FLOPS_PER_TFLOPS,
            },
            tranche_ids: ids,
            financing_deals,
            excluded,
        })
    }

    pub(super) fn resolve_excluded(&mut self) -> Vec<Excluded> {
        let scenario = self.scenario;
        let mut out = Vec::new();
        for (index, spec) in scenario.excluded.iter().enumerate() {
            let label = format!("excluded[{}]", index + 1);
            let id = spec.deal.get_ref();
            if let Some(first) = self.catalog.withheld.get(id) {
                // Not public yet on the --known-on day: nothing to exclude.
                self.warnings.push(format!(
                    "{label}: deal `{id}` was not public yet (first event {first}); left out"
                ));
                continue;
            }
            if !self.catalog.deals.contains_key(id) {
                let hint = match self.catalog.nearest_deal(id) {
                    Some(near) => format!("did you mean `{near}`?"),
                    None => "`gigawatt catalog list --kind deals` shows every deal".into(),
                };
                let (message, hint) = not_yet_public(self.catalog, id)
                    .unwrap_or_else(|| (format!("unknown deal `{id}`"), hint));
                self.problems.add(
                    Some(spec.deal.span()),
                    format!("{label}.deal"),
                    message,
                    hint,
                );
                continue;
            }
            self.deals_used.insert(id.clone());
            let facility_gw = match &spec.facility_gw {
                Some(gw) => {
                    let field = format!("{label}.facility_gw");
                    if !self.check(
                        gw,
                        &field,
                        gw.get_ref().value >= 0.0 && gw.get_ref().value <= MAX_TRANCHE_GW,
                        "zero or more GW",
                    ) {
                        continue;
                    }
                    Some(self.record_scenario(&field, "GW (not modelled)", gw))
                }
                None => None,
            };
            let size = facility_gw.map_or(String::new(), |gw| format!(" ({gw} GW)"));
            self.warnings
                .push(format!("not modelled: {id}{size}: {}", spec.reason));
            out.push(Excluded {
                deal: id.clone(),
                facility_gw,
                reason: spec.reason.clone(),
            });
        }
        out
    }

    pub(super) fn system_hint(&self, wanted: &str) -> String {
        match self.catalog.nearest_system(wanted) {
            Some(near) => {
                format!("did you mean `{near}`? `gigawatt catalog list` shows every system")
            }
            None => "`gigawatt catalog list` shows every system".to_string(),
        }
    }

    pub(super) fn deal_summaries(&self) -> Vec<DealSummary> {
        self.deals_used
            .iter()
            .filter_map(|id| self.catalog.deals.get(id))
            .map(|deal| DealSummary {
                id: deal.id.get_ref().clone(),
                name: deal.name.clone(),
                status: deal.status.as_str().to_string(),
                status_as_of: deal.status_as_of.value().cloned(),
                status_source: deal.status_as_of.source().map(str::to_string),
                status_note: deal.status_note.clone(),
            })
            .collect()
    }

    pub(super) fn source_refs(&self) -> Vec<SourceRef> {
        let mut cited: BTreeSet<String> = self.cited.clone();
        for deal in self.deal_summaries() {
            if let Some(source) = deal.status_source {
                cited.insert(source);
            }
        }
        cited
            .iter()
            .map(|id| {
                if id == POWER_STACK_SOURCE {
                    return SourceRef {
                        id: id.clone(),
                        title: "Computed in this plan: basis -> critical IT -> accelerator racks, from the sourced facility figures (engine::power_stack)".into(),
                        url: String::new(),
                        date: String::new(),
                        kind: "derived".into(),
                    };
                }
                if id == SCENARIO_SOURCE {
                    return SourceRef {
                        id: id.clone(),
                        title: format!("Set in {}", self.problems.file()),
                        url: String::new(),
                        date: String::new(),
                        kind: "user-input".into(),
                    };
                }
                let source = self
                    .scenario_sources
                    .get(id)
                    .copied()
                    .or_else(|| self.catalog.sources.get(id));
                match source {
                    Some(s) => SourceRef {
                        id: id.clone(),
                        title: s.title.clone(),
                        url: s.url.clone(),
                        date: s.date.get_ref().clone(),
                        kind: s.kind.as_str().to_string(),
                    },
                    None => SourceRef {
                        id: id.clone(),
                        title: String::new(),
                        url: String::new(),
                        date: String::new(),
                        kind: String::new(),
                    },
                }
            })
            .collect()
    }
}
