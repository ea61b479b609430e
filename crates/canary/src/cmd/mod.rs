//! One module per subcommand; each has a `run` that returns the exit code.

pub mod docs;
pub mod show;
pub mod trust;
pub mod verify;
pub mod watch;
