//! Strategy search: every valid layout of a model on a cluster, evaluated in parallel, best
//! first.

use rayon::prelude::*;
use serde::Serialize;

use super::framework::Framework;
use super::stages::split_layers;
use super::step::{evaluate_with, Evaluation, Hardware, ModelConstants, Workload};
use super::strategy::{Recompute, Strategy};
use crate::arch::Arch;

/// What to search.
#[derive(Debug, Clone)]
pub struct SearchOptions {
    /// Accelerators in the job.
    pub gpus: u32,
    /// Results to keep.
    pub top: usize,
    /// Largest microbatch tried.
    pub max_microbatch: u32,
}

/// A strategy and how it performs.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Ranked {
    /// The layout.
    pub strategy: Strategy,
    /// Its evaluation.
    pub evaluation: Evaluation,
}

/// The best strategies and how many were looked at.
#[derive(Debug, Clone, Serialize)]
pub struct SearchResult {
    /// Best first, feasible only.
    pub top: Vec<Ranked>,
    /// Strategies evaluated.
    pub evaluated: u64,
    /// Of which feasible (fit in memory).
    pub feasible: u64,
    /// Layouts that exist but the framework cannot run (not evaluated).
    pub illegal: u64,
}

/// Why a strategy is not a valid layout for this model and job (not about memory).
pub fn validate_strategy(arch: &Arch, s: &Strategy, w: &Workload, gpus: u64) -> Result<(), String> {
    let need = |ok: bool, message: String| if ok { Ok(()) } else { Err(message) };
    for (name, value) in [
        ("tp", s.tp),
        ("pp", s.pp),
        ("dp", s.dp),
        ("cp", s.cp),
        ("ep", s.ep),
        ("virtual_pp", s.virtual_pp),
        ("microbatch", s.microbatch),
    ] {
        need(value >= 1, format!("`{name}` must be at least 1"))?;
    }
    need(
        s.zero <= 3,
        format!("`zero` is {}; stages are 0 to 3", s.zero),
    )?;
    need(
        s.gpus() == gpus,
        format!(
            "tp x pp x dp x cp = {} x {} x {} x {} = {} is not the {gpus} GPUs",
            s.tp,
            s.pp,
            s.dp,
            s.cp,
            s.gpus()
        ),
    )?;
    let (heads, kv) = (arch.heads as u32, arch.kv_heads as u32);
    need(
        heads % s.tp == 0,
        format!("tp = {} does not divide the {heads} attention heads", s.tp),
    )?;
    need(
        kv % s.tp == 0 || s.tp.is_multiple_of(kv),
        format!(
            "tp = {} and the {kv} key/value heads do not divide one another",
            s.tp
        ),
    )?;
    split_layers(
        arch.layers as u32,
        s.pp,
        s.virtual_pp,
        s.first_stage_layers,
        s.last_stage_layers,
    )
    .map_err(|e| e.message)?;
    need(
        s.virtual_pp == 1 || s.pp > 1,
        "virtual_pp > 1 needs pp > 1".to_string(),
    )?;
    let batch = w.global_batch as u64;
    let per_step = u64::from(s.dp) * u64::from(s.microbatch);
    need(
        batch.is_multiple_of(per_step),
        format!("global_batch = {batch} is not a multiple of dp x microbatch = {per_step}"),
    )?;
    let microbatches = batch / per_step;
    need(
        s.virtual_pp == 1 || microbatches.is_multiple_of(u64::from(s.pp)),
        format!(
            "interleaving needs the {microbatches} microbatches to be a multiple of pp = {}",
            s.pp
        ),
    )?;
    let seq = w.seq_len as u64;
    need(
        s.cp == 1 || seq.is_multiple_of(2 * u64::from(s.cp)),
        format!(
            "seq_len = {seq} does not split into 2 x cp = {} chunks",
            2 * s.cp
        ),
    )?;
    if arch.is_moe() {
        let experts = arch.experts as u32;
        need(
            experts.is_multiple_of(s.ep),
            format!("ep = {} does not divide the {experts} experts", s.ep),
        )?;
        need(
            (s.dp * s.cp).is_multiple_of(s.ep),
            format!(
                "ep = {} must divide dp x cp = {} (experts are sharded inside data parallel)",
                s.ep,
                s.dp * s.cp
            ),
        )?;
    } else {
        need(
            s.ep == 1,
            "ep > 1 needs a mixture-of-experts model".to_string(),
        )?;
    }
    need(
        !(s.sequence_parallel && s.tp == 1),
        "sequence_parallel needs tp > 1".to_string(),
    )?;
    Ok(())
}

fn divisors(n: u64, limit: u64) -> Vec<u32> {
    (1..=n.min(limit))
        .filter(|d| n.is_multiple_of(*d))
        .map(|d| d as u32)
        .collect()
}

fn powers_of_two(limit: u64) -> Vec<u32> {
    let mut out = Vec::new();
    let mut x = 1u64;
    while x <= limit {
        out.push(x as u32);
        x *= 2;
    }
    out
}

/// Every valid strategy, evaluated; the `top` fastest feasible ones, best first, with no
/// framework's restrictions ([`Framework::unrestricted`]).
pub fn search(
    arch: &Arch,
    hw: &Hardware,
    w: &Workload,
    options: &SearchOptions,
    constants: &ModelConstants,
) -> SearchResult {
    search_with(arch, hw, w, options, constants, &Framework::unrestricted())
}

/// Every valid strategy that `framework` runs, with its software, evaluated; the `top`
/// fastest feasible ones, best first. Pipeline depths need not divide the layers (uneven
/// stages, where the framework has them).
pub fn search_with(
    arch: &Arch,
    hw: &Hardware,
    w: &Workload,
    options: &SearchOptions,
    constants: &ModelConstants,
    framework: &Framework,
) -> SearchResult {
    let gpus = u64::from(options.gpus);
    let batch = w.global_batch as u64;
    let layers = arch.layers as u64;
    // Outer choices, evaluated in parallel; results do not depend on the thread count because
    // each outer tuple's inner loop is sequential and the merge sorts with a total order.
    let mut outer = Vec::new();
    for tp in powers_of_two(
        (arch.heads as u64)
            .min(hw.scale_up_domain.max(1.0) as u64)
            .min(64),
    ) {
        for cp in powers_of_two(32) {
            for pp in 1..=layers.min(128) as u32 {
                let model_parallel = u64::from(tp) * u64::from(cp) * u64::from(pp);
                if gpus % model_parallel == 0 {
                    outer.push((tp, cp, pp, (gpus / model_parallel) as u32));
                }
            }
        }
    }
    let partial: Vec<(Vec<Ranked>, u64, u64, u64)> = outer
        .par_iter()
        .map(|&(tp, cp, pp, dp)| {
            let mut best: Vec<Ranked> = Vec::new();
            let (mut evaluated, mut feasible, mut illegal) = (0u64, 0u64, 0u64);
            if !batch.is_multiple_of(u64::from(dp)) {
                return (best, 0, 0, 0);
            }
            let per_replica = batch / u64::from(dp);
            let eps: Vec<u32> = if arch.is_moe() {
                divisors(arch.experts as u64, 1024)
                    .into_iter()
                    .filter(|e| (dp * cp) % e == 0)
                    .collect()
            } else {
                vec![1]
            };
            let vpps: Vec<u32> = if pp > 1 {
                divisors(layers.div_ceil(u64::from(pp)), 8)
            } else {
                vec![1]
            };
            for microbatch in divisors(per_replica, u64::from(options.max_microbatch)) {
                let microbatches = per_replica / u64::from(microbatch);
                for &ep in &eps {
                    for &virtual_pp in &vpps {
                        if virtual_pp > 1 && !microbatches.is_multiple_of(u64::from(pp)) {
                            continue;
                        }
                        for recompute in [Recompute::None, Recompute::Selective, Recompute::Full] {
                            for zero in 0..=3u8 {
                                for sequence_parallel in [false, true] {
                                    if sequence_parallel && tp == 1 {
                                        continue;
                                    }
                                    let s = framework.apply(Strategy {
                                        tp,
                                        pp,
                                        dp,
                                        cp,
                                        ep,
                                        virtual_pp,
                                        microbatch,
                                        sequence_parallel,
                                        recompute,
                                        zero,
                                        ..Strategy::single()
                                    });
                                    if validate_strategy(arch, &s, w, gpus).is_err() {
                                        continue;
                                    }
                                    if framework.check(arch, &s, w).is_err() {
                                        illegal += 1;
                                        continue;
                                    }
                                    evaluated += 1;
                                    let e = evaluate_with(arch, hw, &s, w, constants);
                                    if !e.feasible {
                                        continue;
                                    }
                                    feasible += 1;
                                    keep(
                                        &mut best,
                                        Ranked {
                                            strategy: s,
                                            evaluation: e,
                                        },
                                        options.top,
                                    );
                                }
                            }
                        }
                    }
                }
            }
            (best, evaluated, feasible, illegal)
        })
        .collect();
    let mut top = Vec::new();
    let (mut evaluated, mut feasible, mut illegal) = (0, 0, 0);
    for (best, e, f, i) in partial {
        evaluated += e;
        feasible += f;
        illegal += i;
        for r in best {
            keep(&mut top, r, options.top);
        }
    }
    SearchResult {
        top,
        evaluated,
        feasible,
        illegal,
    }
}

type LayoutKey = (u32, u32, u32, u32, u32, u32, u32, bool, u8, u8);

fn layout_key(s: &Strategy) -> LayoutKey {
    let recompute = match s.recompute {
        Recompute::None => 0,
        Recompute::Selective => 1,
        Recompute::Full => 2,
    };
    (
        s.tp,
        s.pp,
        s.dp,
        s.cp,
        s.ep,
        s.virtual_pp,
        s.microbatch,
        s.sequence_parallel,
        recompute,
        s.zero,
    )
}

/// Inserts `r` into `best` (sorted fastest first, ties broken by a total order on the layout so
/// that the result does not depend on evaluation order), keeping at most `k`.
fn keep(best: &mut Vec<Ranked>, r: Ranked, k: usize) {
    let before = |a: &Ranked, b: &Ranked| {
        let (ta, tb) = (a.evaluation.step_time_s, b.evaluation.step_time_s);
        ta < tb || (ta == tb && layout_key(&a.strategy) < layout_key(&b.strategy))
    };
    if best.len() >= k && best.last().is_some_and(|worst| !before(&r, worst)) {
        return;
    }
    let position = best
        .iter()
        .position(|b| before(&r, b))
        .unwrap_or(best.len());
    best.insert(position, r);
    best.truncate(k);
}
