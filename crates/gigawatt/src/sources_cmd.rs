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
        let list: serde_json::Value =
            serde_json::from_str(&catalog_cmd::list(catalog, CatalogKind::Sources, format))
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
    out.push_str(&catalog_cmd::list(catalog, CatalogKind::Sources, format));
    Ok(out)
}
