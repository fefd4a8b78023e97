//! Prints the training model's error on a calibration file, per case and per source:
//! `cargo run -p engine --example calibrate -- ../shared/calibration/training.csv`.

fn main() {
    let path = std::env::args()
        .nth(1)
        .expect("give the calibration CSV path");
    let text = std::fs::read_to_string(&path).expect("readable file");
    let catalog = catalog::Catalog::embedded().expect("catalog loads");
    let mut constants = perf::ModelConstants::default();
    if std::env::var("FIT").is_ok() {
        // A coarse grid over the constants that are fitted on the whole set.
        let mut best = (f64::INFINITY, constants);
        for d0 in [64.0, 96.0, 128.0, 192.0, 256.0, 384.0] {
            for attention in [0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.7, 0.8] {
                for passes in [14.0, 20.0, 28.0, 40.0, 56.0] {
                    let c = perf::ModelConstants {
                        gemm_half_dim: d0,
                        attention_fraction: attention,
                        elementwise_passes: passes,
                        ..perf::ModelConstants::default()
                    };
                    let r = engine::train::validate_training(&catalog, &text, &c).unwrap();
                    if r.summary.mean_abs_error < best.0 {
                        best = (r.summary.mean_abs_error, c);
                    }
                }
            }
        }
        println!("best MAE {:.2}% with {:?}", 100.0 * best.0, best.1);
        constants = best.1;
    }
    let report = engine::train::validate_training(&catalog, &text, &constants).expect("valid file");
    for case in &report.cases {
        println!(
            "{:<36} {:<24} measured {:>9.3} s predicted {:>9.3} s error {:>+7.1}%{}",
            case.id,
            case.source.name(),
            case.measured_step_time_s,
            case.predicted_step_time_s,
            100.0 * case.error,
            if case.predicted_fits {
                ""
            } else {
                "  (predicted OOM)"
            }
        );
    }
    for skipped in &report.skipped {
        println!("skipped {:<36} {}", skipped.id, skipped.reason);
    }
    let s = &report.summary;
    println!(
        "cases {} MAE {:.1}% bias {:+.1}%",
        s.cases,
        100.0 * s.mean_abs_error,
        100.0 * s.mean_error
    );
    for (source, n, mae) in &s.by_source {
        println!(
            "  {:<26} {:>4} cases MAE {:.1}%",
            source.name(),
            n,
            100.0 * mae
        );
    }
}
