//! `gigawatt serve`: the web dashboard and JSON API, with saved runs in an embedded SQLite
//! store.
//!
//! Everything is in the binary: pages are server-rendered strings, charts are SVG drawn by
//! `report` (plans) or here (training breakdowns, run comparisons), and the only script is a
//! small inline one that calls the JSON API. No request names a file: run ids are integers,
//! and the only file the server opens is the database under `--data`.
//!
//! Model work runs on the blocking pool (`spawn_blocking`) behind a semaphore and a timeout, so
//! one slow request never stops the others.

mod catalog_page;
pub mod csp;
pub mod diff;
mod fleet_page;
pub mod guard;
pub mod listen;
mod models;
mod openapi;
mod page_style;
mod pages;
mod plan_form;
mod runs_page;
pub mod store;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path as UrlPath, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use catalog::Catalog;
use engine::EngineError;
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::sync::Semaphore;

pub use guard::ServerConfig;
pub use store::{NewRun, RunKind, RunSummary, Store, StoreError};

/// Largest request body accepted; larger ones get 413.
pub const BODY_LIMIT_BYTES: usize = 4 * 1024 * 1024;
/// Longest a request waits for model work before the server answers 503 (the default of
/// [`AppState::set_model_timeout`]).
pub const MODEL_TIMEOUT: Duration = Duration::from_secs(30);
/// After a timeout, how long the server waits for cancellable work (reliability simulations)
/// to stop, so that the heavy slot it holds is free again when the 503 is sent.
pub const CANCEL_GRACE: Duration = Duration::from_secs(5);
/// Most accelerators a layout search may ask for.
pub const MAX_SEARCH_GPUS: i64 = 1_048_576;
/// Most layouts a search may return.
pub const MAX_SEARCH_TOP: usize = 50;
/// Heavy requests (layout searches, reliability simulations, risk Monte Carlo) allowed at
/// once; more are refused with 429.
pub const SEARCH_SLOTS: usize = 2;
/// Most tranches a plan may have (the result has a row per tranche per month).
pub const MAX_PLAN_TRANCHES: usize = 200;
/// Most runs one list returns.
pub const MAX_LIST: u32 = 1000;
/// The database file under `--data`.
pub const DATABASE_FILE: &str = "runs.sqlite3";

/// A scenario shipped in the binary.
#[derive(Debug, Clone)]
pub struct ShippedScenario {
    /// Its name (`openai-nvidia-10gw`).
    pub name: String,
    /// The TOML text.
    pub text: String,
}

/// What every handler shares: the catalog, the shipped scenarios and the store.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    catalog: Catalog,
    scenarios: Vec<ShippedScenario>,
    /// The deal-risk portfolio `/api/risk` runs when the request sends none.
    risk_portfolio: Option<ShippedScenario>,
    store: Mutex<Store>,
    model_slots: Arc<Semaphore>,
    search_slots: Arc<Semaphore>,
    /// [`MODEL_TIMEOUT`] unless set otherwise, in milliseconds.
    model_timeout_ms: AtomicU64,
    /// Hosts, token, timeouts and store limits.
    config: ServerConfig,
}

impl Inner {
    fn model_timeout(&self) -> Duration {
        Duration::from_millis(self.model_timeout_ms.load(Ordering::Relaxed))
    }

    fn store(&self) -> MutexGuard<'_, Store> {
        // A panic while holding the lock cannot leave a half-written transaction behind
        // (SQLite rolls it back), so a poisoned lock is safe to keep using.
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl AppState {
    /// State over a catalog, the shipped scenarios (the first is the default) and a store,
    /// without a shipped risk portfolio.
    pub fn new(catalog: Catalog, scenarios: Vec<ShippedScenario>, store: Store) -> AppState {
        AppState::with_risk_portfolio(catalog, scenarios, None, store)
    }

    /// [`AppState::new`] with the deal-risk portfolio the Risk page and `/api/risk` start from
    /// (its `scenario` must name one of `scenarios`).
    pub fn with_risk_portfolio(
        catalog: Catalog,
        scenarios: Vec<ShippedScenario>,
        risk_portfolio: Option<ShippedScenario>,
        store: Store,
    ) -> AppState {
        let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
        AppState {
            inner: Arc::new(Inner {
                catalog,
                scenarios,
                risk_portfolio,
                store: Mutex::new(store),
                model_slots: Arc::new(Semaphore::new(workers * 2)),
                search_slots: Arc::new(Semaphore::new(SEARCH_SLOTS)),
                model_timeout_ms: AtomicU64::new(MODEL_TIMEOUT.as_millis() as u64),
                config: ServerConfig::default(),
            }),
        }
    }

    /// The same state with `config` (hosts, token, timeouts, store limits). Call it before the
    /// state is cloned: a state already shared keeps the configuration it has.
    pub fn with_config(mut self, config: ServerConfig) -> AppState {
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            inner.config = config;
        }
        self
    }

    /// The configuration in force.
    pub fn config(&self) -> &ServerConfig {
        &self.inner.config
    }

    /// How long a request waits for model work before the server answers 503 (default
    /// [`MODEL_TIMEOUT`]; tests shorten it).
    pub fn set_model_timeout(&self, timeout: Duration) {
        let ms = u64::try_from(timeout.as_millis())
            .unwrap_or(u64::MAX)
            .max(1);
        self.inner.model_timeout_ms.store(ms, Ordering::Relaxed);
    }
}

/// Why the server could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The data folder or the address.
    #[error("{0}")]
    Io(String),
    /// The database.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The application: pages, the JSON API, `/healthz`.
pub fn router(state: AppState) -> Router {
    use axum::routing::post;
    let api = Router::new()
        .route("/api/openapi.json", get(openapi_json))
        .route("/api/scenarios", get(api_scenarios))
        .route("/api/catalog", get(api_catalog))
        .route("/api/plan", post(api_plan))
        .route("/api/train", post(api_train))
        .route("/api/train/search", post(api_train_search))
        .route("/api/infer", post(models::api_infer))
        .route("/api/infer/search", post(models::api_infer_search))
        .route("/api/infer/fleet", post(fleet_page::api_infer_fleet))
        .route("/api/reliability", post(models::api_reliability))
        .route("/api/risk", post(models::api_risk))
        .route("/api/runs", get(api_list_runs).post(api_save_run))
        .route("/api/runs/compare", get(api_compare_runs))
        .route("/api/runs/{id}", get(api_get_run).delete(api_delete_run))
        .route("/api/runs/{id}/verify", get(api_verify_run))
        .route("/healthz", get(healthz));
    let pages = Router::new()
        .route("/", get(|| async { Redirect::to("/plan") }))
        .route("/plan", get(pages::plan_page))
        .route("/train", get(pages::train_page))
        .route("/catalog", get(catalog_page::catalog_page))
        .route("/runs", get(runs_page::runs_page))
        .route("/runs/compare", get(pages::compare_page))
        .route("/runs/{id}", get(pages::run_page))
        .route("/infer", get(pages::infer_page))
        .route("/fleet", get(fleet_page::fleet_page))
        .route("/reliability", get(pages::reliability_page))
        .route("/risk", get(pages::risk_page));
    api.merge(pages)
        .fallback(fallback)
        .layer(DefaultBodyLimit::max(BODY_LIMIT_BYTES))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            guard::guard,
        ))
        .with_state(state)
}

/// Opens the store under `data_dir`, binds `addr`, calls `on_listening` with the bound
/// address, and serves until Ctrl-C or SIGTERM, with `config`'s hosts, token, timeouts and
/// limits (its `bound` is replaced by the address actually bound). Off loopback a token is
/// required: without one, this refuses to start.
pub async fn serve(
    addr: SocketAddr,
    data_dir: &Path,
    catalog: Catalog,
    scenarios: Vec<ShippedScenario>,
    risk_portfolio: Option<ShippedScenario>,
    mut config: ServerConfig,
    on_listening: impl FnOnce(SocketAddr),
) -> Result<(), ServeError> {
    if !addr.ip().is_loopback() && config.token.is_none() {
        return Err(ServeError::Io(format!(
            "serving on {} (beyond this machine) needs an access token\n  fix: give --token or GIGAWATT_TOKEN, or let `gigawatt serve` generate one",
            addr.ip()
        )));
    }
    let store = open_store(data_dir)?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| ServeError::Io(format!("failed to listen on {addr}: {e}")))?;
    let bound = listener
        .local_addr()
        .map_err(|e| ServeError::Io(format!("failed to read the bound address: {e}")))?;
    config.bound = bound;
    let header_timeout = config.header_timeout;
    let max_connections = config.max_connections;
    let app = router(
        AppState::with_risk_portfolio(catalog, scenarios, risk_portfolio, store)
            .with_config(config),
    );
    on_listening(bound);
    listen::serve_connections(
        listener,
        app,
        header_timeout,
        max_connections,
        shutdown_signal(),
    )
    .await;
    Ok(())
}

/// [`serve`] on a new multi-threaded runtime, for callers without one.
pub fn serve_blocking(
    addr: SocketAddr,
    data_dir: &Path,
    catalog: Catalog,
    scenarios: Vec<ShippedScenario>,
    risk_portfolio: Option<ShippedScenario>,
    config: ServerConfig,
    on_listening: impl FnOnce(SocketAddr),
) -> Result<(), ServeError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| ServeError::Io(format!("failed to start the runtime: {e}")))?;
    runtime.block_on(serve(
        addr,
        data_dir,
        catalog,
        scenarios,
        risk_portfolio,
        config,
        on_listening,
    ))
}

/// Creates `data_dir` if needed and opens its database.
pub fn open_store(data_dir: &Path) -> Result<Store, ServeError> {
    std::fs::create_dir_all(data_dir).map_err(|e| {
        ServeError::Io(format!(
            "failed to create the data folder {}: {e}\n  fix: give a writable folder with --data DIR",
            data_dir.display()
        ))
    })?;
    let path: PathBuf = data_dir.join(DATABASE_FILE);
    Ok(Store::open(&path)?)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

/// The milliseconds since the Unix epoch: the one place the server reads the clock.
fn now_unix_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

// ---------------------------------------------------------------------------------------------
// Errors

/// An API error: a status and a message (for input errors, the CLI's message), as JSON.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: String,
    diagnostics: Vec<Value>,
}

impl ApiError {
    fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
            diagnostics: Vec::new(),
        }
    }

    fn body_too_large() -> ApiError {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "the request body is larger than {} MiB\n  fix: send a smaller scenario or spec",
                BODY_LIMIT_BYTES / (1024 * 1024)
            ),
        )
    }

    fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }

    fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, message)
    }

    fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, message)
    }

    fn from_engine(error: EngineError) -> ApiError {
        let EngineError::Invalid(diagnostics) = error;
        ApiError {
            status: StatusCode::BAD_REQUEST,
            message: diagnostics.to_string(),
            diagnostics: diagnostics
                .0
                .iter()
                .map(|d| {
                    json!({
                        "file": d.file, "line": d.line, "column": d.column,
                        "field": d.field, "message": d.message, "hint": d.hint,
                    })
                })
                .collect(),
        }
    }

    /// The status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        ApiError::internal(e.to_string())
    }
}

impl From<BytesRejection> for ApiError {
    fn from(rejection: BytesRejection) -> ApiError {
        let status = rejection.status();
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            return ApiError::body_too_large();
        }
        ApiError::new(status, rejection.body_text())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = json!({ "error": self.message });
        if !self.diagnostics.is_empty() {
            body["diagnostics"] = Value::Array(self.diagnostics);
        }
        (self.status, axum::Json(body)).into_response()
    }
}

type ApiResult<T> = Result<T, ApiError>;

/// Runs `work` on the blocking pool, waiting for a model slot, for at most the model timeout
/// ([`MODEL_TIMEOUT`]). Work that cannot be cancelled runs on after a timeout; see
/// [`blocking_cancellable`].
async fn blocking<T: Send + 'static>(
    state: &AppState,
    work: impl FnOnce(&Inner) -> T + Send + 'static,
) -> ApiResult<T> {
    run_blocking(state, None, move |inner, _| work(inner)).await
}

/// [`blocking`] for work that watches a cancellation flag: the flag is set when the request
/// times out (or is dropped, e.g. the client went away), and the answer waits up to
/// [`CANCEL_GRACE`] for the work to stop, so the slots it holds are free again when the 503 is
/// sent.
async fn blocking_cancellable<T: Send + 'static>(
    state: &AppState,
    work: impl FnOnce(&Inner, &AtomicBool) -> T + Send + 'static,
) -> ApiResult<T> {
    run_blocking(state, Some(CANCEL_GRACE), work).await
}

/// Sets the flag when dropped: a handler future dropped mid-request cancels its work.
struct CancelOnDrop(Arc<AtomicBool>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

async fn run_blocking<T: Send + 'static>(
    state: &AppState,
    grace: Option<Duration>,
    work: impl FnOnce(&Inner, &AtomicBool) -> T + Send + 'static,
) -> ApiResult<T> {
    let inner = state.inner.clone();
    let timeout = inner.model_timeout();
    let deadline = tokio::time::Instant::now() + timeout;
    let cancel = Arc::new(AtomicBool::new(false));
    let _cancel_on_drop = CancelOnDrop(cancel.clone());
    let timed_out = || {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "the request took longer than {} s and was abandoned\n  fix: make it smaller (fewer tranches, a shorter horizon, fewer accelerators), or run it with the CLI",
                timeout.as_secs_f64()
            ),
        )
    };
    let slot = inner.model_slots.clone().acquire_owned();
    let permit = match tokio::time::timeout_at(deadline, slot).await {
        Ok(Ok(permit)) => permit,
        Ok(Err(_)) => return Err(ApiError::internal("the server is shutting down")),
        Err(_) => return Err(timed_out()),
    };
    let flag = cancel.clone();
    let mut task = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        work(&inner, &flag)
    });
    match tokio::time::timeout_at(deadline, &mut task).await {
        Ok(joined) => joined.map_err(|e| ApiError::internal(format!("the model failed: {e}"))),
        Err(_) => {
            cancel.store(true, Ordering::Relaxed);
            if let Some(grace) = grace {
                // The work stops at its next check; its result, if any, is dropped.
                let _ = tokio::time::timeout(grace, task).await;
            }
            Err(timed_out())
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Input bodies

/// The body of `/api/plan`, `/api/train` and `/api/runs`: JSON with the input text, or the
/// TOML text itself.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct InputBody {
    /// The scenario (plan) or spec (train) TOML text.
    #[serde(alias = "scenario", alias = "spec")]
    input: String,
    /// The name diagnostics use for the input (default: `scenario.toml` / `spec.toml`).
    origin: Option<String>,
    /// Plan or train (runs only).
    kind: Option<String>,
    /// A title for a saved run.
    name: Option<String>,
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("json"))
}

fn parse_input(headers: &HeaderMap, body: Result<Bytes, BytesRejection>) -> ApiResult<InputBody> {
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
        })
    }
}

/// Plans `text`; the error is the CLI's message.
fn plan_input(inner: &Inner, origin: &str, text: &str) -> ApiResult<engine::PlanResult> {
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
    engine::plan(&inner.catalog, &scenario, origin, text).map_err(ApiError::from_engine)
}

/// Evaluates a training spec; the error is the CLI's message.
fn train_input(inner: &Inner, origin: &str, text: &str) -> ApiResult<engine::train::TrainResult> {
    engine::train::train_text(&inner.catalog, origin, text).map_err(ApiError::from_engine)
}

pub(crate) fn text_response(content_type: &'static str, body: String) -> Response {
    ([(header::CONTENT_TYPE, content_type)], body).into_response()
}

// ---------------------------------------------------------------------------------------------
// Handlers

async fn healthz(State(state): State<AppState>) -> axum::Json<Value> {
    axum::Json(json!({
        "status": "ok",
        "engine_version": engine::ENGINE_VERSION,
        "catalog_version": state.inner.catalog.version,
    }))
}

async fn openapi_json() -> Response {
    text_response("application/json", openapi::document().to_string())
}

async fn api_scenarios(State(state): State<AppState>) -> axum::Json<Value> {
    let list: Vec<Value> = state
        .inner
        .scenarios
        .iter()
        .map(|s| json!({ "name": s.name, "title": scenario_title(&s.text), "text": s.text }))
        .collect();
    axum::Json(Value::Array(list))
}

/// The `name = "..."` of a scenario's text, for lists.
fn scenario_title(text: &str) -> String {
    toml::from_str::<toml::Table>(text)
        .ok()
        .and_then(|t| t.get("name").and_then(|n| n.as_str()).map(str::to_string))
        .unwrap_or_default()
}

async fn api_catalog(State(state): State<AppState>) -> ApiResult<Response> {
    Ok(text_response(
        "application/json",
        catalog_json(&state.inner.catalog).to_string(),
    ))
}

/// The catalog as JSON: every entry with its numbers' sources.
pub(crate) fn catalog_json(catalog: &Catalog) -> Value {
    json!({
        "version": catalog.version,
        "sources": catalog.sources,
        "accelerators": catalog.accelerators,
        "systems": catalog.systems,
        "deals": catalog.deals,
        "models": catalog.models,
        "facility": catalog.facility,
    })
}

#[derive(Debug, Deserialize)]
struct FormatQuery {
    format: Option<String>,
}

async fn api_plan(
    State(state): State<AppState>,
    Query(query): Query<FormatQuery>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let input = parse_input(&headers, body)?;
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
        let result = plan_input(inner, &origin, &input.input)?;
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

async fn api_train(
    State(state): State<AppState>,
    Query(query): Query<FormatQuery>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let input = parse_input(&headers, body)?;
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
struct SearchBody {
    model: String,
    system: String,
    gpus: i64,
    global_batch: i64,
    seq_len: i64,
    #[serde(default = "default_precision")]
    precision: String,
    #[serde(default = "default_top")]
    top: usize,
}

fn default_precision() -> String {
    "bf16".into()
}
fn default_top() -> usize {
    5
}

async fn api_train_search(
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
    let precision = engine::train::parse_precision(&search.precision).ok_or_else(|| {
        ApiError::bad_request(format!(
            "`precision` `{}` is unknown\n  fix: use bf16, fp8 or fp4",
            search.precision
        ))
    })?;
    let slot = models::heavy_slot(&state)?;
    blocking(&state, move |inner| {
        let _slot = slot;
        let workload = perf::Workload {
            global_batch: search.global_batch as f64,
            seq_len: search.seq_len as f64,
            precision,
            components: None,
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

#[derive(Debug, Deserialize)]
struct ListQuery {
    kind: Option<String>,
    limit: Option<u32>,
}

fn parse_kind(kind: Option<&str>) -> ApiResult<Option<RunKind>> {
    match kind {
        None | Some("") | Some("all") => Ok(None),
        Some(k) => RunKind::parse(k).map(Some).ok_or_else(|| {
            ApiError::bad_request(format!("unknown run kind `{k}`\n  fix: use plan or train"))
        }),
    }
}

async fn api_list_runs(
    State(state): State<AppState>,
    Query(query): Query<ListQuery>,
) -> ApiResult<axum::Json<Vec<RunSummary>>> {
    let kind = parse_kind(query.kind.as_deref())?;
    let limit = query.limit.unwrap_or(100).clamp(1, MAX_LIST);
    let runs = blocking(&state, move |inner| inner.store().list(kind, limit)).await??;
    Ok(axum::Json(runs))
}

/// Computes a run from its input (the result is always the server's own) and stores it.
fn compute_run(
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

async fn api_save_run(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let input = parse_input(&headers, body)?;
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
fn store_has_room(inner: &Inner) -> ApiResult<()> {
    let store = inner.store();
    store_has_room_in(inner, &store)
}

fn store_has_room_in(inner: &Inner, store: &Store) -> ApiResult<()> {
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
fn parse_id(text: &str) -> ApiResult<i64> {
    text.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| no_run(text))
}

fn no_run(id: &str) -> ApiError {
    ApiError::not_found(format!(
        "no run `{id}`\n  fix: GET /api/runs lists the saved runs"
    ))
}

/// A stored run being viewed, holding one of the heavy-work slots while it is in memory if it
/// is large (over [`LARGE_RUN_BYTES`]): views of large runs are bounded like other heavy work.
#[derive(Clone)]
pub(crate) struct LoadedRun {
    run: store::Run,
    _slot: Option<Arc<tokio::sync::OwnedSemaphorePermit>>,
}

impl std::ops::Deref for LoadedRun {
    type Target = store::Run;
    fn deref(&self) -> &store::Run {
        &self.run
    }
}

/// Stored runs larger than this (input plus result) take a heavy-work slot while viewed.
pub const LARGE_RUN_BYTES: i64 = 1024 * 1024;

async fn load_run(state: &AppState, id: &str) -> ApiResult<LoadedRun> {
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

fn run_json(run: &store::Run) -> Value {
    let result: Value = serde_json::from_str(&run.result_json).unwrap_or(Value::Null);
    let mut value = serde_json::to_value(&run.summary).unwrap_or(Value::Null);
    value["input_text"] = Value::String(run.input_text.clone());
    value["result"] = result;
    value
}

async fn api_get_run(
    State(state): State<AppState>,
    UrlPath(id): UrlPath<String>,
) -> ApiResult<axum::Json<Value>> {
    let run = load_run(&state, &id).await?;
    Ok(axum::Json(run_json(&run)))
}

async fn api_delete_run(
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
fn verify(inner: &Inner, run: &store::Run) -> Value {
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

async fn api_verify_run(
    State(state): State<AppState>,
    UrlPath(id): UrlPath<String>,
) -> ApiResult<axum::Json<Value>> {
    let run = load_run(&state, &id).await?;
    Ok(axum::Json(
        blocking(&state, move |inner| verify(inner, &run)).await?,
    ))
}

#[derive(Debug, Deserialize)]
struct CompareQuery {
    a: Option<String>,
    b: Option<String>,
}

/// The key outputs compared between runs: (JSON pointer into the result, label).
const PLAN_KEYS: [(&str, &str); 7] = [
    ("/totals/facility_gw", "facility power, GW"),
    ("/totals/it_gw", "IT power, GW"),
    ("/totals/accelerators", "accelerators"),
    ("/totals/h100e", "H100-equivalents"),
    ("/totals/capex_usd", "capex, USD"),
    ("/totals/opex_usd", "opex to date, USD"),
    ("/totals/energy_twh_per_year", "energy, TWh per year"),
];
const TRAIN_KEYS: [(&str, &str); 6] = [
    ("/step_time_s", "step time, s"),
    ("/tokens_per_s", "tokens per second"),
    ("/tflops_per_gpu", "TFLOP/s per GPU"),
    ("/mfu", "MFU"),
    ("/memory_gib_per_gpu", "memory per GPU, GiB"),
    ("/feasible", "fits in memory"),
];

/// Differences in inputs and key outputs between two runs.
fn compare(a: &store::Run, b: &store::Run) -> Value {
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

async fn load_pair(state: &AppState, query: CompareQuery) -> ApiResult<(LoadedRun, LoadedRun)> {
    let (Some(a), Some(b)) = (query.a, query.b) else {
        return Err(ApiError::bad_request(
            "compare needs two runs\n  fix: ?a=ID&b=ID (ids from GET /api/runs)",
        ));
    };
    let ra = load_run(state, &a).await?;
    let rb = load_run(state, &b).await?;
    Ok((ra, rb))
}

async fn api_compare_runs(
    State(state): State<AppState>,
    Query(query): Query<CompareQuery>,
) -> ApiResult<axum::Json<Value>> {
    let (a, b) = load_pair(&state, query).await?;
    Ok(axum::Json(compare(&a, &b)))
}

async fn fallback(uri: axum::http::Uri) -> Response {
    if uri.path().starts_with("/api/") {
        ApiError::not_found(format!(
            "no endpoint {}\n  fix: GET /api/openapi.json lists them",
            uri.path()
        ))
        .into_response()
    } else {
        pages::not_found(uri.path())
    }
}

#[cfg(test)]
mod tests;
