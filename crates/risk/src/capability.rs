//! Risk over capability: the plan's capability measures (largest dense and MoE run, training
//! FLOP per year, serving tokens per day; `engine::capability`) as percentiles over the
//! sampled portfolios.
//!
//! The models behind them (a layout search per scale, the serving search per system) are
//! evaluated once per run into per-system lookup tables ([`engine::capability::SystemTables`]);
//! each sample then reads the tables at its own accelerator counts, by the same arithmetic
//! `gigawatt plan` uses, so the unperturbed sample gives the plan's numbers.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::Serialize;
use units::Month;

use engine::capability::fleet_state::{measures, Groups};
use engine::capability::tables::{SystemSummary, TableRequest};
use engine::capability::{
    month_states, report_months, table_requests, CapabilityOptions, SiteTranche, SystemTables,
};

use crate::model::{DealOutcome, Lean, Portfolio};
use crate::result::Quantiles;
use crate::simulate::{key, quantiles_of, RunOptions};

/// Samples the capability percentiles read at most (the first ones of the run's streams):
/// four measures per reported month per sample are held exactly.
pub const CAPABILITY_MAX_SAMPLES: u64 = 200_000;

/// The measures' names, in [`engine::capability::fleet_state::measures`] order.
pub const MEASURES: [&str; 4] = [
    "dense_params",
    "moe_params",
    "training_flop_per_year",
    "serving_tokens_per_day",
];

/// One month's capability percentiles.
#[derive(Debug, Clone, Serialize)]
pub struct CapabilityMonth {
    /// The month.
    pub month: Month,
    /// Parameters of the largest compute-optimal dense model (`null`: unknown in every sample).
    pub dense_params: Option<Quantiles>,
    /// Total parameters of the largest MoE of the stated sparsity.
    pub moe_params: Option<Quantiles>,
    /// Training FLOP per year of the fleet's training share.
    pub training_flop_per_year: Option<Quantiles>,
    /// Output tokens per day of the fleet's serving share for the reference mix.
    pub serving_tokens_per_day: Option<Quantiles>,
    /// The same measures for the plan as written (what `gigawatt plan` reports).
    pub planned: Planned,
    /// Per measure, the share of samples in which the models can compute it (a MoE layout
    /// may fit no block at some scales); its percentiles are over those samples.
    pub known_share: std::collections::BTreeMap<String, f64>,
}

/// The measures of the plan as written.
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct Planned {
    /// Dense parameters.
    pub dense_params: Option<f64>,
    /// MoE total parameters.
    pub moe_params: Option<f64>,
    /// Training FLOP per year.
    pub training_flop_per_year: Option<f64>,
    /// Serving tokens per day.
    pub serving_tokens_per_day: Option<f64>,
}

impl Planned {
    fn of(values: [f64; 4]) -> Planned {
        let known = |x: f64| x.is_finite().then_some(x);
        Planned {
            dense_params: known(values[0]),
            moe_params: known(values[1]),
            training_flop_per_year: known(values[2]),
            serving_tokens_per_day: known(values[3]),
        }
    }
}

/// The capability view of a risk run.
#[derive(Debug, Clone, Serialize)]
pub struct Capability {
    /// The inputs (the scenario's `[capability]`, else the defaults).
    pub options: CapabilityOptions,
    /// Per system type: the serving rate of the mix and why anything is unknown.
    pub systems: Vec<SystemSummary>,
    /// Samples the percentiles read.
    pub samples: u64,
    /// One row per December and per month asked.
    pub months: Vec<CapabilityMonth>,
    /// How it was computed.
    pub notes: Vec<String>,
}

/// Each tranche's site, system and facility watts per accelerator.
pub fn portfolio_sites(p: &Portfolio) -> Vec<SiteTranche> {
    p.fleet
        .tranches
        .iter()
        .enumerate()
        .map(|(t, tr)| SiteTranche {
            site: p
                .tranche_sites
                .get(t)
                .cloned()
                .flatten()
                .unwrap_or_else(|| format!("tranche:{}", tr.name)),
            system: p.tranche_systems.get(t).cloned().unwrap_or_default(),
            facility_w_per_accelerator: if tr.accelerators_per_system > 0.0 {
                tr.it_power_w_per_system * tr.pue / tr.accelerators_per_system
            } else {
                0.0
            },
        })
        .collect()
}

/// The lookup tables of a portfolio's systems (the expensive step, once per run).
pub fn build_tables(catalog: &catalog::Catalog, p: &Portfolio) -> SystemTables {
    let sites = portfolio_sites(p);
    let built: Vec<f64> = p
        .fleet
        .tranches
        .iter()
        .map(|t| t.systems as f64 * t.accelerators_per_system)
        .collect();
    let requests: Vec<TableRequest> = table_requests(
        &sites,
        &built,
        |system| {
            let accelerator = p
                .fleet
                .tranches
                .iter()
                .zip(&p.tranche_systems)
                .find(|(_, s)| s.as_str() == system)
                .map(|(t, _)| t.accelerator_id.clone())
                .unwrap_or_default();
            p.assumptions
                .iter()
                .filter_map(|a| {
                    let rest = a.name.strip_prefix("overrides.accelerator.")?;
                    let (id, key) = rest.split_once('.')?;
                    (id == accelerator).then(|| (key.to_string(), a.value))
                })
                .collect()
        },
        &p.capability,
    );
    // Points are computed when first read (by the parallel sampling loop), not all up front:
    // a small portfolio's samples read few of them (the CLI's risk tests ran in 25 s lazily
    // against 33 s with every point filled first); `SystemTables::fill` fills in parallel
    // where every point is wanted.
    SystemTables::build(catalog, &requests, &p.capability)
}

/// Reads `tables` for every sample (the run's own streams: sample `i` is stream `(seed, i)`,
/// so its deals turn out as in the main run) and each reported month.
pub fn capability(
    p: &Portfolio,
    options: &RunOptions,
    tables: &SystemTables,
) -> Option<Capability> {
    let lean = Lean::new(p)?;
    let sites = portfolio_sites(p);
    let groups = Groups::new(&sites);
    let cap = &p.capability;
    let last = lean.first.plus(lean.months as i32 - 1);
    let months = report_months(lean.first, last, cap);
    let indices: Vec<i64> = months
        .iter()
        .map(|m| i64::from(m.months_since(lean.first)))
        .collect();
    let tranches = lean.tranche_count();
    let sample_month = |s: &crate::model::Scratch, i: i64| {
        let states = month_states(tranches, i, cap, |t, j| lean.accelerators_online(s, t, j));
        measures(tables, &groups, &states)
    };
    // The plan as written.
    let mut s = lean.scratch();
    s.outcomes.fill(DealOutcome::AS_PLANNED);
    lean.apply(&mut s);
    let planned: Vec<[f64; 4]> = indices.iter().map(|&i| sample_month(&s, i)).collect();

    let n = options.samples.min(CAPABILITY_MAX_SAMPLES);
    let width = months.len() * 4;
    let base = ChaCha8Rng::seed_from_u64(options.seed);
    const CHUNK: u64 = 1024;
    // A sample's unknown measure: no finite value's key (positive f32 bits) is a NaN pattern.
    const UNKNOWN: u32 = u32::MAX;
    let chunks: Vec<Vec<u32>> = (0..n.div_ceil(CHUNK))
        .into_par_iter()
        .map(|c| {
            let start = c * CHUNK;
            let len = (n - start).min(CHUNK) as usize;
            let mut s = lean.scratch();
            let mut columns = vec![0u32; width * len];
            for j in 0..len {
                let mut rng = base.clone();
                rng.set_stream(start + j as u64);
                lean.draw(&mut rng, &mut s);
                lean.apply(&mut s);
                for (m, &i) in indices.iter().enumerate() {
                    for (k, value) in sample_month(&s, i).iter().enumerate() {
                        let col = m * 4 + k;
                        columns[col * len + j] = if value.is_finite() {
                            key(*value)
                        } else {
                            UNKNOWN
                        };
                    }
                }
            }
            columns
        })
        .collect();
    // Percentiles over the samples that know a measure, and the share that do.
    let quantiles: Vec<(Option<Quantiles>, f64)> = (0..width)
        .into_par_iter()
        .map(|col| {
            let mut column = Vec::with_capacity(n as usize);
            for (c, values) in chunks.iter().enumerate() {
                let len = ((n - c as u64 * CHUNK).min(CHUNK)) as usize;
                column.extend(
                    values[col * len..(col + 1) * len]
                        .iter()
                        .filter(|k| **k != UNKNOWN),
                );
            }
            let share = column.len() as f64 / n.max(1) as f64;
            (
                (!column.is_empty()).then(|| quantiles_of(&mut column)),
                share,
            )
        })
        .collect();
    let months = months
        .iter()
        .enumerate()
        .map(|(m, month)| CapabilityMonth {
            month: *month,
            dense_params: quantiles[m * 4].0,
            moe_params: quantiles[m * 4 + 1].0,
            training_flop_per_year: quantiles[m * 4 + 2].0,
            serving_tokens_per_day: quantiles[m * 4 + 3].0,
            planned: Planned::of(planned[m]),
            known_share: MEASURES
                .iter()
                .enumerate()
                .map(|(k, name)| (name.to_string(), quantiles[m * 4 + k].1))
                .collect(),
        })
        .collect();
    let mut notes = engine::capability::notes(cap);
    notes.push(format!(
        "Percentiles over the first {} samples of the run (each deal turns out as in the main percentiles); a measure's percentiles are over the samples in which the models can compute it, with that share beside them (`known_share`). Model error (out of sample) is not added to these percentiles.",
        units::fmt_count(n as f64)
    ));
    Some(Capability {
        options: cap.clone(),
        systems: tables.summaries(),
        samples: n,
        months,
        notes,
    })
}
