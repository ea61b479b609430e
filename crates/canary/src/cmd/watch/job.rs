//! One issuer of a watch list: its sources verified, mirrors compared.

use canary_core::Verdict;

use canary_core::Finding;

use crate::check::{Outcome, Settings, verify_source};

use super::list::{Job, Pin};

/// One issuer's result.
pub struct Watched {
    /// The entry's name.
    pub name: String,
    /// One per source: the first with state, then the mirrors.
    pub outcomes: Vec<Outcome>,
    /// Reasons about the issuer as a whole (mirrors disagreeing).
    pub extra: Vec<Finding>,
    /// What kept the entry from being verified (its verdict is `usage`).
    pub usage: Option<String>,
}

/// The dates every format shows: a canary in another format has no
/// sequence, and its "expires" is when it turns stale (due + grace).
pub struct Dates {
    /// The sequence (canary's own format only).
    pub sequence: Option<u64>,
    /// The "as of" date.
    pub issued_at: canary_core::Timestamp,
    /// When the next issue is due, if known.
    pub next_due: Option<canary_core::Timestamp>,
    /// When it expires (turns stale), if known.
    pub expires_at: Option<canary_core::Timestamp>,
}

/// An entry's verdict, or `usage` when it could not be verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// The verdict of its sources.
    Verdict(Verdict),
    /// A problem of the entry itself (exit code 2).
    Usage,
}

impl Status {
    /// The word used in every format.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Verdict(v) => v.as_str(),
            Status::Usage => "usage",
        }
    }

    /// The exit code of this status alone.
    pub fn exit_code(self) -> u8 {
        match self {
            Status::Verdict(v) => v.exit_code(),
            Status::Usage => crate::error::USAGE,
        }
    }

    /// Most severe wins: tripped > invalid > usage > stale > unreachable >
    /// warning > ok.
    fn rank(self) -> u8 {
        match self {
            Status::Verdict(v) if v.severity() >= Verdict::Invalid.severity() => {
                v.severity() * 2 + 1
            }
            Status::Verdict(v) => v.severity() * 2,
            Status::Usage => Verdict::Invalid.severity() * 2,
        }
    }

    /// The more severe of two.
    pub fn worst(self, other: Status) -> Status {
        if other.rank() > self.rank() {
            other
        } else {
            self
        }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Watched {
    /// An entry that could not be verified.
    pub fn unusable(name: &str, problem: String) -> Self {
        Watched {
            name: name.to_owned(),
            outcomes: Vec::new(),
            extra: Vec::new(),
            usage: Some(problem),
        }
    }

    /// Every reason, source by source, then those about the issuer.
    pub fn reasons(&self) -> impl Iterator<Item = &Finding> {
        self.outcomes
            .iter()
            .flat_map(|o| o.reasons.iter())
            .chain(self.extra.iter())
    }

    /// The entry's status: `usage`, or the most severe verdict of its
    /// reasons (warnings count only with `deny_warnings`).
    pub fn status(&self, deny_warnings: bool) -> Status {
        if self.usage.is_some() {
            return Status::Usage;
        }
        Status::Verdict(self.verdict(deny_warnings))
    }

    fn verdict(&self, deny_warnings: bool) -> Verdict {
        self.reasons()
            .map(|r| match r.verdict() {
                Verdict::Warning if !deny_warnings => Verdict::Ok,
                v => v,
            })
            .fold(Verdict::Ok, Verdict::worst)
    }

    /// The dates of the newest authentic canary, in either format.
    pub fn dates(&self) -> Option<Dates> {
        if let Some(s) = self.newest() {
            let d = s.document();
            return Some(Dates {
                sequence: Some(d.sequence),
                issued_at: d.issued_at,
                next_due: Some(d.next_due),
                expires_at: Some(d.expires_at),
            });
        }
        let l = self.outcomes.iter().find_map(|o| o.legacy.as_ref())?;
        Some(Dates {
            sequence: None,
            issued_at: l.canary.issued,
            next_due: l.canary.due,
            expires_at: l.stale_at,
        })
    }

    /// The newest authentic statement among the sources.
    pub fn newest(&self) -> Option<&canary_core::VerifiedStatement> {
        self.outcomes
            .iter()
            .filter_map(|o| o.statement.as_ref())
            .max_by_key(|s| s.document().sequence)
    }
}

/// Verifies one issuer: the first source with state, every mirror without,
/// then compares what the mirrors serve.
pub fn run_job(job: &Job, fetcher: &mut crate::fetch::Fetcher) -> Watched {
    let mut outcomes = Vec::new();
    for (i, (arg, location)) in job.sources.iter().enumerate() {
        let mut settings = Settings {
            options: job.settings.options.clone(),
            state_dir: job.settings.state_dir.clone(),
            trust_only_dir: None,
            history: job.settings.history,
            incidents: job.settings.incidents,
            deny_warnings: job.settings.deny_warnings,
        };
        if i > 0 {
            // One state per issuer: a lagging mirror is a mirror problem,
            // found below, not a rollback of the issuer. The rotations the
            // issuer's source led to still count for the mirror (read only).
            settings.trust_only_dir = settings.state_dir.take();
        }
        let verified = match &job.policy {
            Pin::Native(policy) => verify_source(arg.clone(), location, policy, &settings, fetcher),
            Pin::Legacy(pinned) => {
                let legacy = crate::legacy::Settings {
                    now: settings.options.now,
                    max_skew: settings.options.max_skew,
                    max_age: settings.options.max_age,
                    state_dir: settings.state_dir.clone(),
                    deny_warnings: settings.deny_warnings,
                };
                crate::legacy::verify(arg.clone(), location, pinned, &legacy, fetcher)
            }
        };
        match verified {
            Ok(o) => outcomes.push(o),
            // A damaged state file, an unusable --ca-cert: this entry's
            // problem, not the whole run's.
            Err(e) => return Watched::unusable(&job.name, e.message),
        }
    }
    let served = outcomes
        .iter()
        .filter_map(|o| Some((o.source.as_str(), o.statement.as_ref()?)));
    let extra = canary_core::compare_mirrors(served);
    Watched {
        name: job.name.clone(),
        outcomes,
        extra,
        usage: None,
    }
}
