//! `/infer`: a serving spec, form first (model, system, layout, precision, traffic, targets)
//! with the TOML one click away and kept in step both ways; the result (cards, every layout as
//! `gigawatt infer` prints it, where a decode step goes); the layout search.

use axum::extract::State;
use axum::response::Response;
use maud::{html, PreEscaped};
use units::fmt_count;

use super::charts::data_table;
use super::{
    bound_check, bound_number, bound_select, cards, choices, downloads, messages, options, page,
    toml_details, SCRIPT_FIELDS,
};
use crate::AppState;

const SCRIPT_INFER: &str = include_str!("scripts/infer.js");

/// The serving spec the Infer page starts with.
pub const INFER_EXAMPLE: &str = r#"model = "llama3-70b"
[cluster]
system = "dgx-h100"
[serving]
tp = 4
precision = "fp8"
kv_precision = "bf16"
input_tokens = 2000
output_tokens = 500
ttft_slo_s = 2.0
tpot_slo_s = 0.05
mode = "server"
"#;

const PRECISIONS: [&str; 3] = ["bf16", "fp8", "fp4"];

fn precision_name(p: perf::Precision) -> String {
    format!("{p:?}").to_lowercase()
}

/// A latency in ms, or a dash where there is none (an infeasible layout).
fn latency_ms(seconds: f64, digits: usize) -> String {
    if seconds.is_finite() {
        format!("{:.*} ms", digits, 1e3 * seconds)
    } else {
        "-".to_string()
    }
}

/// Serving results as an HTML fragment: headline cards for one result, and a table of every
/// layout (as `gigawatt infer` prints it).
pub fn infer_fragment(results: &[engine::infer::InferResult], evaluated: Option<u64>) -> String {
    // Where the time of a decode step goes, one bar per feasible result: a chart, because the
    // split between weights, KV cache and communication is the point of comparing layouts.
    let bars: Vec<(String, &engine::infer::InferResult)> = results
        .iter()
        .filter(|r| r.feasible)
        .map(|r| {
            let l = &r.layout;
            let label = if results.len() == 1 {
                r.system.clone()
            } else {
                format!("tp {} pp {} ep {}", l.tp, l.pp, l.ep)
            };
            (label, r)
        })
        .collect();
    let step = (!bars.is_empty()).then(|| report::serving::step_chart(&bars));
    // The chart's figures as a table: a row per bar, a column per part, in ms.
    let parts: Vec<&str> = bars
        .first()
        .map(|(_, r)| report::serving::step_parts(r).iter().map(|p| p.0).collect())
        .unwrap_or_default();
    let mut headings = vec!["layout"];
    headings.extend(parts.iter().copied());
    let rows: Vec<Vec<String>> = bars
        .iter()
        .map(|(label, r)| {
            let mut row = vec![label.clone()];
            row.extend(
                report::serving::step_parts(r)
                    .iter()
                    .map(|p| format!("{:.3}", 1e3 * p.1)),
            );
            row
        })
        .collect();
    html! {
        @if let Some(n) = evaluated {
            p { (fmt_count(n as f64)) " layouts evaluated; the best " (results.len()) " by output tokens per second per accelerator." }
        }
        @if let ([r], None) = (results, evaluated) {
            p {
                strong { (r.model) } " on " (fmt_count(r.gpus as f64)) " × " (r.system) ", "
                (fmt_count(r.workload.input_tokens)) " input and " (fmt_count(r.workload.output_tokens))
                " output tokens per request (" (format!("{:?}", r.workload.mode).to_lowercase()) " mode"
                @if r.workload.disaggregated { ", disaggregated" }
                ")."
            }
            @if !r.feasible {
                pre.messages #infeasible { "not feasible: " (r.reason.as_deref().unwrap_or("no reason given")) }
            }
            (cards(&[
                ("output tokens/s", fmt_count(r.output_tokens_per_s)),
                ("per accelerator", fmt_count(r.output_tokens_per_s_per_gpu)),
                ("TTFT", latency_ms(r.ttft_s, 0)),
                ("TPOT", latency_ms(r.tpot_s, 1)),
                ("batch", r.batch.to_string()),
                ("KV cache", format!("{:.1} GiB", r.kv_cache_gib)),
            ]))
        }
        div.table-wrap tabindex="0" role="region" aria-label="Serving layouts" {
            table #infer-table {
                tr {
                    @for h in ["tp", "pp", "ep", "precision", "batch", "tokens/s", "per GPU", "TPOT ms", "TTFT ms", "KV GiB", "weights GiB", "feasible"] {
                        th { (h) }
                    }
                }
                @for r in results {
                    @let l = &r.layout;
                    tr {
                        td.num { (l.tp) } td.num { (l.pp) } td.num { (l.ep) }
                        td { (precision_name(l.precision)) }
                        td.num { (r.batch) }
                        td.num { (fmt_count(r.output_tokens_per_s)) }
                        td.num { (fmt_count(r.output_tokens_per_s_per_gpu)) }
                        td.num { (latency_ms(r.tpot_s, 1).trim_end_matches(" ms")) }
                        td.num { (latency_ms(r.ttft_s, 0).trim_end_matches(" ms")) }
                        td.num { (format!("{:.1}", r.kv_cache_gib)) }
                        td.num { (format!("{:.1}", r.weights_gib)) }
                        td {
                            @if r.feasible { "yes" } @else { "no: " (r.reason.clone().unwrap_or_default()) }
                        }
                    }
                }
            }
        }
        @if let Some((chart, legend)) = step {
            figure #decode-step {
                h3 { "Where a decode step's time goes" }
                (PreEscaped(chart))
                (PreEscaped(legend))
                (data_table("Decode step by part, ms", &headings, &rows))
            }
        }
        @if let [r] = results {
            details #infer-assumptions {
                summary { "What these figures rest on" }
                ul { @for a in &r.assumptions { li { (PreEscaped(report::prose_html(a))) } } }
            }
        }
    }
    .into_string()
}

pub async fn infer_page(State(state): State<AppState>) -> Response {
    let catalog = &state.inner.catalog;
    let body = html! {
        h1 { "Serving a model" }
        div.grid {
            div #spec-form {
                p.muted {
                    "A serving spec: model, system, layout (tp, pp, ep), precision, traffic and latency targets "
                    "(format: \"Serving a model\" in the README). It reruns as you change it."
                }
                fieldset {
                    legend { "Model and system" }
                    (bound_select("model", "Model", options(catalog.models.keys(), "llama3-70b")))
                    (bound_select("cluster.system", "System", options(catalog.systems.keys(), "dgx-h100")))
                }
                fieldset {
                    legend { "Layout and precision" }
                    (bound_number("serving.tp", "Tensor parallel", "1"))
                    (bound_number("serving.pp", "Pipeline parallel", "1"))
                    (bound_number("serving.ep", "Expert parallel", "1"))
                    (bound_select("serving.precision", "Weights", choices(&PRECISIONS, "fp8")))
                    (bound_select("serving.kv_precision", "KV cache", choices(&PRECISIONS, "bf16")))
                }
                fieldset {
                    legend { "Traffic and targets" }
                    (bound_number("serving.input_tokens", "Input tokens", "e.g. 2000"))
                    (bound_number("serving.output_tokens", "Output tokens", "e.g. 500"))
                    (bound_number("serving.ttft_slo_s", "TTFT target, s", "e.g. 2"))
                    (bound_number("serving.tpot_slo_s", "TPOT target, s", "e.g. 0.05"))
                    (bound_select("serving.mode", "Mode", choices(&["server", "offline"], "server")))
                    (bound_check("serving.disaggregated", "disaggregated prefill and decode"))
                }
                (toml_details("spec", "Serving spec (TOML)", INFER_EXAMPLE))
                (messages())
                div.row { button #run { "Run" } " " span #status .muted role="status" {} }
            }
            div {
                fieldset {
                    legend { "Search layouts" }
                    label { "Model " select #s-model { (options(catalog.models.keys(), "llama3-70b")) } }
                    label { "System " select #s-system { (options(catalog.systems.keys(), "dgx-h100")) } }
                    label { "Input tokens " input type="number" #s-in value="2000"; }
                    label { "Output tokens " input type="number" #s-out value="500"; }
                    label { "TTFT target, s " input type="number" step="any" #s-ttft value="2"; }
                    label { "TPOT target, s " input type="number" step="any" #s-tpot value="0.05"; }
                    label { "Mode " select #s-mode { (choices(&["server", "offline"], "server")) } }
                    label.check { input type="checkbox" #s-disagg; " disaggregated prefill and decode" }
                    label { "Precision " select #s-precision { (choices(&PRECISIONS, "fp8")) } }
                    label { "Top " input type="number" #s-top value="5"; }
                    div.row { button #search .plain { "Search" } }
                }
                div #search-result {}
            }
        }
        h2 { "Result" }
        (downloads("Downloads and sharing", html! {
            button type="button" .plain #dl-html { "HTML (this result)" }
            button type="button" .plain #dl-json { "JSON" }
            button type="button" .plain #dl-toml { "Spec TOML" }
        }))
        div #result {}
    };
    page(
        "Infer",
        "Infer",
        body,
        &format!("{SCRIPT_FIELDS}{SCRIPT_INFER}"),
    )
}
