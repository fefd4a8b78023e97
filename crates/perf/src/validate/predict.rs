//! One case's prediction: the published layout, with `auto` fields resolved the way the row's
//! framework would run it (the least recompute that fits; for an unpublished TP/PP the fastest
//! layout that fits), then the step model.

use crate::step::{evaluate_with, Evaluation, Hardware, Infeasible, ModelConstants, Recompute};
use crate::step::Strategy;
use crate::validate::rows::Case;

/// The model's answer for one case.
#[derive(Debug, Clone, Copy)]
pub struct Prediction {
    /// The step model's evaluation.
    pub evaluation: Evaluation,
    /// The layout evaluated (auto fields resolved).
    pub strategy: Strategy,
}

/// Predicts `case` on `hw` with `constants`; `Err` when no layout can be evaluated at all (for
/// example the accelerator has no matmul units at the row's precision).
pub fn predict(case: &Case, hw: &Hardware, constants: &ModelConstants) -> Result<Prediction, String> {
    let candidates = if case.auto_layout {
        layouts(case, hw)
    } else {
        vec![case.strategy]
    };
    let mut best: Option<Prediction> = None;
    for strategy in candidates {
        let prediction = with_recompute(case, strategy, hw, constants);
        if prediction.evaluation.infeasible == Some(Infeasible::PrecisionUnsupported) {
            return Err(Infeasible::PrecisionUnsupported.describe().to_string());
        }
        let better = match &best {
            None => true,
            Some(b) => {
                let (new, old) = (&prediction.evaluation, &b.evaluation);
                (new.feasible && !old.feasible)
                    || (new.feasible == old.feasible && new.step_time_s < old.step_time_s)
            }
        };
        if better {
            best = Some(prediction);
        }
    }
    best.ok_or_else(|| format!("no TP x PP layout of {} GPUs to search", case.gpus))
}

/// The least recompute that fits when the row does not say; the row's own otherwise.
fn with_recompute(
    case: &Case,
    strategy: Strategy,
    hw: &Hardware,
    constants: &ModelConstants,
) -> Prediction {
    let eval = |s: &Strategy| evaluate_with(&case.arch, hw, s, &case.workload, constants);
    if !case.auto_recompute {
        return Prediction {
            evaluation: eval(&strategy),
            strategy,
        };
    }
    let mut last = None;
    for recompute in [Recompute::None, Recompute::Selective, Recompute::Full] {
        let s = Strategy {
            recompute,
            ..strategy
        };
        let evaluation = eval(&s);
        if evaluation.feasible {
            return Prediction {
                evaluation,
                strategy: s,
            };
        }
        last = Some(Prediction {
            evaluation,
            strategy: s,
        });
    }
    last.expect("three recompute settings were tried")
}

/// TP (powers of two inside the scale-up domain) x PP (divisors, at most the layers) layouts
/// of the case's GPUs, keeping its published DP, CP and EP where given.
fn layouts(case: &Case, hw: &Hardware) -> Vec<Strategy> {
    let s = case.strategy;
    let (gpus, cp) = (case.gpus.max(1), s.cp.max(1));
    let mut out = Vec::new();
    for tp in [1u32, 2, 4, 8, 16] {
        if f64::from(tp) > hw.scale_up_domain || gpus % (tp * cp) != 0 {
            continue;
        }
        let rest = gpus / (tp * cp);
        for pp in 1..=rest {
            if rest % pp != 0 || f64::from(pp) > case.arch.layers {
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
            let ep_fits = s.ep <= 1 || (dp * tp) % s.ep == 0;
            if !ep_fits {
                continue;
            }
            out.push(Strategy {
                tp,
                pp,
                dp,
                sequence_parallel: s.sequence_parallel && tp > 1,
                ..s
            });
        }
    }
    out
}
