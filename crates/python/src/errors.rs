//! Errors across the boundary: bad input as `InputError` (the CLI's text, with its parts as
//! attributes), a Rust panic as `InternalError`.

use std::panic::{catch_unwind, AssertUnwindSafe};

use catalog::Diagnostics;
use pyo3::create_exception;
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;

create_exception!(
    gigawatt,
    InputError,
    PyValueError,
    "Bad input: the message is the CLI's; `file`, `line`, `field` and `fix` say where and how to fix it (None where unknown), and `diagnostics` lists every problem as dicts."
);
create_exception!(
    gigawatt,
    InternalError,
    PyRuntimeError,
    "A bug in gigawatt (a Rust panic, caught at the boundary): please report it with the input."
);

/// Why a call failed, before it becomes a Python exception.
#[derive(Debug)]
pub enum Failure {
    /// Located problems (file, line, field, fix).
    Diagnostics(Diagnostics),
    /// A message in the CLI's "what\n  fix: how" form.
    Message(String),
}

impl From<Diagnostics> for Failure {
    fn from(d: Diagnostics) -> Failure {
        Failure::Diagnostics(d)
    }
}

impl From<engine::EngineError> for Failure {
    fn from(e: engine::EngineError) -> Failure {
        let engine::EngineError::Invalid(d) = e;
        Failure::Diagnostics(d)
    }
}

impl From<String> for Failure {
    fn from(m: String) -> Failure {
        Failure::Message(m)
    }
}

impl Failure {
    /// The Python exception.
    pub fn into_py_err(self, py: Python<'_>) -> PyErr {
        let (message, parts): (String, Vec<Part>) = match self {
            Failure::Diagnostics(ds) => (
                ds.to_string(),
                ds.0.iter()
                    .map(|d| Part {
                        file: Some(d.file.clone()),
                        line: d.line,
                        field: d.field.clone(),
                        message: d.message.clone(),
                        fix: d.hint.clone(),
                    })
                    .collect(),
            ),
            Failure::Message(m) => {
                let (what, fix) = match m.split_once("\n  fix: ") {
                    Some((w, f)) => (w.to_string(), Some(f.to_string())),
                    None => (m.clone(), None),
                };
                (
                    m,
                    vec![Part {
                        file: None,
                        line: None,
                        field: None,
                        message: what,
                        fix,
                    }],
                )
            }
        };
        let err = InputError::new_err(message);
        // Attributes are best effort: the message alone is already the whole error.
        let _ = decorate(py, &err, &parts);
        err
    }
}

struct Part {
    file: Option<String>,
    line: Option<usize>,
    field: Option<String>,
    message: String,
    fix: Option<String>,
}

fn decorate(py: Python<'_>, err: &PyErr, parts: &[Part]) -> PyResult<()> {
    let value = err.value(py);
    let first = parts.first();
    value.setattr("file", first.and_then(|p| p.file.clone()))?;
    value.setattr("line", first.and_then(|p| p.line))?;
    value.setattr("field", first.and_then(|p| p.field.clone()))?;
    value.setattr("fix", first.and_then(|p| p.fix.clone()))?;
    let mut all = Vec::new();
    for p in parts {
        let d = PyDict::new(py);
        d.set_item("file", p.file.clone())?;
        d.set_item("line", p.line)?;
        d.set_item("field", p.field.clone())?;
        d.set_item("message", p.message.clone())?;
        d.set_item("fix", p.fix.clone())?;
        all.push(d);
    }
    value.setattr("diagnostics", all)?;
    Ok(())
}

/// Runs `work` without the GIL, turning a panic into `InternalError` and a failure into
/// `InputError`.
pub fn compute<T: Send>(
    py: Python<'_>,
    work: impl FnOnce() -> Result<T, Failure> + Send,
) -> PyResult<T> {
    let outcome = py.detach(|| catch_unwind(AssertUnwindSafe(work)));
    match outcome {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(failure)) => Err(failure.into_py_err(py)),
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            Err(InternalError::new_err(format!(
                "gigawatt failed inside the engine (a bug, please report it with the input): {what}"
            )))
        }
    }
}
