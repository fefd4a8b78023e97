//! Financing rules (per GW deployed, or lump sums) and the month the timeline ends.

use fleet::{FinancingInput, FinancingRule, TrancheInput};
use toml::Spanned;
use units::Month;

use super::resolver::{Resolver, TrancheIds};
use super::{not_yet_public, MAX_TIMELINE_MONTHS};

impl Resolver<'_> {
    pub(super) fn resolve_financing(
        &mut self,
        ids: &[TrancheIds],
    ) -> (Vec<FinancingInput>, Vec<Option<String>>) {
        let mut out = Vec::new();
        let mut deals = Vec::new();
        let scenario = self.scenario;
        for (index, spec) in scenario.financing.iter().enumerate() {
            let label = format!("financing[{}]", index + 1);
            let name = spec
                .name
                .clone()
                .unwrap_or_else(|| format!("financing {}", index + 1));
            let tranches: Vec<usize> = match &spec.deal {
                Some(deal) => {
                    if !self.catalog.deals.contains_key(deal.get_ref()) {
                        let hint = match self.catalog.nearest_deal(deal.get_ref()) {
                            Some(near) => format!("did you mean `{near}`?"),
                            None => "`gigawatt catalog list` shows every deal".into(),
                        };
                        let (message, hint) = not_yet_public(self.catalog, deal.get_ref())
                            .unwrap_or_else(|| {
                                (format!("unknown deal `{}`", deal.get_ref()), hint)
                            });
                        self.problems.add(
                            Some(deal.span()),
                            format!("{label}.deal"),
                            message,
                            hint,
                        );
                        continue;
                    }
                    self.deals_used.insert(deal.get_ref().clone());
                    ids.iter()
                        .enumerate()
                        .filter(|(_, t)| t.deal.as_deref() == Some(deal.get_ref()))
                        .map(|(i, _)| i)
                        .collect()
                }
                None => (0..ids.len()).collect(),
            };
            match (&spec.usd_per_gw, &spec.max_usd, &spec.month, &spec.usd) {
                (Some(per_gw), max, None, None) => {
                    if tranches.is_empty() {
                        let span = spec.deal.as_ref().map(Spanned::span);
                        self.problems.add(
                            span,
                            format!("{label}.deal"),
                            "no tranche belongs to this deal, so nothing is ever deployed for it",
                            "set `deal` on the tranches it pays for",
                        );
                        continue;
                    }
                    let per_gw_field = format!("{label}.usd_per_gw");
                    if !self.check(
                        per_gw,
                        &per_gw_field,
                        per_gw.get_ref().value >= 0.0,
                        "zero or more",
                    ) {
                        continue;
                    }
                    let usd_per_gw =
                        self.record_scenario(&per_gw_field, "USD per GW deployed", per_gw);
                    let max_usd = match max {
                        Some(max) => {
                            let field = format!("{label}.max_usd");
                            if !self.check(max, &field, max.get_ref().value >= 0.0, "zero or more")
                            {
                                continue;
                            }
                            self.record_scenario(&field, "USD", max)
                        }
                        None => f64::INFINITY,
                    };
                    out.push(FinancingInput {
                        name,
                        rule: FinancingRule::PerGwDeployed {
                            usd_per_gw,
                            max_usd,
                            tranches,
                        },
                    });
                    deals.push(spec.deal.as_ref().map(|d| d.get_ref().clone()));
                }
                (None, None, Some(month), Some(usd)) => {
                    let Some(month) = self.month(month, &format!("{label}.month")) else {
                        continue;
                    };
                    let field = format!("{label}.usd");
                    if !self.check(usd, &field, usd.get_ref().value >= 0.0, "zero or more") {
                        continue;
                    }
                    let usd = self.record_scenario(&field, "USD", usd);
                    out.push(FinancingInput {
                        name,
                        rule: FinancingRule::Lump { month, usd },
                    });
                    deals.push(spec.deal.as_ref().map(|d| d.get_ref().clone()));
                }
                _ => self.problems.add(
                    None,
                    label,
                    format!("financing `{name}` is neither per-GW nor a lump sum"),
                    "write either `usd_per_gw` (with optional `max_usd`) or both `month` and `usd`",
                ),
            }
        }
        (out, deals)
    }

    pub(super) fn resolve_end(&mut self, tranches: &[TrancheInput]) -> Option<Month> {
        let last_full = tranches.iter().map(TrancheInput::full_month).max()?;
        let first_start = tranches
            .iter()
            .map(|t| t.start.plus(-(t.build_months.max(1) as i32 - 1)))
            .min()?;
        let end = match &self.scenario.end {
            Some(end) => {
                let month = self.month(end, "end")?;
                let first_online = tranches.iter().map(|t| t.start).min()?;
                if month < first_online {
                    self.problems.add(Some(end.span()), "end", format!("the timeline ends ({month}) before anything is online ({first_online})"), "set `end` to a later month, or remove it");
                    return None;
                }
                if month < last_full {
                    self.warnings.push(format!("the timeline ends at {month}, before every tranche is fully online ({last_full}); totals are as of {month}"));
                }
                month
            }
            None => Month::new(last_full.year(), 12).expect("December exists"),
        };
        if end.months_since(first_start) >= MAX_TIMELINE_MONTHS {
            let span = self.scenario.end.as_ref().map(Spanned::span);
            self.problems.add(
                span,
                "end",
                format!(
                    "the timeline would run {} months, from {first_start} to {end}",
                    end.months_since(first_start) + 1
                ),
                format!("keep the plan within {MAX_TIMELINE_MONTHS} months (50 years)"),
            );
            return None;
        }
        Some(end)
    }
}
