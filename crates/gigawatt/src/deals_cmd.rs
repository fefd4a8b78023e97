//! `gigawatt deals`: each deal's dated history and its status on any date; and the
//! `--known-on` cut-back shared by `plan` and `risk`.

use std::fmt::Write;
use std::path::PathBuf;

use catalog::Catalog;
use clap::{Args, ValueEnum};
use engine::knowledge::{timeline, DealTimeline};
use serde_json::json;
use units::fmt_usd;

use crate::cli::Cli;
use crate::{output, plan_cmd, Failure};

const ABOUT: &str = "\
Deals as dated histories: each deal's events (announced, signed, revised, stalled, revived,
replaced, cancelled, delivered) with GW and its basis (facility, it, contracted), dollars and
the source of each, and the status they lead to (the mapping is in catalog/README.md).

With --on DATE, only what was public on that day: later events are left out, and deals not yet
public are listed as withheld.";

/// Examples shown under `gigawatt deals --help` and `-h`.
pub const EXAMPLES: &str = "\
Examples:
  gigawatt deals                          # every deal's timeline
  gigawatt deals openai-nvidia-loi        # one deal
  gigawatt deals --on 2025-12-31          # what was known at the end of 2025
  gigawatt deals -f csv > events.csv";

#[derive(Debug, Args)]
#[command(long_about = ABOUT, after_help = EXAMPLES)]
pub struct DealsArgs {
    /// One deal's id (default: every deal).
    #[arg(value_name = "ID")]
    pub id: Option<String>,
    /// Show the deals as known on this day (YYYY-MM-DD; YYYY-MM means the month's end).
    #[arg(long, value_name = "DATE")]
    pub on: Option<String>,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = DealsFormat::Table)]
    pub format: DealsFormat,
    /// Write the output to this file instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// Output formats of `gigawatt deals`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DealsFormat {
    /// Readable timelines.
    Table,
    /// Everything, as JSON.
    Json,
    /// One row per event.
    Csv,
}

/// The catalog cut back to what was public on `day` (`None`: unchanged).
pub fn cut_back(catalog: Catalog, day: Option<&str>) -> Result<Catalog, Failure> {
    let Some(day) = day else {
        return Ok(catalog);
    };
    if !catalog::history::is_date(day) {
        return Err(Failure::Input(format!(
            "`{day}` is not a date\n  fix: write --known-on / --on as YYYY-MM-DD (YYYY-MM or YYYY mean the end of that month or year)"
        )));
    }
    Ok(catalog.known_on(day))
}

pub fn run(cli: &Cli, args: &DealsArgs) -> Result<(), Failure> {
    let catalog = plan_cmd::load_catalog(cli.catalog.as_deref())?;
    let catalog = cut_back(catalog, args.on.as_deref())?;
    let ids: Vec<String> = match &args.id {
        Some(id) if catalog.deals.contains_key(id) => vec![id.clone()],
        Some(id) => {
            if let Some(first) = catalog.withheld.get(id) {
                return Err(Failure::Input(format!(
                    "deal `{id}` was not public on {} (its first event is dated {first})\n  fix: use --on {first} or later",
                    catalog.known_on.as_deref().unwrap_or("that day")
                )));
            }
            let hint = match catalog.nearest_deal(id) {
                Some(near) => format!("did you mean `{near}`? `gigawatt deals` lists every deal"),
                None => "`gigawatt deals` lists every deal".into(),
            };
            return Err(Failure::Input(format!(
                "unknown deal `{id}`\n  fix: {hint}"
            )));
        }
        None => catalog.deals.keys().cloned().collect(),
    };
    let timelines: Vec<DealTimeline> = ids.iter().filter_map(|id| timeline(&catalog, id)).collect();
    let text = match args.format {
        DealsFormat::Table => table(&catalog, &timelines),
        DealsFormat::Json => {
            let value = json!({
                "catalog_version": catalog.version,
                "knowledge_cutoff": catalog.knowledge_cutoff(),
                "on": catalog.known_on,
                "deals": timelines,
                "withheld": if args.id.is_some() { json!({}) } else { json!(catalog.withheld) },
            });
            let mut s = serde_json::to_string_pretty(&value).expect("timelines serialize");
            s.push('\n');
            s
        }
        DealsFormat::Csv => csv(&timelines),
    };
    output::emit(&text, args.out.as_deref())
}

fn gw_text(gw: Option<f64>, basis: Option<&str>) -> String {
    match gw {
        Some(gw) => format!("{gw} GW {}", basis.unwrap_or("?")),
        None => String::new(),
    }
}

fn table(catalog: &Catalog, timelines: &[DealTimeline]) -> String {
    let mut out = String::new();
    let when = match &catalog.known_on {
        Some(day) => format!("as known on {day}"),
        None => format!("catalog knowledge cut-off {}", catalog.knowledge_cutoff()),
    };
    let _ = writeln!(out, "Deal timelines ({when})\n");
    for t in timelines {
        let _ = writeln!(out, "{}  [{}]", t.deal, t.status);
        let _ = writeln!(out, "  {}", t.name);
        for e in &t.events {
            let mut money = Vec::new();
            if let Some(usd) = e.contract_usd {
                money.push(format!("contract {}", fmt_usd(usd)));
            }
            if let Some(usd) = e.investment_usd {
                money.push(format!("investment {}", fmt_usd(usd)));
            }
            let _ = writeln!(
                out,
                "  {:<10}  {:<9} -> {:<9}  {:<18} {:<36} {}",
                e.date,
                e.kind,
                e.status_after,
                gw_text(e.gw, e.basis.as_deref()),
                money.join(", "),
                e.source
            );
            if let Some(note) = &e.note {
                let _ = writeln!(out, "  {:<10}  {note}", "");
            }
        }
        let _ = writeln!(out);
    }
    if !catalog.withheld.is_empty() {
        let _ = writeln!(out, "Not yet public then:");
        for (id, first) in &catalog.withheld {
            let _ = writeln!(out, "  {id:<28} first event {first}");
        }
        let _ = writeln!(out);
    }
    let _ = writeln!(out, "catalog {}", catalog.version);
    out
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

fn csv(timelines: &[DealTimeline]) -> String {
    let mut out = String::from(
        "deal,date,kind,status_after,gw,basis,contract_usd,investment_usd,counterparty,source,note\n",
    );
    let num = |x: Option<f64>| x.map(|v| format!("{v}")).unwrap_or_default();
    for t in timelines {
        for e in &t.events {
            let _ = writeln!(
                out,
                "{},{},{},{},{},{},{},{},{},{},{}",
                t.deal,
                e.date,
                e.kind,
                e.status_after,
                num(e.gw),
                e.basis.as_deref().unwrap_or(""),
                num(e.contract_usd),
                num(e.investment_usd),
                csv_field(e.counterparty.as_deref().unwrap_or("")),
                e.source,
                csv_field(e.note.as_deref().unwrap_or(""))
            );
        }
    }
    out
}

/// The sites section of `gigawatt catalog list`.
pub fn sites_table(catalog: &Catalog) -> String {
    let mut out = String::from("Sites (power by phase; basis: facility | it | contracted)\n");
    for site in catalog.sites.values() {
        let deals: Vec<&str> = site.deals.iter().map(|d| d.get_ref().as_str()).collect();
        let _ = writeln!(
            out,
            "  {:<18} {}  ({}; deals: {})",
            site.id.get_ref(),
            site.name,
            site.operator,
            if deals.is_empty() {
                "-".to_string()
            } else {
                deals.join(", ")
            }
        );
        for p in &site.phase {
            let gw =
                p.gw.number()
                    .map_or_else(|| "?".to_string(), |g| format!("{g}"));
            let basis = p.basis.as_ref().map_or("", |b| b.get_ref().as_str());
            let _ = writeln!(
                out,
                "  {:<18}   {:<44} {:>5} GW {:<10} {:<18} {}",
                "",
                p.name,
                gw,
                basis,
                p.state.as_str(),
                p.date.value().map_or("?", String::as_str)
            );
        }
    }
    out.push('\n');
    out
}
