//! Pieces every command uses: the clock, keys, output.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use canary_core::{FieldError, SigningKey, Timestamp};

use crate::error::{Failure, Result, fail, refuse};
use crate::folder::IssuerFolder;
use crate::keyfile::{KeyFile, KeyFileError};

/// Options naming the signing key.
#[derive(Debug, clap::Args)]
pub struct KeyArgs {
    /// Secret key file to sign with (made by `canary-sign keygen`).
    #[arg(long, value_name = "FILE")]
    pub key: PathBuf,
    /// Read the key's passphrase from the first line of FILE instead of
    /// prompting (use /dev/stdin to pipe it).
    #[arg(long, value_name = "FILE")]
    pub passphrase_file: Option<PathBuf>,
    /// Sign without asking for confirmation on the terminal (the summary of
    /// what is signed is still printed). Without a terminal nothing is asked.
    #[arg(long, short = 'y')]
    pub yes: bool,
}

/// Sign a new document, or only print its draft.
#[derive(Debug, clap::Args)]
pub struct DraftOrSign {
    /// Sign with this key (required unless --draft).
    #[arg(long, value_name = "FILE", required_unless_present = "draft")]
    pub key: Option<PathBuf>,
    /// Read the key's passphrase from the first line of FILE.
    #[arg(long, value_name = "FILE")]
    pub passphrase_file: Option<PathBuf>,
    /// Print the document (or write it to --out) instead of signing it, to
    /// review, edit and sign with `canary-sign sign`.
    #[arg(long)]
    pub draft: bool,
    /// Where to write (default: the document's place in the issuer folder,
    /// or standard output with --draft).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Sign without asking for confirmation on the terminal (the summary of
    /// what is signed is still printed).
    #[arg(long, short = 'y')]
    pub yes: bool,
}

/// The `--at` option.
#[derive(Debug, Clone, clap::Args)]
pub struct AtArgs {
    /// Use this time (YYYY-MM-DDTHH:MM:SSZ) instead of the system clock.
    #[arg(long, value_name = "TIMESTAMP")]
    pub at: Option<Timestamp>,
}

impl AtArgs {
    /// `--at`, or the clock (whole seconds).
    pub fn now(&self) -> Result<Timestamp> {
        if let Some(t) = self.at {
            return Ok(t);
        }
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .ok()
            .and_then(|d| Timestamp::from_unix(i64::try_from(d.as_secs()).ok()?))
            .ok_or_else(|| fail!("the system clock is before 1970; pass --at"))
    }
}

/// The issuer folder option.
#[derive(Debug, Clone, clap::Args)]
pub struct DirArgs {
    /// The issuer folder (holding canary.toml).
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub dir: PathBuf,
}

impl DirArgs {
    /// Opens the folder.
    pub fn open(&self) -> Result<IssuerFolder> {
        IssuerFolder::open(&self.dir).map_err(|e| {
            if let Some(edited) = e.downcast_ref::<crate::folder::TrustEdited>()
                && edited.missing
            {
                let hint = format!(
                    "restore {} from version control; or, if [trust] is unchanged since the first \
                     signature and no key was rotated, copy the published \
                     .well-known/canary/trust.toml to it",
                    edited.record
                );
                Failure::refused(e).hint(hint)
            } else if e.downcast_ref::<crate::folder::TrustEdited>().is_some() {
                Failure::refused(e).hint(
                    "restore [trust] in canary.toml as it was (see trust-v1.toml); keys change only by a \
                     signed rotation: canary-sign rotate --add NEW.pub --remove OLD.pub",
                )
            } else {
                Failure::error(e)
            }
        })
    }
}

/// Reads a secret key file without unlocking it: its public key is known
/// before any passphrase is asked, so every check that needs only the
/// public key runs first.
pub fn open_key(args: &KeyArgs) -> Result<KeyFile> {
    KeyFile::read(&args.key).map_err(|e| {
        let hint = match e.downcast_ref::<KeyFileError>() {
            Some(KeyFileError::Permissions { path, .. }) => Some(format!("run `chmod 600 {path}`")),
            _ => None,
        };
        let f = Failure::error(e);
        match hint {
            Some(h) => f.hint(h),
            None => f,
        }
    })
}

/// Unlocks a key file opened by [`open_key`], asking for the passphrase
/// (naming the key) only if it is encrypted.
pub fn unlock_key(file: &KeyFile, args: &KeyArgs) -> Result<SigningKey> {
    let pass = if file.is_encrypted() {
        let name = args.key.file_name().map_or_else(
            || args.key.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        let prompt = format!(
            "Passphrase for {} ({}): ",
            escape(&name),
            file.public_key().id().short()
        );
        Some(crate::passphrase::read(
            args.passphrase_file.as_deref(),
            false,
            &prompt,
        )?)
    } else {
        None
    };
    file.unlock(pass.as_ref().map(|p| p.as_slice()))
        .with_context(|| format!("cannot unlock {}", args.key.display()))
        .map_err(Failure::error)
}

/// Refuses a key that may not sign the document.
pub fn require_trusted(
    policy: &canary_core::TrustPolicy,
    key: &canary_core::PublicKey,
    path: &Path,
    folder: &IssuerFolder,
) -> Result<()> {
    if policy.keys().contains_key(&key.id()) {
        return Ok(());
    }
    if policy.panic_keys().contains_key(&key.id()) {
        note(
            "warning: signing with a PANIC key: every verifier will report this document's \
             canary as tripped (exit 5)",
        );
        return Ok(());
    }
    Err(refuse!(
        "the key in {} ({}) is not one of the signing keys of {} (trust version {})",
        path.display(),
        key,
        folder.dir.display(),
        policy.version()
    )
    .hint("add it to [trust] keys in canary.toml before the first statement, or later with `canary-sign rotate --add`"))
}

/// A refusal listing every problem.
pub fn refuse_problems(what: &str, problems: &[FieldError]) -> Failure {
    let list: Vec<String> = problems
        .iter()
        .map(|p| format!("\n  {}: {}", p.field, escape(&p.reason)))
        .collect();
    refuse!("{what} was refused; nothing was written:{}", list.concat())
}

/// Writes a line to stdout; a closed pipe is not an error. Whatever the
/// caller forgot to escape is escaped here ([`escape_lines`]: escaping
/// twice changes nothing), so no message reaches the terminal raw.
pub fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{}", escape_lines(line));
}

/// Writes a line to stderr, escaped like [`say`].
pub fn note(line: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{}", escape_lines(line));
}

/// Text on one line ([`canary_core::sanitize`]), for the terminal and for
/// every page the publisher writes: no control character, line or
/// paragraph separator, bidi control or noncharacter is left raw.
pub fn escape(s: &str) -> String {
    canary_core::sanitize(s, canary_core::Target::Line)
}

/// Like [`escape`], keeping line breaks (for multi-line messages and
/// paragraphs).
pub fn escape_lines(s: &str) -> String {
    canary_core::sanitize(s, canary_core::Target::Lines)
}

/// A JSON text with the unsafe characters written as `\uXXXX` escapes:
/// the same JSON value, safe to show on a terminal.
pub fn escape_json(json: &str) -> String {
    canary_core::sanitize(json, canary_core::Target::Json)
}
