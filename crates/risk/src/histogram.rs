//! Streaming percentiles for runs too large to keep every sample: one histogram per metric and
//! month on a fixed grid, so memory does not grow with the samples and time is linear in them.
//!
//! The grid is the bits of the nearest f32 (the sortable keys of `simulate`): each octave
//! [2^e, 2^(e+1)) is cut into 2,048 equal bins (the top 11 of the 23 mantissa bits), so a bin is
//! 1/2,048 of its octave wide. A percentile is read as the middle of the bin holding its
//! nearest rank, kept within the exact smallest and largest sample: it is within 1 part in
//! 4,096 (0.025%) of the exact nearest-rank value, and exact when every sample is the same.
//! Octaves are allocated as samples reach them (8 KiB each); a column of capacities spans a
//! few dozen at most.
//!
//! Bins are integer counts, so the result does not depend on how samples were split between
//! threads.

/// Mantissa bits dropped: the bin of a key is `key >> DROPPED_BITS`.
const DROPPED_BITS: u32 = 12;
/// Bins per octave.
const BINS_PER_OCTAVE: usize = 1 << (23 - DROPPED_BITS);
/// Octaves: the 8 exponent bits (keys are non-negative, so the sign bit is 0).
const OCTAVES: usize = 256;

/// The relative error bound of a percentile read from a histogram (half a bin).
pub const RELATIVE_ERROR_BOUND: f64 = 1.0 / 4096.0;

/// The histogram of one metric in one month.
#[derive(Debug, Clone)]
pub(crate) struct Histogram {
    /// Per octave, its bins (allocated when first reached).
    octaves: Vec<Option<Box<[u32]>>>,
    /// Samples per octave, to find a rank's octave without walking bins.
    per_octave: Vec<u64>,
    /// Samples counted.
    count: u64,
    /// The exact smallest and largest key.
    min: u32,
    max: u32,
}

impl Default for Histogram {
    fn default() -> Histogram {
        Histogram {
            octaves: vec![None; OCTAVES],
            per_octave: vec![0; OCTAVES],
            count: 0,
            min: u32::MAX,
            max: 0,
        }
    }
}

impl Histogram {
    /// Counts `keys` (sortable f32 bits, as `simulate::key` makes them).
    pub(crate) fn add_all(&mut self, keys: &[u32]) {
        for &key in keys {
            let bin = (key >> DROPPED_BITS) as usize;
            let octave = (bin / BINS_PER_OCTAVE).min(OCTAVES - 1);
            let bins = self.octaves[octave].get_or_insert_with(|| vec![0; BINS_PER_OCTAVE].into());
            bins[bin % BINS_PER_OCTAVE] += 1;
            self.per_octave[octave] += 1;
            self.min = self.min.min(key);
            self.max = self.max.max(key);
        }
        self.count += keys.len() as u64;
    }

    /// Samples counted.
    pub(crate) fn count(&self) -> u64 {
        self.count
    }

    /// The value at 0-based nearest rank `rank` (< count): the middle of its bin, within
    /// the exact smallest and largest sample.
    pub(crate) fn value_at(&self, rank: u64) -> f64 {
        let lowest = f64::from(f32::from_bits(self.min));
        let highest = f64::from(f32::from_bits(self.max));
        let mut before = 0u64;
        for (octave, &in_octave) in self.per_octave.iter().enumerate() {
            if before + in_octave <= rank {
                before += in_octave;
                continue;
            }
            let Some(bins) = &self.octaves[octave] else {
                break;
            };
            for (i, &c) in bins.iter().enumerate() {
                if before + u64::from(c) > rank {
                    let bin = (octave * BINS_PER_OCTAVE + i) as u32;
                    if bin == 0 {
                        // Zero and the subnormals below 1e-41: the smallest sample is the
                        // value (zero, for capacity that is not there).
                        return lowest;
                    }
                    let low = f64::from(f32::from_bits(bin << DROPPED_BITS));
                    let high = f64::from(f32::from_bits(
                        (bin << DROPPED_BITS) | ((1 << DROPPED_BITS) - 1),
                    ));
                    return ((low + high) / 2.0).clamp(lowest, highest);
                }
                before += u64::from(c);
            }
        }
        highest
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(v: f64) -> u32 {
        (v as f32).to_bits()
    }

    #[test]
    fn percentiles_are_within_the_stated_bound_of_the_exact_ones() {
        // A skewed, wide distribution: 0, tiny values, and values up to 1e12.
        let values: Vec<f64> = (0..20_000u64)
            .map(|i| {
                if i % 10 == 0 {
                    0.0
                } else {
                    ((i * 7919) % 20_000) as f64 * 5.0e7 * (1.0 + (i % 3) as f64)
                }
            })
            .collect();
        let mut h = Histogram::default();
        let keys: Vec<u32> = values.iter().map(|&v| key(v)).collect();
        h.add_all(&keys);
        let mut sorted: Vec<f64> = values.iter().map(|&v| f64::from(v as f32)).collect();
        sorted.sort_by(f64::total_cmp);
        for rank in [0, 1, 999, 1_999, 9_999, 17_999, 18_999, 19_999] {
            let exact = sorted[rank as usize];
            let read = h.value_at(rank);
            assert!(
                (read - exact).abs() <= exact * RELATIVE_ERROR_BOUND,
                "rank {rank}: {read} vs exact {exact}"
            );
        }
        assert_eq!(h.count(), 20_000);
    }

    #[test]
    fn identical_samples_give_the_exact_value() {
        let mut h = Histogram::default();
        h.add_all(&[key(1.0); 100]);
        assert_eq!(h.value_at(0), 1.0);
        assert_eq!(h.value_at(99), 1.0);
        let mut zeros = Histogram::default();
        zeros.add_all(&[0; 10]);
        assert_eq!(zeros.value_at(5), 0.0);
    }
}
