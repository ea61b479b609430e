//! `canary-sign publish`: the issuer folder as a static site (DESIGN §9).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use canary_core::{
    ArchivePath, Digest, Envelope, Finding, IncidentRecord, KeyId, Statement, TrustChain, Verdict,
    Verified, VerifyOptions, check_history, check_incidents, incident_link_problems, layout,
    parse_payload, verify_statement,
};

use crate::common::{AtArgs, DirArgs, escape, escape_json, note, say};
use crate::error::{Result, fail, refuse};
use crate::folder::IssuerFolder;
use crate::site::{CanaryState, CanaryView, Site};

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
  .well-known/canary/rotations/NNNNNN.json    every key rotation (fully signed)
  .well-known/canary/trust.toml               the trust policy readers pin
  .well-known/canary/plain/                   payload.json, the signers' SSH and
                                              minisign signatures of it, the keys
  index.html  canary.txt  feed.atom  status.json

Only documents with enough signatures are published, and only a site that
verifies: the whole output is checked in memory, as a reader who pinned trust
version 1 reads it, before the first file is written. A published statement is never replaced by a lower or equal
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
/// (older documents under older ones), with that policy's full threshold;
/// with `panic_ok`, also one signed by a panic key alone (a maintainer
/// under duress), which every reader reports as tripped.
fn read_verified<T: canary_core::Payload + canary_core::HasIssuer>(
    path: &Path,
    chain: &TrustChain,
    panic_ok: bool,
) -> Result<Signed<T>> {
    let bytes = std::fs::read(path).map_err(|e| fail!("cannot read {}: {e}", path.display()))?;
    let cap = layout::cap_for(T::PAYLOAD_TYPE);
    if bytes.len() as u64 > cap {
        return Err(refuse!(
            "{} is {} bytes, more than the {cap} readers accept: every verifier would refuse it",
            path.display(),
            bytes.len()
        ));
    }
    let verified =
        crate::folder::or_panic_signed(chain, &bytes, chain.verify::<T>(&bytes), panic_ok);
    let verified = verified.map_err(|findings| {
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
    policy: &TrustChain,
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
        let s: Signed<Statement> = read_verified(&folder.statement_path(n), policy, true)?;
        if s.verified.document().sequence != n {
            return Err(refuse!(
                "{} holds sequence {}",
                folder.statement_path(n).display(),
                s.verified.document().sequence
            ));
        }
        statements.push(s);
    }
    let mut incidents = BTreeMap::new();
    for id in folder.incident_ids()? {
        let mut versions: Vec<Signed<IncidentRecord>> = Vec::new();
        for (i, &v) in folder.incident_versions(&id)?.iter().enumerate() {
            let path = folder.incident_path(&id, v);
            if v != i as u64 + 1 {
                return Err(refuse!("incident {id:?} version {} is missing", i + 1));
            }
            let r: Signed<IncidentRecord> = read_verified(&path, policy, false)?;
            let doc = r.verified.document();
            if doc.id != id || doc.version != v {
                return Err(refuse!(
                    "{} holds incident {:?} version {}",
                    path.display(),
                    doc.id,
                    doc.version
                ));
            }
            let prev = versions
                .last()
                .map(|p| (p.verified.document(), p.verified.digest()));
            if let Some(p) = incident_link_problems(prev, doc).first() {
                return Err(refuse!("{}: {}: {}", path.display(), p.field, p.reason));
            }
            versions.push(r);
        }
        if !versions.is_empty() {
            incidents.insert(id, versions);
        }
    }

    // What the latest statement lists must be what is published.
    let latest = statements.last().map(|s| s.verified.document());
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
/// different statement, or a changed archive file. Returns the trust
/// version the site publishes now, if any.
fn check_existing(
    out: &Path,
    files: &[Output],
    latest: &Statement,
    latest_digest: Digest,
    trust: &canary_core::TrustPolicy,
) -> Result<Option<u64>> {
    // A rotation on the site beyond the folder's chain is what readers
    // follow; publishing past it would check a site readers never see.
    let rotations = out.join(layout::ARCHIVE_ROOT).join("rotations");
    if let Ok(entries) = std::fs::read_dir(&rotations) {
        let beyond = entries
            .flatten()
            .filter_map(|e| layout::parse_numbered(&e.file_name().to_string_lossy()))
            .filter(|&v| v > trust.version())
            .max();
        if let Some(v) = beyond {
            return Err(refuse!(
                "{} publishes a rotation to trust version {v}, beyond the folder's version {}; \
                 refusing to publish over it",
                rotations.display(),
                trust.version()
            )
            .hint("bring the issuer folder up to date (its rotations/) before publishing"));
        }
    }
    let published = out.join(layout::TRUST_SITE_PATH);
    let mut published_version = None;
    if let Ok(text) = std::fs::read_to_string(&published)
        && let Ok(old) = canary_core::TrustPolicy::from_toml(&text)
    {
        published_version = Some(old.version());
        if old.version() > trust.version() {
            return Err(refuse!(
                "{} already publishes trust version {}, newer than the folder's {}; refusing to roll it back",
                published.display(),
                old.version(),
                trust.version()
            ));
        }
        if old.version() == trust.version() && !old.same_trust(trust) {
            return Err(refuse!(
                "{} already publishes a different trust version {}; refusing to re-key it",
                published.display(),
                old.version()
            )
            .hint("keys change only by a signed rotation: canary-sign rotate"));
        }
    }
    let published = out.join(layout::LATEST);
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
    // A published incident version never goes back: the site must not hold
    // a later version of a record than the folder publishes.
    let incidents_root = out.join(layout::ARCHIVE_ROOT).join("incidents");
    for file in files {
        let Some(id) = file
            .rel
            .strip_prefix(&format!("{}/incidents/", layout::ARCHIVE_ROOT))
            .and_then(|r| r.strip_suffix(".json"))
            .filter(|id| !id.contains('/'))
        else {
            continue;
        };
        let ours = files
            .iter()
            .filter_map(|f| {
                f.rel
                    .strip_prefix(&format!("{}/incidents/{id}/", layout::ARCHIVE_ROOT))
                    .and_then(layout::parse_numbered)
            })
            .max()
            .unwrap_or(0);
        let published = std::fs::read_dir(incidents_root.join(id))
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| layout::parse_numbered(&e.file_name().to_string_lossy()))
            .max()
            .unwrap_or(0);
        if published > ours {
            return Err(refuse!(
                "{} already publishes version {published} of incident {id:?}, newer than the \
                 folder's {ours}; refusing to roll it back",
                incidents_root.join(id).display()
            ));
        }
    }
    for file in files.iter().filter(|f| f.immutable) {
        if let Ok(old) = std::fs::read(out.join(&file.rel))
            && old != file.bytes
        {
            return Err(refuse!(
                "{} is already published with other content; refusing to rewrite history",
                out.join(&file.rel).display()
            ));
        }
    }
    Ok(published_version)
}

/// Refuses an output folder other users can write to (without the sticky
/// bit), and any folder on the way to `rels` that is a symbolic link: every
/// write stays inside `out`.
fn check_output_folders<'a>(out: &Path, rels: impl Iterator<Item = &'a Path>) -> Result<()> {
    crate::fsutil::refuse_shared_folder(out).map_err(crate::error::Failure::refused)?;
    for rel in rels {
        crate::fsutil::refuse_linked_folders(out, rel).map_err(crate::error::Failure::refused)?;
    }
    Ok(())
}

/// One file of the site.
struct Output {
    /// Path relative to the site root.
    rel: String,
    bytes: Vec<u8>,
    /// Part of the archive: once published, never changes.
    immutable: bool,
}

impl Output {
    fn archived(path: ArchivePath<'_>, bytes: Vec<u8>) -> Self {
        Output {
            rel: path.site_path(),
            bytes,
            immutable: path.is_immutable(),
        }
    }

    fn page(rel: &str, bytes: Vec<u8>) -> Self {
        Output {
            rel: rel.to_owned(),
            bytes,
            immutable: false,
        }
    }
}

/// Runs the command.
pub fn run(args: &Args) -> Result<u8> {
    let folder = args.dir.open()?;
    let now = args.at.now()?;
    // A publish killed half-way may have left temporary files: they go
    // before anything else, so none stays where a web server serves it.
    check_output_folders(
        &args.out,
        [
            ".well-known/canary/statements/x",
            ".well-known/canary/rotations/x",
            ".well-known/canary/incidents/x",
            "api/v2/incidents/x",
            ".well-known/canary/plain/x",
        ]
        .iter()
        .map(Path::new),
    )?;
    crate::fsutil::remove_leftovers(&args.out, false)?;
    crate::fsutil::remove_leftovers(&args.out.join(".well-known"), true)?;
    crate::fsutil::remove_leftovers(&args.out.join("api"), true)?;
    let chain = folder.chain()?;
    let policy = chain.current().clone();
    let (statements, incidents) = gather(&folder, chain)?;
    let latest = statements.last().ok_or_else(|| fail!("no statement"))?;
    let s = latest.verified.document().clone();

    let mut files: Vec<Output> = Vec::new();
    for st in &statements {
        files.push(Output::archived(
            ArchivePath::Statement(st.verified.document().sequence),
            st.bytes.clone(),
        ));
    }
    for (id, versions) in &incidents {
        for r in versions {
            files.push(Output::archived(
                ArchivePath::Incident {
                    id,
                    version: r.verified.document().version,
                },
                r.bytes.clone(),
            ));
        }
        if let Some(last) = versions.last() {
            files.push(Output::archived(
                ArchivePath::LatestIncident(id),
                last.bytes.clone(),
            ));
        }
    }
    // Every fully signed rotation; one still being co-signed waits.
    for (version, bytes) in (chain.pin().version() + 1..).zip(chain.rotations()) {
        files.push(Output::archived(
            ArchivePath::Rotation(version),
            bytes.clone(),
        ));
    }
    files.push(Output::page(
        layout::TRUST_SITE_PATH,
        format!(
            "# Trust policy of {}. Keep a copy and verify with\n#   canary verify {} --trust <this file>\n{}",
            escape(&folder.config.issuer),
            escape(&folder.config.issuer),
            policy.to_toml()
        )
        .into_bytes(),
    ));

    // What readers will make of it, checked before anything is written;
    // a canary they will see as tripped is published as tripped.
    let (tripped, state) = check_as_reader(&files, &latest.bytes, chain, now)?;

    let (plain_files, plain_signers) = plain_outputs(&folder, latest, &policy)?;

    let mut site = Site::new(
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
            panic_signers: latest.verified.panic_signers().to_vec(),
            threshold: policy.threshold(),
            tripped: tripped.iter().map(ToString::to_string).collect(),
            state,
            signer_keys: latest
                .verified
                .signers()
                .iter()
                .filter_map(|id| policy.keys().get(id).copied())
                .collect(),
            plain_signers,
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
    site.generated_at = now;
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
    files.push(Output::page(
        "index.html",
        crate::html::render(&site).into_bytes(),
    ));
    files.push(Output::page("canary.txt", site.canary_text().into_bytes()));
    files.push(Output::page(
        "feed.atom",
        crate::feed::render(&site, &all_statements, &base).into_bytes(),
    ));
    let json_page = |value: &serde_json::Value| -> Result<Vec<u8>> {
        let mut text = escape_json(&serde_json::to_string_pretty(value).map_err(|e| fail!("{e}"))?);
        text.push('\n');
        Ok(text.into_bytes())
    };
    files.push(Output::page("status.json", json_page(&site.status_json())?));
    files.push(Output::page(
        "status.schema.json",
        crate::site::STATUS_SCHEMA.as_bytes().to_vec(),
    ));
    for (rel, value) in crate::statuspage::files(&site, &base) {
        files.push(Output::page(rel, json_page(&value)?));
    }
    files.extend(plain_files);
    // The latest statement goes last: readers never see it before its archive.
    files.push(Output::page(layout::LATEST, latest.bytes.clone()));

    // Everything is checked before the first byte is written.
    check_plain(&files, &policy, &folder, &s)?;
    let published = check_existing(&args.out, &files, &s, latest.verified.digest(), &policy)?;
    check_output_folders(&args.out, files.iter().map(|f| Path::new(&f.rel)))?;
    let staging = crate::fsutil::Staging::beside(&args.out)?;
    if let Some(why) = staging.fallback() {
        note(&format!(
            "note: {why}: temporary files are made inside the site, and a run killed half-way \
             can leave some there until the next publish"
        ));
    }
    for file in write_order(published, &files, chain, &latest.bytes) {
        staging.write_atomic_public(&args.out.join(&file.rel), &file.bytes)?;
    }
    drop(staging);
    remove_stale_plain(&args.out, &files)?;
    for file in &files {
        let on_disk = std::fs::read(args.out.join(&file.rel))
            .map_err(|e| fail!("cannot read back {}: {e}", file.rel))?;
        if on_disk != file.bytes {
            return Err(fail!(
                "{} reads back different from what was written",
                file.rel
            ));
        }
    }

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

/// Where the `plain/` files go (DESIGN §9).
fn plain_root() -> String {
    format!("{}/plain", layout::ARCHIVE_ROOT)
}

/// The `plain/` files of the latest statement: its payload, the keys of the
/// policy in force as `allowed_signers` and minisign public keys, and the
/// SSHSIG and minisign signatures its signers made when signing, from the
/// folder's `plain/<seq>/`. A signer without them (a statement signed before
/// canary-sign made them) is named in a note. Returns the files and the
/// signers whose signatures are published.
fn plain_outputs(
    folder: &IssuerFolder,
    latest: &Signed<Statement>,
    policy: &canary_core::TrustPolicy,
) -> Result<(Vec<Output>, Vec<KeyId>)> {
    let s = latest.verified.document();
    if !crate::plain::issuer_fits(&s.issuer) {
        note(&format!(
            "note: no plain/ folder (ssh-keygen, minisign) for issuer {:?}: it needs an issuer \
             of ASCII letters, digits and .-_:@+ only",
            escape(&s.issuer)
        ));
        return Ok((Vec::new(), Vec::new()));
    }
    let root = plain_root();
    let mut files = vec![
        Output::page(
            &format!("{root}/payload.json"),
            latest.verified.payload().to_vec(),
        ),
        Output::page(
            &format!("{root}/allowed_signers"),
            crate::plain::allowed_signers(&s.issuer, policy.keys().values()).into_bytes(),
        ),
    ];
    for (id, key) in policy.keys() {
        files.push(Output::page(
            &format!("{root}/{}", crate::plain::minisign_pub_name(id)),
            crate::plain::minisign_pub(key).into_bytes(),
        ));
    }
    let dir = folder.plain_dir(s.sequence);
    let mut published = Vec::new();
    let mut missing = Vec::new();
    for id in latest.verified.signers() {
        let (sig, minisig) = crate::plain::file_names(id);
        let mut found = 0;
        for name in [sig, minisig] {
            let path = dir.join(&name);
            match std::fs::read(&path) {
                Ok(bytes) => {
                    files.push(Output::page(&format!("{root}/{name}"), bytes));
                    found += 1;
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(fail!("cannot read {}: {e}", path.display())),
            }
        }
        if found == 2 {
            published.push(*id);
        } else {
            missing.push(id.short());
        }
    }
    if !missing.is_empty() {
        note(&format!(
            "note: statement {} has no plain signatures (ssh-keygen, minisign) by {}: it was \
             signed before canary-sign made them, so plain/ holds {} signer(s) of {}. To add \
             them, sign it again with each of those keys: canary-sign sign {} --key KEY",
            s.sequence,
            missing.join(", "),
            published.len(),
            latest.verified.signers().len(),
            folder.statement_path(s.sequence).display()
        ));
    }
    Ok((files, published))
}

/// Checks every signature in the site's `plain/` folder (in memory) over
/// the `payload.json` beside it, with the key its name gives: a signature a
/// reader's `ssh-keygen` or `minisign` would reject is never published.
fn check_plain(
    files: &[Output],
    policy: &canary_core::TrustPolicy,
    folder: &IssuerFolder,
    statement: &Statement,
) -> Result<()> {
    let prefix = format!("{}/", plain_root());
    let Some(payload) = files
        .iter()
        .find(|f| f.rel == format!("{prefix}payload.json"))
    else {
        return Ok(());
    };
    let ns = crate::plain::namespace(&statement.issuer);
    let comment = crate::plain::trusted_comment(statement);
    for file in files {
        let Some(name) = file.rel.strip_prefix(&prefix) else {
            continue;
        };
        let Some(rest) = name.strip_prefix("payload.json.") else {
            continue;
        };
        let (k, ssh) = match (rest.strip_suffix(".sig"), rest.strip_suffix(".minisig")) {
            (Some(k), _) => (k, true),
            (_, Some(k)) => (k, false),
            _ => continue,
        };
        let from = folder.plain_dir(statement.sequence).join(name);
        let key = policy
            .keys()
            .iter()
            .find(|(id, _)| id.short() == k)
            .map(|(_, key)| key)
            .ok_or_else(|| fail!("{}: no key of the trust policy has id {k}", from.display()))?;
        let checked = if ssh {
            crate::plain::check_sshsig(&file.bytes, key, &ns, &payload.bytes)
        } else {
            crate::plain::check_minisig(&file.bytes, key, &comment, &payload.bytes)
        };
        if let Err(e) = checked {
            return Err(refuse!(
                "{}: {e}: readers' ssh-keygen and minisign would reject it; nothing was written",
                from.display()
            )
            .hint(format!(
                "sign the statement again with key {k} to make its plain signatures anew: \
                 canary-sign sign {} --key KEY",
                folder.statement_path(statement.sequence).display()
            )));
        }
    }
    Ok(())
}

/// Removes what an earlier publish left in the site's `plain/` folder and
/// this one does not write (signatures by a key that did not sign the new
/// statement, keys no longer trusted): they would not verify over the new
/// `payload.json`. Only files named like the ones publish writes.
fn remove_stale_plain(out: &Path, files: &[Output]) -> Result<()> {
    let root = plain_root();
    let dir = out.join(&root);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Ok(());
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let ours = name.starts_with("payload.json.") || name.ends_with(".minisign.pub");
        let kept = files.iter().any(|f| f.rel == format!("{root}/{name}"));
        if ours && !kept && entry.file_type().is_ok_and(|t| t.is_file()) {
            std::fs::remove_file(entry.path())
                .map_err(|e| fail!("cannot remove {}: {e}", entry.path().display()))?;
        }
    }
    Ok(())
}

/// The order to write the site in, so that a reader who fetches while it
/// is written (or after a crash) sees the old site or the new one: the
/// archive first; then, when the new latest statement still verifies under
/// the trust version the site publishes now, the statement before the
/// rotations that follow it; otherwise the rotations first, and a note that
/// the switch cannot be seamless.
fn write_order<'a>(
    published: Option<u64>,
    files: &'a [Output],
    chain: &TrustChain,
    latest: &[u8],
) -> Vec<&'a Output> {
    let rotations_root = format!("{}/rotations/", layout::ARCHIVE_ROOT);
    let trust_file = layout::TRUST_SITE_PATH;
    let is_trust = |f: &&Output| f.rel.starts_with(&rotations_root) || f.rel == trust_file;
    let (trust, rest): (Vec<&Output>, Vec<&Output>) = files.iter().partition(is_trust);
    let published = published.unwrap_or(chain.pin().version());
    if published >= chain.current().version() {
        return rest.into_iter().chain(trust).collect();
    }
    let seamless = chain
        .version(published)
        .is_some_and(|p| canary_core::verify_document::<Statement>(latest, p).is_ok());
    if seamless {
        // Archive and pages with the new statement, then the rotations.
        let (archive, pages): (Vec<&Output>, Vec<&Output>) =
            rest.into_iter().partition(|f| f.immutable);
        return archive.into_iter().chain(pages).chain(trust).collect();
    }
    note(&format!(
        "note: the latest statement is signed only by keys of trust version {}; a reader who \
         fetches between the rotation and the statement (or after an interrupted publish) sees \
         an invalid canary until the publish completes. A transition statement avoids this: \
         sign the next statement with the keys of version {published} while the rotation \
         waits for its co-signatures, then with the new keys.",
        chain.current().version()
    ));
    let (archive, pages): (Vec<&Output>, Vec<&Output>) =
        rest.into_iter().partition(|f| f.immutable);
    archive.into_iter().chain(trust).chain(pages).collect()
}

/// Reads the site in memory as a reader who pinned trust version 1 would
/// (the core's rotation walk, statement check, history and incidents):
/// refuses what readers would see as invalid, warns about the rest.
/// Returns the findings that trip the canary for readers (none when it is
/// not tripped) and what readers make of it now: a statement signed by a
/// panic key alone is tripped, and published as such, whatever else is
/// missing.
fn check_as_reader(
    files: &[Output],
    latest: &[u8],
    folder_chain: &TrustChain,
    now: canary_core::Timestamp,
) -> Result<(Vec<Finding>, CanaryState)> {
    let prefix = format!("{}/", layout::ARCHIVE_ROOT);
    let mut archive: BTreeMap<String, Vec<u8>> = files
        .iter()
        .filter_map(|f| Some((f.rel.strip_prefix(&prefix)?.to_owned(), f.bytes.clone())))
        .collect();
    let mut chain = TrustChain::new(folder_chain.pin().clone());
    if let Err(e) = chain.follow(&mut archive) {
        return Err(match e {
            canary_core::FollowError::Refused(f) => {
                refuse!("readers would refuse the key rotations: {f}")
            }
            canary_core::FollowError::Unreadable { error, .. } => match error {},
        });
    }
    let report = verify_statement(latest, chain.current(), &VerifyOptions::at(now));
    let Some(statement) = report.statement else {
        // Tripped as readers see it: by a panic key of the policy in force
        // (one since rotated out is a bad signature to them).
        if report
            .findings
            .iter()
            .any(|f| matches!(f, Finding::PanicKey { .. }))
        {
            let tripped: Vec<Finding> = report
                .findings
                .into_iter()
                .filter(|f| f.verdict() == Verdict::Tripped)
                .collect();
            note(&format!(
                "WARNING: the latest statement is signed by a panic key: readers will see this \
                 canary as TRIPPED ({}), and the site says so",
                escape(&join(&tripped))
            ));
            return Ok((tripped, CanaryState::Tripped));
        }
        return Err(explain_unverified(latest, &chain, &report.findings));
    };
    let mut findings = report.findings;
    findings.extend(check_history(&mut archive, &chain, None, &statement).findings);
    findings.extend(check_incidents(&mut archive, &chain, statement.document()).findings);
    // Anything readers would find invalid is refused, also beside a
    // finding that trips the canary (which would win the verdict).
    let invalid: Vec<&Finding> = findings
        .iter()
        .filter(|f| matches!(f.verdict(), Verdict::Invalid | Verdict::Unreachable))
        .collect();
    if !invalid.is_empty() {
        let text: Vec<String> = invalid.iter().map(ToString::to_string).collect();
        return Err(refuse!(
            "readers would see this canary as invalid: {}; nothing was written",
            text.join("; ")
        ));
    }
    let verdict = findings
        .iter()
        .map(Finding::verdict)
        .fold(Verdict::Ok, Verdict::worst);
    let late = findings.iter().any(|f| matches!(f, Finding::Late { .. }));
    match verdict {
        Verdict::Stale => {
            note(&format!(
                "warning: the published canary is stale as of {now}: {}; sign a new statement",
                escape(&join(&findings))
            ));
            Ok((Vec::new(), CanaryState::Stale))
        }
        Verdict::Tripped => {
            note(&format!(
                "warning: readers will see this canary as tripped: {}",
                escape(&join(&findings))
            ));
            let tripped = findings
                .into_iter()
                .filter(|f| f.verdict() == Verdict::Tripped)
                .collect();
            Ok((tripped, CanaryState::Tripped))
        }
        Verdict::Ok | Verdict::Warning | Verdict::Invalid | Verdict::Unreachable if late => {
            Ok((Vec::new(), CanaryState::Late))
        }
        Verdict::Ok | Verdict::Warning | Verdict::Invalid | Verdict::Unreachable => {
            Ok((Vec::new(), CanaryState::Fresh))
        }
    }
}

/// Why the latest statement does not verify under the trust in force, in
/// words that say what to sign with which keys.
fn explain_unverified(
    bytes: &[u8],
    chain: &TrustChain,
    findings: &[Finding],
) -> crate::error::Failure {
    let current = chain.current();
    let short = |ids: &mut dyn Iterator<Item = &KeyId>| {
        ids.map(KeyId::short).collect::<Vec<_>>().join(", ")
    };
    let sequence = Envelope::parse(bytes)
        .ok()
        .and_then(|e| parse_payload::<Statement>(e.payload()).ok())
        .map_or(0, |s| s.sequence);
    let under_older = chain.policies()[..chain.policies().len() - 1]
        .iter()
        .rev()
        .find_map(|p| canary_core::verify_document::<Statement>(bytes, p).ok());
    if let Some(old) = under_older {
        let removed: Vec<&KeyId> = old
            .signers()
            .iter()
            .filter(|k| !current.keys().contains_key(k))
            .collect();
        return refuse!(
            "statement {sequence} is signed by {}, which rotation {} removes: sign a new statement \
             with {} of {} and publish both; nothing was written",
            short(&mut removed.into_iter()),
            current.version(),
            current.threshold(),
            short(&mut current.keys().keys())
        )
        .hint("canary-sign new > draft.json, then canary-sign sign draft.json --key NEW.key (each new signer)");
    }
    refuse!(
        "the latest statement does not verify under trust version {}: {}; nothing was written",
        current.version(),
        join(findings)
    )
}
