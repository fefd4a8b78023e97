//! The compared rows sliced another way than by publication: by the system they ran on and by
//! the precision recipe of their matmuls, so a user can read how far the model is off for the
//! chip and the recipe of their own question (and which way: the bias).

use serde::Serialize;

use super::metrics::Stats;
use super::RowResult;

/// The compared rows that share one key.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Group {
    /// What the rows share (a system id, a recipe name).
    pub key: String,
    /// Publications (source families) the rows come from.
    pub families: usize,
    /// Errors with the shipped constants.
    pub in_sample: Stats,
    /// Errors with the constants fitted without each row's family.
    pub loso: Stats,
}

/// The compared rows grouped by `key` (rows it gives no key are left out), in the order of
/// the keys.
pub fn group_by(rows: &[RowResult], key: &dyn Fn(&RowResult) -> Option<String>) -> Vec<Group> {
    // Each compared row keyed once; a stable sort keeps the rows' order within a key.
    let mut keyed: Vec<(String, &RowResult)> = rows
        .iter()
        .filter(|r| r.error.is_some())
        .filter_map(|r| key(r).map(|k| (k, r)))
        .collect();
    keyed.sort_by(|a, b| a.0.cmp(&b.0));
    keyed
        .chunk_by(|a, b| a.0 == b.0)
        .map(|chunk| {
            let k = chunk[0].0.clone();
            let mine: Vec<&RowResult> = chunk.iter().map(|(_, r)| *r).collect();
            let mut families: Vec<&str> = mine.iter().map(|r| r.family.as_str()).collect();
            families.sort_unstable();
            families.dedup();
            Group {
                families: families.len(),
                in_sample: Stats::of(&mine.iter().filter_map(|r| r.error).collect::<Vec<_>>()),
                loso: Stats::of(&mine.iter().filter_map(|r| r.loso_error).collect::<Vec<_>>()),
                key: k,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(family: &str, precision: &str, error: Option<f64>, loso: Option<f64>) -> RowResult {
        RowResult {
            precision: precision.into(),
            error,
            loso_error: loso,
            ..RowResult::unscored("r", "f.csv", family, "H100")
        }
    }

    #[test]
    fn rows_group_by_their_key_and_unscored_rows_are_left_out() {
        // bf16: errors +0.10 (family a) and -0.20 (family b): MAE 0.15, bias -0.05, 2 families;
        // left out +0.12 and -0.22: MAE 0.17. fp8: one row, +0.04 / +0.05. A row without an
        // error (refused) and one the key skips count nowhere.
        let rows = [
            row("a", "bf16", Some(0.10), Some(0.12)),
            row("b", "bf16", Some(-0.20), Some(-0.22)),
            row("a", "fp8-current", Some(0.04), Some(0.05)),
            row("a", "nvfp4", None, None),
            row("c", "", Some(0.9), Some(0.9)),
        ];
        let groups = group_by(&rows, &|r| {
            (!r.precision.is_empty()).then(|| r.precision.clone())
        });
        assert_eq!(groups.len(), 2);
        let bf16 = &groups[0];
        assert_eq!(
            (bf16.key.as_str(), bf16.families, bf16.in_sample.n),
            ("bf16", 2, 2)
        );
        assert!((bf16.in_sample.mae - 0.15).abs() < 1e-12);
        assert!((bf16.in_sample.bias + 0.05).abs() < 1e-12);
        assert!((bf16.loso.mae - 0.17).abs() < 1e-12);
        let fp8 = &groups[1];
        assert_eq!(
            (fp8.key.as_str(), fp8.families, fp8.in_sample.n),
            ("fp8-current", 1, 1)
        );
        assert!((fp8.loso.mae - 0.05).abs() < 1e-12);
    }
}
