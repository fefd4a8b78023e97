//! Loading the catalog: the fixture loads, and each kind of bad input is refused with a
//! diagnostic that names the file, the line, the field and the fix.

use catalog::{Catalog, CatalogText};

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
