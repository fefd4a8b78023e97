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
//!
//! Kernel vintage: the same kernel got faster between cuDNN releases (on Blackwell, 9.17
//! brought 18% in the forward and 15% in the backward pass); a framework's container fixes its
//! cuDNN, and [`kernel_speed`] scales the fitted fraction (the newest kernels') by the
//! published rates of the version the container ships.

use serde::Serialize;

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

/// A cuDNN release (major, minor): the version of the fused-attention kernels a framework's
/// container ships (`catalog/frameworks.toml`, `cudnn`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct CudnnVersion {
    pub major: u32,
    pub minor: u32,
}

impl CudnnVersion {
    /// `"9.13"` or `"9.13.0"` (a patch level is accepted and ignored).
    pub fn parse(text: &str) -> Option<CudnnVersion> {
        let mut parts = text.trim().split('.');
        let major = parts.next()?.parse().ok()?;
        let minor = parts.next()?.parse().ok()?;
        if parts.any(|p| p.parse::<u32>().is_err()) {
            return None;
        }
        Some(CudnnVersion { major, minor })
    }
}

/// The architecture an attention kernel runs on (its kernels are tuned per generation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub enum KernelArch {
    /// H100, H200, H800.
    Hopper,
    /// B200, B300, GB200, GB300.
    Blackwell,
    /// Anything else: no published vintage comparison.
    #[default]
    Other,
}

/// A fused-attention kernel's forward and backward speed relative to the newest published
/// cuDNN on the same architecture (1: the newest; the fitted `attention_fraction` is the
/// newest kernels' rate).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct KernelSpeed {
    pub forward: f64,
    pub backward: f64,
}

impl KernelSpeed {
    pub const NEWEST: KernelSpeed = KernelSpeed {
        forward: 1.0,
        backward: 1.0,
    };
}

const fn v(major: u32, minor: u32) -> CudnnVersion {
    CudnnVersion { major, minor }
}

/// NVIDIA's cuDNN SDPA training benchmark (github.com/NVIDIA/cudnn-frontend,
/// `benchmark/sdpa_benchmark_bf16_training` and `benchmark/sdpa_benchmark_training`, each run's
/// log printing its container and cuDNN backend version), BF16, causal, 8,192 tokens, head
/// width 128, Llama 3 GQA (8 KV heads), TFLOP/s over the chip's dense BF16 peak (B200 2,250,
/// GB200 2,500), forward and backward (2.5x the forward FLOPs):
/// - 9.10.2, B200, PyTorch 25.05 container, 2025-06 (128 heads): 1,211 / 945;
/// - 9.13.0, B200, PyTorch 25.09 container, 2025-10 (128 heads): 1,171 / 943;
/// - 9.17.0, GB200, PyTorch 25.11 container, 2025-12 (128 heads; the commit: "the sdpa
///   improvements added in cuDNN 9.17.0"): 1,584 / 1,211;
/// - 9.18.1, GB200, 2026-01 (64 heads, from the published times): 1,562 / 1,278;
/// - 9.19.1, GB200, 2026-02 (64 heads): 1,598 / 1,311;
/// - 9.22.0, GB200, 2026-04-24 (64 heads, batch 2): 1,574 / 1,332.
const BLACKWELL_RATES: [(CudnnVersion, f64, f64); 6] = [
    (v(9, 10), 1211.0 / 2250.0, 945.0 / 2250.0),
    (v(9, 13), 1171.0 / 2250.0, 943.0 / 2250.0),
    (v(9, 17), 1584.0 / 2500.0, 1211.0 / 2500.0),
    (v(9, 18), 1562.0 / 2500.0, 1278.0 / 2500.0),
    (v(9, 19), 1598.0 / 2500.0, 1311.0 / 2500.0),
    (v(9, 22), 1574.0 / 2500.0, 1332.0 / 2500.0),
];

/// On Hopper the suite has one version (H200, 9.19.1, 2026-02, Llama 3.1 GQA 64/8 at 8k,
/// from the published times: 644 / 541 of 989). The older H200 figure cuDNN publishes (9.1.0,
/// `benchmark/sdpa_benchmark`: 646 / 462) is another benchmark on another shape (16 MHA
/// heads, batch 2), so no vintage ratio is taken from it: Hopper kernels run at the fitted
/// rate whatever the version (tried: with it, leave one source out 7.1% against 7.0%).
const HOPPER_RATES: [(CudnnVersion, f64, f64); 1] = [(v(9, 19), 644.0 / 989.0, 541.0 / 989.0)];

/// The attention kernels of cuDNN `version` on `arch`, relative to the newest published: the
/// latest measurement at or below the version (kernels a container ships are no newer than
/// its cuDNN; a version older than every measurement takes the oldest, an upper bound on its
/// speed). No version (a framework whose attention is not cuDNN's) or no measurement for the
/// architecture: the newest kernels, where the fitted fraction applies unchanged.
pub fn kernel_speed(version: Option<CudnnVersion>, arch: KernelArch) -> KernelSpeed {
    let table: &[(CudnnVersion, f64, f64)] = match arch {
        KernelArch::Hopper => &HOPPER_RATES,
        KernelArch::Blackwell => &BLACKWELL_RATES,
        KernelArch::Other => &[],
    };
    let (Some(version), Some(&(_, newest_fwd, newest_bwd))) = (version, table.last()) else {
        return KernelSpeed::NEWEST;
    };
    let &(_, fwd, bwd) = table
        .iter()
        .rev()
        .find(|(at, _, _)| *at <= version)
        .unwrap_or(&table[0]);
    KernelSpeed {
        forward: fwd / newest_fwd,
        backward: bwd / newest_bwd,
    }
}

/// cuDNN's fused forward kernel, causal, 4,096 tokens, BF16, H100 SXM5, by head width (the
/// figure the length curve above reads, Shah et al., FlashAttention-3, arXiv 2407.08608,
/// Figure 5 (b), (d), (f); Dao-AILab/flash-attention `assets/flash3_fp16_fwd.png`): 363 TFLOP/s
/// at width 64, 518 at 128, 483 at 256. A kernel's softmax (the exponentials, the running
/// maximum and the rescale) is work per score, whatever the width, while its matmul FLOPs per
/// score grow with the width: a narrow head spends a larger share of its time outside the
/// tensor cores. The ratio to width 128 is steady over the figure's lengths (width 64:
/// 0.69-0.72 from 512 to 16k tokens; width 256: 0.93-0.98).
const HEAD_WIDTH_RATES: [(f64, f64); 3] = [(64.0, 363.0), (128.0, 518.0), (256.0, 483.0)];

/// A fused kernel's speed at head width `width` relative to width 128 (where the fitted
/// `attention_fraction` stands: every calibration row it was fitted on but a few runs width
/// 128): the published rates, interpolated in log2 of the width, held at the ends (no
/// narrower or wider figure is published). The width is the mean of the query-key and value
/// widths (MLA's 192 / 128 runs at 160), since the two matmuls carry the FLOPs in that
/// proportion. Only the forward is published; the backward, whose softmax gradient is also
/// work per score, is taken to scale alike.
pub fn head_width_speed(width: f64) -> f64 {
    let reference = HEAD_WIDTH_RATES[1].1;
    let (first, last) = (
        HEAD_WIDTH_RATES[0],
        HEAD_WIDTH_RATES[HEAD_WIDTH_RATES.len() - 1],
    );
    if width.is_nan() || width <= first.0 {
        return first.1 / reference;
    }
    if width >= last.0 {
        return last.1 / reference;
    }
    let pair = HEAD_WIDTH_RATES
        .windows(2)
        .find(|p| width <= p[1].0)
        .unwrap_or(&HEAD_WIDTH_RATES[1..]);
    let (lo, hi) = (pair[0], pair[1]);
    let t = (width / lo.0).log2() / (hi.0 / lo.0).log2();
    (lo.1 + t * (hi.1 - lo.1)) / reference
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn narrow_heads_run_at_the_published_rate() {
        // Width 64: 363 / 518 = 0.70077; 128: 1; 256: 483 / 518 = 0.93243.
        assert!((head_width_speed(64.0) - 0.70077).abs() < 1e-4);
        assert!((head_width_speed(128.0) - 1.0).abs() < 1e-12);
        assert!((head_width_speed(256.0) - 0.93243).abs() < 1e-4);
        // Width 96, halfway in log2 between 64 and 128 at 0.58496: (363 + 0.58496 x 155) / 518
        // = 453.67 / 518 = 0.87581. MLA's 160: 0.32193 of the way to 256: (518 - 0.32193 x
        // 35) / 518 = 506.73 / 518 = 0.97825.
        assert!((head_width_speed(96.0) - 0.87581).abs() < 1e-4);
        assert!((head_width_speed(160.0) - 0.97825).abs() < 1e-4);
        // Held at the published ends.
        assert_eq!(head_width_speed(32.0), head_width_speed(64.0));
        assert_eq!(head_width_speed(512.0), head_width_speed(256.0));
        assert_eq!(head_width_speed(f64::NAN), head_width_speed(64.0));
    }

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
    fn kernel_vintage_scales_by_the_published_rates() {
        let newest = KernelSpeed::NEWEST;
        // NeMo 25.02's cuDNN 9.7 is older than every Blackwell measurement: the oldest, 9.10.2,
        // over 9.22: forward (1211 / 2250) / (1574 / 2500) = 0.53822 / 0.62960 = 0.85487,
        // backward (945 / 2250) / (1332 / 2500) = 0.42000 / 0.53280 = 0.78829.
        let old = kernel_speed(CudnnVersion::parse("9.7"), KernelArch::Blackwell);
        assert!((old.forward - 0.85487).abs() < 1e-4, "{old:?}");
        assert!((old.backward - 0.78829).abs() < 1e-4, "{old:?}");
        // 9.13 (Megatron-Bridge 25.11) takes its own measurement: backward
        // (943 / 2250) / 0.53280 = 0.41911 / 0.53280 = 0.78662.
        let mb2511 = kernel_speed(CudnnVersion::parse("9.13.0"), KernelArch::Blackwell);
        assert!((mb2511.backward - 0.78662).abs() < 1e-4, "{mb2511:?}");
        // 9.20 has no measurement of its own: 9.19's, backward (1311 / 2500) / 0.53280 = 0.98423.
        let between = kernel_speed(CudnnVersion::parse("9.20"), KernelArch::Blackwell);
        assert!((between.backward - 0.98423).abs() < 1e-4, "{between:?}");
        // The newest and anything later: the fitted rate.
        assert_eq!(
            kernel_speed(CudnnVersion::parse("9.22"), KernelArch::Blackwell),
            newest
        );
        assert_eq!(
            kernel_speed(CudnnVersion::parse("10.0"), KernelArch::Blackwell),
            newest
        );
        // Not cuDNN, one Hopper measurement, or a chip without a table: unchanged.
        assert_eq!(kernel_speed(None, KernelArch::Blackwell), newest);
        assert_eq!(
            kernel_speed(CudnnVersion::parse("9.1"), KernelArch::Hopper),
            newest
        );
        assert_eq!(
            kernel_speed(CudnnVersion::parse("9.1"), KernelArch::Other),
            newest
        );
        // Never faster with age: every version's speed is at most 1.02 (9.19's forward, 1598
        // against 1574, is the benchmark's run-to-run spread) and 9.17 is the step.
        assert!(
            old.forward < kernel_speed(CudnnVersion::parse("9.17"), KernelArch::Blackwell).forward
        );
    }

    #[test]
    fn cudnn_versions_parse_and_order() {
        assert_eq!(
            CudnnVersion::parse("9.13.0"),
            Some(CudnnVersion {
                major: 9,
                minor: 13
            })
        );
        assert!(CudnnVersion::parse("9.7") < CudnnVersion::parse("9.10"));
        for bad in ["", "9", "nine.1", "9.x", "9.1.a"] {
            assert_eq!(CudnnVersion::parse(bad), None, "{bad}");
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
