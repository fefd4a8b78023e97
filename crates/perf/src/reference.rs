//! Reference accelerators and architectures with their published figures, for tests,
//! benchmarks and examples. Users get theirs from the catalog (`engine::train` builds them);
//! these exist so the model's own checks use one copy of each.

use crate::arch::{Arch, Mla};
use crate::matmul_rates::{MatmulRate, MatmulRates};
use crate::step::Hardware;
use crate::train::{Framework, RecomputeModules, ZeroStages};

/// H100 SXM FP8 (per-tensor scaling), measured.
const FP8: MatmulRate = MatmulRate {
    peak_flops: 1979e12,
    ceiling_flops: Some(1402.6e12),
    measured: true,
};

const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

/// NVIDIA H100 SXM in an 8-GPU NVLink node with one 400 Gb/s NIC per GPU: dense peaks 989 BF16
/// and 1,979 FP8 TFLOP/s; measured matmul ceilings 794.5 (BF16) and 1,402.6 (FP8) TFLOP/s
/// (Stas Bekman's MAMF tables); 80 GiB at 3.35 TB/s; NVLink 4 at 450 GB/s each way.
pub fn h100_sxm() -> Hardware {
    Hardware {
        peak_bf16_flops: 989e12,
        peak_fp8_flops: Some(1979e12),
        peak_fp4_flops: None,
        matmul_efficiency: 794.5 / 989.0,
        low_precision_matmul_efficiency: 1402.6 / 1979.0,
        hbm_bytes: 80.0 * GIB,
        hbm_bytes_per_s: 3.35e12,
        hbm_measured_bytes_per_s: None,
        scale_up_domain: 8.0,
        scale_up_bytes_per_s: 450e9,
        scale_out_bytes_per_s: 50e9,
        scale_out_oversubscription: 1.0,
        // DGX H100's NVLink SHARP: ~275 GB/s all-reduce algorithm bandwidth on 8 GPUs (the
        // NCCL team, NVIDIA/nccl-tests#212; catalog `dgx-h100`).
        nvls_all_reduce_bytes_per_s: Some(275e9),
        // The H100 SXM's host is on PCIe: no coherent host link.
        host_link_bytes_per_s: 0.0,
        matmul_rates: MatmulRates {
            bf16: Some(MatmulRate {
                peak_flops: 989e12,
                ceiling_flops: Some(794.5e12),
                measured: true,
            }),
            fp8: Some(FP8),
            fp8_blockwise: Some(FP8),
            ..MatmulRates::default()
        },
        kernel_arch: crate::train::attention::KernelArch::Hopper,
        // H100 SXM5: 132 SMs (DeepSeek-V3 report §3.2.2 on the H800, the same GH100 part).
        streaming_multiprocessors: 132.0,
    }
}

/// Llama 3 70B (Meta's model card and config): 80 layers, width 8,192, SwiGLU 28,672, 64 query
/// and 8 key/value heads, a 128,256-token vocabulary.
pub fn llama3_70b() -> Arch {
    Arch {
        layers: 80.0,
        hidden: 8192.0,
        ffn_hidden: 28672.0,
        heads: 64.0,
        kv_heads: 8.0,
        head_dim: 128.0,
        vocab: 128256.0,
        gated_mlp: true,
        tied_embeddings: false,
        ..Arch::gpt(1, 1, 1, 1)
    }
}

/// DeepSeek-V3 (its config_671B.json): 61 layers (3 dense), width 7,168, 256 routed experts of
/// width 2,048 with top-8 routing and one shared expert, MLA with a 512-wide latent.
pub fn deepseek_v3() -> Arch {
    Arch {
        layers: 61.0,
        hidden: 7168.0,
        ffn_hidden: 18432.0,
        heads: 128.0,
        kv_heads: 128.0,
        head_dim: 128.0,
        vocab: 129280.0,
        gated_mlp: true,
        tied_embeddings: false,
        experts: 256.0,
        top_k: 8.0,
        moe_ffn_hidden: 2048.0,
        shared_experts: 1.0,
        dense_layers: 3.0,
        mla: Some(Mla {
            q_lora_rank: 1536.0,
            kv_lora_rank: 512.0,
            qk_nope_head_dim: 128.0,
            qk_rope_head_dim: 64.0,
            v_head_dim: 128.0,
        }),
        sliding_window: 0.0,
        sliding_layers: 0.0,
        mtp_layers: 0.0,
        expert_bias: false,
        yarn_scaling_factor: 0.0,
        glu_clamp: false,
        qk_norm: false,
    }
}

/// Llama 3 405B (Meta, "The Llama 3 Herd of Models", Table 3): 126 layers, width 16,384,
/// SwiGLU 53,248, 128 query and 8 key/value heads, a 128,256-token vocabulary, untied.
pub fn llama3_405b() -> Arch {
    Arch {
        layers: 126.0,
        hidden: 16384.0,
        ffn_hidden: 53248.0,
        heads: 128.0,
        kv_heads: 8.0,
        head_dim: 128.0,
        vocab: 128256.0,
        gated_mlp: true,
        tied_embeddings: false,
        ..Arch::gpt(1, 1, 1, 1)
    }
}

/// Megatron-Core as of 2025-2026 (the facts `catalog/frameworks.toml` cites for
/// `megatron-bridge-2026`), for tests and benchmarks: fused attention and element-wise
/// kernels, every overlap, the distributed optimizer (ZeRO-1) with or without pipelines and
/// FSDP without them, uneven stages, FP8 and FP4 recipes, named recompute modules.
pub fn megatron_core() -> Framework {
    Framework {
        flash_attention: true,
        fused_elementwise: true,
        overlap_grad_reduce: true,
        overlap_param_gather: true,
        dp_collectives: crate::train::collectives::Granularity::Bucket,
        tp_comm_overlap: true,
        ep_comm_overlap: true,
        tensor_parallel: true,
        sequence_parallel: true,
        pipeline_parallel: true,
        virtual_pipeline: true,
        uneven_stages: true,
        context_parallel: true,
        expert_parallel: true,
        zero_stages: ZeroStages::of(&[0, 1, 3]),
        zero_stages_with_pp: ZeroStages::of(&[0, 1]),
        fp8: true,
        default_fp8_recipe: crate::train::Recipe::Fp8Current,
        fp4: true,
        low_precision_activations: true,
        fp32_gradients: true,
        master_weight_remainders: false,
        gradient_shards_upcast: false,
        async_tp_all_reduce: true,
        recompute_modules: RecomputeModules(0x7f),
        partial_recompute: true,
        default_zero: 1,
        // The newest kernels: the fitted attention fraction unchanged.
        cudnn: None,
    }
}
