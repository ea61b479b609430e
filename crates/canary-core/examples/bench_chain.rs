//! Inputs and the baseline for `scripts/bench` (see the README, "Performance").
//!
//! ```text
//! bench_chain make DIR N [SIZE]      write a signed chain of N statements
//! bench_chain baseline DIR [ROUNDS]  time a bare ed25519-dalek verify_strict
//!                                    loop over that chain's signatures
//! bench_chain floor DIR [ROUNDS]     time the least a verifier of that layout
//!                                    does per statement: read its file,
//!                                    parse the envelope, hash the payload,
//!                                    verify_strict
//! ```
//!
//! `make` writes the publish layout of DESIGN §9 with canary-core:
//! `DIR/.well-known/canary.json` (the latest statement) and
//! `DIR/.well-known/canary/statements/NNNNNN.json` (sequence 1..=N, each naming
//! the previous payload digest, dated a day apart, signed by one key), plus
//! `DIR/trust.toml` (the trust policy pinning that key) and `DIR/at.txt` (a
//! `--at` time at which the latest statement is valid and fresh). Every
//! envelope is padded to about SIZE bytes (default 2048).
//!
//! `baseline` reads the same envelopes and computes their PAE bytes up front,
//! then times nothing but `ed25519_dalek::VerifyingKey::verify_strict` over
//! all of them, ROUNDS times (default 5), and prints one line:
//! `n=... best_s=... median_s=... per_sec=...` (per_sec from the median).
//!
//! `floor` times, per statement, what no verifier of a one-file-per-statement
//! archive can skip: `std::fs::read` of the file (from the page cache after
//! the first round), the DSSE envelope parse, the payload's SHA-256 (the
//! next statement's link) and `verify_strict` of the PAE bytes. It leaves out
//! everything canary adds: the payload's strict parse and canonical check,
//! the document rules, the links. Same output line as `baseline`.

#[path = "../benches/support/chain.rs"]
mod chain;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use canary_core::Envelope;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match args.as_slice() {
        ["make", dir, n, rest @ ..] if rest.len() <= 1 => {
            let size = rest.first().map_or(Ok(chain::SIZE), |s| s.parse());
            match (n.parse(), size) {
                (Ok(n), Ok(size)) if n >= 1 => make(Path::new(dir), n, size),
                _ => Err("N must be a positive integer and SIZE a byte count".to_owned()),
            }
        }
        ["baseline", dir, rest @ ..] if rest.len() <= 1 => {
            match rest.first().map_or(Ok(5), |s| s.parse()) {
                Ok(rounds) if rounds >= 1 => baseline(Path::new(dir), rounds),
                _ => Err("ROUNDS must be a positive integer".to_owned()),
            }
        }
        ["floor", dir, rest @ ..] if rest.len() <= 1 => {
            match rest.first().map_or(Ok(5), |s| s.parse()) {
                Ok(rounds) if rounds >= 1 => floor(Path::new(dir), rounds),
                _ => Err("ROUNDS must be a positive integer".to_owned()),
            }
        }
        _ => Err(
            "usage: bench_chain make DIR N [SIZE] | bench_chain baseline DIR [ROUNDS] \
             | bench_chain floor DIR [ROUNDS]"
                .to_owned(),
        ),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench_chain: {e}");
            ExitCode::FAILURE
        }
    }
}

fn statements_dir(dir: &Path) -> PathBuf {
    dir.join(".well-known/canary/statements")
}

fn write(path: &Path, bytes: impl AsRef<[u8]>) -> Result<(), String> {
    fs::write(path, bytes).map_err(|e| format!("{}: {e}", path.display()))
}

fn make(dir: &Path, n: u64, size: usize) -> Result<(), String> {
    let key = chain::key();
    let statements = statements_dir(dir);
    fs::create_dir_all(&statements).map_err(|e| format!("{}: {e}", statements.display()))?;
    let mut latest = Vec::new();
    let mut failed = Ok(());
    chain::for_each_envelope(n, size, &key, |sequence, envelope| {
        if failed.is_ok() {
            failed = write(&statements.join(format!("{sequence:06}.json")), &envelope);
        }
        latest = envelope;
    });
    failed?;
    write(&dir.join(".well-known/canary.json"), &latest)?;
    write(&dir.join("trust.toml"), chain::policy_toml(&key))?;
    // Written last: its presence marks a complete chain.
    write(&dir.join("at.txt"), format!("{}\n", chain::fresh_at(n)))?;
    println!(
        "wrote {n} statements ({} bytes each) to {}",
        latest.len(),
        dir.display()
    );
    Ok(())
}

fn baseline(dir: &Path, rounds: usize) -> Result<(), String> {
    let key = ed25519_dalek::VerifyingKey::from_bytes(chain::key().public_key().as_bytes())
        .map_err(|e| e.to_string())?;
    // Everything but the verification itself happens up front.
    let mut work: Vec<(Vec<u8>, ed25519_dalek::Signature)> = Vec::new();
    for sequence in 1.. {
        let path = statements_dir(dir).join(format!("{sequence:06}.json"));
        let Ok(bytes) = fs::read(&path) else { break };
        let env = Envelope::parse(&bytes).map_err(|e| format!("{}: {e}", path.display()))?;
        let sig = env.signatures().first().ok_or("no signature")?.sig;
        work.push((env.pae(), ed25519_dalek::Signature::from_bytes(&sig)));
    }
    if work.is_empty() {
        return Err(format!(
            "no statements under {}",
            statements_dir(dir).display()
        ));
    }
    let mut times = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let start = Instant::now();
        for (pae, sig) in &work {
            if key.verify_strict(std::hint::black_box(pae), sig).is_err() {
                return Err("a signature does not verify".to_owned());
            }
        }
        times.push(start.elapsed().as_secs_f64());
    }
    report(work.len(), times);
    Ok(())
}

fn floor(dir: &Path, rounds: usize) -> Result<(), String> {
    let key = ed25519_dalek::VerifyingKey::from_bytes(chain::key().public_key().as_bytes())
        .map_err(|e| e.to_string())?;
    let statements = statements_dir(dir);
    let paths: Vec<PathBuf> = (1..)
        .map(|sequence| statements.join(format!("{sequence:06}.json")))
        .take_while(|path| path.is_file())
        .collect();
    if paths.is_empty() {
        return Err(format!("no statements under {}", statements.display()));
    }
    let mut times = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let start = Instant::now();
        let mut link = canary_core::Digest::of(b"");
        for path in &paths {
            let bytes = fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
            let env = Envelope::parse(&bytes).map_err(|e| format!("{}: {e}", path.display()))?;
            let sig = env.signatures().first().ok_or("no signature")?.sig;
            link = canary_core::Digest::of(env.payload());
            let sig = ed25519_dalek::Signature::from_bytes(&sig);
            if key.verify_strict(&env.pae(), &sig).is_err() {
                return Err(format!("{}: the signature does not verify", path.display()));
            }
        }
        std::hint::black_box(link);
        times.push(start.elapsed().as_secs_f64());
    }
    report(paths.len(), times);
    Ok(())
}

/// The one output line of `baseline` and `floor`.
fn report(n: usize, mut times: Vec<f64>) {
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];
    println!(
        "n={n} best_s={:.6} median_s={:.6} per_sec={:.1}",
        times[0],
        median,
        n as f64 / median
    );
}
