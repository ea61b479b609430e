//! Builds every document test vector of `testdata/vectors/` (format in its
//! README), deterministically: Ed25519 signatures are deterministic and every
//! date is fixed.
//!
//! Shared by the `gen_vectors` example, which writes the files, and the
//! `vectors` test, which checks that the checked-in files are exactly these.
//!
//! Payloads and envelopes are written by hand here, not by the library: most
//! vectors need bytes the library refuses to produce (non-canonical JSON,
//! duplicate keys, floats, lax base64, ...), and the valid ones then check the
//! library against an independent writer. Every payload is signed directly
//! over its PAE with a fixture key, so the parser and the policy are exercised
//! past the signature check.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use canary_core::{SigningKey, Zeroizing, pae};
use sha2::{Digest as _, Sha256};

const STATEMENT: &str = "application/vnd.canary.statement.v1+json";
const INCIDENT: &str = "application/vnd.canary.incident.v1+json";

const ISSUED: &str = "2026-10-01T00:00:00Z";
const NEXT_DUE: &str = "2026-12-30T00:00:00Z";
const EXPIRES: &str = "2027-01-13T00:00:00Z";
/// The default verification time: one day after `ISSUED`.
const AT: &str = "2026-10-02T00:00:00Z";

const ITEMS: &str = r#"[{"id":"no-warrants","text":"We have never received a warrant."},{"id":"no-gag-orders","text":"We have never been placed under a gag order."}]"#;

/// The Bitcoin genesis block: header, hash as explorers show it, height 0.
const GENESIS_HEADER: &str = "0100000000000000000000000000000000000000000000000000000000000000000000003ba3edfd7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4a29ab5f49ffff001d1dac2b7c";
const GENESIS_HASH: &str = "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f";

/// The Ed25519 group order L, little-endian.
const ORDER_L: [u8; 32] = [
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
];

/// Every vector as (file name, file bytes), sorted by name.
pub fn all() -> Vec<(String, Vec<u8>)> {
    let k = Keys::load();
    let mut vectors = Vec::new();
    positive(&k, &mut vectors);
    freshness(&k, &mut vectors);
    tripped(&k, &mut vectors);
    signatures(&k, &mut vectors);
    envelopes(&k, &mut vectors);
    payloads(&k, &mut vectors);
    let mut files: Vec<(String, Vec<u8>)> = vectors
        .into_iter()
        .map(|v| (format!("{}.vec", v.name), v.render()))
        .collect();
    files.sort();
    for pair in files.windows(2) {
        assert_ne!(pair[0].0, pair[1].0, "two vectors share a name");
    }
    files
}

// ---------------------------------------------------------------------------
// Fixture keys

struct Keys {
    alice: SigningKey,
    bob: SigningKey,
    carol: SigningKey,
    mallory: SigningKey,
    panic: SigningKey,
}

impl Keys {
    fn load() -> Self {
        Keys {
            alice: seed_key(include_str!("../../testdata/keys/alice.seed")),
            bob: seed_key(include_str!("../../testdata/keys/bob.seed")),
            carol: seed_key(include_str!("../../testdata/keys/carol.seed")),
            mallory: seed_key(include_str!("../../testdata/keys/mallory.seed")),
            panic: seed_key(include_str!("../../testdata/keys/panic.seed")),
        }
    }
}

fn seed_key(hex: &str) -> SigningKey {
    let bytes = unhex(hex.trim());
    let seed: [u8; 32] = bytes.try_into().expect("a seed file holds 32 bytes");
    SigningKey::from_seed(&Zeroizing::new(seed)).expect("fixture seed")
}

fn unhex(s: &str) -> Vec<u8> {
    assert!(s.len().is_multiple_of(2), "odd-length hex");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn keyid(key: &SigningKey) -> String {
    hex(&Sha256::digest(key.public_key().as_bytes()))
}

// ---------------------------------------------------------------------------
// Payload JSON, written by hand

/// A JSON object as (key, raw JSON value) pairs, in insertion order.
#[derive(Clone)]
struct Obj(Vec<(String, String)>);

impl Obj {
    /// Sets `key` to the raw JSON `value`, replacing an existing member.
    fn set(mut self, key: &str, value: impl Into<String>) -> Self {
        let value = value.into();
        match self.0.iter_mut().find(|(k, _)| k == key) {
            Some(member) => member.1 = value,
            None => self.0.push((key.to_owned(), value)),
        }
        self
    }

    /// Adds a member even if `key` is present already (duplicate keys).
    fn push(mut self, key: &str, value: impl Into<String>) -> Self {
        self.0.push((key.to_owned(), value.into()));
        self
    }

    fn remove(mut self, key: &str) -> Self {
        self.0.retain(|(k, _)| k != key);
        self
    }

    /// Members sorted by key, no whitespace. Every key here is ASCII, so byte
    /// order is RFC 8785's UTF-16 order; the values are written canonically
    /// by the caller.
    fn canonical(&self) -> Vec<u8> {
        let mut members = self.0.clone();
        members.sort_by(|a, b| a.0.cmp(&b.0));
        Obj(members).in_order()
    }

    /// Members in insertion order, no whitespace.
    fn in_order(&self) -> Vec<u8> {
        let members: Vec<String> = self
            .0
            .iter()
            .map(|(k, v)| format!("{}:{v}", s(k)))
            .collect();
        format!("{{{}}}", members.join(",")).into_bytes()
    }
}

/// A JSON string literal for text that needs no escaping.
fn s(text: &str) -> String {
    assert!(
        text.chars()
            .all(|c| c != '"' && c != '\\' && !c.is_control()),
        "use a raw literal for {text:?}"
    );
    format!("\"{text}\"")
}

/// The base statement: sequence 1 of `example.org`, valid from `ISSUED`.
fn statement() -> Obj {
    Obj(Vec::new())
        .set("issuer", s("example.org"))
        .set("sequence", "1")
        .set("issued_at", s(ISSUED))
        .set("next_due", s(NEXT_DUE))
        .set("expires_at", s(EXPIRES))
        .set("statements", ITEMS)
}

/// The digest a sequence-2 statement names: the base statement's payload.
fn previous() -> String {
    s(&format!(
        "sha256:{}",
        hex(&Sha256::digest(statement().canonical()))
    ))
}

/// The base statement as sequence 2, chained to the base statement.
fn second() -> Obj {
    statement().set("sequence", "2").set("previous", previous())
}

fn replace(bytes: &[u8], from: &str, to: &str) -> Vec<u8> {
    let text = String::from_utf8(bytes.to_vec()).expect("utf-8 payload");
    assert!(text.contains(from), "{from:?} not in {text}");
    text.replacen(from, to, 1).into_bytes()
}

// ---------------------------------------------------------------------------
// Envelopes, written by hand

/// One entry of `signatures`, as the raw strings the envelope will carry.
#[derive(Clone)]
struct Sig {
    keyid: String,
    sig: String,
}

/// A valid signature by `key` over `PAE(payload_type, payload)`.
fn sign_as(key: &SigningKey, payload_type: &str, payload: &[u8]) -> Sig {
    Sig {
        keyid: keyid(key),
        sig: BASE64.encode(key.sign(&pae(payload_type, payload))),
    }
}

/// A valid statement signature by `key`.
fn sign(key: &SigningKey, payload: &[u8]) -> Sig {
    sign_as(key, STATEMENT, payload)
}

fn sig_json(sig: &Sig) -> String {
    format!(r#"{{"keyid":"{}","sig":"{}"}}"#, sig.keyid, sig.sig)
}

/// The envelope as the signer writes it, from raw field contents.
fn envelope_raw(payload_b64: &str, payload_type: &str, sigs: &[Sig]) -> Vec<u8> {
    let sigs: Vec<String> = sigs.iter().map(sig_json).collect();
    format!(
        r#"{{"payload":"{payload_b64}","payloadType":"{payload_type}","signatures":[{}]}}"#,
        sigs.join(",")
    )
    .into_bytes()
}

/// A statement envelope over `payload` with the given signatures.
fn envelope(payload: &[u8], sigs: &[Sig]) -> Vec<u8> {
    envelope_raw(&BASE64.encode(payload), STATEMENT, sigs)
}

/// A statement envelope over `payload` signed by each of `keys` in turn.
fn signed(payload: &[u8], keys: &[&SigningKey]) -> Vec<u8> {
    let sigs: Vec<Sig> = keys.iter().map(|k| sign(k, payload)).collect();
    envelope(payload, &sigs)
}

// ---------------------------------------------------------------------------
// Vectors

struct Vector {
    name: &'static str,
    expect: &'static str,
    at: &'static str,
    policy: &'static str,
    max_age: Option<&'static str>,
    findings: &'static [&'static str],
    reason: Option<&'static str>,
    comment: &'static str,
    body: Vec<u8>,
}

impl Vector {
    fn render(&self) -> Vec<u8> {
        let mut out = format!(
            "expect: {}\nat: {}\npolicy: {}\n",
            self.expect, self.at, self.policy
        );
        if let Some(age) = self.max_age {
            out.push_str(&format!("max-age: {age}\n"));
        }
        let findings = if self.findings.is_empty() {
            "none".to_owned()
        } else {
            self.findings.join(", ")
        };
        out.push_str(&format!("findings: {findings}\n"));
        if let Some(reason) = self.reason {
            out.push_str(&format!("reason: {reason}\n"));
        }
        assert!(
            !self.comment.contains('\n'),
            "{}: one-line comment",
            self.name
        );
        out.push_str(&format!("comment: {}\n\n", self.comment));
        let mut bytes = out.into_bytes();
        bytes.extend_from_slice(&self.body);
        bytes
    }

    fn at(mut self, at: &'static str) -> Self {
        self.at = at;
        self
    }

    fn policy(mut self, policy: &'static str) -> Self {
        self.policy = policy;
        self
    }

    fn max_age(mut self, max_age: &'static str) -> Self {
        self.max_age = Some(max_age);
        self
    }

    /// Pins the rule: text the decisive finding's message must contain.
    fn reason(mut self, reason: &'static str) -> Self {
        self.reason = Some(reason);
        self
    }
}

/// A vector verified at `AT` under policy `alice` unless changed.
fn v(
    name: &'static str,
    expect: &'static str,
    findings: &'static [&'static str],
    comment: &'static str,
    body: Vec<u8>,
) -> Vector {
    Vector {
        name,
        expect,
        at: AT,
        policy: "alice",
        max_age: None,
        findings,
        reason: None,
        comment,
        body,
    }
}

fn positive(k: &Keys, out: &mut Vec<Vector>) {
    let p = statement().canonical();
    out.push(v(
        "ok_single_key",
        "ok",
        &[],
        "one trusted key, threshold 1",
        signed(&p, &[&k.alice]),
    ));
    out.push(
        v(
            "ok_two_of_two",
            "ok",
            &[],
            "alice and bob both sign under a 2-of-2 policy",
            signed(&p, &[&k.alice, &k.bob]),
        )
        .policy("alice+bob/2"),
    );
    out.push(
        v(
            "ok_two_of_three_with_untrusted_extra",
            "ok",
            &[],
            "alice and carol meet 2-of-3; mallory's valid signature in between is ignored",
            signed(&p, &[&k.alice, &k.mallory, &k.carol]),
        )
        .policy("alice+bob+carol/2"),
    );
    let unknown = Sig {
        keyid: hex(&Sha256::digest(b"no fixture has this key")),
        sig: BASE64.encode([0x5a; 64]),
    };
    out.push(v(
        "ok_unknown_keyid_ignored",
        "ok",
        &[],
        "a signature under a keyid nobody knows comes first and is ignored",
        envelope(&p, &[unknown, sign(&k.alice, &p)]),
    ));
    let mut broken = sign(&k.alice, &p);
    broken.sig = BASE64.encode([0x5a; 64]);
    out.push(v(
        "ok_bad_signature_then_good_one_same_keyid",
        "ok",
        &[],
        "a garbage signature under alice's keyid does not hide her valid one after it",
        envelope(&p, &[broken, sign(&k.alice, &p)]),
    ));
    out.push(v(
        "ok_same_signature_twice",
        "ok",
        &[],
        "alice's signature listed twice still meets threshold 1",
        envelope(&p, &[sign(&k.alice, &p), sign(&k.alice, &p)]),
    ));

    let b64 = BASE64.encode(&p);
    let sig = sign(&k.alice, &p);
    out.push(v(
        "ok_envelope_pretty_printed",
        "ok",
        &[],
        "the envelope need not be compact: only the payload bytes are signed",
        format!(
            "{{\n  \"payload\": \"{b64}\",\n  \"payloadType\": \"{STATEMENT}\",\n  \"signatures\": [\n    {{\n      \"keyid\": \"{}\",\n      \"sig\": \"{}\"\n    }}\n  ]\n}}\n",
            sig.keyid, sig.sig
        )
        .into_bytes(),
    ));
    let mut trailing = signed(&p, &[&k.alice]);
    trailing.push(b'\n');
    out.push(v(
        "ok_envelope_trailing_newline",
        "ok",
        &[],
        "a trailing newline after the envelope JSON is accepted",
        trailing,
    ));
    out.push(v(
        "ok_envelope_other_key_order",
        "ok",
        &[],
        "envelope members in another order are accepted",
        format!(
            r#"{{"signatures":[{{"sig":"{}","keyid":"{}"}}],"payloadType":"{STATEMENT}","payload":"{b64}"}}"#,
            sig.sig, sig.keyid
        )
        .into_bytes(),
    ));

    let p = statement().set("final", "false").canonical();
    out.push(v(
        "ok_final_false",
        "ok",
        &[],
        "final: false is not a final canary",
        signed(&p, &[&k.alice]),
    ));
    let p = statement().set("expires_at", s(NEXT_DUE)).canonical();
    out.push(v(
        "ok_expires_at_equals_next_due",
        "ok",
        &[],
        "expires_at may equal next_due (no grace period)",
        signed(&p, &[&k.alice]),
    ));
    let p = second().canonical();
    out.push(v(
        "ok_sequence_two_with_previous",
        "ok",
        &[],
        "sequence 2 naming the digest of sequence 1",
        signed(&p, &[&k.alice]),
    ));
    let p = second().set("sequence", "9007199254740991").canonical();
    out.push(v(
        "ok_sequence_max_safe_integer",
        "ok",
        &[],
        "sequence 2^53-1, the largest integer a payload may carry",
        signed(&p, &[&k.alice]),
    ));
    let p = second()
        .set(
            "incidents",
            format!(
                r#"[{{"digest":"sha256:{}","id":"push-certificate","version":2}}]"#,
                hex(&Sha256::digest(b"incident record"))
            ),
        )
        .set(
            "freshness",
            r#"{"headlines":["Example headline of the day"]}"#,
        )
        .set("notes", s("Our office moved."))
        .set("final", "false")
        .canonical();
    out.push(v(
        "ok_all_optional_fields",
        "ok",
        &[],
        "previous, incidents, freshness.headlines, notes and final together",
        signed(&p, &[&k.alice]),
    ));
    let p = statement()
        .set(
            "notes",
            "\"Caf\u{e9} \u{2014} line one\\nline two\\u001f\u{7f}\"",
        )
        .canonical();
    out.push(v(
        "ok_non_ascii_and_escapes",
        "ok",
        &[],
        "non-ASCII and U+007F written as themselves; \\n and lowercase \\u001f as RFC 8785 escapes",
        signed(&p, &[&k.alice]),
    ));
    let p = statement()
        .set(
            "freshness",
            format!(
                r#"{{"bitcoin":{{"hash":"{GENESIS_HASH}","header":"{GENESIS_HEADER}","height":0}}}}"#
            ),
        )
        .canonical();
    out.push(v(
        "ok_bitcoin_genesis_header",
        "ok",
        &[],
        "freshness with the real Bitcoin genesis block header, hash and height",
        signed(&p, &[&k.alice]),
    ));
}

fn freshness(k: &Keys, out: &mut Vec<Vector>) {
    let good = signed(&statement().canonical(), &[&k.alice]);
    out.push(
        v(
            "ok_issued_at_skew_boundary",
            "ok",
            &[],
            "issued_at is exactly now + 5 min, the allowed clock skew",
            good.clone(),
        )
        .at("2026-09-30T23:55:00Z"),
    );
    out.push(
        v(
            "invalid_from_the_future",
            "invalid:future",
            &["future"],
            "issued_at is now + 5 min + 1 s",
            good.clone(),
        )
        .at("2026-09-30T23:54:59Z"),
    );
    let p = statement().set("issuer", s("example.com")).canonical();
    out.push(v(
        "invalid_wrong_issuer",
        "invalid:wrong-issuer",
        &["wrong-issuer"],
        "validly signed by a trusted key, but speaks for example.com",
        signed(&p, &[&k.alice]),
    ));
    out.push(
        v(
            "warning_late_at_next_due",
            "warning:late",
            &["late"],
            "now == next_due is late; expiry exactly 14 d away is not yet 'expiring'",
            good.clone(),
        )
        .at(NEXT_DUE),
    );
    out.push(
        v(
            "warning_expiring_one_second_before_expiry",
            "warning:expiring",
            &["late", "expiring"],
            "one second before expires_at: late and expiring, not yet stale",
            good.clone(),
        )
        .at("2027-01-12T23:59:59Z"),
    );
    let p = statement()
        .set("expires_at", s("2027-01-06T00:00:00Z"))
        .canonical();
    out.push(
        v(
            "warning_expiring_before_next_due",
            "warning:expiring",
            &["expiring"],
            "a 7 d grace period: expiring within 14 d while not yet late",
            signed(&p, &[&k.alice]),
        )
        .at("2026-12-29T00:00:00Z"),
    );
    out.push(
        v(
            "stale_at_expires_at",
            "stale:expired",
            &["expired"],
            "now == expires_at is stale (no late/expiring warnings once expired)",
            good.clone(),
        )
        .at(EXPIRES),
    );
    out.push(
        v(
            "stale_long_expired",
            "stale:expired",
            &["expired"],
            "a year after expiry",
            good.clone(),
        )
        .at("2028-01-13T00:00:00Z"),
    );
    out.push(
        v(
            "ok_max_age_boundary",
            "ok",
            &[],
            "now - issued_at == max_age is not too old",
            good.clone(),
        )
        .at("2026-10-31T00:00:00Z")
        .max_age("30d"),
    );
    out.push(
        v(
            "stale_too_old",
            "stale:too-old",
            &["too-old"],
            "now - issued_at is max_age + 1 s",
            good.clone(),
        )
        .at("2026-10-31T00:00:01Z")
        .max_age("30d"),
    );
    out.push(
        v(
            "stale_expired_and_too_old",
            "stale:expired",
            &["expired", "too-old"],
            "both stale findings; expired comes first",
            good,
        )
        .at("2027-02-01T00:00:00Z")
        .max_age("30d"),
    );
}

fn tripped(k: &Keys, out: &mut Vec<Vector>) {
    let fin = statement().set("final", "true").canonical();
    out.push(v(
        "tripped_final",
        "tripped:final",
        &["final"],
        "final: true, otherwise valid and fresh",
        signed(&fin, &[&k.alice]),
    ));
    out.push(
        v(
            "tripped_final_and_expired",
            "tripped:final",
            &["expired", "final"],
            "final and expired: the most severe verdict wins",
            signed(&fin, &[&k.alice]),
        )
        .at(EXPIRES),
    );
    out.push(
        v(
            "tripped_final_from_the_future",
            "tripped:final",
            &["future", "final"],
            "final is checked always (step 10), even when issued_at is in the future",
            signed(&fin, &[&k.alice]),
        )
        .at("2026-09-30T00:00:00Z"),
    );
    let p = statement().canonical();
    out.push(v(
        "tripped_panic_key_with_valid_signature",
        "tripped:panic-key",
        &["panic-key"],
        "alice meets the threshold and the panic key signed too",
        signed(&p, &[&k.alice, &k.panic]),
    ));
    out.push(v(
        "tripped_panic_key_alone",
        "tripped:panic-key",
        &["panic-key", "bad-signature"],
        "only the panic key signed: threshold unmet, still tripped",
        signed(&p, &[&k.panic]),
    ));
    out.push(
        v(
            "tripped_panic_key_threshold_not_met",
            "tripped:panic-key",
            &["panic-key", "threshold-not-met"],
            "alice and the panic key under 2-of-2: tripped beats invalid",
            signed(&p, &[&k.panic, &k.alice]),
        )
        .policy("alice+bob/2"),
    );
}

fn signatures(k: &Keys, out: &mut Vec<Vector>) {
    let p = statement().canonical();
    let good = sign(&k.alice, &p);

    // Moves expires_at a year out: one byte, still a valid canonical payload.
    let tampered = replace(&p, "\"expires_at\":\"2027", "\"expires_at\":\"2028");
    out.push(v(
        "invalid_tampered_payload",
        "invalid:bad-signature",
        &["bad-signature"],
        "one payload byte changed (expires_at 2027 -> 2028) under the old signature",
        envelope(&tampered, std::slice::from_ref(&good)),
    ));
    let mut raw = BASE64.decode(&good.sig).expect("base64");
    raw[0] ^= 1;
    out.push(v(
        "invalid_tampered_signature",
        "invalid:bad-signature",
        &["bad-signature"],
        "one bit of R flipped",
        envelope(
            &p,
            &[Sig {
                keyid: good.keyid.clone(),
                sig: BASE64.encode(&raw),
            }],
        ),
    ));
    let mut raw = BASE64.decode(&good.sig).expect("base64");
    let mut carry = 0u16;
    for (byte, l) in raw[32..].iter_mut().zip(ORDER_L) {
        let sum = u16::from(*byte) + u16::from(l) + carry;
        *byte = (sum & 0xff) as u8;
        carry = sum >> 8;
    }
    assert_eq!(carry, 0, "S + L fits in 32 bytes");
    out.push(v(
        "invalid_signature_s_not_reduced",
        "invalid:bad-signature",
        &["bad-signature"],
        "alice's signature with S replaced by S + L (malleable form refused by verify_strict)",
        envelope(
            &p,
            &[Sig {
                keyid: good.keyid.clone(),
                sig: BASE64.encode(&raw),
            }],
        ),
    ));
    out.push(v(
        "invalid_signature_all_zero",
        "invalid:bad-signature",
        &["bad-signature"],
        "64 zero bytes under alice's keyid",
        envelope(
            &p,
            &[Sig {
                keyid: good.keyid.clone(),
                sig: BASE64.encode([0u8; 64]),
            }],
        ),
    ));
    out.push(v(
        "invalid_signed_by_mallory",
        "invalid:bad-signature",
        &["bad-signature"],
        "a valid signature by an untrusted key",
        signed(&p, &[&k.mallory]),
    ));
    let mut forged = sign(&k.mallory, &p);
    forged.keyid = good.keyid.clone();
    out.push(v(
        "invalid_mallory_claims_alice_keyid",
        "invalid:bad-signature",
        &["bad-signature"],
        "mallory signs and labels the signature with alice's keyid",
        envelope(&p, &[forged]),
    ));
    out.push(
        v(
            "invalid_same_key_twice_two_of_two",
            "invalid:threshold-not-met",
            &["threshold-not-met"],
            "alice's signature twice does not make two signers",
            envelope(&p, &[good.clone(), good.clone()]),
        )
        .policy("alice+bob/2"),
    );
    out.push(
        v(
            "invalid_one_of_two",
            "invalid:threshold-not-met",
            &["threshold-not-met"],
            "alice alone under a 2-of-2 policy",
            envelope(&p, std::slice::from_ref(&good)),
        )
        .policy("alice+bob/2"),
    );
    out.push(
        v(
            "invalid_two_of_three_one_trusted",
            "invalid:threshold-not-met",
            &["threshold-not-met"],
            "alice and mallory under 2-of-3: mallory does not count",
            signed(&p, &[&k.alice, &k.mallory]),
        )
        .policy("alice+bob+carol/2"),
    );
    out.push(v(
        "invalid_signature_made_for_incident_type",
        "invalid:bad-signature",
        &["bad-signature"],
        "alice signed PAE(incident type, payload); the envelope says statement",
        envelope(&p, &[sign_as(&k.alice, INCIDENT, &p)]),
    ));
    out.push(v(
        "invalid_type_rewritten_to_incident",
        "invalid:wrong-payload-type",
        &["wrong-payload-type"],
        "payloadType rewritten to incident: the type check comes before signatures",
        envelope_raw(&BASE64.encode(&p), INCIDENT, std::slice::from_ref(&good)),
    ));
    out.push(v(
        "invalid_type_incident_validly_signed",
        "invalid:wrong-payload-type",
        &["wrong-payload-type"],
        "a statement payload validly signed as an incident, envelope says incident",
        envelope_raw(
            &BASE64.encode(&p),
            INCIDENT,
            &[sign_as(&k.alice, INCIDENT, &p)],
        ),
    ));
}

fn envelopes(k: &Keys, out: &mut Vec<Vector>) {
    const MALFORMED: &str = "invalid:malformed-envelope";
    const CODE: &[&str] = &["malformed-envelope"];
    let p = statement().canonical();
    let b64 = BASE64.encode(&p);
    let good = sign(&k.alice, &p);
    let compact = String::from_utf8(envelope(&p, std::slice::from_ref(&good))).expect("ascii");
    // The lax-base64 vectors need a final partial group.
    assert_ne!(
        p.len() % 3,
        0,
        "base payload length must not be a multiple of 3"
    );

    let v2 = "application/vnd.canary.statement.v2+json";
    out.push(
        v(
            "invalid_envelope_unknown_payload_type",
            MALFORMED,
            CODE,
            "payloadType statement.v2, validly signed for that type",
            envelope_raw(&b64, v2, &[sign_as(&k.alice, v2, &p)]),
        )
        .reason("unknown payloadType"),
    );
    out.push(
        v(
            "invalid_envelope_unknown_field",
            MALFORMED,
            CODE,
            "an extra top-level member",
            compact
                .replacen("\"signatures\":", "\"comment\":\"hi\",\"signatures\":", 1)
                .into_bytes(),
        )
        .reason("unknown field `comment`"),
    );
    out.push(
        v(
            "invalid_envelope_duplicate_field",
            MALFORMED,
            CODE,
            "payload given twice (same value)",
            compact
                .replacen(
                    "\"payloadType\":",
                    &format!("\"payload\":\"{b64}\",\"payloadType\":"),
                    1,
                )
                .into_bytes(),
        )
        .reason("duplicate field `payload`"),
    );
    out.push(
        v(
            "invalid_envelope_signature_unknown_field",
            MALFORMED,
            CODE,
            "an extra member in a signature object",
            compact
                .replacen("\"sig\":", "\"alg\":\"ed25519\",\"sig\":", 1)
                .into_bytes(),
        )
        .reason("unknown field `alg`"),
    );
    out.push(
        v(
            "invalid_envelope_signature_duplicate_field",
            MALFORMED,
            CODE,
            "keyid given twice in a signature object",
            compact
                .replacen(
                    "\"sig\":",
                    &format!("\"keyid\":\"{}\",\"sig\":", good.keyid),
                    1,
                )
                .into_bytes(),
        )
        .reason("duplicate field `keyid`"),
    );
    out.push(
        v(
            "invalid_envelope_missing_payload_type",
            MALFORMED,
            CODE,
            "no payloadType member",
            compact
                .replacen(&format!("\"payloadType\":\"{STATEMENT}\","), "", 1)
                .into_bytes(),
        )
        .reason("missing field `payloadType`"),
    );
    out.push(
        v(
            "invalid_envelope_base64_no_padding",
            MALFORMED,
            CODE,
            "payload base64 without its '=' padding (signature valid over the decoded bytes)",
            envelope_raw(
                b64.trim_end_matches('='),
                STATEMENT,
                std::slice::from_ref(&good),
            ),
        )
        .reason("field payload is not strict standard base64"),
    );
    out.push(
        v(
            "invalid_envelope_base64_trailing_bits",
            MALFORMED,
            CODE,
            "payload base64 with non-zero unused bits in its last character",
            envelope_raw(
                &set_trailing_bit(&b64),
                STATEMENT,
                std::slice::from_ref(&good),
            ),
        )
        .reason("field payload is not strict standard base64"),
    );
    let wrapped = format!("{}\\n{}", &b64[..76], &b64[76..]);
    out.push(
        v(
            "invalid_envelope_base64_whitespace",
            MALFORMED,
            CODE,
            "payload base64 wrapped at 76 characters with a newline",
            envelope_raw(&wrapped, STATEMENT, std::slice::from_ref(&good)),
        )
        .reason("field payload is not strict standard base64"),
    );
    // The base payload happens to need neither '+' nor '/': use notes that do.
    let odd = statement().set("notes", s("???>>>")).canonical();
    let url_safe = base64::engine::general_purpose::URL_SAFE.encode(&odd);
    assert_ne!(
        url_safe,
        BASE64.encode(&odd),
        "the payload must need '+' or '/'"
    );
    out.push(
        v(
            "invalid_envelope_base64_url_alphabet",
            MALFORMED,
            CODE,
            "payload in the URL-safe base64 alphabet ('-' and '_' for '+' and '/')",
            envelope_raw(&url_safe, STATEMENT, &[sign(&k.alice, &odd)]),
        )
        .reason("field payload is not strict standard base64"),
    );
    out.push(
        v(
            "invalid_envelope_sig_base64_no_padding",
            MALFORMED,
            CODE,
            "alice's valid signature without its '==' padding",
            envelope(
                &p,
                &[Sig {
                    keyid: good.keyid.clone(),
                    sig: good.sig.trim_end_matches('=').to_owned(),
                }],
            ),
        )
        .reason("field signatures[0].sig is not strict standard base64"),
    );
    out.push(
        v(
            "invalid_envelope_no_signatures",
            MALFORMED,
            CODE,
            "an empty signatures array",
            envelope(&p, &[]),
        )
        .reason("no signatures"),
    );
    let raw = BASE64.decode(&good.sig).expect("base64");
    out.push(
        v(
            "invalid_envelope_signature_63_bytes",
            MALFORMED,
            CODE,
            "a signature one byte short",
            envelope(
                &p,
                &[Sig {
                    keyid: good.keyid.clone(),
                    sig: BASE64.encode(&raw[..63]),
                }],
            ),
        )
        .reason("sig is 63 bytes"),
    );
    out.push(
        v(
            "invalid_envelope_signature_65_bytes",
            MALFORMED,
            CODE,
            "a valid signature with one byte appended",
            envelope(
                &p,
                &[Sig {
                    keyid: good.keyid.clone(),
                    sig: BASE64.encode([raw.as_slice(), &[0]].concat()),
                }],
            ),
        )
        .reason("sig is 65 bytes"),
    );
    out.push(
        v(
            "invalid_envelope_keyid_uppercase",
            MALFORMED,
            CODE,
            "alice's keyid in uppercase hex",
            envelope(
                &p,
                &[Sig {
                    keyid: good.keyid.to_uppercase(),
                    sig: good.sig.clone(),
                }],
            ),
        )
        .reason("keyid \"DCEA"),
    );
    out.push(
        v(
            "invalid_envelope_trailing_data",
            MALFORMED,
            CODE,
            "a second JSON value after the envelope",
            [compact.as_bytes(), b"{}"].concat(),
        )
        .reason("trailing characters"),
    );
    out.push(
        v(
            "invalid_envelope_is_bare_payload",
            MALFORMED,
            CODE,
            "the payload JSON itself instead of an envelope",
            p.clone(),
        )
        .reason("unknown field `expires_at`"),
    );
    out.push(
        v(
            "invalid_envelope_not_json",
            MALFORMED,
            CODE,
            "the PAE bytes alice signed instead of an envelope",
            pae(STATEMENT, &p),
        )
        .reason("expected value"),
    );
    out.push(
        v(
            "invalid_envelope_empty_file",
            MALFORMED,
            CODE,
            "zero bytes",
            Vec::new(),
        )
        .reason("EOF while parsing"),
    );
}

/// The base statement with notes `caf` followed by a lone 0xff byte.
fn invalid_utf8() -> Vec<u8> {
    let mut bytes = statement().set("notes", s("caf#")).canonical();
    let at: Vec<usize> = (0..bytes.len()).filter(|&i| bytes[i] == b'#').collect();
    assert_eq!(at.len(), 1, "one placeholder");
    bytes[at[0]] = 0xff;
    bytes
}

/// Sets the lowest unused bit of the last base64 character before the padding.
fn set_trailing_bit(b64: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let data = b64.trim_end_matches('=');
    let pad = b64.len() - data.len();
    assert!(pad > 0, "needs a partial final group");
    let last = data.as_bytes()[data.len() - 1];
    let index = ALPHABET
        .iter()
        .position(|&c| c == last)
        .expect("base64 character");
    assert_eq!(index & 1, 0, "unused bits are zero in canonical base64");
    let changed = ALPHABET[index | 1] as char;
    format!("{}{changed}{}", &data[..data.len() - 1], "=".repeat(pad))
}

fn payloads(k: &Keys, out: &mut Vec<Vector>) {
    const MALFORMED: &str = "invalid:malformed";
    const MALFORMED_CODE: &[&str] = &["malformed"];
    const NOT_CANONICAL: &str = "invalid:not-canonical";
    const NOT_CANONICAL_CODE: &[&str] = &["not-canonical"];
    let base = statement().canonical();
    let alice = |payload: Vec<u8>| signed(&payload, &[&k.alice]);

    // Not canonical: valid JSON and a valid statement, but not its own
    // canonical form.
    out.push(v(
        "invalid_payload_whitespace",
        NOT_CANONICAL,
        NOT_CANONICAL_CODE,
        "a space after one colon",
        alice(replace(&base, "\"sequence\":1", "\"sequence\": 1")),
    ));
    out.push(v(
        "invalid_payload_trailing_newline",
        NOT_CANONICAL,
        NOT_CANONICAL_CODE,
        "the canonical payload plus a newline",
        alice([base.as_slice(), b"\n"].concat()),
    ));
    out.push(v(
        "invalid_payload_key_order",
        NOT_CANONICAL,
        NOT_CANONICAL_CODE,
        "members in insertion order (issuer first) instead of sorted",
        alice(statement().in_order()),
    ));
    out.push(v(
        "invalid_payload_unnecessary_escape",
        NOT_CANONICAL,
        NOT_CANONICAL_CODE,
        "\\u0061 where RFC 8785 writes a",
        alice(replace(&base, "a warrant.", "a w\\u0061rrant.")),
    ));
    out.push(v(
        "invalid_payload_escaped_slash",
        NOT_CANONICAL,
        NOT_CANONICAL_CODE,
        "\\/ where RFC 8785 writes /",
        alice(statement().set("notes", "\"and\\/or\"").canonical()),
    ));
    out.push(v(
        "invalid_payload_escaped_non_ascii",
        NOT_CANONICAL,
        NOT_CANONICAL_CODE,
        "\\u00e9 where RFC 8785 writes the character itself",
        alice(statement().set("notes", "\"Caf\\u00e9\"").canonical()),
    ));
    out.push(v(
        "invalid_payload_uppercase_unicode_escape",
        NOT_CANONICAL,
        NOT_CANONICAL_CODE,
        "\\u001F where RFC 8785 writes \\u001f",
        alice(statement().set("notes", "\"a\\u001Fb\"").canonical()),
    ));
    out.push(v(
        "invalid_payload_not_canonical_before_rules",
        NOT_CANONICAL,
        NOT_CANONICAL_CODE,
        "whitespace and sequence 0: the canonical check runs before the statement rules",
        alice(replace(
            &statement().set("sequence", "0").canonical(),
            "\"sequence\":0",
            "\"sequence\": 0",
        )),
    ));

    // Malformed under the restricted JSON model (strict parse).
    out.push(
        v(
            "invalid_payload_duplicate_key",
            MALFORMED,
            MALFORMED_CODE,
            "sequence twice with the same value",
            alice(
                statement()
                    .remove("statements")
                    .push("sequence", "1")
                    .push("statements", ITEMS)
                    .canonical(),
            ),
        )
        .reason("duplicate key \"sequence\""),
    );
    out.push(
        v(
            "invalid_payload_duplicate_key_not_canonical",
            MALFORMED,
            MALFORMED_CODE,
            "duplicate key and whitespace: strict parsing runs before the canonical check",
            alice(replace(
                &statement()
                    .remove("statements")
                    .push("sequence", "1")
                    .push("statements", ITEMS)
                    .canonical(),
                "\"sequence\":1",
                "\"sequence\": 1",
            )),
        )
        .reason("duplicate key \"sequence\""),
    );
    out.push(
        v(
            "invalid_payload_float",
            MALFORMED,
            MALFORMED_CODE,
            "sequence written 1.0",
            alice(replace(&base, "\"sequence\":1", "\"sequence\":1.0")),
        )
        .reason("floats are not allowed"),
    );
    out.push(
        v(
            "invalid_payload_exponent",
            MALFORMED,
            MALFORMED_CODE,
            "sequence written 1e0",
            alice(replace(&base, "\"sequence\":1", "\"sequence\":1e0")),
        )
        .reason("floats are not allowed"),
    );
    out.push(
        v(
            "invalid_payload_leading_zero",
            MALFORMED,
            MALFORMED_CODE,
            "sequence written 01 (not JSON)",
            alice(replace(&base, "\"sequence\":1", "\"sequence\":01")),
        )
        .reason("invalid number"),
    );
    out.push(
        v(
            "invalid_payload_null",
            MALFORMED,
            MALFORMED_CODE,
            "notes: null (an absent field is omitted, never null)",
            alice(statement().set("notes", "null").canonical()),
        )
        .reason("null is not allowed"),
    );
    out.push(
        v(
            "invalid_payload_integer_above_max_safe",
            MALFORMED,
            MALFORMED_CODE,
            "sequence 2^53",
            alice(second().set("sequence", "9007199254740992").canonical()),
        )
        .reason("integer 9007199254740992 is above 2^53-1"),
    );
    out.push(
        v(
            "invalid_payload_negative_integer",
            MALFORMED,
            MALFORMED_CODE,
            "sequence -1",
            alice(statement().set("sequence", "-1").canonical()),
        )
        .reason("negative integer -1"),
    );
    out.push(
        v(
            "invalid_payload_invalid_utf8",
            MALFORMED,
            MALFORMED_CODE,
            "a lone 0xff byte inside a string",
            alice(invalid_utf8()),
        )
        .reason("invalid unicode code point"),
    );
    out.push(
        v(
            "invalid_payload_empty",
            MALFORMED,
            MALFORMED_CODE,
            "a zero-byte payload, validly signed",
            alice(Vec::new()),
        )
        .reason("EOF while parsing"),
    );

    // Malformed timestamps (schema).
    for (name, comment, value, reason) in [
        (
            "invalid_payload_timestamp_fraction",
            "issued_at with fractional seconds",
            "2026-10-01T00:00:00.000Z",
            "is not of the form YYYY-MM-DDTHH:MM:SSZ",
        ),
        (
            "invalid_payload_timestamp_offset",
            "issued_at with +00:00 instead of Z",
            "2026-10-01T00:00:00+00:00",
            "is not of the form YYYY-MM-DDTHH:MM:SSZ",
        ),
        (
            "invalid_payload_timestamp_lowercase_z",
            "issued_at ending in lowercase z",
            "2026-10-01T00:00:00z",
            "is not of the form YYYY-MM-DDTHH:MM:SSZ",
        ),
        (
            "invalid_payload_timestamp_space",
            "issued_at with a space instead of T",
            "2026-10-01 00:00:00Z",
            "is not of the form YYYY-MM-DDTHH:MM:SSZ",
        ),
        (
            "invalid_payload_timestamp_leap_second",
            "issued_at on the real leap second 2016-12-31T23:59:60Z",
            "2016-12-31T23:59:60Z",
            "names a date or time that does not exist",
        ),
        (
            "invalid_payload_timestamp_invalid_date",
            "issued_at on 2026-02-29, which does not exist",
            "2026-02-29T00:00:00Z",
            "names a date or time that does not exist",
        ),
    ] {
        out.push(
            v(
                name,
                MALFORMED,
                MALFORMED_CODE,
                comment,
                alice(statement().set("issued_at", s(value)).canonical()),
            )
            .reason(reason),
        );
    }

    // Schema: fields missing, unknown or of the wrong type.
    out.push(
        v(
            "invalid_payload_unknown_field",
            MALFORMED,
            MALFORMED_CODE,
            "an extra top-level member, canonical otherwise",
            alice(statement().set("comment", s("hi")).canonical()),
        )
        .reason("unknown field `comment`"),
    );
    out.push(v(
        "invalid_payload_unknown_nested_field",
        MALFORMED,
        MALFORMED_CODE,
        "an extra member in a statements item",
        alice(
            statement()
                .set(
                    "statements",
                    r#"[{"id":"no-warrants","lang":"en","text":"We have never received a warrant."}]"#,
                )
                .canonical(),
        ),
    ).reason("unknown field `lang`"));
    out.push(
        v(
            "invalid_payload_missing_field",
            MALFORMED,
            MALFORMED_CODE,
            "no expires_at",
            alice(statement().remove("expires_at").canonical()),
        )
        .reason("missing field `expires_at`"),
    );
    out.push(
        v(
            "invalid_payload_sequence_string",
            MALFORMED,
            MALFORMED_CODE,
            "sequence written as the string \"1\"",
            alice(statement().set("sequence", s("1")).canonical()),
        )
        .reason("invalid type: string \"1\", expected u64"),
    );
    out.push(
        v(
            "invalid_payload_final_string",
            MALFORMED,
            MALFORMED_CODE,
            "final written as the string \"true\"",
            alice(statement().set("final", s("true")).canonical()),
        )
        .reason("invalid type: string \"true\", expected a boolean"),
    );
    out.push(
        v(
            "invalid_payload_previous_not_digest",
            MALFORMED,
            MALFORMED_CODE,
            "previous in uppercase hex",
            alice(
                second()
                    .set(
                        "previous",
                        previous().to_uppercase().replacen("SHA256", "sha256", 1),
                    )
                    .canonical(),
            ),
        )
        .reason("is not of the form sha256:<64 lowercase hex digits>"),
    );

    // Statement rules (each payload canonical, breaking exactly one rule).
    out.push(
        v(
            "invalid_payload_sequence_zero",
            MALFORMED,
            MALFORMED_CODE,
            "sequence 0",
            alice(statement().set("sequence", "0").canonical()),
        )
        .reason("sequence: must be at least 1"),
    );
    out.push(
        v(
            "invalid_payload_sequence_two_without_previous",
            MALFORMED,
            MALFORMED_CODE,
            "sequence 2 and no previous",
            alice(statement().set("sequence", "2").canonical()),
        )
        .reason("previous: is required when sequence is above 1"),
    );
    out.push(
        v(
            "invalid_payload_sequence_one_with_previous",
            MALFORMED,
            MALFORMED_CODE,
            "sequence 1 naming a previous statement",
            alice(statement().set("previous", previous()).canonical()),
        )
        .reason("previous: must be absent when sequence is 1"),
    );
    out.push(
        v(
            "invalid_payload_expires_before_next_due",
            MALFORMED,
            MALFORMED_CODE,
            "expires_at one second before next_due",
            alice(
                statement()
                    .set("expires_at", s("2026-12-29T23:59:59Z"))
                    .canonical(),
            ),
        )
        .reason("expires_at: must not be before next_due"),
    );
    out.push(
        v(
            "invalid_payload_next_due_before_issued_at",
            MALFORMED,
            MALFORMED_CODE,
            "next_due one second before issued_at",
            alice(
                statement()
                    .set("next_due", s("2026-09-30T23:59:59Z"))
                    .canonical(),
            ),
        )
        .reason("next_due: must be after issued_at"),
    );
    out.push(
        v(
            "invalid_payload_next_due_equals_issued_at",
            MALFORMED,
            MALFORMED_CODE,
            "next_due == issued_at (must be after)",
            alice(statement().set("next_due", s(ISSUED)).canonical()),
        )
        .reason("next_due: must be after issued_at"),
    );
    out.push(
        v(
            "invalid_payload_bad_slug",
            MALFORMED,
            MALFORMED_CODE,
            "statement id No-Warrants (uppercase)",
            alice(replace(
                &base,
                "\"id\":\"no-warrants\"",
                "\"id\":\"No-Warrants\"",
            )),
        )
        .reason("statements[0].id: \"No-Warrants\" is not a slug"),
    );
    out.push(
        v(
            "invalid_payload_slug_double_hyphen",
            MALFORMED,
            MALFORMED_CODE,
            "statement id no--warrants",
            alice(replace(
                &base,
                "\"id\":\"no-warrants\"",
                "\"id\":\"no--warrants\"",
            )),
        )
        .reason("statements[0].id: \"no--warrants\" is not a slug"),
    );
    out.push(
        v(
            "invalid_payload_duplicate_statement_id",
            MALFORMED,
            MALFORMED_CODE,
            "two statements with id no-warrants",
            alice(replace(
                &base,
                "\"id\":\"no-gag-orders\"",
                "\"id\":\"no-warrants\"",
            )),
        )
        .reason("statements: id \"no-warrants\" appears twice"),
    );
    out.push(
        v(
            "invalid_payload_empty_text",
            MALFORMED,
            MALFORMED_CODE,
            "a statement with empty text",
            alice(replace(
                &base,
                "\"text\":\"We have never received a warrant.\"",
                "\"text\":\"\"",
            )),
        )
        .reason("statements[0].text: must not be empty"),
    );
    out.push(
        v(
            "invalid_payload_blank_text",
            MALFORMED,
            MALFORMED_CODE,
            "a statement whose text is only spaces",
            alice(replace(
                &base,
                "\"text\":\"We have never received a warrant.\"",
                "\"text\":\"   \"",
            )),
        )
        .reason("statements[0].text: must not be empty"),
    );
    out.push(
        v(
            "invalid_payload_issuer_whitespace",
            MALFORMED,
            MALFORMED_CODE,
            "issuer with a trailing space: a document rule, checked before the issuer match",
            alice(statement().set("issuer", s("example.org ")).canonical()),
        )
        .reason("issuer: must not contain whitespace"),
    );
    out.push(
        v(
            "invalid_payload_incident_version_zero",
            MALFORMED,
            MALFORMED_CODE,
            "an incident reference with version 0",
            alice(
                statement()
                    .set(
                        "incidents",
                        format!(
                            r#"[{{"digest":"sha256:{}","id":"push-certificate","version":0}}]"#,
                            hex(&Sha256::digest(b"incident record"))
                        ),
                    )
                    .canonical(),
            ),
        )
        .reason("incidents[0].version: must be at least 1"),
    );

    // Freshness proofs.
    let bitcoin = |hash: &str, header: &str| {
        format!(r#"{{"bitcoin":{{"hash":"{hash}","header":"{header}","height":0}}}}"#)
    };
    let mut wrong_hash = GENESIS_HASH.to_owned();
    wrong_hash.replace_range(63.., "e");
    out.push(
        v(
            "invalid_payload_bitcoin_hash_mismatch",
            MALFORMED,
            MALFORMED_CODE,
            "the genesis header with a hash whose last digit is changed",
            alice(
                statement()
                    .set("freshness", bitcoin(&wrong_hash, GENESIS_HEADER))
                    .canonical(),
            ),
        )
        .reason("hash does not match the header"),
    );
    // Another nonce: a real double SHA-256, but nowhere near the target.
    let mut header = unhex(GENESIS_HEADER);
    header[79] ^= 1;
    let mut hash: [u8; 32] = Sha256::digest(Sha256::digest(&header)).into();
    hash.reverse();
    assert_ne!(hash[..4], [0; 4], "the changed header must miss the target");
    out.push(v(
        "invalid_payload_bitcoin_hash_above_target",
        MALFORMED,
        MALFORMED_CODE,
        "the genesis header with another nonce and its true hash, which misses the difficulty target",
        alice(
            statement()
                .set("freshness", bitcoin(&hex(&hash), &hex(&header)))
                .canonical(),
        ),
    ).reason("hash does not meet the header's difficulty target"));
    // The genesis block's header with a statement issued too early for it:
    // (name, comment, issued_at, next_due, expires_at, at, reason).
    for (name, comment, issued, due, expires, at, reason) in [
        (
            "invalid_payload_bitcoin_block_after_issued_at",
            "the genesis block (2009-01-03) cannot prove a statement issued in 2008",
            "2008-12-01T00:00:00Z",
            "2009-03-01T00:00:00Z",
            "2009-03-15T00:00:00Z",
            "2008-12-02T00:00:00Z",
            "block time 2009-01-03T18:15:05Z is not before issued_at 2008-12-01T00:00:00Z",
        ),
        (
            "invalid_payload_bitcoin_block_at_issued_at",
            "issued in the very second the genesis block was mined: the block time must precede issued_at",
            "2009-01-03T18:15:05Z",
            "2009-04-01T00:00:00Z",
            "2009-04-15T00:00:00Z",
            "2009-01-04T00:00:00Z",
            "block time 2009-01-03T18:15:05Z is not before issued_at 2009-01-03T18:15:05Z",
        ),
    ] {
        out.push(
            v(
                name,
                MALFORMED,
                MALFORMED_CODE,
                comment,
                alice(
                    statement()
                        .set("issued_at", s(issued))
                        .set("next_due", s(due))
                        .set("expires_at", s(expires))
                        .set("freshness", bitcoin(GENESIS_HASH, GENESIS_HEADER))
                        .canonical(),
                ),
            )
            .at(at)
            .reason(reason),
        );
    }
    out.push(
        v(
            "invalid_payload_bitcoin_hash_uppercase",
            MALFORMED,
            MALFORMED_CODE,
            "the genesis hash in uppercase hex",
            alice(
                statement()
                    .set(
                        "freshness",
                        format!(
                            r#"{{"bitcoin":{{"hash":"{}","height":0}}}}"#,
                            GENESIS_HASH.to_uppercase()
                        ),
                    )
                    .canonical(),
            ),
        )
        .reason("hash must be 64 lowercase hex digits"),
    );
    out.push(
        v(
            "invalid_payload_freshness_empty",
            MALFORMED,
            MALFORMED_CODE,
            "freshness with neither bitcoin nor headlines",
            alice(statement().set("freshness", "{}").canonical()),
        )
        .reason("freshness: must carry bitcoin and/or headlines"),
    );
}
