//! A parallel layout and how a run spends memory on it: the splits (TP, PP, DP, CP, EP), the
//! pipeline's stage sizes, recomputation, ZeRO sharding, and the software facts (fused kernels,
//! overlaps, gradient precision) the framework brings.

use crate::train::userbuffers::UserbuffersConfig;
use serde::{Serialize, Serializer};

use super::collectives::Granularity;

/// Activation recomputation granularity, as Megatron-Core names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Recompute {
    /// Keep every activation.
    None,
    /// Recompute the named submodules of every layer ([`Strategy::recompute_modules`]; empty
    /// means the attention core, as in Korthikanti et al. 2022).
    Selective,
    /// Keep only each layer's input for [`Strategy::recompute_layers`] layers of each pipeline
    /// chunk (0: all of them) and recompute those layers in the backward pass.
    Full,
}

/// Submodules whose activations selective recompute discards and recomputes (Megatron-Core's
/// `recompute_modules`), as a set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, PartialOrd, Ord, Hash)]
pub struct RecomputeModules(pub u8);

impl RecomputeModules {
    /// Nothing.
    pub const NONE: RecomputeModules = RecomputeModules(0);
    /// The attention core (scores, softmax, dropout; flash attention recomputes it anyway).
    pub const CORE_ATTN: RecomputeModules = RecomputeModules(1);
    /// The two norms' outputs (the QKV and MLP inputs).
    pub const LAYERNORM: RecomputeModules = RecomputeModules(2);
    /// The whole dense MLP (keeps its input only).
    pub const MLP: RecomputeModules = RecomputeModules(4);
    /// The activation function inside the experts (keeps the FC1 output).
    pub const MOE_ACT: RecomputeModules = RecomputeModules(8);
    /// The whole MoE block: routed tokens, expert intermediates.
    pub const MOE: RecomputeModules = RecomputeModules(16);
    /// The shared experts.
    pub const SHARED_EXPERTS: RecomputeModules = RecomputeModules(32);
    /// MLA's query and key/value up-projections (keeps the latents).
    pub const MLA_UP_PROJ: RecomputeModules = RecomputeModules(64);

    /// Every module by the name Megatron-Core's `--recompute-modules` takes.
    pub const NAMED: [(&'static str, RecomputeModules); 7] = [
        ("core_attn", RecomputeModules::CORE_ATTN),
        ("layernorm", RecomputeModules::LAYERNORM),
        ("mlp", RecomputeModules::MLP),
        ("moe_act", RecomputeModules::MOE_ACT),
        ("moe", RecomputeModules::MOE),
        ("shared_experts", RecomputeModules::SHARED_EXPERTS),
        ("mla_up_proj", RecomputeModules::MLA_UP_PROJ),
    ];

    /// The module called `name`.
    pub fn parse(name: &str) -> Option<RecomputeModules> {
        Self::NAMED
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, m)| *m)
    }

    /// Whether every module of `other` is in `self`.
    pub fn contains(self, other: RecomputeModules) -> bool {
        self.0 & other.0 == other.0 && other.0 != 0
    }

    /// Both sets together.
    pub fn union(self, other: RecomputeModules) -> RecomputeModules {
        RecomputeModules(self.0 | other.0)
    }

    /// True when no module is named.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The names, in the order of [`RecomputeModules::NAMED`].
    pub fn names(self) -> Vec<&'static str> {
        Self::NAMED
            .iter()
            .filter(|(_, m)| self.contains(*m))
            .map(|(n, _)| *n)
            .collect()
    }
}

impl Serialize for RecomputeModules {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.names().serialize(serializer)
    }
}

/// A parallel strategy.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Strategy {
    /// Tensor parallel.
    pub tp: u32,
    /// Pipeline parallel.
    pub pp: u32,
    /// Data parallel.
    pub dp: u32,
    /// Context parallel.
    pub cp: u32,
    /// Expert parallel (inside data parallel).
    pub ep: u32,
    /// Interleaved pipeline stages per device.
    pub virtual_pp: u32,
    /// Sequences per microbatch.
    pub microbatch: u32,
    /// Megatron sequence parallelism (norms and dropout split across TP ranks).
    pub sequence_parallel: bool,
    /// Activation recomputation.
    pub recompute: Recompute,
    /// With [`Recompute::Selective`]: the modules recomputed (empty: the attention core).
    pub recompute_modules: RecomputeModules,
    /// With [`Recompute::Full`]: layers of each pipeline chunk recomputed (0: all).
    pub recompute_layers: u32,
    /// ZeRO stage: 0 none, 1 optimizer states (Megatron's distributed optimizer), 2 +
    /// gradients, 3 + weights (FSDP).
    pub zero: u8,
    /// Layers on the first pipeline stage (0: the default split, see `stages.rs`).
    pub first_stage_layers: u32,
    /// Layers on the last pipeline stage (0: the default split).
    pub last_stage_layers: u32,
    /// Fused (flash) attention: no s^2 tensors in memory, one kernel.
    pub flash_attention: bool,
    /// How data-parallel traffic is cut into collectives (the framework's buckets, layers or
    /// parameter tensors): each costs a collective's fixed latency.
    pub dp_collectives: Granularity,
    /// Gradient reduction overlapped with the backward pass.
    pub overlap_grad_reduce: bool,
    /// The sharded optimizer's parameter all-gather overlapped with the next forward pass.
    pub overlap_param_gather: bool,
    /// Tensor-parallel collectives overlapped with the GEMMs they feed (userbuffers, async TP).
    pub tp_comm_overlap: bool,
    /// Without sequence parallelism, each column-parallel layer (QKV, FC1) all-reduces its
    /// input gradient asynchronously beside its weight-gradient GEMM (Megatron-LM's
    /// `ColumnParallelLinearWithAsyncAllreduce`, on unless `--no-async-tensor-model-parallel-
    /// allreduce`, since 2021-09; Transformer Engine's `Linear` backward). Set by the framework
    /// (`Framework::apply`); off in [`Strategy::single`].
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub async_tp_all_reduce: bool,
    /// The run kept that overlap on (a publication's recipe ran it): the step does not switch
    /// it off where running the collectives in line would cost less, as a user choosing the
    /// switch would (`step`). Off for specs and searches.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub tp_comm_overlap_as_run: bool,
    /// The per-GEMM settings that overlap runs with: Transformer Engine's defaults unless a
    /// framework's preset names its own (`userbuffers::BRIDGE_CONFIGS`).
    #[serde(skip_serializing_if = "UserbuffersConfig::is_te_defaults")]
    pub userbuffers: UserbuffersConfig,
    /// Expert-parallel all-to-all overlapped with another microbatch's compute.
    pub ep_comm_overlap: bool,
    /// Fused element-wise kernels (Megatron's fused layer norm and bias-dropout-add): the
    /// hidden state is streamed `FUSED_ELEMENTWISE_PASSES` times per layer instead of the
    /// fitted unfused count.
    pub fused_elementwise: bool,
    /// Gradients accumulated and reduced in fp32 (4 bytes per parameter) rather than bf16.
    pub fp32_gradients: bool,
    /// The optimizer keeps, beside each 16-bit weight, only the 16 low bits of its fp32 master
    /// copy (Apex `DistributedFusedAdam` with `store_param_remainders`, NeMo 1.x's optimizer)
    /// and steps from the gradients in their reduction precision: 10 bytes of state per
    /// parameter (m, v, remainder) and no fp32 gradient copy, against 12 (+ 4).
    pub master_weight_remainders: bool,
    /// With 16-bit gradients, each reduced gradient shard is cast back to the fp32 parameter's
    /// dtype in place (PyTorch FSDP's mixed precision: the reduce-scatter runs in 16 bits, the
    /// shard the optimizer steps from is fp32): 4 bytes per sharded parameter and no 16-bit
    /// shard beside it, where Megatron keeps a 16-bit buffer and an fp32 copy (2 + 4). The
    /// reduction's traffic is 16-bit either way.
    pub gradient_shards_upcast: bool,
    /// With FP8/FP4 matmuls, the GEMM inputs kept for the backward pass are stored in 8 bits
    /// (Transformer Engine keeps its quantised copies; DeepSeek-V3 caches FP8 activations).
    pub low_precision_activations: bool,
    /// Per-tensor FP8 runs keep their weights in FP8 and the sharded optimizer (or FSDP)
    /// all-gathers them in 8 bits (Megatron's `fp8_param_gather`;
    /// [`crate::train::precision::Recipe::gathered_param_bytes`]).
    pub fp8_param_gather: bool,
    /// NVFP4 runs keep their weights packed in 4 bits and gather them so
    /// (Megatron's `fp4_param_gather`).
    pub fp4_param_gather: bool,
    /// Layers whose saved activations are copied to host memory after their forward pass and
    /// brought back for the backward (Megatron's `cpu_offloading_num_layers`; Grace's
    /// NVLink-C2C makes it cheap on GB200/GB300). They leave HBM; the copies are taken as
    /// hidden under the compute of the neighbouring layers.
    pub activation_offload_layers: u32,
    /// The cuDNN whose fused-attention kernels the framework's container ships (`None`: not
    /// cuDNN's, or the newest): [`crate::train::attention::kernel_speed`] on the chip.
    #[serde(skip)]
    pub cudnn: Option<crate::train::attention::CudnnVersion>,
}

impl Strategy {
    /// Accelerators the strategy uses.
    pub fn gpus(&self) -> u64 {
        u64::from(self.tp) * u64::from(self.pp) * u64::from(self.dp) * u64::from(self.cp)
    }

    /// A layout with every split 1 and Megatron-Core's software: the base to build layouts
    /// from in tests and callers (`Strategy { tp: 8, ..Strategy::single() }`).
    pub fn single() -> Strategy {
        Strategy {
            tp: 1,
            pp: 1,
            dp: 1,
            cp: 1,
            ep: 1,
            virtual_pp: 1,
            microbatch: 1,
            sequence_parallel: false,
            recompute: Recompute::None,
            recompute_modules: RecomputeModules::NONE,
            recompute_layers: 0,
            zero: 0,
            first_stage_layers: 0,
            last_stage_layers: 0,
            flash_attention: true,
            dp_collectives: Granularity::Bucket,
            overlap_grad_reduce: true,
            overlap_param_gather: false,
            tp_comm_overlap: false,
            async_tp_all_reduce: false,
            tp_comm_overlap_as_run: false,
            userbuffers: crate::train::userbuffers::TE_DEFAULTS,
            ep_comm_overlap: false,
            fused_elementwise: true,
            fp32_gradients: true,
            master_weight_remainders: false,
            gradient_shards_upcast: false,
            low_precision_activations: false,
            fp8_param_gather: false,
            fp4_param_gather: false,
            activation_offload_layers: 0,
            cudnn: None,
        }
    }

    /// The modules selective recompute discards (the attention core when none are named).
    pub fn selective_modules(&self) -> RecomputeModules {
        match self.recompute {
            Recompute::Selective if self.recompute_modules.is_empty() => {
                RecomputeModules::CORE_ATTN
            }
            Recompute::Selective => self.recompute_modules,
            _ => RecomputeModules::NONE,
        }
    }

    /// Tensor-parallel ranks of each expert (Megatron's `expert_tensor_parallel_size`): the
    /// attention's TP (Megatron's default) when the expert-parallel group fits beside it, else
    /// the largest divisor of TP that lets it fit. Megatron lays the experts out on their own
    /// grid (MoE parallel folding, arXiv 2504.14960: ETP x EP x expert-DP over the same
    /// TP x CP x DP ranks of a pipeline stage) and requires ETP x EP to divide TP x CP x DP, so
    /// a published EP larger than DP x CP means the run folded TP into the expert group
    /// (Qwen3-235B on H100: TP 2, EP 32 on 32 GPUs per stage runs ETP 1).
    pub fn expert_tp(&self) -> u32 {
        let ranks = self.tp * self.dp * self.cp;
        let ep = self.ep.max(1);
        (1..=self.tp.max(1))
            .rev()
            .find(|etp| self.tp.is_multiple_of(*etp) && ranks.is_multiple_of(ep * etp))
            .unwrap_or(1)
    }

    /// Bytes per parameter of the gradient buffer.
    pub fn gradient_bytes(&self) -> f64 {
        if self.fp32_gradients {
            4.0
        } else {
            2.0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modules_parse_and_name_themselves() {
        let both = RecomputeModules::parse("core_attn")
            .unwrap()
            .union(RecomputeModules::parse("mlp").unwrap());
        assert_eq!(both.names(), vec!["core_attn", "mlp"]);
        assert!(both.contains(RecomputeModules::MLP));
        assert!(!both.contains(RecomputeModules::MOE));
        assert_eq!(RecomputeModules::parse("attention"), None);
    }

    #[test]
    fn expert_tp_folds_only_when_the_expert_group_does_not_fit_beside_tp() {
        let base = Strategy {
            tp: 2,
            dp: 16,
            ..Strategy::single()
        };
        // EP 8 divides DP 16: experts keep the attention's TP 2 (Megatron's default).
        assert_eq!(Strategy { ep: 8, ..base }.expert_tp(), 2);
        // EP 32 on 2 x 16 = 32 ranks: only ETP 1 fits (the folded layout).
        assert_eq!(Strategy { ep: 32, ..base }.expert_tp(), 1);
        assert_eq!(Strategy::single().expert_tp(), 1);
    }

    #[test]
    fn selective_without_modules_means_the_attention_core() {
        let s = Strategy {
            recompute: Recompute::Selective,
            ..Strategy::single()
        };
        assert_eq!(s.selective_modules(), RecomputeModules::CORE_ATTN);
        assert_eq!(
            Strategy::single().selective_modules(),
            RecomputeModules::NONE
        );
    }
}
