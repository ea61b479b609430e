//! Every `canary-sign` subcommand with garbage arguments and garbage files:
//! empty, binary, one huge line, deeply nested JSON, folders where files
//! are expected, missing paths, paths that are not UTF-8, `--at` and
//! duration garbage, negative and huge numbers, damaged `canary.toml`
//! files. Each run must exit 1 (refused) or 2 (error), never 101 and never
//! by a signal, say why on stderr (`lint` reports problems on stdout), and
//! never panic. Nothing here reads the clock: every command gets `--at`
//! unless `--at` itself is the garbage.

// Test helpers outside `#[test]` functions report failures by panicking;
// clippy.toml's allow-panic-in-tests does not reach them.
#![allow(clippy::panic)]

mod util;

use std::ffi::OsString;
use std::path::Path;

use util::{OK, Out, Scratch};

const T1: &str = "2026-01-05T10:00:00Z";
const T2: &str = "2026-03-01T09:00:00Z";

/// Runs `canary-sign ARGS` in `dir` with an empty standard input.
fn run(dir: &Path, args: &[OsString]) -> Out {
    let output = assert_cmd::Command::new(env!("CARGO_BIN_EXE_canary-sign"))
        .args(args)
        .current_dir(dir)
        .write_stdin(Vec::new())
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .expect("canary-sign runs");
    Out {
        args: args
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(" "),
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Why a garbage run did not fail cleanly, if it did not.
fn check(out: &Out) -> Result<(), String> {
    let shown = |why: &str| {
        format!(
            "{why}: `canary-sign {}` exited with {:?}\n--- stdout:\n{}\n--- stderr:\n{}",
            out.args, out.code, out.stdout, out.stderr
        )
    };
    if !matches!(out.code, Some(1 | 2)) {
        return Err(shown("expected exit 1 or 2"));
    }
    // lint reports the problems it finds on stdout.
    let lint_report = out.args.starts_with("lint") && out.code == Some(1);
    let explained = !out.stderr.trim().is_empty() || (lint_report && !out.stdout.trim().is_empty());
    if !explained {
        return Err(shown("no explanation"));
    }
    if out.stderr.contains("panicked") || out.stdout.contains("panicked") {
        return Err(shown("panicked"));
    }
    Ok(())
}

/// Asserts a garbage run failed cleanly: exit 1 or 2, an explanation, no
/// panic, no signal.
#[track_caller]
fn refused_cleanly(out: &Out) {
    if let Err(e) = check(out) {
        panic!("{e}");
    }
}

/// Runs every argument list in `dir`, four at a time (none of them may
/// write anything), and asserts each failed cleanly.
fn refused_all(dir: &Path, runs: Vec<Vec<OsString>>) {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let failures = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let Some(args) = runs.get(i) else { break };
                    if let Err(e) = check(&run(dir, args)) {
                        failures.lock().expect("failures").push(e);
                    }
                }
            });
        }
    });
    let failures = failures.into_inner().expect("failures");
    assert!(
        failures.is_empty(),
        "{} of {} garbage runs did not fail cleanly:\n\n{}",
        failures.len(),
        runs.len(),
        failures.join("\n\n")
    );
}

fn os(args: &[&str]) -> Vec<OsString> {
    args.iter().map(OsString::from).collect()
}

/// Arguments with one more taken as a path.
fn with(args: &[&str], path: &OsString) -> Vec<OsString> {
    let mut v = os(args);
    v.push(path.clone());
    v
}

/// An issuer folder `org/` (alice, unencrypted, threshold 1) with
/// statement 1, incident `db-upgrade`, a draft of statement 2 in
/// `draft2.json`, and `enc.key`, encrypted with the passphrase in
/// `enc.pass`.
fn fixture() -> Scratch {
    let s = Scratch::new();
    let r = |args: &[&str]| {
        s.run(args).code(OK);
    };
    r(&[
        "keygen",
        "--name",
        "alice",
        "--dir",
        "keys",
        "--unencrypted",
    ]);
    s.write("enc.pass", "a passphrase\n");
    r(&[
        "keygen",
        "--name",
        "enc",
        "--dir",
        "keys",
        "--passphrase-file",
        "enc.pass",
    ]);
    r(&[
        "init",
        "--issuer",
        "example.org",
        "--dir",
        "org",
        "--key",
        "keys/alice.pub",
        "--key",
        "keys/enc.pub",
    ]);
    r(&["new", "--dir", "org", "--at", T1, "--out", "draft1.json"]);
    r(&[
        "sign",
        "draft1.json",
        "--dir",
        "org",
        "--key",
        "keys/alice.key",
        "--at",
        T1,
    ]);
    r(&[
        "incident",
        "new",
        "--dir",
        "org",
        "--id",
        "db-upgrade",
        "--title",
        "Outage",
        "--impact",
        "major",
        "--affected",
        "website",
        "--message",
        "Down.",
        "--key",
        "keys/alice.key",
        "--at",
        T1,
    ]);
    r(&["new", "--dir", "org", "--at", T2, "--out", "draft2.json"]);
    s
}

/// Garbage files and paths, relative to the scratch folder.
fn garbage_paths(s: &Scratch) -> Vec<OsString> {
    let files: Vec<(&str, Vec<u8>)> = vec![
        ("g/empty.json", Vec::new()),
        ("g/binary.json", (0..=255u8).cycle().take(4096).collect()),
        ("g/huge-line.json", vec![b'a'; 2 * 1024 * 1024]),
        ("g/deep.json", "[".repeat(200_000).into_bytes()),
        ("g/deep-object.json", "{\"a\":".repeat(50_000).into_bytes()),
        ("g/null.json", b"null".to_vec()),
        ("g/array.json", b"[1,2,3]".to_vec()),
        ("g/string.json", b"\"sequence\"".to_vec()),
        ("g/not-utf8.json", b"{\"sequence\":\"\xff\"}".to_vec()),
        ("g/nul.json", b"{\"sequence\":1}\0".to_vec()),
        (
            "g/floats.json",
            br#"{"issuer":"example.org","sequence":2.5,"issued_at":null,"next_due":-1,"expires_at":1e400,"statements":[]}"#.to_vec(),
        ),
        (
            "g/huge-numbers.json",
            br#"{"issuer":"example.org","sequence":18446744073709551616,"issued_at":"2026-03-01T09:00:00Z","next_due":"2026-05-30T09:00:00Z","expires_at":"2026-06-13T09:00:00Z","statements":[]}"#.to_vec(),
        ),
        (
            "g/max-sequence.json",
            br#"{"issuer":"example.org","sequence":9007199254740991,"issued_at":"2026-03-01T09:00:00Z","next_due":"2026-05-30T09:00:00Z","expires_at":"2026-06-13T09:00:00Z","statements":[],"previous":"sha256:0000000000000000000000000000000000000000000000000000000000000000"}"#.to_vec(),
        ),
        (
            "g/far-dates.json",
            br#"{"issuer":"example.org","sequence":2,"issued_at":"9999-12-31T23:59:58Z","next_due":"9999-12-31T23:59:59Z","expires_at":"9999-12-31T23:59:59Z","statements":[]}"#.to_vec(),
        ),
        (
            "g/incident.json",
            br#"{"what_happened":"x","kind":"nonsense","version":0,"id":"NOT A SLUG"}"#.to_vec(),
        ),
        ("g/rotation.json", br#"{"keys":["ed25519:AAAA"],"version":-1}"#.to_vec()),
        (
            "g/envelope.json",
            br#"{"payload":"e30=","payloadType":"application/vnd.canary.statement.v1+json","signatures":[{"keyid":"00","sig":"AA=="}]}"#.to_vec(),
        ),
        (
            "g/envelope-type.json",
            br#"{"payload":"e30=","payloadType":"text/plain","signatures":[]}"#.to_vec(),
        ),
        ("g/weak.pub", b"ed25519:AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= weak\n".to_vec()),
        ("g/short.pub", b"ed25519:AAAA short\n".to_vec()),
        ("g/secret.key", b"not a key file at all\n".to_vec()),
    ];
    let mut paths: Vec<OsString> = files
        .into_iter()
        .map(|(rel, bytes)| {
            s.write(rel, bytes);
            OsString::from(rel)
        })
        .collect();
    std::fs::create_dir_all(s.path("g/a-folder")).expect("folder");
    paths.push("g/a-folder".into());
    paths.push("g/missing/nothing.json".into());
    paths.push("g/empty.json/below-a-file".into());
    paths.push("".into());
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStringExt as _;
        let bad = OsString::from_vec(b"g/\xff\xfe-not-utf8.json".to_vec());
        std::fs::write(s.root().join(&bad), b"{\"sequence\":").expect("non-UTF-8 name");
        paths.push(bad);
        paths.push(OsString::from_vec(b"g/\xff-missing".to_vec()));
    }
    paths
}

/// Damaged `canary.toml` files, each in a folder of its own.
fn damaged_folders(s: &Scratch) -> Vec<OsString> {
    let good = String::from_utf8(s.read("org/canary.toml")).expect("UTF-8 config");
    let variants: Vec<String> = vec![
        String::new(),
        "\u{0}\u{0}\u{0}".to_owned(),
        "a".repeat(256 * 1024),
        good.replace("cadence = \"90d\"", "cadence = \"-1d\""),
        good.replace("cadence = \"90d\"", "cadence = \"0d\""),
        good.replace("cadence = \"90d\"", "cadence = 90"),
        good.replace("grace = \"14d\"", "grace = \"forever\""),
        good.replace("id = \"no-warrants\"", "id = \"No Warrants\""),
        good.replace("id = \"website\"", "id = \"../../etc\""),
        good.replace("threshold = 1", "threshold = 0"),
        good.replace("threshold = 1", "threshold = -1"),
        good.replace("threshold = 1", "threshold = 18446744073709551616"),
        good.replace("threshold = 1", "threshold = 3"),
        good.replace("issuer = \"example.org\"", "issuer = \"\""),
        good.replace("issuer = \"example.org\"", "issuer = 7"),
        good.replace("ed25519:", "ed25519:AAAA"),
        format!("{good}\nunknown = true\n"),
        format!("{good}\n[trust]\nthreshold = 1\n"),
    ];
    let mut dirs = Vec::new();
    for (i, text) in variants.into_iter().enumerate() {
        let dir = format!("bad{i}");
        s.write(&format!("{dir}/canary.toml"), text);
        // The folder's statement, so that damage is found wherever it is read.
        s.write(
            &format!("{dir}/statements/000001.json"),
            s.read("org/statements/000001.json"),
        );
        dirs.push(OsString::from(dir));
    }
    dirs
}

/// Garbage files that are well-formed drafts when checked without a folder.
const VALID_ALONE: &[&str] = &["g/max-sequence.json", "g/far-dates.json"];

const BAD_TIMES: &[&str] = &[
    "",
    "now",
    "2026-13-01T00:00:00Z",
    "2026-02-30T00:00:00Z",
    "2026-01-01T00:00:60Z",
    "2026-01-01 00:00:00Z",
    "2026-01-01T00:00:00+00:00",
    "2026-01-01T00:00:00.000Z",
    "99999-01-01T00:00:00Z",
    "-1",
    "1767225600",
    "99999999999999999999999",
];

const BAD_DURATIONS: &[&str] = &[
    "",
    "-1d",
    "1x",
    "1.5d",
    "99999999999999999999d",
    "9223372036854775807s",
    "999999999w999999999w999999999w999999999w999999999w999999999w999999999w999999999w999999999w999999999w999999999w999999999w999999999w999999999w999999999w999999999w",
];

#[test]
fn garbage_arguments_are_refused_cleanly() {
    let s = fixture();
    let key = ["--key", "keys/alice.key"];
    let mut runs: Vec<Vec<OsString>> = vec![
        os(&[]),
        os(&["frobnicate"]),
        os(&["--no-such-flag"]),
        // keygen
        os(&["keygen"]),
        os(&["keygen", "--name", "", "--unencrypted"]),
        os(&["keygen", "--name", ".hidden", "--unencrypted"]),
        os(&["keygen", "--name", "../escape", "--unencrypted"]),
        os(&["keygen", "--name", "a/b", "--unencrypted"]),
        os(&["keygen", "--name", "sp ace", "--unencrypted"]),
        os(&["keygen", "--name", &"k".repeat(5000), "--unencrypted"]),
        os(&[
            "keygen",
            "--name",
            "alice",
            "--dir",
            "keys",
            "--unencrypted",
        ]),
        os(&[
            "keygen",
            "--name",
            "x",
            "--unencrypted",
            "--passphrase-file",
            "enc.pass",
        ]),
        os(&["keygen", "--name", "x"]),
        os(&[
            "keygen",
            "--name",
            "x",
            "--dir",
            "enc.pass",
            "--unencrypted",
        ]),
        // init
        os(&["init"]),
        os(&["init", "--issuer", ""]),
        os(&["init", "--issuer", "a b"]),
        os(&["init", "--issuer", "a/b"]),
        os(&["init", "--issuer", "x\u{1b}[31m"]),
        os(&["init", "--issuer", "example.org", "--dir", "org"]),
        os(&["init", "--issuer", "x.org", "--dir", "enc.pass/below"]),
        os(&[
            "init",
            "--issuer",
            "x.org",
            "--key",
            "keys/alice.pub",
            "--threshold",
            "0",
        ]),
        os(&[
            "init",
            "--issuer",
            "x.org",
            "--key",
            "keys/alice.pub",
            "--threshold",
            "2",
        ]),
        os(&[
            "init",
            "--issuer",
            "x.org",
            "--key",
            "keys/alice.pub",
            "--threshold",
            "-1",
        ]),
        os(&[
            "init",
            "--issuer",
            "x.org",
            "--threshold",
            "18446744073709551616",
        ]),
        os(&["init", "--issuer", "x.org", "--key", "keys/alice.key"]),
        // new
        os(&["new", "--dir", "org", "--at", "9999-12-31T23:59:59Z"]),
        os(&["new", "--dir", "org", "--at", T2, "--out", "org"]),
        os(&["new", "--dir", "org", "--at", T2, "--out", "enc.pass/below"]),
        // sign
        os(&["sign"]),
        os(&["sign", "draft2.json"]),
        os(&["sign", "draft2.json", "--dir", "org", "--at", T2, "--key"]),
        os(&[
            "sign",
            "draft2.json",
            "--dir",
            "org",
            "--at",
            T2,
            "--key",
            "keys/alice.pub",
        ]),
        os(&[
            "sign",
            "draft2.json",
            "--dir",
            "org",
            "--at",
            T2,
            "--key",
            "keys/enc.key",
        ]),
        os(&[
            "sign",
            "draft2.json",
            "--dir",
            "org",
            "--at",
            T2,
            "--key",
            "keys/enc.key",
            "--passphrase-file",
            "draft1.json",
        ]),
        os(&[
            "sign",
            "draft2.json",
            "--dir",
            "org",
            "--at",
            T2,
            "--key",
            "keys/enc.key",
            "--passphrase-file",
            "keys",
        ]),
        os(&[
            "sign",
            "draft2.json",
            "--dir",
            "org",
            "--at",
            T2,
            "--out",
            "org",
            "--key",
            "keys/alice.key",
        ]),
        os(&[
            "sign",
            "draft2.json",
            "--dir",
            "org",
            "--at",
            T1,
            "--key",
            "keys/alice.key",
        ]),
        os(&[
            "sign",
            "draft1.json",
            "--dir",
            "org",
            "--at",
            T1,
            "--key",
            "keys/alice.key",
        ]),
        os(&[
            "sign",
            "org/statements/000001.json",
            "--dir",
            "org",
            "--at",
            T1,
            "--key",
            "keys/alice.key",
        ]),
        // incident
        os(&["incident"]),
        os(&["incident", "new"]),
        os(&["incident", "frobnicate"]),
        os(&[
            "incident",
            "update",
            "--id",
            "nope",
            "--message",
            "x",
            "--dir",
            "org",
            "--at",
            T2,
            "--key",
            "keys/alice.key",
        ]),
        os(&[
            "incident",
            "resolve",
            "--id",
            "nope",
            "--message",
            "x",
            "--dir",
            "org",
            "--at",
            T2,
            "--key",
            "keys/alice.key",
        ]),
        os(&[
            "incident",
            "update",
            "--id",
            "db-upgrade",
            "--message",
            "x",
            "--status",
            "resolved",
            "--dir",
            "org",
            "--at",
            T2,
            "--key",
            "keys/alice.key",
        ]),
        os(&[
            "incident",
            "update",
            "--id",
            "db-upgrade",
            "--message",
            "x",
            "--status",
            "done",
            "--dir",
            "org",
            "--at",
            T2,
            "--key",
            "keys/alice.key",
        ]),
        os(&[
            "incident",
            "update",
            "--id",
            "db-upgrade",
            "--message",
            "",
            "--dir",
            "org",
            "--at",
            T2,
            "--key",
            "keys/alice.key",
            "--impact",
            "apocalyptic",
        ]),
        os(&[
            "incident",
            "update",
            "--id",
            "db-upgrade",
            "--message",
            "x",
            "--dir",
            "org",
            "--at",
            "2020-01-01T00:00:00Z",
            "--key",
            "keys/alice.key",
        ]),
        os(&[
            "incident",
            "update",
            "--id",
            "db-upgrade",
            "--message",
            "x",
            "--dir",
            "org",
            "--at",
            T2,
            "--key",
            "keys/alice.key",
            "--data-lost",
            "maybe",
        ]),
        os(&[
            "incident",
            "resolve",
            "--id",
            "db-upgrade",
            "--message",
            "x",
            "--dir",
            "org",
            "--at",
            T2,
            "--key",
            "keys/alice.key",
            "--measure",
            "no colon",
        ]),
        os(&[
            "incident",
            "resolve",
            "--id",
            "db-upgrade",
            "--message",
            "x",
            "--dir",
            "org",
            "--at",
            T2,
            "--key",
            "keys/alice.key",
            "--done",
            "sometimes:x",
        ]),
        os(&[
            "incident",
            "resolve",
            "--id",
            "db-upgrade",
            "--message",
            "x",
            "--dir",
            "org",
            "--at",
            T2,
            "--key",
            "keys/alice.key",
            "--measure",
            "prevent:   ",
        ]),
        os(&[
            "incident",
            "new",
            "--id",
            "db-upgrade",
            "--title",
            "t",
            "--impact",
            "minor",
            "--message",
            "m",
            "--dir",
            "org",
            "--at",
            T2,
            "--key",
            "keys/alice.key",
        ]),
        os(&[
            "incident",
            "new",
            "--id",
            "Not A Slug",
            "--title",
            "t",
            "--impact",
            "minor",
            "--message",
            "m",
            "--dir",
            "org",
            "--at",
            T2,
            "--key",
            "keys/alice.key",
        ]),
        os(&[
            "incident",
            "new",
            "--id",
            "x",
            "--title",
            "",
            "--impact",
            "minor",
            "--message",
            "m",
            "--dir",
            "org",
            "--at",
            T2,
            "--key",
            "keys/alice.key",
        ]),
        os(&[
            "incident",
            "new",
            "--id",
            "x",
            "--title",
            "t",
            "--impact",
            "minor",
            "--message",
            "m",
            "--status",
            "resolved",
            "--dir",
            "org",
            "--at",
            T2,
            "--key",
            "keys/alice.key",
        ]),
        os(&[
            "incident",
            "new",
            "--id",
            "x",
            "--title",
            "t",
            "--impact",
            "minor",
            "--message",
            "m",
            "--affected",
            "Not/A/Component",
            "--dir",
            "org",
            "--at",
            T2,
            "--key",
            "keys/alice.key",
        ]),
        os(&[
            "incident",
            "new",
            "--id",
            "x",
            "--title",
            "t",
            "--impact",
            "minor",
            "--message",
            "m",
            "--started-at",
            "yesterday",
            "--dir",
            "org",
            "--at",
            T2,
            "--key",
            "keys/alice.key",
        ]),
        os(&[
            "incident",
            "new",
            "--id",
            "x",
            "--title",
            "t",
            "--impact",
            "minor",
            "--message",
            "m",
            "--started-at",
            "9999-12-31T23:59:59Z",
            "--dir",
            "org",
            "--at",
            T2,
            "--key",
            "keys/alice.key",
        ]),
        os(&[
            "incident",
            "new",
            "--id",
            &"x".repeat(65),
            "--title",
            "t",
            "--impact",
            "minor",
            "--message",
            "m",
            "--dir",
            "org",
            "--at",
            T2,
            "--key",
            "keys/alice.key",
        ]),
        // lint
        os(&["lint"]),
        os(&[
            "lint",
            "draft2.json",
            "--dir",
            "org",
            "--at",
            "9999-12-31T23:59:59Z",
        ]),
        // due
        os(&["due", "--dir", "org", "--at", T1, "--format", "yaml"]),
        os(&["due", "--dir", "keys", "--at", T1]),
        // publish
        os(&["publish"]),
        os(&["publish", "--dir", "org"]),
        os(&["publish", "--dir", "org", "--out", "enc.pass", "--at", T1]),
        os(&[
            "publish",
            "--dir",
            "org",
            "--out",
            "enc.pass/below",
            "--at",
            T1,
        ]),
        os(&["publish", "--dir", "keys", "--out", "site", "--at", T1]),
        // rotate
        os(&["rotate"]),
        os(&["rotate", "--dir", "org", "--at", T2]),
        os(&[
            "rotate",
            "--dir",
            "org",
            "--at",
            T2,
            "--draft",
            "--threshold",
            "0",
        ]),
        os(&[
            "rotate",
            "--dir",
            "org",
            "--at",
            T2,
            "--draft",
            "--threshold",
            "18446744073709551616",
        ]),
        os(&[
            "rotate",
            "--dir",
            "org",
            "--at",
            T2,
            "--draft",
            "--threshold",
            "-1",
        ]),
        os(&[
            "rotate",
            "--dir",
            "org",
            "--at",
            T2,
            "--draft",
            "--remove",
            "not-a-key",
        ]),
        os(&[
            "rotate",
            "--dir",
            "org",
            "--at",
            T2,
            "--draft",
            "--remove",
            &"0".repeat(64),
        ]),
        os(&[
            "rotate",
            "--dir",
            "org",
            "--at",
            T2,
            "--draft",
            "--remove-panic",
            "ed25519:AAAA",
        ]),
        os(&[
            "rotate",
            "--dir",
            "org",
            "--at",
            T2,
            "--draft",
            "--add",
            "keys/alice.pub",
        ]),
        os(&[
            "rotate",
            "--dir",
            "org",
            "--at",
            T2,
            "--draft",
            "--add",
            "keys/alice.key",
        ]),
        os(&[
            "rotate",
            "--dir",
            "org",
            "--at",
            T2,
            "--draft",
            "--add-panic",
            "keys/alice.pub",
        ]),
    ];
    for t in BAD_TIMES {
        runs.push(os(&["new", "--dir", "org", "--at", t]));
        runs.push(os(&["due", "--dir", "org", "--at", t]));
        runs.push(os(&["publish", "--dir", "org", "--out", "site", "--at", t]));
        runs.push(os(&["lint", "draft2.json", "--dir", "org", "--at", t]));
        let mut sign = os(&["sign", "draft2.json", "--dir", "org", "--at", t]);
        sign.extend(os(&key));
        runs.push(sign);
        runs.push(os(&[
            "incident",
            "update",
            "--id",
            "db-upgrade",
            "--message",
            "m",
            "--dir",
            "org",
            "--key",
            "keys/alice.key",
            "--at",
            t,
        ]));
        runs.push(os(&[
            "rotate",
            "--dir",
            "org",
            "--draft",
            "--threshold",
            "2",
            "--at",
            t,
        ]));
    }
    for d in BAD_DURATIONS {
        runs.push(os(&["due", "--dir", "org", "--at", T1, "--warn-before", d]));
    }
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStringExt as _;
        let bad = OsString::from_vec(b"\xff\xfe".to_vec());
        let mut v: Vec<OsString> = os(&["keygen", "--unencrypted", "--name"]);
        v.push(bad.clone());
        runs.push(v);
        let mut v = os(&["init", "--issuer"]);
        v.push(bad.clone());
        runs.push(v);
        let mut v = os(&["new", "--dir", "org", "--at"]);
        v.push(bad.clone());
        runs.push(v);
        let mut v = os(&[
            "incident",
            "update",
            "--dir",
            "org",
            "--at",
            T2,
            "--key",
            "keys/alice.key",
            "--message",
            "m",
            "--id",
        ]);
        v.push(bad.clone());
        runs.push(v);
        runs.push(vec![bad]);
    }
    refused_all(s.root(), runs);
    // Nothing above wrote a key, a statement or an incident version.
    assert!(!s.exists("org/statements/000002.json"));
    assert!(!s.exists("org/incidents/db-upgrade/000002.json"));
    assert!(!s.exists("org/incidents/x"));
}

#[test]
fn garbage_files_are_refused_cleanly() {
    let s = fixture();
    let paths = garbage_paths(&s);
    let at = ["--at", T2];
    let mut runs: Vec<Vec<OsString>> = Vec::new();
    for p in &paths {
        let path = vec![p.clone()];
        // The document to sign or co-sign, and to lint.
        runs.push(
            [
                with(&["sign"], p),
                os(&["--dir", "org", "--key", "keys/alice.key"]),
                os(&at),
            ]
            .concat(),
        );
        runs.push([with(&["lint"], p), os(&["--dir", "org"]), os(&at)].concat());
        // Alone, without the folder's chain, two of the drafts are well formed.
        if !VALID_ALONE.iter().any(|v| p == *v) {
            runs.push([with(&["lint"], p), os(&at)].concat());
        }
        // The secret key, a public key.
        runs.push(
            [
                os(&["sign", "draft2.json", "--dir", "org", "--key"]),
                path.clone(),
                os(&at),
            ]
            .concat(),
        );
        runs.push(
            [
                os(&["init", "--issuer", "y.org", "--dir", "y", "--key"]),
                path.clone(),
            ]
            .concat(),
        );
        runs.push(
            [
                os(&["rotate", "--dir", "org", "--draft", "--add"]),
                path.clone(),
                os(&at),
            ]
            .concat(),
        );
        // The issuer folder.
        runs.push([os(&["new", "--dir"]), path.clone(), os(&at)].concat());
        runs.push(
            [
                os(&["publish", "--out", "site", "--dir"]),
                path.clone(),
                os(&at),
            ]
            .concat(),
        );
    }
    // The passphrase file, where only an empty or unreadable one is garbage
    // (any bytes make a passphrase, and a wrong one is refused).
    for p in [
        "g/empty.json",
        "g/a-folder",
        "g/missing/nothing.json",
        "g/binary.json",
    ] {
        runs.push(os(&[
            "sign",
            "draft2.json",
            "--dir",
            "org",
            "--key",
            "keys/enc.key",
            "--passphrase-file",
            p,
            "--at",
            T2,
        ]));
    }
    // A damaged canary.toml, whatever reads it.
    for dir in damaged_folders(&s) {
        let d = dir.to_str().expect("ASCII");
        runs.push(os(&["new", "--dir", d, "--at", T2]));
        runs.push(os(&["publish", "--dir", d, "--out", "site", "--at", T2]));
        runs.push(os(&[
            "sign",
            "draft2.json",
            "--dir",
            d,
            "--key",
            "keys/alice.key",
            "--at",
            T2,
        ]));
        runs.push(os(&[
            "incident",
            "new",
            "--dir",
            d,
            "--id",
            "x",
            "--title",
            "t",
            "--impact",
            "minor",
            "--message",
            "m",
            "--key",
            "keys/alice.key",
            "--at",
            T2,
        ]));
    }
    // A cadence too long to add to any date is found when drafting.
    let good = String::from_utf8(s.read("org/canary.toml")).expect("UTF-8 config");
    s.write(
        "long/canary.toml",
        good.replace("cadence = \"90d\"", "cadence = \"999999999w999999999w\""),
    );
    runs.push(os(&["new", "--dir", "long", "--at", T2]));
    refused_all(s.root(), runs);

    // A publish output whose canary.json is garbage is not overwritten.
    for p in &paths {
        let site = s.path("site-garbage");
        let _ = std::fs::remove_dir_all(&site);
        let source = s.root().join(p);
        if source.is_file() {
            std::fs::create_dir_all(site.join(".well-known")).expect("mkdir");
            std::fs::copy(&source, site.join(".well-known/canary.json")).expect("copy");
            refused_cleanly(&run(
                s.root(),
                &os(&[
                    "publish",
                    "--dir",
                    "org",
                    "--out",
                    "site-garbage",
                    "--at",
                    T2,
                ]),
            ));
            assert_eq!(
                std::fs::read(site.join(".well-known/canary.json")).expect("still there"),
                std::fs::read(&source).expect("source"),
                "a garbage canary.json was overwritten"
            );
        }
    }
}
