//! How the verifier fails before it has a verdict: one error type carrying
//! the exit code, the message and, where one helps, what to do next.

use std::process::ExitCode;

/// Exit code for usage errors: bad arguments, unreadable trust, key or
/// state files (DESIGN §6).
pub const USAGE: u8 = 2;

/// An error on its way to the user.
#[derive(Debug)]
pub struct Error {
    /// The process exit code.
    pub code: u8,
    /// What went wrong.
    pub message: String,
    /// What to do about it.
    pub hint: Option<String>,
}

/// Shorthand for results of the verifier's commands.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A usage error (exit 2).
    pub fn usage(message: impl Into<String>) -> Self {
        Error::with_code(USAGE, message)
    }

    /// An error with another exit code (a refused pin: 1; unreachable: 4).
    pub fn with_code(code: u8, message: impl Into<String>) -> Self {
        Error {
            code,
            message: message.into(),
            hint: None,
        }
    }

    /// Adds what to do next.
    #[must_use]
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Prints the error (and hint) on stderr and returns its exit code.
    /// Line by line: multi-line causes (TOML parse errors) stay readable,
    /// every other control character is escaped.
    pub fn report(&self) -> ExitCode {
        // Line breaks kept: multi-line causes (TOML parse errors) stay
        // readable; every other unsafe character is escaped.
        let clean = |text: &str| canary_core::sanitize(text.trim_end(), canary_core::Target::Lines);
        let mut text = format!("error: {}\n", clean(&self.message));
        if let Some(h) = &self.hint {
            text.push_str(&format!("hint: {}\n", clean(h)));
        }
        let mut err = std::io::stderr().lock();
        let _ = std::io::Write::write_all(&mut err, text.as_bytes());
        ExitCode::from(self.code)
    }
}

impl From<anyhow::Error> for Error {
    fn from(e: anyhow::Error) -> Self {
        Error::usage(format!("{e:#}"))
    }
}

impl From<String> for Error {
    fn from(message: String) -> Self {
        Error::usage(message)
    }
}

impl From<&str> for Error {
    fn from(message: &str) -> Self {
        Error::usage(message)
    }
}
