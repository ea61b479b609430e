//! No copy of a secret key's seed, or of the key derived from its
//! passphrase, is left in the signer's memory when it finishes `keygen` or
//! `sign` (zeroized where it lived, never copied elsewhere).
//!
//! The real binary runs under ptrace and is stopped at its exit (after
//! `main` returned and every destructor ran, before the kernel frees the
//! memory); the test copies every readable mapping from
//! `/proc/<pid>/mem` and searches it. The seed and the derived key are then
//! worked out from the key file and the passphrase by the test itself.
#![cfg(target_os = "linux")]
// Helpers outside `#[test]` functions report failures by panicking.
#![allow(clippy::panic)]

mod util;

use std::io::Read as _;
use std::os::unix::fs::FileExt as _;
use std::path::Path;

use base64::Engine as _;
use chacha20poly1305::aead::{Aead as _, KeyInit as _, Payload};
use util::Scratch;

const PASS: &str = "a passphrase for the memory test";

/// Every readable mapping of a process stopped at its exit, and its exit
/// code.
struct Dump {
    code: i32,
    regions: Vec<(String, Vec<u8>)>,
}

impl Dump {
    /// The mappings that hold `needle`, by name.
    fn holders(&self, needle: &[u8]) -> Vec<String> {
        assert!(!needle.is_empty());
        self.regions
            .iter()
            .filter(|(_, bytes)| bytes.windows(needle.len()).any(|w| w == needle))
            .map(|(name, _)| name.clone())
            .collect()
    }

    fn bytes(&self) -> usize {
        self.regions.iter().map(|(_, b)| b.len()).sum()
    }
}

/// Runs `canary-sign ARGS` in `dir` with `stdin` as its standard input,
/// and stops it at its exit to copy its memory. The signer waits for the
/// passphrase on its standard input, so the trace is attached before any
/// secret exists.
fn run_stopped_at_exit(dir: &Path, args: &[&str], stdin: &str) -> Dump {
    use nix::sys::ptrace;
    use nix::sys::wait::{WaitStatus, waitpid};
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_canary-sign"))
        .args(args)
        .current_dir(dir)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("canary-sign starts");
    let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id()).expect("pid"));
    ptrace::seize(
        pid,
        ptrace::Options::PTRACE_O_TRACEEXIT | ptrace::Options::PTRACE_O_EXITKILL,
    )
    .expect("ptrace is allowed on a child process (this test needs it)");
    {
        use std::io::Write as _;
        let mut input = child.stdin.take().expect("stdin");
        input.write_all(stdin.as_bytes()).expect("write stdin");
    }
    loop {
        match waitpid(pid, None).expect("waitpid") {
            WaitStatus::PtraceEvent(_, _, event)
                if event == ptrace::Event::PTRACE_EVENT_EXIT as i32 =>
            {
                break;
            }
            WaitStatus::Stopped(_, signal) => ptrace::cont(pid, signal).expect("continue"),
            WaitStatus::Exited(..) | WaitStatus::Signaled(..) => {
                panic!("canary-sign ended without the exit stop")
            }
            _ => ptrace::cont(pid, None).expect("continue"),
        }
    }
    let mut maps = String::new();
    std::fs::File::open(format!("/proc/{pid}/maps"))
        .and_then(|mut f| f.read_to_string(&mut maps))
        .expect("read maps");
    let mem = std::fs::File::open(format!("/proc/{pid}/mem")).expect("open mem");
    let mut regions = Vec::new();
    for line in maps.lines() {
        let mut fields = line.split_whitespace();
        let (Some(range), Some(perms)) = (fields.next(), fields.next()) else {
            continue;
        };
        let name = fields.nth(3).unwrap_or("[anonymous]").to_owned();
        if !perms.starts_with('r') || name == "[vvar]" || name == "[vsyscall]" {
            continue;
        }
        let (start, end) = range.split_once('-').expect("range");
        let start = u64::from_str_radix(start, 16).expect("start");
        let end = u64::from_str_radix(end, 16).expect("end");
        let mut bytes = vec![0u8; usize::try_from(end - start).expect("size")];
        if mem.read_exact_at(&mut bytes, start).is_ok() {
            regions.push((name, bytes));
        }
    }
    ptrace::cont(pid, None).expect("continue to the end");
    let status = child.wait().expect("wait");
    Dump {
        code: status.code().unwrap_or(-1),
        regions,
    }
}

/// The seed and the passphrase-derived key of an encrypted key file.
fn secrets_of(key_file: &str, passphrase: &str) -> ([u8; 32], [u8; 32]) {
    let lines: Vec<&str> = key_file.lines().collect();
    let field = |line: &str, name: &str| {
        line.split_whitespace()
            .find_map(|f| f.strip_prefix(&format!("{name}=")))
            .unwrap_or_else(|| panic!("no {name} in {line}"))
            .to_owned()
    };
    let b64 = |s: &str| {
        base64::engine::general_purpose::STANDARD
            .decode(s)
            .expect("base64")
    };
    let kdf = lines[2];
    let params = argon2::Params::new(
        field(kdf, "m").parse().expect("m"),
        field(kdf, "t").parse().expect("t"),
        field(kdf, "p").parse().expect("p"),
        Some(32),
    )
    .expect("params");
    let mut derived = [0u8; 32];
    argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
        .hash_password_into(
            passphrase.as_bytes(),
            &b64(&field(kdf, "salt")),
            &mut derived,
        )
        .expect("argon2");
    let nonce = b64(&field(lines[3], "nonce"));
    let header_len: usize = lines[..4].iter().map(|l| l.len() + 1).sum();
    let sealed = b64(lines[4].strip_prefix("secret ").expect("secret line"));
    let cipher = chacha20poly1305::XChaCha20Poly1305::new_from_slice(&derived).expect("key");
    let nonce = chacha20poly1305::XNonce::try_from(nonce.as_slice()).expect("nonce");
    let seed = cipher
        .decrypt(
            &nonce,
            Payload {
                msg: &sealed,
                aad: &key_file.as_bytes()[..header_len],
            },
        )
        .expect("the test decrypts the key");
    (seed.try_into().expect("32 bytes"), derived)
}

/// Notes in `found` where `secret` is still in the dump. (The probe is
/// known to work: the callers check it finds the public key.)
fn look_for(found: &mut Vec<String>, dump: &Dump, what: &str, secret: &[u8; 32]) {
    let holders = dump.holders(secret);
    if !holders.is_empty() {
        found.push(format!(
            "{what} is still in the signer's memory at exit, in {holders:?} ({} bytes searched)",
            dump.bytes()
        ));
    }
}

#[test]
fn keygen_and_sign_leave_no_seed_or_derived_key_in_memory() {
    let s = Scratch::new();

    // keygen, stopped at its exit.
    let dump = run_stopped_at_exit(
        s.root(),
        &[
            "keygen",
            "--name",
            "alice",
            "--dir",
            "keys",
            "--passphrase-file",
            "/dev/stdin",
        ],
        &format!("{PASS}\n"),
    );
    assert_eq!(dump.code, 0, "keygen succeeds");
    let key_file = s.read_string("keys/alice.key");
    let (seed, derived) = secrets_of(&key_file, PASS);
    let public = s.read_string("keys/alice.pub");
    let public_b64 = public
        .split_whitespace()
        .next()
        .and_then(|k| k.strip_prefix("ed25519:"))
        .expect("public key");
    // The search finds what is there: the public key, in the text it wrote.
    assert!(
        !dump.holders(public_b64.as_bytes()).is_empty(),
        "the probe does not see the signer's memory"
    );
    let mut found = Vec::new();
    look_for(&mut found, &dump, "keygen: the seed", &seed);
    look_for(
        &mut found,
        &dump,
        "keygen: the passphrase-derived key",
        &derived,
    );

    // sign, stopped at its exit.
    s.init_org(&["keys/alice.pub"], 1);
    s.draft("2026-01-05T10:00:00Z", "draft.json");
    let dump = run_stopped_at_exit(
        s.root(),
        &[
            "sign",
            "draft.json",
            "--dir",
            "org",
            "--at",
            "2026-01-05T10:00:00Z",
            "--key",
            "keys/alice.key",
            "--passphrase-file",
            "/dev/stdin",
        ],
        &format!("{PASS}\n"),
    );
    assert_eq!(dump.code, 0, "sign succeeds");
    assert!(s.exists("org/statements/000001.json"));
    assert!(
        !dump.holders(public_b64.as_bytes()).is_empty(),
        "the probe sees the memory"
    );
    look_for(&mut found, &dump, "sign: the seed", &seed);
    look_for(
        &mut found,
        &dump,
        "sign: the passphrase-derived key",
        &derived,
    );
    assert!(found.is_empty(), "{}", found.join("\n"));
}
