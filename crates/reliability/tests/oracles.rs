//! The simulator against closed forms and published figures; determinism.

use proptest::prelude::*;
use reliability::closed_form::{self, gamma};
use reliability::{
    search_interval, simulate, Blast, Config, FailureClass, JobSpec, Lifetime, ReliabilityData,
    Stop,
};

/// One exponential class with this job MTTI, enough spares, seed 42.
fn job(mtti_hours: f64, restart: f64, stall: f64, interval: f64, wall: f64, runs: u32) -> Config {
    reliability::reference::exponential_job(mtti_hours, restart, stall, interval, wall, runs, 42)
}

#[test]
fn a_single_exponential_component_fails_at_its_rate() {
    // MTTI 10 h over 2,000 h: Poisson with mean 200 per run; over 16 runs the mean of the
    // counts has standard deviation sqrt(200/16) = 3.5, so +-15 is over 4 sigma.
    let cfg = job(10.0, 0.1, 0.01, 1.0, 2000.0, 16);
    let s = simulate(&cfg).unwrap();
    let mean = s.unexpected_interruptions.mean;
    assert!((mean - 200.0).abs() < 15.0, "{mean}");
    // Pooled MTTI: 10 h +- ~2%.
    assert!((s.mtti_hours.unwrap() / 10.0 - 1.0).abs() < 0.05);
}

#[test]
fn ettr_matches_dalys_closed_form() {
    // M = 10 h, R = 0.2 h, C = 0.05 h, tau = 1 h:
    // exact tau / (M e^(R/M) (e^((tau+C)/M) - 1)) = 1 / (10 x 1.020201 x 0.110711) = 0.88537;
    // first order 1 - C/tau - (R + (tau + C)/2)/M = 1 - 0.05 - 0.0725 = 0.8775.
    let cfg = job(10.0, 0.2, 0.05, 1.0, 5000.0, 16);
    let expected = closed_form::expected_ettr(&cfg);
    assert!((expected - 0.88537).abs() < 1e-4, "{expected}");
    let s = simulate(&cfg).unwrap();
    assert!(
        (s.ettr.mean - expected).abs() < 0.005,
        "simulated {} vs closed form {expected}",
        s.ettr.mean
    );
}

#[test]
fn ettr_follows_the_first_order_rule_for_small_losses() {
    // M = 200 h, R = 0.1 h, no checkpoint cost, tau = 2 h: 1 - (0.1 + 1)/200 = 0.9945.
    let cfg = job(200.0, 0.1, 0.0, 2.0, 20_000.0, 8);
    let s = simulate(&cfg).unwrap();
    assert!((s.ettr.mean - 0.9945).abs() < 0.002, "{}", s.ettr.mean);
}

#[test]
fn the_best_simulated_interval_is_near_young_daly() {
    // M = 10 h, C = 0.05 h: Young sqrt(2 x 0.05 x 10) = 1 h; Daly 0.979 h. The ETTR curve is
    // flat near its top (within 1% from 0.6 to 1.6 h), so the search must land within that.
    let cfg = job(10.0, 0.0, 0.05, 1.0, 3000.0, 8);
    let search = search_interval(&cfg, 8, &|| {}).unwrap().unwrap();
    let young_min = closed_form::young_daly_interval_hours(0.05, 10.0) * 60.0;
    let ratio = search.best_interval_min / young_min;
    assert!(
        (0.55..1.8).contains(&ratio),
        "best {} min",
        search.best_interval_min
    );
    // And the ETTR there is within a hair of the closed form's best.
    let best_closed =
        closed_form::expected_ettr_at(&cfg, closed_form::optimal_interval_hours(&cfg).unwrap());
    assert!((search.best_ettr - best_closed).abs() < 0.01);
}

#[test]
fn the_same_seed_gives_the_same_summary_and_another_seed_does_not() {
    let mut cfg = job(5.0, 0.2, 0.05, 1.0, 500.0, 6);
    cfg.spares = 1;
    cfg.planned_per_hour = 0.02;
    let a = simulate(&cfg).unwrap();
    let b = simulate(&cfg).unwrap();
    assert_eq!(a, b);
    cfg.seed += 1;
    assert_ne!(a, simulate(&cfg).unwrap());
}

#[test]
fn the_thread_count_does_not_change_results() {
    let mut cfg = job(5.0, 0.2, 0.05, 1.0, 500.0, 12);
    cfg.spares = 2;
    let on = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| simulate(&cfg).unwrap())
    };
    assert_eq!(on(1), on(4));
}

#[test]
fn llama3_defaults_reproduce_419_interruptions_in_54_days() {
    // Consistency check (the rates were derived from these figures): 16,384 H100, 54 days.
    // Expected 419; the mean of 12 Poisson(419) counts has sd 5.9.
    let data = ReliabilityData::embedded().unwrap();
    let mut spec = JobSpec::new(16_384, 54.0);
    spec.runs = 12;
    let (cfg, _) = data.config(&spec);
    let s = simulate(&cfg).unwrap();
    let mean = s.unexpected_interruptions.mean;
    assert!((mean - 419.0).abs() < 25.0, "{mean}");
    // ~47 planned (fewer: maintenance during an outage is absorbed by it).
    assert!((35.0..=55.0).contains(&s.planned_interruptions.mean));
    // GPU + HBM are 268 of 419 = 64%.
    let gpu_share = s.by_cause["gpu"].share + s.by_cause["hbm"].share;
    assert!((gpu_share - 0.64).abs() < 0.05, "{gpu_share}");
    // Meta reports > 90% effective training time. With the defaults (hourly blocking
    // checkpoints of 148.8 s, 2.5 + 10 min to detect and restart) the model gives ~75%:
    // 1 - 0.041 - (0.042 + 0.167 + 0.52)/3.09 = 0.72 to first order. Reaching 90% takes
    // asynchronous checkpoints every ~10 minutes and a restart of ~3 minutes:
    // 1 - 0.0018 - (0.042 + 0.05 + 0.085)/3.09 = 0.94 to first order.
    assert!((0.70..0.80).contains(&s.ettr.mean), "{}", s.ettr.mean);
    spec.async_checkpoint = true;
    spec.checkpoint_interval_min = Some(10.0);
    spec.restart_min = Some(3.0);
    spec.runs = 4;
    let s = simulate(&data.config(&spec).0).unwrap();
    assert!(s.ettr.mean > 0.9, "{}", s.ettr.mean);
}

#[test]
fn rsc_node_rate_predicts_mttf_that_falls_as_one_over_n() {
    // RSC-1: 6.50 failures per 1,000 node-days. Predicted MTTF = 1000 / (6.5 x nodes) days:
    // 8 GPUs (1 node) 153.8 days; 1,024 GPUs (128 nodes) 1.202 days = 28.8 h.
    // Published (measured, all job failures): 47.7 days and 7.9 h; ratio 145 vs our 128.
    let data = ReliabilityData::embedded().unwrap();
    let mtti = |gpus: u64| {
        let mut spec = JobSpec::new(gpus, 30.0);
        spec.node_failures_per_1000_days = Some(6.5);
        closed_form::mtti_hours(&data.config(&spec).0)
    };
    assert!((mtti(8) / 24.0 - 153.85).abs() < 0.1);
    assert!((mtti(1024) - 28.85).abs() < 0.05);
    let published_ratio = 47.7 * 24.0 / 7.9;
    let predicted_ratio = mtti(8) / mtti(1024);
    assert!((predicted_ratio / published_ratio - 1.0).abs() < 0.15);
    // The simulator agrees with the closed form at 1,024 GPUs.
    let mut spec = JobSpec::new(1024, 300.0);
    spec.node_failures_per_1000_days = Some(6.5);
    spec.runs = 8;
    let s = simulate(&data.config(&spec).0).unwrap();
    assert!((s.mtti_hours.unwrap() / 28.85 - 1.0).abs() < 0.1);
}

#[test]
fn a_weibull_cohort_follows_its_cumulative_hazard() {
    // 1e6 units, shape 0.7, mean life 1e6 h, 100 h: eta = 1e6 / Gamma(1 + 1/0.7);
    // expected first failures = n (1 - exp(-(T/eta)^k)) ~ n (T/eta)^k; replacements (new
    // units, ~100 h old at most) add a little more, counted by the same formula on average.
    let k = 0.7;
    let eta = 1e6 / gamma(1.0 + 1.0 / k);
    let n = 1e6;
    let expected = n * (100.0 / eta).powf(k);
    let mut cfg = job(1.0, 0.0, 0.0, 1.0, 100.0, 8);
    cfg.classes[0] = FailureClass {
        id: "w".into(),
        name: "w".into(),
        units: n,
        rate_per_unit_hour: 1e-6,
        blast: Blast::None,
        lifetime: Lifetime::Weibull { shape: k },
    };
    let s = simulate(&cfg).unwrap();
    let mean = s.unexpected_interruptions.mean;
    // expected ~ 1e6 x (100 / 7.9e5)^0.7 ~ 1,880; replacements add < 1%.
    assert!((mean / expected - 1.0).abs() < 0.05, "{mean} vs {expected}");
}

#[test]
fn a_weibull_unit_renews_at_its_mean_life() {
    // One unit, shape 2 (wear-out), mean 10 h, renewed on failure: over 20,000 h the renewal
    // theorem gives 2,000 failures per run.
    let mut cfg = job(10.0, 0.0, 0.0, 1.0, 20_000.0, 4);
    cfg.classes[0].units = 1.0;
    cfg.classes[0].rate_per_unit_hour = 0.1;
    cfg.classes[0].lifetime = Lifetime::Weibull { shape: 2.0 };
    let s = simulate(&cfg).unwrap();
    assert!((s.unexpected_interruptions.mean / 2000.0 - 1.0).abs() < 0.03);
}

#[test]
fn without_spares_the_job_waits_for_repairs() {
    // No spares, repair 24 h, MTTI 10 h: most time is spent waiting.
    let mut cfg = job(10.0, 0.1, 0.01, 1.0, 1000.0, 4);
    cfg.spares = 0;
    cfg.repair_hours = 24.0;
    let s = simulate(&cfg).unwrap();
    assert!(s.lost_hours.waiting_for_spares > 500.0);
    // Peak in repair ~ failures within a repair window: several.
    assert!(s.peak_systems_in_repair.max >= 3.0);
    cfg.spares = 50;
    let s = simulate(&cfg).unwrap();
    assert_eq!(s.lost_hours.waiting_for_spares, 0.0);
}

#[test]
fn a_million_gpus_barely_progress_with_default_recovery() {
    // 1M H100 at Llama 3 rates: MTTI = 1 / (1e6 x 0.474/1000 per day) = 3.0 min, shorter than
    // the 10-minute restart, so almost every restart is cut short. One run, 10 days.
    let data = ReliabilityData::embedded().unwrap();
    let mut spec = JobSpec::new(1_000_000, 10.0);
    spec.runs = 1;
    let (cfg, _) = data.config(&spec);
    assert!((closed_form::mtti_hours(&cfg) * 60.0 - 3.04).abs() < 0.05);
    let s = simulate(&cfg).unwrap();
    assert!(s.ettr.mean < 0.05, "{}", s.ettr.mean);
    assert!(s.unexpected_interruptions.mean > 4000.0);
}

#[test]
fn work_target_time_to_finish_matches_the_closed_form() {
    // 100 work-hours at ETTR 0.885 (see above): 113 h wall expected.
    let mut cfg = job(10.0, 0.2, 0.05, 1.0, 1.0, 32);
    cfg.stop = Stop::Work {
        work_hours: 100.0,
        max_wall_hours: 1000.0,
    };
    let s = simulate(&cfg).unwrap();
    assert_eq!(s.runs_finished, Some(32));
    let expected = s.expected.time_to_finish_hours.unwrap();
    assert!((expected - 100.0 / 0.88537).abs() < 0.1);
    let t = s.time_to_finish_hours.unwrap().mean;
    assert!((t / expected - 1.0).abs() < 0.03, "{t} vs {expected}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    #[test]
    fn time_buckets_always_add_up(
        mtti in 0.2f64..50.0,
        restart in 0.0f64..2.0,
        detection in 0.0f64..0.5,
        write in 0.0f64..0.5,
        async_frac in 0.0f64..1.0,
        interval in 0.05f64..5.0,
        spares in 0u64..4,
        planned in 0.0f64..0.1,
        seed in 0u64..1000,
    ) {
        let mut cfg = job(mtti, restart, write, interval, 200.0, 1);
        cfg.systems = 4;
        cfg.spares = spares;
        cfg.classes[0].units = 4.0;
        cfg.classes[0].rate_per_unit_hour = 1.0 / (4.0 * mtti);
        cfg.checkpoint.stall_hours = write * async_frac;
        cfg.detection_hours = detection;
        cfg.repair_hours = 3.0;
        cfg.planned_per_hour = planned;
        cfg.seed = seed;
        let r = reliability::sim::run(&cfg, 0);
        prop_assert!((r.accounted_hours() - r.wall_hours).abs() < 1e-6);
        prop_assert!(r.useful_hours >= 0.0 && r.useful_hours <= r.wall_hours + 1e-9);
    }
}
