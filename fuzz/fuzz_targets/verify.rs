//! Full `verify_statement` on arbitrary envelope bytes, with a fixed trust
//! policy (issuer `example.org`, the test-vector key `alice` trusted with
//! threshold 1, `panic` as panic key) at a fixed time. It never panics, and
//! whenever it vouches for a statement (always when the verdict is ok), the
//! bytes carry a valid signature by the trusted key over a canonical payload.
#![no_main]

use std::sync::LazyLock;

use canary_core::json::is_canonical;
use canary_core::{
    Digest, Envelope, Payload as _, PublicKey, SigningKey, Statement, TrustPolicy, Verdict,
    VerifyOptions, Zeroizing, parse_payload, verify_statement,
};
use libfuzzer_sys::fuzz_target;

/// The seeds of `crates/canary-core/testdata/keys/{alice,panic}.seed`, so the
/// seed corpus (the test vectors) reaches the checks past the signatures.
const ALICE: &str = "62ec2e22dea984787b80cd1fde682b35f2c16d8c85a9961d4a45253395765152";
const PANIC: &str = "0a38668983ef5a24a5d38c6a48e7daf8844504600294facaed52664322b279dc";

fn key(hex: &str) -> SigningKey {
    let mut seed = Zeroizing::new([0u8; 32]);
    for (i, b) in seed.iter_mut().enumerate() {
        *b = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).expect("hex seed");
    }
    SigningKey::from_seed(&seed).expect("valid seed")
}

struct Fixture {
    policy: TrustPolicy,
    options: VerifyOptions,
    alice: PublicKey,
}

static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| {
    let alice = *key(ALICE).public_key();
    let panic = *key(PANIC).public_key();
    Fixture {
        policy: TrustPolicy::new("example.org", 1, 1, [alice], [panic]).expect("policy"),
        options: VerifyOptions::at("2026-10-02T00:00:00Z".parse().expect("time")),
        alice,
    }
});

fuzz_target!(|data: &[u8]| {
    let f = &*FIXTURE;
    let report = verify_statement(data, &f.policy, &f.options);
    let verdict = report.verdict(false);
    let strict = report.verdict(true);
    assert!(strict.severity() >= verdict.severity());
    if verdict == Verdict::Ok {
        assert!(report.statement.is_some(), "verdict ok without a statement");
    }
    let Some(verified) = &report.statement else {
        return;
    };
    // The statement is authentic: the envelope parses, is a statement, and
    // carries a signature by alice over PAE(type, payload) that verifies.
    let envelope = Envelope::parse(data).expect("a verified statement's envelope parses");
    assert_eq!(envelope.payload_type(), Statement::PAYLOAD_TYPE);
    assert_eq!(verified.payload(), envelope.payload());
    assert_eq!(verified.signers(), [f.alice.id()]);
    let pae = envelope.pae();
    assert!(
        envelope
            .signatures()
            .iter()
            .any(|s| s.keyid == f.alice.id() && f.alice.verify_strict(&pae, &s.sig)),
        "statement vouched for without a valid trusted signature"
    );
    // Its payload is canonical and is the document reported.
    assert!(
        is_canonical(verified.payload()),
        "verified payload is not canonical"
    );
    assert_eq!(verified.digest(), Digest::of(verified.payload()));
    let doc = parse_payload::<Statement>(verified.payload()).expect("payload re-parses");
    assert_eq!(&doc, verified.document());
    assert_eq!(doc.issuer, "example.org");
});
