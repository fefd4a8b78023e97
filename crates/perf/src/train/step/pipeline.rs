//! The pipeline's point-to-point exchanges: the boundary activations forward and their
//! gradients back, while the pipeline fills and drains and in steady state.

use super::Strategy;
use crate::train::overlap::{overlap, Overlapped};

/// Pipeline exchange per step, split into what shows and what hides: `link` is the
/// (bandwidth, latency) of the link between pipeline neighbours, `boundary_bytes` the
/// activations of one microbatch at a stage boundary (all tensor-parallel ranks together) and
/// `chunk_forward_s` / `chunk_backward_s` one microbatch's compute on one model chunk (a stage
/// divided by its virtual stages).
pub(super) fn exchange(
    s: &Strategy,
    (bw, lat): (f64, f64),
    boundary_bytes: f64,
    microbatches: f64,
    (chunk_forward_s, chunk_backward_s): (f64, f64),
) -> Overlapped {
    if s.pp <= 1 {
        return Overlapped::default();
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
    let traversal = Overlapped::exposed(2.0 * (pp - 1.0) * v * p2p);
    // In steady state each microbatch sends its activations forward and receives its
    // gradients back, once per model chunk. The interleaved schedule overlaps these with the
    // next chunk's compute (Megatron-Bridge switches `overlap_p2p_comm` on whenever VPP > 1);
    // the plain 1F1B schedule batches them into blocking exchanges between its steps
    // (`batch_p2p_comm` with VPP 1): src/megatron/bridge/training/comm_overlap.py, "PP
    // overlap", at v0.2.0. Overlap is earned: an exchange hides only under the chunk compute
    // beside it, so one-layer chunks on a slow link show the rest (Narayanan et al. 2021, §2.2:
    // interleaving multiplies the pipeline's communication by the number of chunks).
    let steady = if s.virtual_pp > 1 {
        overlap(p2p, chunk_forward_s, 0.0)
            .and(overlap(p2p, chunk_backward_s, 0.0))
            .times(microbatches * v)
    } else {
        Overlapped::exposed(2.0 * microbatches * p2p)
    };
    traversal.and(steady)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn interleaved(pp: u32, virtual_pp: u32) -> Strategy {
        Strategy {
            pp,
            virtual_pp,
            ..Strategy::single()
        }
    }

    #[test]
    fn an_interleaved_exchange_hides_only_under_the_chunk_beside_it() {
        // 100 MB boundary at 50 GB/s, no latency, TP 1: p2p = 2 ms. PP 2, VPP 2, 10 microbatches.
        // Traversal: 2 x (2 - 1) x 2 x 2 ms = 8 ms, exposed.
        // Steady: 10 x 2 = 20 chunk passes, each sending forward (window 1 ms: 1 ms hidden, 1 ms
        // shows) and backward (window 3 ms: all 2 ms hidden).
        // Exposed 8 + 20 x 1 = 28 ms; hidden 20 x (1 + 2) = 60 ms.
        let x = exchange(&interleaved(2, 2), (50e9, 0.0), 100e6, 10.0, (1e-3, 3e-3));
        assert!((x.exposed_s - 28e-3).abs() < 1e-12, "{x:?}");
        assert!((x.hidden_s - 60e-3).abs() < 1e-12, "{x:?}");
    }

    #[test]
    fn plain_1f1b_blocks_on_every_exchange_and_one_stage_has_none() {
        // PP 4, VPP 1: traversal 2 x 3 x 2 ms = 12 ms plus 2 x 10 x 2 ms = 40 ms, none hidden.
        let x = exchange(&interleaved(4, 1), (50e9, 0.0), 100e6, 10.0, (1.0, 1.0));
        assert!((x.exposed_s - 52e-3).abs() < 1e-12, "{x:?}");
        assert_eq!(x.hidden_s, 0.0);
        let none = exchange(&interleaved(1, 1), (50e9, 0.0), 100e6, 10.0, (1.0, 1.0));
        assert_eq!(none, Overlapped::default());
    }
}
