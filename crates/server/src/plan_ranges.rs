//! Ranges for the plan API (issue 16): the same `ranges` beside `totals` as `gigawatt plan`,
//! bounded so that a plan request holds its model slot for a bounded time.
//!
//! The ranges rerun the fleet model once per draw; the cost of one rerun grows with tranches x
//! months. The server caps draws x tranche-months at [`RANGE_BUDGET`] (the CLI's default 1,000
//! draws fit for scenarios up to 5,000 tranche-months, e.g. 40 tranches over ten years), says
//! so in the plan's warnings when it draws fewer than asked, and leaves the ranges out, with a
//! warning, when fewer than [`MIN_API_DRAWS`] would fit (a p10/p90 from fewer is noise). Ranges
//! are cached per (scenario hash, catalog, draws, seed): the dashboard asks for the same plan as
//! JSON and as HTML, and a saved run's check replans it.

use std::collections::VecDeque;
use std::sync::Mutex;

use engine::ranges::Ranges;
use serde::Deserialize;

#[allow(clippy::wildcard_imports)]
use crate::*;

/// Largest draws x tranche-months one plan request may sample.
pub const RANGE_BUDGET: u64 = 5_000_000;
/// Fewest draws worth reporting; below this the ranges are left out.
pub const MIN_API_DRAWS: usize = 100;
/// Most draws a request may ask for (the CLI allows more).
pub const MAX_API_DRAWS: usize = 10_000;
/// Ranges the cache keeps (least recently used out first).
pub const RANGES_CACHE_LEN: usize = 64;

/// A plan request's options: query parameters or JSON body fields of `/api/plan`.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
pub(crate) struct PlanRangeRequest {
    /// Draws to sample (default [`engine::ranges::DEFAULT_DRAWS`]).
    pub(crate) draws: Option<u64>,
    /// Seed of the draws (default 0).
    pub(crate) seed: Option<u64>,
    /// Central values only, as `--no-ranges`.
    pub(crate) no_ranges: Option<bool>,
}

impl PlanRangeRequest {
    /// The body's fields laid over the query's (the body wins where both give one).
    pub(crate) fn or(self, query: PlanRangeRequest) -> PlanRangeRequest {
        PlanRangeRequest {
            draws: self.draws.or(query.draws),
            seed: self.seed.or(query.seed),
            no_ranges: self.no_ranges.or(query.no_ranges),
        }
    }

    /// The options to plan with, or a 400 naming the field.
    pub(crate) fn options(self) -> ApiResult<Option<engine::RangeOptions>> {
        if self.no_ranges == Some(true) {
            return Ok(None);
        }
        let draws = match self.draws {
            None => engine::ranges::DEFAULT_DRAWS,
            Some(d) if (1..=MAX_API_DRAWS as u64).contains(&d) => d as usize,
            Some(d) => {
                return Err(ApiError::bad_request(format!(
                    "draws = {d} is out of range: the server samples 1 to {MAX_API_DRAWS} draws\n  fix: ask for fewer draws (default 1,000), send no_ranges = true for central values only, or run `gigawatt plan --draws {d}`"
                )))
            }
        };
        Ok(Some(engine::RangeOptions {
            draws,
            seed: self.seed.unwrap_or(0),
        }))
    }
}

/// Draws that fit the budget for a plan of `tranches` over `months`.
pub(crate) fn budgeted_draws(asked: usize, tranches: usize, months: usize) -> usize {
    let tranche_months = (tranches.max(1) * months.max(1)) as u64;
    asked.min((RANGE_BUDGET / tranche_months) as usize)
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct CacheKey {
    input_hash: String,
    catalog_version: String,
    draws: usize,
    seed: u64,
}

/// Ranges computed for recent plans.
#[derive(Default)]
pub(crate) struct RangesCache {
    entries: Mutex<VecDeque<(CacheKey, Ranges)>>,
}

impl RangesCache {
    fn get(&self, key: &CacheKey) -> Option<Ranges> {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let at = entries.iter().position(|(k, _)| k == key)?;
        let entry = entries.remove(at)?;
        let ranges = entry.1.clone();
        entries.push_front(entry);
        Some(ranges)
    }

    fn put(&self, key: CacheKey, ranges: Ranges) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.retain(|(k, _)| k != &key);
        entries.push_front((key, ranges));
        entries.truncate(RANGES_CACHE_LEN);
    }

    /// Ranges held (for tests).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.lock().map(|e| e.len()).unwrap_or(0)
    }
}

/// Adds ranges to a planned `result` within the budget, from the cache where it holds them.
pub(crate) fn add_plan_ranges(
    inner: &Inner,
    scenario: &engine::Scenario,
    origin: &str,
    text: &str,
    result: &mut engine::PlanResult,
    options: engine::RangeOptions,
) -> ApiResult<()> {
    let tranches = scenario.tranche.len();
    let months = result.timeline.len();
    let draws = budgeted_draws(options.draws, tranches, months);
    if draws < MIN_API_DRAWS.min(options.draws) {
        result.warnings.push(format!(
            "ranges left out: {tranches} tranches x {months} months leave room for only {draws} draws in the server's budget ({RANGE_BUDGET} draws x tranche-months; at least {MIN_API_DRAWS} are needed); `gigawatt plan` samples them all"
        ));
        return Ok(());
    }
    if draws < options.draws {
        result.warnings.push(format!(
            "ranges from {draws} draws, not the {} asked: the server caps draws x tranche-months at {RANGE_BUDGET} ({tranches} tranches x {months} months); `gigawatt plan --draws {}` samples them all",
            options.draws, options.draws
        ));
    }
    let key = CacheKey {
        input_hash: result.scenario.input_hash.clone(),
        catalog_version: result.catalog_version.clone(),
        draws,
        seed: options.seed,
    };
    if let Some(ranges) = inner.ranges_cache.get(&key) {
        engine::set_ranges(result, ranges);
        return Ok(());
    }
    let options = engine::RangeOptions { draws, ..options };
    engine::add_ranges(&inner.catalog, scenario, origin, text, result, options)
        .map_err(ApiError::from_engine)?;
    if let Some(ranges) = &result.ranges {
        inner.ranges_cache.put(key, ranges.clone());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_bounds_draws_by_tranche_months() {
        // 1 tranche x 60 months: 5,000,000 / 60 = 83,333, so 1,000 draws fit.
        assert_eq!(budgeted_draws(1_000, 1, 60), 1_000);
        // 200 tranches x 540 months = 108,000: 5,000,000 / 108,000 = 46 draws.
        assert_eq!(budgeted_draws(1_000, 200, 540), 46);
        // A degenerate plan (no tranche, no month) counts as one tranche-month.
        assert_eq!(budgeted_draws(1_000, 0, 0), 1_000);
    }

    #[test]
    fn draws_out_of_range_are_refused_naming_the_field() {
        let asked = |draws| PlanRangeRequest {
            draws: Some(draws),
            ..PlanRangeRequest::default()
        };
        for bad in [0, MAX_API_DRAWS as u64 + 1] {
            let err = asked(bad).options().unwrap_err();
            assert!(
                err.message.contains(&format!("draws = {bad}")),
                "{}",
                err.message
            );
        }
        assert_eq!(asked(500).options().unwrap().unwrap().draws, 500);
        let off = PlanRangeRequest {
            no_ranges: Some(true),
            ..asked(0)
        };
        assert_eq!(off.options().unwrap(), None);
        // The body's fields win over the query's.
        let body = PlanRangeRequest {
            seed: Some(7),
            ..PlanRangeRequest::default()
        };
        let query = PlanRangeRequest {
            seed: Some(1),
            draws: Some(200),
            no_ranges: None,
        };
        let both = body.or(query);
        assert_eq!((both.seed, both.draws), (Some(7), Some(200)));
    }
}
