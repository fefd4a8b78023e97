//! The catalog's knowledge behind a run: its cut-off date and each deal's timeline, as a small
//! Markdown or HTML section (plain markup; the report's styling applies).

use std::fmt::Write;

use engine::Knowledge;
use units::fmt_usd;

use crate::svg::escape;

fn cutoff_line(k: &Knowledge) -> String {
    match &k.known_on {
        Some(day) => format!(
            "Run with only what was public on {day} (--known-on): later deal events and statuses are ignored."
        ),
        None => format!(
            "Catalog knowledge cut-off: {} (the newest dated event or source in the catalog).",
            k.cutoff
        ),
    }
}

fn size(
    gw: Option<f64>,
    basis: Option<&str>,
    contract: Option<f64>,
    investment: Option<f64>,
) -> String {
    let mut parts = Vec::new();
    if let Some(gw) = gw {
        parts.push(format!("{gw} GW ({})", basis.unwrap_or("basis unknown")));
    }
    if let Some(usd) = contract {
        parts.push(format!("contract {}", fmt_usd(usd)));
    }
    if let Some(usd) = investment {
        parts.push(format!("investment {}", fmt_usd(usd)));
    }
    parts.join("; ")
}

/// The Markdown section.
pub fn markdown(k: &Knowledge) -> String {
    let mut out = String::from("\n## Deal timelines\n\n");
    let _ = writeln!(out, "{}\n", cutoff_line(k));
    if k.timelines.is_empty() {
        out.push_str("No catalog deals are referenced.\n");
        return out;
    }
    let _ = writeln!(
        out,
        "| deal | date | event | status after | size | source | note |\n|---|---|---|---|---|---|---|"
    );
    for t in &k.timelines {
        for e in &t.events {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} |",
                t.deal,
                e.date,
                e.kind,
                e.status_after,
                size(e.gw, e.basis.as_deref(), e.contract_usd, e.investment_usd),
                e.source,
                e.note
                    .as_deref()
                    .unwrap_or("")
                    .replace('|', "\\|")
                    .replace('\n', " ")
            );
        }
    }
    out
}

/// The HTML section.
pub fn html(k: &Knowledge) -> String {
    let mut out = String::from("<section id=\"timelines\">\n<h2>Deal timelines</h2>\n");
    let _ = writeln!(out, "<p class=\"muted\">{}</p>", escape(&cutoff_line(k)));
    for t in &k.timelines {
        let _ = writeln!(
            out,
            "<h3>{} <span class=\"muted\">({})</span></h3>\n<div class=\"table-wrap\" tabindex=\"0\"><table><thead><tr><th>date</th><th>event</th><th>status after</th><th>size</th><th>source</th><th>note</th></tr></thead><tbody>",
            escape(&t.deal),
            escape(&t.status)
        );
        for e in &t.events {
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(&e.date),
                escape(&e.kind),
                escape(&e.status_after),
                escape(&size(
                    e.gw,
                    e.basis.as_deref(),
                    e.contract_usd,
                    e.investment_usd
                )),
                escape(&e.source),
                escape(e.note.as_deref().unwrap_or(""))
            );
        }
        out.push_str("</tbody></table></div>\n");
    }
    out.push_str("</section>\n");
    out
}

/// One line for terminal summaries.
pub fn summary_line(k: &Knowledge) -> String {
    cutoff_line(k)
}
