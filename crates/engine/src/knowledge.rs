//! What the catalog knew: each deal's timeline and the knowledge cut-off, for every surface
//! (`gigawatt deals`, plan and risk reports). Built from the catalog; no I/O.

use catalog::history::StatusFold;
use catalog::Catalog;
use serde::Serialize;

/// One event of a deal's history, with the status it leads to.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TimelineEvent {
    /// `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.
    pub date: String,
    /// What happened (`announced`, `signed`, ...).
    pub kind: String,
    /// The deal's status after the event (the documented mapping).
    pub status_after: String,
    /// GW named by the event.
    pub gw: Option<f64>,
    /// What `gw` measures: `facility`, `it` or `contracted`.
    pub basis: Option<String>,
    /// The deal's purchase commitment as of the event, USD.
    pub contract_usd: Option<f64>,
    /// Investment as of the event, USD.
    pub investment_usd: Option<f64>,
    /// The party concerned, where named.
    pub counterparty: Option<String>,
    /// Source id.
    pub source: String,
    /// What happened, in words.
    pub note: Option<String>,
}

/// A deal's history.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DealTimeline {
    /// Deal id.
    pub deal: String,
    /// Name.
    pub name: String,
    /// Status after the last event shown.
    pub status: String,
    /// Events, oldest first.
    pub events: Vec<TimelineEvent>,
}

/// The catalog's knowledge behind a run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Knowledge {
    /// The newest date the catalog knows of, or the `--known-on` day.
    pub cutoff: String,
    /// Set when the run used only what was public on this day (`--known-on`).
    pub known_on: Option<String>,
    /// Timelines of the deals concerned.
    pub timelines: Vec<DealTimeline>,
}

/// The timeline of one deal as the catalog holds it (already cut back by
/// [`Catalog::known_on`] where that was asked for).
pub fn timeline(catalog: &Catalog, deal_id: &str) -> Option<DealTimeline> {
    let deal = catalog.deals.get(deal_id)?;
    let mut fold = StatusFold::default();
    let mut events = Vec::new();
    for e in catalog.events_of(deal_id) {
        let kind = *e.kind.get_ref();
        if fold.apply(kind).is_err() {
            continue; // refused by validation; never in a loaded catalog
        }
        events.push(TimelineEvent {
            date: e.date.get_ref().clone(),
            kind: kind.as_str().to_string(),
            status_after: fold.status.map_or("", |s| s.as_str()).to_string(),
            gw: e.gw.as_ref().map(|g| *g.get_ref()),
            basis: e.basis.map(|b| b.as_str().to_string()),
            contract_usd: e.contract_usd,
            investment_usd: e.investment_usd,
            counterparty: e.counterparty.clone(),
            source: e.source.get_ref().clone(),
            note: e.note.clone(),
        });
    }
    Some(DealTimeline {
        deal: deal_id.to_string(),
        name: deal.name.clone(),
        status: deal.status.as_str().to_string(),
        events,
    })
}

/// The knowledge behind a run over `deals`.
pub fn knowledge<'a>(catalog: &Catalog, deals: impl IntoIterator<Item = &'a str>) -> Knowledge {
    Knowledge {
        cutoff: catalog.knowledge_cutoff(),
        known_on: catalog.known_on.clone(),
        timelines: deals
            .into_iter()
            .filter_map(|id| timeline(catalog, id))
            .collect(),
    }
}

/// Warnings for a run cut back with `--known-on`: cited sources published after the day.
pub fn late_source_warnings<'a>(
    catalog: &Catalog,
    cited: impl IntoIterator<Item = &'a str>,
) -> Vec<String> {
    let late = catalog.sources_after_cutoff();
    let Some(day) = &catalog.known_on else {
        return Vec::new();
    };
    cited
        .into_iter()
        .filter(|id| late.contains(id))
        .map(|id| {
            let date = catalog.sources.get(id).map_or("", |s| s.date.get_ref().as_str());
            format!("source `{id}` ({date}) was published after --known-on {day}; the figures citing it (hardware, prices, the scenario's own) were kept")
        })
        .collect()
}
