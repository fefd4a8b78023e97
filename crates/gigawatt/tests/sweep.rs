//! `gigawatt sweep` as a user runs it: the shipped examples, shards, formats, and every bad
//! input refused with exit 2 and a fix.

mod common;

use common::{bad_input, gigawatt, ok, refuses, tempdir};

const REPO: &str = env!("CARGO_MANIFEST_DIR");

fn example(name: &str) -> String {
    format!("{REPO}/../../sweeps/{name}")
}

fn sweep_file(text: &str) -> String {
    let path = tempdir().join("sweep.toml");
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

#[test]
fn the_shipped_plan_example_runs_and_writes_parquet() {
    let out = tempdir().join("results.parquet");
    let output = gigawatt()
        .args([
            "sweep",
            &example("plan-pue-power-price.toml"),
            "--out",
            out.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stderr).contains("swept 120 points of 120"));
    let bytes = std::fs::read(&out).unwrap();
    assert_eq!(
        (&bytes[..4], &bytes[bytes.len() - 4..]),
        (&b"PAR1"[..], &b"PAR1"[..])
    );
}

#[test]
fn the_shipped_train_example_reads_its_base_relative_to_the_sweep_file() {
    let csv = ok(&["sweep", &example("train-layouts.toml")]);
    let mut lines = csv.lines();
    let header = lines.next().unwrap();
    assert!(
        header.starts_with("point,parallelism.tp,parallelism.pp,parallelism.microbatch,feasible"),
        "{header}"
    );
    assert_eq!(lines.count(), 18);
    // Some layout of 175B on 64 A100s fits.
    assert!(
        csv.lines().any(|l| l.split(',').nth(4) == Some("true")),
        "{csv}"
    );
}

#[test]
fn shards_concatenated_and_sorted_are_the_whole_sweep() {
    let file = example("plan-pue-power-price.toml");
    let whole = ok(&["sweep", &file]);
    let mut rows: Vec<String> = Vec::new();
    for k in 1..=3 {
        let part = ok(&["sweep", &file, "--shard", &format!("{k}/3")]);
        rows.extend(part.lines().skip(1).map(str::to_string));
    }
    rows.sort_by_key(|r| r.split(',').next().unwrap().parse::<u64>().unwrap());
    let expected: Vec<&str> = whole.lines().skip(1).collect();
    assert_eq!(rows, expected);
}

#[test]
fn json_and_dry_run_describe_the_same_columns() {
    let file = example("plan-pue-power-price.toml");
    let dry = ok(&["sweep", &file, "--dry-run"]);
    assert!(
        dry.starts_with("120 points (3 axes); 120 in shard 1/1"),
        "{dry}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&ok(&["sweep", &file, "--shard", "1/60", "-f", "json"])).unwrap();
    let names: Vec<&str> = json["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert!(dry.contains(&names.join(", ")), "{dry} vs {names:?}");
    assert_eq!(json["rows"].as_array().unwrap().len(), 2);
}

#[test]
fn an_unknown_axis_field_says_did_you_mean() {
    let err = bad_input(&[
        "sweep",
        &sweep_file("[[axis]]\nfield = \"defaults.peu\"\nvalues = [1.2]\n"),
    ]);
    assert!(
        err.contains(":2:")
            && err.contains("`axis[1].field`")
            && err.contains("did you mean `defaults.pue`?"),
        "{err}"
    );
    let err = bad_input(&[
        "sweep",
        &sweep_file("[[axis]]\nfield = \"tranche[1].facility_gwh\"\nvalues = [1.2]\n"),
    ]);
    assert!(
        err.contains("did you mean `tranche[1].facility_gw`?"),
        "{err}"
    );
}

#[test]
fn an_empty_axis_is_refused() {
    let err = bad_input(&[
        "sweep",
        &sweep_file("[[axis]]\nfield = \"defaults.pue\"\nvalues = []\n"),
    ]);
    assert!(
        err.contains("the axis has no values") && err.contains("fix:"),
        "{err}"
    );
}

#[test]
fn bad_shards_are_refused() {
    let file = example("plan-pue-power-price.toml");
    for shard in ["0/0", "5/4", "0/3", "x", "1/0"] {
        let err = bad_input(&["sweep", &file, "--shard", shard]);
        assert!(
            err.contains("--shard") && err.contains("fix:"),
            "{shard}: {err}"
        );
    }
}

#[test]
fn a_sweep_over_its_stated_size_needs_force() {
    let text = "max_points = 10\n[[axis]]\nfield = \"defaults.pue\"\nrange = { start = 1.1, stop = 1.3, count = 12 }\n";
    let file = sweep_file(text);
    refuses(
        &["sweep", &file],
        &["12 points, over its limit of 10", "--force"],
    );
    let csv = ok(&["sweep", &file, "--force"]);
    assert_eq!(csv.lines().count(), 13);
}

#[test]
fn a_missing_base_or_a_bad_kind_is_refused() {
    let err = bad_input(&[
        "sweep",
        &sweep_file(
            "base = \"openai-nvidia-10gv\"\n[[axis]]\nfield = \"defaults.pue\"\nvalues = [1.2]\n",
        ),
    ]);
    assert!(
        err.contains("did you mean the shipped scenario `openai-nvidia-10gw`?"),
        "{err}"
    );
    refuses(&["sweep", &sweep_file("kind = \"train\"\nbase = \"nope.toml\"\n[[axis]]\nfield = \"parallelism.tp\"\nvalues = [1]\n")], &["no file", "fix:"]);
    let err = bad_input(&[
        "sweep",
        &sweep_file("[[axis]]\nfield = \"defaults.pue\"\nvalues = [0.5, 0.6]\n"),
    ]);
    assert!(
        err.contains("every point of the sweep failed") && err.contains("pue"),
        "{err}"
    );
}

#[test]
fn an_unknown_output_extension_is_refused() {
    let out = tempdir().join("r.xlsx");
    let err = bad_input(&[
        "sweep",
        &example("plan-pue-power-price.toml"),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(
        err.contains("names no output format") && err.contains(".parquet"),
        "{err}"
    );
}
