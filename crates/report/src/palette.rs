//! Colours that mean something: one hue per group (a deal, or a system where a tranche has
//! no deal), shades of that hue for the group's members (a deal's tranches), hues from the
//! Okabe–Ito palette, which stays distinct under the common colour-vision deficiencies.
//! Black is left out (it reads as an outline, and vanishes in dark mode) and so is yellow
//! (too light on white for a thin line); past seven groups the hues repeat, darker.

/// Okabe–Ito hues in the order groups take them.
pub(crate) const HUES: [&str; 7] = [
    "#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9", "#CC79A7", "#7F7F7F",
];

/// How far the lightest member of a group is mixed towards white (0: the hue itself).
const LIGHTEST: f64 = 0.62;

/// One colour per item: items with the same key share a hue (in order of the key's first
/// appearance), and the k-th of n members of a group is that hue mixed `k / (n - 1)` of the
/// way to `LIGHTEST` towards white, so a group reads as one family, first member darkest.
pub(crate) fn grouped_colors(keys: &[String]) -> Vec<String> {
    let mut groups: Vec<&str> = Vec::new();
    for key in keys {
        if !groups.contains(&key.as_str()) {
            groups.push(key);
        }
    }
    let mut seen = vec![0usize; groups.len()];
    keys.iter()
        .map(|key| {
            let group = groups.iter().position(|g| *g == key).expect("listed above");
            let members = keys.iter().filter(|k| *k == key).count();
            let member = seen[group];
            seen[group] += 1;
            let hue = HUES[group % HUES.len()];
            let darken = if group >= HUES.len() { 0.35 } else { 0.0 };
            let lighten = if members > 1 {
                LIGHTEST * member as f64 / (members - 1) as f64
            } else {
                0.0
            };
            mix(hue, darken, lighten)
        })
        .collect()
}

/// `hex` darkened towards black by `darken`, then lightened towards white by `lighten`
/// (fractions 0 to 1), as `#rrggbb`.
fn mix(hex: &str, darken: f64, lighten: f64) -> String {
    let channel = |i: usize| {
        let c = f64::from(u8::from_str_radix(&hex[1 + 2 * i..3 + 2 * i], 16).unwrap_or(0));
        let c = c * (1.0 - darken);
        (c + (255.0 - c) * lighten).round().clamp(0.0, 255.0) as u8
    };
    format!("#{:02x}{:02x}{:02x}", channel(0), channel(1), channel(2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_groups_members_are_shades_of_its_hue() {
        let keys: Vec<String> = ["loi", "loi", "loi", "amd", "sys:dgx-h100"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let colors = grouped_colors(&keys);
        // The first member is the hue itself; the last is 62% of the way to white:
        // 0 + 255 * 0.62 = 158.1 = 0x9e; 114 + 141 * 0.62 = 201.4 = 0xc9;
        // 178 + 77 * 0.62 = 225.7 = 0xe2.
        assert_eq!(colors[0], "#0072b2");
        assert_eq!(colors[2], "#9ec9e2");
        assert_ne!(colors[1], colors[0]);
        assert_eq!(colors[3], "#e69f00");
        assert_eq!(colors[4], "#009e73");
    }

    #[test]
    fn hues_repeat_darker_past_seven_groups() {
        let keys: Vec<String> = (0..9).map(|k| format!("deal-{k}")).collect();
        let colors = grouped_colors(&keys);
        assert_ne!(colors[7], colors[0]);
        assert_eq!(
            colors
                .iter()
                .collect::<std::collections::BTreeSet<_>>()
                .len(),
            9
        );
    }
}
