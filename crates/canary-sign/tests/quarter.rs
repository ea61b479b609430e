//! A smoother quarter for two maintainers: several documents signed with
//! one passphrase, a co-signer told which flags to repeat, refusals of a
//! canary without promises and of a short passphrase.

mod util;

use util::{ERROR, OK, REFUSED, Scratch, argv, assert_unchanged, snapshot};

const T1: &str = "2026-01-05T10:00:00Z";
const T2: &str = "2026-02-01T10:00:00Z";
const ALICE: &str = "alice: correct horse battery";
const BOB: &str = "bob: staple tuning fork";

#[test]
fn a_cosigner_signs_the_statement_and_the_incident_with_one_passphrase() {
    let s = Scratch::new();
    let alice = s.keygen("alice", Some(ALICE));
    let bob = s.keygen("bob", Some(BOB));
    s.init_org(&["keys/alice.pub", "keys/bob.pub"], 2);
    s.draft(T1, "d1.json");
    for k in [&alice, &bob] {
        let input = if k.key == alice.key {
            "d1.json"
        } else {
            "org/statements/000001.json"
        };
        s.run(&argv(
            &["sign", input, "--dir", "org", "--at", T1],
            &k.args(),
        ))
        .code(OK);
    }
    // Alice opens an incident and signs the next statement, which lists it.
    let new = [
        "incident",
        "new",
        "--dir",
        "org",
        "--id",
        "push",
        "--title",
        "Push failed",
        "--impact",
        "minor",
        "--message",
        "Investigating.",
        "--at",
        T2,
    ];
    s.run(&argv(&new, &alice.args())).code(OK);
    let d2 = s.draft(T2, "d2.json");
    assert_eq!(d2["incidents"][0]["id"], "push");
    s.run(&argv(
        &["sign", "d2.json", "--dir", "org", "--at", T2],
        &alice.args(),
    ))
    .code(OK);

    // Bob co-signs both at once; the passphrase comes once from stdin (a
    // second read would find it empty and fail).
    let out = s.run_stdin(
        &[
            "sign",
            "org/statements/000002.json",
            "org/incidents/push/000001.json",
            "--dir",
            "org",
            "--at",
            T2,
            "--key",
            &bob.key,
            "--passphrase-file",
            "/dev/stdin",
        ],
        &format!("{BOB}\n"),
    );
    out.code(OK)
        .stdout_has(
            "signed statement 2 of example.org: org/statements/000002.json (2 of 2 signatures)",
        )
        .stdout_has("org/incidents/push/000001.json (2 of 2 signatures)")
        .stderr_has("statement 2 of example.org")
        .stderr_has("incident push version 1 of example.org");
    assert_eq!(
        out.stderr.matches("You are about to sign:").count(),
        1,
        "one summary for both: {}",
        out.stderr
    );
    s.run(&["publish", "--dir", "org", "--out", "site", "--at", T2])
        .code(OK);

    // A refusal of either writes neither: bob again on both (already signed).
    let before = snapshot(&s.path("org"));
    s.run_stdin(
        &[
            "sign",
            "org/statements/000002.json",
            "org/incidents/push/000001.json",
            "--dir",
            "org",
            "--at",
            T2,
            "--key",
            &bob.key,
            "--passphrase-file",
            "/dev/stdin",
        ],
        &format!("{BOB}\n"),
    )
    .code(REFUSED)
    .stderr_has("already signed by this key")
    .never_says("You are about to sign");
    assert_unchanged(&s.path("org"), &before, "already signed");
    // --out with several inputs, or one input twice: an error, nothing read.
    s.run(&argv(
        &[
            "sign", "d1.json", "d2.json", "--out", "x.json", "--dir", "org",
        ],
        &bob.args(),
    ))
    .code(ERROR)
    .stderr_has("--out");
    s.run(&argv(
        &["sign", "d2.json", "./d2.json", "--dir", "org"],
        &bob.args(),
    ))
    .code(ERROR)
    .stderr_has("given twice");
}

#[test]
fn the_cosigner_is_told_to_repeat_allow_statement_change_only_when_needed() {
    let s = Scratch::new();
    let alice = s.keygen("alice", None);
    let bob = s.keygen("bob", None);
    s.init_org(&["keys/alice.pub", "keys/bob.pub"], 2);
    s.draft(T1, "d1.json");
    // Passed but not needed: not passed on.
    let out = s.run(&argv(
        &[
            "sign",
            "d1.json",
            "--dir",
            "org",
            "--at",
            T1,
            "--allow-statement-change",
        ],
        &alice.args(),
    ));
    out.code(OK);
    assert!(!out.stderr.contains("OTHER.key --allow"), "{}", out.stderr);
    s.run(&argv(
        &[
            "sign",
            "org/statements/000001.json",
            "--dir",
            "org",
            "--at",
            T1,
        ],
        &bob.args(),
    ))
    .code(OK);
    // Needed (a promise removed): passed on.
    let mut d2 = s.draft(T2, "d2.json");
    d2["statements"].as_array_mut().expect("promises").remove(0);
    s.write_json("d2.json", &d2);
    s.run(&argv(
        &[
            "sign",
            "d2.json",
            "--dir",
            "org",
            "--at",
            T2,
            "--allow-statement-change",
        ],
        &alice.args(),
    ))
    .code(OK)
    .stderr_has(
        "canary-sign sign org/statements/000002.json --key OTHER.key --allow-statement-change",
    );
    // And the co-signer does need it.
    s.run(&argv(
        &[
            "sign",
            "org/statements/000002.json",
            "--dir",
            "org",
            "--at",
            T2,
        ],
        &bob.args(),
    ))
    .code(REFUSED);
}

#[test]
fn a_canary_without_promises_is_refused() {
    let s = Scratch::new();
    let alice = s.keygen("alice", None);
    s.init_org(&["keys/alice.pub"], 1);
    let mut d1 = s.draft(T1, "d1.json");
    d1["statements"] = serde_json::json!([]);
    s.write_json("d1.json", &d1);
    let before = snapshot(&s.path("org"));
    s.run(&argv(
        &["sign", "d1.json", "--dir", "org", "--at", T1],
        &alice.args(),
    ))
    .code(REFUSED)
    .stderr_has("statements: is empty");
    s.run(&["lint", "d1.json", "--dir", "org", "--at", T1])
        .code(REFUSED)
        .stdout_has("statements: is empty");
    assert_unchanged(&s.path("org"), &before, "no promises");
}

#[test]
fn a_short_passphrase_needs_weak_passphrase() {
    let s = Scratch::new();
    s.write("short", "tiny pass\n");
    s.run(&[
        "keygen",
        "--name",
        "k",
        "--dir",
        "keys",
        "--passphrase-file",
        "short",
    ])
    .code(REFUSED)
    .stderr_has("9 characters, fewer than 12")
    .stderr_has("--weak-passphrase");
    assert!(!s.exists("keys/k.key") && !s.exists("keys/k.pub"));
    s.run(&[
        "keygen",
        "--name",
        "k",
        "--dir",
        "keys",
        "--passphrase-file",
        "short",
        "--weak-passphrase",
    ])
    .code(OK)
    .stderr_has("warning: the passphrase has only 9 characters");
    assert!(s.exists("keys/k.key"));
}

#[test]
fn sign_refuses_a_bitcoin_header_that_does_not_prove_its_block() {
    // Bitcoin's genesis block: the header hashes to the hash and meets its
    // target; with its nonce changed it no longer does.
    const HEADER: &str = "0100000000000000000000000000000000000000000000000000000000000000000000003ba3edfd7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4a29ab5f49ffff001d1dac2b7c";
    const HASH: &str = "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f";
    let s = Scratch::new();
    let alice = s.keygen("alice", None);
    s.init_org(&["keys/alice.pub"], 1);
    let mut d1 = s.draft(T1, "d1.json");
    let mut bad = HEADER.to_owned();
    bad.replace_range(152..154, "1e");
    d1["freshness"] = serde_json::json!({"bitcoin": {"height": 0, "hash": HASH, "header": bad}});
    s.write_json("d1.json", &d1);
    s.run(&argv(
        &["sign", "d1.json", "--dir", "org", "--at", T1],
        &alice.args(),
    ))
    .code(REFUSED)
    .stderr_has("freshness.bitcoin: hash does not match the header");
    d1["freshness"] = serde_json::json!({"bitcoin": {"height": 0, "hash": HASH, "header": HEADER}});
    s.write_json("d1.json", &d1);
    s.run(&argv(&["sign", "d1.json", "--dir", "org", "--at", T1], &alice.args()))
        .code(OK)
        .stderr_has("freshness  bitcoin block 0 (000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f), with its header");
}

#[test]
fn several_inputs_are_all_checked_before_anything_is_signed() {
    let s = Scratch::new();
    let alice = s.keygen("alice", Some(ALICE));
    s.init_org(&["keys/alice.pub"], 1);
    let mut draft = s.draft(T1, "d1.json");
    // A second draft of the same statement: both would be statement 1.
    draft["notes"] = serde_json::json!("Written twice.");
    s.write_json("d1b.json", &draft);
    let before = snapshot(&s.path("org"));
    s.run(&argv(
        &["sign", "d1.json", "d1b.json", "--dir", "org", "--at", T1],
        &alice.args(),
    ))
    .code(REFUSED)
    .stderr_has("two of the inputs would be written to")
    .never_says("You are about to sign");
    assert_unchanged(&s.path("org"), &before, "two drafts of one statement");
    // A draft too large for readers after a good one: neither is signed.
    draft["notes"] = serde_json::json!("x".repeat(300 * 1024));
    s.write_json("big.json", &draft);
    s.run(&argv(
        &["sign", "d1.json", "big.json", "--dir", "org", "--at", T1],
        &alice.args(),
    ))
    .code(REFUSED)
    .stderr_has("readers accept")
    .stderr_has("nothing was signed or written")
    .never_says("You are about to sign");
    assert_unchanged(&s.path("org"), &before, "an oversize second input");
}
