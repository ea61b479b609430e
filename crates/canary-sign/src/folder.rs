//! The issuer folder (DESIGN §8): `canary.toml`, `statements/<seq>.json`,
//! `incidents/<id>/<version>.json`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, anyhow, bail};
use canary_core::{
    Archive, ArchivePath, Digest, FollowError, HasIssuer, IncidentRecord, KeyId, Payload,
    Statement, TrustChain, TrustPolicy, Verified,
};

use crate::config::IssuerConfig;

/// An issuer folder and its configuration.
pub struct IssuerFolder {
    /// The folder.
    pub dir: PathBuf,
    /// Its `canary.toml`.
    pub config: IssuerConfig,
    /// The trust chain: canary.toml's `[trust]`, then every fully signed
    /// rotation in `rotations/`. `None` while canary.toml lists no key.
    chain: Option<TrustChain>,
}

/// The folder's `[trust]` differs from the policy its documents were first
/// signed under (`trust-v1.toml`): keys change only by rotation.
#[derive(Debug)]
pub struct TrustEdited {
    /// The record file.
    pub record: String,
    /// True when the record is missing although documents were signed.
    pub missing: bool,
}

impl std::fmt::Display for TrustEdited {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.missing {
            write!(
                f,
                "{} is missing, but documents are signed in this folder: without the record of \
                 trust version 1, an edited [trust] would silently re-key what readers pinned",
                self.record
            )
        } else {
            write!(
                f,
                "canary.toml's [trust] differs from {}, the trust policy version 1 that documents \
                 were signed under; readers pinned that policy, so editing [trust] would silently \
                 re-key it",
                self.record
            )
        }
    }
}

impl std::error::Error for TrustEdited {}

/// The name of the record of trust version 1 in an issuer folder.
pub const TRUST_RECORD: &str = "trust-v1.toml";

/// The issuer folder as an archive: `statements/`, `incidents/`, `rotations/`.
pub struct FolderArchive<'a>(pub &'a Path);

impl Archive for FolderArchive<'_> {
    type Error = anyhow::Error;

    fn fetch(&mut self, path: ArchivePath<'_>) -> Result<Option<Vec<u8>>> {
        let file = self.0.join(path.to_path());
        match std::fs::read(&file) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(anyhow::Error::new(e).context(format!("cannot read {}", file.display()))),
        }
    }
}

/// A signed document read from the folder.
pub struct Stored<T> {
    /// Where it is.
    pub path: PathBuf,
    /// The document, authentic under at least one trusted key.
    pub verified: Verified<T>,
}

impl<T> Stored<T> {
    /// The document.
    pub fn doc(&self) -> &T {
        self.verified.document()
    }

    /// Digest of its payload.
    pub fn digest(&self) -> Digest {
        self.verified.digest()
    }

    /// The distinct trusted keys that signed it.
    pub fn signers(&self) -> &[KeyId] {
        self.verified.signers()
    }
}

/// `verified`, or, with `panic_ok` and when it failed, the document in
/// `bytes` as signed by a panic key alone (a maintainer under duress,
/// DESIGN §8), which every reader reports as tripped; else the findings of
/// the first check.
pub fn or_panic_signed<T: Payload + HasIssuer>(
    chain: &TrustChain,
    bytes: &[u8],
    verified: Result<Verified<T>, Vec<canary_core::Finding>>,
    panic_ok: bool,
) -> Result<Verified<T>, Vec<canary_core::Finding>> {
    verified.or_else(|findings| {
        if panic_ok {
            chain.verify_by_panic_key::<T>(bytes).map_err(|_| findings)
        } else {
            Err(findings)
        }
    })
}

/// What a panic key's signature on a statement means to its readers.
pub const PANIC_SIGNED: &str = "readers see this canary as TRIPPED";

impl Stored<Statement> {
    /// Why readers do not take this statement as a valid canary, if they do
    /// not, and what to do: it waits for co-signatures, or a panic key
    /// signed it alone (they see the canary as tripped).
    pub fn not_accepted(&self, threshold: usize) -> Option<String> {
        let n = self.doc().sequence;
        let panic = self.verified.panic_signers();
        // A panic key's signature trips the canary whatever else signed it
        // (DESIGN §5 step 10).
        if !panic.is_empty() {
            let ids: Vec<String> = panic.iter().map(KeyId::short).collect();
            Some(format!(
                "warning: statement {n} is signed by a panic key ({}): {PANIC_SIGNED}",
                ids.join(", ")
            ))
        } else if self.signers().len() >= threshold {
            None
        } else {
            Some(format!(
                "warning: statement {n} has {} of {threshold} signatures, so readers do not \
                 accept it yet; co-sign it: canary-sign sign {} --key KEY",
                self.signers().len(),
                self.path.display()
            ))
        }
    }
}

impl IssuerFolder {
    /// Opens the folder at `dir`, reading and checking its `canary.toml`.
    pub fn open(dir: &Path) -> Result<Self> {
        let path = dir.join("canary.toml");
        let text = std::fs::read_to_string(&path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                anyhow!(
                    "{} has no canary.toml: not an issuer folder (create one with \
                     `canary-sign init --issuer DOMAIN`, or pass --dir)",
                    dir.display()
                )
            } else {
                anyhow::Error::new(e).context(format!("cannot read {}", path.display()))
            }
        })?;
        let config = IssuerConfig::parse(&text).with_context(|| format!("{}", path.display()))?;
        crate::fsutil::refuse_shared_folder(dir)?;
        let mut folder = IssuerFolder {
            dir: dir.to_path_buf(),
            config,
            chain: None,
        };
        if let Ok(genesis) = folder.config.policy() {
            folder.check_trust_record(&genesis)?;
            folder.chain = Some(folder.follow_rotations(genesis)?);
        }
        Ok(folder)
    }

    /// Refuses a `[trust]` that differs from the recorded version 1.
    fn check_trust_record(&self, genesis: &TrustPolicy) -> Result<()> {
        let path = self.dir.join(TRUST_RECORD);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                // No document yet: [trust] may still change freely. Once one
                // is signed, the record is what stops a silent re-key, so
                // its absence is refused rather than taken as a fresh start.
                if self.holds_documents()? {
                    return Err(TrustEdited {
                        record: path.display().to_string(),
                        missing: true,
                    }
                    .into());
                }
                return Ok(());
            }
            Err(e) => {
                return Err(
                    anyhow::Error::new(e).context(format!("cannot read {}", path.display()))
                );
            }
        };
        let recorded = TrustPolicy::from_toml(&text)
            .with_context(|| format!("{} is damaged", path.display()))?;
        if !recorded.same_trust(genesis) {
            return Err(TrustEdited {
                record: path.display().to_string(),
                missing: false,
            }
            .into());
        }
        Ok(())
    }

    /// True once any statement, incident record or rotation is in the folder.
    fn holds_documents(&self) -> Result<bool> {
        Ok(!self.statement_numbers()?.is_empty()
            || !self.rotation_numbers()?.is_empty()
            || !self.incident_ids()?.is_empty())
    }

    /// Records `[trust]` as trust version 1 once a document is signed under
    /// it (nothing to do when the record exists).
    pub fn record_trust(&self) -> Result<()> {
        let path = self.dir.join(TRUST_RECORD);
        if path.exists() {
            return Ok(());
        }
        let genesis = self.config.policy()?;
        let text = format!(
            "# Trust version 1: canary.toml's [trust] when the first document was signed\n\
             # under it. Readers pinned it; canary-sign refuses a [trust] that differs.\n\
             # Change keys with `canary-sign rotate`.\n{}",
            genesis.to_toml()
        );
        crate::fsutil::write_new_public(&path, text.as_bytes())
    }

    /// Follows every fully signed rotation from `genesis` (the core's walk).
    /// The newest rotation may still wait for signatures; any other that
    /// does not verify, or a gap in the numbers, is an error.
    fn follow_rotations(&self, genesis: TrustPolicy) -> Result<TrustChain> {
        let numbers = self.rotation_numbers()?;
        let mut chain = TrustChain::new(genesis);
        match chain.follow_folder(&mut FolderArchive(&self.dir)) {
            Ok(_) => {}
            Err(FollowError::Unreadable { error, .. }) => return Err(error),
            Err(FollowError::Refused(finding)) => bail!("{finding}"),
        }
        let reached = chain.current().version();
        if let Some(stray) = numbers.iter().find(|&&v| v > reached + 1 || v < 2) {
            bail!(
                "{}: rotation to version {stray} does not follow trust version {reached}",
                self.rotation_path(*stray).display(),
            );
        }
        Ok(chain)
    }

    /// The trust chain, or why there is none yet.
    pub fn chain(&self) -> Result<&TrustChain> {
        match &self.chain {
            Some(c) => Ok(c),
            None => Err(self
                .config
                .policy()
                .err()
                .unwrap_or_else(|| anyhow!("no trust policy"))),
        }
    }

    /// The trust policy in force now: the latest fully signed version.
    pub fn policy(&self) -> Result<&TrustPolicy> {
        Ok(self.chain()?.current())
    }

    /// Every trust policy in force so far, oldest first.
    pub fn policies(&self) -> &[TrustPolicy] {
        self.chain.as_ref().map_or(&[], TrustChain::policies)
    }

    /// Path of the rotation to trust version `version`.
    pub fn rotation_path(&self, version: u64) -> PathBuf {
        self.dir.join(ArchivePath::Rotation(version).to_path())
    }

    /// The versions present in `rotations/`, ascending.
    pub fn rotation_numbers(&self) -> Result<Vec<u64>> {
        numbers_in(&self.dir.join("rotations"))
    }

    /// Path of statement `sequence`.
    pub fn statement_path(&self, sequence: u64) -> PathBuf {
        self.dir.join(ArchivePath::Statement(sequence).to_path())
    }

    /// The folder of statement `sequence`'s plain signatures (DESIGN §8,
    /// this implementation's addition): `plain/<seq>/` (zero-padded to 6),
    /// beside `statements/`, which holds envelopes only.
    pub fn plain_dir(&self, sequence: u64) -> PathBuf {
        self.dir.join("plain").join(format!("{sequence:06}"))
    }

    /// Path of version `version` of incident `id`.
    pub fn incident_path(&self, id: &str, version: u64) -> PathBuf {
        self.dir
            .join(ArchivePath::Incident { id, version }.to_path())
    }

    /// The sequences present in `statements/`, ascending.
    pub fn statement_numbers(&self) -> Result<Vec<u64>> {
        numbers_in(&self.dir.join("statements"))
    }

    /// The versions of incident `id` present, ascending.
    pub fn incident_versions(&self, id: &str) -> Result<Vec<u64>> {
        numbers_in(&self.dir.join("incidents").join(id))
    }

    /// The incident ids present, in order.
    pub fn incident_ids(&self) -> Result<Vec<String>> {
        let dir = self.dir.join("incidents");
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => {
                return Err(anyhow::Error::new(e).context(format!("cannot read {}", dir.display())));
            }
        };
        let mut ids = Vec::new();
        for entry in entries {
            let entry = entry.with_context(|| format!("cannot read {}", dir.display()))?;
            if entry.file_type()?.is_dir()
                && let Some(name) = entry.file_name().to_str()
                && canary_core::is_slug(name)
            {
                ids.push(name.to_owned());
            }
        }
        ids.sort();
        Ok(ids)
    }

    /// Reads statement `sequence`. One signed by a panic key alone (a
    /// maintainer under duress, DESIGN §8) is read too: it has no signers,
    /// and its panic keys are its `panic_signers`.
    pub fn statement(&self, sequence: u64) -> Result<Stored<Statement>> {
        let stored: Stored<Statement> = self.read_as(&self.statement_path(sequence), true)?;
        if stored.doc().sequence != sequence {
            bail!(
                "{} holds sequence {}, not {sequence}",
                stored.path.display(),
                stored.doc().sequence
            );
        }
        Ok(stored)
    }

    /// The statement with the highest sequence, if any.
    pub fn latest_statement(&self) -> Result<Option<Stored<Statement>>> {
        match self.statement_numbers()?.last() {
            Some(&n) => Ok(Some(self.statement(n)?)),
            None => Ok(None),
        }
    }

    /// Reads version `version` of incident `id`.
    pub fn incident(&self, id: &str, version: u64) -> Result<Stored<IncidentRecord>> {
        let stored: Stored<IncidentRecord> = self.read(&self.incident_path(id, version))?;
        if stored.doc().id != id || stored.doc().version != version {
            bail!(
                "{} holds incident {:?} version {}, not {id:?} version {version}",
                stored.path.display(),
                stored.doc().id,
                stored.doc().version
            );
        }
        Ok(stored)
    }

    /// The latest version of incident `id`, if any.
    pub fn latest_incident(&self, id: &str) -> Result<Option<Stored<IncidentRecord>>> {
        match self.incident_versions(id)?.last() {
            Some(&v) => Ok(Some(self.incident(id, v)?)),
            None => Ok(None),
        }
    }

    /// Reads a signed document: strict envelope, canonical payload, issuer,
    /// and at least one valid signature by a key of `canary.toml`.
    pub fn read<T: Payload + HasIssuer>(&self, path: &Path) -> Result<Stored<T>> {
        self.read_as(path, false)
    }

    /// [`IssuerFolder::read`], also accepting, with `panic_ok`, a document
    /// signed by a panic key alone.
    fn read_as<T: Payload + HasIssuer>(&self, path: &Path, panic_ok: bool) -> Result<Stored<T>> {
        let bytes =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        // Older documents were signed under older policies, and the newest
        // may still wait for co-signatures: one signature by a key of any
        // policy in force vouches for it here.
        let chain = self.chain()?;
        let result = or_panic_signed(
            chain,
            &bytes,
            chain.verify_at_threshold::<T>(&bytes, 1),
            panic_ok,
        );
        let verified = result.map_err(|findings| {
            let reasons: Vec<String> = findings.iter().map(ToString::to_string).collect();
            anyhow!("{}: {}", path.display(), reasons.join("; "))
        })?;
        Ok(Stored {
            path: path.to_path_buf(),
            verified,
        })
    }

    /// Latest version and digest of every incident in the folder.
    pub fn incident_refs(&self) -> Result<BTreeMap<String, (u64, Digest)>> {
        let mut refs = BTreeMap::new();
        for id in self.incident_ids()? {
            if let Some(latest) = self.latest_incident(&id)? {
                refs.insert(id, (latest.doc().version, latest.digest()));
            }
        }
        Ok(refs)
    }
}

/// The numbers `n` of files named `NNNNNN.json` in `dir`, ascending. Other
/// names are refused, so a stray file is noticed rather than ignored.
fn numbers_in(dir: &Path) -> Result<Vec<u64>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => {
            return Err(anyhow::Error::new(e).context(format!("cannot read {}", dir.display())));
        }
    };
    let mut numbers = Vec::new();
    for entry in entries {
        let entry = entry.with_context(|| format!("cannot read {}", dir.display()))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') {
            continue; // editor and temporary files
        }
        let n = canary_core::layout::parse_numbered(&name).ok_or_else(|| {
            anyhow!(
                "unexpected file {} (expected names like 000001.json)",
                dir.join(&*name).display()
            )
        })?;
        numbers.push(n);
    }
    numbers.sort_unstable();
    Ok(numbers)
}
