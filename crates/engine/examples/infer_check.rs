//! Prints the serving model's validation compactly (one line a case, then the families):
//! `cargo run -p engine --example infer_check` (`-- --json` for everything).
fn main() {
    let catalog = catalog::Catalog::embedded().unwrap();
    let v = engine::infer::validate_shipped(&catalog).unwrap();
    if std::env::args().any(|a| a == "--json") {
        println!("{}", serde_json::to_string_pretty(&v).unwrap());
        return;
    }
    for c in &v.cases {
        let d = &c.evaluation.decode_step;
        println!(
            "{:<28} {:<10} {:>9.0} {:>9.0} {:>+7.1}%  b{:<5} maxb{:<6} gemm {:.2}ms kv {:.2}ms att {:.2}ms launch {:.2}ms step {:.2}ms",
            c.id,
            c.family,
            c.measured,
            c.predicted,
            100.0 * c.error,
            c.evaluation.batch,
            c.evaluation.max_batch,
            1e3 * d.gemm_s,
            1e3 * d.kv_read_s,
            1e3 * d.attention_compute_s,
            1e3 * d.launch_s,
            1e3 * d.step_s
        );
    }
    for s in &v.skipped {
        println!("skipped {} {}", s.id, s.reason);
    }
    for f in &v.families {
        println!(
            "{:<10} cases {:>3} eval {:>3} MAE {:>5.1}% median {:>5.1}% bias {:>+6.1}% LOFO {}",
            f.family,
            f.cases,
            f.evaluated,
            100.0 * f.mean_abs_error,
            100.0 * f.median_abs_error,
            100.0 * f.bias,
            f.leave_family_out_mean_abs_error
                .map_or("-".into(), |e| format!("{:.1}%", 100.0 * e))
        );
    }
    println!(
        "{}: cases {} MAE {:.1}% median {:.1}% bias {:+.1}%",
        v.scale.family,
        v.scale.cases,
        100.0 * v.scale.mean_abs_error,
        100.0 * v.scale.median_abs_error,
        100.0 * v.scale.bias
    );
    println!("shipped fit: {:?}", v.shipped_fit);
    println!("fit on all:  {:?}", v.fit_on_all);
    for f in &v.families {
        if let Some(r) = &f.refit {
            println!("without {}: {:?}", f.family, r);
        }
    }
    println!(
        "in sample {:.1}%  out of sample {:.1}%",
        100.0 * v.mean_abs_error,
        100.0 * v.leave_family_out_mean_abs_error
    );
}
