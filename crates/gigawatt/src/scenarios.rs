//! The scenarios shipped in the binary, usable by name from any directory.

use crate::Failure;

/// (name, text) of each shipped scenario; the first is the default (embedded by the engine,
/// so that sweeps and the Python package find the same ones).
pub const SHIPPED: [(&str, &str); 3] = engine::shipped::SCENARIOS;

/// The shipped scenario called `name` (with or without `.toml`).
pub fn find(name: &str) -> Option<(&'static str, &'static str)> {
    engine::shipped::scenario(name)
}

/// `gigawatt scenarios`: each shipped scenario's name and title.
pub fn list() -> Result<(), Failure> {
    let mut out = String::new();
    for (name, text) in SHIPPED {
        let title = text
            .lines()
            .find_map(|l| l.strip_prefix("name = "))
            .map(|t| t.trim_matches('"'))
            .unwrap_or("");
        out += &format!("{name:<22} {title}\n");
    }
    out += "\nRun one with `gigawatt plan NAME`; the file itself is in scenarios/NAME.toml.\n";
    let (risk_name, risk_text) = crate::risk_cmd::SHIPPED;
    let title = risk_text
        .lines()
        .find_map(|l| l.strip_prefix("name = "))
        .map(|t| t.trim_matches('"'))
        .unwrap_or("");
    out += &format!(
        "\nDeal-risk portfolios (run with `gigawatt risk NAME`):\n{risk_name:<22} {title}\n"
    );
    crate::output::emit(&out, None)
}
