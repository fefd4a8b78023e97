//! `/plan`: a scenario's TOML beside a form for its defaults and prices, a tranche table kept
//! in step with the TOML (`scripts/plan_form.js`: editing a cell rewrites only that key's line),
//! the report in a frame, downloads and the share link.

use axum::extract::{Query, State};
use axum::response::Response;
use maud::{html, Markup};

use super::{downloads, editing_run_notice, editor, error_page, messages, page, EditorQuery};
use crate::{load_run, ApiError, AppState};

/// The plan page's script: run on edit (debounced), run, save, downloads, the defaults form.
const SCRIPT_PLAN: &str = include_str!("scripts/plan.js");
/// The tranche table (appended to the plan page's script).
const SCRIPT_PLAN_FORM: &str = include_str!("scripts/plan_form.js");

/// A number field that writes `key` into `[defaults]`.
fn default_field(key: &str, label: &str, hint: &str) -> Markup {
    html! {
        label { (label) " " input type="number" step="any" data-default=(key) id={ "f-" (key) } placeholder=(hint); }
    }
}

pub async fn plan_page(
    State(state): State<AppState>,
    Query(query): Query<EditorQuery>,
) -> Response {
    let scenarios = &state.inner.scenarios;
    let mut notice = html! {};
    let mut chosen = scenarios
        .first()
        .map(|s| s.name.clone())
        .unwrap_or_default();
    let mut text = scenarios
        .first()
        .map(|s| s.text.clone())
        .unwrap_or_default();
    if let Some(name) = &query.scenario {
        match scenarios.iter().find(|s| &s.name == name) {
            Some(s) => {
                chosen = s.name.clone();
                text = s.text.clone();
            }
            None => {
                notice = html! {
                    p.messages { "no shipped scenario named `" (name) "`; showing `" (chosen) "`" }
                }
            }
        }
    }
    if let Some(id) = &query.run {
        match load_run(&state, id).await {
            Ok(run) if run.summary.kind == "plan" => {
                chosen = String::new();
                text = run.input_text.clone();
                notice = editing_run_notice(run.summary.id);
            }
            Ok(_) => return error_page(&ApiError::bad_request(format!("run {id} is not a plan"))),
            Err(e) => return error_page(&e),
        }
    }
    let body = html! {
        h1 { "Plan a buildout" }
        (notice)
        div.grid {
            div {
                div.row {
                    label {
                        "Shipped scenario "
                        select #pick {
                            @if chosen.is_empty() { option value="" selected { "(a saved run)" } }
                            @for s in scenarios {
                                option value=(s.name) selected[s.name == chosen] { (s.name) }
                            }
                        }
                    }
                    span.muted { "Edit the TOML; the plan reruns as you type." }
                }
                (editor("scenario", "Scenario (TOML)", &text))
                (messages())
                div.row {
                    button #run { "Run" }
                    input type="text" #run-name placeholder="name for the saved run (optional)" size="32";
                    button #save .plain { "Save run" }
                    span #status .muted role="status" {}
                    " "
                    span #saved {}
                }
            }
            div {
                fieldset {
                    legend { "Defaults for every tranche" }
                    (default_field("pue", "PUE", "e.g. 1.2"))
                    (default_field("electricity_usd_per_kwh", "Electricity, USD/kWh", "e.g. 0.07"))
                    (default_field("utilization", "Utilization (0–1)", "e.g. 0.8"))
                    (default_field("ramp_months", "Ramp, months", "e.g. 6"))
                    (default_field("build_months", "Build, months", "e.g. 18"))
                }
                fieldset {
                    legend { "Price per system" }
                    label {
                        "System "
                        select #price-system {
                            @for id in state.inner.catalog.systems.keys() { option { (id) } }
                        }
                    }
                    label { "USD per system " input type="number" step="any" #price-usd placeholder="e.g. 3.4e6"; }
                }
                div.row { button #apply .plain { "Apply to scenario" } }
                p.muted {
                    "Fields left empty are not changed. Tranches, deals and financing are edited in the TOML "
                    "(format: \"Writing a scenario\" in the README)."
                }
            }
        }
        h2 #tranches-title { "Tranches" }
        p.muted {
            "Edit a cell and the TOML above follows (only that line changes); edit the TOML and this table follows. "
            "Deals, financing and overrides are edited in the TOML."
        }
        div #tranche-form .table-wrap tabindex="0" role="region" aria-labelledby="tranches-title" {}
        div.row { button type="button" .plain #add-tranche { "Add a tranche" } }
        h2 { "Results" }
        (downloads("Downloads and sharing", html! {
            button type="button" .plain #dl-html { "HTML report" }
            button type="button" .plain #dl-csv { "CSV (monthly)" }
            button type="button" .plain #dl-md { "Markdown" }
            button type="button" .plain #dl-toml { "Scenario TOML" }
        }))
        iframe #report .report title="Plan report" sandbox="allow-same-origin" {}
    };
    let script = format!("{SCRIPT_PLAN}{SCRIPT_PLAN_FORM}");
    page("Plan", "Plan", body, &script)
}
