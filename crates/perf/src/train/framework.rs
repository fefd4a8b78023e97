//! What a training framework can run and how it runs it, as plain facts (booleans and
//! choices, never fitted numbers): the engine builds a [`Framework`] from the catalog's
//! `catalog/frameworks.toml`, where each fact cites the framework's documentation or code.
//!
//! Two uses: [`Framework::apply`] turns the facts into the software fields of a [`Strategy`]
//! (fused kernels, overlaps, gradient precision), and [`Framework::check`] says why a layout
//! is one the framework cannot run (ZeRO-2 with pipeline parallelism, uneven stages on a
//! framework without them, FP8 on one without a recipe).

use serde::Serialize;

use super::collectives::Granularity;
use super::precision::Recipe;
use super::stages::split_layers;
use super::step::{Precision, Workload};
use super::strategy::{Recompute, RecomputeModules, Strategy};
use crate::arch::Arch;

/// A set of ZeRO stages (bit `i` = stage `i`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ZeroStages(pub u8);

impl ZeroStages {
    /// The stages in `list` (each 0 to 3).
    pub fn of(list: &[u8]) -> ZeroStages {
        ZeroStages(
            list.iter()
                .filter(|s| **s <= 3)
                .fold(0, |bits, s| bits | (1 << s)),
        )
    }

    /// Whether `stage` is in the set.
    pub fn has(self, stage: u8) -> bool {
        stage <= 3 && self.0 & (1 << stage) != 0
    }

    /// The stages, lowest first.
    pub fn list(self) -> Vec<u8> {
        (0..=3).filter(|s| self.has(*s)).collect()
    }
}

impl Serialize for ZeroStages {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.list().serialize(serializer)
    }
}

/// A training framework version's facts.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Framework {
    /// Fused (flash) attention kernels.
    pub flash_attention: bool,
    /// Fused element-wise kernels (norms, bias-dropout-add, activations).
    pub fused_elementwise: bool,
    /// Data-parallel gradient reduction (all-reduce or reduce-scatter) overlapped with the
    /// backward pass.
    pub overlap_grad_reduce: bool,
    /// The sharded optimizer's (or FSDP's) parameter all-gather overlapped with compute.
    pub overlap_param_gather: bool,
    /// How data-parallel and sharded-parameter traffic is cut into collectives.
    pub dp_collectives: Granularity,
    /// Tensor-parallel collectives overlapped with GEMMs.
    pub tp_comm_overlap: bool,
    /// Expert-parallel all-to-all overlapped with compute.
    pub ep_comm_overlap: bool,
    /// Tensor parallelism.
    pub tensor_parallel: bool,
    /// Megatron-style sequence parallelism with tensor parallelism.
    pub sequence_parallel: bool,
    /// Pipeline parallelism.
    pub pipeline_parallel: bool,
    /// Interleaved (virtual) pipeline stages.
    pub virtual_pipeline: bool,
    /// Pipeline stages with different layer counts (`pp x virtual_pp` not dividing the layers,
    /// or set first/last stage sizes).
    pub uneven_stages: bool,
    /// Context parallelism.
    pub context_parallel: bool,
    /// Expert parallelism.
    pub expert_parallel: bool,
    /// ZeRO stages it runs without pipeline parallelism (3 = FSDP).
    pub zero_stages: ZeroStages,
    /// ZeRO stages it runs together with pipeline parallelism.
    pub zero_stages_with_pp: ZeroStages,
    /// An FP8 training recipe.
    pub fp8: bool,
    /// The FP8 scaling a plain `fp8` means in this framework version (delayed scaling in
    /// Transformer Engine's default recipe, current scaling in Megatron-Bridge's).
    pub default_fp8_recipe: Recipe,
    /// An FP4 (NVFP4/MXFP4) training recipe.
    pub fp4: bool,
    /// With FP8/FP4, GEMM inputs saved for the backward pass are kept in 8 bits.
    pub low_precision_activations: bool,
    /// Gradients accumulated and reduced in fp32 by default.
    pub fp32_gradients: bool,
    /// The optimizer stores 16-bit remainders of the fp32 master weights
    /// ([`Strategy::master_weight_remainders`]).
    pub master_weight_remainders: bool,
    /// Reduced 16-bit gradient shards are cast back to fp32 in place
    /// ([`Strategy::gradient_shards_upcast`]).
    pub gradient_shards_upcast: bool,
    /// Without sequence parallelism, a column-parallel layer's backward all-reduces its input
    /// gradient beside its weight-gradient GEMM ([`Strategy::async_tp_all_reduce`]).
    pub async_tp_all_reduce: bool,
    /// Modules selective recompute may name (empty: no selective recompute).
    pub recompute_modules: RecomputeModules,
    /// Full recompute of a chosen number of layers per stage (Megatron's
    /// `--recompute-num-layers`), not only all of them.
    pub partial_recompute: bool,
    /// ZeRO stage used when the user does not choose (1: Megatron's distributed optimizer).
    pub default_zero: u8,
    /// The cuDNN its container ships (its fused-attention kernels' vintage); `None`: attention
    /// that is not cuDNN's, run at the fitted (newest kernels') rate.
    pub cudnn: Option<crate::train::attention::CudnnVersion>,
}

impl Framework {
    /// A framework that runs every layout that can exist, with fused kernels and overlapped
    /// gradient reduction: what [`crate::search`] assumes when no framework is named.
    pub fn unrestricted() -> Framework {
        Framework {
            flash_attention: true,
            fused_elementwise: true,
            overlap_grad_reduce: true,
            overlap_param_gather: false,
            dp_collectives: Granularity::Bucket,
            tp_comm_overlap: false,
            ep_comm_overlap: false,
            tensor_parallel: true,
            sequence_parallel: true,
            pipeline_parallel: true,
            virtual_pipeline: true,
            uneven_stages: true,
            context_parallel: true,
            expert_parallel: true,
            zero_stages: ZeroStages::of(&[0, 1, 2, 3]),
            zero_stages_with_pp: ZeroStages::of(&[0, 1, 2, 3]),
            fp8: true,
            default_fp8_recipe: Recipe::Fp8Delayed,
            fp4: true,
            low_precision_activations: false,
            fp32_gradients: true,
            master_weight_remainders: false,
            gradient_shards_upcast: false,
            async_tp_all_reduce: true,
            recompute_modules: RecomputeModules(0x7f),
            partial_recompute: true,
            default_zero: 1,
            cudnn: None,
        }
    }

    /// `s` with this framework's software: its kernels, overlaps where the layout has
    /// something to overlap, and its gradient precision.
    pub fn apply(&self, s: Strategy) -> Strategy {
        Strategy {
            flash_attention: self.flash_attention,
            fused_elementwise: self.fused_elementwise,
            overlap_grad_reduce: self.overlap_grad_reduce,
            overlap_param_gather: self.overlap_param_gather && s.zero >= 1,
            dp_collectives: self.dp_collectives,
            tp_comm_overlap: self.tp_comm_overlap && s.tp > 1 && s.sequence_parallel,
            async_tp_all_reduce: self.async_tp_all_reduce && s.tp > 1 && !s.sequence_parallel,
            // Megatron's all-to-all overlap pairs microbatches through the interleaved
            // schedule: with a pipeline it needs virtual stages. A framework that cannot
            // interleave and still overlaps (DeepSeek's DualPipe) does it in its own schedule.
            ep_comm_overlap: self.ep_comm_overlap
                && s.ep > 1
                && (s.pp <= 1 || s.virtual_pp > 1 || !self.virtual_pipeline),
            fp32_gradients: self.fp32_gradients,
            master_weight_remainders: self.master_weight_remainders,
            gradient_shards_upcast: self.gradient_shards_upcast,
            low_precision_activations: self.low_precision_activations,
            cudnn: self.cudnn,
            ..s
        }
    }

    /// Why the framework cannot run `s` (the first reason found), or `Ok`.
    pub fn check(&self, arch: &Arch, s: &Strategy, w: &Workload) -> Result<(), String> {
        let refuse = |ok: bool, why: String| if ok { Ok(()) } else { Err(why) };
        refuse(
            s.tp == 1 || self.tensor_parallel,
            "has no tensor parallelism".into(),
        )?;
        refuse(
            !s.sequence_parallel || self.sequence_parallel,
            "has no sequence parallelism".into(),
        )?;
        refuse(
            s.pp == 1 || self.pipeline_parallel,
            "has no pipeline parallelism".into(),
        )?;
        refuse(
            s.virtual_pp == 1 || self.virtual_pipeline,
            "has no interleaved (virtual) pipeline stages".into(),
        )?;
        refuse(
            s.cp == 1 || self.context_parallel,
            "has no context parallelism".into(),
        )?;
        refuse(
            s.ep == 1 || self.expert_parallel,
            "has no expert parallelism".into(),
        )?;
        if s.pp > 1 && !self.uneven_stages {
            let layers = arch.layers as u32;
            let even = s.first_stage_layers == 0
                && s.last_stage_layers == 0
                && layers.is_multiple_of(s.pp * s.virtual_pp.max(1));
            refuse(
                even,
                format!(
                    "needs pp x virtual_pp = {} to divide the {layers} layers evenly (no uneven pipeline stages)",
                    s.pp * s.virtual_pp.max(1)
                ),
            )?;
        } else if s.pp > 1 {
            // Uneven stages exist here; the split itself must still be possible (a layout error
            // the caller reports before legality, checked again for search callers).
            split_layers(
                arch.layers as u32,
                s.pp,
                s.virtual_pp,
                s.first_stage_layers,
                s.last_stage_layers,
            )
            .map_err(|e| e.message)?;
        }
        let allowed = if s.pp > 1 {
            self.zero_stages_with_pp
        } else {
            self.zero_stages
        };
        refuse(
            allowed.has(s.zero),
            if s.pp > 1 {
                format!(
                    "runs ZeRO stage{} {} with pipeline parallelism, not ZeRO-{}",
                    if allowed.list().len() == 1 { "" } else { "s" },
                    list(&allowed.list()),
                    s.zero
                )
            } else {
                format!(
                    "runs ZeRO stage{} {}, not ZeRO-{}",
                    if allowed.list().len() == 1 { "" } else { "s" },
                    list(&allowed.list()),
                    s.zero
                )
            },
        )?;
        match w.precision {
            Precision::Bf16 => {}
            Precision::Fp8 => refuse(self.fp8, "has no FP8 training recipe".into())?,
            Precision::Fp4 => refuse(self.fp4, "has no FP4 training recipe".into())?,
        }
        match s.recompute {
            Recompute::None => {}
            Recompute::Selective => {
                let wanted = s.selective_modules();
                let missing: Vec<&str> = wanted
                    .names()
                    .into_iter()
                    .filter(|n| {
                        !RecomputeModules::parse(n)
                            .is_some_and(|m| self.recompute_modules.contains(m))
                    })
                    .collect();
                refuse(
                    missing.is_empty(),
                    if self.recompute_modules.is_empty() {
                        "has no selective recompute (only full layers)".into()
                    } else {
                        format!(
                            "cannot recompute {} selectively (it can: {})",
                            missing.join(", "),
                            self.recompute_modules.names().join(", ")
                        )
                    },
                )?;
            }
            Recompute::Full => refuse(
                s.recompute_layers == 0 || self.partial_recompute,
                "recomputes all layers or none (no recompute_layers)".into(),
            )?,
        }
        refuse(
            !s.flash_attention || self.flash_attention,
            "has no fused (flash) attention".into(),
        )?;
        refuse(
            !s.tp_comm_overlap || self.tp_comm_overlap,
            "does not overlap tensor-parallel communication".into(),
        )?;
        refuse(
            !s.ep_comm_overlap || self.ep_comm_overlap,
            "does not overlap the expert all-to-all".into(),
        )?;
        refuse(
            !s.overlap_param_gather || self.overlap_param_gather,
            "does not overlap the parameter all-gather".into(),
        )?;
        refuse(
            !s.overlap_grad_reduce || self.overlap_grad_reduce,
            "does not overlap the gradient reduction".into(),
        )?;
        Ok(())
    }
}

fn list(stages: &[u8]) -> String {
    match stages {
        [] => "none".into(),
        [one] => one.to_string(),
        [init @ .., last] => format!(
            "{} and {last}",
            init.iter()
                .map(u8::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reference;

    fn workload() -> Workload {
        Workload {
            global_batch: 1024.0,
            seq_len: 4096.0,
            precision: Precision::Bf16,
            components: None,
            moe: crate::train::MoeRouting::default(),
        }
    }

    #[test]
    fn megatron_has_no_zero_2_and_deepspeed_none_with_pp() {
        let arch = reference::llama3_70b();
        let megatron = reference::megatron_core();
        let s = Strategy {
            tp: 8,
            pp: 4,
            dp: 4,
            zero: 2,
            ..Strategy::single()
        };
        let why = megatron.check(&arch, &s, &workload()).unwrap_err();
        assert!(why.contains("ZeRO-2"), "{why}");
        let deepspeed = Framework {
            zero_stages: ZeroStages::of(&[0, 1, 2, 3]),
            zero_stages_with_pp: ZeroStages::of(&[0, 1]),
            ..megatron
        };
        assert!(deepspeed
            .check(&arch, &Strategy { pp: 1, dp: 16, ..s }, &workload())
            .is_ok());
        let why = deepspeed.check(&arch, &s, &workload()).unwrap_err();
        assert_eq!(
            why,
            "runs ZeRO stages 0 and 1 with pipeline parallelism, not ZeRO-2"
        );
    }

    #[test]
    fn uneven_stages_need_a_framework_that_has_them() {
        let arch = reference::llama3_405b();
        let s = Strategy {
            tp: 8,
            pp: 16,
            dp: 8,
            zero: 1,
            ..Strategy::single()
        };
        assert!(reference::megatron_core()
            .check(&arch, &s, &workload())
            .is_ok());
        let old = Framework {
            uneven_stages: false,
            ..reference::megatron_core()
        };
        let why = old.check(&arch, &s, &workload()).unwrap_err();
        assert!(why.contains("126 layers"), "{why}");
    }

    #[test]
    fn apply_sets_the_software_and_only_where_it_applies() {
        let fw = reference::megatron_core();
        let s = fw.apply(Strategy {
            tp: 1,
            zero: 0,
            flash_attention: false,
            ..Strategy::single()
        });
        assert!(s.flash_attention);
        assert!(!s.tp_comm_overlap, "nothing to overlap at tp = 1");
        assert!(!s.async_tp_all_reduce, "no TP all-reduce at tp = 1");
        assert!(!s.overlap_param_gather, "no sharded optimizer at ZeRO-0");
        assert!(fw.check(&reference::llama3_70b(), &s, &workload()).is_ok());
    }

    #[test]
    fn the_async_column_all_reduce_applies_to_tp_without_sequence_parallelism() {
        let fw = reference::megatron_core();
        let tp8 = Strategy {
            tp: 8,
            ..Strategy::single()
        };
        assert!(fw.apply(tp8).async_tp_all_reduce);
        // Sequence parallelism has its own asynchronous column backward (reduce-scatters).
        let sp = fw.apply(Strategy {
            sequence_parallel: true,
            ..tp8
        });
        assert!(!sp.async_tp_all_reduce);
        // A framework without it (Megatron-LM of April 2021) runs the all-reduce in line.
        let old = Framework {
            async_tp_all_reduce: false,
            ..fw
        };
        assert!(!old.apply(tp8).async_tp_all_reduce);
    }

    #[test]
    fn hiding_the_column_all_reduces_never_slows_a_step() {
        // Llama 3 70B at TP 8 without sequence parallelism, full recompute (the layout of
        // Korthikanti's baselines): six all-reduces a layer (two forward, two backward, two
        // recomputed); the two backward ones hide under the weight gradients, so the step gets
        // faster, by at most what those two took in line.
        let arch = reference::llama3_70b();
        let hw = reference::h100_sxm();
        let w = workload();
        let base = Strategy {
            tp: 8,
            pp: 4,
            dp: 1,
            recompute: crate::train::Recompute::Full,
            ..Strategy::single()
        };
        let in_line = crate::evaluate(&arch, &hw, &base, &w);
        let hidden = crate::evaluate(
            &arch,
            &hw,
            &Strategy {
                async_tp_all_reduce: true,
                ..base
            },
            &w,
        );
        assert!(
            hidden.step_time_s < in_line.step_time_s,
            "{} against {}",
            hidden.step_time_s,
            in_line.step_time_s
        );
        let two_of_six = in_line.breakdown.tp_comm_s * 2.0 / 6.0;
        assert!(
            in_line.step_time_s - hidden.step_time_s <= two_of_six + 1e-9,
            "{} {} {:?}",
            in_line.step_time_s,
            hidden.step_time_s,
            in_line.breakdown
        );
        assert!(hidden.breakdown.tp_comm_s < in_line.breakdown.tp_comm_s);
    }

    #[test]
    fn selective_modules_must_be_ones_the_framework_names() {
        let fw = Framework {
            recompute_modules: RecomputeModules::CORE_ATTN,
            ..reference::megatron_core()
        };
        let s = Strategy {
            recompute: Recompute::Selective,
            recompute_modules: RecomputeModules::MLP,
            ..Strategy::single()
        };
        let why = fw
            .check(&reference::llama3_70b(), &s, &workload())
            .unwrap_err();
        assert!(why.contains("mlp"), "{why}");
    }
}
