//! The signer on the demo issuer shipped in `canaries/example.org`: it lints
//! clean, `due` reads it, and the next statement can be drafted and signed.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

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

#[test]
fn the_demo_folder_lints_clean_and_due_reads_it() {
    let root = repo();
    let out = run(
        &root,
        &[
            "lint",
            "canaries/example.org/statements/000002.json",
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
        ("2027-01-13T00:00:00Z", 3, "\"expired\""),
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
        assert_eq!(json["sequence"], 2);
    }
}

/// An unencrypted key file for the demo's public fixture seed.
fn demo_key_file(dir: &Path) -> PathBuf {
    let hex = std::fs::read_to_string(repo().join("tests/fixtures/keys/demo.seed")).expect("seed");
    let hex = hex.trim();
    let seed: Vec<u8> = (0..32)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).expect("hex"))
        .collect();
    let pub_line = std::fs::read_to_string(repo().join("keys/example.org.pub")).expect("pub");
    let public = pub_line.split_whitespace().next().expect("key");
    let path = dir.join("demo.key");
    std::fs::write(
        &path,
        format!(
            "canary-secret-key v1\npublic {public}\nkdf none\naead none\nsecret {}\n",
            STANDARD.encode(seed)
        ),
    )
    .expect("write key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    }
    path
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

#[test]
fn the_next_demo_statement_can_be_drafted_and_signed() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let folder = tmp.path().join("example.org");
    copy_dir(&repo().join("canaries/example.org"), &folder);
    let key = demo_key_file(tmp.path());
    let at = "2026-12-28T09:00:00Z";
    let dir = folder.to_str().expect("utf8 path");
    let out = run(
        tmp.path(),
        &["new", "--dir", dir, "--out", "draft.json", "--at", at],
    );
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    let out = run(
        tmp.path(),
        &[
            "sign",
            "draft.json",
            "--dir",
            dir,
            "--key",
            key.to_str().expect("utf8"),
            "--at",
            at,
        ],
    );
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    assert!(folder.join("statements/000003.json").exists());
    let out = run(
        tmp.path(),
        &[
            "lint",
            "example.org/statements/000003.json",
            "--dir",
            dir,
            "--at",
            at,
        ],
    );
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stdout));
    let out = run(tmp.path(), &["due", "--dir", dir, "--at", at]);
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stdout));
}
