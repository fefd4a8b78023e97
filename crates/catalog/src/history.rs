//! Deals as dated histories: `[[event]]` entries, the basis of a GW figure, and the documented
//! mapping from a deal's events to the status risk uses on any date.
//!
//! The mapping (also in `catalog/README.md`, "Deal histories"):
//!
//! | event | from | to |
//! |---|---|---|
//! | `announced` | (first event only) | announced |
//! | `signed` | nothing, announced, binding, stalled | binding (in-force stays in-force) |
//! | `delivered` | nothing, announced, binding, in-force | in-force (stalled stays stalled) |
//! | `revised` | any live status | unchanged (terms change: GW, $) |
//! | `stalled` | any live status | stalled |
//! | `revived` | stalled, replaced, cancelled | the status before the stall / end |
//! | `replaced` | any live status | replaced |
//! | `cancelled` | any live status | cancelled |
//!
//! "Live" is announced, binding, in-force or stalled. Anything but `revived` after `replaced`
//! or `cancelled` is impossible and refused by validation (a delivery after a cancellation
//! needs a `revived` event first).

use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::DealStatus;

/// What a GW figure measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum GwBasis {
    /// Facility (grid) power: IT power times PUE.
    Facility,
    /// IT power: what the racks draw.
    It,
    /// Capacity named in a contract, basis unstated by the parties (often "GW of systems").
    Contracted,
}

impl GwBasis {
    /// The kebab-case name used in files.
    pub fn as_str(self) -> &'static str {
        match self {
            GwBasis::Facility => "facility",
            GwBasis::It => "it",
            GwBasis::Contracted => "contracted",
        }
    }
}

/// What happened to a deal on a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EventKind {
    /// Made public, terms not binding (or not known to be).
    Announced,
    /// A definitive, binding agreement.
    Signed,
    /// Terms changed (size, price, schedule) without a change of status.
    Revised,
    /// Reported on hold, scaled back or not progressing.
    Stalled,
    /// Back on after a stall, replacement or cancellation.
    Revived,
    /// Superseded by another arrangement (name it in `replaced_by`).
    Replaced,
    /// Called off.
    Cancelled,
    /// Capacity delivered (energized, in use).
    Delivered,
}

impl EventKind {
    /// The kebab-case name used in files.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Announced => "announced",
            EventKind::Signed => "signed",
            EventKind::Revised => "revised",
            EventKind::Stalled => "stalled",
            EventKind::Revived => "revived",
            EventKind::Replaced => "replaced",
            EventKind::Cancelled => "cancelled",
            EventKind::Delivered => "delivered",
        }
    }
}

/// One dated event in a deal's history, as written in a catalog file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Event {
    /// The deal id.
    pub deal: Spanned<String>,
    /// When it happened (or was first reported): `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.
    pub date: Spanned<String>,
    /// What happened.
    pub kind: Spanned<EventKind>,
    /// The source that reports it.
    pub source: Spanned<String>,
    /// GW named by the event (for `delivered`: the capacity delivered by then, cumulative).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gw: Option<Spanned<f64>>,
    /// What `gw` measures; required with `gw`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub basis: Option<GwBasis>,
    /// Purchase commitment named by the event, USD.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contract_usd: Option<f64>,
    /// Investment named by the event, USD.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub investment_usd: Option<f64>,
    /// The other party this event concerns, where it is not simply the deal's seller.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counterparty: Option<String>,
    /// For `replaced`: the deal that replaces this one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaced_by: Option<Spanned<String>>,
    /// What happened, in words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Why an event cannot follow the deal's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImpossibleEvent {
    /// The status before the event (`None`: no event yet).
    pub from: Option<DealStatus>,
    /// The event.
    pub kind: EventKind,
    /// How to fix it.
    pub hint: &'static str,
}

/// The running state of a deal while its events are folded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatusFold {
    /// Current status (`None` before the first event).
    pub status: Option<DealStatus>,
    /// The live status before a stall, replacement or cancellation (what `revived` restores).
    before_end: Option<DealStatus>,
}

fn is_live(status: DealStatus) -> bool {
    !matches!(status, DealStatus::Replaced | DealStatus::Cancelled)
}

impl StatusFold {
    /// Applies one event: the documented mapping in this module's header.
    pub fn apply(&mut self, kind: EventKind) -> Result<(), ImpossibleEvent> {
        use DealStatus as S;
        use EventKind as E;
        let from = self.status;
        let refuse = |hint| Err(ImpossibleEvent { from, kind, hint });
        let next = match (kind, from) {
            (E::Announced, None) => S::Announced,
            (E::Announced, Some(_)) => {
                return refuse("`announced` can only be a deal's first event; use `revised` for later news")
            }
            (E::Signed, None | Some(S::Announced | S::Binding | S::Stalled)) => S::Binding,
            (E::Signed, Some(S::InForce)) => S::InForce,
            (E::Delivered, None | Some(S::Announced | S::Binding | S::InForce)) => S::InForce,
            (E::Delivered, Some(S::Stalled)) => S::Stalled,
            (E::Revised, Some(s)) if is_live(s) => s,
            (E::Stalled, Some(s)) if is_live(s) => {
                if s != S::Stalled {
                    self.before_end = Some(s);
                }
                S::Stalled
            }
            (E::Replaced | E::Cancelled, Some(s)) if is_live(s) => {
                if s != S::Stalled {
                    self.before_end = Some(s);
                }
                if kind == E::Replaced {
                    S::Replaced
                } else {
                    S::Cancelled
                }
            }
            (E::Revived, Some(S::Stalled | S::Replaced | S::Cancelled)) => {
                self.before_end.unwrap_or(S::Announced)
            }
            (E::Revived, _) => {
                return refuse("`revived` follows only `stalled`, `replaced` or `cancelled`")
            }
            (_, None) => {
                return refuse("a deal's history starts with `announced`, `signed` or `delivered`")
            }
            (_, Some(_)) => {
                return refuse("the deal was replaced or cancelled: add a `revived` event (with its source) before anything else happens to it")
            }
        };
        self.status = Some(next);
        Ok(())
    }
}

/// The last day a date can mean: `2026` -> `2026-12-31`, `2026-03` -> `2026-03-31`. Used to
/// decide what was public on a day: a month-precision event counts as known only once the
/// whole month has passed, so `--known-on` never leaks news from later in that month.
pub fn date_end(date: &str) -> String {
    match date.len() {
        4 => format!("{date}-12-31"),
        7 => format!("{date}-31"),
        _ => date.to_string(),
    }
}

/// The first day a date can mean: `2026-03` -> `2026-03-01`. Orders events by their start.
pub fn date_start(date: &str) -> String {
    match date.len() {
        4 => format!("{date}-01-01"),
        7 => format!("{date}-01"),
        _ => date.to_string(),
    }
}

/// Whether `text` is a catalog date: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.
pub fn is_date(text: &str) -> bool {
    crate::checker::is_date(text)
}

/// Whether something dated `date` was public on `day` (`YYYY-MM-DD`).
pub fn known_on(date: &str, day: &str) -> bool {
    date_end(date).as_str() <= date_end(day).as_str()
}

/// A deal's status on a day, derived from its events (in date order).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DerivedStatus {
    /// The status after the last event on or before the day.
    pub status: DealStatus,
    /// Date of that event.
    pub as_of: String,
    /// Its source.
    pub source: String,
    /// Its note.
    pub note: Option<String>,
}

/// Folds `events` (one deal's, in order) up to `day` (`None`: all of them). `None` when no
/// event is public by then. Events are assumed valid (the loader refuses impossible ones).
pub fn status_on(events: &[&Event], day: Option<&str>) -> Option<DerivedStatus> {
    let mut fold = StatusFold::default();
    let mut last: Option<&Event> = None;
    for event in events {
        if day.is_some_and(|d| !known_on(event.date.get_ref(), d)) {
            continue;
        }
        if fold.apply(*event.kind.get_ref()).is_ok() {
            last = Some(event);
        }
    }
    let last = last?;
    Some(DerivedStatus {
        status: fold.status?,
        as_of: last.date.get_ref().clone(),
        source: last.source.get_ref().clone(),
        note: last.note.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use DealStatus as S;
    use EventKind as E;

    fn fold(kinds: &[EventKind]) -> Result<Option<DealStatus>, ImpossibleEvent> {
        let mut f = StatusFold::default();
        for k in kinds {
            f.apply(*k)?;
        }
        Ok(f.status)
    }

    #[test]
    fn the_mapping_follows_the_table() {
        assert_eq!(fold(&[E::Announced]).unwrap(), Some(S::Announced));
        assert_eq!(fold(&[E::Announced, E::Signed]).unwrap(), Some(S::Binding));
        assert_eq!(
            fold(&[E::Announced, E::Signed, E::Delivered]).unwrap(),
            Some(S::InForce)
        );
        assert_eq!(
            fold(&[E::Signed, E::Delivered, E::Signed]).unwrap(),
            Some(S::InForce),
            "a new signing does not undo deliveries"
        );
        assert_eq!(
            fold(&[E::Announced, E::Stalled, E::Replaced]).unwrap(),
            Some(S::Replaced)
        );
        assert_eq!(
            fold(&[E::Signed, E::Delivered, E::Stalled, E::Delivered]).unwrap(),
            Some(S::Stalled),
            "deliveries of earlier parts do not lift a stall"
        );
        assert_eq!(
            fold(&[E::Signed, E::Stalled, E::Revived]).unwrap(),
            Some(S::Binding),
            "revival restores the status before the stall"
        );
        assert_eq!(
            fold(&[E::Signed, E::Cancelled, E::Revived, E::Delivered]).unwrap(),
            Some(S::InForce)
        );
    }

    #[test]
    fn impossible_events_are_refused() {
        let err = fold(&[E::Announced, E::Cancelled, E::Delivered]).unwrap_err();
        assert_eq!(err.from, Some(S::Cancelled));
        assert!(err.hint.contains("revived"), "{}", err.hint);
        assert!(fold(&[E::Announced, E::Announced]).is_err());
        assert!(fold(&[E::Revised]).is_err());
        assert!(fold(&[E::Announced, E::Revived]).is_err());
        assert!(fold(&[E::Signed, E::Replaced, E::Signed]).is_err());
    }

    #[test]
    fn month_dates_are_known_only_after_the_month() {
        assert!(known_on("2026-03", "2026-03-31"));
        assert!(!known_on("2026-03", "2026-03-15"));
        assert!(known_on("2026-03-06", "2026-03-06"));
        assert!(!known_on("2026-03-07", "2026-03-06"));
        assert!(known_on("2025", "2025-12-31"));
        assert_eq!(date_start("2026-03"), "2026-03-01");
    }
}
