//! `--shard K/N`: which deterministic 1/N of a sweep's points a process runs.
//!
//! Point `i` (zero-based, in the sweep's fixed order) belongs to shard `i mod N + 1`. Shards are
//! interleaved rather than contiguous so that each gets a like share of every axis (and so of
//! slow and fast points), and a shard's rows depend only on the sweep file and `K/N`: rerunning
//! a failed shard gives the same rows, and the shards' rows together are the whole sweep.

use std::fmt;
use std::str::FromStr;

/// Shard `index` of `count`, both counted from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// K, from 1 to `count`.
    pub index: u64,
    /// N, at least 1.
    pub count: u64,
}

impl Shard {
    /// The whole sweep.
    pub const ALL: Shard = Shard { index: 1, count: 1 };

    /// A checked shard: `1 <= index <= count`.
    pub fn new(index: u64, count: u64) -> Result<Shard, String> {
        if count == 0 {
            return Err(format!(
                "shard {index}/{count}: N (the number of shards) must be at least 1\n  fix: give K/N with 1 <= K <= N, e.g. --shard 1/4"
            ));
        }
        if index == 0 || index > count {
            return Err(format!(
                "shard {index}/{count}: K must be from 1 to {count}\n  fix: shards count from 1 (Slurm: --shard $((SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN + 1))/$SLURM_ARRAY_TASK_COUNT; Kubernetes Indexed Job: --shard $((JOB_COMPLETION_INDEX + 1))/N)"
            ));
        }
        Ok(Shard { index, count })
    }

    /// Whether point `point` (zero-based) is in this shard.
    pub fn contains(&self, point: u64) -> bool {
        point % self.count == self.index - 1
    }

    /// The points of `0..total` in this shard, in order.
    pub fn points(&self, total: u64) -> impl Iterator<Item = u64> + Clone {
        (self.index - 1..total).step_by(usize::try_from(self.count).unwrap_or(usize::MAX))
    }

    /// How many of `0..total` are in this shard.
    pub fn len(&self, total: u64) -> u64 {
        if total < self.index {
            0
        } else {
            (total - self.index) / self.count + 1
        }
    }

    /// Whether no point of `0..total` is in this shard.
    pub fn is_empty(&self, total: u64) -> bool {
        self.len(total) == 0
    }
}

impl FromStr for Shard {
    type Err = String;

    fn from_str(text: &str) -> Result<Shard, String> {
        let parse = |part: &str| part.trim().parse::<u64>().ok();
        match text.split_once('/').map(|(k, n)| (parse(k), parse(n))) {
            Some((Some(k), Some(n))) => Shard::new(k, n),
            _ => Err(format!(
                "`{text}` is not a shard\n  fix: write K/N with whole numbers, 1 <= K <= N, e.g. --shard 2/8"
            )),
        }
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_partition_the_points() {
        for count in 1..6 {
            let mut seen = vec![0; 23];
            for index in 1..=count {
                let shard = Shard::new(index, count).unwrap();
                let points: Vec<u64> = shard.points(23).collect();
                assert_eq!(points.len() as u64, shard.len(23));
                for p in points {
                    assert!(shard.contains(p));
                    seen[p as usize] += 1;
                }
            }
            assert!(seen.iter().all(|&n| n == 1), "{count}: {seen:?}");
        }
    }

    #[test]
    fn bad_shards_are_refused_with_a_fix() {
        for bad in ["0/0", "5/4", "0/4", "a/b", "3", "-1/4"] {
            let err = bad.parse::<Shard>().unwrap_err();
            assert!(err.contains("fix:"), "{bad}: {err}");
        }
        assert_eq!(
            "2/8".parse::<Shard>().unwrap(),
            Shard { index: 2, count: 8 }
        );
    }

    #[test]
    fn a_shard_past_the_points_is_empty() {
        let shard = Shard::new(5, 8).unwrap();
        assert!(shard.is_empty(4));
        assert_eq!(shard.points(4).count(), 0);
    }
}
