//! "What did we know on date D?": the catalog cut back to what was public on a day, and the
//! catalog's knowledge cut-off.

use crate::history::{known_on, status_on, DerivedStatus, Event};
use crate::{Catalog, Deal, Sourced};

impl Catalog {
    /// One deal's events, in order.
    pub fn events_of(&self, deal: &str) -> Vec<&Event> {
        self.events
            .iter()
            .filter(|e| e.deal.get_ref() == deal)
            .collect()
    }

    /// A deal's status on `day` (`None`: today), from its events where it has any, else from
    /// its `status` fields. `None` when nothing of the deal was public on `day`.
    pub fn status_of(&self, deal: &Deal, day: Option<&str>) -> Option<DerivedStatus> {
        let events = self.events_of(deal.id.get_ref());
        if !events.is_empty() {
            return status_on(&events, day);
        }
        let announced = deal.announced.value()?;
        if day.is_some_and(|d| !known_on(announced, d)) {
            return None;
        }
        Some(DerivedStatus {
            status: deal.status,
            as_of: deal.status_as_of.value().cloned().unwrap_or_default(),
            source: deal.status_as_of.source().unwrap_or_default().to_string(),
            note: deal.status_note.clone(),
        })
    }

    /// The newest date the catalog knows of: `known_on` when cut back, else the newest event
    /// or source publication date (a source's `date`).
    pub fn knowledge_cutoff(&self) -> String {
        if let Some(day) = &self.known_on {
            return day.clone();
        }
        self.events
            .iter()
            .map(|e| e.date.get_ref().as_str())
            .chain(self.sources.values().map(|s| s.date.get_ref().as_str()))
            .max()
            .unwrap_or_default()
            .to_string()
    }

    /// The catalog as it stood on `day` (`YYYY-MM-DD`): events after the day are dropped;
    /// each deal's status, GW and dollar figures are those of its last public event; deals
    /// with nothing public yet move to `withheld`. Sites, hardware and
    /// facility figures are kept (sites' phases carry no announcement date); sources dated after
    /// the day are reported by [`Catalog::sources_after_cutoff`].
    pub fn known_on(&self, day: &str) -> Catalog {
        let mut cut = self.clone();
        cut.known_on = Some(day.to_string());
        cut.events.retain(|e| known_on(e.date.get_ref(), day));
        let ids: Vec<String> = cut.deals.keys().cloned().collect();
        for id in ids {
            let deal = &self.deals[&id];
            match self.status_of(deal, Some(day)) {
                None => {
                    let first = self
                        .events_of(&id)
                        .first()
                        .map(|e| e.date.get_ref().clone())
                        .or_else(|| deal.announced.value().cloned())
                        .unwrap_or_default();
                    cut.deals.remove(&id);
                    cut.withheld.insert(id, first);
                }
                Some(derived) => {
                    let events = cut.events_of(&id);
                    let last_gw = events.iter().rev().find_map(|e| {
                        let gw = e.gw.as_ref()?;
                        Some((*gw.get_ref(), e.source.get_ref().clone(), e.basis))
                    });
                    let last_usd = events
                        .iter()
                        .rev()
                        .find_map(|e| Some((e.contract_usd?, e.source.get_ref().clone())));
                    let last_investment = events
                        .iter()
                        .rev()
                        .find_map(|e| Some((e.investment_usd?, e.source.get_ref().clone())));
                    let has_events = !events.is_empty();
                    let deal = cut.deals.get_mut(&id).expect("listed above");
                    deal.status = derived.status;
                    deal.status_as_of = Sourced::known(derived.as_of, derived.source);
                    deal.status_note = derived.note;
                    if has_events {
                        if let Some((gw, source, basis)) = last_gw {
                            deal.power_gw = Some(Sourced::known(gw, source));
                            if let (Some(basis), Some(spanned)) = (basis, &mut deal.power_basis) {
                                *spanned.get_mut() = basis;
                            }
                        }
                        if let Some((usd, source)) = last_usd {
                            deal.contract_value_usd = Some(Sourced::known(usd, source));
                        }
                        if let Some((usd, source)) = last_investment {
                            deal.investment_usd = Some(Sourced::known(usd, source));
                        }
                    }
                }
            }
        }
        cut
    }

    /// Source ids dated after the cut-off (only when cut back with [`Catalog::known_on`]).
    pub fn sources_after_cutoff(&self) -> Vec<&str> {
        let Some(day) = &self.known_on else {
            return Vec::new();
        };
        self.sources
            .iter()
            .filter(|(_, s)| !known_on(s.date.get_ref(), day))
            .map(|(id, _)| id.as_str())
            .collect()
    }
}
