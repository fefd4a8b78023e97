//! Rendering deal-risk results (`gigawatt risk`): a terminal summary, JSON, CSV, and a
//! self-contained HTML report with a fan chart of facility power and H100-equivalents over time
//! and a tornado chart of which deal moves the median most. Pure functions from a
//! [`::risk::RiskResult`] to text; deterministic apart from the `elapsed_s` the caller sets.

use std::fmt::Write as _;

use ::risk::{Quantiles, RiskMonth, RiskResult};
use units::{fmt_count, fmt_power_w, fmt_usd, Month, W_PER_GW};

use crate::html::figure;
use crate::risk_charts::{fan_chart, tornado_chart};
pub use crate::risk_text::{risk_csv, risk_text_summary};
use crate::svg::{escape, trim_zeros};

/// The result as pretty JSON (the stable, documented schema).
pub fn risk_json(result: &RiskResult) -> String {
    let mut out = serde_json::to_string_pretty(result).expect("results serialize");
    out.push('\n');
    out
}

pub(crate) fn gw(value_gw: f64) -> String {
    fmt_power_w(value_gw * W_PER_GW)
}

pub(crate) fn pct(p: f64) -> String {
    let v = p * 100.0;
    if v > 0.0 && v < 0.1 {
        "<0.1%".into()
    } else if v < 100.0 && v > 99.9 {
        ">99.9%".into()
    } else {
        format!("{v:.1}%")
    }
}

/// Rows shown in summaries: each December, and the last month.
pub(crate) fn yearly(result: &RiskResult) -> Vec<&RiskMonth> {
    let last = result.timeline.len().saturating_sub(1);
    result
        .timeline
        .iter()
        .enumerate()
        .filter(|(i, r)| r.month.month() == 12 || *i == last)
        .map(|(_, r)| r)
        .collect()
}

/// "p10 / p50 / p90 (planned)" for a capability measure; "unknown" where some sample's is.
pub(crate) fn band(
    q: Option<Quantiles>,
    planned: Option<f64>,
    f: impl Fn(f64) -> String,
) -> String {
    let planned = planned.map_or_else(|| "unknown".to_string(), &f);
    match q {
        Some(q) => format!("{} / {} / {} ({planned})", f(q.p10), f(q.p50), f(q.p90)),
        None => format!("unknown ({planned})"),
    }
}

/// What the capacity could train and serve: per reported month, the capability measures at
/// p10 / p50 / p90 and for the plan as written.
fn capability_table(out: &mut String, result: &RiskResult) {
    let Some(c) = &result.capability else {
        return;
    };
    let _ = writeln!(
        out,
        "<section id=\"capability\">\n<h2>What the capacity could train and serve</h2>\n\
         <p class=\"sub\">p10 / p50 / p90 over {} samples, the plan as written in brackets. Largest run in {} days on one site; {:.0}% of the fleet serving the reference mix.</p>",
        fmt_count(c.samples as f64),
        escape(&c.options.training_days.to_string()),
        c.options.serving_share * 100.0
    );
    out.push_str(
        "<div class=\"table-wrap\" tabindex=\"0\"><table><thead><tr><th>month</th>\
         <th class=\"num\">dense parameters</th><th class=\"num\">MoE parameters</th>\
         <th class=\"num\">training FLOP/yr</th><th class=\"num\">serving tokens/day</th></tr></thead><tbody>\n",
    );
    for m in &c.months {
        let p = m.planned;
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            m.month,
            escape(&(band(m.dense_params, p.dense_params, short_count) + &known_suffix(m, "dense_params"))),
            escape(&(band(m.moe_params, p.moe_params, short_count) + &known_suffix(m, "moe_params"))),
            escape(&(band(m.training_flop_per_year, p.training_flop_per_year, |x| format!("{x:.2e}")) + &known_suffix(m, "training_flop_per_year"))),
            escape(&(band(m.serving_tokens_per_day, p.serving_tokens_per_day, short_count) + &known_suffix(m, "serving_tokens_per_day")))
        );
    }
    out.push_str("</tbody></table></div>\n<ul>\n");
    for note in &c.notes {
        let _ = writeln!(out, "<li>{}</li>", escape(note));
    }
    out.push_str("</ul>\n</section>\n");
}

/// ` (85% known)` after a capability measure that some samples cannot compute (its
/// percentiles are over the samples that can), else nothing.
pub(crate) fn known_suffix(m: &::risk::CapabilityMonth, measure: &str) -> String {
    match m.known_share.get(measure) {
        Some(share) if *share < 1.0 => format!(" ({:.0}% known)", share * 100.0),
        _ => String::new(),
    }
}

/// A count in the short scale: `12.3 M`, `4.5 B` (never SI's `G`).
pub(crate) fn short_count(v: f64) -> String {
    if v.abs() < 1e4 {
        fmt_count(v)
    } else {
        trim_zeros(units::fmt_short_scale(v, "").trim_end())
    }
}

// ---------------------------------------------------------------------------------------
// HTML

fn card(out: &mut String, label: &str, value: &str, detail: &str) {
    let _ = writeln!(
        out,
        "<div class=\"card\"><div class=\"label\">{}</div><div class=\"value\">{}</div><div class=\"detail\">{}</div></div>",
        escape(label),
        crate::html::prose(value),
        crate::html::prose(detail)
    );
}

/// The risk run as one self-contained HTML page.
pub fn risk_html(result: &RiskResult) -> String {
    let mut out = String::with_capacity(64 * 1024);
    let p = &result.portfolio;
    crate::html::page_open(&mut out, &result.engine_version, &p.name, "risk");
    let _ = writeln!(
        out,
        "<header>\n<p class=\"eyebrow\">gigawatt deal-risk report</p>\n<h1>{}</h1>\n<p class=\"desc\">{}</p>\n<dl class=\"meta\">",
        escape(&p.name),
        escape(&p.description)
    );
    for (label, value) in [
        ("Portfolio", p.origin.clone()),
        (
            "Plan",
            format!("{} ({})", p.scenario_name, p.scenario_origin),
        ),
        (
            "Timeline",
            format!(
                "{} to {} ({} months)",
                p.first_month,
                p.end_month,
                result.timeline.len()
            ),
        ),
        (
            "Samples",
            format!(
                "{} (seed {})",
                fmt_count(result.samples as f64),
                result.seed
            ),
        ),
        (
            "Input hashes",
            format!("portfolio {}, plan {}", p.input_hash, p.scenario_hash),
        ),
        ("Catalog version", result.catalog_version.clone()),
        ("Engine version", result.engine_version.clone()),
    ] {
        let _ = writeln!(out, "<dt>{label}</dt><dd>{}</dd>", escape(&value));
    }
    out.push_str("</dl>\n</header>\n");
    if !result.warnings.is_empty() {
        out.push_str("<section class=\"callout\" role=\"note\"><h2>⚠ Warnings</h2><ul>");
        for w in &result.warnings {
            let _ = write!(out, "<li>{}</li>", crate::html::prose(w));
        }
        out.push_str("</ul></section>\n");
    }

    // Headline.
    out.push_str(
        "<section id=\"headline\">\n<h2>At the end of the plan</h2>\n<div class=\"cards\">\n",
    );
    if let Some(last) = result.timeline.last() {
        let q = last.facility_gw;
        card(
            &mut out,
            &format!("Facility power online, {}", last.month),
            &format!("{} median", gw(q.p50)),
            &format!(
                "80% between {} and {}; planned {}",
                gw(q.p10),
                gw(q.p90),
                gw(last.planned_facility_gw)
            ),
        );
        if let Some(h) = last.h100e {
            card(
                &mut out,
                "H100-equivalents",
                &format!("{} median", short_count(h.p50)),
                &format!(
                    "80% between {} and {}",
                    short_count(h.p10),
                    short_count(h.p90)
                ),
            );
        }
        card(
            &mut out,
            "Capex to date",
            &format!("{} median", fmt_usd(last.capex_usd.p50)),
            &format!(
                "80% between {} and {}",
                fmt_usd(last.capex_usd.p10),
                fmt_usd(last.capex_usd.p90)
            ),
        );
        card(
            &mut out,
            "Financing received",
            &format!("{} median", fmt_usd(last.financing_usd.p50)),
            &format!(
                "80% between {} and {}",
                fmt_usd(last.financing_usd.p10),
                fmt_usd(last.financing_usd.p90)
            ),
        );
    }
    if let Some(a) = &result.at_least {
        card(
            &mut out,
            &format!("P(≥ {} by {})", gw(a.at_least_gw), a.by),
            &pct(a.probability),
            &format!(
                "{} of {} samples",
                fmt_count(a.samples_meeting as f64),
                fmt_count(result.samples as f64)
            ),
        );
    }
    if let Some(b) = result.tornado.bars.first() {
        card(
            &mut out,
            "Deal that matters most",
            &b.deal,
            &format!(
                "median {} to {} from worst to best",
                gw(b.worst_p50),
                gw(b.best_p50)
            ),
        );
    }
    out.push_str("</div>\n</section>\n");

    // Charts.
    let months: Vec<Month> = result.timeline.iter().map(|r| r.month).collect();
    out.push_str("<section id=\"charts\">\n<h2>Over time</h2>\n");
    let bands: Vec<Quantiles> = result.timeline.iter().map(|r| r.facility_gw).collect();
    let planned: Vec<f64> = result
        .timeline
        .iter()
        .map(|r| r.planned_facility_gw)
        .collect();
    figure(
        &mut out,
        "Facility power online",
        "Percentiles across samples, month by month (the median line is not one sample's path); dashed: the plan as written.",
        &fan_chart("fan-gw", "Facility power online", &months, &bands, &planned, &|v| gw(v)),
    );
    if result
        .timeline
        .iter()
        .all(|r| r.h100e.is_some() && r.planned_h100e.is_some())
    {
        let bands: Vec<Quantiles> = result.timeline.iter().filter_map(|r| r.h100e).collect();
        let planned: Vec<f64> = result
            .timeline
            .iter()
            .filter_map(|r| r.planned_h100e)
            .collect();
        figure(
            &mut out,
            "H100-equivalents online",
            "Dense BF16 FLOP/s online divided by the H100 SXM's; percentiles across samples.",
            &fan_chart(
                "fan-h100e",
                "H100-equivalents online",
                &months,
                &bands,
                &planned,
                &short_count,
            ),
        );
    }
    figure(
        &mut out,
        "Which deal matters most",
        &format!(
            "Median facility power at {} with one deal fixed at its worst (left, vermillion) or best (right, blue) outcome and everything else as sampled; the line is the median with every deal uncertain. Widest swing first.",
            result.tornado.month
        ),
        &tornado_chart(result),
    );
    out.push_str("</section>\n");

    // Tables.
    out.push_str("<section id=\"deals\">\n<h2>Deals</h2>\n<div class=\"table-wrap\" tabindex=\"0\"><table><thead><tr>\
                  <th>deal</th><th>status</th><th class=\"num\">proceed</th><th class=\"num\">cut (kept)</th><th class=\"num\">collapse</th>\
                  <th class=\"num\">delay (months)</th><th class=\"num\">ramp ×</th><th>drivers</th><th>from</th>\
                  <th class=\"num\">worst → best median</th></tr></thead><tbody>\n");
    for d in &result.deals {
        let bar = result.tornado.bars.iter().find(|b| b.deal == d.id);
        let _ = writeln!(
            out,
            "<tr><td><code>{}</code><br><span class=\"muted\">{}</span></td><td>{}{}</td><td class=\"num\">{:.2} <span class=\"muted\">({:.2})</span></td>\
             <td class=\"num\">{:.2} ({:.0}–{:.0}%) <span class=\"muted\">({:.2})</span></td><td class=\"num\">{:.2} <span class=\"muted\">({:.2})</span></td>\
             <td class=\"num\">P {:.2}: {}–{}–{}</td><td class=\"num\">{}–{}–{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td></tr>",
            escape(&d.id),
            escape(&d.name),
            escape(&d.status),
            d.status_as_of.as_deref().map(|s| format!(" <span class=\"muted\">as of {}</span>", escape(s))).unwrap_or_default(),
            d.odds.proceed,
            d.sampled.proceed,
            d.odds.cut,
            d.odds.cut_kept[0] * 100.0,
            d.odds.cut_kept[1] * 100.0,
            d.sampled.cut,
            d.odds.collapse,
            d.sampled.collapse,
            d.odds.delay,
            d.odds.delay_months[0],
            d.odds.delay_months[1],
            d.odds.delay_months[2],
            d.odds.ramp_factor[0],
            d.odds.ramp_factor[1],
            d.odds.ramp_factor[2],
            escape(&d.drivers.join(", ")),
            if d.outcomes_from == "status" { "status defaults" } else { "portfolio file" },
            bar.map(|b| format!("{} → {}", gw(b.worst_p50), gw(b.best_p50))).unwrap_or_default()
        );
    }
    out.push_str("</tbody></table></div>\n<p class=\"sub\">Assumed probabilities, with the sampled frequencies in brackets. Delay: P(delayed | not collapsed), then triangular min–mode–max months.</p>\n");
    if !result.drivers.is_empty() {
        out.push_str("<h3>Shared drivers</h3><div class=\"table-wrap\" tabindex=\"0\"><table><thead><tr><th>driver</th><th class=\"num\">weight</th><th>what</th><th>deals</th></tr></thead><tbody>");
        for d in &result.drivers {
            let _ = write!(
                out,
                "<tr><td><code>{}</code></td><td class=\"num\">{:.2}</td><td class=\"note\">{}</td><td>{}</td></tr>",
                escape(&d.id),
                d.weight,
                crate::html::prose(d.note.as_deref().unwrap_or("")),
                escape(&d.deals.join(", "))
            );
        }
        out.push_str("</tbody></table></div>\n");
    }
    out.push_str("</section>\n");

    if let Some(knowledge) = &result.knowledge {
        out.push_str(&crate::knowledge::html(knowledge));
    }
    out.push_str("<section id=\"yearly\">\n<h2>Year by year</h2>\n<div class=\"table-wrap\" tabindex=\"0\"><table><thead><tr><th>month</th><th class=\"num\">planned</th>\
                  <th class=\"num\">p5</th><th class=\"num\">p10</th><th class=\"num\">p50</th><th class=\"num\">p90</th><th class=\"num\">p95</th>\
                  <th class=\"num\">H100e p50</th><th class=\"num\">capex p50</th><th class=\"num\">financing p50</th></tr></thead><tbody>\n");
    for r in yearly(result) {
        let q = r.facility_gw;
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            r.month,
            gw(r.planned_facility_gw),
            gw(q.p5),
            gw(q.p10),
            gw(q.p50),
            gw(q.p90),
            gw(q.p95),
            r.h100e.map(|h| short_count(h.p50)).unwrap_or_else(|| "unknown".into()),
            fmt_usd(r.capex_usd.p50),
            fmt_usd(r.financing_usd.p50)
        );
    }
    out.push_str("</tbody></table></div>\n</section>\n");

    capability_table(&mut out, result);

    // Ledger.
    out.push_str("<section id=\"assumptions\">\n<h2>Assumptions</h2>\n<details><summary>");
    let _ = writeln!(
        out,
        "{} numbers, each with a source</summary><div class=\"table-wrap\" tabindex=\"0\"><table><thead><tr><th>name</th><th class=\"num\">value</th><th>unit</th><th>source</th><th>note</th></tr></thead><tbody>",
        result.assumptions.len()
    );
    for a in &result.assumptions {
        let _ = writeln!(
            out,
            "<tr><td><code>{}</code></td><td class=\"num\">{}</td><td>{}</td><td><a href=\"#src-{}\">{}</a></td><td class=\"note\">{}</td></tr>",
            escape(&a.name),
            escape(&trim_zeros(&format!("{:.6}", a.value))),
            escape(&a.unit),
            escape(&anchor(&a.source)),
            escape(&a.source),
            crate::html::prose(a.note.as_deref().unwrap_or(""))
        );
    }
    out.push_str("</tbody></table></div></details>\n<h3>Sources</h3><div class=\"table-wrap\" tabindex=\"0\"><table><thead><tr><th>id</th><th>title</th><th>kind</th><th>date</th></tr></thead><tbody>\n");
    for s in &result.sources {
        let title = if s.url.starts_with("https://") || s.url.starts_with("http://") {
            format!(
                "<a href=\"{}\" rel=\"noopener noreferrer\">{}</a>",
                escape(&s.url),
                crate::html::prose(&s.title)
            )
        } else {
            crate::html::prose(&s.title)
        };
        let _ = writeln!(
            out,
            "<tr id=\"src-{}\"><td><code>{}</code></td><td class=\"prose\">{title}</td><td>{}</td><td>{}</td></tr>",
            escape(&anchor(&s.id)),
            escape(&s.id),
            escape(&s.kind),
            escape(&s.date)
        );
    }
    out.push_str("</tbody></table></div>\n</section>\n<footer>\n<ul>\n");
    for n in &result.notes {
        let _ = writeln!(out, "<li>{}</li>", crate::html::prose(n));
    }
    let _ = writeln!(
        out,
        "</ul>\n<p>Produced by gigawatt {} (risk schema {}).</p>\n</footer>\n</main>\n</body>\n</html>",
        escape(&result.engine_version),
        result.schema_version
    );
    out
}

fn anchor(id: &str) -> String {
    id.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small(name: &str) -> RiskResult {
        let catalog = catalog::Catalog::embedded().unwrap();
        let plan = include_str!("../../../scenarios/openai-portfolio.toml");
        let text = format!("name = {name:?}\nscenario = \"openai-portfolio\"\n");
        let file = ::risk::parse("p.toml", &text).unwrap();
        let p = ::risk::build(&catalog, &file, "p.toml", &text, "plan.toml", plan).unwrap();
        let options = ::risk::RunOptions {
            samples: 200,
            seed: 1,
            at_least: Some((1.0, "2027-12".parse().unwrap())),
        };
        ::risk::run(&p, &options, &|_, _| {}).unwrap()
    }

    #[test]
    fn html_is_self_contained_escaped_and_deterministic() {
        let result = small("<script>alert('x')</script> & co");
        let html = risk_html(&result);
        assert!(!html.contains("<script>alert"), "names are escaped");
        assert!(html.contains("&lt;script&gt;"));
        assert!(html.contains("<svg") && html.contains("p10 to p90"));
        // Every table the terminal prints, the capability table included.
        if result.capability.is_some() {
            assert!(html.contains("What the capacity could train and serve"));
        }
        assert!(!html.contains("src=\"http"));
        assert_eq!(html, risk_html(&small("<script>alert('x')</script> & co")));
    }

    #[test]
    fn csv_has_a_row_per_month_and_text_names_the_tornado() {
        let result = small("csv");
        let csv = risk_csv(&result);
        assert_eq!(csv.lines().count(), result.timeline.len() + 1);
        let columns = csv.lines().next().unwrap().split(',').count();
        assert!(csv.lines().all(|l| l.split(',').count() == columns));
        let text = risk_text_summary(&result);
        assert!(text.contains("Which deal matters most"));
        assert!(text.contains("P(at least 1.00 GW online by the end of 2027-12)"));
    }
}
