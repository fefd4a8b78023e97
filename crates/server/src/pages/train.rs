//! `/train`: a training spec, form first (model, cluster, layout, workload) with the TOML one
//! click away and kept in step both ways; the result (cards, where a step goes, assumptions);
//! the layout search.

use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Response};
use maud::{html, PreEscaped};
use units::fmt_count;

use super::charts::bar_chart;
use super::{
    bound_check, bound_number, bound_select, cards, choices, downloads, editing_run_notice,
    error_page, messages, options, page, toml_details, EditorQuery,
};
use crate::{load_run, ApiError, AppState};

const SCRIPT_TRAIN: &str = include_str!("scripts/train.js");

/// The spec the page starts with.
const TRAIN_EXAMPLE: &str = r#"model = "gpt3-175b"
[cluster]
system = "dgx-a100-80gb"
gpus = 64
[parallelism]
tp = 8
pp = 8
virtual_pp = 3
microbatch = 1
sequence_parallel = true
recompute = "selective"
zero = 1
[training]
global_batch = 64
seq_len = 2048
precision = "bf16"
tokens = 300e9
"#;

pub async fn train_page(
    State(state): State<AppState>,
    Query(query): Query<EditorQuery>,
) -> Response {
    let mut text = TRAIN_EXAMPLE.to_string();
    let mut notice = html! {};
    if let Some(id) = &query.run {
        match load_run(&state, id).await {
            Ok(run) if run.summary.kind == "train" => {
                text = run.input_text.clone();
                notice = editing_run_notice(run.summary.id);
            }
            Ok(_) => {
                return error_page(&ApiError::bad_request(format!(
                    "run {id} is not a training run"
                )))
            }
            Err(e) => return error_page(&e),
        }
    }
    let catalog = &state.inner.catalog;
    let body = html! {
        h1 { "Training a model" }
        (notice)
        p.muted {
            "How far off the step time runs: "
            a href="/train/validation" { "the model against every published training run" }
            " (each source left out of the fit; the same page as "
            code { "gigawatt train validate -f html" } ")."
        }
        div.grid {
            div #spec-form {
                p.muted { "A training spec: model, cluster, parallel layout, workload (format: \"Training a model\" in the README). It reruns as you change it." }
                fieldset {
                    legend { "Model and cluster" }
                    (bound_select("model", "Model", options(catalog.models.keys(), "gpt3-175b")))
                    (bound_select("cluster.system", "System", options(catalog.systems.keys(), "dgx-a100-80gb")))
                    (bound_number("cluster.gpus", "GPUs", "e.g. 64"))
                }
                fieldset {
                    legend { "Parallel layout" }
                    (bound_number("parallelism.tp", "Tensor parallel", "1"))
                    (bound_number("parallelism.pp", "Pipeline parallel", "1"))
                    (bound_number("parallelism.virtual_pp", "Virtual stages", "1"))
                    (bound_number("parallelism.microbatch", "Microbatch", "1"))
                    (bound_select("parallelism.recompute", "Recompute", choices(&["none", "selective", "full", "auto"], "selective")))
                    (bound_number("parallelism.zero", "ZeRO stage", "0"))
                    (bound_check("parallelism.sequence_parallel", "sequence parallel"))
                }
                fieldset {
                    legend { "Workload" }
                    (bound_number("training.global_batch", "Global batch", "e.g. 1024"))
                    (bound_number("training.seq_len", "Sequence length", "e.g. 4096"))
                    (bound_select("training.precision", "Precision", choices(&["bf16", "fp8", "fp4"], "bf16")))
                    (bound_number("training.tokens", "Tokens", "e.g. 300e9"))
                }
                (toml_details("spec", "Training spec (TOML)", &text))
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
                    legend { "Search layouts" }
                    label { "Model " select #s-model { (options(catalog.models.keys(), "llama3-70b")) } }
                    label { "System " select #s-system { (options(catalog.systems.keys(), "dgx-h100")) } }
                    label { "GPUs " input type="number" #s-gpus value="1024"; }
                    label { "Global batch " input type="number" #s-batch value="1024"; }
                    label { "Sequence length " input type="number" #s-seq value="4096"; }
                    label { "Precision " select #s-precision { (choices(&["bf16", "fp8", "fp4"], "bf16")) } }
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
    page("Train", "Train", body, SCRIPT_TRAIN)
}

/// A training result as an HTML fragment: headline cards, where a step goes (SVG), assumptions.
pub fn train_fragment(r: &engine::train::TrainResult) -> String {
    let s = &r.strategy;
    let b = &r.breakdown;
    let feasible = if r.feasible {
        "yes".to_string()
    } else {
        format!("no: {}", r.reason.clone().unwrap_or_default())
    };
    let mut headline = vec![
        (
            "step time",
            format!(
                "{:.3} s ±{:.1}%",
                r.step_time_s,
                100.0 * r.step_time_error.mean_absolute
            ),
        ),
        ("tokens per second", fmt_count(r.tokens_per_s)),
        ("MFU", format!("{:.1}%", 100.0 * r.mfu)),
        ("TFLOP/s per GPU", format!("{:.1}", r.tflops_per_gpu)),
        (
            "memory per GPU",
            format!(
                "{:.1} of {:.1} GiB",
                r.memory_gib_per_gpu, r.memory_gib.capacity
            ),
        ),
        ("fits", feasible),
    ];
    if let Some(t) = &r.time_to_train {
        headline.push((
            "days to train",
            format!(
                "{:.1} ({:.1} with failures)",
                t.days_without_failures, t.days_with_failures
            ),
        ));
    }
    // The CLI's labels, without its indentation.
    let bars: Vec<(String, f64)> = b
        .step_parts()
        .into_iter()
        .map(|(l, v)| (l.trim_start().to_string(), v))
        .collect();
    let kinds: Vec<(String, f64)> = b
        .compute_by_kind()
        .into_iter()
        .map(|(l, v)| (l.to_string(), v))
        .collect();
    html! {
        p {
            strong { (r.model.id) } " on " (fmt_count(r.gpus as f64)) " × " (r.system)
            (format!(" ({:.1}B parameters, {:.1}B active). ", r.model.params_total / 1e9, r.model.params_active / 1e9))
            (format!("Layout: tp {} pp {} dp {} cp {} ep {} vpp {} microbatch {} zero {}.", s.tp, s.pp, s.dp, s.cp, s.ep, s.virtual_pp, s.microbatch, s.zero))
        }
        (cards(&headline))
        h3 { "Where a step goes" }
        (bar_chart("step-parts", "Seconds per step by part", &bars, "s"))
        h3 { "What the compute runs" }
        (bar_chart("compute-kinds", "Seconds of compute per step by kind of kernel", &kinds, "s"))
        details {
            summary { "Assumptions" }
            ul { @for a in &r.assumptions { li { (PreEscaped(report::prose_html(a))) } } }
        }
    }
    .into_string()
}

/// `/train/validation`: the page `gigawatt train validate -f html` writes, for this server's
/// catalog, computed on the first request and kept.
pub async fn train_validation_page(State(state): State<AppState>) -> Response {
    let page = crate::work::blocking(&state, |inner| inner.training_validation_page()).await;
    match page {
        Ok(Ok(html)) => Html(html).into_response(),
        Ok(Err(message)) => error_page(&ApiError::internal(message)),
        Err(e) => error_page(&e),
    }
}
