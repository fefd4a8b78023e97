//! The serialized result of `gigawatt risk`: the schema users' scripts read.

use engine::{Assumption, Excluded, SourceRef};
use serde::Serialize;
use units::Month;

/// Everything a risk run produced, with what it assumed and where each number came from.
#[derive(Debug, Clone, Serialize)]
pub struct RiskResult {
    /// Version of this schema.
    pub schema_version: u32,
    /// Version of the engine.
    pub engine_version: String,
    /// Content hash of the catalog files used.
    pub catalog_version: String,
    /// What was sampled.
    pub portfolio: PortfolioInfo,
    /// Number of samples of the whole portfolio.
    pub samples: u64,
    /// The seed: the same seed and samples give the same numbers on any number of threads.
    pub seed: u64,
    /// Wall-clock seconds the sampling took (set by the caller; 0 when not measured). `None`
    /// (`gigawatt risk --no-timing`) leaves the field out, so the same seed gives the same
    /// bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub elapsed_s: Option<f64>,
    /// The percentiles reported for each month (nearest-rank).
    pub percentiles: Vec<u32>,
    /// One row per month: the plan as written and the sampled percentiles.
    pub timeline: Vec<RiskMonth>,
    /// The answer to `--at-least-gw X --by YYYY-MM`, when asked.
    pub at_least: Option<Probability>,
    /// Which deal's uncertainty moves the median most.
    pub tornado: Tornado,
    /// Each deal's uncertainty, as assumed and as sampled.
    pub deals: Vec<DealResult>,
    /// The shared drivers.
    pub drivers: Vec<DriverResult>,
    /// Every number the run used (the plan's and the risk model's), with its source.
    pub assumptions: Vec<Assumption>,
    /// Every source an assumption cites.
    pub sources: Vec<SourceRef>,
    /// Deals the plan leaves out of the model, and why.
    pub excluded: Vec<Excluded>,
    /// Things the user should know.
    pub warnings: Vec<String>,
    /// What the capacity could train and serve, at the H100e percentiles (set by the caller
    /// with [`crate::capability`]; `null` when not computed or H100e is unknown).
    pub capability: Option<crate::capability::Capability>,
    /// How to read the numbers, and what is not modelled yet.
    pub notes: Vec<String>,
    /// What the catalog knew: cut-off date and deal timelines (set by the caller).
    pub knowledge: Option<engine::Knowledge>,
}

/// The portfolio's identity.
#[derive(Debug, Clone, Serialize)]
pub struct PortfolioInfo {
    /// Title.
    pub name: String,
    /// Description.
    pub description: String,
    /// The portfolio file, as the user named it.
    pub origin: String,
    /// Hash of the portfolio text.
    pub input_hash: String,
    /// The buildout plan's file.
    pub scenario_origin: String,
    /// The buildout plan's title.
    pub scenario_name: String,
    /// Hash of the plan's text.
    pub scenario_hash: String,
    /// First month of the timeline.
    pub first_month: String,
    /// Last month of the timeline.
    pub end_month: String,
}

/// Percentiles of one quantity across samples.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Quantiles {
    /// 5th percentile.
    pub p5: f64,
    /// 10th percentile.
    pub p10: f64,
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 95th percentile.
    pub p95: f64,
}

/// One month across the samples. Stocks are as of the end of the month; money is to date.
#[derive(Debug, Clone, Serialize)]
pub struct RiskMonth {
    /// The month.
    pub month: Month,
    /// Facility power online in the plan as written, GW.
    pub planned_facility_gw: f64,
    /// H100-equivalents in the plan as written (`null` if a chip's bf16 rate is unknown).
    pub planned_h100e: Option<f64>,
    /// Facility power online, GW.
    pub facility_gw: Quantiles,
    /// Accelerator packages online.
    pub accelerators: Quantiles,
    /// H100-equivalents by dense bf16 FLOP/s (`null` if a chip's bf16 rate is unknown).
    pub h100e: Option<Quantiles>,
    /// Capex spent to date, USD.
    pub capex_usd: Quantiles,
    /// Financing received to date, USD.
    pub financing_usd: Quantiles,
}

/// P(at least `at_least_gw` of facility power online at the end of `by`).
#[derive(Debug, Clone, Serialize)]
pub struct Probability {
    /// The threshold, GW.
    pub at_least_gw: f64,
    /// The month.
    pub by: Month,
    /// Share of samples meeting it.
    pub probability: f64,
    /// Count of samples meeting it.
    pub samples_meeting: u64,
    /// Facility power the plan as written has online then, GW.
    pub planned_facility_gw: f64,
}

/// Sensitivity: the median of facility power in `month` with one deal fixed at its worst and at
/// its best outcome, everything else as sampled.
#[derive(Debug, Clone, Serialize)]
pub struct Tornado {
    /// The quantity (`facility_gw`).
    pub metric: String,
    /// The month it is read in (the last of the timeline).
    pub month: Month,
    /// Median with every deal uncertain, GW.
    pub base_p50: f64,
    /// Samples used (the first ones, at most a million).
    pub samples_used: u64,
    /// One bar per deal, widest swing first.
    pub bars: Vec<TornadoBar>,
}

/// One deal's bar.
#[derive(Debug, Clone, Serialize)]
pub struct TornadoBar {
    /// Deal id.
    pub deal: String,
    /// Median with the deal at its worst outcome, GW.
    pub worst_p50: f64,
    /// Median with the deal at its best outcome, GW.
    pub best_p50: f64,
    /// best - worst, GW.
    pub swing: f64,
    /// The worst outcome, in words.
    pub worst: String,
    /// The best outcome, in words.
    pub best: String,
}

/// A deal's uncertainty: as assumed, and how often each outcome came up.
#[derive(Debug, Clone, Serialize)]
pub struct DealResult {
    /// Deal id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Reported status.
    pub status: String,
    /// When the status was reported.
    pub status_as_of: Option<String>,
    /// Source of the status.
    pub status_source: Option<String>,
    /// `portfolio` when the file sets the outcome probabilities, `status` for the defaults.
    pub outcomes_from: String,
    /// The outcome odds used (in the JSON, these fields sit beside the deal's other fields:
    /// `proceed`, `cut`, `cut_kept`, `collapse`, `delay`, `delay_months`, `ramp_factor`).
    #[serde(flatten)]
    pub odds: crate::defaults::DealOdds,
    /// Shared drivers.
    pub drivers: Vec<String>,
    /// Facility power of the deal's tranches in the plan as written, GW (nominal).
    pub planned_gw: f64,
    /// Sampled frequencies of each outcome.
    pub sampled: Frequencies,
}

/// Sampled frequencies.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Frequencies {
    /// Share of samples where the deal proceeded at full size.
    pub proceed: f64,
    /// Share where it was cut.
    pub cut: f64,
    /// Share where it collapsed.
    pub collapse: f64,
    /// Share of all samples where it was delayed. Only a deal that does not collapse can be,
    /// so this converges to `delay * (1 - collapse)`, the "assumed" figure beside it.
    pub delayed: f64,
}

/// A shared driver.
#[derive(Debug, Clone, Serialize)]
pub struct DriverResult {
    /// Id.
    pub id: String,
    /// Share of a dependent deal's latent variance.
    pub weight: f64,
    /// What it stands for.
    pub note: Option<String>,
    /// Deals that depend on it.
    pub deals: Vec<String>,
}
