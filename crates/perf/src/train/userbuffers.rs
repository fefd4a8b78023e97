//! Tensor-parallel communication under the GEMMs, as Transformer Engine's userbuffers run it
//! (Megatron-Core's `--tp-comm-overlap`, NeMo's and Megatron-Bridge's `tp_comm_overlap`).
//!
//! Hiding a TP collective is not free, and what it costs is how the GEMM is run, not a share
//! of the collective's time. Transformer Engine's defaults (`initialize_ub` in
//! transformer_engine/pytorch/module/base.py, the same from v1.8 to v2.18) give each GEMM of a
//! tensor-parallel block one of four methods:
//!
//! | GEMM | method | what the GEMM pays |
//! |---|---|---|
//! | QKV and FC1 forward, projection and FC2 data gradient (all-gather in) | `ring_exchange`, `num_splits = tp_size`, 1 SM, no SM margin | run as TP GEMMs of a TP-th of the rows each, one per arriving chunk (copy engines move the data) |
//! | projection and FC2 forward (reduce-scatter out) | `pipeline`, `num_splits = 4`, 16 SMs, SM margin | run as 4 GEMMs of a quarter of the rows on the SMs the communication leaves |
//! | QKV and FC1 data and weight gradients | `bulk`, 16 SMs, SM margin | run whole on the SMs the communication leaves |
//! | projection and FC2 weight gradients | `external` | run whole (their exchange is the data gradient's) |
//!
//! The communication itself then costs nothing more: the ring exchange's copies run on the
//! copy engines, the other methods' kernels on the SMs the margin set aside.

use super::strategy::Strategy;
use crate::arch::Arch;

/// SMs Transformer Engine gives a `pipeline` or `bulk` overlap's communication kernels, and
/// takes from the GEMM beside it (`num_sm = 16`, `set_sm_margin`).
pub const COMMUNICATION_SMS: f64 = 16.0;

/// Chunks a `pipeline` reduce-scatter splits its GEMM into (`num_splits = 4`).
pub const PIPELINE_SPLITS: f64 = 4.0;

/// How one GEMM runs under its TP communication.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// One GEMM per arriving chunk: TP GEMMs of a TP-th of the rows.
    RingExchange,
    /// `PIPELINE_SPLITS` GEMMs of that share of the rows, on the SMs left over.
    Pipeline,
    /// The whole GEMM on the SMs left over.
    Bulk,
    /// The whole GEMM on every SM.
    External,
}

/// The three GEMMs of one tensor-parallel linear layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Linear {
    pub forward: Method,
    pub data_gradient: Method,
    pub weight_gradient: Method,
}

/// QKV and FC1: all-gather the sequence-parallel input forward, reduce-scatter its gradient.
pub const COLUMN_PARALLEL: Linear = Linear {
    forward: Method::RingExchange,
    data_gradient: Method::Bulk,
    weight_gradient: Method::Bulk,
};

/// The attention projection and FC2: reduce-scatter the output forward, all-gather its gradient.
pub const ROW_PARALLEL: Linear = Linear {
    forward: Method::Pipeline,
    data_gradient: Method::RingExchange,
    weight_gradient: Method::External,
};

/// Whether userbuffers run layout `s`'s TP communication for `arch`: the framework overlaps
/// it (which Megatron allows only with TP > 1 and sequence parallelism) and the attention is
/// not MLA (whose low-rank projections are not one column- and one row-parallel pair; left to
/// the fitted overlap share).
pub fn applies(s: &Strategy, arch: &Arch) -> bool {
    s.tp_comm_overlap && s.tp > 1 && s.sequence_parallel && arch.mla.is_none()
}

/// Seconds one GEMM takes beyond running it whole on every SM: `rows` the GEMM's rows (the
/// microbatch's tokens), `tp` the tensor-parallel ranks, `sms` the accelerator's SMs and
/// `gemm_s(rows)` the GEMM's time at that many rows on every SM.
pub fn extra_s(method: Method, rows: f64, tp: f64, sms: f64, gemm_s: impl Fn(f64) -> f64) -> f64 {
    let whole = gemm_s(rows);
    let on_the_rest = 1.0 / (1.0 - (COMMUNICATION_SMS / sms).min(0.5));
    let run = match method {
        Method::RingExchange => tp * gemm_s(rows / tp),
        Method::Pipeline => PIPELINE_SPLITS * gemm_s(rows / PIPELINE_SPLITS) * on_the_rest,
        Method::Bulk => whole * on_the_rest,
        Method::External => whole,
    };
    (run - whole).max(0.0)
}

/// Seconds a linear layer's GEMMs take beyond running whole on every SM, forward and backward
/// (the data gradient has the forward GEMM's shape with two dimensions swapped, which the
/// GEMM model does not tell apart).
pub fn linear_extra_s(
    linear: Linear,
    rows: f64,
    tp: f64,
    sms: f64,
    gemm_s: impl Fn(f64) -> f64,
) -> (f64, f64) {
    let extra = |method| extra_s(method, rows, tp, sms, &gemm_s);
    (
        extra(linear.forward),
        extra(linear.data_gradient) + extra(linear.weight_gradient),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A GEMM whose time is its rows plus a fixed 100 (a small GEMM runs less efficiently).
    fn gemm(rows: f64) -> f64 {
        rows + 100.0
    }

    #[test]
    fn each_method_pays_what_its_chunks_and_margin_cost() {
        // 8,192 rows, TP 8, 128 SMs (16 of them to the communication: the rest run 8 / 7 as
        // long). Whole: 8,292.
        // Ring exchange: 8 x (1,024 + 100) = 8,992, extra 700.
        let ring = extra_s(Method::RingExchange, 8192.0, 8.0, 128.0, gemm);
        assert!((ring - 700.0).abs() < 1e-9, "{ring}");
        // Pipeline: 4 x (2,048 + 100) x 8 / 7 = 9,817.14, extra 1,525.14.
        let pipe = extra_s(Method::Pipeline, 8192.0, 8.0, 128.0, gemm);
        assert!(
            (pipe - (4.0 * 2148.0 * 8.0 / 7.0 - 8292.0)).abs() < 1e-9,
            "{pipe}"
        );
        // Bulk: 8,292 x 8 / 7 - 8,292 = 1,184.57.
        let bulk = extra_s(Method::Bulk, 8192.0, 8.0, 128.0, gemm);
        assert!((bulk - 8292.0 / 7.0).abs() < 1e-9, "{bulk}");
        assert_eq!(extra_s(Method::External, 8192.0, 8.0, 128.0, gemm), 0.0);
    }

    #[test]
    fn a_layer_pays_forward_and_both_gradients() {
        // Column-parallel: forward ring 700; backward two bulk GEMMs, 2 x 1,184.57.
        let (forward, backward) = linear_extra_s(COLUMN_PARALLEL, 8192.0, 8.0, 128.0, gemm);
        assert!((forward - 700.0).abs() < 1e-9);
        assert!((backward - 2.0 * 8292.0 / 7.0).abs() < 1e-9);
        // Row-parallel: forward pipeline; backward a ring data gradient and a free weight one.
        let (_, backward) = linear_extra_s(ROW_PARALLEL, 8192.0, 8.0, 128.0, gemm);
        assert!((backward - 700.0).abs() < 1e-9);
    }

    #[test]
    fn a_gemm_that_does_not_lose_efficiency_when_split_pays_only_the_margin() {
        // A GEMM linear in its rows: chunks cost nothing, so the ring exchange is free.
        let linear = |rows: f64| 2.0 * rows;
        assert!(extra_s(Method::RingExchange, 4096.0, 4.0, 132.0, linear).abs() < 1e-9);
        let bulk = extra_s(Method::Bulk, 4096.0, 4.0, 132.0, linear);
        assert!((bulk - 8192.0 * 16.0 / 116.0).abs() < 1e-9, "{bulk}");
    }
}
