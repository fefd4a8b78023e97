//! Training: catalog systems and models turned into the performance model's inputs, the spec
//! file format of `gigawatt train`, and validation against published runs.

use catalog::{Catalog, ModelArch, Sourced};
use perf::{Arch, Hardware, Mla};

/// The performance model's view of a catalog system, or what is missing for it.
pub fn hardware_for_system(catalog: &Catalog, system_id: &str) -> Result<Hardware, String> {
    hardware_with_overrides(catalog, system_id, &[])
}

/// [`hardware_for_system`] with accelerator figures a scenario supplied, as
/// (`bf16_dense_tflops` | `fp8_dense_tflops` | `fp4_dense_tflops`, TFLOP/s) pairs.
pub fn hardware_with_overrides(
    catalog: &Catalog,
    system_id: &str,
    overrides: &[(&str, f64)],
) -> Result<Hardware, String> {
    let system = catalog
        .systems
        .get(system_id)
        .ok_or_else(|| format!("unknown system `{system_id}`"))?;
    let accelerator = catalog.accelerator_of(system);
    let need = |value: &Sourced<f64>, what: &str| -> Result<f64, String> {
        value.number().ok_or_else(|| {
            format!(
                "the catalog has no {what} for `{system_id}` ({})",
                value.missing_reason().unwrap_or("not given")
            )
        })
    };
    let given = |key: &str| overrides.iter().find(|(k, _)| *k == key).map(|(_, v)| *v);
    let peak_bf16 = match given("bf16_dense_tflops") {
        Some(t) => t,
        None => need(&accelerator.bf16_dense_tflops, "dense bf16 peak")?,
    } * 1e12;
    // The catalog's ceiling, measured or derived by its stated rule (`catalog/README.md`).
    let matmul_efficiency = match accelerator
        .matmul_ceiling(catalog::Precision::Bf16)
        .number()
    {
        Some(mamf) => mamf * 1e12 / peak_bf16,
        None => mean_measured_matmul_efficiency(catalog),
    };
    let peak_fp8 = given("fp8_dense_tflops")
        .or(accelerator.fp8_dense_tflops.number())
        .map(|t| t * 1e12);
    let low_precision_matmul_efficiency = match (
        accelerator.matmul_ceiling(catalog::Precision::Fp8).number(),
        peak_fp8,
    ) {
        (Some(mamf), Some(peak)) => mamf * 1e12 / peak,
        _ => mean_measured_fp8_matmul_efficiency(catalog).unwrap_or(matmul_efficiency),
    };
    Ok(Hardware {
        peak_bf16_flops: peak_bf16,
        peak_fp8_flops: peak_fp8,
        peak_fp4_flops: given("fp4_dense_tflops")
            .or(accelerator.fp4_dense_tflops.number())
            .map(|t| t * 1e12),
        matmul_efficiency,
        low_precision_matmul_efficiency,
        hbm_bytes: need(&accelerator.hbm_gib, "HBM capacity")? * 1024f64.powi(3),
        hbm_bytes_per_s: need(&accelerator.hbm_tb_per_s, "HBM bandwidth")? * 1e12,
        hbm_measured_bytes_per_s: accelerator
            .hbm_measured_tb_per_s
            .as_ref()
            .and_then(|m| m.number())
            .map(|t| t * 1e12),
        scale_up_domain: need(&system.scale_up_domain, "scale-up domain size")?,
        // Vendors quote scale-up bandwidth in both directions together.
        scale_up_bytes_per_s: need(&system.scale_up_gb_per_s, "scale-up bandwidth")? * 1e9 / 2.0,
        scale_out_bytes_per_s: need(&system.scale_out_gbit_per_s, "scale-out bandwidth")? * 1e9
            / 8.0,
        scale_out_oversubscription: system
            .scale_out_oversubscription
            .as_ref()
            .and_then(|r| r.number())
            .unwrap_or(1.0),
        nvls_all_reduce_bytes_per_s: system
            .nvls_all_reduce_gb_per_s
            .as_ref()
            .and_then(|r| r.number())
            .map(|g| g * 1e9),
        // Bidirectional in the catalog, as vendors quote it; one direction here.
        host_link_bytes_per_s: system
            .host_link_gb_per_s
            .as_ref()
            .and_then(|l| l.number())
            .map_or(0.0, |g| g * 1e9 / 2.0),
        matmul_rates: crate::hardware::matmul_rates(accelerator, overrides),
        kernel_arch: kernel_arch(accelerator.id.get_ref()),
        streaming_multiprocessors: streaming_multiprocessors(accelerator),
    })
}

/// A catalog accelerator's streaming multiprocessors, which the SMs a communication kernel
/// reserves are a share of (`perf::train::userbuffers`): the catalog's sourced count
/// (`streaming_multiprocessors`); where it is absent (not an NVIDIA GPU, or not published), the
/// GH100's 132, which Transformer Engine's defaults were tuned on.
pub fn streaming_multiprocessors(accelerator: &catalog::Accelerator) -> f64 {
    /// H100 SXM5 (and H800, H200): 132 SMs.
    const GH100_SMS: f64 = 132.0;
    accelerator
        .streaming_multiprocessors
        .as_ref()
        .and_then(|sms| sms.number())
        .unwrap_or(GH100_SMS)
}

/// The architecture a catalog accelerator's fused-attention kernels are built for: cuDNN
/// ships kernels per SM architecture (sm_90 Hopper, sm_100/sm_103 Blackwell), and its published
/// attention rates by version are per architecture (`perf::train::attention::kernel_speed`).
pub fn kernel_arch(accelerator_id: &str) -> perf::train::attention::KernelArch {
    use perf::train::attention::KernelArch;
    match accelerator_id {
        "h100-sxm" | "h800-sxm" | "h200-sxm" => KernelArch::Hopper,
        "b200" | "gb200" => KernelArch::Blackwell,
        "b300" | "gb300" => KernelArch::BlackwellUltra,
        _ => KernelArch::Other,
    }
}

/// For serving: like [`hardware_with_overrides`], but a system whose scale-out bandwidth is not
/// public still serves inside its scale-up domain (the bandwidth is 0 and the layout search
/// stays inside the domain).
pub fn hardware_for_serving(
    catalog: &Catalog,
    system_id: &str,
    overrides: &[(&str, f64)],
) -> Result<Hardware, String> {
    match hardware_with_overrides(catalog, system_id, overrides) {
        Err(message) if message.contains("scale-out") => {
            let mut patched = catalog.clone();
            if let Some(system) = patched.systems.get_mut(system_id) {
                system.scale_out_gbit_per_s = Sourced::known(0.0, "none");
            }
            hardware_with_overrides(&patched, system_id, overrides)
        }
        other => other,
    }
}

/// The fix to suggest for a failed model/system lookup: a missing catalog figure is supplied in
/// a catalog file of the user's; an unknown id is looked up in the list.
pub fn lookup_fix(message: &str) -> &'static str {
    if message.contains("the catalog has no") {
        "copy the entry from catalog/hardware.toml into a file of yours with the figure filled in and its source, and pass --catalog DIR (the entry replaces the shipped one)"
    } else {
        "`gigawatt catalog list` shows the ids"
    }
}

/// The mean MAMF / peak over accelerators with a published measurement: the matmul ceiling
/// assumed for chips nobody has measured (stated in the result's assumptions).
pub fn mean_measured_matmul_efficiency(catalog: &Catalog) -> f64 {
    let ratios: Vec<f64> = catalog
        .accelerators
        .values()
        .filter_map(|a| {
            let mamf = a.bf16_mamf_tflops.as_ref()?.number()?;
            Some(mamf / a.bf16_dense_tflops.number()?)
        })
        .collect();
    if ratios.is_empty() {
        0.8
    } else {
        ratios.iter().sum::<f64>() / ratios.len() as f64
    }
}

/// The mean FP8 MAMF / FP8 peak over accelerators with a published FP8 measurement: the FP8
/// (and FP4) ceiling assumed for chips nobody has measured at FP8; `None` when no chip has one.
pub fn mean_measured_fp8_matmul_efficiency(catalog: &Catalog) -> Option<f64> {
    let ratios: Vec<f64> = catalog
        .accelerators
        .values()
        .filter_map(|a| {
            let mamf = a.fp8_mamf_tflops.as_ref()?.number()?;
            Some(mamf / a.fp8_dense_tflops.number()?)
        })
        .collect();
    (!ratios.is_empty()).then(|| ratios.iter().sum::<f64>() / ratios.len() as f64)
}

/// A catalog architecture as the performance model's numbers.
pub fn arch_from_catalog(model: &ModelArch) -> Arch {
    let f = f64::from;
    Arch {
        layers: f(model.layers),
        hidden: f(model.hidden),
        ffn_hidden: f(model.ffn_hidden),
        heads: f(model.heads),
        kv_heads: f(model.kv_heads),
        head_dim: model.head_dim.map_or(f(model.hidden) / f(model.heads), f),
        vocab: f(model.vocab),
        gated_mlp: model.gated_mlp,
        tied_embeddings: model.tied_embeddings,
        experts: f(model.experts),
        top_k: f(model.top_k),
        moe_ffn_hidden: f(model.moe_ffn_hidden),
        shared_experts: f(model.shared_experts),
        dense_layers: f(model.dense_layers),
        mla: (model.kv_lora_rank > 0).then(|| Mla {
            q_lora_rank: f(model.q_lora_rank),
            kv_lora_rank: f(model.kv_lora_rank),
            qk_nope_head_dim: f(model.qk_nope_head_dim),
            qk_rope_head_dim: f(model.qk_rope_head_dim),
            v_head_dim: f(model.v_head_dim),
        }),
        sliding_window: f(model.sliding_window),
        sliding_layers: f(model.sliding_window_layers),
        // The catalog's model entries train no multi-token-prediction module.
        mtp_layers: 0.0,
        expert_bias: model.expert_bias,
        yarn_scaling_factor: model.yarn_scaling_factor.unwrap_or(0.0),
        glu_clamp: model.glu_clamp,
        qk_norm: model.qk_norm,
    }
}

// Validation against published runs lives in `crate::train_validate`; re-exported here for
// the callers of the first release.
pub use crate::train_validate::{system_for_gpu_type, validate_training, TrainingValidation};

mod framework;
mod inputs;
mod result;
mod spec;

pub use framework::{default_framework_id, perf_framework, resolve_framework, search_layouts};
pub use inputs::{resolve_train_inputs, TrainInputs};
pub use result::*;
pub use spec::*;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streaming_multiprocessors_come_from_the_catalog() {
        let catalog = Catalog::embedded().unwrap();
        let sms = |id: &str| streaming_multiprocessors(&catalog.accelerators[id]);
        // Sourced per chip: A100 108, the GH100 parts 132, B200 and GB200 148 (74 of each
        // die's 80), Blackwell Ultra 160.
        assert_eq!(sms("a100-sxm-80gb"), 108.0);
        assert_eq!(sms("h800-sxm"), 132.0);
        assert_eq!(sms("gb200"), 148.0);
        assert_eq!(sms("gb300"), 160.0);
        // Not an NVIDIA GPU: no count in the catalog, the GH100's figure.
        assert!(catalog.accelerators["mi300x"]
            .streaming_multiprocessors
            .is_none());
        assert_eq!(sms("mi300x"), 132.0);
    }

    #[test]
    fn blackwell_ultra_attention_matches_the_same_day_measurement() {
        use perf::train::attention::{self, CudnnVersion, KernelArch};
        let catalog = Catalog::embedded().unwrap();
        let gb200 = hardware_for_system(&catalog, "gb200-nvl72").unwrap();
        let gb300 = hardware_for_system(&catalog, "gb300-nvl72").unwrap();
        assert_eq!(gb200.kernel_arch, KernelArch::Blackwell);
        assert_eq!(gb300.kernel_arch, KernelArch::BlackwellUltra);
        assert_eq!(
            hardware_for_system(&catalog, "dgx-b300")
                .unwrap()
                .kernel_arch,
            KernelArch::BlackwellUltra
        );
        // The constant's ceiling ratio is the catalog's: if either chip's BF16 ceiling changes,
        // `attention::BLACKWELL_ULTRA_CEILING_RATIO` must follow.
        let ceiling = |hw: &perf::Hardware| hw.peak_bf16_flops * hw.matmul_efficiency;
        let ratio = ceiling(&gb300) / ceiling(&gb200);
        assert!(
            (ratio - attention::BLACKWELL_ULTRA_CEILING_RATIO).abs() < 1e-4,
            "{ratio}"
        );
        // So the modelled kernels run GB300 over GB200 as cuDNN 9.22 measured them the same
        // day (4k causal: 1703 / 1408 forward, 1248 / 1148 backward).
        let newest = CudnnVersion::parse("9.22");
        let rate = |hw: &perf::Hardware| {
            let k = attention::kernel_speed(newest, hw.kernel_arch);
            (ceiling(hw) * k.forward, ceiling(hw) * k.backward)
        };
        let ((fwd300, bwd300), (fwd200, bwd200)) = (rate(&gb300), rate(&gb200));
        assert!((fwd300 / fwd200 - 1703.0 / 1408.0).abs() < 1e-4);
        assert!((bwd300 / bwd200 - 1248.0 / 1148.0).abs() < 1e-4);
    }
}
