//! Pipeline point-to-point exchanges: where the hops run and when they are on the critical path.

use perf::reference::h100_sxm;
use perf::{evaluate, Arch, Precision, Strategy, Workload};

fn pipelined(dp: u32, virtual_pp: u32) -> Strategy {
    Strategy {
        pp: 2,
        dp,
        virtual_pp,
        ..Strategy::single()
    }
}

#[test]
fn plain_1f1b_exchanges_grow_with_the_microbatches_and_interleaving_hides_them() {
    // 32 layers, 4096 wide, PP 2 on 16 H100s (DP 8): neighbours are 8 ranks apart, on
    // another node. Plain 1F1B blocks on two exchanges per microbatch; the interleaved
    // schedule overlaps its steady-state exchanges and pays only the traversal.
    let arch = Arch::gpt(32, 4096, 32, 32000);
    let hw = h100_sxm();
    let few = Workload::new(64.0, 4096.0, Precision::Bf16);
    let many = Workload::new(512.0, 4096.0, Precision::Bf16);
    let plain_few = evaluate(&arch, &hw, &pipelined(8, 1), &few)
        .breakdown
        .pp_comm_s;
    let plain_many = evaluate(&arch, &hw, &pipelined(8, 1), &many)
        .breakdown
        .pp_comm_s;
    // 8 vs 64 microbatches per rank: the steady part grows eightfold, the traversal stays.
    assert!(plain_many > 6.0 * plain_few, "{plain_few} {plain_many}");
    let interleaved = evaluate(&arch, &hw, &pipelined(8, 4), &many)
        .breakdown
        .pp_comm_s;
    assert!(interleaved < plain_many / 4.0, "{interleaved} {plain_many}");
}

#[test]
fn hops_cross_the_network_when_the_job_leaves_the_node() {
    // The same pipeline on 4 GPUs (DP 2: one node) exchanges over NVLink, on 16 (DP 8) over
    // the network: per microbatch the second costs more although the messages are the same.
    let arch = Arch::gpt(32, 4096, 32, 32000);
    let hw = h100_sxm();
    let w = |dp: f64| Workload::new(8.0 * dp, 4096.0, Precision::Bf16);
    let in_node = evaluate(&arch, &hw, &pipelined(2, 1), &w(2.0))
        .breakdown
        .pp_comm_s;
    let across = evaluate(&arch, &hw, &pipelined(8, 1), &w(8.0))
        .breakdown
        .pp_comm_s;
    assert!(across > 2.0 * in_node, "{in_node} {across}");
}

#[test]
fn interleaved_exchanges_are_earned_not_free() {
    // 32 layers of 4096 across PP 2 on 16 H100s (neighbours on another node), 64 microbatches
    // per rank. With VPP 16 a chunk is one layer, with VPP 2 eight: eight times the exchanges,
    // each under an eighth of the compute, so at least as much shows, and what hides still
    // costs the SMs the copy occupies (the overlap slowdown grows with the exchanges).
    let arch = Arch::gpt(32, 4096, 32, 32000);
    let hw = h100_sxm();
    let w = Workload::new(512.0, 4096.0, Precision::Bf16);
    let coarse = evaluate(&arch, &hw, &pipelined(8, 2), &w).breakdown;
    let fine = evaluate(&arch, &hw, &pipelined(8, 16), &w).breakdown;
    assert!(
        fine.hidden_comm_s > 4.0 * coarse.hidden_comm_s,
        "{coarse:?} {fine:?}"
    );
    assert!(
        fine.overlap_slowdown_s > coarse.overlap_slowdown_s,
        "{coarse:?} {fine:?}"
    );
    assert!(fine.pp_comm_s >= coarse.pp_comm_s, "{coarse:?} {fine:?}");
}
