//! The models' out-of-sample errors, which widen the capability ranges: one place for the
//! figures the validation sections publish (a test checks them against those sections).
//!
//! - Training step time (`gigawatt train validate`, docs/validation-training.md): mean
//!   absolute error 6.0% leaving each row's source out; 9.2% predicting the 60 Blackwell rows
//!   from a fit on A100/H100 alone. The A100/H100 generations the fit rests on take the first;
//!   every other accelerator (Blackwell, whose rows are the model's weakest, and the generations
//!   with no published training row at all: Rubin, MI400, TPU, Trainium) the second. MoE
//!   models are predicted worse than dense ones on every generation: 11.1% leaving each row's
//!   source out over the 35 MoE rows (against 4.5% on A100 dense rows, 5.8% on H100 dense, 8.4%
//!   on Blackwell dense), so an MoE workload takes that figure where it is the larger.
//! - Serving throughput (`gigawatt infer validate`, README "Serving"): 14.3% leaving each GPU
//!   family out.
//!
//! Each becomes a multiplicative log-normal error whose mean absolute error is the published
//! one: for a normal error, MAE = sigma x sqrt(2 / pi), so sigma = MAE x sqrt(pi / 2). The
//! median is unchanged; a draw multiplies MFU (so training compute and FLOP per year) or the
//! serving rate by exp(sigma z).

/// Training step time, leave one source out: mean absolute error.
pub const TRAINING_LEAVE_ONE_SOURCE_OUT: f64 = 0.060;
/// Training step time, fitted without Blackwell and asked about it: mean absolute error.
pub const TRAINING_LEAVE_BLACKWELL_OUT: f64 = 0.092;
/// Training step time of MoE models, leave one source out, over the MoE rows of every
/// generation: mean absolute error.
pub const TRAINING_MOE_LEAVE_ONE_SOURCE_OUT: f64 = 0.111;
/// Serving throughput, leave one GPU family out: mean absolute error.
pub const SERVING_LEAVE_FAMILY_OUT: f64 = 0.143;

/// The accelerators of the generations the training fit rests on (A100, H100 and their
/// variants: 213 of its 273 rows).
pub const FITTED_TRAINING_ACCELERATORS: [&str; 5] = [
    "a100-sxm-40gb",
    "a100-sxm-80gb",
    "h100-sxm",
    "h800-sxm",
    "h200-sxm",
];

/// The training model's out-of-sample mean absolute error for `accelerator`.
pub fn training_error(accelerator: &str) -> f64 {
    if FITTED_TRAINING_ACCELERATORS.contains(&accelerator) {
        TRAINING_LEAVE_ONE_SOURCE_OUT
    } else {
        TRAINING_LEAVE_BLACKWELL_OUT
    }
}

/// The training model's out-of-sample mean absolute error for `accelerator` running an MoE
/// model (`moe`) or a dense one: the generation's figure ([`training_error`]), or the MoE rows'
/// where the model is MoE and that is the larger (it is on every generation today).
pub fn training_error_for(accelerator: &str, moe: bool) -> f64 {
    let generation = training_error(accelerator);
    if moe {
        generation.max(TRAINING_MOE_LEAVE_ONE_SOURCE_OUT)
    } else {
        generation
    }
}

/// The log-normal sigma whose mean absolute (relative) error is `mae`.
pub fn sigma(mae: f64) -> f64 {
    mae * (std::f64::consts::PI / 2.0).sqrt()
}

/// How the ranges were widened, in a sentence.
pub fn note() -> String {
    format!(
        "Widened by the models' errors out of sample: training MFU by a log-normal error of mean absolute size {:.1}% (leave one source out) on A100/H100 and {:.1}% (leave Blackwell out) on every other accelerator, and the MoE model by {:.1}% (the MoE rows, leave one source out) where that is larger; serving rate by {:.1}% (leave one GPU family out); sigma = error x sqrt(pi/2); model size moves with the square root of compute; one error draw per range draw, shared by every system of a kind.",
        TRAINING_LEAVE_ONE_SOURCE_OUT * 100.0,
        TRAINING_LEAVE_BLACKWELL_OUT * 100.0,
        TRAINING_MOE_LEAVE_ONE_SOURCE_OUT * 100.0,
        SERVING_LEAVE_FAMILY_OUT * 100.0
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The figures are the ones the validation sections publish.
    #[test]
    fn the_errors_are_the_published_ones() {
        let training = include_str!("../../../../docs/validation-training.md");
        let leave_source = format!(
            "leave one source out: MAE {:.1}%",
            TRAINING_LEAVE_ONE_SOURCE_OUT * 100.0
        );
        let leave_blackwell = format!(
            "predict 60 Blackwell rows): MAE {:.1}%",
            TRAINING_LEAVE_BLACKWELL_OUT * 100.0
        );
        // `train validate`'s groups line, pasted in the "Every case" section: "MoE rows x% in
        // sample, y% left out (35 rows)".
        let moe_left_out = format!(
            "{:.1}% left out (35 rows)",
            TRAINING_MOE_LEAVE_ONE_SOURCE_OUT * 100.0
        );
        assert!(training.contains(&leave_source), "{leave_source}");
        assert!(training.contains(&leave_blackwell), "{leave_blackwell}");
        assert!(
            training.contains("MoE rows ") && training.contains(&moe_left_out),
            "{moe_left_out}"
        );
        let readme = include_str!("../../../../README.md");
        let serving = format!(
            "**out of sample first: {:.1}%**",
            SERVING_LEAVE_FAMILY_OUT * 100.0
        );
        assert!(readme.contains(&serving), "{serving}");
    }

    #[test]
    fn sigma_gives_the_stated_mean_absolute_error() {
        // E|sigma z| = sigma sqrt(2/pi): the inverse of `sigma`.
        let s = sigma(0.2);
        assert!((s * (2.0 / std::f64::consts::PI).sqrt() - 0.2).abs() < 1e-12);
        assert_eq!(training_error("h100-sxm"), TRAINING_LEAVE_ONE_SOURCE_OUT);
        assert_eq!(training_error("rubin"), TRAINING_LEAVE_BLACKWELL_OUT);
    }

    #[test]
    fn an_moe_model_takes_the_moe_rows_error_where_it_is_larger() {
        // 11.1% (MoE rows) > 6.0% (A100/H100) and > 9.2% (leave Blackwell out).
        assert_eq!(
            training_error_for("h100-sxm", true),
            TRAINING_MOE_LEAVE_ONE_SOURCE_OUT
        );
        assert_eq!(
            training_error_for("gb200", true),
            TRAINING_MOE_LEAVE_ONE_SOURCE_OUT
        );
        assert_eq!(
            training_error_for("h100-sxm", false),
            TRAINING_LEAVE_ONE_SOURCE_OUT
        );
        assert_eq!(
            training_error_for("gb200", false),
            TRAINING_LEAVE_BLACKWELL_OUT
        );
        assert!(note().contains("11.1%"), "{}", note());
    }
}
