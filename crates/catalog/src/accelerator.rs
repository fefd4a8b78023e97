//! What an accelerator offers per precision: the typed API over its `matmul` table and
//! headline peak columns. Training and serving read precision figures only through these.

use crate::model::Accelerator;
use crate::precision::{Ceiling, Fp8Recipe, HeadlinePrecision, Precision};
use crate::Sourced;

/// Where a matmul ceiling comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CeilingBasis {
    /// A published measurement (a `[[source]]` backs it).
    Measured,
    /// Derived by a stated rule from another measurement.
    Derived,
    /// No figure: unknown, or the chip lacks the precision.
    Missing,
}

impl Accelerator {
    /// The headline dense peak column at `precision` (what planning totals count).
    pub fn dense_tflops(&self, precision: HeadlinePrecision) -> &Sourced<f64> {
        match precision {
            HeadlinePrecision::Bf16 => &self.bf16_dense_tflops,
            HeadlinePrecision::Fp8 => &self.fp8_dense_tflops,
            HeadlinePrecision::Fp4 => &self.fp4_dense_tflops,
        }
    }

    /// Dense peak TFLOP/s in `precision`. BF16 and FP8 are the `bf16_dense_tflops` and
    /// `fp8_dense_tflops` columns; MXFP8, NVFP4 and MXFP4 are `matmul.<p>.peak_tflops`, and
    /// when that is absent, not applicable where the chip lacks the headline column they
    /// belong to (FP8 for MXFP8, FP4 for the FP4 formats), otherwise unknown.
    pub fn peak_tflops(&self, precision: Precision) -> Sourced<f64> {
        let headline = match precision {
            Precision::Bf16 => return self.bf16_dense_tflops.clone(),
            Precision::Fp8 => return self.fp8_dense_tflops.clone(),
            Precision::Mxfp8 => &self.fp8_dense_tflops,
            Precision::Nvfp4 | Precision::Mxfp4 => &self.fp4_dense_tflops,
        };
        if let Some(peak) = self
            .matmul
            .get(precision)
            .and_then(|f| f.peak_tflops.as_ref())
        {
            return peak.clone();
        }
        match headline {
            Sourced::NotApplicable(reason) => Sourced::NotApplicable(reason.clone()),
            _ => Sourced::Unknown(format!(
                "the catalog has no {precision} peak for {} (matmul.{precision}.peak_tflops)",
                self.id.get_ref()
            )),
        }
    }

    /// Whether the chip runs `precision` at a known dense peak.
    pub fn has_precision(&self, precision: Precision) -> bool {
        self.peak_tflops(precision).number().is_some()
    }

    /// `requested` if the chip has it, otherwise the nearest precision with more bits that it
    /// has ([`Precision::wider`] order); `None` when it has none of them.
    pub fn nearest_precision(&self, requested: Precision) -> Option<Precision> {
        std::iter::once(requested)
            .chain(requested.wider())
            .find(|p| self.has_precision(*p))
    }

    /// Achievable dense matmul TFLOP/s in `precision` (FP8: per-tensor scaling). Measured
    /// figures keep their source and note; derived ones are `Known` with the measurement's
    /// source and a note starting `derived:` that states the rule and the arithmetic (see
    /// [`Accelerator::ceiling_basis`]). Not applicable where the chip lacks the precision;
    /// unknown where neither a measurement nor a rule is in the catalog.
    pub fn matmul_ceiling(&self, precision: Precision) -> Sourced<f64> {
        let ceiling = self
            .matmul
            .get(precision)
            .and_then(|f| f.ceiling_tflops.as_ref());
        self.ceiling_or_missing(precision, ceiling)
    }

    /// The FP8 matmul ceiling with `recipe`. Blockwise scaling without its own figure falls
    /// back to the per-tensor ceiling, and the note says so.
    pub fn fp8_ceiling(&self, recipe: Fp8Recipe) -> Sourced<f64> {
        let tensorwise = self.matmul_ceiling(Precision::Fp8);
        if recipe == Fp8Recipe::Tensorwise {
            return tensorwise;
        }
        let blockwise = self
            .matmul
            .fp8
            .as_ref()
            .and_then(|f| f.blockwise_ceiling_tflops.as_ref());
        match blockwise {
            Some(c) => self.ceiling_or_missing(Precision::Fp8, Some(c)),
            None => match tensorwise {
                Sourced::Known {
                    value,
                    source,
                    note,
                    source_span,
                    range,
                } => Sourced::Known {
                    value,
                    source,
                    note: Some(format!(
                        "no blockwise-scaled FP8 figure for {}: the per-tensor ceiling{}",
                        self.id.get_ref(),
                        note.map_or(String::new(), |n| format!(" ({n})"))
                    )),
                    source_span,
                    range,
                },
                other => other,
            },
        }
    }

    /// Whether the ceiling at `precision` (FP8: per-tensor) is measured, derived or missing.
    pub fn ceiling_basis(&self, precision: Precision) -> CeilingBasis {
        basis_of(
            self.matmul
                .get(precision)
                .and_then(|f| f.ceiling_tflops.as_ref()),
        )
    }

    /// Whether the FP8 ceiling with `recipe` is measured, derived or missing (a blockwise
    /// figure that falls back to the per-tensor one counts as missing).
    pub fn fp8_ceiling_basis(&self, recipe: Fp8Recipe) -> CeilingBasis {
        match recipe {
            Fp8Recipe::Tensorwise => self.ceiling_basis(Precision::Fp8),
            Fp8Recipe::Blockwise => basis_of(
                self.matmul
                    .fp8
                    .as_ref()
                    .and_then(|f| f.blockwise_ceiling_tflops.as_ref()),
            ),
        }
    }

    /// Ceiling / peak at `precision`, when both are known.
    pub fn matmul_fraction(&self, precision: Precision) -> Option<f64> {
        Some(self.matmul_ceiling(precision).number()? / self.peak_tflops(precision).number()?)
    }

    fn ceiling_or_missing(&self, precision: Precision, ceiling: Option<&Ceiling>) -> Sourced<f64> {
        let peak = self.peak_tflops(precision);
        match (ceiling, &peak) {
            (Some(c), _) => c.sourced(precision, peak.number()),
            (None, Sourced::NotApplicable(reason)) => Sourced::NotApplicable(reason.clone()),
            (None, _) => Sourced::Unknown(format!(
                "no measured or derived {precision} matmul ceiling for {} in the catalog",
                self.id.get_ref()
            )),
        }
    }
}

fn basis_of(ceiling: Option<&Ceiling>) -> CeilingBasis {
    match ceiling {
        Some(Ceiling::Measured(Sourced::Known { .. })) => CeilingBasis::Measured,
        Some(Ceiling::Derived(d)) if d.resolved.is_some() => CeilingBasis::Derived,
        _ => CeilingBasis::Missing,
    }
}
