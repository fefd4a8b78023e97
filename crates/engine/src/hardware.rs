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

#[cfg(test)]
mod tests {
    use catalog::Catalog;

    use crate::train::{hardware_for_system, hardware_with_overrides};

    #[test]
    fn every_gpu_system_gets_scale_out_and_its_domain() {
        let catalog = Catalog::embedded().unwrap();
        // (system, scale-up domain, NIC Gb/s per GPU)
        for (id, domain, gbit) in [
            ("dgx-h100", 8.0, 400.0),
            ("dgx-h200", 8.0, 400.0),
            ("dgx-b200", 8.0, 400.0),
            ("dgx-b300", 8.0, 800.0),
            ("gb200-nvl72", 72.0, 400.0),
            ("gb300-nvl72", 72.0, 800.0),
            ("mi300x-8", 8.0, 400.0),
            ("mi325x-8", 8.0, 400.0),
            ("mi355x-8", 8.0, 400.0),
        ] {
            let hw = hardware_for_system(&catalog, id).unwrap_or_else(|e| panic!("{id}: {e}"));
            assert_eq!(hw.scale_up_domain, domain, "{id}");
            // Gb/s to bytes/s: / 8.
            assert_eq!(hw.scale_out_bytes_per_s, gbit * 1e9 / 8.0, "{id}");
        }
    }

    #[test]
    fn only_grace_systems_reach_host_memory_over_a_coherent_link() {
        let catalog = Catalog::embedded().unwrap();
        // GB200: 900 GB/s bidirectional NVLink-C2C per Grace, two GPUs each: 450 GB/s per GPU
        // in the catalog, 225 GB/s each way here.
        let gb200 = hardware_for_system(&catalog, "gb200-nvl72").unwrap();
        assert_eq!(gb200.host_link_bytes_per_s, 225e9);
        // PCIe hosts have none.
        let h100 = hardware_for_system(&catalog, "dgx-h100").unwrap();
        assert_eq!(h100.host_link_bytes_per_s, 0.0);
    }

    #[test]
    fn in_switch_all_reduce_reaches_the_model_only_where_the_switch_has_it() {
        let catalog = Catalog::embedded().unwrap();
        let rate = |id: &str| {
            hardware_for_system(&catalog, id)
                .unwrap_or_else(|e| panic!("{id}: {e}"))
                .nvls_all_reduce_bytes_per_s
        };
        // NVLink SHARP, measured all-reduce algorithm bandwidth per rank: DGX H100 275 GB/s
        // (the NCCL team), a GB200 NVL72 rack 425 GB/s (72 ranks).
        assert_eq!(rate("dgx-h100"), Some(275e9));
        assert_eq!(rate("gb200-nvl72"), Some(425e9));
        // A100's second-generation NVSwitch has no in-switch reduction (not applicable), and
        // AMD's platforms give none: rings.
        assert_eq!(rate("dgx-a100-80gb"), None);
        assert_eq!(rate("mi300x-8"), None);
        // Every rate the catalog gives beats the ring an 8-rank domain would run at the same
        // links' nominal one-way bandwidth (2 x 7/8 of the buffer): otherwise it is no gain.
        for id in catalog.systems.keys() {
            // Systems the model cannot run (no public BF16 peak) are skipped.
            let Ok(hw) = hardware_for_system(&catalog, id) else {
                continue;
            };
            if let Some(nvls) = hw.nvls_all_reduce_bytes_per_s {
                assert!(nvls > hw.scale_up_bytes_per_s * 8.0 / 14.0 * 0.8, "{id}");
                assert!(nvls < hw.scale_up_bytes_per_s, "{id}");
            }
        }
    }

    #[test]
    fn matmul_rates_carry_the_catalog_ceilings() {
        let catalog = Catalog::embedded().unwrap();
        let h100 = hardware_for_system(&catalog, "dgx-h100")
            .unwrap()
            .matmul_rates;
        let bf16 = h100.bf16.unwrap();
        assert_eq!(bf16.peak_flops, 989e12);
        assert_eq!(bf16.ceiling_flops, Some(794.5e12));
        assert!(bf16.measured);
        assert!(h100.mxfp8.is_none() && h100.nvfp4.is_none() && h100.mxfp4.is_none());
        // Blockwise FP8 on Hopper: per-tensor 1,402.6 x the measured 0.8865 = 1,243.4.
        let blockwise = h100.fp8_blockwise.unwrap();
        assert!((blockwise.ceiling_flops.unwrap() - 1243.4e12).abs() < 1e9);
        assert!(!blockwise.measured);

        let gb300 = hardware_for_system(&catalog, "gb300-nvl72")
            .unwrap()
            .matmul_rates;
        let nvfp4 = gb300.nvfp4.unwrap();
        assert_eq!(nvfp4.peak_flops, 15000e12);
        assert!(!nvfp4.measured);
        assert!(
            nvfp4.fraction().unwrap() < 0.5,
            "NVFP4 runs far below its peak"
        );

        let mi355x = hardware_for_system(&catalog, "mi355x-8")
            .unwrap()
            .matmul_rates;
        assert!(mi355x.nvfp4.is_none(), "no NVFP4 on CDNA 4");
        assert!(mi355x.mxfp4.is_some());
    }

    #[test]
    fn mxfp8_runs_at_the_chips_own_fp8_ceiling_times_the_measured_kernel_ratio() {
        // GB200: measured FP8 MAMF 3,615.6 TFLOP/s x NVIDIA's B300 kernel-only FP8-current /
        // MXFP8 ratio 6.812 / 7.161 = 0.9513: 3,439.5 (was B300's MXFP8 fraction of peak,
        // 71.9% x 5,000 = 3,597, above this chip's own measured FP8 ceiling).
        let catalog = Catalog::embedded().unwrap();
        let gb200 = hardware_for_system(&catalog, "gb200-nvl72")
            .unwrap()
            .matmul_rates;
        let (fp8, mxfp8) = (gb200.fp8.unwrap(), gb200.mxfp8.unwrap());
        assert_eq!(fp8.ceiling_flops, Some(3615.6e12));
        assert!((mxfp8.ceiling_flops.unwrap() - 3439.5e12).abs() < 1e9);
        assert!(!mxfp8.measured);
    }

    #[test]
    fn an_overridden_peak_keeps_the_catalog_fraction() {
        let catalog = Catalog::embedded().unwrap();
        let hw = hardware_with_overrides(&catalog, "dgx-b200", &[("fp4_dense_tflops", 10000.0)])
            .unwrap();
        let nvfp4 = hw.matmul_rates.nvfp4.unwrap();
        assert_eq!(nvfp4.peak_flops, 10000e12);
        let catalog_fraction = catalog.accelerators["b200"]
            .matmul_fraction(catalog::Precision::Nvfp4)
            .unwrap();
        assert!((nvfp4.fraction().unwrap() - catalog_fraction).abs() < 1e-12);
    }
}
