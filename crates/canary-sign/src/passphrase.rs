//! Passphrases come from a file or an interactive prompt, never from argv or
//! the environment, and are wiped from memory after use.

use std::io::IsTerminal as _;
use std::path::Path;

use anyhow::{Context as _, Result, bail};
use canary_core::Zeroizing;

/// Reads the passphrase: the first line of `file` when given (`-` is not
/// special; use `/dev/stdin` to pipe one), else a prompt on the terminal,
/// asked twice when `confirm`.
pub fn read(file: Option<&Path>, confirm: bool) -> Result<Zeroizing<Vec<u8>>> {
    let pass = match file {
        Some(path) => {
            let raw = Zeroizing::new(
                std::fs::read(path)
                    .with_context(|| format!("cannot read passphrase file {}", path.display()))?,
            );
            let line = raw.split(|&b| b == b'\n').next().unwrap_or(&[]);
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            Zeroizing::new(line.to_vec())
        }
        None => {
            if !std::io::stdin().is_terminal() {
                bail!(
                    "a passphrase is needed and there is no terminal to ask it on; \
                     pass --passphrase-file FILE"
                );
            }
            let first = Zeroizing::new(
                rpassword::prompt_password("Passphrase: ").context("cannot read the passphrase")?,
            );
            if confirm {
                let again = Zeroizing::new(
                    rpassword::prompt_password("Passphrase (again): ")
                        .context("cannot read the passphrase")?,
                );
                if *first != *again {
                    bail!("the two passphrases differ; nothing was written");
                }
            }
            Zeroizing::new(first.as_bytes().to_vec())
        }
    };
    if pass.is_empty() {
        bail!("the passphrase is empty; use --unencrypted for a key without one");
    }
    Ok(pass)
}
