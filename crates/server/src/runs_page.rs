//! The saved-runs page: the list, and a comparison form whose defaults are two runs of the same
//! kind (a run's "Compare…" link lands here with that run as A and the latest other run of its
//! kind as B, never the run with itself).

use std::fmt::Write as _;

use axum::extract::{Query, State};
use axum::response::Response;
use serde::Deserialize;

use crate::pages::{error_page, esc, fmt_time, page};
use crate::{blocking, parse_kind, AppState, MAX_LIST};

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
const SCRIPT_RUNS: &str = r#"
function pickB() {
  const a = $('cmp-a').selectedOptions[0], b = $('cmp-b');
  if (!a) return;
  const cur = b.selectedOptions[0];
  if (cur && cur.value !== a.value && cur.dataset.kind === a.dataset.kind) return;
  const same = Array.from(b.options).find((o) => o.value !== a.value && o.dataset.kind === a.dataset.kind);
  if (same) { b.value = same.value; $('cmp-note').textContent = ''; }
  else { $('cmp-note').textContent = 'no other ' + a.dataset.kind + ' run to compare with'; }
}
if ($('cmp-a')) { $('cmp-a').addEventListener('change', pickB); }
"#;

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
    let (mut options, mut options_b) = (String::new(), String::new());
    for r in &runs {
        let option = |selected: bool| {
            format!(
                "<option value=\"{0}\" data-kind=\"{3}\"{2}>#{0} {3}: {1}</option>",
                r.id,
                esc(&r.name),
                if selected { " selected" } else { "" },
                esc(&r.kind)
            )
        };
        options += &option(Some(r.id) == default_a);
        options_b += &option(Some(r.id) == default_b);
    }
    let note = match (default_a, default_b) {
        (Some(_), None) => "no other run of this kind to compare with",
        _ => "",
    };
    let mut body = String::from(
        "<h1>Saved runs</h1><p class=\"muted\">Filter: <a href=\"/runs\">all</a> · <a href=\"/runs?kind=plan\">plans</a> · \
         <a href=\"/runs?kind=train\">training</a>. JSON: <a href=\"/api/runs\">/api/runs</a>.</p>",
    );
    if runs.is_empty() {
        body += "<p id=\"no-runs\">No saved runs yet: run a <a href=\"/plan\">plan</a> or a <a href=\"/train\">training spec</a> and press Save run.</p>";
    } else {
        let _ = write!(
            body,
            "<form class=\"row\" method=\"get\" action=\"/runs/compare\"><label>Compare <select name=\"a\" id=\"cmp-a\">{options}</select></label> \
             <label>with <select name=\"b\" id=\"cmp-b\">{options_b}</select></label> <button>Compare</button> \
             <span id=\"cmp-note\" class=\"muted\" role=\"status\">{note}</span></form>"
        );
        body += "<div class=\"table-wrap\" tabindex=\"0\" role=\"region\" aria-label=\"Saved runs\"><table id=\"runs\"><tr><th>run</th><th>kind</th><th>name</th><th>saved</th><th>input hash</th><th>engine</th><th>catalog</th><th></th></tr>";
        for r in &runs {
            let _ = write!(
                body,
                "<tr data-run=\"{0}\"><td><a href=\"/runs/{0}\">#{0}</a></td><td>{1}</td><td><a href=\"/runs/{0}\">{2}</a></td>\
                 <td>{3}</td><td><code>{4}</code></td><td>{5}</td><td><code>{6}</code></td>\
                 <td><button class=\"danger\" data-delete=\"{0}\">Delete</button></td></tr>",
                r.id,
                esc(&r.kind),
                esc(&r.name),
                fmt_time(r.created_unix_ms),
                esc(&r.input_hash),
                esc(&r.engine_version),
                esc(&r.catalog_version),
            );
        }
        body += "</table></div>";
    }
    page("Runs", "Runs", &body, SCRIPT_RUNS)
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
