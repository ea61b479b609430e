//! Interop: what `canary-sign` writes verifies with a second implementation
//! written from DESIGN §3.1–§3.2 alone, using only ed25519-dalek, sha2, base64
//! and serde_json (no canary-core): the PAE, the key id, the envelope's field
//! order and the canonical payload must all match the spec byte for byte.

use std::path::Path;
use std::process::Command;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest as _, Sha256};

fn signer(dir: &Path, args: &[&str]) {
    let out = Command::new(env!("CARGO_BIN_EXE_canary-sign"))
        .current_dir(dir)
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("canary-sign runs");
    assert!(
        out.status.success(),
        "canary-sign {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The spec's PAE, written out independently.
fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEv1 {} {} {} ",
        payload_type.len(),
        payload_type,
        payload.len()
    )
    .into_bytes();
    out.extend_from_slice(payload);
    out
}

/// Reads `ed25519:<base64> comment` into a verifying key.
fn public_key(pub_file: &Path) -> ed25519_dalek::VerifyingKey {
    let text = std::fs::read_to_string(pub_file).expect("pub file");
    let b64 = text
        .split_whitespace()
        .next()
        .and_then(|k| k.strip_prefix("ed25519:"))
        .expect("ed25519: prefix");
    let raw: [u8; 32] = STANDARD
        .decode(b64)
        .expect("base64")
        .try_into()
        .expect("32 bytes");
    ed25519_dalek::VerifyingKey::from_bytes(&raw).expect("valid key")
}

#[test]
fn signed_statement_verifies_with_an_independent_implementation() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    signer(dir, &["keygen", "--name", "alice", "--unencrypted"]);
    signer(dir, &["keygen", "--name", "bob", "--unencrypted"]);
    signer(
        dir,
        &[
            "init",
            "--issuer",
            "example.org",
            "--dir",
            "org",
            "--key",
            "alice.pub",
            "--key",
            "bob.pub",
            "--threshold",
            "2",
        ],
    );
    let at = ["--at", "2026-10-01T12:00:00Z"];
    signer(
        dir,
        &[&["new", "--dir", "org", "--out", "draft.json"][..], &at].concat(),
    );
    signer(
        dir,
        &[
            &["sign", "draft.json", "--dir", "org", "--key", "alice.key"][..],
            &at,
        ]
        .concat(),
    );
    signer(
        dir,
        &[
            &[
                "sign",
                "org/statements/000001.json",
                "--dir",
                "org",
                "--key",
                "bob.key",
            ][..],
            &at,
        ]
        .concat(),
    );

    let raw = std::fs::read(dir.join("org/statements/000001.json")).expect("envelope");
    let text = std::str::from_utf8(&raw).expect("utf8");
    // Compact, fields in the order payload, payloadType, signatures; keyid, sig.
    assert!(text.starts_with("{\"payload\":\""), "{text}");
    let type_at = text
        .find("\",\"payloadType\":\"")
        .expect("payloadType after payload");
    let sigs_at = text
        .find("\",\"signatures\":[{\"keyid\":\"")
        .expect("signatures last");
    assert!(type_at < sigs_at);
    assert!(text.ends_with("\"}]}\n"), "{text}");
    assert!(!text.trim_end().contains(char::is_whitespace));

    let env: serde_json::Value = serde_json::from_slice(&raw).expect("json");
    let payload_type = env["payloadType"].as_str().expect("type");
    assert_eq!(payload_type, "application/vnd.canary.statement.v1+json");
    let payload = STANDARD
        .decode(env["payload"].as_str().expect("payload"))
        .expect("strict base64");

    // Canonical: serde_json with sorted (BTreeMap) keys and no whitespace is
    // RFC 8785 for this ASCII-keyed, integer-only document.
    let value: serde_json::Value = serde_json::from_slice(&payload).expect("payload json");
    assert_eq!(
        serde_json::to_vec(&value).expect("json"),
        payload,
        "payload is not canonical"
    );
    assert_eq!(value["issuer"], "example.org");
    assert_eq!(value["sequence"], 1);
    assert_eq!(value["issued_at"], "2026-10-01T12:00:00Z");
    assert_eq!(value["next_due"], "2026-12-30T12:00:00Z");
    assert_eq!(value["expires_at"], "2027-01-13T12:00:00Z");

    let message = pae(payload_type, &payload);
    let sigs = env["signatures"].as_array().expect("signatures");
    assert_eq!(sigs.len(), 2);
    for (sig, name) in sigs.iter().zip(["alice", "bob"]) {
        let key = public_key(&dir.join(format!("{name}.pub")));
        assert_eq!(
            sig["keyid"].as_str().expect("keyid"),
            hex(&Sha256::digest(key.as_bytes())),
            "keyid of {name}"
        );
        let bytes: [u8; 64] = STANDARD
            .decode(sig["sig"].as_str().expect("sig"))
            .expect("base64")
            .try_into()
            .expect("64 bytes");
        let signature = ed25519_dalek::Signature::from_bytes(&bytes);
        key.verify_strict(&message, &signature)
            .unwrap_or_else(|e| panic!("{name}'s signature does not verify: {e}"));
        // The type is bound: the same signature fails for another payloadType.
        assert!(
            key.verify_strict(
                &pae("application/vnd.canary.incident.v1+json", &payload),
                &signature
            )
            .is_err()
        );
    }
}
