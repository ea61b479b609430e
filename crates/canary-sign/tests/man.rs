//! The manual pages of both CLIs: a page per subcommand, each rendered by
//! groff (Debian's groff-base, installed with man-db) with every warning on,
//! and none given.

mod util;

use std::path::Path;
use std::process::Command;

/// Writes `program man --dir DIR` and returns the pages written.
fn pages(program: &Path, dir: &Path) -> Vec<std::path::PathBuf> {
    let out = Command::new(program)
        .args(["man", "--dir"])
        .arg(dir)
        .output()
        .expect("the program runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut pages: Vec<_> = std::fs::read_dir(dir)
        .expect("the man folder")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "1"))
        .collect();
    pages.sort();
    pages
}

#[test]
fn every_subcommand_has_a_page_that_groff_renders_without_warnings() {
    let tmp = tempfile::tempdir().expect("a temporary folder");
    let signer = pages(Path::new(env!("CARGO_BIN_EXE_canary-sign")), tmp.path());
    let verifier_dir = tmp.path().join("verifier");
    std::fs::create_dir(&verifier_dir).expect("folder");
    let verifier = pages(&util::verifier_bin(), &verifier_dir);
    let names = |ps: &[std::path::PathBuf]| -> Vec<String> {
        ps.iter()
            .filter_map(|p| p.file_name()?.to_str().map(str::to_owned))
            .collect()
    };
    let (signer_names, verifier_names) = (names(&signer), names(&verifier));
    for want in [
        "canary-sign.1",
        "canary-sign-keygen.1",
        "canary-sign-sign.1",
        "canary-sign-publish.1",
        "canary-sign-incident-new.1",
        "canary-sign-rotate.1",
    ] {
        assert!(
            signer_names.contains(&want.to_owned()),
            "{want}: {signer_names:?}"
        );
    }
    for want in [
        "canary.1",
        "canary-verify.1",
        "canary-show.1",
        "canary-watch.1",
        "canary-trust-add.1",
        "canary-trust-remove.1",
    ] {
        assert!(
            verifier_names.contains(&want.to_owned()),
            "{want}: {verifier_names:?}"
        );
    }
    for page in signer.iter().chain(verifier.iter()) {
        let out = Command::new("groff")
            .args(["-man", "-Tutf8", "-ww", "-z"])
            .arg(page)
            .output()
            .expect("groff runs (Debian: apt-get install groff-base)");
        let warnings = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && warnings.trim().is_empty(),
            "{}: {warnings}",
            page.display()
        );
        // And `man` shows it (the page is a real manual page, not only roff).
        let shown = Command::new("man")
            .args(["-l", "-P", "cat"])
            .arg(page)
            .env("MANWIDTH", "80")
            .output()
            .expect("man runs (Debian: apt-get install man-db)");
        assert!(shown.status.success(), "{}", page.display());
        assert!(
            String::from_utf8_lossy(&shown.stdout).contains("NAME"),
            "{}",
            page.display()
        );
    }
}
