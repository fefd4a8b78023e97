//! Traffic as it arrives: request lengths as a histogram (or a named dataset profile), prefix
//! cache hits, and server mode judged on the sequences in flight of a continuously batched
//! decode under Poisson arrivals ([`super::queue::BatchQueue`]).
//!
//! A histogram is evaluated by its bins, not by its mean: sequences stay in the batch for as
//! many steps as they have output tokens, so the batch's mean context is the output-weighted
//! mean of each bin's `input + output / 2`; the KV cache holds the output-weighted mean of
//! `input + output`; prefill work per output token is the bins' prompt tokens (less cache hits)
//! over their output tokens; each bin has its own prefill latency, and the TTFT percentile is
//! taken over the bins and the queue's wait together.
//!
//! Prefix caching: a share `hit_rate` of every prompt is found in the cache. Its prefill is
//! skipped (the uncached suffix still attends to it), and the cache keeps, for each batch slot,
//! the prefix its next request will hit (HBM taken from the KV budget).

use serde::Serialize;

use super::queue::BatchQueue;
use super::unit::{kv_bytes_per_token, Unit, GIB};
use super::*;
use crate::arch::Arch;
use crate::step::{Hardware, ModelConstants};
use ttft::{ttft_percentile_bisected, ttft_percentile_no_wait, TtftTail};

/// One bin of a length histogram.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LengthBin {
    /// Prompt tokens.
    pub input_tokens: f64,
    /// Generated tokens.
    pub output_tokens: f64,
    /// Share of requests (the bins sum to 1).
    pub share: f64,
}

/// The traffic's shape: lengths and cache hits.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Traffic {
    /// Profile name, or `histogram` / `uniform`.
    pub profile: String,
    /// The bins.
    pub bins: Vec<LengthBin>,
    /// Share of prompt tokens served from the prefix cache, in [0, 1).
    pub prefix_hit_rate: f64,
}

impl Traffic {
    /// Every request the same length, no cache hits (what `ServingWorkload` alone describes).
    pub fn uniform(input_tokens: f64, output_tokens: f64) -> Traffic {
        Traffic {
            profile: "uniform".into(),
            bins: vec![LengthBin {
                input_tokens,
                output_tokens,
                share: 1.0,
            }],
            prefix_hit_rate: 0.0,
        }
    }

    /// Mean prompt tokens per request.
    pub fn mean_input(&self) -> f64 {
        self.bins.iter().map(|b| b.share * b.input_tokens).sum()
    }

    /// Mean output tokens per request.
    pub fn mean_output(&self) -> f64 {
        self.bins.iter().map(|b| b.share * b.output_tokens).sum()
    }
}

/// A named dataset profile with its source.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LengthProfile {
    /// Name as users write it.
    pub name: &'static str,
    /// Mean prompt tokens (published).
    pub mean_input_tokens: f64,
    /// Mean output tokens (published).
    pub mean_output_tokens: f64,
    /// Log-normal spread (sigma of ln length) of prompts and outputs; 0: every request the same.
    pub sigma: f64,
    /// Where the means come from, and whether the spread is published or assumed.
    pub source: &'static str,
}

/// The shipped profiles.
pub const PROFILES: [LengthProfile; 4] = [
    LengthProfile {
        name: "sharegpt",
        mean_input_tokens: 161.31,
        mean_output_tokens: 337.99,
        sigma: 1.0,
        source: "means: Kwon et al., 'Efficient Memory Management for Large Language Model Serving with PagedAttention' (vLLM, SOSP 2023, arXiv 2309.06180), sec. 6.1 / Fig. 11: ShareGPT mean input 161.31, mean output 337.99 tokens; spread: assumed log-normal, sigma 1.0 (the paper shows the histograms, not their parameters)",
    },
    LengthProfile {
        name: "openorca",
        mean_input_tokens: 222.33,
        mean_output_tokens: 290.31,
        sigma: 0.68,
        source: "means: MLPerf Inference's 24,576-sample OpenOrca set for Llama 2 70B (mean prompt from openshift-psap/performance-dashboard's export @ 7cd1065d; mean output from NVIDIA's v4.1 Offline log, 24,524.9 tokens/s / 84.4792 samples/s; see calibration/serving-cases.toml); spread: log-normal with sigma 0.68, the coefficient of variation the same export measures over the 24,576 samples (prompts 0.771, the set's reference answers 0.787: sqrt(ln(1 + 0.78^2)) = 0.68; Llama 2's own generated lengths are not published per sample, so the answers' spread stands in for theirs); was an assumed 1.0",
    },
    LengthProfile {
        name: "long-rag",
        mean_input_tokens: 32_768.0,
        mean_output_tokens: 1_024.0,
        sigma: 0.0,
        source: "long-context retrieval shape: NVIDIA TensorRT-LLM performance overview's longest prompt case, 32,768 input and 1,024 output tokens (NVIDIA/TensorRT-LLM docs/source/performance/perf-overview.md); synthetic, every request that length",
    },
    LengthProfile {
        name: "reasoning",
        mean_input_tokens: 1_024.0,
        mean_output_tokens: 8_192.0,
        sigma: 0.0,
        source: "reasoning-trace shape (long outputs): NVIDIA TensorRT-LLM performance overview's 1,024 input / 8,192 output case, the shape it reports DeepSeek-R1 at (NVIDIA/TensorRT-LLM docs/source/performance/perf-overview.md); synthetic, every request that length",
    },
];

impl LengthProfile {
    /// A profile by name.
    pub fn named(name: &str) -> Option<&'static LengthProfile> {
        PROFILES.iter().find(|p| p.name == name)
    }

    /// The profile as a histogram of `bins` bins (a log-normal's equal-probability bins, each
    /// at its conditional median, rescaled so the means are the published ones); one bin when
    /// the profile has no spread.
    pub fn histogram(&self, bins: usize) -> Vec<LengthBin> {
        if self.sigma <= 0.0 || bins <= 1 {
            return vec![LengthBin {
                input_tokens: self.mean_input_tokens,
                output_tokens: self.mean_output_tokens,
                share: 1.0,
            }];
        }
        let n = bins as f64;
        // Prompt and output lengths taken as independent: bins x bins would be 256 cells for
        // 16 bins; pairing quantile i of the prompt with quantile (n - 1 - i) of the output
        // keeps n bins and the two marginals exact.
        let z: Vec<f64> = (0..bins)
            .map(|i| super::arrivals::normal_quantile((i as f64 + 0.5) / n))
            .collect();
        let raw = |i: usize| (self.sigma * z[i]).exp();
        let mean_raw: f64 = (0..bins).map(raw).sum::<f64>() / n;
        (0..bins)
            .map(|i| LengthBin {
                input_tokens: (self.mean_input_tokens * raw(i) / mean_raw).max(1.0),
                output_tokens: (self.mean_output_tokens * raw(bins - 1 - i) / mean_raw).max(1.0),
                share: 1.0 / n,
            })
            .collect()
    }
}

/// Server mode's queue at the chosen batch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct QueueReport {
    /// Batch slots per attention rank (all pipeline microbatches).
    pub slots: f64,
    /// Mean busy slots (offered load, erlangs).
    pub offered_erlangs: f64,
    /// Busy slots / slots.
    pub utilisation: f64,
    /// Probability a request waits for a slot (every slot taken).
    pub wait_probability: f64,
    /// Mean time a request holds a slot (prefill and every output token), s.
    pub service_s: f64,
    /// Squared coefficient of variation of that time (from the length histogram).
    pub service_cv2: f64,
    /// Wait at the target percentile, s.
    pub wait_at_percentile_s: f64,
    /// Sequences in flight at the target percentile (all microbatches; the TPOT target is
    /// judged with the batch there, at most every slot).
    pub in_flight_at_percentile: f64,
    /// Shape of the negative binomial count in flight: a step's fixed cost over its cost per
    /// sequence, plus one (small: mostly per-sequence work, a wide spread).
    pub in_flight_shape: f64,
}

/// A layout evaluated on traffic.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrafficEvaluation {
    /// The figures, as `evaluate_serving` reports them (TTFT and TPOT at the percentile are
    /// the queue's in server mode).
    pub evaluation: ServingEvaluation,
    /// Mean prompt tokens per request.
    pub mean_input_tokens: f64,
    /// Mean output tokens per request.
    pub mean_output_tokens: f64,
    /// Mean context of a sequence in the batch (output-weighted), tokens.
    pub decode_context_tokens: f64,
    /// Share of prefill FLOPs the prefix cache saves.
    pub prefill_saved_fraction: f64,
    /// HBM per accelerator holding cached prefixes, GiB.
    pub prefix_cache_gib: f64,
    /// Server mode's queue (absent offline).
    pub queue: Option<QueueReport>,
    /// Bins evaluated.
    pub bins: usize,
}

/// Evaluates a layout on traffic: as [`evaluate_serving`], with the lengths taken bin by bin,
/// prefix-cache hits, and server mode's latency percentiles from the batch in flight (negative
/// binomial under Poisson arrivals, [`BatchQueue`]) and the wait for a batch slot. `w`'s own
/// lengths are ignored (the traffic's bins replace them).
pub fn evaluate_traffic(
    arch: &Arch,
    hw: &Hardware,
    layout: &ServingLayout,
    w: &ServingWorkload,
    traffic: &Traffic,
    c: &ModelConstants,
) -> TrafficEvaluation {
    evaluate_traffic_with(
        arch,
        hw,
        layout,
        w,
        traffic,
        c,
        &ServingEfficiency::default(),
    )
}

/// [`evaluate_traffic`] with an engine's efficiencies (its step factor and per-sequence cost).
pub fn evaluate_traffic_with(
    arch: &Arch,
    hw: &Hardware,
    layout: &ServingLayout,
    w: &ServingWorkload,
    traffic: &Traffic,
    c: &ModelConstants,
    eff: &ServingEfficiency,
) -> TrafficEvaluation {
    evaluate_traffic_components(
        arch,
        hw,
        layout,
        w,
        traffic,
        c,
        eff,
        &ComponentPrecision::uniform(layout.precision),
    )
}

/// [`evaluate_traffic_with`] with each component's weights at its own precision: the one
/// capacity function every serving path ends in (the plain evaluation's server mode, the
/// traffic and fleet paths, the decode pool of a disaggregated deployment), so the engine's
/// efficiencies (step factor, per-sequence cost, memory share) and the components' precisions
/// count the same everywhere.
#[allow(clippy::too_many_arguments)]
pub fn evaluate_traffic_components(
    arch: &Arch,
    hw: &Hardware,
    layout: &ServingLayout,
    w: &ServingWorkload,
    traffic: &Traffic,
    c: &ModelConstants,
    eff: &ServingEfficiency,
    components: &ComponentPrecision,
) -> TrafficEvaluation {
    evaluate_bins(
        arch,
        hw,
        layout,
        w,
        &traffic.bins,
        traffic.prefix_hit_rate,
        c,
        eff,
        components,
    )
}

/// [`evaluate_traffic_components`] on the bins and hit rate alone (the plain evaluation's
/// server mode passes its one bin without building a [`Traffic`]).
#[allow(clippy::too_many_arguments)]
pub(super) fn evaluate_bins(
    arch: &Arch,
    hw: &Hardware,
    layout: &ServingLayout,
    w: &ServingWorkload,
    bins: &[LengthBin],
    h: f64,
    c: &ModelConstants,
    eff: &ServingEfficiency,
    components: &ComponentPrecision,
) -> TrafficEvaluation {
    let e_in: f64 = bins.iter().map(|b| b.share * b.input_tokens).sum();
    let e_out: f64 = bins.iter().map(|b| b.share * b.output_tokens).sum();
    let mut out = TrafficEvaluation {
        evaluation: infeasible(None),
        mean_input_tokens: e_in,
        mean_output_tokens: e_out,
        decode_context_tokens: 0.0,
        prefill_saved_fraction: 0.0,
        prefix_cache_gib: 0.0,
        queue: None,
        bins: bins.len(),
    };
    let Some(unit) =
        Unit::with_components(arch, hw, layout, c, e_in, w.speculation, eff, components)
    else {
        out.evaluation = infeasible(Some(ServeInfeasible::PrecisionUnsupported));
        return out;
    };
    // Output-weighted moments: a sequence is in the batch for as many steps as it has outputs.
    let (mut ctx, mut kv_len, mut computed_in, mut flops_all, mut flops_done) =
        (0.0, 0.0, 0.0, 0.0, 0.0);
    for b in bins {
        ctx += b.share * b.output_tokens * (b.input_tokens + b.output_tokens / 2.0);
        kv_len +=
            b.share * b.output_tokens * arch.attended_context(b.input_tokens + b.output_tokens);
        computed_in += b.share * b.input_tokens * (1.0 - h);
        let all = unit.prefill_flops(b.input_tokens);
        flops_all += b.share * all;
        flops_done += b.share * (all - unit.prefill_flops(h * b.input_tokens)).max(0.0);
    }
    ctx /= e_out;
    kv_len /= e_out;
    out.decode_context_tokens = ctx;
    out.prefill_saved_fraction = 1.0 - flops_done / flops_all.max(f64::MIN_POSITIVE);

    let weights = unit.weight_bytes_per_gpu();
    let free = unit.free_bytes();
    let mut e = infeasible(None);
    e.weights_gib = weights / GIB;
    if free <= 0.0 {
        e.infeasible = Some(ServeInfeasible::WeightsDoNotFit);
        out.evaluation = e;
        return out;
    }
    let kv_per_token = kv_bytes_per_token(arch, layout);
    let pp = f64::from(layout.pp);
    let cached_prefix = h * e_in;
    let max_batch = (free / (pp * kv_per_token * (kv_len + cached_prefix)))
        .floor()
        .min(f64::from(w.max_batch.unwrap_or(MAX_BATCH)))
        .min(f64::from(MAX_BATCH));
    e.max_batch = max_batch.max(0.0) as u32;
    if max_batch < 1.0 {
        e.infeasible = Some(ServeInfeasible::NoRoomForKvCache);
        out.evaluation = e;
        return out;
    }
    let ranks = f64::from(layout.ep);
    let emitted = w.speculation.map_or(1.0, |s| s.tokens_per_step());
    // Each bin's prefill latency on its attention rank (all-to-all included for wide EP).
    let a2a_per_token = unit.prefill_all_to_all_s_per_token();
    // A bin's prefill latency and, disaggregated, the prefill pool's accelerator-seconds per
    // request (one prefill-pool costing per bin serves both).
    let prefill_of = |b: &LengthBin| {
        let computed = b.input_tokens * (1.0 - h);
        let (kv_send_s, pool_gpu_s) = if w.disaggregated {
            let cost = unit.prefill_cost(b.input_tokens, h, true);
            (cost.kv_send_s, cost.gpu_s_per_request)
        } else {
            (0.0, 0.0)
        };
        (
            unit.prefill_latency_s(computed) + computed * a2a_per_token + kv_send_s,
            pool_gpu_s,
        )
    };
    // On the stack for up to 16 bins (an evaluation is a few microseconds; an allocation
    // shows).
    let mut few = [0.0; 16];
    let many: Vec<f64>;
    let mut prefill_gpu_s = 0.0;
    let prefill_s: &[f64] = if bins.len() <= few.len() {
        for (p, b) in few.iter_mut().zip(bins) {
            let (latency_s, pool_gpu_s) = prefill_of(b);
            *p = latency_s;
            prefill_gpu_s += b.share * pool_gpu_s;
        }
        &few[..bins.len()]
    } else {
        many = bins
            .iter()
            .map(|b| {
                let (latency_s, pool_gpu_s) = prefill_of(b);
                prefill_gpu_s += b.share * pool_gpu_s;
                latency_s
            })
            .collect();
        &many
    };
    let prefill_mean: f64 = bins.iter().zip(prefill_s).map(|(b, p)| b.share * p).sum();
    // The prefill pool (disaggregated): accelerator-seconds per request over the bins (0
    // aggregated), summed above in bin order.
    let prefill_gpu_s = prefill_gpu_s;
    let prefill_per_output = computed_in / e_out;
    let step_at = |batch: f64| {
        let prefill_tokens = if w.disaggregated {
            0.0
        } else {
            batch * emitted * prefill_per_output
        };
        unit.decode_stage(batch, ctx, prefill_tokens)
    };
    // (tokens/s per unit, TPOT, step) at a batch.
    let at = |batch: f64| {
        let step = step_at(batch);
        (
            ranks * batch * emitted / step.step_s,
            pp * step.step_s / emitted,
            step,
        )
    };
    // The first token comes with the step after the prompt's prefill (aggregated), or after
    // the transfer and the first decode step (disaggregated).
    let first_step = |tpot: f64| {
        if w.disaggregated {
            tpot
        } else {
            tpot * emitted
        }
    };
    // Mean and squared coefficient of variation of the time a request holds its slot.
    let service = |tpot: f64| {
        let mut s1 = 0.0;
        let mut s2 = 0.0;
        for (b, p) in bins.iter().zip(prefill_s) {
            let s = p + b.output_tokens * tpot;
            s1 += b.share * s;
            s2 += b.share * s * s;
        }
        (s1, (s2 / (s1 * s1) - 1.0).max(0.0))
    };
    let slots = pp * max_batch;
    // The full batch's TPOT and slot time, the same for every mean batch the search tries
    // (server mode only: offline has no queue).
    let tpot_full = match w.mode {
        ServingMode::Server => at(max_batch).1,
        ServingMode::Offline => 0.0,
    };
    let (service_full_s, _) = service(tpot_full);
    // The queue at a mean batch with TPOT `tpot` there: the step's fixed and per-sequence parts
    // from its secant between the mean batch and the slots (where the tail goes), per token of
    // every sequence (with `pp` microbatches in flight a token waits `pp` stage steps).
    // (Built without P(every slot taken): `BatchQueue::with_wait` adds it where asked for.)
    let queue_at = |batch: f64, tpot: f64| {
        let (lo, tpot_lo) = if max_batch - batch >= 1.0 {
            (batch, tpot)
        } else {
            let half = (batch / 2.0).floor().max(1.0);
            (half, at(half).1)
        };
        let per_sequence = if max_batch > lo {
            ((tpot_full - tpot_lo) / (pp * (max_batch - lo))).max(0.0)
        } else {
            0.0
        };
        let fixed = (tpot_lo - per_sequence * pp * lo).max(0.0);
        let (mean_s, _) = service(tpot);
        BatchQueue::without_wait(
            slots,
            pp * batch,
            fixed,
            per_sequence,
            mean_s,
            service_full_s,
        )
    };
    // TPOT at the percentile: the step with the batch at that percentile of sequences in
    // flight (at most every slot: past them requests wait instead of joining).
    // A batch of n emits n tokens, so the batch a token sees is the count in flight weighted by
    // its size (for the gamma law, shape one more): its percentiles from the median up lie at
    // or above the mean batch, which the percentile of the time-weighted count can fall below.
    let z = super::arrivals::normal_quantile(w.slo_percentile / 100.0);
    let tpot_tail_of = |q: &BatchQueue| {
        let busy = (q.in_flight_at_z(z).max(q.mean_in_flight).min(slots) / pp).max(1.0);
        // Every slot busy: the full batch's TPOT, already at hand.
        if busy == max_batch {
            tpot_full
        } else {
            at(busy).1
        }
    };
    // P(TTFT > t): a bin's TTFT is its prefill, the first step and the wait.
    let ttft_tail = |q: &BatchQueue, first: f64, t: f64| -> f64 {
        bins.iter()
            .zip(prefill_s)
            .map(|(b, p)| b.share * q.wait_exceeds(t - p - first))
            .sum()
    };
    let tail_allowed = 1.0 - w.slo_percentile / 100.0;
    // Server mode: whether a mean batch meets the targets, with what the check computed there
    // (the chosen batch's figures are the last accepted check's, not computed again).
    let server_check = |batch: f64| -> Option<ServerPoint> {
        let (throughput, tpot_mean, step) = at(batch);
        // The tail's TPOT is no better than the mean's: a mean over the target fails
        // without building the queue.
        if w.tpot_slo_s.is_some_and(|slo| tpot_mean > slo) {
            return None;
        }
        let q = queue_at(batch, tpot_mean);
        if q.arrivals_per_s >= q.completions_at_slots_per_s {
            return None;
        }
        let tpot_tail = tpot_tail_of(&q);
        if !w.tpot_slo_s.is_none_or(|slo| tpot_tail <= slo) {
            return None;
        }
        // Past the TPOT: the wait for a slot (P(every slot taken)) for the TTFT.
        let q = q.with_wait();
        let meets = w
            .ttft_slo_s
            .is_none_or(|slo| ttft_tail(&q, first_step(tpot_tail), slo) <= tail_allowed);
        meets.then_some(ServerPoint {
            at: (throughput, tpot_mean, step),
            queue: q,
            tpot_tail,
        })
    };
    let (_, best_tpot, _) = at(1.0);
    e.best_tpot_s = best_tpot;
    e.best_ttft_s = prefill_mean + first_step(best_tpot);
    // Where the targets are judged at a mean batch of one: in server mode the batch in flight
    // at the percentile (a message that quoted the mean could say a target was missed while
    // quoting a figure under it).
    let best_queue = match w.mode {
        ServingMode::Offline => None,
        ServingMode::Server => Some(queue_at(1.0, best_tpot)),
    };
    let judged_tpot = best_queue.as_ref().map_or(best_tpot, tpot_tail_of);
    e.best_tpot_judged_s = judged_tpot;
    e.best_ttft_judged_s = prefill_s.iter().copied().fold(0.0, f64::max) + first_step(judged_tpot);
    let top = match w.mode {
        ServingMode::Offline => max_batch as u32,
        // A queue needs a free slot on average: at most every slot but one busy.
        ServingMode::Server => ((pp * max_batch - 1.0) / pp).floor() as u32,
    };
    let (mut lo, mut hi) = (0u32, top);
    let mut accepted = None;
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        let meets = match w.mode {
            ServingMode::Offline => true,
            ServingMode::Server => match server_check(f64::from(mid)) {
                Some(point) => {
                    accepted = Some(point);
                    true
                }
                None => false,
            },
        };
        if meets {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    if lo == 0 {
        // Too few slots: even at a mean of one sequence, the count in flight at the percentile
        // overflows the KV cache or the batch limit (requests would wait for a slot).
        let slots_short = w.mode == ServingMode::Server
            && (top == 0 || best_queue.is_some_and(|q| q.in_flight_at_z(z) > slots));
        e.infeasible = Some(if slots_short {
            ServeInfeasible::TooFewSlots
        } else {
            ServeInfeasible::SloUnmeetable
        });
        out.evaluation = e;
        return out;
    }
    let batch = f64::from(lo);
    // The last accepted check was at `lo` (server mode).
    let (throughput, tpot, step) = accepted.map_or_else(|| at(batch), |p| p.at);
    let ratio = if w.disaggregated {
        throughput / e_out * prefill_gpu_s / f64::from(layout.gpus())
    } else {
        0.0
    };
    e.batch = lo;
    e.output_tokens_per_s = throughput;
    e.output_tokens_per_s_per_gpu = throughput / (f64::from(layout.gpus()) * (1.0 + ratio));
    e.tpot_s = tpot;
    e.prefill_to_decode_ratio = ratio;
    e.kv_cache_gib = pp * batch * kv_per_token * arch.attended_context(ctx) / GIB;
    out.prefix_cache_gib = pp * batch * kv_per_token * cached_prefix / GIB;
    e.decode_step = step;
    match w.mode {
        ServingMode::Offline => {
            e.ttft_s = prefill_mean + first_step(tpot);
            e.ttft_at_percentile_s =
                ttft_percentile_no_wait(bins, prefill_s, first_step(tpot), w.slo_percentile);
            e.tpot_at_percentile_s = tpot;
        }
        ServingMode::Server => {
            let ServerPoint {
                queue: q,
                tpot_tail,
                ..
            } = accepted.expect("a batch was accepted");
            e.ttft_s = prefill_mean + first_step(tpot) + q.mean_wait_s();
            e.tpot_at_percentile_s = tpot_tail;
            let first = first_step(tpot_tail);
            // The TTFT percentile: with one bin, the prefill, the first step and the wait's
            // percentile (the wait's tail is exponential); with more, bisect P(TTFT > t) = tail.
            e.ttft_at_percentile_s = if let [_] = bins {
                prefill_s[0] + first + q.wait_at_percentile_s(w.slo_percentile)
            } else {
                let tail = TtftTail::new(&q, bins, prefill_s, first);
                ttft_percentile_bisected(&|t| tail.at(t), prefill_s, first, tail_allowed)
            };
            let (service_s, service_cv2) = service(tpot);
            out.queue = Some(QueueReport {
                slots: q.slots,
                offered_erlangs: q.mean_in_flight,
                utilisation: q.mean_in_flight / q.slots,
                wait_probability: q.wait_probability(),
                service_s,
                service_cv2,
                wait_at_percentile_s: q.wait_at_percentile_s(w.slo_percentile),
                in_flight_at_percentile: q.in_flight_at_percentile(w.slo_percentile).min(q.slots),
                in_flight_shape: q.shape,
            });
        }
    }
    e.feasible = true;
    out.evaluation = e;
    out
}

/// What server mode's check computed at an accepted mean batch.
#[derive(Clone, Copy)]
struct ServerPoint {
    /// (tokens/s per unit, TPOT, step) at the mean batch.
    at: (f64, f64, DecodeStep),
    /// The queue there.
    queue: BatchQueue,
    /// TPOT with the batch at the percentile.
    tpot_tail: f64,
}

fn infeasible(why: Option<ServeInfeasible>) -> ServingEvaluation {
    ServingEvaluation {
        batch: 0,
        max_batch: 0,
        output_tokens_per_s: 0.0,
        output_tokens_per_s_per_gpu: 0.0,
        ttft_s: f64::INFINITY,
        tpot_s: f64::INFINITY,
        ttft_at_percentile_s: f64::INFINITY,
        tpot_at_percentile_s: f64::INFINITY,
        kv_cache_gib: 0.0,
        weights_gib: 0.0,
        prefill_to_decode_ratio: 0.0,
        feasible: false,
        infeasible: why,
        best_tpot_s: f64::INFINITY,
        best_ttft_s: f64::INFINITY,
        best_tpot_judged_s: f64::INFINITY,
        best_ttft_judged_s: f64::INFINITY,
        decode_step: DecodeStep::default(),
    }
}

/// The best layouts for traffic: the layouts [`search_serving`] tries, each evaluated on the
/// traffic, best per accelerator first.
#[allow(clippy::too_many_arguments)]
pub fn search_traffic(
    arch: &Arch,
    hw: &Hardware,
    precision: crate::step::Precision,
    kv_bytes: f64,
    w: &ServingWorkload,
    traffic: &Traffic,
    c: &ModelConstants,
    top: usize,
) -> (Vec<(ServingLayout, TrafficEvaluation)>, u64) {
    search_traffic_with(
        arch,
        hw,
        precision,
        kv_bytes,
        w,
        traffic,
        c,
        &ServingEfficiency::default(),
        top,
    )
}

/// [`search_traffic`] with an engine's efficiencies.
#[allow(clippy::too_many_arguments)]
pub fn search_traffic_with(
    arch: &Arch,
    hw: &Hardware,
    precision: crate::step::Precision,
    kv_bytes: f64,
    w: &ServingWorkload,
    traffic: &Traffic,
    c: &ModelConstants,
    eff: &ServingEfficiency,
    top: usize,
) -> (Vec<(ServingLayout, TrafficEvaluation)>, u64) {
    let layouts = super::search::candidate_layouts(arch, hw, precision, kv_bytes);
    let evaluated = layouts.len() as u64;
    let mut found: Vec<(ServingLayout, TrafficEvaluation)> = layouts
        .into_iter()
        .map(|l| {
            let t = evaluate_traffic_with(arch, hw, &l, w, traffic, c, eff);
            (l, t)
        })
        .filter(|(_, t)| t.evaluation.feasible)
        .collect();
    found.sort_by(|a, b| {
        b.1.evaluation
            .output_tokens_per_s_per_gpu
            .total_cmp(&a.1.evaluation.output_tokens_per_s_per_gpu)
            .then((a.0.tp, a.0.pp, a.0.ep).cmp(&(b.0.tp, b.0.pp, b.0.ep)))
    });
    found.truncate(top);
    (found, evaluated)
}

mod ttft;

#[cfg(test)]
mod tests;
