//! The dashboard's catalog page: every entry's figures visible in a table (no toggles), numbers
//! with thousands separators and units in the column heading, money as "$3.40M", unknown and
//! not-supported figures said in words with the reason on hover, and each figure's source one
//! click away (the link goes to the source itself; its title names it). Tables scroll inside
//! their own frame with the id column fixed.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use axum::extract::State;
use axum::response::Response;
use catalog::Catalog;
use serde_json::{Map, Value};
use units::{fmt_number, fmt_usd};

use crate::pages::{esc, page};
use crate::AppState;

pub async fn catalog_page(State(state): State<AppState>) -> Response {
    let catalog = &state.inner.catalog;
    let value = crate::catalog_json(catalog);
    let mut body = format!(
        "<h1>Catalog</h1><p class=\"muted\">Version <code>{}</code>. Every figure links to its source; hover a figure \
         for its note. JSON: <a href=\"/api/catalog\">/api/catalog</a>.</p>\
         <nav aria-label=\"Catalog sections\"><p><a href=\"#systems\">Systems</a> · <a href=\"#accelerators\">Accelerators</a> · \
         <a href=\"#deals\">Deals</a> · <a href=\"#models\">Models</a> · <a href=\"#facility\">Facility defaults</a> · \
         <a href=\"#sources\">Sources</a></p></nav>",
        esc(&catalog.version)
    );
    for (key, title) in [
        ("systems", "Systems"),
        ("accelerators", "Accelerators"),
        ("deals", "Deals"),
        ("models", "Models"),
    ] {
        let _ = write!(body, "<h2 id=\"{key}\">{title}</h2>");
        if let Some(Value::Object(entries)) = value.get(key) {
            body += &entries_table(catalog, key, title, entries);
        }
    }
    body += "<h2 id=\"facility\">Facility defaults</h2>";
    if let Some(Value::Object(fields)) = value.get("facility") {
        body += "<div class=\"table-wrap\" tabindex=\"0\" role=\"region\" aria-label=\"Facility defaults\"><table>\
                 <thead><tr><th scope=\"col\">default</th><th scope=\"col\" class=\"num\">value</th><th scope=\"col\">note</th></tr></thead><tbody>";
        for (field, v) in fields {
            let note = v
                .get("note")
                .and_then(Value::as_str)
                .map(report::prose_html)
                .unwrap_or_default();
            let _ = write!(
                body,
                "<tr><th scope=\"row\"><code>{}</code></th><td class=\"num\">{}</td><td class=\"note\">{note}</td></tr>",
                esc(&heading(field)),
                cell(catalog, field, v)
            );
        }
        body += "</tbody></table></div>";
    }
    body += "<h2 id=\"sources\">Sources</h2><div class=\"table-wrap\" tabindex=\"0\" role=\"region\" aria-label=\"Sources\"><table>\
             <thead><tr><th scope=\"col\">id</th><th scope=\"col\">title</th><th scope=\"col\">kind</th><th scope=\"col\">date</th></tr></thead><tbody>";
    for (id, source) in &catalog.sources {
        let title = if linkable(&source.url) {
            format!(
                "<a href=\"{}\" rel=\"noreferrer\">{}</a>",
                esc(&source.url),
                report::prose_html(&source.title)
            )
        } else {
            report::prose_html(&source.title)
        };
        let v = serde_json::to_value(source).unwrap_or(Value::Null);
        let _ = write!(
            body,
            "<tr id=\"src-{0}\"><th scope=\"row\"><code>{0}</code></th><td class=\"note\">{title}</td><td>{1}</td><td>{2}</td></tr>",
            esc(id),
            v.get("kind").and_then(Value::as_str).map(esc).unwrap_or_default(),
            v.get("date").and_then(Value::as_str).map(esc).unwrap_or_default(),
        );
    }
    body += "</tbody></table></div>";
    page("Catalog", "Catalog", &body, "")
}

/// One table for a kind of entry: a row per entry, a column per field any entry has.
fn entries_table(
    catalog: &Catalog,
    key: &str,
    title: &str,
    entries: &Map<String, Value>,
) -> String {
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
    let mut out = format!(
        "<div class=\"table-wrap\" tabindex=\"0\" role=\"region\" aria-label=\"{title}\"><table><thead><tr>\
         <th scope=\"col\">id</th><th scope=\"col\">name</th>"
    );
    for c in &columns {
        let _ = write!(out, "<th scope=\"col\">{}</th>", esc(&heading(c)));
    }
    out += "</tr></thead><tbody>";
    for (id, entry) in entries {
        let name = entry.get("name").and_then(Value::as_str).unwrap_or("");
        let _ = write!(
            out,
            "<tr id=\"{key}-{0}\"><th scope=\"row\"><code>{0}</code></th><td class=\"note\">{1}</td>",
            esc(id),
            report::prose_html(name)
        );
        for c in &columns {
            let v = entry.get(c).unwrap_or(&Value::Null);
            let _ = write!(out, "<td>{}</td>", cell(catalog, c, v));
        }
        out += "</tr>";
    }
    out + "</tbody></table></div>"
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

/// A catalog value in a cell: sourced figures formatted with their source one click away,
/// unknown and not-applicable figures in words, nested values folded.
fn cell(catalog: &Catalog, field: &str, value: &Value) -> String {
    match value {
        Value::Object(map) if map.contains_key("value") => {
            let note = map.get("note").and_then(Value::as_str).unwrap_or("");
            let shown = match &map["value"] {
                Value::Number(n) => number(field, n.as_f64().unwrap_or(f64::NAN)),
                other => esc(&scalar(other)),
            };
            let mut out = if note.is_empty() {
                format!("<span class=\"fig\">{shown}</span>")
            } else {
                format!("<span class=\"fig\" title=\"{}\">{shown}</span>", esc(note))
            };
            if let Some(source) = map.get("source").and_then(Value::as_str) {
                out += &source_link(catalog, source);
            }
            out
        }
        Value::Object(map) if map.contains_key("unknown") => format!(
            "<span class=\"muted\" title=\"{}\">unknown</span>",
            esc(&scalar(&map["unknown"]))
        ),
        Value::Object(map) if map.contains_key("not_applicable") => format!(
            "<span class=\"muted\" title=\"{}\">not supported</span>",
            esc(&scalar(&map["not_applicable"]))
        ),
        Value::Null => "<span class=\"muted\">—</span>".into(),
        Value::Number(n) => number(field, n.as_f64().unwrap_or(f64::NAN)),
        Value::Array(items) if items.iter().all(|v| !v.is_object() && !v.is_array()) => {
            esc(&items.iter().map(scalar).collect::<Vec<_>>().join(", "))
        }
        Value::Array(_) | Value::Object(_) => {
            let count = match value {
                Value::Array(items) => format!("{} entries", items.len()),
                _ => "details".into(),
            };
            let pretty = serde_json::to_string_pretty(value).unwrap_or_default();
            format!(
                "<details><summary>{count}</summary><pre>{}</pre></details>",
                esc(&pretty)
            )
        }
        other => esc(&scalar(other)),
    }
}

fn number(field: &str, value: f64) -> String {
    if field.ends_with("_usd") && !field.ends_with("per_kwh") {
        esc(&fmt_usd(value))
    } else {
        esc(&fmt_number(value))
    }
}

/// A link to the source itself (its URL), titled with the source's title; a link to its row
/// in the sources table where it has no web address.
fn source_link(catalog: &Catalog, id: &str) -> String {
    match catalog.sources.get(id) {
        Some(s) if linkable(&s.url) => format!(
            " <a class=\"src\" href=\"{}\" rel=\"noreferrer\" title=\"{}\" aria-label=\"source: {}\">↗</a>",
            esc(&s.url),
            esc(&format!("{id}: {}", s.title)),
            esc(&s.title)
        ),
        _ => format!(
            " <a class=\"src\" href=\"#src-{0}\" title=\"{0}\" aria-label=\"source {0}\">↗</a>",
            esc(id)
        ),
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

fn linkable(url: &str) -> bool {
    url.starts_with("https://") || url.starts_with("http://")
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
