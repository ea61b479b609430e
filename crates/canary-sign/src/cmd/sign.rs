//! `canary-sign sign`: sign a draft, or co-sign an envelope.

use std::path::{Path, PathBuf};

use canary_core::{
    Digest, Envelope, FieldError, HasIssuer, IncidentRecord, KeyRotation, Payload, PayloadError,
    PayloadType, Statement, Timestamp, TrustPolicy, json::MAX_SAFE_INTEGER, parse_draft,
    parse_payload, to_payload, verify_document,
};

use crate::checks;
use crate::common::{
    AtArgs, DirArgs, KeyArgs, escape, escape_json, note, open_key, refuse_problems,
    require_trusted, say, unlock_key,
};
use crate::error::{Result, fail, refuse};
use crate::folder::IssuerFolder;
use crate::fsutil::{write_atomic_public, write_new_public};
use crate::plain;
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
    /// A draft (JSON in any formatting) or a signed envelope.
    #[arg(value_name = "INPUT")]
    pub input: PathBuf,
    #[command(flatten)]
    pub key: KeyArgs,
    /// Where to write the envelope (default: its place in the issuer
    /// folder for a draft, the input itself for an envelope).
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

/// Validates, checks against the folder, signs and writes a new document.
/// Returns where it was written.
pub fn sign_new<T: Signable>(
    folder: &IssuerFolder,
    doc: &T,
    key_args: &KeyArgs,
    out: Option<&Path>,
    now: Timestamp,
    allow_change: bool,
) -> Result<PathBuf> {
    let what = doc.describe();
    let payload = to_payload(doc).map_err(|e| refuse_problems(&what, &payload_problems(e)))?;
    let problems = doc.check(folder, Digest::of(&payload), now, allow_change)?;
    if !problems.is_empty() {
        return Err(refuse_problems(&what, &problems));
    }
    let path = out.map_or_else(|| doc.default_path(folder), Path::to_path_buf);
    if path.exists() {
        return Err(refuse!(
            "{} already exists; refusing to overwrite it",
            path.display()
        )
        .hint(format!(
            "to add a signature to it: canary-sign sign {} --key KEY",
            path.display()
        )));
    }
    let policy = doc.signers_policy(folder)?;
    let file = open_key(key_args)?;
    require_trusted(&policy, file.public_key(), &key_args.key, folder)?;
    let names = key_names(file.public_key(), key_args, folder);
    summary::confirm(
        &doc.summary(folder, &names),
        &signing_with(key_args, file.public_key(), &names, &[]),
        key_args.yes,
    )?;
    let key = unlock_key(&file, key_args)?;
    let envelope = Envelope::sign(T::PAYLOAD_TYPE, payload, &key);
    let bytes = checked_output::<T>(&policy, &envelope, &key)?;
    folder.record_trust()?;
    // The plain signatures first: a run killed in between leaves no
    // envelope, and running it again writes the same bytes and finishes.
    if let Some(statement) = doc.plain() {
        write_plain(folder, statement, envelope.payload(), &key)?;
    }
    write_new_public(&path, &bytes)?;
    let panic = policy.panic_keys().contains_key(&key.public_key().id());
    report(&what, &path, doc.progress(folder, &envelope), panic);
    Ok(path)
}

/// `--draft`: prints (or writes) the validated document; otherwise signs it
/// into the folder like [`sign_new`].
pub fn draft_or_sign<T: Signable>(
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
    sign_new(folder, doc, &key, how.out.as_deref(), now, false)?;
    Ok(())
}

/// Adds a signature to an envelope of type `T` and writes it.
fn cosign<T: Signable>(
    folder: &IssuerFolder,
    mut envelope: Envelope,
    args: &Args,
) -> Result<PathBuf> {
    let doc: T = parse_payload(envelope.payload())
        .map_err(|e| refuse_problems("the envelope's payload", &payload_problems(e)))?;
    let what = doc.describe();
    let problems = doc.check(
        folder,
        Digest::of(envelope.payload()),
        args.at.now()?,
        args.allow_statement_change,
    )?;
    if !problems.is_empty() {
        return Err(refuse_problems(&what, &problems));
    }
    // Every signature already there must be a valid one by a trusted key:
    // of the policy in force, or of an earlier trust version (a transition
    // statement, signed by the old keys while a rotation was co-signed).
    let policy = doc.signers_policy(folder)?;
    let mut trusted = policy.keys().clone();
    for p in folder.policies() {
        trusted.extend(p.keys().iter().map(|(id, k)| (*id, *k)));
    }
    for (i, sig) in envelope.signatures().iter().enumerate() {
        let valid = trusted
            .get(&sig.keyid)
            .is_some_and(|k| k.verify_strict(&envelope.pae(), &sig.sig));
        if !valid {
            return Err(refuse!(
                "signature {} (key id {}) of {} is not a valid signature by a key of canary.toml; \
                 refusing to add to it",
                i + 1,
                sig.keyid,
                args.input.display()
            ));
        }
    }
    let file = open_key(&args.key)?;
    let id = file.public_key().id();
    require_trusted(&policy, file.public_key(), &args.key.key, folder)?;
    // Already signed by this key: refused before any passphrase, unless the
    // plain signatures of a statement signed before they existed are still
    // to be made (that needs the key).
    let plain_missing = doc.plain().is_some_and(|statement| {
        plain::issuer_fits(&statement.issuer)
            && !has_plain(folder, statement, envelope.payload(), file.public_key())
    });
    if envelope.signatures().iter().any(|s| s.keyid == id) && !plain_missing {
        return Err(refuse!(
            "{} is already signed by this key ({})",
            args.input.display(),
            id.short()
        ));
    }
    let names = key_names(file.public_key(), &args.key, folder);
    let signed_by: Vec<_> = envelope.signatures().iter().map(|s| s.keyid).collect();
    let signed_by: Vec<canary_core::PublicKey> = signed_by
        .iter()
        .filter_map(|id| trusted.get(id).copied())
        .collect();
    summary::confirm(
        &doc.summary(folder, &names),
        &signing_with(&args.key, file.public_key(), &names, &signed_by),
        args.key.yes,
    )?;
    let key = unlock_key(&file, &args.key)?;
    if !envelope.add_signature(&key) {
        // Signed before canary-sign made plain signatures: make them now.
        if let Some(statement) = doc.plain()
            && plain::issuer_fits(&statement.issuer)
            && !has_plain(folder, statement, envelope.payload(), key.public_key())
        {
            write_plain(folder, statement, envelope.payload(), &key)?;
            say(&format!(
                "{} was already signed by this key ({}); made its plain signatures",
                args.input.display(),
                key.public_key().id().short()
            ));
            return Ok(args.input.clone());
        }
        return Err(refuse!(
            "{} is already signed by this key ({})",
            args.input.display(),
            id.short()
        ));
    }
    let bytes = checked_output::<T>(&policy, &envelope, &key)?;
    let path = args.out.clone().unwrap_or_else(|| args.input.clone());
    folder.record_trust()?;
    // The plain signatures first, as for a new document.
    if let Some(statement) = doc.plain() {
        write_plain(folder, statement, envelope.payload(), &key)?;
    }
    if args.out.is_some() {
        write_new_public(&path, &bytes)?;
    } else {
        write_atomic_public(&path, &bytes)?;
    }
    let panic = policy.panic_keys().contains_key(&key.public_key().id());
    report(&what, &path, doc.progress(folder, &envelope), panic);
    Ok(path)
}

/// Names for the keys a summary shows: the `.pub` files beside the signing
/// key and in the issuer folder.
fn key_names(own: &canary_core::PublicKey, args: &KeyArgs, folder: &IssuerFolder) -> KeyNames {
    let key_dir = match args.key.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    KeyNames::gather(Some(own), &[&key_dir, &folder.dir])
}

/// The last line of a summary: which key signs, and who signed before.
fn signing_with(
    args: &KeyArgs,
    own: &canary_core::PublicKey,
    names: &KeyNames,
    signed_by: &[canary_core::PublicKey],
) -> String {
    let mut line = format!(
        "with the key in {}: {}",
        escape(&args.key.display().to_string()),
        names.label(own)
    );
    if !signed_by.is_empty() {
        let list: Vec<String> = signed_by.iter().map(|k| names.label(k)).collect();
        line.push_str(&format!("\nalready signed by: {}", list.join(", ")));
    }
    line
}

/// True when `key`'s plain signatures of `statement` are in the folder and
/// verify over `payload`.
fn has_plain(
    folder: &IssuerFolder,
    statement: &Statement,
    payload: &[u8],
    key: &canary_core::PublicKey,
) -> bool {
    let dir = folder.plain_dir(statement.sequence);
    let (sig, minisig) = plain::file_names(&key.id());
    let ns = plain::namespace(&statement.issuer);
    let comment = plain::trusted_comment(statement);
    std::fs::read(dir.join(sig)).is_ok_and(|f| plain::check_sshsig(&f, key, &ns, payload).is_ok())
        && std::fs::read(dir.join(minisig))
            .is_ok_and(|f| plain::check_minisig(&f, key, &comment, payload).is_ok())
}

/// Makes `key`'s SSHSIG and minisign signatures of the statement's payload
/// and writes them to the folder's `plain/<seq>/` (replacing any there), once
/// they verify.
fn write_plain(
    folder: &IssuerFolder,
    statement: &Statement,
    payload: &[u8],
    key: &canary_core::SigningKey,
) -> Result<()> {
    if !plain::issuer_fits(&statement.issuer) {
        note(&format!(
            "note: no plain signatures (ssh-keygen, minisign) for issuer {:?}: they need an \
             issuer of ASCII letters, digits and .-_:@+ only",
            escape(&statement.issuer)
        ));
        return Ok(());
    }
    let sigs = plain::sign(key, statement, payload);
    let public = key.public_key();
    plain::check_sshsig(
        &sigs.sshsig,
        public,
        &plain::namespace(&statement.issuer),
        payload,
    )
    .and_then(|()| {
        plain::check_minisig(
            &sigs.minisig,
            public,
            &plain::trusted_comment(statement),
            payload,
        )
    })
    .map_err(|e| fail!("internal: a new plain signature does not verify: {e}"))?;
    let dir = folder.plain_dir(statement.sequence);
    let (sig, minisig) = plain::file_names(&public.id());
    write_atomic_public(&dir.join(sig), &sigs.sshsig)
        .and_then(|()| write_atomic_public(&dir.join(minisig), &sigs.minisig))
        .map_err(|e| {
            crate::error::Failure::error(e).hint(format!(
                "make {} writable and run the same command again",
                dir.display()
            ))
        })?;
    Ok(())
}

/// Serializes the envelope and verifies it as a reader would before anything
/// is written: a signature that does not verify is never published.
fn checked_output<T: Signable>(
    policy: &TrustPolicy,
    envelope: &Envelope,
    key: &canary_core::SigningKey,
) -> Result<Vec<u8>> {
    let mut bytes = envelope.to_json();
    // The envelope with every signature it needs must stay within what
    // readers accept; nothing is written otherwise.
    let needed = policy.keys().len().max(envelope.signatures().len());
    let size = checks::envelope_size(envelope.payload().len(), needed);
    if let (Some(p), _) = checks::size_problem(T::PAYLOAD_TYPE, size) {
        return Err(refuse!("{}; nothing was written", p.reason)
            .hint("shorten the document (notes, promises, incident texts)"));
    }
    let id = key.public_key().id();
    let by_panic_key = |findings: &[canary_core::Finding]| {
        findings
            .iter()
            .any(|f| matches!(f, canary_core::Finding::PanicKey { keyid } if *keyid == id))
    };
    match verify_document::<T>(&bytes, policy) {
        Ok(v) if v.signers().contains(&id) || v.panic_signers().contains(&id) => {}
        Err(findings) if by_panic_key(&findings) => {}
        Ok(_) => {
            return Err(fail!(
                "internal: the new signature does not verify; nothing was written"
            ));
        }
        Err(findings) => {
            let reasons: Vec<String> = findings.iter().map(ToString::to_string).collect();
            return Err(fail!(
                "internal: the signed document does not verify ({}); nothing was written",
                reasons.join("; ")
            ));
        }
    }
    bytes.push(b'\n');
    Ok(bytes)
}

fn report(what: &str, path: &Path, (progress, complete): (String, bool), panic: bool) {
    if panic {
        say(&format!(
            "signed {what} with a PANIC key: {}",
            path.display()
        ));
        note(
            "next: publish it (canary-sign publish): every reader will report the canary as \
             TRIPPED, and the published site will say so",
        );
        return;
    }
    say(&format!("signed {what}: {} ({progress})", path.display()));
    if !complete {
        note(&format!(
            "next: more signatures are needed: canary-sign sign {} --key OTHER.key",
            path.display()
        ));
    }
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

/// Runs the command.
pub fn run(args: &Args) -> Result<u8> {
    let folder = args.dir.open()?;
    let bytes = std::fs::read(&args.input)
        .map_err(|e| fail!("cannot read {}: {e}", args.input.display()))?;
    // Co-signing in place: read, add and write under the folder's lock, so
    // co-signers at the same moment never lose each other's signatures.
    let in_place = args.out.is_none() && matches!(classify(&bytes), Ok(Input::Envelope(_)));
    let _lock = if in_place {
        Some(crate::fsutil::lock_folder(&folder.dir)?)
    } else {
        None
    };
    let bytes = if in_place {
        std::fs::read(&args.input)
            .map_err(|e| fail!("cannot read {}: {e}", args.input.display()))?
    } else {
        bytes
    };
    if is_final_statement(&bytes) {
        if !args.final_statement {
            return Err(refuse!("{FINAL_WARNING}; nothing was signed").hint(
                "remove \"final\" from the draft, or sign with --final if this is the last canary",
            ));
        }
        note(&format!("WARNING: {FINAL_WARNING}"));
    }
    match classify(&bytes)? {
        Input::Envelope(env) => match env.payload_type() {
            PayloadType::Statement => cosign::<Statement>(&folder, env, args),
            PayloadType::Incident => cosign::<IncidentRecord>(&folder, env, args),
            PayloadType::Rotation => cosign::<KeyRotation>(&folder, env, args),
        },
        Input::Draft(PayloadType::Statement) => {
            let doc: Statement = parse_draft(&bytes)
                .map_err(|e| refuse_problems("the draft", &draft_problems(&bytes, e)))?;
            sign_new(
                &folder,
                &doc,
                &args.key,
                args.out.as_deref(),
                args.at.now()?,
                args.allow_statement_change,
            )
        }
        Input::Draft(PayloadType::Incident) => {
            let doc: IncidentRecord = parse_draft(&bytes)
                .map_err(|e| refuse_problems("the draft", &draft_problems(&bytes, e)))?;
            sign_new(
                &folder,
                &doc,
                &args.key,
                args.out.as_deref(),
                args.at.now()?,
                false,
            )
        }
        Input::Draft(PayloadType::Rotation) => {
            let doc: KeyRotation = parse_draft(&bytes)
                .map_err(|e| refuse_problems("the draft", &draft_problems(&bytes, e)))?;
            sign_new(
                &folder,
                &doc,
                &args.key,
                args.out.as_deref(),
                args.at.now()?,
                false,
            )
        }
    }?;
    Ok(0)
}
