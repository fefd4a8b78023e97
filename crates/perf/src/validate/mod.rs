//! Validation against published training runs (the calibration CSVs, handed in as text).
//!
//! Each row is mapped to its source family (one publication's table) and to the framework
//! version that publication ran (`calibration/sources.toml`, parsed by the caller into
//! [`Sources`]). Sources count FLOPs differently, so each published figure is first turned into
//! what was measured, a step time, in that source's own convention ([`conventions`]), and only
//! then compared with the model's predicted step time. Fields a table leaves out are filled from
//! the framework's defaults, model facts or `auto` and stated per row ([`rows`]). The global
//! fitted constants are refitted without each family and without the Blackwell rows
//! ([`folds`]) so that the headline error is out of sample.
//!
//! - [`csv`]: RFC 4180 splitting; [`sources`]: families, frameworks, model facts, exclusions;
//! - [`rows`]: a row into a [`Case`]; [`conventions`]: published figure to step time;
//! - [`predict`]: `auto` resolution and the step model; [`metrics`]: MAE, median, p90, bias;
//! - [`folds`]: the grid fit and the hold-out splits; [`targets`]: issue 12's accuracy targets;
//! - [`uncertainty`]: how far the headline figures move when the source families are resampled;
//!   [`refitted`]: the same with the constants refitted in every resample;
//! - [`groups`]: the compared rows by another key (the system, the precision recipe).

pub mod conventions;
pub mod csv;
pub mod extra_sources;
pub mod folds;
pub mod groups;
pub mod metrics;
pub mod predict;
pub mod refitted;
pub mod rows;
pub mod sources;
pub mod targets;
pub mod uncertainty;

use std::collections::BTreeMap;

use serde::Serialize;

pub use csv::parse_csv;
pub use extra_sources::ExtraSources;
pub use folds::{ErrorMatrix, Fitted, Fold, Grid};
pub use groups::{group_by, Group};
pub use metrics::Stats;
pub use refitted::{FamilySums, RefitSums, Refitted};
pub use rows::{read_rows, Case, FrameworkFor, Generation, RowOutcome, RowRead};
pub use sources::{FlopConvention, Sources};
pub use targets::Targets;
pub use uncertainty::Uncertainty;

use crate::step::{Breakdown, Hardware, ModelConstants, Strategy};

/// Where a row ended up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Predicted and compared with the measurement (feasible or not).
    Compared,
    /// Not evaluated: the reason says why.
    Refused,
    /// On the exclusion list (published figures inconsistent with themselves).
    Excluded,
}

/// One row's result.
#[derive(Debug, Clone, Serialize)]
pub struct RowResult {
    /// Row id.
    pub id: String,
    /// File it came from.
    pub file: String,
    /// Source family id.
    pub family: String,
    /// Framework id (empty when the row is not a case).
    pub framework: String,
    /// GPU type as written.
    pub gpu_type: String,
    /// Hardware generation.
    pub generation: Generation,
    /// Whether the row trains a mixture-of-experts model (false when the row is not a case).
    pub moe: bool,
    /// The precision recipe of the layers' matmuls (the experts' in an MoE model), by its
    /// name (`bf16`, `fp8-current`, `mxfp8`, ...); empty when the row is not a case.
    pub precision: String,
    /// Compared, refused or excluded.
    pub status: Status,
    /// Why refused or excluded.
    pub reason: Option<String>,
    /// Measured step time, s.
    pub measured_step_time_s: Option<f64>,
    /// Predicted step time with the constants given, s.
    pub predicted_step_time_s: Option<f64>,
    /// predicted / measured - 1 with the constants given.
    pub error: Option<f64>,
    /// The error with the constants fitted without this row's family (leave-one-source-out).
    pub loso_error: Option<f64>,
    /// Whether the model thinks the published layout fits in memory.
    pub predicted_fits: Option<bool>,
    /// Why it does not fit.
    pub infeasible: Option<String>,
    /// Why the row's framework (catalog/frameworks.toml) cannot run the evaluated layout;
    /// `None` when it can (published layouts should all be legal).
    pub framework_illegal: Option<String>,
    /// Fields filled by framework defaults, model facts, hardware assumptions or `auto`.
    pub filled: Vec<String>,
    /// The layout evaluated (auto fields resolved).
    pub layout: Option<String>,
    /// Where the predicted step's time goes, with the constants given.
    pub breakdown: Option<Breakdown>,
}

impl RowResult {
    /// A row as read, before it is refused, excluded or compared: nothing predicted yet.
    pub fn unscored(id: &str, file: &str, family: &str, gpu_type: &str) -> RowResult {
        RowResult {
            id: id.to_string(),
            file: file.to_string(),
            family: family.to_string(),
            framework: String::new(),
            gpu_type: gpu_type.to_string(),
            generation: Generation::of(gpu_type),
            moe: false,
            precision: String::new(),
            status: Status::Refused,
            reason: None,
            measured_step_time_s: None,
            predicted_step_time_s: None,
            error: None,
            loso_error: None,
            predicted_fits: None,
            infeasible: None,
            framework_illegal: None,
            filled: Vec::new(),
            layout: None,
            breakdown: None,
        }
    }
}

/// One source family's line.
#[derive(Debug, Clone, Serialize)]
pub struct FamilyReport {
    /// Family id.
    pub id: String,
    /// The publication and table.
    pub publication: String,
    /// Framework id.
    pub framework: String,
    /// Rows in the files.
    pub rows: usize,
    /// On the exclusion list.
    pub excluded: usize,
    /// Predicted and compared (feasible or not).
    pub compared: usize,
    /// Not evaluated.
    pub refused: usize,
    /// Compared but predicted not to fit although the run ran (a model error).
    pub predicted_infeasible: usize,
    /// Compared rows whose layout the framework catalog says the framework cannot run.
    pub framework_illegal: usize,
    /// Refusals counted by reason.
    pub refused_by_reason: BTreeMap<String, usize>,
    /// Predicted-infeasible rows counted by reason.
    pub infeasible_by_reason: BTreeMap<String, usize>,
    /// Error with the constants given (in sample for the families they were fitted on).
    pub in_sample: Stats,
    /// Error with the constants refitted without this family.
    pub loso: Option<Fold>,
}

/// How many rows are evaluated.
#[derive(Debug, Clone, Serialize)]
pub struct Coverage {
    /// Rows in all files.
    pub rows: usize,
    /// On the exclusion list.
    pub excluded: usize,
    /// Rows minus excluded.
    pub eligible: usize,
    /// Compared (a published run predicted not to fit is compared and counted as an error).
    pub evaluated: usize,
    /// Compared and predicted to fit.
    pub evaluated_and_fit: usize,
    /// evaluated / eligible.
    pub fraction: f64,
    /// evaluated_and_fit / eligible.
    pub fraction_fit: f64,
    /// The target fraction (issue 11: 95%).
    pub target: f64,
}

/// The whole validation.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Every row.
    pub rows: Vec<RowResult>,
    /// Per source family.
    pub families: Vec<FamilyReport>,
    /// All compared rows with the constants given.
    pub in_sample: Stats,
    /// The constants refitted on every compared row (in-sample refit).
    pub refit: Fold,
    /// Leave-one-source-out over every compared row: each row predicted by the constants
    /// fitted without its family.
    pub loso: Stats,
    /// Fitted without the Blackwell rows, scored on them.
    pub leave_blackwell_out: Fold,
    /// Coverage.
    pub coverage: Coverage,
    /// The grid the constants were fitted on.
    pub grid: Grid,
    /// Issue 12's accuracy targets, each with its figure and whether it holds.
    pub targets: Targets,
    /// The headline figures' 90% intervals with the source families resampled.
    pub uncertainty: Uncertainty,
}

/// The coverage target of issue 11.
pub const COVERAGE_TARGET: f64 = 0.95;

/// Hardware for a GPU type, with any assumption it makes stated (`Err`: no such system).
pub type HardwareFor<'a> = dyn Fn(&str) -> Result<(Hardware, Vec<String>), String> + Sync + 'a;

/// Validates every row: predictions with `constants`, refits on `grid`.
pub fn validate(
    rows: &[RowRead],
    sources: &Sources,
    hardware_for: &HardwareFor<'_>,
    constants: &ModelConstants,
    grid: &Grid,
) -> Report {
    // Rows into results; cases with their hardware for the fits.
    let mut results = Vec::new();
    let mut cases: Vec<(usize, &Case, Hardware, Vec<Strategy>)> = Vec::new();
    for row in rows {
        let mut result = RowResult::unscored(&row.id, &row.file, &row.family, &row.gpu_type);
        match &row.outcome {
            RowOutcome::Excluded(reason) => {
                result.status = Status::Excluded;
                result.reason = Some(reason.clone());
            }
            RowOutcome::Refused(reason) => result.reason = Some(reason.clone()),
            RowOutcome::Case(case) => {
                result.framework = case.framework.clone();
                result.moe = case.arch.is_moe();
                let recipes = case.workload.components();
                result.precision = if result.moe {
                    recipes.experts.name()
                } else {
                    recipes.dense.name()
                }
                .to_string();
                result.filled = case.filled.clone();
                result.measured_step_time_s = Some(case.measured_step_time_s);
                match hardware_for(&case.gpu_type) {
                    Err(reason) => result.reason = Some(reason),
                    Ok((hw, notes)) => {
                        result.filled.extend(notes);
                        match predict::resolve(case, &hw, constants) {
                            Err(reason) => result.reason = Some(reason),
                            Ok(candidates) => {
                                let p = predict::predict(case, &hw, &candidates, constants);
                                let e = &p.evaluation;
                                result.status = Status::Compared;
                                result.predicted_step_time_s = Some(e.step_time_s);
                                result.breakdown = Some(e.breakdown);
                                result.error =
                                    Some(e.step_time_s / case.measured_step_time_s - 1.0);
                                result.predicted_fits = Some(e.feasible);
                                result.infeasible = e.infeasible.map(|i| i.describe().to_string());
                                result.layout = Some(layout_text(&p.strategy));
                                result.framework_illegal = p.illegal.clone();
                                if case.auto_recompute {
                                    result.filled.push(format!(
                                        "auto recompute -> {}",
                                        recompute_text(&p.strategy)
                                    ));
                                }
                                cases.push((results.len(), case, hw, candidates));
                            }
                        }
                    }
                }
            }
        }
        results.push(result);
    }

    // Fits: every grid point on every compared row, once.
    let pairs: Vec<(&Case, &Hardware, &[Strategy])> = cases
        .iter()
        .map(|(_, c, h, s)| (*c, h, s.as_slice()))
        .collect();
    let matrix = ErrorMatrix::build(&pairs, grid.points(constants));
    let refit = matrix.hold_out("none", &|_| false);
    let refit = Fold {
        stats: Stats::of(
            &(0..pairs.len())
                .filter_map(|r| matrix.errors[fit_point(&matrix, &refit)][r])
                .collect::<Vec<_>>(),
        ),
        fit_rows: pairs.len(),
        ..refit
    };
    let mut family_ids: Vec<String> = Vec::new();
    for row in rows {
        if !family_ids.contains(&row.family) {
            family_ids.push(row.family.clone());
        }
    }
    let mut loso_by_family = BTreeMap::new();
    for family in &family_ids {
        let held = |r: usize| &pairs[r].0.family == family;
        if !(0..pairs.len()).any(held) {
            continue;
        }
        let fold = matrix.hold_out(family, &held);
        for &(r, e) in &fold.errors {
            results[cases[r].0].loso_error = Some(e);
        }
        loso_by_family.insert(family.clone(), fold);
    }
    let leave_blackwell_out = matrix.hold_out("blackwell", &|r| {
        pairs[r].0.generation == Generation::Blackwell
    });
    let loso_errors: Vec<f64> = results.iter().filter_map(|r| r.loso_error).collect();

    // Per family.
    let families: Vec<FamilyReport> = family_ids
        .iter()
        .map(|id| {
            let mine: Vec<&RowResult> = results.iter().filter(|r| &r.family == id).collect();
            let family = sources.family.iter().find(|f| &f.id == id);
            let mut refused_by_reason = BTreeMap::new();
            let mut infeasible_by_reason = BTreeMap::new();
            for r in &mine {
                if r.status == Status::Refused {
                    *refused_by_reason
                        .entry(r.reason.clone().unwrap_or_default())
                        .or_insert(0) += 1;
                }
                if let Some(why) = &r.infeasible {
                    *infeasible_by_reason.entry(why.clone()).or_insert(0) += 1;
                }
            }
            let errors: Vec<f64> = mine.iter().filter_map(|r| r.error).collect();
            FamilyReport {
                id: id.clone(),
                publication: family.map_or("(no family matched)".into(), |f| f.publication.clone()),
                framework: family.map_or(String::new(), |f| f.framework.clone()),
                rows: mine.len(),
                excluded: mine.iter().filter(|r| r.status == Status::Excluded).count(),
                compared: mine.iter().filter(|r| r.status == Status::Compared).count(),
                refused: mine.iter().filter(|r| r.status == Status::Refused).count(),
                predicted_infeasible: mine
                    .iter()
                    .filter(|r| r.predicted_fits == Some(false))
                    .count(),
                framework_illegal: mine
                    .iter()
                    .filter(|r| r.framework_illegal.is_some())
                    .count(),
                refused_by_reason,
                infeasible_by_reason,
                in_sample: Stats::of(&errors),
                loso: loso_by_family.remove(id),
            }
        })
        .collect();

    let excluded = results
        .iter()
        .filter(|r| r.status == Status::Excluded)
        .count();
    let evaluated = results
        .iter()
        .filter(|r| r.status == Status::Compared)
        .count();
    let evaluated_and_fit = results
        .iter()
        .filter(|r| r.predicted_fits == Some(true))
        .count();
    let eligible = results.len() - excluded;
    let in_sample: Vec<f64> = results.iter().filter_map(|r| r.error).collect();
    let targets = targets::targets(&results, &families, &leave_blackwell_out);
    let by_family = |error: &dyn Fn(&RowResult) -> Option<f64>| -> Vec<Vec<f64>> {
        family_ids
            .iter()
            .map(|id| {
                results
                    .iter()
                    .filter(|r| &r.family == id)
                    .filter_map(error)
                    .collect()
            })
            .collect()
    };
    let blackwell_left_out: Vec<Vec<f64>> = family_ids
        .iter()
        .map(|id| {
            leave_blackwell_out
                .errors
                .iter()
                .filter(|(r, _)| &pairs[*r].0.family == id)
                .map(|&(_, e)| e)
                .collect()
        })
        .collect();
    let family_of_row: Vec<usize> = pairs
        .iter()
        .map(|(case, _, _)| {
            family_ids
                .iter()
                .position(|id| id == &case.family)
                .unwrap_or_default()
        })
        .collect();
    let blackwell = |r: usize| pairs[r].0.generation == Generation::Blackwell;
    let family_sums = |admit: &dyn Fn(usize) -> bool| {
        FamilySums::of(&matrix, &family_of_row, family_ids.len(), admit)
    };
    let refit_sums = RefitSums {
        all: family_sums(&|_| true),
        older: family_sums(&|r| !blackwell(r)),
        blackwell: family_sums(&blackwell),
    };
    let uncertainty = uncertainty::uncertainty(
        &by_family(&|r| r.error),
        &by_family(&|r| r.loso_error),
        &blackwell_left_out,
        &refit_sums,
    );
    Report {
        coverage: Coverage {
            rows: results.len(),
            excluded,
            eligible,
            evaluated,
            evaluated_and_fit,
            fraction: evaluated as f64 / eligible.max(1) as f64,
            fraction_fit: evaluated_and_fit as f64 / eligible.max(1) as f64,
            target: COVERAGE_TARGET,
        },
        rows: results,
        families,
        in_sample: Stats::of(&in_sample),
        refit,
        loso: Stats::of(&loso_errors),
        leave_blackwell_out,
        grid: grid.clone(),
        targets,
        uncertainty,
    }
}

fn fit_point(matrix: &ErrorMatrix, fold: &Fold) -> usize {
    matrix
        .points
        .iter()
        .position(|p| {
            p.gemm_half_dim == fold.fitted.gemm_half_dim
                && p.attention_fraction == fold.fitted.attention_fraction
                && p.elementwise_passes == fold.fitted.elementwise_passes
                && p.overlap_compute_share == fold.fitted.overlap_compute_share
        })
        .unwrap_or(0)
}

/// The recompute of a layout in words (`selective(core_attn,layernorm)`, `full(4 layers)`).
pub fn recompute_text(s: &Strategy) -> String {
    match s.recompute {
        crate::step::Recompute::None => "none".into(),
        crate::step::Recompute::Selective => {
            format!("selective({})", s.selective_modules().names().join(","))
        }
        crate::step::Recompute::Full if s.recompute_layers > 0 => {
            format!("full({} layers per chunk)", s.recompute_layers)
        }
        crate::step::Recompute::Full => "full".into(),
    }
}

/// A layout in one line.
pub fn layout_text(s: &Strategy) -> String {
    format!(
        "tp{} pp{} dp{} cp{} ep{} vpp{} mb{} sp={} recompute={} zero={}",
        s.tp,
        s.pp,
        s.dp,
        s.cp,
        s.ep,
        s.virtual_pp,
        s.microbatch,
        if s.sequence_parallel { "y" } else { "n" },
        recompute_text(s),
        s.zero
    )
}

// ---------------------------------------------------------------------------------------------
// The first release's summary shapes, kept for `cases`, `summary` and `skipped` in the JSON.
// ---------------------------------------------------------------------------------------------

/// A row that could not be used, and why.
#[derive(Debug, Clone, Serialize)]
pub struct Skipped {
    /// Row id.
    pub id: String,
    /// Why.
    pub reason: String,
}

/// Predicted against measured for one compared row.
#[derive(Debug, Clone, Serialize)]
pub struct CaseResult {
    /// Row id.
    pub id: String,
    /// Source family id.
    pub source: String,
    /// GPU type.
    pub gpu_type: String,
    /// Measured step time, s.
    pub measured_step_time_s: f64,
    /// Predicted step time, s.
    pub predicted_step_time_s: f64,
    /// predicted / measured - 1 (positive: the model is slower than reality).
    pub error: f64,
    /// Whether the model thinks the published layout fits in memory.
    pub predicted_fits: bool,
}

/// Mean absolute error overall and per source.
#[derive(Debug, Clone, Serialize)]
pub struct ValidationSummary {
    /// Cases compared.
    pub cases: usize,
    /// Mean |error| over all cases.
    pub mean_abs_error: f64,
    /// Mean signed error (bias).
    pub mean_error: f64,
    /// Per source: (source, cases, mean |error|).
    pub by_source: Vec<(String, usize, f64)>,
}

impl Report {
    /// The compared rows in the first release's shape.
    pub fn cases(&self) -> Vec<CaseResult> {
        self.rows
            .iter()
            .filter(|r| r.status == Status::Compared)
            .map(|r| CaseResult {
                id: r.id.clone(),
                source: r.family.clone(),
                gpu_type: r.gpu_type.clone(),
                measured_step_time_s: r.measured_step_time_s.unwrap_or(f64::NAN),
                predicted_step_time_s: r.predicted_step_time_s.unwrap_or(f64::NAN),
                error: r.error.unwrap_or(f64::NAN),
                predicted_fits: r.predicted_fits.unwrap_or(false),
            })
            .collect()
    }

    /// The rows not compared, with the reason.
    pub fn skipped(&self) -> Vec<Skipped> {
        self.rows
            .iter()
            .filter(|r| r.status != Status::Compared)
            .map(|r| Skipped {
                id: r.id.clone(),
                reason: r.reason.clone().unwrap_or_default(),
            })
            .collect()
    }

    /// The first release's summary.
    pub fn summary(&self) -> ValidationSummary {
        ValidationSummary {
            cases: self.in_sample.n,
            mean_abs_error: self.in_sample.mae,
            mean_error: self.in_sample.bias,
            by_source: self
                .families
                .iter()
                .filter(|f| f.compared > 0)
                .map(|f| (f.id.clone(), f.compared, f.in_sample.mae))
                .collect(),
        }
    }
}
