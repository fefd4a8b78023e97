//! Prints the model's figures next to published ones: `cargo run -p reliability --release
//! --example validation`.

use reliability::{closed_form, simulate, JobSpec, ReliabilityData};

fn main() {
    let data = ReliabilityData::embedded().expect("embedded data");
    let run = |spec: &JobSpec| {
        let (cfg, _) = data.config(spec);
        (simulate(&cfg).expect("valid"), cfg)
    };

    let mut llama = JobSpec::new(16_384, 54.0);
    llama.runs = 100;
    let (s, _) = run(&llama);
    println!(
        "Llama 3, 16,384 H100, 54 days: unexpected {:.1} (p5 {:.0}, p95 {:.0}; published 419), planned {:.1} (47), MTTI {:.2} h (3.1), ETTR {:.1}% at defaults",
        s.unexpected_interruptions.mean,
        s.unexpected_interruptions.p5,
        s.unexpected_interruptions.p95,
        s.planned_interruptions.mean,
        s.mtti_hours.unwrap(),
        s.ettr.mean * 100.0
    );
    llama.async_checkpoint = true;
    llama.checkpoint_interval_min = Some(10.0);
    llama.restart_min = Some(3.0);
    let (s, _) = run(&llama);
    println!(
        "  with async checkpoints every 10 min and a 3-min restart: ETTR {:.1}% (published >90%)",
        s.ettr.mean * 100.0
    );

    for (gpus, published) in [(8u64, "47.7 days"), (1024, "7.9 h")] {
        let mut spec = JobSpec::new(gpus, if gpus == 8 { 20_000.0 } else { 300.0 });
        spec.node_failures_per_1000_days = Some(6.5);
        spec.runs = 20;
        let (s, cfg) = run(&spec);
        println!(
            "RSC-1 rate 6.50/1000 node-days, {gpus} GPUs: MTTF closed form {:.1} h = {:.1} days, simulated {:.1} h; published {published}",
            closed_form::mtti_hours(&cfg),
            closed_form::mtti_hours(&cfg) / 24.0,
            s.mtti_hours.unwrap()
        );
    }

    for (gpus, restart, label) in [
        (100_000u64, None, "defaults"),
        (1_000_000, None, "defaults"),
        (
            1_000_000,
            Some(1.0),
            "1-min restart, async 5-min checkpoints",
        ),
    ] {
        let mut spec = JobSpec::new(gpus, 100.0);
        spec.runs = 8;
        if restart.is_some() {
            spec.restart_min = restart;
            spec.detection_min = Some(0.5);
            spec.async_checkpoint = true;
            spec.checkpoint_interval_min = Some(5.0);
        }
        let (s, cfg) = run(&spec);
        println!(
            "{gpus} H100, 100 days, {label}: MTTI {:.1} min, ETTR {:.1}% (closed form {:.1}%), spares needed p95 {:.0} systems",
            closed_form::mtti_hours(&cfg) * 60.0,
            s.ettr.mean * 100.0,
            s.expected.ettr * 100.0,
            s.peak_systems_in_repair.p95
        );
    }
}
