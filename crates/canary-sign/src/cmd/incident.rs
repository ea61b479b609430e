//! `canary-sign incident new|update|resolve`: incident records.

use canary_core::{
    Compromise, Digest, Impact, IncidentKind, IncidentRecord, IncidentStatus, IncidentUpdate,
    Measure, MeasureKind, Timestamp, is_slug,
};

use crate::cmd::sign::draft_or_sign;
use crate::common::{AtArgs, DirArgs, DraftOrSign, note};
use crate::error::{Result, fail, refuse};
use crate::folder::IssuerFolder;

/// Incident records: each new version is signed into incidents/<id>/<version>.json.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Open an incident record (version 1).
    #[command(after_help = "\
Example:
  canary-sign incident new --id 2026-02-push-certificate \\
      --title \"Push notifications failed\" --impact major \\
      --affected push-notifications \\
      --message \"Push notifications are not delivered; we are investigating.\" \\
      --key alice.key

With --draft the record is printed instead of signed, to edit and then sign
with `canary-sign sign FILE --key KEY`.")]
    New(NewArgs),
    /// Add an update to an incident (the next version).
    #[command(after_help = "\
Example:
  canary-sign incident update --id 2026-02-push-certificate --status identified \\
      --message \"The push certificate expired.\" \\
      --what-happened \"The APNs certificate expired on 1 February.\" \\
      --done mitigate:\"Installed a renewed certificate\" --key alice.key")]
    Update(UpdateArgs),
    /// Resolve an incident: status resolved, resolved_at set (the next version).
    #[command(after_help = "\
Example:
  canary-sign incident resolve --id 2026-02-push-certificate \\
      --message \"Delivery is back to normal.\" \\
      --measure prevent:\"Alert 30 days before any certificate expires\" --key alice.key")]
    Resolve(ResolveArgs),
}

/// Fields every incident command may change.
#[derive(Debug, clap::Args)]
pub struct Edits {
    /// What happened, for readers (the "What happened" section).
    #[arg(long, value_name = "TEXT")]
    pub what_happened: Option<String>,
    /// What was compromised or lost, in words.
    #[arg(long, value_name = "TEXT")]
    pub compromised: Option<String>,
    /// Whether data was lost.
    #[arg(long, value_name = "BOOL")]
    pub data_lost: Option<bool>,
    /// Whether data was exposed.
    #[arg(long, value_name = "BOOL")]
    pub data_exposed: Option<bool>,
    /// A measure planned, as KIND:ACTION with KIND mitigate, prevent or process
    /// (repeatable).
    #[arg(long, value_name = "KIND:ACTION")]
    pub measure: Vec<String>,
    /// A measure already taken, as KIND:ACTION (repeatable).
    #[arg(long, value_name = "KIND:ACTION")]
    pub done: Vec<String>,
}

/// Options shared by the incident commands.
#[derive(Debug, clap::Args)]
pub struct Common {
    /// The update's text, added to the record's timeline.
    #[arg(long, value_name = "TEXT")]
    pub message: String,
    #[command(flatten)]
    pub edits: Edits,
    #[command(flatten)]
    pub how: DraftOrSign,
    #[command(flatten)]
    pub dir: DirArgs,
    #[command(flatten)]
    pub at: AtArgs,
}

/// Arguments of `incident new`.
#[derive(Debug, clap::Args)]
pub struct NewArgs {
    /// A slug naming the incident for good, e.g. 2026-02-push-certificate.
    #[arg(long)]
    pub id: String,
    /// Headline.
    #[arg(long)]
    pub title: String,
    /// incident, maintenance or informational.
    #[arg(long, default_value = "incident", value_parser = parse_kind)]
    pub kind: IncidentKind,
    /// none, minor, major or critical.
    #[arg(long, value_parser = parse_impact)]
    pub impact: Impact,
    /// investigating, identified or monitoring.
    #[arg(long, default_value = "investigating", value_parser = parse_status)]
    pub status: IncidentStatus,
    /// A component id of canary.toml that is affected (repeatable).
    #[arg(long, value_name = "COMPONENT")]
    pub affected: Vec<String>,
    /// When it began (default: now, or --at), for a record written up after
    /// the fact. The update's own time is --at.
    #[arg(long, value_name = "TIMESTAMP")]
    pub started_at: Option<Timestamp>,
    #[command(flatten)]
    pub common: Common,
}

/// Arguments of `incident update`.
#[derive(Debug, clap::Args)]
pub struct UpdateArgs {
    /// The incident's id.
    #[arg(long)]
    pub id: String,
    /// investigating, identified or monitoring (default: unchanged).
    #[arg(long, value_parser = parse_status)]
    pub status: Option<IncidentStatus>,
    /// none, minor, major or critical (default: unchanged).
    #[arg(long, value_parser = parse_impact)]
    pub impact: Option<Impact>,
    /// New headline (default: unchanged).
    #[arg(long)]
    pub title: Option<String>,
    /// Replace the affected components (repeatable; default: unchanged).
    #[arg(long, value_name = "COMPONENT")]
    pub affected: Vec<String>,
    #[command(flatten)]
    pub common: Common,
}

/// Arguments of `incident resolve`.
#[derive(Debug, clap::Args)]
pub struct ResolveArgs {
    /// The incident's id.
    #[arg(long)]
    pub id: String,
    /// When it ended (default: now, or --at), for a record written up after
    /// the fact.
    #[arg(long, value_name = "TIMESTAMP")]
    pub resolved_at: Option<Timestamp>,
    #[command(flatten)]
    pub common: Common,
}

fn parse_with<T: serde::de::DeserializeOwned>(
    s: &str,
    allowed: &str,
) -> std::result::Result<T, String> {
    serde_json::from_value(serde_json::Value::String(s.to_owned()))
        .map_err(|_| format!("expected one of: {allowed}"))
}

fn parse_kind(s: &str) -> std::result::Result<IncidentKind, String> {
    parse_with(s, "incident, maintenance, informational")
}

fn parse_impact(s: &str) -> std::result::Result<Impact, String> {
    parse_with(s, "none, minor, major, critical")
}

fn parse_status(s: &str) -> std::result::Result<IncidentStatus, String> {
    parse_with(
        s,
        "investigating, identified, monitoring (use `incident resolve` to resolve)",
    )
}

fn parse_measure(s: &str, done: bool) -> Result<Measure> {
    let (kind, action) = s.split_once(':').ok_or_else(|| {
        fail!("measure {s:?} must be KIND:ACTION, e.g. prevent:\"Renew certificates early\"")
    })?;
    let kind: MeasureKind = parse_with(kind, "mitigate, prevent, process")
        .map_err(|e| fail!("measure {s:?}: kind {e}"))?;
    if action.trim().is_empty() {
        return Err(fail!("measure {s:?} has no action"));
    }
    Ok(Measure {
        action: action.to_owned(),
        kind,
        done,
    })
}

fn apply(edits: &Edits, record: &mut IncidentRecord) -> Result<()> {
    if let Some(t) = &edits.what_happened {
        record.what_happened = t.clone();
    }
    if let Some(t) = &edits.compromised {
        record.compromised.summary = t.clone();
    }
    if let Some(b) = edits.data_lost {
        record.compromised.data_lost = b;
    }
    if let Some(b) = edits.data_exposed {
        record.compromised.data_exposed = b;
    }
    for m in &edits.measure {
        record.measures.push(parse_measure(m, false)?);
    }
    for m in &edits.done {
        let measure = parse_measure(m, true)?;
        // Marking a planned measure done replaces it rather than listing it twice.
        match record
            .measures
            .iter_mut()
            .find(|x| x.action == measure.action && x.kind == measure.kind)
        {
            Some(existing) => existing.done = true,
            None => record.measures.push(measure),
        }
    }
    Ok(())
}

/// The next version of the latest record of `id`.
fn next_version(folder: &IssuerFolder, id: &str) -> Result<(IncidentRecord, Digest)> {
    // Checked before the id becomes a path: `..` or an absolute path would
    // read folders outside the issuer folder.
    if !is_slug(id) {
        return Err(refuse!(
            "incident id {id:?} is not a slug (lowercase letters and digits joined by hyphens)"
        ));
    }
    let latest = folder.latest_incident(id)?.ok_or_else(|| {
        refuse!("there is no incident {id:?} in {}", folder.dir.display())
            .hint("open it with `canary-sign incident new`")
    })?;
    if latest.doc().status == IncidentStatus::Resolved {
        note(&format!(
            "note: incident {id:?} was resolved; this update reopens the record's timeline"
        ));
    }
    let mut record = latest.doc().clone();
    record.version += 1;
    record.previous = Some(latest.digest());
    Ok((record, latest.digest()))
}

fn finish(
    folder: &IssuerFolder,
    record: &mut IncidentRecord,
    common: &Common,
    now: Timestamp,
) -> Result<u8> {
    record.updates.push(IncidentUpdate {
        at: now,
        status: record.status,
        body: common.message.clone(),
    });
    draft_or_sign(folder, &*record, &common.how, now)?;
    Ok(0)
}

/// Runs the command.
pub fn run(command: &Command) -> Result<u8> {
    match command {
        Command::New(a) => {
            let c = &a.common;
            let folder = c.dir.open()?;
            let now = c.at.now()?;
            if !is_slug(&a.id) {
                return Err(fail!(
                    "--id {:?} must be a slug: lowercase letters and digits joined by hyphens",
                    a.id
                ));
            }
            if !folder.incident_versions(&a.id)?.is_empty() {
                return Err(refuse!("incident {:?} exists already", a.id)
                    .hint("add to it with `canary-sign incident update`"));
            }
            let mut record = IncidentRecord {
                issuer: folder.config.issuer.clone(),
                id: a.id.clone(),
                version: 1,
                title: a.title.clone(),
                kind: a.kind,
                impact: a.impact,
                status: a.status,
                started_at: a.started_at.unwrap_or(now),
                resolved_at: None,
                affected: a.affected.clone(),
                // Only what the maintainer wrote as such: the first update
                // says what is being done, not what happened.
                what_happened: String::new(),
                compromised: Compromise {
                    summary: "Not yet known; this record will be updated.".to_owned(),
                    data_lost: false,
                    data_exposed: false,
                },
                measures: Vec::new(),
                updates: Vec::new(),
                previous: None,
            };
            if a.status == IncidentStatus::Resolved {
                return Err(fail!(
                    "a new incident cannot start resolved; open it, then `incident resolve`"
                ));
            }

            apply(&c.edits, &mut record)?;
            finish(&folder, &mut record, c, now)
        }
        Command::Update(a) => {
            let c = &a.common;
            let folder = c.dir.open()?;
            let now = c.at.now()?;
            let (mut record, _) = next_version(&folder, &a.id)?;
            if let Some(s) = a.status {
                if s == IncidentStatus::Resolved {
                    return Err(fail!(
                        "use `canary-sign incident resolve` to resolve an incident"
                    ));
                }
                record.status = s;
                record.resolved_at = None;
            } else if record.status == IncidentStatus::Resolved {
                return Err(fail!(
                    "incident {:?} is resolved; give --status to reopen it",
                    a.id
                ));
            }
            if let Some(i) = a.impact {
                record.impact = i;
            }
            if let Some(t) = &a.title {
                record.title = t.clone();
            }
            if !a.affected.is_empty() {
                record.affected = a.affected.clone();
            }
            apply(&c.edits, &mut record)?;
            finish(&folder, &mut record, c, now)
        }
        Command::Resolve(a) => {
            let c = &a.common;
            let folder = c.dir.open()?;
            let now = c.at.now()?;
            let (mut record, _) = next_version(&folder, &a.id)?;
            record.status = IncidentStatus::Resolved;
            // Checked with the rest of the record: not before started_at,
            // not in the future.
            record.resolved_at = Some(a.resolved_at.unwrap_or(now));
            apply(&c.edits, &mut record)?;
            finish(&folder, &mut record, c, now)
        }
    }
}
