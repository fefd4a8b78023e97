//! The sweep file: what to vary (axes over field paths) in which base input.
//!
//! ```toml
//! kind = "plan"                  # plan | train | infer
//! base = "openai-nvidia-10gw"    # a shipped scenario, or a file relative to this one
//! max_points = 100000            # larger sweeps need --force (default 100,000)
//!
//! [[axis]]
//! field = "defaults.pue"
//! values = [1.1, 1.2, 1.3]
//!
//! [[axis]]
//! field = "tranche[1].facility_gw"
//! range = { start = 0.5, stop = 2.0, step = 0.5 }   # or count = N for N evenly spaced
//!
//! [[axis]]
//! field = "defaults.electricity_usd_per_kwh"
//! random = { min = 0.03, max = 0.12, count = 20, seed = 7 }   # log = true, integer = true
//! ```

use catalog::{Diagnostic, Diagnostics};
use rand::{Rng, SeedableRng};
use serde::Deserialize;
use toml::{Spanned, Value};

use crate::path::FieldPath;

/// Sweeps larger than this need `--force` (or a larger `max_points` in the file).
pub const DEFAULT_MAX_POINTS: u64 = 100_000;

/// What the base input is, and so which engine call a point makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A scenario, planned (`gigawatt plan`).
    Plan,
    /// A training spec (`gigawatt train --spec`).
    Train,
    /// A serving spec (`gigawatt infer --spec`).
    Infer,
}

impl Kind {
    /// Its name in sweep files.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Plan => "plan",
            Kind::Train => "train",
            Kind::Infer => "infer",
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    kind: Option<Spanned<String>>,
    base: Option<Spanned<String>>,
    name: Option<String>,
    description: Option<String>,
    max_points: Option<Spanned<i64>>,
    #[serde(default)]
    axis: Vec<Spanned<RawAxis>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAxis {
    field: Spanned<String>,
    values: Option<Vec<Value>>,
    range: Option<RawRange>,
    random: Option<RawRandom>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRange {
    start: Value,
    stop: Value,
    step: Option<Value>,
    count: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRandom {
    min: f64,
    max: f64,
    count: i64,
    seed: u64,
    #[serde(default)]
    log: bool,
    #[serde(default)]
    integer: bool,
}

/// One axis: a field and the values it takes, in order.
#[derive(Debug, Clone)]
pub struct Axis {
    /// The field the axis sets.
    pub field: FieldPath,
    /// Its values (all numbers, all text, or all booleans).
    pub values: Vec<Value>,
    /// Where the axis is in the sweep file (1-based line).
    pub line: Option<usize>,
}

/// A parsed, checked sweep file (the base not yet read).
#[derive(Debug, Clone)]
pub struct SweepFile {
    /// The file's name, for diagnostics.
    pub origin: String,
    /// What the base is.
    pub kind: Kind,
    /// The base input: a shipped scenario name or a path relative to the sweep file; `None`
    /// means the default scenario (plan sweeps only).
    pub base: Option<String>,
    /// A title, if given.
    pub name: Option<String>,
    /// A description, if given.
    pub description: Option<String>,
    /// The size above which `--force` is needed.
    pub max_points: u64,
    /// The axes, first the slowest-varying.
    pub axes: Vec<Axis>,
}

impl SweepFile {
    /// Parses and checks the text of a sweep file called `origin`.
    pub fn parse(origin: &str, text: &str) -> Result<SweepFile, Diagnostics> {
        let raw: RawFile = toml::from_str(text).map_err(|err| {
            Diagnostics(vec![Diagnostic::from_toml(origin, text, &err).hint(
                "see \"Sweeps\" in the README for the format (kind, base, max_points, [[axis]] with field and values | range | random)",
            )])
        })?;
        let mut problems = Vec::new();
        let kind = match raw.kind.as_ref().map(|k| k.get_ref().as_str()) {
            None | Some("plan") => Kind::Plan,
            Some("train") => Kind::Train,
            Some("infer") => Kind::Infer,
            Some(other) => {
                let near = catalog::nearest(other, ["plan", "train", "infer"]);
                let span = raw.kind.as_ref().map(|k| k.span());
                problems.push(
                    Diagnostic::new(origin, format!("unknown sweep kind `{other}`"))
                        .at(text, span)
                        .field("kind")
                        .hint(match near {
                            Some(n) => format!("did you mean `{n}`? (plan | train | infer)"),
                            None => "write plan, train or infer".into(),
                        }),
                );
                Kind::Plan
            }
        };
        if kind != Kind::Plan && raw.base.is_none() {
            problems.push(
                Diagnostic::new(origin, format!("a {} sweep needs a base spec", kind.name()))
                    .field("base")
                    .hint(format!(
                        "add base = \"my-spec.toml\" (a `gigawatt {}` spec, relative to this file)",
                        if kind == Kind::Train {
                            "train --spec"
                        } else {
                            "infer --spec"
                        }
                    )),
            );
        }
        let max_points = match &raw.max_points {
            None => DEFAULT_MAX_POINTS,
            Some(m) if *m.get_ref() >= 1 => *m.get_ref() as u64,
            Some(m) => {
                problems.push(
                    Diagnostic::new(origin, "max_points must be at least 1")
                        .at(text, Some(m.span()))
                        .field("max_points")
                        .hint("leave it out for the default (100,000), or give the largest sweep you mean to run"),
                );
                DEFAULT_MAX_POINTS
            }
        };
        if raw.axis.is_empty() {
            problems.push(
                Diagnostic::new(origin, "the sweep has no axes")
                    .field("axis")
                    .hint("add [[axis]] tables, each with field = \"defaults.pue\" and values = [...], range = {...} or random = {...}"),
            );
        }
        let mut axes: Vec<Axis> = Vec::new();
        for (i, spanned) in raw.axis.iter().enumerate() {
            let label = format!("axis[{}]", i + 1);
            let axis = spanned.get_ref();
            let at = |d: Diagnostic| d.at(text, Some(axis.field.span()));
            let field = match FieldPath::parse(axis.field.get_ref()) {
                Ok(f) => f,
                Err(message) => {
                    problems.push(at(
                        from_message(origin, &message).field(format!("{label}.field"))
                    ));
                    continue;
                }
            };
            if axes.iter().any(|a| a.field == field) {
                problems.push(at(Diagnostic::new(
                    origin,
                    format!("two axes set `{field}`"),
                )
                .field(format!("{label}.field"))
                .hint("give each field one axis (list every value on it)")));
                continue;
            }
            match axis_values(axis) {
                Ok(values) => axes.push(Axis {
                    line: Some(catalog_line(text, axis.field.span().start)),
                    field,
                    values,
                }),
                Err(message) => problems.push(at(from_message(origin, &message)
                    .field(format!("{label} ({})", axis.field.get_ref())))),
            }
        }
        if !problems.is_empty() {
            return Err(Diagnostics(problems));
        }
        Ok(SweepFile {
            origin: origin.to_string(),
            kind,
            base: raw.base.map(|b| b.into_inner()),
            name: raw.name,
            description: raw.description,
            max_points,
            axes,
        })
    }

    /// The number of points: the product of the axes' lengths (saturating).
    pub fn points(&self) -> u64 {
        self.axes
            .iter()
            .fold(1u64, |n, a| n.saturating_mul(a.values.len() as u64))
    }
}

fn catalog_line(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// A message of the form "what\n  fix: how" as a diagnostic.
pub(crate) fn from_message(origin: &str, message: &str) -> Diagnostic {
    match message.split_once("\n  fix: ") {
        Some((what, fix)) => Diagnostic::new(origin, what).hint(fix),
        None => Diagnostic::new(origin, message),
    }
}

/// The values one axis takes.
fn axis_values(axis: &RawAxis) -> Result<Vec<Value>, String> {
    let given = [
        axis.values.is_some(),
        axis.range.is_some(),
        axis.random.is_some(),
    ];
    if given.iter().filter(|&&g| g).count() != 1 {
        return Err("an axis needs exactly one of values, range or random\n  fix: values = [1.1, 1.2], range = { start = 1, stop = 2, step = 0.25 }, or random = { min = 1, max = 2, count = 100, seed = 1 }".into());
    }
    let values = if let Some(values) = &axis.values {
        values.clone()
    } else if let Some(range) = &axis.range {
        range_values(range)?
    } else if let Some(random) = &axis.random {
        random_values(random)?
    } else {
        Vec::new()
    };
    if values.is_empty() {
        return Err("the axis has no values\n  fix: give at least one value (an axis of one value fixes the field for every point)".into());
    }
    column_kind(&values)?;
    Ok(values)
}

/// Safety bound on one axis's length, before the product is compared with `max_points`.
const MAX_AXIS_VALUES: u64 = 100_000_000;

fn range_values(range: &RawRange) -> Result<Vec<Value>, String> {
    let number = |v: &Value, name: &str| {
        match v {
        Value::Integer(i) => Ok(*i as f64),
        Value::Float(f) if f.is_finite() => Ok(*f),
        _ => Err(format!("range.{name} must be a number\n  fix: write range = {{ start = 1, stop = 2, step = 0.5 }}")),
    }
    };
    let (start, stop) = (number(&range.start, "start")?, number(&range.stop, "stop")?);
    if stop < start {
        return Err(format!("range.stop ({stop}) is below range.start ({start}), so the axis has no values\n  fix: give stop >= start"));
    }
    match (&range.step, range.count) {
        (Some(step_value), None) => {
            let step = number(step_value, "step")?;
            if step <= 0.0 {
                return Err("range.step must be greater than zero\n  fix: give a positive step, e.g. step = 0.5".into());
            }
            // Inclusive of stop, allowing for floating-point rounding in (stop - start) / step.
            let n = ((stop - start) / step + 1e-9).floor() as u64 + 1;
            if n > MAX_AXIS_VALUES {
                return Err(format!("the range has {n} values\n  fix: use a larger step"));
            }
            let integers = matches!(
                (&range.start, &range.stop, step_value),
                (Value::Integer(_), Value::Integer(_), Value::Integer(_))
            );
            Ok((0..n)
                .map(|i| {
                    if integers {
                        Value::Integer((start + step * i as f64).round() as i64)
                    } else {
                        Value::Float(tidy(start + step * i as f64))
                    }
                })
                .collect())
        }
        (None, Some(count)) => {
            if count < 1 || count as u64 > MAX_AXIS_VALUES {
                return Err(format!("range.count is {count}, so the axis has no values\n  fix: give count >= 1"));
            }
            Ok((0..count)
                .map(|i| {
                    let t = if count == 1 { 0.0 } else { i as f64 / (count - 1) as f64 };
                    Value::Float(tidy(start + (stop - start) * t))
                })
                .collect())
        }
        _ => Err("a range needs exactly one of step or count\n  fix: range = { start = 1, stop = 2, step = 0.25 } or { start = 1, stop = 2, count = 5 }".into()),
    }
}

fn random_values(random: &RawRandom) -> Result<Vec<Value>, String> {
    if random.count < 1 || random.count as u64 > MAX_AXIS_VALUES {
        return Err(format!(
            "random.count is {}, so the axis has no values\n  fix: give count >= 1",
            random.count
        ));
    }
    if !(random.min.is_finite() && random.max.is_finite()) || random.max < random.min {
        return Err("random needs finite min <= max\n  fix: e.g. random = { min = 0.03, max = 0.12, count = 50, seed = 1 }".into());
    }
    if random.log && random.min <= 0.0 {
        return Err(
            "random.log needs min > 0\n  fix: give a positive min, or drop log = true".into(),
        );
    }
    // One ChaCha8 stream per axis seed: the same file gives the same values on any machine.
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(random.seed);
    Ok((0..random.count)
        .map(|_| {
            if random.integer {
                Value::Integer(
                    rng.random_range(random.min.ceil() as i64..=random.max.floor() as i64),
                )
            } else if random.log {
                Value::Float(rng.random_range(random.min.ln()..=random.max.ln()).exp())
            } else {
                Value::Float(rng.random_range(random.min..=random.max))
            }
        })
        .collect())
}

/// `x` to 13 significant digits: a range's 1.1 + 0.1 is 1.2, not 1.2000000000000002.
fn tidy(x: f64) -> f64 {
    format!("{x:.12e}").parse().unwrap_or(x)
}

/// The column type of an axis's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ColumnKind {
    Int,
    Float,
    Text,
    Bool,
}

pub(crate) fn column_kind(values: &[Value]) -> Result<ColumnKind, String> {
    let kinds: Vec<ColumnKind> = values
        .iter()
        .map(|v| match v {
            Value::Integer(_) => Ok(ColumnKind::Int),
            Value::Float(f) if f.is_finite() => Ok(ColumnKind::Float),
            Value::String(_) => Ok(ColumnKind::Text),
            Value::Boolean(_) => Ok(ColumnKind::Bool),
            other => Err(format!("an axis value must be a number, text or true/false, not `{other}`\n  fix: list plain values, e.g. values = [1.1, 1.2]")),
        })
        .collect::<Result<_, _>>()?;
    let first = kinds[0];
    if kinds.iter().all(|&k| k == first) {
        Ok(first)
    } else if kinds
        .iter()
        .all(|k| matches!(k, ColumnKind::Int | ColumnKind::Float))
    {
        Ok(ColumnKind::Float)
    } else {
        Err("an axis's values must be all numbers, all text, or all true/false\n  fix: make one axis per kind of value".into())
    }
}
