//! Canaries in other formats (DESIGN §11), checked against signatures made
//! by the real tools at test time: `gpg` (RSA-4096 and Ed25519 keys,
//! detached and clearsigned, an expired key, a revoked key, a signing
//! subkey), `signify-openbsd` and `minisign`. Keys and signatures are made
//! at fixed fake dates (`gpg --faked-system-time`), and every run uses
//! `--at`. A missing tool fails the test and names its Debian package.
//! (Unix only: the Windows runners have none of these tools.)

#![cfg(unix)]
#![allow(clippy::panic)]

mod net;
mod util;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};

use net::Server;
use util::*;

/// The tool, or a failure naming the Debian package that has it.
/// (`signify-openbsd` is plain `signify` outside Debian.)
fn tool(name: &str, package: &str) -> String {
    let found = |n: &str| {
        Command::new("sh")
            .args(["-c", &format!("command -v {n}")])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if found(name) {
        return name.to_owned();
    }
    if name == "signify-openbsd" && found("signify") {
        return "signify".to_owned();
    }
    panic!("{name} is not installed: these tests need it (Debian: apt-get install {package})");
}

fn run_ok(cmd: &mut Command) -> Vec<u8> {
    let out = cmd.output().expect("the tool runs");
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// A canary in the Qubes format, issued on `day` of January 2025 (or
/// another month), due in the first fourteen days of `next`.
fn qubes_text(issued: &str, bulletins: u32, next: &str, extra: &str, notes: &str) -> String {
    format!(
        "                    ---===[ Qubes Canary 042 ]===---


Statements
-----------

The Qubes security team members who have digitally signed this file [1]
state the following:

1. The date of issue of this canary is {issued}.

2. There have been {bulletins} Qubes security bulletins published so far.

3. The Qubes Master Signing Key fingerprint is:

       427F 11FD 0FAA 4B08 0123  F01C DDFA 1A3E 3687 9494

{extra}4. No warrants have ever been served to us with regard to the Qubes OS
   Project (e.g. to hand out the private signing keys or to introduce
   backdoors).

5. We plan to publish the next of these canary statements in the first
   fourteen days of {next}. Special note should be taken if no new
   canary is published by that time or if the list of statements changes
   without plausible explanation.


Special announcements
----------------------

{notes}


Disclaimers and notes
----------------------

- We would like to remind you that Qubes OS has been designed under the
  assumption that all relevant infrastructure is permanently compromised.

Footnotes
----------

[1] This file should be signed in two ways.
"
    )
}

fn q1() -> String {
    qubes_text("January 05, 2025", 103, "April 2025", "", "None.")
}

fn q2() -> String {
    qubes_text("April 03, 2025", 104, "July 2025", "", "None.")
}

/// The date the fixture keys and signatures are made at.
const SIGNED_AT: &str = "20250105T010000!";
/// A time when Q1 is fresh.
const FRESH: &str = "2025-01-06T00:00:00Z";
/// A time when Q2 is fresh.
const FRESH2: &str = "2025-04-04T00:00:00Z";

/// The OpenPGP keys, made once per run in a scratch GnuPG home.
struct Gpg {
    home: tempfile::TempDir,
    /// Fingerprints by name.
    fpr: BTreeMap<&'static str, String>,
    /// A signature of [`q1`] by "gone", made before its revocation.
    gone_q1: Vec<u8>,
    lock: Mutex<()>,
}

fn gpg_cmd(home: &Path, at: &str) -> Command {
    let mut c = Command::new(tool("gpg", "gnupg"));
    c.arg("--homedir")
        .arg(home)
        .args(["--batch", "--pinentry-mode", "loopback", "--passphrase", ""])
        .args(["--faked-system-time", at])
        .env("LC_ALL", "C");
    c
}

fn fingerprint(home: &Path, uid: &str) -> String {
    let out = run_ok(gpg_cmd(home, SIGNED_AT).args(["--with-colons", "--list-keys", uid]));
    String::from_utf8_lossy(&out)
        .lines()
        .find_map(|l| {
            l.strip_prefix("fpr:")
                .map(|r| r.trim_matches(':').to_owned())
        })
        .expect("a fingerprint")
}

fn gpg() -> &'static Gpg {
    static GPG: OnceLock<Gpg> = OnceLock::new();
    GPG.get_or_init(|| {
        tool("gpgv", "gpgv");
        let home = tempfile::tempdir().expect("a GnuPG home");
        let h = home.path();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(h, std::fs::Permissions::from_mode(0o700)).expect("chmod");
        }
        let gen_key = |uid: &str, algo: &str, usage: &str, expire: &str, at: &str| {
            run_ok(gpg_cmd(h, at).args(["--quick-gen-key", uid, algo, usage, expire]));
        };
        gen_key(
            "Marek <marek@example.org>",
            "rsa4096",
            "sign",
            "never",
            "20250101T000000!",
        );
        gen_key(
            "Simon <simon@example.org>",
            "ed25519",
            "sign",
            "never",
            "20250101T000000!",
        );
        gen_key(
            "Other <other@example.org>",
            "ed25519",
            "sign",
            "never",
            "20250101T000000!",
        );
        // Expired on 2024-12-31, at the fake time of its signature it was valid.
        gen_key(
            "Old <old@example.org>",
            "ed25519",
            "sign",
            "1y",
            "20240101T000000!",
        );
        gen_key(
            "Gone <gone@example.org>",
            "ed25519",
            "sign",
            "never",
            "20250101T000000!",
        );
        // A primary key for certification only, with a signing subkey.
        gen_key(
            "Sub <sub@example.org>",
            "ed25519",
            "cert",
            "never",
            "20250101T000000!",
        );
        let mut fpr = BTreeMap::new();
        for name in ["marek", "simon", "other", "old", "gone", "sub"] {
            fpr.insert(name, fingerprint(h, &format!("{name}@example.org")));
        }
        run_ok(gpg_cmd(h, "20250101T000000!").args([
            "--quick-add-key",
            &fpr["sub"],
            "ed25519",
            "sign",
            "never",
        ]));
        std::fs::write(h.join("q1.txt"), q1()).expect("write");
        let gone_q1 = run_ok(
            gpg_cmd(h, "20250101T120000!")
                .args([
                    "-u",
                    &format!("{}!", fpr["gone"]),
                    "--detach-sign",
                    "-o",
                    "-",
                ])
                .arg(h.join("q1.txt")),
        );
        // Revoke "gone" with the certificate gpg made with it.
        let rev = std::fs::read_to_string(h.join(format!("openpgp-revocs.d/{}.rev", fpr["gone"])))
            .expect("revocation certificate");
        let rev = rev.replace(":-----BEGIN", "-----BEGIN");
        std::fs::write(h.join("gone.rev"), rev).expect("write");
        run_ok(
            gpg_cmd(h, "20250102T000000!")
                .arg("--import")
                .arg(h.join("gone.rev")),
        );
        Gpg {
            home,
            fpr,
            gone_q1,
            lock: Mutex::new(()),
        }
    })
}

impl Gpg {
    /// gpg, serialised (one agent), stopped after each use.
    fn run(&self, at: &str, args: &[&str]) -> Vec<u8> {
        let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        let out = run_ok(gpg_cmd(self.home.path(), at).args(args));
        let _ = Command::new("gpgconf")
            .arg("--homedir")
            .arg(self.home.path())
            .args(["--kill", "all"])
            .output();
        out
    }

    /// The armored certificate of `name`.
    fn cert(&self, name: &str) -> Vec<u8> {
        self.run(SIGNED_AT, &["--armor", "--export", &self.fpr[name]])
    }

    /// A detached signature of `file` by `name` (binary), at `at`.
    fn detach(&self, name: &str, file: &Path, at: &str) -> Vec<u8> {
        let signer = format!("{}!", self.fpr[name]);
        let signer = if name == "sub" {
            self.fpr[name].clone()
        } else {
            signer
        };
        self.run(
            at,
            &[
                "-u",
                &signer,
                "--detach-sign",
                "-o",
                "-",
                file.to_str().expect("utf-8"),
            ],
        )
    }

    /// The clearsigned form of `file` by each of `names`.
    fn clearsign(&self, names: &[&str], file: &Path) -> Vec<u8> {
        let mut args = Vec::new();
        for n in names {
            args.push("-u".to_owned());
            args.push(format!("{}!", self.fpr[*n]));
        }
        args.extend(["--clearsign".to_owned(), "-o".to_owned(), "-".to_owned()]);
        args.push(file.to_str().expect("utf-8").to_owned());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        self.run(SIGNED_AT, &args)
    }
}

/// A folder with the trust file and the pinned certificates of `names`.
fn openpgp_trust(s: &Scratch, names: &[&str], threshold: usize, clearsigned: bool) -> String {
    let mut keys = Vec::new();
    for n in names {
        s.write(&format!("{n}.asc"), gpg().cert(n));
        keys.push(format!("\"{n}.asc\""));
    }
    let sigs = if clearsigned {
        String::new()
    } else {
        let list: Vec<String> = names
            .iter()
            .map(|n| format!("\"{{url}}.sig.{n}\""))
            .collect();
        format!("signatures = [{}]\n", list.join(", "))
    };
    s.write(
        "qubes.toml",
        format!(
            "issuer = \"qubes-os.org\"\nformat = \"openpgp\"\nkeys = [{}]\nthreshold = {threshold}\nprofile = \"qubes\"\n{sigs}",
            keys.join(", ")
        ),
    )
}

/// Writes `text` as `rel` with detached signatures by `signers` beside it.
fn publish(s: &Scratch, rel: &str, text: &str, signers: &[&str]) -> String {
    let path = s.write(rel, text);
    for n in signers {
        let sig = gpg().detach(n, Path::new(&path), SIGNED_AT);
        s.write(&format!("{rel}.sig.{n}"), sig);
    }
    path
}

fn check(trust: &str, source: &str, at: &str, extra: &[&str]) -> Out {
    verify([source, "--trust", trust, "--at", at])
        .args(extra)
        .run()
}

#[test]
fn openpgp_two_of_two_ok() {
    let s = Scratch::new();
    let trust = openpgp_trust(&s, &["marek", "simon"], 2, false);
    let text = publish(&s, "canary-042-2025.txt", &q1(), &["marek", "simon"]);
    let out = check(&trust, &text, FRESH, &[]);
    out.code(OK)
        .stdout_has("OK qubes-os.org (openpgp) as of 2025-01-05T00:00:00Z")
        .stdout_has("next due 2025-04-15T00:00:00Z")
        .stdout_has(&gpg().fpr["marek"])
        .stdout_has(&gpg().fpr["simon"]);
    let json = check(&trust, &text, FRESH, &["--format", "json"]);
    json.code(OK);
    let v: serde_json::Value = serde_json::from_str(json.stdout.trim()).expect("JSON");
    assert_eq!(v["verdict"], "ok");
    assert_eq!(v["issuer"], "qubes-os.org");
    assert_eq!(v["issued_at"], "2025-01-05T00:00:00Z");
    assert_eq!(v["expires_at"], "2025-04-29T00:00:00Z");
    assert_eq!(v["statements"].as_array().map(Vec::len), Some(5));
    assert_eq!(v["signers"].as_array().map(Vec::len), Some(2));
    assert!(out.elapsed.as_millis() < 5_000);
}

#[test]
fn openpgp_one_signature_only() {
    let s = Scratch::new();
    let trust = openpgp_trust(&s, &["marek", "simon"], 2, false);
    let text = publish(&s, "c.txt", &q1(), &["simon"]);
    check(&trust, &text, FRESH, &[])
        .code(INVALID)
        .stdout_has("threshold-not-met: 1 of the 2 required pinned keys signed")
        .stdout_has("does not exist");
    // The same signature twice counts once.
    let sig = s.read("c.txt.sig.simon").expect("sig");
    s.write("c.txt.sig.marek", sig);
    check(&trust, &text, FRESH, &[])
        .code(INVALID)
        .stdout_has("threshold-not-met");
    // A key that is not pinned does not count.
    s.write(
        "c.txt.sig.marek",
        gpg().detach("other", Path::new(&text), SIGNED_AT),
    );
    check(&trust, &text, FRESH, &[])
        .code(INVALID)
        .stdout_has("threshold-not-met");
}

#[test]
fn openpgp_tampered_byte_and_last_quarters_signature() {
    let s = Scratch::new();
    let trust = openpgp_trust(&s, &["marek", "simon"], 2, false);
    let text = publish(&s, "c.txt", &q1(), &["marek", "simon"]);
    let tampered = q1().replace("No warrants", "No warrantz");
    std::fs::write(&text, tampered).expect("write");
    check(&trust, &text, FRESH, &[])
        .code(INVALID)
        .stdout_has("bad-signature")
        .stdout_has("does not verify");
    // Last quarter's signatures beside this quarter's text.
    let old = publish(&s, "old.txt", &q1(), &["marek", "simon"]);
    let new = s.write("new.txt", q2());
    for n in ["marek", "simon"] {
        std::fs::copy(format!("{old}.sig.{n}"), format!("{new}.sig.{n}")).expect("copy");
    }
    check(&trust, &new, FRESH2, &[])
        .code(INVALID)
        .stdout_has("bad-signature");
    // A signed message (its own text inside: an older issue) served as a
    // detached signature of this text does not count.
    let older = s.write(
        "older.txt",
        qubes_text("October 02, 2024", 101, "January 2025", "", "None."),
    );
    let opaque = gpg().run(
        SIGNED_AT,
        &[
            "-u",
            &format!("{}!", gpg().fpr["simon"]),
            "--sign",
            "-o",
            "-",
            &older,
        ],
    );
    std::fs::write(&text, q1()).expect("write");
    s.write("c.txt.sig.simon", opaque);
    s.write(
        "c.txt.sig.marek",
        gpg().detach("marek", Path::new(&text), SIGNED_AT),
    );
    check(&trust, &text, FRESH, &[])
        .code(INVALID)
        .stdout_has("threshold-not-met: 1 of the 2");
}

#[test]
fn openpgp_clearsigned_dash_escaped() {
    let s = Scratch::new();
    let trust = openpgp_trust(&s, &["marek", "simon"], 2, true);
    // The headings' underlines and the "- " list are dash-escaped by gpg.
    let plain = s.write("plain.txt", q1());
    // Unsigned text: invalid.
    check(&trust, &plain, FRESH, &[])
        .code(INVALID)
        .stdout_has("bad-signature: 0 of the 2 required pinned keys signed");
    let signed = gpg().clearsign(&["marek", "simon"], Path::new(&plain));
    assert!(String::from_utf8_lossy(&signed).contains("\n- -----------"));
    let path = s.write("c.txt.asc", &signed);
    check(&trust, &path, FRESH, &["--format", "json"])
        .code(OK)
        .stdout_has("\"issued_at\":\"2025-01-05T00:00:00Z\"")
        .stdout_has("\"notes\":\"None.\"");
    // Text around the signed block is not read: a later date before it
    // changes nothing.
    let mut wrapped = b"1. The date of issue of this canary is December 31, 2099.\n\n".to_vec();
    wrapped.extend_from_slice(&signed);
    let path = s.write("wrapped.asc", &wrapped);
    let out = check(&trust, &path, FRESH, &[]);
    out.code(OK).stdout_lacks("2099");
    // A changed byte inside.
    let text = String::from_utf8_lossy(&signed).replace("103 Qubes", "104 Qubes");
    let path = s.write("bad.asc", text);
    check(&trust, &path, FRESH, &[])
        .code(INVALID)
        .stdout_has("bad-signature");
}

#[test]
fn openpgp_signed_compressed_messages_are_not_clearsigned_canaries() {
    let s = Scratch::new();
    let trust = openpgp_trust(&s, &["marek", "simon"], 1, true);
    // 4 MiB of one byte, compressed to a few KiB and signed by a pinned
    // key: gpgv would expand it whole.
    let big = s.write("big.txt", vec![b'A'; 4 << 20]);
    let signer = format!("{}!", gpg().fpr["marek"]);
    let binary = gpg().run(SIGNED_AT, &["-u", &signer, "--sign", "-o", "-", &big]);
    let armored = gpg().run(
        SIGNED_AT,
        &["-u", &signer, "--armor", "--sign", "-o", "-", &big],
    );
    assert!(binary.len() < 64 * 1024 && armored.len() < 64 * 1024);
    let plain = s.write("plain.txt", q1());
    let clear = gpg().clearsign(&["marek"], Path::new(&plain));
    // A good clearsigned canary with a compressed message after it.
    let mut appended = clear.clone();
    appended.extend_from_slice(&armored);
    for (name, bytes) in [
        ("binary.gpg", binary),
        ("armored.asc", armored),
        ("appended.asc", appended),
    ] {
        let path = s.write(name, bytes);
        check(&trust, &path, FRESH, &[])
            .code(INVALID)
            .stdout_has("not one clearsigned block");
    }
    // The canary alone still verifies.
    let path = s.write("clear.asc", clear);
    check(&trust, &path, FRESH, &[]).code(OK);

    // The same messages given as detached signatures: refused unread.
    let d = Scratch::new();
    let trust = openpgp_trust(&d, &["marek", "simon"], 1, false);
    let text = publish(&d, "q1.txt", &q1(), &["marek", "simon"]);
    check(&trust, &text, FRESH, &[]).code(OK);
    for bytes in [
        std::fs::read(s.path("binary.gpg")).expect("binary"),
        std::fs::read(s.path("armored.asc")).expect("armored"),
    ] {
        d.write("q1.txt.sig.marek", &bytes);
        d.write("q1.txt.sig.simon", &bytes);
        check(&trust, &text, FRESH, &[])
            .code(INVALID)
            .stdout_has("not an OpenPGP signature");
    }
}

#[test]
fn openpgp_expired_revoked_and_subkey() {
    let s = Scratch::new();
    // Signed while the key was valid (2024-06), verified after it expired.
    let trust = openpgp_trust(&s, &["old"], 1, false);
    let text = s.write("c.txt", q1());
    s.write(
        "c.txt.sig.old",
        gpg().detach("old", Path::new(&text), "20240601T000000!"),
    );
    check(&trust, &text, FRESH, &[])
        .code(INVALID)
        .stdout_has("bad-signature")
        .stdout_has("expired at 2024-12-31");

    let s = Scratch::new();
    let trust = openpgp_trust(&s, &["gone"], 1, false);
    // The pinned certificate carries the revocation.
    let text = s.write("c.txt", q1());
    s.write("c.txt.sig.gone", &gpg().gone_q1);
    check(&trust, &text, FRESH, &[])
        .code(INVALID)
        .stdout_has("revoked");

    let s = Scratch::new();
    let trust = openpgp_trust(&s, &["sub"], 1, false);
    let text = publish(&s, "c.txt", &q1(), &["sub"]);
    // The signature counts for the certificate (the primary key).
    check(&trust, &text, FRESH, &[])
        .code(OK)
        .stdout_has(&format!("signed by {}", gpg().fpr["sub"]));
}

#[test]
fn openpgp_signature_from_the_future_does_not_count() {
    let s = Scratch::new();
    let trust = openpgp_trust(&s, &["simon"], 1, false);
    let text = publish(&s, "c.txt", &q1(), &["simon"]);
    check(&trust, &text, "2025-01-05T00:30:00Z", &[])
        .code(INVALID)
        .stdout_has("after now");
}

#[test]
fn late_stale_rollback_and_tripped_with_state() {
    let s = Scratch::new();
    let trust = openpgp_trust(&s, &["marek", "simon"], 2, false);
    let state = s.arg("state");
    let st = ["--state", state.as_str()];
    let one = publish(&s, "q1.txt", &q1(), &["marek", "simon"]);
    // Late at the due date (a warning), stale at due + grace.
    check(&trust, &one, "2025-04-15T00:00:00Z", &[])
        .code(OK)
        .stdout_has("late:");
    check(&trust, &one, "2025-04-15T00:00:00Z", &["--deny-warnings"]).code(WARNING);
    check(&trust, &one, "2025-04-29T00:00:00Z", &[])
        .code(STALE)
        .stdout_has("expired");

    check(&trust, &one, FRESH, &st).code(OK);
    let two = publish(&s, "q2.txt", &q2(), &["marek", "simon"]);
    check(&trust, &two, FRESH2, &st).code(OK);
    // Last quarter again: rollback.
    check(&trust, &one, FRESH2, &st)
        .code(INVALID)
        .stdout_has("rollback");
    // The same date with other bytes: equivocation.
    let other = publish(
        &s,
        "q2b.txt",
        &q2().replace("None.", "None at all."),
        &["marek", "simon"],
    );
    check(&trust, &other, FRESH2, &st)
        .code(INVALID)
        .stdout_has("equivocation");

    // Next quarter without the warrant statement: tripped, quoted.
    let three = qubes_text("July 02, 2025", 105, "October 2025", "", "None.")
        .replace(
            "4. No warrants have ever been served to us with regard to the Qubes OS\n   Project (e.g. to hand out the private signing keys or to introduce\n   backdoors).\n\n",
            "",
        );
    let three = publish(&s, "q3.txt", &three, &["marek", "simon"]);
    check(&trust, &three, "2025-07-03T00:00:00Z", &st)
        .code(TRIPPED)
        .stdout_has("statement-removed")
        .stdout_has("No warrants have ever been served to us with regard to the Qubes OS Project");
    // Announcements changed: a warning.
    let noted = publish(
        &s,
        "q3n.txt",
        &qubes_text(
            "July 02, 2025",
            105,
            "October 2025",
            "",
            "We moved to a new host.",
        ),
        &["marek", "simon"],
    );
    check(&trust, &noted, "2025-07-03T00:00:00Z", &st)
        .code(OK)
        .stdout_has("notes-changed");
}

#[test]
fn unreadable_text_names_the_rule() {
    let s = Scratch::new();
    let trust = openpgp_trust(&s, &["simon"], 1, false);
    let text = publish(
        &s,
        "c.txt",
        &q1().replace("January 05, 2025", "soon"),
        &["simon"],
    );
    check(&trust, &text, FRESH, &[])
        .code(INVALID)
        .stdout_has("unparsable: the text does not match the profile's issued rule");
}

#[test]
fn hostile_text() {
    let s = Scratch::new();
    let trust = openpgp_trust(&s, &["simon"], 1, false);
    // Bidi controls and escapes in a signed statement are shown escaped.
    let evil = q1().replace("No warrants", "No \u{202e}warrants\u{1b}[2J");
    let text = publish(&s, "c.txt", &evil, &["simon"]);
    let out = check(&trust, &text, FRESH, &["--format", "json"]);
    out.code(OK);
    assert!(!out.stdout.contains('\u{202e}') && !out.stdout.contains('\u{1b}'));
    out.stdout_has("\\u202e");
    // Binary, signed: invalid, not a crash.
    let bin = s.write("bin.txt", [0xffu8, 0xfe, 0, 1, 2, 0x80]);
    s.write(
        "bin.txt.sig.simon",
        gpg().detach("simon", Path::new(&bin), SIGNED_AT),
    );
    check(&trust, &bin, FRESH, &[])
        .code(INVALID)
        .stdout_has("not UTF-8");
    // Over the 256 KiB cap.
    let huge = s.write("huge.txt", vec![b'a'; 256 * 1024 + 1]);
    check(&trust, &huge, FRESH, &[])
        .code(UNREACHABLE)
        .stdout_has("larger than");
    // A signature over its 64 KiB cap does not count.
    let text = publish(&s, "d.txt", &q1(), &[]);
    s.write("d.txt.sig.simon", vec![b'x'; 64 * 1024 + 1]);
    check(&trust, &text, FRESH, &[])
        .code(INVALID)
        .stdout_has("larger than");
}

/// signify keys `a` and `b` in `s`, and a trust file pinning both.
fn signify_setup(s: &Scratch) -> String {
    let signify = tool("signify-openbsd", "signify-openbsd");
    for k in ["a", "b"] {
        run_ok(Command::new(&signify).args([
            "-G",
            "-n",
            "-p",
            &s.arg(&format!("{k}.pub")),
            "-s",
            &s.arg(&format!("{k}.sec")),
        ]));
    }
    s.write(
        "signify.toml",
        "issuer = \"example.org\"\nformat = \"signify\"\nkeys = [\"a.pub\", \"b.pub\"]\nthreshold = 2\nprofile = \"qubes\"\nsignatures = [\"{url}.a.sig\", \"{url}.b.sig\"]\n",
    )
}

#[test]
fn signify_two_of_two() {
    let s = Scratch::new();
    let trust = signify_setup(&s);
    let text = s.write("c.txt", q1());
    for k in ["a", "b"] {
        run_ok(
            Command::new(tool("signify-openbsd", "signify-openbsd")).args([
                "-S",
                "-s",
                &s.arg(&format!("{k}.sec")),
                "-m",
                &text,
                "-x",
                &format!("{text}.{k}.sig"),
            ]),
        );
    }
    check(&trust, &text, FRESH, &[])
        .code(OK)
        .stdout_has("signed by a.pub, b.pub");
    std::fs::write(&text, q1().replace("103", "102")).expect("write");
    check(&trust, &text, FRESH, &[])
        .code(INVALID)
        .stdout_has("does not verify");
}

#[test]
fn minisign_prehashed_and_legacy() {
    let minisign = tool("minisign", "minisign");
    let s = Scratch::new();
    for k in ["a", "b"] {
        run_ok(Command::new(&minisign).args([
            "-G",
            "-W",
            "-p",
            &s.arg(&format!("{k}.pub")),
            "-s",
            &s.arg(&format!("{k}.key")),
        ]));
    }
    let trust = s.write(
        "m.toml",
        "issuer = \"example.org\"\nformat = \"minisign\"\nkeys = [\"a.pub\", \"b.pub\"]\nthreshold = 2\nprofile = \"qubes\"\nsignatures = [\"{url}.a.minisig\", \"{url}.b.minisig\"]\n",
    );
    let text = s.write("c.txt", q1());
    // a prehashed (the default), b legacy.
    run_ok(Command::new(&minisign).args([
        "-S",
        "-s",
        &s.arg("a.key"),
        "-m",
        &text,
        "-x",
        &format!("{text}.a.minisig"),
        "-t",
        "timestamp:1736038800",
    ]));
    run_ok(Command::new(&minisign).args([
        "-S",
        "-l",
        "-s",
        &s.arg("b.key"),
        "-m",
        &text,
        "-x",
        &format!("{text}.b.minisig"),
        "-t",
        "canary q1",
    ]));
    check(&trust, &text, FRESH, &[])
        .code(OK)
        .stdout_has("signed by a.pub, b.pub");
    // The trusted comment is covered by the global signature.
    let sig = String::from_utf8(s.read("c.txt.b.minisig").expect("sig")).expect("utf-8");
    s.write("c.txt.b.minisig", sig.replace("canary q1", "canary q2"));
    check(&trust, &text, FRESH, &[])
        .code(INVALID)
        .stdout_has("trusted comment");
}

#[test]
fn over_loopback_http() {
    let s = Scratch::new();
    let trust = openpgp_trust(&s, &["marek", "simon"], 2, false);
    let text = publish(&s, "c.txt", &q1(), &["marek", "simon"]);
    let mut files = BTreeMap::new();
    files.insert(
        "canary-042-2025.txt".to_owned(),
        std::fs::read(&text).expect("read"),
    );
    for n in ["marek", "simon"] {
        files.insert(
            format!("canary-042-2025.txt.sig.{n}"),
            std::fs::read(format!("{text}.sig.{n}")).expect("read"),
        );
    }
    let server = Server::tree(files);
    let url = server.url("/canary-042-2025.txt");
    let state = s.arg("state");
    check(&trust, &url, FRESH, &["--state", &state]).code(OK);
    assert!(
        PathBuf::from(&state)
            .join("qubes-os.org.legacy.json")
            .is_file()
    );
    check(&trust, &server.url("/missing.txt"), FRESH, &[]).code(UNREACHABLE);
}

#[test]
fn bad_trust_files_are_usage_errors() {
    let s = Scratch::new();
    let trust = s.write(
        "t.toml",
        "issuer = \"x\"\nformat = \"openpgp\"\nkeys = [\"missing.asc\"]\nthreshold = 1\nprofile = \"qubes\"\n",
    );
    let text = s.write("c.txt", q1());
    check(&trust, &text, FRESH, &[])
        .code(USAGE)
        .stderr_has("missing.asc");
    let trust = s.write(
        "t2.toml",
        "issuer = \"x\"\nformat = \"openpgp\"\nkeys = [\"a.asc\"]\nthreshold = 3\nprofile = \"qubes\"\n",
    );
    check(&trust, &text, FRESH, &[])
        .code(USAGE)
        .stderr_has("threshold");
    // A bare domain, as for a native canary: a usage error that says what
    // to give instead.
    let trust = openpgp_trust(&s, &["marek"], 1, true);
    check(&trust, "qubes-os.org", FRESH, &[])
        .code(USAGE)
        .stderr_has("no well-known place")
        .stderr_has("URL of the canary's text");
    // A missing file is still said to be missing.
    let missing = check(&trust, "canary-041.txt", FRESH, &[]);
    missing.stdout_lacks("well-known");
    assert!(!missing.stderr.contains("well-known"), "{}", missing.stderr);
}

#[test]
fn watch_list_with_a_legacy_entry() {
    let s = Scratch::new();
    openpgp_trust(&s, &["marek", "simon"], 2, false);
    publish(&s, "canary-042-2025.txt", &q1(), &["marek", "simon"]);
    let list = s.write(
        "watch.toml",
        "[[issuer]]\nname = \"qubes-os.org\"\nsource = \"canary-042-2025.txt\"\ntrust = \"qubes.toml\"\n",
    );
    let state = s.arg("state");
    let json = canary([
        "watch", &list, "--at", FRESH, "--state", &state, "--format", "json",
    ])
    .run();
    json.code(OK);
    let v: serde_json::Value = serde_json::from_str(json.stdout.trim()).expect("JSON");
    assert_eq!(v["issuer"], "qubes-os.org");
    assert_eq!(v["verdict"], "ok");
    assert_eq!(v["issued_at"], "2025-01-05T00:00:00Z");
    assert_eq!(v["next_due"], "2025-04-15T00:00:00Z");
    assert_eq!(v["expires_at"], "2025-04-29T00:00:00Z");
    assert!(
        PathBuf::from(&state)
            .join("qubes-os.org.legacy.json")
            .is_file()
    );

    let prom = canary([
        "watch",
        &list,
        "--at",
        "2025-05-01T00:00:00Z",
        "--no-state",
        "--format",
        "prometheus",
    ])
    .run();
    prom.code(OK)
        .stdout_has("canary_verdict_code{issuer=\"qubes-os.org\",verdict=\"stale\"} 3")
        .stdout_has("canary_expiry_seconds{issuer=\"qubes-os.org\"} -172800");
    canary([
        "watch",
        &list,
        "--at",
        "2025-05-01T00:00:00Z",
        "--no-state",
        "--format",
        "nagios",
    ])
    .run()
    .code(2)
    .stdout_has("CANARY CRITICAL - qubes-os.org stale");
    canary(["watch", &list, "--at", FRESH, "--no-state"])
        .run()
        .code(OK)
        .stdout_has("qubes-os.org  ok");

    // An entry named after another issuer than its trust file's.
    let list = s.write(
        "watch2.toml",
        "[[issuer]]\nname = \"other\"\nsource = \"canary-042-2025.txt\"\ntrust = \"qubes.toml\"\n",
    );
    canary(["watch", &list, "--at", FRESH, "--no-state"])
        .run()
        .code(USAGE)
        .stdout_has("not for \"other\"");
}

#[test]
fn numbered_series_walked_upward_over_loopback() {
    let s = Scratch::new();
    let trust = openpgp_trust(&s, &["marek", "simon"], 2, false);
    let issues = [
        (
            "canary-001-2024.txt",
            qubes_text("October 02, 2024", 101, "January 2025", "", "None."),
        ),
        ("canary-002-2025.txt", q1()),
        ("canary-003-2025.txt", q2()),
    ];
    let files = std::sync::Arc::new(Mutex::new(BTreeMap::new()));
    let add = |name: &str, text: &str| {
        let path = publish(&s, name, text, &["marek", "simon"]);
        let mut f = files.lock().expect("files");
        f.insert(name.to_owned(), std::fs::read(&path).expect("read"));
        for n in ["marek", "simon"] {
            f.insert(
                format!("{name}.sig.{n}"),
                std::fs::read(format!("{path}.sig.{n}")).expect("read"),
            );
        }
    };
    for (name, text) in &issues {
        add(name, text);
    }
    let served = files.clone();
    let server = Server::http(move |path| {
        match served
            .lock()
            .expect("files")
            .get(path.trim_start_matches('/'))
        {
            Some(body) => net::Reply::ok(body.clone()),
            None => net::Reply::status(404),
        }
    });
    let template = server.url("/canary-{n:03}-{year}.txt");
    let state = s.arg("state");
    check(&trust, &template, FRESH2, &["--state", &state])
        .code(OK)
        .stdout_has("as of 2025-04-03")
        .stdout_has("canary-003-2025.txt");

    // Next quarter: found from the issue remembered, not from number 1.
    add(
        "canary-004-2025.txt",
        &qubes_text("July 02, 2025", 105, "October 2025", "", "None."),
    );
    let before = server.requested().len();
    check(
        &trust,
        &template,
        "2025-07-03T00:00:00Z",
        &["--state", &state, "--format", "json"],
    )
    .code(OK)
    .stdout_has("\"issued_at\":\"2025-07-02T00:00:00Z\"");
    let walked: Vec<String> = server.requested()[before..].to_vec();
    assert!(
        !walked.iter().any(|p| p.contains("canary-001")),
        "{walked:?}"
    );
    assert!(
        walked.iter().any(|p| p.contains("canary-005-2026")),
        "{walked:?}"
    );
}

/// A legacy trust file is told apart as it is read (once): `verify` and
/// `watch` take it, `show` says plainly that it does not.
#[test]
fn show_names_a_legacy_trust_file_for_what_it_is() {
    let dir = tempfile::tempdir().expect("tempdir");
    let trust = dir.path().join("legacy.toml");
    std::fs::write(
        &trust,
        "issuer = \"example.org\"\nformat = \"signify\"\nkeys = [\"k.pub\"]\nthreshold = 1\nprofile = \"qubes\"\n",
    )
    .expect("write");
    let out = canary([
        "show",
        "canary.txt",
        "--trust",
        trust.to_str().expect("utf8"),
        "--at",
        "2026-01-01T00:00:00Z",
    ])
    .run();
    out.code(USAGE);
    assert!(
        out.stderr.contains("is a legacy trust file") && out.stderr.contains("canary verify"),
        "{}",
        out.stderr
    );
}

#[test]
fn an_unusable_ca_file_is_a_usage_error_as_for_a_native_canary() {
    let s = Scratch::new();
    let trust = openpgp_trust(&s, &["marek"], 1, false);
    let missing = s.path("missing.pem");
    let out = check(
        &trust,
        "https://127.0.0.1:9/canary.txt",
        "2026-01-10T00:00:00Z",
        &["--ca-cert", missing.to_str().expect("UTF-8 path")],
    );
    out.code(USAGE).stderr_has("missing.pem");
}
