//! How fast a fused (flash) attention kernel runs for the length it is handed.
//!
//! A flash-attention kernel walks each query tile along the keys it attends to; the tile's
//! fixed work (loading the queries, the softmax rescale, writing the output and its
//! log-sum-exp) is paid once per tile, and under a causal mask the tiles near the start of the
//! sequence have little to do while the last ones do a full row, and the diagonal tiles are
//! masked element by element. The fixed work fades as the kernel's length grows; the masking
//! does not. cuDNN's fused attention (the kernel Transformer Engine runs on Hopper), forward,
//! BF16, head dim 128, on an H100 SXM5 (Shah et al., FlashAttention-3, arXiv 2407.08608,
//! 2024-07-11, Figure 5 (c)/(d); the authors' Dao-AILab/flash-attention
//! `assets/flash3_fp16_fwd.png`, read 2026-12-02): causal
//! 315/410/484/518/529/539 TFLOP/s at 0.5k/1k/2k/4k/8k/16k tokens, without the mask
//! 497/574/617/609/600/595. `peak x s / (s + s0)` reproduces them (least squares in log):
//! causal s0 = 390 tokens, peak 562 (every point within 3%); unmasked s0 = 110, peak 620
//! (within 5%), so a causal kernel's asymptote is 562 / 620 = 0.906 of an unmasked one's.
//!
//! Ring context parallelism (Transformer Engine's load-balanced ring: each rank holds two of
//! the 2 x CP chunks) runs one causal block per step on the diagonal, of the rank's own s / CP
//! tokens, and CP - 1 steps of unmasked blocks against half of that, so as CP grows most of
//! the work moves to the longer-lived, unmasked kernel.
//!
//! The fitted `attention_fraction` keeps its meaning: the share of the matmul ceiling a causal
//! kernel over `REFERENCE_TOKENS` reaches; other lengths scale from it by this curve.

/// The length, in tokens, at which a causal kernel runs at `attention_fraction` of the
/// matmul ceiling (most calibration rows train at 2k-8k tokens).
pub const REFERENCE_TOKENS: f64 = 4096.0;
/// Half-efficiency length of a causal fused-attention kernel, tokens (cuDNN, above).
pub const CAUSAL_HALF_TOKENS: f64 = 390.0;
/// A causal kernel's asymptotic rate as a share of an unmasked one's (cuDNN: 562 / 620).
pub const CAUSAL_ASYMPTOTE_SHARE: f64 = 562.0 / 620.0;
/// Half-efficiency length of an unmasked fused-attention kernel, tokens (cuDNN, above).
pub const UNMASKED_HALF_TOKENS: f64 = 110.0;

/// A causal kernel's rate over `tokens`, as a share of an unmasked kernel's asymptote.
fn causal(tokens: f64) -> f64 {
    CAUSAL_ASYMPTOTE_SHARE * saturation(tokens, CAUSAL_HALF_TOKENS)
}

/// An unmasked kernel's rate over `tokens` keys, as a share of its asymptote.
fn unmasked(tokens: f64) -> f64 {
    saturation(tokens, UNMASKED_HALF_TOKENS)
}

fn saturation(tokens: f64, half_tokens: f64) -> f64 {
    let t = tokens.max(1.0);
    t / (t + half_tokens)
}

/// The attention kernels' speed relative to a causal kernel over `REFERENCE_TOKENS`, for a
/// causal sequence of `seq_len` tokens split `cp` ways by ring context parallelism: the
/// harmonic mean of the diagonal causal block (1 / CP of the work, over s / CP tokens) and
/// the unmasked off-diagonal blocks (the rest, over s / 2CP keys).
pub fn length_speedup(seq_len: f64, cp: f64) -> f64 {
    let cp = cp.max(1.0);
    let local = seq_len / cp;
    let diagonal_share = 1.0 / cp;
    let time = diagonal_share / causal(local) + (1.0 - diagonal_share) / unmasked(local / 2.0);
    1.0 / (time * causal(REFERENCE_TOKENS))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_curve_reproduces_the_published_kernel_rates() {
        let causal_rates = [
            (512.0, 315.0),
            (1024.0, 410.0),
            (2048.0, 484.0),
            (4096.0, 518.0),
            (8192.0, 529.0),
            (16384.0, 539.0),
        ];
        for (tokens, published) in causal_rates {
            let model = 620.0 * causal(tokens);
            assert!((model / published - 1.0).abs() < 0.03, "{tokens}: {model}");
        }
        let unmasked_rates = [
            (512.0, 497.0),
            (1024.0, 574.0),
            (2048.0, 617.0),
            (4096.0, 609.0),
            (8192.0, 600.0),
            (16384.0, 595.0),
        ];
        for (tokens, published) in unmasked_rates {
            let model = 620.0 * unmasked(tokens);
            assert!((model / published - 1.0).abs() < 0.05, "{tokens}: {model}");
        }
    }

    #[test]
    fn the_reference_length_keeps_the_fitted_fraction() {
        assert!((length_speedup(REFERENCE_TOKENS, 1.0) - 1.0).abs() < 1e-12);
        // 2k causal: (2048 / 2438) / (4096 / 4486) = 0.84003 / 0.91306 = 0.9200.
        assert!((length_speedup(2048.0, 1.0) - 0.9200).abs() < 0.001);
    }

    #[test]
    fn context_parallel_moves_work_to_unmasked_blocks() {
        // 1M tokens over CP 32: 32,768 local tokens. The diagonal (1/32) at
        // 0.90645 x 32768 / 33158 = 0.89579, the rest over 16,384 keys at 16384 / 16494 =
        // 0.99333; time 0.03125 / 0.89579 + 0.96875 / 0.99333 = 1.01014; the reference
        // 0.90645 x 4096 / 4486 = 0.82765; speedup 1 / (1.01014 x 0.82765) = 1.1961.
        let s = length_speedup(1_048_576.0, 32.0);
        assert!((s - 1.1961).abs() < 0.001, "{s}");
        // Without CP the curve only saturates: longer never slower, at most 1 / 0.91306.
        let mut last = 0.0;
        for k in 9..21 {
            let v = length_speedup(f64::from(1u32 << k), 1.0);
            assert!(v >= last && v < 1.0 / 0.913);
            last = v;
        }
    }
}
