//! Overlap that is earned: communication hides only under compute that is running at the same
//! time and that it does not depend on, some of it is always exposed, and what hides still costs
//! the compute it shares the GPU with.
//!
//! - Data-parallel gradient reduce-scatter (or all-reduce) runs bucket by bucket under the
//!   backward pass of the *last* microbatch only (gradients accumulate until then); the last
//!   bucket has no backward left to hide under. The sharded optimizer's parameter all-gather runs
//!   under the first microbatch's forward; the first bucket is needed before anything starts.
//! - FSDP gathers each layer's weights forward and backward and reduce-scatters its gradients
//!   every microbatch; prefetch hides them under the neighbouring layers' compute, but the first
//!   layer's gather and the last layer's reduce-scatter of each microbatch are exposed.
//! - Context-parallel ring exchange hides under the attention block it feeds.
//! - Expert-parallel all-to-all is exposed unless the framework's schedule overlaps it with
//!   another microbatch's compute (Megatron's combined 1F1B, DualPipe); the first forward and
//!   the last backward of a step have no partner microbatch.
//! - Every hidden second slows the compute under it: NCCL and DeepEP kernels take streaming
//!   multiprocessors and HBM bandwidth from the GEMMs ([`OVERLAP_COMPUTE_SHARE`]).

use serde::Serialize;

/// Fraction of a hidden collective's duration that the compute under it loses. DeepSeek-V3
/// (arXiv 2412.19437, section 3.2.2) dedicates 20 of the H800's 132 SMs to its all-to-all
/// kernels while they overlap computation: 20 / 132 = 0.15 of the compute units for as long as
/// the communication runs. NCCL's ring kernels take SMs the same way. This is the lower end of
/// the refit grid; the shipped `ModelConstants::overlap_compute_share` is fitted (SMs and HBM).
pub const OVERLAP_COMPUTE_SHARE: f64 = 20.0 / 132.0;

/// A collective split into what shows on the critical path and what hides under compute.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Overlapped {
    /// Seconds on the critical path.
    pub exposed_s: f64,
    /// Seconds hidden under compute.
    pub hidden_s: f64,
}

impl Overlapped {
    /// Nothing overlaps: all of `comm_s` is exposed.
    pub fn exposed(comm_s: f64) -> Overlapped {
        Overlapped {
            exposed_s: comm_s.max(0.0),
            hidden_s: 0.0,
        }
    }

    /// The compute time the hidden part costs (SMs and HBM shared with the communication).
    pub fn compute_penalty_s(&self, share: f64) -> f64 {
        share * self.hidden_s
    }

    /// Both together.
    pub fn and(self, other: Overlapped) -> Overlapped {
        Overlapped {
            exposed_s: self.exposed_s + other.exposed_s,
            hidden_s: self.hidden_s + other.hidden_s,
        }
    }

    /// `n` times.
    pub fn times(self, n: f64) -> Overlapped {
        Overlapped {
            exposed_s: self.exposed_s * n,
            hidden_s: self.hidden_s * n,
        }
    }
}

/// Tensor-parallel collectives run in line (no userbuffers) under sequence parallelism, per
/// layer and microbatch: `all_s` every collective the step counts (two all-reduce equivalents
/// forward, two backward, more where layers recompute), `one_s` one all-reduce equivalent, and
/// `column_backward_s` the backward GEMMs of the column-parallel layers (QKV and FC1: data and
/// weight gradients).
///
/// Forward, each all-gather feeds the GEMM after it and each reduce-scatter follows the GEMM
/// before it: exposed; so is the backward's all-gather of the row-parallel layers' output
/// gradient. But the column-parallel layers' backward is asynchronous: the input they kept
/// sharded is all-gathered again beside the data-gradient GEMM, and the input gradient is
/// reduce-scattered beside the weight-gradient GEMM (Megatron-LM
/// `ColumnParallelLinearWithSequenceParallelism.backward`, `async_op=True`, since 02bb1f5c,
/// 2022-03-02, "column parallel linear with sequence parallelism"; Transformer Engine's
/// `_Linear.backward` the same when userbuffers are off, `linear.py` @f031cf87). So one of the
/// counted all-reduce equivalents (the two reduce-scatters) moves under those GEMMs, with the
/// re-gather (another) beside it, and what does not fit shows.
///
/// The all-gathers move their tensors in the recipe's format (`gathers`, each as a share of
/// its 16-bit bytes): Transformer Engine quantises the local shard and gathers that
/// (`gather_along_first_dim` with the quantizer, in `_Linear` and `_LayerNormLinear` at
/// f031cf87). The forward's two input gathers are one of the equivalents that show, the
/// backward's two output-gradient gathers another; the re-gather hides. The reduce-scatters
/// carry 16-bit outputs and gradients.
pub fn sequence_parallel_in_line(
    all_s: f64,
    one_s: f64,
    column_backward_s: f64,
    gathers: GatherShares,
) -> Overlapped {
    let one_s = one_s.clamp(0.0, all_s.max(0.0));
    let input = gathers.input.max(0.0);
    let gradient = gathers.gradient.max(0.0);
    let beside = overlap((1.0 + input) * one_s, column_backward_s, 0.0);
    let shown = all_s.max(0.0) - one_s - (1.0 - input) * one_s - (1.0 - gradient) * one_s;
    Overlapped {
        exposed_s: shown.max(0.0) + beside.exposed_s,
        hidden_s: beside.hidden_s,
    }
}

/// Tensor-parallel all-reduces without sequence parallelism, per layer and microbatch, where the
/// framework runs the column-parallel layers' backward asynchronously
/// ([`crate::train::Strategy::async_tp_all_reduce`]): `all_s` every all-reduce the step counts,
/// `one_s` one of them, `qkv_wgrad_s` and `fc1_wgrad_s` the weight-gradient GEMMs of the two
/// column-parallel layers (each as long as its forward GEMM).
///
/// Forward, each row-parallel layer's output is all-reduced before the next layer reads it:
/// exposed, and so are a recomputed forward's. Backward, each column-parallel layer starts the
/// all-reduce of its input gradient and computes its weight gradient while it runs (Megatron-LM
/// `ColumnParallelLinearWithAsyncAllreduce.backward`: `all_reduce(grad_input, async_op=True)`,
/// the weight-gradient matmul, then `handle.wait()`, megatron/mpu/layers.py since 16c90445,
/// 2021-09-02, on unless `--no-async-tensor-model-parallel-allreduce`; Transformer Engine
/// `_Linear.backward`: `allreduce(dgrad, tp_group, async_op=True)` before the wgrad GEMM and
/// `dgrad_work.wait()` after it, linear.py @f031cf87). So two of the counted all-reduces run
/// beside those GEMMs, each beside its own, and what does not fit shows.
pub fn column_all_reduces_async(
    all_s: f64,
    one_s: f64,
    qkv_wgrad_s: f64,
    fc1_wgrad_s: f64,
) -> Overlapped {
    let all_s = all_s.max(0.0);
    let one_s = one_s.clamp(0.0, all_s / 2.0);
    let qkv = overlap(one_s, qkv_wgrad_s, 0.0);
    let fc1 = overlap(one_s, fc1_wgrad_s, 0.0);
    Overlapped {
        exposed_s: all_s - 2.0 * one_s + qkv.exposed_s + fc1.exposed_s,
        hidden_s: qkv.hidden_s + fc1.hidden_s,
    }
}

/// What a sequence-parallel layer's all-gathers move, each as a share of its 16-bit bytes:
/// the column-parallel layers' inputs (forward, and re-gathered for the weight gradient) and
/// the row-parallel layers' output gradients (backward).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GatherShares {
    pub input: f64,
    pub gradient: f64,
}

/// Whether an expert-parallel all-to-all overlap the framework runs applies to layout `s`: not
/// with full-layer recompute (Megatron-Bridge's EP-overlap prerequisites: "avoid when full
/// activation recompute is enabled"; "if PP > 1, VPP must be set", which `Framework::apply`
/// enforces for frameworks that interleave).
pub fn ep_overlap_applies(s: &super::strategy::Strategy) -> bool {
    s.recompute != super::strategy::Recompute::Full
}

/// `comm_s` of communication under a compute window of `window_s`, of which `floor_s` can never
/// hide (the first or last bucket, the step's first or last microbatch).
pub fn overlap(comm_s: f64, window_s: f64, floor_s: f64) -> Overlapped {
    let comm_s = comm_s.max(0.0);
    let floor_s = floor_s.clamp(0.0, comm_s);
    let hideable = comm_s - floor_s;
    let hidden_s = hideable.min(window_s.max(0.0));
    Overlapped {
        exposed_s: comm_s - hidden_s,
        hidden_s,
    }
}

/// The exposed share of a bucketed collective over `params` parameters on a data-parallel
/// group of `dp` ranks: one bucket of Megatron-Core's default size
/// ([`super::collectives::bucket_params`], `max(40M, 1M x DP)`), at most all of it.
pub fn last_bucket_fraction(params: f64, dp: f64) -> f64 {
    if params <= 0.0 {
        return 1.0;
    }
    (super::collectives::bucket_params(dp) / params).min(1.0)
}

/// Expert load imbalance, token drop with padding, node-limited routing, the dispatcher and the
/// CUDA graphs: the facts of MoE routing the step model reads.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MoeRouting {
    /// Tokens on the busiest expert-parallel rank / the mean (>= 1). Every rank waits for the
    /// busiest in the all-to-all and in the expert GEMMs.
    pub imbalance: f64,
    /// Nodes (scale-up domains) each token may be routed to (DeepSeek-V3: 4); 0 for no limit.
    pub node_limit: u32,
    /// How the dispatcher moves a token's routed copies across the scale-out network.
    pub dispatcher: Dispatcher,
    /// What the run captures in CUDA graphs: captured kernels are replayed by one graph launch,
    /// so the host does not launch them one by one (read where host time is charged: the MoE
    /// layers, whose dispatcher stops the CPU running ahead).
    pub cuda_graphs: CudaGraphs,
    /// Token drop: each expert takes at most `factor` times the mean tokens and drops the rest
    /// (Megatron-Core's `moe_expert_capacity_factor`); `None`: dropless. At least 1 (a factor
    /// below 1 drops tokens from every expert, which the step would not count).
    pub capacity_factor: Option<f64>,
    /// With a capacity factor, every expert's input padded to the capacity (Megatron-Core's
    /// `moe_pad_expert_input_to_capacity`): each expert then processes exactly `factor` times
    /// the mean whatever the routing, and the dispatcher knows every size before it runs, so it
    /// skips its device-to-host copy and host synchronisation (`drop_and_pad`, `cuda_sync_point
    /// = "no_sync"`, megatron/core/transformer/moe/token_dispatcher.py at the 26.04 pin
    /// 3097d81) and the host runs ahead past the MoE layers as it does past dense ones. Without
    /// padding the dispatcher still syncs, before its first permutation, earlier than a
    /// dropless one's before the all-to-all, so the permutation joins the block after the sync.
    pub pad_to_capacity: bool,
    /// Streaming multiprocessors a per-node dispatcher's kernels hold while they run (DeepEP's
    /// `num_sms`, HybridEP's dispatch and combine blocks; Megatron-Core's `moe_deepep_num_sms`,
    /// `moe_hybridep_num_sms`). Hidden under another microbatch's compute, such an all-to-all
    /// is a point-to-point copy on its own SMs and costs that compute their share of the chip,
    /// at most the fitted share (as the CP ring does); `None`, and NCCL's all-to-all: the
    /// fitted share.
    pub dispatcher_sms: Option<f64>,
}

/// What a run captures in CUDA graphs (Megatron's `cuda_graph_impl` and `cuda_graph_scope`):
/// Transformer Engine's per-layer capture of the named modules (`transformer_engine` with
/// `attn`, `moe_router`, `moe_preprocess`: "TE make_graphed_callables() per layer"), or the
/// whole forward-backward iteration (`local` / `full_iteration`), Megatron Bridge's CUDA graph
/// guide (docs.nvidia.com/nemo/megatron-bridge/latest/training/cuda-graphs.html, read
/// 2026-12-02: "CUDA graphs record a fixed sequence of GPU work during a capture phase and then
/// replay that sequence on later steps. The main benefit is lower host-side launch overhead").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct CudaGraphs {
    /// The attention block of each layer (`attn`).
    pub attention: bool,
    /// The MoE router (`moe_router`).
    pub moe_router: bool,
    /// The dispatcher's preprocessing (`moe_preprocess`).
    pub moe_preprocess: bool,
    /// The whole forward-backward iteration (`full_iteration`): no kernel is launched one by one.
    pub full_iteration: bool,
}

impl CudaGraphs {
    /// The modules `cuda_graph_scope` may name per layer.
    pub const SCOPES: &'static str = "attn, moe_router, moe_preprocess or full_iteration";

    /// Parses a capture scope as Megatron spells it: `none`, `full_iteration`, or per-layer
    /// modules joined by `+` or `,` (`attn+moe_router+moe_preprocess`). The error names the
    /// field and the accepted values.
    pub fn parse(scope: &str) -> Result<CudaGraphs, String> {
        let mut graphs = CudaGraphs::default();
        let scope = scope.trim().to_ascii_lowercase();
        if scope == "none" || scope.is_empty() {
            return Ok(graphs);
        }
        for module in scope.split(['+', ',']).map(str::trim) {
            match module {
                "attn" => graphs.attention = true,
                "moe_router" => graphs.moe_router = true,
                "moe_preprocess" => graphs.moe_preprocess = true,
                "full_iteration" => graphs.full_iteration = true,
                other => {
                    return Err(format!(
                        "`cuda_graphs` names `{other}`: expected none, or {} (joined by `+`)",
                        CudaGraphs::SCOPES
                    ))
                }
            }
        }
        Ok(graphs)
    }
}

/// How the expert-parallel dispatch moves a token's copies between scale-up domains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Dispatcher {
    /// A plain all-to-all (NCCL `alltoall`, Megatron's `alltoall` token dispatcher): every
    /// routed copy that lands on a rank of another node crosses the network on its own.
    #[default]
    AllToAll,
    /// A hierarchical dispatcher (DeepEP, NVIDIA's HybridEP behind Megatron's flex dispatcher):
    /// a token crosses the network once per remote node it is routed to and is fanned out to
    /// that node's experts over the scale-up link (DeepSeek-V3, arXiv 2412.19437, section
    /// 3.2.2: "first transmitted via IB to the GPUs with the same in-node index on its target
    /// nodes ... then instantly forwarded via NVLink"); the combine returns the same way.
    PerNode,
    /// As [`Dispatcher::PerNode`], with the tokens quantised to FP8 before the dispatch
    /// (DeepSeek-V3, section 3.3.4, "Low-Precision Communication": "we quantize the activation
    /// before MoE up-projections into FP8 and then apply dispatch components"; DeepEP's FP8
    /// dispatch): the dispatch moves 8-bit tokens, each token is cast once rather than once per
    /// routed copy, and the combine stays 16-bit.
    PerNodeFp8,
}

impl Dispatcher {
    /// The dispatcher a spec or a calibration fact names (`alltoall`; `deepep`, `hybridep`,
    /// `flex` and `per-node` for the hierarchical ones).
    pub fn parse(name: &str) -> Option<Dispatcher> {
        match name.trim().to_ascii_lowercase().as_str() {
            "alltoall" | "all-to-all" | "nccl" => Some(Dispatcher::AllToAll),
            "deepep" | "hybridep" | "flex" | "per-node" => Some(Dispatcher::PerNode),
            "deepep-fp8" | "per-node-fp8" => Some(Dispatcher::PerNodeFp8),
            _ => None,
        }
    }

    /// The names [`Dispatcher::parse`] accepts, for error messages.
    pub const NAMES: &'static str = "alltoall, deepep, hybridep or deepep-fp8";

    /// Whether tokens cross the network once per remote node.
    pub fn per_node(self) -> bool {
        !matches!(self, Dispatcher::AllToAll)
    }

    /// The SMs a dispatcher named `name` holds by default, where the default is one figure:
    /// DeepEP's 20, Megatron-Core's `moe_deepep_num_sms` (megatron/core/transformer/
    /// transformer_config.py at the 26.04 pin 3097d81, handed to DeepEP's `Buffer.set_num_sms`
    /// by the flex dispatcher; DeepEP's own `Buffer.num_sms` is 20 too). HybridEP's default
    /// depends on the job (24 blocks inside one NVLink domain, 8 across nodes, deep_ep
    /// hybrid-ep branch csrc/hybrid_ep/config.cuh) and frameworks override it, so it is `None`
    /// unless a recipe says.
    pub fn default_sms(name: &str) -> Option<f64> {
        match name.trim().to_ascii_lowercase().as_str() {
            "deepep" | "deepep-fp8" => Some(DEEPEP_DEFAULT_SMS),
            _ => None,
        }
    }

    /// Whether `name` names HybridEP, whose SM count a recipe sets (`moe_hybridep_num_sms`):
    /// `hybridep`, or `flex`, which Megatron-Bridge's 25.11 recipes resolve to HybridEP
    /// (`apply_flex_dispatcher_backend` at v0.2.0).
    pub fn names_hybridep(name: &str) -> bool {
        matches!(
            name.trim().to_ascii_lowercase().as_str(),
            "hybridep" | "flex"
        )
    }

    /// Whether the tokens are quantised once, before the dispatch.
    pub fn quantises_before_dispatch(self) -> bool {
        matches!(self, Dispatcher::PerNodeFp8)
    }
}

/// DeepEP's SMs under Megatron-Core's default `moe_deepep_num_sms` (see
/// [`Dispatcher::default_sms`]).
pub const DEEPEP_DEFAULT_SMS: f64 = 20.0;

/// The share of the compute a hidden all-to-all costs (see [`MoeRouting::dispatcher_sms`]):
/// a per-node dispatcher with a known SM count, its SMs over the chip's, at most `fitted`;
/// otherwise `fitted`.
pub fn ep_overlap_compute_share(moe: &MoeRouting, chip_sms: f64, fitted: f64) -> f64 {
    match moe.dispatcher_sms {
        Some(sms) if moe.dispatcher.per_node() && chip_sms > 0.0 => {
            (sms / chip_sms).clamp(0.0, fitted)
        }
        _ => fitted,
    }
}

/// The default expert load imbalance: 1.25, the capacity factor Switch Transformer trains with
/// (Fedus et al. 2021, arXiv 2101.03961, Table 1: experts sized for 1.25x the mean load), taken
/// as the busiest rank's load over the mean of dropless routing with an auxiliary balancing
/// loss. Runs that force balanced routing (NVIDIA's MoE benchmarks) are 1.0.
pub const DEFAULT_MOE_IMBALANCE: f64 = 1.25;

impl Default for MoeRouting {
    fn default() -> MoeRouting {
        MoeRouting {
            imbalance: DEFAULT_MOE_IMBALANCE,
            node_limit: 0,
            dispatcher: Dispatcher::AllToAll,
            cuda_graphs: CudaGraphs::default(),
            capacity_factor: None,
            pad_to_capacity: false,
            dispatcher_sms: None,
        }
    }
}

impl MoeRouting {
    /// Perfectly balanced routing, no node limit (benchmarks that force balance).
    pub fn balanced() -> MoeRouting {
        MoeRouting {
            imbalance: 1.0,
            node_limit: 0,
            dispatcher: Dispatcher::AllToAll,
            cuda_graphs: CudaGraphs::default(),
            capacity_factor: None,
            pad_to_capacity: false,
            dispatcher_sms: None,
        }
    }

    /// Token drop with each expert's input padded to `factor` times the mean (see
    /// [`MoeRouting::pad_to_capacity`]), the rest as [`MoeRouting::default`].
    pub fn padded(factor: f64) -> MoeRouting {
        MoeRouting {
            capacity_factor: Some(factor),
            pad_to_capacity: true,
            ..MoeRouting::default()
        }
    }

    /// Whether the dispatcher copies the token counts to the host and waits for them: unless it
    /// drops and pads to a fixed capacity, the sizes of the all-to-all and of the expert GEMMs
    /// are known only on the GPU.
    pub fn syncs_with_host(&self) -> bool {
        !(self.pad_to_capacity && self.capacity_factor.is_some())
    }

    /// Whether that sync comes before the first permutation rather than before the expert
    /// all-to-all: token drop without padding sizes the permutation's output from the counts
    /// on the host (`cuda_sync_point = "before_permutation_1"`).
    pub fn syncs_before_permutation(&self) -> bool {
        self.capacity_factor.is_some() && !self.pad_to_capacity
    }

    /// The busiest expert-parallel rank's routed tokens over the mean, across `ep` ranks: the
    /// imbalance (at least 1), or 1 where one rank holds every expert; with token drop, at most
    /// the capacity factor (each expert drops what is past its capacity); padded to capacity,
    /// the capacity factor on every rank (each expert's input is padded to it, even with one
    /// rank). The step times that rank's all-to-all and expert GEMMs, and memory keeps its
    /// activations.
    pub fn busiest_rank_load(&self, ep: u32) -> f64 {
        let routed = if ep > 1 { self.imbalance.max(1.0) } else { 1.0 };
        match self.capacity_factor {
            Some(factor) if self.pad_to_capacity => factor.max(1.0),
            Some(factor) => routed.min(factor.max(1.0)),
            None => routed,
        }
    }

    /// Checks the routing against an expert-parallel group spread over `ep_nodes` scale-up
    /// domains; the message names the field and the fix.
    pub fn check(&self, ep_nodes: u32) -> Result<(), String> {
        if let Some(factor) = self.capacity_factor {
            if !(factor.is_finite() && (1.0..=64.0).contains(&factor)) {
                return Err(format!(
                    "`moe_capacity_factor` is {factor}: it is each expert's capacity over the \
                     mean tokens, from 1 to 64 (below 1 every expert drops tokens the step would \
                     not count)"
                ));
            }
            if !self.pad_to_capacity && self.cuda_graphs.moe_preprocess {
                return Err(
                    "token drop without padding (`moe_capacity_factor` alone) under a \
                     `moe_preprocess` CUDA graph: Megatron-Core's dispatcher asserts that its host \
                     sync, before the first permutation, comes after the token counts' copy, \
                     which the graph moves to the all-to-all (token_dispatcher.py at 3097d81); \
                     pad to capacity, or capture without moe_preprocess"
                        .to_string(),
                );
            }
        } else if self.pad_to_capacity {
            return Err(
                "`moe_pad_to_capacity` pads each expert's input to its capacity: it needs \
                 `moe_capacity_factor`"
                    .to_string(),
            );
        }
        if !self.imbalance.is_finite() || self.imbalance < 1.0 {
            return Err(format!(
                "`moe_imbalance` is {}: it is the busiest expert-parallel rank's tokens over the \
                 mean, at least 1 (1 = perfectly balanced)",
                self.imbalance
            ));
        }
        if self.node_limit > ep_nodes.max(1) {
            return Err(format!(
                "`moe_node_limit` is {} but the expert-parallel group spans {} node(s): a token \
                 can reach at most that many; lower it or raise `ep`",
                self.node_limit,
                ep_nodes.max(1)
            ));
        }
        Ok(())
    }
}

/// Copies each rank sends per token, split into those that stay inside the scale-up domain and
/// those that cross the scale-out network, for top-`top_k` routing over an expert-parallel group
/// of `group` ranks of which `domain` share a scale-up domain. Routing is taken as uniform over
/// the group (NVIDIA's benchmarks force it; an auxiliary loss aims at it). With a plain
/// all-to-all each of the `top_k` copies lands on a uniformly random rank and every remote one
/// crosses the network; a per-node dispatcher sends a token once to each remote node it reaches
/// (expected distinct remote nodes of `top_k` uniform draws over `group / domain` nodes);
/// node-limited routing caps the nodes a token reaches at `node_limit`, one of which may be the
/// sender's own. Returns (intra, inter) copies per token.
pub fn a2a_copies(
    top_k: f64,
    group: f64,
    domain: f64,
    node_limit: u32,
    dispatcher: Dispatcher,
) -> (f64, f64) {
    if group <= 1.0 {
        return (0.0, 0.0);
    }
    let local = domain.min(group);
    let remote_fraction = (group - local) / group;
    let intra = top_k * (local - 1.0).max(0.0) / group;
    let mut inter = match dispatcher {
        Dispatcher::AllToAll => top_k * remote_fraction,
        Dispatcher::PerNode | Dispatcher::PerNodeFp8 => {
            let nodes = (group / local).max(1.0);
            (nodes - 1.0) * (1.0 - (1.0 - 1.0 / nodes).powf(top_k))
        }
    };
    if node_limit > 0 {
        inter = inter.min(f64::from(node_limit));
    }
    (intra, inter)
}

#[cfg(test)]
mod tests {

    #[test]
    fn an_async_column_backward_hides_its_two_all_reduces_under_the_weight_gradients() {
        // Six all-reduces of 1 ms a layer (4 + 2 recomputed): the forward's and the
        // recompute's four show; the backward's two run beside QKV's 0.4 ms and FC1's 3 ms
        // weight gradients: 0.4 + 1 hidden, 0.6 shows. Exposed 4 + 0.6 = 4.6, hidden 1.4.
        let run = column_all_reduces_async(6.0, 1.0, 0.4, 3.0);
        assert!((run.exposed_s - 4.6).abs() < 1e-12, "{run:?}");
        assert!((run.hidden_s - 1.4).abs() < 1e-12, "{run:?}");
        // Everything is still counted once.
        assert!((run.exposed_s + run.hidden_s - 6.0).abs() < 1e-12);
        // Long weight gradients hide both; none hides nothing.
        let roomy = column_all_reduces_async(4.0, 1.0, 5.0, 5.0);
        assert!((roomy.exposed_s - 2.0).abs() < 1e-12 && (roomy.hidden_s - 2.0).abs() < 1e-12);
        let none = column_all_reduces_async(4.0, 1.0, 0.0, 0.0);
        assert_eq!(none.exposed_s, 4.0);
        // A nonsensical one-collective time never hides more than there is.
        let odd = column_all_reduces_async(1.0, 5.0, 9.0, 9.0);
        assert!(odd.exposed_s >= 0.0 && (odd.exposed_s + odd.hidden_s - 1.0).abs() < 1e-12);
    }

    use super::*;

    #[test]
    fn in_line_sequence_parallel_hides_the_column_backward() {
        // Four all-reduce equivalents of 1 s: three show, and the column layers' reduce-scatters
        // (1 s) and the re-gather (1 s) hide under 3 s of their backward GEMMs.
        // Everything at 16 bits.
        let sixteen = GatherShares {
            input: 1.0,
            gradient: 1.0,
        };
        let roomy = sequence_parallel_in_line(4.0, 1.0, 3.0, sixteen);
        assert_eq!((roomy.exposed_s, roomy.hidden_s), (3.0, 2.0));
        // Under 0.5 s of GEMMs, 1.5 s of the 2 s shows: 4.5 s in all, more than counted.
        let tight = sequence_parallel_in_line(4.0, 1.0, 0.5, sixteen);
        assert_eq!((tight.exposed_s, tight.hidden_s), (4.5, 0.5));
        // NVFP4 gathers inputs at 0.5625 of 2 bytes an element (0.28125) and gradients, both
        // copies, at 1.125 (0.5625): the forward's gathers (1 s at 16 bits) take 0.28125 s and
        // the backward's 0.5625 s, so 4 - 1 - 0.71875 - 0.4375 = 1.84375 s shows, and the
        // reduce-scatters and the 4-bit re-gather, 1.28125 s, hide.
        let nvfp4 = GatherShares {
            input: 0.28125,
            gradient: 0.5625,
        };
        let run = sequence_parallel_in_line(4.0, 1.0, 3.0, nvfp4);
        assert_eq!((run.exposed_s, run.hidden_s), (1.84375, 1.28125));
        // Nothing to move: nothing changes.
        assert_eq!(
            sequence_parallel_in_line(0.0, 0.0, 1.0, sixteen),
            Overlapped::default()
        );
    }

    #[test]
    fn only_what_the_window_covers_hides_and_the_floor_never_does() {
        // 10 s of traffic, 6 s of compute, 1 s that cannot hide: 6 hide, 4 show.
        let o = overlap(10.0, 6.0, 1.0);
        assert_eq!(o.hidden_s, 6.0);
        assert_eq!(o.exposed_s, 4.0);
        // A long window still leaves the floor exposed.
        let o = overlap(10.0, 100.0, 1.0);
        assert_eq!((o.exposed_s, o.hidden_s), (1.0, 9.0));
        // The hidden 9 s cost 15% of their time in compute: 1.36 s.
        assert!((o.compute_penalty_s(OVERLAP_COMPUTE_SHARE) - 9.0 * 20.0 / 132.0).abs() < 1e-12);
    }

    #[test]
    fn a_per_node_dispatcher_costs_the_compute_its_sms_and_nccl_the_fitted_share() {
        // DeepEP on B200: 20 of 148 SMs = 0.1351 of the compute under it; HybridEP given 32:
        // 0.2162; never above the fitted share (0.1 here caps both); NCCL's all-to-all and a
        // per-node dispatcher of unknown SMs: the fitted 0.55.
        let deepep = MoeRouting {
            dispatcher: Dispatcher::PerNode,
            dispatcher_sms: Dispatcher::default_sms("DeepEP"),
            ..MoeRouting::default()
        };
        assert!((ep_overlap_compute_share(&deepep, 148.0, 0.55) - 20.0 / 148.0).abs() < 1e-12);
        let hybridep = MoeRouting {
            dispatcher_sms: Some(32.0),
            ..deepep
        };
        assert!((ep_overlap_compute_share(&hybridep, 148.0, 0.55) - 32.0 / 148.0).abs() < 1e-12);
        assert_eq!(ep_overlap_compute_share(&hybridep, 148.0, 0.1), 0.1);
        let nccl = MoeRouting {
            dispatcher: Dispatcher::AllToAll,
            ..hybridep
        };
        assert_eq!(ep_overlap_compute_share(&nccl, 148.0, 0.55), 0.55);
        let unknown = MoeRouting {
            dispatcher_sms: None,
            ..deepep
        };
        assert_eq!(ep_overlap_compute_share(&unknown, 148.0, 0.55), 0.55);
        // HybridEP's own default depends on the job, so its name carries none.
        assert_eq!(Dispatcher::default_sms("hybridep"), None);
        assert_eq!(Dispatcher::default_sms("alltoall"), None);
        assert!(Dispatcher::names_hybridep(" HybridEP") && Dispatcher::names_hybridep("flex"));
        assert!(!Dispatcher::names_hybridep("deepep"));
    }

    #[test]
    fn the_last_bucket_is_a_bucket_of_the_stage() {
        // 400M parameters in 40M buckets: a tenth is exposed; a 10M stage is all exposed.
        assert!((last_bucket_fraction(400e6, 8.0) - 0.1).abs() < 1e-12);
        assert_eq!(last_bucket_fraction(10e6, 8.0), 1.0);
        // At DP 200 a bucket is 200M parameters: half of 400M.
        assert!((last_bucket_fraction(400e6, 200.0) - 0.5).abs() < 1e-12);
    }

    #[test]
    fn node_limited_routing_caps_what_crosses_the_network() {
        // DeepSeek-V3: top-8 over EP 64 on 8-GPU nodes: 8 x 56/64 = 7 copies leave the node;
        // limited to 4 nodes, at most 4 do. Inside the node: 8 x 7/64 = 0.875 copies.
        let all = Dispatcher::AllToAll;
        let (intra, inter) = a2a_copies(8.0, 64.0, 8.0, 0, all);
        assert!((inter - 7.0).abs() < 1e-12 && (intra - 0.875).abs() < 1e-12);
        assert_eq!(a2a_copies(8.0, 64.0, 8.0, 4, all).1, 4.0);
        // All inside one NVL72 domain: nothing crosses.
        assert_eq!(a2a_copies(8.0, 64.0, 72.0, 0, all).1, 0.0);
    }

    #[test]
    fn a_per_node_dispatcher_sends_a_token_once_per_remote_node() {
        // Top-8 over EP 32 on 8-GPU nodes (4 nodes): an all-to-all sends 8 x 24/32 = 6 copies
        // over the network; DeepEP sends one per distinct remote node: 3 x (1 - (3/4)^8) = 2.70.
        let (_, all) = a2a_copies(8.0, 32.0, 8.0, 0, Dispatcher::AllToAll);
        let (_, per_node) = a2a_copies(8.0, 32.0, 8.0, 0, Dispatcher::PerNode);
        assert!((all - 6.0).abs() < 1e-12);
        assert!((per_node - 3.0 * (1.0 - 0.75f64.powi(8))).abs() < 1e-12);
        // Never more than the remote nodes, and nothing inside one domain.
        assert!(a2a_copies(64.0, 32.0, 8.0, 0, Dispatcher::PerNode).1 <= 3.0);
        assert_eq!(a2a_copies(8.0, 64.0, 72.0, 0, Dispatcher::PerNode).1, 0.0);
        assert_eq!(Dispatcher::parse("HybridEP"), Some(Dispatcher::PerNode));
        assert_eq!(Dispatcher::parse("alltoall"), Some(Dispatcher::AllToAll));
        assert_eq!(Dispatcher::parse("allgather"), None);
        assert_eq!(
            Dispatcher::parse("deepep-fp8"),
            Some(Dispatcher::PerNodeFp8)
        );
        assert!(Dispatcher::PerNodeFp8.per_node() && !Dispatcher::AllToAll.per_node());
    }

    #[test]
    fn bad_routing_is_refused_naming_the_field() {
        let low = MoeRouting {
            imbalance: 0.9,
            ..MoeRouting::default()
        };
        assert!(low.check(8).unwrap_err().contains("`moe_imbalance`"));
        let wide = MoeRouting {
            imbalance: 1.1,
            node_limit: 9,
            ..MoeRouting::default()
        };
        assert!(wide.check(8).unwrap_err().contains("`moe_node_limit`"));
        assert!(MoeRouting::default().check(1).is_ok());
        for factor in [0.5, f64::NAN, 65.0] {
            let err = MoeRouting::padded(factor).check(8).unwrap_err();
            assert!(err.contains("`moe_capacity_factor`"), "{err}");
        }
        assert!(MoeRouting::padded(1.0).check(8).is_ok());
    }

    #[test]
    fn padding_to_capacity_sets_every_ranks_load_and_drops_the_host_sync() {
        // Dropless: the busiest rank carries the imbalance, one rank carries the mean, and the
        // dispatcher waits for the token counts on the host.
        let dropless = MoeRouting::default();
        assert_eq!(dropless.busiest_rank_load(8), DEFAULT_MOE_IMBALANCE);
        assert_eq!(dropless.busiest_rank_load(1), 1.0);
        assert!(dropless.syncs_with_host());
        // Padded to 1.5x the mean: every expert processes its capacity, on one rank too, and
        // every size is known before the dispatch.
        let padded = MoeRouting::padded(1.5);
        assert_eq!(padded.busiest_rank_load(8), 1.5);
        assert_eq!(padded.busiest_rank_load(1), 1.5);
        assert!(!padded.syncs_with_host());
        // Token drop without padding caps the busiest rank at the capacity and still syncs: a
        // 1.25 imbalance under a 1.1 capacity is 1.1, under 1.5 it stays 1.25; one rank, 1.
        let dropping = |factor| MoeRouting {
            capacity_factor: Some(factor),
            ..MoeRouting::default()
        };
        assert_eq!(dropping(1.1).busiest_rank_load(8), 1.1);
        assert_eq!(dropping(1.5).busiest_rank_load(8), DEFAULT_MOE_IMBALANCE);
        assert_eq!(dropping(1.5).busiest_rank_load(1), 1.0);
        assert!(dropping(1.1).syncs_with_host() && dropping(1.1).syncs_before_permutation());
        assert!(!dropless.syncs_before_permutation() && !padded.syncs_before_permutation());
        // Padding without a capacity is refused, naming the field.
        let pad_alone = MoeRouting {
            pad_to_capacity: true,
            ..MoeRouting::default()
        };
        assert!(pad_alone
            .check(8)
            .unwrap_err()
            .contains("`moe_pad_to_capacity`"));
        // Megatron-Core refuses token drop without padding under a moe_preprocess graph.
        let graphed = |pad| MoeRouting {
            capacity_factor: Some(1.2),
            pad_to_capacity: pad,
            cuda_graphs: CudaGraphs::parse("attn+moe_router+moe_preprocess").unwrap(),
            ..MoeRouting::default()
        };
        assert!(graphed(false)
            .check(8)
            .unwrap_err()
            .contains("`moe_preprocess`"));
        assert!(graphed(true).check(8).is_ok());
    }

    #[test]
    fn cuda_graph_scopes_parse_as_megatron_names_them_and_bad_ones_name_the_field() {
        let te = CudaGraphs::parse("attn+moe_router+moe_preprocess").unwrap();
        assert!(te.attention && te.moe_router && te.moe_preprocess && !te.full_iteration);
        let router = CudaGraphs::parse("moe_router, moe_preprocess").unwrap();
        assert!(!router.attention && router.moe_router && router.moe_preprocess);
        assert!(CudaGraphs::parse("full_iteration").unwrap().full_iteration);
        assert_eq!(CudaGraphs::parse("none").unwrap(), CudaGraphs::default());
        let err = CudaGraphs::parse("attn+mlpp").unwrap_err();
        assert!(
            err.contains("`cuda_graphs`") && err.contains("`mlpp`"),
            "{err}"
        );
    }
}
