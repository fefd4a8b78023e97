//! `gigawatt infer validate`: the serving model against what the sources publish, with issue
//! 14's multi-node MoE pools and server-mode cases reported apart from the headline.

mod common;

use common::{ok, readme_table};
use serde_json::Value;

/// One run of `infer validate -f json` shared by the tests.
fn json() -> &'static Value {
    static JSON: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    JSON.get_or_init(|| serde_json::from_str(&ok(&["infer", "validate", "-f", "json"])).unwrap())
}

#[test]
fn validation_compares_what_the_sources_publish() {
    let v = json();
    let cases = v["cases"].as_array().unwrap();
    // 3 of the 4 calibration rows, SGLang's DeepSeek decode measurement, the 36 TensorRT-LLM
    // B200/GB200 rows, 17 MI300X rows (AMD's vLLM table and OCI's batch table), the H100/H200
    // columns of TensorRT-LLM's v1.0 perf overview (77) and its v0.6.1 H100 and A100 tables
    // (29), each table whole, and its v0.10.0 Hopper FP8 columns (98) with the two MLPerf v4.1
    // rows (the 2024 build: 100, the `tensorrt-llm-2024` engine family, reported apart as
    // `engine_era`, outside the headline); then issue 14's 30
    // cases (calibration/serving-scale.toml): 10
    // multi-node MoE pools, 6 MLPerf Server runs, 14 closed-loop latency points (NIM's 8, the
    // DeepSeek-R1 minimum-latency MTP table's 6), judged outside the fit and reported apart
    // (`scale`).
    assert_eq!(cases.len(), 161 + 100 + 30);
    assert_eq!(v["scale"]["cases"], 30);
    assert_eq!(v["engine_era"]["cases"], 100);
    let pools = cases
        .iter()
        .filter(|c| c["metric"].as_str().unwrap().contains("pool"))
        .count();
    assert_eq!(pools, 10);
    assert_eq!(v["skipped"].as_array().unwrap().len(), 1);
    let amd = cases.iter().filter(|c| c["family"] == "CDNA 3").count();
    assert!(amd >= 8, "{amd}");
    let evaluated = cases.iter().filter(|c| c["evaluated"] == true).count();
    assert!(evaluated * 100 >= 95 * cases.len(), "{evaluated}");
    let families = v["families"].as_array().unwrap();
    // Four GPU generations (Ampere, Hopper, Blackwell, CDNA 3).
    assert!(families.len() > 4, "{families:?}");
    // Issue 13's targets as measured now: in sample <= 12% overall, out of sample (leave one
    // family out) <= 20%; every family but CDNA 3 (15.5%, README: not met) within 15%.
    let all = families.iter().find(|f| f["family"] == "all").unwrap();
    assert!(all["mean_abs_error"].as_f64().unwrap() <= 0.12, "{all}");
    assert!(
        v["leave_family_out_mean_abs_error"].as_f64().unwrap() <= 0.20,
        "{}",
        v["leave_family_out_mean_abs_error"]
    );
    // Issue 14: multi-node MoE pools, prefill and decode, within 20%: at least five, of both.
    let within = |kind: &str| {
        cases
            .iter()
            .filter(|c| c["metric"].as_str().unwrap().contains(kind))
            .filter(|c| c["error"].as_f64().is_some_and(|e| e.abs() <= 0.2))
            .count()
    };
    assert!(
        within("prefill pool") >= 2 && within("decode pool") >= 2,
        "{cases:?}"
    );
    assert!(within("prefill pool") + within("decode pool") >= 4);
    // Every MoE pool case, as issue 14 asks ("each within 20%"); the GB200 FP8 EP4 prefill sits
    // at the edge (+19.96%) with its all-to-all in sequence, as its launch line runs it.
    let pools = kind_count(cases, "prefill pool") + kind_count(cases, "decode pool");
    assert!(pools >= 10, "{pools}");
    assert_eq!(
        within("prefill pool") + within("decode pool"),
        pools,
        "{cases:?}"
    );
    // Server (Poisson arrivals, MLPerf) and latency-bound or loaded closed-loop cases.
    let kind = |k: &str| kind_count(cases, k);
    assert_eq!(kind("(server)"), 6);
    assert_eq!(kind("(closed loop)"), 14);
    assert!(within("(closed loop)") >= 6, "{cases:?}");
    // Speculation as published: MTP 3 (2.82 tokens per step) beats no MTP by more than 1.5x,
    // and the fifth draft layer costs more than it gains (the table's peak at three).
    let rate = |id: &str| {
        cases.iter().find(|c| c["id"] == id).unwrap()["predicted"]
            .as_f64()
            .unwrap()
    };
    let mtp = |k: u32| rate(&format!("trtllm_dsr1_b200_min_latency_mtp{k}"));
    assert!(
        mtp(3) > 1.5 * mtp(0) && mtp(5) < mtp(3),
        "{} {} {}",
        mtp(0),
        mtp(3),
        mtp(5)
    );
    // The queue costs a server throughput against its Offline twin, as MLPerf measured (0.88-0.955).
    for c in cases
        .iter()
        .filter(|c| c["id"].as_str().unwrap().starts_with("mlperf40"))
    {
        let note = c["note"].as_str().unwrap();
        assert!(note.contains("Server/Offline published"), "{note}");
    }
    // Issue 14's MLPerf Server runs, costed with the 2024 runtime's step factor (fitted on
    // TensorRT-LLM's v0.10 table alone, never on them): each within 20%.
    for c in cases
        .iter()
        .filter(|c| c["metric"].as_str().unwrap().contains("(server)"))
    {
        let e = c["error"].as_f64().unwrap();
        assert!(e.abs() <= 0.2, "{} {e}", c["id"]);
    }
    // One server model: the MLPerf v4.1 Server row of calibration/inference.csv and issue
    // 14's case for the same run are costed alike (the OpenOrca lengths, the queue, the 2024
    // build); their figures differ only by the row's own mean output (290.32 against the
    // profile's 290.31 tokens).
    let (row, case) = (
        rate("mlperf41_llama2_70b_h100x8_server_999"),
        rate("mlperf41_llama2_70b_h100x8_server_queue"),
    );
    assert!((row / case - 1.0).abs() < 1e-3, "{row} {case}");
    for f in families.iter().filter(|f| f["family"] != "all") {
        assert!(
            f["leave_family_out_mean_abs_error"].as_f64().unwrap() > 0.0,
            "{f}"
        );
        if f["family"] != "CDNA 3" {
            assert!(f["mean_abs_error"].as_f64().unwrap() <= 0.15, "{f}");
        }
    }
    // The shipped constants are the fit on every case.
    assert_eq!(v["shipped_fit"], v["fit_on_all"]);
    for c in cases {
        assert!(c["predicted"].as_f64().unwrap() > 0.0, "{c}");
    }
}

/// Validation cases whose metric names `kind`.
fn kind_count(cases: &[serde_json::Value], kind: &str) -> usize {
    cases
        .iter()
        .filter(|c| c["metric"].as_str().unwrap().contains(kind))
        .count()
}

#[test]
fn the_readme_family_table_is_what_validate_prints() {
    // The README's table of hardware families ("Serving a model") carries validate's figures at
    // one decimal (each family by the name its row starts with; the `all` row's left-out MAE is
    // the headline), so a model change that moves them fails here until the README follows.
    let v = json();
    let pct = |x: &Value| format!("{:.1}%", x.as_f64().unwrap() * 100.0);
    let families = v["families"].as_array().unwrap();
    let mut checked = 0;
    for row in readme_table(
        "| family | cases | evaluated | MAE in sample | median | p90 | bias | leave-family-out MAE |",
    ) {
        let cells: Vec<&str> = row.iter().map(|c| c.trim_matches('*')).collect();
        let name = cells[0].split(" (").next().unwrap();
        let family = families
            .iter()
            .find(|f| f["family"] == name)
            .unwrap_or_else(|| panic!("no validate family `{name}`"));
        let left_out = if name == "all" {
            &v["leave_family_out_mean_abs_error"]
        } else {
            &family["leave_family_out_mean_abs_error"]
        };
        let printed = [
            family["cases"].to_string(),
            family["evaluated"].to_string(),
            pct(&family["mean_abs_error"]),
            pct(&family["median_abs_error"]),
            pct(&family["p90_abs_error"]),
            format!("{:+.1}%", family["bias"].as_f64().unwrap() * 100.0),
            pct(left_out),
        ];
        // The `all` row marks its left-out figure as the headline.
        let written = cells[1..8]
            .iter()
            .map(|c| c.trim_end_matches(" (headline)"));
        assert!(
            written.eq(printed.iter().map(String::as_str)),
            "README serving row {name:?} is {:?}, validate prints {printed:?}",
            &cells[1..8]
        );
        checked += 1;
    }
    assert_eq!(checked, families.len());
}
