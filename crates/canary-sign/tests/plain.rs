//! The `plain/` files of DESIGN §9, checked by the tools readers already
//! have: `ssh-keygen -Y verify` (Debian `openssh-client`) and `minisign -V`
//! (Debian `minisign`) on every signer's signatures of a 2-of-2 issuer, and
//! the jq + OpenSSL recipe for the envelope that `canary.txt` prints.

#![allow(clippy::panic)]

mod util;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use util::{Key, OK, REFUSED, Scratch, argv};

const ISSUER: &str = "example.org";
const ORG: &str = "org";
const AT: &str = "2026-11-27T00:00:00Z";
const PLAIN: &str = "site/.well-known/canary/plain";

/// The program `name` on PATH; a missing one fails the test and names the
/// Debian package that has it.
fn tool(name: &str, package: &str) -> PathBuf {
    find(name).unwrap_or_else(|| {
        panic!(
            "{name} not found on PATH: install the Debian package {package} \
             (apt-get install -y {package}); .ci/run installs it when missing"
        )
    })
}

fn find(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    })
}

fn run(program: &Path, dir: &Path, args: &[&str], stdin: Option<&Path>) -> Output {
    let input = match stdin {
        Some(p) => Stdio::from(std::fs::File::open(p).expect("open the standard input")),
        None => Stdio::null(),
    };
    Command::new(program)
        .current_dir(dir)
        .args(args)
        .stdin(input)
        .output()
        .unwrap_or_else(|e| panic!("{} runs: {e}", program.display()))
}

fn show(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A 2-of-2 issuer (both keys encrypted) with statement 1 signed by alice
/// and co-signed by bob.
struct Issuer {
    s: Scratch,
    alice: Key,
    bob: Key,
}

fn issuer() -> Issuer {
    let s = Scratch::new();
    let alice = s.keygen("alice", Some("alice's long passphrase"));
    let bob = s.keygen("bob", Some("bob's long passphrase"));
    s.run(&[
        "init",
        "--issuer",
        ISSUER,
        "--dir",
        ORG,
        "--threshold",
        "2",
        "--key",
        "keys/alice.pub",
        "--key",
        "keys/bob.pub",
    ])
    .code(OK);
    s.run(&["new", "--dir", ORG, "--at", AT, "--out", "draft.json"])
        .code(OK);
    let a = alice.args();
    s.run(&argv(&["sign", "draft.json", "--dir", ORG, "--at", AT], &a))
        .code(OK);
    let b = bob.args();
    s.run(&argv(
        &[
            "sign",
            "org/statements/000001.json",
            "--dir",
            ORG,
            "--at",
            AT,
        ],
        &b,
    ))
    .code(OK);
    Issuer { s, alice, bob }
}

fn publish(s: &Scratch, out: &str) -> util::Out {
    s.run(&["publish", "--dir", ORG, "--out", out, "--at", AT])
}

fn short(key: &Key) -> String {
    key.public.id().short()
}

/// The statement's expiry, from the published payload.
fn expires_at(s: &Scratch) -> String {
    let payload = s.read_json(&format!("{PLAIN}/payload.json"));
    payload["expires_at"]
        .as_str()
        .expect("expires_at")
        .to_owned()
}

/// Runs both stock tools on signer `k`'s files in `dir`.
fn stock_check(dir: &Path, k: &str) -> (Output, Output) {
    let ssh_keygen = tool("ssh-keygen", "openssh-client");
    let minisign = tool("minisign", "minisign");
    let sig = format!("payload.json.{k}.sig");
    let ssh = run(
        &ssh_keygen,
        dir,
        &[
            "-Y",
            "verify",
            "-f",
            "allowed_signers",
            "-I",
            ISSUER,
            "-n",
            &format!("canary-v1@{ISSUER}"),
            "-s",
            &sig,
        ],
        Some(&dir.join("payload.json")),
    );
    let minisig = format!("payload.json.{k}.minisig");
    let public = format!("{k}.minisign.pub");
    let mini = run(
        &minisign,
        dir,
        &["-Vm", "payload.json", "-x", &minisig, "-p", &public],
        None,
    );
    (ssh, mini)
}

#[test]
fn ssh_keygen_and_minisign_accept_every_signer_and_refuse_a_flipped_byte() {
    let Issuer { s, alice, bob } = issuer();
    let out = publish(&s, "site");
    out.code(OK).never_says("no plain signatures");

    // payload.json is the envelope's payload, byte for byte.
    let envelope = canary_core::Envelope::parse(&s.read("site/.well-known/canary.json"))
        .expect("the envelope parses");
    assert_eq!(
        s.read(&format!("{PLAIN}/payload.json")),
        envelope.payload(),
        "payload.json is not the signed payload"
    );
    // One allowed_signers line per trusted key, for the issuer's namespace.
    let allowed = s.read_string(&format!("{PLAIN}/allowed_signers"));
    assert_eq!(allowed.lines().count(), 2, "{allowed}");
    for line in allowed.lines() {
        assert!(
            line.starts_with("example.org namespaces=\"canary-v1@example.org\" ssh-ed25519 "),
            "{line}"
        );
    }

    let dir = s.path(PLAIN);
    let comment = format!(
        "Trusted comment: canary {ISSUER} #1 expires {}",
        expires_at(&s)
    );
    for key in [&alice, &bob] {
        let k = short(key);
        let (ssh, mini) = stock_check(&dir, &k);
        assert_eq!(
            ssh.status.code(),
            Some(0),
            "ssh-keygen, {k}: {}",
            show(&ssh)
        );
        assert!(
            String::from_utf8_lossy(&ssh.stdout).contains(&format!(
                "Good \"canary-v1@{ISSUER}\" signature for {ISSUER}"
            )),
            "{}",
            show(&ssh)
        );
        assert_eq!(
            mini.status.code(),
            Some(0),
            "minisign, {k}: {}",
            show(&mini)
        );
        assert!(
            String::from_utf8_lossy(&mini.stdout)
                .lines()
                .any(|l| l == comment),
            "minisign shows {comment:?}: {}",
            show(&mini)
        );
    }
    #[cfg(unix)]
    for entry in std::fs::read_dir(&dir).expect("plain/") {
        use std::os::unix::fs::PermissionsExt as _;
        let meta = entry.expect("entry").metadata().expect("metadata");
        assert_eq!(meta.permissions().mode() & 0o777, 0o644);
    }

    // One flipped byte of payload.json: both tools refuse, for each signer.
    let payload = dir.join("payload.json");
    let mut bytes = std::fs::read(&payload).expect("payload.json");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    std::fs::write(&payload, &bytes).expect("write payload.json");
    for key in [&alice, &bob] {
        let k = short(key);
        let (ssh, mini) = stock_check(&dir, &k);
        assert_ne!(
            ssh.status.code(),
            Some(0),
            "ssh-keygen, {k}: {}",
            show(&ssh)
        );
        assert_ne!(
            mini.status.code(),
            Some(0),
            "minisign, {k}: {}",
            show(&mini)
        );
    }
}

#[test]
fn the_envelope_recipe_in_canary_txt_works_with_jq_and_openssl() {
    let Issuer { s, .. } = issuer();
    publish(&s, "site").code(OK);
    let text = s.read_string("site/canary.txt");
    for needed in [
        "Verify without canary",
        "ssh-keygen -Y verify -f allowed_signers -I example.org",
        "minisign -Vm payload.json -x payload.json.",
        "strict profile",
    ] {
        assert!(
            text.contains(needed),
            "canary.txt lacks {needed:?}:\n{text}"
        );
    }
    let page = s.read_string("site/index.html");
    assert!(
        page.contains("Verify without canary"),
        "the page lacks the section"
    );
    let envelope = canary_core::Envelope::parse(&s.read("site/.well-known/canary.json"))
        .expect("the envelope parses");
    for sig in envelope.signatures() {
        let k = sig.keyid.short();
        for needed in [
            format!("-s payload.json.{k}.sig &lt; payload.json"),
            format!("-x payload.json.{k}.minisig"),
        ] {
            assert!(page.contains(&needed), "the page lacks {needed:?}");
            let plain = needed.replace("&lt;", "<");
            assert!(text.contains(&plain), "canary.txt lacks {plain:?}");
        }
    }

    let (Some(_), Some(_), Some(sh)) = (find("jq"), find("openssl"), find("sh")) else {
        assert!(
            !std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && v != "false"),
            "jq or openssl not found, and CI is set: .ci/run must install them \
             (apt-get install -y jq openssl)"
        );
        eprintln!("SKIPPED: the jq + openssl recipe needs jq and openssl on PATH");
        return;
    };
    // The recipe as canary.txt prints it (indented, after its paragraph).
    let recipe: String = text
        .split("The signed statement itself")
        .nth(1)
        .expect("the recipe's paragraph")
        .lines()
        .skip_while(|l| !l.starts_with("    "))
        .take_while(|l| l.starts_with("    "))
        .map(|l| format!("{}\n", &l[4..]))
        .collect();
    assert!(recipe.contains("openssl pkeyutl -verify"), "{recipe}");
    let well_known = s.path("site/.well-known");
    let out = run(&sh, &well_known, &["-c", &recipe], None);
    assert_eq!(out.status.code(), Some(0), "{recipe}\n{}", show(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("Signature Verified Successfully"),
        "{}",
        show(&out)
    );
    // A changed payload fails the recipe.
    let path = well_known.join("canary.json");
    let mut envelope: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).expect("canary.json")).expect("JSON");
    let payload = envelope["payload"].as_str().expect("payload").to_owned();
    envelope["payload"] = payload.replacen('e', "f", 1).into();
    std::fs::write(&path, serde_json::to_vec(&envelope).expect("JSON")).expect("write");
    let out = run(&sh, &well_known, &["-c", &recipe], None);
    assert_ne!(out.status.code(), Some(0), "{}", show(&out));
}

#[test]
fn a_statement_signed_without_plain_signatures_still_publishes_and_can_get_them() {
    let Issuer { s, alice, bob } = issuer();
    // As a statement signed before canary-sign made plain signatures.
    std::fs::remove_dir_all(s.path("org/plain")).expect("remove org/plain");
    let out = publish(&s, "site");
    out.code(OK).stderr_has("no plain signatures");
    assert!(s.exists(&format!("{PLAIN}/payload.json")));
    assert!(s.exists(&format!("{PLAIN}/allowed_signers")));
    for key in [&alice, &bob] {
        let k = short(key);
        assert!(s.exists(&format!("{PLAIN}/{k}.minisign.pub")));
        assert!(!s.exists(&format!("{PLAIN}/payload.json.{k}.sig")));
        assert!(!s.exists(&format!("{PLAIN}/payload.json.{k}.minisig")));
    }
    assert!(
        !s.read_string("site/canary.txt")
            .contains("ssh-keygen -Y verify"),
        "canary.txt offers commands for files that are not there"
    );

    // Signing again with a key that signed makes its plain signatures.
    let a = alice.args();
    s.run(&argv(
        &[
            "sign",
            "org/statements/000001.json",
            "--dir",
            ORG,
            "--at",
            AT,
        ],
        &a,
    ))
    .code(OK)
    .stdout_has("made its plain signatures");
    // ... once: the key has signed both ways now.
    s.run(&argv(
        &[
            "sign",
            "org/statements/000001.json",
            "--dir",
            ORG,
            "--at",
            AT,
        ],
        &a,
    ))
    .code(REFUSED)
    .stderr_has("already signed by this key");
    publish(&s, "site").code(OK).stderr_has(&short(&bob));
    let k = short(&alice);
    let (ssh, mini) = stock_check(&s.path(PLAIN), &k);
    assert_eq!(ssh.status.code(), Some(0), "{}", show(&ssh));
    assert_eq!(mini.status.code(), Some(0), "{}", show(&mini));
}

#[test]
fn publish_refuses_a_plain_signature_that_does_not_verify_and_writes_nothing() {
    let Issuer { s, alice, .. } = issuer();
    publish(&s, "site").code(OK);
    let before = util::snapshot(&s.path("site"));
    let k = short(&alice);
    let path = format!("org/plain/000001/payload.json.{k}.minisig");
    let text = s.read_string(&path);
    // Another trusted comment: the global signature no longer covers it.
    s.write(&path, text.replace("#1 expires", "#2 expires"));
    publish(&s, "site")
        .code(REFUSED)
        .stderr_has(&format!("payload.json.{k}.minisig"))
        .stderr_has("sign the statement again");
    assert_eq!(util::snapshot(&s.path("site")), before, "publish wrote");

    // A broken SSH signature likewise.
    s.write(&path, text);
    let path = format!("org/plain/000001/payload.json.{k}.sig");
    let text = s.read_string(&path);
    s.write(&path, text.replacen('A', "B", 3));
    publish(&s, "site")
        .code(REFUSED)
        .stderr_has(&format!("payload.json.{k}.sig"));
    assert_eq!(util::snapshot(&s.path("site")), before, "publish wrote");

    // Signing again with that key makes them anew.
    let a = alice.args();
    s.run(&argv(
        &[
            "sign",
            "org/statements/000001.json",
            "--dir",
            ORG,
            "--at",
            AT,
        ],
        &a,
    ))
    .code(OK);
    publish(&s, "site").code(OK);
}

#[test]
fn publish_removes_plain_files_it_no_longer_writes() {
    let Issuer { s, .. } = issuer();
    publish(&s, "site").code(OK);
    let stray = format!("{PLAIN}/payload.json.0123456789abcdef.sig");
    s.write(&stray, "old");
    let other = format!("{PLAIN}/notes.txt");
    s.write(&other, "kept");
    publish(&s, "site").code(OK);
    assert!(!s.exists(&stray), "a stale signature stayed");
    assert!(s.exists(&other), "publish removed a file it never writes");
}

#[test]
fn an_issuer_that_cannot_stand_in_allowed_signers_gets_no_plain_files() {
    let s = Scratch::new();
    let alice = s.keygen("alice", None);
    let issuer = "ex,ample.org";
    s.run(&[
        "init",
        "--issuer",
        ISSUER,
        "--dir",
        ORG,
        "--key",
        "keys/alice.pub",
    ])
    .code(OK);
    // An issuer name init does not make (it is no host name), but canary.toml
    // may hold.
    let config = s.read_string("org/canary.toml");
    s.write(
        "org/canary.toml",
        config.replace("issuer = \"example.org\"", &format!("issuer = {issuer:?}")),
    );
    s.run(&["new", "--dir", ORG, "--at", AT, "--out", "draft.json"])
        .code(OK);
    let a = alice.args();
    s.run(&argv(&["sign", "draft.json", "--dir", ORG, "--at", AT], &a))
        .code(OK)
        .stderr_has("no plain signatures");
    assert!(!s.exists("org/plain"), "plain signatures for {issuer:?}");
    publish(&s, "site").code(OK).stderr_has("no plain/ folder");
    assert!(!s.exists(PLAIN));
    let text = s.read_string("site/canary.txt");
    assert!(text.contains("Verify without canary"), "{text}");
    assert!(!text.contains("ssh-keygen"), "{text}");
}

/// The repository's demo issuer, published as the README shows: each of its
/// two signers checks out with the stock tools, and a flipped payload byte
/// fails both.
#[test]
fn the_demo_verifies_with_ssh_keygen_and_minisign() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_canary-sign"))
        .current_dir(&repo)
        .args(["publish", "--dir", "canaries/example.org", "--out"])
        .arg(tmp.path().join("site"))
        .args(["--at", AT])
        .output()
        .expect("canary-sign runs");
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let dir = tmp.path().join("site/.well-known/canary/plain");
    let mut signers = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("plain/ is published") {
        let name = entry
            .expect("entry")
            .file_name()
            .to_string_lossy()
            .into_owned();
        if let Some(k) = name
            .strip_prefix("payload.json.")
            .and_then(|n| n.strip_suffix(".minisig"))
        {
            signers.push(k.to_owned());
        }
    }
    signers.sort();
    assert_eq!(signers.len(), 2, "both demo signers: {signers:?}");
    for k in &signers {
        let (ssh, mini) = stock_check(&dir, k);
        assert!(ssh.status.success(), "ssh-keygen, {k}: {}", show(&ssh));
        assert!(mini.status.success(), "minisign, {k}: {}", show(&mini));
        assert!(
            String::from_utf8_lossy(&mini.stdout)
                .contains("Trusted comment: canary example.org #3 expires"),
            "{}",
            show(&mini)
        );
    }
    let payload = dir.join("payload.json");
    let mut bytes = std::fs::read(&payload).expect("payload");
    bytes[10] ^= 1;
    std::fs::write(&payload, bytes).expect("flip a byte");
    for k in &signers {
        let (ssh, mini) = stock_check(&dir, k);
        assert!(
            !ssh.status.success(),
            "ssh-keygen accepted a flipped byte ({k})"
        );
        assert!(
            !mini.status.success(),
            "minisign accepted a flipped byte ({k})"
        );
    }
}
