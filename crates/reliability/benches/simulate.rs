//! Speed of the simulator. Run with `cargo bench -p reliability`.
//!
//! Targets: at least 10 million events per second on one core (the `items/s` column of
//! `events_per_second`), and one 100-day run of a 1,000,000-accelerator job in under a second
//! (`million_gpus_100_days`).

use divan::counter::ItemsCount;
use reliability::{sim, Config, JobSpec, ReliabilityData};

fn main() {
    divan::main();
}

fn config(gpus: u64, days: f64, weibull: Option<f64>) -> Config {
    let data = ReliabilityData::embedded().unwrap();
    let mut spec = JobSpec::new(gpus, days);
    spec.runs = 1;
    spec.weibull_shape = weibull;
    // Checkpoint every 5 minutes, asynchronously: many events of every kind.
    spec.checkpoint_interval_min = Some(5.0);
    spec.async_checkpoint = true;
    spec.restart_min = Some(2.0);
    data.config(&spec).0
}

/// One run, single-threaded; throughput in events per second.
#[divan::bench(args = ["exponential", "weibull"])]
fn events_per_second(bencher: divan::Bencher, lifetime: &str) {
    let cfg = config(100_000, 100.0, (lifetime == "weibull").then_some(0.7));
    let events = sim::run(&cfg, 0).events;
    bencher
        .counter(ItemsCount::new(events as usize))
        .bench(|| sim::run(divan::black_box(&cfg), 0));
}

/// One 100-day run of 1,000,000 accelerators at the default (Llama 3) rates and recovery.
#[divan::bench(sample_count = 20)]
fn million_gpus_100_days(bencher: divan::Bencher) {
    let data = ReliabilityData::embedded().unwrap();
    let mut spec = JobSpec::new(1_000_000, 100.0);
    spec.runs = 1;
    let cfg = data.config(&spec).0;
    let events = sim::run(&cfg, 0).events;
    bencher
        .counter(ItemsCount::new(events as usize))
        .bench(|| sim::run(divan::black_box(&cfg), 0));
}

/// The same job with a 1-minute restart and 2-minute async checkpoints (it progresses, and
/// every kind of event happens).
#[divan::bench(sample_count = 20)]
fn million_gpus_100_days_fast_recovery(bencher: divan::Bencher) {
    let data = ReliabilityData::embedded().unwrap();
    let mut spec = JobSpec::new(1_000_000, 100.0);
    spec.runs = 1;
    spec.restart_min = Some(1.0);
    spec.detection_min = Some(0.5);
    spec.async_checkpoint = true;
    spec.checkpoint_interval_min = Some(2.0);
    let cfg = data.config(&spec).0;
    let events = sim::run(&cfg, 0).events;
    bencher
        .counter(ItemsCount::new(events as usize))
        .bench(|| sim::run(divan::black_box(&cfg), 0));
}
