//! The timeline as CSV: one row per month, one column per field, tidy for spreadsheets.

use engine::PlanResult;

const COLUMNS: [&str; 24] = [
    "month",
    "facility_gw",
    "it_gw",
    "systems",
    "accelerators",
    "h100e",
    "bf16_dense_flops",
    "fp8_dense_flops",
    "fp4_dense_flops",
    "capex_usd",
    "capex_usd_in_month",
    "capex_systems_usd",
    "capex_networking_usd",
    "capex_facility_usd",
    "opex_usd",
    "opex_usd_in_month",
    "opex_energy_usd",
    "opex_other_usd",
    "spend_usd",
    "energy_twh_per_year",
    "energy_twh",
    "financing_usd",
    "financing_usd_in_month",
    "tranches_online",
];

/// Quotes a field when it holds a comma, quote or line break (RFC 4180).
fn field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

fn number(value: f64) -> String {
    // Shortest representation that round-trips: exact, and diff-friendly.
    format!("{value}")
}

fn optional(value: Option<f64>) -> String {
    value.map(number).unwrap_or_default()
}

/// The timeline as CSV, then one `facility_gw[<tranche>]` column per tranche. Unknown values
/// are empty cells.
pub fn plan_csv(result: &PlanResult) -> String {
    let mut out = COLUMNS.join(",");
    for tranche in &result.tranches {
        out.push(',');
        out += &field(&format!("facility_gw[{}]", tranche.totals.tranche));
    }
    out.push('\n');
    for r in &result.timeline {
        let online = r.by_tranche.iter().filter(|t| t.systems > 0.0).count();
        let cells = [
            r.month.to_string(),
            number(r.facility_gw),
            number(r.it_gw),
            number(r.systems),
            number(r.accelerators),
            optional(r.h100e),
            optional(r.bf16_dense_flops),
            optional(r.fp8_dense_flops),
            optional(r.fp4_dense_flops),
            number(r.capex_usd),
            number(r.capex_usd_in_month),
            number(r.capex_systems_usd),
            number(r.capex_networking_usd),
            number(r.capex_facility_usd),
            number(r.opex_usd),
            number(r.opex_usd_in_month),
            number(r.opex_energy_usd),
            number(r.opex_other_usd),
            number(r.spend_usd),
            number(r.energy_twh_per_year),
            number(r.energy_twh),
            number(r.financing_usd),
            number(r.financing_usd_in_month),
            online.to_string(),
        ];
        out += &cells.join(",");
        for tranche in &r.by_tranche {
            out.push(',');
            out += &number(tranche.facility_gw);
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_with_commas_and_quotes_are_quoted() {
        assert_eq!(field("plain"), "plain");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
    }
}
