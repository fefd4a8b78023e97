//! How far the headline errors could move with another set of publications: a bootstrap over
//! source families.
//!
//! Rows of one publication share its framework version, its hardware and its way of counting,
//! so their errors move together; a bootstrap that resampled rows would treat 139 MosaicML rows
//! as 139 independent checks and report an interval far too narrow. Here the unit is the source
//! family: each resample draws as many families as there are, with replacement, and pools their
//! rows (or averages their MAEs, for the macro-average). The interval is the 5th to 95th
//! percentile of the resampled figure. With nine families it is wide, and that is the point: it
//! says how much of the gap between a figure and its target is the choice of publications.
//! The rows' errors are resampled as the run computed them, at the run's fitted constants;
//! `refitted` beside them refits the constants in every resample ([`super::refitted`]), so the
//! fit's own variability is in those intervals too.
//!
//! Deterministic: a fixed seed and a hand-written SplitMix64 (no dependency; the same bytes on
//! every platform), so the report is the same on every run.

use serde::Serialize;

use super::metrics::quantile;
use super::refitted::{refitted_bootstrap, RefitSums, Refitted};

/// Resamples drawn for each interval.
pub const RESAMPLES: usize = 2000;
/// The interval's coverage (5th to 95th percentile).
pub const LEVEL: f64 = 0.9;
/// The generator's seed (any fixed value: the interval must not change from run to run).
pub const SEED: u64 = 0x6769_6761_7761_7474; // "gigawatt"

/// A percentile interval of a resampled figure.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Interval {
    pub low: f64,
    pub high: f64,
}

impl Interval {
    /// The interval as percentages, "4.7-8.5%" (the table and the HTML page print it so).
    pub fn percent_text(&self) -> String {
        format!("{:.1}-{:.1}%", 100.0 * self.low, 100.0 * self.high)
    }
}

/// The headline figures' intervals.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Uncertainty {
    /// How the intervals were drawn, in words.
    pub method: String,
    pub resamples: usize,
    pub level: f64,
    pub seed: u64,
    /// Source families with compared rows (the units resampled).
    pub families: usize,
    /// MAE over every row, leave one source out.
    pub loso: Interval,
    /// MAE over every row with the shipped constants.
    pub in_sample: Interval,
    /// MAE over the Blackwell rows fitted without them (their families resampled).
    pub leave_blackwell_out: Interval,
    /// The mean of the families' in-sample MAEs.
    pub macro_average: Interval,
    /// The same four with the constants refitted in every resample.
    pub refitted: Refitted,
}

/// What a resample of families is summarised into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Figure {
    /// Mean |error| over the pooled rows of the drawn families.
    PooledMae,
    /// Mean over the drawn families of each family's MAE.
    MacroMae,
}

/// SplitMix64 (Steele, Lea and Flood 2014): a 64-bit state advanced by a fixed odd constant and
/// mixed; good enough to draw family indices, and the same on every platform.
pub(super) struct SplitMix64(pub(super) u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform index below `n` (`n` > 0), by the high half of a 128-bit product.
    pub(super) fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }
}

/// The `level` percentile interval of `figure` over `resamples` draws of `groups` (each a
/// family's signed errors; empty families are dropped). No family: a zero interval.
pub fn family_bootstrap(
    groups: &[Vec<f64>],
    figure: Figure,
    resamples: usize,
    seed: u64,
    level: f64,
) -> Interval {
    let groups: Vec<(f64, usize)> = groups
        .iter()
        .filter(|g| !g.is_empty())
        .map(|g| (g.iter().map(|e| e.abs()).sum::<f64>(), g.len()))
        .collect();
    if groups.is_empty() || resamples == 0 {
        return Interval::default();
    }
    let mut rng = SplitMix64(seed);
    let mut figures: Vec<f64> = (0..resamples)
        .map(|_| {
            let (mut sum, mut rows, mut macro_sum) = (0.0, 0usize, 0.0);
            for _ in 0..groups.len() {
                let (abs_sum, n) = groups[rng.below(groups.len())];
                sum += abs_sum;
                rows += n;
                macro_sum += abs_sum / n as f64;
            }
            match figure {
                Figure::PooledMae => sum / rows as f64,
                Figure::MacroMae => macro_sum / groups.len() as f64,
            }
        })
        .collect();
    percentile_interval(&mut figures, level)
}

/// The `level` percentile interval of `values` (sorted in place); no value: a zero interval.
pub(super) fn percentile_interval(values: &mut [f64], level: f64) -> Interval {
    if values.is_empty() {
        return Interval::default();
    }
    values.sort_by(f64::total_cmp);
    let tail = (1.0 - level.clamp(0.0, 1.0)) / 2.0;
    Interval {
        low: quantile(values, tail),
        high: quantile(values, 1.0 - tail),
    }
}

/// The intervals of the headline figures from each family's errors: in sample, left out, and
/// (for the Blackwell rows only) fitted without Blackwell.
pub fn uncertainty(
    in_sample: &[Vec<f64>],
    loso: &[Vec<f64>],
    blackwell_left_out: &[Vec<f64>],
    refit_sums: &RefitSums,
) -> Uncertainty {
    let draw =
        |groups: &[Vec<f64>], figure| family_bootstrap(groups, figure, RESAMPLES, SEED, LEVEL);
    Uncertainty {
        method: format!(
            "source families resampled with replacement {RESAMPLES} times (seed {SEED:#x}); the {:.0}th to {:.0}th percentile of each figure",
            50.0 * (1.0 - LEVEL),
            100.0 - 50.0 * (1.0 - LEVEL)
        ),
        resamples: RESAMPLES,
        level: LEVEL,
        seed: SEED,
        families: in_sample.iter().filter(|g| !g.is_empty()).count(),
        loso: draw(loso, Figure::PooledMae),
        in_sample: draw(in_sample, Figure::PooledMae),
        leave_blackwell_out: draw(blackwell_left_out, Figure::PooledMae),
        macro_average: draw(in_sample, Figure::MacroMae),
        refitted: refitted_bootstrap(refit_sums, RESAMPLES, SEED, LEVEL),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_interval_prints_as_percentages() {
        // 0.04749 and 0.08511 round to 4.7 and 8.5.
        let i = Interval {
            low: 0.04749,
            high: 0.08511,
        };
        assert_eq!(i.percent_text(), "4.7-8.5%");
    }

    #[test]
    fn one_family_has_no_spread() {
        // Every resample draws the one family: MAE (0.1 + 0.3) / 2 = 0.2 each time.
        let i = family_bootstrap(&[vec![0.1, -0.3]], Figure::PooledMae, 500, 7, 0.9);
        assert!(
            (i.low - 0.2).abs() < 1e-12 && (i.high - 0.2).abs() < 1e-12,
            "{i:?}"
        );
        let m = family_bootstrap(&[vec![0.1, -0.3]], Figure::MacroMae, 500, 7, 0.9);
        assert_eq!(i, m);
    }

    #[test]
    fn families_of_equal_error_have_no_spread_however_many_rows() {
        // Two families both at MAE 0.05 (one row, and four rows): any mix pools to 0.05.
        let groups = [vec![0.05], vec![-0.05, 0.05, 0.05, -0.05]];
        let i = family_bootstrap(&groups, Figure::PooledMae, 1000, 1, 0.9);
        assert!((i.low - 0.05).abs() < 1e-12 && (i.high - 0.05).abs() < 1e-12);
    }

    #[test]
    fn the_interval_spans_between_the_best_and_worst_family() {
        // Families at MAE 0.02, 0.06 and 0.20: a resample of three can be all-best (0.02) or
        // all-worst (0.20) but nothing outside; with 2,000 draws the 90% interval sits strictly
        // inside and contains the pooled figure of the three, (0.02 + 0.06 + 0.20) / 3 = 0.0933.
        let groups = [vec![0.02], vec![-0.06], vec![0.20]];
        for figure in [Figure::PooledMae, Figure::MacroMae] {
            let i = family_bootstrap(&groups, figure, RESAMPLES, SEED, LEVEL);
            assert!(
                0.02 < i.low && i.low < 0.0933 && 0.0933 < i.high && i.high < 0.20,
                "{i:?}"
            );
        }
    }

    #[test]
    fn a_big_family_weighs_its_rows_pooled_and_counts_once_in_the_macro() {
        // A 100-row family at 0.01 and a 1-row family at 0.5. Pooled, a resample's MAE is near
        // 0.01 unless it draws the small family twice (1/4 of draws: 0.5). Macro: 0.01, 0.255 or
        // 0.5 with probabilities 1/4, 1/2, 1/4, so the 90% interval runs from 0.01 to 0.5.
        let groups = [vec![0.01; 100], vec![0.5]];
        let pooled = family_bootstrap(&groups, Figure::PooledMae, RESAMPLES, SEED, LEVEL);
        let macro_ = family_bootstrap(&groups, Figure::MacroMae, RESAMPLES, SEED, LEVEL);
        assert!((pooled.low - 0.01).abs() < 1e-12, "{pooled:?}");
        assert!((pooled.high - 0.5).abs() < 1e-12, "{pooled:?}");
        assert!((macro_.low - 0.01).abs() < 1e-12 && (macro_.high - 0.5).abs() < 1e-12);
    }

    #[test]
    fn same_seed_same_interval_and_empty_input_is_zero() {
        let groups = [vec![0.02, 0.04], vec![-0.06], vec![0.20, 0.1, -0.3]];
        let a = family_bootstrap(&groups, Figure::PooledMae, 300, 42, 0.9);
        let b = family_bootstrap(&groups, Figure::PooledMae, 300, 42, 0.9);
        assert_eq!(a, b);
        assert_eq!(
            family_bootstrap(&[], Figure::PooledMae, 300, 42, 0.9),
            Interval::default()
        );
        assert_eq!(
            family_bootstrap(&[vec![], vec![]], Figure::MacroMae, 300, 42, 0.9),
            Interval::default()
        );
        assert_eq!(
            family_bootstrap(&groups, Figure::MacroMae, 0, 42, 0.9),
            Interval::default()
        );
    }

    #[test]
    fn draws_are_uniform_over_the_families() {
        // 30,000 draws over 3 families: each about 10,000 (a binomial's sd is ~82).
        let mut rng = SplitMix64(SEED);
        let mut counts = [0usize; 3];
        for _ in 0..30_000 {
            counts[rng.below(3)] += 1;
        }
        assert!(
            counts.iter().all(|&c| (9_600..10_400).contains(&c)),
            "{counts:?}"
        );
    }
}
