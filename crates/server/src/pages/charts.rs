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
pub(super) fn data_table(title: &str, headings: &[&str], rows: &[Vec<String>]) -> Markup {
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
    // The right margin holds the labels at the lines' ends.
    let (w, h, left, right, top, bottom) = (860.0, 260.0, 50.0, 110.0, 14.0, 40.0);
    let x = |m: &str| {
        let i = months.iter().position(|x| x == m).unwrap_or(0) as f64;
        left + (w - left - right) * i / (months.len() - 1) as f64
    };
    let y = |v: f64| top + (h - top - bottom) * (1.0 - v / max);
    // A tick every year (each January), so the axis reads as time, not two end labels; the
    // first month only when no January is shown.
    let mut ticks: Vec<&String> = months.iter().filter(|m| m.ends_with("-01")).collect();
    if ticks.is_empty() {
        ticks.push(&months[0]);
    }
    // Each line's label beside its last point, pushed apart when the lines end close together.
    let mut labels: Vec<(f64, f64, &str, usize)> = [(&sa, label_a), (&sb, label_b)]
        .into_iter()
        .enumerate()
        .filter_map(|(i, (points, label))| {
            let (m, v) = points.last()?;
            Some((x(m) + 6.0, y(*v) + 4.0, label, i))
        })
        .collect();
    labels.sort_by(|p, q| p.1.total_cmp(&q.1));
    for k in 1..labels.len() {
        if labels[k].1 - labels[k - 1].1 < 15.0 {
            labels[k].1 = labels[k - 1].1 + 15.0;
        }
    }
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
                    line x1=(left) x2=(format!("{:.1}", w - right)) y1=(format!("{ty:.1}")) y2=(format!("{ty:.1}")) stroke="#e6e9ef" {}
                    text x=(format!("{:.1}", left - 6.0)) y=(format!("{:.1}", ty + 4.0)) font-size="11" text-anchor="end" fill="currentColor" { (trim_number(max * frac)) }
                }
                @for m in &ticks {
                    text x=(format!("{:.1}", x(m))) y=(format!("{:.1}", h - bottom + 16.0)) font-size="11" text-anchor="middle" fill="currentColor" { (m.get(..4).unwrap_or(m)) }
                }
                @for (i, points) in [&sa, &sb].into_iter().enumerate() {
                    @let path: Vec<String> = points.iter().map(|(m, v)| format!("{:.1},{:.1}", x(m), y(*v))).collect();
                    polyline fill="none" stroke=(PALETTE[i]) stroke-width="2" stroke-dasharray=[(i == 1).then_some("6 4")] points=(path.join(" ")) {}
                }
                // The legend sits at the lines' ends, beside what it names.
                // A key stroke in the line's colour and dash, the name in the text colour (legible).
                @for (lx, ly, label, i) in &labels {
                    line x1=(format!("{lx:.1}")) x2=(format!("{:.1}", lx + 18.0)) y1=(format!("{:.1}", ly - 4.0)) y2=(format!("{:.1}", ly - 4.0))
                        stroke=(PALETTE[*i]) stroke-width="2" stroke-dasharray=[(*i == 1).then_some("6 4")] {}
                    text x=(format!("{:.1}", lx + 22.0)) y=(format!("{ly:.1}")) font-size="12" fill="currentColor" { (label) }
                }
            }
            (data_table(title, &["month", label_a, label_b], &rows))
        }
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn plan(months: &[(&str, f64)]) -> Value {
        json!({ "timeline": months.iter().map(|(m, gw)| json!({"month": m, "facility_gw": gw})).collect::<Vec<_>>() })
    }

    #[test]
    fn the_comparison_chart_ticks_januaries_keeps_labels_apart_and_tables_every_month() {
        let months = [
            ("2026-11", 0.0),
            ("2026-12", 0.5),
            ("2027-01", 1.0),
            ("2027-02", 2.0),
        ];
        // Two identical plans: the lines end at the same point, the labels must not.
        let svg = timeline_chart(&plan(&months), &plan(&months), "A #1", "B <2>")
            .expect("a chart")
            .into_string();
        // Only the January is ticked (not the first month as well).
        assert!(
            svg.contains(">2027</text>") && !svg.contains(">2026</text>"),
            "{svg}"
        );
        let label_y = |label: &str| -> f64 {
            let at = svg.find(&format!(">{label}</text>")).unwrap();
            let start = svg[..at].rfind("<text").unwrap();
            let y = svg[start..at].split("y=\"").nth(1).unwrap();
            y.split('"').next().unwrap().parse().unwrap()
        };
        assert!(
            (label_y("A #1") - label_y("B &lt;2&gt;")).abs() >= 15.0,
            "labels overlap"
        );
        // The data table: a row per month, the label escaped.
        assert_eq!(svg.matches("<th scope=\"row\">").count(), months.len());
        assert!(!svg.contains("<2>"));
    }

    #[test]
    fn no_comparison_chart_without_two_months() {
        assert!(timeline_chart(
            &plan(&[("2027-01", 1.0)]),
            &plan(&[("2027-01", 2.0)]),
            "A",
            "B"
        )
        .is_none());
        assert!(timeline_chart(
            &json!({"strategy": {}}),
            &plan(&[("2027-01", 1.0)]),
            "A",
            "B"
        )
        .is_none());
    }

    #[test]
    fn a_bar_chart_carries_its_figures_as_a_table() {
        let html = bar_chart(
            "parts",
            "Seconds",
            &[("compute".into(), 2.0), ("comm".into(), 0.5)],
            "s",
        )
        .into_string();
        assert!(html.contains("<svg class=\"chart\" id=\"parts\""));
        assert!(
            html.contains("<th scope=\"row\">compute</th><td class=\"num\">2.00</td>"),
            "{html}"
        );
    }
}
