//! `canary trust add|list|remove`: first-contact pins (DESIGN §4), stored
//! by [`crate::pins`].

use std::io::{BufRead as _, IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use canary_core::layout::DOCUMENT_CAP;
use canary_core::{KeyId, TrustPolicy};
use reqwest::Url;

use crate::args::FetchArgs;
use crate::error::{Error, Result};
use crate::fetch::{FetchError, Fetcher};
use crate::pins::{dir, load, path_for};

/// Pin, list and remove the trust policies `canary verify` uses when no
/// --trust or --key is given.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Fetch an issuer's published trust policy, show its key fingerprints,
    /// and pin it after confirmation.
    #[command(after_help = "\
Examples:
  canary trust add example.org
  canary trust add example.org --fingerprint 7717fc10... --fingerprint e6fda723... --threshold 2
  canary trust add https://mirror.example.net/.well-known/canary.json

The policy comes from https://DOMAIN/.well-known/canary/trust.toml (or a
URL, a publish folder or a .toml file). Compare the fingerprints with ones
the issuer gave you through another channel before confirming; with
--fingerprint (one per signing key, full 64 hex digits) and --threshold (and
--panic-key for each panic key the policy names) nothing is asked.
Later, `canary verify DOMAIN` (or the URL pinned from) needs no trust
options, and follows the issuer's key rotations from the pinned version on.")]
    Add(Box<AddArgs>),
    /// List the pinned issuers.
    #[command(
        after_help = "Example:\n  canary trust list\n\nOne line per pin: issuer, trust version, threshold and keys, the file."
    )]
    List,
    /// Unpin an issuer, and forget the key rotations followed from its pin.
    #[command(
        after_help = "Example:\n  canary trust remove example.org\n\nThe newest statement seen stays in the state, so a rollback is still caught\nafter pinning the issuer again."
    )]
    Remove {
        /// The issuer to unpin.
        issuer: String,
        /// The state folder holding the remembered rotations (default
        /// $XDG_STATE_HOME/canary); the rest of the state (the newest
        /// statement seen) is kept.
        #[arg(long, value_name = "DIR")]
        state: Option<PathBuf>,
    },
}

/// Arguments of `trust add`.
#[derive(Debug, clap::Args)]
pub struct AddArgs {
    /// A domain, an https:// URL of canary.json or trust.toml, a publish
    /// folder, or a trust policy file.
    pub source: String,
    /// The key id (fingerprint) of each signing key, as the issuer published
    /// it elsewhere; pins without asking.
    #[arg(long, value_name = "KEYID")]
    pub fingerprint: Vec<String>,
    /// With --fingerprint: the threshold the pin must have (the published
    /// policy is refused when it says otherwise).
    #[arg(long, value_name = "N", requires = "fingerprint")]
    pub threshold: Option<u64>,
    /// With --fingerprint: each panic key the pin must have (a published
    /// policy with other panic keys, or with panic keys not named here, is
    /// refused).
    #[arg(long, value_name = "KEYID", requires = "fingerprint")]
    pub panic_key: Vec<String>,
    #[command(flatten)]
    pub(crate) fetch: FetchArgs,
}

/// Where to read the policy from, and the domain it must be for.
fn locate(source: &str) -> Result<(Location, Option<String>)> {
    if crate::source::is_web_url(source) {
        let url = Url::parse(source).map_err(|e| format!("{source}: {e}"))?;
        let url = if url.path().ends_with(".toml") {
            url
        } else {
            url.join("canary/trust.toml")
                .map_err(|e| format!("{source}: {e}"))?
        };
        // A URL may be a mirror: only a bare domain names the issuer.
        return Ok((Location::Remote(url), None));
    }
    let path = Path::new(source);
    if path.is_dir() {
        return Ok((
            Location::Local(
                path.join(canary_core::layout::ARCHIVE_ROOT)
                    .join(canary_core::layout::TRUST),
            ),
            None,
        ));
    }
    if path.is_file() {
        return Ok((Location::Local(path.to_path_buf()), None));
    }
    // A missing file is not a domain: never send a mistyped path to DNS.
    let domain_like = !source.ends_with(".toml")
        && source
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b':');
    if !domain_like {
        return Err(Error::usage(format!(
            "{source}: no such file or folder, and not a domain or https:// URL"
        )));
    }
    let url = Url::parse(&format!("https://{source}/.well-known/canary/trust.toml"))
        .map_err(|e| format!("{source}: not a domain, URL, folder or file: {e}"))?;
    Ok((Location::Remote(url), Some(source.to_ascii_lowercase())))
}

enum Location {
    Local(PathBuf),
    Remote(Url),
}

/// The statement URL beside a published `trust.toml`: where a reader who
/// pinned from that host will verify.
fn canary_url_beside(trust: &Url) -> Option<String> {
    trust.join("../canary.json").ok().map(|u| u.to_string())
}

fn fetch_policy(args: &AddArgs) -> Result<(TrustPolicy, String)> {
    let (location, domain) = locate(&args.source)?;
    let (text, from) = match &location {
        Location::Local(p) => (
            std::fs::read(p)
                .map_err(|e| Error::usage(format!("cannot read {}: {e}", p.display())))?,
            p.display().to_string(),
        ),
        Location::Remote(url) => {
            if let Some(p) = crate::fetch::scheme_problem(url) {
                return Err(Error::usage(format!("{url}: {p}")));
            }
            let mut fetcher: Fetcher = args.fetch.fetcher();
            match fetcher.get(url, DOCUMENT_CAP) {
                Ok(b) => (b, url.to_string()),
                Err(e @ FetchError::NotFound { .. }) => {
                    return Err(Error::with_code(
                        4,
                        format!("{e}: the issuer publishes no trust policy there"),
                    ));
                }
                Err(FetchError::Client(e)) => return Err(Error::usage(e)),
                Err(e) => return Err(Error::with_code(4, e.to_string())),
            }
        }
    };
    let text = String::from_utf8(text)
        .map_err(|_| Error::with_code(1, format!("{from}: not UTF-8 text")))?;
    let policy =
        TrustPolicy::from_toml(&text).map_err(|e| Error::with_code(1, format!("{from}: {e}")))?;
    if let Some(d) = &domain
        && policy.issuer() != d
    {
        return Err(Error::with_code(
            1,
            format!(
                "{from} is a policy for {:?}, not for {d:?}",
                policy.issuer()
            ),
        ));
    }
    // Pinned from a URL: remember where, so `canary verify` of that URL
    // finds this pin again (the issuer's name may be another host's).
    let policy = match &location {
        Location::Remote(url) if domain.is_none() => match canary_url_beside(url) {
            Some(u) => policy.with_url(u),
            None => policy,
        },
        _ => policy,
    };
    Ok((policy, from))
}

fn describe(policy: &TrustPolicy) -> String {
    let mut out = format!(
        "issuer {}, trust version {}, {} of {} keys must sign:\n",
        crate::output::escape(policy.issuer()),
        policy.version(),
        policy.threshold(),
        policy.keys().len()
    );
    for id in policy.keys().keys() {
        out.push_str(&format!("  {id}\n"));
    }
    if !policy.panic_keys().is_empty() {
        out.push_str("panic keys (a signature by one trips every verifier):\n");
        for id in policy.panic_keys().keys() {
            out.push_str(&format!("  {id}\n"));
        }
    }
    out
}

/// The key ids given with `flag`, sorted, each once.
fn key_ids(values: &[String], flag: &str) -> Result<Vec<KeyId>> {
    let mut ids = values
        .iter()
        .map(|v| {
            v.parse::<KeyId>()
                .map_err(|e| Error::usage(format!("{flag}: {e}")))
        })
        .collect::<Result<Vec<KeyId>>>()?;
    ids.sort();
    ids.dedup();
    Ok(ids)
}

fn confirm(args: &AddArgs, policy: &TrustPolicy) -> Result<()> {
    if !args.fingerprint.is_empty() {
        let given = key_ids(&args.fingerprint, "--fingerprint")?;
        let published: Vec<KeyId> = policy.keys().keys().copied().collect();
        let Some(threshold) = args.threshold else {
            return Err(Error::usage(
                "--fingerprint confirms keys, and the threshold must be confirmed too: add --threshold N",
            ));
        };
        if usize::try_from(threshold).ok() != Some(policy.threshold()) {
            return Err(Error::with_code(
                1,
                format!(
                    "the published policy needs {} of its keys, not {threshold}: nothing was pinned",
                    policy.threshold()
                ),
            ));
        }
        let panic_given = key_ids(&args.panic_key, "--panic-key")?;
        let panic_published: Vec<KeyId> = policy.panic_keys().keys().copied().collect();
        if panic_given != panic_published {
            return Err(Error::with_code(
                1,
                "the published panic keys do not match the --panic-key values (none given means \
                 none expected): nothing was pinned",
            ));
        }
        if given != published {
            return Err(Error::with_code(
                1,
                "the published keys do not match the --fingerprint values: nothing was pinned. \
                 Ask the issuer through another channel which keys are theirs."
                    .to_owned(),
            ));
        }
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        return Err(Error::usage(
            "no terminal to confirm on: pass --fingerprint KEYID for each signing key and --threshold N"
                .to_owned(),
        ));
    }
    eprint!(
        "Pin these keys for {}? [y/N] ",
        crate::output::escape(policy.issuer())
    );
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|e| Error::usage(e.to_string()))?;
    if matches!(answer.trim(), "y" | "Y" | "yes") {
        Ok(())
    } else {
        Err(Error::with_code(1, "not confirmed: nothing was pinned"))
    }
}

fn write_pin(path: &Path, policy: &TrustPolicy) -> anyhow::Result<()> {
    let dir = path.parent().context("no folder")?;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".canary-pin-")
        .tempfile_in(dir)?;
    tmp.write_all(policy.to_toml().as_bytes())?;
    tmp.as_file().sync_all()?;
    tmp.persist_noclobber(path).map_err(|e| {
        if e.error.kind() == std::io::ErrorKind::AlreadyExists {
            anyhow::anyhow!(
                "{} is pinned already; `canary trust remove {}` first to replace it",
                policy.issuer(),
                policy.issuer()
            )
        } else {
            anyhow::Error::new(e.error)
        }
    })?;
    Ok(())
}

/// Runs `canary trust ...`.
pub fn run(command: &Command) -> ExitCode {
    match trust(command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => e.report(),
    }
}

fn trust(command: &Command) -> Result<()> {
    match command {
        Command::Add(args) => {
            let (policy, from) = fetch_policy(args)?;
            let mut out = std::io::stdout().lock();
            let _ = write!(
                out,
                "Trust policy (from {})\n{}",
                crate::output::escape(&from),
                describe(&policy)
            );
            drop(out);
            confirm(args, &policy)?;
            let path = path_for(policy.issuer())?;
            write_pin(&path, &policy)?;
            println!(
                "pinned {} in {}",
                crate::output::escape(policy.issuer()),
                path.display()
            );
            Ok(())
        }
        Command::List => {
            let dir = dir()?;
            let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
                .map(|r| {
                    r.flatten()
                        .map(|e| e.path())
                        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
                        .collect()
                })
                .unwrap_or_default();
            files.sort();
            if files.is_empty() {
                println!("no pinned issuers (pin one with `canary trust add DOMAIN`)");
            }
            for f in files {
                match load(&f) {
                    Ok(Some(p)) => println!(
                        "{}  version {}, {} of {} keys  ({})",
                        crate::output::escape(p.issuer()),
                        p.version(),
                        p.threshold(),
                        p.keys().len(),
                        f.display()
                    ),
                    Ok(None) => {}
                    Err(e) => println!(
                        "{}",
                        crate::output::escape(&format!("{}: {e:#}", f.display()))
                    ),
                }
            }
            Ok(())
        }
        Command::Remove { issuer, state } => {
            let path = path_for(issuer)?;
            let state_dir = match state {
                Some(d) => d.clone(),
                None => crate::state::default_dir()?,
            };
            crate::state::forget_trust(&crate::state::trust_file_for(&state_dir, issuer))?;
            match std::fs::remove_file(&path) {
                Ok(()) => {
                    println!("unpinned {}", crate::output::escape(issuer));
                    Ok(())
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    Err(Error::usage(format!("{issuer} is not pinned"))
                        .hint("see the pinned issuers with `canary trust list`"))
                }
                Err(e) => Err(Error::usage(format!(
                    "cannot remove {}: {e}",
                    path.display()
                ))),
            }
        }
    }
}
