//! The family bootstrap with the fit inside it: each resample of source families refits the
//! constants on its own rows before scoring them, so the intervals carry the fit's own
//! variability as well as the choice of publications.
//!
//! [`super::uncertainty`] resamples the errors the run computed, at the run's fitted constants.
//! A fair question is whether another set of publications would also have fitted other
//! constants, and how much of the headline the fit would then win back or lose. Refitting costs
//! little here: the run has every row's error at every grid point ([`ErrorMatrix`]), so per grid
//! point and family the sum of |error| and the row count are computed once ([`FamilySums`]),
//! and a resample, whose families are drawn with multiplicity, refits by weighting those sums:
//! the grid point with the least pooled MAE over its rows is
//! `argmin_g sum_f w_f S[g][f] / sum_f w_f n[g][f]`, the same rule as [`ErrorMatrix::fit`].
//! Leave one source out inside a resample removes one family's weight at a time; leave
//! Blackwell out fits on the drawn families' A100/H100 rows and scores their Blackwell rows
//! (a resample that draws no family with Blackwell rows has no such figure and is skipped for
//! it). With every weight 1 the four figures are the run's own ([`figures`]; a unit test).
//!
//! Deterministic: the draws come from the same seeded SplitMix64 as the plain bootstrap, all
//! drawn before any is scored, so the scoring may run in parallel and still give the same bytes.

use rayon::prelude::*;
use serde::Serialize;

use super::folds::ErrorMatrix;
use super::uncertainty::{percentile_interval, Interval, SplitMix64};

/// Per grid point and family: the sum of |error| and the number of rows, over the rows a filter
/// admits.
#[derive(Debug, Clone, PartialEq)]
pub struct FamilySums {
    /// `abs_sum[point][family]`.
    pub abs_sum: Vec<Vec<f64>>,
    /// `rows[point][family]`.
    pub rows: Vec<Vec<usize>>,
}

impl FamilySums {
    /// Sums `matrix`'s errors by family (`family_of_row[row]`, below `families`) over the rows
    /// `admit` lets in.
    pub fn of(
        matrix: &ErrorMatrix,
        family_of_row: &[usize],
        families: usize,
        admit: &dyn Fn(usize) -> bool,
    ) -> FamilySums {
        let mut abs_sum = vec![vec![0.0; families]; matrix.errors.len()];
        let mut rows = vec![vec![0usize; families]; matrix.errors.len()];
        for (point, errors) in matrix.errors.iter().enumerate() {
            for (row, error) in errors.iter().enumerate() {
                if let (true, Some(e)) = (admit(row), error) {
                    abs_sum[point][family_of_row[row]] += e.abs();
                    rows[point][family_of_row[row]] += 1;
                }
            }
        }
        FamilySums { abs_sum, rows }
    }

    fn points(&self) -> usize {
        self.abs_sum.len()
    }

    /// The weighted pooled MAE at `point`, leaving out `skip`'s weight (`None`: none left out);
    /// infinite with no rows.
    fn mae(&self, point: usize, weights: &[f64], skip: Option<usize>) -> f64 {
        let (mut sum, mut rows) = (0.0, 0.0);
        for (family, &w) in weights.iter().enumerate() {
            if Some(family) != skip && w > 0.0 {
                sum += w * self.abs_sum[point][family];
                rows += w * self.rows[point][family] as f64;
            }
        }
        if rows > 0.0 {
            sum / rows
        } else {
            f64::INFINITY
        }
    }

    /// The grid point with the least weighted MAE (the first on a tie, as [`ErrorMatrix::fit`]);
    /// `None` when no point has a row.
    fn fit(&self, weights: &[f64], skip: Option<usize>) -> Option<usize> {
        let mut best: Option<(usize, f64)> = None;
        for point in 0..self.points() {
            let mae = self.mae(point, weights, skip);
            if mae.is_finite() && best.is_none_or(|(_, b)| mae < b) {
                best = Some((point, mae));
            }
        }
        best.map(|(point, _)| point)
    }
}

/// The error sums a refitting bootstrap reads.
#[derive(Debug, Clone, PartialEq)]
pub struct RefitSums {
    /// Every compared row.
    pub all: FamilySums,
    /// The rows of the generations leave-Blackwell-out fits on (A100, H100).
    pub older: FamilySums,
    /// The Blackwell rows.
    pub blackwell: FamilySums,
}

/// One resample's figures, each refitted on the resample's own rows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Figures {
    /// Leave one source out, pooled over the drawn rows.
    pub loso: f64,
    /// The refit on every drawn row, scored on them.
    pub in_sample: f64,
    /// Fitted on the drawn A100/H100 rows, scored on the drawn Blackwell rows (`None`: no
    /// Blackwell row drawn).
    pub leave_blackwell_out: Option<f64>,
    /// The mean over the drawn families of each one's MAE at the in-sample refit.
    pub macro_average: f64,
}

/// The four figures for families drawn with `weights` (how many times each was drawn); `None`
/// when the draw has no row at all.
pub fn figures(sums: &RefitSums, weights: &[f64]) -> Option<Figures> {
    let all = &sums.all;
    let fit = all.fit(weights, None)?;
    let in_sample = all.mae(fit, weights, None);
    let drawn: Vec<usize> = (0..weights.len())
        .filter(|&f| weights[f] > 0.0 && all.rows[fit][f] > 0)
        .collect();
    let macro_average = drawn
        .iter()
        .map(|&f| weights[f] * all.abs_sum[fit][f] / all.rows[fit][f] as f64)
        .sum::<f64>()
        / drawn.iter().map(|&f| weights[f]).sum::<f64>();
    // Each drawn family scored at the fit on the others; a draw of one family alone has no
    // others and keeps the draw's own fit. The others' sums are added up afresh for each
    // family rather than taken as the draw's totals less the family's own: grid points often
    // tie exactly on the others (a constant their rows do not feel, as the overlap share on
    // families without hidden traffic), the first of them must win as in `ErrorMatrix::fit`,
    // and a subtraction's rounding would break those ties at random (tried: 735 of the
    // shipped run's left-out fits moved, and the interval's top from 9.2% to 11.7%).
    let (mut loso_sum, mut loso_rows) = (0.0, 0.0);
    for &f in &drawn {
        let point = all.fit(weights, Some(f)).unwrap_or(fit);
        loso_sum += weights[f] * all.abs_sum[point][f];
        loso_rows += weights[f] * all.rows[point][f] as f64;
    }
    let leave_blackwell_out = sums.older.fit(weights, None).and_then(|point| {
        let mae = sums.blackwell.mae(point, weights, None);
        mae.is_finite().then_some(mae)
    });
    Some(Figures {
        loso: loso_sum / loso_rows,
        in_sample,
        leave_blackwell_out,
        macro_average,
    })
}

/// The headline figures' intervals with the constants refitted in every resample.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Refitted {
    /// How the intervals were drawn, in words.
    pub method: String,
    /// MAE over every row, leave one source out, each fold refitted on the resample.
    pub loso: Interval,
    /// MAE over every row at the resample's own refit.
    pub in_sample: Interval,
    /// MAE over the Blackwell rows at the fit on the resample's A100/H100 rows.
    pub leave_blackwell_out: Interval,
    /// The mean of the drawn families' MAEs at the resample's own refit.
    pub macro_average: Interval,
}

/// Draws `resamples` resamples of the families that have rows (as many families as there are,
/// with replacement) and returns the `level` percentile interval of each figure.
pub fn refitted_bootstrap(sums: &RefitSums, resamples: usize, seed: u64, level: f64) -> Refitted {
    let families = sums.all.abs_sum.first().map_or(0, Vec::len);
    let with_rows: Vec<usize> = (0..families)
        .filter(|&f| sums.all.rows.iter().any(|r| r[f] > 0))
        .collect();
    let method = format!(
        "as the plain intervals, but each of the {resamples} resamples refits the constants on its own rows (the grid's least pooled MAE over the drawn families; each left-out family at the fit on the other drawn families; leave Blackwell out at the fit on the drawn A100/H100 rows, skipping draws without a Blackwell row)"
    );
    if with_rows.is_empty() || resamples == 0 {
        return Refitted {
            method,
            loso: Interval::default(),
            in_sample: Interval::default(),
            leave_blackwell_out: Interval::default(),
            macro_average: Interval::default(),
        };
    }
    let mut rng = SplitMix64(seed);
    let draws: Vec<Vec<f64>> = (0..resamples)
        .map(|_| {
            let mut weights = vec![0.0; families];
            for _ in 0..with_rows.len() {
                weights[with_rows[rng.below(with_rows.len())]] += 1.0;
            }
            weights
        })
        .collect();
    let scored: Vec<Figures> = draws
        .par_iter()
        .filter_map(|weights| figures(sums, weights))
        .collect();
    let interval = |pick: &dyn Fn(&Figures) -> Option<f64>| {
        let mut values: Vec<f64> = scored.iter().filter_map(pick).collect();
        percentile_interval(&mut values, level)
    };
    Refitted {
        method,
        loso: interval(&|f| Some(f.loso)),
        in_sample: interval(&|f| Some(f.in_sample)),
        leave_blackwell_out: interval(&|f| f.leave_blackwell_out),
        macro_average: interval(&|f| Some(f.macro_average)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::step::ModelConstants;

    /// Two grid points, three families; family 2's rows are Blackwell.
    ///
    /// Rows: 0, 1 in family 0; 2 in family 1; 3 in family 2 (Blackwell).
    /// Point 0 errors: 0.02, 0.02, 0.30, 0.10. Point 1: 0.10, 0.10, 0.04, 0.01.
    fn example() -> (RefitSums, ErrorMatrix) {
        let c = ModelConstants::default();
        let matrix = ErrorMatrix {
            points: vec![
                c,
                ModelConstants {
                    gemm_half_dim: 1.0,
                    ..c
                },
            ],
            errors: vec![
                vec![Some(0.02), Some(-0.02), Some(0.30), Some(0.10)],
                vec![Some(0.10), Some(-0.10), Some(0.04), Some(-0.01)],
            ],
        };
        let family = [0, 0, 1, 2];
        let blackwell = |r: usize| r == 3;
        let sums = RefitSums {
            all: FamilySums::of(&matrix, &family, 3, &|_| true),
            older: FamilySums::of(&matrix, &family, 3, &|r| !blackwell(r)),
            blackwell: FamilySums::of(&matrix, &family, 3, &blackwell),
        };
        (sums, matrix)
    }

    #[test]
    fn every_weight_one_gives_the_runs_own_figures() {
        let (sums, matrix) = example();
        let f = figures(&sums, &[1.0, 1.0, 1.0]).unwrap();
        // In sample: point 0 pools (0.02 + 0.02 + 0.30 + 0.10) / 4 = 0.11, point 1 (0.10 +
        // 0.10 + 0.04 + 0.01) / 4 = 0.0625: the refit is point 1, as ErrorMatrix::fit says.
        assert_eq!(matrix.fit(&|_| true).0, 1);
        assert!((f.in_sample - 0.0625).abs() < 1e-12, "{f:?}");
        // Macro at point 1: (0.10 + 0.04 + 0.01) / 3 = 0.05.
        assert!((f.macro_average - 0.05).abs() < 1e-12, "{f:?}");
        // Leave one source out, the same folds as ErrorMatrix::hold_out:
        // family 0 out: fit on rows 2, 3: point 0 (0.30 + 0.10) / 2 = 0.2, point 1 0.025 -> 1;
        //   family 0 scores 0.10 + 0.10.
        // family 1 out: rows 0, 1, 3: point 0 0.14 / 3, point 1 0.21 / 3 -> 0; scores 0.30.
        // family 2 out: rows 0, 1, 2: point 0 0.34 / 3, point 1 0.24 / 3 -> 1; scores 0.01.
        // Pooled: (0.20 + 0.30 + 0.01) / 4 = 0.1275.
        assert!((f.loso - 0.1275).abs() < 1e-12, "{f:?}");
        let family = [0usize, 0, 1, 2];
        let pooled: f64 = (0..3)
            .flat_map(|fam| {
                matrix
                    .hold_out("f", &|r| family[r] == fam)
                    .errors
                    .into_iter()
                    .map(|(_, e)| e.abs())
            })
            .sum::<f64>()
            / 4.0;
        assert!((f.loso - pooled).abs() < 1e-12);
        // Leave Blackwell out: fit on rows 0-2, point 0 0.34 / 3 = 0.113 against point 1
        // 0.24 / 3 = 0.08 -> point 1; row 3 scores 0.01.
        let lbo = matrix.hold_out("blackwell", &|r| r == 3);
        assert!((f.leave_blackwell_out.unwrap() - lbo.stats.mae).abs() < 1e-12);
        assert!((lbo.stats.mae - 0.01).abs() < 1e-12);
    }

    #[test]
    fn a_family_drawn_twice_weighs_twice_and_can_move_the_fit() {
        let (sums, _) = example();
        // Family 0 twice, family 1 once: point 0 pools (2 x 0.04 + 0.30) / 5 = 0.076, point 1
        // (2 x 0.20 + 0.04) / 5 = 0.088: the fit moves to point 0, in sample 0.076.
        let f = figures(&sums, &[2.0, 1.0, 0.0]).unwrap();
        assert!((f.in_sample - 0.076).abs() < 1e-12, "{f:?}");
        // No Blackwell family drawn: no leave-Blackwell-out figure.
        assert_eq!(f.leave_blackwell_out, None);
        // One family alone keeps its own fit when it is left out.
        let alone = figures(&sums, &[0.0, 3.0, 0.0]).unwrap();
        assert!((alone.loso - 0.04).abs() < 1e-12, "{alone:?}");
        assert_eq!(figures(&sums, &[0.0, 0.0, 0.0]), None);
    }

    #[test]
    fn a_refit_is_never_worse_in_sample_than_any_fixed_grid_point() {
        // Whatever the draw, the refit's in-sample MAE is the least over the grid points.
        let (sums, _) = example();
        for weights in [
            [1.0, 1.0, 1.0],
            [2.0, 1.0, 0.0],
            [0.0, 1.0, 2.0],
            [3.0, 0.0, 0.0],
        ] {
            let f = figures(&sums, &weights).unwrap();
            for point in 0..2 {
                assert!(f.in_sample <= sums.all.mae(point, &weights, None) + 1e-15);
            }
        }
    }

    #[test]
    fn the_refitted_intervals_are_deterministic_and_bounded() {
        let (sums, _) = example();
        let a = refitted_bootstrap(&sums, 500, 9, 0.9);
        let b = refitted_bootstrap(&sums, 500, 9, 0.9);
        assert_eq!(a, b);
        // Every resample's refit in-sample MAE lies between the best and worst a grid point
        // can give a single family (0.01 and 0.30).
        for i in [a.in_sample, a.loso, a.macro_average, a.leave_blackwell_out] {
            assert!(0.0 < i.low && i.low <= i.high && i.high <= 0.30, "{a:?}");
        }
        let empty = refitted_bootstrap(&sums, 0, 9, 0.9);
        assert_eq!(empty.loso, Interval::default());
    }
}
