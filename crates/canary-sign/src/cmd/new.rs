//! `canary-sign new`: draft the next statement.

use std::path::PathBuf;

use canary_core::{IncidentRef, Statement, StatementItem, to_payload};

use crate::common::{AtArgs, DirArgs, escape, escape_json, note, say};
use crate::error::{Result, fail};
use crate::fsutil::write_atomic_public;

/// Draft the next statement from canary.toml and the last signed statement.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  canary-sign new > draft.json
  canary-sign new --dir canaries/example.org --out draft.json

The draft continues the chain: sequence + 1, `previous` = digest of the last
statement, issued_at = now, next_due = issued_at + cadence, expires_at =
next_due + grace, the promises of canary.toml and the latest version of every
incident record. Review it (you may add notes or freshness), then sign it:
  canary-sign sign draft.json --key alice.key")]
pub struct Args {
    #[command(flatten)]
    pub dir: DirArgs,
    /// Write the draft to FILE instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub at: AtArgs,
}

/// Runs the command.
pub fn run(args: &Args) -> Result<u8> {
    let folder = args.dir.open()?;
    let now = args.at.now()?;
    let config = &folder.config;
    let latest = folder.latest_statement()?;
    if let Some(l) = &latest
        && let Some(why) = l.not_accepted(folder.policy()?.threshold())
    {
        note(&why);
    }
    let next_due = now
        .checked_add(config.cadence()?)
        .ok_or_else(|| fail!("cadence too long"))?;
    let expires_at = next_due
        .checked_add(config.grace()?)
        .ok_or_else(|| fail!("grace too long"))?;
    let incidents: Vec<IncidentRef> = folder
        .incident_refs()?
        .into_iter()
        .map(|(id, (version, digest))| IncidentRef {
            id,
            version,
            digest,
        })
        .collect();
    let draft = Statement {
        issuer: config.issuer.clone(),
        sequence: latest.as_ref().map_or(1, |l| l.doc().sequence + 1),
        issued_at: now,
        next_due,
        expires_at,
        statements: config
            .statements
            .iter()
            .map(|p| StatementItem {
                id: p.id.clone(),
                text: p.text.clone(),
            })
            .collect(),
        previous: latest.as_ref().map(|l| l.digest()),
        incidents: (!incidents.is_empty()).then_some(incidents),
        freshness: None,
        notes: None,
        is_final: None,
    };
    let payload = to_payload(&draft)
        .map_err(|e| fail!("canary.toml does not make a valid statement: {e}"))?;
    // Every incident ever published stays listed: warn well before the
    // statement outgrows what readers accept.
    let keys = folder.policy().map_or(1, |p| p.keys().len());
    let size = crate::checks::envelope_size(payload.len(), keys);
    let cap = canary_core::layout::STATEMENT_CAP;
    if size * 2 > cap {
        note(&format!(
            "warning: the signed statement will be about {size} bytes, {}% of the {cap} readers \
             accept; every incident record ever published stays listed (about 175 bytes each), \
             so shorten promises or notes before it grows further",
            size * 100 / cap
        ));
    }
    // Escaped like every output: the draft reads back as the same document.
    let mut json = escape_json(&serde_json::to_string_pretty(&draft).map_err(|e| fail!("{e}"))?);
    json.push('\n');
    match &args.out {
        Some(path) => {
            write_atomic_public(path, json.as_bytes())?;
            note(&format!("wrote {}", path.display()));
        }
        None => say(json.trim_end()),
    }
    note(&format!(
        "drafted statement {} of {} as of {now}: next due {next_due}, expires {expires_at}",
        draft.sequence,
        escape(&draft.issuer)
    ));
    note("next: review the draft, then sign it: canary-sign sign DRAFT --key KEY");
    Ok(0)
}
