//! `/fleet`: the serving fleet question (a shipped plan, a model, traffic and targets) as a
//! form, the report `POST /api/infer/fleet` writes in a frame, its HTML and CSV to download.

use axum::extract::State;
use axum::response::Response;
use maud::html;

use super::{choices, downloads, messages, options, page};
use crate::AppState;

const SCRIPT_FLEET: &str = include_str!("scripts/fleet.js");

pub async fn fleet_page(State(state): State<AppState>) -> Response {
    let catalog = &state.inner.catalog;
    let number = |id: &str, label: &str, value: &str| {
        html! { label { (label) " " input type="number" step="any" min="0" id=(id) value=(value) data-share; } }
    };
    let body = html! {
        h1 { "Serving fleet" }
        p.muted {
            "What a plan's fleet could serve, month by month: output tokens/s at the latency targets, per MW, "
            "and the cost per million tokens (as " code { "gigawatt infer fleet" } ")."
        }
        fieldset #question {
            legend { "The question" }
            div.row {
                label {
                    "Plan "
                    select #q-scenario data-share {
                        @for s in &state.inner.scenarios {
                            option value=(s.name) selected[s.name == "openai-portfolio"] { (s.name) }
                        }
                    }
                }
                label { "Model " select #q-model data-share { (options(catalog.models.keys(), "llama3-70b")) } }
                (number("q-in", "Prompt tokens", "2000"))
                (number("q-out", "Output tokens", "500"))
                (number("q-ttft", "TTFT target, s", "2"))
                (number("q-tpot", "TPOT target, s", "0.05"))
                label { "Mode " select #q-mode data-share { (choices(&["server", "offline"], "server")) } }
                label { "Precision " select #q-precision data-share { (choices(&["bf16", "fp8", "fp4"], "fp8")) } }
                (number("q-life", "Capex life, years", "5"))
            }
        }
        (messages())
        div.row { button #run { "Run" } " " span #status .muted role="status" {} }
        (downloads("Downloads and sharing", html! {
            button type="button" .plain #dl-html { "HTML report" }
            button type="button" .plain #dl-csv { "CSV (monthly)" }
        }))
        iframe #report .report title="Serving fleet report" sandbox="allow-same-origin" {}
    };
    page("Serving fleet", "Fleet", body, SCRIPT_FLEET)
}
