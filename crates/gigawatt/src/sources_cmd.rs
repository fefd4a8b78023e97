//! `gigawatt catalog sources`: how strong the sources are. Counts by kind and standing over the
//! whole catalog and over the figures of the default plan, then every source.

use std::collections::BTreeMap;
use std::fmt::Write;

use catalog::source_quality::{is_complete, standing, Standing};
use catalog::Catalog;
use serde_json::json;

use crate::cli::{CatalogKind, ListFormat};
use crate::{catalog_cmd, scenarios, Failure};

#[derive(Default, serde::Serialize)]
struct Counts {
    by_kind: BTreeMap<String, usize>,
    by_standing: BTreeMap<String, usize>,
    complete: usize,
    total: usize,
}

impl Counts {
    fn add(&mut self, source: &catalog::Source) {
        *self.by_kind.entry(source.kind.as_str().into()).or_default() += 1;
        *self
            .by_standing
            .entry(standing(source.kind).as_str().into())
            .or_default() += 1;
        self.complete += usize::from(is_complete(source));
        self.total += 1;
    }

    fn aggregators(&self) -> usize {
        self.by_standing
            .get(Standing::Aggregator.as_str())
            .copied()
            .unwrap_or(0)
    }
}

pub fn report(catalog: &Catalog, format: ListFormat) -> Result<String, Failure> {
    let mut all = Counts::default();
    for source in catalog.sources.values() {
        all.add(source);
    }
    // The default plan: count its figures (ledger entries) by the standing of their source.
    let (name, text) = scenarios::SHIPPED[0];
    let plan = engine::plan_text(catalog, &format!("<shipped>/scenarios/{name}.toml"), text)
        .map_err(|e| Failure::Input(e.to_string()))?;
    let mut figures = Counts::default();
    let mut cited = Counts::default();
    for a in &plan.assumptions {
        if let Some(source) = catalog.sources.get(&a.source) {
            figures.add(source);
        }
    }
    for s in &plan.sources {
        if let Some(source) = catalog.sources.get(&s.id) {
            cited.add(source);
        }
    }
    if format == ListFormat::Json {
        let list: serde_json::Value = serde_json::from_str(&catalog_cmd::list(
            catalog,
            catalog_cmd::Listing::Only(CatalogKind::Sources),
            format,
        ))
        .expect("the listing is JSON");
        let value = json!({
            "catalog_version": catalog.version,
            "catalog": all,
            "default_plan": { "scenario": name, "figures": figures, "sources": cited },
            "sources": list["sources"],
        });
        let mut s = serde_json::to_string_pretty(&value).expect("counts serialize");
        s.push('\n');
        return Ok(s);
    }
    let mut out = String::new();
    let mut section = |title: &str, c: &Counts| {
        let _ = writeln!(out, "{title}: {} in all", c.total);
        let _ = writeln!(out, "  by standing:");
        for (k, n) in &c.by_standing {
            let _ = writeln!(out, "    {k:<14} {n:>4}");
        }
        let _ = writeln!(out, "  by kind:");
        for (k, n) in &c.by_kind {
            let _ = writeln!(out, "    {k:<20} {n:>4}");
        }
        let _ = writeln!(
            out,
            "  aggregators: {} of {} ({}); with publisher, date read and excerpt: {}\n",
            c.aggregators(),
            c.total,
            if c.aggregators() * 2 < c.total.max(1) {
                "a minority"
            } else {
                "NOT a minority"
            },
            c.complete
        );
    };
    section("Sources in the catalog", &all);
    section(
        &format!("Figures in the default plan ({name}), by the standing of their source"),
        &figures,
    );
    section(&format!("Sources the default plan cites ({name})"), &cited);
    out.push_str(&catalog_cmd::list(
        catalog,
        catalog_cmd::Listing::Only(CatalogKind::Sources),
        format,
    ));
    Ok(out)
}

/// Examples shown under `gigawatt catalog record --help` and `-h`.
pub const RECORD_EXAMPLES: &str = "\
Examples:
  gigawatt catalog record                 # odds by status and counterparty, then every entry
  gigawatt catalog record -f json | jq .odds";

/// `gigawatt catalog record`: the odds table, then every entry.
pub fn record(catalog: &Catalog, format: ListFormat) -> String {
    let table = risk::record_odds::table(catalog);
    if format == ListFormat::Json {
        let value = json!({
            "catalog_version": catalog.version,
            "odds": table,
            "records": catalog.records.values().collect::<Vec<_>>(),
        });
        let mut s = serde_json::to_string_pretty(&value).expect("record serializes");
        s.push('\n');
        return s;
    }
    let mut out = String::from(
        "Odds from the record (catalog/record.toml; selection rule in catalog/README.md)\n\
         Dirichlet(1,1,1) posterior mean [90% interval]; pending entries are censored, not failures\n\n",
    );
    let _ = writeln!(
        out,
        "  {:<36} {:>7} {:>8}  {:<20} {:<20} {:<20}",
        "group", "decided", "censored", "proceed", "cut", "collapse"
    );
    let e =
        |x: risk::record_odds::Estimate| format!("{:.2} [{:.2}, {:.2}]", x.mean, x.lo90, x.hi90);
    for row in &table {
        let _ = writeln!(
            out,
            "  {:<36} {:>7} {:>8}  {:<20} {:<20} {:<20}",
            row.group,
            row.decided,
            row.censored,
            e(row.proceed),
            e(row.cut_p),
            e(row.collapse_p)
        );
    }
    let _ = writeln!(out, "\nEntries (outcome on the horizon)");
    for r in catalog.records.values() {
        let _ = writeln!(
            out,
            "  {:<32} {:<10} {:<9} {:<13} {:<9} {}",
            r.id.get_ref(),
            r.announced.value().map_or("?", String::as_str),
            r.status_at_announcement.as_str(),
            r.counterparty_type.as_str(),
            r.outcome.as_str(),
            r.outcome_note
        );
    }
    let _ = writeln!(out, "\ncatalog {}", catalog.version);
    out
}
