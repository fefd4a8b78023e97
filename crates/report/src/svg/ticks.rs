//! Axis ticks: "nice" value ticks (1, 2 or 5 times a power of ten), their labels, and month
//! ticks spaced to the span a chart covers.

use units::Month;

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::svg::coord;

    fn close(a: &[f64], b: &[f64]) -> bool {
        a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-9)
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
}
