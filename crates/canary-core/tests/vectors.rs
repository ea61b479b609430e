//! Document test vectors: walks `testdata/vectors/*.vec` (format in the
//! README there), verifies each envelope at its pinned time under its named
//! policy, and checks the verdict and the decisive finding. A second test
//! checks that the files are exactly what the generator builds.

#[path = "vectors/generate.rs"]
mod generate;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use canary_core::{
    Envelope, Payload, Report, SigningKey, Statement, StatementItem, TrustPolicy, Verdict,
    VerifyOptions, Zeroizing, parse_duration, to_payload, verify_statement,
};

/// Fewer files than this means the walk found the wrong directory or lost
/// vectors: the suite must not pass vacuously.
const MIN_VECTORS: usize = 40;

const ISSUER: &str = "example.org";
const REGENERATE: &str =
    "cargo run -p canary-core --example gen_vectors -- crates/canary-core/testdata/vectors";

fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/vectors")
}

fn fixture_key(name: &str) -> SigningKey {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("testdata/keys/{name}.seed"));
    let hex = fs::read_to_string(&path).expect("fixture seed file");
    let hex = hex.trim();
    assert_eq!(hex.len(), 64, "{}: 64 hex digits", path.display());
    let mut seed = [0u8; 32];
    for (i, byte) in seed.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).expect("hex seed");
    }
    SigningKey::from_seed(&Zeroizing::new(seed)).expect("fixture key")
}

/// `alice`, `alice+bob/2`, `alice+bob+carol/2`: trusted keys joined by `+`,
/// then `/threshold` (default 1). Issuer `example.org`, panic key `panic`.
fn policy(name: &str) -> Result<TrustPolicy, String> {
    let (keys, threshold) = match name.split_once('/') {
        Some((keys, t)) => (keys, t.parse().map_err(|_| format!("threshold {t:?}"))?),
        None => (name, 1),
    };
    let mut trusted = Vec::new();
    for key in keys.split('+') {
        if !["alice", "bob", "carol"].contains(&key) {
            return Err(format!("{key:?} is not a trusted fixture key"));
        }
        trusted.push(*fixture_key(key).public_key());
    }
    let panic = *fixture_key("panic").public_key();
    TrustPolicy::new(ISSUER, 1, threshold, trusted, [panic]).map_err(|e| e.to_string())
}

/// One parsed `.vec` file.
struct Case {
    expect: String,
    at: String,
    policy: String,
    max_age: Option<String>,
    findings: Option<Vec<String>>,
    reason: Option<String>,
    body: Vec<u8>,
}

fn parse_case(bytes: &[u8]) -> Result<Case, String> {
    let split = bytes
        .windows(2)
        .position(|w| w == b"\n\n")
        .ok_or("no blank line after the header")?;
    let header = std::str::from_utf8(&bytes[..split]).map_err(|_| "header is not UTF-8")?;
    let mut fields: BTreeMap<&str, &str> = BTreeMap::new();
    for line in header.lines() {
        let (key, value) = line
            .split_once(": ")
            .ok_or_else(|| format!("header line {line:?} is not `key: value`"))?;
        if ![
            "expect", "at", "policy", "max-age", "findings", "reason", "comment",
        ]
        .contains(&key)
        {
            return Err(format!("unknown header key {key:?}"));
        }
        if key != "comment" && fields.insert(key, value).is_some() {
            return Err(format!("header key {key:?} given twice"));
        }
    }
    let required = |key: &str| {
        fields
            .get(key)
            .map(|v| (*v).to_owned())
            .ok_or_else(|| format!("missing header {key:?}"))
    };
    Ok(Case {
        expect: required("expect")?,
        at: required("at")?,
        policy: required("policy")?,
        max_age: fields.get("max-age").map(|v| (*v).to_owned()),
        findings: fields.get("findings").map(|v| match *v {
            "none" => Vec::new(),
            list => list.split(", ").map(str::to_owned).collect(),
        }),
        reason: fields.get("reason").map(|v| (*v).to_owned()),
        body: bytes[split + 2..].to_vec(),
    })
}

fn verdict_word(word: &str) -> Result<Verdict, String> {
    Ok(match word {
        "invalid" => Verdict::Invalid,
        "stale" => Verdict::Stale,
        "tripped" => Verdict::Tripped,
        other => return Err(format!("unknown verdict {other:?}")),
    })
}

fn codes(report: &Report) -> Vec<&'static str> {
    report.findings.iter().map(|f| f.code()).collect()
}

/// Runs one vector; `Err` says what did not match.
fn check(case: &Case) -> Result<(), String> {
    let policy = policy(&case.policy)?;
    let mut options = VerifyOptions::at(case.at.parse().map_err(|e| format!("at: {e}"))?);
    if let Some(age) = &case.max_age {
        options.max_age = Some(parse_duration(age).map_err(|e| format!("max-age: {e}"))?);
    }
    let report = verify_statement(&case.body, &policy, &options);
    let found = codes(&report);
    let verdict = report.verdict(false);

    if let Some(expected) = &case.findings
        && found != *expected
    {
        return Err(format!("findings {found:?}, expected {expected:?}"));
    }
    let decisive = match case.expect.split_once(':') {
        None if case.expect == "ok" => {
            if verdict != Verdict::Ok || report.verdict(true) != Verdict::Ok {
                return Err(format!(
                    "verdict {verdict}, expected ok; findings {found:?}"
                ));
            }
            None
        }
        None => return Err(format!("bad expect {:?}", case.expect)),
        Some(("warning", code)) => {
            if verdict != Verdict::Ok || report.verdict(true) != Verdict::Warning {
                return Err(format!(
                    "verdict {verdict} (deny-warnings {}), expected ok with warning {code}; findings {found:?}",
                    report.verdict(true)
                ));
            }
            let warning = report.findings.iter().find(|f| f.code() == code);
            if warning.is_none() {
                return Err(format!("no {code} finding; findings {found:?}"));
            }
            warning
        }
        Some((word, code)) => {
            let want = verdict_word(word)?;
            if verdict != want {
                return Err(format!(
                    "verdict {verdict}, expected {want}; findings {found:?}"
                ));
            }
            let decisive = report.findings.iter().find(|f| f.verdict() == want);
            if decisive.map(|f| f.code()) != Some(code) {
                return Err(format!(
                    "decisive finding {:?}, expected {code}; findings {found:?}",
                    decisive.map(|f| f.code())
                ));
            }
            decisive
        }
    };
    if let Some(reason) = &case.reason {
        let message = decisive.map(ToString::to_string).unwrap_or_default();
        if !message.contains(reason.as_str()) {
            return Err(format!(
                "decisive finding says {message:?}, expected it to contain {reason:?}"
            ));
        }
    }
    // Nothing unverified is shown as verified: an ok, warning or stale
    // verdict needs the authentic statement, and invalid envelopes and
    // payloads yield none.
    let authentic = report.statement.is_some();
    if matches!(verdict, Verdict::Ok | Verdict::Warning | Verdict::Stale) && !authentic {
        return Err(format!("verdict {verdict} without a verified statement"));
    }
    Ok(())
}

/// The `.vec` files on disk, by file name.
fn vector_files() -> BTreeMap<String, Vec<u8>> {
    let dir = vectors_dir();
    let mut files = BTreeMap::new();
    for entry in fs::read_dir(&dir).expect("testdata/vectors exists") {
        let path = entry.expect("directory entry").path();
        if path.extension().is_some_and(|e| e == "vec") {
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .expect("UTF-8 file name")
                .to_owned();
            files.insert(name, fs::read(&path).expect("readable vector"));
        }
    }
    files
}

#[test]
fn every_vector_verifies_as_expected() {
    let files = vector_files();
    assert!(
        files.len() >= MIN_VECTORS,
        "walked only {} vectors in {}; expected at least {MIN_VECTORS}",
        files.len(),
        vectors_dir().display()
    );
    let failures: Vec<String> = files
        .iter()
        .filter_map(|(name, bytes)| {
            parse_case(bytes)
                .and_then(|case| check(&case))
                .err()
                .map(|e| format!("{name}: {e}"))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} vectors failed:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
}

#[test]
fn files_match_the_generator() {
    let on_disk = vector_files();
    let generated: BTreeMap<String, Vec<u8>> = generate::all().into_iter().collect();
    let mut problems = Vec::new();
    for (name, bytes) in &generated {
        match on_disk.get(name) {
            None => problems.push(format!("{name}: generated but not checked in")),
            Some(disk) if disk != bytes => {
                problems.push(format!("{name}: differs from the generator"))
            }
            Some(_) => {}
        }
    }
    for name in on_disk.keys().filter(|n| !generated.contains_key(*n)) {
        problems.push(format!("{name}: checked in but not generated"));
    }
    assert!(
        problems.is_empty(),
        "testdata/vectors and the generator (tests/vectors/generate.rs) disagree:\n{}\n\
         hint: regenerate from the workspace root with `{REGENERATE}`",
        problems.join("\n")
    );
}

/// The library's own signer writes byte for byte what the hand-built
/// `ok_single_key` vector holds: the vectors describe real signer output.
#[test]
fn library_signer_matches_ok_single_key() {
    let text = |id: &str, text: &str| StatementItem {
        id: id.into(),
        text: text.into(),
    };
    let statement = Statement {
        issuer: ISSUER.into(),
        sequence: 1,
        issued_at: "2026-10-01T00:00:00Z".parse().expect("timestamp"),
        next_due: "2026-12-30T00:00:00Z".parse().expect("timestamp"),
        expires_at: "2027-01-13T00:00:00Z".parse().expect("timestamp"),
        statements: vec![
            text("no-warrants", "We have never received a warrant."),
            text(
                "no-gag-orders",
                "We have never been placed under a gag order.",
            ),
        ],
        previous: None,
        incidents: None,
        freshness: None,
        notes: None,
        is_final: None,
    };
    let payload = to_payload(&statement).expect("valid statement");
    let envelope = Envelope::sign(Statement::PAYLOAD_TYPE, payload, &fixture_key("alice"));
    let file = vector_files()
        .remove("ok_single_key.vec")
        .expect("ok_single_key.vec is checked in");
    let case = parse_case(&file).expect("well-formed vector");
    assert_eq!(
        String::from_utf8_lossy(&envelope.to_json()),
        String::from_utf8_lossy(&case.body)
    );
}

#[test]
fn case_parser_rejects_malformed_headers() {
    for bad in [
        &b"expect: ok\nat: 2026-10-02T00:00:00Z\n"[..],
        b"expect: ok\npolicy: alice\n\n{}",
        b"expect: ok\nexpect: ok\nat: x\npolicy: alice\n\n{}",
        b"expect: ok\nat: x\npolicy: alice\nwhen: now\n\n{}",
        b"expect ok\nat: x\npolicy: alice\n\n{}",
    ] {
        assert!(parse_case(bad).is_err(), "{}", String::from_utf8_lossy(bad));
    }
    let case = parse_case(b"expect: ok\nat: x\npolicy: alice\ncomment: a\ncomment: b\n\n\n{}\n")
        .expect("valid header");
    assert_eq!(case.body, b"\n{}\n", "the body is kept byte for byte");
    assert!(policy("mallory").is_err());
    assert!(policy("alice+panic").is_err());
    assert!(policy("alice/2").is_err());
}
