//! The capability tables search a pruned layout space (`capability_pruning`: the framework's
//! default ZeRO stage, sequence parallelism with tensor parallelism, the least recomputation
//! that fits) for speed. This pins how
//! far its answers move from the whole space's, at table points of the shipped scenarios'
//! systems.

use engine::capability::training::{largest_run, training_system, ModelKind, TrainingSystem};
use engine::capability::CapabilityOptions;

/// The most a capability figure (model parameters) may move from the full search's.
const PARAMS_TOLERANCE: f64 = 0.03;

fn both(system: &str) -> (TrainingSystem, TrainingSystem) {
    let catalog = catalog::Catalog::embedded().unwrap();
    let pruned = training_system(&catalog, system, &[]);
    let full = TrainingSystem {
        pruning: perf::Pruning::none(),
        ..pruned.clone()
    };
    (pruned, full)
}

/// (system, accelerators, kind, parameters pruned, parameters full, MFU pruned, MFU full).
type Row = (String, f64, ModelKind, f64, f64, f64, f64);

fn compare(systems: &[&str], counts: &[f64]) -> Vec<Row> {
    let options = CapabilityOptions::default();
    let mut rows = Vec::new();
    for system in systems {
        let (pruned, full) = both(system);
        for &gpus in counts {
            for kind in [ModelKind::Dense, ModelKind::Moe] {
                let start = std::time::Instant::now();
                let a = largest_run(&pruned, gpus, kind, &options);
                let middle = std::time::Instant::now();
                let b = largest_run(&full, gpus, kind, &options);
                eprintln!(
                    "{system} {gpus} {kind:?}: pruned {:.0} ms, full {:.0} ms",
                    (middle - start).as_secs_f64() * 1e3,
                    middle.elapsed().as_secs_f64() * 1e3
                );
                match (a.run, b.run) {
                    (Some(a), Some(b)) => {
                        if (a.params - b.params).abs() > 1e-6 * b.params {
                            eprintln!(
                                "{system} {gpus} {kind:?}\n  pruned {:?}\n  full   {:?}",
                                a.layout, b.layout
                            );
                        }
                        rows.push((
                            system.to_string(),
                            gpus,
                            kind,
                            a.params,
                            b.params,
                            a.mfu,
                            b.mfu,
                        ))
                    }
                    (None, None) => {}
                    // Pruning never makes a run unknown: where nothing fits in the pruned
                    // space, the whole space is searched.
                    (a, b) => panic!(
                        "{system} {gpus} {kind:?}: pruned {} full {}",
                        a.is_some(),
                        b.is_some()
                    ),
                }
            }
        }
    }
    rows
}

#[test]
fn the_pruned_search_stays_within_its_tolerance() {
    let rows = compare(
        &["gb200-nvl72", "vera-rubin-nvl144"],
        &[1024.0, 16_384.0, 262_144.0],
    );
    assert!(rows.len() >= 10, "{}", rows.len());
    for (system, gpus, kind, pruned, full, mfu_pruned, mfu_full) in rows {
        let moved = (pruned - full) / full;
        // The pruned space is a subset of the full one: it never finds a faster layout.
        assert!(
            mfu_pruned <= mfu_full * (1.0 + 1e-9) || moved.abs() < PARAMS_TOLERANCE,
            "{system} {gpus} {kind:?}"
        );
        assert!(
            moved.abs() <= PARAMS_TOLERANCE,
            "{system} at {gpus} accelerators, {kind:?}: {pruned:.3e} parameters pruned, {full:.3e} full ({:+.1}%; MFU {mfu_pruned:.3} vs {mfu_full:.3})",
            moved * 100.0
        );
    }
}

/// The whole comparison, printed: `cargo test -p engine --release --test capability_search --
/// --ignored --nocapture`.
#[test]
#[ignore]
fn print_the_pruned_search_against_the_full() {
    let counts: Vec<f64> = (0..9).map(|k| 64.0 * 4f64.powi(k)).collect();
    let rows = compare(
        &[
            "gb200-nvl72",
            "vera-rubin-nvl144",
            "dgx-h100",
            "mi450-helios",
        ],
        &counts,
    );
    let mut worst: f64 = 0.0;
    let mut sum = 0.0;
    for (system, gpus, kind, pruned, full, mfu_pruned, mfu_full) in &rows {
        let moved = (pruned - full) / full;
        worst = worst.max(moved.abs());
        sum += moved.abs();
        println!(
            "{system:<20} {gpus:>9} {kind:?}\t{pruned:.4e}\t{full:.4e}\t{:+.2}%\tMFU {mfu_pruned:.4} {mfu_full:.4}",
            moved * 100.0
        );
    }
    println!(
        "{} rows, mean |moved| {:.2}%, worst {:.2}%",
        rows.len(),
        sum / rows.len() as f64 * 100.0,
        worst * 100.0
    );
}
