//! Passphrases come from a file or an interactive prompt, never from argv or
//! the environment, and are wiped from memory after use.

use std::io::IsTerminal as _;
use std::path::Path;

use anyhow::{Context as _, Result, bail};
use canary_core::Zeroizing;

/// The largest passphrase file read (a passphrase is one line).
const MAX_PASSPHRASE_FILE: u64 = 64 * 1024;

/// Reads the passphrase: the first line of `file` when given (`-` is not
/// special; use `/dev/stdin` to pipe one), else a prompt on the terminal,
/// asked twice when `confirm`, with `prompt`.
pub fn read(file: Option<&Path>, confirm: bool, prompt: &str) -> Result<Zeroizing<Vec<u8>>> {
    let pass = match file {
        Some(path) => {
            // A regular file of a sane size (or /dev/stdin, named as such):
            // a FIFO would hang, a huge file would be read whole.
            let piped = path == Path::new("/dev/stdin");
            if !piped {
                let meta = std::fs::metadata(path)
                    .with_context(|| format!("cannot read passphrase file {}", path.display()))?;
                if !meta.is_file() {
                    bail!(
                        "passphrase file {} is not a regular file (to pipe a passphrase, pass \
                         --passphrase-file /dev/stdin)",
                        path.display()
                    );
                }
                if meta.len() > MAX_PASSPHRASE_FILE {
                    bail!(
                        "passphrase file {} is {} bytes, more than {MAX_PASSPHRASE_FILE}: is it the \
                         right file?",
                        path.display(),
                        meta.len()
                    );
                }
            }
            let mut raw = Zeroizing::new(Vec::new());
            {
                use std::io::Read as _;
                std::fs::File::open(path)
                    .and_then(|f| f.take(MAX_PASSPHRASE_FILE + 1).read_to_end(&mut raw))
                    .with_context(|| format!("cannot read passphrase file {}", path.display()))?;
            }
            if raw.len() as u64 > MAX_PASSPHRASE_FILE {
                bail!(
                    "passphrase file {} holds more than {MAX_PASSPHRASE_FILE} bytes",
                    path.display()
                );
            }
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
                rpassword::prompt_password(prompt).context("cannot read the passphrase")?,
            );
            if confirm {
                let again = Zeroizing::new(
                    rpassword::prompt_password("The same passphrase again: ")
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
