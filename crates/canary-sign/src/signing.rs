//! Signing one or several documents with one key: each is checked first
//! (document rules, the folder's chain, the signatures already there, that
//! the key may sign it), then one summary of them all is shown and
//! confirmed, the passphrase is asked once, and each is signed, verified as
//! a reader would and written atomically.

use std::path::{Path, PathBuf};

use canary_core::{
    Digest, Envelope, KeyId, PublicKey, SigningKey, Statement, Timestamp, TrustPolicy,
    parse_payload, to_payload, verify_document,
};

use crate::checks;
use crate::cmd::sign::{Signable, payload_problems};
use crate::common::{
    KeyArgs, escape, note, open_key, refuse_problems, require_trusted, say, unlock_key,
};
use crate::error::{Result, fail, refuse};
use crate::folder::IssuerFolder;
use crate::fsutil::{write_atomic_public, write_new_public};
use crate::plain;
use crate::summary::{self, KeyNames};

/// A document checked and waiting for its signature.
pub trait Pending {
    /// The policy whose keys may sign it.
    fn policy(&self) -> &TrustPolicy;
    /// Checks that need only the signer's public key (already signed?).
    fn check_key(&self, key: &PublicKey) -> Result<()>;
    /// Where the signed envelope will be written.
    fn target(&self) -> &Path;
    /// What the signer is shown.
    fn summary(&self, names: &KeyNames) -> Vec<String>;
    /// Signs, verifies and writes it; returns where.
    fn sign(self: Box<Self>, key: &SigningKey) -> Result<PathBuf>;
}

/// A new document: a draft to sign into its first envelope.
pub struct NewDocument<'a, T> {
    folder: &'a IssuerFolder,
    doc: T,
    payload: Vec<u8>,
    path: PathBuf,
    policy: TrustPolicy,
    flags: String,
}

impl<'a, T: Signable> NewDocument<'a, T> {
    /// Checks `doc` against the folder (every rule of `sign`), and that it
    /// will not overwrite a file.
    pub fn prepare(
        folder: &'a IssuerFolder,
        doc: T,
        out: Option<&Path>,
        now: Timestamp,
        allow_change: bool,
    ) -> Result<Self> {
        let what = doc.describe();
        let payload = to_payload(&doc).map_err(|e| refuse_problems(&what, &payload_problems(e)))?;
        let problems = doc.check(folder, Digest::of(&payload), now, allow_change)?;
        if !problems.is_empty() {
            return Err(refuse_problems(&what, &problems));
        }
        // Co-signers will need --allow-statement-change only if it was needed.
        let needed_change = allow_change
            && !doc
                .check(folder, Digest::of(&payload), now, false)?
                .is_empty();
        let flags = cosigner_flags(&doc, needed_change);
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
        refuse_oversize::<T>(payload.len(), policy.keys().len())?;
        Ok(NewDocument {
            folder,
            doc,
            payload,
            path,
            policy,
            flags,
        })
    }
}

impl<T: Signable> Pending for NewDocument<'_, T> {
    fn policy(&self) -> &TrustPolicy {
        &self.policy
    }

    fn check_key(&self, _key: &PublicKey) -> Result<()> {
        Ok(())
    }

    fn target(&self) -> &Path {
        &self.path
    }

    fn summary(&self, names: &KeyNames) -> Vec<String> {
        self.doc.summary(self.folder, names)
    }

    fn sign(self: Box<Self>, key: &SigningKey) -> Result<PathBuf> {
        let NewDocument {
            folder,
            doc,
            payload,
            path,
            policy,
            flags,
        } = *self;
        let envelope = Envelope::sign(T::PAYLOAD_TYPE, payload, key);
        write_signed(folder, &doc, &policy, &envelope, key, &flags, |bytes| {
            write_new_public(&path, bytes)?;
            Ok(path)
        })
    }
}

/// An envelope to add a signature to.
pub struct CoSignature<'a, T> {
    folder: &'a IssuerFolder,
    doc: T,
    envelope: Envelope,
    policy: TrustPolicy,
    /// Every key of every policy of the folder, for naming who signed.
    trusted: std::collections::BTreeMap<KeyId, PublicKey>,
    input: PathBuf,
    /// `--out`, or the input itself (in place).
    out: Option<PathBuf>,
    flags: String,
}

impl<'a, T: Signable> CoSignature<'a, T> {
    /// Checks the envelope's document against the folder, and that every
    /// signature already in it is a valid one by a trusted key.
    pub fn prepare(
        folder: &'a IssuerFolder,
        envelope: Envelope,
        input: &Path,
        out: Option<&Path>,
        now: Timestamp,
        allow_change: bool,
    ) -> Result<Self> {
        let doc: T = parse_payload(envelope.payload())
            .map_err(|e| refuse_problems("the envelope's payload", &payload_problems(e)))?;
        let what = doc.describe();
        let problems = doc.check(folder, Digest::of(envelope.payload()), now, allow_change)?;
        if !problems.is_empty() {
            return Err(refuse_problems(&what, &problems));
        }
        // Every signature already there must be a valid one by a trusted
        // key: of the policy in force, or of an earlier trust version (a
        // transition statement, signed by the old keys while a rotation was
        // co-signed).
        let policy = doc.signers_policy(folder)?;
        let mut trusted = policy.keys().clone();
        for p in folder.policies() {
            trusted.extend(p.keys().iter().map(|(id, k)| (*id, *k)));
        }
        let pae = envelope.pae();
        for (i, sig) in envelope.signatures().iter().enumerate() {
            let valid = trusted
                .get(&sig.keyid)
                .is_some_and(|k| k.verify_strict(&pae, &sig.sig));
            if !valid {
                return Err(refuse!(
                    "signature {} (key id {}) of {} is not a valid signature by a key of \
                     canary.toml; refusing to add to it",
                    i + 1,
                    sig.keyid,
                    input.display()
                ));
            }
        }
        let flags = cosigner_flags(&doc, allow_change);
        refuse_oversize::<T>(
            envelope.payload().len(),
            policy.keys().len().max(envelope.signatures().len() + 1),
        )?;
        Ok(CoSignature {
            folder,
            doc,
            envelope,
            policy,
            trusted,
            input: input.to_path_buf(),
            out: out.map(Path::to_path_buf),
            flags,
        })
    }

    /// True when `key` signed this statement before plain signatures
    /// existed and they are still to be made (which needs the key).
    fn plain_missing(&self, key: &PublicKey) -> bool {
        self.doc.plain().is_some_and(|statement| {
            plain::issuer_fits(&statement.issuer)
                && !has_plain(self.folder, statement, self.envelope.payload(), key)
        })
    }
}

impl<T: Signable> Pending for CoSignature<'_, T> {
    fn policy(&self) -> &TrustPolicy {
        &self.policy
    }

    fn check_key(&self, key: &PublicKey) -> Result<()> {
        let signed = self
            .envelope
            .signatures()
            .iter()
            .any(|s| s.keyid == key.id());
        if signed && !self.plain_missing(key) {
            return Err(refuse!(
                "{} is already signed by this key ({})",
                self.input.display(),
                key.id().short()
            ));
        }
        Ok(())
    }

    fn target(&self) -> &Path {
        self.out.as_deref().unwrap_or(&self.input)
    }

    fn summary(&self, names: &KeyNames) -> Vec<String> {
        let mut lines = self.doc.summary(self.folder, names);
        let signed_by: Vec<String> = self
            .envelope
            .signatures()
            .iter()
            .filter_map(|s| self.trusted.get(&s.keyid))
            .map(|k| names.label(k))
            .collect();
        if !signed_by.is_empty() {
            lines.push(format!("  already signed by: {}", signed_by.join(", ")));
        }
        lines
    }

    fn sign(self: Box<Self>, key: &SigningKey) -> Result<PathBuf> {
        let plain_missing = self.plain_missing(key.public_key());
        let CoSignature {
            folder,
            doc,
            mut envelope,
            policy,
            input,
            out,
            flags,
            ..
        } = *self;
        if !envelope.add_signature(key) {
            // Signed before canary-sign made plain signatures: make them now.
            if plain_missing && let Some(statement) = doc.plain() {
                write_plain(folder, statement, envelope.payload(), key)?;
                say(&format!(
                    "{} was already signed by this key ({}); made its plain signatures",
                    input.display(),
                    key.public_key().id().short()
                ));
                return Ok(input);
            }
            return Err(refuse!(
                "{} is already signed by this key ({})",
                input.display(),
                key.public_key().id().short()
            ));
        }
        write_signed(
            folder,
            &doc,
            &policy,
            &envelope,
            key,
            &flags,
            |bytes| match out {
                Some(out) => {
                    write_new_public(&out, bytes)?;
                    Ok(out)
                }
                None => {
                    write_atomic_public(&input, bytes)?;
                    Ok(input)
                }
            },
        )
    }
}

/// Verifies the signed envelope as a reader would, records the trust
/// policy, writes the plain signatures of a statement and then the envelope
/// (with `write`), and says what was signed and what comes next. The plain
/// signatures go first: a run killed in between leaves no envelope, and
/// running it again writes the same bytes and finishes.
fn write_signed<T: Signable>(
    folder: &IssuerFolder,
    doc: &T,
    policy: &TrustPolicy,
    envelope: &Envelope,
    key: &SigningKey,
    flags: &str,
    write: impl FnOnce(&[u8]) -> Result<PathBuf>,
) -> Result<PathBuf> {
    let bytes = checked_output::<T>(policy, envelope, key)?;
    folder.record_trust()?;
    if let Some(statement) = doc.plain() {
        write_plain(folder, statement, envelope.payload(), key)?;
    }
    let path = write(&bytes)?;
    let panic = policy.panic_keys().contains_key(&key.public_key().id());
    report(
        &doc.describe(),
        &path,
        doc.progress(folder, envelope),
        panic,
        flags,
    );
    Ok(path)
}

/// Signs every pending document with the key of `key_args`: the checks on
/// its public key, one summary and confirmation, one passphrase, then each
/// document in order. Returns where each was written.
pub fn sign_all(
    folder: &IssuerFolder,
    pending: Vec<Box<dyn Pending + '_>>,
    key_args: &KeyArgs,
) -> Result<Vec<PathBuf>> {
    // Two inputs written to one file: the second would replace the first.
    for (i, p) in pending.iter().enumerate() {
        if let Some(q) = pending[..i].iter().find(|q| q.target() == p.target()) {
            return Err(refuse!(
                "two of the inputs would be written to {}; nothing was signed",
                q.target().display()
            )
            .hint("sign one document per output: two drafts of one statement or incident version are one too many"));
        }
    }
    let file = open_key(key_args)?;
    let public = *file.public_key();
    for p in &pending {
        require_trusted(p.policy(), &public, &key_args.key, folder)?;
        p.check_key(&public)?;
    }
    let names = key_names(&public, key_args, folder);
    let mut lines = Vec::new();
    for (i, p) in pending.iter().enumerate() {
        if i > 0 {
            lines.push(String::new());
        }
        lines.extend(p.summary(&names));
    }
    let signer = format!(
        "with the key in {}: {}",
        escape(&key_args.key.display().to_string()),
        names.label(&public)
    );
    summary::confirm(&lines, &signer, key_args.yes)?;
    let key = unlock_key(&file, key_args)?;
    pending.into_iter().map(|p| p.sign(&key)).collect()
}

/// [`sign_all`] for one new document.
pub fn sign_new<T: Signable>(
    folder: &IssuerFolder,
    doc: T,
    key_args: &KeyArgs,
    out: Option<&Path>,
    now: Timestamp,
    allow_change: bool,
) -> Result<PathBuf> {
    let pending = NewDocument::prepare(folder, doc, out, now, allow_change)?;
    let mut written = sign_all(folder, vec![Box::new(pending)], key_args)?;
    written
        .pop()
        .ok_or_else(|| fail!("internal: nothing was signed"))
}

/// Names for the keys a summary shows: the `.pub` files beside the signing
/// key and in the issuer folder.
fn key_names(own: &PublicKey, args: &KeyArgs, folder: &IssuerFolder) -> KeyNames {
    let key_dir = match args.key.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    KeyNames::gather(Some(own), &[&key_dir, &folder.dir])
}

/// True when `key`'s plain signatures of `statement` are in the folder and
/// verify over `payload`.
fn has_plain(
    folder: &IssuerFolder,
    statement: &Statement,
    payload: &[u8],
    key: &PublicKey,
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

/// Refuses a document whose envelope, with `signatures` signatures, would
/// be more than readers accept (DESIGN §7): nothing is signed or written.
fn refuse_oversize<T: Signable>(payload_len: usize, signatures: usize) -> Result<()> {
    let size = checks::envelope_size(payload_len, signatures);
    match checks::size_problem(T::PAYLOAD_TYPE, size) {
        (Some(p), _) => Err(refuse!("{}; nothing was signed or written", p.reason)
            .hint("shorten the document (notes, promises, incident texts)")),
        _ => Ok(()),
    }
}

/// Serializes the envelope and verifies it as a reader would before anything
/// is written: a signature that does not verify is never published.
fn checked_output<T: Signable>(
    policy: &TrustPolicy,
    envelope: &Envelope,
    key: &canary_core::SigningKey,
) -> Result<Vec<u8>> {
    let mut bytes = envelope.to_json();
    // Checked before the summary already (prepare); again for this one.
    refuse_oversize::<T>(
        envelope.payload().len(),
        policy.keys().len().max(envelope.signatures().len()),
    )?;
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

/// The flags a co-signer must repeat: the ones this signature needed.
fn cosigner_flags<T: Signable>(doc: &T, allow_change: bool) -> String {
    let mut flags = String::new();
    if allow_change {
        flags.push_str(" --allow-statement-change");
    }
    if doc.says_final() {
        flags.push_str(" --final");
    }
    flags
}

fn report(what: &str, path: &Path, (progress, complete): (String, bool), panic: bool, flags: &str) {
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
            "next: more signatures are needed: canary-sign sign {} --key OTHER.key{flags}",
            path.display()
        ));
    }
}
