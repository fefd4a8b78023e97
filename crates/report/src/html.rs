//! The self-contained HTML report: one file with inline CSS and inline SVG charts, no
//! JavaScript, fonts, images or network loads, so it opens from disk or as an attachment.
//! Every piece of text that comes from the result is escaped (names come from user files),
//! and the output is deterministic: the same result gives the same bytes.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use engine::PlanResult;
use units::{fmt_count, fmt_energy_twh, fmt_power_w, fmt_usd, Month, W_PER_GW};

use crate::svg::{self, escape};

use crate::html_tables::{assumptions, deals, sources, tranches};
#[cfg(test)]
use crate::html_tables::{fmt_value, source_anchor};
pub(crate) use crate::html_tables::{prose, swatch, table_close, table_open};
use crate::html_timeline::charts;
pub(crate) use crate::style::STYLE;

/// The plan as one self-contained HTML page.
pub fn plan_html(result: &PlanResult) -> String {
    let mut out = String::with_capacity(64 * 1024);
    let scenario = &result.scenario;
    let title = if scenario.name.trim().is_empty() {
        "Untitled scenario".to_string()
    } else {
        scenario.name.clone()
    };
    page_open(&mut out, &result.engine_version, &title, "plan");
    header(&mut out, result, &title);
    out.push_str("<section id=\"opening\">\n");
    out.push_str(&crate::opening::html(result, escape));
    out.push_str("</section>\n");
    warnings(&mut out, result);
    headline(&mut out, result);
    charts(&mut out, result);
    if let Some(capability) = &result.capability {
        out.push_str(&crate::capability::html(capability));
    }
    tranches(&mut out, result);
    deals(&mut out, result);
    out.push_str(&crate::knowledge::html(&result.knowledge));
    assumptions(&mut out, result);
    sources(&mut out, result);
    footer(&mut out, result);
    out.push_str("</main>\n</body>\n</html>\n");
    out
}

fn header(out: &mut String, result: &PlanResult, title: &str) {
    let s = &result.scenario;
    let timeline = if s.first_month.is_empty() && s.end_month.is_empty() {
        "none".to_string()
    } else {
        format!(
            "{} to {} ({} months)",
            s.first_month,
            s.end_month,
            result.timeline.len()
        )
    };
    report_header(
        out,
        "gigawatt plan report",
        title,
        &s.description,
        &[
            ("Timeline", timeline, false),
            ("Origin", s.origin.clone(), false),
        ],
    );
}

/// Opens a self-contained page: the document head with the shared stylesheet, titled
/// "`title` · gigawatt `command`", and the page's main column (every HTML report starts so).
pub(crate) fn page_open(out: &mut String, engine_version: &str, title: &str, command: &str) {
    let _ = write!(
        out,
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"generator\" content=\"gigawatt {}\">\n<title>{} · gigawatt {command}</title>\n\
         <style>{STYLE}</style>\n</head>\n<body>\n<main class=\"wrap\">\n",
        escape(engine_version),
        escape(title)
    );
}

/// A report's header: the kind of report, the title, the description and a list of facts
/// (label, value, whether the value is code such as a hash or a version).
pub(crate) fn report_header(
    out: &mut String,
    eyebrow: &str,
    title: &str,
    description: &str,
    meta: &[(&str, String, bool)],
) {
    let _ = writeln!(
        out,
        "<header>\n<p class=\"eyebrow\">{}</p>\n<h1>{}</h1>",
        escape(eyebrow),
        escape(title)
    );
    if !description.trim().is_empty() {
        let _ = writeln!(out, "<p class=\"desc\">{}</p>", escape(description.trim()));
    }
    out.push_str("<dl class=\"meta\">\n");
    for (label, value, code) in meta {
        let value = if *code {
            format!("<code>{}</code>", escape(value))
        } else {
            escape(value)
        };
        let _ = writeln!(out, "<dt>{label}</dt><dd>{value}</dd>");
    }
    out.push_str("</dl>\n</header>\n");
}

fn warnings(out: &mut String, result: &PlanResult) {
    if result.warnings.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "<section class=\"callout\" role=\"note\" aria-labelledby=\"warnings-title\">\n\
         <h2 id=\"warnings-title\">⚠ {} {}</h2>\n<ul>",
        result.warnings.len(),
        if result.warnings.len() == 1 {
            "warning"
        } else {
            "warnings"
        }
    );
    for warning in &result.warnings {
        let _ = writeln!(out, "<li>{}</li>", prose(warning));
    }
    out.push_str("</ul>\n</section>\n");
}

/// A headline card: label, value (`None` shows "unknown") and a detail line.
pub(crate) fn card(out: &mut String, label: &str, value: Option<String>, detail: &str) {
    let (class, value) = match value {
        Some(v) => ("value", prose(&v)),
        None => ("value unknown", "unknown".to_string()),
    };
    let _ = write!(
        out,
        "<div class=\"card\"><div class=\"label\">{}</div><div class=\"{class}\">{value}</div>",
        escape(label)
    );
    if !detail.is_empty() {
        let _ = write!(out, "<div class=\"detail\">{}</div>", prose(detail));
    }
    out.push_str("</div>\n");
}

pub(crate) fn gw(value_gw: f64) -> String {
    fmt_power_w(value_gw * W_PER_GW)
}

fn headline(out: &mut String, result: &PlanResult) {
    let t = &result.totals;
    let _ = writeln!(
        out,
        "<section id=\"headline\">\n<h2>Headline figures</h2>\n\
         <p class=\"sub\">At the end of {} (the last month of the timeline).</p>\n<div class=\"cards\">",
        escape(&t.month.to_string())
    );
    card(
        out,
        "Facility power online",
        Some(gw(t.facility_gw)),
        "including cooling and losses (PUE)",
    );
    card(
        out,
        "IT power online",
        Some(gw(t.it_gw)),
        "nameplate IT load",
    );
    card(
        out,
        "Systems",
        Some(fmt_count(t.systems)),
        "racks or servers online",
    );
    card(
        out,
        "Accelerators",
        Some(fmt_count(t.accelerators)),
        "accelerator packages online",
    );
    card(
        out,
        "H100-equivalents",
        t.h100e.map(fmt_count),
        "by dense BF16 FLOP/s",
    );
    // A card shows "not supported" (rather than "0 FLOP/s") for a precision no chip has.
    let peak = |flops: Option<f64>| flops.map(|_| crate::peak_flops_text(flops, t.accelerators));
    card(out, "Peak dense BF16", peak(t.bf16_dense_flops), "");
    card(out, "Peak dense FP8", peak(t.fp8_dense_flops), "");
    card(out, "Peak dense FP4", peak(t.fp4_dense_flops), "");
    card(
        out,
        "Capex to date",
        Some(fmt_usd(t.capex_usd)),
        &format!(
            "systems {} · networking {} · facility {}",
            fmt_usd(t.capex_systems_usd),
            fmt_usd(t.capex_networking_usd),
            fmt_usd(t.capex_facility_usd)
        ),
    );
    card(
        out,
        "Opex to date",
        Some(fmt_usd(t.opex_usd)),
        &format!(
            "energy {} · other {}",
            fmt_usd(t.opex_energy_usd),
            fmt_usd(t.opex_other_usd)
        ),
    );
    card(
        out,
        "Energy drawn",
        Some(format!("{}/yr", fmt_energy_twh(t.energy_twh_per_year))),
        &format!(
            "at the final month's rate; {} to date",
            fmt_energy_twh(t.energy_twh)
        ),
    );
    card(
        out,
        crate::opening::financing_label(result),
        Some(fmt_usd(t.financing_usd)),
        "to date",
    );
    out.push_str("</div>\n</section>\n");
}

/// Tranche names in chart order: the result's tranches, then any name only the timeline has.
fn tranche_names(result: &PlanResult) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    let mut seen = BTreeSet::new();
    let timeline_names = result
        .timeline
        .iter()
        .flat_map(|row| row.by_tranche.iter().map(|t| &t.tranche));
    for name in result
        .tranches
        .iter()
        .map(|t| &t.totals.tranche)
        .chain(timeline_names)
    {
        if seen.insert(name.as_str()) {
            names.push(name.clone());
        }
    }
    names
}

pub(crate) fn usd_tick(value: f64, step: f64) -> String {
    if value == 0.0 {
        "$0".into()
    } else if step < 1.0 {
        format!("${}", svg::plain_tick(value, step))
    } else {
        svg::trim_zeros(&fmt_usd(value))
    }
}

/// A count on an axis in the short scale readers know: `40 B`, `2.5 M`, `500 k` (never SI's
/// `G` for giga-tokens).
pub(crate) fn count_tick(value: f64, step: f64) -> String {
    if value.abs() < 1000.0 {
        svg::plain_tick(value, step)
    } else {
        svg::trim_zeros(units::fmt_short_scale(value, "").trim_end())
    }
}

/// Tranche names for the capacity chart, grouped: every tranche of a deal (or, without a
/// deal, of a system) together, groups in order of first appearance.
pub(crate) fn grouped_tranche_names(result: &PlanResult) -> Vec<String> {
    let names = tranche_names(result);
    let keys: Vec<String> = names.iter().map(|n| group_key(result, n)).collect();
    let mut order: Vec<&String> = Vec::new();
    for key in &keys {
        if !order.contains(&key) {
            order.push(key);
        }
    }
    let mut indexed: Vec<(usize, usize, String)> = names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let group = order.iter().position(|k| *k == &keys[i]).unwrap_or(0);
            (group, i, n.clone())
        })
        .collect();
    indexed.sort();
    indexed.into_iter().map(|(_, _, n)| n).collect()
}

/// The colour group of a tranche: its deal, else its system.
pub(crate) fn group_key(result: &PlanResult, tranche: &str) -> String {
    match result.tranches.iter().find(|t| t.totals.tranche == tranche) {
        Some(t) => match &t.deal {
            Some(deal) => format!("deal:{deal}"),
            None => format!("system:{}", t.system),
        },
        None => format!("tranche:{tranche}"),
    }
}

/// A one-sentence summary of a series for screen readers: its final and peak values.
pub(crate) fn describe(
    what: &str,
    months: &[Month],
    values: &[Option<f64>],
    format: &dyn Fn(f64) -> String,
) -> String {
    let (Some(first), Some(last)) = (months.first(), months.last()) else {
        return format!("{what}: no months.");
    };
    let known: Vec<f64> = values
        .iter()
        .flatten()
        .copied()
        .filter(|v| v.is_finite())
        .collect();
    let Some(final_value) = values.last().copied().flatten() else {
        return format!("{what} from {first} to {last}; the final value is unknown.");
    };
    let peak = known.iter().copied().fold(f64::MIN, f64::max);
    if peak > final_value {
        format!(
            "{what} from {first} to {last}: {} at the end, peaking at {}.",
            format(final_value),
            format(peak)
        )
    } else {
        format!(
            "{what} from {first} to {last}: {} at the end.",
            format(final_value)
        )
    }
}

pub(crate) fn figure(out: &mut String, heading: &str, caption: &str, svg: &str) {
    let _ = writeln!(
        out,
        "<figure>\n<h3>{}</h3>\n<figcaption>{}</figcaption>\n{svg}\n</figure>",
        escape(heading),
        escape(caption)
    );
}

fn footer(out: &mut String, result: &PlanResult) {
    let s = &result.scenario;
    let _ = writeln!(
        out,
        "<footer>\n<p>Produced by gigawatt {} (schema {}) from <strong>{}</strong> (input <code>{}</code>, catalog <code>{}</code>): \
         a deterministic month-by-month model of the scenario's tranches; every input is listed in the assumptions ledger with its source.</p>\n\
         <ul>\n<li>Stocks (power, systems, accelerators) are as of the end of each month; money and energy add up month by month.</li>\n\
         <li>Systems and networking capex are paid in the month the systems come online.</li>\n\
         <li>Facility capex is spread evenly over the build months before power-on, ending in the power-on month.</li>\n\
         <li>Energy = IT power × utilization × PUE; other opex is a yearly fraction of the capex in service, charged monthly.</li>\n\
         <li>H100-equivalents count dense BF16 FLOP/s against the reference accelerator; peaks are dense, not sparse.</li>\n</ul>\n</footer>",
        escape(&result.engine_version),
        result.schema_version,
        escape(&s.origin),
        escape(&s.input_hash),
        escape(&result.catalog_version),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use engine::{Assumption, DealSummary, SourceRef};

    /// Two tranches of DGX H100 from the embedded catalog. `fleet` is not a dependency of
    /// this crate, so rows are built by cloning one the engine made and rewriting every field.
    fn seed(end: &str) -> PlanResult {
        let catalog = catalog::Catalog::embedded().expect("embedded catalog loads");
        let text = format!(
            "name = \"seed\"\nend = \"{end}\"\n\
             [[tranche]]\nname = \"one\"\nsystem = \"dgx-h100\"\nsystems = 100\nstart = \"2027-01\"\nbuild_months = 1\n\
             [[tranche]]\nname = \"two\"\nsystem = \"dgx-h100\"\nsystems = 200\nstart = \"2027-02\"\nbuild_months = 1\n"
        );
        engine::plan_text(&catalog, "seed.toml", &text).expect("seed plan runs")
    }

    /// A hand-written result: 2 tranches, 3 months, names with markup in them.
    fn small() -> PlanResult {
        let mut r = seed("2027-03");
        r.scenario.name = "Test <plan> & \"friends\"".into();
        r.scenario.description = "Line one\nLine 'two'".into();
        r.scenario.origin = "test.toml".into();
        r.scenario.first_month = "2027-01".into();
        r.scenario.end_month = "2027-03".into();
        r.warnings = vec!["watch <this>".into()];
        let names = ["Alpha <script>alert(1)</script>", "Beta & Co"];
        let template = r.timeline[0].clone();
        let tranche_template = template.by_tranche[0].clone();
        r.timeline = (0..3)
            .map(|i| {
                let mut row = template.clone();
                row.month = Month::new(2027, 1 + i as u32).unwrap();
                row.by_tranche = names
                    .iter()
                    .enumerate()
                    .map(|(k, name)| {
                        let mut t = tranche_template.clone();
                        t.tranche = (*name).into();
                        t.facility_gw = 0.1 * (i + k) as f64;
                        t.it_gw = t.facility_gw / 1.2;
                        t.systems = 10.0 * (i + k) as f64;
                        t.accelerators = 8.0 * t.systems;
                        t
                    })
                    .collect();
                row.facility_gw = row.by_tranche.iter().map(|t| t.facility_gw).sum();
                row.it_gw = row.by_tranche.iter().map(|t| t.it_gw).sum();
                row.systems = row.by_tranche.iter().map(|t| t.systems).sum();
                row.accelerators = row.by_tranche.iter().map(|t| t.accelerators).sum();
                row.h100e = if i == 1 { None } else { Some(row.accelerators) };
                row.capex_usd = 1e9 * (i + 1) as f64;
                row.opex_usd = 1e7 * i as f64;
                row.financing_usd = if i == 2 { 5e8 } else { 0.0 };
                row
            })
            .collect();
        r.totals = r.timeline[2].clone();
        r.totals.h100e = None;
        for (t, name) in r.tranches.iter_mut().zip(names) {
            t.totals.tranche = name.into();
        }
        r.deals = vec![DealSummary {
            id: "deal-x".into(),
            name: "Deal <X>".into(),
            status: "binding".into(),
            status_as_of: Some("2026-01-01".into()),
            status_source: Some("src-a".into()),
            status_note: None,
        }];
        r.assumptions = vec![
            Assumption {
                name: "system[dgx-h100].price_usd".into(),
                value: 270_000.0,
                unit: "USD".into(),
                source: "src-a".into(),
                note: Some("a 'note'".into()),
                low: None,
                high: None,
                range_from: None,
            },
            Assumption {
                name: "tranche[one].pue".into(),
                value: 1.2,
                unit: "facility W per IT W".into(),
                source: "scenario".into(),
                note: None,
                low: None,
                high: None,
                range_from: None,
            },
        ];
        r.sources = vec![
            SourceRef {
                id: "src-a".into(),
                title: "A <source>".into(),
                url: "https://example.com/a?x=1&y=2".into(),
                date: "2025-01-01".into(),
                kind: "vendor-spec".into(),
            },
            SourceRef {
                id: "scenario".into(),
                title: "Set in test.toml".into(),
                url: String::new(),
                date: String::new(),
                kind: "user-input".into(),
            },
            SourceRef {
                id: "evil".into(),
                title: "Evil".into(),
                url: "javascript:alert(1)".into(),
                date: String::new(),
                kind: "user-input".into(),
            },
        ];
        r
    }

    #[test]
    fn escape_handles_markup() {
        assert_eq!(escape("<a>&\"'"), "&lt;a&gt;&amp;&quot;&#39;");
    }

    #[test]
    fn report_contains_the_parts_escaped() {
        let html = plan_html(&small());
        assert!(html.starts_with("<!doctype html>"));
        assert!(html.contains("<svg"));
        // Capacity, money, accelerators, H100-equivalents (one quantity per chart).
        assert_eq!(html.matches("<svg class=\"chart\"").count(), 4);
        assert!(html.contains("role=\"img\""));
        assert!(html.contains("Test &lt;plan&gt; &amp; &quot;friends&quot;"));
        assert!(html.contains("Alpha &lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(html.contains("Beta &amp; Co"));
        assert!(!html.contains("<script"));
        assert!(html.contains("watch &lt;this&gt;"));
        assert!(html.contains("href=\"#source-src-a\""));
        assert!(html.contains("id=\"source-src-a\""));
        assert!(html.contains("href=\"#source-scenario\""));
        assert!(html.contains(
            "<a href=\"https://example.com/a?x=1&amp;y=2\" rel=\"noopener\" target=\"_blank\">A &lt;source&gt;</a>"
        ));
        assert!(!html.contains("href=\"javascript:"));
        assert!(html.contains(">unknown<"), "None h100e shows as unknown");
        assert!(html.contains("270,000"));
        for section in [
            "headline",
            "charts",
            "tranches",
            "deals",
            "assumptions",
            "sources",
        ] {
            assert!(
                html.contains(&format!("<section id=\"{section}\">")),
                "{section}"
            );
        }
    }

    #[test]
    fn report_loads_nothing_from_outside() {
        let html = plan_html(&small());
        for forbidden in [
            "<script",
            "<link",
            "@import",
            "url(",
            "<img",
            "<iframe",
            "src=",
            "@font-face",
        ] {
            assert!(!html.contains(forbidden), "{forbidden}");
        }
        // The only web addresses are source links.
        let mut rest = html.as_str();
        while let Some(at) = rest.find("http") {
            let before = &rest[..at];
            assert!(
                before.ends_with("<a href=\""),
                "unexpected http near {}",
                &rest[at.saturating_sub(40)..at + 40]
            );
            rest = &rest[at + 4..];
        }
    }

    #[test]
    fn report_is_deterministic() {
        assert_eq!(plan_html(&small()), plan_html(&small()));
    }

    #[test]
    fn edge_cases_do_not_panic() {
        let mut r = small();
        r.timeline.truncate(1);
        r.warnings.clear();
        r.deals.clear();
        for row in &mut r.timeline {
            for t in &mut row.by_tranche {
                t.facility_gw = 0.0;
            }
            row.capex_usd = 0.0;
            row.opex_usd = 0.0;
            row.accelerators = 0.0;
            row.h100e = None;
        }
        let html = plan_html(&r);
        assert!(!html.contains("class=\"callout\""));
        assert!(html.contains("No catalog deals"));
        assert!(!html.contains("NaN") && !html.contains("inf<"));

        r.timeline.clear();
        r.tranches.clear();
        r.assumptions.clear();
        r.sources.clear();
        let html = plan_html(&r);
        assert!(html.contains("No months to chart"));
        assert!(html.ends_with("</html>\n"));
    }

    #[test]
    fn many_tranches_over_six_years_stay_small() {
        let mut r = seed("2032-12");
        let template = r.timeline[0].by_tranche[0].clone();
        let tranche_template = r.tranches[0].clone();
        r.tranches = (0..10)
            .map(|k| {
                let mut t = tranche_template.clone();
                t.totals.tranche = format!("Tranche number {k} with a longish name");
                t
            })
            .collect();
        assert!(r.timeline.len() >= 72, "{}", r.timeline.len());
        for (i, row) in r.timeline.iter_mut().enumerate() {
            row.by_tranche = (0..10)
                .map(|k| {
                    let mut t = template.clone();
                    t.tranche = format!("Tranche number {k} with a longish name");
                    t.facility_gw = (i as f64 - 6.0 * k as f64).max(0.0) * 0.013;
                    t
                })
                .collect();
        }
        let html = plan_html(&r);
        assert!(html.len() < 500_000, "{} bytes", html.len());
        for k in 0..10 {
            assert!(html.contains(&format!("Tranche number {k} with")));
        }
    }

    #[test]
    fn values_are_formatted_for_people() {
        assert_eq!(fmt_value(270_000.0), "270,000");
        assert_eq!(fmt_value(2_630_000.5), "2,630,001");
        assert_eq!(fmt_value(1234.5), "1,234.5");
        assert_eq!(fmt_value(1.2), "1.2");
        assert_eq!(fmt_value(0.085), "0.085");
        assert_eq!(fmt_value(0.123456), "0.1235");
        assert_eq!(fmt_value(989.4), "989.4");
        assert_eq!(fmt_value(36.0), "36");
        assert_eq!(fmt_value(0.00001234), "1.234e-5");
        assert_eq!(fmt_value(0.0), "0");
        assert_eq!(fmt_value(-0.5), "-0.5");
    }

    #[test]
    fn anchors_are_fragment_safe() {
        assert_eq!(source_anchor("src-a_1.2"), "source-src-a_1.2");
        assert_eq!(source_anchor("a b\"<"), "source-a~20b~22~3C");
        assert_ne!(source_anchor("a~20"), source_anchor("a "));
    }
}
