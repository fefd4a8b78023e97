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
