//! `gigawatt reliability` as a user runs it: outputs, determinism, published figures, bad input.

mod common;

use common::{bad_input, ok};

fn json(args: &[&str]) -> serde_json::Value {
    let mut all = vec!["reliability"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--format", "json"]);
    serde_json::from_str(&ok(&all)).expect("valid JSON")
}

#[test]
fn json_has_the_documented_outputs_and_inputs() {
    let v = json(&[
        "--gpus", "1024", "--days", "10", "--runs", "4", "--seed", "3",
    ]);
    for key in [
        "unexpected_interruptions",
        "planned_interruptions",
        "ettr",
        "mtti_hours",
        "optimal_checkpoint_interval_min",
        "young_daly_interval_min",
        "by_cause",
        "lost_hours",
        "assumptions",
        "sources",
    ] {
        assert!(!v[key].is_null(), "missing {key}");
    }
    assert_eq!(v["seed"], 3);
    assert_eq!(v["runs"], 4);
    assert_eq!(v["inputs"]["gpus"], 1024);
    assert_eq!(v["inputs"]["system"], "dgx-h100");
    assert_eq!(v["inputs"]["systems"], 128);
    let ettr = v["ettr"].as_f64().unwrap();
    assert!(ettr > 0.5 && ettr < 1.0);
    assert!(v["by_cause"]["gpu"]["interruptions"].as_f64().is_some());
    // Every assumption cites a listed source, or is the user's input.
    let sources: Vec<&str> = v["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    for a in v["assumptions"].as_array().unwrap() {
        let s = a["source"].as_str().unwrap();
        assert!(s == "user-input" || sources.contains(&s), "{s}");
    }
}

#[test]
fn the_same_seed_gives_the_same_bytes() {
    let args = [
        "reliability",
        "--gpus",
        "2048",
        "--days",
        "5",
        "--runs",
        "3",
        "--format",
        "json",
    ];
    assert_eq!(ok(&args), ok(&args));
    let table = [
        "reliability",
        "--gpus",
        "2048",
        "--days",
        "5",
        "--runs",
        "3",
    ];
    assert_eq!(ok(&table), ok(&table));
}

#[test]
fn llama3_interruptions_are_reproduced() {
    // 16,384 H100 for 54 days: Llama 3 saw 419 unexpected interruptions (47 planned).
    let v = json(&[
        "--gpus",
        "16384",
        "--days",
        "54",
        "--runs",
        "8",
        "--no-search",
    ]);
    let n = v["unexpected_interruptions"].as_f64().unwrap();
    assert!((n - 419.0).abs() < 30.0, "{n}");
    let mtti = v["mtti_hours"].as_f64().unwrap();
    assert!((mtti - 3.09).abs() < 0.25, "{mtti}");
}

#[test]
fn the_rsc_node_rate_replaces_the_causes() {
    let v = json(&[
        "--gpus",
        "1024",
        "--days",
        "60",
        "--runs",
        "4",
        "--no-search",
        "--node-failures-per-1000-days",
        "6.5",
    ]);
    let causes = v["by_cause"].as_object().unwrap();
    assert_eq!(causes.keys().collect::<Vec<_>>(), ["node"]);
    // 128 nodes x 6.5 / 1,000 per day = 0.832 per day: MTTI 28.8 h.
    assert!((v["inputs"]["failures_per_day"].as_f64().unwrap() - 0.832).abs() < 1e-9);
}

#[test]
fn work_hours_report_a_time_to_finish() {
    let v = json(&[
        "--gpus",
        "512",
        "--work-hours",
        "200",
        "--runs",
        "4",
        "--no-search",
    ]);
    let t = v["time_to_finish_hours"].as_f64().unwrap();
    assert!(t > 200.0 && t < 300.0, "{t}");
}

#[test]
fn rack_scale_systems_count_racks() {
    let v = json(&[
        "--gpus",
        "7200",
        "--days",
        "5",
        "--runs",
        "2",
        "--no-search",
        "--system",
        "gb200-nvl72",
    ]);
    assert_eq!(v["inputs"]["systems"], 100);
    assert_eq!(v["inputs"]["accelerators_per_system"], 72);
}

#[test]
fn the_table_shows_the_summary_and_causes() {
    let out = ok(&[
        "reliability",
        "--gpus",
        "4096",
        "--days",
        "7",
        "--runs",
        "3",
    ]);
    for needle in [
        "Effective training time",
        "Young-Daly",
        "by cause",
        "gpu",
        "hbm",
    ] {
        assert!(out.contains(needle), "missing {needle}:\n{out}");
    }
}

#[test]
fn bad_counts_name_their_flag() {
    let base = ["reliability", "--days", "10"];
    for (flag, value) in [("--gpus", "0"), ("--gpus", "-5"), ("--gpus", "1.5")] {
        let mut args = base.to_vec();
        args.extend_from_slice(&[flag, value]);
        assert!(bad_input(&args).contains(flag));
    }
    let g = ["reliability", "--gpus", "64"];
    for (flag, value) in [
        ("--days", "0"),
        ("--days", "-1"),
        ("--checkpoint-interval-min", "0"),
        ("--checkpoint-write-s", "-3"),
        ("--restart-min", "-1"),
        ("--repair-hours", "0"),
        ("--runs", "0"),
        ("--node-failures-per-1000-days", "0"),
        ("--weibull-shape", "-1"),
        ("--spares", "-1"),
    ] {
        let mut args = g.to_vec();
        if flag != "--days" {
            args.extend_from_slice(&["--days", "1"]);
        }
        args.extend_from_slice(&[flag, value]);
        let stderr = bad_input(&args);
        assert!(stderr.contains(flag), "{flag}: {stderr}");
    }
}

#[test]
fn more_spares_than_the_fleet_is_an_error() {
    // 64 GPUs = 8 systems.
    let stderr = bad_input(&[
        "reliability",
        "--gpus",
        "64",
        "--days",
        "1",
        "--spares",
        "9",
    ]);
    assert!(
        stderr.contains("--spares") && stderr.contains('8'),
        "{stderr}"
    );
}

#[test]
fn an_unknown_system_is_an_error_with_a_hint() {
    let stderr = bad_input(&[
        "reliability",
        "--gpus",
        "64",
        "--days",
        "1",
        "--system",
        "dgx-h10",
    ]);
    assert!(
        stderr.contains("--system") && stderr.contains("dgx-h100"),
        "{stderr}"
    );
}

#[test]
fn days_or_work_hours_is_required() {
    let output = common::gigawatt()
        .args(["reliability", "--gpus", "64"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
}

/// Runs `args`, expecting exit 2 within a few seconds (these inputs used to run for minutes).
fn refused_fast(args: &[&str]) -> String {
    let start = std::time::Instant::now();
    let stderr = bad_input(args);
    assert!(
        start.elapsed() < std::time::Duration::from_secs(10),
        "{args:?} took {:?}",
        start.elapsed()
    );
    assert!(stderr.contains("\n  fix: "), "{args:?}: {stderr}");
    stderr
}

#[test]
fn a_tiny_weibull_shape_is_refused_at_once() {
    for (shape, search) in [("0.01", true), ("0.05", false), ("0.1", false)] {
        let mut args = vec![
            "reliability",
            "--gpus",
            "16384",
            "--days",
            "1",
            "--weibull-shape",
            shape,
        ];
        if !search {
            args.push("--no-search");
        }
        let stderr = refused_fast(&args);
        assert!(
            stderr.contains(&format!(
                "--weibull-shape must be from 0.2 to 10, got {shape}"
            )),
            "{stderr}"
        );
    }
    let stderr = refused_fast(&[
        "reliability",
        "--gpus",
        "64",
        "--days",
        "1",
        "--weibull-shape",
        "11",
    ]);
    assert!(stderr.contains("--weibull-shape must be from 0.2 to 10"));
}

#[test]
fn an_absurd_node_failure_rate_is_refused_at_once() {
    let stderr = refused_fast(&[
        "reliability",
        "--gpus",
        "16384",
        "--days",
        "1",
        "--node-failures-per-1000-days",
        "1e9",
    ]);
    assert!(
        stderr.contains("--node-failures-per-1000-days must be at most 1000, got 1000000000"),
        "{stderr}"
    );
}

#[test]
fn absurd_planned_maintenance_is_refused_at_once() {
    let stderr = refused_fast(&[
        "reliability",
        "--gpus",
        "16384",
        "--days",
        "1",
        "--planned-per-day",
        "1e9",
    ]);
    assert!(
        stderr.contains("--planned-per-day must be at most 24, got 1000000000"),
        "{stderr}"
    );
}

#[test]
fn absurd_work_hours_are_refused_at_once() {
    let stderr = refused_fast(&["reliability", "--gpus", "16384", "--work-hours", "1e9"]);
    assert!(
        stderr.contains("--work-hours must be at most 876000, got 1000000000"),
        "{stderr}"
    );
}

#[test]
fn a_question_over_the_event_budget_is_refused_before_simulating() {
    // Every flag in range, but 1e9 GPUs for 100 years is ~1e13 events.
    let stderr = refused_fast(&[
        "reliability",
        "--gpus",
        "1000000000",
        "--days",
        "36500",
        "--no-search",
    ]);
    assert!(
        stderr.contains("simulation events") && stderr.contains("1,000,000,000"),
        "{stderr}"
    );
    assert!(stderr.contains("--no-search") || stderr.contains("--runs"));
}

#[test]
fn the_bounds_themselves_are_accepted() {
    let v = json(&[
        "--gpus",
        "64",
        "--days",
        "1",
        "--runs",
        "2",
        "--no-search",
        "--weibull-shape",
        "0.2",
        "--planned-per-day",
        "24",
        "--node-failures-per-1000-days",
        "1000",
    ]);
    assert_eq!(v["inputs"]["planned_per_day"], 24.0);
    let v = json(&[
        "--gpus",
        "8",
        "--work-hours",
        "876000",
        "--runs",
        "1",
        "--no-search",
    ]);
    assert!(v["ettr"].as_f64().unwrap() > 0.0);
}

#[test]
fn without_the_search_no_simulated_optimum_is_claimed() {
    let args = [
        "--gpus",
        "16384",
        "--days",
        "54",
        "--runs",
        "2",
        "--no-search",
    ];
    let v = json(&args);
    assert!(v["optimal_checkpoint_interval_min"].is_null(), "{v}");
    assert!(v["interval_search"].is_null());
    // The closed form's optimum is still reported, as a closed form.
    let closed = v["summary"]["expected"]["optimal_interval_min"]
        .as_f64()
        .unwrap();
    assert!((closed - 28.7).abs() < 1.0, "{closed}");
    let mut table = vec!["reliability"];
    table.extend_from_slice(&args);
    let out = ok(&table);
    let line = out
        .lines()
        .find(|l| l.contains("Checkpoint interval"))
        .unwrap();
    assert!(!line.contains("simulated"), "{line}");
    assert!(
        line.contains("Young-Daly") && line.contains("closed-form optimum 28."),
        "{line}"
    );
}
