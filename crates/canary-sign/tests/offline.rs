//! The signer is offline by design: no network crate may ever enter its
//! dependency tree (DESIGN §2).

use std::process::Command;

/// Crates that would let the signer talk to a network.
const NETWORK_CRATES: &[&str] = &[
    "reqwest",
    "hyper",
    "hyper-util",
    "h2",
    "h3",
    "tokio",
    "async-std",
    "rustls",
    "native-tls",
    "openssl",
    "ureq",
    "curl",
    "isahc",
    "surf",
    "mio",
    "socket2",
    "quinn",
    "trust-dns-resolver",
    "hickory-resolver",
];

#[test]
fn signer_has_no_network_crates() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let output = Command::new(env!("CARGO"))
        .current_dir(root)
        .args([
            "tree",
            "--package",
            "canary-sign",
            "--edges",
            "normal",
            "--prefix",
            "none",
            "--format",
            "{p}",
            "--offline",
            "--locked",
        ])
        .output()
        .expect("cargo tree runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let crates: Vec<&str> = stdout
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    // The tree must really be there: the signer and its core.
    assert!(crates.contains(&"canary-sign"), "{stdout}");
    assert!(crates.contains(&"canary-core"), "{stdout}");
    assert!(crates.contains(&"ed25519-dalek"), "{stdout}");
    let found: Vec<&&str> = crates
        .iter()
        .filter(|c| NETWORK_CRATES.contains(c))
        .collect();
    assert!(
        found.is_empty(),
        "network crates in the signer's tree: {found:?}"
    );
}
