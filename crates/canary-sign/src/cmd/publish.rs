//! `canary-sign publish`: the issuer folder as a static site (DESIGN §9).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use canary_core::{
    Digest, Envelope, Finding, IncidentRecord, Statement, TrustPolicy, Verdict, Verified,
    VerifyOptions, parse_payload, verify_document, verify_history, verify_statement,
};

use crate::common::{AtArgs, DirArgs, escape, note, say};
use crate::error::{Result, fail, refuse};
use crate::folder::{IssuerFolder, numbered};
use crate::fsutil::write_atomic_public;
use crate::site::{CanaryView, Site};

/// Publish the issuer folder as a static site: the signed canary, its
/// archive, the incident records, a status page, a feed.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Example:
  canary-sign publish --dir canaries/example.org --out site/
  (then serve site/ as the root of https://example.org/)

Writes:
  .well-known/canary.json                    the latest statement
  .well-known/canary/statements/NNNNNN.json   every statement (the chain)
  .well-known/canary/incidents/ID.json        the latest version of each incident
  .well-known/canary/incidents/ID/NNNNNN.json every incident version
  .well-known/canary/trust.toml               the trust policy readers pin
  index.html  canary.txt  feed.atom  status.json

Only documents with enough signatures are published, and only a chain that
verifies. A published statement is never replaced by a lower or equal
sequence, and every file is replaced atomically; the latest statement is
written last. The output is the same, byte for byte, for the same input.")]
pub struct Args {
    #[command(flatten)]
    pub dir: DirArgs,
    /// The folder to write the site to (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    #[command(flatten)]
    pub at: AtArgs,
}

/// A document to publish: its bytes and what it is.
struct Signed<T> {
    bytes: Vec<u8>,
    verified: Verified<T>,
}

/// Reads a document signed under any of the issuer's trust policies
/// (older documents under older ones), with that policy's full threshold.
fn read_verified<T: canary_core::Payload + canary_core::HasIssuer>(
    path: &Path,
    policies: &[TrustPolicy],
) -> Result<Signed<T>> {
    let bytes = std::fs::read(path).map_err(|e| fail!("cannot read {}: {e}", path.display()))?;
    let mut result = Err(Vec::new());
    for policy in policies.iter().rev() {
        result = verify_document::<T>(&bytes, policy);
        if result.is_ok() {
            break;
        }
    }
    let verified = result.map_err(|findings| {
        refuse!(
            "{} does not verify with the trust policy of canary.toml: {}",
            path.display(),
            join(&findings)
        )
        .hint("documents need the threshold of signatures before they are published; co-sign with `canary-sign sign FILE --key KEY`")
    })?;
    Ok(Signed { bytes, verified })
}

fn join(findings: &[Finding]) -> String {
    findings
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// Every version of every incident, by id.
type IncidentVersions = BTreeMap<String, Vec<Signed<IncidentRecord>>>;

/// Reads the folder's whole chain and every incident version, verified.
fn gather(
    folder: &IssuerFolder,
    policy: &[TrustPolicy],
) -> Result<(Vec<Signed<Statement>>, IncidentVersions)> {
    let numbers = folder.statement_numbers()?;
    if numbers.is_empty() {
        return Err(
            refuse!("{} has no statement to publish", folder.dir.display())
                .hint("draft and sign the first one: canary-sign new > draft.json"),
        );
    }
    let mut statements = Vec::new();
    for (i, &n) in numbers.iter().enumerate() {
        if n != i as u64 + 1 {
            return Err(refuse!(
                "statement {} is missing from {}",
                i + 1,
                folder.dir.join("statements").display()
            ));
        }
        let s: Signed<Statement> = read_verified(&folder.statement_path(n), policy)?;
        if s.verified.document().sequence != n {
            return Err(refuse!(
                "{} holds sequence {}",
                folder.statement_path(n).display(),
                s.verified.document().sequence
            ));
        }
        statements.push(s);
    }
    let chain: Vec<Verified<Statement>> = statements.iter().map(|s| s.verified.clone()).collect();
    for f in verify_history(None, &chain) {
        match f.verdict() {
            Verdict::Tripped => note(&format!(
                "warning: {}: readers will see this canary as tripped",
                escape(&f.to_string())
            )),
            _ => return Err(refuse!("the statement chain does not verify: {f}")),
        }
    }

    let mut incidents = BTreeMap::new();
    for id in folder.incident_ids()? {
        let mut versions: Vec<Signed<IncidentRecord>> = Vec::new();
        for (i, &v) in folder.incident_versions(&id)?.iter().enumerate() {
            let path = folder.incident_path(&id, v);
            if v != i as u64 + 1 {
                return Err(refuse!("incident {id:?} version {} is missing", i + 1));
            }
            let r: Signed<IncidentRecord> = read_verified(&path, policy)?;
            let doc = r.verified.document();
            if doc.id != id || doc.version != v {
                return Err(refuse!(
                    "{} holds incident {:?} version {}",
                    path.display(),
                    doc.id,
                    doc.version
                ));
            }
            if let Some(prev) = versions.last()
                && doc.previous != Some(prev.verified.digest())
            {
                return Err(refuse!(
                    "{}: previous does not name version {}",
                    path.display(),
                    v - 1
                ));
            }
            versions.push(r);
        }
        if !versions.is_empty() {
            incidents.insert(id, versions);
        }
    }

    // What the latest statement lists must be what is published.
    let latest = chain.last().map(Verified::document);
    for listed in latest
        .and_then(|s| s.incidents.as_deref())
        .unwrap_or_default()
    {
        let found = incidents
            .get(&listed.id)
            .and_then(|v| v.get(listed.version as usize - 1))
            .map(|r| r.verified.digest());
        if found != Some(listed.digest) {
            return Err(refuse!(
                "the latest statement lists incident {:?} version {} with digest {}, which the folder does not hold",
                listed.id,
                listed.version,
                listed.digest
            ));
        }
    }
    Ok((statements, incidents))
}

/// Refuses to replace published history: a lower or equal sequence over a
/// different statement, or a changed archive file.
fn check_existing(
    out: &Path,
    files: &[(String, Vec<u8>)],
    latest: &Statement,
    latest_digest: Digest,
) -> Result<()> {
    let published = out.join(".well-known/canary.json");
    if let Ok(bytes) = std::fs::read(&published) {
        let old = Envelope::parse(&bytes).ok().and_then(|e| {
            parse_payload::<Statement>(e.payload())
                .ok()
                .map(|s| (s, Digest::of(e.payload())))
        });
        match old {
            Some((s, _)) if s.sequence > latest.sequence => {
                return Err(refuse!(
                    "{} already publishes statement {}, newer than the folder's latest ({}); refusing to roll it back",
                    published.display(),
                    s.sequence,
                    latest.sequence
                ));
            }
            Some((s, d)) if s.sequence == latest.sequence && d != latest_digest => {
                return Err(refuse!(
                    "{} already publishes a different statement {}; refusing to replace it",
                    published.display(),
                    s.sequence
                ));
            }
            Some(_) => {}
            None => {
                return Err(refuse!(
                    "{} exists but is not a canary statement; refusing to overwrite it",
                    published.display()
                ));
            }
        }
    }
    for (rel, bytes) in files {
        let is_archive = rel.starts_with(".well-known/canary/statements/")
            || rel.starts_with(".well-known/canary/rotations/")
            || (rel.starts_with(".well-known/canary/incidents/") && rel.matches('/').count() == 4);
        if !is_archive {
            continue;
        }
        if let Ok(old) = std::fs::read(out.join(rel))
            && &old != bytes
        {
            return Err(refuse!(
                "{} is already published with other content; refusing to rewrite history",
                out.join(rel).display()
            ));
        }
    }
    Ok(())
}

/// Runs the command.
pub fn run(args: &Args) -> Result<u8> {
    let folder = args.dir.open()?;
    let now = args.at.now()?;
    let policy = folder.policy()?.clone();
    let (statements, incidents) = gather(&folder, folder.policies())?;
    let latest = statements.last().ok_or_else(|| fail!("no statement"))?;
    let s = latest.verified.document().clone();

    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    for st in &statements {
        files.push((
            format!(
                ".well-known/canary/statements/{}",
                numbered(st.verified.document().sequence)
            ),
            st.bytes.clone(),
        ));
    }
    for (id, versions) in &incidents {
        for r in versions {
            files.push((
                format!(
                    ".well-known/canary/incidents/{id}/{}",
                    numbered(r.verified.document().version)
                ),
                r.bytes.clone(),
            ));
        }
        if let Some(last) = versions.last() {
            files.push((
                format!(".well-known/canary/incidents/{id}.json"),
                last.bytes.clone(),
            ));
        }
    }
    // Every fully signed rotation; one still being co-signed waits.
    for v in folder.rotation_numbers()? {
        if v <= policy.version() {
            let path = folder.rotation_path(v);
            let bytes =
                std::fs::read(&path).map_err(|e| fail!("cannot read {}: {e}", path.display()))?;
            files.push((
                format!(".well-known/canary/rotations/{}", numbered(v)),
                bytes,
            ));
        }
    }
    files.push((
        ".well-known/canary/trust.toml".to_owned(),
        format!(
            "# Trust policy of {}. Keep a copy and verify with\n#   canary verify {} --trust <this file>\n{}",
            crate::site::clean(&folder.config.issuer),
            crate::site::clean(&folder.config.issuer),
            policy.to_toml()
        )
        .into_bytes(),
    ));

    let site = Site::new(
        folder.config.issuer.clone(),
        folder
            .config
            .name
            .clone()
            .unwrap_or_else(|| folder.config.issuer.clone()),
        folder
            .config
            .components
            .iter()
            .map(|c| (c.id.clone(), c.name.clone()))
            .collect(),
        CanaryView {
            statement: s.clone(),
            digest: latest.verified.digest(),
            signers: latest.verified.signers().to_vec(),
            threshold: policy.threshold(),
        },
        statements
            .iter()
            .map(|st| {
                let d = st.verified.document();
                (d.sequence, d.issued_at, st.verified.digest())
            })
            .collect(),
        incidents
            .values()
            .filter_map(|v| v.last().map(|r| r.verified.document().clone()))
            .collect(),
        incidents
            .values()
            .flatten()
            .map(|r| r.verified.document().clone())
            .collect(),
    );
    let base = folder
        .config
        .url
        .as_deref()
        .and_then(|u| u.find("/.well-known/").map(|i| format!("{}/", &u[..i])))
        .unwrap_or_default();
    let all_statements: Vec<Statement> = statements
        .iter()
        .map(|st| st.verified.document().clone())
        .collect();
    files.push((
        "index.html".to_owned(),
        crate::html::render(&site).into_bytes(),
    ));
    files.push(("canary.txt".to_owned(), site.canary_text().into_bytes()));
    files.push((
        "feed.atom".to_owned(),
        crate::feed::render(&site, &all_statements, &base).into_bytes(),
    ));
    let mut status = serde_json::to_string_pretty(&site.status_json()).map_err(|e| fail!("{e}"))?;
    status.push('\n');
    files.push(("status.json".to_owned(), status.into_bytes()));
    // The latest statement goes last: readers never see it before its archive.
    files.push((".well-known/canary.json".to_owned(), latest.bytes.clone()));

    check_existing(&args.out, &files, &s, latest.verified.digest())?;
    for (rel, bytes) in &files {
        write_atomic_public(&args.out.join(rel), bytes)?;
    }
    verify_output(&args.out, &files, folder.policies(), now)?;

    say(&format!(
        "published {} to {}: statement {} (as of {}), {} statements, {} incidents, {} files",
        escape(&folder.config.issuer),
        args.out.display(),
        s.sequence,
        s.issued_at,
        statements.len(),
        incidents.len(),
        files.len()
    ));
    Ok(0)
}

/// Reads the output back and verifies it as a reader would: every file as
/// intended, the latest statement and the whole chain authentic.
fn verify_output(
    out: &Path,
    files: &[(String, Vec<u8>)],
    policies: &[TrustPolicy],
    now: canary_core::Timestamp,
) -> Result<()> {
    let policy = policies.last().ok_or_else(|| fail!("no trust policy"))?;
    for (rel, bytes) in files {
        let on_disk =
            std::fs::read(out.join(rel)).map_err(|e| fail!("cannot read back {rel}: {e}"))?;
        if &on_disk != bytes {
            return Err(fail!("{rel} reads back different from what was written"));
        }
    }
    let latest = std::fs::read(out.join(".well-known/canary.json")).map_err(|e| fail!("{e}"))?;
    let report = verify_statement(&latest, policy, &VerifyOptions::at(now));
    let Some(current) = report.statement.clone() else {
        return Err(fail!(
            "the published canary does not verify: {}",
            join(&report.findings)
        ));
    };
    match report.verdict(false) {
        Verdict::Ok => {}
        Verdict::Stale => note(&format!(
            "warning: the published canary is stale as of {now}: {}; sign a new statement",
            join(&report.findings)
        )),
        other => note(&format!(
            "warning: readers will see this canary as {other}: {}",
            join(&report.findings)
        )),
    }
    let mut chain = Vec::new();
    for seq in 1..current.document().sequence {
        let bytes =
            std::fs::read(out.join(format!(".well-known/canary/statements/{}", numbered(seq))))
                .map_err(|e| fail!("cannot read back statement {seq}: {e}"))?;
        let verified = policies
            .iter()
            .rev()
            .find_map(|p| verify_document::<Statement>(&bytes, p).ok())
            .ok_or_else(|| fail!("archived statement {seq} does not verify"))?;
        chain.push(verified);
    }
    chain.push(current);
    if let Some(f) = verify_history(None, &chain)
        .into_iter()
        .find(|f| f.verdict() == Verdict::Invalid)
    {
        return Err(fail!("the published history does not verify: {f}"));
    }
    Ok(())
}
