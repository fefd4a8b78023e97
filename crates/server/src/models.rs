//! The API of the serving, reliability and deal-risk models: `/api/infer`,
//! `/api/infer/search`, `/api/reliability` and `/api/risk`. Each checks its input with the
//! CLI's messages, refuses requests too heavy for a shared server (400 for sizes, 429 when the
//! heavy slots are taken), and runs the model on the blocking pool like the plan and training
//! endpoints.

use std::convert::Infallible;
use std::sync::atomic::AtomicBool;
use std::sync::OnceLock;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use catalog::Catalog;
use reliability::request::{self as job_request, JobArgs, JobError, Report, SystemLookup};
use reliability::{Budget, ReliabilityData, SimError};
use serde::Deserialize;
use serde_json::json;
use tokio::sync::OwnedSemaphorePermit;

use crate::{
    blocking, blocking_cancellable, pages, parse_input, text_response, ApiError, ApiResult,
    AppState, FormatQuery, Inner, MAX_SEARCH_TOP, SEARCH_SLOTS,
};

/// Most accelerators one reliability simulation may have on the server.
pub const MAX_RELIABILITY_GPUS: u64 = 10_000_000;
/// Most runs one reliability simulation may have on the server.
pub const MAX_RELIABILITY_RUNS: u32 = 100;
/// Longest window (days) one reliability simulation may cover on the server.
pub const MAX_RELIABILITY_DAYS: f64 = 3650.0;
/// Most queue events one reliability request may be expected to need, all runs and the
/// interval search together (`reliability::request::expected_work`, an estimate on the high
/// side: the work actually done is about a third of it). This is what bounds a request: at
/// this size it takes a few seconds on 2 cores in a debug build, well within
/// [`crate::MODEL_TIMEOUT`]; the simulation itself stops at twice it. The CLI allows
/// `reliability::request::MAX_EVENTS`.
pub const MAX_RELIABILITY_EVENTS: f64 = 30_000_000.0;
/// Most samples one risk request may draw on the server.
pub const MAX_RISK_SAMPLES: u64 = 200_000;
/// Samples a risk request draws when it does not say.
pub const DEFAULT_RISK_SAMPLES: u64 = 2000;

/// One of the [`SEARCH_SLOTS`] slots for heavy work (searches, simulations, Monte Carlo), or
/// 429 if they are all taken.
pub(crate) fn heavy_slot(state: &AppState) -> ApiResult<OwnedSemaphorePermit> {
    state
        .inner
        .search_slots
        .clone()
        .try_acquire_owned()
        .map_err(|_| {
            ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                format!(
                    "{SEARCH_SLOTS} searches or simulations are already running\n  fix: try again when one finishes"
                ),
            )
        })
}

/// `format=json` (default) or `format=html` (a fragment for the dashboard).
/// A serving request's `precision` field, with the message the search and fleet endpoints share.
pub(crate) fn weight_precision(text: &str) -> ApiResult<perf::Precision> {
    engine::train::parse_precision(text).ok_or_else(|| {
        ApiError::bad_request(format!(
            "`precision` `{text}` is unknown\n  fix: bf16, fp8 or fp4"
        ))
    })
}

/// A serving request's `kv_precision` field as bytes per KV element, likewise shared.
pub(crate) fn kv_bytes(text: &str) -> ApiResult<f64> {
    engine::infer::parse_kv_precision(text).ok_or_else(|| {
        ApiError::bad_request(format!(
            "`kv_precision` `{text}` is unknown\n  fix: bf16 or fp8"
        ))
    })
}

fn json_or_html(query: &FormatQuery) -> ApiResult<bool> {
    match query.format.as_deref() {
        None | Some("json") => Ok(false),
        Some("html") => Ok(true),
        Some(other) => Err(ApiError::bad_request(format!(
            "unknown format `{other}`\n  fix: use format=json or html"
        ))),
    }
}

fn json_response(value: &impl serde::Serialize) -> ApiResult<Response> {
    let mut text = serde_json::to_string_pretty(value)
        .map_err(|e| ApiError::internal(format!("result: {e}")))?;
    text.push('\n');
    Ok(text_response("application/json", text))
}

// ---------------------------------------------------------------------------------------------
// Serving

pub(crate) async fn api_infer(
    State(state): State<AppState>,
    Query(query): Query<FormatQuery>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let input = parse_input(&headers, body)?;
    input.refuse_range_options("/api/infer")?;
    let html = json_or_html(&query)?;
    let origin = input.origin.unwrap_or_else(|| "spec.toml".into());
    blocking(&state, move |inner| {
        let result = engine::infer::infer_text(&inner.catalog, &origin, &input.input)
            .map_err(ApiError::from_engine)?;
        if html {
            Ok(Html(pages::infer_fragment(std::slice::from_ref(&result), None)).into_response())
        } else {
            json_response(&result)
        }
    })
    .await?
}

/// The body of `/api/infer/search`: the flags of `gigawatt infer search`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct InferSearchBody {
    model: String,
    system: String,
    input_tokens: f64,
    output_tokens: f64,
    #[serde(default)]
    ttft_slo_s: Option<f64>,
    #[serde(default)]
    tpot_slo_s: Option<f64>,
    #[serde(default = "default_mode")]
    mode: String,
    #[serde(default)]
    disaggregated: bool,
    #[serde(default)]
    max_batch: Option<f64>,
    #[serde(default)]
    slo_percentile: Option<f64>,
    #[serde(default)]
    draft_tokens: Option<f64>,
    #[serde(default)]
    acceptance_rate: Option<f64>,
    #[serde(default)]
    draft_cost_fraction: Option<f64>,
    #[serde(default = "crate::default_precision")]
    precision: String,
    #[serde(default = "crate::default_precision")]
    kv_precision: String,
    #[serde(default = "crate::default_top")]
    top: usize,
}

fn default_mode() -> String {
    "server".into()
}

impl InferSearchBody {
    /// The traffic, checked as `gigawatt infer search` checks its flags (same messages).
    fn workload(&self) -> ApiResult<perf::ServingWorkload> {
        engine::infer::checked_workload(&engine::infer::TrafficRequest {
            names: engine::infer::FieldNames::Json,
            input_tokens: self.input_tokens,
            output_tokens: self.output_tokens,
            ttft_slo_s: self.ttft_slo_s,
            tpot_slo_s: self.tpot_slo_s,
            mode: &self.mode,
            disaggregated: self.disaggregated,
            max_batch: self.max_batch,
            slo_percentile: self.slo_percentile,
            draft_tokens: self.draft_tokens,
            acceptance_rate: self.acceptance_rate,
            draft_cost_fraction: self.draft_cost_fraction,
        })
        .map_err(ApiError::bad_request)
    }
}

pub(crate) async fn api_infer_search(
    State(state): State<AppState>,
    Query(query): Query<FormatQuery>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let body = body?;
    let html = json_or_html(&query)?;
    let search: InferSearchBody = serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad_request(format!(
            "the request body is not a valid serving search: {e}\n  fix: send {{\"model\", \"system\", \"input_tokens\", \"output_tokens\"}} and optionally \"ttft_slo_s\", \"tpot_slo_s\", \"mode\", \"disaggregated\", \"max_batch\", \"slo_percentile\", \"draft_tokens\", \"acceptance_rate\", \"draft_cost_fraction\", \"precision\", \"kv_precision\", \"top\""
        ))
    })?;
    let workload = search.workload()?;
    if search.top == 0 || search.top > MAX_SEARCH_TOP {
        return Err(ApiError::bad_request(format!(
            "`top` is {}\n  fix: ask for 1 to {MAX_SEARCH_TOP} layouts (more: `gigawatt infer search --top N`)",
            search.top
        )));
    }
    let precision = weight_precision(&search.precision)?;
    let slot = heavy_slot(&state)?;
    blocking(&state, move |inner| {
        let _slot = slot;
        let inputs =
            engine::infer::resolve_serve_inputs(&inner.catalog, &search.model, &search.system)
                .map_err(|m| {
                    ApiError::bad_request(format!("{m}\n  fix: {}", engine::train::lookup_fix(&m)))
                })?;
        let kv_bytes = kv_bytes(&search.kv_precision)?;
        // As the CLI: a precision the chip has no units for is the request's fault.
        engine::infer::check_precision(&inputs, precision).map_err(ApiError::bad_request)?;
        let (found, evaluated) = engine::infer::infer_search(
            &inner.catalog,
            &inputs,
            precision,
            kv_bytes,
            workload,
            search.top,
        );
        if found.is_empty() {
            return Err(ApiError::bad_request(engine::infer::no_layout_message(
                &inner.catalog,
                &inputs,
                precision,
                kv_bytes,
                workload,
                evaluated,
            )));
        }
        if html {
            Ok(Html(pages::infer_fragment(&found, Some(evaluated))).into_response())
        } else {
            json_response(&json!({ "evaluated": evaluated, "top": found }))
        }
    })
    .await?
}

// ---------------------------------------------------------------------------------------------
// Reliability

/// The embedded reliability data, parsed once.
fn reliability_data() -> ApiResult<&'static ReliabilityData> {
    static DATA: OnceLock<Result<ReliabilityData, String>> = OnceLock::new();
    DATA.get_or_init(|| ReliabilityData::embedded().map_err(|e| e.to_string()))
        .as_ref()
        .map_err(|e| ApiError::internal(format!("the embedded reliability data is broken: {e}")))
}

/// What the catalog says about a system, for [`reliability::job_spec`].
fn lookup_system(catalog: &Catalog, id: &str) -> Result<SystemLookup, Infallible> {
    Ok(match catalog.systems.get(id) {
        None => SystemLookup::Unknown {
            nearest: catalog.nearest_system(id).map(str::to_string),
        },
        Some(system) => SystemLookup::Found {
            accelerators_per_system: system.accelerators_per_system.number().ok_or_else(|| {
                system
                    .accelerators_per_system
                    .missing_reason()
                    .unwrap_or("unknown")
                    .to_string()
            }),
            scale_up_domain: system.scale_up_domain.number(),
        },
    })
}

/// The job of a reliability question, checked as the CLI checks it, then against the server's
/// size limits.
fn reliability_job(
    catalog: &Catalog,
    data: &ReliabilityData,
    args: &JobArgs,
) -> ApiResult<reliability::JobSpec> {
    let spec =
        reliability::job_spec(args, |id| lookup_system(catalog, id)).map_err(|e| match e {
            JobError::Input(message) => ApiError::bad_request(message),
            JobError::Lookup(never) => match never {},
        })?;
    if spec.accelerators > MAX_RELIABILITY_GPUS {
        return Err(ApiError::bad_request(format!(
            "`gpus` is {}; the server simulates at most {} accelerators\n  fix: run larger jobs with `gigawatt reliability --gpus N`",
            spec.accelerators,
            units::fmt_count(MAX_RELIABILITY_GPUS as f64)
        )));
    }
    if spec.runs > MAX_RELIABILITY_RUNS {
        return Err(ApiError::bad_request(format!(
            "`runs` is {}; the server simulates at most {MAX_RELIABILITY_RUNS} runs\n  fix: ask for fewer runs, or use `gigawatt reliability --runs N`",
            spec.runs
        )));
    }
    let window_days = spec.stop.max_wall_hours() / 24.0;
    if window_days > MAX_RELIABILITY_DAYS {
        return Err(ApiError::bad_request(format!(
            "the simulated window is {window_days} days; the server simulates at most {MAX_RELIABILITY_DAYS} days\n  fix: a shorter `days` (with `work_hours` and no `days`, the window is 50 x work_hours), or use `gigawatt reliability`"
        )));
    }
    // The work, against the server's limit (the CLI's is larger).
    let (cfg, _) = data.config(&spec);
    cfg.validate()
        .map_err(|e| ApiError::bad_request(format!("invalid reliability inputs: {e}")))?;
    let events = job_request::expected_work(&cfg, args.no_search);
    if !events.is_finite() || events > MAX_RELIABILITY_EVENTS {
        let cli = units::fmt_count(job_request::MAX_EVENTS);
        let elsewhere = if events <= job_request::MAX_EVENTS {
            format!("; or run it with `gigawatt reliability`, which allows {cli} events")
        } else {
            format!(" (`gigawatt reliability` allows {cli} events, also too few for this)")
        };
        return Err(ApiError::bad_request(format!(
            "this question needs {}; the server simulates at most {} events per request\n  fix: fewer `runs`, `\"no_search\": true`, a shorter `days` or `work_hours`, or fewer `gpus`{elsewhere}",
            job_request::describe_work(&cfg, args.no_search),
            units::fmt_count(MAX_RELIABILITY_EVENTS),
        )));
    }
    Ok(spec)
}

/// Simulates a checked job within the server's event budget, stopping early once `cancel` is
/// set: the report `gigawatt reliability --format json` prints.
fn simulate_job(
    data: &ReliabilityData,
    args: &JobArgs,
    spec: &reliability::JobSpec,
    cancel: &AtomicBool,
) -> ApiResult<Report> {
    let (cfg, assumptions) = data.config(spec);
    let estimate = job_request::expected_work(&cfg, args.no_search);
    let stopped = |e: SimError| {
        match e {
        SimError::Config(e) => ApiError::bad_request(format!("invalid reliability inputs: {e}")),
        SimError::OverBudget { .. } => {
            ApiError::bad_request(job_request::stopped_message(&e, estimate))
        }
        SimError::Cancelled => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "the simulation was cancelled\n  fix: make it smaller, or run it with `gigawatt reliability`",
        ),
    }
    };
    let budget = Budget::new(job_request::event_budget(MAX_RELIABILITY_EVENTS)).with_cancel(cancel);
    let summary = reliability::simulate_within(&cfg, &budget, &|| {}).map_err(stopped)?;
    let search = if args.no_search {
        None
    } else {
        reliability::search_interval_within(
            &cfg,
            job_request::search_runs(cfg.runs),
            &budget,
            &|| {},
        )
        .map_err(stopped)?
    };
    Ok(Report::new(
        args,
        spec,
        &cfg,
        data,
        summary,
        search,
        assumptions,
    ))
}

pub(crate) async fn api_reliability(
    State(state): State<AppState>,
    Query(query): Query<FormatQuery>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let body = body?;
    let html = json_or_html(&query)?;
    let args: JobArgs = serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad_request(format!(
            "the request body is not a valid reliability question: {e}\n  fix: send {{\"gpus\": 16384, \"days\": 54}} and optionally the other flags of `gigawatt reliability` (checkpoint_interval_min, checkpoint_write_s, async_checkpoint, restart_min, spares, node_failures_per_1000_days, runs, seed, ...)"
        ))
    })?;
    let data = reliability_data()?;
    let spec = reliability_job(&state.inner.catalog, data, &args)?;
    let slot = heavy_slot(&state)?;
    // Cancellable: on a timeout the simulation stops within microseconds and frees its slot.
    blocking_cancellable(&state, move |_inner, cancel| {
        let _slot = slot;
        let report = simulate_job(data, &args, &spec, cancel)?;
        if html {
            Ok(Html(pages::reliability_fragment(&report)).into_response())
        } else {
            json_response(&report)
        }
    })
    .await?
}

// ---------------------------------------------------------------------------------------------
// Deal risk

/// The body of `/api/risk`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RiskBody {
    /// The portfolio TOML; default: the shipped one. `input` is the same field, by the name
    /// the other endpoints give their TOML.
    #[serde(default, alias = "input")]
    portfolio_text: Option<String>,
    /// The name messages give the portfolio (default `portfolio.toml`).
    #[serde(default)]
    origin: Option<String>,
    #[serde(default)]
    samples: Option<i64>,
    #[serde(default)]
    seed: Option<i64>,
    #[serde(default)]
    at_least_gw: Option<f64>,
    #[serde(default)]
    by: Option<String>,
}

fn render_risk(e: risk::RiskError) -> ApiError {
    let risk::RiskError::Invalid(diagnostics) = e;
    ApiError::from_engine(engine::EngineError::Invalid(diagnostics))
}

/// The shipped scenario a portfolio names (as `gigawatt risk` finds it, without files).
fn risk_plan(
    inner: &Inner,
    file: &risk::file::PortfolioFile,
    origin: &str,
    text: &str,
) -> ApiResult<(String, String)> {
    let (wanted, _) = risk::scenario_ref(file);
    let name = wanted.strip_suffix(".toml").unwrap_or(wanted);
    let name = name.rsplit('/').next().unwrap_or(name);
    if let Some(s) = inner.scenarios.iter().find(|s| s.name == name) {
        return Ok((
            format!("<shipped>/scenarios/{}.toml", s.name),
            s.text.clone(),
        ));
    }
    let hint = match catalog::nearest(wanted, inner.scenarios.iter().map(|s| s.name.as_str())) {
        Some(near) => format!("did you mean the shipped scenario `{near}`?"),
        None => {
            "give a shipped scenario name (`gigawatt scenarios`); the server reads no files".into()
        }
    };
    Err(render_risk(risk::scenario_error(
        file,
        origin,
        text,
        format!("no scenario file or shipped scenario named `{wanted}`"),
        hint,
    )))
}

/// Parses, resolves and samples a portfolio, in the CLI's order (so the first error is the
/// CLI's).
fn risk_result(inner: &Inner, body: RiskBody) -> ApiResult<risk::RiskResult> {
    let (origin, text) = match body.portfolio_text {
        Some(text) => (body.origin.unwrap_or_else(|| "portfolio.toml".into()), text),
        None => match &inner.risk_portfolio {
            Some(p) => (format!("<shipped>/scenarios/{}.toml", p.name), p.text.clone()),
            None => {
                return Err(ApiError::bad_request(
                    "this server has no shipped risk portfolio\n  fix: send the portfolio TOML as `portfolio_text` (or `input`)",
                ))
            }
        },
    };
    let file = risk::parse(&origin, &text).map_err(render_risk)?;
    let (scenario_origin, scenario_text) = risk_plan(inner, &file, &origin, &text)?;
    let portfolio = risk::build(
        &inner.catalog,
        &file,
        &origin,
        &text,
        &scenario_origin,
        &scenario_text,
    )
    .map_err(render_risk)?;
    if let Some(n) = body.samples {
        if n as u64 > MAX_RISK_SAMPLES && n as u64 <= risk::MAX_SAMPLES {
            return Err(ApiError::bad_request(format!(
                "`samples` is {n}; the server draws at most {} samples\n  fix: ask for fewer (10,000 gives percentiles to about 1%), or use `gigawatt risk --samples {n}`",
                units::fmt_count(MAX_RISK_SAMPLES as f64)
            )));
        }
    }
    let options = risk::checked_options(
        &portfolio,
        body.samples,
        DEFAULT_RISK_SAMPLES,
        body.seed,
        body.at_least_gw,
        body.by.as_deref(),
    )
    .map_err(|d| ApiError::bad_request(d.to_string()))?;
    // `elapsed_s` stays 0: the server reads the clock only to date saved runs.
    let mut result = risk::run(&portfolio, &options, &|_, _| {}).map_err(render_risk)?;
    // Capability: per-system tables built once, read at each sample's fleet (as `plan` reads
    // them at the planned fleet).
    let tables = risk::build_tables(&inner.catalog, &portfolio);
    result.capability = risk::capability(&portfolio, &options, &tables);
    Ok(result)
}

pub(crate) async fn api_risk(
    State(state): State<AppState>,
    Query(query): Query<FormatQuery>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let body = body?;
    let format = query.format.unwrap_or_else(|| "json".into());
    let content_type = match format.as_str() {
        "json" => "application/json",
        "html" => "text/html; charset=utf-8",
        "csv" => "text/csv; charset=utf-8",
        other => {
            return Err(ApiError::bad_request(format!(
                "unknown format `{other}`\n  fix: use format=json, html or csv"
            )))
        }
    };
    let request: RiskBody = if body.iter().all(u8::is_ascii_whitespace) {
        RiskBody::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| {
            ApiError::bad_request(format!(
                "the request body is not a valid risk question: {e}\n  fix: send {{\"portfolio_text\": \"<TOML>\", \"samples\": 2000, \"seed\": 1}} (every field optional; \"at_least_gw\" and \"by\" together)"
            ))
        })?
    };
    let slot = heavy_slot(&state)?;
    let text = blocking(&state, move |inner| {
        let _slot = slot;
        let result = risk_result(inner, request)?;
        Ok::<_, ApiError>(match format.as_str() {
            "html" => report::risk::risk_html(&result),
            "csv" => report::risk::risk_csv(&result),
            _ => report::risk::risk_json(&result),
        })
    })
    .await??;
    Ok(text_response(content_type, text))
}
