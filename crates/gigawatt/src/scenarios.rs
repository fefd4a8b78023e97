//! The scenarios shipped in the binary, usable by name from any directory.

use crate::Failure;

/// (name, text) of each shipped scenario; the first is the default.
pub const SHIPPED: [(&str, &str); 3] = [
    (
        "openai-nvidia-10gw",
        include_str!("../../../scenarios/openai-nvidia-10gw.toml"),
    ),
    (
        "openai-nvidia-2026",
        include_str!("../../../scenarios/openai-nvidia-2026.toml"),
    ),
    (
        "openai-portfolio",
        include_str!("../../../scenarios/openai-portfolio.toml"),
    ),
];

/// The shipped scenario called `name` (with or without `.toml`).
pub fn find(name: &str) -> Option<(&'static str, &'static str)> {
    let name = name.strip_suffix(".toml").unwrap_or(name);
    let name = name.rsplit('/').next().unwrap_or(name);
    SHIPPED.iter().copied().find(|(n, _)| *n == name)
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
