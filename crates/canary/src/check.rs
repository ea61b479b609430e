//! Verifying one source end to end: DESIGN §5 steps 2–11, with the CLI's
//! files and network around the pure checks of canary-core.

use std::path::PathBuf;

use canary_core::{
    Archive, ArchivePath, Finding, FollowError, HistoryWalk, IncidentRecord, State, TrustChain,
    TrustPolicy, Verdict, Verified, VerifiedStatement, VerifyOptions, Walked, check_history,
    check_incidents, layout::STATEMENT_CAP, verify_archived_statement, verify_statement,
};

use crate::fetch::{FetchError, Fetcher};
use crate::source::{Location, ReadError};

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

/// A source's archive, read through the fetcher: what the core walks.
struct SourceArchive<'a> {
    location: &'a Location,
    fetcher: &'a mut Fetcher,
}

impl Archive for SourceArchive<'_> {
    type Error = ReadError;

    fn fetch(&mut self, path: ArchivePath<'_>) -> Result<Option<Vec<u8>>, ReadError> {
        match self
            .location
            .read_archive(self.fetcher, &path.to_path(), path.cap())
        {
            Ok(bytes) => Ok(Some(bytes)),
            Err(ReadError::Absent(_)) => Ok(None),
            Err(e) => Err(e),
        }
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
    let usage = |e: anyhow::Error| UsageError(format!("{e:#}"));

    // The issuer's state is locked from load to save, so two runs at once
    // can never move it backwards.
    let _lock = match &settings.state_dir {
        Some(dir) => Some(crate::state::lock(dir, pinned.issuer()).map_err(usage)?),
        None => None,
    };

    // Step 1, completed: the pin, the rotations a past run followed from
    // this same pin, then every rotation published since (fetched once the
    // statement is in hand, so an unreachable source costs one request).
    let trust_file = settings
        .state_dir
        .as_ref()
        .map(|d| crate::state::trust_file_for(d, pinned.issuer()));
    let mut chain = match &trust_file {
        Some(path) => match crate::state::load_trust(path).map_err(usage)? {
            Some(remembered) => TrustChain::resume(pinned.clone(), &remembered),
            None => TrustChain::new(pinned.clone()),
        },
        None => TrustChain::new(pinned.clone()),
    };
    let mut archive = SourceArchive { location, fetcher };
    match chain.follow(&mut archive) {
        Ok(()) => {}
        Err(FollowError::Unreadable { error, .. }) => {
            outcome.reasons.push(unreachable(&error));
            return Ok(outcome);
        }
        Err(FollowError::Refused(f)) => {
            outcome.reasons.push(Reason::from(&f));
            return Ok(outcome);
        }
    }
    let policy = chain.current();

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
        Some(path) => crate::state::load(path).map_err(usage)?,
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
            let walked = walk_history(&mut archive, &chain, Some(state), &statement);
            // A gap in the archive is no finding here: without --history
            // the reader asked only whether what is there descends.
            let findings = walked
                .findings
                .iter()
                .filter(|f| !matches!(f, Finding::HistoryMissing { .. }));
            outcome.reasons.extend(findings.map(Reason::from));
            if let Some((_, e)) = &walked.error {
                outcome.reasons.push(unreachable(e));
            }
        }
    }

    // Step 11: history.
    if settings.history {
        let walked = walk_history(&mut archive, &chain, None, &statement);
        if walked.verified as u64 == sequence {
            outcome.history_checked = Some(walked.verified);
        }
        outcome
            .reasons
            .extend(walked.findings.iter().map(Reason::from));
        if let Some((_, e)) = &walked.error {
            outcome.reasons.push(unreachable(e));
        }
    }

    if settings.incidents {
        let walked = check_incidents(&mut archive, &chain, statement.document());
        outcome
            .reasons
            .extend(walked.findings.iter().map(Reason::from));
        if let Some((_, e)) = &walked.error {
            outcome.reasons.push(unreachable(e));
        }
        outcome.incidents = walked.verified;
    }

    let verdict = outcome.verdict(settings.deny_warnings);
    let acceptable = matches!(verdict, Verdict::Ok | Verdict::Warning);
    if let (Some(path), true) = (&state_file, acceptable) {
        crate::state::save(path, &State::record(&statement, now, policy.version()))
            .map_err(usage)?;
        // Remember the rotations, and the pin they were followed from.
        if let Some(trust) = &trust_file {
            crate::state::save_trust(trust, chain.remembered().as_ref()).map_err(usage)?;
        }
    }
    outcome.statement = Some(statement);
    Ok(outcome)
}

/// Statements of a local archive read, then verified together, per step of
/// [`walk_history`]: enough to keep every core busy, little enough that
/// memory stays small (at most this many files at once) whatever the length
/// of the archive.
const BATCH: u64 = 256;

/// The core's history walk ([`check_history`]) with the signatures of a
/// local archive checked on every core. A remote archive goes one statement
/// at a time, as each fetch costs far more than a signature, and nothing is
/// fetched past the first statement that fails.
///
/// The outcome is that of the core's walk: statements are fed to the same
/// [`HistoryWalk`] in sequence order, and it stops at the same place.
fn walk_history(
    archive: &mut SourceArchive<'_>,
    chain: &TrustChain,
    start: Option<&State>,
    latest: &VerifiedStatement,
) -> Walked<usize, ReadError> {
    let workers = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    if matches!(archive.location, Location::Remote { .. }) || workers < 2 {
        return check_history(archive, chain, start, latest);
    }
    let mut walk = HistoryWalk::new(start);
    let mut error = None;
    let to = latest.document().sequence;
    let mut from = walk.next_sequence();
    while from < to && !walk.is_stopped() && error.is_none() {
        let end = to.min(from.saturating_add(BATCH));
        let mut batch = Vec::new();
        // A file that cannot be read ends the walk, but only after the
        // statements before it, which may hold an earlier problem.
        let mut gap = None;
        for seq in from..end {
            let path = ArchivePath::Statement(seq);
            match archive.fetch(path) {
                Ok(Some(bytes)) => batch.push(bytes),
                Ok(None) => {
                    gap = Some(Ok(seq));
                    break;
                }
                Err(e) => {
                    gap = Some(Err((path.to_path(), e)));
                    break;
                }
            }
        }
        for (seq, verified) in (from..).zip(verify_batch(&batch, chain, from, workers)) {
            match verified {
                Ok(v) => {
                    walk.push(v);
                }
                Err(findings) => walk.push_unauthentic(seq, &findings),
            }
            if walk.is_stopped() {
                break;
            }
        }
        match gap {
            Some(Ok(seq)) => walk.push_missing(seq),
            Some(Err(e)) if !walk.is_stopped() => error = Some(e),
            _ => {}
        }
        from = end;
    }
    let complete = error.is_none() && !walk.is_stopped();
    let linked = walk.len();
    let findings = walk.finish(complete.then_some(latest));
    Walked {
        verified: linked + usize::from(complete),
        findings,
        error,
    }
}

/// [`verify_archived_statement`] over each of `batch` (sequences from
/// `first` on), in order, on up to `workers` threads.
fn verify_batch(
    batch: &[Vec<u8>],
    chain: &TrustChain,
    first: u64,
    workers: usize,
) -> Vec<Result<VerifiedStatement, Vec<Finding>>> {
    let one = |(seq, bytes): (u64, &Vec<u8>)| verify_archived_statement(chain, bytes, seq);
    let numbered = || (first..).zip(batch.iter());
    // Below a few statements a thread costs more than it saves.
    if workers < 2 || batch.len() < 8 {
        return numbered().map(one).collect();
    }
    let chunk = batch.len().div_ceil(workers);
    std::thread::scope(|scope| {
        // A part whose thread cannot be started (a process or memory limit)
        // is checked here instead.
        let parts: Vec<_> = batch
            .chunks(chunk)
            .enumerate()
            .map(|(i, part)| {
                let start = first + (i * chunk) as u64;
                std::thread::Builder::new()
                    .spawn_scoped(scope, move || {
                        (start..).zip(part.iter()).map(one).collect::<Vec<_>>()
                    })
                    .map_err(|_| (start, part))
            })
            .collect();
        parts
            .into_iter()
            .flat_map(|p| match p {
                // A worker only panics on a bug; propagate it.
                Ok(h) => h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)),
                Err((start, part)) => (start..).zip(part.iter()).map(one).collect(),
            })
            .collect()
    })
}
