//! Walking an issuer's archive (DESIGN §5 steps 9 and 11, `--incidents`):
//! the statements between what a reader saw and the latest one, and every
//! version of each listed incident, read through an [`Archive`] and checked
//! under a [`TrustChain`].

use crate::document::{IncidentRecord, Statement};
use crate::history::{HistoryWalk, State, incident_link_problems};
use crate::layout::{Archive, ArchivePath};
use crate::trust::TrustChain;
use crate::verify::{Finding, Verified, VerifiedStatement, join_findings};

/// What a walk found, and why it stopped early if the archive failed.
#[derive(Debug)]
pub struct Walked<T, E> {
    /// Every finding, in order.
    pub findings: Vec<Finding>,
    /// What was verified: statements linked, or the incidents' latest versions.
    pub verified: T,
    /// The archive error that ended the walk, if one did.
    pub error: Option<(String, E)>,
}

/// Verifies archived statement `sequence` under the chain's policies (any
/// policy in force, newest first) and checks that it holds that sequence.
pub fn verify_archived_statement(
    chain: &TrustChain,
    bytes: &[u8],
    sequence: u64,
) -> Result<VerifiedStatement, Vec<Finding>> {
    let verified = chain.verify::<Statement>(bytes)?;
    if verified.document().sequence != sequence {
        return Err(vec![Finding::BrokenChain {
            sequence,
            reason: format!(
                "{} holds sequence {}",
                ArchivePath::Statement(sequence),
                verified.document().sequence
            ),
        }]);
    }
    Ok(verified)
}

/// The history up to `latest` (already verified), read from `archive`:
/// from sequence 1, or from the statement after `start` (the state of an
/// earlier run). `verified` is the number of statements linked.
///
/// This walk reads and checks one statement at a time; a caller that checks
/// signatures in parallel feeds [`HistoryWalk`] the same way, in order.
pub fn check_history<A: Archive + ?Sized>(
    archive: &mut A,
    chain: &TrustChain,
    start: Option<&State>,
    latest: &VerifiedStatement,
) -> Walked<usize, A::Error> {
    let mut walk = HistoryWalk::new(start);
    let mut error = None;
    let to = latest.document().sequence;
    let mut sequence = walk.next_sequence();
    while sequence < to && !walk.is_stopped() {
        let path = ArchivePath::Statement(sequence);
        match archive.fetch(path) {
            Ok(None) => walk.push_missing(sequence),
            Err(e) => {
                error = Some((path.to_path(), e));
                break;
            }
            Ok(Some(bytes)) => match verify_archived_statement(chain, &bytes, sequence) {
                Ok(v) => {
                    walk.push(v);
                }
                Err(findings) => walk.push_unauthentic(sequence, &findings),
            },
        }
        sequence += 1;
    }
    walk.conclude(latest, error)
}

impl HistoryWalk<'_> {
    /// The result of a walk that ends at `latest`: its link is checked
    /// when every statement before it was read and linked, and `error` is
    /// the archive error that ended the walk early, if one did.
    pub fn conclude<E>(
        self,
        latest: &VerifiedStatement,
        error: Option<(String, E)>,
    ) -> Walked<usize, E> {
        let complete = error.is_none() && !self.is_stopped();
        let linked = self.len();
        let findings = self.finish(complete.then_some(latest));
        Walked {
            verified: linked + usize::from(complete),
            findings,
            error,
        }
    }
}

/// Every incident record `statement` lists, with its whole version chain
/// read from `archive` (DESIGN §3.4): each version verifies under the chain,
/// links to the one before, and the latest has the listed digest.
/// `verified` holds the latest version of each record that passed.
pub fn check_incidents<A: Archive + ?Sized>(
    archive: &mut A,
    chain: &TrustChain,
    statement: &Statement,
) -> Walked<Vec<Verified<IncidentRecord>>, A::Error> {
    let mut findings = Vec::new();
    let mut verified = Vec::new();
    for listed in statement.incidents.as_deref().unwrap_or_default() {
        let mut previous: Option<Verified<IncidentRecord>> = None;
        for version in 1..=listed.version {
            let path = ArchivePath::Incident {
                id: &listed.id,
                version,
            };
            let problem = |reason: String| Finding::Incident {
                id: listed.id.clone(),
                version,
                reason,
            };
            let bytes = match archive.fetch(path) {
                Ok(Some(b)) => b,
                Ok(None) => {
                    findings.push(problem(format!("version {version} is missing ({path})")));
                    break;
                }
                Err(e) => {
                    return Walked {
                        findings,
                        verified,
                        error: Some((path.to_path(), e)),
                    };
                }
            };
            let record = match chain.verify::<IncidentRecord>(&bytes) {
                Ok(v) => v,
                Err(f) => {
                    findings.push(problem(format!("{path}: {}", join_findings(&f))));
                    break;
                }
            };
            let r = record.document();
            let mut problems: Vec<String> = Vec::new();
            if r.id != listed.id || r.version != version {
                problems.push(format!("holds incident {:?} version {}", r.id, r.version));
            } else {
                let prev = previous.as_ref().map(|p| (p.document(), p.digest()));
                problems.extend(
                    incident_link_problems(prev, r)
                        .into_iter()
                        .map(|p| format!("{}: {}", p.field, p.reason)),
                );
            }
            if problems.is_empty() && version == listed.version && record.digest() != listed.digest
            {
                problems.push(format!(
                    "digest {} differs from {} listed in the statement",
                    record.digest(),
                    listed.digest
                ));
            }
            if !problems.is_empty() {
                findings.push(problem(format!("{path}: {}", problems.join("; "))));
                break;
            }
            if version == listed.version {
                verified.push(record.clone());
            }
            previous = Some(record);
        }
    }
    Walked {
        findings,
        verified,
        error: None,
    }
}
