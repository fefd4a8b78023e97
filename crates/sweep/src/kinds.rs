//! What one point computes for each kind of base input, and which outputs become columns (the
//! README lists them per kind).

use catalog::Catalog;
use engine::EngineError;

use crate::spec::Kind;
use crate::table::Values;

/// One output value of one point.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cell {
    Int(Option<i64>),
    Float(Option<f64>),
    Text(Option<String>),
    Bool(Option<bool>),
}

/// The output columns of a kind: name and an empty column of the right type.
pub(crate) fn output_columns(kind: Kind) -> Vec<(&'static str, Values)> {
    let f = || Values::Float(Vec::new());
    let b = || Values::Bool(Vec::new());
    let t = || Values::Text(Vec::new());
    let i = || Values::Int(Vec::new());
    match kind {
        Kind::Plan => vec![
            ("end_month", t()),
            ("facility_gw", f()),
            ("it_gw", f()),
            ("systems", f()),
            ("accelerators", f()),
            ("h100e", f()),
            ("bf16_dense_flops", f()),
            ("fp8_dense_flops", f()),
            ("fp4_dense_flops", f()),
            ("capex_usd", f()),
            ("opex_usd", f()),
            ("spend_usd", f()),
            ("energy_twh", f()),
            ("financing_usd", f()),
            ("warnings", i()),
        ],
        Kind::Train => vec![
            ("feasible", b()),
            ("framework_legal", b()),
            ("dp", i()),
            ("step_time_s", f()),
            ("tokens_per_s", f()),
            ("tflops_per_gpu", f()),
            ("mfu", f()),
            ("hfu", f()),
            ("memory_gib_per_gpu", f()),
            ("days_without_failures", f()),
            ("days_with_failures", f()),
            ("reason", t()),
        ],
        Kind::Infer => vec![
            ("feasible", b()),
            ("output_tokens_per_s", f()),
            ("output_tokens_per_s_per_gpu", f()),
            ("ttft_s", f()),
            ("tpot_s", f()),
            ("batch", i()),
            ("kv_cache_gib", f()),
            ("weights_gib", f()),
            ("reason", t()),
        ],
    }
}

/// Runs one point's input text; an input error is returned as its rendered message.
pub(crate) fn evaluate(
    kind: Kind,
    catalog: &Catalog,
    origin: &str,
    text: &str,
) -> Result<Vec<Cell>, EngineError> {
    use Cell::*;
    Ok(match kind {
        Kind::Plan => {
            // No sweep output reads capability, and it would run the layout search per point.
            let r = engine::plan_text_without_capability(catalog, origin, text)?;
            let t = &r.totals;
            vec![
                Text(Some(t.month.to_string())),
                Float(Some(t.facility_gw)),
                Float(Some(t.it_gw)),
                Float(Some(t.systems)),
                Float(Some(t.accelerators)),
                Float(t.h100e),
                Float(t.bf16_dense_flops),
                Float(t.fp8_dense_flops),
                Float(t.fp4_dense_flops),
                Float(Some(t.capex_usd)),
                Float(Some(t.opex_usd)),
                Float(Some(t.spend_usd)),
                Float(Some(t.energy_twh)),
                Float(Some(t.financing_usd)),
                Int(Some(r.warnings.len() as i64)),
            ]
        }
        Kind::Train => {
            let r = engine::train::train_text(catalog, origin, text)?;
            let ttt = r.time_to_train.as_ref();
            vec![
                Bool(Some(r.feasible)),
                Bool(Some(r.framework_legal)),
                Int(Some(i64::from(r.strategy.dp))),
                Float(Some(r.step_time_s)),
                Float(Some(r.tokens_per_s)),
                Float(Some(r.tflops_per_gpu)),
                Float(Some(r.mfu)),
                Float(Some(r.hfu)),
                Float(Some(r.memory_gib_per_gpu)),
                Float(ttt.map(|t| t.days_without_failures)),
                Float(ttt.map(|t| t.days_with_failures)),
                Text(r.reason.or(r.framework_reason)),
            ]
        }
        Kind::Infer => {
            let r = engine::infer::infer_text(catalog, origin, text)?;
            vec![
                Bool(Some(r.feasible)),
                Float(Some(r.output_tokens_per_s)),
                Float(Some(r.output_tokens_per_s_per_gpu)),
                Float(Some(r.ttft_s)),
                Float(Some(r.tpot_s)),
                Int(Some(i64::from(r.batch))),
                Float(Some(r.kv_cache_gib)),
                Float(Some(r.weights_gib)),
                Text(r.reason),
            ]
        }
    })
}

/// Appends a cell to a column of its type (the types come from `output_columns`).
pub(crate) fn push(values: &mut Values, cell: Option<&Cell>) {
    match (values, cell) {
        (Values::Int(v), Some(Cell::Int(x))) => v.push(*x),
        (Values::Float(v), Some(Cell::Float(x))) => v.push(x.filter(|x| x.is_finite())),
        (Values::Text(v), Some(Cell::Text(x))) => v.push(x.clone()),
        (Values::Bool(v), Some(Cell::Bool(x))) => v.push(*x),
        (Values::Int(v), _) => v.push(None),
        (Values::Float(v), _) => v.push(None),
        (Values::Text(v), _) => v.push(None),
        (Values::Bool(v), _) => v.push(None),
    }
}
