//! The scenarios and the deal-risk portfolio shipped with gigawatt, embedded so that every
//! surface (the CLI, sweeps, the Python package) finds them by name from any directory.

/// (name, text) of each shipped scenario; the first is the default.
pub const SCENARIOS: [(&str, &str); 3] = [
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

/// (name, text) of the shipped deal-risk portfolio.
pub const RISK_PORTFOLIO: (&str, &str) = (
    "openai-portfolio-risk",
    include_str!("../../../scenarios/openai-portfolio-risk.toml"),
);

/// The shipped scenario called `name` (with or without `.toml` or a leading folder).
pub fn scenario(name: &str) -> Option<(&'static str, &'static str)> {
    let name = name.strip_suffix(".toml").unwrap_or(name);
    let name = name.rsplit('/').next().unwrap_or(name);
    SCENARIOS.iter().copied().find(|(n, _)| *n == name)
}

/// The origin diagnostics name for a shipped scenario.
pub fn origin(name: &str) -> String {
    format!("<shipped>/scenarios/{name}.toml")
}

/// A scenario's `name = "..."` line, for listings.
pub fn title(text: &str) -> &str {
    text.lines()
        .find_map(|l| l.strip_prefix("name = "))
        .map(|t| t.trim_matches('"'))
        .unwrap_or("")
}
