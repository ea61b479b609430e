//! `canary verify`: each source through DESIGN §5, one verdict per source,
//! the most severe for the exit status.

use std::collections::BTreeMap;
use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::process::ExitCode;

use canary_core::{KeyId, TrustPolicy, Verdict};

use crate::args::VerifyArgs;
use crate::check::{Outcome, Settings, verify_source};
use crate::error::{Error, Result};
use crate::output::{Format, Printer};
use crate::source::{Location, Source};
use crate::trust::{Loaded, Trust};

/// One source, resolved: where it is, what it is checked against, and
/// where its state lives.
pub struct Planned {
    /// The source as given.
    pub arg: String,
    /// Where its documents are.
    pub location: Location,
    /// The pinned policy.
    pub policy: TrustPolicy,
    /// The state folder, when state is on for this source.
    pub state_dir: Option<PathBuf>,
}

/// Resolves every source before anything is fetched: a bad argument stops
/// the run before the first request.
fn plan(
    args: &VerifyArgs,
    given: Option<&Trust>,
) -> Result<(Vec<Planned>, BTreeMap<KeyId, String>)> {
    let mut planned = Vec::new();
    let mut comments = BTreeMap::new();
    for arg in &args.sources {
        let source = Source::parse(arg)?;
        let location = Location::of(&source)?;
        if let Location::Remote { latest, .. } = &location
            && let Some(p) = crate::fetch::scheme_problem(latest)
        {
            return Err(Error::usage(format!("{arg}: {p}")));
        }
        // The trust the command line gives, read once; without --trust or
        // --key, the policy pinned for each source's domain.
        let trust = match given {
            Some(trust) => trust.clone(),
            None => args.policy.trust.load(source.domain(), source.url())?,
        };
        comments.extend(trust.comments.clone());
        planned.push(Planned {
            arg: arg.clone(),
            location,
            policy: trust.policy,
            state_dir: args.state.folder_for(args.policy.at, source.is_remote())?,
        });
    }
    Ok((planned, comments))
}

/// Runs `canary verify`.
pub fn run(args: &VerifyArgs) -> ExitCode {
    match verify(args) {
        Ok(code) => code,
        Err(e) => e.report(),
    }
}

fn verify(args: &VerifyArgs) -> Result<ExitCode> {
    let given = if args.policy.trust.given() {
        match args.policy.trust.load_pin(None, None)? {
            Loaded::Legacy(path) => return verify_legacy(args, &path),
            Loaded::Native(trust) => Some(trust),
        }
    } else {
        None
    };
    let (planned, comments) = plan(args, given.as_ref())?;
    let now = args.policy.now()?;
    let printer = printer(args, now, comments);
    let mut fetcher = args.policy.fetcher();
    let mut outcomes: Vec<Outcome> = Vec::new();
    let mut worst = Verdict::Ok;
    for source in &planned {
        let settings = Settings {
            options: args.policy.options(now),
            state_dir: source.state_dir.clone(),
            trust_only_dir: None,
            history: args.history,
            incidents: args.incidents,
            deny_warnings: args.deny_warnings,
        };
        let outcome = verify_source(
            source.arg.clone(),
            &source.location,
            &source.policy,
            &settings,
            &mut fetcher,
        )?;
        worst = worst.worst(outcome.verdict(args.deny_warnings));
        print(&printer, &outcome)?;
        outcomes.push(outcome);
    }
    finish(args, &printer, &outcomes, worst)
}

fn printer(
    args: &VerifyArgs,
    now: canary_core::Timestamp,
    comments: BTreeMap<KeyId, String>,
) -> Printer {
    Printer {
        format: args.format,
        color: args.format == Format::Human
            && std::io::stdout().is_terminal()
            && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        quiet: args.quiet,
        deny_warnings: args.deny_warnings,
        now,
        comments,
    }
}

fn print(printer: &Printer, outcome: &Outcome) -> Result<()> {
    if let Err(e) = printer.print(outcome)
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        return Err(Error::usage(format!("cannot write output: {e}")));
    }
    Ok(())
}

fn finish(
    args: &VerifyArgs,
    printer: &Printer,
    outcomes: &[Outcome],
    worst: Verdict,
) -> Result<ExitCode> {
    if args.format == Format::Github {
        crate::output::append_step_summary(&printer.summary(outcomes))?;
    }
    Ok(ExitCode::from(worst.exit_code()))
}

/// `--trust` names a legacy trust file (DESIGN §11): every source is a
/// canary in that format.
fn verify_legacy(args: &VerifyArgs, path: &std::path::Path) -> Result<ExitCode> {
    if args.history || args.incidents {
        return Err(Error::usage(
            "--history and --incidents need canary's own format; a legacy trust file names a canary in another format",
        ));
    }
    let pinned = crate::legacy::load(path)?;
    let mut planned = Vec::new();
    for arg in &args.sources {
        let location = crate::legacy::location_of(arg)?;
        let remote = matches!(location, crate::source::Location::Remote { .. });
        planned.push((
            arg,
            location,
            args.state.folder_for(args.policy.at, remote)?,
        ));
    }
    let now = args.policy.now()?;
    let printer = printer(args, now, BTreeMap::new());
    let mut fetcher = args.policy.fetcher();
    let mut outcomes = Vec::new();
    let mut worst = Verdict::Ok;
    for (arg, location, state_dir) in planned {
        let settings = crate::legacy::Settings {
            now,
            max_skew: args.policy.max_skew,
            max_age: args.policy.max_age,
            state_dir,
            deny_warnings: args.deny_warnings,
        };
        let outcome =
            crate::legacy::verify(arg.clone(), &location, &pinned, &settings, &mut fetcher)?;
        worst = worst.worst(outcome.verdict(args.deny_warnings));
        print(&printer, &outcome)?;
        outcomes.push(outcome);
    }
    finish(args, &printer, &outcomes, worst)
}
