//! Small hand-written inline SVG charts for the HTML report: "nice" axis ticks, a stacked area
//! chart and a line chart over months, with wrapped legends and hover tooltips (SVG `<title>`,
//! no JavaScript). Output is deterministic and compact: coordinates carry at most one decimal.

use std::fmt::Write as _;

use units::Month;

/// The Okabe–Ito palette (colour-blind friendly), in the order series take it. Black comes
/// last; series beyond the eighth cycle through it again with a lighter fill.
pub const PALETTE: [&str; 8] = [
    "#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9", "#CC79A7", "#F0E442", "#000000",
];

/// The palette colour of series `index` (cycling).
pub fn palette(index: usize) -> &'static str {
    PALETTE[index % PALETTE.len()]
}

/// Chart width in SVG user units (the SVG scales to its container).
const WIDTH: f64 = 900.0;
/// Left margin: room for y tick labels such as `$1.40T`.
const LEFT: f64 = 80.0;
/// Right margin.
const RIGHT: f64 = 20.0;
/// Top margin.
const TOP: f64 = 14.0;
/// Plot area height.
const PLOT_HEIGHT: f64 = 280.0;
/// Room under the plot for the month labels.
const X_AXIS_HEIGHT: f64 = 34.0;
/// Height of one legend row.
const LEGEND_ROW: f64 = 22.0;
/// Longest legend label before it is shortened (the full name stays in a tooltip).
const LEGEND_MAX_CHARS: usize = 40;

/// One series of a chart: a name, a colour and a value per month (`None` leaves a gap).
#[derive(Debug, Clone)]
pub struct Series {
    /// Name shown in the legend and tooltips.
    pub name: String,
    /// Fill or stroke colour (`#RRGGBB`).
    pub color: String,
    /// Stroke dash pattern for line charts (`None` for solid).
    pub dash: Option<&'static str>,
    /// Lighter fill (for colours reused after the palette cycles).
    pub light: bool,
    /// One value per month of the chart.
    pub values: Vec<Option<f64>>,
}

impl Series {
    /// A series in palette colour `index` (lighter once the palette has cycled).
    pub fn indexed(index: usize, name: impl Into<String>, values: Vec<Option<f64>>) -> Series {
        Series {
            name: name.into(),
            color: palette(index).to_string(),
            dash: None,
            light: index >= PALETTE.len(),
            values,
        }
    }
}

/// What every chart needs besides its series.
pub struct Chart<'a> {
    /// Unique id within the page (used for the `<title>` element's id).
    pub id: &'a str,
    /// Accessible title (also the tooltip of the whole chart).
    pub title: &'a str,
    /// Accessible description: what the chart shows, in a sentence.
    pub description: &'a str,
    /// The months along the x axis, in order.
    pub months: &'a [Month],
    /// Formats a y tick value; `step` is the tick spacing (for choosing decimals).
    pub tick_label: &'a dyn Fn(f64, f64) -> String,
    /// Formats a value in a tooltip.
    pub value_label: &'a dyn Fn(f64) -> String,
}

/// Escapes text for HTML and SVG: `& < > " '`.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A coordinate with at most one decimal and no trailing `.0`.
pub fn coord(value: f64) -> String {
    let value = if value.is_finite() { value } else { 0.0 };
    let text = format!("{value:.1}");
    let text = text.strip_suffix(".0").unwrap_or(&text);
    if text == "-0" {
        "0".to_string()
    } else {
        text.to_string()
    }
}

/// A tick spacing of 1, 2 or 5 times a power of ten that splits `range` into at most about
/// `intervals` parts.
fn nice_step(range: f64, intervals: usize) -> f64 {
    let raw = range / intervals.max(1) as f64;
    let magnitude = 10f64.powf(raw.log10().floor());
    let normalised = raw / magnitude;
    let nice = if normalised <= 1.0 + 1e-9 {
        1.0
    } else if normalised <= 2.0 + 1e-9 {
        2.0
    } else if normalised <= 5.0 + 1e-9 {
        5.0
    } else {
        10.0
    };
    nice * magnitude
}

/// "Nice" axis ticks (steps of 1, 2 or 5 times a power of ten) covering `[lo, hi]`, at most
/// about `max_ticks` of them. The first tick is at or below `lo`, the last at or above `hi`.
/// Degenerate ranges are widened to include zero (or `[0, 1]` when both ends are zero), and
/// non-finite ends count as zero, so the result always has at least two ticks.
pub fn nice_ticks(lo: f64, hi: f64, max_ticks: usize) -> Vec<f64> {
    let finite = |v: f64| if v.is_finite() { v } else { 0.0 };
    let (mut lo, mut hi) = (finite(lo), finite(hi));
    if lo > hi {
        std::mem::swap(&mut lo, &mut hi);
    }
    if hi - lo <= f64::EPSILON * hi.abs().max(lo.abs()) {
        if lo == 0.0 && hi == 0.0 {
            hi = 1.0;
        } else if lo > 0.0 {
            lo = 0.0;
        } else {
            hi = 0.0;
            if lo == 0.0 {
                hi = 1.0;
            }
        }
    }
    let step = nice_step(hi - lo, max_ticks.max(2) - 1);
    let first = (lo / step + 1e-9).floor();
    let last = (hi / step - 1e-9).ceil();
    let count = (last - first).round().max(1.0) as usize;
    (0..=count)
        .map(|i| {
            let tick = (first + i as f64) * step;
            // Round away float noise (0.30000000000000004) at the step's precision.
            let decimals = decimals_for_step(step) as i32 + 2;
            let scale = 10f64.powi(decimals.clamp(0, 15));
            let rounded = (tick * scale).round() / scale;
            if rounded == 0.0 {
                0.0
            } else {
                rounded
            }
        })
        .collect()
}

/// Decimals needed to tell ticks `step` apart: 0 for 5, 1 for 0.5, 2 for 0.05.
pub fn decimals_for_step(step: f64) -> usize {
    if !(step.is_finite() && step > 0.0) || step >= 1.0 {
        return 0;
    }
    (-(step.log10()).floor()).clamp(0.0, 12.0) as usize
}

/// A plain number for a tick spaced `step` from its neighbours: `1.5`, `20`, `0.25`.
pub fn plain_tick(value: f64, step: f64) -> String {
    let text = format!("{value:.*}", decimals_for_step(step));
    if text.starts_with('-') && text[1..].chars().all(|c| c == '0' || c == '.') {
        text[1..].to_string()
    } else {
        text
    }
}

/// Drops trailing zeros after the decimal point of the first number in `text`:
/// `"$20.0B"` is `"$20B"`, `"1.50 GW"` is `"1.5 GW"`.
pub fn trim_zeros(text: &str) -> String {
    let Some(dot) = text.find('.') else {
        return text.to_string();
    };
    let digits_end = text[dot + 1..]
        .find(|c: char| !c.is_ascii_digit())
        .map_or(text.len(), |i| dot + 1 + i);
    let fraction = text[dot + 1..digits_end].trim_end_matches('0');
    let mut out = String::with_capacity(text.len());
    out.push_str(&text[..dot]);
    if !fraction.is_empty() {
        out.push('.');
        out.push_str(fraction);
    }
    out.push_str(&text[digits_end..]);
    out
}

/// Month tick spacing: the smallest of 1, 2, 3, 6 months or 1, 2, 5, 10, 20, 50 years that
/// leaves at most eight intervals.
fn month_step(months: usize) -> usize {
    const STEPS: [usize; 10] = [1, 2, 3, 6, 12, 24, 60, 120, 240, 600];
    STEPS
        .into_iter()
        .find(|&step| months.div_ceil(step) <= 8)
        .unwrap_or(600)
}

/// The x-axis labels: `(index, label)` for each labelled month. Yearly steps label Januaries
/// with the year; shorter steps label `YYYY-MM`.
pub fn month_ticks(months: &[Month]) -> Vec<(usize, String)> {
    let step = month_step(months.len());
    let mut ticks: Vec<(usize, String)> = months
        .iter()
        .enumerate()
        .filter(|(_, m)| {
            if step >= 12 {
                m.month() == 1 && m.year().rem_euclid((step / 12) as i32) == 0
            } else {
                (m.month() as usize - 1).rem_euclid(step) == 0
            }
        })
        .map(|(i, m)| {
            let label = if step >= 12 {
                m.year().to_string()
            } else {
                m.to_string()
            };
            (i, label)
        })
        .collect();
    if ticks.is_empty() {
        if let Some(first) = months.first() {
            ticks.push((0, first.to_string()));
        }
    }
    ticks
}

/// Geometry shared by the charts: x by month index, y by value.
struct Frame {
    months: usize,
    lo: f64,
    hi: f64,
}

impl Frame {
    fn plot_width() -> f64 {
        WIDTH - LEFT - RIGHT
    }

    /// x of month `index`; a single month sits in the middle.
    fn x(&self, index: usize) -> f64 {
        if self.months <= 1 {
            LEFT + Frame::plot_width() / 2.0
        } else {
            LEFT + Frame::plot_width() * index as f64 / (self.months - 1) as f64
        }
    }

    fn y(&self, value: f64) -> f64 {
        let value = if value.is_finite() { value } else { 0.0 };
        let span = self.hi - self.lo;
        let fraction = if span > 0.0 {
            ((value - self.lo) / span).clamp(0.0, 1.0)
        } else {
            0.0
        };
        TOP + PLOT_HEIGHT * (1.0 - fraction)
    }

    /// The x positions a series is drawn through: a single month is drawn across the plot.
    fn xs(&self) -> Vec<f64> {
        if self.months == 1 {
            vec![LEFT, WIDTH - RIGHT]
        } else {
            (0..self.months).map(|i| self.x(i)).collect()
        }
    }

    /// Half the width of the hover column around month `index`.
    fn half_column(&self) -> f64 {
        if self.months <= 1 {
            Frame::plot_width() / 2.0
        } else {
            Frame::plot_width() / (self.months - 1) as f64 / 2.0
        }
    }
}

/// Opens the `<svg>` with its accessible title.
fn open_svg(out: &mut String, chart: &Chart, height: f64) {
    let id = escape(chart.id);
    let _ = write!(
        out,
        "<svg class=\"chart\" viewBox=\"0 0 {} {}\" width=\"100%\" role=\"img\" \
         aria-labelledby=\"{id}-title {id}-desc\" font-family=\"system-ui,-apple-system,Segoe UI,Roboto,Arial,sans-serif\" \
         font-size=\"12\" fill=\"#1d2330\"><title id=\"{id}-title\">{}</title><desc id=\"{id}-desc\">{}</desc>",
        coord(WIDTH),
        coord(height),
        escape(chart.title),
        escape(chart.description)
    );
}

/// Grid lines, y tick labels, the baseline and the month ticks.
fn axes(out: &mut String, chart: &Chart, frame: &Frame, ticks: &[f64]) {
    let step = if ticks.len() >= 2 {
        ticks[1] - ticks[0]
    } else {
        1.0
    };
    out.push_str("<g class=\"grid\" stroke=\"#e6e9ef\">");
    for &tick in ticks {
        let y = coord(frame.y(tick));
        let _ = write!(
            out,
            "<line x1=\"{}\" x2=\"{}\" y1=\"{y}\" y2=\"{y}\"/>",
            coord(LEFT),
            coord(WIDTH - RIGHT)
        );
    }
    out.push_str("</g><g class=\"ylabels\" text-anchor=\"end\" fill=\"#5b6474\">");
    for &tick in ticks {
        let _ = write!(
            out,
            "<text x=\"{}\" y=\"{}\">{}</text>",
            coord(LEFT - 8.0),
            coord(frame.y(tick) + 4.0),
            escape(&(chart.tick_label)(tick, step))
        );
    }
    let base = coord(TOP + PLOT_HEIGHT);
    let _ = write!(
        out,
        "</g><line class=\"axis\" stroke=\"#8a93a3\" x1=\"{}\" x2=\"{}\" y1=\"{base}\" y2=\"{base}\"/>",
        coord(LEFT),
        coord(WIDTH - RIGHT)
    );
    out.push_str(
        "<g class=\"xlabels\" text-anchor=\"middle\" fill=\"#5b6474\" stroke=\"#8a93a3\">",
    );
    for (index, label) in month_ticks(chart.months) {
        let x = frame.x(index);
        // Keep labels near the edges inside the drawing.
        let half = text_width(&label) / 2.0;
        let text_x = x.clamp(half + 2.0, WIDTH - half - 2.0);
        let _ = write!(
            out,
            "<line x1=\"{x}\" x2=\"{x}\" y1=\"{base}\" y2=\"{}\"/><text x=\"{}\" y=\"{}\" stroke=\"none\">{}</text>",
            coord(TOP + PLOT_HEIGHT + 5.0),
            coord(text_x),
            coord(TOP + PLOT_HEIGHT + 20.0),
            escape(&label),
            x = coord(x),
        );
    }
    out.push_str("</g>");
}

/// A rough width of `text` at the legend's 12px font, in user units.
fn text_width(text: &str) -> f64 {
    text.chars().count() as f64 * 6.8
}

/// Lays the legend out in rows that wrap at the chart's width: `(x, row)` per series.
fn legend_layout(series: &[Series]) -> (Vec<(f64, usize)>, usize) {
    let mut positions = Vec::with_capacity(series.len());
    let mut x = LEFT;
    let mut row = 0;
    for s in series {
        let width = 30.0 + text_width(&legend_name(&s.name)) + 22.0;
        if x > LEFT && x + width > WIDTH - RIGHT {
            row += 1;
            x = LEFT;
        }
        positions.push((x, row));
        x += width;
    }
    let rows = if series.is_empty() { 0 } else { row + 1 };
    (positions, rows)
}

/// The legend label: long names shortened with an ellipsis.
fn legend_name(name: &str) -> String {
    if name.chars().count() > LEGEND_MAX_CHARS {
        let short: String = name.chars().take(LEGEND_MAX_CHARS - 1).collect();
        format!("{short}…")
    } else {
        name.to_string()
    }
}

/// Height of the whole SVG for a legend of `rows` rows.
fn svg_height(rows: usize) -> f64 {
    TOP + PLOT_HEIGHT + X_AXIS_HEIGHT + rows as f64 * LEGEND_ROW + 6.0
}

/// The legend: a swatch (area) or a line sample (line chart) and the name of each series.
fn legend(out: &mut String, series: &[Series], lines: bool) {
    let (positions, _) = legend_layout(series);
    out.push_str("<g class=\"legend\">");
    for (s, (x, row)) in series.iter().zip(positions) {
        let y = TOP + PLOT_HEIGHT + X_AXIS_HEIGHT + row as f64 * LEGEND_ROW;
        out.push_str("<g>");
        if legend_name(&s.name) != s.name {
            let _ = write!(out, "<title>{}</title>", escape(&s.name));
        }
        if lines {
            let _ = write!(
                out,
                "<line x1=\"{}\" x2=\"{}\" y1=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"3\"{}/>",
                coord(x),
                coord(x + 24.0),
                coord(y + 6.0),
                coord(y + 6.0),
                s.color,
                dash_attr(s)
            );
        } else {
            let _ = write!(
                out,
                "<rect x=\"{}\" y=\"{}\" width=\"14\" height=\"12\" rx=\"2\" fill=\"{}\"{}/>",
                coord(x),
                coord(y),
                s.color,
                opacity_attr(s)
            );
        }
        let text_x = if lines { x + 30.0 } else { x + 20.0 };
        let _ = write!(
            out,
            "<text x=\"{}\" y=\"{}\">{}</text></g>",
            coord(text_x),
            coord(y + 10.5),
            escape(&legend_name(&s.name))
        );
    }
    out.push_str("</g>");
}

fn dash_attr(series: &Series) -> String {
    series
        .dash
        .map(|d| format!(" stroke-dasharray=\"{d}\""))
        .unwrap_or_default()
}

fn opacity_attr(series: &Series) -> &'static str {
    if series.light {
        " fill-opacity=\"0.55\""
    } else {
        ""
    }
}

fn value_at(series: &Series, index: usize) -> Option<f64> {
    series
        .values
        .get(index)
        .copied()
        .flatten()
        .filter(|v| v.is_finite())
}

/// Transparent columns, one per month, whose tooltips list the month's values.
fn hover_columns(out: &mut String, frame: &Frame, chart: &Chart, text: impl Fn(usize) -> String) {
    out.push_str("<g class=\"hover\" fill=\"#1d2330\" fill-opacity=\"0\">");
    let half = frame.half_column();
    for index in 0..frame.months {
        let x = (frame.x(index) - half).max(LEFT);
        let right = (frame.x(index) + half).min(WIDTH - RIGHT);
        let _ = write!(
            out,
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"><title>{}</title></rect>",
            coord(x),
            coord(TOP),
            coord(right - x),
            coord(PLOT_HEIGHT),
            escape(&format!(
                "{}\n{}",
                chart
                    .months
                    .get(index)
                    .map(Month::to_string)
                    .unwrap_or_default(),
                text(index)
            ))
        );
    }
    out.push_str("</g>");
}

/// A placeholder when there is nothing to draw.
fn empty_chart(chart: &Chart) -> String {
    let mut out = String::new();
    open_svg(&mut out, chart, 60.0);
    let _ = write!(
        out,
        "<text x=\"{}\" y=\"34\" text-anchor=\"middle\" fill=\"#5b6474\">No months to chart</text></svg>",
        coord(WIDTH / 2.0)
    );
    out
}

/// A stacked area chart: each series on top of the ones before it (missing values count as
/// zero). The tooltip of each month lists the total and every non-zero series.
pub fn stacked_area(chart: &Chart, series: &[Series]) -> String {
    let months = chart.months.len();
    if months == 0 {
        return empty_chart(chart);
    }
    let totals: Vec<f64> = (0..months)
        .map(|i| {
            series
                .iter()
                .map(|s| value_at(s, i).unwrap_or(0.0).max(0.0))
                .sum()
        })
        .collect();
    let max = totals.iter().copied().fold(0.0, f64::max);
    let ticks = nice_ticks(0.0, max, 6);
    let frame = Frame {
        months,
        lo: ticks[0],
        hi: ticks[ticks.len() - 1],
    };
    let (_, rows) = legend_layout(series);
    let mut out = String::new();
    open_svg(&mut out, chart, svg_height(rows));
    axes(&mut out, chart, &frame, &ticks);

    let xs = frame.xs();
    // With one month each x is drawn twice (left and right edge).
    let index_of = |k: usize| if months == 1 { 0 } else { k };
    let mut lower = vec![0.0; xs.len()];
    out.push_str("<g class=\"areas\">");
    for s in series {
        let upper: Vec<f64> = (0..xs.len())
            .map(|k| lower[k] + value_at(s, index_of(k)).unwrap_or(0.0).max(0.0))
            .collect();
        if upper.iter().zip(&lower).any(|(u, l)| u > l) {
            let mut d = String::new();
            for (k, x) in xs.iter().enumerate() {
                let _ = write!(
                    d,
                    "{}{},{}",
                    if k == 0 { 'M' } else { 'L' },
                    coord(*x),
                    coord(frame.y(upper[k]))
                );
            }
            for (k, x) in xs.iter().enumerate().rev() {
                let _ = write!(d, "L{},{}", coord(*x), coord(frame.y(lower[k])));
            }
            let _ = write!(
                out,
                "<path d=\"{d}Z\" fill=\"{}\" stroke=\"#fff\" stroke-width=\"0.6\"{}><title>{}</title></path>",
                s.color,
                opacity_attr(s),
                escape(&s.name)
            );
        }
        lower = upper;
    }
    out.push_str("</g>");
    hover_columns(&mut out, &frame, chart, |i| {
        let mut text = format!("Total: {}", (chart.value_label)(totals[i]));
        for s in series {
            if let Some(v) = value_at(s, i).filter(|v| *v != 0.0) {
                let _ = write!(text, "\n{}: {}", s.name, (chart.value_label)(v));
            }
        }
        text
    });
    legend(&mut out, series, false);
    out.push_str("</svg>");
    out
}

/// A line chart: one line per series, broken where a value is missing. The y axis always
/// includes zero.
pub fn line_chart(chart: &Chart, series: &[Series]) -> String {
    let months = chart.months.len();
    if months == 0 {
        return empty_chart(chart);
    }
    let values = || {
        series
            .iter()
            .flat_map(|s| (0..months).filter_map(move |i| value_at(s, i)))
    };
    let max = values().fold(0.0, f64::max);
    let min = values().fold(0.0, f64::min);
    let ticks = nice_ticks(min, max, 6);
    let frame = Frame {
        months,
        lo: ticks[0],
        hi: ticks[ticks.len() - 1],
    };
    let (_, rows) = legend_layout(series);
    let mut out = String::new();
    open_svg(&mut out, chart, svg_height(rows));
    axes(&mut out, chart, &frame, &ticks);

    let xs = frame.xs();
    let index_of = |k: usize| if months == 1 { 0 } else { k };
    out.push_str(
        "<g class=\"lines\" fill=\"none\" stroke-width=\"2.2\" stroke-linejoin=\"round\">",
    );
    for s in series {
        let mut d = String::new();
        let mut pen_down = false;
        for (k, x) in xs.iter().enumerate() {
            match value_at(s, index_of(k)) {
                Some(v) => {
                    let _ = write!(
                        d,
                        "{}{},{}",
                        if pen_down { 'L' } else { 'M' },
                        coord(*x),
                        coord(frame.y(v))
                    );
                    pen_down = true;
                }
                None => pen_down = false,
            }
        }
        if !d.is_empty() {
            let _ = write!(
                out,
                "<path d=\"{d}\" stroke=\"{}\"{}><title>{}</title></path>",
                s.color,
                dash_attr(s),
                escape(&s.name)
            );
        }
    }
    out.push_str("</g>");
    hover_columns(&mut out, &frame, chart, |i| {
        series
            .iter()
            .map(|s| {
                let value = value_at(s, i).map_or_else(|| "unknown".to_string(), chart.value_label);
                format!("{}: {value}", s.name)
            })
            .collect::<Vec<_>>()
            .join("\n")
    });
    legend(&mut out, series, true);
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: &[f64], b: &[f64]) -> bool {
        a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-9)
    }

    #[test]
    fn escape_covers_the_five_characters() {
        assert_eq!(
            escape(r#"<a href="x">Tom & Jerry's</a>"#),
            "&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/a&gt;"
        );
        assert_eq!(escape("plain text, 1.2 GW"), "plain text, 1.2 GW");
        assert_eq!(escape(""), "");
    }

    #[test]
    fn nice_ticks_use_1_2_5_steps() {
        assert!(close(
            &nice_ticks(0.0, 100.0, 6),
            &[0.0, 20.0, 40.0, 60.0, 80.0, 100.0]
        ));
        assert!(close(&nice_ticks(0.0, 7.3, 6), &[0.0, 2.0, 4.0, 6.0, 8.0]));
        assert!(close(&nice_ticks(0.0, 1.2, 6), &[0.0, 0.5, 1.0, 1.5]));
        assert!(close(
            &nice_ticks(-3.0, 12.0, 6),
            &[-5.0, 0.0, 5.0, 10.0, 15.0]
        ));
        assert!(close(
            &nice_ticks(0.0, 3.4e11, 6),
            &[0.0, 1e11, 2e11, 3e11, 4e11]
        ));
        // Float noise is rounded away.
        let ticks = nice_ticks(0.0, 0.9, 6);
        assert!(close(&ticks, &[0.0, 0.2, 0.4, 0.6, 0.8, 1.0]));
        assert_eq!(ticks[3], 0.6);
    }

    #[test]
    fn nice_ticks_survive_degenerate_ranges() {
        assert!(close(
            &nice_ticks(0.0, 0.0, 6),
            &[0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
        ));
        assert!(close(
            &nice_ticks(5.0, 5.0, 6),
            &[0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
        ));
        assert!(close(
            &nice_ticks(-2.0, -2.0, 6),
            &[-2.0, -1.5, -1.0, -0.5, 0.0]
        ));
        assert!(nice_ticks(f64::NAN, f64::INFINITY, 6).len() >= 2);
        assert!(close(&nice_ticks(10.0, 0.0, 3), &[0.0, 5.0, 10.0]));
        for (lo, hi) in [(0.0, 1e-12), (0.0, 123_456.0), (1e20, 3e21)] {
            let ticks = nice_ticks(lo, hi, 6);
            assert!(
                ticks.len() >= 2 && ticks.len() <= 8,
                "{lo}..{hi}: {ticks:?}"
            );
            assert!(ticks[0] <= lo && *ticks.last().unwrap() >= hi);
        }
    }

    #[test]
    fn tick_text() {
        assert_eq!(plain_tick(1.5, 0.5), "1.5");
        assert_eq!(plain_tick(20.0, 5.0), "20");
        assert_eq!(plain_tick(0.25, 0.05), "0.25");
        assert_eq!(trim_zeros("$20.0B"), "$20B");
        assert_eq!(trim_zeros("1.50 GW"), "1.5 GW");
        assert_eq!(trim_zeros("500 MW"), "500 MW");
        assert_eq!(coord(12.345), "12.3");
        assert_eq!(coord(12.0), "12");
        assert_eq!(coord(-0.01), "0");
        assert_eq!(coord(f64::NAN), "0");
    }

    #[test]
    fn month_ticks_follow_the_span() {
        let start = Month::new(2026, 7).unwrap();
        let months: Vec<Month> = (0..72).map(|i| start.plus(i)).collect();
        let ticks = month_ticks(&months);
        let labels: Vec<&str> = ticks.iter().map(|(_, l)| l.as_str()).collect();
        assert_eq!(labels, ["2027", "2028", "2029", "2030", "2031", "2032"]);
        let ticks = month_ticks(&months[..12]);
        assert_eq!(ticks.len(), 6, "{ticks:?}");
        assert_eq!(ticks[0], (0, "2026-07".to_string()));
        assert_eq!(month_ticks(&months[..1]), [(0, "2026-07".to_string())]);
        assert!(month_ticks(&[]).is_empty());
    }

    fn chart<'a>(
        months: &'a [Month],
        label: &'a dyn Fn(f64, f64) -> String,
        value: &'a dyn Fn(f64) -> String,
    ) -> Chart<'a> {
        Chart {
            id: "t",
            title: "Test <chart>",
            description: "A test & more",
            months,
            tick_label: label,
            value_label: value,
        }
    }

    #[test]
    fn charts_handle_edge_cases() {
        let label = |v: f64, step: f64| plain_tick(v, step);
        let value = |v: f64| format!("{v}");
        let one = [Month::new(2027, 1).unwrap()];
        let zero = [Series::indexed(0, "a", vec![Some(0.0)])];
        for svg in [
            stacked_area(&chart(&one, &label, &value), &zero),
            line_chart(&chart(&one, &label, &value), &zero),
            stacked_area(&chart(&[], &label, &value), &zero),
            line_chart(&chart(&one, &label, &value), &[]),
            line_chart(
                &chart(&one, &label, &value),
                &[Series::indexed(1, "b", vec![None])],
            ),
        ] {
            assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"), "{svg}");
            assert!(svg.contains("role=\"img\""));
            assert!(svg.contains("Test &lt;chart&gt;"));
            assert!(!svg.contains("NaN") && !svg.contains("inf"));
        }
    }

    #[test]
    fn legend_wraps_for_many_series() {
        let series: Vec<Series> = (0..20)
            .map(|i| {
                Series::indexed(
                    i,
                    format!("a rather long tranche name {i}"),
                    vec![Some(1.0)],
                )
            })
            .collect();
        let (positions, rows) = legend_layout(&series);
        assert!(rows > 3, "{rows}");
        assert!(positions
            .iter()
            .all(|(x, _)| *x >= LEFT && *x < WIDTH - RIGHT));
        // Colours cycle, lighter on the second pass.
        assert_eq!(series[8].color, series[0].color);
        assert!(series[8].light && !series[0].light);
        let long = Series::indexed(0, "x".repeat(100), vec![Some(1.0)]);
        let svg = line_chart(
            &chart(
                &[Month::new(2027, 1).unwrap()],
                &|v, s| plain_tick(v, s),
                &|v| format!("{v}"),
            ),
            &[long],
        );
        assert!(svg.contains('…'));
    }
}
