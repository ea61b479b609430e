//! `scripts/install` (what the GitHub Action and the GitLab template run)
//! against a fake release on a loopback server: a good release installs and
//! is then taken from the cache; a tampered archive, tampered sums, a
//! signature by another key and a missing signature are refused with a clear
//! error and install nothing; a release without an archive for the machine
//! falls back to `cargo install` with a visible notice.
//!
//! Needs bash, curl, tar and the stock `minisign` (to sign the fake release
//! the way a release is signed); without minisign the test says so and
//! passes, except in CI (`CI=true`), where it fails.

#![cfg(unix)]
// Helpers outside `#[test]` functions report failures by panicking.
#![allow(clippy::panic)]

use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader, Write as _};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;

const TARGET: &str = "x86_64-unknown-linux-gnu";
const VERSION: &str = "0.0.7";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

fn run(cmd: &mut Command) -> Output {
    let out = cmd.output().expect("spawn");
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Serves `files` (path to bytes) on loopback, port 0; `/PREFIX/latest`
/// redirects to `/PREFIX/tag/v<VERSION>` as GitHub does. Everything else is 404.
fn serve(files: BTreeMap<String, Vec<u8>>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let files = Arc::new(files);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut request = String::new();
            if reader.read_line(&mut request).is_err() {
                continue;
            }
            loop {
                let mut line = String::new();
                match reader.read_line(&mut line) {
                    Ok(0) | Err(_) => break,
                    Ok(_) if line == "\r\n" => break,
                    Ok(_) => {}
                }
            }
            let path = request.split_whitespace().nth(1).unwrap_or("").to_owned();
            let response = if let Some(prefix) = path.strip_suffix("/latest") {
                format!(
                    "HTTP/1.1 302 Found\r\nLocation: {prefix}/tag/v{VERSION}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                )
                .into_bytes()
            } else if let Some(body) = files.get(&path) {
                let mut r = format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                )
                .into_bytes();
                r.extend_from_slice(body);
                r
            } else if path.ends_with("/tag/v0.0.7") {
                b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok".to_vec()
            } else {
                b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec()
            };
            let _ = stream.write_all(&response);
        }
    });
    format!("http://{addr}")
}

struct Release {
    dir: tempfile::TempDir,
    archive: String,
    archive_bytes: Vec<u8>,
    pubkey: PathBuf,
}

fn sha256_line(bytes: &[u8], name: &str) -> String {
    use sha2::Digest as _;
    let hex: String = sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("{hex}  {name}\n")
}

/// A release as scripts/dist makes one: an archive whose `canary` is a stub
/// printing its version, SHA256SUMS, and SHA256SUMS.minisig by a fresh key.
fn release() -> Release {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let name = format!("canary-{VERSION}-{TARGET}");
    std::fs::create_dir_all(d.join(&name)).expect("mkdir");
    for bin in ["canary", "canary-sign"] {
        let path = d.join(&name).join(bin);
        std::fs::write(&path, format!("#!/bin/sh\necho \"{bin} {VERSION}\"\n")).expect("stub");
        run(Command::new("chmod").arg("755").arg(&path));
    }
    let archive = format!("{name}.tar.gz");
    run(Command::new("tar")
        .current_dir(d)
        .args(["-czf", &archive, &name]));
    let archive_bytes = std::fs::read(d.join(&archive)).expect("archive");
    for key in ["release", "other"] {
        run(Command::new("minisign")
            .current_dir(d)
            .args(["-G", "-W", "-p"])
            .arg(format!("{key}.pub"))
            .arg("-s")
            .arg(format!("{key}.key")));
    }
    Release {
        pubkey: d.join("release.pub"),
        dir,
        archive,
        archive_bytes,
    }
}

impl Release {
    /// `sums` signed by `key` ("release" or "other").
    fn sign(&self, sums: &str, key: &str) -> Vec<u8> {
        let d = self.dir.path();
        std::fs::write(d.join("sums"), sums).expect("sums");
        let _ = std::fs::remove_file(d.join("sums.minisig"));
        run(Command::new("minisign")
            .current_dir(d)
            .args(["-S", "-s"])
            .arg(format!("{key}.key"))
            .args(["-m", "sums", "-x", "sums.minisig"]));
        std::fs::read(d.join("sums.minisig")).expect("signature")
    }
}

struct Installed {
    code: i32,
    stderr: String,
    stdout: String,
}

fn install(server: &str, repo: &str, rel: &Release, home: &Path, extra: &[&str]) -> Installed {
    let out = Command::new("bash")
        .arg(root().join("scripts/install"))
        .args(["--releases", &format!("{server}/{repo}/releases")])
        .args(["--target", TARGET])
        .arg("--pubkey")
        .arg(&rel.pubkey)
        .args(extra)
        .env("HOME", home)
        .env_remove("GITHUB_ACTIONS")
        .env_remove("GITHUB_PATH")
        .env_remove("CANARY_VERSION")
        .env_remove("CANARY_REPO")
        .env_remove("CANARY_RELEASES_URL")
        .output()
        .expect("bash");
    Installed {
        code: out.status.code().unwrap_or(-1),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
    }
}

#[test]
fn the_install_script_checks_signature_and_sums_and_refuses_tampering() {
    if !(have("minisign") && have("curl") && have("tar")) {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI must have minisign, curl and tar for this test"
        );
        eprintln!("skipped: minisign, curl or tar missing");
        return;
    }
    let rel = release();
    let good_sums = sha256_line(&rel.archive_bytes, &rel.archive)
        + &sha256_line(b"other", "canary_0.0.7-1_amd64.deb");
    let mut tampered = rel.archive_bytes.clone();
    let mid = tampered.len() / 2;
    tampered[mid] ^= 0x01;
    // Sums rewritten to match the tampered archive, the signature left as it was.
    let forged_sums = sha256_line(&tampered, &rel.archive);
    let other_target = rel.archive.replace(TARGET, "riscv64gc-unknown-linux-gnu");

    let tag = format!("v{VERSION}");
    let mut files = BTreeMap::new();
    let mut add = |repo: &str, name: &str, bytes: Vec<u8>| {
        files.insert(format!("/{repo}/releases/download/{tag}/{name}"), bytes);
    };
    let good_sig = rel.sign(&good_sums, "release");
    for (repo, archive, sums, sig) in [
        (
            "good",
            &rel.archive_bytes,
            good_sums.as_str(),
            Some(good_sig.clone()),
        ),
        (
            "tampered-archive",
            &tampered,
            good_sums.as_str(),
            Some(good_sig.clone()),
        ),
        (
            "tampered-sums",
            &tampered,
            forged_sums.as_str(),
            Some(good_sig.clone()),
        ),
        (
            "other-key",
            &tampered,
            forged_sums.as_str(),
            Some(rel.sign(&forged_sums, "other")),
        ),
        ("unsigned", &rel.archive_bytes, good_sums.as_str(), None),
    ] {
        add(repo, &rel.archive, archive.clone());
        add(repo, "SHA256SUMS", sums.as_bytes().to_vec());
        if let Some(sig) = sig {
            add(repo, "SHA256SUMS.minisig", sig);
        }
    }
    // A release built for other machines only.
    let elsewhere = sha256_line(&rel.archive_bytes, &other_target);
    add("elsewhere", "SHA256SUMS", elsewhere.as_bytes().to_vec());
    add(
        "elsewhere",
        "SHA256SUMS.minisig",
        rel.sign(&elsewhere, "release"),
    );
    add("elsewhere", &other_target, rel.archive_bytes.clone());
    let server = serve(files);

    let home = tempfile::tempdir().expect("home");
    let v = ["--version", tag.as_str()];

    // Good: installed, runs, and the second time comes from the "cache".
    let dir = home.path().join("good");
    let dir_arg = dir.to_str().expect("utf-8");
    let ok = install(
        &server,
        "good",
        &rel,
        home.path(),
        &[&v[..], &["--dir", dir_arg]].concat(),
    );
    assert_eq!(ok.code, 0, "{}", ok.stderr);
    assert!(
        ok.stderr.contains("good signature by the release key"),
        "{}",
        ok.stderr
    );
    assert!(
        ok.stderr.contains("matches the signed SHA256SUMS"),
        "{}",
        ok.stderr
    );
    assert_eq!(
        ok.stdout.trim_end(),
        dir.join("bin").to_str().expect("utf-8")
    );
    let version = run(&mut Command::new(dir.join("bin/canary")));
    assert_eq!(
        String::from_utf8_lossy(&version.stdout),
        format!("canary {VERSION}\n")
    );
    assert!(dir.join("bin/canary-sign").exists());
    let again = install(
        &server,
        "good",
        &rel,
        home.path(),
        &[&v[..], &["--dir", dir_arg]].concat(),
    );
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(again.stderr.contains("using "), "{}", again.stderr);

    // `latest` follows the release page's redirect to the tag.
    let latest = install(&server, "good", &rel, home.path(), &[]);
    assert_eq!(latest.code, 0, "{}", latest.stderr);
    assert!(
        latest
            .stdout
            .trim_end()
            .ends_with(&format!("canary/{tag}/bin")),
        "{}",
        latest.stdout
    );

    // Every kind of tampering stops with a clear error and installs nothing.
    for (repo, says) in [
        ("tampered-archive", "does NOT match SHA256SUMS"),
        ("tampered-sums", "is NOT signed by the canary release key"),
        ("other-key", "is NOT signed by the canary release key"),
        ("unsigned", "refusing to install unsigned sums"),
    ] {
        let dir = home.path().join(repo);
        let dir_arg = dir.to_str().expect("utf-8");
        let refused = install(
            &server,
            repo,
            &rel,
            home.path(),
            &[&v[..], &["--dir", dir_arg]].concat(),
        );
        assert_eq!(refused.code, 1, "{repo}: {}", refused.stderr);
        assert!(refused.stderr.contains(says), "{repo}: {}", refused.stderr);
        assert!(refused.stdout.is_empty(), "{repo}: {}", refused.stdout);
        assert!(!dir.join("bin").exists(), "{repo}: something was installed");
    }

    // No archive for this machine: a visible notice, then cargo install (a
    // stand-in cargo here that records its arguments and installs a stub).
    let fake = home.path().join("fake-cargo");
    std::fs::create_dir_all(&fake).expect("mkdir");
    std::fs::write(
        fake.join("cargo"),
        "#!/bin/sh\necho \"$@\" >> \"$HOME/cargo.args\"\nwhile [ $# -gt 0 ]; do [ \"$1\" = --root ] && root=$2; shift; done\n\
         mkdir -p \"$root/bin\" && printf '#!/bin/sh\\necho canary from-source\\n' > \"$root/bin/canary\" && chmod 755 \"$root/bin/canary\"\n",
    )
    .expect("fake cargo");
    run(Command::new("chmod").arg("755").arg(fake.join("cargo")));
    // The install of a release that has no archive here, into `dir`, with
    // the stand-in cargo first on the PATH.
    let without_archive = |dir: &Path| {
        let mut c = Command::new("bash");
        c.arg(root().join("scripts/install"))
            .args([
                "--releases",
                &format!("{server}/elsewhere/releases"),
                "--target",
                TARGET,
            ])
            .arg("--pubkey")
            .arg(&rel.pubkey)
            .args(["--version", &tag, "--dir"])
            .arg(dir)
            .env("HOME", home.path())
            .env(
                "PATH",
                format!(
                    "{}:{}",
                    fake.display(),
                    std::env::var("PATH").unwrap_or_default()
                ),
            )
            .env_remove("GITHUB_PATH");
        c
    };
    let dir = home.path().join("elsewhere");
    let out = without_archive(&dir)
        .env("GITHUB_ACTIONS", "true")
        .output()
        .expect("bash");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stdout.contains("::notice title=canary install::release v0.0.7 has no"),
        "{stdout}"
    );
    assert!(
        stderr.contains("NOTICE:") && stderr.contains("cargo install"),
        "{stderr}"
    );
    let args = std::fs::read_to_string(home.path().join("cargo.args")).expect("cargo ran");
    assert!(args.starts_with("install --locked"), "{args}");
    assert!(
        args.contains("crates/canary"),
        "builds from this checkout: {args}"
    );
    assert!(dir.join("bin/canary").exists());

    // Without a checkout to build from, it stops: the crate named canary on
    // crates.io is another project, so nothing is installed from there.
    let empty = home.path().join("not-a-checkout");
    std::fs::create_dir_all(&empty).expect("mkdir");
    let nowhere = home.path().join("nowhere");
    let out = without_archive(&nowhere)
        .arg("--source")
        .arg(&empty)
        .env_remove("GITHUB_ACTIONS")
        .output()
        .expect("bash");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("is not a checkout of canary")
            && stderr.contains("nothing is installed from crates.io by name"),
        "{stderr}"
    );
    assert!(
        out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let again = std::fs::read_to_string(home.path().join("cargo.args")).expect("cargo ran once");
    assert_eq!(again, args, "cargo ran again: {again}");
    assert!(!nowhere.join("bin").exists(), "something was installed");
}

#[test]
fn the_pinned_release_key_is_the_one_cargo_binstall_checks() {
    let text = std::fs::read_to_string(root().join("keys/release.minisign.pub")).expect("key");
    let key = text.lines().nth(1).expect("a key line");
    assert!(key.starts_with("RW") && key.len() == 56, "{key}");
    for krate in ["canary", "canary-sign"] {
        let manifest = std::fs::read_to_string(root().join(format!("crates/{krate}/Cargo.toml")))
            .expect("manifest");
        assert!(
            manifest.contains(&format!("pubkey = \"{key}\"")),
            "{krate}'s binstall pubkey"
        );
    }
    // The README's by-hand check names the same key.
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README");
    assert!(
        readme.contains(&format!("minisign -Vm SHA256SUMS -P {key}")),
        "the README's minisign command pins another key"
    );
}
