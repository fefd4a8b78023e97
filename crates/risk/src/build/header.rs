//! The portfolio file's header fields: `schema_version`, and the run defaults `samples` and
//! `seed` (the command line's flags win over them).

use super::Ctx;
use crate::file::PortfolioFile;
use crate::simulate::MAX_SAMPLES;

/// The samples and seed the file asks for; `None` where it sets none or an impossible one.
pub(super) struct RunDefaults {
    pub(super) samples: Option<u64>,
    pub(super) seed: Option<u64>,
}

/// Checks the schema version and reads the default samples and seed.
pub(super) fn run_defaults(ctx: &mut Ctx, file: &PortfolioFile) -> RunDefaults {
    if let Some(version) = &file.schema_version {
        if *version.get_ref() != 1 {
            ctx.problems.add(
                Some(version.span()),
                "schema_version",
                format!("unsupported schema_version {}", version.get_ref()),
                "this version of gigawatt reads schema_version = 1",
            );
        }
    }
    let samples = file.samples.as_ref().and_then(|s| {
        let n = *s.get_ref();
        if n < 1 || n as u64 > MAX_SAMPLES {
            ctx.problems.add(
                Some(s.span()),
                "samples",
                format!("{n} samples is outside 1 to {MAX_SAMPLES}"),
                "ask for between 1 and 10,000,000 samples (10,000 gives percentiles to about 1%)",
            );
            None
        } else {
            Some(n as u64)
        }
    });
    let seed = file.seed.as_ref().and_then(|s| {
        let seed = *s.get_ref();
        if seed < 0 {
            ctx.problems.add(
                Some(s.span()),
                "seed",
                format!("impossible seed {seed}"),
                "a seed is a whole number, 0 or more",
            );
            None
        } else {
            Some(seed as u64)
        }
    });
    RunDefaults { samples, seed }
}
