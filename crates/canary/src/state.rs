//! The verifier's memory between runs (DESIGN §5 step 9): one JSON file per
//! issuer in the state folder, replaced atomically.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use canary_core::State;

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
    write_atomic(path, &json)
}

/// Replaces `path` with `bytes`: a temporary file in the same folder,
/// fsync, rename, so a reader (or a second verifier) never sees half a file.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().context("state file has no folder")?;
    if dir.exists() && !dir.is_dir() {
        bail!("--state {} is not a folder", dir.display());
    }
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create state folder {}", dir.display()))?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".canary-state-")
        .tempfile_in(dir)
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path)
        .with_context(|| format!("cannot replace {}", path.display()))?;
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// The file holding the trust policy an issuer rotated to, beside its state.
pub fn trust_file_for(dir: &Path, issuer: &str) -> PathBuf {
    file_for(dir, issuer).with_extension("trust.toml")
}

/// Reads a rotated trust policy, if any.
pub fn load_trust(path: &Path) -> Result<Option<canary_core::TrustPolicy>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let policy = canary_core::TrustPolicy::from_toml(&text)
        .with_context(|| format!("rotated trust policy {} is damaged", path.display()))?;
    Ok(Some(policy))
}

/// Replaces the rotated trust policy atomically.
pub fn save_trust(path: &Path, policy: &canary_core::TrustPolicy) -> Result<()> {
    write_atomic(path, policy.to_toml().as_bytes())
}
