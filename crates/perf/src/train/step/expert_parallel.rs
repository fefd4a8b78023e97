//! The expert-parallel all-to-all of training: routed copies of each token dispatched to their
//! experts' ranks and combined back, inside the scale-up domain or across the network, and what
//! another microbatch's compute hides of it.

use super::{Hardware, ModelConstants, Strategy, Workload, ACTIVATION_BYTES};
use crate::train::overlap::{a2a_copies, ep_overlap_applies, overlap, Overlapped};

/// One dispatch (or one combine) of one MoE layer and one microbatch: what moves, over which
/// ranks.
#[derive(Clone, Copy)]
pub(super) struct Dispatch {
    /// Experts each token is routed to.
    pub top_k: f64,
    /// Model width.
    pub hidden: f64,
    /// Tokens of one microbatch on this rank (after context parallelism).
    pub tokens: f64,
    /// Tensor-parallel ranks (each dispatches its own share of the tokens).
    pub tp: f64,
    /// Expert-parallel ranks.
    pub ep: f64,
    /// Expert tensor-parallel ranks (folded below TP when the EP group needs it).
    pub etp: f64,
    /// The busiest rank's load over the mean.
    pub imbalance: f64,
}

impl Dispatch {
    /// Seconds of one dispatch (or one combine) on the busiest rank of an MoE layer.
    pub(super) fn one_way_s(&self, hw: &Hardware, w: &Workload, c: &ModelConstants) -> f64 {
        // Routed copies per token that stay inside the scale-up domain and that cross the
        // network (node-limited routing caps the latter); both move at once.
        // Megatron orders expert ranks ETP, EP, expert-DP from the fastest-varying, so a
        // scale-up domain holds domain / ETP ranks of one EP group (with folding, more than
        // the domain / TP of the attention's layout).
        let ranks_per_domain = (hw.scale_up_domain / self.etp).max(1.0);
        let (intra, inter) = a2a_copies(
            self.top_k,
            self.ep,
            ranks_per_domain,
            w.moe.node_limit,
            w.moe.dispatcher,
        );
        // Each tensor-parallel rank dispatches its own share of the tokens; an FP8 dispatch
        // sends 8-bit tokens (and a 4-byte scale per 128 elements) and combines in 16 bits,
        // so the four transfers average (1 + 4/128 + 2) / 2 bytes per element.
        let element_bytes = if w.moe.dispatcher.quantises_before_dispatch() {
            0.5 * (1.0 + 4.0 / 128.0 + ACTIVATION_BYTES)
        } else {
            ACTIVATION_BYTES
        };
        let token_bytes = element_bytes * self.tokens * self.hidden / self.tp;
        let intra_s = if intra > 0.0 {
            intra * token_bytes / (hw.scale_up_bytes_per_s * c.link_efficiency)
                + c.scale_up_latency_s
        } else {
            0.0
        };
        let inter_s = if inter > 0.0 {
            inter * token_bytes * hw.scale_out_oversubscription.max(1.0)
                / (hw.scale_out_bytes_per_s * c.link_efficiency)
                + c.scale_out_latency_s
        } else {
            0.0
        };
        // The busiest rank receives `imbalance` times the mean.
        self.imbalance * intra_s.max(inter_s)
    }
}

/// Whether the framework's schedule runs the all-to-all under another microbatch's compute
/// (Megatron's combined 1F1B, DualPipe).
pub(super) fn overlapped(s: &Strategy) -> bool {
    s.ep_comm_overlap && ep_overlap_applies(s)
}

/// One layer's share of the step as the all-to-all sees it (an average over dense and MoE
/// layers: `moe_share` of them route).
pub(super) struct MoeLayer {
    /// One dispatch (or one combine) on the busiest rank, seconds (`Dispatch::one_way_s`).
    pub one_way_s: f64,
    /// Share of the layers that are MoE layers.
    pub moe_share: f64,
    /// Microbatches per step.
    pub microbatches: f64,
    /// The layer's forward compute, seconds (what a partner microbatch's backward hides under).
    pub forward_s: f64,
    /// The layer's backward compute, seconds.
    pub backward_s: f64,
    /// Share of the MoE layers whose forward the backward runs again (full recompute's
    /// fraction of layers, or 1 where selective recompute names the whole MoE layer): their
    /// dispatch and combine run again with it, as the TP collectives of recomputed layers do.
    pub recomputed_share: f64,
}

/// Dispatch and combine, forward and backward, of one layer and one microbatch: exposed, or
/// under another microbatch's compute where the framework's schedule overlaps them.
pub(super) fn all_to_all(s: &Strategy, l: &MoeLayer) -> Overlapped {
    // Dispatch and combine, forward and backward, on MoE layers only, and the forward's again
    // where the backward recomputes it (it runs in the backward pass).
    let a2a = l.moe_share * 4.0 * l.one_way_s;
    let recomputed = l.moe_share * 2.0 * l.recomputed_share * l.one_way_s;
    if overlapped(s) {
        // Another microbatch's compute runs under it (Megatron's combined 1F1B, DualPipe):
        // the forward dispatch and combine under the partner's backward of that layer, the
        // backward ones (and a recomputed forward's) under the partner's forward. The step's
        // first forward and last backward have no partner: one microbatch's worth is exposed.
        let floor = 0.5 * a2a / l.microbatches.max(1.0);
        let backward = 0.5 * a2a + recomputed;
        overlap(0.5 * a2a, l.backward_s, floor).and(overlap(
            backward,
            l.forward_s,
            backward / l.microbatches.max(1.0),
        ))
    } else {
        Overlapped::exposed(a2a + recomputed)
    }
}
