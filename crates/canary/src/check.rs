//! Verifying one source end to end: DESIGN §5 steps 2–11, with the CLI's
//! files and network around the pure checks of canary-core.

use std::path::PathBuf;

use canary_core::{
    Finding, HistoryWalk, IncidentRecord, State, Statement, TrustPolicy, Verdict, Verified,
    VerifiedStatement, VerifyOptions, verify_document, verify_rotation, verify_statement,
};

use crate::fetch::{DOCUMENT_CAP, FetchError, Fetcher, STATEMENT_CAP};
use crate::source::{Location, ReadError, incident_path, rotation_path, statement_path};

/// One reason behind a verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason {
    /// The verdict it leads to.
    pub verdict: Verdict,
    /// Stable machine-readable code.
    pub code: String,
    /// For people.
    pub message: String,
}

impl From<&Finding> for Reason {
    fn from(f: &Finding) -> Self {
        Reason {
            verdict: f.verdict(),
            code: f.code().to_owned(),
            message: f.to_string(),
        }
    }
}

impl Reason {
    fn invalid(code: &str, message: String) -> Self {
        Reason {
            verdict: Verdict::Invalid,
            code: code.to_owned(),
            message,
        }
    }
}

/// The result for one source.
pub struct Outcome {
    /// The source as given.
    pub source: String,
    /// Every reason found, in step order.
    pub reasons: Vec<Reason>,
    /// The statement, when authentic (signatures, payload, issuer hold).
    pub statement: Option<VerifiedStatement>,
    /// Incident records verified with `--incidents`.
    pub incidents: Vec<Verified<IncidentRecord>>,
    /// Number of statements whose links were checked with `--history`.
    pub history_checked: Option<usize>,
}

impl Outcome {
    /// The most severe verdict; warnings count only with `deny_warnings`.
    pub fn verdict(&self, deny_warnings: bool) -> Verdict {
        self.reasons
            .iter()
            .map(|r| match r.verdict {
                Verdict::Warning if !deny_warnings => Verdict::Ok,
                v => v,
            })
            .fold(Verdict::Ok, Verdict::worst)
    }
}

/// What to check besides the latest statement.
pub struct Settings {
    /// Time checks.
    pub options: VerifyOptions,
    /// State folder, when state is on for this source.
    pub state_dir: Option<PathBuf>,
    /// Walk the whole archive.
    pub history: bool,
    /// Verify the listed incidents.
    pub incidents: bool,
    /// Warnings fail.
    pub deny_warnings: bool,
}

/// A hard local error (exit 2): a damaged state file, a bad `--ca-cert`.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

fn unreachable(e: &ReadError) -> Reason {
    let code = match e {
        ReadError::Absent(_) => "not-found",
        ReadError::Fetch(FetchError::NotFound { .. }) => "not-found",
        ReadError::Fetch(FetchError::Status { .. }) => "http-status",
        ReadError::Fetch(FetchError::TooLarge { .. }) => "too-large",
        ReadError::Fetch(FetchError::Timeout { .. }) => "timeout",
        ReadError::Fetch(FetchError::Refused { .. }) => "insecure-url",
        ReadError::Fetch(FetchError::Transport { .. }) | ReadError::Local(_) => "fetch-failed",
    };
    Reason {
        verdict: Verdict::Unreachable,
        code: code.to_owned(),
        message: e.to_string(),
    }
}

/// Verifies the source at `location`.
pub fn verify_source(
    source: String,
    location: &Location,
    pinned: &TrustPolicy,
    settings: &Settings,
    fetcher: &mut Fetcher,
) -> Result<Outcome, UsageError> {
    let mut outcome = Outcome {
        source,
        reasons: Vec::new(),
        statement: None,
        incidents: Vec::new(),
        history_checked: None,
    };
    let bytes = match location.read_latest(fetcher, STATEMENT_CAP) {
        Ok(b) => b,
        Err(ReadError::Local(m)) if !matches!(location, Location::Remote { .. }) => {
            outcome.reasons.push(Reason {
                verdict: Verdict::Unreachable,
                code: "unreadable".to_owned(),
                message: m,
            });
            return Ok(outcome);
        }
        Err(ReadError::Local(m)) => return Err(UsageError(m)),
        Err(e) => {
            outcome.reasons.push(unreachable(&e));
            return Ok(outcome);
        }
    };

    // Step 1, completed: the pinned policy, or the newer one a past run
    // rotated to, then every rotation published since (fetched once the
    // statement is in hand, so an unreachable source costs one request).
    let trust_file = settings
        .state_dir
        .as_ref()
        .map(|d| crate::state::trust_file_for(d, pinned.issuer()));
    let mut policies = vec![pinned.clone()];
    if let Some(path) = &trust_file
        && let Some(stored) =
            crate::state::load_trust(path).map_err(|e| UsageError(format!("{e:#}")))?
        && stored.issuer() == pinned.issuer()
        && stored.version() > pinned.version()
    {
        // Archived documents (--history, --incidents) may be signed under a
        // policy between the pin and the stored one: recover those from the
        // published rotations, as long as they still lead to the stored one.
        if settings.history || settings.incidents {
            let mut between = vec![pinned.clone()];
            if walk_rotations(location, fetcher, &mut between, stored.version()).is_ok()
                && between.last().is_some_and(|p| same_trust(p, &stored))
            {
                between.pop();
                policies = between;
            }
        }
        policies.push(stored);
    }
    let rotated_from = policies.len();
    if let Err(reason) = walk_rotations(location, fetcher, &mut policies, u64::MAX) {
        outcome.reasons.push(reason);
        return Ok(outcome);
    }
    let policy = policies.last().unwrap_or(pinned);

    // Steps 3-8 and 10.
    let report = verify_statement(&bytes, policy, &settings.options);
    outcome
        .reasons
        .extend(report.findings.iter().map(Reason::from));
    let Some(statement) = report.statement else {
        return Ok(outcome);
    };
    let now = settings.options.now;
    let sequence = statement.document().sequence;

    // Step 9: state.
    let state_file = settings
        .state_dir
        .as_ref()
        .map(|d| crate::state::file_for(d, policy.issuer()));
    let previous_state = match &state_file {
        Some(path) => crate::state::load(path).map_err(|e| UsageError(format!("{e:#}")))?,
        None => None,
    };
    if let Some(state) = &previous_state {
        if state.issuer != policy.issuer() {
            return Err(UsageError(format!(
                "state file for {} holds issuer {:?}",
                policy.issuer(),
                state.issuer
            )));
        }
        let findings = state.check(&statement, now);
        outcome.reasons.extend(findings.iter().map(Reason::from));
        // A jump of more than one: the archive shows whether the new
        // statement descends from the one seen (when it is available).
        if findings.is_empty() && sequence > state.sequence + 1 {
            let walked = history_to(
                &statement,
                Some(state),
                state.sequence + 1,
                location,
                fetcher,
                &policies,
            );
            match walked {
                Ok(Some(findings)) => outcome.reasons.extend(findings.iter().map(Reason::from)),
                Ok(None) => {}
                Err(r) => outcome.reasons.push(r),
            }
        }
    }

    // Step 11: history.
    if settings.history {
        match history_to(&statement, None, 1, location, fetcher, &policies) {
            Ok(Some(findings)) => {
                outcome.history_checked = Some(usize::try_from(sequence).unwrap_or(usize::MAX));
                outcome.reasons.extend(findings.iter().map(Reason::from));
            }
            Ok(None) => outcome.reasons.push(Reason::invalid(
                "history-missing",
                format!(
                    "the archive of {} is missing statements before sequence {sequence}",
                    location.latest_name()
                ),
            )),
            Err(r) => outcome.reasons.push(r),
        }
    }

    if settings.incidents {
        check_incidents(
            location,
            fetcher,
            &policies,
            statement.document(),
            &mut outcome,
        );
    }

    let verdict = outcome.verdict(settings.deny_warnings);
    let acceptable = matches!(verdict, Verdict::Ok | Verdict::Warning);
    if let (Some(path), true) = (&state_file, acceptable) {
        crate::state::save(path, &State::record(&statement, now, policy.version()))
            .map_err(|e| UsageError(format!("{e:#}")))?;
        // Remember the rotated trust, so the next run starts from it.
        if let Some(trust) = &trust_file
            && policies.len() > rotated_from
        {
            crate::state::save_trust(trust, policy).map_err(|e| UsageError(format!("{e:#}")))?;
        }
    }
    outcome.statement = Some(statement);
    Ok(outcome)
}

/// The history from archived statement `from` up to `latest`, walked from
/// `start` (the state of an earlier run, or none for sequence 1): its
/// findings, or `Ok(None)` when an archived statement is absent.
fn history_to(
    latest: &VerifiedStatement,
    start: Option<&State>,
    from: u64,
    location: &Location,
    fetcher: &mut Fetcher,
    policies: &[TrustPolicy],
) -> Result<Option<Vec<Finding>>, Reason> {
    let mut walk = HistoryWalk::new(start);
    let to = latest.document().sequence;
    if !walk_archive(location, fetcher, policies, from, to, &mut walk)? {
        return Ok(None);
    }
    walk.push(latest.clone());
    Ok(Some(walk.finish()))
}

/// Statements of a local archive read, then verified together, per step of
/// [`walk_archive`]: enough to keep every core busy, little enough that
/// memory stays small (at most this many files at once) whatever the length
/// of the archive. A remote archive goes one statement at a time, as each
/// fetch costs far more than a signature, and nothing is fetched past the
/// first statement that fails.
const BATCH: u64 = 256;

/// Reads and authenticates statements `from..to` (exclusive) from the
/// archive, in order, and feeds them to `walk`. `Ok(false)` when one of them
/// is absent.
///
/// The outcome is that of reading and verifying every statement one after
/// the other: the first problem in sequence order wins, and link findings
/// count only when every statement could be read and authenticated. Files are
/// read in order (one connection for a remote archive); the signatures of a
/// batch are checked on every core, as they do not depend on each other.
fn walk_archive(
    location: &Location,
    fetcher: &mut Fetcher,
    policies: &[TrustPolicy],
    from: u64,
    to: u64,
    walk: &mut HistoryWalk<'_>,
) -> Result<bool, Reason> {
    let workers = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let batch_len = match location {
        Location::Local { .. } => BATCH,
        Location::Remote { .. } => 1,
    };
    let mut start = from;
    while start < to {
        let end = to.min(start.saturating_add(batch_len));
        let mut batch = Vec::new();
        // A file that cannot be read ends the walk, but only after the
        // statements before it, which may hold an earlier problem.
        let mut stop = None;
        for seq in start..end {
            match location.read_archive(fetcher, &statement_path(seq), STATEMENT_CAP) {
                Ok(bytes) => batch.push(bytes),
                Err(ReadError::Absent(_)) => {
                    stop = Some(Ok(false));
                    break;
                }
                Err(e) => {
                    stop = Some(Err(unreachable(&e)));
                    break;
                }
            }
        }
        for (seq, verified) in (start..).zip(verify_batch(&batch, policies, workers)) {
            let verified = verified.map_err(|findings| {
                Reason::invalid(
                    "broken-chain",
                    format!(
                        "archived statement {}: {}",
                        statement_path(seq),
                        join(&findings)
                    ),
                )
            })?;
            if verified.document().sequence != seq {
                return Err(Reason::invalid(
                    "broken-chain",
                    format!(
                        "archived statement {} holds sequence {}",
                        statement_path(seq),
                        verified.document().sequence
                    ),
                ));
            }
            // Past a broken link the walk ignores the rest, but every file
            // is still read and checked, as a missing one decides the outcome.
            walk.push(verified);
        }
        if let Some(outcome) = stop {
            return outcome;
        }
        start = end;
    }
    Ok(true)
}

/// [`verify_any`] over each of `batch`, in order, on up to `workers` threads.
fn verify_batch(
    batch: &[Vec<u8>],
    policies: &[TrustPolicy],
    workers: usize,
) -> Vec<Result<VerifiedStatement, Vec<Finding>>> {
    let one = |bytes: &Vec<u8>| verify_any::<Statement>(bytes, policies);
    // Below a few statements a thread costs more than it saves.
    if workers < 2 || batch.len() < 8 {
        return batch.iter().map(one).collect();
    }
    let chunk = batch.len().div_ceil(workers);
    std::thread::scope(|scope| {
        // A part whose thread cannot be started (a process or memory limit)
        // is checked here instead.
        let parts: Vec<_> = batch
            .chunks(chunk)
            .map(|part| {
                std::thread::Builder::new()
                    .spawn_scoped(scope, move || part.iter().map(one).collect::<Vec<_>>())
                    .map_err(|_| part)
            })
            .collect();
        parts
            .into_iter()
            .flat_map(|p| match p {
                // A worker only panics on a bug; propagate it.
                Ok(h) => h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)),
                Err(part) => part.iter().map(one).collect(),
            })
            .collect()
    })
}

fn join(findings: &[Finding]) -> String {
    findings
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// `--incidents`: every listed incident is fetched with its whole version
/// chain; the latest must have the listed digest.
fn check_incidents(
    location: &Location,
    fetcher: &mut Fetcher,
    policies: &[TrustPolicy],
    statement: &Statement,
    outcome: &mut Outcome,
) {
    for listed in statement.incidents.as_deref().unwrap_or_default() {
        let mut previous: Option<Verified<IncidentRecord>> = None;
        for version in 1..=listed.version {
            let rel = incident_path(&listed.id, version);
            let bytes = match location.read_archive(fetcher, &rel, DOCUMENT_CAP) {
                Ok(b) => b,
                Err(ReadError::Absent(_)) => {
                    outcome.reasons.push(Reason::invalid(
                        "incident",
                        format!(
                            "incident {:?} version {version} is missing ({rel})",
                            listed.id
                        ),
                    ));
                    break;
                }
                Err(e) => {
                    outcome.reasons.push(unreachable(&e));
                    break;
                }
            };
            let verified = match verify_any::<IncidentRecord>(&bytes, policies) {
                Ok(v) => v,
                Err(findings) => {
                    outcome.reasons.push(Reason::invalid(
                        "incident",
                        format!("{rel}: {}", join(&findings)),
                    ));
                    break;
                }
            };
            let r = verified.document();
            let mut problem = None;
            if r.id != listed.id || r.version != version {
                problem = Some(format!("holds incident {:?} version {}", r.id, r.version));
            } else if let Some(p) = &previous
                && r.previous != Some(p.digest())
            {
                problem = Some(format!("previous does not name version {}", version - 1));
            } else if version == listed.version && verified.digest() != listed.digest {
                problem = Some(format!(
                    "digest {} differs from {} listed in the statement",
                    verified.digest(),
                    listed.digest
                ));
            }
            if let Some(p) = problem {
                outcome
                    .reasons
                    .push(Reason::invalid("incident", format!("{rel}: {p}")));
                break;
            }
            if version == listed.version {
                outcome.incidents.push(verified.clone());
            }
            previous = Some(verified);
        }
    }
}

/// Verifies a document against each policy in force so far, newest first:
/// an archived document was signed under the policy of its time. The
/// findings are those of the newest policy.
fn verify_any<T: canary_core::Payload + canary_core::HasIssuer>(
    bytes: &[u8],
    policies: &[TrustPolicy],
) -> Result<Verified<T>, Vec<Finding>> {
    let mut newest = None;
    for policy in policies.iter().rev() {
        match verify_document::<T>(bytes, policy) {
            Ok(v) => return Ok(v),
            Err(f) => {
                newest.get_or_insert(f);
            }
        }
    }
    Err(newest.unwrap_or_default())
}

/// The same keys, threshold and version (what the verifier stores of a
/// rotated policy; `url` and `max_age` come from the pin).
fn same_trust(a: &TrustPolicy, b: &TrustPolicy) -> bool {
    a.issuer() == b.issuer()
        && a.version() == b.version()
        && a.threshold() == b.threshold()
        && a.keys() == b.keys()
        && a.panic_keys() == b.panic_keys()
}

/// Follows `rotations/<v+1>.json` from the newest policy until one is
/// absent (DESIGN §9) or version `until` is reached, checking each step: a
/// threshold of the old keys and of the new keys, consecutive versions, the
/// same issuer.
fn walk_rotations(
    location: &Location,
    fetcher: &mut Fetcher,
    policies: &mut Vec<TrustPolicy>,
    until: u64,
) -> Result<(), Reason> {
    // A bound no real issuer reaches, so a hostile server cannot keep us here.
    for _ in 0..1000 {
        let Some(current) = policies.last() else {
            return Ok(());
        };
        if current.version() >= until {
            return Ok(());
        }
        let version = current.version() + 1;
        let rel = rotation_path(version);
        let bytes = match location.read_archive(fetcher, &rel, DOCUMENT_CAP) {
            Ok(b) => b,
            Err(ReadError::Absent(_)) => return Ok(()),
            Err(e) => return Err(unreachable(&e)),
        };
        match verify_rotation(&bytes, current) {
            Ok((next, _)) => policies.push(next),
            Err(findings) => {
                return Err(Reason::invalid(
                    "invalid-rotation",
                    format!(
                        "{rel} (trust version {} to {version}) is not acceptable: {}",
                        current.version(),
                        join(&findings)
                    ),
                ));
            }
        }
    }
    Err(Reason::invalid(
        "invalid-rotation",
        "more than 1000 key rotations".to_owned(),
    ))
}
