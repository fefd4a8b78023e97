//! `gigawatt train validate --sources FILE`: a user's own source families, model facts and
//! recipes, read ahead of the shipped `calibration/sources.toml`, for runs the shipped families
//! do not describe; and the bad files it refuses.

mod common;

use common::{ok, refuses, tempdir};
use serde_json::Value;

const EXPERIMENT_CSV: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../calibration/experiments/gpt-oss-followups.csv"
);
const EXPERIMENT_SOURCES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../calibration/experiments/gpt-oss-followups.toml"
);

fn validate_json(args: &[&str]) -> Value {
    let mut all = vec!["train", "validate", "-f", "json"];
    all.extend_from_slice(args);
    serde_json::from_str(&ok(&all)).unwrap()
}

fn row<'a>(v: &'a Value, id: &str) -> &'a Value {
    v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id)
        .unwrap_or_else(|| panic!("no row `{id}`"))
}

fn filled(row: &Value) -> String {
    row["filled"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect::<Vec<_>>()
        .join("; ")
}

/// The shipped experiment (docs/validation-training.md, "GPT-OSS after 26.04.01") runs: its
/// three families come from its sources file, every row is compared, and each row reads the
/// recipe its file gives it. Without the file its rows match no family.
#[test]
fn the_gpt_oss_experiment_reads_its_own_families_and_recipes() {
    let v = validate_json(&["--sources", EXPERIMENT_SOURCES, EXPERIMENT_CSV]);
    let families: Vec<&str> = v["families"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        families,
        [
            "mbridge-card2606",
            "mbridge-pr3561",
            "mbridge2608",
            "mbridge2606"
        ]
    );
    assert_eq!(v["coverage"]["evaluated"], 8);
    assert!(filled(row(&v, "mbridge_2608_gb200_gpt-oss-120b_mxfp8"))
        .contains("cuda_graphs=full_iteration"));
    assert!(
        filled(row(&v, "mbridge_pr3561_gb200_gpt-oss-120b_bf16_hybridep"))
            .contains("dispatcher_sms=32")
    );
    assert!(
        !filled(row(&v, "mbridge_pr3561_gb200_gpt-oss-120b_bf16_alltoall"))
            .contains("dispatcher_sms")
    );

    let without = validate_json(&[EXPERIMENT_CSV]);
    assert_eq!(without["coverage"]["evaluated"], 0);
    let skipped = serde_json::to_string(&without["skipped"]).unwrap();
    assert!(skipped.contains("matches no family"), "{skipped}");
}

/// A user's `[[recipe]]` for a shipped row is read ahead of the shipped one: the 26.04.01 GB200
/// GPT-OSS row, run with a full-iteration CUDA graph it did not have, drops its host launches
/// and keeps everything else the shipped recipe says.
#[test]
fn a_users_recipe_wins_over_the_shipped_one() {
    let dir = tempdir();
    let shipped = include_str!("../../../calibration/training-blackwell-moe.csv");
    let mut lines = shipped.lines();
    let header = lines.next().unwrap();
    let id = "mbridge_260401_gb200_gpt-oss-120b_bf16";
    let line = lines.find(|l| l.starts_with(id)).unwrap();
    let csv = dir.join("mine.csv");
    std::fs::write(&csv, format!("{header}\n{line}\n")).unwrap();
    let sources = dir.join("mine.toml");
    std::fs::write(
        &sources,
        format!("[[recipe]]\nrows = [\"{id}\"]\ncuda_graphs = \"full_iteration\"\nsource = \"what if\"\n"),
    )
    .unwrap();

    let before = validate_json(&[csv.to_str().unwrap()]);
    let after = validate_json(&[
        "--sources",
        sources.to_str().unwrap(),
        csv.to_str().unwrap(),
    ]);
    let (before, after) = (row(&before, id), row(&after, id));
    assert!(filled(after).contains("cuda_graphs=full_iteration"));
    // The shipped recipe's other facts still hold.
    for kept in [
        "recompute=selective(layernorm,moe_act)",
        "fp32_gradients=false",
    ] {
        assert!(filled(after).contains(kept), "{}", filled(after));
    }
    let step = |r: &Value| r["predicted_step_time_s"].as_f64().unwrap();
    assert!(
        step(after) <= step(before),
        "a graph takes host time away, never adds it: {} -> {}",
        step(before),
        step(after)
    );
}

/// Bad sources files are refused with exit 2, naming the file, what is wrong and the fix.
#[test]
fn a_bad_sources_file_is_refused_naming_the_file_and_the_fix() {
    let dir = tempdir();
    let cases = [
        (
            "dup.toml",
            "[[family]]\nid = \"mbridge2604\"\npublication = \"p\"\nsource_prefix = [\"x\"]\n\
             framework = \"megatron-bridge-2026\"\nflop_convention = \"megatron-causal\"\n",
            vec!["dup.toml", "`mbridge2604`", "already has", "another id"],
        ),
        (
            "typo.toml",
            "[[recipe]]\nrows = [\"no_such_row\"]\ncuda_graphs = \"none\"\nsource = \"s\"\n",
            vec![
                "typo.toml",
                "`no_such_row`",
                "none of the calibration files",
            ],
        ),
        (
            "defaults.toml",
            "[defaults]\nmicrobatch = 2\nrecompute = \"none\"\nsource = \"s\"\n",
            vec!["defaults.toml", "unknown field `defaults`"],
        ),
        (
            "framework.toml",
            "[[family]]\nid = \"mine\"\npublication = \"p\"\nsource_prefix = [\"x\"]\n\
             framework = \"no-such-framework\"\nflop_convention = \"none\"\n",
            vec![
                "framework.toml",
                "`no-such-framework`",
                "catalog/frameworks.toml",
            ],
        ),
        (
            "graphs.toml",
            "[[recipe]]\nfamily = \"mbridge2604\"\ncuda_graphs = \"everything\"\nsource = \"s\"\n",
            vec!["graphs.toml", "cuda_graphs"],
        ),
    ];
    for (name, text, needles) in cases {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        let mut needles = needles;
        needles.push("fix:");
        refuses(
            &[
                "train",
                "validate",
                "--sources",
                path.to_str().unwrap(),
                EXPERIMENT_CSV,
            ],
            &needles,
        );
    }
    refuses(
        &[
            "train",
            "validate",
            "--sources",
            "/nonexistent/sources.toml",
            EXPERIMENT_CSV,
        ],
        &["/nonexistent/sources.toml", "failed to read"],
    );
}

/// Mutated sources files (a line dropped, a line doubled, a value's text cut short, a key
/// renamed, a number made negative or huge) end in a result or exit 2 with a message: never a
/// panic, never silence. Seeded, so the same mutations every run.
#[test]
fn mutated_sources_files_never_panic() {
    let dir = tempdir();
    let text = std::fs::read_to_string(EXPERIMENT_SOURCES).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = |n: usize| {
        // xorshift64*: a fixed sequence, no dependency.
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        (state.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33) as usize % n.max(1)
    };
    for case in 0..40 {
        let mut mutated: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
        let at = next(mutated.len());
        match case % 6 {
            0 => {
                mutated.remove(at);
            }
            1 => {
                let line = mutated[at].clone();
                mutated.insert(at, line);
            }
            2 => {
                let line = &mutated[at];
                let cut = next(line.chars().count() + 1);
                mutated[at] = line.chars().take(cut).collect();
            }
            3 => mutated[at] = mutated[at].replacen('_', "", 1),
            4 => mutated[at] = mutated[at].replacen("= ", "= -", 1),
            _ => mutated[at] = mutated[at].replacen("32", "4294967296", 1),
        }
        let path = dir.join(format!("mutated-{case}.toml"));
        std::fs::write(&path, mutated.join("\n")).unwrap();
        let output = common::gigawatt()
            .args([
                "train",
                "validate",
                "-f",
                "json",
                "--sources",
                path.to_str().unwrap(),
                EXPERIMENT_CSV,
            ])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!stderr.contains("panicked"), "case {case}: {stderr}");
        match output.status.code() {
            Some(0) => assert!(!output.stdout.is_empty(), "case {case}: no output"),
            Some(2) => assert!(
                stderr.contains(&format!("mutated-{case}.toml")) || stderr.contains("fix:"),
                "case {case}: {stderr}"
            ),
            other => panic!("case {case}: exit {other:?}: {stderr}"),
        }
    }
}
