//! `canary`: verify warrant canaries. Never reads a secret key.

use std::ffi::OsString;
use std::process::ExitCode;

use clap::Parser as _;

mod archive;
mod args;
mod check;
mod cmd;
mod error;
mod fetch;
mod files;
mod legacy;
mod outcome;
mod output;
mod pins;
mod source;
mod state;
#[cfg(target_feature = "crt-static")]
mod system_dns;
mod trust;

use args::{Cli, Command};

fn main() -> ExitCode {
    let argv: Vec<OsString> = std::env::args_os().collect();
    // `canary verify ...` parses without building the whole command tree.
    if let Some(parsed) = args::parse_verify_alone(&argv) {
        return match parsed {
            Ok(args) => cmd::verify::run(&args),
            Err(e) => e.exit(),
        };
    }
    match Cli::parse_from(argv).command {
        Command::Verify(args) => cmd::verify::run(&args),
        Command::Show(args) => cmd::show::run(&args),
        Command::Trust(command) => cmd::trust::run(&command),
        Command::Watch(args) => cmd::watch::run(&args),
        Command::Completions { shell } => cmd::docs::completions(shell),
        Command::Man { dir } => cmd::docs::man(dir.as_deref()),
    }
}
