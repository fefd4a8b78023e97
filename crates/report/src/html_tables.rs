//! The plan report's tables: tranches (with the capacity chart's colours), deals, the
//! assumptions ledger and the sources, and the cell helpers every report shares (scroll frames,
//! hyphen-safe prose, colour swatches).

use std::collections::BTreeSet;
use std::fmt::Write as _;

use engine::PlanResult;
use units::{fmt_count, fmt_usd};

use crate::html::{group_key, grouped_tranche_names, gw};
use crate::svg::{self, escape};

/// A fragment-safe anchor for a source id: letters, digits, `-`, `_` and `.` are kept, every
/// other byte is written `~XX` (so distinct ids stay distinct).
pub(crate) fn source_anchor(id: &str) -> String {
    let mut out = String::from("source-");
    for byte in id.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.') {
            out.push(byte as char);
        } else {
            let _ = write!(out, "~{byte:02X}");
        }
    }
    out
}

/// A source id linked to its entry in the sources table when it has one.
pub(crate) fn source_link(id: &str, known: &BTreeSet<&str>) -> String {
    if known.contains(id) {
        format!(
            "<a href=\"#{}\"><code>{}</code></a>",
            source_anchor(id),
            escape(id)
        )
    } else {
        format!("<code>{}</code>", escape(id))
    }
}

pub(crate) fn known_sources(result: &PlanResult) -> BTreeSet<&str> {
    result.sources.iter().map(|s| s.id.as_str()).collect()
}

pub(crate) fn table_open(out: &mut String, headers: &[&str]) {
    out.push_str("<div class=\"table-wrap\" tabindex=\"0\"><table>\n<thead><tr>");
    for h in headers {
        match h.strip_prefix('#') {
            Some(h) => {
                let _ = write!(out, "<th class=\"num\">{}</th>", escape(h));
            }
            None => {
                let _ = write!(out, "<th>{}</th>", escape(h));
            }
        }
    }
    out.push_str("</tr></thead>\n<tbody>\n");
}

pub(crate) fn table_close(out: &mut String) {
    out.push_str("</tbody></table></div>\n");
}

/// Escaped prose for a table cell that wraps: every word with a hyphen, slash or dot (an id,
/// a date, a file name) is held together in a no-wrap span, so that "openai-nvidia-loi" and
/// "2027-01" never break at their hyphens while the sentence around them wraps at spaces.
pub fn prose(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for (k, word) in text.split(' ').enumerate() {
        if k > 0 {
            out.push(' ');
        }
        if word.chars().count() > 3 && word.contains(['-', '/', '.', '_']) {
            let _ = write!(out, "<span class=\"nw\">{}</span>", escape(word));
        } else {
            out.push_str(&escape(word));
        }
    }
    out
}

pub(crate) fn opt_text(value: Option<&str>) -> String {
    match value {
        Some(v) if !v.is_empty() => escape(v),
        _ => "<span class=\"muted\">—</span>".into(),
    }
}

pub(crate) fn tranches(out: &mut String, result: &PlanResult) {
    out.push_str("<section id=\"tranches\">\n<h2>Tranches</h2>\n");
    if result.tranches.is_empty() {
        out.push_str("<p class=\"muted\">No tranches.</p>\n</section>\n");
        return;
    }
    out.push_str("<p class=\"sub\">Each tranche when fully built.</p>\n");
    // The same colours as the capacity chart: shades of a deal's hue.
    let names = grouped_tranche_names(result);
    let keys: Vec<String> = names.iter().map(|name| group_key(result, name)).collect();
    let colors = crate::palette::grouped_colors(&keys);
    table_open(
        out,
        &[
            "Tranche",
            "Deal",
            "System",
            "Accelerator",
            "#Systems",
            "#Accelerators",
            "#Facility power",
            "#IT power",
            "#H100e",
            "#Capex",
            "Start",
            "Full",
        ],
    );
    for t in &result.tranches {
        let totals = &t.totals;
        let index = names.iter().position(|n| n == &totals.tranche).unwrap_or(0);
        let unused = if t.unused_facility_gw > 0.0 {
            format!(
                "<br><span class=\"muted\">{} unused</span>",
                escape(&gw(t.unused_facility_gw))
            )
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "<tr><td>{}{}</td><td>{}</td>\
             <td><code>{}</code></td><td><code>{}</code></td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
             <td class=\"num\">{}{unused}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
             <td class=\"num\">{}</td><td>{}</td><td>{}</td></tr>",
            swatch(colors.get(index).map_or("#7F7F7F", String::as_str)),
            escape(&totals.tranche),
            t.deal
                .as_deref()
                .map_or_else(|| opt_text(None), |d| format!("<code>{}</code>", escape(d))),
            escape(&t.system),
            escape(&totals.accelerator),
            fmt_count(totals.systems),
            fmt_count(totals.accelerators),
            gw(totals.facility_gw),
            gw(totals.it_gw),
            totals
                .h100e
                .map_or_else(|| "unknown".to_string(), fmt_count),
            fmt_usd(totals.capex_usd),
            escape(&totals.start.to_string()),
            escape(&totals.full.to_string()),
        );
    }
    table_close(out);
    out.push_str("</section>\n");
}

/// A colour key: a small SVG square (presentation attributes, no inline style, so a strict
/// Content-Security-Policy accepts it), hidden from screen readers.
pub(crate) fn swatch(color: &str) -> String {
    format!(
        "<svg class=\"swatch\" viewBox=\"0 0 1 1\" aria-hidden=\"true\"><rect width=\"1\" height=\"1\" fill=\"{}\"/></svg>",
        escape(color)
    )
}

/// A badge class for a deal status.
pub(crate) fn status_class(status: &str) -> &'static str {
    match status {
        "in-force" | "binding" => "good",
        "announced" => "info",
        "stalled" => "warn",
        "replaced" | "cancelled" => "off",
        _ => "",
    }
}

pub(crate) fn deals(out: &mut String, result: &PlanResult) {
    out.push_str("<section id=\"deals\">\n<h2>Deals</h2>\n");
    if result.deals.is_empty() {
        out.push_str(
            "<p class=\"muted\">No catalog deals are referenced by this plan.</p>\n</section>\n",
        );
        return;
    }
    let known = known_sources(result);
    table_open(out, &["Deal", "Name", "Status", "As of", "Note", "Source"]);
    for d in &result.deals {
        let _ =
            writeln!(
            out,
            "<tr><td><code>{}</code></td><td>{}</td><td><span class=\"badge {}\">{}</span></td>\
             <td class=\"num\">{}</td><td class=\"note\">{}</td><td>{}</td></tr>",
            escape(&d.id),
            escape(&d.name),
            status_class(&d.status),
            escape(&d.status),
            opt_text(d.status_as_of.as_deref()),
            d.status_note.as_deref().map_or_else(|| opt_text(None), prose),
            d.status_source
                .as_deref()
                .map_or_else(|| opt_text(None), |s| source_link(s, &known)),
        );
    }
    table_close(out);
    out.push_str("</section>\n");
}

/// An assumption's value: separators for large numbers, up to four significant digits for
/// small ones, scientific notation for tiny ones.
pub(crate) fn fmt_value(value: f64) -> String {
    if !value.is_finite() {
        return value.to_string();
    }
    if value == 0.0 {
        return "0".into();
    }
    let magnitude = value.abs();
    if magnitude >= 1e4 || (magnitude >= 1000.0 && value.fract() == 0.0) {
        return fmt_count(value);
    }
    if magnitude >= 1000.0 {
        // 1,234.5: separators plus at most four significant digits' worth of fraction.
        let whole = fmt_count(value.trunc());
        let fraction = format!("{:.1}", magnitude.fract());
        let fraction = fraction.trim_start_matches('0').trim_end_matches('0');
        if fraction == "." || fraction.starts_with("1.") {
            return fmt_count(value);
        }
        return format!("{whole}{fraction}");
    }
    if magnitude < 1e-4 {
        let text = format!("{value:.3e}");
        let (mantissa, exponent) = text.split_once('e').unwrap_or((&text, "0"));
        return format!("{}e{exponent}", svg::trim_zeros(mantissa));
    }
    let decimals = (3 - magnitude.log10().floor() as i32).clamp(0, 8) as usize;
    svg::trim_zeros(&format!("{value:.decimals$}"))
}

pub(crate) fn assumptions(out: &mut String, result: &PlanResult) {
    out.push_str("<section id=\"assumptions\">\n<h2>Assumptions ledger</h2>\n");
    if result.assumptions.is_empty() {
        out.push_str("<p class=\"muted\">No assumptions were recorded.</p>\n</section>\n");
        return;
    }
    out.push_str("<p class=\"sub\">Every number the run used, with its unit and source.</p>\n");
    let known = known_sources(result);
    table_open(out, &["Assumption", "#Value", "Unit", "Source", "Note"]);
    for a in &result.assumptions {
        let _ = writeln!(
            out,
            "<tr><td><code>{}</code></td><td class=\"num\">{}</td><td>{}</td><td>{}</td><td class=\"note\">{}</td></tr>",
            escape(&a.name),
            escape(&fmt_value(a.value)),
            escape(&a.unit),
            source_link(&a.source, &known),
            a.note.as_deref().map_or_else(|| opt_text(None), prose),
        );
    }
    table_close(out);
    out.push_str("</section>\n");
}

/// Whether `url` may be linked: only web addresses (never `javascript:` and the like).
pub(crate) fn linkable(url: &str) -> bool {
    let lower = url.trim().to_ascii_lowercase();
    lower.starts_with("https://") || lower.starts_with("http://")
}

pub(crate) fn sources(out: &mut String, result: &PlanResult) {
    out.push_str("<section id=\"sources\">\n<h2>Sources</h2>\n");
    if result.sources.is_empty() {
        out.push_str("<p class=\"muted\">No sources were cited.</p>\n</section>\n");
        return;
    }
    table_open(out, &["Source", "Title", "Kind", "Date"]);
    for s in &result.sources {
        let title = if s.title.is_empty() { &s.id } else { &s.title };
        let title = if linkable(&s.url) {
            format!(
                "<a href=\"{}\" rel=\"noopener\" target=\"_blank\">{}</a>",
                escape(s.url.trim()),
                prose(title)
            )
        } else if s.url.is_empty() {
            prose(title)
        } else {
            format!(
                "{}<br><span class=\"muted\">{}</span>",
                prose(title),
                escape(&s.url)
            )
        };
        let _ = writeln!(
            out,
            "<tr id=\"{}\"><td><code>{}</code></td><td class=\"prose\">{title}</td><td>{}</td><td class=\"num\">{}</td></tr>",
            source_anchor(&s.id),
            escape(&s.id),
            escape(&s.kind),
            opt_text(Some(s.date.as_str())),
        );
    }
    table_close(out);
    out.push_str("</section>\n");
}
