//! Hash-chained history (DESIGN §5 steps 9 and 11): links between
//! statements, removed or reworded promises, and the verifier's state record.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::digest::Digest;
use crate::document::{IncidentRecord, Statement};
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
                text: text.to_owned(),
            }),
            Some(item) if item.text != text => findings.push(Finding::StatementChanged {
                id: id.to_owned(),
                sequence,
                before: text.to_owned(),
                after: item.text.clone(),
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

/// One way a document fails to continue the one before it: the field at
/// fault and why. The signer shows these per field before signing; readers
/// see them as [`Finding::BrokenChain`] or [`Finding::Incident`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkProblem {
    /// The field at fault (`sequence`, `previous`, `issued_at`, `incidents`, `updates`, ...).
    pub field: &'static str,
    /// What is wrong.
    pub reason: String,
}

fn link_problem(field: &'static str, reason: String) -> LinkProblem {
    LinkProblem { field, reason }
}

/// Every way `next` fails to directly follow `prev` (whose payload digest
/// is `prev_digest`): the sequence is exactly one higher, `previous` names
/// `prev`, the date is strictly later, and no incident record once listed
/// disappears or goes back a version (DESIGN §3.3, §5 step 11).
pub fn statement_link_problems(
    prev: &Statement,
    prev_digest: Digest,
    next: &Statement,
) -> Vec<LinkProblem> {
    let mut problems = Vec::new();
    if next.sequence != prev.sequence.saturating_add(1) {
        problems.push(link_problem(
            "sequence",
            format!(
                "sequence {} does not follow sequence {}",
                next.sequence, prev.sequence
            ),
        ));
        return problems;
    }
    if next.previous != Some(prev_digest) {
        problems.push(link_problem(
            "previous",
            format!(
                "must be {prev_digest} (the digest of statement {}), not {}",
                prev.sequence,
                next.previous
                    .map_or_else(|| "absent".to_owned(), |d| d.to_string()),
            ),
        ));
    }
    if next.issued_at <= prev.issued_at {
        problems.push(link_problem(
            "issued_at",
            format!(
                "must be after the previous statement's {}, not {}",
                prev.issued_at, next.issued_at
            ),
        ));
    }
    let listed = next.incidents.as_deref().unwrap_or_default();
    for old in prev.incidents.as_deref().unwrap_or_default() {
        match listed.iter().find(|r| r.id == old.id) {
            Some(r) if r.version >= old.version => {}
            Some(r) => problems.push(link_problem(
                "incidents",
                format!(
                    "incident {:?} goes back from version {} to {}",
                    old.id, old.version, r.version
                ),
            )),
            None => problems.push(link_problem(
                "incidents",
                format!(
                    "incident {:?}, listed at sequence {}, is no longer listed",
                    old.id, prev.sequence
                ),
            )),
        }
    }
    problems
}

/// Checks that `next` directly follows `prev` ([`statement_link_problems`]):
/// the first problem, as a finding.
pub fn check_link(prev: &VerifiedStatement, next: &VerifiedStatement) -> Result<(), Finding> {
    match statement_link_problems(prev.document(), prev.digest(), next.document())
        .into_iter()
        .next()
    {
        None => Ok(()),
        Some(p) => Err(Finding::BrokenChain {
            sequence: next.document().sequence,
            reason: format!("{}: {}", p.field, p.reason),
        }),
    }
}

/// Every way incident version `next` fails to continue `prev` (the version
/// before it with its payload digest, or `None` for version 1): the same
/// id, exactly the next version, `previous` naming it (absent for version
/// 1), and an update timeline that only grows (DESIGN §3.4).
pub fn incident_link_problems(
    prev: Option<(&IncidentRecord, Digest)>,
    next: &IncidentRecord,
) -> Vec<LinkProblem> {
    let mut problems = Vec::new();
    let Some((prev, prev_digest)) = prev else {
        if next.version != 1 {
            problems.push(link_problem(
                "version",
                format!("must be 1 for the first version, not {}", next.version),
            ));
        } else if let Some(d) = next.previous {
            problems.push(link_problem(
                "previous",
                format!("must be absent in version 1, not {d}"),
            ));
        }
        return problems;
    };
    if next.id != prev.id {
        problems.push(link_problem(
            "id",
            format!(
                "is {:?}, but version {} is {:?}",
                next.id, prev.version, prev.id
            ),
        ));
    }
    if next.version != prev.version.saturating_add(1) {
        problems.push(link_problem(
            "version",
            format!("{} does not follow version {}", next.version, prev.version),
        ));
        return problems;
    }
    if next.previous != Some(prev_digest) {
        problems.push(link_problem(
            "previous",
            format!(
                "must be {prev_digest} (the digest of version {})",
                prev.version
            ),
        ));
    }
    if !next.updates.starts_with(&prev.updates) {
        problems.push(link_problem(
            "updates",
            format!(
                "must keep every update of version {} and only add new ones",
                prev.version
            ),
        ));
    }
    problems
}

/// Verifies a run of consecutive statements (each already verified on its
/// own): every link holds, and every promise that disappears or changes along
/// the way is reported, naming the sequence where it happened, as are a
/// `final` statement and a panic-key signature anywhere in the run.
///
/// The first statement must be sequence 1, or `start` must describe the
/// statement just before it (state from an earlier run). [`HistoryWalk`] does
/// the same one statement at a time.
pub fn verify_history(start: Option<&State>, chain: &[VerifiedStatement]) -> Vec<Finding> {
    let mut walk = HistoryWalk::new(start);
    for statement in chain {
        if !walk.push(statement.clone()) {
            break;
        }
    }
    walk.finish(None)
}

/// The history of an issuer fed one statement at a time, in sequence order,
/// keeping only the last one: memory stays the same for an archive of any
/// length. Every finding made is kept, also when the walk stops early at a
/// missing or unauthentic statement (the most severe finding wins).
///
/// ```
/// # use canary_core::{HistoryWalk, VerifiedStatement};
/// # fn walk(archive: impl Iterator<Item = VerifiedStatement>, latest: &VerifiedStatement) {
/// let mut walk = HistoryWalk::new(None);
/// for statement in archive {
///     if !walk.push(statement) {
///         break; // nothing after a broken link belongs to this history
///     }
/// }
/// let findings = walk.finish(Some(latest));
/// # }
/// ```
#[derive(Debug)]
pub struct HistoryWalk<'a> {
    start: Option<&'a State>,
    last: Option<VerifiedStatement>,
    findings: Vec<Finding>,
    stopped: bool,
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
            stopped: false,
            count: 0,
        }
    }

    /// The sequence the next statement must have.
    #[must_use]
    pub fn next_sequence(&self) -> u64 {
        match (&self.last, self.start) {
            (Some(last), _) => last.document().sequence.saturating_add(1),
            (None, Some(state)) => state.sequence.saturating_add(1),
            (None, None) => 1,
        }
    }

    /// Checks an archived statement against the one before it, and records
    /// a `final` flag or a panic-key signature on it. False once the walk
    /// has stopped (a broken link): later statements are ignored, as nothing
    /// is known to belong to this history past that point.
    pub fn push(&mut self, next: VerifiedStatement) -> bool {
        if !self.link(&next) {
            return false;
        }
        let sequence = next.document().sequence;
        if next.document().is_final() {
            self.findings.push(Finding::ArchivedFinal { sequence });
        }
        self.findings.extend(
            next.panic_signers()
                .iter()
                .map(|&keyid| Finding::ArchivedPanicKey { sequence, keyid }),
        );
        self.count += 1;
        self.last = Some(next);
        true
    }

    /// The link checks alone; false when the walk stops here.
    fn link(&mut self, next: &VerifiedStatement) -> bool {
        if self.stopped {
            return false;
        }
        match &self.last {
            None => check_first(self.start, next, &mut self.findings),
            Some(prev) => {
                if !check_step(prev, next, &mut self.findings) {
                    self.stopped = true;
                    return false;
                }
            }
        }
        true
    }

    /// The archived statement at `sequence` did not verify: a panic-key
    /// signature among `findings` still trips the canary; the walk stops.
    pub fn push_unauthentic(&mut self, sequence: u64, findings: &[Finding]) {
        if self.stopped {
            return;
        }
        self.stopped = true;
        for f in findings {
            if let Finding::PanicKey { keyid } = f {
                self.findings.push(Finding::ArchivedPanicKey {
                    sequence,
                    keyid: *keyid,
                });
            }
        }
        // A finding that is a broken link already (a file holding another
        // sequence) is said as it is; anything else is named with the file.
        if let [link @ Finding::BrokenChain { .. }] = findings {
            self.findings.push(link.clone());
            return;
        }
        let others: Vec<Finding> = findings
            .iter()
            .filter(|f| !matches!(f, Finding::PanicKey { .. }))
            .cloned()
            .collect();
        self.findings.push(Finding::BrokenChain {
            sequence,
            reason: format!(
                "the archived statement {} does not verify: {}",
                crate::layout::ArchivePath::Statement(sequence),
                crate::verify::join_findings(&others)
            ),
        });
    }

    /// The archived statement at `sequence` is absent: the walk stops, and
    /// everything found before the gap is kept.
    pub fn push_missing(&mut self, sequence: u64) {
        if self.stopped {
            return;
        }
        self.stopped = true;
        self.findings.push(Finding::HistoryMissing { sequence });
    }

    /// True once a link broke or a statement was missing or unauthentic.
    #[must_use]
    pub fn is_stopped(&self) -> bool {
        self.stopped
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

    /// Everything found, in sequence order, after checking the link to
    /// `latest` (the statement being verified, whose own `final` flag and
    /// panic signatures its verification reports).
    #[must_use]
    pub fn finish(mut self, latest: Option<&VerifiedStatement>) -> Vec<Finding> {
        if let Some(latest) = latest
            && self.link(latest)
        {
            self.count += 1;
        }
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

/// What sources of one issuer (a site and its mirrors) say together: two
/// different statements with one sequence are an equivocation; different
/// sequences, a warning. `served` holds each source's name and statement.
pub fn compare_mirrors<'a>(
    served: impl IntoIterator<Item = (&'a str, &'a VerifiedStatement)>,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut by_sequence: BTreeMap<u64, (Digest, &str)> = BTreeMap::new();
    for (source, s) in served {
        let sequence = s.document().sequence;
        match by_sequence.get(&sequence) {
            Some((digest, first)) if *digest != s.digest() => {
                findings.push(Finding::MirrorsDisagree {
                    sequence,
                    first: (*first).to_owned(),
                    second: source.to_owned(),
                });
            }
            Some(_) => {}
            None => {
                by_sequence.insert(sequence, (s.digest(), source));
            }
        }
    }
    if let (Some(low), Some(high)) = (by_sequence.keys().next(), by_sequence.keys().next_back())
        && low != high
    {
        findings.push(Finding::MirrorBehind {
            low: *low,
            high: *high,
        });
    }
    findings
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
    /// [`crate::TrustPolicy::trust_digest`] of the pin that version was
    /// reached from (absent in state written by earlier versions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pin: Option<Digest>,
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
            pin: None,
        }
    }

    /// The same state, noting the pin its policy version was reached from.
    #[must_use]
    pub fn with_pin(mut self, pin: Digest) -> Self {
        self.pin = Some(pin);
        self
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
            if s.sequence == self.sequence.saturating_add(1) && s.previous != Some(self.digest) {
                findings.push(self.fork(s.sequence));
            }
            findings.extend(compare_statements(&self.statements, s, s.sequence));
        }
        findings
    }

    /// Checks that `first` is the statement directly after this state.
    fn check_successor(&self, first: &VerifiedStatement) -> Vec<Finding> {
        let s = first.document();
        if s.sequence != self.sequence.saturating_add(1) || s.previous != Some(self.digest) {
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
