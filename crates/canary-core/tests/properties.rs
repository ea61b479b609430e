//! Property tests (proptest) for the canonical JSON writer (DESIGN §3.2), the
//! statement payload round trip (§3.3) and envelope integrity (§3.1, §5).
//!
//! Every proptest block uses [`config`]: a fixed RNG seed, so every run
//! checks the same inputs and a failure reproduces, and no failure-persistence
//! files written into the repository. To explore other inputs locally, change
//! [`SEED`]. Nothing here reads the clock or the network: the verification
//! time is a fixed timestamp.

use canary_core::json::{self, MAX_SAFE_INTEGER};
use canary_core::{
    BitcoinProof, Digest, Envelope, Freshness, IncidentRef, Payload, PayloadError, PublicKey,
    SigningKey, Statement, StatementItem, Timestamp, TrustPolicy, Verdict, VerifyOptions,
    Zeroizing, parse_draft, parse_payload, to_payload, verify_statement,
};
use proptest::collection::{btree_map, btree_set, vec};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};
use serde_json::Value;
use std::sync::OnceLock;

/// The fixed seed of every proptest run in this file.
const SEED: u64 = 0x00ca_4a41_2026;

fn config(cases: u32) -> Config {
    Config {
        cases,
        failure_persistence: None,
        rng_seed: RngSeed::Fixed(SEED),
        ..Config::default()
    }
}

// --- Generators ----------------------------------------------------------------

/// Any Unicode scalar value, weighted toward what JSON writers get wrong:
/// control characters, quotes and backslashes, DEL, line/paragraph
/// separators, BOM, noncharacters and astral characters (surrogate pairs in
/// UTF-16, which decide the RFC 8785 key order).
fn any_char() -> impl Strategy<Value = char> {
    prop_oneof![
        4 => any::<char>(),
        3 => proptest::char::range(' ', '~'),
        2 => proptest::char::range('\0', '\x1f'),
        2 => proptest::char::range('\u{10000}', '\u{10ffff}'),
        1 => proptest::sample::select(vec![
            '"', '\\', '/', '\x7f', '\u{80}', '\u{e9}', '\u{2028}', '\u{2029}', '\u{20ac}',
            '\u{feff}', '\u{fffd}', '\u{ffff}', '\u{1f600}',
        ]),
    ]
}

fn any_string(max: usize) -> impl Strategy<Value = String> {
    vec(any_char(), 0..=max).prop_map(String::from_iter)
}

/// Integers of the restricted model, with both ends of the range.
fn any_integer() -> impl Strategy<Value = u64> {
    prop_oneof![
        Just(0),
        Just(MAX_SAFE_INTEGER),
        0..1000u64,
        0..=MAX_SAFE_INTEGER,
    ]
}

/// Values of the restricted model (DESIGN §3.2), nested at most 4 deep.
fn any_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        any::<bool>().prop_map(Value::Bool),
        any_integer().prop_map(Value::from),
        any_string(12).prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 256, 6, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..6).prop_map(Value::Array),
            btree_map(any_string(8), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Containers nested inside `v` (a scalar is depth 0).
fn depth(v: &Value) -> usize {
    match v {
        Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        Value::Object(map) => 1 + map.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

/// Lowercase slugs (`no-warrants`, `a1-b-c2`), at most 34 characters.
fn slug() -> impl Strategy<Value = String> {
    "[a-z0-9]{1,10}(-[a-z0-9]{1,7}){0,3}"
}

/// Text readers read: arbitrary Unicode, but never empty after trimming.
fn text() -> impl Strategy<Value = String> {
    (
        any_string(16),
        any_char().prop_filter("visible", |c| !c.is_whitespace()),
        any_string(16),
    )
        .prop_map(|(a, c, b)| format!("{a}{c}{b}"))
}

fn digest() -> impl Strategy<Value = Digest> {
    vec(any::<u8>(), 0..16).prop_map(|b| Digest::of(&b))
}

/// 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z: the range the one timestamp
/// form (four-digit year) can express.
const FIRST_SECOND: i64 = -62_167_219_200;
const LAST_SECOND: i64 = 253_402_300_799;

/// `issued_at < next_due <= expires_at`, with `expires_at == next_due` (no
/// grace period) a quarter of the time.
fn dates() -> impl Strategy<Value = (Timestamp, Timestamp, Timestamp)> {
    let second = FIRST_SECOND..=LAST_SECOND;
    (
        second.clone(),
        second.clone(),
        second,
        proptest::bool::weighted(0.25),
    )
        .prop_filter_map(
            "issued_at must be before next_due",
            |(a, b, c, no_grace)| {
                let mut t = [a, b, c];
                t.sort_unstable();
                let ts = |s: i64| Timestamp::from_unix(s).expect("in range");
                let expires = if no_grace { t[1] } else { t[2] };
                (t[0] < t[1]).then(|| (ts(t[0]), ts(t[1]), ts(expires)))
            },
        )
}

fn items() -> impl Strategy<Value = Vec<StatementItem>> {
    btree_set(slug(), 0..6).prop_flat_map(|ids| {
        let n = ids.len();
        (
            Just(ids.into_iter().collect::<Vec<_>>()).prop_shuffle(),
            vec(text(), n),
        )
            .prop_map(|(ids, texts)| {
                ids.into_iter()
                    .zip(texts)
                    .map(|(id, text)| StatementItem { id, text })
                    .collect()
            })
    })
}

fn incidents() -> impl Strategy<Value = Vec<IncidentRef>> {
    btree_set(slug(), 0..4).prop_flat_map(|ids| {
        let n = ids.len();
        vec((1..=MAX_SAFE_INTEGER, digest()), n).prop_map(move |refs| {
            ids.iter()
                .cloned()
                .zip(refs)
                .map(|(id, (version, digest))| IncidentRef {
                    id,
                    version,
                    digest,
                })
                .collect()
        })
    })
}

fn headlines() -> impl Strategy<Value = Vec<String>> {
    vec(text(), 1..3)
}

fn bitcoin() -> impl Strategy<Value = BitcoinProof> {
    (
        0..=MAX_SAFE_INTEGER,
        proptest::array::uniform32(any::<u8>()),
    )
        .prop_map(|(height, hash)| BitcoinProof {
            height,
            hash: hash.iter().map(|b| format!("{b:02x}")).collect(),
            header: None,
        })
}

/// At least one of the two proofs (a header-less Bitcoin proof is only
/// checked for its form).
fn freshness() -> impl Strategy<Value = Freshness> {
    prop_oneof![
        headlines().prop_map(|h| Freshness {
            bitcoin: None,
            headlines: Some(h),
        }),
        bitcoin().prop_map(|b| Freshness {
            bitcoin: Some(b),
            headlines: None,
        }),
        (bitcoin(), headlines()).prop_map(|(b, h)| Freshness {
            bitcoin: Some(b),
            headlines: Some(h),
        }),
    ]
}

/// Valid statements: every rule of DESIGN §3.3 holds by construction.
fn statement() -> impl Strategy<Value = Statement> {
    let issuer = proptest::sample::select(vec![
        "example.org",
        "example.com",
        "canary.example.net",
        "xn--bcher-kva.example",
        "status.example.co.uk",
    ]);
    let sequence = prop_oneof![Just(1u64), 1..=MAX_SAFE_INTEGER];
    (
        (issuer, sequence, digest(), dates()),
        (
            items(),
            proptest::option::of(incidents()),
            proptest::option::of(freshness()),
            proptest::option::of(any_string(24)),
            proptest::option::of(any::<bool>()),
        ),
    )
        .prop_map(
            |(
                (issuer, sequence, previous, (issued_at, next_due, expires_at)),
                (statements, incidents, freshness, notes, is_final),
            )| Statement {
                issuer: issuer.to_owned(),
                sequence,
                issued_at,
                next_due,
                expires_at,
                statements,
                previous: (sequence > 1).then_some(previous),
                incidents,
                freshness,
                notes,
                is_final,
            },
        )
}

// --- Canonical JSON ------------------------------------------------------------

/// RFC 8785 for the restricted model, written independently of the library
/// as an oracle: serde_json's compact string escapes are exactly JCS's
/// (`\"`, `\\`, `\b \t \n \f \r`, lowercase `\u00xx` for the other
/// controls, everything else as itself), integers are written in decimal, and
/// object members are sorted by the UTF-16 code units of their keys.
fn reference_jcs(v: &Value) -> String {
    match v {
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(reference_jcs).collect();
            format!("[{}]", items.join(","))
        }
        Value::Object(map) => {
            let mut members: Vec<(&String, &Value)> = map.iter().collect();
            members.sort_by(|(a, _), (b, _)| {
                a.encode_utf16()
                    .collect::<Vec<u16>>()
                    .cmp(&b.encode_utf16().collect())
            });
            let members: Vec<String> = members
                .into_iter()
                .map(|(k, v)| {
                    format!(
                        "{}:{}",
                        reference_jcs(&Value::from(k.as_str())),
                        reference_jcs(v)
                    )
                })
                .collect();
            format!("{{{}}}", members.join(","))
        }
        scalar => serde_json::to_string(scalar).expect("scalars serialize"),
    }
}

proptest! {
    #![proptest_config(config(256))]

    /// `canonicalize` writes bytes that parse strictly back to the same value,
    /// are a fixed point of canonicalization, and pass `is_canonical`.
    #[test]
    fn canonical_json_round_trips(v in any_value()) {
        prop_assert!(depth(&v) <= 4);
        let canonical = json::canonicalize(&v).expect("the model's values canonicalize");
        let parsed = json::parse_strict(&canonical).expect("canonical bytes parse strictly");
        prop_assert_eq!(&parsed, &v);
        prop_assert_eq!(json::canonicalize(&parsed).expect("again"), canonical.clone());
        prop_assert!(json::is_canonical(&canonical));
        // RFC 8785 escapes every control character; none survives raw.
        prop_assert!(canonical.iter().all(|&b| b >= 0x20), "raw control byte");
        // And the bytes are those of an independent, naive RFC 8785 writer.
        prop_assert_eq!(String::from_utf8(canonical).expect("UTF-8"), reference_jcs(&v));
    }

    /// Pretty-printed JSON (indentation, newlines, spaces after colons, and
    /// UTF-8 rather than UTF-16 key order) parses strictly to the same value and canonicalizes to the
    /// canonical bytes; when it differs from them, it is not canonical.
    #[test]
    fn pretty_json_canonicalizes_to_the_same_bytes(v in any_value()) {
        let canonical = json::canonicalize(&v).expect("canonicalize");
        let pretty = serde_json::to_vec_pretty(&v).expect("pretty");
        let parsed = json::parse_strict(&pretty).expect("pretty JSON parses strictly");
        prop_assert_eq!(&parsed, &v);
        prop_assert_eq!(json::canonicalize(&parsed).expect("canonicalize"), canonical.clone());
        let non_trivial = match &v {
            Value::Array(a) => !a.is_empty(),
            Value::Object(o) => !o.is_empty(),
            _ => false,
        };
        if non_trivial {
            prop_assert_ne!(&pretty, &canonical);
        }
        prop_assert_eq!(json::is_canonical(&pretty), pretty == canonical);
    }
}

// --- Statement payloads --------------------------------------------------------

proptest! {
    #![proptest_config(config(256))]

    /// A valid statement survives `to_payload` → `parse_payload` unchanged,
    /// and its payload is canonical.
    #[test]
    fn statement_payload_round_trips(s in statement()) {
        let payload = to_payload(&s).expect("valid statements serialize");
        prop_assert!(json::is_canonical(&payload));
        prop_assert_eq!(parse_payload::<Statement>(&payload), Ok(s.clone()));

        // The same document in draft form (pretty, any key order) is read by
        // parse_draft but refused as a payload: nothing is normalised.
        let pretty = serde_json::to_vec_pretty(&s).expect("pretty");
        prop_assert_eq!(parse_draft::<Statement>(&pretty), Ok(s));
        let refused = matches!(
            parse_payload::<Statement>(&pretty),
            Err(PayloadError::NotCanonical { .. })
        );
        prop_assert!(refused);
    }
}

/// Regression: `Timestamp::from_unix` and `checked_add` reach instants past
/// 9999-12-31T23:59:59Z (a `next_due` of issued_at plus a cadence of
/// "3000000d", say) and before year 0. Their `Display` is `+10000-01-01T00:00:00Z` or
/// `-0001-12-31T23:59:59Z`, which `FromStr` rightly refuses, so `to_payload`
/// used to write and sign a payload that no verifier, this one included,
/// could read. It must refuse instead.
#[test]
fn to_payload_refuses_timestamps_outside_years_0000_to_9999() {
    let base = Statement {
        issuer: "example.org".into(),
        sequence: 1,
        issued_at: ts("2026-10-01T00:00:00Z"),
        next_due: ts("2026-12-30T00:00:00Z"),
        expires_at: ts("2027-01-13T00:00:00Z"),
        statements: vec![],
        previous: None,
        incidents: None,
        freshness: None,
        notes: None,
        is_final: None,
    };
    let at = |s: i64| Timestamp::from_unix(s).expect("representable");

    let mut last = base.clone();
    last.expires_at = at(LAST_SECOND);
    let payload = to_payload(&last).expect("9999-12-31T23:59:59Z is writable");
    assert_eq!(parse_payload::<Statement>(&payload), Ok(last.clone()));

    // Instants past either end cannot be built at all, so no document can
    // carry one.
    assert_eq!(Timestamp::from_unix(LAST_SECOND + 1), None);
    assert_eq!(Timestamp::from_unix(FIRST_SECOND - 1), None);
    assert_eq!(
        at(LAST_SECOND).checked_add(chrono::TimeDelta::seconds(1)),
        None
    );
    assert_eq!(
        at(FIRST_SECOND).checked_sub(chrono::TimeDelta::seconds(1)),
        None
    );
    let mut first = base;
    first.issued_at = at(FIRST_SECOND);
    first.next_due = at(FIRST_SECOND + 1);
    let payload = to_payload(&first).expect("0000-01-01T00:00:00Z is writable");
    assert_eq!(parse_payload::<Statement>(&payload), Ok(first));
}

// --- Envelope integrity --------------------------------------------------------

fn unhex32(s: &str) -> [u8; 32] {
    let bytes: Vec<u8> = (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect();
    bytes.try_into().expect("32 bytes")
}

/// Alice's fixture key (`testdata/keys/alice.seed`), trusted by the fixture
/// issuer `example.org`.
fn alice() -> SigningKey {
    let seed = unhex32(include_str!("../testdata/keys/alice.seed").trim());
    SigningKey::from_seed(&Zeroizing::new(seed)).expect("alice's seed")
}

struct Fixture {
    envelope: Vec<u8>,
    policy: TrustPolicy,
    options: VerifyOptions,
}

fn ts(s: &str) -> Timestamp {
    s.parse().expect("timestamp")
}

/// A small signed statement of `example.org`, its policy (Alice, threshold 1)
/// and a verification time inside its validity window.
///
/// Deliberately short: the payload is opaque base64 to a one-byte mutation
/// (any change that still decodes fails the signature before the payload is
/// read), so its content adds no coverage, while every such mutation costs
/// one Ed25519 verification, slow in unoptimised builds.
fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(make_fixture)
}

fn make_fixture() -> Fixture {
    let key = alice();
    let statement = Statement {
        issuer: "example.org".into(),
        sequence: 1,
        issued_at: ts("2026-10-01T00:00:00Z"),
        next_due: ts("2026-12-30T00:00:00Z"),
        expires_at: ts("2027-01-13T00:00:00Z"),
        statements: vec![StatementItem {
            id: "no-raids".into(),
            text: "None.".into(),
        }],
        previous: None,
        incidents: None,
        freshness: None,
        notes: None,
        is_final: None,
    };
    let payload = to_payload(&statement).expect("valid statement");
    let envelope = Envelope::sign(Statement::PAYLOAD_TYPE, payload, &key).to_json();
    let trusted: PublicKey = *key.public_key();
    let policy = TrustPolicy::new("example.org", 1, 1, [trusted], []).expect("policy");
    let options = VerifyOptions::at(ts("2026-10-02T00:00:00Z"));
    Fixture {
        envelope,
        policy,
        options,
    }
}

impl Fixture {
    /// Verifies the envelope with byte `pos` replaced by `new`; panics
    /// unless the result is `invalid` with nothing authenticated.
    fn assert_refused(&self, pos: usize, new: u8) {
        let old = self.envelope[pos];
        assert_ne!(old, new, "not a mutation");
        let mut bytes = self.envelope.clone();
        bytes[pos] = new;
        let report = verify_statement(&bytes, &self.policy, &self.options);
        let context = || {
            format!(
                "byte {pos} {old:#04x} -> {new:#04x} in {}: {:?}",
                String::from_utf8_lossy(&self.envelope),
                report.findings
            )
        };
        // Stronger than "not Ok": nothing is authenticated at all (and no
        // run so far has found an exception to exclude). Any
        // single-byte change lands in the payload (its signature fails), a
        // signature (fails), a keyid (unknown key, ignored), the payloadType
        // (unknown type) or the JSON syntax (malformed); no one-byte change
        // re-encodes the same envelope (a JSON escape is at least two bytes,
        // base64 is strict, and the compact form has no whitespace).
        assert!(report.statement.is_none(), "still authentic: {}", context());
        assert_eq!(report.verdict(false), Verdict::Invalid, "{}", context());
    }
}

#[test]
fn unmutated_fixture_envelope_verifies_ok() {
    let f = fixture();
    let report = verify_statement(&f.envelope, &f.policy, &f.options);
    assert_eq!(report.findings, []);
    assert_eq!(report.verdict(true), Verdict::Ok);
    let statement = report.statement.expect("authentic");
    assert_eq!(statement.document().sequence, 1);
    assert_eq!(statement.signers(), [alice().public_key().id()]);
}

/// Every position, four mutations each: flip the lowest bit, flip the ASCII
/// case bit, set the high bit (non-ASCII, invalid UTF-8) and zero the byte.
/// Positions are split over the available cores: about half the mutations
/// still decode and cost an Ed25519 verification each.
#[test]
fn every_single_byte_mutation_is_refused() {
    let f = fixture();
    let len = f.envelope.len();
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let tried: usize = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                scope.spawn(move || {
                    let mut tried = 0usize;
                    for pos in (t..len).step_by(threads) {
                        let old = f.envelope[pos];
                        for new in [old ^ 0x01, old ^ 0x20, old ^ 0x80, 0x00] {
                            if new != old {
                                f.assert_refused(pos, new);
                                tried += 1;
                            }
                        }
                    }
                    tried
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| {
                w.join()
                    .expect("a mutation was not refused (see the panic above)")
            })
            .sum()
    });
    // The compact envelope has no NUL byte: every position gets four distinct mutations.
    assert_eq!(tried, 4 * len);
}

proptest! {
    #![proptest_config(config(256))]

    /// Any single byte replaced by any other value is refused, never a panic.
    #[test]
    fn random_single_byte_mutation_is_refused(
        (pos, delta) in (0..fixture().envelope.len(), 1..=255u8)
    ) {
        let f = fixture();
        f.assert_refused(pos, f.envelope[pos] ^ delta);
    }
}
