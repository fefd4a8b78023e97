//! Catalog accelerators' per-precision figures turned into the performance model's
//! [`MatmulRates`]: the glue `train::hardware_with_overrides` uses for every system.

use catalog::{Accelerator, CeilingBasis, Fp8Recipe, Precision, Sourced};
use perf::{MatmulRate, MatmulRates};

/// The matmul rates of `accelerator`, with headline peaks a scenario overrides (as
/// `bf16_dense_tflops` | `fp8_dense_tflops` | `fp4_dense_tflops`, TFLOP/s). An overridden peak
/// keeps the catalog's ceiling fraction: BF16 from `bf16_dense_tflops`, both FP8 recipes from
/// `fp8_dense_tflops`, and whichever FP4 formats the chip has from `fp4_dense_tflops`.
pub fn matmul_rates(accelerator: &Accelerator, overrides: &[(&str, f64)]) -> MatmulRates {
    let given = |key: &str| overrides.iter().find(|(k, _)| *k == key).map(|(_, v)| *v);
    let rate =
        |precision: Precision, ceiling: Sourced<f64>, basis: CeilingBasis, override_key: &str| {
            let catalog_peak = accelerator.peak_tflops(precision).number();
            let peak = match (given(override_key), catalog_peak) {
                // An FP4 override applies only to the FP4 formats the chip is known to have.
                (Some(p), Some(_)) => p,
                (Some(p), None) if precision == Precision::Bf16 || precision == Precision::Fp8 => p,
                (_, catalog) => catalog?,
            };
            let fraction = match (ceiling.number(), catalog_peak) {
                (Some(c), Some(p)) if p > 0.0 => Some(c / p),
                _ => None,
            };
            Some(MatmulRate {
                peak_flops: peak * units::FLOPS_PER_TFLOPS,
                ceiling_flops: fraction.map(|f| f * peak * units::FLOPS_PER_TFLOPS),
                measured: basis == CeilingBasis::Measured,
            })
        };
    MatmulRates {
        bf16: rate(
            Precision::Bf16,
            accelerator.matmul_ceiling(Precision::Bf16),
            accelerator.ceiling_basis(Precision::Bf16),
            "bf16_dense_tflops",
        ),
        fp8: rate(
            Precision::Fp8,
            accelerator.fp8_ceiling(Fp8Recipe::Tensorwise),
            accelerator.fp8_ceiling_basis(Fp8Recipe::Tensorwise),
            "fp8_dense_tflops",
        ),
        fp8_blockwise: rate(
            Precision::Fp8,
            accelerator.fp8_ceiling(Fp8Recipe::Blockwise),
            accelerator.fp8_ceiling_basis(Fp8Recipe::Blockwise),
            "fp8_dense_tflops",
        ),
        mxfp8: rate(
            Precision::Mxfp8,
            accelerator.matmul_ceiling(Precision::Mxfp8),
            accelerator.ceiling_basis(Precision::Mxfp8),
            "fp8_dense_tflops",
        ),
        nvfp4: rate(
            Precision::Nvfp4,
            accelerator.matmul_ceiling(Precision::Nvfp4),
            accelerator.ceiling_basis(Precision::Nvfp4),
            "fp4_dense_tflops",
        ),
        mxfp4: rate(
            Precision::Mxfp4,
            accelerator.matmul_ceiling(Precision::Mxfp4),
            accelerator.ceiling_basis(Precision::Mxfp4),
            "fp4_dense_tflops",
        ),
    }
}
