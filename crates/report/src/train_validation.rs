//! `gigawatt train validate -f html`: the training model against published runs as one
//! self-contained page: the headline out of sample with the in-sample figure beside it, a
//! chart of every compared row's error by source family against the ±8% family target, each
//! accuracy target, the families, the rows by system and by precision, and every row.

use std::fmt::Write as _;

use engine::train_validate::TrainingValidation;
use perf::validate::{RowResult, Status};

use crate::html::{card, figure, page_open, report_header};
use crate::html_tables::{prose, table_close, table_open};
use crate::svg::{coord, escape, open_svg, palette};

/// A family's in-sample MAE target (issue 12), drawn as the chart's band.
const FAMILY_TARGET: f64 = 0.08;

/// Chart geometry, SVG user units (the SVG scales to its container).
const WIDTH: f64 = 900.0;
const LEFT: f64 = 60.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 14.0;
const PLOT_HEIGHT: f64 = 320.0;
/// Room under the plot for the family names, alternately on two lines so long ids never
/// collide.
const X_AXIS_HEIGHT: f64 = 72.0;

/// Errors beyond this are drawn at the edge with their value in the tooltip (the worst rows
/// would otherwise squeeze every other row into a few pixels).
const CLIP: f64 = 0.40;

fn pct(x: f64) -> String {
    format!("{:.1}%", 100.0 * x)
}

fn signed_pct(x: Option<f64>) -> String {
    x.map_or("-".into(), |x| format!("{:+.1}%", 100.0 * x))
}

/// The page.
pub fn training_validation_html(v: &TrainingValidation, engine_version: &str) -> String {
    let r = &v.report;
    let mut out = String::with_capacity(256 * 1024);
    let title = format!(
        "Training step time against {} published runs",
        r.in_sample.n
    );
    page_open(&mut out, engine_version, &title, "train validate");
    report_header(
        &mut out,
        "gigawatt training validation",
        &title,
        "Every published training run in the calibration files, predicted by the step-time model \
         and compared with what its publisher measured. The headline is out of sample: each \
         source family predicted with the constants fitted without it.",
        &[
            ("Files", v.files.join(", "), true),
            ("Rows", r.coverage.rows.to_string(), false),
            ("Compared", r.in_sample.n.to_string(), false),
            ("Engine", engine_version.to_string(), true),
        ],
    );
    headline(&mut out, v);
    chart(&mut out, v);
    targets(&mut out, v);
    families(&mut out, v);
    groups(&mut out, v);
    rows(&mut out, v);
    let _ = writeln!(
        out,
        "<footer>\n<p>Produced by gigawatt {}. Reproduce: <code>gigawatt train validate</code> \
         (<code>-f json</code> for every field, <code>-f csv</code> for one line per row, \
         <code>--row TEXT</code> for where a row's step goes).</p>\n</footer>",
        escape(engine_version)
    );
    out.push_str("</main>\n</body>\n</html>\n");
    out
}

fn headline(out: &mut String, v: &TrainingValidation) {
    let r = &v.report;
    let lbo = &r.leave_blackwell_out;
    out.push_str("<section aria-labelledby=\"headline-title\">\n<h2 id=\"headline-title\">How far off</h2>\n<div class=\"cards\">\n");
    card(
        out,
        "Left out (leave one source out)",
        Some(pct(r.loso.mae)),
        &format!(
            "mean absolute error over {} rows; median {}, p90 {}; {} with other publications \
             ({:.0}% interval, the {} source families resampled), {} refitting the constants \
             in every draw",
            r.loso.n,
            pct(r.loso.median),
            pct(r.loso.p90),
            r.uncertainty.loso.percent_text(),
            100.0 * r.uncertainty.level,
            r.uncertainty.families,
            r.uncertainty.refitted.loso.percent_text()
        ),
    );
    card(
        out,
        "In sample",
        Some(pct(r.in_sample.mae)),
        &format!(
            "with the shipped constants; {} refitted on every row; {} with other publications \
             ({} refitting in every draw)",
            pct(r.refit.stats.mae),
            r.uncertainty.in_sample.percent_text(),
            r.uncertainty.refitted.in_sample.percent_text()
        ),
    );
    card(
        out,
        "Blackwell left out",
        Some(pct(lbo.stats.mae)),
        &format!(
            "{} Blackwell rows predicted from {} A100/H100 rows; {} with other publications \
             ({} refitting in every draw)",
            lbo.stats.n,
            lbo.fit_rows,
            r.uncertainty.leave_blackwell_out.percent_text(),
            r.uncertainty.refitted.leave_blackwell_out.percent_text()
        ),
    );
    card(
        out,
        "Targets met",
        Some(format!("{} of {}", r.targets.met, r.targets.checks.len())),
        "issue 12's accuracy targets, each below",
    );
    out.push_str("</div>\n</section>\n");
}

fn targets(out: &mut String, v: &TrainingValidation) {
    let t = &v.report.targets;
    out.push_str(
        "<section aria-labelledby=\"targets-title\">\n<h2 id=\"targets-title\">Targets</h2>\n",
    );
    table_open(out, &["Target", "#MAE", "#At most", "Met"]);
    let mut checks: Vec<_> = t.checks.iter().collect();
    // Unmet first, as the terminal table prints them.
    checks.sort_by_key(|c| c.met);
    for c in checks {
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
            prose(&c.name),
            pct(c.measured),
            pct(c.limit),
            if c.met {
                "met"
            } else {
                "<strong>unmet</strong>"
            }
        );
    }
    table_close(out);
    out.push_str("</section>\n");
}

/// Each family with compared rows, with its in-sample MAE (the report's own figure) and those
/// rows, in the report's family order.
fn compared_by_family(v: &TrainingValidation) -> Vec<(&str, f64, Vec<&RowResult>)> {
    v.report
        .families
        .iter()
        .map(|f| {
            let rows: Vec<&RowResult> = v
                .report
                .rows
                .iter()
                .filter(|r| r.family == f.id && r.status == Status::Compared && r.error.is_some())
                .collect();
            (f.id.as_str(), f.in_sample.mae, rows)
        })
        .filter(|(_, _, rows)| !rows.is_empty())
        .collect()
}

/// Every compared row's in-sample error as a dot in its family's column, the family's MAE as
/// a bar, and the ±8% band of the family target; errors past ±40% sit at the edge.
fn chart(out: &mut String, v: &TrainingValidation) {
    let groups = compared_by_family(v);
    let plot_width = WIDTH - LEFT - RIGHT;
    let column = plot_width / groups.len().max(1) as f64;
    let y = |error: f64| TOP + PLOT_HEIGHT * (CLIP - error.clamp(-CLIP, CLIP)) / (2.0 * CLIP);
    let height = TOP + PLOT_HEIGHT + X_AXIS_HEIGHT;
    let mut svg = String::new();
    open_svg(
        &mut svg,
        "errors",
        "Error of every compared row, by source family",
        "Predicted over measured step time minus one, in sample, one dot per row; the bar is the \
         family's mean absolute error; the shaded band is the family target of plus or minus 8%.",
        WIDTH,
        height,
    );
    svg.push('\n');
    let _ = writeln!(
        svg,
        "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"#009E73\" fill-opacity=\"0.10\"/>",
        coord(LEFT),
        coord(y(FAMILY_TARGET)),
        coord(plot_width),
        coord(y(-FAMILY_TARGET) - y(FAMILY_TARGET))
    );
    for tick in [-0.4, -0.3, -0.2, -0.1, 0.0, 0.1, 0.2, 0.3, 0.4] {
        let _ = writeln!(
            svg,
            "<line x1=\"{}\" x2=\"{}\" y1=\"{ty}\" y2=\"{ty}\" stroke=\"{}\" stroke-width=\"1\"/>\
             <text x=\"{}\" y=\"{}\" text-anchor=\"end\" fill=\"#5b6474\">{:+.0}%</text>",
            coord(LEFT),
            coord(WIDTH - RIGHT),
            // The zero line darker than the grid (the dark scheme re-colours the grid).
            if tick == 0.0 { "#8a93a3" } else { "#e6e9ef" },
            coord(LEFT - 6.0),
            coord(y(tick) + 4.0),
            100.0 * tick,
            ty = coord(y(tick)),
        );
    }
    for (i, (family, mae, rows)) in groups.iter().enumerate() {
        let mae = *mae;
        let left = LEFT + column * i as f64;
        let centre = left + column / 2.0;
        let color = palette(i);
        for (k, row) in rows.iter().enumerate() {
            let error = row.error.unwrap_or(0.0);
            // Spread the dots across 70% of the column by the golden ratio: deterministic, and
            // neighbours in file order land apart.
            let spread = ((k as f64 * 0.618_033_988_75).fract() - 0.5) * 0.7 * column;
            // A row past the edge is drawn hollow there.
            let paint = if error.abs() > CLIP {
                format!("fill=\"#fff\" stroke=\"{color}\" stroke-width=\"2\"")
            } else {
                format!("fill=\"{color}\" fill-opacity=\"0.75\"")
            };
            let _ = writeln!(
                svg,
                "<circle cx=\"{}\" cy=\"{}\" r=\"3.5\" {paint}><title>{}: measured {:.3} s, predicted {:.3} s, error {} in sample, {} left out{}</title></circle>",
                coord(centre + spread),
                coord(y(error)),
                escape(&row.id),
                row.measured_step_time_s.unwrap_or(0.0),
                row.predicted_step_time_s.unwrap_or(0.0),
                signed_pct(row.error),
                signed_pct(row.loso_error),
                if error.abs() > CLIP { " (drawn at the edge)" } else { "" }
            );
        }
        for sign in [1.0, -1.0] {
            let _ = writeln!(
                svg,
                "<line x1=\"{}\" x2=\"{}\" y1=\"{my}\" y2=\"{my}\" stroke=\"#1d2330\" stroke-width=\"2\"><title>{}: mean absolute error {} over {} rows</title></line>",
                coord(centre - 0.4 * column),
                coord(centre + 0.4 * column),
                escape(family),
                pct(mae),
                rows.len(),
                my = coord(y(sign * mae)),
            );
        }
        let label_y = TOP + PLOT_HEIGHT + 18.0 + if i % 2 == 1 { 30.0 } else { 0.0 };
        let _ = writeln!(
            svg,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"11\">{}</text>\
             <text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"11\" fill=\"#5b6474\">{} · {} rows</text>",
            coord(centre),
            coord(label_y),
            escape(family),
            coord(centre),
            coord(label_y + 14.0),
            pct(mae),
            rows.len()
        );
    }
    svg.push_str("</svg>");
    figure(
        out,
        "Every compared row's error, by source family",
        "Predicted over measured step time, minus one, with the shipped constants; below zero the model is too fast. \
         Bars: each family's mean absolute error (plus and minus); green band: the ±8% family target. \
         Errors past ±40% are drawn hollow at the edge. Hover a dot for its row.",
        &svg,
    );
}

fn families(out: &mut String, v: &TrainingValidation) {
    out.push_str("<section aria-labelledby=\"families-title\">\n<h2 id=\"families-title\">Source families</h2>\n");
    table_open(
        out,
        &[
            "Family",
            "Publication",
            "Framework",
            "#Rows",
            "#Compared",
            "#MAE in sample",
            "#MAE left out",
            "#Bias",
        ],
    );
    for f in &v.report.families {
        let (mae, bias) = if f.in_sample.n == 0 {
            ("-".to_string(), "-".to_string())
        } else {
            (pct(f.in_sample.mae), signed_pct(Some(f.in_sample.bias)))
        };
        let loso = f
            .loso
            .as_ref()
            .map_or("-".to_string(), |l| pct(l.stats.mae));
        let _ = writeln!(
            out,
            "<tr><td><code>{}</code></td><td>{}</td><td><code>{}</code></td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{mae}</td><td class=\"num\">{loso}</td><td class=\"num\">{bias}</td></tr>",
            escape(&f.id),
            prose(&f.publication),
            escape(&f.framework),
            f.rows,
            f.compared,
        );
    }
    table_close(out);
    out.push_str("</section>\n");
}

/// The compared rows by system and by precision: how far off the model is, and which way, for
/// the chip and the recipe of a reader's own question.
fn groups(out: &mut String, v: &TrainingValidation) {
    out.push_str(
        "<section aria-labelledby=\"groups-title\">\n<h2 id=\"groups-title\">By system and by precision</h2>\n\
         <p>The compared rows grouped another way than by publication. A positive bias: the model \
         predicts a longer step than was measured.</p>\n",
    );
    for (title, groups) in [
        ("System", &v.groups.by_system),
        ("Precision", &v.groups.by_precision),
        ("System / precision", &v.groups.by_system_and_precision),
    ] {
        table_open(
            out,
            &[
                title,
                "#Rows",
                "#Families",
                "#MAE in sample",
                "#MAE left out",
                "#Bias",
            ],
        );
        for g in groups {
            let _ = writeln!(
                out,
                "<tr><td><code>{}</code></td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
                escape(&g.key),
                g.in_sample.n,
                g.families,
                pct(g.in_sample.mae),
                pct(g.loso.mae),
                signed_pct(Some(g.in_sample.bias)),
            );
        }
        table_close(out);
    }
    out.push_str("</section>\n");
}

fn rows(out: &mut String, v: &TrainingValidation) {
    out.push_str(
        "<section aria-labelledby=\"rows-title\">\n<h2 id=\"rows-title\">Every row</h2>\n",
    );
    table_open(
        out,
        &[
            "Row",
            "Family",
            "Accelerator",
            "#Measured s",
            "#Predicted s",
            "#Error",
            "#Left out",
            "Layout",
            "Filled or why not compared",
        ],
    );
    let secs = |x: Option<f64>| x.map_or("-".to_string(), |x| format!("{x:.3}"));
    for r in &v.report.rows {
        let note = match r.status {
            Status::Compared => r.filled.join("; "),
            _ => format!(
                "{}: {}",
                format!("{:?}", r.status).to_lowercase(),
                r.reason.as_deref().unwrap_or("")
            ),
        };
        let _ = writeln!(
            out,
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td><code>{}</code></td><td>{}</td></tr>",
            escape(&r.id),
            prose(&r.family),
            prose(&r.gpu_type),
            secs(r.measured_step_time_s),
            secs(r.predicted_step_time_s),
            signed_pct(r.error),
            signed_pct(r.loso_error),
            escape(r.layout.as_deref().unwrap_or("")),
            prose(&note)
        );
    }
    table_close(out);
    out.push_str("</section>\n");
}
