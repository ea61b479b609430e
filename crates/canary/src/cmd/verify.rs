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
fn plan(args: &VerifyArgs) -> Result<(Vec<Planned>, BTreeMap<KeyId, String>)> {
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
        // Without --trust or --key, the policy pinned for the domain.
        let trust = args.policy.trust.load(source.domain(), source.url())?;
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
    let (planned, comments) = plan(args)?;
    let now = args.policy.now()?;
    let printer = Printer {
        format: args.format,
        color: args.format == Format::Human
            && std::io::stdout().is_terminal()
            && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        quiet: args.quiet,
        deny_warnings: args.deny_warnings,
        now,
        comments,
    };
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
        if let Err(e) = printer.print(&outcome)
            && e.kind() != std::io::ErrorKind::BrokenPipe
        {
            return Err(Error::usage(format!("cannot write output: {e}")));
        }
        outcomes.push(outcome);
    }
    if args.format == Format::Github {
        crate::output::append_step_summary(&printer.summary(&outcomes))?;
    }
    Ok(ExitCode::from(worst.exit_code()))
}
