//! `canary-sign keygen`: a new Ed25519 key pair.

use std::path::PathBuf;

use canary_core::{SigningKey, Zeroizing};

use crate::common::{note, say};
use crate::error::{Result, fail, refuse};
use crate::fsutil::{write_new, write_new_public};
use crate::keyfile::{self, DEFAULT_KDF};

/// Create a key pair: NAME.key (secret, encrypted, mode 0600) and NAME.pub.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  canary-sign keygen --name alice
  canary-sign keygen --name alice --dir ~/.canary --passphrase-file pass.txt
  canary-sign keygen --name ci --unencrypted        # throwaway and CI keys only
  canary-sign keygen --name duress --panic          # a panic key, kept apart

The secret key is encrypted with a passphrase (Argon2id, XChaCha20-Poly1305),
asked twice on the terminal unless --passphrase-file is given. Existing files
are never overwritten. Add the public key (the first field of NAME.pub) to
[trust] keys in canary.toml, or to panic_keys for a panic key.")]
pub struct Args {
    /// File name for the pair (letters, digits, '.', '_', '-').
    #[arg(long)]
    pub name: String,
    /// Folder to write the files in.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub dir: PathBuf,
    /// Store the secret key without a passphrase (anyone who can read the
    /// file can sign). For throwaway and CI keys only.
    #[arg(long)]
    pub unencrypted: bool,
    /// Read the passphrase from the first line of FILE instead of prompting.
    #[arg(long, value_name = "FILE", conflicts_with = "unencrypted")]
    pub passphrase_file: Option<PathBuf>,
    /// Mark the key as a panic key: its signature on a statement tells every
    /// verifier that the issuer is under duress.
    #[arg(long)]
    pub panic: bool,
    /// Accept a passphrase shorter than 12 characters (a warning is still
    /// printed). The key file is only as strong as its passphrase.
    #[arg(long, conflicts_with = "unencrypted")]
    pub weak_passphrase: bool,
}

/// The shortest passphrase taken without --weak-passphrase.
const MIN_PASSPHRASE_CHARS: usize = 12;

/// Runs the command.
pub fn run(args: &Args) -> Result<u8> {
    let name_ok = !args.name.is_empty()
        && !args.name.starts_with('.')
        && args
            .name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
    if !name_ok {
        return Err(fail!(
            "--name {:?} must be a plain file name (letters, digits, '.', '_', '-', not starting with '.')",
            args.name
        ));
    }
    let key_path = args.dir.join(format!("{}.key", args.name));
    let pub_path = args.dir.join(format!("{}.pub", args.name));
    for p in [&key_path, &pub_path] {
        if p.exists() {
            return Err(fail!(
                "{} already exists; refusing to overwrite a key",
                p.display()
            )
            .hint("choose another --name or --dir"));
        }
    }

    let passphrase = if args.unencrypted {
        None
    } else {
        let prompt = format!(
            "Passphrase for the new key {}: ",
            crate::common::escape(&key_path.display().to_string())
        );
        let pass = crate::passphrase::read(args.passphrase_file.as_deref(), true, &prompt)?;
        let chars = String::from_utf8_lossy(&pass).chars().count();
        if chars < MIN_PASSPHRASE_CHARS {
            if !args.weak_passphrase {
                return Err(refuse!(
                    "the passphrase has {chars} characters, fewer than {MIN_PASSPHRASE_CHARS}: \
                     anyone who copies the key file can guess a short one offline; no key was made"
                )
                .hint(
                    "choose a longer passphrase (several words), or pass --weak-passphrase to \
                     use this one anyway",
                ));
            }
            note(&format!(
                "warning: the passphrase has only {chars} characters (--weak-passphrase); the \
                 key file is only as strong as its passphrase"
            ));
        }
        Some(pass)
    };
    let mut seed = Zeroizing::new([0u8; 32]);
    getrandom::fill(seed.as_mut_slice())
        .map_err(|e| fail!("no random numbers from the system: {e}"))?;
    let key = SigningKey::from_seed(&seed).map_err(|e| fail!("{e}"))?;
    let secret = keyfile::encode(&key, passphrase.as_ref().map(|p| p.as_slice()), DEFAULT_KDF)
        .map_err(|e| fail!("{e}"))?;

    let comment = if args.panic {
        format!("{} (panic key)", args.name)
    } else {
        args.name.clone()
    };
    let public_line = format!("{} {comment}\n", key.public_key());
    write_new(&key_path, secret.as_bytes())?;
    if let Err(e) = write_new_public(&pub_path, public_line.as_bytes()) {
        let _ = std::fs::remove_file(&key_path);
        return Err(e.into());
    }

    if args.unencrypted {
        note(&format!(
            "warning: {} is NOT encrypted: anyone who can read it can sign as this key. \
             Use unencrypted keys only for throwaway and CI keys.",
            key_path.display()
        ));
    }
    say(&format!("secret key: {} (mode 0600)", key_path.display()));
    say(&format!("public key: {}", pub_path.display()));
    say(&format!("key id:     {}", key.public_key().id()));
    say(&format!("            {}", key.public_key()));
    if args.panic {
        note(
            "next: for a new issuer (nothing signed yet), add the public key to panic_keys in \
             [trust] of canary.toml; for an issuer that has signed already, rotate it in: \
             canary-sign rotate --add-panic KEY.pub. Keep the secret key away from the signing \
             keys (with a lawyer or a second person): signing any statement with it trips \
             every verifier.",
        );
    } else {
        note(&format!(
            "next: for a new issuer (nothing signed yet), add the public key to [trust] keys in \
             canary.toml; for an issuer that has signed already, keys change only by rotation: \
             canary-sign rotate --add {}",
            pub_path.display()
        ));
    }
    Ok(0)
}
