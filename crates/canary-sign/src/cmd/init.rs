//! `canary-sign init`: a new issuer folder.

use std::path::PathBuf;

use anyhow::Context as _;
use canary_core::PublicKey;

use crate::common::{note, say};
use crate::config::{IssuerConfig, template};
use crate::error::{Failure, Result, fail};
use crate::fsutil::write_new_public;

/// Create an issuer folder with a commented canary.toml.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  canary-sign init --issuer example.org
  canary-sign init --issuer example.org --dir canaries/example.org \\
      --key alice.pub --key bob.pub --threshold 2

Then edit canary.toml (name, cadence, components, statements) and draft the
first statement with `canary-sign new`.")]
pub struct Args {
    /// Who speaks: normally the domain the canary is published under.
    #[arg(long)]
    pub issuer: String,
    /// Folder to create (default: ./ISSUER).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Display name (default: the issuer).
    #[arg(long)]
    pub name: Option<String>,
    /// A signer's public key file (repeat for each signer).
    #[arg(long, value_name = "FILE.pub")]
    pub key: Vec<PathBuf>,
    /// Signatures each document needs.
    #[arg(long, default_value_t = 1)]
    pub threshold: u64,
}

/// Runs the command.
pub fn run(args: &Args) -> Result<u8> {
    let issuer = &args.issuer;
    if issuer.is_empty()
        || issuer
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || c == '/' || c == '\\')
    {
        return Err(fail!(
            "--issuer {issuer:?} must be a name such as example.org (no spaces or slashes)"
        ));
    }
    if !crate::config::is_host_name(issuer) {
        return Err(fail!(
            "--issuer {issuer:?} is not a host name: readers would fetch {}; use the domain the \
             canary is published under, such as example.org",
            crate::config::default_url(issuer)
        ));
    }
    let dir = args.dir.clone().unwrap_or_else(|| PathBuf::from(issuer));
    let config_path = dir.join("canary.toml");
    if config_path.exists() {
        return Err(fail!(
            "{} already exists; refusing to overwrite it",
            config_path.display()
        ));
    }
    let mut keys = Vec::new();
    for path in &args.key {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read public key {}", path.display()))?;
        let (key, comment): (PublicKey, String) = PublicKey::from_pub_file(&text)
            .with_context(|| format!("public key {}", path.display()))?;
        keys.push((key, comment));
    }
    if args.threshold == 0 || (!keys.is_empty() && args.threshold > keys.len() as u64) {
        return Err(fail!(
            "--threshold {} must be between 1 and the number of --key files ({})",
            args.threshold,
            keys.len()
        ));
    }
    let text = template(
        issuer,
        args.name.as_deref().unwrap_or(issuer),
        &keys,
        args.threshold,
    );
    // The template must always be a valid configuration.
    IssuerConfig::parse(&text).map_err(|e| Failure::error(e.context("internal: bad template")))?;
    write_new_public(&config_path, text.as_bytes())?;
    say(&format!("created {}", config_path.display()));
    if keys.is_empty() {
        note("next: add the signers' public keys to [trust] keys in canary.toml");
    }
    note(&format!(
        "next: review canary.toml, then draft the first statement: canary-sign new --dir {} > draft.json",
        dir.display()
    ));
    Ok(0)
}
