//! The data-parallel traffic of one step: gradients reduced (and with ZeRO-3 or FSDP the
//! weights gathered) across the data- and context-parallel ranks, as the framework's
//! collectives cut it, with what the compute of the step hides; and the optimizer's step over
//! the parameters each rank holds.

use super::{
    stage_embedding_params, Hardware, ModelConstants, ParamCounts, Strategy, Workload,
    ACTIVATION_BYTES, OPTIMIZER_BYTES_PER_PARAM,
};
use crate::arch::Arch;
use crate::train::collectives::{self, Granularity, Links};
use crate::train::overlap::{last_bucket_fraction, overlap, Overlapped};

/// The heaviest pipeline stage's work, as the data-parallel traffic sees it.
pub(super) struct StageWork {
    /// Layers on the first, middle and last stages.
    pub first: f64,
    pub middle: f64,
    pub last: f64,
    /// Layers on the heaviest stage (the one that sets the pace).
    pub layers: f64,
    /// One microbatch's forward on that stage, seconds.
    pub forward_s: f64,
    /// One microbatch's backward on that stage, seconds.
    pub backward_s: f64,
    /// One microbatch's compute on that stage, seconds (with the output layer where it is).
    pub compute_s: f64,
    /// Microbatches per step.
    pub microbatches: f64,
}

/// The step's data-parallel traffic and optimizer step.
pub(super) struct DataParallel {
    /// Gradient reduction and parameter gathers, exposed and hidden.
    pub comm: Overlapped,
    /// The optimizer step over the parameters the rank updates, seconds.
    pub optimizer_s: f64,
}

/// The data-parallel traffic of layout `s` and its optimizer step (`hbm`: usable HBM bytes/s).
pub(super) fn traffic(
    arch: &Arch,
    hw: &Hardware,
    s: &Strategy,
    w: &Workload,
    c: &ModelConstants,
    stage: &StageWork,
    hbm: f64,
) -> DataParallel {
    // Parameters held per accelerator on the stage with the most.
    let counts = ParamCounts::of(arch);
    let (dense_params, expert_params, stage_embedding) = [
        (stage.first, true, s.pp == 1),
        (stage.middle, false, false),
        (stage.last, s.pp == 1, true),
    ]
    .into_iter()
    .map(|(layers, is_first, is_last)| {
        let (dense, expert) = counts.stage(arch, s, layers, is_first, is_last);
        (
            dense,
            expert,
            stage_embedding_params(arch, s, is_first, is_last),
        )
    })
    .fold((0.0, 0.0, 0.0), |best, p| {
        if p.0 + p.1 > best.0 + best.1 {
            p
        } else {
            best
        }
    });
    // Gradients are reduced over the data- and context-parallel ranks together (Megatron);
    // the experts' over that group divided by the expert-parallel ranks. Megatron orders ranks
    // TP, CP, (EP,) DP, PP from the fastest-varying: a node holds domain / (TP x CP) ranks of
    // one data-parallel group, and the collective is hierarchical across nodes.
    let (tp, ep, etp) = (f64::from(s.tp), f64::from(s.ep), f64::from(s.expert_tp()));
    let dp = f64::from(s.dp) * f64::from(s.cp);
    let expert_dp = (tp * dp / (etp * ep)).max(1.0);
    let gradient_bytes = s.gradient_bytes();
    let links = Links {
        domain: hw.scale_up_domain,
        scale_up_bytes_per_s: hw.scale_up_bytes_per_s * c.link_efficiency,
        scale_out_bytes_per_s: hw.scale_out_bytes_per_s * c.link_efficiency
            / hw.scale_out_oversubscription.max(1.0),
        scale_up_latency_s: c.scale_up_latency_s,
        scale_out_latency_s: c.scale_out_latency_s,
        nvls_all_reduce_bytes_per_s: hw.nvls_all_reduce_bytes_per_s,
    };
    let dp_per_domain = (hw.scale_up_domain / tp).max(1.0);
    let expert_dp_per_domain = (hw.scale_up_domain / (etp * ep)).max(1.0);
    // The framework cuts the traffic into collectives (buckets, layers or parameter
    // tensors); each pays a collective's fixed latency, a ring's for reduce-scatters and
    // all-gathers (`collectives`).
    // Fully sharded data parallelism gathers at least a layer at a time (FSDP units, one per
    // transformer layer, in PyTorch FSDP and Megatron-FSDP alike), not in gradient buckets.
    let granularity = match (s.zero, s.dp_collectives) {
        (3.., Granularity::Bucket) => Granularity::Layer,
        (_, g) => g,
    };
    let calls = |params: f64, group: f64| granularity.calls(params, stage.layers, group);
    // Reduce-scatter (or all-gather) of the dense and the expert parameters' bytes, each over
    // its own group.
    let halves = |dense_bytes: f64, expert_bytes: f64| {
        collectives::reduce_scatter_s(
            dense_bytes,
            dp,
            dp_per_domain,
            &links,
            calls(dense_params, dp),
        ) + collectives::reduce_scatter_s(
            expert_bytes,
            expert_dp,
            expert_dp_per_domain,
            &links,
            calls(expert_params, expert_dp),
        )
    };
    // The same at `bytes` per parameter.
    let half = |bytes: f64| halves(bytes * dense_params, bytes * expert_params);
    // All-reduce of `bytes` per parameter (ZeRO-0).
    let all_reduce = |bytes: f64| {
        collectives::all_reduce_calls_s(
            bytes * dense_params,
            dp,
            dp_per_domain,
            &links,
            calls(dense_params, dp),
        ) + collectives::all_reduce_calls_s(
            bytes * expert_params,
            expert_dp,
            expert_dp_per_domain,
            &links,
            calls(expert_params, expert_dp),
        )
    };
    // The weights' all-gather (distributed optimizer, FSDP) moves them in the format the run
    // keeps them in (`Recipe::gathered_param_bytes`); the embedding and output layer stay
    // 16-bit.
    let gather = {
        let embedding = stage_embedding.min(dense_params);
        let components = w.components();
        let (fp8, fp4) = (s.fp8_param_gather, s.fp4_param_gather);
        let layer_bytes = components
            .attention
            .gathered_param_bytes(fp8, fp4)
            .max(components.dense.gathered_param_bytes(fp8, fp4));
        let expert_bytes = components.experts.gathered_param_bytes(fp8, fp4);
        halves(
            ACTIVATION_BYTES * embedding + layer_bytes * (dense_params - embedding),
            expert_bytes * expert_params,
        )
    };
    // The last bucket of the gradient reduce and the first of the parameter gather have no
    // compute left to hide under.
    let bucket = last_bucket_fraction(dense_params + expert_params, dp);
    let bucketed = |comm: f64, window: f64, overlapped: bool| {
        if overlapped {
            overlap(comm, window, comm * bucket)
        } else {
            Overlapped::exposed(comm)
        }
    };
    let dp_comm = match s.zero {
        3.. => {
            // FSDP / ZeRO-3: gather 16-bit weights for forward and backward and reduce-scatter
            // gradients every microbatch (PyTorch FSDP and DeepSpeed reduce per microbatch);
            // prefetch hides them under that microbatch's other layers, but the first layer's
            // gather and the last layer's reduce-scatter are exposed. A framework that does not
            // overlap the gathers (DeepSpeed of 2021 synchronised the device before each one)
            // leaves them on the critical path.
            let gathers = 2.0 * gather;
            let reduce = half(gradient_bytes);
            let layers = stage.layers.max(1.0);
            let edge = (0.5 * gathers + reduce) / layers;
            let one = match (s.overlap_param_gather, s.overlap_grad_reduce) {
                (true, true) => overlap(gathers + reduce, stage.compute_s, edge),
                (false, true) => Overlapped::exposed(gathers).and(overlap(
                    reduce,
                    stage.backward_s,
                    reduce / layers,
                )),
                (true, false) => overlap(gathers, stage.compute_s, 0.5 * gathers / layers)
                    .and(Overlapped::exposed(reduce)),
                (false, false) => Overlapped::exposed(gathers + reduce),
            };
            one.times(stage.microbatches)
        }
        2 => {
            // ZeRO-2 (DeepSpeed) reduce-scatters the gradients after every microbatch's
            // backward rather than once per step, then all-gathers the parameters after the
            // step.
            let reduce = bucketed(
                half(gradient_bytes),
                stage.backward_s,
                s.overlap_grad_reduce,
            )
            .times(stage.microbatches);
            let gather = bucketed(gather, stage.forward_s, s.overlap_param_gather);
            reduce.and(gather)
        }
        1 => {
            // Distributed optimizer: reduce-scatter the gradients under the last microbatch's
            // backward, all-gather the 16-bit parameters under the first one's forward.
            let reduce = bucketed(
                half(gradient_bytes),
                stage.backward_s,
                s.overlap_grad_reduce,
            );
            let gather = bucketed(gather, stage.forward_s, s.overlap_param_gather);
            reduce.and(gather)
        }
        _ => bucketed(
            all_reduce(gradient_bytes),
            stage.backward_s,
            s.overlap_grad_reduce,
        ),
    };
    let (dense_shards, expert_shards) = if s.zero >= 1 {
        (dp, expert_dp)
    } else {
        (1.0, 1.0)
    };
    let optimizer_s = OPTIMIZER_BYTES_PER_PARAM
        * (dense_params / dense_shards + expert_params / expert_shards)
        / hbm;
    DataParallel {
        comm: dp_comm,
        optimizer_s,
    }
}
