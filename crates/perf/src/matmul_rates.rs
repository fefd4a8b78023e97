//! Per-precision matmul rates of one accelerator, as the catalog gives them (measured, or
//! derived by a stated rule), for the training and serving models.

use serde::Serialize;

/// One precision's dense matmul rates on one accelerator.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MatmulRate {
    /// Dense (no 2:4 sparsity) peak, FLOP/s.
    pub peak_flops: f64,
    /// Achievable matmul FLOP/s (the catalog's ceiling: a published measurement, or derived by
    /// the catalog's stated rule); `None` when the catalog has neither.
    pub ceiling_flops: Option<f64>,
    /// Whether the ceiling is a measurement of this chip at this precision (false: derived or
    /// missing).
    pub measured: bool,
}

impl MatmulRate {
    /// Ceiling / peak, when the ceiling is known.
    pub fn fraction(&self) -> Option<f64> {
        self.ceiling_flops.map(|c| c / self.peak_flops)
    }
}

/// Matmul rates per catalog precision. `None`: the chip lacks the precision, or its peak is not
/// public. FP8 is per-tensor scaled; `fp8_blockwise` is DeepSeek-V3's blockwise-scaled recipe
/// (the per-tensor figures where the catalog has no blockwise one).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct MatmulRates {
    /// BF16.
    pub bf16: Option<MatmulRate>,
    /// FP8, per-tensor scaling (delayed or current).
    pub fp8: Option<MatmulRate>,
    /// FP8, blockwise scaling (1x128 / 128x128 blocks).
    pub fp8_blockwise: Option<MatmulRate>,
    /// OCP MXFP8.
    pub mxfp8: Option<MatmulRate>,
    /// NVIDIA NVFP4.
    pub nvfp4: Option<MatmulRate>,
    /// OCP MXFP4.
    pub mxfp4: Option<MatmulRate>,
}
