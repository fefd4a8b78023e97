//! `gigawatt serve`: the web dashboard and JSON API, with saved runs in an embedded SQLite
//! store.
//!
//! Everything is in the binary: pages are `maud` templates (`pages/`), charts are SVG drawn by
//! `report` (plans) or here (training breakdowns, run comparisons), and the only script is a
//! small inline one that calls the JSON API. No request names a file: run ids are integers,
//! and the only file the server opens is the database under `--data`.
//!
//! Model work runs on the blocking pool (`spawn_blocking`) behind a semaphore and a timeout, so
//! one slow request never stops the others.

mod api;
pub mod csp;
pub mod diff;
mod error;
mod fleet_api;
pub mod guard;
pub mod listen;
mod models;
mod openapi;
mod pages;
mod plan_ranges;
mod runs_api;
pub mod store;
mod work;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use catalog::Catalog;
use tokio::sync::Semaphore;

pub use guard::ServerConfig;
pub use store::{NewRun, RunKind, RunSummary, Store, StoreError};

use api::*;
pub use error::ApiError;
use error::ApiResult;
use plan_ranges::*;
use runs_api::*;
use work::*;

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
    /// Ranges of recent plans (`plan_ranges`).
    ranges_cache: RangesCache,
    /// `/train/validation`: the training model against the shipped calibration files on this
    /// server's catalog, rendered once (about a second of work; nothing it reads changes while
    /// the server runs).
    training_validation: std::sync::OnceLock<Result<String, String>>,
}

impl Inner {
    fn model_timeout(&self) -> Duration {
        Duration::from_millis(self.model_timeout_ms.load(Ordering::Relaxed))
    }

    /// The training validation page (`gigawatt train validate -f html`), rendered once.
    fn training_validation_page(&self) -> Result<String, String> {
        self.training_validation
            .get_or_init(|| {
                let v = engine::train_validate::validate_files_or_shipped(&self.catalog, &[])?;
                Ok(report::training_validation_html(&v, engine::ENGINE_VERSION))
            })
            .clone()
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
                ranges_cache: RangesCache::default(),
                training_validation: std::sync::OnceLock::new(),
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
        .route("/api/deals", get(api_deals))
        .route("/api/plan", post(api_plan))
        .route("/api/train", post(api_train))
        .route("/api/train/search", post(api_train_search))
        .route("/api/infer", post(models::api_infer))
        .route("/api/infer/search", post(models::api_infer_search))
        .route("/api/infer/fleet", post(fleet_api::api_infer_fleet))
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
        .route("/train/validation", get(pages::train_validation_page))
        .route("/catalog", get(pages::catalog_page))
        .route("/runs", get(pages::runs_page))
        .route("/runs/compare", get(pages::compare_page))
        .route("/runs/{id}", get(pages::run_page))
        .route("/infer", get(pages::infer_page))
        .route("/fleet", get(pages::fleet_page))
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
