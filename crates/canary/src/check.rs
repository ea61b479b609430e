//! Verifying one source end to end: DESIGN §5 steps 2–11, with the CLI's
//! files and network around the pure checks of canary-core.

use std::path::PathBuf;

use canary_core::{
    Finding, FollowError, State, Statement, TrustChain, TrustPolicy, Verdict, VerifyOptions,
    check_incidents, layout::STATEMENT_CAP, verify_statement,
};

use crate::archive::{SourceArchive, walk_history};
use crate::error::Error;
use crate::fetch::Fetcher;
pub use crate::outcome::Outcome;
use crate::outcome::{read_failure, unreachable};
use crate::source::Location;

/// What to check besides the latest statement.
pub struct Settings {
    /// Time checks.
    pub options: VerifyOptions,
    /// State folder, when state is on for this source.
    pub state_dir: Option<PathBuf>,
    /// A state folder whose remembered rotations are used but never
    /// written (a mirror, checked beside its issuer's source).
    pub trust_only_dir: Option<PathBuf>,
    /// Walk the whole archive.
    pub history: bool,
    /// Verify the listed incidents.
    pub incidents: bool,
    /// Warnings fail.
    pub deny_warnings: bool,
}

/// Verifies the source at `location`.
pub fn verify_source(
    source: String,
    location: &Location,
    pinned: &TrustPolicy,
    settings: &Settings,
    fetcher: &mut Fetcher,
) -> Result<Outcome, Error> {
    let mut outcome = Outcome::new(source);
    let bytes = match location.read_latest(fetcher, STATEMENT_CAP) {
        Ok(b) => b,
        Err(e) => {
            outcome.reasons.push(read_failure(&e)?);
            return Ok(outcome);
        }
    };
    let usage = Error::from;

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
    let read_trust_file = trust_file.clone().or_else(|| {
        settings
            .trust_only_dir
            .as_ref()
            .map(|d| crate::state::trust_file_for(d, pinned.issuer()))
    });
    let mut chain = match &read_trust_file {
        Some(path) => match crate::state::load_trust(path).map_err(usage)? {
            Some(remembered) => TrustChain::resume(pinned.clone(), &remembered),
            None => TrustChain::new(pinned.clone()),
        },
        None => TrustChain::new(pinned.clone()),
    };
    let mut archive = SourceArchive { location, fetcher };
    // An issuer folder may hold a rotation still being co-signed (as the
    // signer reads it); a published archive may not.
    let followed = if location.is_issuer_folder() {
        chain.follow_folder(&mut archive).map(|_| ())
    } else {
        chain.follow(&mut archive)
    };
    // Step 10 holds whatever else stops the run: a statement the keys in
    // force signed as final, or a panic key of theirs signed, is tripped.
    let always_tripped = |chain: &TrustChain| -> Vec<Finding> {
        verify_statement(&bytes, chain.current(), &settings.options)
            .findings
            .into_iter()
            .filter(|f| f.verdict() == Verdict::Tripped)
            .collect()
    };
    match followed {
        Ok(()) => {}
        Err(FollowError::Unreadable { error, .. }) => {
            outcome.reasons.push(unreachable(&error));
            outcome.reasons.extend(always_tripped(&chain));
            return Ok(outcome);
        }
        Err(FollowError::Refused(f)) => {
            outcome.reasons.push(f);
            outcome.reasons.extend(always_tripped(&chain));
            return Ok(outcome);
        }
    }
    let policy = chain.current();
    outcome.threshold = Some(policy.threshold());
    outcome.rotations = chain
        .policies()
        .windows(2)
        .map(|w| w[0].change_to(&w[1]))
        .collect();

    // The state of earlier runs (step 9), read before step 3 so that a
    // statement the issuer has since superseded is named for what it is.
    let state_file = settings
        .state_dir
        .as_ref()
        .map(|d| crate::state::file_for(d, policy.issuer()));
    let previous_state = match &state_file {
        Some(path) => crate::state::load(path).map_err(usage)?,
        None => None,
    };

    // A past run reached a newer trust version than is in force now.
    // (Only from the same pin: a new pin starts the walk again, DESIGN §3.5.)
    if let Some(state) = &previous_state
        && state.issuer == policy.issuer()
        && state.pin == Some(chain.pin().trust_digest())
        && state.policy_version > policy.version()
    {
        outcome.reasons.push(Finding::TrustWentBack {
            seen: state.policy_version,
            now: policy.version(),
        });
        outcome.reasons.extend(always_tripped(&chain));
        return Ok(outcome);
    }

    // Steps 3-8 and 10.
    let report = verify_statement(&bytes, policy, &settings.options);
    let Some(statement) = report.statement else {
        // Not signed by the keys in force, but by those of an earlier trust
        // version, and older than what was seen: an old statement served
        // again after a rotation is a rollback, not merely a bad signature.
        if let (Some(state), Ok(old)) = (&previous_state, chain.verify::<Statement>(&bytes))
            && old.document().sequence < state.sequence
        {
            outcome.reasons.push(Finding::Rollback {
                seen: state.sequence,
                found: old.document().sequence,
            });
        }
        outcome.reasons.extend(report.findings);
        return Ok(outcome);
    };
    outcome.reasons.extend(report.findings.iter().cloned());
    let now = settings.options.now;
    let sequence = statement.document().sequence;
    if let Some(n) = location.latest_number()
        && n != sequence
    {
        outcome.reasons.push(Finding::BrokenChain {
            sequence,
            reason: format!(
                "{} holds sequence {sequence}",
                canary_core::ArchivePath::Statement(n)
            ),
        });
    }

    if let Some(state) = &previous_state {
        if state.issuer != policy.issuer() {
            return Err(Error::usage(format!(
                "state file for {} holds issuer {:?}",
                policy.issuer(),
                state.issuer
            )));
        }
        let findings = state.check(&statement, now);
        outcome.reasons.extend(findings.iter().cloned());
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
            outcome.reasons.extend(findings.cloned());
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
        outcome.reasons.extend(walked.findings.iter().cloned());
        if let Some((_, e)) = &walked.error {
            outcome.reasons.push(unreachable(e));
        }
    }

    if settings.incidents {
        let walked = check_incidents(&mut archive, &chain, statement.document());
        outcome.reasons.extend(walked.findings.iter().cloned());
        if let Some((_, e)) = &walked.error {
            outcome.reasons.push(unreachable(e));
        }
        outcome.incidents = walked.verified;
    }

    let verdict = outcome.verdict(settings.deny_warnings);
    let acceptable = matches!(verdict, Verdict::Ok | Verdict::Warning);
    if let (Some(path), true) = (&state_file, acceptable) {
        let record =
            State::record(&statement, now, policy.version()).with_pin(chain.pin().trust_digest());
        crate::state::save(path, &record).map_err(usage)?;
        // Remember the rotations, and the pin they were followed from.
        if let Some(trust) = &trust_file {
            crate::state::save_trust(trust, chain.remembered().as_ref()).map_err(usage)?;
        }
    }
    outcome.statement = Some(statement);
    Ok(outcome)
}
