//! `canary-sign`: the signer for warrant canaries. Offline by design.

use std::process::ExitCode;

use clap::{CommandFactory as _, Parser, Subcommand};

mod checks;
mod cmd;
mod common;
mod config;
mod error;
mod feed;
mod folder;
mod fsutil;
mod html;
mod keyfile;
mod passphrase;
mod plain;
mod signing;
mod site;
mod statuspage;
mod summary;

/// Sign warrant canaries and incident records, offline.
#[derive(Debug, Parser)]
#[command(
    name = "canary-sign",
    version,
    about = "Sign warrant canaries and incident records, offline",
    long_about = "Sign warrant canaries and incident records, offline.\n\n\
        A maintainer keeps one issuer folder under version control (canary.toml, \
        statements/, incidents/) and, each quarter, drafts the next statement, \
        reviews it, signs it and has co-signers add their signatures.",
    after_help = "\
The quarterly workflow:
  canary-sign keygen --name alice                  once per maintainer
  canary-sign init --issuer example.org --key alice.pub
  canary-sign new --dir example.org > draft.json   draft the next statement
  canary-sign sign draft.json --dir example.org --key alice.key
  canary-sign sign example.org/statements/000001.json --dir example.org --key bob.key
  canary-sign publish --dir example.org --out site/  the static site
  canary-sign due --dir example.org                in the publisher's CI

Exit status: 0 success; 1 refused (a rule is broken, lint found problems,
or `due`: sign now); 2 error (arguments, files, passphrase); 3 `due`: expired."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    Keygen(cmd::keygen::Args),
    Init(cmd::init::Args),
    New(cmd::new::Args),
    Sign(cmd::sign::Args),
    #[command(subcommand)]
    Incident(cmd::incident::Command),
    Lint(cmd::lint::Args),
    Due(cmd::due::Args),
    Publish(cmd::publish::Args),
    Rotate(cmd::rotate::Args),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff); with --dir, write one page per subcommand there.
    Man {
        /// Write canary-sign.1 and a page per subcommand into this folder.
        #[arg(long, value_name = "DIR")]
        dir: Option<std::path::PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Keygen(a) => cmd::keygen::run(a),
        Command::Init(a) => cmd::init::run(a),
        Command::New(a) => cmd::new::run(a),
        Command::Sign(a) => cmd::sign::run(a),
        Command::Incident(c) => cmd::incident::run(c),
        Command::Lint(a) => cmd::lint::run(a),
        Command::Due(a) => cmd::due::run(a),
        Command::Publish(a) => cmd::publish::run(a),
        Command::Rotate(a) => cmd::rotate::run(a),
        Command::Completions { shell } => {
            let mut cmd = Cli::command();
            clap_complete::generate(*shell, &mut cmd, "canary-sign", &mut std::io::stdout());
            Ok(0)
        }
        Command::Man { dir } => man(dir.as_deref()).map_err(error::Failure::error),
    };
    // The frames of the finished command may still hold copies of a seed.
    keyfile::clear_stack();
    match result {
        Ok(code) => ExitCode::from(code),
        Err(failure) => {
            common::note(&failure.to_string());
            ExitCode::from(failure.code)
        }
    }
}

/// The manual page on stdout, or one page per subcommand written into `dir`.
fn man(dir: Option<&std::path::Path>) -> std::io::Result<u8> {
    match dir {
        Some(dir) => clap_mangen::generate_to(Cli::command(), dir)?,
        None => {
            let mut out = Vec::new();
            clap_mangen::Man::new(Cli::command()).render(&mut out)?;
            std::io::Write::write_all(&mut std::io::stdout(), &out)?;
        }
    }
    Ok(0)
}
