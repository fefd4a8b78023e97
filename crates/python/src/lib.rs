//! `gigawatt._native`: the engine's entry points for Python. The package `gigawatt`
//! (`python/gigawatt/__init__.py`) wraps these with source handling, result objects and Dask.
//!
//! Every call releases the GIL while the engine computes, catches a Rust panic and raises it as
//! `gigawatt.InternalError` (never unwinding across the FFI boundary), and reports bad input as
//! `gigawatt.InputError` with the CLI's message and `file`, `line`, `field` and `fix` attributes.
//! The stubs in `python/gigawatt/_native.pyi` are checked against this module by a test.

mod calls;
mod errors;

use pyo3::prelude::*;

pub use errors::{InputError, InternalError};

/// The module.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("InputError", m.py().get_type::<InputError>())?;
    m.add("InternalError", m.py().get_type::<InternalError>())?;
    m.add("ENGINE_VERSION", engine::ENGINE_VERSION)?;
    m.add_class::<calls::NativeResult>()?;
    m.add_function(wrap_pyfunction!(calls::plan, m)?)?;
    m.add_function(wrap_pyfunction!(calls::train, m)?)?;
    m.add_function(wrap_pyfunction!(calls::infer, m)?)?;
    m.add_function(wrap_pyfunction!(calls::train_search, m)?)?;
    m.add_function(wrap_pyfunction!(calls::train_validate, m)?)?;
    m.add_function(wrap_pyfunction!(calls::infer_search, m)?)?;
    m.add_function(wrap_pyfunction!(calls::reliability, m)?)?;
    m.add_function(wrap_pyfunction!(calls::risk, m)?)?;
    m.add_function(wrap_pyfunction!(calls::scenarios, m)?)?;
    m.add_function(wrap_pyfunction!(calls::shipped_scenario, m)?)?;
    m.add_function(wrap_pyfunction!(calls::catalog_json, m)?)?;
    m.add_function(wrap_pyfunction!(calls::toml_from_json, m)?)?;
    m.add_function(wrap_pyfunction!(calls::sweep_base, m)?)?;
    m.add_function(wrap_pyfunction!(calls::sweep_points, m)?)?;
    m.add_function(wrap_pyfunction!(calls::sweep, m)?)?;
    m.add_function(wrap_pyfunction!(calls::panic_for_tests, m)?)?;
    Ok(())
}
