//! The binary run as a user would: the main job, formats, files, the catalog commands.

mod common;

use common::{gigawatt, ok, tempdir};
use serde_json::Value;

fn json(args: &[&str]) -> Value {
    serde_json::from_str(&ok(args)).expect("valid JSON")
}

#[test]
fn the_main_job_runs_with_no_flags() {
    let out = ok(&["plan"]);
    assert!(
        out.contains("OpenAI-NVIDIA 10 GW letter of intent"),
        "{out}"
    );
    assert!(out.contains("Facility power"), "{out}");
    assert!(out.contains("H100-equivalents"), "{out}");
}

#[test]
fn the_readme_shows_what_the_main_job_prints() {
    // The README's "What it says" block is `gigawatt plan`'s real output with the tranche table
    // left out: each of its lines must appear in the output, in the same order, so that a model
    // or catalog change that moves the opening's figures fails here until the README follows.
    let readme = include_str!("../../../README.md");
    let start = readme
        .find("```\nOpenAI-NVIDIA 10 GW letter of intent")
        .expect("the README's plan excerpt")
        + "```\n".len();
    let excerpt = &readme[start..start + readme[start..].find("```").expect("its end")];
    let out = ok(&["plan"]);
    let mut printed = out.lines();
    for (n, line) in excerpt.lines().enumerate() {
        assert!(
            printed.any(|p| p == line),
            "README plan excerpt line {} is not in `gigawatt plan`'s output (in order): {line:?}\n\
             paste the new output into README.md, \"What it says\"",
            n + 1
        );
    }
}

#[test]
fn the_default_json_has_the_documented_fields() {
    let v = json(&["plan", "--format", "json"]);
    for part in ["totals", "timeline", "assumptions"] {
        assert!(v.get(part).is_some(), "missing {part}");
    }
    let required = [
        "facility_gw",
        "it_gw",
        "systems",
        "accelerators",
        "h100e",
        "capex_usd",
        "energy_twh_per_year",
    ];
    for field in required {
        assert!(v["totals"].get(field).is_some(), "totals.{field}");
        for row in v["timeline"].as_array().unwrap() {
            assert!(row.get(field).is_some(), "timeline row lacks {field}");
        }
    }
    let first = v["timeline"][0]["month"].as_str().unwrap();
    assert_eq!(first.len(), 7);
    assert_eq!(&first[4..5], "-");
    // The totals are the final month's state.
    assert_eq!(
        v["totals"],
        *v["timeline"].as_array().unwrap().last().unwrap()
    );
}

#[test]
fn the_default_scenario_agrees_with_public_statements() {
    let v = json(&["plan", "--format", "json"]);
    let t = &v["totals"];
    // 10 GW of facility power, less the design headroom (0.10): 9 GW drawn, from whole racks.
    let facility = t["facility_gw"].as_f64().unwrap();
    assert!((8.9..=9.0).contains(&facility), "{facility}");
    // Vera Rubin: 72 packages (144 dies) per ~190 kW rack, after the power stack (10 GW / 1.2
    // x 0.9 x 0.84 = 6.3 GW of racks): ~2.4 M packages, ~4.8 M dies, on either side of Huang's
    // "4 to 5 million GPUs" for 10 GW (a Blackwell-era figure).
    let packages = t["accelerators"].as_f64().unwrap();
    assert!((2.0e6..=3.0e6).contains(&packages), "{packages}");
    // NVIDIA's $100B arrives in full once all 10 GW are deployed.
    assert_eq!(t["financing_usd"].as_f64().unwrap(), 100e9);
    // Capex per GW within the public range: Bernstein $35B (GB200) to Huang's $80-100B.
    let capex_per_gw = t["capex_usd"].as_f64().unwrap() / facility;
    assert!((35e9..=100e9).contains(&capex_per_gw), "{capex_per_gw}");
}

#[test]
fn ten_gw_of_blackwell_is_four_to_five_million_gpus() {
    // Huang (CNBC, 2025-09-22): 10 GW is "roughly 4 million or 5 million GPUs".
    let v = json(&[
        "plan",
        "--system",
        "gb200-nvl72",
        "--facility-gw",
        "10",
        "--format",
        "json",
    ]);
    // The power stack gives 10 / 1.2 x 0.9 x 0.84 / 120 kW x 72 = 3.78 M: 5% under Huang's low
    // end, within the cross-check's 15% target (before the stack it was 5.0 M, his high end).
    let gpus = v["totals"]["accelerators"].as_f64().unwrap();
    assert!((3.4e6..=5.0e6).contains(&gpus), "{gpus}");
}

#[test]
fn every_assumption_has_a_resolvable_source() {
    for scenario in [
        "openai-nvidia-10gw",
        "openai-nvidia-2026",
        "openai-portfolio",
    ] {
        let v = json(&["plan", scenario, "--format", "json"]);
        let sources: Vec<&str> = v["sources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["id"].as_str().unwrap())
            .collect();
        let assumptions = v["assumptions"].as_array().unwrap();
        assert!(assumptions.len() > 10);
        for a in assumptions {
            for field in ["name", "value", "unit", "source"] {
                assert!(
                    a.get(field).is_some(),
                    "{scenario}: assumption lacks {field}: {a}"
                );
            }
            let source = a["source"].as_str().unwrap();
            assert!(
                sources.contains(&source),
                "{scenario}: {source} not in sources"
            );
        }
        for s in v["sources"].as_array().unwrap() {
            // The power stack's steps cite the plan itself (kind `derived`, no URL).
            if s["kind"] != "user-input" && s["id"] != "power-stack" {
                assert!(
                    s["url"].as_str().unwrap().starts_with("http"),
                    "{scenario}: {s}"
                );
                assert!(!s["title"].as_str().unwrap().is_empty());
            }
        }
    }
}

#[test]
fn the_same_input_gives_the_same_bytes() {
    assert_eq!(
        ok(&["plan", "openai-portfolio", "-f", "json"]),
        ok(&["plan", "openai-portfolio", "-f", "json"])
    );
    assert_eq!(ok(&["plan", "-f", "html"]), ok(&["plan", "-f", "html"]));
}

#[test]
fn csv_has_a_header_and_a_row_per_month() {
    let out = ok(&["plan", "--format", "csv"]);
    let v = json(&["plan", "--format", "json"]);
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("month,facility_gw,it_gw,systems,accelerators,h100e"));
    assert!(lines[0].contains("facility_gw[GW 10]"));
    assert_eq!(lines.len() - 1, v["timeline"].as_array().unwrap().len());
    let columns = lines[0].split(',').count();
    assert!(lines.iter().all(|l| l.split(',').count() == columns));
}

#[test]
fn html_is_one_self_contained_file() {
    let out = ok(&["plan", "openai-portfolio", "--format", "html"]);
    assert!(out.starts_with("<!"), "starts with a doctype");
    assert!(out.contains("<svg"));
    assert!(!out.contains("<script src"));
    assert!(!out.contains("<link"));
    assert!(!out.contains("@import"));
}

#[test]
fn markdown_carries_the_ledger() {
    let out = ok(&["plan", "--format", "md"]);
    assert!(out.contains("## Assumptions"));
    // The figure with its range, and the power stack's steps.
    assert!(out.contains("| system[vera-rubin-nvl144].it_power_kw | 190 (120 to 230) |"));
    assert!(out.contains("| tranche[1].power_stack.critical_it_gw |"));
}

#[test]
fn out_writes_a_file_and_infers_the_format() {
    let dir = tempdir();
    let path = dir.join("plan.json");
    let output = gigawatt()
        .args(["plan", "--out", path.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(output.status.success());
    assert!(output.stdout.is_empty());
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert!(v.get("totals").is_some());
}

#[test]
fn out_to_a_missing_folder_fails_cleanly() {
    let output = gigawatt()
        .args(["plan", "--out", "/nonexistent/dir/x.json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("failed to write"));
}

#[test]
fn a_quick_question_with_every_flag() {
    let v = json(&[
        "plan",
        "--system",
        "dgx-h100",
        "--systems",
        "2048",
        "--pue",
        "1.3",
        "--start",
        "2024-01",
        "--ramp-months",
        "3",
        "--electricity-usd-per-kwh",
        "0.05",
        "--utilization",
        "0.7",
        "--end",
        "2025-06",
        "--price-usd",
        "300000",
        "--format",
        "json",
    ]);
    let t = &v["totals"];
    // 2,048 DGX H100 = 16,384 GPUs = 16,384 H100e; 10.2 kW each = 20.9 MW of racks; with the
    // non-accelerator IT (0.16 of critical IT) 20.9 / 0.84 = 24.87 MW IT, x 1.3 = 32.33 MW.
    assert_eq!(t["accelerators"].as_f64().unwrap(), 16384.0);
    assert_eq!(t["h100e"].as_f64().unwrap(), 16384.0);
    assert!((t["it_gw"].as_f64().unwrap() - 0.0208896 / 0.84).abs() < 1e-9);
    assert!((t["facility_gw"].as_f64().unwrap() - 0.0208896 / 0.84 * 1.3).abs() < 1e-9);
    assert_eq!(t["capex_systems_usd"].as_f64().unwrap(), 2048.0 * 300_000.0);
    assert_eq!(t["month"], "2025-06");
}

#[test]
fn a_custom_catalog_adds_a_system() {
    let dir = tempdir();
    std::fs::write(
        dir.join("mine.toml"),
        r#"
[[source]]
id = "my-quote"
title = "Vendor quote"
url = "https://example.com/quote"
date = "2026-11"
kind = "vendor-spec"

[[system]]
id = "my-h100-box"
name = "My H100 box"
accelerator = "h100-sxm"
accelerators_per_system = { value = 8, source = "my-quote" }
scale_up_domain = { value = 8, source = "my-quote" }
scale_up_gb_per_s = { value = 900, source = "my-quote" }
scale_out_gbit_per_s = { value = 400, source = "my-quote" }
it_power_kw = { value = 11, source = "my-quote" }
price_usd = { value = 250000, source = "my-quote" }
first_available = { value = "2024-01", source = "my-quote" }
"#,
    )
    .unwrap();
    let v = json(&[
        "--catalog",
        dir.to_str().unwrap(),
        "plan",
        "--system",
        "my-h100-box",
        "--systems",
        "10",
        "-f",
        "json",
    ]);
    assert_eq!(v["totals"]["accelerators"].as_f64().unwrap(), 80.0);
}

#[test]
fn catalog_commands_list_show_and_validate() {
    let list = ok(&["catalog", "list"]);
    for id in [
        "gb200-nvl72",
        "vera-rubin-nvl144",
        "tpu-v7-ironwood",
        "openai-nvidia-loi",
    ] {
        assert!(list.contains(id), "{id}");
    }
    let show = ok(&["catalog", "show", "gb200-nvl72"]);
    assert!(show.contains("it_power_kw"));
    assert!(show.contains("Sources"));
    let shown: Value =
        serde_json::from_str(&ok(&["catalog", "show", "openai-nvidia-loi", "-f", "json"])).unwrap();
    assert_eq!(shown["kind"], "deal");
    assert_eq!(shown["entry"]["status"], "replaced");
    let facility = ok(&["catalog", "show", "facility"]);
    assert!(facility.contains("pue"), "{facility}");
    let sources = ok(&["catalog", "sources"]);
    assert!(sources.contains("https://"));
    assert!(ok(&["catalog", "validate"]).contains("is valid"));
    let all: Value = serde_json::from_str(&ok(&["catalog", "list", "-f", "json"])).unwrap();
    assert!(all["systems"].as_array().unwrap().len() >= 16);
}

#[test]
fn scenarios_are_listed_and_usable_by_name() {
    let out = ok(&["scenarios"]);
    for name in [
        "openai-nvidia-10gw",
        "openai-nvidia-2026",
        "openai-portfolio",
    ] {
        assert!(out.contains(name));
        ok(&["plan", name]);
    }
}

#[test]
fn help_teaches() {
    let out = ok(&["plan", "--help"]);
    assert!(out.contains("Examples:"));
    assert!(out.contains("--facility-gw"));
    assert!(ok(&["--help"]).contains("gigawatt plan"));
}

#[test]
fn a_closed_pipe_is_not_an_error() {
    use std::io::Read;
    use std::process::{Command, Stdio};
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("gigawatt"))
        .args(["plan", "openai-portfolio", "-f", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 16];
    child.stdout.take().unwrap().read_exact(&mut first).unwrap();
    // Dropping our end of the pipe closes it; the rest of the write fails with EPIPE.
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
}

#[test]
fn out_writes_through_a_link() {
    let dir = tempdir();
    let target = dir.join("target.csv");
    std::fs::write(&target, "old").unwrap();
    let link = dir.join("link.csv");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let output = gigawatt()
        .args(["plan", "--out", link.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(output.status.success());
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink(),
        "the link stays a link"
    );
    assert!(std::fs::read_to_string(&target)
        .unwrap()
        .starts_with("month,"));
}

#[test]
fn a_tranche_before_its_system_exists_is_flagged() {
    let v = json(&[
        "plan",
        "--system",
        "dgx-h100",
        "--systems",
        "10",
        "--start",
        "2020-01",
        "-f",
        "json",
    ]);
    let warnings = v["warnings"].as_array().unwrap();
    assert!(
        warnings.iter().any(|w| w
            .as_str()
            .unwrap()
            .contains("before `dgx-h100` was first available")),
        "{warnings:?}"
    );
}

#[test]
fn markdown_does_not_pass_html_through() {
    let dir = tempdir();
    let path = dir.join("x.toml");
    std::fs::write(
        &path,
        "name = \"<script>alert(1)</script>\"\n[[tranche]]\nname = \"<img src=x onerror=alert(2)>\"\nsystem = \"dgx-h100\"\nsystems = 10\nstart = \"2024-01\"\n",
    )
    .unwrap();
    let out = ok(&["plan", path.to_str().unwrap(), "-f", "md"]);
    assert!(!out.contains("<script>"), "{out}");
    assert!(!out.contains("<img"), "{out}");
    assert!(out.contains("&lt;script&gt;"));
}
