//! One case's prediction: the published layout, with `auto` fields resolved the way the row's
//! framework would run it, then the step model.
//!
//! Resolution happens once per row, before any fit: unpublished recompute is the first step of
//! the framework's recompute ladder (`recompute_ladder`: none, then selective modules cheapest
//! first, then full) that fits in memory, and memory does not depend on the fitted constants,
//! so the choice cannot leak a held-out family into a fold. Only an unpublished TP/PP layout is
//! chosen per set of constants (the fastest legal candidate that fits), because which layout
//! is fastest is itself a prediction; the same holds for a microbatch the publication does not
//! print where its framework has no default to fill it with (`Family::microbatch_auto`).

use crate::step::Strategy;
use crate::step::{evaluate_with, Evaluation, Hardware, Infeasible, ModelConstants};
use crate::train::recompute_ladder;
use crate::validate::rows::Case;

/// The model's answer for one case.
#[derive(Debug, Clone)]
pub struct Prediction {
    /// The step model's evaluation.
    pub evaluation: Evaluation,
    /// The layout evaluated (auto fields resolved).
    pub strategy: Strategy,
    /// Why the row's framework cannot run that layout (`None`: it can).
    pub illegal: Option<String>,
}

/// The layouts a case may run, recompute resolved: one for a published layout, the legal
/// candidates for an `auto` one. `Err` when none can be evaluated (no layout of that size, or
/// the accelerator has no matmul units at the row's precision).
pub fn resolve(
    case: &Case,
    hw: &Hardware,
    constants: &ModelConstants,
) -> Result<Vec<Strategy>, String> {
    let fw = &case.framework_facts;
    let candidates: Vec<Strategy> = if case.auto_layout {
        layouts(case, hw)
            .into_iter()
            .filter(|s| fw.check(&case.arch, s, &case.workload).is_ok())
            .collect()
    } else {
        vec![case.strategy]
    };
    let candidates = if case.auto_microbatch {
        with_microbatches(case, candidates)
            .into_iter()
            .filter(|s| fw.check(&case.arch, s, &case.workload).is_ok())
            .collect()
    } else {
        candidates
    };
    let candidates = if case.auto_virtual_pp {
        with_virtual_stages(case, candidates)
            .into_iter()
            .filter(|s| fw.check(&case.arch, s, &case.workload).is_ok())
            .collect()
    } else {
        candidates
    };
    if candidates.is_empty() {
        return Err(format!(
            "no TP x PP layout of {} GPUs that the framework runs",
            case.gpus
        ));
    }
    let eval = |s: &Strategy| evaluate_with(&case.arch, hw, s, &case.workload, constants);
    if eval(&candidates[0]).infeasible == Some(Infeasible::PrecisionUnsupported) {
        return Err(Infeasible::PrecisionUnsupported.describe().to_string());
    }
    if !case.auto_recompute {
        return Ok(candidates);
    }
    Ok(candidates
        .into_iter()
        .map(|s| {
            let ladder = recompute_ladder(&case.arch, &s, fw);
            ladder
                .iter()
                .copied()
                .find(|step| eval(step).feasible)
                .or_else(|| ladder.last().copied())
                .unwrap_or(s)
        })
        .collect())
}

/// Evaluates the resolved candidates with `constants`: the fastest that fits (the fastest of
/// all when none fits).
pub fn predict(
    case: &Case,
    hw: &Hardware,
    candidates: &[Strategy],
    constants: &ModelConstants,
) -> Prediction {
    let fw = &case.framework_facts;
    let mut best: Option<(Evaluation, Strategy)> = None;
    for s in candidates {
        let e = evaluate_with(&case.arch, hw, s, &case.workload, constants);
        let better = match &best {
            None => true,
            Some((old, _)) => {
                (e.feasible && !old.feasible)
                    || (e.feasible == old.feasible && e.step_time_s < old.step_time_s)
            }
        };
        if better {
            best = Some((e, *s));
        }
    }
    let (evaluation, strategy) = best.expect("resolve returns at least one candidate");
    Prediction {
        evaluation,
        strategy,
        illegal: fw.check(&case.arch, &strategy, &case.workload).err(),
    }
}

/// Microbatches an unpublished one may be: powers of two up to `MAX_AUTO_MICROBATCH` that
/// split each data-parallel rank's share of the global batch evenly.
fn with_microbatches(case: &Case, candidates: Vec<Strategy>) -> Vec<Strategy> {
    let mut out = Vec::new();
    for s in candidates {
        let per_rank = case.workload.global_batch / f64::from(s.dp.max(1));
        let mut microbatch = 1u32;
        while microbatch <= MAX_AUTO_MICROBATCH {
            let microbatches = per_rank / f64::from(microbatch);
            if microbatches >= 1.0 && microbatches.fract() == 0.0 {
                out.push(Strategy { microbatch, ..s });
            }
            microbatch *= 2;
        }
    }
    out
}

/// Interleaved chunk counts an unpublished one may be, for each candidate with PP > 1: every
/// count of 2 or more that divides a stage's layers, where the microbatches per step are a
/// multiple of PP (Megatron-Core's interleaved schedule asserts it). A candidate with none
/// keeps one chunk per stage.
fn with_virtual_stages(case: &Case, candidates: Vec<Strategy>) -> Vec<Strategy> {
    let mut out = Vec::new();
    for s in candidates {
        let per_rank = case.workload.global_batch / f64::from(s.dp.max(1) * s.microbatch.max(1));
        let layers = case.arch.layers as u32;
        let interleavable = s.pp > 1
            && layers.is_multiple_of(s.pp)
            && per_rank.fract() == 0.0
            && (per_rank as u32).is_multiple_of(s.pp);
        let per_stage = if interleavable { layers / s.pp } else { 0 };
        let before = out.len();
        for virtual_pp in 2..=per_stage {
            if per_stage.is_multiple_of(virtual_pp) {
                out.push(Strategy { virtual_pp, ..s });
            }
        }
        if out.len() == before {
            out.push(s);
        }
    }
    out
}

/// The largest microbatch an `auto` one is searched up to (a bound on the search; memory
/// decides which of 1..8 fit).
const MAX_AUTO_MICROBATCH: u32 = 8;

/// TP (powers of two inside the scale-up domain) x PP (divisors, at most the layers) layouts
/// of the case's GPUs, keeping its published DP, CP and EP where given.
fn layouts(case: &Case, hw: &Hardware) -> Vec<Strategy> {
    let s = case.strategy;
    let (gpus, cp) = (case.gpus.max(1), s.cp.max(1));
    let mut out = Vec::new();
    for tp in [1u32, 2, 4, 8, 16] {
        if f64::from(tp) > hw.scale_up_domain || !gpus.is_multiple_of(tp * cp) {
            continue;
        }
        let rest = gpus / (tp * cp);
        for pp in 1..=rest {
            if !rest.is_multiple_of(pp) || f64::from(pp) > case.arch.layers {
                continue;
            }
            let dp = rest / pp;
            if s.dp > 0 && dp != s.dp {
                continue;
            }
            let per_rank = case.workload.global_batch / f64::from(dp * s.microbatch.max(1));
            if per_rank < 1.0 || per_rank.fract() != 0.0 {
                continue;
            }
            if s.ep > 1 && !(dp * tp).is_multiple_of(s.ep) {
                continue;
            }
            let candidate = case.framework_facts.apply(Strategy {
                tp,
                pp,
                dp,
                sequence_parallel: s.sequence_parallel && tp > 1,
                ..s
            });
            out.push(Strategy {
                fp32_gradients: s.fp32_gradients,
                ..candidate
            });
        }
    }
    out
}
