//! The dashboard's catalog page: every entry's figures visible in a table (no toggles), numbers
//! with thousands separators and units in the column heading, money as "$3.40M", unknown and
//! not-supported figures said in words with the reason on hover, and each figure's source one
//! click away (the link goes to the source itself; its title names it). Tables scroll inside
//! their own frame with the id column fixed.

use std::collections::BTreeSet;

use axum::extract::State;
use axum::response::Response;
use catalog::Catalog;
use maud::{html, Markup, PreEscaped};
use serde_json::{Map, Value};
use units::{fmt_number, fmt_usd};

use super::{linkable, page};
use crate::AppState;

pub async fn catalog_page(State(state): State<AppState>) -> Response {
    let catalog = &state.inner.catalog;
    let value = crate::catalog_json(catalog);
    let knowledge = engine::knowledge::knowledge(catalog, catalog.deals.keys().map(String::as_str));
    let body = html! {
        h1 { "Catalog" }
        p.muted {
            "Version " code { (catalog.version) } ". Every figure links to its source; hover a figure for its note. "
            "JSON: " a href="/api/catalog" { "/api/catalog" } "; deal timelines: " a href="/api/deals" { "/api/deals" } "."
        }
        p #knowledge-cutoff {
            "Knowledge cut-off: " strong.nw { (knowledge.cutoff) }
            " (the newest dated event or source in the catalog; nothing after it is known to any result)."
        }
        nav aria-label="Catalog sections" {
            p {
                a href="#systems" { "Systems" } " · " a href="#accelerators" { "Accelerators" } " · "
                a href="#deals" { "Deals" } " · " a href="#timelines" { "Deal timelines" } " · "
                a href="#models" { "Models" } " · " a href="#facility" { "Facility defaults" } " · "
                a href="#sources" { "Sources" }
            }
        }
        @for (key, title) in [("systems", "Systems"), ("accelerators", "Accelerators"), ("deals", "Deals"), ("models", "Models")] {
            h2 id=(key) { (title) }
            @if let Some(Value::Object(entries)) = value.get(key) {
                (entries_table(catalog, key, title, entries))
            }
            @if key == "deals" {
                (timelines(&knowledge))
            }
        }
        h2 #facility { "Facility defaults" }
        @if let Some(Value::Object(fields)) = value.get("facility") {
            div.table-wrap tabindex="0" role="region" aria-label="Facility defaults" {
                table {
                    thead { tr { th scope="col" { "default" } th scope="col" .num { "value" } th scope="col" { "note" } } }
                    tbody {
                        @for (field, v) in fields {
                            tr {
                                th scope="row" { code { (heading(field)) } }
                                td.num { (cell(catalog, field, v)) }
                                td.note {
                                    @if let Some(note) = v.get("note").and_then(Value::as_str) { (PreEscaped(report::prose_html(note))) }
                                }
                            }
                        }
                    }
                }
            }
        }
        h2 #sources { "Sources" }
        div.table-wrap tabindex="0" role="region" aria-label="Sources" {
            table {
                thead { tr { th scope="col" { "id" } th scope="col" { "title" } th scope="col" { "kind" } th scope="col" { "date" } } }
                tbody {
                    @for (id, source) in &catalog.sources {
                        @let v = serde_json::to_value(source).unwrap_or(Value::Null);
                        tr id={ "src-" (id) } {
                            th scope="row" { code { (id) } }
                            td.note {
                                @if linkable(&source.url) {
                                    a href=(source.url) rel="noreferrer" { (PreEscaped(report::prose_html(&source.title))) }
                                } @else {
                                    (PreEscaped(report::prose_html(&source.title)))
                                }
                            }
                            td { (v.get("kind").and_then(Value::as_str).unwrap_or_default()) }
                            td.nw { (v.get("date").and_then(Value::as_str).unwrap_or_default()) }
                        }
                    }
                }
            }
        }
    };
    page("Catalog", "Catalog", body, "")
}

/// Each deal's history, oldest event first, with the status each event leads to.
fn timelines(k: &engine::knowledge::Knowledge) -> Markup {
    let size = |e: &engine::knowledge::TimelineEvent| {
        let mut parts = Vec::new();
        if let Some(gw) = e.gw {
            parts.push(
                format!("{} GW {}", fmt_number(gw), e.basis.as_deref().unwrap_or(""))
                    .trim_end()
                    .to_string(),
            );
        }
        if let Some(usd) = e.contract_usd {
            parts.push(format!("{} contract", fmt_usd(usd)));
        }
        if let Some(usd) = e.investment_usd {
            parts.push(format!("{} investment", fmt_usd(usd)));
        }
        parts.join(", ")
    };
    html! {
        section #timelines {
            h3 { "Deal timelines" }
            p.muted { "Each deal's events as the catalog records them, oldest first; the status column is the deal's status after the event. Knowledge cut-off " span.nw { (k.cutoff) } "." }
            @for t in &k.timelines {
                details.timeline id={ "timeline-" (t.deal) } {
                    summary { code { (t.deal) } " " (t.name) " · " (t.status) " · " (t.events.len()) @if t.events.len() == 1 { " event" } @else { " events" } }
                    div.table-wrap tabindex="0" role="region" aria-label={ "Timeline of " (t.deal) } {
                        table {
                            thead { tr { th scope="col" { "date" } th scope="col" { "event" } th scope="col" { "status after" } th scope="col" { "size" } th scope="col" { "source" } th scope="col" { "note" } } }
                            tbody {
                                @for e in &t.events {
                                    tr {
                                        th scope="row" .nw { (e.date) }
                                        td { (e.kind) }
                                        td { (e.status_after) }
                                        td { (size(e)) }
                                        td { a href={ "#src-" (e.source) } { code { (e.source) } } }
                                        td.note { (PreEscaped(report::prose_html(e.note.as_deref().unwrap_or("")))) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// One table for a kind of entry: a row per entry, a column per field any entry has.
fn entries_table(
    catalog: &Catalog,
    key: &str,
    title: &str,
    entries: &Map<String, Value>,
) -> Markup {
    let mut columns: Vec<String> = Vec::new();
    let mut seen = BTreeSet::new();
    for entry in entries.values() {
        if let Value::Object(fields) = entry {
            for field in fields.keys() {
                if field != "id" && field != "name" && seen.insert(field.clone()) {
                    columns.push(field.clone());
                }
            }
        }
    }
    html! {
        div.table-wrap tabindex="0" role="region" aria-label=(title) {
            table {
                thead {
                    tr {
                        th scope="col" { "id" } th scope="col" { "name" }
                        @for c in &columns { th scope="col" { (heading(c)) } }
                    }
                }
                tbody {
                    @for (id, entry) in entries {
                        tr id={ (key) "-" (id) } {
                            th scope="row" { code { (id) } }
                            td.note { (PreEscaped(report::prose_html(entry.get("name").and_then(Value::as_str).unwrap_or("")))) }
                            @for c in &columns {
                                td { (cell(catalog, c, entry.get(c).unwrap_or(&Value::Null))) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// A field name as a column heading with its unit: `bf16_dense_tflops` is
/// "bf16 dense (TFLOP/s)", `price_usd` is "price (USD)".
fn heading(field: &str) -> String {
    const UNITS: [(&str, &str); 10] = [
        ("_tflops", "TFLOP/s"),
        ("_tb_per_s", "TB/s"),
        ("_usd_per_kwh", "USD/kWh"),
        ("_usd_per_mw", "USD/MW"),
        ("_usd", "USD"),
        ("_gib", "GiB"),
        ("_kw", "kW"),
        ("_gw", "GW"),
        ("_w", "W"),
        ("_months", "months"),
    ];
    for (suffix, unit) in UNITS {
        if let Some(stem) = field.strip_suffix(suffix) {
            return format!("{} ({unit})", stem.replace('_', " "));
        }
    }
    field.replace('_', " ")
}

/// A catalog value in a cell: sourced figures formatted with
/// their source one click away, unknown and not-applicable figures in words, nested values
/// folded.
fn cell(catalog: &Catalog, field: &str, value: &Value) -> Markup {
    match value {
        Value::Object(map) if map.contains_key("value") => {
            let note = map
                .get("note")
                .and_then(Value::as_str)
                .filter(|n| !n.is_empty());
            let shown = match &map["value"] {
                Value::Number(n) => number(field, n.as_f64().unwrap_or(f64::NAN)),
                other => scalar(other),
            };
            html! {
                span.fig title=[note] { (shown) }
                @if let Some(source) = map.get("source").and_then(Value::as_str) {
                    " " (source_link(catalog, source))
                }
            }
        }
        Value::Object(map) if map.contains_key("unknown") => {
            html! { span.muted title=(scalar(&map["unknown"])) { "unknown" } }
        }
        Value::Object(map) if map.contains_key("not_applicable") => {
            html! { span.muted title=(scalar(&map["not_applicable"])) { "not supported" } }
        }
        Value::Null => html! { span.muted { "—" } },
        Value::Number(n) => html! { (number(field, n.as_f64().unwrap_or(f64::NAN))) },
        Value::Array(items) if items.iter().all(|v| !v.is_object() && !v.is_array()) => {
            html! { (items.iter().map(scalar).collect::<Vec<_>>().join(", ")) }
        }
        Value::Array(_) | Value::Object(_) => {
            let count = match value {
                Value::Array(items) => format!("{} entries", items.len()),
                _ => "details".into(),
            };
            let pretty = serde_json::to_string_pretty(value).unwrap_or_default();
            html! { details { summary { (count) } pre { (pretty) } } }
        }
        other => html! { (scalar(other)) },
    }
}

/// A figure as read: money as "$3.40M", other numbers with thousands separators.
fn number(field: &str, value: f64) -> String {
    if field.ends_with("_usd") && !field.ends_with("per_kwh") {
        fmt_usd(value)
    } else {
        fmt_number(value)
    }
}

/// A link to the source itself (its URL), titled with the source's title; a link to its row
/// in the sources table where it has no web address.
fn source_link(catalog: &Catalog, id: &str) -> Markup {
    match catalog.sources.get(id) {
        Some(s) if linkable(&s.url) => html! {
            a.src href=(s.url) rel="noreferrer" title={ (id) ": " (s.title) } aria-label={ "source: " (s.title) } { "↗" }
        },
        _ => html! {
            a.src href={ "#src-" (id) } title=(id) aria-label={ "source " (id) } { "↗" }
        },
    }
}

fn scalar(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => "—".into(),
        Value::Number(n) => n.as_f64().map_or_else(|| n.to_string(), fmt_number),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headings_carry_units_and_figures_read() {
        assert_eq!(heading("bf16_dense_tflops"), "bf16 dense (TFLOP/s)");
        assert_eq!(heading("price_usd"), "price (USD)");
        assert_eq!(heading("electricity_usd_per_kwh"), "electricity (USD/kWh)");
        assert_eq!(number("capex_usd_per_mw", 14_800_000.0), "14,800,000");
        assert_eq!(number("price_usd", 3_400_000.0), "$3.40M");
        assert_eq!(number("it_power_kw", 132.0), "132");
    }
}
