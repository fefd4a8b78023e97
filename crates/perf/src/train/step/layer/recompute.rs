//! What a recomputed layer runs again in its backward.

use super::super::{Recompute, RecomputeModules, Strategy, ACTIVATION_BYTES};
use super::{clamped_glu_elements, Layer, LayerInputs, CLAMPED_GLU_FORWARD_BYTES_PER_ELEMENT};

impl Layer {
    /// Recomputation per layer and microbatch: the named modules' forward again, or the
    /// `full_fraction` of whole layers (`super::full_recompute_fraction`).
    pub(in crate::train::step) fn recompute_s(
        &self,
        cx: LayerInputs<'_>,
        full_fraction: f64,
    ) -> f64 {
        let LayerInputs {
            arch,
            s,
            tokens,
            tp,
            hbm,
            moe_share,
            ..
        } = cx;
        let h = arch.hidden;
        let Layer {
            core_forward_s,
            core_memory_forward_s,
            dense_mlp_s,
            routed_mlp_s,
            shared_mlp_s,
            mla_up_proj_s,
            hidden_split,
            activation_passes,
            forward_s,
            moe_elementwise_forward_s,
            ..
        } = *self;
        let modules = s.selective_modules();
        let has = |m: RecomputeModules| modules.contains(m);
        match s.recompute {
            Recompute::None => 0.0,
            Recompute::Selective => {
                let mut t = 0.0;
                if has(RecomputeModules::CORE_ATTN) {
                    t += core_forward_s + core_memory_forward_s;
                }
                if has(RecomputeModules::LAYERNORM) {
                    // Two norms, each reading and writing the hidden state.
                    t += 4.0 * ACTIVATION_BYTES * tokens * h / hidden_split / hbm;
                }
                if has(RecomputeModules::MLP) {
                    t += (1.0 - moe_share)
                        * (dense_mlp_s
                            + ACTIVATION_BYTES * tokens * activation_passes * arch.ffn_hidden
                                / tp
                                / hbm);
                }
                if has(RecomputeModules::MOE) {
                    t += moe_share * (routed_mlp_s + shared_mlp_s + moe_elementwise_forward_s);
                } else {
                    if has(RecomputeModules::MOE_ACT) {
                        t += moe_share
                            * ACTIVATION_BYTES
                            * tokens
                            * arch.top_k
                            * arch.moe_ffn_hidden
                            * activation_passes
                            / tp
                            / hbm;
                        // The activation Megatron-Core checkpoints includes the clamp.
                        if arch.clamps_experts_glu() {
                            t += moe_share
                                * clamped_glu_elements(arch, tokens, tp)
                                * CLAMPED_GLU_FORWARD_BYTES_PER_ELEMENT
                                / hbm;
                        }
                    }
                    if has(RecomputeModules::SHARED_EXPERTS) {
                        t += moe_share * shared_mlp_s;
                    }
                }
                if has(RecomputeModules::MLA_UP_PROJ) {
                    t += mla_up_proj_s;
                }
                t
            }
            Recompute::Full => full_fraction * forward_s,
        }
    }
}

/// Whether the backward runs the experts' activation again on its own (selective `moe_act`),
/// and with it whatever the activation does on the host, at the down projection's backward.
/// Recomputing the whole MoE block (`moe`) or layer (full) replays the activation too, but
/// inside a replayed forward whose backward then follows in full: the GPU has that much more
/// queued behind the sync, and the model leaves those replays' host waits out.
pub(super) fn recomputes_expert_activation_alone(s: &Strategy) -> bool {
    let modules = s.selective_modules();
    modules.contains(RecomputeModules::MOE_ACT) && !modules.contains(RecomputeModules::MOE)
}
