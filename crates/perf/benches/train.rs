//! Speed of the training model: one evaluation, and the full layout search, for a 1T-parameter
//! model on 16,384 H100s. Run with `cargo bench -p perf`.
//!
//! Targets: at least 1,000,000 evaluations per second per core; the full search in under 2 s
//! on the 2-core development machine.

use perf::reference::h100_sxm as h100;
use perf::{Arch, ModelConstants, Precision, Recompute, SearchOptions, Strategy, Workload};

fn main() {
    divan::main();
}

fn workload() -> Workload {
    Workload {
        global_batch: 2048.0,
        seq_len: 2048.0,
        precision: Precision::Bf16,
        components: None,
        moe: perf::MoeRouting::default(),
    }
}

#[divan::bench]
fn evaluate_one_layout(bencher: divan::Bencher) {
    let arch = Arch::gpt(128, 25600, 160, 51200);
    let hw = h100();
    let s = Strategy {
        tp: 8,
        pp: 16,
        dp: 128,
        cp: 1,
        ep: 1,
        virtual_pp: 8,
        microbatch: 1,
        sequence_parallel: true,
        recompute: Recompute::Selective,
        zero: 1,
        ..Strategy::single()
    };
    let w = workload();
    bencher.bench(|| perf::evaluate(divan::black_box(&arch), &hw, divan::black_box(&s), &w));
}

#[divan::bench(sample_count = 10)]
fn search_1t_on_16384_gpus(bencher: divan::Bencher) {
    let arch = Arch::gpt(128, 25600, 160, 51200);
    let hw = h100();
    let options = SearchOptions {
        gpus: 16384,
        top: 5,
        max_microbatch: 16,
    };
    bencher.bench(|| {
        perf::search(
            &arch,
            &hw,
            &workload(),
            &options,
            &ModelConstants::default(),
        )
    });
}
