//! The rules a document must meet before anyone signs it, beyond its own
//! format: it continues the issuer folder's chain, does not promise too far
//! ahead, and does not silently drop or reword a promise.

use anyhow::Result;
use canary_core::{
    FieldError, IncidentRecord, Statement, Timestamp, compare_statements, statement_texts,
};
use chrono::TimeDelta;

use crate::folder::IssuerFolder;

fn problem(field: impl Into<String>, reason: impl Into<String>) -> FieldError {
    FieldError {
        field: field.into(),
        reason: reason.into(),
    }
}

/// A document must speak for the folder's issuer.
fn same_issuer(folder: &IssuerFolder, issuer: &str) -> Option<FieldError> {
    (issuer != folder.config.issuer).then(|| {
        problem(
            "issuer",
            format!(
                "is {issuer:?}, but canary.toml says {:?}",
                folder.config.issuer
            ),
        )
    })
}

/// How far ahead `issued_at` may lie (clock skew between machines).
const MAX_SKEW_MINUTES: i64 = 5;

/// Checks a statement against the folder. `digest` is the digest of its
/// canonical payload. Returns every problem found.
pub fn statement(
    folder: &IssuerFolder,
    s: &Statement,
    digest: canary_core::Digest,
    now: Timestamp,
    allow_statement_change: bool,
) -> Result<Vec<FieldError>> {
    let mut problems: Vec<FieldError> = same_issuer(folder, &s.issuer).into_iter().collect();

    // The one-year limit: a canary promising further ahead means little.
    let limit = s
        .issued_at
        .as_datetime()
        .checked_add_months(chrono::Months::new(12))
        .and_then(Timestamp::from_datetime);
    if limit.is_none_or(|l| s.expires_at > l) {
        problems.push(problem("expires_at", "is more than 1 year after issued_at"));
    }
    if s.issued_at
        > now
            .checked_add(TimeDelta::minutes(MAX_SKEW_MINUTES))
            .unwrap_or(now)
    {
        problems.push(problem(
            "issued_at",
            format!("is in the future (now {now})"),
        ));
    }
    if s.expires_at <= now {
        problems.push(problem(
            "expires_at",
            format!("has passed already (now {now})"),
        ));
    }

    // The chain.
    let numbers = folder.statement_numbers()?;
    let latest = numbers.last().copied().unwrap_or(0);
    let already_here = numbers.contains(&s.sequence);
    if already_here {
        let existing = folder.statement(s.sequence)?;
        if existing.digest() != digest {
            problems.push(problem(
                "sequence",
                format!(
                    "{} is already signed ({}); the next sequence is {}",
                    s.sequence,
                    existing.path.display(),
                    latest + 1
                ),
            ));
            return Ok(problems);
        }
    } else if s.sequence != latest + 1 {
        problems.push(problem(
            "sequence",
            format!(
                "must be {} (the folder's latest statement is {latest})",
                latest + 1
            ),
        ));
        return Ok(problems);
    }
    if s.sequence > 1 {
        let prev = folder.statement(s.sequence - 1)?;
        problems.extend(
            canary_core::statement_link_problems(prev.doc(), prev.digest(), s)
                .into_iter()
                .map(|p| problem(p.field, p.reason)),
        );
        if !allow_statement_change {
            for f in compare_statements(&statement_texts(prev.doc()), s, s.sequence) {
                problems.push(problem(
                    "statements",
                    format!(
                        "{f} compared with statement {}; if this is deliberate, sign with \
                         --allow-statement-change",
                        s.sequence - 1
                    ),
                ));
            }
        }
    }
    for (i, r) in s
        .incidents
        .as_deref()
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        match folder.incident(&r.id, r.version) {
            Ok(stored) if stored.digest() == r.digest => {}
            Ok(stored) => problems.push(problem(
                format!("incidents[{i}].digest"),
                format!(
                    "is {}, but {} has digest {}",
                    r.digest,
                    stored.path.display(),
                    stored.digest()
                ),
            )),
            Err(e) => problems.push(problem(format!("incidents[{i}]"), format!("{e:#}"))),
        }
    }
    Ok(problems)
}

/// Checks an incident version against the folder: it is the next version of
/// its record, names the previous version's digest, and only appends to the
/// update timeline.
pub fn incident(
    folder: &IssuerFolder,
    r: &IncidentRecord,
    digest: canary_core::Digest,
    now: Timestamp,
) -> Result<Vec<FieldError>> {
    let mut problems: Vec<FieldError> = same_issuer(folder, &r.issuer).into_iter().collect();
    let skewed = now
        .checked_add(TimeDelta::minutes(MAX_SKEW_MINUTES))
        .unwrap_or(now);
    if r.started_at > skewed {
        problems.push(problem(
            "started_at",
            format!("is in the future (now {now})"),
        ));
    }
    if r.updates.last().is_some_and(|u| u.at > skewed) {
        problems.push(problem(
            "updates",
            format!("the last update is in the future (now {now})"),
        ));
    }
    let known: Vec<&str> = folder
        .config
        .components
        .iter()
        .map(|c| c.id.as_str())
        .collect();
    for (i, c) in r.affected.iter().enumerate() {
        if !known.contains(&c.as_str()) {
            problems.push(problem(
                format!("affected[{i}]"),
                format!(
                    "{c:?} is not a component of canary.toml (known: {})",
                    known.join(", ")
                ),
            ));
        }
    }
    let versions = folder.incident_versions(&r.id)?;
    let latest = versions.last().copied().unwrap_or(0);
    if versions.contains(&r.version) {
        let existing = folder.incident(&r.id, r.version)?;
        if existing.digest() != digest {
            problems.push(problem(
                "version",
                format!(
                    "{} of incident {:?} is already signed; the next version is {}",
                    r.version,
                    r.id,
                    latest + 1
                ),
            ));
            return Ok(problems);
        }
    } else if r.version != latest + 1 {
        problems.push(problem(
            "version",
            format!(
                "must be {} (the latest version of {:?} is {latest})",
                latest + 1,
                r.id
            ),
        ));
        return Ok(problems);
    }
    let prev = match r.version {
        0 | 1 => None,
        v => Some(folder.incident(&r.id, v - 1)?),
    };
    problems.extend(
        canary_core::incident_link_problems(prev.as_ref().map(|p| (p.doc(), p.digest())), r)
            .into_iter()
            .map(|p| problem(p.field, p.reason)),
    );
    Ok(problems)
}

/// The trust policy a rotation replaces: the folder's version just below it.
pub fn rotation_base<'a>(
    folder: &'a IssuerFolder,
    r: &canary_core::KeyRotation,
) -> Result<&'a canary_core::TrustPolicy> {
    let current = folder.policy()?.version();
    folder
        .policies()
        .iter()
        .find(|p| p.version() + 1 == r.version)
        .ok_or_else(|| {
            anyhow::anyhow!(
                "a rotation to trust version {} does not follow the folder's trust version {current}",
                r.version
            )
        })
}

/// Checks a key rotation against the folder: the next trust version (or
/// the pending one being co-signed), a valid new key set.
pub fn rotation(
    folder: &IssuerFolder,
    r: &canary_core::KeyRotation,
    digest: canary_core::Digest,
    now: Timestamp,
) -> Result<Vec<FieldError>> {
    let mut problems: Vec<FieldError> = same_issuer(folder, &r.issuer).into_iter().collect();
    if r.issued_at
        > now
            .checked_add(TimeDelta::minutes(MAX_SKEW_MINUTES))
            .unwrap_or(now)
    {
        problems.push(problem(
            "issued_at",
            format!("is in the future (now {now})"),
        ));
    }
    let base = match rotation_base(folder, r) {
        Ok(b) => b,
        Err(e) => {
            problems.push(problem("version", format!("{e:#}")));
            return Ok(problems);
        }
    };
    let path = folder.rotation_path(r.version);
    if path.exists() {
        let bytes = std::fs::read(&path)?;
        let same = canary_core::Envelope::parse(&bytes)
            .is_ok_and(|e| canary_core::Digest::of(e.payload()) == digest);
        if !same {
            problems.push(problem(
                "version",
                format!(
                    "a different rotation to version {} exists ({})",
                    r.version,
                    path.display()
                ),
            ));
        }
    } else if folder
        .rotation_numbers()?
        .last()
        .is_some_and(|&v| v > base.version())
    {
        problems.push(problem(
            "version",
            "another rotation is waiting for signatures; finish or remove it first".to_owned(),
        ));
    }
    if let Err(e) = base.rotated(r) {
        problems.push(problem("keys", e.to_string()));
    }
    Ok(problems)
}
