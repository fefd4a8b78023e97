//! Reading a portfolio file and resolving it, with the plan it names, into a [`Portfolio`]:
//! every problem located (file, line, field) with a fix; nothing clamped.
//!
//! [`build`] reads the file's sections in order, each noting its problems in one `Ctx` so a
//! run reports them all at once: the header fields (`header`), the shared drivers
//! (`drivers`), the deals (`deals`); then, with none found, it splits the plan at `as_of`
//! (`as_of`) and gathers the sources the assumptions cite (`sources`).

mod as_of;
mod deals;
mod drivers;
mod header;
mod sources;

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use catalog::{nearest, Catalog, Diagnostic, Diagnostics, Problems};
use engine::Assumption;

use crate::file::PortfolioFile;
use crate::model::Portfolio;
use crate::result::PortfolioInfo;
use crate::RiskError;

/// The pseudo-source for plain numbers written in the portfolio file.
pub const PORTFOLIO_SOURCE: &str = "portfolio";

/// Parses a portfolio file (`origin` names it in diagnostics).
pub fn parse(origin: &str, text: &str) -> Result<PortfolioFile, RiskError> {
    toml::from_str(text).map_err(|err| {
        let hint = if err.message().contains("unknown field") {
            "check the spelling against the portfolio format in the README (\"Deal risk\")"
        } else {
            "see \"Deal risk\" in the README for the portfolio format"
        };
        RiskError::Invalid(Diagnostics(vec![
            Diagnostic::from_toml(origin, text, &err).hint(hint)
        ]))
    })
}

/// What reading a portfolio file collects as its sections are resolved: every problem (so one
/// run reports them all), the assumptions ledger and the sources it cites.
struct Ctx<'a> {
    /// The portfolio file and every problem found in it.
    problems: Problems<'a>,
    assumptions: Vec<Assumption>,
    cited: BTreeSet<String>,
    known_sources: BTreeSet<String>,
}

impl Ctx<'_> {
    /// Checks that `source` (if any) exists; returns the id to cite.
    fn source(&mut self, source: Option<&str>, span: Range<usize>, field: &str) -> String {
        match source {
            None => PORTFOLIO_SOURCE.to_string(),
            Some(id) => {
                if !self.known_sources.contains(id) {
                    let hint = match nearest(id, self.known_sources.iter().map(String::as_str)) {
                        Some(near) => format!("did you mean `{near}`? Otherwise add a [[source]] entry with id = \"{id}\" to the portfolio file"),
                        None => format!("add a [[source]] entry with id = \"{id}\" (title, url, date, kind) to the portfolio file"),
                    };
                    self.problems.add(
                        Some(span),
                        field,
                        format!("source `{id}` is not defined"),
                        hint,
                    );
                }
                id.to_string()
            }
        }
    }

    fn record(
        &mut self,
        name: String,
        value: f64,
        unit: &str,
        source: String,
        note: Option<String>,
    ) {
        self.cited.insert(source.clone());
        self.assumptions.push(Assumption {
            name,
            value,
            unit: unit.to_string(),
            source,
            note,
            low: None,
            high: None,
            range_from: None,
        });
    }

    /// A probability in [0, 1]; records a problem otherwise.
    /// A list that must hold exactly `N` numbers (`[low, high]`, `[min, mode, max]`): the
    /// numbers, or a problem saying how many `key` has and how to write it.
    fn numbers<const N: usize>(
        &mut self,
        list: &toml::Spanned<Vec<toml::Spanned<f64>>>,
        field: &str,
        key: &str,
        hint: &str,
    ) -> Option<[f64; N]> {
        let values: Vec<f64> = list.get_ref().iter().map(|v| *v.get_ref()).collect();
        let count = values.len();
        let fixed = <[f64; N]>::try_from(values).ok();
        if fixed.is_none() {
            self.problems.add(
                Some(list.span()),
                field,
                format!("`{key}` has {count} values"),
                hint,
            );
        }
        fixed
    }

    fn probability(&mut self, value: f64, span: Range<usize>, field: &str) -> bool {
        if !(0.0..=1.0).contains(&value) {
            self.problems.add(
                Some(span),
                field,
                format!("probability {value} is outside [0, 1]"),
                format!(
                    "`{field}` is a probability: write it as a number from 0 to 1 (0.25 for 25%)"
                ),
            );
            return false;
        }
        true
    }
}

/// Resolves `file` (text `text`, named `origin`) against the catalog and the plan it names
/// (`scenario_text`, named `scenario_origin`: the caller reads it).
pub fn build(
    catalog: &Catalog,
    file: &PortfolioFile,
    origin: &str,
    text: &str,
    scenario_origin: &str,
    scenario_text: &str,
) -> Result<Portfolio, RiskError> {
    let mut resolved = engine::resolve_text(catalog, scenario_origin, scenario_text)
        .map_err(|engine::EngineError::Invalid(d)| RiskError::Invalid(d))?;
    let scenario: engine::Scenario = toml::from_str(scenario_text).unwrap_or_default();

    let mut file_sources: BTreeMap<String, &catalog::Source> = BTreeMap::new();
    for s in &file.source {
        file_sources.insert(s.id.get_ref().clone(), s);
    }
    let mut ctx = Ctx {
        problems: Problems::new(origin, text),
        assumptions: Vec::new(),
        cited: BTreeSet::new(),
        known_sources: catalog
            .sources
            .keys()
            .cloned()
            .chain(file_sources.keys().cloned())
            .collect(),
    };

    let run_defaults = header::run_defaults(&mut ctx, file);
    let drivers = drivers::resolve(&mut ctx, &file.driver);
    let deals = deals::resolve(
        &mut ctx,
        catalog,
        file,
        &resolved,
        scenario_origin,
        &drivers,
    );

    ctx.problems.take_result().map_err(RiskError::Invalid)?;

    let index: BTreeMap<&str, usize> = deals
        .iter()
        .enumerate()
        .map(|(i, d)| (d.id.as_str(), i))
        .collect();
    let tranche_deal: Vec<Option<usize>> = resolved
        .tranche_deals
        .iter()
        .map(|d| d.as_deref().and_then(|d| index.get(d).copied()))
        .collect();
    let financing_deal: Vec<Option<usize>> = resolved
        .financing_deals
        .iter()
        .map(|d| d.as_deref().and_then(|d| index.get(d).copied()))
        .collect();

    let mut warnings = resolved.warnings.clone();
    for (t, deal) in tranche_deal.iter().enumerate() {
        if deal.is_none() {
            warnings.push(format!(
                "tranche `{}` has no deal: it is built as planned in every sample (give it `deal = \"id\"` to make it uncertain)",
                resolved.fleet.tranches[t].name
            ));
        }
    }

    // Each tranche's site and system by name, to follow tranches split at `as_of`.
    let original: Vec<(String, Option<String>, String)> = resolved
        .fleet
        .tranches
        .iter()
        .zip(&resolved.tranche_sites)
        .zip(&resolved.tranche_systems)
        .map(|((t, site), system)| (t.name.clone(), site.clone(), system.clone()))
        .collect();
    let Some(tranche_deal) = as_of::split(
        &mut ctx,
        file.as_of.as_ref(),
        &mut resolved.fleet,
        tranche_deal,
    ) else {
        return Err(RiskError::Invalid(Diagnostics::from(ctx.problems)));
    };

    let sources = sources::cited(&mut ctx, catalog, &file_sources, &resolved.sources, &deals);
    let mut assumptions = resolved.assumptions.clone();
    assumptions.extend(ctx.assumptions);

    let first = crate::model::first_month(&resolved.fleet);
    let info = PortfolioInfo {
        name: file
            .name
            .clone()
            .or_else(|| scenario.name.clone())
            .unwrap_or_else(|| origin.to_string()),
        description: file
            .description
            .clone()
            .or_else(|| scenario.description.clone())
            .unwrap_or_default(),
        origin: origin.to_string(),
        input_hash: engine::content_hash(text),
        scenario_origin: scenario_origin.to_string(),
        scenario_name: scenario
            .name
            .clone()
            .unwrap_or_else(|| scenario_origin.to_string()),
        scenario_hash: engine::content_hash(scenario_text),
        first_month: first.map(|m| m.to_string()).unwrap_or_default(),
        end_month: resolved.fleet.end.to_string(),
    };
    let of_tranche = |name: &str| {
        original
            .iter()
            .find(|(n, _, _)| name == n || name.starts_with(&format!("{n} (delivered by ")))
            // A tranche without a site is its own site, split or not.
            .map(|(n, site, system)| {
                (
                    Some(site.clone().unwrap_or_else(|| format!("tranche:{n}"))),
                    system.clone(),
                )
            })
            .unwrap_or_default()
    };
    let (tranche_sites, tranche_systems) = resolved
        .fleet
        .tranches
        .iter()
        .map(|t| of_tranche(&t.name))
        .unzip();
    Ok(Portfolio {
        tranche_sites,
        tranche_systems,
        capability: resolved.capability.clone(),
        info,
        catalog_version: catalog.version.clone(),
        fleet: resolved.fleet,
        tranche_deal,
        financing_deal,
        deals,
        drivers,
        assumptions,
        sources,
        excluded: resolved.excluded,
        warnings,
        default_samples: run_defaults.samples,
        default_seed: run_defaults.seed,
    })
}

/// A sum for a message: `1.1`, not `1.1000000000000001`.
fn trim(value: f64) -> String {
    let text = format!("{value:.6}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// The `scenario` field of a portfolio: its value and span, for the caller to look up.
pub fn scenario_ref(file: &PortfolioFile) -> (&str, Range<usize>) {
    (file.scenario.get_ref(), file.scenario.span())
}

/// A diagnostic at the `scenario` field (the plan it names could not be found or read).
pub fn scenario_error(
    file: &PortfolioFile,
    origin: &str,
    text: &str,
    message: String,
    hint: String,
) -> RiskError {
    RiskError::Invalid(Diagnostics(vec![Diagnostic::new(origin, message)
        .at(text, Some(file.scenario.span()))
        .field("scenario")
        .hint(hint)]))
}
