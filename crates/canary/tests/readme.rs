//! The README opens with two commands that must work on a fresh clone. This
//! runs the first one (the verifier on the demo data) with the real binary.

use std::path::Path;
use std::process::Command;

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

/// The first command of the README's first code block, split into words.
fn first_command() -> Vec<String> {
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README.md");
    let block = readme
        .split("```sh\n")
        .nth(1)
        .expect("a ```sh block in the README");
    let first = block.lines().next().expect("a first command");
    first.split_whitespace().map(str::to_owned).collect()
}

#[test]
fn the_readme_opens_with_the_two_commands() {
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README.md");
    let block = readme.split("```sh\n").nth(1).expect("first block");
    let lines: Vec<&str> = block.lines().take(2).collect();
    assert!(
        lines[0].starts_with("cargo run -q -p canary -- verify "),
        "{}",
        lines[0]
    );
    assert_eq!(lines[1], "cargo test --workspace");
}

#[test]
fn the_readme_main_command_verifies_the_demo() {
    let words = first_command();
    let sep = words
        .iter()
        .position(|w| w == "--")
        .expect("cargo run ... -- args");
    let out = Command::new(env!("CARGO_BIN_EXE_canary"))
        .current_dir(root())
        .args(&words[sep + 1..])
        .env("NO_COLOR", "1")
        .output()
        .expect("canary runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The README shows this very output right below the commands.
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README.md");
    let shown = readme
        .split("exits 0:\n\n```\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("the README shows the first command's output");
    assert_eq!(
        stdout, shown,
        "README.md shows other output than the command prints"
    );
    assert!(
        stdout.starts_with("OK example.org #3 as of 2026-09-30T09:00:00Z"),
        "{stdout}"
    );
    assert!(
        stdout.contains("history: 3 statements, every link checked")
            && stdout.contains("incidents: 3 verified"),
        "{stdout}"
    );
}
