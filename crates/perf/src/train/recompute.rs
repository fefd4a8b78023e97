//! `recompute = "auto"`: the least recomputation that fits, for when a source or a user does
//! not say which they used. The candidates run from none through selective modules (the
//! attention core, then the norms, the expert activation, MLA's up-projections, whole MLPs)
//! to full recompute of a growing number of layers per pipeline chunk, each kept only if the
//! framework runs it; the fastest that fits wins (recomputation only ever costs time, so that
//! is the least recomputation that fits).

use super::framework::Framework;
use super::search::validate_strategy;
use super::stages::split_layers;
use super::step::{evaluate_with, Evaluation, Hardware, ModelConstants, Workload};
use super::strategy::{Recompute, RecomputeModules as M, Strategy};
use crate::arch::Arch;

/// Every recompute choice the framework runs for this model and layout, least first.
pub fn recompute_ladder(arch: &Arch, s: &Strategy, fw: &Framework) -> Vec<Strategy> {
    let with = |recompute, modules, layers| Strategy {
        recompute,
        recompute_modules: modules,
        recompute_layers: layers,
        ..*s
    };
    let mut ladder = vec![with(Recompute::None, M::NONE, 0)];
    // Each module the framework can recompute, cheapest first, added to the ones before it.
    let mut modules = M::NONE;
    let mut steps = vec![M::CORE_ATTN, M::LAYERNORM];
    if arch.is_moe() {
        steps.push(M::MOE_ACT);
    }
    if arch.mla.is_some() {
        steps.push(M::MLA_UP_PROJ);
    }
    if arch.moe_layers() < arch.layers {
        steps.push(M::MLP);
    }
    if arch.is_moe() {
        steps.push(M::MOE);
    }
    for step in steps {
        if fw.recompute_modules.contains(step) {
            modules = modules.union(step);
            ladder.push(with(Recompute::Selective, modules, 0));
        }
    }
    if fw.partial_recompute {
        let stages = split_layers(
            arch.layers as u32,
            s.pp,
            s.virtual_pp,
            s.first_stage_layers,
            s.last_stage_layers,
        );
        let chunk = stages.map_or(1, |st| st.max_layers().div_ceil(s.virtual_pp.max(1)));
        let mut n = 1;
        while n < chunk {
            ladder.push(with(Recompute::Full, M::NONE, n));
            n *= 2;
        }
    }
    ladder.push(with(Recompute::Full, M::NONE, 0));
    ladder
}

/// Why no recompute choice fits, and which changes of layout would.
#[derive(Debug, Clone, PartialEq)]
pub struct NothingFits {
    /// Memory per accelerator with full recompute, bytes.
    pub needs_bytes: f64,
    /// Accelerator memory, bytes.
    pub capacity_bytes: f64,
    /// Layout changes that fit with some recompute (`"pp = 16 (dp 64)"`), if any were found.
    pub would_fit: Vec<String>,
}

/// The fastest recompute choice for `s` that fits, with its evaluation.
pub fn least_recompute_that_fits(
    arch: &Arch,
    hw: &Hardware,
    s: &Strategy,
    w: &Workload,
    c: &ModelConstants,
    fw: &Framework,
) -> Result<(Strategy, Evaluation), NothingFits> {
    if let Some(found) = fastest_fit(arch, hw, s, w, c, fw) {
        return Ok(found);
    }
    let full = Strategy {
        recompute: Recompute::Full,
        recompute_layers: 0,
        ..*s
    };
    let needs_bytes = evaluate_with(arch, hw, &full, w, c).memory.total_bytes;
    let gpus = s.gpus();
    let mut would_fit = Vec::new();
    let halve_dp = |t: Strategy| {
        s.dp.is_multiple_of(2)
            .then_some(Strategy { dp: s.dp / 2, ..t })
    };
    let alternatives = [
        (halve_dp(Strategy { pp: s.pp * 2, ..*s }), "pp"),
        (halve_dp(Strategy { tp: s.tp * 2, ..*s }), "tp"),
        (halve_dp(Strategy { cp: s.cp * 2, ..*s }), "cp"),
        (
            (s.zero < 3).then_some(Strategy {
                zero: s.zero + 1,
                ..*s
            }),
            "zero",
        ),
        (
            (s.microbatch > 1).then_some(Strategy {
                microbatch: 1,
                ..*s
            }),
            "microbatch",
        ),
    ];
    for (alternative, what) in alternatives {
        let Some(alternative) = alternative else {
            continue;
        };
        let alternative = fw.apply(Strategy {
            first_stage_layers: 0,
            last_stage_layers: 0,
            ..alternative
        });
        if what == "tp" && f64::from(alternative.tp) > hw.scale_up_domain {
            continue;
        }
        if validate_strategy(arch, &alternative, w, gpus).is_err()
            || fw.check(arch, &alternative, w).is_err()
        {
            continue;
        }
        if let Some((fit, _)) = fastest_fit(arch, hw, &alternative, w, c, fw) {
            let value = match what {
                "pp" => fit.pp,
                "tp" => fit.tp,
                "cp" => fit.cp,
                "zero" => u32::from(fit.zero),
                _ => fit.microbatch,
            };
            let dp = if fit.dp == s.dp {
                String::new()
            } else {
                format!(" (dp {})", fit.dp)
            };
            would_fit.push(format!("{what} = {value}{dp}"));
        }
    }
    Err(NothingFits {
        needs_bytes,
        capacity_bytes: hw.hbm_bytes,
        would_fit,
    })
}

fn fastest_fit(
    arch: &Arch,
    hw: &Hardware,
    s: &Strategy,
    w: &Workload,
    c: &ModelConstants,
    fw: &Framework,
) -> Option<(Strategy, Evaluation)> {
    let mut best: Option<(Strategy, Evaluation)> = None;
    for candidate in recompute_ladder(arch, s, fw) {
        if fw.check(arch, &candidate, w).is_err() {
            continue;
        }
        let e = evaluate_with(arch, hw, &candidate, w, c);
        if e.feasible
            && best
                .as_ref()
                .is_none_or(|(_, b)| e.step_time_s < b.step_time_s)
        {
            best = Some((candidate, e));
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reference;
    use crate::train::step::Precision;

    #[test]
    fn auto_picks_no_recompute_when_everything_fits() {
        let arch = reference::llama3_70b();
        let hw = reference::h100_sxm();
        let w = Workload {
            global_batch: 64.0,
            seq_len: 2048.0,
            precision: Precision::Bf16,
            components: None,
            moe: crate::train::MoeRouting::default(),
        };
        let fw = reference::megatron_core();
        let s = fw.apply(Strategy {
            tp: 8,
            pp: 8,
            dp: 1,
            sequence_parallel: true,
            zero: 1,
            ..Strategy::single()
        });
        let (chosen, e) =
            least_recompute_that_fits(&arch, &hw, &s, &w, &ModelConstants::default(), &fw).unwrap();
        assert!(e.feasible);
        assert_eq!(chosen.recompute, Recompute::None);
    }

    #[test]
    fn auto_with_nothing_that_fits_says_what_would() {
        // Llama 3 70B on 8 GPUs, no pipeline: states alone are ~16 B x 70e9 / 8 = 140 GB.
        let arch = reference::llama3_70b();
        let hw = reference::h100_sxm();
        let w = Workload {
            global_batch: 64.0,
            seq_len: 4096.0,
            precision: Precision::Bf16,
            components: None,
            moe: crate::train::MoeRouting::default(),
        };
        let fw = reference::megatron_core();
        let s = fw.apply(Strategy {
            tp: 8,
            pp: 1,
            dp: 2,
            sequence_parallel: true,
            zero: 1,
            ..Strategy::single()
        });
        let e = least_recompute_that_fits(&arch, &hw, &s, &w, &ModelConstants::default(), &fw)
            .unwrap_err();
        assert!(e.needs_bytes > e.capacity_bytes);
        assert!(
            e.would_fit.iter().any(|f| f.starts_with("pp = 2")),
            "{:?}",
            e.would_fit
        );
    }

    #[test]
    fn the_ladder_only_offers_what_the_framework_runs() {
        let arch = reference::deepseek_v3();
        let fw = Framework {
            recompute_modules: M::CORE_ATTN,
            partial_recompute: false,
            ..reference::megatron_core()
        };
        let ladder = recompute_ladder(&arch, &Strategy::single(), &fw);
        assert_eq!(ladder.len(), 3, "none, core_attn, full: {ladder:?}");
    }
}
