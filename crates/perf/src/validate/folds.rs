//! Fitting the global constants on some rows and predicting others: the in-sample refit,
//! leave-one-source-out and leave-one-hardware-generation-out.
//!
//! The fitted constants are the four `ModelConstants` fields fitted on the calibration set
//! (`gemm_half_dim`, `attention_fraction`, `elementwise_passes`, `overlap_compute_share`), on the same coarse grid that
//! produced the shipped defaults, minimising the mean absolute step-time error. Every grid
//! point is evaluated on every row once (an error matrix); a fold then picks the grid point with
//! the least error on its training rows only and reads its held-out rows' errors at that point.

use rayon::prelude::*;
use serde::Serialize;

use crate::step::{Hardware, ModelConstants, Strategy};
use crate::validate::metrics::Stats;
use crate::validate::predict::predict;
use crate::validate::rows::Case;
use crate::validate::uncertainty::Interval;

/// The grid the fitted constants are searched on.
#[derive(Debug, Clone, Serialize)]
pub struct Grid {
    /// GEMM half-efficiency dimensions.
    pub gemm_half_dim: Vec<f64>,
    /// Fused-attention fractions of the matmul ceiling.
    pub attention_fraction: Vec<f64>,
    /// Unfused element-wise passes per layer.
    pub elementwise_passes: Vec<f64>,
    /// Compute lost per second of hidden communication (from DeepSeek-V3's SM share, 0.15, up
    /// to SMs plus HBM contention).
    pub overlap_compute_share: Vec<f64>,
}

impl Grid {
    /// The grid the shipped defaults were fitted on (`cargo run -p engine --example calibrate`).
    pub fn shipped() -> Grid {
        Grid {
            gemm_half_dim: vec![64.0, 96.0, 128.0, 192.0, 256.0, 384.0],
            attention_fraction: vec![0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.7, 0.8],
            // Counted, not fitted (`UNFUSED_ELEMENTWISE_PASSES`): one point.
            elementwise_passes: vec![crate::train::step::UNFUSED_ELEMENTWISE_PASSES],
            // Wide enough that a fit at either end would show: from DeepSeek-V3's SM share to
            // three quarters of the hidden time lost, in steps of 0.05 from 0.3. Steps of 0.15
            // put the fit at 0.6 while the least error lay between 0.45 and 0.6, once the
            // per-node dispatchers' hidden all-to-alls took their SM share instead.
            overlap_compute_share: std::iter::once(crate::train::overlap::OVERLAP_COMPUTE_SHARE)
                .chain((6..=15).map(|twentieths| f64::from(twentieths) / 20.0))
                .collect(),
        }
    }

    /// Every grid point, the other constants taken from `base`.
    pub fn points(&self, base: &ModelConstants) -> Vec<ModelConstants> {
        let mut out = Vec::new();
        for &gemm_half_dim in &self.gemm_half_dim {
            for &attention_fraction in &self.attention_fraction {
                for &elementwise_passes in &self.elementwise_passes {
                    for &overlap_compute_share in &self.overlap_compute_share {
                        out.push(ModelConstants {
                            gemm_half_dim,
                            attention_fraction,
                            elementwise_passes,
                            overlap_compute_share,
                            ..*base
                        });
                    }
                }
            }
        }
        out
    }
}

/// Relative error of every row at every grid point (`None`: the row is not predicted).
#[derive(Debug, Clone)]
pub struct ErrorMatrix {
    /// The grid points.
    pub points: Vec<ModelConstants>,
    /// `errors[point][row]`.
    pub errors: Vec<Vec<Option<f64>>>,
}

impl ErrorMatrix {
    /// Evaluates every case (with its resolved candidate layouts) at every grid point.
    pub fn build(
        cases: &[(&Case, &Hardware, &[Strategy])],
        points: Vec<ModelConstants>,
    ) -> ErrorMatrix {
        let errors = points
            .par_iter()
            .map(|c| {
                cases
                    .iter()
                    .map(|(case, hw, candidates)| {
                        let p = predict(case, hw, candidates, c);
                        Some(p.evaluation.step_time_s / case.measured_step_time_s - 1.0)
                    })
                    .collect()
            })
            .collect();
        ErrorMatrix { points, errors }
    }

    /// The grid point with the least mean |error| over the rows `train` admits, and that error;
    /// rows outside `train` are never read.
    pub fn fit(&self, train: &dyn Fn(usize) -> bool) -> (usize, f64) {
        let (point, mae, _) = self.fit_with_ties(train);
        (point, mae)
    }

    /// [`ErrorMatrix::fit`], with every grid point whose error on those rows equals the least
    /// exactly (the first of them is the fit). More than one means the rows leave a constant
    /// undetermined: one that only rows outside `train` feel.
    pub fn fit_with_ties(&self, train: &dyn Fn(usize) -> bool) -> (usize, f64, Vec<usize>) {
        let maes: Vec<f64> = self
            .errors
            .iter()
            .map(|errors| {
                let (mut sum, mut n) = (0.0, 0usize);
                for (row, error) in errors.iter().enumerate() {
                    if let (true, Some(e)) = (train(row), error) {
                        sum += e.abs();
                        n += 1;
                    }
                }
                if n == 0 {
                    f64::INFINITY
                } else {
                    sum / n as f64
                }
            })
            .collect();
        let mut best = (0, f64::INFINITY);
        for (point, &mae) in maes.iter().enumerate() {
            if mae < best.1 {
                best = (point, mae);
            }
        }
        let ties = if best.1.is_finite() {
            (0..maes.len()).filter(|&p| maes[p] == best.1).collect()
        } else {
            Vec::new()
        };
        (best.0, best.1, ties)
    }

    /// Fits on the rows outside `held_out` and scores the rows inside it.
    pub fn hold_out(&self, name: &str, held_out: &dyn Fn(usize) -> bool) -> Fold {
        let (point, fit_mae, ties) = self.fit_with_ties(&|row| !held_out(row));
        let rows = self.errors.first().map_or(0, Vec::len);
        let fit_rows = (0..rows)
            .filter(|&r| !held_out(r) && self.errors[point][r].is_some())
            .count();
        let errors: Vec<(usize, f64)> = (0..rows)
            .filter(|&r| held_out(r))
            .filter_map(|r| self.errors[point][r].map(|e| (r, e)))
            .collect();
        let values: Vec<f64> = errors.iter().map(|e| e.1).collect();
        let stats = Stats::of(&values);
        // The held-out rows' MAE at each other tied point: how far the figure rests on the tie
        // (the fit is the first of them, so the range starts at the figure itself).
        let tied_mae = ties
            .iter()
            .filter(|&&p| p != point)
            .map(|&p| {
                let at: Vec<f64> = (0..rows)
                    .filter(|&r| held_out(r))
                    .filter_map(|r| self.errors[p][r])
                    .collect();
                Stats::of(&at).mae
            })
            .fold(
                Interval {
                    low: stats.mae,
                    high: stats.mae,
                },
                |i, m| Interval {
                    low: i.low.min(m),
                    high: i.high.max(m),
                },
            );
        // Which constants the tie leaves open: those that differ among the tied points.
        let differs = |get: fn(&ModelConstants) -> f64| {
            ties.iter()
                .any(|&p| get(&self.points[p]) != get(&self.points[point]))
        };
        let undetermined: Vec<String> = [
            ("gemm_half_dim", differs(|c| c.gemm_half_dim)),
            ("attention_fraction", differs(|c| c.attention_fraction)),
            ("elementwise_passes", differs(|c| c.elementwise_passes)),
            (
                "overlap_compute_share",
                differs(|c| c.overlap_compute_share),
            ),
        ]
        .into_iter()
        .filter(|(_, d)| *d)
        .map(|(name, _)| name.to_string())
        .collect();
        Fold {
            held_out: name.to_string(),
            fitted: Fitted::of(&self.points[point]),
            fit_rows,
            fit_mae,
            tied_points: ties.len().max(1),
            undetermined,
            tied_mae,
            stats,
            errors,
        }
    }
}

/// The fitted constants of one fold.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Fitted {
    /// GEMM half-efficiency dimension.
    pub gemm_half_dim: f64,
    /// Fused attention as a fraction of the matmul ceiling.
    pub attention_fraction: f64,
    /// Unfused element-wise passes per layer.
    pub elementwise_passes: f64,
    /// Compute lost per second of hidden communication.
    pub overlap_compute_share: f64,
}

impl Fitted {
    fn of(c: &ModelConstants) -> Fitted {
        Fitted {
            gemm_half_dim: c.gemm_half_dim,
            attention_fraction: c.attention_fraction,
            elementwise_passes: c.elementwise_passes,
            overlap_compute_share: c.overlap_compute_share,
        }
    }
}

/// One fit-and-predict split.
#[derive(Debug, Clone, Serialize)]
pub struct Fold {
    /// What was held out (a family id, a hardware generation, or `none`).
    pub held_out: String,
    /// Constants fitted without it.
    pub fitted: Fitted,
    /// Rows fitted on.
    pub fit_rows: usize,
    /// MAE on the rows fitted on.
    pub fit_mae: f64,
    /// Grid points whose error on the rows fitted on ties the fit's exactly (1: the fit is
    /// determined; more: a constant only the held-out rows feel, and the first point is taken).
    pub tied_points: usize,
    /// The held-out rows' MAE, least and greatest, over the tied points (the figure's own when
    /// nothing ties).
    pub tied_mae: Interval,
    /// The fitted constants that differ among the tied points (empty when nothing ties).
    pub undetermined: Vec<String>,
    /// Error on the held-out rows.
    #[serde(flatten)]
    pub stats: Stats,
    /// (row index, error) of each held-out row.
    #[serde(skip)]
    pub errors: Vec<(usize, f64)>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_held_out_family_is_not_used_to_fit() {
        // Two grid points, four rows; row 3 is the held-out family.
        // Point 0: training rows err 1% each, the held-out row 90%.
        // Point 1: training rows err 10% each, the held-out row 0%.
        // Fitting on rows 0-2 picks point 0 (1% < 10%), so the held-out error is 90%; had the
        // held-out row been used, the pooled MAE would be (3 x 0.01 + 0.9) / 4 = 23.25% at point
        // 0 against (3 x 0.1 + 0) / 4 = 7.5% at point 1, and point 1 would win.
        let c = ModelConstants::default();
        let m = ErrorMatrix {
            points: vec![
                c,
                ModelConstants {
                    gemm_half_dim: 1.0,
                    ..c
                },
            ],
            errors: vec![
                vec![Some(0.01), Some(-0.01), Some(0.01), Some(0.9)],
                vec![Some(0.1), Some(-0.1), Some(0.1), Some(0.0)],
            ],
        };
        let fold = m.hold_out("family", &|row| row == 3);
        assert_eq!(fold.fitted.gemm_half_dim, c.gemm_half_dim);
        assert_eq!(fold.fit_rows, 3);
        assert!((fold.fit_mae - 0.01).abs() < 1e-12);
        assert!((fold.stats.mae - 0.9).abs() < 1e-12);
        assert_eq!(m.fit(&|_| true).0, 1);
        // Whatever the held-out row's errors are, the fit does not move.
        let mut changed = m.clone();
        for point in &mut changed.errors {
            point[3] = Some(-5.0);
        }
        assert_eq!(
            changed.hold_out("family", &|row| row == 3).fitted,
            fold.fitted
        );
    }

    #[test]
    fn a_fold_says_when_its_fit_is_a_tie_and_what_the_tie_decides() {
        // Three points, three rows; row 2 is held out. Points 0 and 1 err alike on rows 0-1
        // (0.02 each: a constant only row 2 feels), point 2 errs 0.10 there. The fit is point 0
        // (the first of the tie), but row 2 reads 0.05 at point 0 and 0.30 at point 1.
        let c = ModelConstants::default();
        let m = ErrorMatrix {
            points: vec![c; 3],
            errors: vec![
                vec![Some(0.02), Some(-0.02), Some(0.05)],
                vec![Some(0.02), Some(-0.02), Some(-0.30)],
                vec![Some(0.10), Some(0.10), Some(0.0)],
            ],
        };
        let fold = m.hold_out("family", &|row| row == 2);
        assert_eq!(fold.tied_points, 2);
        assert!(
            fold.undetermined.is_empty(),
            "the three points share every constant here"
        );
        assert!((fold.stats.mae - 0.05).abs() < 1e-12);
        assert!((fold.tied_mae.low - 0.05).abs() < 1e-12);
        assert!((fold.tied_mae.high - 0.30).abs() < 1e-12);
        // Held out row 0 instead: rows 1-2 separate the points, nothing ties.
        let fold = m.hold_out("family", &|row| row == 0);
        assert_eq!(fold.tied_points, 1);
        assert_eq!(fold.tied_mae.low, fold.stats.mae);
        assert_eq!(fold.tied_mae.high, fold.stats.mae);
    }

    #[test]
    fn the_shipped_grid_has_594_points_and_keeps_other_constants() {
        // 6 x 9 x 1 x 11 = 594: the unfused element-wise passes are counted, not fitted.
        let base = ModelConstants {
            link_efficiency: 0.5,
            ..ModelConstants::default()
        };
        let points = Grid::shipped().points(&base);
        assert_eq!(points.len(), 594);
        assert!(points
            .iter()
            .all(|p| p.elementwise_passes == crate::train::step::UNFUSED_ELEMENTWISE_PASSES));
        assert!(points.iter().all(|p| p.link_efficiency == 0.5));
    }
}
