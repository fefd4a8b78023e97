//! Prints the training model's validation on the shipped calibration files (or the CSVs given):
//! per row, per source family, leave-one-source-out and leave-Blackwell-out.
//! `cargo run --release -p engine --example calibrate [-- FILE.csv ...]`.
//! The same figures come from `gigawatt train validate`; this is for working on the model.

fn main() {
    let catalog = catalog::Catalog::embedded().expect("catalog loads");
    let constants = perf::ModelConstants::default();
    let paths: Vec<String> = std::env::args().skip(1).collect();
    let texts: Vec<(String, String)> = paths
        .iter()
        .map(|p| {
            (
                p.clone(),
                std::fs::read_to_string(p).expect("readable file"),
            )
        })
        .collect();
    let files: Vec<(&str, &str)> = texts
        .iter()
        .map(|(n, t)| (n.as_str(), t.as_str()))
        .collect();
    let started = std::time::Instant::now();
    let v = if files.is_empty() {
        engine::train_validate::validate_shipped(&catalog, &constants)
    } else {
        engine::train_validate::validate_training_files(
            &catalog,
            &files,
            engine::train_validate::SHIPPED_SOURCES,
            &constants,
        )
    }
    .expect("valid files");
    for r in &v.report.rows {
        println!(
            "{:<44} {:<18} {:>8} {:>+8.1}% {:>+8.1}% {} {} {}",
            r.id,
            r.family,
            format!("{:?}", r.status),
            100.0 * r.error.unwrap_or(f64::NAN),
            100.0 * r.loso_error.unwrap_or(f64::NAN),
            if r.predicted_fits == Some(false) {
                "OOM"
            } else {
                ""
            },
            r.reason.clone().unwrap_or_default(),
            r.filled.join("; ")
        );
    }
    for f in &v.report.families {
        println!(
            "{:<18} rows {:>3} cmp {:>3} ref {:>2} oom {:>2} MAE {:>5.1}% med {:>5.1}% p90 {:>5.1}% bias {:>+5.1}% LOSO {:>5.1}% {:?}",
            f.id,
            f.rows,
            f.compared,
            f.refused,
            f.predicted_infeasible,
            100.0 * f.in_sample.mae,
            100.0 * f.in_sample.median,
            100.0 * f.in_sample.p90,
            100.0 * f.in_sample.bias,
            100.0 * f.loso.as_ref().map_or(f64::NAN, |l| l.stats.mae),
            f.refused_by_reason
        );
    }
    println!("in-sample {:?}", v.report.in_sample);
    println!("refit {:?}", v.report.refit);
    println!("loso {:?}", v.report.loso);
    println!("lbo {:?}", v.report.leave_blackwell_out);
    println!("coverage {:?}", v.report.coverage);
    println!("elapsed {:?}", started.elapsed());
}
