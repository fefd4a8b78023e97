//! The portfolio file format: the uncertainty on each deal of a buildout plan.
//!
//! ```toml
//! schema_version = 1
//! name = "OpenAI's portfolio, with its risks"
//! scenario = "openai-portfolio"          # a shipped scenario, or a path relative to this file
//! samples = 10000                         # optional; --samples wins
//! seed = 1                                # optional; --seed wins
//! as_of = "2026-06"                       # optional: capacity online by then is delivered (certain)
//!
//! [[driver]]
//! id = "power"
//! weight = 0.25                           # latent correlation of two deals sharing it
//!                                         # (outcomes with outcomes, delays with delays)
//!
//! [[deal]]
//! id = "openai-nvidia-loi"
//! proceed = { value = 0.10, source = "deal-liveindex-nvidia-30b-replaces", note = "why" }
//! cut = { value = 0.20, kept = [0.3, 0.7] }       # P(cut); the share of the deal's GW kept
//! collapse = 0.70                                 # proceed + cut + collapse = 1
//! delay = { value = 0.8, months = [3, 9, 24] }    # P(delayed | not collapsed); min, mode, max
//! ramp_factor = [1.0, 1.25, 2.0]                  # ramp months x triangular(min, mode, max)
//! drivers = ["power"]
//! ```

use catalog::Source;
use engine::ScenarioNumber;
use serde::Deserialize;
use toml::Spanned;

/// A portfolio file as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PortfolioFile {
    /// Format version; 1 today.
    pub schema_version: Option<Spanned<u32>>,
    /// Short title (default: the plan's).
    pub name: Option<String>,
    /// What the portfolio represents.
    pub description: Option<String>,
    /// The buildout plan: a shipped scenario name, or a path relative to this file.
    pub scenario: Spanned<String>,
    /// Default number of samples.
    pub samples: Option<Spanned<i64>>,
    /// Default seed.
    pub seed: Option<Spanned<i64>>,
    /// Capacity the plan has online by this month (`YYYY-MM`) is taken as delivered: certain,
    /// never delayed, cut or collapsed. Only what comes after is uncertain.
    pub as_of: Option<Spanned<String>>,
    /// Shared drivers that correlate deals.
    #[serde(default)]
    pub driver: Vec<DriverSpec>,
    /// Uncertainty per deal (deals of the plan not listed get their status defaults).
    #[serde(default)]
    pub deal: Vec<DealSpec>,
    /// Sources for the file's own numbers.
    #[serde(default)]
    pub source: Vec<Source>,
}

/// A shared driver (power and grid, packaging and HBM, the buyer's financing).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DriverSpec {
    /// Unique id, referenced by deals.
    pub id: Spanned<String>,
    /// Share of a deal's latent variance that comes from this driver, in [0, 1].
    pub weight: Spanned<ScenarioNumber>,
    /// What it stands for.
    pub note: Option<String>,
}

/// One deal's uncertainty.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DealSpec {
    /// Catalog deal id; the plan must have tranches or financing of it.
    pub id: Spanned<String>,
    /// P(the deal proceeds at its full size).
    pub proceed: Option<Spanned<ScenarioNumber>>,
    /// P(the deal is cut), and the share kept.
    pub cut: Option<Spanned<CutSpec>>,
    /// P(the deal collapses: nothing of it is built).
    pub collapse: Option<Spanned<ScenarioNumber>>,
    /// P(delayed | not collapsed), and the delay in months.
    pub delay: Option<Spanned<DelaySpec>>,
    /// Multiplier on each tranche's ramp months: triangular [min, mode, max].
    pub ramp_factor: Option<Spanned<Vec<Spanned<f64>>>>,
    /// Shared drivers this deal depends on.
    pub drivers: Option<Vec<Spanned<String>>>,
    /// Why these numbers (applies to the whole entry).
    pub note: Option<String>,
}

/// `cut = { value = P, kept = [lo, hi], source, note }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CutSpec {
    /// Probability of a cut.
    pub value: Spanned<f64>,
    /// Share of the deal's GW kept when cut: uniform in [lo, hi].
    pub kept: Spanned<Vec<Spanned<f64>>>,
    /// Source id.
    pub source: Option<Spanned<String>>,
    /// Why.
    pub note: Option<String>,
}

/// `delay = { value = P, months = [min, mode, max], source, note }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DelaySpec {
    /// Probability of a delay, given the deal does not collapse.
    pub value: Spanned<f64>,
    /// Delay in months: triangular [min, mode, max].
    pub months: Spanned<Vec<Spanned<f64>>>,
    /// Source id.
    pub source: Option<Spanned<String>>,
    /// Why.
    pub note: Option<String>,
}
