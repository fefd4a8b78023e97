//! A model architecture written out as a `[model]` table (in a train or infer spec, or a
//! `--model-file`), instead of a catalog id: one parser and one set of checks for every
//! command that accepts a model.
//!
//! Keys: `layers`, `hidden`, `ffn_hidden`, `heads`, `vocab` (required); `kv_heads` (GQA;
//! default `heads`), `head_dim` (default `hidden / heads`), `gated_mlp`, `tied_embeddings`;
//! MoE: `experts`, `top_k`, `moe_ffn_hidden`, `shared_experts`, `dense_layers` (leading dense
//! layers); MLA: `q_lora_rank`, `kv_lora_rank`, `qk_nope_head_dim`, `qk_rope_head_dim`,
//! `v_head_dim`; sliding-window attention: `sliding_window` (tokens) on `sliding_window_layers`
//! of the layers; what Megatron-Core runs unfused for some models (training charges it; GPT-OSS
//! has all three): `expert_bias` (biases on the experts' linear layers), `yarn_scaling_factor`
//! (YaRN RoPE scaling above 1), `glu_clamp` (the experts' gated activation clamps its inputs);
//! `qk_norm` (each query and key head normalised before attention, Qwen3); `name` (optional,
//! shown in results).

use perf::{Arch, Mla};
use serde::Deserialize;

/// An architecture written in a spec instead of a catalog id.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSpec {
    /// A name for results (default `custom`).
    #[serde(default)]
    pub name: Option<String>,
    layers: u32,
    hidden: u32,
    ffn_hidden: u32,
    heads: u32,
    kv_heads: Option<u32>,
    head_dim: Option<u32>,
    vocab: u32,
    #[serde(default)]
    gated_mlp: bool,
    #[serde(default)]
    tied_embeddings: bool,
    #[serde(default)]
    experts: u32,
    #[serde(default)]
    top_k: u32,
    #[serde(default)]
    moe_ffn_hidden: u32,
    #[serde(default)]
    shared_experts: u32,
    #[serde(default)]
    dense_layers: u32,
    #[serde(default)]
    q_lora_rank: u32,
    #[serde(default)]
    kv_lora_rank: u32,
    #[serde(default)]
    qk_nope_head_dim: u32,
    #[serde(default)]
    qk_rope_head_dim: u32,
    #[serde(default)]
    v_head_dim: u32,
    #[serde(default)]
    sliding_window: u32,
    #[serde(default)]
    sliding_window_layers: u32,
    #[serde(default)]
    expert_bias: bool,
    #[serde(default)]
    yarn_scaling_factor: Option<f64>,
    #[serde(default)]
    glu_clamp: bool,
    #[serde(default)]
    qk_norm: bool,
}

/// Parses a `[model]` table (a TOML value) and checks its shapes: the error names the field.
pub fn model_from_toml(value: toml::Value) -> Result<(String, Arch), String> {
    let spec: ModelSpec = value
        .try_into()
        .map_err(|e: toml::de::Error| format!("the [model] table: {}", e.message().trim()))?;
    let arch = arch_from_spec(&spec)?;
    Ok((spec.name.clone().unwrap_or_else(|| "custom".into()), arch))
}

/// Parses a model file: a TOML file whose `[model]` table (or whose top level) holds the keys.
pub fn model_from_file_text(text: &str) -> Result<(String, Arch), String> {
    let value: toml::Value = toml::from_str(text).map_err(|e| e.message().trim().to_string())?;
    match value.get("model") {
        Some(inner @ toml::Value::Table(_)) => model_from_toml(inner.clone()),
        Some(_) => Err("`model` must be a table of the architecture's keys".into()),
        None => model_from_toml(value),
    }
}

/// The architecture of a `[model]` table, checked.
pub fn arch_from_spec(m: &ModelSpec) -> Result<Arch, String> {
    // Bounds far above any model built, low enough that the arithmetic stays meaningful.
    for (name, value, max) in [
        ("layers", m.layers, 10_000),
        ("hidden", m.hidden, 1_000_000),
        ("ffn_hidden", m.ffn_hidden, 10_000_000),
        ("heads", m.heads, 100_000),
        ("vocab", m.vocab, 100_000_000),
        ("experts", m.experts, 100_000),
    ] {
        if value > max {
            return Err(format!(
                "`model.{name}` is {value}, above the {max} this model accepts"
            ));
        }
    }
    for (name, value) in [
        ("layers", m.layers),
        ("hidden", m.hidden),
        ("ffn_hidden", m.ffn_hidden),
        ("heads", m.heads),
        ("vocab", m.vocab),
    ] {
        if value == 0 {
            return Err(format!("`model.{name}` is 0"));
        }
    }
    if m.head_dim.is_none() && m.kv_lora_rank == 0 && !m.hidden.is_multiple_of(m.heads) {
        return Err(format!(
            "`model.heads` = {} does not divide `model.hidden` = {} (give `head_dim` when the heads' width is not hidden / heads)",
            m.heads, m.hidden
        ));
    }
    if m.head_dim == Some(0) {
        return Err("`model.head_dim` is 0".into());
    }
    let kv_heads = m.kv_heads.unwrap_or(m.heads);
    if kv_heads == 0 || !m.heads.is_multiple_of(kv_heads) {
        return Err(format!(
            "`model.kv_heads` = {kv_heads} does not divide the {} heads",
            m.heads
        ));
    }
    if m.experts > 0 {
        if m.top_k == 0 || m.top_k > m.experts {
            return Err(format!(
                "`model.top_k` = {} must be from 1 to the {} experts",
                m.top_k, m.experts
            ));
        }
        if m.moe_ffn_hidden == 0 {
            return Err("`model.moe_ffn_hidden` is 0: an MoE needs the experts' width".into());
        }
    } else {
        for (name, value) in [
            ("top_k", m.top_k),
            ("shared_experts", m.shared_experts),
            ("dense_layers", m.dense_layers),
        ] {
            if value > 0 {
                return Err(format!(
                    "`model.{name}` is {value} but `model.experts` is 0: it applies to MoE models only"
                ));
            }
        }
    }
    if m.dense_layers > m.layers {
        return Err(format!(
            "`model.dense_layers` = {} exceeds `model.layers` = {}",
            m.dense_layers, m.layers
        ));
    }
    let mla_keys = [
        m.q_lora_rank,
        m.qk_nope_head_dim,
        m.qk_rope_head_dim,
        m.v_head_dim,
    ];
    if m.kv_lora_rank == 0 && mla_keys.iter().any(|v| *v > 0) {
        return Err("MLA dimensions are given but `model.kv_lora_rank` is 0: MLA needs the compressed key/value width".into());
    }
    if m.kv_lora_rank > 0 {
        for (name, value) in [
            ("qk_nope_head_dim", m.qk_nope_head_dim),
            ("qk_rope_head_dim", m.qk_rope_head_dim),
            ("v_head_dim", m.v_head_dim),
        ] {
            if value == 0 {
                return Err(format!(
                    "`model.{name}` is 0: MLA (kv_lora_rank > 0) needs it"
                ));
            }
        }
    }
    let facts = catalog::LayerFacts {
        layers: m.layers,
        experts: m.experts,
        gated_mlp: m.gated_mlp,
        sliding_window: m.sliding_window,
        sliding_window_layers: m.sliding_window_layers,
        expert_bias: m.expert_bias,
        yarn_scaling_factor: m.yarn_scaling_factor,
        glu_clamp: m.glu_clamp,
    };
    if let Some(problem) = catalog::layer_facts_problem(&facts, "model.") {
        return Err(format!("{}: {}", problem.message, problem.hint));
    }
    let yarn_scaling_factor = m.yarn_scaling_factor.unwrap_or(0.0);
    let f = f64::from;
    Ok(Arch {
        layers: f(m.layers),
        hidden: f(m.hidden),
        ffn_hidden: f(m.ffn_hidden),
        heads: f(m.heads),
        kv_heads: f(kv_heads),
        head_dim: m.head_dim.map_or(f(m.hidden) / f(m.heads), f),
        vocab: f(m.vocab),
        gated_mlp: m.gated_mlp,
        tied_embeddings: m.tied_embeddings,
        experts: f(m.experts),
        top_k: f(m.top_k),
        moe_ffn_hidden: f(m.moe_ffn_hidden),
        shared_experts: f(m.shared_experts),
        dense_layers: f(m.dense_layers),
        mla: (m.kv_lora_rank > 0).then(|| Mla {
            q_lora_rank: f(m.q_lora_rank),
            kv_lora_rank: f(m.kv_lora_rank),
            qk_nope_head_dim: f(m.qk_nope_head_dim),
            qk_rope_head_dim: f(m.qk_rope_head_dim),
            v_head_dim: f(m.v_head_dim),
        }),
        sliding_window: f(m.sliding_window),
        sliding_layers: f(m.sliding_window_layers),
        mtp_layers: 0.0,
        expert_bias: m.expert_bias,
        yarn_scaling_factor,
        glu_clamp: m.glu_clamp,
        qk_norm: m.qk_norm,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<(String, Arch), String> {
        model_from_file_text(text)
    }

    const GPT_OSS_120B: &str = "[model]\nname = \"gpt-oss-120b\"\nlayers = 36\nhidden = 2880\nffn_hidden = 2880\nheads = 64\nkv_heads = 8\nhead_dim = 64\nvocab = 201088\ngated_mlp = true\nexperts = 128\ntop_k = 4\nmoe_ffn_hidden = 2880\nsliding_window = 128\nsliding_window_layers = 18\n";

    #[test]
    fn gpt_oss_120b_has_117b_total_and_5b_active() {
        // OpenAI's model card: 116.83B total, 5.13B active per token (the input embedding, a
        // gather, not counted: 201,088 x 2,880 = 0.58B).
        let (name, arch) = parse(GPT_OSS_120B).unwrap();
        assert_eq!(name, "gpt-oss-120b");
        let total = arch.total_params() / 1e9;
        assert!((total - 116.83).abs() < 0.5, "{total}");
        let active = (arch.active_params() - arch.vocab * arch.hidden) / 1e9;
        assert!((active - 5.13).abs() < 0.05, "{active}");
        // Half the layers see at most 128 tokens: a 10,000-token context reads
        // (18 x 10,000 + 18 x 128) / 36 = 5,064 tokens per layer on average.
        assert_eq!(arch.attended_context(10_000.0), 5_064.0);
        assert_eq!(arch.attended_context(100.0), 100.0);
    }

    #[test]
    fn gpt_oss_unfused_facts_reach_the_architecture() {
        let text = format!(
            "{GPT_OSS_120B}expert_bias = true\nyarn_scaling_factor = 32.0\nglu_clamp = true\n"
        );
        let (_, arch) = parse(&text).unwrap();
        assert!(arch.expert_bias && arch.glu_clamp && arch.clamps_experts_glu());
        assert!(arch.unfused_rope());
        // Left out, they are off: the catalog's shape alone.
        let (_, plain) = parse(GPT_OSS_120B).unwrap();
        assert!(!plain.expert_bias && !plain.glu_clamp && !plain.unfused_rope());
        // Qwen3's per-head query and key norms, as a key of their own.
        let (_, qwen_like) = parse(&format!("{GPT_OSS_120B}qk_norm = true\n")).unwrap();
        assert!(qwen_like.normalises_queries_and_keys() && !plain.normalises_queries_and_keys());
    }

    #[test]
    fn mla_tables_give_deepseek_v3s_shape() {
        let text = "layers = 61\nhidden = 7168\nffn_hidden = 18432\nheads = 128\nhead_dim = 128\nvocab = 129280\ngated_mlp = true\nexperts = 256\ntop_k = 8\nmoe_ffn_hidden = 2048\nshared_experts = 1\ndense_layers = 3\nq_lora_rank = 1536\nkv_lora_rank = 512\nqk_nope_head_dim = 128\nqk_rope_head_dim = 64\nv_head_dim = 128\n";
        let (_, arch) = parse(text).unwrap();
        assert_eq!(arch, perf::reference::deepseek_v3());
    }

    #[test]
    fn inconsistent_shapes_name_the_field() {
        let base = "layers = 2\nhidden = 100\nffn_hidden = 400\nvocab = 1000\n";
        let err = |extra: &str| parse(&format!("{base}{extra}")).unwrap_err();
        assert!(err("heads = 3\n").contains("`model.heads`"));
        assert!(err("heads = 4\nkv_heads = 3\n").contains("`model.kv_heads`"));
        assert!(
            err("heads = 4\nexperts = 8\ntop_k = 9\nmoe_ffn_hidden = 10\n")
                .contains("`model.top_k`")
        );
        assert!(err("heads = 4\ntop_k = 2\n").contains("`model.top_k`"));
        assert!(err("heads = 4\nsliding_window = 128\n").contains("sliding_window_layers"));
        assert!(err("heads = 4\nexpert_bias = true\n").contains("`model.expert_bias`"));
        assert!(err("heads = 4\nglu_clamp = true\n").contains("`model.glu_clamp`"));
        assert!(
            err("heads = 4\nexperts = 8\ntop_k = 2\nmoe_ffn_hidden = 10\nglu_clamp = true\n")
                .contains("`model.gated_mlp`")
        );
        assert!(err("heads = 4\nyarn_scaling_factor = 0.5\n").contains("at least 1"));
        assert!(err("heads = 4\nyarn_scaling_factor = nan\n").contains("yarn_scaling_factor"));
        assert!(err("heads = 4\nqk_rope_head_dim = 64\n").contains("kv_lora_rank"));
        assert!(err("heads = 4\nlayer = 3\n").contains("layer"));
        // A width that is not hidden / heads is fine when head_dim says so (GPT-OSS).
        assert!(parse(&format!("{base}heads = 3\nhead_dim = 64\n")).is_ok());
    }
}
