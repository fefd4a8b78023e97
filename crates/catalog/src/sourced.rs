//! A catalog number with its provenance: known with a source, unknown, or not applicable.

use std::ops::Range;

use serde::{Deserialize, Serialize, Serializer};
use toml::Spanned;

/// A value that is either backed by a source, explicitly unknown, or does not apply.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "RawSourced<T>")]
pub enum Sourced<T> {
    /// A value with the id of the `[[source]]` it came from.
    Known {
        /// The value itself.
        value: T,
        /// Source id.
        source: String,
        /// How the value was read or derived.
        note: Option<String>,
        /// Byte span of the `source` string in its file, for diagnostics.
        source_span: Range<usize>,
        /// The plausible range `(low, high)` the sources give, when they give one: what
        /// `plan` samples (triangular with the value as its mode) for its `ranges`.
        range: Option<(f64, f64)>,
    },
    /// Not public; the reason says why.
    Unknown(String),
    /// Does not exist for this entry (FP4 on Hopper); the reason says why.
    NotApplicable(String),
}

impl<T> Sourced<T> {
    /// A known value (for tests and for values given on the command line).
    pub fn known(value: T, source: impl Into<String>) -> Sourced<T> {
        Sourced::Known {
            value,
            source: source.into(),
            note: None,
            source_span: 0..0,
            range: None,
        }
    }

    /// The plausible range `(low, high)`, if the catalog gives one.
    pub fn range(&self) -> Option<(f64, f64)> {
        match self {
            Sourced::Known { range, .. } => *range,
            _ => None,
        }
    }

    /// The value, if known.
    pub fn value(&self) -> Option<&T> {
        match self {
            Sourced::Known { value, .. } => Some(value),
            _ => None,
        }
    }

    /// The source id, if known.
    pub fn source(&self) -> Option<&str> {
        match self {
            Sourced::Known { source, .. } => Some(source),
            _ => None,
        }
    }

    /// The note on a known value.
    pub fn note(&self) -> Option<&str> {
        match self {
            Sourced::Known { note, .. } => note.as_deref(),
            _ => None,
        }
    }

    /// Why the value is missing, if it is.
    pub fn missing_reason(&self) -> Option<&str> {
        match self {
            Sourced::Known { .. } => None,
            Sourced::Unknown(reason) | Sourced::NotApplicable(reason) => Some(reason),
        }
    }
}

impl Sourced<f64> {
    /// The number, if known.
    pub fn number(&self) -> Option<f64> {
        self.value().copied()
    }
}

impl<T: Serialize> Serialize for Sourced<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(None)?;
        match self {
            Sourced::Known {
                value,
                source,
                note,
                range,
                ..
            } => {
                map.serialize_entry("value", value)?;
                map.serialize_entry("source", source)?;
                if let Some((low, high)) = range {
                    map.serialize_entry("low", low)?;
                    map.serialize_entry("high", high)?;
                }
                if let Some(note) = note {
                    map.serialize_entry("note", note)?;
                }
            }
            Sourced::Unknown(reason) => map.serialize_entry("unknown", reason)?,
            Sourced::NotApplicable(reason) => map.serialize_entry("not_applicable", reason)?,
        }
        map.end()
    }
}

/// The form a sourced value takes in a file: an inline table with exactly one of three shapes.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSourced<T> {
    value: Option<T>,
    source: Option<Spanned<String>>,
    note: Option<String>,
    low: Option<f64>,
    high: Option<f64>,
    unknown: Option<String>,
    not_applicable: Option<String>,
}

impl<T> TryFrom<RawSourced<T>> for Sourced<T> {
    type Error = String;

    fn try_from(raw: RawSourced<T>) -> Result<Sourced<T>, String> {
        let sourced = Sourced::from_parts(
            raw.value,
            raw.source,
            raw.note,
            raw.unknown,
            raw.not_applicable,
        )?;
        sourced.with_range(raw.low, raw.high)
    }
}

impl<T> Sourced<T> {
    /// Builds a sourced value from the keys of its file form, refusing the shapes the format
    /// does not allow (shared with the ceiling form, which adds `derived`).
    pub(crate) fn from_parts(
        value: Option<T>,
        source: Option<Spanned<String>>,
        note: Option<String>,
        unknown: Option<String>,
        not_applicable: Option<String>,
    ) -> Result<Sourced<T>, String> {
        let raw_note = note;
        match (value, source, unknown, not_applicable) {
            (Some(value), Some(source), None, None) => {
                let source_span = source.span();
                let source = source.into_inner();
                if source.trim().is_empty() {
                    return Err("`source` is empty: name the `[[source]]` id this value comes from".into());
                }
                Ok(Sourced::Known { value, source, note: raw_note, source_span, range: None })
            }
            (Some(_), None, _, _) => Err(
                "a number without a source: add `source = \"<id>\"` naming a [[source]] entry, or write `{ unknown = \"why\" }` if the figure is not public"
                    .into(),
            ),
            (None, None, Some(reason), None) if !reason.trim().is_empty() => Ok(Sourced::Unknown(reason)),
            (None, None, None, Some(reason)) if !reason.trim().is_empty() => Ok(Sourced::NotApplicable(reason)),
            (None, None, Some(_), None) | (None, None, None, Some(_)) => {
                Err("the reason is empty: say why the figure is unknown or does not apply".into())
            }
            _ => Err(
                "write a sourced value as `{ value = .., source = \"<id>\" }`, `{ unknown = \"why\" }` or `{ not_applicable = \"why\" }`"
                    .into(),
            ),
        }
    }
}

impl<T> Sourced<T> {
    /// Adds the `low`/`high` keys of the file form: both or neither, finite, and only on a known
    /// value (`low <= value <= high` is checked where the field's name is known, in validation,
    /// so the message can name it).
    pub(crate) fn with_range(
        self,
        low: Option<f64>,
        high: Option<f64>,
    ) -> Result<Sourced<T>, String> {
        let range = match (low, high) {
            (None, None) => return Ok(self),
            (Some(_), None) => {
                return Err("`low` without `high`: give both ends of the range, or neither".into())
            }
            (None, Some(_)) => {
                return Err("`high` without `low`: give both ends of the range, or neither".into())
            }
            (Some(low), Some(high)) if !low.is_finite() || !high.is_finite() => {
                return Err(format!(
                    "the range `low` = {low}, `high` = {high} is not finite"
                ))
            }
            (Some(low), Some(high)) => (low, high),
        };
        match self {
            Sourced::Known {
                value,
                source,
                note,
                source_span,
                ..
            } => Ok(Sourced::Known {
                value,
                source,
                note,
                source_span,
                range: Some(range),
            }),
            _ => Err(
                "`low`/`high` belong to a known value: add `value` and `source`, or drop the range"
                    .into(),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Holder {
        x: Sourced<f64>,
    }

    fn parse(text: &str) -> Result<Sourced<f64>, String> {
        toml::from_str::<Holder>(text)
            .map(|h| h.x)
            .map_err(|e| e.message().to_string())
    }

    #[test]
    fn the_three_forms_parse() {
        assert_eq!(
            parse(r#"x = { value = 1.5, source = "s" }"#)
                .unwrap()
                .number(),
            Some(1.5)
        );
        assert!(matches!(
            parse(r#"x = { unknown = "not public" }"#).unwrap(),
            Sourced::Unknown(_)
        ));
        assert!(matches!(
            parse(r#"x = { not_applicable = "no fp4" }"#).unwrap(),
            Sourced::NotApplicable(_)
        ));
    }

    #[test]
    fn a_number_without_a_source_is_refused() {
        let err = parse("x = { value = 1.5 }").unwrap_err();
        assert!(err.contains("without a source"), "{err}");
    }

    #[test]
    fn a_range_parses_and_a_backwards_one_is_refused() {
        let x = parse(r#"x = { value = 1.2, low = 1.1, high = 1.3, source = "s" }"#).unwrap();
        assert_eq!(x.range(), Some((1.1, 1.3)));
        // A backwards range parses; validation refuses it naming the field
        // (`a_catalog_range_with_low_above_high_is_refused` in the CLI tests).
        let backwards = parse(r#"x = { value = 1.2, low = 1.3, high = 1.1, source = "s" }"#);
        assert_eq!(backwards.unwrap().range(), Some((1.3, 1.1)));
        let err = parse(r#"x = { value = 1.2, low = 1.1, source = "s" }"#).unwrap_err();
        assert!(err.contains("`low` without `high`"), "{err}");
        let err = parse(r#"x = { unknown = "n/a", low = 1.0, high = 2.0 }"#).unwrap_err();
        assert!(err.contains("belong to a known value"), "{err}");
    }

    #[test]
    fn mixed_forms_and_unknown_keys_are_refused() {
        assert!(parse(r#"x = { value = 1, source = "s", unknown = "?" }"#).is_err());
        assert!(parse(r#"x = { value = 1, sauce = "s" }"#).is_err());
        assert!(parse(r#"x = { unknown = "" }"#).is_err());
    }
}
