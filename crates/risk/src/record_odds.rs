//! Odds learned from the record (`catalog/record.toml`): how past announcements turned out,
//! by status at announcement and by counterparty type, as Dirichlet(1, 1, 1) posteriors over
//! (full, cut, collapsed) with 90% Beta intervals on each marginal. `pending` entries are
//! censored: counted and shown, never treated as failures.

use catalog::{Catalog, CounterpartyType, DealStatus, Outcome, RecordEntry};
use serde::Serialize;

/// A probability with its 90% credible interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Estimate {
    /// Posterior mean.
    pub mean: f64,
    /// 5th percentile.
    pub lo90: f64,
    /// 95th percentile.
    pub hi90: f64,
}

/// The record's verdict on one group of announcements.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Odds {
    /// What the group is (`status announced`, `counterparty hyperscaler`).
    pub group: String,
    /// Entries decided by the horizon.
    pub decided: u32,
    /// Entries still pending at the horizon (censored).
    pub censored: u32,
    /// Decided entries by outcome.
    pub full: u32,
    /// Cut.
    pub cut: u32,
    /// Collapsed.
    pub collapsed: u32,
    /// P(full size), posterior.
    pub proceed: Estimate,
    /// P(cut), posterior.
    pub cut_p: Estimate,
    /// P(collapse), posterior.
    pub collapse_p: Estimate,
}

/// Odds over the entries `keep` selects.
pub fn odds(records: &[&RecordEntry], group: String, keep: impl Fn(&RecordEntry) -> bool) -> Odds {
    let (mut full, mut cut, mut collapsed, mut censored) = (0u32, 0u32, 0u32, 0u32);
    for r in records.iter().filter(|r| keep(r)) {
        match r.outcome {
            Outcome::Full => full += 1,
            Outcome::Cut => cut += 1,
            Outcome::Collapsed => collapsed += 1,
            Outcome::Pending => censored += 1,
        }
    }
    let decided = full + cut + collapsed;
    // Dirichlet(1,1,1) prior + counts; each marginal is Beta(a_i, total - a_i).
    let total = f64::from(decided) + 3.0;
    let marginal = |k: u32| {
        let a = f64::from(k) + 1.0;
        let b = total - a;
        Estimate {
            mean: a / total,
            lo90: beta_quantile(0.05, a, b),
            hi90: beta_quantile(0.95, a, b),
        }
    };
    Odds {
        group,
        decided,
        censored,
        full,
        cut,
        collapsed,
        proceed: marginal(full),
        cut_p: marginal(cut),
        collapse_p: marginal(collapsed),
    }
}

/// The odds table: one row per status at announcement, then per counterparty type.
pub fn table(catalog: &Catalog) -> Vec<Odds> {
    let records: Vec<&RecordEntry> = catalog.records.values().collect();
    let mut rows = vec![odds(&records, "all entries".into(), |_| true)];
    for status in [DealStatus::Announced, DealStatus::Binding] {
        rows.push(odds(
            &records,
            format!("status at announcement: {}", status.as_str()),
            |r| r.status_at_announcement == status,
        ));
    }
    for kind in CounterpartyType::ALL {
        rows.push(odds(
            &records,
            format!("counterparty: {}", kind.as_str()),
            |r| r.counterparty_type == kind,
        ));
    }
    rows
}

/// The odds for a deal announced in `status` (only `announced` and `binding` are in the
/// record; other statuses return `None` and keep their labelled judgement).
pub fn for_status(catalog: &Catalog, status: DealStatus) -> Option<Odds> {
    for_deal(catalog, status, None)
}

/// Decided entries a status-and-counterparty cell needs before it is used instead of the
/// status row alone.
pub const MIN_DECIDED_FOR_CELL: u32 = 3;

/// The odds for a deal in `status` with a seller of `counterparty` type: the status and
/// counterparty cell where it has at least [`MIN_DECIDED_FOR_CELL`] decided entries, else the
/// status row.
pub fn for_deal(
    catalog: &Catalog,
    status: DealStatus,
    counterparty: Option<CounterpartyType>,
) -> Option<Odds> {
    if !matches!(status, DealStatus::Announced | DealStatus::Binding) {
        return None;
    }
    let records: Vec<&RecordEntry> = catalog.records.values().collect();
    if let Some(kind) = counterparty {
        let cell = odds(
            &records,
            format!(
                "status at announcement: {}, counterparty: {}",
                status.as_str(),
                kind.as_str()
            ),
            |r| r.status_at_announcement == status && r.counterparty_type == kind,
        );
        if cell.decided >= MIN_DECIDED_FOR_CELL {
            return Some(cell);
        }
    }
    let row = odds(
        &records,
        format!("status at announcement: {}", status.as_str()),
        |r| r.status_at_announcement == status,
    );
    (row.decided > 0).then_some(row)
}

/// ln Γ(x), Lanczos (g = 7, n = 9), accurate to ~1e-15 for x > 0.
fn ln_gamma(x: f64) -> f64 {
    const G: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = G[0];
    let t = x + 7.5;
    for (i, g) in G.iter().enumerate().skip(1) {
        a += g / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// Continued fraction for the incomplete beta (modified Lentz).
fn beta_cf(x: f64, a: f64, b: f64) -> f64 {
    let tiny = 1e-300;
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 - qab * x / qap;
    if d.abs() < tiny {
        d = tiny;
    }
    d = 1.0 / d;
    let mut h = d;
    for m in 1..300 {
        let m = f64::from(m);
        let m2 = 2.0 * m;
        let aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 + aa * d;
        d = if d.abs() < tiny { tiny } else { d };
        c = 1.0 + aa / c;
        c = if c.abs() < tiny { tiny } else { c };
        d = 1.0 / d;
        h *= d * c;
        let aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 + aa * d;
        d = if d.abs() < tiny { tiny } else { d };
        c = 1.0 + aa / c;
        c = if c.abs() < tiny { tiny } else { c };
        d = 1.0 / d;
        let delta = d * c;
        h *= delta;
        if (delta - 1.0).abs() < 1e-14 {
            break;
        }
    }
    h
}

/// The regularized incomplete beta I_x(a, b): the Beta(a, b) CDF at x.
pub fn beta_cdf(x: f64, a: f64, b: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let front =
        (ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln()).exp();
    if x < (a + 1.0) / (a + b + 2.0) {
        front * beta_cf(x, a, b) / a
    } else {
        1.0 - front * beta_cf(1.0 - x, b, a) / b
    }
}

/// The Beta(a, b) quantile at p, by bisection (60 halvings: well below display precision).
pub fn beta_quantile(p: f64, a: f64, b: f64) -> f64 {
    let (mut lo, mut hi) = (0.0, 1.0);
    for _ in 0..60 {
        let mid = 0.5 * (lo + hi);
        if beta_cdf(mid, a, b) < p {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beta_quantiles_match_closed_forms() {
        // Beta(1, 1) is uniform: the 5% quantile is 0.05.
        assert!((beta_quantile(0.05, 1.0, 1.0) - 0.05).abs() < 1e-9);
        // Beta(1, b): CDF 1 - (1-x)^b, so q(p) = 1 - (1-p)^(1/b); b = 3, p = 0.95:
        // 1 - 0.05^(1/3) = 0.631596...
        let q = beta_quantile(0.95, 1.0, 3.0);
        assert!((q - (1.0 - 0.05f64.powf(1.0 / 3.0))).abs() < 1e-9, "{q}");
        // Beta(a, 1): CDF x^a; a = 4, p = 0.05: 0.05^(1/4) = 0.472871...
        let q = beta_quantile(0.05, 4.0, 1.0);
        assert!((q - 0.05f64.powf(0.25)).abs() < 1e-9, "{q}");
        // Symmetric Beta(5, 5): the median is 0.5.
        assert!((beta_quantile(0.5, 5.0, 5.0) - 0.5).abs() < 1e-9);
    }

    #[test]
    fn censored_entries_are_not_failures() {
        // 2 full, 1 collapsed, 5 pending: posterior proceed = (2+1)/(3+3) = 0.5, regardless of
        // the five pending entries (they only appear in `censored`).
        let catalog = Catalog::embedded().unwrap();
        let records: Vec<&RecordEntry> = catalog.records.values().collect();
        let all = odds(&records, "all".into(), |_| true);
        assert_eq!(all.decided + all.censored, records.len() as u32);
        let total = f64::from(all.decided) + 3.0;
        assert!((all.proceed.mean - (f64::from(all.full) + 1.0) / total).abs() < 1e-12);
        assert!(all.proceed.lo90 < all.proceed.mean && all.proceed.mean < all.proceed.hi90);
        let sum = all.proceed.mean + all.cut_p.mean + all.collapse_p.mean;
        assert!((sum - 1.0).abs() < 1e-12);
    }

    #[test]
    fn the_record_has_enough_decided_entries_by_status() {
        let catalog = Catalog::embedded().unwrap();
        assert!(catalog.records.len() >= 20);
        for status in [DealStatus::Announced, DealStatus::Binding] {
            let row = for_status(&catalog, status).expect("decided entries");
            assert!(row.decided >= 3, "{row:?}");
        }
        assert!(for_status(&catalog, DealStatus::Stalled).is_none());
    }
}
