//! `canary-sign publish` end to end: the layout of DESIGN §9, verified by
//! the real `canary` verifier, idempotent, and refusing to rewrite history.

mod util;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::str::FromStr as _;

const AT: &str = "2026-11-27T00:00:00Z";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn signer(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_canary-sign"))
        .current_dir(dir)
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("canary-sign runs")
}

/// The verifier binary, built by `cargo test --workspace` for its own tests.
fn verifier(dir: &Path, args: &[&str]) -> Output {
    Command::new(util::verifier_bin())
        .current_dir(dir)
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("canary runs")
}

fn code(out: &Output) -> i32 {
    out.status.code().expect("exit code")
}

fn show(out: &Output) -> String {
    format!(
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Every file under `dir`, relative path → bytes.
fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read dir") {
            let path = e.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path
                    .strip_prefix(dir)
                    .expect("inside")
                    .to_string_lossy()
                    .into_owned();
                files.insert(rel, std::fs::read(&path).expect("read"));
            }
        }
    }
    files
}

/// A copy of the demo folder in a temporary directory.
fn demo(tmp: &Path) -> PathBuf {
    let folder = tmp.join("example.org");
    util::copy_dir(&repo().join("canaries/example.org"), &folder);
    folder
}

fn publish(tmp: &Path, folder: &Path, out: &str) -> Output {
    signer(
        tmp,
        &[
            "publish",
            "--dir",
            folder.to_str().expect("utf8"),
            "--out",
            out,
            "--at",
            AT,
        ],
    )
}

#[test]
fn the_demo_publishes_the_design_layout_and_verifies() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let folder = demo(tmp.path());
    let out = publish(tmp.path(), &folder, "site");
    assert_eq!(code(&out), 0, "{}", show(&out));

    let site = tree(&tmp.path().join("site"));
    let mut expected: Vec<String> = vec![
        ".well-known/canary.json".into(),
        ".well-known/canary/trust.toml".into(),
        "index.html".into(),
        "canary.txt".into(),
        "feed.atom".into(),
        "status.json".into(),
        "status.schema.json".into(),
    ];
    for api in [
        "status",
        "summary",
        "components",
        "incidents",
        "incidents/unresolved",
        "scheduled-maintenances",
    ] {
        expected.push(format!("api/v2/{api}.json"));
    }
    for seq in 1..=3 {
        expected.push(format!(".well-known/canary/statements/{seq:06}.json"));
    }
    for dir in std::fs::read_dir(folder.join("incidents")).expect("incidents") {
        let dir = dir.expect("entry").path();
        let id = dir
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        expected.push(format!(".well-known/canary/incidents/{id}.json"));
        for v in std::fs::read_dir(&dir).expect("versions") {
            let v = v.expect("entry").file_name().to_string_lossy().into_owned();
            expected.push(format!(".well-known/canary/incidents/{id}/{v}"));
        }
    }
    // plain/: the payload, the trusted keys for ssh-keygen and minisign,
    // and the signatures the signers made (none, for a statement signed
    // before canary-sign made them).
    expected.push(".well-known/canary/plain/payload.json".into());
    expected.push(".well-known/canary/plain/allowed_signers".into());
    for name in ["alice", "bob"] {
        let text = std::fs::read_to_string(repo().join(format!("keys/example.org-{name}.pub")))
            .expect("a demo key");
        let key = canary_core::PublicKey::from_pub_file(&text)
            .expect("the key parses")
            .0;
        expected.push(format!(
            ".well-known/canary/plain/{}.minisign.pub",
            key.id().short()
        ));
    }
    if let Ok(entries) = std::fs::read_dir(folder.join("plain/000003")) {
        for e in entries {
            let name = e.expect("entry").file_name().to_string_lossy().into_owned();
            expected.push(format!(".well-known/canary/plain/{name}"));
        }
    }
    expected.sort();
    let found: Vec<String> = site.keys().cloned().collect();
    assert_eq!(
        found, expected,
        "exactly the layout of DESIGN §9, no stray files"
    );

    // The archive holds the folder's signed files byte for byte.
    assert_eq!(
        site[".well-known/canary.json"],
        std::fs::read(folder.join("statements/000003.json")).expect("latest")
    );
    assert_eq!(
        site[".well-known/canary/statements/000001.json"],
        std::fs::read(folder.join("statements/000001.json")).expect("first")
    );

    // A reader verifies the published site, its history and its incidents.
    let out = verifier(
        tmp.path(),
        &[
            "verify",
            "site",
            "--trust",
            "site/.well-known/canary/trust.toml",
            "--history",
            "--incidents",
            "--at",
            AT,
        ],
    );
    assert_eq!(code(&out), 0, "{}", show(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("history: 3 statements"), "{stdout}");
    assert!(stdout.contains("incidents: 3 verified"), "{stdout}");

    // The published trust policy is the one shipped in keys/.
    let published = String::from_utf8(site[".well-known/canary/trust.toml"].clone()).expect("utf8");
    let shipped = std::fs::read_to_string(repo().join("keys/example.org.toml")).expect("keys");
    assert_eq!(published, shipped);
}

#[test]
fn republishing_is_byte_identical() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let folder = demo(tmp.path());
    assert_eq!(code(&publish(tmp.path(), &folder, "a")), 0);
    let first = tree(&tmp.path().join("a"));
    assert_eq!(code(&publish(tmp.path(), &folder, "a")), 0);
    assert_eq!(
        tree(&tmp.path().join("a")),
        first,
        "same folder, same bytes"
    );
    assert_eq!(code(&publish(tmp.path(), &folder, "b")), 0);
    assert_eq!(tree(&tmp.path().join("b")), first, "same output anywhere");
}

#[test]
fn a_tampered_incident_in_the_output_is_caught() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let folder = demo(tmp.path());
    assert_eq!(code(&publish(tmp.path(), &folder, "site")), 0);
    let incidents = tmp.path().join("site/.well-known/canary/incidents");
    let id = std::fs::read_dir(&incidents)
        .expect("incidents")
        .map(|e| e.expect("entry").path())
        .find(|p| p.is_dir())
        .expect("an incident folder");
    let mut versions: Vec<PathBuf> = std::fs::read_dir(&id)
        .expect("versions")
        .map(|e| e.expect("entry").path())
        .collect();
    versions.sort();
    let last = versions.last().expect("a version");
    let text = std::fs::read_to_string(last).expect("read");
    // Swap two signatures' worth of content: re-encode a changed payload.
    let env: serde_json::Value = serde_json::from_str(&text).expect("json");
    let payload = env["payload"].as_str().expect("payload");
    let flipped = if payload.starts_with('e') {
        payload.replacen('e', "f", 1)
    } else {
        format!("e{}", &payload[1..])
    };
    std::fs::write(last, text.replacen(payload, &flipped, 1)).expect("tamper");

    let args = [
        "verify",
        "site",
        "--trust",
        "site/.well-known/canary/trust.toml",
        "--incidents",
        "--at",
        AT,
        "--format",
        "json",
    ];
    let out = verifier(tmp.path(), &args);
    assert_eq!(code(&out), 1, "{}", show(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json line");
    assert_eq!(json["verdict"], "invalid");
    assert!(
        json["reasons"]
            .as_array()
            .expect("reasons")
            .iter()
            .any(|r| r["code"] == "incident"),
        "{json}"
    );
    // Without --incidents the statement alone still verifies.
    let without: Vec<&str> = args
        .iter()
        .copied()
        .filter(|a| *a != "--incidents")
        .collect();
    let out = verifier(tmp.path(), &without);
    assert_eq!(code(&out), 0, "{}", show(&out));
}

#[test]
fn publish_never_rolls_back_or_rewrites_history() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let folder = demo(tmp.path());
    assert_eq!(code(&publish(tmp.path(), &folder, "site")), 0);
    let before = tree(&tmp.path().join("site"));

    // An older folder (statement 3 missing) would roll the site back.
    let older = tmp.path().join("older");
    util::copy_dir(&folder, &older);
    std::fs::remove_file(older.join("statements/000003.json")).expect("rm");
    let out = publish(tmp.path(), &older, "site");
    assert_eq!(code(&out), 1, "{}", show(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("roll"),
        "{}",
        show(&out)
    );
    assert_eq!(tree(&tmp.path().join("site")), before, "nothing written");

    // A changed archive file in the site is never overwritten.
    let archived = tmp
        .path()
        .join("site/.well-known/canary/statements/000001.json");
    std::fs::write(&archived, b"{}").expect("write");
    let out = publish(tmp.path(), &folder, "site");
    assert_eq!(code(&out), 1, "{}", show(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("history"),
        "{}",
        show(&out)
    );
    assert_eq!(std::fs::read(&archived).expect("read"), b"{}");
}

#[test]
fn feed_and_status_read_back_as_the_input() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let folder = demo(tmp.path());
    assert_eq!(code(&publish(tmp.path(), &folder, "site")), 0);
    let site = tmp.path().join("site");

    let feed = atom_syndication::Feed::from_str(
        &std::fs::read_to_string(site.join("feed.atom")).expect("feed"),
    )
    .expect("valid Atom");
    // tag: URIs minted on the day of the demo's first statement.
    assert_eq!(feed.id(), "tag:example.org,2026-04-01:canary/feed");
    let ids: Vec<&str> = feed.entries().iter().map(|e| e.id()).collect();
    let versions: usize = std::fs::read_dir(folder.join("incidents"))
        .expect("incidents")
        .map(|d| {
            std::fs::read_dir(d.expect("entry").path())
                .expect("versions")
                .count()
        })
        .sum();
    assert_eq!(
        ids.len(),
        3 + versions,
        "one entry per statement and incident version"
    );
    for seq in 1..=3 {
        assert!(
            ids.contains(&format!("tag:example.org,2026-04-01:canary/statement/{seq}").as_str())
        );
    }
    let unique: std::collections::BTreeSet<&&str> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "ids are unique");
    assert_eq!(
        feed.updated().to_rfc3339(),
        feed.entries()[0].updated().to_rfc3339(),
        "the feed is as new as its newest entry"
    );

    let status: serde_json::Value =
        serde_json::from_slice(&std::fs::read(site.join("status.json")).expect("status"))
            .expect("json");
    assert_eq!(status["issuer"], "example.org");
    assert_eq!(
        status["indicator"], "none",
        "every demo incident is resolved"
    );
    let components = status["components"].as_array().expect("components");
    let names: Vec<&str> = components
        .iter()
        .map(|c| c["name"].as_str().expect("name"))
        .collect();
    assert_eq!(
        names,
        ["App & Server", "Push Notifications", "DNS Discovery"]
    );
    assert!(components.iter().all(|c| c["status"] == "operational"));
    assert_eq!(
        status["unresolved_incidents"].as_array().map(Vec::len),
        Some(0)
    );
    assert_eq!(status["canary"]["sequence"], 3);
    let env: serde_json::Value =
        serde_json::from_slice(&std::fs::read(site.join(".well-known/canary.json")).expect("c"))
            .expect("json");
    use base64::Engine as _;
    let payload = base64::engine::general_purpose::STANDARD
        .decode(env["payload"].as_str().expect("payload"))
        .expect("base64");
    use sha2::Digest as _;
    let digest: String = sha2::Sha256::digest(&payload)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(status["canary"]["digest"], format!("sha256:{digest}"));

    let text = std::fs::read_to_string(site.join("canary.txt")).expect("canary.txt");
    assert!(text.contains("rendering"), "labelled as a rendering");
    assert!(text.contains("authoritative"));
    assert!(text.contains("Statement 3, as of 2026-09-30T09:00:00Z"));
}

#[test]
fn open_incidents_set_the_component_status_and_unsigned_documents_are_refused() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let t = tmp.path();
    let ok = |out: Output| assert_eq!(code(&out), 0, "{}", show(&out));
    ok(signer(t, &["keygen", "--name", "a", "--unencrypted"]));
    ok(signer(t, &["keygen", "--name", "b", "--unencrypted"]));
    ok(signer(
        t,
        &[
            "init",
            "--issuer",
            "example.net",
            "--dir",
            "org",
            "--key",
            "a.pub",
            "--key",
            "b.pub",
            "--threshold",
            "2",
        ],
    ));
    let at = "2026-10-01T00:00:00Z";
    ok(signer(
        t,
        &["new", "--dir", "org", "--out", "d.json", "--at", at],
    ));
    ok(signer(
        t,
        &[
            "sign", "d.json", "--dir", "org", "--key", "a.key", "--at", at,
        ],
    ));

    // One signature of two: not publishable.
    let out = signer(t, &["publish", "--dir", "org", "--out", "site", "--at", at]);
    assert_eq!(code(&out), 1, "{}", show(&out));
    assert!(!t.join("site/.well-known/canary.json").exists());

    ok(signer(
        t,
        &[
            "sign",
            "org/statements/000001.json",
            "--dir",
            "org",
            "--key",
            "b.key",
            "--at",
            at,
        ],
    ));
    ok(signer(
        t,
        &[
            "incident",
            "new",
            "--dir",
            "org",
            "--id",
            "outage",
            "--title",
            "Website down",
            "--impact",
            "major",
            "--affected",
            "website",
            "--message",
            "Investigating.",
            "--key",
            "a.key",
            "--at",
            at,
        ],
    ));
    ok(signer(
        t,
        &[
            "sign",
            "org/incidents/outage/000001.json",
            "--dir",
            "org",
            "--key",
            "b.key",
            "--at",
            at,
        ],
    ));
    ok(signer(
        t,
        &["publish", "--dir", "org", "--out", "site", "--at", at],
    ));
    let status: serde_json::Value =
        serde_json::from_slice(&std::fs::read(t.join("site/status.json")).expect("status"))
            .expect("json");
    assert_eq!(status["indicator"], "major");
    assert_eq!(status["components"][0]["status"], "outage");
    assert_eq!(status["unresolved_incidents"][0]["id"], "outage");
}
