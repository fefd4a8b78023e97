//! How strong a source is: its kind grouped into primary, analyst, aggregator and unclassified,
//! for `gigawatt catalog sources` and for the targets on sourcing the default plan.

use crate::{Source, SourceKind};

/// A source's standing, strongest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Standing {
    /// The party itself, a regulator, an official statistic, or the outlet that did the
    /// reporting (read there or through a named page).
    Primary,
    /// An analyst's estimate or model.
    Analyst,
    /// Arithmetic on other sources.
    Derived,
    /// Old-format `press`: whether it is original reporting or a re-publication is not recorded.
    Unclassified,
    /// A page summarising or re-publishing others: the weakest.
    Aggregator,
}

impl Standing {
    /// The kebab-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Standing::Primary => "primary",
            Standing::Analyst => "analyst",
            Standing::Derived => "derived",
            Standing::Unclassified => "unclassified",
            Standing::Aggregator => "aggregator",
        }
    }
}

/// The standing of a source kind.
pub fn standing(kind: SourceKind) -> Standing {
    match kind {
        SourceKind::Filing
        | SourceKind::CompanyStatement
        | SourceKind::VendorSpec
        | SourceKind::Government
        | SourceKind::OfficialStatistics
        | SourceKind::PrimaryPress
        | SourceKind::UserInput => Standing::Primary,
        SourceKind::Analyst | SourceKind::AnalystEstimate => Standing::Analyst,
        SourceKind::Derived => Standing::Derived,
        SourceKind::Press => Standing::Unclassified,
        SourceKind::Secondary | SourceKind::CommunityReference | SourceKind::Aggregator => {
            Standing::Aggregator
        }
    }
}

/// Whether a source records everything the new format asks for (publisher, date read,
/// excerpt). A derived source has no page to read or quote: a publisher (who did the
/// arithmetic) completes it, as validation asks.
pub fn is_complete(source: &Source) -> bool {
    let has_publisher = source
        .publisher
        .as_deref()
        .is_some_and(|p| !p.trim().is_empty());
    if source.kind == crate::SourceKind::Derived {
        return has_publisher;
    }
    has_publisher
        && source.read.is_some()
        && source
            .excerpt
            .as_deref()
            .is_some_and(|e| !e.trim().is_empty())
}
