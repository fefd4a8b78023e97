//! The TTFT percentile a traffic evaluation reports: over the length bins, with the wait for
//! a batch slot (server mode, by bisection on the tail) or without it (offline).

use super::LengthBin;
use crate::serve::queue::BatchQueue;

/// P(TTFT > t) over the bins, for the bisection: each bin's TTFT is its prefill and the first
/// step (together `start`) plus the wait, and P(wait > x) is 1 for x < 0 and C exp(-rate x)
/// after (`BatchQueue::wait_exceeds`). Sorted by start, the bins that have started at t share
/// one exponential: sum_j share_j C exp(-rate (t - start_j)) = C exp(-rate (t - start_k)) P_k,
/// with k the last started bin and P_k = sum_{j <= k} share_j exp(-rate (start_k - start_j))
/// built once (every factor at most 1, so nothing overflows). A tail evaluation then costs one
/// exponential instead of one per bin; the bisection makes about forty.
pub(super) struct TtftTail {
    /// (start, share) by start, ascending.
    bins: Vec<(f64, f64)>,
    /// P_k above, per sorted bin.
    started_sum: Vec<f64>,
    /// Shares of the bins after each sorted bin (those not started when it is the last).
    later_share: Vec<f64>,
    /// All the shares (nothing started yet).
    total_share: f64,
    /// P(every slot taken) and the wait tail's decay rate, 1/s.
    wait: f64,
    rate: f64,
}

impl TtftTail {
    pub(super) fn new(
        q: &BatchQueue,
        bins: &[LengthBin],
        prefill_s: &[f64],
        first: f64,
    ) -> TtftTail {
        let sorted = by_start(bins, prefill_s, first);
        let rate = q.tail_rate();
        let mut started_sum = Vec::with_capacity(sorted.len());
        let mut sum = 0.0;
        let mut previous: Option<f64> = None;
        for &(start, share) in &sorted {
            if let Some(before) = previous {
                sum *= (-rate * (start - before)).exp();
            }
            sum += share;
            started_sum.push(sum);
            previous = Some(start);
        }
        let total_share: f64 = sorted.iter().map(|b| b.1).sum();
        let mut later_share = vec![0.0; sorted.len()];
        let mut after = 0.0;
        for (i, &(_, share)) in sorted.iter().enumerate().rev() {
            later_share[i] = after;
            after += share;
        }
        TtftTail {
            bins: sorted,
            started_sum,
            later_share,
            total_share,
            wait: q.wait_probability(),
            rate,
        }
    }

    /// P(TTFT > t).
    pub(super) fn at(&self, t: f64) -> f64 {
        let Some(k) = self.bins.iter().rposition(|b| b.0 <= t) else {
            return self.total_share;
        };
        let started = if self.rate <= 0.0 {
            // No decay: a started bin's wait exceeds any time if anyone waits at all.
            if self.wait > 0.0 {
                self.total_share - self.later_share[k]
            } else {
                0.0
            }
        } else {
            self.wait * (-self.rate * (t - self.bins[k].0)).exp() * self.started_sum[k]
        };
        self.later_share[k] + started
    }
}

/// Each bin's (TTFT without a wait, share): its prefill and the first step, sorted ascending.
fn by_start(bins: &[LengthBin], prefill_s: &[f64], first: f64) -> Vec<(f64, f64)> {
    let mut sorted: Vec<(f64, f64)> = bins
        .iter()
        .zip(prefill_s)
        .map(|(b, p)| (p + first, b.share))
        .collect();
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
    sorted
}

/// The TTFT at which `tail` (P(TTFT > t)) falls to `allowed`, by bisection.
pub(super) fn ttft_percentile_bisected(
    tail: &dyn Fn(f64) -> f64,
    prefill_s: &[f64],
    first: f64,
    allowed: f64,
) -> f64 {
    let (mut a, mut b) = (
        0.0,
        prefill_s.iter().copied().fold(0.0, f64::max) + first + 1.0,
    );
    while tail(b) > allowed && b < 1e7 {
        b *= 2.0;
    }
    for _ in 0..40 {
        let m = 0.5 * (a + b);
        if tail(m) > allowed {
            a = m;
        } else {
            b = m;
        }
    }
    b
}

/// The TTFT percentile over the bins with no queue wait (offline).
pub(super) fn ttft_percentile_no_wait(
    bins: &[LengthBin],
    prefill_s: &[f64],
    first: f64,
    percentile: f64,
) -> f64 {
    let by_time = by_start(bins, prefill_s, first);
    let mut seen = 0.0;
    for (t, share) in &by_time {
        seen += share;
        if seen >= percentile / 100.0 - 1e-12 {
            return *t;
        }
    }
    by_time.last().map_or(0.0, |x| x.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    /// The factored TTFT tail (one exponential per evaluation) against the direct sum over the
    /// bins of share x P(wait > t - prefill - first step), at times before, between and after the
    /// bins' starts, for queues that wait often, rarely and (rate 0) never drain.
    #[test]
    fn the_factored_ttft_tail_is_the_sum_over_the_bins() {
        let bins: Vec<LengthBin> = [
            (0.3, 0.05),
            (0.2, 0.40),
            (0.1, 0.12),
            (0.15, 0.9),
            (0.25, 0.2),
        ]
        .iter()
        .map(|&(share, _)| LengthBin {
            input_tokens: 1000.0,
            output_tokens: 100.0,
            share,
        })
        .collect();
        let prefill_s = [0.05, 0.40, 0.12, 0.9, 0.2];
        let first = 0.03;
        let mut cases = (0, 0);
        for (slots, mean, service_s) in [
            (64.0, 60.0, 2.0),
            (64.0, 30.0, 2.0),
            (8.0, 7.9, 50.0),
            (8.0, 9.0, 50.0),
        ] {
            let q = BatchQueue::new(slots, mean, 0.02, 1e-4, service_s, service_s);
            if q.wait_probability() > 0.0 {
                if q.tail_rate() > 0.0 {
                    cases.0 += 1;
                } else {
                    cases.1 += 1;
                }
            }
            let direct = |t: f64| -> f64 {
                bins.iter()
                    .zip(&prefill_s)
                    .map(|(b, p)| b.share * q.wait_exceeds(t - p - first))
                    .sum()
            };
            let tail = TtftTail::new(&q, &bins, &prefill_s, first);
            for t in [
                0.0, 0.07, 0.08, 0.1, 0.15, 0.43, 0.5, 0.93, 1.0, 2.0, 10.0, 1e3,
            ] {
                let (a, b) = (tail.at(t), direct(t));
                assert!(
                    (a - b).abs() <= 1e-12 * b.abs().max(1e-300),
                    "t {t}: {a} vs {b}"
                );
            }
        }
        // Both branches ran: a queue that drains (rate > 0) and one that does not.
        assert!(cases.0 >= 1 && cases.1 >= 1, "{cases:?}");
    }
}
