//! What verifying one source found: its reasons, each with a verdict and
//! a stable code, and the most severe verdict.

use canary_core::{Finding, IncidentRecord, Unreachable, Verdict, Verified, VerifiedStatement};

use crate::fetch::FetchError;
use crate::source::ReadError;

/// The result for one source.
pub struct Outcome {
    /// The source as given.
    pub source: String,
    /// Every reason found, in step order.
    pub reasons: Vec<Finding>,
    /// The statement, when authentic (signatures, payload, issuer hold).
    pub statement: Option<VerifiedStatement>,
    /// Incident records verified with `--incidents`.
    pub incidents: Vec<Verified<IncidentRecord>>,
    /// The threshold of the trust policy in force (after rotations), once known.
    pub threshold: Option<usize>,
    /// Number of statements whose links were checked with `--history`.
    pub history_checked: Option<usize>,
    /// What each key rotation followed from the pin changed, oldest first.
    pub rotations: Vec<canary_core::TrustChange>,
    /// A canary in another format (DESIGN §11), when authentic.
    pub legacy: Option<crate::legacy::View>,
}

impl Outcome {
    /// The outcome of `source` before any step: no reason, nothing read.
    pub fn new(source: String) -> Self {
        Outcome {
            source,
            reasons: Vec::new(),
            statement: None,
            incidents: Vec::new(),
            threshold: None,
            history_checked: None,
            rotations: Vec::new(),
            legacy: None,
        }
    }

    /// The most severe verdict; warnings count only with `deny_warnings`.
    pub fn verdict(&self, deny_warnings: bool) -> Verdict {
        self.reasons
            .iter()
            .map(|r| match r.verdict() {
                Verdict::Warning if !deny_warnings => Verdict::Ok,
                v => v,
            })
            .fold(Verdict::Ok, Verdict::worst)
    }
}

/// The reason for a document that could not be read, or, for an HTTP
/// client that cannot be built (a `--ca-cert` that cannot be read, say), a
/// usage error: the command line is at fault, not the source.
pub fn read_failure(e: &ReadError) -> Result<Finding, crate::error::Error> {
    match e {
        ReadError::Client(m) => Err(crate::error::Error::usage(m.clone())),
        e => Ok(unreachable(e)),
    }
}

/// The reason for a document that could not be read.
pub fn unreachable(e: &ReadError) -> Finding {
    let kind = match e {
        ReadError::Absent(_) | ReadError::Fetch(FetchError::NotFound { .. }) => {
            Unreachable::NotFound
        }
        ReadError::Fetch(FetchError::Status { .. }) => Unreachable::HttpStatus,
        ReadError::Fetch(FetchError::TooLarge { .. }) | ReadError::TooLarge(_) => {
            Unreachable::TooLarge
        }
        ReadError::Fetch(FetchError::Timeout { .. }) => Unreachable::Timeout,
        ReadError::Fetch(FetchError::Refused { .. }) => Unreachable::InsecureUrl,
        ReadError::Fetch(FetchError::Transport { .. } | FetchError::Client(_))
        | ReadError::Client(_) => Unreachable::FetchFailed,
        ReadError::Local(_) => Unreachable::Unreadable,
    };
    Finding::Unreachable {
        kind,
        message: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::unreachable;
    use crate::source::ReadError;

    #[test]
    fn a_read_failure_has_one_reason_code_wherever_the_document_was() {
        let code = |e: ReadError| unreachable(&e).code();
        assert_eq!(code(ReadError::Absent("x".into())), "not-found");
        assert_eq!(code(ReadError::Local("x".into())), "unreadable");
        assert_eq!(code(ReadError::TooLarge("x".into())), "too-large");
        assert_eq!(code(ReadError::Client("x".into())), "fetch-failed");
        // Where a verdict is made, a client that cannot be built is the
        // command line's fault: usage (2); anything else is a reason.
        let usage =
            super::read_failure(&ReadError::Client("bad --ca-cert".into())).expect_err("usage");
        assert_eq!(usage.code, 2);
        assert!(super::read_failure(&ReadError::Local("x".into())).is_ok());
    }
}
