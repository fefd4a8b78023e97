//! Units shared by every layer: calendar months, unit constants, and the human formatting of
//! power, energy, money and FLOP/s.
//!
//! Quantities travel as `f64` in SI base units with the unit in the field name (`power_w`,
//! `capex_usd`, `bf16_dense_flops`); this crate owns the conversions and the way they are shown,
//! so that every surface prints "1.20 GW" the same way.

mod format;
mod month;

pub use format::{
    fmt_count, fmt_energy_twh, fmt_flops, fmt_grouped, fmt_number, fmt_power_w, fmt_short_scale,
    fmt_si, fmt_usd,
};
pub use month::{Month, MonthError};

/// Watts in a gigawatt.
pub const W_PER_GW: f64 = 1e9;
/// Watts in a megawatt.
pub const W_PER_MW: f64 = 1e6;
/// Watts in a kilowatt.
pub const W_PER_KW: f64 = 1e3;
/// FLOP/s in a TFLOP/s.
pub const FLOPS_PER_TFLOPS: f64 = 1e12;
/// Hours in a mean Julian year (365.25 days): annualised energy uses this.
pub const HOURS_PER_YEAR: f64 = 8766.0;
/// Mean hours in a month (a twelfth of [`HOURS_PER_YEAR`]): monthly energy uses this, so that
/// twelve months add up to exactly one year.
pub const HOURS_PER_MONTH: f64 = HOURS_PER_YEAR / 12.0;
/// Watt-hours in a terawatt-hour.
pub const WH_PER_TWH: f64 = 1e12;
