//! Deal-risk results for terminals and spreadsheets: the summary `gigawatt risk` prints and
//! the monthly percentiles as CSV. (The HTML report is in risk.rs.)

use std::fmt::Write as _;

use ::risk::{Quantiles, RiskResult};
use units::{fmt_count, fmt_usd};

use crate::risk::{gw, pct, short_count, yearly};

/// A readable summary for a terminal.
pub fn risk_text_summary(result: &RiskResult) -> String {
    let mut out = String::new();
    let p = &result.portfolio;
    let _ = writeln!(out, "{}", p.name);
    if !p.description.is_empty() {
        let _ = writeln!(out, "{}", p.description);
    }
    let _ = writeln!(
        out,
        "portfolio {} | plan {} | {} samples, seed {}{} | timeline {} to {}",
        p.origin,
        p.scenario_origin,
        fmt_count(result.samples as f64),
        result.seed,
        result
            .elapsed_s
            .map_or(String::new(), |s| format!(", {s:.2} s")),
        p.first_month,
        p.end_month
    );

    out.push_str(
        "\nFacility power online (GW): the plan as written, and percentiles of the samples\n",
    );
    let _ = writeln!(
        out,
        "  {:<8} {:>8} {:>7} {:>7} {:>7} {:>7} {:>7}",
        "month", "planned", "p5", "p10", "p50", "p90", "p95"
    );
    let f2 = |v: f64| format!("{v:.2}");
    for r in yearly(result) {
        let q = r.facility_gw;
        let _ = writeln!(
            out,
            "  {:<8} {:>8} {:>7} {:>7} {:>7} {:>7} {:>7}",
            r.month.to_string(),
            f2(r.planned_facility_gw),
            f2(q.p5),
            f2(q.p10),
            f2(q.p50),
            f2(q.p90),
            f2(q.p95)
        );
    }

    out.push_str("\nH100-equivalents, capex and financing to date (p10 / p50 / p90)\n");
    let _ = writeln!(
        out,
        "  {:<8} {:>26} {:>26} {:>24}",
        "month", "H100e", "capex", "financing"
    );
    for r in yearly(result) {
        let h = match r.h100e {
            Some(q) => format!(
                "{} / {} / {}",
                short_count(q.p10),
                short_count(q.p50),
                short_count(q.p90)
            ),
            None => "unknown".into(),
        };
        let money = |q: Quantiles| {
            format!(
                "{} / {} / {}",
                fmt_usd(q.p10),
                fmt_usd(q.p50),
                fmt_usd(q.p90)
            )
        };
        let _ = writeln!(
            out,
            "  {:<8} {:>26} {:>26} {:>24}",
            r.month.to_string(),
            h,
            money(r.capex_usd),
            money(r.financing_usd)
        );
    }

    if let Some(a) = &result.at_least {
        let _ = writeln!(
            out,
            "\nP(at least {} online by the end of {}) = {}  ({} of {} samples; the plan as written has {})",
            gw(a.at_least_gw),
            a.by,
            pct(a.probability),
            fmt_count(a.samples_meeting as f64),
            fmt_count(result.samples as f64),
            gw(a.planned_facility_gw)
        );
    }

    let t = &result.tornado;
    let _ = writeln!(
        out,
        "\nWhich deal matters most: median facility power at {} with one deal fixed (median with all uncertain: {})",
        t.month,
        gw(t.base_p50)
    );
    let id_width = t
        .bars
        .iter()
        .map(|b| b.deal.len())
        .max()
        .unwrap_or(4)
        .max(4);
    let _ = writeln!(
        out,
        "  {:<id_width$} {:>9} {:>9} {:>9}  worst / best outcome",
        "deal", "worst", "best", "swing"
    );
    for b in &t.bars {
        let _ = writeln!(
            out,
            "  {:<id_width$} {:>9} {:>9} {:>9}  {} / {}",
            b.deal,
            gw(b.worst_p50),
            gw(b.best_p50),
            gw(b.swing),
            b.worst,
            b.best
        );
    }

    if let Some(c) = &result.capability {
        let _ = writeln!(
            out,
            "\nWhat the capacity could train and serve (p10 / p50 / p90 over {} samples; plan as written in brackets)\n  largest run in {} days on one site, {:.0}% of the fleet serving the reference mix",
            units::fmt_count(c.samples as f64),
            c.options.training_days,
            c.options.serving_share * 100.0
        );
        let _ = writeln!(
            out,
            "  {:<8} {:>34} {:>34} {:>34} {:>34}",
            "month", "dense parameters", "MoE parameters", "training FLOP/yr", "serving tokens/day"
        );
        for m in &c.months {
            let p = m.planned;
            let _ = writeln!(
                out,
                "  {:<8} {:>34} {:>34} {:>34} {:>34}",
                m.month.to_string(),
                crate::risk::band(m.dense_params, p.dense_params, crate::risk::short_count)
                    + &crate::risk::known_suffix(m, "dense_params"),
                crate::risk::band(m.moe_params, p.moe_params, crate::risk::short_count)
                    + &crate::risk::known_suffix(m, "moe_params"),
                crate::risk::band(
                    m.training_flop_per_year,
                    p.training_flop_per_year,
                    |x| format!("{x:.2e}")
                ),
                crate::risk::band(
                    m.serving_tokens_per_day,
                    p.serving_tokens_per_day,
                    crate::risk::short_count
                )
            );
        }
        for s in &c.systems {
            if let Some(reason) = s.training_reason.as_ref().or(s.serving_reason.as_ref()) {
                let _ = writeln!(out, "  unknown on {}: {reason}", s.system);
            }
        }
    }

    out.push_str("\nDeal outcomes: assumed (sampled) probabilities\n");
    let _ = writeln!(
        out,
        "  {:<id_width$} {:<9} {:>15} {:>15} {:>15} {:>15}  from",
        "deal", "status", "proceed", "cut", "collapse", "delayed"
    );
    for d in &result.deals {
        let both = |assumed: f64, sampled: f64| format!("{assumed:.2} ({sampled:.2})");
        let delayed_assumed = d.odds.delay * (1.0 - d.odds.collapse);
        let _ = writeln!(
            out,
            "  {:<id_width$} {:<9} {:>15} {:>15} {:>15} {:>15}  {}",
            d.id,
            d.status,
            both(d.odds.proceed, d.sampled.proceed),
            both(d.odds.cut, d.sampled.cut),
            both(d.odds.collapse, d.sampled.collapse),
            both(delayed_assumed, d.sampled.delayed),
            if d.outcomes_from == "status" {
                "status defaults"
            } else {
                "portfolio file"
            }
        );
    }
    if !result.drivers.is_empty() {
        out.push_str(
            "\nShared drivers (latent correlation of two deals sharing one = its weight)\n",
        );
        for d in &result.drivers {
            let _ = writeln!(
                out,
                "  {:<18} weight {:.2}  {}  [{}]",
                d.id,
                d.weight,
                d.note.as_deref().unwrap_or(""),
                d.deals.join(", ")
            );
        }
    }
    if !result.warnings.is_empty() {
        out.push('\n');
        for w in &result.warnings {
            let _ = writeln!(out, "warning: {w}");
        }
    }
    out.push('\n');
    for n in &result.notes {
        let _ = writeln!(out, "note: {n}");
    }
    let _ = writeln!(
        out,
        "\n{} assumptions, each with a source ({} sources); see them with --format json or html.",
        result.assumptions.len(),
        result.sources.len()
    );
    out
}

/// The monthly percentiles as CSV: one row per month.
pub fn risk_csv(result: &RiskResult) -> String {
    let mut out = String::from("month,planned_facility_gw,planned_h100e");
    let metrics = [
        "facility_gw",
        "accelerators",
        "h100e",
        "capex_usd",
        "financing_usd",
    ];
    for m in metrics {
        for p in &result.percentiles {
            let _ = write!(out, ",{m}_p{p}");
        }
    }
    out.push('\n');
    let num = |v: f64| format!("{v}");
    for r in &result.timeline {
        let _ = write!(
            out,
            "{},{},{}",
            r.month,
            num(r.planned_facility_gw),
            r.planned_h100e.map(num).unwrap_or_default()
        );
        for q in [
            Some(r.facility_gw),
            Some(r.accelerators),
            r.h100e,
            Some(r.capex_usd),
            Some(r.financing_usd),
        ] {
            match q {
                Some(q) => {
                    for v in [q.p5, q.p10, q.p50, q.p90, q.p95] {
                        let _ = write!(out, ",{}", num(v));
                    }
                }
                None => out.push_str(",,,,,"),
            }
        }
        out.push('\n');
    }
    out
}
