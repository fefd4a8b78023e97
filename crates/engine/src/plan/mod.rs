//! Resolving a scenario against the catalog into fleet inputs, running the fleet model, and
//! assembling the result with its assumptions ledger.
//!
//! - `quick`: a one-tranche question from flags, turned into scenario text;
//! - `resolver`: the resolver's ledger (catalog and scenario numbers with their sources),
//!   checks, the scenario-level walk and excluded deals;
//! - `tranche`: one tranche's system figures, facility settings, timing, and its power stack;
//! - `size`: a tranche's size (systems, or GW on a basis, or its site's GW);
//! - `financing`: financing rules and the timeline's end.

mod financing;
mod quick;
mod resolver;
mod size;
mod tranche;

use std::collections::BTreeMap;

use catalog::{Catalog, Diagnostic, Diagnostics};
use fleet::FleetInput;

pub use quick::QuickPlan;
use resolver::Resolver;

use crate::ranges::RangeOptions;
use crate::result::{Assumption, Excluded, PlanResult, ScenarioInfo, SourceRef, TrancheSummary};
use crate::scenario::Scenario;
use crate::{content_hash, EngineError, ENGINE_VERSION, SCHEMA_VERSION};

/// Largest facility power one tranche may ask for: far above any announced deal, low enough to
/// catch a unit mistake (watts typed as GW).
const MAX_TRANCHE_GW: f64 = 1000.0;
/// Longest timeline, in months (50 years).
const MAX_TIMELINE_MONTHS: i32 = 600;

/// Parses `text` (a scenario file named `origin`) and plans it.
pub fn plan_text(catalog: &Catalog, origin: &str, text: &str) -> Result<PlanResult, EngineError> {
    let scenario = parse_scenario(origin, text)?;
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

/// Parses scenario text; a TOML or shape error becomes a diagnostic at its line with a hint.
fn parse_scenario(origin: &str, text: &str) -> Result<Scenario, EngineError> {
    toml::from_str(text).map_err(|err| {
        let d = Diagnostic::from_toml(origin, text, &err).hint(parse_hint(err.message()));
        EngineError::Invalid(Diagnostics(vec![d]))
    })
}

/// Parses and resolves a scenario without running the model.
pub fn resolve_text(
    catalog: &Catalog,
    origin: &str,
    text: &str,
) -> Result<ResolvedScenario, EngineError> {
    let scenario = parse_scenario(origin, text)?;
    let mut r = Resolver::new(catalog, &scenario, origin, text);
    let input = r.resolve();
    r.problems.take_result().map_err(EngineError::Invalid)?;
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

/// What a plan computes beyond its central values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PlanOptions {
    /// Sample the ranged figures (`ranges`); `None` skips it (`--no-ranges`).
    pub ranges: Option<RangeOptions>,
}

impl PlanOptions {
    /// The command line's default: ranges from 1,000 draws, seed 0.
    pub fn with_ranges() -> PlanOptions {
        PlanOptions {
            ranges: Some(RangeOptions::default()),
        }
    }
}

/// Parses `text` and plans it with `options` (ranges or not).
pub fn plan_text_with(
    catalog: &Catalog,
    origin: &str,
    text: &str,
    options: &PlanOptions,
) -> Result<PlanResult, EngineError> {
    plan_text_with_capability(
        catalog,
        origin,
        text,
        options,
        &crate::capability::CapabilityFlags::default(),
    )
}

/// [`plan_text_with`] with capability inputs from flags laid over the scenario's
/// `[capability]` table.
pub fn plan_text_with_capability(
    catalog: &Catalog,
    origin: &str,
    text: &str,
    options: &PlanOptions,
    flags: &crate::capability::CapabilityFlags,
) -> Result<PlanResult, EngineError> {
    let mut scenario: Scenario = toml::from_str(text).map_err(|err| {
        let mut d = Diagnostic::from_toml(origin, text, &err);
        d = d.hint(parse_hint(err.message()));
        EngineError::Invalid(Diagnostics(vec![d]))
    })?;
    flags.apply(&mut scenario.capability);
    plan_with(catalog, &scenario, origin, text, options)
}

/// Plans a parsed scenario with `options`.
pub fn plan_with(
    catalog: &Catalog,
    scenario: &Scenario,
    origin: &str,
    text: &str,
    options: &PlanOptions,
) -> Result<PlanResult, EngineError> {
    let (mut result, tables) = plan_inner(catalog, scenario, origin, text, true)?;
    if let Some(range_options) = options.ranges {
        add_ranges_with_tables(
            catalog,
            scenario,
            origin,
            text,
            &mut result,
            range_options,
            tables.as_ref(),
        )?;
    }
    Ok(result)
}

/// Samples the ranged figures of a planned `result` (from [`plan`] of the same scenario) and
/// sets its `ranges` and the opening that quotes them. [`plan_with`] is [`plan`] then this; a
/// caller that bounds or caches the draws (the server) calls the two itself.
pub fn add_ranges(
    catalog: &Catalog,
    scenario: &Scenario,
    origin: &str,
    text: &str,
    result: &mut PlanResult,
    options: RangeOptions,
) -> Result<(), EngineError> {
    // The capability tables the plan read, built again (their layout searches are memoised
    // per process, so this reads what `plan` computed).
    let tables = crate::capability::fleet_state::tables_for_plan(catalog, result);
    add_ranges_with_tables(
        catalog,
        scenario,
        origin,
        text,
        result,
        options,
        tables.as_ref(),
    )
}

/// [`add_ranges`] reading each draw's capability from `tables` (those the central plan read;
/// `None`: no capability ranges).
fn add_ranges_with_tables(
    catalog: &Catalog,
    scenario: &Scenario,
    origin: &str,
    text: &str,
    result: &mut PlanResult,
    options: RangeOptions,
    tables: Option<&crate::capability::SystemTables>,
) -> Result<(), EngineError> {
    // Each draw's capability is read from the central plan's tables (no search per draw).
    let reader = tables.and_then(|t| crate::capability::ranges::DrawReader::new(t, result));
    let rerun = |draws: &BTreeMap<String, f64>| {
        let mut r = Resolver::new(catalog, scenario, origin, text);
        r.draws = Some(draws);
        let input = r.resolve()?;
        if !r.problems.is_empty() {
            return None;
        }
        let mut rows = fleet::plan(&input.fleet).rows;
        let measures = reader.as_ref().map(|reader| reader.measures(&rows));
        Some((rows.pop()?, measures))
    };
    let (mut ranges, measures) = crate::ranges::sample_with(&result.assumptions, options, rerun);
    if let Some(reader) = &reader {
        let measures: Vec<[f64; 4]> = measures.into_iter().flatten().collect();
        ranges.capability = Some(reader.ranges(&measures, options.seed));
    }
    crate::finite::check_ranges(&ranges, origin)?;
    set_ranges(result, ranges);
    Ok(())
}

/// Sets ranges computed earlier for the same scenario and catalog (a cache's) and rewrites the
/// opening, which quotes them.
pub fn set_ranges(result: &mut PlanResult, ranges: crate::ranges::Ranges) {
    result.ranges = Some(ranges);
    result.opening = crate::opening::opening(result);
}

/// Plans a parsed scenario; `text` is the file it came from (for line numbers). Central values
/// only: [`plan_with`] adds ranges.
pub fn plan(
    catalog: &Catalog,
    scenario: &Scenario,
    origin: &str,
    text: &str,
) -> Result<PlanResult, EngineError> {
    plan_inner(catalog, scenario, origin, text, true).map(|(result, _)| result)
}

/// [`plan_text`] without the capability view (`capability` is `None`, its ledger lines absent):
/// the buildout alone, for sweeps whose outputs do not read capability. Capability runs the
/// training layout search per site; a 100,000-point sweep over facility sizes would run it
/// at nearly every point.
pub fn plan_text_without_capability(
    catalog: &Catalog,
    origin: &str,
    text: &str,
) -> Result<PlanResult, EngineError> {
    let scenario = parse_scenario(origin, text)?;
    plan_inner(catalog, &scenario, origin, text, false).map(|(result, _)| result)
}

fn plan_inner(
    catalog: &Catalog,
    scenario: &Scenario,
    origin: &str,
    text: &str,
    with_capability: bool,
) -> Result<(PlanResult, Option<crate::capability::SystemTables>), EngineError> {
    let mut r = Resolver::new(catalog, scenario, origin, text);
    let input = r.resolve();
    r.problems.take_result().map_err(EngineError::Invalid)?;
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
        .zip(&r.stacks)
        .map(|((totals, ids), stack)| TrancheSummary {
            totals: totals.clone(),
            deal: ids.deal.clone(),
            system: ids.system.clone(),
            unused_facility_gw: ids.unused_facility_gw,
            power_stack: stack.clone(),
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
        opening: Default::default(),
        comparison: Default::default(),
        ranges: None,
        capability: None,
    };
    let sites: Vec<Option<String>> = input.tranche_ids.iter().map(|t| t.site.clone()).collect();
    let tables = with_capability.then(|| {
        crate::capability::ledger::add_to_plan(&mut result, catalog, &sites, &capability_options)
    });
    crate::finite::check_plan(&result, origin)?;
    result.comparison =
        crate::opening::comparison(&result, &crate::power_stack::cross_check(catalog));
    result.opening = crate::opening::opening(&result);
    Ok((result, tables))
}

/// The capability options of a scenario, with its problems (an unknown serving model, a month
/// after the timeline among them) as located errors.
fn capability_options(
    catalog: &Catalog,
    scenario: &Scenario,
    input: &resolver::Resolved,
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
