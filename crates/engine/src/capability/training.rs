//! The largest training run on one system type at a given accelerator count, and the per-system
//! lookup table that `plan` and `risk` both read it from.
//!
//! At a scale of a million accelerators the layout search cannot enumerate the whole job (it
//! fails to find layouts at 1.5 M) and a whole-job restart on every failure leaves almost no
//! goodput. So the run is built as data-parallel replicas of a tractable model-parallel
//! block: the training search (`engine::train::search_layouts`) runs on a block-sized job with
//! the full job's batch per accelerator, the best layout's block (tp x pp x cp) is replicated
//! as far as the accelerators and the batch cap allow, and goodput is the better of two
//! reliability models over the replicated job (see [`goodput`]). Where the models cannot give
//! a number the answer is unknown with the reason.

use catalog::Catalog;
use perf::{Arch, Hardware, Precision, SearchOptions, Strategy, Workload};
use serde::Serialize;

use super::CapabilityOptions;

/// DeepSeek LLM's fitted optimal batch size, tokens: B = 0.2920 x C^0.3271 for a compute budget
/// C in FLOPs (DeepSeek-AI 2024, arXiv 2401.02954, section 3.1). The cap on a run's global
/// batch: beyond it more data-parallel replicas cost tokens, not time.
pub fn batch_cap_tokens(compute_flop: f64) -> f64 {
    0.2920 * compute_flop.powf(0.3271)
}

/// Sequence length of the reference run (Llama 3's pre-training length).
pub const SEQ_LEN: f64 = 8192.0;

/// Aspect ratio of the reference dense shape: width / layers (GPT-3 175B 96 layers of 12,288;
/// Llama 3 405B 126 of 16,384).
const WIDTH_PER_LAYER: f64 = 128.0;

/// A Llama-style dense architecture of about `params` parameters: 128-wide heads, 8 key/value
/// heads, a SwiGLU MLP 3.5 x the width, width / layers = 128, Llama 3's vocabulary. The shape
/// only sets the layout and its efficiency; the parameter count reported is the
/// compute-optimal one.
pub fn dense_shape(params: f64) -> Arch {
    let per_layer = |h: f64| 2.0 * h * h + 2.0 * h * 1024.0 + 3.0 * h * 3.5 * h;
    let embeddings = |h: f64| 2.0 * 128_256.0 * h;
    // Solve params = L(h) per_layer(h) + embeddings(h) by bisection on h.
    let total = |h: f64| (h / WIDTH_PER_LAYER).max(2.0) * per_layer(h) + embeddings(h);
    let (mut lo, mut hi) = (256.0f64, 1.0e6f64);
    for _ in 0..80 {
        let mid = (lo * hi).sqrt();
        if total(mid) < params {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    // Heads in multiples of 8 so tensor parallelism up to 8 divides them.
    let hidden = ((lo / 1024.0).round().max(1.0)) * 1024.0;
    let layers = (hidden / WIDTH_PER_LAYER).round().max(2.0);
    Arch {
        layers,
        hidden,
        ffn_hidden: (3.5 * hidden / 256.0).round() * 256.0,
        heads: hidden / 128.0,
        kv_heads: 8.0,
        head_dim: 128.0,
        vocab: 128_256.0,
        gated_mlp: true,
        tied_embeddings: false,
        ..Arch::gpt(1, 1, 1, 1)
    }
}

/// The MoE of the stated sparsity with about `active` active parameters: the dense shape of
/// `active` with each MLP replaced by `experts` routed experts of which `top_k` are active, each
/// 1 / top_k of the dense MLP (so a token passes through as many MLP weights as in the dense
/// shape).
pub fn moe_shape(active: f64, experts: u32, top_k: u32) -> Arch {
    let dense = dense_shape(active);
    let expert_ffn = (dense.ffn_hidden / f64::from(top_k) / 128.0)
        .round()
        .max(1.0)
        * 128.0;
    Arch {
        experts: f64::from(experts),
        top_k: f64::from(top_k),
        moe_ffn_hidden: expert_ffn,
        shared_experts: 0.0,
        dense_layers: 0.0,
        ..dense
    }
}

/// A layout at full scale.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Layout {
    /// Tensor parallel.
    pub tp: u32,
    /// Pipeline parallel.
    pub pp: u32,
    /// Context parallel.
    pub cp: u32,
    /// Expert parallel (inside data parallel).
    pub ep: u32,
    /// Data-parallel replicas at full scale.
    pub dp: u64,
    /// Sequences per microbatch.
    pub microbatch: u32,
    /// Activation recomputation.
    pub recompute: String,
    /// ZeRO stage.
    pub zero: u8,
    /// Accelerators the search ran on (the block-sized job whose layout is replicated).
    pub searched_gpus: u64,
}

/// One model (dense or MoE) trained at one scale.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RunEstimate {
    /// All parameters of the compute-optimal model.
    pub params: f64,
    /// Parameters a token passes through (= `params` when dense).
    pub active_params: f64,
    /// Training tokens (tokens per active parameter x active parameters).
    pub tokens: f64,
    /// Training compute, FLOPs (6 x active parameters x tokens).
    pub compute_flop: f64,
    /// Model FLOPs utilisation of the layout, from the training model.
    pub mfu: f64,
    /// Fraction of wall time that advances training (failures, checkpoints, restarts).
    pub goodput: f64,
    /// Which failure handling gave that goodput.
    pub goodput_model: String,
    /// Accelerators training (the rest of the site's training share waits: more would lose
    /// more to failures or exceed the batch cap than it adds).
    pub gpus_used: f64,
    /// Global batch, tokens.
    pub global_batch_tokens: f64,
    /// The batch cap of the fitted law at this compute, tokens.
    pub batch_cap_tokens: f64,
    /// The layout.
    pub layout: Layout,
}

/// A training answer: a run, or why there is none.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TrainingAnswer {
    /// The run, when the models can compute it.
    pub run: Option<RunEstimate>,
    /// Why not.
    pub unknown_reason: Option<String>,
}

impl TrainingAnswer {
    fn unknown(reason: impl Into<String>) -> TrainingAnswer {
        TrainingAnswer {
            run: None,
            unknown_reason: Some(reason.into()),
        }
    }
}

/// What a system type is, for training.
#[derive(Debug, Clone)]
pub struct TrainingSystem {
    /// System id.
    pub system: String,
    /// Its hardware, or why it cannot be built.
    pub hardware: Result<Hardware, String>,
    /// Accelerators per system.
    pub accelerators_per_system: u32,
    /// Accelerators per scale-up domain.
    pub scale_up_domain: u32,
    /// The training framework's facts.
    pub framework: perf::Framework,
    /// The layout space searched ([`capability_pruning`] unless a caller asks for the whole
    /// space, as the tolerance test and benchmarks do).
    pub pruning: perf::Pruning,
}

/// Whether capability searches the whole layout space instead of [`capability_pruning`]'s, for
/// every table built after it is set: for benchmarks that time both in one run. Plans and risk
/// never set it.
pub fn search_whole_space_for_benchmarks(whole: bool) {
    WHOLE_SPACE.store(whole, std::sync::atomic::Ordering::Relaxed);
}

static WHOLE_SPACE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// The layout space the capability tables search: the framework's default ZeRO stage
/// (Megatron's distributed optimizer, ZeRO-1) and ZeRO-3 (FSDP, which without a pipeline
/// beats it at some scales: Vera Rubin's MoE at 262,144 moved 1.2% without it), every stage
/// only where nothing fits at those, sequence
/// parallelism whenever tensor parallelism is on, the least recomputation that fits, and a
/// split skipped when its least-memory layout does not fit. Tensor parallelism stays inside
/// the scale-up (NVLink) domain, and context, pipeline and expert parallelism range as in the
/// full search (a cap on context parallelism at 8 moved the largest MoE runs by up to 45%: at
/// a million accelerators the best layouts shard the sequence 16 or 32 ways). How far its answers move from the full
/// search's is pinned by a test (`the_pruned_search_stays_within_its_tolerance`).
pub fn capability_pruning(framework: &perf::Framework) -> perf::Pruning {
    perf::Pruning {
        zero: Some(perf::ZeroStages::of(&[framework.default_zero, 3])),
        sequence_parallel_with_tp: true,
        least_recompute: true,
        frugal_first: true,
        ..perf::Pruning::none()
    }
}

/// Goodput of a job of `gpus` made of replicas of `block` accelerators, and which model gave
/// it. Two failure-handling models over the reliability crate's sourced rates, detection,
/// restart, checkpoint and spare figures; the better is used:
/// - whole-job restart: every failure stops the job, which restarts from the last checkpoint
///   (the reliability model's closed-form ETTR at the best checkpoint interval);
/// - replica-level: a failure stalls the whole job only while it is detected, then the failed
///   data-parallel replica drops out, is rebuilt from spares and rejoins from its peers'
///   state (fault-tolerant data parallelism, as PyTorch's torchft does), so it loses
///   detection + restart of one replica; planned maintenance still restarts the job from a
///   checkpoint. Goodput = (1 - rate x detection) / (1 + replica rate x (detection +
///   restart)) x (1 - planned rate x (write + restart)).
pub fn goodput(
    system: &TrainingSystem,
    gpus: f64,
    block: f64,
    spares: Option<f64>,
) -> (f64, String) {
    static DATA: std::sync::OnceLock<Option<reliability::ReliabilityData>> =
        std::sync::OnceLock::new();
    let Some(data) = DATA
        .get_or_init(|| reliability::ReliabilityData::embedded().ok())
        .as_ref()
    else {
        return (0.0, "the reliability data did not load".into());
    };
    let mut job = reliability::JobSpec::new(gpus.max(1.0) as u64, 90.0);
    job.accelerators_per_system = system.accelerators_per_system.max(1);
    job.scale_up_domain = system.scale_up_domain.max(1);
    job.async_checkpoint = true;
    if let Some(fraction) = spares {
        let systems = (gpus / f64::from(job.accelerators_per_system)).ceil();
        job.spares = Some((fraction * systems).ceil() as u64);
    }
    let (mut config, _) = data.config(&job);
    if let Some(best) = reliability::closed_form::optimal_interval_hours(&config) {
        config.checkpoint.interval_hours = best;
    }
    let whole_job = reliability::expected_ettr(&config);
    let rate = config.failure_rate_per_hour();
    let replica_rate = rate * (block / gpus.max(1.0)).min(1.0);
    let planned = config.planned_per_hour * (config.checkpoint.write_hours + config.restart_hours);
    let replica_level = ((1.0 - rate * config.detection_hours)
        / (1.0 + replica_rate * (config.detection_hours + config.restart_hours))
        * (1.0 - planned))
        .clamp(0.0, 1.0);
    if replica_level > whole_job {
        (replica_level, "replica-level fault tolerance".into())
    } else {
        (whole_job, "whole-job restart from checkpoint".into())
    }
}

/// Which model is trained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelKind {
    /// Dense.
    Dense,
    /// Mixture of experts of the stated sparsity.
    Moe,
}

/// Largest block-sized job the search runs on.
const MAX_SEARCH_GPUS: u64 = 16_384;

/// The best layout for `arch` when `gpus` train with `batch_seqs` sequences per step: the
/// search on a block-sized job (`gpus` capped at [`MAX_SEARCH_GPUS`], a power of two) with the
/// same sequences per accelerator, doubling the block while nothing fits.
fn block_layout(
    system: &TrainingSystem,
    hardware: &Hardware,
    arch: &Arch,
    gpus: f64,
    batch_seqs: f64,
) -> Found {
    // The same search asked twice in a process (two plans of one scenario, risk after plan,
    // the server) is answered from memory: it is a pure function of its inputs.
    let memo = MEMO.get_or_init(Default::default);
    // Powers of two keep the search's divisibility rules easy to meet.
    let cap = gpus.clamp(1.0, 2048.0) as u64;
    let mut searched = 1u64 << (63 - cap.leading_zeros());
    loop {
        let per_gpu = batch_seqs / gpus.max(1.0);
        let batch = (per_gpu * searched as f64).max(1.0);
        let batch = (1u64 << (63 - (batch as u64).max(1).leading_zeros())) as f64;
        // Keyed by what the search reads: the two rounds of a run, and neighbouring grid
        // points, often ask the same search (shapes round to 1,024-wide steps and batches to
        // powers of two).
        let key = format!(
            "{}|{hardware:?}|{arch:?}|{:?}|{:?}|{searched}|{}",
            system.system,
            system.framework,
            system.pruning,
            batch.to_bits()
        );
        let cached = memo
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
            .copied();
        let found = match cached {
            Some(found) => found,
            None => {
                let found = search_block(system, hardware, arch, searched, batch);
                memo.lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(key, found);
                found
            }
        };
        if let Ok(best) = found {
            return Ok((best, searched, batch));
        }
        if searched * 2 > MAX_SEARCH_GPUS || (searched * 2) as f64 > gpus {
            return Err(format!(
                "no layout of a {:.2e}-parameter model fits on `{}` up to {searched} accelerators ({} evaluated)",
                arch.total_params(),
                system.system,
                found.err().unwrap_or_default()
            ));
        }
        searched *= 2;
    }
}

type Found = Result<(perf::Ranked, u64, f64), String>;

/// Empties the per-process memory of layout searches, so that the next plan searches cold (for
/// benchmarks that time a first plan, as `gigawatt plan` runs it).
pub fn forget_searches() {
    if let Some(memo) = MEMO.get() {
        memo.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }
}

static MEMO: std::sync::OnceLock<
    std::sync::Mutex<std::collections::HashMap<String, Result<perf::Ranked, u64>>>,
> = std::sync::OnceLock::new();

/// The best layout of `arch` on `gpus` with `batch` sequences a step, or the layouts evaluated
/// when none fits.
fn search_block(
    system: &TrainingSystem,
    hardware: &Hardware,
    arch: &Arch,
    gpus: u64,
    batch: f64,
) -> Result<perf::Ranked, u64> {
    let workload = Workload {
        global_batch: batch,
        seq_len: SEQ_LEN,
        precision: Precision::Bf16,
        components: None,
        moe: perf::MoeRouting::default(),
    };
    let search = |pruning: &perf::Pruning| {
        perf::search_pruned(
            arch,
            hardware,
            &workload,
            &SearchOptions {
                gpus: gpus as u32,
                top: 1,
                // MoE layouts multiply the space by the expert-parallel widths; microbatches of
                // one keep the search short at the largest blocks.
                max_microbatch: if arch.is_moe() { 1 } else { 2 },
            },
            &perf::ModelConstants::default(),
            &system.framework,
            pruning,
        )
    };
    let mut result = search(&system.pruning);
    // Where nothing fits at the pruned ZeRO stage (the largest models), every stage is tried
    // before the block is doubled: the other prunings drop only layouts that are slower or
    // need more memory, so this finds a layout wherever the whole space has one.
    if result.top.is_empty() && system.pruning.zero.is_some() {
        let evaluated = result.evaluated;
        result = search(&perf::Pruning {
            zero: None,
            ..system.pruning
        });
        result.evaluated += evaluated;
    }
    result.top.first().copied().ok_or(result.evaluated)
}

/// The largest compute-optimal run of `kind` trainable on `gpus` accelerators of `system` in
/// the stated days: a fixed point of compute -> model size -> layout and MFU -> compute.
pub fn largest_run(
    system: &TrainingSystem,
    gpus: f64,
    kind: ModelKind,
    options: &CapabilityOptions,
) -> TrainingAnswer {
    let hardware = match &system.hardware {
        Ok(h) => h,
        Err(reason) => return TrainingAnswer::unknown(reason.clone()),
    };
    if gpus < 1.0 {
        return TrainingAnswer::unknown("no accelerators at stable goodput");
    }
    let peak = hardware.peak_bf16_flops;
    let seconds = options.training_days * 86_400.0;
    let ratio = options.tokens_per_parameter;
    // Start from Llama 3's reported MFU band and the goodput of the full count.
    let (mut mfu, mut good) = (0.4, 0.9);
    let mut answer = TrainingAnswer::unknown("not computed");
    let mut gpus_used = gpus;
    // Two rounds: the first sizes the model at a guessed efficiency, the second at the
    // efficiency of the first's layout (model size moves with the square root of compute, so
    // the second round's layout is that of a model within a few per cent of the final one).
    for _ in 0..2 {
        let compute = gpus_used * peak * mfu * good * seconds;
        let active = (compute / (6.0 * ratio)).sqrt();
        let arch = match kind {
            ModelKind::Dense => dense_shape(active),
            ModelKind::Moe => moe_shape(active, options.moe_experts, options.moe_top_k),
        };
        let cap_tokens = batch_cap_tokens(compute);
        let batch_seqs = (cap_tokens / SEQ_LEN).floor().max(1.0);
        let (best, searched, searched_batch) =
            match block_layout(system, hardware, &arch, gpus, batch_seqs) {
                Ok(found) => found,
                Err(reason) => return TrainingAnswer::unknown(reason),
            };
        let s: Strategy = best.strategy;
        let block = f64::from(s.tp) * f64::from(s.pp) * f64::from(s.cp);
        let per_replica = searched_batch / f64::from(s.dp);
        let replicas_by_gpus = (gpus / block).floor();
        let replicas_by_batch = (batch_seqs / per_replica).floor().max(1.0);
        let max_replicas = replicas_by_gpus.min(replicas_by_batch).max(1.0);
        // The replica count that gives the most goodput-weighted compute.
        let (mut replicas, mut best_effective, mut best_good) =
            (max_replicas, 0.0, (0.0, String::new()));
        for step in 0..48 {
            let r = (max_replicas * 0.85f64.powi(step)).floor().max(1.0);
            let g = goodput(system, r * block, block, Some(options.spare_fraction));
            if r * g.0 > best_effective {
                best_effective = r * g.0;
                replicas = r;
                best_good = g;
            }
            if r <= 1.0 {
                break;
            }
        }
        if best_good.0 <= 0.0 {
            return TrainingAnswer::unknown(format!(
                "failures leave no goodput on `{}` at this scale ({})",
                system.system, best_good.1
            ));
        }
        gpus_used = replicas * block;
        mfu = best.evaluation.mfu;
        good = best_good.0;
        let compute = gpus_used * peak * mfu * good * seconds;
        let active = (compute / (6.0 * ratio)).sqrt();
        let params = match kind {
            ModelKind::Dense => active,
            ModelKind::Moe => active * arch.total_params() / arch.active_params(),
        };
        answer = TrainingAnswer {
            run: Some(RunEstimate {
                params,
                active_params: active,
                tokens: ratio * active,
                compute_flop: compute,
                mfu,
                goodput: good,
                goodput_model: best_good.1,
                gpus_used,
                global_batch_tokens: replicas * per_replica * SEQ_LEN,
                batch_cap_tokens: batch_cap_tokens(compute),
                layout: Layout {
                    tp: s.tp,
                    pp: s.pp,
                    cp: s.cp,
                    ep: s.ep,
                    dp: replicas as u64,
                    microbatch: s.microbatch,
                    recompute: format!("{:?}", s.recompute).to_lowercase(),
                    zero: s.zero,
                    searched_gpus: searched,
                },
            }),
            unknown_reason: None,
        };
    }
    answer
}

/// The framework and hardware of a catalog system for training.
pub fn training_system(
    catalog: &Catalog,
    system: &str,
    overrides: &[(&str, f64)],
) -> TrainingSystem {
    let entry = catalog.systems.get(system);
    let framework = crate::train::resolve_framework(catalog, None)
        .map(crate::train::perf_framework)
        .unwrap_or_else(|_| perf::Framework::unrestricted());
    TrainingSystem {
        system: system.to_string(),
        hardware: crate::train::hardware_with_overrides(catalog, system, overrides),
        accelerators_per_system: entry
            .and_then(|e| e.accelerators_per_system.number())
            .unwrap_or(8.0) as u32,
        scale_up_domain: entry
            .and_then(|e| e.scale_up_domain.number())
            .unwrap_or(8.0) as u32,
        pruning: if WHOLE_SPACE.load(std::sync::atomic::Ordering::Relaxed) {
            perf::Pruning::none()
        } else {
            capability_pruning(&framework)
        },
        framework,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_batch_law_matches_its_paper() {
        // 0.2920 x (1e24)^0.3271 = 0.2920 x 10^7.8504 = 0.2920 x 7.086e7 = 2.069e7 tokens.
        let b = batch_cap_tokens(1e24);
        assert!((b - 2.069e7).abs() / b < 1e-3, "{b}");
    }

    #[test]
    fn shapes_land_near_their_parameter_counts() {
        // The capability scale (tens of billions of parameters and up); below it embeddings and
        // the 1,024-wide rounding dominate.
        for params in [7e10, 4e11, 2e12, 1e13] {
            let arch = dense_shape(params);
            let ratio = arch.total_params() / params;
            assert!((0.8..1.25).contains(&ratio), "{params:e}: {ratio}");
        }
        let moe = moe_shape(4e10, 128, 8);
        let sparsity = moe.active_params() / moe.total_params();
        // Attention and embeddings are always active, so a bit above 8 / 128.
        assert!((0.0625..0.12).contains(&sparsity), "{sparsity}");
    }
}
