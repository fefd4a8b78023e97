//! Markdown: the summary and the assumptions ledger, for pasting into notes and issues.

use std::fmt::Write;

use engine::PlanResult;
use units::{fmt_count, fmt_energy_twh, fmt_power_w, fmt_usd, W_PER_GW};

use crate::text::yearly;

/// Text from user files, made inert: no raw HTML (`<`, `>`, `&` become entities), no table
/// breaks (`|`), one line.
pub(crate) fn cell(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('|', "\\|")
        .replace('\n', " ")
}

/// The plan as a Markdown document.
pub fn plan_markdown(result: &PlanResult) -> String {
    let mut out = String::new();
    let s = &result.scenario;
    let t = &result.totals;
    let _ = writeln!(out, "# {}\n", cell(&s.name));
    out.push_str(&crate::opening::markdown(result, cell));
    if !s.description.is_empty() {
        let _ = writeln!(out, "The scenario: {}\n", cell(&s.description));
    }
    let _ = writeln!(out, "## Online at {}\n", t.month);
    let _ = writeln!(out, "| measure | value |\n|---|---|");
    let h100e = t.h100e.map_or("unknown".to_string(), fmt_count);
    for (label, value) in [
        ("Facility power", fmt_power_w(t.facility_gw * W_PER_GW)),
        ("IT power", fmt_power_w(t.it_gw * W_PER_GW)),
        ("Systems", fmt_count(t.systems)),
        ("Accelerators", fmt_count(t.accelerators)),
        ("H100-equivalents", h100e),
        ("Capex to date", fmt_usd(t.capex_usd)),
        ("Opex to date", fmt_usd(t.opex_usd)),
        ("Energy per year", fmt_energy_twh(t.energy_twh_per_year)),
        (
            crate::opening::financing_label(result),
            fmt_usd(t.financing_usd),
        ),
    ] {
        let _ = writeln!(out, "| {label} | {value} |");
    }
    let _ = writeln!(out, "\n## Tranches\n");
    let _ = writeln!(out, "| tranche | deal | system | systems | accelerators | facility | capex | start | full |\n|---|---|---|---:|---:|---:|---:|---|---|");
    for tranche in &result.tranches {
        let x = &tranche.totals;
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            cell(&x.tranche),
            tranche.deal.as_deref().unwrap_or(""),
            tranche.system,
            fmt_count(x.systems),
            fmt_count(x.accelerators),
            fmt_power_w(x.facility_gw * W_PER_GW),
            fmt_usd(x.capex_usd),
            x.start,
            x.full
        );
    }
    let _ = writeln!(out, "\n## Year by year\n");
    let _ = writeln!(out, "| month | facility | accelerators | H100e | capex | opex | energy/yr | financing |\n|---|---:|---:|---:|---:|---:|---:|---:|");
    for row in yearly(&result.timeline) {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            row.month,
            fmt_power_w(row.facility_gw * W_PER_GW),
            fmt_count(row.accelerators),
            row.h100e.map_or("unknown".to_string(), fmt_count),
            fmt_usd(row.capex_usd),
            fmt_usd(row.opex_usd),
            fmt_energy_twh(row.energy_twh_per_year),
            fmt_usd(row.financing_usd)
        );
    }
    if let Some(capability) = &result.capability {
        out.push_str(&crate::capability::markdown(capability));
    }
    if !result.deals.is_empty() {
        let _ = writeln!(out, "\n## Deals\n");
        let _ = writeln!(out, "| deal | status | as of | note |\n|---|---|---|---|");
        for deal in &result.deals {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                deal.id,
                deal.status,
                deal.status_as_of.as_deref().unwrap_or(""),
                cell(deal.status_note.as_deref().unwrap_or(""))
            );
        }
    }
    out.push_str(&crate::knowledge::markdown(&result.knowledge));
    if !result.warnings.is_empty() {
        let _ = writeln!(out, "\n## Warnings\n");
        for w in &result.warnings {
            let _ = writeln!(out, "- {}", cell(w));
        }
    }
    let _ = writeln!(out, "\n## Assumptions\n");
    let _ = writeln!(
        out,
        "| name | value | unit | source | note |\n|---|---:|---|---|---|"
    );
    for a in &result.assumptions {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            cell(&a.name),
            match (a.low, a.high) {
                (Some(low), Some(high)) => format!("{} ({low} to {high})", a.value),
                _ => a.value.to_string(),
            },
            cell(&a.unit),
            a.source,
            cell(a.note.as_deref().unwrap_or(""))
        );
    }
    let _ = writeln!(out, "\n## Sources\n");
    let _ = writeln!(out, "| id | title | kind | date |\n|---|---|---|---|");
    for source in &result.sources {
        let linkable = source.url.starts_with("https://") || source.url.starts_with("http://");
        let title = if !linkable {
            cell(&source.title)
        } else {
            format!(
                "[{}]({})",
                cell(&source.title),
                source.url.replace(' ', "%20").replace(')', "%29")
            )
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            source.id, title, source.kind, source.date
        );
    }
    let _ = writeln!(out, "\n---\n\n{}", crate::opening::footer_line(result));
    out
}
