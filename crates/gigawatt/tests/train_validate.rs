//! `gigawatt train validate`: both calibration files, per source family, out of sample,
//! coverage, and the table / JSON / CSV outputs.

mod common;

use common::{ok, readme_table, refuses, tempdir};
use serde_json::Value;

/// One run of `train validate -f json` shared by the tests (it refits 594 grid points per fold).
fn json() -> &'static Value {
    static JSON: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    JSON.get_or_init(|| serde_json::from_str(&ok(&["train", "validate", "-f", "json"])).unwrap())
}

#[test]
fn json_has_the_documented_fields() {
    let v = json();
    // The first release's fields still work.
    for field in ["cases", "summary", "skipped", "constants"] {
        assert!(!v[field].is_null(), "missing `{field}`");
    }
    let korthikanti = v["summary"]["by_source"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s[0] == "korthikanti2022")
        .unwrap()[2]
        .as_f64()
        .unwrap();
    assert!(korthikanti < 0.05, "Korthikanti MAE {korthikanti}");
    // The new ones.
    for field in [
        "files",
        "rows",
        "families",
        "in_sample",
        "refit",
        "loso",
        "leave_blackwell_out",
        "coverage",
        "grid",
    ] {
        assert!(!v[field].is_null(), "missing `{field}`");
    }
    assert_eq!(v["files"].as_array().unwrap().len(), 2);
    for family in v["families"].as_array().unwrap() {
        for field in [
            "id",
            "publication",
            "framework",
            "rows",
            "excluded",
            "compared",
            "refused",
            "predicted_infeasible",
            "framework_illegal",
            "refused_by_reason",
            "infeasible_by_reason",
            "in_sample",
        ] {
            assert!(
                !family[field].is_null(),
                "family misses `{field}`: {family}"
            );
        }
        for stat in ["n", "mae", "median", "p90", "bias"] {
            assert!(family["in_sample"][stat].is_number(), "{family}");
        }
    }
    for row in v["rows"].as_array().unwrap() {
        for field in ["id", "file", "family", "status", "filled", "generation"] {
            assert!(!row[field].is_null(), "row misses `{field}`: {row}");
        }
    }
    for field in ["mae", "median", "p90", "bias", "fit_rows", "fitted"] {
        assert!(!v["leave_blackwell_out"][field].is_null(), "{field}");
    }
}

#[test]
fn every_source_family_is_named_and_both_files_are_read() {
    let v = json();
    let ids: Vec<&str> = v["families"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    for id in [
        "narayanan2021",
        "korthikanti2022",
        "mosaic",
        "nemo2024",
        "megatron-readme",
        "nemo-longseq-2024",
        "nemo-longseq-2025",
        "nemo2502",
        "mbridge2511",
        "mbridge2604",
    ] {
        assert!(ids.contains(&id), "no family `{id}` in {ids:?}");
    }
    assert!(!ids.contains(&"unknown"), "a row matched no family");
    // 195 + 90 rows.
    assert_eq!(v["coverage"]["rows"], 285);
}

#[test]
fn coverage_is_at_least_95_percent_of_the_rows_not_excluded() {
    let v = json();
    let c = &v["coverage"];
    let (evaluated, eligible) = (
        c["evaluated"].as_u64().unwrap(),
        c["eligible"].as_u64().unwrap(),
    );
    assert_eq!(
        c["rows"].as_u64().unwrap() - c["excluded"].as_u64().unwrap(),
        eligible
    );
    assert!(
        evaluated as f64 >= 0.95 * eligible as f64,
        "coverage {evaluated} / {eligible} is under 95%"
    );
    // Rows predicted not to fit are compared but do not count as fitting.
    assert!(c["evaluated_and_fit"].as_u64().unwrap() <= evaluated);
    // Every compared row has a leave-one-source-out error (its family was held out).
    for row in v["rows"].as_array().unwrap() {
        if row["status"] == "compared" {
            assert!(row["loso_error"].is_number(), "{row}");
        }
    }
}

#[test]
fn the_exclusion_list_is_only_the_self_inconsistent_rows_and_readme_names_them() {
    let v = json();
    let readme = include_str!("../../../calibration/README.md");
    let excluded: Vec<&Value> = v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["status"] == "excluded")
        .collect();
    // NeMo's long-sequence B200 table (layout product a quarter of the GPUs) and two 25.11
    // Megatron-Bridge rows whose printed GA contradicts their batch and layout.
    assert_eq!(excluded.len(), 10);
    for row in excluded {
        let id = row["id"].as_str().unwrap();
        assert!(
            id.starts_with("nemo_longseq_b200_")
                || id == "mbridge_2511_gb300_qwen3-235b-a22b_bf16"
                || id == "mbridge_2511_h100_gpt-oss-120b_bf16",
            "{id}"
        );
        assert!(
            readme.contains(id),
            "calibration/README.md does not name `{id}`"
        );
    }
}

#[test]
fn out_of_sample_errors_hold() {
    // Regression guards at the figures the README reports (docs/validation-training.md).
    let v = json();
    let loso = v["loso"]["mae"].as_f64().unwrap();
    let in_sample = v["in_sample"]["mae"].as_f64().unwrap();
    let blackwell = v["leave_blackwell_out"]["mae"].as_f64().unwrap();
    assert!(loso < 0.066, "leave-one-source-out MAE {loso}");
    assert!(in_sample < 0.065, "in-sample MAE {in_sample}");
    assert!(blackwell < 0.10, "leave-Blackwell-out MAE {blackwell}");
    assert!(v["leave_blackwell_out"]["n"].as_u64().unwrap() >= 50);
}

#[test]
fn the_headline_figures_carry_a_family_bootstrap_interval() {
    // Each interval resamples whole source families, so it lies between the best and the worst
    // family's MAE (a resample can draw one family nine times, never anything outside), and
    // the figure itself, the pooled MAE of the families as they are, lies inside it on these
    // files.
    let v = json();
    let u = &v["uncertainty"];
    assert_eq!(u["resamples"], 2000);
    assert_eq!(u["level"], 0.9);
    assert!(u["method"].as_str().unwrap().contains("source families"));
    let families = v["families"].as_array().unwrap();
    let compared: Vec<&Value> = families
        .iter()
        .filter(|f| f["compared"].as_u64().unwrap() > 0)
        .collect();
    assert_eq!(u["families"].as_u64().unwrap() as usize, compared.len());
    let bounds = |key: &str| {
        compared
            .iter()
            .filter_map(|f| f[key]["mae"].as_f64())
            .fold((f64::INFINITY, 0.0_f64), |(lo, hi), m| {
                (lo.min(m), hi.max(m))
            })
    };
    for (interval, figure, family_key) in [
        ("loso", v["loso"]["mae"].as_f64().unwrap(), "loso"),
        (
            "in_sample",
            v["in_sample"]["mae"].as_f64().unwrap(),
            "in_sample",
        ),
        (
            "macro_average",
            v["targets"]["macro_average"]["in_sample_mae"]
                .as_f64()
                .unwrap(),
            "in_sample",
        ),
    ] {
        let (low, high) = (
            u[interval]["low"].as_f64().unwrap(),
            u[interval]["high"].as_f64().unwrap(),
        );
        let (best, worst) = bounds(family_key);
        assert!(
            best <= low && low <= figure && figure <= high && high <= worst,
            "{interval}: {best} <= {low} <= {figure} <= {high} <= {worst}"
        );
    }
    let lbo = &u["leave_blackwell_out"];
    assert!(lbo["low"].as_f64().unwrap() <= lbo["high"].as_f64().unwrap());
    // Refitting the constants in every draw: the draws are the same families (same seed, same
    // order), and a refit is the grid's least error on the draw's rows, so draw by draw it is
    // never above the error at the run's constants: every percentile of the refitted in-sample
    // figure is at most the plain one's. The run's own figures lie inside the refitted
    // intervals on these files.
    let refitted = &u["refitted"];
    let at = |i: &Value, end: &str| i[end].as_f64().unwrap();
    assert!(at(&refitted["in_sample"], "low") <= at(&u["in_sample"], "low"));
    assert!(at(&refitted["in_sample"], "high") <= at(&u["in_sample"], "high"));
    for (interval, figure) in [
        ("loso", v["loso"]["mae"].as_f64().unwrap()),
        ("in_sample", v["refit"]["mae"].as_f64().unwrap()),
        (
            "leave_blackwell_out",
            v["leave_blackwell_out"]["mae"].as_f64().unwrap(),
        ),
        (
            "macro_average",
            v["targets"]["macro_average"]["in_sample_mae"]
                .as_f64()
                .unwrap(),
        ),
    ] {
        let (low, high) = (
            at(&refitted[interval], "low"),
            at(&refitted[interval], "high"),
        );
        assert!(
            low <= figure && figure <= high,
            "refitted {interval}: {low} <= {figure} <= {high}"
        );
    }
    // Same seed, same bytes: a second run prints the same intervals.
    let again: Value = serde_json::from_str(&ok(&["train", "validate", "-f", "json"])).unwrap();
    assert_eq!(again["uncertainty"], *u);
    // The table prints them under the headline.
    let table = ok(&["train", "validate"]);
    assert!(
        table.contains("90% interval, the 9 source families resampled (2000 draws): left out "),
        "{table}"
    );
    assert!(
        table.contains("  the same, refitting the constants in every draw: left out "),
        "{table}"
    );
}

#[test]
fn the_rows_are_also_grouped_by_system_and_by_precision() {
    // Every compared row falls in exactly one system group and one precision group, and each
    // group's figures are its rows' (recomputed here from the rows themselves).
    let v = json();
    let rows: Vec<&Value> = v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["status"] == "compared")
        .collect();
    for (kind, field) in [
        ("by_system", None),
        ("by_precision", Some("precision")),
        ("by_system_and_precision", None),
    ] {
        let groups = v["groups"][kind].as_array().unwrap();
        let total: u64 = groups
            .iter()
            .map(|g| g["in_sample"]["n"].as_u64().unwrap())
            .sum();
        assert_eq!(total as usize, rows.len(), "{kind}");
        let Some(field) = field else { continue };
        for g in groups {
            let key = g["key"].as_str().unwrap();
            let mine: Vec<f64> = rows
                .iter()
                .filter(|r| r[field] == key)
                .map(|r| r["error"].as_f64().unwrap())
                .collect();
            let mae = mine.iter().map(|e| e.abs()).sum::<f64>() / mine.len() as f64;
            assert!(
                (g["in_sample"]["mae"].as_f64().unwrap() - mae).abs() < 1e-12,
                "{key}"
            );
        }
    }
    let systems: Vec<&str> = v["groups"]["by_system"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["key"].as_str().unwrap())
        .collect();
    for system in [
        "dgx-a100-40gb",
        "dgx-h100",
        "dgx-b200",
        "gb200-nvl72",
        "gb300-nvl72",
    ] {
        assert!(systems.contains(&system), "{systems:?}");
    }
    let precisions: Vec<&str> = v["groups"]["by_precision"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["key"].as_str().unwrap())
        .collect();
    for recipe in ["bf16", "fp8-delayed", "fp8-current", "mxfp8", "nvfp4"] {
        assert!(precisions.contains(&recipe), "{precisions:?}");
    }
    // Both at once: each pair's rows are its system's rows of that recipe, so the pairs of one
    // recipe add up to the recipe's rows (NVFP4's 4 rows: which Blackwell systems they ran on).
    let pairs = v["groups"]["by_system_and_precision"].as_array().unwrap();
    for g in v["groups"]["by_precision"].as_array().unwrap() {
        let recipe = g["key"].as_str().unwrap();
        let n: u64 = pairs
            .iter()
            .filter(|p| {
                p["key"]
                    .as_str()
                    .unwrap()
                    .ends_with(&format!(" / {recipe}"))
            })
            .map(|p| p["in_sample"]["n"].as_u64().unwrap())
            .sum();
        assert_eq!(n, g["in_sample"]["n"].as_u64().unwrap(), "{recipe}");
    }
    let keys: Vec<&str> = pairs.iter().map(|p| p["key"].as_str().unwrap()).collect();
    assert!(keys.contains(&"gb200-nvl72 / nvfp4"), "{keys:?}");
    let table = ok(&["train", "validate"]);
    assert!(table.contains("By system and by precision"), "{table}");
    assert!(table.contains("  gb200-nvl72 / nvfp4 "), "{table}");
    let page = ok(&["train", "validate", "-f", "html"]);
    assert!(page.contains("By system and by precision"));
}

#[test]
fn training_ships_its_own_refit() {
    // The in-sample figures are the shipped constants' (what `gigawatt train` uses); they are
    // the grid point the refit on every row picks, so a model change that moves the fit shows
    // here rather than leaving training on constants fitted to an older model (as 192 and 28
    // were until 2026-12-03; serving keeps those as `ModelConstants::serving`).
    let v = json();
    let shipped = &v["constants"];
    let fitted = &v["refit"]["fitted"];
    for key in [
        "gemm_half_dim",
        "attention_fraction",
        "elementwise_passes",
        "overlap_compute_share",
    ] {
        assert_eq!(shipped[key], fitted[key], "{key}: shipped against refit");
    }
    let refit = v["refit"]["mae"].as_f64().unwrap();
    let in_sample = v["in_sample"]["mae"].as_f64().unwrap();
    assert!((refit - in_sample).abs() < 1e-12, "{refit} vs {in_sample}");
}

#[test]
fn the_targets_are_read_off_the_families_and_rows() {
    let v = json();
    let t = &v["targets"];
    // The macro-average is the plain mean of the families' MAEs (families with compared rows).
    let scored: Vec<&Value> = v["families"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["in_sample"]["n"].as_u64().unwrap() > 0)
        .collect();
    let mean = scored
        .iter()
        .map(|f| f["in_sample"]["mae"].as_f64().unwrap())
        .sum::<f64>()
        / scored.len() as f64;
    assert_eq!(
        t["macro_average"]["families"].as_u64().unwrap() as usize,
        scored.len()
    );
    assert!((t["macro_average"]["in_sample_mae"].as_f64().unwrap() - mean).abs() < 1e-12);
    // The MoE rows are the rows that train an MoE model; the Blackwell rows, Blackwell's.
    let rows = v["rows"].as_array().unwrap();
    let count = |pick: &dyn Fn(&Value) -> bool| {
        rows.iter()
            .filter(|r| r["status"] == "compared" && pick(r))
            .count() as u64
    };
    assert_eq!(
        t["moe_rows"]["in_sample"]["n"].as_u64().unwrap(),
        count(&|r| r["moe"] == true)
    );
    assert!(count(&|r| r["moe"] == true) >= 30);
    assert_eq!(
        t["blackwell_rows"]["in_sample"]["n"].as_u64().unwrap(),
        count(&|r| r["generation"] == "blackwell")
    );
    // Each check says whether it holds, and `met` counts them.
    let checks = t["checks"].as_array().unwrap();
    for c in checks {
        let (measured, limit) = (
            c["measured"].as_f64().unwrap(),
            c["limit"].as_f64().unwrap(),
        );
        assert_eq!(c["met"].as_bool().unwrap(), measured <= limit, "{c}");
    }
    let met = checks.iter().filter(|c| c["met"] == true).count() as u64;
    assert_eq!(t["met"].as_u64().unwrap(), met);
    let table = ok(&["train", "validate"]);
    assert!(table.contains(&format!(
        "Targets (issue 12, MAE at most): {met} of {} met",
        checks.len()
    )));
}

#[test]
fn table_and_csv_print() {
    let table = ok(&["train", "validate"]);
    for text in [
        "leave one source out",
        "Leave Blackwell out",
        "Coverage:",
        "mean absolute error",
        "mbridge2511",
        "filled",
    ] {
        assert!(table.contains(text), "table misses `{text}`");
    }
    let csv = ok(&["train", "validate", "-f", "csv"]);
    let mut lines = csv.lines();
    let header = lines.next().unwrap();
    assert!(header.starts_with("id,file,family,framework,gpu_type"));
    assert!(header.contains("loso_error") && header.contains("filled"));
    assert!(header.ends_with(
        ",userbuffers_s,hidden_comm_s,matmul_s,attention_s,elementwise_s,host_stall_s,output_layer_s,moe,precision"
    ));
    let columns = header.split(',').count();
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 285);
    // A compared row carries its breakdown: compute and the exposed parts add up to the step.
    let row = rows
        .iter()
        .find(|l| l.starts_with("megatron_readme_h100_462b,"))
        .unwrap();
    // The 17 fields before the last two (moe, precision), in header order: compute,
    // recompute, tp, cp, ep, pp, dp, bubble, optimizer, overlap slowdown, userbuffers, hidden
    // comm, then compute by kind: matmuls, attention, element-wise, host stalls, output layer
    // (rsplitn yields them last first).
    assert!(row.ends_with(",false,bf16"), "{row}");
    let mut parts: Vec<f64> = row
        .rsplitn(20, ',')
        .skip(2)
        .take(17)
        .map(|f| f.parse().unwrap())
        .collect();
    parts.reverse();
    let exposed: f64 = parts[0] + parts[2..9].iter().sum::<f64>();
    let predicted: f64 = row.split(',').nth(9).unwrap().parse().unwrap();
    assert!((exposed / predicted - 1.0).abs() < 1e-4, "{row}");
    // Compute by kind, with recompute and the overlap slowdown, is the compute.
    let kinds: f64 = parts[12..17].iter().sum::<f64>() + parts[1] + parts[9];
    assert!((kinds / parts[0] - 1.0).abs() < 1e-4, "{row}");
    assert!(columns > 17);
}

#[test]
fn a_file_of_ones_own_is_validated_and_a_bad_one_is_refused() {
    let dir = tempdir();
    let shipped = include_str!("../../../calibration/training.csv");
    let mut lines = shipped.lines();
    let header = lines.next().unwrap();
    let korthikanti: Vec<&str> = lines
        .filter(|l| l.starts_with("korthikanti22_t5"))
        .collect();
    let path = dir.join("mine.csv");
    std::fs::write(&path, format!("{header}\n{}\n", korthikanti.join("\n"))).unwrap();
    let v: Value = serde_json::from_str(&ok(&[
        "train",
        "validate",
        path.to_str().unwrap(),
        "-f",
        "json",
    ]))
    .unwrap();
    assert_eq!(v["coverage"]["evaluated"], 8);

    let bad = dir.join("bad.csv");
    std::fs::write(&bad, "id,source\nx,y\n").unwrap();
    refuses(
        &["train", "validate", bad.to_str().unwrap()],
        &["no column `model_name`", "fix:"],
    );
    refuses(
        &["train", "validate", "/nonexistent/file.csv"],
        &["failed to read"],
    );
}

#[test]
fn a_row_that_matches_nothing_is_refused_with_the_fix() {
    refuses(
        &[
            "train",
            "validate",
            "--row",
            "llama3-8b",
            "--row",
            "no-such-run",
        ],
        &["`--row no-such-run` matches no row", "fix:", "-f csv"],
    );
    refuses(
        &["train", "validate", "--row", " "],
        &["`--row` is empty", "fix:"],
    );
}

#[test]
fn the_html_page_charts_every_compared_row_and_lists_every_row() {
    let dir = tempdir();
    let page = dir.join("validation.html");
    // The format follows --out's extension.
    ok(&["train", "validate", "--out", page.to_str().unwrap()]);
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.starts_with("<!doctype html>") && html.trim_end().ends_with("</html>"));
    let v = json();
    let compared = v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["status"] == "compared")
        .count();
    assert_eq!(compared, 273);
    // One dot per compared row, each with its row in a tooltip; every row in the table.
    assert_eq!(html.matches("<circle ").count(), compared);
    for row in v["rows"].as_array().unwrap() {
        let id = row["id"].as_str().unwrap();
        assert!(html.contains(&format!("<code>{id}</code>")), "{id} missing");
    }
    for f in v["families"].as_array().unwrap() {
        assert!(html.contains(f["id"].as_str().unwrap()));
    }
    for text in [
        "Left out (leave one source out)",
        "role=\"img\"",
        "Targets met",
        "unmet",
        "drawn hollow at the edge",
    ] {
        assert!(html.contains(text), "page misses `{text}`");
    }
    // The Qwen3-30B H100 25.11 row (-56%) sits hollow at the -40% edge.
    assert!(html.contains("mbridge_2511_h100_qwen3-30b-a3b_fp8-cs: measured"));
    assert!(html.contains("(drawn at the edge)"));
    // Same input, same bytes.
    let again = ok(&["train", "validate", "-f", "html"]);
    assert_eq!(again, html);

    refuses(
        &["train", "validate", "-f", "html", "--row", "gpt-oss"],
        &["`--row` chooses rows", "fix:"],
    );
    refuses(
        &[
            "train",
            "validate",
            "--out",
            dir.join("v.pdf").to_str().unwrap(),
        ],
        &["names no output format", "fix:"],
    );
}

#[test]
fn the_readme_family_table_is_what_validate_prints() {
    // The README's table of source families ("Training a model") carries validate's figures at
    // one decimal: each family row (found by its framework and row count) and the `all` row,
    // whose in-sample figures are over every compared row and whose left-out MAE is the
    // headline. A model change that moves a figure fails here until the README follows.
    let rows = readme_table(
        "| source family | framework | rows | compared | MAE in sample | median | p90 | bias | MAE left out |",
    );
    let v = json();
    let pct = |x: &Value| format!("{:.1}%", x.as_f64().unwrap() * 100.0);
    let signed = |x: &Value| format!("{:+.1}%", x.as_f64().unwrap() * 100.0);
    let figures = |in_sample: &Value, left_out: &Value| {
        [
            pct(&in_sample["mae"]),
            pct(&in_sample["median"]),
            pct(&in_sample["p90"]),
            signed(&in_sample["bias"]),
            pct(&left_out["mae"]),
        ]
    };
    let families = v["families"].as_array().unwrap();
    let mut checked = 0;
    for cells in &rows {
        assert_eq!(cells.len(), 9, "README family row {cells:?}");
        let [in_sample, median, p90, bias, left_out] = [4, 5, 6, 7, 8].map(|i| cells[i]);
        let printed = if cells[0] == "**all**" {
            assert_eq!(cells[2], v["rows"].as_array().unwrap().len().to_string());
            assert_eq!(cells[3], v["in_sample"]["n"].to_string());
            figures(&v["in_sample"], &v["loso"])
        } else {
            let family = families
                .iter()
                .find(|f| f["framework"] == cells[1] && f["rows"].as_u64() == cells[2].parse().ok())
                .unwrap_or_else(|| panic!("no validate family has framework and rows {cells:?}"));
            if cells[3] == "excluded" {
                assert_eq!(family["compared"], 0, "{cells:?}");
                continue;
            }
            assert_eq!(cells[3], family["compared"].to_string(), "{cells:?}");
            figures(&family["in_sample"], &family["loso"])
        };
        let written = [in_sample, median, p90, bias, left_out].map(|c| c.trim_matches('*'));
        assert_eq!(
            written, printed,
            "README family row {:?}: paste `gigawatt train validate`'s figures",
            cells[0]
        );
        checked += 1;
    }
    // Every compared family and the `all` row.
    let compared = families.iter().filter(|f| f["compared"] != 0).count();
    assert_eq!(checked, compared + 1);
}

#[test]
fn every_left_out_fit_is_determined_now_that_the_unfused_passes_are_counted() {
    // Only frameworks without fused element-wise kernels (llm-foundry, MosaicML's rows) feel
    // the unfused element-wise passes. While they were fitted, MosaicML's left-out fold could
    // not choose them (five grid points tied exactly on the other families); they are counted
    // now (`UNFUSED_ELEMENTWISE_PASSES`), so no fold ties and none says so. The tie machinery
    // itself is tested on a made-up matrix (`perf::validate::folds`).
    let v = json();
    let families = v["families"].as_array().unwrap();
    let mut folds = 0;
    for f in families {
        let fold = &f["loso"];
        let Some(tied) = fold["tied_points"].as_u64() else {
            continue;
        };
        folds += 1;
        assert_eq!(tied, 1, "{}", f["id"]);
        assert_eq!(fold["undetermined"], serde_json::json!([]), "{}", f["id"]);
        assert_eq!(fold["tied_mae"]["low"], fold["mae"], "{}", f["id"]);
        assert_eq!(fold["tied_mae"]["high"], fold["mae"], "{}", f["id"]);
    }
    assert_eq!(folds, 9);
    let table = ok(&["train", "validate"]);
    assert!(!table.contains("undetermined"), "{table}");
    assert!(
        table.contains("unfused element-wise passes counted, 13.3, not fitted"),
        "{table}"
    );
}
