//! Sites: physical campuses where deals' capacity lands, with power by phase and date.
//!
//! A site is not a deal: one campus (Abilene) serves several deals (Oracle's 4.5 GW, Stargate)
//! and one deal spans several sites. Every GW figure states its basis ([`GwBasis`]).

use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::history::GwBasis;
use crate::Sourced;

/// Where a phase of a site stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PhaseState {
    /// Announced or permitted; not under construction.
    Planned,
    /// Being built.
    UnderConstruction,
    /// Energized and running.
    Operating,
    /// Dropped.
    Cancelled,
}

impl PhaseState {
    /// The kebab-case name used in files.
    pub fn as_str(self) -> &'static str {
        match self {
            PhaseState::Planned => "planned",
            PhaseState::UnderConstruction => "under-construction",
            PhaseState::Operating => "operating",
            PhaseState::Cancelled => "cancelled",
        }
    }
}

/// One phase of a site: power at a date, with its basis.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SitePhase {
    /// Name ("buildings 1-2", "expansion").
    pub name: String,
    /// When the phase is (or was) due online, or when its state was last reported.
    pub date: Sourced<String>,
    /// Where it stands.
    pub state: PhaseState,
    /// Power of this phase, GW.
    pub gw: Sourced<f64>,
    /// What `gw` measures; required when `gw` is a known value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub basis: Option<Spanned<GwBasis>>,
    /// Accelerators in this phase.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpus: Option<Sourced<f64>>,
    /// Catalog systems installed in this phase.
    #[serde(default)]
    pub systems: Vec<Spanned<String>>,
    /// What to know.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A campus.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Site {
    /// Unique kebab-case id.
    pub id: Spanned<String>,
    /// Name in words.
    pub name: String,
    /// Who operates it (and who develops or owns it, where different).
    pub operator: String,
    /// Town, county, state, country.
    pub location: String,
    /// Deals whose capacity lands here.
    #[serde(default)]
    pub deals: Vec<Spanned<String>>,
    /// Power by phase, in date order.
    #[serde(default)]
    pub phase: Vec<SitePhase>,
    /// The day the search for newer news of this site was last run (`YYYY-MM-DD`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub searched: Option<Spanned<String>>,
    /// The newest public development found on `searched`, with its date and source id, or
    /// that nothing newer than the last phase's report is public.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latest: Option<String>,
    /// What to know.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Site {
    /// GW of live (not cancelled) phases on `basis`.
    pub fn planned_gw(&self, basis: GwBasis) -> f64 {
        self.phase
            .iter()
            .filter(|p| p.state != PhaseState::Cancelled)
            .filter(|p| p.basis.as_ref().map(|b| *b.get_ref()) == Some(basis))
            .filter_map(|p| p.gw.number())
            .sum()
    }
}
