//! Deal histories, GW bases, sites, the record and source quality: each kind of bad input is
//! refused with a diagnostic naming the file, line and fix; old-format sources only warn.

use catalog::{Catalog, CatalogText, DealStatus};

const MINI: &str = include_str!("fixtures/mini.toml");

/// The fixture plus `extra` TOML appended.
fn load(extra: &str) -> Result<Catalog, String> {
    Catalog::from_texts(&[CatalogText {
        name: "mini.toml".into(),
        text: format!("{MINI}\n{extra}"),
    }])
    .map_err(|d| d.to_string())
}

/// Loads the fixture plus `extra`, expects a refusal, and checks that the diagnostic carries
/// each needle (the field, the reason, the fix).
fn refused(extra: &str, needles: &[&str]) -> String {
    let err = load(extra).unwrap_err();
    for needle in needles {
        assert!(err.contains(needle), "missing `{needle}` in: {err}");
    }
    err
}

/// As `refused`, and the diagnostic points at the line of `extra` holding `at`.
fn refused_at(extra: &str, at: &str, needles: &[&str]) -> String {
    let err = refused(extra, needles);
    let line = line_of(extra, at);
    assert!(err.contains(&format!("mini.toml:{line}")), "{err}");
    err
}

fn line_of(extra: &str, needle: &str) -> usize {
    let text = format!("{MINI}\n{extra}");
    let offset = text.find(needle).expect("needle present");
    text[..offset].lines().count() + usize::from(text[..offset].ends_with('\n'))
}

const HISTORY: &str = r#"
[[event]]
deal = "acme-deal"
date = "2025-01-01"
kind = "announced"
gw = 1.0
basis = "facility"
source = "spec"

[[event]]
deal = "acme-deal"
date = "2025-06"
kind = "signed"
source = "spec"
"#;

#[test]
fn status_is_derived_from_events_on_any_date() {
    let text = MINI.replace("status = \"announced\"", "status = \"binding\"");
    let catalog = Catalog::from_texts(&[CatalogText {
        name: "mini.toml".into(),
        text: format!("{text}\n{HISTORY}"),
    }])
    .unwrap_or_else(|d| panic!("{d}"));
    let deal = &catalog.deals["acme-deal"];
    assert_eq!(
        catalog.status_of(deal, None).unwrap().status,
        DealStatus::Binding
    );
    assert_eq!(
        catalog.status_of(deal, Some("2025-03-01")).unwrap().status,
        DealStatus::Announced
    );
    // A month-precision event is public only once its month has passed.
    assert_eq!(
        catalog.status_of(deal, Some("2025-06-15")).unwrap().status,
        DealStatus::Announced
    );
    assert!(catalog.status_of(deal, Some("2024-12-31")).is_none());
    let then = catalog.known_on("2024-12-31");
    assert!(!then.deals.contains_key("acme-deal"));
    assert_eq!(then.withheld["acme-deal"], "2025-01-01");
    let later = catalog.known_on("2025-03-01");
    assert_eq!(later.deals["acme-deal"].status, DealStatus::Announced);
    assert_eq!(later.knowledge_cutoff(), "2025-03-01");
}

#[test]
fn a_status_that_disagrees_with_the_events_is_refused() {
    refused(
        HISTORY,
        &[
            "deal[acme-deal].status",
            "end in `binding`",
            "set status = \"binding\"",
        ],
    );
}

#[test]
fn events_out_of_date_order_are_refused() {
    let extra = r#"
[[event]]
deal = "acme-deal"
date = "2025-06-01"
kind = "announced"
source = "spec"

[[event]]
deal = "acme-deal"
date = "2025-02-01"
kind = "signed"
source = "spec"
"#;
    refused_at(
        extra,
        "date = \"2025-02-01\"",
        &["out of date order", "oldest first"],
    );
}

#[test]
fn an_event_for_an_unknown_deal_is_refused() {
    let extra = r#"
[[event]]
deal = "acme-deel"
date = "2025-06-01"
kind = "announced"
source = "spec"
"#;
    refused_at(
        extra,
        "deal = \"acme-deel\"",
        &["unknown deal `acme-deel`", "did you mean `acme-deal`"],
    );
}

#[test]
fn a_delivery_after_cancellation_without_revival_is_refused() {
    let extra = r#"
[[event]]
deal = "acme-deal"
date = "2025-01-01"
kind = "announced"
source = "spec"

[[event]]
deal = "acme-deal"
date = "2025-03-01"
kind = "cancelled"
source = "spec"

[[event]]
deal = "acme-deal"
date = "2025-05-01"
kind = "delivered"
source = "spec"
"#;
    refused_at(
        extra,
        "kind = \"delivered\"",
        &[
            "impossible for deal `acme-deal` in state `cancelled`",
            "add a `revived` event",
        ],
    );
    // With a revival in between, the history is possible (and ends in-force).
    let revived = extra.replace(
        "date = \"2025-05-01\"",
        "date = \"2025-04-01\"\nkind = \"revived\"\nsource = \"spec\"\n\n[[event]]\ndeal = \"acme-deal\"\ndate = \"2025-05-01\"",
    );
    let text = MINI.replace("status = \"announced\"", "status = \"in-force\"");
    Catalog::from_texts(&[CatalogText {
        name: "mini.toml".into(),
        text: format!("{text}\n{revived}"),
    }])
    .unwrap_or_else(|d| panic!("{d}"));
}

#[test]
fn a_gw_without_a_basis_is_refused_everywhere() {
    // On a deal.
    let text = MINI.replace("power_basis = \"facility\"\n", "");
    let err = Catalog::from_texts(&[CatalogText {
        name: "mini.toml".into(),
        text,
    }])
    .unwrap_err()
    .to_string();
    assert!(err.contains("deal[acme-deal].power_basis"), "{err}");
    assert!(err.contains("a GW figure without a basis"), "{err}");
    assert!(err.contains("power_basis = \"facility\""), "{err}");
    // On an event.
    let extra = r#"
[[event]]
deal = "acme-deal"
date = "2025-01-01"
kind = "announced"
gw = 2.0
source = "spec"
"#;
    refused_at(extra, "gw = 2.0", &["event[acme-deal 2025-01-01].basis"]);
    // On a site phase.
    let extra = r#"
[[site]]
id = "campus"
name = "Campus"
operator = "Acme"
location = "Somewhere"
deals = ["acme-deal"]

[[site.phase]]
name = "one"
date = { value = "2026", source = "spec" }
state = "planned"
gw = { value = 1.0, source = "spec" }
"#;
    refused(
        extra,
        &["site[campus].phase[1].basis", "basis = \"facility\""],
    );
}

#[test]
fn an_event_with_an_impossible_amount_is_refused() {
    // A negative or runaway GW figure, contract or investment on a deal's event is refused at
    // its line, naming the field and the range a catalog holds (the same bound as every other
    // catalog number: a product of two 1e300 figures would not stay finite).
    for (line, field, quoted) in [
        (
            "gw = -2.0",
            "event[acme-deal 2025-01-01].gw",
            "impossible value -2",
        ),
        (
            "gw = 1e300",
            "event[acme-deal 2025-01-01].gw",
            "impossible value 1e300",
        ),
        (
            "contract_usd = -1000.0",
            "event[acme-deal 2025-01-01].contract_usd",
            "impossible value -1,000",
        ),
        (
            "investment_usd = 2e15",
            "event[acme-deal 2025-01-01].investment_usd",
            "impossible value 2e15",
        ),
    ] {
        let extra = format!(
            r#"
[[event]]
deal = "acme-deal"
date = "2025-01-01"
kind = "announced"
basis = "facility"
{line}
source = "spec"
"#
        );
        let key = field.rsplit('.').next().unwrap();
        let fix = format!("`{key}` must be zero or more, and at most 1e15");
        let at = if key == "gw" {
            line
        } else {
            "date = \"2025-01-01\""
        };
        refused_at(&extra, at, &[field, quoted, &fix]);
    }
}

#[test]
fn a_site_with_its_basis_loads_and_sums_by_basis() {
    let extra = r#"
[[site]]
id = "campus"
name = "Campus"
operator = "Acme"
location = "Somewhere"
deals = ["acme-deal"]

[[site.phase]]
name = "one"
date = { value = "2026", source = "spec" }
state = "operating"
gw = { value = 1.0, source = "spec" }
basis = "facility"
systems = ["box"]

[[site.phase]]
name = "two"
date = { value = "2027", source = "spec" }
state = "cancelled"
gw = { value = 0.5, source = "spec" }
basis = "facility"
"#;
    let catalog = load(extra).unwrap();
    assert_eq!(
        catalog.sites["campus"].planned_gw(catalog::GwBasis::Facility),
        1.0
    );
}

#[test]
fn old_format_sources_load_with_a_warning_and_new_ones_without() {
    let catalog = load("").unwrap();
    let warning = catalog
        .warnings
        .iter()
        .find(|w| w.field.as_deref() == Some("source[spec]"))
        .expect("the fixture's source is old-format");
    assert!(
        warning.message.contains("no `publisher`"),
        "{}",
        warning.message
    );
    assert!(warning.message.contains("`excerpt`"), "{}", warning.message);
    assert_eq!(warning.line, Some(3));
    let extra = r#"
[[source]]
id = "full"
title = "A filing"
url = "https://example.com/10q"
date = "2025-11-19"
read = "2026-12-02"
kind = "filing"
publisher = "Acme Corp"
excerpt = "there is no assurance that any investment will be completed"
read_via = "https://example.com/mirror"
"#;
    let catalog = load(extra).unwrap();
    assert!(catalog
        .warnings
        .iter()
        .all(|w| w.field.as_deref() != Some("source[full]")));
    assert_eq!(
        catalog::source_quality::standing(catalog.sources["full"].kind),
        catalog::source_quality::Standing::Primary
    );
    refused(
        &extra.replace("read = \"2026-12-02\"", "read = \"yesterday\""),
        &["source[full].read"],
    );
}

#[test]
fn the_embedded_catalog_has_histories_sites_and_a_record() {
    let catalog = Catalog::embedded().unwrap_or_else(|d| panic!("{d}"));
    for (id, deal) in &catalog.deals {
        assert!(
            !catalog.events_of(id).is_empty(),
            "deal {id} has no history"
        );
        assert_eq!(
            catalog.status_of(deal, None).unwrap().status,
            deal.status,
            "{id}"
        );
    }
    assert!(catalog.sites.contains_key("abilene"));
    assert!(catalog.records.len() >= 20, "{}", catalog.records.len());
    // The LOI was announced in Sep 2025 and replaced in Feb 2026.
    let loi = &catalog.deals["openai-nvidia-loi"];
    assert_eq!(
        catalog.status_of(loi, Some("2025-12-31")).unwrap().status,
        DealStatus::Announced
    );
    assert_eq!(
        catalog.status_of(loi, Some("2026-02-01")).unwrap().status,
        DealStatus::Stalled
    );
    assert_eq!(
        catalog.status_of(loi, None).unwrap().status,
        DealStatus::Replaced
    );
    assert!(catalog.knowledge_cutoff().as_str() >= "2026-06");
}

#[test]
fn a_source_in_the_quality_format_without_a_publisher_is_refused() {
    let extra = r#"
[[source]]
id = "wire"
title = "A wire story"
url = "https://example.com/wire"
date = "2026-03-06"
read = "2026-12-02"
kind = "primary-press"
excerpt = "the deal remains on track, the report said"
"#;
    refused_at(
        extra,
        "id = \"wire\"",
        &[
            "source[wire].publisher",
            "has no publisher",
            "add publisher = ",
        ],
    );
    // A new kind without `read` is in the quality format too.
    refused(
        &extra.replace("read = \"2026-12-02\"\n", ""),
        &["source[wire].publisher"],
    );
    // With a publisher it loads, and raises no warning.
    let catalog = load(&extra.replace(
        "kind = \"primary-press\"",
        "kind = \"primary-press\"\npublisher = \"Reuters\"",
    ))
    .unwrap_or_else(|e| panic!("{e}"));
    assert!(catalog.warnings.iter().all(|w| !w
        .field
        .as_deref()
        .unwrap_or("")
        .starts_with("source[wire]")));
}

#[test]
fn a_source_without_a_date_is_refused_with_the_line_and_field() {
    let extra = r#"
[[source]]
id = "undated"
title = "A page"
url = "https://example.com/page"
kind = "press"
publisher = "Somebody"
"#;
    refused(extra, &["mini.toml:", "date"]);
    let err = load(&extra.replace(
        "kind = \"press\"",
        "kind = \"press\"\ndate = \"last spring\"",
    ))
    .unwrap_err();
    assert!(err.contains("source[undated].date"), "{err}");
}

#[test]
fn a_derived_source_needs_no_read_date_or_excerpt() {
    let extra = r#"
[[source]]
id = "sum"
title = "Derived: a + b"
url = "https://example.com/inputs"
date = "2026-11"
kind = "derived"
publisher = "this catalog (derived)"
note = "a + b, inputs spec and spec"
"#;
    let catalog = load(extra).unwrap_or_else(|e| panic!("{e}"));
    assert!(catalog
        .warnings
        .iter()
        .all(|w| w.field.as_deref() != Some("source[sum]")));
}

const CLAIMS: &str = r#"
[[claim]]
quantity = "system.box.price_usd"
value = 300000
unit = "USD"
source = "spec"
note = "the datasheet's list price"

[[claim]]
quantity = "system.box.price_usd"
value = 250000
low = 200000
high = 300000
unit = "USD"
source = "spec"

[[claim]]
quantity = "deal.acme-deal.power_gw"
value = 1.5
unit = "GW"
basis = "contracted"
source = "spec"
"#;

#[test]
fn claims_load_and_give_the_range_of_a_quantity() {
    let catalog = load(CLAIMS).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(catalog.claims.len(), 3);
    assert_eq!(catalog.claims_for("system.box.price_usd").len(), 2);
    // 300,000 from the first claim, 200,000..300,000 from the second.
    assert_eq!(
        catalog.claimed_range("system.box.price_usd"),
        Some((200_000.0, 300_000.0))
    );
    assert_eq!(catalog.claimed_range("system.box.it_power_kw"), None);
}

#[test]
fn a_claim_on_an_unknown_entry_is_refused_with_a_suggestion() {
    let extra = CLAIMS.replace(
        "system.box.price_usd\"\nvalue = 300000",
        "system.bx.price_usd\"\nvalue = 300000",
    );
    refused_at(
        &extra,
        "quantity = \"system.bx",
        &["claim[1].quantity", "no system `bx`", "did you mean `box`"],
    );
    let err = load(&CLAIMS.replace(
        "system.box.price_usd\"\nvalue = 300000",
        "rack.box.price_usd\"\nvalue = 300000",
    ))
    .unwrap_err();
    assert!(err.contains("not a table a claim can name"), "{err}");
    let err = load(&CLAIMS.replace(
        "system.box.price_usd\"\nvalue = 300000",
        "price\"\nvalue = 300000",
    ))
    .unwrap_err();
    assert!(err.contains("is not a quantity path"), "{err}");
}

#[test]
fn a_claim_whose_range_misses_its_value_or_whose_gw_has_no_basis_is_refused() {
    refused(
        &CLAIMS.replace("value = 250000", "value = 350000"),
        &["claim[2].low", "does not contain the value 350000"],
    );
    refused(
        &CLAIMS.replace("basis = \"contracted\"\n", ""),
        &["claim[3].basis", "a GW figure without a basis"],
    );
    let err = load(&CLAIMS.replace(
        "value = 1.5\nunit = \"GW\"\nbasis = \"contracted\"\nsource = \"spec\"",
        "value = 1.5\nunit = \"GW\"\nbasis = \"contracted\"\nsource = \"spek\"",
    ))
    .unwrap_err();
    assert!(err.contains("claim[3].source"), "{err}");
    assert!(err.contains("did you mean `spec`"), "{err}");
}

#[test]
fn a_site_search_needs_a_day_and_what_it_found() {
    let site = r#"
[[site]]
id = "campus"
name = "Campus"
operator = "Acme"
location = "Somewhere"
deals = ["acme-deal"]
searched = "2026-12-02"
latest = "nothing newer than the phase's report is public"
"#;
    load(site).unwrap_or_else(|e| panic!("{e}"));
    let err =
        load(&site.replace("searched = \"2026-12-02\"", "searched = \"2026-12\"")).unwrap_err();
    assert!(err.contains("site[campus].searched"), "{err}");
    assert!(err.contains("YYYY-MM-DD"), "{err}");
    let err = load(&site.replace(
        "latest = \"nothing newer than the phase's report is public\"\n",
        "",
    ))
    .unwrap_err();
    assert!(err.contains("site[campus].latest"), "{err}");
}

#[test]
fn every_shipped_source_names_its_publisher_and_every_site_its_last_search() {
    let catalog = Catalog::embedded().unwrap_or_else(|d| panic!("{d}"));
    for (id, source) in &catalog.sources {
        assert!(
            source
                .publisher
                .as_deref()
                .is_some_and(|p| !p.trim().is_empty()),
            "source {id} has no publisher"
        );
    }
    for (id, site) in &catalog.sites {
        assert!(site.searched.is_some(), "site {id} has no search date");
    }
    // Disagreeing figures for the default plan's rack are machine-readable.
    let (low, high) = catalog
        .claimed_range("system.vera-rubin-nvl144.price_usd")
        .expect("Vera Rubin price claims");
    assert!(low < 9_100_000.0 && 9_100_000.0 <= high, "{low}..{high}");
}

#[test]
fn a_measured_hbm_bandwidth_above_the_nominal_one_is_refused() {
    // The fixture's chip streams 3 TB/s nominal; a stream benchmark cannot beat it.
    let text = MINI.replace(
        "hbm_tb_per_s = { value = 3, source = \"spec\" }",
        "hbm_tb_per_s = { value = 3, source = \"spec\" }\nhbm_measured_tb_per_s = { value = 3.5, source = \"spec\" }",
    );
    let err = Catalog::from_texts(&[CatalogText {
        name: "mini.toml".into(),
        text,
    }])
    .map(|_| ())
    .unwrap_err()
    .to_string();
    assert!(err.contains("hbm_measured_tb_per_s"), "{err}");
    // Below the nominal figure it loads.
    let ok = MINI.replace(
        "hbm_tb_per_s = { value = 3, source = \"spec\" }",
        "hbm_tb_per_s = { value = 3, source = \"spec\" }\nhbm_measured_tb_per_s = { value = 2.5, source = \"spec\" }",
    );
    assert!(Catalog::from_texts(&[CatalogText {
        name: "mini.toml".into(),
        text: ok,
    }])
    .is_ok());
}

#[test]
fn a_streaming_multiprocessor_count_is_a_whole_number() {
    let with = |count: &str| {
        Catalog::from_texts(&[CatalogText {
            name: "mini.toml".into(),
            text: MINI.replace(
                "hbm_tb_per_s = { value = 3, source = \"spec\" }",
                &format!(
                    "hbm_tb_per_s = {{ value = 3, source = \"spec\" }}\nstreaming_multiprocessors = {{ value = {count}, source = \"spec\" }}"
                ),
            ),
        }])
        .map_err(|d| d.to_string())
    };
    let chip = |c: &Catalog| c.accelerators.values().next().unwrap().clone();
    let loaded = with("132").unwrap();
    assert_eq!(
        chip(&loaded)
            .streaming_multiprocessors
            .and_then(|s| s.number()),
        Some(132.0)
    );
    for bad in ["131.5", "0", "-4"] {
        let err = with(bad).unwrap_err();
        assert!(err.contains("streaming_multiprocessors"), "{bad}: {err}");
    }
}
