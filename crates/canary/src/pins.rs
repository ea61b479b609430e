//! First-contact trust: policies pinned with `canary trust add`, one file per
//! issuer in `$XDG_CONFIG_HOME/canary/trust/`.

use std::io::{BufRead as _, IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use canary_core::{KeyId, TrustPolicy};
use reqwest::Url;

use canary_core::layout::DOCUMENT_CAP;

use crate::fetch::{FetchError, Fetcher};
use crate::{PolicyArgs, usage_error};

/// The folder of pinned policies.
pub fn dir() -> Result<PathBuf> {
    dirs::config_dir()
        .or_else(|| dirs::home_dir().map(|h| h.join(".config")))
        .map(|d| d.join("canary").join("trust"))
        .context("no configuration folder: set XDG_CONFIG_HOME or HOME")
}

/// The pinned policy file of `issuer`.
pub fn path_for(issuer: &str) -> Result<PathBuf> {
    Ok(crate::state::file_for(&dir()?, issuer).with_extension("toml"))
}

/// Reads a pinned policy, if there is one.
pub fn load(path: &Path) -> Result<Option<TrustPolicy>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    Ok(Some(TrustPolicy::from_toml(&text).with_context(|| {
        format!("pinned policy {}", path.display())
    })?))
}

/// Pin, list and remove the trust policies `canary verify` uses when no
/// --trust or --key is given.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Fetch an issuer's published trust policy, show its key fingerprints,
    /// and pin it after confirmation.
    #[command(after_help = "\
Examples:
  canary trust add example.org
  canary trust add example.org --fingerprint 7717fc10...  --fingerprint e6fda723...

The policy comes from https://DOMAIN/.well-known/canary/trust.toml (or a
URL, a publish folder or a .toml file). Compare the fingerprints with ones
the issuer gave you through another channel before confirming; with
--fingerprint (one per signing key, full 64 hex digits) nothing is asked.
Later, `canary verify DOMAIN` needs no trust options, and follows the
issuer's key rotations from the pinned version on.")]
    Add(Box<AddArgs>),
    /// List the pinned issuers.
    List,
    /// Unpin an issuer, and forget the key rotations followed from its pin.
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
    #[command(flatten)]
    pub(crate) policy: PolicyArgs,
}

/// Where to read the policy from, and the domain it must be for.
fn locate(source: &str) -> std::result::Result<(Location, Option<String>), String> {
    if source.starts_with("https://") || source.starts_with("http://") {
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
        return Err(format!(
            "{source}: no such file or folder, and not a domain or https:// URL"
        ));
    }
    let url = Url::parse(&format!("https://{source}/.well-known/canary/trust.toml"))
        .map_err(|e| format!("{source}: not a domain, URL, folder or file: {e}"))?;
    Ok((Location::Remote(url), Some(source.to_ascii_lowercase())))
}

enum Location {
    Local(PathBuf),
    Remote(Url),
}

fn fetch_policy(args: &AddArgs) -> std::result::Result<(TrustPolicy, String), (u8, String)> {
    let (location, domain) = locate(&args.source).map_err(|e| (2, e))?;
    let (text, from) = match &location {
        Location::Local(p) => (
            std::fs::read(p).map_err(|e| (2, format!("cannot read {}: {e}", p.display())))?,
            p.display().to_string(),
        ),
        Location::Remote(url) => {
            if let Some(p) = crate::fetch::scheme_problem(url) {
                return Err((2, format!("{url}: {p}")));
            }
            let mut fetcher: Fetcher = args.policy.fetcher();
            match fetcher.get(url, DOCUMENT_CAP) {
                Ok(b) => (b, url.to_string()),
                Err(Ok(e @ FetchError::NotFound { .. })) => {
                    return Err((
                        4,
                        format!("{e}: the issuer publishes no trust policy there"),
                    ));
                }
                Err(Ok(e)) => return Err((4, e.to_string())),
                Err(Err(e)) => return Err((2, format!("{e:#}"))),
            }
        }
    };
    let text = String::from_utf8(text).map_err(|_| (1, format!("{from}: not UTF-8 text")))?;
    let policy = TrustPolicy::from_toml(&text).map_err(|e| (1, format!("{from}: {e}")))?;
    if let Some(d) = domain
        && policy.issuer() != d
    {
        return Err((
            1,
            format!(
                "{from} is a policy for {:?}, not for {d:?}",
                policy.issuer()
            ),
        ));
    }
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

fn confirm(args: &AddArgs, policy: &TrustPolicy) -> std::result::Result<(), (u8, String)> {
    if !args.fingerprint.is_empty() {
        let mut given = Vec::new();
        for f in &args.fingerprint {
            given.push(
                f.parse::<KeyId>()
                    .map_err(|e| (2, format!("--fingerprint: {e}")))?,
            );
        }
        given.sort();
        given.dedup();
        let published: Vec<KeyId> = policy.keys().keys().copied().collect();
        if given != published {
            return Err((
                1,
                "the published keys do not match the --fingerprint values: nothing was pinned. \
                 Ask the issuer through another channel which keys are theirs."
                    .to_owned(),
            ));
        }
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        return Err((
            2,
            "no terminal to confirm on: pass --fingerprint KEYID for each signing key".to_owned(),
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
        .map_err(|e| (2, e.to_string()))?;
    if matches!(answer.trim(), "y" | "Y" | "yes") {
        Ok(())
    } else {
        Err((1, "not confirmed: nothing was pinned".to_owned()))
    }
}

fn write_pin(path: &Path, policy: &TrustPolicy) -> Result<()> {
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
    match command {
        Command::Add(args) => {
            let (policy, from) = match fetch_policy(args) {
                Ok(p) => p,
                Err((code, m)) => return fail(code, &m),
            };
            let mut out = std::io::stdout().lock();
            let _ = write!(
                out,
                "Trust policy (from {})\n{}",
                crate::output::escape(&from),
                describe(&policy)
            );
            drop(out);
            if let Err((code, m)) = confirm(args, &policy) {
                return fail(code, &m);
            }
            let path = match path_for(policy.issuer()) {
                Ok(p) => p,
                Err(e) => return usage_error(&format!("{e:#}")),
            };
            if let Err(e) = write_pin(&path, &policy) {
                return usage_error(&format!("{e:#}"));
            }
            println!(
                "pinned {} in {}",
                crate::output::escape(policy.issuer()),
                path.display()
            );
            ExitCode::SUCCESS
        }
        Command::List => {
            let dir = match dir() {
                Ok(d) => d,
                Err(e) => return usage_error(&format!("{e:#}")),
            };
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
            ExitCode::SUCCESS
        }
        Command::Remove { issuer, state } => {
            let path = match path_for(issuer) {
                Ok(p) => p,
                Err(e) => return usage_error(&format!("{e:#}")),
            };
            let state_dir = match state {
                Some(d) => d.clone(),
                None => match crate::state::default_dir() {
                    Ok(d) => d,
                    Err(e) => return usage_error(&format!("{e:#}")),
                },
            };
            let remembered = crate::state::trust_file_for(&state_dir, issuer);
            if let Err(e) = crate::state::forget_trust(&remembered) {
                return usage_error(&format!("{e:#}"));
            }
            match std::fs::remove_file(&path) {
                Ok(()) => {
                    println!("unpinned {}", crate::output::escape(issuer));
                    ExitCode::SUCCESS
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    usage_error(&format!("{issuer} is not pinned (see `canary trust list`)"))
                }
                Err(e) => usage_error(&format!("cannot remove {}: {e}", path.display())),
            }
        }
    }
}

fn fail(code: u8, message: &str) -> ExitCode {
    if code == 2 {
        return usage_error(message);
    }
    eprintln!("error: {}", crate::output::escape(message));
    ExitCode::from(code)
}
