//! The pipeline's point-to-point exchanges: the boundary activations forward and their
//! gradients back, while the pipeline fills and drains and in steady state.

use super::Strategy;

/// Exposed pipeline exchange per step, seconds: `link` is the (bandwidth, latency) of the link
/// between pipeline neighbours and `boundary_bytes` the activations of one microbatch at a
/// stage boundary (all tensor-parallel ranks together).
pub(super) fn exchange_s(
    s: &Strategy,
    (bw, lat): (f64, f64),
    boundary_bytes: f64,
    microbatches: f64,
) -> f64 {
    if s.pp <= 1 {
        return 0.0;
    }
    let (pp, v, tp) = (
        f64::from(s.pp),
        f64::from(s.virtual_pp.max(1)),
        f64::from(s.tp),
    );
    // Each tensor-parallel rank sends its 1 / TP share: the sequence-parallel split, or
    // without it Megatron's scatter/gather of the boundary tensor (Narayanan et al. 2021,
    // §4.1: sent in TP slices over the rank's own network card, all-gathered over NVLink).
    let p2p = boundary_bytes / tp / bw + lat;
    // Filling and draining the pipeline crosses every boundary once each way.
    let traversal = 2.0 * (pp - 1.0) * v * p2p;
    // In steady state each microbatch sends its activations forward and receives its
    // gradients back. The interleaved schedule overlaps these with another chunk's compute
    // (Megatron-Bridge switches `overlap_p2p_comm` on whenever VPP > 1); the plain 1F1B
    // schedule batches them into blocking exchanges between its steps (`batch_p2p_comm`
    // with VPP 1): src/megatron/bridge/training/comm_overlap.py, "PP overlap", at v0.2.0.
    let steady = if s.virtual_pp > 1 {
        0.0
    } else {
        2.0 * microbatches * p2p
    };
    traversal + steady
}
