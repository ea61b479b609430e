//! The key lifecycle end to end (DESIGN §3.5, §4, §5, §9): `canary-sign
//! rotate` and co-signing, published rotations followed by the `canary`
//! verifier from a pinned version (and remembered in its state folder),
//! invalid and replayed rotations, panic keys, first-contact pinning with
//! `canary trust`, concurrent verifiers sharing one state folder, and
//! threshold edge cases.
//!
//! Both real binaries run with fixed `--at` times, an empty standard input,
//! unencrypted throwaway keys, and their own HOME / XDG folders. The verifier
//! is the one `cargo test --workspace` builds for its own tests.

// Test helpers outside `#[test]` functions report failures by panicking;
// clippy.toml's allow-panic-in-tests does not reach them.
#![allow(clippy::panic)]

mod util;
use util::verifier_bin;

use std::io::{BufRead as _, BufReader, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use canary_core::{
    Digest, Envelope, KeyRotation, Payload, SigningKey, State, Statement, TimeDelta, Timestamp,
    TrustPolicy, Zeroizing, parse_payload, to_payload,
};
use sha2::Digest as _;

const ISSUER: &str = "example.org";

/// Signing and verifying times, one per trust version (tests never read the
/// clock).
const T1: &str = "2026-01-05T00:00:00Z";
const T2: &str = "2026-02-05T00:00:00Z";
const T3: &str = "2026-03-05T00:00:00Z";
const T4: &str = "2026-04-05T00:00:00Z";

// Verifier exit codes (DESIGN §6).
const V_OK: i32 = 0;
const V_INVALID: i32 = 1;
const V_USAGE: i32 = 2;
const V_TRIPPED: i32 = 5;

// Signer exit codes.
const S_OK: i32 = 0;
const S_REFUSED: i32 = 1;
const S_ERROR: i32 = 2;

fn ts(s: &str) -> Timestamp {
    s.parse().expect("a valid fixed timestamp")
}

/// `at` plus `hours`, as an argument.
fn later(at: &str, hours: i64) -> String {
    ts(at)
        .checked_add(TimeDelta::hours(hours))
        .expect("in range")
        .to_string()
}

/// What one run of either binary did.
struct Run {
    what: String,
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    fn from_output(what: String, out: Output) -> Self {
        Run {
            what,
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    fn show(&self) -> String {
        format!(
            "`{}` exited with {:?}\n--- stdout:\n{}\n--- stderr:\n{}",
            self.what, self.code, self.stdout, self.stderr
        )
    }

    #[track_caller]
    fn code(&self, code: i32) -> &Self {
        assert_eq!(self.code, Some(code), "expected {code}: {}", self.show());
        self
    }

    #[track_caller]
    fn out_has(&self, needle: &str) -> &Self {
        assert!(
            self.stdout.contains(needle),
            "stdout lacks {needle:?}: {}",
            self.show()
        );
        self
    }

    #[track_caller]
    fn err_has(&self, needle: &str) -> &Self {
        assert!(
            self.stderr.contains(needle),
            "stderr lacks {needle:?}: {}",
            self.show()
        );
        self
    }

    #[track_caller]
    fn never_says(&self, needle: &str) -> &Self {
        assert!(
            !self.stdout.contains(needle) && !self.stderr.contains(needle),
            "printed {needle:?}: {}",
            self.show()
        );
        self
    }

    /// The JSON line of a `--format json` run with one source.
    #[track_caller]
    fn json(&self) -> serde_json::Value {
        let line = self.stdout.lines().next().unwrap_or_default();
        serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("stdout is not a JSON line ({e}): {}", self.show()))
    }

    /// Asserts the JSON verdict word and that one reason has `code`.
    #[track_caller]
    fn reason(&self, verdict: &str, code: &str) -> &Self {
        let json = self.json();
        assert_eq!(json["verdict"], verdict, "{}", self.show());
        let codes: Vec<&str> = json["reasons"]
            .as_array()
            .expect("reasons is an array")
            .iter()
            .filter_map(|r| r["code"].as_str())
            .collect();
        assert!(
            codes.contains(&code),
            "no reason {code:?} among {codes:?}: {}",
            self.show()
        );
        self
    }

    /// The key ids that counted, from a `--format json` run.
    #[track_caller]
    fn signers(&self) -> Vec<String> {
        self.json()["signers"]
            .as_array()
            .unwrap_or_else(|| panic!("no signers: {}", self.show()))
            .iter()
            .map(|s| s.as_str().expect("a key id").to_owned())
            .collect()
    }
}

/// A key pair made by `canary-sign keygen --unencrypted`, loaded back for
/// building crafted envelopes.
struct Key {
    name: String,
    /// The 64-hex key id `keygen` printed.
    id: String,
    signing: SigningKey,
}

impl Key {
    fn file(&self) -> String {
        format!("{}.key", self.name)
    }

    fn public(&self) -> String {
        format!("{}.pub", self.name)
    }
}

/// Sorted key ids, as the verifier lists signers.
fn ids(keys: &[&Key]) -> Vec<String> {
    let mut v: Vec<String> = keys.iter().map(|k| k.id.clone()).collect();
    v.sort();
    v
}

/// A signed envelope over `doc` by `keys`, in the signer's file form.
fn envelope<T: Payload>(doc: &T, keys: &[&Key]) -> Vec<u8> {
    let (first, rest) = keys.split_first().expect("at least one key");
    let mut env = Envelope::sign(
        T::PAYLOAD_TYPE,
        to_payload(doc).expect("a valid payload"),
        &first.signing,
    );
    for k in rest {
        assert!(env.add_signature(&k.signing), "{} signs once", k.name);
    }
    let mut bytes = env.to_json();
    bytes.push(b'\n');
    bytes
}

/// A rotation document of `issuer` to `version`.
fn rotation(issuer: &str, version: u64, threshold: u64, keys: &[&Key], at: &str) -> KeyRotation {
    KeyRotation {
        issuer: issuer.to_owned(),
        version,
        threshold,
        keys: keys.iter().map(|k| *k.signing.public_key()).collect(),
        panic_keys: None,
        issued_at: ts(at),
    }
}

fn parse_envelope(bytes: &[u8]) -> Envelope {
    Envelope::parse(bytes.strip_suffix(b"\n").unwrap_or(bytes)).expect("a strict envelope")
}

/// One scratch folder: keys at its root, the issuer folder `f/`, the
/// published site `site/`, and the verifier's HOME and XDG folders.
struct World {
    tmp: tempfile::TempDir,
}

impl World {
    fn new() -> Self {
        let w = World {
            tmp: tempfile::tempdir().expect("a temporary folder"),
        };
        for d in ["home", "config", "xdg-state"] {
            std::fs::create_dir_all(w.path(d)).expect("mkdir");
        }
        w
    }

    fn root(&self) -> &Path {
        self.tmp.path()
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.root().join(rel)
    }

    fn read(&self, rel: &str) -> Vec<u8> {
        std::fs::read(self.path(rel)).unwrap_or_else(|e| panic!("read {rel}: {e}"))
    }

    fn read_string(&self, rel: &str) -> String {
        String::from_utf8(self.read(rel)).expect("UTF-8")
    }

    fn write(&self, rel: &str, bytes: impl AsRef<[u8]>) {
        let path = self.path(rel);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, bytes).unwrap_or_else(|e| panic!("write {rel}: {e}"));
    }

    fn exists(&self, rel: &str) -> bool {
        self.path(rel).exists()
    }

    fn copy_dir(&self, from: &str, to: &str) {
        fn copy(from: &Path, to: &Path) {
            std::fs::create_dir_all(to).expect("mkdir");
            for entry in std::fs::read_dir(from).expect("read dir") {
                let entry = entry.expect("entry");
                let target = to.join(entry.file_name());
                if entry.file_type().expect("type").is_dir() {
                    copy(&entry.path(), &target);
                } else {
                    std::fs::copy(entry.path(), &target).expect("copy");
                }
            }
        }
        copy(&self.path(from), &self.path(to));
    }

    /// Runs `canary-sign ARGS` in the scratch folder.
    fn signer(&self, args: &[&str]) -> Run {
        let out = Command::new(env!("CARGO_BIN_EXE_canary-sign"))
            .current_dir(self.root())
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("canary-sign runs");
        Run::from_output(format!("canary-sign {}", args.join(" ")), out)
    }

    fn canary_command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(verifier_bin());
        cmd.current_dir(self.root())
            .args(args)
            .env("HOME", self.path("home"))
            .env("XDG_CONFIG_HOME", self.path("config"))
            .env("XDG_STATE_HOME", self.path("xdg-state"))
            .env("NO_COLOR", "1")
            .stdin(Stdio::null());
        cmd
    }

    /// Runs `canary ARGS` in the scratch folder.
    fn canary(&self, args: &[&str]) -> Run {
        let out = self.canary_command(args).output().expect("canary runs");
        Run::from_output(format!("canary {}", args.join(" ")), out)
    }

    /// Starts `canary ARGS` without waiting for it.
    fn spawn_canary(&self, args: &[&str]) -> Child {
        self.canary_command(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("canary starts")
    }

    /// `canary verify SOURCE --trust TRUST --at AT --format json`, with
    /// `--state STATE` or `--no-state`.
    fn verify(&self, source: &str, trust: &str, state: Option<&str>, at: &str) -> Run {
        let mut args = vec![
            "verify", source, "--trust", trust, "--at", at, "--format", "json",
        ];
        match state {
            Some(s) => args.extend(["--state", s]),
            None => args.push("--no-state"),
        }
        self.canary(&args)
    }

    /// `canary-sign keygen --name NAME --unencrypted` at the root.
    fn keygen(&self, name: &str) -> Key {
        let out = self.signer(&["keygen", "--name", name, "--unencrypted"]);
        out.code(S_OK).err_has("NOT encrypted");
        let id = out
            .stdout
            .lines()
            .find_map(|l| l.strip_prefix("key id:"))
            .unwrap_or_else(|| panic!("no key id line: {}", out.show()))
            .trim()
            .to_owned();
        // The unencrypted file format of src/keyfile.rs: `secret <base64 seed>`.
        let text = self.read_string(&format!("{name}.key"));
        assert!(text.contains("\nkdf none\n"), "{text}");
        let seed = text
            .lines()
            .find_map(|l| l.strip_prefix("secret "))
            .expect("a secret line");
        let seed: [u8; 32] = BASE64
            .decode(seed)
            .expect("base64 seed")
            .try_into()
            .expect("32 bytes");
        let signing = SigningKey::from_seed(&Zeroizing::new(seed)).expect("a valid seed");
        // The key id is the SHA-256 of the raw public key (DESIGN §3.1).
        let hash = sha2::Sha256::digest(signing.public_key().as_bytes());
        let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(id, hex, "keygen prints the SHA-256 key id");
        assert_eq!(signing.public_key().id().to_string(), id);
        Key {
            name: name.to_owned(),
            id,
            signing,
        }
    }

    /// `canary-sign init` of example.org in `f/` with `keys`.
    fn init(&self, keys: &[&Key], threshold: u64) {
        let mut args = vec!["init", "--issuer", ISSUER, "--dir", "f"];
        let pubs: Vec<String> = keys.iter().map(|k| k.public()).collect();
        for p in &pubs {
            args.extend(["--key", p.as_str()]);
        }
        let t = threshold.to_string();
        args.extend(["--threshold", t.as_str()]);
        self.signer(&args).code(S_OK);
    }

    /// Drafts the next statement at `at`, signs it with the first key and
    /// co-signs it with the others. Returns its sequence.
    fn statement(&self, at: &str, keys: &[&Key]) -> u64 {
        self.signer(&["new", "--dir", "f", "--out", "draft.json", "--at", at])
            .code(S_OK);
        let (first, rest) = keys.split_first().expect("a signer");
        let out = self.signer(&[
            "sign",
            "draft.json",
            "--dir",
            "f",
            "--key",
            &first.file(),
            "--at",
            at,
        ]);
        out.code(S_OK);
        let seq: u64 = out
            .stdout
            .split("signed statement ")
            .nth(1)
            .and_then(|s| s.split_whitespace().next())
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("no sequence: {}", out.show()));
        let file = format!("f/statements/{seq:06}.json");
        for k in rest {
            self.cosign(&file, &k.file(), at).code(S_OK);
        }
        seq
    }

    /// `canary-sign sign FILE --key KEY` (adding a signature in place).
    fn cosign(&self, file: &str, key: &str, at: &str) -> Run {
        self.signer(&["sign", file, "--dir", "f", "--key", key, "--at", at])
    }

    /// `canary-sign rotate --dir f ARGS --key KEY --at AT`.
    fn rotate(&self, args: &[&str], key: &Key, at: &str) -> Run {
        let mut all = vec!["rotate", "--dir", "f"];
        all.extend_from_slice(args);
        let file = key.file();
        all.extend(["--key", file.as_str(), "--at", at]);
        self.signer(&all)
    }

    /// `canary-sign publish --dir f --out site`.
    fn publish(&self, at: &str) {
        self.signer(&["publish", "--dir", "f", "--out", "site", "--at", at])
            .code(S_OK);
    }

    /// The next statement after the site's latest, as a document to craft.
    fn next_statement(&self, at: &str) -> Statement {
        let env = parse_envelope(&self.read("site/.well-known/canary.json"));
        let mut s: Statement = parse_payload(env.payload()).expect("the latest statement");
        s.sequence += 1;
        s.previous = Some(Digest::of(env.payload()));
        s.issued_at = ts(at);
        s.next_due = ts(at).checked_add(TimeDelta::days(90)).expect("in range");
        s.expires_at = ts(at).checked_add(TimeDelta::days(104)).expect("in range");
        s
    }

    /// Puts a crafted statement into the site as the latest one.
    fn put_latest(&self, s: &Statement, keys: &[&Key]) {
        let bytes = envelope(s, keys);
        self.write(
            &format!("site/.well-known/canary/statements/{:06}.json", s.sequence),
            &bytes,
        );
        self.write("site/.well-known/canary.json", &bytes);
    }

    /// The verifier's state file of example.org in `dir`.
    fn state(&self, dir: &str) -> State {
        let text = self.read(&format!("{dir}/example.org.json"));
        // Plain JSON first, then the verifier's own shape.
        let _: serde_json::Value = serde_json::from_slice(&text).expect("the state is JSON");
        serde_json::from_slice(&text).expect("the state parses")
    }

    /// The rotated trust policy the verifier keeps beside its state.
    fn rotated_trust(&self, dir: &str) -> TrustPolicy {
        let remembered: canary_core::RememberedTrust =
            serde_json::from_str(&self.read_string(&format!("{dir}/example.org.trust.json")))
                .expect("the remembered rotations parse");
        let last = remembered.rotations.last().expect("a rotation");
        let envelope = canary_core::Envelope::parse(last.as_bytes()).expect("an envelope");
        let r: canary_core::KeyRotation =
            canary_core::parse_payload(envelope.payload()).expect("a rotation");
        TrustPolicy::new(
            r.issuer,
            r.version,
            r.threshold,
            r.keys,
            r.panic_keys.unwrap_or_default(),
        )
        .expect("the rotated trust policy")
    }
}

/// The issuer's keys in the tests below.
struct Keys {
    alice: Key,
    bob: Key,
    carol: Key,
}

/// An issuer taken through trust versions 1 (2 of alice, bob), 2 (2 of
/// alice, bob, carol) and 3 (2 of alice, carol), with one statement per
/// version (statement 2 signed by `second`, and listing an incident record
/// signed by the same keys when `incident`), published to `site/`, and
/// `pinned-v1.toml` holding the first published trust policy.
fn three_versions(w: &World, second: fn(&Keys) -> [&Key; 2], incident: bool) -> Keys {
    let keys = Keys {
        alice: w.keygen("alice"),
        bob: w.keygen("bob"),
        carol: w.keygen("carol"),
    };
    let Keys { alice, bob, carol } = &keys;
    w.init(&[alice, bob], 2);
    w.statement(T1, &[alice, bob]);
    w.publish(T1);
    std::fs::copy(
        w.path("site/.well-known/canary/trust.toml"),
        w.path("pinned-v1.toml"),
    )
    .expect("pin v1");
    w.rotate(&["--add", "carol.pub"], alice, T2).code(S_OK);
    w.cosign("f/rotations/000002.json", &bob.file(), T2)
        .code(S_OK);
    if incident {
        let [first, other] = second(&keys);
        w.signer(&[
            "incident",
            "new",
            "--dir",
            "f",
            "--id",
            "outage",
            "--title",
            "Outage",
            "--impact",
            "minor",
            "--affected",
            "website",
            "--message",
            "The website was down.",
            "--key",
            &first.file(),
            "--at",
            T2,
        ])
        .code(S_OK);
        w.cosign("f/incidents/outage/000001.json", &other.file(), T2)
            .code(S_OK);
    }
    w.statement(T2, &second(&keys));
    w.rotate(&["--remove", "bob.pub"], alice, T3).code(S_OK);
    w.cosign("f/rotations/000003.json", &carol.file(), T3)
        .code(S_OK);
    w.statement(T3, &[alice, carol]);
    w.publish(T3);
    keys
}

#[test]
fn rotating_one_two_three_end_to_end() {
    let w = World::new();
    let alice = w.keygen("alice");
    let bob = w.keygen("bob");
    let carol = w.keygen("carol");
    w.keygen("mallory"); // an outsider, never one of the issuer's keys

    // Version 1: 2 of {alice, bob}; the reader pins it.
    w.init(&[&alice, &bob], 2);
    assert_eq!(w.statement(T1, &[&alice, &bob]), 1);
    w.publish(T1);
    std::fs::copy(
        w.path("site/.well-known/canary/trust.toml"),
        w.path("pinned-v1.toml"),
    )
    .expect("pin v1");
    let pinned = TrustPolicy::from_toml(&w.read_string("pinned-v1.toml")).expect("pinned");
    assert_eq!((pinned.version(), pinned.threshold()), (1, 2));
    w.verify("site", "pinned-v1.toml", Some("st"), T1)
        .code(V_OK);
    assert!(
        !w.exists("st/example.org.trust.json"),
        "nothing rotated yet, so no rotated trust is stored"
    );

    // Version 2: add carol (new set 2 of {alice, bob, carol}).
    w.rotate(&["--add", "carol.pub"], &alice, T2)
        .code(S_OK)
        .out_has("key rotation to trust version 2")
        .out_has("old keys 1 of 2, new keys 1 of 2")
        .err_has("more signatures are needed");
    // Another rotation while this one waits is refused.
    w.rotate(&["--threshold", "1"], &alice, T2)
        .code(S_REFUSED)
        .err_has("still waiting for signatures");
    // A pending rotation is not published, and trust stays at version 1.
    w.publish(T2);
    assert!(!w.exists("site/.well-known/canary/rotations/000002.json"));
    assert!(
        w.read_string("site/.well-known/canary/trust.toml")
            .contains("version = 1\n")
    );
    // bob completes both thresholds (old 2 of {alice, bob}, new 2 of 3).
    w.cosign("f/rotations/000002.json", &bob.file(), T2)
        .code(S_OK)
        .out_has("old keys 2 of 2, new keys 2 of 2")
        .never_says("more signatures are needed");

    // Statements now need keys of the current set: an outsider is refused,
    // and nothing is written.
    w.signer(&["new", "--dir", "f", "--out", "draft.json", "--at", T2])
        .code(S_OK);
    w.signer(&[
        "sign",
        "draft.json",
        "--dir",
        "f",
        "--key",
        "mallory.key",
        "--at",
        T2,
    ])
    .code(S_REFUSED)
    .err_has("not one of the signing keys");
    assert!(!w.exists("f/statements/000002.json"));
    assert_eq!(w.statement(T2, &[&alice, &carol]), 2);
    w.publish(T2);
    assert!(w.exists("site/.well-known/canary/rotations/000002.json"));
    assert!(
        w.read_string("site/.well-known/canary/trust.toml")
            .contains("version = 2\n")
    );

    // The reader pinned at v1 follows rotation 2: carol, unknown to v1, counts.
    let out = w.verify("site", "pinned-v1.toml", Some("st"), &later(T2, 1));
    out.code(V_OK);
    assert_eq!(out.signers(), ids(&[&alice, &carol]));
    assert_eq!(w.rotated_trust("st").version(), 2);
    assert_eq!(w.state("st").policy_version, 2);

    // Edits that make no valid key set.
    w.rotate(&["--remove", "mallory.pub"], &alice, T3)
        .code(S_ERROR)
        .err_has("is not among the current keys");
    w.rotate(&["--threshold", "4"], &alice, T3)
        .code(S_REFUSED)
        .err_has("threshold");
    w.rotate(&["--add", "carol.pub"], &alice, T3)
        .code(S_ERROR)
        .err_has("already there");
    assert!(!w.exists("f/rotations/000003.json"), "nothing was written");

    // Version 3: remove bob (2 of {alice, carol}); old set 2 of 3, new 2 of 2.
    w.rotate(&["--remove", "bob.pub", "--threshold", "2"], &alice, T3)
        .code(S_OK)
        .out_has("old keys 1 of 2, new keys 1 of 2");
    w.cosign("f/rotations/000003.json", &carol.file(), T3)
        .code(S_OK)
        .out_has("old keys 2 of 2, new keys 2 of 2")
        .never_says("more signatures are needed");
    // bob, removed, may no longer sign.
    w.signer(&["new", "--dir", "f", "--out", "draft.json", "--at", T3])
        .code(S_OK);
    w.signer(&[
        "sign",
        "draft.json",
        "--dir",
        "f",
        "--key",
        "bob.key",
        "--at",
        T3,
    ])
    .code(S_REFUSED)
    .err_has("trust version 3");
    assert_eq!(w.statement(T3, &[&alice, &carol]), 3);
    w.publish(T3);
    assert!(w.exists("site/.well-known/canary/rotations/000003.json"));

    // The same reader (v1 pin, same state) follows rotation 3 and stores it.
    let out = w.verify("site", "pinned-v1.toml", Some("st"), &later(T3, 1));
    out.code(V_OK);
    assert_eq!(out.signers(), ids(&[&alice, &carol]));
    let stored = w.rotated_trust("st");
    assert_eq!(stored.issuer(), ISSUER);
    assert_eq!(stored.version(), 3);
    assert_eq!(stored.threshold(), 2);
    let mut stored_ids: Vec<String> = stored.keys().keys().map(ToString::to_string).collect();
    stored_ids.sort();
    assert_eq!(stored_ids, ids(&[&alice, &carol]));
    let state = w.state("st");
    assert_eq!((state.sequence, state.policy_version), (3, 3));

    // Statement 4 signed by the removed key bob (plus alice), put straight
    // into the site: under v3 only alice counts.
    let s4 = w.next_statement(T4);
    w.put_latest(&s4, &[&alice, &bob]);
    w.verify("site", "pinned-v1.toml", Some("st"), T4)
        .code(V_INVALID)
        .reason("invalid", "threshold-not-met");
    assert_eq!(
        w.state("st").sequence,
        3,
        "an invalid canary is not recorded"
    );
    // A reader without state, pinned at v1, walks to v3 and rejects it too.
    w.verify("site", "pinned-v1.toml", None, T4)
        .code(V_INVALID)
        .reason("invalid", "threshold-not-met");
    // The same statement signed by the current keys verifies.
    w.put_latest(&s4, &[&alice, &carol]);
    w.verify("site", "pinned-v1.toml", Some("st"), T4)
        .code(V_OK);
    assert_eq!(w.state("st").sequence, 4);

    // An older statement, signed under a trust version rotated away since,
    // served again: named a rollback, not only a threshold not met.
    std::fs::copy(
        w.path("site/.well-known/canary/statements/000002.json"),
        w.path("site/.well-known/canary.json"),
    )
    .expect("serve statement 2 again");
    w.verify("site", "pinned-v1.toml", Some("st"), T4)
        .code(V_INVALID)
        .reason("invalid", "rollback");
    assert_eq!(w.state("st").sequence, 4);
    w.put_latest(&s4, &[&alice, &carol]);
}

#[test]
fn invalid_rotations_are_rejected_by_the_verifier() {
    let w = World::new();
    let alice = w.keygen("alice");
    let bob = w.keygen("bob");
    let carol = w.keygen("carol");
    let dave = w.keygen("dave");
    w.init(&[&alice, &bob], 2);
    w.statement(T1, &[&alice, &bob]);
    w.publish(T1);
    std::fs::copy(
        w.path("site/.well-known/canary/trust.toml"),
        w.path("pinned-v1.toml"),
    )
    .expect("pin v1");

    // Each case: a copy of the site with rotations/000002.json holding `bytes`.
    let serve = |case: &str, bytes: &[u8]| -> Run {
        let site = format!("site-{case}");
        w.copy_dir("site", &site);
        w.write(
            &format!("{site}/.well-known/canary/rotations/000002.json"),
            bytes,
        );
        w.verify(&site, "pinned-v1.toml", None, T2)
    };

    // A rotation signed only by a new key. canary-sign signs it as a first
    // step (a new key must sign too) but reports it incomplete.
    w.signer(&[
        "rotate",
        "--dir",
        "f",
        "--draft",
        "--out",
        "r.json",
        "--add",
        "carol.pub",
        "--at",
        T2,
    ])
    .code(S_OK);
    w.signer(&[
        "sign",
        "r.json",
        "--dir",
        "f",
        "--key",
        "carol.key",
        "--out",
        "r-carol.json",
        "--at",
        T2,
    ])
    .code(S_OK)
    .out_has("old keys 0 of 2, new keys 1 of 2")
    .err_has("more signatures are needed");
    assert!(!w.exists("f/rotations/000002.json"), "--out was given");
    let only_new = w.read("r-carol.json");
    assert_eq!(
        parse_envelope(&only_new)
            .signatures()
            .iter()
            .map(|s| s.keyid.to_string())
            .collect::<Vec<_>>(),
        ids(&[&carol])
    );
    serve("only-new-keys", &only_new)
        .code(V_INVALID)
        .reason("invalid", "invalid-rotation");
    // Even with a threshold of new keys (carol and dave) but no old key.
    let to_new = rotation(ISSUER, 2, 2, &[&carol, &dave], T2);
    serve("new-set-only", &envelope(&to_new, &[&carol, &dave]))
        .code(V_INVALID)
        .reason("invalid", "invalid-rotation");
    // The old keys alone are not enough either: the new set must sign.
    serve("old-set-only", &envelope(&to_new, &[&alice, &bob]))
        .code(V_INVALID)
        .reason("invalid", "invalid-rotation")
        .out_has("new keys");
    // One old key of the two needed.
    let add_carol = rotation(ISSUER, 2, 2, &[&alice, &bob, &carol], T2);
    serve("one-old-key", &envelope(&add_carol, &[&alice, &carol]))
        .code(V_INVALID)
        .reason("invalid", "invalid-rotation");

    // A version gap: rotations/000002.json holding version 3.
    let gap = rotation(ISSUER, 3, 2, &[&alice, &bob, &carol], T2);
    serve("gap", &envelope(&gap, &[&alice, &bob, &carol]))
        .code(V_INVALID)
        .reason("invalid", "invalid-rotation")
        .out_has("expected version 2");

    // A rotation for another issuer, signed by every key.
    let other = rotation("evil.example", 2, 2, &[&alice, &bob, &carol], T2);
    serve("other-issuer", &envelope(&other, &[&alice, &bob, &carol]))
        .code(V_INVALID)
        .reason("invalid", "invalid-rotation")
        .out_has("evil.example");

    // Not an envelope at all.
    serve("garbage", b"{}\n")
        .code(V_INVALID)
        .reason("invalid", "invalid-rotation");

    // Control: the same crafting, done right, is accepted.
    serve("valid", &envelope(&add_carol, &[&alice, &bob])).code(V_OK);
}

#[test]
fn replayed_rotations_cannot_downgrade_a_rotated_reader() {
    let w = World::new();
    let k = three_versions(&w, |k| [&k.alice, &k.carol], false);
    let Keys { alice, bob, carol } = &k;
    let at = later(T3, 1);
    w.verify("site", "pinned-v1.toml", Some("st"), &at)
        .code(V_OK);
    assert_eq!(w.rotated_trust("st").version(), 3);

    let next = "site/.well-known/canary/rotations/000004.json";
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "rotation 3 replayed",
            w.read("site/.well-known/canary/rotations/000003.json"),
        ),
        (
            "rotation 2 replayed",
            w.read("site/.well-known/canary/rotations/000002.json"),
        ),
        (
            "version 2 content signed by the current keys",
            envelope(
                &rotation(ISSUER, 2, 2, &[alice, bob, carol], T3),
                &[alice, carol],
            ),
        ),
        (
            "version 3 content signed by the current keys",
            envelope(
                &rotation(ISSUER, 3, 2, &[alice, bob, carol], T3),
                &[alice, carol],
            ),
        ),
    ];
    for (what, bytes) in cases {
        w.write(next, &bytes);
        let out = w.verify("site", "pinned-v1.toml", Some("st"), &at);
        assert_eq!(out.code, Some(V_INVALID), "{what}: {}", out.show());
        out.reason("invalid", "invalid-rotation");
        assert_eq!(w.rotated_trust("st").version(), 3, "{what}");
        assert_eq!(w.state("st").sequence, 3, "{what}");
    }
    std::fs::remove_file(w.path(next)).expect("remove");
    w.verify("site", "pinned-v1.toml", Some("st"), &at)
        .code(V_OK);

    // Served without any rotation, the stored v3 still applies...
    std::fs::remove_dir_all(w.path("site/.well-known/canary/rotations")).expect("remove");
    w.verify("site", "pinned-v1.toml", Some("st"), &at)
        .code(V_OK);
    // ...and a statement by the removed key bob is still refused, although
    // it would meet the threshold of v1 and v2.
    let s4 = w.next_statement(T4);
    w.put_latest(&s4, &[alice, bob]);
    w.verify("site", "pinned-v1.toml", Some("st"), T4)
        .code(V_INVALID)
        .reason("invalid", "threshold-not-met");
    assert_eq!(w.state("st").sequence, 3);
}

#[test]
fn a_rotated_reader_still_verifies_the_history() {
    // Statement 2 and incident "outage" are signed by bob and carol: valid
    // only under trust version 2, which neither the v1 pin nor the stored v3
    // policy accepts.
    let w = World::new();
    three_versions(&w, |k| [&k.bob, &k.carol], true);
    let at = later(T3, 1);
    w.canary(&[
        "verify",
        "site",
        "--trust",
        "pinned-v1.toml",
        "--at",
        &at,
        "--history",
        "--incidents",
    ])
    .code(V_OK)
    .out_has("history: 3 statements")
    .out_has("incidents: 1 verified");
    w.verify("site", "pinned-v1.toml", Some("st"), &at)
        .code(V_OK);
    assert_eq!(w.rotated_trust("st").version(), 3);
    w.canary(&[
        "verify",
        "site",
        "--trust",
        "pinned-v1.toml",
        "--state",
        "st",
        "--at",
        &later(T3, 2),
        "--history",
        "--incidents",
    ])
    .code(V_OK)
    .out_has("history: 3 statements")
    .out_has("incidents: 1 verified");
    // Still from the stored policy: without the published rotations the
    // archive cannot be checked, but the latest statement still can.
    std::fs::remove_dir_all(w.path("site/.well-known/canary/rotations")).expect("remove");
    w.verify("site", "pinned-v1.toml", Some("st"), &later(T3, 3))
        .code(V_OK);
}

#[test]
fn a_panic_key_trips_every_verifier() {
    let w = World::new();
    let alice = w.keygen("alice");
    let bob = w.keygen("bob");
    let out = w.signer(&["keygen", "--name", "duress", "--panic", "--unencrypted"]);
    out.code(S_OK).err_has("panic_keys");
    let duress_pub = w.read_string("duress.pub");
    assert!(
        duress_pub.trim_end().ends_with("duress (panic key)"),
        "{duress_pub}"
    );
    let duress_key = duress_pub.split_whitespace().next().expect("the key");

    w.init(&[&alice, &bob], 2);
    let config = w.read_string("f/canary.toml");
    assert!(config.contains("\npanic_keys = []\n"), "{config}");
    w.write(
        "f/canary.toml",
        config.replace(
            "\npanic_keys = []\n",
            &format!("\npanic_keys = [\"{duress_key}\"]\n"),
        ),
    );
    w.statement(T1, &[&alice, &bob]);
    w.cosign("f/statements/000001.json", "duress.key", T1)
        .code(S_OK)
        .err_has("PANIC");
    w.publish(T1);
    assert!(
        w.read_string("site/.well-known/canary/trust.toml")
            .contains(duress_key),
        "the published policy names the panic key"
    );

    let out = w.verify("site", "site/.well-known/canary/trust.toml", Some("st"), T1);
    out.code(V_TRIPPED).reason("tripped", "panic-key");
    assert_eq!(out.signers(), ids(&[&alice, &bob]), "duress is no signer");
    assert!(
        !w.exists("st/example.org.json"),
        "a tripped canary is not recorded"
    );

    let out = w.canary(&[
        "show",
        "site",
        "--trust",
        "site/.well-known/canary/trust.toml",
        "--at",
        T1,
    ]);
    out.code(V_TRIPPED);
    assert!(
        out.stdout.starts_with("TRIPPED"),
        "the banner comes first: {}",
        out.show()
    );
    out.out_has("panic-key");
}

/// Serves the files under `root` on a loopback port (404 for anything
/// else, one connection per request). Returns the base URL.
fn serve(root: PathBuf) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let addr = listener.local_addr().expect("local address");
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let root = root.clone();
            std::thread::spawn(move || answer(&root, stream));
        }
    });
    format!("http://{addr}")
}

fn answer(root: &Path, stream: TcpStream) {
    let mut reader = BufReader::new(&stream);
    let mut request = String::new();
    if reader.read_line(&mut request).is_err() {
        return;
    }
    loop {
        let mut header = String::new();
        match reader.read_line(&mut header) {
            Ok(0) | Err(_) => break,
            Ok(_) if header.trim_end().is_empty() => break,
            Ok(_) => {}
        }
    }
    let target = request.split_whitespace().nth(1).unwrap_or("/");
    let body = target
        .strip_prefix('/')
        .filter(|rel| !rel.split('/').any(|s| s == ".." || s.is_empty()))
        .map(|rel| root.join(rel))
        .filter(|p| p.is_file())
        .and_then(|p| std::fs::read(p).ok());
    let (status, body) = match body {
        Some(b) => ("200 OK", b),
        None => ("404 Not Found", b"not found\n".to_vec()),
    };
    let mut stream = &stream;
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(&body);
    let _ = stream.flush();
}

#[test]
fn first_contact_pins_a_published_policy() {
    let w = World::new();
    let alice = w.keygen("alice");
    let bob = w.keygen("bob");
    let carol = w.keygen("carol");
    w.init(&[&alice, &bob], 2);
    w.statement(T1, &[&alice, &bob]);
    w.publish(T1);
    let base = serve(w.path("site"));
    let url = format!("{base}/.well-known/canary.json");
    let pin = w.path("config/canary/trust/example.org.toml");

    // A fingerprint that is not the issuer's: nothing is pinned.
    w.canary(&[
        "trust",
        "add",
        &url,
        "--fingerprint",
        &alice.id,
        "--fingerprint",
        &carol.id,
        "--threshold",
        "2",
    ])
    .code(V_INVALID)
    .out_has(&alice.id)
    .err_has("do not match");
    // Too few fingerprints are no match either.
    w.canary(&[
        "trust",
        "add",
        &url,
        "--fingerprint",
        &alice.id,
        "--threshold",
        "2",
    ])
    .code(V_INVALID);
    // Fingerprints confirm the keys; the threshold must be confirmed too.
    w.canary(&[
        "trust",
        "add",
        &url,
        "--fingerprint",
        &alice.id,
        "--fingerprint",
        &bob.id,
    ])
    .code(V_USAGE)
    .err_has("--threshold");
    w.canary(&[
        "trust",
        "add",
        &url,
        "--fingerprint",
        &alice.id,
        "--fingerprint",
        &bob.id,
        "--threshold",
        "1",
    ])
    .code(V_INVALID)
    .err_has("needs 2");
    // No fingerprint and no terminal to confirm on.
    w.canary(&["trust", "add", &url])
        .code(V_USAGE)
        .err_has("--fingerprint");
    assert!(!pin.exists(), "nothing was pinned");
    w.canary(&["trust", "list"])
        .code(V_OK)
        .out_has("no pinned issuers");

    // The right fingerprints (in any order) pin the policy.
    w.canary(&[
        "trust",
        "add",
        &url,
        "--fingerprint",
        &bob.id,
        "--fingerprint",
        &alice.id,
        "--threshold",
        "2",
    ])
    .code(V_OK)
    .out_has("pinned example.org");
    // Pinned from a URL, the pin is found again for that URL (whose host
    // is not the issuer's name).
    w.canary(&["verify", &url, "--at", T1, "--no-state"])
        .code(V_OK);
    let pinned = TrustPolicy::from_toml(&std::fs::read_to_string(&pin).expect("the pin file"))
        .expect("the pin parses");
    assert_eq!(
        (pinned.issuer(), pinned.version(), pinned.threshold()),
        (ISSUER, 1, 2)
    );

    // Verifying needs no trust options now.
    let out = w.canary(&[
        "verify",
        &url,
        "--issuer",
        ISSUER,
        "--at",
        T1,
        "--no-state",
        "--format",
        "json",
    ]);
    out.code(V_OK);
    assert_eq!(out.signers(), ids(&[&alice, &bob]));
    w.canary(&["trust", "list"])
        .code(V_OK)
        .out_has("example.org  version 1, 2 of 2 keys");

    // A second pin does not replace the first.
    let before = std::fs::read(&pin).expect("pin");
    w.canary(&[
        "trust",
        "add",
        &url,
        "--fingerprint",
        &alice.id,
        "--fingerprint",
        &bob.id,
        "--threshold",
        "2",
    ])
    .code(V_USAGE)
    .err_has("pinned already");
    assert_eq!(std::fs::read(&pin).expect("pin"), before);

    // Unpinned, the verifier has no trust and says how to get it.
    w.canary(&["trust", "remove", ISSUER]).code(V_OK);
    assert!(!pin.exists());
    w.canary(&["verify", &url, "--issuer", ISSUER, "--at", T1, "--no-state"])
        .code(V_USAGE)
        .err_has("canary trust add");
    w.canary(&["trust", "remove", ISSUER]).code(V_USAGE);

    // A local publish folder works as a source too.
    w.canary(&[
        "trust",
        "add",
        "site",
        "--fingerprint",
        &alice.id,
        "--fingerprint",
        &bob.id,
        "--threshold",
        "2",
    ])
    .code(V_OK);
    assert!(pin.exists());
    w.canary(&["verify", "site", "--issuer", ISSUER, "--at", T1])
        .code(V_OK);
}

#[test]
fn concurrent_verifiers_share_one_state_folder() {
    let w = World::new();
    let alice = w.keygen("alice");
    let bob = w.keygen("bob");
    w.init(&[&alice, &bob], 2);
    w.statement(T1, &[&alice, &bob]);
    w.publish(T1);
    std::fs::copy(
        w.path("site/.well-known/canary/trust.toml"),
        w.path("pinned-v1.toml"),
    )
    .expect("pin v1");
    // One rotation, so the first round also writes the rotated trust file.
    let carol = w.keygen("carol");
    w.rotate(&["--add", "carol.pub"], &alice, T2).code(S_OK);
    w.cosign("f/rotations/000002.json", &bob.file(), T2)
        .code(S_OK);
    w.statement(T2, &[&carol, &bob]);
    w.publish(T2);

    let mut last = String::new();
    for round in 0..20 {
        last = later(T2, round + 1);
        let args = [
            "verify",
            "site",
            "--trust",
            "pinned-v1.toml",
            "--state",
            "st",
            "--at",
            last.as_str(),
        ];
        let a = w.spawn_canary(&args);
        let b = w.spawn_canary(&args);
        // Collect them in alternating order.
        let (first, second) = if round % 2 == 0 { (a, b) } else { (b, a) };
        for child in [first, second] {
            let out = Run::from_output(
                format!("canary {} (round {round})", args.join(" ")),
                child.wait_with_output().expect("canary finishes"),
            );
            out.code(V_OK);
        }
    }

    let state = w.state("st");
    assert_eq!(state.issuer, ISSUER);
    assert_eq!(state.sequence, 2);
    assert_eq!(state.verified_at, ts(&last));
    assert_eq!(state.policy_version, 2);
    assert_eq!(w.rotated_trust("st").version(), 2);
    let mut names: Vec<String> = std::fs::read_dir(w.path("st"))
        .expect("the state folder")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "example.org.json",
            "example.org.lock",
            "example.org.trust.json"
        ],
        "no temporary files are left behind"
    );
}

#[test]
fn thresholds_count_distinct_trusted_keys() {
    let w = World::new();
    let alice = w.keygen("alice");
    let bob = w.keygen("bob");
    let mallory = w.keygen("mallory");
    w.init(&[&alice, &bob], 2);
    w.statement(T1, &[&alice, &bob]);
    w.publish(T1);
    let alice_pk = alice.signing.public_key().to_string();
    let bob_pk = bob.signing.public_key().to_string();

    // The same key listed twice counts once: 2 of {alice} is refused at load.
    w.write(
        "twice.toml",
        format!("issuer = \"{ISSUER}\"\nthreshold = 2\nkeys = [\"{alice_pk}\", \"{alice_pk}\"]\n"),
    );
    w.verify("site", "twice.toml", None, T1)
        .code(V_USAGE)
        .err_has("threshold 2");
    w.write(
        "two.toml",
        format!("issuer = \"{ISSUER}\"\nthreshold = 2\nkeys = [\"{alice_pk}\", \"{bob_pk}\"]\n"),
    );
    w.verify("site", "two.toml", None, T1).code(V_OK);

    // A signature under an unknown key id is ignored.
    let latest = "site/.well-known/canary.json";
    let mut env = parse_envelope(&w.read(latest));
    assert!(env.add_signature(&mallory.signing));
    w.write(latest, env.to_json());
    let out = w.verify("site", "two.toml", None, T1);
    out.code(V_OK);
    assert_eq!(out.signers(), ids(&[&alice, &bob]));

    // One key signing twice still counts once: alice's signature repeated
    // (and mallory's) does not make 2 of {alice, bob}.
    let alone = parse_envelope(&w.read("f/statements/000001.json"));
    let mut json: serde_json::Value =
        serde_json::from_slice(&w.read("f/statements/000001.json")).expect("JSON");
    let alice_sig = json["signatures"]
        .as_array()
        .expect("signatures")
        .iter()
        .find(|s| s["keyid"] == alice.id.as_str())
        .cloned()
        .expect("alice signed");
    let mut mallory_env = Envelope::sign(
        alone.payload_type(),
        alone.payload().to_vec(),
        &mallory.signing,
    );
    let mallory_sig: serde_json::Value =
        serde_json::from_slice(&mallory_env.to_json()).expect("JSON");
    json["signatures"] = serde_json::json!([
        alice_sig.clone(),
        alice_sig,
        mallory_sig["signatures"][0].clone()
    ]);
    w.write(latest, serde_json::to_vec(&json).expect("serialize"));
    w.verify("site", "two.toml", None, T1)
        .code(V_INVALID)
        .reason("invalid", "threshold-not-met");
    // With threshold 1 the same envelope is fine, signed by alice alone.
    w.write(
        "one.toml",
        format!("issuer = \"{ISSUER}\"\nthreshold = 1\nkeys = [\"{alice_pk}\", \"{bob_pk}\"]\n"),
    );
    let out = w.verify("site", "one.toml", None, T1);
    out.code(V_OK);
    assert_eq!(out.signers(), ids(&[&alice]));
    assert!(!mallory_env.add_signature(&mallory.signing), "signs once");
}
