//! Snapshot tests: the JSON of each shipped scenario is pinned, so any change to a number,
//! a source or a field shows up in review. Bless changes with `INSTA_UPDATE=always cargo test`.
//!
//! Floats are rounded to 9 significant digits and timeline rows drop their per-tranche
//! breakdown (it is pinned in `totals`), to keep the snapshots reviewable.

mod common;

use serde_json::Value;

fn round(value: &mut Value) {
    match value {
        Value::Number(n) if n.is_f64() => {
            let x = n.as_f64().unwrap();
            if x != 0.0 {
                let digits = 9 - x.abs().log10().ceil() as i32;
                let factor = 10f64.powi(digits);
                let rounded = (x * factor).round() / factor;
                *value = serde_json::json!(rounded);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(round),
        Value::Object(map) => map.values_mut().for_each(round),
        _ => {}
    }
}

fn pinned(scenario: &str) -> Value {
    let out = common::ok(&["plan", scenario, "--format", "json"]);
    let mut v: Value = serde_json::from_str(&out).unwrap();
    for row in v["timeline"].as_array_mut().unwrap() {
        row.as_object_mut().unwrap().remove("by_tranche");
    }
    // Versions change with every release or catalog edit; the numbers are what is pinned.
    v["engine_version"] = Value::from("[engine]");
    v["catalog_version"] = Value::from("[catalog]");
    round(&mut v);
    v
}

#[test]
fn openai_nvidia_10gw() {
    insta::assert_json_snapshot!(pinned("openai-nvidia-10gw"));
}

#[test]
fn openai_nvidia_2026() {
    insta::assert_json_snapshot!(pinned("openai-nvidia-2026"));
}

#[test]
fn openai_portfolio() {
    insta::assert_json_snapshot!(pinned("openai-portfolio"));
}
