//! The demo issuer shipped in `keys/` and `canaries/` (made by
//! `scripts/make-demo`): a fictional organisation with a 2-of-2 signed chain
//! of quarterly statements and three incident records, all verifying.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use canary_core::{
    IncidentRecord, IncidentStatus, PublicKey, Statement, Timestamp, TrustPolicy, Verdict,
    Verified, VerifyOptions, verify_document, verify_history, verify_statement,
};

const ISSUER: &str = "example.org";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn folder() -> PathBuf {
    root().join("canaries").join(ISSUER)
}

fn ts(s: &str) -> Timestamp {
    s.parse().expect("fixed timestamp")
}

fn policy() -> TrustPolicy {
    let text = std::fs::read_to_string(root().join("keys/example.org.toml")).expect("policy");
    TrustPolicy::from_toml(&text).expect("valid policy")
}

fn numbered(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("folder")
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    files
}

#[test]
fn the_demo_policy_is_two_of_two_over_the_shipped_public_keys() {
    let p = policy();
    assert_eq!(p.issuer(), ISSUER);
    assert_eq!(p.threshold(), 2);
    assert_eq!(p.keys().len(), 2);
    for name in ["alice", "bob"] {
        let text = std::fs::read_to_string(root().join(format!("keys/{ISSUER}-{name}.pub")))
            .expect("public key");
        let (key, comment): (PublicKey, String) = PublicKey::from_pub_file(&text).expect("key");
        assert_eq!(comment, name);
        assert!(p.keys().contains_key(&key.id()), "{name} is in the policy");
    }
    // No secret key anywhere in the demo.
    for dir in ["keys", "canaries"] {
        let mut stack = vec![root().join(dir)];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).expect("dir") {
                let path = e.expect("entry").path();
                if path.is_dir() {
                    stack.push(path);
                } else {
                    let text = std::fs::read_to_string(&path).unwrap_or_default();
                    assert!(!text.contains("canary-secret-key"), "{}", path.display());
                    assert_ne!(path.extension().and_then(|e| e.to_str()), Some("key"));
                }
            }
        }
    }
}

#[test]
fn the_demo_chain_verifies_and_is_current_on_the_readme_date() {
    let p = policy();
    let files = numbered(&folder().join("statements"));
    assert!(files.len() >= 3, "at least three quarterly statements");
    let mut chain: Vec<Verified<Statement>> = Vec::new();
    for file in &files {
        let bytes = std::fs::read(file).expect("statement");
        chain.push(verify_document::<Statement>(&bytes, &p).expect("2-of-2 signed"));
    }
    assert_eq!(verify_history(None, &chain), vec![]);

    let latest = std::fs::read(files.last().expect("latest")).expect("latest");
    let report = verify_statement(&latest, &p, &VerifyOptions::at(ts("2026-11-27T00:00:00Z")));
    assert_eq!(report.verdict(true), Verdict::Ok, "{:?}", report.findings);
    let s = report.statement.expect("authentic");
    let ids: Vec<&str> = s
        .document()
        .statements
        .iter()
        .map(|i| i.id.as_str())
        .collect();
    assert_eq!(ids.len(), 5, "the seed's five statements");
    // The promises never changed along the chain.
    for link in &chain {
        assert_eq!(link.document().statements, s.document().statements);
    }
}

#[test]
fn the_demo_incidents_are_signed_resolved_and_listed() {
    let p = policy();
    let mut latest_versions: BTreeMap<String, Verified<IncidentRecord>> = BTreeMap::new();
    for dir in numbered(&folder().join("incidents")) {
        let mut previous: Option<Verified<IncidentRecord>> = None;
        for file in numbered(&dir) {
            let bytes = std::fs::read(&file).expect("incident");
            let v = verify_document::<IncidentRecord>(&bytes, &p).expect("2-of-2 signed");
            if let Some(prev) = &previous {
                assert_eq!(
                    v.document().previous,
                    Some(prev.digest()),
                    "{}",
                    file.display()
                );
                assert!(v.document().updates.starts_with(&prev.document().updates));
            }
            previous = Some(v);
        }
        let last = previous.expect("at least one version");
        assert_eq!(last.document().status, IncidentStatus::Resolved);
        assert!(last.document().updates.len() >= 3, "a realistic timeline");
        latest_versions.insert(last.document().id.clone(), last);
    }
    assert_eq!(latest_versions.len(), 3, "the seed's three incidents");

    let files = numbered(&folder().join("statements"));
    let bytes = std::fs::read(files.last().expect("latest")).expect("latest");
    let s = verify_document::<Statement>(&bytes, &p).expect("verifies");
    let listed = s.document().incidents.clone().expect("incidents listed");
    assert_eq!(listed.len(), 3);
    for r in listed {
        let v = &latest_versions[&r.id];
        assert_eq!((r.version, r.digest), (v.document().version, v.digest()));
    }
}
