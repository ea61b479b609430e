//! A mutation corpus against statement verification (DESIGN §3.1–§3.3, §5).
//!
//! From valid statement envelopes signed by the fixture key `alice` (trust
//! policy: issuer `example.org`, alice, threshold 1, the fixture panic key)
//! this file derives a few thousand hostile inputs with a fixed seed:
//!
//! - byte-level mutations of the envelope (bit flips, overwrites,
//!   truncations, insertions, duplications, deletions), not re-signed;
//! - byte-level mutations of the payload, once with the original signature
//!   (must never verify) and once **re-signed with the trusted key**;
//! - JSON-level mutations of the payload (dropped, unknown and duplicate
//!   fields, other types, negative, huge and float numbers, null, reordered
//!   keys, whitespace, other timestamp forms, ids that are not slugs,
//!   sequence and `previous` changes, unicode escapes, ...), one at a time
//!   and in combination, each re-signed with the trusted key by signing
//!   `pae(payloadType, bytes)` directly and writing the envelope by hand, so
//!   the strict parser and the document rules are reached past the
//!   signature check.
//!
//! For every case: verification never panics (`catch_unwind`), takes less
//! than [`LIMIT`] (a hang guard, not a benchmark), and says "ok" exactly
//! when an expectation computed without `verify_statement` says so: the
//! payload parses with `parse_payload::<Statement>` (strict JSON, canonical
//! bytes, schema, document rules), names the expected issuer, is neither
//! from the future, nor expired, nor final. Single JSON mutations that break
//! a rule by construction (a duplicate key, whitespace, a float, ...) must
//! in addition be refused by that expectation: that checks the strict parser
//! itself, independently of its own verdict.
//!
//! Nothing here reads the clock: every verification is at [`NOW`]. Run with
//! `--nocapture` to see the counts and the slowest case of each corpus.

use std::fmt::Write as _;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use canary_core::json::MAX_SAFE_INTEGER;
use canary_core::{
    BitcoinProof, Digest, Envelope, Freshness, IncidentRef, PublicKey, Report, SigningKey,
    Statement, StatementItem, TimeDelta, Timestamp, TrustPolicy, Verdict, VerifyOptions, Zeroizing,
    pae, parse_payload, to_payload, verify_statement,
};
use serde_json::Value;

/// The seed of every corpus in this file; change it locally to explore.
const SEED: u64 = 0x6361_6e61_7279_2026;

/// The verification time.
const NOW: &str = "2026-01-02T00:00:00Z";

/// Per-case bound on one verification: a hang guard, not a benchmark (wide
/// enough for an unoptimised build on a loaded two-core machine).
const LIMIT: Duration = Duration::from_millis(500);

const ISSUER: &str = "example.org";
const STATEMENT_TYPE: &str = "application/vnd.canary.statement.v1+json";

// ---------------------------------------------------------------- PRNG

/// xorshift64*: small, deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn new(stream: u64) -> Self {
        // splitmix64 of the seed and the stream, never zero.
        let mut z = SEED ^ stream.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        Rng((z ^ (z >> 31)) | 1)
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in `0..n` (`n > 0`).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// True with probability `num / den`.
    fn chance(&mut self, num: u64, den: u64) -> bool {
        self.next() % den < num
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    fn pick_some<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        (!items.is_empty()).then(|| self.pick(items))
    }

    fn byte(&mut self) -> u8 {
        (self.next() >> 56) as u8
    }
}

// ---------------------------------------------------------------- fixture

fn key(name: &str) -> SigningKey {
    let path = format!("{}/testdata/keys/{name}.seed", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).expect("fixture seed file");
    let hex = text.trim();
    let mut seed = Zeroizing::new([0u8; 32]);
    for (i, b) in seed.iter_mut().enumerate() {
        *b = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).expect("hex seed");
    }
    SigningKey::from_seed(&seed).expect("fixture key")
}

fn ts(s: &str) -> Timestamp {
    s.parse().expect("fixed timestamp")
}

struct Fixture {
    alice: SigningKey,
    alice_public: PublicKey,
    panic_key: SigningKey,
    policy: TrustPolicy,
    now: Timestamp,
    /// Canonical payloads of the valid base statements.
    payloads: Vec<Vec<u8>>,
    /// Their sequences.
    sequences: Vec<u64>,
    /// Their envelopes signed by alice (as the signer writes them).
    envelopes: Vec<Vec<u8>>,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let alice = key("alice");
        let panic_key = key("panic");
        let alice_public = *alice.public_key();
        let policy = TrustPolicy::new(ISSUER, 1, 1, [alice_public], [*panic_key.public_key()])
            .expect("policy");
        let now = ts(NOW);
        let statements = base_statements();
        let payloads: Vec<Vec<u8>> = statements
            .iter()
            .map(|s| to_payload(s).expect("valid base statement"))
            .collect();
        let envelopes = payloads
            .iter()
            .map(|p| {
                Envelope::sign(canary_core::PayloadType::Statement, p.clone(), &alice).to_json()
            })
            .collect();
        let fx = Fixture {
            alice,
            alice_public,
            panic_key,
            policy,
            now,
            sequences: statements.iter().map(|s| s.sequence).collect(),
            payloads,
            envelopes,
        };
        for (i, env) in fx.envelopes.iter().enumerate() {
            let report = verify_statement(env, &fx.policy, &VerifyOptions::at(now));
            assert_eq!(
                report.verdict(false),
                Verdict::Ok,
                "base {i}: {:?}",
                report.findings
            );
            assert_eq!(
                &hand_envelope(&fx, &fx.payloads[i], false),
                env,
                "the hand-written envelope is the signer's"
            );
        }
        fx
    })
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

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// Three statements valid at [`NOW`], covering every field of DESIGN §3.3.
fn base_statements() -> Vec<Statement> {
    let first = Statement {
        issuer: ISSUER.to_owned(),
        sequence: 1,
        issued_at: ts("2026-01-01T00:00:00Z"),
        next_due: ts("2026-04-01T00:00:00Z"),
        expires_at: ts("2026-04-15T00:00:00Z"),
        statements: items(&[
            ("no-warrants", "We have never received a search warrant."),
            (
                "no-gag-orders",
                "We have never been placed under a gag order.",
            ),
            (
                "no-key-disclosure",
                "We have never been compelled to disclose encryption keys.",
            ),
        ]),
        previous: None,
        incidents: None,
        freshness: None,
        notes: None,
        is_final: None,
    };
    let second = Statement {
        issuer: ISSUER.to_owned(),
        sequence: 2,
        issued_at: ts("2025-12-31T12:00:00Z"),
        next_due: ts("2026-03-31T12:00:00Z"),
        expires_at: ts("2026-04-14T12:00:00Z"),
        statements: items(&[
            ("no-warrants", "We have never received a search warrant."),
            ("no-backdoors", "No backdoors: \"none\", \\ none / none."),
        ]),
        previous: Some(Digest::of(b"statement 1")),
        incidents: Some(vec![
            IncidentRef {
                id: "2025-12-mail-outage".to_owned(),
                version: 3,
                digest: Digest::of(b"incident mail v3"),
            },
            IncidentRef {
                id: "push-cert".to_owned(),
                version: 1,
                digest: Digest::of(b"incident push v1"),
            },
        ]),
        freshness: Some(Freshness {
            bitcoin: Some(BitcoinProof {
                height: 927_000,
                hash: hex(Digest::of(b"a block").as_bytes()),
                header: None,
            }),
            headlines: Some(vec![
                "Markets close higher".to_owned(),
                "Grüße aus 東京 😀".to_owned(),
            ]),
        }),
        notes: Some(
            "Line one\nLine two\t\"quoted\" \\ back \u{1}\u{1f}\u{7f} é 😀 \u{2028} </script>"
                .to_owned(),
        ),
        is_final: Some(false),
    };
    let third = Statement {
        issuer: ISSUER.to_owned(),
        sequence: MAX_SAFE_INTEGER,
        // Four minutes ahead of NOW: inside the default five-minute skew.
        issued_at: ts("2026-01-02T00:04:00Z"),
        next_due: ts("2026-01-20T00:00:00Z"),
        expires_at: ts("2026-01-20T00:00:00Z"),
        statements: items(&[
            (
                "a123456789-b123456789-c123456789-d123456789-e123456789-f12345678",
                "A sixty-four character id.",
            ),
            ("z", "ℤ"),
        ]),
        previous: Some(Digest::of(b"statement 2^53-2")),
        incidents: Some(Vec::new()),
        freshness: Some(Freshness {
            bitcoin: None,
            headlines: Some(vec!["\u{feff}BOM first".to_owned()]),
        }),
        notes: None,
        is_final: None,
    };
    vec![first, second, third]
}

/// An envelope over `payload` written by hand: signed by alice (and the panic
/// key too when `panic`) over `pae(payloadType, payload)`.
fn hand_envelope(fx: &Fixture, payload: &[u8], panic: bool) -> Vec<u8> {
    let message = pae(STATEMENT_TYPE, payload);
    let mut signers = vec![&fx.alice];
    if panic {
        signers.push(&fx.panic_key);
    }
    let sigs: Vec<String> = signers
        .iter()
        .map(|k| {
            format!(
                r#"{{"keyid":"{}","sig":"{}"}}"#,
                k.public_key().id(),
                BASE64.encode(k.sign(&message))
            )
        })
        .collect();
    format!(
        r#"{{"payload":"{}","payloadType":"{STATEMENT_TYPE}","signatures":[{}]}}"#,
        BASE64.encode(payload),
        sigs.join(",")
    )
    .into_bytes()
}

// ---------------------------------------------------------------- expectations

/// Whether a reader should accept `payload`, signed by alice alone, at NOW:
/// computed from `parse_payload` and the verification rules of DESIGN §5
/// steps 6–8 and 10, never from `verify_statement`.
fn payload_acceptable(fx: &Fixture, payload: &[u8]) -> bool {
    match parse_payload::<Statement>(payload) {
        Ok(s) => {
            let latest = fx.now.checked_add(TimeDelta::minutes(5)).expect("in range");
            s.issuer == ISSUER && s.issued_at <= latest && fx.now < s.expires_at && !s.is_final()
        }
        Err(_) => false,
    }
}

/// Whether envelope bytes (not re-signed) should verify: a strict envelope
/// of the statement type with a valid signature by alice over an acceptable
/// payload.
fn envelope_acceptable(fx: &Fixture, bytes: &[u8]) -> bool {
    let Ok(env) = Envelope::parse(bytes) else {
        return false;
    };
    let message = env.pae();
    env.payload_type() == canary_core::PayloadType::Statement
        && env.signatures().iter().any(|s| {
            s.keyid == fx.alice_public.id() && fx.alice_public.verify_strict(&message, &s.sig)
        })
        && payload_acceptable(fx, env.payload())
}

// ---------------------------------------------------------------- running

/// What a corpus saw.
#[derive(Default)]
struct Tally {
    cases: usize,
    ok: usize,
    refused: usize,
    max: Duration,
    slowest: String,
    failures: Vec<String>,
}

impl Tally {
    fn fail(&mut self, label: &str, why: String, input: &[u8]) {
        if self.failures.len() < 25 {
            let shown = String::from_utf8_lossy(&input[..input.len().min(600)]).into_owned();
            self.failures
                .push(format!("{label}: {why}\n    input: {shown:?}"));
        } else if self.failures.len() == 25 {
            self.failures.push("(more failures not shown)".to_owned());
        }
    }

    fn finish(self, corpus: &str, min_ok: usize, min_refused: usize) {
        println!(
            "{corpus}: {} cases, {} ok, {} refused; slowest verification {:?} ({})",
            self.cases, self.ok, self.refused, self.max, self.slowest
        );
        assert!(
            self.failures.is_empty(),
            "{corpus}: {} failing cases:\n{}",
            self.failures.len(),
            self.failures.join("\n")
        );
        assert!(
            self.ok >= min_ok && self.refused >= min_refused,
            "{corpus}: the corpus is lopsided ({} ok, {} refused)",
            self.ok,
            self.refused
        );
    }
}

fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(non-string panic)".to_owned())
}

/// Verifies `bytes` under catch_unwind and times it. A case over [`LIMIT`]
/// is retried twice and its fastest run counts: a real hang or blow-up
/// repeats, a scheduling hiccup on a busy machine does not.
fn timed_verify(fx: &Fixture, bytes: &[u8]) -> (Result<Report, String>, Duration) {
    let once = || {
        let started = Instant::now();
        let result = catch_unwind(AssertUnwindSafe(|| {
            verify_statement(bytes, &fx.policy, &VerifyOptions::at(fx.now))
        }))
        .map_err(|p| panic_message(&*p));
        (result, started.elapsed())
    };
    let (result, mut took) = once();
    if result.is_ok() && took > LIMIT {
        for _ in 0..2 {
            took = took.min(once().1);
        }
    }
    (result, took)
}

/// Runs one case: `expect_ok` is the independent expectation; `payload_ok`
/// is `Some(accepted)` when the case's payload is known (it was re-signed),
/// to check what an ok report carries.
fn run_case(
    fx: &Fixture,
    tally: &mut Tally,
    label: &str,
    bytes: &[u8],
    expect_ok: bool,
    signed_payload: Option<&[u8]>,
    panic_signed: bool,
) -> Option<Report> {
    tally.cases += 1;
    let (result, took) = timed_verify(fx, bytes);
    if took > tally.max {
        tally.max = took;
        tally.slowest = label.to_owned();
    }
    let report = match result {
        Ok(r) => r,
        Err(m) => {
            tally.fail(label, format!("verify_statement panicked: {m}"), bytes);
            return None;
        }
    };
    if took >= LIMIT {
        tally.fail(label, format!("verification took {took:?}"), bytes);
    }
    let verdict = report.verdict(false);
    if (verdict == Verdict::Ok) != expect_ok {
        tally.fail(
            label,
            format!(
                "verdict {verdict}, expected {}; findings {:?}",
                if expect_ok { "ok" } else { "not ok" },
                report.findings
            ),
            bytes,
        );
    }
    if verdict == Verdict::Ok {
        tally.ok += 1;
        // Nothing unverified is shown as verified: the report carries
        // exactly the payload that was signed, and it parses strictly.
        match &report.statement {
            Some(v) => {
                if signed_payload.is_some_and(|p| v.payload() != p) {
                    tally.fail(label, "ok, but for other payload bytes".to_owned(), bytes);
                }
                if parse_payload::<Statement>(v.payload()).is_err() {
                    tally.fail(
                        label,
                        "ok for a payload that does not parse".to_owned(),
                        bytes,
                    );
                }
            }
            None => tally.fail(label, "ok without a statement".to_owned(), bytes),
        }
    } else {
        tally.refused += 1;
    }
    let refused_as = if panic_signed {
        Verdict::Tripped
    } else {
        Verdict::Invalid
    };
    if let Some(p) = signed_payload
        && parse_payload::<Statement>(p).is_err()
        && (report.statement.is_some() || verdict != refused_as)
    {
        tally.fail(
            label,
            format!(
                "a payload that does not parse gave verdict {verdict} with statement {}",
                report.statement.is_some()
            ),
            bytes,
        );
    }
    Some(report)
}

// ---------------------------------------------------------------- byte mutations

/// One random byte-level mutation of `bytes`; returns its name.
fn mutate_bytes(rng: &mut Rng, bytes: &mut Vec<u8>) -> &'static str {
    const ALPHABET: &[u8] =
        b"{}[]\",:\\ \n\t0123456789-+.eEaAzZ/=ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz\x00\x7f\xc3\xa9\xff";
    let len = bytes.len();
    let at = |rng: &mut Rng| rng.below(len.max(1));
    match rng.below(9) {
        0 if len > 0 => {
            let i = at(rng);
            bytes[i] ^= 1 << rng.below(8);
            "flip a bit"
        }
        1 if len > 0 => {
            let i = at(rng);
            bytes[i] = if rng.chance(1, 2) {
                rng.byte()
            } else {
                *rng.pick(ALPHABET)
            };
            "overwrite a byte"
        }
        2 => {
            bytes.truncate(rng.below(len + 1));
            "truncate"
        }
        3 => {
            let i = rng.below(len + 1);
            let n = 1 + rng.below(8);
            let ins: Vec<u8> = (0..n)
                .map(|_| {
                    if rng.chance(1, 3) {
                        rng.byte()
                    } else {
                        *rng.pick(ALPHABET)
                    }
                })
                .collect();
            bytes.splice(i..i, ins);
            "insert bytes"
        }
        4 if len > 0 => {
            let a = at(rng);
            let b = (a + 1 + rng.below(64)).min(len);
            let piece = bytes[a..b].to_vec();
            let to = if rng.chance(1, 2) {
                b
            } else {
                rng.below(len + 1)
            };
            bytes.splice(to..to, piece);
            "duplicate a slice"
        }
        5 if len > 0 => {
            let a = at(rng);
            let b = (a + 1 + rng.below(16)).min(len);
            bytes.drain(a..b);
            "delete a range"
        }
        6 if len > 1 => {
            let (i, j) = (at(rng), at(rng));
            bytes.swap(i, j);
            "swap two bytes"
        }
        7 => {
            let copy = bytes.clone();
            bytes.extend_from_slice(&copy);
            "duplicate everything"
        }
        _ => {
            let i = rng.below(len + 1);
            bytes.insert(i, *rng.pick(b" \n\t\r"));
            "insert whitespace"
        }
    }
}

#[test]
fn envelope_byte_mutations_never_verify_unless_intact() {
    let fx = fixture();
    let mut rng = Rng::new(1);
    let mut tally = Tally::default();
    for case in 0..1500 {
        let base = rng.below(fx.envelopes.len());
        let mut bytes = fx.envelopes[base].clone();
        let mut names = Vec::new();
        for _ in 0..1 + rng.below(3) {
            names.push(mutate_bytes(&mut rng, &mut bytes));
        }
        let label = format!("envelope #{case} (base {base}: {})", names.join(", "));
        let expect = envelope_acceptable(fx, &bytes);
        // Not re-signed: an ok can only be the base payload itself.
        let report = run_case(fx, &mut tally, &label, &bytes, expect, None, false);
        if let Some(r) = report
            && r.verdict(false) == Verdict::Ok
            && r.statement.as_ref().map(|v| v.payload()) != Some(&fx.payloads[base][..])
        {
            tally.fail(&label, "ok for a payload nobody signed".to_owned(), &bytes);
        }
    }
    tally.finish("envelope bytes", 1, 1000);
}

#[test]
fn payload_byte_mutations_fail_the_signature_and_reach_the_parser_when_resigned() {
    let fx = fixture();
    let mut rng = Rng::new(2);
    let mut tally = Tally::default();
    let mut resigned = Tally::default();
    for case in 0..1000 {
        let base = rng.below(fx.payloads.len());
        let mut payload = fx.payloads[base].clone();
        let mut names = Vec::new();
        for _ in 0..1 + rng.below(2) {
            names.push(mutate_bytes(&mut rng, &mut payload));
        }
        let label = format!("payload #{case} (base {base}: {})", names.join(", "));
        if case % 5 == 0 {
            // The original signature over other bytes: never valid.
            let original = Envelope::parse(&fx.envelopes[base]).expect("base envelope");
            let sig = &original.signatures()[0];
            let bytes = format!(
                r#"{{"payload":"{}","payloadType":"{STATEMENT_TYPE}","signatures":[{{"keyid":"{}","sig":"{}"}}]}}"#,
                BASE64.encode(&payload),
                sig.keyid,
                BASE64.encode(sig.sig)
            )
            .into_bytes();
            let expect = payload == fx.payloads[base];
            run_case(fx, &mut tally, &label, &bytes, expect, None, false);
        } else {
            let bytes = hand_envelope(fx, &payload, false);
            let expect = payload_acceptable(fx, &payload);
            run_case(
                fx,
                &mut resigned,
                &label,
                &bytes,
                expect,
                Some(&payload),
                false,
            );
        }
    }
    tally.finish("payload bytes, original signature", 0, 150);
    resigned.finish("payload bytes, re-signed", 5, 500);
}

// ---------------------------------------------------------------- JSON model

/// A JSON document as written, so that mutations can produce what a JSON
/// library never would: duplicate keys, any key order, raw literals.
#[derive(Clone, Debug)]
enum J {
    Obj(Vec<Member>),
    Arr(Vec<J>),
    Str(String),
    Num(u64),
    Bool(bool),
    /// Written verbatim (numbers, null, odd strings, invalid bytes).
    Raw(Vec<u8>),
}

#[derive(Clone, Debug)]
struct Member {
    key: String,
    /// Written verbatim instead of `key` (quotes included) when set.
    raw_key: Option<Vec<u8>>,
    value: J,
}

impl Member {
    fn new(key: &str, value: J) -> Self {
        Member {
            key: key.to_owned(),
            raw_key: None,
            value,
        }
    }
}

fn utf16_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    a.encode_utf16().cmp(b.encode_utf16())
}

fn from_value(v: &Value) -> J {
    match v {
        Value::Object(map) => {
            let mut members: Vec<Member> = map
                .iter()
                .map(|(k, v)| Member::new(k, from_value(v)))
                .collect();
            members.sort_by(|a, b| utf16_cmp(&a.key, &b.key));
            J::Obj(members)
        }
        Value::Array(items) => J::Arr(items.iter().map(from_value).collect()),
        Value::String(s) => J::Str(s.clone()),
        Value::Number(n) => J::Num(n.as_u64().expect("base documents hold small integers")),
        Value::Bool(b) => J::Bool(*b),
        Value::Null => J::Raw(b"null".to_vec()),
    }
}

/// RFC 8785 string escaping, written here independently of canary-core.
fn write_str(s: &str, out: &mut Vec<u8>) {
    out.push(b'"');
    for c in s.chars() {
        write_char(c, out);
    }
    out.push(b'"');
}

fn write_char(c: char, out: &mut Vec<u8>) {
    match c {
        '"' => out.extend_from_slice(b"\\\""),
        '\\' => out.extend_from_slice(b"\\\\"),
        '\u{8}' => out.extend_from_slice(b"\\b"),
        '\t' => out.extend_from_slice(b"\\t"),
        '\n' => out.extend_from_slice(b"\\n"),
        '\u{c}' => out.extend_from_slice(b"\\f"),
        '\r' => out.extend_from_slice(b"\\r"),
        c if (c as u32) < 0x20 => out.extend_from_slice(format!("\\u{:04x}", c as u32).as_bytes()),
        c => out.extend_from_slice(c.to_string().as_bytes()),
    }
}

fn emit(j: &J, out: &mut Vec<u8>) {
    match j {
        J::Obj(members) => {
            out.push(b'{');
            for (i, m) in members.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                match &m.raw_key {
                    Some(raw) => out.extend_from_slice(raw),
                    None => write_str(&m.key, out),
                }
                out.push(b':');
                emit(&m.value, out);
            }
            out.push(b'}');
        }
        J::Arr(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                emit(item, out);
            }
            out.push(b']');
        }
        J::Str(s) => write_str(s, out),
        J::Num(n) => out.extend_from_slice(n.to_string().as_bytes()),
        J::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        J::Raw(raw) => out.extend_from_slice(raw),
    }
}

fn to_bytes(j: &J) -> Vec<u8> {
    let mut out = Vec::new();
    emit(j, &mut out);
    out
}

/// A node below the root: its path and the key it sits under (`None` for
/// an array item).
struct Node {
    path: Vec<usize>,
    key: Option<String>,
}

fn nodes(j: &J) -> Vec<Node> {
    fn walk(j: &J, path: &mut Vec<usize>, out: &mut Vec<Node>) {
        match j {
            J::Obj(members) => {
                for (i, m) in members.iter().enumerate() {
                    path.push(i);
                    out.push(Node {
                        path: path.clone(),
                        key: Some(m.key.clone()),
                    });
                    walk(&m.value, path, out);
                    path.pop();
                }
            }
            J::Arr(items) => {
                for (i, item) in items.iter().enumerate() {
                    path.push(i);
                    out.push(Node {
                        path: path.clone(),
                        key: None,
                    });
                    walk(item, path, out);
                    path.pop();
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(j, &mut Vec::new(), &mut out);
    out
}

fn at_mut<'a>(j: &'a mut J, path: &[usize]) -> &'a mut J {
    match path.split_first() {
        None => j,
        Some((&i, rest)) => match j {
            J::Obj(members) => at_mut(&mut members[i].value, rest),
            J::Arr(items) => at_mut(&mut items[i], rest),
            _ => unreachable!("paths only lead through containers"),
        },
    }
}

fn at<'a>(j: &'a J, path: &[usize]) -> &'a J {
    match path.split_first() {
        None => j,
        Some((&i, rest)) => match j {
            J::Obj(members) => at(&members[i].value, rest),
            J::Arr(items) => at(&items[i], rest),
            _ => unreachable!("paths only lead through containers"),
        },
    }
}

/// Paths of every object (the root included) with at least `min` members.
fn objects(j: &J, min: usize) -> Vec<Vec<usize>> {
    let mut out = Vec::new();
    if matches!(j, J::Obj(m) if m.len() >= min) {
        out.push(Vec::new());
    }
    for n in nodes(j) {
        if matches!(at(j, &n.path), J::Obj(m) if m.len() >= min) {
            out.push(n.path);
        }
    }
    out
}

fn members_mut<'a>(j: &'a mut J, path: &[usize]) -> &'a mut Vec<Member> {
    match at_mut(j, path) {
        J::Obj(m) => m,
        _ => unreachable!("an object path"),
    }
}

/// Inserts `member` where canonical order puts it.
fn insert_sorted(members: &mut Vec<Member>, member: Member) {
    let i = members
        .iter()
        .position(|m| utf16_cmp(&m.key, &member.key).is_gt())
        .unwrap_or(members.len());
    members.insert(i, member);
}

fn root_member_mut<'a>(j: &'a mut J, key: &str) -> Option<&'a mut Member> {
    match j {
        J::Obj(members) => members.iter_mut().find(|m| m.key == key),
        _ => None,
    }
}

/// Removes the node at `path` (below the root); returns the key it had.
fn remove(j: &mut J, path: &[usize]) -> Option<String> {
    let (&i, parent) = path.split_last().expect("not the root");
    match at_mut(j, parent) {
        J::Obj(members) => Some(members.remove(i).key),
        J::Arr(items) => {
            items.remove(i);
            None
        }
        _ => unreachable!("a container"),
    }
}

fn kind(j: &J) -> u8 {
    match j {
        J::Obj(_) => 0,
        J::Arr(_) => 1,
        J::Str(_) => 2,
        J::Num(_) => 3,
        J::Bool(_) => 4,
        J::Raw(_) => 5,
    }
}

// ---------------------------------------------------------------- JSON mutations

/// Fields whose absence always breaks the schema.
const REQUIRED: &[&str] = &[
    "issuer",
    "sequence",
    "issued_at",
    "next_due",
    "expires_at",
    "statements",
    "id",
    "text",
    "version",
    "digest",
    "height",
    "hash",
];

/// Names no object of a statement has.
const UNKNOWN_KEYS: &[&str] = &[
    "x",
    "extra",
    "Issuer",
    "issuer ",
    "sequence2",
    "payload",
    "signatures",
    "keyid",
    "FINAL",
    "note",
    "",
    "é",
    "\u{0}",
    "😀",
    "statements\u{0}",
];

const TIMESTAMP_KEYS: &[&str] = &["issued_at", "next_due", "expires_at"];

/// Numbers the restricted model refuses, as written.
const BAD_NUMBERS: &[&str] = &[
    "-1",
    "-0",
    "1.0",
    "2.5",
    "1e3",
    "1E0",
    "0.0",
    "9007199254740992",
    "18446744073709551615",
    "18446744073709551616",
    "1e400",
    "-9223372036854775808",
    "01",
    "00",
    "+1",
    "0x10",
    "Infinity",
    "NaN",
    "1_000",
    "١",
];

const NON_SLUGS: &[&str] = &[
    "No-Warrants",
    "no_warrants",
    "-no",
    "no-",
    "no--warrants",
    "",
    "no warrants",
    " no",
    "no.warrants",
    "no/warrants",
    "nö",
    "NO",
    "no-warrants\n",
    "\u{0}",
    "a123456789-b123456789-c123456789-d123456789-e123456789-f123456789",
];

const SLUGS: &[&str] = &["x", "0", "a-b-c-1", "no-subpoenas", "2026-q1"];

/// A mutation's name and whether it must be refused by construction.
struct Mutation {
    name: String,
    /// True: the payload breaks a rule whatever else holds.
    must_refuse: bool,
    /// Whitespace to insert after writing (a byte-level mutation).
    whitespace: bool,
}

impl Mutation {
    fn refuse(name: impl Into<String>) -> Option<Self> {
        Some(Mutation {
            name: name.into(),
            must_refuse: true,
            whitespace: false,
        })
    }

    fn maybe(name: impl Into<String>) -> Option<Self> {
        Some(Mutation {
            name: name.into(),
            must_refuse: false,
            whitespace: false,
        })
    }
}

fn random_scalar(rng: &mut Rng) -> J {
    match rng.below(5) {
        0 => J::Str("x".to_owned()),
        1 => J::Num(rng.next() % 100),
        2 => J::Bool(rng.chance(1, 2)),
        3 => J::Arr(Vec::new()),
        _ => J::Obj(Vec::new()),
    }
}

/// A valid timestamp, mostly near NOW so that freshness rules are exercised.
fn random_timestamp(rng: &mut Rng, now: Timestamp) -> String {
    let secs = match rng.below(4) {
        0 => now.unix() + (rng.next() % 400_000) as i64 - 200_000,
        1 => now.unix() + (rng.next() % 40_000_000) as i64 - 20_000_000,
        2 => *rng.pick(&[-62_167_219_200_i64, 253_402_300_799, 0, now.unix()]),
        _ => (rng.next() % 4_102_444_800) as i64,
    };
    Timestamp::from_unix(secs).expect("in range").to_string()
}

/// Forms a timestamp must not take (`s` is a valid one).
fn bad_timestamps(s: &str) -> Vec<String> {
    let (date, time) = (&s[..10], &s[11..19]);
    vec![
        format!("{date} {time}Z"),
        format!("{date}t{time}Z"),
        format!("{date}T{time}z"),
        format!("{date}T{time}+00:00"),
        format!("{date}T{time}+01:00"),
        format!("{date}T{time}.000Z"),
        format!("{date}T{time}.5Z"),
        format!("{date}T{}Z", &time[..5]),
        format!("{date}T{time}"),
        format!("+{s}"),
        format!("0{s}"),
        format!(" {s}"),
        format!("{s} "),
        date.to_owned(),
        format!("{date}T{}:60Z", &time[..5]),
        format!("{date}T24:00:00Z"),
        format!("{}-13-01T{time}Z", &s[..4]),
        format!("{}-02-30T{time}Z", &s[..4]),
        format!("{}-00-10T{time}Z", &s[..4]),
        "1767225600".to_owned(),
        s.to_lowercase(),
        s.replace('-', "/"),
        s.replace('2', "２"),
        format!("{s}\u{0}"),
        String::new(),
    ]
}

/// The literal of `s` with the character at `index` written another way
/// than the canonical form.
fn odd_escape(s: &str, index: usize) -> Vec<u8> {
    let mut out = vec![b'"'];
    for (i, c) in s.chars().enumerate() {
        if i != index {
            write_char(c, &mut out);
            continue;
        }
        let code = c as u32;
        match c {
            '\u{8}' | '\t' | '\n' | '\u{c}' | '\r' | '"' | '\\' => {
                out.extend_from_slice(format!("\\u{code:04x}").as_bytes());
            }
            _ if code < 0x20 && format!("{code:04x}") != format!("{code:04X}") => {
                out.extend_from_slice(format!("\\u{code:04X}").as_bytes());
            }
            // A control character written raw: not even JSON.
            c if code < 0x20 => out.push(c as u8),
            '/' => out.extend_from_slice(b"\\/"),
            c if code > 0xffff => {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    out.extend_from_slice(format!("\\u{u:04x}").as_bytes());
                }
            }
            _ => out.extend_from_slice(format!("\\u{code:04x}").as_bytes()),
        }
    }
    out.push(b'"');
    out
}

/// Positions in canonical JSON text between two tokens.
fn token_gaps(bytes: &[u8]) -> Vec<usize> {
    let mut gaps = vec![0, bytes.len()];
    let (mut in_string, mut escaped) = (false, false);
    for (i, &b) in bytes.iter().enumerate() {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' | b',' | b':' => gaps.push(i + 1),
            b'}' | b']' => gaps.push(i),
            _ => {}
        }
        if matches!(b, b',' | b':') {
            gaps.push(i);
        }
    }
    gaps
}

/// Applies one JSON-level mutation to `doc` (a statement of sequence
/// `sequence` before mutation); `None` when the chosen kind does not apply.
fn mutate_json(rng: &mut Rng, doc: &mut J, sequence: u64, now: Timestamp) -> Option<Mutation> {
    let all = nodes(doc);
    match rng.below(22) {
        // Drop a field.
        0 | 1 => {
            let fields: Vec<&Node> = all.iter().filter(|n| n.key.is_some()).collect();
            let n = rng.pick_some(&fields)?;
            let key = remove(doc, &n.path).expect("a member");
            let required = REQUIRED.contains(&key.as_str()) || (key == "previous" && sequence > 1);
            if required {
                Mutation::refuse(format!("drop required {key:?}"))
            } else {
                Mutation::maybe(format!("drop optional {key:?}"))
            }
        }
        // Drop an array item.
        2 => {
            let items: Vec<&Node> = all.iter().filter(|n| n.key.is_none()).collect();
            if items.is_empty() {
                return None;
            }
            let n = rng.pick_some(&items)?;
            remove(doc, &n.path);
            Mutation::maybe(format!("drop item {:?}", n.path))
        }
        // Add an unknown field, where canonical order puts it.
        3 => {
            let objs = objects(doc, 0);
            let path = rng.pick_some(&objs)?.clone();
            let key = *rng.pick(UNKNOWN_KEYS);
            let value = random_scalar(rng);
            insert_sorted(members_mut(doc, &path), Member::new(key, value));
            Mutation::refuse(format!("unknown field {key:?} at {path:?}"))
        }
        // Add a known optional field the document lacks.
        4 => {
            let J::Obj(members) = doc else { return None };
            let choice = rng.below(4);
            let (key, value) = match choice {
                0 => ("notes", J::Str("A note.".to_owned())),
                1 => ("final", J::Bool(false)),
                2 => ("final", J::Bool(true)),
                _ => (
                    "freshness",
                    J::Obj(vec![Member::new(
                        "headlines",
                        J::Arr(vec![J::Str("News".to_owned())]),
                    )]),
                ),
            };
            if members.iter().any(|m| m.key == key) {
                return None;
            }
            insert_sorted(members, Member::new(key, value));
            if choice == 2 {
                Mutation::refuse("final: true (tripped)")
            } else {
                Mutation::maybe(format!("add optional {key:?}"))
            }
        }
        // Duplicate a key.
        5 => {
            let objs = objects(doc, 1);
            let path = rng.pick_some(&objs)?.clone();
            let members = members_mut(doc, &path);
            let i = rng.below(members.len());
            let copy = members[i].clone();
            let to = if rng.chance(1, 2) {
                i + 1
            } else {
                rng.below(members.len() + 1)
            };
            let key = copy.key.clone();
            members.insert(to, copy);
            Mutation::refuse(format!("duplicate key {key:?}"))
        }
        // Duplicate an array item.
        6 => {
            let arrays: Vec<&Node> = all
                .iter()
                .filter(|n| matches!(at(doc, &n.path), J::Arr(a) if !a.is_empty()))
                .collect();
            if arrays.is_empty() {
                return None;
            }
            let n = rng.pick_some(&arrays)?;
            let key = n.key.clone().unwrap_or_default();
            let J::Arr(items) = at_mut(doc, &n.path) else {
                return None;
            };
            let i = rng.below(items.len());
            let copy = items[i].clone();
            items.insert(i + 1, copy);
            if key == "statements" || key == "incidents" {
                Mutation::refuse(format!("duplicate an item of {key}"))
            } else {
                Mutation::maybe(format!("duplicate an item of {key}"))
            }
        }
        // Change a value's type.
        7 | 8 => {
            let n = rng.pick_some(&all)?;
            let target = at_mut(doc, &n.path);
            let choices = [
                J::Str("1".to_owned()),
                J::Str(String::new()),
                J::Num(1),
                J::Num(0),
                J::Bool(true),
                J::Bool(false),
                J::Arr(Vec::new()),
                J::Arr(vec![J::Str("x".to_owned())]),
                J::Obj(Vec::new()),
            ];
            let others: Vec<&J> = choices.iter().filter(|c| kind(c) != kind(target)).collect();
            *target = (*rng.pick(&others)).clone();
            Mutation::refuse(format!("change the type of {:?}", n.key))
        }
        // Numbers the model refuses.
        9 => {
            let nums: Vec<&Node> = all
                .iter()
                .filter(|n| matches!(at(doc, &n.path), J::Num(_)))
                .collect();
            let n = rng.pick_some(&nums)?;
            let literal = *rng.pick(BAD_NUMBERS);
            *at_mut(doc, &n.path) = J::Raw(literal.as_bytes().to_vec());
            Mutation::refuse(format!("{:?} = {literal}", n.key))
        }
        // Numbers at the edges of the model.
        10 => {
            let nums: Vec<&Node> = all
                .iter()
                .filter(|n| matches!(at(doc, &n.path), J::Num(_)))
                .collect();
            let n = rng.pick_some(&nums)?;
            let value = *rng.pick(&[0, 1, 2, 3, 1000, MAX_SAFE_INTEGER - 1, MAX_SAFE_INTEGER]);
            *at_mut(doc, &n.path) = J::Num(value);
            let key = n.key.clone().unwrap_or_default();
            if value == 0 && (key == "sequence" || key == "version") {
                Mutation::refuse(format!("{key} = 0"))
            } else {
                Mutation::maybe(format!("{key} = {value}"))
            }
        }
        // null.
        11 => {
            if rng.chance(1, 2) {
                let n = rng.pick_some(&all)?;
                *at_mut(doc, &n.path) = J::Raw(b"null".to_vec());
                Mutation::refuse(format!("{:?} = null", n.key))
            } else {
                let objs = objects(doc, 0);
                let path = rng.pick_some(&objs)?.clone();
                let key = *rng.pick(&["notes", "previous", "final", "incidents", "header"]);
                let members = members_mut(doc, &path);
                if members.iter().any(|m| m.key == key) {
                    return None;
                }
                insert_sorted(members, Member::new(key, J::Raw(b"null".to_vec())));
                Mutation::refuse(format!("add {key}: null"))
            }
        }
        // Reorder keys.
        12 => {
            let objs = objects(doc, 2);
            let path = rng.pick_some(&objs)?.clone();
            let members = members_mut(doc, &path);
            let i = rng.below(members.len());
            let mut j = rng.below(members.len() - 1);
            if j >= i {
                j += 1;
            }
            members.swap(i, j);
            Mutation::refuse(format!("swap keys in {path:?}"))
        }
        // Whitespace between tokens.
        13 => Some(Mutation {
            name: "whitespace".to_owned(),
            must_refuse: true,
            whitespace: true,
        }),
        // Timestamps in other forms, or other valid times.
        14 | 15 => {
            let stamps: Vec<&Node> = all
                .iter()
                .filter(|n| {
                    n.key
                        .as_deref()
                        .is_some_and(|k| TIMESTAMP_KEYS.contains(&k))
                        && matches!(at(doc, &n.path), J::Str(_))
                })
                .collect();
            let n = rng.pick_some(&stamps)?;
            let J::Str(s) = at_mut(doc, &n.path) else {
                return None;
            };
            if s.len() != 20 || !s.is_ascii() {
                return None;
            }
            if rng.chance(1, 3) {
                *s = random_timestamp(rng, now);
                Mutation::maybe(format!("{:?} = {s}", n.key))
            } else {
                let bad = bad_timestamps(s);
                *s = rng.pick(&bad).clone();
                Mutation::refuse(format!("{:?} = {s:?}", n.key))
            }
        }
        // Ids that are not slugs, or other slugs.
        16 => {
            let ids: Vec<&Node> = all
                .iter()
                .filter(|n| n.key.as_deref() == Some("id"))
                .collect();
            if ids.is_empty() {
                return None;
            }
            let n = rng.pick_some(&ids)?;
            if rng.chance(1, 3) {
                let slug = *rng.pick(SLUGS);
                *at_mut(doc, &n.path) = J::Str(slug.to_owned());
                Mutation::maybe(format!("id = {slug}"))
            } else {
                let bad = *rng.pick(NON_SLUGS);
                *at_mut(doc, &n.path) = J::Str(bad.to_owned());
                Mutation::refuse(format!("id = {bad:?}"))
            }
        }
        // Sequence and previous.
        17 => {
            let digest = Digest::of(&rng.next().to_le_bytes()).to_string();
            match (sequence, rng.below(3)) {
                (1, _) => {
                    let J::Obj(members) = doc else { return None };
                    insert_sorted(members, Member::new("previous", J::Str(digest)));
                    Mutation::refuse("previous on sequence 1")
                }
                (_, 0) => {
                    root_member_mut(doc, "sequence")?.value = J::Num(1);
                    Mutation::refuse("sequence 1 with previous")
                }
                (_, 1) => {
                    let bad = [
                        digest.to_uppercase(),
                        digest.replace("sha256:", "sha512:"),
                        digest.replace("sha256:", "SHA256:"),
                        digest.replace("sha256:", ""),
                        digest[..digest.len() - 1].to_owned(),
                        format!("{digest}0"),
                        digest.replace(['a', '0'], "g"),
                        format!("sha256:{}", &digest[7..].to_uppercase()),
                    ];
                    let choice = rng.pick(&bad).clone();
                    if choice == digest {
                        return None;
                    }
                    root_member_mut(doc, "previous")?.value = J::Str(choice.clone());
                    Mutation::refuse(format!("previous = {choice:?}"))
                }
                _ => {
                    root_member_mut(doc, "previous")?.value = J::Str(digest);
                    Mutation::maybe("another previous digest")
                }
            }
        }
        // A character of a string or key written with another escape.
        18 | 19 => {
            let strings: Vec<&Node> = all
                .iter()
                .filter(|n| matches!(at(doc, &n.path), J::Str(s) if !s.is_empty()))
                .collect();
            let in_key = rng.chance(1, 4);
            let fields: Vec<&Node> = all.iter().filter(|n| n.key.is_some()).collect();
            if in_key {
                let n = rng.pick_some(&fields)?;
                let (&i, parent) = n.path.split_last().expect("below the root");
                let members = members_mut(doc, parent);
                let key = members[i].key.clone();
                let index = rng.below(key.chars().count());
                members[i].raw_key = Some(odd_escape(&key, index));
                return Mutation::refuse(format!("escape in key {key:?}"));
            }
            let n = rng.pick_some(&strings)?;
            let J::Str(s) = at(doc, &n.path) else {
                return None;
            };
            let index = rng.below(s.chars().count());
            let literal = odd_escape(s, index);
            *at_mut(doc, &n.path) = J::Raw(literal);
            Mutation::refuse(format!("escape in {:?}", n.key))
        }
        // Odd characters inserted into a string.
        20 => {
            let strings: Vec<&Node> = all
                .iter()
                .filter(|n| matches!(at(doc, &n.path), J::Str(_)))
                .collect();
            let n = rng.pick_some(&strings)?;
            let J::Str(s) = at(doc, &n.path) else {
                return None;
            };
            let chars: Vec<char> = s.chars().collect();
            let cut = rng.below(chars.len() + 1);
            let (head, tail): (String, String) =
                (chars[..cut].iter().collect(), chars[cut..].iter().collect());
            let mut literal = b"\"".to_vec();
            for c in head.chars() {
                write_char(c, &mut literal);
            }
            let (insert, refuse): (&[u8], bool) = *rng.pick(&[
                (&b"\\ud800"[..], true),
                (&b"\\udc00\\ud800"[..], true),
                (&b"\x01"[..], true),
                (&b"\x1f"[..], true),
                (&b"\xff"[..], true),
                (&b"\xc3\x28"[..], true),
                (&b"\xc0\xaf"[..], true),
                (&b"\xed\xa0\x80"[..], true),
                (&b"\\x41"[..], true),
                (&b"\\u00"[..], true),
                ("é".as_bytes(), false),
                ("😀".as_bytes(), false),
                ("\u{2028}".as_bytes(), false),
                ("\u{feff}".as_bytes(), false),
                ("\u{ffff}".as_bytes(), false),
                (&b"\x7f"[..], false),
                (&b"\\u001f"[..], false),
                (&b"\\n"[..], false),
                (&b"\\\""[..], false),
            ]);
            literal.extend_from_slice(insert);
            for c in tail.chars() {
                write_char(c, &mut literal);
            }
            literal.push(b'"');
            *at_mut(doc, &n.path) = J::Raw(literal);
            let name = format!(
                "insert {:?} into {:?}",
                String::from_utf8_lossy(insert),
                n.key
            );
            if refuse {
                Mutation::refuse(name)
            } else {
                Mutation::maybe(name)
            }
        }
        // Issuer, texts, sizes and depths.
        _ => match rng.below(5) {
            0 => {
                let other = *rng.pick(&[
                    "example.com",
                    "Example.org",
                    "example.org.",
                    "example.org ",
                    "",
                    "example.org\u{0}",
                    "éxample.org",
                ]);
                root_member_mut(doc, "issuer")?.value = J::Str(other.to_owned());
                Mutation::refuse(format!("issuer = {other:?}"))
            }
            1 => {
                let texts: Vec<&Node> = all
                    .iter()
                    .filter(|n| n.key.as_deref() == Some("text"))
                    .collect();
                let n = rng.pick_some(&texts)?;
                let blank = *rng.pick(&["", " ", "\n\t", "\u{3000}"]);
                *at_mut(doc, &n.path) = J::Str(blank.to_owned());
                Mutation::refuse(format!("text = {blank:?}"))
            }
            2 => {
                let big: String = (0..50_000)
                    .map(|i| if i % 7 == 0 { 'é' } else { 'a' })
                    .collect();
                let J::Obj(members) = doc else { return None };
                members.retain(|m| m.key != "notes");
                insert_sorted(members, Member::new("notes", J::Str(big)));
                Mutation::maybe("notes of 50,000 characters")
            }
            3 => {
                let depth = *rng.pick(&[33, 1000, 100_000]);
                let nested = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
                let J::Obj(members) = doc else { return None };
                members.retain(|m| m.key != "notes");
                insert_sorted(members, Member::new("notes", J::Raw(nested.into_bytes())));
                Mutation::refuse(format!("notes nested {depth} deep"))
            }
            _ => {
                let many: Vec<J> = (0..1000)
                    .map(|i| {
                        J::Obj(vec![
                            Member::new("id", J::Str(format!("p{i}"))),
                            Member::new("text", J::Str("Promise.".to_owned())),
                        ])
                    })
                    .collect();
                root_member_mut(doc, "statements")?.value = J::Arr(many);
                Mutation::maybe("1000 promises")
            }
        },
    }
}

/// Writes `doc` and inserts whitespace at `count` token gaps.
fn write_with_whitespace(rng: &mut Rng, doc: &J, count: usize) -> Vec<u8> {
    let mut bytes = to_bytes(doc);
    for _ in 0..count {
        let gaps = token_gaps(&bytes);
        let at = *rng.pick(&gaps);
        let ws = *rng.pick(&[&b" "[..], b"\n", b"\t", b"\r", b"  ", b"\r\n"]);
        bytes.splice(at..at, ws.iter().copied());
    }
    bytes
}

fn base_doc(fx: &Fixture, base: usize) -> J {
    let value: Value = serde_json::from_slice(&fx.payloads[base]).expect("base payload is JSON");
    from_value(&value)
}

#[test]
fn the_hand_written_json_is_canonical() {
    let fx = fixture();
    for (i, payload) in fx.payloads.iter().enumerate() {
        assert_eq!(
            &to_bytes(&base_doc(fx, i)),
            payload,
            "base {i}: the test's JSON writer must match canary-core's canonical form"
        );
    }
}

#[test]
fn single_json_mutations_are_refused_unless_valid() {
    let fx = fixture();
    let mut rng = Rng::new(3);
    let mut tally = Tally::default();
    let mut case = 0;
    while case < 2000 {
        let base = rng.below(fx.payloads.len());
        let mut doc = base_doc(fx, base);
        let Some(m) = mutate_json(&mut rng, &mut doc, fx.sequences[base], fx.now) else {
            continue;
        };
        let payload = if m.whitespace {
            write_with_whitespace(&mut rng, &doc, 1)
        } else {
            to_bytes(&doc)
        };
        let label = format!("json #{case} (base {base}: {})", m.name);
        let expect = payload_acceptable(fx, &payload);
        if m.must_refuse && expect {
            tally.fail(
                &label,
                "parse_payload and the rules accept a payload that breaks a rule by construction"
                    .to_owned(),
                &payload,
            );
        }
        let bytes = hand_envelope(fx, &payload, false);
        run_case(
            fx,
            &mut tally,
            &label,
            &bytes,
            expect,
            Some(&payload),
            false,
        );
        case += 1;
    }
    tally.finish("JSON mutations, one at a time", 100, 1000);
}

#[test]
fn combined_json_mutations_are_refused_unless_valid() {
    let fx = fixture();
    let mut rng = Rng::new(4);
    let mut tally = Tally::default();
    let mut case = 0;
    while case < 700 {
        let base = rng.below(fx.payloads.len());
        let mut doc = base_doc(fx, base);
        let mut names = Vec::new();
        let mut whitespace = 0;
        for _ in 0..2 + rng.below(3) {
            if let Some(m) = mutate_json(&mut rng, &mut doc, fx.sequences[base], fx.now) {
                whitespace += usize::from(m.whitespace);
                names.push(m.name);
            }
        }
        if names.is_empty() {
            continue;
        }
        let payload = write_with_whitespace(&mut rng, &doc, whitespace);
        // Now and then the panic key signs too: never ok then.
        let panic = rng.chance(1, 8);
        let label = format!(
            "combined #{case} (base {base}{}: {})",
            if panic { ", panic key" } else { "" },
            names.join("; ")
        );
        let expect = !panic && payload_acceptable(fx, &payload);
        let bytes = hand_envelope(fx, &payload, panic);
        let report = run_case(
            fx,
            &mut tally,
            &label,
            &bytes,
            expect,
            Some(&payload),
            panic,
        );
        if panic
            && let Some(r) = report
            && r.verdict(false) != Verdict::Tripped
        {
            tally.fail(
                &label,
                format!("signed by the panic key, verdict {}", r.verdict(false)),
                &payload,
            );
        }
        case += 1;
    }
    tally.finish("JSON mutations, combined", 10, 400);
}
