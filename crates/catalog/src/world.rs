//! Validation of the catalog's picture of the world: deal histories, the basis of every GW
//! figure, sites, the record of past announcements, and the quality fields of sources.
//! Called by the loader after entries are gathered; adds errors and warnings to the checker.

use std::collections::BTreeMap;

use crate::checker::{Bound, Checker};
use crate::diagnostic::nearest;
use crate::history::{date_end, date_start, Event, StatusFold};
use crate::load::Placed;
use crate::model::{Deal, System};
use crate::record::RecordEntry;
use crate::site::Site;
use crate::{DealStatus, SourceKind, Sourced};

pub(crate) const BASIS_HINT: &str =
    "say what the GW measures: basis = \"facility\" (grid power), \"it\" (what the racks draw) or \"contracted\" (capacity named in a contract, basis unstated)";

pub(crate) fn validate_world(
    check: &mut Checker<'_>,
    deals: &BTreeMap<String, Placed<Deal>>,
    systems: &BTreeMap<String, Placed<System>>,
    events: &[(Placed<Event>, usize)],
    sites: &BTreeMap<String, Placed<Site>>,
    records: &BTreeMap<String, Placed<RecordEntry>>,
) {
    source_quality(check);
    for placed in deals.values() {
        let (file, deal) = (placed.file, &placed.item);
        if let Some(Sourced::Known { source_span, .. }) = &deal.power_gw {
            if deal.power_basis.is_none() {
                check.error(
                    file,
                    Some(source_span.clone()),
                    format!("deal[{}].power_basis", deal.id.get_ref()),
                    "a GW figure without a basis".into(),
                    BASIS_HINT.replace("basis =", "power_basis ="),
                );
            }
        }
    }
    deal_histories(check, deals, events);
    for placed in sites.values() {
        site(check, placed, deals, systems);
    }
    for placed in records.values() {
        record(check, placed);
    }
}

/// A source in the quality format (with `read`, or of a kind that came with it) without a
/// publisher is an error; an old-format source missing publisher, `read` or `excerpt` loads with
/// a warning (`catalog validate --strict` refuses it); a malformed `read` is an error.
fn source_quality(check: &mut Checker<'_>) {
    let sources = check.sources;
    for placed in sources.values() {
        let (file, s) = (placed.file, &placed.item);
        let id = s.id.get_ref();
        if let Some(read) = &s.read {
            check.is_dated(
                file,
                format!("source[{id}].read"),
                read,
                "write the date the page was read as YYYY-MM-DD",
            );
        }
        // A source in the quality format (it records when it was read, or uses one of the kinds
        // that came with it) must say who published it; an old-format source only warns, so
        // files written before the format still load.
        let new_format = s.read.is_some()
            || matches!(
                s.kind,
                SourceKind::PrimaryPress
                    | SourceKind::OfficialStatistics
                    | SourceKind::Analyst
                    | SourceKind::Aggregator
            );
        let no_publisher = s.publisher.as_deref().is_none_or(|p| p.trim().is_empty());
        if no_publisher && new_format {
            check.error(
                file,
                Some(s.id.span()),
                format!("source[{id}].publisher"),
                format!("source `{id}` has no publisher"),
                "add publisher = \"...\": the outlet or company that published or said it \
                     (for a page that re-publishes another's work, name the original and set read_via)",
            );
        }
        // A derived source is arithmetic on other sources (named in its note): there is no page
        // to have read and nothing to quote.
        let derived = s.kind == SourceKind::Derived;
        let mut missing = Vec::new();
        if no_publisher && !new_format {
            missing.push("`publisher` (who originally published it)");
        }
        if s.read.is_none() && !derived {
            missing.push("`read` (the date read, so `date` can be the publication date)");
        }
        if s.excerpt.as_deref().is_none_or(|e| e.trim().is_empty()) && !derived {
            missing.push("`excerpt` (a short quotation carrying the figure)");
        }
        if !missing.is_empty() {
            let d = check
                .diag(
                    file,
                    Some(s.id.span()),
                    format!("source[{id}]"),
                    format!("source `{id}` has no {}", missing.join(", no ")),
                )
                .hint("add the missing keys (catalog/README.md, \"[[source]]\"); old-format sources still load");
            check.warnings.push(d);
        }
    }
}

fn deal_histories(
    check: &mut Checker<'_>,
    deals: &BTreeMap<String, Placed<Deal>>,
    events: &[(Placed<Event>, usize)],
) {
    let mut by_deal: BTreeMap<&str, Vec<&Placed<Event>>> = BTreeMap::new();
    for (placed, _) in events {
        let (file, e) = (placed.file, &placed.item);
        let deal = e.deal.get_ref();
        let field = format!("event[{deal} {}]", e.date.get_ref());
        if !deals.contains_key(deal) {
            let mut d = check.diag(
                file,
                Some(e.deal.span()),
                format!("{field}.deal"),
                format!("an event for unknown deal `{deal}`"),
            );
            d = match nearest(deal, deals.keys().map(String::as_str)) {
                Some(near) => d.hint(format!(
                    "did you mean `{near}`? Otherwise define the deal in a [[deal]] entry first"
                )),
                None => d.hint("define the deal in a [[deal]] entry first"),
            };
            check.problems.push(d);
            continue;
        }
        if !check.is_dated(
            file,
            format!("{field}.date"),
            &e.date,
            "write dates as YYYY, YYYY-MM or YYYY-MM-DD",
        ) {
            continue;
        }
        check.source_exists(
            file,
            &format!("{field}.source"),
            e.source.get_ref(),
            &e.source.span(),
        );
        if let Some(gw) = &e.gw {
            check.is_amount(file, gw.span(), format!("{field}.gw"), "gw", *gw.get_ref());
            if e.basis.is_none() {
                check.error(
                    file,
                    Some(gw.span()),
                    format!("{field}.basis"),
                    "a GW figure without a basis".into(),
                    BASIS_HINT,
                );
            }
        }
        for (name, usd) in [
            ("contract_usd", e.contract_usd),
            ("investment_usd", e.investment_usd),
        ] {
            if let Some(usd) = usd {
                check.is_amount(file, e.date.span(), format!("{field}.{name}"), name, usd);
            }
        }
        if let Some(by) = &e.replaced_by {
            if !deals.contains_key(by.get_ref()) {
                check.error(
                    file,
                    Some(by.span()),
                    format!("{field}.replaced_by"),
                    format!("unknown deal `{}`", by.get_ref()),
                    "name the catalog deal that replaces this one, or remove `replaced_by`",
                );
            }
        }
        by_deal.entry(deal).or_default().push(placed);
    }
    for (deal_id, list) in by_deal {
        let mut fold = StatusFold::default();
        let mut previous: Option<&Placed<Event>> = None;
        let mut broken = false;
        for placed in &list {
            let (file, e) = (placed.file, &placed.item);
            let field = format!("event[{deal_id} {}]", e.date.get_ref());
            if let Some(prev) = previous.filter(|p| p.file == file) {
                let (before, after) = (prev.item.date.get_ref(), e.date.get_ref());
                // Out of order only when certainly earlier: `2025-09` after `2025-09-22` is
                // the same month, not a step back.
                if date_end(after) < date_start(before) {
                    check.error(
                        file,
                        Some(e.date.span()),
                        format!("{field}.date"),
                        format!("event dated {after} follows one dated {before}: events out of date order"),
                        format!("list `{deal_id}`'s events oldest first: move this one above the {before} event"),
                    );
                    broken = true;
                }
            }
            previous = Some(placed);
            if broken {
                continue;
            }
            if let Err(err) = fold.apply(*e.kind.get_ref()) {
                let state = err.from.map_or("no event yet", DealStatus::as_str);
                check.error(
                    file,
                    Some(e.kind.span()),
                    format!("{field}.kind"),
                    format!(
                        "`{}` is impossible for deal `{deal_id}` in state `{state}`",
                        err.kind.as_str()
                    ),
                    err.hint,
                );
                broken = true;
            }
        }
        if broken {
            continue;
        }
        let (Some(derived), Some(deal)) = (fold.status, deals.get(deal_id)) else {
            continue;
        };
        if derived != deal.item.status {
            check.error(
                deal.file,
                deal.item.status_as_of.source_span_opt(),
                format!("deal[{deal_id}].status"),
                format!(
                    "status `{}` disagrees with its events, which end in `{}`",
                    deal.item.status.as_str(),
                    derived.as_str()
                ),
                format!(
                    "set status = \"{}\", or add the event (with its source) that explains `{}`",
                    derived.as_str(),
                    deal.item.status.as_str()
                ),
            );
        }
    }
}

fn site(
    check: &mut Checker<'_>,
    placed: &Placed<Site>,
    deals: &BTreeMap<String, Placed<Deal>>,
    systems: &BTreeMap<String, Placed<System>>,
) {
    let (file, site) = (placed.file, &placed.item);
    let id = site.id.get_ref();
    check.id(file, "site", &site.id);
    if let Some(searched) = &site.searched {
        let text = searched.get_ref();
        if text.len() != 10 || !crate::checker::is_date(text) {
            check.error(
                file,
                Some(searched.span()),
                format!("site[{id}].searched"),
                format!("`{text}` is not a day"),
                "write the day the search for newer news was run, as YYYY-MM-DD",
            );
        }
        if site.latest.as_deref().is_none_or(|l| l.trim().is_empty()) {
            check.error(
                file,
                Some(searched.span()),
                format!("site[{id}].latest"),
                "a search date without what it found".into(),
                "add latest = \"...\": the newest public development (date, source id), or that nothing newer is public",
            );
        }
    }
    for deal in &site.deals {
        if !deals.contains_key(deal.get_ref()) {
            let mut d = check.diag(
                file,
                Some(deal.span()),
                format!("site[{id}].deals"),
                format!("unknown deal `{}`", deal.get_ref()),
            );
            if let Some(near) = nearest(deal.get_ref(), deals.keys().map(String::as_str)) {
                d = d.hint(format!("did you mean `{near}`?"));
            }
            check.problems.push(d);
        }
    }
    for (i, phase) in site.phase.iter().enumerate() {
        let f = |name: &str| format!("site[{id}].phase[{}].{name}", i + 1);
        check.date(file, f("date"), &phase.date);
        check.number(file, f("gw"), &phase.gw, Bound::NonNegative);
        if let Some(gpus) = &phase.gpus {
            check.number(file, f("gpus"), gpus, Bound::NonNegative);
        }
        if let Sourced::Known { source_span, .. } = &phase.gw {
            if phase.basis.is_none() {
                check.error(
                    file,
                    Some(source_span.clone()),
                    f("basis"),
                    "a GW figure without a basis".into(),
                    BASIS_HINT,
                );
            }
        }
        for system in &phase.systems {
            if !systems.contains_key(system.get_ref()) {
                check.error(
                    file,
                    Some(system.span()),
                    f("systems"),
                    format!("unknown system `{}`", system.get_ref()),
                    "use an id from `gigawatt catalog list`",
                );
            }
        }
    }
}

fn record(check: &mut Checker<'_>, placed: &Placed<RecordEntry>) {
    let (file, r) = (placed.file, &placed.item);
    let id = r.id.get_ref();
    check.id(file, "record", &r.id);
    let f = |name: &str| format!("record[{id}].{name}");
    check.date(file, f("announced"), &r.announced);
    if let Some(gw) = &r.gw {
        check.number(file, f("gw"), gw, Bound::NonNegative);
        if let (Sourced::Known { source_span, .. }, None) = (gw, &r.basis) {
            check.error(
                file,
                Some(source_span.clone()),
                f("basis"),
                "a GW figure without a basis".into(),
                BASIS_HINT,
            );
        }
    }
    if let Some(usd) = &r.usd {
        check.number(file, f("usd"), usd, Bound::NonNegative);
    }
    check.is_dated(
        file,
        f("horizon"),
        &r.horizon,
        "write the date the outcome is judged on as YYYY-MM-DD",
    );
    check.source_exists(
        file,
        &f("outcome_source"),
        r.outcome_source.get_ref(),
        &r.outcome_source.span(),
    );
    if !matches!(
        r.status_at_announcement,
        DealStatus::Announced | DealStatus::Binding
    ) {
        check.error(
            file,
            Some(r.id.span()),
            f("status_at_announcement"),
            format!(
                "`{}` is not a status a deal can be announced in",
                r.status_at_announcement.as_str()
            ),
            "use \"announced\" (non-binding or terms unknown) or \"binding\"",
        );
    }
}
