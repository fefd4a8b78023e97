//! Ranges (issue 16): the plan rerun with its ranged catalog figures sampled.
//!
//! Every figure in the ledger with a `low`/`high` is drawn from a triangular distribution
//! (low, mode = the catalog value, high): no source gives a distribution's shape, and the
//! triangle keeps the central value the most likely one. A catalog figure without its own
//! `low`/`high` whose quantity has claims (`catalog/claims.toml`: each source's figure where
//! sources disagree) takes its range from them ([`claims_range`]); its ledger line says so
//! (`range_from = "claims"`). One draw of a figure is used wherever
//! the figure is (the resolver replaces it by ledger name). Draw `i` uses ChaCha8 stream
//! `(seed, i)`, so results do not depend on the thread count. `totals` keeps the central
//! values; `ranges` sits beside it.

use std::collections::BTreeMap;

use fleet::MonthRow;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::Serialize;

use crate::result::Assumption;

/// Draws a plan samples by default.
pub const DEFAULT_DRAWS: usize = 1_000;

/// How to sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RangeOptions {
    /// Number of draws (1 to 1,000,000).
    pub draws: usize,
    /// Seed of the ChaCha8 streams.
    pub seed: u64,
}

impl Default for RangeOptions {
    fn default() -> RangeOptions {
        RangeOptions {
            draws: DEFAULT_DRAWS,
            seed: 0,
        }
    }
}

/// p10, p50 and p90 of one output over the draws.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Spread {
    /// 10th percentile.
    pub p10: f64,
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
}

/// One assumption's pull on the headlines, the others held at their central values.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Driver {
    /// Ledger name of the figure.
    pub name: String,
    /// Its unit.
    pub unit: String,
    /// Low end, central value and high end.
    pub low: f64,
    /// Central value (the catalog's).
    pub value: f64,
    /// High end.
    pub high: f64,
    /// `claims` where the range comes from the sources recorded in `catalog/claims.toml`
    /// rather than the figure's own catalog entry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub range_from: Option<String>,
    /// Each headline at the figure's low and high end: `[at_low, at_high]`.
    pub headlines: BTreeMap<String, [f64; 2]>,
    /// Largest relative swing over the headlines, `|at_high - at_low| / central`.
    pub swing: f64,
}

/// The spread of a plan's outputs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ranges {
    /// Draws made.
    pub draws: usize,
    /// Seed of the draws.
    pub seed: u64,
    /// How figures were drawn.
    pub method: String,
    /// The figures sampled (ledger names).
    pub sampled: Vec<String>,
    /// p10/p50/p90 of each headline at the final month.
    pub headlines: BTreeMap<String, Spread>,
    /// p10/p50/p90 of each number in the final timeline row.
    pub final_row: BTreeMap<String, Spread>,
    /// The assumptions that drive the spread, largest swing first (at most [`TORNADO_LEN`]).
    pub tornado: Vec<Driver>,
}

/// Drivers the tornado lists.
pub const TORNADO_LEN: usize = 6;

/// The headlines: name and how to read it from a final row.
pub fn headline_values(row: &MonthRow) -> Vec<(&'static str, Option<f64>)> {
    let per_gw = |x: f64| (row.facility_gw > 0.0).then(|| x / row.facility_gw);
    vec![
        ("accelerators", Some(row.accelerators)),
        ("h100e", row.h100e),
        ("facility_gw", Some(row.facility_gw)),
        ("capex_usd", Some(row.capex_usd)),
        ("spend_usd", Some(row.spend_usd)),
        ("energy_twh_per_year", Some(row.energy_twh_per_year)),
        ("energy_twh", Some(row.energy_twh)),
        ("accelerators_per_facility_gw", per_gw(row.accelerators)),
        ("capex_usd_per_facility_gw", per_gw(row.capex_usd)),
    ]
}

/// Every number of a final row, by its JSON name.
fn row_values(row: &MonthRow) -> Vec<(String, Option<f64>)> {
    let mut out: Vec<(String, Option<f64>)> = vec![
        ("facility_gw".into(), Some(row.facility_gw)),
        ("it_gw".into(), Some(row.it_gw)),
        ("systems".into(), Some(row.systems)),
        ("accelerators".into(), Some(row.accelerators)),
        ("h100e".into(), row.h100e),
        ("bf16_dense_flops".into(), row.bf16_dense_flops),
        ("fp8_dense_flops".into(), row.fp8_dense_flops),
        ("fp4_dense_flops".into(), row.fp4_dense_flops),
        ("capex_usd".into(), Some(row.capex_usd)),
        ("capex_usd_in_month".into(), Some(row.capex_usd_in_month)),
        ("capex_systems_usd".into(), Some(row.capex_systems_usd)),
        (
            "capex_networking_usd".into(),
            Some(row.capex_networking_usd),
        ),
        ("capex_facility_usd".into(), Some(row.capex_facility_usd)),
        ("opex_usd".into(), Some(row.opex_usd)),
        ("opex_usd_in_month".into(), Some(row.opex_usd_in_month)),
        ("opex_energy_usd".into(), Some(row.opex_energy_usd)),
        ("opex_other_usd".into(), Some(row.opex_other_usd)),
        ("spend_usd".into(), Some(row.spend_usd)),
        ("energy_twh_per_year".into(), Some(row.energy_twh_per_year)),
        ("energy_twh".into(), Some(row.energy_twh)),
        ("financing_usd".into(), Some(row.financing_usd)),
        (
            "financing_usd_in_month".into(),
            Some(row.financing_usd_in_month),
        ),
    ];
    for (id, n) in &row.accelerators_by_type {
        out.push((format!("accelerators_by_type.{id}"), Some(*n)));
    }
    out
}

/// The catalog quantity (`<table>.<id>.<field>`, as `catalog/claims.toml` names it) that a
/// ledger name `<table>[<id>].<field>` stands for; `None` for names of any other shape
/// (`facility.pue`, `tranche[one].pue`, scenario overrides).
pub fn claim_quantity(ledger_name: &str) -> Option<String> {
    let (table, rest) = ledger_name.split_once('[')?;
    let (id, field) = rest.split_once("].")?;
    let plain = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')
    };
    (plain(table) && plain(id) && plain(field) && !field.contains('.'))
        .then(|| format!("{table}.{id}.{field}"))
}

/// The range a catalog figure without its own `low`/`high` takes from the claims recorded for
/// it (`catalog/claims.toml`): from the lowest to the highest figure any source gives (a
/// source's own range included), widened to hold the catalog's value, which stays the mode of
/// the triangle. No source gives a distribution, so the draw is triangular as for every other
/// range. `None` where there are no claims or they all agree with the value.
pub fn claims_range(
    catalog: &catalog::Catalog,
    ledger_name: &str,
    value: f64,
) -> Option<(f64, f64)> {
    let (low, high) = catalog.claimed_range(&claim_quantity(ledger_name)?)?;
    let (low, high) = (low.min(value), high.max(value));
    (low.is_finite() && high.is_finite() && high > low).then_some((low, high))
}

/// A draw from the triangular distribution (low, mode, high) by its inverse CDF.
pub fn triangular(low: f64, mode: f64, high: f64, u: f64) -> f64 {
    if high <= low {
        return mode;
    }
    let mode = mode.clamp(low, high);
    let split = (mode - low) / (high - low);
    if u < split {
        low + (u * (high - low) * (mode - low)).sqrt()
    } else {
        high - ((1.0 - u) * (high - low) * (high - mode)).sqrt()
    }
}

/// The percentile `p` (0 to 1) of sorted values, interpolating between ranks.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = p * (sorted.len() - 1) as f64;
    let (lo, hi) = (rank.floor() as usize, rank.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo as f64)
}

fn spread(mut values: Vec<f64>) -> Spread {
    values.sort_by(f64::total_cmp);
    Spread {
        p10: percentile(&values, 0.1),
        p50: percentile(&values, 0.5),
        p90: percentile(&values, 0.9),
    }
}

/// The ranged figures of a ledger, in name order.
pub fn ranged(assumptions: &[Assumption]) -> Vec<&Assumption> {
    let mut out: Vec<&Assumption> = assumptions
        .iter()
        .filter(|a| matches!((a.low, a.high), (Some(l), Some(h)) if h > l))
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// Samples the figures and runs `rerun` (the plan with those values replacing the catalog's)
/// once per draw and twice per figure for the tornado. `rerun` returns the final row, or
/// `None` when a draw cannot be planned (it is then left out and counted).
pub fn sample<F>(assumptions: &[Assumption], options: RangeOptions, rerun: F) -> Ranges
where
    F: Fn(&BTreeMap<String, f64>) -> Option<MonthRow> + Sync,
{
    let figures = ranged(assumptions);
    let base = ChaCha8Rng::seed_from_u64(options.seed);
    let rows: Vec<MonthRow> = (0..options.draws as u64)
        .into_par_iter()
        .filter_map(|i| {
            let mut rng = base.clone();
            rng.set_stream(i);
            let draws: BTreeMap<String, f64> = figures
                .iter()
                .map(|a| {
                    let u: f64 = rng.random();
                    let (low, high) = (a.low.unwrap_or(a.value), a.high.unwrap_or(a.value));
                    (a.name.clone(), triangular(low, a.value, high, u))
                })
                .collect();
            rerun(&draws)
        })
        .collect();

    let mut headlines: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    let mut final_row: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for row in &rows {
        for (name, value) in headline_values(row) {
            if let Some(v) = value {
                headlines.entry(name.to_string()).or_default().push(v);
            }
        }
        for (name, value) in row_values(row) {
            if let Some(v) = value {
                final_row.entry(name).or_default().push(v);
            }
        }
    }

    let central = rerun(&BTreeMap::new());
    let central_headlines: BTreeMap<&str, f64> = central
        .as_ref()
        .map(|row| {
            headline_values(row)
                .into_iter()
                .filter_map(|(n, v)| v.map(|v| (n, v)))
                .collect()
        })
        .unwrap_or_default();
    let mut tornado: Vec<Driver> = figures
        .par_iter()
        .filter_map(|a| {
            let at = |x: f64| rerun(&BTreeMap::from([(a.name.clone(), x)]));
            let (low_row, high_row) = (at(a.low?)?, at(a.high?)?);
            let low_values: BTreeMap<&str, f64> = headline_values(&low_row)
                .into_iter()
                .filter_map(|(n, v)| v.map(|v| (n, v)))
                .collect();
            let mut swing: f64 = 0.0;
            let mut per_headline = BTreeMap::new();
            for (name, high_value) in headline_values(&high_row) {
                let (Some(high_value), Some(low_value)) = (high_value, low_values.get(name)) else {
                    continue;
                };
                if let Some(c) = central_headlines.get(name).filter(|c| **c != 0.0) {
                    swing = swing.max((high_value - low_value).abs() / c.abs());
                }
                per_headline.insert(name.to_string(), [*low_value, high_value]);
            }
            Some(Driver {
                name: a.name.clone(),
                unit: a.unit.clone(),
                low: a.low?,
                value: a.value,
                high: a.high?,
                range_from: a.range_from.clone(),
                headlines: per_headline,
                swing,
            })
        })
        .collect();
    tornado.sort_by(|a, b| b.swing.total_cmp(&a.swing).then(a.name.cmp(&b.name)));
    tornado.retain(|d| d.swing > 0.0);
    tornado.truncate(TORNADO_LEN);

    Ranges {
        draws: rows.len(),
        seed: options.seed,
        method: "triangular(low, catalog value, high) per ranged catalog figure (its own low/high, or else the lowest and highest figure its sources give in catalog/claims.toml, widened to hold the value); one draw per figure shared wherever it is used; ChaCha8 stream (seed, draw)".into(),
        sampled: figures.iter().map(|a| a.name.clone()).collect(),
        headlines: headlines.into_iter().map(|(k, v)| (k, spread(v))).collect(),
        final_row: final_row.into_iter().map(|(k, v)| (k, spread(v))).collect(),
        tornado,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_triangle_spans_its_ends_and_peaks_at_the_mode() {
        assert_eq!(triangular(1.0, 2.0, 4.0, 0.0), 1.0);
        assert_eq!(triangular(1.0, 2.0, 4.0, 1.0), 4.0);
        // CDF at the mode is (2 - 1) / (4 - 1) = 1/3.
        assert!((triangular(1.0, 2.0, 4.0, 1.0 / 3.0) - 2.0).abs() < 1e-12);
        // A degenerate range returns the mode.
        assert_eq!(triangular(2.0, 2.0, 2.0, 0.7), 2.0);
        // Mode at the top end: u = 0.75 gives 1 + sqrt(0.75 * 3 * 3) = 3.598.
        assert!((triangular(1.0, 4.0, 4.0, 0.75) - (1.0 + 6.75f64.sqrt())).abs() < 1e-12);
    }

    #[test]
    fn ledger_names_map_to_claim_quantities() {
        assert_eq!(
            claim_quantity("system[vera-rubin-nvl144].it_power_kw").as_deref(),
            Some("system.vera-rubin-nvl144.it_power_kw")
        );
        assert_eq!(
            claim_quantity("accelerator[rubin].fp4_dense_tflops").as_deref(),
            Some("accelerator.rubin.fp4_dense_tflops")
        );
        assert_eq!(claim_quantity("facility.pue"), None);
        assert_eq!(
            claim_quantity("tranche[one].pue"),
            Some("tranche.one.pue".into())
        );
        assert_eq!(claim_quantity("site[abilene].phase[2].gw"), None);
    }

    #[test]
    fn claims_give_a_range_that_holds_the_catalog_value() {
        let catalog = catalog::Catalog::embedded().expect("embedded catalog");
        // Vera Rubin price per rack: claims $7.80M (Morgan Stanley), $8.8M, $9.1M (Foxconn,
        // the catalog's value): the range is 7.80M to 9.1M.
        let (low, high) = claims_range(&catalog, "system[vera-rubin-nvl144].price_usd", 9.1e6)
            .expect("the price has claims");
        assert!((low - 7_803_148.0).abs() < 1.0, "{low}");
        assert!((high - 9_100_000.0).abs() < 1.0, "{high}");
        // A value outside the claims widens the range to hold it.
        let (_, high) =
            claims_range(&catalog, "system[vera-rubin-nvl144].price_usd", 1.0e7).unwrap();
        assert_eq!(high, 1.0e7);
        // No claims, no range.
        assert_eq!(
            claims_range(&catalog, "system[gb200-nvl72].price_usd", 2.63e6),
            None
        );
        assert_eq!(claims_range(&catalog, "facility.pue", 1.2), None);
    }

    #[test]
    fn percentiles_interpolate_between_ranks() {
        let s = spread((1..=11).map(f64::from).collect());
        // rank 0.1 * 10 = 1 -> 2; 0.5 * 10 = 5 -> 6; 0.9 * 10 = 9 -> 10.
        assert_eq!((s.p10, s.p50, s.p90), (2.0, 6.0, 10.0));
    }
}
