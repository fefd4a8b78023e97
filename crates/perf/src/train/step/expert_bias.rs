//! Expert output biases (GPT-OSS, `Arch::expert_bias`) as Megatron-Core adds them: outside the
//! grouped GEMM, weighted by each token's routing probability, one local expert at a time, in
//! the dtype the probabilities arrive in.
//!
//! `TEGroupedMLP._apply_bias` (megatron/core/transformer/moe/experts.py, the same at the 25.11
//! pin 0d8e0714 and the 26.04 pin 3097d81) splits the down projection's output by expert, adds
//! `b * p` to each slice, concatenates the slices and casts the result back to the output's
//! dtype. PyTorch promotes the 16-bit output and bias to the probabilities' dtype, so what the
//! loop moves depends on the dispatcher: DeepEP and HybridEP take only fp32 probabilities and
//! upcast the router's ("HybridEP only supports float32 probs", `self.token_probs.float()`,
//! token_dispatcher.py at both pins), while Megatron's all-to-all dispatcher carries them in the
//! router's dtype, the activations' 16 bits when `moe_router_dtype` is unset (as in GPT-OSS's
//! recipes; the router's fp32 option is not represented).

use super::ACTIVATION_BYTES;
use crate::train::overlap::Dispatcher;

/// Bytes per element of the routing probabilities the experts weight their outputs with.
pub(super) fn probability_bytes(dispatcher: Dispatcher) -> f64 {
    if dispatcher.per_node() {
        4.0
    } else {
        ACTIVATION_BYTES
    }
}

/// What the bias loop costs per routed element of the down projection's output, and its kernel
/// launches per MoE layer, each charged once per layer forward under the step's element-wise
/// convention (once forward, twice backward: a third of the forward and backward total).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct ExpertBiasCost {
    pub bytes_per_element: f64,
    pub launches: f64,
}

/// The bias loop's bytes and launches for `local_experts` experts on the rank, with the
/// probabilities at `probability_bytes` and the activations at `ACTIVATION_BYTES` (a) per
/// element; q is the wider of the two, the dtype the sums are promoted to.
///
/// Forward, per element: `b * p` writes q; `t + b * p` reads a and q and writes q; `torch.cat`
/// reads and writes q; the cast back reads q and writes a, only when q is wider (`.to` of the
/// same dtype returns its input): a + 5q, plus q + a when promoted.
/// Backward: the cast's gradient reads a and writes q, and autograd casts the output slice's
/// gradient back to a (q + a each, when promoted); each product's gradient is materialised
/// (`g * p`, `g * b`: read q, write q) and reduced to the bias's and the probabilities' shapes
/// (read q): 6q; the split's gradient concatenates the slices' gradients (2a):
/// 6q + 2a, plus 2 (q + a) when promoted.
/// 16-bit probabilities: 12 + 16 = 28 bytes; fp32: 28 + 40 = 68.
/// Launches, forward: a product and a sum per expert, the concatenation, the cast when
/// promoted (2E + 1, + 1); backward: two products and two reductions per expert, the split's
/// concatenations of the output's and the probabilities' gradients, and when promoted the
/// cast's gradient and, per expert, the casts of the slice's and the bias's gradients
/// (4E + 2, + 2E + 1).
pub(super) fn expert_bias_cost(probability_bytes: f64, local_experts: f64) -> ExpertBiasCost {
    let a = ACTIVATION_BYTES;
    let q = probability_bytes.max(a);
    let promoted = if q > a { 1.0 } else { 0.0 };
    let forward_bytes = a + 5.0 * q + promoted * (q + a);
    let backward_bytes = 6.0 * q + 2.0 * a + promoted * 2.0 * (q + a);
    let e = local_experts.max(1.0);
    let forward_launches = 2.0 * e + 1.0 + promoted;
    let backward_launches = 4.0 * e + 2.0 + promoted * (2.0 * e + 1.0);
    ExpertBiasCost {
        bytes_per_element: (forward_bytes + backward_bytes) / 3.0,
        launches: (forward_launches + backward_launches) / 3.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sixteen_bit_probabilities_move_28_bytes_an_element() {
        // a = q = 2: forward 2 + 5 x 2 = 12; backward 6 x 2 + 2 x 2 = 16; 28 / 3 charged.
        // Launches with 2 experts: forward 2 x 2 + 1 = 5, backward 4 x 2 + 2 = 10: 15 / 3 = 5.
        let cost = expert_bias_cost(probability_bytes(Dispatcher::AllToAll), 2.0);
        assert!((cost.bytes_per_element - 28.0 / 3.0).abs() < 1e-12);
        assert!((cost.launches - 5.0).abs() < 1e-12);
    }

    #[test]
    fn fp32_probabilities_move_68_bytes_an_element() {
        // a = 2, q = 4: forward 2 + 20 + (4 + 2) = 28; backward 24 + 4 + 2 x 6 = 40; 68 / 3.
        // Launches with 16 experts: forward 32 + 1 + 1 = 34, backward 64 + 2 + 33 = 99:
        // 133 / 3.
        for dispatcher in [Dispatcher::PerNode, Dispatcher::PerNodeFp8] {
            let cost = expert_bias_cost(probability_bytes(dispatcher), 16.0);
            assert!((cost.bytes_per_element - 68.0 / 3.0).abs() < 1e-12);
            assert!((cost.launches - 133.0 / 3.0).abs() < 1e-12);
        }
    }

    #[test]
    fn wider_probabilities_never_cost_less() {
        for experts in [1.0, 2.0, 8.0, 32.0] {
            let narrow = expert_bias_cost(2.0, experts);
            let wide = expert_bias_cost(4.0, experts);
            assert!(wide.bytes_per_element > narrow.bytes_per_element);
            assert!(wide.launches > narrow.launches);
        }
    }
}
