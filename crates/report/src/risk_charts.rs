//! The deal-risk report's two charts, as inline SVG: the fan chart of a measure over months
//! (p5-p95 and p10-p90 bands, the median, the plan as written) and the tornado of which deal
//! moves the median most.

use std::fmt::Write as _;

use ::risk::{Quantiles, RiskResult};
use units::Month;

use crate::risk::gw;
use crate::svg::{coord, escape, month_ticks, nice_ticks, palette, plain_tick, trim_zeros};

const WIDTH: f64 = 900.0;
const LEFT: f64 = 80.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 14.0;
const PLOT_HEIGHT: f64 = 280.0;

fn open_svg(out: &mut String, id: &str, title: &str, description: &str, height: f64) {
    crate::svg::open_svg(out, id, title, description, WIDTH, height);
}

/// A fan chart: p5-p95 and p10-p90 bands, the median line and the plan as written (dashed).
pub(crate) fn fan_chart(
    id: &str,
    title: &str,
    months: &[Month],
    bands: &[Quantiles],
    planned: &[f64],
    label: &dyn Fn(f64) -> String,
) -> String {
    let n = months.len();
    let mut out = String::new();
    let height = TOP + PLOT_HEIGHT + 34.0 + 26.0;
    let p50_end = bands.last().map_or(0.0, |q| q.p50);
    let planned_end = planned.last().copied().unwrap_or(0.0);
    let description = format!(
        "{title} from {} to {}: median {} at the end against {} planned; the bands hold 80% and 90% of the samples.",
        months.first().map(|m| m.to_string()).unwrap_or_default(),
        months.last().map(|m| m.to_string()).unwrap_or_default(),
        label(p50_end),
        label(planned_end)
    );
    open_svg(&mut out, id, title, &description, height);
    if n == 0 {
        out.push_str("</svg>");
        return out;
    }
    let hi = bands
        .iter()
        .map(|q| q.p95)
        .chain(planned.iter().copied())
        .fold(0.0, f64::max);
    let ticks = nice_ticks(0.0, hi, 6);
    let (lo, top) = (ticks[0], ticks[ticks.len() - 1]);
    let x = |i: usize| {
        if n <= 1 {
            LEFT + (WIDTH - LEFT - RIGHT) / 2.0
        } else {
            LEFT + (WIDTH - LEFT - RIGHT) * i as f64 / (n - 1) as f64
        }
    };
    let y = |v: f64| {
        let f = if top > lo {
            ((v - lo) / (top - lo)).clamp(0.0, 1.0)
        } else {
            0.0
        };
        TOP + PLOT_HEIGHT * (1.0 - f)
    };
    out.push_str("<g class=\"grid\" stroke=\"#e6e9ef\">");
    for &t in &ticks {
        let _ = write!(
            out,
            "<line x1=\"{}\" x2=\"{}\" y1=\"{yy}\" y2=\"{yy}\"/>",
            coord(LEFT),
            coord(WIDTH - RIGHT),
            yy = coord(y(t))
        );
    }
    out.push_str("</g><g class=\"ticks\" fill=\"#5b6474\" text-anchor=\"end\">");
    for &t in &ticks {
        let text = if t == 0.0 {
            "0".to_string()
        } else {
            trim_zeros(&label(t))
        };
        let _ = write!(
            out,
            "<text x=\"{}\" y=\"{}\">{}</text>",
            coord(LEFT - 8.0),
            coord(y(t) + 4.0),
            escape(&text)
        );
    }
    out.push_str("</g><g class=\"months\" fill=\"#5b6474\" text-anchor=\"middle\">");
    for (i, text) in month_ticks(months) {
        let _ = write!(
            out,
            "<text x=\"{}\" y=\"{}\">{}</text>",
            coord(x(i)),
            coord(TOP + PLOT_HEIGHT + 20.0),
            escape(&text)
        );
    }
    out.push_str("</g>");
    let band = |lower: &dyn Fn(&Quantiles) -> f64, upper: &dyn Fn(&Quantiles) -> f64| {
        let mut d = String::new();
        for (i, q) in bands.iter().enumerate() {
            let _ = write!(
                d,
                "{}{},{}",
                if i == 0 { 'M' } else { 'L' },
                coord(x(i)),
                coord(y(upper(q)))
            );
        }
        for (i, q) in bands.iter().enumerate().rev() {
            let _ = write!(d, "L{},{}", coord(x(i)), coord(y(lower(q))));
        }
        d.push('Z');
        d
    };
    let color = palette(0);
    let _ = write!(
        out,
        "<path d=\"{}\" fill=\"{color}\" fill-opacity=\"0.15\"><title>p5 to p95</title></path>",
        band(&|q| q.p5, &|q| q.p95)
    );
    let _ = write!(
        out,
        "<path d=\"{}\" fill=\"{color}\" fill-opacity=\"0.25\"><title>p10 to p90</title></path>",
        band(&|q| q.p10, &|q| q.p90)
    );
    let line = |values: &mut dyn Iterator<Item = f64>| {
        let mut d = String::new();
        for (i, v) in values.enumerate() {
            let _ = write!(
                d,
                "{}{},{}",
                if i == 0 { 'M' } else { 'L' },
                coord(x(i)),
                coord(y(v))
            );
        }
        d
    };
    let _ = write!(
        out,
        "<path d=\"{}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"2.4\"><title>median (p50)</title></path>",
        line(&mut bands.iter().map(|q| q.p50))
    );
    let _ = write!(
        out,
        "<path d=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\" stroke-dasharray=\"6 4\"><title>the plan as written</title></path>",
        line(&mut planned.iter().copied()),
        palette(7)
    );
    // Hover columns with the numbers.
    out.push_str("<g class=\"hover\" fill=\"#000\" fill-opacity=\"0\">");
    let half = if n <= 1 {
        (WIDTH - LEFT - RIGHT) / 2.0
    } else {
        (WIDTH - LEFT - RIGHT) / (n - 1) as f64 / 2.0
    };
    for (i, (m, q)) in months.iter().zip(bands).enumerate() {
        let _ = write!(
            out,
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"><title>{m}\nplanned: {}\np95: {}\np90: {}\np50: {}\np10: {}\np5: {}</title></rect>",
            coord((x(i) - half).max(LEFT)),
            coord(TOP),
            coord(2.0 * half),
            coord(PLOT_HEIGHT),
            escape(&label(planned[i])),
            escape(&label(q.p95)),
            escape(&label(q.p90)),
            escape(&label(q.p50)),
            escape(&label(q.p10)),
            escape(&label(q.p5))
        );
    }
    out.push_str("</g>");
    // Legend.
    let ly = TOP + PLOT_HEIGHT + 46.0;
    let _ = write!(
        out,
        "<g class=\"legend\" font-size=\"12\">\
         <rect x=\"{a}\" y=\"{r}\" width=\"14\" height=\"10\" fill=\"{color}\" fill-opacity=\"0.15\"/><text x=\"{at}\" y=\"{ly}\">p5 to p95</text>\
         <rect x=\"{b}\" y=\"{r}\" width=\"14\" height=\"10\" fill=\"{color}\" fill-opacity=\"0.4\"/><text x=\"{bt}\" y=\"{ly}\">p10 to p90</text>\
         <line x1=\"{c}\" x2=\"{c2}\" y1=\"{lm}\" y2=\"{lm}\" stroke=\"{color}\" stroke-width=\"2.4\"/><text x=\"{ct}\" y=\"{ly}\">median</text>\
         <line x1=\"{d}\" x2=\"{d2}\" y1=\"{lm}\" y2=\"{lm}\" stroke=\"{black}\" stroke-width=\"2\" stroke-dasharray=\"6 4\"/><text x=\"{dt}\" y=\"{ly}\">the plan as written</text></g>",
        a = coord(LEFT),
        at = coord(LEFT + 20.0),
        b = coord(LEFT + 120.0),
        bt = coord(LEFT + 140.0),
        c = coord(LEFT + 245.0),
        c2 = coord(LEFT + 265.0),
        ct = coord(LEFT + 271.0),
        d = coord(LEFT + 340.0),
        d2 = coord(LEFT + 360.0),
        dt = coord(LEFT + 366.0),
        r = coord(ly - 9.0),
        lm = coord(ly - 4.0),
        ly = coord(ly),
        black = palette(7),
    );
    out.push_str("</svg>");
    out
}

/// The tornado: for each deal, a bar from the median with the deal at its worst to the median
/// with it at its best; a line at the median with every deal uncertain.
pub(crate) fn tornado_chart(result: &RiskResult) -> String {
    let t = &result.tornado;
    let rows = t.bars.len();
    let row_h = 30.0;
    let label_w = 210.0;
    let height = TOP + rows.max(1) as f64 * row_h + 40.0;
    let mut out = String::new();
    let description = match t.bars.first() {
        Some(b) => format!(
            "Median facility power at {} with one deal fixed at its worst and best outcome; {} moves it most, from {} to {}.",
            t.month,
            b.deal,
            gw(b.worst_p50),
            gw(b.best_p50)
        ),
        None => "No deals to compare.".to_string(),
    };
    open_svg(
        &mut out,
        "tornado",
        "Which deal matters most",
        &description,
        height,
    );
    let hi = t
        .bars
        .iter()
        .map(|b| b.best_p50.max(b.worst_p50))
        .fold(t.base_p50, f64::max);
    let ticks = nice_ticks(0.0, hi, 6);
    let (lo, top) = (ticks[0], ticks[ticks.len() - 1]);
    let x0 = label_w;
    let x1 = WIDTH - RIGHT;
    let x = |v: f64| {
        let f = if top > lo {
            ((v - lo) / (top - lo)).clamp(0.0, 1.0)
        } else {
            0.0
        };
        x0 + (x1 - x0) * f
    };
    let bottom = TOP + rows.max(1) as f64 * row_h;
    let step = if ticks.len() >= 2 {
        ticks[1] - ticks[0]
    } else {
        1.0
    };
    out.push_str("<g class=\"grid\" stroke=\"#e6e9ef\">");
    for &tk in &ticks {
        let _ = write!(
            out,
            "<line x1=\"{xx}\" x2=\"{xx}\" y1=\"{}\" y2=\"{}\"/>",
            coord(TOP),
            coord(bottom),
            xx = coord(x(tk))
        );
    }
    out.push_str("</g><g fill=\"#5b6474\" text-anchor=\"middle\">");
    for &tk in &ticks {
        let _ = write!(
            out,
            "<text x=\"{}\" y=\"{}\">{} GW</text>",
            coord(x(tk)),
            coord(bottom + 18.0),
            plain_tick(tk, step)
        );
    }
    out.push_str("</g>");
    for (i, b) in t.bars.iter().enumerate() {
        let yy = TOP + i as f64 * row_h;
        let (l, r) = (b.worst_p50.min(b.best_p50), b.worst_p50.max(b.best_p50));
        let _ = write!(
            out,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>",
            coord(x0 - 8.0),
            coord(yy + row_h / 2.0 + 4.0),
            escape(&b.deal)
        );
        // Worst side in vermillion, best side in blue, split at the all-uncertain median.
        let base = t.base_p50.clamp(l, r);
        let bar = |from: f64, to: f64, color: &str, what: &str| {
            format!(
                "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{color}\"><title>{}: {what}</title></rect>",
                coord(x(from)),
                coord(yy + 6.0),
                coord((x(to) - x(from)).max(1.0)),
                coord(row_h - 12.0),
                escape(&b.deal)
            )
        };
        out.push_str(&bar(
            l,
            base,
            palette(3),
            &format!("worst ({}): median {}", b.worst, gw(b.worst_p50)),
        ));
        out.push_str(&bar(
            base,
            r,
            palette(0),
            &format!("best ({}): median {}", b.best, gw(b.best_p50)),
        ));
    }
    let _ = write!(
        out,
        "<line x1=\"{bx}\" x2=\"{bx}\" y1=\"{}\" y2=\"{}\" stroke=\"#1d2330\" stroke-width=\"1.5\"><title>median with every deal uncertain: {}</title></line>",
        coord(TOP - 4.0),
        coord(bottom + 4.0),
        escape(&gw(t.base_p50)),
        bx = coord(x(t.base_p50))
    );
    out.push_str("</svg>");
    out
}
