//! Spec files for the `gigawatt train` tests (`train.rs`, `train_moe.rs`): written to a
//! temporary file and run like a user, and what the answers are checked with.

#![allow(dead_code)]

use serde_json::Value;

use crate::common::{ok, tempdir};

/// An MoE spec (DeepSeek-V3 on 256 H100s, EP 64 across 8 nodes) for the routing and precision
/// cases.
pub const MOE_SPEC: &str = r#"model = "deepseek-v3"
[cluster]
system = "dgx-h100"
gpus = 256
[parallelism]
tp = 1
pp = 4
virtual_pp = 1
ep = 64
microbatch = 1
recompute = "full"
[training]
global_batch = 512
seq_len = 4096
precision = "fp8"
"#;

/// Writes `text` to `spec.toml` in a fresh temporary folder and returns its path.
pub fn spec_file(text: &str) -> String {
    let path = tempdir().join("spec.toml");
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}
/// `gigawatt train --spec` on `spec`, as JSON.
pub fn train_json(spec: &str) -> Value {
    serde_json::from_str(&ok(&["train", "--spec", &spec_file(spec), "-f", "json"])).unwrap()
}
/// Each of `parts` is stated in the assumptions ledger of `run` (a `train_json` answer).
pub fn assert_ledger_states(run: &Value, parts: &[&str]) {
    let ledger = run["assumptions"].to_string();
    for part in parts {
        assert!(ledger.contains(part), "{part}: {ledger}");
    }
}
/// Two runs time the same step (to 1e-12).
pub fn assert_same_step(a: &Value, b: &Value) {
    let step = |v: &Value| v["step_time_s"].as_f64().unwrap();
    assert!(
        (step(a) / step(b) - 1.0).abs() < 1e-12,
        "{} {}",
        step(a),
        step(b)
    );
}
