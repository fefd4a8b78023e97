//! Published figures turned into what was measured, a step time, in each source's own FLOP
//! convention (`calibration/sources.toml` names each family's convention).

use crate::arch::Arch;
use crate::validate::sources::FlopConvention;

/// What a row publishes and the numbers its conversion needs.
#[derive(Debug, Clone, Copy)]
pub struct Published<'a> {
    /// `step_time_s`, `tokens_per_s_per_gpu`, `tflops_per_gpu` or `mfu` (percent).
    pub metric: &'a str,
    /// The published number.
    pub value: f64,
    /// The source's dense peak for MFU, TFLOP/s.
    pub peak_tflops: Option<f64>,
    /// Sequences per step.
    pub global_batch: f64,
    /// Tokens per sequence.
    pub seq_len: f64,
    /// GPUs in the run.
    pub gpus: f64,
}

/// The measured step time, s, that the published figure implies.
pub fn measured_step_time_s(
    p: &Published<'_>,
    convention: FlopConvention,
    arch: &Arch,
) -> Result<f64, String> {
    if p.value.is_nan() || p.value <= 0.0 {
        return Err(format!("`measured_value` {} is not positive", p.value));
    }
    let tflops = match p.metric {
        "step_time_s" => return Ok(p.value),
        "tokens_per_s_per_gpu" => return Ok(p.global_batch * p.seq_len / (p.value * p.gpus)),
        "tflops_per_gpu" => p.value,
        "mfu" => {
            let peak = p
                .peak_tflops
                .ok_or("MFU without the peak the source divided by")?;
            p.value / 100.0 * peak
        }
        other => return Err(format!("`measured_metric` `{other}` is not converted")),
    };
    let flops = flops_per_step(convention, arch, p.global_batch, p.seq_len).ok_or(
        "the family publishes FLOP/s in no convention this validation converts".to_string(),
    )?;
    Ok(flops / (tflops * 1e12 * p.gpus))
}

/// FLOPs per step as the source counts them (`None` for `FlopConvention::None`).
pub fn flops_per_step(
    convention: FlopConvention,
    arch: &Arch,
    global_batch: f64,
    seq: f64,
) -> Option<f64> {
    let (b, s, l, h, v) = (global_batch, seq, arch.layers, arch.hidden, arch.vocab);
    match convention {
        FlopConvention::NarayananEq3 => {
            Some(96.0 * b * s * l * h * h * (1.0 + s / (6.0 * h) + v / (16.0 * l * h)))
        }
        FlopConvention::Mpt => {
            // MPT's own count: every parameter (wte, learned wpe, 12 h^2 per layer).
            let params = 12.0 * l * h * h + v * h + s * h;
            Some(b * 3.0 * (2.0 * params * s + 4.0 * l * h * s * s))
        }
        FlopConvention::MegatronFullAttention | FlopConvention::MegatronCausal => {
            let causal = if convention == FlopConvention::MegatronCausal {
                0.5
            } else {
                1.0
            };
            // Per token: 6 x every weight a token passes (projections, active MLP), the
            // attention scores (QK^T and AV: 2 s (d_qk + d_v) per head forward, x3 with the
            // backward pass), and the logits (6 V h).
            let weights = l * arch.attention_params() + active_mlp_params(arch);
            let scores = 3.0 * 2.0 * l * s * arch.heads * (arch.qk_head_dim() + arch.v_head_dim());
            Some(b * s * (6.0 * weights + causal * scores + 6.0 * v * h))
        }
        FlopConvention::None => None,
    }
}

/// MLP weights a token passes through, summed over layers.
fn active_mlp_params(arch: &Arch) -> f64 {
    let gate = if arch.gated_mlp { 3.0 } else { 2.0 };
    let moe_layers = arch.moe_layers();
    (arch.layers - moe_layers) * gate * arch.hidden * arch.ffn_hidden
        + moe_layers * (arch.top_k + arch.shared_experts) * gate * arch.hidden * arch.moe_ffn_hidden
}

#[cfg(test)]
mod tests {
    use super::*;

    fn llama3_8b() -> Arch {
        Arch {
            layers: 32.0,
            hidden: 4096.0,
            ffn_hidden: 14336.0,
            heads: 32.0,
            kv_heads: 8.0,
            head_dim: 128.0,
            vocab: 128256.0,
            gated_mlp: true,
            tied_embeddings: false,
            ..Arch::gpt(1, 1, 1, 1)
        }
    }

    #[test]
    fn megatron_conventions_match_the_published_tflops_per_token() {
        // NeMo 25.02 Llama 3 8B on B200: 1,506 TFLOP/s per GPU at 26,006 tokens/s per GPU =
        // 57.91 GFLOP per token. Megatron's formula: l h^2 (12 + 12 g/a + 18 f/h + 12 s/h
        // + 6 V/(l h)) = 32 x 4096^2 x (12 + 3 + 63 + 24 + 5.871) = 57.91e9.
        let per_token = flops_per_step(
            FlopConvention::MegatronFullAttention,
            &llama3_8b(),
            1.0,
            8192.0,
        )
        .unwrap()
            / 8192.0;
        assert!((per_token / 57.91e9 - 1.0).abs() < 0.001, "{per_token}");
        // Megatron-Bridge 25.11 on the same model: 744 / 14,451 = 51.48 GFLOP per token; the
        // causal count halves the 24 to 12: 32 x 4096^2 x 95.871 = 51.47e9.
        let causal = flops_per_step(FlopConvention::MegatronCausal, &llama3_8b(), 1.0, 8192.0)
            .unwrap()
            / 8192.0;
        assert!((causal / 51.47e9 - 1.0).abs() < 0.001, "{causal}");
    }

    #[test]
    fn tokens_per_second_give_the_step_time_directly() {
        // 128 sequences x 8192 tokens / (26,006 tokens/s x 8 GPUs) = 5.040 s.
        let p = Published {
            metric: "tokens_per_s_per_gpu",
            value: 26006.0,
            peak_tflops: None,
            global_batch: 128.0,
            seq_len: 8192.0,
            gpus: 8.0,
        };
        let t = measured_step_time_s(&p, FlopConvention::None, &llama3_8b()).unwrap();
        assert!((t - 5.0398).abs() < 1e-3, "{t}");
        let bad = Published { value: 0.0, ..p };
        assert!(measured_step_time_s(&bad, FlopConvention::None, &llama3_8b()).is_err());
    }
}
