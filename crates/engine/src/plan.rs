//! Resolving a scenario against the catalog into fleet inputs, running the fleet model, and
//! assembling the result with its assumptions ledger.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use catalog::{
    nearest, Catalog, Diagnostic, Diagnostics, HeadlinePrecision as Precision, Source, Sourced,
    System,
};
use fleet::{FinancingInput, FinancingRule, FleetInput, PeakFlops, TrancheInput};
use toml::Spanned;
use units::{Month, FLOPS_PER_TFLOPS, W_PER_GW, W_PER_KW};

use crate::result::{
    Assumption, DealSummary, Excluded, PlanResult, ScenarioInfo, SourceRef, TrancheSummary,
};
use crate::scenario::{Scenario, TrancheSpec};
use crate::{content_hash, EngineError, ScenarioNumber, ENGINE_VERSION, SCHEMA_VERSION};

/// Largest facility power one tranche may ask for: far above any announced deal, low enough to
/// catch a unit mistake (watts typed as GW).
const MAX_TRANCHE_GW: f64 = 1000.0;
/// Longest timeline, in months (50 years).
const MAX_TIMELINE_MONTHS: i32 = 600;

/// A one-tranche question from the command line:
/// `gigawatt plan --system gb200-nvl72 --facility-gw 1.2`.
#[derive(Debug, Clone, Default)]
pub struct QuickPlan {
    /// System id.
    pub system: String,
    /// Facility power, GW.
    pub facility_gw: Option<f64>,
    /// Count of systems (instead of power).
    pub systems: Option<f64>,
    /// PUE.
    pub pue: Option<f64>,
    /// First month online.
    pub start: Option<String>,
    /// Months to full build.
    pub ramp_months: Option<f64>,
    /// Price per system, USD.
    pub price_usd: Option<f64>,
    /// USD per kWh.
    pub electricity_usd_per_kwh: Option<f64>,
    /// Average IT power drawn / nameplate.
    pub utilization: Option<f64>,
    /// Last month of the timeline.
    pub end: Option<String>,
    /// IT power per system, kW, where the catalog has none or you know better.
    pub it_power_kw: Option<f64>,
    /// What the plan is, in words (default: "One tranche from the command line").
    pub description: Option<String>,
    /// Why `ramp_months` has its value, when it is a default rather than a flag: recorded in
    /// the assumptions ledger beside it.
    pub ramp_note: Option<String>,
    /// Further scenario tables (overrides and their sources) appended as they are.
    pub extra_toml: Option<String>,
}

impl QuickPlan {
    /// The equivalent scenario file, so that flags and files share one validation path.
    pub fn to_scenario_text(&self) -> String {
        let mut text = String::from("name = \"Quick plan\"\n");
        let description = self
            .description
            .as_deref()
            .unwrap_or("One tranche from the command line");
        text += &format!("description = {}\n", toml_string(description));
        if let Some(end) = &self.end {
            text += &format!("end = {}\n", toml_string(end));
        }
        if let Some(price) = self.price_usd {
            text += &format!("[prices]\n{} = {price:?}\n", toml_string(&self.system));
        }
        if let Some(power) = self.it_power_kw {
            text += &format!(
                "[overrides.system.{}]\nit_power_kw = {power:?}\n",
                toml_string(&self.system)
            );
        }
        text += "[[tranche]]\n";
        text += &format!("name = {}\n", toml_string(&self.system));
        text += &format!("system = {}\n", toml_string(&self.system));
        // Months default to the system's first availability when not given.
        if let Some(start) = &self.start {
            text += &format!("start = {}\n", toml_string(start));
        }
        if let (Some(ramp), Some(note)) = (self.ramp_months, &self.ramp_note) {
            text += &format!(
                "ramp_months = {{ value = {ramp:?}, note = {} }}\n",
                toml_string(note)
            );
        }
        let ramp_flag = self.ramp_months.filter(|_| self.ramp_note.is_none());
        for (key, value) in [
            ("facility_gw", self.facility_gw),
            ("systems", self.systems),
            ("pue", self.pue),
            ("ramp_months", ramp_flag),
            ("electricity_usd_per_kwh", self.electricity_usd_per_kwh),
            ("utilization", self.utilization),
        ] {
            if let Some(value) = value {
                text += &format!("{key} = {value:?}\n");
            }
        }
        if let Some(extra) = &self.extra_toml {
            text += "\n";
            text += extra;
        }
        text
    }
}

fn toml_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out += "\\\"",
            '\\' => out += "\\\\",
            c if c.is_control() => out += &format!("\\u{:04x}", c as u32),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Parses `text` (a scenario file named `origin`) and plans it.
pub fn plan_text(catalog: &Catalog, origin: &str, text: &str) -> Result<PlanResult, EngineError> {
    plan_text_with(
        catalog,
        origin,
        text,
        &crate::capability::CapabilityFlags::default(),
    )
}

/// [`plan_text`] with capability inputs from flags laid over the scenario's `[capability]`.
pub fn plan_text_with(
    catalog: &Catalog,
    origin: &str,
    text: &str,
    flags: &crate::capability::CapabilityFlags,
) -> Result<PlanResult, EngineError> {
    let mut scenario: Scenario = toml::from_str(text).map_err(|err| {
        let mut d = Diagnostic::from_toml(origin, text, &err);
        d = d.hint(parse_hint(err.message()));
        EngineError::Invalid(Diagnostics(vec![d]))
    })?;
    flags.apply(&mut scenario.capability);
    plan(catalog, &scenario, origin, text)
}

fn parse_hint(message: &str) -> String {
    if message.contains("unknown field") {
        "check the spelling against the scenario format in the README (`gigawatt plan --help`)"
            .into()
    } else {
        "see \"Writing a scenario\" in the README for the format".into()
    }
}

/// A scenario resolved against the catalog into the fleet model's input, before it is run:
/// for models (such as deal risk) that perturb the buildout and run it many times.
#[derive(Debug, Clone)]
pub struct ResolvedScenario {
    /// The fleet model's input, as `plan` would run it.
    pub fleet: FleetInput,
    /// The deal id of each tranche (same order as `fleet.tranches`).
    pub tranche_deals: Vec<Option<String>>,
    /// The system id of each tranche.
    pub tranche_systems: Vec<String>,
    /// The catalog site of each tranche, if it names one.
    pub tranche_sites: Vec<Option<String>>,
    /// The capability view's inputs (the scenario's `[capability]` table, else defaults).
    pub capability: crate::capability::CapabilityOptions,
    /// The deal id each financing entry names (same order as `fleet.financing`).
    pub financing_deals: Vec<Option<String>>,
    /// Every number the resolution used, with its source.
    pub assumptions: Vec<Assumption>,
    /// Every source the assumptions cite.
    pub sources: Vec<SourceRef>,
    /// Deals the scenario leaves out.
    pub excluded: Vec<Excluded>,
    /// Warnings from resolution.
    pub warnings: Vec<String>,
}

/// Parses and resolves a scenario without running the model.
pub fn resolve_text(
    catalog: &Catalog,
    origin: &str,
    text: &str,
) -> Result<ResolvedScenario, EngineError> {
    let scenario: Scenario = toml::from_str(text).map_err(|err| {
        let mut d = Diagnostic::from_toml(origin, text, &err);
        d = d.hint(parse_hint(err.message()));
        EngineError::Invalid(Diagnostics(vec![d]))
    })?;
    let mut r = Resolver::new(catalog, &scenario, origin, text);
    let input = r.resolve();
    if !r.problems.is_empty() {
        return Err(EngineError::Invalid(Diagnostics(r.problems)));
    }
    let input = input.expect("resolution succeeds when no problem was recorded");
    let capability = capability_options(catalog, &scenario, &input, origin, text)?;
    let sources = r.source_refs();
    Ok(ResolvedScenario {
        tranche_deals: input.tranche_ids.iter().map(|t| t.deal.clone()).collect(),
        tranche_systems: input.tranche_ids.iter().map(|t| t.system.clone()).collect(),
        tranche_sites: input.tranche_ids.iter().map(|t| t.site.clone()).collect(),
        capability,
        financing_deals: input.financing_deals,
        fleet: input.fleet,
        assumptions: r.assumptions,
        sources,
        excluded: input.excluded,
        warnings: r.warnings,
    })
}

/// Plans a parsed scenario; `text` is the file it came from (for line numbers).
pub fn plan(
    catalog: &Catalog,
    scenario: &Scenario,
    origin: &str,
    text: &str,
) -> Result<PlanResult, EngineError> {
    let mut r = Resolver::new(catalog, scenario, origin, text);
    let input = r.resolve();
    if !r.problems.is_empty() {
        return Err(EngineError::Invalid(Diagnostics(r.problems)));
    }
    let input = input.expect("resolution succeeds when no problem was recorded");
    let capability_options = capability_options(catalog, scenario, &input, origin, text)?;
    let timeline = fleet::plan(&input.fleet);
    let totals = timeline
        .rows
        .last()
        .cloned()
        .expect("a plan with tranches has at least one month");
    let tranches = timeline
        .tranches
        .iter()
        .zip(&input.tranche_ids)
        .map(|(totals, ids)| TrancheSummary {
            totals: totals.clone(),
            deal: ids.deal.clone(),
            system: ids.system.clone(),
            unused_facility_gw: ids.unused_facility_gw,
            site: ids.site.clone(),
        })
        .collect();
    let scenario_info = ScenarioInfo {
        name: scenario.name.clone().unwrap_or_else(|| origin.to_string()),
        description: scenario.description.clone().unwrap_or_default(),
        origin: origin.to_string(),
        input_hash: content_hash(text),
        first_month: timeline
            .rows
            .first()
            .map(|r| r.month.to_string())
            .unwrap_or_default(),
        end_month: input.fleet.end.to_string(),
    };
    let excluded = input.excluded;
    let deals = r.deal_summaries();
    let sources = r.source_refs();
    let knowledge = crate::knowledge::knowledge(catalog, r.deals_used.iter().map(String::as_str));
    r.warnings.extend(crate::knowledge::late_source_warnings(
        catalog,
        sources.iter().map(|s| s.id.as_str()),
    ));
    let mut result = PlanResult {
        schema_version: SCHEMA_VERSION,
        engine_version: ENGINE_VERSION.to_string(),
        catalog_version: catalog.version.clone(),
        scenario: scenario_info,
        totals,
        timeline: timeline.rows,
        tranches,
        deals,
        assumptions: r.assumptions,
        sources,
        excluded,
        warnings: r.warnings,
        knowledge,
        capability: None,
    };
    let sites: Vec<Option<String>> = input.tranche_ids.iter().map(|t| t.site.clone()).collect();
    crate::capability::ledger::add_to_plan(&mut result, catalog, &sites, &capability_options);
    crate::finite::check_plan(&result, origin)?;
    Ok(result)
}

/// The capability options of a scenario, with its problems (a month outside the timeline
/// among them) as located errors.
fn capability_options(
    catalog: &Catalog,
    scenario: &Scenario,
    input: &Resolved,
    origin: &str,
    text: &str,
) -> Result<crate::capability::CapabilityOptions, EngineError> {
    let has_sites = input.tranche_ids.iter().any(|t| t.site.is_some());
    let options =
        crate::capability::options_from_spec(scenario.capability.as_ref(), origin, text, has_sites)
            .map_err(EngineError::Invalid)?;
    if let Some((model, _)) = options
        .serving_mix
        .iter()
        .find(|(m, _)| !catalog.models.contains_key(m))
    {
        let hint = match catalog::nearest(model, catalog.models.keys().map(String::as_str)) {
            Some(near) => format!(
                "did you mean `{near}`? `gigawatt catalog list --kind models` shows every model"
            ),
            None => "`gigawatt catalog list --kind models` shows every model".into(),
        };
        return Err(EngineError::Invalid(Diagnostics(vec![Diagnostic::new(
            origin,
            format!("unknown model `{model}` in the serving mix"),
        )
        .field("capability.serving_mix")
        .hint(hint)])));
    }
    let last = input.fleet.end;
    if let Some(month) = options.months.iter().find(|m| **m > last) {
        return Err(EngineError::Invalid(Diagnostics(vec![Diagnostic::new(
            origin,
            format!("capability month {month} is after the timeline's end ({last})"),
        )
        .field("capability.months")
        .hint(format!(
            "ask for a month up to {last}, or set a later `end`"
        ))])));
    }
    Ok(options)
}

struct TrancheIds {
    site: Option<String>,
    deal: Option<String>,
    system: String,
    unused_facility_gw: f64,
}

struct Resolved {
    fleet: FleetInput,
    tranche_ids: Vec<TrancheIds>,
    financing_deals: Vec<Option<String>>,
    excluded: Vec<Excluded>,
}

/// The pseudo-source for plain numbers written in the scenario.
const SCENARIO_SOURCE: &str = "scenario";

struct Resolver<'a> {
    catalog: &'a Catalog,
    scenario: &'a Scenario,
    origin: &'a str,
    text: &'a str,
    scenario_sources: BTreeMap<String, &'a Source>,
    problems: Vec<Diagnostic>,
    warnings: Vec<String>,
    assumptions: Vec<Assumption>,
    recorded: BTreeSet<String>,
    cited: BTreeSet<String>,
    deals_used: BTreeSet<String>,
}

impl<'a> Resolver<'a> {
    fn new(
        catalog: &'a Catalog,
        scenario: &'a Scenario,
        origin: &'a str,
        text: &'a str,
    ) -> Resolver<'a> {
        Resolver {
            catalog,
            scenario,
            origin,
            text,
            scenario_sources: scenario
                .source
                .iter()
                .map(|s| (s.id.get_ref().clone(), s))
                .collect(),
            problems: Vec::new(),
            warnings: Vec::new(),
            assumptions: Vec::new(),
            recorded: BTreeSet::new(),
            cited: BTreeSet::new(),
            deals_used: BTreeSet::new(),
        }
    }

    fn problem(
        &mut self,
        span: Option<Range<usize>>,
        field: impl Into<String>,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) {
        let span = span.filter(|s| s.end > 0);
        self.problems.push(
            Diagnostic::new(self.origin, message)
                .at(self.text, span)
                .field(field)
                .hint(hint),
        );
    }

    /// Records a catalog number in the ledger (once per name) and returns it.
    fn record_catalog(&mut self, name: &str, unit: &str, value: &Sourced<f64>) -> Option<f64> {
        let Sourced::Known {
            value,
            source,
            note,
            ..
        } = value
        else {
            return None;
        };
        if self.recorded.insert(name.to_string()) {
            self.cited.insert(source.clone());
            self.assumptions.push(Assumption {
                name: name.to_string(),
                value: *value,
                unit: unit.to_string(),
                source: source.clone(),
                note: note.clone(),
            });
        }
        Some(*value)
    }

    /// Records a scenario number in the ledger; its source must exist.
    fn record_scenario(&mut self, name: &str, unit: &str, number: &Spanned<ScenarioNumber>) -> f64 {
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
                    self.problem(
                        Some(number.span()),
                        name,
                        format!("source `{id}` is not defined"),
                        hint,
                    );
                }
                id.clone()
            }
        };
        if self.recorded.insert(name.to_string()) {
            self.cited.insert(source.clone());
            self.assumptions.push(Assumption {
                name: name.to_string(),
                value: n.value,
                unit: unit.to_string(),
                source,
                note: n.note.clone(),
            });
        }
        n.value
    }

    /// Checks a scenario number against a bound; records a problem if it fails.
    fn check(
        &mut self,
        number: &Spanned<ScenarioNumber>,
        field: &str,
        ok: bool,
        requirement: &str,
    ) -> bool {
        let value = number.get_ref().value;
        if !ok || !value.is_finite() {
            self.problem(
                Some(number.span()),
                field,
                format!("impossible value {value}"),
                format!("`{field}` must be {requirement}"),
            );
            return false;
        }
        if value.abs() > crate::finite::MAX_SCENARIO_NUMBER {
            // Products of such numbers overflow to infinity (issue 17).
            self.problem(
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
    fn setting(
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

    fn month(&mut self, value: &Spanned<String>, field: &str) -> Option<Month> {
        match value.get_ref().parse::<Month>() {
            Ok(m) => Some(m),
            Err(e) => {
                self.problem(
                    Some(value.span()),
                    field,
                    e.to_string(),
                    "months are written YYYY-MM, for example \"2026-07\"",
                );
                None
            }
        }
    }

    fn resolve(&mut self) -> Option<Resolved> {
        if let Some(version) = &self.scenario.schema_version {
            if *version.get_ref() != 1 {
                self.problem(
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
                self.problem(
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
            self.problem(
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
                self.problem(
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
                self.problem(
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

    fn resolve_excluded(&mut self) -> Vec<Excluded> {
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
                self.problem(
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

    fn system_hint(&self, wanted: &str) -> String {
        match self.catalog.nearest_system(wanted) {
            Some(near) => {
                format!("did you mean `{near}`? `gigawatt catalog list` shows every system")
            }
            None => "`gigawatt catalog list` shows every system".to_string(),
        }
    }

    fn resolve_tranche(
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
                self.problem(Some(deal.span()), format!("{label}.deal"), message, hint);
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
                self.problem(
                    Some(site.span()),
                    format!("{label}.site"),
                    format!("unknown site `{}`", site.get_ref()),
                    hint,
                );
            }
        }

        let Some(system_id) = &spec.system else {
            self.problem(
                None,
                format!("{label}.system"),
                format!("tranche `{name}` names no system"),
                "add `system = \"<id>\"`; `gigawatt catalog list` shows every system",
            );
            return None;
        };
        let Some(system) = catalog.systems.get(system_id.get_ref()) else {
            let hint = self.system_hint(system_id.get_ref());
            self.problem(
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

        let pue = self.setting(
            &label,
            "pue",
            "facility W per IT W",
            spec.pue.as_ref(),
            defaults.pue.as_ref(),
            Some(&facility.pue),
            |x| (1.0..=3.0).contains(&x),
            "between 1 and 3 (facility power / IT power)",
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
                self.problem(
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
                self.problem(
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
                        self.problem(
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

        // Size: exactly one of facility_gw, it_gw, systems.
        let sizes = [
            ("facility_gw", &spec.facility_gw),
            ("it_gw", &spec.it_gw),
            ("systems", &spec.systems),
        ];
        let given: Vec<_> = sizes.iter().filter(|(_, v)| v.is_some()).collect();
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
            self.problem(
                span,
                format!("{label}.facility_gw"),
                message,
                "give exactly one of `facility_gw`, `it_gw` or `systems`",
            );
            return None;
        }
        let (size_key, size) = (
            given[0].0,
            given[0].1.as_ref().expect("filtered to present"),
        );
        let size_field = format!("{label}.{size_key}");
        let size_value = size.get_ref().value;
        let size_ok = match size_key {
            "systems" => self.check(
                size,
                &size_field,
                size_value >= 1.0 && size_value.fract() == 0.0 && size_value <= 1e9,
                "a whole number of systems from 1 to 1e9",
            ),
            _ => self.check(
                size,
                &size_field,
                size_value > 0.0 && size_value <= MAX_TRANCHE_GW,
                &format!("greater than 0 and at most {MAX_TRANCHE_GW} GW"),
            ),
        };
        let unit = if size_key == "systems" {
            "systems"
        } else {
            "GW"
        };
        let size_value = size_ok.then(|| self.record_scenario(&size_field, unit, size))?;

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
        let power_w = power_kw * W_PER_KW;
        let (systems, asked_facility_w) = match size_key {
            "systems" => (size_value as u64, None),
            "facility_gw" => (
                ((size_value * W_PER_GW / pue) / power_w + 1e-9).floor() as u64,
                Some(size_value * W_PER_GW),
            ),
            _ => (
                ((size_value * W_PER_GW) / power_w + 1e-9).floor() as u64,
                Some(size_value * W_PER_GW * pue),
            ),
        };
        if systems == 0 {
            self.problem(
                Some(size.span()),
                size_field,
                format!(
                    "{size_value} GW does not power one `{sid}` ({power_kw} kW IT x PUE {pue})"
                ),
                "ask for more power, or give `systems = N` instead",
            );
            return None;
        }
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

    fn missing_system_figure(
        &mut self,
        system_id: &Spanned<String>,
        label: &str,
        system: &System,
        key: &str,
        value: &Sourced<f64>,
        fix: &str,
    ) {
        let reason = value.missing_reason().unwrap_or("not given");
        self.problem(
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

    fn resolve_financing(
        &mut self,
        ids: &[TrancheIds],
    ) -> (Vec<FinancingInput>, Vec<Option<String>>) {
        let mut out = Vec::new();
        let mut deals = Vec::new();
        let scenario = self.scenario;
        for (index, spec) in scenario.financing.iter().enumerate() {
            let label = format!("financing[{}]", index + 1);
            let name = spec
                .name
                .clone()
                .unwrap_or_else(|| format!("financing {}", index + 1));
            let tranches: Vec<usize> = match &spec.deal {
                Some(deal) => {
                    if !self.catalog.deals.contains_key(deal.get_ref()) {
                        let hint = match self.catalog.nearest_deal(deal.get_ref()) {
                            Some(near) => format!("did you mean `{near}`?"),
                            None => "`gigawatt catalog list` shows every deal".into(),
                        };
                        let (message, hint) = not_yet_public(self.catalog, deal.get_ref())
                            .unwrap_or_else(|| {
                                (format!("unknown deal `{}`", deal.get_ref()), hint)
                            });
                        self.problem(Some(deal.span()), format!("{label}.deal"), message, hint);
                        continue;
                    }
                    self.deals_used.insert(deal.get_ref().clone());
                    ids.iter()
                        .enumerate()
                        .filter(|(_, t)| t.deal.as_deref() == Some(deal.get_ref()))
                        .map(|(i, _)| i)
                        .collect()
                }
                None => (0..ids.len()).collect(),
            };
            match (&spec.usd_per_gw, &spec.max_usd, &spec.month, &spec.usd) {
                (Some(per_gw), max, None, None) => {
                    if tranches.is_empty() {
                        let span = spec.deal.as_ref().map(Spanned::span);
                        self.problem(
                            span,
                            format!("{label}.deal"),
                            "no tranche belongs to this deal, so nothing is ever deployed for it",
                            "set `deal` on the tranches it pays for",
                        );
                        continue;
                    }
                    let per_gw_field = format!("{label}.usd_per_gw");
                    if !self.check(
                        per_gw,
                        &per_gw_field,
                        per_gw.get_ref().value >= 0.0,
                        "zero or more",
                    ) {
                        continue;
                    }
                    let usd_per_gw =
                        self.record_scenario(&per_gw_field, "USD per GW deployed", per_gw);
                    let max_usd = match max {
                        Some(max) => {
                            let field = format!("{label}.max_usd");
                            if !self.check(max, &field, max.get_ref().value >= 0.0, "zero or more")
                            {
                                continue;
                            }
                            self.record_scenario(&field, "USD", max)
                        }
                        None => f64::INFINITY,
                    };
                    out.push(FinancingInput {
                        name,
                        rule: FinancingRule::PerGwDeployed {
                            usd_per_gw,
                            max_usd,
                            tranches,
                        },
                    });
                    deals.push(spec.deal.as_ref().map(|d| d.get_ref().clone()));
                }
                (None, None, Some(month), Some(usd)) => {
                    let Some(month) = self.month(month, &format!("{label}.month")) else {
                        continue;
                    };
                    let field = format!("{label}.usd");
                    if !self.check(usd, &field, usd.get_ref().value >= 0.0, "zero or more") {
                        continue;
                    }
                    let usd = self.record_scenario(&field, "USD", usd);
                    out.push(FinancingInput {
                        name,
                        rule: FinancingRule::Lump { month, usd },
                    });
                    deals.push(spec.deal.as_ref().map(|d| d.get_ref().clone()));
                }
                _ => self.problem(
                    None,
                    label,
                    format!("financing `{name}` is neither per-GW nor a lump sum"),
                    "write either `usd_per_gw` (with optional `max_usd`) or both `month` and `usd`",
                ),
            }
        }
        (out, deals)
    }

    fn resolve_end(&mut self, tranches: &[TrancheInput]) -> Option<Month> {
        let last_full = tranches.iter().map(TrancheInput::full_month).max()?;
        let first_start = tranches
            .iter()
            .map(|t| t.start.plus(-(t.build_months.max(1) as i32 - 1)))
            .min()?;
        let end = match &self.scenario.end {
            Some(end) => {
                let month = self.month(end, "end")?;
                let first_online = tranches.iter().map(|t| t.start).min()?;
                if month < first_online {
                    self.problem(Some(end.span()), "end", format!("the timeline ends ({month}) before anything is online ({first_online})"), "set `end` to a later month, or remove it");
                    return None;
                }
                if month < last_full {
                    self.warnings.push(format!("the timeline ends at {month}, before every tranche is fully online ({last_full}); totals are as of {month}"));
                }
                month
            }
            None => Month::new(last_full.year(), 12).expect("December exists"),
        };
        if end.months_since(first_start) >= MAX_TIMELINE_MONTHS {
            let span = self.scenario.end.as_ref().map(Spanned::span);
            self.problem(
                span,
                "end",
                format!(
                    "the timeline would run {} months, from {first_start} to {end}",
                    end.months_since(first_start) + 1
                ),
                format!("keep the plan within {MAX_TIMELINE_MONTHS} months (50 years)"),
            );
            return None;
        }
        Some(end)
    }

    fn deal_summaries(&self) -> Vec<DealSummary> {
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

    fn source_refs(&self) -> Vec<SourceRef> {
        let mut cited: BTreeSet<String> = self.cited.clone();
        for deal in self.deal_summaries() {
            if let Some(source) = deal.status_source {
                cited.insert(source);
            }
        }
        cited
            .iter()
            .map(|id| {
                if id == SCENARIO_SOURCE {
                    return SourceRef {
                        id: id.clone(),
                        title: format!("Set in {}", self.origin),
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

/// For a deal left out by `--known-on` because nothing of it was public yet: the message and
/// the fix (the catalog knows it; the day asked for predates it).
pub fn not_yet_public(catalog: &Catalog, id: &str) -> Option<(String, String)> {
    let first = catalog.withheld.get(id)?;
    let day = catalog.known_on.as_deref().unwrap_or("the day asked for");
    Some((
        format!("deal `{id}` was not public on {day} (its first event is dated {first})"),
        format!("run with a --known-on date from {first} on, or leave this deal out of the plan"),
    ))
}
