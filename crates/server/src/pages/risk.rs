//! `/risk`: a portfolio's TOML (the shipped one to start) and the sampling options; the risk
//! report in a frame, downloads and the share link.

use axum::extract::State;
use axum::response::Response;
use maud::html;
use units::fmt_count;

use super::{downloads, editor, messages, page, SCRIPT_FIELDS};
use crate::AppState;

const SCRIPT_RISK: &str = include_str!("scripts/risk.js");

pub async fn risk_page(State(state): State<AppState>) -> Response {
    let inner = &state.inner;
    let text = inner
        .risk_portfolio
        .as_ref()
        .map(|p| p.text.clone())
        .unwrap_or_default();
    let body = html! {
        h1 { "Deal risk" }
        @match &inner.risk_portfolio {
            Some(p) => p.muted {
                "Starting from the shipped portfolio " code { (p.name) } "; its plan must be a shipped scenario ("
                @for (i, s) in inner.scenarios.iter().enumerate() {
                    @if i > 0 { ", " }
                    code { (s.name) }
                }
                ")."
            },
            None => p.messages { "This server has no shipped portfolio: paste one." },
        }
        div.grid {
            div {
                p.muted {
                    "A portfolio: the plan it samples and each deal's odds of proceeding, being cut, delayed or collapsing "
                    "(format: \"Deal risk\" in the README)."
                }
                (editor("portfolio", "Portfolio (TOML)", &text))
                (messages())
                div.row { button #run { "Run" } " " span #status .muted role="status" {} }
            }
            div #options {
                fieldset {
                    legend { "Sampling" }
                    label { "Samples " input type="number" #k-samples value=(crate::models::DEFAULT_RISK_SAMPLES) data-share; }
                    label { "Seed " input type="number" #k-seed placeholder="the file's, else 1" data-share; }
                }
                fieldset {
                    legend { "P(at least X GW online by a month)" }
                    label { "At least, GW " input type="number" step="any" #k-gw placeholder="e.g. 5" data-share; }
                    label { "By (YYYY-MM) " input type="text" #k-by placeholder="e.g. 2028-12" data-share; }
                }
                p.muted {
                    "At most " (fmt_count(crate::models::MAX_RISK_SAMPLES as f64)) " samples here; more with "
                    code { "gigawatt risk --samples N" } "."
                }
            }
        }
        h2 { "Report" }
        (downloads("Downloads and sharing", html! {
            button type="button" .plain #dl-html { "HTML report" }
            button type="button" .plain #dl-csv { "CSV" }
            button type="button" .plain #dl-toml { "Portfolio TOML" }
        }))
        iframe #report .report title="Risk report" sandbox="allow-same-origin" {}
    };
    page(
        "Risk",
        "Risk",
        body,
        &format!("{SCRIPT_FIELDS}{SCRIPT_RISK}"),
    )
}
