//! Training model 2b through the public API: overlap is earned, recipes have their own ceilings
//! and cast costs, MoE routing costs what it should, and MFU counts what is timed.

use perf::reference::{deepseek_v3, h100_sxm};
use perf::{
    evaluate, Arch, ComponentRecipes, Dispatcher, MatmulRate, MatmulRates, MoeRouting, Precision,
    Recipe, Recompute, Strategy, Workload,
};

fn fsdp_65b_on_512() -> (Arch, Strategy, Workload) {
    // A LLaMA-65B-like dense model (80 layers, 8192 wide) under pure FSDP on 512 H100s.
    let arch = Arch::gpt(80, 8192, 64, 32000);
    let s = Strategy {
        dp: 512,
        zero: 3,
        recompute: Recompute::Full,
        overlap_grad_reduce: true,
        overlap_param_gather: true,
        ..Strategy::single()
    };
    (arch, s, Workload::new(1024.0, 2048.0, Precision::Bf16))
}

#[test]
fn fsdp_prefetch_is_not_free() {
    // Before 2b the gathers hid entirely and data-parallel time was 0.000 s. Now the first
    // layer's gather and the last layer's reduce-scatter of every microbatch show, and the
    // hidden rest slows the compute under it.
    let (arch, s, w) = fsdp_65b_on_512();
    let e = evaluate(&arch, &h100_sxm(), &s, &w);
    assert!(e.breakdown.dp_comm_s > 0.0, "{:?}", e.breakdown);
    assert!(e.breakdown.hidden_comm_s > 0.0);
    assert!(e.breakdown.overlap_slowdown_s > 0.0);
    // Overlap still helps: with the overlaps off the step is slower.
    let exposed = Strategy {
        overlap_grad_reduce: false,
        overlap_param_gather: false,
        ..s
    };
    let e_exposed = evaluate(&arch, &h100_sxm(), &exposed, &w);
    assert!(e_exposed.step_time_s > e.step_time_s);
    // And it never beats a network that costs nothing.
    let free = perf::Hardware {
        scale_up_bytes_per_s: 1e30,
        scale_out_bytes_per_s: 1e30,
        ..h100_sxm()
    };
    assert!(evaluate(&arch, &free, &s, &w).step_time_s < e.step_time_s);
}

fn moe_layout() -> (Arch, Strategy) {
    let s = Strategy {
        pp: 16,
        dp: 128,
        ep: 64,
        zero: 1,
        recompute: Recompute::Full,
        ..Strategy::single()
    };
    (deepseek_v3(), s)
}

#[test]
fn expert_imbalance_slows_and_node_limits_cap_the_network_share() {
    let (arch, s) = moe_layout();
    let hw = h100_sxm();
    let mut w = Workload::new(15360.0, 4096.0, Precision::Fp8);
    w.moe = MoeRouting::balanced();
    let balanced = evaluate(&arch, &hw, &s, &w);
    w.moe.imbalance = 1.5;
    let skewed = evaluate(&arch, &hw, &s, &w);
    assert!(skewed.step_time_s > balanced.step_time_s);
    assert!(skewed.breakdown.ep_comm_s > balanced.breakdown.ep_comm_s);
    // EP 64 over 8-GPU nodes: 7 of the 8 copies would cross InfiniBand; limited to 4 nodes,
    // at most 4 do, so the exposed all-to-all shrinks.
    w.moe = MoeRouting {
        imbalance: 1.0,
        node_limit: 4,
        ..MoeRouting::default()
    };
    let limited = evaluate(&arch, &hw, &s, &w);
    assert!(limited.breakdown.ep_comm_s < balanced.breakdown.ep_comm_s);
    // A per-node dispatcher (DeepEP, HybridEP) sends each token once per remote node it
    // reaches: 7 x (1 - (7/8)^8) = 4.6 copies instead of 7, without any node limit.
    w.moe = MoeRouting {
        dispatcher: Dispatcher::PerNode,
        ..MoeRouting::balanced()
    };
    let per_node = evaluate(&arch, &hw, &s, &w);
    assert!(per_node.breakdown.ep_comm_s < balanced.breakdown.ep_comm_s);
}

fn blackwell_like() -> perf::Hardware {
    let rate = |peak: f64, ceiling: f64| {
        Some(MatmulRate {
            peak_flops: peak,
            ceiling_flops: Some(ceiling),
            measured: false,
        })
    };
    perf::Hardware {
        peak_bf16_flops: 2.25e15,
        peak_fp8_flops: Some(4.5e15),
        peak_fp4_flops: Some(9e15),
        hbm_bytes: 180e9,
        hbm_bytes_per_s: 8e12,
        matmul_rates: MatmulRates {
            bf16: rate(2.25e15, 1.75e15),
            fp8: rate(4.5e15, 3.4e15),
            fp8_blockwise: None,
            mxfp8: rate(4.5e15, 3.2e15),
            nvfp4: rate(9e15, 4.0e15),
            mxfp4: None,
        },
        ..h100_sxm()
    }
}

#[test]
fn each_recipe_runs_at_its_own_ceiling_with_its_own_casts() {
    let arch = Arch::gpt(32, 8192, 64, 128256);
    let hw = blackwell_like();
    let s = Strategy {
        tp: 2,
        dp: 4,
        sequence_parallel: true,
        ..Strategy::single()
    };
    let run = |recipe: Recipe| {
        let mut w = Workload::new(64.0, 8192.0, recipe.precision());
        w.components = Some(ComponentRecipes::uniform(recipe));
        evaluate(&arch, &hw, &s, &w)
    };
    // MXFP8 used to run at the per-tensor FP8 ceiling; its own is lower here (3.2 vs 3.4 PF).
    assert!(run(Recipe::Mxfp8).step_time_s > run(Recipe::Fp8Delayed).step_time_s);
    // Current scaling runs the same GEMMs as delayed, plus an amax pass.
    assert!(run(Recipe::Fp8Current).step_time_s > run(Recipe::Fp8Delayed).step_time_s);
    // NVFP4 is faster than BF16 but far from its 4x peak: its ceiling is 44% of peak and its
    // casts are the dearest.
    let (bf16, nvfp4) = (run(Recipe::Bf16), run(Recipe::Nvfp4));
    assert!(nvfp4.step_time_s < bf16.step_time_s);
    assert!(nvfp4.step_time_s > bf16.step_time_s / 3.0);
    // A chip without the format refuses it as infeasible, not a panic.
    let e = run(Recipe::Mxfp4);
    assert!(!e.feasible);
    // Per component: experts in FP4 do not change a dense model; dense layers in BF16 slow it.
    let mut w = Workload::new(64.0, 8192.0, Precision::Fp8);
    w.components = Some(ComponentRecipes {
        attention: Recipe::Fp8Delayed,
        dense: Recipe::Bf16,
        experts: Recipe::Nvfp4,
    });
    let mixed = evaluate(&arch, &hw, &s, &w);
    assert!(mixed.step_time_s > run(Recipe::Fp8Delayed).step_time_s);
    assert!(mixed.step_time_s < bf16.step_time_s);
}

#[test]
fn mfu_counts_the_causal_attention_that_is_timed() {
    // Model FLOPs per step = (6 N + 3 L s heads (d_qk + d_v)) x tokens: half the full-matrix
    // count of the score term, which is what flash attention computes.
    let arch = Arch::gpt(32, 4096, 32, 32000);
    let w = Workload::new(8.0, 131072.0, Precision::Bf16);
    let s = Strategy {
        cp: 8,
        ..Strategy::single()
    };
    let e = evaluate(&arch, &h100_sxm(), &s, &w);
    let tokens = 8.0 * 131072.0;
    let expected = arch.model_flops_per_token_causal(131072.0) * tokens;
    assert!((e.model_flops_per_step / expected - 1.0).abs() < 1e-12);
    assert!(e.model_flops_per_step < arch.model_flops_per_token(131072.0) * tokens * 0.7);
}

#[test]
fn an_oversubscribed_fabric_slows_what_crosses_it() {
    // DP 512 under FSDP crosses the network every microbatch; a 2:1 fabric halves the share
    // of bandwidth each NIC gets beyond its node.
    let (arch, s, w) = fsdp_65b_on_512();
    let blocking = perf::Hardware {
        scale_out_oversubscription: 2.0,
        ..h100_sxm()
    };
    let a = evaluate(&arch, &h100_sxm(), &s, &w);
    let b = evaluate(&arch, &blocking, &s, &w);
    assert!(
        b.breakdown.dp_comm_s + b.breakdown.hidden_comm_s
            > a.breakdown.dp_comm_s + a.breakdown.hidden_comm_s
    );
    assert!(b.step_time_s > a.step_time_s);
}

#[test]
fn per_parameter_collectives_pay_a_ring_step_per_rank_and_buckets_do_not() {
    // GPT-3 175B under ZeRO-3 on 1,536 A100-class GPUs, one sequence per GPU, nothing
    // overlapped (DeepSpeed 0.3 synchronises the device around every gather).
    let arch = Arch::gpt(96, 12288, 96, 51200);
    let s = Strategy {
        dp: 1536,
        zero: 3,
        recompute: Recompute::Full,
        overlap_grad_reduce: false,
        overlap_param_gather: false,
        ..Strategy::single()
    };
    let w = Workload::new(1536.0, 2048.0, Precision::Bf16);
    let hw = h100_sxm();
    let per_layer = evaluate(&arch, &hw, &s, &w);
    let per_parameter = evaluate(
        &arch,
        &hw,
        &Strategy {
            dp_collectives: perf::train::collectives::Granularity::Parameter,
            ..s
        },
        &w,
    );
    // 12 tensors per layer instead of one collective per layer: 11 more ring latencies per
    // layer for each of the two gathers and the reduce-scatter, 96 layers. A ring over 1,536
    // ranks on 8-GPU nodes is 1,344 NVLink steps and 191 network steps; at the default 8 us
    // and 25 us that is 15.5 ms, so about 96 x 11 x 3 x 15.5 ms = 49 s more per step.
    let extra = per_parameter.breakdown.dp_comm_s - per_layer.breakdown.dp_comm_s;
    assert!(
        (extra - 96.0 * 11.0 * 3.0 * 15.527e-3).abs() < 0.5,
        "{extra}"
    );
    // Megatron's buckets grow with the group (max(40M, 1M x DP)), so data parallelism over
    // 2,048 ranks stays a handful of collectives, not one per 40M parameters.
    use perf::train::collectives::Granularity;
    assert_eq!(Granularity::Bucket.calls(175e9 / 8.0, 12.0, 2048.0), 11.0);
}

#[test]
fn fp8_weights_are_gathered_in_eight_bits_and_only_when_the_recipe_keeps_them() {
    // The 65B FSDP layout in FP8 (delayed scaling), 16-bit gradients and nothing overlapped,
    // so every byte shows: per microbatch two gathers of the weights and one reduce-scatter
    // of the gradients, all 2 bytes a parameter (3 units). Gathering FP8 weights moves 1 byte
    // for all but the embedding and output layer (2 x 32,000 x 8,192 = 0.52B of ~65B
    // parameters, 0.8%, stay 16-bit): 2 x 0.504 + 1 = 2.008 units, a ratio of 0.669 once
    // the rings' fixed latencies (which do not shrink with the bytes) are taken out.
    let (arch, s, _) = fsdp_65b_on_512();
    let s = Strategy {
        overlap_grad_reduce: false,
        overlap_param_gather: false,
        fp32_gradients: false,
        ..s
    };
    let fp8 = Workload {
        components: Some(ComponentRecipes::uniform(Recipe::Fp8Delayed)),
        ..Workload::new(1024.0, 2048.0, Precision::Fp8)
    };
    let gathered = Strategy {
        fp8_param_gather: true,
        ..s
    };
    let no_latency = perf::ModelConstants {
        scale_up_latency_s: 0.0,
        scale_out_latency_s: 0.0,
        ..perf::ModelConstants::default()
    };
    let bytes_only = |s: &Strategy, w: &Workload| {
        perf::evaluate_with(&arch, &h100_sxm(), s, w, &no_latency)
            .breakdown
            .dp_comm_s
    };
    let ratio = bytes_only(&gathered, &fp8) / bytes_only(&s, &fp8);
    assert!((ratio - 0.669).abs() < 0.002, "{ratio}");
    let dp = |s: &Strategy, w: &Workload| evaluate(&arch, &h100_sxm(), s, w).breakdown.dp_comm_s;
    assert!(dp(&gathered, &fp8) < dp(&s, &fp8));
    // The FP4 setting does not touch FP8 weights, nor either setting BF16 or MXFP8 ones
    // (MXFP8 is gathered through the 16-bit gradient buffer).
    let fp4_only = Strategy {
        fp4_param_gather: true,
        ..s
    };
    assert_eq!(dp(&fp4_only, &fp8), dp(&s, &fp8));
    let bf16 = Workload::new(1024.0, 2048.0, Precision::Bf16);
    assert_eq!(dp(&gathered, &bf16), dp(&s, &bf16));
    let mxfp8 = Workload {
        components: Some(ComponentRecipes::uniform(Recipe::Mxfp8)),
        ..Workload::new(1024.0, 2048.0, Precision::Fp8)
    };
    let blackwell = blackwell_like();
    let on_blackwell = |s: &Strategy, w: &Workload| {
        let e = evaluate(&arch, &blackwell, s, w);
        assert!(e.step_time_s.is_finite());
        e.breakdown.dp_comm_s
    };
    assert_eq!(on_blackwell(&gathered, &mxfp8), on_blackwell(&s, &mxfp8));
    // NVFP4 weights gathered packed: half a byte, so less again than FP8's byte.
    let nvfp4 = Workload {
        components: Some(ComponentRecipes::uniform(Recipe::Nvfp4)),
        ..Workload::new(1024.0, 2048.0, Precision::Fp4)
    };
    assert!(on_blackwell(&fp4_only, &nvfp4) < on_blackwell(&gathered, &fp8));
    assert_eq!(on_blackwell(&gathered, &nvfp4), on_blackwell(&s, &nvfp4));
}

#[test]
fn recomputing_an_moe_layer_runs_its_dispatch_and_combine_again() {
    // Megatron-Core's recompute re-runs an MoE layer's forward in the backward, its
    // all-to-all dispatch and combine included (full recompute checkpoints whole transformer
    // layers; `moe` in the selective modules checkpoints the MoE layer). In line, each such
    // layer moves 2 one-way transfers more beside the forward's 2 and the backward's 2: the
    // exposed all-to-all of a step recomputing every layer is 6 / 4 = 1.5x the one that
    // recomputes none (DeepSeek-V3 at PP 16 holds 4 layers a stage, each recomputed whole).
    let (arch, full) = moe_layout();
    let hw = h100_sxm();
    let mut w = Workload::new(15360.0, 4096.0, Precision::Fp8);
    w.moe = MoeRouting::balanced();
    let none = Strategy {
        recompute: Recompute::None,
        ..full
    };
    let ep = |s: &Strategy| evaluate(&arch, &hw, s, &w).breakdown.ep_comm_s;
    let ratio = ep(&full) / ep(&none);
    assert!((ratio - 1.5).abs() < 1e-9, "{ratio}");
    // Selective recompute of the whole MoE layer does the same; of its activation alone, not.
    let selective = |modules: &str| Strategy {
        recompute: Recompute::Selective,
        recompute_modules: perf::RecomputeModules::parse(modules).unwrap(),
        ..full
    };
    assert!((ep(&selective("moe")) / ep(&none) - 1.5).abs() < 1e-9);
    assert_eq!(ep(&selective("moe_act")), ep(&none));
}

#[test]
fn nvlink_sharp_speeds_tensor_parallel_all_reduces_and_not_sequence_parallel_ones() {
    // A 65B-like model at TP 8 inside one DGX H100: without sequence parallelism each layer's
    // four TP collectives are all-reduces, which the NVSwitch reduces in the network at
    // 275 GB/s against the ring's 2 x 7/8 of the buffer at the links' rate; with sequence
    // parallelism they are reduce-scatters and all-gathers, which it leaves as they were.
    let arch = Arch::gpt(80, 8192, 64, 32000);
    let w = Workload::new(64.0, 2048.0, Precision::Bf16);
    let ring_only = perf::Hardware {
        nvls_all_reduce_bytes_per_s: None,
        ..h100_sxm()
    };
    for sequence_parallel in [false, true] {
        let s = Strategy {
            tp: 8,
            dp: 8,
            sequence_parallel,
            recompute: Recompute::Full,
            ..Strategy::single()
        };
        let with = evaluate(&arch, &h100_sxm(), &s, &w);
        let without = evaluate(&arch, &ring_only, &s, &w);
        let tp = |e: &perf::Evaluation| e.breakdown.tp_comm_s + e.breakdown.hidden_comm_s;
        if sequence_parallel {
            assert_eq!(with.step_time_s, without.step_time_s);
        } else {
            assert!(tp(&with) < tp(&without), "{:?}", with.breakdown);
            assert!(with.step_time_s < without.step_time_s);
            // Never more than the switch's edge over the ring: 1.75 / 360 x 275 = 1.337x
            // (the reference links run at 80% of 450 GB/s).
            assert!(tp(&without) / tp(&with) <= 1.75 / 360e9 * 275e9 + 1e-9);
        }
    }
}
