//! First-contact trust: policies pinned with `canary trust add`, one file per
//! issuer in `$XDG_CONFIG_HOME/canary/trust/`.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use canary_core::TrustPolicy;
use reqwest::Url;

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

/// The policy pinned for exactly `issuer`, if any. A pin answers only for
/// the issuer it names: one stored under the same file name for another
/// spelling (`EXAMPLE.ORG`) is refused, never used.
pub fn load_for(issuer: &str) -> Result<Option<TrustPolicy>> {
    let path = path_for(issuer)?;
    let Some(policy) = load(&path)? else {
        return Ok(None);
    };
    if policy.issuer() != issuer {
        bail!(
            "the pin {} is for {:?}, not for {issuer:?}: a pin answers only for the issuer it \
             names (see `canary trust list`)",
            path.display(),
            policy.issuer()
        );
    }
    Ok(Some(policy))
}

/// The pin made from a URL on the same host as `url` (`canary trust add
/// https://...` records where it pinned from), if exactly one matches.
pub fn find_for_url(url: &Url) -> Result<Option<TrustPolicy>> {
    let dir = dir()?;
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Ok(None);
    };
    let mut paths: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    let same_origin = |pinned: &str| {
        Url::parse(pinned).is_ok_and(|u| {
            u.scheme() == url.scheme()
                && u.host_str() == url.host_str()
                && u.port_or_known_default() == url.port_or_known_default()
        })
    };
    let mut found: Vec<TrustPolicy> = Vec::new();
    for path in paths {
        if let Some(p) = load(&path)?
            && p.url().is_some_and(same_origin)
        {
            found.push(p);
        }
    }
    match found.len() {
        0 => Ok(None),
        1 => Ok(found.pop()),
        _ => bail!(
            "{} issuers were pinned from {}: pass --issuer or --trust to choose",
            found.len(),
            url.host_str().unwrap_or("this host")
        ),
    }
}
