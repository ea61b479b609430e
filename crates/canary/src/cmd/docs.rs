//! `canary completions` and `canary man`: generated from the command tree.

use std::process::ExitCode;

use clap::CommandFactory as _;

use crate::args::Cli;
use crate::error::Error;

/// Prints the completion script for `shell`.
pub fn completions(shell: clap_complete::Shell) -> ExitCode {
    let mut cmd = Cli::command();
    clap_complete::generate(shell, &mut cmd, "canary", &mut std::io::stdout());
    ExitCode::SUCCESS
}

/// Prints the manual page, or writes it and a page per subcommand into `dir`.
pub fn man(dir: Option<&std::path::Path>) -> ExitCode {
    if let Some(dir) = dir {
        return match clap_mangen::generate_to(Cli::command(), dir) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => Error::usage(format!("cannot write the manual pages: {e}")).report(),
        };
    }
    let man = clap_mangen::Man::new(Cli::command());
    let mut out = Vec::new();
    if let Err(e) = man.render(&mut out) {
        return Error::usage(format!("cannot render the manual page: {e}")).report();
    }
    let _ = std::io::Write::write_all(&mut std::io::stdout(), &out);
    ExitCode::SUCCESS
}
