//! `canary-sign sign`: sign a draft, or co-sign an envelope.

use std::path::{Path, PathBuf};

use canary_core::{
    Digest, Envelope, FieldError, HasIssuer, IncidentRecord, KeyRotation, Payload, PayloadError,
    PayloadType, Statement, Timestamp, TrustPolicy, json::MAX_SAFE_INTEGER, parse_draft,
    parse_payload, to_payload,
};

use crate::checks;
use crate::common::{AtArgs, DirArgs, KeyArgs, escape, escape_json, note, refuse_problems, say};
use crate::error::{Result, fail, refuse};
use crate::folder::IssuerFolder;
use crate::signing::{CoSignature, NewDocument, Pending};
use crate::summary::{self, KeyNames};

/// Sign a draft into a new envelope, or add a signature to an envelope.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  canary-sign sign draft.json --key alice.key
      validates the draft, signs it and writes statements/<seq>.json
  canary-sign sign statements/000003.json --key bob.key
      co-signs: adds bob's signature in place (the payload is untouched)
  canary-sign sign incident-draft.json --key alice.key --out signed.json

Before signing, the draft must pass every rule a verifier applies, continue
the folder's chain (sequence, previous digest, dates), expire at most one year
after issued_at, and keep every promise of the previous statement word for
word (--allow-statement-change to remove or reword one deliberately).

Before the passphrase, a summary of what is signed is printed (promises and
what changed, an incident's changes, a rotation's keys and thresholds); on a
terminal it signs only after you answer y (--yes for scripts). The passphrase
is asked only once the draft is known to be good. Nothing is written on any
error.

Signing or co-signing a statement also makes, with the same key, an SSH
signature (namespace canary-v1@ISSUER) and a minisign signature of its
payload, in plain/SEQ/ of the issuer folder, for readers without canary.
Signing a statement again with a key that signed it before these existed
makes them.")]
pub struct Args {
    /// Drafts (JSON in any formatting) or signed envelopes: several are
    /// checked first, shown in one summary and signed with one passphrase.
    #[arg(value_name = "INPUT", required = true, num_args = 1..)]
    pub inputs: Vec<PathBuf>,
    #[command(flatten)]
    pub key: KeyArgs,
    /// Where to write the envelope (default: its place in the issuer
    /// folder for a draft, the input itself for an envelope); only with one
    /// INPUT.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub dir: DirArgs,
    /// Allow removing or rewording a promise of the previous statement.
    /// Readers' verifiers will report the canary as tripped.
    #[arg(long)]
    pub allow_statement_change: bool,
    /// Sign a statement that says `"final": true`: the issuer announces no
    /// further canary, and every reader reports the canary as tripped.
    #[arg(long = "final")]
    pub final_statement: bool,
    #[command(flatten)]
    pub at: AtArgs,
}

/// A document the signer knows how to check and file.
pub trait Signable: Payload + HasIssuer {
    /// What to call it in messages.
    fn describe(&self) -> String;
    /// Checks it against the folder.
    fn check(
        &self,
        folder: &IssuerFolder,
        digest: Digest,
        now: Timestamp,
        allow_change: bool,
    ) -> anyhow::Result<Vec<FieldError>>;
    /// Where it lives in the folder.
    fn default_path(&self, folder: &IssuerFolder) -> PathBuf;
    /// What a signer is shown before signing it ([`summary`]).
    fn summary(&self, folder: &IssuerFolder, names: &KeyNames) -> Vec<String>;
    /// True for a statement that says `"final": true` (co-signers need
    /// `--final` too).
    fn says_final(&self) -> bool {
        false
    }
    /// The keys that may sign it, with threshold 1.
    fn signers_policy(&self, folder: &IssuerFolder) -> anyhow::Result<TrustPolicy> {
        Ok(folder.policy()?.with_threshold(1))
    }
    /// The statement to make plain signatures of (DESIGN §9, `plain/`):
    /// statements only.
    fn plain(&self) -> Option<&Statement> {
        None
    }
    /// How far its signatures are, and whether that is enough.
    fn progress(&self, folder: &IssuerFolder, envelope: &Envelope) -> (String, bool) {
        let Ok(policy) = folder.policy() else {
            return ("no trust policy".to_owned(), false);
        };
        let n = count(envelope, policy);
        (
            format!("{n} of {} signatures", policy.threshold()),
            n >= policy.threshold(),
        )
    }
}

/// Distinct keys of `policy` with a valid signature in `envelope`.
fn count(envelope: &Envelope, policy: &TrustPolicy) -> usize {
    envelope.valid_signers(policy.keys()).len()
}

impl Signable for KeyRotation {
    fn describe(&self) -> String {
        format!("key rotation to trust version {}", self.version)
    }
    fn check(
        &self,
        folder: &IssuerFolder,
        digest: Digest,
        now: Timestamp,
        _allow_change: bool,
    ) -> anyhow::Result<Vec<FieldError>> {
        checks::rotation(folder, self, digest, now)
    }
    fn default_path(&self, folder: &IssuerFolder) -> PathBuf {
        folder.rotation_path(self.version)
    }
    fn summary(&self, folder: &IssuerFolder, names: &KeyNames) -> Vec<String> {
        summary::rotation_in(folder, self, names)
    }
    fn signers_policy(&self, folder: &IssuerFolder) -> anyhow::Result<TrustPolicy> {
        let base = checks::rotation_base(folder, self)?;
        let keys = base.keys().values().chain(self.keys.iter()).copied();
        Ok(TrustPolicy::new(
            self.issuer.clone(),
            self.version,
            1,
            keys,
            [],
        )?)
    }
    fn progress(&self, folder: &IssuerFolder, envelope: &Envelope) -> (String, bool) {
        let Ok(base) = checks::rotation_base(folder, self) else {
            return ("no base policy".to_owned(), false);
        };
        let Ok(next) = base.rotated(self) else {
            return ("an invalid key set".to_owned(), false);
        };
        let (old, new) = (count(envelope, base), count(envelope, &next));
        (
            format!(
                "old keys {old} of {}, new keys {new} of {}",
                base.threshold(),
                next.threshold()
            ),
            old >= base.threshold() && new >= next.threshold(),
        )
    }
}

impl Signable for Statement {
    fn describe(&self) -> String {
        format!("statement {} of {}", self.sequence, escape(&self.issuer))
    }
    fn check(
        &self,
        folder: &IssuerFolder,
        digest: Digest,
        now: Timestamp,
        allow_change: bool,
    ) -> anyhow::Result<Vec<FieldError>> {
        checks::statement(folder, self, digest, now, allow_change)
    }
    fn default_path(&self, folder: &IssuerFolder) -> PathBuf {
        folder.statement_path(self.sequence)
    }
    fn summary(&self, folder: &IssuerFolder, _names: &KeyNames) -> Vec<String> {
        summary::statement(self, summary::previous_statement(folder, self).as_ref())
    }
    fn says_final(&self) -> bool {
        self.is_final()
    }
    fn plain(&self) -> Option<&Statement> {
        Some(self)
    }
}

impl Signable for IncidentRecord {
    fn describe(&self) -> String {
        format!("incident {:?} version {}", self.id, self.version)
    }
    fn check(
        &self,
        folder: &IssuerFolder,
        digest: Digest,
        now: Timestamp,
        _allow_change: bool,
    ) -> anyhow::Result<Vec<FieldError>> {
        checks::incident(folder, self, digest, now)
    }
    fn default_path(&self, folder: &IssuerFolder) -> PathBuf {
        folder.incident_path(&self.id, self.version)
    }
    fn summary(&self, folder: &IssuerFolder, _names: &KeyNames) -> Vec<String> {
        summary::incident(self, summary::previous_incident(folder, self).as_ref())
    }
}

/// What kind of input a file holds.
pub enum Input {
    /// A signed envelope.
    Envelope(Envelope),
    /// A draft of this type.
    Draft(PayloadType),
}

/// Tells envelopes from drafts, and drafts apart by their fields.
pub fn classify(bytes: &[u8]) -> Result<Input> {
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| refuse!("not JSON: {e}"))?;
    let obj = value
        .as_object()
        .ok_or_else(|| refuse!("expected a JSON object (a draft or an envelope)"))?;
    if obj.contains_key("payloadType") {
        return Envelope::parse(bytes)
            .map(Input::Envelope)
            .map_err(|e| refuse!("{e}"));
    }
    if obj.contains_key("sequence") {
        Ok(Input::Draft(PayloadType::Statement))
    } else if obj.contains_key("what_happened") || obj.contains_key("kind") {
        Ok(Input::Draft(PayloadType::Incident))
    } else if obj.contains_key("keys") {
        Ok(Input::Draft(PayloadType::Rotation))
    } else {
        Err(refuse!(
            "cannot tell what this draft is: a statement has \"sequence\", an incident record \"what_happened\""
        ))
    }
}

/// A refusal for a draft or payload that breaks the document rules.
pub fn payload_problems(e: PayloadError) -> Vec<FieldError> {
    match e {
        PayloadError::Invalid { errors, .. } => errors,
        other => vec![FieldError {
            field: "(document)".to_owned(),
            reason: other.to_string(),
        }],
    }
}

/// The problems of a draft that [`parse_draft`] refused. A value the
/// canonical model cannot hold (null, a float, a negative or too large
/// integer) is reported at its field (`notes`, `statements[1].id`) rather
/// than only at a line and column.
pub fn draft_problems(bytes: &[u8], e: PayloadError) -> Vec<FieldError> {
    if matches!(e, PayloadError::Json(_))
        && let Ok(value) = serde_json::from_slice::<serde_json::Value>(bytes)
    {
        let mut found = Vec::new();
        locate_unsupported(&value, "", &mut found);
        if !found.is_empty() {
            return found;
        }
    }
    payload_problems(e)
}

fn locate_unsupported(value: &serde_json::Value, path: &str, found: &mut Vec<FieldError>) {
    use serde_json::Value;
    let field = || {
        if path.is_empty() {
            "(document)".to_owned()
        } else {
            path.to_owned()
        }
    };
    match value {
        Value::Null => found.push(FieldError {
            field: field(),
            reason: "null is not allowed (omit the field instead)".to_owned(),
        }),
        Value::Number(n) => {
            let reason = if n.is_f64() {
                format!("{n} is not an integer (floats are not allowed)")
            } else if n.is_i64() && !n.is_u64() {
                format!("{n} is negative (integers must be in 0..=2^53-1)")
            } else if n.as_u64().is_some_and(|i| i > MAX_SAFE_INTEGER) {
                format!("{n} is larger than 2^53-1")
            } else {
                return;
            };
            found.push(FieldError {
                field: field(),
                reason,
            });
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                locate_unsupported(item, &format!("{path}[{i}]"), found);
            }
        }
        Value::Object(members) => {
            for (key, item) in members {
                let key = escape(key);
                let inner = if path.is_empty() {
                    key
                } else {
                    format!("{path}.{key}")
                };
                locate_unsupported(item, &inner, found);
            }
        }
        _ => {}
    }
}

/// `--draft`: prints (or writes) the validated document; otherwise signs it
/// into the folder like [`sign_new`].
pub fn draft_or_sign<T: Signable + Clone>(
    folder: &IssuerFolder,
    doc: &T,
    how: &crate::common::DraftOrSign,
    now: Timestamp,
) -> Result<()> {
    if how.draft {
        to_payload(doc).map_err(|e| refuse_problems(&doc.describe(), &payload_problems(e)))?;
        // Escaped like every output: the draft reads back as the same document.
        let mut json = escape_json(&serde_json::to_string_pretty(doc).map_err(|e| fail!("{e}"))?);
        json.push('\n');
        match &how.out {
            Some(p) => crate::fsutil::write_atomic_public(p, json.as_bytes())?,
            None => say(json.trim_end()),
        }
        note("next: review the draft, then sign it: canary-sign sign DRAFT --key KEY");
        return Ok(());
    }
    let key = KeyArgs {
        key: how.key.clone().ok_or_else(|| fail!("--key is required"))?,
        passphrase_file: how.passphrase_file.clone(),
        yes: how.yes,
    };
    crate::signing::sign_new(folder, doc.clone(), &key, how.out.as_deref(), now, false)?;
    Ok(())
}

/// What every reader makes of a final statement, for `lint` and `sign`.
pub const FINAL_WARNING: &str = "this statement says \"final\": true: the issuer announces that \
    no further canary will come, and every reader's verifier will report the canary as TRIPPED";

/// True when `bytes` (a draft or an envelope) is a statement with
/// `"final": true`.
pub fn is_final_statement(bytes: &[u8]) -> bool {
    match classify(bytes) {
        Ok(Input::Envelope(env)) if env.payload_type() == PayloadType::Statement => {
            parse_payload::<Statement>(env.payload()).is_ok_and(|s| s.is_final())
        }
        Ok(Input::Draft(PayloadType::Statement)) => {
            parse_draft::<Statement>(bytes).is_ok_and(|s| s.is_final())
        }
        _ => false,
    }
}

/// Checks one input and makes it ready to sign.
fn prepare<'a>(
    folder: &'a IssuerFolder,
    input: &Path,
    bytes: &[u8],
    args: &Args,
    now: Timestamp,
) -> Result<Box<dyn Pending + 'a>> {
    let out = args.out.as_deref();
    let allow = args.allow_statement_change;
    fn draft<T: Payload>(bytes: &[u8]) -> Result<T> {
        parse_draft(bytes).map_err(|e| refuse_problems("the draft", &draft_problems(bytes, e)))
    }
    Ok(match classify(bytes)? {
        Input::Envelope(env) => match env.payload_type() {
            PayloadType::Statement => Box::new(CoSignature::<Statement>::prepare(
                folder, env, input, out, now, allow,
            )?),
            PayloadType::Incident => Box::new(CoSignature::<IncidentRecord>::prepare(
                folder, env, input, out, now, false,
            )?),
            PayloadType::Rotation => Box::new(CoSignature::<KeyRotation>::prepare(
                folder, env, input, out, now, false,
            )?),
        },
        Input::Draft(PayloadType::Statement) => Box::new(NewDocument::prepare(
            folder,
            draft::<Statement>(bytes)?,
            out,
            now,
            allow,
        )?),
        Input::Draft(PayloadType::Incident) => Box::new(NewDocument::prepare(
            folder,
            draft::<IncidentRecord>(bytes)?,
            out,
            now,
            false,
        )?),
        Input::Draft(PayloadType::Rotation) => Box::new(NewDocument::prepare(
            folder,
            draft::<KeyRotation>(bytes)?,
            out,
            now,
            false,
        )?),
    })
}

/// Runs the command.
pub fn run(args: &Args) -> Result<u8> {
    if args.out.is_some() && args.inputs.len() > 1 {
        return Err(fail!(
            "--out names one output file: give it with one INPUT, or leave it out"
        ));
    }
    let mut seen = std::collections::BTreeSet::new();
    for input in &args.inputs {
        let same = std::fs::canonicalize(input).unwrap_or_else(|_| input.clone());
        if !seen.insert(same) {
            return Err(fail!("{} is given twice", input.display()));
        }
    }
    let folder = args.dir.open()?;
    let now = args.at.now()?;
    // Co-signing in place: read, add and write under the folder's lock, so
    // co-signers at the same moment never lose each other's signatures.
    let in_place = args.out.is_none()
        && args.inputs.iter().any(|input| {
            std::fs::read(input).is_ok_and(|b| matches!(classify(&b), Ok(Input::Envelope(_))))
        });
    let _lock = if in_place {
        Some(crate::fsutil::lock_folder(&folder.dir)?)
    } else {
        None
    };
    // Every input is read and checked before the first passphrase prompt;
    // each against the folder as it is now.
    let mut pending = Vec::new();
    for input in &args.inputs {
        let bytes =
            std::fs::read(input).map_err(|e| fail!("cannot read {}: {e}", input.display()))?;
        if is_final_statement(&bytes) {
            if !args.final_statement {
                return Err(
                    refuse!("{}: {FINAL_WARNING}; nothing was signed", input.display()).hint(
                        "remove \"final\" from the draft, or sign with --final if this is the last \
                     canary",
                    ),
                );
            }
            note(&format!("WARNING: {FINAL_WARNING}"));
        }
        pending.push(prepare(&folder, input, &bytes, args, now)?);
    }
    crate::signing::sign_all(&folder, pending, &args.key)?;
    Ok(0)
}
