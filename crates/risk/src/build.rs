//! Reading a portfolio file and resolving it, with the plan it names, into a [`Portfolio`]:
//! every problem located (file, line, field) with a fix; nothing clamped.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use catalog::{nearest, Catalog, Diagnostic, Diagnostics};
use engine::{Assumption, ScenarioNumber, SourceRef};
use fleet::{FinancingRule, FleetInput};
use units::Month;

use crate::file::{DealSpec, PortfolioFile};
use crate::model::{DealRisk, Driver, Portfolio};
use crate::result::PortfolioInfo;
use crate::simulate::MAX_SAMPLES;
use crate::RiskError;

/// The pseudo-source for plain numbers written in the portfolio file.
pub const PORTFOLIO_SOURCE: &str = "portfolio";
/// Longest delay a deal may be given, months.
const MAX_DELAY_MONTHS: f64 = 240.0;
/// Largest ramp multiplier.
const MAX_RAMP_FACTOR: f64 = 10.0;

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

struct Ctx<'a> {
    origin: &'a str,
    text: &'a str,
    problems: Vec<Diagnostic>,
    assumptions: Vec<Assumption>,
    cited: BTreeSet<String>,
    known_sources: BTreeSet<String>,
}

impl Ctx<'_> {
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
                    self.problem(
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
    fn probability(&mut self, value: f64, span: Range<usize>, field: &str) -> bool {
        if !(0.0..=1.0).contains(&value) {
            self.problem(
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
    let resolved = engine::resolve_text(catalog, scenario_origin, scenario_text)
        .map_err(|engine::EngineError::Invalid(d)| RiskError::Invalid(d))?;
    let scenario: engine::Scenario = toml::from_str(scenario_text).unwrap_or_default();

    let mut file_sources: BTreeMap<String, &catalog::Source> = BTreeMap::new();
    for s in &file.source {
        file_sources.insert(s.id.get_ref().clone(), s);
    }
    let mut ctx = Ctx {
        origin,
        text,
        problems: Vec::new(),
        assumptions: Vec::new(),
        cited: BTreeSet::new(),
        known_sources: catalog
            .sources
            .keys()
            .cloned()
            .chain(file_sources.keys().cloned())
            .collect(),
    };

    if let Some(version) = &file.schema_version {
        if *version.get_ref() != 1 {
            ctx.problem(
                Some(version.span()),
                "schema_version",
                format!("unsupported schema_version {}", version.get_ref()),
                "this version of gigawatt reads schema_version = 1",
            );
        }
    }
    let default_samples = file.samples.as_ref().and_then(|s| {
        let n = *s.get_ref();
        if n < 1 || n as u64 > MAX_SAMPLES {
            ctx.problem(
                Some(s.span()),
                "samples",
                format!("{n} samples is outside 1 to {MAX_SAMPLES}"),
                "ask for between 1 and 10,000,000 samples (10,000 gives percentiles to about 1%)",
            );
            None
        } else {
            Some(n as u64)
        }
    });
    let default_seed = file.seed.as_ref().and_then(|s| {
        let seed = *s.get_ref();
        if seed < 0 {
            ctx.problem(
                Some(s.span()),
                "seed",
                format!("impossible seed {seed}"),
                "a seed is a whole number, 0 or more",
            );
            None
        } else {
            Some(seed as u64)
        }
    });

    // Drivers.
    let mut drivers: Vec<Driver> = Vec::new();
    for (i, spec) in file.driver.iter().enumerate() {
        let field = format!("driver[{}]", i + 1);
        let id = spec.id.get_ref().clone();
        if drivers.iter().any(|d| d.id == id) {
            ctx.problem(
                Some(spec.id.span()),
                format!("{field}.id"),
                format!("driver `{id}` is defined twice"),
                "give each [[driver]] its own id",
            );
        }
        let weight: &ScenarioNumber = spec.weight.get_ref();
        let weight_field = format!("{field}.weight");
        if !(0.0..=1.0).contains(&weight.value) {
            ctx.problem(
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

    // The plan's deals, in order of first appearance.
    let mut plan_deals: Vec<String> = Vec::new();
    for deal in resolved
        .tranche_deals
        .iter()
        .chain(&resolved.financing_deals)
        .flatten()
    {
        if !plan_deals.contains(deal) {
            plan_deals.push(deal.clone());
        }
    }

    // Specs by deal id.
    let mut specs: BTreeMap<String, (usize, &DealSpec)> = BTreeMap::new();
    for (i, spec) in file.deal.iter().enumerate() {
        let id = spec.id.get_ref();
        let field = format!("deal[{}].id", i + 1);
        if !catalog.deals.contains_key(id) {
            let hint = match catalog.nearest_deal(id) {
                Some(near) => format!(
                    "did you mean `{near}`? `gigawatt catalog list --kind deals` shows every deal"
                ),
                None => "`gigawatt catalog list --kind deals` shows every deal".into(),
            };
            let (message, hint) = engine::not_yet_public(catalog, id)
                .unwrap_or_else(|| (format!("unknown deal `{id}`"), hint));
            ctx.problem(Some(spec.id.span()), field, message, hint);
        } else if !plan_deals.contains(id) {
            let hint = if plan_deals.is_empty() {
                "the plan has no deals: give its tranches `deal = \"id\"`".to_string()
            } else {
                format!(
                    "the plan's deals are {}",
                    plan_deals
                        .iter()
                        .map(|d| format!("`{d}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            ctx.problem(
                Some(spec.id.span()),
                field,
                format!("deal `{id}` has no tranche or financing in the plan {scenario_origin}"),
                hint,
            );
        } else if specs.contains_key(id) {
            ctx.problem(
                Some(spec.id.span()),
                field,
                format!("deal `{id}` is listed twice"),
                "merge the two [[deal]] entries into one",
            );
        } else {
            specs.insert(id.clone(), (i, spec));
        }
    }

    let mut deals: Vec<DealRisk> = Vec::new();
    for id in &plan_deals {
        let Some(entry) = catalog.deals.get(id) else {
            continue;
        };
        let status = entry.status;
        let status_source = entry.status_as_of.source().map(str::to_string);
        let (defaults, default_note) =
            crate::defaults::for_deal(catalog, status, entry.counterparty_type);
        let default_source = status_source
            .clone()
            .unwrap_or_else(|| PORTFOLIO_SOURCE.into());
        let mut deal = DealRisk {
            id: id.clone(),
            name: entry.name.clone(),
            status: status.as_str().to_string(),
            status_as_of: entry.status_as_of.value().cloned(),
            status_source: status_source.clone(),
            from_file: false,
            proceed: defaults.proceed,
            cut: defaults.cut,
            cut_kept: defaults.cut_kept,
            collapse: defaults.collapse,
            delay: defaults.delay,
            delay_months: defaults.delay_months,
            ramp_factor: defaults.ramp_factor,
            drivers: Vec::new(),
        };
        let spec = specs.get(id).copied();
        let label = |key: &str| format!("deal[{id}].{key}");
        // Outcome probabilities: all three from the file, or the status defaults.
        let trio_given = spec
            .is_some_and(|(_, s)| s.proceed.is_some() || s.cut.is_some() || s.collapse.is_some());
        let mut file_trio = false;
        if let (true, Some((i, s))) = (trio_given, spec) {
            let field = |key: &str| format!("deal[{}].{key}", i + 1);
            match (&s.proceed, &s.cut, &s.collapse) {
                (Some(proceed), Some(cut), Some(collapse)) => {
                    let p = proceed.get_ref();
                    let c = cut.get_ref();
                    let x = collapse.get_ref();
                    let ok = ctx.probability(p.value, proceed.span(), &field("proceed"))
                        & ctx.probability(*c.value.get_ref(), c.value.span(), &field("cut.value"))
                        & ctx.probability(x.value, collapse.span(), &field("collapse"));
                    let sum = p.value + *c.value.get_ref() + x.value;
                    if ok && (sum - 1.0).abs() > 1e-9 {
                        ctx.problem(
                            Some(collapse.span()),
                            field("collapse"),
                            format!(
                                "proceed {} + cut {} + collapse {} = {}, not 1",
                                p.value,
                                c.value.get_ref(),
                                x.value,
                                trim(sum)
                            ),
                            format!("the three outcomes are exclusive and must add up to 1: for example collapse = {}", trim((1.0 - p.value - c.value.get_ref()).max(0.0))),
                        );
                    }
                    let kept = c.kept.get_ref();
                    if kept.len() != 2 {
                        ctx.problem(
                            Some(c.kept.span()),
                            field("cut.kept"),
                            format!("`kept` has {} values", kept.len()),
                            "write the share of the deal kept when cut as [low, high], for example kept = [0.3, 0.7]",
                        );
                    } else {
                        let (lo, hi) = (*kept[0].get_ref(), *kept[1].get_ref());
                        if !(0.0..=1.0).contains(&lo) || !(0.0..=1.0).contains(&hi) || lo > hi {
                            ctx.problem(
                                Some(c.kept.span()),
                                field("cut.kept"),
                                format!("impossible range [{lo}, {hi}]"),
                                "the share kept is [low, high] with 0 <= low <= high <= 1",
                            );
                        }
                        deal.cut_kept = [lo, hi];
                    }
                    let source_p =
                        ctx.source(p.source.as_deref(), proceed.span(), &field("proceed"));
                    let cut_source_span = c.source.as_ref().map_or(cut.span(), |s| s.span());
                    let source_c = ctx.source(
                        c.source.as_ref().map(|s| s.get_ref().as_str()),
                        cut_source_span,
                        &field("cut.source"),
                    );
                    let source_x =
                        ctx.source(x.source.as_deref(), collapse.span(), &field("collapse"));
                    let note = |n: &Option<String>| n.clone().or_else(|| s.note.clone());
                    ctx.record(
                        label("proceed"),
                        p.value,
                        "probability",
                        source_p,
                        note(&p.note),
                    );
                    ctx.record(
                        label("cut"),
                        *c.value.get_ref(),
                        "probability",
                        source_c.clone(),
                        note(&c.note),
                    );
                    ctx.record(
                        label("cut.kept_low"),
                        deal.cut_kept[0],
                        "share of GW",
                        source_c.clone(),
                        note(&c.note),
                    );
                    ctx.record(
                        label("cut.kept_high"),
                        deal.cut_kept[1],
                        "share of GW",
                        source_c,
                        note(&c.note),
                    );
                    ctx.record(
                        label("collapse"),
                        x.value,
                        "probability",
                        source_x,
                        note(&x.note),
                    );
                    deal.proceed = p.value;
                    deal.cut = *c.value.get_ref();
                    deal.collapse = x.value;
                    deal.from_file = true;
                    file_trio = true;
                }
                _ => {
                    let missing: Vec<&str> = [
                        ("proceed", s.proceed.is_none()),
                        ("cut", s.cut.is_none()),
                        ("collapse", s.collapse.is_none()),
                    ]
                    .into_iter()
                    .filter_map(|(k, m)| m.then_some(k))
                    .collect();
                    ctx.problem(
                        Some(s.id.span()),
                        format!("deal[{}]", i + 1),
                        format!("`{id}` sets some outcome probabilities but not {}", missing.join(", ")),
                        "give all three of proceed, cut = { value, kept }, collapse (adding up to 1), or none of them for the status defaults",
                    );
                }
            }
        }
        if !file_trio {
            for (key, value, unit) in [
                ("proceed", deal.proceed, "probability"),
                ("cut", deal.cut, "probability"),
                ("cut.kept_low", deal.cut_kept[0], "share of GW"),
                ("cut.kept_high", deal.cut_kept[1], "share of GW"),
                ("collapse", deal.collapse, "probability"),
            ] {
                ctx.record(
                    label(key),
                    value,
                    unit,
                    default_source.clone(),
                    Some(default_note.clone()),
                );
            }
        }
        // Delay.
        match spec.and_then(|(i, s)| s.delay.as_ref().map(|d| (i, s, d))) {
            Some((i, s, delay)) => {
                let field = |key: &str| format!("deal[{}].{key}", i + 1);
                let d = delay.get_ref();
                ctx.probability(*d.value.get_ref(), d.value.span(), &field("delay.value"));
                let months = d.months.get_ref();
                if months.len() != 3 {
                    ctx.problem(
                        Some(d.months.span()),
                        field("delay.months"),
                        format!("`months` has {} values", months.len()),
                        "write the delay as [min, mode, max] months, for example months = [0, 3, 18]",
                    );
                } else {
                    let m = [
                        *months[0].get_ref(),
                        *months[1].get_ref(),
                        *months[2].get_ref(),
                    ];
                    if let Some(negative) = months.iter().find(|v| *v.get_ref() < 0.0) {
                        ctx.problem(
                            Some(negative.span()),
                            field("delay.months"),
                            format!("negative delay {} months", negative.get_ref()),
                            "a delay is 0 months or more; an early start belongs in the plan's `start`",
                        );
                    } else if !(m[0] <= m[1] && m[1] <= m[2] && m.iter().all(|v| v.is_finite())) {
                        ctx.problem(
                            Some(d.months.span()),
                            field("delay.months"),
                            format!(
                                "[{}, {}, {}] is not ordered min <= mode <= max",
                                m[0], m[1], m[2]
                            ),
                            "write [min, mode, max] months with min <= mode <= max",
                        );
                    } else if m[2] > MAX_DELAY_MONTHS {
                        ctx.problem(
                            Some(months[2].span()),
                            field("delay.months"),
                            format!("a delay of {} months is beyond {MAX_DELAY_MONTHS} months (20 years)", m[2]),
                            "a deal that late is better modelled as a collapse",
                        );
                    }
                    deal.delay_months = m;
                }
                deal.delay = *d.value.get_ref();
                let span = d.source.as_ref().map_or(delay.span(), |s| s.span());
                let source = ctx.source(
                    d.source.as_ref().map(|s| s.get_ref().as_str()),
                    span,
                    &field("delay.source"),
                );
                let note = d.note.clone().or_else(|| s.note.clone());
                ctx.record(
                    label("delay"),
                    deal.delay,
                    "probability",
                    source.clone(),
                    note.clone(),
                );
                for (key, value) in ["min", "mode", "max"].iter().zip(deal.delay_months) {
                    ctx.record(
                        label(&format!("delay.months_{key}")),
                        value,
                        "months",
                        source.clone(),
                        note.clone(),
                    );
                }
            }
            None => {
                ctx.record(
                    label("delay"),
                    deal.delay,
                    "probability",
                    default_source.clone(),
                    Some(default_note.clone()),
                );
                for (key, value) in ["min", "mode", "max"].iter().zip(deal.delay_months) {
                    ctx.record(
                        label(&format!("delay.months_{key}")),
                        value,
                        "months",
                        default_source.clone(),
                        Some(default_note.clone()),
                    );
                }
            }
        }
        // Ramp.
        match spec.and_then(|(i, s)| s.ramp_factor.as_ref().map(|r| (i, s, r))) {
            Some((i, s, ramp)) => {
                let field = format!("deal[{}].ramp_factor", i + 1);
                let values = ramp.get_ref();
                let r: Vec<f64> = values.iter().map(|v| *v.get_ref()).collect();
                if r.len() != 3 {
                    ctx.problem(
                        Some(ramp.span()),
                        &field,
                        format!("`ramp_factor` has {} values", r.len()),
                        "write it as [min, mode, max], for example ramp_factor = [1.0, 1.2, 2.0]",
                    );
                } else if !(r[0] > 0.0 && r[0] <= r[1] && r[1] <= r[2] && r[2] <= MAX_RAMP_FACTOR) {
                    ctx.problem(
                        Some(ramp.span()),
                        &field,
                        format!("impossible ramp factors [{}, {}, {}]", r[0], r[1], r[2]),
                        format!("write [min, mode, max] with 0 < min <= mode <= max <= {MAX_RAMP_FACTOR} (1 = the plan's ramp)"),
                    );
                } else {
                    deal.ramp_factor = [r[0], r[1], r[2]];
                }
                for (key, value) in ["min", "mode", "max"].iter().zip(deal.ramp_factor) {
                    ctx.record(
                        label(&format!("ramp_factor_{key}")),
                        value,
                        "x ramp months",
                        PORTFOLIO_SOURCE.into(),
                        s.note.clone(),
                    );
                }
            }
            None => {
                for (key, value) in ["min", "mode", "max"].iter().zip(deal.ramp_factor) {
                    ctx.record(
                        label(&format!("ramp_factor_{key}")),
                        value,
                        "x ramp months",
                        default_source.clone(),
                        Some(default_note.clone()),
                    );
                }
            }
        }
        // Drivers.
        if let Some((i, s)) = spec {
            let mut total = 0.0;
            for (k, driver) in s.drivers.iter().flatten().enumerate() {
                let wanted = driver.get_ref();
                let field = format!("deal[{}].drivers[{}]", i + 1, k + 1);
                match drivers.iter().position(|d| &d.id == wanted) {
                    Some(index) if deal.drivers.contains(&index) => ctx.problem(
                        Some(driver.span()),
                        field,
                        format!("driver `{wanted}` is listed twice"),
                        "list each driver once",
                    ),
                    Some(index) => {
                        total += drivers[index].weight;
                        deal.drivers.push(index);
                    }
                    None => {
                        let hint = match nearest(wanted, drivers.iter().map(|d| d.id.as_str())) {
                            Some(near) => format!("did you mean `{near}`? Otherwise add a [[driver]] with id = \"{wanted}\""),
                            None => format!("add a [[driver]] with id = \"{wanted}\" and a weight"),
                        };
                        ctx.problem(
                            Some(driver.span()),
                            field,
                            format!("unknown driver `{wanted}`"),
                            hint,
                        );
                    }
                }
            }
            if total > 1.0 + 1e-9 {
                let span = s.drivers.as_ref().and_then(|d| d.first()).map(|d| d.span());
                ctx.problem(
                    span,
                    format!("deal[{}].drivers", i + 1),
                    format!("the drivers' weights add up to {}, more than 1", trim(total)),
                    "a deal's drivers share at most all of its uncertainty: lower the [[driver]] weights or list fewer drivers",
                );
            }
        }
        deals.push(deal);
    }

    if !ctx.problems.is_empty() {
        return Err(RiskError::Invalid(Diagnostics(ctx.problems)));
    }

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
    // Capacity already delivered by `as_of` is certain: split each tranche there.
    let (resolved, tranche_deal) = match &file.as_of {
        None => (resolved, tranche_deal),
        Some(as_of) => match as_of.get_ref().parse::<Month>() {
            Ok(month) => {
                let (fleet, deals) = split_delivered(resolved.fleet.clone(), &tranche_deal, month);
                let mut resolved = resolved;
                resolved.fleet = fleet;
                (resolved, deals)
            }
            Err(e) => {
                ctx.problems.push(
                    Diagnostic::new(origin, e.to_string())
                        .at(text, Some(as_of.span()))
                        .field("as_of")
                        .hint("write the month as YYYY-MM, e.g. \"2026-11\""),
                );
                return Err(RiskError::Invalid(Diagnostics(ctx.problems)));
            }
        },
    };

    // Sources: the plan's, plus those the risk assumptions cite.
    let mut sources: BTreeMap<String, SourceRef> = resolved
        .sources
        .iter()
        .map(|s| (s.id.clone(), s.clone()))
        .collect();
    for deal in &deals {
        if let Some(s) = &deal.status_source {
            ctx.cited.insert(s.clone());
        }
    }
    for id in &ctx.cited {
        if sources.contains_key(id) {
            continue;
        }
        let source = if id == PORTFOLIO_SOURCE {
            SourceRef {
                id: id.clone(),
                title: format!("Set in {origin}"),
                url: String::new(),
                date: String::new(),
                kind: "user-input".into(),
            }
        } else if let Some(s) = file_sources
            .get(id)
            .copied()
            .or_else(|| catalog.sources.get(id))
        {
            SourceRef {
                id: id.clone(),
                title: s.title.clone(),
                url: s.url.clone(),
                date: s.date.get_ref().clone(),
                kind: s.kind.as_str().to_string(),
            }
        } else {
            continue;
        };
        sources.insert(id.clone(), source);
    }
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
        sources: sources.into_values().collect(),
        excluded: resolved.excluded,
        warnings,
        default_samples,
        default_seed,
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

/// Splits every tranche at `as_of`: the systems the plan has online by then become a certain
/// tranche (no deal) ramping from the original start to `as_of`; the rest keeps the deal and
/// ramps over the remaining months from the month after. Per-GW financing counts both parts.
pub(crate) fn split_delivered(
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
