//! The checks every catalog entry's fields go through (bounds on numbers, dates, ids, sources
//! that exist), each problem a [`Diagnostic`] naming the file, the field and the fix.

use std::collections::BTreeMap;
use std::ops::Range;

use crate::diagnostic::{nearest, Diagnostic};
use crate::load::{CatalogText, Placed};
use crate::model::Source;
use crate::Sourced;

/// The bounds a number must lie in, and how to say so.
#[derive(Clone, Copy)]
pub(crate) enum Bound {
    /// Strictly positive.
    Positive,
    /// Zero or more.
    NonNegative,
    /// A whole number, 1 or more.
    Count,
    /// Inclusive range.
    Between(f64, f64),
    /// Greater than zero, at most the value.
    UpTo(f64),
}

impl Bound {
    fn accepts(self, x: f64) -> bool {
        match self {
            Bound::Positive => x > 0.0,
            Bound::NonNegative => x >= 0.0,
            Bound::Count => x >= 1.0 && x.fract() == 0.0,
            Bound::Between(lo, hi) => (lo..=hi).contains(&x),
            Bound::UpTo(hi) => x > 0.0 && x <= hi,
        }
    }

    fn describe(self) -> String {
        match self {
            Bound::Positive => "greater than zero".into(),
            Bound::NonNegative => "zero or more".into(),
            Bound::Count => "a whole number, 1 or more".into(),
            Bound::Between(lo, hi) => format!("between {lo} and {hi}"),
            Bound::UpTo(hi) => format!("greater than 0 and at most {hi}"),
        }
    }
}

/// The largest magnitude a catalog number may have (see `Checker::number`).
pub const MAX_CATALOG_NUMBER: f64 = 1e15;

pub(crate) struct Checker<'a> {
    pub(crate) files: &'a [&'a CatalogText],
    pub(crate) sources: &'a BTreeMap<String, Placed<Source>>,
    pub(crate) problems: Vec<Diagnostic>,
    /// Problems that do not stop loading (old-format sources).
    pub(crate) warnings: Vec<Diagnostic>,
}

impl Checker<'_> {
    pub(crate) fn diag(
        &self,
        file: usize,
        span: Option<Range<usize>>,
        field: String,
        message: String,
    ) -> Diagnostic {
        let f = self.files[file];
        Diagnostic::new(&f.name, message)
            .at(&f.text, span)
            .field(field)
    }

    /// Records an error (loading fails) in `field` at `span` of file `file`, with its fix.
    pub(crate) fn error(
        &mut self,
        file: usize,
        span: Option<Range<usize>>,
        field: String,
        message: String,
        hint: impl Into<String>,
    ) {
        let d = self.diag(file, span, field, message).hint(hint);
        self.problems.push(d);
    }

    /// Records a problem at `field` unless `value` is a date (YYYY, YYYY-MM or YYYY-MM-DD),
    /// with `hint` as the fix; says whether it was one.
    pub(crate) fn is_dated(
        &mut self,
        file: usize,
        field: String,
        value: &toml::Spanned<String>,
        hint: &str,
    ) -> bool {
        let ok = is_date(value.get_ref());
        if !ok {
            self.error(
                file,
                Some(value.span()),
                field,
                format!("`{}` is not a date", value.get_ref()),
                hint,
            );
        }
        ok
    }

    /// Records a problem at `field` unless `value` is an amount a catalog can hold: finite,
    /// zero or more, and at most [`MAX_CATALOG_NUMBER`] (`key` is the name the fix gives);
    /// says whether it was one.
    pub(crate) fn is_amount(
        &mut self,
        file: usize,
        span: Range<usize>,
        field: String,
        key: &str,
        value: f64,
    ) -> bool {
        let ok = (0.0..=MAX_CATALOG_NUMBER).contains(&value);
        if !ok {
            self.error(
                file,
                Some(span),
                field,
                format!("impossible value {}", units::fmt_number(value)),
                format!("`{key}` must be zero or more, and at most {MAX_CATALOG_NUMBER:e}"),
            );
        }
        ok
    }

    pub(crate) fn source_exists(
        &mut self,
        file: usize,
        field: &str,
        source: &str,
        span: &Range<usize>,
    ) {
        if self.sources.contains_key(source) {
            return;
        }
        let mut d = self.diag(
            file,
            Some(span.clone()),
            field.to_string(),
            format!("source `{source}` is not defined"),
        );
        d = match nearest(source, self.sources.keys().map(String::as_str)) {
            Some(near) => d.hint(format!(
                "did you mean `{near}`? Otherwise add a [[source]] entry with id = \"{source}\""
            )),
            None => d.hint(format!(
                "add a [[source]] entry with id = \"{source}\" (title, url, date, kind)"
            )),
        };
        self.problems.push(d);
    }

    pub(crate) fn number(
        &mut self,
        file: usize,
        field: String,
        value: &Sourced<f64>,
        bound: Bound,
    ) {
        if let Sourced::Known {
            value,
            source,
            source_span,
            range,
            ..
        } = value
        {
            self.source_exists(file, &field, source, source_span);
            if let Some((low, high)) = range.filter(|(low, high)| low > high) {
                self.error(
                    file,
                    Some(source_span.clone()),
                    field.clone(),
                    format!(
                        "`low` ({}) is above `high` ({})",
                        units::fmt_number(low),
                        units::fmt_number(high)
                    ),
                    "write the smaller end as `low` and the larger as `high`",
                );
            } else if let Some((low, high)) = range {
                let outside = *value < *low || *value > *high;
                if outside || !bound.accepts(*low) || !bound.accepts(*high) {
                    self.error(
                        file,
                        Some(source_span.clone()),
                        field.clone(),
                        format!(
                            "the range {} to {} does not hold the value {}{}",
                            units::fmt_number(*low),
                            units::fmt_number(*high),
                            units::fmt_number(*value),
                            if outside {
                                ""
                            } else {
                                " within the field's bounds"
                            }
                        ),
                        format!("`low` <= `value` <= `high`, each {}", bound.describe()),
                    );
                }
            }
            // Far above any real figure (a $1.4T programme is 1.4e12 USD) and far enough below
            // f64's range that products of catalog figures stay finite: an override of 1e308
            // would otherwise turn a training or serving result into NaN.
            let huge = value.abs() > MAX_CATALOG_NUMBER;
            if !value.is_finite() || huge || !bound.accepts(*value) {
                let hint = format!(
                    "`{field}` must be {}, and at most {MAX_CATALOG_NUMBER:e}",
                    bound.describe()
                );
                self.error(
                    file,
                    Some(source_span.clone()),
                    field,
                    format!("impossible value {}", units::fmt_number(*value)),
                    hint,
                );
            }
        }
    }

    pub(crate) fn date(&mut self, file: usize, field: String, value: &Sourced<String>) {
        if let Sourced::Known {
            value,
            source,
            source_span,
            ..
        } = value
        {
            self.source_exists(file, &field, source, source_span);
            if !is_date(value) {
                self.error(
                    file,
                    Some(source_span.clone()),
                    field,
                    format!("`{value}` is not a date"),
                    "write dates as YYYY, YYYY-MM or YYYY-MM-DD",
                );
            }
        }
    }

    pub(crate) fn id(&mut self, file: usize, kind: &str, id: &toml::Spanned<String>) {
        if !is_kebab_id(id.get_ref()) {
            self.error(
                file,
                Some(id.span()),
                format!("{kind}.id"),
                format!("`{}` is not a valid id", id.get_ref()),
                "ids are lowercase letters, digits and single dashes, like `gb200-nvl72`",
            );
        }
    }
}

/// `YYYY`, `YYYY-MM` or `YYYY-MM-DD` with plausible ranges.
pub(crate) fn is_date(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    let widths_ok = match parts.len() {
        1 => parts[0].len() == 4,
        2 => parts[0].len() == 4 && parts[1].len() == 2,
        3 => parts[0].len() == 4 && parts[1].len() == 2 && parts[2].len() == 2,
        _ => false,
    };
    if !widths_ok || !parts.iter().all(|p| p.bytes().all(|b| b.is_ascii_digit())) {
        return false;
    }
    let number = |i: usize| parts.get(i).map(|p| p.parse::<u32>().unwrap_or(0));
    let year_ok = number(0).is_some_and(|y| (1990..=2100).contains(&y));
    let month_ok = number(1).is_none_or(|m| (1..=12).contains(&m));
    let day_ok = number(2).is_none_or(|d| (1..=31).contains(&d));
    year_ok && month_ok && day_ok
}

fn is_kebab_id(id: &str) -> bool {
    !id.is_empty()
        && !id.starts_with('-')
        && !id.ends_with('-')
        && !id.contains("--")
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_of_three_precisions() {
        assert!(is_date("2025"));
        assert!(is_date("2025-09"));
        assert!(is_date("2025-09-22"));
        assert!(!is_date("2025-9"));
        assert!(!is_date("2025-13"));
        assert!(!is_date("H2 2026"));
    }

    #[test]
    fn ids_are_kebab_case() {
        assert!(is_kebab_id("gb200-nvl72"));
        assert!(is_kebab_id("tpu-v7-ironwood"));
        assert!(!is_kebab_id("GB200"));
        assert!(!is_kebab_id("gb200_nvl72"));
        assert!(!is_kebab_id("-x"));
    }
}
