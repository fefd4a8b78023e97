//! Where a serving layout's decode step goes: the step's parts in the order they are drawn and
//! tabled, and the stacked bar chart of them per system type (the fleet serving report and the
//! dashboard's serving page both draw it).

use std::fmt::Write as _;

use engine::infer::InferResult;

use crate::serving::{ms, share};
use crate::svg::{self, coord, escape};

/// The parts of a decode step, in the order they are drawn and tabled. The first seven are
/// always tabled; pipeline hand-offs, drafting (speculative decoding), the engine's own time
/// (its fitted per-sequence cost and step factor) and `Other` only where a step has them.
/// `Other` is whatever of the step the named parts leave out (none today; it keeps the bar
/// honest if a part is added to the model before it is named here).
pub fn step_parts(r: &InferResult) -> [(&'static str, f64); 11] {
    let d = &r.detail.decode_step;
    let named = [
        ("Dense GEMM", d.dense_gemm_s),
        ("Expert GEMM", d.expert_gemm_s),
        ("KV read", d.kv_read_s),
        ("Attention", d.attention_compute_s),
        ("TP comm", d.tp_comm_s),
        ("EP comm", d.ep_comm_s),
        ("Launch", d.launch_s),
        ("PP comm", d.pp_comm_s),
        ("Drafting", d.draft_s),
        ("Engine", d.engine_s),
    ];
    let sum: f64 = named.iter().map(|(_, v)| v.max(0.0)).sum();
    let other = d.step_s - sum;
    let other = if other > 1e-9 * d.step_s { other } else { 0.0 };
    let [a, b, c, e, f, g, h, p, k, n] = named;
    [a, b, c, e, f, g, h, p, k, n, ("Other", other)]
}

/// A horizontal stacked bar per labelled result (a system type here, a layout in the
/// dashboard): the parts of its decode step, in ms, with a mark at the step time where overlap
/// makes it shorter than the parts. Returns the SVG and an HTML legend of the parts that appear.
pub fn step_chart(bars: &[(String, &InferResult)]) -> (String, String) {
    if bars.is_empty() {
        return (String::new(), String::new());
    }
    let best: Vec<&InferResult> = bars.iter().map(|(_, r)| *r).collect();
    let label = |row: usize| bars[row].0.as_str();
    const WIDTH: f64 = 900.0;
    const LEFT: f64 = 170.0;
    const RIGHT: f64 = 24.0;
    const TOP: f64 = 10.0;
    const BAR: f64 = 22.0;
    const GAP: f64 = 12.0;
    let total = |b: &InferResult| step_parts(b).iter().map(|(_, v)| v.max(0.0)).sum::<f64>();
    let max = best
        .iter()
        .map(|b| total(b).max(b.detail.decode_step.step_s))
        .fold(0.0, f64::max);
    let ticks = svg::nice_ticks(0.0, max * 1e3, 6);
    let step = if ticks.len() >= 2 {
        ticks[1] - ticks[0]
    } else {
        1.0
    };
    let hi = ticks[ticks.len() - 1].max(f64::MIN_POSITIVE);
    let x = |seconds: f64| LEFT + (WIDTH - LEFT - RIGHT) * (seconds * 1e3 / hi).clamp(0.0, 1.0);
    let plot_bottom = TOP + best.len() as f64 * (BAR + GAP);
    let height = plot_bottom + 30.0;
    let mut out = String::new();
    let description = best
        .iter()
        .enumerate()
        .map(|(row, b)| {
            format!(
                "{}: step {}, of which {}.",
                label(row),
                ms(b.detail.decode_step.step_s),
                step_parts(b)
                    .iter()
                    .filter(|(_, v)| *v > 0.0)
                    .map(|(name, v)| format!("{name} {}", ms(*v)))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
        .collect::<Vec<_>>()
        .join(" ");
    svg::open_svg(
        &mut out,
        "chart-step",
        "Decode step time by part, per system type, milliseconds",
        &description,
        WIDTH,
        height,
    );
    out.push_str("<g class=\"grid\" stroke=\"#e6e9ef\">");
    for &t in &ticks {
        let tx = coord(x(t / 1e3));
        let _ = write!(
            out,
            "<line x1=\"{tx}\" x2=\"{tx}\" y1=\"{}\" y2=\"{}\"/>",
            coord(TOP - 4.0),
            coord(plot_bottom)
        );
    }
    out.push_str("</g><g class=\"xlabels\" text-anchor=\"middle\" fill=\"#5b6474\">");
    for &t in &ticks {
        let _ = write!(
            out,
            "<text x=\"{}\" y=\"{}\">{} ms</text>",
            coord(x(t / 1e3)),
            coord(plot_bottom + 18.0),
            escape(&svg::plain_tick(t, step))
        );
    }
    out.push_str("</g>");
    let mut used = [false; 11];
    for (row, b) in best.iter().enumerate() {
        let y = TOP + row as f64 * (BAR + GAP);
        let d = &b.detail.decode_step;
        let _ = write!(
            out,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>",
            coord(LEFT - 8.0),
            coord(y + BAR / 2.0 + 4.0),
            escape(label(row))
        );
        let mut start = 0.0;
        for (k, (name, part)) in step_parts(b).iter().enumerate() {
            if *part <= 0.0 {
                continue;
            }
            used[k] = true;
            let _ = write!(
                out,
                "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\" stroke=\"#fff\" stroke-width=\"0.6\"><title>{}</title></rect>",
                coord(x(start)),
                coord(y),
                coord((x(start + part) - x(start)).max(0.0)),
                coord(BAR),
                svg::palette(k),
                escape(&format!(
                    "{}: {name} {} ({} of the step)",
                    label(row),
                    ms(*part),
                    share(*part, d.step_s)
                ))
            );
            start += part;
        }
        if start > d.step_s * (1.0 + 1e-9) {
            let sx = coord(x(d.step_s));
            let _ = write!(
                out,
                "<line x1=\"{sx}\" x2=\"{sx}\" y1=\"{}\" y2=\"{}\" stroke=\"#1d2330\" stroke-width=\"2\"><title>{}</title></line>",
                coord(y - 3.0),
                coord(y + BAR + 3.0),
                escape(&format!(
                    "{}: the step, {} (overlap hides the rest)",
                    label(row),
                    ms(d.step_s)
                ))
            );
        }
    }
    out.push_str("</svg>");
    let mut legend = String::from("<figcaption>");
    for (k, (name, _)) in step_parts(best[0]).iter().enumerate() {
        if used[k] {
            let _ = write!(
                legend,
                "{}{}&nbsp;&nbsp; ",
                crate::html::swatch(svg::palette(k)),
                escape(name)
            );
        }
    }
    legend.push_str("</figcaption>");
    (out, legend)
}
