//! `gigawatt catalog claims [QUANTITY]`: figures that sources disagree on, quantity by quantity,
//! with the range they span (`catalog/claims.toml`).

use std::collections::BTreeMap;
use std::fmt::Write;

use catalog::{Catalog, Claim};
use serde_json::json;

use crate::cli::ListFormat;
use crate::Failure;

pub const CLAIMS_EXAMPLES: &str = "\
Examples:
  gigawatt catalog claims                                      # every disputed figure and its range
  gigawatt catalog claims system.vera-rubin-nvl144.price_usd
  gigawatt catalog claims -f json | jq '.quantities[] | {quantity, low, high}'";

/// The claims grouped by quantity (file order within each), optionally only `only`.
fn grouped<'a>(
    catalog: &'a Catalog,
    only: Option<&str>,
) -> Result<BTreeMap<&'a str, Vec<&'a Claim>>, Failure> {
    let mut groups: BTreeMap<&str, Vec<&Claim>> = BTreeMap::new();
    for claim in &catalog.claims {
        groups
            .entry(claim.quantity.get_ref().as_str())
            .or_default()
            .push(claim);
    }
    let Some(only) = only else {
        return Ok(groups);
    };
    match groups.remove_entry(only) {
        Some((q, claims)) => Ok(BTreeMap::from([(q, claims)])),
        None => {
            let hint = match catalog::nearest(only, groups.keys().copied()) {
                Some(near) => format!("did you mean `{near}`? "),
                None => String::new(),
            };
            Err(Failure::Input(format!(
                "no claims for `{only}`\n  fix: {hint}`gigawatt catalog claims` lists the quantities that have claims"
            )))
        }
    }
}

pub fn report(
    catalog: &Catalog,
    only: Option<&str>,
    format: ListFormat,
) -> Result<String, Failure> {
    let groups = grouped(catalog, only)?;
    let range = |q: &str| catalog.claimed_range(q).unwrap_or((f64::NAN, f64::NAN));
    if format == ListFormat::Json {
        let quantities: Vec<_> = groups
            .iter()
            .map(|(q, claims)| {
                let (low, high) = range(q);
                json!({
                    "quantity": q,
                    "unit": claims[0].unit,
                    "low": low,
                    "high": high,
                    "claims": claims,
                })
            })
            .collect();
        let value = json!({ "catalog_version": catalog.version, "quantities": quantities });
        let mut s = serde_json::to_string_pretty(&value).expect("claims serialize");
        s.push('\n');
        return Ok(s);
    }
    let mut out = String::from(
        "Figures sources disagree on (catalog/claims.toml): each source's figure, and the range\n",
    );
    for (q, claims) in &groups {
        let (low, high) = range(q);
        let unit = &claims[0].unit;
        let _ = writeln!(out, "\n{q}: {} to {} {unit}", figure(low), figure(high));
        for c in claims {
            let stated = match (c.low, c.high) {
                (Some(lo), Some(hi)) => format!(
                    "{} ({}-{})",
                    figure(*c.value.get_ref()),
                    figure(lo),
                    figure(hi)
                ),
                _ => figure(*c.value.get_ref()),
            };
            let kind = catalog
                .sources
                .get(c.source.get_ref())
                .map(|s| s.kind.as_str())
                .unwrap_or("?");
            let _ = writeln!(
                out,
                "  {stated:>24}  {:<36} {kind:<18} {}",
                c.source.get_ref(),
                c.note.as_deref().unwrap_or("")
            );
        }
    }
    Ok(out)
}

/// A figure as written, with thousands separators.
fn figure(x: f64) -> String {
    units::fmt_number(x)
}
