//! Helpers for driving the real `canary-sign` binary: a scratch folder per
//! test, commands that never prompt (empty standard input), exact exit-code
//! checks that show the whole output on failure, and folder snapshots.

// Not every test binary that includes this module uses every helper.
#![allow(dead_code)]
// Test helpers outside `#[test]` functions report failures by panicking;
// clippy.toml's allow-panic-in-tests does not reach them.
#![allow(clippy::panic)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use canary_core::{Envelope, PublicKey, Timestamp};

/// Exit status: success.
pub const OK: i32 = 0;
/// Exit status: refused (a rule is broken, lint problems, `due`: sign now).
pub const REFUSED: i32 = 1;
/// Exit status: error (arguments, files, wrong passphrase).
pub const ERROR: i32 = 2;
/// Exit status (`due` only): expired.
pub const EXPIRED: i32 = 3;

/// A fixed time (tests never read the clock).
pub fn ts(s: &str) -> Timestamp {
    s.parse().expect("a valid fixed timestamp")
}

/// What one run of the binary did.
#[derive(Debug)]
pub struct Out {
    /// The command line, for messages.
    pub args: String,
    /// The exit code (`None`: killed by a signal).
    pub code: Option<i32>,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Out {
    /// Asserts the exit code is exactly `code`; returns `self` for chaining.
    #[track_caller]
    pub fn code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code,
            Some(code),
            "`canary-sign {}` exited with {:?}, expected {code}\n--- stdout:\n{}\n--- stderr:\n{}",
            self.args,
            self.code,
            self.stdout,
            self.stderr
        );
        self
    }

    /// Asserts standard output contains `needle`.
    #[track_caller]
    pub fn stdout_has(&self, needle: &str) -> &Self {
        assert!(
            self.stdout.contains(needle),
            "stdout of `canary-sign {}` lacks {needle:?}:\n{}\n--- stderr:\n{}",
            self.args,
            self.stdout,
            self.stderr
        );
        self
    }

    /// Asserts standard error contains `needle`.
    #[track_caller]
    pub fn stderr_has(&self, needle: &str) -> &Self {
        assert!(
            self.stderr.contains(needle),
            "stderr of `canary-sign {}` lacks {needle:?}:\n{}\n--- stdout:\n{}",
            self.args,
            self.stderr,
            self.stdout
        );
        self
    }

    /// Asserts neither output contains `needle`.
    #[track_caller]
    pub fn never_says(&self, needle: &str) -> &Self {
        assert!(
            !self.stdout.contains(needle) && !self.stderr.contains(needle),
            "`canary-sign {}` printed {needle:?}:\n--- stdout:\n{}\n--- stderr:\n{}",
            self.args,
            self.stdout,
            self.stderr
        );
        self
    }
}

/// A scratch folder in which the binary runs (it is the working directory,
/// so relative paths in arguments are relative to it).
pub struct Scratch {
    dir: tempfile::TempDir,
}

impl Default for Scratch {
    fn default() -> Self {
        Self::new()
    }
}

impl Scratch {
    /// A new, empty scratch folder.
    pub fn new() -> Self {
        Scratch {
            dir: tempfile::tempdir().expect("a temporary folder"),
        }
    }

    /// The folder.
    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// A path inside the folder.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// Runs `canary-sign ARGS` with an empty standard input, so nothing can
    /// ever prompt on a terminal.
    pub fn run(&self, args: &[&str]) -> Out {
        self.run_stdin(args, "")
    }

    /// Runs `canary-sign ARGS` with `stdin` as standard input.
    pub fn run_stdin(&self, args: &[&str], stdin: &str) -> Out {
        let output = assert_cmd::Command::new(env!("CARGO_BIN_EXE_canary-sign"))
            .args(args)
            .current_dir(self.root())
            .write_stdin(stdin.to_owned())
            .output()
            .expect("canary-sign runs");
        Out {
            args: args.join(" "),
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Writes `bytes` to `rel` (creating folders).
    pub fn write(&self, rel: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        let path = self.path(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create folder");
        }
        std::fs::write(&path, bytes).expect("write file");
        path
    }

    /// Reads `rel`.
    pub fn read(&self, rel: &str) -> Vec<u8> {
        std::fs::read(self.path(rel)).unwrap_or_else(|e| panic!("read {rel}: {e}"))
    }

    /// Reads `rel` as text.
    pub fn read_string(&self, rel: &str) -> String {
        String::from_utf8(self.read(rel)).expect("UTF-8 file")
    }

    /// Reads `rel` as JSON.
    pub fn read_json(&self, rel: &str) -> serde_json::Value {
        serde_json::from_slice(&self.read(rel)).unwrap_or_else(|e| panic!("{rel} is JSON: {e}"))
    }

    /// Writes `value` as pretty JSON to `rel`.
    pub fn write_json(&self, rel: &str, value: &serde_json::Value) -> PathBuf {
        let text = serde_json::to_string_pretty(value).expect("serialize JSON");
        self.write(rel, text)
    }

    /// True when `rel` exists.
    pub fn exists(&self, rel: &str) -> bool {
        self.path(rel).exists()
    }

    /// Makes a key pair `keys/NAME.key` and `keys/NAME.pub`, encrypted
    /// with the passphrase in `keys/NAME.pass` when `passphrase` is given.
    pub fn keygen(&self, name: &str, passphrase: Option<&str>) -> Key {
        let out = match passphrase {
            Some(p) => {
                self.write(&format!("keys/{name}.pass"), format!("{p}\n"));
                self.run(&[
                    "keygen",
                    "--name",
                    name,
                    "--dir",
                    "keys",
                    "--passphrase-file",
                    &format!("keys/{name}.pass"),
                ])
            }
            None => self.run(&["keygen", "--name", name, "--dir", "keys", "--unencrypted"]),
        };
        out.code(OK);
        let public = PublicKey::from_pub_file(&self.read_string(&format!("keys/{name}.pub")))
            .expect("the .pub file parses")
            .0;
        Key {
            key: format!("keys/{name}.key"),
            pass: passphrase.map(|_| format!("keys/{name}.pass")),
            public,
        }
    }
}

/// A key made by [`Scratch::keygen`].
#[derive(Debug, Clone)]
pub struct Key {
    /// The secret key file, relative to the scratch folder.
    pub key: String,
    /// Its passphrase file, for an encrypted key.
    pub pass: Option<String>,
    /// The public key.
    pub public: PublicKey,
}

impl Key {
    /// `--key FILE [--passphrase-file FILE]`.
    pub fn args(&self) -> Vec<String> {
        let mut v = vec!["--key".to_owned(), self.key.clone()];
        if let Some(p) = &self.pass {
            v.push("--passphrase-file".to_owned());
            v.push(p.clone());
        }
        v
    }
}

/// Joins fixed arguments and owned ones into one argument list.
pub fn argv<'a>(fixed: &[&'a str], more: &'a [String]) -> Vec<&'a str> {
    fixed
        .iter()
        .copied()
        .chain(more.iter().map(String::as_str))
        .collect()
}

/// Every file and folder under `dir` with the bytes of each file (`None`
/// for a folder), keyed by relative path.
pub fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Option<Vec<u8>>> {
    fn walk(base: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Option<Vec<u8>>>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .expect("read folder")
            .map(|e| e.expect("folder entry").path())
            .collect();
        entries.sort();
        for path in entries {
            let rel = path.strip_prefix(base).expect("under base").to_path_buf();
            if path.is_dir() {
                out.insert(rel, None);
                walk(base, &path, out);
            } else {
                out.insert(rel, Some(std::fs::read(&path).expect("read file")));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// Asserts `dir` still holds exactly `before` (same files, same bytes).
#[track_caller]
pub fn assert_unchanged(dir: &Path, before: &BTreeMap<PathBuf, Option<Vec<u8>>>, what: &str) {
    let after = snapshot(dir);
    let names = |m: &BTreeMap<PathBuf, Option<Vec<u8>>>| m.keys().cloned().collect::<Vec<_>>();
    assert_eq!(
        names(&after),
        names(before),
        "{what}: the file list of {} changed",
        dir.display()
    );
    for (path, bytes) in before {
        assert!(
            after.get(path) == Some(bytes),
            "{what}: {} changed",
            path.display()
        );
    }
}

/// The mode bits of `path`.
#[cfg(unix)]
pub fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path)
        .expect("metadata")
        .permissions()
        .mode()
        & 0o7777
}

/// Sets the mode bits of `path`.
#[cfg(unix)]
pub fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

/// Mode bits do not exist on Windows (the signer sets none there either).
#[cfg(not(unix))]
pub fn set_mode(_path: &Path, _mode: u32) {}

/// Asserts the mode bits of `path` (Unix only: Windows has none to check).
pub fn assert_mode(path: &Path, expected: u32) {
    #[cfg(unix)]
    assert_eq!(mode(path), expected, "mode of {}", path.display());
    #[cfg(not(unix))]
    let _ = (path, expected);
}

/// The envelope in `bytes`, strictly parsed.
pub fn envelope(bytes: &[u8]) -> Envelope {
    Envelope::parse(bytes.strip_suffix(b"\n").unwrap_or(bytes)).expect("a strict envelope")
}

/// The decoded payload of the envelope in `bytes`, as JSON.
pub fn payload_json(bytes: &[u8]) -> serde_json::Value {
    serde_json::from_slice(envelope(bytes).payload()).expect("the payload is JSON")
}

/// Base64 (standard, padded) of `bytes`.
pub fn b64(bytes: &[u8]) -> String {
    BASE64.encode(bytes)
}

/// The verifier binary, built beside this test's own binaries by `cargo
/// test --workspace` (or `cargo build -p canary` into the same target folder).
pub fn verifier_bin() -> std::path::PathBuf {
    let exe = std::env::current_exe().expect("test executable");
    let bin = exe
        .parent()
        .and_then(Path::parent)
        .expect("target dir")
        .join(format!("canary{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.exists(),
        "{} is not built: run the suite with `cargo test --workspace`",
        bin.display()
    );
    bin
}

/// Copies the folder `from` to `to`, recursively.
pub fn copy_dir(from: &Path, to: &Path) {
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

impl Scratch {
    /// `canary-sign init --issuer example.org --dir org --threshold N` with
    /// the public key files `pubs`.
    pub fn init_org(&self, pubs: &[&str], threshold: u64) {
        let threshold = threshold.to_string();
        let mut args = vec![
            "init",
            "--issuer",
            "example.org",
            "--dir",
            "org",
            "--threshold",
            &threshold,
        ];
        for k in pubs {
            args.extend(["--key", k]);
        }
        self.run(&args).code(OK);
    }

    /// `canary-sign new --dir org --at AT`, written to `name`; the draft.
    pub fn draft(&self, at: &str, name: &str) -> serde_json::Value {
        let out = self.run(&["new", "--dir", "org", "--at", at]);
        out.code(OK);
        self.write(name, &out.stdout);
        serde_json::from_str(&out.stdout).expect("the draft is JSON")
    }
}
