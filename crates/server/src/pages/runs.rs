//! The saved-runs page: the list, and a comparison form whose defaults are two runs of the same
//! kind (a run's "Compare…" link lands here with that run as A and the latest other run of its
//! kind as B, never the run with itself); and one run's page (`/runs/ID`).

use axum::extract::{Path as UrlPath, Query, State};
use axum::response::Response;
use maud::{html, PreEscaped};
use serde::Deserialize;
use serde_json::Value;

use super::{error_page, fmt_output, fmt_time, page, train_fragment};
use crate::{
    blocking, load_run, parse_kind, plan_input, train_input, verify, AppState, RunKind, MAX_LIST,
};

#[derive(Debug, Deserialize)]
pub struct RunsQuery {
    kind: Option<String>,
    /// The run to compare (preselected as A; B defaults to the latest other run of its kind).
    a: Option<i64>,
}

/// The runs the comparison form preselects: A (the asked-for run, else the latest), and B, the
/// latest other run of the same kind (never A itself; none when A's kind has no other run).
fn comparison_defaults(runs: &[crate::RunSummary], a: Option<i64>) -> (Option<i64>, Option<i64>) {
    let first = match a {
        Some(id) => runs.iter().find(|r| r.id == id),
        None => runs.first(),
    };
    let Some(first) = first else {
        return (None, None);
    };
    let second = runs
        .iter()
        .find(|r| r.id != first.id && r.kind == first.kind)
        .map(|r| r.id);
    (Some(first.id), second)
}

/// Keeps the comparison's B of A's kind and never A itself, as A changes.
const SCRIPT_RUNS: &str = include_str!("scripts/runs.js");

pub async fn runs_page(State(state): State<AppState>, Query(query): Query<RunsQuery>) -> Response {
    let kind = match parse_kind(query.kind.as_deref()) {
        Ok(k) => k,
        Err(e) => return error_page(&e),
    };
    let runs = match blocking(&state, move |inner| inner.store().list(kind, MAX_LIST)).await {
        Ok(Ok(runs)) => runs,
        Ok(Err(e)) => return error_page(&e.into()),
        Err(e) => return error_page(&e),
    };
    let (default_a, default_b) = comparison_defaults(&runs, query.a);
    let note = match (default_a, default_b) {
        (Some(_), None) => "no other run of this kind to compare with",
        _ => "",
    };
    let option = |r: &crate::RunSummary, selected: bool| {
        html! {
            option value=(r.id) data-kind=(r.kind) selected[selected] { "#" (r.id) " " (r.kind) ": " (r.name) }
        }
    };
    let body = html! {
        h1 { "Saved runs" }
        p.muted {
            "Filter: " a href="/runs" { "all" } " · " a href="/runs?kind=plan" { "plans" } " · "
            a href="/runs?kind=train" { "training" } ". JSON: " a href="/api/runs" { "/api/runs" } "."
        }
        @if runs.is_empty() {
            p #no-runs {
                "No saved runs yet: run a " a href="/plan" { "plan" } " or a " a href="/train" { "training spec" } " and press Save run."
            }
        } @else {
            form.row method="get" action="/runs/compare" {
                label { "Compare " select name="a" #cmp-a { @for r in &runs { (option(r, Some(r.id) == default_a)) } } }
                " "
                label { "with " select name="b" #cmp-b { @for r in &runs { (option(r, Some(r.id) == default_b)) } } }
                " " button { "Compare" } " "
                span #cmp-note .muted role="status" { (note) }
            }
            div.table-wrap tabindex="0" role="region" aria-label="Saved runs" {
                table #runs {
                    tr {
                        @for h in ["run", "kind", "name", "saved", "input hash", "engine", "catalog", ""] { th { (h) } }
                    }
                    @for r in &runs {
                        tr data-run=(r.id) {
                            td { a href={ "/runs/" (r.id) } { "#" (r.id) } }
                            td { (r.kind) }
                            td { a href={ "/runs/" (r.id) } { (r.name) } }
                            td { (fmt_time(r.created_unix_ms)) }
                            td { code { (r.input_hash) } }
                            td { (r.engine_version) }
                            td { code { (r.catalog_version) } }
                            td { button.danger data-delete=(r.id) { "Delete" } }
                        }
                    }
                }
            }
        }
    };
    page("Runs", "Runs", body, SCRIPT_RUNS)
}

/// One saved run: what it is, whether it reproduces today, its key outputs as saved, its input
/// and its result as the engine gives it now.
pub async fn run_page(State(state): State<AppState>, UrlPath(id): UrlPath<String>) -> Response {
    let run = match load_run(&state, &id).await {
        Ok(run) => run,
        Err(e) => return error_page(&e),
    };
    let run_for_work = run.clone();
    let rendered = blocking(&state, move |inner| {
        let check = verify(inner, &run_for_work);
        let (origin, input) = (&run_for_work.summary.origin, &run_for_work.input_text);
        let view = match RunKind::parse(&run_for_work.summary.kind) {
            Some(RunKind::Train) => train_input(inner, origin, input).map(|r| train_fragment(&r)),
            _ => plan_input(inner, origin, input).map(|r| {
                html! {
                    iframe #report .report title="Plan report" sandbox="allow-same-origin" srcdoc=(report::plan_html(&r)) {}
                }
                .into_string()
            }),
        };
        (check, view)
    })
    .await;
    let (check, view) = match rendered {
        Ok(x) => x,
        Err(e) => return error_page(&e),
    };
    let s = &run.summary;
    let result: Value = serde_json::from_str(&run.result_json).unwrap_or(Value::Null);
    let editor = if s.kind == "train" { "/train" } else { "/plan" };
    let keys: &[(&str, &str)] = if s.kind == "train" {
        &crate::runs_api::TRAIN_KEYS
    } else {
        &crate::runs_api::PLAN_KEYS
    };
    let body = html! {
        h1 { "Run #" (s.id) " · " (s.name) }
        dl.meta {
            dt { "kind" } dd { (s.kind) }
            dt { "saved" } dd { (fmt_time(s.created_unix_ms)) }
            dt { "input" } dd { (s.origin) }
            dt { "input hash" } dd { code { (s.input_hash) } }
            dt { "engine" } dd { (s.engine_version) }
            dt { "catalog" } dd { code { (s.catalog_version) } }
            dt { "reproduces" }
            dd #reproduces {
                @if check["reproduces"].as_bool() == Some(true) {
                    span.ok { "yes: rerunning the input now gives the same result" }
                } @else {
                    strong { "no" } ": the engine (" (engine::ENGINE_VERSION) " now) or catalog ("
                    code { (state.inner.catalog.version) } " now) changed the result"
                    @if let Some(e) = check["error"].as_str() {
                        "; the input now fails: " pre.messages { (e) }
                    }
                }
            }
        }
        div.row {
            a href={ (editor) "?run=" (s.id) } { "Open in the editor" } " · "
            a href={ "/api/runs/" (s.id) } { "JSON" } " · "
            a href={ "/runs?a=" (s.id) } { "Compare…" } " "
            button.danger data-delete=(s.id) data-after="/runs" { "Delete" }
        }
        h2 { "Key outputs (as saved)" }
        table {
            @for (pointer, label) in keys {
                @let v = result.pointer(pointer).cloned().unwrap_or(Value::Null);
                tr { th { (label) } td.num { (fmt_output(pointer.rsplit('/').next().unwrap_or(""), &v)) } }
            }
        }
        h2 { "Input" }
        pre tabindex="0" role="region" aria-label="Input" { (run.input_text) }
        h2 { "Result" }
        @match &view {
            Ok(html) => (PreEscaped(html)),
            Err(e) => pre.messages { (e.message) },
        }
    };
    page(&format!("Run #{}", s.id), "Runs", body, "")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(id: i64, kind: &str) -> crate::RunSummary {
        crate::RunSummary {
            id,
            kind: kind.into(),
            name: format!("run {id}"),
            origin: "o".into(),
            input_hash: "h".into(),
            engine_version: "e".into(),
            catalog_version: "c".into(),
            created_unix_ms: 0,
        }
    }

    #[test]
    fn comparison_defaults_pair_runs_of_one_kind_and_never_a_run_with_itself() {
        // Newest first, as the store lists them.
        let runs = vec![
            run(4, "train"),
            run(3, "plan"),
            run(2, "train"),
            run(1, "plan"),
        ];
        assert_eq!(comparison_defaults(&runs, None), (Some(4), Some(2)));
        assert_eq!(comparison_defaults(&runs, Some(3)), (Some(3), Some(1)));
        assert_eq!(comparison_defaults(&runs, Some(1)), (Some(1), Some(3)));
        // The only run of its kind: no B rather than itself.
        let lonely = vec![run(2, "plan"), run(1, "train")];
        assert_eq!(comparison_defaults(&lonely, Some(1)), (Some(1), None));
        assert_eq!(comparison_defaults(&[], None), (None, None));
    }
}
