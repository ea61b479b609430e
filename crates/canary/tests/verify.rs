//! `canary verify` on local files built with canary-core from the fixture
//! keys at fixed dates: every verdict and reason code of DESIGN §5–§6, the
//! exact exit codes, "most severe wins" across sources, and usage errors.

mod util;

use canary_core::{PayloadType, Statement, Timestamp};
use util::*;

/// Verifies `envelope` as a single file at `at` against the default trust
/// policy, in JSON format, plus `extra` arguments.
fn check(envelope: &[u8], at: Timestamp, extra: &[&str]) -> Out {
    let s = Scratch::new();
    let file = s.write("canary.json", envelope);
    s.verify_json(&file, at).args(extra).run()
}

/// Replaces one field of an envelope's JSON.
fn edit_envelope(envelope: &[u8], edit: impl FnOnce(&mut serde_json::Value)) -> Vec<u8> {
    let mut v: serde_json::Value = serde_json::from_slice(envelope).expect("envelope JSON");
    edit(&mut v);
    serde_json::to_vec(&v).expect("serialize")
}

#[test]
fn valid_and_fresh_is_ok() {
    let doc = Doc::new(statement(1));
    let out = check(&doc.envelope, fresh_at(1), &[]);
    out.code(OK);
    let v = out.one();
    assert_eq!(v["verdict"], "ok");
    assert_eq!(v["reasons"], serde_json::json!([]));
    assert_eq!(v["issuer"], ISSUER);
    assert_eq!(v["sequence"], 1);
    assert_eq!(v["issued_at"], issued(1).to_string());
    assert_eq!(
        v["signers"],
        serde_json::json!([public("alice").id().to_string()])
    );

    // Human format: one verdict line naming issuer and sequence.
    let s = Scratch::new();
    let file = s.write("canary.json", &doc.envelope);
    verify([
        file.as_str(),
        "--trust",
        &s.trust(),
        "--at",
        &fresh_at(1).to_string(),
        "--no-state",
    ])
    .run()
    .code(OK)
    .stdout_has("OK example.org #1");
}

#[test]
fn key_files_with_a_threshold_of_two() {
    let s = Scratch::new();
    let (alice, bob) = (s.pub_file("alice"), s.pub_file("bob"));
    let at = fresh_at(1).to_string();
    let run = |envelope: &[u8]| {
        let file = s.write("canary.json", envelope);
        verify([
            file.as_str(),
            "--key",
            &alice,
            "--key",
            &bob,
            "--issuer",
            ISSUER,
            "--threshold",
            "2",
            "--at",
            &at,
            "--no-state",
            "--format",
            "json",
        ])
        .run()
    };
    run(&Doc::signed(statement(1), &["alice", "bob"]).envelope).code(OK);
    run(&Doc::signed(statement(1), &["alice"]).envelope)
        .code(INVALID)
        .verdict("invalid")
        .reason("threshold-not-met");
    // A signature by a key nobody trusts does not count.
    run(&Doc::signed(statement(1), &["alice", "mallory"]).envelope)
        .code(INVALID)
        .reason("threshold-not-met");
}

#[test]
fn signature_by_an_untrusted_key_is_invalid() {
    let doc = Doc::signed(statement(1), &["mallory"]);
    check(&doc.envelope, fresh_at(1), &[])
        .code(INVALID)
        .verdict("invalid")
        .reason("bad-signature");
}

#[test]
fn tampered_signature_and_payload_are_invalid() {
    let doc = Doc::new(statement(1));
    let mut other = statement(1);
    other.notes = Some("a different statement".to_owned());
    let other = Doc::new(other);
    let other_v: serde_json::Value = serde_json::from_slice(&other.envelope).expect("JSON");

    // alice's keyid, a valid signature by alice over something else.
    let sig_swapped = edit_envelope(&doc.envelope, |v| {
        v["signatures"][0]["sig"] = other_v["signatures"][0]["sig"].clone();
    });
    check(&sig_swapped, fresh_at(1), &[])
        .code(INVALID)
        .reason("bad-signature");

    // The payload swapped under the original signature.
    let payload_swapped = edit_envelope(&doc.envelope, |v| {
        v["payload"] = other_v["payload"].clone();
    });
    check(&payload_swapped, fresh_at(1), &[])
        .code(INVALID)
        .reason("bad-signature");
}

#[test]
fn wrong_issuer_is_invalid() {
    let mut s = statement(1);
    s.issuer = "evil.example".to_owned();
    check(&Doc::new(s).envelope, fresh_at(1), &[])
        .code(INVALID)
        .reason("wrong-issuer")
        .reason_says("wrong-issuer", "evil.example");
}

#[test]
fn wrong_payload_type_is_invalid() {
    let envelope = seal_raw(PayloadType::Incident, payload(&statement(1)), &["alice"]);
    check(&envelope, fresh_at(1), &[])
        .code(INVALID)
        .reason("wrong-payload-type");
}

#[test]
fn malformed_envelope_and_payload_are_invalid() {
    check(
        br#"{"payload":"e30=","payloadType":"application/vnd.canary.statement.v1+json"}"#,
        fresh_at(1),
        &[],
    )
    .code(INVALID)
    .reason("malformed-envelope");
    // Signed, canonical, but not a statement.
    let envelope = seal_raw(PayloadType::Statement, b"{}".to_vec(), &["alice"]);
    check(&envelope, fresh_at(1), &[])
        .code(INVALID)
        .reason("malformed");
    // Signed, canonical JSON, but a rule of the statement is broken.
    let mut bad = serde_json::to_value(statement(1)).expect("JSON");
    bad["sequence"] = 0.into();
    let envelope = seal_raw(
        PayloadType::Statement,
        canary_core::json::canonicalize(&bad).expect("canonical"),
        &["alice"],
    );
    check(&envelope, fresh_at(1), &[])
        .code(INVALID)
        .reason("malformed");
}

#[test]
fn non_canonical_payload_is_invalid() {
    let pretty = serde_json::to_vec_pretty(&statement(1)).expect("JSON");
    let envelope = seal_raw(PayloadType::Statement, pretty, &["alice"]);
    check(&envelope, fresh_at(1), &[])
        .code(INVALID)
        .verdict("invalid")
        .reason("not-canonical");
}

#[test]
fn from_the_future_is_invalid_beyond_the_skew() {
    let doc = Doc::new(statement(1));
    // Five minutes of skew are allowed, not one second more.
    check(&doc.envelope, plus_secs(issued(1), -300), &[]).code(OK);
    check(&doc.envelope, plus_secs(issued(1), -301), &[])
        .code(INVALID)
        .reason("future");
    check(&doc.envelope, plus_days(issued(1), -30), &[])
        .code(INVALID)
        .reason("future");
    check(
        &doc.envelope,
        plus_secs(issued(1), -3600),
        &["--max-skew", "2h"],
    )
    .code(OK);
}

/// Near the end of what a timestamp can say, the allowed skew is held at
/// the last second instead of silently becoming zero.
#[test]
fn the_skew_saturates_near_year_9999() {
    let mut st = statement(1);
    st.issued_at = "9999-12-31T23:59:00Z".parse().expect("timestamp");
    st.next_due = "9999-12-31T23:59:30Z".parse().expect("timestamp");
    st.expires_at = "9999-12-31T23:59:59Z".parse().expect("timestamp");
    let doc = Doc::new(st);
    let at: Timestamp = "9999-12-31T23:58:00Z".parse().expect("timestamp");
    let out = check(&doc.envelope, at, &[]);
    assert!(
        !out.reasons().contains(&"future".to_owned()),
        "{}",
        out.stdout
    );
    let out = check(&doc.envelope, at, &["--max-skew", "100000w"]);
    assert!(
        !out.reasons().contains(&"future".to_owned()),
        "{}",
        out.stdout
    );
}

/// `--threshold` goes with `--key`; beside `--trust` (which names its own
/// threshold) it is a usage error, never silently dropped.
#[test]
fn threshold_beside_trust_is_a_usage_error() {
    let doc = Doc::new(statement(1));
    let out = check(&doc.envelope, issued(1), &["--threshold", "2"]);
    out.code(USAGE);
    assert!(out.stderr.contains("--threshold"), "{}", out.stderr);
}

#[test]
fn expired_is_stale() {
    let s = statement(1);
    let doc = Doc::new(s.clone());
    check(&doc.envelope, s.expires_at, &[])
        .code(STALE)
        .verdict("stale")
        .reason("expired");
    check(&doc.envelope, plus_days(s.expires_at, 400), &[])
        .code(STALE)
        .reason("expired");
    // One second before expiry: authentic, late and expiring, but not stale.
    check(&doc.envelope, plus_secs(s.expires_at, -1), &[]).code(OK);
}

#[test]
fn older_than_max_age_is_stale() {
    let doc = Doc::new(statement(1));
    let at = plus_days(issued(1), 11);
    check(&doc.envelope, at, &["--max-age", "10d"])
        .code(STALE)
        .reason("too-old");
    check(&doc.envelope, at, &["--max-age", "12d"]).code(OK);

    // max_age from the trust policy.
    let s = Scratch::new();
    let file = s.write("canary.json", &doc.envelope);
    let trust = s.write(
        "aged.toml",
        format!("{}max_age = \"10d\"\n", trust_toml(1, &["alice"], &[])),
    );
    verify([
        file.as_str(),
        "--trust",
        &trust,
        "--at",
        &at.to_string(),
        "--no-state",
        "--format",
        "json",
    ])
    .run()
    .code(STALE)
    .reason("too-old");
}

#[test]
fn late_warns_and_fails_only_with_deny_warnings() {
    // Sixty days of grace: late without expiring soon.
    let mut s = statement(1);
    s.expires_at = plus_days(s.next_due, 60);
    let doc = Doc::new(s.clone());
    let out = check(&doc.envelope, s.next_due, &[]);
    out.code(OK).verdict("ok").reason("late");
    assert_eq!(out.reasons(), ["late"]);
    check(&doc.envelope, s.next_due, &["--deny-warnings"])
        .code(WARNING)
        .verdict("warning")
        .reason("late");
    // One second before next_due: nothing to warn about.
    let out = check(
        &doc.envelope,
        plus_secs(s.next_due, -1),
        &["--deny-warnings"],
    );
    out.code(OK);
    assert!(out.reasons().is_empty(), "{}", out.stdout);
}

#[test]
fn expiring_warns_and_fails_only_with_deny_warnings() {
    // next_due equals expires_at: expiring soon without being late.
    let mut s = statement(1);
    s.next_due = plus_days(s.issued_at, 30);
    s.expires_at = s.next_due;
    let doc = Doc::new(s.clone());
    let at = plus_days(s.expires_at, -10);
    let out = check(&doc.envelope, at, &[]);
    out.code(OK).reason("expiring");
    assert_eq!(out.reasons(), ["expiring"]);
    check(&doc.envelope, at, &["--deny-warnings"])
        .code(WARNING)
        .verdict("warning")
        .reason("expiring");
    // A shorter window: no warning.
    check(
        &doc.envelope,
        at,
        &["--deny-warnings", "--warn-before", "9d"],
    )
    .code(OK);
}

#[test]
fn final_canary_is_tripped() {
    let mut s = statement(1);
    s.is_final = Some(true);
    check(&Doc::new(s).envelope, fresh_at(1), &[])
        .code(TRIPPED)
        .verdict("tripped")
        .reason("final");
    // final: false is an ordinary canary.
    let mut s = statement(1);
    s.is_final = Some(false);
    check(&Doc::new(s).envelope, fresh_at(1), &[]).code(OK);
}

#[test]
fn panic_key_signature_is_tripped() {
    check(
        &Doc::signed(statement(1), &["alice", "panic"]).envelope,
        fresh_at(1),
        &[],
    )
    .code(TRIPPED)
    .verdict("tripped")
    .reason("panic-key");
    // The panic key alone trips the canary even though the threshold is not met.
    check(
        &Doc::signed(statement(1), &["panic"]).envelope,
        fresh_at(1),
        &[],
    )
    .code(TRIPPED)
    .reason("panic-key")
    .reason("bad-signature");
    // Mallory claiming the panic key's id is ignored, not a trip.
    let forged = edit_envelope(&Doc::new(statement(1)).envelope, |v| {
        let mut sig = v["signatures"][0].clone();
        sig["keyid"] = public("panic").id().to_string().into();
        v["signatures"].as_array_mut().expect("array").push(sig);
    });
    check(&forged, fresh_at(1), &[]).code(OK);
}

#[test]
fn most_severe_verdict_wins_across_sources() {
    let s = Scratch::new();
    let trust = s.trust();
    let at = plus_days(issued(1), 20);
    let ok = s.write("ok.json", &Doc::new(statement(1)).envelope);
    let mut late = statement(1);
    late.next_due = plus_days(late.issued_at, 10);
    late.expires_at = plus_days(late.issued_at, 100);
    let late = s.write("late.json", &Doc::new(late).envelope);
    let mut expired = statement(1);
    expired.next_due = plus_days(expired.issued_at, 10);
    expired.expires_at = plus_days(expired.issued_at, 15);
    let stale = s.write("stale.json", &Doc::new(expired).envelope);
    let unreachable = s.write("huge.json", vec![b' '; 300 * 1024]); // over the 256 KiB cap
    let invalid = s.write(
        "invalid.json",
        &Doc::signed(statement(1), &["mallory"]).envelope,
    );
    let mut f = statement(1);
    f.is_final = Some(true);
    let tripped = s.write("final.json", &Doc::new(f).envelope);

    let run = |sources: &[&str]| {
        verify(sources.iter().copied())
            .args([
                "--trust",
                &trust,
                "--at",
                &at.to_string(),
                "--no-state",
                "--deny-warnings",
                "--format",
                "json",
            ])
            .run()
    };
    let out = run(&[&ok, &late]);
    out.code(WARNING);
    let out = run(&[&late, &unreachable, &ok]);
    out.code(UNREACHABLE);
    assert_eq!(out.json()[1]["verdict"], "unreachable");
    run(&[&unreachable, &stale, &late]).code(STALE);
    run(&[&stale, &invalid, &unreachable]).code(INVALID);
    let out = run(&[&invalid, &tripped, &stale, &ok]);
    out.code(TRIPPED);
    let verdicts: Vec<_> = out.json().iter().map(|v| v["verdict"].clone()).collect();
    assert_eq!(
        verdicts,
        [
            serde_json::json!("invalid"),
            "tripped".into(),
            "stale".into(),
            "ok".into()
        ],
        "{}",
        out.stdout
    );
}

#[test]
fn usage_errors_exit_2() {
    let s = Scratch::new();
    let file = s.write("canary.json", &Doc::new(statement(1)).envelope);
    let trust = s.trust();
    let at = fresh_at(1).to_string();
    let usage = |args: &[&str]| {
        let out = verify(args.iter().copied()).run();
        out.code(USAGE);
        assert!(
            out.stdout.is_empty(),
            "usage error printed a verdict:\n{}",
            out.stdout
        );
        assert!(!out.stderr.is_empty(), "usage error without a message");
        out
    };
    // No trust at all.
    usage(&[&file, "--at", &at, "--no-state"]).stderr_has("trust");
    // Unreadable, malformed or weak trust policies.
    usage(&[
        &file,
        "--trust",
        &s.arg("missing.toml"),
        "--at",
        &at,
        "--no-state",
    ])
    .stderr_has("missing.toml");
    usage(&[&file, "--trust", &s.arg(""), "--at", &at, "--no-state"]); // a folder
    let bad = s.write(
        "bad.toml",
        "issuer = \"example.org\"\nthreshold = 1\nkeys = [\"ed25519:AQ==\"]\n",
    );
    usage(&[&file, "--trust", &bad, "--at", &at, "--no-state"]);
    let weak = s.write(
        "weak.toml",
        "issuer = \"example.org\"\nthreshold = 1\nkeys = [\"ed25519:AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"]\n",
    );
    usage(&[&file, "--trust", &weak, "--at", &at, "--no-state"]).stderr_has("weak");
    let too_high = s.write("high.toml", trust_toml(2, &["alice"], &[]));
    usage(&[&file, "--trust", &too_high, "--at", &at, "--no-state"]);
    // Unreadable key file; --key without --issuer.
    usage(&[
        &file,
        "--key",
        &s.arg("nobody.pub"),
        "--issuer",
        ISSUER,
        "--at",
        &at,
        "--no-state",
    ]);
    let alice = s.pub_file("alice");
    usage(&[&file, "--key", &alice, "--at", &at, "--no-state"]);
    // A source that does not exist (a path, so not taken for a domain).
    usage(&[
        &s.arg("nothing/here.json"),
        "--trust",
        &trust,
        "--at",
        &at,
        "--no-state",
    ])
    .stderr_has("no such file");
    // A bare `canary.json` that is not there is a missing file, never a
    // domain to fetch.
    usage(&["canary.json", "--trust", &trust, "--at", &at, "--no-state"])
        .stderr_has("no such file");
    // A folder that is neither a publish folder nor an issuer folder.
    std::fs::create_dir_all(s.path("empty")).expect("mkdir");
    usage(&[
        &s.arg("empty"),
        "--trust",
        &trust,
        "--at",
        &at,
        "--no-state",
    ]);
    // Plain http to a host that is not loopback, and other schemes.
    usage(&[
        "http://example.org/.well-known/canary.json",
        "--trust",
        &trust,
        "--at",
        &at,
        "--no-state",
    ])
    .stderr_has("loopback");
    usage(&[
        "ftp://example.org/canary.json",
        "--trust",
        &trust,
        "--at",
        &at,
        "--no-state",
    ]);
    // Timestamps in any other form, bad durations.
    for bad_at in [
        "2026-01-02 00:00:00Z",
        "2026-01-02T00:00:00+00:00",
        "yesterday",
        "2026-02-30T00:00:00Z",
    ] {
        usage(&[&file, "--trust", &trust, "--at", bad_at, "--no-state"]);
    }
    usage(&[
        &file,
        "--trust",
        &trust,
        "--at",
        &at,
        "--max-age",
        "soon",
        "--no-state",
    ]);
    usage(&[
        &file,
        "--trust",
        &trust,
        "--at",
        &at,
        "--timeout",
        "0",
        "--no-state",
    ]);
    // --state and --no-state together; an unknown format.
    usage(&[
        &file,
        "--trust",
        &trust,
        "--at",
        &at,
        "--no-state",
        "--state",
        &s.arg("st"),
    ]);
    usage(&[&file, "--trust", &trust, "--at", &at, "--format", "xml"]);
    // --trust together with --key; a threshold above the keys given.
    usage(&[
        &file, "--trust", &trust, "--key", &alice, "--issuer", ISSUER, "--at", &at,
    ]);
    usage(&[
        &file,
        "--key",
        &alice,
        "--issuer",
        ISSUER,
        "--threshold",
        "2",
        "--at",
        &at,
    ])
    .stderr_has("threshold");
    // A timeout too long for a duration (this used to panic).
    usage(&[
        &file,
        "--trust",
        &trust,
        "--at",
        &at,
        "--timeout",
        "9999999999999999",
    ]);
    // No source at all.
    usage(&["--trust", &trust, "--at", &at]);
}

#[test]
fn statement_helper_round_trips_through_canary_core() {
    // Guards the fixtures themselves: what the tests sign is what they mean.
    let doc = chain(2, |_| {}).remove(1);
    let parsed: Statement =
        canary_core::parse_payload(&payload(&doc.statement)).expect("canonical statement");
    assert_eq!(parsed, doc.statement);
}

#[test]
fn usage_errors_are_readable_and_escaped() {
    let s = Scratch::new();
    let file = s.write("canary.json", Doc::new(statement(1)).envelope);
    let at = fresh_at(1).to_string();
    // A multi-line parser message keeps its lines (no literal "\n").
    let unclosed = s.write(
        "unclosed.toml",
        "issuer = \"example.org\"\nthreshold = 1\nkeys = [\n",
    );
    let out = verify([file.as_str(), "--trust", &unclosed, "--at", &at]).run();
    out.code(USAGE)
        .stderr_has("error: ")
        .stderr_has("unclosed array");
    assert!(out.stderr.lines().count() > 1, "{}", out.stderr);
    assert!(
        !out.stderr.contains("\\n"),
        "newlines printed as escapes:\n{}",
        out.stderr
    );
    // Control characters from the file are escaped.
    let hostile = s.write(
        "hostile.toml",
        "issuer = \"\u{1b}[31mred\u{1b}]0;title\u{7}\"\nthreshold = 1\n",
    );
    let out = verify([file.as_str(), "--trust", &hostile, "--at", &at]).run();
    out.code(USAGE).stderr_has("\\u{1b}[31m");
    assert!(
        !out.stderr.bytes().any(|b| b == 0x1b || b == 0x07),
        "raw control characters on stderr: {:?}",
        out.stderr
    );
}

/// The newest file of an issuer folder must hold the sequence its name says.
#[test]
fn an_issuer_folders_newest_file_holds_its_sequence() {
    let s = Scratch::new();
    s.write(
        "org/statements/000009.json",
        Doc::new(statement(1)).envelope,
    );
    s.verify_json(&s.arg("org"), fresh_at(1))
        .run()
        .code(INVALID)
        .reason("broken-chain");
}

#[test]
fn a_local_statement_over_the_cap_is_too_large_as_a_fetched_one_is() {
    // DESIGN §6-§7: too large is unreachable (4), with the same reason code
    // whether the statement was fetched or read from a file.
    let mut big = Doc::new(statement(1)).envelope;
    big.resize(256 * 1024 + 1, b' ');
    let out = check(&big, fresh_at(1), &[]);
    out.code(UNREACHABLE).reason("too-large");
    // At the cap exactly it is read, and verifies (trailing whitespace
    // after the envelope is allowed).
    let mut at_cap = Doc::new(statement(1)).envelope;
    at_cap.resize(256 * 1024, b' ');
    check(&at_cap, fresh_at(1), &[]).code(OK);
}

#[test]
#[cfg(unix)]
fn a_named_pipe_no_one_writes_to_does_not_hang_the_run() {
    let s = Scratch::new();
    let fifo = s.path("canary.json");
    let fifo = fifo.to_str().expect("UTF-8 path");
    let made = std::process::Command::new("mkfifo")
        .arg(fifo)
        .status()
        .expect("mkfifo runs");
    assert!(made.success());
    let started = std::time::Instant::now();
    let out = verify([
        fifo,
        "--trust",
        &s.trust(),
        "--no-state",
        "--timeout",
        "1",
        "--format",
        "json",
    ])
    .run();
    out.code(UNREACHABLE).reason("unreadable");
    assert!(
        out.stdout.contains("gave no complete document within 1 s"),
        "{}",
        out.stdout
    );
    // Stopped at its timeout, not waited for.
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
}
