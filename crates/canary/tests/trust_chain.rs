//! The issuer's trust chain and history as one reading (issue 13; DESIGN
//! §3.5, §5 steps 9-11):
//!
//! - a rotation remembered in the state folder never overrides the reader's
//!   pin: it is used only while the pin it was reached from is still the pin,
//!   the pin's `max_age` always applies, and `canary trust remove` forgets it;
//! - `--history` keeps every finding it made: a panic-key signature or
//!   `final: true` on an archived statement trips, and a promise removed
//!   before a missing archive file is still reported;
//! - the issuer's state is locked around load-check-save, so two
//!   verifications at once can never move the stored sequence backwards.
//!
//! Every run uses local folders, fixed `--at` times and temporary state
//! folders: no network, no wall clock.

// Helpers outside `#[test]` functions report failures by panicking.
#![allow(clippy::panic)]

mod util;

use std::io::BufRead as _;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use canary_core::{KeyRotation, Timestamp};
use util::*;

/// The publish-folder path of the rotation to trust version `version`.
fn rotation_path(version: u64) -> String {
    format!(".well-known/canary/rotations/{version:06}.json")
}

/// A rotation of [`ISSUER`] to `version`: `threshold` of `keys`.
fn rotation(version: u64, threshold: u64, keys: &[&str], at: Timestamp) -> KeyRotation {
    KeyRotation {
        issuer: ISSUER.to_owned(),
        version,
        threshold,
        keys: keys.iter().map(|k| public(k)).collect(),
        panic_keys: None,
        issued_at: at,
    }
}

/// `canary verify SOURCE TRUST... --state STATE --at AT --format json`.
fn verify_with_state(source: &str, trust: &[&str], state: &str, at: Timestamp) -> Out {
    verify([source])
        .args(trust)
        .args([
            "--state",
            state,
            "--at",
            &at.to_string(),
            "--format",
            "json",
        ])
        .run()
}

/// The names of the files in `dir`, sorted.
fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

// ------------------------------------------------- 1. the pin is the root

/// A good issuer and a hostile source for it, as local publish folders.
struct Pins {
    s: Scratch,
    /// The issuer's real policy: 1 of {alice}.
    good: String,
    /// A wrong pin for the same issuer name: 1 of {mallory}.
    wrong: String,
    /// The issuer's statement 1, signed by alice.
    good_site: String,
    /// The same statement signed by carol, with a rotation {mallory} ->
    /// {carol} that is valid from the wrong pin only.
    hostile_site: String,
}

impl Pins {
    fn new() -> Self {
        let s = Scratch::new();
        let good = s.write("good.toml", trust_toml(1, &["alice"], &[]));
        let wrong = s.write("wrong.toml", trust_toml(1, &["mallory"], &[]));
        let good_site = s.tree("good-site", &Tree::publish(&[Doc::new(statement(1))]));
        // The hostile copy re-signs the issuer's own text (same payload, so
        // the same sequence and digest in state), under a key reached by a
        // rotation from the wrong pin.
        let mut hostile = Tree::publish(&[Doc::signed(statement(1), &["carol"])]);
        hostile.put(
            &rotation_path(2),
            seal(
                &rotation(2, 1, &["carol"], issued(1)),
                &["mallory", "carol"],
            ),
        );
        let hostile_site = s.tree("hostile-site", &hostile);
        Pins {
            s,
            good,
            wrong,
            good_site,
            hostile_site,
        }
    }
}

#[test]
fn a_rotation_remembered_from_a_wrong_pin_never_overrides_the_good_pin() {
    let p = Pins::new();
    let state = p.s.arg("state");
    let t = fresh_at(1);

    // Following the hostile rotation from the wrong pin is fine as such...
    let out = verify_with_state(&p.hostile_site, &["--trust", &p.wrong], &state, t);
    out.code(OK).verdict("ok");
    assert_eq!(
        out.one()["signers"],
        serde_json::json!([public("carol").id().to_string()])
    );
    // ...and the verifier remembers it beside the state.
    assert!(
        names_in(&p.s.path("state"))
            .iter()
            .any(|n| n.starts_with("example.org.trust.")),
        "the rotation is remembered in the state folder: {:?}",
        names_in(&p.s.path("state"))
    );

    // With the good pin, the issuer's own key counts: the remembered
    // rotation was reached from another pin and does not apply.
    let out = verify_with_state(
        &p.good_site,
        &["--trust", &p.good],
        &state,
        plus_secs(t, 60),
    );
    out.code(OK).verdict("ok");
    assert_eq!(
        out.one()["signers"],
        serde_json::json!([public("alice").id().to_string()])
    );

    // And the hostile source is refused under the good pin: its rotation
    // is not signed by the pinned keys.
    verify_with_state(
        &p.hostile_site,
        &["--trust", &p.good],
        &state,
        plus_secs(t, 120),
    )
    .code(INVALID)
    .verdict("invalid")
    .reason("invalid-rotation");
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(
            &p.s.read("state/example.org.json").expect("state")
        )
        .expect("state JSON")["sequence"],
        1
    );
}

#[test]
fn a_rotation_remembered_from_a_wrong_key_never_overrides_the_good_key() {
    let p = Pins::new();
    let state = p.s.arg("state");
    let t = fresh_at(1);
    let (alice, mallory) = (p.s.pub_file("alice"), p.s.pub_file("mallory"));
    let keys = |key: &str| -> Vec<String> {
        ["--key", key, "--issuer", ISSUER]
            .map(str::to_owned)
            .to_vec()
    };

    let wrong = keys(&mallory);
    let wrong: Vec<&str> = wrong.iter().map(String::as_str).collect();
    verify_with_state(&p.hostile_site, &wrong, &state, t)
        .code(OK)
        .verdict("ok");

    let good = keys(&alice);
    let good: Vec<&str> = good.iter().map(String::as_str).collect();
    verify_with_state(&p.good_site, &good, &state, plus_secs(t, 60))
        .code(OK)
        .verdict("ok");
    verify_with_state(&p.hostile_site, &good, &state, plus_secs(t, 120))
        .code(INVALID)
        .verdict("invalid")
        .reason("invalid-rotation");
}

#[test]
fn the_pins_max_age_applies_after_a_remembered_rotation() {
    let s = Scratch::new();
    let pin = s.write("pin.toml", trust_toml(1, &["alice"], &[]));
    let state = s.arg("state");
    // Trust version 1 {alice} -> 2 {bob}, signed by both; statement 2 by bob.
    let docs = chain(2, |_| {});
    let second = Doc::signed(docs[1].statement.clone(), &["bob"]);
    let mut site = Tree::publish(&[docs[0].clone(), second]);
    site.put(
        &rotation_path(2),
        seal(&rotation(2, 1, &["bob"], issued(2)), &["alice", "bob"]),
    );
    let site = s.tree("site", &site);

    let out = verify_with_state(&site, &["--trust", &pin], &state, fresh_at(2));
    out.code(OK);
    assert_eq!(
        out.one()["signers"],
        serde_json::json!([public("bob").id().to_string()])
    );

    // 40 days after statement 2 it is still fresh (next due after 90)...
    let at = plus_days(issued(2), 40);
    verify_with_state(&site, &["--trust", &pin], &state, at)
        .code(OK)
        .verdict("ok");
    // ...until the reader's pin says 30 days is the most it accepts.
    s.write(
        "pin.toml",
        format!("{}max_age = \"30d\"\n", trust_toml(1, &["alice"], &[])),
    );
    verify_with_state(&site, &["--trust", &pin], &state, at)
        .code(STALE)
        .verdict("stale")
        .reason("too-old");
    // The same holds without state (a control: the pin's max_age works).
    verify([
        site.as_str(),
        "--trust",
        &pin,
        "--at",
        &at.to_string(),
        "--format",
        "json",
    ])
    .run()
    .code(STALE)
    .reason("too-old");
}

/// Runs `canary ARGS` with `XDG_CONFIG_HOME` and `XDG_STATE_HOME` in `s`.
fn with_homes(s: &Scratch, args: &[&str]) -> Out {
    canary(args)
        .env("XDG_CONFIG_HOME", s.path("config"))
        .env("XDG_STATE_HOME", s.path("xdg-state"))
        .run()
}

#[test]
fn trust_remove_forgets_the_remembered_rotations() {
    let s = Scratch::new();
    let pin_file = "config/canary/trust/example.org.toml";
    let pin_text = trust_toml(1, &["alice"], &[]);
    s.write(pin_file, &pin_text);
    let docs = chain(2, |_| {});
    let second = Doc::signed(docs[1].statement.clone(), &["bob"]);
    let mut site = Tree::publish(&[docs[0].clone(), second]);
    site.put(
        &rotation_path(2),
        seal(&rotation(2, 1, &["bob"], issued(2)), &["alice", "bob"]),
    );
    let site = s.tree("site", &site);
    let at = fresh_at(2).to_string();

    // The default state folder is $XDG_STATE_HOME/canary; a local folder
    // uses state only when named.
    let default_state = s.arg("xdg-state/canary");
    with_homes(
        &s,
        &[
            "verify",
            &site,
            "--issuer",
            ISSUER,
            "--state",
            &default_state,
            "--at",
            &at,
        ],
    )
    .code(OK);
    assert!(
        s.path("xdg-state/canary/example.org.trust.json").is_file(),
        "the followed rotation is remembered as example.org.trust.json: {:?}",
        names_in(&s.path("xdg-state/canary"))
    );
    with_homes(&s, &["trust", "remove", ISSUER]).code(OK);
    assert!(!s.path(pin_file).exists(), "the pin is gone");
    assert!(
        !s.path("xdg-state/canary/example.org.trust.json").exists(),
        "the remembered rotations are forgotten"
    );
    assert!(
        s.path("xdg-state/canary/example.org.json").is_file(),
        "the state (rollback protection) stays"
    );

    // `--state DIR` names another state folder.
    s.write(pin_file, &pin_text);
    let other = s.arg("other-state");
    with_homes(
        &s,
        &[
            "verify", &site, "--issuer", ISSUER, "--state", &other, "--at", &at,
        ],
    )
    .code(OK);
    assert!(s.path("other-state/example.org.trust.json").is_file());
    with_homes(&s, &["trust", "remove", ISSUER, "--state", &other]).code(OK);
    assert!(!s.path(pin_file).exists());
    assert!(!s.path("other-state/example.org.trust.json").exists());
    assert!(s.path("other-state/example.org.json").is_file());
}

// ------------------------------------------- 2. history misses nothing

/// `canary verify SITE --history` without state, in JSON.
fn history(s: &Scratch, site: &str, at: Timestamp) -> Out {
    verify([
        site,
        "--trust",
        &s.trust(),
        "--at",
        &at.to_string(),
        "--no-state",
        "--history",
        "--format",
        "json",
    ])
    .run()
}

#[test]
fn a_panic_key_signature_on_an_archived_statement_trips() {
    let s = Scratch::new();
    let mut docs = chain(3, |_| {});
    // Statement 2 carries a valid signature by the pinned panic key.
    docs[1] = Doc::signed(docs[1].statement.clone(), &["alice", "panic"]);
    let site = s.tree("site", &Tree::publish(&docs));
    // The latest statement alone is fine: only the history shows it.
    verify([
        site.as_str(),
        "--trust",
        &s.trust(),
        "--at",
        &fresh_at(3).to_string(),
        "--no-state",
        "--format",
        "json",
    ])
    .run()
    .code(OK);
    history(&s, &site, fresh_at(3))
        .code(TRIPPED)
        .verdict("tripped")
        .reason("panic-key")
        .reason_says("panic-key", "sequence 2");
}

#[test]
fn a_final_archived_statement_trips() {
    let s = Scratch::new();
    let docs = chain(3, |st| {
        if st.sequence == 2 {
            st.is_final = Some(true);
        }
    });
    let site = s.tree("site", &Tree::publish(&docs));
    history(&s, &site, fresh_at(3))
        .code(TRIPPED)
        .verdict("tripped")
        .reason("final")
        .reason_says("final", "sequence 2");
}

#[test]
fn a_final_statement_trips_even_when_the_rotations_cannot_be_followed() {
    // DESIGN §5 step 10, "always": the statement is final and signed by
    // the pinned key; the rotation published beside it is garbage (refused)
    // or cannot be read.
    let s = Scratch::new();
    let mut st = statement(1);
    st.is_final = Some(true);
    let mut tree = Tree::publish(&[Doc::new(st)]);
    tree.put(&rotation_path(2), b"{not a rotation".to_vec());
    let site = s.tree("garbage", &tree);
    let run = |site: &str| s.verify_json(site, fresh_at(1)).run();
    run(&site).code(TRIPPED).verdict("tripped").reason("final");
    // A rotation that is a folder cannot be read: unreachable, and still
    // tripped.
    let site = s.path("unreadable");
    std::fs::create_dir_all(site.join(rotation_path(2))).expect("mkdir");
    let mut st = statement(1);
    st.is_final = Some(true);
    Tree::publish(&[Doc::new(st)]).write(&site);
    let site = site.to_str().expect("utf-8").to_owned();
    run(&site).code(TRIPPED).reason("final");
}

#[test]
fn a_promise_removed_before_a_missing_archive_file_is_still_reported() {
    let s = Scratch::new();
    // Statement 3 drops a promise of statement 2; statement 4 is missing.
    let docs = chain(5, |st| {
        if st.sequence >= 3 {
            st.statements.retain(|i| i.id != "no-gag-orders");
        }
    });
    let mut site = Tree::publish(&docs);
    site.remove(&Tree::archived(4));
    let site = s.tree("site", &site);
    let out = history(&s, &site, fresh_at(5));
    out.code(TRIPPED)
        .verdict("tripped")
        .reason("history-missing")
        .reason("statement-removed")
        .reason_says("statement-removed", "sequence 3");
}

// ----------------------------------------- 3. state never moves backwards

/// `canary verify ARGS` started in the background with its own HOME and
/// XDG_STATE_HOME under `home`.
fn spawn_canary(args: &[&str], home: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_canary"))
        .args(args)
        .env("HOME", home)
        .env("XDG_STATE_HOME", home)
        .env("XDG_CONFIG_HOME", home)
        .env("NO_COLOR", "1")
        .env_remove("GITHUB_STEP_SUMMARY")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("canary starts")
}

/// Waits for `child` to exit, at most `limit`; kills it and fails after.
fn wait_for(child: &mut Child, limit: Duration, what: &str) -> std::process::ExitStatus {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what} did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn a_verification_waits_for_the_issuers_state_lock() {
    let s = Scratch::new();
    let trust = s.trust();
    let file = s.write("1.json", &Doc::new(statement(1)).envelope);
    std::fs::create_dir_all(s.path("state")).expect("state folder");
    std::fs::create_dir_all(s.path("home")).expect("home");

    // Another verification of example.org holds the lock.
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(s.path("state/example.org.lock"))
        .expect("open the lock file");
    lock.lock().expect("lock it");

    let state = s.arg("state");
    let at = fresh_at(1).to_string();
    let mut child = spawn_canary(
        &[
            "verify", &file, "--trust", &trust, "--state", &state, "--at", &at,
        ],
        &s.path("home"),
    );
    let stderr = child.stderr.take().expect("piped stderr");
    let (tx, rx) = mpsc::channel::<String>();
    let reader = std::thread::spawn(move || {
        let mut all = String::new();
        for line in std::io::BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            all.push_str(&line);
            all.push('\n');
            let _ = tx.send(line);
        }
        all
    });

    // It says it is waiting, and waits.
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut said = Vec::new();
    let waiting = loop {
        match rx.recv_timeout(Duration::from_millis(50)) {
            Ok(line) => {
                let found = line.contains("waiting");
                said.push(line);
                if found {
                    break true;
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) if Instant::now() < deadline => {}
            Err(_) => break false,
        }
    };
    if !waiting {
        let status = wait_for(&mut child, Duration::from_secs(20), "canary verify");
        panic!(
            "canary never said it was waiting for the lock (exited with {status}); stderr: {said:?}"
        );
    }
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        child.try_wait().expect("try_wait").is_none(),
        "canary went on while the lock was held"
    );
    assert!(
        s.read("state/example.org.json").is_none(),
        "nothing was saved while the lock was held"
    );

    // Released, the verification completes and records the statement.
    lock.unlock().expect("unlock");
    drop(lock);
    let status = wait_for(&mut child, Duration::from_secs(30), "canary verify");
    let stderr = reader.join().expect("stderr reader");
    assert_eq!(status.code(), Some(OK), "stderr:\n{stderr}");
    let st: serde_json::Value =
        serde_json::from_slice(&s.read("state/example.org.json").expect("a state file"))
            .expect("state JSON");
    assert_eq!(st["sequence"], 1);
}

#[test]
fn concurrent_verifications_never_move_the_state_backwards() {
    // Each round, two verifications of example.org start at once: one of
    // the stored statement N (with --history, so it holds its state a while)
    // and one of its successor N+1. Whatever the order, the state ends at
    // N+1: the older one either finds the state still at N, or reports a
    // rollback and saves nothing.
    const BASE: u64 = 80;
    const ROUNDS: u64 = 16;
    let s = Scratch::new();
    let trust = s.trust();
    let state = s.arg("state");
    std::fs::create_dir_all(s.path("home")).expect("home");
    let docs = chain(BASE + ROUNDS, |_| {});

    for round in 1..=ROUNDS {
        let n = BASE + round - 1;
        let older = s.tree(
            &format!("site-{n}"),
            &Tree::publish(&docs[..usize::try_from(n).expect("small")]),
        );
        let newer = s.write(
            &format!("lone-{}.json", n + 1),
            &docs[usize::try_from(n).expect("small")].envelope,
        );
        let at = fresh_at(n + 1).to_string();
        let mut a = spawn_canary(
            &[
                "verify",
                &older,
                "--trust",
                &trust,
                "--state",
                &state,
                "--at",
                &at,
                "--history",
                "--format",
                "json",
            ],
            &s.path("home"),
        );
        let mut b = spawn_canary(
            &[
                "verify", &newer, "--trust", &trust, "--state", &state, "--at", &at, "--format",
                "json",
            ],
            &s.path("home"),
        );
        wait_for(&mut a, Duration::from_secs(60), "the older verification");
        wait_for(&mut b, Duration::from_secs(60), "the newer verification");
        let a = a.wait_with_output().expect("output");
        let b = b.wait_with_output().expect("output");
        let (a_out, b_out) = (
            String::from_utf8_lossy(&a.stdout).into_owned(),
            String::from_utf8_lossy(&b.stdout).into_owned(),
        );
        assert_eq!(
            b.status.code(),
            Some(OK),
            "round {round}: statement {} is fine: {b_out}\n{}",
            n + 1,
            String::from_utf8_lossy(&b.stderr)
        );
        match a.status.code() {
            Some(OK) => {}
            Some(INVALID) => assert!(a_out.contains("\"rollback\""), "round {round}: {a_out}"),
            other => panic!(
                "round {round}: statement {n} exited with {other:?}: {a_out}\n{}",
                String::from_utf8_lossy(&a.stderr)
            ),
        }
        let st: serde_json::Value =
            serde_json::from_slice(&s.read("state/example.org.json").expect("a state file"))
                .expect("state JSON");
        assert_eq!(
            st["sequence"],
            n + 1,
            "round {round}: the stored sequence moved backwards"
        );
    }
}

// ------------------------------------------- first contact: what a pin answers for

/// A pin answers only for the exact issuer it names: a policy for
/// `EXAMPLE.ORG`, stored where `example.org`'s pin would be, is refused.
#[test]
fn a_pin_answers_only_for_the_issuer_it_names() {
    let s = Scratch::new();
    let site = s.tree("site", &Tree::publish(&chain(1, |_| {})));
    let at = fresh_at(1).to_string();
    s.write(
        "config/canary/trust/example.org.toml",
        trust_toml(1, &["alice"], &[]).replace(ISSUER, "EXAMPLE.ORG"),
    );
    let out = with_homes(&s, &["verify", &site, "--issuer", ISSUER, "--at", &at]);
    out.code(USAGE);
    assert!(out.stderr.contains("answers only"), "{}", out.stderr);
    // The right pin works.
    s.write(
        "config/canary/trust/example.org.toml",
        trust_toml(1, &["alice"], &[]),
    );
    with_homes(&s, &["verify", &site, "--issuer", ISSUER, "--at", &at]).code(OK);
}

/// `--fingerprint` pins nothing unless the threshold and the panic keys
/// are confirmed too.
#[test]
fn fingerprints_confirm_threshold_and_panic_keys_too() {
    let s = Scratch::new();
    let policy = s.write("published.toml", trust_toml(1, &["alice"], &["panic"]));
    let alice = public("alice").id().to_string();
    let panic = public("panic").id().to_string();
    let pin = s.path("config/canary/trust/example.org.toml");
    // No threshold: a usage error.
    let out = with_homes(&s, &["trust", "add", &policy, "--fingerprint", &alice]);
    out.code(USAGE);
    assert!(out.stderr.contains("--threshold"), "{}", out.stderr);
    // The panic key not confirmed: refused.
    let out = with_homes(
        &s,
        &[
            "trust",
            "add",
            &policy,
            "--fingerprint",
            &alice,
            "--threshold",
            "1",
        ],
    );
    out.code(INVALID);
    assert!(out.stderr.contains("panic"), "{}", out.stderr);
    // The published panic keys are shown before anything is asked.
    assert!(out.stdout.contains(&panic), "{}", out.stdout);
    assert!(!pin.exists(), "nothing was pinned");
    // Everything confirmed: pinned.
    with_homes(
        &s,
        &[
            "trust",
            "add",
            &policy,
            "--fingerprint",
            &alice,
            "--threshold",
            "1",
            "--panic-key",
            &panic,
        ],
    )
    .code(OK);
    assert!(pin.exists());
}

// ------------------------------------------- show reads like verify

/// `show` keeps state as `verify` does: a canary `verify` reports tripped
/// is never shown as current; and after a rotation it names the threshold
/// of the policy in force.
#[test]
fn show_applies_the_state_rules_and_the_policy_in_force() {
    let s = Scratch::new();
    let docs = chain(2, |st| {
        if st.sequence == 2 {
            st.statements.retain(|i| i.id != "no-gag-orders");
        }
    });
    let first = s.tree("first", &Tree::publish(&docs[..1]));
    let second = s.tree("second", &Tree::publish(&docs));
    let trust = s.trust();
    let state = s.arg("state");
    let show = |site: &str, at: Timestamp| {
        canary([
            "show",
            site,
            "--trust",
            &trust,
            "--state",
            &state,
            "--at",
            &at.to_string(),
        ])
        .run()
    };
    show(&first, fresh_at(1)).code(OK);
    let out = show(&second, fresh_at(2));
    out.code(TRIPPED);
    assert!(out.stdout.contains("statement-removed"), "{}", out.stdout);
    assert!(out.stdout.contains("TRIPPED"), "{}", out.stdout);

    // After a rotation to 2 of {alice, bob}: "2 of the 2 required".
    let s = Scratch::new();
    let docs = chain(2, |_| {});
    let second = Doc::signed(docs[1].statement.clone(), &["alice", "bob"]);
    let mut site = Tree::publish(&[docs[0].clone(), second]);
    site.put(
        &rotation_path(2),
        seal(
            &rotation(2, 2, &["alice", "bob"], issued(2)),
            &["alice", "bob"],
        ),
    );
    let site = s.tree("site", &site);
    let out = canary([
        "show",
        &site,
        "--trust",
        &s.trust(),
        "--at",
        &fresh_at(2).to_string(),
    ])
    .run();
    out.code(OK);
    assert!(
        out.stdout.contains("Signed by 2 of the 2 required keys"),
        "{}",
        out.stdout
    );
    // The rotation followed is shown: versions, thresholds, and every key
    // of the pin that it removes.
    let pin = canary_core::TrustPolicy::from_toml(
        &std::fs::read_to_string(s.trust()).expect("read the pin"),
    )
    .expect("the pin parses");
    let kept = [public("alice").id(), public("bob").id()];
    let removed: Vec<String> = pin
        .keys()
        .keys()
        .filter(|id| !kept.contains(id))
        .map(|id| id.short())
        .collect();
    assert!(!removed.is_empty(), "the rotation removes a key of the pin");
    for needle in [
        "Keys: 1 rotation(s) followed from the pinned trust version 1:".to_owned(),
        format!(
            "version 1 -> 2: threshold {} -> 2 of 2 keys",
            pin.threshold()
        ),
        format!("removed: {}", removed.join(", ")),
    ] {
        assert!(
            out.stdout.contains(&needle),
            "lacks {needle:?}: {}",
            out.stdout
        );
    }
}

/// A reader whose state reached trust version 2 never goes back to an older
/// version: with the remembered rotations gone (an upgrade, `trust remove`
/// and a new pin) and a source that no longer serves them, the canary is
/// invalid instead of verified under the pin alone.
#[test]
fn trust_never_goes_back_below_the_version_a_past_run_reached() {
    let s = Scratch::new();
    let docs = chain(2, |_| {});
    let second = Doc::signed(docs[1].statement.clone(), &["bob"]);
    let mut with_rotation = Tree::publish(&[docs[0].clone(), second]);
    with_rotation.put(
        &rotation_path(2),
        seal(&rotation(2, 1, &["bob"], issued(2)), &["alice", "bob"]),
    );
    let rotated = s.tree("rotated", &with_rotation);
    let trust = s.trust();
    let state = s.arg("state");
    let at = fresh_at(2);
    verify_with_state(&rotated, &["--trust", &trust], &state, at).code(OK);
    std::fs::remove_file(s.path("state/example.org.trust.json")).expect("forget");
    // The old statement by alice, without the rotation.
    let old = s.tree("old", &Tree::publish(&docs[..1]));
    let out = verify_with_state(&old, &["--trust", &trust], &state, plus_days(at, 1));
    out.code(INVALID).reason("trust-went-back");
}

/// `canary watch`: a mirror is checked under the rotations its issuer's
/// source led to, not under the pin alone, so a statement by a key rotated
/// out since is refused on a mirror too.
#[test]
fn watch_mirrors_are_read_under_the_rotations_followed() {
    let s = Scratch::new();
    let docs = chain(2, |_| {});
    let by_bob = Doc::signed(docs[1].statement.clone(), &["bob"]);
    let mut primary = Tree::publish(&[docs[0].clone(), by_bob]);
    primary.put(
        &rotation_path(2),
        seal(&rotation(2, 1, &["bob"], issued(2)), &["alice", "bob"]),
    );
    let primary = s.tree("primary", &primary);
    // The mirror serves the same sequence signed by alice, whom rotation 2
    // removed, and no rotation.
    let mirror = s.tree("mirror", &Tree::publish(&docs));
    let list = s.write(
        "list.toml",
        format!(
            "[[issuer]]\nname = \"{ISSUER}\"\nsource = {primary:?}\nmirrors = [{mirror:?}]\ntrust = {:?}\n",
            s.trust()
        ),
    );
    let out = canary([
        "watch",
        &list,
        "--state",
        &s.arg("state"),
        "--at",
        &fresh_at(2).to_string(),
        "--format",
        "json",
    ])
    .run();
    out.code(INVALID);
    let line: serde_json::Value = serde_json::from_str(out.stdout.trim()).expect("one JSON line");
    assert_eq!(line["sources"][0]["verdict"], "ok", "{}", out.stdout);
    assert_eq!(line["sources"][1]["verdict"], "invalid", "{}", out.stdout);
}
