//! Sliding-window layers (GPT-OSS: every other layer attends over a 128-token band) run the
//! band's FLOPs at the banded kernel's rate, and MFU counts the band, through the public API.

use perf::reference::h100_sxm;
use perf::{evaluate, Arch, Precision, Strategy, Workload};

/// GPT-OSS-120B's attention shape (36 layers, hidden 2880, 64 query heads and 8 KV heads of
/// width 64), dense here, with `sliding_layers` of its layers on a 128-token band.
fn gpt_oss_like(sliding_layers: f64) -> Arch {
    Arch {
        kv_heads: 8.0,
        head_dim: 64.0,
        sliding_window: if sliding_layers > 0.0 { 128.0 } else { 0.0 },
        sliding_layers,
        ..Arch::gpt(36, 2880, 64, 201_088)
    }
}

#[test]
fn banded_layers_cost_less_and_the_saving_grows_with_the_sequence() {
    let hw = h100_sxm();
    let s = Strategy::single();
    let saving = |seq: f64| {
        let w = Workload::new(1.0, seq, Precision::Bf16);
        let full = evaluate(&gpt_oss_like(0.0), &hw, &s, &w);
        let banded = evaluate(&gpt_oss_like(18.0), &hw, &s, &w);
        assert!(
            banded.breakdown.compute_s < full.breakdown.compute_s,
            "{seq}"
        );
        assert!(
            banded.mfu > 0.0 && banded.mfu <= 1.0,
            "{seq}: {}",
            banded.mfu
        );
        // MFU counts what the step times: the band on 18 layers, the causal half on the rest.
        let tokens = w.global_batch * seq;
        let flops = gpt_oss_like(18.0).model_flops_per_token_causal(seq) * tokens;
        assert!((banded.model_flops_per_step / flops - 1.0).abs() < 1e-12);
        assert!(banded.model_flops_per_step < full.model_flops_per_step);
        (full.breakdown.compute_s - banded.breakdown.compute_s) / full.breakdown.compute_s
    };
    // Full attention grows with the square of the sequence, the band linearly: the band's
    // saving, as a share of the step, grows with the sequence.
    let (short, long) = (saving(4096.0), saving(32768.0));
    assert!(short > 0.0 && long > 2.0 * short, "4k {short}, 32k {long}");
}

#[test]
fn a_band_that_covers_the_sequence_is_full_attention() {
    // A 128-token band over a 128-token sequence changes nothing, to the bit.
    let hw = h100_sxm();
    let s = Strategy::single();
    let w = Workload::new(1.0, 128.0, Precision::Bf16);
    let full = evaluate(&gpt_oss_like(0.0), &hw, &s, &w);
    let banded = evaluate(&gpt_oss_like(18.0), &hw, &s, &w);
    assert_eq!(full.step_time_s, banded.step_time_s);
    assert_eq!(full.model_flops_per_step, banded.model_flops_per_step);
}
