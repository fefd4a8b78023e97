//! The record: past AI compute deal and campus announcements and what became of them, chosen by
//! a rule fixed before outcomes were looked at (`catalog/README.md`, "The record"). Risk turns
//! it into default odds; this module only holds the entries.

use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::history::GwBasis;
use crate::{DealStatus, Sourced};

/// The kind of party that supplies the capacity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CounterpartyType {
    /// A large cloud (AWS, Azure, Google Cloud, Oracle OCI).
    Hyperscaler,
    /// A GPU cloud (CoreWeave, Nebius, Lambda, Crusoe, Cerebras as a cloud).
    Neocloud,
    /// A chip or system vendor selling or investing directly (NVIDIA, AMD, Broadcom).
    ChipVendor,
    /// A joint venture or financing vehicle (Stargate, an SPV, a Blue Owl JV).
    JointVenture,
    /// The buyer builds its own campus (Meta, xAI).
    SelfBuild,
}

impl CounterpartyType {
    /// The kebab-case name used in files.
    pub fn as_str(self) -> &'static str {
        match self {
            CounterpartyType::Hyperscaler => "hyperscaler",
            CounterpartyType::Neocloud => "neocloud",
            CounterpartyType::ChipVendor => "chip-vendor",
            CounterpartyType::JointVenture => "joint-venture",
            CounterpartyType::SelfBuild => "self-build",
        }
    }

    /// Every type, in file order.
    pub const ALL: [CounterpartyType; 5] = [
        CounterpartyType::Hyperscaler,
        CounterpartyType::Neocloud,
        CounterpartyType::ChipVendor,
        CounterpartyType::JointVenture,
        CounterpartyType::SelfBuild,
    ];
}

/// What became of an announcement by the horizon.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// The capacity due by the horizon was delivered at the announced size (risk's "proceed").
    Full,
    /// Formally reduced, or a part dropped (risk's "cut").
    Cut,
    /// Cancelled, replaced with nothing of it built, or abandoned (risk's "collapse").
    Collapsed,
    /// Nothing was due yet and nothing failed: censored, not counted as a failure.
    Pending,
}

impl Outcome {
    /// The kebab-case name used in files.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Full => "full",
            Outcome::Cut => "cut",
            Outcome::Collapsed => "collapsed",
            Outcome::Pending => "pending",
        }
    }
}

/// One past announcement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordEntry {
    /// Unique kebab-case id (may equal a catalog deal id).
    pub id: Spanned<String>,
    /// Name in words.
    pub name: String,
    /// When it was announced.
    pub announced: Sourced<String>,
    /// Its status when announced (`announced` or `binding`).
    pub status_at_announcement: DealStatus,
    /// Who supplies the capacity.
    pub counterparty_type: CounterpartyType,
    /// Size at announcement, GW (with `basis`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gw: Option<Sourced<f64>>,
    /// What `gw` measures; required with a known `gw`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub basis: Option<Spanned<GwBasis>>,
    /// Size at announcement, USD.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usd: Option<Sourced<f64>>,
    /// The date the outcome is judged on.
    pub horizon: Spanned<String>,
    /// What became of it by then.
    pub outcome: Outcome,
    /// Delivered late (first capacity more than 3 months after the announced date), where known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delayed: Option<bool>,
    /// The source for the outcome.
    pub outcome_source: Spanned<String>,
    /// What happened.
    pub outcome_note: String,
}
