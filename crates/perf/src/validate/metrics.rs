//! Error statistics over relative errors (predicted / measured - 1).

use serde::Serialize;

/// Mean absolute error, median and 90th percentile of |error|, and bias (mean signed error).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Stats {
    /// Errors summarised.
    pub n: usize,
    /// Mean |error|.
    pub mae: f64,
    /// Median |error|.
    pub median: f64,
    /// 90th percentile of |error|.
    pub p90: f64,
    /// Mean signed error (positive: the model is slower than reality).
    pub bias: f64,
}

impl Stats {
    /// Summarises `errors` (all zeros when empty).
    pub fn of(errors: &[f64]) -> Stats {
        if errors.is_empty() {
            return Stats::default();
        }
        let n = errors.len() as f64;
        let mut abs: Vec<f64> = errors.iter().map(|e| e.abs()).collect();
        abs.sort_by(f64::total_cmp);
        Stats {
            n: errors.len(),
            mae: abs.iter().sum::<f64>() / n,
            median: quantile(&abs, 0.5),
            p90: quantile(&abs, 0.9),
            bias: errors.iter().sum::<f64>() / n,
        }
    }
}

/// The `q` quantile of sorted values, interpolating linearly between order statistics at rank
/// `q (n - 1)` (the common "type 7" definition).
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    match sorted.len() {
        0 => 0.0,
        1 => sorted[0],
        n => {
            let rank = q.clamp(0.0, 1.0) * (n - 1) as f64;
            let (lo, frac) = (rank.floor() as usize, rank.fract());
            let hi = (lo + 1).min(n - 1);
            sorted[lo] + frac * (sorted[hi] - sorted[lo])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_by_hand() {
        // errors -0.10, +0.20, -0.30, +0.40, +0.05
        // |e| sorted: 0.05 0.10 0.20 0.30 0.40
        // MAE = (0.05 + 0.10 + 0.20 + 0.30 + 0.40) / 5 = 1.05 / 5 = 0.21
        // median: rank 0.5 x 4 = 2 -> 0.20
        // p90: rank 0.9 x 4 = 3.6 -> 0.30 + 0.6 x (0.40 - 0.30) = 0.36
        // bias = (-0.10 + 0.20 - 0.30 + 0.40 + 0.05) / 5 = 0.25 / 5 = 0.05
        let s = Stats::of(&[-0.10, 0.20, -0.30, 0.40, 0.05]);
        assert_eq!(s.n, 5);
        assert!((s.mae - 0.21).abs() < 1e-12, "{s:?}");
        assert!((s.median - 0.20).abs() < 1e-12, "{s:?}");
        assert!((s.p90 - 0.36).abs() < 1e-12, "{s:?}");
        assert!((s.bias - 0.05).abs() < 1e-12, "{s:?}");
    }

    #[test]
    fn even_counts_interpolate_and_empty_is_zero() {
        // |e| 0.1 0.2 0.3 0.4: median rank 1.5 -> 0.25; p90 rank 2.7 -> 0.3 + 0.7 x 0.1 = 0.37
        let s = Stats::of(&[0.4, -0.1, 0.3, -0.2]);
        assert!((s.median - 0.25).abs() < 1e-12);
        assert!((s.p90 - 0.37).abs() < 1e-12);
        // bias (0.4 - 0.1 + 0.3 - 0.2) / 4 = 0.1
        assert!((s.bias - 0.1).abs() < 1e-12);
        assert_eq!(Stats::of(&[]), Stats::default());
        // One value: every statistic is that value's magnitude (bias keeps the sign).
        let one = Stats::of(&[-0.07]);
        assert!((one.mae - 0.07).abs() < 1e-12 && (one.p90 - 0.07).abs() < 1e-12);
        assert!((one.bias + 0.07).abs() < 1e-12);
    }
}
