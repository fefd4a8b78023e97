//! The answer first (issue 16): two or three sentences a journalist can quote, which every
//! output opens with; then the per-GW ratios and the comparison with known sites.
//!
//! The sentences say what the scenario plans, what it amounts to (accelerators, dollars,
//! energy, the largest trainable model and tokens a day, each with its p10-p90 range when the
//! plan sampled ranges; capability's widened by the models' errors), and where the deal stood
//! on the knowledge date, with the source. Figures are rounded to two significant digits: the
//! catalog's own ranges are wider than any third digit.

use serde::Serialize;

use crate::power_stack::CrossCheck;
use crate::ranges::Spread;
use crate::result::PlanResult;

/// The opening sentences.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Opening {
    /// Two or three sentences, in order.
    pub sentences: Vec<String>,
    /// The sentences as one paragraph.
    pub text: String,
}

/// Ratios per GW of facility power, and the same for known sites.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Comparison {
    /// Facility GW the ratios divide by (the final month's).
    pub facility_gw: f64,
    /// Accelerators per facility GW.
    pub accelerators_per_gw: Option<f64>,
    /// Capex to date per facility GW, USD.
    pub capex_usd_per_gw: Option<f64>,
    /// Energy per year per facility GW, TWh.
    pub energy_twh_per_year_per_gw: Option<f64>,
    /// Catalog sites that report accelerators: what they report per GW on their basis.
    pub known_sites: Vec<KnownSite>,
}

/// A real site, for comparison.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KnownSite {
    /// Site id.
    pub site: String,
    /// Operator.
    pub operator: String,
    /// System installed.
    pub system: String,
    /// GW on `basis`.
    pub gw: f64,
    /// `facility`, `it` or `contracted`.
    pub basis: String,
    /// Accelerators reported.
    pub accelerators: f64,
    /// Accelerators per GW reported.
    pub accelerators_per_gw: f64,
    /// What the power stack predicts for the site.
    pub predicted_accelerators: f64,
}

/// The comparison block of a plan.
pub fn comparison(result: &PlanResult, check: &CrossCheck) -> Comparison {
    let t = &result.totals;
    let per = |x: f64| (t.facility_gw > 0.0).then(|| x / t.facility_gw);
    Comparison {
        facility_gw: t.facility_gw,
        accelerators_per_gw: per(t.accelerators),
        capex_usd_per_gw: per(t.capex_usd),
        energy_twh_per_year_per_gw: per(t.energy_twh_per_year),
        known_sites: check
            .sites
            .iter()
            .map(|s| KnownSite {
                site: s.site.clone(),
                operator: s.operator.clone(),
                system: s.system.clone(),
                gw: s.gw,
                basis: s.basis.clone(),
                accelerators: s.reported,
                accelerators_per_gw: s.reported / s.gw,
                predicted_accelerators: s.predicted,
            })
            .collect(),
    }
}

/// Two significant digits, in words for large numbers: 2,386,800 -> "2.4 million".
pub fn quotable(x: f64) -> String {
    let a = x.abs();
    let sig2 = |v: f64| {
        if v == 0.0 {
            return 0.0;
        }
        let mag = 10f64.powf(v.abs().log10().floor() - 1.0);
        (v / mag).round() * mag
    };
    let trim = |v: f64| {
        let s = format!("{v:.1}");
        s.strip_suffix(".0").map(str::to_string).unwrap_or(s)
    };
    if a >= 1e12 {
        format!("{} trillion", trim(sig2(x) / 1e12))
    } else if a >= 1e9 {
        format!("{} billion", trim(sig2(x) / 1e9))
    } else if a >= 1e6 {
        format!("{} million", trim(sig2(x) / 1e6))
    } else if a >= 1e3 {
        units::fmt_count(sig2(x))
    } else if a >= 10.0 {
        format!("{}", sig2(x).round())
    } else {
        trim(sig2(x))
    }
}

fn dollars(x: f64) -> String {
    format!("${}", quotable(x))
}

fn with_range(value: String, spread: Option<&Spread>, fmt: fn(f64) -> String) -> String {
    match spread {
        Some(s) if fmt(s.p10) != fmt(s.p90) => {
            format!("{value} (p10-p90 {} to {})", fmt(s.p10), fmt(s.p90))
        }
        _ => value,
    }
}

fn status_words(status: &str) -> &str {
    match status {
        "announced" => "announced, with no binding agreement made public",
        "binding" => "signed and binding",
        "in-force" => "in force and being delivered",
        "stalled" => "reported stalled",
        "replaced" => "replaced by another arrangement",
        "cancelled" => "cancelled",
        other => other,
    }
}

/// What the fleet can do in the last month the capability section reports: the largest model
/// its largest site could train and the tokens a day its serving share could serve, or why the
/// models cannot say, as a clause of the "what it amounts to" sentence (the opening stays at
/// three sentences); `None` when the plan carries no capability section.
fn capability_clause(result: &PlanResult) -> Option<String> {
    let capability = result.capability.as_ref()?;
    let month = capability.months.last()?;
    let days = quotable(capability.options.training_days);
    // The ranges over the plan's draws, widened by the models' errors, for the same month.
    let spreads = result
        .ranges
        .as_ref()
        .and_then(|r| r.capability.as_ref())
        .filter(|c| c.month == month.month);
    let dense_range = spreads.and_then(|c| c.dense_params.as_ref());
    let moe_range = spreads.and_then(|c| c.moe_params.as_ref());
    let tokens_range = spreads.and_then(|c| c.serving_tokens_per_day.as_ref());
    let training = match &month.largest_run {
        Some(run) => match (&run.dense.run, &run.moe.run) {
            (Some(dense), moe) => {
                let moe = moe.as_ref().map_or(String::new(), |m| {
                    format!(
                        ", or a {}-expert MoE of {},",
                        capability.options.moe_experts,
                        with_range(quotable(m.params), moe_range, quotable)
                    )
                });
                format!(
                    "its largest site ({}, {}) could train a compute-optimal dense model of {}{moe} in {days} days",
                    site_words(&run.site),
                    run.system,
                    with_range(
                        format!("{} parameters", quotable(dense.params)),
                        dense_range,
                        quotable
                    )
                )
            }
            (None, _) => format!(
                "the models cannot size its largest training run ({})",
                run.dense.unknown_reason.as_deref().unwrap_or("unknown")
            ),
        },
        None => "no accelerators are past burn-in to train on".to_string(),
    };
    let serving = match month.serving_tokens_per_day {
        Some(tokens) => format!(
            "its serving share could produce {} of the reference model mix",
            with_range(
                format!("{} output tokens a day", quotable(tokens)),
                tokens_range,
                quotable
            )
        ),
        None => format!(
            "its serving rate is unknown ({})",
            month
                .unknown
                .first()
                .map_or("the serving model cannot compute it", |s| s.as_str())
        ),
    };
    // The capability month is the last reported (a December or a month asked for); named only
    // where it is not the month the sentence already opens with.
    let when = if month.month.to_string() == result.scenario.end_month {
        String::new()
    } else {
        format!("in {}, ", month.month)
    };
    Some(format!("{when}{training}, and {serving}"))
}

/// A capability site key in words: a tranche without a catalog site is its own site.
fn site_words(site: &str) -> String {
    match site.strip_prefix("tranche:") {
        Some(tranche) => format!("tranche \"{tranche}\""),
        None => site.to_string(),
    }
}

/// The opening sentences of a plan.
pub fn opening(result: &PlanResult) -> Opening {
    let t = &result.totals;
    let ranges = result.ranges.as_ref();
    let headline = |name: &str| ranges.and_then(|r| r.headlines.get(name));
    let mut sentences = Vec::new();

    let systems: Vec<String> = {
        let mut ids: Vec<String> = result.tranches.iter().map(|t| t.system.clone()).collect();
        ids.dedup();
        ids
    };
    let full = result
        .tranches
        .iter()
        .map(|t| t.totals.full.to_string())
        .max()
        .unwrap_or_default();
    // What was asked for, by basis (tranches sized in systems ask for no power).
    let mut asked: Vec<(String, f64)> = Vec::new();
    for stack in result
        .tranches
        .iter()
        .filter_map(|t| t.power_stack.as_ref())
    {
        match asked.iter_mut().find(|(b, _)| *b == stack.basis) {
            Some((_, gw)) => *gw += stack.basis_gw,
            None => asked.push((stack.basis.clone(), stack.basis_gw)),
        }
    }
    let asked = if asked.is_empty() {
        format!("{} systems", units::fmt_count(t.systems))
    } else {
        asked
            .iter()
            .map(|(basis, gw)| format!("{} ({basis})", units::fmt_power_w(gw * units::W_PER_GW)))
            .collect::<Vec<_>>()
            .join(" and ")
    };
    sentences.push(format!(
        "The scenario \"{}\" asks for {asked} of {} in {} tranche{}, fully online by {}; after cooling, design headroom and the network, storage and CPU power beside the racks, that is {} systems drawing {} at the meter.",
        result.scenario.name,
        systems.join(", "),
        result.tranches.len(),
        if result.tranches.len() == 1 { "" } else { "s" },
        full,
        units::fmt_count(t.systems),
        units::fmt_power_w(t.facility_gw * units::W_PER_GW),
    ));

    let accelerators = with_range(quotable(t.accelerators), headline("accelerators"), quotable);
    let capex = with_range(dollars(t.capex_usd), headline("capex_usd"), dollars);
    let energy = with_range(
        format!("{} TWh", quotable(t.energy_twh_per_year)),
        headline("energy_twh_per_year"),
        |x| format!("{} TWh", quotable(x)),
    );
    let capability = capability_clause(result).map_or(String::new(), |c| format!("; {c}"));
    sentences.push(format!(
        "By {} that is {accelerators} accelerators, {capex} of capital spending and {energy} of electricity a year{capability}.",
        result.scenario.end_month,
    ));

    let cutoff = &result.knowledge.cutoff;
    let mut status = Vec::new();
    let mut in_force = true;
    for deal in &result.deals {
        in_force &= deal.status == "in-force";
        let source = deal.status_source.as_ref().map(|id| {
            let title = result
                .sources
                .iter()
                .find(|s| &s.id == id)
                .map(|s| s.title.clone())
                .filter(|t| !t.is_empty())
                .unwrap_or_else(|| id.clone());
            format!("; source: {title}")
        });
        status.push(format!(
            "\"{}\" had been {}{}{}",
            deal.name,
            status_words(&deal.status),
            deal.status_as_of
                .as_ref()
                .map_or(String::new(), |d| format!(" (as of {d}")),
            match (&deal.status_as_of, source) {
                (Some(_), Some(s)) => format!("{s})"),
                (Some(_), None) => ")".into(),
                (None, Some(s)) => format!(" ({})", s.trim_start_matches("; ")),
                (None, None) => String::new(),
            }
        ));
    }
    let known = match &result.knowledge.known_on {
        Some(day) => format!("On {day} (the knowledge date asked for)"),
        None => format!("On {cutoff}, the catalog's knowledge date"),
    };
    let financing = if t.financing_usd > 0.0 {
        if in_force && !result.deals.is_empty() {
            format!(" Its financing comes to {}.", dollars(t.financing_usd))
        } else {
            format!(
                " The {} of financing in this plan is what would flow if the deal proceeds as written.",
                dollars(t.financing_usd)
            )
        }
    } else {
        String::new()
    };
    if status.is_empty() {
        sentences.push(format!(
            "{known}, the scenario names no catalog deal, so no deal status applies.{financing}"
        ));
    } else {
        sentences.push(format!("{known}, {}.{financing}", status.join("; ")));
    }
    Opening {
        text: sentences.join(" "),
        sentences,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotable_rounds_to_two_digits_in_words() {
        assert_eq!(quotable(2_386_800.0), "2.4 million");
        assert_eq!(quotable(453_600.0), "450,000");
        assert_eq!(quotable(522e9), "520 billion");
        assert_eq!(quotable(1.234e12), "1.2 trillion");
        assert_eq!(quotable(51.3), "51");
        assert_eq!(quotable(5.13), "5.1");
        assert_eq!(quotable(2e6), "2 million");
    }
}
