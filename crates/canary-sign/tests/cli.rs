//! End-to-end tests of the real `canary-sign` binary (DESIGN §4 and §8).
//!
//! Every command runs in a scratch folder with an empty standard input (so
//! nothing can prompt), every date comes from `--at`, and every exit code is
//! checked exactly: 0 success; 1 refused, lint problems, `due`: sign now;
//! 2 error (arguments, files, wrong passphrase); 3 `due`: expired. Refusals
//! are checked to leave the issuer folder byte-for-byte unchanged.

mod util;

use canary_core::{
    Finding, IncidentRecord, IncidentStatus, MeasureKind, Statement, TrustPolicy, Verdict,
    VerifiedStatement, VerifyOptions, verify_document, verify_history, verify_statement,
};
use serde_json::{Value, json};
use util::{
    ERROR, EXPIRED, Key, OK, REFUSED, Scratch, argv, assert_mode, assert_unchanged, b64, envelope,
    payload_json, set_mode, snapshot, ts,
};

const ISSUER: &str = "example.org";
/// Statement 1 is issued at T1: next due 2026-04-05T10:00:00Z (90 days),
/// expires 2026-04-19T10:00:00Z (14 days later).
const T1: &str = "2026-01-05T10:00:00Z";
/// Statement 2 is issued at T2: next due 2026-05-30T09:00:00Z, expires
/// 2026-06-13T09:00:00Z.
const T2: &str = "2026-03-01T09:00:00Z";
const STMT1: &str = "org/statements/000001.json";
const STMT2: &str = "org/statements/000002.json";

// ---------------------------------------------------------------------------
// Fixtures

/// `canary-sign init` of `org/` for `keys` with `threshold`.
fn init(s: &Scratch, keys: &[&Key], threshold: u64) {
    let mut args = vec![
        "init".to_owned(),
        "--issuer".to_owned(),
        ISSUER.to_owned(),
        "--dir".to_owned(),
        "org".to_owned(),
        "--threshold".to_owned(),
        threshold.to_string(),
    ];
    for k in keys {
        args.push("--key".to_owned());
        args.push(k.key.replace(".key", ".pub"));
    }
    s.run(&argv(&[], &args))
        .code(OK)
        .stdout_has("created org/canary.toml");
}

/// `canary-sign sign INPUT --dir org --at AT` with `key`.
fn sign(s: &Scratch, input: &str, key: &Key, at: &str) -> util::Out {
    sign_with(s, input, key, at, &[])
}

/// Like [`sign`], with extra arguments.
fn sign_with(s: &Scratch, input: &str, key: &Key, at: &str, extra: &[&str]) -> util::Out {
    let key_args = key.args();
    let mut args = argv(&["sign", input, "--dir", "org", "--at", at], &key_args);
    args.extend_from_slice(extra);
    s.run(&args)
}

/// The draft `canary-sign new --dir org --at AT` prints on standard output.
fn new_draft(s: &Scratch, at: &str) -> Value {
    let out = s.run(&["new", "--dir", "org", "--at", at]);
    out.code(OK).stderr_has("drafted statement");
    serde_json::from_str(&out.stdout).expect("the draft on stdout is JSON")
}

/// An issuer folder with one unencrypted key (alice, threshold 1), statement
/// 1 signed at T1, and the draft of statement 2 at T2 (not yet written).
fn chain_fixture() -> (Scratch, Key, Value) {
    let s = Scratch::new();
    let alice = s.keygen("alice", None);
    init(&s, &[&alice], 1);
    s.write_json("draft1.json", &new_draft(&s, T1));
    sign(&s, "draft1.json", &alice, T1)
        .code(OK)
        .stdout_has("(1 of 1 signatures)");
    let draft2 = new_draft(&s, T2);
    (s, alice, draft2)
}

/// An issuer folder with alice and bob (threshold 2), encrypted or not, and
/// the draft of statement 1 at T1 in `draft1.json`.
fn two_key_fixture(encrypted: bool) -> (Scratch, Key, Key) {
    let s = Scratch::new();
    let (pa, pb) = if encrypted {
        (Some("alice's passphrase"), Some("bob's passphrase"))
    } else {
        (None, None)
    };
    let alice = s.keygen("alice", pa);
    let bob = s.keygen("bob", pb);
    init(&s, &[&alice, &bob], 2);
    s.write_json("draft1.json", &new_draft(&s, T1));
    (s, alice, bob)
}

fn policy(keys: &[&Key], threshold: u64) -> TrustPolicy {
    TrustPolicy::new(ISSUER, 1, threshold, keys.iter().map(|k| k.public), [])
        .expect("a valid trust policy")
}

fn verified_statement(bytes: &[u8], policy: &TrustPolicy, at: &str) -> VerifiedStatement {
    let report = verify_statement(bytes, policy, &VerifyOptions::at(ts(at)));
    assert_eq!(report.verdict(true), Verdict::Ok, "{:?}", report.findings);
    assert!(report.findings.is_empty(), "{:?}", report.findings);
    report.statement.expect("an authentic statement")
}

fn digest_of(envelope_bytes: &[u8]) -> String {
    canary_core::Digest::of(envelope(envelope_bytes).payload()).to_string()
}

// ---------------------------------------------------------------------------
// 1. The full workflow

#[test]
fn full_workflow_two_of_two_with_incident_and_due() {
    let s = Scratch::new();
    let alice = s.keygen("alice", Some("alice: correct horse battery"));
    let bob = s.keygen("bob", Some("bob: staple tuning fork"));
    init(&s, &[&alice, &bob], 2);
    let config = s.read_string("org/canary.toml");
    assert!(config.contains(&alice.public.to_string()), "{config}");
    assert!(config.contains(&bob.public.to_string()), "{config}");
    assert!(config.contains("threshold = 2"), "{config}");
    // The component the incident affects (the template has only "website").
    s.write(
        "org/canary.toml",
        format!(
            "{config}\n[[components]]\nid = \"push-notifications\"\nname = \"Push notifications\"\n"
        ),
    );

    // Statement 1: draft, sign (1 of 2), co-sign in place (2 of 2).
    s.run(&["new", "--dir", "org", "--at", T1, "--out", "draft1.json"])
        .code(OK)
        .stderr_has("drafted statement 1 of example.org");
    let d1 = s.read_json("draft1.json");
    assert_eq!(d1["issuer"], ISSUER);
    assert_eq!(d1["sequence"], 1);
    assert_eq!(d1["issued_at"], T1);
    assert_eq!(d1["next_due"], "2026-04-05T10:00:00Z");
    assert_eq!(d1["expires_at"], "2026-04-19T10:00:00Z");
    assert!(d1.get("previous").is_none(), "{d1}");
    assert!(d1.get("incidents").is_none(), "{d1}");
    assert_eq!(d1["statements"][0]["id"], "no-warrants");
    assert_eq!(d1["statements"].as_array().map(Vec::len), Some(5));

    sign(&s, "draft1.json", &alice, T1)
        .code(OK)
        .stdout_has("signed statement 1 of example.org")
        .stdout_has("(1 of 2 signatures)")
        .stderr_has("more signatures are needed");
    let one_sig = s.read(STMT1);
    assert_eq!(envelope(&one_sig).signatures().len(), 1);
    assert_mode(&s.path(STMT1), 0o644);

    sign(&s, STMT1, &bob, T1)
        .code(OK)
        .stdout_has("(2 of 2 signatures)");
    let stmt1 = s.read(STMT1);
    assert_eq!(
        envelope(&stmt1).payload(),
        envelope(&one_sig).payload(),
        "co-signing must not touch the payload bytes"
    );
    assert_eq!(payload_json(&stmt1), payload_json(&one_sig));
    let signers: Vec<_> = envelope(&stmt1)
        .signatures()
        .iter()
        .map(|sig| sig.keyid)
        .collect();
    assert_eq!(signers, vec![alice.public.id(), bob.public.id()]);
    assert_mode(&s.path(STMT1), 0o644);

    // An incident: opened, updated, resolved; each version co-signed.
    let id = "2026-02-push-certificate";
    let dir = format!("org/incidents/{id}");
    let versions: Vec<String> = (1..=3).map(|v| format!("{dir}/{v:06}.json")).collect();
    let a = alice.args();
    let at1 = "2026-02-01T08:00:00Z";
    s.run(&argv(
        &[
            "incident",
            "new",
            "--dir",
            "org",
            "--id",
            id,
            "--title",
            "Push notifications failed",
            "--impact",
            "major",
            "--affected",
            "push-notifications",
            "--message",
            "Push notifications are not delivered; we are investigating.",
            "--at",
            at1,
        ],
        &a,
    ))
    .code(OK)
    .stdout_has("version 1")
    .stdout_has("(1 of 2 signatures)");
    sign(&s, &versions[0], &bob, at1)
        .code(OK)
        .stdout_has("(2 of 2 signatures)");

    let at2 = "2026-02-01T09:30:00Z";
    s.run(&argv(
        &[
            "incident",
            "update",
            "--dir",
            "org",
            "--id",
            id,
            "--status",
            "identified",
            "--message",
            "The push certificate expired.",
            "--what-happened",
            "The APNs certificate expired on 1 February.",
            "--done",
            "mitigate:Installed a renewed certificate",
            "--at",
            at2,
        ],
        &a,
    ))
    .code(OK)
    .stdout_has("version 2");
    sign(&s, &versions[1], &bob, at2).code(OK);

    let at3 = "2026-02-01T11:00:00Z";
    s.run(&argv(
        &[
            "incident",
            "resolve",
            "--dir",
            "org",
            "--id",
            id,
            "--message",
            "Delivery is back to normal.",
            "--measure",
            "prevent:Alert 30 days before any certificate expires",
            "--at",
            at3,
        ],
        &a,
    ))
    .code(OK)
    .stdout_has("version 3");
    sign(&s, &versions[2], &bob, at3).code(OK);

    let both = policy(&[&alice, &bob], 2);
    let records: Vec<_> = versions
        .iter()
        .map(|p| {
            assert!(s.exists(p), "{p}");
            verify_document::<IncidentRecord>(&s.read(p), &both)
                .unwrap_or_else(|f| panic!("{p} verifies 2 of 2: {f:?}"))
        })
        .collect();
    let entries: Vec<_> = std::fs::read_dir(s.path(&dir))
        .expect("incident folder")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(entries.len(), 3, "only the three versions: {entries:?}");
    for (i, r) in records.iter().enumerate() {
        let doc = r.document();
        assert_eq!(doc.id, id);
        assert_eq!(doc.version, i as u64 + 1);
        assert_eq!(doc.updates.len(), i + 1, "one update appended per version");
        if i == 0 {
            assert_eq!(doc.previous, None);
        } else {
            let prev = &records[i - 1];
            assert_eq!(doc.previous, Some(prev.digest()), "version {}", i + 1);
            assert!(
                doc.updates.starts_with(&prev.document().updates),
                "updates are only appended"
            );
        }
    }
    let (v1, v2, v3) = (
        records[0].document(),
        records[1].document(),
        records[2].document(),
    );
    assert_eq!(v1.status, IncidentStatus::Investigating);
    assert_eq!(v1.affected, vec!["push-notifications".to_owned()]);
    assert_eq!(v1.resolved_at, None);
    assert_eq!(v2.status, IncidentStatus::Identified);
    assert_eq!(
        v2.what_happened,
        "The APNs certificate expired on 1 February."
    );
    assert_eq!(v2.measures.len(), 1);
    assert!(v2.measures[0].done && v2.measures[0].kind == MeasureKind::Mitigate);
    assert_eq!(v3.status, IncidentStatus::Resolved);
    assert_eq!(v3.resolved_at, Some(ts(at3)));
    assert_eq!(v3.measures.len(), 2);
    assert!(!v3.measures[1].done && v3.measures[1].kind == MeasureKind::Prevent);
    let last = v3.updates.last().expect("an update");
    assert_eq!(last.status, IncidentStatus::Resolved);
    assert_eq!(last.at, ts(at3));
    assert_eq!(last.body, "Delivery is back to normal.");

    // Statement 2 lists the incident at version 3 and chains to statement 1.
    let d2 = new_draft(&s, T2);
    assert_eq!(d2["sequence"], 2);
    assert_eq!(d2["issued_at"], T2);
    assert_eq!(d2["next_due"], "2026-05-30T09:00:00Z");
    assert_eq!(d2["expires_at"], "2026-06-13T09:00:00Z");
    assert_eq!(d2["previous"], digest_of(&stmt1));
    assert_eq!(
        d2["incidents"],
        json!([{"id": id, "version": 3, "digest": records[2].digest().to_string()}])
    );
    s.write_json("draft2.json", &d2);
    s.run(&["lint", "draft2.json", "--dir", "org", "--at", T2])
        .code(OK)
        .stdout_has("draft2.json: ok");
    sign(&s, "draft2.json", &alice, T2)
        .code(OK)
        .stdout_has("(1 of 2 signatures)");
    sign(&s, STMT2, &bob, T2)
        .code(OK)
        .stdout_has("(2 of 2 signatures)");
    let stmt2 = s.read(STMT2);
    for p in [STMT1, STMT2] {
        s.run(&["lint", p, "--dir", "org", "--at", T2])
            .code(OK)
            .stdout_has(": ok");
    }

    // A reader pinning both keys (threshold 2) accepts the chain.
    let s1 = verified_statement(&stmt1, &both, "2026-01-06T00:00:00Z");
    let s2 = verified_statement(&stmt2, &both, "2026-03-02T00:00:00Z");
    assert_eq!(s2.document().previous, Some(s1.digest()));
    assert_eq!(s2.signers().len(), 2);
    assert_eq!(verify_history(None, &[s1, s2]), Vec::<Finding>::new());

    // `due`, human and JSON, at several times.
    let cases = [
        ("2026-03-02T00:00:00Z", OK, "ok", "is current"),
        ("2026-05-16T08:59:59Z", OK, "ok", "is current"),
        ("2026-05-16T09:00:00Z", REFUSED, "due", "sign now"),
        ("2026-05-23T00:00:00Z", REFUSED, "due", "sign now"),
        ("2026-05-30T09:00:00Z", REFUSED, "late", "was due"),
        ("2026-06-05T00:00:00Z", REFUSED, "late", "sign now"),
        ("2026-06-13T09:00:00Z", EXPIRED, "expired", "EXPIRED"),
        ("2026-09-01T00:00:00Z", EXPIRED, "expired", "stale canary"),
    ];
    for (at, code, status, words) in cases {
        s.run(&["due", "--dir", "org", "--at", at])
            .code(code)
            .stdout_has(words);
        let out = s.run(&["due", "--dir", "org", "--at", at, "--format", "json"]);
        out.code(code);
        let v: Value = serde_json::from_str(&out.stdout)
            .unwrap_or_else(|e| panic!("due --format json at {at}: {e}: {}", out.stdout));
        assert_eq!(v["status"], status, "at {at}: {v}");
        assert_eq!(v["issuer"], ISSUER);
        assert_eq!(v["sequence"], 2);
        assert_eq!(v["now"], at);
        assert_eq!(v["next_due"], "2026-05-30T09:00:00Z");
        assert_eq!(v["expires_at"], "2026-06-13T09:00:00Z");
    }
    // A wider reminder window starts earlier.
    s.run(&[
        "due",
        "--dir",
        "org",
        "--at",
        "2026-05-01T00:00:00Z",
        "--warn-before",
        "30d",
    ])
    .code(REFUSED);
}

// ---------------------------------------------------------------------------
// 2. Key files

const PASS: &str = "correct-horse-7f3a9-battery";

#[test]
fn keygen_writes_a_private_key_file_and_a_public_one() {
    let s = Scratch::new();
    s.write("pass.txt", format!("{PASS}\n"));
    let out = s.run(&[
        "keygen",
        "--name",
        "alice",
        "--dir",
        "keys",
        "--passphrase-file",
        "pass.txt",
    ]);
    out.code(OK)
        .stdout_has("secret key: keys/alice.key (mode 0600)")
        .stdout_has("public key: keys/alice.pub")
        .stdout_has("key id:")
        .stderr_has("add the public key to [trust] keys")
        .never_says(PASS)
        .never_says("NOT encrypted");
    assert_mode(&s.path("keys/alice.key"), 0o600);
    assert_mode(&s.path("keys/alice.pub"), 0o644);

    let public = s.read_string("keys/alice.pub");
    let (key, comment) = canary_core::PublicKey::from_pub_file(&public).expect("pub file");
    assert_eq!(comment, "alice");
    assert!(out.stdout.contains(&key.to_string()), "{}", out.stdout);
    assert!(out.stdout.contains(&key.id().to_string()), "{}", out.stdout);

    let secret = s.read_string("keys/alice.key");
    let lines: Vec<&str> = secret.lines().collect();
    assert_eq!(lines.len(), 5, "{secret}");
    assert_eq!(lines[0], "canary-secret-key v1");
    assert_eq!(lines[1], format!("public {key}"));
    assert!(
        lines[2].starts_with("kdf argon2id v=19 m=65536 t=3 p=1 salt="),
        "{secret}"
    );
    assert!(
        lines[3].starts_with("aead xchacha20poly1305 nonce="),
        "{secret}"
    );
    assert!(lines[4].starts_with("secret "), "{secret}");
    assert!(!secret.contains(PASS));
}

#[test]
fn keygen_refuses_to_overwrite() {
    let s = Scratch::new();
    let alice = s.keygen("alice", Some(PASS));
    let before = snapshot(&s.path("keys"));
    for extra in [
        &["--passphrase-file", "keys/alice.pass"][..],
        &["--unencrypted"][..],
    ] {
        let mut args = vec!["keygen", "--name", "alice", "--dir", "keys"];
        args.extend_from_slice(extra);
        s.run(&args)
            .code(ERROR)
            .stderr_has("already exists; refusing to overwrite");
        assert_unchanged(&s.path("keys"), &before, "keygen over an existing pair");
    }
    // Either half existing is enough to refuse.
    std::fs::remove_file(s.path(&alice.key)).expect("remove the secret key");
    let before = snapshot(&s.path("keys"));
    s.run(&[
        "keygen",
        "--name",
        "alice",
        "--dir",
        "keys",
        "--unencrypted",
    ])
    .code(ERROR)
    .stderr_has("alice.pub already exists");
    assert_unchanged(&s.path("keys"), &before, "keygen over an existing .pub");
}

#[test]
fn keygen_rejects_bad_names_and_missing_passphrases_writing_nothing() {
    let s = Scratch::new();
    std::fs::create_dir(s.path("keys")).expect("mkdir");
    s.write("empty.pass", "\n");
    let cases: [(&[&str], &str); 5] = [
        (&["--name", "../evil", "--unencrypted"], "plain file name"),
        (&["--name", ".hidden", "--unencrypted"], "plain file name"),
        // No terminal to ask on: an error, not a hang.
        (&["--name", "alice"], "--passphrase-file"),
        (
            &["--name", "alice", "--passphrase-file", "empty.pass"],
            "passphrase is empty",
        ),
        (
            &["--name", "alice", "--passphrase-file", "missing.pass"],
            "cannot read passphrase file",
        ),
    ];
    for (extra, message) in cases {
        let mut args = vec!["keygen", "--dir", "keys"];
        args.extend_from_slice(extra);
        s.run(&args).code(ERROR).stderr_has(message);
        assert!(
            snapshot(&s.path("keys")).is_empty(),
            "{extra:?} wrote a file"
        );
    }
    assert!(!s.exists("evil.key") && !s.exists("evil.pub"));
    // --unencrypted and --passphrase-file contradict each other.
    s.run(&[
        "keygen",
        "--name",
        "alice",
        "--dir",
        "keys",
        "--unencrypted",
        "--passphrase-file",
        "empty.pass",
    ])
    .code(ERROR);
    assert!(snapshot(&s.path("keys")).is_empty());
}

#[test]
fn unencrypted_keygen_warns_loudly() {
    let s = Scratch::new();
    s.run(&["keygen", "--name", "ci", "--dir", "keys", "--unencrypted"])
        .code(OK)
        .stderr_has("NOT encrypted")
        .stdout_has("secret key: keys/ci.key (mode 0600)");
    assert_mode(&s.path("keys/ci.key"), 0o600);
    assert_mode(&s.path("keys/ci.pub"), 0o644);
    let secret = s.read_string("keys/ci.key");
    assert!(secret.contains("\nkdf none\naead none\n"), "{secret}");
}

#[test]
fn wrong_passphrase_is_an_error_and_writes_nothing() {
    let s = Scratch::new();
    let alice = s.keygen("alice", Some(PASS));
    init(&s, &[&alice], 1);
    s.write_json("draft1.json", &new_draft(&s, T1));
    s.write("wrong.pass", "not the passphrase\n");
    let before = snapshot(&s.path("org"));

    let cases: [(&[&str], &str); 3] = [
        (
            &["--passphrase-file", "wrong.pass"],
            "wrong passphrase, or the key file was modified",
        ),
        (
            &["--passphrase-file", "nowhere.pass"],
            "cannot read passphrase file",
        ),
        (&[], "no terminal"),
    ];
    for (pass_args, message) in cases {
        let mut args = vec![
            "sign",
            "draft1.json",
            "--dir",
            "org",
            "--at",
            T1,
            "--key",
            &alice.key,
        ];
        args.extend_from_slice(pass_args);
        s.run(&args)
            .code(ERROR)
            .stderr_has(message)
            .never_says(PASS)
            .never_says("not the passphrase");
        assert_unchanged(&s.path("org"), &before, message);
        assert!(!s.exists("org/statements"));
    }
    // The same command with the right passphrase signs.
    sign(&s, "draft1.json", &alice, T1).code(OK);
    assert!(s.exists(STMT1));
}

/// Replaces the first base64 character after `prefix` (keeps it strict
/// base64 of the same length).
fn flip_after(text: &str, prefix: &str) -> String {
    let at = text.find(prefix).expect("field present") + prefix.len();
    let mut bytes = text.as_bytes().to_vec();
    bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
    String::from_utf8(bytes).expect("ASCII")
}

#[test]
fn tampered_key_files_are_refused_and_nothing_is_written() {
    let s = Scratch::new();
    let alice = s.keygen("alice", Some(PASS));
    let other = s.keygen("other", None);
    // Both keys may sign: a public line swapped for the other's passes the
    // trust check (made before any passphrase) and meets the AEAD's.
    init(&s, &[&alice, &other], 1);
    s.write_json("draft1.json", &new_draft(&s, T1));
    let original = s.read_string(&alice.key);
    assert!(original.contains(" m=65536 t=3 "), "{original}");
    let before = snapshot(&s.path("org"));

    let authenticated = "wrong passphrase, or the key file was modified";
    let cases = [
        (
            "m digit",
            original.replace(" m=65536 ", " m=65535 "),
            authenticated,
        ),
        ("t digit", original.replace(" t=3 ", " t=2 "), authenticated),
        (
            "public line",
            original.replace(&alice.public.to_string(), &other.public.to_string()),
            authenticated,
        ),
        ("salt", flip_after(&original, "salt="), authenticated),
        ("nonce", flip_after(&original, "nonce="), authenticated),
        (
            "ciphertext",
            flip_after(&original, "\nsecret "),
            authenticated,
        ),
        (
            "absurd m",
            original.replace(" m=65536 ", " m=99999999 "),
            "out of range",
        ),
        (
            "leading zero",
            original.replace(" t=3 ", " t=03 "),
            "not a canary secret key file",
        ),
        (
            "missing line",
            original.lines().take(4).collect::<Vec<_>>().join("\n") + "\n",
            "exactly five lines",
        ),
        (
            "not a key file",
            "hello\n".to_owned(),
            "not a canary secret key file",
        ),
    ];
    for (what, text, message) in cases {
        assert_ne!(text, original, "{what}: the tamper changed nothing");
        let path = s.write("keys/tampered.key", &text);
        set_mode(&path, 0o600);
        s.run(&[
            "sign",
            "draft1.json",
            "--dir",
            "org",
            "--at",
            T1,
            "--key",
            "keys/tampered.key",
            "--passphrase-file",
            "keys/alice.pass",
        ])
        .code(ERROR)
        .stderr_has(message)
        .never_says(PASS);
        assert_unchanged(&s.path("org"), &before, what);
    }

    // An unencrypted key whose public line names another key.
    let plain = s.read_string(&other.key);
    let swapped = plain.replace(&other.public.to_string(), &alice.public.to_string());
    set_mode(&s.write("keys/swapped.key", swapped), 0o600);
    s.run(&[
        "sign",
        "draft1.json",
        "--dir",
        "org",
        "--at",
        T1,
        "--key",
        "keys/swapped.key",
    ])
    .code(ERROR)
    .stderr_has("does not match its secret key");
    assert_unchanged(&s.path("org"), &before, "swapped public line");

    // The untampered text, written the same way, still signs.
    set_mode(&s.write("keys/tampered.key", &original), 0o600);
    s.run(&[
        "sign",
        "draft1.json",
        "--dir",
        "org",
        "--at",
        T1,
        "--key",
        "keys/tampered.key",
        "--passphrase-file",
        "keys/alice.pass",
    ])
    .code(OK);
}

#[test]
#[cfg(unix)] // group and world bits are a Unix rule
fn readable_key_files_are_refused_with_a_chmod_hint() {
    let s = Scratch::new();
    let alice = s.keygen("alice", Some(PASS));
    init(&s, &[&alice], 1);
    s.write_json("draft1.json", &new_draft(&s, T1));
    let before = snapshot(&s.path("org"));
    for bits in [0o644, 0o640, 0o604] {
        set_mode(&s.path(&alice.key), bits);
        sign(&s, "draft1.json", &alice, T1)
            .code(ERROR)
            .stderr_has("readable by other users")
            .stderr_has("chmod 600 keys/alice.key");
        assert_unchanged(&s.path("org"), &before, &format!("mode {bits:o}"));
    }
    set_mode(&s.path(&alice.key), 0o600);
    sign(&s, "draft1.json", &alice, T1).code(OK);
}

/// A public key file or a folder given as the secret key is told what it
/// is, never to `chmod` it.
#[test]
fn a_public_key_or_a_folder_as_the_secret_key_is_named_for_what_it_is() {
    let s = Scratch::new();
    let alice = s.keygen("alice", Some(PASS));
    init(&s, &[&alice], 1);
    s.write_json("draft1.json", &new_draft(&s, T1));
    let before = snapshot(&s.path("org"));
    let public = alice.key.replace(".key", ".pub");
    assert!(s.path(&public).is_file(), "{public}");
    for (key, says) in [
        (public.as_str(), "is a public key"),
        ("keys", "is a folder"),
    ] {
        let wrong = Key {
            key: key.to_owned(),
            pass: alice.pass.clone(),
            public: alice.public,
        };
        let out = sign(&s, "draft1.json", &wrong, T1);
        out.code(ERROR).stderr_has(says);
        assert!(!out.stderr.contains("chmod"), "{}", out.stderr);
        assert_unchanged(&s.path("org"), &before, key);
    }
}

#[test]
fn the_passphrase_never_appears_in_any_output() {
    let s = Scratch::new();
    let alice = s.keygen("alice", Some(PASS));
    init(&s, &[&alice], 1);
    s.write_json("draft1.json", &new_draft(&s, T1));
    let wrong = "wrong-horse-0b1c2-battery";
    s.write("wrong.pass", wrong);
    let outs = [
        s.run(&[
            "keygen",
            "--name",
            "bob",
            "--dir",
            "keys",
            "--passphrase-file",
            "keys/alice.pass",
        ]),
        s.run(&[
            "sign",
            "draft1.json",
            "--dir",
            "org",
            "--at",
            T1,
            "--key",
            &alice.key,
            "--passphrase-file",
            "wrong.pass",
        ]),
        sign(&s, "draft1.json", &alice, T1),
        sign(&s, STMT1, &alice, T1),
        s.run(&["lint", STMT1, "--dir", "org", "--at", T1]),
    ];
    let codes: Vec<_> = outs.iter().map(|o| o.code).collect();
    assert_eq!(
        codes,
        vec![Some(OK), Some(ERROR), Some(OK), Some(REFUSED), Some(OK)]
    );
    for out in &outs {
        out.never_says(PASS).never_says(wrong);
    }
    for file in ["keys/alice.key", "keys/bob.key", "keys/alice.pub", STMT1] {
        let text = String::from_utf8_lossy(&s.read(file)).into_owned();
        assert!(!text.contains(PASS), "{file} holds the passphrase");
    }
}

// ---------------------------------------------------------------------------
// 3. Refusals leave the issuer folder untouched

/// Signs `draft` (written to `name`) and expects a refusal naming `needle`,
/// with the folder unchanged.
fn expect_refusal(s: &Scratch, key: &Key, name: &str, draft: &Value, needle: &str) {
    let before = snapshot(&s.path("org"));
    s.write_json(name, draft);
    sign(s, name, key, T2)
        .code(REFUSED)
        .stderr_has("was refused; nothing was written")
        .stderr_has(needle);
    assert_unchanged(&s.path("org"), &before, name);
}

#[test]
fn refuses_chain_mismatches() {
    let (s, alice, draft) = chain_fixture();
    let good_previous = draft["previous"].as_str().expect("previous").to_owned();
    assert_eq!(good_previous, digest_of(&s.read(STMT1)));

    let mut d = draft.clone();
    d["previous"] = json!(format!("sha256:{}", "0".repeat(64)));
    expect_refusal(
        &s,
        &alice,
        "previous.json",
        &d,
        &format!("previous: must be {good_previous} (the digest of statement 1)"),
    );

    let mut d = draft.clone();
    d.as_object_mut().expect("object").remove("previous");
    expect_refusal(&s, &alice, "no-previous.json", &d, "previous: is required");

    let mut d = draft.clone();
    d["sequence"] = json!(3);
    expect_refusal(&s, &alice, "seq3.json", &d, "sequence: must be 2");

    let mut d = draft.clone();
    d["issued_at"] = json!("2026-01-05T09:00:00Z");
    expect_refusal(
        &s,
        &alice,
        "earlier.json",
        &d,
        "issued_at: must be after the previous statement's 2026-01-05T10:00:00Z",
    );

    let mut d = draft.clone();
    d["issuer"] = json!("example.com");
    expect_refusal(&s, &alice, "issuer.json", &d, "issuer: is \"example.com\"");

    // From the future, and already expired, relative to --at.
    let mut d = draft.clone();
    d["issued_at"] = json!("2026-03-01T09:05:01Z");
    expect_refusal(&s, &alice, "future.json", &d, "issued_at: is in the future");
    s.write_json("late.json", &draft);
    let before = snapshot(&s.path("org"));
    sign(&s, "late.json", &alice, "2026-06-13T09:00:00Z")
        .code(REFUSED)
        .stderr_has("expires_at: has passed already");
    assert_unchanged(&s.path("org"), &before, "expired draft");

    // The untouched draft signs.
    s.write_json("draft2.json", &draft);
    sign(&s, "draft2.json", &alice, T2).code(OK);
}

#[test]
fn refuses_expiry_more_than_a_year_after_issue() {
    let (s, alice, draft) = chain_fixture();
    let mut d = draft.clone();
    d["expires_at"] = json!("2027-03-01T09:00:01Z");
    expect_refusal(
        &s,
        &alice,
        "too-far.json",
        &d,
        "expires_at: is more than 1 year after issued_at",
    );
    // Exactly one year is the limit, and allowed.
    d["expires_at"] = json!("2027-03-01T09:00:00Z");
    s.write_json("one-year.json", &d);
    s.run(&["lint", "one-year.json", "--dir", "org", "--at", T2])
        .code(OK)
        .stdout_has("one-year.json: ok");
    sign(&s, "one-year.json", &alice, T2).code(OK);
}

#[test]
fn refuses_silent_statement_removal_unless_allowed() {
    let (s, alice, draft) = chain_fixture();
    let mut d = draft.clone();
    let removed = d["statements"]
        .as_array_mut()
        .expect("statements")
        .remove(1);
    assert_eq!(removed["id"], "no-gag-orders");
    expect_refusal(
        &s,
        &alice,
        "removed.json",
        &d,
        "statements: promise \"no-gag-orders\" was removed",
    );
    sign(&s, "removed.json", &alice, T2)
        .code(REFUSED)
        .stderr_has("--allow-statement-change");
    s.run(&["lint", "removed.json", "--dir", "org", "--at", T2])
        .code(REFUSED)
        .stdout_has("removed.json: statements: ");

    sign_with(
        &s,
        "removed.json",
        &alice,
        T2,
        &["--allow-statement-change"],
    )
    .code(OK);
    // Readers see it for what it is.
    let p = policy(&[&alice], 1);
    let chain = [
        verified_statement(&s.read(STMT1), &p, T2),
        verified_statement(&s.read(STMT2), &p, T2),
    ];
    let findings = verify_history(None, &chain);
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert_eq!(findings[0].code(), "statement-removed");
    assert_eq!(findings[0].verdict(), Verdict::Tripped);
}

#[test]
fn refuses_silent_rewording_unless_allowed() {
    let (s, alice, draft) = chain_fixture();
    let mut d = draft.clone();
    d["statements"][0]["text"] =
        json!("We have never received a search warrant that we can tell you about.");
    expect_refusal(
        &s,
        &alice,
        "reworded.json",
        &d,
        "statements: promise \"no-warrants\" was reworded",
    );
    sign_with(
        &s,
        "reworded.json",
        &alice,
        T2,
        &["--allow-statement-change"],
    )
    .code(OK);
    let p = policy(&[&alice], 1);
    let chain = [
        verified_statement(&s.read(STMT1), &p, T2),
        verified_statement(&s.read(STMT2), &p, T2),
    ];
    let findings = verify_history(None, &chain);
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert_eq!(findings[0].code(), "statement-changed");
}

#[test]
fn adding_a_promise_needs_no_flag() {
    let (s, alice, mut draft) = chain_fixture();
    draft["statements"]
        .as_array_mut()
        .expect("statements")
        .push(json!({"id": "no-raids", "text": "We have never been raided."}));
    s.write_json("draft2.json", &draft);
    sign(&s, "draft2.json", &alice, T2).code(OK);
}

#[test]
fn refuses_invalid_draft_fields_naming_the_field() {
    let (s, alice, draft) = chain_fixture();
    let edit = |f: &dyn Fn(&mut Value)| {
        let mut d = draft.clone();
        f(&mut d);
        d
    };
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "bad slug",
            edit(&|d| d["statements"][0]["id"] = json!("No Warrants")),
            "statements[0].id: \"No Warrants\" is not a slug",
        ),
        (
            "duplicate id",
            edit(&|d| {
                let first = d["statements"][0].clone();
                d["statements"].as_array_mut().expect("array").push(first);
            }),
            "statements: id \"no-warrants\" appears twice",
        ),
        (
            "unknown field",
            edit(&|d| d["colour"] = json!("red")),
            "unknown field `colour`",
        ),
        (
            "unknown nested field",
            edit(&|d| d["statements"][0]["lang"] = json!("en")),
            "unknown field `lang`",
        ),
        (
            "sequence 0",
            edit(&|d| d["sequence"] = json!(0)),
            "sequence: must be at least 1",
        ),
        (
            "null",
            edit(&|d| d["notes"] = Value::Null),
            "notes: null is not allowed",
        ),
        (
            "nested null",
            edit(&|d| d["statements"][1]["text"] = Value::Null),
            "statements[1].text: null is not allowed",
        ),
        (
            "float",
            edit(&|d| d["sequence"] = json!(2.5)),
            "sequence: 2.5 is not an integer",
        ),
        (
            "integral float",
            edit(&|d| d["sequence"] = json!(2.0)),
            "sequence: 2.0 is not an integer",
        ),
        (
            "negative",
            edit(&|d| d["sequence"] = json!(-2)),
            "sequence: -2 is negative",
        ),
        (
            "above 2^53-1",
            edit(&|d| d["sequence"] = json!(9_007_199_254_740_992_u64)),
            "sequence: 9007199254740992 is larger than 2^53-1",
        ),
        (
            "timestamp with a space",
            edit(&|d| d["issued_at"] = json!("2026-03-01 09:00:00")),
            "\"2026-03-01 09:00:00\" is not of the form YYYY-MM-DDTHH:MM:SSZ",
        ),
        (
            "next_due before issued_at",
            edit(&|d| d["next_due"] = json!("2026-02-01T00:00:00Z")),
            "next_due",
        ),
    ];
    for (i, (what, d, needle)) in cases.iter().enumerate() {
        let name = format!("bad{i}.json");
        let before = snapshot(&s.path("org"));
        s.write_json(&name, d);
        sign(&s, &name, &alice, T2)
            .code(REFUSED)
            .stderr_has("refused; nothing was written")
            .stderr_has(needle);
        s.run(&["lint", &name, "--dir", "org", "--at", T2])
            .code(REFUSED)
            .stdout_has(needle);
        assert_unchanged(&s.path("org"), &before, what);
    }
    // A duplicate key cannot be told apart by a JSON tree: still refused.
    let text = serde_json::to_string_pretty(&draft)
        .expect("json")
        .replacen("\"sequence\": 2,", "\"sequence\": 2, \"sequence\": 2,", 1);
    s.write("dup-key.json", text);
    let before = snapshot(&s.path("org"));
    sign(&s, "dup-key.json", &alice, T2)
        .code(REFUSED)
        .stderr_has("duplicate key \"sequence\"");
    assert_unchanged(&s.path("org"), &before, "duplicate key");
}

#[test]
fn refuses_a_key_not_in_canary_toml() {
    let (s, _alice, draft) = chain_fixture();
    let carol = s.keygen("carol", None);
    s.write_json("draft2.json", &draft);
    let before = snapshot(&s.path("org"));
    sign(&s, "draft2.json", &carol, T2)
        .code(REFUSED)
        .stderr_has("is not one of the signing keys")
        .stderr_has("hint: add it to [trust] keys");
    sign(&s, STMT1, &carol, T2)
        .code(REFUSED)
        .stderr_has("is not one of the signing keys");
    assert_unchanged(&s.path("org"), &before, "untrusted key");
}

#[test]
fn refuses_cosigning_twice_with_the_same_key() {
    let (s, alice, bob) = two_key_fixture(false);
    sign(&s, "draft1.json", &alice, T1)
        .code(OK)
        .stdout_has("(1 of 2 signatures)");
    let before = snapshot(&s.path("org"));
    sign(&s, STMT1, &alice, T1)
        .code(REFUSED)
        .stderr_has("is already signed by this key");
    assert_unchanged(&s.path("org"), &before, "second signature by alice");
    sign(&s, STMT1, &bob, T1)
        .code(OK)
        .stdout_has("(2 of 2 signatures)");
    let before = snapshot(&s.path("org"));
    for key in [&alice, &bob] {
        sign(&s, STMT1, key, T1)
            .code(REFUSED)
            .stderr_has("is already signed by this key");
    }
    assert_unchanged(&s.path("org"), &before, "third signature");
    assert_eq!(envelope(&s.read(STMT1)).signatures().len(), 2);
}

#[test]
fn refuses_a_draft_for_an_already_signed_sequence() {
    let (s, alice, draft2) = chain_fixture();
    let signed1 = payload_json(&s.read(STMT1));

    // Different content under sequence 1: a broken rule.
    let mut d = signed1.clone();
    d["notes"] = json!("A second statement 1.");
    expect_refusal(
        &s,
        &alice,
        "again1.json",
        &d,
        "sequence: 1 is already signed",
    );

    // The very same draft again: the file exists; co-sign it instead.
    s.write_json("same1.json", &signed1);
    let before = snapshot(&s.path("org"));
    sign(&s, "same1.json", &alice, T2)
        .code(REFUSED)
        .stderr_has("000001.json already exists; refusing to overwrite it")
        .stderr_has("hint: to add a signature to it");
    assert_unchanged(&s.path("org"), &before, "same draft twice");

    // After statement 2 is signed, its draft is refused as well.
    s.write_json("draft2.json", &draft2);
    sign(&s, "draft2.json", &alice, T2).code(OK);
    let before = snapshot(&s.path("org"));
    sign(&s, "draft2.json", &alice, T2)
        .code(REFUSED)
        .stderr_has("already exists");
    let mut d = draft2.clone();
    d["notes"] = json!("changed");
    s.write_json("draft2b.json", &d);
    sign(&s, "draft2b.json", &alice, T2)
        .code(REFUSED)
        .stderr_has("sequence: 2 is already signed");
    assert_unchanged(&s.path("org"), &before, "statement 2 again");
}

#[test]
fn incident_refusals_write_nothing() {
    let (s, alice, _) = chain_fixture();
    let a = alice.args();
    let at = "2026-02-01T00:00:00Z";
    let base = |id: &'static str, affected: &'static str| -> Vec<&'static str> {
        vec![
            "incident",
            "new",
            "--dir",
            "org",
            "--id",
            id,
            "--title",
            "Outage",
            "--impact",
            "minor",
            "--affected",
            affected,
            "--message",
            "Looking into it.",
        ]
    };
    let before = snapshot(&s.path("org"));
    let mut args = base("outage", "mail");
    args.extend(["--at", at]);
    s.run(&argv(&args, &a))
        .code(REFUSED)
        .stderr_has("affected[0]: \"mail\" is not a component of canary.toml");
    let mut args = base("outage", "website");
    args.extend(["--at", at, "--started-at", "2026-02-02T00:00:00Z"]);
    s.run(&argv(&args, &a))
        .code(REFUSED)
        .stderr_has("started_at: is in the future");
    let mut args = base("Bad Id", "website");
    args.extend(["--at", at]);
    s.run(&argv(&args, &a))
        .code(ERROR)
        .stderr_has("must be a slug");
    s.run(&argv(
        &[
            "incident",
            "update",
            "--dir",
            "org",
            "--id",
            "nothing-here",
            "--message",
            "?",
            "--at",
            at,
        ],
        &a,
    ))
    .code(REFUSED)
    .stderr_has("there is no incident \"nothing-here\"");
    assert_unchanged(&s.path("org"), &before, "refused incidents");

    // Opened once; opening it again, or "updating" it to resolved, is refused.
    let mut args = base("outage", "website");
    args.extend(["--at", at]);
    s.run(&argv(&args, &a)).code(OK);
    let before = snapshot(&s.path("org"));
    s.run(&argv(&args, &a))
        .code(REFUSED)
        .stderr_has("exists already");
    s.run(&argv(
        &[
            "incident",
            "update",
            "--dir",
            "org",
            "--id",
            "outage",
            "--status",
            "resolved",
            "--message",
            "done",
            "--at",
            at,
        ],
        &a,
    ))
    .code(ERROR)
    .stderr_has("incident resolve");
    s.run(&argv(
        &[
            "incident",
            "update",
            "--dir",
            "org",
            "--id",
            "outage",
            "--message",
            "x",
            "--measure",
            "later:do something",
            "--at",
            at,
        ],
        &a,
    ))
    .code(ERROR)
    .stderr_has("mitigate, prevent, process");
    assert_unchanged(&s.path("org"), &before, "refused incident versions");

    // With --draft nothing is signed or written either.
    let out = s.run(&[
        "incident",
        "resolve",
        "--dir",
        "org",
        "--id",
        "outage",
        "--message",
        "Fixed.",
        "--at",
        at,
        "--draft",
    ]);
    out.code(OK);
    let v: Value = serde_json::from_str(&out.stdout).expect("the draft is JSON");
    assert_eq!(v["version"], 2);
    assert_eq!(v["status"], "resolved");
    assert_eq!(v["resolved_at"], at);
    assert_unchanged(&s.path("org"), &before, "incident --draft");
}

#[test]
fn refused_cosign_leaves_the_envelope_byte_identical() {
    let (s, alice, bob) = two_key_fixture(true);
    sign(&s, "draft1.json", &alice, T1).code(OK);
    let before = snapshot(&s.path("org"));
    let bytes = s.read(STMT1);

    s.write("wrong.pass", "bob's other passphrase\n");
    s.run(&[
        "sign",
        STMT1,
        "--dir",
        "org",
        "--at",
        T1,
        "--key",
        &bob.key,
        "--passphrase-file",
        "wrong.pass",
    ])
    .code(ERROR)
    .stderr_has("wrong passphrase");
    assert_eq!(s.read(STMT1), bytes, "the envelope was modified");
    assert_unchanged(&s.path("org"), &before, "wrong passphrase co-sign");

    // Too late to co-sign: refused before the passphrase is even read.
    sign(&s, STMT1, &bob, "2026-04-19T10:00:00Z")
        .code(REFUSED)
        .stderr_has("expires_at: has passed already");
    assert_unchanged(&s.path("org"), &before, "expired co-sign");

    // An existing signature that does not verify: never added to.
    let mut forged: Value = serde_json::from_slice(&bytes).expect("envelope JSON");
    let sig = forged["signatures"][0]["sig"]
        .as_str()
        .expect("sig")
        .to_owned();
    let flipped = if sig.starts_with('A') { "B" } else { "A" };
    forged["signatures"][0]["sig"] = json!(format!("{flipped}{}", &sig[1..]));
    let forged_bytes = serde_json::to_vec(&forged).expect("json");
    s.write("forged.json", &forged_bytes);
    sign(&s, "forged.json", &bob, T1)
        .code(REFUSED)
        .stderr_has("is not a valid signature by a key of canary.toml");
    assert_eq!(s.read("forged.json"), forged_bytes);
    assert_unchanged(&s.path("org"), &before, "forged co-sign");

    // The same co-sign with the right passphrase works, in place.
    sign(&s, STMT1, &bob, T1)
        .code(OK)
        .stdout_has("(2 of 2 signatures)");
    assert_eq!(
        envelope(&s.read(STMT1)).payload(),
        envelope(&bytes).payload()
    );
    assert_mode(&s.path(STMT1), 0o644);
    // Nothing else than bob's plain signatures (DESIGN §9) is new.
    let names: Vec<_> = snapshot(&s.path("org")).into_keys().collect();
    let mut expected: Vec<_> = before.into_keys().collect();
    let k = bob.public.id().short();
    expected.push(format!("plain/000001/payload.json.{k}.minisig").into());
    expected.push(format!("plain/000001/payload.json.{k}.sig").into());
    expected.sort();
    assert_eq!(names, expected, "no stray temporary file");
}

// ---------------------------------------------------------------------------
// 4. lint

#[test]
fn lint_accepts_a_clean_draft_and_a_complete_envelope() {
    let (s, _alice, draft) = chain_fixture();
    s.write_json("draft2.json", &draft);
    s.run(&["lint", "draft2.json", "--dir", "org", "--at", T2])
        .code(OK)
        .stdout_has("draft2.json: ok");
    s.run(&["lint", STMT1, "--dir", "org", "--at", T2])
        .code(OK)
        .stdout_has("000001.json: ok");
}

#[test]
fn lint_lists_each_problem_as_field_and_reason() {
    let (s, _alice, mut draft) = chain_fixture();
    draft["issuer"] = json!("example.com");
    draft["expires_at"] = json!("2027-06-01T00:00:00Z");
    draft["previous"] = json!(format!("sha256:{}", "ab".repeat(32)));
    s.write_json("bad.json", &draft);
    let before = snapshot(&s.path("org"));
    let out = s.run(&["lint", "bad.json", "--dir", "org", "--at", T2]);
    out.code(REFUSED)
        .stdout_has("bad.json: issuer: is \"example.com\", but canary.toml says \"example.org\"")
        .stdout_has("bad.json: expires_at: is more than 1 year after issued_at")
        .stdout_has("bad.json: previous: must be sha256:");
    assert_eq!(out.stdout.lines().count(), 3, "{}", out.stdout);
    assert!(!out.stdout.contains(": ok"));
    assert_unchanged(&s.path("org"), &before, "lint");
}

#[test]
fn lint_reports_missing_cosignatures() {
    let (s, alice, bob) = two_key_fixture(false);
    sign(&s, "draft1.json", &alice, T1).code(OK);
    s.run(&["lint", STMT1, "--dir", "org", "--at", T1])
        .code(REFUSED)
        .stdout_has("000001.json: signatures: 1 of 2 signatures");
    sign(&s, STMT1, &bob, T1).code(OK);
    s.run(&["lint", STMT1, "--dir", "org", "--at", T1])
        .code(OK)
        .stdout_has("000001.json: ok");
}

#[test]
fn lint_reports_unknown_fields() {
    let (s, _alice, mut draft) = chain_fixture();
    draft["colour"] = json!("red");
    s.write_json("unknown.json", &draft);
    s.run(&["lint", "unknown.json", "--dir", "org", "--at", T2])
        .code(REFUSED)
        .stdout_has("unknown.json: ")
        .stdout_has("unknown field `colour`");
}

#[test]
fn lint_without_an_issuer_folder_checks_the_format_only() {
    let (s, _alice, draft) = chain_fixture();
    s.write_json("draft2.json", &draft);
    // The scratch root has no canary.toml.
    s.run(&["lint", "draft2.json", "--at", T2])
        .code(OK)
        .stderr_has("no canary.toml")
        .stdout_has("draft2.json: ok");
    s.run(&["lint", "missing.json", "--dir", "org", "--at", T2])
        .code(ERROR)
        .stderr_has("cannot read missing.json");
}

// ---------------------------------------------------------------------------
// 5. Help that teaches

#[test]
fn every_subcommand_help_has_examples() {
    let s = Scratch::new();
    let commands: [&[&str]; 9] = [
        &["keygen"],
        &["init"],
        &["new"],
        &["sign"],
        &["incident", "new"],
        &["incident", "update"],
        &["incident", "resolve"],
        &["lint"],
        &["due"],
    ];
    for command in commands {
        let mut args = command.to_vec();
        args.push("--help");
        s.run(&args).code(OK).stdout_has("Example");
    }
    s.run(&["--help"])
        .code(OK)
        .stdout_has("canary-sign keygen --name alice")
        .stdout_has("Exit status");
    s.run(&[]).code(ERROR);
    s.run(&["frobnicate"]).code(ERROR);
    s.run(&["due", "--at", "yesterday"]).code(ERROR);
}

// ---------------------------------------------------------------------------
// 6. Hostile input

#[test]
fn hostile_input_is_refused_without_panicking() {
    let (s, alice, _) = chain_fixture();
    let deep_array = "[".repeat(100_000) + &"]".repeat(100_000);
    let deep_object = format!(
        "{{\"sequence\":{}1{}}}",
        "{\"a\":".repeat(10_000),
        "}".repeat(10_000)
    );
    let shallow_but_too_deep = format!(
        "{{\"sequence\":2,\"statements\":{}{}}}",
        "[".repeat(40),
        "]".repeat(40)
    );
    let fake_sig = json!({"keyid": "0".repeat(64), "sig": b64(&[0u8; 64])});
    let env = |payload: String| {
        json!({
            "payload": payload,
            "payloadType": "application/vnd.canary.statement.v1+json",
            "signatures": [fake_sig.clone()],
        })
        .to_string()
    };
    let binary: Vec<u8> = (0..=255u8).cycle().take(4096).collect();
    let mut inputs: Vec<(&str, Vec<u8>)> = vec![
        ("empty", Vec::new()),
        ("binary", binary.clone()),
        ("invalid UTF-8 string", b"{\"sequence\":\"\xff\xfe\"}".to_vec()),
        ("array", b"[]".to_vec()),
        ("object", b"{}".to_vec()),
        ("null", b"null".to_vec()),
        ("huge number", b"123456789012345678901234567890".to_vec()),
        ("huge sequence", b"{\"sequence\":1e400}".to_vec()),
        (
            "huge integer",
            b"{\"sequence\":123456789012345678901234567890}".to_vec(),
        ),
        ("deep array", deep_array.into_bytes()),
        ("deep object", deep_object.into_bytes()),
        ("deep statements", shallow_but_too_deep.into_bytes()),
        ("envelope: bad base64", env("!!!".to_owned()).into_bytes()),
        ("envelope: binary payload", env(b64(&binary)).into_bytes()),
        (
            "envelope: deep payload",
            env(b64(("[".repeat(200) + &"]".repeat(200)).as_bytes())).into_bytes(),
        ),
        ("envelope: empty payload", env(String::new()).into_bytes()),
        (
            "envelope: no signatures",
            json!({"payload": "", "payloadType": "application/vnd.canary.statement.v1+json", "signatures": []})
                .to_string()
                .into_bytes(),
        ),
        (
            "envelope: unknown type",
            json!({"payload": "", "payloadType": "text/plain", "signatures": [fake_sig.clone()]})
                .to_string()
                .into_bytes(),
        ),
        (
            "rotation draft",
            b"{\"keys\":[],\"issuer\":\"example.org\"}".to_vec(),
        ),
    ];
    inputs.push(("long string", {
        let mut v = b"{\"sequence\":2,\"notes\":\"".to_vec();
        v.extend(std::iter::repeat_n(b'x', 1 << 20));
        v.extend(b"\"}");
        v
    }));
    let before = snapshot(&s.path("org"));
    for (i, (what, bytes)) in inputs.iter().enumerate() {
        let name = format!("hostile{i}.json");
        s.write(&name, bytes);
        let signed = sign(&s, &name, &alice, T2);
        let linted = s.run(&["lint", &name, "--dir", "org", "--at", T2]);
        for (command, out) in [("sign", &signed), ("lint", &linted)] {
            assert!(
                matches!(out.code, Some(REFUSED | ERROR)),
                "{command} of {what}: exit {:?}\n{}\n{}",
                out.code,
                out.stdout,
                out.stderr
            );
            out.never_says("panicked").never_says("RUST_BACKTRACE");
        }
        assert!(
            !signed.stderr.trim().is_empty(),
            "sign of {what}: no message"
        );
        // lint reports problems on stdout, errors on stderr.
        assert!(
            !(linted.stdout.trim().is_empty() && linted.stderr.trim().is_empty()),
            "lint of {what}: no message"
        );
        assert_unchanged(&s.path("org"), &before, what);
    }
    // A folder, not a file.
    sign(&s, "org", &alice, T2).code(ERROR);
    s.run(&["lint", "org", "--dir", "org", "--at", T2])
        .code(ERROR);
}

#[test]
fn hostile_issuer_folders_are_errors_not_panics() {
    let (s, alice, draft) = chain_fixture();
    s.write_json("draft2.json", &draft);
    let config = s.read("org/canary.toml");
    let statement = s.read(STMT1);
    let cases: Vec<(&str, &str, Vec<u8>)> = vec![
        (
            "binary canary.toml",
            "org/canary.toml",
            vec![0xff, 0x00, 0x9c],
        ),
        (
            "unknown key in canary.toml",
            "org/canary.toml",
            [b"oops = 1\n".as_slice(), &config].concat(),
        ),
        (
            "no keys in canary.toml",
            "org/canary.toml",
            String::from_utf8(config.clone())
                .expect("utf8")
                .replace(&alice.public.to_string(), "")
                .replace("\"\",", "")
                .into_bytes(),
        ),
        ("garbage statement", STMT1, b"{\"payload\":".to_vec()),
        ("stray file", "org/statements/notes.txt", b"hello".to_vec()),
    ];
    for (what, file, bytes) in cases {
        // Shown with the failure message, if any.
        eprintln!("case: {what}");
        s.write(file, &bytes);
        let outs = [
            s.run(&["new", "--dir", "org", "--at", T2]),
            s.run(&["due", "--dir", "org", "--at", T2]),
            sign(&s, "draft2.json", &alice, T2),
            s.run(&["lint", "draft2.json", "--dir", "org", "--at", T2]),
        ];
        for out in &outs {
            out.code(ERROR).never_says("panicked").stderr_has("error: ");
        }
        // Restore.
        s.write("org/canary.toml", &config);
        s.write(STMT1, &statement);
        let _ = std::fs::remove_file(s.path("org/statements/notes.txt"));
    }
    assert!(!s.exists(STMT2));
}

// ---------------------------------------------------------------------------
// init and due edge cases

#[test]
fn init_refuses_bad_thresholds_and_overwriting() {
    let s = Scratch::new();
    let alice = s.keygen("alice", None);
    let bob = s.keygen("bob", None);
    for threshold in ["0", "3"] {
        s.run(&[
            "init",
            "--issuer",
            ISSUER,
            "--dir",
            "org",
            "--key",
            "keys/alice.pub",
            "--key",
            "keys/bob.pub",
            "--threshold",
            threshold,
        ])
        .code(ERROR)
        .stderr_has("--threshold");
        assert!(!s.exists("org/canary.toml"));
    }
    s.run(&["init", "--issuer", "a/b", "--dir", "org"])
        .code(ERROR)
        .stderr_has("no spaces or slashes");
    // No host name for the canary's URL: the issuer is named, not an
    // internal error.
    let out = s.run(&["init", "--issuer", "ex~ample", "--dir", "org"]);
    out.code(ERROR).stderr_has(
        "--issuer \"ex~ample\" is not a host name: readers would fetch \
         https://ex~ample/.well-known/canary.json",
    );
    assert!(!out.stderr.contains("internal"), "{}", out.stderr);
    assert!(!s.exists("org/canary.toml"));
    // A key comment with control characters still makes a valid file (the
    // comment in canary.toml without them).
    let line = s.read_string("keys/alice.pub");
    s.write(
        "keys/odd.pub",
        format!(
            "{} alice\u{1b}[31m\u{7f}red\n",
            line.split(' ').next().expect("key")
        ),
    );
    s.run(&[
        "init",
        "--issuer",
        ISSUER,
        "--dir",
        "odd",
        "--key",
        "keys/odd.pub",
    ])
    .code(OK);
    assert!(
        s.read_string("odd/canary.toml")
            .contains("# alice [31m red")
    );
    s.run(&[
        "init",
        "--issuer",
        ISSUER,
        "--dir",
        "org",
        "--key",
        "keys/alice.key",
    ])
    .code(ERROR)
    .stderr_has("public key keys/alice.key");
    init(&s, &[&alice, &bob], 2);
    let before = snapshot(&s.path("org"));
    s.run(&["init", "--issuer", ISSUER, "--dir", "org"])
        .code(ERROR)
        .stderr_has("already exists; refusing to overwrite");
    assert_unchanged(&s.path("org"), &before, "init twice");
}

#[test]
fn due_without_a_statement_or_a_folder() {
    let s = Scratch::new();
    let alice = s.keygen("alice", None);
    init(&s, &[&alice], 1);
    let out = s.run(&["due", "--dir", "org", "--at", T1, "--format", "json"]);
    out.code(REFUSED);
    let v: Value = serde_json::from_str(&out.stdout).expect("JSON");
    assert_eq!(v["status"], "missing");
    s.run(&["due", "--dir", "org", "--at", T1])
        .code(REFUSED)
        .stdout_has("no statement with enough signatures yet");
    s.run(&["due", "--dir", "nowhere", "--at", T1])
        .code(ERROR)
        .stderr_has("no canary.toml");
    s.run(&["due", "--dir", "org", "--at", T1, "--format", "xml"])
        .code(ERROR);
}

#[test]
fn due_counts_only_statements_with_enough_signatures() {
    let (s, alice, bob) = two_key_fixture(false);
    sign(&s, "draft1.json", &alice, T1).code(OK);
    let at = "2026-01-06T00:00:00Z";
    let out = s.run(&["due", "--dir", "org", "--at", at, "--format", "json"]);
    out.code(REFUSED)
        .stderr_has("statement 1 has 1 of 2 signatures")
        .stderr_has("co-sign it");
    let v: Value = serde_json::from_str(&out.stdout).expect("JSON");
    assert_eq!(v["status"], "missing");

    sign(&s, STMT1, &bob, T1).code(OK);
    s.run(&["due", "--dir", "org", "--at", at])
        .code(OK)
        .stdout_has("statement 1 is current");

    // Statement 2 signed by one key only: statement 1 is what readers see.
    s.write_json("draft2.json", &new_draft(&s, T2));
    sign(&s, "draft2.json", &alice, T2).code(OK);
    let out = s.run(&[
        "due",
        "--dir",
        "org",
        "--at",
        "2026-03-25T00:00:00Z",
        "--format",
        "json",
    ]);
    out.code(REFUSED)
        .stderr_has("statement 2 has 1 of 2 signatures");
    let v: Value = serde_json::from_str(&out.stdout).expect("JSON");
    assert_eq!(v["status"], "due");
    assert_eq!(v["sequence"], 1);
    sign(&s, STMT2, &bob, T2).code(OK);
    let out = s.run(&[
        "due",
        "--dir",
        "org",
        "--at",
        "2026-03-25T00:00:00Z",
        "--format",
        "json",
    ]);
    out.code(OK);
    assert!(out.stderr.is_empty(), "{}", out.stderr);
    let v: Value = serde_json::from_str(&out.stdout).expect("JSON");
    assert_eq!(v["sequence"], 2);
}

#[test]
fn every_signer_consents_to_a_statement_change() {
    let (s, alice, bob) = two_key_fixture(false);
    sign(&s, "draft1.json", &alice, T1).code(OK);
    sign(&s, STMT1, &bob, T1).code(OK);
    let mut d = new_draft(&s, T2);
    d["statements"]
        .as_array_mut()
        .expect("statements")
        .remove(0);
    s.write_json("draft2.json", &d);
    sign_with(&s, "draft2.json", &alice, T2, &["--allow-statement-change"]).code(OK);
    let before = snapshot(&s.path("org"));
    sign(&s, STMT2, &bob, T2)
        .code(REFUSED)
        .stderr_has("promise \"no-warrants\" was removed");
    assert_unchanged(&s.path("org"), &before, "co-sign without consent");
    sign_with(&s, STMT2, &bob, T2, &["--allow-statement-change"])
        .code(OK)
        .stdout_has("(2 of 2 signatures)");
}

#[test]
fn statements_are_reader_verifiable_and_refuse_a_wrong_policy() {
    // A reader who pins threshold 2 does not accept a 1-of-2 statement.
    let (s, alice, bob) = two_key_fixture(false);
    sign(&s, "draft1.json", &alice, T1).code(OK);
    let report = verify_statement(
        &s.read(STMT1),
        &policy(&[&alice, &bob], 2),
        &VerifyOptions::at(ts(T1)),
    );
    assert_eq!(report.verdict(false), Verdict::Invalid);
    assert_eq!(report.findings[0].code(), "threshold-not-met");
    sign(&s, STMT1, &bob, T1).code(OK);
    let doc = verified_statement(&s.read(STMT1), &policy(&[&alice, &bob], 2), T1);
    let statement: &Statement = doc.document();
    assert_eq!(statement.sequence, 1);
}

/// `incident update|resolve --id` take a slug, checked before it becomes a
/// path: `..` or an absolute path never reads outside the issuer folder.
#[test]
fn incident_ids_are_slugs_before_they_are_paths() {
    let (s, alice, _) = chain_fixture();
    // A folder outside the issuer folder that looks like an incident.
    s.write("outside/000001.json", "{}");
    let key_args = alice.args();
    for id in ["../outside", "/etc", "a/b", "..", "Outage"] {
        for command in [&["incident", "update"][..], &["incident", "resolve"][..]] {
            let mut args = command.to_vec();
            args.extend(["--id", id, "--message", "m", "--dir", "org", "--at", T2]);
            let args = argv(&args, &key_args);
            s.run(&args).code(REFUSED).stderr_has("not a slug");
        }
    }
}

/// A final statement is warned about loudly and needs `--final`: every
/// reader reports such a canary as tripped.
#[test]
fn a_final_statement_needs_final() {
    let (s, alice, mut draft2) = chain_fixture();
    draft2["final"] = Value::Bool(true);
    s.write_json("final.json", &draft2);
    s.run(&["lint", "final.json", "--dir", "org", "--at", T2])
        .stderr_has("WARNING")
        .stderr_has("TRIPPED")
        .stderr_has("--final");
    let before = snapshot(&s.path("org"));
    sign(&s, "final.json", &alice, T2)
        .code(REFUSED)
        .stderr_has("TRIPPED")
        .stderr_has("--final");
    assert_unchanged(&s.path("org"), &before, "refused final statement");
    sign_with(&s, "final.json", &alice, T2, &["--final"])
        .code(OK)
        .stderr_has("WARNING");
}

/// Documents readers would refuse for their size are refused before
/// signing; `lint` warns from 80% of the cap.
#[test]
fn documents_over_the_readers_cap_are_refused() {
    let (s, alice, draft2) = chain_fixture();
    let with_notes = |n: usize| {
        let mut d = draft2.clone();
        d["notes"] = Value::String("n".repeat(n));
        d
    };
    // About 215 KiB once signed: over 80% of 256 KiB, a warning only.
    s.write_json("big.json", &with_notes(162_000));
    s.run(&["lint", "big.json", "--dir", "org", "--at", T2])
        .code(OK)
        .stderr_has("warning")
        .stderr_has("% of the 262144");
    // Over 256 KiB once signed: refused by lint and by sign.
    s.write_json("huge.json", &with_notes(200_000));
    s.run(&["lint", "huge.json", "--dir", "org", "--at", T2])
        .code(REFUSED)
        .stdout_has("more than the 262144");
    let before = snapshot(&s.path("org"));
    sign(&s, "huge.json", &alice, T2)
        .code(REFUSED)
        .stderr_has("more than the 262144");
    assert_unchanged(&s.path("org"), &before, "refused oversize statement");
}

/// A passphrase file must be a regular file of a sane size (or
/// `/dev/stdin`, named as such): a FIFO would hang, a huge file be read
/// whole.
#[cfg(unix)]
#[test]
fn passphrase_files_are_regular_and_bounded() {
    let s = Scratch::new();
    let alice = s.keygen("alice", Some(PASS));
    init(&s, &[&alice], 1);
    s.write_json("draft1.json", &new_draft(&s, T1));
    let key = alice.key.clone();
    let try_with = |pass: &str| {
        s.run(&[
            "sign",
            "draft1.json",
            "--dir",
            "org",
            "--key",
            &key,
            "--passphrase-file",
            pass,
            "--at",
            T1,
        ])
    };
    let fifo = s.path("pass.fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(made.success());
    try_with("pass.fifo")
        .code(ERROR)
        .stderr_has("not a regular file");
    std::fs::create_dir_all(s.path("pass.dir")).expect("folder");
    try_with("pass.dir")
        .code(ERROR)
        .stderr_has("not a regular file");
    s.write("huge.pass", "x".repeat(100_000));
    try_with("huge.pass").code(ERROR).stderr_has("more than");
    // The right file still works.
    try_with(alice.pass.as_deref().expect("a passphrase file")).code(OK);
}
