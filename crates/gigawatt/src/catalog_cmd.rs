//! `gigawatt catalog`: list, show and validate catalog entries and their sources.

use std::fmt::Write;

use catalog::{Catalog, Sourced};
use serde_json::json;
use units::{fmt_count, fmt_number, fmt_usd};

use crate::cli::{CatalogCommand, CatalogKind, Cli, ListFormat};
use crate::plan_cmd::load_catalog;
use crate::{output, Failure};

pub fn run(cli: &Cli, command: &CatalogCommand) -> Result<(), Failure> {
    let catalog = load_catalog(cli.catalog.as_deref())?;
    let text = match command {
        CatalogCommand::List { kind, all, format } => {
            // Without --kind: everything but the (long) list of sources; --all adds them.
            let kind = match kind {
                Some(kind) => Listing::Only(*kind),
                None if *all => Listing::Only(CatalogKind::All),
                None => Listing::AllButSources,
            };
            list(&catalog, kind, *format)
        }
        CatalogCommand::Show { id, format } => show(&catalog, id, *format)?,
        CatalogCommand::Sources { format } => crate::sources_cmd::report(&catalog, *format)?,
        CatalogCommand::Record { format } => crate::sources_cmd::record(&catalog, *format),
        CatalogCommand::Claims { quantity, format } => {
            crate::claims_cmd::report(&catalog, quantity.as_deref(), *format)?
        }
        CatalogCommand::Validate { strict } => {
            let warnings: String = catalog
                .warnings
                .iter()
                .map(|w| format!("warning: {w}\n"))
                .collect();
            if *strict && !catalog.warnings.is_empty() {
                return Err(Failure::Input(format!(
                    "{warnings}{} warnings, and --strict treats warnings as errors",
                    catalog.warnings.len()
                )));
            }
            eprint!("{warnings}");
            format!(
                "catalog {} is valid: {} sources, {} accelerators, {} systems, {} deals ({} events), {} sites, {} record entries, {} claims, {} models; {} warnings\n",
                catalog.version,
                catalog.sources.len(),
                catalog.accelerators.len(),
                catalog.systems.len(),
                catalog.deals.len(),
                catalog.events.len(),
                catalog.sites.len(),
                catalog.records.len(),
                catalog.claims.len(),
                catalog.models.len(),
                catalog.warnings.len()
            )
        }
    };
    output::emit(&text, None)
}

fn number(value: &Sourced<f64>) -> String {
    match value {
        Sourced::Known { value, .. } => fmt_number(*value),
        Sourced::Unknown(_) => "?".into(),
        Sourced::NotApplicable(_) => "-".into(),
    }
}

fn money(value: &Sourced<f64>) -> String {
    value.number().map_or_else(|| number(value), fmt_usd)
}

fn json_pretty(value: &impl serde::Serialize) -> String {
    let mut s = serde_json::to_string_pretty(value).expect("catalog entries serialize");
    s.push('\n');
    s
}

/// What `catalog list` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Listing {
    /// Systems, accelerators, deals and models (the default).
    AllButSources,
    /// One kind, or with `All` every kind and the facility defaults.
    Only(CatalogKind),
}

pub(crate) fn list(catalog: &Catalog, listing: Listing, format: ListFormat) -> String {
    let wants = |k: CatalogKind| match listing {
        Listing::AllButSources => k != CatalogKind::Sources,
        Listing::Only(kind) => kind == CatalogKind::All || kind == k,
    };
    let kind = match listing {
        Listing::AllButSources => CatalogKind::Systems,
        Listing::Only(kind) => kind,
    };
    if format == ListFormat::Json {
        let mut value = serde_json::Map::new();
        value.insert("catalog_version".into(), json!(catalog.version));
        if wants(CatalogKind::Accelerators) {
            value.insert(
                "accelerators".into(),
                json!(catalog.accelerators.values().collect::<Vec<_>>()),
            );
        }
        if wants(CatalogKind::Systems) {
            value.insert(
                "systems".into(),
                json!(catalog.systems.values().collect::<Vec<_>>()),
            );
        }
        if wants(CatalogKind::Deals) {
            value.insert(
                "deals".into(),
                json!(catalog.deals.values().collect::<Vec<_>>()),
            );
        }
        if wants(CatalogKind::Sources) {
            value.insert(
                "sources".into(),
                json!(catalog.sources.values().collect::<Vec<_>>()),
            );
        }
        if wants(CatalogKind::Sites) {
            value.insert(
                "sites".into(),
                json!(catalog.sites.values().collect::<Vec<_>>()),
            );
        }
        if kind == CatalogKind::All {
            value.insert("facility".into(), json!(catalog.facility));
        }
        return json_pretty(&value);
    }
    let mut out = String::new();
    if wants(CatalogKind::Sites) {
        out.push_str(&crate::deals_cmd::sites_table(catalog));
    }
    if wants(CatalogKind::Systems) {
        let _ = writeln!(
            out,
            "Systems (? = not public; `gigawatt catalog show ID` gives sources)"
        );
        let _ = writeln!(
            out,
            "  {:<20} {:<16} {:>6} {:>7} {:>9} {:>10} {:>9}",
            "id", "accelerator", "accel", "domain", "IT kW", "price", "available"
        );
        for s in catalog.systems.values() {
            let _ = writeln!(
                out,
                "  {:<20} {:<16} {:>6} {:>7} {:>9} {:>10} {:>9}",
                s.id.get_ref(),
                s.accelerator.get_ref(),
                number(&s.accelerators_per_system),
                number(&s.scale_up_domain),
                number(&s.it_power_kw),
                money(&s.price_usd),
                s.first_available.value().map_or("?", String::as_str)
            );
        }
        let _ = writeln!(out);
    }
    if wants(CatalogKind::Accelerators) {
        let _ = writeln!(out, "Accelerators (dense peak TFLOP/s; - = not supported)");
        let _ = writeln!(
            out,
            "  {:<16} {:>8} {:>8} {:>8} {:>8} {:>8} {:>7}  name",
            "id", "bf16", "fp8", "fp4", "HBM GiB", "HBM TB/s", "TDP W"
        );
        for a in catalog.accelerators.values() {
            let _ = writeln!(
                out,
                "  {:<16} {:>8} {:>8} {:>8} {:>8} {:>8} {:>7}  {}",
                a.id.get_ref(),
                number(&a.bf16_dense_tflops),
                number(&a.fp8_dense_tflops),
                number(&a.fp4_dense_tflops),
                number(&a.hbm_gib),
                number(&a.hbm_tb_per_s),
                number(&a.tdp_w),
                a.name
            );
        }
        let _ = writeln!(out);
    }
    if wants(CatalogKind::Deals) {
        let _ = writeln!(out, "Deals (status as publicly reported)");
        let _ = writeln!(
            out,
            "  {:<28} {:<10} {:>6} {:>10} {:>10}  as of",
            "id", "status", "GW", "contract", "investment"
        );
        for d in catalog.deals.values() {
            let gw = d.power_gw.as_ref().map_or("-".into(), number);
            let contract = d.contract_value_usd.as_ref().map_or("-".into(), money);
            let investment = d.investment_usd.as_ref().map_or("-".into(), money);
            let _ = writeln!(
                out,
                "  {:<28} {:<10} {:>6} {:>10} {:>10}  {}",
                d.id.get_ref(),
                d.status.as_str(),
                gw,
                contract,
                investment,
                d.status_as_of.value().map_or("?", String::as_str)
            );
        }
        let _ = writeln!(out);
    }
    if wants(CatalogKind::Models) {
        let _ = writeln!(out, "Models (for `gigawatt train`)");
        let _ = writeln!(
            out,
            "  {:<18} {:>6} {:>6} {:>6} {:>6} {:>4} {:>7} {:>8}  source",
            "id", "layers", "hidden", "heads", "kv", "moe", "vocab", "params"
        );
        for m in catalog.models.values() {
            let moe = if m.experts > 0 {
                format!("{}x{}", m.top_k, m.experts)
            } else {
                "-".into()
            };
            let params = engine::train::arch_from_catalog(m).total_params();
            let _ = writeln!(
                out,
                "  {:<18} {:>6} {:>6} {:>6} {:>6} {:>4} {:>7} {:>7.0}B  {}",
                m.id.get_ref(),
                m.layers,
                m.hidden,
                m.heads,
                m.kv_heads,
                moe,
                m.vocab,
                params / 1e9,
                m.source.get_ref()
            );
        }
        let _ = writeln!(out);
    }
    if wants(CatalogKind::Sources) {
        let _ = writeln!(out, "Sources");
        for s in catalog.sources.values() {
            let _ = writeln!(
                out,
                "  {:<44} {:<19} {:<10} {}",
                s.id.get_ref(),
                s.kind.as_str(),
                s.date.get_ref(),
                s.title
            );
            let _ = writeln!(out, "  {:<44} {}", "", s.url);
        }
        let _ = writeln!(out);
    }
    if listing == Listing::AllButSources {
        let _ = writeln!(
            out,
            "{} sources back these figures: `gigawatt catalog list --all` or `gigawatt catalog sources` lists them.",
            fmt_count(catalog.sources.len() as f64)
        );
    }
    let _ = writeln!(out, "catalog {}", catalog.version);
    out
}

fn show(catalog: &Catalog, id: &str, format: ListFormat) -> Result<String, Failure> {
    let entry: Option<(&str, serde_json::Value)> = if let Some(s) = catalog.systems.get(id) {
        Some(("system", json!(s)))
    } else if let Some(a) = catalog.accelerators.get(id) {
        Some(("accelerator", json!(a)))
    } else if let Some(d) = catalog.deals.get(id) {
        Some(("deal", json!(d)))
    } else if let Some(m) = catalog.models.get(id) {
        Some(("model", json!(m)))
    } else if id == "facility" {
        Some(("facility", json!(catalog.facility)))
    } else {
        catalog.sources.get(id).map(|s| ("source", json!(s)))
    };
    let Some((kind, value)) = entry else {
        let ids = catalog
            .systems
            .keys()
            .chain(catalog.accelerators.keys())
            .chain(catalog.deals.keys())
            .chain(catalog.models.keys())
            .chain(catalog.sources.keys())
            .map(String::as_str);
        let hint = match catalog::nearest(id, ids) {
            Some(near) => format!("did you mean `{near}`?"),
            None => "`gigawatt catalog list` shows every id".into(),
        };
        return Err(Failure::Input(format!(
            "no catalog entry has the id `{id}`\n  fix: {hint}"
        )));
    };
    if format == ListFormat::Json {
        return Ok(json_pretty(&json!({ "kind": kind, "entry": value })));
    }
    let mut out = if kind == id {
        format!("{kind} (planning defaults)\n")
    } else {
        format!("{kind} {id}\n")
    };
    let mut cited = Vec::new();
    if let serde_json::Value::Object(fields) = &value {
        for (key, field) in fields {
            if key == "id" {
                continue;
            }
            let line = match field {
                serde_json::Value::Object(inner) if inner.contains_key("value") => {
                    let source = inner.get("source").and_then(|s| s.as_str()).unwrap_or("");
                    cited.push(source.to_string());
                    let mut line = format!("{} [{}]", plain(&inner["value"]), source);
                    if let Some(note) = inner.get("note").and_then(|n| n.as_str()) {
                        line += &format!("\n  {:<26}  {}", "", note);
                    }
                    line
                }
                serde_json::Value::Object(inner) if inner.contains_key("unknown") => {
                    format!("unknown: {}", plain(&inner["unknown"]))
                }
                serde_json::Value::Object(inner) if inner.contains_key("not_applicable") => {
                    format!("not applicable: {}", plain(&inner["not_applicable"]))
                }
                other => plain(other),
            };
            let _ = writeln!(out, "  {key:<26}  {line}");
        }
    }
    cited.sort();
    cited.dedup();
    if !cited.is_empty() {
        let _ = writeln!(out, "\nSources");
        for id in cited {
            if let Some(s) = catalog.sources.get(&id) {
                let _ = writeln!(
                    out,
                    "  [{id}] {} ({}, {})\n    {}",
                    s.title,
                    s.kind.as_str(),
                    s.date.get_ref(),
                    s.url
                );
            }
        }
    }
    Ok(out)
}

fn plain(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Array(items) => items.iter().map(plain).collect::<Vec<_>>().join(", "),
        serde_json::Value::Number(n) => n.as_f64().map_or_else(|| n.to_string(), fmt_number),
        other => other.to_string(),
    }
}
