//! Verification (DESIGN §5): signatures, payload, issuer, time, final and
//! panic keys, and the verdicts of DESIGN §6.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use chrono::TimeDelta;

use crate::digest::Digest;
use crate::document::{KeyRotation, Payload, PayloadError, Statement, parse_payload};
use crate::envelope::{Envelope, EnvelopeError, PayloadType};
use crate::keys::{KeyId, PublicKey};
use crate::policy::{PolicyError, TrustPolicy};
use crate::time::{Timestamp, format_duration};

/// The outcome for one source, in the words of DESIGN §6.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// Valid and fresh.
    Ok,
    /// Valid, but late or expiring soon (an error only with `--deny-warnings`).
    Warning,
    /// Could not be fetched.
    Unreachable,
    /// Authentic but expired, or older than the verifier's `max_age`.
    Stale,
    /// Forged, malformed, rolled back, from the future, ...
    Invalid,
    /// A promise was removed or changed, the canary is final, or a panic key signed.
    Tripped,
}

impl Verdict {
    /// The word used in JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Ok => "ok",
            Verdict::Warning => "warning",
            Verdict::Unreachable => "unreachable",
            Verdict::Stale => "stale",
            Verdict::Invalid => "invalid",
            Verdict::Tripped => "tripped",
        }
    }

    /// The process exit code (DESIGN §6).
    pub fn exit_code(self) -> u8 {
        match self {
            Verdict::Ok => 0,
            Verdict::Invalid => 1,
            Verdict::Stale => 3,
            Verdict::Unreachable => 4,
            Verdict::Tripped => 5,
            Verdict::Warning => 6,
        }
    }

    /// Rank for "most severe wins": tripped > invalid > stale > unreachable > warning > ok.
    pub fn severity(self) -> u8 {
        match self {
            Verdict::Ok => 0,
            Verdict::Warning => 1,
            Verdict::Unreachable => 2,
            Verdict::Stale => 3,
            Verdict::Invalid => 4,
            Verdict::Tripped => 5,
        }
    }

    /// The more severe of two verdicts.
    pub fn worst(self, other: Verdict) -> Verdict {
        if other.severity() > self.severity() {
            other
        } else {
            self
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Everything verification can find wrong, each with the data to explain it.
/// Every finding maps to exactly one verdict ([`Finding::verdict`]) and one
/// stable reason code ([`Finding::code`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Finding {
    /// The envelope is malformed (step 3).
    #[error(transparent)]
    Envelope(#[from] EnvelopeError),
    /// The envelope carries another document type (step 3).
    #[error("expected payloadType {expected}, found {found}")]
    WrongPayloadType {
        /// What the verifier asked for.
        expected: PayloadType,
        /// What the envelope says.
        found: PayloadType,
    },
    /// No signature verifies under a trusted key (step 4).
    #[error("no valid signature by a trusted key ({threshold} required)")]
    BadSignature {
        /// Signatures required.
        threshold: usize,
    },
    /// Some trusted keys signed, but fewer than the threshold (step 4).
    #[error("only {} of the {threshold} required trusted keys signed ({})", .signers.len(), keyids(.signers))]
    ThresholdNotMet {
        /// Signatures required.
        threshold: usize,
        /// The distinct trusted keys whose signatures verify.
        signers: Vec<KeyId>,
    },
    /// The payload is not a valid document (step 5).
    #[error(transparent)]
    Payload(#[from] PayloadError),
    /// The document speaks for someone else (step 6).
    #[error("issuer is {found:?}, expected {expected:?}")]
    WrongIssuer {
        /// The trust policy's issuer.
        expected: String,
        /// The document's issuer.
        found: String,
    },
    /// `issued_at` is later than now plus the allowed clock skew (step 7).
    #[error("issued_at {issued_at} is in the future (now {now}, allowed skew {})", format_duration(*.max_skew))]
    FromTheFuture {
        /// The statement's date.
        issued_at: Timestamp,
        /// The verifier's now.
        now: Timestamp,
        /// The allowed skew.
        max_skew: TimeDelta,
    },
    /// Now is at or after `expires_at` (step 8).
    #[error("expired at {expires_at} (now {now})")]
    Expired {
        /// The statement's hard deadline.
        expires_at: Timestamp,
        /// The verifier's now.
        now: Timestamp,
    },
    /// The statement is older than the verifier's `max_age` (step 8).
    #[error("issued at {issued_at}, older than the maximum age {} (now {now})", format_duration(*.max_age))]
    TooOld {
        /// The statement's date.
        issued_at: Timestamp,
        /// The verifier's limit.
        max_age: TimeDelta,
        /// The verifier's now.
        now: Timestamp,
    },
    /// Now is at or after `next_due`: the next statement is late (warning).
    #[error("the next statement was due at {next_due} (now {now})")]
    Late {
        /// When the next statement was promised.
        next_due: Timestamp,
        /// The verifier's now.
        now: Timestamp,
    },
    /// The statement expires within the warning window (warning).
    #[error("expires soon, at {expires_at} (now {now})")]
    Expiring {
        /// The hard deadline.
        expires_at: Timestamp,
        /// The verifier's now.
        now: Timestamp,
    },
    /// A lower sequence than one already seen (step 9).
    #[error("sequence {found} is older than sequence {seen} seen before")]
    Rollback {
        /// Highest sequence seen before.
        seen: u64,
        /// Sequence served now.
        found: u64,
    },
    /// The same sequence as seen before, with different content (step 9).
    #[error("sequence {sequence} was {seen} before, and is {found} now")]
    Equivocation {
        /// The sequence.
        sequence: u64,
        /// Digest seen before.
        seen: Digest,
        /// Digest served now.
        found: Digest,
    },
    /// A higher sequence whose chain does not reach the statement seen before (step 9).
    #[error(
        "fork: sequence {found} does not descend from sequence {seen} ({seen_digest}) seen before"
    )]
    Fork {
        /// Sequence seen before.
        seen: u64,
        /// Its digest.
        seen_digest: Digest,
        /// Sequence served now.
        found: u64,
    },
    /// The clock is earlier than the last verification (step 9).
    #[error("the clock went back: now {now} is before the last verification at {last}")]
    ClockWentBack {
        /// Time of the last verification.
        last: Timestamp,
        /// The verifier's now.
        now: Timestamp,
    },
    /// A promise present before is missing now (steps 9 and 11).
    #[error("promise {id:?} was removed{}; it said: {text:?}", at_sequence(*.sequence))]
    StatementRemoved {
        /// The id that disappeared.
        id: String,
        /// The first sequence without it.
        sequence: u64,
        /// What it said.
        text: String,
    },
    /// A promise's text changed (steps 9 and 11).
    #[error("promise {id:?} was reworded{}: {before:?} became {after:?}", at_sequence(*.sequence))]
    StatementChanged {
        /// The id whose text changed.
        id: String,
        /// The first sequence with the new text.
        sequence: u64,
        /// The text before.
        before: String,
        /// The text now.
        after: String,
    },
    /// A link of the history does not hold (step 11).
    #[error("history broken at sequence {sequence}: {reason}")]
    BrokenChain {
        /// The sequence whose link fails.
        sequence: u64,
        /// What is wrong.
        reason: String,
    },
    /// The issuer declared this the last canary (step 10).
    #[error("the issuer announces that no further canary will come")]
    Final,
    /// A panic key signed (steps 4 and 10).
    #[error("a panic key signed this statement ({})", .keyid.short())]
    PanicKey {
        /// The panic key that signed.
        keyid: KeyId,
    },
    /// An archived statement announced that no further canary would come
    /// (steps 10 and 11).
    #[error("the statement at sequence {sequence} announced that no further canary would come")]
    ArchivedFinal {
        /// The archived statement's sequence.
        sequence: u64,
    },
    /// A panic key signed an archived statement (steps 10 and 11).
    #[error("a panic key signed the statement at sequence {sequence} ({})", .keyid.short())]
    ArchivedPanicKey {
        /// The archived statement's sequence.
        sequence: u64,
        /// The panic key that signed.
        keyid: KeyId,
    },
    /// An archived statement is absent (step 11).
    #[error("the archive is missing the statement at sequence {sequence} ({})", crate::layout::ArchivePath::Statement(*.sequence))]
    HistoryMissing {
        /// The first sequence missing.
        sequence: u64,
    },
    /// An incident record's version chain does not hold (`--incidents`).
    #[error("incident {id:?}: {reason}")]
    Incident {
        /// The incident's id.
        id: String,
        /// The version at fault.
        version: u64,
        /// What is wrong.
        reason: String,
    },
    /// Two sources of one issuer serve different statements with the same
    /// sequence (`canary watch` mirrors).
    #[error(
        "mirrors disagree: {first} and {second} serve different statements with sequence {sequence}"
    )]
    MirrorsDisagree {
        /// The sequence.
        sequence: u64,
        /// One source.
        first: String,
        /// The other.
        second: String,
    },
    /// Sources of one issuer serve different sequences (warning).
    #[error("mirrors serve sequences from {low} to {high}")]
    MirrorBehind {
        /// The lowest sequence served.
        low: u64,
        /// The highest.
        high: u64,
    },
    /// A document could not be read (the caller's I/O failed): the source
    /// is unreachable, or a local file unreadable.
    #[error("{message}")]
    Unreachable {
        /// What kind of failure.
        kind: Unreachable,
        /// What the transport or file system said.
        message: String,
    },
    /// The trust in force is an older version than a past run reached: the
    /// source no longer serves rotations this reader followed (step 9).
    #[error(
        "trust version {now} is older than version {seen} reached before: the rotations followed \
         then are no longer served (remove the issuer's state to start over from the pin)"
    )]
    TrustWentBack {
        /// The policy version a past run reached.
        seen: u64,
        /// The version in force now.
        now: u64,
    },
    /// A key rotation is not acceptable.
    #[error("key rotation to version {version} refused: {reason}")]
    Rotation {
        /// The rotation's version.
        version: u64,
        /// Why.
        reason: String,
    },
    /// A canary in another format does not read as its profile says
    /// (DESIGN §11): the rule that did not match.
    #[error("the text does not match the profile's {rule} rule: {reason}")]
    Unparsable {
        /// The rule: `issued`, `due`, `statement`, or `text`.
        rule: String,
        /// What did not match.
        reason: String,
    },
    /// A canary in another format has fewer valid signatures by distinct
    /// pinned keys than its threshold (DESIGN §11).
    #[error(
        "{} of the {threshold} required pinned keys signed{}{}",
        .signers.len(),
        signers_list(.signers),
        rejected_list(.rejected)
    )]
    SignaturesShort {
        /// Signatures required.
        threshold: usize,
        /// The distinct pinned keys (certificates) whose signatures count.
        signers: Vec<String>,
        /// Why each other signature did not count.
        rejected: Vec<String>,
    },
    /// An "as of" date older than one already seen (DESIGN §11).
    #[error("the canary is dated {found}, older than {seen} seen before")]
    DateRollback {
        /// The newest date seen before.
        seen: Timestamp,
        /// The date served now.
        found: Timestamp,
    },
    /// The same "as of" date as seen before, with other bytes (DESIGN §11).
    #[error("the canary dated {issued} was {seen} before, and is {found} now")]
    DateEquivocation {
        /// The date.
        issued: Timestamp,
        /// Digest of the text seen before.
        seen: Digest,
        /// Digest of the text served now.
        found: Digest,
    },
    /// A statement of the last issue is missing from a canary in another
    /// format (DESIGN §11).
    #[error("statement {id:?} was removed in the canary dated {issued}; it said: {text:?}")]
    PromiseRemoved {
        /// The id that disappeared.
        id: String,
        /// The date of the first issue without it.
        issued: Timestamp,
        /// What it said.
        text: String,
    },
    /// A statement of a canary in another format was reworded (DESIGN §11).
    #[error(
        "statement {id:?} was reworded in the canary dated {issued}: {before:?} became {after:?}"
    )]
    PromiseChanged {
        /// The id whose text changed.
        id: String,
        /// The date of the first issue with the new text.
        issued: Timestamp,
        /// The text before.
        before: String,
        /// The text now.
        after: String,
    },
    /// The notes (announcements) of a canary in another format changed
    /// (warning; DESIGN §11).
    #[error("the announcements changed: {before:?} became {after:?}")]
    NotesChanged {
        /// The notes before.
        before: String,
        /// The notes now.
        after: String,
    },
}

/// Findings joined for one line of text.
pub(crate) fn join_findings(findings: &[Finding]) -> String {
    findings
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

fn keyids(ids: &[KeyId]) -> String {
    if ids.is_empty() {
        return "none".to_owned();
    }
    ids.iter().map(KeyId::short).collect::<Vec<_>>().join(", ")
}

fn signers_list(signers: &[String]) -> String {
    if signers.is_empty() {
        String::new()
    } else {
        format!(" ({})", signers.join(", "))
    }
}

fn rejected_list(rejected: &[String]) -> String {
    if rejected.is_empty() {
        String::new()
    } else {
        format!("; not counted: {}", rejected.join("; "))
    }
}

fn at_sequence(sequence: u64) -> String {
    format!(" at sequence {sequence}")
}

impl Finding {
    /// The verdict this finding leads to.
    pub fn verdict(&self) -> Verdict {
        match self {
            Finding::Late { .. }
            | Finding::Expiring { .. }
            | Finding::MirrorBehind { .. }
            | Finding::NotesChanged { .. } => Verdict::Warning,
            Finding::Expired { .. } | Finding::TooOld { .. } => Verdict::Stale,
            Finding::Unreachable { .. } => Verdict::Unreachable,
            Finding::StatementRemoved { .. }
            | Finding::StatementChanged { .. }
            | Finding::PromiseRemoved { .. }
            | Finding::PromiseChanged { .. }
            | Finding::Final
            | Finding::PanicKey { .. }
            | Finding::ArchivedFinal { .. }
            | Finding::ArchivedPanicKey { .. } => Verdict::Tripped,
            _ => Verdict::Invalid,
        }
    }

    /// A stable, machine-readable reason code.
    pub fn code(&self) -> &'static str {
        match self {
            Finding::Envelope(_) => "malformed-envelope",
            Finding::WrongPayloadType { .. } => "wrong-payload-type",
            Finding::BadSignature { .. } => "bad-signature",
            Finding::ThresholdNotMet { .. } => "threshold-not-met",
            Finding::Payload(PayloadError::NotCanonical { .. }) => "not-canonical",
            Finding::Payload(_) => "malformed",
            Finding::WrongIssuer { .. } => "wrong-issuer",
            Finding::FromTheFuture { .. } => "future",
            Finding::Expired { .. } => "expired",
            Finding::TooOld { .. } => "too-old",
            Finding::Late { .. } => "late",
            Finding::Expiring { .. } => "expiring",
            Finding::Rollback { .. } => "rollback",
            Finding::Equivocation { .. } => "equivocation",
            Finding::Fork { .. } => "fork",
            Finding::ClockWentBack { .. } => "clock-went-back",
            Finding::StatementRemoved { .. } => "statement-removed",
            Finding::StatementChanged { .. } => "statement-changed",
            Finding::BrokenChain { .. } => "broken-chain",
            Finding::Final => "final",
            Finding::PanicKey { .. } => "panic-key",
            Finding::Rotation { .. } => "invalid-rotation",
            Finding::ArchivedFinal { .. } => "final",
            Finding::ArchivedPanicKey { .. } => "panic-key",
            Finding::HistoryMissing { .. } => "history-missing",
            Finding::Incident { .. } => "incident",
            Finding::MirrorsDisagree { .. } => "equivocation",
            Finding::MirrorBehind { .. } => "mirror-behind",
            Finding::Unreachable { kind, .. } => kind.code(),
            Finding::TrustWentBack { .. } => "trust-went-back",
            Finding::Unparsable { .. } => "unparsable",
            Finding::SignaturesShort { signers, .. } if signers.is_empty() => "bad-signature",
            Finding::SignaturesShort { .. } => "threshold-not-met",
            Finding::DateRollback { .. } => "rollback",
            Finding::DateEquivocation { .. } => "equivocation",
            Finding::PromiseRemoved { .. } => "statement-removed",
            Finding::PromiseChanged { .. } => "statement-changed",
            Finding::NotesChanged { .. } => "notes-changed",
        }
    }
}

/// Why a document could not be read, for [`Finding::Unreachable`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unreachable {
    /// 404, or no such file.
    NotFound,
    /// Another HTTP status than 200.
    HttpStatus,
    /// Larger than the cap for its kind.
    TooLarge,
    /// Too slow.
    Timeout,
    /// A URL the verifier refuses to fetch (http:// to a non-loopback host,
    /// a redirect to http://, another scheme).
    InsecureUrl,
    /// DNS, TLS, connection: any other transport failure.
    FetchFailed,
    /// A local file that exists but cannot be read.
    Unreadable,
}

impl Unreachable {
    /// The reason code.
    pub fn code(self) -> &'static str {
        match self {
            Unreachable::NotFound => "not-found",
            Unreachable::HttpStatus => "http-status",
            Unreachable::TooLarge => "too-large",
            Unreachable::Timeout => "timeout",
            Unreachable::InsecureUrl => "insecure-url",
            Unreachable::FetchFailed => "fetch-failed",
            Unreachable::Unreadable => "unreadable",
        }
    }
}

/// A document whose signatures met the threshold of the trust policy and
/// whose payload parsed strictly. Only verification creates one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified<T> {
    document: T,
    payload: Vec<u8>,
    digest: Digest,
    signers: Vec<KeyId>,
    panic_signers: Vec<KeyId>,
}

impl<T> Verified<T> {
    /// The document.
    pub fn document(&self) -> &T {
        &self.document
    }

    /// The payload bytes that were signed.
    pub fn payload(&self) -> &[u8] {
        &self.payload
    }

    /// Digest of the payload bytes (what the next link's `previous` names).
    pub fn digest(&self) -> Digest {
        self.digest
    }

    /// The distinct trusted keys whose signatures verify, in key-id order.
    pub fn signers(&self) -> &[KeyId] {
        &self.signers
    }

    /// The panic keys whose signatures verify.
    pub fn panic_signers(&self) -> &[KeyId] {
        &self.panic_signers
    }

    /// Adds panic keys whose signatures verify (of another policy of the
    /// chain), keeping the list sorted and free of repeats.
    pub(crate) fn add_panic_signers(&mut self, more: impl IntoIterator<Item = KeyId>) {
        self.panic_signers.extend(more);
        self.panic_signers.sort();
        self.panic_signers.dedup();
    }

    /// The same document with its signers counted as panic signers: it
    /// was verified under a policy of panic keys only.
    pub(crate) fn signed_by_panic_keys(mut self) -> Self {
        let signers = std::mem::take(&mut self.signers);
        self.add_panic_signers(signers);
        self
    }
}

/// A verified statement.
pub type VerifiedStatement = Verified<Statement>;

/// The distinct keys of `keys` with a valid strict signature in `envelope`.
/// Signatures under unknown key ids are ignored; a key signing twice counts once.
/// `pae` is `envelope.pae()`, built once by the caller.
fn valid_signers(envelope: &Envelope, pae: &[u8], keys: &BTreeMap<KeyId, PublicKey>) -> Vec<KeyId> {
    let mut signers = BTreeSet::new();
    for sig in envelope.signatures() {
        if signers.contains(&sig.keyid) {
            continue;
        }
        if let Some(key) = keys.get(&sig.keyid)
            && key.verify_strict(pae, &sig.sig)
        {
            signers.insert(sig.keyid);
        }
    }
    signers.into_iter().collect()
}

impl Envelope {
    /// The distinct keys of `keys` whose strict signature in this envelope
    /// verifies; unknown key ids are ignored, a key signing twice counts once.
    pub fn valid_signers(&self, keys: &BTreeMap<KeyId, PublicKey>) -> Vec<KeyId> {
        valid_signers(self, &self.pae(), keys)
    }
}

fn threshold_finding(threshold: usize, signers: Vec<KeyId>) -> Finding {
    if signers.is_empty() {
        Finding::BadSignature { threshold }
    } else {
        Finding::ThresholdNotMet { threshold, signers }
    }
}

/// Steps 3–6 for any document type: envelope, payloadType, signatures
/// against the policy's threshold, strict canonical payload, issuer.
///
/// On failure returns every finding made before stopping; a valid panic-key
/// signature is reported even when the threshold is not met.
pub fn verify_document<T: Payload + HasIssuer>(
    envelope_bytes: &[u8],
    policy: &TrustPolicy,
) -> Result<Verified<T>, Vec<Finding>> {
    let envelope = Envelope::parse(envelope_bytes).map_err(|e| vec![e.into()])?;
    verify_envelope(envelope, policy)
}

/// [`verify_document`] on an envelope already parsed.
fn verify_envelope<T: Payload + HasIssuer>(
    envelope: Envelope,
    policy: &TrustPolicy,
) -> Result<Verified<T>, Vec<Finding>> {
    let found = envelope.payload_type();
    if found != T::PAYLOAD_TYPE {
        return Err(vec![Finding::WrongPayloadType {
            expected: T::PAYLOAD_TYPE,
            found,
        }]);
    }
    let pae = envelope.pae();
    let panic_signers = valid_signers(&envelope, &pae, policy.panic_keys());
    let signers = valid_signers(&envelope, &pae, policy.keys());
    let mut findings: Vec<Finding> = panic_signers
        .iter()
        .map(|&keyid| Finding::PanicKey { keyid })
        .collect();
    if signers.len() < policy.threshold() {
        findings.push(threshold_finding(policy.threshold(), signers));
        return Err(findings);
    }
    let document: T = match parse_payload(envelope.payload()) {
        Ok(d) => d,
        Err(e) => {
            findings.push(e.into());
            return Err(findings);
        }
    };
    if document.issuer() != policy.issuer() {
        findings.push(Finding::WrongIssuer {
            expected: policy.issuer().to_owned(),
            found: document.issuer().to_owned(),
        });
        return Err(findings);
    }
    Ok(Verified {
        digest: Digest::of(envelope.payload()),
        payload: envelope.into_payload(),
        document,
        signers,
        panic_signers,
    })
}

/// Documents that name their issuer.
pub trait HasIssuer {
    /// Who speaks.
    fn issuer(&self) -> &str;
}

impl HasIssuer for Statement {
    fn issuer(&self) -> &str {
        &self.issuer
    }
}

impl HasIssuer for crate::document::IncidentRecord {
    fn issuer(&self) -> &str {
        &self.issuer
    }
}

impl HasIssuer for KeyRotation {
    fn issuer(&self) -> &str {
        &self.issuer
    }
}

/// The verifier's settings for one run. `now` is captured once by the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyOptions {
    /// The time to verify at.
    pub now: Timestamp,
    /// How far in the future `issued_at` may be (default 5 minutes).
    pub max_skew: TimeDelta,
    /// Warn when the statement expires sooner than this (default 14 days).
    pub warn_before: TimeDelta,
    /// The reader's maximum age: applies with the policy's, the shorter
    /// of the two winning.
    pub max_age: Option<TimeDelta>,
}

impl VerifyOptions {
    /// The defaults of DESIGN §5 at time `now`.
    pub fn at(now: Timestamp) -> Self {
        VerifyOptions {
            now,
            max_skew: TimeDelta::minutes(5),
            warn_before: TimeDelta::days(14),
            max_age: None,
        }
    }
}

/// The result of verifying one statement: every finding, and the statement
/// when it is authentic (signatures, payload and issuer all hold).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// What was found, in the order of the verification steps.
    pub findings: Vec<Finding>,
    /// The authentic statement, absent when steps 3–6 failed.
    pub statement: Option<VerifiedStatement>,
}

impl Report {
    /// The most severe verdict of all findings. Warnings count as
    /// [`Verdict::Ok`] unless `deny_warnings`.
    pub fn verdict(&self, deny_warnings: bool) -> Verdict {
        self.findings
            .iter()
            .map(Finding::verdict)
            .map(|v| {
                if v == Verdict::Warning && !deny_warnings {
                    Verdict::Ok
                } else {
                    v
                }
            })
            .fold(Verdict::Ok, Verdict::worst)
    }

    /// True when any finding is only a warning.
    pub fn has_warnings(&self) -> bool {
        self.findings
            .iter()
            .any(|f| f.verdict() == Verdict::Warning)
    }
}

/// Verifies a statement envelope: DESIGN §5 steps 3–8 and 10.
///
/// Step 9 (state) is [`crate::State::check`], applied by the caller to
/// `report.statement` and merged into the findings.
pub fn verify_statement(
    envelope_bytes: &[u8],
    policy: &TrustPolicy,
    options: &VerifyOptions,
) -> Report {
    let verified = match verify_document::<Statement>(envelope_bytes, policy) {
        Ok(v) => v,
        Err(findings) => {
            return Report {
                findings,
                statement: None,
            };
        }
    };
    let now = options.now;
    let s = verified.document();
    let mut findings = Vec::new();

    // Step 7: from the future.
    let latest_ok = now.saturating_add(options.max_skew);
    if s.issued_at > latest_ok {
        findings.push(Finding::FromTheFuture {
            issued_at: s.issued_at,
            now,
            max_skew: options.max_skew,
        });
    } else {
        // Step 8: freshness.
        let expired = now >= s.expires_at;
        if expired {
            findings.push(Finding::Expired {
                expires_at: s.expires_at,
                now,
            });
        }
        if let Some(max_age) = crate::time::shorter_max_age(policy.max_age(), options.max_age)
            && now.since(s.issued_at) > max_age
        {
            findings.push(Finding::TooOld {
                issued_at: s.issued_at,
                max_age,
                now,
            });
        }
        if !expired && now >= s.next_due {
            findings.push(Finding::Late {
                next_due: s.next_due,
                now,
            });
        }
        if !expired && s.expires_at.since(now) < options.warn_before {
            findings.push(Finding::Expiring {
                expires_at: s.expires_at,
                now,
            });
        }
    }

    // Step 10: final, or a panic key signed.
    if s.is_final() {
        findings.push(Finding::Final);
    }
    findings.extend(
        verified
            .panic_signers()
            .iter()
            .map(|&keyid| Finding::PanicKey { keyid }),
    );
    Report {
        findings,
        statement: Some(verified),
    }
}

/// Verifies a key rotation envelope against the current policy and returns
/// the next policy. The rotation must be signed by a threshold of the current
/// keys and a threshold of its own new keys, be for the same issuer, and have
/// exactly the next version.
pub fn verify_rotation(
    envelope_bytes: &[u8],
    current: &TrustPolicy,
) -> Result<(TrustPolicy, Verified<KeyRotation>), Vec<Finding>> {
    // Old keys first: the payload is parsed only once the old set vouches for it.
    let envelope = Envelope::parse(envelope_bytes).map_err(|e| vec![e.into()])?;
    let verified = verify_envelope::<KeyRotation>(envelope.clone(), current)?;
    let rotation = verified.document();
    let refuse = |reason: String| {
        vec![Finding::Rotation {
            version: rotation.version,
            reason,
        }]
    };
    let expected = current.version() + 1;
    if rotation.version != expected {
        return Err(refuse(format!(
            "expected version {expected} (the pinned policy is version {})",
            current.version()
        )));
    }
    let next = current
        .rotated(rotation)
        .map_err(|e: PolicyError| refuse(e.to_string()))?;
    let new_signers = envelope.valid_signers(next.keys());
    if new_signers.len() < next.threshold() {
        return Err(refuse(format!(
            "only {} of the {} required new keys signed",
            new_signers.len(),
            next.threshold()
        )));
    }
    Ok((next, verified))
}
