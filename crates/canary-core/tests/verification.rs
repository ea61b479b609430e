//! Verification beyond single documents: state between runs, history,
//! key rotations, incident records and drafts.

use std::collections::BTreeMap;

use canary_core::{
    Compromise, Digest, Envelope, Finding, HistoryWalk, Impact, IncidentKind, IncidentRecord,
    IncidentStatus, IncidentUpdate, KeyRotation, Measure, MeasureKind, Payload, PayloadError,
    PublicKey, SigningKey, State, Statement, StatementItem, Timestamp, TrustPolicy, Verdict,
    Verified, VerifiedStatement, VerifyOptions, Zeroizing, parse_draft, to_payload,
    verify_document, verify_history, verify_rotation, verify_statement,
};

const ISSUER: &str = "example.org";

fn key(name: &str) -> SigningKey {
    let path = format!("{}/testdata/keys/{name}.seed", env!("CARGO_MANIFEST_DIR"));
    let hex = std::fs::read_to_string(path).expect("seed file");
    let hex = hex.trim();
    let mut seed = Zeroizing::new([0u8; 32]);
    for (i, b) in seed.iter_mut().enumerate() {
        *b = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).expect("hex");
    }
    SigningKey::from_seed(&seed).expect("seed")
}

fn pk(name: &str) -> PublicKey {
    *key(name).public_key()
}

fn ts(s: &str) -> Timestamp {
    s.parse().expect("timestamp")
}

fn policy(names: &[&str], threshold: u64) -> TrustPolicy {
    TrustPolicy::new(
        ISSUER,
        1,
        threshold,
        names.iter().map(|n| pk(n)),
        [pk("panic")],
    )
    .expect("policy")
}

fn items(pairs: &[(&str, &str)]) -> Vec<StatementItem> {
    pairs
        .iter()
        .map(|(id, text)| StatementItem {
            id: (*id).to_owned(),
            text: (*text).to_owned(),
        })
        .collect()
}

/// Statement `sequence` of a quarterly chain starting 2026-01-01.
fn statement(sequence: u64, previous: Option<Digest>, promises: &[(&str, &str)]) -> Statement {
    let issued = ts("2026-01-01T00:00:00Z")
        .checked_add(chrono::TimeDelta::days(90 * (sequence as i64 - 1)))
        .expect("date");
    Statement {
        issuer: ISSUER.to_owned(),
        sequence,
        issued_at: issued,
        next_due: issued
            .checked_add(chrono::TimeDelta::days(90))
            .expect("date"),
        expires_at: issued
            .checked_add(chrono::TimeDelta::days(104))
            .expect("date"),
        statements: items(promises),
        previous,
        incidents: None,
        freshness: None,
        notes: None,
        is_final: None,
    }
}

fn sign<T: Payload>(doc: &T, signers: &[&str]) -> Vec<u8> {
    let payload = to_payload(doc).expect("valid document");
    let mut env = Envelope::sign(T::PAYLOAD_TYPE, payload, &key(signers[0]));
    for s in &signers[1..] {
        env.add_signature(&key(s));
    }
    env.to_json()
}

fn verified(s: &Statement) -> Verified<Statement> {
    verify_document::<Statement>(&sign(s, &["alice"]), &policy(&["alice"], 1)).expect("verifies")
}

const PROMISES: &[(&str, &str)] = &[
    ("no-warrants", "We have never received a warrant."),
    ("no-gag-orders", "We have never been gagged."),
];

/// A chain of `n` statements with the same promises.
fn chain(n: u64) -> Vec<Verified<Statement>> {
    let mut out: Vec<Verified<Statement>> = Vec::new();
    for seq in 1..=n {
        let prev = out.last().map(Verified::digest);
        out.push(verified(&statement(seq, prev, PROMISES)));
    }
    out
}

fn codes(findings: &[Finding]) -> Vec<&'static str> {
    findings.iter().map(Finding::code).collect()
}

// ---------------------------------------------------------------- state

#[test]
fn state_accepts_the_same_and_the_next_statement() {
    let c = chain(2);
    let now = ts("2026-02-01T00:00:00Z");
    let state = State::record(&c[0], now, 1);
    assert_eq!(state.check(&c[0], now), vec![]);
    assert_eq!(state.check(&c[1], now), vec![]);
}

#[test]
fn state_detects_rollback_equivocation_and_clock_going_back() {
    let c = chain(2);
    let now = ts("2026-05-01T00:00:00Z");
    let state = State::record(&c[1], now, 1);
    assert_eq!(codes(&state.check(&c[0], now)), ["rollback"]);

    let other = verified(&statement(
        2,
        Some(c[0].digest()),
        &[("no-warrants", "Other text.")],
    ));
    let found = state.check(&other, now);
    assert_eq!(codes(&found), ["equivocation"]);
    assert_eq!(found[0].verdict(), Verdict::Invalid);

    let earlier = ts("2026-04-30T23:59:59Z");
    assert_eq!(codes(&state.check(&c[1], earlier)), ["clock-went-back"]);
}

#[test]
fn state_detects_a_fork_at_the_next_sequence() {
    let c = chain(1);
    let now = ts("2026-02-01T00:00:00Z");
    let state = State::record(&c[0], now, 1);
    let foreign = verified(&statement(
        2,
        Some(Digest::of(b"another history")),
        PROMISES,
    ));
    assert_eq!(codes(&state.check(&foreign, now)), ["fork"]);
}

#[test]
fn state_trips_on_removed_or_reworded_promises_but_not_on_new_ones() {
    let c = chain(1);
    let now = ts("2026-02-01T00:00:00Z");
    let state = State::record(&c[0], now, 1);

    let removed = verified(&statement(2, Some(c[0].digest()), &PROMISES[..1]));
    let found = state.check(&removed, now);
    assert_eq!(
        found,
        vec![Finding::StatementRemoved {
            id: "no-gag-orders".into(),
            sequence: 2,
            text: "We have never been gagged.".into(),
        }]
    );
    assert_eq!(found[0].verdict(), Verdict::Tripped);

    let reworded = verified(&statement(
        2,
        Some(c[0].digest()),
        &[
            PROMISES[0],
            ("no-gag-orders", "We have rarely been gagged."),
        ],
    ));
    let changed = state.check(&reworded, now);
    assert_eq!(codes(&changed), ["statement-changed"]);
    // A tripped report quotes the promise: the old text and the new.
    let said = changed[0].to_string();
    assert!(
        said.contains("We have never been gagged.") && said.contains("We have rarely been gagged."),
        "{said}"
    );

    let more = verified(&statement(
        2,
        Some(c[0].digest()),
        &[PROMISES[0], PROMISES[1], ("no-raids", "No raids.")],
    ));
    assert_eq!(state.check(&more, now), vec![]);
}

#[test]
fn state_round_trips_through_json_and_refuses_unknown_fields() {
    let c = chain(1);
    let state = State::record(&c[0], ts("2026-02-01T00:00:00Z"), 3);
    let json = serde_json::to_string(&state).expect("serialize");
    assert_eq!(serde_json::from_str::<State>(&json).expect("parse"), state);
    let extra = json.replacen('{', "{\"x\":1,", 1);
    assert!(serde_json::from_str::<State>(&extra).is_err());
}

// ---------------------------------------------------------------- history

#[test]
fn a_good_history_verifies() {
    assert_eq!(verify_history(None, &chain(5)), vec![]);
}

#[test]
fn history_names_the_sequence_where_a_promise_disappeared() {
    let mut c = chain(2);
    let s3 = verified(&statement(3, Some(c[1].digest()), &PROMISES[1..]));
    let s4 = verified(&statement(4, Some(s3.digest()), &PROMISES[1..]));
    c.extend([s3, s4]);
    assert_eq!(
        verify_history(None, &c),
        vec![Finding::StatementRemoved {
            id: "no-warrants".into(),
            sequence: 3,
            text: "We have never received a warrant.".into(),
        }]
    );
}

#[test]
fn history_refuses_broken_links() {
    let c = chain(2);

    // previous points elsewhere.
    let bad = verified(&statement(3, Some(c[0].digest()), PROMISES));
    let findings = verify_history(None, &[c[0].clone(), c[1].clone(), bad]);
    assert_eq!(codes(&findings), ["broken-chain"]);

    // a gap in the sequence.
    let gap = verified(&statement(4, Some(c[1].digest()), PROMISES));
    assert_eq!(
        codes(&verify_history(None, &[c[0].clone(), c[1].clone(), gap])),
        ["broken-chain"]
    );

    // a date that does not move forward.
    let mut same_day = statement(3, Some(c[1].digest()), PROMISES);
    same_day.issued_at = c[1].document().issued_at;
    let same_day = verified(&same_day);
    assert_eq!(
        codes(&verify_history(
            None,
            &[c[0].clone(), c[1].clone(), same_day]
        )),
        ["broken-chain"]
    );

    // not starting at sequence 1.
    assert_eq!(codes(&verify_history(None, &c[1..])), ["broken-chain"]);
}

#[test]
fn history_continues_from_a_stored_state() {
    let c = chain(4);
    let state = State::record(&c[1], ts("2026-05-01T00:00:00Z"), 1);
    assert_eq!(verify_history(Some(&state), &c[2..]), vec![]);
    // An archive that does not reach the seen digest is a fork.
    let other = chain(1);
    let state = State::record(&other[0], ts("2026-02-01T00:00:00Z"), 1);
    let foreign = verified(&statement(2, Some(Digest::of(b"x")), PROMISES));
    assert_eq!(codes(&verify_history(Some(&state), &[foreign])), ["fork"]);
}

/// The findings of [`HistoryWalk`] fed `chain` one by one, and how many
/// statements it accepted.
fn walked(
    start: Option<&State>,
    chain: &[canary_core::VerifiedStatement],
) -> (Vec<Finding>, usize) {
    let mut walk = HistoryWalk::new(start);
    for item in chain {
        if !walk.push(item.clone()) {
            break;
        }
    }
    let n = walk.len();
    (walk.finish(None), n)
}

#[test]
fn a_walk_one_statement_at_a_time_finds_what_verify_history_finds() {
    let c = chain(5);
    let removed = verified(&statement(6, Some(c[4].digest()), &PROMISES[1..]));
    let after_removed = verified(&statement(7, Some(removed.digest()), &PROMISES[1..]));
    let wrong_link = verified(&statement(6, Some(c[0].digest()), PROMISES));
    let gap = verified(&statement(7, Some(c[4].digest()), PROMISES));
    let state = State::record(&c[1], ts("2026-05-01T00:00:00Z"), 1);
    let foreign_state = State::record(&chain(1)[0], ts("2026-02-01T00:00:00Z"), 1);
    let foreign = verified(&statement(2, Some(Digest::of(b"x")), PROMISES));

    let mut tripped = c.clone();
    tripped.extend([removed, after_removed]);
    let mut broken_then_more = c.clone();
    broken_then_more.extend([wrong_link, gap.clone()]);
    let mut gapped = c.clone();
    gapped.push(gap);

    // (start, statements, finding codes, statements accepted)
    type Case<'a> = (
        Option<&'a State>,
        &'a [VerifiedStatement],
        Vec<&'a str>,
        usize,
    );
    let cases: Vec<Case<'_>> = vec![
        (None, &c, vec![], 5),
        (None, &[], vec![], 0),
        (None, &tripped, vec!["statement-removed"], 7),
        (None, &broken_then_more, vec!["broken-chain"], 5),
        (None, &gapped, vec!["broken-chain"], 5),
        (None, &c[1..], vec!["broken-chain"], 4),
        (Some(&state), &c[2..], vec![], 3),
        (
            Some(&foreign_state),
            std::slice::from_ref(&foreign),
            vec!["fork"],
            1,
        ),
    ];
    for (i, (start, items, expected, accepted)) in cases.into_iter().enumerate() {
        let (found, n) = walked(start, items);
        assert_eq!(found, verify_history(start, items), "case {i}");
        assert_eq!(codes(&found), expected, "case {i}");
        assert_eq!(n, accepted, "case {i}: statements accepted");
    }
}

#[test]
fn a_walk_ignores_everything_after_a_broken_link() {
    let c = chain(3);
    let bad = verified(&statement(4, Some(c[0].digest()), PROMISES));
    let mut walk = HistoryWalk::new(None);
    assert!(walk.is_empty());
    for item in &c {
        assert!(walk.push(item.clone()));
    }
    assert!(!walk.push(bad));
    // Even a statement that would follow the last good one is refused now.
    let next = verified(&statement(4, Some(c[2].digest()), PROMISES));
    assert!(!walk.push(next));
    assert_eq!(walk.len(), 3);
    assert_eq!(codes(&walk.finish(None)), ["broken-chain"]);
}

// ---------------------------------------------------------------- thresholds and panic keys

#[test]
fn unknown_keyids_are_ignored_and_distinct_keys_counted() {
    let s = statement(1, None, PROMISES);
    let opts = VerifyOptions::at(ts("2026-01-02T00:00:00Z"));
    // mallory's signature is ignored; alice's suffices for 1-of-1.
    let bytes = sign(&s, &["mallory", "alice"]);
    let report = verify_statement(&bytes, &policy(&["alice"], 1), &opts);
    assert_eq!(report.verdict(false), Verdict::Ok);
    assert_eq!(
        report.statement.expect("authentic").signers(),
        &[pk("alice").id()]
    );
    // 2-of-3 with alice and carol.
    let bytes = sign(&s, &["carol", "alice"]);
    let report = verify_statement(&bytes, &policy(&["alice", "bob", "carol"], 2), &opts);
    assert_eq!(report.verdict(false), Verdict::Ok);
    // 1 of 2 required.
    let bytes = sign(&s, &["alice"]);
    let report = verify_statement(&bytes, &policy(&["alice", "bob"], 2), &opts);
    assert_eq!(codes(&report.findings), ["threshold-not-met"]);
    assert!(report.statement.is_none());
}

#[test]
fn a_panic_signature_trips_even_without_the_threshold() {
    let s = statement(1, None, PROMISES);
    let opts = VerifyOptions::at(ts("2026-01-02T00:00:00Z"));
    let report = verify_statement(&sign(&s, &["panic"]), &policy(&["alice"], 1), &opts);
    assert_eq!(codes(&report.findings), ["panic-key", "bad-signature"]);
    assert_eq!(report.verdict(false), Verdict::Tripped);
    let report = verify_statement(
        &sign(&s, &["alice", "panic"]),
        &policy(&["alice"], 1),
        &opts,
    );
    assert_eq!(codes(&report.findings), ["panic-key"]);
    assert_eq!(report.verdict(false), Verdict::Tripped);
}

#[test]
fn a_panic_signed_statement_is_read_as_signed_by_its_panic_key_only() {
    let s = statement(1, None, PROMISES);
    let chain = canary_core::TrustChain::new(policy(&["alice"], 1));
    // Signed by the panic key alone: read, with the panic key as its only
    // signer of any kind.
    let v = chain
        .verify_by_panic_key::<Statement>(&sign(&s, &["panic"]))
        .expect("a panic key signed it");
    assert!(v.signers().is_empty());
    assert_eq!(v.panic_signers(), [pk("panic").id()]);
    assert_eq!(v.document(), &s);
    // Not signed by a panic key: refused, even when validly signed.
    assert!(
        chain
            .verify_by_panic_key::<Statement>(&sign(&s, &["alice"]))
            .is_err()
    );
    // A chain without panic keys reads nothing this way.
    let none = canary_core::TrustChain::new(
        TrustPolicy::new(ISSUER, 1, 1, [pk("alice")], []).expect("policy"),
    );
    assert!(
        none.verify_by_panic_key::<Statement>(&sign(&s, &["panic"]))
            .is_err()
    );
}

#[test]
fn max_age_from_the_options_only_shortens_the_policys() {
    let s = statement(1, None, PROMISES);
    let bytes = sign(&s, &["alice"]);
    let p = policy(&["alice"], 1).with_max_age(chrono::TimeDelta::days(10));
    let mut opts = VerifyOptions::at(ts("2026-01-20T00:00:00Z"));
    assert_eq!(
        codes(&verify_statement(&bytes, &p, &opts).findings),
        ["too-old"]
    );
    // The pin's max_age always applies (DESIGN §3.5): a longer one given
    // by the reader does not lift it.
    opts.max_age = Some(chrono::TimeDelta::days(30));
    assert_eq!(
        codes(&verify_statement(&bytes, &p, &opts).findings),
        ["too-old"]
    );
    // A shorter one applies, with or without the policy's.
    opts.max_age = Some(chrono::TimeDelta::days(1));
    let old_enough = VerifyOptions {
        now: ts("2026-01-03T00:00:00Z"),
        ..opts.clone()
    };
    assert_eq!(
        codes(&verify_statement(&bytes, &p, &old_enough).findings),
        ["too-old"]
    );
    let unbounded = policy(&["alice"], 1);
    assert_eq!(
        codes(&verify_statement(&bytes, &unbounded, &old_enough).findings),
        ["too-old"]
    );
    opts.max_age = None;
    assert_eq!(
        verify_statement(&bytes, &unbounded, &opts).verdict(true),
        Verdict::Ok
    );
}

#[test]
fn verdict_severity_order() {
    let order = [
        Verdict::Tripped,
        Verdict::Invalid,
        Verdict::Stale,
        Verdict::Unreachable,
        Verdict::Warning,
        Verdict::Ok,
    ];
    for (i, a) in order.iter().enumerate() {
        for b in &order[i..] {
            assert_eq!(a.worst(*b), *a);
            assert_eq!(b.worst(*a), *a);
        }
    }
    let codes: Vec<u8> = order.iter().map(|v| v.exit_code()).collect();
    assert_eq!(codes, [5, 1, 3, 4, 6, 0]);
}

// ---------------------------------------------------------------- rotations

fn rotation(version: u64, keys: &[&str], threshold: u64) -> KeyRotation {
    KeyRotation {
        issuer: ISSUER.to_owned(),
        version,
        threshold,
        keys: keys.iter().map(|k| pk(k)).collect(),
        panic_keys: Some(vec![pk("panic")]),
        issued_at: ts("2026-03-01T00:00:00Z"),
    }
}

#[test]
fn rotation_needs_old_and_new_thresholds() {
    let v1 = policy(&["alice"], 1);
    // alice (old) + bob (new): accepted.
    let bytes = sign(&rotation(2, &["bob"], 1), &["alice", "bob"]);
    let (v2, _) = verify_rotation(&bytes, &v1).expect("valid rotation");
    assert_eq!(v2.version(), 2);
    assert!(v2.keys().contains_key(&pk("bob").id()));
    assert!(!v2.keys().contains_key(&pk("alice").id()));

    // Statements by the removed key no longer verify under v2.
    let s = statement(1, None, PROMISES);
    let opts = VerifyOptions::at(ts("2026-01-02T00:00:00Z"));
    assert_eq!(
        verify_statement(&sign(&s, &["alice"]), &v2, &opts).verdict(false),
        Verdict::Invalid
    );

    // Only the new key signed: the old set never vouched for it.
    let bytes = sign(&rotation(2, &["bob"], 1), &["bob"]);
    let err = verify_rotation(&bytes, &v1).expect_err("new keys alone");
    assert_eq!(codes(&err), ["bad-signature"]);

    // Only the old key signed: the new set did not accept it.
    let bytes = sign(&rotation(2, &["bob"], 1), &["alice"]);
    let err = verify_rotation(&bytes, &v1).expect_err("old keys alone");
    assert_eq!(codes(&err), ["invalid-rotation"]);
}

#[test]
fn rotation_versions_are_consecutive() {
    let v1 = policy(&["alice"], 1);
    let gap = sign(&rotation(3, &["alice", "bob"], 2), &["alice", "bob"]);
    assert_eq!(
        codes(&verify_rotation(&gap, &v1).expect_err("gap")),
        ["invalid-rotation"]
    );
    let (v2, _) = verify_rotation(
        &sign(&rotation(2, &["alice", "bob"], 2), &["alice", "bob"]),
        &v1,
    )
    .expect("valid");
    let downgrade = sign(&rotation(2, &["alice", "bob"], 2), &["alice", "bob"]);
    assert_eq!(
        codes(&verify_rotation(&downgrade, &v2).expect_err("replayed")),
        ["invalid-rotation"]
    );
    // v2 needs 2 of alice, bob: alice alone cannot rotate on.
    let alone = sign(&rotation(3, &["alice"], 1), &["alice"]);
    assert_eq!(
        codes(&verify_rotation(&alone, &v2).expect_err("threshold")),
        ["threshold-not-met"]
    );
}

#[test]
fn rotation_type_cannot_pass_as_a_statement() {
    let bytes = sign(&rotation(2, &["alice"], 1), &["alice"]);
    let report = verify_statement(
        &bytes,
        &policy(&["alice"], 1),
        &VerifyOptions::at(ts("2026-03-02T00:00:00Z")),
    );
    assert_eq!(codes(&report.findings), ["wrong-payload-type"]);
}

// ---------------------------------------------------------------- incidents and drafts

fn incident() -> IncidentRecord {
    IncidentRecord {
        issuer: ISSUER.to_owned(),
        id: "push-certificate-expired".to_owned(),
        version: 1,
        title: "Push notifications failed: certificate expired".to_owned(),
        kind: IncidentKind::Incident,
        impact: Impact::Major,
        status: IncidentStatus::Investigating,
        started_at: ts("2026-02-01T08:00:00Z"),
        resolved_at: None,
        affected: vec!["push-notifications".to_owned()],
        what_happened: "The push certificate expired.".to_owned(),
        compromised: Compromise {
            summary: "Nothing was compromised.".to_owned(),
            data_lost: false,
            data_exposed: false,
        },
        measures: vec![Measure {
            action: "Renew certificates a month ahead.".to_owned(),
            kind: MeasureKind::Prevent,
            done: false,
        }],
        updates: vec![IncidentUpdate {
            at: ts("2026-02-01T08:30:00Z"),
            status: IncidentStatus::Investigating,
            body: "Looking into it.".to_owned(),
        }],
        previous: None,
    }
}

#[test]
fn incident_records_verify_and_enforce_their_rules() {
    let rec = incident();
    let v = verify_document::<IncidentRecord>(&sign(&rec, &["alice"]), &policy(&["alice"], 1))
        .expect("verifies");
    assert_eq!(v.document(), &rec);

    let mut resolved_without_date = rec.clone();
    resolved_without_date.status = IncidentStatus::Resolved;
    resolved_without_date.updates[0].status = IncidentStatus::Resolved;
    let mut date_without_resolution = rec.clone();
    date_without_resolution.resolved_at = Some(ts("2026-02-02T00:00:00Z"));
    let mut status_mismatch = rec.clone();
    status_mismatch.status = IncidentStatus::Monitoring;
    let mut updates_backwards = rec.clone();
    updates_backwards.updates.push(IncidentUpdate {
        at: ts("2026-02-01T08:00:00Z"),
        status: IncidentStatus::Investigating,
        body: "Earlier.".to_owned(),
    });
    let mut version_two_without_previous = rec.clone();
    version_two_without_previous.version = 2;
    for (name, bad, field) in [
        (
            "resolved without resolved_at",
            resolved_without_date,
            "resolved_at",
        ),
        (
            "resolved_at while open",
            date_without_resolution,
            "resolved_at",
        ),
        ("status differs from last update", status_mismatch, "status"),
        ("updates out of order", updates_backwards, "updates[1].at"),
        (
            "version 2 without previous",
            version_two_without_previous,
            "previous",
        ),
    ] {
        match to_payload(&bad) {
            Err(PayloadError::Invalid { errors, .. }) => {
                assert!(
                    errors.iter().any(|e| e.field == field),
                    "{name}: {errors:?}"
                )
            }
            other => panic!("{name}: expected a rule violation, got {other:?}"),
        }
    }
}

#[test]
fn drafts_accept_any_formatting_but_the_same_rules() {
    let s = statement(1, None, PROMISES);
    let pretty = serde_json::to_vec_pretty(&s).expect("json");
    assert_eq!(parse_draft::<Statement>(&pretty).expect("draft"), s);
    let mut value: BTreeMap<String, serde_json::Value> =
        serde_json::from_slice(&pretty).expect("json");
    value.insert("sequence".into(), 0.into());
    let bad = serde_json::to_vec_pretty(&value).expect("json");
    assert!(matches!(
        parse_draft::<Statement>(&bad),
        Err(PayloadError::Invalid { .. })
    ));
}

#[test]
fn history_refuses_an_incident_that_disappears_or_goes_back() {
    let c = chain(1);
    let listed = |version: u64| {
        Some(vec![canary_core::IncidentRef {
            id: "outage".into(),
            version,
            digest: Digest::of(b"incident"),
        }])
    };
    let mut s2 = statement(2, Some(c[0].digest()), PROMISES);
    s2.incidents = listed(2);
    let s2 = verified(&s2);
    let mut gone = statement(3, Some(s2.digest()), PROMISES);
    gone.incidents = None;
    let mut back = statement(3, Some(s2.digest()), PROMISES);
    back.incidents = listed(1);
    let mut newer = statement(3, Some(s2.digest()), PROMISES);
    newer.incidents = listed(3);
    for (name, s3, expected) in [
        ("disappears", gone, vec!["broken-chain"]),
        ("goes back", back, vec!["broken-chain"]),
        ("moves on", newer, vec![]),
    ] {
        let chain = [c[0].clone(), s2.clone(), verified(&s3)];
        assert_eq!(codes(&verify_history(None, &chain)), expected, "{name}");
    }
}

// ---------------------------------------------------------------- trust chain and archive walks

use canary_core::{ArchivePath, TrustChain, check_history, check_incidents};

/// An archive in memory.
type Mem = BTreeMap<String, Vec<u8>>;

#[test]
fn a_trust_chain_follows_rotations_and_resumes_only_from_its_own_pin() {
    let pin = policy(&["alice"], 1).with_max_age(chrono::TimeDelta::days(30));
    let mut archive: Mem = BTreeMap::new();
    archive.insert(
        ArchivePath::Rotation(2).to_path(),
        sign(&rotation(2, &["bob"], 1), &["alice", "bob"]),
    );
    let mut chain = TrustChain::new(pin.clone());
    chain.follow(&mut archive).expect("a valid rotation");
    assert_eq!(chain.current().version(), 2);
    assert_eq!(
        chain.current().keys().keys().copied().collect::<Vec<_>>(),
        [pk("bob").id()]
    );
    // The pin's max_age applies to every policy of the chain.
    assert_eq!(chain.current().max_age(), Some(chrono::TimeDelta::days(30)));

    let remembered = chain.remembered().expect("a rotation to remember");
    assert_eq!(remembered.pin, pin.trust_digest());
    let resumed = TrustChain::resume(pin.clone(), &remembered);
    assert_eq!(resumed.current().version(), 2);
    // Another pin: the remembered rotations do not count, not even when the
    // other pin trusts the same issuer with the same version.
    let other = policy(&["carol"], 1);
    let fresh = TrustChain::resume(other.clone(), &remembered);
    assert_eq!(fresh.policies().len(), 1);
    assert!(fresh.current().same_trust(&other));
    // A remembered rotation that no longer verifies from the pin: the pin alone.
    let mut forged = remembered.clone();
    forged.rotations[0] =
        String::from_utf8(sign(&rotation(2, &["mallory"], 1), &["mallory"])).expect("json");
    assert_eq!(TrustChain::resume(pin, &forged).policies().len(), 1);
}

#[test]
fn a_refused_rotation_leaves_the_chain_at_the_last_good_version() {
    let mut archive: Mem = BTreeMap::new();
    archive.insert(
        ArchivePath::Rotation(2).to_path(),
        sign(&rotation(2, &["bob"], 1), &["bob"]),
    );
    let mut chain = TrustChain::new(policy(&["alice"], 1));
    match chain.follow(&mut archive) {
        Err(canary_core::FollowError::Refused(f)) => assert_eq!(f.code(), "invalid-rotation"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(chain.current().version(), 1);
}

#[test]
fn documents_being_cosigned_verify_at_a_lowered_threshold_only() {
    let chain = TrustChain::new(policy(&["alice", "bob"], 2));
    let one = sign(&statement(1, None, PROMISES), &["alice"]);
    assert!(chain.verify::<Statement>(&one).is_err());
    assert!(chain.verify_at_threshold::<Statement>(&one, 1).is_ok());
}

/// The archive of `docs` (sequence 1 first), without the sequences in `gaps`.
fn archive_of(docs: &[Statement], gaps: &[u64], signers: &[&str]) -> (Mem, Vec<u8>) {
    let mut mem: Mem = BTreeMap::new();
    let mut last = Vec::new();
    for d in docs {
        let bytes = sign(d, signers);
        if !gaps.contains(&d.sequence) {
            mem.insert(ArchivePath::Statement(d.sequence).to_path(), bytes.clone());
        }
        last = bytes;
    }
    (mem, last)
}

/// Statements 1..=n linked; `edit` changes each before it is signed.
fn linked(n: u64, edit: impl Fn(&mut Statement)) -> Vec<Statement> {
    let mut out: Vec<Statement> = Vec::new();
    for seq in 1..=n {
        let prev = out
            .last()
            .map(|p| Digest::of(&to_payload(p).expect("payload")));
        let mut s = statement(seq, prev, PROMISES);
        edit(&mut s);
        out.push(s);
    }
    out
}

#[test]
fn a_walk_over_an_archive_keeps_what_it_found_before_a_gap() {
    let docs = linked(5, |s| {
        if s.sequence >= 3 {
            s.statements.retain(|i| i.id != "no-gag-orders");
        }
    });
    let (mut mem, latest) = archive_of(&docs, &[4], &["alice"]);
    let chain = TrustChain::new(policy(&["alice"], 1));
    let latest = chain.verify::<Statement>(&latest).expect("latest");
    let walked = check_history(&mut mem, &chain, None, &latest);
    assert_eq!(
        codes(&walked.findings),
        ["statement-removed", "history-missing"]
    );
    assert_eq!(walked.verified, 3, "statements 1-3 linked, 4 missing");
    assert!(walked.error.is_none());
    let worst = walked
        .findings
        .iter()
        .map(Finding::verdict)
        .fold(Verdict::Ok, Verdict::worst);
    assert_eq!(worst, Verdict::Tripped, "tripped wins over history-missing");
}

#[test]
fn archived_final_statements_and_panic_signatures_trip() {
    let docs = linked(3, |s| {
        if s.sequence == 2 {
            s.is_final = Some(true);
        }
    });
    let chain = TrustChain::new(policy(&["alice"], 1));
    let (mut mem, latest) = archive_of(&docs, &[], &["alice"]);
    let latest = chain.verify::<Statement>(&latest).expect("latest");
    let walked = check_history(&mut mem, &chain, None, &latest);
    assert_eq!(codes(&walked.findings), ["final"]);
    assert!(walked.findings[0].to_string().contains("sequence 2"));
    assert_eq!(walked.verified, 3);

    // A panic key alone on an archived statement (no threshold): tripped
    // all the same, and the walk stops there as the statement is not authentic.
    let docs = linked(3, |_| {});
    let (mut mem, latest) = archive_of(&docs, &[], &["alice"]);
    mem.insert(
        ArchivePath::Statement(2).to_path(),
        sign(&docs[1], &["panic"]),
    );
    let latest = chain.verify::<Statement>(&latest).expect("latest");
    let walked = check_history(&mut mem, &chain, None, &latest);
    assert_eq!(codes(&walked.findings), ["panic-key", "broken-chain"]);
    assert!(walked.findings[0].to_string().contains("sequence 2"));
}

#[test]
fn incident_chains_are_read_from_an_archive() {
    let chain = TrustChain::new(policy(&["alice"], 1));
    let v1 = incident();
    let v1_bytes = sign(&v1, &["alice"]);
    let mut v2 = v1.clone();
    v2.version = 2;
    v2.previous = Some(Digest::of(&to_payload(&v1).expect("payload")));
    let v2_bytes = sign(&v2, &["alice"]);
    let mut s = statement(1, None, PROMISES);
    s.incidents = Some(vec![canary_core::IncidentRef {
        id: v1.id.clone(),
        version: 2,
        digest: Digest::of(&to_payload(&v2).expect("payload")),
    }]);
    let mut mem: Mem = BTreeMap::new();
    mem.insert(
        ArchivePath::Incident {
            id: &v1.id,
            version: 1,
        }
        .to_path(),
        v1_bytes,
    );
    mem.insert(
        ArchivePath::Incident {
            id: &v1.id,
            version: 2,
        }
        .to_path(),
        v2_bytes,
    );
    let walked = check_incidents(&mut mem.clone(), &chain, &s);
    assert!(walked.findings.is_empty(), "{:?}", walked.findings);
    assert_eq!(walked.verified.len(), 1);

    // Version 1 missing: an incident finding naming the version.
    mem.remove(
        &ArchivePath::Incident {
            id: &v1.id,
            version: 1,
        }
        .to_path(),
    );
    let walked = check_incidents(&mut mem, &chain, &s);
    assert_eq!(codes(&walked.findings), ["incident"]);
    assert!(
        walked.findings[0]
            .to_string()
            .contains("version 1 is missing")
    );
}

/// A panic key rotated out since still trips an archived statement it
/// signed: the panic keys of every policy of the chain count there.
#[test]
fn a_panic_key_of_an_older_policy_trips_an_archived_statement() {
    let mut archive: Mem = BTreeMap::new();
    let mut r = rotation(2, &["alice"], 1);
    r.panic_keys = Some(vec![pk("carol")]);
    archive.insert(ArchivePath::Rotation(2).to_path(), sign(&r, &["alice"]));
    let docs = linked(2, |_| {});
    archive.insert(
        ArchivePath::Statement(1).to_path(),
        sign(&docs[0], &["alice", "panic"]),
    );
    let mut chain = TrustChain::new(policy(&["alice"], 1));
    chain.follow(&mut archive).expect("the rotation");
    assert_eq!(chain.current().version(), 2);
    let latest = chain
        .verify::<Statement>(&sign(&docs[1], &["alice"]))
        .expect("latest");
    let walked = check_history(&mut archive, &chain, None, &latest);
    assert_eq!(codes(&walked.findings), ["panic-key"]);
    // Alone (no threshold), the old panic key's signature trips too.
    archive.insert(
        ArchivePath::Statement(1).to_path(),
        sign(&docs[0], &["panic"]),
    );
    let walked = check_history(&mut archive, &chain, None, &latest);
    assert_eq!(codes(&walked.findings), ["panic-key", "broken-chain"]);
}
