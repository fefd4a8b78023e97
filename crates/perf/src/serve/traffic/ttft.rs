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
    /// The bins by start, ascending (one allocation per server evaluation).
    bins: Vec<StartedBin>,
    /// All the shares (nothing started yet).
    total_share: f64,
    /// P(every slot taken) and the wait tail's decay rate, 1/s.
    wait: f64,
    rate: f64,
}

/// One bin of [`TtftTail`], with what the tail needs when it is the last to have started.
struct StartedBin {
    /// Its TTFT without a wait, s.
    start: f64,
    /// P_k above.
    started_sum: f64,
    /// Shares of the bins after it (not started when it is the last that has).
    later_share: f64,
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
        let mut started = Vec::with_capacity(sorted.len());
        let mut sum = 0.0;
        for (i, &(start, share)) in sorted.iter().enumerate() {
            if i > 0 {
                sum *= (-rate * (start - sorted[i - 1].0)).exp();
            }
            sum += share;
            started.push(StartedBin {
                start,
                started_sum: sum,
                later_share: 0.0,
            });
        }
        let total_share: f64 = sorted.iter().map(|b| b.1).sum();
        let mut after = 0.0;
        for (bin, &(_, share)) in started.iter_mut().zip(&sorted).rev() {
            bin.later_share = after;
            after += share;
        }
        TtftTail {
            bins: started,
            total_share,
            wait: q.wait_probability(),
            rate,
        }
    }

    /// P(TTFT > t).
    pub(super) fn at(&self, t: f64) -> f64 {
        let Some(last) = self.bins.iter().rfind(|b| b.start <= t) else {
            return self.total_share;
        };
        let started = if self.rate <= 0.0 {
            // No decay: a started bin's wait exceeds any time if anyone waits at all.
            if self.wait > 0.0 {
                self.total_share - last.later_share
            } else {
                0.0
            }
        } else {
            self.wait * (-self.rate * (t - last.start)).exp() * last.started_sum
        };
        last.later_share + started
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
