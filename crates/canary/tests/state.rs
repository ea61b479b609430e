//! `canary verify --state DIR` with `--at` moving forward (DESIGN §5 step
//! 9): the forward path, rollback, equivocation, forks (one link and across
//! a gap, with the archive of a publish folder), the clock going back,
//! removed and reworded promises, and that state is written only after an
//! ok or warning verdict.

mod util;

use canary_core::Timestamp;
use util::*;

/// A scratch folder with a trust policy and a state folder.
struct Fx {
    s: Scratch,
    trust: String,
}

impl Fx {
    fn new() -> Self {
        let s = Scratch::new();
        let trust = s.trust();
        Fx { s, trust }
    }

    /// Verifies `source` at `at` with the state folder, in JSON.
    fn run(&self, source: &str, at: Timestamp) -> Out {
        verify([
            source,
            "--trust",
            &self.trust,
            "--state",
            &self.s.arg("state"),
            "--at",
            &at.to_string(),
            "--format",
            "json",
        ])
        .run()
    }

    /// Writes `doc` as `name` and verifies it at `at`.
    fn run_doc(&self, name: &str, doc: &Doc, at: Timestamp) -> Out {
        let file = self.s.write(name, &doc.envelope);
        self.run(&file, at)
    }

    /// The state file of the fixture issuer, raw.
    fn state_bytes(&self) -> Option<Vec<u8>> {
        self.s.read("state/example.org.json")
    }

    /// The state file of the fixture issuer, parsed.
    fn state(&self) -> serde_json::Value {
        serde_json::from_slice(&self.state_bytes().expect("a state file")).expect("state JSON")
    }

    /// Runs `f` and asserts the state file is byte for byte unchanged.
    fn unchanged(&self, f: impl FnOnce()) {
        let before = self.state_bytes();
        f();
        assert_eq!(
            before.as_deref().map(String::from_utf8_lossy),
            self.state_bytes().as_deref().map(String::from_utf8_lossy),
            "the state file changed after a failing verdict"
        );
    }
}

#[test]
fn forward_path_updates_the_state() {
    let fx = Fx::new();
    let docs = chain(3, |_| {});
    fx.run_doc("1.json", &docs[0], fresh_at(1)).code(OK);
    let st = fx.state();
    assert_eq!(st["issuer"], ISSUER);
    assert_eq!(st["sequence"], 1);
    assert_eq!(st["digest"], docs[0].digest.to_string());
    assert_eq!(st["verified_at"], fresh_at(1).to_string());
    assert_eq!(
        st["statements"]["no-warrants"],
        "We have never received a search warrant."
    );

    fx.run_doc("2.json", &docs[1], fresh_at(2)).code(OK);
    let st = fx.state();
    assert_eq!(st["sequence"], 2);
    assert_eq!(st["digest"], docs[1].digest.to_string());
    assert_eq!(st["verified_at"], fresh_at(2).to_string());

    // The same statement again, later: still ok, the time moves on.
    fx.run_doc("2.json", &docs[1], plus_days(fresh_at(2), 3))
        .code(OK);
    assert_eq!(
        fx.state()["verified_at"],
        plus_days(fresh_at(2), 3).to_string()
    );

    // A new promise is fine.
    let mut s3 = docs[2].statement.clone();
    s3.statements.push(canary_core::StatementItem {
        id: "no-raids".to_owned(),
        text: "We have never been raided.".to_owned(),
    });
    fx.run_doc("3.json", &Doc::new(s3), fresh_at(3)).code(OK);
    assert_eq!(fx.state()["sequence"], 3);
}

#[test]
fn rollback_is_invalid() {
    let fx = Fx::new();
    let docs = chain(2, |_| {});
    fx.run_doc("1.json", &docs[0], fresh_at(1)).code(OK);
    fx.run_doc("2.json", &docs[1], fresh_at(2)).code(OK);
    fx.unchanged(|| {
        fx.run_doc("1.json", &docs[0], plus_days(fresh_at(2), 1))
            .code(INVALID)
            .verdict("invalid")
            .reason("rollback");
    });
    assert_eq!(fx.state()["sequence"], 2);
}

#[test]
fn equivocation_is_invalid() {
    let fx = Fx::new();
    let a = Doc::new(statement(1));
    let mut other = statement(1);
    other.notes = Some("Another statement 1.".to_owned());
    let b = Doc::new(other);
    fx.run_doc("a.json", &a, fresh_at(1)).code(OK);
    fx.unchanged(|| {
        fx.run_doc("b.json", &b, plus_days(fresh_at(1), 1))
            .code(INVALID)
            .reason("equivocation");
    });
    assert_eq!(fx.state()["digest"], a.digest.to_string());
}

#[test]
fn clock_going_back_is_invalid() {
    let fx = Fx::new();
    let doc = Doc::new(statement(1));
    let later = plus_days(fresh_at(1), 5);
    fx.run_doc("1.json", &doc, later).code(OK);
    fx.unchanged(|| {
        fx.run_doc("1.json", &doc, fresh_at(1))
            .code(INVALID)
            .reason("clock-went-back");
    });
    assert_eq!(fx.state()["verified_at"], later.to_string());
    // The same time as the last run is not "back".
    fx.run_doc("1.json", &doc, later).code(OK);
}

#[test]
fn removed_or_reworded_promise_is_tripped() {
    let fx = Fx::new();
    let first = Doc::new(statement(1));
    fx.run_doc("1.json", &first, fresh_at(1)).code(OK);

    let mut removed = statement(2);
    removed.previous = Some(first.digest);
    removed.statements.retain(|i| i.id != "no-gag-orders");
    let removed = Doc::new(removed);
    fx.unchanged(|| {
        fx.run_doc("2.json", &removed, fresh_at(2))
            .code(TRIPPED)
            .verdict("tripped")
            .reason("statement-removed")
            .reason_says("statement-removed", "no-gag-orders")
            // The report quotes what the promise said, not only its id.
            .reason_says(
                "statement-removed",
                "We have never been placed under a gag order.",
            );
    });
    // Not recorded: the next run trips again.
    fx.run_doc("2.json", &removed, plus_days(fresh_at(2), 1))
        .code(TRIPPED)
        .reason("statement-removed");

    let mut reworded = statement(2);
    reworded.previous = Some(first.digest);
    reworded.statements[0].text =
        "We have received no search warrant we could talk about.".to_owned();
    fx.unchanged(|| {
        fx.run_doc("2b.json", &Doc::new(reworded), plus_days(fresh_at(2), 2))
            .code(TRIPPED)
            .reason("statement-changed")
            .reason_says("statement-changed", "no-warrants")
            .reason_says(
                "statement-changed",
                "We have never received a search warrant.",
            )
            .reason_says(
                "statement-changed",
                "We have received no search warrant we could talk about.",
            );
    });
    assert_eq!(fx.state()["sequence"], 1);
}

#[test]
fn state_is_written_only_after_ok_or_warning() {
    let fx = Fx::new();
    // Invalid, stale, tripped: nothing written.
    fx.run_doc(
        "m.json",
        &Doc::signed(statement(1), &["mallory"]),
        fresh_at(1),
    )
    .code(INVALID);
    assert!(fx.state_bytes().is_none());
    let doc = Doc::new(statement(1));
    fx.run_doc("1.json", &doc, doc.statement.expires_at)
        .code(STALE);
    assert!(fx.state_bytes().is_none());
    let mut f = statement(1);
    f.is_final = Some(true);
    fx.run_doc("f.json", &Doc::new(f), fresh_at(1))
        .code(TRIPPED);
    assert!(fx.state_bytes().is_none());
    let mut future = statement(1);
    future.issued_at = plus_days(fresh_at(1), 2);
    future.next_due = plus_days(future.issued_at, 90);
    future.expires_at = plus_days(future.next_due, 14);
    fx.run_doc("future.json", &Doc::new(future), fresh_at(1))
        .code(INVALID)
        .reason("future");
    assert!(fx.state_bytes().is_none());
    assert!(
        !fx.s.path("state").exists()
            || std::fs::read_dir(fx.s.path("state"))
                .expect("dir")
                .flatten()
                .all(|e| e.file_name().to_string_lossy().ends_with(".lock")),
        "no file but the issuer's lock in the state folder"
    );

    // A warning, even one that fails with --deny-warnings, is recorded.
    let late_at = doc.statement.next_due;
    let file = fx.s.write("1.json", &doc.envelope);
    verify([
        file.as_str(),
        "--trust",
        &fx.trust,
        "--state",
        &fx.s.arg("state"),
        "--at",
        &late_at.to_string(),
        "--deny-warnings",
        "--format",
        "json",
    ])
    .run()
    .code(WARNING)
    .reason("late");
    assert_eq!(fx.state()["verified_at"], late_at.to_string());
}

#[test]
fn damaged_state_is_a_usage_error_and_left_alone() {
    let fx = Fx::new();
    fx.s.write("state/example.org.json", "{not json");
    fx.run_doc("1.json", &Doc::new(statement(1)), fresh_at(1))
        .code(USAGE)
        .stderr_has("damaged");
    assert_eq!(fx.state_bytes().as_deref(), Some(&b"{not json"[..]));
}

#[test]
fn fork_at_the_next_sequence_is_invalid() {
    let fx = Fx::new();
    let ours = chain(2, |_| {});
    let theirs = chain(2, |s| {
        if s.sequence == 1 {
            s.notes = Some("A different history.".to_owned());
        }
    });
    fx.run_doc("1.json", &ours[0], fresh_at(1)).code(OK);
    fx.unchanged(|| {
        fx.run_doc("2.json", &theirs[1], fresh_at(2))
            .code(INVALID)
            .reason("fork");
    });
    fx.run_doc("2.json", &ours[1], fresh_at(2)).code(OK);
}

#[test]
fn fork_across_a_gap_is_found_in_the_archive() {
    let fx = Fx::new();
    let ours = chain(3, |_| {});
    let theirs = chain(3, |s| {
        if s.sequence == 1 {
            s.notes = Some("A different history.".to_owned());
        }
    });
    // Seen: our statement 1, from a publish folder.
    let site1 = fx.s.tree("site1", &Tree::publish(&ours[..1]));
    fx.run(&site1, fresh_at(1)).code(OK);

    // Now sequence 3 of another history: its archived 2 does not name our 1.
    let forked = fx.s.tree("forked", &Tree::publish(&theirs));
    fx.unchanged(|| {
        fx.run(&forked, fresh_at(3))
            .code(INVALID)
            .reason("fork")
            .reason_says("fork", "sequence 1");
    });

    // Sequence 3 whose archived 2 descends from our 1, but which does not
    // itself name that 2: the chain breaks inside the gap.
    let mut broken = Tree::publish(&ours[..2]);
    let mut s3 = ours[2].statement.clone();
    s3.previous = Some(theirs[1].digest);
    let s3 = Doc::new(s3);
    broken.put(LATEST, s3.envelope.clone());
    broken.put(&Tree::archived(3), s3.envelope);
    let broken = fx.s.tree("broken", &broken);
    fx.unchanged(|| {
        fx.run(&broken, fresh_at(3))
            .code(INVALID)
            .reason("broken-chain");
    });

    // The genuine history across the same gap is fine.
    let site3 = fx.s.tree("site3", &Tree::publish(&ours));
    fx.run(&site3, fresh_at(3)).code(OK);
    assert_eq!(fx.state()["sequence"], 3);
}

#[test]
fn gap_without_an_archive_is_accepted() {
    // DESIGN §5 step 9 checks the chain across a gap "when the archive is
    // available"; a bare file has none.
    let fx = Fx::new();
    let ours = chain(3, |_| {});
    fx.run_doc("1.json", &ours[0], fresh_at(1)).code(OK);
    fx.run_doc("3.json", &ours[2], fresh_at(3)).code(OK);
    assert_eq!(fx.state()["sequence"], 3);
}

#[test]
fn promise_removed_inside_a_gap_is_tripped_even_if_restored() {
    let fx = Fx::new();
    // Statement 2 drops a promise, statement 3 brings it back.
    let docs = chain(3, |s| {
        if s.sequence == 2 {
            s.statements.retain(|i| i.id != "no-key-disclosure");
        }
    });
    let site1 = fx.s.tree("site1", &Tree::publish(&docs[..1]));
    fx.run(&site1, fresh_at(1)).code(OK);
    let site3 = fx.s.tree("site3", &Tree::publish(&docs));
    fx.unchanged(|| {
        fx.run(&site3, fresh_at(3))
            .code(TRIPPED)
            .reason_says("statement-removed", "at sequence 2");
    });
}

#[test]
fn an_older_mirror_in_the_same_run_is_a_rollback() {
    let fx = Fx::new();
    let docs = chain(2, |_| {});
    let new = fx.s.write("primary.json", &docs[1].envelope);
    let old = fx.s.write("mirror.json", &docs[0].envelope);
    let out = verify([
        new.as_str(),
        old.as_str(),
        "--trust",
        &fx.trust,
        "--state",
        &fx.s.arg("state"),
        "--at",
        &fresh_at(2).to_string(),
        "--format",
        "json",
    ])
    .run();
    out.code(INVALID);
    let lines = out.json();
    assert_eq!(lines[0]["verdict"], "ok");
    assert_eq!(lines[1]["verdict"], "invalid");
    assert!(
        reason_codes(&lines[1]).contains(&"rollback".to_owned()),
        "{}",
        out.stdout
    );
    assert_eq!(fx.state()["sequence"], 2);
}

#[test]
fn the_state_file_name_stays_inside_the_state_folder() {
    let s = Scratch::new();
    let issuer = "../../escape/it";
    let trust = s.write(
        "trust.toml",
        trust_toml(1, &["alice"], &[]).replace(ISSUER, issuer),
    );
    let mut st = statement(1);
    st.issuer = issuer.to_owned();
    let file = s.write("canary.json", Doc::new(st).envelope);
    verify([
        file.as_str(),
        "--trust",
        &trust,
        "--state",
        &s.arg("deep/state"),
        "--at",
        &fresh_at(1).to_string(),
    ])
    .run()
    .code(OK);
    let written: Vec<_> = std::fs::read_dir(s.path("deep/state"))
        .expect("state folder")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.ends_with(".lock"))
        .collect();
    assert_eq!(written.len(), 1, "{written:?}");
    assert!(
        !written[0].contains('/') && !written[0].starts_with('.'),
        "{written:?}"
    );
    assert!(!s.path("escape").exists() && !s.path("deep/escape").exists());
}

#[test]
fn state_folder_that_is_a_file_is_a_usage_error() {
    let fx = Fx::new();
    fx.s.write("state", "not a folder");
    fx.run_doc("1.json", &Doc::new(statement(1)), fresh_at(1))
        .code(USAGE);
}
