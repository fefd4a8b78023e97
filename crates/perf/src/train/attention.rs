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

/// How a fused kernel's rate grows with the length it is handed on one architecture:
/// `peak x s / (s + s0)`, causal and unmasked, the causal peak as a share of the unmasked.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LengthCurve {
    /// Half-efficiency length of the causal kernel, tokens.
    pub causal_half_tokens: f64,
    /// The causal kernel's asymptotic rate as a share of the unmasked one's.
    pub causal_asymptote_share: f64,
    /// Half-efficiency length of the unmasked kernel, tokens.
    pub unmasked_half_tokens: f64,
}

/// cuDNN on H100 (the FlashAttention-3 figure above).
pub const HOPPER_LENGTHS: LengthCurve = LengthCurve {
    causal_half_tokens: CAUSAL_HALF_TOKENS,
    causal_asymptote_share: CAUSAL_ASYMPTOTE_SHARE,
    unmasked_half_tokens: UNMASKED_HALF_TOKENS,
};

/// cuDNN on Blackwell: NVIDIA's SDPA training benchmark on GB200 (github.com/NVIDIA/
/// cudnn-frontend `benchmark/sdpa_benchmark_training/results/llama3.1/gb200/
/// llama3.1_20260424_100750.csv`, cuDNN 9.22, BF16, Llama 3.1 heads: 64 query, 8 KV, width
/// 128, batch 2, non-deterministic backward), TFLOP/s forward / backward:
/// - causal ("top_left") 1,097 / 885 at 2k, 1,408 / 1,148 at 4k, 1,574 / 1,332 at 8k,
///   1,708 / 1,328 at 16k;
/// - unmasked ("no_mask") 1,433 / 1,124, 1,599 / 1,350, 1,771 / 1,404, 1,697 / 1,374.
///
/// A layer's attention runs one forward and a backward of 2.5x its FLOPs, so each length's
/// rate is taken as 3.5 / (1 / forward + 2.5 / backward): causal 937 / 1,212 / 1,393 / 1,418,
/// unmasked 1,198 / 1,413 / 1,492 / 1,453. `peak x s / (s + s0)`, least squares in log over
/// 2k-16k (the lengths training rows hand the kernel; the 32k points fall back by 5-7%, which
/// the form cannot follow): causal s0 = 1,355 tokens, peak 1,582 (every point within 3.1%);
/// unmasked s0 = 565, peak 1,558 (within 4%). Blackwell's kernels need longer sequences to
/// saturate than Hopper's (s0 1,355 against 390) and lose almost nothing to the causal mask
/// at length (1,582 / 1,558): an 8k sequence runs 1.14x the 4k reference rather than 1.05x,
/// and ring CP2 at 8k, whose blocks are 4k causal and 2k unmasked, runs 1.01x rather than
/// Hopper's 1.07x. GB300's points of the same day (Blackwell Ultra, twice the exponential
/// rate) keep the shape: combined causal 8k / 4k 1.14 (GB200 1.15), 2k / 4k 0.78 (0.77), so
/// one curve serves every Blackwell chip (Blackwell Ultra's level: [`BLACKWELL_ULTRA_SPEED`]).
pub const BLACKWELL_LENGTHS: LengthCurve = LengthCurve {
    causal_half_tokens: 1355.0,
    causal_asymptote_share: 1582.0 / 1558.0,
    unmasked_half_tokens: 565.0,
};

/// The length curve of the kernels on `arch` (Hopper's where nothing is published).
pub fn length_curve(arch: KernelArch) -> LengthCurve {
    match arch {
        KernelArch::Blackwell | KernelArch::BlackwellUltra => BLACKWELL_LENGTHS,
        KernelArch::Hopper | KernelArch::Other => HOPPER_LENGTHS,
    }
}

impl LengthCurve {
    /// A causal kernel's rate over `tokens`, as a share of an unmasked kernel's asymptote.
    fn causal(&self, tokens: f64) -> f64 {
        self.causal_asymptote_share * saturation(tokens, self.causal_half_tokens)
    }

    /// An unmasked kernel's rate over `tokens` keys, as a share of its asymptote.
    fn unmasked(&self, tokens: f64) -> f64 {
        saturation(tokens, self.unmasked_half_tokens)
    }
}

fn saturation(tokens: f64, half_tokens: f64) -> f64 {
    let t = tokens.max(1.0);
    t / (t + half_tokens)
}

/// The attention kernels' speed relative to a causal kernel over `REFERENCE_TOKENS` on the
/// same architecture (`curve`), for a causal sequence of `seq_len` tokens split `cp` ways by
/// ring context parallelism: the harmonic mean of the diagonal causal block (1 / CP of the
/// work, over s / CP tokens) and the unmasked off-diagonal blocks (the rest, over s / 2CP
/// keys).
pub fn length_speedup(seq_len: f64, cp: f64, curve: LengthCurve) -> f64 {
    let cp = cp.max(1.0);
    let local = seq_len / cp;
    let diagonal_share = 1.0 / cp;
    let time =
        diagonal_share / curve.causal(local) + (1.0 - diagonal_share) / curve.unmasked(local / 2.0);
    1.0 / (time * curve.causal(REFERENCE_TOKENS))
}

/// Keys a fused kernel's query tile walks past its window: the tile on the diagonal, masked
/// element by element (the kernels' key tiles are 128 wide on Hopper and Blackwell).
pub const KEY_TILE_TOKENS: f64 = 128.0;

/// A sliding-window kernel's speed, on the FLOPs its band does, relative to a causal kernel
/// over `REFERENCE_TOKENS` on the same architecture (`curve`), for a band of `window` keys.
///
/// Each query tile walks its band plus the diagonal tile (`window + KEY_TILE_TOKENS` keys), at
/// an unmasked kernel's rate over that many keys, and only `window` of them count. The form
/// adds no constant; NVIDIA's cuDNN SDPA training benchmark (cudnn-frontend
/// `benchmark/sdpa_benchmark_training/results/`, BF16, width 64, 4k tokens, forward + 2.5x
/// backward as [`BLACKWELL_LENGTHS`] combines them) measures it:
/// - GB200, cuDNN 9.22, GPT-OSS's 128-token band (`gpt_oss/gb200/gpt_oss_20260424_100011.csv`):
///   161 / 182 TFLOP/s, 175.5 together, 0.207 of the causal 4k kernel of that width (1,212 x
///   the width-64 ratio 0.701 = 849). The form: 256 / (256 + 565) x 128 / 256 / (1.0154 x 4096 /
///   (4096 + 1,355)) = 0.204.
/// - H200, cuDNN 9.19, a 1,024-token band (`h200_919_only_cudnn/gpt_oss_20260227_034819.csv`,
///   0.358 / 1.042 ms for 120.3 / 300.7 GFLOP): 336 / 289, 300.7 together, 0.854 of the causal
///   4k kernel (`llama3.1_20260227_034703.csv`: 591 / 474, 502.4, x 0.701 = 352.1). The form:
///   1,152 / 1,262 x 1,024 / 1,152 / (0.906 x 4096 / 4,486) = 0.981, 15% fast.
pub fn sliding_window_speedup(window: f64, curve: LengthCurve) -> f64 {
    let window = window.max(1.0);
    let walked = window + KEY_TILE_TOKENS;
    curve.unmasked(walked) * (window / walked) / curve.causal(REFERENCE_TOKENS)
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
    /// B200, GB200 (sm_100).
    Blackwell,
    /// B300, GB300 (Blackwell Ultra, sm_103): Blackwell's kernels, length curve and vintage,
    /// with twice the softmax exponential rate ([`BLACKWELL_ULTRA_SPEED`]).
    BlackwellUltra,
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

/// Blackwell Ultra's cuDNN kernels against Blackwell's, each per unit of its chip's BF16 matmul
/// ceiling (the fitted `attention_fraction` is a share of that ceiling). NVIDIA's cuDNN SDPA
/// training benchmark ran both chips the same day with the same cuDNN (github.com/NVIDIA/
/// cudnn-frontend `benchmark/sdpa_benchmark_training/results/llama3.1/`, `gb200/
/// llama3.1_20260424_100750.csv` and `gb300/llama3.1_20260424_100757.csv`, cuDNN 9.22, BF16,
/// Llama 3.1 heads 64 / 8, width 128, causal, 4,096 tokens, the reference length): GB300 1,703
/// / 1,248 TFLOP/s forward / backward, GB200 1,408 / 1,148, so GB300 runs 1.2095x forward and
/// 1.0871x backward. The chips' BF16 ceilings differ by 1.1382 (GB300 2,073.8: GB200's
/// measured fraction times the GEMM speed Microsoft measured between the two; GB200 1,822
/// measured), which the ceiling already carries: forward 1.2095 / 1.1382 = 1.0627, backward
/// 1.0871 / 1.1382 = 0.9551. The forward gains because
/// its softmax exponentials, one per score, run on Blackwell Ultra's doubled SFU rate (10.7
/// against 5 tera-exponentials/s, src-verda-gb300); the backward's five matmuls per score
/// leave the exponential little share. The same pair under cuDNN 9.19 (2026-02-26,
/// `results/{gb200,gb300}_919_only_cudnn/llama3.1_*.csv`, added in df73764a, batch 1) gives
/// 1.252 / 1.056 at 4k: the newest pair is taken, as the fitted fraction stands for the newest
/// kernels, and the two agree within 1.3% over forward and backward together. B300 is the same
/// die: it takes the same factors on its own ceiling. One factor serves every full-attention
/// head width: the same day's DeepSeek-V3 points (MLA, widths 192 / 128, 128 heads) give 1.131
/// / 1.081 at 4k, and Kimi K2.6's (`kimiK26/{gb200,gb300}/kimiK26_*.csv`: the same widths with
/// 64 heads; 0.518 / 0.421 ms forward, 1.698 / 1.548 ms backward) 1.230 / 1.097, so the two
/// MLA shapes bracket the width-128 pair and the gap is not the width's. The sliding-window
/// kernel is another matter: GPT-OSS's 128-token band at width 64 gains only 1.040 / 1.052,
/// bound elsewhere (~170 TFLOP/s on both chips), and takes its own factor
/// ([`BLACKWELL_ULTRA_BAND_SPEED`]).
pub const BLACKWELL_ULTRA_SPEED: KernelSpeed = KernelSpeed {
    forward: (1703.0 / 1408.0) / BLACKWELL_ULTRA_CEILING_RATIO,
    backward: (1248.0 / 1148.0) / BLACKWELL_ULTRA_CEILING_RATIO,
};

/// Blackwell Ultra's sliding-window kernel against Blackwell's, per unit of each chip's BF16
/// matmul ceiling: the same day's GPT-OSS runs (`gpt_oss/gb200/gpt_oss_20260424_100011.csv`,
/// `gpt_oss/gb300/gpt_oss_20260424_100022.csv`, cuDNN 9.22, BF16, a 128-token band, width 64,
/// 4k tokens, batch 2, non-deterministic backward): GB200 0.210 / 0.465 ms forward / backward,
/// GB300 0.202 / 0.442 ms, so GB300 runs 1.0396x forward and 1.0520x backward, over the
/// ceilings' 1.1382: 0.9134 and 0.9243. A band's query tile walks two key tiles, so the kernel
/// spends its time on the tile's fixed work (loading the queries, writing the output and its
/// log-sum-exp) rather than on exponentials, and Blackwell Ultra's doubled exponential rate
/// buys it almost nothing; at 2k and 8k the ratios are 1.048 / 1.044 and 1.043 / 1.057.
pub const BLACKWELL_ULTRA_BAND_SPEED: KernelSpeed = KernelSpeed {
    forward: (0.210 / 0.202) / BLACKWELL_ULTRA_CEILING_RATIO,
    backward: (0.465 / 0.442) / BLACKWELL_ULTRA_CEILING_RATIO,
};

/// GB300's BF16 matmul ceiling over GB200's in the catalog: GB200's measured fraction of the
/// same 2,500 peak, times Microsoft's cuBLASLt GEMM speed of GB300 over GB200 (3,308.5 / 2,906.9
/// at 16384^3), so the ratio itself (`catalog/hardware.toml`; the engine's tests hold the two
/// equal). Until 2026-12-05 B300's fraction (1,769 of 2,250) of the 2,500 peak: 1.0788.
pub const BLACKWELL_ULTRA_CEILING_RATIO: f64 = 1.1382;

/// The attention kernels of cuDNN `version` on `arch`, relative to the kernels the fitted
/// fraction stands for (the newest published on Hopper or Blackwell): the latest measurement at
/// or below the version (kernels a container ships are no newer than its cuDNN; a version
/// older than every measurement takes the oldest, an upper bound on its speed), and on
/// Blackwell Ultra Blackwell's table times [`BLACKWELL_ULTRA_SPEED`]. No version (a framework
/// whose attention is not cuDNN's) or no measurement for the architecture: the newest
/// kernels, where the fitted fraction applies unchanged.
pub fn kernel_speed(version: Option<CudnnVersion>, arch: KernelArch) -> KernelSpeed {
    vintage_speed(version, arch, BLACKWELL_ULTRA_SPEED)
}

/// The vintage table of `arch` at `version`, times `ultra` on Blackwell Ultra (the kernel's own
/// level there: [`BLACKWELL_ULTRA_SPEED`] for full attention, [`BLACKWELL_ULTRA_BAND_SPEED`]
/// for a sliding window).
fn vintage_speed(
    version: Option<CudnnVersion>,
    arch: KernelArch,
    ultra: KernelSpeed,
) -> KernelSpeed {
    let (table, chip): (&[(CudnnVersion, f64, f64)], KernelSpeed) = match arch {
        KernelArch::Hopper => (&HOPPER_RATES, KernelSpeed::NEWEST),
        KernelArch::Blackwell => (&BLACKWELL_RATES, KernelSpeed::NEWEST),
        KernelArch::BlackwellUltra => (&BLACKWELL_RATES, ultra),
        KernelArch::Other => (&[], KernelSpeed::NEWEST),
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
        forward: fwd / newest_fwd * chip.forward,
        backward: bwd / newest_bwd * chip.backward,
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

/// MLA's shape on Blackwell, measured: NVIDIA's cuDNN SDPA training benchmark on GB200 runs
/// DeepSeek-V3's attention (query-key width 192, value 128, 128 heads; cudnn-frontend
/// `benchmark/sdpa_benchmark_training/results/dsv3/gb200/dsv3_20260424_101009.csv`, cuDNN
/// 9.22) beside Llama 3.1's width 128 (the file [`BLACKWELL_LENGTHS`] reads), BF16, causal, 4k
/// tokens: 1,406 / 1,057 TFLOP/s forward / backward against 1,408 / 1,148, or 1,137.8 against
/// 1,211.9 with the backward's 2.5x FLOPs: 0.939 (Hopper's curve put width 160 at 0.978; at
/// 2k the measured ratio is 0.961, at 8k 0.921). Blackwell's other widths are not published
/// for full attention (the GPT-OSS runs are sliding-window only): Hopper's ratios stand there,
/// scaled to this table's width-128 rate.
const BLACKWELL_WIDTH_RATES: [(f64, f64); 4] = [
    (64.0, 1211.9 * 363.0 / 518.0),
    (128.0, 1211.9),
    (160.0, 1137.8),
    (256.0, 1211.9 * 483.0 / 518.0),
];

/// The sliding-window kernel of cuDNN `version` on `arch`: the full kernels' vintage
/// ([`kernel_speed`]), and on Blackwell Ultra the band kernel's own measured level
/// ([`BLACKWELL_ULTRA_BAND_SPEED`]) in place of the full kernels'. No version: the newest
/// kernels, where the fitted fraction applies unchanged.
pub fn band_kernel_speed(version: Option<CudnnVersion>, arch: KernelArch) -> KernelSpeed {
    vintage_speed(version, arch, BLACKWELL_ULTRA_BAND_SPEED)
}

/// A fused kernel's speed at head width `width` on `arch` relative to width 128 (where the fitted
/// `attention_fraction` stands: every calibration row it was fitted on but a few runs width
/// 128): the published rates, interpolated in log2 of the width, held at the ends (no
/// narrower or wider figure is published). The width is the mean of the query-key and value
/// widths (MLA's 192 / 128 runs at 160), since the two matmuls carry the FLOPs in that
/// proportion. Only the forward is published; the backward, whose softmax gradient is also
/// work per score, is taken to scale alike.
pub fn head_width_speed(width: f64, arch: KernelArch) -> f64 {
    let table: &[(f64, f64)] = match arch {
        KernelArch::Blackwell | KernelArch::BlackwellUltra => &BLACKWELL_WIDTH_RATES,
        KernelArch::Hopper | KernelArch::Other => &HEAD_WIDTH_RATES,
    };
    // Width 128 is the second entry of both tables.
    let reference = table[1].1;
    let (first, last) = (table[0], table[table.len() - 1]);
    if width.is_nan() || width <= first.0 {
        return first.1 / reference;
    }
    if width >= last.0 {
        return last.1 / reference;
    }
    let pair = table
        .windows(2)
        .find(|p| width <= p[1].0)
        .unwrap_or(&table[1..]);
    let (lo, hi) = (pair[0], pair[1]);
    let t = (width / lo.0).log2() / (hi.0 / lo.0).log2();
    (lo.1 + t * (hi.1 - lo.1)) / reference
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sliding_window_kernel_runs_at_the_measured_rate() {
        // GB200, 128-token band, width 64, 4k: unmasked over 256 keys, 256 / (256 + 565) =
        // 0.31181, of which 128 / 256 count: 0.15591; the causal 4k reference, 1582 / 1558 x
        // 4096 / (4096 + 1355) = 0.76300: 0.20434. Measured (cuDNN 9.22): 175.5 / (1,211.9 x
        // 363 / 518) = 0.2066, within 1.2%.
        let blackwell = sliding_window_speedup(128.0, BLACKWELL_LENGTHS);
        assert!((blackwell - 0.204_336).abs() < 1e-5, "{blackwell}");
        assert!((blackwell / 0.206_649 - 1.0).abs() < 0.015);
        // H200, 1,024-token band: 1152 / 1262 x 1024 / 1152 / (562 / 620 x 4096 / 4486) =
        // 0.98038. Measured (cuDNN 9.19): 300.7 / (502.4 x 363 / 518) = 0.8541: the form runs
        // 15% fast there (stated in the doc comment).
        let hopper = sliding_window_speedup(1024.0, HOPPER_LENGTHS);
        assert!((hopper - 0.980_382).abs() < 1e-5, "{hopper}");
        assert!(hopper / 0.854_096 - 1.0 < 0.16);
        // A wider band runs nearer the kernel's asymptote: faster per FLOP, never slower.
        let mut last = 0.0;
        for window in [1.0, 16.0, 128.0, 1024.0, 4096.0, 131_072.0] {
            let speed = sliding_window_speedup(window, BLACKWELL_LENGTHS);
            assert!(speed > last && speed.is_finite(), "{window}: {speed}");
            last = speed;
        }
        // A degenerate band stays finite.
        assert!(sliding_window_speedup(0.0, HOPPER_LENGTHS).is_finite());
    }

    #[test]
    fn narrow_heads_run_at_the_published_rate() {
        // Width 64: 363 / 518 = 0.70077; 128: 1; 256: 483 / 518 = 0.93243.
        assert!((head_width_speed(64.0, KernelArch::Hopper) - 0.70077).abs() < 1e-4);
        assert!((head_width_speed(128.0, KernelArch::Hopper) - 1.0).abs() < 1e-12);
        assert!((head_width_speed(256.0, KernelArch::Hopper) - 0.93243).abs() < 1e-4);
        // Width 96, halfway in log2 between 64 and 128 at 0.58496: (363 + 0.58496 x 155) / 518
        // = 453.67 / 518 = 0.87581. MLA's 160: 0.32193 of the way to 256: (518 - 0.32193 x
        // 35) / 518 = 506.73 / 518 = 0.97825.
        assert!((head_width_speed(96.0, KernelArch::Hopper) - 0.87581).abs() < 1e-4);
        assert!((head_width_speed(160.0, KernelArch::Hopper) - 0.97825).abs() < 1e-4);
        // Held at the published ends.
        assert_eq!(
            head_width_speed(32.0, KernelArch::Hopper),
            head_width_speed(64.0, KernelArch::Hopper)
        );
        assert_eq!(
            head_width_speed(512.0, KernelArch::Hopper),
            head_width_speed(256.0, KernelArch::Hopper)
        );
        assert_eq!(
            head_width_speed(f64::NAN, KernelArch::Hopper),
            head_width_speed(64.0, KernelArch::Hopper)
        );
        // Blackwell: MLA's 192 / 128 (width 160) as measured, 1,137.8 / 1,211.9 = 0.93886;
        // between it and 256, Hopper's 483 / 518 = 0.93243 at log2(192 / 160) / log2(256 /
        // 160) = 0.38792 of the way: 0.93636; below 128, Hopper's ratios.
        let b = KernelArch::Blackwell;
        assert!((head_width_speed(160.0, b) - 0.93886).abs() < 1e-4);
        assert!((head_width_speed(192.0, b) - 0.93636).abs() < 1e-4);
        assert!((head_width_speed(64.0, b) - 0.70077).abs() < 1e-4);
        assert!((head_width_speed(128.0, b) - 1.0).abs() < 1e-12);
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
            let model = 620.0 * HOPPER_LENGTHS.causal(tokens);
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
            let model = 620.0 * HOPPER_LENGTHS.unmasked(tokens);
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
    fn blackwell_ultra_runs_blackwell_kernels_at_its_measured_level() {
        // The ceilings' ratio: 1822 / 2500 x 2500 x 1.1382 = 2073.8 over 1822 = 1.1382. GB300
        // over GB200 the same day, 4k causal: forward 1703 / 1408 = 1.209517, backward 1248 /
        // 1148 = 1.087108; per unit of ceiling 1.209517 / 1.1382 = 1.062658 and 1.087108 /
        // 1.1382 = 0.955112.
        assert!((BLACKWELL_ULTRA_CEILING_RATIO - 1.1382).abs() < 1e-12);
        let ultra = BLACKWELL_ULTRA_SPEED;
        assert!((ultra.forward - 1.062658).abs() < 1e-5, "{ultra:?}");
        assert!((ultra.backward - 0.955112).abs() < 1e-5, "{ultra:?}");
        let at = |version: &str, arch| kernel_speed(CudnnVersion::parse(version), arch);
        assert_eq!(at("9.22", KernelArch::BlackwellUltra), ultra);
        // An older container's kernels: Blackwell's vintage ratio times the chip's level
        // (25.11's 9.13 backward, 0.78662 x 0.955112 = 0.75131).
        let mb2511 = at("9.13.0", KernelArch::BlackwellUltra);
        let blackwell = at("9.13.0", KernelArch::Blackwell);
        assert!((mb2511.forward - blackwell.forward * ultra.forward).abs() < 1e-12);
        assert!((mb2511.backward - 0.75131).abs() < 1e-4, "{mb2511:?}");
        // The measurement is cuDNN's: a framework without a cuDNN version keeps the fitted rate.
        assert_eq!(
            kernel_speed(None, KernelArch::BlackwellUltra),
            KernelSpeed::NEWEST
        );
        // Blackwell's length curve and width table serve it.
        assert_eq!(
            length_curve(KernelArch::BlackwellUltra),
            length_curve(KernelArch::Blackwell)
        );
        assert_eq!(
            head_width_speed(64.0, KernelArch::BlackwellUltra),
            head_width_speed(64.0, KernelArch::Blackwell)
        );
    }

    #[test]
    fn blackwell_ultra_bands_gain_only_what_their_kernel_measured() {
        // GB300 over GB200, 128-token band, 4k: 0.210 / 0.202 = 1.039604 forward, 0.465 /
        // 0.442 = 1.052036 backward; per unit of ceiling (1.1382) 0.913375 and 0.924298.
        let band = BLACKWELL_ULTRA_BAND_SPEED;
        assert!((band.forward - 0.913_375).abs() < 1e-5, "{band:?}");
        assert!((band.backward - 0.924_298).abs() < 1e-5, "{band:?}");
        let newest = CudnnVersion::parse("9.22");
        let ultra_band = band_kernel_speed(newest, KernelArch::BlackwellUltra);
        assert!(
            (ultra_band.forward - band.forward).abs() < 1e-12,
            "{ultra_band:?}"
        );
        assert!(
            (ultra_band.backward - band.backward).abs() < 1e-12,
            "{ultra_band:?}"
        );
        // An older container keeps its vintage: 25.11's 9.13 backward, 0.78662 x 0.924298.
        let old = CudnnVersion::parse("9.13");
        let mb2511 = band_kernel_speed(old, KernelArch::BlackwellUltra);
        assert!(
            (mb2511.backward - 0.78662 * 0.924_298).abs() < 1e-4,
            "{mb2511:?}"
        );
        // Everywhere else, and without a cuDNN version, the band runs the full kernels' speed.
        for arch in [KernelArch::Blackwell, KernelArch::Hopper, KernelArch::Other] {
            let full = kernel_speed(newest, arch);
            assert_eq!(band_kernel_speed(newest, arch), full);
        }
        assert_eq!(
            band_kernel_speed(None, KernelArch::BlackwellUltra),
            KernelSpeed::NEWEST
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
        assert!((length_speedup(REFERENCE_TOKENS, 1.0, HOPPER_LENGTHS) - 1.0).abs() < 1e-12);
        // 2k causal: (2048 / 2438) / (4096 / 4486) = 0.84003 / 0.91306 = 0.9200.
        assert!((length_speedup(2048.0, 1.0, HOPPER_LENGTHS) - 0.9200).abs() < 0.001);
    }

    #[test]
    fn blackwell_kernels_saturate_later_and_lose_little_to_the_mask() {
        let b = BLACKWELL_LENGTHS;
        // 8k causal: (8192 / 9547) / (4096 / 5451) = 0.85807 / 0.75142 = 1.1419.
        let eight = length_speedup(8192.0, 1.0, b);
        assert!((eight - 1.1419).abs() < 0.001, "{eight}");
        // Ring CP2 at 8k: the diagonal 4k causal at 1.01540 x 0.75142 = 0.76299, the rest 2k
        // unmasked at 2048 / 2613 = 0.78377; time 0.5 / 0.76299 + 0.5 / 0.78377 = 1.29326;
        // speedup 1 / (1.29326 x 0.76299) = 1.0134: slower than CP1 at the same length.
        let ring = length_speedup(8192.0, 2.0, b);
        assert!((ring - 1.0134).abs() < 0.001, "{ring}");
        assert!(ring < eight);
        // On Hopper the same ring is faster than CP1 (its unmasked kernel saturates early).
        let h = HOPPER_LENGTHS;
        assert!(length_speedup(8192.0, 2.0, h) > length_speedup(8192.0, 1.0, h));
        // The published combined rates, 2k-16k, against the fitted peaks (unmasked 1,558,
        // causal 1,582 = 1,558 x the share): causal within 3.1%, unmasked within 4%.
        for (tokens, causal_rate, unmasked_rate) in [
            (2048.0, 936.7, 1197.8),
            (4096.0, 1211.9, 1412.9),
            (8192.0, 1393.2, 1492.4),
            (16384.0, 1418.2, 1453.0),
        ] {
            let causal = 1558.0 * b.causal(tokens);
            let unmasked = 1558.0 * b.unmasked(tokens);
            assert!(
                (causal / causal_rate - 1.0).abs() < 0.031,
                "{tokens}: {causal}"
            );
            assert!(
                (unmasked / unmasked_rate - 1.0).abs() < 0.04,
                "{tokens}: {unmasked}"
            );
        }
        assert_eq!(length_curve(KernelArch::Blackwell), b);
        assert_eq!(length_curve(KernelArch::Other), h);
    }

    #[test]
    fn context_parallel_moves_work_to_unmasked_blocks() {
        // 1M tokens over CP 32: 32,768 local tokens. The diagonal (1/32) at
        // 0.90645 x 32768 / 33158 = 0.89579, the rest over 16,384 keys at 16384 / 16494 =
        // 0.99333; time 0.03125 / 0.89579 + 0.96875 / 0.99333 = 1.01014; the reference
        // 0.90645 x 4096 / 4486 = 0.82765; speedup 1 / (1.01014 x 0.82765) = 1.1961.
        let s = length_speedup(1_048_576.0, 32.0, HOPPER_LENGTHS);
        assert!((s - 1.1961).abs() < 0.001, "{s}");
        // Without CP the curve only saturates: longer never slower, at most 1 / 0.91306.
        let mut last = 0.0;
        for k in 9..21 {
            let v = length_speedup(f64::from(1u32 << k), 1.0, HOPPER_LENGTHS);
            assert!(v >= last && v < 1.0 / 0.913);
            last = v;
        }
    }
}
