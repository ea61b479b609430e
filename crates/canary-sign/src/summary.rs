//! What a maintainer is about to sign, shown before the passphrase prompt:
//! every promise and what changed since the previous statement, an
//! incident's changes since its previous version, a rotation's keys added
//! and removed. A co-signer approves what the document says, not what the
//! first signer said it says.

use std::collections::BTreeMap;
use std::io::{BufRead as _, IsTerminal as _, Read as _, Write as _};
use std::path::Path;

use canary_core::{
    Finding, IncidentRecord, KeyId, KeyRotation, PublicKey, Statement, TrustChange,
    compare_statements,
};

use crate::common::escape;
use crate::error::{Result, refuse};
use crate::folder::IssuerFolder;

/// The most `.pub` files read to name keys, and the largest one read.
const MAX_PUB_FILES: usize = 256;
const MAX_PUB_FILE: u64 = 4096;

/// Names for keys: the comments of the `.pub` files found beside the
/// signing key and in the issuer folder, and which key is the signer's own.
#[derive(Debug, Default)]
pub struct KeyNames {
    names: BTreeMap<KeyId, String>,
    own: Option<KeyId>,
}

impl KeyNames {
    /// Reads the comments of the `.pub` files in `folders` (not recursive;
    /// unreadable or odd files are skipped: names are only a help).
    pub fn gather(own: Option<&PublicKey>, folders: &[&Path]) -> Self {
        let mut names = BTreeMap::new();
        let mut read = 0;
        for folder in folders {
            let Ok(entries) = std::fs::read_dir(folder) else {
                continue;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                if path.extension().is_none_or(|e| e != "pub") {
                    continue;
                }
                if read == MAX_PUB_FILES {
                    break;
                }
                read += 1;
                let Ok(meta) = std::fs::metadata(&path) else {
                    continue;
                };
                if !meta.is_file() || meta.len() > MAX_PUB_FILE {
                    continue;
                }
                let Ok(text) = std::fs::read_to_string(&path) else {
                    continue;
                };
                if let Ok((key, comment)) = PublicKey::from_pub_file(&text)
                    && !comment.is_empty()
                {
                    names.entry(key.id()).or_insert(comment);
                }
            }
        }
        KeyNames {
            names,
            own: own.map(PublicKey::id),
        }
    }

    /// `e6fda72368fdde33 (alice, your key)`: the short key id, its name
    /// when known, and whether it is the signer's.
    pub fn label(&self, key: &PublicKey) -> String {
        let id = key.id();
        let mut tags = Vec::new();
        if let Some(name) = self.names.get(&id) {
            tags.push(escape(name));
        }
        if self.own == Some(id) {
            tags.push("YOUR KEY".to_owned());
        }
        if tags.is_empty() {
            id.short()
        } else {
            format!("{} ({})", id.short(), tags.join(", "))
        }
    }
}

/// The summary lines of a statement: dates, chain, every promise marked
/// with what changed since `previous`, incidents, notes, freshness, final.
pub fn statement(doc: &Statement, previous: Option<&Statement>) -> Vec<String> {
    let mut out = vec![
        format!("statement {} of {}", doc.sequence, escape(&doc.issuer)),
        format!("  issued     {}", doc.issued_at),
        format!("  next due   {}", doc.next_due),
        format!("  expires    {}", doc.expires_at),
    ];
    match (&doc.previous, previous) {
        (Some(d), Some(p)) => out.push(format!("  follows    statement {} ({d})", p.sequence)),
        (Some(d), None) => out.push(format!("  follows    {d}")),
        (None, _) => out.push("  follows    nothing: the first statement".to_owned()),
    }
    let findings = previous.map(|p| {
        let before: BTreeMap<String, String> = p
            .statements
            .iter()
            .map(|i| (i.id.clone(), i.text.clone()))
            .collect();
        compare_statements(&before, doc, doc.sequence)
    });
    let changed: BTreeMap<&str, &str> = findings
        .iter()
        .flatten()
        .filter_map(|f| match f {
            Finding::StatementChanged { id, before, .. } => Some((id.as_str(), before.as_str())),
            _ => None,
        })
        .collect();
    let head = match previous {
        Some(p)
            if findings.as_ref().is_some_and(Vec::is_empty)
                && p.statements.len() == doc.statements.len() =>
        {
            format!(
                "  promises   {}, word for word as in statement {}:",
                doc.statements.len(),
                p.sequence
            )
        }
        Some(p) => format!(
            "  promises   {} (statement {} had {}):",
            doc.statements.len(),
            p.sequence,
            p.statements.len()
        ),
        None => format!("  promises   {}:", doc.statements.len()),
    };
    out.push(head);
    for item in &doc.statements {
        let id = escape(&item.id);
        let text = escape(&item.text);
        match (previous, changed.get(item.id.as_str())) {
            (_, Some(before)) => {
                out.push(format!("    ~ [{id}] REWORDED: {text}"));
                out.push(format!("        was: {}", escape(before)));
            }
            (Some(p), None) if p.item(&item.id).is_none() => {
                out.push(format!("    + [{id}] NEW: {text}"));
            }
            _ => out.push(format!("    = [{id}] {text}")),
        }
    }
    for f in findings.iter().flatten() {
        if let Finding::StatementRemoved { id, text, .. } = f {
            out.push(format!("    - [{}] REMOVED: {}", escape(id), escape(text)));
        }
    }
    if !changed.is_empty()
        || findings
            .iter()
            .flatten()
            .any(|f| matches!(f, Finding::StatementRemoved { .. }))
    {
        out.push(
            "  WARNING: a promise is removed or reworded: every reader will report the canary as TRIPPED"
                .to_owned(),
        );
    }
    match doc.incidents.as_deref() {
        None | Some([]) => out.push("  incidents  none listed".to_owned()),
        Some(refs) => {
            let list: Vec<String> = refs
                .iter()
                .map(|r| format!("{} v{}", escape(&r.id), r.version))
                .collect();
            out.push(format!("  incidents  {}: {}", refs.len(), list.join(", ")));
        }
    }
    match &doc.notes {
        Some(n) => out.push(format!("  notes      {}", escape(n))),
        None => out.push("  notes      none".to_owned()),
    }
    out.push(freshness(doc));
    if doc.is_final() {
        out.push(format!("  FINAL      {}", crate::cmd::sign::FINAL_WARNING));
    }
    out
}

fn freshness(doc: &Statement) -> String {
    let Some(f) = &doc.freshness else {
        return "  freshness  none".to_owned();
    };
    let mut parts = Vec::new();
    if let Some(b) = &f.bitcoin {
        parts.push(format!(
            "bitcoin block {} ({}){}",
            b.height,
            escape(&b.hash),
            if b.header.is_some() {
                ", with its header"
            } else {
                ""
            }
        ));
    }
    if let Some(h) = &f.headlines {
        let quoted: Vec<String> = h.iter().map(|t| format!("\"{}\"", escape(t))).collect();
        parts.push(format!("headlines {}", quoted.join(", ")));
    }
    format!("  freshness  {}", parts.join("; "))
}

/// The summary lines of an incident record: the version and what changed
/// since `previous` (field by field, new updates listed).
pub fn incident(doc: &IncidentRecord, previous: Option<&IncidentRecord>) -> Vec<String> {
    let mut out = vec![
        format!(
            "incident {} version {} of {}",
            escape(&doc.id),
            doc.version,
            escape(&doc.issuer)
        ),
        format!("  title      {}", escape(&doc.title)),
        format!(
            "  status     {}, impact {}, kind {}",
            doc.status,
            doc.impact,
            doc.kind.as_str()
        ),
    ];
    let Some(p) = previous else {
        out.push("  new incident: the first version".to_owned());
        out.push(format!("  what happened: {}", escape(&doc.what_happened)));
        for u in &doc.updates {
            out.push(format!(
                "  update {} [{}] {}",
                u.at,
                u.status,
                escape(&u.body)
            ));
        }
        return out;
    };
    let mut changes = Vec::new();
    let mut field = |name: &str, before: String, after: String| {
        if before != after {
            changes.push(format!(
                "  changed {name}: {} -> {}",
                escape(&before),
                escape(&after)
            ));
        }
    };
    field("title", p.title.clone(), doc.title.clone());
    field("status", p.status.to_string(), doc.status.to_string());
    field("impact", p.impact.to_string(), doc.impact.to_string());
    field("kind", p.kind.as_str().into(), doc.kind.as_str().into());
    field(
        "started_at",
        p.started_at.to_string(),
        doc.started_at.to_string(),
    );
    field(
        "resolved_at",
        p.resolved_at.map_or("none".into(), |t| t.to_string()),
        doc.resolved_at.map_or("none".into(), |t| t.to_string()),
    );
    field("affected", p.affected.join(", "), doc.affected.join(", "));
    field(
        "what_happened",
        p.what_happened.clone(),
        doc.what_happened.clone(),
    );
    field(
        "compromised",
        compromise(&p.compromised),
        compromise(&doc.compromised),
    );
    field("measures", measures(p), measures(doc));
    let kept = p.updates.len().min(doc.updates.len());
    if doc.updates[..kept] != p.updates[..kept] || doc.updates.len() < p.updates.len() {
        changes.push("  changed updates: earlier updates were edited or removed".to_owned());
    }
    for u in &doc.updates[kept..] {
        changes.push(format!(
            "  new update {} [{}] {}",
            u.at,
            u.status,
            escape(&u.body)
        ));
    }
    if changes.is_empty() {
        out.push(format!("  nothing changed since version {}", p.version));
    } else {
        out.push(format!("  since version {}:", p.version));
        out.extend(changes);
    }
    out
}

fn compromise(c: &canary_core::Compromise) -> String {
    format!(
        "{} (data lost: {}, data exposed: {})",
        c.summary,
        if c.data_lost { "yes" } else { "no" },
        if c.data_exposed { "yes" } else { "no" }
    )
}

fn measures(doc: &IncidentRecord) -> String {
    let list: Vec<String> = doc
        .measures
        .iter()
        .map(|m| {
            format!(
                "{} [{}{}]",
                m.action,
                m.kind.as_str(),
                if m.done { ", done" } else { "" }
            )
        })
        .collect();
    list.join("; ")
}

/// The summary lines of a rotation: every key added, removed and kept, the
/// old and new thresholds, panic keys added and removed.
pub fn rotation(doc: &KeyRotation, change: &TrustChange, names: &KeyNames) -> Vec<String> {
    let mut out = vec![format!(
        "key rotation of {}: trust version {} -> {}, issued {}",
        escape(&doc.issuer),
        change.from_version,
        change.to_version,
        doc.issued_at
    )];
    out.extend(rotation_changes(change, names));
    if let Some(own) = names.own
        && change.removed.iter().any(|k| k.id() == own)
    {
        out.push(
            "  WARNING: this rotation REMOVES YOUR KEY: once it takes effect, statements you sign \
             no longer count"
                .to_owned(),
        );
    }
    out
}

/// [`rotation`] against the policy the rotation starts from in `folder`.
pub fn rotation_in(folder: &IssuerFolder, doc: &KeyRotation, names: &KeyNames) -> Vec<String> {
    let change = crate::checks::rotation_base(folder, doc).and_then(|base| {
        let next = base.rotated(doc)?;
        Ok(base.change_to(&next))
    });
    match change {
        Ok(change) => rotation(doc, &change, names),
        Err(e) => vec![format!(
            "key rotation to trust version {}: {}",
            doc.version,
            escape(&format!("{e:#}"))
        )],
    }
}

/// The lines of a [`TrustChange`], for `sign` and `lint`.
pub fn rotation_changes(change: &TrustChange, names: &KeyNames) -> Vec<String> {
    let mut out = Vec::new();
    let key = |k: &PublicKey| format!("{}  {k}", names.label(k));
    for k in &change.added {
        out.push(format!("  + adds signing key     {}", key(k)));
    }
    for k in &change.removed {
        out.push(format!("  - REMOVES signing key  {}", key(k)));
    }
    for k in &change.kept {
        out.push(format!("  = keeps signing key    {}", key(k)));
    }
    out.push(format!(
        "  threshold  {} of {} keys -> {} of {} keys{}",
        change.old_threshold,
        change.removed.len() + change.kept.len(),
        change.new_threshold,
        change.new_key_count,
        if change.lowers_threshold() {
            " (LOWERED: fewer signatures will be needed)"
        } else {
            ""
        }
    ));
    for k in &change.panic_added {
        out.push(format!("  + adds panic key       {}", key(k)));
    }
    for k in &change.panic_removed {
        out.push(format!("  - REMOVES panic key    {}", key(k)));
    }
    if change.panic_added.is_empty() && change.panic_removed.is_empty() {
        out.push("  panic keys unchanged".to_owned());
    }
    out
}

/// Prints `lines` to stderr and, when a person is at the terminal and
/// `yes` is not given, asks whether to sign. Without a terminal (scripts,
/// CI) the summary is printed and signing goes on.
pub fn confirm(lines: &[String], signer: &str, yes: bool) -> Result<()> {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "You are about to sign:");
    for line in lines {
        let _ = writeln!(err, "{}", crate::common::escape_lines(line));
    }
    let _ = writeln!(err, "{}", crate::common::escape_lines(signer));
    if yes || !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
        return Ok(());
    }
    let _ = write!(err, "Sign this? [y/N] ");
    let _ = err.flush();
    drop(err);
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .take(1024)
        .read_line(&mut answer)
        .map_err(|e| refuse!("cannot read the answer: {e}; nothing was signed"))?;
    match answer.trim().to_ascii_lowercase().as_str() {
        "y" | "yes" => Ok(()),
        _ => Err(
            refuse!("not signed: the summary was not confirmed; nothing was written")
                .hint("to sign without this question (scripts), pass --yes"),
        ),
    }
}

/// The previous statement of `doc` in the folder, if it is there.
pub fn previous_statement(folder: &IssuerFolder, doc: &Statement) -> Option<Statement> {
    let seq = doc.sequence.checked_sub(1).filter(|s| *s > 0)?;
    folder.statement(seq).ok().map(|s| s.doc().clone())
}

/// The previous version of `doc` in the folder, if it is there.
pub fn previous_incident(folder: &IssuerFolder, doc: &IncidentRecord) -> Option<IncidentRecord> {
    let v = doc.version.checked_sub(1).filter(|v| *v > 0)?;
    folder.incident(&doc.id, v).ok().map(|s| s.doc().clone())
}
