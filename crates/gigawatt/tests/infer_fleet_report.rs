//! `gigawatt infer fleet` as a report: `-f csv` (the monthly timeline) and `-f html` (a
//! self-contained page with charts), `--out FILE`, and bad input.
//!
//! The golden tests pin the HTML and CSV of one shipped scenario (`golden/*.snap`), so any
//! change to a number or to the page shows up in review. Bless changes with
//! `INSTA_UPDATE=always cargo test -p gigawatt --test infer_fleet_report` and review the diff
//! (insta never writes snapshots when `CI` is set, so a missing one fails CI). Versions are
//! redacted and the CSV's floats are rounded to 9 significant digits, as in `snapshots.rs`.

mod common;

use common::{bad_input, gigawatt, ok, refuses, tempdir};
use serde_json::Value;

/// The golden question: the deal as it unfolded, serving Llama 3 70B at 2,000/500 tokens with a
/// 50 ms time per output token.
const FLEET: [&str; 11] = [
    "infer",
    "fleet",
    "openai-nvidia-2026",
    "--model",
    "llama3-70b",
    "--input-tokens",
    "2000",
    "--output-tokens",
    "500",
    "--tpot-slo-s",
    "0.05",
];

const CSV_HEADER: &str = "month,facility_gw,accelerators,output_tokens_per_s,output_tokens_per_s_per_mw,usd_per_million_output_tokens";

fn fleet(extra: &[&str]) -> String {
    let args: Vec<&str> = FLEET.iter().chain(extra).copied().collect();
    ok(&args)
}

fn golden() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("golden");
    settings.set_prepend_module_to_snapshot(false);
    settings
}

/// Rounds a CSV number to 9 significant digits (platform maths may differ in the last bits).
fn round_cell(cell: &str) -> String {
    match cell.parse::<f64>() {
        Ok(x) if x != 0.0 && x.is_finite() => {
            let digits = 9 - x.abs().log10().ceil() as i32;
            let factor = 10f64.powi(digits);
            format!("{}", (x * factor).round() / factor)
        }
        _ => cell.to_string(),
    }
}

#[test]
fn fleet_html_matches_the_golden_report() {
    let html = fleet(&["-f", "html"]);
    let plan: Value =
        serde_json::from_str(&ok(&["plan", "openai-nvidia-2026", "-f", "json"])).unwrap();
    let engine = plan["engine_version"].as_str().unwrap();
    let catalog = plan["catalog_version"].as_str().unwrap();
    let html = html
        .replace(catalog, "[catalog]")
        .replace(&format!("gigawatt {engine}\""), "gigawatt [engine]\"")
        .replace(&format!("gigawatt {engine} "), "gigawatt [engine] ")
        .replace(&format!("<code>{engine}</code>"), "<code>[engine]</code>");
    golden().bind(|| insta::assert_snapshot!("openai_nvidia_2026_llama3_70b_html", html));
}

#[test]
fn fleet_csv_matches_the_golden_timeline() {
    let csv = fleet(&["-f", "csv"]);
    let rounded: String = csv
        .lines()
        .map(|line| {
            let cells: Vec<String> = line.split(',').map(round_cell).collect();
            cells.join(",") + "\n"
        })
        .collect();
    golden().bind(|| insta::assert_snapshot!("openai_nvidia_2026_llama3_70b_csv", rounded));
}

#[test]
fn fleet_html_is_a_self_contained_report() {
    let html = fleet(&["-f", "html"]);
    assert!(
        html.to_ascii_lowercase().starts_with("<!doctype html>"),
        "{}",
        &html[..40]
    );
    assert!(html.ends_with("</html>\n"));
    assert!(html.contains("<svg"));
    assert_eq!(
        html.matches("<svg class=\"chart\"").count(),
        3,
        "tokens/s, cost, decode step"
    );
    assert!(html.contains("llama3-70b"));
    assert!(html.contains("OpenAI-NVIDIA as it unfolded"));
    for part in [
        "Traffic and targets",
        "Output tokens per second",
        "Cost per million output tokens",
        "Best layout per system type",
        "Dense GEMM",
        "KV read",
        "gb200-nvl72",
        "How this is computed",
        "prefix caching",
    ] {
        assert!(html.contains(part), "{part}");
    }
    for forbidden in [
        "<script", "<link", "@import", "url(", "<img", "src=", "http",
    ] {
        assert!(!html.contains(forbidden), "{forbidden}");
    }
    assert_eq!(
        html,
        fleet(&["-f", "html"]),
        "the same input gives the same bytes"
    );
}

#[test]
fn fleet_csv_has_a_row_per_month_matching_the_json() {
    let csv = fleet(&["-f", "csv"]);
    let json: Value = serde_json::from_str(&fleet(&["-f", "json"])).unwrap();
    let timeline = json["timeline"].as_array().unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], CSV_HEADER);
    assert_eq!(lines.len(), timeline.len() + 1);
    for (line, row) in lines[1..].iter().zip(timeline) {
        let cells: Vec<&str> = line.split(',').collect();
        assert_eq!(cells.len(), 6, "{line}");
        assert_eq!(cells[0], row["month"].as_str().unwrap());
        for (cell, key) in cells[1..].iter().zip([
            "facility_gw",
            "accelerators",
            "output_tokens_per_s",
            "output_tokens_per_s_per_mw",
            "usd_per_million_output_tokens",
        ]) {
            match row[key].as_f64() {
                // serde_json's parser may be a bit off in the last digit; std's is exact.
                Some(v) => {
                    let c: f64 = cell.parse().unwrap();
                    assert!((c - v).abs() <= 1e-12 * v.abs(), "{key} in {line}: {v}");
                }
                None => assert!(cell.is_empty(), "null {key} is an empty cell: {line}"),
            }
        }
    }
}

#[test]
fn fleet_table_stays_the_default_and_json_keeps_its_fields() {
    let table = fleet(&[]);
    assert!(table.starts_with("OpenAI-NVIDIA as it unfolded"), "{table}");
    assert!(table.contains("tokens/s/MW"));
    let json: Value = serde_json::from_str(&fleet(&["-f", "json"])).unwrap();
    let mut keys: Vec<&str> = json
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "life_years",
            "mean_to_peak",
            "mix",
            "model",
            "peak_to_mean",
            "scenario",
            "schema_version",
            "systems",
            "timeline",
            "workload"
        ]
    );
}

#[test]
fn fleet_out_writes_the_format_its_extension_names() {
    let dir = tempdir();
    for (name, starts) in [("fleet.html", "<!doctype html>"), ("fleet.csv", CSV_HEADER)] {
        let path = dir.join(name);
        let output = gigawatt()
            .args(FLEET)
            .args(["--out", path.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(output.status.success(), "{output:?}");
        assert!(output.stdout.is_empty());
        assert!(String::from_utf8_lossy(&output.stderr).contains("wrote"));
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with(starts), "{name}");
    }
    // An explicit format wins over the extension.
    let path = dir.join("fleet.txt");
    let output = gigawatt()
        .args(FLEET)
        .args(["-f", "csv", "-o", path.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(output.status.success());
    assert!(std::fs::read_to_string(&path)
        .unwrap()
        .starts_with(CSV_HEADER));
}

#[test]
fn an_unknown_fleet_format_is_bad_input() {
    refuses(
        &[&FLEET[..], &["-f", "pdf"]].concat(),
        &["invalid value 'pdf'", "table, json, csv, html"],
    );
    let dir = tempdir();
    let path = dir.join("fleet.pdf");
    refuses(
        &[&FLEET[..], &["--out", path.to_str().unwrap()]].concat(),
        &["`.pdf` names no output format", "fix:"],
    );
    assert!(!path.exists());
}

#[test]
fn fleet_out_into_a_missing_folder_fails_cleanly() {
    let dir = tempdir().join("missing");
    let path = dir.join("fleet.html");
    let output = gigawatt()
        .args(FLEET)
        .args(["--out", path.to_str().unwrap()])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("failed to write"), "{stderr}");
    assert!(
        stderr.contains("fix: check that the folder exists"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(output.stdout.is_empty());
    assert!(!dir.exists());
}

#[test]
fn fleet_out_reads_an_upper_case_extension_and_a_typo_gets_a_suggestion() {
    let path = tempdir().join("FLEET.HTML");
    ok(&[
        "infer",
        "fleet",
        "openai-nvidia-2026",
        "--model",
        "llama3-70b",
        "--input-tokens",
        "2000",
        "--output-tokens",
        "500",
        "--out",
        path.to_str().unwrap(),
    ]);
    let html = std::fs::read_to_string(&path).unwrap();
    assert!(html.to_lowercase().starts_with("<!doctype html>"));

    let err = bad_input(&[
        "infer",
        "fleet",
        "--model",
        "llama3-70c",
        "--input-tokens",
        "10",
        "--output-tokens",
        "10",
    ]);
    assert!(err.contains("did you mean `llama3-70b`"), "{err}");
}

#[test]
fn a_fleet_that_can_serve_nothing_says_why_instead_of_drawing_empty_charts() {
    let html = ok(&[
        "infer",
        "fleet",
        "openai-nvidia-2026",
        "--model",
        "llama3-405b",
        "--input-tokens",
        "1000000",
        "--output-tokens",
        "1000000",
        "-f",
        "html",
    ]);
    assert!(html.contains("id=\"no-charts\""), "no note");
    assert!(!html.contains("id=\"chart-tokens\""));
    assert!(
        html.contains("layouts tried"),
        "the reason names the search"
    );
}
