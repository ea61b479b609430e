//! `canary-sign lint`: every check of `sign`, without signing.

use std::path::PathBuf;

use canary_core::{
    Digest, FieldError, IncidentRecord, KeyRotation, PayloadType, Statement, parse_draft,
    parse_payload, to_payload,
};

use crate::cmd::sign::{Input, Signable, classify, draft_problems, payload_problems};
use crate::common::{AtArgs, DirArgs, escape, note, say};
use crate::error::{Result, fail};
use crate::folder::IssuerFolder;

/// Check a draft or a signed envelope before anyone signs or publishes it.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  canary-sign lint draft.json
  canary-sign lint statements/000003.json --dir canaries/example.org

Prints each problem as FILE: FIELD: REASON. Exit status 0: no problems;
1: problems found; 2: the file or the issuer folder could not be read.
Checked: the document format (unknown fields, types, slugs, dates), the
chain of the issuer folder, expiry at most one year out, promises removed or
reworded since the last statement, and for envelopes the signatures (each
valid, and enough of them).")]
pub struct Args {
    /// The draft or envelope to check.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    #[command(flatten)]
    pub dir: DirArgs,
    #[command(flatten)]
    pub at: AtArgs,
}

fn problem(field: &str, reason: String) -> FieldError {
    FieldError {
        field: field.to_owned(),
        reason,
    }
}

fn check_doc<T: Signable>(
    folder: Option<&IssuerFolder>,
    doc: &T,
    payload: &[u8],
    now: canary_core::Timestamp,
) -> Result<Vec<FieldError>> {
    match folder {
        Some(f) => Ok(doc.check(f, Digest::of(payload), now, false)?),
        None => Ok(Vec::new()),
    }
}

fn lint_draft<T: Signable>(
    folder: Option<&IssuerFolder>,
    bytes: &[u8],
    now: canary_core::Timestamp,
) -> Result<Vec<FieldError>> {
    let doc: T = match parse_draft(bytes) {
        Ok(d) => d,
        Err(e) => return Ok(draft_problems(bytes, e)),
    };
    let payload = to_payload(&doc).map_err(|e| fail!("{e}"))?;
    check_doc(folder, &doc, &payload, now)
}

fn lint_envelope<T: Signable>(
    folder: Option<&IssuerFolder>,
    env: &canary_core::Envelope,
    now: canary_core::Timestamp,
) -> Result<Vec<FieldError>> {
    let doc: T = match parse_payload(env.payload()) {
        Ok(d) => d,
        Err(e) => return Ok(payload_problems(e)),
    };
    let mut problems = check_doc(folder, &doc, env.payload(), now)?;
    if let Some(folder) = folder {
        let policy = doc.signers_policy(folder)?;
        let pae = env.pae();
        for (i, sig) in env.signatures().iter().enumerate() {
            match policy.keys().get(&sig.keyid) {
                Some(k) if k.verify_strict(&pae, &sig.sig) => {}
                Some(_) => problems.push(problem(
                    &format!("signatures[{i}]"),
                    format!("does not verify under key {}", sig.keyid.short()),
                )),
                // Only a statement trips on a panic key (DESIGN §5 step 10).
                None if T::PAYLOAD_TYPE == canary_core::PayloadType::Statement
                    && policy
                        .panic_keys()
                        .get(&sig.keyid)
                        .is_some_and(|k| k.verify_strict(&pae, &sig.sig)) =>
                {
                    problems.push(problem(
                        &format!("signatures[{i}]"),
                        format!(
                            "is by the panic key {}: {}",
                            sig.keyid.short(),
                            crate::folder::PANIC_SIGNED
                        ),
                    ));
                }
                None => problems.push(problem(
                    &format!("signatures[{i}]"),
                    format!("key id {} may not sign this document", sig.keyid.short()),
                )),
            }
        }
        let (progress, complete) = doc.progress(folder, env);
        if !complete {
            problems.push(problem(
                "signatures",
                format!("{progress}; co-sign with: canary-sign sign FILE --key KEY"),
            ));
        }
    }
    Ok(problems)
}

/// The length of the canonical payload a draft of type `t` signs into.
fn draft_payload_len(t: PayloadType, bytes: &[u8]) -> Option<usize> {
    fn len<T: canary_core::Payload>(bytes: &[u8]) -> Option<usize> {
        let doc: T = canary_core::parse_draft(bytes).ok()?;
        canary_core::to_payload(&doc).ok().map(|p| p.len())
    }
    match t {
        PayloadType::Statement => len::<Statement>(bytes),
        PayloadType::Incident => len::<IncidentRecord>(bytes),
        PayloadType::Rotation => len::<KeyRotation>(bytes),
    }
}

/// What a rotation (draft or envelope) changes, against the folder's
/// policy: shown by `lint` as `sign` shows it.
fn rotation_lines(folder: Option<&IssuerFolder>, bytes: &[u8]) -> Vec<String> {
    let Some(folder) = folder else {
        return Vec::new();
    };
    let doc: Option<KeyRotation> = match classify(bytes) {
        Ok(Input::Envelope(env)) if env.payload_type() == PayloadType::Rotation => {
            parse_payload(env.payload()).ok()
        }
        Ok(Input::Draft(PayloadType::Rotation)) => parse_draft(bytes).ok(),
        _ => None,
    };
    doc.map(|d| {
        let names = crate::summary::KeyNames::gather(None, &[&folder.dir]);
        crate::summary::rotation_in(folder, &d, &names)
    })
    .unwrap_or_default()
}

/// Runs the command.
pub fn run(args: &Args) -> Result<u8> {
    let now = args.at.now()?;
    let bytes =
        std::fs::read(&args.file).map_err(|e| fail!("cannot read {}: {e}", args.file.display()))?;
    let folder = if args.dir.dir.join("canary.toml").exists() {
        Some(args.dir.open()?)
    } else {
        note(&format!(
            "note: no canary.toml in {}: the chain and signatures are not checked (pass --dir)",
            args.dir.dir.display()
        ));
        None
    };
    let folder = folder.as_ref();
    let problems = match classify(&bytes) {
        Err(f) => vec![problem("(file)", format!("{:#}", f.error))],
        Ok(Input::Envelope(env)) => match env.payload_type() {
            PayloadType::Statement => lint_envelope::<Statement>(folder, &env, now)?,
            PayloadType::Incident => lint_envelope::<IncidentRecord>(folder, &env, now)?,
            PayloadType::Rotation => lint_envelope::<KeyRotation>(folder, &env, now)?,
        },
        Ok(Input::Draft(PayloadType::Statement)) => lint_draft::<Statement>(folder, &bytes, now)?,
        Ok(Input::Draft(PayloadType::Incident)) => {
            lint_draft::<IncidentRecord>(folder, &bytes, now)?
        }
        Ok(Input::Draft(PayloadType::Rotation)) => lint_draft::<KeyRotation>(folder, &bytes, now)?,
    };
    let name = args.file.display().to_string();
    let mut problems = problems;
    // Too large for readers: refused; close to it: warned.
    let signers = folder
        .and_then(|f| f.policy().ok())
        .map_or(1, |p| p.keys().len());
    let sized = match classify(&bytes) {
        Ok(Input::Envelope(env)) => Some((
            env.payload_type(),
            crate::checks::envelope_size(env.payload().len(), signers.max(env.signatures().len())),
        )),
        Ok(Input::Draft(t)) => {
            draft_payload_len(t, &bytes).map(|len| (t, crate::checks::envelope_size(len, signers)))
        }
        Err(_) => None,
    };
    if let Some((t, size)) = sized {
        match crate::checks::size_problem(t, size) {
            (Some(p), _) => problems.push(p),
            (None, Some(w)) => note(&format!("warning: {}: {w}", escape(&name))),
            (None, None) => {}
        }
    }
    if crate::cmd::sign::is_final_statement(&bytes) {
        note(&format!(
            "WARNING: {}: {}; signing it needs --final",
            escape(&name),
            crate::cmd::sign::FINAL_WARNING
        ));
    }
    let rotation = rotation_lines(folder, &bytes);
    if problems.is_empty() {
        say(&format!("{}: ok", escape(&name)));
        for line in rotation {
            say(&line);
        }
        return Ok(0);
    }
    for p in &problems {
        say(&format!(
            "{}: {}: {}",
            escape(&name),
            escape(&p.field),
            escape(&p.reason)
        ));
    }
    for line in rotation {
        say(&line);
    }
    Ok(crate::error::REFUSED)
}
