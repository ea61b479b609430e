//! `canary verify --history` and `--incidents` on local folders (DESIGN §5
//! step 11, §8, §9): publish folders and issuer folders, good chains,
//! promises removed or reworded along the way (naming the sequence), broken
//! links, missing or foreign archive files, and incident version chains
//! checked against the digests the statement lists.

mod util;

use canary_core::{Digest, IncidentRecord};
use util::*;

/// Verifies folder (or file) `source` at `at` without state, in JSON.
fn run(s: &Scratch, source: &str, at: canary_core::Timestamp, extra: &[&str]) -> Out {
    verify([
        source,
        "--trust",
        &s.trust(),
        "--at",
        &at.to_string(),
        "--no-state",
        "--format",
        "json",
    ])
    .args(extra)
    .run()
}

#[test]
fn good_chain_in_a_publish_folder() {
    let s = Scratch::new();
    let site = s.tree("site", &Tree::publish(&chain(3, |_| {})));
    let out = run(&s, &site, fresh_at(3), &["--history"]);
    out.code(OK).verdict("ok");
    assert_eq!(out.one()["sequence"], 3);
    assert!(out.reasons().is_empty(), "{}", out.stdout);
    // Human output says how much was checked.
    verify([
        site.as_str(),
        "--trust",
        &s.trust(),
        "--at",
        &fresh_at(3).to_string(),
        "--no-state",
        "--history",
    ])
    .run()
    .code(OK)
    .stdout_has("history: 3 statements");
}

#[test]
fn latest_file_of_a_publish_folder_finds_its_archive() {
    let s = Scratch::new();
    s.tree("site", &Tree::publish(&chain(3, |_| {})));
    run(
        &s,
        &s.arg("site/.well-known/canary.json"),
        fresh_at(3),
        &["--history"],
    )
    .code(OK);
}

#[test]
fn good_chain_in_an_issuer_folder() {
    let s = Scratch::new();
    let dir = s.tree("issuer", &Tree::issuer_folder(&chain(3, |_| {})));
    let out = run(&s, &dir, fresh_at(3), &["--history"]);
    out.code(OK);
    assert_eq!(
        out.one()["sequence"],
        3,
        "the highest numbered file is the latest"
    );
    // A file inside statements/ finds its archive too.
    run(
        &s,
        &s.arg("issuer/statements/000003.json"),
        fresh_at(3),
        &["--history"],
    )
    .code(OK);
    run(
        &s,
        &s.arg("issuer/statements/000002.json"),
        fresh_at(2),
        &["--history"],
    )
    .code(OK);
}

#[test]
fn single_statement_history() {
    let s = Scratch::new();
    let site = s.tree("site", &Tree::publish(&chain(1, |_| {})));
    run(&s, &site, fresh_at(1), &["--history"]).code(OK);
}

#[test]
fn promise_removed_along_the_way_is_tripped_naming_the_sequence() {
    let s = Scratch::new();
    let docs = chain(4, |st| {
        if st.sequence >= 3 {
            st.statements.retain(|i| i.id != "no-gag-orders");
        }
    });
    for (name, tree) in [
        ("site", Tree::publish(&docs)),
        ("issuer", Tree::issuer_folder(&docs)),
    ] {
        let dir = s.tree(name, &tree);
        // Without --history (and without state) nothing shows.
        run(&s, &dir, fresh_at(4), &[]).code(OK);
        let out = run(&s, &dir, fresh_at(4), &["--history"]);
        out.code(TRIPPED)
            .verdict("tripped")
            .reason("statement-removed")
            .reason_says("statement-removed", "at sequence 3")
            .reason_says("statement-removed", "no-gag-orders");
        assert_eq!(out.reasons(), ["statement-removed"], "{}", out.stdout);
    }
}

#[test]
fn promise_reworded_along_the_way_is_tripped_naming_the_sequence() {
    let s = Scratch::new();
    let docs = chain(3, |st| {
        if st.sequence >= 2 {
            st.statements[2].text = "We have rarely disclosed encryption keys.".to_owned();
        }
    });
    let site = s.tree("site", &Tree::publish(&docs));
    run(&s, &site, fresh_at(3), &["--history"])
        .code(TRIPPED)
        .reason("statement-changed")
        .reason_says("statement-changed", "at sequence 2");
}

#[test]
fn broken_previous_link_is_invalid() {
    let s = Scratch::new();
    let docs = chain(3, |st| {
        if st.sequence == 2 {
            st.previous = Some(Digest::of(b"not statement 1"));
        }
    });
    for (name, tree) in [
        ("site", Tree::publish(&docs)),
        ("issuer", Tree::issuer_folder(&docs)),
    ] {
        let dir = s.tree(name, &tree);
        run(&s, &dir, fresh_at(3), &[]).code(OK);
        run(&s, &dir, fresh_at(3), &["--history"])
            .code(INVALID)
            .verdict("invalid")
            .reason("broken-chain")
            .reason_says("broken-chain", "sequence 2");
    }
}

#[test]
fn dates_must_increase_along_the_chain() {
    let s = Scratch::new();
    let docs = chain(2, |st| {
        if st.sequence == 2 {
            st.issued_at = issued(1);
        }
    });
    let site = s.tree("site", &Tree::publish(&docs));
    run(&s, &site, fresh_at(2), &["--history"])
        .code(INVALID)
        .reason("broken-chain")
        .reason_says("broken-chain", "issued_at");
}

#[test]
fn missing_archive_file_is_invalid() {
    let s = Scratch::new();
    let docs = chain(3, |_| {});
    let mut site = Tree::publish(&docs);
    site.remove(&Tree::archived(2));
    let site = s.tree("site", &site);
    run(&s, &site, fresh_at(3), &["--history"])
        .code(INVALID)
        .reason("history-missing");

    let mut issuer = Tree::issuer_folder(&docs);
    issuer.remove("statements/000001.json");
    let issuer = s.tree("issuer", &issuer);
    run(&s, &issuer, fresh_at(3), &["--history"])
        .code(INVALID)
        .reason("history-missing");

    // A lone file has no archive at all.
    let lone = s.write("lone/canary.json", &docs[2].envelope);
    run(&s, &lone, fresh_at(3), &["--history"])
        .code(INVALID)
        .reason("history-missing");
}

#[test]
fn foreign_or_forged_archive_file_is_invalid() {
    let s = Scratch::new();
    let docs = chain(3, |_| {});
    // Statement 1 filed as statement 2.
    let mut site = Tree::publish(&docs);
    site.put(&Tree::archived(2), docs[0].envelope.clone());
    let dir = s.tree("misfiled", &site);
    run(&s, &dir, fresh_at(3), &["--history"])
        .code(INVALID)
        .reason("broken-chain")
        .reason_says("broken-chain", "holds sequence 1");
    // Statement 2 re-signed by mallory.
    let mut site = Tree::publish(&docs);
    site.put(
        &Tree::archived(2),
        Doc::signed(docs[1].statement.clone(), &["mallory"]).envelope,
    );
    let dir = s.tree("forged", &site);
    run(&s, &dir, fresh_at(3), &["--history"])
        .code(INVALID)
        .reason("broken-chain");
    // Garbage in the archive.
    let mut site = Tree::publish(&docs);
    site.put(&Tree::archived(1), b"\x00\xffgarbage".to_vec());
    let dir = s.tree("garbage", &site);
    run(&s, &dir, fresh_at(3), &["--history"])
        .code(INVALID)
        .reason("broken-chain");
}

/// Archives longer than one batch of the verifier (256 statements, whose
/// signatures are checked on every core): the outcome is that of checking
/// every statement in order, whatever batch a problem falls in.
#[test]
fn long_archives_give_the_first_problem_in_sequence_order() {
    const N: u64 = 600;
    let s = Scratch::new();
    let docs = chain(N, |_| {});
    let good = s.tree("good", &Tree::publish(&docs));
    let out = verify([
        good.as_str(),
        "--trust",
        &s.trust(),
        "--at",
        &fresh_at(N).to_string(),
        "--no-state",
        "--history",
    ])
    .run();
    out.code(OK).stdout_has("history: 600 statements");

    // A promise removed in the second batch is named there.
    let removed = chain(N, |st| {
        if st.sequence >= 400 {
            st.statements.retain(|i| i.id != "no-gag-orders");
        }
    });
    let dir = s.tree("removed", &Tree::publish(&removed));
    let out = run(&s, &dir, fresh_at(N), &["--history"]);
    out.code(TRIPPED)
        .reason_says("statement-removed", "at sequence 400");
    assert_eq!(out.reasons(), ["statement-removed"], "{}", out.stdout);

    // A broken link in one batch and a missing file in a later one: the
    // broken link is the first problem, and nothing past it belongs to the
    // history (the missing file is never reached).
    let mut site = Tree::publish(&chain(N, |st| {
        if st.sequence == 300 {
            st.previous = Some(Digest::of(b"elsewhere"));
        }
    }));
    site.remove(&Tree::archived(550));
    let dir = s.tree("broken-then-missing", &site);
    let out = run(&s, &dir, fresh_at(N), &["--history"]);
    out.code(INVALID)
        .reason_says("broken-chain", "at sequence 300");
    assert_eq!(out.reasons(), ["broken-chain"], "{}", out.stdout);

    // A forged statement before a missing file of the same batch: the
    // forgery is named.
    let mut site = Tree::publish(&docs);
    site.put(
        &Tree::archived(10),
        Doc::signed(docs[9].statement.clone(), &["mallory"]).envelope,
    );
    site.remove(&Tree::archived(200));
    let dir = s.tree("forged-then-missing", &site);
    let out = run(&s, &dir, fresh_at(N), &["--history"]);
    out.code(INVALID)
        .reason_says("broken-chain", "statements/000010.json");
    assert_eq!(out.reasons(), ["broken-chain"], "{}", out.stdout);

    // A missing file before a forged one, in the same batch: missing.
    let mut site = Tree::publish(&docs);
    site.remove(&Tree::archived(20));
    site.put(
        &Tree::archived(30),
        Doc::signed(docs[29].statement.clone(), &["mallory"]).envelope,
    );
    let dir = s.tree("missing-then-forged", &site);
    let out = run(&s, &dir, fresh_at(N), &["--history"]);
    assert_eq!(out.reasons(), ["history-missing"], "{}", out.stdout);

    // A broken link late in the last batch.
    let dir = s.tree(
        "late-break",
        &Tree::publish(&chain(N, |st| {
            if st.sequence == 599 {
                st.issued_at = issued(1);
            }
        })),
    );
    run(&s, &dir, fresh_at(N), &["--history"])
        .code(INVALID)
        .reason_says("broken-chain", "issued_at");
}

/// Versions 1 and 2 of incident `email-sandbox`, and a statement 1 that
/// lists version 2.
fn with_incident() -> (IncidentRecord, IncidentRecord, Doc) {
    let v1 = incident("email-sandbox", 1, None, false);
    let v2 = incident("email-sandbox", 2, Some(digest(&v1)), true);
    let mut st = statement(1);
    st.incidents = Some(vec![incident_ref(&v2)]);
    (v1, v2, Doc::new(st))
}

fn incident_site(v1: &[u8], v2: &[u8], doc: &Doc) -> Tree {
    let mut t = Tree::publish(std::slice::from_ref(doc));
    t.put(&Tree::incident_path("email-sandbox", 1), v1.to_vec());
    t.put(&Tree::incident_path("email-sandbox", 2), v2.to_vec());
    t
}

#[test]
fn listed_incidents_verify() {
    let s = Scratch::new();
    let (v1, v2, doc) = with_incident();
    let site = s.tree(
        "site",
        &incident_site(&seal(&v1, &["alice"]), &seal(&v2, &["bob"]), &doc),
    );
    let out = run(&s, &site, fresh_at(1), &["--incidents", "--history"]);
    out.code(OK);
    assert!(out.reasons().is_empty(), "{}", out.stdout);
    verify([
        site.as_str(),
        "--trust",
        &s.trust(),
        "--at",
        &fresh_at(1).to_string(),
        "--no-state",
        "--incidents",
    ])
    .run()
    .code(OK)
    .stdout_has("incidents: 1 verified");

    // The same in an issuer folder.
    let mut t = Tree::issuer_folder(std::slice::from_ref(&doc));
    t.put("incidents/email-sandbox/000001.json", seal(&v1, &["alice"]));
    t.put("incidents/email-sandbox/000002.json", seal(&v2, &["alice"]));
    let dir = s.tree("issuer", &t);
    run(&s, &dir, fresh_at(1), &["--incidents"]).code(OK);
}

#[test]
fn tampered_incident_is_invalid() {
    let s = Scratch::new();
    let (v1, v2, doc) = with_incident();
    // A validly signed version 2, but not the one the statement lists.
    let mut other = v2.clone();
    other.what_happened = "Nothing happened, really.".to_owned();
    let site = s.tree(
        "site",
        &incident_site(&seal(&v1, &["alice"]), &seal(&other, &["alice"]), &doc),
    );
    run(&s, &site, fresh_at(1), &[]).code(OK);
    run(&s, &site, fresh_at(1), &["--incidents"])
        .code(INVALID)
        .verdict("invalid")
        .reason("incident")
        .reason_says("incident", "differs");

    // Version 2 signed by nobody we trust.
    let site = s.tree(
        "forged",
        &incident_site(&seal(&v1, &["alice"]), &seal(&v2, &["mallory"]), &doc),
    );
    run(&s, &site, fresh_at(1), &["--incidents"])
        .code(INVALID)
        .reason("incident");

    // Version 2 whose previous does not name version 1.
    let mut unlinked = v2.clone();
    unlinked.previous = Some(Digest::of(b"another version 1"));
    let mut st = doc.statement.clone();
    st.incidents = Some(vec![incident_ref(&unlinked)]);
    let site = s.tree(
        "unlinked",
        &incident_site(
            &seal(&v1, &["alice"]),
            &seal(&unlinked, &["alice"]),
            &Doc::new(st),
        ),
    );
    run(&s, &site, fresh_at(1), &["--incidents"])
        .code(INVALID)
        .reason_says("incident", "previous");
}

#[test]
fn missing_incident_file_is_invalid() {
    let s = Scratch::new();
    let (v1, v2, doc) = with_incident();
    let mut t = incident_site(&seal(&v1, &["alice"]), &seal(&v2, &["alice"]), &doc);
    t.remove(&Tree::incident_path("email-sandbox", 1));
    let site = s.tree("site", &t);
    run(&s, &site, fresh_at(1), &["--incidents"])
        .code(INVALID)
        .reason("incident")
        .reason_says("incident", "missing");
    let mut t = incident_site(&seal(&v1, &["alice"]), &seal(&v2, &["alice"]), &doc);
    t.remove(&Tree::incident_path("email-sandbox", 2));
    let site = s.tree("site2", &t);
    run(&s, &site, fresh_at(1), &["--incidents"])
        .code(INVALID)
        .reason_says("incident", "version 2 is missing");
}
