//! Diagnostics for bad input: where (file, line, field), what, and how to fix it.
//!
//! Every input problem a user can cause ends up as a [`Diagnostic`], so that the CLI and the
//! server render them the same way and tests can check the parts separately.

use std::fmt;
use std::ops::Range;

/// One problem in one input file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file, as the user named it (or `<embedded>/catalog/x.toml` for shipped data).
    pub file: String,
    /// 1-based line, where known.
    pub line: Option<usize>,
    /// 1-based column, where known.
    pub column: Option<usize>,
    /// The field path, for example `tranche[2].system`.
    pub field: Option<String>,
    /// What is wrong, lowercase, no trailing period.
    pub message: String,
    /// How to fix it.
    pub hint: Option<String>,
}

impl Diagnostic {
    /// A diagnostic for `file` with `message` and nothing else known yet.
    pub fn new(file: impl Into<String>, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            file: file.into(),
            line: None,
            column: None,
            field: None,
            message: message.into(),
            hint: None,
        }
    }

    /// A problem with `field`, at the byte `span` of `text` (the file's contents), with its
    /// fix: the shape every input checker reports. A span ending at 0 (a value the file did
    /// not write, such as a default) places nothing.
    pub fn in_field(
        file: impl Into<String>,
        text: &str,
        span: Option<Range<usize>>,
        field: impl Into<String>,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) -> Diagnostic {
        Diagnostic::new(file, message)
            .at(text, span.filter(|s| s.end > 0))
            .field(field)
            .hint(hint)
    }

    /// Places the diagnostic at the byte `span` of `text` (the file's contents).
    pub fn at(mut self, text: &str, span: Option<Range<usize>>) -> Diagnostic {
        if let Some(span) = span {
            let (line, column) = line_column(text, span.start);
            self.line = Some(line);
            self.column = Some(column);
        }
        self
    }

    /// Names the field the problem is in.
    pub fn field(mut self, field: impl Into<String>) -> Diagnostic {
        self.field = Some(field.into());
        self
    }

    /// Says how to fix it.
    pub fn hint(mut self, hint: impl Into<String>) -> Diagnostic {
        self.hint = Some(hint.into());
        self
    }

    /// A TOML syntax or type error in `text` (the file `file`), placed at its span, with the
    /// field it is in where the span shows one, and TOML's type names said in words.
    pub fn from_toml(file: impl Into<String>, text: &str, err: &toml::de::Error) -> Diagnostic {
        let d = Diagnostic::new(file, plain_toml_message(err.message())).at(text, err.span());
        match err.span().and_then(|span| field_at(text, span.start)) {
            Some(field) if err.message().starts_with("invalid") => d.field(field),
            _ => d,
        }
    }
}

/// TOML's messages name Rust types (`expected i64`); say what to write instead.
fn plain_toml_message(message: &str) -> String {
    let mut out = message.trim().to_string();
    for (rust, words) in [
        ("expected i64", "expected a whole number"),
        ("expected u64", "expected a whole number"),
        ("expected u32", "expected a whole number"),
        ("expected i32", "expected a whole number"),
        ("expected f64", "expected a number"),
        ("expected a boolean", "expected true or false"),
        ("expected a sequence", "expected a list in [brackets]"),
    ] {
        out = out.replace(rust, words);
    }
    out
}

/// The dotted path of the key whose value is at byte `offset`: the key on that line, under the
/// nearest `[table]` (or `[[array]]`, as `array[index]`, 1-based as every other diagnostic
/// counts entries) header above it.
fn field_at(text: &str, offset: usize) -> Option<String> {
    let offset = offset.min(text.len());
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let line = text[line_start..].lines().next()?;
    let key = line.split_once('=')?.0.trim().trim_matches('"');
    if key.is_empty() || key.starts_with('#') || key.starts_with('[') {
        return None;
    }
    let mut table: Option<String> = None;
    let mut counts: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for header in text[..line_start].lines().map(str::trim) {
        if let Some(name) = header.strip_prefix("[[").and_then(|h| h.split("]]").next()) {
            let name = name.trim().to_string();
            let n = counts.entry(name.clone()).or_insert(0);
            *n += 1;
            table = Some(format!("{name}[{n}]"));
        } else if let Some(name) = header.strip_prefix('[').and_then(|h| h.split(']').next()) {
            table = Some(name.trim().to_string());
        }
    }
    Some(match table {
        Some(t) => format!("{t}.{key}"),
        None => key.to_string(),
    })
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        write!(f, ": ")?;
        if let Some(field) = &self.field {
            write!(f, "`{field}`: ")?;
        }
        write!(f, "{}", self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, "\n  fix: {hint}")?;
        }
        Ok(())
    }
}

/// One input file as its readers see it (the name the user gave it and its contents), with the
/// problems found in it so far: every reader that checks a file field by field collects into
/// one of these, so that a run reports every problem at once, each placed, named and fixed the
/// same way.
#[derive(Debug, Clone)]
pub struct Problems<'a> {
    file: &'a str,
    text: &'a str,
    found: Vec<Diagnostic>,
}

impl<'a> Problems<'a> {
    /// No problems yet in `file`, whose contents are `text`.
    pub fn new(file: &'a str, text: &'a str) -> Problems<'a> {
        Problems {
            file,
            text,
            found: Vec::new(),
        }
    }

    /// The file's name, as the user gave it.
    pub fn file(&self) -> &'a str {
        self.file
    }

    /// A problem with `field` at the byte `span` of this file, with its fix (see
    /// [`Diagnostic::in_field`]), not recorded.
    fn located(
        &self,
        span: Option<Range<usize>>,
        field: impl Into<String>,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) -> Diagnostic {
        Diagnostic::in_field(self.file, self.text, span, field, message, hint)
    }

    /// One problem with `field` at the byte `span` of this file, as the whole report: for a
    /// reader that stops at its first problem.
    pub fn single(
        &self,
        span: Option<Range<usize>>,
        field: impl Into<String>,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) -> Diagnostics {
        Diagnostics(vec![self.located(span, field, message, hint)])
    }

    /// Records a problem with `field` at the byte `span` of this file, with its fix.
    pub fn add(
        &mut self,
        span: Option<Range<usize>>,
        field: impl Into<String>,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) {
        let problem = self.located(span, field, message, hint);
        self.found.push(problem);
    }

    /// Whether nothing is wrong so far.
    pub fn is_empty(&self) -> bool {
        self.found.is_empty()
    }

    /// Everything found, in the order it was found: `Ok` when nothing was.
    pub fn into_result(self) -> Result<(), Diagnostics> {
        if self.found.is_empty() {
            Ok(())
        } else {
            Err(Diagnostics(self.found))
        }
    }

    /// Everything found so far, as [`Problems::into_result`], leaving this collector empty for a
    /// reader that still needs its other parts.
    pub fn take_result(&mut self) -> Result<(), Diagnostics> {
        std::mem::replace(self, Problems::new(self.file, self.text)).into_result()
    }
}

impl From<Problems<'_>> for Diagnostics {
    /// Everything found, in the order it was found (empty when nothing was).
    fn from(problems: Problems<'_>) -> Diagnostics {
        Diagnostics(problems.found)
    }
}

/// A list of diagnostics, displayed one per paragraph.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

/// 1-based (line, column) of byte `offset` in `text`; column counts characters.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..floor_char_boundary(text, offset)];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// The candidate closest to `wanted` by edit distance, if it is close enough to be a likely
/// typo (at most a third of the length, and at most 4 edits), or if one contains the other.
pub fn nearest<'a>(wanted: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let wanted_lower = wanted.to_lowercase();
    let mut best: Option<(usize, &str)> = None;
    for candidate in candidates {
        let distance = edit_distance(&wanted_lower, &candidate.to_lowercase());
        if best.is_none_or(|(d, _)| distance < d) {
            best = Some((distance, candidate));
        }
    }
    let (distance, candidate) = best?;
    let limit = (wanted.chars().count() / 3).clamp(1, 4);
    let contains = wanted.len() >= 3
        && (candidate.contains(&wanted_lower) || wanted_lower.contains(candidate));
    (distance <= limit || contains).then_some(candidate)
}

/// Levenshtein distance counted in characters, with adjacent transpositions costing one edit
/// (so `nvl27` is one edit from `nvl72`).
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let width = b.len() + 1;
    let mut rows = vec![0usize; (a.len() + 1) * width];
    for (j, cell) in rows.iter_mut().enumerate().take(width) {
        *cell = j;
    }
    for i in 1..=a.len() {
        rows[i * width] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (rows[(i - 1) * width + j] + 1)
                .min(rows[i * width + j - 1] + 1)
                .min(rows[(i - 1) * width + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(rows[(i - 2) * width + j - 2] + 1);
            }
            rows[i * width + j] = best;
        }
    }
    rows[a.len() * width + b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_field_problem_is_placed_named_and_fixed() {
        // "b = 2" starts at byte 6 of "a = 1\nb = 2": line 2, column 1.
        let text = "a = 1\nb = 2\n";
        let d = Diagnostic::in_field("f.toml", text, Some(6..11), "b", "too big", "use 1");
        assert_eq!((d.line, d.column), (Some(2), Some(1)));
        assert_eq!(d.field.as_deref(), Some("b"));
        assert_eq!(d.hint.as_deref(), Some("use 1"));
        assert_eq!(d.message, "too big");
        // A value the file did not write (span 0..0) and no span place nothing.
        for span in [Some(0..0), None] {
            let d = Diagnostic::in_field("f.toml", text, span, "b", "m", "h");
            assert_eq!((d.line, d.column), (None, None));
        }
    }

    #[test]
    fn problems_are_reported_together_in_the_order_found() {
        let text = "a = 1\nb = 2\n";
        let mut problems = Problems::new("f.toml", text);
        assert!(problems.is_empty());
        assert_eq!(problems.clone().into_result(), Ok(()));
        problems.add(Some(6..11), "b", "too big", "use 1");
        problems.add(None, "c", "missing", "add c");
        // Each is placed as `Diagnostic::in_field` places it (line 2, column 1; unplaced).
        let expected = Diagnostics(vec![
            Diagnostic::in_field("f.toml", text, Some(6..11), "b", "too big", "use 1"),
            Diagnostic::in_field("f.toml", text, None, "c", "missing", "add c"),
        ]);
        assert_eq!(problems.clone().into_result(), Err(expected.clone()));
        assert_eq!(Diagnostics::from(problems.clone()), expected);
        // Taking leaves the collector empty, on the same file.
        assert_eq!(problems.take_result(), Err(expected));
        assert!(problems.is_empty());
        assert_eq!(problems.file(), "f.toml");
        // A reader that stops at its first problem gets it alone, placed the same way.
        let single = problems.single(Some(0..5), "a", "wrong", "fix it");
        assert_eq!(single.0.len(), 1);
        assert_eq!((single.0[0].line, single.0[0].column), (Some(1), Some(1)));
        assert!(problems.is_empty(), "single records nothing");
    }

    #[test]
    fn a_toml_type_error_names_its_field_in_words() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Spec {
            serving: Serving,
            tranche: Vec<Tranche>,
        }
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Serving {
            tp: i64,
        }
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Tranche {
            pue: f64,
        }
        let text = "[serving]\ntp = \"four\"\n[[tranche]]\npue = 1.2\n";
        let err = toml::from_str::<Spec>(text).unwrap_err();
        let d = Diagnostic::from_toml("s.toml", text, &err);
        assert_eq!(d.field.as_deref(), Some("serving.tp"));
        assert!(d.message.contains("expected a whole number"), "{d}");
        assert_eq!(d.line, Some(2));

        let text = "[serving]\ntp = 4\n[[tranche]]\npue = 1.2\n[[tranche]]\npue = \"high\"\n";
        let err = toml::from_str::<Spec>(text).unwrap_err();
        let d = Diagnostic::from_toml("s.toml", text, &err);
        assert_eq!(d.field.as_deref(), Some("tranche[2].pue"), "{d}");
        assert!(d.message.contains("expected a number"), "{d}");
    }

    #[test]
    fn line_and_column_are_one_based() {
        let text = "a = 1\nbb = 2\n";
        assert_eq!(line_column(text, 0), (1, 1));
        // Offset 6 is the first byte of the second line; offset 11 is the `2`.
        assert_eq!(line_column(text, 6), (2, 1));
        assert_eq!(line_column(text, 11), (2, 6));
    }

    #[test]
    fn transposed_digits_are_one_edit() {
        assert_eq!(edit_distance("gb200-nvl27", "gb200-nvl72"), 1);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn suggests_the_nearest_id_only_when_close() {
        let ids = ["gb200-nvl72", "gb300-nvl72", "dgx-h100"];
        assert_eq!(nearest("gb200-nvl27", ids), Some("gb200-nvl72"));
        assert_eq!(nearest("dgx-h10", ids), Some("dgx-h100"));
        assert_eq!(nearest("completely-different", ids), None);
    }

    #[test]
    fn display_names_file_line_field_and_fix() {
        let d = Diagnostic::new("x.toml", "unknown system `a`")
            .at("k = 1\nsystem = \"a\"\n", Some(6..12))
            .field("tranche[0].system")
            .hint("use `b`");
        assert_eq!(
            d.to_string(),
            "x.toml:2:1: `tranche[0].system`: unknown system `a`\n  fix: use `b`"
        );
    }
}
