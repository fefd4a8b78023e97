//! Tensor-parallel communication hidden under the GEMMs, as Transformer Engine's userbuffers
//! run it: the collectives hide, and the GEMMs beside them pay (split into chunks, on the SMs
//! the communication leaves) instead of a fitted share of the hidden time.

use perf::reference::{deepseek_v3, h100_sxm};
use perf::{evaluate, Arch, Precision, Strategy, Workload};

fn tp8(tp_comm_overlap: bool) -> Strategy {
    Strategy {
        tp: 8,
        sequence_parallel: true,
        tp_comm_overlap,
        ..Strategy::single()
    }
}

fn gpt_12k() -> (Arch, Workload) {
    // A GPT-3-like layer stack (12,288 wide) on one 8-GPU node, 4,096-token sequences.
    (
        Arch::gpt(8, 12288, 96, 51200),
        Workload::new(8.0, 4096.0, Precision::Bf16),
    )
}

#[test]
fn hiding_the_tp_collectives_costs_the_gemms_and_still_pays() {
    let (arch, w) = gpt_12k();
    let hw = h100_sxm();
    let exposed = evaluate(&arch, &hw, &tp8(false), &w).breakdown;
    let hidden = evaluate(&arch, &hw, &tp8(true), &w).breakdown;
    // The collectives leave the critical path...
    assert!(
        hidden.tp_comm_s < 0.1 * exposed.tp_comm_s,
        "{exposed:?} {hidden:?}"
    );
    assert!(hidden.hidden_comm_s > 0.0);
    // ...the GEMMs run split and on fewer SMs, so compute grows, with no share charged...
    assert!(
        hidden.compute_s > exposed.compute_s,
        "{exposed:?} {hidden:?}"
    );
    assert_eq!(hidden.overlap_slowdown_s, 0.0);
    // ...the breakdown says how much of the compute that is: the whole difference, the GEMMs
    // being otherwise the same (in line, the column layers' backward collectives slow the
    // GEMMs beside them by the fitted share instead)...
    assert_eq!(exposed.userbuffers_s, 0.0);
    let added = hidden.compute_s - (exposed.compute_s - exposed.overlap_slowdown_s);
    assert!(
        (hidden.userbuffers_s - added).abs() < 1e-9 * added,
        "{exposed:?} {hidden:?}"
    );
    // ...and the step is still faster than with the collectives exposed.
    let step = |b: &perf::Breakdown| b.compute_s + b.tp_comm_s;
    assert!(step(&hidden) < step(&exposed), "{exposed:?} {hidden:?}");
}

#[test]
fn a_chip_with_more_sms_loses_a_smaller_share_to_the_communication() {
    // Transformer Engine reserves 16 SMs whatever the chip: 16 of 132 on H100, 16 of 264 on a
    // chip twice as wide (and otherwise the same), so the bulk and pipelined GEMMs lose less.
    let (arch, w) = gpt_12k();
    let wide = perf::Hardware {
        streaming_multiprocessors: 264.0,
        ..h100_sxm()
    };
    let narrow = evaluate(&arch, &h100_sxm(), &tp8(true), &w).breakdown;
    let wider = evaluate(&arch, &wide, &tp8(true), &w).breakdown;
    assert!(wider.compute_s < narrow.compute_s, "{narrow:?} {wider:?}");
}

#[test]
fn mla_keeps_the_fitted_share() {
    // MLA's low-rank projections are not one column- and one row-parallel pair: its hidden TP
    // traffic still costs the fitted share of its time.
    let arch = deepseek_v3();
    let s = Strategy {
        pp: 8,
        dp: 1,
        ep: 8,
        ..tp8(true)
    };
    let w = Workload::new(64.0, 4096.0, Precision::Bf16);
    let b = evaluate(&arch, &h100_sxm(), &s, &w).breakdown;
    assert!(b.overlap_slowdown_s > 0.0, "{b:?}");
}

#[test]
fn turning_the_overlap_on_never_slows_a_step() {
    // Where the chunks get so small that the split GEMMs cost more than the collectives they
    // hide (short sequences, wide context parallelism), the layout runs with the overlap off:
    // on is never slower than off, at any of these sizes.
    let hw = h100_sxm();
    for hidden in [2048, 8192, 16384] {
        for (seq, cp) in [(1024.0, 1), (4096.0, 1), (8192.0, 8), (32768.0, 32)] {
            for tp in [2, 4, 8] {
                let arch = Arch::gpt(4, hidden, 32, 32000);
                let w = Workload::new(8.0, seq, Precision::Bf16);
                let layout = |on| Strategy { tp, cp, ..tp8(on) };
                let on = evaluate(&arch, &hw, &layout(true), &w).step_time_s;
                let off = evaluate(&arch, &hw, &layout(false), &w).step_time_s;
                assert!(
                    on <= off * (1.0 + 1e-12),
                    "h {hidden} seq {seq} cp {cp} tp {tp}: {on} > {off}"
                );
            }
        }
    }
}

#[test]
fn in_line_sequence_parallel_runs_the_column_backward_beside_its_gemms() {
    // Without userbuffers, plain TP 8 shows all four all-reduce equivalents per layer. With
    // sequence parallelism the column layers' backward reduce-scatters (one equivalent) run
    // beside their weight-gradient GEMMs, and their input's re-gather (another) beside the
    // data-gradient GEMMs (Megatron-LM and Transformer Engine, `async_op=True`): a 12,288-wide
    // layer's QKV and FC1 backward GEMMs are far longer than two collectives over NVLink, so
    // 3 / 4 of the plain run's TP time shows and 2 / 4 of it hides. (The plain run's
    // all-reduces are counted as rings here: on the switch's in-network reduction they would
    // be faster, and the equivalents are a ring's.)
    let (arch, w) = gpt_12k();
    let hw = h100_sxm();
    let rings = perf::Hardware {
        nvls_all_reduce_bytes_per_s: None,
        ..h100_sxm()
    };
    let plain = evaluate(
        &arch,
        &rings,
        &Strategy {
            sequence_parallel: false,
            ..tp8(false)
        },
        &w,
    )
    .breakdown;
    let in_line = evaluate(&arch, &hw, &tp8(false), &w).breakdown;
    assert!(plain.tp_comm_s > 0.0);
    assert!(
        (in_line.tp_comm_s / plain.tp_comm_s - 0.75).abs() < 1e-9,
        "{plain:?} {in_line:?}"
    );
    assert!(
        (in_line.hidden_comm_s / plain.tp_comm_s - 0.5).abs() < 1e-9,
        "{plain:?} {in_line:?}"
    );
}

#[test]
fn in_line_gathers_move_the_recipes_format() {
    // Transformer Engine gathers an FP8 layer's input and output gradient in FP8: the
    // forward's two input gathers and the backward's two gradient gathers (one all-reduce
    // equivalent each, of the four a BF16 run counts) take half the time, so 4 - 1 (column
    // reduce-scatters, beside wgrad) - 0.5 - 0.5 = 2 equivalents show against BF16's 3.
    let (arch, _) = gpt_12k();
    let hw = h100_sxm();
    let at = |precision| {
        evaluate(
            &arch,
            &hw,
            &tp8(false),
            &Workload::new(8.0, 4096.0, precision),
        )
        .breakdown
    };
    let (bf16, fp8) = (at(Precision::Bf16), at(Precision::Fp8));
    assert!(
        (fp8.tp_comm_s / bf16.tp_comm_s - 2.0 / 3.0).abs() < 1e-9,
        "{bf16:?} {fp8:?}"
    );
}

#[test]
fn a_run_known_to_keep_the_overlap_keeps_it() {
    // At 256 tokens a microbatch, TP 8 splits each ring-exchange GEMM into 32-row chunks: the
    // model runs such a layout in line, as a user choosing `--tp-comm-overlap` would. A
    // publication whose recipe kept the overlap on is timed with it (`tp_comm_overlap_as_run`),
    // which costs more here; a step never changes when the overlap is off anyway.
    let (arch, _) = gpt_12k();
    let hw = h100_sxm();
    let w = Workload::new(8.0, 256.0, Precision::Bf16);
    let chosen = evaluate(&arch, &hw, &tp8(true), &w);
    let as_run = evaluate(
        &arch,
        &hw,
        &Strategy {
            tp_comm_overlap_as_run: true,
            ..tp8(true)
        },
        &w,
    );
    assert_eq!(
        chosen.breakdown.userbuffers_s, 0.0,
        "{:?}",
        chosen.breakdown
    );
    assert!(
        as_run.breakdown.userbuffers_s > 0.0,
        "{:?}",
        as_run.breakdown
    );
    assert!(as_run.step_time_s > chosen.step_time_s);
    let off = |as_run| {
        evaluate(
            &arch,
            &hw,
            &Strategy {
                tp_comm_overlap_as_run: as_run,
                ..tp8(false)
            },
            &w,
        )
        .step_time_s
    };
    assert_eq!(off(true), off(false));
}

#[test]
fn a_framework_config_moves_only_what_the_gemms_pay() {
    // The same FP8 layout under Transformer Engine's defaults and under the config
    // Megatron-Bridge's H100 Llama 3 70B preset names: the collectives hide either way, only the
    // GEMMs' extra time (split chunks, SMs given to the communication) differs, and the
    // FP8 config, whose projection and FC2 forward run as ring exchanges on the copy engines
    // instead of a pipeline on 16 SMs, pays less.
    let (arch, _) = gpt_12k();
    let hw = h100_sxm();
    let w = Workload::new(8.0, 4096.0, Precision::Fp8);
    let with = |userbuffers| {
        evaluate(
            &arch,
            &hw,
            &Strategy {
                tp_comm_overlap_as_run: true,
                userbuffers,
                ..tp8(true)
            },
            &w,
        )
        .breakdown
    };
    let defaults = with(perf::train::userbuffers::TE_DEFAULTS);
    let bridge = with(
        perf::train::userbuffers::UserbuffersConfig::named(
            "megatron-bridge:userbuffers_fp8_h100_h8192_tp4_mbs1_seqlen8192",
        )
        .unwrap(),
    );
    assert!(
        bridge.userbuffers_s < defaults.userbuffers_s && bridge.userbuffers_s > 0.0,
        "{defaults:?} {bridge:?}"
    );
    assert_eq!(bridge.tp_comm_s, defaults.tp_comm_s);
    assert_eq!(bridge.hidden_comm_s, defaults.hidden_comm_s);
    let difference = defaults.userbuffers_s - bridge.userbuffers_s;
    assert!(
        (defaults.compute_s - bridge.compute_s - difference).abs() < 1e-9,
        "{defaults:?} {bridge:?}"
    );
    // Without the overlap the config is never read.
    let off = |userbuffers| {
        evaluate(
            &arch,
            &hw,
            &Strategy {
                userbuffers,
                ..tp8(false)
            },
            &w,
        )
        .step_time_s
    };
    assert_eq!(
        off(perf::train::userbuffers::TE_DEFAULTS),
        off(perf::train::userbuffers::BRIDGE_CONFIGS[1])
    );
}
