//! The issuer folder (DESIGN §8): `canary.toml`, `statements/<seq>.json`,
//! `incidents/<id>/<version>.json`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, anyhow, bail};
use canary_core::{
    Digest, HasIssuer, IncidentRecord, KeyId, Payload, Statement, TrustPolicy, Verified,
    verify_document, verify_rotation,
};

use crate::config::IssuerConfig;

/// An issuer folder and its configuration.
pub struct IssuerFolder {
    /// The folder.
    pub dir: PathBuf,
    /// Its `canary.toml`.
    pub config: IssuerConfig,
    /// The trust policies in force over time: canary.toml's `[trust]`, then
    /// one per fully signed rotation in `rotations/`, oldest first. Empty
    /// while canary.toml lists no key.
    policies: Vec<TrustPolicy>,
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

/// File name of sequence or version `n` (zero-padded to 6 digits).
pub fn numbered(n: u64) -> String {
    format!("{n:06}.json")
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
        let mut folder = IssuerFolder {
            dir: dir.to_path_buf(),
            config,
            policies: Vec::new(),
        };
        if let Ok(genesis) = folder.config.policy() {
            folder.policies = folder.walk_rotations(genesis)?;
        }
        Ok(folder)
    }

    /// Applies every fully signed rotation to `genesis`. The newest rotation
    /// may still wait for signatures; any other that does not verify is an
    /// error.
    fn walk_rotations(&self, genesis: TrustPolicy) -> Result<Vec<TrustPolicy>> {
        let numbers = self.rotation_numbers()?;
        let mut policies = vec![genesis];
        for (i, &v) in numbers.iter().enumerate() {
            let current = policies.last().ok_or_else(|| anyhow!("no policy"))?;
            let path = self.rotation_path(v);
            if v != current.version() + 1 {
                bail!(
                    "{}: rotation to version {v} does not follow trust version {}",
                    path.display(),
                    current.version()
                );
            }
            let bytes =
                std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
            match verify_rotation(&bytes, current) {
                Ok((next, _)) => policies.push(next),
                Err(_) if i + 1 == numbers.len() => break, // still being co-signed
                Err(findings) => {
                    let reasons: Vec<String> = findings.iter().map(ToString::to_string).collect();
                    bail!("{}: {}", path.display(), reasons.join("; "));
                }
            }
        }
        Ok(policies)
    }

    /// The trust policy in force now: the latest fully signed version.
    pub fn policy(&self) -> Result<&TrustPolicy> {
        match self.policies.last() {
            Some(p) => Ok(p),
            None => Err(self
                .config
                .policy()
                .err()
                .unwrap_or_else(|| anyhow!("no trust policy"))),
        }
    }

    /// Every trust policy in force so far, oldest first.
    pub fn policies(&self) -> &[TrustPolicy] {
        &self.policies
    }

    /// `policy` with threshold 1: any one of its keys vouches for a
    /// document still waiting for co-signatures.
    pub fn any_signer(policy: &TrustPolicy) -> Result<TrustPolicy> {
        Ok(TrustPolicy::new(
            policy.issuer(),
            policy.version(),
            1,
            policy.keys().values().copied(),
            policy.panic_keys().values().copied(),
        )?)
    }

    /// Path of the rotation to trust version `version`.
    pub fn rotation_path(&self, version: u64) -> PathBuf {
        self.dir.join("rotations").join(numbered(version))
    }

    /// The versions present in `rotations/`, ascending.
    pub fn rotation_numbers(&self) -> Result<Vec<u64>> {
        numbers_in(&self.dir.join("rotations"))
    }

    /// Path of statement `sequence`.
    pub fn statement_path(&self, sequence: u64) -> PathBuf {
        self.dir.join("statements").join(numbered(sequence))
    }

    /// Path of version `version` of incident `id`.
    pub fn incident_path(&self, id: &str, version: u64) -> PathBuf {
        self.dir.join("incidents").join(id).join(numbered(version))
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

    /// Reads statement `sequence`.
    pub fn statement(&self, sequence: u64) -> Result<Stored<Statement>> {
        let stored: Stored<Statement> = self.read(&self.statement_path(sequence))?;
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
        let bytes =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        // Older documents were signed under older policies: any policy in
        // force at some time vouches for them, newest first.
        let mut result = Err(Vec::new());
        for policy in self.policy().map(|_| self.policies.iter().rev())? {
            result = verify_document::<T>(&bytes, &Self::any_signer(policy)?);
            if result.is_ok() {
                break;
            }
        }
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
        let n = name
            .strip_suffix(".json")
            .filter(|d| d.len() == 6 && d.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|d| d.parse::<u64>().ok())
            .filter(|&n| n >= 1)
            .ok_or_else(|| {
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
