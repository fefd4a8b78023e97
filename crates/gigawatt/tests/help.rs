//! Golden tests for every command's help: each `--help` is pinned (a change to a flag or its
//! words shows up in review), and every command, found by walking `Commands:` from the top,
//! ends its help (`-h` and `--help`) with examples. Bless changes with
//! `INSTA_UPDATE=always cargo test -p gigawatt --test help`.

mod common;

use common::gigawatt;

/// `gigawatt <path> <flag>` at a fixed width (clap wraps to the terminal, or COLUMNS).
fn help(path: &[&str], flag: &str) -> String {
    let output = gigawatt()
        .args(path)
        .arg(flag)
        .env("COLUMNS", "100")
        .output()
        .expect("runs");
    assert!(output.status.success(), "{path:?} {flag} failed");
    String::from_utf8(output.stdout).expect("utf-8 help")
}

/// The subcommands a help text lists under `Commands:` (without `help`).
fn subcommands(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|l| *l != "Commands:")
        .skip(1)
        .take_while(|l| !l.is_empty())
        // A command's line starts with two spaces and its name; wrapped lines are indented more.
        .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_string)
        .collect()
}

/// Every command path, the root first, depth first.
fn every_command() -> Vec<Vec<String>> {
    let mut found = Vec::new();
    let mut todo = vec![Vec::<String>::new()];
    while let Some(path) = todo.pop() {
        let args: Vec<&str> = path.iter().map(String::as_str).collect();
        for name in subcommands(&help(&args, "--help")).into_iter().rev() {
            let mut child = path.clone();
            child.push(name);
            todo.push(child);
        }
        found.push(path);
    }
    found
}

#[test]
fn every_command_has_examples_and_a_pinned_help_text() {
    let commands = every_command();
    // The tree as of this test: plan, catalog (4), scenarios, infer (3), serve, train (2),
    // reliability, risk, and the root.
    assert!(commands.len() >= 18, "{commands:?}");
    for path in &commands {
        let args: Vec<&str> = path.iter().map(String::as_str).collect();
        let long = help(&args, "--help");
        let short = help(&args, "-h");
        for (flag, text) in [("--help", &long), ("-h", &short)] {
            let examples = text
                .split("Examples:\n")
                .nth(1)
                .unwrap_or_else(|| panic!("gigawatt {} {flag} has no examples", path.join(" ")));
            assert!(
                examples
                    .lines()
                    .filter(|l| l.trim_start().starts_with("gigawatt "))
                    .count()
                    >= 1,
                "gigawatt {} {flag}: examples without a command",
                path.join(" ")
            );
        }
        let name = if path.is_empty() {
            "gigawatt".to_string()
        } else {
            format!("gigawatt-{}", path.join("-"))
        };
        insta::assert_snapshot!(name, long);
    }
}

#[test]
fn required_flags_show_as_required_in_the_usage_line() {
    let reliability = help(&["reliability"], "-h");
    let usage = reliability
        .lines()
        .find(|l| l.starts_with("Usage:"))
        .expect("a usage line");
    assert!(usage.contains("--gpus <N>"), "{usage}");
    // --days or --work-hours: one of them is required, and the usage says so.
    assert!(usage.contains("<--days <D>|--work-hours <W>>"), "{usage}");
    let search = help(&["train", "search"], "-h");
    let usage = search.lines().find(|l| l.starts_with("Usage:")).unwrap();
    for flag in [
        "--model",
        "--system",
        "--gpus",
        "--global-batch",
        "--seq-len",
    ] {
        assert!(usage.contains(flag), "{flag} in {usage}");
    }
}
