//! The terminal summary: what a person reads first.

use std::fmt::Write;

use engine::PlanResult;
use fleet::MonthRow;
use units::{fmt_count, fmt_energy_twh, fmt_power_w, fmt_usd, W_PER_GW};

fn optional(value: Option<f64>, format: fn(f64) -> String) -> String {
    value.map_or_else(|| "unknown".to_string(), format)
}

/// A readable multi-section summary for a terminal.
pub fn plan_text_summary(result: &PlanResult) -> String {
    let mut out = String::new();
    let t = &result.totals;
    let s = &result.scenario;
    let _ = writeln!(out, "{}", s.name);
    let _ = writeln!(out);
    out.push_str(&crate::opening::text(result));
    let _ = writeln!(out);
    if !s.description.is_empty() {
        let _ = writeln!(out, "The scenario: {}", s.description);
    }
    let _ = writeln!(out, "{}", crate::knowledge::summary_line(&result.knowledge));
    let _ = writeln!(out);
    let _ = writeln!(out, "Online at {} (final month of the timeline)", t.month);
    let rows: Vec<(&str, String)> = vec![
        (
            "Facility power",
            format!(
                "{}  (IT {})",
                fmt_power_w(t.facility_gw * W_PER_GW),
                fmt_power_w(t.it_gw * W_PER_GW)
            ),
        ),
        ("Systems", fmt_count(t.systems)),
        ("Accelerators", accelerators_line(t)),
        ("H100-equivalents", optional(t.h100e, fmt_count)),
        (
            "Peak dense FLOP/s",
            format!(
                "bf16 {} | fp8 {} | fp4 {}",
                crate::peak_flops_text(t.bf16_dense_flops, t.accelerators),
                crate::peak_flops_text(t.fp8_dense_flops, t.accelerators),
                crate::peak_flops_text(t.fp4_dense_flops, t.accelerators)
            ),
        ),
        (
            "Capex to date",
            format!(
                "{}  (systems {}, networking {}, facility {})",
                fmt_usd(t.capex_usd),
                fmt_usd(t.capex_systems_usd),
                fmt_usd(t.capex_networking_usd),
                fmt_usd(t.capex_facility_usd)
            ),
        ),
        (
            "Opex to date",
            format!(
                "{}  (energy {}, other {})",
                fmt_usd(t.opex_usd),
                fmt_usd(t.opex_energy_usd),
                fmt_usd(t.opex_other_usd)
            ),
        ),
        (
            "Energy",
            format!(
                "{} per year at this month's draw; {} to date",
                fmt_energy_twh(t.energy_twh_per_year),
                fmt_energy_twh(t.energy_twh)
            ),
        ),
        (
            crate::opening::financing_label(result),
            fmt_usd(t.financing_usd),
        ),
    ];
    for (label, value) in rows {
        if label.len() > 19 {
            let _ = writeln!(out, "  {label}: {value}");
        } else {
            let _ = writeln!(out, "  {label:<20}{value}");
        }
    }

    let _ = writeln!(out);
    let _ = writeln!(out, "Tranches (fully built)");
    let _ = writeln!(
        out,
        "  {:<24} {:<22} {:>9} {:>12} {:>9} {:>9} {:>8} {:>8}",
        "tranche", "system", "systems", "accelerators", "facility", "capex", "start", "full"
    );
    for tranche in &result.tranches {
        let x = &tranche.totals;
        let _ = writeln!(
            out,
            "  {:<24} {:<22} {:>9} {:>12} {:>9} {:>9} {:>8} {:>8}",
            clip(&x.tranche, 24),
            clip(&tranche.system, 22),
            fmt_count(x.systems),
            fmt_count(x.accelerators),
            fmt_power_w(x.facility_gw * W_PER_GW),
            fmt_usd(x.capex_usd),
            x.start.to_string(),
            x.full.to_string()
        );
    }

    let _ = writeln!(out);
    let _ = writeln!(out, "Year by year (as of December, or the last month)");
    let _ = writeln!(
        out,
        "  {:<8} {:>9} {:>12} {:>12} {:>10} {:>10} {:>12} {:>10}",
        "month", "facility", "accelerators", "H100e", "capex", "opex", "energy/yr", "financing"
    );
    for row in yearly(&result.timeline) {
        let _ = writeln!(
            out,
            "  {:<8} {:>9} {:>12} {:>12} {:>10} {:>10} {:>12} {:>10}",
            row.month.to_string(),
            fmt_power_w(row.facility_gw * W_PER_GW),
            fmt_count(row.accelerators),
            optional(row.h100e, fmt_count),
            fmt_usd(row.capex_usd),
            fmt_usd(row.opex_usd),
            fmt_energy_twh(row.energy_twh_per_year),
            fmt_usd(row.financing_usd)
        );
    }

    if let Some(capability) = &result.capability {
        let _ = writeln!(out);
        out.push_str(&crate::capability::text(capability));
    }

    if !result.deals.is_empty() {
        let _ = writeln!(out);
        let _ = writeln!(out, "Deals, as publicly reported");
        for deal in &result.deals {
            let _ = writeln!(
                out,
                "  {:<28} {:<10} as of {}",
                deal.id,
                deal.status,
                deal.status_as_of.as_deref().unwrap_or("?")
            );
            if let Some(note) = &deal.status_note {
                let _ = writeln!(out, "    {}", clip(note, 160));
            }
        }
    }
    if !result.warnings.is_empty() {
        let _ = writeln!(out);
        let _ = writeln!(out, "Warnings");
        for warning in &result.warnings {
            let _ = writeln!(out, "  - {warning}");
        }
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{} assumptions, each with a source ({} sources); see them with --format json, md or html.",
        result.assumptions.len(),
        result.sources.len()
    );
    let _ = writeln!(out, "{}", crate::opening::footer_line(result));
    out
}

fn accelerators_line(row: &MonthRow) -> String {
    let mut line = fmt_count(row.accelerators);
    if row.accelerators_by_type.len() > 1 || !row.accelerators_by_type.is_empty() {
        let parts: Vec<String> = row
            .accelerators_by_type
            .iter()
            .map(|(id, n)| format!("{id} {}", fmt_count(*n)))
            .collect();
        if !parts.is_empty() {
            line += &format!("  ({})", parts.join(", "));
        }
    }
    line
}

/// December rows, plus the last row if it is not a December.
pub(crate) fn yearly(rows: &[MonthRow]) -> Vec<&MonthRow> {
    let mut out: Vec<&MonthRow> = rows.iter().filter(|r| r.month.month() == 12).collect();
    if let Some(last) = rows.last() {
        if last.month.month() != 12 {
            out.push(last);
        }
    }
    out
}

fn clip(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        text.to_string()
    } else {
        let mut s: String = text.chars().take(width.saturating_sub(1)).collect();
        s.push('…');
        s
    }
}
