//! `canary show`: the verified statement and incidents, for reading.

use std::io::Write as _;
use std::process::ExitCode;

use canary_core::{IncidentRecord, Verdict};

use crate::args::{PolicyArgs, StateArgs};
use crate::check::{Settings, verify_source};
use crate::error::Result;
use crate::output::{escape, relative};
use crate::source::{Location, Source};

/// Print a canary and its incident records in readable form, after verifying
/// them. Nothing that fails verification is shown as content.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  canary show example.org --trust example.org.toml
  canary show site/ --trust keys/example.org.toml --at 2026-11-27T00:00:00Z

The exit status is that of `canary verify` (see `canary --help`), and show
keeps state as verify does: a canary verify reports as tripped or rolled back
is never shown as current.")]
pub struct Args {
    /// What to show: a file, folder, https:// URL or domain.
    #[arg(value_name = "SOURCE")]
    pub source: String,
    #[command(flatten)]
    pub(crate) policy: PolicyArgs,
    #[command(flatten)]
    pub(crate) state: StateArgs,
}

/// Runs the command.
pub fn run(args: &Args) -> ExitCode {
    match show(args) {
        Ok(code) => code,
        Err(e) => e.report(),
    }
}

fn show(args: &Args) -> Result<ExitCode> {
    let source = Source::parse(&args.source)?;
    let location = Location::of(&source)?;
    let trust = args.policy.trust.load(source.domain(), source.url())?;
    let now = args.policy.now()?;
    let settings = Settings {
        options: args.policy.options(now),
        state_dir: args.state.folder_for(args.policy.at, source.is_remote())?,
        trust_only_dir: None,
        history: false,
        incidents: true,
        deny_warnings: false,
    };
    let mut fetcher = args.policy.fetcher();
    let outcome = verify_source(
        args.source.clone(),
        &location,
        &trust.policy,
        &settings,
        &mut fetcher,
    )?;
    let verdict = outcome.verdict(false);
    let mut out = String::new();
    let line = |out: &mut String, s: String| {
        out.push_str(&s);
        out.push('\n');
    };
    match &outcome.statement {
        None => {
            line(
                &mut out,
                format!(
                    "{}: {}",
                    verdict.as_str().to_uppercase(),
                    escape(&args.source)
                ),
            );
            line(
                &mut out,
                "Nothing is shown: the statement could not be verified.".to_owned(),
            );
        }
        Some(v) => {
            let s = v.document();
            if verdict != Verdict::Ok {
                line(
                    &mut out,
                    format!(
                        "{}: read the reasons below before trusting what follows.",
                        verdict.as_str().to_uppercase()
                    ),
                );
            }
            line(
                &mut out,
                format!(
                    "Warrant canary of {} (statement {})",
                    escape(&s.issuer),
                    s.sequence
                ),
            );
            let signers: Vec<String> = v
                .signers()
                .iter()
                .map(|k| match trust.comments.get(k) {
                    Some(c) => format!("{} ({})", k.short(), escape(c)),
                    None => k.short(),
                })
                .collect();
            line(
                &mut out,
                format!(
                    "Signed by {} of the {} required keys:",
                    signers.len(),
                    outcome.threshold.unwrap_or(trust.policy.threshold())
                ),
            );
            for s in signers {
                line(&mut out, format!("  {s}"));
            }
            line(
                &mut out,
                format!("As of {} ({}):", s.issued_at, relative(now, s.issued_at)),
            );
            for item in &s.statements {
                line(
                    &mut out,
                    format!("  - {}  [{}]", escape(&item.text), escape(&item.id)),
                );
            }
            if let Some(notes) = &s.notes {
                line(&mut out, format!("Notes: {}", escape(notes)));
            }
            line(
                &mut out,
                format!(
                    "Next statement due {} ({}); this one expires {} ({}).",
                    s.next_due,
                    relative(now, s.next_due),
                    s.expires_at,
                    relative(now, s.expires_at)
                ),
            );
            if let Some(f) = &s.freshness {
                if let Some(b) = &f.bitcoin {
                    line(
                        &mut out,
                        format!(
                            "Freshness: Bitcoin block {} ({}); {}",
                            b.height,
                            escape(&b.hash),
                            if b.header_checked() {
                                "its header was checked offline (hash, difficulty target, block time before the statement)"
                            } else {
                                "no header included: look the block up to confirm it"
                            }
                        ),
                    );
                }
                for h in f.headlines.iter().flatten() {
                    line(&mut out, format!("Headline: {}", escape(h)));
                }
            }
            if s.is_final() {
                line(
                    &mut out,
                    "FINAL: the issuer announces that no further canary will come.".to_owned(),
                );
            }
            if !outcome.rotations.is_empty() {
                line(&mut out, String::new());
                line(
                    &mut out,
                    format!(
                        "Keys: {} rotation(s) followed from the pinned trust version {}:",
                        outcome.rotations.len(),
                        outcome.rotations[0].from_version
                    ),
                );
                for change in &outcome.rotations {
                    rotation(&mut out, change, &trust.comments);
                }
            }
            if !outcome.incidents.is_empty() {
                line(&mut out, String::new());
                line(&mut out, "Incidents:".to_owned());
                let mut incidents: Vec<&IncidentRecord> =
                    outcome.incidents.iter().map(|i| i.document()).collect();
                incidents.sort_by_key(|r| std::cmp::Reverse(r.started_at));
                for r in incidents {
                    incident(&mut out, r);
                }
            }
        }
    }
    if !outcome.reasons.is_empty() {
        line(&mut out, String::new());
        line(&mut out, "Reasons:".to_owned());
        for r in &outcome.reasons {
            line(
                &mut out,
                format!("  {}: {}", r.code(), escape(&r.to_string())),
            );
        }
    }
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(out.as_bytes());
    Ok(ExitCode::from(verdict.exit_code()))
}

fn rotation(
    out: &mut String,
    change: &canary_core::TrustChange,
    comments: &std::collections::BTreeMap<canary_core::KeyId, String>,
) {
    let label = |k: &canary_core::PublicKey| match comments.get(&k.id()) {
        Some(c) => format!("{} ({})", k.id().short(), escape(c)),
        None => k.id().short(),
    };
    let list =
        |keys: &[canary_core::PublicKey]| keys.iter().map(&label).collect::<Vec<_>>().join(", ");
    out.push_str(&format!(
        "  version {} -> {}: threshold {} -> {} of {} keys\n",
        change.from_version,
        change.to_version,
        change.old_threshold,
        change.new_threshold,
        change.new_key_count
    ));
    for (what, keys) in [
        ("added", &change.added),
        ("removed", &change.removed),
        ("panic keys added", &change.panic_added),
        ("panic keys removed", &change.panic_removed),
    ] {
        if !keys.is_empty() {
            out.push_str(&format!("    {what}: {}\n", list(keys)));
        }
    }
}

fn incident(out: &mut String, r: &IncidentRecord) {
    out.push_str(&format!(
        "\n  {} [{}] ({}, impact {}, {})\n",
        escape(&r.title),
        escape(&r.id),
        r.kind.as_str(),
        r.impact.as_str(),
        r.status.as_str()
    ));
    let when = match r.resolved_at {
        Some(end) => format!("{} to {}", r.started_at, end),
        None => format!("since {}", r.started_at),
    };
    let affected = if r.affected.is_empty() {
        "nothing listed".to_owned()
    } else {
        escape(&r.affected.join(", "))
    };
    out.push_str(&format!(
        "    When & what was affected: {when}; {affected}\n"
    ));
    let what = if r.what_happened.trim().is_empty() {
        "not described yet".to_owned()
    } else {
        escape(&r.what_happened)
    };
    out.push_str(&format!("    What happened: {what}\n"));
    out.push_str(&format!(
        "    What was compromised/lost: {} (data lost: {}, data exposed: {})\n",
        escape(&r.compromised.summary),
        r.data_lost().as_str(),
        r.data_exposed().as_str()
    ));
    out.push_str("    Measures taken:\n");
    for m in &r.measures {
        out.push_str(&format!(
            "      [{}] {} ({})\n",
            if m.done { "x" } else { " " },
            escape(&m.action),
            m.kind.as_str()
        ));
    }
    for u in &r.updates {
        out.push_str(&format!(
            "    {} {}: {}\n",
            u.at,
            u.status.as_str(),
            escape(&u.body)
        ));
    }
}
