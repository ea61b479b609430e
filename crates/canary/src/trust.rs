//! The trust policy a run verifies against (DESIGN §4): `--trust FILE`, or
//! `--key FILE` (repeatable) with `--issuer` and `--threshold`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{Context as _, Result, bail};
use canary_core::{KeyId, PublicKey, TrustPolicy};
use reqwest::Url;

/// Trust options shared by `verify` and `show`.
#[derive(Debug, Clone, clap::Args)]
pub struct TrustArgs {
    /// Trust policy file (issuer, keys, threshold, panic keys, max_age).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["key", "issuer"])]
    pub trust: Option<PathBuf>,
    /// A trusted public key file (`ed25519:<base64> comment`); repeatable.
    #[arg(long, value_name = "FILE.pub", requires = "issuer")]
    pub key: Vec<PathBuf>,
    /// The expected issuer, with --key.
    #[arg(long)]
    pub issuer: Option<String>,
    /// Signatures required, with --key (default 1). A trust policy file
    /// names its own threshold.
    #[arg(long, requires = "key", conflicts_with = "trust")]
    pub threshold: Option<u64>,
}

/// What the trust options name: a trust policy, or a legacy trust file for
/// a canary in another format (DESIGN §11), told apart as the file is read.
pub enum Loaded {
    /// A trust policy.
    Native(Trust),
    /// A legacy trust file, at this path.
    Legacy(PathBuf),
}

/// A policy and the comments of its keys (from .pub files).
#[derive(Clone)]
pub struct Trust {
    /// The policy.
    pub policy: TrustPolicy,
    /// Key comments, for display.
    pub comments: BTreeMap<KeyId, String>,
}

impl TrustArgs {
    /// True when the command line names the trust itself.
    pub fn given(&self) -> bool {
        self.trust.is_some() || !self.key.is_empty()
    }

    /// Loads the policy: `--trust`, `--key`, or else the policy pinned with
    /// `canary trust add` for `--issuer` or the source's domain (or, for a
    /// URL, the pin made from that host). Errors here are usage errors
    /// (exit 2).
    pub fn load(&self, source_domain: Option<&str>, source_url: Option<&Url>) -> Result<Trust> {
        match self.load_pin(source_domain, source_url)? {
            Loaded::Native(trust) => Ok(trust),
            Loaded::Legacy(path) => bail!(
                "{} is a legacy trust file (a canary in another format, DESIGN §11): only \
                 `canary verify` and `canary watch` read those",
                path.display()
            ),
        }
    }

    /// [`TrustArgs::load`], reading `--trust` once whether it is a trust
    /// policy or a legacy trust file.
    pub fn load_pin(
        &self,
        source_domain: Option<&str>,
        source_url: Option<&Url>,
    ) -> Result<Loaded> {
        if !self.given() {
            let Some(issuer) = self.issuer.as_deref().or(source_domain) else {
                bail!(
                    "no trust: pass --trust FILE, or --key FILE.pub --issuer ISSUER, or pin the issuer with `canary trust add DOMAIN`"
                );
            };
            let mut policy = crate::pins::load_for(issuer)?;
            if policy.is_none()
                && self.issuer.is_none()
                && let Some(url) = source_url
            {
                policy = crate::pins::find_for_url(url)?;
            }
            let add = source_url.map_or_else(|| issuer.to_owned(), ToString::to_string);
            let policy = policy.with_context(|| {
                format!(
                    "no trust for {issuer}: pin it with `canary trust add {add}`, or pass --trust FILE"
                )
            })?;
            return Ok(Loaded::Native(Trust {
                policy,
                comments: BTreeMap::new(),
            }));
        }
        if let Some(path) = &self.trust {
            // The command line refuses both; a watch list must too, rather
            // than silently ignore the keys it names.
            if !self.key.is_empty() {
                bail!(
                    "a trust policy file ({}) and keys exclude each other: give one",
                    path.display()
                );
            }
            if self.threshold.is_some() {
                bail!(
                    "a threshold goes with keys; the trust policy file {} names its own",
                    path.display()
                );
            }
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read trust policy {}", path.display()))?;
            if canary_core::legacy::LegacyTrust::is_legacy(&text) {
                return Ok(Loaded::Legacy(path.clone()));
            }
            let policy =
                TrustPolicy::from_toml(&text).with_context(|| format!("{}", path.display()))?;
            return Ok(Loaded::Native(Trust {
                policy,
                comments: BTreeMap::new(),
            }));
        }
        if self.key.is_empty() {
            bail!("no trust: pass --trust FILE, or --key FILE.pub --issuer ISSUER");
        }
        let issuer = self.issuer.clone().context("--key needs --issuer")?;
        let mut keys = Vec::new();
        let mut comments = BTreeMap::new();
        for path in &self.key {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read public key {}", path.display()))?;
            let (key, comment): (PublicKey, String) =
                PublicKey::from_pub_file(&text).with_context(|| format!("{}", path.display()))?;
            if !comment.is_empty() {
                comments.insert(key.id(), comment);
            }
            keys.push(key);
        }
        let policy = TrustPolicy::new(issuer, 1, self.threshold.unwrap_or(1), keys, [])?;
        Ok(Loaded::Native(Trust { policy, comments }))
    }
}
