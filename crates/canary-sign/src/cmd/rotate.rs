//! `canary-sign rotate`: the next version of the issuer's trust policy.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::Context as _;
use canary_core::{KeyId, KeyRotation, PublicKey};

use crate::cmd::sign::draft_or_sign;
use crate::common::{AtArgs, DirArgs, DraftOrSign, note};
use crate::error::{Result, fail, refuse};

/// Draft and sign a key rotation: add or remove signing keys, change the
/// threshold, change the panic keys.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  canary-sign rotate --add carol.pub --key alice.key
  canary-sign rotate --remove bob.pub --threshold 1 --key alice.key
  canary-sign rotate --add-panic duress.pub --key alice.key

The rotation is written to rotations/<version>.json. It takes effect only when
a threshold of the current keys AND a threshold of the new key set have signed
it: co-sign with `canary-sign sign rotations/<version>.json --key OTHER.key`
(a new key must sign too). Readers who pinned an older version follow the
rotations one by one, so statements signed by a removed key stop verifying.")]
pub struct Args {
    /// A public key file to add to the signing keys (repeatable).
    #[arg(long, value_name = "FILE.pub")]
    pub add: Vec<PathBuf>,
    /// A signing key to remove: its .pub file, `ed25519:<base64>` or key id
    /// (repeatable).
    #[arg(long, value_name = "KEY")]
    pub remove: Vec<String>,
    /// Signatures the new key set needs (default: unchanged).
    #[arg(long)]
    pub threshold: Option<u64>,
    /// A public key file to add to the panic keys (repeatable).
    #[arg(long, value_name = "FILE.pub")]
    pub add_panic: Vec<PathBuf>,
    /// A panic key to remove: .pub file, `ed25519:<base64>` or key id (repeatable).
    #[arg(long, value_name = "KEY")]
    pub remove_panic: Vec<String>,
    #[command(flatten)]
    pub how: DraftOrSign,
    #[command(flatten)]
    pub dir: DirArgs,
    #[command(flatten)]
    pub at: AtArgs,
}

fn read_pub(path: &PathBuf) -> Result<PublicKey> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read public key {}", path.display()))?;
    Ok(PublicKey::from_pub_file(&text)
        .with_context(|| format!("public key {}", path.display()))?
        .0)
}

/// A key named by .pub file, key string or key id.
fn key_id(spec: &str) -> Result<KeyId> {
    if let Ok(id) = spec.parse::<KeyId>() {
        return Ok(id);
    }
    if let Ok(k) = spec.parse::<PublicKey>() {
        return Ok(k.id());
    }
    Ok(read_pub(&PathBuf::from(spec))?.id())
}

fn edit(
    mut keys: BTreeMap<KeyId, PublicKey>,
    add: &[PathBuf],
    remove: &[String],
    what: &str,
) -> Result<Vec<PublicKey>> {
    for spec in remove {
        let id = key_id(spec)?;
        if keys.remove(&id).is_none() {
            return Err(fail!(
                "--remove{what} {spec}: key {} is not among the current keys",
                id.short()
            ));
        }
    }
    for path in add {
        let k = read_pub(path)?;
        if keys.insert(k.id(), k).is_some() {
            return Err(fail!(
                "--add{what} {}: key {} is already there",
                path.display(),
                k.id().short()
            ));
        }
    }
    Ok(keys.into_values().collect())
}

/// Runs the command.
pub fn run(args: &Args) -> Result<u8> {
    let folder = args.dir.open()?;
    let now = args.at.now()?;
    let current = folder.policy()?.clone();
    if folder
        .rotation_numbers()?
        .last()
        .is_some_and(|&v| v > current.version())
    {
        return Err(refuse!(
            "a rotation to version {} is still waiting for signatures",
            current.version() + 1
        )
        .hint(format!(
            "co-sign it (canary-sign sign {} --key KEY) or remove it before drafting another",
            folder.rotation_path(current.version() + 1).display()
        )));
    }
    if args.add.is_empty()
        && args.remove.is_empty()
        && args.threshold.is_none()
        && args.add_panic.is_empty()
        && args.remove_panic.is_empty()
    {
        return Err(fail!(
            "nothing to rotate: give --add, --remove, --threshold, --add-panic or --remove-panic"
        ));
    }
    let keys = edit(current.keys().clone(), &args.add, &args.remove, "")?;
    let panic_keys = edit(
        current.panic_keys().clone(),
        &args.add_panic,
        &args.remove_panic,
        "-panic",
    )?;
    let rotation = KeyRotation {
        issuer: folder.config.issuer.clone(),
        version: current.version() + 1,
        threshold: args.threshold.unwrap_or(current.threshold() as u64),
        keys,
        panic_keys: (!panic_keys.is_empty()).then_some(panic_keys),
        issued_at: now,
    };
    draft_or_sign(&folder, &rotation, &args.how, now)?;
    if args.how.draft {
        return Ok(0);
    }
    note(
        "next: a threshold of the current keys and of the new key set must sign it before it takes effect",
    );
    Ok(0)
}
