//! Sweeps: one base input (a scenario, a training or a serving spec), axes over its fields
//! (addressed by the paths diagnostics print), expanded into points, optionally cut to a
//! deterministic shard, run in parallel, and returned as one table: a point id, each axis's
//! value, and the kind's key outputs. Shared by `gigawatt sweep` and the Python package.
//!
//! No I/O: the caller reads the sweep file and the base (`resolve_base` takes a reader) and
//! writes the table (CSV, JSON, or Parquet from [`parquet::write`]).

mod kinds;
pub mod parquet;
mod path;
mod shard;
mod spec;
mod table;

use std::path::{Path, PathBuf};

use catalog::{Catalog, Diagnostic, Diagnostics};
use rayon::prelude::*;
use toml::Value;

pub use path::FieldPath;
pub use shard::Shard;
pub use spec::{Axis, Kind, SweepFile, DEFAULT_MAX_POINTS};
pub use table::{Column, Table, Values};

use spec::{column_kind, from_message, ColumnKind};

/// The base input of a sweep, read.
#[derive(Debug, Clone)]
pub struct Base {
    /// Its name for diagnostics (`<shipped>/scenarios/x.toml` or the path).
    pub origin: String,
    /// Its text.
    pub text: String,
}

/// Finds the base a sweep file names: a file relative to the sweep file's folder (`dir`), else
/// a shipped scenario (plan sweeps), else an error with a "did you mean". `read` does the I/O:
/// `Ok(None)` when nothing is at the path.
pub fn resolve_base(
    file: &SweepFile,
    dir: Option<&Path>,
    read: impl Fn(&Path) -> Result<Option<String>, String>,
) -> Result<Base, Diagnostics> {
    let shipped = |name: &str| {
        engine::shipped::scenario(name).map(|(n, text)| Base {
            origin: engine::shipped::origin(n),
            text: text.to_string(),
        })
    };
    let Some(given) = &file.base else {
        let (name, _) = engine::shipped::SCENARIOS[0];
        return Ok(shipped(name).expect("the default scenario is shipped"));
    };
    let path: PathBuf = match dir {
        Some(dir) if Path::new(given).is_relative() => dir.join(given),
        _ => PathBuf::from(given),
    };
    let problem = |message: String, hint: String| {
        Diagnostics(vec![Diagnostic::new(&file.origin, message)
            .field("base")
            .hint(hint)])
    };
    match read(&path) {
        Ok(Some(text)) => {
            return Ok(Base {
                origin: path.display().to_string(),
                text,
            })
        }
        Ok(None) => {}
        Err(message) => return Err(problem(message, "give a readable file".into())),
    }
    if file.kind == Kind::Plan {
        if let Some(base) = shipped(given) {
            return Ok(base);
        }
    }
    let names = engine::shipped::SCENARIOS.iter().map(|(n, _)| *n);
    let hint = match (file.kind, catalog::nearest(given, names)) {
        (Kind::Plan, Some(near)) => format!("did you mean the shipped scenario `{near}`?"),
        _ => format!(
            "give a path (relative to the sweep file) to a {}, or a shipped scenario name",
            match file.kind {
                Kind::Plan => "scenario file",
                Kind::Train => "`gigawatt train` spec",
                Kind::Infer => "`gigawatt infer` spec",
            }
        ),
    };
    Err(problem(
        format!(
            "no file `{}` and no shipped scenario named `{given}`",
            path.display()
        ),
        hint,
    ))
}

/// A sweep ready to run: the file's axes checked against the base.
#[derive(Debug, Clone)]
pub struct Sweep {
    file: SweepFile,
    base: Base,
    /// The base as TOML text with each axis's field holding a placeholder (`template_slot`):
    /// a point's input is this text with the placeholders replaced by its values' TOML
    /// literals, the same document `toml::to_string` would write at a fraction of the cost.
    template: String,
    /// Each axis's placeholder as it appears (once) in `template`.
    slots: Vec<String>,
    kinds: Vec<ColumnKind>,
}

/// The placeholder string for axis `a` (text no input contains).
fn placeholder(a: usize) -> String {
    format!("gigawatt-sweep-axis-{a}-9b1f0c")
}

/// Where the placeholder of axis `a` sits in the template: as a basic or a literal string,
/// whichever the serializer wrote.
fn template_slot(template: &str, a: usize) -> Option<String> {
    let text = placeholder(a);
    [format!("\"{text}\""), format!("'{text}'")]
        .into_iter()
        .find(|slot| template.matches(slot.as_str()).count() == 1)
}

impl Sweep {
    /// Checks every axis against the base: the path exists there (entries) and names a field
    /// the input format has (a misspelt key is an error with "did you mean").
    pub fn new(catalog: &Catalog, file: SweepFile, base: Base) -> Result<Sweep, Diagnostics> {
        let document: Value = toml::from_str(&base.text).map_err(|err| {
            Diagnostics(vec![Diagnostic::from_toml(&base.origin, &base.text, &err)])
        })?;
        let mut problems = Vec::new();
        let mut kinds = Vec::new();
        for (i, axis) in file.axes.iter().enumerate() {
            kinds.push(column_kind(&axis.values).unwrap_or(ColumnKind::Float));
            let located = |d: Diagnostic| {
                let mut d = d.field(format!("axis[{}].field", i + 1));
                d.line = axis.line;
                d
            };
            let mut doc = document.clone();
            if let Err(message) = axis.field.set(&mut doc, axis.values[0].clone()) {
                problems.push(located(from_message(&file.origin, &message)));
                continue;
            }
            let text = toml::to_string(&doc).unwrap_or_default();
            if let Err(engine::EngineError::Invalid(ds)) =
                kinds::evaluate(file.kind, catalog, &base.origin, &text)
            {
                if let Some(d) = ds.0.iter().find(|d| structural(d)) {
                    problems.push(located(unknown_field(&file.origin, axis, d)));
                }
            }
        }
        if !problems.is_empty() {
            return Err(Diagnostics(problems));
        }
        let mut doc = document;
        for (a, axis) in file.axes.iter().enumerate() {
            let slot = Value::String(placeholder(a));
            axis.field
                .set(&mut doc, slot)
                .map_err(|m| Diagnostics(vec![from_message(&file.origin, &m)]))?;
        }
        let template = toml::to_string(&doc).map_err(|e| {
            Diagnostics(vec![Diagnostic::new(
                &base.origin,
                format!("the base cannot be written back as TOML: {e}"),
            )])
        })?;
        // Each placeholder must appear exactly once for the substitution to be the document.
        let mut slots = Vec::new();
        for a in 0..file.axes.len() {
            let slot = template_slot(&template, a).ok_or_else(|| {
                Diagnostics(vec![Diagnostic::new(
                    &file.origin,
                    format!(
                        "internal: axis {} has no single place in the base's text",
                        a + 1
                    ),
                )])
            })?;
            slots.push(slot);
        }
        Ok(Sweep {
            file,
            base,
            template,
            slots,
            kinds,
        })
    }

    /// The sweep file.
    pub fn file(&self) -> &SweepFile {
        &self.file
    }

    /// Points in the whole sweep.
    pub fn points(&self) -> u64 {
        self.file.points()
    }

    /// Refuses a sweep over its stated size (`max_points`) unless forced.
    pub fn check_size(&self, force: bool) -> Result<(), Diagnostics> {
        let points = self.points();
        if force || points <= self.file.max_points {
            return Ok(());
        }
        Err(Diagnostics(vec![Diagnostic::new(
            &self.file.origin,
            format!(
                "the sweep has {points} points, over its limit of {} (max_points)",
                self.file.max_points
            ),
        )
        .field("max_points")
        .hint("run it anyway with --force (Python: force=True), raise max_points in the sweep file, or split it with --shard K/N")]))
    }

    /// The axis values of point `point` (zero-based; the last axis varies fastest).
    pub fn point_values(&self, point: u64) -> Vec<&Value> {
        let mut rest = point;
        let mut values = vec![&self.file.axes[0].values[0]; self.file.axes.len()];
        for (slot, axis) in values.iter_mut().zip(&self.file.axes).rev() {
            let n = axis.values.len() as u64;
            *slot = &axis.values[(rest % n) as usize];
            rest /= n;
        }
        values
    }

    /// Runs the points of `shard` in parallel (rayon; the caller's pool decides the threads),
    /// calling `progress` after each, and returns one row per point in point order. A point
    /// whose input the engine refuses has its message in the `error` column and no outputs.
    pub fn run(&self, catalog: &Catalog, shard: Shard, progress: &(dyn Fn() + Sync)) -> Table {
        let total = self.points();
        let ids: Vec<u64> = shard.points(total).collect();
        let outcomes: Vec<Result<Vec<kinds::Cell>, String>> = ids
            .par_iter()
            .map(|&point| {
                let outcome = self.run_point(catalog, point);
                progress();
                outcome
            })
            .collect();
        self.table(&ids, &outcomes)
    }

    /// The input text of point `point`.
    pub fn point_text(&self, point: u64) -> String {
        let mut text = self.template.clone();
        for (slot, value) in self.slots.iter().zip(self.point_values(point)) {
            text = text.replacen(slot.as_str(), &value.to_string(), 1);
        }
        text
    }

    fn run_point(&self, catalog: &Catalog, point: u64) -> Result<Vec<kinds::Cell>, String> {
        let text = self.point_text(point);
        kinds::evaluate(self.file.kind, catalog, &self.base.origin, &text).map_err(|e| {
            let engine::EngineError::Invalid(ds) = e;
            point_error(&ds)
        })
    }

    fn table(&self, ids: &[u64], outcomes: &[Result<Vec<kinds::Cell>, String>]) -> Table {
        let mut columns = vec![Column {
            name: "point".into(),
            values: Values::Int(ids.iter().map(|&i| Some(i as i64)).collect()),
        }];
        for (a, (axis, kind)) in self.file.axes.iter().zip(&self.kinds).enumerate() {
            let at = |&point: &u64| self.point_values(point)[a];
            let values = match kind {
                ColumnKind::Int => Values::Int(ids.iter().map(|p| at(p).as_integer()).collect()),
                ColumnKind::Float => Values::Float(
                    ids.iter()
                        .map(|p| match at(p) {
                            Value::Integer(i) => Some(*i as f64),
                            v => v.as_float(),
                        })
                        .collect(),
                ),
                ColumnKind::Text => Values::Text(
                    ids.iter()
                        .map(|p| at(p).as_str().map(str::to_string))
                        .collect(),
                ),
                ColumnKind::Bool => Values::Bool(ids.iter().map(|p| at(p).as_bool()).collect()),
            };
            columns.push(Column {
                name: axis.field.as_str().to_string(),
                values,
            });
        }
        for (o, (name, mut values)) in kinds::output_columns(self.file.kind)
            .into_iter()
            .enumerate()
        {
            for outcome in outcomes {
                kinds::push(
                    &mut values,
                    outcome.as_ref().ok().and_then(|cells| cells.get(o)),
                );
            }
            columns.push(Column {
                name: name.to_string(),
                values,
            });
        }
        columns.push(Column {
            name: "error".into(),
            values: Values::Text(outcomes.iter().map(|o| o.as_ref().err().cloned()).collect()),
        });
        Table { columns }
    }
}

/// The names of the columns a sweep's table has, in order.
pub fn column_names(sweep: &Sweep) -> Vec<String> {
    let mut names = vec!["point".to_string()];
    names.extend(sweep.file.axes.iter().map(|a| a.field.as_str().to_string()));
    names.extend(
        kinds::output_columns(sweep.file.kind)
            .iter()
            .map(|(n, _)| n.to_string()),
    );
    names.push("error".into());
    names
}

/// An error that says the axis's path is wrong rather than its value.
fn structural(d: &Diagnostic) -> bool {
    d.message.contains("unknown field")
        || d.message.contains("invalid type")
        || d.message.starts_with("unknown ")
}

/// The axis error for a structural problem, with "did you mean" when serde listed the keys.
fn unknown_field(origin: &str, axis: &Axis, d: &Diagnostic) -> Diagnostic {
    let message = format!("`{}`: {}", axis.field, d.message);
    let suggestion = d.message.strip_prefix("unknown field `").and_then(|rest| {
        let (wrong, expected) = rest.split_once('`')?;
        let candidates: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
        let near = catalog::nearest(wrong, candidates.iter().copied())?;
        Some(axis.field.with_key_at(wrong, near))
    });
    let hint = match suggestion {
        Some(path) => format!("did you mean `{path}`?"),
        None => d.hint.clone().unwrap_or_else(|| {
            "address a field the input format has, as diagnostics print it".into()
        }),
    };
    Diagnostic::new(origin, message).hint(hint)
}

/// A point's input error on one line per problem: field, message and fix (its line numbers
/// would refer to the generated text, so they are left out).
fn point_error(ds: &Diagnostics) -> String {
    ds.0.iter()
        .map(|d| {
            let mut s = match &d.field {
                Some(f) => format!("`{f}`: {}", d.message),
                None => d.message.clone(),
            };
            if let Some(h) = &d.hint {
                s += &format!(" (fix: {h})");
            }
            s
        })
        .collect::<Vec<_>>()
        .join("; ")
}
