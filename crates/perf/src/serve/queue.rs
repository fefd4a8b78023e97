//! Server mode's queueing model: continuous batching as processor sharing whose speed depends on
//! the batch, with a wait for a batch slot when every slot is taken.
//!
//! Requests arrive as a Poisson process. Every sequence in the running batch gains one token
//! per decode step, so the batch is a processor-sharing server; but unlike a server of fixed
//! speed, a step of `n` sequences takes `a + b n` (the weight stream, collectives and launches
//! paid once per step, `a`; the KV reads, matmul rows and engine work paid per sequence, `b`).
//! With completions at `n / (L (a + b n))` for `L` output tokens, the number of sequences in
//! flight is a birth-death chain whose stationary law is negative binomial with shape
//! `r = a / b + 1` and mean `N` (the product of `lambda L (a + b k) / k` over `k`); processor
//! sharing makes it insensitive to the spread of lengths. Its variance, `N + N^2 / r`, is far
//! above the Poisson count `N` an M/G/infinity view gives when the step is mostly per-sequence
//! work (`r` small): a crowd of arrivals slows every sequence, which holds them all longer, which
//! lets the crowd grow. That spread is what costs a server throughput against offline: the
//! TPOT target must hold with the batch at its percentile, and requests wait for a slot when the
//! batch reaches the KV cache or engine limit, so the mean batch must sit below both.
//! [`BatchQueue`] carries it in closed form (a gamma law matched to the negative binomial's
//! mean and variance, with the Wilson-Hilferty cube-root normal), fast enough for the layout
//! search; the tests check it against an event simulation of the batch. Past the slots, waiting
//! requests leave the queue as the full batch completes them, at `mu_B - lambda` (an M/M/1 tail
//! over the slot limit).
//!
//! Stated simplifications: `a` and `b` are the model's own step read as its secant between the
//! mean batch and the slots; a request's TPOT is judged at the step with the batch at the
//! percentile (the count moves more slowly than one request lives, so its tokens see about one
//! batch size); each deployment unit takes its own Poisson share of the traffic (a balancer that
//! sends each request to the least-loaded replica would pool them and narrow the spread); the
//! prefills arriving in a step vary with the arrivals, which averages out over a request's
//! tokens and is taken at its mean.
//!
//! [`SlotQueue`] (M/G/c over batch slots, Erlang C with the Lee-Longton correction) is the
//! earlier view, kept for callers that have no step-time slope: it treats each slot as a server
//! of fixed speed, so it misses the slow-down above and costs a server only ~2% against
//! offline where MLPerf Inference measured 5-12%.

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
        wait_at_percentile(self.wait_probability(), self.tail_rate(), percentile)
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

/// The sequences in flight of a continuously batched decode under Poisson arrivals (negative
/// binomial; see the module notes), and the wait for a slot past the batch limit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BatchQueue {
    /// Batch slots (all pipeline microbatches).
    pub slots: f64,
    /// Mean sequences in flight.
    pub mean_in_flight: f64,
    /// Negative binomial shape `a / b + 1`: the per-step cost over the per-sequence cost.
    pub shape: f64,
    /// Requests arriving per second.
    pub arrivals_per_s: f64,
    /// Requests the full batch completes per second.
    pub completions_at_slots_per_s: f64,
    /// P(every slot taken), computed once: the TTFT percentile asks for the wait's tail many
    /// times per evaluation.
    wait: f64,
}

impl BatchQueue {
    /// The queue at mean `mean_in_flight` of `slots`, for a step of `step_fixed_s +
    /// step_per_sequence_s * n` per token of every sequence (pipeline stages included), with
    /// each request holding its slot `service_s` on average and `service_at_slots_s` when the
    /// batch is full.
    pub fn new(
        slots: f64,
        mean_in_flight: f64,
        step_fixed_s: f64,
        step_per_sequence_s: f64,
        service_s: f64,
        service_at_slots_s: f64,
    ) -> BatchQueue {
        BatchQueue::without_wait(
            slots,
            mean_in_flight,
            step_fixed_s,
            step_per_sequence_s,
            service_s,
            service_at_slots_s,
        )
        .with_wait()
    }

    /// [`Self::new`] before the probability that every slot is taken (NaN until
    /// [`Self::with_wait`]): a search's check that fails on the TPOT never asks for it.
    pub(super) fn without_wait(
        slots: f64,
        mean_in_flight: f64,
        step_fixed_s: f64,
        step_per_sequence_s: f64,
        service_s: f64,
        service_at_slots_s: f64,
    ) -> BatchQueue {
        let shape = if step_per_sequence_s > 0.0 {
            (step_fixed_s.max(0.0) / step_per_sequence_s + 1.0).min(1e12)
        } else {
            1e12
        };
        BatchQueue {
            slots,
            mean_in_flight,
            shape,
            arrivals_per_s: mean_in_flight / service_s.max(f64::MIN_POSITIVE),
            completions_at_slots_per_s: slots / service_at_slots_s.max(f64::MIN_POSITIVE),
            wait: f64::NAN,
        }
    }

    /// The queue with the probability that every slot is taken.
    pub(super) fn with_wait(mut self) -> BatchQueue {
        self.wait = self.in_flight_at_least(self.slots);
        self
    }

    /// Variance of the sequences in flight: `N + N^2 / r`.
    pub fn variance(&self) -> f64 {
        self.mean_in_flight + self.mean_in_flight * self.mean_in_flight / self.shape
    }

    /// The gamma law with the same mean and variance: (shape, scale).
    fn gamma(&self) -> (f64, f64) {
        let m = self.mean_in_flight.max(f64::MIN_POSITIVE);
        let v = self.variance().max(f64::MIN_POSITIVE);
        (m * m / v, v / m)
    }

    /// Sequences in flight at a percentile (0-100) of time, not capped at the slots.
    pub fn in_flight_at_percentile(&self, percentile: f64) -> f64 {
        self.in_flight_at_z(normal_quantile(percentile / 100.0))
    }

    /// [`Self::in_flight_at_percentile`] at the standard normal quantile `z` of the percentile
    /// (a search asks at one percentile many times).
    pub fn in_flight_at_z(&self, z: f64) -> f64 {
        if self.mean_in_flight <= 0.0 {
            return 0.0;
        }
        let (k, theta) = self.gamma();
        let c = 1.0 - 1.0 / (9.0 * k) + z / (3.0 * k.sqrt());
        (k * theta * c.max(0.0).powi(3)).ceil()
    }

    /// P(at least `n` sequences in flight).
    pub fn in_flight_at_least(&self, n: f64) -> f64 {
        if self.mean_in_flight <= 0.0 {
            return if n <= 0.0 { 1.0 } else { 0.0 };
        }
        let (k, theta) = self.gamma();
        // Continuity: the count is an integer.
        let x = (n - 0.5).max(0.0) / (k * theta);
        let z = (x.cbrt() - (1.0 - 1.0 / (9.0 * k))) * 3.0 * k.sqrt();
        0.5 * (1.0 - erf(z / std::f64::consts::SQRT_2))
    }

    /// Probability an arriving request finds every slot taken (PASTA: the time share).
    pub fn wait_probability(&self) -> f64 {
        self.wait
    }

    /// Rate at which the wait's tail decays, 1/s: the full batch's completions less arrivals.
    pub(super) fn tail_rate(&self) -> f64 {
        (self.completions_at_slots_per_s - self.arrivals_per_s).max(0.0)
    }

    /// P(wait > t).
    pub fn wait_exceeds(&self, t: f64) -> f64 {
        if t < 0.0 {
            return 1.0;
        }
        let rate = self.tail_rate();
        let c = self.wait_probability();
        if rate <= 0.0 {
            return if c > 0.0 { 1.0 } else { 0.0 };
        }
        c * (-t * rate).exp()
    }

    /// Mean wait, s.
    pub fn mean_wait_s(&self) -> f64 {
        let rate = self.tail_rate();
        let c = self.wait_probability();
        if c <= 0.0 {
            0.0
        } else if rate <= 0.0 {
            f64::INFINITY
        } else {
            c / rate
        }
    }

    /// The wait at a percentile (0-100).
    pub fn wait_at_percentile_s(&self, percentile: f64) -> f64 {
        wait_at_percentile(self.wait_probability(), self.tail_rate(), percentile)
    }
}

/// The wait at a percentile (0-100) when a request waits with probability `wait_probability`
/// and the wait is exponential with `tail_rate`: 0 when fewer than `100 - p` percent wait.
fn wait_at_percentile(wait_probability: f64, tail_rate: f64, percentile: f64) -> f64 {
    let tail = 1.0 - percentile / 100.0;
    if wait_probability <= tail {
        return 0.0;
    }
    if tail_rate <= 0.0 {
        return f64::INFINITY;
    }
    (wait_probability / tail).ln() / tail_rate
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

    /// An event simulation of a continuously batched decode: Poisson arrivals join at the next
    /// step, every sequence gains a token per step of `a + b n`, lengths geometric or fixed.
    /// The time-weighted percentiles of the sequences in flight agree with the closed form.
    fn simulate_batch(
        a: f64,
        b: f64,
        lambda: f64,
        out: f64,
        fixed: bool,
        requests: usize,
    ) -> Vec<(f64, f64)> {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        let mut left: Vec<f64> = Vec::new();
        let exp = |rng: &mut rand_chacha::ChaCha8Rng| -(1.0 - rng.random::<f64>()).ln() / lambda;
        let (mut t, mut arrived) = (0.0, 0usize);
        let mut next = exp(&mut rng);
        let mut samples: Vec<(f64, f64)> = Vec::new();
        while arrived < requests {
            let n = left.len() as f64;
            let step = a + b * n;
            if arrived > requests / 20 {
                samples.push((n, step));
            }
            t += step;
            for l in left.iter_mut() {
                *l -= 1.0;
            }
            if fixed {
                left.retain(|l| *l > 0.0);
            } else {
                let p = 1.0 / out;
                left.retain(|_| rng.random::<f64>() >= p);
            }
            while next <= t {
                left.push(out);
                arrived += 1;
                next += exp(&mut rng);
            }
        }
        samples
    }

    fn time_percentile(samples: &mut [(f64, f64)], p: f64) -> f64 {
        samples.sort_by(|x, y| x.0.total_cmp(&y.0));
        let total: f64 = samples.iter().map(|s| s.1).sum();
        let mut seen = 0.0;
        for s in samples.iter() {
            seen += s.1;
            if seen >= p * total {
                return s.0;
            }
        }
        samples.last().map_or(0.0, |s| s.0)
    }

    #[test]
    fn the_batch_in_flight_agrees_with_a_simulation() {
        // a = 10 ms per step, b = 0.5 ms per sequence (r = 21), 50 tokens per request, at 80% of
        // the asymptotic rate 1 / (b L) = 40 requests/s: mean 21 x 0.8 / 0.2 = 84 in flight.
        let (a, b, out) = (0.010, 0.0005, 50.0);
        let lambda = 0.8 / (b * out);
        let mean = (a / b + 1.0) * 0.8 / 0.2;
        for fixed in [false, true] {
            let mut s = simulate_batch(a, b, lambda, out, fixed, 400_000);
            let simulated_mean =
                s.iter().map(|x| x.0 * x.1).sum::<f64>() / s.iter().map(|x| x.1).sum::<f64>();
            let q = BatchQueue::new(1e9, simulated_mean, a, b, 1.0, 1.0);
            for p in [0.9, 0.99] {
                let simulated = time_percentile(&mut s, p);
                let closed = q.in_flight_at_percentile(100.0 * p);
                assert!(
                    (closed / simulated - 1.0).abs() < 0.1,
                    "fixed {fixed} p{p}: {closed} vs {simulated}"
                );
            }
            // The mean itself is the processor-sharing one (Little with the affine step).
            assert!(
                (simulated_mean / mean - 1.0).abs() < 0.1,
                "{simulated_mean} vs {mean}"
            );
        }
        // Far wider than the Poisson count the M/G/infinity view assumes (sd sqrt(84) ~ 9).
        let q = BatchQueue::new(1e9, mean, a, b, 1.0, 1.0);
        assert!(q.variance().sqrt() > 15.0);
    }

    #[test]
    fn a_flat_step_gives_the_poisson_count_and_a_full_queue_waits() {
        let q = BatchQueue::new(1000.0, 400.0, 0.02, 0.0, 10.0, 10.0);
        assert!((q.variance() / 400.0 - 1.0).abs() < 1e-6);
        let p99 = q.in_flight_at_percentile(99.0);
        assert!((p99 - (400.0 + 2.326 * 20.0)).abs() < 3.0, "{p99}");
        assert!(q.wait_probability() < 1e-9);
        // Mean at the slots: half the arrivals wait; the tail is set by completions - arrivals.
        let full = BatchQueue::new(100.0, 100.0, 0.01, 0.001, 10.0, 10.0);
        assert!(full.wait_probability() > 0.4 && full.wait_probability() < 0.6);
        assert_eq!(full.wait_exceeds(1.0), 1.0);
        assert!(full.wait_at_percentile_s(99.0).is_infinite());
    }
}
