//! The serialized result of `gigawatt plan`: the schema users' scripts read.

use fleet::{MonthRow, TrancheTotals};
use serde::Serialize;

/// Everything a plan produced, with what it assumed and where each number came from.
#[derive(Debug, Clone, Serialize)]
pub struct PlanResult {
    /// Two or three sentences every output opens with (issue 16): what the scenario says, what
    /// it amounts to, and the deal's status on the knowledge date with its source.
    pub opening: crate::opening::Opening,
    /// Version of this schema.
    pub schema_version: u32,
    /// Version of the engine.
    pub engine_version: String,
    /// Content hash of the catalog files used.
    pub catalog_version: String,
    /// What was planned.
    pub scenario: ScenarioInfo,
    /// The final state: the last month of the timeline.
    pub totals: MonthRow,
    /// One row per month.
    pub timeline: Vec<MonthRow>,
    /// Each tranche when fully built.
    pub tranches: Vec<TrancheSummary>,
    /// The deals the tranches belong to, with their reported status.
    pub deals: Vec<DealSummary>,
    /// Every number the run used, with its source.
    pub assumptions: Vec<Assumption>,
    /// Every source an assumption cites.
    pub sources: Vec<SourceRef>,
    /// Deals the scenario leaves out of the model, and why.
    pub excluded: Vec<Excluded>,
    /// Things the user should know: unknown figures, unused power, clipped horizons.
    pub warnings: Vec<String>,
    /// What the catalog knew: its cut-off date and each deal's timeline.
    pub knowledge: crate::Knowledge,
    /// Per-GW ratios and the known sites they compare with.
    pub comparison: crate::opening::Comparison,
    /// p10/p50/p90 of the headlines and the final row from sampling the ranged figures, beside
    /// `totals` (which keeps the central values); absent with `--no-ranges`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ranges: Option<crate::ranges::Ranges>,
    /// What the fleet can train and serve, by month (`engine::capability`).
    pub capability: Option<crate::capability::Capability>,
}

/// A deal left out of the model.
#[derive(Debug, Clone, Serialize)]
pub struct Excluded {
    /// Deal id.
    pub deal: String,
    /// Its capacity, GW, where the scenario gives it.
    pub facility_gw: Option<f64>,
    /// Why it is not modelled.
    pub reason: String,
}

/// The scenario's identity.
#[derive(Debug, Clone, Serialize)]
pub struct ScenarioInfo {
    /// Title.
    pub name: String,
    /// Description.
    pub description: String,
    /// Where it came from: a file name, or `command line`.
    pub origin: String,
    /// Hash of the scenario text (or of the flags).
    pub input_hash: String,
    /// First month of the timeline.
    pub first_month: String,
    /// Last month of the timeline.
    pub end_month: String,
}

/// A tranche when fully built, with its ids.
#[derive(Debug, Clone, Serialize)]
pub struct TrancheSummary {
    /// The model's totals for the tranche.
    #[serde(flatten)]
    pub totals: TrancheTotals,
    /// Deal id, if any.
    pub deal: Option<String>,
    /// System id.
    pub system: String,
    /// Facility power asked for but not filled by whole systems, GW.
    pub unused_facility_gw: f64,
    /// The tranche's GW taken down the power stack (absent for a tranche sized in systems).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub power_stack: Option<crate::power_stack::PowerStack>,
    /// The catalog site the tranche is at, if it names one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub site: Option<String>,
}

/// A deal as reported.
#[derive(Debug, Clone, Serialize)]
pub struct DealSummary {
    /// Deal id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Reported status.
    pub status: String,
    /// Date of the status report.
    pub status_as_of: Option<String>,
    /// Source of the status.
    pub status_source: Option<String>,
    /// What happened.
    pub status_note: Option<String>,
}

/// One number the run used.
#[derive(Debug, Clone, Serialize)]
pub struct Assumption {
    /// What it is, as a path: `system[gb200-nvl72].price_usd`, `tranche[GW 1].pue`.
    pub name: String,
    /// The number.
    pub value: f64,
    /// Its unit.
    pub unit: String,
    /// Source id.
    pub source: String,
    /// How the value was read or chosen.
    pub note: Option<String>,
    /// Low end of the figure's plausible range, where the catalog gives one (`ranges` samples
    /// between `low` and `high`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub low: Option<f64>,
    /// High end of the range.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub high: Option<f64>,
    /// Where `low`/`high` come from when not from the figure's own catalog entry: `claims`
    /// (the lowest and highest figure the sources recorded in `catalog/claims.toml` give,
    /// widened to hold the catalog's value; `engine::ranges::claims_range`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub range_from: Option<String>,
}

/// A source cited by the assumptions.
#[derive(Debug, Clone, Serialize)]
pub struct SourceRef {
    /// Source id.
    pub id: String,
    /// Title.
    pub title: String,
    /// URL (empty for user input).
    pub url: String,
    /// Date.
    pub date: String,
    /// Kind (`vendor-spec`, `analyst-estimate`, ..., `user-input`).
    pub kind: String,
}
