//! Every kind of bad input exits 2 with a message naming the file, the line or field, and the
//! fix; never a panic.

mod common;

use common::{bad_input, bad_scenario, refuses, scenario_refused, tempdir, GOOD};

fn mutated(from: &str, to: &str) -> String {
    assert!(GOOD.contains(from), "`{from}` not in the fixture");
    GOOD.replace(from, to)
}

#[test]
fn a_toml_syntax_error_names_the_line() {
    let err = bad_scenario(
        "syntax.toml",
        &mutated("facility_gw = 1.0", "facility_gw = = 1.0"),
    );
    assert!(err.contains("syntax.toml:7:"), "{err}");
}

#[test]
fn an_unknown_field_is_refused_with_its_line() {
    scenario_refused(
        "field.toml",
        &mutated("ramp_months", "ramp_monts"),
        &["field.toml:9:", "unknown field `ramp_monts`", "fix:"],
    );
}

#[test]
fn an_unknown_system_suggests_the_nearest_id() {
    scenario_refused(
        "system.toml",
        &mutated("gb200-nvl72", "gb200-nvl27"),
        &[
            "system.toml:6:",
            "`tranche[1].system`",
            "unknown system `gb200-nvl27`",
            "did you mean `gb200-nvl72`?",
        ],
    );
}

#[test]
fn an_unknown_deal_suggests_the_nearest_id() {
    let err = bad_scenario(
        "deal.toml",
        &mutated(
            "name = \"one\"",
            "name = \"one\"\ndeal = \"openai-nvidia-lio\"",
        ),
    );
    assert!(err.contains("unknown deal `openai-nvidia-lio`"), "{err}");
    assert!(err.contains("did you mean `openai-nvidia-loi`?"), "{err}");
}

#[test]
fn negative_power_is_refused() {
    let err = bad_scenario(
        "negative.toml",
        &mutated("facility_gw = 1.0", "facility_gw = -1.0"),
    );
    assert!(err.contains("negative.toml:7:"), "{err}");
    assert!(err.contains("`tranche[1].facility_gw`"), "{err}");
    assert!(err.contains("impossible value -1"), "{err}");
}

#[test]
fn zero_power_is_refused() {
    let err = bad_scenario(
        "zero.toml",
        &mutated("facility_gw = 1.0", "facility_gw = 0"),
    );
    assert!(err.contains("impossible value 0"), "{err}");
}

#[test]
fn power_too_small_for_one_system_is_refused() {
    let err = bad_scenario(
        "tiny.toml",
        &mutated("facility_gw = 1.0", "facility_gw = 0.00001"),
    );
    assert!(err.contains("does not power one `gb200-nvl72`"), "{err}");
    assert!(err.contains("systems = N"), "{err}");
}

#[test]
fn a_ramp_that_ends_before_it_starts_is_refused() {
    let err = bad_scenario(
        "ramp.toml",
        &mutated("ramp_months = 6", "full_by = \"2025-06\""),
    );
    assert!(err.contains("ramp.toml:9:"), "{err}");
    assert!(err.contains("before it starts"), "{err}");
    let err = bad_scenario(
        "ramp2.toml",
        &mutated("ramp_months = 6", "ramp_months = -3"),
    );
    assert!(err.contains("ramp cannot end before it starts"), "{err}");
}

#[test]
fn pue_below_one_is_refused() {
    let err = bad_scenario(
        "pue.toml",
        &mutated("ramp_months = 6", "ramp_months = 6\npue = 0.9"),
    );
    assert!(err.contains("`tranche[1].pue`"), "{err}");
    assert!(err.contains("between 1 and 3"), "{err}");
}

#[test]
fn a_missing_price_asks_for_one() {
    // The catalog has no public price for a DGX H200.
    scenario_refused(
        "price.toml",
        &mutated("gb200-nvl72", "dgx-h200"),
        &["no price_usd for `dgx-h200`", "[prices]"],
    );
}

#[test]
fn a_tranche_without_a_size_or_start_is_refused() {
    scenario_refused(
        "size.toml",
        &mutated("facility_gw = 1.0\n", ""),
        &["has no size"],
    );
    scenario_refused(
        "start.toml",
        &mutated("start = \"2026-01\"\n", ""),
        &["has no start month"],
    );
}

#[test]
fn two_sizes_are_refused() {
    let err = bad_scenario(
        "sizes.toml",
        &mutated("facility_gw = 1.0", "facility_gw = 1.0\nsystems = 10"),
    );
    assert!(err.contains("sets 2 sizes"), "{err}");
}

#[test]
fn a_malformed_month_is_refused() {
    scenario_refused(
        "month.toml",
        &mutated("2026-01", "2026-13"),
        &["`2026-13` is not a month", "month.toml:8:"],
    );
}

#[test]
fn huge_requests_are_refused_quickly() {
    let err = bad_scenario(
        "huge.toml",
        &mutated("facility_gw = 1.0", "facility_gw = 1e12"),
    );
    assert!(err.contains("at most 1000 GW"), "{err}");
    let err = bad_scenario(
        "long.toml",
        &mutated("name = \"test\"", "name = \"test\"\nend = \"2199-12\""),
    );
    assert!(err.contains("within 600 months"), "{err}");
    let err = bad_scenario(
        "systems.toml",
        &mutated("facility_gw = 1.0", "systems = 1e15"),
    );
    assert!(err.contains("from 1 to 1e9"), "{err}");
}

#[test]
fn an_undefined_source_in_a_scenario_is_refused() {
    let err = bad_scenario(
        "source.toml",
        &mutated(
            "facility_gw = 1.0",
            "facility_gw = { value = 1.0, source = \"nowhere\" }",
        ),
    );
    assert!(err.contains("source `nowhere` is not defined"), "{err}");
}

#[test]
fn an_empty_scenario_is_refused() {
    scenario_refused("empty.toml", "name = \"nothing\"\n", &["no [[tranche]]"]);
}

#[test]
fn a_file_that_is_not_utf8_is_refused() {
    let dir = tempdir();
    let path = dir.join("binary.toml");
    std::fs::write(&path, [0xff, 0xfe, 0x00, 0x41]).unwrap();
    refuses(&["plan", path.to_str().unwrap()], &["failed to read"]);
}

#[test]
fn an_unknown_scenario_name_suggests_a_shipped_one() {
    refuses(
        &["plan", "openai-portfolo"],
        &["did you mean the shipped scenario `openai-portfolio`?"],
    );
}

#[test]
fn quick_flags_name_the_flag_not_a_line() {
    refuses(
        &["plan", "--system", "gb200-nvl72", "--facility-gw", "-2"],
        &["`--facility-gw`", "impossible value -2"],
    );
    refuses(
        &["plan", "--system", "mi450-helios", "--facility-gw", "1"],
        &["add --it-power-kw"],
    );
    refuses(&["plan", "--facility-gw", "1"], &["needs --system"]);
    refuses(&["plan", "--system", "gb200-nvl72"], &["needs a size"]);
}

#[test]
fn a_bad_catalog_file_is_refused_with_its_path_and_line() {
    let dir = tempdir();
    std::fs::write(
        dir.join("mine.toml"),
        "[facility]\npue = { value = 0.8, source = \"fac-google-env-report-2024\" }\n",
    )
    .unwrap();
    refuses(
        &["--catalog", dir.to_str().unwrap(), "plan"],
        &["mine.toml:2:", "facility.pue", "between 1 and 3"],
    );
}

#[test]
fn replacing_a_chip_that_another_derives_from_points_at_the_replacement() {
    // The shipped H800 derives its matmul ceilings from H100 SXM's measured ones. A user file
    // that replaces h100-sxm without them must be told so in that file, not at the untouched
    // embedded H800 entry.
    let dir = tempdir();
    std::fs::write(
        dir.join("hardware.toml"),
        r#"[[accelerator]]
id = "h100-sxm"
name = "NVIDIA H100 SXM5 80GB"
vendor = "NVIDIA"
bf16_dense_tflops = { value = 989, source = "src-glennklockwood-h100" }
fp8_dense_tflops = { value = 1979, source = "src-glennklockwood-h100" }
fp4_dense_tflops = { not_applicable = "Hopper has no FP4 tensor cores" }
hbm_gib = { value = 80, source = "src-glennklockwood-h100" }
hbm_tb_per_s = { value = 3.35, source = "src-glennklockwood-h100" }
tdp_w = { value = 700, source = "src-glennklockwood-h100" }
"#,
    )
    .unwrap();
    refuses(
        &["--catalog", dir.to_str().unwrap(), "plan"],
        &[
            "hardware.toml:2:",
            "`accelerator[h100-sxm].matmul.bf16.ceiling_tflops`",
            "`h800-sxm`",
            "fix: add `matmul.bf16.ceiling_tflops",
        ],
    );
}

#[test]
fn a_missing_catalog_folder_is_refused() {
    refuses(
        &["--catalog", "/nonexistent/gigawatt", "catalog", "list"],
        &["failed to read the catalog folder"],
    );
}

#[test]
fn an_unknown_catalog_id_suggests_the_nearest() {
    refuses(
        &["catalog", "show", "dgx-h10"],
        &["did you mean `dgx-h100`?"],
    );
}

#[test]
fn unknown_flags_are_usage_errors() {
    let output = common::gigawatt()
        .args(["plan", "--bogus"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn absurd_quick_flags_are_refused_once_and_clearly() {
    let err = bad_input(&[
        "plan",
        "--system",
        "dgx-h100",
        "--systems",
        "10",
        "--it-power-kw",
        "1e308",
    ]);
    assert!(err.contains("at most 10,000 kW"), "{err}");
    let err = bad_input(&[
        "plan",
        "--system",
        "dgx-h100",
        "--systems",
        "10",
        "--price-usd",
        "-5",
    ]);
    assert!(err.contains("impossible value -5"), "{err}");
    // An invalid price is one problem, not also a missing catalog price.
    assert!(!err.contains("the catalog has no price_usd"), "{err}");
}

#[test]
fn a_month_out_of_range_says_so() {
    let err = bad_scenario(
        "far.toml",
        &GOOD.replace("name = \"test\"", "name = \"test\"\nend = \"9999-12\""),
    );
    assert!(err.contains("outside the years 1900 to 2200"), "{err}");
}

#[test]
fn a_folder_is_not_a_scenario() {
    let dir = tempdir();
    refuses(&["plan", dir.to_str().unwrap()], &["is a folder"]);
}

#[test]
fn an_out_extension_that_names_no_format_is_refused() {
    let dir = tempdir();
    refuses(
        &["plan", "--out", dir.join("x.xlsx").to_str().unwrap()],
        &["names no output format"],
    );
}

#[test]
fn a_basis_that_is_not_one_of_three_is_refused() {
    let err = bad_scenario(
        "basis.toml",
        &mutated("facility_gw = 1.0", "gw = 1.0\nbasis = \"grid\""),
    );
    assert!(err.contains("basis.toml:8:"), "{err}");
    assert!(err.contains("`tranche[1].basis`"), "{err}");
    assert!(err.contains("`grid` is not a basis"), "{err}");
    assert!(
        err.contains("`basis = \"facility\"`, `\"it\"` or `\"contracted\"`"),
        "{err}"
    );
}

#[test]
fn a_gw_without_its_basis_and_a_basis_without_gw_are_refused() {
    scenario_refused(
        "nobasis.toml",
        &mutated("facility_gw = 1.0", "gw = 1.0"),
        &["`tranche[1].basis`", "`gw` is given without its `basis`"],
    );
    let err = bad_scenario(
        "nogw.toml",
        &mutated("facility_gw = 1.0", "facility_gw = 1.0\nbasis = \"it\""),
    );
    assert!(err.contains("`basis` is set without `gw`"), "{err}");
}

#[test]
fn a_contracted_gw_plans_through_the_power_stack() {
    // Not bad input: the third basis works, and its step is in the ledger.
    let dir = tempdir();
    let path = dir.join("contracted.toml");
    std::fs::write(
        &path,
        mutated("facility_gw = 1.0", "gw = 1.0\nbasis = \"contracted\""),
    )
    .unwrap();
    let out = common::ok(&[
        "plan",
        path.to_str().unwrap(),
        "--format",
        "json",
        "--no-ranges",
    ]);
    assert!(out.contains("facility.contracted_it_fraction"), "{out}");
    assert!(
        out.contains("tranche[1].power_stack.critical_it_gw"),
        "{out}"
    );
    assert!(!out.contains("\"ranges\""), "--no-ranges leaves ranges out");
}

#[test]
fn a_catalog_range_with_low_above_high_is_refused() {
    let dir = tempdir();
    std::fs::write(
        dir.join("mine.toml"),
        "[facility]\npue = { value = 1.2, low = 1.3, high = 1.1, source = \"fac-google-env-report-2024\" }\n",
    )
    .unwrap();
    refuses(
        &["--catalog", dir.to_str().unwrap(), "plan"],
        &[
            "mine.toml:2:",
            "`facility.pue`",
            "`low` (1.3) is above `high` (1.1)",
        ],
    );
}

#[test]
fn a_catalog_range_that_does_not_hold_its_value_is_refused() {
    let dir = tempdir();
    std::fs::write(
        dir.join("mine.toml"),
        "[facility]\npue = { value = 1.5, low = 1.1, high = 1.3, source = \"fac-google-env-report-2024\" }\n",
    )
    .unwrap();
    refuses(
        &["--catalog", dir.to_str().unwrap(), "plan"],
        &["facility.pue", "does not hold the value 1.5"],
    );
}

#[test]
fn draws_out_of_range_are_refused() {
    refuses(&["plan", "--draws", "0"], &["--draws"]);
}
