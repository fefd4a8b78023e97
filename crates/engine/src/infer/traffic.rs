//! The traffic of a serving question (flags or an API body), checked once for every surface.

use super::*;

/// How a traffic error names what was given: as a command-line flag or as a JSON field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldNames {
    /// `--max-batch`.
    Flags,
    /// `max_batch`.
    Json,
}

impl FieldNames {
    /// `field` (snake_case) as the user wrote it.
    pub fn name(self, field: &str) -> String {
        match self {
            FieldNames::Flags => format!("--{}", field.replace('_', "-")),
            FieldNames::Json => format!("`{field}`"),
        }
    }
}

/// The traffic of a serving question as the CLI flags and the API body give it.
#[derive(Debug, Clone, Copy)]
pub struct TrafficRequest<'a> {
    /// How errors name the inputs.
    pub names: FieldNames,
    /// Prompt tokens per request.
    pub input_tokens: f64,
    /// Generated tokens per request.
    pub output_tokens: f64,
    /// TTFT target, s.
    pub ttft_slo_s: Option<f64>,
    /// TPOT target, s.
    pub tpot_slo_s: Option<f64>,
    /// `offline` or `server`.
    pub mode: &'a str,
    /// Separate prefill and decode pools.
    pub disaggregated: bool,
    /// The serving engine's batch limit per attention rank.
    pub max_batch: Option<f64>,
    /// The percentile the latency targets hold for (server mode).
    pub slo_percentile: Option<f64>,
    /// Speculative decoding: tokens drafted per step (0 or absent: none).
    pub draft_tokens: Option<f64>,
    /// Speculative decoding: acceptance rate of a drafted token.
    pub acceptance_rate: Option<f64>,
    /// Speculative decoding: cost of one drafted token as a fraction of a decode step.
    pub draft_cost_fraction: Option<f64>,
}

/// The traffic of a serving question, checked the way `gigawatt infer search` checks its flags
/// (the CLI and the API share this, so their messages stay the same).
pub fn checked_workload(t: &TrafficRequest) -> Result<ServingWorkload, String> {
    let name = |field: &str| t.names.name(field);
    for (field, value) in [
        ("input_tokens", t.input_tokens),
        ("output_tokens", t.output_tokens),
    ] {
        if !(1.0..=10_000_000.0).contains(&value) {
            return Err(format!(
                "{} is {}\n  fix: tokens per request, from 1 to 10,000,000",
                name(field),
                units::fmt_number(value)
            ));
        }
    }
    for (field, value) in [("ttft_slo_s", t.ttft_slo_s), ("tpot_slo_s", t.tpot_slo_s)] {
        if let Some(v) = value {
            if !(v > 0.0 && v.is_finite()) {
                return Err(format!(
                    "{} is {}\n  fix: a latency target in seconds, greater than 0",
                    name(field),
                    units::fmt_number(v)
                ));
            }
        }
    }
    let mode = parse_mode(t.mode).ok_or_else(|| {
        format!(
            "{} `{}` is unknown\n  fix: offline or server",
            name("mode"),
            t.mode
        )
    })?;
    let max_batch = match t.max_batch {
        None => None,
        Some(b) => Some(
            checked_max_batch(b)
                .map_err(|fix| format!("{} is {b}\n  fix: {fix}", name("max_batch")))?,
        ),
    };
    let slo_percentile = match t.slo_percentile {
        None => perf::DEFAULT_SLO_PERCENTILE,
        Some(p) => checked_percentile(p)
            .map_err(|fix| format!("{} is {p}\n  fix: {fix}", name("slo_percentile")))?,
    };
    let speculation = checked_speculation(t.draft_tokens, t.acceptance_rate, t.draft_cost_fraction)
        .map_err(|(field, value, fix)| match value {
            None => format!("{} is missing\n  fix: {fix}", name(field)),
            Some(v) => format!("{} is {v}\n  fix: {fix}", name(field)),
        })?;
    Ok(ServingWorkload {
        input_tokens: t.input_tokens,
        output_tokens: t.output_tokens,
        ttft_slo_s: t.ttft_slo_s,
        tpot_slo_s: t.tpot_slo_s,
        mode,
        disaggregated: t.disaggregated,
        max_batch,
        speculation,
        slo_percentile,
    })
}

/// What was wrong with a speculative decoding setting: the field, its value (`None`: missing)
/// and the fix.
type SpeculationError = (&'static str, Option<f64>, &'static str);

/// Speculative decoding settings, checked.
pub(super) fn checked_speculation(
    draft_tokens: Option<f64>,
    acceptance_rate: Option<f64>,
    draft_cost_fraction: Option<f64>,
) -> Result<Option<perf::Speculation>, SpeculationError> {
    let drafts = match draft_tokens {
        None => 0.0,
        Some(k) if k.fract() == 0.0 && (0.0..=16.0).contains(&k) => k,
        Some(k) => {
            return Err((
                "draft_tokens",
                Some(k),
                "tokens drafted per step: a whole number from 0 to 16",
            ))
        }
    };
    if drafts == 0.0 {
        for (field, value) in [
            ("acceptance_rate", acceptance_rate),
            ("draft_cost_fraction", draft_cost_fraction),
        ] {
            if let Some(v) = value {
                return Err((field, Some(v), "it applies to speculative decoding only: give the number of drafted tokens too, or leave it out"));
            }
        }
        return Ok(None);
    }
    let acceptance_rate = match acceptance_rate {
        Some(a) if (0.0..=1.0).contains(&a) => a,
        Some(a) => return Err(("acceptance_rate", Some(a), "a probability from 0 to 1 (DeepSeek reports 0.85-0.9 for its MTP token)")),
        None => return Err(("acceptance_rate", None, "speculative decoding needs the acceptance rate of a drafted token, from 0 to 1 (DeepSeek reports 0.85-0.9 for its MTP token)")),
    };
    let draft_cost_fraction = match draft_cost_fraction {
        None => None,
        Some(f) if f > 0.0 && f <= 1.0 => Some(f),
        Some(f) => return Err(("draft_cost_fraction", Some(f), "the cost of drafting one token relative to one decode step of the model, above 0 and at most 1 (leave it out for an MTP module: one extra layer)")),
    };
    Ok(Some(perf::Speculation {
        draft_tokens: drafts as u32,
        acceptance_rate,
        draft_cost_fraction,
    }))
}

/// A serving engine batch limit: a whole number of sequences, at least 1.
pub(super) fn checked_max_batch(b: f64) -> Result<u32, &'static str> {
    if b.fract() == 0.0 && (1.0..=f64::from(perf::MAX_BATCH)).contains(&b) {
        Ok(b as u32)
    } else {
        Err("sequences per attention rank: a whole number from 1 to 65,536")
    }
}

/// A latency percentile: from 50 (the targets judged at the median) to below 100 (99 is
/// MLPerf's Server constraint). Below the median a target would be judged at fewer sequences
/// than the mean the throughput is counted at.
pub(super) fn checked_percentile(p: f64) -> Result<f64, &'static str> {
    if (50.0..100.0).contains(&p) {
        Ok(p)
    } else {
        Err("a percentile from 50 (the median) to below 100, e.g. 99 (MLPerf Server)")
    }
}
