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

/// A problem when `at` lies further ahead of `now` than the clock skew allows.
fn in_the_future(field: &str, at: Timestamp, now: Timestamp) -> Option<FieldError> {
    let latest = now.saturating_add(TimeDelta::minutes(MAX_SKEW_MINUTES));
    (at > latest).then(|| problem(field, format!("is in the future (now {now})")))
}

/// Where a new document stands in its numbered series (statement sequences,
/// incident versions): `Ok(true)` when `n` is already signed with the same
/// payload, `Ok(false)` when it is the next number, otherwise the problem.
/// `existing` gives the digest of number `n` when the folder holds it.
fn place_in_series(
    numbers: &[u64],
    n: u64,
    digest: canary_core::Digest,
    existing: impl FnOnce() -> Result<(canary_core::Digest, String)>,
    field: &str,
    what: &str,
) -> Result<Result<bool, FieldError>> {
    let latest = numbers.last().copied().unwrap_or(0);
    let next = latest.saturating_add(1);
    if numbers.contains(&n) {
        let (found, name) = existing()?;
        if found != digest {
            return Ok(Err(problem(
                field,
                format!("{n} is already signed ({name}); the next {what} is {next}"),
            )));
        }
        return Ok(Ok(true));
    }
    if n != next {
        return Ok(Err(problem(
            field,
            format!("must be {next} (the latest {what} is {latest})"),
        )));
    }
    Ok(Ok(false))
}

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

    // A canary that promises nothing signals nothing when it stops.
    if s.statements.is_empty() {
        problems.push(problem(
            "statements",
            "is empty: a canary needs at least one promise (canary.toml's [[statements]])",
        ));
    }

    // The one-year limit: a canary promising further ahead means little.
    let limit = s
        .issued_at
        .as_datetime()
        .checked_add_months(chrono::Months::new(12))
        .and_then(Timestamp::from_datetime);
    if limit.is_none_or(|l| s.expires_at > l) {
        problems.push(problem("expires_at", "is more than 1 year after issued_at"));
    }
    problems.extend(in_the_future("issued_at", s.issued_at, now));
    if s.expires_at <= now {
        problems.push(problem(
            "expires_at",
            format!("has passed already (now {now})"),
        ));
    }

    // The chain.
    let numbers = folder.statement_numbers()?;
    let placed = place_in_series(
        &numbers,
        s.sequence,
        digest,
        || {
            let existing = folder.statement(s.sequence)?;
            Ok((existing.digest(), existing.path.display().to_string()))
        },
        "sequence",
        "statement",
    )?;
    if let Err(p) = placed {
        problems.push(p);
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
    problems.extend(in_the_future("started_at", r.started_at, now));
    if let Some(end) = r.resolved_at {
        problems.extend(in_the_future("resolved_at", end, now));
    }
    if let Some(u) = r.updates.last() {
        problems.extend(in_the_future("updates", u.at, now).map(|p| FieldError {
            reason: format!("the last update {}", p.reason),
            ..p
        }));
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
    let what = format!("version of incident {:?}", r.id);
    let placed = place_in_series(
        &versions,
        r.version,
        digest,
        || {
            let existing = folder.incident(&r.id, r.version)?;
            Ok((existing.digest(), existing.path.display().to_string()))
        },
        "version",
        &what,
    )?;
    if let Err(p) = placed {
        problems.push(p);
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
    problems.extend(in_the_future("issued_at", r.issued_at, now));
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

/// The size of an envelope of `payload_type` once it holds `signatures`
/// signatures, estimated from its payload length (base64, the JSON around
/// it, the signatures).
pub fn envelope_size(payload_len: usize, signatures: usize) -> u64 {
    let base64 = (payload_len as u64).div_ceil(3) * 4;
    base64 + 120 + signatures as u64 * canary_core::layout::SIGNATURE_BYTES
}

/// A problem when an envelope of `size` bytes is more than readers accept
/// for `payload_type` (DESIGN §7: statements 256 KiB, others 1 MiB); a
/// warning (the second value) from 80% of it.
pub fn size_problem(
    payload_type: canary_core::PayloadType,
    size: u64,
) -> (Option<FieldError>, Option<String>) {
    let cap = canary_core::layout::cap_for(payload_type);
    if size > cap {
        let p = problem(
            "(size)",
            format!(
                "the signed envelope is about {size} bytes, more than the {cap} readers accept: \
                 every verifier would refuse it"
            ),
        );
        return (Some(p), None);
    }
    if size * 5 > cap * 4 {
        return (
            None,
            Some(format!(
                "the signed envelope is about {size} bytes, {}% of the {cap} readers accept",
                size * 100 / cap
            )),
        );
    }
    (None, None)
}
