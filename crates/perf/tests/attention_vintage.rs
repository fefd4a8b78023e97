//! A framework's cuDNN sets its fused-attention kernels' speed on the chip
//! (`perf::train::attention::kernel_speed`): the step grows by exactly the attention time the
//! older kernels add, and nothing else moves.

use perf::reference::{h100_sxm, llama3_70b};
use perf::train::attention::{CudnnVersion, KernelArch};
use perf::{evaluate, Precision, Strategy, Workload};

#[test]
fn an_older_cudnn_adds_only_its_attention_time() {
    // Llama 3 70B, one GPU, one 8k sequence, BF16: no communication, no recompute.
    let arch = llama3_70b();
    let hw = perf::Hardware {
        kernel_arch: KernelArch::Blackwell,
        ..h100_sxm()
    };
    let w = Workload::new(1.0, 8192.0, Precision::Bf16);
    let newest = evaluate(&arch, &hw, &Strategy::single(), &w);
    let old = Strategy {
        cudnn: CudnnVersion::parse("9.7"),
        ..Strategy::single()
    };
    let older = evaluate(&arch, &hw, &old, &w);
    // Forward core attention per layer: 0.5 x 2 x 8192 x 8192 x 64 x 256 = 1.0995e12 FLOP at
    // 794.5e12 x 0.35 = 278.075e12 FLOP/s times Blackwell's length curve, (8192 / 9547) /
    // (4096 / 5451) = 1.141929: 317.544e12 FLOP/s, 3.4625e-3 s. The older kernels add
    // 3.4625e-3 x (1 / 0.85487 - 1) = 5.8783e-4 s forward and 2.5 x 3.4625e-3 x
    // (1 / 0.78829 - 1) = 2.3248e-3 s backward, 2.9126e-3 s a layer, 0.23301 s over 80 layers.
    let added = older.step_time_s - newest.step_time_s;
    assert!((added - 0.23301).abs() < 0.002, "{added}");
    // Unfused attention is GEMMs: the cuDNN version does not touch it.
    let unfused = |cudnn| Strategy {
        flash_attention: false,
        cudnn,
        ..Strategy::single()
    };
    assert_eq!(
        evaluate(&arch, &hw, &unfused(None), &w).step_time_s,
        evaluate(&arch, &hw, &unfused(CudnnVersion::parse("9.7")), &w).step_time_s
    );
    // On Hopper the suite has one version: no vintage ratio.
    assert_eq!(
        evaluate(&arch, &h100_sxm(), &old, &w).step_time_s,
        evaluate(&arch, &h100_sxm(), &Strategy::single(), &w).step_time_s
    );
}

#[test]
fn blackwell_ultra_changes_only_its_attention_time() {
    // The same chip figures either way: only the kernels' level differs.
    let arch = llama3_70b();
    let blackwell = perf::Hardware {
        kernel_arch: KernelArch::Blackwell,
        ..h100_sxm()
    };
    let ultra = perf::Hardware {
        kernel_arch: KernelArch::BlackwellUltra,
        ..blackwell.clone()
    };
    let w = Workload::new(1.0, 8192.0, Precision::Bf16);
    let newest = Strategy {
        cudnn: CudnnVersion::parse("9.22"),
        ..Strategy::single()
    };
    let base = evaluate(&arch, &blackwell, &newest, &w);
    let faster = evaluate(&arch, &ultra, &newest, &w);
    // Forward core attention per layer 3.4625e-3 s (above); per unit of the (here equal) matmul
    // ceiling Blackwell Ultra runs it 1.062658x forward and 0.955112x backward (its measured
    // speed-up over Blackwell less the GEMM speed-up its catalog ceiling already carries):
    // 3.4625e-3 x (1 - 1 / 1.062658) = 2.0416e-4 s saved and 2.5 x 3.4625e-3 x (1 - 1 /
    // 0.955112) = -4.0682e-4 s, -2.0266e-4 s a layer, -0.016213 s over 80 layers.
    let saved = base.step_time_s - faster.step_time_s;
    assert!((saved + 0.016213).abs() < 0.0005, "{saved}");
    // Without a cuDNN version (another framework's kernels) the measurement does not apply.
    assert_eq!(
        evaluate(&arch, &ultra, &Strategy::single(), &w).step_time_s,
        evaluate(&arch, &blackwell, &Strategy::single(), &w).step_time_s
    );
}
