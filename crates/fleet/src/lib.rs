//! The buildout model: power -> systems -> accelerators -> FLOP/s, capex, opex, energy and
//! financing, month by month.
//!
//! Input is plain, resolved numbers ([`FleetInput`]): no ids to look up, no files, no clock.
//! Output is a [`Timeline`], one [`MonthRow`] per calendar month from the first month anything
//! is spent to the horizon. The model is deterministic and does no I/O.
//!
//! Timing conventions (each one a simplification stated in the README):
//! - Systems come online linearly over a tranche's ramp: in its k-th month (1-based) of a ramp of
//!   R months, `floor(total * k / R)` systems are online. A ramp of 0 puts all online at start.
//! - Systems and their networking are paid for in the month they come online.
//! - Facility capex for each newly online MW is spread evenly over the `build_months` months
//!   ending with the month it comes online (construction precedes power-on).
//! - Energy is drawn by online systems at `utilization` of nameplate IT power, times PUE.
//! - Other opex accrues monthly as a fraction per year of the capex in service.
//! - A per-GW financing rule pays once each time the deployed facility power of its tranches
//!   crosses a whole multiple of a GW, up to its cap.

mod model;

pub use model::{
    plan, FinancingInput, FinancingRule, FleetInput, MonthRow, PeakFlops, Timeline, TrancheInput,
    TrancheMonth, TrancheTotals,
};
