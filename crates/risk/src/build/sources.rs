//! The sources a portfolio's results cite: the plan's, plus those its risk assumptions cite
//! (the file's own `[[source]]` entries, the catalog's, and the portfolio file itself).

use std::collections::BTreeMap;

use catalog::Catalog;
use engine::SourceRef;

use super::{Ctx, PORTFOLIO_SOURCE};
use crate::model::DealRisk;

/// Every source the plan (`plan_sources`) and the risk assumptions cite, with each deal's
/// status source, in id order.
pub(super) fn cited(
    ctx: &mut Ctx,
    catalog: &Catalog,
    file_sources: &BTreeMap<String, &catalog::Source>,
    plan_sources: &[SourceRef],
    deals: &[DealRisk],
) -> Vec<SourceRef> {
    let mut sources: BTreeMap<String, SourceRef> = plan_sources
        .iter()
        .map(|s| (s.id.clone(), s.clone()))
        .collect();
    for deal in deals {
        if let Some(s) = &deal.status_source {
            ctx.cited.insert(s.clone());
        }
    }
    for id in &ctx.cited {
        if sources.contains_key(id) {
            continue;
        }
        let source = if id == PORTFOLIO_SOURCE {
            SourceRef {
                id: id.clone(),
                title: format!("Set in {}", ctx.problems.file()),
                url: String::new(),
                date: String::new(),
                kind: "user-input".into(),
            }
        } else if let Some(s) = file_sources
            .get(id)
            .copied()
            .or_else(|| catalog.sources.get(id))
        {
            SourceRef {
                id: id.clone(),
                title: s.title.clone(),
                url: s.url.clone(),
                date: s.date.get_ref().clone(),
                kind: s.kind.as_str().to_string(),
            }
        } else {
            continue;
        };
        sources.insert(id.clone(), source);
    }
    sources.into_values().collect()
}
