//! Small hand-written inline SVG charts for the HTML report: "nice" axis ticks, a stacked area
//! chart and a line chart over months, with wrapped legends and hover tooltips (SVG `<title>`,
//! no JavaScript). Output is deterministic and compact: coordinates carry at most one decimal.

use std::fmt::Write as _;

use units::Month;

mod ticks;
pub use ticks::{month_ticks, nice_ticks, plain_tick, trim_zeros};

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

/// Opens the `<svg>` of a chart `width` x `height` wide with its accessible title and
/// description (`{id}-title`, `{id}-desc`): one opening for every chart in the reports.
pub(crate) fn open_svg(
    out: &mut String,
    id: &str,
    title: &str,
    description: &str,
    width: f64,
    height: f64,
) {
    let id = escape(id);
    let _ = write!(
        out,
        "<svg class=\"chart\" viewBox=\"0 0 {} {}\" width=\"100%\" role=\"img\" \
         aria-labelledby=\"{id}-title {id}-desc\" font-family=\"system-ui,-apple-system,Segoe UI,Roboto,Arial,sans-serif\" \
         font-size=\"12\" fill=\"#1d2330\"><title id=\"{id}-title\">{}</title><desc id=\"{id}-desc\">{}</desc>",
        coord(width),
        coord(height),
        escape(title),
        escape(description)
    );
}

/// Opens a month chart's `<svg>`.
fn open_chart_svg(out: &mut String, chart: &Chart, height: f64) {
    open_svg(out, chart.id, chart.title, chart.description, WIDTH, height);
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

/// The start every chart over months shares: "nice" ticks over `lo..hi`, the frame they
/// span, the SVG opened tall enough for the legend's rows, and the axes drawn.
fn open_plot(chart: &Chart, series: &[Series], months: usize, lo: f64, hi: f64) -> (String, Frame) {
    let ticks = nice_ticks(lo, hi, 6);
    let frame = Frame {
        months,
        lo: ticks[0],
        hi: ticks[ticks.len() - 1],
    };
    let (_, rows) = legend_layout(series);
    let mut out = String::new();
    open_chart_svg(&mut out, chart, svg_height(rows));
    axes(&mut out, chart, &frame, &ticks);
    (out, frame)
}

/// A placeholder when there is nothing to draw.
fn empty_chart(chart: &Chart) -> String {
    let mut out = String::new();
    open_chart_svg(&mut out, chart, 60.0);
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
    let (mut out, frame) = open_plot(chart, series, months, 0.0, max);

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
    let (mut out, frame) = open_plot(chart, series, months, min, max);

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

    #[test]
    fn escape_covers_the_five_characters() {
        assert_eq!(
            escape(r#"<a href="x">Tom & Jerry's</a>"#),
            "&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/a&gt;"
        );
        assert_eq!(escape("plain text, 1.2 GW"), "plain text, 1.2 GW");
        assert_eq!(escape(""), "");
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
