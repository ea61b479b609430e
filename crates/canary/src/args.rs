//! The command line: every subcommand's arguments, and the decisions made
//! from them once (time, state folder, fetch options).

use std::ffi::{OsStr, OsString};
use std::path::PathBuf;
use std::time::Duration;

use canary_core::{TimeDelta, Timestamp, VerifyOptions, parse_duration};
use clap::{Parser, Subcommand};

use crate::error::{Error, Result};
use crate::fetch::{FetchOptions, Fetcher};
use crate::output::Format;
use crate::trust::TrustArgs;

/// The exit code table, for --help texts: `exit_codes!()` for `verify` and
/// the top level, `exit_codes!(watch)` for `canary watch`, whose entries
/// that cannot be checked rank as usage (DESIGN §6).
macro_rules! exit_codes {
    () => {
        concat!(
            "Exit status (several sources: the most severe wins, 5 > 1 > 3 > 4 > 6 > 0):\n",
            exit_codes!(rows)
        )
    };
    (watch) => {
        concat!(
            "Exit status (the most severe entry wins, 5 > 1 > 2 > 3 > 4 > 6 > 0; an entry\n\
             that cannot be checked, such as an unreadable trust file, is usage, 2;\n\
             --format prometheus exits 0 whenever the metrics were written):\n",
            exit_codes!(rows)
        )
    };
    (rows) => {
        "  0  ok           valid and fresh (warnings may be printed)
  1  invalid      bad or missing signatures, threshold not met, wrong issuer or
                  type, malformed, not canonical, from the future, rollback,
                  equivocation, fork
  2  usage        bad arguments, unreadable trust or key files
  3  stale        authentic but expired, or older than --max-age
  4  unreachable  could not fetch: DNS, TLS, non-200, too large, too slow
  5  tripped      a promise was removed or changed, a final canary, or a
                  panic key signed
  6  warning      only with --deny-warnings: late, or expiring soon"
    };
}

pub(crate) use exit_codes;

/// Verify warrant canaries: signature, threshold, issuer, freshness, rollback
/// and removed promises.
#[derive(Debug, Parser)]
#[command(name = "canary", version, after_help = concat!("\
Examples:
  canary verify example.org --trust example.org.toml
  canary verify site/ --trust example.org.toml --history --incidents
  canary show example.org
  canary trust add example.org
  canary watch canaries.toml --format prometheus

", exit_codes!()))]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    #[allow(missing_docs)]
    Verify(VerifyArgs),
    #[allow(missing_docs)]
    Show(crate::cmd::show::Args),
    /// Pin issuers' trust policies (first contact), list and remove them.
    #[command(subcommand)]
    Trust(crate::cmd::trust::Command),
    #[allow(missing_docs)]
    Watch(crate::cmd::watch::Args),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    #[command(after_help = "Example:\n  canary completions bash > /etc/bash_completion.d/canary")]
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff), generated from this program's options.
    #[command(
        after_help = "Examples:\n  canary man > canary.1 && man ./canary.1\n  canary man --dir man/    (canary.1 and a page per subcommand)"
    )]
    Man {
        /// Write canary.1 and a page per subcommand into this folder instead.
        #[arg(long, value_name = "DIR")]
        dir: Option<std::path::PathBuf>,
    },
}

/// Options that decide how documents are judged and fetched.
#[derive(Debug, Clone, clap::Args)]
pub struct PolicyArgs {
    #[command(flatten)]
    pub(crate) trust: TrustArgs,
    /// Verify as of this time (YYYY-MM-DDTHH:MM:SSZ) instead of the clock.
    /// Implies --no-state unless --state is given.
    #[arg(long, value_name = "TIMESTAMP")]
    pub at: Option<Timestamp>,
    /// Stale when older than this (e.g. 120d), whatever expires_at says;
    /// a shorter max_age in the trust policy still applies.
    #[arg(long, value_name = "DURATION", value_parser = duration)]
    pub max_age: Option<TimeDelta>,
    /// Warn when the canary expires within this window.
    #[arg(long, value_name = "DURATION", default_value = "14d", value_parser = duration)]
    pub warn_before: TimeDelta,
    /// How far in the future issued_at may be (clock skew).
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = duration)]
    pub max_skew: TimeDelta,
    #[command(flatten)]
    pub(crate) fetch: FetchArgs,
}

/// How documents are fetched.
#[derive(Debug, Clone, clap::Args)]
pub struct FetchArgs {
    /// Whole-request timeout for each fetch (e.g. 30s, or seconds); also the
    /// most a named pipe or device given as a source may take.
    #[arg(long, value_name = "DURATION", value_parser = timeout)]
    pub timeout: Option<Duration>,
    /// Fetch through a proxy, e.g. socks5h://127.0.0.1:9050 for Tor.
    #[arg(long, value_name = "URL")]
    pub proxy: Option<String>,
    /// An extra trusted root certificate (PEM), for private deployments;
    /// repeatable.
    #[arg(long, value_name = "FILE")]
    pub ca_cert: Vec<PathBuf>,
}

impl FetchArgs {
    /// The fetcher (no client is built until a remote source is read).
    pub fn fetcher(&self) -> Fetcher {
        self.fetcher_caching(None)
    }

    /// A fetcher that keeps a conditional-GET cache in `cache_dir`.
    pub fn fetcher_caching(&self, cache_dir: Option<PathBuf>) -> Fetcher {
        Fetcher::new(FetchOptions {
            timeout: self.timeout,
            proxy: self.proxy.clone(),
            ca_certs: self.ca_cert.clone(),
            cache_dir,
        })
    }
}

/// Verify canaries: files, publish folders, https:// URLs or bare domains.
#[derive(Debug, clap::Args)]
#[command(after_help = concat!("\
Sources:
  FILE      a statement envelope
  DIR       a publish folder (.well-known/canary.json inside) or an issuer folder
  URL       https://... (http:// only for loopback hosts)
  DOMAIN    example.org means https://example.org/.well-known/canary.json

Examples:
  canary verify example.org --trust example.org.toml
  canary verify https://example.org/.well-known/canary.json --key alice.pub --issuer example.org
  canary verify site/ --trust example.org.toml --history --incidents --at 2026-11-27T00:00:00Z
  canary verify example.org https://mirror.example.net/canary.json \
      --trust example.org.toml --format json        (one JSON line per source)

State (on by default for URLs and domains, in $XDG_STATE_HOME/canary) remembers
the newest statement seen, so a rollback, an equivocation or a silently removed
promise is caught on the next run.

", exit_codes!()))]
pub struct VerifyArgs {
    /// What to verify.
    #[arg(value_name = "SOURCE", required = true)]
    pub sources: Vec<String>,
    #[command(flatten)]
    pub(crate) policy: PolicyArgs,
    #[command(flatten)]
    pub(crate) state: StateArgs,
    /// Also verify the whole archive: every link from sequence 1, and every
    /// promise that disappears along the way.
    #[arg(long)]
    pub history: bool,
    /// Also verify every incident record the statement lists, with its
    /// version chain.
    #[arg(long)]
    pub incidents: bool,
    /// Fail (exit 6) when the canary is late or expires soon.
    #[arg(long)]
    pub deny_warnings: bool,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
    /// Print only sources that are not ok.
    #[arg(long, short)]
    pub quiet: bool,
}

fn duration(s: &str) -> Result<TimeDelta, String> {
    parse_duration(s).map_err(|e| e.to_string())
}

fn timeout(s: &str) -> Result<Duration, String> {
    let d = if s.bytes().all(|b| b.is_ascii_digit()) && !s.is_empty() {
        let secs = s.parse::<i64>().map_err(|e| e.to_string())?;
        // TimeDelta::seconds panics beyond about 292 million years.
        TimeDelta::try_seconds(secs).ok_or_else(|| format!("{s} seconds is too long"))?
    } else {
        duration(s)?
    };
    let secs = u64::try_from(d.num_seconds()).unwrap_or(0);
    if secs == 0 {
        return Err("must be at least one second".to_owned());
    }
    Ok(Duration::from_secs(secs))
}

/// Where the verifier keeps what it has seen (DESIGN §5 step 9).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct StateArgs {
    /// Keep state in this folder (one file per issuer).
    #[arg(long, value_name = "DIR", conflicts_with = "no_state")]
    pub state: Option<PathBuf>,
    /// Neither read nor write state.
    #[arg(long)]
    pub no_state: bool,
}

impl StateArgs {
    /// The state folder for a source, decided here alone: none with
    /// `--no-state`; `--state DIR` when given; none with `--at` (an audit
    /// of the past must not move the present); otherwise the default folder
    /// for URLs and domains, and none for local files and folders.
    pub fn folder_for(&self, at: Option<Timestamp>, remote: bool) -> Result<Option<PathBuf>> {
        if self.no_state {
            return Ok(None);
        }
        if let Some(dir) = &self.state {
            return Ok(Some(dir.clone()));
        }
        if at.is_some() || !remote {
            return Ok(None);
        }
        Ok(Some(crate::state::default_dir()?))
    }
}

/// `--at`, or the system clock.
pub fn now(at: Option<Timestamp>) -> Result<Timestamp> {
    if let Some(t) = at {
        return Ok(t);
    }
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .ok()
        .and_then(|d| Timestamp::from_unix(i64::try_from(d.as_secs()).ok()?))
        .ok_or_else(|| Error::usage("the system clock is not usable; pass --at"))
}

impl PolicyArgs {
    /// The time to verify at: `--at`, or the clock, read once.
    pub fn now(&self) -> Result<Timestamp> {
        now(self.at)
    }

    /// The time options for the core.
    pub fn options(&self, now: Timestamp) -> VerifyOptions {
        let mut o = VerifyOptions::at(now);
        o.max_age = self.max_age;
        o.warn_before = self.warn_before;
        o.max_skew = self.max_skew;
        o
    }

    /// The fetcher (no client is built until a remote source is read).
    pub fn fetcher(&self) -> Fetcher {
        self.fetch.fetcher()
    }

    /// A fetcher that keeps a conditional-GET cache in `cache_dir`.
    pub fn fetcher_caching(&self, cache_dir: Option<PathBuf>) -> Fetcher {
        self.fetch.fetcher_caching(cache_dir)
    }
}

/// `canary verify ...` parsed with the `verify` subcommand alone; `None` for
/// every other command line.
///
/// `verify` is what CI jobs, cron monitors and shell loops run, often once per
/// issuer: building the whole command tree (every subcommand and its help) is
/// most of the start-up work of a local verification. The options, help and
/// errors are the same as through [`Cli`], which
/// `verify_alone_parses_like_the_full_tree` checks.
pub fn parse_verify_alone(argv: &[OsString]) -> Option<Result<VerifyArgs, clap::Error>> {
    use clap::FromArgMatches as _;
    if argv.get(1).map(OsString::as_os_str) != Some(OsStr::new("verify")) {
        return None;
    }
    // The program name as clap takes it from argv[0] for the full tree.
    let program = argv
        .first()
        .and_then(|a| std::path::Path::new(a).file_name())
        .and_then(OsStr::to_str)
        .unwrap_or("canary");
    let matches = verify_command(program).try_get_matches_from(argv.iter().skip(1));
    // The values are moved out of the matches, not cloned first.
    Some(matches.and_then(|mut m| VerifyArgs::from_arg_matches_mut(&mut m)))
}

/// The `verify` subcommand as the full tree builds it, for a program called
/// `program`.
fn verify_command(program: &str) -> clap::Command {
    use clap::Args as _;
    VerifyArgs::augment_args(clap::Command::new("verify"))
        .bin_name(format!("{program} verify"))
        .display_name(format!("{program}-verify"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the full tree makes of `args`: the parsed command or the error.
    fn via_tree(args: &[&str]) -> String {
        match Cli::try_parse_from(args) {
            Ok(cli) => format!("{:?}", cli.command),
            Err(e) => format!("{:?}: {}", e.kind(), e.render()),
        }
    }

    /// What the `verify`-alone path makes of the same `args`.
    fn alone(args: &[&str]) -> String {
        let argv: Vec<OsString> = args.iter().map(OsString::from).collect();
        match parse_verify_alone(&argv) {
            None => "full tree".to_owned(),
            Some(Ok(a)) => format!("{:?}", Command::Verify(a)),
            Some(Err(e)) => format!("{:?}: {}", e.kind(), e.render()),
        }
    }

    #[test]
    fn verify_alone_parses_like_the_full_tree() {
        let cases: &[&[&str]] = &[
            &["canary", "verify", "site/"],
            &[
                "canary",
                "verify",
                "a.json",
                "example.org",
                "--trust",
                "t.toml",
                "--history",
            ],
            &[
                "canary",
                "verify",
                "x",
                "--key",
                "a.pub",
                "--issuer",
                "example.org",
                "-q",
            ],
            &[
                "canary",
                "verify",
                "x",
                "--at",
                "2026-11-27T00:00:00Z",
                "--max-age",
                "30d",
            ],
            &[
                "canary",
                "verify",
                "x",
                "--format",
                "json",
                "--deny-warnings",
                "--incidents",
            ],
            &[
                "canary",
                "verify",
                "x",
                "--timeout",
                "7",
                "--proxy",
                "socks5h://127.0.0.1:9050",
            ],
            &[
                "canary",
                "verify",
                "x",
                "--ca-cert",
                "a.pem",
                "--ca-cert",
                "b.pem",
            ],
            &["canary", "verify", "--", "--odd-name"],
            // Errors: the same kind and the same text.
            &["canary", "verify"],
            &["canary", "verify", "--help"],
            &["canary", "verify", "-h"],
            &["canary", "verify", "--version"],
            &["canary", "verify", "x", "--bogus"],
            &["canary", "verify", "x", "--format", "xml"],
            &["canary", "verify", "x", "--at", "yesterday"],
            &["canary", "verify", "x", "--max-age", "-3d"],
            &["canary", "verify", "x", "--timeout", "0"],
            &["canary", "verify", "x", "--state", "s", "--no-state"],
            &["canary", "verify", "x", "--trust"],
        ];
        for case in cases {
            let (tree, lean) = (via_tree(case), alone(case));
            assert_eq!(lean, tree, "{case:?}");
        }
        // Under another program name (a symlink, a renamed binary) too.
        for case in [
            &["/usr/local/bin/canary-2", "verify"][..],
            &["./cnry", "verify", "-h"],
            &["cnry", "verify", "x", "--bogus"],
        ] {
            assert_eq!(alone(case), via_tree(case), "{case:?}");
        }
        // Not vacuous: help and errors name the subcommand as the tree does.
        assert!(alone(&["canary", "verify", "-h"]).contains("Usage: canary verify [OPTIONS]"));
        assert!(alone(&["canary", "verify"]).starts_with("MissingRequiredArgument"));
    }

    #[test]
    fn only_verify_takes_the_lean_path() {
        for case in [
            &["canary"][..],
            &["canary", "show", "x"],
            &["canary", "verif", "x"],
            &["canary", "--help"],
            &["canary", "help", "verify"],
            &["canary", "--version", "verify"],
        ] {
            assert_eq!(alone(case), "full tree", "{case:?}");
        }
    }
}
