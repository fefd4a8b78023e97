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
