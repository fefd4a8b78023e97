//! Loading the catalog: the fixture loads, and each kind of bad input is refused with a
//! diagnostic that names the file, the line, the field and the fix.

use catalog::{Catalog, CatalogText, CeilingBasis, Fp8Recipe, Precision, Sourced};

const MINI: &str = include_str!("fixtures/mini.toml");

fn load(text: &str) -> Result<Catalog, String> {
    Catalog::from_texts(&[CatalogText {
        name: "mini.toml".into(),
        text: text.into(),
    }])
    .map_err(|d| d.to_string())
}

/// The fixture with `from` replaced by `to` (which must occur exactly once).
fn mutated(from: &str, to: &str) -> String {
    assert_eq!(MINI.matches(from).count(), 1, "`{from}` must occur once");
    MINI.replace(from, to)
}

#[test]
fn the_fixture_loads() {
    let catalog = load(MINI).unwrap();
    assert_eq!(catalog.systems.len(), 1);
    assert_eq!(catalog.reference_bf16_dense_flops(), 1000e12);
    assert_eq!(catalog.version.len(), 12);
}

#[test]
fn the_embedded_catalog_loads_and_has_the_required_systems() {
    let catalog = Catalog::embedded().unwrap_or_else(|d| panic!("{d}"));
    for id in [
        "dgx-a100-40gb",
        "dgx-a100-80gb",
        "dgx-h100",
        "hgx-h800",
        "dgx-h200",
        "dgx-b200",
        "dgx-b300",
        "gb200-nvl72",
        "gb300-nvl72",
        "vera-rubin-nvl144",
        "mi300x-8",
        "mi325x-8",
        "mi355x-8",
        "mi450-helios",
        "tpu-v7-ironwood",
        "trainium2",
        "trainium3",
    ] {
        assert!(catalog.systems.contains_key(id), "missing system {id}");
    }
    for id in [
        "openai-nvidia-loi",
        "openai-amd",
        "openai-broadcom",
        "openai-oracle",
    ] {
        assert!(catalog.deals.contains_key(id), "missing deal {id}");
    }
}

#[test]
fn a_number_without_a_source_is_refused_with_its_line() {
    let err = load(&mutated(
        r#"hbm_gib = { value = 80, source = "spec" }"#,
        "hbm_gib = { value = 80 }",
    ))
    .unwrap_err();
    assert!(err.starts_with("mini.toml:16:"), "{err}");
    assert!(err.contains("without a source"), "{err}");
}

#[test]
fn a_dangling_source_id_is_refused_with_a_suggestion() {
    let err = load(&mutated(
        r#"tdp_w = { value = 1000, source = "spec" }"#,
        r#"tdp_w = { value = 1000, source = "spex" }"#,
    ))
    .unwrap_err();
    assert!(err.contains("source `spex` is not defined"), "{err}");
    assert!(err.contains("accelerator[chip].tdp_w"), "{err}");
    assert!(err.contains("did you mean `spec`"), "{err}");
    assert!(err.starts_with("mini.toml:18:"), "{err}");
}

#[test]
fn a_number_past_any_real_figure_is_refused() {
    // 1e308 kW passes "greater than zero", but products of it overflow: a training or serving
    // result would be NaN. Catalog numbers stop at 1e15.
    let err = load(&mutated(
        r#"it_power_kw = { value = 10, source"#,
        r#"it_power_kw = { value = 1e308, source"#,
    ))
    .unwrap_err();
    assert!(err.contains("system[box].it_power_kw"), "{err}");
    assert!(err.contains("impossible value 1e308"), "{err}");
    assert!(err.contains("at most 1e15"), "{err}");
}

#[test]
fn negative_power_is_impossible() {
    let err = load(&mutated(
        r#"it_power_kw = { value = 10, source"#,
        r#"it_power_kw = { value = -10, source"#,
    ))
    .unwrap_err();
    assert!(err.contains("system[box].it_power_kw"), "{err}");
    assert!(err.contains("impossible value -10"), "{err}");
    assert!(err.contains("greater than zero"), "{err}");
}

#[test]
fn pue_below_one_is_impossible() {
    let err = load(&mutated(
        r#"pue = { value = 1.25"#,
        r#"pue = { value = 0.9"#,
    ))
    .unwrap_err();
    assert!(err.contains("facility.pue"), "{err}");
    assert!(err.contains("between 1 and 3"), "{err}");
}

/// The test catalog with `key = { value = VALUE, source = "spec" }` added to its system.
fn with_system_number(key: &str, value: &str) -> Result<Catalog, String> {
    let line = r#"scale_out_gbit_per_s = { value = 400, source = "spec" }"#;
    load(&mutated(
        line,
        &format!("{line}\n{key} = {{ value = {value}, source = \"spec\" }}"),
    ))
}

#[test]
fn scale_out_oversubscription_is_read_and_below_one_is_impossible() {
    let ok = with_system_number("scale_out_oversubscription", "2").unwrap();
    let system = ok.systems.values().next().unwrap();
    let ratio = system.scale_out_oversubscription.as_ref().unwrap();
    assert_eq!(ratio.number(), Some(2.0));
    let err = with_system_number("scale_out_oversubscription", "0.5").unwrap_err();
    assert!(err.contains("scale_out_oversubscription"), "{err}");
}

#[test]
fn a_host_link_is_read_and_a_non_positive_one_is_impossible() {
    let ok = with_system_number("host_link_gb_per_s", "450").unwrap();
    let system = ok.systems.values().next().unwrap();
    let link = system.host_link_gb_per_s.as_ref().unwrap();
    assert_eq!(link.number(), Some(450.0));
    let err = with_system_number("host_link_gb_per_s", "0").unwrap_err();
    assert!(err.contains("system[box].host_link_gb_per_s"), "{err}");
    assert!(err.contains("greater than zero"), "{err}");
}

#[test]
fn an_in_switch_all_reduce_rate_is_read_and_a_non_positive_one_is_impossible() {
    let ok = with_system_number("nvls_all_reduce_gb_per_s", "275").unwrap();
    let system = ok.systems.values().next().unwrap();
    let nvls = system.nvls_all_reduce_gb_per_s.as_ref().unwrap();
    assert_eq!(nvls.number(), Some(275.0));
    let err = with_system_number("nvls_all_reduce_gb_per_s", "-1").unwrap_err();
    assert!(
        err.contains("system[box].nvls_all_reduce_gb_per_s"),
        "{err}"
    );
    assert!(err.contains("greater than zero"), "{err}");
}

#[test]
fn a_system_drawing_less_than_its_chips_is_impossible() {
    let err = load(&mutated(
        r#"it_power_kw = { value = 10, source"#,
        r#"it_power_kw = { value = 5, source"#,
    ))
    .unwrap_err();
    assert!(err.contains("less than its 8 accelerators' TDP"), "{err}");
}

#[test]
fn an_unknown_accelerator_gets_the_nearest_id() {
    let err = load(&mutated(
        "\naccelerator = \"chip\"",
        "\naccelerator = \"chp\"",
    ))
    .unwrap_err();
    assert!(err.contains("unknown accelerator `chp`"), "{err}");
    assert!(err.contains("did you mean `chip`"), "{err}");
}

#[test]
fn a_syntax_error_names_the_line() {
    let err = load(&mutated(r#"name = "Chip""#, r#"name = "Chip"#)).unwrap_err();
    assert!(err.starts_with("mini.toml:11:"), "{err}");
}

#[test]
fn an_unknown_field_is_refused() {
    let err = load(&mutated(r#"vendor = "Acme""#, "vendr = \"Acme\"")).unwrap_err();
    assert!(err.contains("unknown field `vendr`"), "{err}");
    assert!(err.starts_with("mini.toml:12:"), "{err}");
}

#[test]
fn a_duplicate_id_is_refused() {
    let doubled = format!(
        "{MINI}\n[[source]]\nid = \"spec\"\ntitle = \"t\"\nurl = \"https://x\"\ndate = \"2024\"\nkind = \"press\"\n"
    );
    let err = load(&doubled).unwrap_err();
    assert!(err.contains("source `spec` is defined twice"), "{err}");
}

#[test]
fn a_missing_facility_default_is_named() {
    let err = load(&mutated(
        "other_opex_fraction_per_year = { value = 0.03, source = \"spec\" }\n",
        "",
    ))
    .unwrap_err();
    assert!(
        err.contains("facility default `other_opex_fraction_per_year`"),
        "{err}"
    );
}

#[test]
fn a_later_layer_replaces_an_entry_by_id() {
    let mine = CatalogText {
        name: "mine.toml".into(),
        text: mutated(
            "price_usd = { value = 300000",
            "price_usd = { value = 250000",
        )
        .split("[facility]")
        .next()
        .unwrap()
        .to_string(),
    };
    // The override file re-defines the source, accelerator and system; within its own layer
    // that is fine, and its system replaces the base one.
    let base = CatalogText {
        name: "mini.toml".into(),
        text: MINI.into(),
    };
    let catalog = catalog_layers(vec![vec![base], vec![mine]]);
    assert_eq!(catalog.systems["box"].price_usd.number(), Some(250000.0));
}

fn catalog_layers(layers: Vec<Vec<CatalogText>>) -> Catalog {
    catalog::load_layers_for_tests(&layers).unwrap_or_else(|d| panic!("{d}"))
}

#[test]
fn a_measured_matmul_rate_above_its_peak_is_impossible() {
    let err = load(&mutated(
        r#"tdp_w = { value = 1000, source = "spec" }"#,
        r#"tdp_w = { value = 1000, source = "spec" }
fp8_mamf_tflops = { value = 2500, source = "spec" }"#,
    ))
    .unwrap_err();
    assert!(err.contains("fp8_mamf_tflops"), "{err}");
    assert!(
        err.contains("measured 2500 TFLOP/s is above the 2000 TFLOP/s peak"),
        "{err}"
    );
}

// ---------------------------------------------------------------------------------------------
// Per-precision matmul tables (`matmul.<precision>.*`).
// ---------------------------------------------------------------------------------------------

/// The fixture's chip with `lines` added to its accelerator entry.
fn chip_with(lines: &str) -> String {
    mutated(
        r#"tdp_w = { value = 1000, source = "spec" }"#,
        &format!("tdp_w = {{ value = 1000, source = \"spec\" }}\n{lines}"),
    )
}

#[test]
fn a_measured_ceiling_in_the_table_above_its_peak_is_impossible() {
    let err = load(&chip_with(
        r#"matmul.fp8.ceiling_tflops = { value = 2100, source = "spec" }"#,
    ))
    .unwrap_err();
    assert!(
        err.contains("accelerator[chip].matmul.fp8.ceiling_tflops"),
        "{err}"
    );
    assert!(err.contains("above the 2000 TFLOP/s fp8 peak"), "{err}");
}

#[test]
fn a_ceiling_without_its_peak_is_refused() {
    // The chip has no FP4 (not applicable) and no NVFP4 peak.
    let err = load(&chip_with(
        r#"matmul.nvfp4.ceiling_tflops = { value = 100, source = "spec" }"#,
    ))
    .unwrap_err();
    assert!(err.contains("matmul.nvfp4.ceiling_tflops"), "{err}");
    assert!(err.contains("nvfp4 peak is not known"), "{err}");
    // Derived ones too.
    let err = load(&chip_with(
        "matmul.fp8.ceiling_tflops = { value = 1500, source = \"spec\" }\n\
         matmul.mxfp8.ceiling_tflops = { derived = \"as FP8\", from = \"fp8\" }",
    ))
    .unwrap_err();
    assert!(err.contains("mxfp8 peak is not known"), "{err}");
}

#[test]
fn a_derived_ceiling_must_state_its_rule() {
    let err = load(&chip_with(
        r#"matmul.bf16.ceiling_tflops = { derived = "", from = "fp8" }"#,
    ))
    .unwrap_err();
    assert!(err.contains("state the rule"), "{err}");
    // The line of the `matmul.bf16.ceiling_tflops` key.
    assert!(err.starts_with("mini.toml:19:"), "{err}");
}

#[test]
fn a_derived_ceiling_needs_a_measurement_to_borrow() {
    let err = load(&chip_with(
        r#"matmul.bf16.ceiling_tflops = { derived = "as its FP8", from = "fp8" }"#,
    ))
    .unwrap_err();
    assert!(err.contains("`chip` has no fp8 ceiling"), "{err}");
    let err = load(&chip_with(
        r#"matmul.bf16.ceiling_tflops = { derived = "like the other one", like = "chop" }"#,
    ))
    .unwrap_err();
    assert!(err.contains("unknown accelerator `chop`"), "{err}");
    assert!(err.contains("did you mean `chip`?"), "{err}");
    let err = load(&chip_with(
        r#"matmul.bf16.ceiling_tflops = { derived = "itself", like = "chip" }"#,
    ))
    .unwrap_err();
    assert!(err.contains("borrows from itself"), "{err}");
}

#[test]
fn a_derived_ceiling_is_computed_from_the_measured_fraction() {
    let catalog = load(&chip_with(
        "matmul.fp8.ceiling_tflops = { value = 1500, source = \"spec\" }\n\
         matmul.mxfp8.peak_tflops = { value = 2000, source = \"spec\" }\n\
         matmul.mxfp8.ceiling_tflops = { derived = \"no MXFP8 measurement: the chip's FP8 fraction\", from = \"fp8\" }\n\
         matmul.bf16.ceiling_tflops = { derived = \"BF16 runs at the FP8 fraction on this chip\", from = \"fp8\" }",
    ))
    .unwrap_or_else(|e| panic!("{e}"));
    let chip = &catalog.accelerators["chip"];
    // 1500 / 2000 = 75% of the FP8 peak; times the BF16 peak 1000 = 750.
    let bf16 = chip.matmul_ceiling(Precision::Bf16);
    assert_eq!(bf16.number(), Some(750.0));
    assert_eq!(bf16.source(), Some("spec"));
    assert!(
        bf16.note().unwrap().starts_with("derived: BF16 runs"),
        "{bf16:?}"
    );
    assert_eq!(chip.ceiling_basis(Precision::Bf16), CeilingBasis::Derived);
    assert_eq!(chip.ceiling_basis(Precision::Fp8), CeilingBasis::Measured);
    assert_eq!(chip.matmul_ceiling(Precision::Mxfp8).number(), Some(1500.0));
    // The legacy field mirrors a measured ceiling for older callers; a derived one is not.
    assert_eq!(
        chip.fp8_mamf_tflops.as_ref().and_then(|s| s.number()),
        Some(1500.0)
    );
    assert!(chip.bf16_mamf_tflops.is_none());
    // No blockwise figure: the per-tensor one, saying so.
    let blockwise = chip.fp8_ceiling(Fp8Recipe::Blockwise);
    assert_eq!(blockwise.number(), Some(1500.0));
    assert!(
        blockwise.note().unwrap().contains("no blockwise"),
        "{blockwise:?}"
    );
}

#[test]
fn a_precision_the_chip_lacks_is_not_applicable_and_falls_back_to_more_bits() {
    let catalog = load(MINI).unwrap();
    let chip = &catalog.accelerators["chip"];
    assert!(matches!(
        chip.matmul_ceiling(Precision::Nvfp4),
        Sourced::NotApplicable(_)
    ));
    assert!(matches!(
        chip.peak_tflops(Precision::Mxfp4),
        Sourced::NotApplicable(_)
    ));
    // No MXFP8 peak recorded: unknown, so FP4 falls back to plain FP8.
    assert!(matches!(
        chip.peak_tflops(Precision::Mxfp8),
        Sourced::Unknown(_)
    ));
    assert_eq!(
        chip.nearest_precision(Precision::Nvfp4),
        Some(Precision::Fp8)
    );
    assert_eq!(
        chip.nearest_precision(Precision::Bf16),
        Some(Precision::Bf16)
    );
}

#[test]
fn the_same_ceiling_twice_is_refused() {
    let err = load(&chip_with(
        "bf16_mamf_tflops = { value = 800, source = \"spec\" }\n\
         matmul.bf16.ceiling_tflops = { value = 800, source = \"spec\" }",
    ))
    .unwrap_err();
    assert!(err.contains("given twice"), "{err}");
}

#[test]
fn bf16_and_fp8_peaks_stay_in_their_columns_and_blockwise_is_fp8_only() {
    let err = load(&chip_with(
        r#"matmul.bf16.peak_tflops = { value = 1000, source = "spec" }"#,
    ))
    .unwrap_err();
    assert!(err.contains("`bf16_dense_tflops` column"), "{err}");
    let err = load(&chip_with(
        r#"matmul.bf16.blockwise_ceiling_tflops = { value = 800, source = "spec" }"#,
    ))
    .unwrap_err();
    assert!(err.contains("FP8 recipe"), "{err}");
    let err = load(&chip_with(
        r#"matmul.fp6.ceiling_tflops = { value = 800, source = "spec" }"#,
    ))
    .unwrap_err();
    assert!(err.contains("fp6"), "{err}");
}

#[test]
fn a_derived_ceiling_with_a_measured_ratio_and_a_chain() {
    let catalog = load(&chip_with(
        "matmul.bf16.ceiling_tflops = { value = 800, source = \"spec\" }\n\
         matmul.mxfp8.peak_tflops = { value = 2000, source = \"spec\" }\n\
         matmul.mxfp8.ceiling_tflops = { derived = \"kernel-only MXFP8/BF16 speed at one model's shapes\", from = \"bf16\", ratio = { value = 1.5, source = \"spec\" } }\n\
         matmul.fp8.ceiling_tflops = { derived = \"as MXFP8\", from = \"mxfp8\" }\n\
         matmul.fp8.blockwise_ceiling_tflops = { derived = \"blockwise/per-tensor speed\", from = \"fp8\", ratio = { value = 0.9, source = \"spec\" } }",
    ))
    .unwrap_or_else(|e| panic!("{e}"));
    let chip = &catalog.accelerators["chip"];
    // BF16 fraction 800 / 1000 = 0.8, times the BF16 peak 1000, times 1.5 = 1200.
    assert_eq!(chip.matmul_ceiling(Precision::Mxfp8).number(), Some(1200.0));
    // A chain: FP8 borrows MXFP8's derived fraction 1200 / 2000 = 0.6, times 2000 = 1200.
    assert_eq!(chip.matmul_ceiling(Precision::Fp8).number(), Some(1200.0));
    // Blockwise: 0.6 x 2000 x 0.9 = 1080.
    assert_eq!(
        chip.fp8_ceiling(Fp8Recipe::Blockwise).number(),
        Some(1080.0)
    );
    assert_eq!(
        chip.fp8_ceiling_basis(Fp8Recipe::Blockwise),
        CeilingBasis::Derived
    );
}

#[test]
fn a_derived_cycle_or_an_impossible_ratio_is_refused() {
    let err = load(&chip_with(
        "matmul.mxfp8.peak_tflops = { value = 2000, source = \"spec\" }\n\
         matmul.mxfp8.ceiling_tflops = { derived = \"as FP8\", from = \"fp8\" }\n\
         matmul.fp8.ceiling_tflops = { derived = \"as MXFP8\", from = \"mxfp8\" }",
    ))
    .unwrap_err();
    assert!(err.contains("does not lead back here"), "{err}");
    let err = load(&chip_with(
        "matmul.bf16.ceiling_tflops = { value = 800, source = \"spec\" }\n\
         matmul.fp8.ceiling_tflops = { derived = \"too fast\", from = \"bf16\", ratio = { value = 3, source = \"spec\" } }",
    ))
    .unwrap_err();
    // 0.8 x 1000 x 3 = 2400 > the 2000 FP8 peak.
    assert!(
        err.contains("derived 2400 TFLOP/s is above the 2000 TFLOP/s fp8 peak"),
        "{err}"
    );
}

#[test]
fn every_shipping_gpu_has_a_ceiling_for_every_precision_it_has() {
    let catalog = Catalog::embedded().unwrap_or_else(|d| panic!("{d}"));
    for id in [
        "a100-sxm-80gb",
        "h100-sxm",
        "h800-sxm",
        "h200-sxm",
        "b200",
        "b300",
        "gb200",
        "gb300",
        "mi300x",
        "mi325x",
        "mi355x",
    ] {
        let a = &catalog.accelerators[id];
        for p in Precision::ALL {
            let peak = a.peak_tflops(p);
            let ceiling = a.matmul_ceiling(p);
            eprintln!(
                "{id:>14} {p:>6}: peak {:>8?} ceiling {:>8?} {:?} {:?}",
                peak.number(),
                ceiling.number(),
                a.ceiling_basis(p),
                a.matmul_fraction(p).map(|f| (f * 1000.0).round() / 10.0)
            );
            match (peak.number(), ceiling.number()) {
                (Some(peak), Some(c)) => assert!(c > 0.0 && c <= peak, "{id} {p}"),
                (None, None) => assert!(
                    matches!(peak, Sourced::NotApplicable(_)),
                    "{id} {p}: a missing peak must be not applicable, not unknown: {peak:?}"
                ),
                other => panic!("{id} {p}: peak and ceiling disagree: {other:?}"),
            }
        }
        // Blockwise FP8 has a figure wherever FP8 does.
        assert_eq!(
            a.fp8_ceiling(Fp8Recipe::Blockwise).number().is_some(),
            a.has_precision(Precision::Fp8),
            "{id}"
        );
    }
    // FP4 requested on Hopper falls back to FP8; on MI355X NVFP4 falls back to FP8 too.
    assert_eq!(
        catalog.accelerators["h100-sxm"].nearest_precision(Precision::Nvfp4),
        Some(Precision::Fp8)
    );
    assert_eq!(
        catalog.accelerators["a100-sxm-80gb"].nearest_precision(Precision::Fp8),
        Some(Precision::Bf16)
    );
}

/// The shipped `deepspeed-zero3` framework entry, as its own catalog file.
fn deepspeed_entry() -> String {
    let all = include_str!("../../../catalog/frameworks.toml");
    let start = all.find("[[framework]]\nid = \"deepspeed-zero3\"").unwrap();
    let end = start + all[start + 1..].find("\n[[").unwrap() + 1;
    all[start..end].to_string()
}

fn load_extra(text: String) -> Result<Catalog, String> {
    Catalog::load(&[CatalogText {
        name: "mine.toml".into(),
        text,
    }])
    .map_err(|d| d.to_string())
}

/// The error loading the DeepSpeed fixture with `line` added to its facts.
fn framework_error_with(line: &str) -> String {
    let bad = deepspeed_entry().replace("default_zero = {", &format!("{line}\ndefault_zero = {{"));
    load_extra(bad).unwrap_err()
}

#[test]
fn collective_granularity_and_fp8_scaling_are_read_and_checked() {
    let catalog = load_extra(deepspeed_entry()).unwrap();
    let fw = &catalog.frameworks["deepspeed-zero3"];
    assert_eq!(
        fw.dp_collectives.as_ref().and_then(|v| v.value()).unwrap(),
        "parameter"
    );
    // An unknown word is refused naming the field, with the nearest word.
    let bad = deepspeed_entry().replace(
        "dp_collectives = { value = \"parameter\"",
        "dp_collectives = { value = \"parameters\"",
    );
    let err = load_extra(bad).unwrap_err();
    assert!(
        err.contains("framework[deepspeed-zero3].dp_collectives"),
        "{err}"
    );
    assert!(err.contains("did you mean `parameter`"), "{err}");
    // So is an FP8 scaling the model does not know, and a missing source.
    let err = framework_error_with(
        "default_fp8_recipe = { value = \"fp8-tensorwise\", source = \"nowhere\" }",
    );
    assert!(
        err.contains("framework[deepspeed-zero3].default_fp8_recipe"),
        "{err}"
    );
    assert!(err.contains("unknown value `fp8-tensorwise`"), "{err}");
    assert!(err.contains("source `nowhere` is not defined"), "{err}");
    // A cuDNN version that is not major.minor[.patch] is refused naming the field and the form.
    let err = framework_error_with("cudnn = { value = \"9.x\", source = \"fw-nemo-docker\" }");
    assert!(err.contains("framework[deepspeed-zero3].cudnn"), "{err}");
    assert!(err.contains("`9.x` is not a version"), "{err}");
    assert!(err.contains("major.minor[.patch]"), "{err}");
    // The optional flags are cited when given: the asynchronous TP all-reduce names its field.
    let err = framework_error_with("async_tp_all_reduce = { value = true, source = \"nowhere\" }");
    assert!(
        err.contains("framework[deepspeed-zero3].async_tp_all_reduce"),
        "{err}"
    );
    assert!(err.contains("source `nowhere` is not defined"), "{err}");
    // So is the in-place upcast of reduced gradient shards, and a word where a boolean belongs
    // is refused naming the field.
    let err =
        framework_error_with("gradient_shards_upcast = { value = true, source = \"nowhere\" }");
    assert!(
        err.contains("framework[deepspeed-zero3].gradient_shards_upcast"),
        "{err}"
    );
    assert!(err.contains("source `nowhere` is not defined"), "{err}");
    let err = framework_error_with(
        "gradient_shards_upcast = { value = \"yes\", source = \"fw-nemo-docker\" }",
    );
    assert!(err.contains("gradient_shards_upcast"), "{err}");
    assert!(err.contains("expected true or false"), "{err}");
}

/// A `[[model]]` entry (GPT-OSS's shape) appended to the fixture, with `extra` lines.
fn with_model(extra: &str) -> String {
    format!(
        "{MINI}\n[[model]]\nid = \"moe\"\nname = \"an MoE\"\nsource = \"spec\"\nlayers = 36\nhidden = 2880\nffn_hidden = 2880\nheads = 64\nkv_heads = 8\nhead_dim = 64\nvocab = 201088\ngated_mlp = true\ntied_embeddings = false\n{extra}"
    )
}

#[test]
fn a_model_entry_carries_its_layer_facts() {
    let moe = "experts = 128\ntop_k = 4\nmoe_ffn_hidden = 2880\n";
    let facts = "sliding_window = 128\nsliding_window_layers = 18\nexpert_bias = true\nyarn_scaling_factor = 32.0\nglu_clamp = true\nqk_norm = true\nfacts_source = \"spec\"\n";
    let catalog = load(&with_model(&format!("{moe}{facts}"))).unwrap();
    let m = &catalog.models["moe"];
    assert_eq!((m.sliding_window, m.sliding_window_layers), (128, 18));
    assert!(m.expert_bias && m.glu_clamp && m.qk_norm);
    assert_eq!(m.yarn_scaling_factor, Some(32.0));
    // Without them, nothing is charged: every fact defaults off.
    let plain = load(&with_model(moe)).unwrap();
    let p = &plain.models["moe"];
    assert!(!p.expert_bias && !p.glu_clamp && !p.qk_norm && p.sliding_window == 0);
    assert_eq!(p.yarn_scaling_factor, None);
}

#[test]
fn inconsistent_layer_facts_name_the_model_and_field() {
    let moe = "experts = 128\ntop_k = 4\nmoe_ffn_hidden = 2880\n";
    // Each case: whether the model has experts, the facts added, the field named, the fix.
    for (with_experts, extra, field, fix) in [
        (
            false,
            "glu_clamp = true\n",
            "model[moe].glu_clamp",
            "set experts",
        ),
        (
            true,
            "sliding_window = 128\n",
            "model[moe].sliding_window_layers",
            "or neither",
        ),
        (
            true,
            "sliding_window = 128\nsliding_window_layers = 40\n",
            "model[moe].sliding_window_layers",
            "at most every layer",
        ),
        (
            true,
            "yarn_scaling_factor = 0.5\n",
            "model[moe].yarn_scaling_factor",
            "leave it out",
        ),
        (
            true,
            "qk_norm = true\nfacts_source = \"spex\"\n",
            "model[moe].facts_source",
            "spec",
        ),
    ] {
        let facts = if with_experts {
            format!("{moe}{extra}")
        } else {
            extra.to_string()
        };
        let err = load(&with_model(&facts)).unwrap_err();
        assert!(err.starts_with("mini.toml:"), "{err}");
        assert!(err.contains(field) && err.contains(fix), "{facts}: {err}");
    }
}

#[test]
fn gb300_borrows_gb200s_measured_fractions_times_the_speed_measured_between_the_two() {
    let catalog = Catalog::embedded().unwrap_or_else(|d| panic!("{d}"));
    let gb300 = &catalog.accelerators["gb300"];
    let gb200 = &catalog.accelerators["gb200"];
    // Microsoft's cuBLASLt FP8 GEMM at 16384^3: GB300 3,308.5 / GB200 2,906.9 = 1.1382.
    // BF16: GB200's MAMF 1,822.0 of 2,500 (0.7288) x GB300's 2,500 x 1.1382 = 2,073.8.
    // FP8: 3,615.6 of 5,000 (0.72312) x 5,000 x 1.1382 = 4,115.3.
    for (precision, expected) in [(Precision::Bf16, 2073.8), (Precision::Fp8, 4115.3)] {
        let own = gb300.matmul_ceiling(precision).number().unwrap();
        let borrowed = gb200.matmul_ceiling(precision).number().unwrap();
        assert_eq!(own, expected, "{precision}");
        assert!(
            (own / borrowed - 1.1382).abs() < 1e-3,
            "{precision}: {own} / {borrowed}"
        );
        let Sourced::Known { source, note, .. } = gb300.matmul_ceiling(precision) else {
            panic!("{precision}: not known");
        };
        assert_eq!(source, "src-azure-ai-benchmarking-gb300");
        let note = note.unwrap_or_default();
        assert!(
            note.contains("times the measured speed of this chip over gb200 1.1382"),
            "{note}"
        );
    }
    // MXFP8 follows FP8 through its own kernel ratio: 4,115.3 x 0.9513 = 3,914.9.
    assert_eq!(
        gb300.matmul_ceiling(Precision::Mxfp8).number(),
        Some(3914.9)
    );
}
