//! The plan report's "Over time" section: capacity, spend, compute and power by month as
//! inline SVG charts, and the monthly figures as a table folded away beneath them.

use std::fmt::Write as _;

use engine::PlanResult;
use units::{fmt_count, fmt_energy_twh, fmt_usd, Month};

use crate::html::{count_tick, describe, figure, group_key, grouped_tranche_names, gw, usd_tick};
use crate::svg::{self, escape, Chart, Series};

pub(crate) fn charts(out: &mut String, result: &PlanResult) {
    let months: Vec<Month> = result.timeline.iter().map(|r| r.month).collect();
    out.push_str("<section id=\"charts\">\n<h2>Over time</h2>\n");

    // Capacity online, stacked by tranche: a deal's tranches side by side in shades of one
    // hue, deals (or, without a deal, systems) in distinct colour-blind-safe hues.
    let names = grouped_tranche_names(result);
    let keys: Vec<String> = names.iter().map(|name| group_key(result, name)).collect();
    let colors = crate::palette::grouped_colors(&keys);
    let series: Vec<Series> = names
        .iter()
        .enumerate()
        .map(|(k, name)| {
            let values = result
                .timeline
                .iter()
                .map(|row| {
                    let entry = row
                        .by_tranche
                        .get(k)
                        .filter(|t| &t.tranche == name)
                        .or_else(|| row.by_tranche.iter().find(|t| &t.tranche == name));
                    Some(entry.map_or(0.0, |t| t.facility_gw))
                })
                .collect();
            Series {
                color: colors[k].clone(),
                ..Series::indexed(k, name.clone(), values)
            }
        })
        .collect();
    let gw_value = |v: f64| gw(v);
    let totals: Vec<Option<f64>> = result
        .timeline
        .iter()
        .map(|r| Some(r.facility_gw))
        .collect();
    let description = format!(
        "{} Tranches: {}.",
        describe("Facility power online", &months, &totals, &gw_value),
        names.join(", ")
    );
    let chart = Chart {
        id: "chart-capacity",
        title: "Facility power online by month, stacked by tranche",
        description: &description,
        months: &months,
        tick_label: &gw_tick,
        value_label: &gw_value,
    };
    figure(
        out,
        "Capacity online",
        "Facility power online at the end of each month, stacked by tranche.",
        &svg::stacked_area(&chart, &series),
    );

    // Money: cumulative capex, opex and financing.
    let column = |f: &dyn Fn(usize) -> f64| -> Vec<Option<f64>> {
        (0..result.timeline.len()).map(|i| Some(f(i))).collect()
    };
    let tl = &result.timeline;
    let money = vec![
        Series {
            name: "Capex (cumulative)".into(),
            color: svg::PALETTE[0].to_string(),
            dash: None,
            light: false,
            values: column(&|i| tl[i].capex_usd),
        },
        Series {
            name: "Opex (cumulative)".into(),
            color: svg::PALETTE[3].to_string(),
            dash: Some("7 4"),
            light: false,
            values: column(&|i| tl[i].opex_usd),
        },
        Series {
            name: format!("{} (cumulative)", crate::opening::financing_label(result)),
            color: svg::PALETTE[2].to_string(),
            dash: Some("2 3"),
            light: false,
            values: column(&|i| tl[i].financing_usd),
        },
    ];
    let usd_value = |v: f64| fmt_usd(v);
    let description = money
        .iter()
        .map(|s| describe(&s.name, &months, &s.values, &usd_value))
        .collect::<Vec<_>>()
        .join(" ");
    let chart = Chart {
        id: "chart-money",
        title: "Cumulative capex, opex and financing received by month, US dollars",
        description: &description,
        months: &months,
        tick_label: &usd_tick,
        value_label: &usd_value,
    };
    figure(
        out,
        "Money",
        "Capex, opex and financing received to date, in US dollars.",
        &svg::line_chart(&chart, &money),
    );

    // Accelerators and H100-equivalents online: two quantities, so two charts side by side
    // (small multiples), each with its own axis.
    out.push_str("<div class=\"multiples\">\n");
    count_figure(
        out,
        &months,
        CountFigure {
            id: "chart-compute",
            title: "Accelerator packages online by month",
            heading: "Accelerators online",
            caption: "Accelerator packages online at the end of each month.",
            series: "Accelerators",
            palette_index: 0,
        },
        column(&|i| tl[i].accelerators),
    );
    if tl.iter().any(|r| r.h100e.is_some()) {
        count_figure(
            out,
            &months,
            CountFigure {
                id: "chart-h100e",
                title: "H100-equivalents online by month (dense BF16 FLOP/s)",
                heading: "H100-equivalents online",
                caption: "Dense BF16 FLOP/s online in units of one H100 (a gap where a chip's BF16 figure is unknown).",
                series: "H100-equivalents (dense BF16)",
                palette_index: 1,
            },
            tl.iter().map(|r| r.h100e).collect(),
        );
    } else {
        out.push_str(
            "<figure><h3>H100-equivalents online</h3><figcaption>Unknown: an online chip has no public dense BF16 figure.</figcaption></figure>\n",
        );
    }
    out.push_str("</div>\n");

    monthly_table(out, result);
    out.push_str("</section>\n");
}

/// One count by month (accelerators, H100-equivalents), drawn as its own line chart.
struct CountFigure<'a> {
    id: &'a str,
    title: &'a str,
    heading: &'a str,
    caption: &'a str,
    series: &'a str,
    palette_index: usize,
}

fn count_figure(out: &mut String, months: &[Month], f: CountFigure<'_>, values: Vec<Option<f64>>) {
    let count_value = |v: f64| fmt_count(v);
    let series = vec![Series::indexed(f.palette_index, f.series, values)];
    let description = describe(f.heading, months, &series[0].values, &count_value);
    let chart = Chart {
        id: f.id,
        title: f.title,
        description: &description,
        months,
        tick_label: &count_tick,
        value_label: &count_value,
    };
    figure(out, f.heading, f.caption, &svg::line_chart(&chart, &series));
}

/// The timeline as a table, folded away by default.
fn monthly_table(out: &mut String, result: &PlanResult) {
    if result.timeline.is_empty() {
        return;
    }
    out.push_str(
        "<details>\n<summary>Monthly figures</summary>\n<div class=\"table-wrap\" tabindex=\"0\"><table>\n<thead><tr>\
         <th>Month</th><th class=\"num\">Facility power</th><th class=\"num\">IT power</th>\
         <th class=\"num\">Systems</th><th class=\"num\">Accelerators</th><th class=\"num\">H100e</th>\
         <th class=\"num\">Capex to date</th><th class=\"num\">Opex to date</th>\
         <th class=\"num\">Financing to date</th><th class=\"num\">Energy</th></tr></thead>\n<tbody>\n",
    );
    for row in &result.timeline {
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
             <td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
             <td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}/yr</td></tr>",
            escape(&row.month.to_string()),
            gw(row.facility_gw),
            gw(row.it_gw),
            fmt_count(row.systems),
            fmt_count(row.accelerators),
            row.h100e.map_or_else(|| "unknown".to_string(), fmt_count),
            fmt_usd(row.capex_usd),
            fmt_usd(row.opex_usd),
            fmt_usd(row.financing_usd),
            fmt_energy_twh(row.energy_twh_per_year)
        );
    }
    out.push_str("</tbody></table></div>\n</details>\n");
}

/// Formats a GW tick with an SI prefix, so that small plans read `20 kW`, not `0.00002 GW`.
fn gw_tick(value: f64, _step: f64) -> String {
    if value == 0.0 {
        "0".into()
    } else {
        svg::trim_zeros(&gw(value))
    }
}
