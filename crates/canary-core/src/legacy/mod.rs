//! Canaries in other formats, verify only (DESIGN §11): OpenPGP, signify
//! and minisign signed text, read by a profile.
//!
//! The trust file ([`LegacyTrust`]) pins the keys and says how to read the
//! text ([`Profile`]); [`check_canary`] gives the time findings of a text
//! whose signatures met the threshold, and [`LegacyState`] remembers what a
//! reader saw, for rollback, equivocation and removed promises. Signatures
//! are checked by [`signify`] and [`minisign`] here, and OpenPGP by `gpgv`
//! in the verifier, whose status lines [`gpgv`] reads.

use std::collections::{BTreeMap, BTreeSet};

use chrono::TimeDelta;
use serde::{Deserialize, Serialize};

use crate::digest::Digest;
use crate::time::{Timestamp, parse_duration};
use crate::verify::Finding;

pub mod gpgv;
pub mod minisign;
mod read;
pub mod signify;

pub use read::{Canary, Profile};

/// Caps of DESIGN §11: the text.
pub const TEXT_CAP: u64 = 256 * 1024;
/// Caps of DESIGN §11: each signature.
pub const SIGNATURE_CAP: u64 = 64 * 1024;

/// The grace period when the trust file names none.
pub const DEFAULT_GRACE: TimeDelta = TimeDelta::days(14);

/// How the canary is signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// OpenPGP: detached signatures or clearsigned text.
    #[serde(rename = "openpgp")]
    OpenPgp,
    /// signify (`Ed` keys and signatures), detached.
    Signify,
    /// minisign (`ED` prehashed or legacy `Ed`), detached, trusted comment verified.
    Minisign,
}

impl Format {
    /// The word of the trust file.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::OpenPgp => "openpgp",
            Format::Signify => "signify",
            Format::Minisign => "minisign",
        }
    }
}

/// A legacy trust file that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LegacyTrustError {
    /// Not TOML, an unknown field, or a value of the wrong type.
    #[error("not a legacy trust file: {0}")]
    Syntax(String),
    /// A field's value is not acceptable.
    #[error("{field}: {reason}")]
    Field {
        /// The field.
        field: &'static str,
        /// What is wrong.
        reason: String,
    },
}

fn field(field: &'static str, reason: impl Into<String>) -> LegacyTrustError {
    LegacyTrustError::Field {
        field,
        reason: reason.into(),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTrust {
    issuer: String,
    format: Format,
    keys: Vec<String>,
    threshold: u64,
    profile: Option<String>,
    signatures: Option<Vec<String>>,
    grace: Option<String>,
    max_age: Option<String>,
    read: Option<read::RawRead>,
}

/// What a reader pins for a canary in another format (DESIGN §11).
#[derive(Debug, Clone)]
pub struct LegacyTrust {
    /// The name used for state and output.
    pub issuer: String,
    /// How the text is signed.
    pub format: Format,
    /// Key files, as written (relative to the trust file).
    pub keys: Vec<String>,
    /// Distinct pinned keys (certificates) that must sign.
    pub threshold: usize,
    /// How the text is read.
    pub profile: Profile,
    /// Detached signature locations (`{url}` templates); empty when the
    /// text is clearsigned.
    pub signatures: Vec<String>,
    /// How long after the due date the canary becomes stale.
    pub grace: TimeDelta,
    /// The oldest an issue may be (required when the profile reads no due date).
    pub max_age: Option<TimeDelta>,
}

impl LegacyTrust {
    /// True when `text` is TOML with a `format` key: a legacy trust file
    /// rather than a trust policy (DESIGN §4).
    pub fn is_legacy(text: &str) -> bool {
        // A top-level `format` key stands on a line of its own before the
        // first table header: a scan for one spares the native path (every
        // `canary verify --trust`) a second TOML parse.
        let candidate = text
            .lines()
            .map(str::trim_start)
            .take_while(|l| !l.starts_with('['))
            .any(|l| {
                ["format", "\"format\"", "'format'"].iter().any(|k| {
                    l.strip_prefix(k)
                        .is_some_and(|r| r.trim_start().starts_with('='))
                })
            });
        candidate
            && text
                .parse::<toml::Table>()
                .is_ok_and(|t| t.contains_key("format"))
    }

    /// Parses and checks a legacy trust file.
    pub fn from_toml(text: &str) -> Result<Self, LegacyTrustError> {
        let raw: RawTrust =
            toml::from_str(text).map_err(|e| LegacyTrustError::Syntax(e.to_string()))?;
        if raw.issuer.trim().is_empty() || raw.issuer.chars().any(crate::sanitize::is_unsafe) {
            return Err(field(
                "issuer",
                "must be a non-empty name without control characters",
            ));
        }
        if raw.keys.is_empty() {
            return Err(field("keys", "pin at least one key file"));
        }
        let distinct: BTreeSet<&String> = raw.keys.iter().collect();
        if distinct.len() != raw.keys.len() {
            return Err(field("keys", "a key file is named twice"));
        }
        if raw.threshold == 0 || raw.threshold > raw.keys.len() as u64 {
            return Err(field(
                "threshold",
                format!("must be between 1 and the {} pinned keys", raw.keys.len()),
            ));
        }
        let signatures = match raw.signatures {
            None if raw.format == Format::OpenPgp => Vec::new(),
            None => {
                return Err(field(
                    "signatures",
                    format!(
                        "{} signatures are detached: name where they are",
                        raw.format.as_str()
                    ),
                ));
            }
            Some(list) => {
                if list.is_empty() {
                    return Err(field(
                        "signatures",
                        "empty: leave it out for clearsigned text, or name each detached signature",
                    ));
                }
                if let Some(t) = list.iter().find(|t| !t.contains("{url}")) {
                    return Err(field(
                        "signatures",
                        format!("{t:?} does not contain {{url}} (the text's location)"),
                    ));
                }
                list
            }
        };
        let duration = |name: &'static str, s: &str| {
            let d = parse_duration(s).map_err(|e| field(name, e.to_string()))?;
            if d <= TimeDelta::zero() {
                return Err(field(name, "must be longer than zero"));
            }
            Ok(d)
        };
        let grace = match &raw.grace {
            Some(g) => duration("grace", g)?,
            None => DEFAULT_GRACE,
        };
        let max_age = raw
            .max_age
            .as_deref()
            .map(|m| duration("max_age", m))
            .transpose()?;
        let profile = match (raw.profile.as_deref(), raw.read) {
            (Some(_), Some(_)) => {
                return Err(field(
                    "profile",
                    "give a profile or a [read] table, not both",
                ));
            }
            (None, None) => {
                return Err(field(
                    "profile",
                    "say how to read the text: profile = \"qubes\", or a [read] table",
                ));
            }
            (Some(name), None) => Profile::builtin(name).ok_or_else(|| {
                field(
                    "profile",
                    format!("{name:?} is not a built-in profile (there is \"qubes\")"),
                )
            })?,
            (None, Some(r)) => Profile::from_raw(r)?,
        };
        if !profile.reads_due() && max_age.is_none() {
            return Err(field(
                "max_age",
                "required: the [read] table names no due date",
            ));
        }
        Ok(LegacyTrust {
            issuer: raw.issuer,
            format: raw.format,
            keys: raw.keys,
            threshold: usize::try_from(raw.threshold).unwrap_or(usize::MAX),
            profile,
            signatures,
            grace,
            max_age,
        })
    }

    /// The detached signature locations for a text at `url` (a URL or a path).
    pub fn signature_locations(&self, url: &str) -> Vec<String> {
        self.signatures
            .iter()
            .map(|t| t.replace("{url}", url))
            .collect()
    }

    /// True when the text is clearsigned (no detached signatures).
    pub fn clearsigned(&self) -> bool {
        self.signatures.is_empty()
    }
}

/// How long before the start of a day in UTC that day begins somewhere
/// (UTC+14): a canary dated that day is from the future only before then.
pub const EARLIEST_DAY_START: TimeDelta = TimeDelta::hours(14);

/// The time findings of a canary whose signatures met the threshold:
/// from the future, stale at due + grace, late at due, too old for
/// `max_age` (the trust file's or the verifier's, the shorter).
pub fn check_canary(
    trust: &LegacyTrust,
    canary: &Canary,
    now: Timestamp,
    max_skew: TimeDelta,
    max_age: Option<TimeDelta>,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    // The "as of" date is a day, where the issuer is: it begins up to
    // fourteen hours before it does in UTC (UTC+14).
    if canary.issued
        > now
            .saturating_add(max_skew)
            .saturating_add(EARLIEST_DAY_START)
    {
        findings.push(Finding::FromTheFuture {
            issued_at: canary.issued,
            now,
            max_skew,
        });
    }
    if let Some(due) = canary.due {
        let stale = due.saturating_add(trust.grace);
        if now >= stale {
            findings.push(Finding::Expired {
                expires_at: stale,
                now,
            });
        } else if now >= due {
            findings.push(Finding::Late { next_due: due, now });
        }
    }
    if let Some(max_age) = crate::time::shorter_max_age(trust.max_age, max_age)
        && now.since(canary.issued) > max_age
    {
        findings.push(Finding::TooOld {
            issued_at: canary.issued,
            max_age,
            now,
        });
    }
    findings
}

/// An issue's place in a numbered series (`canary-{n:03}-{year}.txt`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Series {
    /// The number.
    pub n: u64,
    /// The year in its name.
    pub year: i32,
}

/// What a verifier remembers about a legacy canary between runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LegacyState {
    /// The issuer (of the trust file).
    pub issuer: String,
    /// The newest "as of" date seen.
    pub issued: Timestamp,
    /// Digest of that signed text.
    pub digest: Digest,
    /// Its statements, id → text (whitespace normalised).
    pub statements: BTreeMap<String, String>,
    /// Its notes section, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    /// Its statements expected to change every issue.
    #[serde(default)]
    pub volatile: BTreeSet<String>,
    /// Its place in a numbered series, when the source is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub series: Option<Series>,
    /// When it was last verified ok.
    pub verified_at: Timestamp,
}

impl LegacyState {
    /// The state after `canary` (with signed text digest `digest`) verified ok at `now`.
    pub fn record(issuer: &str, canary: &Canary, digest: Digest, now: Timestamp) -> Self {
        LegacyState {
            issuer: issuer.to_owned(),
            issued: canary.issued,
            digest,
            statements: canary.statements.iter().cloned().collect(),
            notes: canary.notes.clone(),
            volatile: canary.volatile.clone(),
            series: None,
            verified_at: now,
        }
    }

    /// DESIGN §11 with state: the clock went back, an older date
    /// (rollback), the same date with other bytes (equivocation), a
    /// non-volatile statement removed or reworded (tripped, quoted), the
    /// notes changed (warning).
    pub fn check(&self, canary: &Canary, digest: Digest, now: Timestamp) -> Vec<Finding> {
        let mut findings = Vec::new();
        if now < self.verified_at {
            findings.push(Finding::ClockWentBack {
                last: self.verified_at,
                now,
            });
        }
        if canary.issued < self.issued {
            findings.push(Finding::DateRollback {
                seen: self.issued,
                found: canary.issued,
            });
            return findings;
        }
        if canary.issued == self.issued {
            if digest != self.digest {
                findings.push(Finding::DateEquivocation {
                    issued: canary.issued,
                    seen: self.digest,
                    found: digest,
                });
            }
            return findings;
        }
        let now_texts: BTreeMap<&str, &str> = canary
            .statements
            .iter()
            .map(|(id, text)| (id.as_str(), text.as_str()))
            .collect();
        // The ids volatile in the issue remembered: the plan may move to
        // another number when a statement is added before it, but an id that
        // held a promise then is compared even if the plan holds it now (a
        // promise dropped and the plan renumbered onto its number trips).
        // A state recorded before volatile ids were kept has none: then the
        // issue's own.
        let volatile = if self.volatile.is_empty() {
            &canary.volatile
        } else {
            &self.volatile
        };
        for (id, before) in &self.statements {
            if volatile.contains(id) {
                continue;
            }
            match now_texts.get(id.as_str()) {
                None => findings.push(Finding::PromiseRemoved {
                    id: id.clone(),
                    issued: canary.issued,
                    text: before.clone(),
                }),
                Some(after) if after != before => findings.push(Finding::PromiseChanged {
                    id: id.clone(),
                    issued: canary.issued,
                    before: before.clone(),
                    after: (*after).to_owned(),
                }),
                Some(_) => {}
            }
        }
        if self.notes != canary.notes {
            findings.push(Finding::NotesChanged {
                before: self.notes.clone().unwrap_or_default(),
                after: canary.notes.clone().unwrap_or_default(),
            });
        }
        findings
    }
}

#[cfg(test)]
mod tests;
