//! The demo issuer shipped in `keys/` and `canaries/`: its files are exactly
//! what the deterministic builder below produces, and its history verifies.
//!
//! To rebuild the files after a deliberate change:
//! `CANARY_REGENERATE=1 cargo test --test demo`.

use std::path::{Path, PathBuf};

use canary_core::{
    Envelope, Payload, SigningKey, Statement, StatementItem, Timestamp, TrustPolicy, Verdict,
    VerifyOptions, Zeroizing, to_payload, verify_history, verify_statement,
};

const ISSUER: &str = "example.org";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn ts(s: &str) -> Timestamp {
    s.parse().expect("fixed timestamp")
}

/// The demo key: a public test fixture, never a real secret.
fn demo_key() -> SigningKey {
    let hex =
        std::fs::read_to_string(root().join("tests/fixtures/keys/demo.seed")).expect("demo seed");
    let hex = hex.trim();
    let mut seed = Zeroizing::new([0u8; 32]);
    for (i, byte) in seed.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).expect("hex seed");
    }
    SigningKey::from_seed(&seed).expect("demo key")
}

fn items() -> Vec<StatementItem> {
    [
        (
            "no-warrants",
            "example.org has never received a search warrant.",
        ),
        (
            "no-gag-orders",
            "example.org has never been placed under a gag order.",
        ),
        (
            "no-national-security-letters",
            "example.org has never received a National Security Letter.",
        ),
        (
            "no-key-disclosure",
            "example.org has never been compelled to disclose encryption keys.",
        ),
        (
            "no-backdoors",
            "example.org has never placed a backdoor in its software or infrastructure.",
        ),
    ]
    .into_iter()
    .map(|(id, text)| StatementItem {
        id: id.to_owned(),
        text: text.to_owned(),
    })
    .collect()
}

/// The demo chain: two quarterly statements.
fn build() -> Vec<(String, Vec<u8>)> {
    let key = demo_key();
    let dates = [
        (
            "2026-07-01T00:00:00Z",
            "2026-09-29T00:00:00Z",
            "2026-10-13T00:00:00Z",
        ),
        (
            "2026-10-01T00:00:00Z",
            "2026-12-30T00:00:00Z",
            "2027-01-13T00:00:00Z",
        ),
    ];
    let mut out = Vec::new();
    let mut previous = None;
    for (i, (issued, due, expires)) in dates.into_iter().enumerate() {
        let statement = Statement {
            issuer: ISSUER.to_owned(),
            sequence: i as u64 + 1,
            issued_at: ts(issued),
            next_due: ts(due),
            expires_at: ts(expires),
            statements: items(),
            previous,
            incidents: None,
            freshness: None,
            notes: None,
            is_final: None,
        };
        let payload = to_payload(&statement).expect("valid demo statement");
        previous = Some(canary_core::Digest::of(&payload));
        let envelope = Envelope::sign(Statement::PAYLOAD_TYPE, payload, &key);
        let mut json = envelope.to_json();
        json.push(b'\n');
        out.push((
            format!("canaries/{ISSUER}/statements/{:06}.json", i + 1),
            json,
        ));
    }
    let policy = TrustPolicy::new(ISSUER, 1, 1, [*key.public_key()], [])
        .expect("demo policy")
        .with_url(format!("https://{ISSUER}/.well-known/canary.json"));
    out.push((
        format!("keys/{ISSUER}.toml"),
        format!(
            "# Trust policy of the demo issuer (a public test key: never trust it).\n{}",
            policy.to_toml()
        )
        .into_bytes(),
    ));
    out.push((
        format!("keys/{ISSUER}.pub"),
        format!(
            "{} demo key of {ISSUER} (public test fixture)\n",
            key.public_key()
        )
        .into_bytes(),
    ));
    out
}

fn write_atomically(path: &Path, bytes: &[u8]) {
    let tmp = path.with_extension("tmp");
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(&tmp, bytes).expect("write");
    std::fs::rename(&tmp, path).expect("rename");
}

#[test]
fn demo_files_match_their_builder() {
    let regenerate = std::env::var_os("CANARY_REGENERATE").is_some();
    for (rel, bytes) in build() {
        let path = root().join(&rel);
        if regenerate {
            write_atomically(&path, &bytes);
        }
        let on_disk = std::fs::read(&path).unwrap_or_default();
        assert!(
            on_disk == bytes,
            "{rel} differs from what tests/demo.rs builds; if the change is deliberate, run \
             CANARY_REGENERATE=1 cargo test --test demo"
        );
    }
}

#[test]
fn demo_history_verifies() {
    let policy = TrustPolicy::from_toml(
        &std::fs::read_to_string(root().join("keys/example.org.toml")).expect("policy"),
    )
    .expect("valid policy");
    let options = VerifyOptions::at(ts("2026-11-27T00:00:00Z"));
    let mut chain = Vec::new();
    for seq in 1..=2 {
        let bytes =
            std::fs::read(root().join(format!("canaries/example.org/statements/{seq:06}.json")))
                .expect("statement");
        let report = verify_statement(&bytes, &policy, &options);
        let expected = if seq == 2 {
            Verdict::Ok
        } else {
            Verdict::Stale
        };
        assert_eq!(
            report.verdict(false),
            expected,
            "sequence {seq}: {:?}",
            report.findings
        );
        chain.push(report.statement.expect("authentic"));
    }
    assert_eq!(verify_history(None, &chain), vec![]);
}
