//! OpenPGP signatures checked by `gpgv`, as apt checks its archives: a
//! keyring made from the pinned certificates in a fresh temporary folder
//! (also gpgv's home, so nothing of the user's GnuPG is read or written),
//! `--status-fd` for machine-readable results, read by
//! [`canary_core::legacy::gpgv`]. No OpenPGP packet is parsed here.
//!
//! One keyring per pinned certificate file: a signature counts for the
//! file whose keyring verifies it, so the threshold counts distinct pinned
//! files and distinct primary keys.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{Context as _, Result, bail};
use base64::Engine as _;
use canary_core::legacy::gpgv::parse_status;
use canary_core::{TimeDelta, Timestamp};

/// What the signatures came to.
pub struct Checked {
    /// The certificates (primary key fingerprints) whose signatures count,
    /// one per pinned file at most.
    pub signers: Vec<String>,
    /// Why each other signature did not count.
    pub rejected: Vec<String>,
    /// The signed text: the detached text as given, or the clearsigned
    /// body as gpgv wrote it out.
    pub text: Option<Vec<u8>>,
}

/// The signed bytes, or the clearsigned message.
pub enum Signed<'a> {
    /// Text and its detached signatures (`None`: not found, with where).
    Detached(&'a [u8], &'a [Result<Vec<u8>, String>]),
    /// A clearsigned message.
    Clear(&'a [u8]),
}

/// A certificate file as gpgv reads a keyring: binary OpenPGP packets.
/// ASCII armor (RFC 9580 §6) is removed; the packets inside are not looked at.
pub fn dearmor(bytes: &[u8]) -> Result<Vec<u8>> {
    let text = match std::str::from_utf8(bytes) {
        Ok(t) if t.trim_start().starts_with("-----BEGIN PGP ") => t,
        _ => return Ok(bytes.to_vec()),
    };
    let mut out = Vec::new();
    let mut lines = text.lines().map(|l| l.trim_end_matches('\r'));
    let mut blocks = 0;
    while let Some(line) = lines.next() {
        if !line.starts_with("-----BEGIN PGP PUBLIC KEY BLOCK-----") {
            if line.starts_with("-----BEGIN PGP ") {
                bail!("an armored block that is not a public key ({line})");
            }
            continue;
        }
        let mut body: Vec<&str> = Vec::new();
        let mut ended = false;
        for l in lines.by_ref() {
            if l.starts_with("-----END PGP PUBLIC KEY BLOCK-----") {
                ended = true;
                break;
            }
            body.push(l);
        }
        if !ended {
            bail!("an armored public key block without its END line");
        }
        // Armor headers run to the first blank line.
        let data = match body.iter().position(|l| l.trim().is_empty()) {
            Some(blank) => &body[blank + 1..],
            None => &body[..],
        };
        let b64: String = data
            .iter()
            .filter(|l| !l.starts_with('='))
            .flat_map(|l| l.trim().chars())
            .collect();
        let packets = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .context("bad base64 in the armored public key")?;
        out.extend_from_slice(&packets);
        blocks += 1;
    }
    if blocks == 0 {
        bail!("no armored public key block");
    }
    Ok(out)
}

/// The most a gpgv run may take: an honest one takes milliseconds, even
/// for RSA-4096; a compressed message built to expand for ever is stopped.
const GPGV_DEADLINE: std::time::Duration = std::time::Duration::from_secs(20);

/// The most status output read from one gpgv run.
const STATUS_CAP: u64 = 64 * 1024;

/// A gpgv run: [`spawn_gpgv`] starts it, [`finish`] collects it. Dropped
/// unfinished (an early return), it is stopped.
struct Run {
    child: std::process::Child,
    status: Option<std::thread::JoinHandle<std::io::Result<Vec<u8>>>>,
    /// Where gpgv writes the clearsigned body, and the most it may write.
    body: Option<(std::path::PathBuf, u64)>,
}

impl Drop for Run {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Starts gpgv once: its status lines (`--status-fd 1`) read through a
/// pipe by a thread, at most [`STATUS_CAP`] bytes; for a clearsigned
/// message, the body it verified written to `body` (at most `cap` bytes,
/// which [`finish`] watches). gpgv's own messages are not read. Runs are
/// started together and collected after, so the checks of several
/// signatures and keyrings overlap.
fn spawn_gpgv(
    home: &Path,
    keyring: &Path,
    args: &[&Path],
    body: Option<(std::path::PathBuf, u64)>,
) -> Result<Run> {
    spawn("gpgv", home, keyring, args, body)
}

/// [`spawn_gpgv`] with the program named (tests run stand-ins).
fn spawn(
    program: &str,
    home: &Path,
    keyring: &Path,
    args: &[&Path],
    body: Option<(std::path::PathBuf, u64)>,
) -> Result<Run> {
    let mut cmd = Command::new(program);
    cmd.arg("--homedir")
        .arg(home)
        .arg("--keyring")
        .arg(keyring)
        .arg("--status-fd")
        .arg("1")
        .env("LC_ALL", "C")
        .env_remove("GNUPGHOME")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    if let Some((path, _)) = &body {
        cmd.arg("--output").arg(path);
    }
    cmd.arg("--");
    cmd.args(args);
    let mut child = cmd.spawn().map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            anyhow::anyhow!(
                "{program} is not installed: OpenPGP canaries are checked with gpgv (Debian and Ubuntu: apt install gpgv)"
            )
        } else {
            anyhow::Error::new(e).context(format!("cannot run {program}"))
        }
    })?;
    let status = child.stdout.take().map(|pipe| {
        std::thread::spawn(move || {
            use std::io::Read as _;
            let mut bytes = Vec::new();
            pipe.take(STATUS_CAP).read_to_end(&mut bytes).map(|_| bytes)
        })
    });
    Ok(Run {
        child,
        status,
        body,
    })
}

/// How a gpgv run ended.
enum Finished {
    /// Its status lines, and the body it wrote.
    Done(String, Option<Vec<u8>>),
    /// Stopped, and why: the input is not an ordinary signed text.
    Stopped(String),
}

/// Waits for a gpgv run, stopping it once its body passes its cap or it
/// runs past [`GPGV_DEADLINE`] (counted from `started`).
fn finish(run: Run, started: std::time::Instant) -> Result<Finished> {
    finish_within(run, started, GPGV_DEADLINE)
}

/// [`finish`] with the deadline given (tests use a short one).
fn finish_within(
    mut run: Run,
    started: std::time::Instant,
    deadline: std::time::Duration,
) -> Result<Finished> {
    let too_big = |run: &Run| {
        run.body
            .as_ref()
            .is_some_and(|(path, cap)| std::fs::metadata(path).is_ok_and(|m| m.len() > *cap))
    };
    // The body is checked once more after the run ends: one written
    // whole between two looks is refused all the same.
    loop {
        let ended = run
            .child
            .try_wait()
            .context("cannot wait for gpgv")?
            .is_some();
        if too_big(&run) {
            return Ok(Finished::Stopped(format!(
                "gpgv wrote more than a canary's text can be ({} KiB): not an ordinary signed text",
                canary_core::legacy::TEXT_CAP / 1024
            )));
        }
        if ended {
            break;
        }
        if started.elapsed() > deadline {
            return Ok(Finished::Stopped(format!(
                "gpgv was stopped: it ran for longer than any signature check takes ({} s): \
                 not an ordinary signed text",
                deadline.as_secs()
            )));
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    let status = run
        .status
        .take()
        .map(|t| t.join())
        .ok_or_else(|| anyhow::anyhow!("cannot read gpgv's status"))?
        .map_err(|_| anyhow::anyhow!("cannot read gpgv's status"))?
        .context("cannot read gpgv's status")?;
    let body = run
        .body
        .as_ref()
        .and_then(|(path, _)| std::fs::read(path).ok());
    Ok(Finished::Done(
        String::from_utf8_lossy(&status).into_owned(),
        body,
    ))
}

/// What `check` comes to when the input is refused before any signature
/// counts: no signer, and why.
fn refused(why: String) -> Checked {
    Checked {
        signers: Vec::new(),
        rejected: vec![why],
        text: None,
    }
}

/// Checks the signatures against each pinned certificate file.
pub fn check(
    certs: &[(String, Vec<u8>)],
    signed: &Signed<'_>,
    now: Timestamp,
    max_skew: TimeDelta,
) -> Result<Checked> {
    let tmp = tempfile::Builder::new()
        .prefix("canary-gpgv-")
        .tempdir()
        .context("cannot create a temporary folder for gpgv")?;
    let home = tmp.path().join("home");
    std::fs::create_dir(&home).context("cannot create gpgv's home folder")?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let _ = std::fs::set_permissions(&home, std::fs::Permissions::from_mode(0o700));
    }
    let mut keyrings = Vec::new();
    for (i, (name, bytes)) in certs.iter().enumerate() {
        let packets = dearmor(bytes).with_context(|| format!("pinned key {name}"))?;
        let path = tmp.path().join(format!("keyring-{i}.gpg"));
        std::fs::write(&path, packets).context("cannot write the keyring for gpgv")?;
        keyrings.push(path);
    }

    let started = std::time::Instant::now();
    // (file index, primary fingerprint) of every signature that counts.
    let mut counted: Vec<(usize, String)> = Vec::new();
    let mut rejected = Vec::new();
    let text;
    match signed {
        Signed::Detached(data, sigs) => {
            let data_path = tmp.path().join("text");
            std::fs::write(&data_path, data).context("cannot write the text for gpgv")?;
            let mut runs = Vec::new();
            for (j, sig) in sigs.iter().enumerate() {
                let sig = match sig {
                    Ok(s) => s,
                    Err(missing) => {
                        runs.push((j, Err(missing.clone())));
                        continue;
                    }
                };
                if !is_signature(sig) {
                    runs.push((
                        j,
                        Err("not an OpenPGP signature (a signature packet, binary or armored as PGP SIGNATURE)".to_owned()),
                    ));
                    continue;
                }
                let sig_path = tmp.path().join(format!("sig-{j}"));
                std::fs::write(&sig_path, sig).context("cannot write a signature for gpgv")?;
                let mut children = Vec::new();
                for keyring in &keyrings {
                    children.push(spawn_gpgv(
                        &home,
                        keyring,
                        &[sig_path.as_path(), data_path.as_path()],
                        None,
                    )?);
                }
                runs.push((j, Ok(children)));
            }
            for (j, run) in runs {
                let children = match run {
                    Ok(c) => c,
                    Err(missing) => {
                        rejected.push(format!("signature {}: {missing}", j + 1));
                        continue;
                    }
                };
                let mut reasons = Vec::new();
                let mut any = false;
                for (i, child) in children.into_iter().enumerate() {
                    let status = match finish(child, started)? {
                        Finished::Done(status, _) => status,
                        Finished::Stopped(why) => return Ok(refused(why)),
                    };
                    if parse_status(&status).plaintext {
                        reasons.push((
                            true,
                            "the signature file carries its own text: not a detached signature"
                                .to_owned(),
                        ));
                        continue;
                    }
                    any |= judge(&status, i, now, max_skew, &mut counted, &mut reasons);
                }
                if !any {
                    rejected.push(format!("signature {}: {}", j + 1, best_reason(&reasons)));
                }
            }
            text = Some(data.to_vec());
        }
        Signed::Clear(message) => {
            // Only the cleartext signature framework (RFC 9580 §7): gpgv
            // would also take a signed (and compressed) OpenPGP message.
            if !is_clearsigned(message) {
                return Ok(refused(
                    "the text is not one clearsigned block (-----BEGIN PGP SIGNED MESSAGE----- and its signature, and no other OpenPGP data)"
                        .to_owned(),
                ));
            }
            let msg_path = tmp.path().join("message.asc");
            std::fs::write(&msg_path, message).context("cannot write the text for gpgv")?;
            let mut reasons = Vec::new();
            let mut bodies = BTreeSet::new();
            let mut children = Vec::new();
            for (i, keyring) in keyrings.iter().enumerate() {
                children.push(spawn_gpgv(
                    &home,
                    keyring,
                    &[msg_path.as_path()],
                    Some((
                        tmp.path().join(format!("body-{i}")),
                        canary_core::legacy::TEXT_CAP,
                    )),
                )?);
            }
            for (i, child) in children.into_iter().enumerate() {
                let (status, body) = match finish(child, started)? {
                    Finished::Done(status, body) => (status, body),
                    Finished::Stopped(why) => return Ok(refused(why)),
                };
                if judge(&status, i, now, max_skew, &mut counted, &mut reasons)
                    && let Some(b) = body
                {
                    bodies.insert(b);
                }
            }
            if bodies.len() > 1 {
                bail!("gpgv wrote different texts for one clearsigned message");
            }
            text = bodies.into_iter().next();
            if counted.is_empty() {
                rejected.push(best_reason(&reasons));
            }
        }
    }

    // Distinct files, distinct certificates.
    let mut files = BTreeSet::new();
    let mut primaries = BTreeSet::new();
    let mut signers = Vec::new();
    for (i, primary) in counted {
        if files.contains(&i) || primaries.contains(&primary) {
            continue;
        }
        files.insert(i);
        primaries.insert(primary.clone());
        signers.push(primary);
    }
    Ok(Checked {
        signers,
        rejected,
        text,
    })
}

/// Whether `message` is one clearsigned block (RFC 9580 §7), with any text
/// around it: it begins as text (not a binary OpenPGP packet, whose first
/// byte has its high bit set, unless the whole is UTF-8 text), and its
/// armor header lines are exactly a signed message's and then its
/// signature's. gpgv also takes signed,
/// compressed OpenPGP messages, armored or not: those are refused here,
/// before gpgv sees them.
fn is_clearsigned(message: &[u8]) -> bool {
    // Text in UTF-8 may begin with any letter; binary data is not UTF-8.
    if message.first().is_some_and(|b| *b >= 0x80) && std::str::from_utf8(message).is_err() {
        return false;
    }
    armor_headers(message)
        == [
            b"-----BEGIN PGP SIGNED MESSAGE-----".as_slice(),
            b"-----BEGIN PGP SIGNATURE-----".as_slice(),
        ]
}

/// The armor header lines (`-----BEGIN PGP ...`) of `bytes`, in order.
fn armor_headers(bytes: &[u8]) -> Vec<&[u8]> {
    bytes
        .split(|&b| b == b'\n')
        .map(<[u8]>::trim_ascii_end)
        .filter(|line| line.starts_with(b"-----BEGIN PGP "))
        .collect()
}

/// Whether `sig` is shaped as a detached signature: binary, its first
/// packet a signature packet (RFC 9580 §4.2: tag 2, in the old or the new
/// header format); or armored, its only armor header `PGP SIGNATURE`.
/// Anything else (a signed, compressed message) is refused before gpgv
/// would expand it. Only the first byte is looked at, no packet is parsed.
fn is_signature(sig: &[u8]) -> bool {
    match sig.first() {
        // Old format: 10 tttt ll, tag 2; new format: 11 tttttt, tag 2.
        Some(&b) if b >= 0x80 => b & 0xfc == 0x88 || b == 0xc2,
        Some(_) => armor_headers(sig) == [b"-----BEGIN PGP SIGNATURE-----".as_slice()],
        None => false,
    }
}

/// Adds the signatures of one gpgv run that count; true if any did.
fn judge(
    status: &str,
    file: usize,
    now: Timestamp,
    max_skew: TimeDelta,
    counted: &mut Vec<(usize, String)>,
    reasons: &mut Vec<(bool, String)>,
) -> bool {
    let report = parse_status(status);
    if let Some(f) = report.failure {
        reasons.push((true, format!("gpgv refused the input ({f})")));
        return false;
    }
    if report.signatures.is_empty() {
        reasons.push((true, "no OpenPGP signature found".to_owned()));
        return false;
    }
    let mut any = false;
    for sig in &report.signatures {
        match sig.counts(now, max_skew) {
            Ok(primary) => {
                counted.push((file, primary));
                any = true;
            }
            // A signature by another pinned file's key: said only if no
            // file's keyring verifies it.
            Err(reason) => reasons.push((!sig.error || sig.fingerprint.is_some(), reason)),
        }
    }
    any
}

/// The most telling reason: one about a pinned key, before "not pinned".
fn best_reason(reasons: &[(bool, String)]) -> String {
    reasons
        .iter()
        .find(|(telling, _)| *telling)
        .or_else(|| reasons.first())
        .map_or_else(|| "not checked".to_owned(), |(_, r)| r.clone())
}

#[cfg(test)]
mod tests {
    use super::{is_clearsigned, is_signature};

    const CLEAR: &str = "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\n1. Text.\n-----BEGIN PGP SIGNATURE-----\n\niQ==\n-----END PGP SIGNATURE-----\n";

    #[test]
    fn a_clearsigned_block_with_text_around_it_is_one() {
        assert!(is_clearsigned(CLEAR.as_bytes()));
        assert!(is_clearsigned(format!("Über uns\n\n{CLEAR}").as_bytes()));
        assert!(is_clearsigned(CLEAR.replace('\n', "\r\n").as_bytes()));
        // Not one: no block, a second message, a signed message after it,
        // binary data first, Latin-1 text (not UTF-8) beginning with a
        // high byte.
        assert!(!is_clearsigned(b""));
        assert!(!is_clearsigned(b"1. Text.\n"));
        assert!(!is_clearsigned(format!("{CLEAR}{CLEAR}").as_bytes()));
        let appended =
            format!("{CLEAR}-----BEGIN PGP MESSAGE-----\n\nowE=\n-----END PGP MESSAGE-----\n");
        assert!(!is_clearsigned(appended.as_bytes()));
        let mut binary = vec![0xa3, 0x01];
        binary.extend_from_slice(CLEAR.as_bytes());
        assert!(!is_clearsigned(&binary));
        let mut latin1 = vec![0xdc, b'b', b'e', b'r', b'\n'];
        latin1.extend_from_slice(CLEAR.as_bytes());
        assert!(!is_clearsigned(&latin1));
    }

    #[test]
    fn a_detached_signature_is_a_signature_packet_or_its_armor() {
        // Old format, tag 2, each length type; new format, tag 2.
        for first in [0x88, 0x89, 0x8a, 0x8b, 0xc2] {
            assert!(is_signature(&[first, 0x00]), "{first:#x}");
        }
        assert!(is_signature(
            b"-----BEGIN PGP SIGNATURE-----\n\niQ==\n-----END PGP SIGNATURE-----\n"
        ));
        // A compressed packet (old tag 8, new tag 8), a one-pass signature
        // (tag 4), a literal packet (tag 11), armored messages, nothing.
        for first in [0xa3, 0xc8, 0x90, 0xcb, 0xac] {
            assert!(!is_signature(&[first, 0x00]), "{first:#x}");
        }
        assert!(!is_signature(
            b"-----BEGIN PGP MESSAGE-----\n\nowE=\n-----END PGP MESSAGE-----\n"
        ));
        assert!(!is_signature(
            b"-----BEGIN PGP SIGNATURE-----\n\niQ==\n-----END PGP SIGNATURE-----\n-----BEGIN PGP MESSAGE-----\n"
        ));
        assert!(!is_signature(b""));
    }

    /// A stand-in for gpgv: a shell script that gets gpgv's arguments.
    #[cfg(unix)]
    struct StandIn {
        dir: tempfile::TempDir,
    }

    #[cfg(unix)]
    impl StandIn {
        fn new(script: &str) -> Self {
            use std::os::unix::fs::PermissionsExt as _;
            let dir = tempfile::tempdir().expect("temporary folder");
            let path = dir.path().join("gpgv");
            std::fs::write(&path, format!("#!/bin/sh\n{script}\n")).expect("write the stand-in");
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
                .expect("make the stand-in executable");
            std::fs::create_dir(dir.path().join("home")).expect("home folder");
            Self { dir }
        }

        /// Starts it as `check` starts gpgv, for a clearsigned text whose
        /// body may be at most `cap` bytes.
        fn spawn(&self, cap: u64) -> super::Run {
            let program = self.dir.path().join("gpgv");
            let program = program.to_str().expect("UTF-8 path");
            let home = self.dir.path().join("home");
            let keyring = self.dir.path().join("keyring.gpg");
            let body = Some((self.dir.path().join("body"), cap));
            // Another test's child may briefly hold the fresh script open
            // (ETXTBSY): try again.
            for _ in 0..50 {
                match super::spawn(program, &home, &keyring, &[Path::new("text")], body.clone()) {
                    Ok(run) => return run,
                    Err(e)
                        if e.downcast_ref::<std::io::Error>().map(std::io::Error::kind)
                            == Some(std::io::ErrorKind::ExecutableFileBusy) =>
                    {
                        std::thread::sleep(std::time::Duration::from_millis(20));
                    }
                    Err(e) => panic!("cannot start the stand-in: {e:#}"),
                }
            }
            panic!("the stand-in stayed busy");
        }
    }

    #[cfg(unix)]
    use super::{Finished, finish_within};
    #[cfg(unix)]
    use std::path::Path;
    #[cfg(unix)]
    use std::time::{Duration, Instant};

    #[cfg(unix)]
    fn stopped_why(finished: Finished) -> String {
        match finished {
            Finished::Stopped(why) => why,
            Finished::Done(status, _) => panic!("not stopped; status {status:?}"),
        }
    }

    #[test]
    #[cfg(unix)]
    fn a_gpgv_run_past_the_deadline_is_stopped_and_killed() {
        let stand_in = StandIn::new("exec sleep 60");
        let run = stand_in.spawn(1024);
        let pid = run.child.id();
        let started = Instant::now();
        let why =
            stopped_why(finish_within(run, started, Duration::from_millis(200)).expect("finished"));
        assert!(why.contains("ran for longer"), "{why}");
        assert!(why.contains("not an ordinary signed text"), "{why}");
        // Stopped, not waited for: well before the 60 s sleep ends.
        assert!(started.elapsed() < Duration::from_secs(30));
        // The child was killed and reaped.
        #[cfg(target_os = "linux")]
        assert!(
            !Path::new(&format!("/proc/{pid}")).exists(),
            "gpgv stand-in {pid} still runs"
        );
        let _ = pid;
    }

    #[test]
    #[cfg(unix)]
    fn a_gpgv_run_writing_a_body_past_its_cap_is_stopped() {
        // Writes 4 KiB of body where 1 KiB is allowed, then waits.
        let stand_in = StandIn::new(
            r#"while [ $# -gt 0 ]; do [ "$1" = --output ] && out=$2; shift; done
head -c 4096 /dev/zero > "$out"
exec sleep 60"#,
        );
        let started = Instant::now();
        let why = stopped_why(
            finish_within(stand_in.spawn(1024), started, Duration::from_secs(60))
                .expect("finished"),
        );
        assert!(why.contains("wrote more than a canary"), "{why}");
        assert!(started.elapsed() < Duration::from_secs(30));

        // The same body from a run that ends at once: refused too.
        let stand_in = StandIn::new(
            r#"while [ $# -gt 0 ]; do [ "$1" = --output ] && out=$2; shift; done
head -c 4096 /dev/zero > "$out""#,
        );
        let why = stopped_why(
            finish_within(
                stand_in.spawn(1024),
                Instant::now(),
                Duration::from_secs(60),
            )
            .expect("finished"),
        );
        assert!(why.contains("wrote more than a canary"), "{why}");
    }

    #[test]
    #[cfg(unix)]
    fn gpgv_status_output_is_read_up_to_its_cap() {
        // A flood of status output: read to the cap, then the pipe closes
        // and the writer ends (it is not left blocked until the deadline).
        let stand_in = StandIn::new("yes '[GNUPG:] NEWSIG'");
        let started = Instant::now();
        match finish_within(stand_in.spawn(1024), started, Duration::from_secs(60))
            .expect("finished")
        {
            Finished::Done(status, _) => {
                assert_eq!(status.len() as u64, super::STATUS_CAP);
                assert!(status.starts_with("[GNUPG:] NEWSIG\n"));
            }
            Finished::Stopped(why) => panic!("stopped: {why}"),
        }
        assert!(started.elapsed() < Duration::from_secs(30));

        // An ordinary run: its status lines and body, as written.
        let stand_in = StandIn::new(
            r#"while [ $# -gt 0 ]; do [ "$1" = --output ] && out=$2; shift; done
printf '1. Text.\n' > "$out"
printf '[GNUPG:] NEWSIG\n[GNUPG:] GOODSIG 0123 someone\n'"#,
        );
        match finish_within(
            stand_in.spawn(1024),
            Instant::now(),
            Duration::from_secs(60),
        )
        .expect("finished")
        {
            Finished::Done(status, body) => {
                assert_eq!(status, "[GNUPG:] NEWSIG\n[GNUPG:] GOODSIG 0123 someone\n");
                assert_eq!(body.as_deref(), Some(&b"1. Text.\n"[..]));
            }
            Finished::Stopped(why) => panic!("stopped: {why}"),
        }
    }
}
