//! Every file input of every command goes through one bounded reader (issue 17): `/dev/zero`
//! (endless), a FIFO (blocks forever once opened) and a folder are refused at once with exit 2,
//! the file named and a fix, never read. Each run is killed after 10 s, so a hang fails the
//! test instead of stalling the suite; the measured time is printed (0.01 to 0.25 s each on
//! the 2-core development machine, debug build).

#![cfg(unix)]

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::gigawatt;

/// A temporary folder with a FIFO `fifo.toml`, and `catalog-fifo/` and `catalog-zero/`
/// folders holding a FIFO and a link to /dev/zero as catalog files.
struct Fixture {
    dir: PathBuf,
}

impl Fixture {
    fn new(name: &str) -> Fixture {
        let dir =
            std::env::temp_dir().join(format!("gigawatt-inputs-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("catalog-fifo")).unwrap();
        std::fs::create_dir_all(dir.join("catalog-zero")).unwrap();
        for fifo in [dir.join("fifo.toml"), dir.join("catalog-fifo/extra.toml")] {
            let made = std::process::Command::new("mkfifo")
                .arg(&fifo)
                .status()
                .unwrap();
            assert!(made.success(), "mkfifo {}", fifo.display());
        }
        std::os::unix::fs::symlink("/dev/zero", dir.join("catalog-zero/extra.toml")).unwrap();
        // A portfolio whose plan is the FIFO, and one whose plan is /dev/zero.
        for (file, plan) in [
            ("portfolio-fifo.toml", "fifo.toml"),
            ("portfolio-zero.toml", "/dev/zero"),
        ] {
            std::fs::write(
                dir.join(file),
                format!("schema_version = 1\nname = \"p\"\nscenario = \"{plan}\"\n"),
            )
            .unwrap();
        }
        Fixture { dir }
    }

    fn path(&self, name: &str) -> String {
        self.dir.join(name).display().to_string()
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Runs `args`; expects exit 2 within the kill timeout, with a message naming `names` and
/// saying why.
fn refused(args: &[String], names: &str) {
    let started = Instant::now();
    let output = gigawatt()
        .args(args)
        .timeout(Duration::from_secs(10))
        .output()
        .expect("runs");
    let took = started.elapsed();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        output.status.code(),
        Some(2),
        "gigawatt {args:?} should exit 2 at once (took {took:?}); stderr: {stderr}"
    );
    assert!(stderr.contains(names), "gigawatt {args:?}: {stderr}");
    assert!(
        stderr.contains("not a regular file") && stderr.contains("fix:"),
        "gigawatt {args:?}: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    eprintln!(
        "refused in {:.3} s: gigawatt {}",
        took.as_secs_f64(),
        args.join(" ")
    );
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| s.to_string()).collect()
}

/// The commands that take a file, with `FILE` where it goes.
fn file_commands() -> Vec<Vec<&'static str>> {
    vec![
        vec!["plan", "FILE"],
        vec!["train", "--spec", "FILE"],
        vec!["train", "validate", "FILE"],
        vec!["train", "validate", "--sources", "FILE"],
        vec!["infer", "--spec", "FILE"],
        vec![
            "infer",
            "fleet",
            "FILE",
            "--model",
            "llama3-70b",
            "--input-tokens",
            "1000",
            "--output-tokens",
            "100",
        ],
        vec!["risk", "FILE"],
        vec!["sweep", "FILE"],
    ]
}

#[test]
fn dev_zero_and_fifos_are_refused_by_every_file_taking_command() {
    let fixture = Fixture::new("files");
    for special in ["/dev/zero".to_string(), fixture.path("fifo.toml")] {
        for command in file_commands() {
            let args: Vec<String> = command
                .iter()
                .map(|a| {
                    if *a == "FILE" {
                        special.clone()
                    } else {
                        a.to_string()
                    }
                })
                .collect();
            refused(&args, &special);
        }
    }
}

#[test]
fn a_portfolio_naming_a_fifo_or_dev_zero_as_its_plan_is_refused() {
    let fixture = Fixture::new("plans");
    refused(
        &strings(&["risk", &fixture.path("portfolio-fifo.toml")]),
        "fifo.toml",
    );
    refused(
        &strings(&["risk", &fixture.path("portfolio-zero.toml")]),
        "/dev/zero",
    );
}

#[test]
fn catalog_files_that_are_fifos_or_devices_are_refused_by_every_command() {
    let fixture = Fixture::new("catalog");
    for folder in ["catalog-fifo", "catalog-zero"] {
        let dir = fixture.path(folder);
        let file = Path::new(&dir).join("extra.toml").display().to_string();
        for command in [
            vec!["catalog", "list"],
            vec!["plan"],
            vec![
                "train",
                "search",
                "--model",
                "llama3-8b",
                "--system",
                "dgx-h100",
                "--gpus",
                "8",
                "--global-batch",
                "8",
                "--seq-len",
                "1024",
            ],
            vec!["reliability", "--gpus", "1024", "--days", "1"],
            vec!["risk"],
            vec!["serve", "--port", "0"],
        ] {
            let mut args = strings(&["--catalog", &dir]);
            args.extend(strings(&command));
            refused(&args, &file);
        }
    }
}

#[test]
fn a_folder_is_not_a_file() {
    let fixture = Fixture::new("folder");
    let dir = fixture.dir.display().to_string();
    for args in [
        vec!["train", "--spec", &dir],
        vec!["infer", "--spec", &dir],
        vec!["risk", &dir],
        vec!["sweep", &dir],
    ] {
        let output = gigawatt()
            .args(&args)
            .timeout(Duration::from_secs(10))
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(
            String::from_utf8_lossy(&output.stderr).contains("is a folder"),
            "{args:?}"
        );
    }
}

#[test]
fn a_file_over_the_size_limit_is_refused_without_reading_it() {
    let fixture = Fixture::new("large");
    let big = fixture.dir.join("big.toml");
    // Sparse: 17 MiB long, nothing written.
    std::fs::File::create(&big)
        .unwrap()
        .set_len(17 * 1024 * 1024)
        .unwrap();
    let output = gigawatt()
        .args(["plan", &big.display().to_string()])
        .timeout(Duration::from_secs(10))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("larger than 16 MiB") && stderr.contains("big.toml"),
        "{stderr}"
    );
}
