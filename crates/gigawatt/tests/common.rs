//! Helpers shared by the integration tests: run the binary like a user.

#![allow(dead_code)]

use assert_cmd::Command;

/// The `gigawatt` binary, run from a temporary directory so that it cannot lean on the
/// repository's files (the catalog and scenarios must be embedded).
pub fn gigawatt() -> Command {
    let mut cmd = Command::cargo_bin("gigawatt").expect("binary built");
    cmd.current_dir(std::env::temp_dir());
    cmd.env_remove("CI");
    cmd
}

/// Runs with `args`, expects success, returns stdout.
pub fn ok(args: &[&str]) -> String {
    let output = gigawatt().args(args).output().expect("runs");
    assert!(
        output.status.success(),
        "gigawatt {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("utf-8 output")
}

/// Runs with `args`, expects exit code 2 (bad input), returns stderr.
pub fn bad_input(args: &[&str]) -> String {
    let output = gigawatt().args(args).output().expect("runs");
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    assert_eq!(
        output.status.code(),
        Some(2),
        "gigawatt {args:?} should exit 2; stderr: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "panic: {stderr}");
    assert!(output.stdout.is_empty(), "no output on bad input");
    stderr
}

/// Plans `scenario` text written to a temporary file; returns (path, stderr), expecting exit 2.
pub fn bad_scenario(name: &str, text: &str) -> String {
    let dir = tempdir();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    bad_input(&["plan", path.to_str().unwrap()])
}

/// Runs with `args`, expects exit 2, and checks that stderr carries each needle (the field,
/// the reason, the fix). Returns stderr.
pub fn refuses(args: &[&str], needles: &[&str]) -> String {
    let err = bad_input(args);
    assert_carries(&err, needles);
    err
}

/// As `bad_scenario`, and checks that stderr carries each needle.
pub fn scenario_refused(name: &str, text: &str, needles: &[&str]) -> String {
    let err = bad_scenario(name, text);
    assert_carries(&err, needles);
    err
}

fn assert_carries(err: &str, needles: &[&str]) {
    for needle in needles {
        assert!(err.contains(needle), "missing `{needle}` in: {err}");
    }
}

/// A fresh temporary directory for one test.
pub fn tempdir() -> std::path::PathBuf {
    use std::sync::atomic::{AtomicU32, Ordering};
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "gigawatt-test-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    ));
    // The pid is unique among live processes only: a folder left by an earlier run whose pid
    // was the same holds its files (a stray catalog file broke `--catalog DIR` tests).
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A valid one-tranche scenario to mutate in tests.
pub const GOOD: &str = r#"schema_version = 1
name = "test"

[[tranche]]
name = "one"
system = "gb200-nvl72"
facility_gw = 1.0
start = "2026-01"
ramp_months = 6
"#;

/// The body rows of the README table whose header line is `header`, each split into its
/// trimmed cells (markdown emphasis kept): the README's tables of figures are checked against
/// what the binary prints.
pub fn readme_table(header: &str) -> Vec<Vec<&'static str>> {
    let readme = include_str!("../../../README.md");
    let start = readme
        .find(header)
        .unwrap_or_else(|| panic!("the README has no table headed {header:?}"));
    readme[start..]
        .lines()
        .skip(2)
        .take_while(|line| line.starts_with('|'))
        .map(|line| line.trim_matches('|').split('|').map(str::trim).collect())
        .collect()
}
