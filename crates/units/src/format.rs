//! Human formatting: three significant figures and an SI prefix, the way analysts quote them.

/// Formats `value` with an SI prefix (k, M, G, T, P, E, Z) and three significant figures,
/// followed by `unit`: `fmt_si(1.2e9, "W")` is `"1.20 GW"`.
pub fn fmt_si(value: f64, unit: &str) -> String {
    if !value.is_finite() {
        return format!("{value} {unit}");
    }
    if value == 0.0 {
        return format!("0 {unit}");
    }
    const PREFIXES: [(f64, &str); 7] = [
        (1e21, "Z"),
        (1e18, "E"),
        (1e15, "P"),
        (1e12, "T"),
        (1e9, "G"),
        (1e6, "M"),
        (1e3, "k"),
    ];
    let magnitude = value.abs();
    for (scale, prefix) in PREFIXES {
        if magnitude >= scale * 0.9995 {
            return format!("{} {prefix}{unit}", three_significant(value / scale));
        }
    }
    format!("{} {unit}", three_significant(value))
}

fn three_significant(value: f64) -> String {
    let magnitude = value.abs();
    if magnitude >= 99.95 {
        format!("{value:.0}")
    } else if magnitude >= 9.995 {
        format!("{value:.1}")
    } else {
        format!("{value:.2}")
    }
}

/// Power in watts: `"1.20 GW"`, `"132 kW"`.
pub fn fmt_power_w(power_w: f64) -> String {
    fmt_si(power_w, "W")
}

/// FLOP/s: `"4.50 EFLOP/s"`.
pub fn fmt_flops(flops: f64) -> String {
    fmt_si(flops, "FLOP/s")
}

/// Energy in TWh with two decimals below 10: `"8.41 TWh"`.
pub fn fmt_energy_twh(energy_twh: f64) -> String {
    format!("{} TWh", three_significant(energy_twh))
}

/// Money the way the press writes it: `"$35.2B"`, `"$9.10M"`, `"$270k"`, `"$1.40T"`.
pub fn fmt_usd(usd: f64) -> String {
    if !usd.is_finite() {
        return format!("${usd}");
    }
    let sign = if usd < 0.0 { "-" } else { "" };
    let magnitude = usd.abs();
    const SCALES: [(f64, &str); 4] = [(1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")];
    for (scale, suffix) in SCALES {
        if magnitude >= scale * 0.9995 {
            return format!("{sign}${}{suffix}", three_significant(magnitude / scale));
        }
    }
    format!("{sign}${magnitude:.0}")
}

/// A count with thousands separators: `4_520_000.0` is `"4,520,000"`.
pub fn fmt_count(count: f64) -> String {
    let rounded = count.round();
    let digits = format!("{:.0}", rounded.abs());
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if rounded < 0.0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A number with thousands separators and `decimals` decimals: `fmt_grouped(153086.44, 1)` is
/// `"153,086.4"`. For figures that are not whole counts (means per run, TFLOP/s, hours).
pub fn fmt_grouped(value: f64, decimals: usize) -> String {
    if !value.is_finite() {
        return format!("{value}");
    }
    let text = format!("{:.*}", decimals, value.abs());
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
    let negative = value < 0.0 && text.chars().any(|c| c.is_ascii_digit() && c != '0');
    let mut out = String::with_capacity(text.len() + whole.len() / 3 + 1);
    if negative {
        out.push('-');
    }
    group_into(&mut out, whole);
    if !fraction.is_empty() {
        out.push('.');
        out.push_str(fraction);
    }
    out
}

/// A catalog figure as it was written, with thousands separators: `1978.9` is `"1,978.9"`,
/// `9_100_000.0` is `"9,100,000"`, `0.0806` stays `"0.0806"` (the shortest exact decimal).
/// From 1e15 up it is scientific (`1e308`, not 309 digits), as an out-of-range input is quoted
/// back to its writer.
pub fn fmt_number(value: f64) -> String {
    if !value.is_finite() || value.abs() >= 1e15 {
        return format!("{value:e}");
    }
    let text = format!("{}", value.abs());
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
    let mut out = String::with_capacity(text.len() + whole.len() / 3 + 1);
    if value < 0.0 {
        out.push('-');
    }
    group_into(&mut out, whole);
    if !fraction.is_empty() {
        out.push('.');
        out.push_str(fraction);
    }
    out
}

/// A count of things per unit the way the press writes large counts: thousand, million,
/// billion, trillion as k, M, B, T, three significant figures: `fmt_short_scale(4.0e10,
/// "tokens/s")` is `"40.0 B tokens/s"`. SI's G and P read as giga/peta only to engineers; for
/// tokens, requests and dollars the short scale is what readers know.
pub fn fmt_short_scale(value: f64, unit: &str) -> String {
    let space = if unit.is_empty() { "" } else { " " };
    if !value.is_finite() {
        return format!("{value}{space}{unit}");
    }
    const SCALES: [(f64, &str); 5] = [(1e15, "Q"), (1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")];
    let magnitude = value.abs();
    for (scale, suffix) in SCALES {
        if magnitude >= scale * 0.9995 {
            return format!("{} {suffix}{space}{unit}", three_significant(value / scale));
        }
    }
    if value == 0.0 {
        return format!("0{space}{unit}");
    }
    format!("{}{space}{unit}", three_significant(value))
}

fn group_into(out: &mut String, digits: &str) {
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn si_prefixes_and_significant_figures() {
        assert_eq!(fmt_power_w(1.2e9), "1.20 GW");
        assert_eq!(fmt_power_w(132_000.0), "132 kW");
        assert_eq!(fmt_power_w(10.0e9), "10.0 GW");
        assert_eq!(fmt_flops(4.5e18), "4.50 EFLOP/s");
        // 999.97 rounds up past the prefix boundary, so it moves to the next prefix.
        assert_eq!(fmt_power_w(999_970.0), "1.00 MW");
        assert_eq!(fmt_power_w(12.0), "12.0 W");
        assert_eq!(fmt_power_w(0.0), "0 W");
    }

    #[test]
    fn money_reads_like_the_press() {
        assert_eq!(fmt_usd(35.2e9), "$35.2B");
        assert_eq!(fmt_usd(9.1e6), "$9.10M");
        assert_eq!(fmt_usd(270_000.0), "$270k");
        assert_eq!(fmt_usd(1.4e12), "$1.40T");
        assert_eq!(fmt_usd(-3.0e9), "-$3.00B");
        assert_eq!(fmt_usd(12.0), "$12");
    }

    #[test]
    fn counts_get_separators() {
        assert_eq!(fmt_count(4_520_000.0), "4,520,000");
        assert_eq!(fmt_count(999.0), "999");
        assert_eq!(fmt_count(1000.0), "1,000");
        assert_eq!(fmt_count(0.0), "0");
    }

    #[test]
    fn grouped_and_plain_numbers_get_separators() {
        assert_eq!(fmt_grouped(153_086.44, 1), "153,086.4");
        assert_eq!(fmt_grouped(-1_234.5, 0), "-1,234");
        assert_eq!(fmt_grouped(-0.04, 1), "0.0");
        assert_eq!(fmt_grouped(999.96, 1), "1,000.0");
        assert_eq!(fmt_number(1978.9), "1,978.9");
        assert_eq!(fmt_number(9_100_000.0), "9,100,000");
        assert_eq!(fmt_number(0.0806), "0.0806");
        assert_eq!(fmt_number(-12_345.0), "-12,345");
        // An out-of-range input is quoted back readably, not as 309 digits.
        assert_eq!(fmt_number(1e308), "1e308");
        assert_eq!(fmt_number(-2.5e20), "-2.5e20");
    }

    #[test]
    fn short_scale_reads_like_the_press() {
        assert_eq!(fmt_short_scale(4.0e10, "tokens/s"), "40.0 B tokens/s");
        assert_eq!(fmt_short_scale(2.5e6, "tokens/s"), "2.50 M tokens/s");
        assert_eq!(fmt_short_scale(1.5e12, ""), "1.50 T");
        assert_eq!(fmt_short_scale(0.0, "tokens/s"), "0 tokens/s");
    }
}
