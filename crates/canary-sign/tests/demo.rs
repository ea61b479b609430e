//! The signer on the demo issuer shipped in `canaries/example.org`: it lints
//! clean, `due` reads it, and the next statement drafts and lints clean.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_canary-sign"))
        .current_dir(dir)
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("canary-sign runs")
}

fn code(out: &Output) -> i32 {
    out.status.code().expect("exit code")
}

fn latest() -> String {
    let mut files: Vec<String> = std::fs::read_dir(repo().join("canaries/example.org/statements"))
        .expect("statements")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    format!(
        "canaries/example.org/statements/{}",
        files.last().expect("a statement")
    )
}

#[test]
fn the_demo_folder_lints_clean_and_due_reads_it() {
    let root = repo();
    let out = run(
        &root,
        &[
            "lint",
            &latest(),
            "--dir",
            "canaries/example.org",
            "--at",
            "2026-11-27T00:00:00Z",
        ],
    );
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stdout));
    for (at, expected, status) in [
        ("2026-11-27T00:00:00Z", 0, "\"ok\""),
        ("2026-12-20T00:00:00Z", 1, "\"due\""),
        ("2027-01-01T00:00:00Z", 1, "\"late\""),
        ("2027-01-14T00:00:00Z", 3, "\"expired\""),
    ] {
        let out = run(
            &root,
            &[
                "due",
                "--dir",
                "canaries/example.org",
                "--format",
                "json",
                "--at",
                at,
            ],
        );
        assert_eq!(code(&out), expected, "due at {at}");
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        assert_eq!(json["status"].to_string(), status, "due at {at}");
    }
}

#[test]
fn the_next_demo_statement_drafts_and_lints_clean() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let draft = tmp.path().join("draft.json");
    let draft = draft.to_str().expect("utf8 path");
    let at = "2026-12-28T09:00:00Z";
    let root = repo();
    let out = run(
        &root,
        &[
            "new",
            "--dir",
            "canaries/example.org",
            "--out",
            draft,
            "--at",
            at,
        ],
    );
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(draft).expect("draft")).expect("json");
    assert_eq!(json["incidents"].as_array().map(Vec::len), Some(3));
    let out = run(
        &root,
        &["lint", draft, "--dir", "canaries/example.org", "--at", at],
    );
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stdout));
}
