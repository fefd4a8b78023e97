//! Matmul precisions and each accelerator's figures per precision: the dense peak and the
//! achievable matmul ceiling, measured with a source or derived by a stated rule.
//!
//! In a catalog file the figures live in the accelerator's `matmul` table, one sub-table per
//! precision (see `catalog/README.md`):
//!
//! ```toml
//! matmul.fp8.ceiling_tflops = { value = 3432.5, source = "src-stas00-mamf" }
//! matmul.nvfp4.peak_tflops = { value = 9000, source = "src-..." }
//! matmul.nvfp4.ceiling_tflops = { derived = "no NVFP4 measurement is public: this chip's measured FP8 fraction", from = "fp8" }
//! ```

use serde::{Deserialize, Serialize, Serializer};
use toml::Spanned;

use crate::Sourced;

/// A matmul number format. `Ord` runs widest first (more bits sorts first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    /// bfloat16.
    Bf16,
    /// 8-bit float (E4M3/E5M2) with per-tensor scales (delayed or current scaling); the
    /// blockwise recipe is [`Fp8Recipe::Blockwise`].
    Fp8,
    /// OCP microscaling FP8: E4M3/E5M2 elements, one power-of-two (E8M0) scale per 32 values.
    Mxfp8,
    /// NVIDIA FP4: E2M1 elements, one E4M3 scale per 16 values plus a per-tensor scale.
    Nvfp4,
    /// OCP microscaling FP4: E2M1 elements, one E8M0 scale per 32 values.
    Mxfp4,
}

impl Precision {
    /// All precisions, widest first.
    pub const ALL: [Precision; 5] = [
        Precision::Bf16,
        Precision::Fp8,
        Precision::Mxfp8,
        Precision::Nvfp4,
        Precision::Mxfp4,
    ];

    /// The lowercase name used in files and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Precision::Bf16 => "bf16",
            Precision::Fp8 => "fp8",
            Precision::Mxfp8 => "mxfp8",
            Precision::Nvfp4 => "nvfp4",
            Precision::Mxfp4 => "mxfp4",
        }
    }

    /// Parses a name as [`Precision::as_str`] writes it (case-insensitive).
    pub fn parse(text: &str) -> Option<Precision> {
        let lower = text.trim().to_ascii_lowercase();
        Precision::ALL.into_iter().find(|p| p.as_str() == lower)
    }

    /// Bits per element.
    pub fn bits(self) -> u32 {
        match self {
            Precision::Bf16 => 16,
            Precision::Fp8 | Precision::Mxfp8 => 8,
            Precision::Nvfp4 | Precision::Mxfp4 => 4,
        }
    }

    /// The precisions with more bits than this one, nearest first (fewest bits first; at equal
    /// bits, the order of [`Precision::ALL`]): the order to fall back in when a chip lacks
    /// this precision. `Nvfp4` gives `[Fp8, Mxfp8, Bf16]`.
    pub fn wider(self) -> Vec<Precision> {
        let mut wider: Vec<Precision> = Precision::ALL
            .into_iter()
            .filter(|p| p.bits() > self.bits())
            .collect();
        wider.sort_by_key(|p| (p.bits(), *p));
        wider
    }
}

impl std::fmt::Display for Precision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How FP8 tensors are scaled: the recipe changes the achievable rate (blockwise scaling adds
/// work the tensor cores do not do on Hopper).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Fp8Recipe {
    /// One scale per tensor (delayed or current scaling, Transformer Engine's default): the
    /// rate `mamf-finder` and `torch._scaled_mm` measure. `matmul.fp8.ceiling_tflops`.
    Tensorwise,
    /// Fine-grained scales (1x128 activation tiles, 128x128 weight blocks) as DeepSeek-V3 trains
    /// (DeepGEMM). `matmul.fp8.blockwise_ceiling_tflops`.
    Blockwise,
}

impl Fp8Recipe {
    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Fp8Recipe::Tensorwise => "tensorwise",
            Fp8Recipe::Blockwise => "blockwise",
        }
    }
}

/// The headline dense-peak columns every accelerator carries (`bf16_dense_tflops`,
/// `fp8_dense_tflops`, `fp4_dense_tflops`): what planning totals count. The FP4 column is the
/// vendor's FP4 headline, whichever FP4 format that is; per-format peaks are
/// [`crate::Accelerator::peak_tflops`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HeadlinePrecision {
    /// `bf16_dense_tflops`.
    Bf16,
    /// `fp8_dense_tflops`.
    Fp8,
    /// `fp4_dense_tflops`.
    Fp4,
}

impl HeadlinePrecision {
    /// All headline columns, widest first.
    pub const ALL: [HeadlinePrecision; 3] = [
        HeadlinePrecision::Bf16,
        HeadlinePrecision::Fp8,
        HeadlinePrecision::Fp4,
    ];

    /// Lowercase name (the column is `<name>_dense_tflops`).
    pub fn as_str(self) -> &'static str {
        match self {
            HeadlinePrecision::Bf16 => "bf16",
            HeadlinePrecision::Fp8 => "fp8",
            HeadlinePrecision::Fp4 => "fp4",
        }
    }
}

/// One precision's figures on one accelerator (`[accelerator.matmul.<precision>]`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrecisionFigures {
    /// Dense peak TFLOP/s. Only for `mxfp8`, `nvfp4` and `mxfp4`: the BF16 and FP8 peaks are the
    /// `bf16_dense_tflops` and `fp8_dense_tflops` columns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peak_tflops: Option<Sourced<f64>>,
    /// Achievable dense matmul TFLOP/s (for FP8: the per-tensor-scaled recipe).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ceiling_tflops: Option<Ceiling>,
    /// FP8 only: achievable TFLOP/s with blockwise scaling (DeepSeek-V3's recipe).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blockwise_ceiling_tflops: Option<Ceiling>,
}

/// The `matmul` table of an accelerator: one optional entry per precision.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatmulTable {
    /// BF16 figures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bf16: Option<PrecisionFigures>,
    /// FP8 figures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fp8: Option<PrecisionFigures>,
    /// MXFP8 figures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mxfp8: Option<PrecisionFigures>,
    /// NVFP4 figures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nvfp4: Option<PrecisionFigures>,
    /// MXFP4 figures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mxfp4: Option<PrecisionFigures>,
}

impl MatmulTable {
    /// The entry for `precision`, if the file has one.
    pub fn get(&self, precision: Precision) -> Option<&PrecisionFigures> {
        match precision {
            Precision::Bf16 => self.bf16.as_ref(),
            Precision::Fp8 => self.fp8.as_ref(),
            Precision::Mxfp8 => self.mxfp8.as_ref(),
            Precision::Nvfp4 => self.nvfp4.as_ref(),
            Precision::Mxfp4 => self.mxfp4.as_ref(),
        }
    }

    /// The entry for `precision`, created empty when absent.
    pub fn entry(&mut self, precision: Precision) -> &mut PrecisionFigures {
        let slot = match precision {
            Precision::Bf16 => &mut self.bf16,
            Precision::Fp8 => &mut self.fp8,
            Precision::Mxfp8 => &mut self.mxfp8,
            Precision::Nvfp4 => &mut self.nvfp4,
            Precision::Mxfp4 => &mut self.mxfp4,
        };
        slot.get_or_insert_with(PrecisionFigures::default)
    }
}

/// An achievable matmul rate: measured (a sourced value, or unknown / not applicable), or
/// derived from another measurement by a rule the file states.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "RawCeiling")]
#[allow(clippy::large_enum_variant)] // a handful per accelerator; boxing buys nothing
pub enum Ceiling {
    /// A measurement with its source (or why there is none).
    Measured(Sourced<f64>),
    /// Computed by the loader from a measured chip's fraction of its peak.
    Derived(Box<DerivedCeiling>),
}

/// A ceiling derived by rule: `like`'s ceiling at `from` (measured, or itself derived), as a
/// fraction of `like`'s peak at `from`, times this chip's peak at this precision. With a
/// `ratio`, the fraction times this chip's peak at `from`, times the ratio: a measured speed
/// at the same shapes, either of this precision over `from` on one chip, or (when `from` is
/// this precision and `like` another chip) of this chip over `like` in one benchmark.
#[derive(Debug, Clone, PartialEq)]
pub struct DerivedCeiling {
    /// The rule in words: why that measurement stands for this chip.
    pub rule: Spanned<String>,
    /// The measured accelerator whose fraction is borrowed (`None`: this accelerator).
    pub like: Option<Spanned<String>>,
    /// The precision whose measured fraction is borrowed (`None`: the same precision).
    pub from: Option<Precision>,
    /// Measured speed at the same GEMM shapes, with its source: this precision over `from`, or
    /// this chip over `like` when `from` is this precision.
    pub ratio: Option<Sourced<f64>>,
    /// Anything else to know.
    pub note: Option<String>,
    /// Set by the loader once validated: the value and how it was computed.
    pub resolved: Option<ResolvedDerivation>,
}

/// The arithmetic of a derived ceiling, filled in by the loader.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResolvedDerivation {
    /// Accelerator whose measurement was used.
    pub like: String,
    /// Precision of that measurement.
    pub from: Precision,
    /// Its measured ceiling / its peak.
    pub fraction: f64,
    /// The resulting ceiling, TFLOP/s.
    pub value_tflops: f64,
    /// The ratio applied, if the rule has one.
    pub ratio: Option<f64>,
    /// The source of the value: the ratio's when there is one, else the borrowed ceiling's.
    pub source: String,
    /// The source of the borrowed ceiling.
    pub borrowed_source: String,
}

impl Ceiling {
    /// The ceiling as a sourced value: a derived one is `Known` with the measurement's source
    /// and a note that starts with `derived:` and gives the rule and the arithmetic.
    pub fn sourced(&self, precision: Precision, peak_tflops: Option<f64>) -> Sourced<f64> {
        match self {
            Ceiling::Measured(s) => s.clone(),
            Ceiling::Derived(d) => match &d.resolved {
                Some(r) => Sourced::Known {
                    value: r.value_tflops,
                    source: r.source.clone(),
                    note: Some(format!(
                        "derived: {} ({} {} ceiling {:.1}% of its peak [{}]{}{})",
                        d.rule.get_ref(),
                        r.like,
                        r.from,
                        100.0 * r.fraction,
                        r.borrowed_source,
                        match r.ratio {
                            Some(ratio) if r.from == precision => format!(
                                ", times this chip's {} peak, times the measured speed of this chip over {} {ratio}",
                                r.from, r.like
                            ),
                            Some(ratio) => format!(
                                ", times this chip's {} peak, times the measured {precision}/{} ratio {ratio}",
                                r.from, r.from
                            ),
                            None => format!(
                                ", times this chip's {precision} peak {}",
                                peak_tflops.map_or("?".to_string(), |p| format!("{p}"))
                            ),
                        },
                        d.note.as_ref().map_or(String::new(), |n| format!("; {n}")),
                    )),
                    source_span: 0..0,
                    range: None,
                },
                None => Sourced::Unknown(format!(
                    "derived ({}) but not resolved: load the catalog through Catalog::load",
                    d.rule.get_ref()
                )),
            },
        }
    }

    /// Whether this is a measurement with a value.
    pub fn is_measured_value(&self) -> bool {
        matches!(self, Ceiling::Measured(Sourced::Known { .. }))
    }
}

impl Serialize for Ceiling {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        match self {
            Ceiling::Measured(s) => s.serialize(serializer),
            Ceiling::Derived(d) => {
                let mut map = serializer.serialize_map(None)?;
                map.serialize_entry("derived", d.rule.get_ref())?;
                if let Some(like) = &d.like {
                    map.serialize_entry("like", like.get_ref())?;
                }
                if let Some(from) = d.from {
                    map.serialize_entry("from", &from)?;
                }
                if let Some(ratio) = &d.ratio {
                    map.serialize_entry("ratio", ratio)?;
                }
                if let Some(note) = &d.note {
                    map.serialize_entry("note", note)?;
                }
                if let Some(r) = &d.resolved {
                    map.serialize_entry("value", &r.value_tflops)?;
                    map.serialize_entry("source", &r.source)?;
                }
                map.end()
            }
        }
    }
}

/// The file form of a ceiling: a sourced value, or `{ derived = "rule", like = "id", from = "p" }`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCeiling {
    value: Option<f64>,
    source: Option<Spanned<String>>,
    note: Option<String>,
    unknown: Option<String>,
    not_applicable: Option<String>,
    derived: Option<Spanned<String>>,
    like: Option<Spanned<String>>,
    from: Option<Precision>,
    ratio: Option<Sourced<f64>>,
}

impl TryFrom<RawCeiling> for Ceiling {
    type Error = String;

    fn try_from(raw: RawCeiling) -> Result<Ceiling, String> {
        if let Some(rule) = raw.derived {
            if raw.value.is_some() || raw.source.is_some() {
                return Err("a `derived` ceiling is computed by the loader from `like` and `from`: remove `value` and `source`, or drop `derived` if this is a measurement".into());
            }
            if raw.unknown.is_some() || raw.not_applicable.is_some() {
                return Err(
                    "write either `derived = ..` or `unknown`/`not_applicable`, not both".into(),
                );
            }
            if rule.get_ref().trim().is_empty() {
                return Err("`derived` is empty: state the rule (whose measurement stands for this chip, and why)".into());
            }
            return Ok(Ceiling::Derived(Box::new(DerivedCeiling {
                rule,
                like: raw.like,
                from: raw.from,
                ratio: raw.ratio,
                note: raw.note,
                resolved: None,
            })));
        }
        if raw.like.is_some() || raw.from.is_some() || raw.ratio.is_some() {
            return Err(
                "`like`, `from` and `ratio` belong to a derived ceiling: add `derived = \"the rule\"`"
                    .into(),
            );
        }
        let sourced = Sourced::from_parts(
            raw.value,
            raw.source,
            raw.note,
            raw.unknown,
            raw.not_applicable,
        )?;
        Ok(Ceiling::Measured(sourced))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wider_precisions_come_nearest_first() {
        assert_eq!(
            Precision::Nvfp4.wider(),
            vec![Precision::Fp8, Precision::Mxfp8, Precision::Bf16]
        );
        assert_eq!(Precision::Fp8.wider(), vec![Precision::Bf16]);
        assert!(Precision::Bf16.wider().is_empty());
        assert!(Precision::Bf16 < Precision::Mxfp4, "widest first");
    }

    #[test]
    fn names_round_trip() {
        for p in Precision::ALL {
            assert_eq!(Precision::parse(p.as_str()), Some(p));
        }
        assert_eq!(Precision::parse("NVFP4"), Some(Precision::Nvfp4));
        assert_eq!(Precision::parse("fp4"), None);
    }

    #[derive(Deserialize)]
    struct Holder {
        x: Ceiling,
    }

    fn parse(text: &str) -> Result<Ceiling, String> {
        toml::from_str::<Holder>(text)
            .map(|h| h.x)
            .map_err(|e| e.message().to_string())
    }

    #[test]
    fn ceilings_parse_in_both_forms() {
        assert!(matches!(
            parse(r#"x = { value = 1.5, source = "s" }"#).unwrap(),
            Ceiling::Measured(Sourced::Known { .. })
        ));
        let Ceiling::Derived(d) =
            parse(r#"x = { derived = "rule", like = "b200", from = "fp8" }"#).unwrap()
        else {
            panic!("derived")
        };
        assert_eq!(d.like.unwrap().into_inner(), "b200");
        assert_eq!(d.from, Some(Precision::Fp8));
    }

    #[test]
    fn a_derived_ceiling_needs_a_rule_and_no_value() {
        assert!(parse(r#"x = { derived = " " }"#)
            .unwrap_err()
            .contains("state the rule"));
        assert!(parse(r#"x = { derived = "r", value = 1, source = "s" }"#).is_err());
        assert!(parse(r#"x = { like = "b200" }"#)
            .unwrap_err()
            .contains("derived"));
        assert!(parse(r#"x = { value = 1 }"#)
            .unwrap_err()
            .contains("without a source"));
    }
}
