//! The charts the dashboard draws itself (a training step's parts, two plans' power over time),
//! each with its data as a table beside it: the table is the chart's text alternative for
//! screen readers and the figures for anyone who wants to copy them.

use maud::{html, Markup};
use serde_json::Value;

use super::{plain, trim_number};

/// Colour-blind-safe (Okabe-Ito) colours for bars and lines.
const PALETTE: [&str; 8] = [
    "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000",
];

/// A chart's figures as a table, folded under the chart.
fn data_table(title: &str, headings: &[&str], rows: &[Vec<String>]) -> Markup {
    html! {
        details.data-table {
            summary { "Data table: " (title) }
            div.table-wrap tabindex="0" role="region" aria-label={ "Data: " (title) } {
                table {
                    thead { tr { @for h in headings { th scope="col" { (h) } } } }
                    tbody {
                        @for row in rows {
                            tr {
                                @for (i, cell) in row.iter().enumerate() {
                                    @if i == 0 { th scope="row" { (cell) } } @else { td.num { (cell) } }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// A horizontal bar chart, server-drawn SVG, with its data table.
pub(super) fn bar_chart(id: &str, title: &str, bars: &[(String, f64)], unit: &str) -> Markup {
    let max = bars.iter().map(|b| b.1).fold(0.0_f64, f64::max);
    let (label_w, bar_w, row_h) = (190.0, 420.0, 22.0);
    let height = 30.0 + row_h * bars.len() as f64;
    let width = label_w + bar_w + 110.0;
    let rows: Vec<Vec<String>> = bars
        .iter()
        .map(|(l, v)| vec![l.clone(), trim_number(*v)])
        .collect();
    html! {
        figure.chart-figure {
            svg.chart id=(id) role="img" aria-label=(title) viewBox={ "0 0 " (width) " " (height) }
                width=(width) xmlns="http://www.w3.org/2000/svg" {
                title { (title) }
                @for (i, (label, value)) in bars.iter().enumerate() {
                    @let y = 10.0 + row_h * i as f64;
                    @let w = if max > 0.0 { bar_w * value / max } else { 0.0 };
                    text x=(label_w - 8.0) y=(format!("{:.1}", y + 14.0)) text-anchor="end" font-size="12" fill="currentColor" { (label) }
                    rect x=(label_w) y=(format!("{:.1}", y + 2.0)) width=(format!("{w:.1}")) height=(format!("{:.1}", row_h - 6.0)) fill=(PALETTE[i % PALETTE.len()]) {}
                    text x=(format!("{:.1}", label_w + w + 6.0)) y=(format!("{:.1}", y + 14.0)) font-size="12" fill="currentColor" { (trim_number(*value)) " " (unit) }
                }
            }
            (data_table(title, &["part", unit], &rows))
        }
    }
}

/// Two plans' facility power over time, as one SVG line chart with its data table; `None`
/// when either result has no timeline (a training run) or there is a single month.
pub(super) fn timeline_chart(a: &Value, b: &Value, label_a: &str, label_b: &str) -> Option<Markup> {
    let series = |v: &Value| -> Option<Vec<(String, f64)>> {
        v.get("timeline")?
            .as_array()?
            .iter()
            .map(|row| Some((plain(row.get("month")?), row.get("facility_gw")?.as_f64()?)))
            .collect()
    };
    let (sa, sb) = (series(a)?, series(b)?);
    let mut months: Vec<String> = sa.iter().chain(sb.iter()).map(|p| p.0.clone()).collect();
    months.sort();
    months.dedup();
    if months.len() < 2 {
        return None;
    }
    let max = sa
        .iter()
        .chain(sb.iter())
        .map(|p| p.1)
        .fold(0.0_f64, f64::max)
        .max(1e-9);
    let (w, h, left, top, bottom) = (760.0, 260.0, 50.0, 14.0, 40.0);
    let x = |m: &str| {
        let i = months.iter().position(|x| x == m).unwrap_or(0) as f64;
        left + (w - left - 20.0) * i / (months.len() - 1) as f64
    };
    let y = |v: f64| top + (h - top - bottom) * (1.0 - v / max);
    // A tick every year (each January), so the axis reads as time, not two end labels.
    let ticks: Vec<&String> = months
        .iter()
        .enumerate()
        .filter(|(i, m)| *i == 0 || m.ends_with("-01"))
        .map(|(_, m)| m)
        .collect();
    let value_at = |s: &[(String, f64)], m: &str| {
        s.iter()
            .find(|p| p.0 == m)
            .map_or("—".to_string(), |p| trim_number(p.1))
    };
    let rows: Vec<Vec<String>> = months
        .iter()
        .map(|m| vec![m.clone(), value_at(&sa, m), value_at(&sb, m)])
        .collect();
    let title = "Facility power over time, GW";
    Some(html! {
        figure.chart-figure {
            svg.chart #compare-chart role="img" aria-label="Facility power over time" viewBox={ "0 0 " (w) " " (h) }
                width=(w) xmlns="http://www.w3.org/2000/svg" {
                title { (title) }
                @for frac in [0.0, 0.5, 1.0] {
                    @let ty = y(max * frac);
                    line x1=(left) x2=(format!("{:.1}", w - 20.0)) y1=(format!("{ty:.1}")) y2=(format!("{ty:.1}")) stroke="#d9dee7" {}
                    text x=(format!("{:.1}", left - 6.0)) y=(format!("{:.1}", ty + 4.0)) font-size="11" text-anchor="end" fill="currentColor" { (trim_number(max * frac)) }
                }
                @for m in &ticks {
                    text x=(format!("{:.1}", x(m))) y=(format!("{:.1}", h - bottom + 16.0)) font-size="11" text-anchor="middle" fill="currentColor" { (m.get(..4).unwrap_or(m)) }
                }
                @for (i, (points, label)) in [(&sa, label_a), (&sb, label_b)].into_iter().enumerate() {
                    @let path: Vec<String> = points.iter().map(|(m, v)| format!("{:.1},{:.1}", x(m), y(*v))).collect();
                    polyline fill="none" stroke=(PALETTE[i]) stroke-width="2" stroke-dasharray=[(i == 1).then_some("6 4")] points=(path.join(" ")) {}
                    // The legend sits at the line's end, beside what it names.
                    @if let Some((m, v)) = points.last() {
                        text x=(format!("{:.1}", (x(m) - 4.0).max(left))) y=(format!("{:.1}", (y(*v) - 6.0 - 14.0 * i as f64).max(12.0))) font-size="12" text-anchor="end" fill=(PALETTE[i]) { (label) }
                    }
                }
            }
            (data_table(title, &["month", label_a, label_b], &rows))
        }
    })
}
