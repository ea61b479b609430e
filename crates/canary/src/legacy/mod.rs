//! `canary verify SOURCE --trust legacy.toml`: canaries in other formats
//! (DESIGN §11), with the verdicts, exit codes, state rules and outputs of
//! native canaries. The rules are canary-core's ([`canary_core::legacy`]);
//! here are the files, the network, gpgv and the state folder.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use canary_core::legacy::minisign::{MinisignKey, MinisignSignature};
use canary_core::legacy::signify::{SignifyKey, SignifySignature};
use canary_core::legacy::{
    Canary, Format, LegacyState, LegacyTrust, SIGNATURE_CAP, TEXT_CAP, check_canary,
};
use canary_core::{Digest, Finding, TimeDelta, Timestamp, Verdict};
use chrono::Datelike as _;
use reqwest::Url;

use crate::error::Error;
use crate::fetch::Fetcher;
use crate::outcome::{Outcome, read_failure};
use crate::source::{Location, ReadError};

mod openpgp;
mod series;

/// A legacy trust file and its pinned keys, read before anything is fetched.
pub struct Pinned {
    /// The trust file.
    pub trust: LegacyTrust,
    /// Each key file's name (as written) and bytes.
    pub keys: Vec<(String, Vec<u8>)>,
}

/// Pinned key files are small; a larger one is a mistake.
const KEY_FILE_CAP: u64 = 1024 * 1024;

/// Reads a legacy trust file and the keys it pins (relative to its folder).
pub fn load(path: &Path) -> Result<Pinned> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read trust file {}", path.display()))?;
    let trust = LegacyTrust::from_toml(&text).with_context(|| path.display().to_string())?;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut keys = Vec::new();
    for name in &trust.keys {
        let file = dir.join(name);
        let bytes = read_capped(&file, KEY_FILE_CAP)
            .with_context(|| format!("pinned key {name} of {}", path.display()))?;
        // Keys are checked now: a bad pin is a usage error, not a verdict.
        let problem = match trust.format {
            Format::OpenPgp => openpgp::dearmor(&bytes).err().map(|e| e.to_string()),
            Format::Signify => std::str::from_utf8(&bytes)
                .map_err(|e| e.to_string())
                .and_then(|t| SignifyKey::parse(t).map_err(|e| e.to_string()))
                .err(),
            Format::Minisign => std::str::from_utf8(&bytes)
                .map_err(|e| e.to_string())
                .and_then(|t| MinisignKey::parse(t).map_err(|e| e.to_string()))
                .err(),
        };
        if let Some(p) = problem {
            anyhow::bail!("pinned key {} of {}: {p}", file.display(), path.display());
        }
        keys.push((name.clone(), bytes));
    }
    Ok(Pinned { trust, keys })
}

fn read_capped(path: &Path, cap: u64) -> Result<Vec<u8>> {
    use std::io::Read as _;
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut bytes = Vec::new();
    file.take(cap + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("cannot read {}", path.display()))?;
    if bytes.len() as u64 > cap {
        anyhow::bail!("{} is larger than {cap} bytes", path.display());
    }
    Ok(bytes)
}

/// Where a legacy canary's text is: a URL or a file (no publish folders,
/// no bare domains: those are native layouts).
pub fn location_of(arg: &str) -> Result<Location, Error> {
    if series::is_series(arg) {
        series::check_template(arg).map_err(Error::usage)?;
        if !crate::source::is_web_url(arg) {
            return Err(Error::usage(format!(
                "{arg}: a numbered series is walked over https:// only"
            )));
        }
        // Checked with the first issue's name; walked when verified.
        return location_of(&series::expand(arg, 1, 2000));
    }
    if crate::source::is_web_url(arg) {
        let url =
            Url::parse(arg).map_err(|e| Error::usage(format!("{arg}: not a valid URL: {e}")))?;
        if let Some(p) = crate::fetch::scheme_problem(&url) {
            return Err(Error::usage(format!("{arg}: {p}")));
        }
        return Ok(Location::Remote {
            latest: url.clone(),
            archive: url,
        });
    }
    if let Some((scheme, _)) = arg.split_once("://") {
        return Err(Error::usage(format!(
            "{arg}: the scheme {scheme}: is not supported; use https://"
        )));
    }
    let path = PathBuf::from(arg);
    if path.is_dir() {
        return Err(Error::usage(format!(
            "{arg} is a folder: a canary in another format is one text file (or URL)"
        ))
        .hint("name the canary's text file, e.g. canary-040-2024.txt"));
    }
    // A bare domain names a native canary (its well-known place); a canary
    // in another format has none.
    let last = arg.rsplit('.').next().unwrap_or_default();
    let domain_like = arg.contains('.')
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
        && last.len() >= 2
        && last.chars().all(|c| c.is_ascii_alphabetic())
        && !matches!(
            last.to_ascii_lowercase().as_str(),
            "txt"
                | "asc"
                | "sig"
                | "gpg"
                | "pgp"
                | "minisig"
                | "json"
                | "toml"
                | "html"
                | "htm"
                | "md"
        );
    if domain_like && !path.exists() {
        return Err(Error::usage(format!(
            "{arg} is not a file here, and a canary in another format has no well-known place to fetch it from a domain"
        ))
        .hint("give the URL of the canary's text (e.g. https://www.qubes-os.org/.../canary-040-2024.txt) or a file"));
    }
    Ok(Location::Local {
        latest: path,
        archive: None,
    })
}

/// A location of the same kind as the text's, for a signature.
fn sibling(text: &Location, s: &str) -> Result<Location, Error> {
    match text {
        Location::Remote { .. } => location_of(s),
        Location::Local { .. } => Ok(Location::Local {
            latest: PathBuf::from(s),
            archive: None,
        }),
    }
}

/// What the verifier found about a legacy canary that is authentic.
pub struct View {
    /// The issuer (the trust file's name).
    pub issuer: String,
    /// How it is signed.
    pub format: Format,
    /// What the profile read.
    pub canary: Canary,
    /// The pinned keys (fingerprints or key ids) whose signatures count.
    pub signers: Vec<String>,
    /// When it becomes stale (due + grace), if it names a due date.
    pub stale_at: Option<Timestamp>,
    /// The issue found by walking a numbered series.
    pub issue: Option<String>,
}

/// Time options of the run.
pub struct Settings {
    /// The run's now.
    pub now: Timestamp,
    /// Allowed clock skew.
    pub max_skew: TimeDelta,
    /// The verifier's `--max-age`.
    pub max_age: Option<TimeDelta>,
    /// State folder, when state is on.
    pub state_dir: Option<PathBuf>,
    /// Warnings fail.
    pub deny_warnings: bool,
}

/// Verifies one legacy canary.
pub fn verify(
    source: String,
    location: &Location,
    pinned: &Pinned,
    settings: &Settings,
    fetcher: &mut Fetcher,
) -> Result<Outcome, Error> {
    let trust = &pinned.trust;
    let mut outcome = Outcome::new(source);
    outcome.threshold = Some(trust.threshold);
    let state_file = settings
        .state_dir
        .as_ref()
        .map(|d| crate::state::file_for(d, &trust.issuer).with_extension("legacy.json"));
    let (text, text_name, issue) = if series::is_series(&outcome.source) {
        // Where the walk starts (read again under the lock below).
        let start = match &state_file {
            Some(path) => load_state(path).map_err(Error::from)?,
            None => None,
        };
        let year = settings.now.as_datetime().year();
        let locate = |a: &str| location_of(a).map_err(|e| e.message);
        match series::newest(&outcome.source, start.as_ref(), year, fetcher, &locate) {
            Ok((issue, arg, bytes)) => (bytes, arg, Some(issue)),
            Err(e) => {
                outcome.reasons.push(read_failure(&e)?);
                return Ok(outcome);
            }
        }
    } else {
        match location.read_latest(fetcher, TEXT_CAP) {
            Ok(b) => (b, location.latest_name(), None),
            Err(e) => {
                outcome.reasons.push(read_failure(&e)?);
                return Ok(outcome);
            }
        }
    };
    // Every detached signature; one that is absent only does not count.
    let mut sigs: Vec<Result<Vec<u8>, String>> = Vec::new();
    for loc in trust.signature_locations(&text_name) {
        match sibling(location, &loc)?.read_latest(fetcher, SIGNATURE_CAP) {
            Ok(b) => sigs.push(Ok(b)),
            Err(ReadError::Absent(_)) => sigs.push(Err(format!("{loc} does not exist"))),
            Err(ReadError::TooLarge(m)) => sigs.push(Err(m)),
            Err(e) => {
                outcome.reasons.push(read_failure(&e)?);
                return Ok(outcome);
            }
        }
    }

    let _lock = match &settings.state_dir {
        Some(dir) => Some(crate::state::lock(dir, &trust.issuer).map_err(Error::from)?),
        None => None,
    };
    let previous = match &state_file {
        Some(path) => load_state(path).map_err(Error::from)?,
        None => None,
    };

    // Signatures.
    let (signers, rejected, signed_text) = match trust.format {
        Format::OpenPgp => {
            let signed = if trust.clearsigned() {
                openpgp::Signed::Clear(&text)
            } else {
                openpgp::Signed::Detached(&text, &sigs)
            };
            let checked = openpgp::check(&pinned.keys, &signed, settings.now, settings.max_skew)
                .map_err(|e| {
                    Error::usage(format!("{e:#}"))
                        .hint("OpenPGP canaries are checked with gpgv (Debian: apt install gpgv)")
                })?;
            (checked.signers, checked.rejected, checked.text)
        }
        Format::Signify | Format::Minisign => {
            let (s, r) = ed25519_signers(trust.format, &pinned.keys, &sigs, &text, settings);
            (s, r, Some(text.clone()))
        }
    };
    if signers.len() < trust.threshold {
        outcome.reasons.push(Finding::SignaturesShort {
            threshold: trust.threshold,
            signers,
            rejected,
        });
        return Ok(outcome);
    }
    let Some(signed_text) = signed_text else {
        outcome.reasons.push(Finding::Unparsable {
            rule: "text".to_owned(),
            reason: "gpgv wrote no signed text".to_owned(),
        });
        return Ok(outcome);
    };

    // The profile reads the signed text only.
    let Ok(as_text) = std::str::from_utf8(&signed_text) else {
        outcome.reasons.push(Finding::Unparsable {
            rule: "text".to_owned(),
            reason: "the signed text is not UTF-8".to_owned(),
        });
        return Ok(outcome);
    };
    let canary = match trust.profile.read(as_text) {
        Ok(c) => c,
        Err(f) => {
            outcome.reasons.push(f);
            return Ok(outcome);
        }
    };
    let digest = Digest::of(&signed_text);
    outcome.reasons.extend(check_canary(
        trust,
        &canary,
        settings.now,
        settings.max_skew,
        settings.max_age,
    ));
    if let Some(state) = &previous {
        if state.issuer != trust.issuer {
            return Err(Error::usage(format!(
                "state file for {} holds issuer {:?}",
                trust.issuer, state.issuer
            )));
        }
        outcome
            .reasons
            .extend(state.check(&canary, digest, settings.now));
    }
    let verdict = outcome.verdict(settings.deny_warnings);
    if let (Some(path), true) = (
        &state_file,
        matches!(verdict, Verdict::Ok | Verdict::Warning),
    ) {
        let mut record = LegacyState::record(&trust.issuer, &canary, digest, settings.now);
        record.series = issue;
        // Never move backwards (an older issue only warned about).
        if let Some(prev) = &previous
            && prev.issued > record.issued
        {
            record = prev.clone();
            record.verified_at = settings.now;
        }
        save_state(path, &record).map_err(Error::from)?;
    }
    outcome.legacy = Some(View {
        issuer: trust.issuer.clone(),
        format: trust.format,
        stale_at: canary.due.map(|d| d.saturating_add(trust.grace)),
        canary,
        signers,
        issue: issue.map(|_| text_name),
    });
    Ok(outcome)
}

/// signify and minisign: the distinct pinned keys with a valid signature.
fn ed25519_signers(
    format: Format,
    keys: &[(String, Vec<u8>)],
    sigs: &[Result<Vec<u8>, String>],
    text: &[u8],
    settings: &Settings,
) -> (Vec<String>, Vec<String>) {
    let mut signers: Vec<String> = Vec::new();
    let mut rejected = Vec::new();
    for (j, sig) in sigs.iter().enumerate() {
        let n = j + 1;
        let sig = match sig {
            Ok(s) => s,
            Err(m) => {
                rejected.push(format!("signature {n}: {m}"));
                continue;
            }
        };
        let Ok(sig_text) = std::str::from_utf8(sig) else {
            rejected.push(format!("signature {n}: not text"));
            continue;
        };
        let mut found = None;
        let mut reason = "not by a pinned key".to_owned();
        for (name, key) in keys {
            let Ok(key_text) = std::str::from_utf8(key) else {
                continue;
            };
            match format {
                Format::Signify => {
                    let (Ok(k), s) = (
                        SignifyKey::parse(key_text),
                        SignifySignature::parse(sig_text),
                    ) else {
                        continue;
                    };
                    match s {
                        Ok(s) if s.keynum == k.keynum => {
                            if s.verify(&k, text) {
                                found = Some(name.clone());
                            } else {
                                reason = format!("does not verify under {name}");
                            }
                        }
                        Ok(_) => {}
                        Err(e) => reason = e.to_string(),
                    }
                }
                Format::Minisign => {
                    let (Ok(k), s) = (
                        MinisignKey::parse(key_text),
                        MinisignSignature::parse(sig_text),
                    ) else {
                        continue;
                    };
                    match s {
                        Ok(s) if s.keyid == k.keyid => {
                            let future = s
                                .timestamp()
                                .and_then(Timestamp::from_unix)
                                .filter(|t| *t > settings.now.saturating_add(settings.max_skew));
                            if !s.verify(&k, text) {
                                reason = format!(
                                    "does not verify under {name} (text or trusted comment)"
                                );
                            } else if let Some(t) = future {
                                reason = format!("made at {t}, after now ({})", settings.now);
                            } else {
                                found = Some(name.clone());
                            }
                        }
                        Ok(_) => {}
                        Err(e) => reason = e.to_string(),
                    }
                }
                Format::OpenPgp => {}
            }
            if found.is_some() {
                break;
            }
        }
        match found {
            Some(name) if !signers.contains(&name) => signers.push(name),
            Some(_) => {}
            None => rejected.push(format!("signature {n}: {reason}")),
        }
    }
    (signers, rejected)
}

fn load_state(path: &Path) -> Result<Option<LegacyState>> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("cannot read state {}", path.display())),
    };
    serde_json::from_slice(&bytes).map(Some).with_context(|| {
        format!(
            "state file {} is damaged; inspect it, or remove it to start over (losing rollback protection)",
            path.display()
        )
    })
}

fn save_state(path: &Path, state: &LegacyState) -> Result<()> {
    let mut json = serde_json::to_vec_pretty(state)?;
    json.push(b'\n');
    crate::files::write_atomic(path, &json)
}
