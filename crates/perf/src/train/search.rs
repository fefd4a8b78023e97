//! Strategy search: every valid layout of a model on a cluster, evaluated in parallel, best
//! first.

use rayon::prelude::*;
use serde::Serialize;

use super::framework::{Framework, ZeroStages};
use super::stages::split_layers;
use super::step::{evaluate_with, fits_in_memory, Evaluation, Hardware, ModelConstants, Workload};
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

/// A narrower layout space, for callers that need a good layout of a large model fast rather
/// than the best of every layout: the capability tables search at every grid point of every
/// system type in each plan. [`Pruning::none`] is the whole space.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pruning {
    /// Only these ZeRO stages (where the framework runs them); `None`: every stage.
    pub zero: Option<ZeroStages>,
    /// With tp > 1, sequence parallelism only: it shards the activations tensor parallelism
    /// leaves whole, at the same communication volume (reduce-scatter + all-gather in place of
    /// all-reduce).
    pub sequence_parallel_with_tp: bool,
    /// For each layout, only the least recomputation that fits (none, then selective, then
    /// full): more recomputation adds compute and saves nothing but memory, so it is never
    /// faster (for the best layout, `top` = 1, this drops nothing).
    pub least_recompute: bool,
    /// Per (tp, cp, pp), first the layout with the least memory (the widest expert
    /// parallelism, one sequence a microbatch, no interleaving, full recompute, the highest
    /// ZeRO stage searched): when even it does not fit, nothing else of that split is tried.
    /// Memory falls with each of those choices, so this skips only layouts that do not fit;
    /// most of a large model's splits do not, and a search where nothing fits is all of them.
    pub frugal_first: bool,
    /// Largest context-parallel width tried.
    pub max_cp: u32,
    /// Largest pipeline depth tried.
    pub max_pp: u32,
}

impl Pruning {
    /// The whole space.
    pub fn none() -> Pruning {
        Pruning {
            zero: None,
            sequence_parallel_with_tp: false,
            least_recompute: false,
            frugal_first: false,
            max_cp: 32,
            max_pp: 128,
        }
    }
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
    search_pruned(arch, hw, w, options, constants, framework, &Pruning::none())
}

/// [`search_with`] over the space `pruning` leaves.
pub fn search_pruned(
    arch: &Arch,
    hw: &Hardware,
    w: &Workload,
    options: &SearchOptions,
    constants: &ModelConstants,
    framework: &Framework,
    pruning: &Pruning,
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
        for cp in powers_of_two(u64::from(pruning.max_cp.clamp(1, 32))) {
            for pp in 1..=layers.min(u64::from(pruning.max_pp.clamp(1, 128))) as u32 {
                let model_parallel = u64::from(tp) * u64::from(cp) * u64::from(pp);
                if gpus % model_parallel == 0 {
                    outer.push((tp, cp, pp, (gpus / model_parallel) as u32));
                }
            }
        }
    }
    let zeros: Vec<u8> = match pruning.zero {
        Some(stages) => stages.list(),
        None => (0..=3).collect(),
    };
    let recomputes = [Recompute::None, Recompute::Selective, Recompute::Full];
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
            let sps: &[bool] = if tp == 1 {
                &[false]
            } else if pruning.sequence_parallel_with_tp && framework.sequence_parallel {
                &[true]
            } else {
                &[false, true]
            };
            if pruning.frugal_first {
                let allowed = if pp > 1 {
                    framework.zero_stages_with_pp
                } else {
                    framework.zero_stages
                };
                let frugal = zeros.iter().rev().find(|z| allowed.has(**z)).map(|&zero| {
                    framework.apply(Strategy {
                        tp,
                        pp,
                        dp,
                        cp,
                        ep: eps.last().copied().unwrap_or(1),
                        virtual_pp: 1,
                        microbatch: 1,
                        sequence_parallel: tp > 1 && framework.sequence_parallel,
                        recompute: Recompute::Full,
                        zero,
                        ..Strategy::single()
                    })
                });
                if let Some(s) = frugal {
                    let valid = validate_strategy(arch, &s, w, gpus).is_ok()
                        && framework.check(arch, &s, w).is_ok();
                    if valid && !fits_in_memory(arch, hw, &s, w, constants) {
                        return (best, 1, 0, 0);
                    }
                }
            }
            for microbatch in divisors(per_replica, u64::from(options.max_microbatch)) {
                let microbatches = per_replica / u64::from(microbatch);
                for &ep in &eps {
                    for &virtual_pp in &vpps {
                        if virtual_pp > 1 && !microbatches.is_multiple_of(u64::from(pp)) {
                            continue;
                        }
                        for &zero in &zeros {
                            for &sequence_parallel in sps {
                                for recompute in recomputes {
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
                                    // Memory first: timing a layout that does not fit is
                                    // wasted work (the result is the same).
                                    if !fits_in_memory(arch, hw, &s, w, constants) {
                                        continue;
                                    }
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
                                    if pruning.least_recompute {
                                        break;
                                    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reference::{deepseek_v3, h100_sxm, llama3_405b, megatron_core};
    use crate::train::step::Precision;

    fn workload(batch: f64) -> Workload {
        Workload {
            global_batch: batch,
            seq_len: 8192.0,
            precision: Precision::Bf16,
            components: None,
            moe: crate::MoeRouting::default(),
        }
    }

    /// The prunings that drop only slower or larger layouts (least recompute, sequence
    /// parallelism with tp, splits whose least-memory layout does not fit) keep the whole
    /// space's best layout, dense and MoE, and evaluate far fewer.
    #[test]
    fn lossless_pruning_keeps_the_best_layout() {
        let framework = megatron_core();
        let options = SearchOptions {
            gpus: 1024,
            top: 1,
            max_microbatch: 1,
        };
        let pruning = Pruning {
            zero: None,
            sequence_parallel_with_tp: true,
            least_recompute: true,
            frugal_first: true,
            ..Pruning::none()
        };
        let c = ModelConstants::default();
        for arch in [llama3_405b(), deepseek_v3()] {
            let w = workload(1024.0);
            let full = search_with(&arch, &h100_sxm(), &w, &options, &c, &framework);
            let pruned = search_pruned(&arch, &h100_sxm(), &w, &options, &c, &framework, &pruning);
            let (a, b) = (full.top[0], pruned.top[0]);
            assert_eq!(layout_key(&a.strategy), layout_key(&b.strategy));
            assert_eq!(a.evaluation.step_time_s, b.evaluation.step_time_s);
            assert!(
                pruned.evaluated * 2 < full.evaluated,
                "{} vs {}",
                pruned.evaluated,
                full.evaluated
            );
        }
    }

    /// Asking memory first changes nothing the search reports.
    #[test]
    fn the_whole_space_is_searched_as_before() {
        let framework = megatron_core();
        let options = SearchOptions {
            gpus: 256,
            top: 5,
            max_microbatch: 2,
        };
        let arch = llama3_405b();
        let w = workload(256.0);
        let c = ModelConstants::default();
        let result = search_with(&arch, &h100_sxm(), &w, &options, &c, &framework);
        // Every layout that fits, timed: each of the top five is feasible, in order.
        assert_eq!(result.top.len(), 5);
        for pair in result.top.windows(2) {
            assert!(pair[0].evaluation.step_time_s <= pair[1].evaluation.step_time_s);
        }
        for r in &result.top {
            assert!(r.evaluation.feasible);
            let again = evaluate_with(&arch, &h100_sxm(), &r.strategy, &w, &c);
            assert!(fits_in_memory(&arch, &h100_sxm(), &r.strategy, &w, &c) == again.feasible);
        }
    }
}
