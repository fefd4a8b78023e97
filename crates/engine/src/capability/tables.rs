//! Per-system lookup tables, built once per run: the serving rate of the reference mix, and the
//! largest training run at accelerator counts a factor of [`GRID_FACTOR`] apart, read between
//! them by log-linear interpolation. `plan` and `risk` read the same tables, so at the central
//! values they agree.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use catalog::Catalog;
use serde::Serialize;

use super::serving::{mix_rate, MixRate};
use super::training::{
    batch_cap_tokens, largest_run, training_system, Layout, ModelKind, RunEstimate, TrainingAnswer,
    TrainingSystem,
};
use super::CapabilityOptions;

/// Ratio between neighbouring accelerator counts of a table.
pub const GRID_FACTOR: f64 = 2.0;
/// The smallest count in a table; fewer accelerators have no training answer.
pub const SMALLEST_RUN: f64 = 64.0;

/// One system type's table.
#[derive(Debug, Clone)]
pub struct SystemTable {
    /// Dense BF16 peak per accelerator, FLOP/s (unknown: no training answer).
    pub peak_bf16_flops: Option<f64>,
    /// Accelerator counts of the grid.
    pub grid: Vec<f64>,
    /// The dense answer at each, computed when first read.
    dense: Vec<OnceLock<TrainingAnswer>>,
    /// The MoE answer at each, computed when first read.
    moe: Vec<OnceLock<TrainingAnswer>>,
    /// The system, for computing grid points.
    system: TrainingSystem,
    /// Serving rate of the mix.
    pub serving: MixRate,
    /// Why training cannot be computed at all, if so.
    pub training_reason: Option<String>,
}

/// What a system type does, for the capability section.
#[derive(Debug, Clone, Serialize)]
pub struct SystemSummary {
    /// System id.
    pub system: String,
    /// Output tokens per second per accelerator for the reference mix, at its targets.
    pub serving_tokens_per_s_per_gpu: Option<f64>,
    /// Each model of the mix: (model, tokens per second per accelerator or why none).
    pub serving_by_model: Vec<super::serving::ModelRate>,
    /// Why serving is unknown, if it is.
    pub serving_reason: Option<String>,
    /// Why training is unknown, if it is.
    pub training_reason: Option<String>,
}

/// The tables of every system type a run uses.
#[derive(Debug, Clone)]
pub struct SystemTables {
    /// The options they were built with.
    pub options: CapabilityOptions,
    /// By system id.
    pub systems: BTreeMap<String, SystemTable>,
}

/// A system to tabulate: its id, the accelerator figures the scenario supplied, and the most
/// accelerators a run on it may need.
#[derive(Debug, Clone)]
pub struct TableRequest {
    /// System id.
    pub system: String,
    /// Accelerator overrides (`bf16_dense_tflops`, ...).
    pub overrides: Vec<(String, f64)>,
    /// The most training accelerators any month or sample may put on one run.
    pub max_gpus: f64,
}

impl SystemTables {
    /// Builds the tables (the expensive step: a layout search per grid point and model).
    pub fn build(
        catalog: &Catalog,
        requests: &[TableRequest],
        options: &CapabilityOptions,
    ) -> SystemTables {
        let systems = requests
            .iter()
            .map(|r| {
                let overrides: Vec<(&str, f64)> =
                    r.overrides.iter().map(|(k, v)| (k.as_str(), *v)).collect();
                let system = training_system(catalog, &r.system, &overrides);
                let serving = mix_rate(catalog, &r.system, &overrides, options);
                // 64, 128, 256, ... up to the first count at or above the most needed.
                let mut grid = vec![SMALLEST_RUN];
                while grid[grid.len() - 1] < r.max_gpus && grid.len() < 32 {
                    grid.push(grid[grid.len() - 1] * GRID_FACTOR);
                }
                let table = SystemTable {
                    peak_bf16_flops: system.hardware.as_ref().ok().map(|h| h.peak_bf16_flops),
                    dense: grid.iter().map(|_| OnceLock::new()).collect(),
                    moe: grid.iter().map(|_| OnceLock::new()).collect(),
                    grid,
                    serving,
                    training_reason: system.hardware.as_ref().err().cloned(),
                    system,
                };
                (r.system.clone(), table)
            })
            .collect();
        SystemTables {
            options: options.clone(),
            systems,
        }
    }

    /// The largest run of `kind` on `gpus` training accelerators of `system`.
    pub fn run(&self, system: &str, gpus: f64, kind: ModelKind) -> TrainingAnswer {
        let Some(table) = self.systems.get(system) else {
            return unknown(format!("`{system}` has no capability table"));
        };
        interpolate(table, kind, gpus, &self.options)
    }

    /// Effective training FLOP/s of `gpus` accelerators of `system` training one dense run
    /// each: peak x MFU x goodput x the share the run uses, at that scale.
    pub fn training_flop_per_s(&self, system: &str, gpus: f64) -> Result<f64, String> {
        if gpus <= 0.0 {
            return Ok(0.0);
        }
        let table = self
            .systems
            .get(system)
            .ok_or_else(|| format!("`{system}` has no capability table"))?;
        let x = interpolate_numbers(
            table,
            ModelKind::Dense,
            gpus.max(SMALLEST_RUN),
            &self.options,
        )?;
        // Per accelerator of the run, applied to every training accelerator.
        Ok(gpus * table.peak_bf16_flops.unwrap_or(0.0) * x.mfu * x.goodput)
    }

    /// Output tokens per second per accelerator of `system` for the mix.
    pub fn serving_rate(&self, system: &str) -> Result<f64, String> {
        match self.systems.get(system) {
            Some(t) => t
                .serving
                .tokens_per_s_per_gpu
                .ok_or_else(|| t.serving.reason.clone().unwrap_or_else(|| "unknown".into())),
            None => Err(format!("`{system}` has no capability table")),
        }
    }

    /// Computes every grid point now (they are otherwise computed when first read): for
    /// benchmarks that time the reading alone.
    ///
    /// The cells are independent, so they are computed in parallel, largest first: each
    /// search is itself parallel over its outer layout choices, but its rounds, doublings and
    /// goodput scan are serial, and the largest cells take the longest.
    pub fn fill(&self) {
        use rayon::prelude::*;
        let mut cells: Vec<(&SystemTable, ModelKind, usize)> = self
            .systems
            .values()
            .flat_map(|table| {
                [ModelKind::Moe, ModelKind::Dense]
                    .into_iter()
                    .flat_map(move |kind| (0..table.grid.len()).map(move |i| (table, kind, i)))
            })
            .collect();
        cells.sort_by(|a, b| b.0.grid[b.2].total_cmp(&a.0.grid[a.2]));
        cells.par_iter().for_each(|&(table, kind, i)| {
            cell(table, kind, i, &self.options);
        });
    }

    /// One summary per system.
    pub fn summaries(&self) -> Vec<SystemSummary> {
        self.systems
            .iter()
            .map(|(id, t)| SystemSummary {
                system: id.clone(),
                serving_tokens_per_s_per_gpu: t.serving.tokens_per_s_per_gpu,
                serving_by_model: t.serving.by_model.clone(),
                serving_reason: t.serving.reason.clone(),
                training_reason: t.training_reason.clone(),
            })
            .collect()
    }
}

fn unknown(reason: String) -> TrainingAnswer {
    TrainingAnswer {
        run: None,
        unknown_reason: Some(reason),
    }
}

/// The numbers of an interpolated answer.
#[derive(Debug, Clone, Copy)]
pub struct Interpolated {
    /// Accelerators the run uses.
    pub gpus_used: f64,
    /// MFU.
    pub mfu: f64,
    /// Goodput.
    pub goodput: f64,
    /// Training compute, FLOPs.
    pub compute: f64,
    /// Active parameters.
    pub active: f64,
    /// Total / active parameters of the shape.
    pub total_per_active: f64,
    /// Global batch, tokens.
    pub batch_tokens: f64,
    /// Index of the lower grid point.
    pub lower: usize,
}

impl SystemTables {
    /// The numbers of the largest run of `kind` on `gpus` training accelerators of `system`
    /// (what [`SystemTables::run`] reports, without building the report), with no
    /// reason string built, for the hot loop of `risk`; `None` where unknown.
    pub fn numbers(&self, system: &str, gpus: f64, kind: ModelKind) -> Option<Interpolated> {
        let table = self.systems.get(system)?;
        interpolate_numbers(table, kind, gpus, &self.options).ok()
    }
}

fn cell<'a>(
    table: &'a SystemTable,
    kind: ModelKind,
    i: usize,
    options: &CapabilityOptions,
) -> &'a TrainingAnswer {
    let cells = match kind {
        ModelKind::Dense => &table.dense,
        ModelKind::Moe => &table.moe,
    };
    cells[i].get_or_init(|| largest_run(&table.system, table.grid[i], kind, options))
}

/// The numbers at `gpus`, between the two grid points around it: the share of accelerators
/// used, MFU and goodput interpolated linearly in log(accelerators), the compute and model
/// size recomputed from them.
fn interpolate_numbers(
    table: &SystemTable,
    kind: ModelKind,
    gpus: f64,
    options: &CapabilityOptions,
) -> Result<Interpolated, String> {
    if let Some(reason) = &table.training_reason {
        return Err(reason.clone());
    }
    if gpus < SMALLEST_RUN {
        return Err(format!(
            "{gpus:.0} training accelerators is fewer than the smallest run tabulated ({SMALLEST_RUN:.0})"
        ));
    }
    let Some(peak) = table.peak_bf16_flops else {
        return Err("no BF16 peak".into());
    };
    let last = table.grid.len().saturating_sub(1);
    let hi = table.grid.iter().position(|g| *g >= gpus).unwrap_or(last);
    let lo = hi.saturating_sub(usize::from(table.grid[hi] > gpus));
    let (answer_lo, answer_hi) = (
        cell(table, kind, lo, options),
        cell(table, kind, hi, options),
    );
    let (a, b) = match (&answer_lo.run, &answer_hi.run) {
        (Some(a), Some(b)) => (a, b),
        _ => {
            return Err([answer_lo, answer_hi]
                .iter()
                .find_map(|x| x.unknown_reason.clone())
                .unwrap_or_default())
        }
    };
    let t = if hi == lo {
        0.0
    } else {
        ((gpus / table.grid[lo]).ln() / (table.grid[hi] / table.grid[lo]).ln()).clamp(0.0, 1.0)
    };
    let lerp = |x: f64, y: f64| x + (y - x) * t;
    let used_share = lerp(a.gpus_used / table.grid[lo], b.gpus_used / table.grid[hi]).min(1.0);
    let mfu = lerp(a.mfu, b.mfu);
    let goodput = lerp(a.goodput, b.goodput);
    let gpus_used = used_share * gpus;
    let compute = gpus_used * peak * mfu * goodput * options.training_days * 86_400.0;
    let active = (compute / (6.0 * options.tokens_per_parameter)).sqrt();
    Ok(Interpolated {
        gpus_used,
        mfu,
        goodput,
        compute,
        active,
        total_per_active: a.params / a.active_params,
        batch_tokens: (a.global_batch_tokens
            * (b.global_batch_tokens / a.global_batch_tokens).powf(t))
        .min(batch_cap_tokens(compute)),
        lower: lo,
    })
}

/// The answer at `gpus` ([`interpolate_numbers`]); the layout is the lower grid point's, its
/// data-parallel width scaled.
fn interpolate(
    table: &SystemTable,
    kind: ModelKind,
    gpus: f64,
    options: &CapabilityOptions,
) -> TrainingAnswer {
    let x = match interpolate_numbers(table, kind, gpus, options) {
        Ok(x) => x,
        Err(reason) => return unknown(reason),
    };
    let a = cell(table, kind, x.lower, options)
        .run
        .clone()
        .expect("the lower point has a run when the numbers do");
    let block = f64::from(a.layout.tp) * f64::from(a.layout.pp) * f64::from(a.layout.cp);
    TrainingAnswer {
        run: Some(RunEstimate {
            params: x.active * x.total_per_active,
            active_params: x.active,
            tokens: options.tokens_per_parameter * x.active,
            compute_flop: x.compute,
            mfu: x.mfu,
            goodput: x.goodput,
            goodput_model: a.goodput_model.clone(),
            gpus_used: x.gpus_used,
            global_batch_tokens: x.batch_tokens,
            batch_cap_tokens: batch_cap_tokens(x.compute),
            layout: Layout {
                dp: (x.gpus_used / block).floor().max(1.0) as u64,
                ..a.layout
            },
        }),
        unknown_reason: None,
    }
}
