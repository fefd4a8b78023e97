//! What the training step model takes: the accelerator ([`Hardware`]), what is trained
//! ([`Workload`]: batch, sequence, precision per component, MoE routing) and the global
//! constants ([`ModelConstants`]); `step` turns them into an [`super::step::Evaluation`].

use serde::Serialize;

use super::overlap::MoeRouting;
use super::precision::{ComponentRecipes, Recipe};
use crate::matmul_rates::MatmulRates;
/// Tensor precision of the matmuls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    /// bfloat16.
    Bf16,
    /// 8-bit float matmuls (attention and element-wise work stay 16-bit, as in Transformer Engine).
    Fp8,
    /// 4-bit float matmuls.
    Fp4,
}

/// An accelerator and its links, as the model sees them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hardware {
    /// Dense bf16 peak, FLOP/s.
    pub peak_bf16_flops: f64,
    /// Dense fp8 peak, FLOP/s (`None`: no fp8).
    pub peak_fp8_flops: Option<f64>,
    /// Dense fp4 peak, FLOP/s.
    pub peak_fp4_flops: Option<f64>,
    /// Measured BF16 matmul ceiling / BF16 peak (MAMF / peak).
    pub matmul_efficiency: f64,
    /// Measured FP8 matmul ceiling / FP8 peak, also used for FP4 (no FP4 measurement is in
    /// the catalog). FP8 runs further below its peak than BF16 on the chips measured.
    pub low_precision_matmul_efficiency: f64,
    /// HBM capacity, bytes.
    pub hbm_bytes: f64,
    /// HBM bandwidth, bytes/s.
    pub hbm_bytes_per_s: f64,
    /// Measured achievable HBM bandwidth (a stream benchmark such as BabelStream), bytes/s,
    /// where one is published; `None` otherwise. Serving never streams faster than this.
    pub hbm_measured_bytes_per_s: Option<f64>,
    /// Accelerators in one scale-up domain (NVLink and the like).
    pub scale_up_domain: f64,
    /// Scale-up bandwidth per accelerator, one direction, bytes/s.
    pub scale_up_bytes_per_s: f64,
    /// Scale-out bandwidth per accelerator, one direction, bytes/s (the NIC line rate: a
    /// 400 Gb/s ConnectX-7 per GPU is 50e9).
    pub scale_out_bytes_per_s: f64,
    /// Oversubscription of the scale-out fabric (1: non-blocking); collectives and all-to-alls
    /// that leave the scale-up domain run at `scale_out_bytes_per_s` divided by it.
    pub scale_out_oversubscription: f64,
    /// All-reduce algorithm bandwidth (bytes per rank over the collective's time) that the
    /// scale-up switches' in-network reduction reaches (NVLink SHARP, which NCCL uses for
    /// all-reduce by default where the switch has it), measured, bytes/s; `None` where the
    /// switch has none (or none is known) and all-reduces run as rings. Reduce-scatters and
    /// all-gathers gain nothing from it (`collectives::in_domain_all_reduce_transfer_s`).
    pub nvls_all_reduce_bytes_per_s: Option<f64>,
    /// Coherent host-memory link per accelerator, one direction, bytes/s (GB200's NVLink-C2C
    /// to its Grace CPU); 0 where the host sits behind PCIe only. Serving streams weights
    /// that do not fit in HBM over it each forward pass (`perf::serve::moe`).
    pub host_link_bytes_per_s: f64,
    /// Matmul peak and ceiling per catalog precision (BF16, FP8 by recipe, MXFP8, NVFP4,
    /// MXFP4). Carried for the models to use; today's step and serving models still read
    /// `matmul_efficiency` and `low_precision_matmul_efficiency`.
    pub matmul_rates: MatmulRates,
    /// The architecture its fused-attention kernels are tuned for (their published speed by
    /// cuDNN version, `attention::kernel_speed`).
    pub kernel_arch: crate::train::attention::KernelArch,
    /// Streaming multiprocessors (or compute units): what a communication kernel's reserved
    /// SMs are a share of (`userbuffers`).
    pub streaming_multiprocessors: f64,
}

impl Hardware {
    /// The HBM bandwidth a serving step streams at: the nominal figure times the fitted
    /// streaming `efficiency`, but never above the chip's measured achievable bandwidth (MI300X
    /// reaches 81% of its nominal 5.3 TB/s in BabelStream, where H100 and B200 reach ~90%).
    pub fn serving_hbm_bytes_per_s(&self, efficiency: f64) -> f64 {
        let fitted = self.hbm_bytes_per_s * efficiency;
        self.hbm_measured_bytes_per_s
            .map_or(fitted, |measured| fitted.min(measured))
    }

    /// Dense peak at `precision`, if the accelerator has it.
    pub fn peak(&self, precision: Precision) -> Option<f64> {
        match precision {
            Precision::Bf16 => Some(self.peak_bf16_flops),
            Precision::Fp8 => self.peak_fp8_flops,
            Precision::Fp4 => self.peak_fp4_flops,
        }
    }

    /// Achievable dense matmul FLOP/s at `precision` (the peak times the measured efficiency).
    pub fn matmul_ceiling(&self, precision: Precision) -> Option<f64> {
        let efficiency = match precision {
            Precision::Bf16 => self.matmul_efficiency,
            Precision::Fp8 | Precision::Fp4 => self.low_precision_matmul_efficiency,
        };
        self.peak(precision).map(|peak| peak * efficiency)
    }
}

/// What is trained: batch, sequence, precision, MoE routing.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Workload {
    /// Sequences per step.
    pub global_batch: f64,
    /// Tokens per sequence.
    pub seq_len: f64,
    /// Matmul precision: the headline family, whose dense peak MFU is quoted against.
    pub precision: Precision,
    /// The recipe of each component (attention projections, dense MLPs, experts); `None`: the
    /// default recipe of `precision` everywhere ([`Recipe::default_for`]).
    pub components: Option<ComponentRecipes>,
    /// Expert load imbalance and node-limited routing (read on MoE models only).
    pub moe: MoeRouting,
}

impl Workload {
    /// A workload with the default recipe of `precision` everywhere and the default routing.
    pub fn new(global_batch: f64, seq_len: f64, precision: Precision) -> Workload {
        Workload {
            global_batch,
            seq_len,
            precision,
            components: None,
            moe: MoeRouting::default(),
        }
    }

    /// The recipe of each component.
    pub fn components(&self) -> ComponentRecipes {
        self.components
            .unwrap_or_else(|| ComponentRecipes::uniform(Recipe::default_for(self.precision)))
    }
}

/// Constants of the model that are not properties of one chip. Each is a documented
/// assumption or a fit over the whole calibration set (see the README), never a per-row knob.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ModelConstants {
    /// Matrix dimension at which a GEMM loses half its efficiency to tile and wave
    /// quantisation: shape factor = 1 / (1 + d0/m + d0/n + d0/k).
    pub gemm_half_dim: f64,
    /// Fused attention throughput as a fraction of the matmul ceiling.
    pub attention_fraction: f64,
    /// Achieved fraction of HBM bandwidth for streaming kernels. 0.85 sits just under the
    /// STREAM triad Azure publishes (BabelStream: 2.97 TB/s on H100 SXM, 89% of 3.35; 4.15 TB/s
    /// on H200, 86% of 4.8; Azure/AI-benchmarking-guide results), as real kernels do less well
    /// than STREAM.
    pub memory_efficiency: f64,
    /// Achieved fraction of nominal link bandwidth for NCCL collectives.
    pub link_efficiency: f64,
    /// Fixed cost per collective on the scale-up link, s.
    pub scale_up_latency_s: f64,
    /// Fixed cost per collective on the scale-out network, s.
    pub scale_out_latency_s: f64,
    /// Fixed cost per kernel launch, s.
    pub kernel_overhead_s: f64,
    /// Element-wise passes over the hidden state per layer, forward, each a read or a write
    /// (norms, residual adds, dropout, bias, rotary): a property of how fused the framework is.
    pub elementwise_passes: f64,
    /// Memory the framework keeps for itself (CUDA context, NCCL buffers, fragmentation), bytes.
    pub reserved_memory_bytes: f64,
    /// Fraction of a hidden collective's time the compute under it loses
    /// (`overlap::OVERLAP_COMPUTE_SHARE`, sourced; also on the refit grid). TP collectives
    /// under Transformer Engine's userbuffers cost the GEMMs instead (`userbuffers`).
    pub overlap_compute_share: f64,
    /// Serving with expert parallelism: the busiest rank's routed-expert load over the mean
    /// (max / mean tokens per rank, after the engine's expert load balancer). Every rank waits
    /// for the busiest at each all-to-all, so expert compute and the all-to-all take this
    /// factor. Default 1.18: SGLang's 4-node EP32 H100 prefill ran 59,337 tokens/s per node
    /// with a simulated perfectly balanced placement and 50,302 with its EPLB placement on real
    /// routing (LMSYS, "Deploying DeepSeek with PD Disaggregation and Large-scale Expert
    /// Parallelism on 96 H100 GPUs", 2025-05-05, lm-sys/lm-sys.github.io@2db4e404); where the
    /// experts and their all-to-all set the pace throughput scales as mean / max load, so
    /// 59,337 / 50,302 = 1.18. Training reads its own per-workload figure
    /// (`Workload::moe`, `overlap::MoeRouting`) instead.
    pub expert_imbalance: f64,
}

/// The defaults are training's: `gemm_half_dim`, `attention_fraction` and
/// `overlap_compute_share` are the point of `validate::Grid::shipped` with the least mean
/// |error| over every usable row of both training calibration files (`gigawatt train validate`
/// reruns that fit and prints it as "refitted on every row", beside the leave-one-source-out
/// and leave-Blackwell-out folds, which refit without their held-out rows). GEMM half-dim 256,
/// attention 0.35 and 0.55 of hidden time lost (over three times the SM share DeepSeek-V3 reports, 0.15, as
/// hidden traffic also takes HBM bandwidth from the kernels under it; 0.45 while DeepEP's and
/// HybridEP's hidden all-to-alls were charged it too, before they took their SMs' share).
/// `elementwise_passes`, read by frameworks that do not fuse their element-wise kernels, is
/// counted, not fitted: [`crate::train::UNFUSED_ELEMENTWISE_PASSES`] (it was fitted at 14
/// until 2026-12-05, a value only MosaicML's rows could choose). Training used to ship 192 and
/// 28, fitted on the first file with a much older step model, while the refit read 256 and 14;
/// shipping the refit moves no out-of-sample figure (every fold refits). Serving keeps the old
/// pair as its own base ([`ModelConstants::serving`]). The others are stated assumptions.
impl Default for ModelConstants {
    fn default() -> ModelConstants {
        ModelConstants {
            gemm_half_dim: 256.0,
            attention_fraction: 0.35,
            memory_efficiency: 0.85,
            link_efficiency: 0.80,
            scale_up_latency_s: 8e-6,
            scale_out_latency_s: 25e-6,
            kernel_overhead_s: 4e-6,
            elementwise_passes: crate::train::step::UNFUSED_ELEMENTWISE_PASSES,
            reserved_memory_bytes: 3.0 * 1024.0 * 1024.0 * 1024.0,
            overlap_compute_share: 0.55,
            expert_imbalance: DEFAULT_EXPERT_IMBALANCE,
        }
    }
}

impl ModelConstants {
    /// Serving's base: training's constants with the GEMM shape and element-wise figures the
    /// serving fit was made on (GEMM half-dim 192, 28 passes: the first training file's fit,
    /// which serving's own memory, launch and attention constants were fitted beside;
    /// `engine::infer::fit`). Serving's GEMMs are mostly decode's few rows a step, a regime
    /// training's fit never sees, so each model keeps the shape constant fitted with it.
    pub fn serving() -> ModelConstants {
        ModelConstants {
            gemm_half_dim: 192.0,
            elementwise_passes: 28.0,
            ..ModelConstants::default()
        }
    }
}

/// The default expert load imbalance of serving (max / mean per EP rank): see
/// [`ModelConstants::expert_imbalance`].
pub const DEFAULT_EXPERT_IMBALANCE: f64 = 59_337.0 / 50_302.0;
