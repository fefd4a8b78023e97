//! The portfolio file's `[[deal]]` entries, resolved against the plan's deals: every deal the
//! plan has tranches or financing of gets its risk, from its entry where the file lists it and
//! from its reported status's defaults otherwise.

use std::collections::BTreeMap;

use catalog::{nearest, Catalog};
use engine::ResolvedScenario;

use super::{trim, Ctx, PORTFOLIO_SOURCE};
use crate::file::{DealSpec, PortfolioFile};
use crate::model::{DealRisk, Driver};

/// Longest delay a deal may be given, months.
const MAX_DELAY_MONTHS: f64 = 240.0;
/// Largest ramp multiplier.
const MAX_RAMP_FACTOR: f64 = 10.0;

/// What a number the file leaves to the deal's status defaults cites: the status's source (else
/// the portfolio) and the note saying how the default was judged.
struct StatusCitation {
    source: String,
    note: String,
}

impl StatusCitation {
    /// Records `value`, which the status defaults supplied, citing them.
    fn record(&self, ctx: &mut Ctx, name: String, value: f64, unit: &str) {
        ctx.record(
            name,
            value,
            unit,
            self.source.clone(),
            Some(self.note.clone()),
        );
    }
}

/// One of the plan's deals as it is resolved: its id, its `[[deal]]` entry with the entry's
/// index in the file (where the file lists it), and what the numbers its status supplies cite.
struct DealEntry<'a> {
    id: &'a str,
    spec: Option<(usize, &'a DealSpec)>,
    by_status: StatusCitation,
}

impl DealEntry<'_> {
    /// The ledger name of the deal's `key`.
    fn label(&self, key: &str) -> String {
        format!("deal[{}].{key}", self.id)
    }
}

/// Each deal of the plan, in order of first appearance, with its outcome, delay and ramp
/// uncertainty and its drivers (indices into `drivers`), every number recorded as an
/// assumption; a problem for each `[[deal]]` entry that is unknown, not in the plan or
/// listed twice.
pub(super) fn resolve(
    ctx: &mut Ctx,
    catalog: &Catalog,
    file: &PortfolioFile,
    resolved: &ResolvedScenario,
    scenario_origin: &str,
    drivers: &[Driver],
) -> Vec<DealRisk> {
    let plan_deals = plan_deals(resolved);
    let specs = specs_by_id(ctx, catalog, &file.deal, &plan_deals, scenario_origin);

    let mut deals: Vec<DealRisk> = Vec::new();
    for id in &plan_deals {
        let Some(entry) = catalog.deals.get(id) else {
            continue;
        };
        let status = entry.status;
        let status_source = entry.status_as_of.source().map(str::to_string);
        let (defaults, default_note) =
            crate::defaults::for_deal(catalog, status, entry.counterparty_type);
        let by_status = StatusCitation {
            source: status_source
                .clone()
                .unwrap_or_else(|| PORTFOLIO_SOURCE.into()),
            note: default_note,
        };
        let mut deal = DealRisk {
            id: id.clone(),
            name: entry.name.clone(),
            status: status.as_str().to_string(),
            status_as_of: entry.status_as_of.value().cloned(),
            status_source: status_source.clone(),
            from_file: false,
            odds: defaults,
            drivers: Vec::new(),
        };
        let entry = DealEntry {
            id,
            spec: specs.get(id).copied(),
            by_status,
        };
        outcomes(ctx, &entry, &mut deal);
        delay(ctx, &entry, &mut deal);
        ramp(ctx, &entry, &mut deal);
        link_drivers(ctx, &entry, &mut deal, drivers);
        deals.push(deal);
    }
    deals
}

/// The plan's deals, in order of first appearance.
fn plan_deals(resolved: &ResolvedScenario) -> Vec<String> {
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
    plan_deals
}

/// The file's `[[deal]]` entries by deal id, each with its index in the file; an entry for a
/// deal the catalog or the plan lacks, or a second entry for a deal, is a problem and left out.
fn specs_by_id<'a>(
    ctx: &mut Ctx,
    catalog: &Catalog,
    entries: &'a [DealSpec],
    plan_deals: &[String],
    scenario_origin: &str,
) -> BTreeMap<String, (usize, &'a DealSpec)> {
    let mut specs: BTreeMap<String, (usize, &DealSpec)> = BTreeMap::new();
    for (i, spec) in entries.iter().enumerate() {
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
            ctx.problems.add(Some(spec.id.span()), field, message, hint);
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
            ctx.problems.add(
                Some(spec.id.span()),
                field,
                format!("deal `{id}` has no tranche or financing in the plan {scenario_origin}"),
                hint,
            );
        } else if specs.contains_key(id) {
            ctx.problems.add(
                Some(spec.id.span()),
                field,
                format!("deal `{id}` is listed twice"),
                "merge the two [[deal]] entries into one",
            );
        } else {
            specs.insert(id.clone(), (i, spec));
        }
    }
    specs
}

/// Outcome probabilities: all three from the file, or the status defaults.
fn outcomes(ctx: &mut Ctx, entry: &DealEntry, deal: &mut DealRisk) {
    let (id, spec, by_status) = (entry.id, entry.spec, &entry.by_status);
    let label = |key: &str| entry.label(key);
    let trio_given =
        spec.is_some_and(|(_, s)| s.proceed.is_some() || s.cut.is_some() || s.collapse.is_some());
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
                    ctx.problems.add(
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
                if let Some([lo, hi]) = ctx.numbers(
                    &c.kept,
                    &field("cut.kept"),
                    "kept",
                    "write the share of the deal kept when cut as [low, high], for example kept = [0.3, 0.7]",
                ) {
                    if !(0.0..=1.0).contains(&lo) || !(0.0..=1.0).contains(&hi) || lo > hi {
                        ctx.problems.add(
                            Some(c.kept.span()),
                            field("cut.kept"),
                            format!("impossible range [{lo}, {hi}]"),
                            "the share kept is [low, high] with 0 <= low <= high <= 1",
                        );
                    }
                    deal.odds.cut_kept = [lo, hi];
                }
                let source_p = ctx.source(p.source.as_deref(), proceed.span(), &field("proceed"));
                let cut_source_span = c.source.as_ref().map_or(cut.span(), |s| s.span());
                let source_c = ctx.source(
                    c.source.as_ref().map(|s| s.get_ref().as_str()),
                    cut_source_span,
                    &field("cut.source"),
                );
                let source_x = ctx.source(x.source.as_deref(), collapse.span(), &field("collapse"));
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
                    deal.odds.cut_kept[0],
                    "share of GW",
                    source_c.clone(),
                    note(&c.note),
                );
                ctx.record(
                    label("cut.kept_high"),
                    deal.odds.cut_kept[1],
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
                deal.odds.proceed = p.value;
                deal.odds.cut = *c.value.get_ref();
                deal.odds.collapse = x.value;
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
                ctx.problems.add(
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
            ("proceed", deal.odds.proceed, "probability"),
            ("cut", deal.odds.cut, "probability"),
            ("cut.kept_low", deal.odds.cut_kept[0], "share of GW"),
            ("cut.kept_high", deal.odds.cut_kept[1], "share of GW"),
            ("collapse", deal.odds.collapse, "probability"),
        ] {
            by_status.record(ctx, label(key), value, unit);
        }
    }
}

/// The chance of a delay and its months, from the file or the status defaults.
fn delay(ctx: &mut Ctx, entry: &DealEntry, deal: &mut DealRisk) {
    let (spec, by_status) = (entry.spec, &entry.by_status);
    let label = |key: &str| entry.label(key);
    match spec.and_then(|(i, s)| s.delay.as_ref().map(|d| (i, s, d))) {
        Some((i, s, delay)) => {
            let field = |key: &str| format!("deal[{}].{key}", i + 1);
            let d = delay.get_ref();
            ctx.probability(*d.value.get_ref(), d.value.span(), &field("delay.value"));
            let months = d.months.get_ref();
            if let Some(m) = ctx.numbers::<3>(
                &d.months,
                &field("delay.months"),
                "months",
                "write the delay as [min, mode, max] months, for example months = [0, 3, 18]",
            ) {
                if let Some(negative) = months.iter().find(|v| *v.get_ref() < 0.0) {
                    ctx.problems.add(
                        Some(negative.span()),
                        field("delay.months"),
                        format!("negative delay {} months", negative.get_ref()),
                        "a delay is 0 months or more; an early start belongs in the plan's `start`",
                    );
                } else if !(m[0] <= m[1] && m[1] <= m[2] && m.iter().all(|v| v.is_finite())) {
                    ctx.problems.add(
                        Some(d.months.span()),
                        field("delay.months"),
                        format!(
                            "[{}, {}, {}] is not ordered min <= mode <= max",
                            m[0], m[1], m[2]
                        ),
                        "write [min, mode, max] months with min <= mode <= max",
                    );
                } else if m[2] > MAX_DELAY_MONTHS {
                    ctx.problems.add(
                        Some(months[2].span()),
                        field("delay.months"),
                        format!(
                            "a delay of {} months is beyond {MAX_DELAY_MONTHS} months (20 years)",
                            m[2]
                        ),
                        "a deal that late is better modelled as a collapse",
                    );
                }
                deal.odds.delay_months = m;
            }
            deal.odds.delay = *d.value.get_ref();
            let span = d.source.as_ref().map_or(delay.span(), |s| s.span());
            let source = ctx.source(
                d.source.as_ref().map(|s| s.get_ref().as_str()),
                span,
                &field("delay.source"),
            );
            let note = d.note.clone().or_else(|| s.note.clone());
            ctx.record(
                label("delay"),
                deal.odds.delay,
                "probability",
                source.clone(),
                note.clone(),
            );
            for (key, value) in ["min", "mode", "max"].iter().zip(deal.odds.delay_months) {
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
            by_status.record(ctx, label("delay"), deal.odds.delay, "probability");
            for (key, value) in ["min", "mode", "max"].iter().zip(deal.odds.delay_months) {
                by_status.record(ctx, label(&format!("delay.months_{key}")), value, "months");
            }
        }
    }
}

/// The multiplier on the deal's ramp months, from the file or the status defaults.
fn ramp(ctx: &mut Ctx, entry: &DealEntry, deal: &mut DealRisk) {
    let (spec, by_status) = (entry.spec, &entry.by_status);
    let label = |key: &str| entry.label(key);
    match spec.and_then(|(i, s)| s.ramp_factor.as_ref().map(|r| (i, s, r))) {
        Some((i, s, ramp)) => {
            let field = format!("deal[{}].ramp_factor", i + 1);
            if let Some(r) = ctx.numbers::<3>(
                ramp,
                &field,
                "ramp_factor",
                "write it as [min, mode, max], for example ramp_factor = [1.0, 1.2, 2.0]",
            ) {
                if r[0] > 0.0 && r[0] <= r[1] && r[1] <= r[2] && r[2] <= MAX_RAMP_FACTOR {
                    deal.odds.ramp_factor = r;
                } else {
                    ctx.problems.add(
                        Some(ramp.span()),
                        &field,
                        format!("impossible ramp factors [{}, {}, {}]", r[0], r[1], r[2]),
                        format!("write [min, mode, max] with 0 < min <= mode <= max <= {MAX_RAMP_FACTOR} (1 = the plan's ramp)"),
                    );
                }
            }
            for (key, value) in ["min", "mode", "max"].iter().zip(deal.odds.ramp_factor) {
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
            for (key, value) in ["min", "mode", "max"].iter().zip(deal.odds.ramp_factor) {
                by_status.record(
                    ctx,
                    label(&format!("ramp_factor_{key}")),
                    value,
                    "x ramp months",
                );
            }
        }
    }
}

/// The shared drivers the deal's entry lists, as indices into `drivers`.
fn link_drivers(ctx: &mut Ctx, entry: &DealEntry, deal: &mut DealRisk, drivers: &[Driver]) {
    if let Some((i, s)) = entry.spec {
        let mut total = 0.0;
        for (k, driver) in s.drivers.iter().flatten().enumerate() {
            let wanted = driver.get_ref();
            let field = format!("deal[{}].drivers[{}]", i + 1, k + 1);
            match drivers.iter().position(|d| &d.id == wanted) {
                Some(index) if deal.drivers.contains(&index) => ctx.problems.add(
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
                    ctx.problems.add(
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
            ctx.problems.add(
                span,
                format!("deal[{}].drivers", i + 1),
                format!("the drivers' weights add up to {}, more than 1", trim(total)),
                "a deal's drivers share at most all of its uncertainty: lower the [[driver]] weights or list fewer drivers",
            );
        }
    }
}
