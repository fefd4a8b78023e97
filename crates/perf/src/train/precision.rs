//! Precision recipes: which matmul format each part of a layer runs in, the ceiling that format
//! reaches on a chip (the catalog's per-precision schema, carried in [`MatmulRates`]), and what
//! quantising the GEMM inputs costs in HBM traffic.
//!
//! Recipes differ in speed for two reasons the model keeps apart:
//! - the GEMM ceiling: per-tensor FP8, blockwise FP8, MXFP8 and NVFP4 each have their own
//!   (measured, or derived by the catalog's stated rule) in `Hardware::matmul_rates`;
//! - the casts: every GEMM input is quantised first, and the scaling decides how many passes over
//!   the 16-bit tensor that takes (counted per recipe in [`Recipe::cast_bytes_per_element`]).
//!
//! Precision may differ by component, as recipes do (Transformer Engine's attention core always
//! stays 16-bit; NVFP4 recipes keep some layers in BF16; DeepSeek-V3 keeps its attention
//! projections in BF16 only for some operators): [`ComponentRecipes`] names the recipe of the
//! attention projections, the dense MLPs and the routed and shared experts separately.

use serde::Serialize;

use super::step::{Hardware, Precision};
use crate::matmul_rates::MatmulRate;

/// MXFP8's quantisation bytes per element (see [`Recipe::cast_bytes_per_element`]).
const MXFP8_CAST_BYTES: f64 = 4.0 + 2.0 / 32.0;

/// NVFP4's quantisation cost over MXFP8's, measured by NVIDIA on B300 (Transformer Engine's GEMM
/// profiling tutorial, `src-nvidia-te-gemm-profiling` in catalog/hardware.toml: one 5B-model
/// layer, 12 GEMMs, M = 15,872): per-layer time with quantisation (autocast) minus the
/// kernel-only (pre-quantized) time, NVFP4 6.453 - 3.764 = 2.689 ms, MXFP8 8.984 - 7.161 =
/// 1.823 ms: 1.475. The same table gives FP8 current scaling 9.147 - 6.812 = 2.335 ms, 1.281x
/// MXFP8's, against the 5.0 / 4.06 = 1.23 counted above (a cross-check, tested).
pub const NVFP4_OVER_MXFP8_CAST: f64 = (6.453 - 3.764) / (8.984 - 7.161);

/// A matmul recipe: a number format and its scaling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Recipe {
    /// bfloat16, no quantisation.
    Bf16,
    /// FP8 with per-tensor delayed scaling (amax history: the scale is known before the cast).
    Fp8Delayed,
    /// FP8 with per-tensor current scaling (an amax pass over the tensor before the cast).
    Fp8Current,
    /// FP8 with DeepSeek-V3's blockwise scaling (1x128 activations, 128x128 weights).
    Fp8Blockwise,
    /// OCP MXFP8: E4M3 with one E8M0 scale per 32 elements (Blackwell).
    Mxfp8,
    /// NVIDIA NVFP4: E2M1 with one E4M3 scale per 16 elements and a per-tensor scale.
    Nvfp4,
    /// OCP MXFP4: E2M1 with one E8M0 scale per 32 elements.
    Mxfp4,
}

impl Recipe {
    /// Every recipe and the names a spec or a calibration row writes it as.
    pub const NAMED: [(&'static str, Recipe); 7] = [
        ("bf16", Recipe::Bf16),
        ("fp8-delayed", Recipe::Fp8Delayed),
        ("fp8-current", Recipe::Fp8Current),
        ("fp8-blockwise", Recipe::Fp8Blockwise),
        ("mxfp8", Recipe::Mxfp8),
        ("nvfp4", Recipe::Nvfp4),
        ("mxfp4", Recipe::Mxfp4),
    ];

    /// The recipe called `name` (case-insensitive; `fp8-cs`, `fp8-mx` and `fp8-block` as
    /// NVIDIA's tables write them are accepted too).
    pub fn parse(name: &str) -> Option<Recipe> {
        let name = name.trim().to_ascii_lowercase();
        let alias = match name.as_str() {
            "fp8-cs" | "fp8_cs" | "fp8-current-scaling" => Some(Recipe::Fp8Current),
            "fp8-mx" | "fp8_mx" => Some(Recipe::Mxfp8),
            "fp8-block" | "fp8-blockwise-scaling" => Some(Recipe::Fp8Blockwise),
            "fp8-ds" | "fp8_ds" => Some(Recipe::Fp8Delayed),
            _ => None,
        };
        alias.or_else(|| {
            Self::NAMED
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, r)| *r)
        })
    }

    /// The name a spec writes.
    pub fn name(self) -> &'static str {
        Self::NAMED
            .iter()
            .find(|(_, r)| *r == self)
            .map_or("bf16", |(n, _)| n)
    }

    /// The recipe a plain precision runs when nothing more is said: per-tensor delayed scaling
    /// for FP8 (Transformer Engine's default recipe until 2.x), NVFP4 for FP4.
    pub fn default_for(precision: Precision) -> Recipe {
        match precision {
            Precision::Bf16 => Recipe::Bf16,
            Precision::Fp8 => Recipe::Fp8Delayed,
            Precision::Fp4 => Recipe::Nvfp4,
        }
    }

    /// The precision family (the peak it is measured against).
    pub fn precision(self) -> Precision {
        match self {
            Recipe::Bf16 => Precision::Bf16,
            Recipe::Fp8Delayed | Recipe::Fp8Current | Recipe::Fp8Blockwise | Recipe::Mxfp8 => {
                Precision::Fp8
            }
            Recipe::Nvfp4 | Recipe::Mxfp4 => Precision::Fp4,
        }
    }

    /// HBM bytes moved to quantise one element of a GEMM input, per recipe:
    /// - BF16: none;
    /// - FP8 delayed: read 16-bit (2), write 8-bit (1): 3, the amax fused into the cast;
    /// - FP8 current: an amax pass first (read 2) then the cast (3): 5;
    /// - FP8 blockwise: the cast with the block amax fused (3), plus a transposed 8-bit copy for
    ///   the backward GEMM whose blocks run the other way (1): 4;
    /// - MXFP8: a row-wise and a column-wise copy (the 32-element blocks run along the
    ///   reduction dimension of each GEMM, so the transpose cannot be reused): read 2, write
    ///   1 + 1, scales 2/32: 4.06;
    /// - NVFP4: MXFP8's bytes times NVIDIA's measured ratio of the two recipes' quantisation
    ///   cost ([`NVFP4_OVER_MXFP8_CAST`]): 5.99. Counting NVFP4's passes one by one (a
    ///   per-tensor amax pass, the row- and column-wise 4-bit copies, the random Hadamard
    ///   transform of the weight-gradient inputs as a separate 16-bit round trip) gave 9.1,
    ///   half again what was measured: Transformer Engine fuses the transform and the amax into
    ///   the cast kernels;
    /// - MXFP4: the MXFP8 passes at 4 bits (3.06).
    pub fn cast_bytes_per_element(self) -> f64 {
        match self {
            Recipe::Bf16 => 0.0,
            Recipe::Fp8Delayed => 3.0,
            Recipe::Fp8Current => 5.0,
            Recipe::Fp8Blockwise => 4.0,
            Recipe::Mxfp8 => MXFP8_CAST_BYTES,
            Recipe::Nvfp4 => MXFP8_CAST_BYTES * NVFP4_OVER_MXFP8_CAST,
            Recipe::Mxfp4 => 3.0 + 2.0 / 32.0,
        }
    }

    /// Host operations per expert GEMM of a rank holding `local_experts` experts, in the unit
    /// the host model charges (`step::host::HOST_S_PER_OP`): the GEMM (Transformer Engine's
    /// grouped GEMM runs one per expert) and its share of the quantisation of the experts'
    /// split input. `split_quantize` hands the experts' rows to `multi_tensor_quantize_impl`
    /// (transformer_engine/pytorch/csrc/extensions/cast.cpp, at v2.9, the 25.11 container's,
    /// and at f031cf87, the 26.04 pin), which fuses one case only: "Currently only have fused
    /// kernel for FP8 delayed scaling" (`nvte_multi_cast_transpose`, one cast for every
    /// expert). Every other recipe quantises expert by expert.
    /// - BF16: the GEMM alone, 1;
    /// - FP8 delayed: the GEMM and a share of the one fused cast, 1 + 1 / local experts;
    /// - every other low-precision recipe: the GEMM and its expert's quantise call, 2. (The
    ///   26.04 pin also fuses NVFP4's split where the inner dimension is a multiple of 128; no
    ///   calibrated MoE row runs NVFP4, so the per-expert count stands.)
    pub fn expert_gemm_ops(self, local_experts: f64) -> f64 {
        match self {
            Recipe::Bf16 => 1.0,
            Recipe::Fp8Delayed => 1.0 + 1.0 / local_experts.max(1.0),
            Recipe::Fp8Current
            | Recipe::Fp8Blockwise
            | Recipe::Mxfp8
            | Recipe::Nvfp4
            | Recipe::Mxfp4 => 2.0,
        }
    }

    /// Kernels a quantise call launches from C++ beyond its cast, per tensor: FP8 current
    /// scaling's `Float8CurrentScalingQuantizer::quantize_impl` launches an amax reduction
    /// (`nvte_compute_amax_with_config`) and the scale's computation
    /// (`nvte_compute_scale_from_amax`) before the cast (`nvte_quantize_v2`): 2 (quantizer.cpp
    /// at v2.9 and f031cf87). Every other recipe's cast is one kernel: 0. The host pays these at
    /// the driver's launch cost, not a framework operation's (`step::host`).
    pub fn quantise_extra_kernels(self) -> f64 {
        match self {
            Recipe::Fp8Current => 2.0,
            _ => 0.0,
        }
    }

    /// Bytes per weight the sharded optimizer's (or FSDP's) parameter all-gather moves for
    /// weights that run this recipe, when the run keeps its weights in the recipe's own format
    /// (Megatron's `fp8_param_gather` / `fp4_param_gather`) and otherwise 16 bits:
    /// - per-tensor FP8 (delayed or current scaling): 1. Megatron-Core keeps `Float8Tensor`
    ///   weights in a `uint8` parameter buffer and all-gathers that (distributed optimizer:
    ///   `modify_underlying_storage(param, new_param_data)` in
    ///   megatron/core/distributed/param_and_grad_buffer.py; Megatron-FSDP: `param_dtype =
    ///   torch.uint8` for FP8 groups in megatron_fsdp/param_and_grad_buffer.py; both at
    ///   NVIDIA/Megatron-LM core_r0.14.0);
    /// - MXFP8: 2. Megatron-Bridge requires `reuse_grad_buf_for_mxfp8_param_ag` with MXFP8
    ///   parameters (src/megatron/bridge/training/mixed_precision.py on the 26.04 branch,
    ///   26.04-alpha.rc2 @fd5c4737, asserts it; `bf16_with_mxfp8_mixed` sets both at v0.2.0):
    ///   the main weights are copied into the 16-bit gradient buffer, gathered there and
    ///   quantised after the gather (Megatron-Core `_copy_main_params_to_param_buffer`,
    ///   megatron/core/optimizer/optimizer.py at core_r0.14.0);
    /// - NVFP4: 0.5. With `fp4_param_gather` the parameter buffer holds two 4-bit values per
    ///   byte ("NVFP4 params are packed (2 values per byte), so the param buffer uses half the
    ///   logical numel", megatron/core/distributed/param_and_grad_buffer.py at Megatron-LM
    ///   3097d81, the 26.04 container's pin); the block scales are not in that buffer;
    /// - BF16, FP8 blockwise, MXFP4, or a run without the setting: 2 (the 16-bit weights; no
    ///   low-precision gather of those formats is read in the sources).
    pub fn gathered_param_bytes(self, fp8_param_gather: bool, fp4_param_gather: bool) -> f64 {
        match self {
            Recipe::Fp8Delayed | Recipe::Fp8Current if fp8_param_gather => 1.0,
            Recipe::Nvfp4 if fp4_param_gather => 0.5,
            _ => 2.0,
        }
    }

    /// Bytes per element of a GEMM input all-gathered in this recipe's format, scales
    /// included: Transformer Engine quantises a sequence-parallel shard and gathers the row-wise
    /// copy (`gather_along_first_dim` with the quantizer, transformer_engine/pytorch/
    /// distributed.py, `_Linear` / `_LayerNormLinear` forward at f031cf87, the 26.04 pin):
    /// - BF16: 2;
    /// - FP8 per tensor (delayed or current scaling): 1 (one scale per tensor);
    /// - FP8 blockwise: 1 + 4 / 128 (an fp32 scale per 1 x 128 block);
    /// - MXFP8: 1 + 1 / 32 (an E8M0 scale per 32);
    /// - NVFP4: 0.5 + 1 / 16 (an E4M3 scale per 16);
    /// - MXFP4: 2 (Transformer Engine has no MXFP4 recipe; no low-precision gather of it is
    ///   read in the sources).
    pub fn gathered_input_bytes(self) -> f64 {
        match self {
            Recipe::Bf16 | Recipe::Mxfp4 => 2.0,
            Recipe::Fp8Delayed | Recipe::Fp8Current => 1.0,
            Recipe::Fp8Blockwise => 1.0 + 4.0 / 128.0,
            Recipe::Mxfp8 => 1.0 + 1.0 / 32.0,
            Recipe::Nvfp4 => 0.5 + 1.0 / 16.0,
        }
    }

    /// Bytes per element of an output gradient all-gathered in this recipe's format for a
    /// sequence-parallel row-parallel layer's backward, scales included. Transformer Engine
    /// quantises the local gradient and gathers what both backward GEMMs need
    /// (`grad_output_preprocess` in transformer_engine/pytorch/module/base.py, with
    /// `gather_along_first_dim`, at f031cf87):
    /// - BF16: 2;
    /// - FP8 per tensor: 1 (the row-wise copy; `_all_gather_fp8` transposes after the gather);
    /// - MXFP8: 2 x (1 + 1 / 32), the row- and column-wise copies, a little more than 16 bits;
    /// - NVFP4: 2 x (0.5 + 1 / 16);
    /// - FP8 blockwise and MXFP4: 2 (not read in the sources).
    pub fn gathered_gradient_bytes(self) -> f64 {
        match self {
            Recipe::Bf16 | Recipe::Fp8Blockwise | Recipe::Mxfp4 => 2.0,
            Recipe::Fp8Delayed | Recipe::Fp8Current => 1.0,
            Recipe::Mxfp8 => 2.0 * (1.0 + 1.0 / 32.0),
            Recipe::Nvfp4 => 2.0 * (0.5 + 1.0 / 16.0),
        }
    }

    /// The catalog's matmul rate for this recipe on `hw`, when the schema has one.
    fn rate(self, hw: &Hardware) -> Option<MatmulRate> {
        let r = &hw.matmul_rates;
        match self {
            Recipe::Bf16 => r.bf16,
            Recipe::Fp8Delayed | Recipe::Fp8Current => r.fp8,
            Recipe::Fp8Blockwise => r.fp8_blockwise.or(r.fp8),
            Recipe::Mxfp8 => r.mxfp8,
            Recipe::Nvfp4 => r.nvfp4,
            Recipe::Mxfp4 => r.mxfp4,
        }
    }

    /// Whether `hw` runs this recipe: the schema lists the format, or (for hardware built
    /// without a schema, as in tests) the precision family has a peak. Hopper has no MX or NVFP4
    /// formats: the schema marks them not applicable and this is false.
    pub fn supported_on(self, hw: &Hardware) -> bool {
        if hw.matmul_rates == Default::default() {
            return hw.peak(self.precision()).is_some_and(|p| p > 0.0);
        }
        self.rate(hw).is_some_and(|r| r.peak_flops > 0.0)
    }

    /// Achievable matmul FLOP/s for this recipe on `hw`: the schema's ceiling for the format
    /// (measured or derived), else the precision family's peak times its measured efficiency.
    pub fn ceiling(self, hw: &Hardware) -> Option<f64> {
        self.rate(hw)
            .and_then(|r| r.ceiling_flops)
            .filter(|c| *c > 0.0)
            .or_else(|| hw.matmul_ceiling(self.precision()))
    }
}

/// The recipe of each component of a layer. The attention core (flash attention) is not listed:
/// it runs in 16 bits in every recipe the calibration sources use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ComponentRecipes {
    /// QKV and output projections.
    pub attention: Recipe,
    /// Dense MLPs (and the output layer's neighbours; the output layer itself stays BF16).
    pub dense: Recipe,
    /// Routed and shared experts.
    pub experts: Recipe,
}

impl ComponentRecipes {
    /// One recipe everywhere.
    pub fn uniform(recipe: Recipe) -> ComponentRecipes {
        ComponentRecipes {
            attention: recipe,
            dense: recipe,
            experts: recipe,
        }
    }

    /// Every component's recipe, for checks.
    pub fn all(&self) -> [(&'static str, Recipe); 3] {
        [
            ("attention", self.attention),
            ("dense", self.dense),
            ("experts", self.experts),
        ]
    }

    /// The most precise (slowest) family among the components: what the MFU is quoted against
    /// is the workload's headline precision, not this.
    pub fn lowest_family(&self) -> Precision {
        let rank = |p: Precision| match p {
            Precision::Bf16 => 2,
            Precision::Fp8 => 1,
            Precision::Fp4 => 0,
        };
        self.all()
            .iter()
            .map(|(_, r)| r.precision())
            .min_by_key(|p| rank(*p))
            .unwrap_or(Precision::Bf16)
    }
}

/// The ceilings and cast costs one evaluation uses, resolved once per evaluation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Resolved {
    pub attention_ceiling: f64,
    pub dense_ceiling: f64,
    pub expert_ceiling: f64,
    pub attention_cast: f64,
    pub dense_cast: f64,
    pub expert_cast: f64,
}

/// Resolves `components` on `hw`; `None` when a component's format is not on the chip.
pub(crate) fn resolve(hw: &Hardware, components: &ComponentRecipes) -> Option<Resolved> {
    let one = |r: Recipe| -> Option<f64> {
        if r.supported_on(hw) {
            r.ceiling(hw)
        } else {
            None
        }
    };
    Some(Resolved {
        attention_ceiling: one(components.attention)?,
        dense_ceiling: one(components.dense)?,
        expert_ceiling: one(components.experts)?,
        attention_cast: components.attention.cast_bytes_per_element(),
        dense_cast: components.dense.cast_bytes_per_element(),
        expert_cast: components.experts.cast_bytes_per_element(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matmul_rates::MatmulRates;
    use crate::reference::h100_sxm;

    #[test]
    fn names_round_trip_and_nvidia_aliases_parse() {
        for (name, recipe) in Recipe::NAMED {
            assert_eq!(Recipe::parse(name), Some(recipe));
            assert_eq!(recipe.name(), name);
        }
        assert_eq!(Recipe::parse("FP8-CS"), Some(Recipe::Fp8Current));
        assert_eq!(Recipe::parse("fp8-mx"), Some(Recipe::Mxfp8));
        assert_eq!(Recipe::parse("fp16"), None);
    }

    #[test]
    fn recipes_read_their_own_ceilings_from_the_schema() {
        // A made-up Blackwell-like table: FP8 per-tensor 3,000, MXFP8 3,300, NVFP4 4,000 TFLOP/s.
        let rate = |peak: f64, ceiling: f64| {
            Some(MatmulRate {
                peak_flops: peak,
                ceiling_flops: Some(ceiling),
                measured: true,
            })
        };
        let hw = Hardware {
            matmul_rates: MatmulRates {
                bf16: rate(2.25e15, 1.75e15),
                fp8: rate(4.5e15, 3.0e15),
                fp8_blockwise: None,
                mxfp8: rate(4.5e15, 3.3e15),
                nvfp4: rate(9e15, 4.0e15),
                mxfp4: None,
            },
            ..h100_sxm()
        };
        assert_eq!(Recipe::Mxfp8.ceiling(&hw), Some(3.3e15));
        assert_eq!(Recipe::Fp8Current.ceiling(&hw), Some(3.0e15));
        // Blockwise falls back to the per-tensor figure where the table has none.
        assert_eq!(Recipe::Fp8Blockwise.ceiling(&hw), Some(3.0e15));
        assert_eq!(Recipe::Nvfp4.ceiling(&hw), Some(4.0e15));
        assert!(!Recipe::Mxfp4.supported_on(&hw));
        assert!(resolve(&hw, &ComponentRecipes::uniform(Recipe::Mxfp4)).is_none());
    }

    #[test]
    fn a_gathered_input_moves_the_recipes_row_wise_bytes() {
        // Data plus scales: NVFP4 half a byte and an E4M3 per 16; MXFP8 a byte and an E8M0 per 32.
        assert_eq!(Recipe::Nvfp4.gathered_input_bytes(), 0.5625);
        assert_eq!(Recipe::Mxfp8.gathered_input_bytes(), 1.03125);
        assert_eq!(Recipe::Fp8Current.gathered_input_bytes(), 1.0);
        // Never more than the 16-bit input.
        for (_, recipe) in Recipe::NAMED {
            assert!(recipe.gathered_input_bytes() <= 2.0, "{recipe:?}");
        }
        // A gradient gathered for both backward GEMMs: both copies of the block-scaled
        // formats (MXFP8's two a little over 16 bits), one of per-tensor FP8.
        assert_eq!(Recipe::Nvfp4.gathered_gradient_bytes(), 1.125);
        assert_eq!(Recipe::Mxfp8.gathered_gradient_bytes(), 2.0625);
        assert_eq!(Recipe::Fp8Delayed.gathered_gradient_bytes(), 1.0);
    }

    #[test]
    fn nvfp4_cast_is_mxfp8s_times_the_measured_quantisation_ratio() {
        // NVIDIA's B300 table: (6.453 - 3.764) / (8.984 - 7.161) = 2.689 / 1.823 = 1.4750;
        // times MXFP8's 4 + 2/32 = 4.0625 bytes: 5.992 bytes per element.
        assert!((NVFP4_OVER_MXFP8_CAST - 1.4750).abs() < 1e-4);
        assert!((Recipe::Nvfp4.cast_bytes_per_element() - 5.992).abs() < 1e-3);
        // Cross-check on the same table: FP8 current scaling's measured quantisation time is
        // (9.147 - 6.812) / 1.823 = 1.281x MXFP8's; the counted bytes give 5.0 / 4.0625 =
        // 1.231x, within 5%.
        let measured = (9.147 - 6.812) / (8.984 - 7.161);
        let counted =
            Recipe::Fp8Current.cast_bytes_per_element() / Recipe::Mxfp8.cast_bytes_per_element();
        assert!(
            (counted / measured - 1.0).abs() < 0.05,
            "{counted} vs {measured}"
        );
    }

    #[test]
    fn weights_are_gathered_in_the_format_the_run_keeps_them_in() {
        // Per-tensor FP8 weights live in a uint8 buffer: 1 byte; MXFP8 is gathered through the
        // 16-bit gradient buffer: 2; packed NVFP4: half a byte; nothing changes without the
        // setting, nor for a recipe whose setting is the other one.
        for r in [Recipe::Fp8Delayed, Recipe::Fp8Current] {
            assert_eq!(r.gathered_param_bytes(true, false), 1.0);
            assert_eq!(r.gathered_param_bytes(false, true), 2.0);
        }
        assert_eq!(Recipe::Mxfp8.gathered_param_bytes(true, true), 2.0);
        assert_eq!(Recipe::Fp8Blockwise.gathered_param_bytes(true, true), 2.0);
        assert_eq!(Recipe::Nvfp4.gathered_param_bytes(false, true), 0.5);
        assert_eq!(Recipe::Nvfp4.gathered_param_bytes(true, false), 2.0);
        assert_eq!(Recipe::Bf16.gathered_param_bytes(true, true), 2.0);
    }

    #[test]
    fn expert_quantisation_launches_follow_transformer_engines_quantisers() {
        // 32 local experts: delayed scaling casts all of them in one fused kernel, so a GEMM's
        // experts cost 32 GEMMs and 1 cast (1 + 1/32 a GEMM); every other low-precision recipe
        // quantises expert by expert (2 a GEMM); BF16 runs the GEMM alone.
        assert_eq!(Recipe::Bf16.expert_gemm_ops(32.0), 1.0);
        assert_eq!(Recipe::Fp8Delayed.expert_gemm_ops(32.0), 1.0 + 1.0 / 32.0);
        for r in [
            Recipe::Fp8Current,
            Recipe::Fp8Blockwise,
            Recipe::Mxfp8,
            Recipe::Nvfp4,
            Recipe::Mxfp4,
        ] {
            assert_eq!(r.expert_gemm_ops(32.0), 2.0, "{r:?}");
        }
        // One expert: delayed scaling's fused cast is that expert's own.
        assert_eq!(Recipe::Fp8Delayed.expert_gemm_ops(1.0), 2.0);
        // Current scaling launches an amax and a scale kernel before each cast; nothing else
        // does.
        assert_eq!(Recipe::Fp8Current.quantise_extra_kernels(), 2.0);
        for r in Recipe::NAMED.map(|(_, r)| r) {
            if r != Recipe::Fp8Current {
                assert_eq!(r.quantise_extra_kernels(), 0.0, "{r:?}");
            }
        }
    }

    #[test]
    fn casts_cost_more_as_scaling_gets_finer() {
        // Delayed < blockwise < MXFP8 < current < NVFP4: each extra pass is counted above.
        let order = [
            Recipe::Bf16,
            Recipe::Fp8Delayed,
            Recipe::Fp8Blockwise,
            Recipe::Mxfp8,
            Recipe::Fp8Current,
            Recipe::Nvfp4,
        ];
        for pair in order.windows(2) {
            assert!(pair[0].cast_bytes_per_element() < pair[1].cast_bytes_per_element());
        }
    }
}
