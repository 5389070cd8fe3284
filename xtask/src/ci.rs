//! `cargo xtask ci`: the same checks as `.ci/run`, failing fast, one printed step at a time.
//!
//! The test command is read from `.ci/run` (the line after `# README test command`), so CI, this
//! task and the README (checked by a tidy test) cannot drift apart.

use std::ffi::OsString;
use std::fs;
use std::process::Command;
use std::time::Instant;

use crate::{tidy, workspace, Result};

/// Runs `cargo fmt --check`, clippy with `-D warnings`, then the README test command.
pub fn run() -> Result<()> {
    let root = workspace::root();
    let ci_script = fs::read_to_string(root.join(".ci/run"))
        .map_err(|err| format!("cannot read .ci/run: {err}"))?;
    let test_command = tidy::readme_test_command(&ci_script).ok_or_else(|| {
        format!(
            ".ci/run has no command after the marker `{}`",
            tidy::README_MARKER
        )
    })?;
    let test_words: Vec<&str> = test_command.split_whitespace().collect();

    let steps: [(&str, Vec<&str>); 3] = [
        ("fmt", vec!["cargo", "fmt", "--all", "--", "--check"]),
        (
            "clippy",
            vec![
                "cargo",
                "clippy",
                "--workspace",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ],
        ),
        ("test", test_words),
    ];

    let started = Instant::now();
    for (name, words) in steps {
        let Some((program, args)) = words.split_first() else {
            return Err(format!("step `{name}` has an empty command").into());
        };
        println!(
            "==> [{:>7.1}s] {name}: {}",
            started.elapsed().as_secs_f64(),
            words.join(" ")
        );
        // The cargo that started xtask runs the steps, so toolchain overrides carry over.
        let program = if *program == "cargo" {
            workspace::cargo()
        } else {
            OsString::from(program)
        };
        let status = Command::new(&program)
            .args(args)
            .current_dir(&root)
            .status()
            .map_err(|err| format!("step `{name}`: cannot start {program:?}: {err}"))?;
        if !status.success() {
            return Err(format!("step `{name}` failed ({status})").into());
        }
    }
    println!(
        "==> [{:>7.1}s] ci: all steps passed",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
