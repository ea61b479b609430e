//! The watch list: a TOML file of issuers, each turned into a job (or into
//! that issuer's own usage problem, which does not stop the others).

use std::path::{Path, PathBuf};

use canary_core::{TimeDelta, Timestamp, TrustPolicy, parse_duration};
use serde::Deserialize;

use crate::check::Settings;
use crate::error::{Error, Result};
use crate::source::{Location, Source};
use crate::trust::{Loaded, TrustArgs};

use super::Args;

/// What an entry pins.
pub enum Pin {
    /// A trust policy for canaries in canary's own format.
    Native(TrustPolicy),
    /// A legacy trust file, for a canary in another format (DESIGN §11).
    Legacy(Box<crate::legacy::Pinned>),
}

impl Pin {
    /// The issuer it pins.
    pub fn issuer(&self) -> &str {
        match self {
            Pin::Native(p) => p.issuer(),
            Pin::Legacy(l) => &l.trust.issuer,
        }
    }
}

/// One issuer, ready to verify.
pub struct Job {
    /// The entry's name.
    pub name: String,
    /// The primary source, then the mirrors.
    pub sources: Vec<(String, Location)>,
    /// The pinned policy.
    pub policy: Pin,
    /// How to verify.
    pub settings: Settings,
}

/// An entry of the list: its job, or the problem that keeps it from
/// running (its verdict is `usage`; the other entries are still checked).
pub type Listed = std::result::Result<Job, (String, String)>;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListFile {
    #[serde(default)]
    defaults: Defaults,
    #[serde(default)]
    issuer: Vec<Entry>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Defaults {
    warn_before: Option<String>,
    max_age: Option<String>,
    history: Option<bool>,
    incidents: Option<bool>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    name: String,
    source: Option<String>,
    #[serde(default)]
    mirrors: Vec<String>,
    trust: Option<PathBuf>,
    #[serde(default)]
    keys: Vec<PathBuf>,
    threshold: Option<u64>,
    warn_before: Option<String>,
    max_age: Option<String>,
    history: Option<bool>,
    incidents: Option<bool>,
}

fn duration(field: &str, s: &str) -> std::result::Result<TimeDelta, String> {
    parse_duration(s).map_err(|e| format!("{field}: {e}"))
}

/// Reads the list. A list that cannot be read, parsed, or names an issuer
/// twice is a usage error of the run; a problem of one entry (a missing
/// trust file, a bad source) is that entry's alone.
pub fn load_jobs(args: &Args, now: Timestamp) -> Result<Vec<Listed>> {
    let text = std::fs::read_to_string(&args.list)
        .map_err(|e| Error::usage(format!("cannot read {}: {e}", args.list.display())))?;
    let list: ListFile =
        toml::from_str(&text).map_err(|e| Error::usage(format!("{}: {e}", args.list.display())))?;
    if list.issuer.is_empty() {
        return Err(Error::usage(format!(
            "{}: no [[issuer]] to watch",
            args.list.display()
        )));
    }
    let mut seen = std::collections::BTreeSet::new();
    for entry in &list.issuer {
        if !seen.insert(entry.name.clone()) {
            return Err(Error::usage(format!(
                "issuer {:?} is listed twice",
                entry.name
            )));
        }
    }
    let base = args.list.parent().unwrap_or(Path::new("."));
    let mut listed: Vec<Listed> = Vec::new();
    // One issuer, one state: two entries that resolve to one state file
    // would race on it (and a lagging one would read as a rollback). Each
    // state file's first entry, by the file's name.
    let mut slots: std::collections::HashMap<PathBuf, String> = std::collections::HashMap::new();
    for entry in &list.issuer {
        let job = entry_job(args, now, base, &list.defaults, entry).and_then(|job| {
            let slot = crate::state::file_for(Path::new(""), job.policy.issuer());
            match slots.get(&slot) {
                Some(first) => Err(format!(
                    "{:?} verifies the canary of {:?} as {first:?} does: list the second source \
                     under mirrors = [...] of the first",
                    entry.name,
                    job.policy.issuer(),
                )),
                None => {
                    slots.insert(slot, entry.name.clone());
                    Ok(job)
                }
            }
        });
        listed.push(job.map_err(|problem| (entry.name.clone(), problem)));
    }
    Ok(listed)
}

/// The verifier's settings for one entry: the command line's, with the
/// entry's (or the list's defaults') warn_before and max_age.
fn entry_options(
    args: &Args,
    now: Timestamp,
    defaults: &Defaults,
    entry: &Entry,
) -> std::result::Result<canary_core::VerifyOptions, String> {
    let mut options = args.policy.options(now);
    if let Some(w) = entry.warn_before.as_ref().or(defaults.warn_before.as_ref()) {
        options.warn_before = duration("warn_before", w)?;
    }
    if let Some(m) = entry.max_age.as_ref().or(defaults.max_age.as_ref()) {
        options.max_age = Some(duration("max_age", m)?);
    }
    Ok(options)
}

/// One entry as a job, or what is wrong with it.
fn entry_job(
    args: &Args,
    now: Timestamp,
    base: &Path,
    defaults: &Defaults,
    entry: &Entry,
) -> std::result::Result<Job, String> {
    if entry.threshold.is_some() && entry.trust.is_some() {
        return Err(
            "threshold goes with keys; a trust file names its own threshold (remove one)"
                .to_owned(),
        );
    }
    let trust = TrustArgs {
        trust: entry.trust.as_ref().map(|p| base.join(p)),
        key: entry.keys.iter().map(|p| base.join(p)).collect(),
        issuer: Some(entry.name.clone()),
        threshold: entry.threshold,
    };
    let loaded = match trust
        .load_pin(Some(&entry.name), None)
        .map_err(|e| format!("{e:#}"))?
    {
        Loaded::Legacy(path) => return legacy_job(args, now, base, defaults, entry, &path),
        Loaded::Native(loaded) => loaded,
    };
    if loaded.policy.issuer() != entry.name {
        return Err(format!(
            "the trust policy is for {:?}, not for {:?}: name the entry after the issuer its \
             statements name, or give it that issuer's trust",
            loaded.policy.issuer(),
            entry.name
        ));
    }
    let mut sources = Vec::new();
    let primary = entry.source.clone().unwrap_or_else(|| entry.name.clone());
    let mut primary_remote = false;
    for arg in std::iter::once(&primary).chain(entry.mirrors.iter()) {
        // Relative local paths are relative to the list file.
        let resolved = if arg.contains("://") || !base.join(arg).exists() {
            arg.clone()
        } else {
            base.join(arg).display().to_string()
        };
        let source = Source::parse(&resolved)?;
        if sources.is_empty() {
            primary_remote = source.is_remote();
        }
        let location = Location::of(&source)?;
        if let Location::Remote { latest, .. } = &location
            && let Some(p) = crate::fetch::scheme_problem(latest)
        {
            return Err(format!("{arg}: {p}"));
        }
        sources.push((arg.clone(), location));
    }
    let options = entry_options(args, now, defaults, entry)?;
    let state_dir = args
        .state
        .folder_for(args.policy.at, primary_remote)
        .map_err(|e| e.message)?;
    Ok(Job {
        name: entry.name.clone(),
        sources,
        policy: Pin::Native(loaded.policy),
        settings: Settings {
            options,
            state_dir,
            trust_only_dir: None,
            history: entry.history.or(defaults.history).unwrap_or(false),
            incidents: entry.incidents.or(defaults.incidents).unwrap_or(false),
            deny_warnings: args.deny_warnings,
        },
    })
}

/// An entry whose trust file is a legacy trust file (DESIGN §11): one
/// source, the canary's text (a URL or a file).
fn legacy_job(
    args: &Args,
    now: Timestamp,
    base: &Path,
    defaults: &Defaults,
    entry: &Entry,
    path: &Path,
) -> std::result::Result<Job, String> {
    if !entry.keys.is_empty() {
        return Err("a trust file and keys exclude each other: give one".to_owned());
    }
    if entry.history == Some(true) || entry.incidents == Some(true) {
        return Err(
            "history and incidents need canary's own format; this entry's trust file names a \
             canary in another format"
                .to_owned(),
        );
    }
    if !entry.mirrors.is_empty() {
        return Err("mirrors of a canary in another format are not compared yet: list the text's one source".to_owned());
    }
    let pinned = crate::legacy::load(path).map_err(|e| format!("{e:#}"))?;
    if pinned.trust.issuer != entry.name {
        return Err(format!(
            "the trust file is for {:?}, not for {:?}: name the entry after the trust file's issuer",
            pinned.trust.issuer, entry.name
        ));
    }
    let Some(arg) = &entry.source else {
        return Err(
            "source = \"https://...\" is required: the URL of the canary's text".to_owned(),
        );
    };
    let resolved = if arg.contains("://") || !base.join(arg).exists() {
        arg.clone()
    } else {
        base.join(arg).display().to_string()
    };
    let location = crate::legacy::location_of(&resolved).map_err(|e| e.message)?;
    let remote = matches!(location, Location::Remote { .. });
    let options = entry_options(args, now, defaults, entry)?;
    let state_dir = args
        .state
        .folder_for(args.policy.at, remote)
        .map_err(|e| e.message)?;
    Ok(Job {
        name: entry.name.clone(),
        sources: vec![(arg.clone(), location)],
        policy: Pin::Legacy(Box::new(pinned)),
        settings: Settings {
            options,
            state_dir,
            trust_only_dir: None,
            history: false,
            incidents: false,
            deny_warnings: args.deny_warnings,
        },
    })
}
