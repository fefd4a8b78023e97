//! Server mode's queueing model: M/G/c over batch slots.
//!
//! Requests arrive as a Poisson process; each holds one batch slot (a place in the running batch
//! and its KV cache) from admission through prefill and its last output token; `c` slots exist
//! (the KV cache or the engine's batch limit per attention rank, times the pipeline's
//! microbatches). A request that finds every slot busy waits, and its wait is part of its time
//! to first token. Why M/G/c rather than a simulation: the targets are percentiles of a
//! stationary queue, which the Erlang-C tail gives in closed form in well under a microsecond
//! (the layout search evaluates thousands of batches); service times vary with the length
//! histogram, which the Lee-Longton correction carries (the M/M/c wait scaled by
//! `(1 + cv^2) / 2`, cv the service time's coefficient of variation). Tested against a small
//! event simulation below.

use super::arrivals::normal_quantile;

/// The Erlang-C probability that an arriving request waits, with `c` slots and an offered load
/// of `a` erlangs (mean busy slots); 1 when `a >= c`.
pub fn erlang_c(c: f64, a: f64) -> f64 {
    if a <= 0.0 {
        return 0.0;
    }
    if a >= c {
        return 1.0;
    }
    if c <= 512.0 {
        // Erlang B by its recursion, then C = B / (1 - rho (1 - B)).
        let mut b = 1.0;
        let n = c.floor() as u32;
        for k in 1..=n {
            b = a * b / (f64::from(k) + a * b);
        }
        let rho = a / c;
        (b / (1.0 - rho * (1.0 - b))).clamp(0.0, 1.0)
    } else {
        // Many slots: Halfin and Whitt's heavy-traffic limit, beta = (c - a) / sqrt(a).
        let beta = (c - a) / a.sqrt();
        let phi = (-0.5 * beta * beta).exp() / (2.0 * std::f64::consts::PI).sqrt();
        let big_phi = 0.5 * (1.0 + erf(beta / std::f64::consts::SQRT_2));
        1.0 / (1.0 + beta * big_phi / phi.max(f64::MIN_POSITIVE))
    }
}

/// The error function (Abramowitz and Stegun 7.1.26, |error| < 1.5e-7).
fn erf(x: f64) -> f64 {
    let sign = if x < 0.0 { -1.0 } else { 1.0 };
    let x = x.abs();
    let t = 1.0 / (1.0 + 0.327_591_1 * x);
    let y = 1.0
        - (((((1.061_405_429 * t - 1.453_152_027) * t) + 1.421_413_741) * t - 0.284_496_736) * t
            + 0.254_829_592)
            * t
            * (-x * x).exp();
    sign * y
}

/// A stationary M/G/c queue over batch slots.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SlotQueue {
    /// Slots.
    pub slots: f64,
    /// Offered load, erlangs (mean busy slots).
    pub offered: f64,
    /// Mean service time (prefill plus every output token), s.
    pub service_s: f64,
    /// Squared coefficient of variation of the service time.
    pub service_cv2: f64,
}

impl SlotQueue {
    /// Probability an arriving request waits for a slot.
    pub fn wait_probability(&self) -> f64 {
        erlang_c(self.slots, self.offered)
    }

    /// The rate at which the wait's tail decays: P(wait > t) = C exp(-t * rate).
    fn tail_rate(&self) -> f64 {
        let scale = (1.0 + self.service_cv2) / 2.0;
        (self.slots - self.offered).max(0.0) / (self.service_s * scale.max(f64::MIN_POSITIVE))
    }

    /// P(wait > t).
    pub fn wait_exceeds(&self, t: f64) -> f64 {
        if t < 0.0 {
            return 1.0;
        }
        let rate = self.tail_rate();
        if rate <= 0.0 {
            return 1.0;
        }
        self.wait_probability() * (-t * rate).exp()
    }

    /// The wait at a percentile (0-100): 0 when fewer than `100 - p` percent of requests wait.
    pub fn wait_at_percentile_s(&self, percentile: f64) -> f64 {
        let tail = 1.0 - percentile / 100.0;
        let c = self.wait_probability();
        if c <= tail {
            return 0.0;
        }
        let rate = self.tail_rate();
        if rate <= 0.0 {
            return f64::INFINITY;
        }
        (c / tail).ln() / rate
    }

    /// Busy slots at a percentile of time: Poisson around the offered load (the M/G/infinity
    /// count, normal approximation), at most every slot.
    pub fn busy_at_percentile(&self, percentile: f64) -> f64 {
        let z = normal_quantile(percentile / 100.0).max(0.0);
        (self.offered + z * self.offered.sqrt())
            .ceil()
            .min(self.slots)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erlang_c_matches_textbook_values() {
        // c = 2, a = 1 erlang: B = 0.2, C = 0.2 / (1 - 0.5 * 0.8) = 1/3.
        assert!((erlang_c(2.0, 1.0) - 1.0 / 3.0).abs() < 1e-12);
        // c = 1: C = rho (M/M/1).
        assert!((erlang_c(1.0, 0.7) - 0.7).abs() < 1e-12);
        assert_eq!(erlang_c(4.0, 4.0), 1.0);
        assert_eq!(erlang_c(4.0, 0.0), 0.0);
        // The heavy-traffic form agrees with the recursion near its switch-over.
        let (exact, hw) = (erlang_c(512.0, 490.0), erlang_c(512.5, 490.0));
        assert!((exact - hw).abs() < 0.03, "{exact} {hw}");
    }

    /// A small event simulation of M/M/c: the p99 wait of the closed form is within 15%.
    #[test]
    fn the_tail_agrees_with_a_simulation() {
        use rand::{Rng, SeedableRng};
        let (c, lambda, mu) = (8usize, 7.0, 1.0);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let mut exp = |rate: f64| -(1.0 - rng.random::<f64>()).ln() / rate;
        let mut free_at = vec![0.0f64; c];
        let mut t = 0.0;
        let mut waits = Vec::new();
        for _ in 0..400_000 {
            t += exp(lambda);
            let (i, earliest) = free_at
                .iter()
                .copied()
                .enumerate()
                .min_by(|a, b| a.1.total_cmp(&b.1))
                .unwrap();
            let start = earliest.max(t);
            waits.push(start - t);
            free_at[i] = start + exp(mu);
        }
        waits.sort_by(f64::total_cmp);
        let simulated = waits[(0.99 * waits.len() as f64) as usize];
        let q = SlotQueue {
            slots: c as f64,
            offered: lambda / mu,
            service_s: 1.0 / mu,
            service_cv2: 1.0,
        };
        let closed = q.wait_at_percentile_s(99.0);
        assert!(
            (closed / simulated - 1.0).abs() < 0.15,
            "{closed} vs {simulated}"
        );
    }
}
