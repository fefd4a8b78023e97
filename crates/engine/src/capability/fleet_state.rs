//! From a fleet's tranches in one month to the capability measures: which accelerators are
//! online (not retired), which are past burn-in, the largest site of one system type, the
//! fleet's training compute and serving output. `plan` feeds it the planned timeline; `risk`
//! each sample's.

use std::collections::BTreeMap;

use rayon::prelude::*;
use serde::Serialize;
use units::Month;

use super::tables::{SystemTables, TableRequest};
use super::training::{ModelKind, TrainingAnswer};
use super::{Capability, CapabilityOptions};
use crate::capacity::tokens_per_day;
use crate::PlanResult;

/// Seconds in a year of 365.25 days.
pub const SECONDS_PER_YEAR: f64 = 365.25 * 86_400.0;

/// Where a tranche's capacity is: its site (a tranche without one is its own) and system.
#[derive(Debug, Clone, PartialEq)]
pub struct SiteTranche {
    /// Site id, or `tranche:NAME`.
    pub site: String,
    /// System id.
    pub system: String,
    /// Facility watts per accelerator when built.
    pub facility_w_per_accelerator: f64,
}

/// One tranche in one month.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct TrancheState {
    /// Accelerators online and not retired.
    pub online: f64,
    /// Of which past burn-in.
    pub stable: f64,
}

/// The tranche states of month index `i` from each tranche's cumulative accelerators brought
/// online (`cumulative(t, i)`, zero before the timeline): online = A(i) - A(i - life),
/// stable = A(i - burn-in) - A(i - life).
pub fn month_states(
    tranches: usize,
    i: i64,
    options: &CapabilityOptions,
    cumulative: impl Fn(usize, i64) -> f64,
) -> Vec<TrancheState> {
    let life = (options.service_life_years * 12.0).round() as i64;
    let burn = i64::from(options.burn_in_months);
    let at = |t: usize, j: i64| if j < 0 { 0.0 } else { cumulative(t, j) };
    (0..tranches)
        .map(|t| {
            let retired = at(t, i - life);
            TrancheState {
                online: (at(t, i) - retired).max(0.0),
                stable: if burn < life {
                    (at(t, i - burn) - retired).max(0.0)
                } else {
                    0.0
                },
            }
        })
        .collect()
}

/// The largest run of a month.
#[derive(Debug, Clone, Serialize)]
pub struct LargestRun {
    /// The site (or `tranche:NAME`; every site of the system joined by `+` across sites).
    pub site: String,
    /// The system type.
    pub system: String,
    /// Accelerators at the site past burn-in.
    pub site_accelerators: f64,
    /// Of which training (after the serving share and spares).
    pub training_accelerators: f64,
    /// Whether the run spans sites over the scenario's inter-site bandwidth.
    pub cross_site: bool,
    /// The dense model.
    pub dense: TrainingAnswer,
    /// The MoE of the stated sparsity.
    pub moe: TrainingAnswer,
}

/// Serving of one system type in a month.
#[derive(Debug, Clone, Serialize)]
pub struct SystemServingMonth {
    /// System id.
    pub system: String,
    /// Accelerators online (not retired).
    pub accelerators: f64,
    /// Output tokens per day of its serving share, for the mix.
    pub tokens_per_day: Option<f64>,
    /// Output tokens per day per MW of facility power, were all of it serving.
    pub tokens_per_day_per_mw: Option<f64>,
}

/// One month's capability.
#[derive(Debug, Clone, Serialize)]
pub struct CapabilityMonth {
    /// The month.
    pub month: Month,
    /// Accelerators online (built and not retired).
    pub accelerators_online: f64,
    /// Of which past burn-in.
    pub accelerators_stable: f64,
    /// The largest training run, or none when nothing is online.
    pub largest_run: Option<LargestRun>,
    /// Training FLOP per year of the fleet's training share at predicted MFU and goodput.
    pub training_flop_per_year: Option<f64>,
    /// Output tokens per day of the fleet's serving share for the reference mix.
    pub serving_tokens_per_day: Option<f64>,
    /// By system type.
    pub serving: Vec<SystemServingMonth>,
    /// Why a measure is unknown.
    pub unknown: Vec<String>,
}

/// The headline measures of a month, for risk's percentiles.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Measures {
    /// Parameters of the largest dense run.
    pub dense_params: Option<f64>,
    /// Total parameters of the largest MoE run.
    pub moe_params: Option<f64>,
    /// Training FLOP per year.
    pub flop_per_year: Option<f64>,
    /// Serving output tokens per day.
    pub tokens_per_day: Option<f64>,
}

/// Training accelerators from accelerators at a site: the serving share and spares removed.
fn training_share(accelerators: f64, options: &CapabilityOptions) -> f64 {
    accelerators * (1.0 - options.serving_share) / (1.0 + options.spare_fraction)
}

/// Parameters of the largest run of `kind` on a site (or `sites` sites joined) of `system`
/// with `stable` accelerators past burn-in; NaN when the models cannot compute it.
pub fn candidate_params(
    tables: &SystemTables,
    system: &str,
    stable: f64,
    sites: usize,
    kind: ModelKind,
) -> f64 {
    let options = &tables.options;
    let training = training_share(stable, options);
    let Some(x) = tables.numbers(system, training, kind) else {
        return f64::NAN;
    };
    let params = x.active * x.total_per_active;
    match options.inter_site_gbit_per_s.filter(|_| sites > 1) {
        None => params,
        Some(gbit) => {
            let peak = tables
                .systems
                .get(system)
                .and_then(|t| t.peak_bf16_flops)
                .unwrap_or(0.0);
            let kept = cross_site_kept(
                x.gpus_used,
                x.mfu,
                x.active,
                params,
                x.batch_tokens,
                sites,
                gbit,
                peak,
            );
            let active = (x.compute * kept / (6.0 * options.tokens_per_parameter)).sqrt();
            active * (params / x.active)
        }
    }
}

/// The index of the largest run among candidates (system, stable accelerators, sites joined):
/// the most dense parameters; where none can be computed, the most peak FLOP/s (its answer
/// then says why it is unknown). Ties go to the first.
fn choose(
    tables: &SystemTables,
    candidates: &[(&str, f64, usize)],
    dense_params: impl Fn(usize) -> f64,
) -> Option<usize> {
    let mut best: Option<(usize, f64)> = None;
    for (i, (_, stable, _)) in candidates.iter().enumerate() {
        if *stable <= 0.0 {
            continue;
        }
        let value = dense_params(i);
        if value.is_finite() && best.is_none_or(|(_, b)| value > b) {
            best = Some((i, value));
        }
    }
    if let Some((i, _)) = best {
        return Some(i);
    }
    let peak = |system: &str| {
        tables
            .systems
            .get(system)
            .and_then(|t| t.peak_bf16_flops)
            .unwrap_or(1.0)
    };
    let mut best: Option<(usize, f64)> = None;
    for (i, (system, stable, _)) in candidates.iter().enumerate() {
        let value = stable * peak(system);
        if *stable > 0.0 && best.is_none_or(|(_, b)| value > b) {
            best = Some((i, value));
        }
    }
    best.map(|(i, _)| i)
}

/// The site (and system) of the largest run: (site, system, stable accelerators, cross-site).
fn largest_site(
    tables: &SystemTables,
    sites: &[SiteTranche],
    states: &[TrancheState],
) -> Option<(String, String, f64, bool)> {
    let mut groups: BTreeMap<(&str, &str), f64> = BTreeMap::new();
    for (s, st) in sites.iter().zip(states) {
        *groups.entry((&s.site, &s.system)).or_default() += st.stable;
    }
    let mut named: Vec<(String, &str, f64, usize)> = groups
        .iter()
        .map(|((site, system), stable)| (site.to_string(), *system, *stable, 1))
        .collect();
    if tables.options.inter_site_gbit_per_s.is_some() {
        let mut by_system: BTreeMap<&str, (Vec<&str>, f64)> = BTreeMap::new();
        for ((site, system), stable) in &groups {
            if *stable > 0.0 {
                let e = by_system.entry(system).or_default();
                e.0.push(site);
                e.1 += stable;
            }
        }
        for (system, (list, stable)) in by_system {
            if list.len() > 1 {
                named.push((list.join("+"), system, stable, list.len()));
            }
        }
    }
    let candidates: Vec<(&str, f64, usize)> = named
        .iter()
        .map(|(_, system, stable, n)| (*system, *stable, *n))
        .collect();
    let i = choose(tables, &candidates, |i| {
        let (system, stable, sites) = candidates[i];
        candidate_params(tables, system, stable, sites, ModelKind::Dense)
    })?;
    let (site, system, stable, n) = named.swap_remove(i);
    Some((site, system.to_string(), stable, n > 1))
}

/// The cross-site penalty: the fraction of step time left for compute when each step's
/// gradients (2 bytes per parameter, bf16) all-reduce across `sites` over the inter-site link
/// without overlap: step / (step + 2 (k - 1) / k x bytes / link).
#[allow(clippy::too_many_arguments)]
pub fn cross_site_kept(
    gpus_used: f64,
    mfu: f64,
    active: f64,
    params: f64,
    batch_tokens: f64,
    sites: usize,
    gbit: f64,
    peak: f64,
) -> f64 {
    let k = sites as f64;
    let tokens_per_s = gpus_used * peak * mfu / (6.0 * active);
    let step_s = batch_tokens / tokens_per_s;
    let exchange_s = 2.0 * (k - 1.0) / k * 2.0 * params / (gbit * 1e9 / 8.0);
    step_s / (step_s + exchange_s)
}

fn cross_site_answer(
    answer: TrainingAnswer,
    sites: usize,
    options: &CapabilityOptions,
    peak: f64,
) -> TrainingAnswer {
    let (Some(mut run), Some(gbit)) = (answer.run.clone(), options.inter_site_gbit_per_s) else {
        return answer;
    };
    let kept = cross_site_kept(
        run.gpus_used,
        run.mfu,
        run.active_params,
        run.params,
        run.global_batch_tokens,
        sites,
        gbit,
        peak,
    );
    let ratio = run.params / run.active_params;
    run.compute_flop *= kept;
    run.mfu *= kept;
    run.active_params = (run.compute_flop / (6.0 * options.tokens_per_parameter)).sqrt();
    run.params = run.active_params * ratio;
    run.tokens = options.tokens_per_parameter * run.active_params;
    run.goodput_model = format!(
        "{}; across {sites} sites over {gbit} Gbit/s ({:.0}% of step time left for compute)",
        run.goodput_model,
        kept * 100.0
    );
    TrainingAnswer {
        run: Some(run),
        unknown_reason: None,
    }
}

/// One month's capability from its tranche states.
pub fn evaluate_month(
    tables: &SystemTables,
    sites: &[SiteTranche],
    month: Month,
    states: &[TrancheState],
) -> CapabilityMonth {
    let options = &tables.options;
    let mut unknown = Vec::new();
    let largest_run = largest_site(tables, sites, states).map(|(site, system, stable, cross)| {
        let training = training_share(stable, options);
        let peak = tables
            .systems
            .get(&system)
            .and_then(|t| t.peak_bf16_flops)
            .unwrap_or(0.0);
        let count = site.split('+').count();
        let mut dense = tables.run(&system, training, ModelKind::Dense);
        let mut moe = tables.run(&system, training, ModelKind::Moe);
        if cross {
            dense = cross_site_answer(dense, count, options, peak);
            moe = cross_site_answer(moe, count, options, peak);
        }
        LargestRun {
            site,
            system,
            site_accelerators: stable,
            training_accelerators: training,
            cross_site: cross,
            dense,
            moe,
        }
    });
    if let Some(run) = &largest_run {
        for (kind, answer) in [("dense", &run.dense), ("MoE", &run.moe)] {
            if let Some(reason) = &answer.unknown_reason {
                unknown.push(format!("largest {kind} run: {reason}"));
            }
        }
    }
    // Training compute: each site's training share, burn-in capacity at half.
    let mut groups: BTreeMap<(&str, &str), f64> = BTreeMap::new();
    for (s, st) in sites.iter().zip(states) {
        let burning = st.online - st.stable;
        *groups.entry((&s.site, &s.system)).or_default() += st.stable + 0.5 * burning;
    }
    let mut flop_per_year = Some(0.0);
    for ((_, system), accelerators) in &groups {
        let training = training_share(*accelerators, options);
        match tables.training_flop_per_s(system, training) {
            Ok(f) => flop_per_year = flop_per_year.map(|sum| sum + f * SECONDS_PER_YEAR),
            Err(reason) => {
                flop_per_year = None;
                unknown.push(format!("training compute on `{system}`: {reason}"));
            }
        }
    }
    // Serving, by system type.
    let mut by_system: BTreeMap<&str, (f64, f64)> = BTreeMap::new();
    for (s, st) in sites.iter().zip(states) {
        let e = by_system.entry(&s.system).or_default();
        e.0 += st.online;
        e.1 += st.online * s.facility_w_per_accelerator;
    }
    let mut serving = Vec::new();
    let mut total = Some(0.0);
    for (system, (accelerators, facility_w)) in by_system {
        let rate = tables.serving_rate(system);
        let (day, per_mw) = match &rate {
            Ok(r) => (
                Some(tokens_per_day(
                    r * accelerators * options.serving_share,
                    options.mean_to_peak,
                )),
                (facility_w > 0.0).then(|| {
                    tokens_per_day(r * accelerators / (facility_w / 1e6), options.mean_to_peak)
                }),
            ),
            Err(reason) => {
                if accelerators > 0.0 {
                    unknown.push(format!("serving on `{system}`: {reason}"));
                }
                (None, None)
            }
        };
        if accelerators > 0.0 {
            total = match (total, day) {
                (Some(a), Some(b)) => Some(a + b),
                _ => None,
            };
        }
        serving.push(SystemServingMonth {
            system: system.to_string(),
            accelerators,
            tokens_per_day: day,
            tokens_per_day_per_mw: per_mw,
        });
    }
    CapabilityMonth {
        month,
        accelerators_online: states.iter().map(|s| s.online).sum(),
        accelerators_stable: states.iter().map(|s| s.stable).sum(),
        largest_run,
        training_flop_per_year: flop_per_year,
        serving_tokens_per_day: total,
        serving,
        unknown,
    }
}

impl CapabilityMonth {
    /// The headline measures.
    pub fn measures(&self) -> Measures {
        let run = self.largest_run.as_ref();
        Measures {
            dense_params: run.and_then(|r| r.dense.run.as_ref()).map(|r| r.params),
            moe_params: run.and_then(|r| r.moe.run.as_ref()).map(|r| r.params),
            flop_per_year: self.training_flop_per_year,
            tokens_per_day: self.serving_tokens_per_day,
        }
    }
}

/// The accelerator overrides a plan's scenario supplied for `accelerator` (as `infer fleet`
/// reads them from the ledger).
pub fn plan_overrides(plan: &PlanResult, accelerator: &str) -> Vec<(String, f64)> {
    plan.assumptions
        .iter()
        .filter_map(|a| {
            let rest = a.name.strip_prefix("overrides.accelerator.")?;
            let (id, key) = rest.split_once('.')?;
            (id == accelerator).then(|| (key.to_string(), a.value))
        })
        .collect()
}

/// The table requests for a fleet: each system, with the most training accelerators one run
/// could use (every tranche of a site built; every site joined when runs may cross sites).
pub fn table_requests(
    sites: &[SiteTranche],
    built: &[f64],
    overrides: impl Fn(&str) -> Vec<(String, f64)>,
    options: &CapabilityOptions,
) -> Vec<TableRequest> {
    let mut groups: BTreeMap<(&str, &str), f64> = BTreeMap::new();
    let mut per_system: BTreeMap<&str, f64> = BTreeMap::new();
    for (s, n) in sites.iter().zip(built) {
        *groups.entry((&s.site, &s.system)).or_default() += n;
        *per_system.entry(&s.system).or_default() += n;
    }
    per_system
        .iter()
        .map(|(system, all)| {
            let largest = if options.inter_site_gbit_per_s.is_some() {
                *all
            } else {
                groups
                    .iter()
                    .filter(|((_, s), _)| s == system)
                    .map(|(_, n)| *n)
                    .fold(0.0, f64::max)
            };
            TableRequest {
                system: system.to_string(),
                overrides: overrides(system),
                max_gpus: training_share(largest, options),
            }
        })
        .collect()
}

/// The months reported: each December of the timeline and each month asked.
pub fn report_months(first: Month, last: Month, options: &CapabilityOptions) -> Vec<Month> {
    let mut months: Vec<Month> = (0..=last.months_since(first))
        .map(|i| first.plus(i))
        .filter(|m| m.month() == 12 || options.months.contains(m))
        .collect();
    if months.is_empty() {
        months.push(last);
    }
    months
}

/// The capability section of a plan. `tranche_sites`: each tranche's site (same order as
/// `plan.tranches`).
pub fn capability_for_plan(
    catalog: &catalog::Catalog,
    plan: &PlanResult,
    tranche_sites: &[Option<String>],
    options: &CapabilityOptions,
) -> Capability {
    capability_and_tables(catalog, plan, tranche_sites, options).0
}

/// The tables a planned `result` read for its capability section (built again; the layout
/// searches behind them are memoised per process), or `None` when it has no such section.
pub fn tables_for_plan(catalog: &catalog::Catalog, result: &PlanResult) -> Option<SystemTables> {
    let options = &result.capability.as_ref()?.options;
    let tranche_sites: Vec<Option<String>> =
        result.tranches.iter().map(|t| t.site.clone()).collect();
    Some(capability_and_tables(catalog, result, &tranche_sites, options).1)
}

/// [`capability_for_plan`] and the tables it read, for the ranges to read again per draw.
pub fn capability_and_tables(
    catalog: &catalog::Catalog,
    plan: &PlanResult,
    tranche_sites: &[Option<String>],
    options: &CapabilityOptions,
) -> (Capability, SystemTables) {
    let sites = plan_sites(plan, tranche_sites);
    let built: Vec<f64> = plan
        .tranches
        .iter()
        .map(|t| t.totals.accelerators)
        .collect();
    let requests = table_requests(
        &sites,
        &built,
        |system| {
            let accelerator = plan
                .tranches
                .iter()
                .find(|t| t.system == system)
                .map(|t| t.totals.accelerator.clone())
                .unwrap_or_default();
            plan_overrides(plan, &accelerator)
        },
        options,
    );
    let tables = SystemTables::build(catalog, &requests, options);
    (capability_from_tables(&tables, plan, &sites), tables)
}

/// Each tranche's site key, system and facility watts per accelerator.
pub fn plan_sites(plan: &PlanResult, tranche_sites: &[Option<String>]) -> Vec<SiteTranche> {
    let last = plan.timeline.last();
    plan.tranches
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let full = last.and_then(|r| r.by_tranche.get(i));
            SiteTranche {
                site: tranche_sites
                    .get(i)
                    .cloned()
                    .flatten()
                    .unwrap_or_else(|| format!("tranche:{}", t.totals.tranche)),
                system: t.system.clone(),
                facility_w_per_accelerator: full
                    .filter(|f| f.accelerators > 0.0)
                    .map_or(0.0, |f| f.facility_gw * 1e9 / f.accelerators),
            }
        })
        .collect()
}

/// The capability section from built tables.
pub fn capability_from_tables(
    tables: &SystemTables,
    plan: &PlanResult,
    sites: &[SiteTranche],
) -> Capability {
    let options = &tables.options;
    let first = plan.timeline.first().map(|r| r.month);
    let last = plan.timeline.last().map(|r| r.month);
    let months = match (first, last) {
        // Months in parallel: the first read of a grid point runs its layout searches, and a
        // cold plan's months need different points (the result keeps the months' order).
        (Some(first), Some(last)) => report_months(first, last, options)
            .into_par_iter()
            .map(|month| {
                let i = i64::from(month.months_since(first));
                let states = month_states(sites.len(), i, options, |t, j| {
                    plan.timeline
                        .get(j as usize)
                        .or(plan.timeline.last())
                        .and_then(|r| r.by_tranche.get(t))
                        .map_or(0.0, |x| x.accelerators)
                });
                evaluate_month(tables, sites, month, &states)
            })
            .collect(),
        _ => Vec::new(),
    };
    Capability {
        options: options.clone(),
        systems: tables.summaries(),
        months,
        notes: super::notes(options),
    }
}

/// The fleet's tranches grouped once, for the hot loop: each tranche's (site, system) group and
/// system, in the sorted order `evaluate_month` walks its maps in, so both give the same sums.
#[derive(Debug, Clone)]
pub struct Groups {
    /// Each group's site and system index.
    groups: Vec<(String, usize)>,
    /// System ids, sorted.
    systems: Vec<String>,
    /// Each tranche's group.
    group_of: Vec<usize>,
    /// Each tranche's system index.
    system_of: Vec<usize>,
    /// Facility watts per accelerator of each tranche.
    facility_w: Vec<f64>,
}

impl Groups {
    /// Groups `sites`.
    pub fn new(sites: &[SiteTranche]) -> Groups {
        let keys: std::collections::BTreeSet<(&str, &str)> = sites
            .iter()
            .map(|s| (s.site.as_str(), s.system.as_str()))
            .collect();
        let systems: Vec<String> = sites
            .iter()
            .map(|s| s.system.clone())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let system_index = |id: &str| systems.iter().position(|s| s == id).unwrap_or(0);
        let keys: Vec<(&str, &str)> = keys.into_iter().collect();
        Groups {
            groups: keys
                .iter()
                .map(|(site, system)| (site.to_string(), system_index(system)))
                .collect(),
            group_of: sites
                .iter()
                .map(|s| {
                    keys.iter()
                        .position(|k| *k == (s.site.as_str(), s.system.as_str()))
                        .unwrap_or(0)
                })
                .collect(),
            system_of: sites.iter().map(|s| system_index(&s.system)).collect(),
            facility_w: sites.iter().map(|s| s.facility_w_per_accelerator).collect(),
            systems,
        }
    }
}

/// The headline measures from tranche states, without building a report: [dense parameters,
/// MoE parameters, training FLOP per year, serving tokens per day]; NaN where unknown, 0 where
/// nothing is online. The same arithmetic, in the same order, as [`evaluate_month`].
pub fn measures(tables: &SystemTables, groups: &Groups, states: &[TrancheState]) -> [f64; 4] {
    let options = &tables.options;
    let n = groups.groups.len();
    let mut stable = vec![0.0; n];
    let mut weighted = vec![0.0; n];
    for (t, st) in states.iter().enumerate() {
        let g = groups.group_of[t];
        stable[g] += st.stable;
        weighted[g] += st.stable + 0.5 * (st.online - st.stable);
    }
    // The largest run: the same candidates, in the same order, as evaluate_month.
    let mut candidates: Vec<(&str, f64, usize)> = groups
        .groups
        .iter()
        .enumerate()
        .map(|(g, (_, system))| (groups.systems[*system].as_str(), stable[g], 1))
        .collect();
    if options.inter_site_gbit_per_s.is_some() {
        for (system, id) in groups.systems.iter().enumerate() {
            let (mut count, mut sum) = (0usize, 0.0);
            for (g, (_, s)) in groups.groups.iter().enumerate() {
                if *s == system && stable[g] > 0.0 {
                    count += 1;
                    sum += stable[g];
                }
            }
            if count > 1 {
                candidates.push((id.as_str(), sum, count));
            }
        }
    }
    // Each single site's dense run, read once: for choosing the largest and, where nothing is
    // in burn-in, for its training compute (the same accelerators, so the same numbers).
    let single: Vec<Option<super::tables::Interpolated>> = groups
        .groups
        .iter()
        .enumerate()
        .map(|(g, (_, system))| {
            if stable[g] > 0.0 {
                tables.numbers(
                    &groups.systems[*system],
                    training_share(stable[g], options),
                    ModelKind::Dense,
                )
            } else {
                None
            }
        })
        .collect();
    let dense_of = |i: usize| {
        if i < n {
            single[i].map_or(f64::NAN, |x| x.active * x.total_per_active)
        } else {
            let (system, site_stable, sites) = candidates[i];
            candidate_params(tables, system, site_stable, sites, ModelKind::Dense)
        }
    };
    let (dense, moe) = match choose(tables, &candidates, dense_of) {
        None => (0.0, 0.0),
        Some(i) => {
            let (system, site_stable, sites) = candidates[i];
            (
                dense_of(i),
                candidate_params(tables, system, site_stable, sites, ModelKind::Moe),
            )
        }
    };
    let mut flop = 0.0;
    for (g, (_, system)) in groups.groups.iter().enumerate() {
        let training = training_share(weighted[g], options);
        if weighted[g] == stable[g] && training >= super::tables::SMALLEST_RUN {
            if let Some(x) = single[g] {
                let peak = tables.systems[&groups.systems[*system]]
                    .peak_bf16_flops
                    .unwrap_or(0.0);
                flop += training * peak * x.mfu * x.goodput * SECONDS_PER_YEAR;
                continue;
            }
        }
        match tables.training_flop_per_s(
            &groups.systems[*system],
            training_share(weighted[g], options),
        ) {
            Ok(f) => flop += f * SECONDS_PER_YEAR,
            Err(_) => flop = f64::NAN,
        }
    }
    let mut online = vec![0.0; groups.systems.len()];
    for (t, st) in states.iter().enumerate() {
        online[groups.system_of[t]] += st.online;
    }
    let _ = &groups.facility_w;
    let mut tokens = 0.0;
    for (system, accelerators) in online.iter().enumerate() {
        if *accelerators > 0.0 {
            match tables.serving_rate(&groups.systems[system]) {
                Ok(r) => {
                    tokens += tokens_per_day(
                        r * accelerators * options.serving_share,
                        options.mean_to_peak,
                    )
                }
                Err(_) => tokens = f64::NAN,
            }
        }
    }
    [dense, moe, flop, tokens]
}
