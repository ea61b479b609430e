//! The verifier's memory between runs (DESIGN §5 step 9): one JSON file per
//! issuer in the state folder, replaced atomically.

use anyhow::{Context as _, Result, bail};
use canary_core::{RememberedTrust, State};
use std::path::{Path, PathBuf};

/// The state folder: `--state PATH`, or `$XDG_STATE_HOME/canary`
/// (`~/.local/state/canary`).
pub fn default_dir() -> Result<PathBuf> {
    dirs::state_dir()
        .or_else(|| dirs::home_dir().map(|h| h.join(".local/state")))
        .map(|d| d.join("canary"))
        .context("no state folder: set XDG_STATE_HOME or HOME, or pass --state DIR or --no-state")
}

/// The file of `issuer` in `dir`. The issuer comes from a trust policy, not
/// from a document, but is still reduced to a safe file name.
pub fn file_for(dir: &Path, issuer: &str) -> PathBuf {
    let safe: String = issuer
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '_' {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    let safe = safe.trim_start_matches('.');
    dir.join(format!("{}.json", if safe.is_empty() { "_" } else { safe }))
}

/// Reads the state of an issuer, if any. A damaged file is an error, never
/// silently a fresh start (that would undo rollback protection).
pub fn load(path: &Path) -> Result<Option<State>> {
    let text = match std::fs::read(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("cannot read state {}", path.display())),
    };
    let state: State = serde_json::from_slice(&text).with_context(|| {
        format!(
            "state file {} is damaged; inspect it, or remove it to start over (losing rollback protection)",
            path.display()
        )
    })?;
    Ok(Some(state))
}

/// Replaces the state file atomically (temporary file, fsync, rename).
pub fn save(path: &Path, state: &State) -> Result<()> {
    let mut json = serde_json::to_vec_pretty(state)?;
    json.push(b'\n');
    crate::files::write_atomic(path, &json)
}

/// The file holding the rotations followed for an issuer (and the pin they
/// were followed from), beside its state.
pub fn trust_file_for(dir: &Path, issuer: &str) -> PathBuf {
    file_for(dir, issuer).with_extension("trust.json")
}

/// Reads the remembered rotations of an issuer, if any.
pub fn load_trust(path: &Path) -> Result<Option<RememberedTrust>> {
    let bytes = match std::fs::read(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let remembered = serde_json::from_slice(&bytes).with_context(|| {
        format!(
            "remembered key rotations {} are damaged; remove the file to follow the rotations again from the pin",
            path.display()
        )
    })?;
    Ok(Some(remembered))
}

/// Replaces the remembered rotations atomically; `None` forgets them. The
/// file of earlier versions (`<issuer>.trust.toml`, which held no pin) goes.
pub fn save_trust(path: &Path, remembered: Option<&RememberedTrust>) -> Result<()> {
    let _ = std::fs::remove_file(path.with_extension("toml"));
    match remembered {
        Some(r) => {
            let mut json = serde_json::to_vec_pretty(r)?;
            json.push(b'\n');
            crate::files::write_atomic(path, &json)
        }
        None => forget_trust(path),
    }
}

/// Removes the remembered rotations, if any (and the file of earlier
/// versions, `<issuer>.trust.toml`).
pub fn forget_trust(path: &Path) -> Result<()> {
    let _ = std::fs::remove_file(path.with_extension("toml"));
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e).with_context(|| format!("cannot remove {}", path.display())),
    }
}

/// Takes the issuer's lock in the state folder (`<issuer>.lock`), waiting
/// for another run that holds it; released when the file is dropped.
pub fn lock(dir: &Path, issuer: &str) -> Result<std::fs::File> {
    if dir.exists() && !dir.is_dir() {
        bail!("--state {} is not a folder", dir.display());
    }
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create state folder {}", dir.display()))?;
    let path = file_for(dir, issuer).with_extension("lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("cannot open the state lock {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => return Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => {
            eprintln!(
                "waiting for another canary run to finish with the state of {} ({})",
                crate::output::escape(issuer),
                path.display()
            );
        }
        Err(std::fs::TryLockError::Error(e)) => {
            return Err(e).with_context(|| format!("cannot lock {}", path.display()));
        }
    }
    file.lock()
        .with_context(|| format!("cannot lock {}", path.display()))?;
    Ok(file)
}
