//! The dashboard's pages: compile-time `maud` templates with one shared layout, a small inline
//! script per page (the files under `scripts/`) that calls the JSON API, and SVG drawn here or
//! by `report`. Templates escape every value they interpolate; text that is already HTML (a
//! report, `report::prose_html`, a chart) is marked with `PreEscaped` where it is inserted, and
//! nowhere else.
//!
//! One file per page, named after its path: `plan.rs` is `/plan`, and so on. Shared pieces
//! (cards, option lists, number formats) are here.

mod catalog;
mod charts;
mod compare;
mod fleet;
mod infer;
mod plan;
mod reliability;
mod risk;
mod runs;
mod style;
mod train;

pub use catalog::catalog_page;
pub use compare::compare_page;
pub use fleet::fleet_page;
#[cfg(test)]
pub(crate) use infer::INFER_EXAMPLE;
pub use infer::{infer_fragment, infer_page};
pub use plan::plan_page;
pub use reliability::{reliability_fragment, reliability_page};
pub use risk::risk_page;
pub use runs::{run_page, runs_page};
pub use train::{train_fragment, train_page, train_validation_page};

use axum::response::{Html, IntoResponse, Response};
use maud::{html, Markup, PreEscaped};
use serde::Deserialize;
use serde_json::Value;
use units::{fmt_count, fmt_usd};

use crate::ApiError;

/// Helpers shared by every page's script: the editor's gutter, errors, stale results, the share
/// link, downloads (including PNG per chart) and the TOML form binding.
const SCRIPT_COMMON: &str = include_str!("scripts/common.js");
/// Helpers the infer, reliability and risk pages share.
const SCRIPT_FIELDS: &str = include_str!("scripts/fields.js");

/// The pages in the top bar, in order.
const NAV: [(&str, &str); 8] = [
    ("/plan", "Plan"),
    ("/train", "Train"),
    ("/infer", "Infer"),
    ("/fleet", "Fleet"),
    ("/reliability", "Reliability"),
    ("/risk", "Risk"),
    ("/catalog", "Catalog"),
    ("/runs", "Runs"),
];

/// The whole script a page runs: the common helpers, then the page's own.
fn full_script(script: &str) -> String {
    format!("{SCRIPT_COMMON}{script}")
}

fn layout(title: &str, active: &str, body: Markup, script: &str) -> String {
    html! {
        // Lower case, as every report writes it (tests and the browser check read it so).
        (PreEscaped("<!doctype html>\n"))
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                link rel="icon" href="data:,";
                title { (title) " · gigawatt" }
                style { (PreEscaped(style::STYLE)) }
            }
            body {
                header.top {
                    span.brand { "gigawatt" }
                    @for (href, label) in NAV {
                        a href=(href) class=[(label == active).then_some("on")] { (label) }
                    }
                }
                main { (body) }
                // The CSP names this exact text's hash (`with_script_policy`).
                script { (PreEscaped(full_script(script))) }
            }
        }
    }
    .into_string()
        + "\n"
}

/// A page: the layout around `body`, allowed to run exactly `script` (after the common helpers).
pub(crate) fn page(title: &str, active: &str, body: Markup, script: &str) -> Response {
    with_script_policy(
        Html(layout(title, active, body, script)).into_response(),
        script,
    )
}

/// `response` with the Content-Security-Policy that lets exactly the inline script `layout`
/// writes for `script` run (its SHA-256 hash), and no other.
fn with_script_policy(mut response: Response, script: &str) -> Response {
    let policy = crate::csp::page_policy(&full_script(script));
    if let Ok(value) = axum::http::HeaderValue::from_str(&policy) {
        response
            .headers_mut()
            .insert(axum::http::header::CONTENT_SECURITY_POLICY, value);
    }
    response
}

pub(crate) fn error_page(error: &ApiError) -> Response {
    let body = html! {
        h1 { (error.status.canonical_reason().unwrap_or("Error")) }
        pre.messages { (error.message) }
        p { a href="/runs" { "Saved runs" } " · " a href="/plan" { "Plan" } }
    };
    with_script_policy(
        (error.status, Html(layout("Error", "", body, ""))).into_response(),
        "",
    )
}

/// The 404 page for paths nothing serves.
pub fn not_found(path: &str) -> Response {
    error_page(&ApiError::not_found(format!("nothing at {path}")))
}

/// `?scenario=` and `?run=` of the editor pages.
#[derive(Debug, Deserialize)]
pub struct EditorQuery {
    scenario: Option<String>,
    run: Option<String>,
}

/// The notice above an editor opened on a saved run's input.
fn editing_run_notice(id: i64) -> Markup {
    html! {
        p.muted {
            "Editing the input of " a href={ "/runs/" (id) } { "run #" (id) } "; saving makes a new run."
        }
    }
}

/// A TOML editor: line numbers and the error's line are added by the common script.
fn editor(id: &str, label: &str, text: &str) -> Markup {
    html! {
        textarea id=(id) data-editor spellcheck="false" aria-label=(label) { (text) }
    }
}

/// A form field bound to `key` (`section.key`, or a top-level key) of the TOML spec.
fn bound_number(key: &str, label: &str, hint: &str) -> Markup {
    html! {
        label { (label) " " input type="number" step="any" data-toml=(key) data-type="num" data-share placeholder=(hint); }
    }
}

fn bound_select(key: &str, label: &str, values: Markup) -> Markup {
    html! {
        label { (label) " " select data-toml=(key) data-type="str" data-share { (values) } }
    }
}

fn bound_check(key: &str, label: &str) -> Markup {
    html! {
        label.check { input type="checkbox" data-toml=(key) data-type="bool" data-share; " " (label) }
    }
}

/// The TOML editor, one click away under the form; opened by the script on an error.
fn toml_details(id: &str, label: &str, text: &str) -> Markup {
    html! {
        details #toml-details {
            summary { "Edit as TOML (the same spec as text; the form follows)" }
            (editor(id, label, text))
        }
    }
}

/// The message box under an editor or form.
fn messages() -> Markup {
    html! { pre #messages .messages role="alert" hidden {} }
}

/// `<option>`s for ids, one selected.
fn options<'a>(ids: impl IntoIterator<Item = &'a String>, selected: &str) -> Markup {
    html! {
        @for id in ids {
            option selected[id == selected] { (id) }
        }
    }
}

/// `<option>`s for fixed choices, one selected.
fn choices(values: &[&str], selected: &str) -> Markup {
    html! {
        @for v in values {
            option selected[*v == selected] { (v) }
        }
    }
}

/// Headline figures as cards.
fn cards(cards: &[(&str, String)]) -> Markup {
    html! {
        div.cards {
            @for (label, value) in cards {
                div.card { div.label { (label) } div.value { (value) } }
            }
        }
    }
}

/// The share link and download buttons of a page; `extra` adds page-specific buttons.
fn downloads(label: &str, extra: Markup) -> Markup {
    html! {
        div.downloads role="group" aria-label=(label) {
            (extra)
            span #chart-downloads .downloads {}
            a #share .button href="#" { "Link to this page's inputs (unsaved edits included)" }
        }
    }
}

fn trim_number(value: f64) -> String {
    if value == 0.0 {
        "0".into()
    } else if value.abs() >= 100.0 {
        format!("{value:.0}")
    } else if value.abs() >= 1.0 {
        format!("{value:.2}")
    } else {
        format!("{value:.4}")
    }
}

fn plain(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => "—".into(),
        other => other.to_string(),
    }
}

fn linkable(url: &str) -> bool {
    url.starts_with("https://") || url.starts_with("http://")
}

/// Milliseconds since the epoch as `YYYY-MM-DD HH:MM UTC`.
pub fn fmt_time(unix_ms: i64) -> String {
    let secs = unix_ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        rem / 3600,
        (rem % 3600) / 60
    )
}

/// A saved output (a JSON value under `key`) as people read it.
fn fmt_output(key: &str, value: &Value) -> String {
    match value {
        Value::Number(n) => {
            let v = n.as_f64().unwrap_or(0.0);
            if key.ends_with("usd") {
                fmt_usd(v)
            } else if key == "mfu" {
                format!("{:.1}%", 100.0 * v)
            } else if v.abs() >= 1000.0 {
                fmt_count(v)
            } else {
                trim_number(v)
            }
        }
        other => plain(other),
    }
}
