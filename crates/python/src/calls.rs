//! The entry points: text in, a result object (or a table's Parquet bytes) out. Sources are
//! resolved in Python (`gigawatt/__init__.py`); files a base or portfolio names are read here,
//! the way the CLI reads them.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use catalog::Catalog;
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use serde_json::json;

use crate::errors::{compute, Failure};

/// The embedded catalog, loaded once per process (it takes longer to load than a plan takes).
fn catalog() -> Result<&'static Catalog, Failure> {
    static CATALOG: OnceLock<Result<Catalog, String>> = OnceLock::new();
    CATALOG
        .get_or_init(|| Catalog::embedded().map_err(|d| d.to_string()))
        .as_ref()
        .map_err(|m| Failure::Message(format!("the embedded catalog is broken: {m}")))
}

/// The computed result of a call; `gigawatt.Result` wraps it.
enum Data {
    Plan(Box<engine::PlanResult>),
    Risk(Box<::risk::RiskResult>),
    TrainValidation(Box<engine::train_validate::TrainingValidation>),
    Json(String),
}

/// A computed result, held in Rust until a view of it is asked for.
#[pyclass(frozen, module = "gigawatt._native")]
pub struct NativeResult {
    kind: &'static str,
    data: Data,
}

fn pretty(value: &impl serde::Serialize) -> Result<String, Failure> {
    let mut s = serde_json::to_string_pretty(value)
        .map_err(|e| Failure::Message(format!("failed to render JSON: {e}")))?;
    s.push('\n');
    Ok(s)
}

#[pymethods]
impl NativeResult {
    /// The kind of call that made it: plan, train, infer, train_search, infer_search,
    /// reliability, risk or train_validate.
    #[getter]
    fn kind(&self) -> &'static str {
        self.kind
    }

    /// The CLI's JSON for the same question (`-f json`).
    fn json(&self, py: Python<'_>) -> PyResult<String> {
        compute(py, || match &self.data {
            Data::Plan(r) => Ok(report::plan_json(r)),
            Data::Risk(r) => Ok(report::risk::risk_json(r)),
            Data::TrainValidation(v) => pretty(v),
            Data::Json(s) => Ok(s.clone()),
        })
    }

    /// The CLI's self-contained HTML report where the CLI has one (plan, risk, train
    /// validate), else None.
    fn html(&self, py: Python<'_>) -> PyResult<Option<String>> {
        compute(py, || {
            Ok(match &self.data {
                Data::Plan(r) => Some(report::plan_html(r)),
                Data::Risk(r) => Some(report::risk::risk_html(r)),
                Data::TrainValidation(v) => {
                    Some(report::training_validation_html(v, engine::ENGINE_VERSION))
                }
                Data::Json(_) => None,
            })
        })
    }
}

/// Plans a scenario given as TOML text (`origin` names it in messages).
#[pyfunction]
#[pyo3(signature = (origin, text, ranges=true, draws=1000, seed=0))]
pub fn plan(
    py: Python<'_>,
    origin: &str,
    text: &str,
    ranges: bool,
    draws: usize,
    seed: u64,
) -> PyResult<NativeResult> {
    compute(py, || {
        // What `gigawatt plan` computes: ranges unless turned off, and capability.
        let options = engine::PlanOptions {
            ranges: ranges.then_some(engine::RangeOptions { draws, seed }),
        };
        let flags = engine::capability::CapabilityFlags::default();
        let r = engine::plan_text_with_capability(catalog()?, origin, text, &options, &flags)?;
        Ok(NativeResult {
            kind: "plan",
            data: Data::Plan(Box::new(r)),
        })
    })
}

/// Evaluates a training spec (`gigawatt train --spec`).
#[pyfunction]
pub fn train(py: Python<'_>, origin: &str, text: &str) -> PyResult<NativeResult> {
    compute(py, || {
        let r = engine::train::train_text(catalog()?, origin, text)?;
        Ok(NativeResult {
            kind: "train",
            data: Data::Json(pretty(&r)?),
        })
    })
}

/// The training model against published runs (`gigawatt train validate`): `files` are
/// (origin, CSV text) pairs in the calibration columns; none validates the shipped files.
/// `sources` are (origin, TOML text) pairs of the user's own families, model facts and recipes
/// (`--sources`).
#[pyfunction]
#[pyo3(signature = (files = None, sources = None))]
pub fn train_validate(
    py: Python<'_>,
    files: Option<Vec<(String, String)>>,
    sources: Option<Vec<(String, String)>>,
) -> PyResult<NativeResult> {
    let files = files.unwrap_or_default();
    let sources = sources.unwrap_or_default();
    compute(py, || {
        let named: Vec<(&str, &str)> = files
            .iter()
            .map(|(n, t)| (n.as_str(), t.as_str()))
            .collect();
        let named_sources: Vec<(&str, &str)> = sources
            .iter()
            .map(|(n, t)| (n.as_str(), t.as_str()))
            .collect();
        let v = engine::train_validate::validate_files_with_sources(
            catalog()?,
            &named,
            &named_sources,
        )
        .map_err(|m| {
            let fix = if named_sources.iter().any(|(name, _)| m.starts_with(name)) {
                "follow calibration/sources.toml ([[family]], [[model]], [[recipe]], [[exclude]])"
            } else {
                "use the columns of calibration/training.csv"
            };
            Failure::Message(format!("the calibration input is not usable: {m}\n  fix: {fix}"))
        })?;
        Ok(NativeResult {
            kind: "train_validate",
            data: Data::TrainValidation(Box::new(v)),
        })
    })
}

/// Evaluates a serving spec (`gigawatt infer --spec`).
#[pyfunction]
pub fn infer(py: Python<'_>, origin: &str, text: &str) -> PyResult<NativeResult> {
    compute(py, || {
        let r = engine::infer::infer_text(catalog()?, origin, text)?;
        Ok(NativeResult {
            kind: "infer",
            data: Data::Json(pretty(&r)?),
        })
    })
}

/// The fastest training layouts that fit (`gigawatt train search`), with its checks.
#[pyfunction]
#[pyo3(signature = (model, system, gpus, global_batch, seq_len, precision="bf16", framework=None, top=5))]
#[allow(clippy::too_many_arguments)]
pub fn train_search(
    py: Python<'_>,
    model: &str,
    system: &str,
    gpus: i64,
    global_batch: i64,
    seq_len: i64,
    precision: &str,
    framework: Option<&str>,
    top: i64,
) -> PyResult<NativeResult> {
    compute(py, || {
        let catalog = catalog()?;
        for (name, value) in [
            ("gpus", gpus),
            ("global_batch", global_batch),
            ("seq_len", seq_len),
        ] {
            if !(1..=10_000_000).contains(&value) {
                return Err(format!(
                    "{name} is {value}\n  fix: a whole number from 1 to 10,000,000"
                )
                .into());
            }
        }
        if !(1..=1000).contains(&top) {
            return Err(format!("top is {top}\n  fix: ask for 1 to 1000 layouts").into());
        }
        let precision_value = engine::train::parse_precision(precision).ok_or_else(|| {
            format!("precision `{precision}` is unknown\n  fix: use bf16, fp8 or fp4")
        })?;
        let workload = perf::Workload {
            global_batch: global_batch as f64,
            seq_len: seq_len as f64,
            precision: precision_value,
            components: None,
            moe: perf::MoeRouting::default(),
        };
        let inputs =
            engine::train::resolve_train_inputs(catalog, model, system, gpus as u64, workload)
                .map_err(|m| format!("{m}\n  fix: {}", engine::train::lookup_fix(&m)))?
                .with_framework(catalog, framework)
                .map_err(|m| {
                    format!("framework: {m}\n  fix: the frameworks are in catalog/frameworks.toml")
                })?;
        let options = perf::SearchOptions {
            gpus: gpus as u32,
            top: top as usize,
            max_microbatch: 16,
        };
        let found = engine::train::search_layouts(&inputs, &options);
        if found.evaluated == 0 {
            return Err(format!(
                "no parallel layout splits {gpus} GPUs and a batch of {global_batch} sequences for {model} (tp must divide the heads within the scale-up domain, pp the layers, and dp the batch)\n  fix: use a GPU count that is a multiple of a power of two (e.g. 8, 64, 1024) and a batch divisible by the data-parallel size"
            )
            .into());
        }
        let top: Vec<_> = found
            .top
            .iter()
            .map(|r| engine::train::train_result(catalog, &inputs, r.strategy, String::new()))
            .collect();
        let text = pretty(&json!({
            "model": model,
            "system": system,
            "gpus": gpus,
            "framework": inputs.framework_id,
            "workload": workload,
            "evaluated": found.evaluated,
            "illegal": found.illegal,
            "feasible": found.feasible,
            "top": top,
        }))?;
        Ok(NativeResult {
            kind: "train_search",
            data: Data::Json(text),
        })
    })
}

/// The best serving layouts at a latency target (`gigawatt infer search`), with its checks.
#[pyfunction]
#[pyo3(signature = (model, system, input_tokens, output_tokens, ttft_slo_s=None, tpot_slo_s=None, precision="bf16", kv_precision="bf16", mode="server", disaggregated=false, max_batch=None, slo_percentile=None, top=5))]
#[allow(clippy::too_many_arguments)]
pub fn infer_search(
    py: Python<'_>,
    model: &str,
    system: &str,
    input_tokens: f64,
    output_tokens: f64,
    ttft_slo_s: Option<f64>,
    tpot_slo_s: Option<f64>,
    precision: &str,
    kv_precision: &str,
    mode: &str,
    disaggregated: bool,
    max_batch: Option<f64>,
    slo_percentile: Option<f64>,
    top: i64,
) -> PyResult<NativeResult> {
    compute(py, || {
        let catalog = catalog()?;
        let workload = engine::infer::checked_workload(&engine::infer::TrafficRequest {
            names: engine::infer::FieldNames::Json,
            input_tokens,
            output_tokens,
            ttft_slo_s,
            tpot_slo_s,
            mode,
            disaggregated,
            max_batch,
            slo_percentile,
            draft_tokens: None,
            acceptance_rate: None,
            draft_cost_fraction: None,
        })?;
        if !(1..=100).contains(&top) {
            return Err(format!("top is {top}\n  fix: 1 to 100").into());
        }
        let precision_value = engine::train::parse_precision(precision).ok_or_else(|| {
            format!("precision `{precision}` is unknown\n  fix: bf16, fp8 or fp4")
        })?;
        let entry = catalog.models.get(model).ok_or_else(|| {
            match catalog::nearest(model, catalog.models.keys().map(String::as_str)) {
                Some(near) => format!("unknown model `{model}`; did you mean `{near}`?\n  fix: gigawatt.catalog()['models'] lists them"),
                None => format!("unknown model `{model}`\n  fix: gigawatt.catalog()['models'] lists them"),
            }
        })?;
        let arch = engine::train::arch_from_catalog(entry);
        let inputs = engine::infer::serve_inputs_for_arch(catalog, model.to_string(), arch, system)
            .map_err(|m| format!("{m}\n  fix: {}", engine::train::lookup_fix(&m)))?;
        engine::infer::check_precision(&inputs, precision_value)?;
        let kv_bytes = engine::infer::parse_kv_precision(kv_precision).ok_or_else(|| {
            format!("kv_precision `{kv_precision}` is unknown\n  fix: bf16 or fp8")
        })?;
        let (found, evaluated) = engine::infer::infer_search(
            catalog,
            &inputs,
            precision_value,
            kv_bytes,
            workload,
            top as usize,
        );
        if found.is_empty() {
            return Err(engine::infer::no_layout_message(
                catalog,
                &inputs,
                precision_value,
                kv_bytes,
                workload,
                evaluated,
            )
            .into());
        }
        Ok(NativeResult {
            kind: "infer_search",
            data: Data::Json(pretty(&json!({ "evaluated": evaluated, "top": found }))?),
        })
    })
}

/// Simulates failures, checkpoints and restarts (`gigawatt reliability`); `request` is the
/// JSON of the keyword arguments, one per CLI flag.
#[pyfunction]
pub fn reliability(py: Python<'_>, request: &str) -> PyResult<NativeResult> {
    use ::reliability::request::{self as job, JobArgs, JobError, Report, SystemLookup};
    compute(py, || {
        let catalog = catalog()?;
        let args: JobArgs = serde_json::from_str(request).map_err(|e| {
            format!("reliability: {e}\n  fix: keyword arguments are the flags of `gigawatt reliability` with underscores (gpus, days, work_hours, system, checkpoint_interval_min, ...)")
        })?;
        let data = ::reliability::ReliabilityData::embedded()
            .map_err(|e| format!("the embedded reliability data is broken: {e}"))?;
        let lookup = |id: &str| -> Result<SystemLookup, String> {
            Ok(match catalog.systems.get(id) {
                None => SystemLookup::Unknown {
                    nearest: catalog.nearest_system(id).map(str::to_string),
                },
                Some(system) => SystemLookup::Found {
                    accelerators_per_system: system.accelerators_per_system.number().ok_or_else(
                        || {
                            system
                                .accelerators_per_system
                                .missing_reason()
                                .unwrap_or("unknown")
                                .to_string()
                        },
                    ),
                    scale_up_domain: system.scale_up_domain.number(),
                },
            })
        };
        let spec = ::reliability::job_spec(&args, lookup).map_err(|e| match e {
            JobError::Input(m) | JobError::Lookup(m) => m,
        })?;
        let (cfg, assumptions) = data.config(&spec);
        cfg.validate()
            .map_err(|e| format!("invalid reliability inputs: {e}"))?;
        let estimate = job::check_work(&cfg, args.no_search, job::MAX_EVENTS)?;
        let budget = ::reliability::Budget::new(job::event_budget(job::MAX_EVENTS));
        let stopped = |e: ::reliability::SimError| match e {
            ::reliability::SimError::Config(e) => format!("invalid reliability inputs: {e}"),
            other => job::stopped_message(&other, estimate),
        };
        let summary = ::reliability::simulate_within(&cfg, &budget, &|| {}).map_err(stopped)?;
        let search = if args.no_search {
            None
        } else {
            ::reliability::search_interval_within(&cfg, job::search_runs(cfg.runs), &budget, &|| {})
                .map_err(stopped)?
        };
        let report = Report::new(&args, &spec, &cfg, &data, summary, search, assumptions);
        Ok(NativeResult {
            kind: "reliability",
            data: Data::Json(pretty(&report)?),
        })
    })
}

/// A regular file of at most 16 MiB, as the CLI reads input (`None`: nothing at the path).
fn read_file(path: &Path, what: &str) -> Result<Option<String>, String> {
    let Ok(meta) = std::fs::metadata(path) else {
        return Ok(None);
    };
    if !meta.is_file() {
        return Err(format!(
            "{what} {} is not a regular file\n  fix: give a file",
            path.display()
        ));
    }
    if meta.len() > 16 * 1024 * 1024 {
        return Err(format!(
            "{what} {} is over 16 MiB\n  fix: give the TOML input itself",
            path.display()
        ));
    }
    std::fs::read_to_string(path).map(Some).map_err(|e| {
        format!(
            "failed to read {what} {}: {e}\n  fix: give a readable UTF-8 file",
            path.display()
        )
    })
}

/// Deal risk (`gigawatt risk`): the portfolio as text (`dir`: its folder, where the plan it
/// names is looked for before the shipped scenarios).
#[pyfunction]
#[pyo3(signature = (origin, text, dir=None, samples=None, seed=None))]
pub fn risk(
    py: Python<'_>,
    origin: &str,
    text: &str,
    dir: Option<PathBuf>,
    samples: Option<i64>,
    seed: Option<i64>,
) -> PyResult<NativeResult> {
    compute(py, || {
        let catalog = catalog()?;
        let invalid = |e: ::risk::RiskError| {
            let ::risk::RiskError::Invalid(d) = e;
            Failure::Diagnostics(d)
        };
        let file = ::risk::parse(origin, text).map_err(invalid)?;
        let (wanted, _) = ::risk::scenario_ref(&file);
        let local = match &dir {
            Some(dir) => read_file(&dir.join(wanted), "scenario file")?
                .map(|t| (dir.join(wanted).display().to_string(), t)),
            None => None,
        };
        let (plan_origin, plan_text) = match local {
            Some(found) => found,
            None => match engine::shipped::scenario(wanted) {
                Some((name, t)) => (engine::shipped::origin(name), t.to_string()),
                None => {
                    let names = engine::shipped::SCENARIOS.iter().map(|(n, _)| *n);
                    let hint = match catalog::nearest(wanted, names) {
                        Some(near) => format!("did you mean the shipped scenario `{near}`?"),
                        None => "give a shipped scenario name (gigawatt.scenarios()) or a path relative to the portfolio file".into(),
                    };
                    return Err(invalid(::risk::scenario_error(
                        &file,
                        origin,
                        text,
                        format!("no scenario file or shipped scenario named `{wanted}`"),
                        hint,
                    )));
                }
            },
        };
        let portfolio = ::risk::build(catalog, &file, origin, text, &plan_origin, &plan_text)
            .map_err(invalid)?;
        let options = ::risk::checked_options(
            &portfolio,
            samples,
            portfolio.default_samples.unwrap_or(::risk::DEFAULT_SAMPLES),
            seed,
            None,
            None,
        )
        .map_err(|d| Failure::Diagnostics(catalog::Diagnostics(vec![*d])))?;
        let mut result = ::risk::run(&portfolio, &options, &|_, _| {}).map_err(invalid)?;
        // As the CLI: per-system capability tables built once, read at each sample's fleet.
        let tables = ::risk::build_tables(catalog, &portfolio);
        result.capability = ::risk::capability(&portfolio, &options, &tables);
        result.knowledge = Some(engine::knowledge::knowledge(
            catalog,
            result.deals.iter().map(|d| d.id.as_str()),
        ));
        result
            .warnings
            .extend(engine::knowledge::late_source_warnings(
                catalog,
                result.sources.iter().map(|s| s.id.as_str()),
            ));
        Ok(NativeResult {
            kind: "risk",
            data: Data::Risk(Box::new(result)),
        })
    })
}

/// (name, title) of each shipped scenario, then the shipped risk portfolio.
#[pyfunction]
pub fn scenarios() -> Vec<(String, String)> {
    let (risk_name, risk_text) = engine::shipped::RISK_PORTFOLIO;
    engine::shipped::SCENARIOS
        .iter()
        .chain(std::iter::once(&(risk_name, risk_text)))
        .map(|(n, t)| (n.to_string(), engine::shipped::title(t).to_string()))
        .collect()
}

/// (name, text) of the shipped scenario or portfolio called `name`, if there is one.
#[pyfunction]
pub fn shipped_scenario(name: &str) -> Option<(String, String)> {
    let (risk_name, risk_text) = engine::shipped::RISK_PORTFOLIO;
    if name.strip_suffix(".toml").unwrap_or(name) == risk_name {
        return Some((risk_name.to_string(), risk_text.to_string()));
    }
    engine::shipped::scenario(name).map(|(n, t)| (n.to_string(), t.to_string()))
}

/// The catalog as JSON (as `gigawatt catalog list --all -f json`, plus models and frameworks).
#[pyfunction]
pub fn catalog_json(py: Python<'_>) -> PyResult<String> {
    compute(py, || {
        let c = catalog()?;
        pretty(&json!({
            "catalog_version": c.version,
            "accelerators": c.accelerators.values().collect::<Vec<_>>(),
            "systems": c.systems.values().collect::<Vec<_>>(),
            "deals": c.deals.values().collect::<Vec<_>>(),
            "models": c.models.values().collect::<Vec<_>>(),
            "sources": c.sources.values().collect::<Vec<_>>(),
            "sites": c.sites.values().collect::<Vec<_>>(),
            "facility": c.facility,
        }))
    })
}

/// A `dict` source (as JSON) as TOML text.
#[pyfunction]
pub fn toml_from_json(py: Python<'_>, json_text: &str) -> PyResult<String> {
    compute(py, || {
        let value: toml::Value = serde_json::from_str(json_text)
            .map_err(|e| format!("the dict cannot be TOML: {e}\n  fix: use str, int, float, bool, lists and dicts with str keys, and no None"))?;
        if !value.is_table() {
            return Err("the source is not a table\n  fix: give a dict"
                .to_string()
                .into());
        }
        toml::to_string(&value).map_err(|e| Failure::Message(format!("the dict cannot be TOML: {e}\n  fix: use str, int, float, bool, lists and dicts with str keys")))
    })
}

fn sweep_file(origin: &str, text: &str) -> Result<::sweep::SweepFile, Failure> {
    Ok(::sweep::SweepFile::parse(origin, text)?)
}

/// The base input a sweep file names, read: (origin, text); `dir` is the sweep file's folder.
#[pyfunction]
#[pyo3(signature = (origin, text, dir=None))]
pub fn sweep_base(
    py: Python<'_>,
    origin: &str,
    text: &str,
    dir: Option<PathBuf>,
) -> PyResult<(String, String)> {
    compute(py, || {
        let file = sweep_file(origin, text)?;
        let base = ::sweep::resolve_base(&file, dir.as_deref(), |p| read_file(p, "base input"))?;
        Ok((base.origin, base.text))
    })
}

fn prepared(
    origin: &str,
    text: &str,
    base_origin: &str,
    base_text: &str,
) -> Result<::sweep::Sweep, Failure> {
    let file = sweep_file(origin, text)?;
    let base = ::sweep::Base {
        origin: base_origin.to_string(),
        text: base_text.to_string(),
    };
    Ok(::sweep::Sweep::new(catalog()?, file, base)?)
}

/// Checks a sweep (axes against the base, size against max_points unless `force`) and returns
/// its number of points.
#[pyfunction]
#[pyo3(signature = (origin, text, base_origin, base_text, force=false))]
pub fn sweep_points(
    py: Python<'_>,
    origin: &str,
    text: &str,
    base_origin: &str,
    base_text: &str,
    force: bool,
) -> PyResult<u64> {
    compute(py, || {
        let s = prepared(origin, text, base_origin, base_text)?;
        s.check_size(force)?;
        Ok(s.points())
    })
}

/// Runs shard `shard_index` of `shard_count` (1-based) of a sweep; returns the table as Parquet.
#[pyfunction]
#[pyo3(signature = (origin, text, base_origin, base_text, shard_index=1, shard_count=1, force=false))]
#[allow(clippy::too_many_arguments)]
pub fn sweep<'py>(
    py: Python<'py>,
    origin: &str,
    text: &str,
    base_origin: &str,
    base_text: &str,
    shard_index: i64,
    shard_count: i64,
    force: bool,
) -> PyResult<Bound<'py, PyBytes>> {
    let bytes = compute(py, || {
        let shard = if shard_index < 0 || shard_count < 0 {
            Err(format!(
                "shard {shard_index}/{shard_count}: K and N are counts\n  fix: 1 <= K <= N"
            ))
        } else {
            ::sweep::Shard::new(shard_index as u64, shard_count as u64)
        }
        .map_err(|m| format!("shard: {m}"))?;
        let s = prepared(origin, text, base_origin, base_text)?;
        s.check_size(force)?;
        let table = s.run(catalog()?, shard, &|| {});
        Ok(::sweep::parquet::write(
            &table,
            &format!("gigawatt {}", engine::ENGINE_VERSION),
        ))
    })?;
    Ok(PyBytes::new(py, &bytes))
}

/// Panics inside the engine's call path, to test that a panic becomes `InternalError`.
#[pyfunction]
pub fn panic_for_tests(py: Python<'_>) -> PyResult<()> {
    compute(py, || -> Result<(), Failure> {
        panic!("deliberate panic for the FFI test")
    })
}
