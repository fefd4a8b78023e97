//! Rendering results for people and programs: a terminal summary, JSON, CSV, Markdown, and a
//! self-contained HTML report with inline SVG charts. Pure functions from a result to text.

pub mod capability;
mod csv;
mod html;
mod html_tables;
mod html_timeline;
pub mod knowledge;
mod markdown;
pub mod opening;
mod palette;
pub mod risk;
mod risk_charts;
mod risk_text;
pub mod serving;
mod serving_step;
mod style;
mod svg;
mod text;
mod train_validation;

pub use csv::plan_csv;
pub use html::plan_html;
pub use html_tables::prose as prose_html;
pub use markdown::plan_markdown;
pub use text::plan_text_summary;
pub use train_validation::training_validation_html;

/// A fleet's peak at one precision in words: "unknown" where a chip's figure is unknown, "not
/// supported" where accelerators are online but none has that precision (a sum of zeros),
/// else FLOP/s with an SI prefix.
pub(crate) fn peak_flops_text(flops: Option<f64>, accelerators: f64) -> String {
    match flops {
        None => "unknown".into(),
        Some(f) if f == 0.0 && accelerators > 0.0 => "not supported".into(),
        Some(f) => units::fmt_flops(f),
    }
}

/// The result as pretty JSON (the stable, documented schema).
pub fn plan_json(result: &engine::PlanResult) -> String {
    let mut out = serde_json::to_string_pretty(result).expect("results serialize");
    out.push('\n');
    out
}
