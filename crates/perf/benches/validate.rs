//! Speed of the validation's family bootstrap with the constants refitted in every draw, on a
//! grid and row count the size of the shipped run (594 grid points, 273 compared rows in 9
//! source families). Run with `cargo bench -p perf --bench validate`.
//!
//! No target in the issue; it is here so that `train validate`'s added cost is measured
//! rather than guessed: one draw's four refitted figures, and the 2,000 draws of a run.

use perf::validate::{refitted, ErrorMatrix, FamilySums, RefitSums};
use perf::ModelConstants;

fn main() {
    divan::main();
}

const POINTS: usize = 594;
const ROWS: usize = 273;
const FAMILIES: usize = 9;

/// Deterministic errors in -0.3..0.3 and rows spread over the families, the last three holding
/// the "Blackwell" rows.
fn sums() -> RefitSums {
    let mut state = 0x9E37_79B9_7F4A_7C15_u64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64 * 0.6 - 0.3
    };
    let matrix = ErrorMatrix {
        points: vec![ModelConstants::default(); POINTS],
        errors: (0..POINTS)
            .map(|_| (0..ROWS).map(|_| Some(next())).collect())
            .collect(),
    };
    let family: Vec<usize> = (0..ROWS).map(|r| r * FAMILIES / ROWS).collect();
    let blackwell = |r: usize| family[r] >= FAMILIES - 3 && r.is_multiple_of(2);
    RefitSums {
        all: FamilySums::of(&matrix, &family, FAMILIES, &|_| true),
        older: FamilySums::of(&matrix, &family, FAMILIES, &|r| !blackwell(r)),
        blackwell: FamilySums::of(&matrix, &family, FAMILIES, &blackwell),
    }
}

#[divan::bench]
fn one_draw_refitted(bencher: divan::Bencher) {
    let sums = sums();
    let weights = [2.0, 0.0, 1.0, 1.0, 0.0, 3.0, 1.0, 0.0, 1.0];
    bencher.bench(|| refitted::figures(divan::black_box(&sums), divan::black_box(&weights)));
}

#[divan::bench(sample_count = 10)]
fn two_thousand_draws_refitted(bencher: divan::Bencher) {
    let sums = sums();
    bencher.bench(|| refitted::refitted_bootstrap(divan::black_box(&sums), 2000, 7, 0.9));
}
