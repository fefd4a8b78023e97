//! `/runs/compare`: two saved runs side by side: what they are, their key outputs with the
//! difference and ratio, facility power over time (plans), and the input diff.

use axum::extract::{Query, State};
use axum::response::Response;
use maud::html;
use serde_json::Value;

use super::charts::timeline_chart;
use super::{error_page, fmt_output, page};
use crate::{compare, load_pair, AppState, CompareQuery};

pub async fn compare_page(
    State(state): State<AppState>,
    Query(query): Query<CompareQuery>,
) -> Response {
    let (a, b) = match load_pair(&state, query).await {
        Ok(pair) => pair,
        Err(e) => return error_page(&e),
    };
    let c = compare(&a, &b);
    let (sa, sb) = (&a.summary, &b.summary);
    let ra: Value = serde_json::from_str(&a.result_json).unwrap_or(Value::Null);
    let rb: Value = serde_json::from_str(&b.result_json).unwrap_or(Value::Null);
    let chart = timeline_chart(&ra, &rb, &format!("A #{}", sa.id), &format!("B #{}", sb.id));
    let body = html! {
        h1 { "Run #" (sa.id) " vs run #" (sb.id) }
        table {
            tr {
                th {}
                th { "A: " a href={ "/runs/" (sa.id) } { "#" (sa.id) } " " (sa.name) }
                th { "B: " a href={ "/runs/" (sb.id) } { "#" (sb.id) } " " (sb.name) }
            }
            @for (label, va, vb) in [
                ("kind", &sa.kind, &sb.kind),
                ("input hash", &sa.input_hash, &sb.input_hash),
                ("engine", &sa.engine_version, &sb.engine_version),
                ("catalog", &sa.catalog_version, &sb.catalog_version),
            ] {
                tr { th { (label) } td { code { (va) } } td { code { (vb) } } }
            }
        }
        h2 { "Key outputs" }
        table #outputs {
            tr { th { "output" } th { "A" } th { "B" } th { "B − A" } th { "B / A" } }
            @for o in c["outputs"].as_array().into_iter().flatten() {
                @let last = o["key"].as_str().unwrap_or("").rsplit('.').next().unwrap_or("");
                tr {
                    th { (o["label"].as_str().unwrap_or("")) }
                    td.num { (fmt_output(last, &o["a"])) }
                    td.num { (fmt_output(last, &o["b"])) }
                    td.num { (fmt_output(last, &o["difference"])) }
                    td.num { (o["ratio"].as_f64().map_or_else(|| "—".to_string(), |r| format!("{r:.3}×"))) }
                }
            }
        }
        @if let Some(chart) = chart {
            h2 { "Facility power over time, GW" }
            (chart)
        }
        h2 { "Input differences" }
        @if c["same_input"].as_bool() == Some(true) {
            p { "The inputs are identical (same hash)." }
        }
        pre.diff #diff tabindex="0" role="region" aria-label="Input differences" {
            @for line in c["input_diff"].as_array().into_iter().flatten() {
                @let op = line["op"].as_str().unwrap_or("same");
                @let sign = match op { "added" => "+ ", "removed" => "- ", _ => "  " };
                span class=(op) { (sign) (line["text"].as_str().unwrap_or("")) }
            }
        }
    };
    page("Compare runs", "Runs", body, "")
}
