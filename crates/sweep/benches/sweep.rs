//! Speed of sweeps: points per second of a plan sweep over three scenario axes of the default
//! scenario, and the Parquet writer. Run with `cargo bench -p sweep`.
//!
//! Target (issue 19): 100,000 plan points to Parquet in <= 20 s on the 2-core machine, i.e.
//! <= 200 us per point per core end to end (the CLI figure is in the README).

use catalog::Catalog;
use sweep::{Base, Shard, Sweep, SweepFile};

fn main() {
    divan::main();
}

const SWEEP: &str = r#"
kind = "plan"
[[axis]]
field = "defaults.pue"
range = { start = 1.1, stop = 1.4, count = 10 }
[[axis]]
field = "defaults.electricity_usd_per_kwh"
range = { start = 0.04, stop = 0.12, count = 10 }
[[axis]]
field = "tranche[1].facility_gw"
range = { start = 0.5, stop = 2.0, count = 10 }
"#;

fn sweep(catalog: &Catalog) -> Sweep {
    let file = SweepFile::parse("bench.toml", SWEEP).unwrap();
    let (name, text) = engine::shipped::SCENARIOS[0];
    let base = Base {
        origin: name.into(),
        text: text.into(),
    };
    Sweep::new(catalog, file, base).unwrap()
}

/// 1,000 points on one thread: divide by 1,000 for the time per point.
#[divan::bench(sample_count = 5)]
fn plan_sweep_1000_points_one_thread(bencher: divan::Bencher) {
    let catalog = Catalog::embedded().unwrap();
    let sweep = sweep(&catalog);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    bencher.bench(|| pool.install(|| sweep.run(&catalog, Shard::ALL, &|| {})));
}

#[divan::bench(sample_count = 5)]
fn parquet_of_1000_rows(bencher: divan::Bencher) {
    let catalog = Catalog::embedded().unwrap();
    let table = sweep(&catalog).run(&catalog, Shard::ALL, &|| {});
    bencher.bench(|| sweep::parquet::write(divan::black_box(&table), "bench"));
}
