//! Rendering the fleet serving view (`gigawatt infer fleet`): the monthly timeline as CSV, and
//! a self-contained HTML report in the look of the plan and risk reports (their stylesheet,
//! cards, tables and SVG charts) with the traffic and targets, headline figures, charts of
//! output tokens per second and cost per million output tokens by month, the best layout per
//! system type with where its decode step's time goes, and how the figures are computed.
//!
//! Pure functions from an [`engine::infer::FleetServing`] to text. Every piece of text that
//! comes from the input is escaped, and the same input gives the same bytes.

use std::fmt::Write as _;

use engine::infer::{FleetServing, FleetServingRow, InferResult};
use engine::PlanResult;
use units::{fmt_count, fmt_si, fmt_usd, Month};

use crate::html::{card, count_tick, describe, figure, gw, table_close, table_open, usd_tick};
use crate::svg::{self, escape, Chart, Series};

pub use crate::serving_step::{step_chart, step_parts};

/// The CSV header: one row per month follows.
pub const CSV_HEADER: &str = "month,facility_gw,accelerators,output_tokens_per_s,output_tokens_per_s_per_mw,usd_per_million_output_tokens";

/// The timeline as CSV: one row per month, the columns of [`CSV_HEADER`]. Numbers are written
/// in full (the shortest text that reads back to the same value); unknown values are empty.
pub fn fleet_csv(fleet: &FleetServing) -> String {
    let number = |v: f64| format!("{v}");
    let optional = |v: Option<f64>| v.map(number).unwrap_or_default();
    let mut out = String::with_capacity(64 * (fleet.timeline.len() + 1));
    out.push_str(CSV_HEADER);
    out.push('\n');
    for r in &fleet.timeline {
        let _ = writeln!(
            out,
            "{},{},{},{},{},{}",
            csv_field(&r.month),
            number(r.facility_gw),
            number(r.accelerators),
            optional(r.output_tokens_per_s),
            optional(r.output_tokens_per_s_per_mw),
            optional(r.usd_per_million_output_tokens)
        );
    }
    out
}

/// Quotes a field when it holds a comma, quote or line break (RFC 4180).
fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

// ---------------------------------------------------------------------------------------
// Number formats

/// A large count in words: `453 million`, `1.03 billion`; below a million with separators.
fn count_words(value: f64) -> String {
    for (scale, word) in [(1e12, "trillion"), (1e9, "billion"), (1e6, "million")] {
        if value.abs() >= scale * 0.9995 {
            return format!("{} {word}", fmt_si(value / scale, "").trim_end());
        }
    }
    fmt_count(value)
}

/// Dollars per million tokens, to a tenth of a cent below $10: `$0.415`, `$2.02`, `$12.3`.
fn usd_per_million(value: f64) -> String {
    let magnitude = value.abs();
    if !value.is_finite() || magnitude >= 1000.0 {
        fmt_usd(value)
    } else if magnitude >= 100.0 {
        format!("${value:.0}")
    } else if magnitude >= 10.0 {
        format!("${value:.1}")
    } else if magnitude >= 1.0 {
        format!("${value:.2}")
    } else {
        format!("${value:.3}")
    }
}

/// Seconds as milliseconds: `42.6 ms`, `0.35 ms`.
pub(crate) fn ms(seconds: f64) -> String {
    let v = seconds * 1e3;
    if v.abs() >= 1.0 || v == 0.0 {
        format!("{v:.1} ms")
    } else {
        format!("{v:.2} ms")
    }
}

/// A latency target in words: `50 ms`, `2 s`.
fn target(seconds: Option<f64>) -> String {
    match seconds {
        None => "none".into(),
        Some(s) if s < 1.0 => svg::trim_zeros(&format!("{:.3} ms", s * 1e3)),
        Some(s) => svg::trim_zeros(&format!("{s:.3} s")),
    }
}

/// A percentile without trailing zeros: `99`, `99.9`.
fn percentile(p: f64) -> String {
    svg::trim_zeros(&format!("{p:.3}"))
}

/// A share of the decode step: `69%`, `<1%`.
pub(crate) fn share(part: f64, whole: f64) -> String {
    if whole <= 0.0 || !part.is_finite() {
        return "—".into();
    }
    let p = 100.0 * part / whole;
    if p > 0.0 && p < 0.5 {
        "<1%".into()
    } else {
        format!("{p:.0}%")
    }
}

/// The capex life in years: `5`, `4.5`.
fn life(fleet: &FleetServing) -> String {
    svg::trim_zeros(&format!("{:.2}", fleet.life_years))
}

fn lower_debug(value: &impl std::fmt::Debug) -> String {
    format!("{value:?}").to_lowercase()
}

fn server_mode(fleet: &FleetServing) -> bool {
    lower_debug(&fleet.workload.mode) == "server"
}

// ---------------------------------------------------------------------------------------
// HTML

/// The fleet serving view as one self-contained HTML page. `plan` is the plan the view was
/// computed from (for its origin, description and versions) and `precision` the precision
/// asked for (each system falls back to bf16 where its chip lacks it).
pub fn fleet_html(fleet: &FleetServing, plan: &PlanResult, precision: &str) -> String {
    let mut out = String::with_capacity(64 * 1024);
    let scenario = if fleet.scenario.trim().is_empty() {
        "Untitled scenario"
    } else {
        fleet.scenario.as_str()
    };
    let title = format!("Serving {} on {scenario}", fleet.model);
    crate::html::page_open(&mut out, &plan.engine_version, &title, "infer fleet");
    header(&mut out, fleet, plan, &title);
    traffic(&mut out, fleet, precision);
    let serving = serving_rows(fleet);
    headline(&mut out, fleet);
    charts(&mut out, fleet, serving);
    systems(&mut out, fleet);
    yearly(&mut out, fleet, serving);
    method(&mut out, fleet);
    footer(&mut out, plan);
    out.push_str("</main>\n</body>\n</html>\n");
    out
}

/// The rows from the first month with accelerators online (every row if there is none): the
/// months before are construction, with nothing to serve.
fn serving_rows(fleet: &FleetServing) -> &[FleetServingRow] {
    let first = fleet
        .timeline
        .iter()
        .position(|r| r.accelerators > 0.0)
        .unwrap_or(0);
    &fleet.timeline[first..]
}

fn header(out: &mut String, fleet: &FleetServing, plan: &PlanResult, title: &str) {
    let s = &plan.scenario;
    let timeline = match (fleet.timeline.first(), fleet.timeline.last()) {
        (Some(first), Some(last)) => format!(
            "{} to {} ({} months)",
            first.month,
            last.month,
            fleet.timeline.len()
        ),
        _ => "none".into(),
    };
    crate::html::report_header(
        out,
        "gigawatt serving report",
        title,
        &s.description,
        &[
            ("Scenario", fleet.scenario.clone(), false),
            ("Origin", s.origin.clone(), false),
            ("Timeline", timeline, false),
            ("Input hash", s.input_hash.clone(), true),
            ("Engine version", plan.engine_version.clone(), true),
            ("Catalog version", plan.catalog_version.clone(), true),
        ],
    );
}

fn traffic(out: &mut String, fleet: &FleetServing, precision: &str) {
    let w = &fleet.workload;
    let server = server_mode(fleet);
    out.push_str("<section id=\"traffic\">\n<h2>Traffic and targets</h2>\n<dl class=\"meta\">\n");
    let fallback: Vec<String> = fleet
        .systems
        .iter()
        .filter_map(|s| s.best.as_ref())
        .map(|b| (b.system.clone(), lower_debug(&b.layout.precision)))
        .filter(|(_, used)| used != precision)
        .map(|(system, used)| format!("{used} on {system}"))
        .collect();
    let precision_text = if fallback.is_empty() {
        format!("{precision} (weights and matmuls)")
    } else {
        format!(
            "{precision} (weights and matmuls) where the chip has it: {}",
            fallback.join(", ")
        )
    };
    let rows = [
        ("Model", fleet.model.clone()),
        (
            "Request",
            format!(
                "{} input tokens, {} output tokens",
                fmt_count(w.input_tokens),
                fmt_count(w.output_tokens)
            ),
        ),
        ("TTFT target", target(w.ttft_slo_s)),
        ("TPOT target", target(w.tpot_slo_s)),
        (
            "Mode",
            if server {
                "server: requests arrive at random (Poisson) and the targets must hold".into()
            } else {
                "offline: throughput only, no latency target applies".into()
            },
        ),
        (
            "SLO percentile",
            if server {
                format!(
                    "p{}: the targets hold at this percentile of the sequences in flight",
                    percentile(w.slo_percentile)
                )
            } else {
                "not used (offline)".into()
            },
        ),
        (
            "Prefill",
            if w.disaggregated {
                "disaggregated: a separate prefill pool, sized to the decode pool".into()
            } else {
                "aggregated: chunked prefill inside the decode steps".into()
            },
        ),
        (
            "Batch limit",
            w.max_batch.map_or_else(
                || "none: the KV cache limits the batch".into(),
                |b| format!("{} sequences per attention rank", fmt_count(f64::from(b))),
            ),
        ),
        (
            "Speculative decoding",
            w.speculation.map_or_else(
                || "none".into(),
                |sp| {
                    format!(
                        "{} drafted token{} per sequence per step, each accepted with probability {}; drafting one costs {}",
                        sp.draft_tokens,
                        if sp.draft_tokens == 1 { "" } else { "s" },
                        svg::trim_zeros(&format!("{:.3}", sp.acceptance_rate)),
                        sp.draft_cost_fraction.map_or_else(
                            || "one extra layer (a multi-token-prediction module)".into(),
                            |f| format!(
                                "{} of a decode step",
                                svg::trim_zeros(&format!("{:.3}", f))
                            )
                        )
                    )
                },
            ),
        ),
        ("Precision", precision_text),
        (
            "Capex life",
            format!(
                "{life} years: a month's cost is capex to date / ({life} × 12) plus the month's opex",
                life = life(fleet)
            ),
        ),
    ];
    for (label, value) in rows {
        let _ = writeln!(out, "<dt>{label}</dt><dd>{}</dd>", escape(&value));
    }
    out.push_str("</dl>\n</section>\n");
}

fn headline(out: &mut String, fleet: &FleetServing) {
    let Some(last) = fleet.timeline.last() else {
        out.push_str("<section id=\"headline\">\n<h2>Headline figures</h2>\n<p class=\"muted\">The plan has no months.</p>\n</section>\n");
        return;
    };
    let _ = writeln!(
        out,
        "<section id=\"headline\">\n<h2>Headline figures</h2>\n\
         <p class=\"sub\">At the end of {} (the last month of the timeline), with every accelerator serving this traffic.</p>\n<div class=\"cards\">",
        escape(&last.month)
    );
    card(
        out,
        "Output tokens per second",
        last.output_tokens_per_s.map(count_words),
        &format!("{} accelerators online", fmt_count(last.accelerators)),
    );
    card(
        out,
        "Output tokens/s per MW",
        last.output_tokens_per_s_per_mw.map(fmt_count),
        &format!("of facility power ({} online)", gw(last.facility_gw)),
    );
    card(
        out,
        "Cost per million output tokens",
        last.usd_per_million_output_tokens.map(usd_per_million),
        &format!(
            "capex over {} years plus the month's opex, at full use",
            life(fleet)
        ),
    );
    let best = fleet
        .systems
        .iter()
        .filter_map(|s| s.best.as_ref())
        .max_by(|a, b| {
            a.output_tokens_per_s_per_gpu
                .total_cmp(&b.output_tokens_per_s_per_gpu)
        });
    card(
        out,
        "Best output tokens/s per accelerator",
        best.map(|b| fmt_count(b.output_tokens_per_s_per_gpu)),
        &best.map_or_else(
            || "no system type serves this model within the targets".into(),
            |b| {
                format!(
                    "{}, tp {} pp {} ep {}",
                    b.system, b.layout.tp, b.layout.pp, b.layout.ep
                )
            },
        ),
    );
    out.push_str("</div>\n</section>\n");
}

fn charts(out: &mut String, fleet: &FleetServing, rows: &[FleetServingRow]) {
    out.push_str("<section id=\"charts\">\n<h2>Over time</h2>\n");
    let months: Vec<Month> = rows.iter().filter_map(|r| r.month.parse().ok()).collect();
    if months.len() != rows.len() {
        out.push_str(
            "<p class=\"muted\">The timeline's months could not be read.</p>\n</section>\n",
        );
        return;
    }
    if let (Some(first), Some(start)) = (rows.first(), fleet.timeline.first()) {
        if first.month != start.month {
            let _ = writeln!(
                out,
                "<p class=\"sub\">From {}, the first month with accelerators online (the plan's timeline starts in {} with construction).</p>",
                escape(&first.month),
                escape(&start.month)
            );
        }
    }

    let tokens: Vec<Option<f64>> = rows.iter().map(|r| r.output_tokens_per_s).collect();
    if !tokens.iter().flatten().any(|v| *v > 0.0) {
        // Nothing to draw: say so rather than show empty axes.
        out.push_str(
            "<p class=\"muted\" id=\"no-charts\">No system type in the plan can serve this traffic in any month, so there is nothing to chart: the table below says why for each.</p>\n</section>\n",
        );
        return;
    }
    let tokens_value = |v: f64| format!("{} tokens/s", count_words(v));
    let description = describe(
        "Output tokens per second the fleet could serve",
        &months,
        &tokens,
        &tokens_value,
    );
    let chart = Chart {
        id: "chart-tokens",
        title: "Output tokens per second by month",
        description: &description,
        months: &months,
        tick_label: &count_tick,
        value_label: &tokens_value,
    };
    let series = [Series::indexed(0, "Output tokens/s", tokens)];
    figure(
        out,
        "Output tokens per second",
        "What the fleet online at the end of each month could serve, every accelerator on its system type's best layout (a gap where a system's rate is unknown).",
        &svg::line_chart(&chart, &series),
    );

    let cost: Vec<Option<f64>> = rows
        .iter()
        .map(|r| r.usd_per_million_output_tokens)
        .collect();
    let cost_value = |v: f64| format!("{} per million", usd_per_million(v));
    let description = describe(
        "Cost per million output tokens",
        &months,
        &cost,
        &cost_value,
    );
    let chart = Chart {
        id: "chart-cost",
        title: "Cost per million output tokens by month, US dollars",
        description: &description,
        months: &months,
        tick_label: &usd_tick,
        value_label: &cost_value,
    };
    let series = [Series::indexed(3, "$ per million output tokens", cost)];
    figure(
        out,
        "Cost per million output tokens",
        &format!(
            "Capex to date over {} years plus the month's opex, divided by the month's output tokens at full use.",
            life(fleet)
        ),
        &svg::line_chart(&chart, &series),
    );
    out.push_str("</section>\n");
}

/// Parts always tabled (the rest only where some system type's step has them).
const ALWAYS_TABLED: usize = 7;

fn systems(out: &mut String, fleet: &FleetServing) {
    out.push_str("<section id=\"systems\">\n<h2>Best layout per system type</h2>\n");
    if fleet.systems.is_empty() {
        out.push_str("<p class=\"muted\">The plan has no systems.</p>\n</section>\n");
        return;
    }
    out.push_str("<p class=\"sub\">For each system type in the plan, the layout (tensor, pipeline and expert parallel) with the most output tokens per second per accelerator that meets the targets.</p>\n");
    let pct = percentile(fleet.workload.slo_percentile);
    let server = server_mode(fleet);
    let (tpot_head, ttft_head) = if server {
        (
            format!("#TPOT mean (p{pct})"),
            format!("#TTFT mean (p{pct})"),
        )
    } else {
        ("#TPOT".to_string(), "#TTFT".to_string())
    };
    table_open(
        out,
        &[
            "System",
            "#TP",
            "#PP",
            "#EP",
            "Precision",
            "#Batch",
            "#Tokens/s per accelerator",
            &tpot_head,
            &ttft_head,
            "#KV cache",
            "#Weights",
        ],
    );
    for s in &fleet.systems {
        match &s.best {
            Some(b) => {
                let latency = |mean: f64, at: f64| {
                    if server {
                        format!("{} <span class=\"muted\">({})</span>", ms(mean), ms(at))
                    } else {
                        ms(mean)
                    }
                };
                let _ = writeln!(
                    out,
                    "<tr><td style=\"white-space:nowrap\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
                     <td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
                     <td class=\"num\">{:.1} GiB</td><td class=\"num\">{:.1} GiB</td></tr>",
                    escape(&s.system),
                    b.layout.tp,
                    b.layout.pp,
                    b.layout.ep,
                    escape(&lower_debug(&b.layout.precision)),
                    fmt_count(f64::from(b.batch)),
                    fmt_count(b.output_tokens_per_s_per_gpu),
                    latency(b.tpot_s, b.detail.tpot_at_percentile_s),
                    latency(b.ttft_s, b.detail.ttft_at_percentile_s),
                    b.kv_cache_gib,
                    b.weights_gib,
                );
            }
            None => {
                let _ = writeln!(
                    out,
                    "<tr><td style=\"white-space:nowrap\">{}</td><td colspan=\"10\" class=\"note\">not computed: {}</td></tr>",
                    escape(&s.system),
                    escape(s.reason.as_deref().unwrap_or("no reason given"))
                );
            }
        }
    }
    table_close(out);

    let best: Vec<&InferResult> = fleet
        .systems
        .iter()
        .filter_map(|s| s.best.as_ref())
        .collect();
    if best.is_empty() {
        out.push_str("</section>\n");
        return;
    }
    out.push_str("<h3>Where a decode step's time goes</h3>\n<p class=\"sub\">One decode step of one pipeline stage at the chosen batch: milliseconds, and the share of the step. Kernels run in sequence, so the step is the sum of the parts; with expert all-to-all overlapped, the EP part shows before overlap and counts only where it outlasts the compute it is paired with.</p>\n");
    let labelled: Vec<(String, &InferResult)> =
        best.iter().map(|r| (r.system.clone(), *r)).collect();
    let (chart, legend) = step_chart(&labelled);
    let _ = writeln!(out, "<figure>\n{chart}\n{legend}\n</figure>");
    let columns: Vec<usize> = (0..step_parts(best[0]).len())
        .filter(|&k| k < ALWAYS_TABLED || best.iter().any(|b| step_parts(b)[k].1 > 0.0))
        .collect();
    let mut headers: Vec<String> = vec!["System".into(), "#Step".into()];
    headers.extend(
        columns
            .iter()
            .map(|&k| format!("#{}", step_parts(best[0])[k].0)),
    );
    headers.push("GEMMs limited by".into());
    let headers: Vec<&str> = headers.iter().map(String::as_str).collect();
    table_open(out, &headers);
    for b in &best {
        let d = &b.detail.decode_step;
        let _ = write!(
            out,
            "<tr><td style=\"white-space:nowrap\">{}</td><td class=\"num\">{}</td>",
            escape(&b.system),
            ms(d.step_s)
        );
        let parts = step_parts(b);
        for part in columns.iter().map(|&k| parts[k].1) {
            let _ = write!(
                out,
                "<td class=\"num\">{}<br><span class=\"muted\">{}</span></td>",
                ms(part),
                share(part, d.step_s)
            );
        }
        let _ = writeln!(
            out,
            "<td>{}</td></tr>",
            if d.gemm_memory_bound {
                "memory (streaming weights)"
            } else {
                "matmul throughput"
            }
        );
    }
    table_close(out);
    out.push_str("</section>\n");
}

fn yearly(out: &mut String, fleet: &FleetServing, rows: &[FleetServingRow]) {
    out.push_str("<section id=\"timeline\">\n<h2>Month by month</h2>\n");
    if rows.is_empty() {
        out.push_str("<p class=\"muted\">The plan has no months.</p>\n</section>\n");
        return;
    }
    let skipped = fleet.timeline.len() - rows.len();
    if skipped > 0 {
        let _ = writeln!(
            out,
            "<p class=\"sub\">Each December and the last month; every month below. The {skipped} months before {} have no accelerators online and are left out (the CSV has every month).</p>",
            escape(&rows[0].month)
        );
    } else {
        out.push_str("<p class=\"sub\">Each December and the last month; every month below.</p>\n");
    }
    let headers = [
        "Month",
        "#Facility power",
        "#Accelerators",
        "#Output tokens/s",
        "#Tokens/s per MW",
        "#$ per million output tokens",
    ];
    let row_html = |r: &FleetServingRow| {
        format!(
            "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>\n",
            escape(&r.month),
            gw(r.facility_gw),
            fmt_count(r.accelerators),
            r.output_tokens_per_s.map_or_else(|| "unknown".into(), fmt_count),
            r.output_tokens_per_s_per_mw.map_or_else(|| "—".into(), fmt_count),
            r.usd_per_million_output_tokens
                .map_or_else(|| "—".into(), usd_per_million),
        )
    };
    table_open(out, &headers);
    let last = rows.len() - 1;
    for (i, r) in rows.iter().enumerate() {
        if r.month.ends_with("-12") || i == last {
            out.push_str(&row_html(r));
        }
    }
    table_close(out);
    out.push_str("<details>\n<summary>Every month</summary>\n");
    table_open(out, &headers);
    for r in rows {
        out.push_str(&row_html(r));
    }
    table_close(out);
    out.push_str("</details>\n</section>\n");
}

fn method(out: &mut String, fleet: &FleetServing) {
    let _ = writeln!(
        out,
        "<section id=\"method\">\n<h2>How this is computed</h2>\n<ul>\n\
         <li>Each system type in the plan gets its best layout: the tensor, pipeline and expert parallel split with the most output tokens per second per accelerator that meets the targets, at the asked precision where the chip has it, else bf16.</li>\n\
         <li>Each month, the fleet's output tokens per second is every online accelerator at its system type's best rate; a system type with no rate makes the month unknown.</li>\n\
         <li>Tokens per second per MW divides by the facility power online (cooling and losses included).</li>\n\
         <li>Cost per million output tokens is capex to date spread over {} years, plus the month's opex (energy and the rest), divided by the output tokens the month could serve.</li>\n\
         <li>At full use: every accelerator serves this traffic all month, with no idle time, no headroom and no other work.</li>\n\
         <li>Speculative decoding counts only where the traffic sets it (drafted tokens and their acceptance rate).</li>\n\
         </ul>\n<p><strong>Not modelled:</strong> expert load imbalance, prefix caching, scheduler overheads, the spread of request lengths (means only), and queueing beyond the percentile of sequences in flight.</p>\n</section>",
        escape(&life(fleet))
    );
}

fn footer(out: &mut String, plan: &PlanResult) {
    let _ = writeln!(
        out,
        "<footer>\n<p>Produced by gigawatt {} from <strong>{}</strong> (input <code>{}</code>, catalog <code>{}</code>) with <code>gigawatt infer fleet</code>: \
         the plan's month-by-month buildout and the serving model of <code>gigawatt infer search</code>. The same input gives the same report.</p>\n</footer>",
        escape(&plan.engine_version),
        escape(&plan.scenario.origin),
        escape(&plan.scenario.input_hash),
        escape(&plan.catalog_version),
    );
}

#[cfg(test)]
#[path = "serving_tests.rs"]
mod tests;
