//! The capability section of a plan report (terminal, Markdown, HTML): what the fleet can
//! train and serve each December. Simple markup; the layout's styling is the surfaces work's.

use std::fmt::Write;

use engine::capability::training::TrainingAnswer;
use engine::capability::{Capability, CapabilityMonth};
use units::{fmt_count, fmt_short_scale};

use crate::svg::escape;

/// Scientific notation for FLOP counts (beyond SI prefixes).
fn sci(value: f64) -> String {
    format!("{value:.2e}")
}

fn params(answer: &TrainingAnswer) -> String {
    match &answer.run {
        Some(run) if run.params > run.active_params * 1.001 => format!(
            "{} ({} active)",
            fmt_short_scale(run.params, ""),
            fmt_short_scale(run.active_params, "")
        ),
        Some(run) => fmt_short_scale(run.params, ""),
        None => "unknown".into(),
    }
}

fn optional(value: Option<f64>, format: impl Fn(f64) -> String) -> String {
    value.map_or_else(|| "unknown".into(), format)
}

/// One month's row: month, site, training accelerators, dense, MoE, MFU / goodput, FLOP/yr,
/// tokens/day.
fn row(m: &CapabilityMonth) -> [String; 8] {
    let run = m.largest_run.as_ref();
    let dense = run.and_then(|r| r.dense.run.as_ref());
    [
        m.month.to_string(),
        run.map_or("none online".into(), |r| {
            format!(
                "{} ({}){}",
                r.site,
                r.system,
                if r.cross_site { " cross-site" } else { "" }
            )
        }),
        run.map_or("0".into(), |r| fmt_count(r.training_accelerators)),
        run.map_or("-".into(), |r| params(&r.dense)),
        run.map_or("-".into(), |r| params(&r.moe)),
        dense.map_or("-".into(), |d| {
            format!("{:.0}% / {:.0}%", d.mfu * 100.0, d.goodput * 100.0)
        }),
        optional(m.training_flop_per_year, sci),
        optional(m.serving_tokens_per_day, |t| fmt_short_scale(t, "")),
    ]
}

const HEADERS: [&str; 8] = [
    "month",
    "largest site (system)",
    "training accel.",
    "dense model",
    "MoE model",
    "MFU / goodput",
    "train FLOP/yr",
    "tokens/day",
];

fn reasons(c: &Capability) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for m in &c.months {
        for reason in &m.unknown {
            let line = format!("{}: {reason}", m.month);
            if !out.iter().any(|r| r.ends_with(reason.as_str())) {
                out.push(line);
            }
        }
    }
    out
}

/// The terminal section.
pub fn text(c: &Capability) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Capability (largest run in {} days, {:.0}% of the fleet serving)",
        c.options.training_days,
        c.options.serving_share * 100.0
    );
    let _ = writeln!(
        out,
        "  {:<8} {:<34} {:>15} {:>16} {:>30} {:>13} {:>13} {:>16}",
        HEADERS[0],
        HEADERS[1],
        HEADERS[2],
        HEADERS[3],
        HEADERS[4],
        HEADERS[5],
        HEADERS[6],
        HEADERS[7]
    );
    for m in &c.months {
        let r = row(m);
        let _ = writeln!(
            out,
            "  {:<8} {:<34} {:>15} {:>16} {:>30} {:>13} {:>13} {:>16}",
            r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7]
        );
    }
    for s in &c.systems {
        let _ = writeln!(
            out,
            "  serving on {}: {} output tokens/s per accelerator for the reference mix",
            s.system,
            optional(s.serving_tokens_per_s_per_gpu, |r| format!("{r:.0}"))
        );
    }
    for reason in reasons(c) {
        let _ = writeln!(out, "  unknown: {reason}");
    }
    out
}

/// The Markdown section.
pub fn markdown(c: &Capability) -> String {
    let mut out = String::from("\n## Capability\n\n");
    let _ = writeln!(out, "| {} |", HEADERS.join(" | "));
    let _ = writeln!(out, "|---|---|---:|---:|---:|---:|---:|---:|");
    for m in &c.months {
        let cells: Vec<String> = row(m).iter().map(|c| crate::markdown::cell(c)).collect();
        let _ = writeln!(out, "| {} |", cells.join(" | "));
    }
    let _ = writeln!(
        out,
        "\n| system | tokens/s per accelerator (mix) | tokens/day per MW (latest month) |\n|---|---:|---:|"
    );
    for s in &c.systems {
        let per_mw = c
            .months
            .last()
            .and_then(|m| m.serving.iter().find(|x| x.system == s.system))
            .and_then(|x| x.tokens_per_day_per_mw);
        let _ = writeln!(
            out,
            "| {} | {} | {} |",
            crate::markdown::cell(&s.system),
            optional(s.serving_tokens_per_s_per_gpu, |r| format!("{r:.0}")),
            optional(per_mw, |t| fmt_short_scale(t, ""))
        );
    }
    out.push('\n');
    for note in c.notes.iter().chain(&reasons(c)) {
        let _ = writeln!(out, "- {}", crate::markdown::cell(note));
    }
    out
}

/// The HTML section.
pub fn html(c: &Capability) -> String {
    let mut out = String::from("<section id=\"capability\">\n<h2>Capability</h2>\n");
    out.push_str("<div class=\"table-wrap\" tabindex=\"0\"><table>\n<thead><tr>");
    for (i, h) in HEADERS.iter().enumerate() {
        let class = if i >= 2 { " class=\"num\"" } else { "" };
        let _ = write!(out, "<th{class}>{}</th>", escape(h));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for m in &c.months {
        out.push_str("<tr>");
        for (i, cell) in row(m).iter().enumerate() {
            let class = if i >= 2 { " class=\"num\"" } else { "" };
            let _ = write!(out, "<td{class}>{}</td>", escape(cell));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table></div>\n<ul>\n");
    for s in &c.systems {
        let _ = writeln!(
            out,
            "<li>Serving on {}: {} output tokens/s per accelerator for the reference mix.</li>",
            escape(&s.system),
            optional(s.serving_tokens_per_s_per_gpu, |r| format!("{r:.0}"))
        );
    }
    for note in c.notes.iter().chain(&reasons(c)) {
        let _ = writeln!(out, "<li>{}</li>", escape(note));
    }
    out.push_str("</ul>\n</section>\n");
    out
}
