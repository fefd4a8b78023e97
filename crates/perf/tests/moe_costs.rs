//! What an MoE step costs beyond its FLOPs, through the public API: the multi-token-prediction
//! module on the last stage, expert GEMM launches that grow with the experts a rank holds, and
//! quantisation of every routed copy, expert biases, a clamped gated activation and the
//! all-to-all dispatcher's sort by local expert.

use perf::reference::{deepseek_v3, h100_sxm, llama3_70b};
use perf::{
    evaluate, ComponentRecipes, Dispatcher, MoeRouting, Precision, Recipe, Strategy, Workload,
};

fn deepseek_layout(pp: u32, ep: u32) -> Strategy {
    Strategy {
        pp,
        dp: 2048 / pp,
        ep,
        zero: 1,
        ..Strategy::single()
    }
}

fn balanced(precision: Precision) -> Workload {
    Workload {
        moe: MoeRouting::balanced(),
        ..Workload::new(4096.0, 4096.0, precision)
    }
}

/// An H100 with (nearly) free matmuls, memory and links, at DP 8 x EP 8 with ZeRO-1: what is
/// left of a step is the host's launch time, which the host-bound tests below look at.
fn host_bound_setup() -> (perf::Hardware, Strategy) {
    let fast = perf::Hardware {
        peak_bf16_flops: 1e21,
        peak_fp8_flops: Some(1e21),
        hbm_bytes_per_s: 1e18,
        scale_up_bytes_per_s: 1e18,
        scale_out_bytes_per_s: 1e18,
        matmul_rates: Default::default(),
        ..h100_sxm()
    };
    let s = Strategy {
        dp: 8,
        ep: 8,
        zero: 1,
        ..Strategy::single()
    };
    (fast, s)
}

#[test]
fn the_mtp_module_slows_the_last_stage_more_at_deeper_pipelines() {
    // DeepSeek-V3 with and without its MTP module (one layer and one more output-head pass on
    // the last stage): the model FLOPs are the same, the step is longer, and the share grows
    // with PP since the stage holds fewer layers (61 / 16 = 4 against 61 / 4 = 16).
    let hw = h100_sxm();
    let w = balanced(Precision::Fp8);
    let with_mtp = perf::Arch {
        mtp_layers: 1.0,
        ..deepseek_v3()
    };
    let slowdown = |pp: u32| {
        let s = deepseek_layout(pp, 8);
        let plain = evaluate(&deepseek_v3(), &hw, &s, &w);
        let mtp = evaluate(&with_mtp, &hw, &s, &w);
        assert_eq!(plain.model_flops_per_step, mtp.model_flops_per_step);
        mtp.step_time_s / plain.step_time_s - 1.0
    };
    let (shallow, deep) = (slowdown(4), slowdown(16));
    assert!(shallow > 0.0 && deep > shallow, "{shallow} {deep}");
}

#[test]
fn expert_launches_and_casts_grow_with_what_a_rank_holds() {
    // Fewer expert-parallel ranks: each holds more experts (256 / 8 = 32 against 256 / 64 = 4)
    // and launches a GEMM per expert; with the same routed tokens per rank the EP 8 layout
    // spends more on launches. Quantising every routed copy makes 8-bit experts pay a cast
    // per copy: MXFP8 experts cost more element-wise time than BF16 ones at the same layout.
    let hw = perf::Hardware {
        matmul_rates: Default::default(),
        ..h100_sxm()
    };
    let s = deepseek_layout(16, 8);
    let bf16 = Workload {
        components: Some(ComponentRecipes::uniform(Recipe::Bf16)),
        ..balanced(Precision::Fp8)
    };
    let fp8 = Workload {
        components: Some(ComponentRecipes {
            experts: Recipe::Fp8Current,
            ..ComponentRecipes::uniform(Recipe::Bf16)
        }),
        ..balanced(Precision::Fp8)
    };
    let e_bf16 = evaluate(&deepseek_v3(), &hw, &s, &bf16);
    let e_fp8 = evaluate(&deepseek_v3(), &hw, &s, &fp8);
    assert!(e_bf16.step_time_s.is_finite() && e_fp8.step_time_s.is_finite());
    // A free tensor core leaves only the element-wise and launch work: the FP8 experts' casts
    // then show as a longer step.
    let fast = perf::Hardware {
        peak_bf16_flops: 1e21,
        peak_fp8_flops: Some(1e21),
        ..hw.clone()
    };
    let cast_only = |w: &Workload| evaluate(&deepseek_v3(), &fast, &s, w).breakdown.compute_s;
    assert!(cast_only(&fp8) > cast_only(&bf16));
    let launches = |ep: u32| {
        let zero_bw = perf::Hardware {
            hbm_bytes_per_s: 1e30,
            ..fast.clone()
        };
        evaluate(&deepseek_v3(), &zero_bw, &deepseek_layout(16, ep), &bf16)
            .breakdown
            .compute_s
    };
    assert!(launches(8) > launches(64));
}

#[test]
fn moe_layers_wait_for_the_host_when_the_gpu_outruns_it() {
    // On a chip with (nearly) free matmuls, memory and links, a dense model's step is almost
    // nothing: the CPU runs ahead of the kernels it queues. An MoE layer copies its token
    // counts to the host before dispatching, so the CPU cannot run ahead past it: each MoE
    // layer then takes the host time to launch its kernels. DeepSeek-V3 at EP 8 in BF16 (32
    // local experts): 14 + 8 + 2 x 32 = 86 launches forward, twice that backward, 37 us each
    // = 9.55 ms per MoE layer; 58 of 61 layers are MoE, one microbatch: >= ~0.55 s.
    let (fast, s) = host_bound_setup();
    let w = Workload {
        components: Some(ComponentRecipes::uniform(Recipe::Bf16)),
        ..balanced(Precision::Bf16)
    };
    let w = Workload {
        global_batch: 8.0,
        ..w
    };
    let per_moe_layer_s = 3.0 * (14.0 + 8.0 + 2.0 * 32.0) * perf::HOST_S_PER_OP;
    let moe = evaluate(&deepseek_v3(), &fast, &s, &w);
    assert!(
        moe.breakdown.compute_s >= 0.95 * 58.0 * per_moe_layer_s,
        "{} s",
        moe.breakdown.compute_s
    );
    let dense = evaluate(&llama3_70b(), &fast, &Strategy { ep: 1, ..s }, &w);
    assert!(
        dense.breakdown.compute_s < 0.1 * moe.breakdown.compute_s,
        "{} s",
        dense.breakdown.compute_s
    );
}

/// The host-bound case above with the attention kernels made a billion times slower (the
/// chip's matmuls are a million times an H100's): every layer takes far longer on the GPU than
/// the host takes to launch it, so only the MoE block after the dispatcher's host sync can
/// wait on the host. BF16, one microbatch of 8 sequences, routed as `moe`.
fn slow_attention_step(moe: MoeRouting) -> perf::Breakdown {
    let (fast, s) = host_bound_setup();
    let w = Workload {
        global_batch: 8.0,
        components: Some(ComponentRecipes::uniform(Recipe::Bf16)),
        moe,
        ..Workload::new(8.0, 4096.0, Precision::Bf16)
    };
    let slow_attention = perf::ModelConstants {
        attention_fraction: perf::ModelConstants::default().attention_fraction * 1e-9,
        ..perf::ModelConstants::default()
    };
    perf::evaluate_with(&deepseek_v3(), &fast, &s, &w, &slow_attention).breakdown
}

/// Host time a launch costs beyond its launch latency on the GPU, seconds.
fn launch_excess_s() -> f64 {
    perf::HOST_S_PER_OP - perf::ModelConstants::default().kernel_overhead_s
}

#[test]
fn a_slow_attention_does_not_hide_a_host_bound_moe_block() {
    // A comparison of the whole layer would charge no host stall. But the dispatcher syncs
    // with the host before its all-to-all, and what the host launches after it (the MLP half's
    // 6 kernels, dispatch, activation, combine and unpermute, 2 x 32 expert GEMMs and the sort
    // by local expert and back: 6 + 4 + 64 + 2 = 76) runs on a GPU with little else queued: 76
    // x 37 us of host time against 76 x 4 us of launch latency (free matmuls, memory and
    // links), 2.508 ms per MoE layer forward, 58 MoE layers, one microbatch: 0.1455 s. The
    // backward knows its sizes and its GPU time covers its launches.
    let b = slow_attention_step(MoeRouting::balanced());
    let expected = 58.0 * 76.0 * launch_excess_s();
    let stall = b.host_stall_s;
    assert!(
        (stall - expected).abs() < 0.02 * expected,
        "host stall {stall} s, expected {expected} s"
    );
    // The attention is what the GPU spends its time on, far beyond the host's launches.
    assert!(b.attention_s > 100.0 * stall, "{b:?}");
}

#[test]
fn token_drop_padded_to_capacity_never_syncs_so_its_moe_block_is_not_host_bound() {
    // Routed with token drop padded to 1x the mean, the dispatcher knows every size beforehand
    // and never waits for the GPU (Megatron-Core's `drop_and_pad`: no device-to-host copy, no
    // sync), so the host launches the MoE block while the GPU still runs the attention before
    // it: no host stall at all, where the dropless run stalls 58 x 76 x (37 - 4) us = 0.1455
    // s. Everything else is the same work (the load is 1x the mean either way).
    let dropless = slow_attention_step(MoeRouting::balanced());
    let padded = slow_attention_step(MoeRouting::padded(1.0));
    assert!(dropless.host_stall_s > 0.1, "{dropless:?}");
    assert_eq!(padded.host_stall_s, 0.0, "{padded:?}");
    let rest = |b: &perf::Breakdown| b.compute_s - b.host_stall_s;
    assert!(
        (rest(&dropless) - rest(&padded)).abs() < 1e-9 * dropless.compute_s,
        "{dropless:?}\n{padded:?}"
    );
}

#[test]
fn token_drop_without_padding_syncs_before_the_permutation_which_joins_the_block() {
    // With token drop at 1x the mean and no padding, the dispatcher sizes the first
    // permutation from the counts on the host, so it syncs before it, and the permutation is
    // launched after the sync with the rest of the block: 77 kernels where the dropless block
    // has 76, 58 x 77 x (37 - 4) us = 0.1474 s.
    let b = slow_attention_step(MoeRouting {
        capacity_factor: Some(1.0),
        ..MoeRouting::balanced()
    });
    let expected = 58.0 * 77.0 * launch_excess_s();
    let stall = b.host_stall_s;
    assert!(
        (stall - expected).abs() < 0.02 * expected,
        "host stall {stall} s, expected {expected} s"
    );
}

#[test]
fn cuda_graphs_take_the_kernels_they_capture_off_the_host() {
    // The host-bound case above (DeepSeek-V3, EP 8, BF16, a chip with free matmuls): each of
    // the 58 MoE layers takes its host launch time, 3 x launches x 37 us (forward, and the
    // backward's twice as many). Launches per MoE layer forward, 58/61 of the layers MoE:
    //   none:                       14 + 8 + 2 x 32 = 86
    //   attn + moe_router graphs:   86 - (7 - 1) - (3 - 1) = 78 (the three dense layers'
    //     share of the router term is not charged: 2 x 58/61 is taken off the layer average)
    //   full iteration:             0, no host stall at all.
    // So the graphed step is shorter by about 58 x 3 x 7.9 x 37 us = 50.8 ms, and a full
    // iteration graph leaves less than a fifth of the eager step (what remains is GPU-side: each
    // kernel's own launch latency on the device, which a graph replays too).
    let (fast, s) = host_bound_setup();
    let with = |graphs: &str| {
        let w = Workload {
            global_batch: 8.0,
            components: Some(ComponentRecipes::uniform(Recipe::Bf16)),
            moe: MoeRouting {
                cuda_graphs: perf::CudaGraphs::parse(graphs).unwrap(),
                ..MoeRouting::balanced()
            },
            ..Workload::new(8.0, 4096.0, Precision::Bf16)
        };
        evaluate(&deepseek_v3(), &fast, &s, &w).breakdown.compute_s
    };
    let (eager, scoped, full) = (
        with("none"),
        with("attn+moe_router+moe_preprocess"),
        with("full_iteration"),
    );
    let saved = eager - scoped;
    let expected = 58.0 * 3.0 * (6.0 + 2.0 * 58.0 / 61.0) * perf::HOST_S_PER_OP;
    assert!(
        (saved - expected).abs() < 0.1 * expected,
        "saved {saved} s, expected {expected} s"
    );
    assert!(
        full < 0.2 * eager,
        "full-iteration {full} s vs eager {eager} s"
    );
}

#[test]
fn expert_biases_cost_megatrons_unfused_loop_in_the_probabilities_dtype() {
    // GPT-OSS carries biases on its experts; Megatron-Core adds the down projection's bias
    // weighted by the routing probability outside the grouped GEMM, expert by expert, in the
    // probabilities' dtype: 16-bit from the all-to-all dispatcher (12 bytes forward, 16
    // backward per routed element: 28, charged 28 / 3 forward, doubled for the backward), fp32
    // from DeepEP and HybridEP (28 + 40 = 68, charged 68 / 3). Launches with E local experts,
    // forward and backward: 16-bit 6E + 3, fp32 8E + 5, charged a third each forward.
    // DeepSeek-V3 on H100, EP 8 (32 local experts), one 4,096-token microbatch, balanced:
    //   16-bit, per MoE layer forward: 28 / 3 x 4,096 tokens x 8 copies x 7,168 = 2.19 GB
    //   at 3.35 TB/s x 0.85 (memory efficiency) = 0.771 ms; launches (6 x 32 + 3) / 3 = 65
    //   x 4 us = 0.260 ms; forward and backward 3 x 1.031 = 3.09 ms; 58 MoE layers: 0.179 s.
    //   fp32: 68 / 3 bytes (1.872 ms) and (8 x 32 + 5) / 3 = 87 launches (0.348 ms):
    //   58 x 3 x 2.220 ms = 0.386 s.
    let (hw, s, w) = dsv3_ep8();
    let biased = perf::Arch {
        expert_bias: true,
        ..deepseek_v3()
    };
    let c = perf::ModelConstants::default();
    let bytes_s = 4096.0 * 8.0 * 7168.0 / (hw.hbm_bytes_per_s * c.memory_efficiency);
    for (dispatcher, bytes_per_element, launches) in [
        (Dispatcher::AllToAll, 28.0 / 3.0, 65.0),
        (Dispatcher::PerNode, 68.0 / 3.0, 87.0),
    ] {
        let w = Workload {
            moe: MoeRouting {
                dispatcher,
                ..w.moe
            },
            ..w
        };
        let plain = evaluate(&deepseek_v3(), &hw, &s, &w).breakdown.compute_s;
        let with_bias = evaluate(&biased, &hw, &s, &w).breakdown.compute_s;
        let per_layer = bytes_per_element * bytes_s + launches * c.kernel_overhead_s;
        assert_adds(with_bias - plain, 58.0 * 3.0 * per_layer);
    }
}

/// A cost the step adds (seconds) is within 5% of the oracle arithmetic's.
fn assert_adds(added: f64, expected: f64) {
    assert!(
        (added - expected).abs() < 0.05 * expected,
        "added {added} s, expected {expected} s"
    );
}

/// DeepSeek-V3 on 8 H100 at DP 8 with EP 8 inside it and ZeRO-1, one 4,096-token sequence
/// per GPU, balanced routing, BF16 throughout.
fn dsv3_ep8() -> (perf::Hardware, Strategy, Workload) {
    let s = Strategy {
        dp: 8,
        ep: 8,
        zero: 1,
        ..Strategy::single()
    };
    let w = Workload {
        global_batch: 8.0,
        components: Some(ComponentRecipes::uniform(Recipe::Bf16)),
        ..balanced(Precision::Bf16)
    };
    (h100_sxm(), s, w)
}

/// DeepSeek-V3 with GPT-OSS's clamped expert activation.
fn clamped_dsv3() -> perf::Arch {
    perf::Arch {
        glu_clamp: true,
        ..deepseek_v3()
    }
}

#[test]
fn a_clamped_glu_costs_megatrons_clamp_and_concatenation() {
    // GPT-OSS clamps its experts' gated activation; Megatron-Core clamps each half of the FC1
    // output and concatenates them with PyTorch ops before its fused weighted GLU: 18 bytes
    // per FC1-output element over forward and backward (charged 6 forward, doubled for the
    // backward) and 3 launches. DeepSeek-V3's experts (gated, 2,048 wide, 8 copies a token):
    //   elements per MoE layer: 4,096 tokens x 8 copies x 2 x 2,048 = 134.2M
    //   bytes, forward-equivalent: 6 x 134.2M = 805.3 MB at 3.35 TB/s x 0.85 = 0.2828 ms;
    //   3 launches x 4 us = 0.012 ms; forward and backward 3 x 0.2948 = 0.884 ms;
    //   58 MoE layers: 51.3 ms.
    let (hw, s, w) = dsv3_ep8();
    let clamped = clamped_dsv3();
    let plain = evaluate(&deepseek_v3(), &hw, &s, &w).breakdown.compute_s;
    let with_clamp = evaluate(&clamped, &hw, &s, &w).breakdown.compute_s;
    let c = perf::ModelConstants::default();
    let elements = 4096.0 * 8.0 * 2.0 * 2048.0;
    let per_layer =
        6.0 * elements / (hw.hbm_bytes_per_s * c.memory_efficiency) + 3.0 * c.kernel_overhead_s;
    let expected = 58.0 * 3.0 * per_layer;
    let added = with_clamp - plain;
    assert_adds(added, expected);
    // A dense model has no experts to clamp: nothing changes.
    let dense = llama3_70b();
    let dense_clamped = perf::Arch {
        glu_clamp: true,
        ..llama3_70b()
    };
    let s1 = Strategy::single();
    let w1 = Workload::new(1.0, 4096.0, Precision::Bf16);
    assert_eq!(
        evaluate(&dense, &hw, &s1, &w1).step_time_s,
        evaluate(&dense_clamped, &hw, &s1, &w1).step_time_s
    );
}

#[test]
fn a_clamped_glu_keeps_its_clamped_copy_unless_the_activation_is_recomputed() {
    // The clamps' gradients read the FC1 output and the fused GLU keeps the clamped copy: one
    // more FC1 output per layer, 2 bytes x 2 halves x 2,048 x 8 copies x 4,096 tokens = 268 MB
    // per MoE layer (of the stage's layers, every microbatch in flight). Recomputing the
    // activation (`moe_act`) keeps neither and replays the clamp's forward passes.
    let (hw, s, w) = dsv3_ep8();
    let clamped = clamped_dsv3();
    let plain = evaluate(&deepseek_v3(), &hw, &s, &w);
    let kept = evaluate(&clamped, &hw, &s, &w);
    assert!(kept.memory.activations_bytes > plain.memory.activations_bytes);
    let per_layer_plain = perf::activation_bytes_per_layer(&deepseek_v3(), &s, &w);
    let per_layer_kept = perf::activation_bytes_per_layer(&clamped, &s, &w);
    let moe_share = 58.0 / 61.0;
    let copy = 2.0 * 2.0 * 2048.0 * 8.0 * 4096.0;
    assert!(
        ((per_layer_kept - per_layer_plain) - moe_share * copy).abs() < 1e-6 * copy,
        "{} vs {}",
        per_layer_kept - per_layer_plain,
        moe_share * copy
    );
    let recomputed = Strategy {
        recompute: perf::Recompute::Selective,
        recompute_modules: perf::RecomputeModules::MOE_ACT,
        ..s
    };
    assert_eq!(
        perf::activation_bytes_per_layer(&deepseek_v3(), &recomputed, &w),
        perf::activation_bytes_per_layer(&clamped, &recomputed, &w)
    );
    // The replay costs the clamp's forward passes (8 bytes an element) on top of the plain
    // model's activation replay.
    let replay_plain = evaluate(&deepseek_v3(), &hw, &recomputed, &w)
        .breakdown
        .recompute_s;
    let replay_clamped = evaluate(&clamped, &hw, &recomputed, &w)
        .breakdown
        .recompute_s;
    let c = perf::ModelConstants::default();
    let expected =
        58.0 * 8.0 * 4096.0 * 8.0 * 2.0 * 2048.0 / (hw.hbm_bytes_per_s * c.memory_efficiency);
    assert_adds(replay_clamped - replay_plain, expected);
}

#[test]
fn a_plain_all_to_all_sorts_tokens_by_local_expert_and_back() {
    // Megatron-Core's all-to-all dispatcher receives tokens grouped by source rank; with more
    // than one local expert it copies them into one batch per expert and back
    // (`sort_chunks_by_idxs`): 16 bytes per routed element over forward and backward (two
    // copies each way), charged 16 / 3 forward under the element-wise convention, and 2
    // launches. DeepEP and HybridEP deliver tokens grouped by expert and skip it.
    // DeepSeek-V3 on H100, EP 8 inside one node (32 local experts), one 4,096-token sequence:
    //   bytes per MoE layer, forward-equivalent: 16 / 3 x 4,096 tokens x 8 copies x 7,168
    //   = 1.2526 GB at 3.35 TB/s x 0.85 = 0.4398 ms; 2 launches x 4 us = 0.008 ms;
    //   forward and backward 3 x 0.4478 = 1.344 ms; 58 MoE layers: 77.9 ms.
    let (hw, s, w) = dsv3_ep8();
    let hierarchical = Workload {
        moe: MoeRouting {
            dispatcher: perf::Dispatcher::PerNode,
            ..w.moe
        },
        ..w
    };
    let sorted = evaluate(&deepseek_v3(), &hw, &s, &w).breakdown.compute_s;
    let grouped = evaluate(&deepseek_v3(), &hw, &s, &hierarchical)
        .breakdown
        .compute_s;
    let c = perf::ModelConstants::default();
    let per_layer = 16.0 / 3.0 * 4096.0 * 8.0 * 7168.0 / (hw.hbm_bytes_per_s * c.memory_efficiency)
        + 2.0 * c.kernel_overhead_s;
    let expected = 58.0 * 3.0 * per_layer;
    let added = sorted - grouped;
    assert_adds(added, expected);
    // One expert per rank (EP 256 would hold one; here a model of 8 experts at EP 8): nothing
    // to sort, the dispatchers cost the same compute.
    let eight = perf::Arch {
        experts: 8.0,
        ..deepseek_v3()
    };
    assert_eq!(
        evaluate(&eight, &hw, &s, &w).breakdown.compute_s,
        evaluate(&eight, &hw, &s, &hierarchical).breakdown.compute_s
    );
}

mod routing_properties {
    use super::*;
    use proptest::prelude::{any, prop_assert, proptest, ProptestConfig};

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Padding every expert to a capacity of `factor` never waits on the host longer than
        /// a dropless run whose busiest rank carries the same `factor`, and runs the same GPU
        /// work and traffic (the same load, the same kernels, only no host sync); token drop
        /// without padding at a capacity under the imbalance runs the GPU work of a dropless
        /// run at the capacity, and waits on the host no less (its sync comes earlier).
        #[test]
        fn padding_only_takes_the_host_sync_away(
            ep_log in 0u32..4,
            microbatch in 1u32..3,
            seq_log in 10u32..14,
            factor_tenths in 10u32..20,
            graphs in 0u8..3,
            fp8 in any::<bool>(),
        ) {
            let (hw, ep) = (h100_sxm(), 1u32 << ep_log);
            let s = Strategy {
                pp: 4,
                dp: 64,
                ep,
                microbatch,
                zero: 1,
                ..Strategy::single()
            };
            let factor = f64::from(factor_tenths) / 10.0;
            let cuda_graphs = perf::CudaGraphs::parse(
                ["none", "attn+moe_router+moe_preprocess", "full_iteration"][graphs as usize],
            )
            .unwrap();
            let run = |moe: MoeRouting| {
                let w = Workload {
                    moe: MoeRouting { cuda_graphs, ..moe },
                    ..Workload::new(
                        f64::from(64 * microbatch * 4),
                        f64::from(1u32 << seq_log),
                        if fp8 { Precision::Fp8 } else { Precision::Bf16 },
                    )
                };
                evaluate(&deepseek_v3(), &hw, &s, &w)
            };
            let padded = run(MoeRouting::padded(factor));
            // With one expert-parallel rank a dropless run carries the mean while padding still
            // fills every expert to its capacity: compared where EP spreads the experts.
            let dropless = run(MoeRouting { imbalance: factor, ..MoeRouting::default() });
            if ep > 1 {
                let (p, d) = (&padded, &dropless);
                prop_assert!(p.step_time_s <= d.step_time_s);
                let (p, d) = (&p.breakdown, &d.breakdown);
                prop_assert!(p.host_stall_s <= d.host_stall_s, "{p:?}\n{d:?}");
                // The GPU's work and the traffic are the same; only the host's wait (and the
                // pipeline bubble, which is a stage's time) can differ.
                for (a, b) in [
                    (p.matmul_s, d.matmul_s),
                    (p.attention_s, d.attention_s),
                    (p.elementwise_s, d.elementwise_s),
                    (p.ep_comm_s, d.ep_comm_s),
                    (p.dp_comm_s, d.dp_comm_s),
                ] {
                    prop_assert!((a - b).abs() <= 1e-12 * (1.0 + b), "{p:?}\n{d:?}");
                }
            }
            // (Megatron-Core refuses token drop without padding under a moe_preprocess graph.)
            if cuda_graphs.moe_preprocess {
                return Ok(());
            }
            let capped = run(MoeRouting {
                imbalance: factor + 0.5,
                capacity_factor: Some(factor),
                ..MoeRouting::default()
            });
            // The same GPU work and traffic as dropless at the capped load; its sync comes
            // earlier, so the host's wait is never shorter.
            prop_assert!(capped.step_time_s >= dropless.step_time_s);
            let (c, d) = (&capped.breakdown, &dropless.breakdown);
            prop_assert!(c.host_stall_s >= d.host_stall_s, "{c:?}\n{d:?}");
            for (a, b) in [
                (c.matmul_s, d.matmul_s),
                (c.attention_s, d.attention_s),
                (c.ep_comm_s, d.ep_comm_s),
            ] {
                prop_assert!((a - b).abs() <= 1e-12 * (1.0 + b), "{c:?}\n{d:?}");
            }
        }
    }
}

/// The host-bound setup's DeepSeek-V3 step (free memory and links, attention a billion times
/// slower so that only the MoE block can wait on the host) on matmuls of `peak_flops`.
fn matmul_paced_host_stall_s(arch: &perf::Arch, peak_flops: f64) -> f64 {
    let (fast, s) = host_bound_setup();
    let hw = perf::Hardware {
        peak_bf16_flops: peak_flops,
        peak_fp8_flops: Some(peak_flops),
        ..fast
    };
    let w = Workload {
        global_batch: 8.0,
        components: Some(ComponentRecipes::uniform(Recipe::Bf16)),
        moe: MoeRouting::balanced(),
        ..Workload::new(8.0, 4096.0, Precision::Bf16)
    };
    let slow_attention = perf::ModelConstants {
        attention_fraction: perf::ModelConstants::default().attention_fraction * 1e-9,
        ..perf::ModelConstants::default()
    };
    perf::evaluate_with(arch, &hw, &s, &w, &slow_attention)
        .breakdown
        .host_stall_s
}

#[test]
fn a_clamped_glus_blocking_copy_makes_the_down_projections_wait_for_their_launches() {
    // Megatron-Core's clamped quick-GeGLU copies its offset to the GPU with a blocking
    // `torch.tensor(..., device=...)`, so the host waits for the GPU inside the MoE block too.
    // DeepSeek-V3 at EP 8 (32 local experts) on matmuls of 2 PFLOP/s: after the dispatcher's
    // sync the host launches 76 + 3 (the clamp) operations, 2.92 ms at 37 us, for about three
    // times the down projections' GPU time; plain, the block keeps the GPU busy throughout (no
    // stall). Clamped, the 39 operations after the copy (the activation, combine, unpermute
    // and the MLP half's closing three, 32 down projections, the restore after the sort) take
    // 1.443 ms on the host and their down projections alone must outlast that, which they do
    // not at 2 PFLOP/s: the GPU waits. Its GPU time is at least its 39 launches' latency, so
    // the wait is at most 39 x (37 - 4) us = 1.287 ms a layer forward (58 MoE layers: 74.6
    // ms). At 1 PFLOP/s the down projections take twice as long and cover the host: no wait.
    let clamped = clamped_dsv3();
    assert_eq!(matmul_paced_host_stall_s(&deepseek_v3(), 2e15), 0.0);
    let stall = matmul_paced_host_stall_s(&clamped, 2e15);
    let bound = 58.0 * 39.0 * launch_excess_s();
    assert!(stall > 0.0 && stall < bound, "{stall} s, at most {bound} s");
    assert_eq!(matmul_paced_host_stall_s(&clamped, 1e15), 0.0);
}
