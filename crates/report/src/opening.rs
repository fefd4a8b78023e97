//! What every plan output opens with (issue 16): the quotable sentences, the ranges beside the
//! central values with the tornado of their drivers, the per-GW ratios and the known sites; and
//! what it closes with (hashes and versions). The words come from `engine::opening`; this module
//! only lays them out for the terminal, Markdown and HTML.

use std::fmt::Write;

use engine::ranges::{Ranges, Spread};
use engine::PlanResult;
use units::{fmt_count, fmt_energy_twh, fmt_power_w, fmt_usd, W_PER_GW};

/// A headline: its ranges key, its label and how to format it.
struct Headline {
    key: &'static str,
    label: &'static str,
    fmt: fn(f64) -> String,
}

fn twh(x: f64) -> String {
    fmt_energy_twh(x)
}

fn gw(x: f64) -> String {
    fmt_power_w(x * W_PER_GW)
}

const HEADLINES: [Headline; 7] = [
    Headline {
        key: "accelerators",
        label: "Accelerators",
        fmt: fmt_count,
    },
    Headline {
        key: "h100e",
        label: "H100-equivalents",
        fmt: fmt_count,
    },
    Headline {
        key: "facility_gw",
        label: "Facility power",
        fmt: gw,
    },
    Headline {
        key: "capex_usd",
        label: "Capex to date",
        fmt: fmt_usd,
    },
    Headline {
        key: "energy_twh_per_year",
        label: "Energy per year",
        fmt: twh,
    },
    Headline {
        key: "accelerators_per_facility_gw",
        label: "Accelerators per facility GW",
        fmt: fmt_count,
    },
    Headline {
        key: "capex_usd_per_facility_gw",
        label: "Capex per facility GW",
        fmt: fmt_usd,
    },
];

/// The central value of a headline, from the totals.
fn central(result: &PlanResult, key: &str) -> Option<f64> {
    engine::ranges::headline_values(&result.totals)
        .into_iter()
        .find(|(k, _)| *k == key)
        .and_then(|(_, v)| v)
}

/// A ranges table row: label, central value, spread and how to format it.
type RangeRow = (String, String, Spread, fn(f64) -> String);

fn rows<'a>(result: &'a PlanResult, ranges: &'a Ranges) -> impl Iterator<Item = RangeRow> + 'a {
    let headlines = HEADLINES.iter().filter_map(move |h| {
        let spread = *ranges.headlines.get(h.key)?;
        let value = central(result, h.key).map_or("unknown".into(), h.fmt);
        Some((h.label.to_string(), value, spread, h.fmt))
    });
    headlines.chain(capability_rows(result, ranges))
}

fn flop(x: f64) -> String {
    format!("{x:.2e}")
}

/// The capability measures' ranges (widened by the models' errors), labelled with their month
/// and the share of draws that know them where some do not.
fn capability_rows(result: &PlanResult, ranges: &Ranges) -> Vec<RangeRow> {
    let (Some(c), Some(month)) = (
        ranges.capability.as_ref(),
        result.capability.as_ref().and_then(|c| c.months.last()),
    ) else {
        return Vec::new();
    };
    let central = month.measures();
    let quotable: fn(f64) -> String = engine::opening::quotable;
    // (ranges key, label, spread, central value, format)
    type Measure<'a> = (
        &'a str,
        &'a str,
        Option<Spread>,
        Option<f64>,
        fn(f64) -> String,
    );
    let rows: [Measure; 4] = [
        (
            "dense_params",
            "Dense model params",
            c.dense_params,
            central.dense_params,
            quotable,
        ),
        (
            "moe_params",
            "MoE model params",
            c.moe_params,
            central.moe_params,
            quotable,
        ),
        (
            "training_flop_per_year",
            "Training FLOP/yr",
            c.training_flop_per_year,
            central.flop_per_year,
            flop,
        ),
        (
            "serving_tokens_per_day",
            "Tokens/day served",
            c.serving_tokens_per_day,
            central.tokens_per_day,
            quotable,
        ),
    ];
    rows.into_iter()
        .filter_map(|(key, label, spread, value, fmt)| {
            let known = c.known_share.get(key).copied().unwrap_or(1.0);
            let label = if known < 1.0 {
                format!("{label}, {} ({:.0}% known)", c.month, known * 100.0)
            } else {
                format!("{label}, {}", c.month)
            };
            Some((label, value.map_or("unknown".into(), fmt), spread?, fmt))
        })
        .collect()
}

/// Wraps a paragraph at `width` columns, indented by `indent`.
fn wrap(text: &str, width: usize, indent: &str) -> String {
    let mut out = String::new();
    let mut line = String::from(indent);
    for word in text.split_whitespace() {
        if line.len() > indent.len() && line.len() + 1 + word.len() > width {
            out += line.trim_end();
            out.push('\n');
            line = String::from(indent);
        }
        if line.len() > indent.len() {
            line.push(' ');
        }
        line += word;
    }
    out += line.trim_end();
    out
}

/// Whether the plan's financing depends on a deal that is not in force.
pub fn financing_is_conditional(result: &PlanResult) -> bool {
    result.totals.financing_usd > 0.0 && result.deals.iter().any(|d| d.status != "in-force")
}

/// The label for financing in tables.
pub fn financing_label(result: &PlanResult) -> &'static str {
    if financing_is_conditional(result) {
        "Financing, if the deal proceeds as written"
    } else {
        "Financing received"
    }
}

/// The terminal's opening: sentences, ranges with their drivers, per-GW ratios and sites.
pub fn text(result: &PlanResult) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}\n", wrap(&result.opening.text, 96, ""));
    if let Some(ranges) = &result.ranges {
        let _ = writeln!(
            out,
            "Ranges at {} ({} draws of {} ranged figures, seed {}; --no-ranges skips)",
            result.totals.month,
            ranges.draws,
            ranges.sampled.len(),
            ranges.seed
        );
        let _ = writeln!(
            out,
            "  {:<30} {:>14} {:>14} {:>14} {:>14}",
            "", "central", "p10", "p50", "p90"
        );
        for (label, value, s, fmt) in rows(result, ranges) {
            let _ = writeln!(
                out,
                "  {label:<30} {value:>14} {:>14} {:>14} {:>14}",
                fmt(s.p10),
                fmt(s.p50),
                fmt(s.p90)
            );
        }
        if !ranges.tornado.is_empty() {
            let _ = writeln!(
                out,
                "  What drives the spread (each figure low -> high, others central):"
            );
            for d in &ranges.tornado {
                let acc = d.headlines.get("accelerators");
                let capex = d.headlines.get("capex_usd");
                let _ = writeln!(
                    out,
                    "    {:<44} {} to {}: accelerators {}, capex {}, energy/yr {}",
                    d.name,
                    units::fmt_number(d.low),
                    units::fmt_number(d.high),
                    acc.map_or("-".into(), |[l, h]| format!(
                        "{} to {}",
                        fmt_count(*l),
                        fmt_count(*h)
                    )),
                    capex.map_or("-".into(), |[l, h]| format!(
                        "{} to {}",
                        fmt_usd(*l),
                        fmt_usd(*h)
                    )),
                    d.headlines
                        .get("energy_twh_per_year")
                        .map_or("-".into(), |[l, h]| format!("{} to {}", twh(*l), twh(*h))),
                );
            }
        }
        let _ = writeln!(out);
    }
    let c = &result.comparison;
    if c.facility_gw > 0.0 {
        let _ = writeln!(
            out,
            "Per facility GW: {} accelerators, {} of capex, {} a year",
            c.accelerators_per_gw.map_or("-".into(), fmt_count),
            c.capex_usd_per_gw.map_or("-".into(), fmt_usd),
            c.energy_twh_per_year_per_gw.map_or("-".into(), twh)
        );
    }
    if !c.known_sites.is_empty() {
        let _ = writeln!(
            out,
            "Known sites (reported accelerators per GW; what the power stack predicts):"
        );
        for s in &c.known_sites {
            let _ = writeln!(
                out,
                "  {:<20} {:<16} {:>9} {:<9} {:>9} per GW  (power stack predicts {} per GW)",
                s.site,
                s.system,
                gw(s.gw),
                s.basis,
                fmt_count(s.accelerators_per_gw),
                fmt_count(s.predicted_accelerators / s.gw)
            );
        }
    }
    out
}

/// The footer line: hashes and versions.
pub fn footer_line(result: &PlanResult) -> String {
    let s = &result.scenario;
    format!(
        "scenario {} (input {}) | engine {} | catalog {} | schema {} | timeline {} to {}",
        s.origin,
        s.input_hash,
        result.engine_version,
        result.catalog_version,
        result.schema_version,
        s.first_month,
        s.end_month
    )
}

/// Markdown: the opening paragraph, ranges table, tornado, per-GW and sites.
pub fn markdown(result: &PlanResult, cell: fn(&str) -> String) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}\n", cell(&result.opening.text));
    if let Some(ranges) = &result.ranges {
        let _ = writeln!(
            out,
            "## Ranges at {}\n\n{} draws of {} ranged catalog figures (seed {}): triangular between each figure's `low` and `high`, the catalog value most likely.\n",
            result.totals.month,
            ranges.draws,
            ranges.sampled.len(),
            ranges.seed
        );
        let _ = writeln!(
            out,
            "| measure | central | p10 | p50 | p90 |\n|---|---:|---:|---:|---:|"
        );
        for (label, value, s, fmt) in rows(result, ranges) {
            let _ = writeln!(
                out,
                "| {label} | {value} | {} | {} | {} |",
                fmt(s.p10),
                fmt(s.p50),
                fmt(s.p90)
            );
        }
        if !ranges.tornado.is_empty() {
            let _ = writeln!(
                out,
                "\nWhat drives the spread (each figure from low to high, the others central):\n"
            );
            let _ = writeln!(
                out,
                "| figure | low | high | accelerators | capex |\n|---|---:|---:|---:|---:|"
            );
            for d in &ranges.tornado {
                let pair = |k: &str, f: fn(f64) -> String| {
                    d.headlines
                        .get(k)
                        .map_or("-".into(), |[l, h]| format!("{} to {}", f(*l), f(*h)))
                };
                let _ = writeln!(
                    out,
                    "| `{}` | {} | {} | {} | {} |",
                    d.name,
                    units::fmt_number(d.low),
                    units::fmt_number(d.high),
                    pair("accelerators", fmt_count),
                    pair("capex_usd", fmt_usd)
                );
            }
        }
        let _ = writeln!(out);
    }
    let c = &result.comparison;
    if !c.known_sites.is_empty() {
        let _ = writeln!(
            out,
            "## Per GW, beside known sites\n\nThis plan: {} accelerators, {} of capex and {} a year per facility GW.\n",
            c.accelerators_per_gw.map_or("-".into(), fmt_count),
            c.capex_usd_per_gw.map_or("-".into(), fmt_usd),
            c.energy_twh_per_year_per_gw.map_or("-".into(), twh)
        );
        let _ = writeln!(out, "| site | operator | system | GW (basis) | accelerators reported | per GW | power stack predicts per GW |\n|---|---|---|---:|---:|---:|---:|");
        for s in &c.known_sites {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} ({}) | {} | {} | {} |",
                s.site,
                cell(&s.operator),
                s.system,
                gw(s.gw),
                s.basis,
                fmt_count(s.accelerators),
                fmt_count(s.accelerators_per_gw),
                fmt_count(s.predicted_accelerators / s.gw)
            );
        }
        let _ = writeln!(out);
    }
    out
}

/// HTML: the opening paragraph, then the ranges and sites as plain tables in scroll frames.
pub fn html(result: &PlanResult, esc: fn(&str) -> String) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "<p class=\"opening\">{}</p>",
        esc(&result.opening.text)
    );
    if let Some(ranges) = &result.ranges {
        let _ = writeln!(
            out,
            "<h2>Ranges at {}</h2>\n<p>{} draws of {} ranged catalog figures (seed {}): triangular between each figure's low and high, the catalog value most likely. The central values are the plan's totals.</p>",
            esc(&result.totals.month.to_string()),
            ranges.draws,
            ranges.sampled.len(),
            ranges.seed
        );
        let _ = writeln!(out, "<div class=\"table-wrap\" tabindex=\"0\"><table><thead><tr><th>measure</th><th>central</th><th>p10</th><th>p50</th><th>p90</th></tr></thead><tbody>");
        for (label, value, s, fmt) in rows(result, ranges) {
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
                esc(&label),
                esc(&value),
                esc(&fmt(s.p10)),
                esc(&fmt(s.p50)),
                esc(&fmt(s.p90))
            );
        }
        let _ = writeln!(out, "</tbody></table></div>");
        if !ranges.tornado.is_empty() {
            let _ = writeln!(out, "<h3>What drives the spread</h3>\n<div class=\"table-wrap\" tabindex=\"0\"><table><thead><tr><th>figure</th><th>low</th><th>high</th><th>accelerators</th><th>capex</th></tr></thead><tbody>");
            for d in &ranges.tornado {
                let pair = |k: &str, f: fn(f64) -> String| {
                    d.headlines
                        .get(k)
                        .map_or("-".into(), |[l, h]| format!("{} to {}", f(*l), f(*h)))
                };
                let _ = writeln!(
                    out,
                    "<tr><td><code>{}</code></td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
                    esc(&d.name),
                    esc(&units::fmt_number(d.low)),
                    esc(&units::fmt_number(d.high)),
                    esc(&pair("accelerators", fmt_count)),
                    esc(&pair("capex_usd", fmt_usd))
                );
            }
            let _ = writeln!(out, "</tbody></table></div>");
        }
    }
    let c = &result.comparison;
    if !c.known_sites.is_empty() {
        let _ = writeln!(
            out,
            "<h2>Per GW, beside known sites</h2>\n<p>This plan: {} accelerators, {} of capex and {} a year per facility GW.</p>",
            esc(&c.accelerators_per_gw.map_or("-".into(), fmt_count)),
            esc(&c.capex_usd_per_gw.map_or("-".into(), fmt_usd)),
            esc(&c.energy_twh_per_year_per_gw.map_or("-".into(), twh))
        );
        let _ = writeln!(out, "<div class=\"table-wrap\" tabindex=\"0\"><table><thead><tr><th>site</th><th>operator</th><th>system</th><th>GW (basis)</th><th>accelerators reported</th><th>per GW</th><th>power stack predicts per GW</th></tr></thead><tbody>");
        for s in &c.known_sites {
            let _ = writeln!(
                out,
                "<tr><td><code>{}</code></td><td>{}</td><td><code>{}</code></td><td class=\"num\">{} ({})</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
                esc(&s.site),
                esc(&s.operator),
                esc(&s.system),
                esc(&gw(s.gw)),
                esc(&s.basis),
                esc(&fmt_count(s.accelerators)),
                esc(&fmt_count(s.accelerators_per_gw)),
                esc(&fmt_count(s.predicted_accelerators / s.gw))
            );
        }
        let _ = writeln!(out, "</tbody></table></div>");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::wrap;

    #[test]
    fn wrap_breaks_between_words() {
        assert_eq!(wrap("aa bb cc", 5, ""), "aa bb\ncc");
        assert_eq!(wrap("aa", 5, "  "), "  aa");
    }
}
