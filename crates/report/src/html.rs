//! The self-contained HTML report (being written).

/// The plan as one self-contained HTML page.
pub fn plan_html(result: &engine::PlanResult) -> String {
    let _ = result;
    String::from("<!doctype html><html><body>report being written</body></html>\n")
}
