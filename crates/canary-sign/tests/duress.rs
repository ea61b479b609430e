//! A statement signed by a panic key alone (a maintainer under duress) is
//! published as what every reader sees: a tripped canary, on the page, in
//! `status.json`, `canary.txt` and the feed, never a healthy one
//! (DESIGN §3.5, §5 step 10).

mod util;

use util::{OK, REFUSED, Scratch, argv};

const T1: &str = "2026-01-05T10:00:00Z";
const T2: &str = "2026-01-06T10:00:00Z";
const T3: &str = "2026-02-01T10:00:00Z";
const T4: &str = "2026-02-02T10:00:00Z";

/// An issuer folder signed by alice (threshold 1) with the panic key
/// `duress` added by a rotation at T1, and statement 1 signed at T2.
fn with_panic_key() -> (Scratch, util::Key, util::Key) {
    let s = Scratch::new();
    let alice = s.keygen("alice", None);
    let duress = s.keygen("duress", None);
    s.init_org(&["keys/alice.pub"], 1);
    s.run(&argv(
        &[
            "rotate",
            "--dir",
            "org",
            "--at",
            T1,
            "--add-panic",
            "keys/duress.pub",
        ],
        &alice.args(),
    ))
    .code(OK);
    s.draft(T2, "d1.json");
    sign(&s, "d1.json", T2, &alice).code(OK);
    (s, alice, duress)
}

/// `canary-sign sign FILE --dir org --at AT` with `key`.
fn sign(s: &Scratch, file: &str, at: &str, key: &util::Key) -> util::Out {
    s.run(&argv(
        &["sign", file, "--dir", "org", "--at", at],
        &key.args(),
    ))
}

#[test]
fn a_panic_signed_statement_is_published_tripped_everywhere() {
    let (s, alice, duress) = with_panic_key();
    let key = alice.args();

    // A healthy canary first.
    s.run(&["publish", "--dir", "org", "--out", "site", "--at", T2])
        .code(OK);
    let status = s.read_json("site/status.json");
    assert_eq!(status["canary"]["tripped"], false, "{status}");
    assert_eq!(status["indicator"], "none", "{status}");
    assert!(!s.read_string("site/index.html").contains("tripped"));

    // Then statement 2, signed by the panic key alone.
    s.draft(T3, "d2.json");
    sign(&s, "d2.json", T3, &duress)
        .code(OK)
        .stderr_has("PANIC key")
        .stdout_has("signed statement 2 of example.org with a PANIC key");
    let id = duress.public.id();
    s.run(&["publish", "--dir", "org", "--out", "site", "--at", T3])
        .code(OK)
        .stderr_has("readers will see this canary as TRIPPED")
        .stdout_has("statement 2");

    let status = s.read_json("site/status.json");
    assert_eq!(status["indicator"], "critical", "{status}");
    assert_eq!(status["canary"]["tripped"], true, "{status}");
    assert_eq!(status["canary"]["sequence"], 2, "{status}");
    assert_eq!(status["canary"]["panic_signers"][0], id.to_string());
    assert!(
        status["canary"]["tripped_reasons"][0]
            .as_str()
            .is_some_and(|r| r.contains("panic key")),
        "{status}"
    );
    // The Statuspage API: the canary's component is down, with an incident.
    let summary = s.read_json("site/api/v2/summary.json");
    assert_eq!(summary["status"]["indicator"], "critical", "{summary}");
    let canary = summary["components"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["name"] == "Warrant canary"))
        .expect("the canary component");
    assert_eq!(canary["status"], "major_outage");
    let unresolved = s.read_json("site/api/v2/incidents/unresolved.json");
    let tripped = &unresolved["incidents"][0];
    assert_eq!(tripped["name"], "Warrant canary tripped", "{unresolved}");
    assert_eq!(tripped["impact"], "critical");
    assert!(
        tripped["incident_updates"][0]["body"]
            .as_str()
            .is_some_and(|b| b.contains("panic key")),
        "{tripped}"
    );
    let page = s.read_string("site/index.html");
    for needle in [
        "Warrant canary tripped.",
        "This canary is tripped.",
        "It is signed with a panic key",
        "(panic key)",
        "Major outage: the warrant canary is tripped",
    ] {
        assert!(page.contains(needle), "the page lacks {needle:?}");
    }
    assert!(!page.contains("All systems operational"));
    let text = s.read_string("site/canary.txt");
    assert!(text.contains("TRIPPED: every reader's verifier reports this canary as tripped"));
    assert!(text.contains(&format!("{id} (PANIC KEY)")));
    let feed = s.read_string("site/feed.atom");
    assert!(feed.contains("<title>TRIPPED: Warrant canary 2 of example.org</title>"));
    assert!(feed.contains("<title>Warrant canary 1 of example.org</title>"));

    // And the reader agrees: tripped, by the panic key.
    let out = std::process::Command::new(util::verifier_bin())
        .current_dir(s.root())
        .args(["verify", "site", "--trust", "org/trust-v1.toml", "--at", T3])
        .output()
        .expect("canary runs");
    let shown = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(5), "{shown}");
    assert!(shown.contains("panic-key"), "{shown}");

    // The folder still works: `due` answers from the last statement with
    // enough signatures, and `new` drafts the next one; both say that
    // readers see the canary as tripped.
    let warning = format!(
        "statement 2 is signed by a panic key ({}): readers see this canary as TRIPPED",
        id.short()
    );
    s.run(&["due", "--dir", "org", "--at", T3])
        .code(OK)
        .stderr_has(&warning)
        .stdout_has("statement 1 is current");
    let drafted = s.run(&["new", "--dir", "org", "--at", T3]);
    drafted.code(OK).stderr_has(&warning);
    let draft: serde_json::Value = serde_json::from_str(&drafted.stdout).expect("a JSON draft");
    assert_eq!(draft["sequence"], 3, "{draft}");
    // lint names the panic signature for what it is.
    s.run(&[
        "lint",
        "org/statements/000002.json",
        "--dir",
        "org",
        "--at",
        T3,
    ])
    .code(REFUSED)
    .stdout_has(&format!(
        "signatures[0]: is by the panic key {}: readers see this canary as TRIPPED",
        id.short()
    ));

    // Once the panic key is rotated out, readers no longer count its
    // signature on the latest statement: a bad signature to them, so
    // publish refuses rather than show a tripped canary.
    s.run(&argv(
        &[
            "rotate",
            "--dir",
            "org",
            "--at",
            T4,
            "--remove-panic",
            "keys/duress.pub",
        ],
        &key,
    ))
    .code(OK);
    s.run(&["publish", "--dir", "org", "--out", "site2", "--at", T4])
        .code(REFUSED)
        .stderr_has("does not verify");
    assert!(!s.root().join("site2/status.json").exists());
}

#[test]
fn a_panic_signature_beside_enough_others_still_trips() {
    let (s, alice, duress) = with_panic_key();
    // Statement 2: the threshold by alice, and the panic key too.
    s.draft(T3, "d2.json");
    sign(&s, "d2.json", T3, &alice).code(OK);
    sign(&s, "org/statements/000002.json", T3, &duress)
        .code(OK)
        .stdout_has("with a PANIC key");
    // Readers see it tripped, so `due` does not count it as current.
    s.run(&["due", "--dir", "org", "--at", T4])
        .code(OK)
        .stderr_has(&format!(
            "statement 2 is signed by a panic key ({}): readers see this canary as TRIPPED",
            duress.public.id().short()
        ))
        .stdout_has("statement 1 is current");
}
