//! Closed forms the simulator is checked against, and that callers (`gigawatt train`) can use
//! without simulating.

use crate::model::Config;

/// Young's optimal checkpoint interval, hours: sqrt(2 C M), for a checkpoint cost C and a
/// mean time to interruption M (both hours). Young (1974), "A first order approximation to the
/// optimum checkpoint interval".
pub fn young_daly_interval_hours(checkpoint_cost_hours: f64, mtti_hours: f64) -> f64 {
    (2.0 * checkpoint_cost_hours * mtti_hours).sqrt()
}

/// Daly's higher-order optimum (Daly 2006, "A higher order estimate of the optimum checkpoint
/// interval for restart dumps"), hours: for C < 2M,
/// sqrt(2CM) (1 + sqrt(C/2M)/3 + (C/2M)/9) - C; else M.
pub fn daly_interval_hours(checkpoint_cost_hours: f64, mtti_hours: f64) -> f64 {
    let (c, m) = (checkpoint_cost_hours, mtti_hours);
    if c < 2.0 * m {
        let x = c / (2.0 * m);
        (2.0 * c * m).sqrt() * (1.0 + x.sqrt() / 3.0 + x / 9.0) - c
    } else {
        m
    }
}

/// Mean time to (unexpected) interruption of the whole job, hours: 1 / sum of class rates.
/// Infinite when nothing fails.
pub fn mtti_hours(cfg: &Config) -> f64 {
    1.0 / cfg.failure_rate_per_hour()
}

/// Expected effective training time ratio for exponential failures, enough spares and
/// checkpoint interval `interval_hours` (the rest from `cfg`), with
/// M = MTTI, D = detection, R = restart (interrupted by failures), C = stall,
/// W = write (the exposure: the work since the last durable checkpoint), tau = interval:
///
/// expected wall time per segment of tau work (Daly 2006, extended with a detection time that
/// failures do not interrupt) = (M + D) e^(R/M) (e^((tau + W)/M) - 1) - (W - C) (when
/// asynchronous, the write overlaps the next segment's compute), and planned maintenance
/// costs (W + R) at rate p on top. To first order in 1/M this is
/// 1 - C/tau - (D + R + (tau + W)/2)/M for small losses.
pub fn expected_ettr_at(cfg: &Config, interval_hours: f64) -> f64 {
    let m = mtti_hours(cfg);
    let ckpt = cfg.checkpoint;
    let (tau, c, w) = (interval_hours, ckpt.stall_hours, ckpt.write_hours);
    let planned_overhead = cfg.planned_per_hour * (w + cfg.restart_hours);
    let unexpected = if m.is_finite() {
        // Failure-free segment: tau of work then the stall; with async writes the work is
        // exposed until the write completes, W - C into the next segment.
        let exposed = tau + w;
        let per_segment =
            (m + cfg.detection_hours) * (cfg.restart_hours / m).exp() * (exposed / m).exp_m1()
                - (w - c);
        tau / per_segment
    } else {
        tau / (tau + c)
    };
    (unexpected * (1.0 - planned_overhead)).clamp(0.0, 1.0)
}

/// [`expected_ettr_at`] at the configured interval.
pub fn expected_ettr(cfg: &Config) -> f64 {
    expected_ettr_at(cfg, cfg.checkpoint.interval_hours)
}

/// The interval that maximises [`expected_ettr_at`], hours (golden-section search between
/// a hundredth and a hundred times the Young interval). With no failures, `None`.
pub fn optimal_interval_hours(cfg: &Config) -> Option<f64> {
    let m = mtti_hours(cfg);
    let cost = cfg.checkpoint.stall_hours.max(1e-6);
    if !m.is_finite() {
        return None;
    }
    let young = young_daly_interval_hours(cost, m);
    let (mut a, mut b) = ((young / 100.0).ln(), (young * 100.0).ln());
    let phi = (5f64.sqrt() - 1.0) / 2.0;
    let f = |x: f64| -expected_ettr_at(cfg, x.exp());
    let mut x1 = b - phi * (b - a);
    let mut x2 = a + phi * (b - a);
    let (mut f1, mut f2) = (f(x1), f(x2));
    for _ in 0..100 {
        if f1 < f2 {
            b = x2;
            x2 = x1;
            f2 = f1;
            x1 = b - phi * (b - a);
            f1 = f(x1);
        } else {
            a = x1;
            x1 = x2;
            f1 = f2;
            x2 = a + phi * (b - a);
            f2 = f(x2);
        }
    }
    Some(((a + b) / 2.0).exp())
}

/// Gamma function for x > 0 (Lanczos, g = 7, 9 terms; relative error ~1e-15).
pub fn gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection: Gamma(x) Gamma(1 - x) = pi / sin(pi x).
        return std::f64::consts::PI / ((std::f64::consts::PI * x).sin() * gamma(1.0 - x));
    }
    let x = x - 1.0;
    let mut a = C[0];
    let t = x + G + 0.5;
    for (i, c) in C.iter().enumerate().skip(1) {
        a += c / (x + i as f64);
    }
    (2.0 * std::f64::consts::PI).sqrt() * t.powf(x + 0.5) * (-t).exp() * a
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn job(mtti_hours: f64, restart: f64, write: f64, interval: f64) -> Config {
        crate::reference::exponential_job(mtti_hours, restart, write, interval, 1000.0, 1, 1)
    }

    #[test]
    fn young_interval_by_hand() {
        // C = 0.05 h (3 min), M = 3 h: sqrt(2 x 0.05 x 3) = sqrt(0.3) = 0.5477 h = 32.9 min.
        assert!((young_daly_interval_hours(0.05, 3.0) - 0.547_72).abs() < 1e-4);
        // Daly: x = 0.05/6 = 0.008333; sqrt(x) = 0.091287;
        // 0.547723 (1 + 0.030429 + 0.000926) - 0.05 = 0.564897 - 0.05 = 0.514897 h.
        assert!((daly_interval_hours(0.05, 3.0) - 0.514_90).abs() < 1e-4);
    }

    #[test]
    fn ettr_first_order_by_hand() {
        // M = 100 h, R = 0.1 h, C = 0.01 h, tau = 1 h:
        // first order 1 - C/tau - (R + (tau + C)/2)/M = 1 - 0.01 - 0.00605 = 0.98395.
        // exact: tau / (M e^(R/M) (e^((tau+C)/M) - 1))
        //      = 1 / (100 x 1.0010005 x 0.0101512) = 1 / 1.0161369 = 0.98412.
        let cfg = job(100.0, 0.1, 0.01, 1.0);
        let e = expected_ettr(&cfg);
        assert!((e - 0.984_12).abs() < 1e-4, "{e}");
        assert!((e - 0.98395).abs() < 5e-4);
    }

    #[test]
    fn the_closed_form_optimum_is_near_young() {
        // Small C/M: the optimum tends to Young's sqrt(2CM) (Daly's correction is small).
        let cfg = job(100.0, 0.1, 0.01, 1.0);
        let best = optimal_interval_hours(&cfg).unwrap();
        let young = young_daly_interval_hours(0.01, 100.0); // sqrt(2) = 1.414 h
        assert!((best / young - 1.0).abs() < 0.05, "{best} vs {young}");
    }

    #[test]
    fn gamma_matches_known_values() {
        // Gamma(1) = 1, Gamma(5) = 24, Gamma(0.5) = sqrt(pi), Gamma(1.5) = sqrt(pi)/2.
        assert!((gamma(1.0) - 1.0).abs() < 1e-12);
        assert!((gamma(5.0) - 24.0).abs() < 1e-9);
        assert!((gamma(0.5) - std::f64::consts::PI.sqrt()).abs() < 1e-12);
        assert!((gamma(1.5) - std::f64::consts::PI.sqrt() / 2.0).abs() < 1e-12);
    }
}
