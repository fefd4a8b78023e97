//! Capability ranges: the capability measures of the month the opening quotes (the last the
//! capability section reports) over the same draws `plan` samples for `ranges`, each read from
//! the tables built for the central plan (a lookup per draw, never a layout search), then
//! widened by the models' out-of-sample errors ([`super::model_error`]).
//!
//! The draws move accelerator counts (power stack, rack power); the tables hold MFU and goodput
//! per scale, so a draw's largest run, FLOP per year and tokens per day follow its fleet. The
//! model error is a second, independent draw per range draw from its own ChaCha8 stream
//! `(seed ^ ERROR_SEED, draw)`, so the result is deterministic with `--seed`.

use std::collections::BTreeMap;

use fleet::MonthRow;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use units::Month;

use super::fleet_state::{measures, month_states, plan_sites, report_months, Groups};
use super::model_error;
use super::SystemTables;
use crate::ranges::{spread, Spread};
use crate::PlanResult;

/// Mixed into the seed of the model-error streams, so they differ from the figures' draws.
const ERROR_SEED: u64 = 0x6361_7061_6269_6c69; // "capabili"

/// The measures' names, in [`measures`] order.
pub const MEASURES: [&str; 4] = [
    "dense_params",
    "moe_params",
    "training_flop_per_year",
    "serving_tokens_per_day",
];

/// p10/p50/p90 of the capability measures in one month.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CapabilityRanges {
    /// The month (the last the capability section reports).
    pub month: Month,
    /// Parameters of the largest compute-optimal dense model.
    pub dense_params: Option<Spread>,
    /// Total parameters of the largest MoE of the stated sparsity.
    pub moe_params: Option<Spread>,
    /// Training FLOP per year of the fleet's training share.
    pub training_flop_per_year: Option<Spread>,
    /// Output tokens per day of the serving share for the reference mix.
    pub serving_tokens_per_day: Option<Spread>,
    /// Per measure, the share of draws in which the models can compute it; its percentiles are
    /// over those draws (`null` percentiles: known in none).
    pub known_share: BTreeMap<String, f64>,
    /// Mean absolute error added to training MFU (the widest among the fleet's systems).
    pub training_error: f64,
    /// Mean absolute error added to the MoE model's training MFU: the MoE rows' figure where it
    /// is wider than `training_error` (`model_error::training_error_for`).
    pub moe_training_error: f64,
    /// Mean absolute error added to the serving rate.
    pub serving_error: f64,
    /// How the ranges were made.
    pub method: String,
}

/// Reads one draw's capability measures from its timeline.
#[derive(Debug)]
pub struct DrawReader<'a> {
    tables: &'a SystemTables,
    groups: Groups,
    tranches: usize,
    month: Month,
    index: i64,
    training_error: f64,
    moe_training_error: f64,
}

impl<'a> DrawReader<'a> {
    /// A reader for `plan`'s capability month from `tables` (those the plan was built with);
    /// `None` when the plan has no month to report.
    pub fn new(tables: &'a SystemTables, plan: &PlanResult) -> Option<DrawReader<'a>> {
        let first = plan.timeline.first()?.month;
        let last = plan.timeline.last()?.month;
        let month = *report_months(first, last, &tables.options).last()?;
        let tranche_sites: Vec<Option<String>> =
            plan.tranches.iter().map(|t| t.site.clone()).collect();
        let sites = plan_sites(plan, &tranche_sites);
        let widest = |moe: bool| {
            plan.tranches
                .iter()
                .map(|t| model_error::training_error_for(&t.totals.accelerator, moe))
                .fold(0.0, f64::max)
        };
        let (training_error, moe_training_error) = (widest(false), widest(true));
        Some(DrawReader {
            tables,
            groups: Groups::new(&sites),
            tranches: sites.len(),
            month,
            index: i64::from(month.months_since(first)),
            training_error,
            moe_training_error,
        })
    }

    /// The measures of a draw whose timeline is `rows` (the same tranches as the plan's):
    /// [dense, MoE, FLOP per year, tokens per day], NaN where unknown.
    pub fn measures(&self, rows: &[MonthRow]) -> [f64; 4] {
        let states = month_states(self.tranches, self.index, &self.tables.options, |t, j| {
            rows.get(j as usize)
                .or(rows.last())
                .and_then(|r| r.by_tranche.get(t))
                .map_or(0.0, |x| x.accelerators)
        });
        measures(self.tables, &self.groups, &states)
    }

    /// The ranges over the draws' measures (in draw order), each widened by a model-error draw.
    pub fn ranges(&self, draws: &[[f64; 4]], seed: u64) -> CapabilityRanges {
        let serving_error = model_error::SERVING_LEAVE_FAMILY_OUT;
        let (sigma_train, sigma_moe, sigma_serve) = (
            model_error::sigma(self.training_error),
            model_error::sigma(self.moe_training_error),
            model_error::sigma(serving_error),
        );
        let base = ChaCha8Rng::seed_from_u64(seed ^ ERROR_SEED);
        let mut columns: [Vec<f64>; 4] = Default::default();
        for (i, values) in draws.iter().enumerate() {
            let mut rng = base.clone();
            rng.set_stream(i as u64);
            let (z_train, z_serve) = standard_normal_pair(&mut rng);
            let train = (sigma_train * z_train).exp();
            // The same draw, scaled to the MoE model's wider error: one fleet, one model error.
            let moe = (sigma_moe * z_train).exp();
            let serve = (sigma_serve * z_serve).exp();
            // Model size moves with the square root of compute, compute with MFU.
            let factors = [train.sqrt(), moe.sqrt(), train, serve];
            for (k, column) in columns.iter_mut().enumerate() {
                if values[k].is_finite() {
                    column.push(values[k] * factors[k]);
                }
            }
        }
        let n = draws.len().max(1) as f64;
        let known_share = MEASURES
            .iter()
            .zip(&columns)
            .map(|(name, c)| (name.to_string(), c.len() as f64 / n))
            .collect();
        let [dense, moe, flop, tokens] = columns.map(|c| (!c.is_empty()).then(|| spread(c)));
        CapabilityRanges {
            month: self.month,
            dense_params: dense,
            moe_params: moe,
            training_flop_per_year: flop,
            serving_tokens_per_day: tokens,
            known_share,
            training_error: self.training_error,
            moe_training_error: self.moe_training_error,
            serving_error,
            method: format!(
                "Each range draw's fleet read from the central plan's capability tables (no layout search per draw). {}",
                model_error::note()
            ),
        }
    }
}

/// Two independent standard normal draws (Box-Muller).
fn standard_normal_pair(rng: &mut ChaCha8Rng) -> (f64, f64) {
    let u1: f64 = 1.0 - rng.random::<f64>(); // (0, 1]
    let u2: f64 = rng.random();
    let r = (-2.0 * u1.ln()).sqrt();
    let angle = std::f64::consts::TAU * u2;
    (r * angle.cos(), r * angle.sin())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn box_muller_draws_are_standard_normal() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let n = 20_000;
        let (mut sum, mut sum_sq, mut abs) = (0.0, 0.0, 0.0);
        for _ in 0..n {
            let (a, b) = standard_normal_pair(&mut rng);
            for z in [a, b] {
                sum += z;
                sum_sq += z * z;
                abs += z.abs();
            }
        }
        let m = 2.0 * n as f64;
        // Mean 0, variance 1, E|z| = sqrt(2/pi) = 0.798, within sampling error (~0.01).
        assert!((sum / m).abs() < 0.02);
        assert!((sum_sq / m - 1.0).abs() < 0.03);
        assert!((abs / m - 0.7979).abs() < 0.02);
    }
}
