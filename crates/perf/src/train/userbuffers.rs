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
//!
//! A framework may hand Transformer Engine its own per-GEMM settings instead
//! ([`UserbuffersConfig`]): Megatron-Bridge's Llama 3 70B and Llama 3.1 405B presets name one
//! of [`BRIDGE_CONFIGS`] by chip and precision, NeMo 2.2.0's performance scripts one of
//! [`NEMO_2_2_CONFIGS`] (the same names, some with other settings). They give the bulk
//! overlaps 2-32 SMs instead of 16, run some projection and FC2 forwards as ring exchanges
//! instead of pipelines, and some ring exchanges two chunks a GEMM. A bulk overlap without the
//! SM margin (`set_sm_margin=False`, which every such config sets) still takes its SMs from the
//! GEMM beside it while the collective runs; it is charged as with the margin, an upper bound
//! where the collective is the shorter.

use super::strategy::Strategy;
use crate::arch::Arch;

/// SMs Transformer Engine gives a `pipeline` or `bulk` overlap's communication kernels, and
/// takes from the GEMM beside it (`num_sm = 16`, `set_sm_margin`).
pub const COMMUNICATION_SMS: f64 = 16.0;

/// Chunks a `pipeline` reduce-scatter splits its GEMM into (`num_splits = 4`, in Transformer
/// Engine's defaults and every Megatron-Bridge config).
pub const PIPELINE_SPLITS: f64 = 4.0;

/// How one GEMM runs under its TP communication.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// One GEMM per arriving chunk: TP GEMMs of a TP-th of the rows.
    RingExchange,
    /// One GEMM per two arriving chunks (`aggregate=True`): TP / 2 GEMMs of 2 / TP of the rows.
    AggregatedRingExchange,
    /// `PIPELINE_SPLITS` GEMMs of that share of the rows, on the SMs left over.
    Pipeline,
    /// The whole GEMM on the SMs left over.
    Bulk,
    /// The whole GEMM on every SM.
    External,
}

/// One GEMM's overlap: its method and the SMs its communication takes from it (read by
/// `pipeline` and `bulk`; a ring exchange's copies run on the copy engines).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GemmOverlap {
    pub method: Method,
    pub communication_sms: f64,
}

const fn gemm(method: Method, communication_sms: f64) -> GemmOverlap {
    GemmOverlap {
        method,
        communication_sms,
    }
}

const RING: GemmOverlap = gemm(Method::RingExchange, 1.0);
const AGGREGATED_RING: GemmOverlap = gemm(Method::AggregatedRingExchange, 1.0);
const EXTERNAL: GemmOverlap = gemm(Method::External, 0.0);

/// The three GEMMs of one tensor-parallel linear layer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Linear {
    pub forward: GemmOverlap,
    pub data_gradient: GemmOverlap,
    pub weight_gradient: GemmOverlap,
}

/// QKV and FC1 under Transformer Engine's defaults: all-gather the sequence-parallel input
/// forward, reduce-scatter its gradient.
pub const COLUMN_PARALLEL: Linear = column_parallel(RING, COMMUNICATION_SMS, COMMUNICATION_SMS);

/// The attention projection and FC2 under Transformer Engine's defaults: reduce-scatter the
/// output forward, all-gather its gradient.
pub const ROW_PARALLEL: Linear = row_parallel(pipeline(COMMUNICATION_SMS), RING);

/// The four TP linears of a transformer layer, each with its GEMMs' overlaps.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LayerOverlap {
    pub qkv: Linear,
    pub projection: Linear,
    pub fc1: Linear,
    pub fc2: Linear,
}

/// A named set of per-GEMM userbuffers settings: Transformer Engine's defaults, or one a
/// framework's preset hands it. Serialised as its name.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UserbuffersConfig {
    pub name: &'static str,
    pub layer: LayerOverlap,
}

impl serde::Serialize for UserbuffersConfig {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name)
    }
}

impl UserbuffersConfig {
    /// Whether this is Transformer Engine's defaults (what a layout gets unless a recipe says
    /// otherwise).
    pub fn is_te_defaults(&self) -> bool {
        *self == TE_DEFAULTS
    }

    /// A config by name: [`TE_DEFAULTS`] or one of [`BRIDGE_CONFIGS`] and [`NEMO_2_2_CONFIGS`]
    /// (each prefixed with its framework: `megatron-bridge:`, `nemo-2.2.0:`).
    pub fn named(name: &str) -> Option<UserbuffersConfig> {
        Self::all().find(|config| config.name == name)
    }

    /// Every name [`UserbuffersConfig::named`] knows.
    pub fn names() -> impl Iterator<Item = &'static str> {
        Self::all().map(|config| config.name)
    }

    fn all() -> impl Iterator<Item = UserbuffersConfig> {
        std::iter::once(TE_DEFAULTS)
            .chain(BRIDGE_CONFIGS)
            .chain(NEMO_2_2_CONFIGS)
    }
}

/// Transformer Engine's defaults (the table above).
pub const TE_DEFAULTS: UserbuffersConfig = UserbuffersConfig {
    name: "te_defaults",
    layer: LayerOverlap {
        qkv: COLUMN_PARALLEL,
        projection: ROW_PARALLEL,
        fc1: COLUMN_PARALLEL,
        fc2: ROW_PARALLEL,
    },
};

/// A framework's named config: the bulk overlaps' SMs (QKV data and weight gradient, FC1 data
/// and weight gradient; every one `set_sm_margin=False`), whether the all-gather-in ring
/// exchanges (QKV and FC1 forward, projection and FC2 data gradient) aggregate two chunks a
/// GEMM, and the projection's and FC2's forward.
const fn config(
    name: &'static str,
    bulk_sms: [f64; 4],
    aggregate: bool,
    projection_forward: GemmOverlap,
    fc2_forward: GemmOverlap,
) -> UserbuffersConfig {
    let ring = if aggregate { AGGREGATED_RING } else { RING };
    UserbuffersConfig {
        name,
        layer: LayerOverlap {
            qkv: column_parallel(ring, bulk_sms[0], bulk_sms[1]),
            projection: row_parallel(projection_forward, ring),
            fc1: column_parallel(ring, bulk_sms[2], bulk_sms[3]),
            fc2: row_parallel(fc2_forward, ring),
        },
    }
}

/// A 4-split pipeline on `sms` SMs (`PipelineOverlapCfg`).
const fn pipeline(sms: f64) -> GemmOverlap {
    gemm(Method::Pipeline, sms)
}

/// A column-parallel linear: its forward's ring exchange, its gradients' bulk overlaps' SMs.
const fn column_parallel(
    forward: GemmOverlap,
    data_gradient_sms: f64,
    weight_gradient_sms: f64,
) -> Linear {
    Linear {
        forward,
        data_gradient: gemm(Method::Bulk, data_gradient_sms),
        weight_gradient: gemm(Method::Bulk, weight_gradient_sms),
    }
}

/// A row-parallel linear: its forward, its data gradient's ring exchange.
const fn row_parallel(forward: GemmOverlap, data_gradient: GemmOverlap) -> Linear {
    Linear {
        forward,
        data_gradient,
        weight_gradient: EXTERNAL,
    }
}

/// Megatron-Bridge's named userbuffers configs (src/megatron/bridge/training/comm_overlap.py,
/// the same at v0.2.0 (25.11) and on the 26.04 release branch @fd5c4737), which its Llama 3
/// 70B and Llama 3.1 405B performance presets hand Transformer Engine by chip and precision
/// (`bf16`, else the FP8 one: scripts/performance/configs/llama/llama3_llm_pretrain.py and
/// llama31_llm_pretrain.py @fd5c4737, configs/llama3 and llama31 at v0.2.0). Every ring
/// exchange `aggregate=False`; every projection and FC2 weight gradient external (TE's
/// default). Bulk SMs in the order QKV data, QKV weight, FC1 data, FC1 weight gradient.
pub const BRIDGE_CONFIGS: [UserbuffersConfig; 8] = [
    // Projection and FC2 forward: pipelines on 24 and 16 SMs (4 splits each).
    config(
        "megatron-bridge:userbuffers_bf16_h100_h8192_tp4_mbs1_seqlen8192",
        [4.0, 24.0, 2.0, 4.0],
        false,
        pipeline(24.0),
        pipeline(16.0),
    ),
    // The same bulk overlaps; projection and FC2 forward ring exchanges (num_sm 1).
    config(
        "megatron-bridge:userbuffers_fp8_h100_h8192_tp4_mbs1_seqlen8192",
        [4.0, 24.0, 2.0, 4.0],
        false,
        RING,
        RING,
    ),
    config(
        "megatron-bridge:userbuffers_bf16_b200_h8192_tp2_mbs1_seqlen8192",
        [16.0, 24.0, 2.0, 4.0],
        false,
        pipeline(32.0),
        pipeline(16.0),
    ),
    config(
        "megatron-bridge:userbuffers_fp8_b200_h8192_tp2_mbs1_seqlen8192",
        [4.0, 24.0, 2.0, 4.0],
        false,
        RING,
        RING,
    ),
    config(
        "megatron-bridge:userbuffers_bf16_h100_h16384_tp8_cp2_mbs1_seqlen8192",
        [2.0, 24.0, 2.0, 2.0],
        false,
        pipeline(24.0),
        pipeline(8.0),
    ),
    config(
        "megatron-bridge:userbuffers_fp8_h100_h16384_tp8_cp2_mbs1_seqlen8192",
        [2.0, 24.0, 2.0, 2.0],
        false,
        RING,
        RING,
    ),
    config(
        "megatron-bridge:userbuffers_bf16_b200_h16384_tp4_cp2_mbs1_seqlen8192",
        [8.0, 24.0, 2.0, 2.0],
        false,
        pipeline(32.0),
        pipeline(8.0),
    ),
    config(
        "megatron-bridge:userbuffers_fp8_b200_h16384_tp4_cp2_mbs1_seqlen8192",
        [8.0, 32.0, 2.0, 8.0],
        false,
        RING,
        RING,
    ),
];

/// NeMo 2.2.0's configs of the same names where they differ, and of the other models its 25.02
/// performance scripts ran (nemo/collections/llm/recipes/tp_overlap_configs/userbuffers.py at
/// v2.2.0, the 25.02 container's code, which scripts/llm/performance/pretrain_llama3_70b.py,
/// pretrain_llama31_405b.py and pretrain_gpt3_175b.py hand Transformer Engine by chip and
/// precision and pretrain_nemotron4_340b.py on B200 whatever the precision). The names are
/// Megatron-Bridge's later ones, some with other settings: NeMo's H100 FP8 configs run the
/// projection's forward as a pipeline (`fp8_buf=True`, an 8-bit reduce-scatter), its 405B
/// configs aggregate the ring exchanges.
pub const NEMO_2_2_CONFIGS: [UserbuffersConfig; 5] = [
    // As Megatron-Bridge's.
    config(
        "nemo-2.2.0:userbuffers_fp8_b200_h8192_tp2_mbs1_seqlen8192",
        [4.0, 24.0, 2.0, 4.0],
        false,
        RING,
        RING,
    ),
    // Megatron-Bridge's bulk overlaps, with the ring exchanges aggregated.
    config(
        "nemo-2.2.0:userbuffers_fp8_b200_h16384_tp4_cp2_mbs1_seqlen8192",
        [8.0, 32.0, 2.0, 8.0],
        true,
        RING,
        RING,
    ),
    config(
        "nemo-2.2.0:userbuffers_fp8_b200_h12288_tp4_mbs1_seqlen2048",
        [4.0, 16.0, 2.0, 8.0],
        false,
        RING,
        RING,
    ),
    // Projection forward a pipeline on 24 SMs, FC2 forward a ring exchange.
    config(
        "nemo-2.2.0:userbuffers_fp8_h100_h12288_tp4_mbs1_seqlen2048",
        [4.0, 4.0, 2.0, 4.0],
        false,
        pipeline(24.0),
        RING,
    ),
    // Projection forward a ring exchange, FC2 forward a pipeline on 24 SMs.
    config(
        "nemo-2.2.0:userbuffers_bf16_b200_h18432_tp8_mbs1_seqlen4096",
        [8.0, 32.0, 2.0, 8.0],
        false,
        RING,
        pipeline(24.0),
    ),
];

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
pub fn extra_s(
    overlap: GemmOverlap,
    rows: f64,
    tp: f64,
    sms: f64,
    gemm_s: impl Fn(f64) -> f64,
) -> f64 {
    let whole = gemm_s(rows);
    let on_the_rest = 1.0 / (1.0 - (overlap.communication_sms / sms).min(0.5));
    let run = match overlap.method {
        Method::RingExchange => tp * gemm_s(rows / tp),
        Method::AggregatedRingExchange => {
            let chunks = (tp / 2.0).max(1.0);
            chunks * gemm_s(rows / chunks)
        }
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
    let extra = |overlap| extra_s(overlap, rows, tp, sms, &gemm_s);
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
        let ring = extra_s(RING, 8192.0, 8.0, 128.0, gemm);
        assert!((ring - 700.0).abs() < 1e-9, "{ring}");
        // Pipeline: 4 x (2,048 + 100) x 8 / 7 = 9,817.14, extra 1,525.14.
        let pipe = extra_s(ROW_PARALLEL.forward, 8192.0, 8.0, 128.0, gemm);
        assert!(
            (pipe - (4.0 * 2148.0 * 8.0 / 7.0 - 8292.0)).abs() < 1e-9,
            "{pipe}"
        );
        // Bulk: 8,292 x 8 / 7 - 8,292 = 1,184.57.
        let bulk = extra_s(COLUMN_PARALLEL.data_gradient, 8192.0, 8.0, 128.0, gemm);
        assert!((bulk - 8292.0 / 7.0).abs() < 1e-9, "{bulk}");
        assert_eq!(extra_s(EXTERNAL, 8192.0, 8.0, 128.0, gemm), 0.0);
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
    fn a_framework_config_pays_its_own_sms_and_methods() {
        let config = UserbuffersConfig::named(
            "megatron-bridge:userbuffers_fp8_h100_h8192_tp4_mbs1_seqlen8192",
        )
        .unwrap();
        let layer = config.layer;
        // QKV's weight gradient gives its bulk all-gather 24 SMs of 132 (TE's default: 16):
        // 8,292 x 132 / 108 - 8,292 = 1,842.67.
        let qkv_wgrad = extra_s(layer.qkv.weight_gradient, 8192.0, 4.0, 132.0, gemm);
        assert!(
            (qkv_wgrad - 8292.0 * 24.0 / 108.0).abs() < 1e-9,
            "{qkv_wgrad}"
        );
        // FC1's data gradient 2 SMs: 8,292 x 2 / 130 = 127.57.
        let fc1_dgrad = extra_s(layer.fc1.data_gradient, 8192.0, 4.0, 132.0, gemm);
        assert!(
            (fc1_dgrad - 8292.0 * 2.0 / 130.0).abs() < 1e-9,
            "{fc1_dgrad}"
        );
        // FP8 runs the projection's and FC2's forward as a ring exchange: 4 x (2,048 + 100) -
        // 8,292 = 300, where TE's pipeline pays 4 x 2,148 x 132 / 116 - 8,292 = 1,485.10.
        let ring = extra_s(layer.fc2.forward, 8192.0, 4.0, 132.0, gemm);
        assert!((ring - 300.0).abs() < 1e-9, "{ring}");
        let pipeline = extra_s(TE_DEFAULTS.layer.fc2.forward, 8192.0, 4.0, 132.0, gemm);
        assert!((pipeline - (4.0 * 2148.0 * 132.0 / 116.0 - 8292.0)).abs() < 1e-9);
        // The BF16 config keeps the pipeline, on its own SMs (projection 24).
        let bf16 = UserbuffersConfig::named(
            "megatron-bridge:userbuffers_bf16_h100_h8192_tp4_mbs1_seqlen8192",
        )
        .unwrap();
        assert_eq!(
            bf16.layer.projection.forward,
            GemmOverlap {
                method: Method::Pipeline,
                communication_sms: 24.0
            }
        );
        // Every name resolves to itself; TE's defaults are a name too; nothing else is.
        assert_eq!(
            UserbuffersConfig::names().count(),
            1 + BRIDGE_CONFIGS.len() + NEMO_2_2_CONFIGS.len()
        );
        for name in UserbuffersConfig::names() {
            assert_eq!(UserbuffersConfig::named(name).unwrap().name, name);
        }
        assert!(UserbuffersConfig::named("te_defaults")
            .unwrap()
            .is_te_defaults());
        assert!(!config.is_te_defaults());
        assert_eq!(UserbuffersConfig::named("userbuffers_fp8_h100"), None);
    }

    #[test]
    fn an_aggregated_ring_exchange_runs_half_as_many_chunks() {
        // TP 8, two chunks a GEMM: 4 x (2,048 + 100) - 8,292 = 300, against 700 unaggregated.
        let aggregated = extra_s(AGGREGATED_RING, 8192.0, 8.0, 128.0, gemm);
        assert!((aggregated - 300.0).abs() < 1e-9, "{aggregated}");
        // At TP 2 there is one GEMM of every row: nothing extra.
        assert!(extra_s(AGGREGATED_RING, 8192.0, 2.0, 128.0, gemm).abs() < 1e-9);
        // NeMo 2.2.0's 405B B200 config aggregates; Megatron-Bridge's of the same name does not.
        let nemo = UserbuffersConfig::named(
            "nemo-2.2.0:userbuffers_fp8_b200_h16384_tp4_cp2_mbs1_seqlen8192",
        )
        .unwrap();
        let bridge = UserbuffersConfig::named(
            "megatron-bridge:userbuffers_fp8_b200_h16384_tp4_cp2_mbs1_seqlen8192",
        )
        .unwrap();
        assert_eq!(
            nemo.layer.qkv.forward.method,
            Method::AggregatedRingExchange
        );
        assert_eq!(bridge.layer.qkv.forward.method, Method::RingExchange);
        assert_eq!(
            nemo.layer.fc1.weight_gradient,
            bridge.layer.fc1.weight_gradient
        );
    }

    #[test]
    fn a_gemm_that_does_not_lose_efficiency_when_split_pays_only_the_margin() {
        // A GEMM linear in its rows: chunks cost nothing, so the ring exchange is free.
        let linear = |rows: f64| 2.0 * rows;
        assert!(extra_s(RING, 4096.0, 4.0, 132.0, linear).abs() < 1e-9);
        let bulk = extra_s(COLUMN_PARALLEL.weight_gradient, 4096.0, 4.0, 132.0, linear);
        assert!((bulk - 8192.0 * 16.0 / 116.0).abs() < 1e-9, "{bulk}");
    }
}
