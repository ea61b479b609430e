//! Keys change only by a signed rotation, and `publish` never breaks a live
//! site (issue 13; DESIGN §3.5, §8, §9):
//!
//! - after a rotation that removes a key which signed the latest statement,
//!   `publish` refuses, says what to sign, and writes nothing at all; once a
//!   statement by the new keys is signed it publishes a site that a reader
//!   pinned at version 1 verifies;
//! - once a statement is signed under `canary.toml`'s `[trust]`, editing
//!   `[trust]` is refused by `sign`, `new`, `lint` and `publish`, pointing at
//!   `canary-sign rotate`; before that, editing it is fine;
//! - `keygen`'s closing hint tells both cases.
//!
//! Both binaries run with fixed `--at` times and unencrypted throwaway keys.

// Helpers outside `#[test]` functions report failures by panicking.
#![allow(clippy::panic)]

mod util;

use std::process::{Command, Stdio};

use util::*;

const ISSUER: &str = "example.org";
const T1: &str = "2026-01-05T00:00:00Z";
const T2: &str = "2026-02-05T00:00:00Z";
const T3: &str = "2026-02-06T00:00:00Z";

/// Runs `canary ARGS` in `s`, with HOME and the XDG folders inside it.
fn canary(s: &Scratch, args: &[&str]) -> Out {
    let out = Command::new(verifier_bin())
        .current_dir(s.root())
        .args(args)
        .env("HOME", s.path("home"))
        .env("XDG_CONFIG_HOME", s.path("home/config"))
        .env("XDG_STATE_HOME", s.path("home/state"))
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .expect("canary runs");
    Out {
        args: format!("(canary) {}", args.join(" ")),
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Asserts stdout and stderr together mention `needle`.
#[track_caller]
fn says(out: &Out, needle: &str) {
    assert!(
        out.stdout.contains(needle) || out.stderr.contains(needle),
        "`canary-sign {}` does not say {needle:?}:\n--- stdout:\n{}\n--- stderr:\n{}",
        out.args,
        out.stdout,
        out.stderr
    );
}

/// `canary-sign init` of example.org in `f/` with `keys`.
fn init(s: &Scratch, keys: &[&str], threshold: u64) {
    let mut args = vec!["init", "--issuer", ISSUER, "--dir", "f"];
    let pubs: Vec<String> = keys.iter().map(|k| format!("keys/{k}.pub")).collect();
    for p in &pubs {
        args.extend(["--key", p.as_str()]);
    }
    let t = threshold.to_string();
    args.extend(["--threshold", t.as_str()]);
    s.run(&args).code(OK);
}

/// Drafts the next statement at `at`, signs it with the first key and
/// co-signs it with the others; returns the statement file.
fn statement(s: &Scratch, at: &str, keys: &[&str]) -> String {
    s.run(&["new", "--dir", "f", "--out", "draft.json", "--at", at])
        .code(OK);
    let (first, rest) = keys.split_first().expect("a signer");
    let out = s.run(&[
        "sign",
        "draft.json",
        "--dir",
        "f",
        "--key",
        &format!("keys/{first}.key"),
        "--at",
        at,
    ]);
    out.code(OK);
    let seq: u64 = out
        .stdout
        .split("signed statement ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no sequence in {:?}", out.stdout));
    let file = format!("f/statements/{seq:06}.json");
    for k in rest {
        cosign(s, &file, k, at);
    }
    file
}

/// Adds `key`'s signature to `file` in place.
fn cosign(s: &Scratch, file: &str, key: &str, at: &str) {
    s.run(&[
        "sign",
        file,
        "--dir",
        "f",
        "--key",
        &format!("keys/{key}.key"),
        "--at",
        at,
    ])
    .code(OK);
}

fn publish(s: &Scratch, at: &str) -> Out {
    s.run(&["publish", "--dir", "f", "--out", "site", "--at", at])
}

// ------------------------------------ 4. publish checks before writing

#[test]
fn publish_refuses_a_rotation_that_unsigns_the_latest_statement_and_writes_nothing() {
    let s = Scratch::new();
    for k in ["alice", "bob", "carol"] {
        s.keygen(k, None);
    }
    // Version 1: 2 of {alice, bob}. Statement 1 by both, published; the
    // reader pins the published policy.
    init(&s, &["alice", "bob"], 2);
    statement(&s, T1, &["alice", "bob"]);
    publish(&s, T1).code(OK);
    std::fs::copy(
        s.path("site/.well-known/canary/trust.toml"),
        s.path("pin-v1.toml"),
    )
    .expect("pin v1");
    let before = snapshot(&s.path("site"));

    // Version 2: 2 of {alice, carol}, removing bob, fully signed by the old
    // keys (alice, bob) and the new ones (alice, carol).
    s.run(&[
        "rotate",
        "--dir",
        "f",
        "--add",
        "keys/carol.pub",
        "--remove",
        "keys/bob.pub",
        "--key",
        "keys/alice.key",
        "--at",
        T2,
    ])
    .code(OK);
    cosign(&s, "f/rotations/000002.json", "bob", T2);
    cosign(&s, "f/rotations/000002.json", "carol", T2);

    // Statement 1 is signed by bob, whom rotation 2 removes: under version
    // 2 it has 1 of the 2 signatures it needs. Publishing now would serve
    // every reader an INVALID canary, so nothing is written.
    let out = publish(&s, T2);
    assert_unchanged(&s.path("site"), &before, "publish after rotation 2");
    out.code(REFUSED);
    says(&out, "rotation 2 removes");
    says(&out, "sign a new statement");

    // Signed by the new keys, statement 2 publishes, and the reader pinned
    // at version 1 follows the rotation and verifies the whole history.
    statement(&s, T2, &["alice", "carol"]);
    let out = publish(&s, T2);
    out.code(OK);
    // Signed by the new keys only, the switch cannot be seamless: said so.
    says(&out, "transition statement");
    assert!(s.exists("site/.well-known/canary/rotations/000002.json"));
    let out = canary(
        &s,
        &[
            "verify",
            "site",
            "--trust",
            "pin-v1.toml",
            "--history",
            "--incidents",
            "--at",
            T3,
        ],
    );
    out.code(OK).stdout_has("history: 2 statements");
}

// --------------------------------------- 5. keys change only by rotation

/// One way of editing `[trust]` in `canary.toml`.
type Edit = fn(&str, &Scratch) -> String;

fn public_key(s: &Scratch, name: &str) -> String {
    s.read_string(&format!("keys/{name}.pub"))
        .split_whitespace()
        .next()
        .expect("a key")
        .to_owned()
}

fn add_carol(text: &str, s: &Scratch) -> String {
    add_key(text, s, "carol")
}

/// `text` (a canary.toml or a trust policy) with `name`'s key added.
fn add_key(text: &str, s: &Scratch, name: &str) -> String {
    assert!(text.contains("\nkeys = [\n"), "{text}");
    text.replacen(
        "\nkeys = [\n",
        &format!("\nkeys = [\n  \"{}\",  # {name}\n", public_key(s, name)),
        1,
    )
}

fn remove_bob(text: &str, s: &Scratch) -> String {
    let bob = public_key(s, "bob");
    assert!(text.contains(&bob), "{text}");
    text.lines()
        .filter(|l| !l.contains(&bob))
        .map(|l| format!("{l}\n"))
        .collect()
}

fn threshold_two(text: &str, _: &Scratch) -> String {
    assert!(text.contains("\nthreshold = 1\n"), "{text}");
    text.replacen("\nthreshold = 1\n", "\nthreshold = 2\n", 1)
}

#[test]
fn editing_trust_after_a_statement_is_refused_everywhere() {
    let edits: [(&str, Edit); 3] = [
        ("a key added", add_carol),
        ("a key removed", remove_bob),
        ("the threshold changed", threshold_two),
    ];
    // Every edit and command is tried; the failures are reported together.
    let mut failures = Vec::new();
    for (what, edit) in edits {
        let s = Scratch::new();
        for k in ["alice", "bob", "carol"] {
            s.keygen(k, None);
        }
        init(&s, &["alice", "bob"], 1);
        statement(&s, T1, &["alice"]);
        publish(&s, T1).code(OK);
        // The next draft, made (and linting clean) before the edit.
        s.run(&["new", "--dir", "f", "--out", "draft2.json", "--at", T2])
            .code(OK);
        s.run(&["lint", "draft2.json", "--dir", "f", "--at", T2])
            .code(OK);

        let config = s.read_string("f/canary.toml");
        s.write("f/canary.toml", edit(&config, &s));
        let site = snapshot(&s.path("site"));
        let folder = snapshot(&s.path("f"));

        for args in [
            vec!["new", "--dir", "f", "--out", "draft3.json", "--at", T2],
            vec![
                "sign",
                "draft2.json",
                "--dir",
                "f",
                "--key",
                "keys/alice.key",
                "--at",
                T2,
            ],
            vec!["lint", "draft2.json", "--dir", "f", "--at", T2],
            vec!["publish", "--dir", "f", "--out", "site", "--at", T2],
        ] {
            let out = s.run(&args);
            let pointed = out.stdout.contains("canary-sign rotate")
                || out.stderr.contains("canary-sign rotate");
            if out.code != Some(REFUSED) || !pointed {
                failures.push(format!(
                    "{what}: `canary-sign {}` exited with {:?} (1 expected){}\n{}{}",
                    out.args,
                    out.code,
                    if pointed {
                        ""
                    } else {
                        ", without pointing at `canary-sign rotate`"
                    },
                    out.stdout,
                    out.stderr
                ));
            }
        }
        // Nothing was written: no draft, no statement, no site file.
        if s.exists("draft3.json") {
            failures.push(format!("{what}: `new` wrote draft3.json"));
        }
        if snapshot(&s.path("f")) != folder {
            failures.push(format!("{what}: the issuer folder changed"));
        }
        if snapshot(&s.path("site")) != site {
            failures.push(format!("{what}: the site changed"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn editing_trust_before_any_statement_is_fine() {
    let s = Scratch::new();
    for k in ["alice", "bob", "carol"] {
        s.keygen(k, None);
    }
    init(&s, &["alice", "bob"], 1);
    let config = s.read_string("f/canary.toml");
    let edited = threshold_two(&remove_bob(&add_carol(&config, &s), &s), &s);
    s.write("f/canary.toml", edited);
    // Now 2 of {alice, carol}.
    let file = statement(&s, T1, &["alice", "carol"]);
    assert_eq!(file, "f/statements/000001.json");
    publish(&s, T1).code(OK);
    let trust = s.read_string("site/.well-known/canary/trust.toml");
    assert!(trust.contains("threshold = 2"), "{trust}");
    assert!(trust.contains(&public_key(&s, "carol")), "{trust}");
    assert!(!trust.contains(&public_key(&s, "bob")), "{trust}");
}

#[test]
fn keygens_closing_hint_tells_both_cases() {
    let s = Scratch::new();
    let out = s.run(&["keygen", "--name", "dave", "--dir", "keys", "--unencrypted"]);
    out.code(OK);
    // A new issuer adds the key to [trust]; an existing one rotates.
    says(&out, "[trust]");
    says(&out, "rotate");
}

/// The record of trust version 1 removed once a document is signed: refused
/// (else an edited `[trust]` would become the new record); and `publish`
/// never re-keys a published trust version.
#[test]
fn a_missing_record_is_refused_and_a_published_trust_version_is_never_rekeyed() {
    let s = Scratch::new();
    for k in ["alice", "bob"] {
        s.keygen(k, None);
    }
    init(&s, &["alice"], 1);
    statement(&s, T1, &["alice"]);
    publish(&s, T1).code(OK);
    std::fs::remove_file(s.path("f/trust-v1.toml")).expect("remove the record");
    let config = s.read_string("f/canary.toml");
    s.write("f/canary.toml", add_key(&config, &s, "bob"));
    let out = s.run(&["new", "--dir", "f", "--out", "d.json", "--at", T2]);
    out.code(REFUSED);
    says(&out, "is missing");
    assert!(!s.path("d.json").exists());

    // Put back a record of the edited [trust]: the folder is consistent,
    // but the site already publishes another trust version 1.
    s.write(
        "f/trust-v1.toml",
        add_key(
            &s.read_string("site/.well-known/canary/trust.toml"),
            &s,
            "bob",
        ),
    );
    let site = snapshot(&s.path("site"));
    let out = publish(&s, T1);
    out.code(REFUSED);
    says(&out, "re-key");
    assert_unchanged(&s.path("site"), &site, "publish");
}

/// A rotation still being co-signed in the issuer folder: the signer and
/// the verifier read the folder alike (the rotation is pending, not wrong).
#[test]
fn signer_and_verifier_read_a_pending_rotation_alike() {
    let s = Scratch::new();
    for k in ["alice", "bob"] {
        s.keygen(k, None);
    }
    init(&s, &["alice"], 1);
    statement(&s, T1, &["alice"]);
    s.run(&[
        "rotate",
        "--dir",
        "f",
        "--add",
        "keys/bob.pub",
        "--threshold",
        "2",
        "--key",
        "keys/alice.key",
        "--at",
        T2,
    ])
    .code(OK);
    s.run(&["due", "--dir", "f", "--at", T2]).code(OK);
    s.write("pin.toml", s.read_string("f/trust-v1.toml"));
    let pin = "pin.toml";
    canary(&s, &["verify", "f", "--trust", pin, "--at", T2]).code(OK);
    // A pending rotation that is not the newest is wrong for both.
    std::fs::copy(
        s.path("f/rotations/000002.json"),
        s.path("f/rotations/000003.json"),
    )
    .expect("copy");
    s.run(&["due", "--dir", "f", "--at", T2]).code(ERROR);
    canary(&s, &["verify", "f", "--trust", pin, "--at", T2]).code(REFUSED);
}

/// A transition statement signed by the old keys and the new: published
/// before the rotation, without a note (every moment of the site verifies).
#[test]
fn a_transition_statement_signed_by_old_and_new_keys_publishes_seamlessly() {
    let s = Scratch::new();
    for k in ["alice", "bob"] {
        s.keygen(k, None);
    }
    init(&s, &["alice"], 1);
    statement(&s, T1, &["alice"]);
    publish(&s, T1).code(OK);
    s.write(
        "pin-v1.toml",
        s.read_string("site/.well-known/canary/trust.toml"),
    );
    s.run(&[
        "rotate",
        "--dir",
        "f",
        "--add",
        "keys/bob.pub",
        "--remove",
        "keys/alice.pub",
        "--key",
        "keys/alice.key",
        "--at",
        T2,
    ])
    .code(OK);
    // Statement 2 signed by alice while the rotation waits for bob, then
    // the rotation and the statement co-signed by bob (old and new keys).
    let second = statement(&s, T2, &["alice"]);
    cosign(&s, "f/rotations/000002.json", "bob", T2);
    cosign(&s, &second, "bob", T2);
    // The old site plus the new statement, as a reader sees it when the
    // statement is written and the rotation not yet: it verifies.
    let out = publish(&s, T2);
    out.code(OK);
    assert!(
        !out.stderr.contains("transition statement"),
        "{}",
        out.stderr
    );
    canary(
        &s,
        &[
            "verify",
            "site",
            "--trust",
            "pin-v1.toml",
            "--history",
            "--at",
            T3,
        ],
    )
    .code(OK);
}

/// A rotation on the site that the issuer folder does not hold: publish
/// refuses rather than check a site no reader sees.
#[test]
fn publish_refuses_a_site_with_rotations_beyond_the_folder() {
    let s = Scratch::new();
    s.keygen("alice", None);
    init(&s, &["alice"], 1);
    statement(&s, T1, &["alice"]);
    publish(&s, T1).code(OK);
    s.write("site/.well-known/canary/rotations/000002.json", "{}");
    let site = snapshot(&s.path("site"));
    let out = publish(&s, T1);
    out.code(REFUSED);
    says(&out, "beyond the folder");
    assert_unchanged(&s.path("site"), &site, "publish");
}

/// A published incident version is never replaced by an older one.
#[test]
fn publish_never_rolls_an_incident_back() {
    let s = Scratch::new();
    s.keygen("alice", None);
    init(&s, &["alice"], 1);
    statement(&s, T1, &["alice"]);
    let incident = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend([
            "--message",
            "m",
            "--dir",
            "f",
            "--key",
            "keys/alice.key",
            "--at",
            T1,
        ]);
        s.run(&all).code(OK);
    };
    incident(&[
        "incident", "new", "--id", "outage", "--title", "Outage", "--impact", "minor",
    ]);
    incident(&["incident", "update", "--id", "outage"]);
    publish(&s, T1).code(OK);
    std::fs::remove_file(s.path("f/incidents/outage/000002.json")).expect("remove version 2");
    let site = snapshot(&s.path("site"));
    let out = publish(&s, T1);
    out.code(REFUSED);
    says(&out, "roll it back");
    assert_unchanged(&s.path("site"), &site, "publish");
}

// --------------------------------------- write only where asked

/// `publish --out DIR` never writes outside `DIR`: a symbolic link to a
/// folder elsewhere is refused, and nothing is written there.
#[cfg(unix)]
#[test]
fn publish_refuses_a_linked_folder_inside_the_output() {
    let s = Scratch::new();
    s.keygen("alice", None);
    init(&s, &["alice"], 1);
    statement(&s, T1, &["alice"]);
    std::fs::create_dir_all(s.path("site")).expect("site");
    std::fs::create_dir_all(s.path("elsewhere")).expect("elsewhere");
    std::os::unix::fs::symlink(s.path("elsewhere"), s.path("site/.well-known")).expect("link");
    let out = publish(&s, T1);
    out.code(REFUSED);
    says(&out, "symbolic link");
    assert!(
        std::fs::read_dir(s.path("elsewhere"))
            .expect("elsewhere")
            .next()
            .is_none(),
        "nothing was written where the link points"
    );
    assert!(!s.exists("site/index.html"), "nothing was written at all");
}

/// A file replaced through a symbolic link never gets the link target's
/// mode: the new file is 0644 whatever the target's mode.
#[cfg(unix)]
#[test]
fn a_replaced_symbolic_link_never_passes_its_targets_mode() {
    use std::os::unix::fs::PermissionsExt as _;
    let s = Scratch::new();
    s.keygen("alice", None);
    init(&s, &["alice"], 1);
    statement(&s, T1, &["alice"]);
    std::fs::create_dir_all(s.path("site")).expect("site");
    s.write("secret.txt", "private");
    std::fs::set_permissions(s.path("secret.txt"), std::fs::Permissions::from_mode(0o600))
        .expect("chmod");
    std::os::unix::fs::symlink(s.path("secret.txt"), s.path("site/index.html")).expect("link");
    publish(&s, T1).code(OK);
    let meta = std::fs::symlink_metadata(s.path("site/index.html")).expect("index.html");
    assert!(meta.is_file(), "the link was replaced by a file");
    assert_eq!(meta.permissions().mode() & 0o777, 0o644);
    assert_eq!(
        s.read_string("secret.txt"),
        "private",
        "the target is untouched"
    );
}

/// An output or issuer folder every user can write to, without the sticky
/// bit, is refused (another local user could swap files in it).
#[cfg(unix)]
#[test]
fn folders_every_user_can_write_are_refused_unless_sticky() {
    use std::os::unix::fs::PermissionsExt as _;
    let s = Scratch::new();
    s.keygen("alice", None);
    init(&s, &["alice"], 1);
    statement(&s, T1, &["alice"]);
    std::fs::create_dir_all(s.path("site")).expect("site");
    let chmod = |p: &str, mode: u32| {
        std::fs::set_permissions(s.path(p), std::fs::Permissions::from_mode(mode)).expect("chmod");
    };
    chmod("site", 0o777);
    let out = publish(&s, T1);
    out.code(REFUSED);
    says(&out, "sticky");
    assert!(!s.exists("site/index.html"));
    chmod("site", 0o1777);
    publish(&s, T1).code(OK);
    chmod("site", 0o755);
    chmod("f", 0o777);
    let out = s.run(&["due", "--dir", "f", "--at", T1]);
    assert_ne!(out.code, Some(OK), "{}", out.stderr);
    says(&out, "sticky");
    chmod("f", 0o755);
}

/// Co-signers at the same moment never lose each other's signatures: the
/// read-add-write of co-signing in place holds the folder's lock.
#[test]
fn simultaneous_cosigners_all_keep_their_signature() {
    let keys = ["alice", "bob", "carol", "dave"];
    for round in 0..6 {
        let s = Scratch::new();
        for k in keys {
            s.keygen(k, None);
        }
        init(&s, &keys, 4);
        let file = statement(&s, T1, &["alice"]);
        let children: Vec<_> = ["bob", "carol", "dave"]
            .iter()
            .map(|k| {
                Command::new(env!("CARGO_BIN_EXE_canary-sign"))
                    .current_dir(s.root())
                    .args([
                        "sign",
                        &file,
                        "--dir",
                        "f",
                        "--key",
                        &format!("keys/{k}.key"),
                        "--at",
                        T1,
                    ])
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .expect("canary-sign starts")
            })
            .collect();
        for mut c in children {
            assert!(c.wait().expect("wait").success(), "round {round}");
        }
        let envelope: serde_json::Value =
            serde_json::from_str(&s.read_string(&file)).expect("an envelope");
        assert_eq!(
            envelope["signatures"].as_array().map(Vec::len),
            Some(4),
            "round {round}: a signature was lost: {envelope}"
        );
    }
}
