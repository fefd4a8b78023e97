//! Default uncertainty for a deal, from its reported status in the catalog.
//!
//! These are gigawatt's assumptions, not data: a judgement of how often deals in each state
//! are completed as announced, cut, delayed or abandoned, informed by the deals in the catalog
//! (the OpenAI-NVIDIA letter of intent was replaced within five months; Stargate stalled; the
//! binding cloud contracts are being delivered, some late). Each default enters the ledger with
//! the deal's status source and a note saying it is derived from the status; override any of
//! them in a portfolio file.

use catalog::DealStatus;

/// A deal's outcome odds: how often it proceeds, is cut (and by how much), collapses or slips
/// (and by how long), and how its ramp stretches. The status implies defaults (here); a
/// portfolio file overrides any of them; the risk result reports what was used.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct DealOdds {
    /// P(full size).
    pub proceed: f64,
    /// P(cut).
    pub cut: f64,
    /// Share kept when cut, uniform [lo, hi].
    pub cut_kept: [f64; 2],
    /// P(nothing built).
    pub collapse: f64,
    /// P(delayed | not collapsed).
    pub delay: f64,
    /// Delay, months: triangular [min, mode, max].
    pub delay_months: [f64; 3],
    /// Ramp-months multiplier: triangular [min, mode, max].
    pub ramp_factor: [f64; 3],
}

/// The documented mapping from status to uncertainty (see the README's "Deal risk").
pub fn for_status(status: DealStatus) -> DealOdds {
    let d = |proceed, cut, cut_kept, collapse, delay, delay_months, ramp_factor| DealOdds {
        proceed,
        cut,
        cut_kept,
        collapse,
        delay,
        delay_months,
        ramp_factor,
    };
    match status {
        DealStatus::InForce => d(
            0.85,
            0.10,
            [0.5, 0.9],
            0.05,
            0.30,
            [1.0, 3.0, 12.0],
            [1.0, 1.0, 1.5],
        ),
        DealStatus::Binding => d(
            0.70,
            0.20,
            [0.4, 0.9],
            0.10,
            0.50,
            [1.0, 4.0, 18.0],
            [1.0, 1.1, 1.75],
        ),
        DealStatus::Announced => d(
            0.40,
            0.30,
            [0.2, 0.8],
            0.30,
            0.60,
            [2.0, 6.0, 24.0],
            [1.0, 1.25, 2.0],
        ),
        DealStatus::Stalled => d(
            0.15,
            0.35,
            [0.1, 0.6],
            0.50,
            0.80,
            [3.0, 12.0, 36.0],
            [1.0, 1.5, 2.5],
        ),
        DealStatus::Replaced => d(
            0.05,
            0.15,
            [0.1, 0.5],
            0.80,
            0.90,
            [3.0, 12.0, 36.0],
            [1.0, 1.5, 2.5],
        ),
        DealStatus::Cancelled => d(
            0.0,
            0.05,
            [0.05, 0.3],
            0.95,
            1.0,
            [6.0, 12.0, 36.0],
            [1.0, 1.5, 2.5],
        ),
    }
}

/// The defaults for a deal in `status`, and the ledger note saying where they come from.
///
/// For `announced` and `binding`, P(proceed), P(cut) and P(collapse) are the record's posterior
/// means (crate::record_odds: Dirichlet(1,1,1) prior, pending entries censored), with their 90%
/// intervals in the note; the cut share, delay and ramp stay judgements and are labelled so.
/// Other statuses are not in the record (announcements are judged from their announcement
/// status) and keep the judgement table above, labelled as such.
pub fn for_deal(
    catalog: &catalog::Catalog,
    status: DealStatus,
    counterparty: Option<catalog::CounterpartyType>,
) -> (DealOdds, String) {
    let mut defaults = for_status(status);
    let Some(odds) = crate::record_odds::for_deal(catalog, status, counterparty) else {
        return (
            defaults,
            format!(
                "judgement: gigawatt's default for status `{}` (README, \"Deal risk\"; the record has no entries judged in this status); the status is backed by this source",
                status.as_str()
            ),
        );
    };
    defaults.proceed = odds.proceed.mean;
    defaults.cut = odds.cut_p.mean;
    defaults.collapse = odds.collapse_p.mean;
    let interval =
        |e: crate::record_odds::Estimate| format!("{:.2} [{:.2}, {:.2}]", e.mean, e.lo90, e.hi90);
    let note = format!(
        "from the record (catalog/record.toml), {}: {} decided ({} full, {} cut, {} collapsed), {} pending (censored); Dirichlet(1,1,1) posterior mean [90% interval]: proceed {}, cut {}, collapse {}. Cut share, delay and ramp: judgement (README, \"Deal risk\")",
        odds.group,
        odds.decided,
        odds.full,
        odds.cut,
        odds.collapsed,
        odds.censored,
        interval(odds.proceed),
        interval(odds.cut_p),
        interval(odds.collapse_p),
    );
    (defaults, note)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_sums_to_one_and_is_ordered() {
        use DealStatus::*;
        let mut previous = f64::INFINITY;
        for status in [InForce, Binding, Announced, Stalled, Replaced, Cancelled] {
            let d = for_status(status);
            assert!(
                (d.proceed + d.cut + d.collapse - 1.0).abs() < 1e-12,
                "{status:?}"
            );
            assert!(d.proceed <= previous, "worse status, lower proceed");
            previous = d.proceed;
            let (from_record, _) = for_deal(&catalog::Catalog::embedded().unwrap(), status, None);
            assert!(
                (from_record.proceed + from_record.cut + from_record.collapse - 1.0).abs() < 1e-12,
                "{status:?}"
            );
            assert!(d.cut_kept[0] <= d.cut_kept[1]);
            assert!(
                d.delay_months[0] <= d.delay_months[1] && d.delay_months[1] <= d.delay_months[2]
            );
        }
    }
}
