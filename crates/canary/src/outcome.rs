//! What verifying one source found: its reasons, each with a verdict and
//! a stable code, and the most severe verdict.

use canary_core::{Finding, IncidentRecord, Verdict, Verified, VerifiedStatement};

use crate::fetch::FetchError;
use crate::source::ReadError;

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
    /// The threshold of the trust policy in force (after rotations), once known.
    pub threshold: Option<usize>,
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

/// The reason for a document that could not be read.
pub fn unreachable(e: &ReadError) -> Reason {
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
