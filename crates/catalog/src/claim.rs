//! Claims: figures that sources give for the same quantity, kept beside the catalog's chosen
//! value so that disagreements stay visible and machine-readable (`catalog/claims.toml`;
//! `catalog/README.md`, "Claims").
//!
//! A quantity is named by a path into the catalog: `<table>.<id>.<field>`, where the table is
//! `system`, `accelerator`, `deal` or `site` and the id exists (`system.vera-rubin-nvl144.price_usd`,
//! `deal.openai-cerebras.power_gw`, `site.abilene.gw`). The catalog's own value stays where it
//! is; a claim only records what else a source says. Ranges over a quantity
//! ([`crate::Catalog::claimed_range`]) are what "What the deal delivers" spreads its figures over.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::checker::Checker;
use crate::history::GwBasis;
use crate::load::Placed;

/// One source's figure for one quantity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Claim {
    /// `<table>.<id>.<field>`: what the figure measures.
    pub quantity: Spanned<String>,
    /// The figure, in `unit` (a point estimate; the midpoint when the source gives only a range).
    pub value: Spanned<f64>,
    /// The low end, when the source gives a range.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub low: Option<f64>,
    /// The high end, when the source gives a range.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub high: Option<f64>,
    /// The unit, as the catalog field uses it (`USD`, `kW`, `GW`, `TFLOP/s`, ...).
    pub unit: String,
    /// What a GW figure measures; required when `unit` is `GW`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub basis: Option<Spanned<GwBasis>>,
    /// The `[[source]]` that gives it.
    pub source: Spanned<String>,
    /// How the figure was read (what it covers, how a range was turned into `value`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Claim {
    /// The lowest and highest figure the claim allows.
    pub fn bounds(&self) -> (f64, f64) {
        let v = *self.value.get_ref();
        (self.low.unwrap_or(v), self.high.unwrap_or(v))
    }
}

/// The tables a quantity path may name.
pub(crate) const TABLES: [&str; 4] = ["system", "accelerator", "deal", "site"];

/// Ids that exist, by table, for checking quantity paths.
pub(crate) struct KnownIds<'a> {
    pub(crate) by_table: BTreeMap<&'static str, Vec<&'a str>>,
}

pub(crate) fn validate(check: &mut Checker<'_>, claims: &[Placed<Claim>], known: &KnownIds<'_>) {
    // Claims are numbered within their file, as a reader counts them there.
    let mut in_file: BTreeMap<usize, usize> = BTreeMap::new();
    for placed in claims {
        let (file, claim) = (placed.file, &placed.item);
        let number = {
            let n = in_file.entry(file).or_insert(0);
            *n += 1;
            *n
        };
        let field = |key: &str| format!("claim[{number}].{key}");
        let quantity = claim.quantity.get_ref();
        let parts: Vec<&str> = quantity.splitn(3, '.').collect();
        let mut problem =
            |span: std::ops::Range<usize>, key: &str, message: String, fix: String| {
                check.error(file, Some(span), field(key), message, fix);
            };
        if parts.len() != 3 || parts.iter().any(|p| p.is_empty()) {
            problem(
                claim.quantity.span(),
                "quantity",
                format!("`{quantity}` is not a quantity path"),
                "write <table>.<id>.<field>, e.g. \"system.vera-rubin-nvl144.price_usd\"".into(),
            );
        } else if let Some(ids) = known.by_table.get(parts[0]) {
            if !ids.contains(&parts[1]) {
                let near = crate::diagnostic::nearest(parts[1], ids.iter().copied());
                problem(
                    claim.quantity.span(),
                    "quantity",
                    format!("no {} `{}` in the catalog", parts[0], parts[1]),
                    match near {
                        Some(n) => format!("did you mean `{n}`?"),
                        None => format!("name a {} that exists", parts[0]),
                    },
                );
            }
        } else {
            problem(
                claim.quantity.span(),
                "quantity",
                format!("`{}` is not a table a claim can name", parts[0]),
                format!("start the path with one of: {}", TABLES.join(", ")),
            );
        }
        let value = *claim.value.get_ref();
        let (low, high) = claim.bounds();
        if !(0.0..=crate::checker::MAX_CATALOG_NUMBER).contains(&value) {
            problem(
                claim.value.span(),
                "value",
                format!("{value} is not a figure a source can give"),
                "write the figure as zero or more, in the claim's unit".into(),
            );
        } else if !(low.is_finite() && high.is_finite() && low <= value && value <= high) {
            problem(
                claim.value.span(),
                "low",
                format!("the range {low}..{high} does not contain the value {value}"),
                "give low <= value <= high (value is the midpoint when only a range is stated)"
                    .into(),
            );
        }
        if claim.unit.trim().is_empty() {
            problem(
                claim.quantity.span(),
                "unit",
                "a claim with no unit".into(),
                "write the unit the catalog field uses (USD, kW, GW, TFLOP/s, count)".into(),
            );
        }
        if claim.unit.trim() == "GW" && claim.basis.is_none() {
            problem(
                claim.value.span(),
                "basis",
                "a GW figure without a basis".into(),
                crate::world::BASIS_HINT.to_string(),
            );
        }
        check.source_exists(
            file,
            &field("source"),
            claim.source.get_ref(),
            &claim.source.span(),
        );
    }
}
