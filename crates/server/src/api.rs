//! The JSON API's handlers for plans, training and the catalog, and the input bodies they
//! share (JSON with the text, or the TOML itself). Serving, reliability and risk are in
//! `models.rs`; stored runs in `runs_api.rs`.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap};
use axum::response::{Html, IntoResponse, Response};
use catalog::Catalog;
use serde::Deserialize;
use serde_json::{json, Value};

#[allow(clippy::wildcard_imports)]
use crate::*;

/// The body of `/api/plan`, `/api/train` and `/api/runs`: JSON with the input text, or the
/// TOML text itself.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct InputBody {
    /// The scenario (plan) or spec (train) TOML text.
    #[serde(alias = "scenario", alias = "spec")]
    pub(crate) input: String,
    /// The name diagnostics use for the input (default: `scenario.toml` / `spec.toml`).
    pub(crate) origin: Option<String>,
    /// Plan or train (runs only).
    pub(crate) kind: Option<String>,
    /// A title for a saved run.
    pub(crate) name: Option<String>,
    /// Plans only: draws of the ranges (default 1,000).
    pub(crate) draws: Option<u64>,
    /// Plans only: seed of the ranges' draws (default 0).
    pub(crate) seed: Option<u64>,
    /// Plans only: central values without ranges.
    pub(crate) no_ranges: Option<bool>,
}

impl InputBody {
    /// The plan options the body gives.
    pub(crate) fn range_request(&self) -> PlanRangeRequest {
        PlanRangeRequest {
            draws: self.draws,
            seed: self.seed,
            no_ranges: self.no_ranges,
        }
    }

    /// A 400 where a body for `endpoint` carries the plan API's options.
    pub(crate) fn refuse_range_options(&self, endpoint: &str) -> ApiResult<()> {
        if self.range_request() == PlanRangeRequest::default() {
            return Ok(());
        }
        Err(ApiError::bad_request(format!(
            "`draws`, `seed` and `no_ranges` are options of /api/plan, not of {endpoint}\n  fix: leave them out (saved plan runs use the defaults, 1,000 draws and seed 0, so that they reproduce)"
        )))
    }
}

pub(crate) fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("json"))
}

pub(crate) fn parse_input(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<InputBody> {
    let body = body?;
    if is_json(headers) {
        serde_json::from_slice(&body).map_err(|e| {
            ApiError::bad_request(format!(
                "the request body is not valid JSON for this endpoint: {e}\n  fix: send {{\"input\": \"<TOML text>\", \"origin\": \"name.toml\"}}, or the TOML text itself as application/toml"
            ))
        })
    } else {
        let text = String::from_utf8(body.to_vec()).map_err(|_| {
            ApiError::bad_request(
                "the request body is not UTF-8 text\n  fix: a scenario or spec is UTF-8 TOML",
            )
        })?;
        Ok(InputBody {
            input: text,
            origin: None,
            kind: None,
            name: None,
            draws: None,
            seed: None,
            no_ranges: None,
        })
    }
}

/// Plans `text` with the plan API's default ranges (1,000 draws, seed 0, within the budget);
/// the error is the CLI's message.
pub(crate) fn plan_input(inner: &Inner, origin: &str, text: &str) -> ApiResult<engine::PlanResult> {
    plan_input_with(inner, origin, text, Some(engine::RangeOptions::default()))
}

/// Plans `text`, with ranges unless `ranges` is `None` (bounded and cached:
/// [`crate::plan_ranges`]); the error is the CLI's message.
pub(crate) fn plan_input_with(
    inner: &Inner,
    origin: &str,
    text: &str,
    ranges: Option<engine::RangeOptions>,
) -> ApiResult<engine::PlanResult> {
    let Ok(scenario) = toml::from_str::<engine::Scenario>(text) else {
        // The engine parses it again and gives the CLI's message.
        return engine::plan_text(&inner.catalog, origin, text).map_err(ApiError::from_engine);
    };
    if scenario.tranche.len() > MAX_PLAN_TRANCHES {
        return Err(ApiError::bad_request(format!(
            "{origin}: the scenario has {} tranches; the server plans at most {MAX_PLAN_TRANCHES} (the result grows with tranches x months)\n  fix: merge tranches that share a system and start, or run it with `gigawatt plan`",
            scenario.tranche.len()
        )));
    }
    let mut result =
        engine::plan(&inner.catalog, &scenario, origin, text).map_err(ApiError::from_engine)?;
    if let Some(options) = ranges {
        add_plan_ranges(inner, &scenario, origin, text, &mut result, options)?;
    }
    Ok(result)
}

/// Evaluates a training spec; the error is the CLI's message.
pub(crate) fn train_input(
    inner: &Inner,
    origin: &str,
    text: &str,
) -> ApiResult<engine::train::TrainResult> {
    engine::train::train_text(&inner.catalog, origin, text).map_err(ApiError::from_engine)
}

pub(crate) fn text_response(content_type: &'static str, body: String) -> Response {
    ([(header::CONTENT_TYPE, content_type)], body).into_response()
}

// ---------------------------------------------------------------------------------------------
// Handlers

pub(crate) async fn healthz(State(state): State<AppState>) -> axum::Json<Value> {
    axum::Json(json!({
        "status": "ok",
        "engine_version": engine::ENGINE_VERSION,
        "catalog_version": state.inner.catalog.version,
    }))
}

pub(crate) async fn openapi_json() -> Response {
    text_response("application/json", openapi::document().to_string())
}

pub(crate) async fn api_scenarios(State(state): State<AppState>) -> axum::Json<Value> {
    let list: Vec<Value> = state
        .inner
        .scenarios
        .iter()
        .map(|s| json!({ "name": s.name, "title": scenario_title(&s.text), "text": s.text }))
        .collect();
    axum::Json(Value::Array(list))
}

/// The `name = "..."` of a scenario's text, for lists.
pub(crate) fn scenario_title(text: &str) -> String {
    toml::from_str::<toml::Table>(text)
        .ok()
        .and_then(|t| t.get("name").and_then(|n| n.as_str()).map(str::to_string))
        .unwrap_or_default()
}

pub(crate) async fn api_catalog(State(state): State<AppState>) -> ApiResult<Response> {
    Ok(text_response(
        "application/json",
        catalog_json(&state.inner.catalog).to_string(),
    ))
}

/// Every deal's timeline and the knowledge cut-off (`engine::knowledge`, as `gigawatt deals`).
pub(crate) async fn api_deals(State(state): State<AppState>) -> ApiResult<Response> {
    let catalog = &state.inner.catalog;
    let knowledge = engine::knowledge::knowledge(catalog, catalog.deals.keys().map(String::as_str));
    // The shape of `gigawatt deals --format json`.
    let value = json!({
        "catalog_version": catalog.version,
        "knowledge_cutoff": knowledge.cutoff,
        "on": knowledge.known_on,
        "deals": knowledge.timelines,
        "withheld": catalog.withheld,
    });
    Ok(text_response("application/json", value.to_string()))
}

/// The catalog as JSON: every entry with its numbers' sources; sites (with their last search)
/// and claims (figures sources disagree on) for the surfaces that show them.
pub(crate) fn catalog_json(catalog: &Catalog) -> Value {
    json!({
        "version": catalog.version,
        "sources": catalog.sources,
        "accelerators": catalog.accelerators,
        "systems": catalog.systems,
        "deals": catalog.deals,
        "models": catalog.models,
        "facility": catalog.facility,
        "sites": catalog.sites,
        "claims": catalog.claims,
    })
}

#[derive(Debug, Deserialize)]
pub(crate) struct FormatQuery {
    pub(crate) format: Option<String>,
}

/// The query of `/api/plan`: the format and the ranges' options.
#[derive(Debug, Deserialize)]
pub(crate) struct PlanQuery {
    pub(crate) format: Option<String>,
    pub(crate) draws: Option<u64>,
    pub(crate) seed: Option<u64>,
    pub(crate) no_ranges: Option<bool>,
}

pub(crate) async fn api_plan(
    State(state): State<AppState>,
    Query(query): Query<PlanQuery>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let input = parse_input(&headers, body)?;
    let ranges = input
        .range_request()
        .or(PlanRangeRequest {
            draws: query.draws,
            seed: query.seed,
            no_ranges: query.no_ranges,
        })
        .options()?;
    let format = query.format.unwrap_or_else(|| "json".into());
    let content_type = match format.as_str() {
        "json" => "application/json",
        "html" => "text/html; charset=utf-8",
        "csv" => "text/csv; charset=utf-8",
        "md" => "text/markdown; charset=utf-8",
        other => {
            return Err(ApiError::bad_request(format!(
                "unknown format `{other}`\n  fix: use format=json, html, csv or md"
            )))
        }
    };
    let origin = input.origin.unwrap_or_else(|| "scenario.toml".into());
    let body = blocking(&state, move |inner| {
        let result = plan_input_with(inner, &origin, &input.input, ranges)?;
        Ok::<_, ApiError>(match format.as_str() {
            "html" => report::plan_html(&result),
            "csv" => report::plan_csv(&result),
            "md" => report::plan_markdown(&result),
            _ => report::plan_json(&result),
        })
    })
    .await??;
    Ok(text_response(content_type, body))
}

pub(crate) async fn api_train(
    State(state): State<AppState>,
    Query(query): Query<FormatQuery>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let input = parse_input(&headers, body)?;
    input.refuse_range_options("/api/train")?;
    let html = match query.format.as_deref() {
        None | Some("json") => false,
        Some("html") => true,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "unknown format `{other}`\n  fix: use format=json or html"
            )))
        }
    };
    let origin = input.origin.unwrap_or_else(|| "spec.toml".into());
    blocking(&state, move |inner| {
        let result = train_input(inner, &origin, &input.input)?;
        Ok(if html {
            Html(pages::train_fragment(&result)).into_response()
        } else {
            axum::Json(result).into_response()
        })
    })
    .await?
}

/// The body of `/api/train/search`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SearchBody {
    pub(crate) model: String,
    pub(crate) system: String,
    pub(crate) gpus: i64,
    pub(crate) global_batch: i64,
    pub(crate) seq_len: i64,
    #[serde(default = "default_precision")]
    pub(crate) precision: String,
    #[serde(default = "default_top")]
    pub(crate) top: usize,
}

pub(crate) fn default_precision() -> String {
    "bf16".into()
}
pub(crate) fn default_top() -> usize {
    5
}

pub(crate) async fn api_train_search(
    State(state): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let body = body?;
    let search: SearchBody = serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad_request(format!(
            "the request body is not a valid search: {e}\n  fix: send {{\"model\", \"system\", \"gpus\", \"global_batch\", \"seq_len\", \"precision\", \"top\"}}"
        ))
    })?;
    for (field, value, max) in [
        ("gpus", search.gpus, MAX_SEARCH_GPUS),
        ("global_batch", search.global_batch, 10_000_000),
        ("seq_len", search.seq_len, 10_000_000),
    ] {
        if !(1..=max).contains(&value) {
            return Err(ApiError::bad_request(format!(
                "`{field}` is {value}\n  fix: a whole number from 1 to {max} (larger searches: use `gigawatt train search`)"
            )));
        }
    }
    if search.top == 0 || search.top > MAX_SEARCH_TOP {
        return Err(ApiError::bad_request(format!(
            "`top` is {}\n  fix: ask for 1 to {MAX_SEARCH_TOP} layouts",
            search.top
        )));
    }
    let (precision, recipe) = engine::train::parse_training_precision(&search.precision)
        .ok_or_else(|| {
            ApiError::bad_request(format!(
                "`precision` `{}` is unknown\n  fix: use {}",
                search.precision,
                engine::train::TRAINING_PRECISION_NAMES
            ))
        })?;
    let slot = models::heavy_slot(&state)?;
    blocking(&state, move |inner| {
        let _slot = slot;
        let workload = perf::Workload {
            global_batch: search.global_batch as f64,
            seq_len: search.seq_len as f64,
            precision,
            components: recipe.map(perf::ComponentRecipes::uniform),
            moe: perf::MoeRouting::default(),
        };
        let inputs = engine::train::resolve_train_inputs(
            &inner.catalog,
            &search.model,
            &search.system,
            search.gpus as u64,
            workload,
        )
        .map_err(|m| {
            ApiError::bad_request(format!("{m}\n  fix: GET /api/catalog lists the ids"))
        })?;
        if let Some(r) = recipe.filter(|r| !r.supported_on(&inputs.hardware)) {
            return Err(ApiError::bad_request(format!(
                "`precision`: `{}` has no {} matmuls\n  fix: choose a recipe the chip runs (bf16, fp8-delayed or fp8-current on Hopper; mxfp8 and nvfp4 need Blackwell)",
                search.system,
                r.name()
            )));
        }
        let options = perf::SearchOptions {
            gpus: search.gpus as u32,
            top: search.top,
            max_microbatch: 16,
        };
        // The default framework's legal layouts, as `gigawatt train search` returns.
        let found = engine::train::search_layouts(&inputs, &options);
        let top: Vec<_> = found
            .top
            .iter()
            .map(|r| {
                engine::train::train_result(&inner.catalog, &inputs, r.strategy, String::new())
            })
            .collect();
        Ok(axum::Json(json!({
            "model": search.model,
            "system": search.system,
            "gpus": search.gpus,
            "workload": workload,
            "evaluated": found.evaluated,
            "feasible": found.feasible,
            "top": top,
        }))
        .into_response())
    })
    .await?
}
