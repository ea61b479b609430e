//! The least a verifier of one statement does, for `scripts/bench`'s
//! start-up floor: read the envelope and the trust file, take the first
//! `ed25519:` key in it, parse the DSSE envelope and `verify_strict` its
//! first signature. No policy, dates, payload parse or output beyond one
//! word: whatever start-up costs this program has, every verifier built
//! the same way (same toolchain, same profile, same linking) has too.
//!
//! ```text
//! min_verify STATEMENT TRUST    prints OK and exits 0, or BAD and exits 1
//! ```

use std::process::ExitCode;

use canary_core::{Envelope, PublicKey};

fn main() -> ExitCode {
    match run() {
        Ok(true) => {
            println!("OK");
            ExitCode::SUCCESS
        }
        Ok(false) => {
            println!("BAD");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("min_verify: {e}");
            ExitCode::from(2)
        }
    }
}

fn run() -> Result<bool, String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [statement, trust] = args.as_slice() else {
        return Err("usage: min_verify STATEMENT TRUST".to_owned());
    };
    let bytes = std::fs::read(statement).map_err(|e| format!("{statement}: {e}"))?;
    let trust_text = std::fs::read_to_string(trust).map_err(|e| format!("{trust}: {e}"))?;
    let key: PublicKey = trust_text
        .split('"')
        .find(|s| s.starts_with("ed25519:"))
        .ok_or_else(|| format!("{trust}: no ed25519: key"))?
        .parse()
        .map_err(|e| format!("{trust}: {e}"))?;
    let envelope = Envelope::parse(&bytes).map_err(|e| format!("{statement}: {e}"))?;
    let signature = envelope
        .signatures()
        .first()
        .ok_or_else(|| format!("{statement}: no signature"))?;
    Ok(key.verify_strict(&envelope.pae(), &signature.sig))
}
