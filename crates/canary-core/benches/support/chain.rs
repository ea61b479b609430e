//! A signed statement chain for benchmarks, built with canary-core: shared by
//! `benches/verify.rs` and `examples/bench_chain.rs`.
//!
//! Statement `n` is issued `n - 1` days after 2020-01-01, names the digest of
//! statement `n - 1`, carries the twelve suggested promises of DESIGN §3.3 and
//! is padded with `notes` so that its envelope is about `size` bytes.

#![allow(dead_code)] // each user takes what it needs

use canary_core::{
    Digest, Envelope, PayloadType, SigningKey, Statement, StatementItem, Timestamp, TrustPolicy,
    Zeroizing, to_payload,
};

/// The issuer of every benchmark statement.
pub const ISSUER: &str = "bench.example";
/// Envelope size of the benchmark statements, in bytes.
pub const SIZE: usize = 2048;
/// 2020-01-01T00:00:00Z.
const START: i64 = 1_577_836_800;
const DAY: i64 = 86_400;

/// The twelve suggested promises of DESIGN §3.3, in words.
const PROMISES: [(&str, &str); 12] = [
    (
        "no-warrants",
        "We have never received a search warrant for user data.",
    ),
    (
        "no-gag-orders",
        "We have never been placed under any gag order.",
    ),
    (
        "no-subpoenas",
        "We have never received a subpoena for user data.",
    ),
    (
        "no-national-security-letters",
        "We have never received a National Security Letter.",
    ),
    (
        "no-backdoors",
        "We have never placed a backdoor in our software or hardware.",
    ),
    (
        "no-key-disclosure",
        "We have never disclosed an encryption or signing key to anyone.",
    ),
    (
        "no-content-feed",
        "We have never given anyone a live feed of user content.",
    ),
    (
        "no-content-modification",
        "We have never been compelled to modify user content.",
    ),
    (
        "no-encryption-weakening",
        "We have never been compelled to weaken our encryption.",
    ),
    (
        "no-raids",
        "Our premises and data centres have never been raided.",
    ),
    (
        "no-seizures",
        "None of our servers or devices has ever been seized.",
    ),
    (
        "no-duress",
        "This statement is made freely and not under duress.",
    ),
];

/// The one signing key of the benchmark issuer (a fixed, public seed).
pub fn key() -> SigningKey {
    SigningKey::from_seed(&Zeroizing::new([0x42; 32])).expect("a fixed seed is a valid key")
}

/// The trust policy pinning [`key`] with threshold 1.
pub fn policy(key: &SigningKey) -> TrustPolicy {
    TrustPolicy::new(ISSUER, 1, 1, [*key.public_key()], []).expect("a valid policy")
}

/// The trust policy of [`policy`] as TOML (DESIGN §4).
pub fn policy_toml(key: &SigningKey) -> String {
    format!(
        "issuer = \"{ISSUER}\"\nversion = 1\nthreshold = 1\nkeys = [\"{}\"]\n",
        key.public_key()
    )
}

fn timestamp(secs: i64) -> Timestamp {
    Timestamp::from_unix(secs).expect("benchmark dates are in range")
}

fn day(sequence: u64) -> i64 {
    i64::try_from(sequence).expect("sequence fits i64") - 1
}

/// A time at which the statement with `sequence` is valid and fresh (one day
/// after it was issued: not late, not expiring).
pub fn fresh_at(sequence: u64) -> Timestamp {
    timestamp(START + (day(sequence) + 1) * DAY)
}

/// Statement `sequence`, padded so that its envelope is about `size` bytes.
pub fn statement(sequence: u64, previous: Option<Digest>, size: usize) -> Statement {
    let issued = START + day(sequence) * DAY;
    let next_due = issued + 90 * DAY;
    let mut s = Statement {
        issuer: ISSUER.to_owned(),
        sequence,
        issued_at: timestamp(issued),
        next_due: timestamp(next_due),
        expires_at: timestamp(next_due + 14 * DAY),
        statements: PROMISES
            .iter()
            .map(|(id, text)| StatementItem {
                id: (*id).to_owned(),
                text: (*text).to_owned(),
            })
            .collect(),
        previous,
        incidents: None,
        freshness: None,
        notes: None,
        is_final: None,
    };
    // The envelope is 4/3 of the payload plus about 260 bytes of fixed
    // fields (payloadType, keyid, sig); `"notes":""` costs 11 more bytes.
    let bare = to_payload(&s).expect("a valid statement").len();
    let budget = (size.saturating_sub(260) * 3 / 4).saturating_sub(bare + 11);
    if budget > 0 {
        let filler = "Routine statement; nothing to report. ";
        s.notes = Some(filler.repeat(budget / filler.len() + 1)[..budget].to_owned());
    }
    s
}

/// Calls `each(sequence, envelope_bytes)` for the signed chain `1..=n`.
pub fn for_each_envelope(
    n: u64,
    size: usize,
    key: &SigningKey,
    mut each: impl FnMut(u64, Vec<u8>),
) {
    let mut previous = None;
    for sequence in 1..=n {
        let payload = to_payload(&statement(sequence, previous, size)).expect("a valid statement");
        previous = Some(Digest::of(&payload));
        each(
            sequence,
            Envelope::sign(PayloadType::Statement, payload, key).to_json(),
        );
    }
}

/// The signed chain `1..=n` as envelope bytes.
pub fn envelopes(n: u64, size: usize, key: &SigningKey) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for_each_envelope(n, size, key, |_, e| out.push(e));
    out
}
