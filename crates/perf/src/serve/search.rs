//! The layout search: every TP, PP and EP that divides the model, best per accelerator first.

use super::{evaluate_serving, ServingEvaluation, ServingLayout, ServingWorkload};
use crate::arch::Arch;
use crate::step::{Hardware, ModelConstants, Precision};

/// The best layout: every TP (powers of two within the scale-up domain), PP and EP that divide
/// the model, fastest per accelerator first.
pub fn search_serving(
    arch: &Arch,
    hw: &Hardware,
    precision: Precision,
    kv_bytes: f64,
    w: &ServingWorkload,
    c: &ModelConstants,
    top: usize,
) -> (Vec<(ServingLayout, ServingEvaluation)>, u64) {
    let layouts = candidate_layouts(arch, hw, precision, kv_bytes);
    let evaluated = layouts.len() as u64;
    let mut found: Vec<(ServingLayout, ServingEvaluation)> = layouts
        .into_iter()
        .map(|layout| (layout, evaluate_serving(arch, hw, &layout, w, c)))
        .filter(|(_, e)| e.feasible)
        .collect();
    found.sort_by(|a, b| {
        b.1.output_tokens_per_s_per_gpu
            .total_cmp(&a.1.output_tokens_per_s_per_gpu)
            .then((a.0.tp, a.0.pp, a.0.ep).cmp(&(b.0.tp, b.0.pp, b.0.ep)))
    });
    found.truncate(top);
    (found, evaluated)
}

/// Every layout the search tries: TP (powers of two within the scale-up domain) dividing the
/// heads, PP dividing the layers, EP (powers of two) dividing the experts, and no group beyond
/// the scale-up domain on a system without a scale-out network.
pub(super) fn candidate_layouts(
    arch: &Arch,
    hw: &Hardware,
    precision: Precision,
    kv_bytes: f64,
) -> Vec<ServingLayout> {
    let mut out = Vec::new();
    let mut tp = 1u32;
    while f64::from(tp) <= hw.scale_up_domain.max(1.0) && f64::from(tp) <= arch.heads {
        if (arch.heads as u32).is_multiple_of(tp) {
            for pp in [1u32, 2, 4, 8, 16] {
                if !(arch.layers as u32).is_multiple_of(pp) {
                    continue;
                }
                let eps: Vec<u32> = if arch.is_moe() {
                    (0..=9)
                        .map(|k| 1u32 << k)
                        .filter(|e| (arch.experts as u32).is_multiple_of(*e))
                        .collect()
                } else {
                    vec![1]
                };
                for ep in eps {
                    if hw.scale_out_bytes_per_s <= 0.0 && f64::from(tp * ep) > hw.scale_up_domain {
                        continue;
                    }
                    // Large expert parallelism is served with the all-to-all overlapped (two
                    // microbatches), as DeepSeek and SGLang deploy it.
                    out.push(ServingLayout {
                        tp,
                        pp,
                        ep,
                        precision,
                        kv_bytes,
                        overlap_ep: ep > 1,
                    });
                }
            }
        }
        tp *= 2;
    }
    out
}
