//! First-contact trust: policies pinned with `canary trust add`, one file per
//! issuer in `$XDG_CONFIG_HOME/canary/trust/`.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use canary_core::TrustPolicy;

/// The folder of pinned policies.
pub fn dir() -> Result<PathBuf> {
    dirs::config_dir()
        .or_else(|| dirs::home_dir().map(|h| h.join(".config")))
        .map(|d| d.join("canary").join("trust"))
        .context("no configuration folder: set XDG_CONFIG_HOME or HOME")
}

/// The pinned policy file of `issuer`.
pub fn path_for(issuer: &str) -> Result<PathBuf> {
    Ok(crate::state::file_for(&dir()?, issuer).with_extension("toml"))
}

/// Reads a pinned policy, if there is one.
pub fn load(path: &Path) -> Result<Option<TrustPolicy>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    Ok(Some(TrustPolicy::from_toml(&text).with_context(|| {
        format!("pinned policy {}", path.display())
    })?))
}
