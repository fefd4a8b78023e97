//! The scenario file format (see the README's "Writing a scenario").

use std::collections::BTreeMap;

use catalog::Source;
use serde::Deserialize;
use toml::Spanned;

use crate::ScenarioNumber;

/// A scenario file as written: tranches of buildout, defaults, price overrides, financing.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Format version; 1 today.
    pub schema_version: Option<Spanned<u32>>,
    /// Short title.
    pub name: Option<String>,
    /// What the scenario represents and why.
    pub description: Option<String>,
    /// Last month of the timeline, `YYYY-MM`.
    pub end: Option<Spanned<String>>,
    /// Values applied to every tranche that does not set its own.
    #[serde(default)]
    pub defaults: TrancheDefaults,
    /// Price per system by system id, USD.
    #[serde(default)]
    pub prices: BTreeMap<String, Spanned<ScenarioNumber>>,
    /// Figures the catalog lacks or that the scenario replaces.
    #[serde(default)]
    pub overrides: Overrides,
    /// Sources for the scenario's own numbers.
    #[serde(default)]
    pub source: Vec<Source>,
    /// The buildout.
    #[serde(default)]
    pub tranche: Vec<TrancheSpec>,
    /// Money flowing in.
    #[serde(default)]
    pub financing: Vec<FinancingSpec>,
    /// Deals deliberately left out of the model, and why (reported, not computed).
    #[serde(default)]
    pub excluded: Vec<ExcludedSpec>,
    /// Inputs of the capability view (`engine::capability`).
    pub capability: Option<crate::capability::CapabilitySpec>,
}

/// A deal the scenario leaves out, so that reports say what is missing.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExcludedSpec {
    /// The catalog deal.
    pub deal: Spanned<String>,
    /// Its capacity, GW, where known.
    pub facility_gw: Option<Spanned<ScenarioNumber>>,
    /// Why it is not modelled.
    pub reason: String,
}

/// Defaults for tranches.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrancheDefaults {
    /// Facility power / IT power.
    pub pue: Option<Spanned<ScenarioNumber>>,
    /// USD per kWh.
    pub electricity_usd_per_kwh: Option<Spanned<ScenarioNumber>>,
    /// Average IT power drawn / nameplate.
    pub utilization: Option<Spanned<ScenarioNumber>>,
    /// Months of construction before power-on.
    pub build_months: Option<Spanned<ScenarioNumber>>,
    /// Months over which systems come online.
    pub ramp_months: Option<Spanned<ScenarioNumber>>,
    /// Facility capex per MW of facility power.
    pub facility_capex_usd_per_mw: Option<Spanned<ScenarioNumber>>,
    /// Networking capex as a fraction of systems capex.
    pub networking_capex_fraction: Option<Spanned<ScenarioNumber>>,
    /// Non-energy opex per year as a fraction of capex in service.
    pub other_opex_fraction_per_year: Option<Spanned<ScenarioNumber>>,
}

/// Overrides of catalog figures, by id.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Overrides {
    /// By system id.
    #[serde(default)]
    pub system: BTreeMap<String, SystemOverride>,
    /// By accelerator id.
    #[serde(default)]
    pub accelerator: BTreeMap<String, AcceleratorOverride>,
}

/// System figures a scenario may supply.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SystemOverride {
    /// IT power per system, kW.
    pub it_power_kw: Option<Spanned<ScenarioNumber>>,
    /// Accelerators per system.
    pub accelerators_per_system: Option<Spanned<ScenarioNumber>>,
}

/// Accelerator figures a scenario may supply.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AcceleratorOverride {
    /// Dense bf16 TFLOP/s.
    pub bf16_dense_tflops: Option<Spanned<ScenarioNumber>>,
    /// Dense fp8 TFLOP/s.
    pub fp8_dense_tflops: Option<Spanned<ScenarioNumber>>,
    /// Dense fp4 TFLOP/s.
    pub fp4_dense_tflops: Option<Spanned<ScenarioNumber>>,
}

/// One tranche of buildout.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrancheSpec {
    /// Display name; defaults to `tranche N`.
    pub name: Option<Spanned<String>>,
    /// The catalog deal this tranche belongs to.
    pub deal: Option<Spanned<String>>,
    /// The catalog site the capacity lands at (`catalog/sites.toml`).
    pub site: Option<Spanned<String>>,
    /// The catalog system.
    pub system: Option<Spanned<String>>,
    /// Size as facility power, GW.
    pub facility_gw: Option<Spanned<ScenarioNumber>>,
    /// Size as IT power, GW.
    pub it_gw: Option<Spanned<ScenarioNumber>>,
    /// Size as GW on the basis `basis` names.
    pub gw: Option<Spanned<ScenarioNumber>>,
    /// What `gw` measures: `facility`, `it` or `contracted` (issue 16).
    pub basis: Option<Spanned<String>>,
    /// Size as a count of systems.
    pub systems: Option<Spanned<ScenarioNumber>>,
    /// First month online, `YYYY-MM`.
    pub start: Option<Spanned<String>>,
    /// Months over which systems come online.
    pub ramp_months: Option<Spanned<ScenarioNumber>>,
    /// Month fully online (instead of `ramp_months`).
    pub full_by: Option<Spanned<String>>,
    /// Facility power / IT power.
    pub pue: Option<Spanned<ScenarioNumber>>,
    /// USD per kWh.
    pub electricity_usd_per_kwh: Option<Spanned<ScenarioNumber>>,
    /// Average IT power drawn / nameplate.
    pub utilization: Option<Spanned<ScenarioNumber>>,
    /// Months of construction before power-on.
    pub build_months: Option<Spanned<ScenarioNumber>>,
}

/// A source of money flowing in.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FinancingSpec {
    /// Display name.
    pub name: Option<String>,
    /// Tranches of this deal count towards per-GW payments (all tranches if absent).
    pub deal: Option<Spanned<String>>,
    /// Paid per whole GW deployed.
    pub usd_per_gw: Option<Spanned<ScenarioNumber>>,
    /// Cap on per-GW payments.
    pub max_usd: Option<Spanned<ScenarioNumber>>,
    /// Month of a lump payment.
    pub month: Option<Spanned<String>>,
    /// Amount of a lump payment.
    pub usd: Option<Spanned<ScenarioNumber>>,
}
