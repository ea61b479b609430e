//! How the signer fails: every error carries its exit code and, where one
//! helps, a hint saying what to do next.

use std::fmt;

/// Exit code: success.
pub const OK: u8 = 0;
/// Exit code: a document was refused (broken rule, chain mismatch, lint
/// problems), or `due`: sign now.
pub const REFUSED: u8 = 1;
/// Exit code: bad arguments, unreadable or unwritable files, wrong passphrase.
pub const ERROR: u8 = 2;
/// Exit code (`due` only): the canary has expired.
pub const EXPIRED: u8 = 3;

/// An error on its way to the user.
#[derive(Debug)]
pub struct Failure {
    /// The process exit code.
    pub code: u8,
    /// What went wrong, with context.
    pub error: anyhow::Error,
    /// What to do about it.
    pub hint: Option<String>,
}

impl Failure {
    /// A refusal (exit 1).
    pub fn refused(error: impl Into<anyhow::Error>) -> Self {
        Failure {
            code: REFUSED,
            error: error.into(),
            hint: None,
        }
    }

    /// An error (exit 2).
    pub fn error(error: impl Into<anyhow::Error>) -> Self {
        Failure {
            code: ERROR,
            error: error.into(),
            hint: None,
        }
    }

    /// Adds a hint.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

impl From<anyhow::Error> for Failure {
    fn from(error: anyhow::Error) -> Self {
        Failure::error(error)
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "error: {:#}", self.error)?;
        if let Some(h) = &self.hint {
            write!(f, "\nhint: {h}")?;
        }
        Ok(())
    }
}

/// Shorthand for results of commands.
pub type Result<T, E = Failure> = std::result::Result<T, E>;

/// Builds an error (exit 2) from a message.
macro_rules! fail {
    ($($arg:tt)*) => { $crate::error::Failure::error(anyhow::anyhow!($($arg)*)) };
}

/// Builds a refusal (exit 1) from a message.
macro_rules! refuse {
    ($($arg:tt)*) => { $crate::error::Failure::refused(anyhow::anyhow!($($arg)*)) };
}

pub(crate) use {fail, refuse};
