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
    if std::env::var("LOSO").is_ok() {
        leave_one_source_out(&catalog, &text);
        return;
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

/// For each source: fit the three constants on the other sources, then score this one, to show
/// how the model does on data it was not fitted on.
fn leave_one_source_out(catalog: &catalog::Catalog, text: &str) {
    let all =
        engine::train::validate_training(catalog, text, &perf::ModelConstants::default()).unwrap();
    let sources: Vec<_> = all.summary.by_source.iter().map(|s| s.0).collect();
    for held_out in sources {
        let mut best = (f64::INFINITY, perf::ModelConstants::default());
        for d0 in [64.0, 96.0, 128.0, 192.0, 256.0, 384.0] {
            for attention in [0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.7, 0.8] {
                for passes in [14.0, 20.0, 28.0, 40.0, 56.0] {
                    let c = perf::ModelConstants {
                        gemm_half_dim: d0,
                        attention_fraction: attention,
                        elementwise_passes: passes,
                        ..perf::ModelConstants::default()
                    };
                    let r = engine::train::validate_training(catalog, text, &c).unwrap();
                    let rest: Vec<_> = r.cases.iter().filter(|c| c.source != held_out).collect();
                    let mae =
                        rest.iter().map(|c| c.error.abs()).sum::<f64>() / rest.len().max(1) as f64;
                    if mae < best.0 {
                        best = (mae, c);
                    }
                }
            }
        }
        let r = engine::train::validate_training(catalog, text, &best.1).unwrap();
        let held: Vec<_> = r.cases.iter().filter(|c| c.source == held_out).collect();
        let mae = held.iter().map(|c| c.error.abs()).sum::<f64>() / held.len().max(1) as f64;
        println!(
            "held out {:<26} {:>4} cases: MAE {:.1}% (fitted on the rest: d0 {}, attention {}, passes {})",
            held_out.name(),
            held.len(),
            100.0 * mae,
            best.1.gemm_half_dim,
            best.1.attention_fraction,
            best.1.elementwise_passes
        );
    }
}
