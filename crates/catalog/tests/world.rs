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
    let err = load(HISTORY).unwrap_err();
    assert!(err.contains("deal[acme-deal].status"), "{err}");
    assert!(err.contains("end in `binding`"), "{err}");
    assert!(err.contains("set status = \"binding\""), "{err}");
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
    let err = load(extra).unwrap_err();
    let line = line_of(extra, "date = \"2025-02-01\"");
    assert!(err.contains(&format!("mini.toml:{line}")), "{err}");
    assert!(err.contains("out of date order"), "{err}");
    assert!(err.contains("oldest first"), "{err}");
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
    let err = load(extra).unwrap_err();
    let line = line_of(extra, "deal = \"acme-deel\"");
    assert!(err.contains(&format!("mini.toml:{line}")), "{err}");
    assert!(err.contains("unknown deal `acme-deel`"), "{err}");
    assert!(err.contains("did you mean `acme-deal`"), "{err}");
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
    let err = load(extra).unwrap_err();
    let line = line_of(extra, "kind = \"delivered\"");
    assert!(err.contains(&format!("mini.toml:{line}")), "{err}");
    assert!(
        err.contains("impossible for deal `acme-deal` in state `cancelled`"),
        "{err}"
    );
    assert!(err.contains("add a `revived` event"), "{err}");
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
    let err = load(extra).unwrap_err();
    let line = line_of(extra, "gw = 2.0");
    assert!(err.contains(&format!("mini.toml:{line}")), "{err}");
    assert!(err.contains("event[acme-deal 2025-01-01].basis"), "{err}");
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
    let err = load(extra).unwrap_err();
    assert!(err.contains("site[campus].phase[1].basis"), "{err}");
    assert!(err.contains("basis = \"facility\""), "{err}");
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
    let err = load(&extra.replace("read = \"2026-12-02\"", "read = \"yesterday\"")).unwrap_err();
    assert!(err.contains("source[full].read"), "{err}");
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
