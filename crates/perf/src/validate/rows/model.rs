//! The model a calibration row trains: its dimensions from the row, else from the model facts
//! of `calibration/sources.toml` (each such fill stated), else the row is refused.

use crate::arch::{Arch, Mla};
use crate::validate::sources::ModelFacts;

use super::Row;

/// The row's model and its sequence length; every dimension taken from the model facts is
/// pushed to `filled`.
pub(super) fn arch_of(
    row: &Row<'_>,
    facts: Option<&ModelFacts>,
    filled: &mut Vec<String>,
) -> Result<(Arch, f64), String> {
    // A model dimension: the row's, else the model facts' (stated), else refused.
    let mut dim = |name: &str, fact: Option<f64>| -> Result<f64, String> {
        match (row.optional(name)?, fact) {
            (Some(v), _) => Ok(v),
            (None, Some(v)) => {
                filled.push(format!("{name}={v} (model facts)"));
                Ok(v)
            }
            (None, None) => Err(format!("`{name}` is not published")),
        }
    };
    let f = |pick: fn(&ModelFacts) -> Option<f64>| facts.and_then(pick);
    let layers = dim("layers", f(|m| m.layers))?;
    let hidden = dim("hidden", f(|m| m.hidden))?;
    let heads = dim("heads", f(|m| m.heads))?;
    let vocab = dim("vocab", f(|m| m.vocab))?;
    let seq = dim("seq_len", None)?;
    let kv_heads = match row.optional("kv_heads")? {
        Some(v) => v,
        None => f(|m| m.kv_heads).unwrap_or(heads),
    };
    let gated_mlp = facts.and_then(|m| m.gated_mlp).unwrap_or(false);
    let ffn = match row.optional("ffn_hidden")?.or(f(|m| m.ffn_hidden)) {
        Some(v) => v,
        None if !gated_mlp => {
            filled.push("ffn_hidden=4h (Megatron default)".into());
            4.0 * hidden
        }
        None => return Err("`ffn_hidden` is not published".into()),
    };
    let experts = row.optional("num_experts")?.unwrap_or(0.0);
    let top_k = row.optional("top_k")?.unwrap_or(0.0);
    if experts > 0.0 && top_k <= 0.0 {
        return Err("`top_k` is not published for an MoE row".into());
    }
    let mla = f(|m| m.kv_lora_rank).map(|kv_lora_rank| Mla {
        q_lora_rank: f(|m| m.q_lora_rank).unwrap_or(0.0),
        kv_lora_rank,
        qk_nope_head_dim: f(|m| m.qk_nope_head_dim).unwrap_or(128.0),
        qk_rope_head_dim: f(|m| m.qk_rope_head_dim).unwrap_or(64.0),
        v_head_dim: f(|m| m.v_head_dim).unwrap_or(128.0),
    });
    // Expert biases (GPT-OSS), from the model facts, stated.
    let expert_bias = experts > 0.0 && facts.and_then(|m| m.expert_bias).unwrap_or(false);
    if expert_bias {
        filled.push("expert_bias=true (model facts)".into());
    }
    // The experts' clamped gated activation (GPT-OSS), from the model facts, stated.
    let glu_clamp = experts > 0.0 && facts.and_then(|m| m.glu_clamp).unwrap_or(false);
    if glu_clamp {
        filled.push("glu_clamp=true (model facts: unfused clamp before the fused GLU)".into());
    }
    // Query and key norms (Qwen3), from the model facts, stated.
    let qk_norm = facts.and_then(|m| m.qk_norm).unwrap_or(false);
    if qk_norm {
        filled.push("qk_norm=true (model facts)".into());
    }
    // YaRN's RoPE scaling (GPT-OSS), from the model facts, stated.
    let yarn_scaling_factor = f(|m| m.yarn_scaling_factor).unwrap_or(0.0);
    if yarn_scaling_factor > 1.0 {
        filled.push(format!(
            "yarn_scaling_factor={yarn_scaling_factor} (model facts: unfused RoPE)"
        ));
    }
    // Sliding-window layers (GPT-OSS), from the model facts, stated; a row's layers bound them.
    let (sliding_window, sliding_layers) = match (f(|m| m.sliding_window), f(|m| m.sliding_layers))
    {
        (Some(window), Some(count)) if count <= layers => {
            filled.push(format!(
                "sliding_window={window} on {count} of {layers} layers (model facts)"
            ));
            (window, count)
        }
        (Some(_), Some(count)) => {
            return Err(format!(
                "the model facts' sliding_layers = {count} exceed the row's {layers} layers"
            ))
        }
        _ => (0.0, 0.0),
    };
    // NVIDIA's tables say when DeepSeek-V3 trained its multi-token-prediction module
    // ("DeepSeekV3 (w/ MTP)"); its depth is 1 (arXiv 2412.19437 section 2.2).
    let mtp_layers = if row.get("model_name").to_lowercase().contains("w/ mtp") {
        filled.push("mtp_layers=1 (the table's \"w/ MTP\"; DeepSeek-V3 trains one module)".into());
        1.0
    } else {
        0.0
    };
    let arch = Arch {
        layers,
        hidden,
        ffn_hidden: if experts > 0.0 {
            f(|m| m.dense_ffn_hidden).unwrap_or(ffn)
        } else {
            ffn
        },
        heads,
        kv_heads,
        head_dim: f(|m| m.head_dim).unwrap_or(hidden / heads),
        vocab,
        gated_mlp,
        tied_embeddings: facts.and_then(|m| m.tied_embeddings).unwrap_or(!gated_mlp),
        experts,
        top_k,
        moe_ffn_hidden: if experts > 0.0 { ffn } else { 0.0 },
        shared_experts: if experts > 0.0 {
            f(|m| m.shared_experts).unwrap_or(0.0)
        } else {
            0.0
        },
        dense_layers: if experts > 0.0 {
            f(|m| m.dense_layers).unwrap_or(0.0)
        } else {
            0.0
        },
        mla,
        sliding_window,
        sliding_layers,
        mtp_layers,
        expert_bias,
        yarn_scaling_factor,
        glu_clamp,
        qk_norm,
    };
    Ok((arch, seq))
}
