//! Hash-chained history (DESIGN §5 steps 9 and 11): links between
//! statements, removed or reworded promises, and the verifier's state record.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::digest::Digest;
use crate::document::Statement;
use crate::time::Timestamp;
use crate::verify::{Finding, VerifiedStatement};

/// The findings for promises of `before` that `after` removes or rewords.
/// New promises are fine. `sequence` is the sequence to name in findings.
pub fn compare_statements(
    before: &BTreeMap<String, String>,
    after: &Statement,
    sequence: u64,
) -> Vec<Finding> {
    compare_sorted(
        before.iter().map(|(id, text)| (id.as_str(), text.as_str())),
        after,
        sequence,
    )
}

/// [`compare_statements`] over `(id, text)` pairs in id order.
fn compare_sorted<'a>(
    before: impl Iterator<Item = (&'a str, &'a str)>,
    after: &Statement,
    sequence: u64,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    for (id, text) in before {
        match after.item(id) {
            None => findings.push(Finding::StatementRemoved {
                id: id.to_owned(),
                sequence,
            }),
            Some(item) if item.text != text => findings.push(Finding::StatementChanged {
                id: id.to_owned(),
                sequence,
            }),
            Some(_) => {}
        }
    }
    findings
}

/// [`compare_statements`] between two consecutive statements, without
/// building the map: the promises of a verified statement have unique ids.
fn compare_consecutive(before: &Statement, after: &Statement) -> Vec<Finding> {
    // The usual case: the same promises, word for word.
    if before.statements == after.statements {
        return Vec::new();
    }
    let mut items: Vec<(&str, &str)> = before
        .statements
        .iter()
        .map(|s| (s.id.as_str(), s.text.as_str()))
        .collect();
    items.sort_unstable_by(|a, b| a.0.cmp(b.0));
    compare_sorted(items.into_iter(), after, after.sequence)
}

/// The promises of a statement as an id → text map.
pub fn statement_texts(statement: &Statement) -> BTreeMap<String, String> {
    statement
        .statements
        .iter()
        .map(|s| (s.id.clone(), s.text.clone()))
        .collect()
}

/// Checks that `next` directly follows `prev`: `previous` names `prev`'s
/// digest, the sequence is exactly one higher, and the date strictly later.
pub fn check_link(prev: &VerifiedStatement, next: &VerifiedStatement) -> Result<(), Finding> {
    let (p, n) = (prev.document(), next.document());
    let broken = |reason: String| Finding::BrokenChain {
        sequence: n.sequence,
        reason,
    };
    if n.sequence != p.sequence.saturating_add(1) {
        return Err(broken(format!(
            "sequence {} does not follow sequence {}",
            n.sequence, p.sequence
        )));
    }
    if n.previous != Some(prev.digest()) {
        return Err(broken(format!(
            "previous is {}, but sequence {} has digest {}",
            n.previous
                .map_or_else(|| "absent".to_owned(), |d| d.to_string()),
            p.sequence,
            prev.digest()
        )));
    }
    if n.issued_at <= p.issued_at {
        return Err(broken(format!(
            "issued_at {} is not after the previous statement's {}",
            n.issued_at, p.issued_at
        )));
    }
    // An incident record once listed never disappears or goes back a version.
    let listed = n.incidents.as_deref().unwrap_or_default();
    for old in p.incidents.as_deref().unwrap_or_default() {
        match listed.iter().find(|r| r.id == old.id) {
            Some(r) if r.version >= old.version => {}
            Some(r) => {
                return Err(broken(format!(
                    "incident {:?} goes back from version {} to {}",
                    old.id, old.version, r.version
                )));
            }
            None => {
                return Err(broken(format!(
                    "incident {:?}, listed at sequence {}, is no longer listed",
                    old.id, p.sequence
                )));
            }
        }
    }
    Ok(())
}

/// Verifies a run of consecutive statements (each already verified on its
/// own): every link holds, and every promise that disappears or changes along
/// the way is reported, naming the sequence where it happened.
///
/// The first statement must be sequence 1, or `start` must describe the
/// statement just before it (state from an earlier run). [`HistoryWalk`] does
/// the same one statement at a time.
pub fn verify_history(start: Option<&State>, chain: &[VerifiedStatement]) -> Vec<Finding> {
    let mut findings = Vec::new();
    let Some(first) = chain.first() else {
        return findings;
    };
    check_first(start, first, &mut findings);
    for pair in chain.windows(2) {
        let [prev, item] = pair else { continue };
        if !check_step(prev, item, &mut findings) {
            break;
        }
    }
    findings
}

/// [`verify_history`] fed one statement at a time, in sequence order, keeping
/// only the last one: memory stays the same for an archive of any length.
///
/// ```
/// # use canary_core::{HistoryWalk, VerifiedStatement};
/// # fn walk(archive: impl Iterator<Item = VerifiedStatement>) {
/// let mut walk = HistoryWalk::new(None);
/// for statement in archive {
///     if !walk.push(statement) {
///         break; // a broken link: nothing after it belongs to this history
///     }
/// }
/// let findings = walk.finish();
/// # }
/// ```
#[derive(Debug)]
pub struct HistoryWalk<'a> {
    start: Option<&'a State>,
    last: Option<VerifiedStatement>,
    findings: Vec<Finding>,
    broken: bool,
    count: usize,
}

impl<'a> HistoryWalk<'a> {
    /// A walk from sequence 1, or from the statement `start` describes.
    #[must_use]
    pub fn new(start: Option<&'a State>) -> Self {
        Self {
            start,
            last: None,
            findings: Vec::new(),
            broken: false,
            count: 0,
        }
    }

    /// Checks `next` against the statement before it. False once a link is
    /// broken: later statements are ignored, as nothing is known to belong
    /// to this history past that point.
    pub fn push(&mut self, next: VerifiedStatement) -> bool {
        if self.broken {
            return false;
        }
        match &self.last {
            None => check_first(self.start, &next, &mut self.findings),
            Some(prev) => {
                if !check_step(prev, &next, &mut self.findings) {
                    self.broken = true;
                    return false;
                }
            }
        }
        self.count += 1;
        self.last = Some(next);
        true
    }

    /// Statements accepted so far (up to a broken link).
    #[must_use]
    pub fn len(&self) -> usize {
        self.count
    }

    /// True before the first statement.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Everything found, in sequence order.
    #[must_use]
    pub fn finish(self) -> Vec<Finding> {
        self.findings
    }
}

/// The checks on the first statement of a run.
fn check_first(start: Option<&State>, first: &VerifiedStatement, findings: &mut Vec<Finding>) {
    match start {
        Some(state) => {
            findings.extend(state.check_successor(first));
            let sequence = first.document().sequence;
            findings.extend(compare_statements(
                &state.statements,
                first.document(),
                sequence,
            ));
        }
        None => {
            if first.document().sequence != 1 || first.document().previous.is_some() {
                findings.push(Finding::BrokenChain {
                    sequence: first.document().sequence,
                    reason: "the history does not start at sequence 1".to_owned(),
                });
            }
        }
    }
}

/// One link; false when it is broken.
fn check_step(
    prev: &VerifiedStatement,
    item: &VerifiedStatement,
    findings: &mut Vec<Finding>,
) -> bool {
    if let Err(f) = check_link(prev, item) {
        findings.push(f);
        return false;
    }
    findings.extend(compare_consecutive(prev.document(), item.document()));
    true
}

/// What a verifier remembers about an issuer between runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct State {
    /// The issuer.
    pub issuer: String,
    /// Highest sequence seen.
    pub sequence: u64,
    /// Its payload digest.
    pub digest: Digest,
    /// Its promises, id → text.
    pub statements: BTreeMap<String, String>,
    /// When it was last verified ok.
    pub verified_at: Timestamp,
    /// The trust policy version in force then.
    #[serde(default = "one")]
    pub policy_version: u64,
}

fn one() -> u64 {
    1
}

impl State {
    /// The state after `statement` verified ok at `now`.
    pub fn record(statement: &VerifiedStatement, now: Timestamp, policy_version: u64) -> Self {
        let s = statement.document();
        State {
            issuer: s.issuer.clone(),
            sequence: s.sequence,
            digest: statement.digest(),
            statements: statement_texts(s),
            verified_at: now,
            policy_version,
        }
    }

    /// Step 9 without the archive: clock went back, rollback, equivocation,
    /// a fork detectable from one link (the next sequence not naming the
    /// seen digest), and removed or reworded promises.
    ///
    /// When the sequence moved on by more than one, [`verify_history`] over
    /// the archive with this state as `start` finds forks further back.
    pub fn check(&self, statement: &VerifiedStatement, now: Timestamp) -> Vec<Finding> {
        let mut findings = Vec::new();
        if now < self.verified_at {
            findings.push(Finding::ClockWentBack {
                last: self.verified_at,
                now,
            });
        }
        let s = statement.document();
        if s.sequence < self.sequence {
            findings.push(Finding::Rollback {
                seen: self.sequence,
                found: s.sequence,
            });
        } else if s.sequence == self.sequence {
            if statement.digest() != self.digest {
                findings.push(Finding::Equivocation {
                    sequence: s.sequence,
                    seen: self.digest,
                    found: statement.digest(),
                });
            }
        } else {
            if s.sequence == self.sequence + 1 && s.previous != Some(self.digest) {
                findings.push(self.fork(s.sequence));
            }
            findings.extend(compare_statements(&self.statements, s, s.sequence));
        }
        findings
    }

    /// Checks that `first` is the statement directly after this state.
    fn check_successor(&self, first: &VerifiedStatement) -> Vec<Finding> {
        let s = first.document();
        if s.sequence != self.sequence + 1 || s.previous != Some(self.digest) {
            vec![self.fork(s.sequence)]
        } else {
            Vec::new()
        }
    }

    fn fork(&self, found: u64) -> Finding {
        Finding::Fork {
            seen: self.sequence,
            seen_digest: self.digest,
            found,
        }
    }
}
