//! Sampling: N samples of the whole portfolio in parallel chunks, each sample with its own
//! ChaCha8 stream chosen by (seed, sample index), so the numbers do not depend on the number of
//! threads. Percentiles are exact (selection on per-month columns) while every column fits in
//! [`COLUMN_BUDGET_BYTES`]; beyond it (about 140,000 samples of an eight-year plan) they are
//! read from per-month histograms on a fixed grid ([`crate::histogram`]: within 0.025% of the
//! exact value), so memory stays bounded and time grows linearly with the samples, in one pass.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use catalog::{Diagnostic, Diagnostics};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use units::Month;

use crate::histogram::Histogram;
use crate::model::{DealOutcome, Lean, Portfolio};
use crate::result::{
    DealResult, DriverResult, Frequencies, Probability, Quantiles, RiskMonth, RiskResult, Tornado,
    TornadoBar,
};
use crate::{RiskError, COMMAND_LINE, SCHEMA_VERSION};

/// Most samples one run may ask for.
pub const MAX_SAMPLES: u64 = 10_000_000;
/// Samples when neither the flags nor the file say.
pub const DEFAULT_SAMPLES: u64 = 10_000;
/// Seed when neither the flags nor the file say.
pub const DEFAULT_SEED: u64 = 1;
/// The percentiles reported.
pub const PERCENTILES: [u32; 5] = [5, 10, 50, 90, 95];
/// Samples per unit of parallel work (fixed, so results do not depend on the thread count).
const CHUNK: u64 = 1024;
/// Memory for the stored monthly columns; beyond it, percentiles come from histograms.
const COLUMN_BUDGET_BYTES: u64 = 256 << 20;
/// The tornado uses at most this many samples (the first ones).
const TORNADO_MAX_SAMPLES: u64 = 1_000_000;

/// What to run.
#[derive(Debug, Clone, PartialEq)]
pub struct RunOptions {
    /// Samples of the whole portfolio.
    pub samples: u64,
    /// Seed.
    pub seed: u64,
    /// Ask P(facility GW >= .0 at the end of .1).
    pub at_least: Option<(f64, Month)>,
}

struct ChunkOut {
    /// [metric][month in pass][sample in chunk], as [`key`]s.
    columns: Vec<u32>,
    /// Per deal: proceed, cut, collapse, delayed.
    counts: Vec<[u64; 4]>,
    hits: u64,
    /// [deal][sample in chunk]: final facility GW without the deal, as [`key`]s.
    rest: Vec<u32>,
}

/// Runs the Monte Carlo. `progress(done, total)` is called as chunks of samples finish.
pub fn run(
    p: &Portfolio,
    options: &RunOptions,
    progress: &(dyn Fn(u64, u64) + Sync),
) -> Result<RiskResult, RiskError> {
    run_with_column_budget(p, options, progress, COLUMN_BUDGET_BYTES)
}

/// [`run`] with another memory budget for exact percentiles (tests compare the histogram path,
/// budget 0, with the exact one).
#[doc(hidden)]
pub fn run_with_column_budget(
    p: &Portfolio,
    options: &RunOptions,
    progress: &(dyn Fn(u64, u64) + Sync),
    column_budget_bytes: u64,
) -> Result<RiskResult, RiskError> {
    let n = options.samples;
    if n == 0 || n > MAX_SAMPLES {
        return Err(invalid(
            "--samples",
            format!("{n} samples is outside 1 to {MAX_SAMPLES}"),
            "ask for between 1 and 10,000,000 samples (10,000 gives percentiles to about 1%)",
        ));
    }
    let lean = Lean::new(p).ok_or_else(|| {
        invalid(
            "scenario",
            "the plan has no tranches to sample".into(),
            "give a plan with at least one [[tranche]]",
        )
    })?;
    let months = lean.months;
    let last = lean.first.plus(months as i32 - 1);
    let by_index = match options.at_least {
        None => None,
        Some((gw, by)) => {
            if !gw.is_finite() || gw < 0.0 {
                return Err(invalid(
                    "--at-least-gw",
                    format!("impossible value {gw}"),
                    "give a facility power in GW, 0 or more",
                ));
            }
            let i = by.months_since(lean.first);
            if i < 0 || i >= months as i32 {
                return Err(invalid(
                    "--by",
                    format!("{by} is outside the timeline ({} to {last})", lean.first),
                    format!("give a month from {} to {last}", lean.first),
                ));
            }
            Some(i as usize)
        }
    };

    let planned = fleet::plan(&p.fleet);
    let metrics = if lean.has_h100e { 5 } else { 4 };
    let column_bytes = n * metrics as u64 * months as u64 * 4;
    // Exact while the columns fit; else each chunk's columns are counted into histograms and
    // dropped. One pass either way.
    let streaming = column_bytes > column_budget_bytes;
    let histograms: Vec<Mutex<Histogram>> = if streaming {
        (0..metrics * months)
            .map(|_| Mutex::new(Histogram::default()))
            .collect()
    } else {
        Vec::new()
    };
    let months_per_pass = months;
    let passes = 1;
    let chunks = n.div_ceil(CHUNK);
    let tornado_n = n.min(TORNADO_MAX_SAMPLES);
    let deals = p.deals.len();
    let done = AtomicU64::new(0);
    let total_work = n * passes as u64;
    let base = ChaCha8Rng::seed_from_u64(options.seed);

    let mut quantiles: Vec<Vec<Quantiles>> = vec![Vec::with_capacity(months); metrics];
    let mut counts = vec![[0u64; 4]; deals];
    let mut hits = 0u64;
    let mut rest_p50 = vec![0.0f64; deals];
    for pass in 0..passes {
        let m0 = pass * months_per_pass;
        let m1 = (m0 + months_per_pass).min(months);
        let width = m1 - m0;
        let first_pass = pass == 0;
        let outs: Vec<ChunkOut> = (0..chunks)
            .into_par_iter()
            .map(|c| {
                let start = c * CHUNK;
                let len = (n - start).min(CHUNK) as usize;
                let mut s = lean.scratch();
                let stride = column_stride(len);
                let mut out = ChunkOut {
                    columns: vec![0; metrics * width * stride],
                    counts: vec![[0; 4]; if first_pass { deals } else { 0 }],
                    hits: 0,
                    rest: Vec::new(),
                };
                let tornado_len = if first_pass {
                    (tornado_n.saturating_sub(start)).min(len as u64) as usize
                } else {
                    0
                };
                out.rest = vec![0; deals * tornado_len];
                let mut per_tranche = vec![0.0f64; lean.tranche_count()];
                let everyone: Vec<usize> = (0..lean.tranche_count()).collect();
                for j in 0..len {
                    let mut rng = base.clone();
                    rng.set_stream(start + j as u64);
                    lean.draw(&mut rng, &mut s);
                    lean.apply(&mut s);
                    lean.series(&mut s);
                    let series = &s.series;
                    let sources: [&[f64]; 5] = [
                        &series.facility_gw,
                        &series.accelerators,
                        &series.capex_usd,
                        &series.financing_usd,
                        &series.h100e,
                    ];
                    for (k, source) in sources.iter().take(metrics).enumerate() {
                        for (w, value) in source[m0..m1].iter().enumerate() {
                            out.columns[(k * width + w) * stride + j] = key(*value);
                        }
                    }
                    if first_pass {
                        for (d, o) in s.outcomes.iter().enumerate() {
                            out.counts[d][o.kind as usize] += 1;
                            out.counts[d][3] += u64::from(o.delay > 0);
                        }
                        if let (Some(i), Some((gw, _))) = (by_index, options.at_least) {
                            out.hits += u64::from(series.facility_gw[i] >= gw);
                        }
                        if j < tornado_len {
                            let mut total = 0.0;
                            for (t, value) in per_tranche.iter_mut().enumerate() {
                                *value = lean.final_gw(&s, &everyone[t..t + 1]);
                                total += *value;
                            }
                            for d in 0..deals {
                                let own: f64 =
                                    lean.deal_tranches(d).iter().map(|&t| per_tranche[t]).sum();
                                out.rest[d * tornado_len + j] = key(total - own);
                            }
                        }
                    }
                }
                if streaming {
                    // Start at a column that depends on the chunk, so that threads do not
                    // queue for the same lock.
                    let columns = metrics * width;
                    for i in 0..columns {
                        let col = (i + c as usize * 7) % columns;
                        let mut h = histograms[col].lock().unwrap_or_else(|e| e.into_inner());
                        h.add_all(&out.columns[col * stride..col * stride + len]);
                    }
                    out.columns = Vec::new();
                }
                let so_far = done.fetch_add(len as u64, Ordering::Relaxed) + len as u64;
                progress(so_far, total_work);
                out
            })
            .collect();

        if first_pass {
            for out in &outs {
                hits += out.hits;
                for (d, c) in out.counts.iter().enumerate() {
                    for k in 0..4 {
                        counts[d][k] += c[k];
                    }
                }
            }
            rest_p50 = (0..deals)
                .into_par_iter()
                .map(|d| {
                    let mut column: Vec<u32> = Vec::with_capacity(tornado_n as usize);
                    for out in &outs {
                        let len = out.rest.len() / deals.max(1);
                        column.extend_from_slice(&out.rest[d * len..(d + 1) * len]);
                    }
                    quantiles_of(&mut column).p50
                })
                .collect();
        }
        let pass_quantiles: Vec<Quantiles> = if streaming {
            histograms
                .iter()
                .map(|h| quantiles_from(&h.lock().unwrap_or_else(|e| e.into_inner())))
                .collect()
        } else {
            (0..metrics * width)
                .into_par_iter()
                .map(|col| {
                    let mut column: Vec<u32> = Vec::with_capacity(n as usize);
                    for (c, out) in outs.iter().enumerate() {
                        let len = ((n - c as u64 * CHUNK).min(CHUNK)) as usize;
                        let stride = column_stride(len);
                        column.extend_from_slice(&out.columns[col * stride..col * stride + len]);
                    }
                    quantiles_of(&mut column)
                })
                .collect()
        };
        for (k, list) in quantiles.iter_mut().enumerate() {
            list.extend_from_slice(&pass_quantiles[k * width..(k + 1) * width]);
        }
    }

    let timeline: Vec<RiskMonth> = (0..months)
        .map(|i| {
            let row = &planned.rows[i];
            RiskMonth {
                month: lean.first.plus(i as i32),
                planned_facility_gw: row.facility_gw,
                planned_h100e: row.h100e,
                facility_gw: quantiles[0][i],
                accelerators: quantiles[1][i],
                capex_usd: quantiles[2][i],
                financing_usd: quantiles[3][i],
                h100e: (metrics == 5).then(|| quantiles[4][i]),
            }
        })
        .collect();

    let at_least = options.at_least.map(|(gw, by)| Probability {
        at_least_gw: gw,
        by,
        probability: hits as f64 / n as f64,
        samples_meeting: hits,
        planned_facility_gw: planned.rows[by_index.unwrap_or(0)].facility_gw,
    });

    let tornado = tornado(p, &lean, &rest_p50, timeline.last(), last, tornado_n);
    let deal_results = p
        .deals
        .iter()
        .enumerate()
        .map(|(d, deal)| {
            let share = |c: u64| c as f64 / n as f64;
            let planned_gw = lean
                .deal_tranches(d)
                .iter()
                .map(|&t| p.fleet.tranches[t].nominal_facility_w / units::W_PER_GW)
                .sum();
            DealResult {
                id: deal.id.clone(),
                name: deal.name.clone(),
                status: deal.status.clone(),
                status_as_of: deal.status_as_of.clone(),
                status_source: deal.status_source.clone(),
                outcomes_from: if deal.from_file {
                    "portfolio"
                } else {
                    "status"
                }
                .into(),
                odds: deal.odds,
                drivers: deal
                    .drivers
                    .iter()
                    .map(|&k| p.drivers[k].id.clone())
                    .collect(),
                planned_gw,
                sampled: Frequencies {
                    proceed: share(counts[d][0]),
                    cut: share(counts[d][1]),
                    collapse: share(counts[d][2]),
                    delayed: share(counts[d][3]),
                },
            }
        })
        .collect();
    let drivers = p
        .drivers
        .iter()
        .enumerate()
        .map(|(k, driver)| DriverResult {
            id: driver.id.clone(),
            weight: driver.weight,
            note: driver.note.clone(),
            deals: p
                .deals
                .iter()
                .filter(|d| d.drivers.contains(&k))
                .map(|d| d.id.clone())
                .collect(),
        })
        .collect();

    let mut warnings = p.warnings.clone();
    if metrics == 4 {
        warnings.push(
            "H100-equivalents are unknown: a chip in the plan has no public dense BF16 rate (add it under [overrides] in the plan)".into(),
        );
    }
    Ok(RiskResult {
        schema_version: SCHEMA_VERSION,
        engine_version: engine::ENGINE_VERSION.to_string(),
        catalog_version: p.catalog_version.clone(),
        portfolio: p.info.clone(),
        samples: n,
        seed: options.seed,
        elapsed_s: Some(0.0),
        percentiles: PERCENTILES.to_vec(),
        timeline,
        at_least,
        tornado,
        deals: deal_results,
        drivers,
        assumptions: p.assumptions.clone(),
        sources: p.sources.clone(),
        excluded: p.excluded.clone(),
        warnings,
        capability: None,
        notes: {
            let mut notes = notes();
            if streaming {
                notes.push(format!(
                    "With {n} samples the percentiles are read from per-month histograms (bins 1/2048 of an octave wide): each is within {:.3}% of the exact nearest-rank value.",
                    crate::histogram::RELATIVE_ERROR_BOUND * 100.0
                ));
            }
            notes
        },
        knowledge: None,
    })
}

fn notes() -> Vec<String> {
    vec![
        "Percentiles are nearest-rank over the samples, month by month: the p50 line is not one sample's path.".into(),
        "Facility power counts whole systems, so a tranche contracted as 1 GW fills slightly less than 1 GW; ask --at-least-gw 9.9 rather than 10 for a 10 GW deal.".into(),
        "A cut keeps a share of the deal's contracted GW, filling its tranches in start order; a delay shifts all of the deal's tranches and lump financing; per-GW financing pays only for GW deployed.".into(),
        "Capacity delayed beyond the end of the plan's timeline is not counted.".into(),
        "Stored values carry single precision (about 7 significant digits).".into(),
        "The capability view reads per-system lookup tables built once per run (the largest dense and MoE run from the training layout search and the reliability model, training FLOP per year, serving tokens per day from the serving model's capacity function) at each sample's accelerators, site by site, as `gigawatt plan` reads them at the planned fleet.".into(),
    ]
}

fn forced(deal: &crate::model::DealRisk, worst: bool) -> (DealOutcome, String) {
    let delay_months = |months: f64| months.round() as i32;
    if worst {
        let (kind, kept) = if deal.odds.collapse > 0.0 {
            (2, 0.0)
        } else if deal.odds.cut > 0.0 {
            (1, deal.odds.cut_kept[0])
        } else {
            (0, 1.0)
        };
        let delay = if kind != 2 && deal.odds.delay > 0.0 {
            delay_months(deal.odds.delay_months[2])
        } else {
            0
        };
        let words = match kind {
            2 => "collapses".to_string(),
            1 => format!("cut to {:.0}%, {delay} months late", kept * 100.0),
            _ => format!("in full, {delay} months late"),
        };
        let outcome = DealOutcome {
            kept,
            kind,
            delay,
            ramp_factor: Some(deal.odds.ramp_factor[2]),
        };
        (outcome, words)
    } else {
        let (kind, kept) = if deal.odds.proceed > 0.0 {
            (0, 1.0)
        } else if deal.odds.cut > 0.0 {
            (1, deal.odds.cut_kept[1])
        } else {
            (2, 0.0)
        };
        let delay = if kind != 2 && deal.odds.delay >= 1.0 {
            delay_months(deal.odds.delay_months[0])
        } else {
            0
        };
        let words = match (kind, delay) {
            (2, _) => "collapses".to_string(),
            (1, 0) => format!("cut to {:.0}%, on time", kept * 100.0),
            (1, _) => format!("cut to {:.0}%, {delay} months late", kept * 100.0),
            (_, 0) => "in full, on time".to_string(),
            _ => format!("in full, {delay} months late"),
        };
        let outcome = DealOutcome {
            kept,
            kind,
            delay,
            ramp_factor: Some(deal.odds.ramp_factor[0]),
        };
        (outcome, words)
    }
}

fn tornado(
    p: &Portfolio,
    lean: &Lean,
    rest_p50: &[f64],
    last_row: Option<&RiskMonth>,
    last: Month,
    samples_used: u64,
) -> Tornado {
    let mut s = lean.scratch();
    let mut bars: Vec<TornadoBar> = p
        .deals
        .iter()
        .enumerate()
        .map(|(d, deal)| {
            let mut at = |worst: bool| {
                let (outcome, words) = forced(deal, worst);
                s.outcomes.fill(DealOutcome::AS_PLANNED);
                s.outcomes[d] = outcome;
                lean.apply(&mut s);
                (
                    rest_p50[d] + lean.final_gw(&s, lean.deal_tranches(d)),
                    words,
                )
            };
            let (worst_p50, worst) = at(true);
            let (best_p50, best) = at(false);
            TornadoBar {
                deal: deal.id.clone(),
                worst_p50: round_f32(worst_p50),
                best_p50: round_f32(best_p50),
                swing: round_f32(best_p50 - worst_p50),
                worst,
                best,
            }
        })
        .collect();
    bars.sort_by(|a, b| {
        b.swing
            .total_cmp(&a.swing)
            .then_with(|| a.deal.cmp(&b.deal))
    });
    Tornado {
        metric: "facility_gw".into(),
        month: last,
        base_p50: last_row.map_or(0.0, |r| r.facility_gw.p50),
        samples_used,
        bars,
    }
}

fn invalid(field: &str, message: String, hint: impl Into<String>) -> RiskError {
    RiskError::Invalid(Diagnostics(vec![Diagnostic::new(COMMAND_LINE, message)
        .field(field)
        .hint(hint)]))
}

/// The shortest decimal that reads back as the same f32, as an f64: percentiles print as
/// `1.23456`, not `1.2345600128173828`.
fn round_f32(value: f64) -> f64 {
    let single = value as f32;
    single.to_string().parse().unwrap_or(value)
}

/// Distance between columns in a chunk's buffer: padded so that it is not a power of two
/// (a 4 KiB stride puts every column of a sample in the same cache set).
fn column_stride(len: usize) -> usize {
    len + 16
}

/// Nearest-rank index of percentile `p` among `n` sorted values.
fn rank(p: u32, n: usize) -> usize {
    ((p as usize * n).div_ceil(100)).max(1) - 1
}

/// A value as a sortable key: the bits of the nearest f32. Every stored quantity is a stock or
/// a running total, never negative, and the bits of non-negative floats sort like the floats;
/// a difference of sums that is negative by rounding noise (below 1e-6 of the totals) is
/// stored as 0.
pub(crate) fn key(value: f64) -> u32 {
    let single = value as f32;
    if single > 0.0 {
        single.to_bits()
    } else {
        0
    }
}

/// The reported percentiles of `values` (reordered in place).
pub(crate) fn quantiles_of(values: &mut [u32]) -> Quantiles {
    let n = values.len();
    if n == 0 {
        return Quantiles {
            p5: 0.0,
            p10: 0.0,
            p50: 0.0,
            p90: 0.0,
            p95: 0.0,
        };
    }
    let ranks: Vec<usize> = PERCENTILES.iter().map(|&p| rank(p, n)).collect();
    let mut out = [0u32; 5];
    select_many(values, 0, &ranks, &mut out);
    let q = |i: usize| round_f32(f64::from(f32::from_bits(out[i])));
    Quantiles {
        p5: q(0),
        p10: q(1),
        p50: q(2),
        p90: q(3),
        p95: q(4),
    }
}

/// The reported percentiles of the samples counted in `h` (nearest rank, read from bins).
fn quantiles_from(h: &Histogram) -> Quantiles {
    let n = h.count() as usize;
    if n == 0 {
        return Quantiles {
            p5: 0.0,
            p10: 0.0,
            p50: 0.0,
            p90: 0.0,
            p95: 0.0,
        };
    }
    let q = |p: u32| round_f32(h.value_at(rank(p, n) as u64));
    Quantiles {
        p5: q(PERCENTILES[0]),
        p10: q(PERCENTILES[1]),
        p50: q(PERCENTILES[2]),
        p90: q(PERCENTILES[3]),
        p95: q(PERCENTILES[4]),
    }
}

/// Finds the values at sorted `ranks` (absolute, `offset` is where `values` starts) by
/// recursive selection; `out[i]` receives the value of `ranks[i]`.
fn select_many(values: &mut [u32], offset: usize, ranks: &[usize], out: &mut [u32]) {
    if ranks.is_empty() {
        return;
    }
    let mid = ranks.len() / 2;
    let k = ranks[mid] - offset;
    let (lo, kth, hi) = values.select_nth_unstable(k);
    let kth = *kth;
    let (left_ranks, rest) = ranks.split_at(mid);
    let right_ranks = &rest[1..];
    let (left_out, rest_out) = out.split_at_mut(mid);
    rest_out[0] = kth;
    let right_out = &mut rest_out[1..];
    let split_left = left_ranks.partition_point(|&r| r < ranks[mid]);
    for o in &mut left_out[split_left..] {
        *o = kth;
    }
    select_many(
        lo,
        offset,
        &left_ranks[..split_left],
        &mut left_out[..split_left],
    );
    let split_right = right_ranks.partition_point(|&r| r == ranks[mid]);
    for o in &mut right_out[..split_right] {
        *o = kth;
    }
    select_many(
        hi,
        offset + k + 1,
        &right_ranks[split_right..],
        &mut right_out[split_right..],
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let mut v: Vec<u32> = (1..=100).rev().map(|i| key(i as f64)).collect();
        let q = quantiles_of(&mut v);
        assert_eq!(
            (q.p5, q.p10, q.p50, q.p90, q.p95),
            (5.0, 10.0, 50.0, 90.0, 95.0)
        );
        let mut one = vec![key(3.0)];
        let q = quantiles_of(&mut one);
        assert_eq!((q.p5, q.p95), (3.0, 3.0));
        let mut few = vec![key(2.0), key(1.0), key(3.0)];
        let q = quantiles_of(&mut few);
        assert_eq!(
            (q.p5, q.p10, q.p50, q.p90, q.p95),
            (1.0, 1.0, 2.0, 3.0, 3.0)
        );
    }

    #[test]
    fn round_f32_prints_short() {
        assert_eq!(round_f32(f64::from(1.23456f32)), 1.23456);
    }
}
