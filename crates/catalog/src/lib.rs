//! The catalog: accelerators, systems, facility defaults, deals and the sources behind every
//! number in them.
//!
//! The data lives in `catalog/*.toml` at the repository root and is embedded in the binary.
//! [`Catalog::load`] parses and validates it, plus any files the user adds; the result is
//! immutable and every number in it has a source that exists. This crate does no I/O: the
//! edges read files and hand their text in as [`CatalogText`].

mod accelerator;
mod check_facility;
mod check_matmul;
mod checker;
pub mod claim;
pub mod diagnostic;
pub mod engines;
pub mod frameworks;
pub mod history;
mod known_on;
mod load;
mod model;
mod precision;
pub mod record;
pub mod site;
pub mod source_quality;
mod sourced;
mod world;

use std::collections::BTreeMap;

pub use accelerator::CeilingBasis;
pub use claim::Claim;
pub use diagnostic::{nearest, Diagnostic, Diagnostics, Problems};
pub use frameworks::Framework;
pub use history::{DerivedStatus, Event, EventKind, GwBasis};
pub use load::CatalogText;
pub use model::{
    layer_facts_problem, Accelerator, Cooling, Deal, DealStatus, FacilityDefaults, FactProblem,
    LayerFacts, ModelArch, Source, SourceKind, System,
};
pub use precision::{
    Ceiling, DerivedCeiling, Fp8Recipe, HeadlinePrecision, MatmulTable, Precision,
    PrecisionFigures, ResolvedDerivation,
};
pub use record::{CounterpartyType, Outcome, RecordEntry};
pub use site::{PhaseState, Site, SitePhase};
pub use sourced::Sourced;

/// The catalog files shipped in the binary, as (path in the repository, text).
pub const EMBEDDED_FILES: [(&str, &str); 9] = [
    (
        "catalog/hardware.toml",
        include_str!("../../../catalog/hardware.toml"),
    ),
    (
        "catalog/facility.toml",
        include_str!("../../../catalog/facility.toml"),
    ),
    (
        "catalog/deals.toml",
        include_str!("../../../catalog/deals.toml"),
    ),
    (
        "catalog/models.toml",
        include_str!("../../../catalog/models.toml"),
    ),
    (
        "catalog/events.toml",
        include_str!("../../../catalog/events.toml"),
    ),
    (
        "catalog/sites.toml",
        include_str!("../../../catalog/sites.toml"),
    ),
    (
        "catalog/record.toml",
        include_str!("../../../catalog/record.toml"),
    ),
    (
        "catalog/frameworks.toml",
        include_str!("../../../catalog/frameworks.toml"),
    ),
    (
        "catalog/claims.toml",
        include_str!("../../../catalog/claims.toml"),
    ),
];

/// Facility and economic defaults, complete and validated.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Facility {
    /// Facility power / IT power, liquid-cooled AI builds.
    pub pue: Sourced<f64>,
    /// Facility power / IT power, air-cooled builds.
    pub pue_air: Sourced<f64>,
    /// Share of critical IT power drawn by IT other than accelerator racks (scale-out network,
    /// storage, CPU and management nodes).
    pub non_accelerator_it_share: Sourced<f64>,
    /// Share of critical IT capacity held back from load (design margin).
    pub design_headroom: Sourced<f64>,
    /// Critical IT power per contracted GW whose basis the parties did not state.
    pub contracted_it_fraction: Sourced<f64>,
    /// Facility capex per MW of facility power, USD (no IT equipment).
    pub capex_usd_per_mw: Sourced<f64>,
    /// Months from breaking ground to power-on.
    pub build_months: Sourced<f64>,
    /// Months from a site's first systems online to all of them; quick plans ramp over this
    /// (optional: a catalog without it ramps quick plans at once).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ramp_months: Option<Sourced<f64>>,
    /// Electricity price, USD per kWh.
    pub electricity_usd_per_kwh: Sourced<f64>,
    /// Average IT power drawn / nameplate.
    pub utilization: Sourced<f64>,
    /// Networking capex as a fraction of systems capex.
    pub networking_capex_fraction: Sourced<f64>,
    /// Non-energy opex per year as a fraction of cumulative capex.
    pub other_opex_fraction_per_year: Sourced<f64>,
    /// The accelerator H100-equivalents are counted in (has a known bf16 peak).
    pub reference_accelerator: String,
}

/// A validated catalog. Every `Sourced::Known` in it names a source in `sources`.
#[derive(Debug, Clone)]
pub struct Catalog {
    /// Sources by id.
    pub sources: BTreeMap<String, Source>,
    /// Accelerators by id.
    pub accelerators: BTreeMap<String, Accelerator>,
    /// Systems by id; each one's accelerator exists.
    pub systems: BTreeMap<String, System>,
    /// Deals by id; each one's systems exist.
    pub deals: BTreeMap<String, Deal>,
    /// Model architectures by id.
    pub models: BTreeMap<String, ModelArch>,
    /// Training frameworks by id (with their version).
    pub frameworks: BTreeMap<String, Framework>,
    /// Planning defaults.
    pub facility: Facility,
    /// Content hash of all files read: changes whenever any number does.
    pub version: String,
    /// Deal events, each deal's in date order (see [`history`]).
    pub events: Vec<Event>,
    /// Sites by id.
    pub sites: BTreeMap<String, Site>,
    /// The record of past announcements, by id (see [`record`]).
    pub records: BTreeMap<String, RecordEntry>,
    /// Figures sources give for the same quantity, in file order (see [`claim`]).
    pub claims: Vec<Claim>,
    /// Problems that did not stop loading (sources in the old format); `catalog validate`
    /// prints them.
    pub warnings: Vec<Diagnostic>,
    /// Set by [`Catalog::known_on`]: the day the catalog was cut back to.
    pub known_on: Option<String>,
    /// Deals left out by [`Catalog::known_on`] because nothing of them was public yet: id ->
    /// the date of their first event.
    pub withheld: BTreeMap<String, String>,
}

impl Catalog {
    /// The claims recorded for `quantity` (`<table>.<id>.<field>`), in file order.
    pub fn claims_for(&self, quantity: &str) -> Vec<&Claim> {
        self.claims
            .iter()
            .filter(|c| c.quantity.get_ref() == quantity)
            .collect()
    }

    /// The lowest and highest figure the claims for `quantity` give (ranges included), or
    /// `None` when there is no claim. The catalog's chosen value is not included: callers
    /// widen the range by it where they hold it.
    pub fn claimed_range(&self, quantity: &str) -> Option<(f64, f64)> {
        self.claims_for(quantity)
            .into_iter()
            .map(Claim::bounds)
            .reduce(|(lo, hi), (l, h)| (lo.min(l), hi.max(h)))
    }

    /// The shipped catalog alone.
    pub fn embedded() -> Result<Catalog, Diagnostics> {
        Catalog::load(&[])
    }

    /// The shipped catalog with `extra` files layered on top (they add entries, or replace
    /// entries with the same id).
    pub fn load(extra: &[CatalogText]) -> Result<Catalog, Diagnostics> {
        let embedded: Vec<CatalogText> = EMBEDDED_FILES
            .iter()
            .map(|(name, text)| CatalogText {
                name: format!("<embedded>/{name}"),
                text: (*text).to_string(),
            })
            .collect();
        let mut layers = vec![embedded];
        if !extra.is_empty() {
            layers.push(extra.to_vec());
        }
        load::load_layers(&layers)
    }

    /// Loads exactly the given files, nothing embedded (for tests and alternative data sets).
    pub fn from_texts(files: &[CatalogText]) -> Result<Catalog, Diagnostics> {
        load::load_layers(&[files.to_vec()])
    }

    /// The accelerator a system is built from.
    pub fn accelerator_of(&self, system: &System) -> &Accelerator {
        &self.accelerators[system.accelerator.get_ref()]
    }

    /// The reference accelerator's dense bf16 FLOP/s (the unit of H100-equivalents).
    pub fn reference_bf16_dense_flops(&self) -> f64 {
        let reference = &self.accelerators[&self.facility.reference_accelerator];
        reference
            .bf16_dense_tflops
            .number()
            .expect("validated: the reference accelerator has a bf16 figure")
            * units::FLOPS_PER_TFLOPS
    }

    /// The id closest to `wanted` among the systems, for "did you mean" hints.
    pub fn nearest_system(&self, wanted: &str) -> Option<&str> {
        nearest(wanted, self.systems.keys().map(String::as_str))
    }

    /// The id closest to `wanted` among the training frameworks.
    pub fn nearest_framework(&self, wanted: &str) -> Option<&str> {
        nearest(wanted, self.frameworks.keys().map(String::as_str))
    }

    /// The newest Megatron (by release date): the framework a training spec uses when it names
    /// none.
    pub fn default_framework(&self) -> Option<&Framework> {
        self.frameworks
            .values()
            .filter(|f| f.id.get_ref().starts_with("megatron"))
            .max_by(|a, b| {
                a.released
                    .get_ref()
                    .cmp(b.released.get_ref())
                    .then_with(|| a.id.get_ref().cmp(b.id.get_ref()))
            })
    }

    /// The id closest to `wanted` among the deals.
    pub fn nearest_deal(&self, wanted: &str) -> Option<&str> {
        nearest(wanted, self.deals.keys().map(String::as_str))
    }
}

/// Loads `layers` of files in order, later layers replacing entries by id. Public for tests of
/// the layering rules; the CLI uses [`Catalog::load`].
pub fn load_layers_for_tests(layers: &[Vec<CatalogText>]) -> Result<Catalog, Diagnostics> {
    load::load_layers(layers)
}
