//! `gigawatt infer` with traffic as it arrives (issue 14): length profiles and histograms,
//! prefix-cache hits, the daily peak and a model mix, and each bad input with its field named.

mod common;
use common::{bad_input, ok};

fn spec_file(text: &str) -> String {
    let path = std::env::temp_dir().join(format!(
        "gigawatt-traffic-{}-{:x}.toml",
        std::process::id(),
        text.len() * 31 + text.bytes().map(usize::from).sum::<usize>()
    ));
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

const SPEC: &str = r#"model = "llama3-70b"
[cluster]
system = "dgx-h100"
[serving]
tp = 4
precision = "fp8"
input_tokens = 2000
output_tokens = 500
ttft_slo_s = 2.0
tpot_slo_s = 0.05
[traffic]
profile = "sharegpt"
prefix_cache_hit_rate = 0.3
peak_to_mean = 1.5
"#;

#[test]
fn a_spec_with_a_profile_reports_the_queue_and_the_bins() {
    let v: serde_json::Value =
        serde_json::from_str(&ok(&["infer", "--spec", &spec_file(SPEC), "-f", "json"])).unwrap();
    let t = &v["traffic"];
    assert_eq!(t["profile"], "sharegpt");
    assert_eq!(t["bins"].as_array().unwrap().len(), 16);
    assert_eq!(t["peak_to_mean"], 1.5);
    assert!(t["evaluation"]["queue"]["utilisation"].as_f64().unwrap() < 1.0);
    assert!(t["evaluation"]["prefix_cache_gib"].as_f64().unwrap() > 0.0);
    assert!(v["detail"]["ttft_at_percentile_s"].as_f64().unwrap() <= 2.0);
    // Tokens a day per GPU at the mean load: capacity x 86,400 / 1.5.
    let per_day = t["output_tokens_per_day_per_gpu"].as_f64().unwrap();
    let rate = v["output_tokens_per_s_per_gpu"].as_f64().unwrap();
    assert!((per_day / (rate * 86_400.0 / 1.5) - 1.0).abs() < 1e-9);
}

#[test]
fn a_histogram_spec_is_evaluated_by_its_bins() {
    let spec = SPEC.replace(
        "profile = \"sharegpt\"",
        "bin = [{ input_tokens = 500, output_tokens = 200, share = 0.75 }, { input_tokens = 8000, output_tokens = 800, share = 0.25 }]",
    );
    let v: serde_json::Value =
        serde_json::from_str(&ok(&["infer", "--spec", &spec_file(&spec), "-f", "json"])).unwrap();
    assert_eq!(v["traffic"]["profile"], "histogram");
    // Mean prompt 0.75 x 500 + 0.25 x 8,000 = 2,375.
    assert_eq!(v["traffic"]["evaluation"]["mean_input_tokens"], 2375.0);
}

#[test]
fn bad_traffic_in_a_spec_names_the_field() {
    for (from, to, field) in [
        (
            "profile = \"sharegpt\"",
            "bin = [{ input_tokens = 500, output_tokens = 200, share = 0.5 }, { input_tokens = 800, output_tokens = 80, share = 0.4 }]",
            "`traffic.bin`",
        ),
        (
            "prefix_cache_hit_rate = 0.3",
            "prefix_cache_hit_rate = 1.0",
            "`traffic.prefix_cache_hit_rate`",
        ),
        (
            "prefix_cache_hit_rate = 0.3",
            "prefix_cache_hit_rate = -0.2",
            "`traffic.prefix_cache_hit_rate`",
        ),
        ("peak_to_mean = 1.5", "peak_to_mean = 0.7", "`traffic.peak_to_mean`"),
        ("profile = \"sharegpt\"", "profile = \"sharegtp\"", "`traffic.profile`"),
    ] {
        let err = bad_input(&["infer", "--spec", &spec_file(&SPEC.replace(from, to))]);
        assert!(err.contains(field), "{to}: {err}");
        assert!(err.contains("fix:"), "{err}");
    }
}

const FLEET: [&str; 10] = [
    "infer",
    "fleet",
    "openai-portfolio",
    "--precision",
    "fp8",
    "--profile",
    "sharegpt",
    "--ttft-slo-s",
    "2",
    "--tpot-slo-s=0.05",
];

#[test]
fn fleet_serves_a_three_model_mix_at_its_peak() {
    let mut args = FLEET.to_vec();
    args.extend([
        "--mix",
        "llama3-70b=0.5,deepseek-v3=0.3,llama3-8b=0.2",
        "--prefix-hit-rate",
        "0.3",
        "--peak-to-mean",
        "2",
        "-f",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&ok(&args)).unwrap();
    assert_eq!(v["mix"].as_array().unwrap().len(), 3);
    assert_eq!(v["peak_to_mean"], 2.0);
    assert_eq!(v["mean_to_peak"], 0.5);
    let last = v["timeline"].as_array().unwrap().last().unwrap().clone();
    let rate = last["output_tokens_per_s"].as_f64().unwrap();
    let per_day = last["output_tokens_per_day"].as_f64().unwrap();
    assert!((per_day / (rate * 86_400.0 / 2.0) - 1.0).abs() < 1e-9);
}

#[test]
fn bad_fleet_traffic_names_the_flag() {
    for (extra, expected) in [
        (
            vec!["--model", "llama3-70b", "--prefix-hit-rate", "1"],
            "--prefix-hit-rate is 1",
        ),
        (
            vec!["--model", "llama3-70b", "--peak-to-mean", "0.5"],
            "--peak-to-mean is 0.5",
        ),
        (
            vec!["--mix", "llama3-70b=0.5,llama3-7b=0.5"],
            "unknown model `llama3-7b`",
        ),
        (
            vec!["--mix", "llama3-70b=0.5,llama3-8b=0.4"],
            "--mix shares sum to 0.9",
        ),
        (
            vec!["--model", "llama3-70b", "--profile", "shargpt"],
            "--profile `shargpt` is unknown",
        ),
    ] {
        let mut args: Vec<&str> = FLEET
            .iter()
            .copied()
            .filter(|a| *a != "sharegpt" && *a != "--profile")
            .collect();
        args.extend(["--input-tokens", "1000", "--output-tokens", "200"]);
        args.extend(extra.iter().copied());
        let err = bad_input(&args);
        assert!(err.contains(expected), "{extra:?}: {err}");
        assert!(err.contains("fix:"), "{err}");
    }
}
