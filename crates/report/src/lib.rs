//! Rendering results for people and programs: a terminal summary, JSON, CSV, Markdown, and a
//! self-contained HTML report with inline SVG charts. Pure functions from a result to text.

mod csv;
mod html;
pub mod knowledge;
mod markdown;
pub mod risk;
pub mod serving;
mod svg;
mod text;

pub use csv::plan_csv;
pub use html::plan_html;
pub use markdown::plan_markdown;
pub use text::plan_text_summary;

/// The result as pretty JSON (the stable, documented schema).
pub fn plan_json(result: &engine::PlanResult) -> String {
    let mut out = serde_json::to_string_pretty(result).expect("results serialize");
    out.push('\n');
    out
}
