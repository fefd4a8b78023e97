//! Model architecture arithmetic: parameter counts and FLOPs per token.

use serde::Serialize;

/// Multi-head latent attention dimensions (DeepSeek-V2/V3).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Mla {
    /// Query low-rank width (0: full-rank queries).
    pub q_lora_rank: f64,
    /// Compressed key/value width.
    pub kv_lora_rank: f64,
    /// Per-head query/key width without the rotary part.
    pub qk_nope_head_dim: f64,
    /// Per-head rotary width.
    pub qk_rope_head_dim: f64,
    /// Per-head value width.
    pub v_head_dim: f64,
}

/// A decoder-only transformer, dense or MoE. Dimensions as `f64` for arithmetic.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Arch {
    /// Layers.
    pub layers: f64,
    /// Model width.
    pub hidden: f64,
    /// Dense MLP width.
    pub ffn_hidden: f64,
    /// Query heads.
    pub heads: f64,
    /// Key/value heads.
    pub kv_heads: f64,
    /// Per-head width.
    pub head_dim: f64,
    /// Vocabulary.
    pub vocab: f64,
    /// SwiGLU-style gated MLP (three matrices).
    pub gated_mlp: bool,
    /// Shared input/output embedding.
    pub tied_embeddings: bool,
    /// Routed experts (0: dense).
    pub experts: f64,
    /// Experts per token.
    pub top_k: f64,
    /// Expert MLP width.
    pub moe_ffn_hidden: f64,
    /// Shared experts.
    pub shared_experts: f64,
    /// Leading dense layers in an MoE.
    pub dense_layers: f64,
    /// MLA dimensions, if the model uses it.
    pub mla: Option<Mla>,
    /// Sliding-window attention: tokens a sliding layer attends to (0: none), as GPT-OSS's
    /// alternating 128-token banded layers.
    pub sliding_window: f64,
    /// Layers that attend over the sliding window only (the rest attend to the whole context).
    pub sliding_layers: f64,
    /// Multi-token-prediction modules trained beside the model (DeepSeek-V3 trains one: a
    /// transformer layer, a 2h -> h projection and another pass of the shared output head per
    /// token, arXiv 2412.19437 section 2.2); Megatron places them on the last pipeline stage.
    /// Their time is charged; the model FLOPs stay the model's own (DeepSeek's 37B activated
    /// excludes the MTP module). 0: none.
    pub mtp_layers: f64,
    /// Whether the routed experts carry biases (GPT-OSS: `add_bias_linear`). Megatron-Core adds
    /// the down projection's bias outside the grouped GEMM, weighted by each token's routing
    /// probability, in fp32 (`TEGroupedMLP._apply_bias`); the step charges those passes.
    pub expert_bias: bool,
    /// YaRN's RoPE scaling factor (Megatron-Core `yarn_rotary_scaling_factor`; GPT-OSS: 32);
    /// 0 (or 1): no YaRN scaling. Above 1 its concentration factor scales the rotary sine and
    /// cosine, which Transformer Engine's fused RoPE does not take, so Megatron-Core rotates the
    /// queries and keys with unfused PyTorch ops ([`Arch::unfused_rope`]).
    pub yarn_scaling_factor: f64,
    /// Whether the routed experts' gated activation clamps its inputs (GPT-OSS's
    /// `swiglu_limit` 7.0; Megatron-Core `activation_func_clamp_value`). Megatron-Core clamps
    /// the two halves and concatenates them with PyTorch ops before its fused weighted GLU
    /// (`weighted_bias_quick_geglu_impl`), so the step charges those passes and the copy they
    /// keep for the backward.
    pub glu_clamp: bool,
    /// Whether each query and key head is normalised before attention (Qwen3's QK-norm;
    /// Megatron-Core `qk_layernorm`): Transformer Engine's fused RMSNorm runs on the queries
    /// and on the keys of every layer, which the step charges as element-wise passes and
    /// launches, and the pre-norm queries and keys are kept for its backward.
    pub qk_norm: bool,
}

impl Arch {
    /// A dense GPT-style model with MHA, 4x FFN and a tied embedding (tests and quick use).
    pub fn gpt(layers: u32, hidden: u32, heads: u32, vocab: u32) -> Arch {
        Arch {
            layers: layers as f64,
            hidden: hidden as f64,
            ffn_hidden: 4.0 * hidden as f64,
            heads: heads as f64,
            kv_heads: heads as f64,
            head_dim: hidden as f64 / heads as f64,
            vocab: vocab as f64,
            gated_mlp: false,
            tied_embeddings: true,
            experts: 0.0,
            top_k: 0.0,
            moe_ffn_hidden: 0.0,
            shared_experts: 0.0,
            dense_layers: 0.0,
            mla: None,
            sliding_window: 0.0,
            sliding_layers: 0.0,
            mtp_layers: 0.0,
            expert_bias: false,
            yarn_scaling_factor: 0.0,
            glu_clamp: false,
            qk_norm: false,
        }
    }

    /// Tokens of a `context`-token sequence each layer attends to, averaged over layers: the
    /// whole context on full-attention layers, at most the window on sliding layers. It is also
    /// the KV cache a sequence keeps, in full-layer tokens (a sliding layer keeps its window).
    pub fn attended_context(&self, context: f64) -> f64 {
        if self.sliding_window <= 0.0 || self.sliding_layers <= 0.0 || self.layers <= 0.0 {
            return context;
        }
        let full = self.layers - self.sliding_layers;
        (full * context + self.sliding_layers * context.min(self.sliding_window)) / self.layers
    }

    /// Share of the layers that attend over a sliding band narrower than a `seq_len`-token
    /// sequence (0 where there is no band or it covers the sequence).
    pub fn banded_layer_share(&self, seq_len: f64) -> f64 {
        if self.sliding_window <= 0.0
            || self.sliding_window >= seq_len
            || self.sliding_layers <= 0.0
            || self.layers <= 0.0
        {
            return 0.0;
        }
        (self.sliding_layers / self.layers).min(1.0)
    }

    /// Keys a query attends to under causal attention over a `seq_len`-token sequence,
    /// averaged over the layers: half the sequence on full-attention layers (the causal half
    /// the kernels run), [`banded_keys_per_query`] on sliding layers.
    pub fn causal_keys_per_query(&self, seq_len: f64) -> f64 {
        let banded = self.banded_layer_share(seq_len);
        (1.0 - banded) * 0.5 * seq_len
            + banded * banded_keys_per_query(self.sliding_window, seq_len)
    }

    /// YaRN's concentration ("attention") factor, which multiplies the rotary sine and cosine:
    /// `0.1 ln(s) + 1` for a scaling factor `s` above 1 (Megatron-Core
    /// `yarn_rotary_pos_embedding.py` `_yarn_get_mscale`, with the model's `mscale` and
    /// `mscale_all_dim` unset, as GPT-OSS leaves them), 1 without YaRN scaling.
    pub fn yarn_concentration(&self) -> f64 {
        if self.yarn_scaling_factor > 1.0 {
            0.1 * self.yarn_scaling_factor.ln() + 1.0
        } else {
            1.0
        }
    }

    /// Whether Megatron-Core applies RoPE with unfused PyTorch ops: `apply_rotary_pos_emb`
    /// (megatron/core/models/common/embeddings/rope_utils.py, the same in the 25.11 pin
    /// 0d8e0714 and the 26.04 pin 3097d81) falls back from Transformer Engine's fused kernel
    /// whenever `mscale != 1.0` ("mscale=... is not supported by TE's fused RoPE. Using
    /// unfused implementation."), and attention.py passes YaRN's concentration factor as the
    /// mscale on every layer.
    pub fn unfused_rope(&self) -> bool {
        self.yarn_concentration() != 1.0
    }

    /// Whether the routed experts clamp their gated activation's inputs with unfused ops
    /// (an MoE model with gated experts and `glu_clamp`).
    pub fn clamps_experts_glu(&self) -> bool {
        self.glu_clamp && self.is_moe() && self.gated_mlp
    }

    /// Whether the queries and keys pass a norm of their own (`qk_norm`; MLA's latent norms
    /// are its own and not counted here).
    pub fn normalises_queries_and_keys(&self) -> bool {
        self.qk_norm && self.mla.is_none()
    }

    /// True for mixture-of-experts models.
    pub fn is_moe(&self) -> bool {
        self.experts > 0.0
    }

    /// Query/key width per head (MLA: nope + rope).
    pub fn qk_head_dim(&self) -> f64 {
        self.mla
            .map_or(self.head_dim, |m| m.qk_nope_head_dim + m.qk_rope_head_dim)
    }

    /// Value width per head.
    pub fn v_head_dim(&self) -> f64 {
        self.mla.map_or(self.head_dim, |m| m.v_head_dim)
    }

    /// Output width of the fused QKV projection without MLA: the query heads and the key and
    /// value heads, `head_dim` each (the column-parallel GEMM before attention).
    pub fn qkv_width(&self) -> f64 {
        (self.heads + 2.0 * self.kv_heads) * self.head_dim
    }

    /// Attention parameters per layer (projections; norms and biases ignored).
    pub fn attention_params(&self) -> f64 {
        let h = self.hidden;
        match self.mla {
            None => {
                let q = h * self.heads * self.head_dim;
                let kv = 2.0 * h * self.kv_heads * self.head_dim;
                let o = self.heads * self.head_dim * h;
                q + kv + o
            }
            Some(m) => {
                let qk = m.qk_nope_head_dim + m.qk_rope_head_dim;
                let q = if m.q_lora_rank > 0.0 {
                    h * m.q_lora_rank + m.q_lora_rank * self.heads * qk
                } else {
                    h * self.heads * qk
                };
                let kv_down = h * (m.kv_lora_rank + m.qk_rope_head_dim);
                let kv_up = m.kv_lora_rank * self.heads * (m.qk_nope_head_dim + m.v_head_dim);
                let o = self.heads * m.v_head_dim * h;
                q + kv_down + kv_up + o
            }
        }
    }

    fn mlp_matrices(&self) -> f64 {
        if self.gated_mlp {
            3.0
        } else {
            2.0
        }
    }

    /// Parameters of one dense MLP.
    pub fn dense_mlp_params(&self) -> f64 {
        self.mlp_matrices() * self.hidden * self.ffn_hidden
    }

    /// Parameters of one expert.
    pub fn expert_params(&self) -> f64 {
        self.mlp_matrices() * self.hidden * self.moe_ffn_hidden
    }

    /// Layers with routed experts.
    pub fn moe_layers(&self) -> f64 {
        if self.is_moe() {
            self.layers - self.dense_layers
        } else {
            0.0
        }
    }

    /// Embedding parameters (input, plus output unless tied).
    pub fn embedding_params(&self) -> f64 {
        let one = self.vocab * self.hidden;
        if self.tied_embeddings {
            one
        } else {
            2.0 * one
        }
    }

    /// Parameters in the routed experts of all layers.
    pub fn routed_expert_params(&self) -> f64 {
        self.moe_layers() * self.experts * self.expert_params()
    }

    /// Parameters outside the routed experts (attention, dense MLPs, shared experts,
    /// embeddings): replicated across expert-parallel ranks.
    pub fn non_expert_params(&self) -> f64 {
        let dense_layers = self.layers - self.moe_layers();
        self.layers * self.attention_params()
            + dense_layers * self.dense_mlp_params()
            + self.moe_layers()
                * (self.shared_experts * self.expert_params() + self.hidden * self.experts)
            + self.embedding_params()
    }

    /// All parameters.
    pub fn total_params(&self) -> f64 {
        self.non_expert_params() + self.routed_expert_params()
    }

    /// Parameters a token passes through (MoE: top-k routed plus shared).
    pub fn active_params(&self) -> f64 {
        self.non_expert_params() + self.moe_layers() * self.top_k * self.expert_params()
    }

    /// MLP parameters a token passes through in one layer, averaged over layers.
    pub fn active_mlp_params_per_layer(&self) -> f64 {
        let dense_layers = self.layers - self.moe_layers();
        let moe = self.moe_layers() * (self.top_k + self.shared_experts) * self.expert_params();
        (dense_layers * self.dense_mlp_params() + moe) / self.layers
    }

    /// Forward attention-score FLOPs per token per layer at sequence length `seq`, counting
    /// the full (non-causal) score matrix as Megatron and PaLM do: QK^T and AV.
    pub fn attention_core_flops_per_token(&self, seq: f64) -> f64 {
        2.0 * seq * self.heads * (self.qk_head_dim() + self.v_head_dim())
    }

    /// Model FLOPs per token for a training step (forward + backward = 3 x forward), with
    /// attention counted in full: `6 N_active + 6 L s heads (d_qk + d_v)`, the Megatron/PaLM
    /// convention MFU is quoted in. Embedding lookups cost no FLOPs; the output projection does.
    pub fn model_flops_per_token(&self, seq: f64) -> f64 {
        let input_embedding = self.vocab * self.hidden;
        let matmul_params = self.active_params() - input_embedding
            + if self.tied_embeddings {
                input_embedding
            } else {
                0.0
            };
        6.0 * matmul_params + 3.0 * self.layers * self.attention_core_flops_per_token(seq)
    }

    /// [`Arch::model_flops_per_token`] with causal attention counted as the kernels run it:
    /// half the score matrix (`6 N_active + 3 L s heads (d_qk + d_v)`). The step model times
    /// the causal half, so its MFU counts the causal half too; each calibration source's own
    /// convention is applied separately when comparing (`validate::conventions`).
    ///
    /// Sliding-window layers count the band they attend to ([`Arch::causal_keys_per_query`]).
    pub fn model_flops_per_token_causal(&self, seq: f64) -> f64 {
        let causal_share = self.causal_keys_per_query(seq) / seq;
        self.model_flops_per_token(seq)
            - 3.0 * (1.0 - causal_share) * self.layers * self.attention_core_flops_per_token(seq)
    }
}

/// Keys a query attends to, on average over a `seq_len`-token sequence, under a causal band of
/// `window` tokens (itself and the `window - 1` before it: Megatron-Core's `window_size =
/// (window - 1, 0)`): the first `window` queries see 1, 2, ... `window` keys and the rest
/// `window` each (the count NVIDIA's SDPA benchmark divides its time by). A window that covers
/// the sequence is plain causal attention, `seq_len / 2` (the full-attention layers' count).
pub fn banded_keys_per_query(window: f64, seq_len: f64) -> f64 {
    if window <= 0.0 || window >= seq_len {
        return 0.5 * seq_len;
    }
    (0.5 * window * (window + 1.0) + (seq_len - window) * window) / seq_len
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yarn_scaling_unfuses_megatrons_rope() {
        // GPT-OSS: factor 32, concentration 0.1 x ln 32 + 1 = 0.1 x 3.4657 + 1 = 1.34657.
        let gpt_oss = Arch {
            yarn_scaling_factor: 32.0,
            ..Arch::gpt(36, 2880, 64, 201_088)
        };
        assert!((gpt_oss.yarn_concentration() - 1.346_573_6).abs() < 1e-6);
        assert!(gpt_oss.unfused_rope());
        // No YaRN (0) or a factor of 1 leave the sine and cosine alone: TE's fused RoPE runs.
        for factor in [0.0, 1.0] {
            let plain = Arch {
                yarn_scaling_factor: factor,
                ..Arch::gpt(36, 2880, 64, 201_088)
            };
            assert_eq!(plain.yarn_concentration(), 1.0);
            assert!(!plain.unfused_rope());
        }
    }

    #[test]
    fn gpt3_has_175b_parameters() {
        // 96 layers x 12 x 12288^2 = 173.9e9, plus 51200 x 12288 = 0.63e9 embedding: 174.6e9.
        let gpt3 = Arch::gpt(96, 12288, 96, 51200);
        let expected = 96.0 * 12.0 * 12288f64.powi(2) + 51200.0 * 12288.0;
        assert!((gpt3.total_params() - expected).abs() < 1.0);
        assert!((gpt3.total_params() / 1e9 - 174.6).abs() < 0.1);
    }

    #[test]
    fn model_flops_follow_the_megatron_formula() {
        // Narayanan et al. Eq. 3 without recompute is 72 B s l h^2 (1 + s/(6h) + V/(12 l h))
        // per batch of B sequences; per token that is 72 l h^2 (1 + s/6h + V/12lh).
        let gpt3 = Arch::gpt(96, 12288, 96, 51200);
        let (l, h, s, v) = (96.0, 12288.0, 2048.0, 51200.0);
        let megatron = 72.0 * l * h * h * (1.0 + s / (6.0 * h) + v / (12.0 * l * h));
        assert!((gpt3.model_flops_per_token(s) / megatron - 1.0).abs() < 1e-12);
    }

    #[test]
    fn a_band_counts_the_keys_it_attends_to() {
        // 128-token band over 4,096 tokens: (128 x 129 / 2 + 3,968 x 128) / 4,096 = (8,256 +
        // 507,904) / 4,096 = 126.016 keys a query; a band that covers the sequence is causal.
        assert!((banded_keys_per_query(128.0, 4096.0) - 126.015_625).abs() < 1e-9);
        assert_eq!(banded_keys_per_query(4096.0, 4096.0), 2048.0);
        assert_eq!(banded_keys_per_query(0.0, 4096.0), 2048.0);
        // GPT-OSS at 4k: half its layers banded, (2,048 + 126.016) / 2 = 1,087.008 keys.
        let gpt_oss = Arch {
            sliding_window: 128.0,
            sliding_layers: 18.0,
            ..Arch::gpt(36, 2880, 64, 201_088)
        };
        assert_eq!(gpt_oss.banded_layer_share(4096.0), 0.5);
        assert!((gpt_oss.causal_keys_per_query(4096.0) - 1_087.007_812_5).abs() < 1e-9);
        // Its causal FLOPs: the full count less 3 L x core x (1 - 1,087.008 / 4,096); without
        // the band the causal half (the test below).
        let core = gpt_oss.attention_core_flops_per_token(4096.0);
        let expected = gpt_oss.model_flops_per_token(4096.0)
            - 3.0 * 36.0 * core * (1.0 - 1_087.007_812_5 / 4096.0);
        assert!((gpt_oss.model_flops_per_token_causal(4096.0) / expected - 1.0).abs() < 1e-12);
        // A band as long as the sequence is full causal attention.
        assert_eq!(gpt_oss.banded_layer_share(128.0), 0.0);
        let full = Arch {
            sliding_window: 0.0,
            sliding_layers: 0.0,
            ..gpt_oss
        };
        assert_eq!(
            gpt_oss.model_flops_per_token_causal(128.0),
            full.model_flops_per_token_causal(128.0)
        );
    }

    #[test]
    fn causal_model_flops_count_half_the_scores() {
        // The score term of Eq. 3 is 72 l h^2 s/(6h) = 12 l h s per token; causal halves it:
        // 6 l h s less.
        let gpt3 = Arch::gpt(96, 12288, 96, 51200);
        let (l, h, s) = (96.0, 12288.0, 2048.0);
        let full = gpt3.model_flops_per_token(s);
        let causal = gpt3.model_flops_per_token_causal(s);
        assert!(((full - causal) / (6.0 * l * h * s) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn llama3_405b_parameter_count() {
        // Llama 3 405B: 126 layers, 16384 wide, GQA 128/8, SwiGLU 53248, vocab 128256, untied.
        let arch = Arch {
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
        };
        // Published as 405B (405.9e9 counting norms).
        assert!(
            (arch.total_params() / 1e9 - 405.8).abs() < 1.0,
            "{}",
            arch.total_params() / 1e9
        );
    }

    #[test]
    fn deepseek_v3_has_671b_total_and_37b_active() {
        let arch = crate::reference::deepseek_v3();
        // DeepSeek reports 671B total and 37B activated (the 14B MTP module excluded).
        assert!(
            (arch.total_params() / 1e9 - 671.0).abs() < 3.0,
            "{}",
            arch.total_params() / 1e9
        );
        assert!(
            (arch.active_params() / 1e9 - 37.5).abs() < 1.5,
            "{}",
            arch.active_params() / 1e9
        );
    }
}
