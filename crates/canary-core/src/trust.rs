//! The trust chain (DESIGN §3.5): the reader's pin, then every rotation
//! followed from it one version at a time. Both the verifier and the signer
//! read an issuer's keys through this one type.

use serde::{Deserialize, Serialize};

use std::collections::BTreeMap;

use crate::digest::Digest;
use crate::document::Payload;
use crate::envelope::Envelope;
use crate::keys::{KeyId, PublicKey};
use crate::layout::{Archive, ArchivePath};
use crate::policy::TrustPolicy;
use crate::verify::{Finding, HasIssuer, Verified, verify_document, verify_rotation};

/// More rotations than any real issuer makes: a hostile archive cannot keep
/// a reader walking forever.
pub const MAX_ROTATIONS: u64 = 1000;

/// The policies in force for one issuer: the pin first, then one per
/// verified rotation, oldest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustChain {
    policies: Vec<TrustPolicy>,
    /// The envelope of each followed rotation, in order.
    rotations: Vec<Vec<u8>>,
}

/// Why [`TrustChain::follow`] stopped early.
#[derive(Debug)]
pub enum FollowError<E> {
    /// The rotation to this version could not be read.
    Unreadable {
        /// The trust version the rotation would lead to.
        version: u64,
        /// What the archive said.
        error: E,
    },
    /// The rotation is there, but not acceptable; the chain stays at the
    /// version before it.
    Refused(Finding),
}

/// What a verifier remembers of a trust chain between runs: the rotations
/// it followed, and the pin they were followed from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RememberedTrust {
    /// [`TrustPolicy::trust_digest`] of the pin the rotations were followed from.
    pub pin: Digest,
    /// Each rotation envelope, as published, oldest first.
    pub rotations: Vec<String>,
}

impl TrustChain {
    /// A chain of the pin alone.
    #[must_use]
    pub fn new(pin: TrustPolicy) -> Self {
        TrustChain {
            policies: vec![pin],
            rotations: Vec::new(),
        }
    }

    /// The chain `remembered` describes, when it was followed from this very
    /// pin (same issuer, version, keys, threshold and panic keys) and every
    /// rotation still verifies from it; otherwise the pin alone, so the walk
    /// starts again from the pin. The pin's `max_age` and `url` apply to
    /// every policy of the chain.
    #[must_use]
    pub fn resume(pin: TrustPolicy, remembered: &RememberedTrust) -> Self {
        let mut chain = TrustChain::new(pin);
        if remembered.pin != chain.pin().trust_digest() {
            return chain;
        }
        let mut resumed = chain.clone();
        for rotation in &remembered.rotations {
            if resumed.rotate(rotation.as_bytes()).is_err() {
                return chain;
            }
        }
        chain = resumed;
        chain
    }

    /// What to remember of this chain; `None` while no rotation was followed.
    #[must_use]
    pub fn remembered(&self) -> Option<RememberedTrust> {
        if self.rotations.is_empty() {
            return None;
        }
        Some(RememberedTrust {
            pin: self.pin().trust_digest(),
            rotations: self
                .rotations
                .iter()
                .map(|r| String::from_utf8_lossy(r).into_owned())
                .collect(),
        })
    }

    /// The reader's pin.
    #[must_use]
    pub fn pin(&self) -> &TrustPolicy {
        &self.policies[0]
    }

    /// The policy in force now: the newest.
    #[must_use]
    pub fn current(&self) -> &TrustPolicy {
        self.policies.last().unwrap_or(&self.policies[0])
    }

    /// Every policy in force so far, oldest (the pin) first.
    #[must_use]
    pub fn policies(&self) -> &[TrustPolicy] {
        &self.policies
    }

    /// The envelopes of the rotations followed, oldest first.
    #[must_use]
    pub fn rotations(&self) -> &[Vec<u8>] {
        &self.rotations
    }

    /// The policy of trust version `version`, if the chain reached it.
    #[must_use]
    pub fn version(&self, version: u64) -> Option<&TrustPolicy> {
        self.policies.iter().find(|p| p.version() == version)
    }

    /// Applies one rotation envelope to the current policy: it must be
    /// signed by a threshold of the current keys and of its own new keys,
    /// for the same issuer, to exactly the next version. Returns the new
    /// policy.
    pub fn rotate(&mut self, envelope: &[u8]) -> Result<&TrustPolicy, Vec<Finding>> {
        let (next, _) = verify_rotation(envelope, self.current())?;
        self.policies.push(next);
        self.rotations.push(envelope.to_vec());
        Ok(self.current())
    }

    /// Follows `rotations/<v+1>.json` from the current version until one is
    /// absent (DESIGN §9), checking each step. On a refused rotation the
    /// chain stays at the last good version.
    pub fn follow<A: Archive + ?Sized>(
        &mut self,
        archive: &mut A,
    ) -> Result<(), FollowError<A::Error>> {
        for _ in 0..MAX_ROTATIONS {
            let from = self.current().version();
            let version = from.saturating_add(1);
            let path = ArchivePath::Rotation(version);
            let bytes = match archive.fetch(path) {
                Ok(Some(b)) => b,
                Ok(None) => return Ok(()),
                Err(error) => return Err(FollowError::Unreadable { version, error }),
            };
            if let Err(findings) = self.rotate(&bytes) {
                // The inner findings say "key rotation ... refused" already.
                let reasons: Vec<String> = findings
                    .iter()
                    .map(|f| match f {
                        Finding::Rotation { reason, .. } => reason.clone(),
                        other => other.to_string(),
                    })
                    .collect();
                return Err(FollowError::Refused(Finding::Rotation {
                    version,
                    reason: format!(
                        "{path} (trust version {from} to {version}): {}",
                        reasons.join("; ")
                    ),
                }));
            }
        }
        Err(FollowError::Refused(Finding::Rotation {
            version: self.current().version().saturating_add(1),
            reason: format!("more than {MAX_ROTATIONS} key rotations"),
        }))
    }

    /// [`TrustChain::follow`] over an issuer folder, where the newest
    /// rotation may still wait for co-signatures (DESIGN §8): a refused
    /// rotation with none after it is pending, and its version is returned;
    /// any other refused rotation is an error, as in a published archive.
    pub fn follow_folder<A: Archive + ?Sized>(
        &mut self,
        archive: &mut A,
    ) -> Result<Option<u64>, FollowError<A::Error>> {
        match self.follow(archive) {
            Ok(()) => Ok(None),
            Err(FollowError::Refused(finding)) => {
                let pending = self.current().version().saturating_add(1);
                let after = pending.saturating_add(1);
                match archive.fetch(ArchivePath::Rotation(after)) {
                    Ok(None) => Ok(Some(pending)),
                    Ok(Some(_)) => Err(FollowError::Refused(finding)),
                    Err(error) => Err(FollowError::Unreadable {
                        version: after,
                        error,
                    }),
                }
            }
            Err(e) => Err(e),
        }
    }

    /// Verifies an archived document under the policies in force, newest
    /// first: it was signed under the policy of its time, which a reader
    /// cannot know in advance. On failure, the findings under the newest
    /// policy.
    pub fn verify<T: Payload + HasIssuer>(
        &self,
        bytes: &[u8],
    ) -> Result<Verified<T>, Vec<Finding>> {
        self.verify_at_threshold(bytes, usize::MAX)
    }

    /// [`TrustChain::verify`] with each policy's threshold lowered to at
    /// most `threshold`: for documents still being co-signed (the signer
    /// reads its own folder with threshold 1).
    ///
    /// A panic key of any policy of the chain counts: an archived document
    /// may have been signed while a panic key since rotated out was in force
    /// (not when it is a signing key of the policy that accepts it).
    pub fn verify_at_threshold<T: Payload + HasIssuer>(
        &self,
        bytes: &[u8],
        threshold: usize,
    ) -> Result<Verified<T>, Vec<Finding>> {
        let mut newest = None;
        for policy in self.policies.iter().rev() {
            let lowered;
            let policy = if threshold < policy.threshold() {
                lowered = policy.with_threshold(threshold.max(1));
                &lowered
            } else {
                policy
            };
            match verify_document::<T>(bytes, policy) {
                Ok(mut v) => {
                    // Only when another policy names a panic key this one
                    // does not: the envelope is parsed again for it.
                    let more_panic_keys = self.policies.iter().any(|p| {
                        p.panic_keys()
                            .keys()
                            .any(|k| !policy.panic_keys().contains_key(k))
                    });
                    if more_panic_keys {
                        let others = self.panic_signers(bytes);
                        v.add_panic_signers(
                            others
                                .into_iter()
                                .filter(|k| !policy.keys().contains_key(k)),
                        );
                    }
                    return Ok(v);
                }
                Err(f) => {
                    newest.get_or_insert(f);
                }
            }
        }
        let mut findings: Vec<Finding> = newest.unwrap_or_default();
        if self.policies.len() > 1 {
            let known: Vec<KeyId> = findings
                .iter()
                .filter_map(|f| match f {
                    Finding::PanicKey { keyid } => Some(*keyid),
                    _ => None,
                })
                .collect();
            let more: Vec<Finding> = self
                .panic_signers(bytes)
                .into_iter()
                .filter(|k| !known.contains(k))
                .map(|keyid| Finding::PanicKey { keyid })
                .collect();
            findings.splice(0..0, more);
        }
        Err(findings)
    }

    /// A document signed by a panic key of any policy of the chain, with
    /// or without the threshold of signing keys: what a maintainer under
    /// duress signs alone. The envelope, the canonical payload and the
    /// issuer are checked as for any document; the panic keys are its
    /// [`Verified::panic_signers`] and it has no signers. Every reader
    /// reports it as tripped (DESIGN §5 step 10), so it is shown as
    /// tripped, never as a valid canary.
    pub fn verify_by_panic_key<T: Payload + HasIssuer>(
        &self,
        bytes: &[u8],
    ) -> Result<Verified<T>, Vec<Finding>> {
        let current = self.current();
        let panic_keys: BTreeMap<KeyId, PublicKey> = self
            .policies
            .iter()
            .flat_map(|p| p.panic_keys().iter().map(|(id, k)| (*id, *k)))
            .collect();
        let Ok(policy) = TrustPolicy::new(
            current.issuer(),
            current.version(),
            1,
            panic_keys.into_values(),
            [],
        ) else {
            // No panic key anywhere in the chain.
            return Err(vec![Finding::BadSignature { threshold: 1 }]);
        };
        verify_document::<T>(bytes, &policy).map(Verified::signed_by_panic_keys)
    }

    /// The panic keys of any policy of the chain with a valid signature in
    /// the envelope `bytes` (none when it does not parse).
    #[must_use]
    pub fn panic_signers(&self, bytes: &[u8]) -> Vec<KeyId> {
        let Ok(envelope) = Envelope::parse(bytes) else {
            return Vec::new();
        };
        let all: BTreeMap<KeyId, PublicKey> = self
            .policies
            .iter()
            .flat_map(|p| p.panic_keys().iter().map(|(id, k)| (*id, *k)))
            .collect();
        envelope.valid_signers(&all)
    }
}
