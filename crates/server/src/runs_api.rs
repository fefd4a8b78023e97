//! The stored runs' API: list, save (the result is always computed here), view, verify,
//! delete and compare; and loading a run for a page, bounded like heavy work when it is large.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path as UrlPath, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{json, Value};

#[allow(clippy::wildcard_imports)]
use crate::*;

#[derive(Debug, Deserialize)]
pub(crate) struct ListQuery {
    pub(crate) kind: Option<String>,
    pub(crate) limit: Option<u32>,
}

pub(crate) fn parse_kind(kind: Option<&str>) -> ApiResult<Option<RunKind>> {
    match kind {
        None | Some("") | Some("all") => Ok(None),
        Some(k) => RunKind::parse(k).map(Some).ok_or_else(|| {
            ApiError::bad_request(format!("unknown run kind `{k}`\n  fix: use plan or train"))
        }),
    }
}

pub(crate) async fn api_list_runs(
    State(state): State<AppState>,
    Query(query): Query<ListQuery>,
) -> ApiResult<axum::Json<Vec<RunSummary>>> {
    let kind = parse_kind(query.kind.as_deref())?;
    let limit = query.limit.unwrap_or(100).clamp(1, MAX_LIST);
    let runs = blocking(&state, move |inner| inner.store().list(kind, limit)).await??;
    Ok(axum::Json(runs))
}

/// Computes a run from its input (the result is always the server's own) and stores it.
pub(crate) fn compute_run(
    inner: &Inner,
    kind: RunKind,
    origin: &str,
    text: &str,
    name: Option<String>,
) -> ApiResult<NewRun> {
    let (title, hash, engine_version, catalog_version, json) = match kind {
        RunKind::Plan => {
            let r = plan_input(inner, origin, text)?;
            (
                r.scenario.name.clone(),
                r.scenario.input_hash.clone(),
                r.engine_version.clone(),
                r.catalog_version.clone(),
                report::plan_json(&r),
            )
        }
        RunKind::Train => {
            let r = train_input(inner, origin, text)?;
            let json = serde_json::to_string_pretty(&r)
                .map_err(|e| ApiError::internal(format!("result: {e}")))?;
            (
                format!("{} on {} x {}", r.model.id, r.gpus, r.system),
                r.input_hash.clone(),
                r.engine_version.clone(),
                r.catalog_version.clone(),
                json,
            )
        }
    };
    let name = name
        .map(|n| n.trim().chars().take(200).collect::<String>())
        .filter(|n| !n.is_empty())
        .unwrap_or(title);
    Ok(NewRun {
        kind,
        name,
        origin: origin.to_string(),
        input_text: text.to_string(),
        input_hash: hash,
        engine_version,
        catalog_version,
        result_json: json,
        created_unix_ms: now_unix_ms(),
    })
}

pub(crate) async fn api_save_run(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let input = parse_input(&headers, body)?;
    input.refuse_range_options("/api/runs")?;
    let kind = match parse_kind(input.kind.as_deref())? {
        Some(kind) => kind,
        None => RunKind::Plan,
    };
    let origin = input.origin.clone().unwrap_or_else(|| match kind {
        RunKind::Plan => "scenario.toml".into(),
        RunKind::Train => "spec.toml".into(),
    });
    let summary = blocking(&state, move |inner| {
        store_has_room(inner)?;
        let run = compute_run(inner, kind, &origin, &input.input, input.name)?;
        let bytes = run.input_text.len() + run.result_json.len();
        let most = inner.config.max_run_bytes;
        if bytes > most {
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "this run is {:.1} MiB (input and result); the server stores runs of at most {:.1} MiB\n  fix: a shorter horizon or fewer tranches, `gigawatt plan --out FILE` for large plans, or start the server with a larger --max-run-mib",
                    bytes as f64 / (1024.0 * 1024.0),
                    most as f64 / (1024.0 * 1024.0)
                ),
            ));
        }
        let mut store = inner.store();
        // Checked again under the lock, so concurrent saves cannot pass the count together.
        store_has_room_in(inner, &store)?;
        let id = store.insert(&run)?;
        drop(store);
        Ok::<_, ApiError>(RunSummary {
            id,
            kind: run.kind.as_str().into(),
            name: run.name,
            origin: run.origin,
            input_hash: run.input_hash,
            engine_version: run.engine_version,
            catalog_version: run.catalog_version,
            created_unix_ms: run.created_unix_ms,
        })
    })
    .await??;
    let location = format!("/api/runs/{}", summary.id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        axum::Json(json!({ "run": summary, "page": format!("/runs/{}", summary.id) })),
    )
        .into_response())
}

/// 409 when the store holds its most runs ([`ServerConfig::max_runs`]).
pub(crate) fn store_has_room(inner: &Inner) -> ApiResult<()> {
    let store = inner.store();
    store_has_room_in(inner, &store)
}

pub(crate) fn store_has_room_in(inner: &Inner, store: &Store) -> ApiResult<()> {
    let most = inner.config.max_runs;
    if u64::try_from(store.count()?).unwrap_or(0) >= most {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!(
                "the store holds {most} runs, the most this server keeps\n  fix: delete runs you no longer need (DELETE /api/runs/ID, or the Runs page), or start the server with a larger --max-runs"
            ),
        ));
    }
    Ok(())
}

/// A run id from the URL: an integer, else the run does not exist.
pub(crate) fn parse_id(text: &str) -> ApiResult<i64> {
    text.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| no_run(text))
}

pub(crate) fn no_run(id: &str) -> ApiError {
    ApiError::not_found(format!(
        "no run `{id}`\n  fix: GET /api/runs lists the saved runs"
    ))
}

/// A stored run being viewed, holding one of the heavy-work slots while it is in memory if it
/// is large (over [`LARGE_RUN_BYTES`]): views of large runs are bounded like other heavy work.
#[derive(Clone)]
pub(crate) struct LoadedRun {
    pub(crate) run: store::Run,
    pub(crate) _slot: Option<Arc<tokio::sync::OwnedSemaphorePermit>>,
}

impl std::ops::Deref for LoadedRun {
    type Target = store::Run;
    fn deref(&self) -> &store::Run {
        &self.run
    }
}

/// Stored runs larger than this (input plus result) take a heavy-work slot while viewed.
pub const LARGE_RUN_BYTES: i64 = 1024 * 1024;

pub(crate) async fn load_run(state: &AppState, id: &str) -> ApiResult<LoadedRun> {
    let number = parse_id(id)?;
    let bytes = blocking(state, move |inner| inner.store().run_bytes(number))
        .await??
        .ok_or_else(|| no_run(id))?;
    let slot = if bytes > LARGE_RUN_BYTES {
        Some(Arc::new(
            state
                .inner
                .search_slots
                .clone()
                .try_acquire_owned()
                .map_err(|_| {
                    ApiError::new(
                        StatusCode::TOO_MANY_REQUESTS,
                        format!(
                            "run {number} is large ({:.1} MiB) and the {SEARCH_SLOTS} slots for heavy work are taken\n  fix: try again when one finishes",
                            bytes as f64 / (1024.0 * 1024.0)
                        ),
                    )
                })?,
        ))
    } else {
        None
    };
    let run = blocking(state, move |inner| inner.store().get(number))
        .await??
        .ok_or_else(|| no_run(id))?;
    Ok(LoadedRun { run, _slot: slot })
}

pub(crate) fn run_json(run: &store::Run) -> Value {
    let result: Value = serde_json::from_str(&run.result_json).unwrap_or(Value::Null);
    let mut value = serde_json::to_value(&run.summary).unwrap_or(Value::Null);
    value["input_text"] = Value::String(run.input_text.clone());
    value["result"] = result;
    value
}

pub(crate) async fn api_get_run(
    State(state): State<AppState>,
    UrlPath(id): UrlPath<String>,
) -> ApiResult<axum::Json<Value>> {
    let run = load_run(&state, &id).await?;
    Ok(axum::Json(run_json(&run)))
}

pub(crate) async fn api_delete_run(
    State(state): State<AppState>,
    UrlPath(id): UrlPath<String>,
) -> ApiResult<StatusCode> {
    let number = parse_id(&id)?;
    if blocking(&state, move |inner| inner.store().delete(number)).await?? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(no_run(&id))
    }
}

/// Whether a stored run's input gives the same result today.
pub(crate) fn verify(inner: &Inner, run: &store::Run) -> Value {
    let kind = RunKind::parse(&run.summary.kind).unwrap_or(RunKind::Plan);
    let now = compute_run(inner, kind, &run.summary.origin, &run.input_text, None);
    let (reproduces, error) = match &now {
        Ok(fresh) => (fresh.result_json == run.result_json, None),
        Err(e) => (false, Some(e.message.clone())),
    };
    json!({
        "id": run.summary.id,
        "reproduces": reproduces,
        "input_hash_matches": engine::content_hash(&run.input_text) == run.summary.input_hash,
        "stored_engine_version": run.summary.engine_version,
        "current_engine_version": engine::ENGINE_VERSION,
        "stored_catalog_version": run.summary.catalog_version,
        "current_catalog_version": inner.catalog.version,
        "error": error,
    })
}

pub(crate) async fn api_verify_run(
    State(state): State<AppState>,
    UrlPath(id): UrlPath<String>,
) -> ApiResult<axum::Json<Value>> {
    let run = load_run(&state, &id).await?;
    Ok(axum::Json(
        blocking(&state, move |inner| verify(inner, &run)).await?,
    ))
}

#[derive(Debug, Deserialize)]
pub(crate) struct CompareQuery {
    pub(crate) a: Option<String>,
    pub(crate) b: Option<String>,
}

/// The key outputs compared between runs: (JSON pointer into the result, label).
pub(crate) const PLAN_KEYS: [(&str, &str); 7] = [
    ("/totals/facility_gw", "facility power, GW"),
    ("/totals/it_gw", "IT power, GW"),
    ("/totals/accelerators", "accelerators"),
    ("/totals/h100e", "H100-equivalents"),
    ("/totals/capex_usd", "capex, USD"),
    ("/totals/opex_usd", "opex to date, USD"),
    ("/totals/energy_twh_per_year", "energy, TWh per year"),
];
pub(crate) const TRAIN_KEYS: [(&str, &str); 6] = [
    ("/step_time_s", "step time, s"),
    ("/tokens_per_s", "tokens per second"),
    ("/tflops_per_gpu", "TFLOP/s per GPU"),
    ("/mfu", "MFU"),
    ("/memory_gib_per_gpu", "memory per GPU, GiB"),
    ("/feasible", "fits in memory"),
];

/// Differences in inputs and key outputs between two runs.
pub(crate) fn compare(a: &store::Run, b: &store::Run) -> Value {
    let ra: Value = serde_json::from_str(&a.result_json).unwrap_or(Value::Null);
    let rb: Value = serde_json::from_str(&b.result_json).unwrap_or(Value::Null);
    let mut keys: Vec<(&str, &str)> = Vec::new();
    for kind in [&a.summary.kind, &b.summary.kind] {
        let list: &[(&str, &str)] = if kind == "train" {
            &TRAIN_KEYS
        } else {
            &PLAN_KEYS
        };
        for key in list {
            if !keys.contains(key) {
                keys.push(*key);
            }
        }
    }
    let outputs: Vec<Value> = keys
        .iter()
        .map(|(pointer, label)| {
            let va = ra.pointer(pointer).cloned().unwrap_or(Value::Null);
            let vb = rb.pointer(pointer).cloned().unwrap_or(Value::Null);
            let difference = match (va.as_f64(), vb.as_f64()) {
                (Some(x), Some(y)) => json!(y - x),
                _ => Value::Null,
            };
            let ratio = match (va.as_f64(), vb.as_f64()) {
                (Some(x), Some(y)) if x != 0.0 => json!(y / x),
                _ => Value::Null,
            };
            json!({ "key": pointer.trim_start_matches('/').replace('/', "."), "label": label, "a": va, "b": vb, "difference": difference, "ratio": ratio })
        })
        .collect();
    json!({
        "a": a.summary,
        "b": b.summary,
        "same_input": a.summary.input_hash == b.summary.input_hash,
        "input_diff": diff::line_diff(&a.input_text, &b.input_text),
        "outputs": outputs,
    })
}

pub(crate) async fn load_pair(
    state: &AppState,
    query: CompareQuery,
) -> ApiResult<(LoadedRun, LoadedRun)> {
    let (Some(a), Some(b)) = (query.a, query.b) else {
        return Err(ApiError::bad_request(
            "compare needs two runs\n  fix: ?a=ID&b=ID (ids from GET /api/runs)",
        ));
    };
    let ra = load_run(state, &a).await?;
    let rb = load_run(state, &b).await?;
    Ok((ra, rb))
}

pub(crate) async fn api_compare_runs(
    State(state): State<AppState>,
    Query(query): Query<CompareQuery>,
) -> ApiResult<axum::Json<Value>> {
    let (a, b) = load_pair(&state, query).await?;
    Ok(axum::Json(compare(&a, &b)))
}
