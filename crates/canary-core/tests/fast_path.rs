//! `parse_payload` against the slow path alone (DESIGN §3.2).
//!
//! `parse_payload` reads bytes that are certainly canonical in one pass
//! straight into the document type, and leaves everything else, every error
//! included, to the slow path: strict parse into a `serde_json::Value`,
//! canonical-bytes check, schema, a re-serialization that refuses structs
//! written as arrays, and the document rules. Both ways must accept and
//! refuse exactly the same bytes with exactly the same result.
//!
//! [`reference`] is that slow path written again from the public API, as
//! `parse_payload` was before the fast path existed. Every input here goes
//! through both and the results (documents or errors, messages included)
//! must be equal: valid documents of the three payload types, every
//! single-byte deletion, insertion and replacement of them, structs written
//! as arrays at every depth, JSON-level edits (dropped, unknown and retyped
//! fields) and other renderings, and random documents and mutations
//! (proptest, fixed seed).

use canary_core::json::{self, MAX_SAFE_INTEGER};
use canary_core::{
    BitcoinProof, Compromise, Digest, Freshness, Impact, IncidentKind, IncidentRecord, IncidentRef,
    IncidentStatus, IncidentUpdate, KeyRotation, Measure, MeasureKind, Payload, PayloadError,
    PayloadType, PublicKey, SigningKey, Statement, StatementItem, Timestamp, Zeroizing,
    parse_payload, to_payload,
};
use proptest::collection::{btree_set, vec};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};
use serde_json::{Value, json};

/// The message of the slow path for structs written as arrays.
const ARRAYS: &str = "objects must be written as JSON objects, not as arrays of their field values";

/// `parse_payload` as it was before the fast path: every step of the slow
/// path, in order, from the public API.
fn reference<T: Payload>(bytes: &[u8]) -> Result<T, PayloadError> {
    let value = json::parse_strict(bytes)?;
    let canonical = json::canonicalize(&value)?;
    if canonical != bytes {
        return Err(PayloadError::NotCanonical {
            expected_len: canonical.len(),
            actual_len: bytes.len(),
        });
    }
    let schema = |message: String| PayloadError::Schema {
        payload_type: T::PAYLOAD_TYPE,
        message,
    };
    let doc: T = serde_json::from_value(value).map_err(|e| schema(e.to_string()))?;
    let again = serde_json::to_value(&doc)
        .ok()
        .and_then(|v| json::canonicalize(&v).ok());
    if again.as_deref() != Some(bytes) {
        return Err(schema(ARRAYS.to_owned()));
    }
    doc.validate().map_err(|errors| PayloadError::Invalid {
        payload_type: T::PAYLOAD_TYPE,
        errors,
    })?;
    Ok(doc)
}

/// Parses `bytes` as `T` both ways and requires the same result; returns
/// whether it is a document.
fn agree_as<T: Payload + PartialEq + std::fmt::Debug>(bytes: &[u8]) -> bool {
    let fast = parse_payload::<T>(bytes);
    let slow = reference::<T>(bytes);
    assert_eq!(
        fast,
        slow,
        "{} as {}",
        String::from_utf8_lossy(bytes),
        T::PAYLOAD_TYPE
    );
    fast.is_ok()
}

/// [`agree_as`] for the payload type of `kind`; returns whether it is a
/// document of that type.
fn agree(kind: PayloadType, bytes: &[u8]) -> bool {
    match kind {
        PayloadType::Statement => agree_as::<Statement>(bytes),
        PayloadType::Incident => agree_as::<IncidentRecord>(bytes),
        PayloadType::Rotation => agree_as::<KeyRotation>(bytes),
    }
}

fn ts(s: &str) -> Timestamp {
    s.parse().expect("fixed timestamp")
}

fn public(seed: u8) -> PublicKey {
    *SigningKey::from_seed(&Zeroizing::new([seed; 32]))
        .expect("valid seed")
        .public_key()
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

fn minimal_statement() -> Statement {
    Statement {
        issuer: "example.org".into(),
        sequence: 1,
        issued_at: ts("2026-10-01T00:00:00Z"),
        next_due: ts("2026-12-30T00:00:00Z"),
        expires_at: ts("2027-01-13T00:00:00Z"),
        statements: items(&[("no-warrants", "We have never received a warrant.")]),
        previous: None,
        incidents: None,
        freshness: None,
        notes: None,
        is_final: None,
    }
}

/// Every optional field, escapes that canonical JSON keeps (`\"`, `\\`,
/// `\n`, `\u0001`), non-ASCII and astral characters, DEL.
fn full_statement() -> Statement {
    Statement {
        sequence: 9_007_199_254_740_991,
        previous: Some(Digest::of(b"previous")),
        statements: items(&[
            ("no-warrants", "We \"never\" got one\\.\n\u{1}\u{1f} \u{7f}"),
            ("no-gag-orders", "Grüße aus 東京 \u{1f600} \u{2028}"),
        ]),
        incidents: Some(vec![IncidentRef {
            id: "db-upgrade".into(),
            version: 3,
            digest: Digest::of(b"incident"),
        }]),
        freshness: Some(Freshness {
            bitcoin: Some(BitcoinProof {
                height: 900_000,
                hash: "00".repeat(32),
                header: None,
            }),
            headlines: Some(vec!["Headline one".into(), "Zwei".into()]),
        }),
        notes: Some("A note\twith a tab.".into()),
        is_final: Some(false),
        ..minimal_statement()
    }
}

fn incident() -> IncidentRecord {
    IncidentRecord {
        issuer: "example.org".into(),
        id: "db-upgrade".into(),
        version: 2,
        title: "Outage during a database upgrade".into(),
        kind: IncidentKind::Incident,
        impact: Impact::Major,
        status: IncidentStatus::Resolved,
        started_at: ts("2026-03-01T10:00:00Z"),
        resolved_at: Some(ts("2026-03-01T12:30:00Z")),
        affected: vec!["api".into(), "web".into()],
        what_happened: "The \"upgrade\" stalled.".into(),
        compromised: Compromise {
            summary: "Nothing.".into(),
            data_lost: false,
            data_exposed: false,
        },
        measures: vec![Measure {
            action: "Rehearse upgrades".into(),
            kind: MeasureKind::Prevent,
            done: true,
        }],
        updates: vec![
            IncidentUpdate {
                at: ts("2026-03-01T10:05:00Z"),
                status: IncidentStatus::Investigating,
                body: "Looking.".into(),
            },
            IncidentUpdate {
                at: ts("2026-03-01T12:30:00Z"),
                status: IncidentStatus::Resolved,
                body: "Done.".into(),
            },
        ],
        previous: Some(Digest::of(b"version 1")),
    }
}

fn rotation() -> KeyRotation {
    KeyRotation {
        issuer: "example.org".into(),
        version: 2,
        threshold: 1,
        keys: vec![public(1), public(2)],
        panic_keys: Some(vec![public(3)]),
        issued_at: ts("2026-05-01T00:00:00Z"),
    }
}

/// Canonical payloads of valid documents, with their types.
fn bases() -> Vec<(PayloadType, Vec<u8>)> {
    vec![
        (
            PayloadType::Statement,
            to_payload(&minimal_statement()).expect("valid"),
        ),
        (
            PayloadType::Statement,
            to_payload(&full_statement()).expect("valid"),
        ),
        (
            PayloadType::Incident,
            to_payload(&incident()).expect("valid"),
        ),
        (
            PayloadType::Rotation,
            to_payload(&rotation()).expect("valid"),
        ),
    ]
}

fn canonical(v: &Value) -> Vec<u8> {
    json::canonicalize(v).expect("a value of the model")
}

#[test]
fn valid_documents_parse_the_same_both_ways() {
    assert!(agree_as::<Statement>(
        &to_payload(&minimal_statement()).expect("valid")
    ));
    assert_eq!(
        parse_payload::<Statement>(&to_payload(&full_statement()).expect("valid")),
        Ok(full_statement())
    );
    assert_eq!(
        parse_payload::<IncidentRecord>(&to_payload(&incident()).expect("valid")),
        Ok(incident())
    );
    assert_eq!(
        parse_payload::<KeyRotation>(&to_payload(&rotation()).expect("valid")),
        Ok(rotation())
    );
    for (kind, bytes) in bases() {
        assert!(agree(kind, &bytes));
    }
}

/// Deleting any byte, inserting any byte of a hostile alphabet anywhere, or
/// replacing any byte with one: the same result both ways, every time.
#[test]
fn every_single_byte_mutation_parses_the_same_both_ways() {
    let alphabet = b"\"\\{}[],:019aAbnu -.eE\n\x00\x1f\x7f\xc3\xff";
    let mut documents = 0;
    let mut variants = 0;
    for (kind, base) in bases() {
        for i in 0..=base.len() {
            let mut check = |v: &[u8]| {
                variants += 1;
                documents += usize::from(agree(kind, v));
            };
            if i < base.len() {
                let mut d = base.clone();
                d.remove(i);
                check(&d);
            }
            for &b in alphabet {
                let mut ins = base.clone();
                ins.insert(i, b);
                check(&ins);
                if i < base.len() && base[i] != b {
                    let mut rep = base.clone();
                    rep[i] = b;
                    check(&rep);
                }
            }
        }
    }
    // Some mutations stay documents (a letter of a text, a digit of a
    // number): the fast path is exercised, not only the errors.
    assert!(documents > 500, "{documents} of {variants} were documents");
}

/// Every path to an object inside `v`, outermost first.
fn object_paths(v: &Value, path: &mut Vec<PathStep>, out: &mut Vec<Vec<PathStep>>) {
    match v {
        Value::Object(map) => {
            out.push(path.clone());
            for (k, item) in map {
                path.push(PathStep::Key(k.clone()));
                object_paths(item, path, out);
                path.pop();
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                path.push(PathStep::Index(i));
                object_paths(item, path, out);
                path.pop();
            }
        }
        _ => {}
    }
}

#[derive(Debug, Clone)]
enum PathStep {
    Key(String),
    Index(usize),
}

fn at_mut<'a>(v: &'a mut Value, path: &[PathStep]) -> &'a mut Value {
    path.iter().fold(v, |v, step| match step {
        PathStep::Key(k) => &mut v[k.as_str()],
        PathStep::Index(i) => &mut v[*i],
    })
}

/// The fields of each struct in declaration order: the order in which
/// serde's derived `Deserialize` reads a struct from an array.
const FIELD_ORDERS: &[&[&str]] = &[
    &[
        "issuer",
        "sequence",
        "issued_at",
        "next_due",
        "expires_at",
        "statements",
        "previous",
        "incidents",
        "freshness",
        "notes",
        "final",
    ],
    &["id", "text"],
    &["id", "version", "digest"],
    &["bitcoin", "headlines"],
    &["height", "hash", "header"],
    &[
        "issuer",
        "id",
        "version",
        "title",
        "kind",
        "impact",
        "status",
        "started_at",
        "resolved_at",
        "affected",
        "what_happened",
        "compromised",
        "measures",
        "updates",
        "previous",
    ],
    &["summary", "data_lost", "data_exposed"],
    &["action", "kind", "done"],
    &["at", "status", "body"],
    &[
        "issuer",
        "version",
        "threshold",
        "keys",
        "panic_keys",
        "issued_at",
    ],
];

/// The object's values as an array: in declaration order (up to the last
/// field present, as serde reads it) when a struct has these fields, and in
/// key order.
fn as_arrays(map: &serde_json::Map<String, Value>) -> Vec<Value> {
    let mut out = vec![Value::Array(map.values().cloned().collect())];
    for order in FIELD_ORDERS {
        if map.keys().all(|k| order.contains(&k.as_str())) {
            let last = order.iter().rposition(|f| map.contains_key(*f));
            let declared = order[..last.map_or(0, |l| l + 1)]
                .iter()
                .map(|f| map.get(*f).cloned().unwrap_or(Value::Bool(false)))
                .collect();
            out.push(Value::Array(declared));
        }
    }
    out
}

/// Structs written as arrays of their field values, at every depth and all
/// at once: canonical JSON that reads as a document, and must be refused
/// the same way both ways.
#[test]
fn structs_written_as_arrays_are_refused_the_same_both_ways() {
    let mut refused_as_arrays = 0;
    for (kind, base) in bases() {
        let value = json::parse_strict(&base).expect("valid");
        let mut paths = Vec::new();
        object_paths(&value, &mut Vec::new(), &mut paths);
        for path in &paths {
            let Value::Object(map) = at_mut(&mut value.clone(), path).clone() else {
                unreachable!("a path to an object");
            };
            for array in as_arrays(&map) {
                let mut v = value.clone();
                *at_mut(&mut v, path) = array;
                let bytes = canonical(&v);
                assert!(json::is_canonical(&bytes));
                assert!(!agree(kind, &bytes));
                let refused = match kind {
                    PayloadType::Statement => parse_payload::<Statement>(&bytes).err(),
                    PayloadType::Incident => parse_payload::<IncidentRecord>(&bytes).err(),
                    PayloadType::Rotation => parse_payload::<KeyRotation>(&bytes).err(),
                };
                if matches!(refused, Some(PayloadError::Schema { message, .. }) if message == ARRAYS)
                {
                    refused_as_arrays += 1;
                }
            }
        }
        // Every struct at once, innermost first.
        let mut v = value.clone();
        for path in paths.iter().rev() {
            let target = at_mut(&mut v, path);
            if let Value::Object(map) = target.clone() {
                *target = as_arrays(&map).pop().expect("one form at least");
            }
        }
        assert!(!agree(kind, &canonical(&v)));
    }
    assert!(refused_as_arrays >= 10, "only {refused_as_arrays}");

    // The regression of the fuzz target, exactly: a statement item as
    // [id, text] is refused with the same error as before the fast path.
    let mut v = json::parse_strict(&to_payload(&minimal_statement()).expect("valid")).expect("ok");
    v["statements"] = json!([["no-warrants", "We have never received a warrant."]]);
    assert_eq!(
        parse_payload::<Statement>(&canonical(&v)),
        Err(PayloadError::Schema {
            payload_type: PayloadType::Statement,
            message: ARRAYS.to_owned(),
        })
    );
}

/// Values of other types for any field.
fn replacements() -> Vec<Value> {
    vec![
        json!(true),
        json!(0),
        json!(1),
        json!(MAX_SAFE_INTEGER),
        json!(""),
        json!("x"),
        json!("2026-10-01T00:00:00Z"),
        json!("sha256:0000000000000000000000000000000000000000000000000000000000000000"),
        json!([]),
        json!({}),
        json!(["x"]),
        json!({"id": "x", "text": "y"}),
    ]
}

/// Every field dropped, retyped, or joined by an unknown one, at every
/// depth; rendered canonically, so the schema and the document rules are
/// reached, and rendered otherwise (pretty, serde_json's compact form), so
/// the canonical check is.
#[test]
fn json_level_edits_parse_the_same_both_ways() {
    let mut documents = 0;
    for (kind, base) in bases() {
        let value = json::parse_strict(&base).expect("valid");
        let mut paths = Vec::new();
        object_paths(&value, &mut Vec::new(), &mut paths);
        for path in &paths {
            let keys: Vec<String> = match at_mut(&mut value.clone(), path) {
                Value::Object(map) => map.keys().cloned().collect(),
                _ => unreachable!("a path to an object"),
            };
            let mut edits = Vec::new();
            for key in &keys {
                let mut v = value.clone();
                if let Value::Object(map) = at_mut(&mut v, path) {
                    map.remove(key);
                }
                edits.push(v);
                for r in replacements() {
                    let mut v = value.clone();
                    at_mut(&mut v, path)[key.as_str()] = r;
                    edits.push(v);
                }
            }
            for unknown in ["", "a", "extra", "zzz", "Issuer", "\u{e9}"] {
                let mut v = value.clone();
                at_mut(&mut v, path)[unknown] = json!(1);
                edits.push(v);
            }
            for v in &edits {
                documents += usize::from(agree(kind, &canonical(v)));
                agree(kind, &serde_json::to_vec(v).expect("json"));
                agree(kind, &serde_json::to_vec_pretty(v).expect("json"));
            }
        }
    }
    assert!(documents > 10, "only {documents} edits were documents");
}

// --- Random documents and mutations (proptest, fixed seed) ---------------------

fn config(cases: u32) -> Config {
    Config {
        cases,
        failure_persistence: None,
        rng_seed: RngSeed::Fixed(0x0fa5_7a57_2026),
        ..Config::default()
    }
}

/// Characters JSON writers get wrong, and any other.
fn any_char() -> impl Strategy<Value = char> {
    prop_oneof![
        3 => any::<char>(),
        3 => proptest::char::range(' ', '~'),
        2 => proptest::char::range('\0', '\x1f'),
        1 => proptest::sample::select(vec![
            '"', '\\', '/', '\x7f', '\u{e9}', '\u{2028}', '\u{feff}', '\u{1f600}',
        ]),
    ]
}

fn any_string(max: usize) -> impl Strategy<Value = String> {
    vec(any_char(), 0..=max).prop_map(String::from_iter)
}

fn slug() -> impl Strategy<Value = String> {
    "[a-z0-9]{1,8}(-[a-z0-9]{1,5}){0,2}"
}

/// Statements, mostly valid (ids may repeat, texts may be blank, dates may
/// be out of order: those reach the document rules both ways).
fn statement() -> impl Strategy<Value = Statement> {
    let second = 0i64..=4_000_000_000;
    (
        (
            proptest::sample::select(vec!["example.org", "a b", "", "ex\u{1}"]),
            prop_oneof![Just(1u64), Just(0u64), 1..=MAX_SAFE_INTEGER],
            proptest::option::of(any::<[u8; 4]>()),
            (second.clone(), second.clone(), second),
        ),
        (
            vec((slug(), any_string(12)), 0..5),
            proptest::option::of(btree_set(slug(), 0..3)),
            proptest::option::of(vec(any_string(8), 0..3)),
            proptest::option::of(any_string(16)),
            proptest::option::of(any::<bool>()),
        ),
    )
        .prop_map(
            |((issuer, sequence, previous, (a, b, c)), (pairs, incidents, headlines, notes, f))| {
                let at = |s: i64| Timestamp::from_unix(s).expect("in range");
                Statement {
                    issuer: issuer.to_owned(),
                    sequence,
                    issued_at: at(a),
                    next_due: at(b),
                    expires_at: at(c),
                    statements: pairs
                        .into_iter()
                        .map(|(id, text)| StatementItem { id, text })
                        .collect(),
                    previous: previous.map(|p| Digest::of(&p)),
                    incidents: incidents.map(|ids| {
                        ids.into_iter()
                            .map(|id| IncidentRef {
                                id,
                                version: 1,
                                digest: Digest::of(b"x"),
                            })
                            .collect()
                    }),
                    freshness: headlines.map(|h| Freshness {
                        bitcoin: None,
                        headlines: Some(h),
                    }),
                    notes,
                    is_final: f,
                }
            },
        )
}

/// The payload a statement would have if its rules held: canonical JSON of
/// its fields (`to_payload` refuses invalid documents).
fn payload_of(s: &Statement) -> Vec<u8> {
    canonical(&serde_json::to_value(s).expect("serializes"))
}

proptest! {
    #![proptest_config(config(512))]

    /// Random statements, valid or breaking rules: the same result both
    /// ways, and valid ones read back as themselves.
    #[test]
    fn random_statements_parse_the_same_both_ways(s in statement()) {
        let bytes = payload_of(&s);
        let result = parse_payload::<Statement>(&bytes);
        prop_assert_eq!(&result, &reference::<Statement>(&bytes));
        if s.validate().is_ok() {
            prop_assert_eq!(result, Ok(s));
        }
    }

    /// Random statements with random bytes overwritten, inserted or deleted.
    #[test]
    fn random_mutations_parse_the_same_both_ways(
        s in statement(),
        edits in vec((any::<prop::sample::Index>(), any::<u8>(), 0..3u8), 1..4),
    ) {
        let mut bytes = payload_of(&s);
        for (at, byte, how) in edits {
            let i = at.index(bytes.len() + 1);
            match how {
                0 if i < bytes.len() => bytes[i] = byte,
                1 if i < bytes.len() => {
                    bytes.remove(i);
                }
                _ => bytes.insert(i, byte),
            }
        }
        prop_assert_eq!(parse_payload::<Statement>(&bytes), reference::<Statement>(&bytes));
    }
}
