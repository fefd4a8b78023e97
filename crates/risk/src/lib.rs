//! Deal risk: Monte Carlo over a portfolio of compute deals.
//!
//! A portfolio file (see [`file`]) names a buildout plan (a scenario) and says, for each deal
//! in it, how likely it is to proceed as announced, be cut to a share, be delayed, or collapse;
//! how uncertain each tranche's ramp is; and which shared drivers (power and grid, packaging
//! and HBM, the buyer's financing) correlate the deals. Deals the file does not list get
//! defaults from their reported status ([`defaults`]). A driver moves the outcomes of the
//! deals that share it together, and, by a second independent shock, their delays; a deal's
//! own outcome and delay are independent, so P(delayed | not collapsed) is sampled as stated.
//!
//! [`run`] draws N samples of the whole portfolio, each from its own ChaCha8 stream chosen by
//! (seed, sample index), turns each into monthly series with the planner's arithmetic (a lean
//! path that agrees with `fleet::plan` on an unperturbed sample), and reports per-month
//! percentiles, the probability of at least X GW by a month, and a tornado of which deal's
//! uncertainty moves the median most. Models do no I/O: the caller hands in text and gets a
//! serializable [`RiskResult`].
//!
//! The capability view ([`capability`]) reads the plan's capability measures (largest run,
//! training FLOP per year, serving tokens per day) as percentiles over the same samples, from
//! per-system lookup tables built once per run.

mod build;
pub mod capability;
pub mod defaults;
pub mod file;
mod histogram;
mod model;
pub mod record_odds;
mod result;
mod simulate;

pub use build::{build, parse, scenario_error, scenario_ref, PORTFOLIO_SOURCE};
pub use capability::{build_tables, capability, Capability, CapabilityMonth, Planned};
pub use histogram::RELATIVE_ERROR_BOUND;
pub use model::{DealOutcome, DealRisk, Driver, Portfolio, Series};
pub use result::{
    DealResult, DriverResult, Frequencies, PortfolioInfo, Probability, Quantiles, RiskMonth,
    RiskResult, Tornado, TornadoBar,
};
pub use simulate::{
    run, run_with_column_budget, RunOptions, DEFAULT_SAMPLES, DEFAULT_SEED, MAX_SAMPLES,
    PERCENTILES,
};

/// Version of the serialized result schema.
pub const SCHEMA_VERSION: u32 = 1;

/// The name diagnostics use for flags.
pub const COMMAND_LINE: &str = "command line";

/// Why a run could not be made: the input is wrong (each problem located and with a fix).
#[derive(Debug, thiserror::Error)]
pub enum RiskError {
    /// The portfolio, the plan or the options are invalid.
    #[error("{0}")]
    Invalid(catalog::Diagnostics),
}

/// The monthly series of the plan as written, by the lean per-sample path (every deal proceeds
/// in full, on time, at the planned ramp). Tests compare it with `fleet::plan`.
pub fn planned_series(portfolio: &Portfolio) -> Option<(units::Month, Series)> {
    let lean = model::Lean::new(portfolio)?;
    let mut s = lean.scratch();
    s.outcomes.fill(DealOutcome::AS_PLANNED);
    lean.apply(&mut s);
    lean.series(&mut s);
    Some((lean.first, s.series))
}

/// The run options of a request (command-line flags or an API body), checked the same way for
/// both: samples in 1..=[`MAX_SAMPLES`] (else `default_samples`), a seed of 0 or more (else the
/// portfolio's, else [`DEFAULT_SEED`]), and `at_least_gw` with `by` given together.
pub fn checked_options(
    portfolio: &Portfolio,
    samples: Option<i64>,
    default_samples: u64,
    seed: Option<i64>,
    at_least_gw: Option<f64>,
    by: Option<&str>,
) -> Result<RunOptions, Box<catalog::Diagnostic>> {
    let flag_error = |flag: &str, message: String, hint: &str| {
        Box::new(
            catalog::Diagnostic::new(COMMAND_LINE, message)
                .field(flag)
                .hint(hint),
        )
    };
    let samples =
        match samples {
            Some(n) if n < 1 || n as u64 > MAX_SAMPLES => return Err(flag_error(
                "--samples",
                format!("{n} samples is outside 1 to 10,000,000"),
                "ask for between 1 and 10,000,000 samples (10,000 gives percentiles to about 1%)",
            )),
            Some(n) => n as u64,
            None => default_samples,
        };
    let seed = match seed {
        Some(s) if s < 0 => {
            return Err(flag_error(
                "--seed",
                format!("impossible seed {s}"),
                "a seed is a whole number, 0 or more",
            ))
        }
        Some(s) => s as u64,
        None => portfolio.default_seed.unwrap_or(DEFAULT_SEED),
    };
    let both = "give both, for example --at-least-gw 5 --by 2028-12";
    let at_least = match (at_least_gw, by) {
        (Some(gw), Some(by)) => {
            let month: units::Month = by.parse().map_err(|e: units::MonthError| {
                flag_error(
                    "--by",
                    e.to_string(),
                    "write the month as YYYY-MM, for example --by 2028-12",
                )
            })?;
            Some((gw, month))
        }
        (None, None) => None,
        (Some(_), None) => return Err(flag_error("--by", "`at_least_gw` needs `by`".into(), both)),
        (None, Some(_)) => {
            return Err(flag_error(
                "--at-least-gw",
                "`by` needs `at_least_gw`".into(),
                both,
            ))
        }
    };
    Ok(RunOptions {
        samples,
        seed,
        at_least,
    })
}
